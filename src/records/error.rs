//! Why a record could not be built.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Why a record could not be built. Each variant names the record it refers to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A customer id was empty or only white space.
    #[error("customer id is empty")]
    EmptyCustomerId,
    /// A transaction amount was negative; returns carry a positive amount and the `Return` kind.
    #[error("transaction {record}: amount {amount} is negative (returns use TransactionKind::Return with a positive amount)")]
    NegativeAmount {
        /// The record, described by customer and date (and transaction id when present).
        record: String,
        /// The offending amount.
        amount: Decimal,
    },
    /// An amount could not be represented as a [`Decimal`] (not a number, infinite or too large).
    #[error("{record}: amount {text:?} does not fit a decimal money amount")]
    AmountDoesNotFit {
        /// The record the amount belongs to.
        record: String,
        /// The amount as it was given.
        text: String,
    },
    /// A quantity of zero was given; leave the quantity out when it is unknown.
    #[error("transaction {record}: quantity must be at least 1")]
    ZeroQuantity {
        /// The record.
        record: String,
    },
    /// A transaction id was given but empty.
    #[error("transaction {record}: transaction id is empty")]
    EmptyTransactionId {
        /// The record.
        record: String,
    },
    /// A category or SKU was empty, contained a control character or was too long (see
    /// [`MAX_PRODUCT_LABEL_CHARS`](crate::records::MAX_PRODUCT_LABEL_CHARS)).
    #[error("transaction {record}: {field} {reason}")]
    InvalidProductLabel {
        /// The record.
        record: String,
        /// `category` or `SKU`.
        field: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A satisfaction score was not finite or lay outside the declared scale.
    #[error("feedback {record}: satisfaction {score} lies outside its scale {min}..={max}")]
    SatisfactionOutOfScale {
        /// The record.
        record: String,
        /// The score given.
        score: f64,
        /// Lowest score of the scale.
        min: f64,
        /// Highest score of the scale.
        max: f64,
    },
    /// A recommend score was above 10.
    #[error("feedback {record}: recommend score {score} is not in 0..=10")]
    RecommendOutOfRange {
        /// The record.
        record: String,
        /// The score given.
        score: u8,
    },
    /// A feedback record carried neither a satisfaction nor a recommend score.
    #[error("feedback {record}: carries neither a satisfaction nor a recommend score")]
    EmptyFeedback {
        /// The record.
        record: String,
    },
    /// A consent purpose's name was blank, held control characters or was too long.
    #[error("consent purpose {name:?} is invalid: {reason}")]
    InvalidPurpose {
        /// The name given (at most its first 64 characters).
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A consent was withdrawn before it was given (or, in a ledger, when none was given).
    #[error("{record}: withdrawn on {withdrawn}, {}", match given {
        Some(given) => format!("before it was given on {given}"),
        None => "but no consent to withdraw was given on or before that day".to_owned(),
    })]
    WithdrawalBeforeConsent {
        /// The consent, by customer (in a ledger) and purpose.
        record: String,
        /// The day the consent was given, if one was.
        given: Option<NaiveDate>,
        /// The day of the withdrawal.
        withdrawn: NaiveDate,
    },
    /// A referral named the same customer as referrer and referred.
    #[error("{record}: customer {customer} refers themselves")]
    SelfReferral {
        /// The referral, by referred, referrer and date.
        record: String,
        /// The customer on both sides (as text: the error module reads no other record module).
        customer: String,
    },
    /// A referral's channel was blank, held control characters or was too long (see
    /// [`MAX_CHANNEL_LEN`](crate::records::MAX_CHANNEL_LEN)).
    #[error("{record}: {reason}")]
    InvalidReferralChannel {
        /// The referral, by referred, referrer and date.
        record: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An attribute update's source or value was invalid.
    #[error("attribute update {record}: {reason}")]
    InvalidUpdate {
        /// The update, by customer, attribute, source and date.
        record: String,
        /// Why it was refused.
        reason: &'static str,
    },
}
