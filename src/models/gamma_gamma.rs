//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV: using
//! iso-value curves for customer base analysis"; Fader & Hardie, "The Gamma-Gamma model of
//! monetary value").
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
//! q > 1: a fit whose estimate has q ≤ 1 is the error [`GammaGammaError::InfiniteMeanSpend`].
//!
//! The model assumes spend is independent of the purchase process;
//! [`SpendData::frequency_spend_correlation`] reports the (weighted Pearson) correlation between
//! frequency and mean spend as the check (Fader, Hardie & Lee report 0.11 for CDNOW, and treat
//! such small values as acceptable).
//!
//! ```
//! use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
//! use customer_assets::SpendModel;
//!
//! // (x, mean spend per repeat transaction, number of customers with that row)
//! let data = SpendData::new([(1, 20.0, 3.0), (2, 35.5, 2.0), (5, 12.0, 1.0), (3, 60.0, 1.0), (1, 8.0, 2.0)])?;
//! let model = GammaGammaParams::new().fit(&data)?;
//! let spend = model.expected_spend(2, 35.5)?;
//! assert!(spend > 0.0 && spend.is_finite());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rust_decimal::prelude::ToPrimitive;
use statrs::function::gamma::{digamma, ln_gamma};

use crate::fit::{FitOptions, FitReport, OptimizerError as FitError};
use crate::models::{PredictError, SpendModel};
use crate::optimize::{self as fit, Objective};
use crate::summary::Summaries;

/// Why spend data could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpendDataError {
    /// A row has no repeat transaction (x = 0): its mean spend is undefined.
    #[error("row {row}{}: frequency must be at least 1", customer_suffix(.customer))]
    NoRepeatTransaction {
        /// Row index (0-based) in the input.
        row: usize,
        /// The customer, when the row came from a summary.
        customer: Option<String>,
    },
    /// A mean spend is zero, negative or not finite (the model needs positive amounts).
    #[error("row {row}{}: mean spend {value} must be positive and finite", customer_suffix(.customer))]
    NonPositiveSpend {
        /// Row index (0-based) in the input.
        row: usize,
        /// The customer, when the row came from a summary.
        customer: Option<String>,
        /// The mean spend given.
        value: f64,
    },
    /// A weight is zero, negative or not finite.
    #[error("row {row}: weight {weight} must be positive and finite")]
    BadWeight {
        /// Row index (0-based) in the input.
        row: usize,
        /// The weight given.
        weight: f64,
    },
    /// No row at all (for summaries: no customer with a repeat purchase).
    #[error("no customer with a repeat purchase")]
    Empty,
}

fn customer_suffix(customer: &Option<String>) -> String {
    customer
        .as_ref()
        .map(|c| format!(" (customer {c})"))
        .unwrap_or_default()
}

/// One row of spend data: x repeat transactions with mean value m̄ₓ, for `weight` customers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpendRow {
    frequency: u32,
    mean_spend: f64,
    weight: f64,
}

impl SpendRow {
    /// x: number of repeat transactions (at least 1).
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// m̄ₓ: mean value of the repeat transactions (positive).
    pub fn mean_spend(&self) -> f64 {
        self.mean_spend
    }
    /// Number of customers with this row.
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

/// Validated input of the Gamma-Gamma model: weighted (x ≥ 1, m̄ₓ > 0) rows.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpendData {
    rows: Vec<SpendRow>,
}

impl SpendData {
    /// Rows of `(x, mean spend, weight)`; every row must have x ≥ 1, a positive finite mean spend
    /// and a positive finite weight (errors name the row).
    pub fn new(rows: impl IntoIterator<Item = (u32, f64, f64)>) -> Result<Self, SpendDataError> {
        let mut out = Vec::new();
        for (row, (x, m, w)) in rows.into_iter().enumerate() {
            out.push(checked_row(row, None, x, m, w)?);
        }
        if out.is_empty() {
            return Err(SpendDataError::Empty);
        }
        Ok(SpendData { rows: out })
    }

    /// The customers of `summaries` with at least one repeat purchase (frequency > 0), each with
    /// weight 1 and its monetary value (the mean of the repeat purchases). A repeat buyer whose
    /// monetary value is not positive (for example all returns or free orders) is an error naming
    /// the customer: remove or fix such customers first, nothing is dropped silently.
    pub fn from_summaries(summaries: &Summaries) -> Result<Self, SpendDataError> {
        let mut out = Vec::new();
        for (row, s) in summaries.iter().enumerate() {
            if s.frequency() == 0 {
                continue;
            }
            let m = s.monetary_value().to_f64().unwrap_or(f64::NAN);
            out.push(checked_row(
                row,
                Some(s.id().to_string()),
                s.frequency(),
                m,
                1.0,
            )?);
        }
        if out.is_empty() {
            return Err(SpendDataError::Empty);
        }
        Ok(SpendData { rows: out })
    }

    /// The rows.
    pub fn rows(&self) -> &[SpendRow] {
        &self.rows
    }

    /// Number of customers (sum of the weights).
    pub fn total_weight(&self) -> f64 {
        self.rows.iter().map(|r| r.weight).sum()
    }

    /// The model's independence check: the weighted Pearson correlation between frequency and mean
    /// spend across customers. `None` when either has no variance (for example a single row).
    pub fn frequency_spend_correlation(&self) -> Option<f64> {
        let w = self.total_weight();
        let mean_x = self
            .rows
            .iter()
            .map(|r| r.weight * f64::from(r.frequency))
            .sum::<f64>()
            / w;
        let mean_m = self
            .rows
            .iter()
            .map(|r| r.weight * r.mean_spend)
            .sum::<f64>()
            / w;
        let (mut sxx, mut smm, mut sxm) = (0.0, 0.0, 0.0);
        for r in &self.rows {
            let dx = f64::from(r.frequency) - mean_x;
            let dm = r.mean_spend - mean_m;
            sxx += r.weight * dx * dx;
            smm += r.weight * dm * dm;
            sxm += r.weight * dx * dm;
        }
        let c = sxm / (sxx * smm).sqrt();
        (sxx > 0.0 && smm > 0.0 && c.is_finite()).then_some(c.clamp(-1.0, 1.0))
    }
}

fn checked_row(
    row: usize,
    customer: Option<String>,
    x: u32,
    m: f64,
    w: f64,
) -> Result<SpendRow, SpendDataError> {
    if x == 0 {
        return Err(SpendDataError::NoRepeatTransaction { row, customer });
    }
    if !(m.is_finite() && m > 0.0) {
        return Err(SpendDataError::NonPositiveSpend {
            row,
            customer,
            value: m,
        });
    }
    if !(w.is_finite() && w > 0.0) {
        return Err(SpendDataError::BadWeight { row, weight: w });
    }
    Ok(SpendRow {
        frequency: x,
        mean_spend: m,
        weight: w,
    })
}

/// Why a Gamma-Gamma model could not be fitted or built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GammaGammaError {
    /// The maximization failed (did not converge, or no standard errors); carries the diagnostics.
    #[error("Gamma-Gamma fit failed: {0}")]
    Fit(#[from] FitError),
    /// The estimate has q <= 1: the population mean spend pγ/(q − 1) is infinite, the data are too
    /// heavy-tailed for this model.
    #[error("the estimate q = {q} is not above 1, so the mean spend is infinite (p = {p}, gamma = {gamma})")]
    InfiniteMeanSpend {
        /// Estimated p.
        p: f64,
        /// Estimated q.
        q: f64,
        /// Estimated γ.
        gamma: f64,
        /// The fit's report.
        report: FitReport,
    },
    /// A parameter given to [`GammaGamma::new`] is out of range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is required.
        reason: &'static str,
    },
}

/// How to fit the Gamma-Gamma model (validated when fitting).
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGammaParams {
    options: FitOptions,
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
    pub fn options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// Fits by maximum likelihood in (ln p, ln q, ln γ), with standard errors from the Hessian.
    pub fn fit(&self, data: &SpendData) -> Result<GammaGamma, GammaGammaError> {
        let objective = GammaGammaLikelihood::new(data);
        let w = data.total_weight();
        let mean = data
            .rows
            .iter()
            .map(|r| r.weight * r.mean_spend)
            .sum::<f64>()
            / w;
        // Start: p = 1, q = 2 and γ matching the mean spend pγ/(q − 1).
        let starts = [
            vec![0.0, 2f64.ln(), mean.ln()],
            vec![2f64.ln(), 4f64.ln(), (3.0 * mean).ln()],
        ];
        let max = fit::maximize(&objective, &starts, &self.options)?;
        let [p, q, gamma] = [max.theta[0].exp(), max.theta[1].exp(), max.theta[2].exp()];
        if q <= 1.0 {
            return Err(GammaGammaError::InfiniteMeanSpend {
                p,
                q,
                gamma,
                report: max.report,
            });
        }
        let se = fit::natural_standard_errors_from(&max.theta, &fit::covariance(&max.hessian)?);
        Ok(GammaGamma {
            params: GammaGammaValues { p, q, gamma },
            standard_errors: Some(GammaGammaValues {
                p: se[0],
                q: se[1],
                gamma: se[2],
            }),
            report: Some(max.report),
            frequency_spend_correlation: data.frequency_spend_correlation(),
        })
    }
}

/// Values of (p, q, γ): the parameters, or their standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGammaValues {
    /// Shape of the transaction values.
    pub p: f64,
    /// Shape of the customers' rates ν.
    pub q: f64,
    /// Rate (inverse scale, in currency units) of the customers' rates ν.
    pub gamma: f64,
}

/// A fitted (or given) Gamma-Gamma spend model.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGamma {
    params: GammaGammaValues,
    standard_errors: Option<GammaGammaValues>,
    report: Option<FitReport>,
    frequency_spend_correlation: Option<f64>,
}

impl GammaGamma {
    /// A model with given parameters (for example loaded from a previous fit): all positive and
    /// finite, q > 1. It has no standard errors or fit report.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self, GammaGammaError> {
        for (name, value) in [("p", p), ("q", q), ("gamma", gamma)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(GammaGammaError::InvalidParameter {
                    name,
                    value,
                    reason: "must be positive and finite",
                });
            }
        }
        if q <= 1.0 {
            return Err(GammaGammaError::InvalidParameter {
                name: "q",
                value: q,
                reason: "must be above 1 for a finite mean spend",
            });
        }
        Ok(GammaGamma {
            params: GammaGammaValues { p, q, gamma },
            standard_errors: None,
            report: None,
            frequency_spend_correlation: None,
        })
    }

    /// The parameters (p, q, γ).
    pub fn params(&self) -> GammaGammaValues {
        self.params
    }
    /// Standard errors of (p, q, γ) (delta method from the Hessian in log-parameters); `None` for
    /// a model built from given parameters.
    pub fn standard_errors(&self) -> Option<GammaGammaValues> {
        self.standard_errors
    }
    /// The fit's report; `None` for a model built from given parameters.
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }
    /// Pearson correlation between frequency and mean spend in the fitted data (the model's
    /// independence assumption; see [`SpendData::frequency_spend_correlation`]).
    pub fn frequency_spend_correlation(&self) -> Option<f64> {
        self.frequency_spend_correlation
    }

    /// Log-likelihood of one customer with `frequency` ≥ 1 transactions of mean `mean_spend` > 0.
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
        let GammaGammaValues { p, q, gamma } = self.params;
        finite(row_log_likelihood(p, q, gamma, &row), "log-likelihood")
    }

    /// Total log-likelihood of spend data.
    pub fn total_log_likelihood(&self, data: &SpendData) -> Result<f64, PredictError> {
        let GammaGammaValues { p, q, gamma } = self.params;
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

impl SpendModel for GammaGamma {
    fn name(&self) -> &str {
        "gamma-gamma"
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
        let GammaGammaValues { p, q, gamma } = self.params;
        let x = f64::from(frequency);
        finite(
            p * (gamma + x * mean_spend) / (p * x + q - 1.0),
            "expected spend",
        )
    }

    /// pγ/(q − 1).
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        let GammaGammaValues { p, q, gamma } = self.params;
        finite(p * gamma / (q - 1.0), "expected spend")
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        let GammaGammaValues { p, q, gamma } = self.params;
        vec![("p".into(), p), ("q".into(), q), ("gamma".into(), gamma)]
    }

    fn fit_report(&self) -> Option<&FitReport> {
        self.report()
    }
}

/// The Gamma-Gamma log-likelihood of spend data in θ = (ln p, ln q, ln γ).
///
/// The Gamma-function terms depend on the row only through x, which takes few values: they are
/// evaluated once per distinct x, leaving one logarithm and one division per row.
struct GammaGammaLikelihood {
    groups: Vec<FrequencyGroup>,
    weight: f64,
}

/// The rows with one frequency x.
struct FrequencyGroup {
    x: f64,
    ln_x: f64,
    /// Σ w.
    weight: f64,
    /// Σ w ln m̄ₓ.
    weighted_ln_mean: f64,
    /// (x m̄ₓ, w) per row.
    totals: Vec<(f64, f64)>,
}

impl GammaGammaLikelihood {
    fn new(data: &SpendData) -> Self {
        let mut by_x: std::collections::BTreeMap<u32, FrequencyGroup> = Default::default();
        for r in &data.rows {
            let x = f64::from(r.frequency);
            let g = by_x.entry(r.frequency).or_insert_with(|| FrequencyGroup {
                x,
                ln_x: x.ln(),
                weight: 0.0,
                weighted_ln_mean: 0.0,
                totals: Vec::new(),
            });
            g.weight += r.weight;
            g.weighted_ln_mean += r.weight * r.mean_spend.ln();
            g.totals.push((x * r.mean_spend, r.weight));
        }
        GammaGammaLikelihood {
            groups: by_x.into_values().collect(),
            weight: data.total_weight(),
        }
    }
}

/// One row's log-likelihood (for single-customer evaluation; the fit uses the grouped form).
fn row_log_likelihood(p: f64, q: f64, gamma: f64, row: &SpendRow) -> f64 {
    let x = f64::from(row.frequency);
    let m = row.mean_spend;
    let px = p * x;
    ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
        + q * gamma.ln()
        + (px - 1.0) * m.ln()
        + px * x.ln()
        - (px + q) * (gamma + x * m).ln()
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
        for g in &self.groups {
            let px = p * g.x;
            // Σ w ln(γ + x m̄) and Σ w / (γ + x m̄) over the group's rows
            let (mut sum_ln, mut sum_inv) = (0.0, 0.0);
            for &(total, w) in &g.totals {
                let denominator = gamma + total;
                sum_ln += w * denominator.ln();
                sum_inv += w / denominator;
            }
            let psi_pq = digamma(px + q);
            ll += g.weight
                * (ln_gamma(px + q) - ln_gamma(px) - ln_gamma_q + q * ln_rate + px * g.ln_x)
                + (px - 1.0) * g.weighted_ln_mean
                - (px + q) * sum_ln;
            dp += g.x * (g.weight * (psi_pq - digamma(px) + g.ln_x) + g.weighted_ln_mean - sum_ln);
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

impl crate::fit::Fit<SpendData> for GammaGammaParams {
    type Model = GammaGamma;
    type Error = GammaGammaError;
    fn fit(&self, data: &SpendData) -> Result<GammaGamma, GammaGammaError> {
        GammaGammaParams::fit(self, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let m = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
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
    fn bad_rows_and_parameters_are_named() {
        assert_eq!(
            SpendData::new([(1, 5.0, 1.0), (0, 5.0, 1.0)]),
            Err(SpendDataError::NoRepeatTransaction {
                row: 1,
                customer: None
            })
        );
        assert!(matches!(
            SpendData::new([(1, -5.0, 1.0)]),
            Err(SpendDataError::NonPositiveSpend { row: 0, .. })
        ));
        assert!(matches!(
            SpendData::new([(1, 5.0, 0.0)]),
            Err(SpendDataError::BadWeight { row: 0, .. })
        ));
        assert_eq!(SpendData::new([]), Err(SpendDataError::Empty));
        assert!(matches!(
            GammaGamma::new(1.0, 0.9, 1.0),
            Err(GammaGammaError::InvalidParameter { name: "q", .. })
        ));
        assert!(matches!(
            GammaGamma::new(f64::NAN, 2.0, 1.0),
            Err(GammaGammaError::InvalidParameter { name: "p", .. })
        ));
    }

    #[test]
    fn correlation_is_pearson() {
        let d = SpendData::new([(1, 1.0, 1.0), (2, 2.0, 1.0), (3, 3.0, 1.0)]).unwrap();
        assert!((d.frequency_spend_correlation().unwrap() - 1.0).abs() < 1e-12);
        let d = SpendData::new([(1, 1.0, 1.0), (1, 2.0, 1.0)]).unwrap();
        assert_eq!(d.frequency_spend_correlation(), None);
    }
}
