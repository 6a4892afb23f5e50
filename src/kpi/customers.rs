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
    pub(super) fn of(ledger: &Ledger, keep: impl Fn(&Transaction) -> bool) -> Self {
        let mut set = CustomerSet {
            words: vec![0; ledger.transacting_customers().div_ceil(64)],
            len: 0,
        };
        for (t, &slot) in ledger.transactions().iter().zip(ledger.transaction_slots()) {
            if keep(t) {
                set.insert(slot);
            }
        }
        set
    }

    /// The customers who bought (a purchase record) on a day that `day` accepts.
    pub(super) fn buyers(ledger: &Ledger, day: impl Fn(chrono::NaiveDate) -> bool) -> Self {
        CustomerSet::of(ledger, |t| {
            t.kind() == TransactionKind::Purchase && day(t.date())
        })
    }

    fn insert(&mut self, slot: u32) {
        let (word, bit) = (slot as usize / 64, slot % 64);
        if let Some(w) = self.words.get_mut(word) {
            let mask = 1u64 << bit;
            if *w & mask == 0 {
                *w |= mask;
                self.len += 1;
            }
        }
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
