//! Customers: id, acquisition date, optional descriptive and typed attributes.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use super::attribute::{check_name, AttributeError, AttributeValue, RESERVED_ATTRIBUTE_NAMES};
use super::consent::{Consent, Purpose};
use super::id::CustomerId;
use super::update::Attribute;

/// Personal contact data. It is kept for the host application's convenience but never printed:
/// its `Debug` output is redacted, and a [`Customer`] serializes without it unless asked
/// ([`Customer::with_contact_details`]).
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

/// A customer: id, acquisition date, optional descriptive attributes, typed attributes and
/// consents.
///
/// Typed attributes ([`attributes`](Self::attributes)) are numbers or categories by name (age,
/// income, segment), the covariates of the models in [`crate::covariates`]; the channel and
/// region stay text fields of their own, which designs read as the categorical attributes
/// `channel` and `region` (names a typed attribute cannot take).
///
/// Contact details are personal data: `Debug` redacts them and the serialized form leaves them
/// out; [`with_contact_details`](Self::with_contact_details) serializes them when the host
/// means to.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::records::{AttributeValue, Consent, Purpose};
/// use customer_assets::{Customer, CustomerId};
/// let acquired = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let c = Customer::builder(CustomerId::new("c-1")?, acquired)
///     .channel("web")
///     .region("north")
///     .tag("newsletter")
///     .email("ann@example.com")
///     .consent(Consent::given(Purpose::MARKETING_CONTACT, acquired))
///     .attribute("age", AttributeValue::number(34.0)?)?
///     .attribute("segment", AttributeValue::category("gold")?)?
///     .build();
/// assert_eq!(c.channel(), Some("web"));
/// assert_eq!(c.attribute_value("age"), Some(&AttributeValue::Number(34.0)));
/// assert!(c.consents_to(&Purpose::MARKETING_CONTACT, acquired));
/// assert!(!c.consents_to(&Purpose::PROFILING, acquired));
/// assert!(!format!("{c:?}").contains("ann@example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "CustomerRaw"))]
pub struct Customer {
    id: CustomerId,
    acquired: NaiveDate,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    contact: ContactDetails,
    consents: Vec<Consent>,
    attributes: BTreeMap<String, AttributeValue>,
}

/// The serialized form of a [`Customer`], built through [`Customer::builder`] on the way in (the
/// id is checked by its own deserializer; a tag given twice is kept once, as by the builder).
/// Contact details, consents and typed attributes may be absent (the default serialized form has
/// no contact; JSON written before typed attributes existed has none).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CustomerRaw {
    id: CustomerId,
    acquired: NaiveDate,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    #[serde(default)]
    contact: ContactDetails,
    #[serde(default)]
    consents: Vec<Consent>,
    #[serde(default)]
    attributes: BTreeMap<String, AttributeValue>,
}

/// What a [`Customer`] serializes as: contact details only when asked for.
#[cfg(feature = "serde")]
#[derive(serde::Serialize)]
struct CustomerOut<'a> {
    id: &'a CustomerId,
    acquired: NaiveDate,
    channel: &'a Option<String>,
    region: &'a Option<String>,
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    contact: Option<&'a ContactDetails>,
    consents: &'a [Consent],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attributes: &'a BTreeMap<String, AttributeValue>,
}

#[cfg(feature = "serde")]
impl Customer {
    fn out(&self, contact: bool) -> CustomerOut<'_> {
        CustomerOut {
            id: &self.id,
            acquired: self.acquired,
            channel: &self.channel,
            region: &self.region,
            tags: &self.tags,
            contact: contact.then_some(&self.contact),
            consents: &self.consents,
            attributes: &self.attributes,
        }
    }
}

/// The default serialized form: no contact details (see [`Customer::with_contact_details`]).
#[cfg(feature = "serde")]
impl serde::Serialize for Customer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.out(false).serialize(serializer)
    }
}

/// A [`Customer`] that serializes with its contact details (from
/// [`Customer::with_contact_details`]).
#[cfg(feature = "serde")]
#[derive(Clone, Copy, Debug)]
pub struct WithContactDetails<'a>(&'a Customer);

#[cfg(feature = "serde")]
impl serde::Serialize for WithContactDetails<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.out(true).serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl TryFrom<CustomerRaw> for Customer {
    type Error = AttributeError;
    fn try_from(raw: CustomerRaw) -> Result<Self, AttributeError> {
        let mut b = Customer::builder(raw.id, raw.acquired);
        if let Some(channel) = raw.channel {
            b = b.channel(channel);
        }
        if let Some(region) = raw.region {
            b = b.region(region);
        }
        for tag in raw.tags {
            b = b.tag(tag);
        }
        for consent in raw.consents {
            b = b.consent(consent);
        }
        let ContactDetails { name, email, phone } = raw.contact;
        if let Some(name) = name {
            b = b.name(name);
        }
        if let Some(email) = email {
            b = b.email(email);
        }
        if let Some(phone) = phone {
            b = b.phone(phone);
        }
        for (name, value) in raw.attributes {
            // Two keys that trim to one name would otherwise keep one value silently.
            if b.0.attributes.contains_key(name.trim()) {
                return Err(AttributeError::BadName {
                    name,
                    reason: "it appears twice (after trimming)",
                });
            }
            b = b.attribute(&name, value)?;
        }
        Ok(b.build())
    }
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
            consents: Vec::new(),
            attributes: BTreeMap::new(),
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
    /// Contact details (redacted from `Debug`, left out of the default serialized form).
    pub fn contact(&self) -> &ContactDetails {
        &self.contact
    }
    /// The customer for serializing with contact details: the opt-in for hosts that mean to
    /// write personal data out (the plain `Serialize` leaves it out).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::{Customer, CustomerId};
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
    /// let c = Customer::builder(CustomerId::new("c-1")?, day).email("ann@example.com").build();
    /// assert!(!serde_json::to_string(&c)?.contains("ann@"));
    /// assert!(serde_json::to_string(&c.with_contact_details())?.contains("ann@"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "serde")]
    pub fn with_contact_details(&self) -> WithContactDetails<'_> {
        WithContactDetails(self)
    }
    /// The typed attributes, by name (the channel and region are not among them: see
    /// [`channel`](Self::channel) and [`region`](Self::region)).
    pub fn attributes(&self) -> &BTreeMap<String, AttributeValue> {
        &self.attributes
    }
    /// The typed attribute `name` (trimmed), if the customer has it.
    pub fn attribute_value(&self, name: &str) -> Option<&AttributeValue> {
        self.attributes.get(name.trim())
    }
    /// The consents given, in the order they were recorded.
    pub fn consents(&self) -> &[Consent] {
        &self.consents
    }
    /// Whether a consent to `purpose` covers `day`.
    pub fn consents_to(&self, purpose: &Purpose, day: NaiveDate) -> bool {
        self.consents
            .iter()
            .any(|c| c.purpose() == purpose && c.covers(day))
    }
    /// The value of an attribute on this record.
    pub fn attribute(&self, attribute: Attribute) -> Option<&str> {
        match attribute {
            Attribute::Channel => self.channel.as_deref(),
            Attribute::Region => self.region.as_deref(),
            Attribute::Name => self.contact.name.as_deref(),
            Attribute::Email => self.contact.email.as_deref(),
            Attribute::Phone => self.contact.phone.as_deref(),
        }
    }
    /// Sets or clears an attribute (record upkeep in the ledger).
    pub(crate) fn set_attribute(&mut self, attribute: Attribute, value: Option<&str>) {
        let slot = match attribute {
            Attribute::Channel => &mut self.channel,
            Attribute::Region => &mut self.region,
            Attribute::Name => &mut self.contact.name,
            Attribute::Email => &mut self.contact.email,
            Attribute::Phone => &mut self.contact.phone,
        };
        *slot = value.map(str::to_owned);
    }
    /// The same customer under another id (pseudonymisation).
    pub(crate) fn with_id(mut self, id: CustomerId) -> Self {
        self.id = id;
        self
    }
    /// The contact details, to be cleared by the ledger.
    pub(crate) fn contact_mut(&mut self) -> &mut ContactDetails {
        &mut self.contact
    }
    /// The consents, to be changed by the ledger.
    pub(crate) fn consents_mut(&mut self) -> &mut Vec<Consent> {
        &mut self.consents
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
    /// Sets the typed attribute `name` (trimmed) to `value`, replacing an earlier value of it.
    ///
    /// The one fallible step of the builder: the name is checked here, so that a customer that
    /// exists holds only usable names.
    ///
    /// # Errors
    /// [`AttributeError::BadName`] for a blank name, a control character, more than
    /// [`MAX_ATTRIBUTE_NAME_LEN`](super::MAX_ATTRIBUTE_NAME_LEN) characters, or one of
    /// [`RESERVED_ATTRIBUTE_NAMES`] in any case (`channel` and `region` are the customer's own
    /// fields); [`AttributeError::NotFinite`] or [`AttributeError::BadCategory`] for a value
    /// built from the enum's variants that the constructors would refuse.
    pub fn attribute(mut self, name: &str, value: AttributeValue) -> Result<Self, AttributeError> {
        let name = check_name(name)?;
        if RESERVED_ATTRIBUTE_NAMES
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&name))
        {
            return Err(AttributeError::BadName {
                name,
                reason: "it is reserved for the customer's own channel and region",
            });
        }
        self.0.attributes.insert(name, value.checked()?);
        Ok(self)
    }
    /// Records a consent (a consent recorded twice is kept once).
    pub fn consent(mut self, consent: Consent) -> Self {
        if !self.0.consents.contains(&consent) {
            self.0.consents.push(consent);
        }
        self
    }
    /// Finishes the customer.
    pub fn build(self) -> Customer {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "serde")]
    use crate::records::error::RecordError;
    use crate::records::{AttributeError, AttributeValue};
    #[cfg(feature = "serde")]
    use crate::records::{Consent, Purpose};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
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

    #[cfg(feature = "serde")]
    #[test]
    fn json_goes_through_the_builder_and_valid_json_round_trips() {
        let consent = Consent::given(Purpose::PROFILING, day(2024, 3, 1))
            .withdrawn(day(2024, 6, 1))
            .unwrap();
        let c = Customer::builder(CustomerId::new("c-1").unwrap(), day(2024, 3, 1))
            .channel("web")
            .tag("a")
            .tag("b")
            .email("ann@example.com")
            .consent(consent)
            .build();
        let full = serde_json::to_string(&c.with_contact_details()).unwrap();
        assert!(full.contains("ann@example.com"), "{full}");
        assert_eq!(serde_json::from_str::<Customer>(&full).unwrap(), c);
        let plain = Customer::new(CustomerId::from(7u64), day(2024, 3, 1));
        let json = serde_json::to_string(&plain).unwrap();
        assert_eq!(serde_json::from_str::<Customer>(&json).unwrap(), plain);

        let twice = r#"{"id":"c-1","acquired":"2024-03-01","channel":"web","region":null,
            "tags":["a","b","a"],"contact":{"name":null,"email":"ann@example.com","phone":null},
            "consents":[{"purpose":"profiling","given":"2024-03-01","withdrawn":"2024-06-01"}]}"#;
        assert_eq!(serde_json::from_str::<Customer>(twice).unwrap(), c);
        let no_id = r#"{"id":" ","acquired":"2024-03-01","channel":null,"region":null,
            "tags":[],"contact":{"name":null,"email":null,"phone":null}}"#;
        let err = serde_json::from_str::<Customer>(no_id).unwrap_err();
        assert!(
            err.to_string()
                .contains(&RecordError::EmptyCustomerId.to_string()),
            "{err}"
        );
    }

    #[test]
    fn typed_attributes_are_checked_and_read_back() {
        let c = Customer::builder(CustomerId::from(1u64), day(2024, 1, 1))
            .attribute(" age ", AttributeValue::number(34.0).unwrap())
            .unwrap()
            .attribute("age", AttributeValue::number(35.0).unwrap())
            .unwrap()
            .attribute("segment", AttributeValue::category("gold").unwrap())
            .unwrap()
            .build();
        assert_eq!(c.attributes().len(), 2);
        assert_eq!(
            c.attribute_value(" age"),
            Some(&AttributeValue::Number(35.0))
        );
        assert_eq!(c.attribute_value("income"), None);
        let b = || Customer::builder(CustomerId::from(1u64), day(2024, 1, 1));
        let one = AttributeValue::Number(1.0);
        for bad in ["", " ", "a\tb", "Channel", "region"] {
            let err = b().attribute(bad, one.clone()).unwrap_err();
            assert!(
                matches!(err, AttributeError::BadName { .. }),
                "{bad:?}: {err}"
            );
        }
        let long = "n".repeat(crate::records::MAX_ATTRIBUTE_NAME_LEN + 1);
        assert!(b().attribute(&long, one.clone()).is_err());
        // A value built from the variants is checked here too.
        assert!(matches!(
            b().attribute("x", AttributeValue::Number(f64::NAN))
                .unwrap_err(),
            AttributeError::NotFinite { .. }
        ));
        assert!(matches!(
            b().attribute("x", AttributeValue::Category("\n".into()))
                .unwrap_err(),
            AttributeError::BadCategory { .. }
        ));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn typed_attributes_serialize_and_old_json_still_reads() {
        let c = Customer::builder(CustomerId::from(1u64), day(2024, 1, 1))
            .channel("web")
            .attribute("age", AttributeValue::number(34.5).unwrap())
            .unwrap()
            .attribute("segment", AttributeValue::category("gold").unwrap())
            .unwrap()
            .build();
        let json = serde_json::to_string(&c).unwrap();
        assert!(
            json.contains(r#""attributes":{"age":34.5,"segment":"gold"}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Customer>(&json).unwrap(), c);
        // A customer without typed attributes serializes as before, and JSON written before
        // typed attributes existed reads.
        let plain = Customer::new(CustomerId::from(7u64), day(2024, 3, 1));
        assert!(!serde_json::to_string(&plain)
            .unwrap()
            .contains("attributes"));
        let old = r#"{"id":7,"acquired":"2024-03-01","channel":null,"region":null,"tags":[],
            "consents":[]}"#;
        assert_eq!(serde_json::from_str::<Customer>(old).unwrap(), plain);
        // Names and values are checked on the way in.
        for bad in [
            r#"{"channel":1}"#,
            r#"{" ":1}"#,
            r#"{"age":" "}"#,
            r#"{"age":null}"#,
            r#"{"age":1,"age ":2}"#,
        ] {
            let text = old.replace(
                r#""consents":[]"#,
                &format!(r#""consents":[],"attributes":{bad}"#),
            );
            assert!(serde_json::from_str::<Customer>(&text).is_err(), "{text}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn the_default_serialized_customer_holds_no_contact_field() {
        let c = Customer::builder(CustomerId::new("c-1").unwrap(), day(2024, 3, 1))
            .name("Ann Example")
            .email("ann@example.com")
            .phone("+1 555 0100")
            .build();
        let json = serde_json::to_value(&c).unwrap();
        let object = json.as_object().unwrap();
        assert!(!object.contains_key("contact"), "{json}");
        let text = json.to_string();
        for personal in ["Ann", "example.com", "555"] {
            assert!(!text.contains(personal), "{text}");
        }
        // Read back, the customer has lost only the contact details.
        let back: Customer = serde_json::from_value(json).unwrap();
        assert_eq!(back.contact(), &ContactDetails::default());
        assert_eq!(back.id(), c.id());
    }
}
