//! Which design columns enter which process, and the cells of customers that share covariates.

use std::collections::HashMap;

use super::family::CovariateFamily;
use crate::covariates::{CovariateError, DesignMatrix};
use crate::models::btyd::Prepared;
use crate::summary::Patterns;

/// What a coefficient scales.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Process {
    /// The purchase process only.
    Purchase,
    /// The dropout process only.
    Dropout,
    /// Both, with one coefficient (an equality constraint).
    Both,
}

/// The free coefficients of a fit: each one's column (in the combined column list) and process.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub family: CovariateFamily,
    /// The columns any process uses, in order (purchase columns first, then dropout-only ones).
    pub columns: Vec<String>,
    /// Per free coefficient: its column index in `columns` and its process.
    pub coefficients: Vec<(usize, Process)>,
}

impl Layout {
    /// The layout of `family` with `purchase` and `dropout` columns, those in `constrained`
    /// sharing one coefficient (they must be in both lists).
    pub fn new(
        family: CovariateFamily,
        purchase: &[String],
        dropout: &[String],
        constrained: &[String],
    ) -> Result<Self, CovariateError> {
        let mut columns: Vec<String> = Vec::new();
        let mut coefficients = Vec::new();
        let column =
            |name: &String, columns: &mut Vec<String>| match columns.iter().position(|c| c == name)
            {
                Some(i) => i,
                None => {
                    columns.push(name.clone());
                    columns.len() - 1
                }
            };
        for name in constrained {
            if !(purchase.contains(name) && dropout.contains(name)) {
                return Err(CovariateError::NotInBoth {
                    column: name.clone(),
                });
            }
        }
        for name in purchase {
            let c = column(name, &mut columns);
            let process = if constrained.contains(name) {
                Process::Both
            } else {
                Process::Purchase
            };
            coefficients.push((c, process));
        }
        for name in dropout {
            if constrained.contains(name) {
                continue;
            }
            let c = column(name, &mut columns);
            coefficients.push((c, Process::Dropout));
        }
        Ok(Layout {
            family,
            columns,
            coefficients,
        })
    }

    /// The sign with which coefficient `k` enters base parameter `i` (0 when it does not).
    pub fn sign(&self, i: usize, k: usize) -> f64 {
        let Some(&(_, process)) = self.coefficients.get(k) else {
            return 0.0;
        };
        let find = |links: &[(usize, f64)]| {
            links
                .iter()
                .find(|(j, _)| *j == i)
                .map(|(_, s)| *s)
                .unwrap_or(0.0)
        };
        let purchase = find(self.family.purchase_links());
        let dropout = find(self.family.dropout_links());
        match process {
            Process::Purchase => purchase,
            Process::Dropout => dropout,
            Process::Both => purchase + dropout,
        }
    }

    /// The coefficients' names: `purchase.<col>`, `dropout.<col>`, or `both.<col>` for a
    /// constrained one.
    pub fn coefficient_names(&self) -> Vec<String> {
        self.coefficients
            .iter()
            .map(|&(c, process)| {
                let prefix = match process {
                    Process::Purchase => "purchase",
                    Process::Dropout => "dropout",
                    Process::Both => "both",
                };
                format!("{prefix}.{}", self.columns[c])
            })
            .collect()
    }
}

/// Customers that share every covariate value, with their compressed histories on the fit's
/// common time axis.
pub(crate) struct Cell {
    /// The cell's covariate values (standardised), one per layout column.
    pub z: Vec<f64>,
    pub data: Prepared,
}

/// A compressed history row: (x, t_x, T, weight).
type Row = (u32, f64, f64, f64);

/// The cells of `design` (restricted to the layout's columns, each standardised by `centre`
/// and `spread`) with the customers' `(x, t_x, T)`, on the time axis divided by `scale`.
pub(crate) fn cells(
    design: &DesignMatrix,
    histories: &[(u32, f64, f64)],
    unit: crate::time::TimeUnit,
    centre: &[f64],
    spread: &[f64],
    scale: f64,
) -> Result<Vec<Cell>, crate::summary::PatternError> {
    let mut index: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut members: Vec<(Vec<f64>, Vec<Row>)> = Vec::new();
    for (i, &(x, t_x, t)) in histories.iter().enumerate() {
        let row = design.row(i);
        let key: Vec<u64> = row.iter().map(|v| (v + 0.0).to_bits()).collect();
        let at = *index.entry(key).or_insert_with(|| {
            let z = row
                .iter()
                .zip(centre.iter().zip(spread))
                .map(|(v, (m, s))| (v - m) / s)
                .collect();
            members.push((z, Vec::new()));
            members.len() - 1
        });
        members[at].1.push((x, t_x, t, 1.0));
    }
    members
        .into_iter()
        .map(|(z, rows)| {
            let patterns = Patterns::new(unit, rows)?;
            Ok(Cell {
                z,
                data: Prepared::with_scale(&patterns, scale),
            })
        })
        .collect()
}
