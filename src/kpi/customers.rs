//! Sets of the ledger's customers as bits over their slots: a KPI pass over ten million
//! transactions marks a bit per row instead of hashing every row's customer id.

use crate::ledger::Ledger;
use crate::records::{Transaction, TransactionKind};

/// A set of a ledger's transacting customers.
pub(super) struct CustomerSet {
    words: Vec<u64>,
    len: usize,
}

impl CustomerSet {
    /// The customers of `ledger` with a transaction that `keep` accepts.
    pub(super) fn of(ledger: &Ledger, keep: impl Fn(&Transaction) -> bool + Sync) -> Self {
        let words = ledger.transacting_customers().div_ceil(64);
        let mark = |mut bits: Vec<u64>, (t, &slot): (&Transaction, &u32)| {
            if keep(t) {
                if let Some(w) = bits.get_mut(slot as usize / 64) {
                    *w |= 1u64 << (slot % 64);
                }
            }
            bits
        };
        // With `parallel`, each core marks its part of the log and the parts are joined by OR.
        #[cfg(feature = "parallel")]
        let bits = {
            use rayon::prelude::*;
            ledger
                .transactions()
                .par_iter()
                .zip(ledger.transaction_slots())
                .fold(|| vec![0u64; words], mark)
                .reduce(
                    || vec![0u64; words],
                    |mut a, b| {
                        a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                        a
                    },
                )
        };
        #[cfg(not(feature = "parallel"))]
        let bits = ledger
            .transactions()
            .iter()
            .zip(ledger.transaction_slots())
            .fold(vec![0u64; words], mark);
        let len = bits.iter().map(|w| w.count_ones() as usize).sum();
        CustomerSet { words: bits, len }
    }

    /// The customers who bought (a purchase record) on a day that `day` accepts.
    pub(super) fn buyers(ledger: &Ledger, day: impl Fn(chrono::NaiveDate) -> bool + Sync) -> Self {
        CustomerSet::of(ledger, |t| {
            t.kind() == TransactionKind::Purchase && day(t.date())
        })
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
