//! Transactions: purchases and returns.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use super::error::RecordError;
use super::id::CustomerId;
use super::label::{label_problem, LabelProblem};

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
///     .with_quantity(2)?
///     .with_category("books")?;
/// assert_eq!(t.amount().to_string(), "19.99");
/// assert_eq!(t.category(), Some("books"));
/// assert!(Transaction::purchase(CustomerId::from(7u64), day, Decimal::new(-1, 0)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "TransactionRaw"))]
pub struct Transaction {
    customer: CustomerId,
    at: NaiveDateTime,
    amount: Decimal,
    kind: TransactionKind,
    quantity: Option<u32>,
    id: Option<Arc<str>>,
    // Skipped when absent, so that the JSON of transactions without them is as before.
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    category: Option<Arc<str>>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    sku: Option<Arc<str>>,
}

/// The most characters a category or SKU may have (after trimming white space at both ends).
pub const MAX_PRODUCT_LABEL_CHARS: usize = 200;

/// Why `text` cannot be a category or SKU (`None` when it can): blank, a control character, or
/// longer than [`MAX_PRODUCT_LABEL_CHARS`]. The text is checked as it will be stored, trimmed.
pub(crate) fn product_label_problem(text: &str) -> Option<&'static str> {
    label_problem(text, MAX_PRODUCT_LABEL_CHARS).map(|problem| match problem {
        LabelProblem::Blank => "is empty or only white space",
        LabelProblem::Control => "contains a control character",
        LabelProblem::TooLong => "is longer than 200 characters",
    })
}

/// The serialized form of a [`Transaction`], checked by its constructors on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct TransactionRaw {
    customer: CustomerId,
    at: NaiveDateTime,
    amount: Decimal,
    kind: TransactionKind,
    quantity: Option<u32>,
    id: Option<String>,
    // Optional, so that JSON written before transactions had them still reads.
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    sku: Option<String>,
}

#[cfg(feature = "serde")]
impl TryFrom<TransactionRaw> for Transaction {
    type Error = RecordError;
    fn try_from(raw: TransactionRaw) -> Result<Self, RecordError> {
        let mut t = Transaction::new(raw.customer, raw.at, raw.amount, raw.kind)?;
        // The id first, so that a later error names the record by it.
        if let Some(id) = raw.id {
            t = t.with_id(&id)?;
        }
        if let Some(quantity) = raw.quantity {
            t = t.with_quantity(quantity)?;
        }
        if let Some(category) = raw.category {
            t = t.with_category(&category)?;
        }
        if let Some(sku) = raw.sku {
            t = t.with_sku(&sku)?;
        }
        Ok(t)
    }
}

/// Whether `amount` is one no transaction may carry: negative and not zero (a return carries
/// the positive sum refunded; a negative zero is zero).
pub(crate) fn is_negative_amount(amount: Decimal) -> bool {
    amount.is_sign_negative() && !amount.is_zero()
}

/// The decimal of a finite `f64`: its exact binary value rounded to 10 decimal places (the
/// nearest decimal a float amount was meant as, for amounts written with at most 10); `None`
/// for NaN, infinities and magnitudes beyond a [`Decimal`].
pub(crate) fn decimal_from_f64(value: f64) -> Option<Decimal> {
    small_decimal_from_f64(value).or_else(|| {
        Decimal::from_f64_retain(value)
            .filter(|_| value.is_finite())
            .map(|d| d.round_dp(10))
    })
}

/// [`decimal_from_f64`] in integer arithmetic, for the values where its result is certain
/// without rust_decimal's general conversion (several times slower, and most of the time of
/// reading a column of float amounts): positive normal values below 2³², whose fraction of a
/// 10⁻¹⁰ unit, when they have more than 10 binary places, is not near 0, ½ or 1. `None` for
/// anything else, left to the general conversion.
///
/// Why this is the general conversion's result: that conversion keeps a value of at most 10
/// binary places exactly, at the scale of its places (12.5 at scale 1, 12.0 at 0). Any other
/// value it first rounds to the most decimal places a 96-bit mantissa holds (at least 18 below
/// 2³²), with an error under 2.5 × 10⁻²⁷ of the value (under 1.1 × 10⁻⁷ of a unit below 2³²,
/// under 2.5 × 10⁻¹¹ below 2²⁰), then to 10 places, half to even. Farther than that from a tie,
/// both roundings agree with rounding the exact value once; farther from a whole unit, the first
/// rounding leaves more than 10 places, so the result has scale 10. The margins kept are 2⁻²⁰
/// of a unit (2⁻³⁰ below 2²⁰), several times the error.
fn small_decimal_from_f64(value: f64) -> Option<Decimal> {
    // `!(value > 0)` is also true of NaN.
    if !(value > 0.0 && value < 4_294_967_296.0) {
        return None;
    }
    let bits = value.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).ok()?;
    if biased == 0 {
        return None; // subnormal
    }
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // value = mantissa × 2^-shift = odd × 2^-places.
    let shift = 1075 - biased;
    let zeros = mantissa.trailing_zeros();
    let odd = u128::from(mantissa >> zeros);
    let places = shift - i32::try_from(zeros).ok()?;
    if places <= 0 {
        // A whole number: below 2³², so odd × 2^-places fits easily.
        let whole = i64::try_from(odd << places.unsigned_abs()).ok()?;
        return Some(Decimal::from(whole));
    }
    if places <= 10 {
        // odd / 2^places = odd × 5^places / 10^places, exactly.
        let scaled = odd * 5_u128.pow(places.unsigned_abs());
        return Decimal::try_from_i128_with_scale(
            i128::try_from(scaled).ok()?,
            places.unsigned_abs(),
        )
        .ok();
    }
    let shift = u32::try_from(shift).ok().filter(|&k| k < 120)?;
    let scaled = u128::from(mantissa) * 10_000_000_000; // < 2^87
    let units = scaled >> shift;
    let fraction = scaled & ((1 << shift) - 1);
    let one = 1_u128 << shift;
    let margin = if value < 1_048_576.0 {
        one >> 30
    } else {
        one >> 20
    };
    let half = one >> 1;
    if fraction <= margin || fraction >= one - margin || fraction.abs_diff(half) <= margin {
        return None;
    }
    let rounded = units + u128::from(fraction > half);
    Decimal::try_from_i128_with_scale(i128::try_from(rounded).ok()?, 10).ok()
}

impl Transaction {
    /// A purchase on a calendar day.
    ///
    /// # Errors
    ///
    /// [`RecordError::NegativeAmount`] for a negative amount (a return carries the positive sum
    /// refunded).
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
    ///
    /// # Errors
    ///
    /// [`RecordError::NegativeAmount`] for a negative amount (a return carries the positive sum
    /// refunded).
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
    ///
    /// # Errors
    ///
    /// [`RecordError::NegativeAmount`] for a negative amount (a return carries the positive sum
    /// refunded).
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
            category: None,
            sku: None,
        };
        if is_negative_amount(amount) {
            return Err(RecordError::NegativeAmount {
                record: t.describe(),
                amount,
            });
        }
        Ok(t)
    }

    /// Parses a money amount given as text (for readers of CSV and other text sources), naming
    /// `record` in the error when it does not fit a [`Decimal`].
    ///
    /// # Errors
    ///
    /// [`RecordError::AmountDoesNotFit`] when the text is not a decimal number (plain or
    /// scientific) that fits a [`Decimal`].
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
    ///
    /// # Errors
    ///
    /// [`RecordError::AmountDoesNotFit`] when `value` is not finite or too large for a [`Decimal`].
    pub fn amount_from_f64(value: f64, record: &str) -> Result<Decimal, RecordError> {
        decimal_from_f64(value).ok_or_else(|| RecordError::AmountDoesNotFit {
            record: record.to_string(),
            text: value.to_string(),
        })
    }

    /// Attaches a transaction id (used to drop exact duplicates across sources).
    ///
    /// # Errors
    ///
    /// [`RecordError::EmptyTransactionId`] when the id is empty or only white space.
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
    ///
    /// # Errors
    ///
    /// [`RecordError::ZeroQuantity`] for a quantity of 0.
    pub fn with_quantity(mut self, quantity: u32) -> Result<Self, RecordError> {
        if quantity == 0 {
            return Err(RecordError::ZeroQuantity {
                record: self.describe(),
            });
        }
        self.quantity = Some(quantity);
        Ok(self)
    }

    /// The same transaction for another customer id, everything else kept (for example the
    /// id's pseudonym, from [`Pseudonymizer::pseudonym`](crate::Pseudonymizer::pseudonym)).
    pub fn with_customer(mut self, customer: CustomerId) -> Self {
        self.customer = customer;
        self
    }

    /// Attaches the product category of the line (e.g. `"books"`), trimmed of white space at
    /// both ends. Categories are compared exactly (case included).
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidProductLabel`] when the category is empty or only white space,
    /// contains a control character, or is longer than [`MAX_PRODUCT_LABEL_CHARS`] characters.
    pub fn with_category(mut self, category: &str) -> Result<Self, RecordError> {
        self.category = Some(self.product_label("category", category)?);
        Ok(self)
    }

    /// Attaches the SKU (stock-keeping unit) of the line, trimmed of white space at both ends.
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidProductLabel`] when the SKU is empty or only white space, contains a
    /// control character, or is longer than [`MAX_PRODUCT_LABEL_CHARS`] characters.
    pub fn with_sku(mut self, sku: &str) -> Result<Self, RecordError> {
        self.sku = Some(self.product_label("SKU", sku)?);
        Ok(self)
    }

    /// `text` trimmed, as a category or SKU, or the error naming this record and `field`.
    fn product_label(&self, field: &'static str, text: &str) -> Result<Arc<str>, RecordError> {
        let trimmed = text.trim();
        match product_label_problem(trimmed) {
            None => Ok(Arc::from(trimmed)),
            Some(reason) => Err(RecordError::InvalidProductLabel {
                record: self.describe(),
                field,
                reason,
            }),
        }
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
    /// The product category, when known.
    pub fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
    /// The product category as the shared text the transaction holds (cloning it is cheap).
    pub(crate) fn category_shared(&self) -> Option<&Arc<str>> {
        self.category.as_ref()
    }
    /// The SKU, when known.
    pub fn sku(&self) -> Option<&str> {
        self.sku.as_deref()
    }

    /// A short description naming the record in errors: id if present, else customer and moment.
    pub fn describe(&self) -> String {
        match &self.id {
            Some(id) => format!("{id:?} (customer {}, {})", self.customer, self.at),
            None => format!("of customer {} at {}", self.customer, self.at),
        }
    }

    /// The same transaction cut from its customer: filed under `customer` (an id that names
    /// nobody) and without its transaction id, which could lead back to the customer through
    /// the order system (erasure by unlinking).
    pub(crate) fn unlinked(self, customer: CustomerId) -> Self {
        Transaction {
            id: None,
            ..self.with_customer(customer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The general conversion, which the integer one must match exactly (value and scale).
    fn general(value: f64) -> Option<Decimal> {
        Decimal::from_f64_retain(value)
            .filter(|_| value.is_finite())
            .map(|d| d.round_dp(10))
    }

    fn same_as_general(value: f64) -> Result<bool, TestCaseError> {
        let fast = small_decimal_from_f64(value);
        if let Some(d) = fast {
            let expected = general(value);
            prop_assert_eq!(Some(d), expected, "value {:e}", value);
            prop_assert_eq!(
                Some(d.scale()),
                expected.map(|e| e.scale()),
                "value {:e}",
                value
            );
        }
        prop_assert_eq!(decimal_from_f64(value), general(value));
        Ok(fast.is_some())
    }

    #[test]
    fn the_integer_conversion_takes_cent_amounts_and_only_certain_values() {
        let mut taken = 0;
        for cents in 0..200_000_u32 {
            if same_as_general(f64::from(cents) / 100.0).unwrap() {
                taken += 1;
            }
        }
        // Every one below 2000 but zero: the nearest double to an amount in cents is 10⁻⁴ units
        // or more from a whole unit of 10⁻¹⁰ there, far outside the margins.
        assert_eq!(taken, 200_000 - 1);
        for value in [
            0.0,
            -0.0,
            -12.34,
            f64::NAN,
            f64::INFINITY,
            f64::MIN_POSITIVE,
            5e-324,
            1e-11,
            0.1,
            0.30000000000000004,
            4_294_967_295.99,
            4_294_967_296.01,
            1e300,
            12.0,
            12.5,
            0.25,
            1024.0,
            4_294_967_295.0,
            1_048_575.99,
            1_048_576.01,
            9.765625e-4,
            // Ties at the 10th place in decimal, not in binary.
            0.000_000_000_05,
            1.000_000_000_05,
            2.500_000_000_05,
        ] {
            same_as_general(value).unwrap();
        }
    }

    proptest! {
        #[test]
        fn the_integer_conversion_agrees_with_the_general_one(
            bits in any::<u64>(),
            cents in 0_u64..1_000_000_000_000,
            places in 0_i32..16,
            dyadic in 0_u64..(1 << 45),
            binary_places in -12_i32..60,
        ) {
            same_as_general(f64::from_bits(bits))?;
            // Few binary places (exact in decimal) and many, whole numbers, up to 2^45.
            same_as_general(dyadic as f64 * 2_f64.powi(-binary_places))?;
            same_as_general(cents as f64 / 10_f64.powi(places))?;
            // Just above, at and below a tie at the 10th place.
            let tie = (cents as f64 + 0.5) / 1e10;
            for v in [tie, f64::from_bits(tie.to_bits() + 1), f64::from_bits(tie.to_bits() - 1)] {
                same_as_general(v)?;
            }
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
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
    fn categories_and_skus_are_trimmed_and_checked_with_the_record_named() {
        let t = Transaction::purchase(CustomerId::from(5u64), day(2024, 1, 2), Decimal::ONE)
            .unwrap()
            .with_id("o-9")
            .unwrap();
        let tagged = t
            .clone()
            .with_category("  books ")
            .unwrap()
            .with_sku("ISBN-1")
            .unwrap();
        assert_eq!(
            (tagged.category(), tagged.sku()),
            (Some("books"), Some("ISBN-1"))
        );
        assert_eq!((t.category(), t.sku()), (None, None));
        let at_limit = "é".repeat(MAX_PRODUCT_LABEL_CHARS);
        assert!(t.clone().with_category(&at_limit).is_ok());
        let cases = [
            (" \t ", "is empty"),
            ("", "is empty"),
            ("bo\u{7}oks", "control character"),
            ("a\nb", "control character"),
        ];
        for (text, why) in cases {
            for err in [
                t.clone().with_category(text).unwrap_err(),
                t.clone().with_sku(text).unwrap_err(),
            ] {
                assert!(matches!(err, RecordError::InvalidProductLabel { .. }));
                let msg = err.to_string();
                assert!(msg.contains("\"o-9\"") && msg.contains(why), "{msg}");
            }
        }
        let long = t
            .clone()
            .with_category(&format!("{at_limit}x"))
            .unwrap_err();
        assert_eq!(
            long,
            RecordError::InvalidProductLabel {
                record: t.describe(),
                field: "category",
                reason: "is longer than 200 characters",
            }
        );
        assert!(long
            .to_string()
            .contains(&MAX_PRODUCT_LABEL_CHARS.to_string()));
        let sku = t.with_sku(&"s".repeat(MAX_PRODUCT_LABEL_CHARS + 1));
        assert!(sku.unwrap_err().to_string().contains("SKU is longer"));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_with_categories_is_checked_and_json_without_them_reads_as_before() {
        let old = r#"{"customer":5,"at":"2024-01-02T00:00:00","amount":"1","kind":"purchase","quantity":null,"id":null}"#;
        let t = serde_json::from_str::<Transaction>(old).unwrap();
        assert_eq!(t.category(), None);
        // Without a category or SKU, the JSON is what it was before they existed.
        assert_eq!(serde_json::to_string(&t).unwrap(), old);
        let tagged = t
            .clone()
            .with_category("toys")
            .unwrap()
            .with_sku("T-1")
            .unwrap();
        let json = serde_json::to_string(&tagged).unwrap();
        assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), tagged);
        let bad = json.replace("\"toys\"", "\"to\\u0000ys\"");
        let err = serde_json::from_str::<Transaction>(&bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("category contains a control character"),
            "{err}"
        );
        let blank = json.replace("\"T-1\"", "\"  \"");
        let err = serde_json::from_str::<Transaction>(&blank).unwrap_err();
        assert!(err.to_string().contains("SKU is empty"), "{err}");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_is_checked_by_the_constructors_and_valid_json_round_trips() {
        let t = Transaction::purchase(
            CustomerId::from(5u64),
            day(2024, 1, 2),
            Decimal::new(1999, 2),
        )
        .unwrap()
        .with_id("o-1")
        .unwrap()
        .with_quantity(2)
        .unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), t);
        let refund = Transaction::refund(
            CustomerId::new("ann").unwrap(),
            day(2024, 1, 3),
            Decimal::ONE,
        )
        .unwrap();
        let json = serde_json::to_string(&refund).unwrap();
        assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), refund);

        let record = |amount: &str, quantity: &str, id: &str| {
            format!(
                r#"{{"customer":5,"at":"2024-01-02T00:00:00","amount":{amount},"kind":"purchase","quantity":{quantity},"id":{id}}}"#
            )
        };
        let rejected = |json: String, want: RecordError| {
            let err = serde_json::from_str::<Transaction>(&json).unwrap_err();
            assert!(
                err.to_string().contains(&want.to_string()),
                "{err} vs {want}"
            );
        };
        let negative = Transaction::purchase(
            CustomerId::from(5u64),
            day(2024, 1, 2),
            Decimal::new(-1999, 2),
        )
        .unwrap_err();
        rejected(record("\"-19.99\"", "null", "null"), negative);
        let zero = t.clone().with_quantity(0).unwrap_err();
        rejected(record("\"19.99\"", "0", "\"o-1\""), zero);
        let empty = Transaction::purchase(CustomerId::from(5u64), day(2024, 1, 2), Decimal::ONE)
            .unwrap()
            .with_id(" ")
            .unwrap_err();
        rejected(record("\"1\"", "null", "\" \""), empty);
    }

    #[test]
    fn with_customer_changes_the_customer_only() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let t = Transaction::refund(CustomerId::from(7u64), day, Decimal::new(1999, 2))
            .unwrap()
            .with_id("order-1")
            .unwrap()
            .with_quantity(2)
            .unwrap();
        let moved = t.clone().with_customer(CustomerId::new("p-7").unwrap());
        assert_eq!(moved.customer(), &CustomerId::new("p-7").unwrap());
        assert_ne!(moved, t);
        assert_eq!(moved.with_customer(CustomerId::from(7u64)), t);
    }
}
