//! The population-mean spend model: every customer's next transaction is worth the mean value of
//! one transaction in the data, whatever the customer's own history.
//!
//! It is the limit of the Gamma-Gamma model without spend heterogeneity (q → ∞ with γ/q fixed:
//! every customer's transaction values share one distribution), so the model to fall back on when
//! a Gamma-Gamma fit finds that boundary, or when the data cannot identify Gamma-Gamma at all
//! (every repeat buyer spends the same). Its estimate is the mean value of a repeat transaction,
//! Σ w·x·m̄ₓ / Σ w·x ([`SpendData::mean_transaction_value`]).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::{MeanSpend, MeanSpendParams, SpendData};
//! use customer_assets::SpendModel;
//!
//! // (x, mean spend, customers): every repeat buyer spends 20 a transaction.
//! let data = SpendData::new([(1, 20.0, 3.0), (4, 20.0, 2.0)])?;
//! let model = MeanSpendParams::new().fit(&data)?;
//! assert_eq!(model.expected_spend(4, 20.0)?, 20.0);
//! assert_eq!(MeanSpend::new(12.5)?.expected_spend_new()?, 12.5);
//! assert!(MeanSpend::new(-1.0).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError};
use crate::models::error::PredictError;
use crate::models::spend_data::SpendData;
use crate::models::spend_model::SpendModel;

/// The model's name, in errors and reports.
const MODEL: &str = "population mean spend";

/// How to fit [`MeanSpend`]: nothing to set; the estimate is the data's mean transaction value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MeanSpendParams;

impl MeanSpendParams {
    /// The settings (there are none).
    pub fn new() -> Self {
        MeanSpendParams
    }
}

impl Fit<SpendData> for MeanSpendParams {
    type Model = MeanSpend;
    type Error = FitError;

    /// The mean value of one repeat transaction in `data`.
    ///
    /// # Errors
    /// [`FitError::Numerical`] when that mean is not a positive finite number (weights so large
    /// that their sum overflows).
    fn fit(&self, data: &SpendData) -> Result<MeanSpend, FitError> {
        let mean = data.mean_transaction_value();
        let mut model = MeanSpend::new(mean).map_err(|e| FitError::invalid_estimate(MODEL, e))?;
        model.covariance = mean_variance(data, mean)
            .and_then(|v| Covariance::new(vec!["mean".into()], vec![vec![v]]).ok());
        Ok(model)
    }
}

/// The variance of the mean transaction value Σ w·x·m̄ₓ / Σ w·x over customers (each customer's
/// transactions are a cluster): the ratio estimator's linearisation,
/// n/(n − 1) · Σ w x² (m̄ₓ − mean)² / (Σ w x)², n = Σ w customers. `None` for one customer or
/// fewer, whose spends say nothing of the variation between customers. Weights are divided by
/// the largest first, so that nothing overflows.
fn mean_variance(data: &SpendData, mean: f64) -> Option<f64> {
    let customers = data.total_weight();
    if customers.is_nan() || customers <= 1.0 {
        return None;
    }
    // n/(n − 1) is 1 for a sum of weights beyond the floats.
    let correction = if customers.is_finite() {
        customers / (customers - 1.0)
    } else {
        1.0
    };
    let largest = data.rows().iter().fold(0.0f64, |m, r| m.max(r.weight()));
    let (mut squares, mut transactions) = (0.0, 0.0);
    for r in data.rows() {
        let w = r.weight() / largest;
        let x = f64::from(r.frequency());
        squares += w * (x * (r.mean_spend() - mean)).powi(2);
        transactions += w * x;
    }
    let variance = correction * squares / (largest * transactions * transactions);
    variance.is_finite().then_some(variance)
}

impl crate::models::bootstrap::WarmStart<SpendData> for MeanSpendParams {
    /// The same settings: the estimate is in closed form, with no start to warm.
    fn warm_started(&self, _model: &MeanSpend) -> Self {
        *self
    }
}

/// Every customer's expected spend per transaction is one population mean. A fitted model
/// carries the variance of its mean (1 × 1 covariance, for intervals).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "MeanSpendData"))]
pub struct MeanSpend {
    mean: f64,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    covariance: Option<Covariance>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct MeanSpendData {
    mean: f64,
    #[serde(default)]
    covariance: Option<Covariance>,
}

#[cfg(feature = "serde")]
impl TryFrom<MeanSpendData> for MeanSpend {
    type Error = InvalidParameter;
    fn try_from(d: MeanSpendData) -> Result<Self, InvalidParameter> {
        let mut model = MeanSpend::new(d.mean)?;
        if let Some(covariance) = &d.covariance {
            covariance.check_names(&["mean"])?;
        }
        model.covariance = d.covariance;
        Ok(model)
    }
}

impl MeanSpend {
    /// The model with mean spend per transaction `mean`.
    ///
    /// # Errors
    /// [`InvalidParameter`] unless `mean` is positive and finite.
    pub fn new(mean: f64) -> Result<Self, InvalidParameter> {
        InvalidParameter::positive("mean", mean)?;
        Ok(MeanSpend {
            mean,
            covariance: None,
        })
    }

    /// The mean spend per transaction.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The variance of the mean as a 1 × 1 covariance, when fitted on more than one customer.
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
}

crate::models::uncertainty::reparameterize!(MeanSpend, ["mean"], |m| [m.mean], |_m, v| {
    let [mean] = v;
    MeanSpend::new(mean)
});

impl SpendModel for MeanSpend {
    fn reparameterized(
        &self,
        values: &[f64],
    ) -> Option<Result<Box<dyn SpendModel>, crate::InvalidParameter>> {
        crate::models::uncertainty::boxed_spend(self, values)
    }
    fn name(&self) -> &str {
        MODEL
    }

    /// The population mean, whatever the history (the history is still checked: a negative or
    /// non-finite mean spend is not a history).
    fn expected_spend(&self, _frequency: u32, mean_spend: f64) -> Result<f64, PredictError> {
        if !(mean_spend.is_finite() && mean_spend >= 0.0) {
            return Err(PredictError::InvalidInput {
                name: "mean_spend",
                value: mean_spend,
                reason: "must be finite and non-negative",
            });
        }
        Ok(self.mean)
    }

    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        Ok(self.mean)
    }

    /// The mean.
    fn named_parameters(&self) -> Vec<(String, f64)> {
        vec![("mean".into(), self.mean)]
    }

    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_weighs_each_transaction_once() {
        // 3 customers × 1 transaction at 10, 1 customer × 3 transactions at 30: (30 + 90) / 6.
        let data = SpendData::new([(1, 10.0, 3.0), (3, 30.0, 1.0)]).unwrap();
        let m = MeanSpendParams::new().fit(&data).unwrap();
        assert!((m.mean() - 20.0).abs() < 1e-12);
    }

    #[test]
    fn the_mean_carries_its_cluster_variance() {
        // Customers (x, m̄ₓ): (1, 10), (1, 10), (1, 10), (3, 30); mean 20, deviations per
        // customer x (m̄ₓ − 20): −10, −10, −10, 30; n/(n − 1) Σ² / (Σ w x)² = 4/3 · 1200 / 36.
        let data = SpendData::new([(1, 10.0, 3.0), (3, 30.0, 1.0)]).unwrap();
        let m = MeanSpendParams::new().fit(&data).unwrap();
        let v = m.covariance().unwrap().matrix()[0][0];
        assert!((v - 4.0 / 3.0 * 1200.0 / 36.0).abs() < 1e-9, "{v}");
        // One customer: no variance between customers to estimate.
        let one = MeanSpendParams::new()
            .fit(&SpendData::new([(2, 10.0, 1.0)]).unwrap())
            .unwrap();
        assert!(one.covariance().is_none());
        // Huge weights keep a finite variance.
        let data = SpendData::new([(7, 10.0, 1e308), (7, 30.0, 1e308)]).unwrap();
        let m = MeanSpendParams::new().fit(&data).unwrap();
        assert!(m.covariance().unwrap().matrix()[0][0].is_finite());
    }

    #[test]
    fn huge_weights_do_not_overflow_the_mean() {
        let data = SpendData::new([(7, 10.0, 1e308), (7, 30.0, 1e308)]).unwrap();
        let m = MeanSpendParams::new().fit(&data).unwrap();
        assert!((m.mean() - 20.0).abs() < 1e-9, "{}", m.mean());
    }

    #[test]
    fn histories_are_checked() {
        let m = MeanSpend::new(5.0).unwrap();
        assert!(m.expected_spend(2, f64::NAN).is_err());
        assert!(m.expected_spend(2, -1.0).is_err());
        assert!(MeanSpend::new(f64::INFINITY).is_err());
        assert!(MeanSpend::new(0.0).is_err());
    }
}
