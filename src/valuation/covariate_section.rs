//! The types of a report's covariate section (read by the report; computed by
//! [`by_covariate`](super::by_covariate)).

use rust_decimal::Decimal;

/// One group of customers sharing a column's value (or quartile).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CovariateGroup {
    /// The value, or the quartile's range `[low, high]`.
    pub label: String,
    /// Customers in the group (of the report's that the design has).
    pub customers: usize,
    /// Their customer equity (sum of CLV).
    pub equity: Decimal,
    /// Their mean CLV.
    pub mean_clv: f64,
    /// The 95% t interval of the mean CLV across the group's customers (the spread of values
    /// within the group; `None` below 2 customers).
    pub mean_clv_interval: Option<(f64, f64)>,
}

/// Equity split by one design column.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CovariateValue {
    /// The column.
    pub column: String,
    /// The groups, by value (or quartile).
    pub groups: Vec<CovariateGroup>,
    /// Report customers the design has no row for (left out of the groups).
    pub without_row: usize,
}

/// A coefficient's effect on value: the equity with it and with it set to 0.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CoefficientEffect {
    /// The coefficient, e.g. `purchase.channel=web`.
    pub coefficient: String,
    /// Customer equity with the fitted coefficient.
    pub equity: Decimal,
    /// Customer equity with the coefficient at 0 (every other parameter as fitted).
    pub equity_without: Decimal,
    /// `equity − equity_without`: the value the covariate moves through this coefficient.
    pub moved: Decimal,
}

/// What a report says of covariates: equity by each column's values, and each coefficient's
/// effect on value.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CovariateSection {
    /// Equity by each design column's values.
    pub by_column: Vec<CovariateValue>,
    /// Per coefficient of the transaction model (parameters named `purchase.…`, `dropout.…`
    /// or `both.…`), the equity it moves; empty for a model without covariates.
    pub effects: Vec<CoefficientEffect>,
    /// Coefficients whose effect could not be computed, with why (the rest of the report
    /// stands).
    pub notes: Vec<String>,
}
