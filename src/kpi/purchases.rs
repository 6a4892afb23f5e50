//! Purchase KPIs: the repeat-purchase rate, purchase frequency, average order value and revenue
//! per customer.

use rust_decimal::Decimal;

use super::arith::ratio;
use super::customers::{tally, PeriodTally};
use super::error::KpiError;
use super::period::Period;
use crate::ledger::Ledger;
use crate::summary::Summaries;

/// Share of summarised customers with at least one repeat purchase period (x ≥ 1), over the
/// summaries' window (first purchases through their as-of date).
///
/// # Errors
///
/// [`KpiError::Empty`] when the summaries hold no customer.
pub fn repeat_purchase_rate(summaries: &Summaries) -> Result<f64, KpiError> {
    if summaries.is_empty() {
        return Err(KpiError::Empty {
            what: "customers",
            kpi: "repeat-purchase rate",
        });
    }
    let repeat = summaries.iter().filter(|s| s.frequency() > 0).count();
    Ok(ratio(repeat, summaries.len()))
}

/// Order-level figures of a period.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PurchaseMetrics {
    /// The period.
    pub period: Period,
    /// Distinct customers with a purchase in the period.
    pub customers: usize,
    /// Purchase records (orders) in the period.
    pub orders: usize,
    /// Purchases minus returns dated in the period.
    pub net_revenue: Decimal,
    /// Orders per buying customer.
    pub purchase_frequency: f64,
    /// Net revenue per order (to 6 decimal places).
    pub average_order_value: Decimal,
    /// Net revenue per buying customer (to 6 decimal places).
    pub revenue_per_customer: Decimal,
}

/// Purchase frequency, average order value and revenue per customer over `period`. Orders are
/// purchase records as given to the ledger (not merged by day).
///
/// # Errors
///
/// [`KpiError::Empty`] when no purchase falls in the period; [`KpiError::Overflow`] when the net
/// revenue does not fit a decimal.
pub fn purchase_metrics(ledger: &Ledger, period: Period) -> Result<PurchaseMetrics, KpiError> {
    let (tallies, _) = tally(ledger, &[period], None);
    match tallies.into_iter().next() {
        Some(t) => metrics_of(period, t),
        None => Err(KpiError::Empty {
            what: "purchases in the period",
            kpi: "purchase metrics",
        }),
    }
}

/// [`purchase_metrics`] of a period from its tally.
pub(super) fn metrics_of(period: Period, t: PeriodTally) -> Result<PurchaseMetrics, KpiError> {
    let revenue = t.net_revenue.ok_or(KpiError::Overflow("the net revenue"))?;
    let (orders, customers) = (t.orders, t.buyers.len());
    if orders == 0 {
        return Err(KpiError::Empty {
            what: "purchases in the period",
            kpi: "purchase metrics",
        });
    }
    // Rounded to 6 decimal places (midpoint to even): a quotient of money is not money.
    let per = |n: usize| (revenue / Decimal::from(n as u64)).round_dp(6);
    Ok(PurchaseMetrics {
        period,
        customers,
        orders,
        net_revenue: revenue,
        purchase_frequency: ratio(orders, customers),
        average_order_value: per(orders),
        revenue_per_customer: per(customers),
    })
}
