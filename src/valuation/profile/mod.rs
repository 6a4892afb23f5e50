//! Attributes against behaviour: how each customer attribute (age, region, channel, …) goes
//! with frequency, mean spend, P(alive) and CLV, and what each segment's customers look like.
//!
//! The input is an [`AttributeTable`](crate::covariates::AttributeTable), one [`Behaviour`]
//! row per customer (from an [`EquityReport`](super::EquityReport) and its summaries with
//! [`Behaviour::from_report`], or built by the host) and optionally segment labels
//! ([`CustomerGroups`](crate::kpi::CustomerGroups)). [`AttributeProfile::compute`] gives:
//!
//! - per numeric attribute and measure: Pearson's r with its Fisher-z interval and p-value,
//!   and Spearman's ρ (ranks, robust to the skew and outliers of spend and CLV) with its
//!   p-value;
//! - per categorical attribute and measure: each level's count and mean with Student's t
//!   interval, the one-way ANOVA F test with η² (the classic comparison of group means),
//!   Welch's F test (no equal-variance assumption: spend and CLV vary far more among heavy
//!   buyers) and the Kruskal–Wallis rank test (no normality assumption);
//! - per segment (with segment labels): each numeric attribute's n, mean, standard deviation
//!   and quartiles, and each categorical attribute's level shares.
//!
//! Customers without a value of an attribute, without a mean spend (no repeat purchase) or
//! without a segment are counted and left out of the rows they cannot enter, never silently
//! dropped. Degenerate data gives statistics that are [`NotComputable`] with a reason, never
//! NaN. The p-values are per test, not adjusted for the many tests of a profile: read them as
//! a screen, not as confirmations.

mod behaviour;
mod compute;
mod error;
mod estimate;
mod stats;
mod types;

pub use behaviour::Behaviour;
pub use compute::{ProfileOptions, DEFAULT_LEVEL, MAX_LEVELS};
pub use error::ProfileError;
pub use estimate::{Estimate, NotComputable};
pub use types::{
    AnovaTest, Association, AttributeAssociation, AttributeBySegment, AttributeProfile,
    CategoricalAssociation, Correlation, Distribution, KruskalWallis, LevelMean, LevelShare,
    Measure, NumericAssociation, NumericSummary, RankCorrelation, SegmentDistribution,
    SegmentPortrait, WelchTest,
};

#[cfg(test)]
mod tests;
