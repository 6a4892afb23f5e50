//! The equity report's feedback section, made from the ledger's feedback and the report's
//! groups (the types are in `feedback_section.rs`, which the report reads).

use crate::kpi::{
    detractors_at_risk, feedback_by_group, ClvThreshold, CustomerGroups, KpiError, Period,
};
use crate::ledger::Ledger;
use crate::records::Feedback;

use super::feedback_section::{
    FeedbackBySegment, SegmentFeedback, FEEDBACK_LEVEL, HIGH_VALUE_TOP_SHARE,
};
use super::report::EquityReport;

impl EquityReport {
    /// NPS and satisfaction (with intervals at `level`) of the `feedback` dated in `period`,
    /// per segment of each named segmenter, per tier and per asset class of the report's
    /// customers, and the customers whose latest recommend answer in the period is a
    /// detractor's among those whose CLV meets `high_value`. Feedback from customers who are not
    /// in the report (no purchase by the as-of date), or in no tier, is counted as ungrouped.
    /// [`Valuation::run`](super::Valuation::run) fills [`feedback`](Self::feedback) with this at
    /// [`FEEDBACK_LEVEL`] and the top [`HIGH_VALUE_TOP_SHARE`] over the KPI period. On a report
    /// already restricted by [`retain_consenting`](Self::retain_consenting), only the customers
    /// left are grouped and valued (the others' feedback counts as ungrouped and unvalued).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::kpi::{ClvThreshold, Period};
    /// use customer_assets::models::{bg_nbd::BgNbdParams, gamma_gamma::GammaGammaParams};
    /// use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
    /// use customer_assets::segment::rfm::RfmParams;
    /// use customer_assets::valuation::{DiscountRate, Valuation};
    /// use customer_assets::{Feedback, Ledger, LedgerOptions, TimeUnit};
    /// let (start, as_of) = (NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("date")?, NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("date")?);
    /// let base = simulate(
    ///     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
    ///     &SimulationOptions::new(300, start, as_of, TimeUnit::WEEKS, 1)
    ///         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
    /// )?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.extend_transactions(base.transactions().iter().cloned())?;
    /// let report = Valuation::builder()
    ///     .ledger(&ledger)
    ///     .as_of(as_of)
    ///     .unit(TimeUnit::WEEKS)
    ///     .fit_transaction_model(BgNbdParams::new())
    ///     .fit_spend_model(GammaGammaParams::new())
    ///     .margin(0.3)
    ///     .discount(DiscountRate::per_period(0.10, 365.0)?)
    ///     .horizon(52.0)
    ///     .segmenter("rfm", RfmParams::default())
    ///     .build()?
    ///     .run()?;
    /// // Everyone answers on the as-of date, every other customer a detractor (3).
    /// let feedback = report
    ///     .customers
    ///     .iter()
    ///     .enumerate()
    ///     .map(|(k, c)| Feedback::new(c.id.clone(), as_of, None, Some(if k % 2 == 0 { 3 } else { 9 })))
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// let section = report.feedback_by_segment(
    ///     &feedback,
    ///     Period::ending(as_of, 30)?,
    ///     0.9,
    ///     ClvThreshold::TopShare(0.1),
    /// )?;
    /// let rfm = &section.by_segment[0].feedback;
    /// let answered: usize = rfm.groups.iter().map(|g| g.responses).sum();
    /// assert_eq!(answered, report.customers.len());
    /// let at_risk = section.at_risk.as_ref().ok_or("made")?;
    /// assert!(at_risk.customers.iter().all(|c| c.score == 3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidParameter`] for a level not strictly between 0 and 1 or a top share
    /// not in (0, 1]; [`KpiError::Empty`] for a top share of a report without customers;
    /// [`KpiError::Overflow`] when the CLV at risk does not fit a decimal.
    pub fn feedback_by_segment(
        &self,
        feedback: &[Feedback],
        period: Period,
        level: f64,
        high_value: ClvThreshold,
    ) -> Result<FeedbackBySegment, KpiError> {
        let mut by_segment = Vec::with_capacity(self.by_segment.len());
        for (s, equity) in self.by_segment.iter().enumerate() {
            let mut groups = CustomerGroups::new();
            for g in &equity.segments {
                groups.add_group(&g.label);
            }
            for c in &self.customers {
                if let Some((_, label)) = c.segments.get(s) {
                    groups.assign(c.id.clone(), label)?;
                }
            }
            by_segment.push(SegmentFeedback {
                segmenter: equity.segmenter.clone(),
                feedback: feedback_by_group(feedback, period, &groups, level)?,
            });
        }
        let has_tiers = !self.by_tier.is_empty() || self.customers.iter().any(|c| c.tier.is_some());
        let by_tier = if has_tiers {
            let mut groups = CustomerGroups::new();
            for g in &self.by_tier {
                groups.add_group(&g.label);
            }
            for c in &self.customers {
                if let Some(tier) = &c.tier {
                    groups.assign(c.id.clone(), tier)?;
                }
            }
            Some(feedback_by_group(feedback, period, &groups, level)?)
        } else {
            None
        };
        let mut classes = CustomerGroups::new();
        for g in &self.by_asset_class {
            classes.add_group(&g.label);
        }
        for c in &self.customers {
            classes.assign(c.id.clone(), &c.asset_class.to_string())?;
        }
        let by_asset_class = feedback_by_group(feedback, period, &classes, level)?;
        let at_risk = detractors_at_risk(
            feedback,
            period,
            self.customers.iter().map(|c| (&c.id, c.clv)),
            high_value,
        )?;
        let answered = feedback.iter().any(|f| period.contains(f.date()));
        Ok(FeedbackBySegment {
            period,
            level,
            by_segment,
            by_tier,
            by_asset_class: Some(by_asset_class),
            at_risk: Some(at_risk),
            note: (!answered).then(|| "no feedback in the period".to_string()),
        })
    }
}

/// The section [`Valuation::run`](super::Valuation::run) puts in the report: `None` without a
/// ledger, without KPIs asked for (their period is the section's) or without any feedback in the
/// ledger; an empty section with the error as its note when it cannot be made (feedback never
/// takes the report down).
pub(super) fn section(
    report: &EquityReport,
    ledger: Option<&Ledger>,
    period_days: Option<u32>,
) -> Option<FeedbackBySegment> {
    let (ledger, days) = (ledger?, period_days?);
    if ledger.feedback().is_empty() {
        return None;
    }
    let period = Period::ending(report.as_of, days).ok()?;
    let made = report.feedback_by_segment(
        ledger.feedback(),
        period,
        FEEDBACK_LEVEL,
        ClvThreshold::TopShare(HIGH_VALUE_TOP_SHARE),
    );
    Some(made.unwrap_or_else(|e| FeedbackBySegment {
        period,
        level: FEEDBACK_LEVEL,
        by_segment: Vec::new(),
        by_tier: None,
        by_asset_class: None,
        at_risk: None,
        note: Some(format!("feedback by segment could not be made: {e}")),
    }))
}
