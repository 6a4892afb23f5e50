//! The rows the parallel accumulation of a log of integer ids reads: chunks of
//! [`Transaction`]s, or of Arrow batches already read and checked ([`IntBatch`]). Both give, row
//! by row, the customer's integer id and the row's entry.

#[cfg(feature = "arrow")]
use rust_decimal::Decimal;

#[cfg(any(feature = "parallel", feature = "arrow"))]
use super::entry::Entry;
#[cfg(feature = "arrow")]
use super::entry::{MAGNITUDE_MASK, WIDE_BIT};
#[cfg(any(feature = "parallel", feature = "arrow"))]
use super::options::Grain;
#[cfg(feature = "parallel")]
use crate::records::Transaction;
#[cfg(feature = "arrow")]
use crate::records::TransactionKind;

/// Owner keys from this up are `SLOT_KEY | slot`, of customers with text ids or integer ids this
/// large; a smaller key is the customer's integer id itself, which needs no lookup to find (in
/// a date-ordered log, where every entry would need one) and sorts in id order.
pub(super) const SLOT_KEY: u64 = 1 << 63;

/// A chunk of rows, read in order.
#[cfg(any(feature = "parallel", feature = "arrow"))]
pub(super) trait IntRows: Sync {
    /// The number of rows.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn rows(&self) -> usize;
    /// Each row's customer id, if it is an integer below [`SLOT_KEY`].
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn ids(&self) -> impl Iterator<Item = Option<u64>> + '_;
    /// Each row's integer id (0 where it has none) and entry (one record), its magnitude put in
    /// `wide` when too wide for the entry.
    fn entries<'a>(
        &'a self,
        grain: Grain,
        wide: &'a mut Vec<u128>,
    ) -> impl Iterator<Item = (u64, Entry)> + 'a;
}

#[cfg(feature = "parallel")]
impl IntRows for [Transaction] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn ids(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        self.iter()
            .map(|t| t.customer().as_u64().filter(|&n| n < SLOT_KEY))
    }
    fn entries<'a>(
        &'a self,
        grain: Grain,
        wide: &'a mut Vec<u128>,
    ) -> impl Iterator<Item = (u64, Entry)> + 'a {
        self.iter().map(move |t| {
            let n = t.customer().as_u64().unwrap_or(0);
            (
                n,
                Entry::new(grain.key(t.at()), t.amount(), 1, t.kind(), wide),
            )
        })
    }
}

#[cfg(feature = "arrow")]
/// A batch of transactions of integer ids (below [`SLOT_KEY`]), read and checked: each row's id
/// and entry, and the magnitudes too wide for an entry.
#[derive(Debug, Clone)]
pub(crate) struct IntBatch {
    ids: Vec<u64>,
    entries: Vec<Entry>,
    wide: Vec<u128>,
}

#[cfg(feature = "arrow")]
impl IntBatch {
    /// The batch of rows `ids[k]`, `keys[k]`, `amounts[k]`, `kinds[k]` (of equal lengths);
    /// `None` if an id is not below [`SLOT_KEY`].
    pub(crate) fn new(
        ids: Vec<u64>,
        keys: &[i64],
        amounts: &[Decimal],
        kinds: &[TransactionKind],
    ) -> Option<Self> {
        if ids.iter().any(|&n| n >= SLOT_KEY) {
            return None;
        }
        let mut wide = Vec::new();
        let entries = keys
            .iter()
            .zip(amounts)
            .zip(kinds)
            .map(|((&key, &amount), &kind)| Entry::new(key, amount, 1, kind, &mut wide))
            .collect();
        Some(IntBatch { ids, entries, wide })
    }

    /// The number of rows.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The last row's id.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    pub(super) fn last_id(&self) -> Option<u64> {
        self.ids.last().copied()
    }
}

#[cfg(feature = "arrow")]
/// The entry `e` (its wide magnitude, if any, in `from`) with that magnitude moved to `to`.
fn repoint(mut e: Entry, from: &[u128], to: &mut Vec<u128>) -> Entry {
    if e.word & WIDE_BIT != 0 {
        let magnitude = e.magnitude(from);
        e.word = (e.word & !MAGNITUDE_MASK) | (to.len() as u64 & MAGNITUDE_MASK);
        to.push(magnitude);
    }
    e
}

#[cfg(feature = "arrow")]
impl IntRows for [&IntBatch] {
    fn rows(&self) -> usize {
        self.iter().map(|b| b.len()).sum()
    }
    fn ids(&self) -> impl Iterator<Item = Option<u64>> + '_ {
        self.iter().flat_map(|b| b.ids.iter().map(|&n| Some(n)))
    }
    fn entries<'a>(
        &'a self,
        _grain: Grain,
        wide: &'a mut Vec<u128>,
    ) -> impl Iterator<Item = (u64, Entry)> + 'a {
        BatchRows {
            batches: self,
            batch: 0,
            row: 0,
            wide,
        }
    }
}

/// The rows of batches in order, each batch's wide magnitudes moved to `wide` as read.
#[cfg(feature = "arrow")]
struct BatchRows<'a> {
    batches: &'a [&'a IntBatch],
    batch: usize,
    row: usize,
    wide: &'a mut Vec<u128>,
}

#[cfg(feature = "arrow")]
impl Iterator for BatchRows<'_> {
    type Item = (u64, Entry);
    fn next(&mut self) -> Option<(u64, Entry)> {
        loop {
            let b = self.batches.get(self.batch)?;
            if let (Some(&n), Some(&e)) = (b.ids.get(self.row), b.entries.get(self.row)) {
                self.row += 1;
                return Some((n, repoint(e, &b.wide, self.wide)));
            }
            self.batch += 1;
            self.row = 0;
        }
    }
}
