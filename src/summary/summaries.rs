//! The summaries of a customer base: one [`CustomerSummary`] per customer, with its
//! [`HoldoutSummary`], collected in [`Summaries`].

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

#[cfg(feature = "serde")]
use super::error::SummaryError;
use super::options::{Grain, SummaryOptions};
use super::patterns::Patterns;
use crate::records::CustomerId;
use crate::time::TimeUnit;

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
#[cfg_attr(feature = "serde", serde(try_from = "CustomerSummaryRaw"))]
pub struct CustomerSummary {
    pub(super) id: CustomerId,
    pub(super) frequency: u32,
    pub(super) recency: f64,
    pub(super) age: f64,
    pub(super) repeat_spend: Decimal,
    pub(super) first_purchase: NaiveDateTime,
    pub(super) last_purchase: NaiveDateTime,
    pub(super) orders: u32,
    pub(super) total_spend: Decimal,
    pub(super) holdout: Option<HoldoutSummary>,
}

/// The serialized form of a [`CustomerSummary`], checked by [`CustomerSummary::check`] on the
/// way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CustomerSummaryRaw {
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

#[cfg(feature = "serde")]
impl TryFrom<CustomerSummaryRaw> for CustomerSummary {
    type Error = SummaryError;
    fn try_from(raw: CustomerSummaryRaw) -> Result<Self, SummaryError> {
        let s = CustomerSummary {
            id: raw.id,
            frequency: raw.frequency,
            recency: raw.recency,
            age: raw.age,
            repeat_spend: raw.repeat_spend,
            first_purchase: raw.first_purchase,
            last_purchase: raw.last_purchase,
            orders: raw.orders,
            total_spend: raw.total_spend,
            holdout: raw.holdout,
        };
        s.check()?;
        Ok(s)
    }
}

impl CustomerSummary {
    /// What every summary the accumulator computes satisfies: recency and age finite, recency
    /// in 0..=age, no recency or repeat spend without a repeat purchase, the first purchase not
    /// after the last, and at least one order per counted purchase period. (Only deserialization
    /// needs it: the accumulator builds summaries that satisfy it.)
    #[cfg(feature = "serde")]
    fn check(&self) -> Result<(), SummaryError> {
        let broken = |reason| {
            Err(SummaryError::InvalidSummary {
                customer: self.id.clone(),
                reason,
            })
        };
        if !(self.recency.is_finite() && self.age.is_finite()) {
            return broken("recency and age must be finite");
        }
        if !(0.0 <= self.recency && self.recency <= self.age) {
            return broken("recency must lie in 0..=age");
        }
        if self.frequency == 0 && (self.recency != 0.0 || !self.repeat_spend.is_zero()) {
            return broken("without a repeat purchase, recency and repeat spend must be 0");
        }
        if self.first_purchase > self.last_purchase {
            return broken("the first purchase must not come after the last");
        }
        if u64::from(self.orders) <= u64::from(self.frequency) {
            return broken("orders must be at least frequency + 1 (one per purchase period)");
        }
        Ok(())
    }

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
#[cfg_attr(feature = "serde", serde(try_from = "SummariesRaw"))]
pub struct Summaries {
    pub(super) options: SummaryOptions,
    pub(super) grain: Grain,
    pub(super) customers: Vec<CustomerSummary>,
    pub(super) first_purchase_after_as_of: usize,
    pub(super) without_purchase: usize,
    pub(super) transactions_after_end: usize,
}

/// The serialized form of [`Summaries`], checked on the way in: each customer's summary (see
/// [`CustomerSummary`]), customers sorted by id with each once (lookups search by id), a holdout
/// for every customer exactly when the options have one, the holdout after the as-of date, and
/// no last purchase after the as-of date.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct SummariesRaw {
    options: SummaryOptions,
    grain: Grain,
    customers: Vec<CustomerSummary>,
    first_purchase_after_as_of: usize,
    without_purchase: usize,
    transactions_after_end: usize,
}

#[cfg(feature = "serde")]
impl TryFrom<SummariesRaw> for Summaries {
    type Error = SummaryError;
    fn try_from(raw: SummariesRaw) -> Result<Self, SummaryError> {
        let options = raw.options;
        if let Some(h) = options.holdout_end.filter(|&h| h <= options.as_of) {
            return Err(SummaryError::HoldoutBeforeAsOf {
                as_of: options.as_of,
                holdout_end: h,
            });
        }
        for pair in raw.customers.windows(2) {
            if let [previous, next] = pair {
                if previous.id >= next.id {
                    return Err(SummaryError::UnsortedSummaries {
                        customer: next.id.clone(),
                        previous: previous.id.clone(),
                    });
                }
            }
        }
        for s in &raw.customers {
            let broken = |reason| SummaryError::InvalidSummary {
                customer: s.id.clone(),
                reason,
            };
            if s.holdout.is_some() != options.holdout_end.is_some() {
                return Err(broken(
                    "a holdout summary is required exactly when the options have a holdout",
                ));
            }
            if s.last_purchase.date() > options.as_of {
                return Err(broken(
                    "the last purchase must not come after the as-of date",
                ));
            }
        }
        Ok(Summaries {
            options,
            grain: raw.grain,
            customers: raw.customers,
            first_purchase_after_as_of: raw.first_purchase_after_as_of,
            without_purchase: raw.without_purchase,
            transactions_after_end: raw.transactions_after_end,
        })
    }
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
    /// Compresses the summaries into weighted (x, t_x, T) patterns for fitting, in the order of
    /// x, then t_x, then T (sorting, not hashing: a million customers in a few tens of
    /// milliseconds).
    pub fn patterns(&self) -> Patterns {
        let rows: Vec<(u32, f64, f64)> = self
            .customers
            .iter()
            .map(|s| (s.frequency, s.recency, s.age))
            .collect();
        Patterns::from_valid_sorted(self.unit(), rows)
    }
}

impl Summaries {
    /// Empty summaries with the same options, room for `capacity` customers.
    pub(super) fn empty_like(&self, capacity: usize) -> Summaries {
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
    pub(super) fn absorb(&mut self, mut next: Summaries) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Transaction, TransactionKind};
    use crate::summary::accumulator::SummaryAccumulator;
    use crate::summary::error::SummaryError;
    use crate::summary::options::ReturnPolicy;
    use crate::summary::test_support::{buy, day, summarize, tx};

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
    fn spans_across_the_whole_calendar_are_finite_at_either_grain() {
        // Microsecond keys at chrono's two ends differ by more than an i64 holds.
        let id = CustomerId::from(1u64);
        let first = NaiveDate::MIN.and_hms_opt(0, 0, 0).unwrap();
        let as_of = NaiveDate::MAX.pred_opt().unwrap();
        let last = as_of.and_hms_opt(12, 0, 0).unwrap();
        let log = [
            Transaction::new(id.clone(), first, Decimal::ONE, TransactionKind::Purchase).unwrap(),
            Transaction::new(id.clone(), last, Decimal::ONE, TransactionKind::Purchase).unwrap(),
        ];
        for grain in [Grain::Day, Grain::Timestamp] {
            for unit in [
                TimeUnit::custom_days(TimeUnit::MIN_DAYS).unwrap(),
                TimeUnit::custom_days(TimeUnit::MAX_DAYS).unwrap(),
            ] {
                let mut acc = SummaryAccumulator::new(grain, ReturnPolicy::Ignore);
                acc.extend(&log);
                let s = acc.finish(&SummaryOptions::new(as_of, unit)).unwrap();
                let c = s.get(&id).unwrap();
                assert!(c.recency().is_finite() && c.age().is_finite(), "{c:?}");
                assert!(0.0 < c.recency() && c.recency() <= c.age(), "{c:?}");
            }
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_summaries_are_checked_and_valid_ones_round_trip() {
        let log = [buy(1, 1, 1, 100), buy(1, 1, 8, 200), buy(2, 1, 3, 300)];
        let s = summarize(
            &log,
            SummaryOptions::new(day(1, 10), TimeUnit::DAYS).holdout_end(day(1, 20)),
        );
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Summaries>(&json).unwrap(), s);
        let c = &s.customers()[0];
        let one = serde_json::to_string(c).unwrap();
        assert_eq!(&serde_json::from_str::<CustomerSummary>(&one).unwrap(), c);

        let rejected = |json: String, want: &str| {
            let err = serde_json::from_str::<Summaries>(&json).unwrap_err();
            assert!(err.to_string().contains(want), "{err} vs {want}");
        };
        rejected(
            json.replace("\"recency\":7.0", "\"recency\":70.0"),
            "0..=age",
        );
        rejected(json.replace("\"age\":9.0", "\"age\":-9.0"), "0..=age");
        rejected(json.replace("\"orders\":2", "\"orders\":1"), "orders");
        rejected(
            json.replace("\"id\":2", "\"id\":0"),
            "not sorted by customer id",
        );
        rejected(
            json.replace("\"holdout_end\":\"2024-01-20\"", "\"holdout_end\":null"),
            "holdout summary",
        );
        rejected(
            json.replace(
                "\"holdout_end\":\"2024-01-20\"",
                "\"holdout_end\":\"2024-01-05\"",
            ),
            "must come after",
        );
        rejected(
            json.replace("\"as_of\":\"2024-01-10\"", "\"as_of\":\"2024-01-05\""),
            "after the as-of date",
        );
    }

    #[test]
    fn holdout_must_follow_the_as_of_date() {
        let acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::Ignore);
        let err = acc
            .finish(&SummaryOptions::new(day(2, 1), TimeUnit::DAYS).holdout_end(day(2, 1)))
            .unwrap_err();
        assert!(matches!(err, SummaryError::HoldoutBeforeAsOf { .. }));
    }
}
