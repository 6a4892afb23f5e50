//! The segmenter traits: [`Segmenter`] (parameters that learn) and [`Assign`] (what was learnt),
//! with their impls for pointers.

use std::fmt;
use std::sync::Arc;

use super::error::SegmentError;
use super::profile::Profile;

/// Parameters that learn a segmentation from a population of customers of type `C`.
///
/// `learn` reads the whole population (quantile edges, cluster centres) and returns the learnt
/// state, which assigns labels with [`Assign`]. An empty population is
/// [`SegmentError::EmptyPopulation`]. Only `learn` is required; the learnt type's labels must
/// print their names (`Display`). References, boxes and `Arc`s of segmenters are segmenters too,
/// trait objects included.
///
/// ```
/// use customer_assets::segment::{Assign, Profile, SegmentError, Segmenter};
///
/// /// Labels customers who bought again: nothing to learn.
/// struct Repeat;
/// impl Segmenter for Repeat {
///     type Learnt = Repeat;
///     fn learn(&self, _: &[Profile]) -> Result<Repeat, SegmentError> {
///         Ok(Repeat)
///     }
/// }
/// impl Assign for Repeat {
///     type Label = bool;
///     fn assign(&self, p: &Profile) -> Result<bool, SegmentError> {
///         Ok(p.frequency() > 0)
///     }
/// }
/// let boxed: Box<dyn Segmenter<Learnt = Repeat>> = Box::new(Repeat);
/// let (_, labels) = boxed.segment(&[Profile::prospect(1u64.into(), customer_assets::TimeUnit::DAYS)])?;
/// assert_eq!(labels, [false]);
/// # Ok::<(), SegmentError>(())
/// ```
pub trait Segmenter<C = Profile> {
    /// The learnt segmentation; `Display` gives a label's name.
    type Learnt: Assign<C, Label: Clone + fmt::Debug + fmt::Display + PartialEq>;

    /// Learns the segmentation from `population`.
    ///
    /// # Errors
    ///
    /// [`SegmentError::EmptyPopulation`] for an empty population; the segmenter's own errors
    /// (an invalid parameter, a feature missing or not finite).
    fn learn(&self, population: &[C]) -> Result<Self::Learnt, SegmentError>;

    /// Checks the parameters without any population (the default accepts everything). The
    /// crate's segmenters call it first thing in `learn`;
    /// [`ValuationBuilder::build`](crate::valuation::ValuationBuilder::build) calls it for every
    /// segmenter, so that a bad parameter fails before any model is fitted.
    ///
    /// # Errors
    ///
    /// [`SegmentError::InvalidParameter`] naming the first parameter out of range.
    fn check(&self) -> Result<(), SegmentError> {
        Ok(())
    }

    /// Learns from `population` and labels each of its customers, in order.
    ///
    /// # Errors
    ///
    /// Those of [`learn`](Self::learn) and of [`Assign::assign`].
    #[allow(clippy::type_complexity)] // the learnt segmentation and one label per customer
    fn segment(
        &self,
        population: &[C],
    ) -> Result<(Self::Learnt, Vec<Label<Self, C>>), SegmentError> {
        let learnt = self.learn(population)?;
        let labels = learnt.assign_all(population)?;
        Ok((learnt, labels))
    }
}

/// The label a segmenter `S` assigns to customers of type `C`.
pub type Label<S, C = Profile> = <<S as Segmenter<C>>::Learnt as Assign<C>>::Label;

/// A learnt segmentation: gives one customer exactly one label.
///
/// Only `assign` is required. References, boxes and `Arc`s of learnt segmentations assign too,
/// trait objects included.
pub trait Assign<C = Profile> {
    /// The label.
    type Label;

    /// The label of one customer (who need not have been in the population learnt from).
    ///
    /// # Errors
    ///
    /// The segmentation's own errors, e.g. [`SegmentError::MissingFeature`] or
    /// [`SegmentError::NotFinite`] for a feature it reads.
    fn assign(&self, customer: &C) -> Result<Self::Label, SegmentError>;

    /// The labels of many customers, in order.
    ///
    /// # Errors
    ///
    /// The first error of [`assign`](Self::assign).
    fn assign_all(&self, customers: &[C]) -> Result<Vec<Self::Label>, SegmentError> {
        customers.iter().map(|c| self.assign(c)).collect()
    }
}

/// [`Assign::assign_all`] on all cores: the crate's own segmentations, whose `assign` is
/// cheap and thread-safe, override the serial default with it.
pub(crate) fn assign_all_in_order<C: Sync, A: Assign<C> + Sync + ?Sized>(
    learnt: &A,
    customers: &[C],
) -> Result<Vec<A::Label>, SegmentError>
where
    A::Label: Send,
{
    super::in_order::try_map(customers, |c| learnt.assign(c))
}

/// Segmenters and learnt segmentations behind a pointer: `&T`, `Box<T>`, `Arc<T>`.
macro_rules! forward_through_pointers {
    ($($pointer:ty),+) => {$(
        impl<C, S: Segmenter<C> + ?Sized> Segmenter<C> for $pointer {
            type Learnt = S::Learnt;
            fn learn(&self, population: &[C]) -> Result<Self::Learnt, SegmentError> {
                (**self).learn(population)
            }
            fn check(&self) -> Result<(), SegmentError> {
                (**self).check()
            }
            #[allow(clippy::type_complexity)]
            fn segment(
                &self,
                population: &[C],
            ) -> Result<(Self::Learnt, Vec<Label<S, C>>), SegmentError> {
                (**self).segment(population)
            }
        }

        impl<C, S: Assign<C> + ?Sized> Assign<C> for $pointer {
            type Label = S::Label;
            fn assign(&self, customer: &C) -> Result<Self::Label, SegmentError> {
                (**self).assign(customer)
            }
            fn assign_all(&self, customers: &[C]) -> Result<Vec<Self::Label>, SegmentError> {
                (**self).assign_all(customers)
            }
        }
    )+};
}

forward_through_pointers!(&S, Box<S>, Arc<S>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::CustomerId;
    use crate::segment::rfm::{Rfm, RfmLabel, RfmParams};
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    #[test]
    fn segmenters_and_learnt_segmentations_work_through_pointers() {
        let base: Vec<Profile> = [(5, 38.0, 60), (0, 0.0, 0), (1, 2.0, 15), (3, 20.0, 40)]
            .iter()
            .enumerate()
            .map(|(i, &(x, t_x, m))| {
                Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    x,
                    t_x,
                    39.0,
                    Decimal::from(m),
                )
                .unwrap()
            })
            .collect();
        let params = RfmParams::default();
        // Generic callers see the pointer impls, not the pointee's through auto-deref.
        fn labels_of<S: Segmenter>(s: S, base: &[Profile]) -> Vec<Label<S>> {
            s.segment(base).unwrap().1
        }
        fn assigned<A: Assign>(a: A, base: &[Profile]) -> Vec<A::Label> {
            a.assign_all(base).unwrap()
        }
        let (learnt, labels) = params.segment(&base).unwrap();
        assert_eq!(labels_of(&params, &base), labels);
        assert_eq!(labels_of(Box::new(params.clone()), &base), labels);
        let shared: Arc<dyn Segmenter<Learnt = Rfm>> = Arc::new(params);
        assert_eq!(labels_of(shared, &base), labels);
        let assign: Box<dyn Assign<Label = RfmLabel>> = Box::new(learnt.clone());
        assert_eq!(assigned(assign, &base), labels);
        assert_eq!(assigned(&learnt, &base), labels);
        assert_eq!(assigned(Arc::new(learnt), &base), labels);
    }
}
