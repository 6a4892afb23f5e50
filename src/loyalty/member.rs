//! A member's records for a replay (transactions, redemptions, locks), and a whole base's records
//! grouped by member.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::NaiveDate;

use crate::records::{Customer, CustomerId, Transaction};

use super::points::Redemption;

/// A manual override: the member holds `tier` from `from` (included) until `until` (excluded),
/// whatever the rules say. Reviews during the lock are skipped; when it ends the member keeps the
/// tier until the next review (or upgrades at once if the qualifying value reaches a higher tier).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TierLock {
    /// The member.
    pub customer: CustomerId,
    /// The tier held.
    pub tier: String,
    /// First day of the lock.
    pub from: NaiveDate,
    /// First day after the lock.
    pub until: NaiveDate,
}

/// One member's records for a replay.
#[derive(Debug, Clone, Copy)]
pub struct MemberRecords<'a> {
    /// The member.
    pub customer: &'a CustomerId,
    /// Start of the membership; the first transaction's day when absent.
    pub joined: Option<NaiveDate>,
    /// The member's transactions, in any order.
    pub transactions: &'a [Transaction],
    /// The member's redemptions, in any order.
    pub redemptions: &'a [Redemption],
    /// The member's locks, in any order.
    pub locks: &'a [TierLock],
}

impl<'a> MemberRecords<'a> {
    /// Records with transactions only.
    pub fn new(customer: &'a CustomerId, transactions: &'a [Transaction]) -> Self {
        MemberRecords {
            customer,
            joined: None,
            transactions,
            redemptions: &[],
            locks: &[],
        }
    }
    /// Sets the joining date.
    pub fn joined(mut self, joined: NaiveDate) -> Self {
        self.joined = Some(joined);
        self
    }
    /// Sets the redemptions.
    pub fn redemptions(mut self, redemptions: &'a [Redemption]) -> Self {
        self.redemptions = redemptions;
        self
    }
    /// Sets the locks.
    pub fn locks(mut self, locks: &'a [TierLock]) -> Self {
        self.locks = locks;
        self
    }
}

/// Records grouped by member, in flat arrays (one allocation per kind of record, not per
/// member): member `i`'s transactions are the `txn_counts[i]` entries after those of members
/// `0..i`.
pub(crate) struct Base<'a> {
    ids: Vec<&'a CustomerId>,
    joined: Vec<Option<NaiveDate>>,
    txns: Vec<&'a Transaction>,
    txn_counts: Vec<usize>,
    reds: Vec<&'a Redemption>,
    red_counts: Vec<usize>,
    locks: Vec<&'a TierLock>,
    lock_counts: Vec<usize>,
}

/// One member's records, borrowed from a [`Base`].
pub(crate) struct BaseMember<'b, 'a> {
    pub(crate) id: &'a CustomerId,
    pub(crate) joined: Option<NaiveDate>,
    pub(crate) txns: &'b mut [&'a Transaction],
    pub(crate) reds: &'b mut [&'a Redemption],
    pub(crate) locks: &'b mut [&'a TierLock],
}

/// A hash map with a fast, non-cryptographic hasher (the ids come from the caller's own records).
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Assigns members to dense slots, remembering the last id looked up: logs grouped by customer
/// then hash each customer once.
struct Slots<'a> {
    map: FastMap<&'a CustomerId, usize>,
    ids: Vec<&'a CustomerId>,
    last: Option<(&'a CustomerId, usize)>,
}

impl<'a> Slots<'a> {
    fn slot(&mut self, id: &'a CustomerId) -> usize {
        if let Some((last, i)) = self.last {
            if last == id {
                return i;
            }
        }
        let ids = &mut self.ids;
        let i = *self.map.entry(id).or_insert_with(|| {
            ids.push(id);
            ids.len() - 1
        });
        self.last = Some((id, i));
        i
    }
}

/// Stable counting sort of `items` by slot (every slot below `n`): returns the items grouped and
/// the count per slot.
fn bucket<'a, T>(items: &'a [T], slots: &[usize], n: usize) -> (Vec<&'a T>, Vec<usize>) {
    let mut counts = vec![0usize; n];
    for &s in slots {
        if let Some(c) = counts.get_mut(s) {
            *c += 1;
        }
    }
    // Records already grouped, in slot order (a log sorted by customer): the sort keeps them.
    let Some(first) = items.first() else {
        return (Vec::new(), counts);
    };
    if slots.is_sorted() {
        return (items.iter().collect(), counts);
    }
    let mut next = Vec::with_capacity(n);
    let mut acc = 0;
    for c in &counts {
        next.push(acc);
        acc += c;
    }
    // Every cell is written once: the counts add up to the number of items.
    let mut out: Vec<&'a T> = vec![first; items.len()];
    for (item, &s) in items.iter().zip(slots) {
        if let Some(pos) = next.get_mut(s) {
            if let Some(cell) = out.get_mut(*pos) {
                *cell = item;
            }
            *pos += 1;
        }
    }
    (out, counts)
}

impl<'a> Base<'a> {
    pub(crate) fn group(
        customers: &'a [Customer],
        transactions: &'a [Transaction],
        redemptions: &'a [Redemption],
        locks: &'a [TierLock],
    ) -> Self {
        if customers.is_empty() {
            if let Some(base) = Self::group_sorted(transactions, redemptions, locks) {
                return base;
            }
        }
        // A log grouped by customer has one run per customer: room for them all saves the
        // map's growth. (A shuffled log, with runs of about one transaction, gets no more room
        // than the customers given: most of its runs are repeat customers.)
        let runs = transactions
            .windows(2)
            .filter(|w| w[0].customer() != w[1].customer())
            .count()
            + usize::from(!transactions.is_empty());
        let room = customers.len()
            + if runs <= transactions.len() / 4 {
                runs
            } else {
                0
            };
        let mut slots = Slots {
            map: FastMap::with_capacity_and_hasher(room, Default::default()),
            ids: Vec::with_capacity(room),
            last: None,
        };
        let mut joined: Vec<Option<NaiveDate>> = Vec::with_capacity(customers.len());
        for c in customers {
            let i = slots.slot(c.id());
            if joined.len() <= i {
                joined.resize(i + 1, None);
            }
            if let Some(j) = joined.get_mut(i) {
                *j = Some(j.map_or(c.acquired(), |d| d.min(c.acquired())));
            }
        }
        let txn_slots: Vec<usize> = transactions
            .iter()
            .map(|t| slots.slot(t.customer()))
            .collect();
        let red_slots: Vec<usize> = redemptions
            .iter()
            .map(|r| slots.slot(&r.customer))
            .collect();
        let lock_slots: Vec<usize> = locks.iter().map(|l| slots.slot(&l.customer)).collect();
        let n = slots.ids.len();
        joined.resize(n, None);
        let (txns, txn_counts) = bucket(transactions, &txn_slots, n);
        let (reds, red_counts) = bucket(redemptions, &red_slots, n);
        let (locks, lock_counts) = bucket(locks, &lock_slots, n);
        Base {
            ids: slots.ids,
            joined,
            txns,
            txn_counts,
            reds,
            red_counts,
            locks,
            lock_counts,
        }
    }

    /// [`group`](Self::group) for a log sorted by customer (ids never decreasing) without
    /// customer records: each customer's run is a member, in the log's order (their order of
    /// first appearance, as `group` numbers them), found without hashing an id. Redemptions and
    /// locks find their member by binary search. `None` when the log is not sorted by customer
    /// or a redemption or lock names a customer without transactions (`group` then hashes).
    fn group_sorted(
        transactions: &'a [Transaction],
        redemptions: &'a [Redemption],
        locks: &'a [TierLock],
    ) -> Option<Self> {
        let mut ids: Vec<&'a CustomerId> = Vec::new();
        let mut txn_counts: Vec<usize> = Vec::new();
        for t in transactions {
            match (ids.last(), txn_counts.last_mut()) {
                (Some(&last), Some(count)) if last == t.customer() => *count += 1,
                (Some(&last), _) if last > t.customer() => return None,
                _ => {
                    ids.push(t.customer());
                    txn_counts.push(1);
                }
            }
        }
        let n = ids.len();
        let find = |id: &CustomerId| ids.binary_search(&id).ok();
        let red_slots: Vec<usize> = redemptions
            .iter()
            .map(|r| find(&r.customer))
            .collect::<Option<_>>()?;
        let lock_slots: Vec<usize> = locks
            .iter()
            .map(|l| find(&l.customer))
            .collect::<Option<_>>()?;
        let (reds, red_counts) = bucket(redemptions, &red_slots, n);
        let (locks, lock_counts) = bucket(locks, &lock_slots, n);
        Some(Base {
            ids,
            joined: vec![None; n],
            txns: transactions.iter().collect(),
            txn_counts,
            reds,
            red_counts,
            locks,
            lock_counts,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The members, each with mutable views of their records.
    pub(crate) fn members(&mut self) -> Vec<BaseMember<'_, 'a>> {
        let mut out = Vec::with_capacity(self.ids.len());
        let mut txns: &mut [&'a Transaction] = &mut self.txns;
        let mut reds: &mut [&'a Redemption] = &mut self.reds;
        let mut locks: &mut [&'a TierLock] = &mut self.locks;
        for (i, id) in self.ids.iter().enumerate() {
            let take = |counts: &[usize]| counts.get(i).copied().unwrap_or(0);
            let Some((t, t_rest)) =
                std::mem::take(&mut txns).split_at_mut_checked(take(&self.txn_counts))
            else {
                break;
            };
            txns = t_rest;
            let Some((r, r_rest)) =
                std::mem::take(&mut reds).split_at_mut_checked(take(&self.red_counts))
            else {
                break;
            };
            reds = r_rest;
            let Some((l, l_rest)) =
                std::mem::take(&mut locks).split_at_mut_checked(take(&self.lock_counts))
            else {
                break;
            };
            locks = l_rest;
            out.push(BaseMember {
                id,
                joined: self.joined.get(i).copied().flatten(),
                txns: t,
                reds: r,
                locks: l,
            });
        }
        out
    }
}

/// Sorts records into the canonical processing order, so a replay does not depend on the order
/// records were given in: transactions by moment, purchases before returns at the same moment,
/// then by amount, quantity and id (records equal on all of these are interchangeable).
pub(crate) fn sort_records(
    txns: &mut [&Transaction],
    reds: &mut [&Redemption],
    locks: &mut [&TierLock],
) {
    // The moment decides almost every comparison: the rest of the key is read only on ties.
    let key = |t: &Transaction| (t.kind(), t.amount(), t.quantity());
    let increasing = |a: &Transaction, b: &Transaction| match a.at().cmp(&b.at()) {
        Ordering::Equal => key(a) < key(b),
        o => o == Ordering::Less,
    };
    if txns.is_sorted_by(|a, b| increasing(a, b)) {
        // Strictly increasing keys: already in canonical order (the common case for logs).
    } else {
        txns.sort_unstable_by(|a, b| {
            a.at()
                .cmp(&b.at())
                .then_with(|| (key(a), a.id()).cmp(&(key(b), b.id())))
        });
    }
    reds.sort_unstable_by_key(|r| (r.date, r.points));
    locks.sort_unstable();
}
