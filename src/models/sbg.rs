//! Shifted-beta-geometric (sBG) model of contract lifetimes: Fader & Hardie (2007), "How to
//! project customer retention", *Journal of Interactive Marketing* 21(1); discounted expected
//! lifetimes from Fader & Hardie (2010), "Customer-base valuation in a contractual setting: the
//! perils of ignoring heterogeneity", *Marketing Science* 29(1).
//!
//! Each customer churns at the end of each period with a constant probability θ; θ varies across
//! customers as Beta(α, β). Then P(T = t) = B(α+1, β+t−1)/B(α, β), S(t) = B(α, β+t)/B(α, β) and
//! the retention rate r_t = (β+t−1)/(α+β+t−1) rises with t: the cohort sorts itself. Fitted by
//! maximum likelihood on [`Cohort`]s of survivors.
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::contractual::{Cohort, RetentionModel};
//! use customer_assets::models::sbg::{Sbg, SbgParameters, SbgParams};
//!
//! // A model from published parameters (the "regular" segment of Fader & Hardie 2007) ...
//! let regular = Sbg::new(SbgParameters { alpha: 0.704, beta: 1.182 })?;
//! assert!((regular.retention_rate(1) - 1.182 / 1.886).abs() < 1e-12);
//! let derl = regular.derl(0.10, 1)?; // discounted expected residual lifetime of a new subscriber
//! assert!(derl > 0.0);
//! // ... or fitted on cohorts: customers still active at the start of years 0 to 7.
//! let cohort = Cohort::new("regular", vec![1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0])?;
//! let fitted = SbgParams::new().fit(&[cohort])?;
//! assert!((fitted.parameters().alpha - 0.704).abs() < 5e-4);
//! let se = fitted.standard_errors().ok_or("a fitted model has standard errors")?;
//! assert!(se.alpha > 0.0 && se.beta > 0.0);
//! assert!(fitted.report().is_some_and(|r| r.converged));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::contractual::{check_cohorts, churn_pair, finite, Cohort, RetentionModel};
use crate::models::error::PredictError;
use crate::optimize::{maximize_log_parameters, natural_covariance, Objective};
use crate::special::{ln_beta, ln_beta_grad, ln_beta_shift};

/// The model's name in errors and reports.
const NAME: &str = "sbg";
/// The parameter names, in the order of the covariance.
const PARAMETER_NAMES: [&str; 2] = ["alpha", "beta"];

/// The sBG parameters (or their standard errors): the churn probability θ ~ Beta(α, β), per
/// period.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SbgParameters {
    /// α of the churn-probability Beta distribution.
    pub alpha: f64,
    /// β of the churn-probability Beta distribution.
    pub beta: f64,
}

impl SbgParameters {
    /// Both finite and positive, and not so large that ln B(α, β) overflows (about 1e305).
    fn check(self) -> Result<Self, InvalidParameter> {
        check_beta(self.alpha, self.beta)?;
        Ok(self)
    }
}

/// α and β finite and positive, and ln B(α, β) finite (shared with BdW).
pub(crate) fn check_beta(alpha: f64, beta: f64) -> Result<(), InvalidParameter> {
    InvalidParameter::positive("alpha", alpha)?;
    InvalidParameter::positive("beta", beta)?;
    if !ln_beta(alpha, beta).is_finite() {
        let (name, value) = if alpha >= beta {
            ("alpha", alpha)
        } else {
            ("beta", beta)
        };
        return Err(InvalidParameter::new(
            name,
            value,
            "is too large: ln B(alpha, beta) overflows",
        ));
    }
    Ok(())
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
        for (t, pair) in alive.windows(2).enumerate() {
            let lost = pair[0] - pair[1];
            if lost > 0.0 {
                let tf = (t + 1) as f64;
                ll += lost * (ln_beta(a + 1.0, b + tf - 1.0) - base);
                let (pa, pb) = ln_beta_grad(a + 1.0, b + tf - 1.0);
                g[0] += lost * (pa - ba);
                g[1] += lost * (pb - bb);
            }
        }
        let k = c.periods() as f64;
        let last = alive.last().copied().unwrap_or(0.0);
        if last > 0.0 {
            ll += last * (ln_beta(a, b + k) - base);
            let (sa, sb) = ln_beta_grad(a, b + k);
            g[0] += last * (sa - ba);
            g[1] += last * (sb - bb);
        }
    }
    (ll, [g[0] * a, g[1] * b])
}

/// The sBG model: its parameters and, when fitted, their covariance and the fit report.
///
/// Built from known parameters with [`Sbg::new`] or fitted with
/// [`SbgParams`]`::new().fit(&cohorts)`. Serialized with its parameters, covariance and report;
/// deserialization checks the parameters as [`Sbg::new`] does.
///
/// ```
/// use customer_assets::models::contractual::RetentionModel;
/// use customer_assets::models::sbg::{Sbg, SbgParameters};
/// let high_end = Sbg::new(SbgParameters { alpha: 0.668, beta: 3.806 })?;
/// assert!(high_end.survival(5) < high_end.survival(4));
/// assert!(high_end.del(0.1)? > high_end.derl(0.1, 1)?);
/// assert!(Sbg::new(SbgParameters { alpha: -1.0, beta: 3.806 }).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SbgData"))]
pub struct Sbg {
    parameters: SbgParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
}

/// The serialized form, checked by [`Sbg::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct SbgData {
    parameters: SbgParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
}

#[cfg(feature = "serde")]
impl TryFrom<SbgData> for Sbg {
    type Error = InvalidParameter;
    fn try_from(d: SbgData) -> Result<Self, InvalidParameter> {
        let mut model = Sbg::new(d.parameters)?;
        if let Some(covariance) = &d.covariance {
            covariance.check_names(&PARAMETER_NAMES)?;
        }
        model.covariance = d.covariance;
        model.report = d.report;
        Ok(model)
    }
}

impl Sbg {
    /// A model at known parameters, without covariance or fit report.
    ///
    /// # Errors
    /// [`InvalidParameter`] when a parameter is not finite and positive, or so large (about
    /// 1e305) that ln B(α, β) overflows.
    pub fn new(parameters: SbgParameters) -> Result<Self, InvalidParameter> {
        Ok(Sbg {
            parameters: parameters.check()?,
            covariance: None,
            report: None,
        })
    }
    /// The parameters.
    pub fn parameters(&self) -> SbgParameters {
        self.parameters
    }
    /// Standard errors of the parameters, the square roots of the covariance's diagonal; `None`
    /// unless fitted with a positive definite information matrix.
    pub fn standard_errors(&self) -> Option<SbgParameters> {
        match self.covariance.as_ref()?.standard_errors()[..] {
            [alpha, beta] => Some(SbgParameters { alpha, beta }),
            _ => None,
        }
    }
    /// The covariance of the fitted parameters (named as in [`SbgParameters`]); `None` when built
    /// by [`Sbg::new`] or when the information matrix is not positive definite.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    /// The fit's diagnostics (total log-likelihood, iterations, gradient norm, convergence);
    /// `None` when built by [`Sbg::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
}

crate::models::uncertainty::reparameterize!(
    Sbg,
    PARAMETER_NAMES,
    |m| [m.parameters.alpha, m.parameters.beta],
    |_m, v| {
        let [alpha, beta] = v;
        Sbg::new(SbgParameters { alpha, beta })
    }
);

impl RetentionModel for Sbg {
    fn name(&self) -> &str {
        NAME
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let SbgParameters { alpha, beta } = self.parameters;
        vec![("alpha".into(), alpha), ("beta".into(), beta)]
    }
    fn ln_survival(&self, t: u32) -> f64 {
        let SbgParameters { alpha, beta } = self.parameters;
        ln_beta_shift(alpha, beta, f64::from(t))
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    fn parameter_count(&self) -> usize {
        2
    }
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let SbgParameters { alpha, beta } = self.parameters;
        // B(α+1, β+t−1)/B(α, β) = α/(α+β+t−1) · S(t−1)
        let previous = f64::from(t - 1);
        ((alpha / (alpha + beta + previous)).ln() + ln_beta_shift(alpha, beta, previous)).exp()
    }
    fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        let SbgParameters { alpha, beta } = self.parameters;
        let t = t as f64;
        (beta + t - 1.0) / (alpha + beta + t - 1.0)
    }
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        let SbgParameters { alpha, beta } = self.parameters;
        cohort_ll_grad(&[alpha, beta], cohorts).0
    }
    /// E\[T\] = (α + β − 1)/(α − 1), finite only when α > 1.
    fn expected_lifetime(&self) -> Result<f64, PredictError> {
        let SbgParameters { alpha, beta } = self.parameters;
        if alpha <= 1.0 {
            return Err(PredictError::InvalidInput {
                name: "alpha",
                value: alpha,
                reason: "the sBG mean lifetime is infinite when alpha <= 1",
            });
        }
        finite(
            "sBG expected lifetime",
            (alpha + beta - 1.0) / (alpha - 1.0),
        )
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
        let SbgParameters { alpha, beta } = self.parameters;
        let nf = n as f64;
        let ln_f = crate::special::ln_hyp2f1(1.0, beta + nf, alpha + beta + nf, 1.0 / (1.0 + d))
            .map_err(|source| PredictError::SpecialFunction {
                what: "sBG DERL 2F1",
                source,
            })?;
        let v = ((beta + nf - 1.0) / (alpha + beta + nf - 1.0)).ln() + ln_f;
        finite("sBG DERL", v.exp())
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
        let SbgParameters { alpha, beta } = self.parameters;
        let ln_f = crate::special::ln_hyp2f1(1.0, beta, alpha + beta, 1.0 / (1.0 + d)).map_err(
            |source| PredictError::SpecialFunction {
                what: "sBG DEL 2F1",
                source,
            },
        )?;
        finite("sBG DEL", ln_f.exp())
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

/// How to fit sBG: the fit options (L-BFGS, starts, penalty). Fits with [`Fit`]:
/// `SbgParams::new().fit(&cohorts)?` gives an [`Sbg`].
///
/// ```
/// use customer_assets::fit::Fit;
/// use customer_assets::models::sbg::SbgParams;
/// use customer_assets::simulate::RetentionProcess;
/// let cohorts = [RetentionProcess::sbg(0.9, 2.5)?.cohort("c", 5_000, 8, 1)?];
/// let model = SbgParams::new().penalty(0.0).fit(&cohorts)?;
/// assert!(model.report().is_some_and(|r| r.converged));
/// assert!(SbgParams::new().fit(&[]).is_err()); // no cohort
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SbgParams {
    options: FitOptions,
    start: Option<SbgParameters>,
}

impl SbgParams {
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
    pub fn start(mut self, start: SbgParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<[Cohort]> for SbgParams {
    fn warm_started(&self, model: &Sbg) -> Self {
        self.clone().start(model.parameters)
    }
}

impl Fit<[Cohort]> for SbgParams {
    type Model = Sbg;
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

    /// Fits the cohorts (each with its own length; cut them with [`Cohort::calibration`] first
    /// to keep periods for validation).
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for invalid options, [`FitError::NoData`] without cohorts,
    /// [`FitError::OutOfRange`] when the cohorts acquire more than
    /// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) customers, [`FitError::NotIdentified`]
    /// with fewer than 2 observed periods, [`FitError::Boundary`] when nobody churns, everybody
    /// churns at once, or the estimate heads for another limit, [`FitError::Optimizer`] when the
    /// fit does not converge (with the optimizer's report), and [`FitError::Numerical`] when the
    /// estimate is not a valid parameter set.
    fn fit(&self, cohorts: &[Cohort]) -> Result<Sbg, FitError> {
        self.check()?;
        if cohorts.is_empty() {
            return Err(FitError::NoData {
                model: NAME,
                reason: "no cohorts",
            });
        }
        check_cohorts(NAME, cohorts, 2)?;
        let (p, max) = maximize_log_parameters::<2>(
            NAME,
            &SbgObjective { cohorts },
            &self.options,
            &PARAMETER_NAMES,
            &[churn_pair()],
            self.start.map(|p| [p.alpha, p.beta]),
        )?;
        let mut model = Sbg::new(SbgParameters {
            alpha: p[0],
            beta: p[1],
        })
        .map_err(|e| FitError::invalid_estimate(NAME, e))?;
        model.covariance = natural_covariance(&PARAMETER_NAMES, &max);
        model.report = Some(max.report);
        Ok(model)
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
        let m = Sbg::new(SbgParameters {
            alpha: 1.7,
            beta: 3.2,
        })
        .unwrap();
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
        let m = Sbg::new(SbgParameters {
            alpha: 0.7,
            beta: 1.2,
        })
        .unwrap();
        let c = cohorts();
        let generic = crate::models::contractual::cohort_log_likelihood(
            &c,
            |t| m.churn_probability(t).ln(),
            |t| m.ln_survival(t),
        );
        assert!((m.log_likelihood(&c) - generic).abs() < 1e-9);
    }

    #[test]
    fn huge_parameters_are_rejected_rather_than_giving_nan() {
        assert!(Sbg::new(SbgParameters {
            alpha: 1e306,
            beta: 1.0
        })
        .is_err());
        let e = Sbg::new(SbgParameters {
            alpha: 1.0,
            beta: 1e307,
        })
        .unwrap_err();
        assert_eq!(e.name(), "beta");
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        #[test]
        fn no_nan_for_any_valid_parameters(la in -690.0f64..705.0, lb in -690.0f64..705.0, t in any::<u32>()) {
            if let Ok(m) = Sbg::new(SbgParameters { alpha: la.exp(), beta: lb.exp() }) {
                let nan = crate::models::contractual::first_nan(&m, t);
                prop_assert!(nan.is_none(), "{:?}: {:?}", m.parameters(), nan);
            }
        }

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
            let m = Sbg::new(SbgParameters { alpha: a, beta: b }).unwrap();
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
            let m = Sbg::new(SbgParameters { alpha: a, beta: b }).unwrap();
            prop_assert!(m.del(d * 1.1).unwrap() < m.del(d).unwrap());
            prop_assert!(m.derl(d * 1.1, n).unwrap() < m.derl(d, n).unwrap());
        }
    }
}
