//! Asset quality: customers as assets to grow, develop, win back or divest.
//!
//! A quadrant of CLV × P(alive): customers at or above both cut points are assets to **grow**;
//! likely alive but of low value, to **develop**; valuable but likely gone, to **win back**; low on
//! both, to **divest**. Each cut point is either a fixed value or a quantile of the population
//! (learnt, then applied to new customers). Defaults: CLV cut at the population median, P(alive)
//! cut at 0.5. Both values are supplied by the caller on each [`Profile`] (from fitted models).
//! [`AssetQuality::value_by_class`] gives the number of customers and the value of the base in
//! each class.
//!
//! ```
//! use customer_assets::segment::asset_quality::{AssetClass, AssetQualityParams, Cut};
//! use customer_assets::segment::{Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let p = |id: u64, clv: f64, pa: f64| -> Result<Profile, customer_assets::segment::SegmentError> {
//!     Profile::new(CustomerId::from(id), TimeUnit::WEEKS, 1, 1.0, 2.0, Decimal::ONE)?.with_clv(clv)?.with_p_alive(pa)
//! };
//! let base = vec![p(1, 500.0, 0.9)?, p(2, 20.0, 0.8)?, p(3, 400.0, 0.1)?, p(4, 10.0, 0.2)?];
//! let (aq, classes) = AssetQualityParams::default().clv_cut(Cut::Value(100.0)).segment(&base)?;
//! assert_eq!(classes, vec![AssetClass::Grow, AssetClass::Develop, AssetClass::WinBack, AssetClass::Divest]);
//! let value = aq.value_by_class(&base)?;
//! assert_eq!(value[0].clv, 500.0);
//! # Ok::<(), customer_assets::segment::SegmentError>(())
//! ```

use std::fmt;

use super::error::SegmentError;
use super::feature::Feature;
use super::in_order;
use super::profile::{feature_columns, Profile};
use super::traits::{Assign, Segmenter};

/// An asset class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AssetClass {
    /// High CLV, high P(alive).
    Grow,
    /// Low CLV, high P(alive).
    Develop,
    /// High CLV, low P(alive).
    WinBack,
    /// Low CLV, low P(alive).
    Divest,
}

impl AssetClass {
    /// All four, in display order.
    pub const ALL: [AssetClass; 4] = [
        AssetClass::Grow,
        AssetClass::Develop,
        AssetClass::WinBack,
        AssetClass::Divest,
    ];
}

impl fmt::Display for AssetClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AssetClass::Grow => "grow",
            AssetClass::Develop => "develop",
            AssetClass::WinBack => "win back",
            AssetClass::Divest => "divest",
        })
    }
}

/// A cut point: a fixed value or a quantile of the population.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Cut {
    /// This value.
    Value(f64),
    /// The population's q-quantile (nearest rank), q in 0..=1.
    Quantile(f64),
}

impl Cut {
    /// A finite value, or a quantile in 0..=1.
    fn check(self, name: &'static str) -> Result<(), SegmentError> {
        match self {
            Cut::Value(v) if v.is_finite() => Ok(()),
            Cut::Quantile(q) if (0.0..=1.0).contains(&q) => Ok(()),
            other => Err(SegmentError::invalid(
                name,
                format!("{other:?}"),
                "a finite value or a quantile in 0..=1",
            )),
        }
    }

    fn resolve(self, name: &'static str, values: &mut [f64]) -> Result<f64, SegmentError> {
        match self {
            Cut::Value(v) if v.is_finite() => Ok(v),
            Cut::Quantile(q) if (0.0..=1.0).contains(&q) => {
                let n = values.len();
                if n == 0 {
                    return Err(SegmentError::EmptyPopulation);
                }
                // The nearest rank, selected in linear time (no full sort).
                let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
                let (_, at, _) = values.select_nth_unstable_by(rank - 1, f64::total_cmp);
                Ok(*at)
            }
            other => Err(SegmentError::invalid(
                name,
                format!("{other:?}"),
                "a finite value or a quantile in 0..=1",
            )),
        }
    }
}

/// Parameters of asset quality: the CLV and P(alive) cut points.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AssetQualityParams {
    clv_cut: Cut,
    p_alive_cut: Cut,
}

impl Default for AssetQualityParams {
    /// CLV cut at the median, P(alive) cut at 0.5.
    fn default() -> Self {
        AssetQualityParams {
            clv_cut: Cut::Quantile(0.5),
            p_alive_cut: Cut::Value(0.5),
        }
    }
}

impl AssetQualityParams {
    /// The CLV cut: customers at or above it are high value.
    pub fn clv_cut(mut self, cut: Cut) -> Self {
        self.clv_cut = cut;
        self
    }
    /// The P(alive) cut: customers at or above it are likely alive.
    pub fn p_alive_cut(mut self, cut: Cut) -> Self {
        self.p_alive_cut = cut;
        self
    }
}

impl Segmenter<Profile> for AssetQualityParams {
    type Learnt = AssetQuality;
    fn check(&self) -> Result<(), SegmentError> {
        self.clv_cut.check("clv_cut")?;
        self.p_alive_cut.check("p_alive_cut")
    }

    fn learn(&self, population: &[Profile]) -> Result<AssetQuality, SegmentError> {
        let [mut clv, mut pa] = self.columns(population)?;
        self.learn_columns(&mut clv, &mut pa)
    }

    /// As learning and then assigning, with the classes from the columns learnt from: one pass
    /// over the profiles, not two. Assigning cannot fail once learning has read every value.
    fn segment(
        &self,
        population: &[Profile],
    ) -> Result<(AssetQuality, Vec<AssetClass>), SegmentError> {
        let [clv, pa] = self.columns(population)?;
        let learnt = self.learn_columns(&mut clv.clone(), &mut pa.clone())?;
        let classes = in_order::map_index(clv.len(), |i| learnt.class_of(clv[i], pa[i]));
        Ok((learnt, classes))
    }
}

impl AssetQualityParams {
    /// The checked parameters' CLV and P(alive) columns of `population`.
    fn columns(&self, population: &[Profile]) -> Result<[Vec<f64>; 2], SegmentError> {
        self.check()?;
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        feature_columns(population, [Feature::Clv, Feature::PAlive])
    }

    /// The cut points of the columns (which it reorders).
    fn learn_columns(&self, clv: &mut [f64], pa: &mut [f64]) -> Result<AssetQuality, SegmentError> {
        Ok(AssetQuality {
            clv_cut: self.clv_cut.resolve("clv_cut", clv)?,
            p_alive_cut: self.p_alive_cut.resolve("p_alive_cut", pa)?,
        })
    }
}

/// Learnt asset quality: the resolved cut points.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AssetQuality {
    clv_cut: f64,
    p_alive_cut: f64,
}

/// The customers and value of the base in one asset class.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassValue {
    /// The class.
    pub class: AssetClass,
    /// Customers in it.
    pub customers: usize,
    /// Sum of their CLV.
    pub clv: f64,
    /// Share of the base's total CLV (0 when the total is 0).
    pub clv_share: f64,
}

impl AssetQuality {
    /// The CLV cut.
    pub fn clv_cut(&self) -> f64 {
        self.clv_cut
    }
    /// The P(alive) cut.
    pub fn p_alive_cut(&self) -> f64 {
        self.p_alive_cut
    }
    /// The class of a (CLV, P(alive)) pair.
    pub fn class_of(&self, clv: f64, p_alive: f64) -> AssetClass {
        match (clv >= self.clv_cut, p_alive >= self.p_alive_cut) {
            (true, true) => AssetClass::Grow,
            (false, true) => AssetClass::Develop,
            (true, false) => AssetClass::WinBack,
            (false, false) => AssetClass::Divest,
        }
    }
    /// Customers and CLV per class (all four classes, in [`AssetClass::ALL`] order); the
    /// classes partition `customers`, so the CLV sums to the base's total.
    ///
    /// # Errors
    ///
    /// [`SegmentError::MissingFeature`] or [`SegmentError::NotFinite`] for a CLV or P(alive) that
    /// the profile lacks or that is not finite; [`SegmentError::InvalidParameter`] when the CLVs
    /// add up past f64.
    pub fn value_by_class(&self, customers: &[Profile]) -> Result<Vec<ClassValue>, SegmentError> {
        let mut out: Vec<ClassValue> = AssetClass::ALL
            .iter()
            .map(|&class| ClassValue {
                class,
                customers: 0,
                clv: 0.0,
                clv_share: 0.0,
            })
            .collect();
        let mut total = 0.0;
        for p in customers {
            let clv = p.feature(Feature::Clv)?;
            let class = self.class_of(clv, p.feature(Feature::PAlive)?);
            if let Some(c) = out.iter_mut().find(|c| c.class == class) {
                c.customers += 1;
                c.clv += clv;
            }
            total += clv;
        }
        if !(f64::is_finite(total) && out.iter().all(|c| c.clv.is_finite())) {
            return Err(SegmentError::invalid(
                "clv",
                format!("a total of {total:.3e}"),
                "the CLVs of the base (and of each class) must add up to a finite number",
            ));
        }
        if total != 0.0 {
            for c in &mut out {
                c.clv_share = c.clv / total;
            }
        }
        Ok(out)
    }
}

impl Assign<Profile> for AssetQuality {
    type Label = AssetClass;
    fn assign(&self, p: &Profile) -> Result<AssetClass, SegmentError> {
        Ok(self.class_of(p.feature(Feature::Clv)?, p.feature(Feature::PAlive)?))
    }
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<AssetClass>, SegmentError> {
        super::traits::assign_all_in_order(self, customers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::CustomerId;
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    fn base(clv: &[f64]) -> Vec<Profile> {
        clv.iter()
            .enumerate()
            .map(|(i, &clv)| {
                Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    1,
                    1.0,
                    2.0,
                    Decimal::ONE,
                )
                .unwrap()
                .with_p_alive(0.5)
                .unwrap()
                .with_clv(clv)
                .unwrap()
            })
            .collect()
    }

    proptest::proptest! {
        /// A quantile cut is the nearest-rank quantile of the sorted values.
        #[test]
        fn a_quantile_cut_is_the_nearest_rank_of_the_sorted_values(
            clv in proptest::collection::vec(-1e6..1e6f64, 1..200),
            q in 0.0..=1.0f64,
        ) {
            let learnt = AssetQualityParams::default()
                .clv_cut(Cut::Quantile(q))
                .learn(&base(&clv))
                .unwrap();
            let mut sorted = clv.clone();
            sorted.sort_by(f64::total_cmp);
            let rank = ((q * clv.len() as f64).ceil() as usize).clamp(1, clv.len());
            proptest::prop_assert_eq!(learnt.clv_cut(), sorted[rank - 1]);
        }
    }

    #[test]
    fn clv_totals_past_f64_are_an_error_not_infinite_shares() {
        let base = base(&[f64::MAX, f64::MAX, 1.0]);
        let learnt = AssetQualityParams::default().learn(&base).unwrap();
        let err = learnt.value_by_class(&base).unwrap_err();
        assert!(err.to_string().contains("finite"), "{err}");
        let fine = learnt.value_by_class(&base[1..]).unwrap();
        let share: f64 = fine.iter().map(|c| c.clv_share).sum();
        assert!((share - 1.0).abs() < 1e-12, "{fine:?}");
    }
}
