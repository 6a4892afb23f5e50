//! Key performance indicators of a customer base, each a documented function of the ledger (or
//! of summaries, or of plain values) over a stated period.
//!
//! Periods are [`Period`]s of calendar days, both ends included. Purchases are transactions of
//! kind [`TransactionKind::Purchase`](crate::records::TransactionKind::Purchase); revenue is net
//! of returns dated in the same period. A rate whose denominator would be zero (no customers, no
//! orders, no responses) is a typed error, never a NaN.
//!
//! | KPI | function | definition |
//! |---|---|---|
//! | retention, churn | [`retention`] | of the customers who bought in the previous period, the share who bought again in the current one; churn = 1 − retention |
//! | cohort retention | [`cohort_retention`] | per acquisition cohort (period of first purchase), the share buying in each later period |
//! | repeat-purchase rate | [`repeat_purchase_rate`] | share of summarised customers with at least one repeat purchase period (x ≥ 1) |
//! | purchase frequency, AOV, revenue per customer | [`purchase_metrics`] | orders per buying customer; net revenue per order; net revenue per buying customer |
//! | NPS | [`net_promoter_score`] | % promoters (9–10) − % detractors (0–6) among responses in the period, in −100..=100 |
//! | satisfaction | [`satisfaction`] | mean score (normalised to 0..=1 by each response's scale, and raw when all share one scale) |
//! | NPS, satisfaction with intervals | [`net_promoter_score_with_interval`], [`satisfaction_with_interval`], [`nps_interval`] | NPS with Agresti & Min's (2005) Wald+2 interval (½ added to promoters and detractors, 2 to n; truncated to −100..=100); the normalised mean satisfaction with Student's t interval (truncated to 0..=1; the whole scale for one response) |
//! | feedback by group | [`feedback_by_group`], [`feedback_by_group_per_period`] | per group of customers ([`CustomerGroups`]: segment, tier, asset class, any label) and period, responses, NPS and satisfaction each with its interval (none without responses); customers in no group counted apart |
//! | detractors among high-value customers | [`detractors_at_risk`] | customers whose latest recommend answer in the period is 0–6 and whose CLV is at or above a threshold ([`ClvThreshold`]: a top share or an amount), by CLV; their total CLV is the value at risk from feedback |
//! | concentration | [`Concentration`] | top-x% share, Gini, Lorenz points |
//! | category repeat rate | [`category_kpis`] | per product category, of the customers with a purchase in it in the period, the share with purchases in it in two or more purchase periods (days, at the ledger's default grain) within the period; none when nobody bought in it |
//! | category spend share | [`category_kpis`] | a category's net revenue (its purchases minus its returns in the period; returns without a category in the uncategorised bucket) over the period's net revenue; none when that is not positive; the shares sum to 1 |
//! | CLV:CAC, payback | [`clv_to_cac`], [`cac_payback_periods`] | CLV / CAC; CAC / margin per period |
//! | campaign ROI | [`campaign_roi`] | (incremental value − cost) / cost |
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::kpi::{purchase_metrics, retention, Period};
//! use customer_assets::{CustomerId, Ledger, LedgerOptions, Transaction};
//! use rust_decimal::Decimal;
//! let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! for (id, m, day, amount) in [(1u64, 1, 5, 10), (2, 1, 9, 30), (1, 2, 3, 20)] {
//!     ledger.add_transaction(Transaction::purchase(CustomerId::from(id), d(m, day)?, Decimal::from(amount))?)?;
//! }
//! let january = Period::new(d(1, 1)?, d(1, 31)?)?;
//! let february = Period::new(d(2, 1)?, d(2, 29)?)?;
//! let r = retention(&ledger, january, february)?;
//! assert_eq!((r.base, r.retained), (2, 1));
//! assert_eq!(r.retention_rate, 0.5);
//! let jan = purchase_metrics(&ledger, january)?;
//! assert_eq!(jan.average_order_value, Decimal::from(20));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arith;
mod categories;
mod concentration;
mod customers;
mod economics;
mod error;
mod feedback;
mod feedback_groups;
mod period;
mod purchases;
mod report;
mod retention;

pub use categories::{category_kpis, CategoryKpi};
pub use concentration::{Concentration, TopShare};
pub use economics::{cac_payback_periods, campaign_roi, clv_to_cac};
pub use error::KpiError;
pub use feedback::{net_promoter_score, satisfaction, Nps, Satisfaction};
pub use feedback_groups::{
    detractors_at_risk, feedback_by_group, feedback_by_group_per_period,
    net_promoter_score_with_interval, nps_interval, satisfaction_with_interval, AtRiskDetractor,
    ClvThreshold, ConfidenceInterval, CustomerGroups, FeedbackAtRisk, FeedbackByGroup,
    GroupFeedback, NpsEstimate, SatisfactionEstimate, Ungrouped,
};
pub(crate) use feedback_groups::{normal_quantile, t_quantile};
pub use period::Period;
pub use purchases::{purchase_metrics, repeat_purchase_rate, PurchaseMetrics};
pub use report::KpiReport;
pub use retention::{
    cohort_retention, retention, CohortGrain, CohortMatrix, CohortRow, Retention,
    MAX_COHORT_PERIODS,
};
