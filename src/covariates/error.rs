//! The one error of attribute tables, design matrices and their checks.

/// Why an attribute, a table or a design matrix was refused: each variant names the customer,
/// the attribute or the column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CovariateError {
    /// An attribute or column name is blank, holds a control character or is too long.
    #[error("attribute name {name:?} is not usable: {reason}")]
    BadName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A category label is blank, holds a control character or is too long.
    #[error("attribute {attribute}: category {value:?} is not usable: {reason}")]
    BadCategory {
        /// The attribute.
        attribute: String,
        /// The label as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A numeric value is NaN or infinite.
    #[error("attribute {attribute}{customer}: value {value} is not finite", customer = customer.as_deref().map(|c| format!(" of customer {c}")).unwrap_or_default())]
    NotFinite {
        /// The attribute or column.
        attribute: String,
        /// The customer, when known.
        customer: Option<String>,
        /// The value.
        value: f64,
    },
    /// An attribute holds numbers for some customers and categories for others.
    #[error("attribute {attribute}: customer {customer} has a {found} value, others have {expected} values")]
    MixedKinds {
        /// The attribute.
        attribute: String,
        /// The customer whose value differs.
        customer: String,
        /// The kind of the earlier values.
        expected: &'static str,
        /// The kind of this value.
        found: &'static str,
    },
    /// A customer appears twice (in a table, or among a design matrix's rows).
    #[error("customer {customer} appears twice")]
    DuplicateCustomer {
        /// The customer.
        customer: String,
    },
    /// A column name appears twice.
    #[error("column {name} appears twice")]
    DuplicateColumn {
        /// The name.
        name: String,
    },
    /// A customer has no value for an attribute the design needs.
    #[error("customer {customer} has no value for attribute {attribute}")]
    Missing {
        /// The customer.
        customer: String,
        /// The attribute.
        attribute: String,
    },
    /// An attribute the design names is not in the table.
    #[error("no attribute named {attribute}")]
    UnknownAttribute {
        /// The attribute.
        attribute: String,
    },
    /// A row has more or fewer values than the matrix has columns.
    #[error("row {row} has {found} values, the matrix has {expected} columns")]
    RowLength {
        /// The row (0-based).
        row: usize,
        /// The number of columns.
        expected: usize,
        /// The row's length.
        found: usize,
    },
    /// A column takes one value for every customer: it would duplicate the model's intercept.
    #[error(
        "column {column} is constant ({value}) over all {rows} rows: it duplicates the intercept"
    )]
    Constant {
        /// The column.
        column: String,
        /// Its one value.
        value: f64,
        /// The number of rows.
        rows: usize,
    },
    /// A column is a linear combination of the intercept and earlier columns: the coefficients
    /// cannot be told apart.
    #[error("column {column} is collinear with the intercept and columns {with:?}")]
    Collinear {
        /// The column.
        column: String,
        /// The earlier columns it depends on.
        with: Vec<String>,
    },
    /// A stated reference level does not occur in the data.
    #[error("attribute {attribute}: reference level {level:?} does not occur")]
    UnknownLevel {
        /// The attribute.
        attribute: String,
        /// The level.
        level: String,
    },
    /// More columns or levels than the crate accepts.
    #[error("{what}: {count} exceeds the limit {limit}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The matrix has no rows.
    #[error("the design has no rows")]
    Empty,
    /// A customer of the data has no row in the design.
    #[error("customer {customer} has no row in the design")]
    NoDesignRow {
        /// The customer.
        customer: String,
    },
    /// A column constrained to one coefficient for both processes is not in both lists.
    #[error("column {column} is constrained across the processes but does not enter both")]
    NotInBoth {
        /// The column.
        column: String,
    },
    /// A customer's history (x, t_x, T) is not valid.
    #[error("customer {customer}: the history is not valid (recency and age finite, 0 ≤ t_x ≤ T, t_x = 0 without repeat purchases)")]
    BadHistory {
        /// The customer.
        customer: String,
    },
}
