//! What a covariate fit reads: each customer's history (x, t_x, T) and covariate row.

use crate::covariates::{CovariateError, DesignMatrix};
use crate::models::history::History;
use crate::records::CustomerId;
use crate::summary::Summaries;
use crate::time::TimeUnit;

/// Customers' histories and their covariates: the data of a covariate fit
/// ([`CovariateParams`](super::CovariateParams)) and of its predictions.
///
/// Each customer has one row of the design (all its columns; the fit settings choose which
/// columns enter which process).
///
/// ```
/// use customer_assets::covariates::DesignMatrix;
/// use customer_assets::models::covariates::CovariateData;
/// use customer_assets::{CustomerId, History, TimeUnit};
/// let ids: Vec<CustomerId> = (1u64..=3).map(CustomerId::from).collect();
/// let design = DesignMatrix::new(vec!["web".into()], ids.clone(), vec![vec![1.0], vec![0.0], vec![1.0]])?;
/// let histories = vec![History::new(2, 20.0, 30.0), History::new(0, 0.0, 30.0), History::new(5, 28.0, 30.0)];
/// let data = CovariateData::new(TimeUnit::WEEKS, ids.into_iter().zip(histories), &design)?;
/// assert_eq!(data.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CovariateData {
    unit: TimeUnit,
    ids: Vec<CustomerId>,
    histories: Vec<History>,
    design: DesignMatrix,
}

impl CovariateData {
    /// Customers' `(id, history)` in the time `unit`, joined with their rows of `design`.
    ///
    /// # Errors
    /// [`CovariateError::NoDesignRow`] for a customer the design lacks,
    /// [`CovariateError::DuplicateCustomer`] for a customer given twice,
    /// [`CovariateError::BadHistory`] for a history that is not valid
    /// ([`History::validate`]).
    pub fn new(
        unit: TimeUnit,
        customers: impl IntoIterator<Item = (CustomerId, History)>,
        design: &DesignMatrix,
    ) -> Result<Self, CovariateError> {
        let mut ids = Vec::new();
        let mut histories = Vec::new();
        let mut rows = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (id, history) in customers {
            if history.validate().is_err() {
                return Err(CovariateError::BadHistory {
                    customer: id.to_string(),
                });
            }
            let row = design
                .row_of(&id)
                .ok_or_else(|| CovariateError::NoDesignRow {
                    customer: id.to_string(),
                })?;
            if !seen.insert(id.clone()) {
                return Err(CovariateError::DuplicateCustomer {
                    customer: id.to_string(),
                });
            }
            rows.push(row.to_vec());
            ids.push(id);
            histories.push(history);
        }
        let design = DesignMatrix::new(design.names().to_vec(), ids.clone(), rows)?;
        Ok(CovariateData {
            unit,
            ids,
            histories,
            design,
        })
    }

    /// Every summarised customer (in the summaries' order and time unit) with its design row.
    ///
    /// # Errors
    /// As [`CovariateData::new`].
    pub fn from_summaries(
        summaries: &Summaries,
        design: &DesignMatrix,
    ) -> Result<Self, CovariateError> {
        Self::new(
            summaries.unit(),
            summaries.iter().map(|c| {
                (
                    c.id().clone(),
                    History::new(c.frequency(), c.recency(), c.age()),
                )
            }),
            design,
        )
    }

    /// The time unit of the histories.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// The customers, in order.
    pub fn ids(&self) -> &[CustomerId] {
        &self.ids
    }

    /// The histories, in the customers' order.
    pub fn histories(&self) -> &[History] {
        &self.histories
    }

    /// The covariates, one row per customer in order.
    pub fn design(&self) -> &DesignMatrix {
        &self.design
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
