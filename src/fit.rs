//! Fitting, one vocabulary for every model.
//!
//! Every model comes in four parts, as in linfa:
//!
//! | part | what it is | example |
//! |---|---|---|
//! | `XParams` | validated fit *settings* (builder): [`FitOptions`], starting values | [`BgNbdParams`](crate::models::bg_nbd::BgNbdParams) |
//! | [`Fit`] | `params.fit(&data)` → the fitted model, or a [`FitError`] | `BgNbdParams::new().fit(&patterns)?` |
//! | `X` | the model: its parameters, their [`Covariance`] and standard errors, the [`FitReport`], the time unit; all predictions | [`BgNbd`](crate::models::bg_nbd::BgNbd) |
//! | `XParameters` | the plain parameter values, to build `X` without fitting (`X::new`) | [`BgNbdParameters`](crate::models::bg_nbd::BgNbdParameters) |
//!
//! Settings are checked in one place: [`Fit::check`] (which every `fit` calls first, and which
//! [`ValuationBuilder::build`](crate::valuation::ValuationBuilder::build) calls before any work).
//!
//! ```
//! use customer_assets::fit::{Fit, FitOptions};
//! use customer_assets::models::bg_nbd::BgNbdParams;
//! use customer_assets::{Patterns, TimeUnit};
//!
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
//! ])?;
//! let params = BgNbdParams::new().fit_options(FitOptions::new().penalty(0.001));
//! let model = params.fit(&patterns)?;
//! let report = model.report().ok_or("fitted models carry their report")?;
//! assert!(report.converged);
//! let covariance = model.covariance().ok_or("and their covariance")?;
//! assert_eq!(covariance.names(), ["r", "alpha", "a", "b"]);
//! assert!(BgNbdParams::new().fit_options(FitOptions::new().penalty(-1.0)).check().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::InvalidParameter;

/// Fits a model to data: implemented by every model's settings (`XParams`), as linfa's `Fit`.
///
/// A downstream crate implements it for its own settings type; the valuation builder accepts
/// any `Fit<Patterns>` whose model is a [`TransactionModel`](crate::TransactionModel) and any
/// `Fit<SpendData>` whose model is a [`SpendModel`](crate::SpendModel).
pub trait Fit<D: ?Sized> {
    /// The fitted model.
    type Model;
    /// Why checking or fitting failed.
    type Error;

    /// Checks the settings without any data (the defaults accept everything). `fit` calls it
    /// first; callers that assemble a pipeline call it early to fail before any work.
    ///
    /// # Errors
    /// The settings' first invalid value.
    fn check(&self) -> Result<(), Self::Error> {
        Ok(())
    }

    /// Fits the model to `data`.
    ///
    /// # Errors
    /// Invalid settings, data that cannot identify the model, or a fit that did not converge.
    fn fit(&self, data: &D) -> Result<Self::Model, Self::Error>;
}

/// Why a model could not be fitted: the error of every model's [`Fit`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FitError {
    /// A setting or starting value is out of range.
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// The data cannot identify the model (no customers, no repeat purchase, no cohort).
    #[error("cannot fit {model}: {reason}")]
    NoData {
        /// The model.
        model: &'static str,
        /// What is missing.
        reason: &'static str,
    },
    /// The optimizer failed (did not converge, or the likelihood could not be evaluated); the
    /// source carries its diagnostics.
    #[error("fitting {model} failed: {source}")]
    Optimizer {
        /// The model.
        model: &'static str,
        /// The optimizer's error with its report.
        #[source]
        source: OptimizerError,
    },
    /// The estimate is not a usable model (for Gamma-Gamma, q ≤ 1: an infinite mean spend).
    #[error("{model} estimate is not usable: {reason}")]
    Unusable {
        /// The model.
        model: &'static str,
        /// Why, with the estimate.
        reason: String,
        /// The fit's report.
        report: Box<FitReport>,
    },
    /// The likelihood or its Hessian could not be computed at the estimate.
    #[error("numerical failure fitting {model}: {detail}")]
    Numerical {
        /// The model.
        model: &'static str,
        /// Diagnostics.
        detail: String,
    },
    /// The data cannot identify the model, found before optimising (for example a single distinct
    /// history, no time observed, every spend equal): the reason says what is missing, in words.
    #[error("cannot fit {model}: the data cannot identify it: {reason}")]
    NotIdentified {
        /// The model.
        model: &'static str,
        /// What the data lack.
        reason: String,
    },
    /// The covariates cannot enter the model: a column the design lacks, a constrained column
    /// outside either process, a constant or collinear column.
    #[error("cannot fit {model} with these covariates: {source}")]
    Covariates {
        /// The model.
        model: &'static str,
        /// What is wrong with the covariates.
        #[source]
        source: crate::covariates::CovariateError,
    },
    /// An input number lies beyond what the model can evaluate in f64 or beyond a documented size
    /// limit (such as [`MAX_TOTAL_WEIGHT`] or [`MAX_TIME_SPAN`]).
    #[error("cannot fit {model}: {reason}")]
    OutOfRange {
        /// The model.
        model: &'static str,
        /// Which number, its value and the limit.
        reason: String,
    },
    /// The likelihood has no maximum inside the parameter space: it keeps rising towards a
    /// boundary (for example a → 0 in BG/NBD: nobody drops out). The boundary estimate says which
    /// limit and what it means; the caller can fall back to the limiting model.
    #[error("fitting {model}: the likelihood is largest on the boundary of the parameter space: {boundary}")]
    Boundary {
        /// The model.
        model: &'static str,
        /// The limit, the last estimate and the report.
        boundary: Box<BoundaryEstimate>,
    },
}

impl FitError {
    /// The optimizer's estimate is not a valid parameter set for `model`.
    pub(crate) fn invalid_estimate(model: &'static str, error: InvalidParameter) -> Self {
        FitError::Numerical {
            model,
            detail: format!("the estimate is not a valid parameter set: {error}"),
        }
    }

    /// The boundary estimate of a [`FitError::Boundary`], `None` for any other error.
    pub fn boundary(&self) -> Option<&BoundaryEstimate> {
        match self {
            FitError::Boundary { boundary, .. } => Some(boundary),
            _ => None,
        }
    }

    /// The (first) limit of a [`FitError::Boundary`], `None` for any other error: the one thing a
    /// caller matches to fall back to the limiting model, e.g.
    /// `Some(Limit::NoSpendHeterogeneity)` → value spend at the population mean.
    pub fn boundary_limit(&self) -> Option<Limit> {
        self.boundary().and_then(|b| b.limits.first().copied())
    }
}

/// Largest total weight (number of customers, or of acquired customers in cohorts) a fit
/// accepts: 2⁵³, the largest count an f64 holds exactly. Beyond it customers cannot be counted,
/// and weighted log-likelihood sums overflow long before 1e308.
pub const MAX_TOTAL_WEIGHT: f64 = 9_007_199_254_740_992.0;

/// [`FitError::OutOfRange`] unless `total` (a sum of weights) is within [`MAX_TOTAL_WEIGHT`].
pub(crate) fn check_total_weight(model: &'static str, total: f64) -> Result<(), FitError> {
    if total <= MAX_TOTAL_WEIGHT {
        return Ok(());
    }
    let total = if total.is_finite() {
        format!("{total:.3e}")
    } else {
        "beyond the largest f64".to_string()
    };
    Err(FitError::OutOfRange {
        model,
        reason: format!(
            "the total weight (number of customers) is {total}, above the limit {MAX_TOTAL_WEIGHT:.3e}"
        ),
    })
}

/// Largest recency or age (in the data's own time unit) the continuous-time fits accept: 1e12,
/// beyond any observation in any unit down to milliseconds (1e12 ms ≈ 32 years), while the rate
/// parameters fitted on such a time axis stay comfortably inside f64.
pub const MAX_TIME_SPAN: f64 = 1e12;

/// A limit of the parameter space where a likelihood can keep rising without a maximum, and
/// which simpler model it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Nobody drops out (BG/NBD a → 0 or b → ∞; Pareto/NBD s/β → 0; BG/BB and sBG: churn
    /// probability → 0): the limiting model is the NBD purchase model without dropout, or a
    /// lifetime that never ends.
    NoDropout,
    /// Everybody drops out at the first opportunity (sBG/BdW: churn probability → 1).
    EveryoneDropsOut,
    /// Every customer buys at the same rate (r, α → ∞ with r/α fixed; BG/BB α, β → ∞): no
    /// purchase heterogeneity, a Poisson (or Bernoulli) purchase process.
    NoPurchaseHeterogeneity,
    /// Every customer has the same dropout rate or probability (both shapes → ∞ with their
    /// ratio fixed): a homogeneous (geometric or exponential) lifetime.
    NoDropoutHeterogeneity,
    /// Every customer has the same expected spend per transaction (Gamma-Gamma q, γ → ∞ with
    /// pγ/(q − 1) fixed): value spend at the population mean.
    NoSpendHeterogeneity,
    /// Lifetimes do not age (GGompertz/NBD b → 0 with β/b fixed): each customer's hazard is
    /// constant, an exponential lifetime whose rate η b is gamma(s, β/b) across customers, the
    /// Pareto/NBD model.
    NoAgeing,
    /// Another parameter drifts to 0 or ∞ without a named meaning.
    Parameter {
        /// The parameter's name.
        name: &'static str,
        /// `true` when it grows without bound, `false` when it shrinks to 0.
        to_infinity: bool,
    },
}

impl Limit {
    /// What the limit means, in words.
    pub fn meaning(&self) -> String {
        match self {
            Limit::NoDropout => "nobody drops out: the data show no sign of customers leaving".into(),
            Limit::EveryoneDropsOut => {
                "everybody drops out at the first opportunity".into()
            }
            Limit::NoPurchaseHeterogeneity => {
                "every customer buys at the same rate: no purchase heterogeneity".into()
            }
            Limit::NoDropoutHeterogeneity => {
                "every customer has the same dropout rate: no dropout heterogeneity".into()
            }
            Limit::NoAgeing => {
                "lifetimes do not age: a constant hazard per customer, the Pareto/NBD model".into()
            }
            Limit::NoSpendHeterogeneity => {
                "every customer has the same expected spend: no spend heterogeneity (value spend at the population mean)".into()
            }
            Limit::Parameter { name, to_infinity } => format!(
                "the parameter {name} drifts to {}",
                if *to_infinity { "infinity" } else { "zero" }
            ),
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.meaning())
    }
}

/// A pair of a model's parameters that together form one mixing distribution, for reading a
/// boundary estimate (see [`boundary_limits`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pair {
    /// gamma(shape, rate) of a rate: both → ∞ with their ratio fixed is `heterogeneity`; the mean
    /// shape/rate → 0 is `mean_to_zero` when given.
    Gamma {
        shape: usize,
        rate: usize,
        heterogeneity: Limit,
        mean_to_zero: Option<Limit>,
    },
    /// beta(a, b) of a probability: both → ∞ is `heterogeneity`; the mean a/(a + b) → 0 or → 1 is
    /// `mean_to_zero` or `mean_to_one` when given.
    Beta {
        a: usize,
        b: usize,
        heterogeneity: Limit,
        mean_to_zero: Option<Limit>,
        mean_to_one: Option<Limit>,
    },
}

/// The limits a failed fit's best point θ (log-parameters) heads for, read pairwise by `pairs`:
/// a parameter drifts up when θᵢ exceeds half the θ bound or comes within 1 of its cap in `caps`
/// (+∞ where absent), down when θᵢ is below minus half the bound. A pair is read through its mean
/// (shape/rate, or the log-odds a/b): a parameter drifting up while the mean stays moderate is
/// the pair's `heterogeneity` limit; a mean heading for 0 (or 1) is `mean_to_zero` (or
/// `mean_to_one`). Anything else drifting is [`Limit::Parameter`]. Empty when nothing drifts
/// (the failure is not a boundary).
pub(crate) fn boundary_limits(
    theta: &[f64],
    theta_bound: f64,
    caps: &[f64],
    names: &[&'static str],
    pairs: &[Pair],
) -> Vec<Limit> {
    let half = theta_bound / 2.0;
    let t = |i: usize| theta.get(i).copied().unwrap_or(0.0);
    let drift = |i: usize| -> i8 {
        let cap = caps.get(i).copied().unwrap_or(f64::INFINITY);
        if t(i) > half || t(i) > cap - 1.0 {
            1
        } else if t(i) < -half {
            -1
        } else {
            0
        }
    };
    let parameter = |i: usize| Limit::Parameter {
        name: names.get(i).copied().unwrap_or("?"),
        to_infinity: drift(i) > 0,
    };
    let mut limits: Vec<Limit> = Vec::new();
    let mut explained = vec![false; theta.len()];
    let mut push = |limit: Limit, members: &[usize], explained: &mut Vec<bool>| {
        if !limits.contains(&limit) {
            limits.push(limit);
        }
        for k in members {
            if let Some(e) = explained.get_mut(*k) {
                *e = true;
            }
        }
    };
    for pair in pairs {
        let (i, j, heterogeneity, low, high) = match *pair {
            Pair::Gamma {
                shape,
                rate,
                heterogeneity,
                mean_to_zero,
            } => (shape, rate, heterogeneity, mean_to_zero, None),
            Pair::Beta {
                a,
                b,
                heterogeneity,
                mean_to_zero,
                mean_to_one,
            } => (a, b, heterogeneity, mean_to_zero, mean_to_one),
        };
        if drift(i) == 0 && drift(j) == 0 {
            continue;
        }
        // ln of the mean shape/rate, or the log-odds ln(a/b)
        let mean = t(i) - t(j);
        let named = if mean < -half {
            low
        } else if mean > half {
            high
        } else if drift(i) > 0 || (matches!(pair, Pair::Beta { .. }) && drift(j) > 0) {
            Some(heterogeneity)
        } else {
            None
        };
        match named {
            Some(limit) => push(limit, &[i, j], &mut explained),
            None => {
                for k in [i, j] {
                    if drift(k) != 0 {
                        push(parameter(k), &[k], &mut explained);
                    }
                }
            }
        }
    }
    for k in 0..theta.len() {
        if !explained[k] && drift(k) != 0 {
            push(parameter(k), &[k], &mut explained);
        }
    }
    limits
}

/// Where a fit ended when its likelihood rises towards a boundary of the parameter space: the
/// limits reached, the last (finite) estimate and, when the optimizer ran, its report.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BoundaryEstimate {
    /// The limits reached, the most telling first (never empty).
    pub limits: Vec<Limit>,
    /// The last estimate, by parameter name (natural scale, finite; on the data's time unit).
    pub estimate: Vec<(String, f64)>,
    /// Gamma-Gamma only: the weighted mean of the customers' mean spends, the limiting model's
    /// expected spend per transaction for every customer.
    pub population_mean_spend: Option<f64>,
    /// The optimizer's report at the last estimate (`None` when the boundary was found from the
    /// data before optimising).
    pub report: Option<FitReport>,
}

impl std::fmt::Display for BoundaryEstimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limits: Vec<String> = self.limits.iter().map(Limit::meaning).collect();
        write!(f, "{}", limits.join("; "))?;
        if !self.estimate.is_empty() {
            let values: Vec<String> = self
                .estimate
                .iter()
                .map(|(name, v)| format!("{name} = {v:.3e}"))
                .collect();
            write!(f, " (last estimate {})", values.join(", "))?;
        }
        if let Some(m) = self.population_mean_spend {
            write!(f, "; population mean spend {m:.6e}")?;
        }
        Ok(())
    }
}

/// The covariance matrix of a fitted model's parameters (on their natural scale), from the
/// observed information at the maximum-likelihood estimate: the inverse of the negative Hessian
/// of the log-likelihood, carried to the natural parameters p = exp(θ) by the delta method
/// (cov(pᵢ, pⱼ) = pᵢ pⱼ cov(θᵢ, θⱼ)).
///
/// Deserialization goes through [`Covariance::new`]'s checks.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "CovarianceData"))]
pub struct Covariance {
    names: Vec<String>,
    matrix: Vec<Vec<f64>>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CovarianceData {
    names: Vec<String>,
    matrix: Vec<Vec<f64>>,
}

#[cfg(feature = "serde")]
impl TryFrom<CovarianceData> for Covariance {
    type Error = InvalidParameter;
    fn try_from(data: CovarianceData) -> Result<Self, Self::Error> {
        Covariance::new(data.names, data.matrix)
    }
}

impl Covariance {
    /// A covariance matrix of the named parameters, in their order.
    ///
    /// # Errors
    /// [`InvalidParameter`] when the matrix is not square with one row per name, an entry is not
    /// finite, a variance is negative, or the matrix is not symmetric (to 1e-9 relative).
    pub fn new(names: Vec<String>, matrix: Vec<Vec<f64>>) -> Result<Self, InvalidParameter> {
        let n = names.len();
        if matrix.len() != n || matrix.iter().any(|row| row.len() != n) {
            return Err(InvalidParameter::new(
                "covariance",
                matrix.len() as f64,
                "must be square with one row and column per parameter",
            ));
        }
        for (i, row) in matrix.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                if !v.is_finite() {
                    return Err(InvalidParameter::new(
                        "covariance",
                        v,
                        "entries must be finite",
                    ));
                }
                let w = matrix[j][i];
                if (v - w).abs() > 1e-9 * v.abs().max(w.abs()) {
                    return Err(InvalidParameter::new("covariance", v, "must be symmetric"));
                }
            }
            if row[i] < 0.0 {
                return Err(InvalidParameter::new(
                    "covariance",
                    row[i],
                    "variances must not be negative",
                ));
            }
        }
        Ok(Covariance { names, matrix })
    }

    /// The covariance of the natural parameters exp(θ) from the covariance of θ.
    pub(crate) fn from_log_parameters(
        names: &[&str],
        theta: &[f64],
        log_covariance: &[Vec<f64>],
    ) -> Result<Self, InvalidParameter> {
        let estimates: Vec<f64> = theta.iter().map(|t| t.exp()).collect();
        Covariance::from_log_covariance(names, &estimates, log_covariance)
    }

    /// The covariance of positive estimates pᵢ from the covariance of their logarithms:
    /// pᵢ pⱼ cov(ln pᵢ, ln pⱼ). The diagonal is formed as (pᵢ √cov(ln pᵢ))², whose correctly
    /// rounded square root is exactly pᵢ √cov(ln pᵢ), the delta-method standard error, so
    /// standard errors read back from the matrix are those of the scalar formula to the bit.
    pub(crate) fn from_log_covariance(
        names: &[&str],
        estimates: &[f64],
        log_covariance: &[Vec<f64>],
    ) -> Result<Self, InvalidParameter> {
        let entry = |i: usize, j: usize| {
            log_covariance
                .get(i)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let matrix = estimates
            .iter()
            .enumerate()
            .map(|(i, pi)| {
                estimates
                    .iter()
                    .enumerate()
                    .map(|(j, pj)| {
                        if i == j {
                            (pi * entry(i, i).max(0.0).sqrt()).powi(2)
                        } else {
                            pi * pj * entry(i, j)
                        }
                    })
                    .collect()
            })
            .collect();
        Covariance::new(names.iter().map(|s| s.to_string()).collect(), matrix)
    }

    /// Checks that the covariance names `names`, in that order (a covariance deserialized with
    /// a model must be that model's).
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn check_names(&self, names: &[&str]) -> Result<(), InvalidParameter> {
        if self
            .names
            .iter()
            .map(String::as_str)
            .eq(names.iter().copied())
        {
            Ok(())
        } else {
            Err(InvalidParameter::new(
                "covariance",
                self.names.len() as f64,
                "must name the model's parameters in their order",
            ))
        }
    }

    /// The parameter names, in the matrix's order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The matrix, one row per parameter.
    pub fn matrix(&self) -> &[Vec<f64>] {
        &self.matrix
    }

    /// cov(i, j), or `None` outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        self.matrix.get(i).and_then(|row| row.get(j)).copied()
    }

    /// The standard errors: square roots of the diagonal, in order.
    pub fn standard_errors(&self) -> Vec<f64> {
        (0..self.names.len())
            .map(|i| self.matrix[i][i].sqrt())
            .collect()
    }

    /// Wald intervals at confidence `level` for positive `estimates` (in the matrix's order), on
    /// the log scale: ln p ± z · se(p)/p, exponentiated, so both ends stay positive and the
    /// interval is as asymmetric as a scale parameter's uncertainty is. z is the standard normal
    /// quantile of (1 + level)/2. The matrix must be the covariance of the estimates themselves
    /// (as a fitted model's is); se(p)/p is then the delta-method standard error of ln p.
    ///
    /// ```
    /// use customer_assets::fit::Covariance;
    /// let cov = Covariance::new(
    ///     vec!["r".into(), "alpha".into()],
    ///     vec![vec![0.01_f64.powi(2), 0.0], vec![0.0, 0.4_f64.powi(2)]],
    /// )?;
    /// let intervals = cov.wald_intervals(&[0.25, 4.4], 0.9)?;
    /// let r = &intervals[0];
    /// assert_eq!(r.name, "r");
    /// assert!(r.lower < 0.25 && 0.25 < r.upper && r.lower > 0.0);
    /// // ln-symmetric: the estimate is the interval's geometric mean.
    /// assert!(((r.lower * r.upper).sqrt() - 0.25).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] for a level outside (0, 1), a number of estimates other than of
    /// names, or an estimate that is not positive and finite.
    pub fn wald_intervals(
        &self,
        estimates: &[f64],
        level: f64,
    ) -> Result<Vec<ParameterInterval>, InvalidParameter> {
        if !(level > 0.0 && level < 1.0) {
            return Err(InvalidParameter::new(
                "level",
                level,
                "must be a confidence level between 0 and 1",
            ));
        }
        if estimates.len() != self.names.len() {
            return Err(InvalidParameter::new(
                "estimates",
                estimates.len() as f64,
                "must be one per parameter of the covariance",
            ));
        }
        let z = two_sided_normal_quantile(level);
        self.names
            .iter()
            .zip(estimates)
            .zip(self.standard_errors())
            .map(|((name, &p), se)| {
                if !(p.is_finite() && p > 0.0) {
                    return Err(InvalidParameter::new(
                        "estimates",
                        p,
                        "must be positive and finite for an interval on the log scale",
                    ));
                }
                let half = z * se / p;
                Ok(ParameterInterval {
                    name: name.clone(),
                    estimate: p,
                    lower: p * (-half).exp(),
                    upper: p * half.exp(),
                    level,
                })
            })
            .collect()
    }

    /// The correlation matrix (1 on the diagonal; 0 where a variance is 0).
    pub fn correlation(&self) -> Vec<Vec<f64>> {
        let se = self.standard_errors();
        self.matrix
            .iter()
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .map(|(j, c)| {
                        if i == j {
                            1.0
                        } else if se[i] > 0.0 && se[j] > 0.0 {
                            c / (se[i] * se[j])
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// z such that a standard normal lies within ±z with probability `level` (in (0, 1)): the
/// quantile of (1 + level)/2, √2 · erf⁻¹(level).
pub(crate) fn two_sided_normal_quantile(level: f64) -> f64 {
    std::f64::consts::SQRT_2 * statrs::function::erf::erf_inv(level)
}

/// A confidence interval of one parameter ([`Covariance::wald_intervals`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParameterInterval {
    /// The parameter.
    pub name: String,
    /// Its estimate.
    pub estimate: f64,
    /// The lower end.
    pub lower: f64,
    /// The upper end.
    pub upper: f64,
    /// The confidence level, for instance 0.9.
    pub level: f64,
}

/// Which algorithm produced the final estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum FitMethod {
    /// L-BFGS with a More-Thuente line search (restarted with a fresh memory when the line search
    /// stops early).
    Lbfgs,
    /// Nelder-Mead from the best L-BFGS point, then L-BFGS again to polish.
    NelderMeadThenLbfgs,
    /// A fit on a stratified subsample (by L-BFGS, with its fallbacks), then Newton steps on all
    /// the data with the subsample's Hessian.
    SubsampleThenNewton,
}

/// Settings of the optimizer every fit runs; builder style, checked when the fit starts.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FitOptions {
    pub(crate) max_iterations: u64,
    pub(crate) gradient_tolerance: f64,
    pub(crate) penalty: f64,
    pub(crate) random_starts: u32,
    pub(crate) random_start_spread: f64,
    pub(crate) seed: u64,
    pub(crate) theta_bound: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            max_iterations: 1000,
            gradient_tolerance: 1e-6,
            penalty: 0.0,
            random_starts: 4,
            random_start_spread: 1.0,
            seed: 0x5eed,
            theta_bound: 30.0,
        }
    }
}

impl FitOptions {
    /// The defaults: 1000 iterations per start, gradient tolerance 1e-6 per customer, no penalty,
    /// 4 extra random starts (seed 0x5eed, spread 1.0 in log-parameter units).
    pub fn new() -> Self {
        Self::default()
    }
    /// Iteration budget of each optimizer run (L-BFGS iterations; the Nelder-Mead fallback gets
    /// 20× as many, at most 3000).
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }
    /// Convergence threshold on ‖∇f‖₂, f the per-customer penalized negative log-likelihood.
    pub fn gradient_tolerance(mut self, tolerance: f64) -> Self {
        self.gradient_tolerance = tolerance;
        self
    }
    /// L2 penalty λ on the natural parameters: maximizes ll/N − λ Σ exp(θᵢ)² (lifetimes'
    /// `penalizer_coef`). 0 (the default) is plain maximum likelihood.
    pub fn penalty(mut self, lambda: f64) -> Self {
        self.penalty = lambda;
        self
    }
    /// Extra starting points tried, after the given ones, when no fit converges: the first start
    /// plus independent N(0, spread²) perturbations of each log-parameter.
    pub fn random_starts(mut self, n: u32) -> Self {
        self.random_starts = n;
        self
    }
    /// Standard deviation of the random-start perturbations (log-parameter units).
    pub fn random_start_spread(mut self, spread: f64) -> Self {
        self.random_start_spread = spread;
        self
    }
    /// Seed of the random starts (fits are reproducible).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Largest |θᵢ| a converged estimate may have (default 30, i.e. natural parameters between
    /// e⁻³⁰ ≈ 1e-13 and e³⁰ ≈ 1e13). In log-parameters the gradient vanishes as a parameter drifts
    /// to 0 or ∞, so such a point can pass the gradient test without being a maximum (or the
    /// maximum does not exist); it does not count as converged and the next start is tried.
    pub fn theta_bound(mut self, bound: f64) -> Self {
        self.theta_bound = bound;
        self
    }
    /// The iteration budget.
    pub fn get_max_iterations(&self) -> u64 {
        self.max_iterations
    }
    /// The gradient tolerance.
    pub fn get_gradient_tolerance(&self) -> f64 {
        self.gradient_tolerance
    }
    /// The L2 penalty λ.
    pub fn get_penalty(&self) -> f64 {
        self.penalty
    }
    /// The number of extra random starts.
    pub fn get_random_starts(&self) -> u32 {
        self.random_starts
    }
    /// The spread of the random starts (log-parameter units).
    pub fn get_random_start_spread(&self) -> f64 {
        self.random_start_spread
    }
    /// The seed of the random starts.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }
    /// The largest |θᵢ| a converged estimate may have.
    pub fn get_theta_bound(&self) -> f64 {
        self.theta_bound
    }

    /// Checks every option: at least one iteration, a finite positive gradient tolerance and
    /// start spread, a finite non-negative penalty, a positive θ bound.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first option out of range.
    pub fn check(&self) -> Result<(), InvalidParameter> {
        if self.max_iterations == 0 {
            return Err(InvalidParameter::new(
                "max_iterations",
                0.0,
                "must be at least 1",
            ));
        }
        InvalidParameter::positive("gradient_tolerance", self.gradient_tolerance)?;
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return Err(InvalidParameter::new(
                "penalty",
                self.penalty,
                "must be finite and non-negative",
            ));
        }
        if self.theta_bound.is_nan() || self.theta_bound <= 0.0 {
            return Err(InvalidParameter::new(
                "theta_bound",
                self.theta_bound,
                "must be positive",
            ));
        }
        InvalidParameter::positive("random_start_spread", self.random_start_spread)?;
        Ok(())
    }
}

/// Likelihood evaluations a fit may spend per iteration of its budget
/// ([`FitOptions::max_iterations`], counted as at least 100): with the default 1000 iterations,
/// 20,000 evaluations over all
/// starts and fallbacks. A fit that converges needs a few hundred; the budget only stops fits
/// whose data cannot identify the model from wandering for minutes. An evaluation that costs
/// more than usual (Pareto/NBD near a boundary, where its ₂F₁ series lengthen) counts for more.
pub const MAX_EVALUATIONS_PER_ITERATION: u64 = 20;

/// Diagnostics of a fit.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FitReport {
    /// Total (unpenalized) log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Optimizer iterations over all runs and starts.
    pub iterations: u64,
    /// ‖∇f‖₂ at the estimate, f the per-customer penalized negative log-likelihood.
    pub gradient_norm: f64,
    /// Whether `gradient_norm` is within the tolerance.
    pub converged: bool,
    /// The algorithm that produced the estimate.
    pub method: FitMethod,
    /// Starting points tried (given and random).
    pub starts_tried: u32,
    /// Number of customers N (sum of weights) the objective is divided by.
    pub customers: f64,
    /// The L2 penalty λ used.
    pub penalty: f64,
    /// The gradient tolerance used.
    pub gradient_tolerance: f64,
}

/// Why the optimizer, or the covariance at its estimate, failed. Never carries NaN parameters;
/// a model's [`FitError::Optimizer`] carries it as its source.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimizerError {
    /// No start converged; the report describes the best point found.
    #[error("the fit did not converge (gradient norm {:.3e} > {:.3e}, log-likelihood {:.6e}, {} iterations, {} starts)", .0.gradient_norm, .0.gradient_tolerance, .0.log_likelihood, .0.iterations, .0.starts_tried)]
    NotConverged(FitReport),
    /// The gradient vanished but the best point is no maximum: the log-likelihood is flat in some
    /// direction there (the data do not identify every parameter), or a parameter drifted past
    /// the θ bound ([`FitOptions::theta_bound`]).
    #[error("the gradient vanishes (norm {:.3e} <= {:.3e}) but the point is no maximum: {reason} (log-likelihood {:.6e}, {} iterations, {} starts)", .report.gradient_norm, .report.gradient_tolerance, .report.log_likelihood, .report.iterations, .report.starts_tried)]
    NotAMaximum {
        /// The report of the best point.
        report: Box<FitReport>,
        /// Why it is no maximum.
        reason: &'static str,
    },
    /// The optimizer's work budget ([`MAX_EVALUATIONS_PER_ITERATION`] × the iteration budget
    /// likelihood evaluations) ran out before any start converged.
    #[error("the fit gave up after {evaluations} likelihood evaluations without converging (gradient norm {:.3e}, log-likelihood {:.6e})", .report.gradient_norm, .report.log_likelihood)]
    BudgetExhausted {
        /// Likelihood evaluations spent.
        evaluations: u64,
        /// The report of the best point.
        report: Box<FitReport>,
    },
    /// No starting point was given.
    #[error("no starting point given")]
    NoStart,
    /// A starting point has the wrong length or a non-finite entry.
    #[error("starting point {index} is invalid: {reason}")]
    BadStart {
        /// Index into the starts.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The log-likelihood is not finite at any starting point.
    #[error("the log-likelihood is not finite at any of the {starts} starting points")]
    Infeasible {
        /// Number of starts tried.
        starts: u32,
    },
    /// A fit option is out of range.
    #[error(transparent)]
    InvalidOption(#[from] InvalidParameter),
    /// The objective has no data (its weight is not positive and finite).
    #[error("the objective's weight (number of customers) {0:.3e} is not positive and finite")]
    NoData(f64),
    /// The log-likelihood or its gradient is not finite where the Hessian is evaluated.
    #[error("the log-likelihood or its gradient is not finite near the estimate")]
    NotFinite,
    /// The negative Hessian is not positive definite (not a strict maximum, or a flat direction):
    /// no standard errors.
    #[error("the negative Hessian is not positive definite (pivot {pivot} = {value:.3e})")]
    NotPositiveDefinite {
        /// Index of the failing Cholesky pivot.
        pivot: usize,
        /// Its value.
        value: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wald_intervals_are_log_symmetric_at_the_normal_quantile() {
        let cov = Covariance::new(
            vec!["a".into(), "b".into()],
            vec![vec![0.04, 0.01], vec![0.01, 0.25]],
        )
        .unwrap();
        let at = |level: f64| cov.wald_intervals(&[2.0, 5.0], level).unwrap();
        // 95%: z = 1.959963984540054; se(a)/a = 0.2/2 = 0.1.
        let a = &at(0.95)[0];
        assert!(
            (a.lower - 2.0 * (-0.1959963984540054f64).exp()).abs() < 1e-12,
            "{a:?}"
        );
        assert!(
            (a.upper - 2.0 * 0.1959963984540054f64.exp()).abs() < 1e-12,
            "{a:?}"
        );
        assert_eq!((a.name.as_str(), a.estimate, a.level), ("a", 2.0, 0.95));
        // 90%: z = 1.6448536269514722 for b, se(b)/b = 0.5/5.
        let b = &at(0.9)[1];
        assert!(
            (b.upper / 5.0 - 0.164_485_362_695_147_2_f64.exp()).abs() < 1e-12,
            "{b:?}"
        );
        // Wider at a higher level, and never below zero.
        assert!(at(0.99)[1].lower < b.lower && b.lower > 0.0);
        for bad in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(cov.wald_intervals(&[2.0, 5.0], bad).is_err(), "{bad}");
        }
        assert!(cov.wald_intervals(&[2.0], 0.9).is_err());
        assert!(cov.wald_intervals(&[2.0, 0.0], 0.9).is_err());
        assert!(cov.wald_intervals(&[2.0, f64::INFINITY], 0.9).is_err());
    }

    #[test]
    fn covariance_checks_shape_symmetry_and_variances() {
        let names = || vec!["a".to_string(), "b".to_string()];
        assert!(Covariance::new(names(), vec![vec![1.0, 0.5], vec![0.5, 4.0]]).is_ok());
        assert!(Covariance::new(names(), vec![vec![1.0, 0.5]]).is_err());
        assert!(Covariance::new(names(), vec![vec![1.0, 0.5], vec![0.4, 4.0]]).is_err());
        assert!(Covariance::new(names(), vec![vec![-1.0, 0.0], vec![0.0, 4.0]]).is_err());
        assert!(Covariance::new(names(), vec![vec![f64::NAN, 0.0], vec![0.0, 4.0]]).is_err());
        let c = Covariance::new(names(), vec![vec![1.0, 0.5], vec![0.5, 4.0]]).unwrap();
        assert_eq!(c.standard_errors(), vec![1.0, 2.0]);
        assert_eq!(c.correlation()[0][1], 0.25);
        assert_eq!(c.get(1, 1), Some(4.0));
        assert_eq!(c.get(2, 0), None);
    }

    #[test]
    fn natural_covariance_is_the_delta_method_of_the_log_covariance() {
        let theta = [1f64.ln(), 3f64.ln()];
        let log_cov = vec![vec![0.04, 0.01], vec![0.01, 0.09]];
        let c = Covariance::from_log_parameters(&["a", "b"], &theta, &log_cov).unwrap();
        assert!((c.standard_errors()[1] - 3.0 * 0.3).abs() < 1e-12);
        assert!((c.get(0, 1).unwrap() - 1.0 * 3.0 * 0.01).abs() < 1e-12);
    }

    #[test]
    fn boundary_limits_read_each_pair_through_its_mean() {
        let names = ["r", "alpha", "a", "b"];
        let pairs = [
            Pair::Gamma {
                shape: 0,
                rate: 1,
                heterogeneity: Limit::NoPurchaseHeterogeneity,
                mean_to_zero: None,
            },
            Pair::Beta {
                a: 2,
                b: 3,
                heterogeneity: Limit::NoDropoutHeterogeneity,
                mean_to_zero: Some(Limit::NoDropout),
                mean_to_one: None,
            },
        ];
        let read = |theta: [f64; 4]| boundary_limits(&theta, 30.0, &[], &names, &pairs);
        assert!(read([0.0, 1.0, -1.0, 2.0]).is_empty());
        assert_eq!(read([0.0, 1.0, -25.0, 1.0]), [Limit::NoDropout]);
        assert_eq!(read([0.0, 1.0, 1.0, 25.0]), [Limit::NoDropout]);
        assert_eq!(
            read([31.0, 32.0, 0.0, 1.0]),
            [Limit::NoPurchaseHeterogeneity]
        );
        assert_eq!(
            read([0.0, 1.0, 28.0, 29.0]),
            [Limit::NoDropoutHeterogeneity]
        );
        assert_eq!(
            read([-20.0, 1.0, 0.0, 1.0]),
            [Limit::Parameter {
                name: "r",
                to_infinity: false
            }]
        );
        // a cap counts as the boundary within 1 of it
        let capped = boundary_limits(&[6.5, 5.0, 0.0, 0.0], 30.0, &[6.9], &names, &pairs);
        assert_eq!(capped, [Limit::NoPurchaseHeterogeneity]);
    }

    #[test]
    fn boundary_errors_say_what_the_limit_means() {
        let error = FitError::Boundary {
            model: "gamma-gamma",
            boundary: Box::new(BoundaryEstimate {
                limits: vec![Limit::NoSpendHeterogeneity],
                estimate: vec![("q".into(), 1.234_567_89e12)],
                population_mean_spend: Some(35.5),
                report: None,
            }),
        };
        assert_eq!(error.boundary_limit(), Some(Limit::NoSpendHeterogeneity));
        let text = error.to_string();
        assert!(text.contains("no spend heterogeneity"), "{text}");
        assert!(text.contains("q = 1.235e12"), "{text}");
        assert_eq!(
            FitError::NotIdentified {
                model: "m",
                reason: "r".into()
            }
            .boundary_limit(),
            None
        );
        assert!(check_total_weight("m", f64::INFINITY)
            .unwrap_err()
            .to_string()
            .contains("beyond the largest f64"));
        assert!(check_total_weight("m", 1e6).is_ok());
    }

    #[test]
    fn fit_options_check_names_the_option() {
        let e = FitOptions::new().penalty(-1.0).check().unwrap_err();
        assert_eq!(e.name(), "penalty");
        assert!(FitOptions::new().max_iterations(0).check().is_err());
        assert!(FitOptions::new()
            .gradient_tolerance(f64::NAN)
            .check()
            .is_err());
        assert!(FitOptions::new().check().is_ok());
    }
}
