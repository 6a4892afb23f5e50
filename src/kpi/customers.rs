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
        let bits = or_by_slot(ledger, words, |t, slot| {
            keep(t).then(|| (slot as usize / 64, 1u64 << (slot % 64)))
        });
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

/// `words` words, each the OR of the bits that `mark` gives the transactions of the ledger
/// (`mark` sees each transaction with its customer slot and names a word and its bits, or
/// nothing). With `parallel`, one part of the log per core, each with its own words, joined by OR.
pub(super) fn or_by_slot(
    ledger: &Ledger,
    words: usize,
    mark: impl Fn(&Transaction, u32) -> Option<(usize, u64)> + Sync,
) -> Vec<u64> {
    let fold = |mut out: Vec<u64>, (t, &slot): (&Transaction, &u32)| {
        if let Some((word, bits)) = mark(t, slot) {
            if let Some(w) = out.get_mut(word) {
                *w |= bits;
            }
        }
        out
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let chunk = ledger
            .transactions()
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        ledger
            .transactions()
            .par_chunks(chunk)
            .zip(ledger.transaction_slots().par_chunks(chunk))
            .map(|(part, slots)| part.iter().zip(slots).fold(vec![0u64; words], fold))
            .reduce(
                || vec![0u64; words],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x |= y);
                    a
                },
            )
    }
    #[cfg(not(feature = "parallel"))]
    ledger
        .transactions()
        .iter()
        .zip(ledger.transaction_slots())
        .fold(vec![0u64; words], fold)
}
