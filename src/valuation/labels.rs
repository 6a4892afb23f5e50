//! A column of labels: one per customer, each distinct label stored once.

use std::collections::HashMap;
use std::fmt::{self, Display, Write as _};
use std::sync::Arc;

use crate::segment::SegmentError;

/// Distinct labels compared by `PartialEq` before the names are hashed instead: a segmentation
/// has a handful of segments, and comparing a label with a few is cheaper than formatting it.
const FEW_DISTINCT: usize = 64;

/// One label per customer, in customer order, each distinct label's name stored once.
///
/// A million customers fall into a handful of segments: the column keeps the distinct names and,
/// per customer, the index of its name, not a string per customer. Names are distinct (two
/// customers with the same label share one index), in order of first appearance.
///
/// ```
/// use customer_assets::valuation::Labels;
///
/// let labels = Labels::from_names(["gold", "silver", "gold"])?;
/// assert_eq!(labels.names().len(), 2);
/// assert_eq!(labels.get(2).map(|l| &**l), Some("gold"));
/// assert_eq!(labels.indices(), [0, 1, 0]);
/// # Ok::<(), customer_assets::segment::SegmentError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    names: Vec<Arc<str>>,
    of_customer: Vec<u32>,
}

impl Labels {
    /// The labels of customers in order, named by their `Display` form. A segment is a set of
    /// equal labels: labels equal by `PartialEq` take the name of the first of them, and labels
    /// with the same name share one entry.
    ///
    /// # Errors
    ///
    /// [`SegmentError::ShapeMismatch`] past `u32::MAX` distinct names.
    pub fn from_labels<L: PartialEq + Display>(labels: &[L]) -> Result<Self, SegmentError> {
        let mut interner = Interner::default();
        // A few distinct labels, compared as values: `seen[i]` is named `names[seen_name[i]]`.
        let mut seen: Vec<&L> = Vec::new();
        let mut seen_name: Vec<u32> = Vec::new();
        let mut last: Option<(&L, u32)> = None;
        let mut of_customer = Vec::with_capacity(labels.len());
        let mut text = String::new();
        for label in labels {
            let index = match last {
                Some((l, i)) if l == label => i,
                _ => {
                    let i = match seen.iter().position(|s| *s == label) {
                        Some(k) => seen_name[k],
                        None => {
                            text.clear();
                            write!(text, "{label}").map_err(display_error)?;
                            let i = interner.intern(&text)?;
                            if seen.len() < FEW_DISTINCT {
                                seen.push(label);
                                seen_name.push(i);
                            }
                            i
                        }
                    };
                    last = Some((label, i));
                    i
                }
            };
            of_customer.push(index);
        }
        Ok(Labels {
            names: interner.names,
            of_customer,
        })
    }

    /// The labels of customers in order, given by name.
    ///
    /// # Errors
    ///
    /// [`SegmentError::ShapeMismatch`] past `u32::MAX` distinct names.
    pub fn from_names<S: AsRef<str>>(
        names: impl IntoIterator<Item = S>,
    ) -> Result<Self, SegmentError> {
        let mut interner = Interner::default();
        let of_customer = names
            .into_iter()
            .map(|name| interner.intern(name.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Labels {
            names: interner.names,
            of_customer,
        })
    }

    /// The number of customers labelled.
    pub fn len(&self) -> usize {
        self.of_customer.len()
    }

    /// Whether no customer is labelled.
    pub fn is_empty(&self) -> bool {
        self.of_customer.is_empty()
    }

    /// The label of the customer at `index`.
    pub fn get(&self, index: usize) -> Option<&Arc<str>> {
        let name = *self.of_customer.get(index)?;
        self.names.get(name as usize)
    }

    /// The distinct names, in order of first appearance.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Per customer, the index of its label in [`names`](Self::names).
    pub fn indices(&self) -> &[u32] {
        &self.of_customer
    }

    /// The labels in customer order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        // Every index was handed out by the interner, so it is in range.
        self.of_customer
            .iter()
            .filter_map(|&i| self.names.get(i as usize))
    }
}

/// Distinct names by text.
#[derive(Default)]
struct Interner {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u32>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> Result<u32, SegmentError> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        let i = u32::try_from(self.names.len()).map_err(|_| {
            SegmentError::ShapeMismatch(format!("more than {} distinct labels", u32::MAX))
        })?;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, i);
        Ok(i)
    }
}

fn display_error(_: fmt::Error) -> SegmentError {
    SegmentError::ShapeMismatch("a label's Display implementation failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label whose equality is not its name: NaN is unequal to itself, and -0 equals 0.
    #[test]
    fn labels_are_grouped_by_name_not_by_equality() {
        let labels = [f64::NAN, 0.0, -0.0, f64::NAN, 1.0, 0.0];
        let column = Labels::from_labels(&labels).unwrap();
        let names: Vec<&str> = column.names().iter().map(|n| &**n).collect();
        // -0 == 0: one segment, named after the first of them; NaN != NaN, but both are
        // named "NaN", and one name is one segment.
        assert_eq!(names, ["NaN", "0", "1"]);
        assert_eq!(column.indices(), [0, 1, 1, 0, 2, 1]);
        let named: Vec<&str> = column.iter().map(|n| &**n).collect();
        assert_eq!(named, ["NaN", "0", "0", "NaN", "1", "0"]);
    }

    #[test]
    fn many_distinct_labels_are_hashed_and_stay_distinct() {
        let labels: Vec<u32> = (0..1000).map(|i| i % 300).collect();
        let column = Labels::from_labels(&labels).unwrap();
        assert_eq!(column.names().len(), 300);
        for (k, l) in labels.iter().enumerate() {
            assert_eq!(&**column.get(k).unwrap(), l.to_string());
        }
        assert_eq!(
            column,
            Labels::from_names(labels.iter().map(u32::to_string)).unwrap()
        );
    }

    #[test]
    fn empty_and_out_of_range() {
        let column = Labels::from_names(Vec::<String>::new()).unwrap();
        assert!(column.is_empty());
        assert_eq!(column.get(0), None);
    }
}
