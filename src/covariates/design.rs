//! The design builder: which attributes become which columns, and the encoding that turns a
//! customer's attributes into a row.

use std::collections::BTreeMap;

use super::error::CovariateError;
use super::matrix::{DesignMatrix, MAX_COLUMNS};
use super::table::{customer_attributes, AttributeTable};
use crate::records::{
    check_attribute_name, AttributeError, AttributeKind, AttributeValue, Customer, CustomerId,
};

/// The most levels a categorical attribute may have among a design's rows (each level but the
/// reference is a column, and a design holds at most [`MAX_COLUMNS`] columns). Counting stops
/// at the limit, so that a column of free text costs no more than this.
pub const MAX_LEVELS: usize = 1_000;

/// How one attribute enters a design.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Term {
    Numeric,
    Standardised,
    Categorical,
}

/// Says which attributes of an [`AttributeTable`] become which columns of a [`DesignMatrix`],
/// then [`build`](Self::build)s the design for a list of customers.
///
/// - [`numeric`](Self::numeric): the value as it is, one column named as the attribute;
/// - [`standardised`](Self::standardised): z = (v − mean) / sd, one column named as the
///   attribute, the mean and the sample standard deviation (divisor n − 1) taken over the rows
///   of the design and recorded in its [`Encoding`];
/// - [`categorical`](Self::categorical): one 0/1 dummy column per level except the reference
///   level, named `<attribute>=<level>`, in the levels' sorted order. The reference level is the
///   most frequent level among the rows (ties: the first in sorted order) unless
///   [`reference`](Self::reference) states it.
///
/// No intercept column is added, nor accepted: the models' own scale parameters are the
/// intercept, which is why a categorical attribute loses its reference level's dummy, and why
/// a constant column, a one-level category, or columns that add up to a constant or to another
/// column are refused ([`DesignMatrix::check_identifiable`]).
///
/// The builder's steps cannot fail; [`build`](Self::build) checks everything at once.
///
/// ```
/// use customer_assets::covariates::{AttributeTable, AttributeValue, DesignBuilder};
/// use customer_assets::CustomerId;
/// let mut table = AttributeTable::new();
/// for (id, age, region) in [(1u64, 30.0, "north"), (2, 40.0, "south"), (3, 50.0, "north"), (4, 44.0, "east")] {
///     table.insert(CustomerId::from(id), "age", AttributeValue::number(age)?)?;
///     table.insert(CustomerId::from(id), "region", AttributeValue::category(region)?)?;
/// }
/// let ids: Vec<CustomerId> = (1u64..=4).map(CustomerId::from).collect();
/// let design = DesignBuilder::new()
///     .standardised("age")
///     .categorical("region") // reference: north, the most frequent level
///     .build(&table, &ids)?;
/// assert_eq!(design.matrix().names(), ["age", "region=east", "region=south"]);
/// assert_eq!(design.matrix().row(1)[1..], [0.0, 1.0]); // customer 2 is in the south
/// // A new customer, encoded as the design's rows were.
/// let new = [
///     ("age".to_string(), AttributeValue::number(41.0)?),
///     ("region".to_string(), AttributeValue::category("south")?),
/// ].into_iter().collect();
/// let row = design.encoding().encode(&new)?;
/// assert_eq!(row[1..], [0.0, 1.0]);
/// # Ok::<(), customer_assets::covariates::CovariateError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DesignBuilder {
    terms: Vec<(String, Term)>,
    references: Vec<(String, String)>,
}

impl DesignBuilder {
    /// A design with no attribute yet.
    pub fn new() -> Self {
        DesignBuilder::default()
    }

    /// Every attribute of `table`, in name order: numeric attributes as they are, categorical
    /// ones with their default reference level (`clv`'s default design).
    pub fn all(table: &AttributeTable) -> Self {
        let mut builder = DesignBuilder::new();
        for (name, kind) in table.attributes() {
            builder = match kind {
                AttributeKind::Numeric => builder.numeric(name),
                AttributeKind::Categorical => builder.categorical(name),
            };
        }
        builder
    }

    /// Adds numeric attribute `name` as it is.
    pub fn numeric(mut self, name: &str) -> Self {
        self.terms.push((name.to_string(), Term::Numeric));
        self
    }

    /// Adds numeric attribute `name`, standardised over the design's rows.
    pub fn standardised(mut self, name: &str) -> Self {
        self.terms.push((name.to_string(), Term::Standardised));
        self
    }

    /// Adds categorical attribute `name` as dummies against its reference level.
    pub fn categorical(mut self, name: &str) -> Self {
        self.terms.push((name.to_string(), Term::Categorical));
        self
    }

    /// States the reference level of categorical attribute `name` (the last statement for an
    /// attribute holds).
    pub fn reference(mut self, name: &str, level: &str) -> Self {
        self.references.push((name.to_string(), level.to_string()));
        self
    }

    /// The design for customers `ids`, one row each, in the order of `ids` (a summary's order,
    /// say), every value taken from `table`.
    ///
    /// # Errors
    /// - [`CovariateError::NoColumns`] when no attribute was added; [`CovariateError::Empty`]
    ///   when `ids` is empty;
    /// - [`CovariateError::BadName`] for an unusable name; [`CovariateError::DuplicateColumn`]
    ///   for an attribute added twice (or two columns that end up with one name);
    /// - [`CovariateError::UnknownAttribute`] for an attribute no customer of the table has;
    ///   [`CovariateError::WrongKind`] for a numeric term on a categorical attribute or the
    ///   reverse; [`CovariateError::ReferenceWithoutCategory`] for a reference level stated for
    ///   an attribute the design does not hold as categorical;
    /// - [`CovariateError::Missing`] naming the first customer (in `ids` order) without a value
    ///   of an attribute (attributes in the order added);
    /// - [`CovariateError::TooManyLevels`] beyond [`MAX_LEVELS`]; [`CovariateError::TooMany`]
    ///   beyond [`MAX_COLUMNS`] columns; [`CovariateError::UnknownLevel`] for a stated
    ///   reference level that no row has;
    /// - [`CovariateError::Constant`] for a constant column (a standardised one, or a category
    ///   with one level, named `<attribute>=<level>`) and [`CovariateError::Collinear`], from
    ///   [`DesignMatrix::check_identifiable`]; [`CovariateError::DuplicateCustomer`] for an id
    ///   given twice; [`CovariateError::NotFinite`] for a standardised value out of `f64`'s range.
    pub fn build(
        &self,
        table: &AttributeTable,
        ids: &[CustomerId],
    ) -> Result<Design, CovariateError> {
        if self.terms.is_empty() {
            return Err(CovariateError::NoColumns);
        }
        if ids.is_empty() {
            return Err(CovariateError::Empty);
        }
        let mut terms: Vec<(String, Term)> = Vec::with_capacity(self.terms.len());
        for (raw, term) in &self.terms {
            let name = check_attribute_name(raw)?;
            if terms.iter().any(|(n, _)| *n == name) {
                return Err(CovariateError::DuplicateColumn { name });
            }
            let expected = match term {
                Term::Numeric | Term::Standardised => AttributeKind::Numeric,
                Term::Categorical => AttributeKind::Categorical,
            };
            match table.kind(&name) {
                None => return Err(CovariateError::UnknownAttribute { attribute: name }),
                Some(kind) if kind != expected => {
                    return Err(CovariateError::WrongKind {
                        attribute: name,
                        customer: None,
                        expected: expected.name(),
                        found: kind.name(),
                    })
                }
                Some(_) => {}
            }
            terms.push((name, *term));
        }
        let mut references: BTreeMap<String, String> = BTreeMap::new();
        for (raw, level) in &self.references {
            let name = check_attribute_name(raw)?;
            if !terms
                .iter()
                .any(|(n, t)| *n == name && *t == Term::Categorical)
            {
                return Err(CovariateError::ReferenceWithoutCategory { attribute: name });
            }
            references.insert(name, level.trim().to_string());
        }

        let mut columns: Vec<EncodedColumn> = Vec::new();
        for (name, term) in &terms {
            let value_of = |id: &CustomerId| {
                table.get(id, name).ok_or_else(|| CovariateError::Missing {
                    customer: id.to_string(),
                    attribute: name.clone(),
                })
            };
            match term {
                Term::Numeric => {
                    for id in ids {
                        value_of(id)?;
                    }
                    push(
                        &mut columns,
                        EncodedColumn::Numeric {
                            attribute: name.clone(),
                        },
                    )?;
                }
                Term::Standardised => {
                    let values = ids
                        .iter()
                        .map(|id| value_of(id).map(|v| v.as_number().unwrap_or(f64::NAN)))
                        .collect::<Result<Vec<f64>, _>>()?;
                    let (mean, sd) = mean_sd(name, &values)?;
                    push(
                        &mut columns,
                        EncodedColumn::Standardised {
                            attribute: name.clone(),
                            mean,
                            sd,
                        },
                    )?;
                }
                Term::Categorical => {
                    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                    for id in ids {
                        let level = value_of(id)?.as_category().unwrap_or_default();
                        let full = counts.len() >= MAX_LEVELS;
                        match counts.get_mut(level) {
                            Some(count) => *count += 1,
                            None if full => {
                                return Err(CovariateError::TooManyLevels {
                                    attribute: name.clone(),
                                    limit: MAX_LEVELS,
                                })
                            }
                            None => {
                                counts.insert(level, 1);
                            }
                        }
                    }
                    let reference = match references.get(name) {
                        Some(level) if counts.contains_key(level.as_str()) => level.clone(),
                        Some(level) => {
                            return Err(CovariateError::UnknownLevel {
                                attribute: name.clone(),
                                level: level.clone(),
                            })
                        }
                        None => most_frequent(&counts).to_string(),
                    };
                    if counts.len() == 1 {
                        return Err(CovariateError::Constant {
                            column: format!("{name}={reference}"),
                            value: 1.0,
                            rows: ids.len(),
                        });
                    }
                    for level in counts.keys().filter(|l| **l != reference) {
                        push(
                            &mut columns,
                            EncodedColumn::Dummy {
                                attribute: name.clone(),
                                level: level.to_string(),
                                reference: reference.clone(),
                            },
                        )?;
                    }
                }
            }
        }
        let encoding = Encoding { columns };
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            let values = table.customer(id);
            rows.push(
                encoding.encode_with(|name| values.and_then(|v| v.get(name)), || id.to_string())?,
            );
        }
        let matrix = DesignMatrix::new(encoding.names(), ids.to_vec(), rows)?;
        matrix.check_identifiable()?;
        Ok(Design { matrix, encoding })
    }
}

/// Adds a column, refusing one past [`MAX_COLUMNS`].
fn push(columns: &mut Vec<EncodedColumn>, column: EncodedColumn) -> Result<(), CovariateError> {
    if columns.len() >= MAX_COLUMNS {
        return Err(CovariateError::TooMany {
            what: "design matrix columns",
            count: columns.len() + 1,
            limit: MAX_COLUMNS,
        });
    }
    columns.push(column);
    Ok(())
}

/// The most frequent level; ties go to the first in sorted order (`counts` is sorted).
fn most_frequent<'a>(counts: &BTreeMap<&'a str, usize>) -> &'a str {
    let mut best: Option<(&str, usize)> = None;
    for (level, count) in counts {
        if best.is_none_or(|(_, c)| *count > c) {
            best = Some((level, *count));
        }
    }
    best.map_or("", |(level, _)| level)
}

/// The mean and sample standard deviation of column `name`: the plain sums when they stay
/// finite, else the sums of the values divided by their largest magnitude (no overflow). A
/// column whose values are all equal is [`CovariateError::Constant`].
fn mean_sd(name: &str, values: &[f64]) -> Result<(f64, f64), CovariateError> {
    let first = values.first().copied().unwrap_or(0.0);
    if values.iter().all(|v| *v == first) {
        return Err(CovariateError::Constant {
            column: name.to_string(),
            value: first,
            rows: values.len(),
        });
    }
    let n = values.len() as f64;
    let moments = |scale: f64| {
        let mean = values.iter().map(|v| v / scale).sum::<f64>() / n;
        let var = values
            .iter()
            .map(|v| (v / scale - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0);
        (mean, var)
    };
    let (mut mean, var) = moments(1.0);
    let mut sd = var.sqrt();
    if !(mean.is_finite() && sd.is_finite()) {
        let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let (m, v) = moments(scale);
        (mean, sd) = (m * scale, v.sqrt() * scale);
    }
    if !(sd.is_finite() && sd > 0.0 && mean.is_finite()) {
        return Err(CovariateError::NotFinite {
            attribute: name.to_string(),
            customer: None,
            value: sd,
        });
    }
    Ok((mean, sd))
}

/// How one column of a design was made from the attributes.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum EncodedColumn {
    /// The numeric attribute as it is; the column is named as the attribute.
    Numeric {
        /// The attribute.
        attribute: String,
    },
    /// The numeric attribute standardised: (v − mean) / sd; the column is named as the
    /// attribute.
    Standardised {
        /// The attribute.
        attribute: String,
        /// The mean over the design's rows.
        mean: f64,
        /// The sample standard deviation over the design's rows (positive).
        sd: f64,
    },
    /// 1 when the categorical attribute takes `level`, else 0; the column is named
    /// `<attribute>=<level>`.
    Dummy {
        /// The attribute.
        attribute: String,
        /// The level the column stands for.
        level: String,
        /// The attribute's reference level: the level without a column, which every dummy of
        /// the attribute is 0 for.
        reference: String,
    },
}

impl EncodedColumn {
    /// The attribute the column comes from.
    pub fn attribute(&self) -> &str {
        match self {
            EncodedColumn::Numeric { attribute }
            | EncodedColumn::Standardised { attribute, .. }
            | EncodedColumn::Dummy { attribute, .. } => attribute,
        }
    }

    /// The column's name: the attribute, or `<attribute>=<level>` for a dummy.
    pub fn name(&self) -> String {
        match self {
            EncodedColumn::Dummy {
                attribute, level, ..
            } => format!("{attribute}={level}"),
            other => other.attribute().to_string(),
        }
    }
}

/// How each column of a [`Design`] was made, in column order: it encodes any customer's
/// attributes into a row exactly as the design's own rows were made (the same mean and sd, the
/// same levels and reference levels). Serializable, to be stored beside a fitted model.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "EncodingRaw", into = "EncodingRaw")
)]
pub struct Encoding {
    columns: Vec<EncodedColumn>,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct EncodingRaw {
    columns: Vec<EncodedColumn>,
}

#[cfg(feature = "serde")]
impl TryFrom<EncodingRaw> for Encoding {
    type Error = CovariateError;
    fn try_from(raw: EncodingRaw) -> Result<Self, Self::Error> {
        Encoding::new(raw.columns)
    }
}

#[cfg(feature = "serde")]
impl From<Encoding> for EncodingRaw {
    fn from(encoding: Encoding) -> Self {
        EncodingRaw {
            columns: encoding.columns,
        }
    }
}

impl Encoding {
    /// An encoding of these columns (as a [`Design`] makes them; this constructor is for
    /// encodings stored elsewhere).
    ///
    /// # Errors
    /// [`CovariateError::NoColumns`] for none; [`CovariateError::TooMany`] beyond
    /// [`MAX_COLUMNS`]; [`CovariateError::BadName`] or [`CovariateError::BadCategory`] for an
    /// unusable attribute name or level (or a dummy standing for its reference level, dummies of
    /// one attribute stating different reference levels or not side by side);
    /// [`CovariateError::NotFinite`] for a mean or sd that is not finite (or an sd ≤ 0);
    /// [`CovariateError::DuplicateColumn`] for two columns of one name;
    /// [`CovariateError::WrongKind`] for an attribute with both numeric and dummy columns.
    pub fn new(columns: Vec<EncodedColumn>) -> Result<Self, CovariateError> {
        if columns.is_empty() {
            return Err(CovariateError::NoColumns);
        }
        if columns.len() > MAX_COLUMNS {
            return Err(CovariateError::TooMany {
                what: "design matrix columns",
                count: columns.len(),
                limit: MAX_COLUMNS,
            });
        }
        let mut kinds: BTreeMap<&str, AttributeKind> = BTreeMap::new();
        let mut names = std::collections::BTreeSet::new();
        for (j, column) in columns.iter().enumerate() {
            let attribute = column.attribute();
            if check_attribute_name(attribute)? != attribute {
                return Err(CovariateError::BadName {
                    name: attribute.to_string(),
                    reason: "it has surrounding white space",
                });
            }
            let bad = |value: &str, reason| CovariateError::BadCategory {
                attribute: attribute.to_string(),
                customer: None,
                value: value.to_string(),
                reason,
            };
            let kind = match column {
                EncodedColumn::Numeric { .. } => AttributeKind::Numeric,
                EncodedColumn::Standardised { mean, sd, .. } => {
                    if !(mean.is_finite() && sd.is_finite() && *sd > 0.0) {
                        return Err(CovariateError::NotFinite {
                            attribute: attribute.to_string(),
                            customer: None,
                            value: if mean.is_finite() { *sd } else { *mean },
                        });
                    }
                    AttributeKind::Numeric
                }
                EncodedColumn::Dummy {
                    level, reference, ..
                } => {
                    for label in [level, reference] {
                        match AttributeValue::category(label) {
                            Ok(v) if v.as_category() == Some(label.as_str()) => {}
                            Ok(_) => return Err(bad(label, "it has surrounding white space")),
                            Err(AttributeError::BadCategory { reason, .. }) => {
                                return Err(bad(label, reason))
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    if level == reference {
                        return Err(bad(level, "a dummy stands for the reference level"));
                    }
                    if kinds.get(attribute) == Some(&AttributeKind::Categorical) {
                        match &columns[j - 1] {
                            EncodedColumn::Dummy {
                                attribute: a,
                                reference: r,
                                ..
                            } if a == attribute => {
                                if r != reference {
                                    return Err(bad(
                                        reference,
                                        "the dummies of one attribute state different reference levels",
                                    ));
                                }
                            }
                            _ => {
                                return Err(bad(
                                    level,
                                    "the dummies of one attribute are not side by side",
                                ))
                            }
                        }
                    }
                    AttributeKind::Categorical
                }
            };
            match kinds.insert(attribute, kind) {
                Some(held) if held != kind => {
                    return Err(CovariateError::WrongKind {
                        attribute: attribute.to_string(),
                        customer: None,
                        expected: held.name(),
                        found: kind.name(),
                    })
                }
                _ => {}
            }
            let name = column.name();
            if !names.insert(name.clone()) {
                return Err(CovariateError::DuplicateColumn { name });
            }
        }
        Ok(Encoding { columns })
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[EncodedColumn] {
        &self.columns
    }

    /// The column names, in order (those of the design's matrix).
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(EncodedColumn::name).collect()
    }

    /// The reference level of categorical attribute `attribute`, when the encoding holds it.
    pub fn reference(&self, attribute: &str) -> Option<&str> {
        self.columns.iter().find_map(|c| match c {
            EncodedColumn::Dummy {
                attribute: a,
                reference,
                ..
            } if a == attribute => Some(reference.as_str()),
            _ => None,
        })
    }

    /// A customer's row, from its attributes by name (such as
    /// [`AttributeTable::customer`] gives, or [`customer_attributes`]); attributes the
    /// encoding does not use are ignored.
    ///
    /// # Errors
    /// [`CovariateError::Missing`] for an attribute the encoding needs (the customer is not
    /// named: see [`encode_customer`](Self::encode_customer)); [`CovariateError::WrongKind`]
    /// for a value of the other kind; [`CovariateError::UnseenLevel`] for a level that is neither
    /// the reference level nor one with a column (the design's data never had it, so no
    /// coefficient stands for it); [`CovariateError::NotFinite`] for a non-finite value (built
    /// from the enum's variants) or standardised value.
    pub fn encode(
        &self,
        attributes: &BTreeMap<String, AttributeValue>,
    ) -> Result<Vec<f64>, CovariateError> {
        self.encode_with(|name| attributes.get(name), String::new)
    }

    /// A customer's row, from [`customer_attributes`] (typed attributes, channel and region);
    /// errors name the customer.
    ///
    /// # Errors
    /// As [`customer_attributes`] and [`encode`](Self::encode).
    pub fn encode_customer(&self, customer: &Customer) -> Result<Vec<f64>, CovariateError> {
        let values = customer_attributes(customer)?;
        self.encode_with(|name| values.get(name), || customer.id().to_string())
    }

    /// The row of the values `value_of` gives; `customer` names the customer in errors.
    fn encode_with<'v>(
        &self,
        value_of: impl Fn(&str) -> Option<&'v AttributeValue>,
        customer: impl Fn() -> String,
    ) -> Result<Vec<f64>, CovariateError> {
        let mut row = Vec::with_capacity(self.columns.len());
        let mut columns = self.columns.iter().peekable();
        while let Some(column) = columns.next() {
            let attribute = column.attribute();
            let value = value_of(attribute).ok_or_else(|| CovariateError::Missing {
                customer: customer(),
                attribute: attribute.to_string(),
            })?;
            let wrong = |expected: AttributeKind| CovariateError::WrongKind {
                attribute: attribute.to_string(),
                customer: Some(customer()).filter(|c| !c.is_empty()),
                expected: expected.name(),
                found: value.kind().name(),
            };
            let not_finite = |value: f64| CovariateError::NotFinite {
                attribute: attribute.to_string(),
                customer: Some(customer()).filter(|c| !c.is_empty()),
                value,
            };
            match column {
                EncodedColumn::Numeric { .. } | EncodedColumn::Standardised { .. } => {
                    let v = value
                        .as_number()
                        .ok_or_else(|| wrong(AttributeKind::Numeric))?;
                    if !v.is_finite() {
                        return Err(not_finite(v));
                    }
                    let x = match column {
                        EncodedColumn::Standardised { mean, sd, .. } => (v - mean) / sd,
                        _ => v,
                    };
                    if !x.is_finite() {
                        return Err(not_finite(x));
                    }
                    row.push(x + 0.0);
                }
                EncodedColumn::Dummy {
                    level, reference, ..
                } => {
                    let label = value
                        .as_category()
                        .ok_or_else(|| wrong(AttributeKind::Categorical))?
                        .trim();
                    // The attribute's dummies are side by side (checked by `new`).
                    let mut seen = label == reference;
                    let mut dummy = |level: &String| {
                        let hit = label == level;
                        seen |= hit;
                        row.push(if hit { 1.0 } else { 0.0 });
                    };
                    dummy(level);
                    while let Some(EncodedColumn::Dummy { level, .. }) =
                        columns.next_if(|c| c.attribute() == attribute)
                    {
                        dummy(level);
                    }
                    if !seen {
                        return Err(CovariateError::UnseenLevel {
                            attribute: attribute.to_string(),
                            level: label.to_string(),
                        });
                    }
                }
            }
        }
        Ok(row)
    }
}

/// A design: the [`DesignMatrix`] of the customers it was built for, and the [`Encoding`] that
/// made its columns (to encode other customers the same way, and to say what each coefficient
/// means). Built by [`DesignBuilder::build`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "DesignRaw", into = "DesignRaw"))]
pub struct Design {
    matrix: DesignMatrix,
    encoding: Encoding,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct DesignRaw {
    matrix: DesignMatrix,
    encoding: Encoding,
}

#[cfg(feature = "serde")]
impl TryFrom<DesignRaw> for Design {
    type Error = CovariateError;
    fn try_from(raw: DesignRaw) -> Result<Self, Self::Error> {
        let names = raw.encoding.names();
        if raw.matrix.names() != names.as_slice() {
            return Err(CovariateError::BadName {
                name: raw.matrix.names().join(","),
                reason: "the matrix's column names are not those of the encoding",
            });
        }
        Ok(Design {
            matrix: raw.matrix,
            encoding: raw.encoding,
        })
    }
}

#[cfg(feature = "serde")]
impl From<Design> for DesignRaw {
    fn from(design: Design) -> Self {
        DesignRaw {
            matrix: design.matrix,
            encoding: design.encoding,
        }
    }
}

impl Design {
    /// The matrix: one row per customer, in the order the design was built for.
    pub fn matrix(&self) -> &DesignMatrix {
        &self.matrix
    }

    /// How each column was made.
    pub fn encoding(&self) -> &Encoding {
        &self.encoding
    }

    /// The matrix and the encoding.
    pub fn into_parts(self) -> (DesignMatrix, Encoding) {
        (self.matrix, self.encoding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(n: u64) -> CustomerId {
        CustomerId::from(n)
    }

    fn ids(n: u64) -> Vec<CustomerId> {
        (1..=n).map(id).collect()
    }

    /// Customers 1..: age and region.
    fn table(rows: &[(f64, &str)]) -> AttributeTable {
        let mut t = AttributeTable::new();
        for (i, (age, region)) in rows.iter().enumerate() {
            let c = id(i as u64 + 1);
            t.insert(c.clone(), "age", AttributeValue::Number(*age))
                .unwrap();
            t.insert(c, "region", AttributeValue::category(region).unwrap())
                .unwrap();
        }
        t
    }

    fn values(pairs: &[(&str, AttributeValue)]) -> BTreeMap<String, AttributeValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn dummies_stand_for_every_level_but_the_most_frequent() {
        let t = table(&[
            (30.0, "north"),
            (40.0, "south"),
            (50.0, "north"),
            (44.0, "east"),
            (31.0, "north"),
            (39.0, "south"),
        ]);
        let d = DesignBuilder::new()
            .categorical("region")
            .build(&t, &ids(6))
            .unwrap();
        assert_eq!(d.matrix().names(), ["region=east", "region=south"]);
        assert_eq!(d.encoding().reference("region"), Some("north"));
        let rows: Vec<&[f64]> = (0..6).map(|i| d.matrix().row(i)).collect();
        assert_eq!(
            rows,
            [
                &[0.0, 0.0][..],
                &[0.0, 1.0],
                &[0.0, 0.0],
                &[1.0, 0.0],
                &[0.0, 0.0],
                &[0.0, 1.0]
            ]
        );
        assert_eq!(
            d.encoding().columns()[0],
            EncodedColumn::Dummy {
                attribute: "region".into(),
                level: "east".into(),
                reference: "north".into()
            }
        );
        // A stated reference level.
        let d = DesignBuilder::new()
            .categorical("region")
            .reference("region", " south ")
            .build(&t, &ids(6))
            .unwrap();
        assert_eq!(d.matrix().names(), ["region=east", "region=north"]);
        let err = DesignBuilder::new()
            .categorical("region")
            .reference("region", "west")
            .build(&t, &ids(6))
            .unwrap_err();
        assert_eq!(
            err,
            CovariateError::UnknownLevel {
                attribute: "region".into(),
                level: "west".into()
            }
        );
        let err = DesignBuilder::new()
            .numeric("age")
            .reference("age", "30")
            .build(&t, &ids(6))
            .unwrap_err();
        assert!(
            matches!(err, CovariateError::ReferenceWithoutCategory { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_tie_for_the_most_frequent_level_goes_to_the_first_in_sorted_order() {
        let t = table(&[(1.0, "b"), (2.0, "a"), (3.0, "c"), (4.0, "b"), (5.0, "a")]);
        let d = DesignBuilder::new()
            .categorical("region")
            .build(&t, &ids(5))
            .unwrap();
        assert_eq!(d.encoding().reference("region"), Some("a"));
        assert_eq!(d.matrix().names(), ["region=b", "region=c"]);
        // Levels are counted over the rows of the design only.
        let d = DesignBuilder::new()
            .categorical("region")
            .build(&t, &[id(1), id(3), id(4)])
            .unwrap();
        assert_eq!(d.encoding().reference("region"), Some("b"));
    }

    #[test]
    fn standardised_columns_record_their_mean_and_sd() {
        let t = table(&[(30.0, "n"), (40.0, "s"), (50.0, "n"), (44.0, "s")]);
        let d = DesignBuilder::new()
            .standardised("age")
            .numeric("age ")
            .build(&t, &ids(4));
        assert_eq!(
            d.unwrap_err(),
            CovariateError::DuplicateColumn { name: "age".into() }
        );
        let d = DesignBuilder::new()
            .standardised("age")
            .build(&t, &ids(4))
            .unwrap();
        let EncodedColumn::Standardised { mean, sd, .. } = d.encoding().columns()[0] else {
            panic!("{:?}", d.encoding())
        };
        assert!((mean - 41.0).abs() < 1e-12, "{mean}");
        let expected_sd = (212.0f64 / 3.0).sqrt();
        assert!((sd - expected_sd).abs() < 1e-12, "{sd}");
        let z: Vec<f64> = (0..4).map(|i| d.matrix().row(i)[0]).collect();
        for (z, age) in z.iter().zip([30.0, 40.0, 50.0, 44.0]) {
            assert!((z - (age - 41.0) / expected_sd).abs() < 1e-12);
        }
        assert!(z.iter().sum::<f64>().abs() < 1e-12);
        let var = z.iter().map(|z| z * z).sum::<f64>() / 3.0;
        assert!((var - 1.0).abs() < 1e-12, "{var}");
        // Raw numeric values pass as they are.
        let d = DesignBuilder::new()
            .numeric("age")
            .build(&t, &ids(4))
            .unwrap();
        assert_eq!(d.matrix().row(3), [44.0]);
        // Huge values do not overflow the sums.
        let t = table(&[(1e308, "n"), (-1e308, "s"), (5e307, "n")]);
        let d = DesignBuilder::new()
            .standardised("age")
            .build(&t, &ids(3))
            .unwrap();
        assert!((0..3).all(|i| d.matrix().row(i)[0].is_finite()));
    }

    #[test]
    fn constant_columns_and_one_level_categories_are_refused() {
        let t = table(&[(5.0, "gold"), (5.0, "gold"), (5.0, "gold")]);
        for builder in [
            DesignBuilder::new().numeric("age"),
            DesignBuilder::new().standardised("age"),
        ] {
            let err = builder.build(&t, &ids(3)).unwrap_err();
            assert_eq!(
                err,
                CovariateError::Constant {
                    column: "age".into(),
                    value: 5.0,
                    rows: 3
                }
            );
        }
        let err = DesignBuilder::new()
            .categorical("region")
            .build(&t, &ids(3))
            .unwrap_err();
        assert!(
            matches!(&err, CovariateError::Constant { column, .. } if column == "region=gold"),
            "{err}"
        );
        assert!(err.to_string().contains("region=gold"), "{err}");
    }

    #[test]
    fn collinear_columns_are_refused() {
        // A flag that is the sum of two dummies.
        let mut t = table(&[
            (30.0, "north"),
            (40.0, "south"),
            (50.0, "east"),
            (44.0, "north"),
            (35.0, "south"),
        ]);
        for (i, flag) in [0.0, 1.0, 1.0, 0.0, 1.0].into_iter().enumerate() {
            t.insert(
                id(i as u64 + 1),
                "south_or_east",
                AttributeValue::Number(flag),
            )
            .unwrap();
        }
        let err = DesignBuilder::new()
            .categorical("region")
            .numeric("south_or_east")
            .build(&t, &ids(5))
            .unwrap_err();
        assert!(
            matches!(&err, CovariateError::Collinear { column, .. } if column == "south_or_east"),
            "{err}"
        );
        // A numeric column that is an affine function of another.
        for (i, age) in [30.0, 40.0, 50.0, 44.0, 35.0].into_iter().enumerate() {
            t.insert(
                id(i as u64 + 1),
                "months",
                AttributeValue::Number(12.0 * age + 6.0),
            )
            .unwrap();
        }
        let err = DesignBuilder::new()
            .numeric("age")
            .standardised("months")
            .build(&t, &ids(5))
            .unwrap_err();
        assert!(
            matches!(&err, CovariateError::Collinear { column, .. } if column == "months"),
            "{err}"
        );
        // Together with the region they are fine.
        DesignBuilder::new()
            .numeric("age")
            .categorical("region")
            .build(&t, &ids(5))
            .unwrap();
    }

    #[test]
    fn missing_unknown_and_mistyped_attributes_are_typed_errors() {
        let mut t = table(&[(30.0, "n"), (40.0, "s"), (50.0, "n")]);
        t.insert(id(4), "region", AttributeValue::category("s").unwrap())
            .unwrap();
        let err = DesignBuilder::new()
            .numeric("age")
            .build(&t, &ids(4))
            .unwrap_err();
        assert_eq!(
            err,
            CovariateError::Missing {
                customer: "4".into(),
                attribute: "age".into()
            }
        );
        assert_eq!(err.to_string(), "customer 4 has no value for attribute age");
        // A customer absent from the table altogether.
        let err = DesignBuilder::new()
            .categorical("region")
            .build(&t, &[id(1), id(9)])
            .unwrap_err();
        assert!(matches!(err, CovariateError::Missing { ref customer, .. } if customer == "9"));
        let cases = [
            (
                DesignBuilder::new().numeric("income"),
                CovariateError::UnknownAttribute {
                    attribute: "income".into(),
                },
            ),
            (
                DesignBuilder::new().numeric("region"),
                CovariateError::WrongKind {
                    attribute: "region".into(),
                    customer: None,
                    expected: "numeric",
                    found: "categorical",
                },
            ),
            (
                DesignBuilder::new().categorical("age"),
                CovariateError::WrongKind {
                    attribute: "age".into(),
                    customer: None,
                    expected: "categorical",
                    found: "numeric",
                },
            ),
            (DesignBuilder::new(), CovariateError::NoColumns),
        ];
        for (builder, expected) in cases {
            assert_eq!(builder.build(&t, &ids(3)).unwrap_err(), expected);
        }
        assert!(matches!(
            DesignBuilder::new().numeric(" ").build(&t, &ids(3)),
            Err(CovariateError::BadName { .. })
        ));
        assert_eq!(
            DesignBuilder::new().categorical("region").build(&t, &[]),
            Err(CovariateError::Empty)
        );
        assert_eq!(
            DesignBuilder::new()
                .categorical("region")
                .build(&t, &[id(1), id(2), id(1)]),
            Err(CovariateError::DuplicateCustomer {
                customer: "1".into()
            })
        );
    }

    #[test]
    fn level_and_column_counts_are_bounded() {
        let mut t = AttributeTable::new();
        for i in 0..=MAX_LEVELS as u64 {
            t.insert(
                id(i + 1),
                "code",
                AttributeValue::category(&format!("c{i}")).unwrap(),
            )
            .unwrap();
        }
        let all = ids(MAX_LEVELS as u64 + 1);
        let err = DesignBuilder::new()
            .categorical("code")
            .build(&t, &all)
            .unwrap_err();
        assert_eq!(
            err,
            CovariateError::TooManyLevels {
                attribute: "code".into(),
                limit: MAX_LEVELS
            }
        );
        let err = DesignBuilder::new()
            .categorical("code")
            .build(&t, &all[..300])
            .unwrap_err();
        assert!(
            matches!(
                err,
                CovariateError::TooMany {
                    limit: MAX_COLUMNS,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn all_takes_every_attribute_by_its_kind() {
        let t = table(&[(30.0, "n"), (40.0, "s"), (50.0, "n")]);
        let d = DesignBuilder::all(&t).build(&t, &ids(3)).unwrap();
        assert_eq!(d.matrix().names(), ["age", "region=s"]);
        assert!(matches!(
            d.encoding().columns()[0],
            EncodedColumn::Numeric { .. }
        ));
        assert_eq!(
            DesignBuilder::all(&AttributeTable::new()).build(&t, &ids(3)),
            Err(CovariateError::NoColumns)
        );
    }

    #[test]
    fn encoding_a_new_customer_checks_levels_kinds_and_presence() {
        let t = table(&[(30.0, "n"), (40.0, "s"), (50.0, "n"), (35.0, "e")]);
        let d = DesignBuilder::new()
            .standardised("age")
            .categorical("region")
            .build(&t, &ids(4))
            .unwrap();
        let e = d.encoding();
        let row = e
            .encode(&values(&[
                ("age", AttributeValue::Number(38.75)),
                ("region", AttributeValue::category("n").unwrap()),
                ("unused", AttributeValue::Number(1.0)),
            ]))
            .unwrap();
        assert_eq!(row, [0.0, 0.0, 0.0]);
        let err = e
            .encode(&values(&[
                ("age", AttributeValue::Number(38.0)),
                ("region", AttributeValue::category("w").unwrap()),
            ]))
            .unwrap_err();
        assert_eq!(
            err,
            CovariateError::UnseenLevel {
                attribute: "region".into(),
                level: "w".into()
            }
        );
        let err = e
            .encode(&values(&[("age", AttributeValue::Number(38.0))]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the customer has no value for attribute region"
        );
        let err = e
            .encode(&values(&[
                ("age", AttributeValue::category("old").unwrap()),
                ("region", AttributeValue::category("n").unwrap()),
            ]))
            .unwrap_err();
        assert!(matches!(err, CovariateError::WrongKind { .. }), "{err}");
        let err = e
            .encode(&values(&[
                ("age", AttributeValue::Number(f64::NAN)),
                ("region", AttributeValue::category("n").unwrap()),
            ]))
            .unwrap_err();
        assert!(matches!(err, CovariateError::NotFinite { .. }), "{err}");
        // A customer record: errors name it.
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let c = Customer::builder(id(7), day).region("s").build();
        let err = e.encode_customer(&c).unwrap_err();
        assert_eq!(err.to_string(), "customer 7 has no value for attribute age");
        let c = Customer::builder(id(7), day)
            .region("s")
            .attribute("age", AttributeValue::Number(40.0))
            .unwrap()
            .build();
        assert_eq!(e.encode_customer(&c).unwrap()[1..], [0.0, 1.0]);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn designs_and_encodings_round_trip_and_are_checked_on_the_way_in() {
        let t = table(&[(30.0, "n"), (40.0, "s"), (50.0, "n"), (35.0, "e")]);
        let d = DesignBuilder::new()
            .standardised("age")
            .categorical("region")
            .build(&t, &ids(4))
            .unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Design>(&json).unwrap(), d);
        let e = serde_json::to_value(d.encoding()).unwrap();
        assert_eq!(e["columns"][1]["kind"], "dummy");
        assert_eq!(e["columns"][1]["reference"], "n");
        assert_eq!(
            serde_json::from_value::<Encoding>(e).unwrap(),
            *d.encoding()
        );
        let bad = [
            r#"{"columns":[]}"#,
            r#"{"columns":[{"kind":"standardised","attribute":"a","mean":0.0,"sd":0.0}]}"#,
            r#"{"columns":[{"kind":"numeric","attribute":"a"},{"kind":"numeric","attribute":"a"}]}"#,
            r#"{"columns":[{"kind":"dummy","attribute":"a","level":"x","reference":"x"}]}"#,
            r#"{"columns":[{"kind":"dummy","attribute":"a","level":"x","reference":"y"},
                {"kind":"dummy","attribute":"a","level":"z","reference":"w"}]}"#,
            r#"{"columns":[{"kind":"dummy","attribute":"a","level":"x","reference":"y"},
                {"kind":"numeric","attribute":"b"},
                {"kind":"dummy","attribute":"a","level":"z","reference":"y"}]}"#,
            r#"{"columns":[{"kind":"numeric","attribute":"a"},
                {"kind":"dummy","attribute":"a","level":"z","reference":"y"}]}"#,
            r#"{"columns":[{"kind":"dummy","attribute":"a","level":" x","reference":"y"}]}"#,
            r#"{"columns":[{"kind":"numeric","attribute":" a"}]}"#,
        ];
        for text in bad {
            assert!(serde_json::from_str::<Encoding>(text).is_err(), "{text}");
        }
        let mut other = serde_json::to_value(&d).unwrap();
        other["encoding"]["columns"][0]["attribute"] = "years".into();
        assert!(serde_json::from_value::<Design>(other).is_err());
    }

    fn arb_customers() -> impl Strategy<Value = Vec<(u64, f64, u8, bool)>> {
        prop::collection::vec((0u64..1_000, -1e6f64..1e6, 0u8..4, any::<bool>()), 2..40)
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(128))]

        /// The rows follow `ids`, whatever the order the table was filled in; and encoding a
        /// customer's own attributes gives its row.
        #[test]
        fn rows_do_not_depend_on_insert_order_and_encoding_reproduces_them(
            customers in arb_customers(),
            seed in any::<u64>(),
        ) {
            let mut entries = Vec::new();
            for (n, age, level, flag) in &customers {
                let c = id(*n);
                entries.push((c.clone(), "age", AttributeValue::Number(age.round())));
                entries.push((c.clone(), "level", AttributeValue::Category(format!("l{level}"))));
                entries.push((c, "flag", AttributeValue::Category(flag.to_string())));
            }
            let fill = |entries: &[(CustomerId, &str, AttributeValue)]| {
                let mut t = AttributeTable::new();
                for (c, name, v) in entries {
                    t.insert(c.clone(), name, v.clone()).unwrap();
                }
                t
            };
            let mut shuffled = entries.clone();
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            // Later values replace earlier ones: keep each customer's last value first.
            let mut seen = std::collections::HashSet::new();
            let mut last: Vec<_> = entries
                .iter()
                .rev()
                .filter(|(c, name, _)| seen.insert((c.clone(), *name)))
                .cloned()
                .collect();
            last.reverse();
            let (a, b) = (fill(&last), fill(&shuffled_last(&shuffled, &last)));
            let mut order: Vec<CustomerId> = a.customers().cloned().collect();
            order.reverse();
            let builder = DesignBuilder::new().standardised("age").categorical("level").categorical("flag");
            let (da, db) = (builder.build(&a, &order), builder.build(&b, &order));
            prop_assert_eq!(&da, &db);
            if let Ok(d) = da {
                prop_assert_eq!(d.matrix().ids(), order.as_slice());
                for (i, c) in order.iter().enumerate() {
                    let row = d.encoding().encode(a.customer(c).unwrap()).unwrap();
                    prop_assert_eq!(row.as_slice(), d.matrix().row(i));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        /// Any table, any terms and any reference: a design or a typed error, never a panic;
        /// a design's rows are finite and each encodes back from its customer's values.
        #[test]
        fn any_input_gives_a_design_or_an_error(
            rows in prop::collection::vec(
                (
                    prop::option::weighted(0.995, prop_oneof![
                        (-1e3f64..1e3).prop_map(|v| v.round()),
                        any::<f64>(),
                    ]),
                    prop::option::weighted(0.995, "[ a-c]{0,2}"),
                    prop::option::weighted(0.995, prop_oneof![
                        any::<f64>().prop_map(AttributeValue::Number),
                        "[a-c]".prop_map(AttributeValue::Category),
                    ]),
                ),
                0..30,
            ),
            terms in prop::collection::btree_map(0usize..4, 0u8..3, 0..4),
            reference in prop::option::weighted(0.2, (0usize..4, "[ a-c]{0,2}")),
            mask in prop::collection::vec(prop::bool::weighted(0.9), 30),
        ) {
            let names = ["a", "b", "c", " "];
            let mut table = AttributeTable::new();
            let n = rows.len() as u64;
            for (c, (a, b, other)) in rows.into_iter().enumerate() {
                let c = id(c as u64);
                if let Some(a) = a {
                    let _ = table.insert(c.clone(), "a", AttributeValue::Number(a));
                }
                if let Some(b) = b {
                    let _ = table.insert(c.clone(), "b", AttributeValue::Category(b));
                }
                if let Some(other) = other {
                    let _ = table.insert(c, "c", other);
                }
            }
            let mut builder = DesignBuilder::new();
            for (name, term) in terms {
                builder = match term {
                    0 => builder.numeric(names[name]),
                    1 => builder.standardised(names[name]),
                    _ => builder.categorical(names[name]),
                };
            }
            if let Some((name, level)) = reference {
                builder = builder.reference(names[name], &level);
            }
            let ids: Vec<CustomerId> = (0..n).filter(|&c| mask[c as usize]).map(id).collect();
            if let Ok(d) = builder.build(&table, &ids) {
                for (i, c) in ids.iter().enumerate() {
                    prop_assert!(d.matrix().row(i).iter().all(|v| v.is_finite()));
                    let row = d.encoding().encode(table.customer(c).unwrap()).unwrap();
                    prop_assert_eq!(row.as_slice(), d.matrix().row(i));
                }
            }
            let _ = DesignBuilder::all(&table).build(&table, &ids);
        }
    }

    /// The shuffled entries, with each customer's attribute given its final value (the one in
    /// `last`), so that both tables hold the same values.
    fn shuffled_last(
        shuffled: &[(CustomerId, &'static str, AttributeValue)],
        last: &[(CustomerId, &'static str, AttributeValue)],
    ) -> Vec<(CustomerId, &'static str, AttributeValue)> {
        let fin: std::collections::HashMap<_, _> = last
            .iter()
            .map(|(c, n, v)| ((c.clone(), *n), v.clone()))
            .collect();
        shuffled
            .iter()
            .map(|(c, n, _)| (c.clone(), *n, fin[&(c.clone(), *n)].clone()))
            .collect()
    }
}
