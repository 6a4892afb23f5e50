//! Folding one customer's entries, in (moment, kind) order, into a [`CustomerSummary`]: purchase
//! periods, returns netted against them, calibration and holdout.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::entry::{Entry, Money, MAGNITUDE_MASK, RETURN_BIT, SCALE_SHIFT, SIGN_BIT, WIDE_BIT};
use super::error::SummaryError;
use super::options::{Grain, ReturnPolicy, SummaryOptions};
use super::summaries::{CustomerSummary, HoldoutSummary, Summaries};
use crate::records::{CustomerId, TransactionKind};

/// Folds customers' entries into summaries: what that reads from the accumulator (its grain,
/// return policy and table of wide amounts) and from the options.
pub(super) struct Folder<'a> {
    pub(super) grain: Grain,
    pub(super) returns: ReturnPolicy,
    pub(super) wide: &'a [u128],
    pub(super) cuts: Cuts,
    pub(super) options: &'a SummaryOptions,
}

impl Folder<'_> {
    /// Folds one customer's entries in (moment, kind) order.
    pub(super) fn customer(
        &self,
        id: &CustomerId,
        entries: &[Entry],
        scratch: &mut Scratch,
        out: &mut Summaries,
    ) -> Result<(), SummaryError> {
        // Sums commute, so entries need sorting only by (moment, kind); a log in time order is
        // already sorted and is read in place.
        if entries.is_sorted_by_key(Entry::order) {
            return self.summarize_one(id, entries, &mut scratch.moments, out);
        }
        let sorted = &mut scratch.entries;
        sorted.clear();
        sorted.extend_from_slice(entries);
        sorted.sort_unstable_by_key(Entry::order);
        self.summarize_one(id, sorted, &mut scratch.moments, out)
    }

    /// Folds one customer's sorted entries into a summary (or a count) in `out`.
    fn summarize_one(
        &self,
        id: &CustomerId,
        entries: &[Entry],
        moments: &mut Moments,
        out: &mut Summaries,
    ) -> Result<(), SummaryError> {
        let overflow = || SummaryError::SpendOverflow(id.clone());
        let (fold, after_end) = match fold_purchases(entries, &self.cuts) {
            Some(folded) => folded,
            None => self.fold(id, entries)?,
        };
        out.transactions_after_end += after_end;
        let Some(first) = fold.first else {
            if fold.holdout_frequency > 0 {
                out.first_purchase_after_as_of += 1;
            } else {
                out.without_purchase += 1;
            }
            return Ok(());
        };
        // Keys span chrono's whole range: microsecond keys at its two ends differ by more than
        // an i64 holds, so the difference is taken in i128.
        let span = |from: i64, to: i64| {
            let difference = (i128::from(to) - i128::from(from)) as f64;
            match self.grain {
                Grain::Day => self.options.unit.from_days(difference),
                Grain::Timestamp => self.options.unit.from_seconds(difference / 1e6),
            }
        };
        let money = |m: Money| m.decimal().ok_or_else(overflow);
        out.customers.push(CustomerSummary {
            id: id.clone(),
            frequency: fold.frequency,
            recency: span(first, fold.last),
            age: span(first, self.cuts.age_origin),
            repeat_spend: money(fold.repeat_spend)?,
            first_purchase: moments.get(first),
            last_purchase: moments.get(fold.last),
            orders: fold.orders,
            total_spend: money(fold.total_spend)?,
            holdout: match self.options.holdout_end {
                Some(_) => Some(HoldoutSummary {
                    frequency: fold.holdout_frequency,
                    spend: money(fold.holdout_spend)?,
                }),
                None => None,
            },
        });
        Ok(())
    }

    /// Folds one customer's sorted entries, of any kinds and scales: the fold, and the number of
    /// records after the end. Periods are closed as the next one starts: a return nets only
    /// against the latest period, so a closed period is final.
    pub(super) fn fold(
        &self,
        id: &CustomerId,
        entries: &[Entry],
    ) -> Result<(Fold, usize), SummaryError> {
        let overflow = || SummaryError::SpendOverflow(id.clone());
        let mut fold = Fold::default();
        let mut open: Option<Period> = None;
        let mut after_end = 0usize;
        for e in entries {
            if e.key >= self.cuts.end {
                after_end += e.count() as usize;
                continue;
            }
            let holdout = e.key >= self.cuts.calibration;
            match e.kind() {
                TransactionKind::Purchase => match open.as_mut() {
                    Some(p) if p.key == e.key => {
                        p.gross.add(Money::of(e, self.wide)).ok_or_else(overflow)?;
                        p.orders = p.orders.checked_add(e.count()).ok_or_else(overflow)?;
                    }
                    _ => {
                        if let Some(p) = open.take() {
                            fold.close(p).ok_or_else(overflow)?;
                        }
                        open = Some(Period {
                            key: e.key,
                            holdout,
                            gross: Money::of(e, self.wide),
                            refunded: Money::default(),
                            orders: e.count(),
                        });
                    }
                },
                TransactionKind::Return => {
                    if self.returns == ReturnPolicy::Ignore {
                        continue;
                    }
                    match open.as_mut() {
                        Some(p) if p.holdout == holdout => {
                            p.refunded
                                .add(Money::of(e, self.wide))
                                .ok_or_else(overflow)?;
                        }
                        _ if holdout => fold
                            .holdout_spend
                            .sub(Money::of(e, self.wide))
                            .ok_or_else(overflow)?,
                        _ => {
                            // Report every return of that moment, however the records were folded.
                            let amount = entries
                                .iter()
                                .filter(|o| o.key == e.key && o.is_return())
                                .try_fold(Decimal::ZERO, |sum, o| {
                                    sum.checked_add(o.amount(self.wide))
                                })
                                .ok_or_else(overflow)?;
                            return Err(SummaryError::ReturnWithoutPurchase {
                                customer: id.clone(),
                                at: moment(self.grain, e.key),
                                amount,
                            });
                        }
                    }
                }
            }
        }
        if let Some(p) = open.take() {
            fold.close(p).ok_or_else(overflow)?;
        }
        Ok((fold, after_end))
    }
}

/// The moment of an entry key.
fn moment(grain: Grain, key: i64) -> NaiveDateTime {
    moment_of_key(grain, key).unwrap_or(NaiveDateTime::MIN)
}

/// The moment of an entry key, if it is one (every key made from a date is).
pub(super) fn moment_of_key(grain: Grain, key: i64) -> Option<NaiveDateTime> {
    match grain {
        Grain::Day => i32::try_from(key)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map(|d| d.and_time(chrono::NaiveTime::MIN)),
        Grain::Timestamp => chrono::DateTime::from_timestamp_micros(key).map(|d| d.naive_utc()),
    }
}

/// What summarising one customer after another reuses: room to sort a customer's entries, and
/// converted moments.
pub(super) struct Scratch {
    entries: Vec<Entry>,
    moments: Moments,
}

impl Scratch {
    pub(super) fn new(grain: Grain) -> Self {
        Scratch {
            entries: Vec::new(),
            moments: Moments::new(grain),
        }
    }
}

/// Day keys converted to moments lately: customers' first and last purchase days recur (a log
/// spans a few thousand days) and a conversion costs several divisions, so a small table indexed
/// by the day number modulo its size answers most of them.
struct Moments {
    grain: Grain,
    days: Vec<(i64, NaiveDateTime)>,
}

impl Moments {
    const SIZE: usize = 1024;

    fn new(grain: Grain) -> Self {
        let days = match grain {
            Grain::Day => vec![(i64::MIN, NaiveDateTime::MIN); Self::SIZE],
            Grain::Timestamp => Vec::new(),
        };
        Moments { grain, days }
    }

    fn get(&mut self, key: i64) -> NaiveDateTime {
        match self
            .days
            .get_mut(key.rem_euclid(Self::SIZE as i64) as usize)
        {
            Some((k, m)) if *k == key => *m,
            Some(cached) => {
                *cached = (key, moment(self.grain, key));
                cached.1
            }
            None => moment(self.grain, key),
        }
    }
}

/// Where the parts of the observation window end, as entry keys.
pub(super) struct Cuts {
    /// The first key after the calibration period (the day after the as-of date).
    pub(super) calibration: i64,
    /// The first key after the last day looked at (the holdout end, else the as-of date).
    pub(super) end: i64,
    /// The key ages are measured to.
    pub(super) age_origin: i64,
}

struct Period {
    key: i64,
    holdout: bool,
    gross: Money,
    refunded: Money,
    orders: u32,
}

/// Running totals over a customer's closed purchase periods.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fold {
    first: Option<i64>,
    last: i64,
    frequency: u32,
    repeat_spend: Money,
    total_spend: Money,
    orders: u32,
    holdout_frequency: u32,
    holdout_spend: Money,
}

impl Fold {
    /// Adds a closed period; `None` on decimal overflow or a count past `u32`.
    #[inline(always)]
    fn close(&mut self, p: Period) -> Option<()> {
        // A purchase period whose purchases were fully refunded no longer counts as a purchase.
        let (net, counted) = if p.refunded.mantissa == 0 {
            (p.gross, true)
        } else {
            let mut net = p.gross;
            net.sub(p.refunded)?;
            (net, net.mantissa > 0)
        };
        if p.holdout {
            self.holdout_frequency = self.holdout_frequency.checked_add(u32::from(counted))?;
            return self.holdout_spend.add(net);
        }
        self.total_spend.add(net)?;
        self.orders = self.orders.checked_add(p.orders)?;
        if counted {
            if self.first.is_none() {
                self.first = Some(p.key);
            } else {
                self.frequency = self.frequency.checked_add(1)?;
                self.repeat_spend.add(net)?;
            }
            self.last = p.key;
        }
        Some(())
    }
}

/// The fold of a customer whose sorted entries before the end are all purchases of one scale
/// with amounts narrow enough for their entries (the usual case), exactly as the general fold
/// gives it, in one pass of integer sums: with no returns every period counts, so x is the
/// number of distinct calibration moments less one and the repeat spend is the calibration
/// spend less the first moment's. Also the number of records after the end. `None` for any
/// other customer, or when a sum overflows.
#[inline]
pub(super) fn fold_purchases(entries: &[Entry], cuts: &Cuts) -> Option<(Fold, usize)> {
    let scale_bits = u64::MAX << SCALE_SHIFT;
    let plain = entries.first().map_or(0, |e| e.word & scale_bits);
    let checked = WIDE_BIT | RETURN_BIT | scale_bits;
    // A plain entry's signed amount: its magnitude has 48 bits.
    let amount = |e: &Entry| -> Option<i64> {
        if e.word & checked != plain {
            return None;
        }
        let magnitude = (e.word & MAGNITUDE_MASK) as i64;
        Some(if e.word & SIGN_BIT != 0 {
            -magnitude
        } else {
            magnitude
        })
    };
    // Sorted by moment: calibration, holdout and after-end entries are consecutive.
    let calibration_end = entries.partition_point(|e| e.key < cuts.calibration);
    let end = entries.partition_point(|e| e.key < cuts.end);
    let calibration = entries.get(..calibration_end)?;
    let holdout = entries.get(calibration_end..end)?;
    let after_end = entries.get(end..)?.iter().map(|e| e.count() as usize).sum();

    let (mut spend, mut first_spend, mut orders, mut periods) = (0i64, 0i64, 0u32, 0u32);
    if let Some(first) = calibration.first() {
        let mut previous = first.key;
        periods = 1;
        for e in calibration {
            spend = spend.checked_add(amount(e)?)?;
            if e.key == first.key {
                first_spend = spend;
            }
            orders = orders.checked_add(e.count())?;
            periods = periods.checked_add(u32::from(e.key != previous))?;
            previous = e.key;
        }
    }
    let (mut holdout_spend, mut holdout_periods) = (0i64, 0u32);
    if let Some(first) = holdout.first() {
        let mut previous = first.key;
        holdout_periods = 1;
        for e in holdout {
            holdout_spend = holdout_spend.checked_add(amount(e)?)?;
            holdout_periods = holdout_periods.checked_add(u32::from(e.key != previous))?;
            previous = e.key;
        }
    }
    // A sum that was never added to keeps scale 0, as in the general fold.
    let scale = (plain >> SCALE_SHIFT) as u32;
    let money = |sum: i64, added: bool| Money {
        mantissa: i128::from(sum),
        scale: if added { scale } else { 0 },
    };
    let fold = Fold {
        first: calibration.first().map(|e| e.key),
        last: calibration.last().map_or(0, |e| e.key),
        frequency: periods.saturating_sub(1),
        repeat_spend: money(spend.checked_sub(first_spend)?, periods > 1),
        total_spend: money(spend, periods > 0),
        orders,
        holdout_frequency: holdout_periods,
        holdout_spend: money(holdout_spend, holdout_periods > 0),
    };
    Some((fold, after_end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeUnit;

    proptest::proptest! {
        /// The integer fold of purchase-only customers equals the general fold, counts of records
        /// after the end included; it declines customers with a return, a wide amount or a second
        /// scale before the end.
        #[test]
        fn the_purchase_fold_equals_the_general_fold(
            rows in proptest::collection::vec((0i64..40, -10_000i64..1_000_000, 1u32..4), 0..30),
            a_wide_amount in proptest::option::of(0usize..30),
            scale in 0u32..5,
            calibration in 0i64..40,
            holdout in 0i64..10,
            other_scale in proptest::option::of(0usize..30),
            a_return in proptest::option::of(0usize..30),
        ) {
            let mut wide = Vec::new();
            let mut entries: Vec<Entry> = rows
                .iter()
                .enumerate()
                .map(|(k, &(key, cents, count))| {
                    let scale = if other_scale == Some(k) { scale + 1 } else { scale };
                    let kind = if a_return == Some(k) {
                        TransactionKind::Return
                    } else {
                        TransactionKind::Purchase
                    };
                    let amount = if a_wide_amount == Some(k) {
                        Decimal::from_i128_with_scale(i128::from(cents) << 60, scale)
                    } else {
                        Decimal::new(cents, scale)
                    };
                    Entry::new(key, amount, count, kind, &mut wide)
                })
                .collect();
            entries.sort_by_key(Entry::order);
            let cuts = Cuts { calibration, end: calibration + holdout, age_origin: calibration };
            let options = SummaryOptions::new(NaiveDate::MIN, TimeUnit::DAYS);
            let folder = Folder {
                grain: Grain::Day,
                returns: ReturnPolicy::Ignore,
                wide: &wide,
                cuts,
                options: &options,
            };
            let cuts = &folder.cuts;
            let general = folder.fold(&CustomerId::from(1u64), &entries).unwrap();
            // Only entries before the end matter, compared with the first entry's scale.
            let declines = entries.iter().filter(|e| e.key < cuts.end).any(|e| {
                e.is_return() || e.word & WIDE_BIT != 0 || e.scale() != entries[0].scale()
            });
            match fold_purchases(&entries, cuts) {
                Some(fast) => {
                    proptest::prop_assert!(!declines);
                    proptest::prop_assert_eq!(fast, general);
                }
                None => proptest::prop_assert!(declines),
            }
        }
    }
}
