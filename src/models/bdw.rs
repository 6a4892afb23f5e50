//! Beta-discrete-Weibull (BdW) model of contract lifetimes: Fader, Hardie, Liu, Davin &
//! Steenburgh (2018), "'How to project customer retention' revisited: the role of duration
//! dependence", *Journal of Interactive Marketing* 43.
//!
//! The sBG model plus duration dependence: an individual with churn parameter θ survives t
//! periods with probability (1 − θ)^{t^c}; θ ~ Beta(α, β). Then S(t) = B(α, β + t^c)/B(α, β).
//! c < 1 means individual churn probabilities fall with tenure, c > 1 that they rise; c = 1 is
//! exactly the sBG model. DEL, DERL and the expected lifetime have no closed form and are summed
//! numerically (the trait's defaults).

use crate::fit::{FitOptions, FitReport, OptimizerError as FitError};
use crate::models::bg_bb::{ln_beta, ln_beta_grad};
use crate::models::contractual::{Cohort, RetentionModel};
use crate::optimize::{covariance, maximize, natural_standard_errors_from, Objective};

/// Why BdW parameters were rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BdwError {
    /// A parameter is not a finite positive number.
    #[error("BdW parameter {name} = {value} must be finite and positive")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
    },
}

/// Validated BdW parameters: θ ~ Beta(α, β) and the duration-dependence exponent c.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "BdwParamsData"))]
pub struct BdwParams {
    alpha: f64,
    beta: f64,
    c: f64,
}

/// The serialized form, checked by [`BdwParams::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct BdwParamsData {
    alpha: f64,
    beta: f64,
    c: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<BdwParamsData> for BdwParams {
    type Error = BdwError;
    fn try_from(d: BdwParamsData) -> Result<Self, BdwError> {
        BdwParams::new(d.alpha, d.beta, d.c)
    }
}

impl BdwParams {
    /// Checks every parameter is finite and positive.
    pub fn new(alpha: f64, beta: f64, c: f64) -> Result<Self, BdwError> {
        for (name, value) in [("alpha", alpha), ("beta", beta), ("c", c)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(BdwError::InvalidParameter { name, value });
            }
        }
        Ok(BdwParams { alpha, beta, c })
    }
    /// α.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// β.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// c, the duration dependence (1 = none).
    pub fn c(&self) -> f64 {
        self.c
    }
}

/// ln S(t) and its gradient in natural (α, β, c).
fn ln_s_grad(a: f64, b: f64, c: f64, t: f64) -> (f64, [f64; 3]) {
    if t == 0.0 {
        return (0.0, [0.0; 3]);
    }
    let tc = t.powf(c);
    let (ba, bb) = ln_beta_grad(a, b);
    let (sa, sb) = ln_beta_grad(a, b + tc);
    (
        ln_beta(a, b + tc) - ln_beta(a, b),
        [sa - ba, sb - bb, sb * tc * t.ln()],
    )
}

/// ln P(T = t) = ln(S(t−1) − S(t)) and its gradient in natural (α, β, c).
fn ln_p_grad(a: f64, b: f64, c: f64, t: f64) -> (f64, [f64; 3]) {
    let (l0, g0) = ln_s_grad(a, b, c, t - 1.0);
    let (l1, g1) = ln_s_grad(a, b, c, t);
    let q = (l1 - l0).exp();
    let one_minus_q = -(l1 - l0).exp_m1();
    let v = l0 + one_minus_q.ln();
    let mut g = [0.0; 3];
    for k in 0..3 {
        g[k] = (g0[k] - q * g1[k]) / one_minus_q;
    }
    (v, g)
}

/// Cohort log-likelihood and its gradient in (ln α, ln β, ln c).
pub(crate) fn cohort_ll_grad(p: &[f64; 3], cohorts: &[Cohort]) -> (f64, [f64; 3]) {
    let [a, b, c] = *p;
    let mut ll = 0.0;
    let mut g = [0.0; 3];
    for co in cohorts {
        let alive = co.alive();
        for t in 1..alive.len() {
            let lost = alive[t - 1] - alive[t];
            if lost > 0.0 {
                let (v, gr) = ln_p_grad(a, b, c, t as f64);
                ll += lost * v;
                for k in 0..3 {
                    g[k] += lost * gr[k];
                }
            }
        }
        let last = alive[alive.len() - 1];
        if last > 0.0 {
            let (v, gr) = ln_s_grad(a, b, c, (alive.len() - 1) as f64);
            ll += last * v;
            for k in 0..3 {
                g[k] += last * gr[k];
            }
        }
    }
    (ll, [g[0] * a, g[1] * b, g[2] * c])
}

/// A BdW model with known parameters.
///
/// ```
/// use customer_assets::models::bdw::{Bdw, BdwParams};
/// use customer_assets::models::contractual::RetentionModel;
/// let m = Bdw::new(BdwParams::new(0.7, 1.2, 0.8)?);
/// assert!(m.survival(2) < m.survival(1));
/// assert!(m.derl(0.1, 3)? > 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bdw {
    params: BdwParams,
}

impl Bdw {
    /// A model with these parameters.
    pub fn new(params: BdwParams) -> Self {
        Bdw { params }
    }
    /// The parameters.
    pub fn params(&self) -> &BdwParams {
        &self.params
    }
}

impl RetentionModel for Bdw {
    fn name(&self) -> &str {
        "bdw"
    }
    fn parameter_count(&self) -> usize {
        3
    }
    fn ln_survival(&self, t: f64) -> f64 {
        let BdwParams { alpha, beta, c } = self.params;
        ln_s_grad(alpha, beta, c, t).0
    }
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let BdwParams { alpha, beta, c } = self.params;
        ln_p_grad(alpha, beta, c, t as f64).0.exp()
    }
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        let BdwParams { alpha, beta, c } = self.params;
        cohort_ll_grad(&[alpha, beta, c], cohorts).0
    }
}

/// The BdW cohort log-likelihood as an [`Objective`] in log-parameters.
struct BdwObjective<'a> {
    cohorts: &'a [Cohort],
}

impl Objective for BdwObjective<'_> {
    fn dim(&self) -> usize {
        3
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut p = [0.0; 3];
        for (k, t) in theta.iter().take(3).enumerate() {
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

/// A BdW model fitted by maximum likelihood, with standard errors and the fit report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FittedBdw {
    model: Bdw,
    standard_errors: Option<[f64; 3]>,
    report: FitReport,
}

impl FittedBdw {
    /// The fitted model (all predictions).
    pub fn model(&self) -> &Bdw {
        &self.model
    }
    /// The estimates.
    pub fn params(&self) -> &BdwParams {
        &self.model.params
    }
    /// Standard errors of (α, β, c) from the inverse Hessian (delta method); `None` when the
    /// negative Hessian is not positive definite at the estimate.
    pub fn standard_errors(&self) -> Option<[f64; 3]> {
        self.standard_errors
    }
    /// The fit's diagnostics (total log-likelihood, iterations, gradient norm, convergence).
    pub fn report(&self) -> &FitReport {
        &self.report
    }
}

/// Why a BdW fit failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BdwFitError {
    /// No cohorts given.
    #[error("no cohorts to fit")]
    Empty,
    /// The optimizer failed or did not converge.
    #[error("BdW fit failed: {0}")]
    Fit(#[from] FitError),
    /// The estimate is not a valid parameter set.
    #[error(transparent)]
    Params(#[from] BdwError),
}

/// How to fit BdW: the fitting machinery's options (L-BFGS, starts, penalty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BdwFit {
    options: FitOptions,
}

impl BdwFit {
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
    pub fn fit(&self, cohorts: &[Cohort]) -> Result<FittedBdw, BdwFitError> {
        if cohorts.is_empty() {
            return Err(BdwFitError::Empty);
        }
        let objective = BdwObjective { cohorts };
        let max = maximize(&objective, &[vec![0.0; 3]], &self.options)?;
        let mut p = [0.0; 3];
        for (k, t) in max.theta.iter().take(3).enumerate() {
            p[k] = t.exp();
        }
        let params = BdwParams::new(p[0], p[1], p[2])?;
        let standard_errors = covariance(&max.hessian)
            .map(|cov| natural_standard_errors_from(&max.theta, &cov))
            .ok()
            .and_then(|se| <[f64; 3]>::try_from(se.as_slice()).ok())
            .filter(|se| se.iter().all(|v| v.is_finite()));
        Ok(FittedBdw {
            model: Bdw::new(params),
            standard_errors,
            report: max.report,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::sbg::{Sbg, SbgParams};
    use proptest::prelude::*;

    fn cohorts() -> Vec<Cohort> {
        vec![
            Cohort::new("a", vec![1000.0, 869.0, 743.0, 653.0, 593.0, 551.0]).unwrap(),
            Cohort::new("b", vec![300.0, 200.0, 150.0]).unwrap(),
        ]
    }

    #[test]
    fn numerical_expected_lifetime_matches_the_sbg_closed_form() {
        for (a, b) in [(2.5, 3.0), (1.6, 0.8), (4.0, 10.0)] {
            let bdw = Bdw::new(BdwParams::new(a, b, 1.0).unwrap());
            let sbg = Sbg::new(SbgParams::new(a, b).unwrap());
            let (x, y) = (
                bdw.expected_lifetime().unwrap(),
                sbg.expected_lifetime().unwrap(),
            );
            assert!((x - y).abs() < 1e-3 * y, "{a} {b}: {x} vs {y}");
        }
        // Heavy tail: c·α ≤ 1 has no finite mean.
        let heavy = Bdw::new(BdwParams::new(0.7, 1.2, 1.0).unwrap());
        assert!(heavy.expected_lifetime().is_err());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(48))]
        #[test]
        fn gradient_matches_finite_differences(la in -2.0f64..2.0, lb in -2.0f64..2.0, lc in -1.0f64..1.0) {
            let c = cohorts();
            let theta = [la, lb, lc];
            let (_, g) = cohort_ll_grad(&theta.map(f64::exp), &c);
            for k in 0..3 {
                let h = 1e-5;
                let mut up = theta; up[k] += h;
                let mut dn = theta; dn[k] -= h;
                let fd = (cohort_ll_grad(&up.map(f64::exp), &c).0 - cohort_ll_grad(&dn.map(f64::exp), &c).0) / (2.0 * h);
                prop_assert!((fd - g[k]).abs() < 1e-4 * (1.0 + fd.abs()), "k={} fd={} an={}", k, fd, g[k]);
            }
        }

        #[test]
        fn c_equal_one_is_the_sbg(a in 0.1f64..10.0, b in 0.1f64..10.0, d in 0.05f64..0.5, n in 1u32..10) {
            let bdw = Bdw::new(BdwParams::new(a, b, 1.0).unwrap());
            let sbg = Sbg::new(SbgParams::new(a, b).unwrap());
            for t in 0..30 {
                prop_assert!((bdw.survival(t) - sbg.survival(t)).abs() < 1e-12);
                prop_assert!((bdw.churn_probability(t) - sbg.churn_probability(t)).abs() < 1e-10);
                prop_assert!((bdw.retention_rate(t) - sbg.retention_rate(t)).abs() < 1e-10);
            }
            let c = cohorts();
            prop_assert!((bdw.log_likelihood(&c) - sbg.log_likelihood(&c)).abs() < 1e-6 * (1.0 + sbg.log_likelihood(&c).abs()));
            let (x, y) = (bdw.derl(d, n).unwrap(), sbg.derl(d, n).unwrap());
            prop_assert!((x - y).abs() < 1e-8 * y, "{} vs {}", x, y);
            let (x, y) = (bdw.del(d).unwrap(), sbg.del(d).unwrap());
            prop_assert!((x - y).abs() < 1e-8 * y, "{} vs {}", x, y);
        }

        #[test]
        fn survival_falls_and_retention_is_a_rate(a in 0.05f64..20.0, b in 0.05f64..20.0, c in 0.2f64..3.0) {
            let m = Bdw::new(BdwParams::new(a, b, c).unwrap());
            let mut last = 1.0;
            for t in 1..40 {
                let s = m.survival(t);
                prop_assert!(s <= last && s >= 0.0);
                last = s;
                let r = m.retention_rate(t);
                prop_assert!(r > 0.0 && r < 1.0, "t={} r={}", t, r);
            }
        }

        #[test]
        fn discounted_lifetimes_fall_as_the_rate_grows(a in 0.1f64..10.0, b in 0.1f64..10.0, c in 0.3f64..2.0, d in 0.05f64..1.0, n in 1u32..10) {
            let m = Bdw::new(BdwParams::new(a, b, c).unwrap());
            prop_assert!(m.del(d * 1.1).unwrap() < m.del(d).unwrap());
            prop_assert!(m.derl(d * 1.1, n).unwrap() < m.derl(d, n).unwrap());
        }
    }
}
