//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who
//! are they and what will they do next?", *Management Science* 33(1)), with the likelihood of
//! Fader & Hardie's note "A note on implementing the Pareto/NBD model in MATLAB" and the DERT of
//! Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", *JMR* 42(4).
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α); their lifetime is exponential
//! with rate μ ~ gamma(s, β) (α and β per time unit). Everything is computed in log space, so
//! heavy buyers (x in the thousands) get finite, correct answers.
//!
//! The parts, as for every model of the crate (see [`crate::fit`]): [`ParetoNbdParams`] (how to
//! fit, implementing [`Fit<Patterns>`](Fit)), [`ParetoNbd`] (the model, with every prediction of
//! [`TransactionModel`]) and [`ParetoNbdParameters`] (the values of r, α, s and β).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! // (x, t_x, T, number of customers with that pattern), in weeks
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0),
//!     (2, 5.0, 35.0, 8.0), (1, 2.0, 37.0, 10.0), (4, 12.0, 38.0, 4.0),
//! ])?;
//! let fitted = ParetoNbdParams::new().fit(&patterns)?;
//! assert!(fitted.report().ok_or("a fitted model has its report")?.converged);
//! let se = fitted.standard_errors().ok_or("and its standard errors")?;
//! assert!(se.r > 0.0);
//!
//! // The CDNOW estimates (Fader, Hardie & Lee 2005), per week
//! let cdnow = ParetoNbdParameters { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
//! let model = ParetoNbd::new(cdnow, TimeUnit::WEEKS)?;
//! let heavy = History::new(221, 103.43, 103.57);
//! let p = model.p_alive(&heavy, 0.0)?;
//! assert!(p > 0.99 && p <= 1.0);
//! assert!((model.expected_purchases_new(52.0)? - 1.473).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod likelihood;
mod tricomi;

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::btyd::{
    btyd_pairs, check_identifiable, discount_rate, finite, fit_log_params, horizon, integrate,
    ln_nbd_pmf, Prepared, COARSE_ROWS,
};
use crate::special::{inv_one_plus_exp, log_sum_exp as lse, one_minus_exp_over};

use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::{batch_with, BatchPredictions, TransactionModel};
use crate::optimize::Objective;
use crate::summary::Patterns;
use crate::time::TimeUnit;
pub(crate) use likelihood::pareto_ll;
use likelihood::{row_terms, ParetoObjective, RowTerms};
use statrs::function::gamma::ln_gamma;
use tricomi::scaled_upper_gamma;

/// The Pareto/NBD log-likelihood and its gradient in (ln r, ln α, ln s, ln β), for the tests of
/// the prepared data.
#[cfg(test)]
pub(crate) fn likelihood_for_tests(data: &Prepared, theta: &[f64]) -> (f64, [f64; 4]) {
    pareto_ll(data, theta)
}

pub use tricomi::tricomi_u_diagonal;

/// The model's name, in errors and reports.
const MODEL: &str = "pareto-nbd";
/// The parameter names, in the covariance's order.
const NAMES: [&str; 4] = ["r", "alpha", "s", "beta"];

/// How to fit a Pareto/NBD model: the optimizer's settings ([`FitOptions`]) and an optional first
/// starting point, checked by [`Fit::check`] before any work. Fit with [`Fit::fit`] on
/// [`Patterns`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParetoNbdParams {
    options: FitOptions,
    start: Option<ParetoNbdParameters>,
}

impl ParetoNbdParams {
    /// Default options (see [`FitOptions`]), the built-in starting points.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// L2 penalty on the log-parameters (on the rescaled time axis; 0 = plain maximum likelihood).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.options = self.options.penalty(penalty);
        self
    }

    /// First starting point (α and β in the data's time unit), tried before the built-in ones;
    /// every value must be finite and positive.
    pub fn start(mut self, start: ParetoNbdParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<Patterns> for ParetoNbdParams {
    fn warm_started(&self, model: &ParetoNbd) -> Self {
        self.clone().start(model.parameters)
    }
}

impl Fit<Patterns> for ParetoNbdParams {
    type Model = ParetoNbd;
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

    /// Fits the model by maximum likelihood (analytic gradients through ln ₂F₁), with the
    /// covariance of (r, α, s, β) from the Hessian (delta method).
    ///
    /// # Errors
    /// - [`FitError::InvalidParameter`]: an option or starting value is out of range (see
    ///   [`Fit::check`]);
    /// - [`FitError::NoData`]: no patterns, or no customer with a repeat purchase;
    /// - [`FitError::OutOfRange`]: a total weight or an age beyond
    ///   [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) or
    ///   [`MAX_TIME_SPAN`](crate::fit::MAX_TIME_SPAN);
    /// - [`FitError::NotIdentified`]: no time observed, or fewer than 4 distinct histories;
    /// - [`FitError::Boundary`]: the likelihood rises towards a limit (such as nobody dropping
    ///   out), with the last estimate and what the limit means;
    /// - [`FitError::Optimizer`]: no start converged;
    /// - [`FitError::Numerical`]: the estimate, its Hessian or its covariance is not finite, or
    ///   the negative Hessian is not positive definite.
    fn fit(&self, patterns: &Patterns) -> Result<ParetoNbd, FitError> {
        self.check()?;
        check_identifiable(MODEL, patterns, 4)?;
        let data = Prepared::new(patterns, true);
        let mut starts = Vec::new();
        if let Some(s) = &self.start {
            starts.push(vec![
                s.r.ln(),
                (s.alpha / data.scale).ln(),
                s.s.ln(),
                (s.beta / data.scale).ln(),
            ]);
        }
        starts.push(vec![0.0, 0.0, 0.0, 0.0]);
        starts.push(vec![
            (0.5f64).ln(),
            (0.3f64).ln(),
            (0.5f64).ln(),
            (0.3f64).ln(),
        ]);
        starts.push(vec![
            (2.0f64).ln(),
            (2.0f64).ln(),
            (2.0f64).ln(),
            (4.0f64).ln(),
        ]);
        let objective = ParetoObjective { data: &data };
        let thin = data.thinned(COARSE_ROWS);
        let coarse = thin.as_ref().map(|data| ParetoObjective { data });
        let fitted = fit_log_params::<4>(
            MODEL,
            &NAMES,
            &btyd_pairs(true),
            &objective,
            coarse.as_ref().map(|c| c as &dyn Objective),
            &starts,
            &self.options,
            data.scale,
            &[1, 3],
            -data.weighted_x * data.scale.ln(),
        )?;
        let mut model = ParetoNbd::new(
            ParetoNbdParameters::from_array(fitted.params),
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

/// The four Pareto/NBD parameters: the values of a model, its starting point, or the
/// standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParetoNbdParameters {
    /// r: shape of the purchase-rate gamma distribution (dimensionless).
    pub r: f64,
    /// α: rate of the purchase-rate gamma distribution, in the model's time unit (the mean
    /// purchase rate while alive is r/α per time unit).
    pub alpha: f64,
    /// s: shape of the dropout-rate gamma distribution (dimensionless).
    pub s: f64,
    /// β: rate of the dropout-rate gamma distribution, in the model's time unit (the mean
    /// dropout rate is s/β per time unit).
    pub beta: f64,
}

impl ParetoNbdParameters {
    fn from_array([r, alpha, s, beta]: [f64; 4]) -> Self {
        ParetoNbdParameters { r, alpha, s, beta }
    }

    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }
}

/// A fitted (or given) Pareto/NBD model: its parameters, their covariance and the fit's report
/// when fitted, and the time unit of α and β.
///
/// Serializes its parameters, covariance, report and unit; deserializes only through
/// [`ParetoNbd::new`]'s checks, with a covariance of r, alpha, s and beta (in that order).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ParetoNbdData"))]
pub struct ParetoNbd {
    parameters: ParetoNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

/// A [`ParetoNbd`] as stored, before its checks.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ParetoNbdData {
    parameters: ParetoNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<ParetoNbdData> for ParetoNbd {
    type Error = InvalidParameter;
    fn try_from(data: ParetoNbdData) -> Result<Self, Self::Error> {
        let mut model = ParetoNbd::new(data.parameters, data.unit)?;
        if let Some(covariance) = &data.covariance {
            if covariance.names().iter().map(String::as_str).ne(NAMES) {
                return Err(InvalidParameter::new(
                    "covariance",
                    covariance.names().len() as f64,
                    "must be of the parameters r, alpha, s, beta, in this order",
                ));
            }
        }
        model.covariance = data.covariance;
        model.report = data.report;
        Ok(model)
    }
}

impl ParetoNbd {
    /// A model with given parameters (α and β per `unit`; for example from a previous fit or a
    /// paper), all finite and positive. It has no covariance or report.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first parameter that is not finite and positive.
    pub fn new(parameters: ParetoNbdParameters, unit: TimeUnit) -> Result<Self, InvalidParameter> {
        for (name, value) in NAMES.into_iter().zip(parameters.to_array()) {
            InvalidParameter::positive(name, value)?;
        }
        Ok(ParetoNbd {
            parameters,
            covariance: None,
            report: None,
            unit,
        })
    }

    /// The parameters (α and β per [`ParetoNbd::unit`]).
    pub fn parameters(&self) -> ParetoNbdParameters {
        self.parameters
    }

    /// Standard errors of (r, α, s, β): the square roots of the covariance's diagonal; `None`
    /// without a covariance (a model built by [`ParetoNbd::new`]).
    pub fn standard_errors(&self) -> Option<ParetoNbdParameters> {
        let covariance = self.covariance.as_ref()?;
        let se = |i| covariance.get(i, i).map(f64::sqrt);
        Some(ParetoNbdParameters {
            r: se(0)?,
            alpha: se(1)?,
            s: se(2)?,
            beta: se(3)?,
        })
    }

    /// The covariance of (r, α, s, β) at the estimate (delta method from the Hessian in
    /// log-parameters); `None` for a model built by [`ParetoNbd::new`].
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The fit's report; `None` for a model built by [`ParetoNbd::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The time unit of α, β, histories and horizons.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Total log-likelihood of weighted patterns (in the model's time unit).
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the value is not finite.
    pub fn total_log_likelihood(&self, patterns: &Patterns) -> Result<f64, PredictError> {
        let data = Prepared::new(patterns, false);
        let p = self.parameters;
        finite(
            "log-likelihood",
            pareto_ll(&data, &[p.r.ln(), p.alpha.ln(), p.s.ln(), p.beta.ln()]).0,
        )
    }

    fn terms(&self, h: &History) -> Result<RowTerms, PredictError> {
        h.validate()?;
        let p = self.parameters;
        row_terms(
            p.r,
            p.alpha,
            p.s,
            p.beta,
            f64::from(h.frequency),
            h.recency,
            h.age,
        )
        .map_err(|detail| PredictError::Numerical {
            what: "pareto/nbd likelihood",
            detail,
        })
    }

    fn p_alive_now(&self, h: &History) -> Result<f64, PredictError> {
        let t = self.terms(h)?;
        finite("p_alive", inv_one_plus_exp(t.d - t.b))
    }

    /// P(exactly n purchases in (0, t]) for a customer alive at the start whose rates have the
    /// gamma(k, a_rate) and gamma(s, b_rate) distributions: the customer either survives the
    /// whole window, or dies at τ < t (Fader & Hardie's note on the conditional PMF):
    /// NBD(n; t) (B/(B+t))^s + ∫₀ᵗ s Bˢ (B+τ)^-(s+1) NBD(n; τ) dτ.
    fn alive_pmf(
        &self,
        n: u32,
        k: f64,
        a_rate: f64,
        b_rate: f64,
        t: f64,
    ) -> Result<f64, PredictError> {
        let s = self.parameters.s;
        let survive = (ln_nbd_pmf(n, k, a_rate, t) - s * (t / b_rate).ln_1p()).exp();
        if t == 0.0 {
            return Ok(survive);
        }
        let die = integrate(
            "purchase probability",
            |tau: f64| {
                let ln = s.ln() - b_rate.ln() - (s + 1.0) * (tau / b_rate).ln_1p()
                    + ln_nbd_pmf(n, k, a_rate, tau);
                Ok(ln.exp())
            },
            0.0,
            t,
            1e-10,
        )?;
        finite("purchase probability", (survive + die).clamp(0.0, 1.0))
    }
}

crate::models::uncertainty::reparameterize!(
    ParetoNbd,
    NAMES,
    |m| m.parameters.to_array(),
    |m, v| {
        let [r, alpha, s, beta] = v;
        ParetoNbd::new(ParetoNbdParameters { r, alpha, s, beta }, m.unit)
    }
);

impl TransactionModel for ParetoNbd {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_transaction(self, values)
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let p = self.parameters;
        vec![
            ("r".into(), p.r),
            ("alpha".into(), p.alpha),
            ("s".into(), p.s),
            ("beta".into(), p.beta),
        ]
    }

    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    fn name(&self) -> &str {
        "pareto-nbd"
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn parameter_count(&self) -> usize {
        4
    }
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError> {
        let t = self.terms(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let c = ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * p.alpha.ln() + p.s * p.beta.ln();
        finite("log-likelihood", c + lse(t.b, t.d))
    }
    /// P(alive at T) (Fader & Hardie's note, eq. 18) times the survival E[e^(-μt)] =
    /// ((β+T)/(β+T+t))^s.
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let b = self.parameters.beta + history.age;
        finite(
            "p_alive",
            now * (-self.parameters.s * (t / b).ln_1p()).exp(),
        )
    }
    /// P(alive) (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)], with its limit at s = 1.
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        self.expected_if_alive(history, t, now)
    }
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let alive = self.alive_pmf(n, p.r + x, p.alpha + history.age, p.beta + history.age, t)?;
        let dead = if n == 0 { 1.0 - now } else { 0.0 };
        finite("purchase probability", (dead + now * alive).clamp(0.0, 1.0))
    }
    /// r β / (α (s-1)) [1 - (β/(β+t))^(s-1)].
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let p = self.parameters;
        finite(
            "expected purchases",
            p.r / p.alpha * p.beta * one_minus_exp_over(p.s - 1.0, (t / p.beta).ln_1p()),
        )
    }
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let p = self.parameters;
        self.alive_pmf(n, p.r, p.alpha, p.beta, t)
    }
    /// Closed form (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2): P(alive) E\[λ\] E\[1/(δ+μ)\]
    /// = P(alive) (r+x)/(α+T) (β+T)^s δ^(s-1) U(s, s; δ(β+T)).
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError> {
        let rate = discount_rate(rate)?;
        let now = self.p_alive_now(history)?;
        self.dert_if_alive(history, rate, now)
    }
    /// P(alive) for the whole batch from the series tabulated per frequency.
    fn p_alive_batch(&self, histories: &[History]) -> Result<Vec<f64>, PredictError> {
        self.p_alive_now_batch(histories)
    }
    fn expected_purchases_batch(
        &self,
        histories: &[History],
        t: f64,
    ) -> Result<Vec<f64>, PredictError> {
        let t = horizon(t)?;
        let alive = self.p_alive_now_batch(histories)?;
        batch_with(histories, &alive, |h, now| {
            self.expected_if_alive(h, t, now)
        })
    }
    fn dert_batch(&self, histories: &[History], rate: f64) -> Result<Vec<f64>, PredictError> {
        let rate = discount_rate(rate)?;
        let alive = self.p_alive_now_batch(histories)?;
        batch_with(histories, &alive, |h, now| self.dert_if_alive(h, rate, now))
    }
    /// P(alive) once for the three predictions.
    fn predict_batch(
        &self,
        histories: &[History],
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        let alive = self.p_alive_now_batch(histories)?;
        let t = horizon(t)?;
        let expected_purchases = batch_with(histories, &alive, |h, now| {
            self.expected_if_alive(h, t, now)
        })?;
        let rate = discount_rate(rate)?;
        let dert = batch_with(histories, &alive, |h, now| self.dert_if_alive(h, rate, now))?;
        Ok(BatchPredictions {
            p_alive: alive,
            expected_purchases,
            dert,
        })
    }
}

impl ParetoNbd {
    /// Expected purchases in (T, T + t] given P(alive at T) = `now`.
    fn expected_if_alive(&self, history: &History, t: f64, now: f64) -> Result<f64, PredictError> {
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let b = p.beta + history.age;
        let per_alive = (p.r + x) / (p.alpha + history.age)
            * b
            * one_minus_exp_over(p.s - 1.0, (t / b).ln_1p());
        finite("expected purchases", now * per_alive)
    }

    /// DERT at continuous rate `rate` given P(alive at T) = `now`: (r+x)/(α+T) (β+T) G(1-s, z)
    /// with z = δ(β+T) (see [`TransactionModel::dert`]).
    fn dert_if_alive(&self, history: &History, rate: f64, now: f64) -> Result<f64, PredictError> {
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let b = p.beta + history.age;
        // (β+T)^s δ^(s-1) U(s,s,z) = (β+T) z^(s-1) U(s,s,z) = (β+T) G(1-s, z), z = δ(β+T)
        let g = scaled_upper_gamma(1.0 - p.s, rate * b)?;
        finite("dert", now * (p.r + x) / (p.alpha + history.age) * b * g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Patterns {
        Patterns::new(
            TimeUnit::WEEKS,
            [
                (0, 0.0, 38.0, 60.0),
                (1, 20.0, 38.0, 20.0),
                (3, 30.0, 36.0, 10.0),
                (6, 34.0, 37.0, 6.0),
                (2, 5.0, 35.0, 8.0),
                (1, 2.0, 37.0, 10.0),
                (4, 12.0, 38.0, 4.0),
            ],
        )
        .unwrap()
    }

    const CDNOW: ParetoNbdParameters = ParetoNbdParameters {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.669,
    };

    #[test]
    fn fits_check_their_settings_first() {
        let bad_start = ParetoNbdParams::new().start(ParetoNbdParameters { s: -1.0, ..CDNOW });
        let Err(FitError::InvalidParameter(e)) = bad_start.check() else {
            panic!("a negative starting value passed the check");
        };
        assert_eq!((e.name(), e.number()), ("s", Some(-1.0)));
        assert!(matches!(
            bad_start.fit(&small()),
            Err(FitError::InvalidParameter(_))
        ));
        let bad_options = ParetoNbdParams::new().penalty(f64::NAN);
        assert!(matches!(
            bad_options.check(),
            Err(FitError::InvalidParameter(e)) if e.name() == "penalty"
        ));
        assert!(ParetoNbdParams::new().start(CDNOW).check().is_ok());
        let no_repeat = Patterns::new(TimeUnit::WEEKS, [(0, 0.0, 10.0, 3.0)]).unwrap();
        assert!(matches!(
            ParetoNbdParams::new().fit(&no_repeat),
            Err(FitError::NoData {
                model: "pareto-nbd",
                ..
            })
        ));
    }

    #[test]
    fn a_fitted_model_carries_its_covariance_and_report() {
        let m = ParetoNbdParams::new().start(CDNOW).fit(&small()).unwrap();
        let c = m.covariance().unwrap();
        assert_eq!(c.names(), ["r", "alpha", "s", "beta"]);
        let se = m.standard_errors().unwrap();
        assert_eq!(se.beta, c.get(3, 3).unwrap().sqrt());
        assert_eq!(TransactionModel::covariance(&m), Some(c));
        assert_eq!(m.fit_report(), m.report());
        assert!(m.report().unwrap().converged);
        assert_eq!(m.unit(), TimeUnit::WEEKS);
        let given = ParetoNbd::new(m.parameters(), m.unit()).unwrap();
        assert_eq!(given.covariance(), None);
        assert_eq!(given.standard_errors(), None);
        assert_eq!(given.report(), None);
        let bad = ParetoNbd::new(
            ParetoNbdParameters {
                alpha: 0.0,
                ..CDNOW
            },
            TimeUnit::WEEKS,
        );
        assert_eq!(bad.unwrap_err().name(), "alpha");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserialization_goes_through_the_checks() {
        let fitted = ParetoNbdParams::new().fit(&small()).unwrap();
        let json = serde_json::to_string(&fitted).unwrap();
        assert_eq!(serde_json::from_str::<ParetoNbd>(&json).unwrap(), fitted);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let refused =
            |v: &serde_json::Value| serde_json::from_value::<ParetoNbd>(v.clone()).is_err();
        let mut negative = value.clone();
        negative["parameters"]["beta"] = serde_json::json!(-11.669);
        assert!(refused(&negative));
        let mut renamed = value.clone();
        renamed["covariance"]["names"][1] = serde_json::json!("a");
        assert!(refused(&renamed));
        let mut asymmetric = value.clone();
        asymmetric["covariance"]["matrix"][0][1] = serde_json::json!(1.0e6);
        assert!(refused(&asymmetric));
        let mut bare = value;
        bare["covariance"] = serde_json::Value::Null;
        bare["report"] = serde_json::Value::Null;
        let bare: ParetoNbd = serde_json::from_value(bare).unwrap();
        assert_eq!(
            bare,
            ParetoNbd::new(fitted.parameters(), fitted.unit()).unwrap()
        );
    }

    /// The batch's P(alive) comes from the series tabulated per frequency, the single call's from
    /// the general ₂F₁: two evaluations of one value, equal to rounding.
    #[test]
    fn batch_predictions_are_the_single_ones_in_order() {
        let m = ParetoNbd::new(CDNOW, TimeUnit::WEEKS).unwrap();
        let hs = [
            History::new(0, 0.0, 38.0),
            History::new(221, 103.43, 103.57),
            History::new(2, 30.43, 38.86),
            History::new(2, 38.86, 38.86),
            History::new(0, 0.0, 0.0),
            History::new(7, 0.5, 60.0),
        ];
        let e = m.expected_purchases_batch(&hs, 39.0).unwrap();
        let p = m.p_alive_batch(&hs).unwrap();
        let d = m.dert_batch(&hs, 0.002).unwrap();
        // The three at once are the three one by one, bit for bit.
        let all = m.predict_batch(&hs, 39.0, 0.002).unwrap();
        assert_eq!(
            (&all.p_alive, &all.expected_purchases, &all.dert),
            (&p, &e, &d)
        );
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs();
        for (i, h) in hs.iter().enumerate() {
            assert!(close(e[i], m.expected_purchases(h, 39.0).unwrap()), "{h:?}");
            assert!(close(p[i], m.p_alive(h, 0.0).unwrap()), "{h:?}");
            assert!(close(d[i], m.dert(h, 0.002).unwrap()), "{h:?}");
        }
        assert!(m.p_alive_batch(&[History::new(1, 5.0, 2.0)]).is_err());
    }

    /// A P(alive) near underflow (3e-306) keeps its digits in the batch (CI's fuzz case: the
    /// batch was 1.2% off when it divided two subnormal-scale numbers).
    #[test]
    fn batch_p_alive_near_underflow_matches_the_single_path() {
        let params = ParetoNbdParameters {
            r: 1.0,
            alpha: 0.000_778_624_120_065_574_5,
            s: 5.087_588_227_811_222e-6,
            beta: 1.0,
        };
        let m = ParetoNbd::new(params, TimeUnit::WEEKS).unwrap();
        let hs = [
            History::new(0, 0.0, 0.0),
            History::new(1521, 0.613_636_417_447_935_3, 1.0),
        ];
        let batch = m.dert_batch(&hs, 1.0).unwrap();
        for (h, b) in hs.iter().zip(batch) {
            let alone = m.dert(h, 1.0).unwrap();
            assert!(
                (b - alone).abs() <= 1e-10 * alone.abs(),
                "{h:?}: {b:e} vs {alone:e}"
            );
        }
    }
}
