//! Bootstrap distributions of a fitted model's parameters, and intervals of any prediction
//! from them.
//!
//! - The **parametric bootstrap** ([`parametric_bootstrap`]) draws the log-parameters from their
//!   asymptotic normal N(ln θ̂, J⁻¹ Σ J⁻¹), J = diag(θ̂), Σ the fit's covariance: no refit, so it
//!   costs one model per draw.
//! - The **non-parametric bootstrap** ([`bootstrap`]) resamples the customers with replacement:
//!   a multinomial draw of as many customers as the data hold, over the weighted rows (so a row
//!   of 40 identical customers gets a Binomial-distributed count, not 0 or 40), and refits the
//!   model from the original estimate (a warm start, [`WarmStart`]). A replicate that does not
//!   refit is an error naming it, never dropped: a distribution without its hard cases would be
//!   too narrow.
//!
//! Both are seeded and reproducible: draw i uses its own ChaCha8 stream of the seed, so the
//! draws are the same with or without the `parallel` feature (which refits replicates on all
//! cores) and whatever the number of threads.
//!
//! [`Draws::interval`] gives the percentile interval of a prediction over the draws (with the
//! prediction at the estimate and the draws' standard deviation), [`Draws::parameter_summaries`]
//! the distribution of each parameter.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};

use super::error::PredictError;
use super::uncertainty::{
    mean_and_deviation, percentile_interval, IntervalError, IntervalMethod, PredictionInterval,
    Reparameterize,
};
use crate::error::InvalidParameter;
use crate::fit::{Fit, FitError};

/// Most draws or replicates one bootstrap makes: 100,000 (each keeps a model in memory).
pub const MAX_REPLICATES: u32 = 100_000;

/// How many draws, from which seed.
///
/// ```
/// use customer_assets::models::BootstrapOptions;
/// let options = BootstrapOptions::new(200, 7)?;
/// assert_eq!((options.replicates(), options.seed()), (200, 7));
/// assert!(BootstrapOptions::new(0, 7).is_err());
/// assert_eq!(BootstrapOptions::default(), BootstrapOptions::new(200, 0)?);
/// # Ok::<(), customer_assets::InvalidParameter>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BootstrapOptions {
    replicates: u32,
    seed: u64,
    #[cfg_attr(feature = "serde", serde(default))]
    keep_boundary_estimates: bool,
}

impl Default for BootstrapOptions {
    /// 200 draws from seed 0 (what the report and the tool use when none are given).
    fn default() -> Self {
        BootstrapOptions {
            replicates: 200,
            seed: 0,
            keep_boundary_estimates: false,
        }
    }
}

impl BootstrapOptions {
    /// `replicates` draws (1 to [`MAX_REPLICATES`]) from `seed`.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] for a number of replicates out of range.
    pub fn new(replicates: u32, seed: u64) -> Result<Self, InvalidParameter> {
        if replicates == 0 || replicates > MAX_REPLICATES {
            return Err(InvalidParameter::new(
                "replicates",
                f64::from(replicates),
                "must be between 1 and 100000",
            ));
        }
        Ok(BootstrapOptions {
            replicates,
            seed,
            keep_boundary_estimates: false,
        })
    }
    /// Keeps a refit whose likelihood rises towards a boundary of the parameter space (a
    /// [`FitError::Boundary`], such as no dropout heterogeneity) as a replicate at its last
    /// estimate, a model near that limit, instead of ending the bootstrap with its error. On a
    /// small base some resamples of Pareto/NBD do so: their estimate *is* the limit, and leaving
    /// them out would narrow the distribution. [`Draws::at_boundary`] lists them. Off by
    /// default.
    pub fn keep_boundary_estimates(mut self, keep: bool) -> Self {
        self.keep_boundary_estimates = keep;
        self
    }
    /// The number of draws.
    pub fn replicates(&self) -> u32 {
        self.replicates
    }
    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Whether refits at a boundary are kept ([`keep_boundary_estimates`](Self::keep_boundary_estimates)).
    pub fn keeps_boundary_estimates(&self) -> bool {
        self.keep_boundary_estimates
    }
}

/// Data of weighted rows (customers per row) that can be re-weighted: what the non-parametric
/// bootstrap resamples. [`Patterns`](crate::Patterns), [`DiscretePatterns`](super::bg_bb::DiscretePatterns),
/// [`SpendData`](super::spend_data::SpendData) and contractual cohorts (`Vec<Cohort>`, by
/// lifetime; `[Cohort]`) implement it.
pub trait Resample {
    /// What a resample is: `Self`, or its owned form for unsized data (`Vec<Cohort>` for
    /// `[Cohort]`).
    type Resampled: std::borrow::Borrow<Self>;
    /// The rows' weights, in row order.
    fn row_weights(&self) -> Vec<f64>;
    /// The same rows with the weights `weights` (one per row, finite and non-negative), the rows
    /// of weight 0 left out.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] for a number of weights other than of rows, a negative or
    /// non-finite weight, or no weight above 0.
    fn reweighted(&self, weights: &[f64]) -> Result<Self::Resampled, InvalidParameter>;
}

impl Resample for crate::summary::Patterns {
    type Resampled = Self;
    fn row_weights(&self) -> Vec<f64> {
        self.iter().map(|p| p.weight()).collect()
    }
    fn reweighted(&self, weights: &[f64]) -> Result<Self, InvalidParameter> {
        self.with_weights(weights)
    }
}

impl Resample for super::discrete_patterns::DiscretePatterns {
    type Resampled = Self;
    fn row_weights(&self) -> Vec<f64> {
        self.as_slice().iter().map(|p| p.weight()).collect()
    }
    fn reweighted(&self, weights: &[f64]) -> Result<Self, InvalidParameter> {
        self.with_weights(weights)
    }
}

/// The customers of contractual cohorts, by the period each churned in (or still active at the
/// end). The resample draws from all cohorts' customers together, so a cohort's size varies
/// too; a cohort that draws nobody is left out.
impl Resample for [super::contractual::Cohort] {
    type Resampled = Vec<super::contractual::Cohort>;
    fn row_weights(&self) -> Vec<f64> {
        self.iter().flat_map(|c| c.lifetimes()).collect()
    }
    fn reweighted(&self, weights: &[f64]) -> Result<Self::Resampled, InvalidParameter> {
        let cells: usize = self.iter().map(|c| c.lifetimes().len()).sum();
        if weights.len() != cells {
            return Err(InvalidParameter::new(
                "weights",
                weights.len() as f64,
                "must be one per cohort and period",
            ));
        }
        if let Some(&w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(InvalidParameter::new(
                "weights",
                w,
                "must be finite and non-negative",
            ));
        }
        let mut rest = weights;
        let mut cohorts = Vec::with_capacity(self.len());
        for c in self {
            let (own, tail) = rest.split_at(c.lifetimes().len());
            rest = tail;
            if let Some(resampled) = c.with_lifetimes(own) {
                cohorts.push(resampled);
            }
        }
        if cohorts.is_empty() {
            return Err(InvalidParameter::new(
                "weights",
                0.0,
                "some cohort must keep a customer",
            ));
        }
        Ok(cohorts)
    }
}

impl Resample for super::spend_data::SpendData {
    type Resampled = Self;
    fn row_weights(&self) -> Vec<f64> {
        self.rows().iter().map(|r| r.weight()).collect()
    }
    fn reweighted(&self, weights: &[f64]) -> Result<Self, InvalidParameter> {
        self.with_weights(weights)
    }
}

/// Fit settings that can start from a fitted model's parameters: the warm start of the
/// non-parametric bootstrap's refits (a resample's estimate lies near the original one).
pub trait WarmStart<D: ?Sized>: Fit<D> {
    /// These settings, with `model`'s parameters as the first starting point.
    fn warm_started(&self, model: &Self::Model) -> Self;
}

/// Why a bootstrap could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BootstrapError {
    /// An option or the data's weights are invalid.
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// The fit settings are invalid.
    #[error("the fit settings: {0}")]
    Settings(Box<FitError>),
    /// The model carries no covariance (parametric bootstrap).
    #[error("the model has no covariance of its parameters (fit it to get one)")]
    NoCovariance,
    /// The covariance does not match the model's parameters, or a parameter is not positive.
    #[error("the covariance does not fit the model's parameters: {0}")]
    Shape(String),
    /// The covariance of the log-parameters is not positive semi-definite.
    #[error("the covariance of the log-parameters is not positive semi-definite (pivot {pivot:e} at {name})")]
    NotPositiveDefinite {
        /// The parameter at which the Cholesky factorisation failed.
        name: String,
        /// The negative pivot.
        pivot: f64,
    },
    /// A parametric draw is not a valid parameter set.
    #[error("draw {draw} (seed {seed}): {source}")]
    Draw {
        /// The draw's index (0-based).
        draw: u32,
        /// The bootstrap's seed.
        seed: u64,
        /// Why the model refused it.
        source: InvalidParameter,
    },
    /// A resample did not refit: the error of its fit, with what reproduces it.
    #[error("bootstrap replicate {replicate} (seed {seed}) did not refit: {source}")]
    Refit {
        /// The replicate's index (0-based).
        replicate: u32,
        /// The bootstrap's seed.
        seed: u64,
        /// The fit's error, with its diagnostics.
        source: Box<FitError>,
    },
}

/// Parameter draws around a fitted model: the estimate and one model per draw.
#[derive(Debug, Clone)]
pub struct Draws<M> {
    estimate: M,
    draws: Vec<M>,
    method: IntervalMethod,
    seed: u64,
    at_boundary: Vec<u32>,
}

/// One parameter's bootstrap distribution ([`Draws::parameter_summaries`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParameterSummary {
    /// The parameter.
    pub name: String,
    /// Its estimate.
    pub estimate: f64,
    /// The mean of the draws.
    pub mean: f64,
    /// The standard deviation of the draws.
    pub standard_deviation: f64,
    /// The lower percentile of the interval.
    pub lower: f64,
    /// The upper percentile of the interval.
    pub upper: f64,
    /// The interval's level.
    pub level: f64,
}

impl<M: Reparameterize> Draws<M> {
    /// The fitted model the draws are around.
    pub fn estimate(&self) -> &M {
        &self.estimate
    }
    /// The draws (refitted models, or models at drawn parameters), in draw order.
    pub fn draws(&self) -> &[M] {
        &self.draws
    }
    /// The number of draws.
    pub fn len(&self) -> usize {
        self.draws.len()
    }
    /// Whether there are no draws (never, for draws made by this module).
    pub fn is_empty(&self) -> bool {
        self.draws.is_empty()
    }
    /// How the draws were made.
    pub fn method(&self) -> IntervalMethod {
        self.method
    }
    /// The seed they were made from.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// The replicates kept at the last estimate of a refit heading for a boundary
    /// ([`BootstrapOptions::keep_boundary_estimates`]), in replicate order.
    pub fn at_boundary(&self) -> &[u32] {
        &self.at_boundary
    }

    /// Each parameter's estimate, mean, standard deviation and percentile interval at `level`
    /// over the draws.
    ///
    /// # Errors
    ///
    /// [`IntervalError::Level`] for a level outside (0, 1).
    pub fn parameter_summaries(&self, level: f64) -> Result<Vec<ParameterSummary>, IntervalError> {
        check_level(level)?;
        let names = self.estimate.parameter_names();
        let estimates = self.estimate.parameter_values();
        let values: Vec<Vec<f64>> = self.draws.iter().map(|m| m.parameter_values()).collect();
        Ok(names
            .into_iter()
            .zip(estimates)
            .enumerate()
            .map(|(k, (name, estimate))| {
                let mut column: Vec<f64> = values
                    .iter()
                    .map(|v| v.get(k).copied().unwrap_or(f64::NAN))
                    .collect();
                let (mean, standard_deviation) = mean_and_deviation(&column);
                let (lower, upper) = percentile_interval(&mut column, level);
                ParameterSummary {
                    name,
                    estimate,
                    mean,
                    standard_deviation,
                    lower,
                    upper,
                    level,
                }
            })
            .collect())
    }

    /// The prediction `predict` at every draw, in draw order.
    ///
    /// # Errors
    ///
    /// [`IntervalError::AtDraw`] naming the first draw where the prediction failed or was not
    /// finite.
    pub fn values(
        &self,
        predict: impl Fn(&M) -> Result<f64, PredictError> + Sync,
    ) -> Result<Vec<f64>, IntervalError>
    where
        M: Sync,
    {
        let at = |(draw, m): (usize, &M)| -> Result<f64, IntervalError> {
            match predict(m) {
                Ok(v) if v.is_finite() => Ok(v),
                Ok(v) => Err(IntervalError::AtDraw {
                    draw,
                    source: PredictError::Numerical {
                        what: "prediction at a draw",
                        detail: format!("result is {v}"),
                    },
                }),
                Err(source) => Err(IntervalError::AtDraw { draw, source }),
            }
        };
        #[cfg(feature = "parallel")]
        let values: Vec<Result<f64, IntervalError>> = {
            use rayon::prelude::*;
            self.draws.par_iter().enumerate().map(at).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let values: Vec<Result<f64, IntervalError>> =
            self.draws.iter().enumerate().map(at).collect();
        values.into_iter().collect()
    }

    /// The percentile interval at `level` of the prediction `predict` over the draws, with the
    /// prediction at the estimate and the draws' standard deviation as its standard error.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::fit::Fit;
    /// use customer_assets::models::bg_nbd::BgNbdParams;
    /// use customer_assets::models::{bootstrap, BootstrapOptions, History};
    /// use customer_assets::simulate::{simulate, BgNbdProcess, SimulationOptions};
    /// use customer_assets::{Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions};
    /// use customer_assets::{TimeUnit, TransactionModel};
    ///
    /// // 2,000 customers from the CDNOW BG/NBD estimates over 39 weeks, fitted back.
    /// let (start, end) = (NaiveDate::from_ymd_opt(2024, 1, 1), NaiveDate::from_ymd_opt(2024, 9, 29));
    /// let (start, end) = (start.ok_or("date")?, end.ok_or("date")?);
    /// let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426)?;
    /// let options = SimulationOptions::new(2_000, start, end, TimeUnit::WEEKS, 7).acquisition_days(84);
    /// let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    /// acc.extend(simulate(&process, &options)?.transactions());
    /// let patterns = acc.finish(&SummaryOptions::new(end, TimeUnit::WEEKS))?.patterns();
    /// let params = BgNbdParams::new();
    /// let model = params.fit(&patterns)?;
    ///
    /// // 50 refits on customers resampled with replacement, from seed 1.
    /// let draws = bootstrap(&params, &patterns, &model, &BootstrapOptions::new(50, 1)?)?;
    /// assert_eq!(draws.len(), 50);
    /// let customer = History::new(2, 30.0, 38.9);
    /// let p = draws.interval(0.9, |m| m.p_alive(&customer, 0.0))?;
    /// assert!(0.0 < p.lower && p.lower < p.upper && p.upper < 1.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`IntervalError::Level`] for a level outside (0, 1), [`IntervalError::Predict`] when the
    /// prediction fails at the estimate, [`IntervalError::AtDraw`] at a draw.
    pub fn interval(
        &self,
        level: f64,
        predict: impl Fn(&M) -> Result<f64, PredictError> + Sync,
    ) -> Result<PredictionInterval, IntervalError>
    where
        M: Sync,
    {
        check_level(level)?;
        let estimate = predict(&self.estimate)?;
        if !estimate.is_finite() {
            return Err(IntervalError::NotFinite(estimate));
        }
        let values = self.values(predict)?;
        PredictionInterval::from_draws(estimate, &values, level, self.method)
    }
}

impl<M: Reparameterize + super::transaction_model::TransactionModel> Draws<M> {
    /// The quantiles of a customer's number of purchases in the next `t` from the equal mixture
    /// of the draws' conditional distributions: the predictive interval that carries both the
    /// customer's own randomness ([`purchase_quantiles`](crate::models::purchase_quantiles),
    /// parameters known) and the parameters' uncertainty. It is at least as wide.
    ///
    /// ```
    /// use customer_assets::fit::Fit;
    /// use customer_assets::models::bg_nbd::BgNbdParams;
    /// use customer_assets::models::{parametric_bootstrap, purchase_quantiles, BootstrapOptions, History};
    /// use customer_assets::{Patterns, TimeUnit};
    ///
    /// let patterns = Patterns::new(TimeUnit::WEEKS, [
    ///     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
    /// ])?;
    /// let model = BgNbdParams::new().fit(&patterns)?;
    /// let draws = parametric_bootstrap(&model, &BootstrapOptions::new(100, 3)?)?;
    /// let h = History::new(6, 34.0, 37.0);
    /// let known = purchase_quantiles(&model, &h, 52.0, &[0.05, 0.95])?;
    /// let both = draws.purchase_quantiles(&h, 52.0, &[0.05, 0.95])?;
    /// assert!(both[0] <= known[0] && known[1] <= both[1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`purchase_quantiles`](crate::models::purchase_quantiles)'s.
    pub fn purchase_quantiles(
        &self,
        history: &super::history::History,
        t: f64,
        probabilities: &[f64],
    ) -> Result<Vec<u32>, PredictError> {
        let models: Vec<&dyn super::transaction_model::TransactionModel> = self
            .draws
            .iter()
            .map(|m| m as &dyn super::transaction_model::TransactionModel)
            .collect();
        super::predictive::mixture_quantiles(&models, history, t, probabilities)
    }
}

fn check_level(level: f64) -> Result<(), IntervalError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(IntervalError::Level(level))
    }
}

/// The random stream of draw `index`: the seed's ChaCha8 generator on stream `index`, so each
/// draw is the same whatever order or thread makes it.
pub(crate) fn stream(seed: u64, index: u32) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(index));
    rng
}

/// Multinomial counts of round(W) customers over rows of weights w (W = Σ w, each customer on
/// row i with probability wᵢ/W), by successive conditional binomials; each count is scaled by
/// W / round(W) so that the total weight is kept (the scale is 1 for whole weights).
pub(crate) fn multinomial_weights(
    weights: &[f64],
    rng: &mut ChaCha8Rng,
) -> Result<Vec<f64>, InvalidParameter> {
    let total: f64 = weights.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(InvalidParameter::new(
            "weights",
            total,
            "the total weight must be positive and finite to resample",
        ));
    }
    let customers = total.round().max(1.0);
    let per_customer = total / customers;
    // Mass of the rows not yet drawn, summed from the end so that it does not drift.
    let mut rest = vec![0.0; weights.len() + 1];
    for i in (0..weights.len()).rev() {
        rest[i] = rest[i + 1] + weights[i];
    }
    let mut left = customers as u64;
    let mut out = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let p = if rest[i] > 0.0 { w / rest[i] } else { 0.0 };
        let count = if left == 0 || p <= 0.0 {
            0
        } else if p >= 1.0 || i + 1 == weights.len() {
            left
        } else {
            Binomial::new(left, p)
                .map_err(|_| {
                    InvalidParameter::new("weights", w, "must be finite and non-negative")
                })?
                .sample(rng)
        };
        left -= count;
        out.push(count as f64 * per_customer);
    }
    Ok(out)
}

/// The non-parametric bootstrap: `options.replicates()` refits of `params` (warm-started at
/// `estimate`) on `data` resampled over its customers with replacement.
///
/// Each replicate is a multinomial draw of as many customers as the data hold over the
/// weighted rows (a row of 40 identical customers gets a binomial count, not 0 or 40), refitted
/// from the estimate ([`WarmStart`]). A replicate that does not refit is an error naming it,
/// never dropped: a distribution without its hard cases would be too narrow. Replicate i uses
/// its own ChaCha8 stream of the seed, so the draws are the same with or without the
/// `parallel` feature (which refits replicates on all cores). [`Draws::interval`] has an
/// example.
///
/// # Errors
///
/// [`BootstrapError::Settings`] for invalid settings, [`BootstrapError::InvalidParameter`] for
/// data without positive total weight, [`BootstrapError::Refit`] for the first replicate (in
/// replicate order) that did not refit, with the fit's error.
pub fn bootstrap<P, D>(
    params: &P,
    data: &D,
    estimate: &P::Model,
    options: &BootstrapOptions,
) -> Result<Draws<P::Model>, BootstrapError>
where
    P: WarmStart<D> + Fit<D, Error = FitError> + Sync,
    D: Resample + Sync + ?Sized,
    P::Model: Reparameterize + Clone + Send + Sync,
{
    use std::borrow::Borrow;
    let warm = params.warm_started(estimate);
    warm.check()
        .map_err(|e| BootstrapError::Settings(Box::new(e)))?;
    let weights = data.row_weights();
    let seed = options.seed;
    let replicate = |index: u32| -> Result<(P::Model, bool), BootstrapError> {
        let mut rng = stream(seed, index);
        let resampled = data.reweighted(&multinomial_weights(&weights, &mut rng)?)?;
        let refit_error = |source: FitError| BootstrapError::Refit {
            replicate: index,
            seed,
            source: Box::new(source),
        };
        match warm.fit(resampled.borrow()) {
            Ok(model) => Ok((model, false)),
            Err(FitError::Boundary { model, boundary }) if options.keep_boundary_estimates => {
                let values: Vec<f64> = boundary.estimate.iter().map(|(_, v)| *v).collect();
                match estimate.with_parameters(&values) {
                    Ok(at_limit) => Ok((at_limit, true)),
                    Err(_) => Err(refit_error(FitError::Boundary { model, boundary })),
                }
            }
            Err(source) => Err(refit_error(source)),
        }
    };
    #[cfg(feature = "parallel")]
    let fits: Vec<Result<(P::Model, bool), BootstrapError>> = {
        use rayon::prelude::*;
        (0..options.replicates)
            .into_par_iter()
            .map(replicate)
            .collect()
    };
    #[cfg(not(feature = "parallel"))]
    let fits: Vec<Result<(P::Model, bool), BootstrapError>> =
        (0..options.replicates).map(replicate).collect();
    let fits: Vec<(P::Model, bool)> = fits.into_iter().collect::<Result<_, _>>()?;
    let at_boundary = (0..options.replicates)
        .zip(&fits)
        .filter(|(_, (_, boundary))| *boundary)
        .map(|(i, _)| i)
        .collect();
    Ok(Draws {
        estimate: estimate.clone(),
        draws: fits.into_iter().map(|(m, _)| m).collect(),
        method: IntervalMethod::Bootstrap,
        seed,
        at_boundary,
    })
}

/// The parametric bootstrap: `options.replicates()` models at parameters drawn from the
/// asymptotic normal of the log-parameters around `estimate` (which must carry its covariance).
///
/// ```
/// use customer_assets::fit::Fit;
/// use customer_assets::models::bg_nbd::BgNbdParams;
/// use customer_assets::models::{parametric_bootstrap, BootstrapOptions, History};
/// use customer_assets::{Patterns, TimeUnit, TransactionModel};
///
/// let patterns = Patterns::new(TimeUnit::WEEKS, [
///     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
/// ])?;
/// let model = BgNbdParams::new().fit(&patterns)?;
/// let draws = parametric_bootstrap(&model, &BootstrapOptions::new(500, 3)?)?;
/// let e = draws.interval(0.9, |m| m.expected_purchases(&History::new(3, 30.0, 36.0), 52.0))?;
/// assert!(e.lower < e.estimate && e.estimate < e.upper);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`BootstrapError::NoCovariance`] for a model without covariance, [`BootstrapError::Shape`]
/// when the covariance does not match the parameters (or a parameter is not positive),
/// [`BootstrapError::NotPositiveDefinite`] for a covariance that is not,
/// [`BootstrapError::Draw`] when the model refuses a drawn parameter set.
pub fn parametric_bootstrap<M: Reparameterize + Clone>(
    estimate: &M,
    options: &BootstrapOptions,
) -> Result<Draws<M>, BootstrapError> {
    let covariance = estimate
        .parameter_covariance()
        .ok_or(BootstrapError::NoCovariance)?;
    let seed = options.seed;
    let draws = log_normal_draws(
        &estimate.parameter_names(),
        &estimate.parameter_values(),
        covariance,
        options,
    )?
    .into_iter()
    .enumerate()
    .map(|(draw, values)| {
        estimate
            .with_parameters(&values)
            .map_err(|source| BootstrapError::Draw {
                draw: draw as u32,
                seed,
                source,
            })
    })
    .collect::<Result<Vec<M>, _>>()?;
    Ok(Draws {
        estimate: estimate.clone(),
        draws,
        method: IntervalMethod::ParametricBootstrap,
        seed,
        at_boundary: Vec::new(),
    })
}

/// `options.replicates()` parameter vectors drawn from the asymptotic normal of the
/// log-parameters around `theta` (covariance `covariance` of the parameters themselves), draw i
/// from stream i of the seed.
pub(crate) fn log_normal_draws(
    names: &[String],
    theta: &[f64],
    covariance: &crate::fit::Covariance,
    options: &BootstrapOptions,
) -> Result<Vec<Vec<f64>>, BootstrapError> {
    let matrix = covariance.matrix();
    if matrix.len() != theta.len() || names.len() != theta.len() {
        return Err(BootstrapError::Shape(format!(
            "{} covariance rows for {} parameters",
            matrix.len(),
            theta.len()
        )));
    }
    if let Some((name, value)) = names
        .iter()
        .zip(theta)
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return Err(BootstrapError::Shape(format!(
            "{name} = {value} is not positive, so it has no log scale"
        )));
    }
    // Cov(ln θᵢ, ln θⱼ) = Cov(θᵢ, θⱼ) / (θᵢ θⱼ) (delta method).
    let log_covariance: Vec<Vec<f64>> = (0..theta.len())
        .map(|i| {
            (0..theta.len())
                .map(|j| matrix[i][j] / (theta[i] * theta[j]))
                .collect()
        })
        .collect();
    let factor =
        cholesky(&log_covariance).map_err(|(k, pivot)| BootstrapError::NotPositiveDefinite {
            name: names[k].clone(),
            pivot,
        })?;
    Ok((0..options.replicates)
        .map(|draw| {
            let mut rng = stream(options.seed, draw);
            let z: Vec<f64> = (0..theta.len())
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            (0..theta.len())
                .map(|i| {
                    let shift: f64 = (0..=i).map(|j| factor[i][j] * z[j]).sum();
                    theta[i] * shift.exp()
                })
                .collect()
        })
        .collect())
}

/// The lower-triangular L with L Lᵀ = `a`, for a positive semi-definite `a`: a pivot within
/// rounding of 0 (a parameter without variance) gives a zero column. `Err((k, pivot))` for a
/// clearly negative pivot.
#[allow(clippy::needless_range_loop)] // index notation mirrors the formulas
fn cholesky(a: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, (usize, f64)> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for j in 0..n {
        let pivot = a[j][j] - (0..j).map(|k| l[j][k] * l[j][k]).sum::<f64>();
        let tolerance = 1e-12 * a[j][j].abs().max(f64::MIN_POSITIVE);
        if !pivot.is_finite() || pivot < -tolerance {
            return Err((j, pivot));
        }
        if pivot <= tolerance {
            continue;
        }
        let d = pivot.sqrt();
        l[j][j] = d;
        for i in (j + 1)..n {
            l[i][j] = (a[i][j] - (0..j).map(|k| l[i][k] * l[j][k]).sum::<f64>()) / d;
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinomial_counts_keep_the_customers_and_follow_the_weights() {
        let weights = [40.0, 1.0, 0.0, 9.0, 50.0];
        let mut sums = [0.0; 5];
        for i in 0..2_000 {
            let counts = multinomial_weights(&weights, &mut stream(5, i)).unwrap();
            assert_eq!(counts.iter().sum::<f64>(), 100.0);
            assert!(counts.iter().all(|c| c.fract() == 0.0 && *c >= 0.0));
            assert_eq!(counts[2], 0.0);
            for (s, c) in sums.iter_mut().zip(&counts) {
                *s += c;
            }
        }
        // Each row's mean count is its weight: within 4 standard errors of 2,000 draws.
        for (s, w) in sums.iter().zip(weights) {
            let p: f64 = w / 100.0;
            let se = (100.0 * p * (1.0 - p) / 2_000.0).sqrt();
            assert!((s / 2_000.0 - w).abs() <= 4.0 * se + 1e-12, "{s} vs {w}");
        }
        // Fractional weights keep their total.
        let counts = multinomial_weights(&[0.5, 1.25, 2.5], &mut stream(1, 0)).unwrap();
        assert!((counts.iter().sum::<f64>() - 4.25).abs() < 1e-12);
        assert!(multinomial_weights(&[0.0, 0.0], &mut stream(1, 0)).is_err());
        assert!(multinomial_weights(&[f64::INFINITY], &mut stream(1, 0)).is_err());
    }

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let mut v: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let (lower, upper) = percentile_interval(&mut v, 0.9);
        assert!((lower - 5.0).abs() < 1e-12 && (upper - 95.0).abs() < 1e-12);
        let mut two = vec![1.0, 3.0];
        assert_eq!(percentile_interval(&mut two, 0.5), (1.5, 2.5));
        let mut one = vec![7.0];
        assert_eq!(percentile_interval(&mut one, 0.9), (7.0, 7.0));
    }

    #[test]
    fn cholesky_factors_and_accepts_a_zero_variance() {
        let a = vec![
            vec![4.0, 2.0, 0.0],
            vec![2.0, 10.0, 0.0],
            vec![0.0, 0.0, 0.0],
        ];
        let l = cholesky(&a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i][k] * l[j][k]).sum();
                assert!((v - a[i][j]).abs() < 1e-12);
            }
        }
        assert_eq!(
            cholesky(&[vec![1.0, 2.0], vec![2.0, 1.0]]).unwrap_err().0,
            1
        );
    }

    use crate::fit::Fit;
    use crate::models::bg_nbd::BgNbdParams;
    use crate::models::gamma_gamma::{GammaGammaParams, SpendData};
    use crate::summary::Patterns;
    use crate::TimeUnit;

    /// 2,000 customers simulated from the CDNOW BG/NBD estimates, exact times.
    fn patterns() -> Patterns {
        use crate::simulate::{simulate, BgNbdProcess, SimulationOptions};
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2024, 9, 29).unwrap();
        let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let options =
            SimulationOptions::new(2_000, start, end, TimeUnit::WEEKS, 3).acquisition_days(84);
        simulate(&process, &options).unwrap().patterns().clone()
    }

    #[test]
    fn a_seed_gives_the_same_draws_and_another_seed_others() {
        let params = BgNbdParams::new();
        let data = patterns();
        let model = params.fit(&data).unwrap();
        let run = |seed| {
            let options = BootstrapOptions::new(20, seed).unwrap();
            let draws = bootstrap(&params, &data, &model, &options).unwrap();
            draws
                .draws()
                .iter()
                .map(|m| m.parameter_values())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
        let parametric = |seed| {
            let options = BootstrapOptions::new(20, seed).unwrap();
            let draws = parametric_bootstrap(&model, &options).unwrap();
            assert_eq!(draws.method(), IntervalMethod::ParametricBootstrap);
            draws
                .draws()
                .iter()
                .map(|m| m.parameter_values())
                .collect::<Vec<_>>()
        };
        assert_eq!(parametric(4), parametric(4));
        assert_ne!(parametric(4), parametric(5));
    }

    /// Value stability (as rand's): the draws of a seed do not change between releases, nor
    /// with the `parallel` feature.
    #[test]
    fn the_draws_of_a_seed_are_stable() {
        let mut rng = stream(2026, 3);
        let counts = multinomial_weights(&[60.0, 20.0, 10.0, 6.0, 8.0, 5.0], &mut rng).unwrap();
        assert_eq!(counts, [57.0, 15.0, 12.0, 7.0, 9.0, 9.0]);
    }

    #[test]
    fn a_replicate_that_does_not_refit_is_an_error_naming_it() {
        // Five distinct histories: a resample that misses two leaves too few for 4 parameters.
        let data = Patterns::new(
            TimeUnit::WEEKS,
            [
                (0, 0.0, 38.0, 1.0),
                (1, 20.0, 38.0, 1.0),
                (3, 30.0, 36.0, 1.0),
                (6, 34.0, 37.0, 1.0),
                (2, 5.0, 35.0, 1.0),
            ],
        )
        .unwrap();
        let params = BgNbdParams::new();
        let model = params.fit(&data).unwrap();
        let err = bootstrap(
            &params,
            &data,
            &model,
            &BootstrapOptions::new(50, 1).unwrap(),
        )
        .unwrap_err();
        let BootstrapError::Refit {
            replicate, seed, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*seed, 1);
        assert!(
            err.to_string().contains(&format!("replicate {replicate} ")),
            "{err}"
        );
    }

    #[test]
    fn a_model_without_covariance_has_no_parametric_bootstrap() {
        let model = BgNbdParams::new().fit(&patterns()).unwrap();
        let bare = model.with_parameters(&model.parameter_values()).unwrap();
        let options = BootstrapOptions::new(10, 1).unwrap();
        assert_eq!(
            parametric_bootstrap(&bare, &options).unwrap_err(),
            BootstrapError::NoCovariance
        );
        assert!(BootstrapOptions::new(MAX_REPLICATES + 1, 1).is_err());
    }

    #[test]
    fn spend_data_resamples_and_refits() {
        let rows = (1..=40).map(|i| {
            (
                1 + i % 5,
                10.0 + f64::from(i * 7 % 23),
                1.0 + f64::from(i % 3),
            )
        });
        let data = SpendData::new(rows).unwrap();
        let params = GammaGammaParams::new();
        let model = params.fit(&data).unwrap();
        let draws = bootstrap(
            &params,
            &data,
            &model,
            &BootstrapOptions::new(30, 9).unwrap(),
        )
        .unwrap();
        let summaries = draws.parameter_summaries(0.9).unwrap();
        assert_eq!(summaries.len(), 3);
        for s in &summaries {
            assert!(s.lower <= s.upper && s.standard_deviation > 0.0, "{s:?}");
        }
        assert!(draws.parameter_summaries(1.0).is_err());
    }

    #[test]
    fn refits_at_a_boundary_end_the_bootstrap_or_are_kept_when_asked() {
        use crate::models::pareto_nbd::ParetoNbdParams;
        use crate::simulate::{simulate, ParetoNbdProcess, SimulationOptions};
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2024, 9, 29).unwrap();
        let process = ParetoNbdProcess::new(0.553, 10.578, 0.606, 11.669).unwrap();
        let options =
            SimulationOptions::new(1_000, start, end, TimeUnit::WEEKS, 3).acquisition_days(84);
        let data = simulate(&process, &options).unwrap().patterns().clone();
        let params = ParetoNbdParams::new();
        let model = params.fit(&data).unwrap();
        let options = BootstrapOptions::new(60, 1).unwrap();
        let Err(err) = bootstrap(&params, &data, &model, &options) else {
            panic!("every refit converged");
        };
        let BootstrapError::Refit {
            replicate, source, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert!(matches!(**source, FitError::Boundary { .. }), "{err}");
        let kept = bootstrap(
            &params,
            &data,
            &model,
            &options.keep_boundary_estimates(true),
        )
        .unwrap();
        assert_eq!(kept.len(), 60);
        assert_eq!(kept.at_boundary().first(), Some(replicate));
        // The kept replicates are models near the limit: they predict.
        let h = crate::models::History::new(2, 20.0, 30.0);
        let p = kept
            .interval(0.9, |m| crate::TransactionModel::p_alive(m, &h, 0.0))
            .unwrap();
        assert!(
            0.0 < p.lower && p.lower <= p.upper && p.upper < 1.0,
            "{p:?}"
        );
    }
}
