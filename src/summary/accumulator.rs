//! The mergeable accumulator of transactions into [`Summaries`].

use std::borrow::Cow;
use std::ops::Range;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::entry::{Entry, WIDE_BIT};
use super::error::SummaryError;
use super::fold::{moment_of_key, Cuts, Folder, Scratch};
#[cfg(feature = "parallel")]
use super::grouping::Buckets;
use super::grouping::{partition, Partition, RunScratch};
use super::id_index::{dense_span, IdIndex};
#[cfg(feature = "arrow")]
use super::int_rows::IntBatch;
#[cfg(any(feature = "parallel", feature = "arrow"))]
use super::int_rows::IntRows;
use super::int_rows::SLOT_KEY;
use super::options::{Grain, ReturnPolicy, SummaryOptions};
#[cfg(any(feature = "serde", all(test, feature = "arrow")))]
use super::parts::{AccumulatorParts, PARTS_VERSION};
use super::summaries::Summaries;
use crate::records::{CustomerId, Transaction, TransactionKind};

/// Where each customer's entries lie in the entry array.
#[derive(Debug, Clone)]
enum Layout {
    /// Each customer's entries are one run, the runs in slot order: `starts[slot]` is where the
    /// slot's run begins (a log grouped by customer). One number per customer, none per entry.
    Runs { starts: Vec<usize> },
    /// Customers' entries interleave: `owners[k]` is the owner key of entry `k`.
    Interleaved { owners: Vec<u64> },
    /// The entries of integer ids `base + v` partitioned by `v` (as `from_slice_parallel`
    /// leaves a log whose customers interleave); `entries` is empty. Made only with `parallel`.
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    Partitioned { partition: Partition, base: u64 },
}

/// In a merge's slots of the other's customers: a customer not looked up (a known integer id,
/// whose owner key is its id). Never a slot key's slot: only integer ids below `SLOT_KEY` get it.
const UNLOOKED: usize = usize::MAX;

/// Runs `a` and `b`, on two cores with `parallel`.
fn join(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    #[cfg(feature = "parallel")]
    rayon::join(a, b);
    #[cfg(not(feature = "parallel"))]
    {
        a();
        b();
    }
}

/// The owner key of the customer `id` at `slot`.
fn owner_key(id: &CustomerId, slot: usize) -> u64 {
    match id.as_u64() {
        Some(n) if n < SLOT_KEY => n,
        _ => SLOT_KEY | slot as u64,
    }
}

/// A mergeable accumulator of transactions into [`Summaries`].
///
/// Feed it transactions in any order, or feed partitions of a log to separate accumulators and
/// [`merge`](Self::merge) them: [`finish`](Self::finish) gives exactly the one-pass result whatever
/// the split and order. It keeps one 16-byte entry per purchase period (consecutive records of
/// the same period are folded as they arrive) in one flat array, and where each customer's entries
/// are: one start per customer while the log comes grouped by customer, one customer slot per
/// entry once customers interleave. Memory stays well below that of the transactions themselves
/// and no customer needs an allocation of its own. While customers first appear in ascending id
/// order (a log grouped by customer and sorted by id), no id index is kept at all; it is built
/// once the first customer arrives out of order. [`finish`](Self::finish) reads a log grouped by
/// customer in place and groups any other (a log in date order, say) with one counting sort by
/// customer.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction};
/// use rust_decimal::Decimal;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let id = CustomerId::from(1u64);
/// let log = vec![
///     Transaction::purchase(id.clone(), d(1, 1)?, Decimal::new(10, 0))?,
///     Transaction::purchase(id.clone(), d(1, 8)?, Decimal::new(20, 0))?,
///     Transaction::purchase(id.clone(), d(1, 15)?, Decimal::new(30, 0))?,
/// ];
/// let mut left = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
/// let mut right = left.clone();
/// left.extend(&log[..1]);
/// right.extend(&log[1..]);
/// left.merge(right)?;
/// let s = left.finish(&SummaryOptions::new(d(1, 29)?, TimeUnit::WEEKS))?;
/// let c = s.get(&id).ok_or("missing")?;
/// assert_eq!((c.frequency(), c.recency(), c.age()), (2, 2.0, 4.0));
/// assert_eq!(c.monetary_value(), Decimal::new(25, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Partial state
///
/// With the `serde` feature an accumulator serializes to a canonical, columnar partial state, so
/// parts of a log can be accumulated in separate processes, shipped and merged: the format
/// `version` (1), `grain`, `returns`, the `customers` in arrival order, and one value per entry
/// in each of `owner` (index into `customers`), `moment` (days from the common era, 0001-01-01
/// being day 1, at [`Grain::Day`]; wall-clock microseconds since 1970-01-01 at
/// [`Grain::Timestamp`]), `count` (records, 1 to 255), `amount` (their total, a decimal string)
/// and `is_return`. Entries come grouped by customer in arrival order, sorted by moment and
/// kind, a customer's records of one moment and kind folded into one entry where the sum stays
/// exact. Deserializing checks every part and fails, never panics, on inconsistent input.
///
/// ```
/// # #[cfg(feature = "serde")] {
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction};
/// use rust_decimal::Decimal;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let mut part = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
/// part.push(&Transaction::purchase(CustomerId::new("acme-7")?, d(1, 2)?, Decimal::new(1250, 2))?);
/// let shipped = serde_json::to_string(&part)?;
/// let mut whole = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
/// whole.push(&Transaction::purchase(CustomerId::from(3u64), d(1, 5)?, Decimal::new(990, 2))?);
/// whole.merge(serde_json::from_str(&shipped)?)?;
/// assert_eq!(whole.finish(&SummaryOptions::new(d(1, 31)?, TimeUnit::WEEKS))?.len(), 2);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct SummaryAccumulator {
    grain: Grain,
    returns: ReturnPolicy,
    /// Id to slot; only in use once `indexed` (before, `customers` is in ascending id order).
    index: IdIndex,
    indexed: bool,
    /// Customer ids by slot, in arrival order.
    customers: Vec<CustomerId>,
    /// Entries in arrival order, and where each customer's are.
    entries: Vec<Entry>,
    /// Amount magnitudes too wide for an entry.
    wide: Vec<u128>,
    layout: Layout,
    /// The slot of the last entry.
    tail: Option<usize>,
    /// The slot last looked up.
    last: Option<usize>,
}

impl SummaryAccumulator {
    /// An empty accumulator merging purchases at `grain` and treating returns by `returns`.
    pub fn new(grain: Grain, returns: ReturnPolicy) -> Self {
        SummaryAccumulator {
            grain,
            returns,
            index: IdIndex::default(),
            indexed: false,
            customers: Vec::new(),
            entries: Vec::new(),
            wide: Vec::new(),
            layout: Layout::Runs { starts: Vec::new() },
            tail: None,
            last: None,
        }
    }

    /// Reserves room for `additional` more transactions (one entry each at most).
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        if let Layout::Interleaved { owners } = &mut self.layout {
            owners.reserve(additional);
        }
    }

    /// The owner key of each entry, in entry order, with room for as many as the entries have:
    /// moved out of an interleaved layout (the caller puts a layout back), or spelled out from
    /// the runs.
    fn take_owners(&mut self) -> Vec<u64> {
        let mut owners = match &mut self.layout {
            Layout::Interleaved { owners } => std::mem::take(owners),
            Layout::Runs { starts } => {
                let mut owners = Vec::new();
                for (slot, &start) in starts.iter().enumerate() {
                    let end = starts.get(slot + 1).copied().unwrap_or(self.entries.len());
                    let key = self
                        .customers
                        .get(slot)
                        .map_or(SLOT_KEY | slot as u64, |id| owner_key(id, slot));
                    owners.resize(owners.len() + end.saturating_sub(start), key);
                }
                owners
            }
            Layout::Partitioned { partition, base } => {
                let (entries, values) = std::mem::take(partition).flatten();
                self.entries = entries;
                let base = *base;
                values.into_iter().map(|v| base + v).collect()
            }
        };
        owners.reserve(self.entries.capacity().saturating_sub(owners.len()));
        owners
    }

    /// Turns partitioned entries into interleaved ones, in one array.
    fn unpartition(&mut self) {
        if matches!(self.layout, Layout::Partitioned { .. }) {
            let owners = self.take_owners();
            self.layout = Layout::Interleaved { owners };
        }
    }

    /// The grain this accumulator merges purchases at.
    #[cfg(feature = "arrow")]
    pub(crate) fn grain(&self) -> Grain {
        self.grain
    }

    fn key(&self, at: NaiveDateTime) -> i64 {
        self.grain.key(at)
    }

    fn slot(&mut self, id: &CustomerId) -> usize {
        // Logs usually arrive grouped by customer: skip any lookup for a repeat customer. Not
        // once customers interleave (the last customer is then rarely the same, and their id a
        // read out of cache), nor for an indexed integer id, whose slot the index gives at once.
        let grouped = matches!(self.layout, Layout::Runs { .. });
        if grouped && (!self.indexed || id.as_u64().is_none()) {
            if let Some(i) = self.last {
                if self.customers.get(i).is_some_and(|c| c == id) {
                    return i;
                }
            }
        }
        let i = if !self.indexed && self.customers.last().is_none_or(|c| c < id) {
            // Still in ascending id order: the id is new, no index needed.
            self.new_slot(id)
        } else {
            if !self.indexed {
                self.build_index();
            }
            match self.index.get(id) {
                Some(i) => i,
                None => {
                    let i = self.new_slot(id);
                    self.index.insert(id, i);
                    i
                }
            }
        };
        self.last = Some(i);
        i
    }

    fn new_slot(&mut self, id: &CustomerId) -> usize {
        let i = self.customers.len();
        self.customers.push(id.clone());
        i
    }

    fn build_index(&mut self) {
        for (i, c) in self.customers.iter().enumerate() {
            self.index.insert(c, i);
        }
        self.indexed = true;
    }

    /// Appends an entry of slot `i` (owner key `key`), folded into the previous entry when that
    /// is the same customer's, of the same moment and kind, and the sum stays exact.
    fn append(&mut self, i: usize, key: u64, entry: Entry) {
        if let Layout::Interleaved { owners } = &mut self.layout {
            Self::append_interleaved(&mut self.entries, owners, key, entry);
            return;
        }
        if self.tail == Some(i) {
            // Anything that does not fold is kept as its own entry and summed exactly at the end.
            if let Some(last) = self.entries.last_mut() {
                if last.absorb(&entry) {
                    return;
                }
            }
        }
        let in_runs = match &mut self.layout {
            // A new customer's run begins; the last customer's run goes on.
            Layout::Runs { starts } if i == starts.len() => {
                starts.push(self.entries.len());
                true
            }
            Layout::Runs { .. } => self.tail == Some(i),
            Layout::Interleaved { .. } => true,
            Layout::Partitioned { .. } => false,
        };
        if !in_runs {
            // A customer seen before, whose run ended (or partitioned entries): from now on, one
            // owner key per entry.
            let mut owners = self.take_owners();
            owners.push(key);
            self.layout = Layout::Interleaved { owners };
        }
        self.entries.push(entry);
        self.tail = Some(i);
    }

    /// Appends an entry of owner `key` to interleaved entries, folded into the previous entry
    /// when that is the same customer's, of the same moment and kind, and the sum stays exact.
    #[inline]
    fn append_interleaved(entries: &mut Vec<Entry>, owners: &mut Vec<u64>, key: u64, entry: Entry) {
        if owners.last() == Some(&key) {
            if let Some(last) = entries.last_mut() {
                if last.absorb(&entry) {
                    return;
                }
            }
        }
        owners.push(key);
        entries.push(entry);
    }

    /// Adds one transaction.
    pub fn push(&mut self, t: &Transaction) {
        self.push_record(t.customer(), self.key(t.at()), t.amount(), t.kind());
    }

    /// Adds one record given by its parts, checked as [`Transaction::new`] checks them, its
    /// moment as this accumulator's key of it (the day number or microseconds of
    /// [`Grain`]): readers of columnar input validate a whole batch and compute its keys first,
    /// then push without building a `Transaction` or a date-time each.
    #[inline]
    pub(crate) fn push_record(
        &mut self,
        id: &CustomerId,
        key: i64,
        amount: Decimal,
        kind: TransactionKind,
    ) {
        let entry = Entry::new(key, amount, 1, kind, &mut self.wide);
        self.place(id, entry);
    }

    /// Adds the entry of a record of customer `id` (its wide magnitude, if any, already in this
    /// accumulator's table).
    #[inline]
    fn place(&mut self, id: &CustomerId, entry: Entry) {
        // Once customers interleave, a known integer id needs no slot: its owner key is the id.
        if let (Layout::Interleaved { owners }, Some(n)) = (&mut self.layout, id.as_u64()) {
            if n < SLOT_KEY && self.index.knows_int(n) {
                Self::append_interleaved(&mut self.entries, owners, n, entry);
                return;
            }
        }
        let i = self.slot(id);
        self.append(i, owner_key(id, i), entry);
    }

    /// Adds many transactions.
    pub fn extend<'a>(&mut self, transactions: impl IntoIterator<Item = &'a Transaction>) {
        let transactions = transactions.into_iter();
        // At most one entry per transaction: reserving up front avoids copying a growing array.
        self.reserve(transactions.size_hint().0);
        for t in transactions {
            self.push(t);
        }
    }

    /// Merges another accumulator (built with the same grain and return policy) into this one:
    /// one lookup per customer of the other, and its entries appended.
    ///
    /// # Errors
    ///
    /// [`SummaryError::IncompatibleMerge`] when the other accumulator has another grain or return
    /// policy.
    pub fn merge(&mut self, mut other: SummaryAccumulator) -> Result<(), SummaryError> {
        if self.grain != other.grain || self.returns != other.returns {
            return Err(SummaryError::IncompatibleMerge);
        }
        // Partitioned entries merge as interleaved ones.
        self.unpartition();
        other.unpartition();
        append_wide(&mut self.wide, &mut other.entries, &mut other.wide);
        let known = self.customers.len();
        // Once the entries interleave, a known integer id (in the direct table) needs no slot:
        // its owner key is the id, and it is not new. Only new customers, text ids and the
        // other's last customer are looked up.
        let interleaved = matches!(self.layout, Layout::Interleaved { .. })
            || matches!(other.layout, Layout::Interleaved { .. });
        let slots: Vec<usize> = other
            .customers
            .iter()
            .enumerate()
            .map(|(j, id)| {
                let known_int = interleaved
                    && self.indexed
                    && Some(j) != other.tail
                    && id
                        .as_u64()
                        .is_some_and(|n| n < SLOT_KEY && self.index.knows_int(n));
                if known_int {
                    UNLOOKED
                } else {
                    self.slot(id)
                }
            })
            .collect();
        let other_tail = other.tail.and_then(|o| slots.get(o).copied());
        match (&mut self.layout, &other.layout) {
            // Still in runs if the only customer the two share is the one a split of a grouped
            // log cuts in two: this one's last and the other's first. The other's new customers
            // got slots in its order, so their runs follow in slot order.
            (Layout::Runs { starts }, Layout::Runs { starts: theirs })
                if slots
                    .iter()
                    .enumerate()
                    .all(|(j, &i)| i >= known || (Some(i) == self.tail && j == 0)) =>
            {
                let base = self.entries.len();
                starts.extend(
                    slots
                        .iter()
                        .zip(theirs)
                        .filter(|(&i, _)| i >= known)
                        .map(|(_, &start)| base + start),
                );
                self.entries.extend(other.entries);
            }
            _ => {
                let mut owners = self.take_owners();
                let theirs = other.take_owners();
                // Integer ids are keys of their own; slots become this accumulator's.
                let remap =
                    |key: u64| match key.checked_sub(SLOT_KEY).map(|o| slots.get(o as usize)) {
                        Some(Some(&slot)) => SLOT_KEY | slot as u64,
                        _ => key,
                    };
                let entries = &mut self.entries;
                // Both copies fill fresh pages: with `parallel`, on two cores.
                join(
                    || owners.extend(theirs.into_iter().map(remap)),
                    || entries.extend(other.entries),
                );
                self.layout = Layout::Interleaved { owners };
            }
        }
        if other_tail.is_some() {
            self.tail = other_tail;
        }
        Ok(())
    }

    /// The canonical partial state: customers in arrival order and every entry with its
    /// owner's slot, grouped by slot, sorted by moment and kind, and folded where exact.
    #[cfg(any(feature = "serde", all(test, feature = "arrow")))]
    pub(crate) fn to_parts(&self) -> AccumulatorParts {
        let mut owned: Vec<(usize, Entry)> = Vec::with_capacity(self.entries.len());
        match &self.layout {
            Layout::Runs { starts } => {
                for (slot, &start) in starts.iter().enumerate() {
                    let end = starts.get(slot + 1).copied().unwrap_or(self.entries.len());
                    let run = self.entries.get(start..end).unwrap_or_default();
                    owned.extend(run.iter().map(|&e| (slot, e)));
                }
            }
            Layout::Interleaved { owners } => owned.extend(
                owners
                    .iter()
                    .zip(&self.entries)
                    .filter_map(|(&key, &e)| Some((self.slot_of_key(key)?, e))),
            ),
            Layout::Partitioned { partition, base } => {
                let (entries, values) = partition.clone().flatten();
                owned.extend(
                    values
                        .iter()
                        .zip(entries)
                        .filter_map(|(&v, e)| Some((self.slot_of_key(base.checked_add(v)?)?, e))),
                );
            }
        }
        // A wide magnitude's bits are an index, not part of the order: compare the amounts.
        owned.sort_unstable_by_key(|(slot, e)| {
            let kind_scale_sign = e.word
                & !(super::entry::MAGNITUDE_MASK
                    | (u64::from(super::entry::MAX_COUNT) << super::entry::COUNT_SHIFT));
            (*slot, e.order(), kind_scale_sign, e.magnitude(&self.wide))
        });
        let mut folded: Vec<(usize, Entry)> = Vec::with_capacity(owned.len());
        for (slot, e) in owned {
            let absorbed = match folded.last_mut() {
                Some((last, previous)) if *last == slot => previous.absorb(&e),
                _ => false,
            };
            if !absorbed {
                folded.push((slot, e));
            }
        }
        AccumulatorParts {
            version: PARTS_VERSION,
            grain: self.grain,
            returns: self.returns,
            customers: self.customers.clone(),
            owner: folded.iter().map(|(slot, _)| *slot as u64).collect(),
            moment: folded.iter().map(|(_, e)| e.key).collect(),
            count: folded.iter().map(|(_, e)| e.count()).collect(),
            amount: folded.iter().map(|(_, e)| e.amount(&self.wide)).collect(),
            is_return: folded.iter().map(|(_, e)| e.is_return()).collect(),
        }
    }

    /// The accumulator of a partial state read from outside, every part checked.
    ///
    /// # Errors
    ///
    /// [`SummaryError::InvalidAccumulatorState`] naming the field and position at fault: another
    /// format version, columns of different lengths, a customer twice or without entries, an
    /// owner out of range, a moment outside chrono's range, a count outside 1 to 255, a negative
    /// amount.
    #[cfg(feature = "serde")]
    pub(crate) fn from_parts(parts: AccumulatorParts) -> Result<Self, SummaryError> {
        let invalid =
            |field, index, rule| SummaryError::InvalidAccumulatorState { field, index, rule };
        if parts.version != PARTS_VERSION {
            return Err(invalid("version", 0, "is not a version this crate reads"));
        }
        let n = parts.owner.len();
        let lengths = [
            ("moment", parts.moment.len()),
            ("count", parts.count.len()),
            ("amount", parts.amount.len()),
            ("is_return", parts.is_return.len()),
        ];
        if let Some(&(field, len)) = lengths.iter().find(|(_, len)| *len != n) {
            return Err(invalid(field, len.min(n), "has not one value per owner"));
        }
        let mut acc = SummaryAccumulator::new(parts.grain, parts.returns);
        for (k, id) in parts.customers.iter().enumerate() {
            if acc.slot(id) != k {
                return Err(invalid("customers", k, "repeats an earlier customer"));
            }
        }
        let mut has_entries = vec![false; parts.customers.len()];
        acc.reserve(n);
        let rows = parts.owner.iter().zip(&parts.moment).zip(&parts.count);
        let rows = rows.zip(&parts.amount).zip(&parts.is_return).enumerate();
        for (k, ((((&owner, &key), &count), &amount), &is_return)) in rows {
            let slot = usize::try_from(owner)
                .ok()
                .filter(|&i| i < has_entries.len());
            let (Some(slot), Some(id)) = (slot, slot.and_then(|i| parts.customers.get(i))) else {
                return Err(invalid("owner", k, "is not the index of a customer"));
            };
            let in_range = match parts.grain {
                Grain::Day => i32::try_from(key)
                    .ok()
                    .and_then(NaiveDate::from_num_days_from_ce_opt)
                    .is_some(),
                Grain::Timestamp => chrono::DateTime::from_timestamp_micros(key).is_some(),
            };
            if !in_range {
                return Err(invalid("moment", k, "is outside chrono's range of dates"));
            }
            if !(1..=super::entry::MAX_COUNT).contains(&count) {
                return Err(invalid("count", k, "is not between 1 and 255"));
            }
            if crate::records::is_negative_amount(amount) {
                return Err(invalid("amount", k, "is negative"));
            }
            let kind = if is_return {
                TransactionKind::Return
            } else {
                TransactionKind::Purchase
            };
            let entry = Entry::new(key, amount, count, kind, &mut acc.wide);
            if let Some(seen) = has_entries.get_mut(slot) {
                *seen = true;
            }
            acc.append(slot, owner_key(id, slot), entry);
        }
        if let Some(k) = has_entries.iter().position(|&seen| !seen) {
            return Err(invalid("customers", k, "has no entries"));
        }
        Ok(acc)
    }

    /// Number of customers seen so far.
    pub fn customers_seen(&self) -> usize {
        self.customers.len()
    }

    /// The earliest moment of the transactions added (purchases and returns), at the
    /// accumulator's grain (a day's midnight at [`Grain::Day`]); `None` when there are none. A
    /// host checks its as-of dates against it, for instance to refuse one before all the data.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::{CustomerId, Grain, ReturnPolicy, SummaryAccumulator, Transaction};
    /// use rust_decimal::Decimal;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
    /// let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    /// assert_eq!(acc.first_moment(), None);
    /// acc.push(&Transaction::purchase(CustomerId::from(3u64), d(3, 5)?, Decimal::ONE)?);
    /// acc.push(&Transaction::refund(CustomerId::from(4u64), d(2, 1)?, Decimal::ONE)?);
    /// assert_eq!(acc.first_moment().map(|m| m.date()), Some(d(2, 1)?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn first_moment(&self) -> Option<NaiveDateTime> {
        // Partitioned entries live in the partition, not in `entries`.
        let key = match &self.layout {
            Layout::Partitioned { partition, .. } => partition.entries().map(|e| e.key).min(),
            _ => self.entries.iter().map(|e| e.key).min(),
        }?;
        moment_of_key(self.grain, key)
    }

    /// The customers in the order they first appeared (after a merge: this accumulator's, then
    /// the new ones of the merged accumulator, in their order).
    pub fn arrival_order(&self) -> impl Iterator<Item = &CustomerId> {
        self.customers.iter()
    }

    /// Computes the summaries at the options' as-of date.
    ///
    /// # Errors
    ///
    /// [`SummaryError::HoldoutBeforeAsOf`] when the holdout ends on or before the as-of date;
    /// [`SummaryError::ReturnWithoutPurchase`] for a calibration return with no purchase at or
    /// before it to net against (under [`ReturnPolicy::NetAgainstPurchase`]);
    /// [`SummaryError::DateOutOfRange`] or [`SummaryError::SpendOverflow`] at the limits of dates
    /// and decimals.
    pub fn finish(&self, options: &SummaryOptions) -> Result<Summaries, SummaryError> {
        let next_day = |d: NaiveDate| {
            d.checked_add_days(Days::new(1))
                .ok_or(SummaryError::DateOutOfRange(d))
        };
        let as_of_end = next_day(options.as_of)?.and_time(chrono::NaiveTime::MIN);
        let end = match options.holdout_end {
            Some(h) if h <= options.as_of => {
                return Err(SummaryError::HoldoutBeforeAsOf {
                    as_of: options.as_of,
                    holdout_end: h,
                })
            }
            Some(h) => Some(next_day(h)?.and_time(chrono::NaiveTime::MIN)),
            None => None,
        };
        let folder = Folder {
            grain: self.grain,
            returns: self.returns,
            wide: &self.wide,
            cuts: Cuts {
                calibration: self.key(as_of_end),
                end: end.map(|e| self.key(e)).unwrap_or(self.key(as_of_end)),
                age_origin: match self.grain {
                    Grain::Day => i64::from(options.as_of.num_days_from_ce()),
                    Grain::Timestamp => self.key(as_of_end),
                },
            },
            options,
        };
        let template = Summaries {
            options: *options,
            grain: self.grain,
            customers: Vec::new(),
            first_purchase_after_as_of: 0,
            without_purchase: 0,
            transactions_after_end: 0,
        };
        // Visiting customers in id order makes the output, and the first error, order-free.
        match &self.layout {
            Layout::Runs { starts } => self.summarize_runs(starts, &folder, template),
            Layout::Interleaved { owners } => self.summarize_interleaved(owners, &folder, template),
            Layout::Partitioned { partition, base } => {
                summarize_partition(partition, template, &folder, self.customers.len(), |v| {
                    Some(Cow::Owned(CustomerId::from(base + v)))
                })
            }
        }
    }

    /// The slot of the customer of owner key `key`.
    fn slot_of_key(&self, key: u64) -> Option<usize> {
        match key.checked_sub(SLOT_KEY) {
            Some(slot) => usize::try_from(slot).ok(),
            None => {
                let id = CustomerId::from(key);
                if self.indexed {
                    self.index.get(&id)
                } else {
                    self.customers.binary_search(&id).ok()
                }
            }
        }
    }

    /// Summarises a log grouped by customer, every customer's entries one run in place, the
    /// runs in slot order.
    fn summarize_runs(
        &self,
        starts: &[usize],
        folder: &Folder<'_>,
        template: Summaries,
    ) -> Result<Summaries, SummaryError> {
        // Customers that arrived in ascending id order (no index built) are in id order already.
        let order = self.indexed.then(|| self.index.slots_in_id_order());
        let n = self.customers.len();
        let customer = |k: usize| -> Option<(&CustomerId, &[Entry])> {
            let slot = match &order {
                Some(order) => *order.get(k)?,
                None => k,
            };
            let start = *starts.get(slot)?;
            let end = starts.get(slot + 1).copied().unwrap_or(self.entries.len());
            Some((self.customers.get(slot)?, self.entries.get(start..end)?))
        };
        let chunk = n.div_ceil(threads()).max(1);
        let pieces: Vec<(Range<usize>, usize)> = (0..n.div_ceil(chunk))
            .map(|k| {
                let positions = k * chunk..((k + 1) * chunk).min(n);
                let len = positions.len();
                (positions, len)
            })
            .collect();
        summarize_pieces(template, folder.grain, pieces, |positions, scratch, out| {
            for k in positions {
                if let Some((id, entries)) = customer(k) {
                    folder.customer(id, entries, scratch, out)?;
                }
            }
            Ok(())
        })
    }

    /// Summarises a log whose customers interleave (a log in date order, say): the entries are
    /// partitioned by customer (integer ids over a range not much wider than their number: by
    /// id; others: by position in id order, found by slot) and each customer's run is folded
    /// as it is formed, in id order.
    fn summarize_interleaved(
        &self,
        owners: &[u64],
        folder: &Folder<'_>,
        template: Summaries,
    ) -> Result<Summaries, SummaryError> {
        let n = self.customers.len();
        let (min, max, slot_keys) = owner_bounds(owners);
        let span = max.saturating_sub(min).saturating_add(1);
        if !slot_keys && span <= dense_span(n) as u64 {
            let partition = partition(&self.entries, span, threads(), |k| {
                owners.get(k).map_or(0, |&key| key - min)
            });
            return summarize_partition(&partition, template, folder, n, |v| {
                Some(Cow::Owned(CustomerId::from(min + v)))
            });
        }
        let order = self.indexed.then(|| self.index.slots_in_id_order());
        let mut position = vec![0usize; n];
        match &order {
            Some(order) => {
                for (k, &slot) in order.iter().enumerate() {
                    if let Some(p) = position.get_mut(slot) {
                        *p = k;
                    }
                }
            }
            None => position.iter_mut().enumerate().for_each(|(k, p)| *p = k),
        }
        let partition = partition(&self.entries, n as u64, threads(), |k| {
            let slot = owners
                .get(k)
                .and_then(|&key| self.slot_of_key(key))
                .unwrap_or(0);
            position.get(slot).copied().unwrap_or(0) as u64
        });
        summarize_partition(&partition, template, folder, n, |v| {
            let v = usize::try_from(v).ok()?;
            let slot = match &order {
                Some(order) => *order.get(v)?,
                None => v,
            };
            self.customers.get(slot).map(Cow::Borrowed)
        })
    }
    /// Accumulates a slice of transactions on all cores (feature `parallel`): chunks are
    /// accumulated in parallel and merged in order, so the result, customers' arrival order
    /// included, equals that of [`extend`](Self::extend) on the whole slice.
    ///
    /// # Errors
    ///
    /// None in practice: the `Result` is that of [`merge`](Self::merge), and every part has the
    /// same grain and return policy.
    #[cfg(feature = "parallel")]
    pub fn from_slice_parallel(
        grain: Grain,
        returns: ReturnPolicy,
        transactions: &[Transaction],
    ) -> Result<Self, SummaryError> {
        use rayon::prelude::*;
        let chunk = transactions
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        let ints = sample_int_ids(transactions);
        if let Some(sample) = ints.filter(|s| s.interleaved) {
            if let Some(acc) = Self::partitioned_ints(grain, returns, transactions, sample) {
                return Ok(acc);
            }
            if let Some(acc) = Self::from_interleaved_ints(grain, returns, transactions, sample) {
                return Ok(acc);
            }
        }
        if ints.is_none() && sample_descends(transactions) {
            // Customers interleave and some ids are text: every part would index nearly every
            // customer, hashing each text once per part, and the merge would look each up
            // again; one pass does less work than two cores do that way.
            let mut acc = SummaryAccumulator::new(grain, returns);
            acc.extend(transactions);
            return Ok(acc);
        }
        let ints = ints.map(|s| (s.low, s.high));
        let parts: Vec<SummaryAccumulator> = transactions
            .par_chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                let mut acc = SummaryAccumulator::new(grain, returns);
                // A part that starts amid the log meets most customers at once: a table over
                // the ids spares hashing those beyond a table grown with the customers.
                if let Some((low, high)) = ints {
                    acc.index
                        .reserve_ints(low, high, part.len().max(dense_span(0)));
                }
                // The first part receives the others' entries: room for all of them up front
                // spares a reallocation (a copy and fresh pages) at each merge.
                acc.reserve(if k == 0 {
                    transactions.len()
                } else {
                    part.len()
                });
                acc.extend(part);
                acc
            })
            .collect();
        let mut parts = parts.into_iter();
        let mut acc = parts
            .next()
            .unwrap_or_else(|| SummaryAccumulator::new(grain, returns));
        for part in parts {
            acc.merge(part)?;
        }
        Ok(acc)
    }

    /// [`from_slice_parallel`](Self::from_slice_parallel) for a log whose customers interleave
    /// (in date order, say) and whose ids are integers: each core turns its part of the log
    /// into entries and owner keys (the ids), with no index; then one core finds the customers
    /// in order of arrival from the owner keys (a bit per known id, in cache, for most) while
    /// the other joins the parts' entries. The same accumulator as one pass gives, but for
    /// records of one customer, moment and kind on either side of a cut between parts, which
    /// stay two entries. `None` if an id is not an integer below `SLOT_KEY`.
    #[cfg(feature = "parallel")]
    fn from_interleaved_ints(
        grain: Grain,
        returns: ReturnPolicy,
        transactions: &[Transaction],
        sample: IntSample,
    ) -> Option<Self> {
        use rayon::prelude::*;
        let total = transactions.len();
        let chunk = total.div_ceil(threads()).max(1);
        let keys = SummaryAccumulator::new(grain, returns);
        let parts: Option<Vec<IntPart>> = transactions
            .par_chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                // The first part receives the others: room for them up front.
                let room = if k == 0 { total } else { part.len() };
                let (mut entries, mut owners) =
                    (Vec::with_capacity(room), Vec::with_capacity(room));
                let mut wide = Vec::new();
                for t in part {
                    let n = t.customer().as_u64().filter(|&n| n < SLOT_KEY)?;
                    let entry = Entry::new(keys.key(t.at()), t.amount(), 1, t.kind(), &mut wide);
                    Self::append_interleaved(&mut entries, &mut owners, n, entry);
                }
                Some((entries, owners, wide))
            })
            .collect();
        let mut parts = parts?.into_iter();
        let (mut entries, mut owners, mut wide) = parts.next().unwrap_or_default();
        let mut rest_entries = Vec::new();
        let mut rest_owners = Vec::new();
        for (mut part_entries, part_owners, mut part_wide) in parts {
            append_wide(&mut wide, &mut part_entries, &mut part_wide);
            rest_entries.push(part_entries);
            rest_owners.push(part_owners);
        }
        let mut acc = keys;
        acc.index
            .reserve_ints(sample.low, sample.high, total.max(dense_span(0)));
        let (runs, ()) = rayon::join(
            || {
                let all =
                    std::iter::once(owners.as_slice()).chain(rest_owners.iter().map(Vec::as_slice));
                acc.arrive(all)
            },
            || {
                for part in rest_entries {
                    entries.extend(part);
                }
            },
        );
        acc.layout = match runs {
            Some(starts) => Layout::Runs { starts },
            None => {
                for part in rest_owners {
                    owners.extend(part);
                }
                Layout::Interleaved { owners }
            }
        };
        acc.entries = entries;
        acc.wide = wide;
        Some(acc)
    }

    /// [`from_slice_parallel`](Self::from_slice_parallel) for a log whose customers interleave
    /// (in date order, say) and whose ids are integers over a range not much wider than the
    /// log: each core counts its chunks' ids by bucket of consecutive ids and notes which ids
    /// first appear there, then writes each transaction's entry straight into its bucket (the
    /// partition `finish` reads), while one core gives the customers slots in order of
    /// arrival. No array of all the entries or owner keys is written, nor copied. The same
    /// summaries and arrival order as one pass; every transaction keeps an entry of its own.
    /// `None` if an id is not an integer below `SLOT_KEY` or the ids span too wide a range.
    #[cfg(feature = "parallel")]
    fn partitioned_ints(
        grain: Grain,
        returns: ReturnPolicy,
        transactions: &[Transaction],
        sample: IntSample,
    ) -> Option<Self> {
        let total = transactions.len();
        // Two chunks a core: one core also gives the customers their slots meanwhile. (Each
        // chunk notes its own first appearances: more chunks, more of those to look at.)
        let chunks: Vec<&[Transaction]> = transactions
            .chunks(total.div_ceil(2 * threads()).max(1))
            .collect();
        let last = transactions
            .last()
            .and_then(|t| t.customer().as_u64())
            .filter(|&n| n < SLOT_KEY);
        Self::partitioned_rows(grain, returns, &chunks, total, last, sample)
    }

    /// [`partitioned_ints`](Self::partitioned_ints) of any chunks of rows (`total` of them, the
    /// last of customer `last`), in order.
    #[cfg(feature = "parallel")]
    fn partitioned_rows<C: IntRows + ?Sized>(
        grain: Grain,
        returns: ReturnPolicy,
        chunks: &[&C],
        total: usize,
        last: Option<u64>,
        sample: IntSample,
    ) -> Option<Self> {
        use rayon::prelude::*;
        let limit = total.max(dense_span(0)) as u64;
        // The sample's range with a margin first; the ids' own range if some lie outside it.
        let margin = (sample.high - sample.low) / 8 + 1024;
        if sample.high >= SLOT_KEY {
            return None;
        }
        let mut low = sample.low.saturating_sub(margin);
        let mut high = sample.high.saturating_add(margin).min(SLOT_KEY - 1);
        let (counts, buckets) = loop {
            let span = (high - low).checked_add(1).filter(|&s| s <= limit)?;
            let buckets = Buckets::new(span);
            let counts: Vec<IdCount> = chunks
                .par_iter()
                .map(|chunk| IdCount::of(*chunk, low, span, &buckets))
                .collect::<Option<_>>()?;
            let min = counts.iter().map(|c| c.min).min().unwrap_or(low);
            let max = counts.iter().map(|c| c.max).max().unwrap_or(high);
            if low <= min && max <= high {
                break (counts, buckets);
            }
            (low, high) = (min, max);
        };
        let mut acc = SummaryAccumulator::new(grain, returns);
        acc.index.reserve_ints(low, high, limit as usize);
        // At most every id of the range, and every first appearance in a chunk, is a customer.
        let arrivals: usize = counts.iter().map(|c| c.arrivals.len()).sum();
        acc.customers
            .reserve(arrivals.min(usize::try_from(high - low + 1).unwrap_or(usize::MAX)));
        let (parts, ()) = rayon::join(
            || {
                counts
                    .par_iter()
                    .zip(chunks)
                    .map(|(count, chunk)| {
                        let mut wide = Vec::new();
                        let mut rows = chunk.entries(grain, &mut wide);
                        let part = buckets.fill(count.starts.clone(), chunk.rows(), |_| {
                            rows.next()
                                .map_or((0, Entry { key: 0, word: 0 }), |(n, entry)| {
                                    (n.saturating_sub(low), entry)
                                })
                        });
                        drop(rows);
                        (part, wide)
                    })
                    .collect::<Vec<_>>()
            },
            || {
                for &n in counts.iter().flat_map(|c| &c.arrivals) {
                    acc.admit(n);
                }
            },
        );
        let (parts, wides): (Vec<_>, Vec<_>) = parts.into_iter().unzip();
        let mut partition = buckets.partition(parts);
        for (entries, mut wide) in partition.chunk_entries_mut().zip(wides) {
            append_wide(&mut acc.wide, entries, &mut wide);
        }
        acc.layout = Layout::Partitioned {
            partition,
            base: low,
        };
        acc.tail = last.map(|n| acc.slot(&CustomerId::from(n)));
        Some(acc)
    }

    /// The name of the layout of the entries, for tests of which path a log took.
    #[cfg(all(test, feature = "arrow", feature = "parallel"))]
    pub(crate) fn layout_name(&self) -> &'static str {
        match self.layout {
            Layout::Runs { .. } => "runs",
            Layout::Interleaved { .. } => "interleaved",
            Layout::Partitioned { .. } => "partitioned",
        }
    }

    /// Accumulates batches of transactions of integer ids, read and checked, in order: the
    /// same summaries and arrival order as pushing their rows one by one. With `parallel`, a
    /// log whose customers interleave (in date order, say) over a dense range of ids is
    /// partitioned by customer on all cores as it is read, as
    /// [`from_slice_parallel`](Self::from_slice_parallel) does for transactions; anything else
    /// is pushed row by row.
    #[cfg(feature = "arrow")]
    pub(crate) fn from_int_batches(
        grain: Grain,
        returns: ReturnPolicy,
        batches: &[&IntBatch],
    ) -> Self {
        #[cfg(feature = "parallel")]
        {
            let total: usize = batches.iter().map(|b| b.len()).sum();
            let sample = sample_ids(total, batches.ids());
            if let Some(sample) = sample.filter(|s| s.interleaved) {
                // Two chunks of consecutive batches a core, of about as many rows.
                let per_chunk = total.div_ceil(2 * threads()).max(1);
                let mut chunks: Vec<&[&IntBatch]> = Vec::new();
                let (mut from, mut rows) = (0, 0);
                for (k, b) in batches.iter().enumerate() {
                    rows += b.len();
                    if rows >= per_chunk {
                        chunks.push(batches.get(from..=k).unwrap_or(&[]));
                        (from, rows) = (k + 1, 0);
                    }
                }
                if from < batches.len() {
                    chunks.push(batches.get(from..).unwrap_or(&[]));
                }
                let last = batches.iter().rev().find_map(|b| b.last_id());
                if let Some(acc) =
                    Self::partitioned_rows(grain, returns, &chunks, total, last, sample)
                {
                    return acc;
                }
            }
        }
        let mut acc = SummaryAccumulator::new(grain, returns);
        for batch in batches {
            acc.push_int_batch(batch);
        }
        acc
    }

    /// Pushes the rows of a batch of integer ids, in order.
    #[cfg(feature = "arrow")]
    pub(crate) fn push_int_batch(&mut self, batch: &IntBatch) {
        self.reserve(batch.len());
        // The batch's wide magnitudes move to this accumulator's table as its rows are placed
        // (`place` does not read the table meanwhile).
        let mut wide = std::mem::take(&mut self.wide);
        for (n, entry) in [batch].entries(self.grain, &mut wide) {
            self.place(&CustomerId::from(n), entry);
        }
        self.wide = wide;
    }

    /// Gives integer id `n` (below `SLOT_KEY`) a slot, if it has none: whether it is new.
    #[cfg(feature = "parallel")]
    fn admit(&mut self, n: u64) -> bool {
        // A known id in the table needs no lookup.
        if self.indexed && self.index.knows_int(n) {
            return false;
        }
        let before = self.customers.len();
        self.slot(&CustomerId::from(n)) == before
    }

    /// Takes the customers of entries owned by `owners` (integer ids below `SLOT_KEY`, in
    /// entry order) in order of arrival, and the slot of the last entry. The starts of the
    /// customers' runs if each customer's entries are one run, else `None`.
    #[cfg(feature = "parallel")]
    fn arrive<'o>(&mut self, owners: impl Iterator<Item = &'o [u64]>) -> Option<Vec<usize>> {
        let mut starts = Some(Vec::new());
        let mut previous = None;
        let mut at = 0;
        for part in owners {
            for &n in part {
                at += 1;
                if previous == Some(n) {
                    continue;
                }
                previous = Some(n);
                // A customer seen before, whose run ended, ends the runs.
                match (&mut starts, self.admit(n)) {
                    (Some(starts), true) => starts.push(at - 1),
                    (_, true) => {}
                    (_, false) => starts = None,
                }
            }
        }
        self.tail = previous.map(|n| self.slot(&CustomerId::from(n)));
        starts
    }
}

/// The canonical partial state (see [`SummaryAccumulator`]'s section on it).
#[cfg(feature = "serde")]
impl serde::Serialize for SummaryAccumulator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_parts(), s)
    }
}

/// Reads the canonical partial state, checking every part (an error, never a panic, on
/// inconsistent input).
#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for SummaryAccumulator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts: AccumulatorParts = serde::Deserialize::deserialize(d)?;
        SummaryAccumulator::from_parts(parts).map_err(serde::de::Error::custom)
    }
}

/// Appends the table `theirs` of wide magnitudes to `wide`, and points the wide ones of
/// `entries` (which index `theirs`) at their new places.
fn append_wide(wide: &mut Vec<u128>, entries: &mut [Entry], theirs: &mut Vec<u128>) {
    if theirs.is_empty() {
        return;
    }
    let offset = wide.len() as u64;
    for e in entries.iter_mut().filter(|e| e.word & WIDE_BIT != 0) {
        e.word += offset;
    }
    wide.append(theirs);
}

/// One chunk of a log of integer ids, counted: where each bucket's entries begin (and end),
/// the ids that first appear in the chunk, in order, and the range of its ids.
#[cfg(feature = "parallel")]
struct IdCount {
    starts: Vec<usize>,
    arrivals: Vec<u64>,
    min: u64,
    max: u64,
}

#[cfg(feature = "parallel")]
impl IdCount {
    /// Counts `chunk`'s ids from `low` by bucket, the ids from `low` up to `span` of them;
    /// `None` if an id is not an integer below `SLOT_KEY`. (Ids out of that range make the
    /// counts wrong, and the range tells.)
    fn of<C: IntRows + ?Sized>(
        chunk: &C,
        low: u64,
        span: u64,
        buckets: &Buckets,
    ) -> Option<IdCount> {
        // One bit an id of the range: whether it appeared in the chunk yet.
        let mut seen = vec![0u64; usize::try_from(span.div_ceil(64)).ok()?];
        let (mut min, mut max, mut valid) = (u64::MAX, 0, true);
        let mut arrivals = Vec::new();
        let mut ids = chunk.ids();
        let starts = buckets.starts(chunk.rows(), |_| {
            let Some(n) = ids.next().flatten() else {
                valid = false;
                return u64::MAX;
            };
            (min, max) = (min.min(n), max.max(n));
            let v = n.wrapping_sub(low);
            if let Some(word) = seen.get_mut(usize::try_from(v / 64).unwrap_or(usize::MAX)) {
                let bit = 1 << (v % 64);
                if *word & bit == 0 {
                    *word |= bit;
                    arrivals.push(n);
                }
            }
            v
        });
        valid.then_some(IdCount {
            starts,
            arrivals,
            min,
            max,
        })
    }
}

/// The number of pieces work is split into: one per core with `parallel`, else one.
fn threads() -> usize {
    #[cfg(feature = "parallel")]
    return rayon::current_num_threads().max(1);
    #[cfg(not(feature = "parallel"))]
    1
}

/// One part of a log of integer ids, as one core turns it into entries: the entries, their
/// owner keys (the ids) and the part's wide magnitudes.
#[cfg(feature = "parallel")]
type IntPart = (Vec<Entry>, Vec<u64>, Vec<u128>);

/// What a sample of a log's customer ids says: the range of its integer ids, and whether they
/// look interleaved.
#[cfg(feature = "parallel")]
#[derive(Clone, Copy)]
struct IntSample {
    low: u64,
    high: u64,
    /// More than one in eight consecutive samples descend: not a log grouped by customer in
    /// id order (the usual grouped log), likely one in date order.
    interleaved: bool,
}

/// The integer ids of about 4,096 transactions spread over the log, if all of those are
/// integer ids.
#[cfg(feature = "parallel")]
fn sample_int_ids(transactions: &[Transaction]) -> Option<IntSample> {
    sample_ids(
        transactions.len(),
        transactions.iter().map(|t| t.customer().as_u64()),
    )
}

/// [`sample_int_ids`] of the `len` ids `ids`.
#[cfg(feature = "parallel")]
fn sample_ids(len: usize, ids: impl Iterator<Item = Option<u64>>) -> Option<IntSample> {
    let step = (len / 4096).max(1);
    let mut ids = ids.step_by(step);
    let first = ids.next()??;
    let (mut low, mut high, mut previous) = (first, first, first);
    let (mut samples, mut descents) = (1usize, 0usize);
    for n in ids {
        let n = n?;
        low = low.min(n);
        high = high.max(n);
        samples += 1;
        descents += usize::from(n < previous);
        previous = n;
    }
    Some(IntSample {
        low,
        high,
        interleaved: descents * 8 > samples,
    })
}

/// Whether more than one in eight consecutive ids of about 4,096 transactions spread over the
/// log descend (in id order): likely a log whose customers interleave.
#[cfg(feature = "parallel")]
fn sample_descends(transactions: &[Transaction]) -> bool {
    let step = (transactions.len() / 4096).max(1);
    let ids: Vec<&CustomerId> = transactions
        .iter()
        .step_by(step)
        .map(Transaction::customer)
        .collect();
    let descents = ids
        .windows(2)
        .filter(|w| matches!(w, [a, b] if b < a))
        .count();
    descents * 8 > ids.len()
}

/// The smallest and largest owner key, and whether any is a slot key (on all cores with
/// `parallel`).
fn owner_bounds(owners: &[u64]) -> (u64, u64, bool) {
    let fold = |(min, max, slot_keys): (u64, u64, bool), &key: &u64| {
        (min.min(key), max.max(key), slot_keys || key >= SLOT_KEY)
    };
    let empty = (u64::MAX, 0, false);
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let chunk = owners.len().div_ceil(threads()).max(1);
        owners
            .par_chunks(chunk)
            .map(|part| part.iter().fold(empty, fold))
            .reduce(|| empty, |a, b| (a.0.min(b.0), a.1.max(b.1), a.2 || b.2))
    }
    #[cfg(not(feature = "parallel"))]
    owners.iter().fold(empty, fold)
}

/// Summarises the customers of a partition in id order: `id_of(v)` is the customer of value
/// `v` (`None`: none, whose entries are skipped), `customers` their number.
fn summarize_partition<'c>(
    partition: &Partition,
    template: Summaries,
    folder: &Folder<'_>,
    customers: usize,
    id_of: impl Fn(u64) -> Option<Cow<'c, CustomerId>> + Sync,
) -> Result<Summaries, SummaryError> {
    let ranges = partition.bucket_ranges(threads());
    let buckets = partition.buckets().max(1);
    // Room for each piece's share of the customers (more than enough: what is reserved and
    // never written costs no memory).
    let pieces: Vec<(Range<usize>, usize)> = ranges
        .into_iter()
        .map(|r| {
            let share = customers.saturating_mul(r.len()).div_ceil(buckets);
            (r, share + share / 4 + 64)
        })
        .collect();
    summarize_pieces(template, folder.grain, pieces, |buckets, scratch, out| {
        let mut runs = RunScratch::default();
        partition.runs(buckets, &mut runs, |v, entries| match id_of(v) {
            Some(id) => folder.customer(&id, entries, scratch, out),
            None => Ok(()),
        })
    })
}

/// Summarises `pieces` (consecutive parts of the id order, each with room for its customers)
/// with `summarize` into one [`Summaries`] in order; with `parallel`, the pieces on all cores,
/// the first error in id order being the one reported.
fn summarize_pieces<P: Send>(
    template: Summaries,
    grain: Grain,
    pieces: Vec<(P, usize)>,
    summarize: impl Fn(P, &mut Scratch, &mut Summaries) -> Result<(), SummaryError> + Sync,
) -> Result<Summaries, SummaryError> {
    let total: usize = pieces.iter().map(|(_, room)| room).sum();
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let parts: Vec<Result<Summaries, SummaryError>> = pieces
            .into_par_iter()
            .enumerate()
            .map(|(k, (piece, room))| {
                // The first part becomes the output: it gets room for everyone.
                let mut out = template.empty_like(if k == 0 { total } else { room });
                summarize(piece, &mut Scratch::new(grain), &mut out).map(|()| out)
            })
            .collect();
        let mut parts = parts.into_iter();
        let mut out = match parts.next() {
            Some(first) => first?,
            None => template,
        };
        for part in parts {
            out.absorb(part?);
        }
        Ok(out)
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut out = template.empty_like(total);
        let mut scratch = Scratch::new(grain);
        for (piece, _) in pieces {
            summarize(piece, &mut scratch, &mut out)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::TransactionKind;
    use crate::summary::summaries::CustomerSummary;
    use crate::summary::test_support::{buy, day, summarize};
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    #[test]
    fn customers_returning_after_ascending_arrival_switch_to_the_index() {
        // Ids 1, 2, 3 arrive in ascending order (no index), then 1 and 2 return.
        let log = [
            buy(1, 1, 1, 100),
            buy(2, 1, 2, 100),
            buy(3, 1, 3, 100),
            buy(1, 1, 10, 300),
            buy(2, 1, 11, 500),
            buy(4, 1, 12, 100),
        ];
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(&log);
        let ids: Vec<u64> = acc.arrival_order().filter_map(CustomerId::as_u64).collect();
        assert_eq!(ids, [1, 2, 3, 4]);
        let s = acc
            .finish(&SummaryOptions::new(day(1, 31), TimeUnit::DAYS))
            .unwrap();
        let freq: Vec<u32> = s.iter().map(CustomerSummary::frequency).collect();
        assert_eq!(freq, [1, 1, 0, 0]);
        assert_eq!(s.customers()[1].monetary_value(), Decimal::new(500, 2));
    }

    #[test]
    fn wide_amounts_and_long_runs_of_one_day_survive_splits_and_merges() {
        // 300 records of one day (more than an entry counts), sums past 48 bits and wide
        // amounts in every part, and customers spanning the splits.
        let at = |d: u32| day(1, d).and_hms_opt(12, 0, 0).unwrap();
        let wide = |id: u64, d: u32| {
            Decimal::from_i128_with_scale(i128::from(id * 10 + u64::from(d)) << 70, 2)
        };
        let mut log = Vec::new();
        for id in 1..=3u64 {
            for _ in 0..300 {
                log.push(buy(id, 1, 1, 1 << 40));
            }
            for d in 2..6 {
                let amount = if d % 2 == 0 {
                    wide(id, d)
                } else {
                    Decimal::new(5, 1)
                };
                let t = Transaction::new(
                    CustomerId::from(id),
                    at(d),
                    amount,
                    TransactionKind::Purchase,
                );
                log.push(t.unwrap());
            }
        }
        let opts = SummaryOptions::new(day(1, 31), TimeUnit::DAYS);
        let whole = summarize(&log, opts);
        for cuts in [[1, 400, 700], [299, 301, 604], [0, 5, 907]] {
            let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
            let mut from = 0;
            for to in cuts.into_iter().chain([log.len()]) {
                let mut part =
                    SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
                part.extend(&log[from..to]);
                acc.merge(part).unwrap();
                from = to;
            }
            assert_eq!(acc.finish(&opts).unwrap(), whole, "split at {cuts:?}");
        }
        let c = whole.get(&CustomerId::from(2u64)).unwrap();
        assert_eq!(c.orders(), 304);
        assert_eq!(c.frequency(), 4);
        let first = Decimal::new(300 << 40, 2);
        let repeat = wide(2, 2) + wide(2, 4) + Decimal::ONE;
        assert_eq!(c.total_spend(), first + repeat);
        assert_eq!(c.repeat_spend(), repeat);
    }

    #[test]
    fn grouped_logs_in_any_id_order_and_merges_that_break_the_runs_agree() {
        let log: Vec<Transaction> = (1..=6u64)
            .flat_map(|id| (1..=3).map(move |d| buy(id, 1, d + id as u32, 100 * d as i64 + 7)))
            .collect();
        let opts = SummaryOptions::new(day(1, 31), TimeUnit::DAYS);
        let whole = summarize(&log, opts);
        assert_eq!(whole.len(), 6);
        // Runs of customers in descending id order: the runs are read through the id index.
        let descending: Vec<Transaction> = log.chunks(3).rev().flatten().cloned().collect();
        assert_eq!(summarize(&descending, opts), whole);
        // Two parts that share a customer other than the split one: the merge interleaves them.
        let part = |range: &[usize]| {
            let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
            acc.extend(range.iter().map(|&k| &log[k]));
            acc
        };
        let mut left = part(&[0, 1, 3, 4, 5, 6, 7, 8]);
        left.merge(part(&[2, 9, 10, 11, 12, 13, 14, 15, 16, 17]))
            .unwrap();
        assert!(matches!(left.layout, Layout::Interleaved { .. }));
        assert_eq!(left.finish(&opts).unwrap(), whole);
        // A split of the grouped log inside a customer's run keeps the runs.
        let mut left = part(&(0..7).collect::<Vec<_>>());
        left.merge(part(&(7..18).collect::<Vec<_>>())).unwrap();
        assert!(matches!(left.layout, Layout::Runs { .. }));
        assert_eq!(left.finish(&opts).unwrap(), whole);
    }

    #[test]
    fn merging_accumulators_of_different_grains_is_an_error() {
        let mut a = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        let b = SummaryAccumulator::new(Grain::Timestamp, ReturnPolicy::Ignore);
        assert_eq!(a.merge(b).unwrap_err(), SummaryError::IncompatibleMerge);
    }

    /// `log` shuffled (xorshift from `seed`) and `log` sorted by date.
    fn reordered(log: &[Transaction], seed: u64) -> [Vec<Transaction>; 2] {
        let mut shuffled = log.to_vec();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut by_date = log.to_vec();
        by_date.sort_by_key(Transaction::at);
        [shuffled, by_date]
    }

    /// Summaries and arrival order of `log` fed in one pass.
    fn one_pass(
        log: &[Transaction],
        opts: &SummaryOptions,
    ) -> (Result<Summaries, SummaryError>, Vec<CustomerId>) {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(log);
        (acc.finish(opts), acc.arrival_order().cloned().collect())
    }

    /// The customers of `log` in the order they first appear.
    fn first_appearances(log: &[Transaction]) -> Vec<CustomerId> {
        let mut seen = Vec::new();
        for t in log {
            if !seen.contains(t.customer()) {
                seen.push(t.customer().clone());
            }
        }
        seen
    }

    #[test]
    fn text_ids_interleaved_shared_or_not_summarise_as_when_grouped() {
        // Three customers with text ids, in date order: one's records share one text (as from
        // an interned ledger), the others' each have their own copy (as from a parser).
        let shared = CustomerId::new("acme-7").unwrap();
        let id = |k: usize| match k {
            0 => shared.clone(),
            1 => CustomerId::new("zeta").unwrap(),
            _ => CustomerId::new("acme-70").unwrap(),
        };
        let mut log = Vec::new();
        for d in 1..=9u32 {
            for k in 0..3 {
                let at = day(1, d + k as u32).and_hms_opt(9, 0, 0).unwrap();
                let amount = Decimal::new(100 * i64::from(d) + k as i64, 2);
                log.push(Transaction::new(id(k), at, amount, TransactionKind::Purchase).unwrap());
            }
        }
        log.sort_by_key(Transaction::at);
        let opts = SummaryOptions::new(day(1, 31), TimeUnit::DAYS);
        let (interleaved, arrival) = one_pass(&log, &opts);
        let mut grouped = log.clone();
        grouped.sort_by(|a, b| a.customer().cmp(b.customer()));
        let (grouped, _) = one_pass(&grouped, &opts);
        let interleaved = interleaved.unwrap();
        assert_eq!(interleaved, grouped.unwrap());
        assert_eq!(arrival, [id(0), id(1), id(2)]);
        let ids: Vec<String> = interleaved.iter().map(|c| c.id().to_string()).collect();
        assert_eq!(ids, ["acme-7", "acme-70", "zeta"]);
        let c = interleaved.get(&CustomerId::new("zeta").unwrap()).unwrap();
        assert_eq!((c.frequency(), c.orders()), (8, 9));
        assert_eq!(c.total_spend(), Decimal::new(4509, 2));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// A log in any order (shuffled, in date order, grouped by customer) gives the same
        /// summaries, or the same error, and customers arrive in the order they first appear:
        /// whether ids are small integers, integers numbered from a large base, integers past
        /// 2^63, or text shared between records or not, and however they mix.
        #[test]
        fn a_shuffled_log_summarises_as_the_grouped_one(
            rows in proptest::collection::vec(
                (0u8..5, 0u64..12, 0u32..40, 1i64..50_000, proptest::bool::weighted(0.1)),
                0..60,
            ),
            kinds in 1u8..=5,
            seed in proptest::prelude::any::<u64>(),
        ) {
            let pool: Vec<CustomerId> =
                (0..12).map(|n| CustomerId::new(&format!("shop-{n}")).unwrap()).collect();
            let log: Vec<Transaction> = rows
                .iter()
                .map(|&(kind, n, d, cents, refund)| {
                    // `kinds` limits the mix: 1 gives small integers only.
                    let id = match kind % kinds {
                        0 => CustomerId::from(n),
                        1 => CustomerId::from(4_000_000_000 + n * 7),
                        2 => CustomerId::from(u64::MAX - n),
                        3 => pool[n as usize].clone(),
                        _ => CustomerId::new(&format!("shop-{n}")).unwrap(),
                    };
                    let at = day(1, 1).and_hms_opt(8, 0, 0).unwrap() + chrono::Duration::hours(i64::from(d) * 7);
                    let kind = if refund { TransactionKind::Return } else { TransactionKind::Purchase };
                    Transaction::new(id, at, Decimal::new(cents, 2), kind).unwrap()
                })
                .collect();
            let opts = SummaryOptions::new(day(1, 7), TimeUnit::DAYS).holdout_end(day(1, 12));
            let mut grouped = log.clone();
            grouped.sort_by(|a, b| a.customer().cmp(b.customer()));
            let (expected, _) = one_pass(&grouped, &opts);
            let [shuffled, by_date] = reordered(&log, seed);
            for order in [&log, &shuffled, &by_date] {
                let (summaries, arrival) = one_pass(order, &opts);
                proptest::prop_assert_eq!(&summaries, &expected);
                proptest::prop_assert_eq!(arrival, first_appearances(order));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// A shuffled or date-ordered log cut into parts accumulated apart and merged (and, with
        /// `parallel`, accumulated on all cores) gives the grouped log's summaries and the
        /// one-pass arrival order, whether ids are small integers (their own owner keys, not
        /// looked up in a merge), integers past the direct table, or text.
        #[test]
        fn merged_and_parallel_interleaved_logs_summarise_as_the_grouped_one(
            rows in proptest::collection::vec(
                (0u8..3, 0u64..30, 0u32..40, 1i64..50_000, proptest::bool::weighted(0.05)),
                0..120,
            ),
            kinds in 1u8..=3,
            cuts in proptest::collection::vec(0usize..120, 0..4),
            seed in proptest::prelude::any::<u64>(),
        ) {
            let log: Vec<Transaction> = rows
                .iter()
                .map(|&(kind, n, d, cents, refund)| {
                    let id = match kind % kinds {
                        0 => CustomerId::from(n),
                        1 => CustomerId::from(u64::MAX - n),
                        _ => CustomerId::new(&format!("c{n}")).unwrap(),
                    };
                    let at = day(1, 1).and_hms_opt(8, 0, 0).unwrap()
                        + chrono::Duration::hours(i64::from(d) * 7);
                    let kind = if refund { TransactionKind::Return } else { TransactionKind::Purchase };
                    Transaction::new(id, at, Decimal::new(cents, 2), kind).unwrap()
                })
                .collect();
            let opts = SummaryOptions::new(day(1, 7), TimeUnit::DAYS).holdout_end(day(1, 12));
            let mut grouped = log.clone();
            grouped.sort_by(|a, b| a.customer().cmp(b.customer()));
            let (expected, _) = one_pass(&grouped, &opts);
            let [shuffled, by_date] = reordered(&log, seed);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(log.len())).collect();
            cuts.sort_unstable();
            for order in [&shuffled, &by_date] {
                let (_, arrival) = one_pass(order, &opts);
                let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
                let mut from = 0;
                for &to in cuts.iter().chain([&order.len()]) {
                    let mut part = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
                    part.extend(&order[from..to]);
                    acc.merge(part).unwrap();
                    from = to;
                }
                proptest::prop_assert_eq!(&acc.finish(&opts), &expected);
                proptest::prop_assert!(acc.arrival_order().eq(arrival.iter()));
                #[cfg(feature = "parallel")]
                {
                    let parallel = SummaryAccumulator::from_slice_parallel(
                        Grain::Day,
                        ReturnPolicy::NetAgainstPurchase,
                        order,
                    )
                    .unwrap();
                    proptest::prop_assert_eq!(&parallel.finish(&opts), &expected);
                    proptest::prop_assert!(parallel.arrival_order().eq(arrival.iter()));
                    // Fed more and merged afterwards (partitioned entries become interleaved).
                    let (more, last) = log.split_at(log.len() / 2);
                    let agree = pushes_and_merges_agree(parallel, order, more, last, &opts);
                    proptest::prop_assert_eq!(agree, Ok(()));
                }
            }
        }
    }

    /// `acc` (of `log`) given `more` transactions one by one and then merged with an
    /// accumulator of `last`, against one pass over all of them: summaries and arrival order.
    #[cfg(feature = "parallel")]
    fn pushes_and_merges_agree(
        mut acc: SummaryAccumulator,
        log: &[Transaction],
        more: &[Transaction],
        last: &[Transaction],
        opts: &SummaryOptions,
    ) -> Result<(), String> {
        let all: Vec<Transaction> = log.iter().chain(more).chain(last).cloned().collect();
        let (expected, arrival) = one_pass(&all, opts);
        acc.extend(more);
        let mut other = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        other.extend(last);
        acc.merge(other).map_err(|e| e.to_string())?;
        if acc.finish(opts) != expected {
            return Err("summaries differ".into());
        }
        if !acc.arrival_order().eq(arrival.iter()) {
            return Err("arrival orders differ".into());
        }
        Ok(())
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn partitioned_parallel_accumulation_of_integer_ids_equals_one_pass() {
        // 20,000 date-ordered records of ids 50,000..50,600, with wide amounts in every chunk;
        // ids 3 and 60,000 only off the sampled records (every 4th), so the sample's range
        // misses them and the ids are counted again over their own range.
        let at = |k: usize| {
            day(1, 1).and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::minutes(k as i64 * 13)
        };
        let log: Vec<Transaction> = (0..20_000usize)
            .map(|k| {
                let id = match k {
                    4_001 => 3,
                    17_003 => 60_000,
                    _ => 50_000 + (k * 7_919 % 600) as u64,
                };
                let amount = if k % 3_001 == 7 {
                    Decimal::from_i128_with_scale(i128::from(k as u64 + 1) << 70, 2)
                } else {
                    Decimal::new((k % 977) as i64 + 1, 2)
                };
                let kind = if k % 41 == 40 && k % 3_001 != 7 {
                    TransactionKind::Return
                } else {
                    TransactionKind::Purchase
                };
                Transaction::new(CustomerId::from(id), at(k), amount, kind).unwrap()
            })
            .collect();
        let opts = SummaryOptions::new(day(3, 31), TimeUnit::DAYS).holdout_end(day(6, 30));
        let acc = SummaryAccumulator::from_slice_parallel(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            &log,
        )
        .unwrap();
        assert!(matches!(acc.layout, Layout::Partitioned { .. }));
        assert_eq!(acc.first_moment(), Some(at(0)));
        let (expected, arrival) = one_pass(&log, &opts);
        assert_eq!(acc.finish(&opts), expected);
        assert!(acc.arrival_order().eq(arrival.iter()));
        assert_eq!(acc.customers_seen(), 602);
        let later = |id: u64, k: usize| buy(id, 7, 1 + (k % 28) as u32, 100 + k as i64);
        let more: Vec<Transaction> = [5, 50_000, 60_000, 7]
            .iter()
            .enumerate()
            .map(|(k, &id)| later(id, k))
            .collect();
        let last: Vec<Transaction> = [50_001, 8, 3]
            .iter()
            .enumerate()
            .map(|(k, &id)| later(id, k + 9))
            .collect();
        pushes_and_merges_agree(acc.clone(), &log, &more, &last, &opts).unwrap();
        // Merged into another accumulator, and merging another into it.
        let mut first = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        first.extend(&more);
        first.merge(acc).unwrap();
        let mut all = more.clone();
        all.extend(log.iter().cloned());
        let (expected, arrival) = one_pass(&all, &opts);
        assert_eq!(first.finish(&opts), expected);
        assert!(first.arrival_order().eq(arrival.iter()));
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn parallel_accumulation_equals_the_sequential_one() {
        use crate::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
        let base = simulate(
            &BgNbdProcess::new(0.8, 4.0, 0.5, 3.0).unwrap(),
            &SimulationOptions::new(3_000, day(1, 1), day(12, 31), TimeUnit::WEEKS, 9)
                .acquisition_days(60)
                .spend(GammaGammaSpend::new(6.0, 4.0, 15.0).unwrap()),
        )
        .unwrap();
        let mut log = base.transactions().to_vec();
        log.reverse(); // unordered input exercises the multi-run path
        let opts = SummaryOptions::new(day(9, 30), TimeUnit::WEEKS).holdout_end(day(12, 31));
        let mut sequential = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        sequential.extend(&log);
        let parallel = SummaryAccumulator::from_slice_parallel(
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            &log,
        )
        .unwrap();
        assert!(sequential.arrival_order().eq(parallel.arrival_order()));
        assert_eq!(
            sequential.finish(&opts).unwrap(),
            parallel.finish(&opts).unwrap()
        );
    }
}
