//! CLV models: the extension traits every model implements, and the models themselves.
//!
//! Every model reads the same way (see [`crate::fit`]): `XParams` are the fit settings and
//! implement [`Fit`](crate::fit::Fit); fitting gives the model `X` (parameters, covariance,
//! standard errors, fit report, time unit, and every prediction); `XParameters` are plain values
//! for `X::new` without fitting.
//!
//! | model | settings → model | data | trait |
//! |---|---|---|---|
//! | BG/NBD ([`bg_nbd`]) | [`BgNbdParams`] → [`BgNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | MBG/NBD ([`mbg_nbd`]) | [`MbgNbdParams`] → [`MbgNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | Pareto/NBD ([`pareto_nbd`]) | [`ParetoNbdParams`] → [`ParetoNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | BG/BB ([`bg_bb`]) | [`BgBbParams`] → [`BgBb`] | [`DiscretePatterns`] | [`TransactionModel`] |
//! | Gamma-Gamma ([`gamma_gamma`]) | [`GammaGammaParams`] → [`GammaGamma`] | [`SpendData`] | [`SpendModel`] |
//! | sBG ([`sbg`]) | [`SbgParams`] → [`Sbg`] | `[`[`Cohort`]`]` | [`RetentionModel`] |
//! | BdW ([`bdw`]) | [`BdwParams`] → [`Bdw`] | `[`[`Cohort`]`]` | [`RetentionModel`] |
//!
//! A downstream crate adds a model by implementing [`TransactionModel`], [`SpendModel`] or
//! [`RetentionModel`] for its model type, and [`Fit`](crate::fit::Fit) for its settings.

use crate::fit::{Covariance, FitReport};
use crate::time::TimeUnit;

pub mod bdw;
pub mod bg_bb;
pub mod contractual;
pub mod gamma_gamma;
pub mod sbg;

/// Why a prediction could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
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

    /// A customer just acquired: x = 0, t_x = 0, T = 0 (the prior is the posterior).
    pub const fn new_customer() -> Self {
        History {
            frequency: 0,
            recency: 0.0,
            age: 0.0,
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
///
/// A model implements the eight required methods; new-customer predictions, batch predictions
/// (spread over cores with the `parallel` feature), the parameter count, the fit report and the
/// covariance are provided, and a model overrides them where it has something faster or more.
/// `&T`, `Box<T>` and `Arc<T>` are models wherever `T` is, so a model can be shared or boxed
/// without losing any of it.
///
/// # Errors
/// Every prediction returns [`PredictError::InvalidInput`] for a history or horizon outside the
/// model's domain and [`PredictError::Numerical`] where the computation fails.
pub trait TransactionModel: Send + Sync {
    /// A short name such as `"bg-nbd"`.
    fn name(&self) -> &str;
    /// The time unit of the data the model was fitted on.
    fn unit(&self) -> TimeUnit;
    /// The parameters as (name, value) pairs, for reports and for callers holding a `dyn`
    /// model (rates per [`TransactionModel::unit`]); every model of the crate also has a typed
    /// `parameters()` getter.
    fn named_parameters(&self) -> Vec<(String, f64)>;
    /// Log-likelihood of one customer's history.
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError>;
    /// Probability that the customer is still alive at T + `t` (use `t = 0` for "now").
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Expected number of purchases in (T, T + `t`] given the history.
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Probability of exactly `n` purchases in (T, T + `t`] given the history.
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError>;
    /// Discounted expected residual transactions at continuous discount rate `rate` per unit time.
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError>;

    /// Number of fitted parameters (for AIC and BIC): the length of
    /// [`named_parameters`](Self::named_parameters).
    fn parameter_count(&self) -> usize {
        self.named_parameters().len()
    }
    /// The report of the fit that produced the model, when it was fitted.
    fn fit_report(&self) -> Option<&FitReport> {
        None
    }
    /// The covariance of the fitted parameters, when it was fitted and the information matrix
    /// is positive definite.
    fn covariance(&self) -> Option<&Covariance> {
        None
    }
    /// Expected number of repeat purchases in (0, `t`] of a customer just acquired: the
    /// prediction for [`History::new_customer`].
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        self.expected_purchases(&History::new_customer(), t)
    }
    /// Probability that a customer just acquired makes exactly `n` repeat purchases in (0, `t`].
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        self.purchase_probability(&History::new_customer(), n, t)
    }
    /// [`p_alive`](Self::p_alive) now (t = 0) for many customers, in order.
    fn p_alive_batch(&self, histories: &[History]) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.p_alive(h, 0.0))
    }
    /// [`expected_purchases`](Self::expected_purchases) for many customers, in order.
    fn expected_purchases_batch(
        &self,
        histories: &[History],
        t: f64,
    ) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.expected_purchases(h, t))
    }
    /// [`dert`](Self::dert) for many customers, in order.
    fn dert_batch(&self, histories: &[History], rate: f64) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.dert(h, rate))
    }
}

/// Applies `f` to every history (in parallel with the `parallel` feature), keeping the order;
/// the first error wins.
pub(crate) fn batch<F>(histories: &[History], f: F) -> Result<Vec<f64>, PredictError>
where
    F: Fn(&History) -> Result<f64, PredictError> + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        histories.par_iter().map(f).collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        histories.iter().map(f).collect()
    }
}

/// Implements a model trait for a pointer type by forwarding every method, provided ones
/// included, so an override in the pointee is kept.
macro_rules! forward_transaction_model {
    ($($pointer:ty),*) => {$(
        impl<T: TransactionModel + ?Sized> TransactionModel for $pointer {
            fn name(&self) -> &str { (**self).name() }
            fn unit(&self) -> TimeUnit { (**self).unit() }
            fn named_parameters(&self) -> Vec<(String, f64)> { (**self).named_parameters() }
            fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> { (**self).log_likelihood(h) }
            fn p_alive(&self, h: &History, t: f64) -> Result<f64, PredictError> { (**self).p_alive(h, t) }
            fn expected_purchases(&self, h: &History, t: f64) -> Result<f64, PredictError> { (**self).expected_purchases(h, t) }
            fn purchase_probability(&self, h: &History, n: u32, t: f64) -> Result<f64, PredictError> { (**self).purchase_probability(h, n, t) }
            fn dert(&self, h: &History, rate: f64) -> Result<f64, PredictError> { (**self).dert(h, rate) }
            fn parameter_count(&self) -> usize { (**self).parameter_count() }
            fn fit_report(&self) -> Option<&FitReport> { (**self).fit_report() }
            fn covariance(&self) -> Option<&Covariance> { (**self).covariance() }
            fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> { (**self).expected_purchases_new(t) }
            fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> { (**self).purchase_probability_new(n, t) }
            fn p_alive_batch(&self, hs: &[History]) -> Result<Vec<f64>, PredictError> { (**self).p_alive_batch(hs) }
            fn expected_purchases_batch(&self, hs: &[History], t: f64) -> Result<Vec<f64>, PredictError> { (**self).expected_purchases_batch(hs, t) }
            fn dert_batch(&self, hs: &[History], rate: f64) -> Result<Vec<f64>, PredictError> { (**self).dert_batch(hs, rate) }
        }
    )*};
}
forward_transaction_model!(&T, Box<T>, std::sync::Arc<T>);

/// A fitted model of spend per transaction.
///
/// Three required methods; the parameters, the fit report and the covariance are provided
/// (empty). `&T`, `Box<T>` and `Arc<T>` are spend models wherever `T` is.
///
/// # Errors
/// [`PredictError::InvalidInput`] for a frequency or mean spend outside the model's domain.
pub trait SpendModel: Send + Sync {
    /// A short name such as `"gamma-gamma"`.
    fn name(&self) -> &str;
    /// Expected spend per transaction of a customer with `frequency` repeat purchases whose mean
    /// spend was `mean_spend` (the summary's monetary value).
    fn expected_spend(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError>;
    /// Expected spend per transaction of a customer with no purchase history.
    fn expected_spend_new(&self) -> Result<f64, PredictError>;
    /// The fitted parameters by name, for reports (empty unless the model lists them).
    fn named_parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    /// The report of the fit that produced the model, when it was fitted.
    fn fit_report(&self) -> Option<&FitReport> {
        None
    }
    /// The covariance of the fitted parameters, when it was fitted.
    fn covariance(&self) -> Option<&Covariance> {
        None
    }
}

macro_rules! forward_spend_model {
    ($($pointer:ty),*) => {$(
        impl<T: SpendModel + ?Sized> SpendModel for $pointer {
            fn name(&self) -> &str { (**self).name() }
            fn expected_spend(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError> { (**self).expected_spend(frequency, mean_spend) }
            fn expected_spend_new(&self) -> Result<f64, PredictError> { (**self).expected_spend_new() }
            fn named_parameters(&self) -> Vec<(String, f64)> { (**self).named_parameters() }
            fn fit_report(&self) -> Option<&FitReport> { (**self).fit_report() }
            fn covariance(&self) -> Option<&Covariance> { (**self).covariance() }
        }
    )*};
}
forward_spend_model!(&T, Box<T>, std::sync::Arc<T>);

pub mod beta_geometric;
pub mod bg_nbd;

pub use bdw::{Bdw, BdwParameters, BdwParams};
pub use bg_bb::{BgBb, BgBbParameters, BgBbParams, DiscretePatterns, DiscretePatternsError};
pub use bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
pub use contractual::{Cohort, CohortError, RetentionModel};
pub use gamma_gamma::{
    GammaGamma, GammaGammaParameters, GammaGammaParams, SpendData, SpendDataError,
};
pub use mbg_nbd::{MbgNbd, MbgNbdParameters, MbgNbdParams};
pub use pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
pub use sbg::{Sbg, SbgParameters, SbgParams};
pub(crate) mod btyd;
pub mod clv;
pub mod mbg_nbd;
pub mod pareto_nbd;
