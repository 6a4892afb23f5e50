//! The numeric covariates of a model: named columns, one row per customer.

use std::collections::{HashMap, HashSet};

use super::error::CovariateError;
use crate::records::{label_problem_reason, CustomerId, MAX_ATTRIBUTE_NAME_LEN, MAX_CATEGORY_LEN};

/// The most columns a design matrix holds: covariate models estimate one coefficient per column
/// and process, and a model with more is beyond what a customer base identifies.
pub const MAX_COLUMNS: usize = 256;

/// The longest column name, in characters: a dummy's name `<attribute>=<level>` holds an
/// attribute name and a category label.
pub const MAX_COLUMN_NAME_LEN: usize = MAX_ATTRIBUTE_NAME_LEN + 1 + MAX_CATEGORY_LEN;

/// Checks a column name: trimmed, not blank, no control character, at most
/// [`MAX_COLUMN_NAME_LEN`] characters.
fn check_name(name: &str) -> Result<String, CovariateError> {
    let trimmed = name.trim();
    match label_problem_reason(trimmed, MAX_COLUMN_NAME_LEN) {
        Some(reason) => Err(CovariateError::BadName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(trimmed.to_string()),
    }
}

/// Numeric covariates: named columns, one row per customer (row-major), every value finite.
///
/// It holds no intercept column: the models' own scale parameters are the intercept. Built by
/// a design builder from an [`AttributeTable`](super::AttributeTable), or directly with
/// [`DesignMatrix::new`]. [`check_identifiable`](Self::check_identifiable) refuses constant
/// and collinear columns.
///
/// ```
/// use customer_assets::covariates::DesignMatrix;
/// use customer_assets::CustomerId;
/// let ids = (1u64..=3).map(CustomerId::from).collect();
/// let x = DesignMatrix::new(vec!["female".into(), "age".into()], ids, vec![
///     vec![1.0, 34.0], vec![0.0, 51.0], vec![1.0, 27.0],
/// ])?;
/// assert_eq!(x.row_of(&CustomerId::from(2u64)), Some(&[0.0, 51.0][..]));
/// x.check_identifiable()?;
/// # Ok::<(), customer_assets::covariates::CovariateError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "MatrixRaw", into = "MatrixRaw"))]
pub struct DesignMatrix {
    names: Vec<String>,
    ids: Vec<CustomerId>,
    values: Vec<f64>,
    index: HashMap<CustomerId, usize>,
}

#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
struct MatrixRaw {
    names: Vec<String>,
    ids: Vec<CustomerId>,
    rows: Vec<Vec<f64>>,
}

#[cfg(feature = "serde")]
impl TryFrom<MatrixRaw> for DesignMatrix {
    type Error = CovariateError;
    fn try_from(raw: MatrixRaw) -> Result<Self, Self::Error> {
        DesignMatrix::new(raw.names, raw.ids, raw.rows)
    }
}

#[cfg(feature = "serde")]
impl From<DesignMatrix> for MatrixRaw {
    fn from(x: DesignMatrix) -> Self {
        let rows = (0..x.len()).map(|i| x.row(i).to_vec()).collect();
        MatrixRaw {
            names: x.names,
            ids: x.ids,
            rows,
        }
    }
}

impl DesignMatrix {
    /// A matrix of `rows` (one per id, each as long as `names`).
    ///
    /// # Errors
    /// [`CovariateError::BadName`] or [`CovariateError::DuplicateColumn`] for a column name,
    /// [`CovariateError::TooMany`] beyond [`MAX_COLUMNS`], [`CovariateError::RowLength`] when
    /// the ids and rows differ in number or a row in length, [`CovariateError::DuplicateCustomer`]
    /// and [`CovariateError::NotFinite`] naming the customer and column.
    pub fn new(
        names: Vec<String>,
        ids: Vec<CustomerId>,
        rows: Vec<Vec<f64>>,
    ) -> Result<Self, CovariateError> {
        if names.len() > MAX_COLUMNS {
            return Err(CovariateError::TooMany {
                what: "design matrix columns",
                count: names.len(),
                limit: MAX_COLUMNS,
            });
        }
        let mut seen = HashSet::new();
        let mut checked = Vec::with_capacity(names.len());
        for name in &names {
            let name = check_name(name)?;
            if !seen.insert(name.clone()) {
                return Err(CovariateError::DuplicateColumn { name });
            }
            checked.push(name);
        }
        if ids.len() != rows.len() {
            return Err(CovariateError::RowLength {
                row: ids.len().min(rows.len()),
                expected: checked.len(),
                found: 0,
            });
        }
        let k = checked.len();
        let mut values = Vec::with_capacity(rows.len().saturating_mul(k));
        let mut index = HashMap::with_capacity(ids.len());
        for (i, (id, row)) in ids.iter().zip(&rows).enumerate() {
            if row.len() != k {
                return Err(CovariateError::RowLength {
                    row: i,
                    expected: k,
                    found: row.len(),
                });
            }
            for (name, v) in checked.iter().zip(row) {
                if !v.is_finite() {
                    return Err(CovariateError::NotFinite {
                        attribute: name.clone(),
                        customer: Some(id.to_string()),
                        value: *v,
                    });
                }
                values.push(*v + 0.0);
            }
            if index.insert(id.clone(), i).is_some() {
                return Err(CovariateError::DuplicateCustomer {
                    customer: id.to_string(),
                });
            }
        }
        Ok(DesignMatrix {
            names: checked,
            ids,
            values,
            index,
        })
    }

    /// The column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of columns.
    pub fn columns(&self) -> usize {
        self.names.len()
    }

    /// The customers, in row order.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// The number of rows (customers).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the matrix has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Row `i`; empty beyond the last row.
    pub fn row(&self, i: usize) -> &[f64] {
        let k = self.names.len();
        self.values
            .get(i.saturating_mul(k)..i.saturating_mul(k).saturating_add(k))
            .unwrap_or(&[])
    }

    /// Customer `id`'s row.
    pub fn row_of(&self, id: &CustomerId) -> Option<&[f64]> {
        self.index.get(id).map(|&i| self.row(i))
    }

    /// The position of column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The matrix restricted to the columns `names`, in that order.
    ///
    /// # Errors
    /// [`CovariateError::UnknownAttribute`] for a name the matrix lacks,
    /// [`CovariateError::DuplicateColumn`] for a name given twice.
    pub fn select<S: AsRef<str>>(&self, names: &[S]) -> Result<DesignMatrix, CovariateError> {
        let mut at = Vec::with_capacity(names.len());
        for name in names {
            let name = name.as_ref().trim();
            let j = self
                .column_index(name)
                .ok_or_else(|| CovariateError::UnknownAttribute {
                    attribute: name.to_string(),
                })?;
            if at.contains(&j) {
                return Err(CovariateError::DuplicateColumn {
                    name: name.to_string(),
                });
            }
            at.push(j);
        }
        let k = self.names.len();
        let values = (0..self.len())
            .flat_map(|i| at.iter().map(move |&j| self.values[i * k + j]))
            .collect();
        Ok(DesignMatrix {
            names: at.iter().map(|&j| self.names[j].clone()).collect(),
            ids: self.ids.clone(),
            values,
            index: self.index.clone(),
        })
    }

    /// Refuses a design whose coefficients the data cannot tell apart: no rows
    /// ([`CovariateError::Empty`]), a constant column ([`CovariateError::Constant`]: it would
    /// duplicate the intercept), or a column that is a linear combination of the intercept and
    /// the columns before it ([`CovariateError::Collinear`], found by Gram–Schmidt on the
    /// centred columns with a relative tolerance of 1e-9).
    ///
    /// # Errors
    /// As above.
    pub fn check_identifiable(&self) -> Result<(), CovariateError> {
        let n = self.len();
        if n == 0 {
            return Err(CovariateError::Empty);
        }
        let k = self.columns();
        // Centred columns (orthogonal to the intercept), orthogonalised in turn.
        let mut basis: Vec<Vec<f64>> = Vec::with_capacity(k);
        let mut basis_names: Vec<String> = Vec::with_capacity(k);
        for j in 0..k {
            let column: Vec<f64> = (0..n).map(|i| self.values[i * k + j]).collect();
            let mean = column.iter().sum::<f64>() / n as f64;
            let mut v: Vec<f64> = column.iter().map(|c| c - mean).collect();
            let scale = column
                .iter()
                .fold(0.0f64, |m, c| m.max(c.abs()))
                .max(1e-300);
            let norm0 = v.iter().map(|c| c * c).sum::<f64>().sqrt();
            if norm0 <= 1e-12 * scale * (n as f64).sqrt() {
                return Err(CovariateError::Constant {
                    column: self.names[j].clone(),
                    value: column.first().copied().unwrap_or(0.0),
                    rows: n,
                });
            }
            let mut with = Vec::new();
            for (b, name) in basis.iter().zip(&basis_names) {
                let dot: f64 = v.iter().zip(b).map(|(x, y)| x * y).sum();
                if dot.abs() > 1e-12 * norm0 {
                    with.push(name.clone());
                }
                for (x, y) in v.iter_mut().zip(b) {
                    *x -= dot * y;
                }
            }
            let norm = v.iter().map(|c| c * c).sum::<f64>().sqrt();
            if norm <= 1e-9 * norm0 {
                return Err(CovariateError::Collinear {
                    column: self.names[j].clone(),
                    with,
                });
            }
            v.iter_mut().for_each(|x| *x /= norm);
            basis.push(v);
            basis_names.push(self.names[j].clone());
        }
        Ok(())
    }
}
