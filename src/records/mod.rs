//! Typed input records: customers, transactions and feedback.
//!
//! Every record is built through a validated constructor; fields are private so a record that
//! exists is a record that passed its checks. Money is [`Decimal`](rust_decimal::Decimal); dates
//! are [`chrono`] types.

mod customer;
mod error;
mod feedback;
mod id;
mod transaction;

pub use customer::{ContactDetails, Customer, CustomerBuilder};
pub use error::RecordError;
pub use feedback::{Feedback, SatisfactionScore};
// Shared with the Arrow reader, so that it applies the records' own rules.
#[cfg(feature = "arrow")]
pub(crate) use id::is_blank_id;
pub use id::CustomerId;
#[cfg(feature = "arrow")]
pub(crate) use transaction::decimal_from_f64;
#[cfg(any(feature = "serde", feature = "arrow"))]
pub(crate) use transaction::is_negative_amount;
pub(crate) use transaction::product_label_problem;
pub use transaction::{Transaction, TransactionKind, MAX_PRODUCT_LABEL_CHARS};
