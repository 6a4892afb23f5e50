//! Intervals for predictions from the uncertainty of the fitted parameters, by the delta method.
//!
//! A prediction f(θ) of a fitted model (P(alive), expected purchases, DERT, …) varies with the
//! parameters θ, whose covariance Σ the fit keeps. The delta method takes
//! var f ≈ ∇f(θ)ᵀ Σ ∇f(θ), with the gradient by central differences on the log scale of each
//! parameter (θₖ · e^(±h), h = 10⁻⁵: the truncation error is O(h²) ≈ 10⁻¹⁰ relative and the
//! rounding error ≈ 10⁻¹¹, far below any standard error). The interval is made on a scale where
//! the prediction is closer to normal and cannot leave its range: the logit for a probability,
//! the logarithm for a positive quantity.

use super::error::PredictError;
use crate::error::InvalidParameter;
use crate::fit::{two_sided_normal_quantile, Covariance};

/// The relative step of the central differences, on the log scale of each parameter.
const STEP: f64 = 1e-5;

/// A parameter moved one step up (`sign` 1) or down (−1) for a central difference: by the
/// factor exp(±STEP) (so a positive parameter stays positive), or by ±STEP for a parameter at
/// exactly 0 (a covariate coefficient), which no factor moves.
pub(crate) fn stepped(value: f64, sign: f64) -> f64 {
    if value == 0.0 {
        sign * STEP
    } else {
        value * (sign * STEP).exp()
    }
}

/// The width of [`stepped`]'s central difference in the parameter's own units, to 1e-10
/// relative: 2 STEP × value, or 2 STEP at 0.
pub(crate) fn step_width(value: f64) -> f64 {
    if value == 0.0 {
        2.0 * STEP
    } else {
        2.0 * STEP * value
    }
}

/// A fitted model that can be rebuilt at other values of its parameters, keeping its time unit:
/// what the delta method and the bootstraps need of a model. Every model of the crate
/// implements it; a downstream model implements it with its own constructor.
pub trait Reparameterize: Sized {
    /// The parameters' names, in the covariance's order.
    fn parameter_names(&self) -> Vec<String>;
    /// The parameters' values, in the covariance's order.
    fn parameter_values(&self) -> Vec<f64>;
    /// The covariance of the fitted parameters (`None` when the model was not fitted).
    fn parameter_covariance(&self) -> Option<&Covariance>;
    /// The model with these parameter values, without covariance or fit report.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] for values the model does not accept.
    fn with_parameters(&self, values: &[f64]) -> Result<Self, InvalidParameter>;
}

/// [`TransactionModel::reparameterized`](crate::TransactionModel::reparameterized) of a model
/// that implements [`Reparameterize`]: the one body every transaction model of the crate shares.
pub(crate) fn boxed_transaction<M>(
    model: &M,
    values: &[f64],
) -> Option<Result<Box<dyn super::transaction_model::TransactionModel>, InvalidParameter>>
where
    M: Reparameterize + super::transaction_model::TransactionModel + 'static,
{
    Some(model.with_parameters(values).map(|m| Box::new(m) as _))
}

/// [`SpendModel::reparameterized`](crate::SpendModel::reparameterized) of a model that
/// implements [`Reparameterize`].
pub(crate) fn boxed_spend<M>(
    model: &M,
    values: &[f64],
) -> Option<Result<Box<dyn super::spend_model::SpendModel>, InvalidParameter>>
where
    M: Reparameterize + super::spend_model::SpendModel + 'static,
{
    Some(model.with_parameters(values).map(|m| Box::new(m) as _))
}

/// Mean and (n − 1) standard deviation; 0 for one value.
pub(crate) fn mean_and_deviation(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

/// The (1 − level)/2 and (1 + level)/2 quantiles (linear interpolation between order
/// statistics, Hyndman & Fan's type 7), sorting `values`.
pub(crate) fn percentile_interval(values: &mut [f64], level: f64) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let quantile = |p: f64| -> f64 {
        let Some(last) = values.len().checked_sub(1) else {
            return f64::NAN;
        };
        let h = p * last as f64;
        let below = (h.floor() as usize).min(last);
        let above = (below + 1).min(last);
        values[below] + (h - below as f64) * (values[above] - values[below])
    };
    (quantile((1.0 - level) / 2.0), quantile((1.0 + level) / 2.0))
}

/// `values` as exactly the `N` parameters `names`, for [`Reparameterize::with_parameters`].
pub(crate) fn exactly<const N: usize>(
    values: &[f64],
    _names: &[&str; N],
) -> Result<[f64; N], InvalidParameter> {
    <[f64; N]>::try_from(values).map_err(|_| {
        InvalidParameter::new(
            "values",
            values.len() as f64,
            "the number of values differs from the model's number of parameters",
        )
    })
}

/// Implements [`Reparameterize`] for a model with an inherent `covariance()` from its parameter
/// names and its values as an array, and a constructor from such an array.
macro_rules! reparameterize {
    ($model:ty, $names:expr, |$m:ident| $values:expr, |$own:ident, $array:ident| $build:expr) => {
        impl $crate::models::uncertainty::Reparameterize for $model {
            fn parameter_names(&self) -> Vec<String> {
                $names.iter().map(|n| n.to_string()).collect()
            }
            fn parameter_values(&self) -> Vec<f64> {
                let $m = self;
                $values.to_vec()
            }
            fn parameter_covariance(&self) -> Option<&$crate::fit::Covariance> {
                self.covariance()
            }
            fn with_parameters(
                &self,
                values: &[f64],
            ) -> Result<Self, $crate::error::InvalidParameter> {
                let $own = self;
                let $array = $crate::models::uncertainty::exactly(values, &$names)?;
                $build
            }
        }
    };
}
pub(crate) use reparameterize;

/// The scale an interval is made on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A probability, in [0, 1]: the interval is symmetric on the logit scale.
    Probability,
    /// A positive quantity: the interval is symmetric on the log scale.
    Positive,
}

/// How an interval was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum IntervalMethod {
    /// The delta method ([`delta_interval`]).
    Delta,
    /// Percentiles over draws from the parameters' asymptotic normal
    /// ([`parametric_bootstrap`](crate::models::parametric_bootstrap)).
    ParametricBootstrap,
    /// Percentiles over refits on resampled customers ([`bootstrap`](crate::models::bootstrap())).
    Bootstrap,
}

impl IntervalMethod {
    /// The method's name as in reports and the `clv` tool: `delta`, `parametric-bootstrap`,
    /// `bootstrap`.
    pub fn name(&self) -> &'static str {
        match self {
            IntervalMethod::Delta => "delta",
            IntervalMethod::ParametricBootstrap => "parametric-bootstrap",
            IntervalMethod::Bootstrap => "bootstrap",
        }
    }
}

/// A prediction with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PredictionInterval {
    /// The prediction at the estimate.
    pub estimate: f64,
    /// Its standard error, on the prediction's own scale (the delta method's, or the standard
    /// deviation of the draws).
    pub standard_error: f64,
    /// The lower end.
    pub lower: f64,
    /// The upper end.
    pub upper: f64,
    /// The confidence level.
    pub level: f64,
    /// How the interval was made.
    pub method: IntervalMethod,
}

impl PredictionInterval {
    /// The percentile interval at `level` of a prediction whose value at the estimate is
    /// `estimate` and at each of a bootstrap's draws is in `draws` (the quantiles at (1 ± level)/2,
    /// interpolated between order statistics), with the draws' standard deviation as its
    /// standard error: how [`Draws::interval`](crate::models::Draws::interval) is made, open to
    /// predictions that combine several models' draws (CLV from paired transaction and spend
    /// draws).
    ///
    /// ```
    /// use customer_assets::models::{IntervalMethod, PredictionInterval};
    /// let draws: Vec<f64> = (0..=100).map(f64::from).collect();
    /// let i = PredictionInterval::from_draws(50.0, &draws, 0.9, IntervalMethod::Bootstrap)?;
    /// assert!((i.lower - 5.0).abs() < 1e-9 && (i.upper - 95.0).abs() < 1e-9);
    /// # Ok::<(), customer_assets::models::IntervalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`IntervalError::Level`] for a level outside (0, 1), [`IntervalError::NotFinite`] for no
    /// draws or a value that is not finite.
    pub fn from_draws(
        estimate: f64,
        draws: &[f64],
        level: f64,
        method: IntervalMethod,
    ) -> Result<PredictionInterval, IntervalError> {
        if !(level > 0.0 && level < 1.0) {
            return Err(IntervalError::Level(level));
        }
        if let Some(bad) = std::iter::once(estimate)
            .chain(draws.iter().copied())
            .find(|v| !v.is_finite())
        {
            return Err(IntervalError::NotFinite(bad));
        }
        if draws.is_empty() {
            return Err(IntervalError::NotFinite(f64::NAN));
        }
        let (_, standard_error) = mean_and_deviation(draws);
        let (lower, upper) = percentile_interval(&mut draws.to_vec(), level);
        Ok(PredictionInterval {
            estimate,
            standard_error,
            lower,
            upper,
            level,
            method,
        })
    }

    /// The delta-method interval of `factor` × this prediction × `other`, two positive
    /// predictions of independent parameter sets (a transaction model's DERT and a spend model's
    /// expected spend, fitted separately: CLV = DERT × spend × margin). On the log scale their
    /// variances add: se(ln xy) = √((se_x/x)² + (se_y/y)²), and the interval is symmetric there.
    ///
    /// ```
    /// use customer_assets::models::{IntervalMethod, PredictionInterval};
    /// let at = |estimate: f64, standard_error: f64| PredictionInterval {
    ///     estimate, standard_error, lower: 0.0, upper: 0.0, level: 0.9, method: IntervalMethod::Delta,
    /// };
    /// // Relative errors of 3% and 4% make 5%.
    /// let clv = at(10.0, 0.3).product(&at(2.0, 0.08), 0.5)?;
    /// assert!((clv.estimate - 10.0).abs() < 1e-12 && (clv.standard_error - 0.5).abs() < 1e-12);
    /// assert!(clv.lower < 10.0 && 10.0 < clv.upper);
    /// # Ok::<(), customer_assets::models::IntervalError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`IntervalError::Level`] when the levels differ, [`IntervalError::NotFinite`] for a
    /// factor that is not positive and finite or a product that is not finite,
    /// [`IntervalError::AtBoundary`] for a prediction of 0 that varies.
    pub fn product(
        &self,
        other: &PredictionInterval,
        factor: f64,
    ) -> Result<PredictionInterval, IntervalError> {
        if self.level != other.level {
            return Err(IntervalError::Level(other.level));
        }
        if !(factor.is_finite() && factor > 0.0) {
            return Err(IntervalError::NotFinite(factor));
        }
        let estimate = factor * self.estimate * other.estimate;
        if !estimate.is_finite() {
            return Err(IntervalError::NotFinite(estimate));
        }
        let relative = |p: &PredictionInterval| -> Result<f64, IntervalError> {
            if p.standard_error == 0.0 {
                Ok(0.0)
            } else if p.estimate > 0.0 {
                Ok(p.standard_error / p.estimate)
            } else {
                Err(IntervalError::AtBoundary {
                    estimate: p.estimate,
                })
            }
        };
        let log_se = relative(self)?.hypot(relative(other)?);
        let half = two_sided_normal_quantile(self.level) * log_se;
        Ok(PredictionInterval {
            estimate,
            standard_error: estimate * log_se,
            lower: estimate * (-half).exp(),
            upper: estimate * half.exp(),
            level: self.level,
            method: IntervalMethod::Delta,
        })
    }
}

/// Why an interval could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalError {
    /// The model carries no covariance (it was not fitted, or its Hessian was not invertible).
    #[error("the model has no covariance of its parameters (fit it to get one)")]
    NoCovariance,
    /// The covariance is not of the model's parameters.
    #[error("the covariance has {covariance} parameters, the model {model}")]
    CovarianceMismatch {
        /// The covariance's parameters.
        covariance: usize,
        /// The model's parameters.
        model: usize,
    },
    /// A confidence level outside (0, 1).
    #[error("confidence level {0} is not between 0 and 1")]
    Level(f64),
    /// The prediction is at the edge of its scale (a probability of 0 or 1, a quantity of 0)
    /// yet varies with the parameters: no interval on that scale contains it.
    #[error(
        "the prediction {estimate} is at the edge of its scale but varies with the parameters"
    )]
    AtBoundary {
        /// The prediction.
        estimate: f64,
    },
    /// An element of a batch ([`delta_intervals`]) has no interval.
    #[error("element {index}: {source}")]
    AtElement {
        /// The element's index in the batch.
        index: usize,
        /// Why.
        source: Box<IntervalError>,
    },
    /// A parameter value at a difference step is not accepted by the model.
    #[error("a parameter step: {0}")]
    Parameter(#[from] InvalidParameter),
    /// The prediction failed at the estimate or at a step.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// The prediction failed, or was not finite, at one of a bootstrap's draws.
    #[error("at draw {draw}: {source}")]
    AtDraw {
        /// The draw's index (0-based).
        draw: usize,
        /// The prediction's error.
        source: PredictError,
    },
    /// The variance (or the prediction) is not finite.
    #[error("the delta-method variance of the prediction is not finite ({0})")]
    NotFinite(f64),
}

/// The delta-method interval at confidence `level` of the prediction `predict` of a fitted
/// `model`, made on `scale`.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::fit::Fit;
/// use customer_assets::models::bg_nbd::BgNbdParams;
/// use customer_assets::models::{delta_interval, Scale};
/// use customer_assets::simulate::{simulate, BgNbdProcess, SimulationOptions};
/// use customer_assets::{Grain, History, ReturnPolicy, SummaryAccumulator, SummaryOptions};
/// use customer_assets::{TimeUnit, TransactionModel};
///
/// // 3,000 customers from the CDNOW BG/NBD estimates over 39 weeks, fitted back.
/// let (start, end) = (NaiveDate::from_ymd_opt(2024, 1, 1), NaiveDate::from_ymd_opt(2024, 9, 29));
/// let (start, end) = (start.ok_or("date")?, end.ok_or("date")?);
/// let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426)?;
/// let options = SimulationOptions::new(3_000, start, end, TimeUnit::WEEKS, 7).acquisition_days(84);
/// let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
/// acc.extend(simulate(&process, &options)?.transactions());
/// let patterns = acc.finish(&SummaryOptions::new(end, TimeUnit::WEEKS))?.patterns();
/// let model = BgNbdParams::new().fit(&patterns)?;
///
/// // A customer with 2 repeat purchases, the last in week 30 of 38.9.
/// let customer = History::new(2, 30.0, 38.9);
/// let p = delta_interval(&model, 0.9, Scale::Probability, |m| m.p_alive(&customer, 0.0))?;
/// assert!(0.0 < p.lower && p.lower < p.estimate && p.estimate < p.upper && p.upper < 1.0);
/// let e = delta_interval(&model, 0.9, Scale::Positive, |m| m.expected_purchases(&customer, 52.0))?;
/// assert!(e.lower < e.estimate && e.estimate < e.upper);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`IntervalError`]: no covariance, a level outside (0, 1), a prediction that fails or is at the
/// edge of its scale while varying, a variance that is not finite.
pub fn delta_interval<M: Reparameterize>(
    model: &M,
    level: f64,
    scale: Scale,
    predict: impl Fn(&M) -> Result<f64, PredictError>,
) -> Result<PredictionInterval, IntervalError> {
    let mut intervals = delta_intervals(model, level, scale, |m| Ok(vec![predict(m)?]))?;
    intervals.pop().ok_or(IntervalError::NotFinite(f64::NAN))
}

/// The delta-method intervals of a batch of predictions of a fitted `model` (one per customer,
/// say, from the model's batch methods), made on `scale`: the batch is predicted at the
/// estimate and at two steps of each parameter, 2d + 1 batches in all, so a million customers
/// cost what nine batch predictions cost.
///
/// ```
/// use customer_assets::fit::Fit;
/// use customer_assets::models::bg_nbd::BgNbdParams;
/// use customer_assets::models::{delta_interval, delta_intervals, History, Scale};
/// use customer_assets::{Patterns, TimeUnit, TransactionModel};
///
/// let patterns = Patterns::new(TimeUnit::WEEKS, [
///     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
/// ])?;
/// let model = BgNbdParams::new().fit(&patterns)?;
/// let customers = [History::new(3, 30.0, 36.0), History::new(1, 5.0, 38.0)];
/// let all = delta_intervals(&model, 0.9, Scale::Positive, |m| {
///     m.expected_purchases_batch(&customers, 52.0)
/// })?;
/// let one = delta_interval(&model, 0.9, Scale::Positive, |m| m.expected_purchases(&customers[1], 52.0))?;
/// // The batch path and the single one agree to rounding (the differences amplify it 10⁵×).
/// assert!((all[1].upper - one.upper).abs() < 1e-6 * one.upper);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`delta_interval`]'s; an element at the edge of its scale is
/// [`IntervalError::AtElement`] with its index, and a batch whose length changes with the
/// parameters is [`IntervalError::NotFinite`].
pub fn delta_intervals<M: Reparameterize>(
    model: &M,
    level: f64,
    scale: Scale,
    predict: impl Fn(&M) -> Result<Vec<f64>, PredictError>,
) -> Result<Vec<PredictionInterval>, IntervalError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(IntervalError::Level(level));
    }
    let covariance = model
        .parameter_covariance()
        .ok_or(IntervalError::NoCovariance)?;
    let theta = model.parameter_values();
    check_shape(covariance, theta.len())?;
    let estimates = predict(model)?;
    // ∂f/∂θₖ = (∂f/∂ln θₖ) / θₖ, the former by central differences, per element.
    let mut gradients: Vec<Vec<f64>> = Vec::with_capacity(theta.len());
    for k in 0..theta.len() {
        let at = |sign: f64| -> Result<Vec<f64>, IntervalError> {
            let mut values = theta.clone();
            values[k] = stepped(theta[k], sign);
            let batch = predict(&model.with_parameters(&values)?)?;
            if batch.len() == estimates.len() {
                Ok(batch)
            } else {
                Err(IntervalError::NotFinite(batch.len() as f64))
            }
        };
        let (up, down) = (at(1.0)?, at(-1.0)?);
        gradients.push(
            up.iter()
                .zip(&down)
                .map(|(u, d)| (u - d) / step_width(theta[k]))
                .collect(),
        );
    }
    let matrix = covariance.matrix();
    let z = two_sided_normal_quantile(level);
    let one = |(index, &estimate): (usize, &f64)| -> Result<PredictionInterval, IntervalError> {
        let variance: f64 = (0..theta.len())
            .map(|i| {
                (0..theta.len())
                    .map(|j| gradients[i][index] * matrix[i][j] * gradients[j][index])
                    .sum::<f64>()
            })
            .sum();
        interval_at(estimate, variance, z, scale, level).map_err(|e| match e {
            IntervalError::AtBoundary { .. } if estimates.len() > 1 => IntervalError::AtElement {
                index,
                source: Box::new(e),
            },
            e => e,
        })
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        estimates.par_iter().enumerate().map(one).collect()
    }
    #[cfg(not(feature = "parallel"))]
    estimates.iter().enumerate().map(one).collect()
}

/// The interval at `level` (normal quantile `z`) of a prediction with this delta-method
/// variance, made on `scale`.
pub(crate) fn interval_at(
    estimate: f64,
    variance: f64,
    z: f64,
    scale: Scale,
    level: f64,
) -> Result<PredictionInterval, IntervalError> {
    if !variance.is_finite() {
        return Err(IntervalError::NotFinite(variance));
    }
    if !estimate.is_finite() {
        return Err(IntervalError::NotFinite(estimate));
    }
    let standard_error = variance.max(0.0).sqrt();
    let inside = match scale {
        Scale::Probability => estimate > 0.0 && estimate < 1.0,
        Scale::Positive => estimate > 0.0,
    };
    let (lower, upper) = if standard_error == 0.0 {
        (estimate, estimate)
    } else if !inside {
        return Err(IntervalError::AtBoundary { estimate });
    } else {
        match scale {
            // d logit(p)/dp = 1 / (p (1 − p)).
            Scale::Probability => {
                let centre = (estimate / (1.0 - estimate)).ln();
                let half = z * standard_error / (estimate * (1.0 - estimate));
                let back = |l: f64| 1.0 / (1.0 + (-l).exp());
                (back(centre - half), back(centre + half))
            }
            Scale::Positive => {
                let half = z * standard_error / estimate;
                (estimate * (-half).exp(), estimate * half.exp())
            }
        }
    };
    Ok(PredictionInterval {
        estimate,
        standard_error,
        lower,
        upper,
        level,
        method: IntervalMethod::Delta,
    })
}

fn check_shape(covariance: &Covariance, parameters: usize) -> Result<(), IntervalError> {
    if covariance.names().len() == parameters {
        Ok(())
    } else {
        Err(IntervalError::CovarianceMismatch {
            covariance: covariance.names().len(),
            model: parameters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::Fit;
    use crate::models::bg_nbd::BgNbdParams;
    use crate::models::pareto_nbd::ParetoNbdParams;
    use crate::models::History;
    use crate::models::TransactionModel;
    use crate::summary::Patterns;
    use crate::TimeUnit;

    /// 3,000 customers simulated from Fader, Hardie & Lee's CDNOW BG/NBD estimates over 39
    /// weeks (fixed seed).
    fn patterns() -> Patterns {
        use crate::simulate::{simulate, BgNbdProcess, SimulationOptions};
        use crate::summary::{Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions};
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(2024, 9, 29).unwrap();
        let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426).unwrap();
        let options =
            SimulationOptions::new(3_000, start, end, TimeUnit::WEEKS, 7).acquisition_days(84);
        let base = simulate(&process, &options).unwrap();
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        acc.extend(base.transactions());
        acc.finish(&SummaryOptions::new(end, TimeUnit::WEEKS))
            .unwrap()
            .patterns()
    }

    /// A parameter as its own prediction: the delta-method interval on the log scale is the
    /// Wald interval of the parameter, and its standard error the parameter's.
    #[test]
    fn a_parameter_s_own_interval_is_its_wald_interval() {
        let bg = BgNbdParams::new().fit(&patterns()).unwrap();
        let cov = bg.covariance().unwrap();
        let values: Vec<f64> = bg.named_parameters().iter().map(|p| p.1).collect();
        let wald = cov.wald_intervals(&values, 0.9).unwrap();
        for (k, w) in wald.iter().enumerate() {
            let d = delta_interval(&bg, 0.9, Scale::Positive, |m| Ok(m.named_parameters()[k].1))
                .unwrap();
            let se = cov.standard_errors()[k];
            assert!(
                (d.standard_error - se).abs() < 1e-8 * se,
                "{k}: {d:?} vs {se}"
            );
            assert!((d.lower - w.lower).abs() < 1e-8 * w.lower, "{k}");
            assert!((d.upper - w.upper).abs() < 1e-8 * w.upper, "{k}");
        }
    }

    #[test]
    fn predictions_get_intervals_inside_their_range() {
        let bg = BgNbdParams::new().fit(&patterns()).unwrap();
        let pareto = ParetoNbdParams::new().fit(&patterns()).unwrap();
        let h = History::new(2, 30.0, 38.9);
        for level in [0.5, 0.9, 0.99] {
            let p =
                delta_interval(&pareto, level, Scale::Probability, |m| m.p_alive(&h, 0.0)).unwrap();
            assert!(0.0 < p.lower && p.lower < p.estimate && p.estimate < p.upper && p.upper < 1.0);
            let e = delta_interval(&bg, level, Scale::Positive, |m| {
                m.expected_purchases(&h, 52.0)
            })
            .unwrap();
            assert!(0.0 < e.lower && e.lower < e.estimate && e.estimate < e.upper);
        }
        // Wider at a higher level.
        let at =
            |level| delta_interval(&bg, level, Scale::Positive, |m| m.dert(&h, 0.002)).unwrap();
        assert!(at(0.99).upper - at(0.99).lower > at(0.5).upper - at(0.5).lower);
        // BG/NBD's P(alive) of a customer with no repeat purchase is 1 whatever the parameters:
        // a point, not an error.
        let zero = History::new(0, 0.0, 38.9);
        let one = delta_interval(&bg, 0.9, Scale::Probability, |m| m.p_alive(&zero, 0.0)).unwrap();
        assert_eq!((one.lower, one.estimate, one.upper), (1.0, 1.0, 1.0));
    }

    #[test]
    fn models_without_covariance_and_bad_levels_are_errors() {
        let bg = BgNbdParams::new().fit(&patterns()).unwrap();
        let h = History::new(2, 30.0, 38.9);
        for level in [0.0, 1.0, -0.5, f64::NAN] {
            let err = delta_interval(&bg, level, Scale::Probability, |m| m.p_alive(&h, 0.0));
            assert!(
                matches!(err, Err(IntervalError::Level(_))),
                "{level}: {err:?}"
            );
        }
        let values: Vec<f64> = bg.named_parameters().iter().map(|p| p.1).collect();
        let bare = bg.with_parameters(&values).unwrap();
        assert_eq!(
            delta_interval(&bare, 0.9, Scale::Probability, |m| m.p_alive(&h, 0.0)).unwrap_err(),
            IntervalError::NoCovariance
        );
    }
}
