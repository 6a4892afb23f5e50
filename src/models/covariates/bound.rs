//! A covariate model with its design: a [`TransactionModel`] a valuation can use.

use std::collections::HashMap;

use super::model::CovariateModel;
use crate::covariates::DesignMatrix;
use crate::error::InvalidParameter;
use crate::fit::{Covariance, FitReport};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::{BatchPredictions, TransactionModel};
use crate::records::CustomerId;
use crate::time::TimeUnit;

/// A [`CovariateModel`] bound to the design that holds every customer's covariates: a
/// [`TransactionModel`] whose [`predict_customers`](TransactionModel::predict_customers) (what
/// a valuation calls) predicts each customer with their own parameters, so
/// [`ValuationBuilder::transaction_model`](crate::valuation::ValuationBuilder::transaction_model)
/// takes it as it takes any model, and the valuation's intervals vary the coefficients too.
///
/// The methods that see a history without a customer (`p_alive`, `dert`, …, and the
/// new-customer predictions of acquisition plans) describe the reference customer, whose
/// covariates are all 0 (the reference levels of categories, the mean of standardised
/// columns).
#[derive(Clone)]
pub struct BoundCovariateModel {
    model: CovariateModel,
    design: DesignMatrix,
    /// Per customer, the row in the model's column order.
    rows: HashMap<CustomerId, Vec<f64>>,
    reference: std::sync::Arc<dyn TransactionModel>,
}

/// Shown by name and parameters (the reference customer's model in `Debug` output).
struct ShowModel<'a>(&'a dyn TransactionModel);

impl std::fmt::Debug for ShowModel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({:?})", self.0.name(), self.0.named_parameters())
    }
}

impl std::fmt::Debug for BoundCovariateModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundCovariateModel")
            .field("model", &self.model)
            .field("customers", &self.design.len())
            .field("reference", &ShowModel(self.reference.as_ref()))
            .finish()
    }
}

impl CovariateModel {
    /// Binds the model to `design`, which must hold every column the model reads (by name) and
    /// a row for every customer it will predict.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] when the design lacks a column of the model;
    /// [`PredictError::Numerical`] when the reference customer's parameters are out of range.
    pub fn bind(self, design: DesignMatrix) -> Result<BoundCovariateModel, PredictError> {
        let at: Vec<usize> = self
            .columns()
            .iter()
            .map(|c| {
                design.column_index(c).ok_or(PredictError::InvalidInput {
                    name: "design",
                    value: f64::NAN,
                    reason: "lacks a column of the covariate model",
                })
            })
            .collect::<Result<_, _>>()?;
        let rows = design
            .ids()
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), at.iter().map(|&j| design.row(i)[j]).collect()))
            .collect();
        let zero = vec![0.0; self.columns().len()];
        let reference = std::sync::Arc::from(self.individual(&zero)?);
        Ok(BoundCovariateModel {
            model: self,
            design,
            rows,
            reference,
        })
    }
}

impl BoundCovariateModel {
    /// The covariate model.
    pub fn model(&self) -> &CovariateModel {
        &self.model
    }

    /// The design it reads.
    pub fn design(&self) -> &DesignMatrix {
        &self.design
    }

    /// Customer `id`'s own model.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a customer without a row; as
    /// [`CovariateModel::individual`].
    pub fn customer(&self, id: &CustomerId) -> Result<Box<dyn TransactionModel>, PredictError> {
        let row = self.rows.get(id).ok_or(PredictError::InvalidInput {
            name: "customer",
            value: f64::NAN,
            reason: "has no row in the covariate model's design",
        })?;
        self.model.individual(row)
    }

    /// The same binding with one coefficient (by its name, e.g. `purchase.region=south`)
    /// set to 0: the counterfactual a valuation compares with to say how much value that
    /// covariate moves.
    ///
    /// # Errors
    /// [`InvalidParameter`] for a name the model lacks; as [`CovariateModel::bind`].
    pub fn without(&self, coefficient: &str) -> Result<Self, InvalidParameter> {
        let names = self.model.parameter_names();
        let at = names.iter().position(|n| n == coefficient).ok_or_else(|| {
            InvalidParameter::new(
                "coefficient",
                crate::error::ParameterValue::Text(coefficient.to_string()),
                "is not a coefficient of the model",
            )
        })?;
        let mut values = self.model.parameter_values();
        if at < self.model.base_parameters().len() {
            return Err(InvalidParameter::new(
                "coefficient",
                crate::error::ParameterValue::Text(coefficient.to_string()),
                "is a base parameter, not a coefficient",
            ));
        }
        values[at] = 0.0;
        self.rebound(&values)
    }

    fn rebound(&self, values: &[f64]) -> Result<Self, InvalidParameter> {
        let model = self.model.with_parameters(values)?;
        model.bind(self.design.clone()).map_err(|_| {
            InvalidParameter::new(
                "parameters",
                f64::NAN,
                "take the reference customer's parameters out of range",
            )
        })
    }
}

impl TransactionModel for BoundCovariateModel {
    fn name(&self) -> &str {
        self.model.family().name()
    }
    fn unit(&self) -> TimeUnit {
        self.model.unit()
    }
    /// Every parameter: the base parameters, then the coefficients.
    fn named_parameters(&self) -> Vec<(String, f64)> {
        self.model
            .parameter_names()
            .into_iter()
            .zip(self.model.parameter_values())
            .collect()
    }
    fn fit_report(&self) -> Option<&FitReport> {
        self.model.report()
    }
    fn covariance(&self) -> Option<&Covariance> {
        self.model.covariance()
    }
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, InvalidParameter>> {
        Some(
            self.rebound(values)
                .map(|m| Box::new(m) as Box<dyn TransactionModel>),
        )
    }
    fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
        self.reference.log_likelihood(h)
    }
    fn p_alive(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        self.reference.p_alive(h, t)
    }
    fn expected_purchases(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        self.reference.expected_purchases(h, t)
    }
    fn purchase_probability(&self, h: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        self.reference.purchase_probability(h, n, t)
    }
    fn dert(&self, h: &History, rate: f64) -> Result<f64, PredictError> {
        self.reference.dert(h, rate)
    }
    /// Each customer with their own covariates (one model per distinct row).
    fn predict_customers(
        &self,
        ids: &[CustomerId],
        histories: &[History],
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        let rows: Vec<Vec<f64>> = ids
            .iter()
            .map(|id| {
                self.rows
                    .get(id)
                    .cloned()
                    .ok_or(PredictError::InvalidInput {
                        name: "customer",
                        value: f64::NAN,
                        reason: "has no row in the covariate model's design",
                    })
            })
            .collect::<Result<_, _>>()?;
        self.model
            .predict_rows(rows.into_iter(), histories, t, rate)
    }
}

impl crate::models::uncertainty::Reparameterize for BoundCovariateModel {
    fn parameter_names(&self) -> Vec<String> {
        self.model.parameter_names()
    }
    fn parameter_values(&self) -> Vec<f64> {
        self.model.parameter_values()
    }
    fn parameter_covariance(&self) -> Option<&Covariance> {
        self.model.covariance()
    }
    /// The same binding at other parameter values (base parameters, then coefficients).
    fn with_parameters(&self, values: &[f64]) -> Result<Self, InvalidParameter> {
        self.rebound(values)
    }
}
