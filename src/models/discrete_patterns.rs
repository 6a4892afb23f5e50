//! The data BG/BB fits on: weighted discrete-time (x, t_x, n) patterns and the length of one
//! period, checked on the way in.

use crate::models::history::History;
use crate::summary::Patterns;
use crate::time::TimeUnit;

/// Why rows of (x, t_x, n, weight) are not valid BG/BB data. Each variant names the row
/// (0-based).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscretePatternsError {
    /// x ≤ t_x ≤ n does not hold.
    #[error(
        "BG/BB data row {row}: need x <= t_x <= n, got x={frequency}, t_x={recency}, n={periods}"
    )]
    OutOfOrder {
        /// The row.
        row: usize,
        /// x given.
        frequency: u32,
        /// t_x given.
        recency: u32,
        /// n given.
        periods: u32,
    },
    /// A customer without transactions has t_x > 0.
    #[error("BG/BB data row {row}: x = 0 requires t_x = 0, got t_x={recency}")]
    RecencyWithoutTransaction {
        /// The row.
        row: usize,
        /// t_x given.
        recency: u32,
    },
    /// A customer with transactions has t_x = 0.
    #[error("BG/BB data row {row}: x = {frequency} > 0 requires t_x >= 1")]
    TransactionWithoutRecency {
        /// The row.
        row: usize,
        /// x given.
        frequency: u32,
    },
    /// A weight is not a finite positive number.
    #[error("BG/BB data row {row}: weight {} must be finite and positive", crate::error::short(*.weight))]
    BadWeight {
        /// The row.
        row: usize,
        /// The weight given.
        weight: f64,
    },
    /// A continuous pattern's recency or age is not a whole number of periods.
    #[error(
        "BG/BB data row {row}: recency {recency} and age {age} must be whole numbers of periods"
    )]
    NotWholePeriods {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
        /// T given.
        age: f64,
    },
}

/// One discrete-time pattern: x transactions in n opportunities, the last at t_x, and how many
/// customers share it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscretePattern {
    pub(super) frequency: u32,
    pub(super) recency: u32,
    pub(super) periods: u32,
    pub(super) weight: f64,
}

impl DiscretePattern {
    /// x: transactions after the first.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// t_x: the opportunity of the last transaction (0 when x = 0).
    pub fn recency(&self) -> u32 {
        self.recency
    }
    /// n: the number of opportunities observed.
    pub fn periods(&self) -> u32 {
        self.periods
    }
    /// Number of customers with this pattern.
    pub fn weight(&self) -> f64 {
        self.weight
    }
    /// The pattern as a [`History`] (recency and age in periods).
    pub fn history(&self) -> History {
        History::new(self.frequency, self.recency as f64, self.periods as f64)
    }
}

/// Weighted (x, t_x, n) patterns and the length of one period (one transaction opportunity): the
/// data BG/BB fits on.
///
/// ```
/// use customer_assets::models::bg_bb::DiscretePatterns;
/// use customer_assets::TimeUnit;
/// let year = TimeUnit::custom_days(365.0)?;
/// let data = DiscretePatterns::new(year, [(0, 0, 6, 3464.0), (6, 6, 6, 1203.0), (0, 0, 6, 1.0)])?;
/// assert_eq!(data.len(), 2);
/// assert_eq!(data.total_weight(), 4668.0);
/// assert_eq!(data.period(), year);
/// assert!(DiscretePatterns::new(year, [(3, 2, 6, 1.0)]).is_err()); // x > t_x
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "DiscretePatternsData"))]
pub struct DiscretePatterns {
    period: TimeUnit,
    items: Vec<DiscretePattern>,
}

/// The serialized form, checked by [`DiscretePatterns::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct DiscretePatternsData {
    period: TimeUnit,
    items: Vec<DiscretePattern>,
}

#[cfg(feature = "serde")]
impl TryFrom<DiscretePatternsData> for DiscretePatterns {
    type Error = DiscretePatternsError;
    fn try_from(d: DiscretePatternsData) -> Result<Self, DiscretePatternsError> {
        DiscretePatterns::new(
            d.period,
            d.items
                .into_iter()
                .map(|p| (p.frequency, p.recency, p.periods, p.weight)),
        )
    }
}

impl DiscretePatterns {
    /// Validates rows of (x, t_x, n, weight): x ≤ t_x ≤ n, t_x = 0 exactly when x = 0, weight
    /// finite and positive. Equal (x, t_x, n) rows are merged (weights added), in order of first
    /// appearance. `period` is the length of one transaction opportunity.
    ///
    /// # Errors
    /// [`DiscretePatternsError`] naming the first invalid row.
    pub fn new(
        period: TimeUnit,
        rows: impl IntoIterator<Item = (u32, u32, u32, f64)>,
    ) -> Result<Self, DiscretePatternsError> {
        let mut items: Vec<DiscretePattern> = Vec::new();
        let mut index: std::collections::HashMap<(u32, u32, u32), usize> =
            std::collections::HashMap::new();
        for (row, (x, t_x, n, weight)) in rows.into_iter().enumerate() {
            if x > t_x || t_x > n {
                return Err(DiscretePatternsError::OutOfOrder {
                    row,
                    frequency: x,
                    recency: t_x,
                    periods: n,
                });
            }
            if x == 0 && t_x != 0 {
                return Err(DiscretePatternsError::RecencyWithoutTransaction { row, recency: t_x });
            }
            if x > 0 && t_x == 0 {
                return Err(DiscretePatternsError::TransactionWithoutRecency { row, frequency: x });
            }
            if !(weight.is_finite() && weight > 0.0) {
                return Err(DiscretePatternsError::BadWeight { row, weight });
            }
            match index.entry((x, t_x, n)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    if let Some(p) = items.get_mut(*e.get()) {
                        p.weight += weight;
                    }
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(items.len());
                    items.push(DiscretePattern {
                        frequency: x,
                        recency: t_x,
                        periods: n,
                        weight,
                    });
                }
            }
        }
        Ok(DiscretePatterns { period, items })
    }

    /// The length of one period (one transaction opportunity).
    pub fn period(&self) -> TimeUnit {
        self.period
    }
    /// The patterns.
    pub fn as_slice(&self) -> &[DiscretePattern] {
        &self.items
    }
    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// The same patterns with new weights (one per pattern, finite and non-negative), the
    /// patterns of weight 0 left out: a resample of the customers.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`](crate::InvalidParameter) for a number of weights other than of
    /// patterns, a negative or non-finite weight, or no weight above 0.
    pub fn with_weights(&self, weights: &[f64]) -> Result<Self, crate::InvalidParameter> {
        let items = crate::error::reweighted_rows(&self.items, weights, |p, w| DiscretePattern {
            weight: w,
            ..*p
        })?;
        Ok(DiscretePatterns {
            period: self.period,
            items,
        })
    }

    /// Number of customers (sum of weights).
    pub fn total_weight(&self) -> f64 {
        self.items.iter().map(|p| p.weight).sum()
    }
}

impl TryFrom<&Patterns> for DiscretePatterns {
    type Error = DiscretePatternsError;
    /// Uses summaries in a discrete unit: recency and age must be whole numbers of periods, and
    /// the period is the summaries' unit.
    fn try_from(p: &Patterns) -> Result<Self, DiscretePatternsError> {
        let mut rows = Vec::with_capacity(p.len());
        for (row, pat) in p.iter().enumerate() {
            let whole = |v: f64| v.fract() == 0.0 && v >= 0.0 && v <= u32::MAX as f64;
            if !whole(pat.recency()) || !whole(pat.age()) {
                return Err(DiscretePatternsError::NotWholePeriods {
                    row,
                    recency: pat.recency(),
                    age: pat.age(),
                });
            }
            rows.push((
                pat.frequency(),
                pat.recency() as u32,
                pat.age() as u32,
                pat.weight(),
            ));
        }
        DiscretePatterns::new(p.unit(), rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year() -> TimeUnit {
        TimeUnit::custom_days(365.0).unwrap()
    }

    #[test]
    fn equal_rows_merge_in_order_of_first_appearance() {
        let data = DiscretePatterns::new(year(), [(1, 1, 3, 1.0), (0, 0, 3, 2.0), (1, 1, 3, 0.5)])
            .unwrap();
        let rows: Vec<_> = data
            .as_slice()
            .iter()
            .map(|p| (p.frequency(), p.recency(), p.periods(), p.weight()))
            .collect();
        assert_eq!(rows, [(1, 1, 3, 1.5), (0, 0, 3, 2.0)]);
        assert_eq!(data.total_weight(), 3.5);
        assert_eq!(data.as_slice()[0].history(), History::new(1, 1.0, 3.0));
    }

    #[test]
    fn bad_rows_are_named() {
        let ok = (1, 1, 3, 1.0);
        let row_of = |bad| match DiscretePatterns::new(year(), [ok, bad]) {
            Err(
                DiscretePatternsError::OutOfOrder { row, .. }
                | DiscretePatternsError::RecencyWithoutTransaction { row, .. }
                | DiscretePatternsError::TransactionWithoutRecency { row, .. }
                | DiscretePatternsError::BadWeight { row, .. },
            ) => row,
            other => panic!("{bad:?} gave {other:?}"),
        };
        for bad in [
            (3, 2, 6, 1.0),
            (0, 1, 6, 1.0),
            (1, 0, 6, 1.0),
            (1, 1, 6, f64::NAN),
        ] {
            assert_eq!(row_of(bad), 1);
        }
    }

    #[test]
    fn continuous_patterns_need_whole_periods() {
        let whole = Patterns::new(year(), [(2, 3.0, 5.0, 4.0)]).unwrap();
        let data = DiscretePatterns::try_from(&whole).unwrap();
        assert_eq!(data.period(), year());
        assert_eq!(data.as_slice()[0].history(), History::new(2, 3.0, 5.0));
        let fractional = Patterns::new(year(), [(2, 3.5, 5.0, 4.0)]).unwrap();
        assert!(matches!(
            DiscretePatterns::try_from(&fractional),
            Err(DiscretePatternsError::NotWholePeriods { row: 0, .. })
        ));
    }
}
