//! Attribute values per customer, with one kind per attribute.

use std::collections::BTreeMap;

use super::error::CovariateError;
use super::value::{check_name, AttributeKind, AttributeValue};
use crate::records::CustomerId;

/// Attribute values per customer: each attribute holds numbers for every customer that has it,
/// or categories for every one (never a mix). A customer may lack an attribute; a design that
/// needs it says so ([`CovariateError::Missing`]).
///
/// Built by the host (from a file joined by customer id) or from a ledger's customers
/// (`Ledger::attribute_table`).
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

    /// Sets customer `id`'s value of attribute `name` (trimmed), replacing an earlier value.
    ///
    /// # Errors
    /// [`CovariateError::BadName`] for a blank, control-holding or overlong name;
    /// [`CovariateError::MixedKinds`] when the attribute holds values of the other kind.
    pub fn insert(
        &mut self,
        id: CustomerId,
        name: &str,
        value: AttributeValue,
    ) -> Result<(), CovariateError> {
        let name = check_name(name)?;
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
