//! Typed input records: customers, transactions and feedback.
//!
//! Every record is built through a validated constructor; fields are private so a record that
//! exists is a record that passed its checks. Money is [`Decimal`]; dates are [`chrono`] types.

use std::fmt;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

/// Why a record could not be built. Each variant names the record it refers to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum IdRepr {
    Int(u64),
    Text(Arc<str>),
}

/// A customer's identifier, from an integer or from text.
///
/// Integer ids are stored without allocation; text ids share their storage, so cloning an id is
/// cheap either way. Text that reads as a plain unsigned integer (`"42"`) becomes the integer id, so
/// the same customer read from two sources compares equal. Ids order integers first (numerically),
/// then text.
///
/// ```
/// use customer_assets::CustomerId;
/// let a = CustomerId::new("42")?;
/// assert_eq!(a, CustomerId::from(42u64));
/// assert_eq!(CustomerId::new("acme-7")?.to_string(), "acme-7");
/// assert!(CustomerId::new("  ").is_err());
/// # Ok::<(), customer_assets::RecordError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerId(IdRepr);

impl CustomerId {
    /// Makes an id from text, trimmed of surrounding white space. Empty text is an error.
    pub fn new(text: &str) -> Result<Self, RecordError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(RecordError::EmptyCustomerId);
        }
        // Only canonical integers ("42", not "042" or "+42") map to integer ids, so the text
        // round-trips; checking the digits first avoids an allocation per row on large logs.
        let canonical =
            text.bytes().all(|b| b.is_ascii_digit()) && (text.len() == 1 || !text.starts_with('0'));
        if canonical {
            if let Ok(n) = text.parse::<u64>() {
                return Ok(CustomerId(IdRepr::Int(n)));
            }
        }
        Ok(CustomerId(IdRepr::Text(Arc::from(text))))
    }

    /// The integer value, when the id is an integer.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            IdRepr::Int(n) => Some(*n),
            IdRepr::Text(_) => None,
        }
    }
}

impl From<u64> for CustomerId {
    fn from(n: u64) -> Self {
        CustomerId(IdRepr::Int(n))
    }
}

impl From<u32> for CustomerId {
    fn from(n: u32) -> Self {
        CustomerId(IdRepr::Int(u64::from(n)))
    }
}

impl std::str::FromStr for CustomerId {
    type Err = RecordError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustomerId::new(s)
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Int(n) => write!(f, "{n}"),
            IdRepr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CustomerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            IdRepr::Int(n) => s.serialize_u64(*n),
            IdRepr::Text(t) => s.serialize_str(t),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CustomerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = CustomerId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty string or an unsigned integer")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CustomerId, E> {
                Ok(CustomerId::from(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CustomerId, E> {
                u64::try_from(v)
                    .map(CustomerId::from)
                    .map_err(|_| E::custom("customer id must not be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CustomerId, E> {
                CustomerId::new(v).map_err(E::custom)
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// Personal contact data. It is kept for the host application's convenience but never printed:
/// its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ContactDetails {
    /// Name of the person.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Telephone number.
    pub phone: Option<String>,
}

impl fmt::Debug for ContactDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactDetails(<redacted>)")
    }
}

/// A customer: id, acquisition date and optional descriptive attributes.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{Customer, CustomerId};
/// let acquired = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let c = Customer::builder(CustomerId::new("c-1")?, acquired)
///     .channel("web")
///     .region("north")
///     .tag("newsletter")
///     .email("ann@example.com")
///     .build();
/// assert_eq!(c.channel(), Some("web"));
/// assert!(!format!("{c:?}").contains("ann@example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Customer {
    id: CustomerId,
    acquired: NaiveDate,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    contact: ContactDetails,
}

impl Customer {
    /// A customer with no optional attributes.
    pub fn new(id: CustomerId, acquired: NaiveDate) -> Self {
        Customer {
            id,
            acquired,
            channel: None,
            region: None,
            tags: Vec::new(),
            contact: ContactDetails::default(),
        }
    }

    /// Starts a builder for a customer with optional attributes.
    pub fn builder(id: CustomerId, acquired: NaiveDate) -> CustomerBuilder {
        CustomerBuilder(Customer::new(id, acquired))
    }

    /// The customer's id.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }
    /// The date the customer was acquired; no transaction may precede it.
    pub fn acquired(&self) -> NaiveDate {
        self.acquired
    }
    /// The acquisition channel, if known.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }
    /// The region, if known.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }
    /// Free-form tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// Whether the customer carries `tag`.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
    /// Contact details (redacted from `Debug`).
    pub fn contact(&self) -> &ContactDetails {
        &self.contact
    }
}

/// Builds a [`Customer`] with optional attributes.
#[derive(Debug, Clone)]
pub struct CustomerBuilder(Customer);

impl CustomerBuilder {
    /// Sets the acquisition channel.
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.0.channel = Some(channel.into());
        self
    }
    /// Sets the region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.0.region = Some(region.into());
        self
    }
    /// Adds a tag (a tag given twice is kept once).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        if !self.0.tags.contains(&tag) {
            self.0.tags.push(tag);
        }
        self
    }
    /// Sets the contact name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.contact.name = Some(name.into());
        self
    }
    /// Sets the e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.0.contact.email = Some(email.into());
        self
    }
    /// Sets the telephone number.
    pub fn phone(mut self, phone: impl Into<String>) -> Self {
        self.0.contact.phone = Some(phone.into());
        self
    }
    /// Finishes the customer.
    pub fn build(self) -> Customer {
        self.0
    }
}

/// Whether a transaction is a purchase or gives money back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum TransactionKind {
    /// A purchase.
    Purchase,
    /// A return or refund; its amount is the (positive) sum given back.
    Return,
}

/// One transaction: a purchase or a return.
///
/// The amount is never negative: a return is a [`TransactionKind::Return`] with the positive sum
/// refunded. The moment is a date-time; a date-only transaction sits at midnight.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Transaction};
/// use rust_decimal::Decimal;
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let t = Transaction::purchase(CustomerId::from(7u64), day, Decimal::new(1999, 2))?
///     .with_id("order-1")?
///     .with_quantity(2)?;
/// assert_eq!(t.amount().to_string(), "19.99");
/// assert!(Transaction::purchase(CustomerId::from(7u64), day, Decimal::new(-1, 0)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Transaction {
    customer: CustomerId,
    at: NaiveDateTime,
    amount: Decimal,
    kind: TransactionKind,
    quantity: Option<u32>,
    id: Option<Arc<str>>,
}

impl Transaction {
    /// A purchase on a calendar day.
    pub fn purchase(
        customer: CustomerId,
        date: NaiveDate,
        amount: Decimal,
    ) -> Result<Self, RecordError> {
        Self::new(
            customer,
            date.and_time(chrono::NaiveTime::MIN),
            amount,
            TransactionKind::Purchase,
        )
    }

    /// A return (refund) of `amount` on a calendar day.
    pub fn refund(
        customer: CustomerId,
        date: NaiveDate,
        amount: Decimal,
    ) -> Result<Self, RecordError> {
        Self::new(
            customer,
            date.and_time(chrono::NaiveTime::MIN),
            amount,
            TransactionKind::Return,
        )
    }

    /// A transaction at an exact moment.
    pub fn new(
        customer: CustomerId,
        at: NaiveDateTime,
        amount: Decimal,
        kind: TransactionKind,
    ) -> Result<Self, RecordError> {
        let t = Transaction {
            customer,
            at,
            amount,
            kind,
            quantity: None,
            id: None,
        };
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(RecordError::NegativeAmount {
                record: t.describe(),
                amount,
            });
        }
        Ok(t)
    }

    /// Parses a money amount given as text (for readers of CSV and other text sources), naming
    /// `record` in the error when it does not fit a [`Decimal`].
    pub fn parse_amount(text: &str, record: &str) -> Result<Decimal, RecordError> {
        let trimmed = text.trim();
        let parsed = trimmed
            .parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(trimmed));
        parsed.map_err(|_| RecordError::AmountDoesNotFit {
            record: record.to_string(),
            text: text.to_string(),
        })
    }

    /// Converts an `f64` amount, naming `record` in the error when it is not finite or too large.
    pub fn amount_from_f64(value: f64, record: &str) -> Result<Decimal, RecordError> {
        Decimal::from_f64_retain(value)
            .filter(|_| value.is_finite())
            .map(|d| d.round_dp(10))
            .ok_or_else(|| RecordError::AmountDoesNotFit {
                record: record.to_string(),
                text: value.to_string(),
            })
    }

    /// Attaches a transaction id (used to drop exact duplicates across sources).
    pub fn with_id(mut self, id: &str) -> Result<Self, RecordError> {
        if id.trim().is_empty() {
            return Err(RecordError::EmptyTransactionId {
                record: self.describe(),
            });
        }
        self.id = Some(Arc::from(id.trim()));
        Ok(self)
    }

    /// Attaches the number of items.
    pub fn with_quantity(mut self, quantity: u32) -> Result<Self, RecordError> {
        if quantity == 0 {
            return Err(RecordError::ZeroQuantity {
                record: self.describe(),
            });
        }
        self.quantity = Some(quantity);
        Ok(self)
    }

    /// The customer who transacted.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }
    /// The moment of the transaction (midnight for date-only records).
    pub fn at(&self) -> NaiveDateTime {
        self.at
    }
    /// The calendar day of the transaction.
    pub fn date(&self) -> NaiveDate {
        self.at.date()
    }
    /// The amount (never negative).
    pub fn amount(&self) -> Decimal {
        self.amount
    }
    /// The amount with the sign of its effect on revenue: negative for returns.
    pub fn signed_amount(&self) -> Decimal {
        match self.kind {
            TransactionKind::Purchase => self.amount,
            TransactionKind::Return => -self.amount,
        }
    }
    /// Purchase or return.
    pub fn kind(&self) -> TransactionKind {
        self.kind
    }
    /// Number of items, when known.
    pub fn quantity(&self) -> Option<u32> {
        self.quantity
    }
    /// The transaction id, when known.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// A short description naming the record in errors: id if present, else customer and moment.
    pub fn describe(&self) -> String {
        match &self.id {
            Some(id) => format!("{id:?} (customer {}, {})", self.customer, self.at),
            None => format!("of customer {} at {}", self.customer, self.at),
        }
    }
}

/// The scale of a satisfaction score, e.g. 1..=5 (CSAT) or 1..=7.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SatisfactionScore {
    /// The score.
    pub score: f64,
    /// Lowest possible score.
    pub min: f64,
    /// Highest possible score.
    pub max: f64,
}

/// A customer's feedback: a satisfaction score on a stated scale and/or a 0–10 likelihood to
/// recommend (the NPS question).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Feedback};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let f = Feedback::new(CustomerId::from(1u64), day, Some((4.0, 1.0, 5.0)), Some(9))?;
/// assert_eq!(f.recommend(), Some(9));
/// assert!(Feedback::new(CustomerId::from(1u64), day, None, Some(11)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Feedback {
    customer: CustomerId,
    date: NaiveDate,
    satisfaction: Option<SatisfactionScore>,
    recommend: Option<u8>,
}

impl Feedback {
    /// Makes a feedback record. `satisfaction` is `(score, scale_min, scale_max)`; `recommend` is
    /// the 0–10 answer to "how likely are you to recommend us". At least one must be given.
    pub fn new(
        customer: CustomerId,
        date: NaiveDate,
        satisfaction: Option<(f64, f64, f64)>,
        recommend: Option<u8>,
    ) -> Result<Self, RecordError> {
        let record = format!("of customer {customer} on {date}");
        if satisfaction.is_none() && recommend.is_none() {
            return Err(RecordError::EmptyFeedback { record });
        }
        let satisfaction = match satisfaction {
            Some((score, min, max)) => {
                let ok = score.is_finite()
                    && min.is_finite()
                    && max.is_finite()
                    && min < max
                    && (min..=max).contains(&score);
                if !ok {
                    return Err(RecordError::SatisfactionOutOfScale {
                        record,
                        score,
                        min,
                        max,
                    });
                }
                Some(SatisfactionScore { score, min, max })
            }
            None => None,
        };
        if let Some(score) = recommend {
            if score > 10 {
                return Err(RecordError::RecommendOutOfRange { record, score });
            }
        }
        Ok(Feedback {
            customer,
            date,
            satisfaction,
            recommend,
        })
    }

    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }
    /// The date of the feedback.
    pub fn date(&self) -> NaiveDate {
        self.date
    }
    /// The satisfaction score with its scale.
    pub fn satisfaction(&self) -> Option<SatisfactionScore> {
        self.satisfaction
    }
    /// The 0–10 recommend score.
    pub fn recommend(&self) -> Option<u8> {
        self.recommend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn integer_text_ids_equal_integer_ids_but_padded_text_does_not() {
        assert_eq!(CustomerId::new(" 42 ").unwrap(), CustomerId::from(42u64));
        assert_ne!(CustomerId::new("042").unwrap(), CustomerId::from(42u64));
        assert_eq!(CustomerId::new("042").unwrap().to_string(), "042");
        assert_eq!(CustomerId::new("0").unwrap(), CustomerId::from(0u64));
        assert_eq!(CustomerId::new("+4").unwrap().to_string(), "+4");
        assert_eq!(
            CustomerId::new("99999999999999999999").unwrap().as_u64(),
            None
        );
        assert_eq!(
            CustomerId::new("").unwrap_err(),
            RecordError::EmptyCustomerId
        );
    }

    #[test]
    fn contact_details_are_redacted_from_debug() {
        let c = Customer::builder(CustomerId::from(1u64), day(2024, 1, 1))
            .name("Ann Example")
            .email("ann@example.com")
            .phone("+1 555 0100")
            .build();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("Ann"), "{dbg}");
        assert!(!dbg.contains("example.com"), "{dbg}");
        assert!(!dbg.contains("555"), "{dbg}");
        assert!(dbg.contains("redacted"));
        assert_eq!(c.contact().email.as_deref(), Some("ann@example.com"));
    }

    #[test]
    fn negative_amounts_are_rejected_with_the_record_named() {
        let err = Transaction::purchase(
            CustomerId::from(5u64),
            day(2024, 1, 2),
            Decimal::NEGATIVE_ONE,
        )
        .unwrap_err();
        assert!(err.to_string().contains("customer 5"), "{err}");
    }

    #[test]
    fn amounts_that_do_not_fit_are_errors() {
        assert!(Transaction::parse_amount("12.50", "line 2").is_ok());
        let err = Transaction::parse_amount("1e40", "line 3").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert!(Transaction::parse_amount("abc", "line 4").is_err());
        assert!(Transaction::amount_from_f64(f64::NAN, "x").is_err());
        assert!(Transaction::amount_from_f64(1e30, "x").is_err());
        assert_eq!(
            Transaction::amount_from_f64(2.5, "x").unwrap(),
            Decimal::new(25, 1)
        );
    }

    #[test]
    fn quantity_and_transaction_id_are_validated() {
        let t =
            Transaction::purchase(CustomerId::from(5u64), day(2024, 1, 2), Decimal::ONE).unwrap();
        assert!(matches!(
            t.clone().with_quantity(0),
            Err(RecordError::ZeroQuantity { .. })
        ));
        assert!(matches!(
            t.with_id(" "),
            Err(RecordError::EmptyTransactionId { .. })
        ));
    }

    #[test]
    fn feedback_scores_are_validated() {
        let id = CustomerId::from(1u64);
        let d = day(2024, 1, 1);
        assert!(matches!(
            Feedback::new(id.clone(), d, None, None),
            Err(RecordError::EmptyFeedback { .. })
        ));
        assert!(matches!(
            Feedback::new(id.clone(), d, Some((6.0, 1.0, 5.0)), None),
            Err(RecordError::SatisfactionOutOfScale { .. })
        ));
        assert!(matches!(
            Feedback::new(id, d, None, Some(11)),
            Err(RecordError::RecommendOutOfRange { .. })
        ));
    }
}
