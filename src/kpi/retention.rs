//! Retention and churn between two periods, and cohort retention by acquisition period.

use crate::error::InvalidParameter;

use chrono::{Datelike, Days, Months, NaiveDate};

use super::arith::ratio;
use super::customers::{first_purchase, tally, CustomerSet};
use super::error::KpiError;
use super::period::Period;
use crate::ledger::Ledger;
use crate::records::TransactionKind;

/// Retention between two periods.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Retention {
    /// Customers who bought in the previous period.
    pub base: usize,
    /// Of those, customers who bought again in the current period.
    pub retained: usize,
    /// retained / base.
    pub retention_rate: f64,
    /// 1 − retention rate.
    pub churn_rate: f64,
}

/// Retention and churn: of the customers with a purchase in `previous`, the share with a purchase
/// in `current` (non-contractual: "retained" means "bought again").
///
/// # Errors
///
/// [`KpiError::InvalidPeriod`] when the periods overlap or `current` comes first;
/// [`KpiError::Empty`] when nobody bought in `previous`.
pub fn retention(
    ledger: &Ledger,
    previous: Period,
    current: Period,
) -> Result<Retention, KpiError> {
    if previous.end >= current.start {
        return Err(KpiError::InvalidPeriod(format!(
            "previous period {}..{} must end before the current one starts ({})",
            previous.start, previous.end, current.start
        )));
    }
    let (tallies, _) = tally(ledger, &[previous, current], None);
    match &tallies[..] {
        [before, now] => retention_of(&before.buyers, &now.buyers),
        _ => Err(no_base()),
    }
}

fn no_base() -> KpiError {
    KpiError::Empty {
        what: "customers buying in the previous period",
        kpi: "retention",
    }
}

/// [`retention`] from the buyers of the two periods.
pub(super) fn retention_of(before: &CustomerSet, now: &CustomerSet) -> Result<Retention, KpiError> {
    if before.len() == 0 {
        return Err(no_base());
    }
    let retained = before.common(now);
    let rate = ratio(retained, before.len());
    Ok(Retention {
        base: before.len(),
        retained,
        retention_rate: rate,
        churn_rate: 1.0 - rate,
    })
}

/// The most cohort periods [`cohort_retention`] lays out, from the first purchase's period to
/// the end date's. The matrix is a triangle of periods² / 2 cells, each a count and a rate
/// (16 bytes): 2,000 periods (about 166 years of months, or 5½ years of days) is 2 million cells,
/// some 32 MB, while a daily matrix over decades or an end date in year 9999 would ask for
/// billions. A longer span is [`KpiError::TooManyPeriods`]; use a coarser grain or an earlier end.
pub const MAX_COHORT_PERIODS: usize = 2_000;

/// How cohort periods are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum CohortGrain {
    /// Calendar months.
    Months,
    /// Blocks of this many days, starting on the day of the first purchase in the ledger.
    Days(u32),
}

/// One acquisition cohort's row of the retention matrix.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CohortRow {
    /// First day of the acquisition period.
    pub start: NaiveDate,
    /// Customers whose first purchase fell in the period.
    pub size: usize,
    /// `active[k]`: cohort members with a purchase k periods after acquisition (k = 0 is the
    /// acquisition period itself, so `active[0] == size`).
    pub active: Vec<usize>,
    /// `active[k] / size`.
    pub retention: Vec<f64>,
}

/// A cohort retention matrix: one row per acquisition period with at least one customer, each
/// row running through the period that contains the end date (the last one possibly partial).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CohortMatrix {
    /// The grain of the periods.
    pub grain: CohortGrain,
    /// The last day counted.
    pub end: NaiveDate,
    /// The cohorts, oldest first.
    pub rows: Vec<CohortRow>,
}

/// Cohort retention by acquisition period: customers are grouped by the period of their first
/// purchase on or before `end`; cell k of a row is the share of the cohort with a purchase in the
/// k-th period after it.
///
/// # Errors
///
/// [`KpiError::Empty`] when no purchase falls on or before `end`; [`KpiError::InvalidParameter`]
/// for `CohortGrain::Days(0)`; [`KpiError::DateOutOfRange`] when a cohort's first day leaves
/// chrono's calendar; [`KpiError::TooManyPeriods`] when the first purchase and `end` are more
/// than [`MAX_COHORT_PERIODS`] periods apart.
pub fn cohort_retention(
    ledger: &Ledger,
    grain: CohortGrain,
    end: NaiveDate,
) -> Result<CohortMatrix, KpiError> {
    if grain == CohortGrain::Days(0) {
        return Err(KpiError::InvalidParameter(InvalidParameter::new(
            "grain",
            "0 days",
            "cohort periods have at least one day",
        )));
    }
    let origin = first_purchase(ledger, end).ok_or(KpiError::Empty {
        what: "purchases",
        kpi: "cohort retention",
    })?;
    let cohorts = Cohorts::new(grain, end, origin)?;
    let masks = match cohorts.fits_a_word() {
        true => Some(tally(ledger, &[], Some(&|d| cohorts.bit(d))).1),
        false => None,
    };
    cohorts.matrix(ledger, masks)
}

/// The periods of a cohort matrix: from the first purchase's (`origin`) to the end date's.
pub(super) struct Cohorts {
    grain: CohortGrain,
    end: NaiveDate,
    origin: NaiveDate,
    /// The origin's month counted from year 0 (read for every purchase of a monthly tally).
    origin_month: i64,
    periods: usize,
}

/// The month of `d` counted from year 0.
fn month_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

impl Cohorts {
    /// The periods from `origin` (the first purchase on or before `end`) to `end`, their number
    /// checked before anything is laid out (an end date in year 9999 would otherwise ask for
    /// billions of cells). `grain` is not `Days(0)`.
    pub(super) fn new(
        grain: CohortGrain,
        end: NaiveDate,
        origin: NaiveDate,
    ) -> Result<Self, KpiError> {
        let mut cohorts = Cohorts {
            grain,
            end,
            origin,
            origin_month: month_number(origin),
            periods: 0,
        };
        let periods = cohorts.index(end).saturating_add(1);
        if periods > MAX_COHORT_PERIODS {
            return Err(KpiError::TooManyPeriods {
                parameter: "end (cohort periods from the first purchase to the end date)",
                periods,
                limit: MAX_COHORT_PERIODS,
            });
        }
        cohorts.periods = periods;
        Ok(cohorts)
    }

    /// The period of day `d` (on or after the origin).
    fn index(&self, d: NaiveDate) -> usize {
        match self.grain {
            CohortGrain::Months => {
                usize::try_from(month_number(d) - self.origin_month).unwrap_or(0)
            }
            CohortGrain::Days(n) => {
                usize::try_from((d - self.origin).num_days() / i64::from(n.max(1))).unwrap_or(0)
            }
        }
    }

    /// Whether every customer's periods fit the bits of one word (see [`bit`](Self::bit)).
    pub(super) fn fits_a_word(&self) -> bool {
        self.periods <= 64
    }

    /// The period of a purchase on day `d` as a bit of the customer's word, `None` after the end
    /// date (for a [`tally`] of the log).
    pub(super) fn bit(&self, d: NaiveDate) -> Option<u32> {
        // Below 64 when the periods fit a word; u32 either way (fewer than MAX_COHORT_PERIODS).
        (d <= self.end).then(|| u32::try_from(self.index(d) % 64).unwrap_or(0))
    }

    /// The matrix, from each customer slot's word of periods (`masks`, when the periods fit a
    /// word), else from the log grouped by customer slots.
    pub(super) fn matrix(
        &self,
        ledger: &Ledger,
        masks: Option<Vec<u64>>,
    ) -> Result<CohortMatrix, KpiError> {
        let periods = self.periods;
        let mut sizes = vec![0usize; periods];
        let mut counts: Vec<Vec<usize>> = (0..periods).map(|c| vec![0; periods - c]).collect();
        // Count one customer given its distinct active periods in ascending order.
        let mut count = |mut active: std::iter::Peekable<&mut dyn Iterator<Item = usize>>| {
            let Some(&first) = active.peek() else { return };
            if let Some(s) = sizes.get_mut(first) {
                *s += 1;
            }
            for i in active {
                if let Some(cell) = counts.get_mut(first).and_then(|r| r.get_mut(i - first)) {
                    *cell += 1;
                }
            }
        };
        match masks {
            Some(masks) => {
                for mut mask in masks {
                    let mut bits = std::iter::from_fn(|| {
                        (mask != 0).then(|| {
                            let i = mask.trailing_zeros() as usize;
                            mask &= mask - 1;
                            i
                        })
                    });
                    count((&mut bits as &mut dyn Iterator<Item = usize>).peekable());
                }
            }
            None => {
                // Each customer's periods grouped by the ledger's customer slots (a counting
                // sort), then sorted and deduplicated per customer.
                let in_range = |t: &crate::records::Transaction| {
                    t.kind() == TransactionKind::Purchase && t.date() <= self.end
                };
                let slots = ledger.transaction_slots();
                let mut starts = vec![0usize; ledger.transacting_customers() + 1];
                for (t, &slot) in ledger.transactions().iter().zip(slots) {
                    if in_range(t) {
                        starts[slot as usize + 1] += 1;
                    }
                }
                for k in 1..starts.len() {
                    starts[k] += starts[k - 1];
                }
                let mut next = starts.clone();
                let mut periods_of = vec![0u32; starts.last().copied().unwrap_or(0)];
                for (t, &slot) in ledger.transactions().iter().zip(slots) {
                    if in_range(t) {
                        let at = &mut next[slot as usize];
                        // The period fits u32: it is below MAX_COHORT_PERIODS.
                        periods_of[*at] = u32::try_from(self.index(t.date())).unwrap_or(u32::MAX);
                        *at += 1;
                    }
                }
                for pair in starts.windows(2) {
                    let own = &mut periods_of[pair[0]..pair[1]];
                    own.sort_unstable();
                    let own = &*own;
                    let mut distinct = own
                        .iter()
                        .enumerate()
                        .filter(|&(k, &i)| k == 0 || own[k - 1] != i)
                        .map(|(_, &i)| i as usize);
                    count((&mut distinct as &mut dyn Iterator<Item = usize>).peekable());
                }
            }
        }
        let (grain, origin) = (self.grain, self.origin);
        let start_of = |c: usize| -> Result<NaiveDate, KpiError> {
            match grain {
                CohortGrain::Months => origin
                    .with_day(1)
                    .and_then(|d| d.checked_add_months(Months::new(u32::try_from(c).ok()?)))
                    .ok_or(KpiError::DateOutOfRange),
                CohortGrain::Days(n) => origin
                    .checked_add_days(Days::new(c as u64 * u64::from(n)))
                    .ok_or(KpiError::DateOutOfRange),
            }
        };
        let rows = counts
            .into_iter()
            .enumerate()
            .filter(|&(c, _)| sizes[c] > 0)
            .map(|(c, active)| {
                let size = sizes[c];
                Ok(CohortRow {
                    start: start_of(c)?,
                    size,
                    retention: active.iter().map(|&a| ratio(a, size)).collect(),
                    active,
                })
            })
            .collect::<Result<Vec<_>, KpiError>>()?;
        Ok(CohortMatrix {
            grain,
            end: self.end,
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerOptions;
    use crate::records::{CustomerId, Transaction};
    use rust_decimal::Decimal;

    #[test]
    fn a_cohort_matrix_too_large_to_lay_out_is_an_error_naming_the_end_date() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger
            .add_transaction(
                Transaction::purchase(CustomerId::from(1u64), day(1997, 1, 1), Decimal::ONE)
                    .unwrap(),
            )
            .unwrap();
        for (grain, end) in [
            (CohortGrain::Months, day(9999, 12, 31)),
            (CohortGrain::Days(1), day(2010, 1, 1)),
        ] {
            let err = cohort_retention(&ledger, grain, end).unwrap_err();
            assert!(
                matches!(
                    err,
                    KpiError::TooManyPeriods {
                        limit: MAX_COHORT_PERIODS,
                        ..
                    }
                ),
                "{err}"
            );
            assert!(err.to_string().contains("end"), "{err}");
        }
        let fine = cohort_retention(&ledger, CohortGrain::Months, day(2100, 1, 1)).unwrap();
        assert_eq!(fine.rows.len(), 1);
        assert_eq!(fine.rows[0].active.len(), (2100 - 1997) * 12 + 1);
    }
}
