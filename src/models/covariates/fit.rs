//! Fitting a covariate model: the settings, the likelihood over cells of customers that share
//! covariates, and the estimate with its covariance in the user's units.

use super::data::CovariateData;
use super::family::{CovariateFamily, MAX_BASE};
use super::layout::{cells, Cell, Layout, Process};
use super::model::{Coefficient, CovariateModel};
use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions};
use crate::models::btyd::{check_identifiable, Prepared};
use crate::optimize::Objective;
use crate::summary::Patterns;

/// Settings of a covariate fit: the model, which design columns enter which process, equality
/// constraints, L2 penalties and the optimizer's options. `fit` on [`CovariateData`] gives a
/// [`CovariateModel`].
///
/// Both column lists default to every column of the data's design; an empty list keeps that
/// process free of covariates. A column named in [`constrain`](Self::constrain) enters both
/// processes with one coefficient. The penalties add λ_p Σγ_p² + λ_d Σγ_d² to the negative
/// total log-likelihood (a constrained coefficient carries λ_p + λ_d); the base parameters are
/// not penalised.
///
/// ```
/// use customer_assets::fit::Fit;
/// use customer_assets::models::covariates::{CovariateFamily, CovariateParams};
/// let params = CovariateParams::new(CovariateFamily::ParetoNbd)
///     .purchase_covariates(&["gender", "channel"])
///     .dropout_covariates(&["channel"])
///     .dropout_penalty(0.5);
/// params.check()?;
/// assert!(CovariateParams::new(CovariateFamily::BgNbd).penalty(-1.0).check().is_err());
/// # Ok::<(), customer_assets::FitError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CovariateParams {
    family: CovariateFamily,
    options: FitOptions,
    purchase: Option<Vec<String>>,
    dropout: Option<Vec<String>>,
    constrained: Vec<String>,
    purchase_penalty: f64,
    dropout_penalty: f64,
}

impl CovariateParams {
    /// Settings for `family` with every column in both processes, no constraint, no penalty.
    pub fn new(family: CovariateFamily) -> Self {
        CovariateParams {
            family,
            options: FitOptions::new(),
            purchase: None,
            dropout: None,
            constrained: Vec::new(),
            purchase_penalty: 0.0,
            dropout_penalty: 0.0,
        }
    }

    /// The optimizer's options (its own penalty must stay 0: covariate fits penalise the
    /// coefficients, see [`purchase_penalty`](Self::purchase_penalty)).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// The columns that enter the purchase process (empty: none).
    pub fn purchase_covariates<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.purchase = Some(
            names
                .iter()
                .map(|n| n.as_ref().trim().to_string())
                .collect(),
        );
        self
    }

    /// The columns that enter the dropout process (empty: none).
    pub fn dropout_covariates<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.dropout = Some(
            names
                .iter()
                .map(|n| n.as_ref().trim().to_string())
                .collect(),
        );
        self
    }

    /// Columns whose purchase and dropout coefficients are one (each must enter both).
    pub fn constrain<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.constrained = names
            .iter()
            .map(|n| n.as_ref().trim().to_string())
            .collect();
        self
    }

    /// L2 penalty λ on the purchase coefficients.
    pub fn purchase_penalty(mut self, lambda: f64) -> Self {
        self.purchase_penalty = lambda;
        self
    }

    /// L2 penalty λ on the dropout coefficients.
    pub fn dropout_penalty(mut self, lambda: f64) -> Self {
        self.dropout_penalty = lambda;
        self
    }

    /// The same L2 penalty λ on both processes' coefficients.
    pub fn penalty(self, lambda: f64) -> Self {
        self.purchase_penalty(lambda).dropout_penalty(lambda)
    }

    /// The model family.
    pub fn family(&self) -> CovariateFamily {
        self.family
    }

    /// The purchase and dropout columns for a design with `names`.
    fn columns(&self, names: &[String]) -> (Vec<String>, Vec<String>) {
        (
            self.purchase.clone().unwrap_or_else(|| names.to_vec()),
            self.dropout.clone().unwrap_or_else(|| names.to_vec()),
        )
    }
}

impl Fit<CovariateData> for CovariateParams {
    type Model = CovariateModel;
    type Error = FitError;

    /// Checks the optimizer's options (with penalty 0) and the penalties (finite, ≥ 0).
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        let penalty = self.options.get_penalty();
        if penalty != 0.0 {
            return Err(InvalidParameter::new(
                "penalty",
                penalty,
                "covariate fits penalise the coefficients: set purchase_penalty and dropout_penalty, not the optimizer's penalty",
            )
            .into());
        }
        for (name, value) in [
            ("purchase_penalty", self.purchase_penalty),
            ("dropout_penalty", self.dropout_penalty),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(
                    InvalidParameter::new(name, value, "must be finite and non-negative").into(),
                );
            }
        }
        Ok(())
    }

    /// Maximises the (penalised) likelihood from the model without covariates (γ = 0) and the
    /// family's built-in starts.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] for bad settings; [`FitError::Covariates`] for a column
    /// the design lacks, a constrained column outside either list, or a constant or collinear
    /// column among a process's covariates; the base model's data errors
    /// ([`FitError::NoData`], [`FitError::NotIdentified`], [`FitError::OutOfRange`]);
    /// [`FitError::Optimizer`] when no start converges; [`FitError::Numerical`] when the
    /// covariance cannot be computed.
    fn fit(&self, data: &CovariateData) -> Result<CovariateModel, FitError> {
        self.check()?;
        let family = self.family;
        let model = family.name();
        let Setup {
            layout,
            histories,
            patterns,
            centre,
            spread,
            scale,
            cells,
        } = self.setup(data)?;
        let base_count = family.base_names().len();
        let weighted_x: f64 = histories.iter().map(|h| f64::from(h.0)).sum();
        let mut objective = CovariateObjective::new(&layout, &cells, &spread, self);
        objective.ll_offset = -weighted_x * scale.ln();
        let mut starts = Vec::new();
        let powers = family.time_powers();
        let start_of = |natural: &[f64]| -> Vec<f64> {
            let mut theta: Vec<f64> = natural
                .iter()
                .zip(powers)
                .map(|(v, p)| (v / scale.powf(*p)).ln())
                .collect();
            theta.resize(base_count + layout.coefficients.len(), 0.0);
            theta
        };
        if let Some(base) = family.base_fit(&patterns, &self.options) {
            starts.push(start_of(&base));
        }
        for s in family.default_starts() {
            let mut theta: Vec<f64> = s.iter().map(|v| v.ln()).collect();
            theta.resize(base_count + layout.coefficients.len(), 0.0);
            starts.push(theta);
        }
        let max = crate::optimize::maximize_detailed(&objective, &starts, &self.options)
            .map_err(|failure| objective.failure(failure, &self.options))?;
        // The user's parameters: base values in the data's unit at covariates 0, coefficients
        // per unit of each column.
        let theta = &max.theta;
        let k_count = layout.coefficients.len();
        let coefficient_at = |k: usize| theta[base_count + k] / spread[layout.coefficients[k].0];
        let mut log_base: Vec<f64> = (0..base_count)
            .map(|i| {
                theta[i]
                    - (0..k_count)
                        .map(|k| {
                            layout.sign(i, k) * coefficient_at(k) * centre[layout.coefficients[k].0]
                        })
                        .sum::<f64>()
            })
            .collect();
        for (t, p) in log_base.iter_mut().zip(powers) {
            *t += p * scale.ln();
        }
        let base: Vec<f64> = log_base.iter().map(|t| t.exp()).collect();
        if !base.iter().all(|v| v.is_finite() && *v > 0.0) {
            return Err(FitError::Numerical {
                model,
                detail: format!("the estimate has invalid base parameters {base:?}"),
            });
        }
        // Covariance: θ' → (ln base, γ) is linear (T), then ln base → base (diagonal).
        let internal =
            crate::optimize::covariance(&max.hessian).map_err(|source| FitError::Numerical {
                model,
                detail: format!("standard errors: {source}"),
            })?;
        let dim = base_count + k_count;
        let mut jacobian = vec![vec![0.0; dim]; dim];
        for i in 0..base_count {
            jacobian[i][i] = base[i];
            for k in 0..k_count {
                let c = layout.coefficients[k].0;
                jacobian[i][base_count + k] = -base[i] * layout.sign(i, k) * centre[c] / spread[c];
            }
        }
        for k in 0..k_count {
            jacobian[base_count + k][base_count + k] = 1.0 / spread[layout.coefficients[k].0];
        }
        let matrix = sandwich(&jacobian, &internal);
        let mut names: Vec<String> = family.base_names().iter().map(|s| s.to_string()).collect();
        names.extend(layout.coefficient_names());
        let covariance = Covariance::new(names, matrix).map_err(|e| FitError::Numerical {
            model,
            detail: format!("standard errors: {e}"),
        })?;
        let unpenalised = objective.total(theta, false).0;
        let mut report = max.report;
        report.log_likelihood = unpenalised + objective.ll_offset;
        if !report.log_likelihood.is_finite() {
            return Err(FitError::Numerical {
                model,
                detail: "the log-likelihood at the estimate is not finite".into(),
            });
        }
        // GGompertz/NBD whose ageing rate b heads to 0 is Pareto/NBD (b and β are not
        // estimated there), as without covariates.
        if family == CovariateFamily::GGompertzNbd {
            let oldest = histories.iter().map(|h| h.2).fold(0.0, f64::max);
            if base[2] * oldest < crate::models::ggompertz_nbd::NO_AGEING {
                let mut estimate: Vec<(String, f64)> = family
                    .base_names()
                    .iter()
                    .map(|n| n.to_string())
                    .zip(base.iter().copied())
                    .collect();
                estimate.push(("beta/b".into(), base[4] / base[2]));
                return Err(FitError::Boundary {
                    model,
                    boundary: Box::new(crate::fit::BoundaryEstimate {
                        limits: vec![crate::fit::Limit::NoAgeing],
                        estimate,
                        population_mean_spend: None,
                        report: Some(report),
                    }),
                });
            }
        }
        let coefficients = layout
            .coefficients
            .iter()
            .enumerate()
            .map(|(k, &(c, process))| Coefficient {
                column: layout.columns[c].clone(),
                process,
                value: coefficient_at(k),
            })
            .collect();
        CovariateModel::fitted(
            family,
            data.unit(),
            base,
            coefficients,
            covariance,
            report,
            [self.purchase_penalty, self.dropout_penalty],
        )
        .map_err(|e| FitError::Numerical {
            model,
            detail: format!("estimate: {e}"),
        })
    }
}

/// What the fit reads, prepared: the layout of the coefficients, the histories, their patterns,
/// the standardisation of the columns, the time scale and the cells.
pub(crate) struct Setup {
    pub layout: Layout,
    pub histories: Vec<(u32, f64, f64)>,
    pub patterns: Patterns,
    pub centre: Vec<f64>,
    pub spread: Vec<f64>,
    pub scale: f64,
    pub cells: Vec<Cell>,
}

impl CovariateParams {
    /// Checks the columns and the data and prepares the fit's pieces.
    pub(crate) fn setup(&self, data: &CovariateData) -> Result<Setup, FitError> {
        let family = self.family;
        let model = family.name();
        let covariates = |source| FitError::Covariates { model, source };
        let design = data.design();
        let (purchase, dropout) = self.columns(design.names());
        for names in [&purchase, &dropout] {
            let part = design.select(names).map_err(covariates)?;
            if !names.is_empty() {
                part.check_identifiable().map_err(covariates)?;
            }
        }
        let layout =
            Layout::new(family, &purchase, &dropout, &self.constrained).map_err(covariates)?;
        let selected = design.select(&layout.columns).map_err(covariates)?;
        let histories: Vec<(u32, f64, f64)> = data
            .histories()
            .iter()
            .map(|h| (h.frequency, h.recency, h.age))
            .collect();
        let patterns = Patterns::new(
            data.unit(),
            histories.iter().map(|&(x, t_x, t)| (x, t_x, t, 1.0)),
        )
        .map_err(|e| FitError::Numerical {
            model,
            detail: format!("histories: {e}"),
        })?;
        let base_count = family.base_names().len();
        check_identifiable(model, &patterns, base_count + layout.coefficients.len())?;
        let (centre, spread) = standardisation(&selected);
        let scale = Prepared::mean_age(&patterns);
        let cells =
            cells(&selected, &histories, data.unit(), &centre, &spread, scale).map_err(|e| {
                FitError::Numerical {
                    model,
                    detail: format!("histories: {e}"),
                }
            })?;
        Ok(Setup {
            layout,
            histories,
            patterns,
            centre,
            spread,
            scale,
            cells,
        })
    }

    /// The objective of the fit on `setup` (for the tests of its gradient and value).
    #[cfg(test)]
    pub(crate) fn objective<'a>(&self, setup: &'a Setup) -> CovariateObjective<'a> {
        CovariateObjective::new(&setup.layout, &setup.cells, &setup.spread, self)
    }
}

/// Per column: the mean and the (population) standard deviation over the customers; a column
/// with no spread keeps 1 (the fit refuses constant columns before).
pub(super) fn standardisation(design: &crate::covariates::DesignMatrix) -> (Vec<f64>, Vec<f64>) {
    let n = design.len().max(1) as f64;
    let k = design.columns();
    let mut mean = vec![0.0; k];
    for i in 0..design.len() {
        for (m, v) in mean.iter_mut().zip(design.row(i)) {
            *m += v / n;
        }
    }
    let mut var = vec![0.0; k];
    for i in 0..design.len() {
        for ((s, v), m) in var.iter_mut().zip(design.row(i)).zip(&mean) {
            *s += (v - m) * (v - m) / n;
        }
    }
    let spread = var
        .iter()
        .map(|v| {
            let s = v.sqrt();
            if s.is_finite() && s > 0.0 {
                s
            } else {
                1.0
            }
        })
        .collect();
    (mean, spread)
}

/// J C Jᵀ.
pub(super) fn sandwich(j: &[Vec<f64>], c: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = j.len();
    let jc: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|b| (0..n).map(|a| j[i][a] * c[a][b]).sum())
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| {
            (0..n)
                .map(|l| (0..n).map(|b| jc[i][b] * j[l][b]).sum())
                .collect()
        })
        .collect()
}

/// The total log-likelihood over the cells in θ' = (log base parameters on the rescaled axis,
/// coefficients of the standardised columns), less the penalty.
pub(crate) struct CovariateObjective<'a> {
    family: CovariateFamily,
    cells: &'a [Cell],
    base_count: usize,
    /// Per coefficient, its column among the cells' values.
    columns: Vec<usize>,
    /// signs[i][k]: how coefficient k enters base parameter i.
    signs: Vec<Vec<f64>>,
    /// Per coefficient, the penalty on the standardised coefficient: λ / spread².
    penalties: Vec<f64>,
    weight: f64,
    /// ln L in the data's unit minus ln L on the rescaled axis: −Σx ln(scale).
    ll_offset: f64,
    /// The largest |ln parameter| of a cell evaluated (the optimizer's θ bound): beyond it a
    /// point is infeasible, as in the models without covariates.
    bound: f64,
}

impl<'a> CovariateObjective<'a> {
    fn new(layout: &Layout, cells: &'a [Cell], spread: &[f64], params: &CovariateParams) -> Self {
        let base_count = layout.family.base_names().len();
        let k_count = layout.coefficients.len();
        let signs = (0..base_count)
            .map(|i| (0..k_count).map(|k| layout.sign(i, k)).collect())
            .collect();
        let penalties = layout
            .coefficients
            .iter()
            .map(|&(c, process)| {
                let lambda = match process {
                    Process::Purchase => params.purchase_penalty,
                    Process::Dropout => params.dropout_penalty,
                    Process::Both => params.purchase_penalty + params.dropout_penalty,
                };
                lambda / (spread[c] * spread[c])
            })
            .collect();
        let weight = cells
            .iter()
            .map(|c| c.data.weight.iter().sum::<f64>())
            .sum();
        CovariateObjective {
            family: layout.family,
            cells,
            base_count,
            columns: layout.coefficients.iter().map(|&(c, _)| c).collect(),
            signs,
            penalties,
            weight,
            bound: params.options.get_theta_bound(),
            ll_offset: 0.0,
        }
    }

    /// The total log-likelihood (penalised when asked) and its gradient in θ'.
    pub(crate) fn total(&self, theta: &[f64], penalised: bool) -> (f64, Vec<f64>) {
        let d = self.base_count;
        let k_count = self.columns.len();
        let cell_terms = |cell: &Cell| -> (f64, [f64; MAX_BASE]) {
            let mut at = [0.0; MAX_BASE];
            for (i, a) in at.iter_mut().enumerate().take(d) {
                let shift: f64 = (0..k_count)
                    .map(|k| self.signs[i][k] * theta[d + k] * cell.z[self.columns[k]])
                    .sum();
                *a = theta[i] + shift;
            }
            if at.iter().any(|a| a.is_nan() || a.abs() > self.bound) {
                return (f64::NEG_INFINITY, [0.0; MAX_BASE]);
            }
            self.family.log_likelihood(&cell.data, &at[..d])
        };
        #[cfg(feature = "parallel")]
        let parts: Vec<(f64, [f64; MAX_BASE])> = {
            use rayon::prelude::*;
            self.cells.par_iter().map(cell_terms).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let parts: Vec<(f64, [f64; MAX_BASE])> = self.cells.iter().map(cell_terms).collect();
        let mut ll = 0.0;
        let mut grad = vec![0.0; d + k_count];
        for (cell, (value, g)) in self.cells.iter().zip(parts) {
            ll += value;
            for i in 0..d {
                grad[i] += g[i];
                for k in 0..k_count {
                    grad[d + k] += self.signs[i][k] * cell.z[self.columns[k]] * g[i];
                }
            }
        }
        if penalised {
            for k in 0..k_count {
                let gamma = theta[d + k];
                ll -= self.penalties[k] * gamma * gamma;
                grad[d + k] -= 2.0 * self.penalties[k] * gamma;
            }
        }
        if ll.is_finite() && grad.iter().all(|g| g.is_finite()) {
            (ll, grad)
        } else {
            (f64::NEG_INFINITY, vec![0.0; d + k_count])
        }
    }
}

impl CovariateObjective<'_> {
    /// The error of a failed fit: [`FitError::Boundary`] when some cell's parameters head for
    /// a limit of the family (a cell whose customers show no dropout heterogeneity, say), with
    /// the limits of every such cell and the last point's cell parameters; else the optimizer's
    /// error.
    fn failure(&self, failure: crate::optimize::Failure, options: &FitOptions) -> FitError {
        let model = self.family.name();
        let d = self.base_count;
        let report = match &failure.error {
            crate::fit::OptimizerError::NotConverged(report) => Some(report.clone()),
            crate::fit::OptimizerError::NotAMaximum { report, .. }
            | crate::fit::OptimizerError::BudgetExhausted { report, .. } => {
                Some((**report).clone())
            }
            _ => None,
        };
        if let (Some(theta), Some(mut report)) = (&failure.theta, report) {
            report.log_likelihood += self.ll_offset;
            let names = self.family.base_names();
            let pairs = self.family.pairs();
            let mut limits = Vec::new();
            let mut estimate = Vec::new();
            for (c, cell) in self.cells.iter().enumerate() {
                let at: Vec<f64> = (0..d)
                    .map(|i| {
                        theta[i]
                            + (0..self.columns.len())
                                .map(|k| self.signs[i][k] * theta[d + k] * cell.z[self.columns[k]])
                                .sum::<f64>()
                    })
                    .collect();
                let found =
                    crate::fit::boundary_limits(&at, options.get_theta_bound(), &[], names, &pairs);
                if found.is_empty() {
                    continue;
                }
                for limit in found {
                    if !limits.contains(&limit) {
                        limits.push(limit);
                    }
                }
                for (name, t) in names.iter().zip(&at) {
                    estimate.push((format!("cell {c} {name} (rescaled time)"), t.exp()));
                }
            }
            if !limits.is_empty() && estimate.iter().all(|(_, v)| v.is_finite()) {
                return FitError::Boundary {
                    model,
                    boundary: Box::new(crate::fit::BoundaryEstimate {
                        limits,
                        estimate,
                        population_mean_spend: None,
                        report: Some(report),
                    }),
                };
            }
        }
        FitError::Optimizer {
            model,
            source: failure.error,
        }
    }
}

impl Objective for CovariateObjective<'_> {
    fn dim(&self) -> usize {
        self.base_count + self.columns.len()
    }
    fn weight(&self) -> f64 {
        self.weight
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (ll, g) = self.total(theta, true);
        for (d, v) in grad.iter_mut().zip(g) {
            *d = v;
        }
        ll
    }
}
