//! Customer attributes as model covariates: typed attribute values, the table that holds them per
//! customer, the design builder and the design matrix the covariate models read.
//!
//! The flow is records → [`AttributeTable`] → [`DesignBuilder`] → [`Design`] ([`DesignMatrix`] and
//! [`Encoding`]) → models:
//! - a table comes from a ledger's customers
//!   ([`Ledger::attribute_table`](crate::ledger::Ledger::attribute_table): typed attributes, and
//!   channel and region as categories) or from the host (a file joined by id);
//! - a [`DesignBuilder`] turns its attributes into numeric columns: numeric attributes as they
//!   are or standardised (mean and sd recorded), categorical ones as dummies named
//!   `<attribute>=<level>` against a reference level (the most frequent level unless stated);
//! - the [`Encoding`] encodes a new customer's attributes exactly as the design's rows were;
//! - the covariate models ([`models::covariates`](crate::models::covariates)) fit and predict with one row per customer.
//!
//! A design matrix never holds an intercept: every model's own scale parameter (α₀, β₀, …) is the
//! intercept, so a constant column would duplicate it and is refused, as are columns that are
//! linear combinations of others ([`DesignMatrix::check_identifiable`]).
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::covariates::{AttributeValue, DesignBuilder};
//! use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions};
//! let day = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! for (id, channel, income) in [(1u64, "web", 41.0), (2, "store", 55.0), (3, "web", 38.0), (4, "app", 60.0)] {
//!     let customer = Customer::builder(CustomerId::from(id), day)
//!         .channel(channel)
//!         .attribute("income", AttributeValue::number(income)?)?
//!         .build();
//!     ledger.add_customer(customer)?;
//! }
//! let table = ledger.attribute_table()?;
//! let ids: Vec<CustomerId> = (1u64..=4).map(CustomerId::from).collect();
//! let design = DesignBuilder::new()
//!     .standardised("income")
//!     .categorical("channel")
//!     .reference("channel", "web")
//!     .build(&table, &ids)?;
//! assert_eq!(design.matrix().names(), ["income", "channel=app", "channel=store"]);
//! assert_eq!(design.encoding().reference("channel"), Some("web"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod design;
mod error;
mod matrix;
mod table;

pub use design::{Design, DesignBuilder, EncodedColumn, Encoding, MAX_LEVELS};
pub use error::CovariateError;
pub use matrix::{DesignMatrix, MAX_COLUMNS, MAX_COLUMN_NAME_LEN};
pub use table::{customer_attributes, AttributeTable};
// The values are defined with the records, which carry them on customers.
pub use crate::records::{
    AttributeError, AttributeKind, AttributeValue, MAX_ATTRIBUTE_NAME_LEN, MAX_CATEGORY_LEN,
};
