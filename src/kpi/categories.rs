//! Category KPIs: per product category, its buyers, their repeat rate and its share of net
//! revenue over a period.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::arith::ratio;
use super::error::KpiError;
use super::period::Period;
use crate::ledger::Ledger;
use crate::summary::{tally_categories, Category};

/// One category's figures over a period.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CategoryKpi {
    /// The category (the uncategorised bucket last).
    pub category: Category,
    /// Customers with a purchase in the category in the period.
    pub customers: usize,
    /// Of those, the customers with purchases in it in two or more purchase periods (days, at
    /// the ledger's default grain) of the period.
    pub repeat_customers: usize,
    /// `repeat_customers / customers`; `None` when no customer bought in the category in the
    /// period (it had returns only).
    pub repeat_rate: Option<f64>,
    /// Purchases minus returns in the category dated in the period (a return without a
    /// category counts in the uncategorised bucket).
    pub net_revenue: Decimal,
    /// `net_revenue` over the net revenue of all categories in the period (negative for a
    /// category with more returns than purchases; the shares sum to 1); `None` when the period's
    /// net revenue is not positive.
    pub spend_share: Option<f64>,
}

/// Per category, over `period`: the customers who bought in it, the share of them who bought in
/// it in two or more purchase periods (at the ledger's grain, days by default) within the
/// period, its net revenue and its share of the period's net revenue. Categories in
/// [`Category`] order, named ones by name and the uncategorised bucket (transactions without a
/// category, returns included) last. Empty when no transaction dated in the period carries a
/// category.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{category_kpis, Period};
/// use customer_assets::{CustomerId, Ledger, LedgerOptions, Transaction};
/// use rust_decimal::Decimal;
/// let d = |day| NaiveDate::from_ymd_opt(2024, 1, day).ok_or("bad date");
/// let mut ledger = Ledger::new(LedgerOptions::default());
/// for (id, day, amount, category) in [(1u64, 2, 30, "books"), (1, 9, 10, "books"), (2, 3, 60, "toys")] {
///     let t = Transaction::purchase(CustomerId::from(id), d(day)?, Decimal::from(amount))?;
///     ledger.add_transaction(t.with_category(category)?)?;
/// }
/// let kpis = category_kpis(&ledger, Period::new(d(1)?, d(31)?)?)?;
/// assert_eq!(kpis[0].category.to_string(), "books");
/// assert_eq!((kpis[0].customers, kpis[0].repeat_rate), (1, Some(1.0)));
/// assert_eq!(kpis[1].spend_share, Some(0.6)); // toys: 60 of 100
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::Overflow`] when a category's net revenue, or their total, does not fit a decimal.
pub fn category_kpis(ledger: &Ledger, period: Period) -> Result<Vec<CategoryKpi>, KpiError> {
    let in_period = |t: &crate::records::Transaction| period.contains(t.date());
    if !ledger
        .transactions()
        .iter()
        .any(|t| t.category().is_some() && in_period(t))
    {
        return Ok(Vec::new());
    }
    let overflow = KpiError::Overflow("a category's net revenue");
    let rows = ledger
        .transaction_slots()
        .iter()
        .map(|&s| s as usize)
        .zip(ledger.transactions());
    // The KPIs net every return dated in the period, whatever the ledger's return policy.
    let tallied = tally_categories(rows, ledger.options().get_grain(), true, in_period)
        .map_err(|_| overflow.clone())?;
    let mut out: Vec<CategoryKpi> = Vec::new();
    for totals in tallied.iter().flat_map(|(_, list)| list) {
        let i = match out.binary_search_by(|k| k.category.cmp(totals.category())) {
            Ok(i) => i,
            Err(i) => {
                let kpi = CategoryKpi {
                    category: totals.category().clone(),
                    customers: 0,
                    repeat_customers: 0,
                    repeat_rate: None,
                    net_revenue: Decimal::ZERO,
                    spend_share: None,
                };
                out.insert(i, kpi);
                i
            }
        };
        let Some(k) = out.get_mut(i) else { continue };
        k.customers += usize::from(totals.purchase_periods() > 0);
        k.repeat_customers += usize::from(totals.purchase_periods() > 1);
        k.net_revenue = k
            .net_revenue
            .checked_add(totals.net_spend())
            .ok_or_else(|| overflow.clone())?;
    }
    let total = out.iter().try_fold(Decimal::ZERO, |sum, k| {
        sum.checked_add(k.net_revenue)
            .ok_or(KpiError::Overflow("the net revenue of the period"))
    })?;
    for k in &mut out {
        k.repeat_rate = (k.customers > 0).then(|| ratio(k.repeat_customers, k.customers));
        // A quotient of floats (every decimal is one, below 8e28): finite for a positive total,
        // and correctly rounded when both amounts are exact in binary.
        k.spend_share = (total > Decimal::ZERO)
            .then(|| Some(k.net_revenue.to_f64()? / total.to_f64()?))
            .flatten();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{CustomerId, Transaction, TransactionKind};
    use crate::LedgerOptions;
    use chrono::NaiveDate;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn t(id: u64, m: u32, d: u32, amount: i64, kind: TransactionKind, cat: &str) -> Transaction {
        let t = Transaction::new(
            CustomerId::from(id),
            day(m, d).and_hms_opt(12, 0, 0).unwrap(),
            Decimal::from(amount),
            kind,
        )
        .unwrap();
        if cat.is_empty() {
            t
        } else {
            t.with_category(cat).unwrap()
        }
    }

    #[test]
    fn repeat_rates_and_spend_shares_on_a_hand_built_ledger() {
        use TransactionKind::{Purchase as P, Return as R};
        let mut l = Ledger::new(LedgerOptions::default());
        l.extend_transactions([
            t(1, 1, 20, 500, P, "books"), // before the period
            t(1, 2, 1, 40, P, "books"),
            t(1, 2, 1, 10, P, "books"), // same day: still one purchase period
            t(2, 2, 3, 30, P, "books"),
            t(2, 2, 17, 20, P, "books"), // customer 2's second day in books: a repeat
            t(2, 2, 18, 10, R, "books"),
            t(3, 2, 5, 100, P, "toys"),
            t(1, 2, 6, 50, P, ""),
            t(3, 2, 7, 30, R, ""),
            t(4, 2, 8, 15, R, "garden"), // a return only
            t(2, 3, 1, 999, P, "toys"),  // after the period
        ])
        .unwrap();
        let kpis = category_kpis(&l, Period::new(day(2, 1), day(2, 29)).unwrap()).unwrap();
        let names: Vec<String> = kpis.iter().map(|k| k.category.to_string()).collect();
        assert_eq!(names, ["books", "garden", "toys", "(uncategorised)"]);
        // books: customers 1 (one day) and 2 (two days): repeat 1 of 2; 40 + 10 + 30 + 20 − 10.
        // garden: −15, nobody bought. toys: 100. uncategorised: 50 − 30 = 20.
        // Net revenue 90 − 15 + 100 + 20 = 195.
        let want = [
            (2, 1, Some(0.5), 90, 90.0 / 195.0),
            (0, 0, None, -15, -15.0 / 195.0),
            (1, 0, Some(0.0), 100, 100.0 / 195.0),
            (1, 0, Some(0.0), 20, 20.0 / 195.0),
        ];
        for (k, (customers, repeat, rate, net, share)) in kpis.iter().zip(want) {
            assert_eq!(
                (
                    k.customers,
                    k.repeat_customers,
                    k.repeat_rate,
                    k.net_revenue
                ),
                (customers, repeat, rate, Decimal::from(net)),
                "{}",
                k.category
            );
            let got = k.spend_share.unwrap();
            assert!(
                (got - share).abs() < 1e-15,
                "{} {got} vs {share}",
                k.category
            );
        }
        let sum: f64 = kpis.iter().filter_map(|k| k.spend_share).sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn no_category_in_the_period_is_empty_and_no_positive_revenue_has_no_shares() {
        use TransactionKind::{Purchase as P, Return as R};
        let mut l = Ledger::new(LedgerOptions::default());
        l.extend_transactions([
            t(1, 1, 5, 10, P, "books"),
            t(1, 2, 5, 10, P, ""),
            t(1, 3, 5, 10, P, "books"),
            t(1, 3, 6, 10, R, "books"),
        ])
        .unwrap();
        let feb = Period::new(day(2, 1), day(2, 29)).unwrap();
        assert_eq!(category_kpis(&l, feb).unwrap(), []);
        let march = Period::new(day(3, 1), day(3, 31)).unwrap();
        let kpis = category_kpis(&l, march).unwrap();
        assert_eq!(kpis.len(), 1);
        assert_eq!(kpis[0].net_revenue, Decimal::ZERO);
        assert_eq!(kpis[0].spend_share, None);
        assert_eq!(kpis[0].repeat_rate, Some(0.0));
    }
}
