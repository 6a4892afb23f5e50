//! Customer attributes as model covariates: typed attribute values, the table that holds them per
//! customer, and the design matrix the covariate models read.
//!
//! The flow is records → [`AttributeTable`] → [`DesignMatrix`] → models: a table comes from a
//! ledger's customers or from the host (a file joined by id); a design builder turns its columns
//! into numeric covariates (dummies for categories against a stated reference level, numeric
//! columns optionally standardised); the covariate models of [`crate::models::covariates`] fit
//! and predict with one row per customer.
//!
//! A design matrix never holds an intercept: every model's own scale parameter (α₀, β₀, …) is the
//! intercept, so a constant column would duplicate it and is refused.

mod error;
mod matrix;
mod table;
mod value;

pub use error::CovariateError;
pub use matrix::{DesignMatrix, MAX_COLUMNS};
pub use table::AttributeTable;
pub use value::{AttributeKind, AttributeValue, MAX_ATTRIBUTE_NAME_LEN, MAX_CATEGORY_LEN};
