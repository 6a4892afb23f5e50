//! Attribute updates: a source stating a customer's attribute as of a day, and the rule that
//! picks, among sources that disagree, the value in force.

use std::cmp::Reverse;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

use super::error::RecordError;
use super::id::CustomerId;
use super::label::{label_problem, LabelProblem};

/// The longest source name, in characters.
pub const MAX_SOURCE_LEN: usize = 64;
/// The longest attribute value, in characters.
pub const MAX_VALUE_LEN: usize = 1_000;

/// A customer attribute that sources may update over time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum Attribute {
    /// The acquisition channel.
    Channel,
    /// The region.
    Region,
    /// The contact name (personal data).
    Name,
    /// The e-mail address (personal data).
    Email,
    /// The telephone number (personal data).
    Phone,
}

impl Attribute {
    /// Every attribute, in order.
    pub const ALL: [Attribute; 5] = [
        Attribute::Channel,
        Attribute::Region,
        Attribute::Name,
        Attribute::Email,
        Attribute::Phone,
    ];

    /// The attribute's name, as serialized.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Channel => "channel",
            Attribute::Region => "region",
            Attribute::Name => "name",
            Attribute::Email => "email",
            Attribute::Phone => "phone",
        }
    }

    /// Whether the attribute is contact data: redacted from `Debug` and left out of the default
    /// serialized form.
    pub fn is_contact(self) -> bool {
        matches!(self, Attribute::Name | Attribute::Email | Attribute::Phone)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A source stating, effective on a day, a customer's attribute value (or that it has none).
///
/// An update is also a confirmation: a source that states the value already held confirms it on
/// that day (see [`Ledger::freshness`](crate::Ledger::freshness)). Contact values are redacted
/// from `Debug`.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::records::{Attribute, AttributeUpdate};
/// use customer_assets::CustomerId;
/// let day = NaiveDate::from_ymd_opt(2024, 5, 1).ok_or("bad date")?;
/// let u = AttributeUpdate::set(CustomerId::from(1u64), Attribute::Region, "south", day, "crm")?;
/// assert_eq!(u.value(), Some("south"));
/// assert!(AttributeUpdate::set(CustomerId::from(1u64), Attribute::Region, "south", day, " ").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "AttributeUpdateRaw"))]
pub struct AttributeUpdate {
    customer: CustomerId,
    attribute: Attribute,
    value: Option<Arc<str>>,
    effective: NaiveDate,
    source: Arc<str>,
}

/// The serialized form of an [`AttributeUpdate`], checked by its constructors on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct AttributeUpdateRaw {
    customer: CustomerId,
    attribute: Attribute,
    value: Option<String>,
    effective: NaiveDate,
    source: String,
}

#[cfg(feature = "serde")]
impl TryFrom<AttributeUpdateRaw> for AttributeUpdate {
    type Error = RecordError;
    fn try_from(raw: AttributeUpdateRaw) -> Result<Self, RecordError> {
        match raw.value {
            Some(value) => AttributeUpdate::set(
                raw.customer,
                raw.attribute,
                &value,
                raw.effective,
                &raw.source,
            ),
            None => AttributeUpdate::clear(raw.customer, raw.attribute, raw.effective, &raw.source),
        }
    }
}

impl AttributeUpdate {
    /// `source` states that, from `effective` on, the customer's `attribute` is `value`
    /// (surrounding white space trimmed).
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidUpdate`] for a blank source or value, one with control characters,
    /// a source longer than [`MAX_SOURCE_LEN`] or a value longer than [`MAX_VALUE_LEN`]
    /// characters.
    pub fn set(
        customer: CustomerId,
        attribute: Attribute,
        value: &str,
        effective: NaiveDate,
        source: &str,
    ) -> Result<Self, RecordError> {
        let update = Self::clear(customer, attribute, effective, source)?;
        let value = value.trim();
        if let Some(problem) = label_problem(value, MAX_VALUE_LEN) {
            return Err(update.invalid(match problem {
                LabelProblem::Blank => "the value is blank (clear the attribute instead)",
                LabelProblem::Control => "the value holds control characters",
                LabelProblem::TooLong => "the value is longer than 1000 characters",
            }));
        }
        Ok(AttributeUpdate {
            value: Some(Arc::from(value)),
            ..update
        })
    }

    /// `source` states that, from `effective` on, the customer has no `attribute`.
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidUpdate`] for a blank source, one with control characters or one
    /// longer than [`MAX_SOURCE_LEN`] characters.
    pub fn clear(
        customer: CustomerId,
        attribute: Attribute,
        effective: NaiveDate,
        source: &str,
    ) -> Result<Self, RecordError> {
        let trimmed = source.trim();
        let update = AttributeUpdate {
            customer,
            attribute,
            value: None,
            effective,
            source: Arc::from(trimmed),
        };
        match label_problem(trimmed, MAX_SOURCE_LEN) {
            Some(LabelProblem::Blank) => Err(update.invalid("the source is blank")),
            Some(LabelProblem::Control) => {
                Err(update.invalid("the source holds control characters"))
            }
            Some(LabelProblem::TooLong) => {
                Err(update.invalid("the source is longer than 64 characters"))
            }
            None => Ok(update),
        }
    }

    fn invalid(&self, reason: &'static str) -> RecordError {
        RecordError::InvalidUpdate {
            record: self.describe(),
            reason,
        }
    }

    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }
    /// The attribute.
    pub fn attribute(&self) -> Attribute {
        self.attribute
    }
    /// The value stated, or `None` when the source states there is none.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
    /// The day the value takes effect.
    pub fn effective(&self) -> NaiveDate {
        self.effective
    }
    /// The source (e.g. `crm`, `web_form`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The same update for another customer id (pseudonymisation).
    pub(crate) fn with_customer(mut self, customer: CustomerId) -> Self {
        self.customer = customer;
        self
    }

    /// Names the update in errors (no value: it may be contact data, and a short source cut
    /// to its first 64 characters).
    pub(crate) fn describe(&self) -> String {
        let source: String = self.source.chars().take(MAX_SOURCE_LEN).collect();
        format!(
            "{} of customer {} from {source:?} effective {}",
            self.attribute, self.customer, self.effective
        )
    }
}

impl fmt::Debug for AttributeUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: Option<&str> = match (&self.value, self.attribute.is_contact()) {
            (Some(_), true) => Some("<redacted>"),
            (value, _) => value.as_deref(),
        };
        f.debug_struct("AttributeUpdate")
            .field("customer", &self.customer)
            .field("attribute", &self.attribute)
            .field("value", &value)
            .field("effective", &self.effective)
            .field("source", &self.source)
            .finish()
    }
}

/// How the value in force is chosen when sources disagree (see [`SourcePrecedence`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Survivorship {
    /// The latest effective update wins; precedence only decides between updates effective the
    /// same day. A customer who changes their address on the web form is believed over an older
    /// CRM record.
    #[default]
    MostRecent,
    /// The update of the highest-precedence source wins, however old; later updates of a lower
    /// source fill only attributes that no higher source has stated. Within a source, the latest
    /// update wins.
    SourceFirst,
}

/// The order of trust between sources, and the [`Survivorship`] rule.
///
/// Sources listed first rank highest; sources not listed rank below every listed one, equal to
/// each other. Updates that tie on the rule's key (the same day under
/// [`Survivorship::MostRecent`], from sources of equal rank) are decided by the source name
/// that sorts first, so the value in force depends on the set of updates and never on the order
/// they arrived in.
///
/// ```
/// use customer_assets::records::{SourcePrecedence, Survivorship};
/// let p = SourcePrecedence::new(["crm", "web_form"])?.survivorship(Survivorship::SourceFirst);
/// assert!(p.rank("crm") < p.rank("web_form"));
/// assert_eq!(p.rank("import"), p.rank("call_centre"));
/// assert!(SourcePrecedence::new(["crm", "crm"]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SourcePrecedence {
    sources: Vec<Arc<str>>,
    survivorship: Survivorship,
}

impl SourcePrecedence {
    /// Sources in order of trust, highest first, under [`Survivorship::MostRecent`].
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidUpdate`] for a source that is blank, has control characters, is too
    /// long or is listed twice.
    pub fn new<S: AsRef<str>>(sources: impl IntoIterator<Item = S>) -> Result<Self, RecordError> {
        let mut listed: Vec<Arc<str>> = Vec::new();
        for source in sources {
            let source = source.as_ref().trim();
            let invalid = |reason| RecordError::InvalidUpdate {
                record: format!(
                    "source precedence entry {:?}",
                    source.chars().take(MAX_SOURCE_LEN).collect::<String>()
                ),
                reason,
            };
            if let Some(problem) = label_problem(source, MAX_SOURCE_LEN) {
                return Err(invalid(match problem {
                    LabelProblem::Blank => "is blank",
                    LabelProblem::Control => "holds control characters",
                    LabelProblem::TooLong => "is longer than 64 characters",
                }));
            }
            if listed.iter().any(|s| &**s == source) {
                return Err(invalid("is listed twice"));
            }
            listed.push(Arc::from(source));
        }
        Ok(SourcePrecedence {
            sources: listed,
            survivorship: Survivorship::default(),
        })
    }

    /// Sets the survivorship rule.
    pub fn survivorship(mut self, rule: Survivorship) -> Self {
        self.survivorship = rule;
        self
    }

    /// The survivorship rule.
    pub fn get_survivorship(&self) -> Survivorship {
        self.survivorship
    }

    /// The sources listed, highest precedence first.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        self.sources.iter().map(|s| &**s)
    }

    /// A source's rank: 0 for the first listed, the number listed for any source not listed
    /// (lower ranks win).
    pub fn rank(&self, source: &str) -> usize {
        self.sources
            .iter()
            .position(|s| &**s == source)
            .unwrap_or(self.sources.len())
    }

    /// Of the updates given, the one in force on `day` (effective on or before it), if any.
    pub fn in_force<'a>(
        &self,
        updates: impl IntoIterator<Item = &'a AttributeUpdate>,
        day: NaiveDate,
    ) -> Option<&'a AttributeUpdate> {
        let candidates = updates.into_iter().filter(|u| u.effective <= day);
        match self.survivorship {
            Survivorship::MostRecent => candidates.max_by_key(|u| {
                (
                    u.effective,
                    Reverse(self.rank(&u.source)),
                    Reverse(Arc::clone(&u.source)),
                )
            }),
            Survivorship::SourceFirst => candidates.max_by_key(|u| {
                (
                    Reverse(self.rank(&u.source)),
                    u.effective,
                    Reverse(Arc::clone(&u.source)),
                )
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn region(value: &str, m: u32, d: u32, source: &str) -> AttributeUpdate {
        AttributeUpdate::set(
            CustomerId::from(1u64),
            Attribute::Region,
            value,
            day(m, d),
            source,
        )
        .unwrap()
    }

    #[test]
    fn updates_are_validated_and_name_the_record_without_its_value() {
        let id = CustomerId::from(9u64);
        let err =
            AttributeUpdate::set(id.clone(), Attribute::Email, "", day(1, 1), "crm").unwrap_err();
        assert!(err.to_string().contains("email of customer 9"), "{err}");
        assert!(err.to_string().contains("blank"), "{err}");
        let err = AttributeUpdate::set(id.clone(), Attribute::Email, "a\u{0}b", day(1, 1), "crm")
            .unwrap_err();
        assert!(err.to_string().contains("control"), "{err}");
        assert!(!err.to_string().contains("a\u{0}b"), "{err}");
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        assert!(
            AttributeUpdate::set(id.clone(), Attribute::Region, &long, day(1, 1), "crm").is_err()
        );
        let err = AttributeUpdate::clear(id, Attribute::Region, day(1, 1), "\n").unwrap_err();
        assert!(err.to_string().contains("source is blank"), "{err}");
    }

    #[test]
    fn contact_values_are_redacted_from_debug() {
        let u = AttributeUpdate::set(
            CustomerId::from(1u64),
            Attribute::Email,
            "ann@example.com",
            day(1, 1),
            "crm",
        )
        .unwrap();
        let dbg = format!("{u:?}");
        assert!(
            !dbg.contains("example.com") && dbg.contains("redacted"),
            "{dbg}"
        );
        assert!(format!("{:?}", region("north", 1, 1, "crm")).contains("north"));
    }

    #[test]
    fn most_recent_wins_and_precedence_breaks_same_day_ties() {
        let p = SourcePrecedence::new(["crm", "web_form"]).unwrap();
        let ups = [
            region("north", 1, 1, "crm"),
            region("south", 3, 1, "web_form"),
            region("east", 3, 1, "crm"),
        ];
        assert_eq!(p.in_force(&ups, day(2, 1)).unwrap().value(), Some("north"));
        assert_eq!(p.in_force(&ups, day(3, 1)).unwrap().value(), Some("east"));
        assert!(p.in_force(&ups, day(1, 1)).is_some());
        assert!(p.in_force(&ups[1..], day(2, 28)).is_none());
    }

    #[test]
    fn source_first_keeps_the_trusted_value_however_old() {
        let p = SourcePrecedence::new(["crm"])
            .unwrap()
            .survivorship(Survivorship::SourceFirst);
        let ups = [
            region("south", 1, 1, "web_form"),
            region("north", 2, 1, "crm"),
            region("west", 6, 1, "web_form"),
        ];
        assert_eq!(p.in_force(&ups, day(1, 15)).unwrap().value(), Some("south"));
        assert_eq!(p.in_force(&ups, day(7, 1)).unwrap().value(), Some("north"));
    }

    #[test]
    fn unlisted_sources_tie_and_the_first_name_wins_whatever_the_order() {
        let p = SourcePrecedence::default();
        let a = region("one", 1, 1, "b_source");
        let b = region("two", 1, 1, "a_source");
        for ups in [[a.clone(), b.clone()], [b.clone(), a.clone()]] {
            assert_eq!(p.in_force(&ups, day(1, 1)).unwrap().value(), Some("two"));
        }
    }

    #[test]
    fn precedence_lists_are_validated() {
        assert!(SourcePrecedence::new([" "]).is_err());
        let err = SourcePrecedence::new(["crm", " crm "]).unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        assert_eq!(SourcePrecedence::new(["a", "b"]).unwrap().rank("zzz"), 2);
    }
}
