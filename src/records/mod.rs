//! Typed input records: customers (with their consents and typed attributes), transactions, feedback, attribute
//! updates and referrals; and the pseudonyms of customer ids ([`Pseudonymizer`]).
//!
//! Every record is built through a validated constructor; fields are private so a record that
//! exists is a record that passed its checks. Money is [`Decimal`](rust_decimal::Decimal); dates
//! are [`chrono`] types.

mod attribute;
mod consent;
mod customer;
mod error;
mod feedback;
mod id;
mod label;
mod pseudonym;
mod referral;
mod transaction;
mod update;

pub(crate) use attribute::check_name as check_attribute_name;
pub use attribute::{
    AttributeError, AttributeKind, AttributeValue, MAX_ATTRIBUTE_NAME_LEN, MAX_CATEGORY_LEN,
    RESERVED_ATTRIBUTE_NAMES,
};
pub use consent::{Consent, Purpose, MAX_PURPOSE_LEN};
#[cfg(feature = "serde")]
pub use customer::WithContactDetails;
pub use customer::{ContactDetails, Customer, CustomerBuilder};
pub use error::RecordError;
pub use feedback::{Feedback, SatisfactionScore};
// Shared with the Arrow reader, so that it applies the records' own rules.
#[cfg(feature = "arrow")]
pub(crate) use id::is_blank_id;
pub use id::CustomerId;
pub(crate) use label::label_problem_reason;
pub use pseudonym::{PseudonymError, Pseudonymizer, Reidentifier};
pub use referral::{Referral, MAX_CHANNEL_LEN};
#[cfg(feature = "arrow")]
pub(crate) use transaction::decimal_from_f64;
#[cfg(any(feature = "serde", feature = "arrow"))]
pub(crate) use transaction::is_negative_amount;
pub(crate) use transaction::product_label_problem;
pub use transaction::{Transaction, TransactionKind, MAX_PRODUCT_LABEL_CHARS};
pub use update::{
    Attribute, AttributeUpdate, SourcePrecedence, Survivorship, MAX_SOURCE_LEN, MAX_VALUE_LEN,
};
