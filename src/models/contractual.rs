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

use crate::models::PredictError;

/// Why cohort data are invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
    /// No cohorts given.
    #[error("no cohorts given")]
    Empty,
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
    /// Active customers at the start of each period, index 0 = acquired.
    pub fn alive(&self) -> &[f64] {
        &self.alive
    }
    /// Number of acquired customers.
    pub fn acquired(&self) -> f64 {
        self.alive[0]
    }
    /// The last period observed.
    pub fn periods(&self) -> usize {
        self.alive.len() - 1
    }
    /// The cohort cut to periods 0..=`k` (all of it when `k` is beyond its end, at least period 1).
    pub fn calibration(&self, k: usize) -> Cohort {
        let end = k.clamp(1, self.periods());
        Cohort {
            name: self.name.clone(),
            alive: self.alive[..=end].to_vec(),
        }
    }
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
        for t in 1..c.alive.len() {
            let lost = c.alive[t - 1] - c.alive[t];
            if lost > 0.0 {
                ll += lost * ln_p(t as u32);
            }
        }
        let last = c.alive[c.alive.len() - 1];
        if last > 0.0 {
            ll += last * ln_s((c.alive.len() - 1) as u32);
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

/// Σ_{t ≥ n} S(t)/S(n−1) · z^{t−n} by the retention-rate recursion, until the terms are negligible.
pub(crate) fn derl_by_sum<M: RetentionModel + ?Sized>(
    model: &M,
    d: f64,
    n: u32,
) -> Result<f64, PredictError> {
    let z = 1.0 / (1.0 + d);
    let ln_s0 = model.ln_survival(n as f64 - 1.0);
    let mut sum = 0.0;
    let mut k: u64 = 0;
    loop {
        let t = n as f64 + k as f64;
        let term = (model.ln_survival(t) - ln_s0 + k as f64 * z.ln()).exp();
        sum += term;
        if term <= 1e-15 * sum || term == 0.0 {
            return Ok(sum);
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

/// A fitted model of contract lifetimes in whole periods: survival, churn and retention by
/// period, projections, expected and discounted lifetimes, and contractual CLV.
///
/// Only [`RetentionModel::ln_survival`] is required; the rest have numerical defaults that a
/// model with closed forms overrides.
pub trait RetentionModel {
    /// A short name such as `"sbg"`.
    fn name(&self) -> &str;
    /// Number of fitted parameters.
    fn parameter_count(&self) -> usize;
    /// ln S(t) = ln P(T > t) for t ≥ 0 (t = 0 gives 0).
    fn ln_survival(&self, t: f64) -> f64;

    /// S(t): the probability a new customer is still active after `t` periods.
    fn survival(&self, t: u32) -> f64 {
        self.ln_survival(t as f64).exp()
    }
    /// P(T = t): the probability a new customer churns at the end of period `t` (t ≥ 1).
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let prev = self.ln_survival(t as f64 - 1.0);
        let now = self.ln_survival(t as f64);
        // S(t-1) − S(t) = S(t-1)(1 − e^{ln S(t) − ln S(t-1)})
        (prev.exp() * -(now - prev).exp_m1()).max(0.0)
    }
    /// Retention rate r_t = S(t)/S(t−1): the share of those active in period t who renew (t ≥ 1).
    fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        (self.ln_survival(t as f64) - self.ln_survival(t as f64 - 1.0)).exp()
    }
    /// Expected survivors of a cohort of `acquired` customers, periods 0..=`periods`.
    fn projected_survivors(&self, acquired: f64, periods: u32) -> Vec<f64> {
        (0..=periods).map(|t| acquired * self.survival(t)).collect()
    }
    /// Log-likelihood of cohorts (each may have its own length).
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        cohort_log_likelihood(
            cohorts,
            |t| {
                let p = self.churn_probability(t);
                p.ln()
            },
            |t| self.ln_survival(t as f64),
        )
    }
    /// Expected lifetime E\[T\] = Σ_{t ≥ 0} S(t) of a new customer, in periods. Numerically: the
    /// series up to t = 2^16 plus a power-law tail estimated from the last terms; an error when
    /// the tail decays too slowly for the mean to be finite.
    fn expected_lifetime(&self) -> Result<f64, PredictError> {
        let mut sum = 0.0;
        let mut t: u64 = 0;
        let limit: u64 = 1 << 16;
        while t < limit {
            let s = self.ln_survival(t as f64).exp();
            sum += s;
            if s < 1e-16 * sum {
                return Ok(sum);
            }
            t += 1;
        }
        // Power-law tail S(t) ≈ C t^{-k}; Euler-Maclaurin: Σ_{t ≥ N} S(t) ≈ S(N) (N/(k − 1) + 1/2),
        // and the loop summed t < N.
        let n = limit as f64;
        let k = (self.ln_survival(n / 2.0) - self.ln_survival(n)) / 2f64.ln();
        if k <= 1.05 {
            return Err(PredictError::Numerical {
                what: "expected lifetime",
                detail: format!("survival decays like t^-{k:.3}: the mean lifetime is infinite or not computable"),
            });
        }
        let tail = self.ln_survival(n).exp() * (n / (k - 1.0) + 0.5);
        Ok(sum + tail)
    }
    /// Discounted expected residual lifetime (Fader & Hardie 2010) of a customer active in period
    /// `n` (n ≥ 1: it survived n − 1 renewals), at per-period discount rate `d` > 0:
    /// DERL = Σ_{t ≥ n} P(T > t | T > n − 1) / (1 + d)^{t − n}.
    fn derl(&self, d: f64, n: u32) -> Result<f64, PredictError> {
        check_rate(d)?;
        check_period(n)?;
        derl_by_sum(self, d, n)
    }
    /// Discounted expected lifetime of a new customer: DEL = Σ_{t ≥ 0} S(t)/(1 + d)^t
    /// = 1 + DERL(d, 1)/(1 + d).
    fn del(&self, d: f64) -> Result<f64, PredictError> {
        Ok(1.0 + self.derl(d, 1)? / (1.0 + d))
    }
    /// Retention elasticity of DERL: the percentage change in DERL(d, n) when every retention
    /// rate from period n on rises by 1%. Raising all rates by a factor 1 + ε multiplies the
    /// t-th term by (1 + ε)^{t−n+1}, so DERL_ε(d) = (1 + ε)·DERL(d′) with 1 + d′ = (1 + d)/(1 + ε);
    /// this needs d > ε = 0.01.
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
        Ok((raised / base - 1.0) / eps)
    }
    /// Contractual CLV of a customer active in period `n`: margin per period × DERL(d, n).
    fn clv(&self, margin: f64, d: f64, n: u32) -> Result<f64, PredictError> {
        if !margin.is_finite() {
            return Err(PredictError::InvalidInput {
                name: "margin",
                value: margin,
                reason: "must be finite",
            });
        }
        Ok(margin * self.derl(d, n)?)
    }
}
