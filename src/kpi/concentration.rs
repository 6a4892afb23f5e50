//! How concentrated value is across customers: top-x% shares, the Gini coefficient and the
//! Lorenz curve.

use crate::error::InvalidParameter;
use rust_decimal::Decimal;

use super::arith::{ratio, to_f64};
use super::error::KpiError;
use crate::summary::Summaries;

/// How concentrated value is across customers: top-x% shares, the Gini coefficient and the
/// Lorenz curve.
///
/// Customers are equal units of mass, so the Lorenz curve L(p) (the share of value held by the
/// poorest fraction p of customers) is the piecewise-linear curve through (i/n, share of the i
/// smallest values); the top-x% share is 1 − L(1 − x), which is defined for any x and n (a single
/// customer's top 20% holds 20%). Gini = 1 − 2·∫L = (2 Σ i·v₍ᵢ₎)/(n Σ v) − (n + 1)/n with
/// ascending values, 0 when all values are equal.
///
/// ```
/// use customer_assets::kpi::Concentration;
/// let c = Concentration::new(&[0.0, 0.0, 0.0, 10.0])?;
/// assert_eq!(c.top_share(0.25)?, 1.0);
/// assert_eq!(c.gini(), 0.75);
/// # Ok::<(), customer_assets::kpi::KpiError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Concentration {
    /// Cumulative shares at i/n, i = 0..=n.
    cumulative: Vec<f64>,
    gini: f64,
}

impl Concentration {
    /// From per-customer values.
    ///
    /// # Errors
    ///
    /// [`KpiError::Empty`] for no values; [`KpiError::InvalidParameter`] for a value that is not
    /// finite or negative, or a total of zero.
    pub fn new(values: &[f64]) -> Result<Self, KpiError> {
        if values.is_empty() {
            return Err(KpiError::Empty {
                what: "customers",
                kpi: "concentration",
            });
        }
        if let Some(v) = values.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(KpiError::InvalidParameter(InvalidParameter::new(
                "value",
                v.to_string(),
                "must be finite and non-negative",
            )));
        }
        let mut sorted = values.to_vec();
        // A total order: the sorted values are the same however they are sorted.
        #[cfg(feature = "parallel")]
        {
            use rayon::slice::ParallelSliceMut;
            sorted.par_sort_unstable_by(f64::total_cmp);
        }
        #[cfg(not(feature = "parallel"))]
        sorted.sort_unstable_by(f64::total_cmp);
        // Shares do not depend on the scale: dividing by the largest value keeps every sum
        // below n (values near f64::MAX would otherwise sum to infinity and give NaN shares).
        let largest = sorted.last().copied().unwrap_or(0.0);
        if largest > 0.0 {
            sorted.iter_mut().for_each(|v| *v /= largest);
        }
        let total: f64 = sorted.iter().sum();
        if total <= 0.0 {
            return Err(KpiError::InvalidParameter(InvalidParameter::new(
                "total value",
                total.to_string(),
                "must be positive to share it out",
            )));
        }
        let n = sorted.len() as f64;
        let mut cumulative = Vec::with_capacity(sorted.len() + 1);
        cumulative.push(0.0);
        let mut acc = 0.0;
        let mut weighted = 0.0;
        for (i, v) in sorted.iter().enumerate() {
            acc += v;
            weighted += (i as f64 + 1.0) * v;
            cumulative.push(acc / total);
        }
        // Rounding can put the formula a hair outside 0..=1 − 1/n; the clamp removes only that.
        let gini = (2.0 * weighted / (n * total) - (n + 1.0) / n).clamp(0.0, 1.0);
        Ok(Concentration { cumulative, gini })
    }

    /// From money values.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new): no values, a negative value, or a total of zero.
    pub fn from_amounts(values: &[Decimal]) -> Result<Self, KpiError> {
        let v: Vec<f64> = values.iter().map(|d| to_f64(*d)).collect();
        Concentration::new(&v)
    }

    /// Of total spend (first purchase included) across summarised customers.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new): no customers, a customer whose net spend is negative, or a total of
    /// zero.
    pub fn of_spend(summaries: &Summaries) -> Result<Self, KpiError> {
        let v: Vec<Decimal> = summaries.iter().map(|s| s.total_spend()).collect();
        Concentration::from_amounts(&v)
    }

    /// The top-x% shares for each `top` in `tops`, in order.
    ///
    /// # Errors
    ///
    /// As [`top_share`](Self::top_share): a fraction outside 0..=1.
    pub fn top_shares(&self, tops: &[f64]) -> Result<Vec<TopShare>, KpiError> {
        tops.iter()
            .map(|&top| {
                Ok(TopShare {
                    top,
                    share: self.top_share(top)?,
                })
            })
            .collect()
    }

    /// Number of customers.
    pub fn customers(&self) -> usize {
        self.cumulative.len() - 1
    }

    /// L(p): share of value held by the poorest fraction `p` of customers.
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidParameter`] when `p` lies outside 0..=1.
    pub fn lorenz_at(&self, p: f64) -> Result<f64, KpiError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(KpiError::InvalidParameter(InvalidParameter::new(
                "fraction",
                p.to_string(),
                "must lie in 0..=1",
            )));
        }
        let n = self.customers() as f64;
        let x = p * n;
        let i = (x.floor() as usize).min(self.customers().saturating_sub(1));
        let lo = self.cumulative.get(i).copied().unwrap_or(0.0);
        let hi = self.cumulative.get(i + 1).copied().unwrap_or(1.0);
        Ok(lo + (hi - lo) * (x - i as f64))
    }

    /// Share of value held by the top fraction `x` of customers (e.g. 0.2 for the top 20%).
    ///
    /// # Errors
    ///
    /// [`KpiError::InvalidParameter`] when `x` lies outside 0..=1.
    pub fn top_share(&self, x: f64) -> Result<f64, KpiError> {
        if !(0.0..=1.0).contains(&x) {
            return Err(KpiError::InvalidParameter(InvalidParameter::new(
                "fraction",
                x.to_string(),
                "must lie in 0..=1",
            )));
        }
        Ok(1.0 - self.lorenz_at(1.0 - x)?)
    }

    /// The Gini coefficient, 0 (equal) ..= 1 − 1/n (one customer holds everything).
    pub fn gini(&self) -> f64 {
        self.gini
    }

    /// Lorenz points (customer share, value share) from (0, 0) to (1, 1): all n + 1 when
    /// `max_points` allows, else `max_points` (at least 2) evenly spaced in customer share.
    pub fn lorenz_points(&self, max_points: usize) -> Vec<(f64, f64)> {
        let n = self.customers();
        let m = max_points.max(2);
        if n < m {
            return (0..=n).map(|i| (ratio(i, n), self.cumulative[i])).collect();
        }
        (0..m)
            .map(|j| {
                let i = j * n / (m - 1);
                (ratio(i, n), self.cumulative[i])
            })
            .collect()
    }
}

/// The share of value held by a top fraction of customers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TopShare {
    /// The top fraction of customers (0.2 for the top 20%).
    pub top: f64,
    /// The share of value they hold.
    pub share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_gini_of_values_near_the_f64_limit_are_finite() {
        let c = Concentration::new(&[f64::MAX, f64::MAX, f64::MAX / 2.0, 0.0]).unwrap();
        assert!(c.gini().is_finite() && (0.0..=1.0).contains(&c.gini()));
        assert_eq!(c.top_share(0.5).unwrap(), 0.8);
        for (p, share) in c.lorenz_points(10) {
            assert!(p.is_finite() && (0.0..=1.0).contains(&share), "{p} {share}");
        }
        let equal = Concentration::new(&[f64::MAX; 3]).unwrap();
        assert_eq!(equal.gini(), 0.0);
        let tiny = Concentration::new(&[f64::MIN_POSITIVE, 0.0]).unwrap();
        assert_eq!(tiny.top_share(0.5).unwrap(), 1.0);
        let spend = Concentration::from_amounts(&[Decimal::MAX, Decimal::MAX]).unwrap();
        assert_eq!(spend.gini(), 0.0);
    }
}
