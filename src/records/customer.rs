//! Customers: id, acquisition date and optional descriptive attributes.

use std::fmt;

use chrono::NaiveDate;

use super::id::CustomerId;

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
#[cfg_attr(feature = "serde", serde(from = "CustomerRaw"))]
pub struct Customer {
    id: CustomerId,
    acquired: NaiveDate,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    contact: ContactDetails,
}

/// The serialized form of a [`Customer`], built through [`Customer::builder`] on the way in (the
/// id is checked by its own deserializer; a tag given twice is kept once, as by the builder).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CustomerRaw {
    id: CustomerId,
    acquired: NaiveDate,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    contact: ContactDetails,
}

#[cfg(feature = "serde")]
impl From<CustomerRaw> for Customer {
    fn from(raw: CustomerRaw) -> Self {
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
        b.build()
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

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(feature = "serde")]
    use crate::records::error::RecordError;

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
        let c = Customer::builder(CustomerId::new("c-1").unwrap(), day(2024, 3, 1))
            .channel("web")
            .tag("a")
            .tag("b")
            .email("ann@example.com")
            .build();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Customer>(&json).unwrap(), c);
        let plain = Customer::new(CustomerId::from(7u64), day(2024, 3, 1));
        let json = serde_json::to_string(&plain).unwrap();
        assert_eq!(serde_json::from_str::<Customer>(&json).unwrap(), plain);

        let twice = r#"{"id":"c-1","acquired":"2024-03-01","channel":"web","region":null,
            "tags":["a","b","a"],"contact":{"name":null,"email":"ann@example.com","phone":null}}"#;
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
}
