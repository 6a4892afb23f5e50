//! The one error of attribute tables, design matrices and their checks.

use crate::records::AttributeError;

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
    #[error(
        "{}: category {value:?} is not usable: {reason}",
        place(attribute, customer)
    )]
    BadCategory {
        /// The attribute (empty when the value was checked on its own).
        attribute: String,
        /// The customer, when known.
        customer: Option<String>,
        /// The label as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A numeric value is NaN or infinite.
    #[error("{}: value {value} is not finite", place(attribute, customer))]
    NotFinite {
        /// The attribute or column (empty when the value was checked on its own).
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
    #[error("{} has no value for attribute {attribute}", who(customer))]
    Missing {
        /// The customer (empty for attributes encoded without an id, see
        /// [`Encoding::encode`](super::Encoding::encode)).
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
    /// An attribute of one kind where the design needs the other (a categorical attribute asked
    /// for as numeric, or the reverse).
    #[error("attribute {attribute}{}: the design needs a {expected} value, found a {found} one", customer.as_deref().map(|c| format!(" of customer {c}")).unwrap_or_default())]
    WrongKind {
        /// The attribute.
        attribute: String,
        /// The customer, when one value is at fault.
        customer: Option<String>,
        /// The kind the design needs.
        expected: &'static str,
        /// The kind found.
        found: &'static str,
    },
    /// A reference level was stated for an attribute the design does not hold as categorical.
    #[error("a reference level is stated for attribute {attribute}, which the design does not hold as categorical")]
    ReferenceWithoutCategory {
        /// The attribute.
        attribute: String,
    },
    /// A categorical attribute has more levels among the design's rows than
    /// [`MAX_LEVELS`](super::MAX_LEVELS).
    #[error("attribute {attribute} has more than {limit} levels")]
    TooManyLevels {
        /// The attribute.
        attribute: String,
        /// [`MAX_LEVELS`](super::MAX_LEVELS).
        limit: usize,
    },
    /// A category that the design never saw, when encoding a customer's attributes: no column
    /// stands for it.
    #[error("attribute {attribute}: level {level:?} did not occur in the design's data")]
    UnseenLevel {
        /// The attribute.
        attribute: String,
        /// The level.
        level: String,
    },
    /// A design with no attribute in it.
    #[error("the design names no attribute")]
    NoColumns,
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

/// `attribute X of customer Y`, leaving out what is not known.
fn place(attribute: &str, customer: &Option<String>) -> String {
    match (attribute.is_empty(), customer) {
        (false, Some(c)) => format!("attribute {attribute} of customer {c}"),
        (false, None) => format!("attribute {attribute}"),
        (true, Some(c)) => format!("an attribute of customer {c}"),
        (true, None) => "an attribute".to_string(),
    }
}

/// `customer X`, or `the customer` when the id is not known.
fn who(customer: &str) -> String {
    if customer.is_empty() {
        "the customer".to_string()
    } else {
        format!("customer {customer}")
    }
}

/// A value or name checked on its own: the same variants, without an attribute or customer.
impl From<AttributeError> for CovariateError {
    fn from(e: AttributeError) -> Self {
        match e {
            AttributeError::BadName { name, reason } => CovariateError::BadName { name, reason },
            AttributeError::BadCategory { value, reason } => CovariateError::BadCategory {
                attribute: String::new(),
                customer: None,
                value,
                reason,
            },
            AttributeError::NotFinite { value } => CovariateError::NotFinite {
                attribute: String::new(),
                customer: None,
                value,
            },
        }
    }
}

impl CovariateError {
    /// The error with the attribute and customer it concerns filled in where it lacked them.
    pub(crate) fn at(mut self, name: &str, id: &crate::records::CustomerId) -> Self {
        match &mut self {
            CovariateError::BadCategory {
                attribute,
                customer,
                ..
            }
            | CovariateError::NotFinite {
                attribute,
                customer,
                ..
            } => {
                if attribute.is_empty() {
                    *attribute = name.to_string();
                }
                if customer.is_none() {
                    *customer = Some(id.to_string());
                }
            }
            _ => {}
        }
        self
    }
}
