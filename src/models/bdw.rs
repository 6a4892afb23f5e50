//! Beta-discrete-Weibull (BdW) model of contract lifetimes: Fader, Hardie, Liu, Davin &
//! Steenburgh (2018), "'How to project customer retention' revisited: the role of duration
//! dependence", *Journal of Interactive Marketing* 43.
//!
//! The sBG model plus duration dependence: an individual with churn parameter θ survives t
//! periods with probability (1 − θ)^{t^c}; θ ~ Beta(α, β). Then S(t) = B(α, β + t^c)/B(α, β).
//! c < 1 means individual churn probabilities fall with tenure, c > 1 that they rise; c = 1 is
//! exactly the sBG model. DEL, DERL and the expected lifetime have no closed form and are summed
//! numerically (the trait's defaults). Fitted by maximum likelihood on [`Cohort`]s of survivors.
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::bdw::{Bdw, BdwParameters, BdwParams};
//! use customer_assets::models::contractual::{Cohort, RetentionModel};
//!
//! // A model from known parameters ...
//! let model = Bdw::new(BdwParameters { alpha: 0.7, beta: 1.2, c: 0.8 })?;
//! assert!(model.survival(2) < model.survival(1));
//! assert!(model.derl(0.1, 3)? > 0.0);
//! // ... or fitted on cohorts: customers still active at the start of years 0 to 7.
//! let high_end = Cohort::new("high end", vec![1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0])?;
//! let fitted = BdwParams::new().fit(&[high_end])?;
//! assert!(fitted.parameters().c > 1.0); // churn rises with tenure
//! assert!(fitted.report().is_some_and(|r| r.converged));
//! assert_eq!(fitted.covariance().map(|c| c.names().len()), Some(3));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::contractual::{
    check_cohorts, churn_pair, cohort_log_likelihood, Cohort, RetentionModel,
};
use crate::models::sbg::check_beta;
use crate::optimize::{maximize_log_parameters, natural_covariance, Objective};
use crate::special::{ln_beta, ln_beta_grad, ln_beta_shift};

/// The model's name in errors and reports.
const NAME: &str = "bdw";
/// The parameter names, in the order of the covariance.
const PARAMETER_NAMES: [&str; 3] = ["alpha", "beta", "c"];

/// The BdW parameters (or their standard errors): θ ~ Beta(α, β) and the duration-dependence
/// exponent c, for lifetimes in periods.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BdwParameters {
    /// α of the churn-parameter Beta distribution.
    pub alpha: f64,
    /// β of the churn-parameter Beta distribution.
    pub beta: f64,
    /// c, the duration dependence (1 = none: the sBG model).
    pub c: f64,
}

impl BdwParameters {
    /// Every parameter finite and positive, and ln B(α, β) finite.
    fn check(self) -> Result<Self, InvalidParameter> {
        check_beta(self.alpha, self.beta)?;
        InvalidParameter::positive("c", self.c)?;
        Ok(self)
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

/// ln S(t) = ln B(α, β + t^c) − ln B(α, β) for the predictions, by
/// [`ln_beta_shift`](crate::special::ln_beta_shift): exact to rounding however large β + t^c is
/// (the plain difference of ln Γ values keeps no digit past 1e12 and can come out positive);
/// −∞ when t^c overflows.
fn ln_s(a: f64, b: f64, c: f64, t: f64) -> f64 {
    if t == 0.0 {
        return 0.0;
    }
    ln_beta_shift(a, b, t.powf(c))
}

/// ln S(t) − ln S(t−1) = ln B(α, β + t^c) − ln B(α, β + (t−1)^c), t ≥ 1, directly: the
/// difference of the two log-survivals loses their size in digits (ln S of −5e5 left a
/// retention rate of 1 + 1e-9). The step t^c − (t−1)^c is (t−1)^c (e^(c ln(1 + 1/(t−1))) − 1).
fn ln_step(a: f64, b: f64, c: f64, t: f64) -> f64 {
    let before = t - 1.0;
    if before == 0.0 {
        return ln_s(a, b, c, t);
    }
    let previous = before.powf(c);
    let step = previous * (c * (1.0 / before).ln_1p()).exp_m1();
    if !previous.is_finite() {
        return f64::NEG_INFINITY;
    }
    ln_beta_shift(a, b + previous, step)
}

/// ln P(T = t) = ln(S(t−1) − S(t)) = ln S(t−1) + ln(1 − e^(ln S(t) − ln S(t−1))) for the
/// predictions; −∞ where S(t−1) = 0 or S(t) rounds to S(t−1).
fn ln_p(a: f64, b: f64, c: f64, t: f64) -> f64 {
    let l0 = ln_s(a, b, c, t - 1.0);
    if l0 == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    // NaN.max(0.0) is 0.0: ln P = −∞ rather than NaN.
    l0 + (-ln_step(a, b, c, t).exp_m1()).max(0.0).ln()
}

/// The BdW model: its parameters and, when fitted, their covariance and the fit report.
///
/// Built from known parameters with [`Bdw::new`] or fitted with
/// [`BdwParams`]`::new().fit(&cohorts)`. Serialized with its parameters, covariance and report;
/// deserialization checks the parameters as [`Bdw::new`] does.
///
/// ```
/// use customer_assets::models::bdw::{Bdw, BdwParameters};
/// use customer_assets::models::contractual::RetentionModel;
/// let m = Bdw::new(BdwParameters { alpha: 0.7, beta: 1.2, c: 0.8 })?;
/// assert!(m.survival(2) < m.survival(1));
/// assert!(m.derl(0.1, 3)? > 0.0);
/// assert!(Bdw::new(BdwParameters { alpha: 0.7, beta: 1.2, c: 0.0 }).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "BdwData"))]
pub struct Bdw {
    parameters: BdwParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
}

/// The serialized form, checked by [`Bdw::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct BdwData {
    parameters: BdwParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
}

#[cfg(feature = "serde")]
impl TryFrom<BdwData> for Bdw {
    type Error = InvalidParameter;
    fn try_from(d: BdwData) -> Result<Self, InvalidParameter> {
        let mut model = Bdw::new(d.parameters)?;
        if let Some(covariance) = &d.covariance {
            covariance.check_names(&PARAMETER_NAMES)?;
        }
        model.covariance = d.covariance;
        model.report = d.report;
        Ok(model)
    }
}

impl Bdw {
    /// A model at known parameters, without covariance or fit report.
    ///
    /// # Errors
    /// [`InvalidParameter`] when a parameter is not finite and positive, or α or β so large
    /// (about 1e305) that ln B(α, β) overflows.
    pub fn new(parameters: BdwParameters) -> Result<Self, InvalidParameter> {
        Ok(Bdw {
            parameters: parameters.check()?,
            covariance: None,
            report: None,
        })
    }
    /// The parameters.
    pub fn parameters(&self) -> BdwParameters {
        self.parameters
    }
    /// Standard errors of the parameters, the square roots of the covariance's diagonal; `None`
    /// unless fitted with a positive definite information matrix.
    pub fn standard_errors(&self) -> Option<BdwParameters> {
        match self.covariance.as_ref()?.standard_errors()[..] {
            [alpha, beta, c] => Some(BdwParameters { alpha, beta, c }),
            _ => None,
        }
    }
    /// The covariance of the fitted parameters (named as in [`BdwParameters`]); `None` when built
    /// by [`Bdw::new`] or when the information matrix is not positive definite.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    /// The fit's diagnostics (total log-likelihood, iterations, gradient norm, convergence);
    /// `None` when built by [`Bdw::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
}

crate::models::uncertainty::reparameterize!(
    Bdw,
    PARAMETER_NAMES,
    |m| [m.parameters.alpha, m.parameters.beta, m.parameters.c],
    |_m, v| {
        let [alpha, beta, c] = v;
        Bdw::new(BdwParameters { alpha, beta, c })
    }
);

impl RetentionModel for Bdw {
    fn name(&self) -> &str {
        NAME
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let BdwParameters { alpha, beta, c } = self.parameters;
        vec![
            ("alpha".into(), alpha),
            ("beta".into(), beta),
            ("c".into(), c),
        ]
    }
    fn ln_survival(&self, t: u32) -> f64 {
        let BdwParameters { alpha, beta, c } = self.parameters;
        ln_s(alpha, beta, c, t as f64)
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    fn parameter_count(&self) -> usize {
        3
    }
    fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let BdwParameters { alpha, beta, c } = self.parameters;
        ln_p(alpha, beta, c, t as f64).exp()
    }
    /// S(t)/S(t−1) from the one-period step of ln B, never above 1.
    fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return 1.0;
        }
        let BdwParameters { alpha, beta, c } = self.parameters;
        if ln_s(alpha, beta, c, f64::from(t - 1)) == f64::NEG_INFINITY {
            return 0.0;
        }
        ln_step(alpha, beta, c, f64::from(t)).exp()
    }
    fn log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        let BdwParameters { alpha, beta, c } = self.parameters;
        let ll = cohort_ll_grad(&[alpha, beta, c], cohorts).0;
        if ll.is_nan() {
            cohort_log_likelihood(
                cohorts,
                |t| ln_p(alpha, beta, c, t as f64),
                |t| ln_s(alpha, beta, c, t as f64),
            )
        } else {
            ll
        }
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

/// How to fit BdW: the fit options (L-BFGS, starts, penalty). Fits with [`Fit`]:
/// `BdwParams::new().fit(&cohorts)?` gives a [`Bdw`].
///
/// ```
/// use customer_assets::fit::{Fit, FitOptions};
/// use customer_assets::models::bdw::BdwParams;
/// use customer_assets::simulate::RetentionProcess;
/// let cohorts = [RetentionProcess::bdw(1.1, 3.0, 0.7)?.cohort("c", 5_000, 12, 1)?];
/// let model = BdwParams::new().fit_options(FitOptions::new().seed(7)).fit(&cohorts)?;
/// assert!(model.report().is_some_and(|r| r.converged));
/// assert!(BdwParams::new().penalty(f64::NAN).fit(&cohorts).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BdwParams {
    options: FitOptions,
    start: Option<BdwParameters>,
}

impl BdwParams {
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
    pub fn start(mut self, start: BdwParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<[Cohort]> for BdwParams {
    fn warm_started(&self, model: &Bdw) -> Self {
        self.clone().start(model.parameters)
    }
}

impl Fit<[Cohort]> for BdwParams {
    type Model = Bdw;
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
    /// with fewer than 3 observed periods, [`FitError::Boundary`] when nobody churns, everybody
    /// churns at once, or the estimate heads for another limit, [`FitError::Optimizer`] when the
    /// fit does not converge (with the optimizer's report), and [`FitError::Numerical`] when the
    /// estimate is not a valid parameter set.
    fn fit(&self, cohorts: &[Cohort]) -> Result<Bdw, FitError> {
        self.check()?;
        if cohorts.is_empty() {
            return Err(FitError::NoData {
                model: NAME,
                reason: "no cohorts",
            });
        }
        check_cohorts(NAME, cohorts, 3)?;
        let (p, max) = maximize_log_parameters::<3>(
            NAME,
            &BdwObjective { cohorts },
            &self.options,
            &PARAMETER_NAMES,
            &[churn_pair()],
            self.start.map(|p| [p.alpha, p.beta, p.c]),
        )?;
        let mut model = Bdw::new(BdwParameters {
            alpha: p[0],
            beta: p[1],
            c: p[2],
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
    use crate::models::sbg::{Sbg, SbgParameters};
    use proptest::prelude::*;
    use statrs::function::gamma::ln_gamma;

    /// Past β + t^c = 1e12 the plain difference of ln Γ values kept no digit: survival came out
    /// 3.34 or 1e15, churn above 1, projections rose. The survival is now a falling probability.
    #[test]
    fn survival_keeps_its_digits_when_beta_plus_t_to_the_c_is_huge() {
        for (alpha, beta, c) in [
            (0.5, 1e6, 5.0),
            (2.0, 1e12, 1.0),
            (1e-6, 1e6, 30.0),
            (0.7, 3e5, 2.5),
        ] {
            let m = Bdw::new(BdwParameters { alpha, beta, c }).unwrap();
            let mut previous = 1.0;
            for t in [1, 2, 10, 1000, 13_691, 13_692, 100_000, 1_000_000, u32::MAX] {
                let s = m.survival(t);
                assert!(
                    (0.0..=previous).contains(&s),
                    "{alpha} {beta} {c}: S({t}) = {s:e} after {previous:e}"
                );
                previous = s;
                assert!((0.0..=1.0).contains(&m.churn_probability(t)));
            }
        }
        // ln S(t) near −5e5: the retention rate comes from the one-period step, not the
        // difference of two log-survivals (which gave 1 + 9.3e-10).
        let m = Bdw::new(BdwParameters {
            alpha: 651_817.190_834_984_4,
            beta: 1.0,
            c: 0.010_238_452_121_390_615,
        })
        .unwrap();
        for t in [1, 2, 114_098_495, 228_196_990, u32::MAX] {
            let r = m.retention_rate(t);
            assert!((0.0..=1.0).contains(&r), "retention({t}) = {r:e}");
        }
        // One step at β = 1e12, c = 1 is the sBG ratio β/(α + β), to the last digits.
        let m = Bdw::new(BdwParameters {
            alpha: 2.0,
            beta: 1e12,
            c: 1.0,
        })
        .unwrap();
        let want = -(2.0f64 / 1e12).ln_1p();
        assert!((m.ln_survival(1) - want).abs() < 1e-12 * want.abs());
    }

    fn cohorts() -> Vec<Cohort> {
        vec![
            Cohort::new("a", vec![1000.0, 869.0, 743.0, 653.0, 593.0, 551.0]).unwrap(),
            Cohort::new("b", vec![300.0, 200.0, 150.0]).unwrap(),
        ]
    }

    #[test]
    fn numerical_expected_lifetime_matches_the_sbg_closed_form() {
        for (a, b) in [(2.5, 3.0), (1.6, 0.8), (4.0, 10.0)] {
            let bdw = Bdw::new(BdwParameters {
                alpha: a,
                beta: b,
                c: 1.0,
            })
            .unwrap();
            let sbg = Sbg::new(SbgParameters { alpha: a, beta: b }).unwrap();
            let (x, y) = (
                bdw.expected_lifetime().unwrap(),
                sbg.expected_lifetime().unwrap(),
            );
            assert!((x - y).abs() < 1e-3 * y, "{a} {b}: {x} vs {y}");
        }
        // Heavy tail: c·α ≤ 1 has no finite mean.
        let heavy = Bdw::new(BdwParameters {
            alpha: 0.7,
            beta: 1.2,
            c: 1.0,
        })
        .unwrap();
        assert!(heavy.expected_lifetime().is_err());
    }

    #[test]
    fn survival_past_the_range_of_ln_gamma_is_not_nan() {
        // β + t^c beyond ~1e305 overflows ln Γ; beyond f64::MAX it is infinite.
        let m = Bdw::new(BdwParameters {
            alpha: 0.5,
            beta: 1.0,
            c: 50.0,
        })
        .unwrap();
        let t: u32 = 1_300_000; // t^c ≈ 5e305
        let s = m.ln_survival(t);
        let y = 1.0 + f64::from(t).powf(50.0);
        let asymptotic = ln_gamma(0.5) - 0.5 * y.ln() - ln_beta(0.5, 1.0);
        assert!(
            (s - asymptotic).abs() < 1e-9 * asymptotic.abs(),
            "{s} vs {asymptotic}"
        );
        let far = m.ln_survival(100_000_000); // t^c = 1e400 = ∞
        assert_eq!(far, f64::NEG_INFINITY);
        assert!(crate::models::contractual::first_nan(&m, 100_000_000).is_none());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(48))]
        #[test]
        fn no_nan_for_any_valid_parameters(
            la in -690.0f64..705.0, lb in -690.0f64..705.0, lc in -7.0f64..7.0, t in any::<u32>(),
        ) {
            if let Ok(m) = Bdw::new(BdwParameters { alpha: la.exp(), beta: lb.exp(), c: lc.exp() }) {
                let nan = crate::models::contractual::first_nan(&m, t);
                prop_assert!(nan.is_none(), "{:?}: {:?}", m.parameters(), nan);
                let small = crate::models::contractual::first_nan(&m, t % 100);
                prop_assert!(small.is_none(), "{:?}: {:?}", m.parameters(), small);
            }
        }

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
            let bdw = Bdw::new(BdwParameters { alpha: a, beta: b, c: 1.0 }).unwrap();
            let sbg = Sbg::new(SbgParameters { alpha: a, beta: b }).unwrap();
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
            let m = Bdw::new(BdwParameters { alpha: a, beta: b, c }).unwrap();
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
            let m = Bdw::new(BdwParameters { alpha: a, beta: b, c }).unwrap();
            prop_assert!(m.del(d * 1.1).unwrap() < m.del(d).unwrap());
            prop_assert!(m.derl(d * 1.1, n).unwrap() < m.derl(d, n).unwrap());
        }
    }
}
