//! The summary accumulator's index from customer id to slot (the customer's number in arrival
//! order): a direct table for integer ids, which are usually numbered from 1 and so dense, and
//! hash maps for the others.
//!
//! A date-ordered log looks up a customer on every transaction. Hashing each id and probing a
//! table of a million customers missed the cache on nearly every lookup; the direct table holds
//! 4 bytes an id, needs no hash, and keeps its ids in order for free, and a bitmap of the ids in
//! it (one bit an id: 160 KB for a million) answers whether an id is known from the cache.

use std::collections::HashMap;
use std::sync::Arc;

use crate::records::CustomerId;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Integer ids below this may always use the direct table (256 KiB of it), however few the
/// customers: small logs and the first customers of a date-ordered log need no hashing.
const DENSE_MIN_IDS: usize = 1 << 16;

/// The direct table covers integer ids up to this many times the number of customers, so it
/// takes at most 16 bytes a customer (their summary rows take 128) while ids numbered from 1 with
/// gaps (closed accounts, several sources) still fit. Sparser ids (hashes, phone numbers) go to a
/// hash map instead.
const DENSE_IDS_PER_CUSTOMER: usize = 4;

/// The widest range of integer ids that counts as dense for `customers` customers: what the
/// direct table may cover, and what the accumulator may count entries by id over.
pub(super) fn dense_span(customers: usize) -> usize {
    DENSE_IDS_PER_CUSTOMER
        .saturating_mul(customers)
        .max(DENSE_MIN_IDS)
}

/// Customer ids to slots.
#[derive(Debug, Clone, Default)]
pub(super) struct IdIndex {
    /// The smallest integer id the direct table covers: ids numbered from 100,000,001 need no
    /// 400 MB of table below them.
    base: u64,
    /// `dense[i]`: one more than the slot of integer id `base + i`, or 0 while that id is unseen.
    dense: Vec<u32>,
    /// Bit `i % 64` of `known[i / 64]`: whether `dense[i]` holds a slot.
    known: Vec<u64>,
    /// Number of ids in the direct table.
    in_table: usize,
    /// The other integer ids: outside the direct table, or with a slot too large for it.
    ints: FastMap<u64, usize>,
    /// The number of ids when the table was last placed anew.
    placed_at: usize,
    texts: FastMap<Arc<str>, usize>,
    /// The address of each indexed text's storage, which `texts` keeps alive (so no other text
    /// can have it while the index lives): an id sharing that storage, as the ids of a log
    /// built from interned ids do, is found without reading or hashing its text.
    shared: FastMap<usize, usize>,
    /// Number of ids indexed.
    len: usize,
}

/// The address of a text's storage.
fn address(text: &Arc<str>) -> usize {
    Arc::as_ptr(text).cast::<u8>() as usize
}

/// The first 8 bytes of a text, big-endian and padded with zeros: texts whose prefixes differ
/// order as their prefixes do (a zero of padding sorts a text that is a prefix of another first).
fn text_prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    for (b, &t) in bytes.iter_mut().zip(text.as_bytes()) {
        *b = t;
    }
    u64::from_be_bytes(bytes)
}

impl IdIndex {
    /// The slot of `id`, if indexed.
    #[inline]
    pub(super) fn get(&self, id: &CustomerId) -> Option<usize> {
        if let Some(text) = id.as_text() {
            if let Some(&slot) = self.shared.get(&address(text)) {
                return Some(slot);
            }
            return self.texts.get(text).copied();
        }
        let n = id.as_u64().unwrap_or(0);
        // The bitmap first: a new id is told from it without a read of the table.
        if let Some(i) = self.known_at(n) {
            return self.dense.get(i).map(|&v| (v as usize).saturating_sub(1));
        }
        if self.ints.is_empty() {
            None
        } else {
            self.ints.get(&n).copied()
        }
    }

    /// Whether integer id `n` is in the direct table (if not, it may still be in the map).
    #[inline]
    pub(super) fn knows_int(&self, n: u64) -> bool {
        self.known_at(n).is_some()
    }

    /// Where integer id `n` is in the direct table, if it is there.
    #[inline]
    fn known_at(&self, n: u64) -> Option<usize> {
        let i = n.checked_sub(self.base)?;
        let bits = self.known.get(usize::try_from(i / 64).ok()?)?;
        (bits >> (i % 64) & 1 != 0).then_some(i as usize)
    }

    /// Places an empty direct table over the integer ids `low..=high`, if the index is empty
    /// and the range is no wider than `limit` ids: an accumulator told the range of a log's
    /// ids up front (from a sample) finds them in the table from its first customer on, where
    /// a table grown with the customers would hash the ids beyond it until it reached them.
    #[cfg(feature = "parallel")]
    pub(super) fn reserve_ints(&mut self, low: u64, high: u64, limit: usize) {
        if self.len > 0 || high < low {
            return;
        }
        let Some(len) = (high - low)
            .checked_add(1)
            .and_then(u64::checked_next_power_of_two)
            .and_then(|len| usize::try_from(len).ok())
            .filter(|&len| len <= limit)
        else {
            return;
        };
        // The table never ends past 2^64.
        let top = 1u128 << 64;
        let Ok(base) = u64::try_from(u128::from(low).min(top - len as u128)) else {
            return;
        };
        self.base = base;
        self.dense = vec![0; len];
        self.known = vec![0; len.div_ceil(64)];
        self.in_table = 0;
    }

    /// Indexes a new id at `slot`.
    pub(super) fn insert(&mut self, id: &CustomerId, slot: usize) {
        self.len += 1;
        if let Some(text) = id.as_text() {
            self.shared.insert(address(text), slot);
            self.texts.insert(Arc::clone(text), slot);
            return;
        }
        let n = id.as_u64().unwrap_or(0);
        let fits = slot
            .checked_add(1)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|_| self.covers(n) || self.grow_dense(n));
        if let Some(v) = fits {
            if self.set(n, v) {
                return;
            }
        }
        self.ints.insert(n, slot);
        // Most ids outside the table (it was placed by the first ids, or the ids moved on):
        // place it anew around the middle id, at most once per doubling of the ids.
        if self.ints.len() > self.in_table.max(64) && self.len >= self.placed_at.saturating_mul(2) {
            self.place_anew();
        }
    }

    fn covers(&self, n: u64) -> bool {
        n.checked_sub(self.base)
            .is_some_and(|i| i < self.dense.len() as u64)
    }

    /// Puts `v` (a slot plus one) for id `n`, not yet in it, in the direct table, if it covers
    /// `n`. (Not reading the cell first spares a read out of cache per new customer.)
    fn set(&mut self, n: u64, v: u32) -> bool {
        let Some(i) = n
            .checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
        else {
            return false;
        };
        let (Some(cell), Some(bits)) = (self.dense.get_mut(i), self.known.get_mut(i / 64)) else {
            return false;
        };
        self.in_table += 1;
        *cell = v;
        *bits |= 1 << (i % 64);
        true
    }

    /// Places the direct table anew, as long as the number of ids allows, centred on the middle
    /// integer id; the ids outside it go to the map.
    fn place_anew(&mut self) {
        self.placed_at = self.len;
        let mut ids: Vec<(u64, usize)> = self.ints.drain().collect();
        for (i, &v) in self.dense.iter().enumerate() {
            if v != 0 {
                ids.push((self.base + i as u64, v as usize - 1));
            }
        }
        let limit = dense_span(self.len);
        let len = 1usize << (usize::BITS - 1 - limit.leading_zeros());
        if ids.is_empty() {
            return;
        }
        let middle = ids.len() / 2;
        let (_, &mut (median, _), _) = ids.select_nth_unstable_by_key(middle, |&(n, _)| n);
        let half = (len / 2) as u64;
        self.base = median.saturating_sub(half).min(u64::MAX - len as u64);
        self.dense = vec![0; len];
        self.known = vec![0; len.div_ceil(64)];
        self.in_table = 0;
        for (n, slot) in ids {
            let placed = slot
                .checked_add(1)
                .and_then(|v| u32::try_from(v).ok())
                .is_some_and(|v| self.set(n, v));
            if !placed {
                self.ints.insert(n, slot);
            }
        }
    }

    /// Extends the direct table to cover id `n` if the number of ids allows a table that long,
    /// and moves the ids it then covers out of the map.
    fn grow_dense(&mut self, n: u64) -> bool {
        // Bounds in 128 bits: the table may end at 2^64, past the last id.
        let top = 1u128 << 64;
        let old_len = self.dense.len() as u128;
        let (low, high) = if self.dense.is_empty() {
            (u128::from(n), u128::from(n) + 1)
        } else {
            let base = u128::from(self.base);
            (
                base.min(u128::from(n)),
                (base + old_len).max(u128::from(n) + 1),
            )
        };
        // Lengths in powers of two, at least doubling: the table grows, and the map is swept,
        // a few times at most.
        let len = (high - low)
            .max(old_len * 2)
            .checked_next_power_of_two()
            .filter(|&len| len <= dense_span(self.len) as u128)
            .and_then(|len| usize::try_from(len).ok());
        let Some(len) = len else {
            return false;
        };
        // The new table covers the old one and `n`: growing down, it keeps its top and reaches
        // as far below as its length allows; it never ends past 2^64.
        let base = if self.dense.is_empty() {
            low
        } else if n < self.base {
            high.saturating_sub(len as u128)
        } else {
            u128::from(self.base)
        };
        let Ok(base) = u64::try_from(base.min(top - len as u128)) else {
            return false;
        };
        let old = std::mem::take(&mut self.dense);
        let shift = self
            .base
            .checked_sub(base)
            .and_then(|s| usize::try_from(s).ok())
            .unwrap_or(0);
        let mut dense = vec![0; len];
        match dense.get_mut(shift..shift + old.len()) {
            Some(place) => place.copy_from_slice(&old),
            // Cannot happen (the new table covers the old): keep the old one.
            None => {
                self.dense = old;
                return false;
            }
        }
        self.dense = dense;
        self.base = base;
        self.known = vec![0; len.div_ceil(64)];
        for (i, &v) in self.dense.iter().enumerate() {
            if v != 0 {
                if let Some(bits) = self.known.get_mut(i / 64) {
                    *bits |= 1 << (i % 64);
                }
            }
        }
        let mut moved = Vec::new();
        self.ints.retain(|&m, &mut slot| {
            let v = slot.checked_add(1).and_then(|v| u32::try_from(v).ok());
            let covered = m.checked_sub(base).is_some_and(|i| i < len as u64);
            match v.filter(|_| covered) {
                Some(v) => {
                    moved.push((m, v));
                    false
                }
                None => true,
            }
        });
        for (m, v) in moved {
            self.set(m, v);
        }
        true
    }

    /// The slots of all indexed ids in ascending id order (integers, then text).
    pub(super) fn slots_in_id_order(&self) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.len);
        // The table lists its ids in order; the map's few are sorted and merged in.
        let mut ints: Vec<(u64, usize)> = self.ints.iter().map(|(&n, &s)| (n, s)).collect();
        ints.sort_unstable();
        let mut ints = ints.into_iter().peekable();
        for (i, &v) in self.dense.iter().enumerate() {
            if v == 0 {
                continue;
            }
            let n = self.base + i as u64;
            while let Some((_, slot)) = ints.next_if(|&(m, _)| m < n) {
                order.push(slot);
            }
            order.push(v as usize - 1);
        }
        order.extend(ints.map(|(_, slot)| slot));
        // Texts sort by their first 8 bytes, read once each, and only ties by the whole text:
        // comparing texts in place would read two out of cache per comparison.
        let mut texts: Vec<(u64, &Arc<str>, usize)> = self
            .texts
            .iter()
            .map(|(t, &s)| (text_prefix(t), t, s))
            .collect();
        texts.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        order.extend(texts.into_iter().map(|(_, _, slot)| slot));
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An integer id, or a text id: numbers of all lengths, so that texts share prefixes of 8
    /// bytes and more, and one text is often a prefix of another.
    fn id(key: (bool, u64)) -> CustomerId {
        match key {
            (true, n) => CustomerId::new(&format!("cust-{n}")).unwrap(),
            (false, n) => CustomerId::from(n),
        }
    }

    #[test]
    fn the_table_follows_the_bulk_of_the_ids_and_leaves_outliers_to_the_map() {
        let mut index = IdIndex::default();
        let mut slot = 0;
        let mut add = |index: &mut IdIndex, n: u64| {
            index.insert(&CustomerId::from(n), slot);
            slot += 1;
        };
        // The first id places the table; ids far below it go to the map, until there are
        // enough of them to place the table anew among them.
        add(&mut index, 5_000_000);
        for n in 1..=64 {
            add(&mut index, n);
        }
        assert_eq!(index.ints.len(), 64);
        add(&mut index, 65);
        assert!(index.knows_int(1) && index.knows_int(65));
        assert!(!index.knows_int(5_000_000));
        assert_eq!(index.get(&CustomerId::from(5_000_000u64)), Some(0));
        // Ids numbered from 100,000,001 in random order: after a few placements and growths,
        // the table holds them all, with no table below them.
        let mut index = IdIndex::default();
        let mut state = 7u64;
        let mut ids = Vec::new();
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = 100_000_001 + state % 250_000;
            if index.get(&CustomerId::from(n)).is_none() {
                index.insert(&CustomerId::from(n), ids.len());
                ids.push(n);
            }
        }
        assert!(
            index.ints.len() < ids.len() / 100,
            "{} in the map",
            index.ints.len()
        );
        assert!(index.dense.len() <= dense_span(ids.len()));
        assert!(index.base >= 100_000_001 - index.dense.len() as u64);
        for (slot, &n) in ids.iter().enumerate() {
            assert_eq!(index.get(&CustomerId::from(n)), Some(slot));
        }
    }

    #[test]
    fn texts_come_in_text_order_whatever_their_prefixes() {
        let texts = [
            "b",
            "a\0",
            "a",
            "ab",
            "a\0b",
            "abcdefgh",
            "abcdefg",
            "abcdefghi",
            "é",
            "z",
        ];
        let mut index = IdIndex::default();
        for (slot, t) in texts.iter().enumerate() {
            index.insert(&CustomerId::new(t).unwrap(), slot);
        }
        let listed: Vec<&str> = index
            .slots_in_id_order()
            .iter()
            .map(|&s| texts[s])
            .collect();
        let mut sorted = texts.to_vec();
        sorted.sort_unstable();
        assert_eq!(listed, sorted);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the mix of small, large and text ids, every id finds its slot, unknown ids
        /// find none, and the id order is that of sorting the ids.
        #[test]
        fn the_index_finds_every_slot_and_lists_the_ids_in_order(
            keys in proptest::collection::vec(
                (
                    any::<bool>(),
                    prop_oneof![0u64..100, 0u64..300_000, (u64::MAX - 100)..=u64::MAX, any::<u64>()],
                ),
                0..300,
            ),
            absent in (any::<bool>(), any::<u64>()),
        ) {
            let mut ids: Vec<CustomerId> = Vec::new();
            let mut index = IdIndex::default();
            for key in keys {
                let id = id(key);
                if index.get(&id).is_none() {
                    index.insert(&id, ids.len());
                    ids.push(id);
                }
            }
            for (slot, id) in ids.iter().enumerate() {
                prop_assert_eq!(index.get(id), Some(slot));
                if let Some(n) = id.as_u64() {
                    // Known to the bitmap exactly when in the table.
                    let in_table = n
                        .checked_sub(index.base)
                        .and_then(|i| index.dense.get(usize::try_from(i).ok()?))
                        .is_some_and(|&v| v != 0);
                    prop_assert_eq!(index.knows_int(n), in_table);
                }
            }
            let absent = id(absent);
            if !ids.contains(&absent) {
                prop_assert_eq!(index.get(&absent), None);
                if let Some(n) = absent.as_u64() {
                    prop_assert!(!index.knows_int(n));
                }
            }
            let mut sorted: Vec<usize> = (0..ids.len()).collect();
            sorted.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
            prop_assert_eq!(index.slots_in_id_order(), sorted);
        }
    }
}
