//! A fitted covariate model: base parameters, coefficients, covariance, and every prediction of
//! the family with each customer's own parameters.

use std::collections::HashMap;

use super::data::CovariateData;
use super::family::CovariateFamily;
use super::layout::Process;
use crate::covariates::DesignMatrix;
use crate::error::InvalidParameter;
use crate::fit::{Covariance, FitReport};
use crate::models::error::PredictError;
use crate::models::transaction_model::{BatchPredictions, TransactionModel};
use crate::time::TimeUnit;

/// One covariate coefficient: its column, the process it enters and its value per unit of the
/// column.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Coefficient {
    /// The design column.
    pub column: String,
    /// The process (both for a constrained coefficient).
    pub process: Process,
    /// The coefficient γ.
    pub value: f64,
}

impl Coefficient {
    /// The coefficient's name: `purchase.<column>`, `dropout.<column>` or `both.<column>`.
    pub fn name(&self) -> String {
        let prefix = match self.process {
            Process::Purchase => "purchase",
            Process::Dropout => "dropout",
            Process::Both => "both",
        };
        format!("{prefix}.{}", self.column)
    }
}

/// A purchase-and-dropout model with time-invariant covariates ([`CovariateFamily`] says how
/// they enter): base parameters (a customer's at covariates 0), coefficients, their joint
/// covariance and the fit's report when fitted.
///
/// Every prediction is the family's prediction with the customer's own parameters
/// ([`individual`](Self::individual)); [`predict`](Self::predict) does a whole base, computing
/// each distinct covariate row's model once.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "CovariateModelData", into = "CovariateModelData")
)]
pub struct CovariateModel {
    family: CovariateFamily,
    unit: TimeUnit,
    base: Vec<f64>,
    coefficients: Vec<Coefficient>,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    penalties: [f64; 2],
    /// The columns the coefficients read, in first-use order.
    columns: Vec<String>,
}

/// The serialized form, rebuilt through [`CovariateModel::new`]'s checks.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct CovariateModelData {
    model: CovariateFamily,
    unit: TimeUnit,
    base: Vec<(String, f64)>,
    coefficients: Vec<Coefficient>,
    #[serde(default)]
    covariance: Option<Covariance>,
    #[serde(default)]
    report: Option<FitReport>,
    #[serde(default)]
    penalties: [f64; 2],
}

#[cfg(feature = "serde")]
impl TryFrom<CovariateModelData> for CovariateModel {
    type Error = InvalidParameter;
    fn try_from(data: CovariateModelData) -> Result<Self, Self::Error> {
        let names = data.model.base_names();
        if data.base.len() != names.len() || data.base.iter().zip(names).any(|((n, _), m)| n != m) {
            return Err(InvalidParameter::new(
                "base",
                data.base.len() as f64,
                "must list the family's base parameters in order",
            ));
        }
        let base = data.base.iter().map(|(_, v)| *v).collect();
        let mut model = CovariateModel::new(data.model, data.unit, base, data.coefficients)?;
        if let Some(covariance) = &data.covariance {
            let names = model.parameter_names();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            covariance.check_names(&names)?;
        }
        model.covariance = data.covariance;
        model.report = data.report;
        model.penalties = data.penalties;
        Ok(model)
    }
}

#[cfg(feature = "serde")]
impl From<CovariateModel> for CovariateModelData {
    fn from(m: CovariateModel) -> Self {
        CovariateModelData {
            model: m.family,
            unit: m.unit,
            base: m
                .family
                .base_names()
                .iter()
                .map(|n| n.to_string())
                .zip(m.base.iter().copied())
                .collect(),
            coefficients: m.coefficients,
            covariance: m.covariance,
            report: m.report,
            penalties: m.penalties,
        }
    }
}

/// A likelihood-ratio test between nested models.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LikelihoodRatioTest {
    /// 2 (ll_full − ll_restricted).
    pub statistic: f64,
    /// The difference in the number of parameters.
    pub degrees_of_freedom: usize,
    /// P(χ²_df ≥ statistic).
    pub p_value: f64,
}

impl LikelihoodRatioTest {
    /// The test of a restricted model (log-likelihood, parameter count) against the full model
    /// that nests it.
    ///
    /// # Errors
    /// [`InvalidParameter`] when a log-likelihood is not finite or the full model does not
    /// have more parameters.
    pub fn new(restricted: (f64, usize), full: (f64, usize)) -> Result<Self, InvalidParameter> {
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        for (name, ll) in [
            ("restricted log-likelihood", restricted.0),
            ("full log-likelihood", full.0),
        ] {
            if !ll.is_finite() {
                return Err(InvalidParameter::new(name, ll, "must be finite"));
            }
        }
        let df = full
            .1
            .checked_sub(restricted.1)
            .filter(|d| *d > 0)
            .ok_or_else(|| {
                InvalidParameter::new(
                    "degrees of freedom",
                    full.1 as f64 - restricted.1 as f64,
                    "the full model must have more parameters than the restricted one",
                )
            })?;
        // A restricted maximum above the full one is an optimiser's rounding: the statistic is 0.
        let statistic = (2.0 * (full.0 - restricted.0)).max(0.0);
        let chi = ChiSquared::new(df as f64)
            .map_err(|_| InvalidParameter::new("degrees of freedom", df as f64, "out of range"))?;
        let p_value = chi.sf(statistic).clamp(0.0, 1.0);
        Ok(LikelihoodRatioTest {
            statistic,
            degrees_of_freedom: df,
            p_value,
        })
    }
}

impl CovariateModel {
    /// A model at given base parameters (in [`CovariateFamily::base_names`] order, the data's
    /// `unit`) and coefficients, without covariance or report.
    ///
    /// # Errors
    /// [`InvalidParameter`] for a base parameter that is not finite and positive, a
    /// coefficient that is not finite, the wrong number of base parameters, or a coefficient
    /// given twice for one column and process.
    pub fn new(
        family: CovariateFamily,
        unit: TimeUnit,
        base: Vec<f64>,
        coefficients: Vec<Coefficient>,
    ) -> Result<Self, InvalidParameter> {
        let names = family.base_names();
        if base.len() != names.len() {
            return Err(InvalidParameter::new(
                "base",
                base.len() as f64,
                "must hold one value per base parameter of the family",
            ));
        }
        for (name, value) in names.iter().zip(&base) {
            InvalidParameter::positive(name, *value)?;
        }
        let mut columns: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in &coefficients {
            if !c.value.is_finite() {
                return Err(InvalidParameter::new(
                    "coefficient",
                    c.value,
                    "must be finite",
                ));
            }
            let purchase = matches!(c.process, Process::Purchase | Process::Both);
            let dropout = matches!(c.process, Process::Dropout | Process::Both);
            if (purchase && !seen.insert((c.column.clone(), true)))
                || (dropout && !seen.insert((c.column.clone(), false)))
            {
                return Err(InvalidParameter::new(
                    "coefficient",
                    crate::error::ParameterValue::Text(c.name()),
                    "a column enters a process with one coefficient only",
                ));
            }
            if !columns.contains(&c.column) {
                columns.push(c.column.clone());
            }
        }
        Ok(CovariateModel {
            family,
            unit,
            base,
            coefficients,
            covariance: None,
            report: None,
            penalties: [0.0, 0.0],
            columns,
        })
    }

    pub(crate) fn fitted(
        family: CovariateFamily,
        unit: TimeUnit,
        base: Vec<f64>,
        coefficients: Vec<Coefficient>,
        covariance: Covariance,
        report: FitReport,
        penalties: [f64; 2],
    ) -> Result<Self, InvalidParameter> {
        let mut model = Self::new(family, unit, base, coefficients)?;
        model.covariance = Some(covariance);
        model.report = Some(report);
        model.penalties = penalties;
        Ok(model)
    }

    /// The model family.
    pub fn family(&self) -> CovariateFamily {
        self.family
    }

    /// The time unit of the data (of α, β and every horizon).
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The base parameters (a customer's at covariates 0), named as the family names them.
    pub fn base_parameters(&self) -> Vec<(&'static str, f64)> {
        self.family
            .base_names()
            .iter()
            .copied()
            .zip(self.base.iter().copied())
            .collect()
    }

    /// The coefficients, purchase first.
    pub fn coefficients(&self) -> &[Coefficient] {
        &self.coefficients
    }

    /// The design columns the model reads, in the order [`individual`](Self::individual)
    /// expects them.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Every parameter's name, in the covariance's order: the base parameters, then
    /// `purchase.<column>`, `dropout.<column>` or `both.<column>` per coefficient.
    pub fn parameter_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .family
            .base_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.extend(self.coefficients.iter().map(Coefficient::name));
        names
    }

    /// Every parameter's value, in [`parameter_names`](Self::parameter_names)' order.
    pub fn parameter_values(&self) -> Vec<f64> {
        let mut values = self.base.clone();
        values.extend(self.coefficients.iter().map(|c| c.value));
        values
    }

    /// The covariance of every parameter (base parameters and coefficients) from the observed
    /// information of the penalised likelihood, when fitted.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// Standard errors in [`parameter_names`](Self::parameter_names)' order, when fitted.
    pub fn standard_errors(&self) -> Option<Vec<f64>> {
        self.covariance.as_ref().map(Covariance::standard_errors)
    }

    /// Wald intervals at `level`, in [`parameter_names`](Self::parameter_names)' order: on the
    /// log scale for the (positive) base parameters, as [`Covariance::wald_intervals`] gives
    /// them; symmetric, γ ± z·se, for the coefficients. `None` when the model was not fitted.
    ///
    /// # Errors
    /// [`InvalidParameter`] for a level outside (0, 1).
    pub fn wald_intervals(
        &self,
        level: f64,
    ) -> Result<Option<Vec<crate::fit::ParameterInterval>>, InvalidParameter> {
        if !(level > 0.0 && level < 1.0) {
            return Err(InvalidParameter::new(
                "level",
                level,
                "must be a confidence level between 0 and 1",
            ));
        }
        let Some(se) = self.standard_errors() else {
            return Ok(None);
        };
        let z = crate::fit::two_sided_normal_quantile(level);
        let d = self.base.len();
        Ok(Some(
            self.parameter_names()
                .into_iter()
                .zip(self.parameter_values())
                .zip(se)
                .enumerate()
                .map(|(k, ((name, estimate), se))| {
                    let (lower, upper) = if k < d {
                        let half = z * se / estimate;
                        (estimate * (-half).exp(), estimate * half.exp())
                    } else {
                        (estimate - z * se, estimate + z * se)
                    };
                    crate::fit::ParameterInterval {
                        name,
                        estimate,
                        lower,
                        upper,
                        level,
                    }
                })
                .collect(),
        ))
    }

    /// The fit's report (total unpenalised log-likelihood in the data's unit), when fitted.
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The L2 penalties (purchase, dropout) the fit used.
    pub fn penalties(&self) -> [f64; 2] {
        self.penalties
    }

    /// The number of estimated parameters (base parameters and coefficients).
    pub fn parameter_count(&self) -> usize {
        self.base.len() + self.coefficients.len()
    }

    /// Akaike's information criterion, 2k − 2 ll, when fitted.
    pub fn aic(&self) -> Option<f64> {
        let ll = self.report.as_ref()?.log_likelihood;
        Some(2.0 * self.parameter_count() as f64 - 2.0 * ll)
    }

    /// The Bayesian information criterion, k ln N − 2 ll (N customers), when fitted.
    pub fn bic(&self) -> Option<f64> {
        let report = self.report.as_ref()?;
        Some(self.parameter_count() as f64 * report.customers.ln() - 2.0 * report.log_likelihood)
    }

    /// The likelihood-ratio test of `restricted` (a fitted model this one nests, such as the
    /// same family without some covariates) against this model.
    ///
    /// # Errors
    /// [`InvalidParameter`] when either model was not fitted, or this one does not have more
    /// parameters.
    pub fn likelihood_ratio_test(
        &self,
        restricted: &dyn TransactionModel,
    ) -> Result<LikelihoodRatioTest, InvalidParameter> {
        let full = self.report.as_ref().map(|r| r.log_likelihood);
        let small = restricted.fit_report().map(|r| r.log_likelihood);
        match (small, full) {
            (Some(small), Some(full)) => LikelihoodRatioTest::new(
                (small, restricted.parameter_count()),
                (full, self.parameter_count()),
            ),
            _ => Err(InvalidParameter::new(
                "model",
                f64::NAN,
                "both models must be fitted",
            )),
        }
    }

    /// The likelihood-ratio test of a restricted covariate model against this one.
    ///
    /// # Errors
    /// As [`likelihood_ratio_test`](Self::likelihood_ratio_test).
    pub fn likelihood_ratio_test_against(
        &self,
        restricted: &CovariateModel,
    ) -> Result<LikelihoodRatioTest, InvalidParameter> {
        match (restricted.report(), self.report()) {
            (Some(small), Some(full)) => LikelihoodRatioTest::new(
                (small.log_likelihood, restricted.parameter_count()),
                (full.log_likelihood, self.parameter_count()),
            ),
            _ => Err(InvalidParameter::new(
                "model",
                f64::NAN,
                "both models must be fitted",
            )),
        }
    }

    /// The base parameters of a customer with covariates `row` (one value per
    /// [`columns`](Self::columns) entry).
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a row of the wrong length or with a value that is not
    /// finite; [`PredictError::Numerical`] when a parameter leaves f64's range.
    pub fn individual_parameters(&self, row: &[f64]) -> Result<Vec<f64>, PredictError> {
        if row.len() != self.columns.len() {
            return Err(PredictError::InvalidInput {
                name: "covariates",
                value: row.len() as f64,
                reason: "must hold one value per column of the model",
            });
        }
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            return Err(PredictError::InvalidInput {
                name: "covariates",
                value: *v,
                reason: "must be finite",
            });
        }
        let mut log: Vec<f64> = self.base.iter().map(|v| v.ln()).collect();
        for c in &self.coefficients {
            let z = self
                .columns
                .iter()
                .position(|n| *n == c.column)
                .map(|j| row[j])
                .unwrap_or(0.0);
            let mut enter = |links: &[(usize, f64)]| {
                for &(i, sign) in links {
                    log[i] += sign * c.value * z;
                }
            };
            if matches!(c.process, Process::Purchase | Process::Both) {
                enter(self.family.purchase_links());
            }
            if matches!(c.process, Process::Dropout | Process::Both) {
                enter(self.family.dropout_links());
            }
        }
        let values: Vec<f64> = log.iter().map(|l| l.exp()).collect();
        if values.iter().all(|v| v.is_finite() && *v > 0.0) {
            Ok(values)
        } else {
            Err(PredictError::Numerical {
                what: "individual parameters",
                detail: format!("the covariates {row:?} take a parameter out of range: {values:?}"),
            })
        }
    }

    /// The family's model with the parameters of a customer with covariates `row`: every
    /// prediction of [`TransactionModel`] for that customer.
    ///
    /// # Errors
    /// As [`individual_parameters`](Self::individual_parameters).
    pub fn individual(&self, row: &[f64]) -> Result<Box<dyn TransactionModel>, PredictError> {
        let values = self.individual_parameters(row)?;
        self.family
            .model(&values, self.unit)
            .map_err(|e| PredictError::Numerical {
                what: "individual parameters",
                detail: e.to_string(),
            })
    }

    /// A customer's covariate row, read from `design` by column name.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] when the design lacks the customer or one of the model's
    /// columns.
    pub fn row_of(
        &self,
        design: &DesignMatrix,
        id: &crate::records::CustomerId,
    ) -> Result<Vec<f64>, PredictError> {
        let row = design.row_of(id).ok_or(PredictError::InvalidInput {
            name: "customer",
            value: f64::NAN,
            reason: "has no row in the design",
        })?;
        self.columns
            .iter()
            .map(|c| {
                design
                    .column_index(c)
                    .and_then(|j| row.get(j).copied())
                    .ok_or(PredictError::InvalidInput {
                        name: "design",
                        value: f64::NAN,
                        reason: "lacks a column of the model",
                    })
            })
            .collect()
    }

    /// P(alive) now, expected purchases over `t` and DERT at continuous `rate` for every customer
    /// of `data`, in its order, each with its own covariates (one model per distinct covariate
    /// row).
    ///
    /// # Errors
    /// The first customer's error, as [`TransactionModel::predict_batch`]; a design lacking
    /// a column of the model.
    pub fn predict(
        &self,
        data: &CovariateData,
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        let design = data.design();
        let at: Vec<usize> = self
            .columns
            .iter()
            .map(|c| {
                design.column_index(c).ok_or(PredictError::InvalidInput {
                    name: "design",
                    value: f64::NAN,
                    reason: "lacks a column of the model",
                })
            })
            .collect::<Result<_, _>>()?;
        self.predict_rows(
            (0..data.len()).map(|i| at.iter().map(|&j| design.row(i)[j]).collect()),
            data.histories(),
            t,
            rate,
        )
    }

    /// [`predict`](Self::predict) from each customer's row (in [`columns`](Self::columns)'
    /// order) and history.
    pub(crate) fn predict_rows(
        &self,
        rows: impl Iterator<Item = Vec<f64>>,
        histories: &[crate::models::History],
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        let mut groups: HashMap<Vec<u64>, (Vec<f64>, Vec<usize>)> = HashMap::new();
        let mut order: Vec<Vec<u64>> = Vec::new();
        for (i, row) in rows.enumerate() {
            let key: Vec<u64> = row.iter().map(|v| (v + 0.0).to_bits()).collect();
            let entry = groups.entry(key.clone()).or_insert_with(|| {
                order.push(key);
                (row, Vec::new())
            });
            entry.1.push(i);
        }
        let n = histories.len();
        let mut out = BatchPredictions {
            p_alive: vec![0.0; n],
            expected_purchases: vec![0.0; n],
            dert: vec![0.0; n],
        };
        for key in order {
            let (row, members) = &groups[&key];
            let model = self.individual(row)?;
            let hs: Vec<crate::models::History> = members
                .iter()
                .map(|&i| {
                    histories.get(i).copied().ok_or(PredictError::InvalidInput {
                        name: "histories",
                        value: n as f64,
                        reason: "fewer histories than covariate rows",
                    })
                })
                .collect::<Result<_, _>>()?;
            let batch = model.predict_batch(&hs, t, rate)?;
            for (k, &i) in members.iter().enumerate() {
                out.p_alive[i] = batch.p_alive[k];
                out.expected_purchases[i] = batch.expected_purchases[k];
                out.dert[i] = batch.dert[k];
            }
        }
        Ok(out)
    }

    /// The total log-likelihood of `data` at the model's parameters (in the data's unit).
    ///
    /// # Errors
    /// As [`predict`](Self::predict); [`PredictError::Numerical`] when it is not finite.
    pub fn total_log_likelihood(&self, data: &CovariateData) -> Result<f64, PredictError> {
        let mut total = 0.0;
        for (i, h) in data.histories().iter().enumerate() {
            let row = self.row_of(data.design(), &data.ids()[i])?;
            total += self.individual(&row)?.log_likelihood(h)?;
        }
        crate::models::btyd::finite("log-likelihood", total)
    }

    /// The model at other parameter values (in [`parameter_names`](Self::parameter_names)'
    /// order): how intervals vary it.
    ///
    /// # Errors
    /// As [`CovariateModel::new`], or a wrong number of values.
    pub fn with_parameters(&self, values: &[f64]) -> Result<Self, InvalidParameter> {
        let d = self.base.len();
        if values.len() != d + self.coefficients.len() {
            return Err(InvalidParameter::new(
                "parameters",
                values.len() as f64,
                "must hold one value per parameter of the model",
            ));
        }
        let coefficients = self
            .coefficients
            .iter()
            .zip(&values[d..])
            .map(|(c, v)| Coefficient {
                value: *v,
                ..c.clone()
            })
            .collect();
        let mut model = Self::new(self.family, self.unit, values[..d].to_vec(), coefficients)?;
        model.penalties = self.penalties;
        Ok(model)
    }
}
