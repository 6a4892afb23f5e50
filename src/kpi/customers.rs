//! One pass over a ledger's log for the KPIs. Per period asked: the net revenue, the purchase
//! orders and the set of buyers, as bits over the ledger's customer slots (no id is hashed); and
//! per customer slot, the bits of the cohort periods in which it bought. A KPI report asks for
//! all of them at once, so the ten million rows of a large log are read once, not once per KPI.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::period::Period;
use crate::ledger::Ledger;
use crate::records::{Transaction, TransactionKind};

/// A set of a ledger's transacting customers.
pub(super) struct CustomerSet {
    words: Vec<u64>,
    len: usize,
}

impl CustomerSet {
    fn new(words: Vec<u64>) -> Self {
        let len = words.iter().map(|w| w.count_ones() as usize).sum();
        CustomerSet { words, len }
    }

    /// How many customers the set holds.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// How many customers both sets hold.
    pub(super) fn common(&self, other: &CustomerSet) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }
}

/// What a [`tally`] counts in one period.
pub(super) struct PeriodTally {
    /// Purchases minus returns dated in the period; `None` when a partial sum left the decimal
    /// range.
    pub(super) net_revenue: Option<Decimal>,
    /// Purchase records dated in the period.
    pub(super) orders: usize,
    /// The customers with a purchase record dated in the period.
    pub(super) buyers: CustomerSet,
}

/// The cohort period of a purchase's date as a bit (below 64), or `None` for a purchase that
/// does not count (after the end date).
pub(super) type CohortBit<'f> = &'f (dyn Fn(NaiveDate) -> Option<u32> + Sync);

/// What one part of the log adds up to.
struct Partial {
    revenue: Vec<Option<Decimal>>,
    orders: Vec<usize>,
    buyers: Vec<Vec<u64>>,
    /// Per customer slot, the bits of its cohort periods (empty when no cohort was asked).
    masks: Vec<u64>,
}

impl Partial {
    fn new(periods: usize, customers: usize, cohort: bool) -> Self {
        let words = customers.div_ceil(64);
        Partial {
            revenue: vec![Some(Decimal::ZERO); periods],
            orders: vec![0; periods],
            buyers: vec![vec![0; words]; periods],
            masks: if cohort {
                vec![0; customers]
            } else {
                Vec::new()
            },
        }
    }

    fn add(
        &mut self,
        periods: &[Period],
        cohort: Option<CohortBit<'_>>,
        (t, &slot): (&Transaction, &u32),
    ) {
        let date = t.date();
        let purchase = t.kind() == TransactionKind::Purchase;
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        for (k, period) in periods.iter().enumerate() {
            if !period.contains(date) {
                continue;
            }
            if let Some(r) = self.revenue.get_mut(k) {
                *r = r.and_then(|r| r.checked_add(t.signed_amount()));
            }
            if purchase {
                if let Some(n) = self.orders.get_mut(k) {
                    *n += 1;
                }
                if let Some(w) = self.buyers.get_mut(k).and_then(|b| b.get_mut(word)) {
                    *w |= bit;
                }
            }
        }
        if let (true, Some(cohort)) = (purchase, cohort) {
            if let (Some(b), Some(m)) = (cohort(date), self.masks.get_mut(slot as usize)) {
                *m |= 1u64 << (b % 64);
            }
        }
    }

    #[cfg(feature = "parallel")]
    fn join(mut self, other: Partial) -> Partial {
        let or = |a: &mut Vec<u64>, b: Vec<u64>| a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
        for (a, b) in self.revenue.iter_mut().zip(other.revenue) {
            *a = a.zip(b).and_then(|(a, b)| a.checked_add(b));
        }
        for (a, b) in self.orders.iter_mut().zip(other.orders) {
            *a += b;
        }
        for (a, b) in self.buyers.iter_mut().zip(other.buyers) {
            or(a, b);
        }
        or(&mut self.masks, other.masks);
        self
    }
}

/// One pass over the log of `ledger`: a [`PeriodTally`] per period of `periods` (in their
/// order) and, when `cohort` is given, per customer slot the OR of the bits it gives the
/// customer's purchases. With `parallel`, one part of the log per core, joined at the end.
pub(super) fn tally(
    ledger: &Ledger,
    periods: &[Period],
    cohort: Option<CohortBit<'_>>,
) -> (Vec<PeriodTally>, Vec<u64>) {
    let customers = ledger.transacting_customers();
    let fresh = || Partial::new(periods.len(), customers, cohort.is_some());
    let fold = |mut partial: Partial, row| {
        partial.add(periods, cohort, row);
        partial
    };
    #[cfg(feature = "parallel")]
    let total = {
        use rayon::prelude::*;
        // One part per core: each part's bit sets and masks are as large as the base.
        let chunk = ledger
            .transactions()
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        ledger
            .transactions()
            .par_chunks(chunk)
            .zip(ledger.transaction_slots().par_chunks(chunk))
            .map(|(part, slots)| part.iter().zip(slots).fold(fresh(), fold))
            .reduce(fresh, Partial::join)
    };
    #[cfg(not(feature = "parallel"))]
    let total = ledger
        .transactions()
        .iter()
        .zip(ledger.transaction_slots())
        .fold(fresh(), fold);
    let tallies = total
        .revenue
        .into_iter()
        .zip(total.orders)
        .zip(total.buyers)
        .map(|((net_revenue, orders), words)| PeriodTally {
            net_revenue,
            orders,
            buyers: CustomerSet::new(words),
        })
        .collect();
    (tallies, total.masks)
}

/// The date of the first purchase on or before `end` (`None` when there is none).
pub(super) fn first_purchase(ledger: &Ledger, end: NaiveDate) -> Option<NaiveDate> {
    let date = |t: &Transaction| {
        (t.kind() == TransactionKind::Purchase && t.date() <= end).then(|| t.date())
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        ledger.transactions().par_iter().filter_map(date).min()
    }
    #[cfg(not(feature = "parallel"))]
    ledger.transactions().iter().filter_map(date).min()
}
