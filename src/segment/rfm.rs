//! RFM scoring and named segments.
//!
//! Each customer gets three scores, 1..=k (default k = 5, higher is better):
//!
//! - **recency**: from the time since the last purchase, T − t_x, in the profile's time unit;
//!   *lower is better*, so the most recent buyers score highest. (A summary's `recency` column is
//!   t_x, the time from first to last purchase; RFM needs time since the last purchase, which is
//!   T − t_x.)
//! - **frequency**: from x, the number of repeat purchase periods.
//! - **monetary**: from a money feature, by default the mean repeat spend z̄
//!   ([`Feature::MonetaryValue`]); [`RfmParams::monetary_feature`] chooses another (e.g.
//!   [`Feature::TotalSpend`]).
//!
//! Scores come from one of three [`Binning`]s:
//!
//! - **quantiles** (default): the k − 1 cut points are the population's i/k quantiles
//!   (nearest rank: the ⌈i·n/k⌉-th smallest value); a customer scores 1 + the number of cut points
//!   its value lies strictly beyond. Equal values therefore always get equal scores, and when a
//!   column has many ties several cut points coincide and some scores are skipped: with 60% of
//!   customers at x = 0, frequency scores are 1 (x = 0, the bottom three quintiles), 4 and 5.
//!   A column whose values are all equal scores 1 throughout, and with fewer than about k
//!   customers the top scores are not reached (the best of three customers scores 4 of 5).
//!   Nothing is split at random.
//! - **thresholds**: fixed, strictly increasing cut points t₁ < … < t_{k−1}; a customer scores
//!   1 + the number of thresholds its value reaches (v ≥ t). For recency the thresholds are on the
//!   time since the last purchase and count the other way: 1 + the number of thresholds the time
//!   stays *below* (v < t).
//! - **Jenks natural breaks**: Fisher's exact optimal partition of the sorted values into k classes
//!   minimising the within-class sum of squared deviations, computed on the distinct values with
//!   their counts (ties are never split). Above 1,024 distinct values, consecutive distinct values
//!   are first pooled into 1,024 groups of about equal size, so breaks fall on group boundaries.
//!   With fewer distinct values than classes, each distinct value is its own class.
//!
//! **Named segments** come from [`SegmentRules`]: an ordered list of rules, each a range of scores
//! per dimension; the first rule that matches names the segment and a fallback catches the rest,
//! so every customer lands in exactly one segment. The default rules (for k = 5) partition the
//! whole 5 × 5 × 5 cube of scores, so the fallback is never needed with them:
//!
//! | segment | R | F | M |
//! |---|---|---|---|
//! | Champions | 4–5 | 4–5 | 4–5 |
//! | Loyal | 3–5 | 3–5 | any |
//! | Potential loyalists | 4–5 | 2 | any |
//! | New | 5 | 1 | any |
//! | Promising | 4 | 1 | any |
//! | Need attention | 3 | 2 | any |
//! | About to sleep | 3 | 1 | any |
//! | Can't lose them | 1–2 | 4–5 | 4–5 |
//! | At risk | 1–2 | 3–5 | any |
//! | Hibernating | 2 | 1–2 | any |
//! | Lost | 1 | 1–2 | any (also the fallback) |
//!
//! ```
//! use customer_assets::segment::{rfm::RfmParams, Assign, Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let row = |id: u64, x, t_x, t, m| Profile::new(CustomerId::from(id), TimeUnit::WEEKS, x, t_x, t, Decimal::from(m));
//! let base = vec![row(1, 5, 38.0, 39.0, 60)?, row(2, 0, 0.0, 39.0, 0)?, row(3, 1, 2.0, 30.0, 15)?];
//! let (rfm, labels) = RfmParams::default().segment(&base)?;
//! assert_eq!(labels[0].segment.as_ref(), "Champions");
//! // Quintile cut points of only three customers: the best reaches score 4.
//! assert_eq!((labels[0].scores.recency, labels[0].scores.frequency), (4, 4));
//! // The learnt cut points score a new customer.
//! let newcomer = rfm.assign(&row(4, 3, 36.0, 37.0, 40)?)?;
//! assert_eq!(newcomer.scores.frequency, 4);
//! # Ok::<(), customer_assets::segment::SegmentError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use crate::concurrent::join;

use super::error::SegmentError;
use super::feature::Feature;
use super::in_order;
use super::profile::{feature_columns, Profile};
use super::traits::{Assign, Segmenter};

/// How a column of values is cut into scores 1..=k.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Binning {
    /// Population quantiles with tie-safe cut points (k = `bins`, 1..=100).
    Quantiles {
        /// Number of scores k.
        bins: u8,
    },
    /// Fixed, strictly increasing cut points (k = number of thresholds + 1, at most 100).
    Thresholds(Vec<f64>),
    /// Jenks natural breaks (k = `classes`, 1..=100).
    Jenks {
        /// Number of classes k.
        classes: u8,
    },
}

impl Default for Binning {
    fn default() -> Self {
        Binning::Quantiles { bins: 5 }
    }
}

const MAX_SCORES: usize = 100;
const JENKS_MAX_GROUPS: usize = 1024;

impl Binning {
    fn validate(&self, name: &'static str) -> Result<(), SegmentError> {
        match self {
            Binning::Quantiles { bins: k } | Binning::Jenks { classes: k } => {
                if *k == 0 || usize::from(*k) > MAX_SCORES {
                    return Err(SegmentError::invalid(name, k, "use 1..=100 scores"));
                }
            }
            Binning::Thresholds(t) => {
                if t.len() >= MAX_SCORES {
                    return Err(SegmentError::invalid(
                        name,
                        format!("{} thresholds", t.len()),
                        "at most 99 thresholds",
                    ));
                }
                if t.iter().any(|v| !v.is_finite()) {
                    return Err(SegmentError::invalid(
                        name,
                        format!("{t:?}"),
                        "thresholds must be finite",
                    ));
                }
                if t.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(SegmentError::invalid(
                        name,
                        format!("{t:?}"),
                        "thresholds must be strictly increasing",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Learns the cut points from `values` (oriented so that higher is better when
    /// `lower_is_better` is false; negated internally otherwise).
    fn learn(&self, values: &mut [f64], lower_is_better: bool) -> Bins {
        if lower_is_better {
            for v in values.iter_mut() {
                *v = -*v;
            }
        }
        match self {
            Binning::Quantiles { bins } => Bins {
                edges: quantile_edges(values, usize::from(*bins)),
                at_edge_scores_up: false,
                negate: lower_is_better,
            },
            Binning::Jenks { classes } => {
                in_order::sort_floats(values, false);
                Bins {
                    edges: jenks_breaks(values, usize::from(*classes)),
                    at_edge_scores_up: false,
                    negate: lower_is_better,
                }
            }
            Binning::Thresholds(t) => {
                if lower_is_better {
                    let mut edges: Vec<f64> = t.iter().map(|v| -v).collect();
                    edges.reverse();
                    Bins {
                        edges,
                        at_edge_scores_up: false,
                        negate: true,
                    }
                } else {
                    Bins {
                        edges: t.clone(),
                        at_edge_scores_up: true,
                        negate: false,
                    }
                }
            }
        }
    }
}

/// Learnt cut points of one column: a value scores 1 + the number of edges it lies beyond.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bins {
    edges: Vec<f64>,
    at_edge_scores_up: bool,
    negate: bool,
}

impl Bins {
    /// The cut points, in the oriented scale (negated values for lower-is-better columns).
    pub fn edges(&self) -> &[f64] {
        &self.edges
    }

    /// The score of a value: 1..=edges + 1.
    pub fn score(&self, value: f64) -> u8 {
        let v = if self.negate { -value } else { value };
        let beyond = if self.at_edge_scores_up {
            self.edges.partition_point(|&e| e <= v)
        } else {
            self.edges.partition_point(|&e| e < v)
        };
        // At most 99 edges, so the score fits.
        u8::try_from(beyond + 1).unwrap_or(u8::MAX)
    }
}

/// The i/k nearest-rank quantiles, i = 1..k−1, of values (reordered in place). Successive
/// selections on the remaining right part find them in linear time, without a full sort.
fn quantile_edges(values: &mut [f64], k: usize) -> Vec<f64> {
    let n = values.len();
    let mut edges = Vec::with_capacity(k.saturating_sub(1));
    let mut done = 0; // values[..done] all lie at or below the last edge found
    for i in 1..k {
        let rank = (i * n).div_ceil(k).saturating_sub(1); // 0-based nearest rank
        if rank >= n {
            break;
        }
        if rank >= done {
            let rest = &mut values[done..];
            rest.select_nth_unstable_by(rank - done, f64::total_cmp);
            done = rank + 1;
        }
        edges.push(values[rank]);
    }
    edges
}

/// Fisher-Jenks optimal breaks on sorted values: the upper value of each class but the last.
#[allow(clippy::needless_range_loop)] // the dynamic programme reads clearest with indices
fn jenks_breaks(sorted: &[f64], classes: usize) -> Vec<f64> {
    // Distinct values with their counts, pooled into at most JENKS_MAX_GROUPS groups.
    // Sums of squares of values beyond ~1e154 overflow (and ∞ − ∞ costs are NaN): the values
    // are divided by a power of two at least their largest magnitude (exact) and the breaks
    // scaled back.
    let largest = sorted.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let unit = if largest > 1.0 && largest.is_finite() {
        2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
    } else {
        1.0
    };
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    for v in sorted.iter().map(|v| v / unit) {
        match distinct.last_mut() {
            Some((last, w)) if *last == v => *w += 1.0,
            _ => distinct.push((v, 1.0)),
        }
    }
    // (upper value, weight, sum, sum of squares)
    let mut groups: Vec<(f64, f64, f64, f64)> = Vec::new();
    let target = (sorted.len() as f64 / JENKS_MAX_GROUPS as f64).max(1.0);
    let pool = distinct.len() > JENKS_MAX_GROUPS;
    for (v, w) in distinct {
        match groups.last_mut() {
            Some(g) if pool && g.1 < target => {
                g.0 = v;
                g.1 += w;
                g.2 += w * v;
                g.3 += w * v * v;
            }
            _ => groups.push((v, w, w * v, w * v * v)),
        }
    }
    let m = groups.len();
    let k = classes.min(m);
    if k <= 1 {
        return Vec::new();
    }
    let mut cw = vec![0.0; m + 1];
    let mut cs = vec![0.0; m + 1];
    let mut cq = vec![0.0; m + 1];
    for (i, g) in groups.iter().enumerate() {
        cw[i + 1] = cw[i] + g.1;
        cs[i + 1] = cs[i] + g.2;
        cq[i + 1] = cq[i] + g.3;
    }
    // Within-class sum of squares of groups a..b (half-open), computed about the class's first
    // value to limit cancellation.
    let ssd = |a: usize, b: usize| -> f64 {
        let w = cw[b] - cw[a];
        let s = cs[b] - cs[a];
        let q = cq[b] - cq[a];
        (q - s * s / w).max(0.0)
    };
    // cost[c][j]: best cost of splitting groups 0..j into c + 1 classes; from[c][j]: start of the
    // last class.
    let mut cost = vec![vec![f64::INFINITY; m + 1]; k];
    let mut from = vec![vec![0usize; m + 1]; k];
    for j in 1..=m {
        cost[0][j] = ssd(0, j);
    }
    for c in 1..k {
        for j in (c + 1)..=m {
            let mut best = f64::INFINITY;
            let mut arg = c;
            for i in c..j {
                let v = cost[c - 1][i] + ssd(i, j);
                if v < best {
                    best = v;
                    arg = i;
                }
            }
            cost[c][j] = best;
            from[c][j] = arg;
        }
    }
    let mut breaks = Vec::with_capacity(k - 1);
    let mut j = m;
    for c in (1..k).rev() {
        let i = from[c][j];
        if let Some(g) = i.checked_sub(1).and_then(|idx| groups.get(idx)) {
            breaks.push(g.0);
        }
        j = i;
    }
    breaks.reverse();
    breaks.iter_mut().for_each(|b| *b *= unit);
    breaks
}

/// A customer's three RFM scores (1 is worst, k best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RfmScores {
    /// Recency score (most recent buyers highest).
    pub recency: u8,
    /// Frequency score.
    pub frequency: u8,
    /// Monetary score.
    pub monetary: u8,
}

/// One rule of [`SegmentRules`]: inclusive score ranges per dimension (`None` matches any score).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SegmentRule {
    /// The segment's name.
    pub name: String,
    /// Inclusive range of recency scores, `[min, max]`.
    #[cfg_attr(feature = "serde", serde(default))]
    pub recency: Option<(u8, u8)>,
    /// Inclusive range of frequency scores.
    #[cfg_attr(feature = "serde", serde(default))]
    pub frequency: Option<(u8, u8)>,
    /// Inclusive range of monetary scores.
    #[cfg_attr(feature = "serde", serde(default))]
    pub monetary: Option<(u8, u8)>,
}

impl SegmentRule {
    /// A rule matching any scores; narrow it with [`recency`](Self::recency) etc.
    pub fn new(name: impl Into<String>) -> Self {
        SegmentRule {
            name: name.into(),
            recency: None,
            frequency: None,
            monetary: None,
        }
    }
    /// Requires a recency score in `min..=max`.
    pub fn recency(mut self, min: u8, max: u8) -> Self {
        self.recency = Some((min, max));
        self
    }
    /// Requires a frequency score in `min..=max`.
    pub fn frequency(mut self, min: u8, max: u8) -> Self {
        self.frequency = Some((min, max));
        self
    }
    /// Requires a monetary score in `min..=max`.
    pub fn monetary(mut self, min: u8, max: u8) -> Self {
        self.monetary = Some((min, max));
        self
    }

    /// Whether the scores satisfy the rule.
    pub fn matches(&self, s: RfmScores) -> bool {
        let within = |r: Option<(u8, u8)>, v: u8| r.is_none_or(|(lo, hi)| (lo..=hi).contains(&v));
        within(self.recency, s.recency)
            && within(self.frequency, s.frequency)
            && within(self.monetary, s.monetary)
    }
}

/// Ordered rules naming segments from RFM scores; the first match wins and the fallback catches
/// every customer no rule matches, so each customer gets exactly one segment.
///
/// Serialized as `{"rules": [{"name": "Champions", "recency": [4, 5], ...}], "fallback": "Lost"}`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SegmentRulesDef"))]
pub struct SegmentRules {
    rules: Vec<SegmentRule>,
    fallback: String,
    #[cfg_attr(feature = "serde", serde(skip))]
    names: Vec<Arc<str>>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct SegmentRulesDef {
    rules: Vec<SegmentRule>,
    fallback: String,
}

#[cfg(feature = "serde")]
impl TryFrom<SegmentRulesDef> for SegmentRules {
    type Error = SegmentError;
    fn try_from(d: SegmentRulesDef) -> Result<Self, SegmentError> {
        SegmentRules::new(d.rules, d.fallback)
    }
}

impl SegmentRules {
    /// Validates rules: names not empty, each range with 1 <= min <= max.
    ///
    /// # Errors
    ///
    /// [`SegmentError::InvalidParameter`] for an empty segment name or a score range without 1 <=
    /// min <= max.
    pub fn new(rules: Vec<SegmentRule>, fallback: impl Into<String>) -> Result<Self, SegmentError> {
        let fallback = fallback.into();
        if fallback.trim().is_empty() {
            return Err(SegmentError::invalid(
                "fallback",
                format!("{fallback:?}"),
                "segment name is empty",
            ));
        }
        for r in &rules {
            if r.name.trim().is_empty() {
                return Err(SegmentError::invalid(
                    "rules",
                    format!("{:?}", r.name),
                    "a segment name is empty",
                ));
            }
            for (lo, hi) in [r.recency, r.frequency, r.monetary].into_iter().flatten() {
                if lo == 0 || lo > hi {
                    return Err(SegmentError::invalid(
                        "rules",
                        format!("rule {:?}: range [{lo}, {hi}]", r.name),
                        "a score range needs 1 <= min <= max",
                    ));
                }
            }
        }
        let names = rules
            .iter()
            .map(|r| Arc::from(r.name.as_str()))
            .chain(std::iter::once(Arc::from(fallback.as_str())))
            .collect();
        Ok(SegmentRules {
            rules,
            fallback,
            names,
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[SegmentRule] {
        &self.rules
    }
    /// The fallback segment.
    pub fn fallback(&self) -> &str {
        &self.fallback
    }

    /// Every segment name, in rule order, the fallback last, each once.
    pub fn segment_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rules {
            if !out.contains(&r.name.as_str()) {
                out.push(&r.name);
            }
        }
        if !out.contains(&self.fallback.as_str()) {
            out.push(&self.fallback);
        }
        out
    }

    /// The segment of a customer with these scores.
    pub fn segment_of(&self, scores: RfmScores) -> Arc<str> {
        self.name(self.rule_of(scores))
    }

    /// The index of the first rule the scores match, the number of rules for the fallback.
    fn rule_of(&self, scores: RfmScores) -> usize {
        self.rules
            .iter()
            .position(|r| r.matches(scores))
            .unwrap_or(self.rules.len())
    }

    /// The name of the segment of rule `i` (the fallback's past the rules).
    fn name(&self, i: usize) -> Arc<str> {
        match self.names.get(i) {
            Some(n) => n.clone(),
            // Only reachable for a deserialized value whose cache was skipped.
            None => Arc::from(
                self.rules
                    .get(i)
                    .map_or(self.fallback.as_str(), |r| r.name.as_str()),
            ),
        }
    }
}

impl Default for SegmentRules {
    /// The eleven named segments for k = 5 (see the [module docs](self)).
    fn default() -> Self {
        let rules = vec![
            SegmentRule::new("Champions")
                .recency(4, 5)
                .frequency(4, 5)
                .monetary(4, 5),
            SegmentRule::new("Loyal").recency(3, 5).frequency(3, 5),
            SegmentRule::new("Potential loyalists")
                .recency(4, 5)
                .frequency(2, 2),
            SegmentRule::new("New").recency(5, 5).frequency(1, 1),
            SegmentRule::new("Promising").recency(4, 4).frequency(1, 1),
            SegmentRule::new("Need attention")
                .recency(3, 3)
                .frequency(2, 2),
            SegmentRule::new("About to sleep")
                .recency(3, 3)
                .frequency(1, 1),
            SegmentRule::new("Can't lose them")
                .recency(1, 2)
                .frequency(4, 5)
                .monetary(4, 5),
            SegmentRule::new("At risk").recency(1, 2).frequency(3, 5),
            SegmentRule::new("Hibernating")
                .recency(2, 2)
                .frequency(1, 2),
            SegmentRule::new("Lost").recency(1, 1).frequency(1, 2),
        ];
        let names = rules
            .iter()
            .map(|r| Arc::from(r.name.as_str()))
            .chain(std::iter::once(Arc::from("Lost")))
            .collect();
        SegmentRules {
            rules,
            fallback: "Lost".to_owned(),
            names,
        }
    }
}

/// Parameters of RFM scoring: a [`Binning`] per dimension, the monetary feature and the segment
/// rules. The default: quintiles everywhere, z̄ as monetary value, the default segments.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RfmParams {
    recency: Binning,
    frequency: Binning,
    monetary: Binning,
    monetary_feature: Option<Feature>,
    rules: SegmentRules,
}

impl RfmParams {
    /// Uses `binning` for all three dimensions.
    pub fn binning(mut self, binning: Binning) -> Self {
        self.recency = binning.clone();
        self.frequency = binning.clone();
        self.monetary = binning;
        self
    }
    /// Binning of the recency dimension (thresholds on the time since the last purchase).
    pub fn recency_binning(mut self, binning: Binning) -> Self {
        self.recency = binning;
        self
    }
    /// Binning of the frequency dimension.
    pub fn frequency_binning(mut self, binning: Binning) -> Self {
        self.frequency = binning;
        self
    }
    /// Binning of the monetary dimension.
    pub fn monetary_binning(mut self, binning: Binning) -> Self {
        self.monetary = binning;
        self
    }
    /// The feature scored as monetary value (default [`Feature::MonetaryValue`]).
    pub fn monetary_feature(mut self, feature: Feature) -> Self {
        self.monetary_feature = Some(feature);
        self
    }
    /// The segment rules.
    pub fn rules(mut self, rules: SegmentRules) -> Self {
        self.rules = rules;
        self
    }
}

impl Segmenter<Profile> for RfmParams {
    type Learnt = Rfm;

    fn check(&self) -> Result<(), SegmentError> {
        self.recency.validate("recency binning")?;
        self.frequency.validate("frequency binning")?;
        self.monetary.validate("monetary binning")
    }

    fn learn(&self, population: &[Profile]) -> Result<Rfm, SegmentError> {
        let [mut r, mut f, mut m] = self.columns(population)?;
        Ok(self.learn_columns([&mut r, &mut f, &mut m]))
    }

    /// As learning and then assigning, with the scores from the columns learnt from: one pass
    /// over the profiles, not two. Assigning cannot fail once learning has read every value.
    fn segment(&self, population: &[Profile]) -> Result<(Rfm, Vec<RfmLabel>), SegmentError> {
        let columns = self.columns(population)?;
        let [mut r, mut f, mut m] = columns.clone();
        let rfm = self.learn_columns([&mut r, &mut f, &mut m]);
        let table = RuleTable::new(&rfm, population.len());
        let [r, f, m] = &columns;
        let labels = in_order::map_index(population.len(), |i| {
            rfm.label([r[i], f[i], m[i]], table.as_ref())
        });
        Ok((rfm, labels))
    }
}

impl RfmParams {
    fn monetary(&self) -> Feature {
        self.monetary_feature.unwrap_or(Feature::MonetaryValue)
    }

    /// The checked parameters' columns of `population`: the time since the last purchase, the
    /// frequency and the monetary feature.
    fn columns(&self, population: &[Profile]) -> Result<[Vec<f64>; 3], SegmentError> {
        self.check()?;
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        feature_columns(population, rfm_features(self.monetary()))
    }

    /// The cut points of the columns (which it reorders).
    fn learn_columns(&self, [r, f, m]: [&mut [f64]; 3]) -> Rfm {
        // The three columns' cut points side by side (each a few selections or a sort).
        let (recency, (frequency, monetary)) = join(
            || self.recency.learn(r, true),
            || {
                join(
                    || self.frequency.learn(f, false),
                    || self.monetary.learn(m, false),
                )
            },
        );
        Rfm {
            recency,
            frequency,
            monetary,
            monetary_feature: self.monetary(),
            rules: self.rules.clone(),
        }
    }
}

/// The features RFM scores, in the order it reads them.
fn rfm_features(monetary: Feature) -> [Feature; 3] {
    [Feature::TimeSinceLastPurchase, Feature::Frequency, monetary]
}

/// A learnt RFM scoring: cut points per dimension and the segment rules.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Rfm {
    recency: Bins,
    frequency: Bins,
    monetary: Bins,
    monetary_feature: Feature,
    rules: SegmentRules,
}

impl Rfm {
    /// Cut points of the recency score (on the negated time since the last purchase).
    pub fn recency_bins(&self) -> &Bins {
        &self.recency
    }
    /// Cut points of the frequency score.
    pub fn frequency_bins(&self) -> &Bins {
        &self.frequency
    }
    /// Cut points of the monetary score.
    pub fn monetary_bins(&self) -> &Bins {
        &self.monetary
    }
    /// The segment rules.
    pub fn rules(&self) -> &SegmentRules {
        &self.rules
    }
    /// The scores of one customer.
    ///
    /// # Errors
    ///
    /// [`SegmentError::MissingFeature`] or [`SegmentError::NotFinite`] for a feature it reads that
    /// the profile lacks or that is not finite (the time since the last purchase, the frequency,
    /// the monetary feature).
    pub fn scores(&self, p: &Profile) -> Result<RfmScores, SegmentError> {
        let [r, f, m] = rfm_features(self.monetary_feature);
        Ok(self.scores_of([p.feature(r)?, p.feature(f)?, p.feature(m)?]))
    }

    fn scores_of(&self, [r, f, m]: [f64; 3]) -> RfmScores {
        RfmScores {
            recency: self.recency.score(r),
            frequency: self.frequency.score(f),
            monetary: self.monetary.score(m),
        }
    }

    /// The label of the three values scored, its segment from `table` when it has the scores.
    fn label(&self, values: [f64; 3], table: Option<&RuleTable>) -> RfmLabel {
        let scores = self.scores_of(values);
        let rule = match table.and_then(|t| t.rule_of(scores)) {
            Some(i) => i,
            None => self.rules.rule_of(scores),
        };
        RfmLabel {
            scores,
            segment: self.rules.name(rule),
        }
    }
}

/// An RFM label: the scores and the named segment.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RfmLabel {
    /// The three scores.
    pub scores: RfmScores,
    /// The named segment.
    pub segment: Arc<str>,
}

impl fmt::Display for RfmLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segment)
    }
}

impl Assign<Profile> for Rfm {
    type Label = RfmLabel;
    fn assign(&self, p: &Profile) -> Result<RfmLabel, SegmentError> {
        let scores = self.scores(p)?;
        Ok(RfmLabel {
            scores,
            segment: self.rules.segment_of(scores),
        })
    }

    /// As `assign` for each, on all cores with `parallel`, and the segment of each score
    /// triple looked up once rather than tried against the rules for every customer.
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<RfmLabel>, SegmentError> {
        let table = RuleTable::new(self, customers.len());
        let [r, f, m] = rfm_features(self.monetary_feature);
        in_order::try_map(customers, |p| {
            let values = [p.feature(r)?, p.feature(f)?, p.feature(m)?];
            Ok(self.label(values, table.as_ref()))
        })
    }
}

/// The rule of every score triple a learnt [`Rfm`] can give, by the triple's position.
struct RuleTable {
    /// Scores per dimension: 1..=dims[d].
    dims: [usize; 3],
    rules: Vec<usize>,
}

impl RuleTable {
    /// Triples past this many (up to 100³) are looked up rule by rule.
    const MAX_TRIPLES: usize = 4096;

    /// The table, when the triples are few and fewer than the `customers` to label.
    fn new(rfm: &Rfm, customers: usize) -> Option<Self> {
        // A value scores 1 + the number of edges it lies beyond, at most u8::MAX.
        let dims =
            [&rfm.recency, &rfm.frequency, &rfm.monetary].map(|b| (b.edges.len() + 1).min(255));
        let triples = dims.iter().product::<usize>();
        if triples > Self::MAX_TRIPLES.min(customers) {
            return None;
        }
        let score = |s: usize| u8::try_from(s + 1).unwrap_or(u8::MAX);
        let mut rules = Vec::with_capacity(triples);
        for r in 0..dims[0] {
            for f in 0..dims[1] {
                for m in 0..dims[2] {
                    rules.push(rfm.rules.rule_of(RfmScores {
                        recency: score(r),
                        frequency: score(f),
                        monetary: score(m),
                    }));
                }
            }
        }
        Some(RuleTable { dims, rules })
    }

    fn rule_of(&self, s: RfmScores) -> Option<usize> {
        let at = |score: u8, dim: usize| usize::from(score).checked_sub(1).filter(|&i| i < dim);
        let r = at(s.recency, self.dims[0])?;
        let f = at(s.frequency, self.dims[1])?;
        let m = at(s.monetary, self.dims[2])?;
        self.rules
            .get((r * self.dims[1] + f) * self.dims[2] + m)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_edges_use_nearest_rank() {
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(quantile_edges(&mut v, 5), vec![2.0, 4.0, 6.0, 8.0]);
        assert_eq!(quantile_edges(&mut [7.0], 5), vec![7.0; 4]);
        let mut tied = [3.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        assert_eq!(quantile_edges(&mut tied, 5), vec![0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn ties_share_a_score_and_scores_are_skipped_not_split() {
        let mut v = vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 3.0];
        let bins = Binning::Quantiles { bins: 5 }.learn(&mut v, false);
        assert_eq!(bins.edges(), &[0.0, 0.0, 0.0, 1.0]);
        assert_eq!(bins.score(0.0), 1);
        assert_eq!(bins.score(1.0), 4);
        assert_eq!(bins.score(2.0), 5);
        assert_eq!(bins.score(3.0), 5);
    }

    #[test]
    fn jenks_separates_clusters_near_the_f64_limit() {
        let big = f64::MAX / 8.0;
        let values = [1.0, 2.0, 3.0, big, big * 2.0, big * 4.0];
        // Within-class variance is least with the smallest huge value among the small ones.
        assert_eq!(jenks_breaks(&values, 2), [big]);
        assert_eq!(jenks_breaks(&values, 3), [3.0, big * 2.0]);
    }

    #[test]
    fn jenks_finds_obvious_clusters() {
        let v = [1.0, 1.1, 1.2, 5.0, 5.1, 5.2, 9.0, 9.1, 9.3];
        assert_eq!(jenks_breaks(&v, 3), vec![1.2, 5.2]);
        // Fewer distinct values than classes: one class per value.
        assert_eq!(jenks_breaks(&[2.0, 2.0, 3.0], 5), vec![2.0]);
        assert!(jenks_breaks(&[4.0, 4.0], 3).is_empty());
    }

    #[test]
    fn default_rules_partition_the_score_cube() {
        let rules = SegmentRules::default();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    let s = RfmScores {
                        recency: r,
                        frequency: f,
                        monetary: m,
                    };
                    let matching: Vec<_> = rules.rules().iter().filter(|x| x.matches(s)).collect();
                    assert!(!matching.is_empty(), "{s:?} falls through to the fallback");
                }
            }
        }
        assert_eq!(rules.segment_names().len(), 11);
    }
}
