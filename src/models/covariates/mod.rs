//! Time-invariant covariates in the continuous-time models: Pareto/NBD, BG/NBD and MBG/NBD
//! with customer attributes on the purchase and the dropout process.
//!
//! | part | type |
//! |---|---|
//! | which model, how covariates enter | [`CovariateFamily`] |
//! | data: histories joined with a [`DesignMatrix`](crate::covariates::DesignMatrix) | [`CovariateData`] |
//! | settings: columns per process, constraints, L2 penalties | [`CovariateParams`] |
//! | the fitted model: base parameters, coefficients, covariance, predictions | [`CovariateModel`] |
//! | Gamma-Gamma with covariates on its scale | [`SpendCovariateData`], [`SpendCovariateParams`], [`SpendCovariateModel`] |
//! | nested models compared | [`LikelihoodRatioTest`], [`CovariateModel::aic`], [`CovariateModel::bic`] |
//!
//! The fit maximises the likelihood in the logarithms of the base parameters and the
//! coefficients of the standardised columns (so that the optimizer sees parameters of one
//! order), with analytic gradients: customers with equal covariates form a cell whose equal
//! histories compress into weighted rows, and each cell's likelihood is the family's own at
//! the cell's parameters, so a base of 100,000 customers with a few categorical covariates
//! costs about what the model without covariates does. Estimates and their covariance are
//! reported per unit of the columns as given.

mod bound;
mod data;
mod family;
mod fit;
mod layout;
mod model;
mod spend;
#[cfg(test)]
mod tests;

pub use bound::BoundCovariateModel;
pub use data::CovariateData;
pub use family::CovariateFamily;
pub use fit::CovariateParams;
pub use layout::Process;
pub use model::{Coefficient, CovariateModel, LikelihoodRatioTest};
pub use spend::{SpendCovariateData, SpendCovariateModel, SpendCovariateParams};
