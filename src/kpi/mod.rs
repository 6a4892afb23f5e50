//! Key performance indicators of a customer base, each a documented function of the ledger (or
//! of summaries, or of plain values) over a stated period.
//!
//! Periods are [`Period`]s of calendar days, both ends included. Purchases are transactions of
//! kind [`TransactionKind::Purchase`]; revenue is net of returns dated in the same period.
//! A rate whose denominator would be zero (no customers, no orders, no responses) is a typed
//! error, never a NaN.
//!
//! | KPI | function | definition |
//! |---|---|---|
//! | retention, churn | [`retention`] | of the customers who bought in the previous period, the share who bought again in the current one; churn = 1 − retention |
//! | cohort retention | [`cohort_retention`] | per acquisition cohort (period of first purchase), the share buying in each later period |
//! | repeat-purchase rate | [`repeat_purchase_rate`] | share of summarised customers with at least one repeat purchase period (x ≥ 1) |
//! | purchase frequency, AOV, revenue per customer | [`purchase_metrics`] | orders per buying customer; net revenue per order; net revenue per buying customer |
//! | NPS | [`net_promoter_score`] | % promoters (9–10) − % detractors (0–6) among responses in the period, in −100..=100 |
//! | satisfaction | [`satisfaction`] | mean score (normalised to 0..=1 by each response's scale, and raw when all share one scale) |
//! | concentration | [`Concentration`] | top-x% share, Gini, Lorenz points |
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

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::ledger::Ledger;
use crate::records::{CustomerId, Feedback, TransactionKind};
use crate::summary::{Summaries, SummaryError};

mod concentration;
mod report;

pub use concentration::{Concentration, TopShare};
pub use report::KpiReport;

/// Why a KPI could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KpiError {
    /// A period ends before it starts, or two periods that must not overlap do.
    #[error("invalid period: {0}")]
    InvalidPeriod(String),
    /// The KPI's denominator is empty (no customers, orders or responses in the period).
    #[error("no {what} to compute {kpi} from")]
    Empty {
        /// What was missing.
        what: &'static str,
        /// Which KPI.
        kpi: &'static str,
    },
    /// A parameter or input value was invalid: not finite, negative where it must not be, or
    /// zero where it divides.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter or input.
        name: &'static str,
        /// The value given.
        value: String,
        /// What is required.
        reason: &'static str,
    },
    /// A sum of money does not fit a decimal.
    #[error("{0} does not fit a decimal")]
    Overflow(&'static str),
    /// The ledger could not be summarised (for the KPIs read from summaries).
    #[error("the ledger could not be summarised: {0}")]
    Summary(#[from] SummaryError),
    /// A date computation left chrono's range.
    #[error("date out of range")]
    DateOutOfRange,
}

/// A span of calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "PeriodRaw"))]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

/// The serialized form of a [`Period`], checked by [`Period::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PeriodRaw {
    start: NaiveDate,
    end: NaiveDate,
}

#[cfg(feature = "serde")]
impl TryFrom<PeriodRaw> for Period {
    type Error = KpiError;
    fn try_from(raw: PeriodRaw) -> Result<Self, KpiError> {
        Period::new(raw.start, raw.end)
    }
}

impl Period {
    /// The days `start..=end`.
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidPeriod`] when `end` comes before `start`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self, KpiError> {
        if end < start {
            return Err(KpiError::InvalidPeriod(format!(
                "{start} .. {end} ends before it starts"
            )));
        }
        Ok(Period { start, end })
    }

    /// The `days` days ending on `end` (inclusive).
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidParameter`] when `days` is 0; [`KpiError::DateOutOfRange`] when the
    /// period would start before chrono's first date.
    pub fn ending(end: NaiveDate, days: u32) -> Result<Self, KpiError> {
        let back = days.checked_sub(1).ok_or(KpiError::InvalidParameter {
            name: "days",
            value: "0".into(),
            reason: "a period has at least one day",
        })?;
        let start = end
            .checked_sub_days(Days::new(u64::from(back)))
            .ok_or(KpiError::DateOutOfRange)?;
        Period::new(start, end)
    }

    /// The period of the same length that ends the day before this one starts.
    ///
    /// # Errors
    ///
    /// [`KpiError::DateOutOfRange`] when that period would start before chrono's first date.
    pub fn preceding(&self) -> Result<Self, KpiError> {
        let end = self.start.pred_opt().ok_or(KpiError::DateOutOfRange)?;
        let days = u32::try_from(self.days()).map_err(|_| KpiError::DateOutOfRange)?;
        Period::ending(end, days)
    }

    /// First day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }
    /// Last day.
    pub fn end(&self) -> NaiveDate {
        self.end
    }
    /// Number of days.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
    /// Whether `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    num as f64 / den as f64
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Customers who bought (a purchase record) in a period.
fn buyers(ledger: &Ledger, period: Period) -> HashSet<&CustomerId> {
    ledger
        .transactions()
        .iter()
        .filter(|t| t.kind() == TransactionKind::Purchase && period.contains(t.date()))
        .map(|t| t.customer())
        .collect()
}

/// Retention between two periods.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Retention {
    /// Customers who bought in the previous period.
    pub base: usize,
    /// Of those, customers who bought again in the current period.
    pub retained: usize,
    /// retained / base.
    pub retention_rate: f64,
    /// 1 − retention rate.
    pub churn_rate: f64,
}

/// Retention and churn: of the customers with a purchase in `previous`, the share with a purchase
/// in `current` (non-contractual: "retained" means "bought again").
///
/// # Errors
///
/// [`KpiError::InvalidPeriod`] when the periods overlap or `current` comes first;
/// [`KpiError::Empty`] when nobody bought in `previous`.
pub fn retention(
    ledger: &Ledger,
    previous: Period,
    current: Period,
) -> Result<Retention, KpiError> {
    if previous.end >= current.start {
        return Err(KpiError::InvalidPeriod(format!(
            "previous period {}..{} must end before the current one starts ({})",
            previous.start, previous.end, current.start
        )));
    }
    let before = buyers(ledger, previous);
    if before.is_empty() {
        return Err(KpiError::Empty {
            what: "customers buying in the previous period",
            kpi: "retention",
        });
    }
    let now = buyers(ledger, current);
    let retained = before.iter().filter(|c| now.contains(*c)).count();
    let rate = ratio(retained, before.len());
    Ok(Retention {
        base: before.len(),
        retained,
        retention_rate: rate,
        churn_rate: 1.0 - rate,
    })
}

/// How cohort periods are cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum CohortGrain {
    /// Calendar months.
    Months,
    /// Blocks of this many days, starting on the day of the first purchase in the ledger.
    Days(u32),
}

/// One acquisition cohort's row of the retention matrix.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CohortRow {
    /// First day of the acquisition period.
    pub start: NaiveDate,
    /// Customers whose first purchase fell in the period.
    pub size: usize,
    /// `active[k]`: cohort members with a purchase k periods after acquisition (k = 0 is the
    /// acquisition period itself, so `active[0] == size`).
    pub active: Vec<usize>,
    /// `active[k] / size`.
    pub retention: Vec<f64>,
}

/// A cohort retention matrix: one row per acquisition period with at least one customer, each
/// row running through the period that contains the end date (the last one possibly partial).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CohortMatrix {
    /// The grain of the periods.
    pub grain: CohortGrain,
    /// The last day counted.
    pub end: NaiveDate,
    /// The cohorts, oldest first.
    pub rows: Vec<CohortRow>,
}

/// Cohort retention by acquisition period: customers are grouped by the period of their first
/// purchase on or before `end`; cell k of a row is the share of the cohort with a purchase in the
/// k-th period after it.
///
/// # Errors
///
/// [`KpiError::Empty`] when no purchase falls on or before `end`; [`KpiError::InvalidParameter`]
/// for `CohortGrain::Days(0)`; [`KpiError::DateOutOfRange`] when a cohort's first day leaves
/// chrono's calendar.
pub fn cohort_retention(
    ledger: &Ledger,
    grain: CohortGrain,
    end: NaiveDate,
) -> Result<CohortMatrix, KpiError> {
    if grain == CohortGrain::Days(0) {
        return Err(KpiError::InvalidParameter {
            name: "grain",
            value: "0 days".into(),
            reason: "cohort periods have at least one day",
        });
    }
    let purchases = || {
        ledger
            .transactions()
            .iter()
            .filter(|t| t.kind() == TransactionKind::Purchase && t.date() <= end)
    };
    let origin = purchases().map(|t| t.date()).min().ok_or(KpiError::Empty {
        what: "purchases",
        kpi: "cohort retention",
    })?;
    let index = |d: NaiveDate| -> usize {
        match grain {
            CohortGrain::Months => {
                let m = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
                usize::try_from(m(d) - m(origin)).unwrap_or(0)
            }
            CohortGrain::Days(n) => {
                usize::try_from((d - origin).num_days() / i64::from(n)).unwrap_or(0)
            }
        }
    };
    let periods = index(end) + 1;
    // Each customer's first period and the set of periods with a purchase.
    let mut first: HashMap<&CustomerId, usize> = HashMap::new();
    let mut active: HashSet<(&CustomerId, usize)> = HashSet::new();
    for t in purchases() {
        let i = index(t.date());
        let f = first.entry(t.customer()).or_insert(i);
        *f = (*f).min(i);
        active.insert((t.customer(), i));
    }
    let mut rows: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut sizes = vec![0usize; periods];
    for &c in first.values() {
        if let Some(s) = sizes.get_mut(c) {
            *s += 1;
        }
    }
    let mut counts: Vec<Vec<usize>> = (0..periods).map(|c| vec![0; periods - c]).collect();
    for (cust, i) in &active {
        if let Some(&c) = first.get(cust) {
            if let Some(cell) = counts.get_mut(c).and_then(|r| r.get_mut(i - c)) {
                *cell += 1;
            }
        }
    }
    for (c, row) in counts.into_iter().enumerate() {
        if sizes[c] > 0 {
            rows.push((c, row));
        }
    }
    let start_of = |c: usize| -> Result<NaiveDate, KpiError> {
        match grain {
            CohortGrain::Months => origin
                .with_day(1)
                .and_then(|d| d.checked_add_months(Months::new(u32::try_from(c).ok()?)))
                .ok_or(KpiError::DateOutOfRange),
            CohortGrain::Days(n) => origin
                .checked_add_days(Days::new(c as u64 * u64::from(n)))
                .ok_or(KpiError::DateOutOfRange),
        }
    };
    let rows = rows
        .into_iter()
        .map(|(c, active)| {
            let size = sizes[c];
            Ok(CohortRow {
                start: start_of(c)?,
                size,
                retention: active.iter().map(|&a| ratio(a, size)).collect(),
                active,
            })
        })
        .collect::<Result<Vec<_>, KpiError>>()?;
    Ok(CohortMatrix { grain, end, rows })
}

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
    let mut customers: HashSet<&CustomerId> = HashSet::new();
    let mut orders = 0usize;
    let mut revenue = Decimal::ZERO;
    let overflow = || KpiError::Overflow("the net revenue");
    for t in ledger.transactions() {
        if !period.contains(t.date()) {
            continue;
        }
        revenue = revenue
            .checked_add(t.signed_amount())
            .ok_or_else(overflow)?;
        if t.kind() == TransactionKind::Purchase {
            orders += 1;
            customers.insert(t.customer());
        }
    }
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
        customers: customers.len(),
        orders,
        net_revenue: revenue,
        purchase_frequency: ratio(orders, customers.len()),
        average_order_value: per(orders),
        revenue_per_customer: per(customers.len()),
    })
}

/// Net Promoter Score from 0–10 recommend answers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Nps {
    /// Responses with a recommend score in the period.
    pub responses: usize,
    /// Answers 9–10.
    pub promoters: usize,
    /// Answers 7–8.
    pub passives: usize,
    /// Answers 0–6.
    pub detractors: usize,
    /// 100 × (promoters − detractors) / responses, in −100..=100.
    pub score: f64,
}

/// NPS over the feedback records dated in `period` that carry a recommend score (every response
/// counts, a customer answering twice counts twice).
///
/// # Errors
///
/// [`KpiError::Empty`] when no feedback in the period carries a recommend score.
pub fn net_promoter_score(feedback: &[Feedback], period: Period) -> Result<Nps, KpiError> {
    let (mut p, mut n, mut d) = (0usize, 0usize, 0usize);
    for score in feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .filter_map(Feedback::recommend)
    {
        match score {
            9..=10 => p += 1,
            7..=8 => n += 1,
            _ => d += 1,
        }
    }
    let responses = p + n + d;
    if responses == 0 {
        return Err(KpiError::Empty {
            what: "recommend responses",
            kpi: "NPS",
        });
    }
    Ok(Nps {
        responses,
        promoters: p,
        passives: n,
        detractors: d,
        score: 100.0 * (p as f64 - d as f64) / responses as f64,
    })
}

/// Mean satisfaction.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Satisfaction {
    /// Responses with a satisfaction score in the period.
    pub responses: usize,
    /// Mean of (score − min) / (max − min): 0 is the bottom of the scale, 1 the top.
    pub mean_normalized: f64,
    /// Mean raw score, when every response used the same scale.
    pub mean: Option<f64>,
}

/// Mean satisfaction over the feedback records dated in `period` that carry a satisfaction
/// score.
///
/// # Errors
///
/// [`KpiError::Empty`] when no feedback in the period carries a satisfaction score.
pub fn satisfaction(feedback: &[Feedback], period: Period) -> Result<Satisfaction, KpiError> {
    let scores: Vec<_> = feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .filter_map(Feedback::satisfaction)
        .collect();
    let Some(first) = scores.first() else {
        return Err(KpiError::Empty {
            what: "satisfaction responses",
            kpi: "mean satisfaction",
        });
    };
    let n = scores.len() as f64;
    let mean_normalized = scores
        .iter()
        .map(|s| (s.score - s.min) / (s.max - s.min))
        .sum::<f64>()
        / n;
    let same_scale = scores
        .iter()
        .all(|s| s.min == first.min && s.max == first.max);
    Ok(Satisfaction {
        responses: scores.len(),
        mean_normalized,
        mean: same_scale.then(|| scores.iter().map(|s| s.score).sum::<f64>() / n),
    })
}

fn positive(name: &'static str, d: Decimal) -> Result<f64, KpiError> {
    if d <= Decimal::ZERO {
        return Err(KpiError::InvalidParameter {
            name,
            value: d.to_string(),
            reason: "must be positive",
        });
    }
    Ok(to_f64(d))
}

/// CLV : CAC, the value of a customer per unit of acquisition cost (CLV may be negative).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cac` is not positive.
pub fn clv_to_cac(clv: Decimal, cac: Decimal) -> Result<f64, KpiError> {
    let cac = positive("cac", cac)?;
    Ok(to_f64(clv) / cac)
}

/// CAC payback: the number of periods of margin needed to recover the acquisition cost,
/// CAC / (margin earned per customer per period); the caller states the period (a month, a
/// week).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cac` or `margin_per_period` is not positive (a customer who
/// earns nothing never pays back).
pub fn cac_payback_periods(cac: Decimal, margin_per_period: Decimal) -> Result<f64, KpiError> {
    let cac = positive("cac", cac)?;
    let margin = positive("margin_per_period", margin_per_period)?;
    Ok(cac / margin)
}

/// Campaign ROI: (incremental value − cost) / cost, where the incremental value is what the
/// touched customers are worth beyond what they would have been worth untouched (e.g. the CLV
/// uplift against a control group).
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `cost` is not positive.
pub fn campaign_roi(cost: Decimal, incremental_value: Decimal) -> Result<f64, KpiError> {
    let c = positive("cost", cost)?;
    Ok((to_f64(incremental_value) - c) / c)
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    #[test]
    fn periods_from_json_are_checked_and_valid_ones_round_trip() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        let p = Period::new(day(1, 1), day(1, 31)).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        let want = Period::new(day(2, 1), day(1, 31)).unwrap_err();
        let err = serde_json::from_str::<Period>(r#"{"start":"2024-02-01","end":"2024-01-31"}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains(&want.to_string()),
            "{err} vs {want}"
        );
    }
}
