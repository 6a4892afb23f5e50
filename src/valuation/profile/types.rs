//! What the attribute profile reports: associations per attribute and behaviour measure, and
//! distributions per segment.

use crate::covariates::AttributeKind;
use crate::kpi::ConfidenceInterval;

use super::estimate::Estimate;

/// A per-customer behaviour measure the attributes are set against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Measure {
    /// Repeat purchases x in the calibration period.
    Frequency,
    /// Mean spend per repeat purchase; customers without repeat purchases have none and are
    /// left out of this measure's rows (counted in `without_measure`).
    MeanSpend,
    /// Probability the customer is alive at the as-of date.
    PAlive,
    /// Customer lifetime value, in money.
    Clv,
}

impl Measure {
    /// The four measures, in the order they are reported.
    pub const ALL: [Measure; 4] = [
        Measure::Frequency,
        Measure::MeanSpend,
        Measure::PAlive,
        Measure::Clv,
    ];

    /// `frequency`, `mean_spend`, `p_alive` or `clv`.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Frequency => "frequency",
            Measure::MeanSpend => "mean_spend",
            Measure::PAlive => "p_alive",
            Measure::Clv => "clv",
        }
    }
}

/// Pearson's correlation with its Fisher-z interval and two-sided p-value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Correlation {
    /// Pearson's r, within −1..=1.
    pub r: f64,
    /// The Fisher-z interval at the profile's level: tanh(atanh r ± z / √(n − 3)), z the
    /// normal quantile (needs n ≥ 4 and |r| < 1).
    pub interval: Estimate<ConfidenceInterval>,
    /// The two-sided p-value of r = 0: Student's t = r √((n − 2)/(1 − r²)) on n − 2 degrees of
    /// freedom (exact under bivariate normality; scipy's `pearsonr`).
    pub p_value: f64,
}

/// Spearman's rank correlation (Pearson's r of the ranks, ties given their mean rank) and its
/// two-sided p-value by the t approximation on n − 2 degrees of freedom (scipy's `spearmanr`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RankCorrelation {
    /// Spearman's ρ, within −1..=1.
    pub rho: f64,
    /// The two-sided p-value of ρ = 0.
    pub p_value: f64,
}

/// A numeric attribute against one measure.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NumericAssociation {
    /// The measure.
    pub measure: Measure,
    /// Customers used: they have the attribute and the measure.
    pub n: usize,
    /// Customers with the attribute but without the measure (only mean spend can be absent),
    /// left out of this row.
    pub without_measure: usize,
    /// Pearson's correlation.
    pub pearson: Estimate<Correlation>,
    /// Spearman's rank correlation.
    pub spearman: Estimate<RankCorrelation>,
}

/// The measure's mean in one level of a categorical attribute.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LevelMean {
    /// The level.
    pub level: String,
    /// Customers in the level used.
    pub n: usize,
    /// The mean of the measure.
    pub mean: f64,
    /// The sample standard deviation (n − 1 divisor); `None` for a level of one customer.
    pub sd: Option<f64>,
    /// Student's t interval of the mean at the profile's level, mean ± t(n − 1) sd / √n.
    pub interval: Estimate<ConfidenceInterval>,
}

/// The one-way ANOVA F test that the level means are equal, with η².
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AnovaTest {
    /// F = (SS_between / (k − 1)) / (SS_within / (n − k)).
    pub f: f64,
    /// k − 1, for k levels.
    pub df_between: usize,
    /// n − k.
    pub df_within: usize,
    /// P(F(k − 1, n − k) ≥ f) (scipy's `f_oneway`).
    pub p_value: f64,
    /// η² = SS_between / SS_total: the share of the measure's variance the levels explain.
    pub eta_squared: f64,
}

/// Welch's ANOVA: the test of equal means that does not assume equal variances.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct WelchTest {
    /// Welch's F.
    pub f: f64,
    /// k − 1.
    pub df_between: f64,
    /// The Welch–Satterthwaite denominator degrees of freedom (fractional).
    pub df_within: f64,
    /// P(F(df_between, df_within) ≥ f) (scipy's `f_oneway(..., equal_var=False)`).
    pub p_value: f64,
}

/// The Kruskal–Wallis rank test that the levels' distributions are equal, with ε².
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct KruskalWallis {
    /// H, corrected for ties.
    pub h: f64,
    /// k − 1.
    pub df: usize,
    /// P(χ²(k − 1) ≥ h) (scipy's `kruskal`).
    pub p_value: f64,
    /// ε² = H / (n − 1), the rank analogue of η² (Tomczak & Tomczak 2014).
    pub epsilon_squared: f64,
}

/// A categorical attribute against one measure.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CategoricalAssociation {
    /// The measure.
    pub measure: Measure,
    /// Customers used: they have the attribute and the measure.
    pub n: usize,
    /// Customers with the attribute but without the measure, left out of this row.
    pub without_measure: usize,
    /// Per level (in label order), the measure's mean with its interval.
    pub levels: Vec<LevelMean>,
    /// The one-way ANOVA F test, with η².
    pub anova: Estimate<AnovaTest>,
    /// Welch's F test (unequal variances).
    pub welch: Estimate<WelchTest>,
    /// The Kruskal–Wallis test on ranks (robust to the skew of spend and CLV).
    pub kruskal_wallis: Estimate<KruskalWallis>,
}

/// The association of one attribute with each measure.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Association {
    /// A numeric attribute: correlations, one per measure.
    Numeric(Vec<NumericAssociation>),
    /// A categorical attribute: level means and tests, one per measure.
    Categorical(Vec<CategoricalAssociation>),
}

/// One attribute against behaviour.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AttributeAssociation {
    /// The attribute.
    pub attribute: String,
    /// Its kind.
    pub kind: AttributeKind,
    /// Customers with behaviour and a value of the attribute.
    pub with_value: usize,
    /// Customers with behaviour but no value of the attribute: counted here, left out of every
    /// row of this attribute.
    pub missing: usize,
    /// For a categorical attribute, the levels that occur, in label order (empty for a numeric
    /// one).
    pub levels: Vec<String>,
    /// One entry per measure ([`Measure::ALL`] order); not computable when no customer has a
    /// value, or a categorical attribute has more than [`MAX_LEVELS`](super::MAX_LEVELS) levels.
    pub measures: Estimate<Association>,
}

/// A numeric attribute's distribution in one segment.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NumericSummary {
    /// Values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation; `None` for one value.
    pub sd: Option<f64>,
    /// The smallest value.
    pub min: f64,
    /// The first quartile (linear interpolation between order statistics, numpy's and R's
    /// default, "type 7").
    pub q1: f64,
    /// The median.
    pub median: f64,
    /// The third quartile.
    pub q3: f64,
    /// The largest value.
    pub max: f64,
}

/// One level's share of a segment.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LevelShare {
    /// The level.
    pub level: String,
    /// Customers of the segment in the level.
    pub count: usize,
    /// `count` over the segment's customers with a value, within 0..=1.
    pub share: f64,
}

/// An attribute's distribution in one segment.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Distribution {
    /// n, mean, standard deviation and quartiles of a numeric attribute.
    Numeric(NumericSummary),
    /// The share of every level of a categorical attribute (all levels, in label order, zeros
    /// included, so that segments compare column by column).
    Categorical(Vec<LevelShare>),
}

/// One segment's distribution of an attribute.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentDistribution {
    /// The segment.
    pub segment: String,
    /// Its customers (with behaviour).
    pub customers: usize,
    /// Those without a value of the attribute, left out of the distribution.
    pub missing: usize,
    /// The distribution; not computable when no customer of the segment has a value.
    pub distribution: Estimate<Distribution>,
}

/// One attribute across the segments.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AttributeBySegment {
    /// The attribute.
    pub attribute: String,
    /// Its kind.
    pub kind: AttributeKind,
    /// One entry per segment, in the segments' order.
    pub segments: Vec<SegmentDistribution>,
}

/// The attributes' distributions per segment: the customer portrait of each segment.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentPortrait {
    /// The segments, in the order their labels were added.
    pub segments: Vec<String>,
    /// Customers with behaviour but no segment, left out of every segment.
    pub unsegmented: usize,
    /// Per attribute (in name order), its distribution in each segment.
    pub attributes: Vec<AttributeBySegment>,
}

/// Attributes against behaviour: per attribute, its association with frequency, mean spend,
/// P(alive) and CLV, and (with segments) its distribution per segment. Built by
/// [`AttributeProfile::compute`](super::AttributeProfile::compute).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AttributeProfile {
    /// The confidence level of every interval.
    pub level: f64,
    /// Customers with behaviour (the base analysed).
    pub customers: usize,
    /// Of them, customers without a mean spend (no repeat purchase): left out of the mean-spend
    /// rows.
    pub without_spend: usize,
    /// Customers of the attribute table with no behaviour row: not analysed.
    pub attributes_without_behaviour: usize,
    /// One entry per attribute, in name order.
    pub attributes: Vec<AttributeAssociation>,
    /// The distributions per segment, when segments were given.
    pub by_segment: Option<SegmentPortrait>,
}
