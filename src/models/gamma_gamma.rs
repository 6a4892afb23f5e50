//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
//! iso-value curves for customer base analysis", *Journal of Marketing Research* 42(4); Fader &
//! Hardie, "The Gamma-Gamma model of monetary value").
//!
//! A customer's transaction values are Gamma(p, ν) (shape p, rate ν), so their mean is p/ν; across
//! customers ν ~ Gamma(q, γ) (shape q, rate γ). For a customer with x transactions of mean value
//! m̄ₓ, the likelihood is
//!
//! ```text
//! f(m̄ₓ | p, q, γ, x) = Γ(px + q) / (Γ(px) Γ(q)) · γ^q m̄ₓ^(px−1) x^(px) / (γ + x m̄ₓ)^(px+q)
//! ```
//!
//! and the expected spend per transaction is the credibility-weighted mean
//!
//! ```text
//! E[M | p, q, γ, m̄ₓ, x] = p (γ + x m̄ₓ) / (px + q − 1)
//!                       = (q − 1)/(px + q − 1) · pγ/(q − 1) + px/(px + q − 1) · m̄ₓ,
//! ```
//!
//! with pγ/(q − 1) for a customer without history. That population mean is finite only for
//! q > 1: a fit whose estimate has q ≤ 1 is the error [`FitError::Unusable`], and
//! [`GammaGamma::new`] refuses q ≤ 1.
//!
//! The model assumes spend is independent of the purchase process;
//! [`SpendData::frequency_spend_correlation`] reports the (weighted Pearson) correlation between
//! frequency and mean spend as the check (Fader, Hardie & Lee report 0.11 for CDNOW, and treat
//! such small values as acceptable).
//!
//! The parts, as for every model of the crate (see [`crate::fit`]): [`GammaGammaParams`] (how to
//! fit, implementing [`Fit<SpendData>`](Fit)), [`GammaGamma`] (the model) and
//! [`GammaGammaParameters`] (the values of p, q and γ).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::gamma_gamma::{
//!     GammaGamma, GammaGammaParameters, GammaGammaParams, SpendData,
//! };
//! use customer_assets::SpendModel;
//!
//! // (x, mean spend per repeat transaction, number of customers with that row)
//! let data = SpendData::new([(1, 20.0, 3.0), (2, 35.5, 2.0), (5, 12.0, 1.0), (3, 60.0, 1.0), (1, 8.0, 2.0)])?;
//! let fitted = GammaGammaParams::new().fit(&data)?;
//! let spend = fitted.expected_spend(2, 35.5)?;
//! assert!(spend > 0.0 && spend.is_finite());
//! let se = fitted.standard_errors().ok_or("a fitted model has standard errors")?;
//! assert!(se.q > 0.0);
//!
//! // CDNOW's published estimates (Fader, Hardie & Lee 2005)
//! let cdnow = GammaGamma::new(GammaGammaParameters { p: 6.25, q: 3.74, gamma: 15.44 })?;
//! assert!((cdnow.expected_spend_new()? - 6.25 * 15.44 / 2.74).abs() < 1e-12);
//! assert!(GammaGamma::new(GammaGammaParameters { p: 6.25, q: 0.9, gamma: 15.44 }).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use statrs::function::gamma::{digamma, ln_gamma};

use crate::error::InvalidParameter;
use crate::fit::{
    check_total_weight, BoundaryEstimate, Covariance, Fit, FitError, FitOptions, FitReport, Limit,
    Pair,
};
use crate::models::btyd::COARSE_ROWS;
use crate::models::error::PredictError;
use crate::models::spend_data::checked_row;
use crate::models::spend_model::SpendModel;
use crate::optimize::{self, Objective};
use crate::special::ln_gamma_ratio;

pub use crate::models::spend_data::{SpendData, SpendDataError, SpendRow, UsableSpend};

/// The model's name, in errors and reports.
const MODEL: &str = "gamma-gamma";
/// The parameter names, in the covariance's order.
const NAMES: [&str; 3] = ["p", "q", "gamma"];

/// How to fit the Gamma-Gamma model: the optimizer's settings ([`FitOptions`]), checked by
/// [`Fit::check`] before any work. Fit with [`Fit::fit`] on [`SpendData`].
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGammaParams {
    options: FitOptions,
    #[cfg_attr(feature = "serde", serde(default))]
    start: Option<GammaGammaParameters>,
}

impl GammaGammaParams {
    /// Plain maximum likelihood with the default [`FitOptions`].
    pub fn new() -> Self {
        Self::default()
    }
    /// L2 penalty λ on (p, q, γ), lifetimes' convention (see [`FitOptions::penalty`]).
    pub fn penalty(mut self, lambda: f64) -> Self {
        self.options = self.options.penalty(lambda);
        self
    }
    /// Optimizer settings (replaces any penalty set before).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }
    /// First starting point, tried before the built-in ones; every value must be finite and
    /// positive.
    pub fn start(mut self, start: GammaGammaParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl crate::models::bootstrap::WarmStart<SpendData> for GammaGammaParams {
    fn warm_started(&self, model: &GammaGamma) -> Self {
        self.clone().start(model.parameters)
    }
}

impl Fit<SpendData> for GammaGammaParams {
    type Model = GammaGamma;
    type Error = FitError;

    /// Checks the fit options and the starting point.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first option or starting value out of range.
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if let Some(GammaGammaParameters { p, q, gamma }) = self.start {
            InvalidParameter::positive("p", p)?;
            InvalidParameter::positive("q", q)?;
            InvalidParameter::positive("gamma", gamma)?;
        }
        Ok(())
    }

    /// Fits by maximum likelihood in (ln p, ln q, ln γ), with the covariance of (p, q, γ) from
    /// the Hessian (delta method).
    ///
    /// # Errors
    /// - [`FitError::InvalidParameter`]: an option is out of range (see [`Fit::check`]);
    /// - [`FitError::OutOfRange`]: a total weight above
    ///   [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT) or a mean spend above
    ///   [`MAX_MEAN_SPEND`];
    /// - [`FitError::NotIdentified`]: fewer than 3 distinct (frequency, mean spend) rows;
    /// - [`FitError::Boundary`]: every mean spend is equal, or the estimate heads for a limit;
    ///   with [`Limit::NoSpendHeterogeneity`] it carries the population mean spend per
    ///   transaction to value every customer at;
    /// - [`FitError::Optimizer`]: no start converged, or the negative Hessian at the estimate is
    ///   not positive definite (no covariance);
    /// - [`FitError::Unusable`]: the estimate has q ≤ 1, so the mean spend pγ/(q − 1) is
    ///   infinite (the data are too heavy-tailed for this model); it carries the fit's report;
    /// - [`FitError::Numerical`]: the estimate or its covariance is not finite.
    fn fit(&self, data: &SpendData) -> Result<GammaGamma, FitError> {
        self.check()?;
        let population_mean_spend = check_identifiable(data)?;
        let objective = GammaGammaLikelihood::new(data);
        let w = data.total_weight();
        let mean = data
            .rows
            .iter()
            .map(|r| r.weight * r.mean_spend)
            .sum::<f64>()
            / w;
        // Start: p = 1, q = 2 and γ matching the mean spend pγ/(q − 1).
        let mut starts = Vec::with_capacity(3);
        if let Some(GammaGammaParameters { p, q, gamma }) = self.start {
            starts.push(vec![p.ln(), q.ln(), gamma.ln()]);
        }
        starts.push(vec![0.0, 2f64.ln(), mean.ln()]);
        starts.push(vec![2f64.ln(), 4f64.ln(), (3.0 * mean).ln()]);
        let optimizer = |source| FitError::Optimizer {
            model: MODEL,
            source,
        };
        let numerical = |detail: String| FitError::Numerical {
            model: MODEL,
            detail,
        };
        let natural = |theta: &[f64]| theta.iter().map(|t| t.exp()).collect::<Vec<f64>>();
        let reading = optimize::BoundaryReading {
            names: &NAMES,
            pairs: &[Pair::Gamma {
                shape: 1,
                rate: 2,
                heterogeneity: Limit::NoSpendHeterogeneity,
                mean_to_zero: None,
            }],
            natural: &natural,
            caps: None,
        };
        // A big base fits on a stratified subsample first, then takes Newton steps on all of it.
        let coarse = GammaGammaLikelihood::thinned(data, COARSE_ROWS);
        let max = match &coarse {
            Some(coarse) => {
                optimize::maximize_refined_detailed(&objective, coarse, &starts, &self.options)
            }
            None => optimize::maximize_detailed(&objective, &starts, &self.options),
        };
        let max = max.map_err(|failure| {
            let mut error = optimize::failure_to_fit_error(MODEL, failure, &self.options, &reading);
            if let FitError::Boundary { boundary, .. } = &mut error {
                if boundary.limits.contains(&Limit::NoSpendHeterogeneity) {
                    boundary.population_mean_spend = Some(population_mean_spend);
                }
            }
            error
        })?;
        let &[ln_p, ln_q, ln_gamma_rate] = max.theta.as_slice() else {
            return Err(numerical(format!(
                "the estimate has {} parameters, not 3",
                max.theta.len()
            )));
        };
        let [p, q, gamma] = [ln_p.exp(), ln_q.exp(), ln_gamma_rate.exp()];
        if q <= 1.0 {
            return Err(FitError::Unusable {
                model: MODEL,
                reason: format!(
                    "q = {q} is not above 1, so the mean spend is infinite (p = {p}, gamma = {gamma})"
                ),
                report: Box::new(max.report),
            });
        }
        let log_covariance = max.log_covariance().map_err(optimizer)?;
        let covariance = Covariance::from_log_covariance(&NAMES, &[p, q, gamma], &log_covariance)
            .map_err(|e| numerical(format!("covariance: {e}")))?;
        let mut model = GammaGamma::new(GammaGammaParameters { p, q, gamma })
            .map_err(|e| numerical(format!("estimate: {e}")))?;
        model.covariance = Some(covariance);
        model.report = Some(max.report);
        model.frequency_spend_correlation = data.frequency_spend_correlation();
        Ok(model)
    }
}

/// Largest mean spend per transaction a Gamma-Gamma fit accepts: 1e15 currency units. Above
/// 2⁵³ ≈ 9·10¹⁵ an f64 no longer holds whole currency units, and x·m̄ must stay far inside f64
/// for the likelihood's ln(γ + x m̄).
pub const MAX_MEAN_SPEND: f64 = 1e15;

/// What the fit checks before optimising: a total weight within
/// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT), mean spends within [`MAX_MEAN_SPEND`], spends that differ (else [`FitError::Boundary`] with
/// [`Limit::NoSpendHeterogeneity`] and the common spend as the population mean), and at least 3
/// distinct rows for the 3 parameters. Returns the population mean spend per transaction,
/// Σ w x m̄ / Σ w x (the limiting model's estimate when every customer spends alike).
fn check_identifiable(data: &SpendData) -> Result<f64, FitError> {
    check_total_weight(MODEL, data.total_weight())?;
    if let Some((row, r)) = data
        .rows
        .iter()
        .enumerate()
        .find(|(_, r)| r.mean_spend > MAX_MEAN_SPEND)
    {
        return Err(FitError::OutOfRange {
            model: MODEL,
            reason: format!(
                "row {row} has mean spend {:.3e}, above the limit {MAX_MEAN_SPEND:.0e}",
                r.mean_spend
            ),
        });
    }
    let first = data.rows.first().map_or(f64::NAN, |r| r.mean_spend);
    if data.rows.iter().all(|r| r.mean_spend == first) {
        return Err(FitError::Boundary {
            model: MODEL,
            boundary: Box::new(BoundaryEstimate {
                limits: vec![Limit::NoSpendHeterogeneity],
                estimate: Vec::new(),
                population_mean_spend: Some(first),
                report: None,
            }),
        });
    }
    // The first three distinct rows, if there are three (usually among the first few rows).
    let mut distinct: Vec<(u32, u64)> = Vec::with_capacity(3);
    for r in &data.rows {
        let row = (r.frequency, r.mean_spend.to_bits());
        if !distinct.contains(&row) {
            distinct.push(row);
            if distinct.len() == 3 {
                break;
            }
        }
    }
    if distinct.len() < 3 {
        return Err(FitError::NotIdentified {
            model: MODEL,
            reason: format!(
                "its 3 parameters need at least 3 distinct (frequency, mean spend) rows; the data have {}",
                distinct.len()
            ),
        });
    }
    Ok(data.mean_transaction_value())
}

/// The Gamma-Gamma parameters (p, q, γ): the values of a model, or their standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGammaParameters {
    /// p: shape of a customer's transaction values (dimensionless).
    pub p: f64,
    /// q: shape of the customers' rates ν (dimensionless).
    pub q: f64,
    /// γ: rate of the customers' rates ν, in currency units (pγ/(q − 1) is the population mean
    /// spend per transaction).
    pub gamma: f64,
}

/// A fitted (or given) Gamma-Gamma spend model: its parameters, their covariance and the fit's
/// report when fitted, and the data's frequency–spend correlation.
///
/// Serializes its parameters, covariance, report and correlation; deserializes only through
/// [`GammaGamma::new`]'s checks, with a covariance of p, q and gamma (in that order) and a
/// correlation within [−1, 1].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "GammaGammaData"))]
pub struct GammaGamma {
    parameters: GammaGammaParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    frequency_spend_correlation: Option<f64>,
}

/// A [`GammaGamma`] as stored, before its checks.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct GammaGammaData {
    parameters: GammaGammaParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    frequency_spend_correlation: Option<f64>,
}

#[cfg(feature = "serde")]
impl TryFrom<GammaGammaData> for GammaGamma {
    type Error = InvalidParameter;
    fn try_from(data: GammaGammaData) -> Result<Self, Self::Error> {
        let mut model = GammaGamma::new(data.parameters)?;
        if let Some(covariance) = &data.covariance {
            if covariance.names().iter().map(String::as_str).ne(NAMES) {
                return Err(InvalidParameter::new(
                    "covariance",
                    covariance.names().len() as f64,
                    "must be of the parameters p, q, gamma, in this order",
                ));
            }
        }
        if let Some(r) = data.frequency_spend_correlation {
            if !(r.is_finite() && (-1.0..=1.0).contains(&r)) {
                return Err(InvalidParameter::new(
                    "frequency_spend_correlation",
                    r,
                    "must be within -1..=1",
                ));
            }
        }
        model.covariance = data.covariance;
        model.report = data.report;
        model.frequency_spend_correlation = data.frequency_spend_correlation;
        Ok(model)
    }
}

impl GammaGamma {
    /// A model with given parameters (for example from a previous fit or a paper): p, q and γ
    /// finite and positive, and q > 1 (a finite mean spend). It has no covariance, report or
    /// correlation.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first parameter out of range.
    pub fn new(parameters: GammaGammaParameters) -> Result<Self, InvalidParameter> {
        let GammaGammaParameters { p, q, gamma } = parameters;
        InvalidParameter::positive("p", p)?;
        InvalidParameter::positive("q", q)?;
        InvalidParameter::positive("gamma", gamma)?;
        if q <= 1.0 {
            return Err(InvalidParameter::new(
                "q",
                q,
                "must be above 1 for a finite mean spend",
            ));
        }
        Ok(GammaGamma {
            parameters,
            covariance: None,
            report: None,
            frequency_spend_correlation: None,
        })
    }

    /// The parameters (p, q, γ).
    pub fn parameters(&self) -> GammaGammaParameters {
        self.parameters
    }
    /// Standard errors of (p, q, γ): the square roots of the covariance's diagonal; `None`
    /// without a covariance (a model built by [`GammaGamma::new`]).
    pub fn standard_errors(&self) -> Option<GammaGammaParameters> {
        let covariance = self.covariance.as_ref()?;
        let se = |i| covariance.get(i, i).map(f64::sqrt);
        Some(GammaGammaParameters {
            p: se(0)?,
            q: se(1)?,
            gamma: se(2)?,
        })
    }
    /// The covariance of (p, q, γ) at the estimate (delta method from the Hessian in
    /// log-parameters); `None` for a model built by [`GammaGamma::new`].
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
    /// The fit's report; `None` for a model built by [`GammaGamma::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    /// Pearson correlation between frequency and mean spend in the fitted data (the model's
    /// independence assumption; see [`SpendData::frequency_spend_correlation`]); `None` for a
    /// model built by [`GammaGamma::new`] or when either has no variance.
    pub fn frequency_spend_correlation(&self) -> Option<f64> {
        self.frequency_spend_correlation
    }

    /// Log-likelihood of one customer with `frequency` ≥ 1 transactions of mean `mean_spend` > 0.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a frequency of 0 or a mean spend that is not positive
    /// and finite; [`PredictError::Numerical`] when the value is not finite.
    pub fn log_likelihood(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError> {
        let row = checked_row(0, None, frequency, mean_spend, 1.0).map_err(|e| {
            PredictError::InvalidInput {
                name: if matches!(e, SpendDataError::NoRepeatTransaction { .. }) {
                    "frequency"
                } else {
                    "mean_spend"
                },
                value: if frequency == 0 { 0.0 } else { mean_spend },
                reason: "the likelihood needs frequency >= 1 and a positive finite mean spend",
            }
        })?;
        let GammaGammaParameters { p, q, gamma } = self.parameters;
        finite(row_log_likelihood(p, q, gamma, &row), "log-likelihood")
    }

    /// Total log-likelihood of spend data.
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the value is not finite.
    pub fn total_log_likelihood(&self, data: &SpendData) -> Result<f64, PredictError> {
        let GammaGammaParameters { p, q, gamma } = self.parameters;
        let ll = data
            .rows
            .iter()
            .map(|r| r.weight * row_log_likelihood(p, q, gamma, r))
            .sum();
        finite(ll, "log-likelihood")
    }
}

fn finite(v: f64, what: &'static str) -> Result<f64, PredictError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(PredictError::Numerical {
            what,
            detail: format!("non-finite value {v}"),
        })
    }
}

crate::models::uncertainty::reparameterize!(
    GammaGamma,
    NAMES,
    |m| [m.parameters.p, m.parameters.q, m.parameters.gamma],
    |_m, v| {
        let [p, q, gamma] = v;
        GammaGamma::new(GammaGammaParameters { p, q, gamma })
    }
);

impl SpendModel for GammaGamma {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn SpendModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_spend(self, values)
    }
    fn name(&self) -> &str {
        MODEL
    }

    /// p (γ + x m̄ₓ) / (px + q − 1); with `frequency` 0 this is the population mean pγ/(q − 1)
    /// (and `mean_spend` is ignored).
    fn expected_spend(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError> {
        if frequency == 0 {
            return self.expected_spend_new();
        }
        if !(mean_spend.is_finite() && mean_spend >= 0.0) {
            return Err(PredictError::InvalidInput {
                name: "mean_spend",
                value: mean_spend,
                reason: "must be finite and non-negative",
            });
        }
        let GammaGammaParameters { p, q, gamma } = self.parameters;
        let x = f64::from(frequency);
        finite(
            p * (gamma + x * mean_spend) / (p * x + q - 1.0),
            "expected spend",
        )
    }

    /// pγ/(q − 1).
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        let GammaGammaParameters { p, q, gamma } = self.parameters;
        finite(p * gamma / (q - 1.0), "expected spend")
    }

    /// p, q and gamma.
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let GammaGammaParameters { p, q, gamma } = self.parameters;
        vec![("p".into(), p), ("q".into(), q), ("gamma".into(), gamma)]
    }

    fn fit_report(&self) -> Option<&FitReport> {
        self.report()
    }

    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
}

/// The Gamma-Gamma log-likelihood of spend data in θ = (ln p, ln q, ln γ).
///
/// The Gamma-function terms depend on the row only through x, and Σ w ln m̄ₓ and Σ w ln(x m̄ₓ)
/// not at all on the parameters: they are evaluated once per distinct x, and once per fit,
/// leaving one logarithm and one division per row and evaluation (on all cores with
/// `parallel`).
struct GammaGammaLikelihood {
    groups: Vec<FrequencyGroup>,
    /// x m̄ₓ per row, grouped by frequency (the rows of group g at `groups[g].rows`).
    totals: Vec<f64>,
    /// w per row, in the order of `totals`.
    weights: Vec<f64>,
    weight: f64,
}

/// The rows with one frequency x.
struct FrequencyGroup {
    x: f64,
    /// Σ w.
    weight: f64,
    /// Σ w ln m̄ₓ.
    weighted_ln_mean: f64,
    /// Σ w ln(x m̄ₓ).
    weighted_ln_total: f64,
    /// The group's rows in `totals` and `weights`.
    rows: std::ops::Range<usize>,
}

/// p x above which the likelihood forms Σ w ln(1 + γ/(x m̄)) by `ln_1p`, and below which as
/// Σ w ln(γ + x m̄) − Σ w ln(x m̄): that difference costs it the ulps of ln(x m̄), which p x
/// multiplies, harmless up to p x = 64 (below 3e-13 a row), where it saves the slower `ln_1p`.
const HEAVY_PX: f64 = 64.0;

/// Rows of a part of the likelihood's sums: big groups are split so that the work spreads over
/// the cores.
const PART_ROWS: usize = 16_384;

impl GammaGammaLikelihood {
    fn new(data: &SpendData) -> Self {
        Self::from_rows(&data.rows, 1)
    }

    /// The likelihood of every `stride`-th row of each frequency (in the data's order): a
    /// stratified subsample for the warm start of a big fit.
    fn from_rows(rows: &[SpendRow], stride: usize) -> Self {
        let stride = stride.max(1);
        // The distinct frequencies, ascending, and each row's group: through a table indexed by
        // x when the frequencies are small (the usual case), else by binary search.
        let max = rows.iter().map(|r| r.frequency).max().unwrap_or(0) as usize;
        let dense = max <= 2 * rows.len() + 1024;
        let (xs, table): (Vec<u32>, Vec<u32>) = if dense {
            let mut table = vec![u32::MAX; max + 1];
            for r in rows {
                table[r.frequency as usize] = 0;
            }
            let mut xs = Vec::new();
            for (x, slot) in table.iter_mut().enumerate() {
                if *slot == 0 {
                    *slot = xs.len() as u32;
                    xs.push(x as u32);
                }
            }
            (xs, table)
        } else {
            let mut xs: Vec<u32> = rows.iter().map(|r| r.frequency).collect();
            xs.sort_unstable();
            xs.dedup();
            (xs, Vec::new())
        };
        let group_of = |x: u32| -> usize {
            if dense {
                table[x as usize] as usize
            } else {
                xs.binary_search(&x).unwrap_or(0)
            }
        };
        // Rows taken per group (every stride-th of each frequency), then their places: one
        // sequential pass over the rows that writes each group's rows in the data's order.
        let mut seen = vec![0usize; xs.len()];
        let mut taken = vec![0usize; xs.len()];
        for r in rows {
            let g = group_of(r.frequency);
            if seen[g].is_multiple_of(stride) {
                taken[g] += 1;
            }
            seen[g] += 1;
        }
        let mut groups: Vec<FrequencyGroup> = Vec::with_capacity(xs.len());
        let mut next = Vec::with_capacity(xs.len());
        let mut start = 0;
        for (&x, &n) in xs.iter().zip(&taken) {
            groups.push(FrequencyGroup {
                x: f64::from(x),
                weight: 0.0,
                weighted_ln_mean: 0.0,
                weighted_ln_total: 0.0,
                rows: start..start + n,
            });
            next.push(start);
            start += n;
        }
        let mut totals = vec![0.0; start];
        let mut weights = vec![0.0; start];
        seen.iter_mut().for_each(|s| *s = 0);
        for r in rows {
            let g = group_of(r.frequency);
            let skip = !seen[g].is_multiple_of(stride);
            seen[g] += 1;
            if skip {
                continue;
            }
            let group = &mut groups[g];
            group.weight += r.weight;
            group.weighted_ln_mean += r.weight * r.mean_spend.ln();
            let total = group.x * r.mean_spend;
            group.weighted_ln_total += r.weight * total.ln();
            totals[next[g]] = total;
            weights[next[g]] = r.weight;
            next[g] += 1;
        }
        groups.retain(|g| !g.rows.is_empty());
        let weight = groups.iter().map(|g| g.weight).sum();
        GammaGammaLikelihood {
            groups,
            totals,
            weights,
            weight,
        }
    }

    /// The stratified subsample of about `target` rows ([`Self::from_rows`]), `None` below 4 ×
    /// `target` rows, where it saves too little.
    fn thinned(data: &SpendData, target: usize) -> Option<Self> {
        let n = data.rows.len();
        (target > 0 && n >= 4 * target).then(|| Self::from_rows(&data.rows, n / target))
    }

    /// Σ w ln(1 + γ/(x m̄)) and Σ w / (γ + x m̄) over each group's rows, by parts; `heavy[g]`
    /// says whether group g forms the first by `ln_1p` (see [`HEAVY_PX`]).
    fn row_sums(&self, gamma: f64, heavy: &[bool]) -> Vec<(f64, f64)> {
        let parts: Vec<(usize, std::ops::Range<usize>)> = self
            .groups
            .iter()
            .enumerate()
            .flat_map(|(g, group)| {
                let rows = group.rows.clone();
                rows.clone()
                    .step_by(PART_ROWS)
                    .map(move |s| (g, s..(s + PART_ROWS).min(rows.end)))
            })
            .collect();
        let part = |(g, rows): (usize, std::ops::Range<usize>)| {
            let (mut sum_ln_1p, mut sum_inv) = (0.0, 0.0);
            let rows = self.totals[rows.clone()].iter().zip(&self.weights[rows]);
            if heavy[g] {
                for (&total, &w) in rows {
                    sum_ln_1p += w * (gamma / total).ln_1p();
                    sum_inv += w / (gamma + total);
                }
            } else {
                // Σ w ln(γ + x m̄) here, Σ w ln(x m̄) subtracted by the caller.
                for (&total, &w) in rows {
                    let denominator = gamma + total;
                    sum_ln_1p += w * denominator.ln();
                    sum_inv += w / denominator;
                }
            }
            (g, sum_ln_1p, sum_inv)
        };
        #[cfg(feature = "parallel")]
        let sums: Vec<(usize, f64, f64)> = {
            use rayon::prelude::*;
            parts.into_par_iter().map(part).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let sums: Vec<(usize, f64, f64)> = parts.into_iter().map(part).collect();
        let mut by_group = vec![(0.0, 0.0); self.groups.len()];
        for (g, ln_1p, inv) in sums {
            by_group[g].0 += ln_1p;
            by_group[g].1 += inv;
        }
        by_group
    }
}

/// One row's log-likelihood (for single-customer evaluation; the fit uses the grouped form).
///
/// Written without the cancellations of the textbook form, which for a heavy buyer (p x in the
/// millions) subtracts ln Γ values and p x ln terms of 1e7 to 1e8 and keeps eight digits of a
/// log-likelihood of order one: ln Γ(px + q) − ln Γ(px) as one ratio, and
/// px ln x + px ln m̄ − px ln(γ + x m̄) as −px ln(1 + γ/(x m̄)).
fn row_log_likelihood(p: f64, q: f64, gamma: f64, row: &SpendRow) -> f64 {
    let x = f64::from(row.frequency);
    let m = row.mean_spend;
    let px = p * x;
    let total = x * m;
    ln_gamma_ratio(px, q) - ln_gamma(q) + q * gamma.ln()
        - px * (gamma / total).ln_1p()
        - m.ln()
        - q * (gamma + total).ln()
}

impl Objective for GammaGammaLikelihood {
    fn dim(&self) -> usize {
        3
    }

    fn weight(&self) -> f64 {
        self.weight
    }

    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (p, q, gamma) = match theta {
            [a, b, c] => (a.exp(), b.exp(), c.exp()),
            _ => return f64::NAN,
        };
        let (ln_gamma_q, digamma_q, ln_rate) = (ln_gamma(q), digamma(q), gamma.ln());
        let (mut ll, mut dp, mut dq, mut dg) = (0.0, 0.0, 0.0, 0.0);
        let heavy: Vec<bool> = self.groups.iter().map(|g| p * g.x > HEAVY_PX).collect();
        let sums = self.row_sums(gamma, &heavy);
        for ((g, (sum, sum_inv)), heavy) in self.groups.iter().zip(sums).zip(heavy) {
            let px = p * g.x;
            // px (ln x + ln m̄ − ln(γ + x m̄)) = −px ln(1 + γ/(x m̄)) (see `row_log_likelihood`),
            // and Σ w ln(γ + x m̄) = Σ w ln(x m̄) + Σ w ln(1 + γ/(x m̄)): one logarithm a row.
            let (sum_ln, sum_ln_1p) = if heavy {
                (g.weighted_ln_total + sum, sum)
            } else {
                (sum, sum - g.weighted_ln_total)
            };
            let psi_pq = digamma(px + q);
            ll += g.weight * (ln_gamma_ratio(px, q) - ln_gamma_q + q * ln_rate)
                - px * sum_ln_1p
                - g.weighted_ln_mean
                - q * sum_ln;
            dp += g.x * (g.weight * (psi_pq - digamma(px)) - sum_ln_1p);
            dq += g.weight * (psi_pq - digamma_q + ln_rate) - sum_ln;
            dg += g.weight * q / gamma - (px + q) * sum_inv;
        }
        // chain rule for log-parameters
        for (out, v) in grad.iter_mut().zip([p * dp, q * dq, gamma * dg]) {
            *out = v;
        }
        ll
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The likelihood as it was before issue 16 (a `ln` a row, and a `ln_1p` more for heavy
    /// buyers; serial): the reference of the faster one.
    struct ReferenceLikelihood {
        groups: Vec<ReferenceGroup>,
        weight: f64,
    }

    /// The rows with one frequency x.
    struct ReferenceGroup {
        x: f64,
        /// Σ w.
        weight: f64,
        /// Σ w ln m̄ₓ.
        weighted_ln_mean: f64,
        /// Σ w ln(x m̄ₓ).
        weighted_ln_total: f64,
        /// (x m̄ₓ, w) per row.
        totals: Vec<(f64, f64)>,
    }

    impl ReferenceLikelihood {
        fn new(data: &SpendData) -> Self {
            let mut by_x: std::collections::BTreeMap<u32, ReferenceGroup> = Default::default();
            for r in &data.rows {
                let x = f64::from(r.frequency);
                let g = by_x.entry(r.frequency).or_insert_with(|| ReferenceGroup {
                    x,
                    weight: 0.0,
                    weighted_ln_mean: 0.0,
                    weighted_ln_total: 0.0,
                    totals: Vec::new(),
                });
                g.weight += r.weight;
                g.weighted_ln_mean += r.weight * r.mean_spend.ln();
                let total = x * r.mean_spend;
                g.weighted_ln_total += r.weight * total.ln();
                g.totals.push((total, r.weight));
            }
            ReferenceLikelihood {
                groups: by_x.into_values().collect(),
                weight: data.total_weight(),
            }
        }
    }

    impl ReferenceLikelihood {
        fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
            let (p, q, gamma) = match theta {
                [a, b, c] => (a.exp(), b.exp(), c.exp()),
                _ => return f64::NAN,
            };
            let (ln_gamma_q, digamma_q, ln_rate) = (ln_gamma(q), digamma(q), gamma.ln());
            let (mut ll, mut dp, mut dq, mut dg) = (0.0, 0.0, 0.0, 0.0);
            for g in &self.groups {
                let px = p * g.x;
                // Σ w ln(1 + γ/(x m̄)), Σ w ln(γ + x m̄) and Σ w / (γ + x m̄) over the group's rows;
                // px (ln x + ln m̄ − ln(γ + x m̄)) = −px ln(1 + γ/(x m̄)) (see `row_log_likelihood`).
                // Forming Σ w ln(1 + γ/(x m̄)) as Σ w ln(γ + x m̄) − Σ w ln(x m̄) costs it the ulps of
                // ln(x m̄), which px multiplies: harmless up to px = 64 (below 3e-13 a row), where it
                // saves a second logarithm a row.
                let heavy = px > HEAVY_PX;
                let (mut sum_ln, mut sum_inv, mut sum_ln_1p) = (0.0, 0.0, 0.0);
                for &(total, w) in &g.totals {
                    let denominator = gamma + total;
                    sum_ln += w * denominator.ln();
                    sum_inv += w / denominator;
                    if heavy {
                        sum_ln_1p += w * (gamma / total).ln_1p();
                    }
                }
                if !heavy {
                    sum_ln_1p = sum_ln - g.weighted_ln_total;
                }
                let psi_pq = digamma(px + q);
                ll += g.weight * (ln_gamma_ratio(px, q) - ln_gamma_q + q * ln_rate)
                    - px * sum_ln_1p
                    - g.weighted_ln_mean
                    - q * sum_ln;
                dp += g.x * (g.weight * (psi_pq - digamma(px)) - sum_ln_1p);
                dq += g.weight * (psi_pq - digamma_q + ln_rate) - sum_ln;
                dg += g.weight * q / gamma - (px + q) * sum_inv;
            }
            // chain rule for log-parameters
            for (out, v) in grad.iter_mut().zip([p * dp, q * dq, gamma * dg]) {
                *out = v;
            }
            ll
        }
    }

    fn data() -> SpendData {
        SpendData::new([
            (1, 20.0, 3.0),
            (2, 35.5, 2.0),
            (5, 12.0, 1.0),
            (3, 60.0, 1.0),
            (1, 8.0, 2.0),
            (7, 25.0, 1.0),
        ])
        .unwrap()
    }

    /// A heavy buyer's log-likelihood (p x in the millions and billions) against mpmath (40
    /// digits): to 1e-13, where the textbook form, subtracting ln Γ values and p x ln terms of
    /// 1e7 to 1e11, kept about eight digits and a fit on 164 customers with one x = 10⁶ buyer
    /// could not meet its gradient tolerance.
    #[test]
    #[allow(clippy::excessive_precision)]
    fn heavy_buyer_rows_keep_their_digits() {
        for (p, q, gamma, x, m, want) in [
            (
                5.16,
                3.79,
                20.04,
                1_000_000,
                30.0,
                -3.692_428_795_618_878_448_7,
            ),
            (
                5.16,
                3.79,
                20.04,
                u32::MAX,
                30.0,
                -3.692_428_439_861_857_060_8,
            ),
            (6.25, 3.74, 15.44, 2, 35.5, -4.121_665_192_612_721_635),
        ] {
            let row = checked_row(0, None, x, m, 1.0).unwrap();
            let got = row_log_likelihood(p, q, gamma, &row);
            assert!((got - want).abs() <= 1e-13, "x {x}: {got} vs {want}");
            // The grouped form agrees.
            let data = SpendData::new([(x, m, 1.0)]).unwrap();
            let mut g = [0.0; 3];
            let grouped = GammaGammaLikelihood::new(&data)
                .value_and_gradient(&[p.ln(), q.ln(), gamma.ln()], &mut g);
            assert!(
                (grouped - want).abs() <= 1e-13,
                "x {x}: {grouped} vs {want}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        /// The likelihood summed by parts with one `ln_1p` a row equals the one it replaced, value
        /// and gradient, on random spend data (light and heavy buyers, repeated rows) and
        /// parameters; and so does the subsample of every k-th row of a frequency against the
        /// reference on those rows.
        #[test]
        fn fast_likelihood_equals_the_reference(
            rows in proptest::collection::vec(
                (proptest::prop_oneof![1u32..12, 12u32..5_000, 1_000_000u32..1_000_001],
                 0.01f64..5_000.0, 1.0f64..4.0),
                1..80),
            theta in proptest::array::uniform3(-3.0f64..4.0),
            stride in 1usize..4,
        ) {
            let data = SpendData::new(rows.iter().copied()).unwrap();
            let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-12 * scale;
            let (mut g, mut want_g) = ([0.0; 3], [0.0; 3]);
            let got = GammaGammaLikelihood::new(&data).value_and_gradient(&theta, &mut g);
            let want = ReferenceLikelihood::new(&data).value_and_gradient(&theta, &mut want_g);
            // The sums' size sets the scale of their rounding.
            let (p, q) = (theta[0].exp(), theta[1].exp());
            let size: f64 = data.rows.iter().map(|r| {
                let x = f64::from(r.frequency);
                r.weight * (1.0 + (p * x + q) * (1.0 + (x * r.mean_spend).ln().abs()))
            }).sum();
            proptest::prop_assert!(close(got, want, size), "value {} vs {}", got, want);
            for k in 0..3 {
                proptest::prop_assert!(close(g[k], want_g[k], size), "gradient {}: {} vs {}", k, g[k], want_g[k]);
            }
            // The subsample: every stride-th row of each frequency, in the data's order.
            let mut taken: std::collections::BTreeMap<u32, usize> = Default::default();
            let sample: Vec<(u32, f64, f64)> = rows.iter().copied().filter(|r| {
                let seen = taken.entry(r.0).or_insert(0);
                *seen += 1;
                (*seen - 1).is_multiple_of(stride)
            }).collect();
            let got = GammaGammaLikelihood::from_rows(&data.rows, stride).value_and_gradient(&theta, &mut g);
            let want = ReferenceLikelihood::new(&SpendData::new(sample).unwrap())
                .value_and_gradient(&theta, &mut want_g);
            proptest::prop_assert!(close(got, want, size), "subsample value {} vs {}", got, want);
            for k in 0..3 {
                proptest::prop_assert!(close(g[k], want_g[k], size), "subsample gradient {}", k);
            }
        }
    }

    /// A big base fits through the subsample and Newton steps, to the estimate of the plain
    /// L-BFGS fit of the reference likelihood (within what the gradient tolerance allows).
    #[test]
    fn a_big_fit_reaches_the_estimate_of_the_reference() {
        use rand::SeedableRng;
        use rand_distr::{Distribution, Gamma as GammaDist, Poisson};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
        let nu = GammaDist::new(3.7, 1.0 / 15.0).unwrap();
        let count = Poisson::new(4.0).unwrap();
        let rows: Vec<(u32, f64, f64)> = (0..4 * COARSE_ROWS + 5_000)
            .map(|_| {
                let x = 1 + count.sample(&mut rng) as u32;
                let rate: f64 = nu.sample(&mut rng);
                let spend = GammaDist::new(6.0 * f64::from(x), 1.0 / rate).unwrap();
                let total: f64 = spend.sample(&mut rng);
                // Cents, as summaries keep them.
                (
                    x,
                    (total * 100.0).round().max(1.0) / 100.0 / f64::from(x),
                    1.0,
                )
            })
            .collect();
        let data = SpendData::new(rows).unwrap();
        let fitted = GammaGammaParams::new().fit(&data).unwrap();
        let report = fitted.report().unwrap();
        assert_eq!(report.method, crate::fit::FitMethod::SubsampleThenNewton);
        assert!(report.converged);
        struct Reference(ReferenceLikelihood);
        impl Objective for Reference {
            fn dim(&self) -> usize {
                3
            }
            fn weight(&self) -> f64 {
                self.0.weight
            }
            fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
                self.0.value_and_gradient(theta, grad)
            }
        }
        let reference = Reference(ReferenceLikelihood::new(&data));
        let mean = data.mean_transaction_value();
        let starts = [vec![0.0, 2f64.ln(), mean.ln()]];
        let max = optimize::maximize_detailed(&reference, &starts, &FitOptions::new()).unwrap();
        let got = fitted.parameters();
        // Two points whose per-customer gradients are g₁ and g₂ differ by about H⁻¹ (g₁ − g₂),
        // H the per-customer curvature, H⁻¹ = N × the covariance of θ: the tolerance on the
        // gradient allows |Δθᵢ| up to N ‖cov row i‖ (‖g₁‖ + ‖g₂‖).
        let covariance = max.log_covariance().unwrap();
        let slack = report.gradient_norm + max.report.gradient_norm;
        for (i, (name, a, b)) in [
            ("p", got.p.ln(), max.theta[0]),
            ("q", got.q.ln(), max.theta[1]),
            ("gamma", got.gamma.ln(), max.theta[2]),
        ]
        .into_iter()
        .enumerate()
        {
            let row = covariance[i].iter().map(|c| c * c).sum::<f64>().sqrt();
            let allowed = max.report.customers * row * slack;
            assert!(
                (a - b).abs() <= allowed,
                "{name}: {a} vs {b}, allowed {allowed:e}"
            );
        }
        let se = fitted.standard_errors().unwrap();
        let reference_se =
            optimize::natural_standard_errors_from(&max.theta, &max.log_covariance().unwrap());
        for (a, b) in [se.p, se.q, se.gamma].into_iter().zip(reference_se) {
            assert!((a - b).abs() < 1e-3 * b, "{a} vs {b}");
        }
        let ll = max.report.log_likelihood;
        assert!((report.log_likelihood - ll).abs() < 1e-6 * ll.abs());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = data();
        let obj = GammaGammaLikelihood::new(&d);
        // the grouped likelihood equals the sum of the rows' likelihoods
        let (p, q, gamma) = (0.7f64.exp(), 1.1f64.exp(), 2.5f64.exp());
        let direct: f64 = d
            .rows
            .iter()
            .map(|r| r.weight * row_log_likelihood(p, q, gamma, r))
            .sum();
        let mut scratch = [0.0; 3];
        assert!((obj.value_and_gradient(&[0.7, 1.1, 2.5], &mut scratch) - direct).abs() < 1e-9);
        let theta = [0.7, 1.1, 2.5];
        let mut g = [0.0; 3];
        obj.value_and_gradient(&theta, &mut g);
        for i in 0..3 {
            let h = 1e-6;
            let mut up = theta;
            let mut down = theta;
            up[i] += h;
            down[i] -= h;
            let mut scratch = [0.0; 3];
            let fd = (obj.value_and_gradient(&up, &mut scratch)
                - obj.value_and_gradient(&down, &mut scratch))
                / (2.0 * h);
            assert!(
                (g[i] - fd).abs() < 1e-6 * fd.abs().max(1.0),
                "{i}: {} vs {fd}",
                g[i]
            );
        }
    }

    #[test]
    fn expected_spend_is_a_credibility_weighted_mean() {
        let m = GammaGamma::new(GammaGammaParameters {
            p: 6.25,
            q: 3.74,
            gamma: 15.44,
        })
        .unwrap();
        let pop = m.expected_spend_new().unwrap();
        assert!((pop - 6.25 * 15.44 / 2.74).abs() < 1e-12);
        let (x, mbar) = (4u32, 50.0);
        let w = 6.25 * 4.0 / (6.25 * 4.0 + 2.74);
        let expected = (1.0 - w) * pop + w * mbar;
        assert!((m.expected_spend(x, mbar).unwrap() - expected).abs() < 1e-10);
        assert_eq!(m.expected_spend(0, 99.0).unwrap(), pop);
        assert!(m.expected_spend(1, f64::NAN).is_err());
    }

    #[test]
    fn bad_parameters_are_named() {
        let given = |p, q, gamma| GammaGamma::new(GammaGammaParameters { p, q, gamma });
        assert_eq!(given(1.0, 0.9, 1.0).unwrap_err().name(), "q");
        assert_eq!(given(f64::NAN, 2.0, 1.0).unwrap_err().name(), "p");
    }

    #[test]
    fn fits_check_their_options_first() {
        let bad = GammaGammaParams::new().penalty(-1.0);
        let Err(FitError::InvalidParameter(e)) = bad.check() else {
            panic!("a negative penalty passed the check");
        };
        assert_eq!(e.name(), "penalty");
        assert!(matches!(
            bad.fit(&data()),
            Err(FitError::InvalidParameter(_))
        ));
        assert!(GammaGammaParams::new().check().is_ok());
        let max_iterations = FitOptions::new().max_iterations(0);
        assert!(GammaGammaParams::new()
            .fit_options(max_iterations)
            .check()
            .is_err());
    }

    #[test]
    fn a_fitted_model_carries_its_covariance_and_report() {
        let m = GammaGammaParams::new().fit(&data()).unwrap();
        let c = m.covariance().unwrap();
        assert_eq!(c.names(), ["p", "q", "gamma"]);
        let se = m.standard_errors().unwrap();
        assert_eq!(se.q, c.get(1, 1).unwrap().sqrt());
        assert_eq!(SpendModel::covariance(&m), Some(c));
        assert_eq!(m.fit_report(), m.report());
        assert!(m.report().unwrap().converged);
        let given = GammaGamma::new(m.parameters()).unwrap();
        assert_eq!(given.covariance(), None);
        assert_eq!(given.standard_errors(), None);
        assert_eq!(given.report(), None);
    }

    /// Mean spends of one transaction at the quantiles of the Gamma-Gamma marginal with p = 1,
    /// q = 0.8, γ = 10 (a Lomax distribution): the mean spend across customers is infinite, and
    /// so is the estimate's pγ/(q − 1).
    #[test]
    fn an_estimate_with_an_infinite_mean_spend_is_unusable() {
        let n = 2_000;
        let rows = (0..n).map(|i| {
            let u = (f64::from(i) + 0.5) / f64::from(n);
            (1, 10.0 * ((1.0 - u).powf(-1.0 / 0.8) - 1.0), 1.0)
        });
        let heavy = SpendData::new(rows).unwrap();
        match GammaGammaParams::new().fit(&heavy) {
            Err(FitError::Unusable {
                model,
                reason,
                report,
            }) => {
                assert_eq!(model, "gamma-gamma");
                assert!(reason.starts_with("q = "), "{reason}");
                assert!(report.converged);
            }
            other => panic!("expected an unusable estimate, got {other:?}"),
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserialization_goes_through_the_checks() {
        let fitted = GammaGammaParams::new().fit(&data()).unwrap();
        let json = serde_json::to_string(&fitted).unwrap();
        assert_eq!(serde_json::from_str::<GammaGamma>(&json).unwrap(), fitted);
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let refused =
            |v: &serde_json::Value| serde_json::from_value::<GammaGamma>(v.clone()).is_err();
        let mut negative_p = value.clone();
        negative_p["parameters"]["p"] = serde_json::json!(-6.25);
        assert!(refused(&negative_p));
        let mut low_q = value.clone();
        low_q["parameters"]["q"] = serde_json::json!(0.5);
        assert!(refused(&low_q));
        let mut renamed = value.clone();
        renamed["covariance"]["names"][2] = serde_json::json!("r");
        assert!(refused(&renamed));
        let mut correlation = value.clone();
        correlation["frequency_spend_correlation"] = serde_json::json!(1.5);
        assert!(refused(&correlation));
        value["covariance"] = serde_json::Value::Null;
        value["report"] = serde_json::Value::Null;
        let bare: GammaGamma = serde_json::from_value(value).unwrap();
        assert_eq!(bare.parameters(), fitted.parameters());
        assert_eq!(bare.covariance(), None);
    }

    /// Standard errors from the covariance's diagonal have the digits of pᵢ √cov(θ)ᵢᵢ.
    #[test]
    fn standard_errors_keep_the_digits_of_the_delta_method() {
        let (mut p, mut v) = (0.37f64, 0.011f64);
        for _ in 0..1000 {
            let natural = [p, 1.0 + p * 7.0];
            let log_covariance = vec![vec![v, 0.3 * v], vec![0.3 * v, v * 1.7]];
            let c =
                Covariance::from_log_covariance(&["a", "b"], &natural, &log_covariance).unwrap();
            assert_eq!(c.standard_errors()[0], p * v.sqrt());
            assert_eq!(c.standard_errors()[1], natural[1] * (v * 1.7).sqrt());
            assert_eq!(c.get(0, 1), Some(p * natural[1] * log_covariance[0][1]));
            (p, v) = (
                (p * 1.618_033_988_75) % 20.0 + 0.01,
                (v * 2.39) % 1.0 + 1e-4,
            );
        }
    }
}
