//! BG/BB: the beta-geometric/beta-Bernoulli model of Fader, Hardie & Shang (2010), "Customer-base
//! analysis in a discrete-time noncontractual setting", *Marketing Science* 29(6).
//!
//! Time is discrete: one transaction opportunity per period (a yearly donation, an annual event).
//! While alive, a customer transacts at each opportunity with probability p ~ Beta(α, β); at the
//! start of each period an alive customer dies with probability θ ~ Beta(γ, δ). A customer is
//! described by (x, t_x, n): x transactions in the n opportunities after the first, the last at
//! opportunity t_x (0 when x = 0). Fitted by maximum likelihood on weighted patterns
//! ([`DiscretePatterns`], which carry the period length).
//!
//! Everything is computed in log space as sums of log-beta terms combined by log-sum-exp, so
//! heavy histories neither underflow nor need the small "fudge" constants some implementations
//! add inside logarithms.
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::bg_bb::{BgBb, BgBbParameters, BgBbParams};
//! use customer_assets::simulate::BgBbProcess;
//! use customer_assets::{History, TimeUnit, TransactionModel};
//!
//! let year = TimeUnit::custom_days(365.0)?;
//! // A model from published parameters (the donations data of Fader, Hardie & Shang 2010) ...
//! let parameters = BgBbParameters { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };
//! let model = BgBb::new(parameters, year)?;
//! let donor = History::new(4, 5.0, 6.0); // 4 donations in 6 years, the last in year 5
//! let alive = model.p_alive_in_period(&donor, 1)?; // P(alive in year 7)
//! assert!(alive > 0.0 && alive < 1.0);
//! assert!(model.report().is_none());
//! // ... or fitted on weighted (x, t_x, n) patterns, here 5,000 simulated donors over 6 years.
//! let data = BgBbProcess::new(1.2, 0.75, 0.66, 2.8)?.patterns(year, 5_000, 6, 1)?;
//! let fitted = BgBbParams::new().fit(&data)?;
//! assert!(fitted.report().is_some_and(|r| r.converged));
//! let se = fitted.standard_errors().ok_or("a fitted model has standard errors")?;
//! assert!(se.alpha > 0.0);
//! assert!(fitted.expected_purchases(&donor, 5.0)? < 5.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Continuous horizons
//! [`BgBb`] implements [`TransactionModel`], whose horizons are continuous numbers of
//! [`TransactionModel::unit`]s. The model's unit is the period length; a horizon `t` covers the
//! `floor(t)` whole opportunities n + 1, ..., n + floor(t) (an opportunity counts only once it has
//! fully arrived), and histories must have whole-number recency and age. A continuous discount
//! rate ρ per period corresponds to the per-period rate d = e^ρ − 1.

use statrs::function::gamma::ln_gamma;

use crate::error::InvalidParameter;
use crate::fit::{
    check_total_weight, Covariance, Fit, FitError, FitOptions, FitReport, Limit, Pair,
};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::TransactionModel;
use crate::optimize::{maximize_log_parameters, Objective};
use crate::special::{ln_beta, ln_beta_grad, ln_beta_shift, ln_gamma_ratio_change, log_sum_exp};
use crate::time::TimeUnit;

pub use crate::models::discrete_patterns::{
    DiscretePattern, DiscretePatterns, DiscretePatternsError,
};

/// The model's name in errors and reports.
const NAME: &str = "bg-bb";
/// The parameter names, in the order of the covariance.
const PARAMETER_NAMES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

/// Most opportunities n a history may have for the BG/BB predictions: the likelihood sums one
/// term per opportunity after the last transaction (n − t_x of them), so a history of 4e9
/// opportunities would run for minutes. A million keeps every prediction under a second.
pub const MAX_OPPORTUNITIES: u32 = 1_000_000;

/// Most future opportunities m for [`BgBb::transaction_probability`]: it sums one term per
/// opportunity (the moment of dropout), with no closed form, and over 2e9 periods it ran for
/// minutes. A million keeps it under a second; the expectations have closed forms and no limit.
pub const MAX_PROBABILITY_PERIODS: u32 = 1_000_000;

/// The BG/BB parameters (or their standard errors): p ~ Beta(α, β), θ ~ Beta(γ, δ). They are
/// per opportunity, so they carry no time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BgBbParameters {
    /// α of the transaction-probability Beta distribution.
    pub alpha: f64,
    /// β of the transaction-probability Beta distribution.
    pub beta: f64,
    /// γ of the dropout-probability Beta distribution.
    pub gamma: f64,
    /// δ of the dropout-probability Beta distribution.
    pub delta: f64,
}

impl BgBbParameters {
    fn to_array(self) -> [f64; 4] {
        [self.alpha, self.beta, self.gamma, self.delta]
    }

    fn from_array([alpha, beta, gamma, delta]: [f64; 4]) -> Self {
        BgBbParameters {
            alpha,
            beta,
            gamma,
            delta,
        }
    }

    /// Every parameter finite and positive.
    fn check(self) -> Result<Self, InvalidParameter> {
        for (name, value) in PARAMETER_NAMES.into_iter().zip(self.to_array()) {
            InvalidParameter::positive(name, value)?;
        }
        Ok(self)
    }
}

/// Per-customer log-likelihood and its gradient with respect to (ln α, ln β, ln γ, ln δ).
///
/// L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
///   + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ).
///
/// The terms are streamed (a running log-sum-exp and its weighted gradient), so memory does not
/// grow with n.
pub(crate) fn pattern_ll_grad(p: &[f64; 4], x: u32, t_x: u32, n: u32) -> (f64, [f64; 4]) {
    let [a, b, g, d] = *p;
    let (x, t_x, n) = (x as f64, t_x as f64, n as f64);
    let base = ln_beta(a, b) + ln_beta(g, d);
    let (ba, bb) = ln_beta_grad(a, b);
    let (bg, bd) = ln_beta_grad(g, d);
    // ll = ln Σ exp(vₖ) and Σ exp(vₖ − ll) ∇vₖ, accumulated as the largest v so far, Σ exp(vₖ − max)
    // and Σ exp(vₖ − max) ∇vₖ.
    let mut largest = f64::NEG_INFINITY;
    let mut sum = 0.0;
    let mut weighted = [0.0; 4];
    let mut add = |v: f64, gr: [f64; 4]| {
        if v > largest {
            let shrink = (largest - v).exp();
            sum *= shrink;
            for w in weighted.iter_mut() {
                *w *= shrink;
            }
            largest = v;
        }
        let e = (v - largest).exp();
        if e.is_nan() {
            return;
        }
        sum += e;
        for k in 0..4 {
            weighted[k] += e * gr[k];
        }
    };
    // The alive-through-n term.
    {
        let (pa, pb) = ln_beta_grad(a + x, b + n - x);
        let (pg, pd) = ln_beta_grad(g, d + n);
        let v = ln_beta(a + x, b + n - x) + ln_beta(g, d + n) - base;
        add(v, [pa - ba, pb - bb, pg - bg, pd - bd]);
    }
    let mut i = 0.0;
    while t_x + i < n {
        let (pa, pb) = ln_beta_grad(a + x, b + t_x - x + i);
        let (pg, pd) = ln_beta_grad(g + 1.0, d + t_x + i);
        let v = ln_beta(a + x, b + t_x - x + i) + ln_beta(g + 1.0, d + t_x + i) - base;
        add(v, [pa - ba, pb - bb, pg - bg, pd - bd]);
        i += 1.0;
    }
    let ll = largest + sum.ln();
    let mut grad = [0.0; 4];
    for k in 0..4 {
        grad[k] = weighted[k] / sum * p[k];
    }
    (ll, grad)
}

/// ln B(α+x, β+j) − ln B(α, β) for x, j ≥ 0, as two shifts of one argument each
/// (B is symmetric): no difference of large ln Γ values, so never positive and exact to
/// rounding at any parameter size.
fn ln_beta_ratio(alpha: f64, beta: f64, x: f64, j: f64) -> f64 {
    ln_beta_shift(beta + j, alpha, x) + ln_beta_shift(alpha, beta, j)
}

/// Per-customer log-likelihood alone (no gradient), for predictions: the terms of
/// [`pattern_ll_grad`], each a ratio of beta functions formed by [`ln_beta_ratio`] (the plain
/// difference of ln B values at γ = 5e5 once gave a log-probability above 0). Never positive.
pub(crate) fn pattern_ll(p: &[f64; 4], x: u32, t_x: u32, n: u32) -> f64 {
    let [a, b, g, d] = *p;
    let (x, t_x, n) = (f64::from(x), f64::from(t_x), f64::from(n));
    // B(γ+1, δ+j)/B(γ, δ) = γ/(γ+δ+j) · B(γ, δ+j)/B(γ, δ)
    let dropout = |j: f64| (g / (g + d + j)).ln() + ln_beta_shift(g, d, j);
    let mut ll = ln_beta_ratio(a, b, x, n - x) + ln_beta_shift(g, d, n);
    let mut i = 0.0;
    while t_x + i < n {
        let v = ln_beta_ratio(a, b, x, t_x - x + i) + dropout(t_x + i);
        ll = log_sum_exp(ll, v);
        i += 1.0;
    }
    ll.min(0.0)
}

/// Total weighted log-likelihood and gradient in log-parameter space.
pub(crate) fn total_ll_grad(p: &[f64; 4], data: &DiscretePatterns) -> (f64, [f64; 4]) {
    let mut ll = 0.0;
    let mut grad = [0.0; 4];
    for pat in data.as_slice() {
        let (l, g) = pattern_ll_grad(p, pat.frequency, pat.recency, pat.periods);
        ll += pat.weight * l;
        for k in 0..4 {
            grad[k] += pat.weight * g[k];
        }
    }
    (ll, grad)
}

/// The BG/BB model: its parameters, the period length, and, when fitted, the parameters'
/// covariance and the fit report. Every prediction of the paper.
///
/// Built from known parameters with [`BgBb::new`] or fitted with
/// [`BgBbParams`]`::new().fit(&data)`. Serialized with its parameters, covariance, report and
/// unit; deserialization checks the parameters as [`BgBb::new`] does.
///
/// ```
/// use customer_assets::models::bg_bb::{BgBb, BgBbParameters};
/// use customer_assets::{History, TimeUnit};
/// let parameters = BgBbParameters { alpha: 1.204, beta: 0.750, gamma: 0.657, delta: 2.783 };
/// let model = BgBb::new(parameters, TimeUnit::custom_days(365.0)?)?;
/// let donor = History::new(4, 5.0, 6.0); // 4 donations in 6 years, the last in year 5
/// let next5 = model.expected_transactions(&donor, 5)?; // donations in years 7 to 11
/// assert!(next5 > 0.0 && next5 < 5.0);
/// assert!(BgBb::new(BgBbParameters { alpha: 0.0, ..parameters }, TimeUnit::DAYS).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "BgBbData"))]
pub struct BgBb {
    parameters: BgBbParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

/// The serialized form, checked by [`BgBb::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct BgBbData {
    parameters: BgBbParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<BgBbData> for BgBb {
    type Error = InvalidParameter;
    fn try_from(d: BgBbData) -> Result<Self, InvalidParameter> {
        let mut model = BgBb::new(d.parameters, d.unit)?;
        if let Some(covariance) = &d.covariance {
            covariance.check_names(&PARAMETER_NAMES)?;
        }
        model.covariance = d.covariance;
        model.report = d.report;
        Ok(model)
    }
}

/// Checks a history has whole-number recency and age and returns (x, t_x, n).
fn discrete_history(h: &History) -> Result<(u32, u32, u32), PredictError> {
    h.validate()?;
    let whole = |v: f64| v.fract() == 0.0 && v <= u32::MAX as f64;
    if !whole(h.recency) {
        return Err(PredictError::InvalidInput {
            name: "recency",
            value: h.recency,
            reason: "BG/BB needs a whole number of periods",
        });
    }
    if !whole(h.age) {
        return Err(PredictError::InvalidInput {
            name: "age",
            value: h.age,
            reason: "BG/BB needs a whole number of periods",
        });
    }
    let (x, t_x, n) = (h.frequency, h.recency as u32, h.age as u32);
    if n > MAX_OPPORTUNITIES {
        return Err(PredictError::InvalidInput {
            name: "age",
            value: h.age,
            reason: "BG/BB predictions take at most MAX_OPPORTUNITIES (1e6) opportunities",
        });
    }
    if x > t_x || (x > 0 && t_x == 0) {
        return Err(PredictError::InvalidInput {
            name: "frequency",
            value: x as f64,
            reason: "BG/BB needs 1 <= x <= t_x when x > 0",
        });
    }
    Ok((x, t_x, n))
}

/// Whole periods in a continuous horizon.
fn whole_periods(t: f64) -> Result<u32, PredictError> {
    if !(t.is_finite() && t >= 0.0 && t <= u32::MAX as f64) {
        return Err(PredictError::InvalidInput {
            name: "t",
            value: t,
            reason: "horizon must be finite and non-negative",
        });
    }
    Ok(t.floor() as u32)
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

fn finite(what: &'static str, v: f64) -> Result<f64, PredictError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(PredictError::Numerical {
            what,
            detail: format!("non-finite result {v}"),
        })
    }
}

impl BgBb {
    /// A model at known parameters, without covariance or fit report; `period` is the length of
    /// one transaction opportunity.
    ///
    /// # Errors
    /// [`InvalidParameter`] when a parameter is not finite and positive.
    pub fn new(parameters: BgBbParameters, period: TimeUnit) -> Result<Self, InvalidParameter> {
        Ok(BgBb {
            parameters: parameters.check()?,
            covariance: None,
            report: None,
            unit: period,
        })
    }

    /// The parameters.
    pub fn parameters(&self) -> BgBbParameters {
        self.parameters
    }

    /// Standard errors of the parameters, the square roots of the covariance's diagonal; `None`
    /// unless fitted with a positive definite information matrix.
    pub fn standard_errors(&self) -> Option<BgBbParameters> {
        let se = self.covariance.as_ref()?.standard_errors();
        Some(BgBbParameters::from_array(<[f64; 4]>::try_from(se).ok()?))
    }

    /// The covariance of the fitted parameters (named as in [`BgBbParameters`]); `None` when
    /// built by [`BgBb::new`] or when the information matrix is not positive definite.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The fit's diagnostics (total log-likelihood, iterations, gradient norm, convergence);
    /// `None` when built by [`BgBb::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The length of one period (one transaction opportunity): the model's time unit.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// ln L(x, t_x, n).
    fn ln_l(&self, x: u32, t_x: u32, n: u32) -> f64 {
        pattern_ll(&self.parameters.to_array(), x, t_x, n)
    }

    /// ln of E[p^{x+k} (1−p)^{n−x} ...] prefix shared by the alive-based predictions:
    /// ln B(α+x+k, β+n−x) − ln B(α, β).
    fn ln_p_part(&self, x: u32, n: u32, k: f64) -> f64 {
        let BgBbParameters { alpha, beta, .. } = self.parameters;
        ln_beta_ratio(alpha, beta, f64::from(x) + k, f64::from(n - x))
    }

    /// ln P(alive at t) for a new customer: ln B(γ, δ+t) − ln B(γ, δ).
    fn ln_alive(&self, t: f64) -> f64 {
        let BgBbParameters { gamma, delta, .. } = self.parameters;
        ln_beta_shift(gamma, delta, t)
    }

    /// Total log-likelihood of the weighted patterns.
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when it is not finite.
    pub fn total_log_likelihood(&self, data: &DiscretePatterns) -> Result<f64, PredictError> {
        finite(
            "BG/BB total log-likelihood",
            total_ll_grad(&self.parameters.to_array(), data).0,
        )
    }

    /// Probability that the customer is alive at opportunity n + `m` (m = 0: now; m = 1: the
    /// next period, the paper's P(alive in period n+1)).
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a history that is not whole periods with
    /// 1 ≤ x ≤ t_x ≤ n (or x = t_x = 0) or n above [`MAX_OPPORTUNITIES`],
    /// [`PredictError::Numerical`] for a non-finite result.
    pub fn p_alive_in_period(&self, h: &History, m: u32) -> Result<f64, PredictError> {
        let (x, t_x, n) = discrete_history(h)?;
        let v =
            self.ln_p_part(x, n, 0.0) + self.ln_alive(n as f64 + m as f64) - self.ln_l(x, t_x, n);
        finite("BG/BB P(alive)", v.exp().min(1.0))
    }

    /// Expected transactions in the next `m` opportunities n+1 .. n+m given the history.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a history that is not whole periods with
    /// 1 ≤ x ≤ t_x ≤ n (or x = t_x = 0) or n above [`MAX_OPPORTUNITIES`],
    /// [`PredictError::Numerical`] for a non-finite result.
    pub fn expected_transactions(&self, h: &History, m: u32) -> Result<f64, PredictError> {
        let (x, t_x, n) = discrete_history(h)?;
        let lead = self.ln_p_part(x, n, 1.0) + self.ln_alive(n as f64) - self.ln_l(x, t_x, n);
        let s = self.sum_survival_ratio(n, m);
        finite("BG/BB expected transactions", lead.exp() * s)
    }

    /// Σ_{j=1}^{m} B(γ, δ+n+j)/B(γ, δ+n) in closed form: B(γ−1, z) − B(γ−1, z+1) = B(γ, z)
    /// telescopes the sum to y/(γ−1) · (1 − R) with y = δ+n and
    /// R = Γ(y+m+1) Γ(γ+y) / (Γ(γ+y+m) Γ(y+1)); at γ = 1 it is y (ψ(y+m+1) − ψ(y+1)). (It was
    /// a loop over the m periods, minutes long at m = 4e9.)
    fn sum_survival_ratio(&self, n: u32, m: u32) -> f64 {
        let BgBbParameters { gamma, delta, .. } = self.parameters;
        if m == 0 {
            return 0.0;
        }
        let y = delta + f64::from(n);
        let shift = gamma - 1.0;
        if shift == 0.0 {
            use statrs::function::gamma::digamma;
            return y * (digamma(y + f64::from(m) + 1.0) - digamma(y + 1.0));
        }
        let ln_r = -ln_gamma_ratio_change(y + 1.0, shift, f64::from(m));
        y * -ln_r.exp_m1() / shift
    }

    /// Expected transactions of a customer just acquired in opportunities 1..=`n`.
    ///
    /// # Errors
    /// [`PredictError::Numerical`] for a non-finite result.
    pub fn expected_transactions_new(&self, n: u32) -> Result<f64, PredictError> {
        let BgBbParameters { alpha, beta, .. } = self.parameters;
        finite(
            "BG/BB expected transactions",
            alpha / (alpha + beta) * self.sum_survival_ratio(0, n),
        )
    }

    /// Probability of exactly `k` transactions in opportunities n+1 .. n+m given the history.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a history that is not whole periods with
    /// 1 ≤ x ≤ t_x ≤ n (or x = t_x = 0) or for m above [`MAX_PROBABILITY_PERIODS`],
    /// [`PredictError::Numerical`] for a non-finite result.
    pub fn transaction_probability(
        &self,
        h: &History,
        k: u32,
        m: u32,
    ) -> Result<f64, PredictError> {
        let (x, t_x, n) = discrete_history(h)?;
        if m > MAX_PROBABILITY_PERIODS {
            return Err(PredictError::InvalidInput {
                name: "t",
                value: f64::from(m),
                reason: "BG/BB purchase probabilities take at most MAX_PROBABILITY_PERIODS (1e6) periods",
            });
        }
        let BgBbParameters {
            alpha,
            beta,
            gamma,
            delta,
        } = self.parameters;
        let ln_l = self.ln_l(x, t_x, n);
        let (xf, nf, kf) = (x as f64, n as f64, k as f64);
        let base = ln_beta(alpha, beta) + ln_beta(gamma, delta);
        let ln_choose =
            |j: f64, k: f64| ln_gamma(j + 1.0) - ln_gamma(k + 1.0) - ln_gamma(j - k + 1.0);
        let mut acc = f64::NEG_INFINITY;
        if k <= m {
            // Alive for all m more periods, k of them with a transaction.
            let mf = m as f64;
            acc = log_sum_exp(
                acc,
                ln_choose(mf, kf)
                    + ln_beta(alpha + xf + kf, beta + nf - xf + mf - kf)
                    + ln_beta(gamma, delta + nf + mf)
                    - base,
            );
        }
        // Alive for j < m more periods, then dies at the start of period n+j+1.
        for j in k..m {
            let jf = j as f64;
            acc = log_sum_exp(
                acc,
                ln_choose(jf, kf)
                    + ln_beta(alpha + xf + kf, beta + nf - xf + jf - kf)
                    + ln_beta(gamma + 1.0, delta + nf + jf)
                    - base,
            );
        }
        let mut p = (acc - ln_l).exp();
        if k == 0 {
            // Already dead at n: everything in L but the alive-through-n term.
            let alive = (self.ln_p_part(x, n, 0.0) + self.ln_alive(nf) - ln_l).exp();
            p += (1.0 - alive).max(0.0);
        }
        finite("BG/BB transaction probability", p.clamp(0.0, 1.0))
    }

    /// Discounted expected residual transactions at per-period discount rate `d` > 0 (closed
    /// form of Fader, Hardie & Shang 2010):
    /// B(α+x+1, β+n−x)/B(α,β) · B(γ, δ+n+1)/(B(γ,δ)(1+d)) · ₂F₁(1, δ+n+1; γ+δ+n+1; 1/(1+d)) / L.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a rate that is not finite and positive or a history
    /// as in [`BgBb::p_alive_in_period`], [`PredictError::Numerical`] when ₂F₁ or the result
    /// fails.
    pub fn dert_discrete(&self, h: &History, d: f64) -> Result<f64, PredictError> {
        check_rate(d)?;
        let (x, t_x, n) = discrete_history(h)?;
        let BgBbParameters { gamma, delta, .. } = self.parameters;
        let nf = n as f64;
        let z = 1.0 / (1.0 + d);
        let ln_f = crate::special::ln_hyp2f1(1.0, delta + nf + 1.0, gamma + delta + nf + 1.0, z)
            .map_err(|source| PredictError::SpecialFunction {
                what: "BG/BB DERT 2F1",
                source,
            })?;
        let v = self.ln_p_part(x, n, 1.0) + self.ln_alive(nf + 1.0) - (1.0 + d).ln() + ln_f
            - self.ln_l(x, t_x, n);
        finite("BG/BB DERT", v.exp())
    }
}

crate::models::uncertainty::reparameterize!(
    BgBb,
    PARAMETER_NAMES,
    |m| m.parameters.to_array(),
    |m, v| {
        let [alpha, beta, gamma, delta] = v;
        BgBb::new(
            BgBbParameters {
                alpha,
                beta,
                gamma,
                delta,
            },
            m.unit,
        )
    }
);

impl TransactionModel for BgBb {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_transaction(self, values)
    }
    fn name(&self) -> &str {
        NAME
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        PARAMETER_NAMES
            .into_iter()
            .zip(self.parameters.to_array())
            .map(|(name, value)| (name.to_string(), value))
            .collect()
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError> {
        let (x, t_x, n) = discrete_history(history)?;
        finite("BG/BB log-likelihood", self.ln_l(x, t_x, n))
    }
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        self.p_alive_in_period(history, whole_periods(t)?)
    }
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        self.expected_transactions(history, whole_periods(t)?)
    }
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        self.transaction_probability(history, n, whole_periods(t)?)
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        self.expected_transactions_new(whole_periods(t)?)
    }
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        self.transaction_probability(&History::new(0, 0.0, 0.0), n, whole_periods(t)?)
    }
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError> {
        check_rate(rate)?;
        self.dert_discrete(history, rate.exp_m1())
    }
}

/// The BG/BB log-likelihood as an [`Objective`] in (ln α, ln β, ln γ, ln δ).
struct BgBbObjective<'a> {
    data: &'a DiscretePatterns,
}

impl Objective for BgBbObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut p = [0.0; 4];
        for (k, t) in theta.iter().take(4).enumerate() {
            p[k] = t.exp();
        }
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return f64::NAN;
        }
        let (ll, g) = total_ll_grad(&p, self.data);
        for (out, v) in grad.iter_mut().zip(g) {
            *out = v;
        }
        ll
    }
    fn weight(&self) -> f64 {
        self.data.total_weight()
    }
}

/// How to fit BG/BB: the fit options (L-BFGS, starts, penalty). Fits with [`Fit`]:
/// `BgBbParams::new().fit(&data)?` gives a [`BgBb`] in the data's period.
///
/// ```
/// use customer_assets::fit::{Fit, FitOptions};
/// use customer_assets::models::bg_bb::BgBbParams;
/// use customer_assets::simulate::BgBbProcess;
/// use customer_assets::TimeUnit;
/// let data = BgBbProcess::new(1.2, 0.75, 0.66, 2.8)?.patterns(TimeUnit::custom_days(365.0)?, 5_000, 6, 1)?;
/// let model = BgBbParams::new().fit_options(FitOptions::new().max_iterations(500)).fit(&data)?;
/// assert!(model.report().is_some_and(|r| r.converged));
/// assert_eq!(model.unit(), data.period());
/// assert!(BgBbParams::new().penalty(-1.0).check().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BgBbParams {
    options: FitOptions,
    start: Option<BgBbParameters>,
}

impl BgBbParams {
    /// The default fit options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }
    /// The L2 penalty λ on the natural parameters (0, the default, is plain maximum likelihood):
    /// a shortcut for [`FitOptions::penalty`].
    pub fn penalty(mut self, lambda: f64) -> Self {
        self.options = self.options.penalty(lambda);
        self
    }
    /// First starting point, tried before the default one; every value must be finite and
    /// positive.
    pub fn start(mut self, start: BgBbParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<DiscretePatterns> for BgBbParams {
    fn warm_started(&self, model: &BgBb) -> Self {
        self.clone().start(model.parameters)
    }
}

impl Fit<DiscretePatterns> for BgBbParams {
    type Model = BgBb;
    type Error = FitError;

    /// Checks the fit options.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first option out of range.
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if let Some(start) = self.start {
            start.check()?;
        }
        Ok(())
    }

    /// Fits (α, β, γ, δ) to the weighted patterns; the model's unit is the data's period.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for invalid options, [`FitError::NoData`] for empty data,
    /// [`FitError::OutOfRange`] for more than [`MAX_FIT_PERIODS`] opportunities or a total weight
    /// above [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT), [`FitError::NotIdentified`] when
    /// no opportunity was observed, nobody transacted or fewer than 4 distinct patterns,
    /// [`FitError::Boundary`] when the estimate heads for a limit (with its meaning),
    /// [`FitError::Optimizer`] when the fit does not converge (with the optimizer's report), and
    /// [`FitError::Numerical`] when the estimate is not a valid parameter set.
    fn fit(&self, data: &DiscretePatterns) -> Result<BgBb, FitError> {
        self.check()?;
        check_identifiable(data)?;
        let objective = BgBbObjective { data };
        let pairs = [
            Pair::Beta {
                a: 0,
                b: 1,
                heterogeneity: Limit::NoPurchaseHeterogeneity,
                mean_to_zero: None,
                mean_to_one: None,
            },
            Pair::Beta {
                a: 2,
                b: 3,
                heterogeneity: Limit::NoDropoutHeterogeneity,
                mean_to_zero: Some(Limit::NoDropout),
                mean_to_one: Some(Limit::EveryoneDropsOut),
            },
        ];
        let (p, max) = maximize_log_parameters::<4>(
            NAME,
            &objective,
            &self.options,
            &PARAMETER_NAMES,
            &pairs,
            self.start.map(BgBbParameters::to_array),
        )?;
        let mut model = BgBb::new(BgBbParameters::from_array(p), data.period())
            .map_err(|e| FitError::invalid_estimate(NAME, e))?;
        model.covariance = crate::optimize::natural_covariance(&PARAMETER_NAMES, &max);
        model.report = Some(max.report);
        Ok(model)
    }
}

/// Most opportunities n a BG/BB fit accepts per pattern: 100,000 (daily opportunities for over
/// 270 years). Each likelihood evaluation sums n − t_x + 1 terms per pattern, so larger n would
/// make one evaluation, and the fit's thousands of them, run for hours.
pub const MAX_FIT_PERIODS: u32 = 100_000;

/// What the BG/BB fit checks before optimising: some patterns, a total weight within
/// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT), n within [`MAX_FIT_PERIODS`], some
/// opportunity observed, some transaction, and at least as many distinct patterns as the model's
/// 4 parameters.
fn check_identifiable(data: &DiscretePatterns) -> Result<(), FitError> {
    if data.is_empty() {
        return Err(FitError::NoData {
            model: NAME,
            reason: "no patterns",
        });
    }
    check_total_weight(NAME, data.total_weight())?;
    if let Some((row, p)) = data
        .as_slice()
        .iter()
        .enumerate()
        .find(|(_, p)| p.periods > MAX_FIT_PERIODS)
    {
        return Err(FitError::OutOfRange {
            model: NAME,
            reason: format!(
                "pattern {row} has n = {} opportunities, above the limit {MAX_FIT_PERIODS}",
                p.periods
            ),
        });
    }
    let not_identified = |reason: String| FitError::NotIdentified {
        model: NAME,
        reason,
    };
    if data.as_slice().iter().all(|p| p.periods == 0) {
        return Err(not_identified(
            "no opportunity observed: every pattern has n = 0".into(),
        ));
    }
    if data.as_slice().iter().all(|p| p.frequency == 0) {
        return Err(not_identified(
            "nobody transacted: with every x = 0, a low transaction probability and early dropout explain the data equally".into(),
        ));
    }
    if data.len() < 4 {
        return Err(not_identified(format!(
            "its 4 parameters need at least 4 distinct patterns (x, t_x, n); the data have {}",
            data.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The closed form of Σ B(γ, δ+n+j)/B(γ, δ+n) is the old per-period product sum (γ above,
    /// below and at 1), and at m = 4e9 it is instant and finite.
    #[test]
    fn survival_ratio_sum_in_closed_form_matches_the_period_loop() {
        for gamma in [0.3, 0.999_999, 1.0, 1.000_001, 4.2, 1e4] {
            let m = model(1.2, 0.75, gamma, 2.78);
            for (n, periods) in [(0u32, 1u32), (0, 7), (6, 30), (100, 1000)] {
                let (mut ratio, mut want) = (1.0, 0.0);
                for j in 0..periods {
                    let t = f64::from(n) + f64::from(j);
                    ratio *= (2.78 + t) / (gamma + 2.78 + t);
                    want += ratio;
                }
                let got = m.sum_survival_ratio(n, periods);
                assert!(
                    (got - want).abs() < 1e-11 * want,
                    "γ {gamma} n {n} m {periods}: {got} vs {want}"
                );
            }
        }
        // Four billion periods: a loop over them would keep this test running for minutes; the
        // closed form answers at once, finite and above the 1,000-period value (more periods
        // never mean fewer expected transactions).
        let m = model(1.2, 0.75, 0.66, 2.78);
        let history = History::new(3, 5.0, 6.0);
        let far = m.expected_transactions(&history, 4_000_000_000).unwrap();
        let near = m.expected_transactions(&history, 1_000).unwrap();
        assert!(
            far.is_finite() && far >= near && near > 0.0,
            "{near} then {far}"
        );
    }

    /// At γ = 5.6e5 the plain difference of ln B values gave a log-probability of +9.6e-10; the
    /// shifted ratios keep every pattern's probability in (0, 1] and the patterns' sum at 1.
    #[test]
    fn log_likelihood_is_a_log_probability_at_extreme_parameters() {
        let p = [
            1.0,
            5_811.515_491_134_701,
            562_124.983_397_604_3,
            0.011_009_999_610_319_099,
        ];
        assert!(pattern_ll(&p, 0, 0, 1) <= 0.0);
        for p in [p, [1e-6, 1e6, 1e6, 1e-6], [1e6, 1e-6, 1e-6, 1e6]] {
            let n = 4;
            let mut total = 0.0;
            for x in 0..=n {
                for t_x in x.max(u32::from(x > 0))..=if x == 0 { 0 } else { n } {
                    let ll = pattern_ll(&p, x, t_x, n);
                    assert!(ll.is_finite() && ll <= 0.0, "{p:?} {x} {t_x}: {ll}");
                    // Patterns with x > 0 weigh C(t_x − 1, x − 1) sequences each.
                    let ways = if x == 0 {
                        1.0
                    } else {
                        (1..x).fold(1.0, |c, i| c * f64::from(t_x - i) / f64::from(i))
                    };
                    total += ways * ll.exp();
                }
            }
            assert!((total - 1.0).abs() < 1e-9, "{p:?}: {total}");
        }
    }

    /// Loops sized by the history or the horizon are bounded by named limits: a typed error
    /// beyond them, never minutes of work.
    #[test]
    fn opportunities_and_probability_periods_are_limited() {
        let m = model(1.2, 0.75, 0.66, 2.78);
        let h = History::new(3, 5.0, 6.0);
        let over = f64::from(MAX_PROBABILITY_PERIODS) + 1.0;
        assert!(matches!(
            m.purchase_probability(&h, 2, over),
            Err(PredictError::InvalidInput { name: "t", .. })
        ));
        assert!(m.purchase_probability(&h, 2, 1000.0).is_ok());
        let old = History::new(3, 5.0, f64::from(MAX_OPPORTUNITIES) + 1.0);
        assert!(matches!(
            m.p_alive(&old, 0.0),
            Err(PredictError::InvalidInput { name: "age", .. })
        ));
    }

    fn model(a: f64, b: f64, g: f64, d: f64) -> BgBb {
        BgBb::new(
            BgBbParameters {
                alpha: a,
                beta: b,
                gamma: g,
                delta: d,
            },
            TimeUnit::custom_days(365.0).unwrap(),
        )
        .unwrap()
    }

    /// Brute-force likelihood by 2-D midpoint integration over (p, θ).
    fn ll_by_quadrature(p: [f64; 4], x: u32, t_x: u32, n: u32) -> f64 {
        let [a, b, g, d] = p;
        let m = 800;
        let mut total = 0.0;
        for i in 0..m {
            // substitute to resolve the endpoint singularities: u^k grid
            let pu = (i as f64 + 0.5) / m as f64;
            for j in 0..m {
                let th = (j as f64 + 0.5) / m as f64;
                let dens = ((a - 1.0) * pu.ln() + (b - 1.0) * (1.0 - pu).ln() - ln_beta(a, b)
                    + (g - 1.0) * th.ln()
                    + (d - 1.0) * (1.0 - th).ln()
                    - ln_beta(g, d))
                .exp();
                let mut l =
                    pu.powi(x as i32) * (1.0 - pu).powi((n - x) as i32) * (1.0 - th).powi(n as i32);
                for k in 0..(n - t_x) {
                    l += pu.powi(x as i32)
                        * (1.0 - pu).powi((t_x - x + k) as i32)
                        * th
                        * (1.0 - th).powi((t_x + k) as i32);
                }
                total += dens * l;
            }
        }
        (total / (m * m) as f64).ln()
    }

    #[test]
    fn the_streamed_likelihood_of_a_long_history_needs_no_memory_per_opportunity() {
        // Once a Vec of n − t_x + 1 terms: 171 GB at n = 2³² − 1. Streamed, the value and the
        // gradient agree with the plain sum at the longest n a fit accepts.
        let p = [1.2, 0.75, 0.66, 2.8];
        let (x, t_x, n) = (3, 10, MAX_FIT_PERIODS);
        let (ll, grad) = pattern_ll_grad(&p, x, t_x, n);
        assert!(
            (ll - pattern_ll(&p, x, t_x, n)).abs() < 1e-9 * ll.abs(),
            "{ll}"
        );
        for k in 0..4 {
            let mut up = p;
            let mut down = p;
            let h = 1e-6 * p[k];
            up[k] += h;
            down[k] -= h;
            let fd = (pattern_ll(&up, x, t_x, n) - pattern_ll(&down, x, t_x, n)) / (2.0 * h) * p[k];
            assert!(
                (grad[k] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "{k}: {grad:?} vs {fd}"
            );
        }
    }

    #[test]
    fn likelihood_matches_direct_integration() {
        let p = [2.5, 3.0, 1.5, 4.0];
        for (x, t_x, n) in [(0, 0, 6), (2, 4, 6), (6, 6, 6), (1, 1, 3)] {
            let exact = pattern_ll_grad(&p, x, t_x, n).0;
            assert!((exact - pattern_ll(&p, x, t_x, n)).abs() < 1e-12);
            let quad = ll_by_quadrature(p, x, t_x, n);
            assert!(
                (exact - quad).abs() < 1e-3,
                "{x} {t_x} {n}: {exact} vs {quad}"
            );
        }
    }

    #[test]
    fn probabilities_of_all_patterns_sum_to_one() {
        let p = [1.2, 0.75, 0.66, 2.8];
        let n = 5;
        let mut total = 0.0;
        total += pattern_ll_grad(&p, 0, 0, n).0.exp();
        for t_x in 1..=n {
            for x in 1..=t_x {
                // number of arrangements of the other x-1 transactions before t_x
                let ways =
                    (ln_gamma(t_x as f64) - ln_gamma(x as f64) - ln_gamma((t_x - x + 1) as f64))
                        .exp();
                total += ways * pattern_ll_grad(&p, x, t_x, n).0.exp();
            }
        }
        assert!((total - 1.0).abs() < 1e-10, "{total}");
    }

    #[test]
    fn new_customer_pmf_sums_to_one_and_matches_mean() {
        let m = model(1.2, 0.75, 0.66, 2.8);
        let n = 6;
        let probs: Vec<f64> = (0..=n)
            .map(|k| m.purchase_probability_new(k, n as f64).unwrap())
            .collect();
        let total: f64 = probs.iter().sum();
        assert!((total - 1.0).abs() < 1e-10, "{total}");
        let mean: f64 = probs.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        let expected = m.expected_purchases_new(n as f64).unwrap();
        assert!((mean - expected).abs() < 1e-10, "{mean} vs {expected}");
    }

    #[test]
    fn conditional_pmf_matches_conditional_mean() {
        let m = model(1.2, 0.75, 0.66, 2.8);
        let h = History::new(3, 5.0, 6.0);
        let horizon = 4;
        let probs: Vec<f64> = (0..=horizon)
            .map(|k| m.transaction_probability(&h, k, horizon).unwrap())
            .collect();
        let total: f64 = probs.iter().sum();
        assert!((total - 1.0).abs() < 1e-10, "{total}");
        let mean: f64 = probs.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
        let expected = m.expected_transactions(&h, horizon).unwrap();
        assert!((mean - expected).abs() < 1e-10, "{mean} vs {expected}");
    }

    #[test]
    fn new_customer_mean_matches_closed_form() {
        // E[X(n)] = α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ)Γ(1+δ+n)/(Γ(γ+δ+n)Γ(1+δ))]
        let (a, b, g, d) = (1.204, 0.75, 0.657, 2.783);
        let m = model(a, b, g, d);
        for n in [1u32, 5, 30] {
            let nf = n as f64;
            let closed = a / (a + b) * d / (g - 1.0)
                * (1.0
                    - (ln_gamma(g + d) + ln_gamma(1.0 + d + nf)
                        - ln_gamma(g + d + nf)
                        - ln_gamma(1.0 + d))
                    .exp());
            let ours = m.expected_transactions_new(n).unwrap();
            assert!((ours - closed).abs() < 1e-10, "{n}: {ours} vs {closed}");
        }
    }

    #[test]
    fn rejects_fractional_histories() {
        let m = model(1.0, 1.0, 1.0, 1.0);
        assert!(m.p_alive(&History::new(1, 1.5, 6.0), 0.0).is_err());
        assert!(m.p_alive(&History::new(3, 2.0, 6.0), 0.0).is_err());
        assert!(m
            .expected_purchases(&History::new(1, 1.0, 6.0), -1.0)
            .is_err());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        #[test]
        fn gradient_matches_finite_differences(
            la in -1.5f64..1.5, lb in -1.5f64..1.5, lg in -1.5f64..1.5, ld in -1.5f64..1.5,
            n in 1u32..8, tx_frac in 0.0f64..1.0, x_frac in 0.0f64..1.0,
        ) {
            let t_x = (tx_frac * n as f64).round() as u32;
            let x = if t_x == 0 { 0 } else { 1 + (x_frac * (t_x - 1) as f64).round() as u32 };
            let theta = [la, lb, lg, ld];
            let p = theta.map(f64::exp);
            let (_, g) = pattern_ll_grad(&p, x, t_x, n);
            for k in 0..4 {
                let h = 1e-5;
                let mut up = theta; up[k] += h;
                let mut dn = theta; dn[k] -= h;
                let fd = (pattern_ll_grad(&up.map(f64::exp), x, t_x, n).0
                    - pattern_ll_grad(&dn.map(f64::exp), x, t_x, n).0) / (2.0 * h);
                prop_assert!((fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs()), "k={} fd={} an={}", k, fd, g[k]);
            }
        }

        #[test]
        fn dert_falls_as_the_discount_rate_grows(
            a in 0.1f64..5.0, b in 0.1f64..5.0, g in 0.1f64..5.0, d in 0.1f64..5.0,
            rate in 0.01f64..1.0, n in 0u32..10, x in 0u32..10,
        ) {
            let m = model(a, b, g, d);
            let x = x.min(n);
            let h = History::new(x, x as f64, n as f64);
            let lo = m.dert_discrete(&h, rate).unwrap();
            let hi = m.dert_discrete(&h, rate * 1.1).unwrap();
            prop_assert!(hi < lo && hi > 0.0, "{} {}", lo, hi);
        }

        #[test]
        fn p_alive_is_a_probability_and_decreases_ahead(
            a in 0.1f64..5.0, b in 0.1f64..5.0, g in 0.1f64..5.0, d in 0.1f64..5.0,
            n in 0u32..10, tx_frac in 0.0f64..1.0,
        ) {
            let m = model(a, b, g, d);
            let t_x = (tx_frac * n as f64).round() as u32;
            let x = t_x.min(1);
            let h = History::new(x, t_x as f64, n as f64);
            let mut last = 1.0;
            for ahead in 0..5 {
                let p = m.p_alive_in_period(&h, ahead).unwrap();
                prop_assert!((0.0..=1.0).contains(&p));
                prop_assert!(p <= last + 1e-12);
                last = p;
            }
        }
    }
}
