//! The types of the equity report's feedback section (made by `feedback.rs`): NPS and
//! satisfaction per segment, tier and asset class, and the detractors among high-value customers.

use std::fmt;

use crate::kpi::{FeedbackAtRisk, FeedbackByGroup, Period};

/// The confidence level of the intervals in the report's feedback section.
pub const FEEDBACK_LEVEL: f64 = 0.95;

/// The share of customers by CLV that counts as high-value in the report's feedback section:
/// the top 20%.
pub const HIGH_VALUE_TOP_SHARE: f64 = 0.2;

/// Feedback per group of one segmenter.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentFeedback {
    /// The segmenter's name.
    pub segmenter: String,
    /// Its segments, in the order of the report's equity by segment.
    pub feedback: FeedbackByGroup,
}

/// NPS and satisfaction per segment, tier and asset class, and the detractors among high-value
/// customers, over one period ([`EquityReport::feedback`](crate::valuation::EquityReport::feedback)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FeedbackBySegment {
    /// The period of the feedback.
    pub period: Period,
    /// The confidence level of the intervals.
    pub level: f64,
    /// Per named segmenter, in the order they were added.
    pub by_segment: Vec<SegmentFeedback>,
    /// Per loyalty tier held at the as-of date (up the ladder); `None` without tier rules.
    /// Customers holding no tier count as ungrouped.
    pub by_tier: Option<FeedbackByGroup>,
    /// Per asset class (class order); `None` only when the section could not be made.
    pub by_asset_class: Option<FeedbackByGroup>,
    /// The detractors among high-value customers; `None` only when the section could not be
    /// made.
    pub at_risk: Option<FeedbackAtRisk>,
    /// Why parts are missing or empty (no feedback in the period, an error), when they are.
    pub note: Option<String>,
}

fn groups(f: &mut fmt::Formatter<'_>, title: &str, by: &FeedbackByGroup) -> fmt::Result {
    writeln!(f, "  {title}")?;
    for g in &by.groups {
        write!(f, "    {:<24} {:>9}", g.label, g.responses)?;
        match &g.nps {
            Some(n) => write!(
                f,
                "  NPS {:>6.1} [{:.1}, {:.1}]",
                n.nps.score, n.interval.lower, n.interval.upper
            )?,
            None => write!(f, "  NPS      -")?,
        }
        match &g.satisfaction {
            Some(s) => writeln!(
                f,
                "  satisfaction {:.3} [{:.3}, {:.3}]",
                s.satisfaction.mean_normalized, s.interval.lower, s.interval.upper
            )?,
            None => writeln!(f)?,
        }
    }
    if by.ungrouped.responses > 0 {
        writeln!(
            f,
            "    (in no group: {} responses from {} customers)",
            by.ungrouped.responses, by.ungrouped.customers
        )?;
    }
    Ok(())
}

impl fmt::Display for FeedbackBySegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\nFeedback ({} to {}; {:.0}% intervals; responses, NPS, satisfaction 0–1)",
            self.period.start(),
            self.period.end(),
            self.level * 100.0
        )?;
        if let Some(note) = &self.note {
            writeln!(f, "  {note}")?;
        }
        if let Some(by) = &self.by_asset_class {
            groups(f, "By asset class", by)?;
        }
        for s in &self.by_segment {
            groups(f, &format!("By segment: {}", s.segmenter), &s.feedback)?;
        }
        if let Some(by) = &self.by_tier {
            groups(f, "By loyalty tier", by)?;
        }
        if let Some(r) = &self.at_risk {
            writeln!(
                f,
                "  detractors among high-value customers (CLV ≥ {}): {}, CLV {} ({} detractors in all, {} not valued)",
                r.threshold.round_dp(2),
                r.customers.len(),
                r.value_at_risk.round_dp(2),
                r.detractors,
                r.unvalued_detractors
            )?;
        }
        Ok(())
    }
}
