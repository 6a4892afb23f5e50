//! The standard KPI set of a ledger at an end date.

use chrono::NaiveDate;

use super::categories::{category_kpis, CategoryKpi};
use super::concentration::{Concentration, TopShare};
use super::customers::{first_purchase, tally, CohortBit};
use super::error::KpiError;
use super::feedback::{net_promoter_score, satisfaction, Nps, Satisfaction};
use super::period::Period;
use super::purchases::{metrics_of, repeat_purchase_rate, PurchaseMetrics};
use super::retention::{retention_of, CohortGrain, CohortMatrix, Cohorts, Retention};
use crate::concurrent::join;
use crate::ledger::Ledger;
use crate::summary::Summaries;

/// A standard KPI set of a ledger at an end date, as `clv kpi` prints it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KpiReport {
    /// The current period: `period_days` days ending at the end date.
    pub period: Period,
    /// The period of the same length before it.
    pub previous_period: Period,
    /// Retention from the previous to the current period.
    pub retention: Option<Retention>,
    /// Orders, AOV and revenue in the current period.
    pub current: Option<PurchaseMetrics>,
    /// Orders, AOV and revenue from the first purchase through the end date.
    pub to_date: PurchaseMetrics,
    /// Share of customers with a repeat purchase by the end date (day grain).
    pub repeat_purchase_rate: f64,
    /// Share of spend of the top 1%, 10% and 20% of customers (by spend to date); empty when the
    /// spend to date is zero (free orders only).
    pub top_shares: Vec<TopShare>,
    /// Gini of spend to date; `None` when the spend to date is zero.
    pub gini: Option<f64>,
    /// Monthly acquisition cohorts.
    pub cohorts: CohortMatrix,
    /// NPS in the current period, when the ledger has recommend answers there.
    pub nps: Option<Nps>,
    /// Satisfaction in the current period, when the ledger has scores there.
    pub satisfaction: Option<Satisfaction>,
    /// Per product category in the current period: buyers, repeat rate, net revenue and spend
    /// share ([`category_kpis`]); empty, and left out of the JSON, when no transaction in the
    /// period carries a category.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Vec::is_empty"))]
    pub categories: Vec<CategoryKpi>,
}

impl KpiReport {
    /// Computes the report: retention between the `period_days` days ending at `end` and the
    /// same length before; purchase metrics for that period and to date; the repeat-purchase rate
    /// and spend concentration over all purchases through `end`; monthly cohorts. Retention,
    /// the current period's metrics, NPS and satisfaction are left out when they cannot be
    /// computed (nobody bought in the previous period, no response).
    ///
    /// # Errors
    ///
    /// [`KpiError::Empty`] when no purchase falls on or before `end` (or none counts after its
    /// returns); [`KpiError::InvalidParameter`] when `period_days` is 0 or the spend to date cannot
    /// be shared out (a customer's net spend negative); [`KpiError::Summary`] when
    /// the ledger cannot be summarised (a return with no purchase before it);
    /// [`KpiError::Overflow`] or [`KpiError::DateOutOfRange`] at the limits of decimals and dates;
    /// [`KpiError::Overflow`] also when a category's net revenue does not fit a decimal;
    /// [`KpiError::TooManyPeriods`] when the monthly cohorts from the first purchase to `end`
    /// exceed [`MAX_COHORT_PERIODS`](super::MAX_COHORT_PERIODS).
    pub fn new(ledger: &Ledger, end: NaiveDate, period_days: u32) -> Result<Self, KpiError> {
        let summaries = ledger.summarize((end, crate::time::TimeUnit::DAYS))?;
        KpiReport::with_summaries(ledger, end, period_days, &summaries)
    }

    /// [`new`](Self::new) with the ledger's summaries at `end` already made (in any time unit:
    /// only frequencies and spend are read), as a valuation at that date has them.
    pub(crate) fn with_summaries(
        ledger: &Ledger,
        end: NaiveDate,
        period_days: u32,
        summaries: &Summaries,
    ) -> Result<Self, KpiError> {
        let period = Period::ending(end, period_days)?;
        let previous_period = period.preceding()?;
        let first = first_purchase(ledger, end).ok_or(KpiError::Empty {
            what: "purchases",
            kpi: "the KPI report",
        })?;
        let to_date_period = Period::new(first, end)?;
        let cohorts = Cohorts::new(CohortGrain::Months, end, first);
        // The log is read once for the purchase metrics, retention and the cohorts (when each
        // customer's months fit a word), beside the concentration of the summaries' spend.
        let (tallied, concentration) = join(
            || {
                let bit = |d| cohorts.as_ref().ok().and_then(|c| c.bit(d));
                let fits = cohorts.as_ref().is_ok_and(Cohorts::fits_a_word);
                tally(
                    ledger,
                    &[to_date_period, period, previous_period],
                    fits.then_some(&bit as CohortBit<'_>),
                )
            },
            // Free orders only: no spend to share out, so no concentration (not an error).
            || match summaries.iter().all(|s| s.total_spend().is_zero()) {
                true => Ok(None),
                false => Concentration::of_spend(summaries).map(Some),
            },
        );
        let (tallies, masks) = tallied;
        let mut tallies = tallies.into_iter();
        let (Some(to_date), Some(current), Some(previous)) =
            (tallies.next(), tallies.next(), tallies.next())
        else {
            return Err(KpiError::Empty {
                what: "purchases",
                kpi: "the KPI report",
            });
        };
        let retention = retention_of(&previous.buyers, &current.buyers).ok();
        let current = metrics_of(period, current).ok();
        let to_date = metrics_of(to_date_period, to_date);
        let cohorts = cohorts.and_then(|c| {
            let masks = c.fits_a_word().then_some(masks);
            c.matrix(ledger, masks)
        });
        let to_date = to_date?;
        let concentration = concentration?;
        let top_shares = match &concentration {
            Some(c) => c.top_shares(&[0.01, 0.1, 0.2])?,
            None => Vec::new(),
        };
        let repeat_purchase_rate = repeat_purchase_rate(summaries)?;
        let cohorts = cohorts?;
        let categories = category_kpis(ledger, period)?;
        Ok(KpiReport {
            period,
            previous_period,
            retention,
            current,
            to_date,
            repeat_purchase_rate,
            top_shares,
            gini: concentration.as_ref().map(Concentration::gini),
            cohorts,
            nps: net_promoter_score(ledger.feedback(), period).ok(),
            satisfaction: satisfaction(ledger.feedback(), period).ok(),
            categories,
        })
    }
}
