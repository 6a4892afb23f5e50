//! Each customer's category mix: per product category, the purchase periods and the net spend as
//! of an as-of date (the definitions are on [`CategoryMix`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::error::SummaryError;
use super::options::{Grain, ReturnPolicy};
use crate::records::{CustomerId, RecordError, Transaction, TransactionKind};

/// A product category of the mix: a named one, or the bucket of transactions without one.
///
/// Ordered with the named categories first, by name (byte order), and the uncategorised bucket
/// last. Serialized as the name, and the uncategorised bucket as none (`null` in JSON), so that
/// no name can be mistaken for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// A category a transaction carried.
    Named(Arc<str>),
    /// Transactions without a category.
    Uncategorised,
}

impl Category {
    /// A named category, checked as [`Transaction::with_category`] checks it (and trimmed).
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidProductLabel`] for a name no transaction could carry (the record
    /// named is `category <name>`).
    pub fn named(name: &str) -> Result<Self, RecordError> {
        let trimmed = name.trim();
        match crate::records::product_label_problem(trimmed) {
            None => Ok(Category::Named(Arc::from(trimmed))),
            Some(reason) => Err(RecordError::InvalidProductLabel {
                record: format!("category {name:?}"),
                field: "category",
                reason,
            }),
        }
    }

    /// The name, `None` for the uncategorised bucket.
    pub fn name(&self) -> Option<&str> {
        match self {
            Category::Named(name) => Some(name),
            Category::Uncategorised => None,
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Category {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.name().serialize(s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Category::Named(name) => f.write_str(name),
            Category::Uncategorised => f.write_str("(uncategorised)"),
        }
    }
}

/// What a category's share is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ShareBasis {
    /// Net spend, each bucket's counted when positive (see [`CategoryMix`]).
    #[default]
    Spend,
    /// Purchase periods.
    Purchases,
}

/// One customer's figures in one category.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CategoryTotals {
    category: Category,
    purchase_periods: u32,
    net_spend: Decimal,
}

impl CategoryTotals {
    /// The category.
    pub fn category(&self) -> &Category {
        &self.category
    }
    /// Purchase periods with a purchase in the category.
    pub fn purchase_periods(&self) -> u32 {
        self.purchase_periods
    }
    /// Purchases minus returns in the category (may be negative).
    pub fn net_spend(&self) -> Decimal {
        self.net_spend
    }
    /// The bucket's weight on `basis`: purchase periods, or net spend when positive.
    fn weight(&self, basis: ShareBasis) -> f64 {
        match basis {
            ShareBasis::Purchases => f64::from(self.purchase_periods),
            // A decimal is below 8e28, always a finite float.
            ShareBasis::Spend => self.net_spend.max(Decimal::ZERO).to_f64().unwrap_or(0.0),
        }
    }
}

/// One customer's category mix: the totals per category, named categories by name and the
/// uncategorised bucket last (present only when the customer has such transactions).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CustomerCategories {
    id: CustomerId,
    totals: Vec<CategoryTotals>,
}

impl CustomerCategories {
    /// The customer.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }
    /// The totals per category, in [`Category`] order.
    pub fn totals(&self) -> &[CategoryTotals] {
        &self.totals
    }
    /// The totals of one category, if the customer has any transaction in it.
    pub fn get(&self, category: &Category) -> Option<&CategoryTotals> {
        self.totals
            .binary_search_by(|t| t.category.cmp(category))
            .ok()
            .and_then(|i| self.totals.get(i))
    }
    /// Whether any of the customer's purchases carries a category.
    pub fn has_categorised_purchases(&self) -> bool {
        self.totals
            .iter()
            .any(|t| t.category != Category::Uncategorised && t.purchase_periods > 0)
    }
    /// Each bucket's share on `basis`, in [`totals`](Self::totals) order: its weight over the
    /// weights of all buckets (uncategorised included), so the shares sum to 1. `None` when the
    /// weights sum to 0 (no purchase period; or, on spend, no bucket with a positive net spend).
    pub fn shares(&self, basis: ShareBasis) -> Option<Vec<f64>> {
        let weights: Vec<f64> = self.totals.iter().map(|t| t.weight(basis)).collect();
        let total: f64 = weights.iter().sum();
        // Weights below 8e28 each: the total of any number of them is finite.
        (total > 0.0).then(|| weights.iter().map(|w| w / total).collect())
    }
}

/// The category mix of every customer with a transaction on or before the as-of date that the
/// return policy counts, in id order.
///
/// Definitions (the preference segmenter and the category KPIs read these too):
///
/// - A **purchase period** is one of the customer's purchase days (or moments, at
///   [`Grain::Timestamp`]): the merge grain of the summaries, which count a customer's purchase
///   periods as frequency + 1 (but returns never remove one here, see below). A day with two
///   purchases in a category counts once for it; a day with purchases in two categories counts
///   once for each.
/// - The **net spend** of a category is its purchases minus its returns. A return carrying a
///   category nets against that category; a return without one nets against the uncategorised
///   bucket. Under [`ReturnPolicy::Ignore`] returns change nothing, as in the summaries. Returns
///   never remove purchase periods (which purchase a return undoes is not known per category), so
///   a net spend may be zero or negative while its purchase periods are not.
/// - Purchases and returns without a category go to an explicit [`Category::Uncategorised`]
///   bucket, never dropped. Transactions after the as-of date are left out.
/// - **Shares** ([`CustomerCategories::shares`]) are on a [`ShareBasis`]: of purchase periods, or
///   of spend, where a bucket's spend is its net spend when positive and 0 otherwise (a refund
///   beyond a category's purchases does not make another category's share exceed 1). Shares
///   sum to 1; there are none when the basis's total is 0.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::summary::{Category, ShareBasis};
/// use customer_assets::{CustomerId, Ledger, LedgerOptions, Transaction};
/// use rust_decimal::Decimal;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let ann = CustomerId::new("ann")?;
/// let mut ledger = Ledger::new(LedgerOptions::default());
/// for (m, day, amount, category) in [(1, 5, 30, "books"), (2, 1, 10, "books"), (2, 1, 20, "toys")] {
///     let t = Transaction::purchase(ann.clone(), d(m, day)?, Decimal::from(amount))?;
///     ledger.add_transaction(t.with_category(category)?)?;
/// }
/// ledger.add_transaction(Transaction::refund(ann.clone(), d(2, 2)?, Decimal::from(20))?.with_category("books")?)?;
/// let mix = ledger.category_mix(d(3, 31)?)?;
/// let ann_mix = mix.get(&ann).ok_or("missing")?;
/// let books = ann_mix.get(&Category::named("books")?).ok_or("no books")?;
/// assert_eq!((books.purchase_periods(), books.net_spend()), (2, Decimal::from(20)));
/// assert_eq!(ann_mix.shares(ShareBasis::Spend), Some(vec![0.5, 0.5])); // books, toys
/// assert_eq!(ann_mix.shares(ShareBasis::Purchases), Some(vec![2.0 / 3.0, 1.0 / 3.0]));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CategoryMix {
    as_of: NaiveDate,
    customers: Vec<CustomerCategories>,
}

/// One transaction in the tally: its customer slot, category rank (names in order, then
/// [`UNCATEGORISED`]), purchase period and its effect.
struct Line {
    slot: usize,
    category: u32,
    period: i64,
    purchase: bool,
    amount: Decimal,
}

/// The rank of the uncategorised bucket: after every named category.
const UNCATEGORISED: u32 = u32::MAX;

/// Per customer slot with any counted transaction, in slot order, its totals per category in
/// [`Category`] order. Rows are `(slot, transaction)`; only those `keep` accepts count. Returns
/// net against their category when `net_returns`, and are left out otherwise. `Err(slot)` when
/// a sum of that slot's does not fit a decimal.
pub(crate) fn tally<'t>(
    rows: impl Iterator<Item = (usize, &'t Transaction)>,
    grain: Grain,
    net_returns: bool,
    keep: impl Fn(&Transaction) -> bool,
) -> Result<Vec<(usize, Vec<CategoryTotals>)>, usize> {
    // Categories become small integers in order of first appearance, then their ranks by name,
    // so that the sort below compares integers, not text (a few times faster on a large log).
    let mut numbers: HashMap<&'t str, u32> = HashMap::new();
    let mut names: Vec<&'t Arc<str>> = Vec::new();
    let mut lines: Vec<Line> = Vec::new();
    for (slot, t) in rows {
        if !keep(t) || !(net_returns || t.kind() == TransactionKind::Purchase) {
            continue;
        }
        let category = match t.category_shared() {
            // Fewer distinct categories than transactions, and far fewer than 2³² − 1.
            Some(name) => *numbers.entry(name).or_insert_with(|| {
                names.push(name);
                u32::try_from(names.len() - 1).unwrap_or(UNCATEGORISED - 1)
            }),
            None => UNCATEGORISED,
        };
        lines.push(Line {
            slot,
            category,
            period: grain.key(t.at()),
            purchase: t.kind() == TransactionKind::Purchase,
            amount: t.signed_amount(),
        });
    }
    let mut order: Vec<u32> = (0..u32::try_from(names.len()).unwrap_or(UNCATEGORISED)).collect();
    order.sort_unstable_by(|&a, &b| names.get(a as usize).cmp(&names.get(b as usize)));
    let mut rank = vec![0u32; names.len()];
    for (r, &n) in order.iter().enumerate() {
        if let Some(slot) = rank.get_mut(n as usize) {
            *slot = u32::try_from(r).unwrap_or(UNCATEGORISED - 1);
        }
    }
    for l in &mut lines {
        if let Some(&r) = rank.get(l.category as usize) {
            l.category = r;
        }
    }
    // Grouped by customer, then category, then period, so that each group's distinct periods
    // are counted in one pass.
    lines.sort_unstable_by_key(|l| (l.slot, l.category, l.period));
    let category_of = |r: u32| match order.get(r as usize).and_then(|&n| names.get(n as usize)) {
        Some(&name) => Category::Named(name.clone()),
        None => Category::Uncategorised,
    };
    let mut out: Vec<(usize, Vec<CategoryTotals>)> = Vec::new();
    let mut rest = lines.as_slice();
    while let Some(first) = rest.first() {
        let len = rest
            .iter()
            .position(|l| l.slot != first.slot || l.category != first.category)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(len);
        rest = tail;
        let mut net = Decimal::ZERO;
        let mut periods = 0u32;
        let mut last = None;
        for l in group {
            net = net.checked_add(l.amount).ok_or(first.slot)?;
            if l.purchase && last != Some(l.period) {
                // At most one period per transaction: fewer than 2³² in any ledger.
                periods = periods.saturating_add(1);
                last = Some(l.period);
            }
        }
        let totals = CategoryTotals {
            category: category_of(first.category),
            purchase_periods: periods,
            net_spend: net,
        };
        match out.last_mut() {
            Some((slot, list)) if *slot == first.slot => list.push(totals),
            _ => out.push((first.slot, vec![totals])),
        }
    }
    Ok(out)
}

impl CategoryMix {
    /// The mix of `transactions` as of the end of `as_of`, purchase periods at `grain`, returns
    /// as `returns` says (see [`CategoryMix`]).
    ///
    /// # Errors
    ///
    /// [`SummaryError::SpendOverflow`] when a customer's net spend in a category does not fit a
    /// decimal.
    pub fn from_transactions(
        transactions: &[Transaction],
        grain: Grain,
        returns: ReturnPolicy,
        as_of: NaiveDate,
    ) -> Result<Self, SummaryError> {
        // Each customer a dense slot, in order of first appearance (as the ledger numbers them).
        let mut slots: HashMap<&CustomerId, usize> = HashMap::new();
        let mut ids: Vec<&CustomerId> = Vec::new();
        let keyed: Vec<usize> = transactions
            .iter()
            .map(|t| {
                *slots.entry(t.customer()).or_insert_with(|| {
                    ids.push(t.customer());
                    ids.len() - 1
                })
            })
            .collect();
        Self::from_slots(
            transactions,
            keyed.into_iter(),
            // Every slot was given to an id above.
            |slot| ids[slot],
            grain,
            returns,
            as_of,
        )
    }

    /// [`from_transactions`](Self::from_transactions) with each transaction's customer slot
    /// given (the i-th slot of `transactions[i]`) and `id_of` giving a slot's customer (every
    /// slot given has one).
    pub(crate) fn from_slots<'a>(
        transactions: &[Transaction],
        slots: impl Iterator<Item = usize>,
        id_of: impl Fn(usize) -> &'a CustomerId,
        grain: Grain,
        returns: ReturnPolicy,
        as_of: NaiveDate,
    ) -> Result<Self, SummaryError> {
        let net_returns = returns == ReturnPolicy::NetAgainstPurchase;
        let rows = slots.zip(transactions);
        let overflow = |slot: usize| SummaryError::SpendOverflow(id_of(slot).clone());
        let tallied = tally(rows, grain, net_returns, |t| t.date() <= as_of).map_err(overflow)?;
        let mut customers: Vec<CustomerCategories> = tallied
            .into_iter()
            .map(|(slot, totals)| CustomerCategories {
                id: id_of(slot).clone(),
                totals,
            })
            .collect();
        customers.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(CategoryMix { as_of, customers })
    }

    /// The as-of date.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The customers' mixes, in id order.
    pub fn customers(&self) -> &[CustomerCategories] {
        &self.customers
    }
    /// The customers' mixes, in id order.
    pub fn iter(&self) -> std::slice::Iter<'_, CustomerCategories> {
        self.customers.iter()
    }
    /// How many customers the mix holds.
    pub fn len(&self) -> usize {
        self.customers.len()
    }
    /// Whether the mix holds no customer.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }
    /// One customer's mix.
    pub fn get(&self, id: &CustomerId) -> Option<&CustomerCategories> {
        self.customers
            .binary_search_by(|c| c.id.cmp(id))
            .ok()
            .and_then(|i| self.customers.get(i))
    }
    /// Whether any customer has a purchase with a category.
    pub fn has_categorised_purchases(&self) -> bool {
        self.customers
            .iter()
            .any(CustomerCategories::has_categorised_purchases)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{buy, day, tx};
    use super::*;
    use proptest::prelude::*;

    fn in_cat(t: Transaction, category: &str) -> Transaction {
        t.with_category(category).unwrap()
    }
    fn named(name: &str) -> Category {
        Category::named(name).unwrap()
    }
    fn cents(c: i64) -> Decimal {
        Decimal::new(c, 2)
    }
    fn mix(log: &[Transaction], returns: ReturnPolicy, grain: Grain) -> CategoryMix {
        CategoryMix::from_transactions(log, grain, returns, day(3, 31)).unwrap()
    }
    /// (category, purchase periods, net spend in cents) of each bucket.
    fn rows(c: &CustomerCategories) -> Vec<(String, u32, Decimal)> {
        c.totals()
            .iter()
            .map(|t| {
                (
                    t.category().to_string(),
                    t.purchase_periods(),
                    t.net_spend(),
                )
            })
            .collect()
    }

    #[test]
    fn returns_net_against_their_category_and_later_transactions_are_left_out() {
        use TransactionKind::Return;
        let log = [
            in_cat(buy(1, 1, 5, 3000), "toys"),
            in_cat(buy(1, 1, 5, 1000), "toys"), // same day: one purchase period
            in_cat(buy(1, 2, 1, 2000), "books"),
            in_cat(buy(1, 2, 9, 500), "toys"),
            in_cat(tx(1, 2, 10, 1500, Return), "toys"),
            buy(1, 2, 11, 700),                         // no category
            tx(1, 2, 12, 200, Return),                  // nets against the uncategorised bucket
            in_cat(tx(1, 3, 1, 2500, Return), "books"), // more than was bought: negative
            in_cat(buy(1, 4, 1, 9999), "garden"),       // after the as-of date
            in_cat(tx(2, 1, 1, 100, Return), "toys"),   // a return only
        ];
        let m = mix(&log, ReturnPolicy::NetAgainstPurchase, Grain::Day);
        assert_eq!(m.len(), 2);
        let one = m.get(&CustomerId::from(1u64)).unwrap();
        // books 20.00 − 25.00; toys 30 + 10 + 5 − 15 = 30.00 on 2 days; uncategorised 7 − 2.
        let want = vec![
            ("books".to_string(), 1, cents(-500)),
            ("toys".to_string(), 2, cents(3000)),
            ("(uncategorised)".to_string(), 1, cents(500)),
        ];
        assert_eq!(rows(one), want);
        assert!(one.get(&named("garden")).is_none());
        assert_eq!(one.get(&named("toys")).unwrap().purchase_periods(), 2);
        // Spend: books counts 0 (negative), toys 30 of 35, uncategorised 5 of 35.
        let spend = one.shares(ShareBasis::Spend).unwrap();
        assert_eq!(spend, vec![0.0, 30.0 / 35.0, 5.0 / 35.0]);
        let purchases = one.shares(ShareBasis::Purchases).unwrap();
        assert_eq!(purchases, vec![0.25, 0.5, 0.25]);
        // The return-only customer is kept, with no purchase and no share on either basis.
        let two = m.get(&CustomerId::from(2u64)).unwrap();
        assert_eq!(rows(two), vec![("toys".to_string(), 0, cents(-100))]);
        assert!(!two.has_categorised_purchases());
        assert_eq!(two.shares(ShareBasis::Spend), None);
        assert_eq!(two.shares(ShareBasis::Purchases), None);

        // Ignoring returns: purchases only, and the return-only customer has nothing to count.
        let ignored = mix(&log, ReturnPolicy::Ignore, Grain::Day);
        assert_eq!(ignored.len(), 1);
        let one = ignored.get(&CustomerId::from(1u64)).unwrap();
        assert_eq!(
            rows(one),
            vec![
                ("books".to_string(), 1, cents(2000)),
                ("toys".to_string(), 2, cents(4500)),
                ("(uncategorised)".to_string(), 1, cents(700)),
            ]
        );
    }

    #[test]
    fn purchase_periods_follow_the_grain_and_categories_sort_by_name() {
        let at = |h| day(1, 5).and_hms_opt(h, 0, 0).unwrap();
        let t = |h, c| {
            Transaction::new(
                CustomerId::from(1u64),
                at(h),
                Decimal::ONE,
                TransactionKind::Purchase,
            )
            .unwrap()
            .with_category(c)
            .unwrap()
        };
        let log = [t(9, "b"), t(10, "b"), t(9, "a"), t(9, "B")];
        let day_grain = mix(&log, ReturnPolicy::NetAgainstPurchase, Grain::Day);
        let moments = mix(&log, ReturnPolicy::NetAgainstPurchase, Grain::Timestamp);
        let periods = |m: &CategoryMix| -> Vec<(String, u32)> {
            m.customers()[0]
                .totals()
                .iter()
                .map(|t| (t.category().to_string(), t.purchase_periods()))
                .collect()
        };
        let names = |v: &[(&str, u32)]| -> Vec<(String, u32)> {
            v.iter().map(|&(c, n)| (c.to_string(), n)).collect()
        };
        assert_eq!(periods(&day_grain), names(&[("B", 1), ("a", 1), ("b", 1)]));
        assert_eq!(periods(&moments), names(&[("B", 1), ("a", 1), ("b", 2)]));
    }

    #[test]
    fn the_ledger_mix_is_the_slice_mix_in_id_order() {
        let log = [
            in_cat(buy(9, 1, 5, 100), "x"),
            buy(3, 1, 6, 200),
            in_cat(buy(5, 1, 7, 300), "y"),
            in_cat(buy(3, 1, 8, 300), "y"),
        ];
        let mut ledger = crate::Ledger::new(crate::LedgerOptions::default());
        ledger.extend_transactions(log.iter().cloned()).unwrap();
        let from_ledger = ledger.category_mix(day(3, 31)).unwrap();
        assert_eq!(
            from_ledger,
            mix(&log, ReturnPolicy::NetAgainstPurchase, Grain::Day)
        );
        let ids: Vec<u64> = from_ledger
            .iter()
            .map(|c| c.id().to_string().parse().unwrap())
            .collect();
        assert_eq!(ids, [3, 5, 9]);
        assert!(from_ledger.has_categorised_purchases());
        assert_eq!(from_ledger.as_of(), day(3, 31));
        let empty = ledger.category_mix(day(1, 1)).unwrap();
        assert!(empty.is_empty() && !empty.has_categorised_purchases());
    }

    #[test]
    fn an_overflowing_category_total_is_an_error_naming_the_customer() {
        let huge = in_cat(
            Transaction::purchase(CustomerId::from(4u64), day(1, 1), Decimal::MAX).unwrap(),
            "x",
        );
        let later = in_cat(
            Transaction::purchase(CustomerId::from(4u64), day(1, 2), Decimal::MAX).unwrap(),
            "x",
        );
        let err = CategoryMix::from_transactions(
            &[huge, later],
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            day(3, 31),
        )
        .unwrap_err();
        assert_eq!(err, SummaryError::SpendOverflow(CustomerId::from(4u64)));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn categories_serialize_as_their_names_and_the_bucket_as_null() {
        let json = serde_json::to_string(&[named("books"), Category::Uncategorised]).unwrap();
        assert_eq!(json, r#"["books",null]"#);
    }

    #[test]
    fn category_names_are_checked_like_the_records() {
        assert_eq!(named(" toys "), named("toys"));
        assert_eq!(named("toys").name(), Some("toys"));
        assert_eq!(Category::Uncategorised.name(), None);
        assert!(named("a") < named("b") && named("z") < Category::Uncategorised);
        let err = Category::named("\t").unwrap_err();
        assert!(err.to_string().contains("category is empty"), "{err}");
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        /// On either basis, the shares of a customer with any weight are in 0..=1 and sum to 1;
        /// the net spend of the buckets adds up to the customer's purchases minus returns on or
        /// before the as-of date (none dropped); and each bucket has at least one transaction.
        #[test]
        fn shares_sum_to_one_and_no_transaction_is_dropped(
            rows in proptest::collection::vec(
                (0u64..4, 1u32..=4, 1u32..=28, 0i64..5_000, 0usize..4, any::<bool>()),
                1..60,
            ),
        ) {
            let cats = ["a", "b", "c"];
            let log: Vec<Transaction> = rows
                .iter()
                .map(|&(id, m, d, c, cat, ret)| {
                    let kind = if ret { TransactionKind::Return } else { TransactionKind::Purchase };
                    let t = tx(id, m, d, c, kind);
                    match cats.get(cat) {
                        Some(name) => t.with_category(name).unwrap(),
                        None => t,
                    }
                })
                .collect();
            let m = mix(&log, ReturnPolicy::NetAgainstPurchase, Grain::Day);
            for c in m.iter() {
                let net: Decimal = log
                    .iter()
                    .filter(|t| t.customer() == c.id() && t.date() <= day(3, 31))
                    .map(Transaction::signed_amount)
                    .sum();
                prop_assert_eq!(c.totals().iter().map(CategoryTotals::net_spend).sum::<Decimal>(), net);
                let mut sorted = c.totals().to_vec();
                sorted.sort_by(|a, b| a.category().cmp(b.category()));
                prop_assert_eq!(&sorted, &c.totals().to_vec());
                for basis in [ShareBasis::Spend, ShareBasis::Purchases] {
                    if let Some(shares) = c.shares(basis) {
                        prop_assert_eq!(shares.len(), c.totals().len());
                        prop_assert!(shares.iter().all(|s| (0.0..=1.0).contains(s)));
                        prop_assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                    }
                }
            }
            let customers_by_march = log
                .iter()
                .filter(|t| t.date() <= day(3, 31))
                .map(|t| t.customer().clone())
                .collect::<std::collections::BTreeSet<_>>();
            prop_assert_eq!(m.len(), customers_by_march.len());
        }
    }
}
