//! Gamma-Gamma with covariates on its scale: whose spend per transaction runs higher.
//!
//! A customer's mean transaction value is p/ν with ν ~ gamma(q, γᵢ), γᵢ = γ₀ exp(δ′z), so the
//! expected spend per transaction p γᵢ/(q − 1) is exp(δ) times higher per unit of a column.

use statrs::function::gamma::{digamma, ln_gamma};

use super::fit::standardisation;
use crate::covariates::{CovariateError, DesignMatrix};
use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::error::PredictError;
use crate::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
use crate::optimize::Objective;
use crate::records::CustomerId;
use crate::summary::Summaries;

const MODEL: &str = "gamma-gamma";

/// Repeat buyers' (frequency x ≥ 1, mean repeat spend m̄ > 0) joined with their design rows.
#[derive(Clone, Debug, PartialEq)]
pub struct SpendCovariateData {
    ids: Vec<CustomerId>,
    rows: Vec<(u32, f64)>,
    design: DesignMatrix,
    left_out: Vec<CustomerId>,
}

impl SpendCovariateData {
    /// Customers' `(id, x, m̄)`: those with x ≥ 1 and a finite positive m̄ enter; the others are
    /// listed in [`left_out`](Self::left_out) (a spend model cannot learn from them).
    ///
    /// # Errors
    /// [`CovariateError::NoDesignRow`] for an entering customer the design lacks,
    /// [`CovariateError::DuplicateCustomer`] for a customer given twice.
    pub fn new(
        customers: impl IntoIterator<Item = (CustomerId, u32, f64)>,
        design: &DesignMatrix,
    ) -> Result<Self, CovariateError> {
        let (mut ids, mut rows, mut z, mut left_out) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (id, x, m) in customers {
            if x == 0 || !(m.is_finite() && m > 0.0) {
                left_out.push(id);
                continue;
            }
            let row = design
                .row_of(&id)
                .ok_or_else(|| CovariateError::NoDesignRow {
                    customer: id.to_string(),
                })?;
            z.push(row.to_vec());
            ids.push(id);
            rows.push((x, m));
        }
        let design = DesignMatrix::new(design.names().to_vec(), ids.clone(), z)?;
        Ok(SpendCovariateData {
            ids,
            rows,
            design,
            left_out,
        })
    }

    /// The summarised repeat buyers with a positive mean repeat spend.
    ///
    /// # Errors
    /// As [`SpendCovariateData::new`].
    pub fn from_summaries(
        summaries: &Summaries,
        design: &DesignMatrix,
    ) -> Result<Self, CovariateError> {
        Self::new(
            summaries.iter().map(|c| {
                // The mean repeat spend as `SpendData::from_summaries` takes it (one exact
                // division of the decimal's digits; 0 without a repeat purchase).
                let m = crate::models::spend_data::mean_spend(c.repeat_spend(), c.frequency())
                    .unwrap_or(f64::NAN);
                (c.id().clone(), c.frequency(), m)
            }),
            design,
        )
    }

    /// The customers that entered, in order.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// Each entering customer's (x, m̄).
    pub fn rows(&self) -> &[(u32, f64)] {
        &self.rows
    }

    /// The entering customers' covariates.
    pub fn design(&self) -> &DesignMatrix {
        &self.design
    }

    /// The customers left out (no repeat purchase, or a mean repeat spend that is not positive).
    pub fn left_out(&self) -> &[CustomerId] {
        &self.left_out
    }
}

/// Settings of a Gamma-Gamma fit with covariates on its scale γ: which columns (default all),
/// an L2 penalty λ Σδ² on the coefficients, the optimizer's options.
///
/// ```
/// use customer_assets::fit::Fit;
/// use customer_assets::models::covariates::SpendCovariateParams;
/// SpendCovariateParams::new().covariates(&["channel"]).penalty(0.1).check()?;
/// assert!(SpendCovariateParams::new().penalty(f64::NAN).check().is_err());
/// # Ok::<(), customer_assets::FitError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SpendCovariateParams {
    options: FitOptions,
    columns: Option<Vec<String>>,
    penalty: f64,
}

impl SpendCovariateParams {
    /// Every column, no penalty.
    pub fn new() -> Self {
        Self::default()
    }

    /// The optimizer's options (its own penalty must stay 0).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// The columns that scale γ.
    pub fn covariates<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.columns = Some(
            names
                .iter()
                .map(|n| n.as_ref().trim().to_string())
                .collect(),
        );
        self
    }

    /// L2 penalty λ on the coefficients.
    pub fn penalty(mut self, lambda: f64) -> Self {
        self.penalty = lambda;
        self
    }
}

impl Fit<SpendCovariateData> for SpendCovariateParams {
    type Model = SpendCovariateModel;
    type Error = FitError;

    /// Checks the options (penalty 0) and the coefficients' penalty (finite, ≥ 0).
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if self.options.get_penalty() != 0.0 {
            return Err(InvalidParameter::new(
                "penalty",
                self.options.get_penalty(),
                "covariate fits penalise the coefficients: set SpendCovariateParams::penalty",
            )
            .into());
        }
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return Err(InvalidParameter::new(
                "penalty",
                self.penalty,
                "must be finite and non-negative",
            )
            .into());
        }
        Ok(())
    }

    /// Maximises the likelihood from the model without covariates' moment start.
    ///
    /// # Errors
    /// [`FitError::Covariates`] for an unknown, constant or collinear column;
    /// [`FitError::NotIdentified`] with fewer distinct spends than parameters;
    /// [`FitError::Optimizer`] when no start converges; [`FitError::Unusable`] for q ≤ 1;
    /// [`FitError::Numerical`] when the covariance cannot be computed.
    fn fit(&self, data: &SpendCovariateData) -> Result<SpendCovariateModel, FitError> {
        self.check()?;
        let covariates = |source| FitError::Covariates {
            model: MODEL,
            source,
        };
        let names = self
            .columns
            .clone()
            .unwrap_or_else(|| data.design.names().to_vec());
        let design = data.design.select(&names).map_err(covariates)?;
        if !names.is_empty() {
            design.check_identifiable().map_err(covariates)?;
        }
        let k = names.len();
        let distinct: std::collections::HashSet<(u32, u64)> =
            data.rows.iter().map(|(x, m)| (*x, m.to_bits())).collect();
        if distinct.len() < 3 + k {
            return Err(FitError::NotIdentified {
                model: MODEL,
                reason: format!(
                    "its {} parameters need at least as many distinct (x, mean spend) rows; the data have {}",
                    3 + k,
                    distinct.len()
                ),
            });
        }
        let (centre, spread) = standardisation(&design);
        let z: Vec<Vec<f64>> = (0..design.len())
            .map(|i| {
                design
                    .row(i)
                    .iter()
                    .zip(centre.iter().zip(&spread))
                    .map(|(v, (m, s))| (v - m) / s)
                    .collect()
            })
            .collect();
        let objective = SpendObjective {
            rows: &data.rows,
            z: &z,
            penalties: spread.iter().map(|s| self.penalty / (s * s)).collect(),
        };
        let w = data.rows.len() as f64;
        let mean = data.rows.iter().map(|(_, m)| m).sum::<f64>() / w;
        let mut starts = Vec::new();
        for (p, q) in [(1.0f64, 2.0f64), (2.0, 4.0)] {
            let mut s = vec![p.ln(), q.ln(), (mean * (q - 1.0) / p).ln()];
            s.resize(3 + k, 0.0);
            starts.push(s);
        }
        let max = crate::optimize::maximize_detailed(&objective, &starts, &self.options).map_err(
            |failure| FitError::Optimizer {
                model: MODEL,
                source: failure.error,
            },
        )?;
        let theta = &max.theta;
        let coefficients: Vec<f64> = (0..k).map(|j| theta[3 + j] / spread[j]).collect();
        let ln_gamma0 = theta[2] - (0..k).map(|j| coefficients[j] * centre[j]).sum::<f64>();
        let (p, q, gamma) = (theta[0].exp(), theta[1].exp(), ln_gamma0.exp());
        if !(p.is_finite() && q.is_finite() && gamma.is_finite() && gamma > 0.0) {
            return Err(FitError::Numerical {
                model: MODEL,
                detail: format!("the estimate (p, q, γ₀) = ({p}, {q}, {gamma}) is not usable"),
            });
        }
        if q <= 1.0 {
            return Err(FitError::Unusable {
                model: MODEL,
                reason: format!("q = {q} is not above 1, so the mean spend is infinite"),
                report: Box::new(max.report),
            });
        }
        let internal =
            crate::optimize::covariance(&max.hessian).map_err(|e| FitError::Numerical {
                model: MODEL,
                detail: format!("standard errors: {e}"),
            })?;
        let dim = 3 + k;
        let mut jacobian = vec![vec![0.0; dim]; dim];
        jacobian[0][0] = p;
        jacobian[1][1] = q;
        jacobian[2][2] = gamma;
        for j in 0..k {
            jacobian[2][3 + j] = -gamma * centre[j] / spread[j];
            jacobian[3 + j][3 + j] = 1.0 / spread[j];
        }
        let matrix = super::fit::sandwich(&jacobian, &internal);
        let mut all_names = vec!["p".to_string(), "q".into(), "gamma".into()];
        all_names.extend(names.iter().map(|n| format!("spend.{n}")));
        let covariance = Covariance::new(all_names, matrix).map_err(|e| FitError::Numerical {
            model: MODEL,
            detail: format!("standard errors: {e}"),
        })?;
        let mut report = max.report;
        let mut scratch = vec![0.0; dim];
        report.log_likelihood = SpendObjective {
            penalties: vec![0.0; k],
            ..objective
        }
        .value_and_gradient(theta, &mut scratch);
        Ok(SpendCovariateModel {
            base: GammaGammaParameters { p, q, gamma },
            columns: names,
            coefficients,
            covariance: Some(covariance),
            report: Some(report),
        })
    }
}

/// Σ ln f(m̄ | p, q, γᵢ; x) less the penalty, in (ln p, ln q, ln γ′, δ′) on standardised columns.
struct SpendObjective<'a> {
    rows: &'a [(u32, f64)],
    z: &'a [Vec<f64>],
    penalties: Vec<f64>,
}

impl Objective for SpendObjective<'_> {
    fn dim(&self) -> usize {
        3 + self.penalties.len()
    }
    fn weight(&self) -> f64 {
        self.rows.len() as f64
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let k = self.penalties.len();
        let (p, q) = (theta[0].exp(), theta[1].exp());
        if !(p.is_finite() && q.is_finite() && p > 0.0 && q > 0.0)
            || theta.iter().any(|t| !t.is_finite())
        {
            return f64::NEG_INFINITY;
        }
        let (lg_q, psi_q) = (ln_gamma(q), digamma(q));
        let mut ll = 0.0;
        let mut g = vec![0.0; 3 + k];
        for ((x, m), z) in self.rows.iter().zip(self.z) {
            let x = f64::from(*x);
            let ln_g = theta[2] + z.iter().zip(&theta[3..]).map(|(a, b)| a * b).sum::<f64>();
            let gamma = ln_g.exp();
            let px = p * x;
            let denom = gamma + x * m;
            let l_den = denom.ln();
            ll += ln_gamma(px + q) - ln_gamma(px) - lg_q
                + q * ln_g
                + (px - 1.0) * m.ln()
                + px * x.ln()
                - (px + q) * l_den;
            let psi_pxq = digamma(px + q);
            // ∂/∂ln p, ∂/∂ln q, ∂/∂ln γᵢ
            g[0] += px * (psi_pxq - digamma(px) + m.ln() + x.ln() - l_den);
            g[1] += q * (psi_pxq - psi_q + ln_g - l_den);
            let d_ln_g = q - (px + q) * gamma / denom;
            g[2] += d_ln_g;
            for (gj, zj) in g[3..].iter_mut().zip(z) {
                *gj += d_ln_g * zj;
            }
        }
        for j in 0..k {
            let d = theta[3 + j];
            ll -= self.penalties[j] * d * d;
            g[3 + j] -= 2.0 * self.penalties[j] * d;
        }
        if !(ll.is_finite() && g.iter().all(|v| v.is_finite())) {
            return f64::NEG_INFINITY;
        }
        grad.copy_from_slice(&g);
        ll
    }
}

/// Gamma-Gamma with covariates on its scale: (p, q, γ₀), the coefficients δ (one per column,
/// named `spend.<column>`), their covariance and the fit's report.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpendCovariateModel {
    base: GammaGammaParameters,
    columns: Vec<String>,
    coefficients: Vec<f64>,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
}

impl SpendCovariateModel {
    /// (p, q, γ₀): a customer's at covariates 0.
    pub fn base_parameters(&self) -> GammaGammaParameters {
        self.base
    }

    /// The columns and their coefficients δ.
    pub fn coefficients(&self) -> impl Iterator<Item = (&str, f64)> {
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.coefficients.iter().copied())
    }

    /// The columns the model reads, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The covariance of (p, q, γ₀, δ…), when fitted.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The standard errors, in the covariance's order, when fitted.
    pub fn standard_errors(&self) -> Option<Vec<f64>> {
        self.covariance.as_ref().map(Covariance::standard_errors)
    }

    /// The fit's report (unpenalised log-likelihood), when fitted.
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The Gamma-Gamma model of a customer with covariates `row` (one value per
    /// [`columns`](Self::columns) entry).
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a row of the wrong length or a value that is not
    /// finite; [`PredictError::Numerical`] when γᵢ leaves f64's range.
    pub fn individual(&self, row: &[f64]) -> Result<GammaGamma, PredictError> {
        if row.len() != self.columns.len() || row.iter().any(|v| !v.is_finite()) {
            return Err(PredictError::InvalidInput {
                name: "covariates",
                value: row.len() as f64,
                reason: "must hold one finite value per column of the model",
            });
        }
        let shift: f64 = row.iter().zip(&self.coefficients).map(|(z, d)| z * d).sum();
        let gamma = self.base.gamma * shift.exp();
        GammaGamma::new(GammaGammaParameters { gamma, ..self.base }).map_err(|e| {
            PredictError::Numerical {
                what: "individual parameters",
                detail: e.to_string(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(32))]
        #[test]
        fn gradient_matches_finite_differences(
            theta in proptest::collection::vec(-1.5f64..1.5, 5),
        ) {
            let rows = [(1u32, 20.0), (3, 35.5), (2, 12.25), (7, 50.0), (1, 5.0)];
            let z = vec![vec![0.5, -1.0], vec![-0.2, 0.3], vec![1.2, 0.0], vec![0.0, 1.0], vec![-1.5, -0.3]];
            let objective = SpendObjective { rows: &rows, z: &z, penalties: vec![0.3, 0.0] };
            let mut grad = vec![0.0; 5];
            let value = objective.value_and_gradient(&theta, &mut grad);
            prop_assert!(value.is_finite());
            let fd = crate::optimize::finite_difference_gradient(&objective, &theta);
            for (a, b) in grad.iter().zip(&fd) {
                prop_assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{grad:?} vs {fd:?}");
            }
        }
    }
}
