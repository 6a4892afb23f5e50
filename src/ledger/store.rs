//! The ledger itself: its options, errors, records and the checks made as records arrive.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};

use crate::covariates::{AttributeTable, CovariateError};
use crate::records::{
    AttributeUpdate, Customer, CustomerId, Feedback, RecordError, Referral, SourcePrecedence,
    Transaction,
};
use crate::summary::{Summaries, SummaryAccumulator, SummaryError, SummaryOptions};

use crate::summary::{Grain, ReturnPolicy};

/// Options of a [`Ledger`]: the merge grain, the return policy and an optional observation window.
///
/// ```
/// use customer_assets::{Grain, LedgerOptions, ReturnPolicy};
/// let opts = LedgerOptions::default().grain(Grain::Timestamp).returns(ReturnPolicy::Ignore);
/// assert_eq!(opts.get_grain(), Grain::Timestamp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "LedgerOptionsRaw"))]
pub struct LedgerOptions {
    grain: Grain,
    returns: ReturnPolicy,
    window: Option<(NaiveDate, NaiveDate)>,
}

/// The most distinct transacting customers a ledger holds: each has a 32-bit slot, which keeps
/// the per-transaction customer index at 4 bytes (40 MB for 10 million transactions). Four
/// billion customers is past any customer base; a log that claims more is refused with
/// [`LedgerError::TooManyCustomers`] rather than wrapped around.
pub const MAX_CUSTOMERS: usize = u32::MAX as usize;

/// The serialized form of [`LedgerOptions`], its window checked by
/// [`LedgerOptions::window`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct LedgerOptionsRaw {
    grain: Grain,
    returns: ReturnPolicy,
    window: Option<(NaiveDate, NaiveDate)>,
}

#[cfg(feature = "serde")]
impl TryFrom<LedgerOptionsRaw> for LedgerOptions {
    type Error = LedgerError;
    fn try_from(raw: LedgerOptionsRaw) -> Result<Self, LedgerError> {
        let options = LedgerOptions::default()
            .grain(raw.grain)
            .returns(raw.returns);
        match raw.window {
            Some((first, last)) => options.window(first, last),
            None => Ok(options),
        }
    }
}

impl LedgerOptions {
    /// Sets the merge grain (default: calendar day).
    pub fn grain(mut self, grain: Grain) -> Self {
        self.grain = grain;
        self
    }
    /// Sets the return policy (default: net against the purchase).
    pub fn returns(mut self, policy: ReturnPolicy) -> Self {
        self.returns = policy;
        self
    }
    /// Restricts records to the days `first..=last`; a record outside is an error.
    ///
    /// # Errors
    ///
    /// [`LedgerError::InvalidWindow`] when `last` comes before `first`.
    pub fn window(mut self, first: NaiveDate, last: NaiveDate) -> Result<Self, LedgerError> {
        if last < first {
            return Err(LedgerError::InvalidWindow { first, last });
        }
        self.window = Some((first, last));
        Ok(self)
    }
    /// The merge grain (set by [`grain`](Self::grain)).
    pub fn get_grain(&self) -> Grain {
        self.grain
    }
    /// The return policy (set by [`returns`](Self::returns)).
    pub fn get_returns(&self) -> ReturnPolicy {
        self.returns
    }
    /// The observation window, if any (set by [`window`](Self::window)).
    pub fn get_window(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.window
    }
}

impl From<Grain> for LedgerOptions {
    fn from(grain: Grain) -> Self {
        LedgerOptions::default().grain(grain)
    }
}

/// Why a record could not enter the [`Ledger`]. Each variant names the record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A transaction id was seen before with different content.
    #[error("transaction id {id:?} appears twice with different content: {first} vs {second}")]
    ConflictingTransactionId {
        /// The id.
        id: String,
        /// The record held.
        first: String,
        /// The record offered.
        second: String,
    },
    /// A transaction is dated before its customer's acquisition date.
    #[error("transaction {record} is dated before customer {customer} was acquired on {acquired}")]
    BeforeAcquisition {
        /// The transaction.
        record: String,
        /// The customer.
        customer: CustomerId,
        /// The acquisition date.
        acquired: NaiveDate,
    },
    /// A record falls outside the ledger's observation window.
    #[error("{record} is dated {date}, outside the observation window {first}..={last}")]
    OutsideWindow {
        /// The record.
        record: String,
        /// Its date.
        date: NaiveDate,
        /// First day of the window.
        first: NaiveDate,
        /// Last day of the window.
        last: NaiveDate,
    },
    /// A customer was added twice with different attributes.
    #[error("customer {0} was added twice with different attributes")]
    ConflictingCustomer(CustomerId),
    /// A transaction of a new customer when the ledger holds [`MAX_CUSTOMERS`] already.
    #[error(
        "transaction {record} would be the ledger's customer number {}, past the limit of {limit} customers",
        limit + 1
    )]
    TooManyCustomers {
        /// The transaction of the customer past the limit.
        record: String,
        /// [`MAX_CUSTOMERS`].
        limit: usize,
    },
    /// The observation window ends before it starts.
    #[error("observation window {first}..={last} ends before it starts")]
    InvalidWindow {
        /// First day.
        first: NaiveDate,
        /// Last day.
        last: NaiveDate,
    },
    /// An update or consent for a customer the ledger was not given.
    #[error("{record}: the customer was never added to the ledger")]
    UnknownCustomer {
        /// The update or consent.
        record: String,
    },
    /// The same source stated two values for an attribute effective the same day.
    #[error(
        "attribute update {record} contradicts the value the same source stated for the same day"
    )]
    ConflictingUpdate {
        /// The update offered.
        record: String,
    },
    /// A known customer was upserted with what the ledger cannot update.
    #[error("customer {customer} was upserted with other {field} than the ledger holds")]
    UpsertConflict {
        /// The customer.
        customer: CustomerId,
        /// What differs: the acquisition date, tags, consents or typed attributes.
        field: &'static str,
    },
    /// A referral names a customer the ledger holds neither a record nor a transaction of.
    #[error("{record}: the {role} {customer} is not a customer of the ledger (add their customer record or a transaction first)")]
    ReferralOfUnknownCustomer {
        /// The referral.
        record: String,
        /// `referrer` or `referred`.
        role: &'static str,
        /// The unknown customer.
        customer: CustomerId,
    },
    /// A referred customer was acquired before the referral that brought them.
    #[error("{referral}: customer {customer} was acquired on {acquired}, before the referral")]
    AcquiredBeforeReferral {
        /// The referral.
        referral: String,
        /// The referred customer.
        customer: CustomerId,
        /// Their acquisition date.
        acquired: NaiveDate,
    },
    /// A referred customer has a transaction dated before the referral that brought them (a
    /// referral after the referred customer's first purchase).
    #[error("{referral} comes after the referred customer's transaction {transaction}")]
    TransactionBeforeReferral {
        /// The referral.
        referral: String,
        /// The earlier transaction.
        transaction: String,
    },
    /// A customer was referred a second time, by another referrer or on another day.
    #[error("{offered}: customer {customer} was already referred ({held})")]
    ReferredTwice {
        /// The referred customer.
        customer: CustomerId,
        /// The referral held.
        held: String,
        /// The referral offered.
        offered: String,
    },
    /// A referral would close a cycle of referrals (A brought B, B brought A).
    #[error("{record} would close a cycle of referrals: {}", chain.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → "))]
    ReferralCycle {
        /// The referral offered.
        record: String,
        /// The cycle, from the referred customer through the referrers back to them.
        chain: Vec<CustomerId>,
    },
    /// A record offered to the ledger was itself invalid (e.g. a consent withdrawn before it
    /// was given).
    #[error(transparent)]
    Record(#[from] RecordError),
}

/// What happened to a transaction offered to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The transaction is new and was kept.
    New,
    /// An identical transaction with the same id was already held; this copy was dropped.
    Duplicate,
}

/// The validated collection of customers, transactions and feedback.
///
/// Records may arrive in any order and from several sources. The ledger checks them against each
/// other as they arrive: a transaction id seen twice must carry the same content (exact copies are
/// dropped and counted), no transaction precedes its customer's acquisition date (whichever of the
/// two arrives first), no referred customer was acquired or bought before the referral (likewise;
/// see [`add_referral`](Self::add_referral)), and all records fall in the observation window when
/// one is set.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction};
/// use rust_decimal::Decimal;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let mut ledger = Ledger::new(LedgerOptions::default());
/// let ann = CustomerId::new("ann")?;
/// ledger.add_transaction(Transaction::purchase(ann.clone(), d(1, 5)?, Decimal::new(20, 0))?)?;
/// ledger.add_transaction(Transaction::purchase(ann.clone(), d(2, 5)?, Decimal::new(30, 0))?)?;
/// ledger.add_transaction(Transaction::purchase(ann.clone(), d(2, 5)?, Decimal::new(10, 0))?)?;
/// let summaries = ledger.summarize(SummaryOptions::new(d(3, 31)?, TimeUnit::DAYS))?;
/// let s = summaries.get(&ann).ok_or("missing")?;
/// assert_eq!(s.frequency(), 1); // two purchase days: the first is not a repeat
/// assert_eq!(s.recency(), 31.0);
/// assert_eq!(s.monetary_value(), Decimal::new(40, 0)); // same-day purchases merged
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub(super) options: LedgerOptions,
    pub(super) customers: HashMap<CustomerId, Customer>,
    pub(super) customer_order: Vec<CustomerId>,
    pub(super) transactions: Vec<Transaction>,
    pub(super) by_id: HashMap<Arc<str>, usize>,
    /// Each transacting customer's slot: a dense number in order of first appearance.
    pub(super) slots: HashMap<CustomerId, u32>,
    /// Per slot, the customer's id and the index of its earliest transaction.
    pub(super) slot_customers: Vec<(CustomerId, usize)>,
    /// Per transaction, its customer's slot: passes over the log that group by customer (the
    /// KPIs) index arrays instead of hashing every row's id again.
    pub(super) transaction_slots: Vec<u32>,
    pub(super) feedback: Vec<Feedback>,
    pub(super) duplicates_dropped: usize,
    /// Per customer, attribute updates sorted by attribute, effective date and source.
    pub(super) updates: HashMap<CustomerId, Vec<AttributeUpdate>>,
    pub(super) precedence: SourcePrecedence,
    /// The number of the last id that names nobody given by an erasure (`erased-N`).
    pub(super) erasures: usize,
    /// The referrals held, in the order they were added.
    pub(super) referrals: Vec<Referral>,
    /// Per referred customer, the index of their referral in `referrals`.
    pub(super) referred_by: HashMap<CustomerId, usize>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new(options: impl Into<LedgerOptions>) -> Self {
        Ledger {
            options: options.into(),
            ..Ledger::default()
        }
    }

    /// An empty ledger whose window is checked first.
    ///
    /// # Errors
    ///
    /// [`LedgerError::InvalidWindow`] when `last` comes before `first`.
    pub fn with_window(
        options: LedgerOptions,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Self, LedgerError> {
        Ok(Ledger::new(options.window(first, last)?))
    }

    /// The ledger's options.
    pub fn options(&self) -> &LedgerOptions {
        &self.options
    }

    pub(super) fn check_window(
        &self,
        record: impl FnOnce() -> String,
        date: NaiveDate,
    ) -> Result<(), LedgerError> {
        if let Some((first, last)) = self.options.window {
            if date < first || date > last {
                return Err(LedgerError::OutsideWindow {
                    record: record(),
                    date,
                    first,
                    last,
                });
            }
        }
        Ok(())
    }

    /// Adds a customer. Adding the same customer again is harmless.
    ///
    /// # Errors
    ///
    /// [`LedgerError::ConflictingCustomer`] when the id was added with other attributes;
    /// [`LedgerError::BeforeAcquisition`] when a transaction already held precedes the acquisition
    /// date; [`LedgerError::OutsideWindow`] when the acquisition date lies outside the window;
    /// [`LedgerError::AcquiredBeforeReferral`] when a referral held of the customer is dated
    /// after the acquisition date.
    pub fn add_customer(&mut self, customer: Customer) -> Result<(), LedgerError> {
        if let Some(held) = self.customers.get(customer.id()) {
            return if *held == customer {
                Ok(())
            } else {
                Err(LedgerError::ConflictingCustomer(customer.id().clone()))
            };
        }
        self.check_window(
            || format!("customer {}", customer.id()),
            customer.acquired(),
        )?;
        if let Some(&slot) = self.slots.get(customer.id()) {
            let t = &self.transactions[self.slot_customers[slot as usize].1];
            if t.date() < customer.acquired() {
                return Err(LedgerError::BeforeAcquisition {
                    record: t.describe(),
                    customer: customer.id().clone(),
                    acquired: customer.acquired(),
                });
            }
        }
        self.check_acquired_after_referral(customer.id(), customer.acquired())?;
        self.customer_order.push(customer.id().clone());
        self.customers.insert(customer.id().clone(), customer);
        Ok(())
    }

    /// Adds a transaction; see [`Added`] for what happens to exact duplicates.
    ///
    /// # Errors
    ///
    /// [`LedgerError::OutsideWindow`] when it is dated outside the window;
    /// [`LedgerError::BeforeAcquisition`] when it precedes its customer's acquisition date;
    /// [`LedgerError::TransactionBeforeReferral`] when it precedes a referral held of its
    /// customer; [`LedgerError::ConflictingTransactionId`] when its id is held with other content;
    /// [`LedgerError::TooManyCustomers`] when it would be customer number
    /// [`MAX_CUSTOMERS`] + 1.
    pub fn add_transaction(&mut self, t: Transaction) -> Result<Added, LedgerError> {
        self.check_window(|| format!("transaction {}", t.describe()), t.date())?;
        if let Some(c) = self.customers.get(t.customer()) {
            if t.date() < c.acquired() {
                return Err(LedgerError::BeforeAcquisition {
                    record: t.describe(),
                    customer: c.id().clone(),
                    acquired: c.acquired(),
                });
            }
        }
        self.check_transaction_after_referral(&t)?;
        if let Some(id) = t.id() {
            if let Some(&i) = self.by_id.get(id) {
                let held = &self.transactions[i];
                return if *held == t {
                    self.duplicates_dropped += 1;
                    Ok(Added::Duplicate)
                } else {
                    Err(LedgerError::ConflictingTransactionId {
                        id: id.to_string(),
                        first: held.describe(),
                        second: t.describe(),
                    })
                };
            }
        }
        let index = self.transactions.len();
        let slot = match self.slots.get(t.customer()) {
            Some(&slot) => {
                let earliest = &mut self.slot_customers[slot as usize].1;
                if t.at() < self.transactions[*earliest].at() {
                    *earliest = index;
                }
                slot
            }
            None => {
                let slot = u32::try_from(self.slot_customers.len())
                    .ok()
                    .filter(|s| (*s as usize) < MAX_CUSTOMERS)
                    .ok_or_else(|| LedgerError::TooManyCustomers {
                        record: t.describe(),
                        limit: MAX_CUSTOMERS,
                    })?;
                self.slots.insert(t.customer().clone(), slot);
                self.slot_customers.push((t.customer().clone(), index));
                slot
            }
        };
        // Registered only once nothing can fail any more, so that no index points past the log.
        if let Some(id) = t.id() {
            self.by_id.insert(Arc::from(id), index);
        }
        self.transaction_slots.push(slot);
        self.transactions.push(t);
        Ok(Added::New)
    }

    /// Adds many transactions, stopping at the first error. Returns how many were new.
    ///
    /// # Errors
    ///
    /// The first error of [`add_transaction`](Self::add_transaction); the transactions before it
    /// stay added.
    pub fn extend_transactions(
        &mut self,
        transactions: impl IntoIterator<Item = Transaction>,
    ) -> Result<usize, LedgerError> {
        let mut added = 0;
        for t in transactions {
            if self.add_transaction(t)? == Added::New {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Adds many customers, stopping at the first error.
    ///
    /// # Errors
    ///
    /// The first error of [`add_customer`](Self::add_customer); the customers before it stay added.
    pub fn extend_customers(
        &mut self,
        customers: impl IntoIterator<Item = Customer>,
    ) -> Result<(), LedgerError> {
        customers.into_iter().try_for_each(|c| self.add_customer(c))
    }

    /// Adds a feedback record (checked against the window).
    ///
    /// # Errors
    ///
    /// [`LedgerError::OutsideWindow`] when the feedback is dated outside the window.
    pub fn add_feedback(&mut self, feedback: Feedback) -> Result<(), LedgerError> {
        self.check_window(
            || format!("feedback of customer {}", feedback.customer()),
            feedback.date(),
        )?;
        self.feedback.push(feedback);
        Ok(())
    }

    /// The transactions held, in the order they were added.
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }

    /// The customers added explicitly, in the order they were added.
    pub fn customers(&self) -> impl Iterator<Item = &Customer> {
        self.customer_order
            .iter()
            .filter_map(|id| self.customers.get(id))
    }

    /// A customer added explicitly.
    pub fn customer(&self, id: &CustomerId) -> Option<&Customer> {
        self.customers.get(id)
    }

    /// Every customer's attributes as covariate designs see them
    /// ([`AttributeTable::insert_customer`]): the typed attributes of each customer added, and
    /// its channel and region, when set, as the categorical attributes `channel` and `region`,
    /// as the customer was first recorded (see [`attribute_table_as_of`](Self::attribute_table_as_of)
    /// for the values in force on a day). A customer with none of them has no row.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::covariates::{AttributeValue, DesignBuilder};
    /// use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions};
    /// let day = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// for (id, channel, age) in [(1u64, "web", 30.0), (2, "store", 45.0), (3, "web", 38.0)] {
    ///     ledger.add_customer(
    ///         Customer::builder(CustomerId::from(id), day)
    ///             .channel(channel)
    ///             .attribute("age", AttributeValue::number(age)?)?
    ///             .build(),
    ///     )?;
    /// }
    /// let table = ledger.attribute_table()?;
    /// let ids: Vec<CustomerId> = (1u64..=3).map(CustomerId::from).collect();
    /// let design = DesignBuilder::all(&table).build(&table, &ids)?;
    /// assert_eq!(design.matrix().names(), ["age", "channel=store"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`CovariateError::BadCategory`] naming the customer when its channel or region is not a
    /// usable category (blank, a control character, too long).
    pub fn attribute_table(&self) -> Result<AttributeTable, CovariateError> {
        let mut table = AttributeTable::new();
        for customer in self.customers() {
            table.insert_customer(customer)?;
        }
        Ok(table)
    }

    /// [`attribute_table`](Self::attribute_table) with each customer's channel and region as in
    /// force on `day` ([`customer_as_of`](Self::customer_as_of)); typed attributes are those of
    /// the record.
    ///
    /// # Errors
    /// As [`attribute_table`](Self::attribute_table).
    pub fn attribute_table_as_of(&self, day: NaiveDate) -> Result<AttributeTable, CovariateError> {
        let mut table = AttributeTable::new();
        for id in &self.customer_order {
            if let Some(customer) = self.customer_as_of(id, day) {
                table.insert_customer(&customer)?;
            }
        }
        Ok(table)
    }

    /// The feedback records held.
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }

    /// How many exact duplicate transactions were dropped.
    pub fn duplicates_dropped(&self) -> usize {
        self.duplicates_dropped
    }

    /// The moment of a customer's earliest transaction, if any.
    pub fn first_transaction_at(&self, id: &CustomerId) -> Option<NaiveDateTime> {
        self.slots
            .get(id)
            .map(|&slot| self.transactions[self.slot_customers[slot as usize].1].at())
    }

    /// Per transaction (in [`transactions`](Self::transactions) order), its customer's slot: a
    /// dense number from 0 to [`transacting_customers`](Self::transacting_customers) − 1, in
    /// order of each customer's first transaction.
    pub(crate) fn transaction_slots(&self) -> &[u32] {
        &self.transaction_slots
    }

    /// The slot of a customer with transactions (see
    /// [`transaction_slots`](Self::transaction_slots)).
    pub(crate) fn slot_of(&self, id: &CustomerId) -> Option<usize> {
        self.slots.get(id).map(|&slot| slot as usize)
    }

    /// How many distinct customers have transactions.
    pub(crate) fn transacting_customers(&self) -> usize {
        self.slot_customers.len()
    }

    /// Summarises every customer with a purchase on or before the as-of date.
    ///
    /// # Errors
    ///
    /// [`SummaryError::HoldoutBeforeAsOf`] when the holdout ends on or before the as-of date;
    /// [`SummaryError::ReturnWithoutPurchase`] for a calibration return with no purchase at or
    /// before it to net against (under [`ReturnPolicy::NetAgainstPurchase`]);
    /// [`SummaryError::DateOutOfRange`] or [`SummaryError::SpendOverflow`] at the limits of dates
    /// and decimals.
    pub fn summarize(&self, options: impl Into<SummaryOptions>) -> Result<Summaries, SummaryError> {
        let options = options.into();
        #[cfg(feature = "parallel")]
        let acc = SummaryAccumulator::from_slice_parallel(
            self.options.grain,
            self.options.returns,
            &self.transactions,
        )?;
        #[cfg(not(feature = "parallel"))]
        let acc = {
            let mut acc = SummaryAccumulator::new(self.options.grain, self.options.returns);
            acc.extend(&self.transactions);
            acc
        };
        acc.finish(&options)
    }

    /// Each customer's category mix as of the end of `as_of`, purchase periods at the ledger's
    /// grain and returns as its return policy says (see
    /// [`CategoryMix`](crate::summary::CategoryMix)).
    ///
    /// # Errors
    ///
    /// [`SummaryError::SpendOverflow`] when a customer's net spend in a category does not fit a
    /// decimal.
    pub fn category_mix(
        &self,
        as_of: NaiveDate,
    ) -> Result<crate::summary::CategoryMix, SummaryError> {
        crate::summary::CategoryMix::from_slots(
            &self.transactions,
            self.transaction_slots.iter().map(|&s| s as usize),
            // Every transaction's slot has its customer.
            |slot| &self.slot_customers[slot].0,
            self.options.grain,
            self.options.returns,
            as_of,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::TransactionKind;
    use rust_decimal::Decimal;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn buy(id: u64, m: u32, d: u32, amount: i64) -> Transaction {
        Transaction::purchase(CustomerId::from(id), day(m, d), Decimal::new(amount, 0)).unwrap()
    }

    #[test]
    fn exact_duplicate_ids_are_dropped_and_counted() {
        let mut l = Ledger::new(LedgerOptions::default());
        let t = buy(1, 1, 1, 10).with_id("o-1").unwrap();
        assert_eq!(l.add_transaction(t.clone()).unwrap(), Added::New);
        assert_eq!(l.add_transaction(t).unwrap(), Added::Duplicate);
        assert_eq!(l.transactions().len(), 1);
        assert_eq!(l.duplicates_dropped(), 1);
    }

    #[test]
    fn duplicate_id_with_different_content_is_an_error_naming_the_id() {
        let mut l = Ledger::new(LedgerOptions::default());
        l.add_transaction(buy(1, 1, 1, 10).with_id("o-1").unwrap())
            .unwrap();
        let err = l
            .add_transaction(buy(1, 1, 1, 11).with_id("o-1").unwrap())
            .unwrap_err();
        assert!(matches!(err, LedgerError::ConflictingTransactionId { .. }));
        assert!(err.to_string().contains("o-1"), "{err}");
    }

    #[test]
    fn transaction_before_acquisition_is_an_error_in_either_arrival_order() {
        let c = Customer::new(CustomerId::from(1u64), day(2, 1));
        let mut l = Ledger::new(LedgerOptions::default());
        l.add_customer(c.clone()).unwrap();
        let err = l.add_transaction(buy(1, 1, 15, 5)).unwrap_err();
        assert!(
            matches!(err, LedgerError::BeforeAcquisition { .. }),
            "{err}"
        );

        let mut l = Ledger::new(LedgerOptions::default());
        l.add_transaction(buy(1, 1, 15, 5)).unwrap();
        let err = l.add_customer(c).unwrap_err();
        assert!(
            matches!(err, LedgerError::BeforeAcquisition { .. }),
            "{err}"
        );
    }

    #[test]
    fn records_outside_the_window_are_errors() {
        let mut l = Ledger::with_window(LedgerOptions::default(), day(1, 1), day(6, 30)).unwrap();
        assert!(l.add_transaction(buy(1, 3, 1, 5)).is_ok());
        let err = l.add_transaction(buy(1, 7, 1, 5)).unwrap_err();
        assert!(matches!(err, LedgerError::OutsideWindow { .. }), "{err}");
        assert!(Ledger::with_window(LedgerOptions::default(), day(2, 1), day(1, 1)).is_err());
    }

    #[test]
    fn an_inverted_window_is_refused_by_the_options_and_their_json() {
        let err = LedgerOptions::default()
            .window(day(2, 1), day(1, 1))
            .unwrap_err();
        assert_eq!(
            err,
            LedgerError::InvalidWindow {
                first: day(2, 1),
                last: day(1, 1)
            }
        );
        let one_day = LedgerOptions::default().window(day(1, 1), day(1, 1));
        assert!(one_day.is_ok());
        #[cfg(feature = "serde")]
        {
            let good = LedgerOptions::default()
                .grain(Grain::Timestamp)
                .window(day(1, 1), day(2, 1))
                .unwrap();
            let json = serde_json::to_string(&good).unwrap();
            assert_eq!(serde_json::from_str::<LedgerOptions>(&json).unwrap(), good);
            let inverted = json.replace("2024-02-01", "2023-12-01");
            let err = serde_json::from_str::<LedgerOptions>(&inverted).unwrap_err();
            assert!(err.to_string().contains("ends before it starts"), "{err}");
        }
    }

    #[test]
    fn conflicting_customers_are_errors_and_identical_ones_are_not() {
        let mut l = Ledger::new(LedgerOptions::default());
        let c = Customer::new(CustomerId::from(1u64), day(1, 1));
        l.add_customer(c.clone()).unwrap();
        l.add_customer(c).unwrap();
        let other = Customer::builder(CustomerId::from(1u64), day(1, 1))
            .region("x")
            .build();
        assert_eq!(
            l.add_customer(other).unwrap_err(),
            LedgerError::ConflictingCustomer(CustomerId::from(1u64))
        );
        assert_eq!(l.customers().count(), 1);
    }

    #[test]
    fn the_attribute_table_holds_typed_attributes_channel_and_region() {
        use crate::covariates::{AttributeKind, AttributeValue};
        let mut l = Ledger::new(LedgerOptions::default());
        l.add_customer(
            Customer::builder(CustomerId::from(1u64), day(1, 1))
                .channel("web")
                .attribute("age", AttributeValue::Number(30.0))
                .unwrap()
                .build(),
        )
        .unwrap();
        l.add_customer(
            Customer::builder(CustomerId::from(2u64), day(1, 1))
                .region("north")
                .build(),
        )
        .unwrap();
        l.add_customer(Customer::new(CustomerId::from(3u64), day(1, 1)))
            .unwrap();
        let t = l.attribute_table().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.attributes().collect::<Vec<_>>(),
            [
                ("age", AttributeKind::Numeric),
                ("channel", AttributeKind::Categorical),
                ("region", AttributeKind::Categorical)
            ]
        );
        // Channel and region as in force on a day.
        l.update(
            AttributeUpdate::set(
                CustomerId::from(1u64),
                crate::records::Attribute::Channel,
                "store",
                day(2, 1),
                "crm",
            )
            .unwrap(),
        )
        .unwrap();
        let later = l.attribute_table_as_of(day(3, 1)).unwrap();
        assert_eq!(
            later.get(&CustomerId::from(1u64), "channel"),
            Some(&AttributeValue::Category("store".into()))
        );
        assert_eq!(
            later.get(&CustomerId::from(1u64), "age"),
            Some(&AttributeValue::Number(30.0))
        );
        assert_eq!(
            l.attribute_table()
                .unwrap()
                .get(&CustomerId::from(1u64), "channel"),
            Some(&AttributeValue::Category("web".into()))
        );
        // A known customer upserted with another typed value is a conflict, the same value not.
        let same = Customer::builder(CustomerId::from(1u64), day(1, 1))
            .attribute("age", AttributeValue::Number(30.0))
            .unwrap()
            .build();
        assert!(l.upsert_customer(same, "crm", day(3, 1)).is_ok());
        let other = Customer::builder(CustomerId::from(1u64), day(1, 1))
            .attribute("age", AttributeValue::Number(31.0))
            .unwrap()
            .build();
        let err = l.upsert_customer(other, "crm", day(3, 1)).unwrap_err();
        assert!(err.to_string().contains("typed attributes"), "{err}");
    }

    #[test]
    fn returns_are_kept_in_the_ledger() {
        let mut l = Ledger::new(LedgerOptions::default());
        let r = Transaction::new(
            CustomerId::from(1u64),
            day(1, 2).and_hms_opt(0, 0, 0).unwrap(),
            Decimal::ONE,
            TransactionKind::Return,
        )
        .unwrap();
        l.add_transaction(buy(1, 1, 1, 5)).unwrap();
        l.add_transaction(r).unwrap();
        assert_eq!(l.transactions().len(), 2);
    }
}
