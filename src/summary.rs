//! Per-customer summaries (frequency, recency, age, monetary value) at an as-of date, built by a
//! mergeable accumulator, and their compression into weighted (x, t_x, T) patterns for fitting.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use crate::records::{CustomerId, Transaction, TransactionKind};
use crate::time::TimeUnit;

/// How purchases close together in time are merged into one purchase period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Grain {
    /// All purchases of a customer on one calendar day are one purchase (the BTYD convention).
    #[default]
    Day,
    /// Purchases at the same exact moment are one purchase; all others count separately.
    Timestamp,
}

/// What a return (refund) does to the summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ReturnPolicy {
    /// A return is subtracted from the customer's latest purchase period at or before it, in the
    /// same part of the observation window (calibration or holdout). A purchase period whose
    /// purchases are fully refunded stops counting as a purchase. In the holdout, a return with no
    /// holdout purchase before it lowers the holdout spend. A calibration return with no purchase
    /// before it is an error ([`SummaryError::ReturnWithoutPurchase`]).
    #[default]
    NetAgainstPurchase,
    /// Returns are kept in the ledger but do not change frequency or spend.
    Ignore,
}

/// Why summaries could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    /// The holdout ends on or before the as-of date.
    #[error("holdout end {holdout_end} must come after the as-of date {as_of}")]
    HoldoutBeforeAsOf {
        /// The as-of date (last day of calibration).
        as_of: NaiveDate,
        /// The holdout end given.
        holdout_end: NaiveDate,
    },
    /// A return in the calibration period has no purchase at or before it to net against
    /// (`amount` totals the returns of that moment).
    #[error("customer {customer}: return of {amount} at {at} has no purchase at or before it")]
    ReturnWithoutPurchase {
        /// The customer.
        customer: CustomerId,
        /// The moment of the return.
        at: NaiveDateTime,
        /// Its amount.
        amount: Decimal,
    },
    /// The accumulators being merged use different grains or return policies.
    #[error("cannot merge accumulators built with different grains or return policies")]
    IncompatibleMerge,
    /// A date lies outside the range the calendar arithmetic supports.
    #[error("date {0} is out of range")]
    DateOutOfRange(NaiveDate),
    /// A decimal sum overflowed.
    #[error("customer {0}: spend total overflows a decimal")]
    SpendOverflow(CustomerId),
}

/// When and in which unit to summarise: the as-of date (last day of calibration, included), the
/// time unit, and an optional holdout end (last day included).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{SummaryOptions, TimeUnit};
/// let end = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("bad date")?;
/// let holdout = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("bad date")?;
/// let opts = SummaryOptions::new(end, TimeUnit::WEEKS).holdout_end(holdout);
/// assert_eq!(opts.as_of(), end);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SummaryOptions {
    as_of: NaiveDate,
    unit: TimeUnit,
    holdout_end: Option<NaiveDate>,
}

impl SummaryOptions {
    /// Summaries as of the end of `as_of`, in `unit`, without a holdout.
    pub fn new(as_of: NaiveDate, unit: TimeUnit) -> Self {
        SummaryOptions {
            as_of,
            unit,
            holdout_end: None,
        }
    }
    /// Adds a holdout period running from the day after the as-of date through `end`.
    pub fn holdout_end(mut self, end: NaiveDate) -> Self {
        self.holdout_end = Some(end);
        self
    }
    /// The as-of date.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The holdout end, if any.
    pub fn holdout(&self) -> Option<NaiveDate> {
        self.holdout_end
    }
}

impl From<(NaiveDate, TimeUnit)> for SummaryOptions {
    fn from((as_of, unit): (NaiveDate, TimeUnit)) -> Self {
        SummaryOptions::new(as_of, unit)
    }
}

/// A customer's purchases in the holdout period.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HoldoutSummary {
    /// Number of purchase periods in the holdout (every one is a repeat purchase).
    pub frequency: u32,
    /// Net spend in the holdout.
    pub spend: Decimal,
}

impl HoldoutSummary {
    /// Mean spend per holdout purchase period; zero when there was none.
    pub fn monetary_value(&self) -> Decimal {
        if self.frequency == 0 {
            Decimal::ZERO
        } else {
            self.spend / Decimal::from(self.frequency)
        }
    }
}

/// One customer's purchase history reduced to what the models and segmenters need.
///
/// Units: `recency` and `age` are in the summaries' [`TimeUnit`]; money is [`Decimal`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CustomerSummary {
    id: CustomerId,
    frequency: u32,
    recency: f64,
    age: f64,
    repeat_spend: Decimal,
    first_purchase: NaiveDateTime,
    last_purchase: NaiveDateTime,
    orders: u32,
    total_spend: Decimal,
    holdout: Option<HoldoutSummary>,
}

impl CustomerSummary {
    /// The customer.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }
    /// x: the number of repeat purchase periods (the first purchase is not counted).
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// t_x: time from the first to the last purchase, in the summaries' unit (0 when x = 0).
    pub fn recency(&self) -> f64 {
        self.recency
    }
    /// T: time from the first purchase to the as-of date, in the summaries' unit.
    pub fn age(&self) -> f64 {
        self.age
    }
    /// z̄: mean net spend of the repeat purchase periods (the first excluded); zero when x = 0.
    pub fn monetary_value(&self) -> Decimal {
        if self.frequency == 0 {
            Decimal::ZERO
        } else {
            self.repeat_spend / Decimal::from(self.frequency)
        }
    }
    /// Net spend of the repeat purchase periods (the first excluded).
    pub fn repeat_spend(&self) -> Decimal {
        self.repeat_spend
    }
    /// Moment of the first purchase (midnight for day-grain records).
    pub fn first_purchase(&self) -> NaiveDateTime {
        self.first_purchase
    }
    /// Moment of the last purchase on or before the as-of date.
    pub fn last_purchase(&self) -> NaiveDateTime {
        self.last_purchase
    }
    /// Number of purchase records (orders) before merging into periods, calibration only.
    pub fn orders(&self) -> u32 {
        self.orders
    }
    /// Net spend over all calibration purchases, the first included.
    pub fn total_spend(&self) -> Decimal {
        self.total_spend
    }
    /// Net spend per order.
    pub fn average_order_value(&self) -> Decimal {
        if self.orders == 0 {
            Decimal::ZERO
        } else {
            self.total_spend / Decimal::from(self.orders)
        }
    }
    /// The holdout purchases, when the summaries have a holdout.
    pub fn holdout(&self) -> Option<HoldoutSummary> {
        self.holdout
    }
}

/// The summaries of a customer base at an as-of date, sorted by customer id.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Summaries {
    options: SummaryOptions,
    grain: Grain,
    customers: Vec<CustomerSummary>,
    first_purchase_after_as_of: usize,
    without_purchase: usize,
    transactions_after_end: usize,
}

impl Summaries {
    /// The options the summaries were made with.
    pub fn options(&self) -> &SummaryOptions {
        &self.options
    }
    /// The time unit of recency and age.
    pub fn unit(&self) -> TimeUnit {
        self.options.unit
    }
    /// The as-of date.
    pub fn as_of(&self) -> NaiveDate {
        self.options.as_of
    }
    /// The grain purchases were merged at.
    pub fn grain(&self) -> Grain {
        self.grain
    }
    /// The customer summaries, sorted by id.
    pub fn customers(&self) -> &[CustomerSummary] {
        &self.customers
    }
    /// Iterates over the summaries, sorted by id.
    pub fn iter(&self) -> std::slice::Iter<'_, CustomerSummary> {
        self.customers.iter()
    }
    /// Number of customers summarised.
    pub fn len(&self) -> usize {
        self.customers.len()
    }
    /// Whether no customer was summarised.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }
    /// One customer's summary.
    pub fn get(&self, id: &CustomerId) -> Option<&CustomerSummary> {
        self.customers
            .binary_search_by(|s| s.id.cmp(id))
            .ok()
            .map(|i| &self.customers[i])
    }
    /// Customers whose first purchase came after the as-of date (not summarised: they were not yet
    /// customers).
    pub fn first_purchase_after_as_of(&self) -> usize {
        self.first_purchase_after_as_of
    }
    /// Customers with transactions but no counted purchase (only returns, or fully refunded).
    pub fn without_purchase(&self) -> usize {
        self.without_purchase
    }
    /// Transactions dated after the last day the summaries look at (holdout end, else as-of).
    pub fn transactions_after_end(&self) -> usize {
        self.transactions_after_end
    }
    /// Compresses the summaries into weighted (x, t_x, T) patterns for fitting.
    pub fn patterns(&self) -> Patterns {
        let mut p = Patterns::empty(self.unit());
        for s in &self.customers {
            p.push_unchecked(s.frequency, s.recency, s.age, 1.0);
        }
        p
    }
}

impl Summaries {
    /// Empty summaries with the same options, room for `capacity` customers.
    #[cfg(feature = "parallel")]
    fn empty_like(&self, capacity: usize) -> Summaries {
        Summaries {
            options: self.options,
            grain: self.grain,
            customers: Vec::with_capacity(capacity),
            first_purchase_after_as_of: 0,
            without_purchase: 0,
            transactions_after_end: 0,
        }
    }

    /// Appends the summaries of customers that follow this one's in id order.
    #[cfg(feature = "parallel")]
    fn absorb(&mut self, mut next: Summaries) {
        self.customers.append(&mut next.customers);
        self.first_purchase_after_as_of += next.first_purchase_after_as_of;
        self.without_purchase += next.without_purchase;
        self.transactions_after_end += next.transactions_after_end;
    }
}

impl<'a> IntoIterator for &'a Summaries {
    type Item = &'a CustomerSummary;
    type IntoIter = std::slice::Iter<'a, CustomerSummary>;
    fn into_iter(self) -> Self::IntoIter {
        self.customers.iter()
    }
}

/// One purchase period's (or return moment's) records, packed into 16 bytes: the entry array holds
/// one per record of a large log, so its size is most of the accumulator's memory.
/// `word` holds, from the top, the scale of the amount (5 bits), its sign, the kind, a flag for
/// a wide amount, the record count (8 bits), and the amount's magnitude (48 bits: up to
/// 2.8 × 10¹² at cents), or, when the flag is set, the index of the magnitude in the
/// accumulator's table of wider ones.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    key: i64,
    word: u64,
}

const MAGNITUDE_MASK: u64 = (1 << 48) - 1;
const COUNT_SHIFT: u32 = 48;
const MAX_COUNT: u32 = 0xFF;
const WIDE_BIT: u64 = 1 << 56;
const RETURN_BIT: u64 = 1 << 57;
const SIGN_BIT: u64 = 1 << 58;
const SCALE_SHIFT: u32 = 59;

impl Entry {
    /// An entry of `count` records totalling `amount`; a magnitude too wide for the entry goes
    /// to the table `wide`.
    fn new(
        key: i64,
        amount: Decimal,
        count: u32,
        kind: TransactionKind,
        wide: &mut Vec<u128>,
    ) -> Entry {
        let magnitude = amount.mantissa().unsigned_abs();
        let mut word = (u64::from(count.min(MAX_COUNT)) << COUNT_SHIFT)
            | (u64::from(amount.scale()) << SCALE_SHIFT);
        if kind == TransactionKind::Return {
            word |= RETURN_BIT;
        }
        if amount.is_sign_negative() {
            word |= SIGN_BIT;
        }
        match u64::try_from(magnitude) {
            Ok(narrow) if narrow <= MAGNITUDE_MASK => word |= narrow,
            _ => {
                word |= WIDE_BIT | (wide.len() as u64 & MAGNITUDE_MASK);
                wide.push(magnitude);
            }
        }
        Entry { key, word }
    }
    fn magnitude(&self, wide: &[u128]) -> u128 {
        let low = self.word & MAGNITUDE_MASK;
        if self.word & WIDE_BIT == 0 {
            u128::from(low)
        } else {
            usize::try_from(low)
                .ok()
                .and_then(|i| wide.get(i))
                .copied()
                .unwrap_or(0)
        }
    }
    fn amount(&self, wide: &[u128]) -> Decimal {
        let m = self.magnitude(wide);
        Decimal::from_parts(
            m as u32,
            (m >> 32) as u32,
            (m >> 64) as u32,
            self.word & SIGN_BIT != 0,
            self.scale(),
        )
    }
    fn scale(&self) -> u32 {
        (self.word >> SCALE_SHIFT) as u32
    }
    fn count(&self) -> u32 {
        ((self.word >> COUNT_SHIFT) as u32) & MAX_COUNT
    }
    fn is_return(&self) -> bool {
        self.word & RETURN_BIT != 0
    }
    fn kind(&self) -> TransactionKind {
        if self.is_return() {
            TransactionKind::Return
        } else {
            TransactionKind::Purchase
        }
    }
    /// The order entries are folded in: by moment, purchases before returns.
    fn order(&self) -> (i64, bool) {
        (self.key, self.is_return())
    }
    /// Adds `other`'s records to this entry's, if they are of the same moment, kind, sign and
    /// scale, and the count and sum still fit in place: then they add exactly.
    fn absorb(&mut self, other: &Entry) -> bool {
        let same = WIDE_BIT | RETURN_BIT | SIGN_BIT | (u64::MAX << SCALE_SHIFT);
        if self.key != other.key
            || self.word & same != other.word & same
            || self.word & WIDE_BIT != 0
        {
            return false;
        }
        let count = self.count() + other.count();
        let sum = (self.word & MAGNITUDE_MASK) + (other.word & MAGNITUDE_MASK);
        if count > MAX_COUNT || sum > MAGNITUDE_MASK {
            return false;
        }
        self.word = (self.word & same) | (u64::from(count) << COUNT_SHIFT) | sum;
        true
    }
}

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Where each customer's entries lie in the entry array.
#[derive(Debug, Clone)]
enum Layout {
    /// Each customer's entries are one run, the runs in slot order: `starts[slot]` is where the
    /// slot's run begins (a log grouped by customer). One number per customer, none per entry.
    Runs { starts: Vec<usize> },
    /// Customers' entries interleave: `owners[k]` is the slot of entry `k`.
    Interleaved { owners: Vec<usize> },
}

/// Entries grouped by customer, one run each, for reading: the run of the customer at position
/// `k` of the visiting order (of slot `slot`) begins at `starts[k]` if `by_position`, else at
/// `starts[slot]`, and ends where the next begins.
struct Grouped<'a> {
    entries: Cow<'a, [Entry]>,
    starts: Cow<'a, [usize]>,
    by_position: bool,
}

/// The customers in id order (`order`: their slots, `None`: slot order) and their entries.
struct Visit<'a> {
    order: Option<&'a [usize]>,
    grouped: &'a Grouped<'a>,
}

impl Grouped<'_> {
    fn run(&self, position: usize, slot: usize) -> &[Entry] {
        let i = if self.by_position { position } else { slot };
        let start = self.starts.get(i).copied().unwrap_or(0);
        let end = self
            .starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.entries.len());
        self.entries.get(start..end).unwrap_or(&[])
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
#[derive(Debug, Clone)]
pub struct SummaryAccumulator {
    grain: Grain,
    returns: ReturnPolicy,
    /// Id to slot; only in use once `indexed` (before, `customers` is in ascending id order).
    index: FastMap<CustomerId, usize>,
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
            index: FastMap::default(),
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

    /// The slot of each entry, in entry order, with room for as many as the entries have: moved
    /// out of an interleaved layout (the caller puts a layout back), or spelled out from the runs.
    fn take_owners(&mut self) -> Vec<usize> {
        let mut owners = match &mut self.layout {
            Layout::Interleaved { owners } => std::mem::take(owners),
            Layout::Runs { starts } => {
                let mut owners = Vec::new();
                for (slot, &start) in starts.iter().enumerate() {
                    let end = starts.get(slot + 1).copied().unwrap_or(self.entries.len());
                    owners.resize(owners.len() + end.saturating_sub(start), slot);
                }
                owners
            }
        };
        owners.reserve(self.entries.capacity().saturating_sub(owners.len()));
        owners
    }

    fn key(&self, at: NaiveDateTime) -> i64 {
        match self.grain {
            Grain::Day => i64::from(at.date().num_days_from_ce()),
            Grain::Timestamp => at.and_utc().timestamp_micros(),
        }
    }

    fn slot(&mut self, id: &CustomerId) -> usize {
        // Logs usually arrive grouped by customer: skip any lookup for a repeat customer.
        if let Some(i) = self.last {
            if self.customers.get(i).is_some_and(|c| c == id) {
                return i;
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
                Some(&i) => i,
                None => {
                    let i = self.new_slot(id);
                    self.index.insert(id.clone(), i);
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
        self.index.reserve(self.customers.len().saturating_mul(2));
        for (i, c) in self.customers.iter().enumerate() {
            self.index.insert(c.clone(), i);
        }
        self.indexed = true;
    }

    /// Appends an entry of slot `i`, folded into the previous entry when that is the same
    /// customer's, of the same moment and kind, and the sum stays exact.
    fn append(&mut self, i: usize, entry: Entry) {
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
            Layout::Interleaved { owners } => {
                owners.push(i);
                true
            }
        };
        if !in_runs {
            // A customer seen before, whose run ended: from now on, one slot per entry.
            let mut owners = self.take_owners();
            owners.push(i);
            self.layout = Layout::Interleaved { owners };
        }
        self.entries.push(entry);
        self.tail = Some(i);
    }

    /// Adds one transaction.
    pub fn push(&mut self, t: &Transaction) {
        let entry = Entry::new(self.key(t.at()), t.amount(), 1, t.kind(), &mut self.wide);
        let i = self.slot(t.customer());
        self.append(i, entry);
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
    pub fn merge(&mut self, mut other: SummaryAccumulator) -> Result<(), SummaryError> {
        if self.grain != other.grain || self.returns != other.returns {
            return Err(SummaryError::IncompatibleMerge);
        }
        if !other.wide.is_empty() {
            // The other's wide magnitudes follow this one's in the table.
            let offset = self.wide.len() as u64;
            for e in other.entries.iter_mut().filter(|e| e.word & WIDE_BIT != 0) {
                e.word += offset;
            }
            self.wide.append(&mut other.wide);
        }
        let known = self.customers.len();
        let slots: Vec<usize> = other.customers.iter().map(|id| self.slot(id)).collect();
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
            }
            _ => {
                let mut owners = self.take_owners();
                owners.reserve(other.entries.len());
                owners.extend(
                    other
                        .take_owners()
                        .into_iter()
                        .map(|o| slots.get(o).copied().unwrap_or(o)),
                );
                self.layout = Layout::Interleaved { owners };
            }
        }
        self.entries.extend(other.entries);
        if other_tail.is_some() {
            self.tail = other_tail;
        }
        Ok(())
    }

    /// Number of customers seen so far.
    pub fn customers_seen(&self) -> usize {
        self.customers.len()
    }

    /// The customers in the order they first appeared (after a merge: this accumulator's, then
    /// the new ones of the merged accumulator, in their order).
    pub fn arrival_order(&self) -> impl Iterator<Item = &CustomerId> {
        self.customers.iter()
    }

    /// Computes the summaries at the options' as-of date.
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
        let cuts = Cuts {
            calibration: self.key(as_of_end),
            end: end.map(|e| self.key(e)).unwrap_or(self.key(as_of_end)),
            age_origin: match self.grain {
                Grain::Day => i64::from(options.as_of.num_days_from_ce()),
                Grain::Timestamp => self.key(as_of_end),
            },
        };
        let mut out = Summaries {
            options: *options,
            grain: self.grain,
            // The parallel path builds its output from the parts instead.
            customers: Vec::with_capacity(if cfg!(feature = "parallel") {
                0
            } else {
                self.customers.len()
            }),
            first_purchase_after_as_of: 0,
            without_purchase: 0,
            transactions_after_end: 0,
        };
        // Visiting customers in id order makes the output, and the first error, order-free.
        // Customers that arrived in ascending id order (no index built) are sorted already.
        let order: Option<Vec<usize>> = self.indexed.then(|| {
            // Ids are unique: an unstable sort of (id, slot) pairs, read without indirection.
            let mut keyed: Vec<(&CustomerId, usize)> = self
                .customers
                .iter()
                .enumerate()
                .map(|(i, id)| (id, i))
                .collect();
            keyed.sort_unstable_by(|a, b| a.0.cmp(b.0));
            keyed.into_iter().map(|(_, i)| i).collect()
        });
        let order = order.as_deref();
        let grouped = self.grouped_entries(order);
        let visit = Visit {
            order,
            grouped: &grouped,
        };
        let n = self.customers.len();
        // With `parallel`, slices of customers are summarised on all cores and joined in order,
        // so the first error in id order is the one reported.
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            // One slice per thread: every slice after the first is copied into the output.
            let chunk = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
            let parts: Vec<Result<Summaries, SummaryError>> = (0..n.div_ceil(chunk))
                .into_par_iter()
                .map(|k| {
                    let part = k * chunk..((k + 1) * chunk).min(n);
                    // The first part becomes the output: it gets room for everyone.
                    let mut s = out.empty_like(if k == 0 { n } else { part.len() });
                    self.summarize_into(part, &visit, &cuts, options, &mut s)
                        .map(|()| s)
                })
                .collect();
            let mut parts = parts.into_iter();
            if let Some(first) = parts.next() {
                out = first?;
            }
            for part in parts {
                out.absorb(part?);
            }
        }
        #[cfg(not(feature = "parallel"))]
        self.summarize_into(0..n, &visit, &cuts, options, &mut out)?;
        Ok(out)
    }

    /// Every customer's entries as one run: the entries in place for a log grouped by customer,
    /// else a copy laid out in `order` (the order the customers will be read in, so that reading
    /// is sequential; `None`: slot order), made by a stable counting sort (arrival order kept
    /// within a customer).
    fn grouped_entries(&self, order: Option<&[usize]>) -> Grouped<'_> {
        let owners = match &self.layout {
            Layout::Runs { starts } => {
                return Grouped {
                    entries: Cow::Borrowed(&self.entries),
                    starts: Cow::Borrowed(starts),
                    by_position: false,
                }
            }
            Layout::Interleaved { owners } => owners,
        };
        let n = self.customers.len();
        // rank[slot]: the slot's position in `order`; keys: each entry's rank.
        let rank: Vec<usize> = match order {
            Some(order) => {
                let mut rank = vec![0usize; n];
                for (k, &slot) in order.iter().enumerate() {
                    if let Some(r) = rank.get_mut(slot) {
                        *r = k;
                    }
                }
                rank
            }
            None => (0..n).collect(),
        };
        let mut next = vec![0usize; n + 1];
        let keys: Vec<usize> = owners
            .iter()
            .map(|&o| {
                let k = rank.get(o).copied().unwrap_or(0);
                if let Some(count) = next.get_mut(k + 1) {
                    *count += 1;
                }
                k
            })
            .collect();
        for i in 1..next.len() {
            next[i] += next[i - 1];
        }
        let starts = next.clone();
        // Two stable scatter passes keep the writes local: first into ~1,024 buckets of
        // consecutive ranks, then each bucket into its ranks, whose region of the output is small
        // enough to stay in cache. One random scatter over the whole output would miss the cache
        // on nearly every entry.
        let shift = (usize::BITS - n.leading_zeros()).saturating_sub(10);
        let mut bucket_next: Vec<usize> = (0..=(n >> shift))
            .map(|b| next.get(b << shift).copied().unwrap_or(0))
            .collect();
        let mut bucketed: Vec<(Entry, usize)> = Vec::with_capacity(self.entries.len());
        bucketed.extend(self.entries.iter().copied().zip(keys.iter().copied()));
        for (entry, &k) in self.entries.iter().zip(&keys) {
            if let Some(at) = bucket_next.get_mut(k >> shift) {
                if let Some(place) = bucketed.get_mut(*at) {
                    *place = (*entry, k);
                }
                *at += 1;
            }
        }
        let mut sorted = self.entries.clone();
        for &(entry, k) in &bucketed {
            if let Some(at) = next.get_mut(k) {
                if let Some(place) = sorted.get_mut(*at) {
                    *place = entry;
                }
                *at += 1;
            }
        }
        Grouped {
            entries: Cow::Owned(sorted),
            starts: Cow::Owned(starts),
            by_position: true,
        }
    }

    /// Summarises the customers at `positions` of the visiting order into `out`.
    fn summarize_into(
        &self,
        positions: Range<usize>,
        visit: &Visit<'_>,
        cuts: &Cuts,
        options: &SummaryOptions,
        out: &mut Summaries,
    ) -> Result<(), SummaryError> {
        let mut scratch = Scratch {
            entries: Vec::new(),
            moments: Moments::new(self.grain),
        };
        for k in positions {
            let slot = match visit.order {
                Some(order) => order.get(k).copied().unwrap_or(k),
                None => k,
            };
            let Some(id) = self.customers.get(slot) else {
                continue;
            };
            let entries = visit.grouped.run(k, slot);
            self.customer_outcome(id, entries, &mut scratch, cuts, options, out)?;
        }
        Ok(())
    }

    /// Folds one customer's entries in (moment, kind) order.
    fn customer_outcome(
        &self,
        id: &CustomerId,
        entries: &[Entry],
        scratch: &mut Scratch,
        cuts: &Cuts,
        options: &SummaryOptions,
        out: &mut Summaries,
    ) -> Result<(), SummaryError> {
        // Sums commute, so entries need sorting only by (moment, kind); a log in time order is
        // already sorted and is read in place.
        if entries.is_sorted_by_key(Entry::order) {
            return self.summarize_one(id, entries, &mut scratch.moments, cuts, options, out);
        }
        let sorted = &mut scratch.entries;
        sorted.clear();
        sorted.extend_from_slice(entries);
        sorted.sort_unstable_by_key(Entry::order);
        self.summarize_one(id, sorted, &mut scratch.moments, cuts, options, out)
    }

    /// Accumulates a slice of transactions on all cores (feature `parallel`): chunks are
    /// accumulated in parallel and merged in order, so the result, customers' arrival order
    /// included, equals that of [`extend`](Self::extend) on the whole slice.
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
        let parts: Vec<SummaryAccumulator> = transactions
            .par_chunks(chunk)
            .enumerate()
            .map(|(k, part)| {
                let mut acc = SummaryAccumulator::new(grain, returns);
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

    /// Folds one customer's sorted entries into a summary (or a count) in `out`.
    fn summarize_one(
        &self,
        id: &CustomerId,
        entries: &[Entry],
        moments: &mut Moments,
        cuts: &Cuts,
        options: &SummaryOptions,
        out: &mut Summaries,
    ) -> Result<(), SummaryError> {
        let overflow = || SummaryError::SpendOverflow(id.clone());
        let (fold, after_end) = match fold_purchases(entries, cuts) {
            Some(folded) => folded,
            None => self.fold(id, entries, cuts)?,
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
        let span = |from: i64, to: i64| match self.grain {
            Grain::Day => options.unit.from_days((to - from) as f64),
            Grain::Timestamp => options.unit.from_seconds((to - from) as f64 / 1e6),
        };
        let money = |m: Money| m.decimal().ok_or_else(overflow);
        out.customers.push(CustomerSummary {
            id: id.clone(),
            frequency: fold.frequency,
            recency: span(first, fold.last),
            age: span(first, cuts.age_origin),
            repeat_spend: money(fold.repeat_spend)?,
            first_purchase: moments.get(first),
            last_purchase: moments.get(fold.last),
            orders: fold.orders,
            total_spend: money(fold.total_spend)?,
            holdout: match options.holdout_end {
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
    fn fold(
        &self,
        id: &CustomerId,
        entries: &[Entry],
        cuts: &Cuts,
    ) -> Result<(Fold, usize), SummaryError> {
        let overflow = || SummaryError::SpendOverflow(id.clone());
        let mut fold = Fold::default();
        let mut open: Option<Period> = None;
        let mut after_end = 0usize;
        for e in entries {
            if e.key >= cuts.end {
                after_end += e.count() as usize;
                continue;
            }
            let holdout = e.key >= cuts.calibration;
            match e.kind() {
                TransactionKind::Purchase => match open.as_mut() {
                    Some(p) if p.key == e.key => {
                        p.gross.add(Money::of(e, &self.wide)).ok_or_else(overflow)?;
                        p.orders += e.count();
                    }
                    _ => {
                        if let Some(p) = open.take() {
                            fold.close(p).ok_or_else(overflow)?;
                        }
                        open = Some(Period {
                            key: e.key,
                            holdout,
                            gross: Money::of(e, &self.wide),
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
                                .add(Money::of(e, &self.wide))
                                .ok_or_else(overflow)?;
                        }
                        _ if holdout => fold
                            .holdout_spend
                            .sub(Money::of(e, &self.wide))
                            .ok_or_else(overflow)?,
                        _ => {
                            // Report every return of that moment, however the records were folded.
                            let amount = entries
                                .iter()
                                .filter(|o| o.key == e.key && o.is_return())
                                .try_fold(Decimal::ZERO, |sum, o| {
                                    sum.checked_add(o.amount(&self.wide))
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
    let fallback = NaiveDateTime::MIN;
    match grain {
        Grain::Day => i32::try_from(key)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .map(|d| d.and_time(chrono::NaiveTime::MIN))
            .unwrap_or(fallback),
        Grain::Timestamp => chrono::DateTime::from_timestamp_micros(key)
            .map(|d| d.naive_utc())
            .unwrap_or(fallback),
    }
}

/// What summarising one customer after another reuses: room to sort a customer's entries, and
/// converted moments.
struct Scratch {
    entries: Vec<Entry>,
    moments: Moments,
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

struct Cuts {
    calibration: i64,
    end: i64,
    age_origin: i64,
}

struct Period {
    key: i64,
    holdout: bool,
    gross: Money,
    refunded: Money,
    orders: u32,
}

/// An exact sum of decimals kept as an `i128` mantissa at one scale: adding amounts of equal
/// scale (the usual case: cents) is an integer addition instead of a decimal one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Money {
    mantissa: i128,
    scale: u32,
}

impl Money {
    /// An entry's amount.
    #[inline]
    fn of(e: &Entry, wide: &[u128]) -> Money {
        // Magnitudes have at most 96 bits: the cast is exact.
        let magnitude = e.magnitude(wide) as i128;
        Money {
            mantissa: if e.word & SIGN_BIT != 0 {
                -magnitude
            } else {
                magnitude
            },
            scale: e.scale(),
        }
    }

    #[inline(always)]
    fn add(&mut self, other: Money) -> Option<()> {
        // Amounts of one scale (the usual case) add as integers, as does anything to zero at a
        // smaller scale (a fresh sum); anything else is rescaled.
        if other.scale == self.scale || (self.mantissa == 0 && self.scale < other.scale) {
            self.mantissa = self.mantissa.checked_add(other.mantissa)?;
            self.scale = other.scale;
            return Some(());
        }
        self.add_rescaled(other)
    }

    #[cold]
    #[inline(never)]
    fn add_rescaled(&mut self, other: Money) -> Option<()> {
        let mut m = other.mantissa;
        if other.scale > self.scale {
            self.mantissa = self
                .mantissa
                .checked_mul(10i128.checked_pow(other.scale - self.scale)?)?;
            self.scale = other.scale;
        } else if other.scale < self.scale {
            m = m.checked_mul(10i128.checked_pow(self.scale - other.scale)?)?;
        }
        self.mantissa = self.mantissa.checked_add(m)?;
        Some(())
    }

    #[inline]
    fn sub(&mut self, other: Money) -> Option<()> {
        self.add(Money {
            mantissa: other.mantissa.checked_neg()?,
            scale: other.scale,
        })
    }

    fn decimal(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()
    }
}

/// Running totals over a customer's closed purchase periods.
#[derive(Debug, Default, PartialEq)]
struct Fold {
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
    /// Adds a closed period; `None` on decimal overflow.
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
            self.holdout_frequency += u32::from(counted);
            return self.holdout_spend.add(net);
        }
        self.total_spend.add(net)?;
        self.orders += p.orders;
        if counted {
            if self.first.is_none() {
                self.first = Some(p.key);
            } else {
                self.frequency += 1;
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
fn fold_purchases(entries: &[Entry], cuts: &Cuts) -> Option<(Fold, usize)> {
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
            periods += u32::from(e.key != previous);
            previous = e.key;
        }
    }
    let (mut holdout_spend, mut holdout_periods) = (0i64, 0u32);
    if let Some(first) = holdout.first() {
        let mut previous = first.key;
        holdout_periods = 1;
        for e in holdout {
            holdout_spend = holdout_spend.checked_add(amount(e)?)?;
            holdout_periods += u32::from(e.key != previous);
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

/// Why a set of (x, t_x, T) patterns is invalid. Each variant names the row (0-based).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    /// Recency or age is negative or not finite.
    #[error("row {row}: recency {recency} and age {age} must be finite and non-negative")]
    NotFinite {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
        /// T given.
        age: f64,
    },
    /// Recency exceeds age.
    #[error("row {row}: recency {recency} exceeds age {age}")]
    RecencyAfterAge {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
        /// T given.
        age: f64,
    },
    /// A customer without repeat purchases has non-zero recency.
    #[error("row {row}: frequency 0 requires recency 0, got {recency}")]
    RecencyWithoutRepeat {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
    },
    /// A weight is not a finite positive number.
    #[error("row {row}: weight {weight} must be finite and positive")]
    BadWeight {
        /// The row.
        row: usize,
        /// The weight given.
        weight: f64,
    },
}

/// One (x, t_x, T) pattern and the number of customers (weight) who share it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pattern {
    frequency: u32,
    recency: f64,
    age: f64,
    weight: f64,
}

impl Pattern {
    /// x: repeat purchases.
    #[inline]
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// t_x: time of the last purchase, measured from the first.
    #[inline]
    pub fn recency(&self) -> f64 {
        self.recency
    }
    /// T: time from the first purchase to the end of observation.
    #[inline]
    pub fn age(&self) -> f64 {
        self.age
    }
    /// Number of customers with this pattern.
    #[inline]
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

/// Unique (x, t_x, T) patterns with counts, in one [`TimeUnit`]: the data the transaction models
/// fit on. Patterns keep the order in which they first appeared.
///
/// ```
/// use customer_assets::{Patterns, TimeUnit};
/// let p = Patterns::new(TimeUnit::WEEKS, [(2, 30.43, 38.86, 1.0), (0, 0.0, 38.86, 1.0), (0, 0.0, 38.86, 3.0)])?;
/// assert_eq!(p.len(), 2);
/// assert_eq!(p.total_weight(), 5.0);
/// assert!(Patterns::new(TimeUnit::WEEKS, [(1, 5.0, 4.0, 1.0)]).is_err());
/// # Ok::<(), customer_assets::PatternError>(())
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Patterns {
    unit: TimeUnit,
    items: Vec<Pattern>,
    #[cfg_attr(feature = "serde", serde(skip))]
    index: FastMap<(u32, u64, u64), usize>,
}

impl PartialEq for Patterns {
    fn eq(&self, other: &Self) -> bool {
        self.unit == other.unit && self.items == other.items
    }
}

impl Patterns {
    fn empty(unit: TimeUnit) -> Self {
        Patterns {
            unit,
            items: Vec::new(),
            index: FastMap::default(),
        }
    }

    /// Validates and compresses rows of `(x, t_x, T, weight)`.
    pub fn new(
        unit: TimeUnit,
        rows: impl IntoIterator<Item = (u32, f64, f64, f64)>,
    ) -> Result<Self, PatternError> {
        let mut p = Patterns::empty(unit);
        for (row, (x, t_x, t, w)) in rows.into_iter().enumerate() {
            if !(t_x.is_finite() && t.is_finite() && t_x >= 0.0 && t >= 0.0) {
                return Err(PatternError::NotFinite {
                    row,
                    recency: t_x,
                    age: t,
                });
            }
            if t_x > t {
                return Err(PatternError::RecencyAfterAge {
                    row,
                    recency: t_x,
                    age: t,
                });
            }
            if x == 0 && t_x != 0.0 {
                return Err(PatternError::RecencyWithoutRepeat { row, recency: t_x });
            }
            if !(w.is_finite() && w > 0.0) {
                return Err(PatternError::BadWeight { row, weight: w });
            }
            p.push_unchecked(x, t_x, t, w);
        }
        Ok(p)
    }

    fn push_unchecked(&mut self, x: u32, t_x: f64, t: f64, w: f64) {
        // `+ 0.0` folds -0.0 into 0.0 so equal values share one key.
        let key = (x, (t_x + 0.0).to_bits(), (t + 0.0).to_bits());
        match self.index.get(&key) {
            Some(&i) => self.items[i].weight += w,
            None => {
                self.index.insert(key, self.items.len());
                self.items.push(Pattern {
                    frequency: x,
                    recency: t_x,
                    age: t,
                    weight: w,
                });
            }
        }
    }

    /// The time unit of recency and age.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The unique patterns.
    pub fn as_slice(&self) -> &[Pattern] {
        &self.items
    }
    /// Iterates over the unique patterns.
    pub fn iter(&self) -> std::slice::Iter<'_, Pattern> {
        self.items.iter()
    }
    /// Number of unique patterns.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Number of customers (sum of weights).
    pub fn total_weight(&self) -> f64 {
        self.items.iter().map(|p| p.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn tx(id: u64, m: u32, d: u32, cents: i64, kind: TransactionKind) -> Transaction {
        Transaction::new(
            CustomerId::from(id),
            day(m, d).and_hms_opt(10, 0, 0).unwrap(),
            Decimal::new(cents, 2),
            kind,
        )
        .unwrap()
    }
    fn buy(id: u64, m: u32, d: u32, cents: i64) -> Transaction {
        tx(id, m, d, cents, TransactionKind::Purchase)
    }
    fn summarize(log: &[Transaction], opts: SummaryOptions) -> Summaries {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(log);
        acc.finish(&opts).unwrap()
    }

    #[test]
    fn first_purchase_is_not_counted_and_same_day_purchases_merge() {
        let log = [
            buy(1, 1, 1, 1000),
            buy(1, 1, 1, 500),
            buy(1, 1, 8, 2000),
            buy(1, 1, 15, 4000),
        ];
        let s = summarize(&log, SummaryOptions::new(day(1, 29), TimeUnit::WEEKS));
        let c = s.get(&CustomerId::from(1u64)).unwrap();
        assert_eq!(c.frequency(), 2);
        assert_eq!(c.recency(), 2.0);
        assert_eq!(c.age(), 4.0);
        assert_eq!(c.monetary_value(), Decimal::new(3000, 2));
        assert_eq!(c.orders(), 4);
        assert_eq!(c.total_spend(), Decimal::new(7500, 2));
        assert_eq!(c.average_order_value(), Decimal::new(1875, 2));
    }

    #[test]
    fn timestamp_grain_keeps_same_day_purchases_apart() {
        let id = CustomerId::from(1u64);
        let at = |h| day(1, 1).and_hms_opt(h, 0, 0).unwrap();
        let log = [
            Transaction::new(id.clone(), at(6), Decimal::ONE, TransactionKind::Purchase).unwrap(),
            Transaction::new(id.clone(), at(18), Decimal::ONE, TransactionKind::Purchase).unwrap(),
        ];
        let mut acc = SummaryAccumulator::new(Grain::Timestamp, ReturnPolicy::Ignore);
        acc.extend(&log);
        let s = acc
            .finish(&SummaryOptions::new(day(1, 1), TimeUnit::DAYS))
            .unwrap();
        let c = s.get(&id).unwrap();
        assert_eq!(c.frequency(), 1);
        assert_eq!(c.recency(), 0.5);
        assert_eq!(c.age(), 0.75);
    }

    #[test]
    fn holdout_counts_purchases_after_the_as_of_date() {
        let log = [
            buy(1, 1, 1, 100),
            buy(1, 2, 1, 200),
            buy(1, 3, 1, 300),
            buy(1, 3, 2, 500),
            buy(1, 5, 1, 1),
        ];
        let opts = SummaryOptions::new(day(2, 15), TimeUnit::DAYS).holdout_end(day(3, 31));
        let s = summarize(&log, opts);
        let c = s.get(&CustomerId::from(1u64)).unwrap();
        assert_eq!(c.frequency(), 1);
        let h = c.holdout().unwrap();
        assert_eq!(h.frequency, 2);
        assert_eq!(h.spend, Decimal::new(800, 2));
        assert_eq!(h.monetary_value(), Decimal::new(400, 2));
        assert_eq!(s.transactions_after_end(), 1);
    }

    #[test]
    fn customers_first_buying_after_the_as_of_date_are_counted_not_summarised() {
        let log = [buy(1, 1, 1, 100), buy(2, 3, 1, 100)];
        let s = summarize(
            &log,
            SummaryOptions::new(day(2, 1), TimeUnit::DAYS).holdout_end(day(4, 1)),
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s.first_purchase_after_as_of(), 1);
    }

    #[test]
    fn returns_net_against_the_purchase_and_full_refunds_uncount_it() {
        let log = [
            buy(1, 1, 1, 1000),
            buy(1, 1, 5, 3000),
            tx(1, 1, 7, 1000, TransactionKind::Return),
            buy(1, 1, 9, 2000),
            tx(1, 1, 9, 2000, TransactionKind::Return),
        ];
        let s = summarize(&log, SummaryOptions::new(day(1, 31), TimeUnit::DAYS));
        let c = s.get(&CustomerId::from(1u64)).unwrap();
        assert_eq!(
            c.frequency(),
            1,
            "the fully refunded 9 Jan purchase does not count"
        );
        assert_eq!(c.monetary_value(), Decimal::new(2000, 2));
        assert_eq!(c.recency(), 4.0);
        assert_eq!(c.total_spend(), Decimal::new(3000, 2));

        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        acc.extend(&log);
        let s = acc
            .finish(&SummaryOptions::new(day(1, 31), TimeUnit::DAYS))
            .unwrap();
        assert_eq!(s.customers()[0].frequency(), 2);
    }

    #[test]
    fn a_return_before_any_purchase_is_an_error_naming_the_customer() {
        let log = [tx(9, 1, 1, 500, TransactionKind::Return), buy(9, 1, 2, 500)];
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(&log);
        let err = acc
            .finish(&SummaryOptions::new(day(1, 31), TimeUnit::DAYS))
            .unwrap_err();
        assert!(matches!(err, SummaryError::ReturnWithoutPurchase { .. }));
        assert!(err.to_string().contains("customer 9"), "{err}");
    }

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
    fn packed_entries_keep_amounts_exact_across_scales_and_sizes() {
        let id = CustomerId::from(7u64);
        let at = day(1, 1).and_hms_opt(9, 0, 0).unwrap();
        let big = Decimal::from_i128_with_scale(1 << 90, 3);
        let amounts = [
            Decimal::new(15, 1),
            Decimal::new(225, 2),
            big,
            big,
            Decimal::new(1, 0),
        ];
        let mut log: Vec<Transaction> = amounts
            .iter()
            .map(|&a| Transaction::new(id.clone(), at, a, TransactionKind::Purchase).unwrap())
            .collect();
        log.push(buy(7, 1, 2, 100));
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(&log);
        let s = acc
            .finish(&SummaryOptions::new(day(1, 31), TimeUnit::DAYS))
            .unwrap();
        let c = s.get(&id).unwrap();
        let want = Decimal::new(15, 1) + Decimal::new(225, 2) + big + big + Decimal::ONE;
        assert_eq!(c.total_spend(), want + Decimal::ONE);
        assert_eq!(c.orders(), 6);
        assert_eq!(c.frequency(), 1);
        assert_eq!(c.monetary_value(), Decimal::ONE);
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
    fn holdout_must_follow_the_as_of_date() {
        let acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        let err = acc
            .finish(&SummaryOptions::new(day(2, 1), TimeUnit::DAYS).holdout_end(day(2, 1)))
            .unwrap_err();
        assert!(matches!(err, SummaryError::HoldoutBeforeAsOf { .. }));
    }

    #[test]
    fn merging_accumulators_of_different_grains_is_an_error() {
        let mut a = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        let b = SummaryAccumulator::new(Grain::Timestamp, ReturnPolicy::Ignore);
        assert_eq!(a.merge(b).unwrap_err(), SummaryError::IncompatibleMerge);
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
            let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
            acc.wide = wide;
            let general = acc.fold(&CustomerId::from(1u64), &entries, &cuts).unwrap();
            // Only entries before the end matter, compared with the first entry's scale.
            let declines = entries.iter().filter(|e| e.key < cuts.end).any(|e| {
                e.is_return() || e.word & WIDE_BIT != 0 || e.scale() != entries[0].scale()
            });
            match fold_purchases(&entries, &cuts) {
                Some(fast) => {
                    proptest::prop_assert!(!declines);
                    proptest::prop_assert_eq!(fast, general);
                }
                None => proptest::prop_assert!(declines),
            }
        }
    }

    #[test]
    fn patterns_compress_and_validate() {
        let log = [
            buy(1, 1, 1, 1),
            buy(2, 1, 1, 1),
            buy(3, 1, 1, 1),
            buy(3, 1, 5, 1),
        ];
        let s = summarize(&log, SummaryOptions::new(day(1, 31), TimeUnit::DAYS));
        let p = s.patterns();
        assert_eq!(p.len(), 2);
        assert_eq!(p.as_slice()[0].weight(), 2.0);
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(0, 1.0, 2.0, 1.0)]),
            Err(PatternError::RecencyWithoutRepeat { row: 0, .. })
        ));
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(1, 1.0, 2.0, 0.0)]),
            Err(PatternError::BadWeight { .. })
        ));
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(1, f64::NAN, 2.0, 1.0)]),
            Err(PatternError::NotFinite { .. })
        ));
    }
}
