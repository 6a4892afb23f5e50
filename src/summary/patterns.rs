//! Weighted (x, t_x, T) patterns: the data the transaction models fit on.

use std::collections::HashMap;

use crate::time::TimeUnit;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Why a set of (x, t_x, T) patterns is invalid. Each variant names the row (0-based).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Recency or age is negative or not finite.
    #[error("row {row}: recency {recency} and age {age} must be finite and non-negative")]
    NotFinite {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
        /// T given.
        age: f64,
    },
    /// Recency exceeds age.
    #[error("row {row}: recency {recency} exceeds age {age}")]
    RecencyAfterAge {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
        /// T given.
        age: f64,
    },
    /// A customer without repeat purchases has non-zero recency.
    #[error("row {row}: frequency 0 requires recency 0, got {recency}")]
    RecencyWithoutRepeat {
        /// The row.
        row: usize,
        /// t_x given.
        recency: f64,
    },
    /// A weight is not a finite positive number.
    #[error("row {row}: weight {} must be finite and positive", crate::error::short(*.weight))]
    BadWeight {
        /// The row.
        row: usize,
        /// The weight given.
        weight: f64,
    },
}

/// One (x, t_x, T) pattern and the number of customers (weight) who share it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "PatternRaw"))]
pub struct Pattern {
    frequency: u32,
    recency: f64,
    age: f64,
    weight: f64,
}

/// The serialized form of a [`Pattern`], checked as a row of [`Patterns::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PatternRaw {
    frequency: u32,
    recency: f64,
    age: f64,
    weight: f64,
}

#[cfg(feature = "serde")]
impl TryFrom<PatternRaw> for Pattern {
    type Error = PatternError;
    fn try_from(raw: PatternRaw) -> Result<Self, PatternError> {
        check_row(0, raw.frequency, raw.recency, raw.age, raw.weight)?;
        Ok(Pattern {
            frequency: raw.frequency,
            recency: raw.recency,
            age: raw.age,
            weight: raw.weight,
        })
    }
}

/// Checks one row `(x, t_x, T, weight)`.
fn check_row(row: usize, x: u32, t_x: f64, t: f64, w: f64) -> Result<(), PatternError> {
    if !(t_x.is_finite() && t.is_finite() && t_x >= 0.0 && t >= 0.0) {
        return Err(PatternError::NotFinite {
            row,
            recency: t_x,
            age: t,
        });
    }
    if t_x > t {
        return Err(PatternError::RecencyAfterAge {
            row,
            recency: t_x,
            age: t,
        });
    }
    if x == 0 && t_x != 0.0 {
        return Err(PatternError::RecencyWithoutRepeat { row, recency: t_x });
    }
    if !(w.is_finite() && w > 0.0) {
        return Err(PatternError::BadWeight { row, weight: w });
    }
    Ok(())
}

impl Pattern {
    /// x: repeat purchases.
    #[inline]
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// t_x: time of the last purchase, measured from the first.
    #[inline]
    pub fn recency(&self) -> f64 {
        self.recency
    }
    /// T: time from the first purchase to the end of observation.
    #[inline]
    pub fn age(&self) -> f64 {
        self.age
    }
    /// Number of customers with this pattern.
    #[inline]
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

/// Unique (x, t_x, T) patterns with counts, in one [`TimeUnit`]: the data the transaction models
/// fit on. Patterns keep the order in which they first appeared.
///
/// ```
/// use customer_assets::{Patterns, TimeUnit};
/// let p = Patterns::new(TimeUnit::WEEKS, [(2, 30.43, 38.86, 1.0), (0, 0.0, 38.86, 1.0), (0, 0.0, 38.86, 3.0)])?;
/// assert_eq!(p.len(), 2);
/// assert_eq!(p.total_weight(), 5.0);
/// assert!(Patterns::new(TimeUnit::WEEKS, [(1, 5.0, 4.0, 1.0)]).is_err());
/// # Ok::<(), customer_assets::PatternError>(())
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "PatternsRaw"))]
pub struct Patterns {
    unit: TimeUnit,
    items: Vec<Pattern>,
}

/// The serialized form of [`Patterns`], checked and compressed by [`Patterns::new`] on the way in
/// (rows are numbered from 0 in the order of `items`).
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct PatternsRaw {
    unit: TimeUnit,
    items: Vec<PatternRaw>,
}

#[cfg(feature = "serde")]
impl TryFrom<PatternsRaw> for Patterns {
    type Error = PatternError;
    fn try_from(raw: PatternsRaw) -> Result<Self, PatternError> {
        Patterns::new(
            raw.unit,
            raw.items
                .into_iter()
                .map(|p| (p.frequency, p.recency, p.age, p.weight)),
        )
    }
}

impl PartialEq for Patterns {
    fn eq(&self, other: &Self) -> bool {
        self.unit == other.unit && self.items == other.items
    }
}

/// The key of a pattern: x and the bits of t_x and T, with −0.0 folded into 0.0 (`+ 0.0`) so
/// that equal values share one key.
fn key(x: u32, t_x: f64, t: f64) -> (u32, u64, u64) {
    (x, (t_x + 0.0).to_bits(), (t + 0.0).to_bits())
}

impl Patterns {
    /// Validates and compresses rows of `(x, t_x, T, weight)`.
    ///
    /// # Errors
    ///
    /// A [`PatternError`] naming the first invalid row: recency or age negative or not finite,
    /// recency above age, a recency without a repeat purchase, or a weight that is not finite and
    /// positive.
    pub fn new(
        unit: TimeUnit,
        rows: impl IntoIterator<Item = (u32, f64, f64, f64)>,
    ) -> Result<Self, PatternError> {
        let rows = rows.into_iter();
        let mut items: Vec<Pattern> = Vec::with_capacity(rows.size_hint().0);
        let mut index: FastMap<(u32, u64, u64), usize> =
            FastMap::with_capacity_and_hasher(rows.size_hint().0, Default::default());
        for (row, (x, t_x, t, w)) in rows.enumerate() {
            check_row(row, x, t_x, t, w)?;
            match index.get(&key(x, t_x, t)) {
                Some(&i) => items[i].weight += w,
                None => {
                    index.insert(key(x, t_x, t), items.len());
                    items.push(Pattern {
                        frequency: x,
                        recency: t_x,
                        age: t,
                        weight: w,
                    });
                }
            }
        }
        Ok(Patterns { unit, items })
    }

    /// Compresses valid rows `(x, t_x, T)` of weight 1 each (summaries' customers): sorted by x
    /// (a counting sort when the frequencies are small), then by t_x and T, equal rows merged.
    /// The patterns come out in that order.
    pub(super) fn from_valid_sorted(unit: TimeUnit, mut rows: Vec<(u32, f64, f64)>) -> Self {
        let by_times = |p: &(u32, f64, f64)| ((p.1 + 0.0).to_bits(), (p.2 + 0.0).to_bits());
        let max_x = rows.iter().map(|p| p.0).max().unwrap_or(0) as usize;
        if max_x > 2 * rows.len() + 1024 {
            rows.sort_unstable_by_key(|p| (p.0, by_times(p)));
        } else {
            let mut starts = vec![0usize; max_x + 2];
            for p in &rows {
                starts[p.0 as usize + 1] += 1;
            }
            for i in 1..starts.len() {
                starts[i] += starts[i - 1];
            }
            let mut sorted = vec![(0u32, 0.0, 0.0); rows.len()];
            let mut next = starts.clone();
            for &p in &rows {
                let slot = &mut next[p.0 as usize];
                sorted[*slot] = p;
                *slot += 1;
            }
            rows = sorted;
            // Each frequency's rows by (t_x, T): non-negative floats order as their bits.
            let mut parts: Vec<&mut [(u32, f64, f64)]> = Vec::with_capacity(starts.len());
            let mut rest: &mut [(u32, f64, f64)] = &mut rows;
            for w in starts.windows(2) {
                let (part, tail) = rest.split_at_mut(w[1] - w[0]);
                parts.push(part);
                rest = tail;
            }
            let sort = |part: &mut [(u32, f64, f64)]| part.sort_unstable_by_key(by_times);
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                parts.into_par_iter().for_each(sort);
            }
            #[cfg(not(feature = "parallel"))]
            parts.into_iter().for_each(sort);
        }
        let mut items: Vec<Pattern> = Vec::with_capacity(rows.len() / 2 + 1);
        let mut last: Option<(u32, u64, u64)> = None;
        for (x, t_x, t) in rows {
            let k = key(x, t_x, t);
            match items.last_mut() {
                Some(p) if last == Some(k) => p.weight += 1.0,
                _ => {
                    last = Some(k);
                    items.push(Pattern {
                        frequency: x,
                        recency: t_x,
                        age: t,
                        weight: 1.0,
                    });
                }
            }
        }
        Patterns { unit, items }
    }

    /// The same patterns with new weights (one per pattern, finite and non-negative), the
    /// patterns of weight 0 left out: a resample of the customers.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`](crate::InvalidParameter) for a number of weights other than of
    /// patterns, a negative or non-finite weight, or no weight above 0.
    pub fn with_weights(&self, weights: &[f64]) -> Result<Patterns, crate::InvalidParameter> {
        let items = crate::error::reweighted_rows(&self.items, weights, |p, w| Pattern {
            weight: w,
            ..*p
        })?;
        Ok(Patterns {
            unit: self.unit,
            items,
        })
    }

    /// The time unit of recency and age.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// The unique patterns.
    pub fn as_slice(&self) -> &[Pattern] {
        &self.items
    }
    /// Iterates over the unique patterns.
    pub fn iter(&self) -> std::slice::Iter<'_, Pattern> {
        self.items.iter()
    }
    /// Number of unique patterns.
    pub fn len(&self) -> usize {
        self.items.len()
    }
    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    /// Number of customers (sum of weights).
    pub fn total_weight(&self) -> f64 {
        self.items.iter().map(|p| p.weight).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::options::SummaryOptions;
    use crate::summary::test_support::{buy, day, summarize};

    #[test]
    fn patterns_compress_and_validate() {
        let log = [
            buy(1, 1, 1, 1),
            buy(2, 1, 1, 1),
            buy(3, 1, 1, 1),
            buy(3, 1, 5, 1),
        ];
        let s = summarize(&log, SummaryOptions::new(day(1, 31), TimeUnit::DAYS));
        let p = s.patterns();
        assert_eq!(p.len(), 2);
        assert_eq!(p.as_slice()[0].weight(), 2.0);
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(0, 1.0, 2.0, 1.0)]),
            Err(PatternError::RecencyWithoutRepeat { row: 0, .. })
        ));
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(1, 1.0, 2.0, 0.0)]),
            Err(PatternError::BadWeight { .. })
        ));
        assert!(matches!(
            Patterns::new(TimeUnit::DAYS, [(1, f64::NAN, 2.0, 1.0)]),
            Err(PatternError::NotFinite { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(128))]
        /// Sorting compresses rows into the very patterns hashing does (the same rows, weights
        /// and values), in the order of (x, t_x, T); frequencies far apart take the comparison
        /// sort.
        #[test]
        fn sorted_compression_equals_hashed(
            rows in proptest::collection::vec((0u32..6, 0u32..8, 0u32..8), 0..300),
            spread in proptest::bool::ANY,
        ) {
            let rows: Vec<(u32, f64, f64)> = rows
                .into_iter()
                .map(|(x, a, b)| {
                    let x = if spread { x * 1_000_000 } else { x };
                    let age = f64::from(a.max(b)) / 7.0;
                    let t_x = if x == 0 { 0.0 } else { f64::from(a.min(b)) / 7.0 };
                    (x, t_x, age)
                })
                .collect();
            let sorted = Patterns::from_valid_sorted(TimeUnit::WEEKS, rows.clone());
            let hashed =
                Patterns::new(TimeUnit::WEEKS, rows.iter().map(|&(x, t_x, t)| (x, t_x, t, 1.0)))
                    .unwrap();
            let mut want = hashed.as_slice().to_vec();
            want.sort_by(|p, q| {
                (p.frequency, p.recency, p.age)
                    .partial_cmp(&(q.frequency, q.recency, q.age))
                    .unwrap()
            });
            proptest::prop_assert_eq!(sorted.as_slice(), &want[..]);
            proptest::prop_assert_eq!(sorted.total_weight(), rows.len() as f64);
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_is_checked_row_by_row_and_valid_json_round_trips() {
        let p = Patterns::new(
            TimeUnit::WEEKS,
            [(2, 30.43, 38.86, 1.0), (0, 0.0, 38.86, 3.0)],
        )
        .unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: Patterns = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.total_weight(), 4.0);
        let one = serde_json::to_string(&p.as_slice()[0]).unwrap();
        assert_eq!(
            serde_json::from_str::<Pattern>(&one).unwrap(),
            p.as_slice()[0]
        );

        let rows = r#"{"unit":7.0,"items":[{"frequency":2,"recency":30.43,"age":38.86,"weight":1.0},
            {"frequency":1,"recency":5.0,"age":4.0,"weight":1.0}]}"#;
        let want = Patterns::new(
            TimeUnit::WEEKS,
            [(2, 30.43, 38.86, 1.0), (1, 5.0, 4.0, 1.0)],
        )
        .unwrap_err();
        let err = serde_json::from_str::<Patterns>(rows).unwrap_err();
        assert!(
            err.to_string().contains(&want.to_string()),
            "{err} vs {want}"
        );
        let bad = r#"{"frequency":0,"recency":1.0,"age":4.0,"weight":1.0}"#;
        let want = Patterns::new(TimeUnit::WEEKS, [(0, 1.0, 4.0, 1.0)]).unwrap_err();
        let err = serde_json::from_str::<Pattern>(bad).unwrap_err();
        assert!(
            err.to_string().contains(&want.to_string()),
            "{err} vs {want}"
        );
    }
}
