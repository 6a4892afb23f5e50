//! The GGompertz/NBD model (Bemmaor & Glady 2012, "Modeling purchasing behavior with sudden
//! 'death': a flexible customer lifetime model", *Management Science* 58(5)), without covariates.
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α) (α per time unit, as in
//! Pareto/NBD). Their lifetime τ has a Gompertz hazard η b e^(bt): P(τ > t | η) =
//! exp(−η(e^(bt) − 1)), with η ~ gamma(s, β) across customers, so that the population survives
//! as S(t) = (β/(β + e^(bt) − 1))^s (the gamma/Gompertz distribution). b is per time unit; β is
//! dimensionless. The hazard of a customer grows with age when b > 0; as b → 0 with β/b fixed,
//! η b ~ gamma(s, β/b) is an exponential lifetime's rate and the model becomes Pareto/NBD.
//!
//! The likelihood of (x, t_x, T),
//!
//! L = Γ(r+x)/Γ(r) α^r [(α+T)^−(r+x) S(T) + ∫_{t_x}^T (α+τ)^−(r+x) f(τ) dτ],  f = −S′,
//!
//! has no closed form: the integral over the unseen death time is taken by adaptive
//! Gauss-Kronrod quadrature, with the gradient integrated alongside (the fit's analytic
//! gradient). Predictions integrate likewise: given the history and being alive at T, the
//! purchase rate is gamma(r + x, α + T) and the remaining lifetime survives u more with
//! probability S(T+u)/S(T).
//!
//! The parts, as for every model of the crate (see [`crate::fit`]): [`GGompertzNbdParams`] (how
//! to fit, implementing [`Fit<Patterns>`](Fit)), [`GGompertzNbd`] (the model, with every
//! prediction of [`TransactionModel`]) and [`GGompertzNbdParameters`] (the values of r, α, b, s
//! and β).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::ggompertz_nbd::{
//!     GGompertzNbd, GGompertzNbdParameters, GGompertzNbdParams,
//! };
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! // (x, t_x, T, number of customers with that pattern), in weeks
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0),
//!     (2, 5.0, 35.0, 8.0), (1, 2.0, 37.0, 10.0), (4, 12.0, 38.0, 4.0), (2, 10.0, 30.0, 6.0),
//! ])?;
//! let start = GGompertzNbdParameters { r: 0.5, alpha: 10.0, b: 0.05, s: 0.5, beta: 1.0 };
//! let fitted = GGompertzNbdParams::new().start(start).fit(&patterns)?;
//! assert!(fitted.report().ok_or("a fitted model has its report")?.converged);
//! let se = fitted.standard_errors().ok_or("and its standard errors")?;
//! assert!(se.b > 0.0);
//! // (A data set without ageing lifetimes ends at the Pareto/NBD limit instead, an error
//! // `FitError::Boundary` with `Limit::NoAgeing`.)
//!
//! let model = GGompertzNbd::new(
//!     GGompertzNbdParameters { r: 0.55, alpha: 10.5, b: 0.05, s: 0.5, beta: 1.5 },
//!     TimeUnit::WEEKS,
//! )?;
//! let heavy = History::new(26, 30.86, 31.0);
//! let p = model.p_alive(&heavy, 0.0)?;
//! assert!(p > 0.9 && p <= 1.0);
//! let expected = model.expected_purchases(&heavy, 52.0)?;
//! assert!(expected > 0.0 && expected.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod likelihood;
#[cfg(test)]
mod tests;

use crate::error::InvalidParameter;
use crate::fit::{BoundaryEstimate, Covariance, Fit, FitError, FitOptions, FitReport, Limit, Pair};
use crate::models::btyd::{
    check_identifiable, discount_rate, finite, fit_log_params_in_units, horizon, integrate,
    ln_nbd_pmf, Prepared, COARSE_ROWS,
};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::TransactionModel;
use crate::optimize::Objective;
use crate::summary::Patterns;
use crate::time::TimeUnit;
use likelihood::{row_likelihood, GGompertzObjective, LifeAt, Lifetime, RowLikelihood};
use statrs::function::gamma::ln_gamma;

pub(crate) use likelihood::ggompertz_ll;

/// The model's name, in errors, reports and the `clv` tool.
const MODEL: &str = "ggom-nbd";
/// The parameter names, in the covariance's order.
const NAMES: [&str; 5] = ["r", "alpha", "b", "s", "beta"];
/// How each parameter scales with the time unit: α is a rate per unit (power 1), b multiplies
/// time (power −1), r, s and β are dimensionless.
const UNIT_POWERS: [i32; 5] = [0, 1, -1, 0, 0];
/// Below this b T (T the oldest customer's age) a fit counts as having reached the no-ageing
/// boundary ([`Limit::NoAgeing`], Pareto/NBD): a hazard that grows by less than 0.1% over the
/// whole observation window. There the likelihood is flat along b → 0 with β/b fixed, and b and
/// β are not estimated (the optimizer stops anywhere on that ridge).
pub(crate) const NO_AGEING: f64 = 1e-3;
/// Relative tolerance of the predictions' quadrature.
const PREDICT_TOLERANCE: f64 = 1e-10;

/// How to fit a GGompertz/NBD model: the optimizer's settings ([`FitOptions`]) and an optional
/// first starting point, checked by [`Fit::check`] before any work. Fit with [`Fit::fit`] on
/// [`Patterns`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GGompertzNbdParams {
    options: FitOptions,
    start: Option<GGompertzNbdParameters>,
}

impl GGompertzNbdParams {
    /// Default options (see [`FitOptions`]), the built-in starting points.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// L2 penalty on the log-parameters (on the rescaled time axis; 0 = plain maximum
    /// likelihood).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.options = self.options.penalty(penalty);
        self
    }

    /// First starting point (α and b in the data's time unit), tried before the built-in ones;
    /// every value must be finite and positive.
    pub fn start(mut self, start: GGompertzNbdParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<Patterns> for GGompertzNbdParams {
    fn warm_started(&self, model: &GGompertzNbd) -> Self {
        self.clone().start(model.parameters)
    }
}

/// The purchase rate's gamma(r, α) and the Gompertz frailty's gamma(s, β), for reading a
/// boundary estimate; b on its own drifting to 0 is the Pareto/NBD limit (with β), to ∞ a
/// lifetime that ends at once.
pub(crate) fn pairs() -> [Pair; 2] {
    [
        Pair::Gamma {
            shape: 0,
            rate: 1,
            heterogeneity: Limit::NoPurchaseHeterogeneity,
            mean_to_zero: None,
        },
        Pair::Gamma {
            shape: 3,
            rate: 4,
            heterogeneity: Limit::NoDropoutHeterogeneity,
            mean_to_zero: Some(Limit::NoDropout),
        },
    ]
}

impl Fit<Patterns> for GGompertzNbdParams {
    type Model = GGompertzNbd;
    type Error = FitError;

    /// Checks the fit options and the starting point.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first option or starting value out of range.
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if let Some(start) = &self.start {
            for (name, value) in NAMES.into_iter().zip(start.to_array()) {
                InvalidParameter::positive(name, value)?;
            }
        }
        Ok(())
    }

    /// Fits the model by maximum likelihood (the likelihood's integral and its gradient by
    /// adaptive Gauss-Kronrod quadrature), with the covariance of (r, α, b, s, β) from the
    /// Hessian (delta method).
    ///
    /// # Errors
    /// - [`FitError::InvalidParameter`]: an option or starting value is out of range (see
    ///   [`Fit::check`]);
    /// - [`FitError::NoData`]: no patterns, or no customer with a repeat purchase;
    /// - [`FitError::OutOfRange`]: a total weight or an age beyond
    ///   [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) or
    ///   [`MAX_TIME_SPAN`](crate::fit::MAX_TIME_SPAN);
    /// - [`FitError::NotIdentified`]: no time observed, or fewer than 5 distinct histories;
    /// - [`FitError::Boundary`]: the likelihood rises towards a limit, with the last estimate and
    ///   what the limit means: [`Limit::NoAgeing`] when b → 0 with β/b fixed (b T below 10⁻³
    ///   for the oldest customer's age T), the Pareto/NBD model, whose dropout rate η b is
    ///   gamma(s, β/b) (the estimate lists r, alpha, b, s, beta and the ratio "beta/b": fit
    ///   [`ParetoNbd`](crate::models::ParetoNbd) instead); s and β → ∞ a lifetime without
    ///   heterogeneity; s/β → 0 nobody dropping out;
    /// - [`FitError::Optimizer`]: no start converged;
    /// - [`FitError::Numerical`]: the estimate, its Hessian or its covariance is not finite, or
    ///   the negative Hessian is not positive definite.
    fn fit(&self, patterns: &Patterns) -> Result<GGompertzNbd, FitError> {
        self.check()?;
        check_identifiable(MODEL, patterns, 5)?;
        let data = Prepared::new(patterns, true);
        let to_theta = |p: [f64; 5]| -> Vec<f64> {
            p.iter()
                .zip(UNIT_POWERS)
                .map(|(v, k)| (v / data.scale.powi(k)).ln())
                .collect()
        };
        let mut starts = Vec::new();
        if let Some(s) = &self.start {
            starts.push(to_theta(s.to_array()));
        }
        // On the rescaled axis (the mean age is 1): r, α, b, s, β.
        starts.push(vec![0.0; 5]);
        starts.push(
            [0.5f64, 0.2, 0.5, 0.5, 0.5]
                .iter()
                .map(|v| v.ln())
                .collect(),
        );
        starts.push(
            [1.0f64, 0.5, 0.05, 1.0, 0.1]
                .iter()
                .map(|v| v.ln())
                .collect(),
        );
        let objective = GGompertzObjective { data: &data };
        let thin = data.thinned(COARSE_ROWS);
        let coarse = thin.as_ref().map(|data| GGompertzObjective { data });
        let fitted = fit_log_params_in_units::<5>(
            MODEL,
            &NAMES,
            &pairs(),
            &objective,
            coarse.as_ref().map(|c| c as &dyn Objective),
            &starts,
            &self.options,
            data.scale,
            &UNIT_POWERS,
            -data.weighted_x * data.scale.ln(),
        )?;
        let oldest = patterns.iter().map(|p| p.age()).fold(0.0, f64::max);
        let [_, _, b, _, beta] = fitted.params;
        if b * oldest < NO_AGEING {
            let mut estimate: Vec<(String, f64)> = NAMES
                .iter()
                .zip(fitted.params)
                .map(|(name, v)| (name.to_string(), v))
                .collect();
            estimate.push(("beta/b".into(), beta / b));
            return Err(FitError::Boundary {
                model: MODEL,
                boundary: Box::new(BoundaryEstimate {
                    limits: vec![Limit::NoAgeing],
                    estimate,
                    population_mean_spend: None,
                    report: Some(fitted.report),
                }),
            });
        }
        let mut model = GGompertzNbd::new(
            GGompertzNbdParameters::from_array(fitted.params),
            patterns.unit(),
        )
        .map_err(|e| FitError::Numerical {
            model: MODEL,
            detail: format!("estimate: {e}"),
        })?;
        model.covariance = Some(fitted.covariance);
        model.report = Some(fitted.report);
        Ok(model)
    }
}

/// The five GGompertz/NBD parameters: the values of a model, its starting point, or the
/// standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GGompertzNbdParameters {
    /// r: shape of the purchase-rate gamma distribution (dimensionless).
    pub r: f64,
    /// α: rate of the purchase-rate gamma distribution, in the model's time unit (the mean
    /// purchase rate while alive is r/α per time unit).
    pub alpha: f64,
    /// b: the Gompertz lifetime's rate of ageing, per time unit (a customer's hazard grows as
    /// e^(bt)).
    pub b: f64,
    /// s: shape of the gamma distribution of the Gompertz frailty η (dimensionless).
    pub s: f64,
    /// β: rate of the gamma distribution of the Gompertz frailty η (dimensionless: η multiplies
    /// e^(bt) − 1).
    pub beta: f64,
}

impl GGompertzNbdParameters {
    fn from_array([r, alpha, b, s, beta]: [f64; 5]) -> Self {
        GGompertzNbdParameters {
            r,
            alpha,
            b,
            s,
            beta,
        }
    }

    fn to_array(self) -> [f64; 5] {
        [self.r, self.alpha, self.b, self.s, self.beta]
    }
}

/// A fitted (or given) GGompertz/NBD model: its parameters, their covariance and the fit's
/// report when fitted, and the time unit of α and b.
///
/// Serializes its parameters, covariance, report and unit; deserializes only through
/// [`GGompertzNbd::new`]'s checks, with a covariance of r, alpha, b, s and beta (in that order).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "GGompertzNbdData"))]
pub struct GGompertzNbd {
    parameters: GGompertzNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

/// A [`GGompertzNbd`] as stored, before its checks.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct GGompertzNbdData {
    parameters: GGompertzNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<GGompertzNbdData> for GGompertzNbd {
    type Error = InvalidParameter;
    fn try_from(data: GGompertzNbdData) -> Result<Self, Self::Error> {
        let mut model = GGompertzNbd::new(data.parameters, data.unit)?;
        if let Some(covariance) = &data.covariance {
            covariance.check_names(&NAMES)?;
        }
        model.covariance = data.covariance;
        model.report = data.report;
        Ok(model)
    }
}

impl GGompertzNbd {
    /// A model with given parameters (α and b per `unit`; for example from a previous fit or a
    /// paper), all finite and positive. It has no covariance or report.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first parameter that is not finite and positive.
    pub fn new(
        parameters: GGompertzNbdParameters,
        unit: TimeUnit,
    ) -> Result<Self, InvalidParameter> {
        for (name, value) in NAMES.into_iter().zip(parameters.to_array()) {
            InvalidParameter::positive(name, value)?;
        }
        Ok(GGompertzNbd {
            parameters,
            covariance: None,
            report: None,
            unit,
        })
    }

    /// The parameters (α and b per [`GGompertzNbd::unit`]).
    pub fn parameters(&self) -> GGompertzNbdParameters {
        self.parameters
    }

    /// Standard errors of (r, α, b, s, β): the square roots of the covariance's diagonal;
    /// `None` without a covariance (a model built by [`GGompertzNbd::new`]).
    pub fn standard_errors(&self) -> Option<GGompertzNbdParameters> {
        let covariance = self.covariance.as_ref()?;
        let se = |i| covariance.get(i, i).map(f64::sqrt);
        Some(GGompertzNbdParameters {
            r: se(0)?,
            alpha: se(1)?,
            b: se(2)?,
            s: se(3)?,
            beta: se(4)?,
        })
    }

    /// The covariance of (r, α, b, s, β) at the estimate (delta method from the Hessian in
    /// log-parameters); `None` for a model built by [`GGompertzNbd::new`].
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The fit's report; `None` for a model built by [`GGompertzNbd::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The time unit of α, b, histories and horizons.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Total log-likelihood of weighted patterns (in the model's time unit).
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the value is not finite.
    pub fn total_log_likelihood(&self, patterns: &Patterns) -> Result<f64, PredictError> {
        let data = Prepared::new(patterns, false);
        let theta = self.parameters.to_array().map(f64::ln);
        finite("log-likelihood", ggompertz_ll(&data, &theta).0)
    }

    fn lifetime(&self) -> Lifetime {
        let p = self.parameters;
        Lifetime::new(p.b, p.s, p.beta)
    }

    fn row(&self, h: &History) -> Result<RowLikelihood, PredictError> {
        h.validate()?;
        let p = self.parameters;
        row_likelihood(
            &self.lifetime(),
            p.r,
            p.alpha,
            f64::from(h.frequency),
            h.recency,
            h.age,
        )
    }

    /// P(alive at T) = A / (A + I).
    fn p_alive_now(&self, h: &History) -> Result<f64, PredictError> {
        let row = self.row(h)?;
        finite("p_alive", (row.ln_alive - row.ln_total).exp().min(1.0))
    }

    /// ln(S(T+u)/S(T)) = −s ln(D(T+u)/D(T)) with D(T+u)/D(T) = 1 + g (e^(bu) − 1),
    /// g = e^(bT)/D(T): the probability that a customer alive at T (the age at `now`) lives u
    /// more.
    fn ln_survival_ratio(&self, now: &LifeAt, u: f64) -> f64 {
        let p = self.parameters;
        let bu = p.b * u;
        let g = now.growth_over_d;
        let ln_ratio = if bu < 30.0 {
            (g * bu.exp_m1()).ln_1p()
        } else {
            // 1 + g(e^(bu) − 1) = g e^(bu) (1 + (1/g − 1) e^(−bu)), 1/g − 1 = (β − 1) e^(−bT)
            g.ln() + bu + ((1.0 / g - 1.0) * (-bu).exp()).ln_1p()
        };
        -p.s * ln_ratio
    }

    /// ∫₀ᵗ S(T+u)/S(T) du: the expected time alive in (T, T + t] of a customer alive at T.
    fn expected_time_alive(&self, age: f64, t: f64) -> Result<f64, PredictError> {
        if t == 0.0 {
            return Ok(0.0);
        }
        let now = self.lifetime().at(age);
        integrate(
            "expected purchases",
            |u: f64| Ok(self.ln_survival_ratio(&now, u).exp()),
            0.0,
            t,
            PREDICT_TOLERANCE,
        )
    }

    /// ∫₀^∞ e^(−δu) S(T+u)/S(T) du, as (1/δ) ∫₀¹ S(T+u)/S(T) dv with u = −ln(v)/δ.
    fn discounted_time_alive(&self, age: f64, rate: f64) -> Result<f64, PredictError> {
        let now = self.lifetime().at(age);
        let v = integrate(
            "dert",
            |v: f64| {
                if v <= 0.0 {
                    return Ok(0.0);
                }
                let u = -v.ln() / rate;
                Ok(self.ln_survival_ratio(&now, u).exp())
            },
            0.0,
            1.0,
            PREDICT_TOLERANCE,
        )?;
        Ok(v / rate)
    }

    /// P(exactly n purchases in (T, T + t]) of a customer alive at age T whose purchase rate is
    /// gamma(k, a): they either survive the window, or die at T + u < T + t:
    /// NBD(n; t) S(T+t)/S(T) + ∫₀ᵗ NBD(n; u) f(T+u)/S(T) du.
    fn alive_pmf(&self, n: u32, k: f64, a: f64, age: f64, t: f64) -> Result<f64, PredictError> {
        let life = self.lifetime();
        let now = life.at(age);
        let survive = (ln_nbd_pmf(n, k, a, t) + self.ln_survival_ratio(&now, t)).exp();
        if t == 0.0 {
            return Ok(survive);
        }
        let ln_s_now = life.ln_survival(&now);
        let die = integrate(
            "purchase probability",
            |u: f64| {
                let at = life.at(age + u);
                Ok((ln_nbd_pmf(n, k, a, u) + life.ln_density(&at) - ln_s_now).exp())
            },
            0.0,
            t,
            PREDICT_TOLERANCE,
        )?;
        finite("purchase probability", (survive + die).clamp(0.0, 1.0))
    }
}

crate::models::uncertainty::reparameterize!(
    GGompertzNbd,
    NAMES,
    |m| m.parameters.to_array(),
    |m, v| GGompertzNbd::new(GGompertzNbdParameters::from_array(v), m.unit)
);

impl TransactionModel for GGompertzNbd {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_transaction(self, values)
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        NAMES
            .iter()
            .zip(self.parameters.to_array())
            .map(|(name, v)| (name.to_string(), v))
            .collect()
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    fn name(&self) -> &str {
        MODEL
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn parameter_count(&self) -> usize {
        5
    }
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError> {
        let row = self.row(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let c = ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * p.alpha.ln();
        finite("log-likelihood", c + row.ln_total)
    }
    /// P(alive at T) (the share of the likelihood from lifetimes beyond T) times the survival
    /// S(T+t)/S(T).
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let at = self.lifetime().at(history.age);
        finite("p_alive", now * self.ln_survival_ratio(&at, t).exp())
    }
    /// P(alive) (r+x)/(α+T) ∫₀ᵗ S(T+u)/S(T) du (the integral by adaptive Gauss-Kronrod).
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let rate = (p.r + f64::from(history.frequency)) / (p.alpha + history.age);
        let alive = self.expected_time_alive(history.age, t)?;
        finite("expected purchases", now * rate * alive)
    }
    /// P(no purchase and dead at T) for n = 0, plus P(alive) times the probability of n
    /// purchases of a customer alive at T (surviving the window, or dying within it: the
    /// integral over the death time by adaptive Gauss-Kronrod).
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let alive = self.alive_pmf(n, p.r + x, p.alpha + history.age, history.age, t)?;
        let dead = if n == 0 { 1.0 - now } else { 0.0 };
        finite("purchase probability", (dead + now * alive).clamp(0.0, 1.0))
    }
    /// P(alive) (r+x)/(α+T) ∫₀^∞ e^(−δu) S(T+u)/S(T) du (the integral by adaptive
    /// Gauss-Kronrod after u = −ln(v)/δ).
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError> {
        let rate = discount_rate(rate)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let purchase_rate = (p.r + f64::from(history.frequency)) / (p.alpha + history.age);
        let alive = self.discounted_time_alive(history.age, rate)?;
        finite("dert", now * purchase_rate * alive)
    }
}
