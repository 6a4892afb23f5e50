//! Attribute values per customer, with one kind per attribute.

use std::collections::BTreeMap;

use super::error::CovariateError;
use crate::records::{check_attribute_name, AttributeKind, AttributeValue, Customer, CustomerId};

/// Attribute values per customer: each attribute holds numbers for every customer that has it,
/// or categories for every one (never a mix). A customer may lack an attribute; a design that
/// needs it says so ([`CovariateError::Missing`]).
///
/// Built by the host (from a file joined by customer id, with [`insert`](Self::insert) or
/// [`from_rows`](Self::from_rows)), from customers ([`insert_customer`](Self::insert_customer)),
/// or from a ledger's customers
/// ([`Ledger::attribute_table`](crate::ledger::Ledger::attribute_table)).
///
/// ```
/// use customer_assets::covariates::{AttributeTable, AttributeValue};
/// use customer_assets::CustomerId;
/// let mut table = AttributeTable::new();
/// table.insert(CustomerId::from(1u64), "age", AttributeValue::number(34.0)?)?;
/// table.insert(CustomerId::from(1u64), "region", AttributeValue::category("north")?)?;
/// table.insert(CustomerId::from(2u64), "age", AttributeValue::number(51.0)?)?;
/// assert!(table.insert(CustomerId::from(2u64), "age", AttributeValue::category("old")?).is_err());
/// assert_eq!(table.len(), 2);
/// assert_eq!(table.get(&CustomerId::from(2u64), "region"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "TableRaw", into = "TableRaw"))]
pub struct AttributeTable {
    kinds: BTreeMap<String, AttributeKind>,
    rows: BTreeMap<CustomerId, BTreeMap<String, AttributeValue>>,
}

/// The serialized form: customer → attribute → value, rebuilt through the checks.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct TableRaw {
    customers: BTreeMap<CustomerId, BTreeMap<String, AttributeValue>>,
}

#[cfg(feature = "serde")]
impl TryFrom<TableRaw> for AttributeTable {
    type Error = CovariateError;
    fn try_from(raw: TableRaw) -> Result<Self, Self::Error> {
        let mut table = AttributeTable::new();
        for (id, values) in raw.customers {
            for (name, value) in values {
                table.insert(id.clone(), &name, value)?;
            }
        }
        Ok(table)
    }
}

#[cfg(feature = "serde")]
impl From<AttributeTable> for TableRaw {
    fn from(table: AttributeTable) -> Self {
        TableRaw {
            customers: table.rows,
        }
    }
}

impl AttributeTable {
    /// An empty table.
    pub fn new() -> Self {
        AttributeTable::default()
    }

    /// A table of `rows`: per customer, its attributes by name (each inserted as by
    /// [`insert`](Self::insert); a customer given twice keeps the values of both, the later
    /// value of an attribute replacing the earlier).
    ///
    /// ```
    /// use customer_assets::covariates::{AttributeTable, AttributeValue};
    /// use customer_assets::CustomerId;
    /// let table = AttributeTable::from_rows([
    ///     (CustomerId::from(1u64), vec![("age", AttributeValue::number(34.0)?)]),
    ///     (CustomerId::from(2u64), vec![("age", AttributeValue::number(51.0)?)]),
    /// ])?;
    /// assert_eq!(table.len(), 2);
    /// # Ok::<(), customer_assets::covariates::CovariateError>(())
    /// ```
    ///
    /// # Errors
    /// The first error of [`insert`](Self::insert).
    pub fn from_rows<R, S>(
        rows: impl IntoIterator<Item = (CustomerId, R)>,
    ) -> Result<Self, CovariateError>
    where
        R: IntoIterator<Item = (S, AttributeValue)>,
        S: AsRef<str>,
    {
        let mut table = AttributeTable::new();
        for (id, values) in rows {
            for (name, value) in values {
                table.insert(id.clone(), name.as_ref(), value)?;
            }
        }
        Ok(table)
    }

    /// Adds a customer's attributes as a design sees them ([`customer_attributes`]): its typed
    /// attributes, and its channel and region, when set, as the categorical attributes
    /// `channel` and `region`.
    ///
    /// # Errors
    /// As [`customer_attributes`] and [`insert`](Self::insert).
    pub fn insert_customer(&mut self, customer: &Customer) -> Result<(), CovariateError> {
        for (name, value) in customer_attributes(customer)? {
            self.insert(customer.id().clone(), &name, value)?;
        }
        Ok(())
    }

    /// Sets customer `id`'s value of attribute `name` (trimmed), replacing an earlier value.
    ///
    /// # Errors
    /// [`CovariateError::BadName`] for a blank, control-holding or overlong name;
    /// [`CovariateError::MixedKinds`] when the attribute holds values of the other kind;
    /// [`CovariateError::NotFinite`] or [`CovariateError::BadCategory`] (naming the attribute
    /// and customer) for a value built from the enum's variants that its constructors refuse.
    pub fn insert(
        &mut self,
        id: CustomerId,
        name: &str,
        value: AttributeValue,
    ) -> Result<(), CovariateError> {
        let name = check_attribute_name(name)?;
        let value = value
            .checked()
            .map_err(|e| CovariateError::from(e).at(&name, &id))?;
        let kind = value.kind();
        match self.kinds.get(&name) {
            Some(expected) if *expected != kind => {
                return Err(CovariateError::MixedKinds {
                    attribute: name,
                    customer: id.to_string(),
                    expected: expected.name(),
                    found: kind.name(),
                })
            }
            Some(_) => {}
            None => {
                self.kinds.insert(name.clone(), kind);
            }
        }
        self.rows.entry(id).or_default().insert(name, value);
        Ok(())
    }

    /// Customer `id`'s value of attribute `name`, when it has one.
    pub fn get(&self, id: &CustomerId, name: &str) -> Option<&AttributeValue> {
        self.rows.get(id)?.get(name)
    }

    /// Every value of customer `id`, by attribute name.
    pub fn customer(&self, id: &CustomerId) -> Option<&BTreeMap<String, AttributeValue>> {
        self.rows.get(id)
    }

    /// The attributes and their kinds, by name.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, AttributeKind)> {
        self.kinds.iter().map(|(name, kind)| (name.as_str(), *kind))
    }

    /// The kind of attribute `name`, when some customer has it.
    pub fn kind(&self, name: &str) -> Option<AttributeKind> {
        self.kinds.get(name).copied()
    }

    /// The customers with at least one value, in id order.
    pub fn customers(&self) -> impl Iterator<Item = &CustomerId> {
        self.rows.keys()
    }

    /// The number of customers with at least one value.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no customer has a value.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A customer's attributes as a design sees them: its typed attributes, and its channel and
/// region, when set, as the categorical attributes `channel` and `region` (a customer's typed
/// attributes cannot take these names).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::covariates::{customer_attributes, AttributeValue};
/// use customer_assets::{Customer, CustomerId};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let c = Customer::builder(CustomerId::from(1u64), day)
///     .channel("web")
///     .attribute("age", AttributeValue::number(34.0)?)?
///     .build();
/// let values = customer_attributes(&c)?;
/// assert_eq!(values.get("channel"), Some(&AttributeValue::category("web")?));
/// assert_eq!(values.get("age"), Some(&AttributeValue::number(34.0)?));
/// assert_eq!(values.get("region"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`CovariateError::BadCategory`] naming the attribute and customer when the channel or region
/// is not a usable category (blank, a control character, longer than
/// [`MAX_CATEGORY_LEN`](crate::records::MAX_CATEGORY_LEN) characters).
pub fn customer_attributes(
    customer: &Customer,
) -> Result<BTreeMap<String, AttributeValue>, CovariateError> {
    let mut values = customer.attributes().clone();
    for (name, field) in [
        ("channel", customer.channel()),
        ("region", customer.region()),
    ] {
        if let Some(text) = field {
            let value = AttributeValue::category(text)
                .map_err(|e| CovariateError::from(e).at(name, customer.id()))?;
            values.insert(name.to_string(), value);
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn id(n: u64) -> CustomerId {
        CustomerId::from(n)
    }

    #[test]
    fn kinds_are_kept_apart_and_values_checked_again() {
        let mut t = AttributeTable::new();
        t.insert(id(1), " age ", AttributeValue::Number(3.0))
            .unwrap();
        assert_eq!(t.kind("age"), Some(AttributeKind::Numeric));
        let err = t
            .insert(id(2), "age", AttributeValue::Category("x".into()))
            .unwrap_err();
        assert!(matches!(err, CovariateError::MixedKinds { .. }), "{err}");
        let err = t
            .insert(id(2), "size", AttributeValue::Number(f64::INFINITY))
            .unwrap_err();
        assert_eq!(
            err,
            CovariateError::NotFinite {
                attribute: "size".into(),
                customer: Some("2".into()),
                value: f64::INFINITY
            }
        );
        assert!(
            err.to_string().contains("attribute size of customer 2"),
            "{err}"
        );
        let err = t
            .insert(id(2), "tier", AttributeValue::Category(" ".into()))
            .unwrap_err();
        assert!(matches!(err, CovariateError::BadCategory { .. }), "{err}");
        assert!(t.insert(id(2), "", AttributeValue::Number(1.0)).is_err());
        assert_eq!(t.len(), 1);
        assert_eq!(t.customers().collect::<Vec<_>>(), [&id(1)]);
    }

    #[test]
    fn customers_offer_channel_and_region_as_categories() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let c = Customer::builder(id(4), day)
            .channel(" web ")
            .region("north")
            .attribute("age", AttributeValue::Number(40.0))
            .unwrap()
            .build();
        let mut t = AttributeTable::new();
        t.insert_customer(&c).unwrap();
        assert_eq!(t.kind("channel"), Some(AttributeKind::Categorical));
        assert_eq!(
            t.get(&id(4), "channel"),
            Some(&AttributeValue::Category("web".into()))
        );
        assert_eq!(t.customer(&id(4)).unwrap().len(), 3);
        // A channel that is no usable category is an error naming the customer.
        let bad = Customer::builder(id(5), day).region(" ").build();
        let err = t.insert_customer(&bad).unwrap_err();
        assert!(
            matches!(&err, CovariateError::BadCategory { attribute, customer: Some(c), .. }
                if attribute == "region" && c == "5"),
            "{err}"
        );
        assert!(
            err.to_string().contains("attribute region of customer 5"),
            "{err}"
        );
        // A customer with no attribute has no row.
        t.insert_customer(&Customer::new(id(6), day)).unwrap();
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn from_rows_inserts_every_value() {
        let t = AttributeTable::from_rows([
            (id(1), vec![("a", AttributeValue::Number(1.0))]),
            (id(1), vec![("b", AttributeValue::Category("x".into()))]),
        ])
        .unwrap();
        assert_eq!(t.customer(&id(1)).unwrap().len(), 2);
        let err = AttributeTable::from_rows([
            (id(1), vec![("a", AttributeValue::Number(1.0))]),
            (id(2), vec![("a", AttributeValue::Category("x".into()))]),
        ])
        .unwrap_err();
        assert!(matches!(err, CovariateError::MixedKinds { .. }));
    }

    #[cfg(feature = "serde")]
    #[test]
    fn a_table_round_trips_through_json_and_is_checked_on_the_way_in() {
        let t = AttributeTable::from_rows([(
            id(1),
            vec![
                ("a", AttributeValue::Number(1.0)),
                ("b", AttributeValue::Category("x".into())),
            ],
        )])
        .unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<AttributeTable>(&json).unwrap(), t);
        let mixed = r#"{"customers":{"1":{"a":1},"2":{"a":"x"}}}"#;
        assert!(serde_json::from_str::<AttributeTable>(mixed).is_err());
    }
}
