//! ABC (Pareto) classes and value tiers.
//!
//! **ABC classes** rank customers by a value (historical spend by default, or a supplied CLV) and
//! cut the ranking by cumulative share of the total: class A holds the top customers who together
//! make the first 80% of value, B the next 15%, C the last 5% (shares configurable). Precisely, a
//! customer is in A when the customers with a *strictly higher* value hold less than 80% of the
//! total, in B when they hold less than 95%, and in C otherwise. So the customer who crosses 80%
//! is in A, customers with equal values are always in the same class, and more value never
//! lowers a customer's class. What is learnt is the two value thresholds (the least value in A and
//! in B), which apply to new customers. Values must not be negative; customers with zero value are
//! in C (and everyone is in C when the total is zero).
//!
//! **Value tiers** cut any numeric [`Feature`] by fixed, increasing thresholds.
//!
//! ```
//! use customer_assets::segment::abc::{AbcClass, AbcParams};
//! use customer_assets::segment::{Feature, Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let base: Vec<Profile> = [50, 30, 15, 4, 1].iter().enumerate()
//!     .map(|(i, &spend)| Profile::new(CustomerId::from(i as u64), TimeUnit::WEEKS, 1, 1.0, 2.0, Decimal::from(spend)))
//!     .collect::<Result<_, _>>()?;
//! let (_abc, classes) = AbcParams::default().value(Feature::TotalSpend).segment(&base)?;
//! assert_eq!(classes, vec![AbcClass::A, AbcClass::A, AbcClass::B, AbcClass::C, AbcClass::C]);
//! # Ok::<(), customer_assets::segment::SegmentError>(())
//! ```

use std::fmt;
use std::sync::Arc;

use super::error::SegmentError;
use super::feature::Feature;
use super::in_order;
use super::profile::{feature_column, Profile};
use super::traits::{Assign, Segmenter};

/// An ABC class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AbcClass {
    /// The top customers holding the first share of value (default 80%).
    A,
    /// The next share (default 15%).
    B,
    /// The rest (default 5%).
    C,
}

impl fmt::Display for AbcClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AbcClass::A => "A",
            AbcClass::B => "B",
            AbcClass::C => "C",
        })
    }
}

/// Parameters of ABC classes: the shares of A and B (C holds the rest) and the value feature.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AbcParams {
    a_share: f64,
    b_share: f64,
    value: Feature,
}

impl Default for AbcParams {
    /// 80 / 15 / 5 on total spend.
    fn default() -> Self {
        AbcParams {
            a_share: 0.80,
            b_share: 0.15,
            value: Feature::TotalSpend,
        }
    }
}

impl AbcParams {
    /// Shares of value held by A and by B (C holds 1 − a − b). Checked when learning:
    /// a > 0, b >= 0, a + b <= 1.
    pub fn shares(mut self, a: f64, b: f64) -> Self {
        self.a_share = a;
        self.b_share = b;
        self
    }
    /// The value feature: [`Feature::TotalSpend`] (default) or [`Feature::Clv`], or any other.
    pub fn value(mut self, feature: Feature) -> Self {
        self.value = feature;
        self
    }
}

impl Segmenter<Profile> for AbcParams {
    type Learnt = Abc;

    fn check(&self) -> Result<(), SegmentError> {
        let (a, b) = (self.a_share, self.b_share);
        if !(a.is_finite() && b.is_finite() && a > 0.0 && b >= 0.0 && a + b <= 1.0 + 1e-12) {
            return Err(SegmentError::invalid(
                "shares",
                format!("A {a}, B {b}"),
                "need a > 0, b >= 0, a + b <= 1",
            ));
        }
        Ok(())
    }

    fn learn(&self, population: &[Profile]) -> Result<Abc, SegmentError> {
        let mut values = self.values(population)?;
        Ok(self.learn_values(&mut values))
    }

    /// As learning and then assigning, with the classes from the values learnt from: one pass
    /// over the profiles, not two. Assigning cannot fail once learning has read every value.
    fn segment(&self, population: &[Profile]) -> Result<(Abc, Vec<AbcClass>), SegmentError> {
        let values = self.values(population)?;
        let abc = self.learn_values(&mut values.clone());
        let classes = in_order::map_index(values.len(), |i| abc.class_of(values[i]));
        Ok((abc, classes))
    }
}

impl AbcParams {
    /// The checked parameters' values of `population`, none negative.
    fn values(&self, population: &[Profile]) -> Result<Vec<f64>, SegmentError> {
        self.check()?;
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        let values = feature_column(population, self.value)?;
        for (p, &v) in population.iter().zip(&values) {
            if v < 0.0 {
                return Err(SegmentError::OutOfRange {
                    customer: p.id().clone(),
                    feature: self.value,
                    value: v,
                    reason: "must not be negative for ABC classes",
                });
            }
        }
        Ok(values)
    }

    /// The thresholds of the values (which it sorts).
    fn learn_values(&self, values: &mut [f64]) -> Abc {
        let (a, b) = (self.a_share, self.b_share);
        in_order::sort_floats(values, true);
        // Values near f64::MAX would sum to infinity: shares are taken of the values divided by
        // a power of two at least the largest (exact), and thresholds scaled back.
        let largest = values.first().copied().unwrap_or(0.0);
        let unit = if largest > 1.0 && largest.is_finite() {
            2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
        } else {
            1.0
        };
        values.iter_mut().for_each(|v| *v /= unit);
        let total: f64 = values.iter().sum();
        let (a_min, b_min) = if total > 0.0 {
            (
                threshold(values, total, a) * unit,
                threshold(values, total, (a + b).min(1.0)) * unit,
            )
        } else {
            // Nobody holds any value: no customer is in A or B, and any positive value would be
            // (the least positive f64 keeps the thresholds finite, so they serialize).
            (f64::from_bits(1), f64::from_bits(1))
        };
        Abc {
            a_min,
            b_min,
            value: self.value,
        }
    }
}

/// The least value whose strictly-higher customers hold less than `share` of `total`
/// (`desc` sorted in descending order).
fn threshold(desc: &[f64], total: f64, share: f64) -> f64 {
    let mut above = 0.0; // value of customers strictly above the current tie group
    let mut i = 0;
    let mut last = f64::INFINITY;
    while i < desc.len() {
        let v = desc[i];
        // A relative tolerance keeps 0.8 + 0.15 from missing a share of exactly 95%.
        if above >= share * total * (1.0 - 1e-12) || v <= 0.0 {
            break;
        }
        last = v;
        let mut group = 0.0;
        while i < desc.len() && desc[i] == v {
            group += v;
            i += 1;
        }
        above += group;
    }
    last
}

/// Learnt ABC classes: the least value in A and in B.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Abc {
    a_min: f64,
    b_min: f64,
    value: Feature,
}

impl Abc {
    /// The least value in class A (the least positive f64 when the population's total was
    /// zero: none of it is in A, any positive value would be).
    pub fn a_threshold(&self) -> f64 {
        self.a_min
    }
    /// The least value in class B.
    pub fn b_threshold(&self) -> f64 {
        self.b_min
    }
    /// The class of a value.
    pub fn class_of(&self, value: f64) -> AbcClass {
        if value >= self.a_min {
            AbcClass::A
        } else if value >= self.b_min {
            AbcClass::B
        } else {
            AbcClass::C
        }
    }
}

impl Assign<Profile> for Abc {
    type Label = AbcClass;
    fn assign(&self, p: &Profile) -> Result<AbcClass, SegmentError> {
        Ok(self.class_of(p.feature(self.value)?))
    }
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<AbcClass>, SegmentError> {
        super::traits::assign_all_in_order(self, customers)
    }
}

/// Value tiers: a base tier and further tiers from increasing thresholds on one feature. A
/// customer is in the highest tier whose threshold its value reaches (v >= threshold).
///
/// ```
/// use customer_assets::segment::abc::ValueTiers;
/// use customer_assets::segment::{Feature, Profile, Segmenter};
/// use customer_assets::{CustomerId, TimeUnit};
/// use rust_decimal::Decimal;
/// let tiers = ValueTiers::new(Feature::TotalSpend, "low", vec![("medium".into(), 100.0), ("high".into(), 1000.0)])?;
/// let p = Profile::new(CustomerId::from(1u64), TimeUnit::DAYS, 2, 5.0, 9.0, Decimal::from(60))?;
/// let (_, labels) = tiers.segment(&[p])?;
/// assert_eq!(labels[0].to_string(), "medium"); // 2 × 60 = 120
/// # Ok::<(), customer_assets::segment::SegmentError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ValueTiersDef"))]
pub struct ValueTiers {
    feature: Feature,
    base: Arc<str>,
    tiers: Vec<(Arc<str>, f64)>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ValueTiersDef {
    feature: Feature,
    base: String,
    tiers: Vec<(String, f64)>,
}

#[cfg(feature = "serde")]
impl TryFrom<ValueTiersDef> for ValueTiers {
    type Error = SegmentError;
    fn try_from(d: ValueTiersDef) -> Result<Self, SegmentError> {
        ValueTiers::new(d.feature, d.base, d.tiers)
    }
}

/// A value tier: its rank (0 = base) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tier {
    /// 0 for the base tier, then 1, 2, … up the thresholds.
    pub rank: usize,
    /// The tier's name.
    pub name: Arc<str>,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl ValueTiers {
    /// Tiers on `feature`: `base` below the first threshold, then `(name, threshold)` pairs with
    /// strictly increasing finite thresholds and non-empty names.
    ///
    /// # Errors
    ///
    /// [`SegmentError::InvalidParameter`] for an empty name, or thresholds that are not finite and
    /// strictly increasing.
    pub fn new(
        feature: Feature,
        base: impl Into<String>,
        tiers: Vec<(String, f64)>,
    ) -> Result<Self, SegmentError> {
        let base = base.into();
        if base.trim().is_empty() || tiers.iter().any(|(n, _)| n.trim().is_empty()) {
            return Err(SegmentError::invalid(
                "tiers",
                format!("{base:?}, {tiers:?}"),
                "a tier name is empty",
            ));
        }
        if tiers.iter().any(|(_, t)| !t.is_finite()) {
            return Err(SegmentError::invalid(
                "tiers",
                format!("{tiers:?}"),
                "thresholds must be finite",
            ));
        }
        if tiers.windows(2).any(|w| w[0].1 >= w[1].1) {
            return Err(SegmentError::invalid(
                "tiers",
                format!("{tiers:?}"),
                "thresholds must be strictly increasing",
            ));
        }
        Ok(ValueTiers {
            feature,
            base: Arc::from(base),
            tiers: tiers.into_iter().map(|(n, t)| (Arc::from(n), t)).collect(),
        })
    }

    /// The tier of a value.
    pub fn tier_of(&self, value: f64) -> Tier {
        let rank = self.tiers.partition_point(|(_, t)| *t <= value);
        let name = match rank.checked_sub(1).and_then(|i| self.tiers.get(i)) {
            Some((n, _)) => n.clone(),
            None => self.base.clone(),
        };
        Tier { rank, name }
    }
}

impl Segmenter<Profile> for ValueTiers {
    type Learnt = ValueTiers;
    /// Nothing to learn: checks the population is not empty and the feature readable.
    fn learn(&self, population: &[Profile]) -> Result<ValueTiers, SegmentError> {
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        feature_column(population, self.feature)?;
        Ok(self.clone())
    }
}

impl Assign<Profile> for ValueTiers {
    type Label = Tier;
    fn assign(&self, p: &Profile) -> Result<Tier, SegmentError> {
        Ok(self.tier_of(p.feature(self.feature)?))
    }
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<Tier>, SegmentError> {
        super::traits::assign_all_in_order(self, customers)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_population_without_value_gets_finite_thresholds_that_class_it_c() {
        use crate::records::CustomerId;
        use crate::time::TimeUnit;
        let base: Vec<Profile> = (0..3u64)
            .map(|i| {
                Profile::new(
                    CustomerId::from(i),
                    TimeUnit::WEEKS,
                    0,
                    0.0,
                    1.0,
                    rust_decimal::Decimal::ZERO,
                )
                .unwrap()
                .with_total_spend(rust_decimal::Decimal::ZERO)
                .unwrap()
            })
            .collect();
        let (abc, labels) = AbcParams::default()
            .value(Feature::TotalSpend)
            .segment(&base)
            .unwrap();
        assert!(abc.a_threshold().is_finite() && abc.b_threshold().is_finite());
        assert!(labels.iter().all(|&l| l == AbcClass::C));
        assert_eq!(abc.class_of(0.01), AbcClass::A);
        // Values whose total overflows f64 still share out: the two huge values hold 80%.
        let huge: Vec<Profile> = [f64::MAX, f64::MAX / 2.0, 1.0]
            .iter()
            .enumerate()
            .map(|(i, &clv)| {
                Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    0,
                    0.0,
                    1.0,
                    rust_decimal::Decimal::ZERO,
                )
                .unwrap()
                .with_clv(clv)
                .unwrap()
            })
            .collect();
        let (abc, labels) = AbcParams::default()
            .value(Feature::Clv)
            .segment(&huge)
            .unwrap();
        assert_eq!(abc.a_threshold(), f64::MAX / 2.0);
        assert_eq!(labels, [AbcClass::A, AbcClass::A, AbcClass::C]);
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&abc).unwrap();
            assert_eq!(serde_json::from_str::<Abc>(&json).unwrap(), abc);
        }
    }

    use super::*;

    #[test]
    fn threshold_includes_the_customer_who_crosses_the_share() {
        let v = [50.0, 30.0, 15.0, 4.0, 1.0];
        assert_eq!(threshold(&v, 100.0, 0.8), 30.0);
        assert_eq!(threshold(&v, 100.0, 0.95), 15.0);
        // Ties at the boundary stay together.
        let t = [40.0, 30.0, 30.0, 0.0];
        assert_eq!(threshold(&t, 100.0, 0.5), 30.0);
        // Zero values never reach A or B.
        assert_eq!(threshold(&[10.0, 0.0, 0.0], 10.0, 1.0), 10.0);
    }
}
