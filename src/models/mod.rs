//! CLV models: the extension traits every model implements, and the models themselves.
//!
//! A model comes in two parts, as in linfa: validated *parameters* (how to fit) and a *fitted
//! model* (what was learnt, with its fit report). Predictions live on the fitted model. A downstream
//! crate adds a model by implementing [`TransactionModel`] or [`SpendModel`] for its own fitted type.

use crate::time::TimeUnit;

pub mod gamma_gamma;
pub use gamma_gamma::{
    GammaGamma, GammaGammaError, GammaGammaParams, GammaGammaValues, SpendData, SpendDataError,
};
pub mod bdw;
pub mod bg_bb;
pub mod contractual;
pub mod sbg;

/// Why a prediction could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    /// An input (history, horizon, rate, count) is outside the model's domain.
    #[error("invalid input {name} = {value}: {reason}")]
    InvalidInput {
        /// Which input.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What the model requires.
        reason: &'static str,
    },
    /// The computation failed numerically (for example a series that did not converge).
    #[error("numerical failure in {what}: {detail}")]
    Numerical {
        /// Which quantity.
        what: &'static str,
        /// Diagnostics.
        detail: String,
    },
}

/// One customer's purchase history as the transaction models see it: x repeat purchases, the
/// last at t_x, observed for T since the first purchase (t_x and T in the model's time unit; for
/// discrete-time models, whole periods).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct History {
    /// x: number of repeat purchases.
    pub frequency: u32,
    /// t_x: time of the last purchase since the first.
    pub recency: f64,
    /// T: time observed since the first purchase.
    pub age: f64,
}

impl History {
    /// A history from x, t_x and T.
    pub fn new(frequency: u32, recency: f64, age: f64) -> Self {
        History {
            frequency,
            recency,
            age,
        }
    }

    /// Checks 0 <= t_x <= T, both finite, and t_x = 0 when x = 0.
    pub fn validate(&self) -> Result<(), PredictError> {
        let bad = |name, value, reason| {
            Err(PredictError::InvalidInput {
                name,
                value,
                reason,
            })
        };
        if !(self.age.is_finite() && self.age >= 0.0) {
            return bad("age", self.age, "must be finite and non-negative");
        }
        if !(self.recency.is_finite() && self.recency >= 0.0 && self.recency <= self.age) {
            return bad("recency", self.recency, "must be finite and within 0..=age");
        }
        if self.frequency == 0 && self.recency != 0.0 {
            return bad("recency", self.recency, "must be 0 when frequency is 0");
        }
        Ok(())
    }
}

impl From<&crate::summary::Pattern> for History {
    fn from(p: &crate::summary::Pattern) -> Self {
        History::new(p.frequency(), p.recency(), p.age())
    }
}

impl From<&crate::summary::CustomerSummary> for History {
    fn from(s: &crate::summary::CustomerSummary) -> Self {
        History::new(s.frequency(), s.recency(), s.age())
    }
}

/// A fitted purchase-and-dropout ("buy till you die") model.
///
/// Horizons `t` and rates are in [`TransactionModel::unit`]. Every method returns a finite number
/// or an error; none returns NaN.
pub trait TransactionModel {
    /// A short name such as `"bg-nbd"`.
    fn name(&self) -> &str;
    /// The time unit of the data the model was fitted on.
    fn unit(&self) -> TimeUnit;
    /// Number of fitted parameters (for AIC and BIC).
    fn parameter_count(&self) -> usize;
    /// Log-likelihood of one customer's history.
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError>;
    /// Probability that the customer is still alive at T + `t` (use `t = 0` for "now").
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Expected number of purchases in (T, T + `t`] given the history.
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Probability of exactly `n` purchases in (T, T + `t`] given the history.
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError>;
    /// Expected number of repeat purchases in (0, `t`] of a customer just acquired.
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError>;
    /// Probability that a customer just acquired makes exactly `n` repeat purchases in (0, `t`].
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError>;
    /// Discounted expected residual transactions at continuous discount rate `rate` per unit time.
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError>;
    /// The fitted parameters by name, for reports (empty unless the model lists them).
    fn parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    /// The report of the fit that produced the model, when it was fitted.
    fn fit_report(&self) -> Option<&crate::fit::FitReport> {
        None
    }
}

/// A fitted model of spend per transaction.
pub trait SpendModel {
    /// A short name such as `"gamma-gamma"`.
    fn name(&self) -> &str;
    /// Expected spend per transaction of a customer with `frequency` repeat purchases whose mean
    /// spend was `mean_spend` (the summary's monetary value).
    fn expected_spend(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError>;
    /// Expected spend per transaction of a customer with no purchase history.
    fn expected_spend_new(&self) -> Result<f64, PredictError>;
    /// The fitted parameters by name, for reports (empty unless the model lists them).
    fn parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    /// The report of the fit that produced the model, when it was fitted.
    fn fit_report(&self) -> Option<&crate::fit::FitReport> {
        None
    }
}

pub mod bg_nbd;
pub mod btyd;
pub mod clv;
pub mod mbg_nbd;
pub mod pareto_nbd;
