//! Feedback by group: the NPS and mean satisfaction with confidence intervals per group of
//! customers (a segment, a loyalty tier, an asset class, any labelling) and per period, and the
//! detractors among high-value customers.
//!
//! # Intervals
//!
//! The NPS interval is Agresti & Min's (2005) Wald+2 interval ([`nps_interval`] states it and why);
//! satisfaction's is Student's t interval of the normalised mean
//! ([`satisfaction_with_interval`]).
//!
//! # Groups
//!
//! [`CustomerGroups`] assigns customers to labelled groups (one group per customer).
//! [`feedback_by_group`] tallies the feedback dated in a period per group; feedback from
//! customers in no group is counted in [`FeedbackByGroup::ungrouped`], never dropped.
//! [`feedback_by_group_per_period`] does the same over consecutive periods of equal length in one
//! pass. [`detractors_at_risk`] names the high-value customers whose latest recommend answer in
//! the period is a detractor's.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::error::KpiError;
use super::feedback::{normalized, Nps, Satisfaction};
use super::period::Period;
use super::retention::MAX_COHORT_PERIODS;
use crate::error::InvalidParameter;
use crate::records::{CustomerId, Feedback};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A two-sided confidence interval at a stated level.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConfidenceInterval {
    /// The confidence level, in (0, 1).
    pub level: f64,
    /// The lower end.
    pub lower: f64,
    /// The upper end.
    pub upper: f64,
}

/// The NPS with its interval (Agresti & Min's Wald+2, on the −100..=100 scale; see
/// [`nps_interval`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NpsEstimate {
    /// The counts and the usual score.
    pub nps: Nps,
    /// Its interval, within −100..=100.
    pub interval: ConfidenceInterval,
}

/// Mean satisfaction with the interval of its normalised mean (Student's t, within 0..=1; see
/// [`satisfaction_with_interval`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SatisfactionEstimate {
    /// The responses and means.
    pub satisfaction: Satisfaction,
    /// The interval of `satisfaction.mean_normalized`, within 0..=1.
    pub interval: ConfidenceInterval,
}

/// The level checked: finite and strictly between 0 and 1.
fn check_level(level: f64) -> Result<f64, KpiError> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(level)
    } else {
        Err(KpiError::InvalidParameter(InvalidParameter::new(
            "level",
            level,
            "a confidence level lies strictly between 0 and 1",
        )))
    }
}

/// The standard normal quantile at (1 + level) / 2, for a checked level.
pub(crate) fn normal_quantile(level: f64) -> f64 {
    match Normal::new(0.0, 1.0) {
        Ok(n) => n.inverse_cdf(0.5 + level / 2.0),
        // Unreachable: the standard normal's parameters are valid.
        Err(_) => f64::NAN,
    }
}

/// Student's t quantile at (1 + level) / 2 with `freedom` > 0 degrees of freedom: statrs'
/// inverse below 100 degrees of freedom; from there the expansion of the t quantile in the
/// normal one (Abramowitz & Stegun 26.7.5, error of order ν⁻⁵), as statrs' inverse loses
/// digits at large ν (1.959981 for 1.959988 at ν = 10⁵).
pub(crate) fn t_quantile(level: f64, freedom: f64) -> f64 {
    if freedom < 100.0 {
        return match StudentsT::new(0.0, 1.0, freedom) {
            Ok(t) => t.inverse_cdf(0.5 + level / 2.0),
            Err(_) => f64::NAN,
        };
    }
    let z = normal_quantile(level);
    let (z2, v) = (z * z, freedom);
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / (v * v * v) + g4 / (v * v * v * v)
}

/// The NPS interval (Agresti & Min's Wald+2, truncated to −100..=100) of the counts in `nps` at
/// `level`.
///
/// Each response is a promoter (9–10), a passive (7–8) or a detractor (0–6): the
/// counts are one multinomial sample of n, and the NPS is 100 × (p_P − p_D), a difference of two
/// of its cell proportions, with Var(p̂_P − p̂_D) = (p_P + p_D − (p_P − p_D)²) / n. That is the
/// structure of the difference of two matched proportions (the two discordant cells of a 2 × 2
/// table), so the intervals built for that case apply. The plain Wald interval collapses to a
/// point whenever every answer falls in one category (all promoters: width 0 at any n) and
/// overshoots ±100 for small n; the interval here is the *Wald+2* interval of Agresti & Min
/// (2005, "Simple improved confidence intervals for comparing matched proportions", Statistics
/// in Medicine 24, 729–740), which adds ½ to each cell of the 2 × 2 table (½ to promoters, ½ to
/// detractors, 1 to the rest, 2 to n) and truncates at the boundary:
///
/// ```text
/// d̃ = (P − D) / (n + 2)
/// se = √((P + D + 1) − (P − D)² / (n + 2)) / (n + 2)
/// interval = 100 × [max(−1, d̃ − z·se), min(1, d̃ + z·se)],   z the normal (1 + level)/2 quantile
/// ```
///
/// It is never a point, always within −100..=100, and close to the Wald interval for large n.
/// The point estimate reported beside it stays the usual NPS (the interval's centre d̃ is pulled
/// towards 0 a little).
///
/// ```
/// use customer_assets::kpi::{nps_interval, Nps};
/// // One promoter: the NPS is 100, the 95% interval about −51.0..=100.
/// let nps = Nps { responses: 1, promoters: 1, passives: 0, detractors: 0, score: 100.0 };
/// let i = nps_interval(&nps, 0.95)?;
/// assert!((i.lower + 51.01).abs() < 0.01 && i.upper == 100.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `level` is not strictly between 0 and 1;
/// [`KpiError::Empty`] when `nps` counts no response.
pub fn nps_interval(nps: &Nps, level: f64) -> Result<ConfidenceInterval, KpiError> {
    let level = check_level(level)?;
    if nps.responses == 0 {
        return Err(KpiError::Empty {
            what: "recommend responses",
            kpi: "the NPS interval",
        });
    }
    let z = normal_quantile(level);
    let (p, d) = (nps.promoters as f64, nps.detractors as f64);
    let n2 = nps.responses as f64 + 2.0;
    let centre = (p - d) / n2;
    // (P + D + 1) − (P − D)²/(n + 2) ≥ 1 − 1/(n + 2) > 0 whenever P + D ≤ n.
    let se = ((p + d + 1.0) - (p - d) * (p - d) / n2).max(0.0).sqrt() / n2;
    let bound = |x: f64| 100.0 * x.clamp(-1.0, 1.0);
    let (lower, upper) = (bound(centre - z * se), bound(centre + z * se));
    Ok(ConfidenceInterval {
        level,
        lower: if lower.is_finite() { lower } else { -100.0 },
        upper: if upper.is_finite() { upper } else { 100.0 },
    })
}

/// [`net_promoter_score`](super::net_promoter_score) with its interval at `level`.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{net_promoter_score_with_interval, Period};
/// use customer_assets::{CustomerId, Feedback};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let feedback = [10, 10, 10]
///     .map(|score| Feedback::new(CustomerId::from(1u64), day, None, Some(score)));
/// let feedback = feedback.into_iter().collect::<Result<Vec<_>, _>>()?;
/// let n = net_promoter_score_with_interval(&feedback, Period::new(day, day)?, 0.95)?;
/// // All promoters: the NPS is 100, and the interval is not a point.
/// assert_eq!(n.nps.score, 100.0);
/// assert!(n.interval.lower < 100.0 && n.interval.upper == 100.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] for a level not strictly between 0 and 1; [`KpiError::Empty`]
/// when no feedback in the period carries a recommend score.
pub fn net_promoter_score_with_interval(
    feedback: &[Feedback],
    period: Period,
    level: f64,
) -> Result<NpsEstimate, KpiError> {
    let level = check_level(level)?;
    tally_in(feedback, period)
        .nps(level)
        .ok_or(KpiError::Empty {
            what: "recommend responses",
            kpi: "NPS",
        })?
}

/// [`satisfaction`](super::satisfaction) with the interval of its normalised mean at `level`.
///
/// Each response is normalised to 0..=1 by its own scale (as
/// [`satisfaction`](super::satisfaction)); the interval is Student's t interval of their mean,
/// mean ± t(n − 1, (1 + level)/2) × s / √n with s the sample standard deviation, truncated to
/// 0..=1. With a single response there is no spread to estimate and the interval is the whole
/// scale, 0..=1. When every response is the same the sample spread is 0 and so is the width:
/// read the interval with its `responses`.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{satisfaction_with_interval, Period};
/// use customer_assets::{CustomerId, Feedback};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let feedback = [5.0, 3.0, 4.0]
///     .map(|score| Feedback::new(CustomerId::from(1u64), day, Some((score, 1.0, 5.0)), None));
/// let feedback = feedback.into_iter().collect::<Result<Vec<_>, _>>()?;
/// let s = satisfaction_with_interval(&feedback, Period::new(day, day)?, 0.95)?;
/// // Normalised 1, 0.5, 0.75: mean 0.75, s = 0.25, t(2) = 4.3027: 0.75 ± 0.621.
/// assert_eq!((s.satisfaction.mean_normalized, s.satisfaction.mean), (0.75, Some(4.0)));
/// assert!((s.interval.lower - 0.129).abs() < 1e-3 && s.interval.upper == 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] for a level not strictly between 0 and 1; [`KpiError::Empty`]
/// when no feedback in the period carries a satisfaction score.
pub fn satisfaction_with_interval(
    feedback: &[Feedback],
    period: Period,
    level: f64,
) -> Result<SatisfactionEstimate, KpiError> {
    let level = check_level(level)?;
    tally_in(feedback, period)
        .satisfaction(level)
        .ok_or(KpiError::Empty {
            what: "satisfaction responses",
            kpi: "mean satisfaction",
        })
}

/// The tally of the feedback dated in `period`.
fn tally_in(feedback: &[Feedback], period: Period) -> Tally {
    let mut tally = Tally::default();
    feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .for_each(|f| tally.add(f));
    tally
}

/// The scale the satisfaction scores of a group were given on.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Scale {
    #[default]
    None,
    One(f64, f64),
    Mixed,
}

/// One group's running counts: recommend categories, and Welford's mean and sum of squared
/// deviations of the normalised satisfaction scores.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    responses: usize,
    promoters: usize,
    passives: usize,
    detractors: usize,
    satisfied: usize,
    mean: f64,
    m2: f64,
    scale: Scale,
}

impl Tally {
    fn add(&mut self, f: &Feedback) {
        self.responses += 1;
        match f.recommend() {
            Some(9..=10) => self.promoters += 1,
            Some(7..=8) => self.passives += 1,
            Some(_) => self.detractors += 1,
            None => {}
        }
        if let Some(s) = f.satisfaction() {
            let x = normalized(s.score, s.min, s.max);
            self.satisfied += 1;
            let delta = x - self.mean;
            self.mean += delta / self.satisfied as f64;
            self.m2 += delta * (x - self.mean);
            self.scale = match self.scale {
                Scale::None => Scale::One(s.min, s.max),
                Scale::One(min, max) if min == s.min && max == s.max => self.scale,
                _ => Scale::Mixed,
            };
        }
    }

    /// The NPS and its interval; `None` without recommend answers.
    fn nps(&self, level: f64) -> Option<Result<NpsEstimate, KpiError>> {
        let responses = self.promoters + self.passives + self.detractors;
        if responses == 0 {
            return None;
        }
        let nps = Nps {
            responses,
            promoters: self.promoters,
            passives: self.passives,
            detractors: self.detractors,
            score: 100.0 * (self.promoters as f64 - self.detractors as f64) / responses as f64,
        };
        Some(nps_interval(&nps, level).map(|interval| NpsEstimate { nps, interval }))
    }

    /// Mean satisfaction and its interval; `None` without satisfaction scores.
    fn satisfaction(&self, level: f64) -> Option<SatisfactionEstimate> {
        let n = self.satisfied;
        if n == 0 {
            return None;
        }
        let mean = self.mean.clamp(0.0, 1.0);
        let (lower, upper) = if n == 1 {
            (0.0, 1.0)
        } else {
            let s = (self.m2.max(0.0) / (n - 1) as f64).sqrt();
            let half = t_quantile(level, (n - 1) as f64) * s / (n as f64).sqrt();
            if half.is_finite() {
                ((mean - half).max(0.0), (mean + half).min(1.0))
            } else {
                (0.0, 1.0)
            }
        };
        // The raw mean on the one scale: min + mean × (max − min), written as a convex
        // combination so that it stays finite on scales spanning the whole f64 range.
        let raw = match self.scale {
            Scale::One(min, max) => Some((min * (1.0 - mean) + max * mean).clamp(min, max)),
            _ => None,
        };
        Some(SatisfactionEstimate {
            satisfaction: Satisfaction {
                responses: n,
                mean_normalized: mean,
                mean: raw,
            },
            interval: ConfidenceInterval {
                level,
                lower,
                upper,
            },
        })
    }
}

/// Customers assigned to labelled groups, one group per customer; groups keep the order their
/// labels were first added in.
///
/// ```
/// use customer_assets::kpi::CustomerGroups;
/// use customer_assets::CustomerId;
/// let mut groups = CustomerGroups::new();
/// groups.add_group("platinum"); // listed even if nobody answers
/// groups.assign(CustomerId::from(7u64), "gold")?;
/// assert_eq!(groups.labels().collect::<Vec<_>>(), ["platinum", "gold"]);
/// assert_eq!(groups.group_of(&CustomerId::from(7u64)), Some("gold"));
/// assert!(groups.assign(CustomerId::from(7u64), "silver").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CustomerGroups {
    labels: Vec<Arc<str>>,
    index: FastMap<Arc<str>, u32>,
    of: FastMap<CustomerId, u32>,
}

impl CustomerGroups {
    /// No groups.
    pub fn new() -> Self {
        Self::default()
    }

    /// Customers and their labels, in order.
    ///
    /// # Errors
    ///
    /// [`KpiError::ConflictingGroups`] when a customer is given two different labels.
    pub fn from_pairs<L: AsRef<str>>(
        pairs: impl IntoIterator<Item = (CustomerId, L)>,
    ) -> Result<Self, KpiError> {
        let mut groups = Self::new();
        for (customer, label) in pairs {
            groups.assign(customer, label.as_ref())?;
        }
        Ok(groups)
    }

    /// Adds a group (possibly to stay empty) and returns its position; a label already added
    /// keeps its position.
    pub fn add_group(&mut self, label: &str) -> usize {
        if let Some(&k) = self.index.get(label) {
            return k as usize;
        }
        let k = self.labels.len();
        let label: Arc<str> = Arc::from(label);
        self.labels.push(label.clone());
        // More than u32::MAX groups would not fit in memory beside their customers.
        self.index
            .insert(label, u32::try_from(k).unwrap_or(u32::MAX));
        k
    }

    /// Puts `customer` in the group `label` (added when new). Assigning a customer to the group
    /// it is already in does nothing.
    ///
    /// # Errors
    ///
    /// [`KpiError::ConflictingGroups`] when the customer is already in another group.
    pub fn assign(&mut self, customer: CustomerId, label: &str) -> Result<(), KpiError> {
        let k = self.add_group(label);
        let k32 = u32::try_from(k).unwrap_or(u32::MAX);
        match self.of.get(&customer) {
            Some(&held) if held == k32 => Ok(()),
            Some(&held) => Err(KpiError::ConflictingGroups {
                customer,
                first: self.labels[held as usize].to_string(),
                second: label.to_string(),
            }),
            None => {
                self.of.insert(customer, k32);
                Ok(())
            }
        }
    }

    /// The group labels, in the order they were added.
    pub fn labels(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|l| &**l)
    }

    /// The group of a customer, if any.
    pub fn group_of(&self, customer: &CustomerId) -> Option<&str> {
        self.of.get(customer).map(|&k| &*self.labels[k as usize])
    }

    /// Customers assigned.
    pub fn customers(&self) -> usize {
        self.of.len()
    }
}

/// Feedback of one group in one period.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupFeedback {
    /// The group's label.
    pub label: String,
    /// Feedback records of the group's customers dated in the period.
    pub responses: usize,
    /// The NPS with its interval; `None` when no response carries a recommend score.
    pub nps: Option<NpsEstimate>,
    /// Mean satisfaction with its interval; `None` when no response carries a satisfaction score.
    pub satisfaction: Option<SatisfactionEstimate>,
}

/// Feedback in the period from customers in no group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Ungrouped {
    /// Distinct customers.
    pub customers: usize,
    /// Their feedback records.
    pub responses: usize,
}

/// Feedback per group in one period ([`feedback_by_group`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FeedbackByGroup {
    /// The period.
    pub period: Period,
    /// Every group, in the order of [`CustomerGroups::labels`], with or without responses.
    pub groups: Vec<GroupFeedback>,
    /// Feedback from customers in no group.
    pub ungrouped: Ungrouped,
}

/// Per group, the feedback records dated in `period`: their number, the NPS and mean
/// satisfaction each with its interval at `level` ([`nps_interval`] and
/// [`satisfaction_with_interval`] state the methods). Every group of `groups` is listed, in its
/// order; feedback from customers in no group is counted in [`FeedbackByGroup::ungrouped`].
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{feedback_by_group, CustomerGroups, Period};
/// use customer_assets::{CustomerId, Feedback};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let id = CustomerId::from;
/// let feedback = vec![
///     Feedback::new(id(1u64), day, Some((5.0, 1.0, 5.0)), Some(10))?,
///     Feedback::new(id(2u64), day, Some((3.0, 1.0, 5.0)), Some(6))?,
///     Feedback::new(id(3u64), day, None, Some(9))?,
///     Feedback::new(id(9u64), day, None, Some(0))?,
/// ];
/// let mut groups = CustomerGroups::new();
/// groups.assign(id(1u64), "gold")?;
/// groups.assign(id(2u64), "gold")?;
/// groups.assign(id(3u64), "silver")?;
/// let by_group = feedback_by_group(&feedback, Period::new(day, day)?, &groups, 0.95)?;
/// let gold = &by_group.groups[0];
/// assert_eq!((gold.label.as_str(), gold.responses), ("gold", 2));
/// let nps = gold.nps.as_ref().ok_or("gold has recommend answers")?;
/// assert_eq!(nps.nps.score, 0.0); // one promoter, one detractor
/// assert!(nps.interval.lower < 0.0 && nps.interval.upper > 0.0);
/// // Customer 9 is in no group: counted apart, not dropped.
/// assert_eq!((by_group.ungrouped.customers, by_group.ungrouped.responses), (1, 1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `level` is not strictly between 0 and 1.
pub fn feedback_by_group(
    feedback: &[Feedback],
    period: Period,
    groups: &CustomerGroups,
    level: f64,
) -> Result<FeedbackByGroup, KpiError> {
    feedback_by_group_per_period(feedback, period, 1, groups, level)?
        .pop()
        .ok_or(KpiError::Empty {
            what: "periods",
            kpi: "feedback by group",
        })
}

/// [`feedback_by_group`] for `periods` consecutive periods of the length of `last`, ending with
/// `last` (each before it the [`preceding`](Period::preceding) one), oldest first, in one pass
/// over the feedback (holding one small tally per group and period).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{feedback_by_group_per_period, CustomerGroups, Period};
/// use customer_assets::{CustomerId, Feedback};
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let id = CustomerId::from(1u64);
/// let feedback = vec![
///     Feedback::new(id.clone(), d(1, 10)?, None, Some(3))?,
///     Feedback::new(id.clone(), d(2, 10)?, None, Some(10))?,
/// ];
/// let groups = CustomerGroups::from_pairs([(id, "web")])?;
/// // Three 30-day periods, oldest first: 3 Dec–1 Jan, 2–31 Jan, 1 Feb–1 Mar.
/// let last = Period::ending(d(3, 1)?, 30)?;
/// let months = feedback_by_group_per_period(&feedback, last, 3, &groups, 0.95)?;
/// assert_eq!(months[1].period, Period::new(d(1, 2)?, d(1, 31)?)?);
/// let scores: Vec<Option<f64>> = months
///     .iter()
///     .map(|m| m.groups[0].nps.map(|n| n.nps.score))
///     .collect();
/// assert_eq!(scores, [None, Some(-100.0), Some(100.0)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] when `periods` is 0 or `level` is not strictly between 0 and 1;
/// [`KpiError::TooManyPeriods`] above [`MAX_COHORT_PERIODS`](super::MAX_COHORT_PERIODS)
/// periods; [`KpiError::DateOutOfRange`] when the first period would start before chrono's first
/// date.
pub fn feedback_by_group_per_period(
    feedback: &[Feedback],
    last: Period,
    periods: usize,
    groups: &CustomerGroups,
    level: f64,
) -> Result<Vec<FeedbackByGroup>, KpiError> {
    let level = check_level(level)?;
    if periods == 0 {
        return Err(KpiError::InvalidParameter(InvalidParameter::new(
            "periods",
            0usize,
            "at least one period",
        )));
    }
    if periods > MAX_COHORT_PERIODS {
        return Err(KpiError::TooManyPeriods {
            parameter: "periods",
            periods,
            limit: MAX_COHORT_PERIODS,
        });
    }
    let mut spans = vec![last];
    while spans.len() < periods {
        let earlier = spans[spans.len() - 1].preceding()?;
        spans.push(earlier);
    }
    spans.reverse();
    let first = spans[0].start();
    let length = last.days();
    let width = groups.labels.len();
    let mut tallies = vec![Tally::default(); periods * width];
    let mut ungrouped = vec![Ungrouped::default(); periods];
    let mut ungrouped_ids: Vec<FastMap<&CustomerId, ()>> = vec![FastMap::default(); periods];
    let index_of = |date: NaiveDate| -> Option<usize> {
        if date < first || date > last.end() {
            return None;
        }
        usize::try_from((date - first).num_days() / length).ok()
    };
    for f in feedback {
        let Some(k) = index_of(f.date()) else {
            continue;
        };
        match groups.of.get(f.customer()) {
            Some(&g) => tallies[k * width + g as usize].add(f),
            None => {
                ungrouped[k].responses += 1;
                ungrouped_ids[k].insert(f.customer(), ());
            }
        }
    }
    let mut out = Vec::with_capacity(periods);
    for (k, period) in spans.into_iter().enumerate() {
        let mut rows = Vec::with_capacity(width);
        for (label, tally) in groups
            .labels
            .iter()
            .zip(&tallies[k * width..(k + 1) * width])
        {
            rows.push(GroupFeedback {
                label: label.to_string(),
                responses: tally.responses,
                nps: tally.nps(level).transpose()?,
                satisfaction: tally.satisfaction(level),
            });
        }
        out.push(FeedbackByGroup {
            period,
            groups: rows,
            ungrouped: Ungrouped {
                customers: ungrouped_ids[k].len(),
                responses: ungrouped[k].responses,
            },
        });
    }
    Ok(out)
}

/// Which customers count as high-value for [`detractors_at_risk`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ClvThreshold {
    /// The top share of the valued customers by CLV: the threshold is the CLV of the customer
    /// ranked ⌈share × n⌉ from the top, in (0, 1]. Customers tied with it count too.
    TopShare(f64),
    /// A CLV amount.
    Amount(Decimal),
}

/// A high-value customer whose latest recommend answer in the period is a detractor's.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct AtRiskDetractor {
    /// The customer.
    pub id: CustomerId,
    /// Their CLV.
    pub clv: Decimal,
    /// Their latest recommend score in the period (0–6).
    pub score: u8,
    /// Its date.
    pub date: NaiveDate,
}

/// The detractors among high-value customers ([`detractors_at_risk`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FeedbackAtRisk {
    /// The period.
    pub period: Period,
    /// The rule for high value.
    pub rule: ClvThreshold,
    /// The CLV at or above which a customer counts as high-value.
    pub threshold: Decimal,
    /// Customers whose latest recommend answer in the period is a detractor's, valued or not.
    pub detractors: usize,
    /// Of those, the customers without a value (not among the values given).
    pub unvalued_detractors: usize,
    /// The high-value detractors, by CLV, largest first (ties by id).
    pub customers: Vec<AtRiskDetractor>,
    /// Their total CLV: the value at risk from feedback.
    pub value_at_risk: Decimal,
}

/// The customers whose latest recommend answer dated in `period` is a detractor's (0–6) and
/// whose CLV (from `values`) is at or above the threshold: each with id, CLV, score and date, by
/// CLV largest first (ties by id), and their total CLV. Of two answers on a customer's latest
/// day, the later in `feedback` counts.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::kpi::{detractors_at_risk, ClvThreshold, Period};
/// use customer_assets::{CustomerId, Feedback};
/// use rust_decimal::Decimal;
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let ids: Vec<CustomerId> = (1u64..=5).map(CustomerId::from).collect();
/// let feedback = vec![
///     Feedback::new(ids[0].clone(), day, None, Some(3))?, // detractor, CLV 500
///     Feedback::new(ids[1].clone(), day, None, Some(10))?, // promoter, CLV 400
///     Feedback::new(ids[4].clone(), day, None, Some(2))?, // detractor, CLV 10
/// ];
/// let clv = [500, 400, 300, 200, 10].map(Decimal::from);
/// let values = ids.iter().zip(clv);
/// // The top 40% of 5 customers: the two worth 400 or more.
/// let risk = detractors_at_risk(&feedback, Period::new(day, day)?, values, ClvThreshold::TopShare(0.4))?;
/// assert_eq!(risk.threshold, Decimal::from(400));
/// assert_eq!(risk.customers.len(), 1);
/// assert_eq!((risk.detractors, risk.value_at_risk), (2, Decimal::from(500)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`KpiError::InvalidParameter`] for a top share not in (0, 1]; [`KpiError::Empty`] for a top
/// share of no values; [`KpiError::DuplicateCustomer`] when `values` names a customer twice;
/// [`KpiError::Overflow`] when the total CLV does not fit a decimal.
pub fn detractors_at_risk<'c>(
    feedback: &[Feedback],
    period: Period,
    values: impl IntoIterator<Item = (&'c CustomerId, Decimal)>,
    rule: ClvThreshold,
) -> Result<FeedbackAtRisk, KpiError> {
    if let ClvThreshold::TopShare(share) = rule {
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(KpiError::InvalidParameter(InvalidParameter::new(
                "top share",
                share,
                "a share of customers lies in (0, 1]",
            )));
        }
    }
    let mut clv: FastMap<&CustomerId, Decimal> = FastMap::default();
    for (id, value) in values {
        if clv.insert(id, value).is_some() {
            return Err(KpiError::DuplicateCustomer {
                customer: id.clone(),
                what: "the customer values",
            });
        }
    }
    let threshold = match rule {
        ClvThreshold::Amount(amount) => amount,
        ClvThreshold::TopShare(share) => {
            let mut sorted: Vec<Decimal> = clv.values().copied().collect();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let n = sorted.len();
            // ⌈share × n⌉ in 1..=n (share ≤ 1, and at least one customer is high-value); a
            // product within rounding of a whole number is that number (0.2 × 5 is 1, not 2).
            let x = share * n as f64;
            let whole = x.round();
            let x = if (x - whole).abs() <= 1e-9 * whole.max(1.0) {
                whole
            } else {
                x.ceil()
            };
            let rank = (x as usize).clamp(1, n.max(1));
            *sorted.get(rank - 1).ok_or(KpiError::Empty {
                what: "customer values",
                kpi: "the high-value threshold",
            })?
        }
    };
    let mut latest: FastMap<&CustomerId, (NaiveDate, u8)> = FastMap::default();
    for f in feedback.iter().filter(|f| period.contains(f.date())) {
        let Some(score) = f.recommend() else {
            continue;
        };
        let entry = latest.entry(f.customer()).or_insert((f.date(), score));
        if f.date() >= entry.0 {
            *entry = (f.date(), score);
        }
    }
    let (mut detractors, mut unvalued) = (0, 0);
    let mut customers = Vec::new();
    for (id, (date, score)) in latest {
        if score > 6 {
            continue;
        }
        detractors += 1;
        match clv.get(id) {
            None => unvalued += 1,
            Some(&value) if value >= threshold => customers.push(AtRiskDetractor {
                id: id.clone(),
                clv: value,
                score,
                date,
            }),
            Some(_) => {}
        }
    }
    customers.sort_unstable_by(|a, b| b.clv.cmp(&a.clv).then_with(|| a.id.cmp(&b.id)));
    let value_at_risk = customers
        .iter()
        .try_fold(Decimal::ZERO, |sum, c| sum.checked_add(c.clv))
        .ok_or(KpiError::Overflow(
            "the CLV of the detractors among high-value customers",
        ))?;
    Ok(FeedbackAtRisk {
        period,
        rule,
        threshold,
        detractors,
        unvalued_detractors: unvalued,
        customers,
        value_at_risk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::{net_promoter_score, satisfaction};
    use crate::test_support::proptest_config;
    use proptest::prelude::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(u64::from(d))
    }

    fn id(n: u64) -> CustomerId {
        CustomerId::from(n)
    }

    fn nps(p: usize, n: usize, d: usize) -> Nps {
        let responses = p + n + d;
        Nps {
            responses,
            promoters: p,
            passives: n,
            detractors: d,
            score: 100.0 * (p as f64 - d as f64) / responses as f64,
        }
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Reference values from scipy 1.17 (`stats.norm.ppf(0.5 + level / 2)`) and the formula in
    /// the module docs: centre (P − D)/(n + 2), se √((P + D + 1) − (P − D)²/(n + 2))/(n + 2).
    #[test]
    fn nps_intervals_match_the_wald_plus_2_formula() {
        let cases = [
            // n = 1, one promoter: centre 1/3, se √(2 − 1/3)/3 = 0.43033, z 1.95996:
            // 1/3 − 0.84344 = −0.51010; the upper end 1.17678 truncated to 1.
            ((1, 0, 0), 0.95, -51.010087458777335, 100.0),
            ((0, 0, 1), 0.95, -100.0, 51.010087458777335),
            // One passive: centre 0, se √1/3, ± 0.65332.
            ((0, 1, 0), 0.95, -65.3321328180018, 65.3321328180018),
            // 50/30/20: centre 30/102 = 0.29412, se √(71 − 900/102)/102 = 0.077306.
            ((50, 30, 20), 0.95, 14.260079030770466, 44.56345038099424),
            ((5, 3, 2), 0.90, -11.907532769777557, 61.90753276977756),
            // All promoters: never a point, even at n = 1000.
            ((1000, 0, 0), 0.95, 99.46182656724686, 100.0),
            ((3, 4, 3), 0.99, -56.79169797452579, 56.79169797452579),
        ];
        for ((p, n, d), level, lower, upper) in cases {
            let i = nps_interval(&nps(p, n, d), level).unwrap();
            assert!(close(i.lower, lower, 1e-9), "{p}/{n}/{d}: {i:?}");
            assert!(close(i.upper, upper, 1e-9), "{p}/{n}/{d}: {i:?}");
            assert_eq!(i.level, level);
        }
    }

    #[test]
    fn nps_interval_rejects_bad_levels_and_no_responses() {
        for level in [0.0, 1.0, -0.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                nps_interval(&nps(1, 0, 0), level),
                Err(KpiError::InvalidParameter(_))
            ));
        }
        let none = Nps {
            responses: 0,
            promoters: 0,
            passives: 0,
            detractors: 0,
            score: 0.0,
        };
        assert!(matches!(
            nps_interval(&none, 0.95),
            Err(KpiError::Empty { .. })
        ));
    }

    /// statrs' t quantiles against scipy's `stats.t.ppf(0.975, df)`, up to a million degrees of
    /// freedom (where it must meet the normal's 1.959964).
    #[test]
    fn t_quantiles_match_scipy() {
        for (df, want) in [
            (1.0, 12.706204736174694),
            (2.0, 4.302652729749462),
            (9.0, 2.262157162798205),
            (99.0, 1.9842169515864174),
            (100.0, 1.9839715185235518),
            (99.999, 1.983971761475446),
            (999.0, 1.9623414611334493),
            (1e5, 1.9599877075346095),
            (1e6, 1.959966356814107),
        ] {
            let got = t_quantile(0.95, df);
            assert!(close(got, want, 1e-7 * want), "df {df}: {got} vs {want}");
        }
        assert!(close(normal_quantile(0.95), 1.959963984540054, 1e-12));
    }

    fn scored(customer: u64, d: u32, sat: Option<(f64, f64, f64)>, rec: Option<u8>) -> Feedback {
        Feedback::new(id(customer), day(d), sat, rec).unwrap()
    }

    #[test]
    fn satisfaction_intervals_match_the_t_formula() {
        // Normalised scores 1, 0.5, 0.75 (5, 3, 4 on 1..=5): mean 0.75, s 0.25, n 3,
        // t(2, 0.975) 4.302653: 0.75 ± 0.62103 = [0.128966, 1.371034], truncated to 1 (scipy).
        let feedback: Vec<Feedback> = [5.0, 3.0, 4.0]
            .iter()
            .map(|&s| scored(1, 0, Some((s, 1.0, 5.0)), None))
            .collect();
        let period = Period::new(day(0), day(0)).unwrap();
        let s = satisfaction_with_interval(&feedback, period, 0.95).unwrap();
        assert!(close(s.satisfaction.mean_normalized, 0.75, 1e-15));
        assert_eq!(s.satisfaction.mean, Some(4.0));
        assert!(close(s.interval.lower, 0.12896557206241743, 1e-9), "{s:?}");
        assert_eq!(s.interval.upper, 1.0);
        let plain = satisfaction(&feedback, period).unwrap();
        assert_eq!(s.satisfaction.responses, plain.responses);
        assert!(close(
            s.satisfaction.mean_normalized,
            plain.mean_normalized,
            1e-12
        ));
        // 0.25, 0.5, 0.75, 1 at 90%: mean 0.625, t(3, 0.95) 2.353363: [0.245228, 1.004772].
        let feedback: Vec<Feedback> = [0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|&s| scored(1, 0, Some((s, 0.0, 1.0)), None))
            .collect();
        let s = satisfaction_with_interval(&feedback, period, 0.90).unwrap();
        assert!(close(s.interval.lower, 0.24522760872662724, 1e-9), "{s:?}");
        assert_eq!(s.interval.upper, 1.0);
    }

    #[test]
    fn satisfaction_intervals_at_small_n() {
        let period = Period::new(day(0), day(0)).unwrap();
        // One response: no spread to estimate, the whole scale.
        let one = [scored(1, 0, Some((4.0, 1.0, 5.0)), None)];
        let s = satisfaction_with_interval(&one, period, 0.95).unwrap();
        assert_eq!((s.interval.lower, s.interval.upper), (0.0, 1.0));
        assert_eq!(s.satisfaction.mean, Some(4.0));
        // Two equal responses: no spread in the sample, width 0 (documented).
        let two = [one[0].clone(), one[0].clone()];
        let s = satisfaction_with_interval(&two, period, 0.95).unwrap();
        assert_eq!((s.interval.lower, s.interval.upper), (0.75, 0.75));
        // Mixed scales: no raw mean.
        let mixed = [one[0].clone(), scored(1, 0, Some((1.0, 1.0, 7.0)), None)];
        let s = satisfaction_with_interval(&mixed, period, 0.95).unwrap();
        assert_eq!(s.satisfaction.mean, None);
        assert!(matches!(
            satisfaction_with_interval(&[scored(1, 0, None, Some(3))], period, 0.95),
            Err(KpiError::Empty { .. })
        ));
        // Scales spanning all of f64 stay finite.
        let wide = [
            scored(1, 0, Some((f64::MAX, -f64::MAX, f64::MAX)), None),
            scored(1, 0, Some((-f64::MAX, -f64::MAX, f64::MAX)), None),
        ];
        let s = satisfaction_with_interval(&wide, period, 0.95).unwrap();
        assert_eq!(s.satisfaction.mean_normalized, 0.5);
        assert!(s.satisfaction.mean.is_some_and(f64::is_finite));
        assert_eq!((s.interval.lower, s.interval.upper), (0.0, 1.0));
    }

    #[test]
    fn groups_are_listed_in_order_and_the_ungrouped_counted() {
        // Customers 1, 2 gold; 3 silver; "platinum" declared and empty; 8, 9 in no group.
        let feedback = vec![
            scored(1, 0, Some((5.0, 1.0, 5.0)), Some(10)),
            scored(2, 1, Some((3.0, 1.0, 5.0)), Some(6)),
            scored(2, 2, None, Some(8)),
            scored(3, 1, Some((2.0, 1.0, 5.0)), None),
            scored(8, 1, None, Some(0)),
            scored(9, 1, None, Some(0)),
            scored(9, 2, None, Some(1)),
            // Outside the period.
            scored(1, 30, None, Some(0)),
        ];
        let mut groups = CustomerGroups::new();
        groups.add_group("platinum");
        groups.assign(id(1), "gold").unwrap();
        groups.assign(id(2), "gold").unwrap();
        groups.assign(id(2), "gold").unwrap();
        groups.assign(id(3), "silver").unwrap();
        let period = Period::new(day(0), day(6)).unwrap();
        let r = feedback_by_group(&feedback, period, &groups, 0.95).unwrap();
        let labels: Vec<&str> = r.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["platinum", "gold", "silver"]);
        let [platinum, gold, silver] = &r.groups[..] else {
            panic!("three groups")
        };
        assert_eq!(platinum.responses, 0);
        assert!(platinum.nps.is_none() && platinum.satisfaction.is_none());
        // Gold: 10, 6, 8 → one promoter, one passive, one detractor: NPS 0; satisfaction
        // (5, 3 on 1..=5) → 1, 0.5, mean 0.75.
        assert_eq!(gold.responses, 3);
        let g = gold.nps.unwrap();
        assert_eq!(
            (g.nps.promoters, g.nps.passives, g.nps.detractors),
            (1, 1, 1)
        );
        assert_eq!(g.nps.score, 0.0);
        assert_eq!(gold.satisfaction.unwrap().satisfaction.mean, Some(4.0));
        assert_eq!(silver.responses, 1);
        assert!(silver.nps.is_none());
        assert_eq!(
            r.ungrouped,
            Ungrouped {
                customers: 2,
                responses: 3
            }
        );
        assert!(matches!(
            groups.assign(id(3), "gold"),
            Err(KpiError::ConflictingGroups { .. })
        ));
        assert_eq!(groups.group_of(&id(3)), Some("silver"));
    }

    #[test]
    fn consecutive_periods_bucket_the_feedback_as_one_period_at_a_time() {
        let feedback: Vec<Feedback> = (0..60u32)
            .map(|k| {
                scored(
                    u64::from(k % 7),
                    k,
                    Some((f64::from(k % 5), 0.0, 4.0)),
                    Some((k % 11) as u8),
                )
            })
            .collect();
        let groups = CustomerGroups::from_pairs(
            (0..5u64).map(|c| (id(c), if c % 2 == 0 { "even" } else { "odd" })),
        )
        .unwrap();
        let last = Period::new(day(40), day(49)).unwrap();
        let all = feedback_by_group_per_period(&feedback, last, 4, &groups, 0.9).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].period, Period::new(day(10), day(19)).unwrap());
        for r in &all {
            let one = feedback_by_group(&feedback, r.period, &groups, 0.9).unwrap();
            assert_eq!(r, &one);
        }
        assert!(matches!(
            feedback_by_group_per_period(&feedback, last, 0, &groups, 0.9),
            Err(KpiError::InvalidParameter(_))
        ));
        assert!(matches!(
            feedback_by_group_per_period(&feedback, last, MAX_COHORT_PERIODS + 1, &groups, 0.9),
            Err(KpiError::TooManyPeriods { .. })
        ));
    }

    #[test]
    fn detractors_at_risk_take_each_customers_latest_answer() {
        let feedback = vec![
            // 1: detractor then promoter → not a detractor.
            scored(1, 0, None, Some(2)),
            scored(1, 3, None, Some(9)),
            // 2: promoter then detractor (6) → at risk.
            scored(2, 0, None, Some(10)),
            scored(2, 3, None, Some(6)),
            // 3: two answers the same day: the later record (5) counts.
            scored(3, 2, None, Some(9)),
            scored(3, 2, None, Some(5)),
            // 4: a satisfaction score only.
            scored(4, 2, Some((1.0, 1.0, 5.0)), None),
            // 5: detractor, low value. 6: detractor, no value. 7: outside the period.
            scored(5, 1, None, Some(0)),
            scored(6, 1, None, Some(0)),
            scored(7, 9, None, Some(0)),
        ];
        let ids: Vec<CustomerId> = (1..=5).chain([7]).map(id).collect();
        let clv = [900, 300, 300, 800, 10, 1000].map(Decimal::from);
        let period = Period::new(day(0), day(6)).unwrap();
        // Top half of 6 values: the 3rd largest, 800.
        let r = detractors_at_risk(
            &feedback,
            period,
            ids.iter().zip(clv),
            ClvThreshold::TopShare(0.5),
        )
        .unwrap();
        assert_eq!(r.threshold, Decimal::from(800));
        assert!(r.customers.is_empty());
        assert_eq!((r.detractors, r.unvalued_detractors), (4, 1));
        // At 300 and above: 2 and 3, both 300, ordered by id; total 600.
        let r = detractors_at_risk(
            &feedback,
            period,
            ids.iter().zip(clv),
            ClvThreshold::Amount(Decimal::from(300)),
        )
        .unwrap();
        let listed: Vec<(u64, u8, NaiveDate)> = r
            .customers
            .iter()
            .map(|c| (c.id.as_u64().unwrap(), c.score, c.date))
            .collect();
        assert_eq!(listed, [(2, 6, day(3)), (3, 5, day(2))]);
        assert_eq!(r.value_at_risk, Decimal::from(600));
        // The top 20% of 5 values: rank ⌈1.0⌉ = 1, not 2 from rounding.
        let five = &ids[..5];
        let r = detractors_at_risk(
            &feedback,
            period,
            five.iter().zip(clv),
            ClvThreshold::TopShare(0.2),
        )
        .unwrap();
        assert_eq!(r.threshold, Decimal::from(900));
        // Bad input is a typed error.
        for share in [0.0, 1.5, f64::NAN] {
            assert!(matches!(
                detractors_at_risk(
                    &feedback,
                    period,
                    five.iter().zip(clv),
                    ClvThreshold::TopShare(share)
                ),
                Err(KpiError::InvalidParameter(_))
            ));
        }
        let twice = [(&ids[0], Decimal::ONE), (&ids[0], Decimal::TWO)];
        assert!(matches!(
            detractors_at_risk(&feedback, period, twice, ClvThreshold::TopShare(0.2)),
            Err(KpiError::DuplicateCustomer { .. })
        ));
        assert!(matches!(
            detractors_at_risk(&feedback, period, [], ClvThreshold::TopShare(0.2)),
            Err(KpiError::Empty { .. })
        ));
        let huge = [(&ids[0], Decimal::MAX), (&ids[1], Decimal::MAX)];
        let both = [scored(1, 0, None, Some(0)), scored(2, 0, None, Some(0))];
        assert!(matches!(
            detractors_at_risk(&both, period, huge, ClvThreshold::TopShare(1.0)),
            Err(KpiError::Overflow(_))
        ));
    }

    fn any_feedback() -> impl Strategy<Value = Vec<Feedback>> {
        prop::collection::vec(
            (
                0u64..12,
                0u32..20,
                prop::option::of(0.0f64..=4.0),
                prop::option::of(0u8..=10),
            ),
            0..80,
        )
        .prop_map(|rows| {
            rows.into_iter()
                .map(|(c, d, s, r)| {
                    let r = if s.is_none() && r.is_none() {
                        Some(7)
                    } else {
                        r
                    };
                    scored(c, d, s.map(|s| (s, 0.0, 4.0)), r)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(proptest_config(128))]

        /// The groups' and the ungrouped responses add up to the period's responses, and their
        /// NPS counts to the period's NPS; every interval stays on its scale.
        #[test]
        fn group_counts_sum_to_the_total(
            feedback in any_feedback(),
            members in prop::collection::vec(prop::option::of(0usize..4), 12),
            level in 0.5f64..0.999,
        ) {
            let mut groups = CustomerGroups::new();
            for (c, g) in members.iter().enumerate() {
                if let Some(g) = g {
                    groups.assign(id(c as u64), &format!("g{g}")).unwrap();
                }
            }
            let period = Period::new(day(3), day(15)).unwrap();
            let r = feedback_by_group(&feedback, period, &groups, level).unwrap();
            let total = feedback.iter().filter(|f| period.contains(f.date())).count();
            let grouped: usize = r.groups.iter().map(|g| g.responses).sum();
            prop_assert_eq!(grouped + r.ungrouped.responses, total);
            let answered = |g: &GroupFeedback| g.nps.map_or(0, |n| n.nps.responses);
            let recommend: usize = r.groups.iter().map(answered).sum();
            let ungrouped_recommend = feedback
                .iter()
                .filter(|f| period.contains(f.date()) && groups.group_of(f.customer()).is_none())
                .filter(|f| f.recommend().is_some())
                .count();
            let all = net_promoter_score(&feedback, period).map_or(0, |n| n.responses);
            prop_assert_eq!(recommend + ungrouped_recommend, all);
            for g in &r.groups {
                if let Some(n) = g.nps {
                    prop_assert!(-100.0 <= n.interval.lower && n.interval.lower < n.interval.upper);
                    prop_assert!(n.interval.upper <= 100.0);
                }
                if let Some(s) = g.satisfaction {
                    prop_assert!(0.0 <= s.interval.lower && s.interval.lower <= s.interval.upper);
                    prop_assert!(s.interval.upper <= 1.0);
                }
            }
        }
    }
}
