//! The beta-geometric family of purchase-and-dropout models: BG/NBD and MBG/NBD, one generic
//! model [`BetaGeometric<V>`] whose [`Variant`] says whether a customer may drop out right after
//! the first purchase.
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α) (shape r, rate α per time
//! unit); after each repeat purchase (and, for MBG/NBD, also at the first purchase) they drop out
//! with probability p ~ beta(a, b). With offset o = 0 (BG/NBD) or 1 (MBG/NBD):
//!
//! ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+o) − ln B(a, b)
//!        + ln[(α+T)^−(r+x) + 𝟙(x+o > 0) a/(b+x+o−1) (α+t_x)^−(r+x)].
//!
//! Use the variants through their own modules: [`bg_nbd`](crate::models::bg_nbd) and
//! [`mbg_nbd`](crate::models::mbg_nbd).

mod dert;
mod dert_batch;
mod kernel;
mod pairs;
mod series;

use std::fmt;
use std::marker::PhantomData;

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::btyd::{btyd_pairs, check_identifiable, fit_log_params, Prepared, COARSE_ROWS};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::TransactionModel;
use crate::optimize::Objective;
use crate::summary::Patterns;
use crate::time::TimeUnit;

pub(crate) use kernel::{beta_geometric_ll, Core};

mod sealed {
    pub trait Sealed {}
}

/// Which member of the beta-geometric family: [`Bg`] (BG/NBD) or [`Mbg`] (MBG/NBD). Sealed: the
/// family has exactly these two members.
pub trait Variant:
    sealed::Sealed + fmt::Debug + Clone + Copy + PartialEq + Default + Send + Sync + 'static
{
    /// The model's short name, as in reports and the `clv` tool: `"bg-nbd"` or `"mbg-nbd"`.
    const NAME: &'static str;
    /// Dropout opportunities at the first purchase: 0 for BG/NBD, 1 for MBG/NBD.
    const OFFSET: f64;
}

/// BG/NBD (Fader, Hardie & Lee 2005): dropout only after repeat purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bg;

/// MBG/NBD (Batislam, Denizel & Filiztekin 2007): dropout also possible at the first purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mbg;

impl sealed::Sealed for Bg {}
impl sealed::Sealed for Mbg {}

impl Variant for Bg {
    const NAME: &'static str = "bg-nbd";
    const OFFSET: f64 = 0.0;
}

impl Variant for Mbg {
    const NAME: &'static str = "mbg-nbd";
    const OFFSET: f64 = 1.0;
}

/// The four parameters of a beta-geometric model (or their standard errors); α per time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BetaGeometricParameters {
    /// Shape of the purchase-rate gamma distribution.
    pub r: f64,
    /// Rate (inverse scale) of the purchase-rate gamma distribution, per time unit.
    pub alpha: f64,
    /// First shape of the dropout-probability beta distribution.
    pub a: f64,
    /// Second shape of the dropout-probability beta distribution.
    pub b: f64,
}

impl BetaGeometricParameters {
    const NAMES: [&'static str; 4] = ["r", "alpha", "a", "b"];

    fn from_array([r, alpha, a, b]: [f64; 4]) -> Self {
        BetaGeometricParameters { r, alpha, a, b }
    }

    fn check(&self) -> Result<(), InvalidParameter> {
        InvalidParameter::positive("r", self.r)?;
        InvalidParameter::positive("alpha", self.alpha)?;
        InvalidParameter::positive("a", self.a)?;
        InvalidParameter::positive("b", self.b)?;
        Ok(())
    }
}

/// How to fit a beta-geometric model: fit options (penalty, iterations, tolerance) and a first
/// starting point. [`Fit`] it on [`Patterns`].
#[derive(Debug, Clone, PartialEq)]
pub struct BetaGeometricParams<V> {
    options: FitOptions,
    start: Option<BetaGeometricParameters>,
    variant: PhantomData<V>,
}

impl<V> Default for BetaGeometricParams<V> {
    fn default() -> Self {
        BetaGeometricParams {
            options: FitOptions::default(),
            start: None,
            variant: PhantomData,
        }
    }
}

impl<V: Variant> BetaGeometricParams<V> {
    /// Default options: no penalty, the optimizer's default tolerance, several starts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// L2 penalty on the log-parameters (on the rescaled time axis; 0 = plain maximum
    /// likelihood); a shortcut for [`FitOptions::penalty`].
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.options = self.options.penalty(penalty);
        self
    }

    /// First starting point, α in the data's time unit; the default starts are tried after it.
    pub fn start(mut self, start: BetaGeometricParameters) -> Self {
        self.start = Some(start);
        self
    }

    /// The fit options.
    pub fn get_fit_options(&self) -> &FitOptions {
        &self.options
    }

    /// The first starting point, when given.
    pub fn get_start(&self) -> Option<BetaGeometricParameters> {
        self.start
    }
}

impl<V: Variant> Fit<Patterns> for BetaGeometricParams<V> {
    type Model = BetaGeometric<V>;
    type Error = FitError;

    /// Checks the fit options and the starting point (every value finite and positive).
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if let Some(start) = &self.start {
            start.check()?;
        }
        Ok(())
    }

    /// Fits the model by maximum likelihood; the model's time unit is the patterns'.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for bad settings, [`FitError::NoData`] without patterns or
    /// without a repeat purchase, [`FitError::OutOfRange`] for a total weight or an age beyond
    /// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) or
    /// [`MAX_TIME_SPAN`](crate::fit::MAX_TIME_SPAN), [`FitError::NotIdentified`] when no time
    /// was observed or there are fewer than 4 distinct histories, [`FitError::Boundary`] when
    /// the likelihood rises towards a limit (such as nobody dropping out),
    /// [`FitError::Optimizer`] when no start converges (with the report),
    /// [`FitError::Numerical`] when the covariance cannot be computed.
    fn fit(&self, patterns: &Patterns) -> Result<BetaGeometric<V>, FitError> {
        self.check()?;
        let (model, offset) = (V::NAME, V::OFFSET);
        check_identifiable(model, patterns, 4)?;
        let data = Prepared::new(patterns, true);
        let mut starts = Vec::new();
        if let Some(s) = &self.start {
            starts.push(vec![
                s.r.ln(),
                (s.alpha / data.scale).ln(),
                s.a.ln(),
                s.b.ln(),
            ]);
        }
        // r, α (on the rescaled axis), a, b
        starts.push(vec![0.0, 0.0, 0.0, 0.0]);
        starts.push(vec![
            (0.5f64).ln(),
            (0.2f64).ln(),
            (0.8f64).ln(),
            (2.5f64).ln(),
        ]);
        starts.push(vec![
            (2.0f64).ln(),
            (2.0f64).ln(),
            (2.0f64).ln(),
            (8.0f64).ln(),
        ]);
        let objective = BetaGeometricObjective {
            data: &data,
            offset,
        };
        let thin = data.thinned(COARSE_ROWS);
        let coarse = thin
            .as_ref()
            .map(|data| BetaGeometricObjective { data, offset });
        let fitted = fit_log_params::<4>(
            model,
            &BetaGeometricParameters::NAMES,
            &btyd_pairs(false),
            &objective,
            coarse.as_ref().map(|c| c as &dyn Objective),
            &starts,
            &self.options,
            data.scale,
            &[1],
            -data.weighted_x * data.scale.ln(),
        )?;
        Ok(BetaGeometric {
            parameters: BetaGeometricParameters::from_array(fitted.params),
            covariance: Some(fitted.covariance),
            report: Some(fitted.report),
            unit: patterns.unit(),
            variant: PhantomData,
        })
    }
}

impl<V: Variant> crate::models::bootstrap::WarmStart<Patterns> for BetaGeometricParams<V> {
    fn warm_started(&self, model: &BetaGeometric<V>) -> Self {
        self.clone().start(model.parameters)
    }
}

/// The likelihood of the family on prepared patterns, for the optimizer.
pub(crate) struct BetaGeometricObjective<'a> {
    pub(crate) data: &'a Prepared,
    pub(crate) offset: f64,
}

impl Objective for BetaGeometricObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn weight(&self) -> f64 {
        self.data.weight.iter().sum()
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (ll, g) = beta_geometric_ll(self.data, theta, self.offset);
        for (d, v) in grad.iter_mut().zip(g) {
            *d = v;
        }
        ll
    }
}

/// A beta-geometric model, fitted or at given parameters: BG/NBD as
/// [`BgNbd`](crate::models::bg_nbd::BgNbd), MBG/NBD as [`MbgNbd`](crate::models::mbg_nbd::MbgNbd).
///
/// Serializes its parameters, covariance, fit report and time unit; deserializes only through
/// [`BetaGeometric::new`]'s checks.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "BetaGeometricData",
        into = "BetaGeometricData",
        bound = "V: Variant"
    )
)]
pub struct BetaGeometric<V> {
    parameters: BetaGeometricParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
    variant: PhantomData<V>,
}

/// The serialized form: what a fitted model carries, without the type-level variant.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct BetaGeometricData {
    #[serde(alias = "params")]
    parameters: BetaGeometricParameters,
    #[serde(default)]
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl<V: Variant> TryFrom<BetaGeometricData> for BetaGeometric<V> {
    type Error = InvalidParameter;
    fn try_from(data: BetaGeometricData) -> Result<Self, Self::Error> {
        let mut model = BetaGeometric::new(data.parameters, data.unit)?;
        if let Some(covariance) = &data.covariance {
            covariance.check_names(&BetaGeometricParameters::NAMES)?;
        }
        model.covariance = data.covariance;
        model.report = data.report;
        Ok(model)
    }
}

#[cfg(feature = "serde")]
impl<V> From<BetaGeometric<V>> for BetaGeometricData {
    fn from(model: BetaGeometric<V>) -> Self {
        BetaGeometricData {
            parameters: model.parameters,
            covariance: model.covariance,
            report: model.report,
            unit: model.unit,
        }
    }
}

impl<V: Variant> BetaGeometric<V> {
    /// A model at known parameters (α per `unit`), without fit report or covariance.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first parameter that is not finite and positive.
    pub fn new(
        parameters: BetaGeometricParameters,
        unit: TimeUnit,
    ) -> Result<Self, InvalidParameter> {
        parameters.check()?;
        Ok(BetaGeometric {
            parameters,
            covariance: None,
            report: None,
            unit,
            variant: PhantomData,
        })
    }

    /// The parameters (α per [`TransactionModel::unit`]).
    pub fn parameters(&self) -> BetaGeometricParameters {
        self.parameters
    }

    /// Standard errors of the parameters (square roots of the covariance's diagonal), when
    /// fitted.
    pub fn standard_errors(&self) -> Option<BetaGeometricParameters> {
        let se = self.covariance.as_ref()?.standard_errors();
        Some(BetaGeometricParameters::from_array([
            *se.first()?,
            *se.get(1)?,
            *se.get(2)?,
            *se.get(3)?,
        ]))
    }

    /// The covariance of (r, α, a, b) from the observed information, when fitted.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The fit report (total log-likelihood in the data's unit, iterations, convergence), when
    /// fitted.
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The time unit of α and of every horizon.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Total log-likelihood of weighted patterns (in the patterns' own time unit, which should
    /// be the model's).
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the likelihood is not finite.
    pub fn total_log_likelihood(&self, patterns: &Patterns) -> Result<f64, PredictError> {
        kernel::total_beta_geometric_ll(&self.core(), patterns)
    }

    fn core(&self) -> Core {
        let p = self.parameters;
        Core {
            r: p.r,
            alpha: p.alpha,
            a: p.a,
            b: p.b,
            offset: V::OFFSET,
        }
    }
}

impl<V: Variant> crate::models::uncertainty::Reparameterize for BetaGeometric<V> {
    fn parameter_names(&self) -> Vec<String> {
        BetaGeometricParameters::NAMES.map(String::from).to_vec()
    }
    fn parameter_values(&self) -> Vec<f64> {
        let p = self.parameters;
        vec![p.r, p.alpha, p.a, p.b]
    }
    fn parameter_covariance(&self) -> Option<&Covariance> {
        self.covariance()
    }
    /// The model at (r, α, a, b) = `values`, in the same unit.
    fn with_parameters(&self, values: &[f64]) -> Result<Self, InvalidParameter> {
        let values = crate::models::uncertainty::exactly(values, &BetaGeometricParameters::NAMES)?;
        Self::new(BetaGeometricParameters::from_array(values), self.unit)
    }
}

impl<V: Variant> TransactionModel for BetaGeometric<V> {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_transaction(self, values)
    }
    fn name(&self) -> &str {
        V::NAME
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let p = self.parameters;
        BetaGeometricParameters::NAMES
            .iter()
            .zip([p.r, p.alpha, p.a, p.b])
            .map(|(name, v)| (name.to_string(), v))
            .collect()
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError> {
        self.core().log_likelihood(history)
    }
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        self.core().p_alive(history, t)
    }
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        self.core().expected(history, t)
    }
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        self.core().pmf(history, n, t)
    }
    /// P(alive) times a closed form in z = δ(α+T): three convergent series from the
    /// Mellin–Barnes integral of E[Λ/(z + pΛ)], each value with a running error bound of at
    /// most 1e-11 relative; where the bound is not met (a or k = r + x at or very near an
    /// integer, large z) the discounted purchase rate is integrated (adaptive Gauss-Kronrod,
    /// relative tolerance 1e-11, or 1e-9 where the ₂F₁'s rounding does not allow it).
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError> {
        self.core().dert(history, rate)
    }
    /// The closed form's constants computed once per frequency (see [`dert`](Self::dert)).
    fn dert_batch(&self, histories: &[History], rate: f64) -> Result<Vec<f64>, PredictError> {
        self.core().dert_batch(histories, rate)
    }
    /// Piecewise Taylor series tabulated once per frequency (see the module `series`).
    fn expected_purchases_batch(
        &self,
        histories: &[History],
        t: f64,
    ) -> Result<Vec<f64>, PredictError> {
        self.core().expected_batch(histories, t)
    }
}

#[cfg(test)]
mod tests;
