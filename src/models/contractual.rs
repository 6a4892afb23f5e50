//! Contractual retention: cohorts of survivors per period, and the [`RetentionModel`] trait shared
//! by the shifted-beta-geometric ([`crate::models::sbg`]) and beta-discrete-Weibull
//! ([`crate::models::bdw`]) models.
//!
//! In a contractual setting churn is observed: a customer renews at the end of each period or
//! leaves. The data are cohorts: how many of the customers acquired at period 0 are still active
//! at the start of periods 1, 2, .... A lifetime T ≥ 1 counts the periods a customer stays;
//! S(t) = P(T > t) is the share of a cohort still active at the start of period t + 1... written
//! here as "alive at t", so S(0) = 1 and the expected survivors at t are n_0 · S(t).
//!
//! The retention models are not [`crate::TransactionModel`]s: they describe lifetimes, not
//! repeated purchases with an unobserved dropout, so P(alive) given a purchase history, expected
//! purchases and DERT have no meaning for them. Their valuation is contractual: CLV = margin ×
//! DERL (one payment per period while the contract lasts).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::contractual::{Cohort, RetentionModel};
//! use customer_assets::models::sbg::SbgParams;
//!
//! // Fader & Hardie (2007): customers of the "regular" segment still active in years 0 to 7.
//! let regular = Cohort::new("regular", vec![1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0])?;
//! let model = SbgParams::new().fit(&[regular])?;
//! let projected = model.projected_survivors(1000.0, 12)?;
//! assert!((projected[12] - 170.0).abs() < 0.5);
//! // Any retention model, boxed or shared, values a subscriber the same way.
//! let boxed: Box<dyn RetentionModel> = Box::new(model);
//! assert!(boxed.clv(50.0, 0.1, 1)? > 50.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::fit::{
    check_total_weight, BoundaryEstimate, Covariance, FitError, FitReport, Limit, Pair,
};
use crate::models::error::PredictError;

/// Why cohort data are invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CohortError {
    /// A cohort needs its acquisition count and at least one later period.
    #[error("cohort {cohort}: needs at least periods 0 and 1, got {len} value(s)")]
    TooShort {
        /// The cohort's name.
        cohort: String,
        /// Values given.
        len: usize,
    },
    /// A count is negative or not finite, or the acquisition count is zero.
    #[error("cohort {cohort}, period {period}: count {count} must be finite and non-negative (positive at period 0)")]
    BadCount {
        /// The cohort's name.
        cohort: String,
        /// The period.
        period: usize,
        /// The count given.
        count: f64,
    },
    /// Survivors increased from one period to the next.
    #[error("cohort {cohort}, period {period}: {count} survivors exceed the {previous} of the period before")]
    Increasing {
        /// The cohort's name.
        cohort: String,
        /// The period.
        period: usize,
        /// The count given.
        count: f64,
        /// The previous period's count.
        previous: f64,
    },
}

/// One cohort: the customers acquired together and how many are still active at the start of
/// each period (index 0 = the number acquired). Counts may be fractional (e.g. per 1,000).
///
/// ```
/// use customer_assets::models::contractual::Cohort;
/// let regular = Cohort::new("regular", vec![1000.0, 631.0, 468.0, 382.0])?;
/// assert_eq!(regular.periods(), 3);
/// assert_eq!(regular.calibration(2).alive(), &[1000.0, 631.0, 468.0]);
/// # Ok::<(), customer_assets::models::contractual::CohortError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "CohortData"))]
pub struct Cohort {
    name: String,
    alive: Vec<f64>,
}

/// The serialized form, checked by [`Cohort::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CohortData {
    name: String,
    alive: Vec<f64>,
}

#[cfg(feature = "serde")]
impl TryFrom<CohortData> for Cohort {
    type Error = CohortError;
    fn try_from(d: CohortData) -> Result<Self, CohortError> {
        Cohort::new(d.name, d.alive)
    }
}

impl Cohort {
    /// Validates the counts: finite, non-negative, non-increasing, at least two, positive at 0.
    ///
    /// # Errors
    /// [`CohortError`] naming the cohort and the first invalid period.
    pub fn new(name: impl Into<String>, alive: Vec<f64>) -> Result<Self, CohortError> {
        let name = name.into();
        if alive.len() < 2 {
            return Err(CohortError::TooShort {
                cohort: name,
                len: alive.len(),
            });
        }
        let mut previous = f64::INFINITY;
        for (period, &count) in alive.iter().enumerate() {
            if !(count.is_finite() && count >= 0.0) || (period == 0 && count <= 0.0) {
                return Err(CohortError::BadCount {
                    cohort: name,
                    period,
                    count,
                });
            }
            if count > previous {
                return Err(CohortError::Increasing {
                    cohort: name,
                    period,
                    count,
                    previous,
                });
            }
            previous = count;
        }
        Ok(Cohort { name, alive })
    }
    /// The cohort's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The customers who churned in each period (1..=n), then those still active at the end:
    /// the cells a resample of the cohort's customers draws from.
    pub(crate) fn lifetimes(&self) -> Vec<f64> {
        let mut cells: Vec<f64> = self.alive.windows(2).map(|w| w[0] - w[1]).collect();
        cells.push(self.alive.last().copied().unwrap_or(0.0));
        cells
    }

    /// The cohort of these cells ([`lifetimes`](Self::lifetimes)), `None` when it has nobody.
    pub(crate) fn with_lifetimes(&self, cells: &[f64]) -> Option<Cohort> {
        let mut alive = vec![0.0; cells.len()];
        let mut active = 0.0;
        for (t, cell) in cells.iter().enumerate().rev() {
            active += cell;
            alive[t] = active;
        }
        // alive[0] = everybody; alive[t] = those who churned after period t, plus the survivors.
        let alive: Vec<f64> = std::iter::once(active)
            .chain(alive.into_iter().skip(1))
            .collect();
        Cohort::new(self.name.clone(), alive).ok()
    }
    /// Active customers at the start of each period, index 0 = acquired.
    pub fn alive(&self) -> &[f64] {
        &self.alive
    }
    /// Number of acquired customers.
    pub fn acquired(&self) -> f64 {
        self.alive.first().copied().unwrap_or(0.0)
    }
    /// The last period observed.
    pub fn periods(&self) -> usize {
        self.alive.len().saturating_sub(1)
    }
    /// The cohort cut to periods 0..=`k` (all of it when `k` is beyond its end, at least period 1).
    pub fn calibration(&self, k: usize) -> Cohort {
        let end = k.min(self.periods()).max(1);
        Cohort {
            name: self.name.clone(),
            alive: self.alive.iter().take(end + 1).copied().collect(),
        }
    }
}

/// The churn probability's beta(α, β) of the retention models, parameters 0 and 1: how a fit
/// heading for a boundary reads.
pub(crate) fn churn_pair() -> Pair {
    Pair::Beta {
        a: 0,
        b: 1,
        heterogeneity: Limit::NoDropoutHeterogeneity,
        mean_to_zero: Some(Limit::NoDropout),
        mean_to_one: Some(Limit::EveryoneDropsOut),
    }
}

/// What a retention fit checks before optimising: some cohort, at most
/// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) customers acquired, at least `parameters`
/// observed periods (each period gives one retention share), and churn that is neither total at
/// the first renewal nor absent.
pub(crate) fn check_cohorts(
    model: &'static str,
    cohorts: &[Cohort],
    parameters: usize,
) -> Result<(), FitError> {
    if cohorts.is_empty() {
        return Err(FitError::NoData {
            model,
            reason: "no cohorts",
        });
    }
    check_total_weight(model, cohorts.iter().map(Cohort::acquired).sum())?;
    let periods = cohorts.iter().map(Cohort::periods).max().unwrap_or(0);
    if periods < parameters {
        return Err(FitError::NotIdentified {
            model,
            reason: format!(
                "the longest cohort observes {periods} period(s), fewer than the model's {parameters} parameters: each period gives one retention share"
            ),
        });
    }
    let boundary = |limit: Limit| FitError::Boundary {
        model,
        boundary: Box::new(BoundaryEstimate {
            limits: vec![limit],
            estimate: Vec::new(),
            population_mean_spend: None,
            report: None,
        }),
    };
    if cohorts.iter().all(|c| c.alive.last() == c.alive.first()) {
        return Err(boundary(Limit::NoDropout));
    }
    if cohorts.iter().all(|c| c.alive.get(1) == Some(&0.0)) {
        return Err(boundary(Limit::EveryoneDropsOut));
    }
    Ok(())
}

/// The log-likelihood of cohorts under a lifetime distribution given by ln P(T = t) and ln S(t):
/// Σ_t (n_{t−1} − n_t) ln P(T = t) + n_K ln S(K).
pub(crate) fn cohort_log_likelihood(
    cohorts: &[Cohort],
    mut ln_p: impl FnMut(u32) -> f64,
    mut ln_s: impl FnMut(u32) -> f64,
) -> f64 {
    let mut ll = 0.0;
    for c in cohorts {
        for (t, pair) in c.alive.windows(2).enumerate() {
            let lost = pair[0] - pair[1];
            if lost > 0.0 {
                ll += lost * ln_p(t as u32 + 1);
            }
        }
        let last = c.alive.last().copied().unwrap_or(0.0);
        if last > 0.0 {
            ll += last * ln_s(c.periods() as u32);
        }
    }
    ll
}

fn check_rate(d: f64) -> Result<(), PredictError> {
    if d.is_finite() && d > 0.0 {
        Ok(())
    } else {
        Err(PredictError::InvalidInput {
            name: "discount rate",
            value: d,
            reason: "must be finite and positive",
        })
    }
}

fn check_period(n: u32) -> Result<(), PredictError> {
    if n >= 1 {
        Ok(())
    } else {
        Err(PredictError::InvalidInput {
            name: "n",
            value: n as f64,
            reason: "periods are numbered from 1",
        })
    }
}

const MAX_TERMS: u64 = 50_000_000;

/// Longest projection [`RetentionModel::projected_survivors`] makes, in periods: 100,000 (over
/// 8,000 years of monthly renewals). The projection is one number per period, so the limit keeps
/// its memory (800 kB) bounded whatever the requested length.
pub const MAX_PROJECTION_PERIODS: u32 = 100_000;

/// A finite result, or [`PredictError::Numerical`].
pub(crate) fn finite(what: &'static str, v: f64) -> Result<f64, PredictError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(PredictError::Numerical {
            what,
            detail: format!("non-finite result {v}"),
        })
    }
}

/// Σ_{t ≥ n} S(t)/S(n−1) · z^{t−n} by the retention-rate recursion, until the terms are negligible.
pub(crate) fn derl_by_sum<M: RetentionModel + ?Sized>(
    model: &M,
    d: f64,
    n: u32,
) -> Result<f64, PredictError> {
    let z = 1.0 / (1.0 + d);
    let ln_s0 = model.ln_survival(n.saturating_sub(1));
    if ln_s0 == f64::NEG_INFINITY {
        return Err(PredictError::Numerical {
            what: "DERL",
            detail: format!("no customer survives to period {n}"),
        });
    }
    let mut sum = 0.0;
    let mut k: u64 = 0;
    loop {
        let t = u32::try_from(u64::from(n) + k).unwrap_or(u32::MAX);
        let term = (model.ln_survival(t) - ln_s0 + k as f64 * z.ln()).exp();
        sum += term;
        if term <= 1e-15 * sum || term == 0.0 {
            return finite("DERL", sum);
        }
        k += 1;
        if k > MAX_TERMS {
            return Err(PredictError::Numerical {
                what: "DERL",
                detail: format!("series not converged after {MAX_TERMS} terms (sum {sum})"),
            });
        }
    }
}

/// A model of contract lifetimes in whole periods: survival, churn and retention by period,
/// projections, expected and discounted lifetimes, and contractual CLV.
///
/// A model implements the three required methods; everything else is provided from
/// [`ln_survival`](Self::ln_survival) by numerical defaults, and a model overrides them where it
/// has closed forms, its fit report or its covariance. `&T`, `Box<T>` and `Arc<T>` are retention
/// models wherever `T` is, so a model can be shared or boxed without losing any of it.
///
/// The probabilities are plain numbers, never NaN (provided `ln_survival` never is); every
/// computation that can fail (a series, a rate, a margin) returns a finite number or a
/// [`PredictError`].
pub trait RetentionModel: Send + Sync {
    /// A short name such as `"sbg"`.
    fn name(&self) -> &str;
    /// The parameters by name, for reports.
    fn named_parameters(&self) -> Vec<(String, f64)>;
    /// ln S(t) = ln P(T > t): 0 at t = 0, non-increasing, −∞ where no customer is left, never
    /// NaN.
    fn ln_survival(&self, t: u32) -> f64;

    /// Number of fitted parameters (for AIC and BIC): the length of
    /// [`named_parameters`](Self::named_parameters).
    fn parameter_count(&self) -> usize {
        self.named_parameters().len()
    }
    /// The report of the fit that produced the model, when it was fitted.
    fn fit_report(&self) -> Option<&FitReport> {
        None
    }
    /// The covariance of the fitted parameters, when it was fitted and the information matrix
    /// is positive definite.
    fn covariance(&self) -> Option<&Covariance> {
        None
    }
    /// S(t): the probability a new customer is still active after `t` periods.
    fn survival(&self, t: u32) -> f64 {
        self.ln_survival(t).exp()
    }
    /// P(T = t): the probability a new customer churns at the end of period `t` (0 for t = 0).
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let prev = self.ln_survival(t - 1);
        if prev == f64::NEG_INFINITY {
            return 0.0;
        }
        let now = self.ln_survival(t);
        // S(t-1) − S(t) = S(t-1)(1 − e^{ln S(t) − ln S(t-1)})
        (prev.exp() * -(now - prev).exp_m1()).max(0.0)
    }
    /// Retention rate r_t = S(t)/S(t−1): the share of those active in period t who renew (1 for
    /// t = 0; 0 once no customer is left to renew).
    fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        let prev = self.ln_survival(t - 1);
        if prev == f64::NEG_INFINITY {
            return 0.0;
        }
        (self.ln_survival(t) - prev).exp()
    }
    /// Expected survivors of a cohort of `acquired` customers, periods 0..=`periods`.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] when `acquired` is negative or not finite or `periods`
    /// exceeds [`MAX_PROJECTION_PERIODS`], [`PredictError::Numerical`] when a projection
    /// overflows.
    fn projected_survivors(&self, acquired: f64, periods: u32) -> Result<Vec<f64>, PredictError> {
        if !(acquired.is_finite() && acquired >= 0.0) {
            return Err(PredictError::InvalidInput {
                name: "acquired",
                value: acquired,
                reason: "must be finite and non-negative",
            });
        }
        if periods > MAX_PROJECTION_PERIODS {
            return Err(PredictError::InvalidInput {
                name: "periods",
                value: f64::from(periods),
                reason: "a projection is limited to MAX_PROJECTION_PERIODS (100,000) periods",
            });
        }
        (0..=periods)
            .map(|t| finite("projected survivors", acquired * self.survival(t)))
            .collect()
    }
    /// Log-likelihood of cohorts (each may have its own length); −∞ when the cohorts are
    /// impossible under the model.
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        cohort_log_likelihood(
            cohorts,
            |t| self.churn_probability(t).ln(),
            |t| self.ln_survival(t),
        )
    }
    /// Expected lifetime E\[T\] = Σ_{t ≥ 0} S(t) of a new customer, in periods. Numerically: the
    /// series up to t = 2^16 plus a power-law tail estimated from the last terms.
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the tail decays too slowly for the mean to be finite.
    fn expected_lifetime(&self) -> Result<f64, PredictError> {
        let mut sum = 0.0;
        let limit: u32 = 1 << 16;
        for t in 0..limit {
            let s = self.ln_survival(t).exp();
            sum += s;
            if s < 1e-16 * sum {
                return finite("expected lifetime", sum);
            }
        }
        // Power-law tail S(t) ≈ C t^{-k}; Euler-Maclaurin: Σ_{t ≥ N} S(t) ≈ S(N) (N/(k − 1) + 1/2),
        // and the loop summed t < N.
        let n = f64::from(limit);
        let k = (self.ln_survival(limit / 2) - self.ln_survival(limit)) / 2f64.ln();
        if k.is_nan() || k <= 1.05 {
            return Err(PredictError::Numerical {
                what: "expected lifetime",
                detail: format!("survival decays like t^-{k:.3}: the mean lifetime is infinite or not computable"),
            });
        }
        let tail = self.ln_survival(limit).exp() * (n / (k - 1.0) + 0.5);
        finite("expected lifetime", sum + tail)
    }
    /// Discounted expected residual lifetime (Fader & Hardie 2010) of a customer active in period
    /// `n` (n ≥ 1: it survived n − 1 renewals), at per-period discount rate `d` > 0:
    /// DERL = Σ_{t ≥ n} P(T > t | T > n − 1) / (1 + d)^{t − n}.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a rate that is not finite and positive or n = 0;
    /// [`PredictError::Numerical`] when the series does not converge.
    fn derl(&self, d: f64, n: u32) -> Result<f64, PredictError> {
        check_rate(d)?;
        check_period(n)?;
        derl_by_sum(self, d, n)
    }
    /// Discounted expected lifetime of a new customer: DEL = Σ_{t ≥ 0} S(t)/(1 + d)^t
    /// = 1 + DERL(d, 1)/(1 + d).
    ///
    /// # Errors
    /// As [`derl`](Self::derl).
    fn del(&self, d: f64) -> Result<f64, PredictError> {
        finite("DEL", 1.0 + self.derl(d, 1)? / (1.0 + d))
    }
    /// Retention elasticity of DERL: the percentage change in DERL(d, n) when every retention
    /// rate from period n on rises by 1%. Raising all rates by a factor 1 + ε multiplies the
    /// t-th term by (1 + ε)^{t−n+1}, so DERL_ε(d) = (1 + ε)·DERL(d′) with 1 + d′ = (1 + d)/(1 + ε);
    /// this needs d > ε = 0.01.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for d ≤ 0.01 and as [`derl`](Self::derl).
    fn retention_elasticity(&self, d: f64, n: u32) -> Result<f64, PredictError> {
        let eps = 0.01;
        check_rate(d)?;
        if d <= eps {
            return Err(PredictError::InvalidInput {
                name: "discount rate",
                value: d,
                reason: "a 1% retention increase needs a discount rate above 0.01",
            });
        }
        let base = self.derl(d, n)?;
        let raised = (1.0 + eps) * self.derl((1.0 + d) / (1.0 + eps) - 1.0, n)?;
        finite("retention elasticity", (raised / base - 1.0) / eps)
    }
    /// Contractual CLV of a customer active in period `n`: margin per period × DERL(d, n).
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a margin that is not finite and as
    /// [`derl`](Self::derl).
    fn clv(&self, margin: f64, d: f64, n: u32) -> Result<f64, PredictError> {
        if !margin.is_finite() {
            return Err(PredictError::InvalidInput {
                name: "margin",
                value: margin,
                reason: "must be finite",
            });
        }
        finite("contractual CLV", margin * self.derl(d, n)?)
    }
}

/// Implements [`RetentionModel`] for a pointer type by forwarding every method, provided ones
/// included, so an override in the pointee is kept.
macro_rules! forward_retention_model {
    ($($pointer:ty),*) => {$(
        impl<T: RetentionModel + ?Sized> RetentionModel for $pointer {
            fn name(&self) -> &str { (**self).name() }
            fn named_parameters(&self) -> Vec<(String, f64)> { (**self).named_parameters() }
            fn ln_survival(&self, t: u32) -> f64 { (**self).ln_survival(t) }
            fn parameter_count(&self) -> usize { (**self).parameter_count() }
            fn fit_report(&self) -> Option<&FitReport> { (**self).fit_report() }
            fn covariance(&self) -> Option<&Covariance> { (**self).covariance() }
            fn survival(&self, t: u32) -> f64 { (**self).survival(t) }
            fn churn_probability(&self, t: u32) -> f64 { (**self).churn_probability(t) }
            fn retention_rate(&self, t: u32) -> f64 { (**self).retention_rate(t) }
            fn projected_survivors(&self, acquired: f64, periods: u32) -> Result<Vec<f64>, PredictError> { (**self).projected_survivors(acquired, periods) }
            fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 { (**self).log_likelihood(cohorts) }
            fn expected_lifetime(&self) -> Result<f64, PredictError> { (**self).expected_lifetime() }
            fn derl(&self, d: f64, n: u32) -> Result<f64, PredictError> { (**self).derl(d, n) }
            fn del(&self, d: f64) -> Result<f64, PredictError> { (**self).del(d) }
            fn retention_elasticity(&self, d: f64, n: u32) -> Result<f64, PredictError> { (**self).retention_elasticity(d, n) }
            fn clv(&self, margin: f64, d: f64, n: u32) -> Result<f64, PredictError> { (**self).clv(margin, d, n) }
        }
    )*};
}
forward_retention_model!(&T, Box<T>, std::sync::Arc<T>);

/// The first of a model's plain-number results at period `t` (and around it) that is NaN, named;
/// `None` when there is none. The models' property tests sweep extreme parameters with it.
#[cfg(test)]
pub(crate) fn first_nan(model: &dyn RetentionModel, t: u32) -> Option<String> {
    let cohort = Cohort::new("c", vec![100.0, 60.0, 60.0, 10.0]).ok()?;
    let values = [
        ("ln_survival", model.ln_survival(t)),
        ("survival", model.survival(t)),
        ("churn_probability", model.churn_probability(t)),
        (
            "churn_probability(t + 1)",
            model.churn_probability(t.saturating_add(1)),
        ),
        ("retention_rate", model.retention_rate(t)),
        (
            "retention_rate(t + 1)",
            model.retention_rate(t.saturating_add(1)),
        ),
        ("log_likelihood", model.log_likelihood(&[cohort])),
    ];
    values
        .iter()
        .find(|(_, v)| v.is_nan())
        .map(|(name, _)| format!("{name}({t}) is NaN"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cohort_is_its_lifetimes() {
        let c = Cohort::new("regular", vec![1000.0, 631.0, 468.0, 382.0]).unwrap();
        let cells = c.lifetimes();
        assert_eq!(cells, [369.0, 163.0, 86.0, 382.0]);
        assert_eq!(c.with_lifetimes(&cells), Some(c.clone()));
        // A resample: nobody churns in period 2, twice as many stay.
        let other = c.with_lifetimes(&[300.0, 0.0, 100.0, 764.0]).unwrap();
        assert_eq!(other.alive(), &[1164.0, 864.0, 864.0, 764.0]);
        assert_eq!(c.with_lifetimes(&[0.0; 4]), None);
    }

    use super::*;

    /// A model with only the required methods: everything else is the trait's.
    struct Geometric(f64);
    impl RetentionModel for Geometric {
        fn name(&self) -> &str {
            "geometric"
        }
        fn named_parameters(&self) -> Vec<(String, f64)> {
            vec![("theta".into(), self.0)]
        }
        fn ln_survival(&self, t: u32) -> f64 {
            if t == 0 {
                0.0
            } else {
                f64::from(t) * (-self.0).ln_1p()
            }
        }
    }

    #[test]
    fn the_provided_methods_follow_from_the_survival_and_forward_through_pointers() {
        let m = Geometric(0.2);
        assert_eq!(m.parameter_count(), 1);
        assert!(m.fit_report().is_none() && m.covariance().is_none());
        assert!((m.retention_rate(3) - 0.8).abs() < 1e-12);
        assert!((m.churn_probability(2) - 0.8 * 0.2).abs() < 1e-12);
        assert!((m.expected_lifetime().unwrap() - 5.0).abs() < 1e-9);
        // DEL of a geometric lifetime: Σ 0.8^t / 1.1^t = 1 / (1 − 0.8/1.1).
        assert!((m.del(0.1).unwrap() - 1.0 / (1.0 - 0.8 / 1.1)).abs() < 1e-9);
        assert!(m.projected_survivors(f64::NAN, 3).is_err());
        assert_eq!(m.projected_survivors(10.0, 1).unwrap(), vec![10.0, 8.0]);
        assert!(m.clv(f64::INFINITY, 0.1, 1).is_err());
        let boxed: Box<dyn RetentionModel> = Box::new(Geometric(0.2));
        let shared = std::sync::Arc::new(Geometric(0.2));
        assert_eq!(boxed.derl(0.1, 2).unwrap(), m.derl(0.1, 2).unwrap());
        fn survival_4<M: RetentionModel>(model: M) -> f64 {
            model.survival(4)
        }
        assert_eq!(survival_4(&*shared), m.survival(4));
        assert_eq!(survival_4(shared), m.survival(4));
        assert_eq!(boxed.name(), "geometric");
    }

    #[test]
    fn nothing_is_left_to_renew_once_no_one_survives() {
        let m = Geometric(1.0); // everyone churns after the first period
        assert_eq!(m.survival(1), 0.0);
        assert_eq!(m.retention_rate(2), 0.0);
        assert_eq!(m.churn_probability(3), 0.0);
        assert!((0..6).all(|t| first_nan(&m, t).is_none()));
        assert!(m.derl(0.1, 3).is_err());
    }
}
