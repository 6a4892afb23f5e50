//! Shifted-beta-geometric (sBG) model of contract lifetimes: Fader & Hardie (2007), "How to
//! project customer retention", *Journal of Interactive Marketing* 21(1); discounted expected
//! lifetimes from Fader & Hardie (2010), "Customer-base valuation in a contractual setting: the
//! perils of ignoring heterogeneity", *Marketing Science* 29(1).
//!
//! Each customer churns at the end of each period with a constant probability θ; θ varies across
//! customers as Beta(α, β). Then P(T = t) = B(α+1, β+t−1)/B(α, β), S(t) = B(α, β+t)/B(α, β) and
//! the retention rate r_t = (β+t−1)/(α+β+t−1) rises with t: the cohort sorts itself.

use crate::fit::{FitOptions, FitReport, OptimizerError as FitError};
use crate::models::bg_bb::{ln_beta, ln_beta_grad};
use crate::models::contractual::{Cohort, RetentionModel};
use crate::models::PredictError;
use crate::optimize::{covariance, maximize, natural_standard_errors_from, Objective};

/// Why sBG parameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SbgError {
    /// A parameter is not a finite positive number.
    #[error("sBG parameter {name} = {value} must be finite and positive")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
}

/// Validated sBG parameters: θ ~ Beta(α, β).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SbgParamsData"))]
pub struct SbgParams {
    alpha: f64,
    beta: f64,
}

/// The serialized form, checked by [`SbgParams::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct SbgParamsData {
    alpha: f64,
    beta: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<SbgParamsData> for SbgParams {
    type Error = SbgError;
    fn try_from(d: SbgParamsData) -> Result<Self, SbgError> {
        SbgParams::new(d.alpha, d.beta)
    }
}

impl SbgParams {
    /// Checks both parameters are finite and positive.
    pub fn new(alpha: f64, beta: f64) -> Result<Self, SbgError> {
        for (name, value) in [("alpha", alpha), ("beta", beta)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(SbgError::InvalidParameter { name, value });
            }
        }
        Ok(SbgParams { alpha, beta })
    }
    /// α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
}

/// Cohort log-likelihood and its gradient in (ln α, ln β).
pub(crate) fn cohort_ll_grad(p: &[f64; 2], cohorts: &[Cohort]) -> (f64, [f64; 2]) {
    let [a, b] = *p;
    let base = ln_beta(a, b);
    let (ba, bb) = ln_beta_grad(a, b);
    let mut ll = 0.0;
    let mut g = [0.0; 2];
    for c in cohorts {
        let alive = c.alive();
        for t in 1..alive.len() {
            let lost = alive[t - 1] - alive[t];
            if lost > 0.0 {
                let tf = t as f64;
                ll += lost * (ln_beta(a + 1.0, b + tf - 1.0) - base);
                let (pa, pb) = ln_beta_grad(a + 1.0, b + tf - 1.0);
                g[0] += lost * (pa - ba);
                g[1] += lost * (pb - bb);
            }
        }
        let k = (alive.len() - 1) as f64;
        let last = alive[alive.len() - 1];
        if last > 0.0 {
            ll += last * (ln_beta(a, b + k) - base);
            let (sa, sb) = ln_beta_grad(a, b + k);
            g[0] += last * (sa - ba);
            g[1] += last * (sb - bb);
        }
    }
    (ll, [g[0] * a, g[1] * b])
}

/// An sBG model with known parameters.
///
/// ```
/// use customer_assets::models::contractual::RetentionModel;
/// use customer_assets::models::sbg::{Sbg, SbgParams};
/// let regular = Sbg::new(SbgParams::new(0.704, 1.182)?);
/// assert!((regular.retention_rate(1) - 1.182 / 1.886).abs() < 1e-12);
/// let derl = regular.derl(0.10, 1)?; // discounted expected residual lifetime of a new subscriber
/// assert!(derl > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Sbg {
    params: SbgParams,
}

impl Sbg {
    /// A model with these parameters.
    pub fn new(params: SbgParams) -> Self {
        Sbg { params }
    }
    /// The parameters.
    pub fn params(&self) -> &SbgParams {
        &self.params
    }
}

fn numerical(what: &'static str, detail: String) -> PredictError {
    PredictError::Numerical { what, detail }
}

impl RetentionModel for Sbg {
    fn name(&self) -> &str {
        "sbg"
    }
    fn parameter_count(&self) -> usize {
        2
    }
    fn ln_survival(&self, t: f64) -> f64 {
        let SbgParams { alpha, beta } = self.params;
        ln_beta(alpha, beta + t) - ln_beta(alpha, beta)
    }
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let SbgParams { alpha, beta } = self.params;
        (ln_beta(alpha + 1.0, beta + t as f64 - 1.0) - ln_beta(alpha, beta)).exp()
    }
    fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        let SbgParams { alpha, beta } = self.params;
        let t = t as f64;
        (beta + t - 1.0) / (alpha + beta + t - 1.0)
    }
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        cohort_ll_grad(&[self.params.alpha, self.params.beta], cohorts).0
    }
    /// E\[T\] = (α + β − 1)/(α − 1), finite only when α > 1.
    fn expected_lifetime(&self) -> Result<f64, PredictError> {
        let SbgParams { alpha, beta } = self.params;
        if alpha <= 1.0 {
            return Err(PredictError::InvalidInput {
                name: "alpha",
                value: alpha,
                reason: "the sBG mean lifetime is infinite when alpha <= 1",
            });
        }
        Ok((alpha + beta - 1.0) / (alpha - 1.0))
    }
    /// Closed form: DERL = (β+n−1)/(α+β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d)).
    fn derl(&self, d: f64, n: u32) -> Result<f64, PredictError> {
        if !(d.is_finite() && d > 0.0) {
            return Err(PredictError::InvalidInput {
                name: "discount rate",
                value: d,
                reason: "must be finite and positive",
            });
        }
        if n == 0 {
            return Err(PredictError::InvalidInput {
                name: "n",
                value: 0.0,
                reason: "periods are numbered from 1",
            });
        }
        let SbgParams { alpha, beta } = self.params;
        let nf = n as f64;
        let ln_f = crate::special::ln_hyp2f1(1.0, beta + nf, alpha + beta + nf, 1.0 / (1.0 + d))
            .map_err(|e| numerical("sBG DERL 2F1", e.to_string()))?;
        let v = ((beta + nf - 1.0) / (alpha + beta + nf - 1.0)).ln() + ln_f;
        let v = v.exp();
        if v.is_finite() {
            Ok(v)
        } else {
            Err(numerical("sBG DERL", format!("non-finite result {v}")))
        }
    }
    /// Closed form: DEL = ₂F₁(1, β; α+β; 1/(1+d)).
    fn del(&self, d: f64) -> Result<f64, PredictError> {
        if !(d.is_finite() && d > 0.0) {
            return Err(PredictError::InvalidInput {
                name: "discount rate",
                value: d,
                reason: "must be finite and positive",
            });
        }
        let SbgParams { alpha, beta } = self.params;
        let ln_f = crate::special::ln_hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + d))
            .map_err(|e| numerical("sBG DEL 2F1", e.to_string()))?;
        let v = ln_f.exp();
        if v.is_finite() {
            Ok(v)
        } else {
            Err(numerical("sBG DEL", format!("non-finite result {v}")))
        }
    }
}

/// The sBG cohort log-likelihood as an [`Objective`] in log-parameters.
struct SbgObjective<'a> {
    cohorts: &'a [Cohort],
}

impl Objective for SbgObjective<'_> {
    fn dim(&self) -> usize {
        2
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut p = [0.0; 2];
        for (k, t) in theta.iter().take(2).enumerate() {
            p[k] = t.exp();
        }
        if p.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return f64::NAN;
        }
        let (ll, g) = cohort_ll_grad(&p, self.cohorts);
        for (out, v) in grad.iter_mut().zip(g) {
            *out = v;
        }
        ll
    }
    fn weight(&self) -> f64 {
        self.cohorts.iter().map(|c| c.acquired()).sum()
    }
}

/// A sBG model fitted by maximum likelihood, with standard errors and the fit report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FittedSbg {
    model: Sbg,
    standard_errors: Option<[f64; 2]>,
    report: FitReport,
}

impl FittedSbg {
    /// The fitted model (all predictions).
    pub fn model(&self) -> &Sbg {
        &self.model
    }
    /// The estimates.
    pub fn params(&self) -> &SbgParams {
        &self.model.params
    }
    /// Standard errors of (α, β) from the inverse Hessian (delta method); `None` when the
    /// negative Hessian is not positive definite at the estimate.
    pub fn standard_errors(&self) -> Option<[f64; 2]> {
        self.standard_errors
    }
    /// The fit's diagnostics (total log-likelihood, iterations, gradient norm, convergence).
    pub fn report(&self) -> &FitReport {
        &self.report
    }
}

/// Why a sBG fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SbgFitError {
    /// No cohorts given.
    #[error("no cohorts to fit")]
    Empty,
    /// The optimizer failed or did not converge.
    #[error("sBG fit failed: {0}")]
    Fit(#[from] FitError),
    /// The estimate is not a valid parameter set.
    #[error(transparent)]
    Params(#[from] SbgError),
}

/// How to fit sBG: the fitting machinery's options (L-BFGS, starts, penalty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SbgFit {
    options: FitOptions,
}

impl SbgFit {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Custom options.
    pub fn options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }
    /// Fits the cohorts (each with its own length; cut them with [`Cohort::calibration`] first
    /// to keep periods for validation).
    pub fn fit(&self, cohorts: &[Cohort]) -> Result<FittedSbg, SbgFitError> {
        if cohorts.is_empty() {
            return Err(SbgFitError::Empty);
        }
        let objective = SbgObjective { cohorts };
        let max = maximize(&objective, &[vec![0.0; 2]], &self.options)?;
        let mut p = [0.0; 2];
        for (k, t) in max.theta.iter().take(2).enumerate() {
            p[k] = t.exp();
        }
        let params = SbgParams::new(p[0], p[1])?;
        let standard_errors = covariance(&max.hessian)
            .map(|cov| natural_standard_errors_from(&max.theta, &cov))
            .ok()
            .and_then(|se| <[f64; 2]>::try_from(se.as_slice()).ok())
            .filter(|se| se.iter().all(|v| v.is_finite()));
        Ok(FittedSbg {
            model: Sbg::new(params),
            standard_errors,
            report: max.report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cohorts() -> Vec<Cohort> {
        vec![
            Cohort::new("a", vec![1000.0, 631.0, 468.0, 382.0, 326.0]).unwrap(),
            Cohort::new("b", vec![500.0, 400.0, 350.0]).unwrap(),
        ]
    }

    #[test]
    fn closed_forms_match_the_generic_sums() {
        let m = Sbg::new(SbgParams::new(1.7, 3.2).unwrap());
        for n in [1u32, 2, 7] {
            let closed = m.derl(0.1, n).unwrap();
            let summed = crate::models::contractual::derl_by_sum(&m, 0.1, n).unwrap();
            assert!(
                (closed - summed).abs() < 1e-9 * summed,
                "{n}: {closed} vs {summed}"
            );
        }
        let del = m.del(0.1).unwrap();
        let generic = 1.0 + m.derl(0.1, 1).unwrap() / 1.1;
        assert!((del - generic).abs() < 1e-9);
        let life = m.expected_lifetime().unwrap();
        let summed: f64 = (0..2_000_000).map(|t| m.survival(t)).sum();
        assert!((life - summed).abs() < 1e-3, "{life} vs {summed}");
    }

    #[test]
    fn likelihood_agrees_with_the_generic_trait_form() {
        let m = Sbg::new(SbgParams::new(0.7, 1.2).unwrap());
        let c = cohorts();
        let generic = crate::models::contractual::cohort_log_likelihood(
            &c,
            |t| m.churn_probability(t).ln(),
            |t| m.ln_survival(t as f64),
        );
        assert!((m.log_likelihood(&c) - generic).abs() < 1e-9);
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        #[test]
        fn gradient_matches_finite_differences(la in -2.0f64..2.0, lb in -2.0f64..2.0) {
            let c = cohorts();
            let theta = [la, lb];
            let (_, g) = cohort_ll_grad(&theta.map(f64::exp), &c);
            for k in 0..2 {
                let h = 1e-5;
                let mut up = theta; up[k] += h;
                let mut dn = theta; dn[k] -= h;
                let fd = (cohort_ll_grad(&up.map(f64::exp), &c).0 - cohort_ll_grad(&dn.map(f64::exp), &c).0) / (2.0 * h);
                prop_assert!((fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs()), "k={} fd={} an={}", k, fd, g[k]);
            }
        }

        #[test]
        fn survival_falls_and_retention_is_a_rate(a in 0.05f64..20.0, b in 0.05f64..20.0) {
            let m = Sbg::new(SbgParams::new(a, b).unwrap());
            let mut last = 1.0;
            for t in 1..60 {
                let s = m.survival(t);
                prop_assert!(s <= last && s >= 0.0);
                last = s;
                let r = m.retention_rate(t);
                prop_assert!(r > 0.0 && r < 1.0);
            }
        }

        #[test]
        fn discounted_lifetimes_fall_as_the_rate_grows(a in 0.1f64..10.0, b in 0.1f64..10.0, d in 0.01f64..1.0, n in 1u32..20) {
            let m = Sbg::new(SbgParams::new(a, b).unwrap());
            prop_assert!(m.del(d * 1.1).unwrap() < m.del(d).unwrap());
            prop_assert!(m.derl(d * 1.1, n).unwrap() < m.derl(d, n).unwrap());
        }
    }
}
