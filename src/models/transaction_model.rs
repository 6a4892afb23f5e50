//! The transaction-model trait every purchase-and-dropout model implements, with its batch helper
//! and its impls for pointers.

use super::error::PredictError;
use super::history::History;
use crate::fit::{Covariance, FitReport};
use crate::time::TimeUnit;

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
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for an invalid history ([`History::validate`]).
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError>;
    /// Probability that the customer is still alive at T + `t` (use `t = 0` for "now").
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for an invalid history or a horizon that is not finite and
    /// non-negative; [`PredictError::Numerical`] where the computation fails.
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Expected number of purchases in (T, T + `t`] given the history.
    ///
    /// # Errors
    /// As [`p_alive`](Self::p_alive).
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError>;
    /// Probability of exactly `n` purchases in (T, T + `t`] given the history.
    ///
    /// # Errors
    /// As [`p_alive`](Self::p_alive).
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError>;
    /// Discounted expected residual transactions at continuous discount rate `rate` per unit time.
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for an invalid history or a rate that is not finite and
    /// positive; [`PredictError::Numerical`] where the computation fails.
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
    /// This model at other values of its parameters (in the order of
    /// [`named_parameters`](Self::named_parameters), the covariance's), boxed: how a report
    /// that holds its model as a trait object varies it for intervals (the delta method and the
    /// parametric bootstrap). `None`, the default, for a model that cannot be rebuilt; the
    /// crate's models implement it with their [`Reparameterize`](crate::models::Reparameterize).
    fn reparameterized(
        &self,
        _values: &[f64],
    ) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> {
        None
    }
    /// The covariance of the fitted parameters, when it was fitted and the information matrix
    /// is positive definite.
    fn covariance(&self) -> Option<&Covariance> {
        None
    }
    /// Expected number of repeat purchases in (0, `t`] of a customer just acquired: the
    /// prediction for [`History::new_customer`].
    ///
    /// # Errors
    /// As [`expected_purchases`](Self::expected_purchases).
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        self.expected_purchases(&History::new_customer(), t)
    }
    /// Probability that a customer just acquired makes exactly `n` repeat purchases in (0, `t`].
    ///
    /// # Errors
    /// As [`purchase_probability`](Self::purchase_probability).
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        self.purchase_probability(&History::new_customer(), n, t)
    }
    /// [`p_alive`](Self::p_alive) now (t = 0) for many customers, in order.
    ///
    /// # Errors
    /// The first customer's error, as [`p_alive`](Self::p_alive).
    fn p_alive_batch(&self, histories: &[History]) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.p_alive(h, 0.0))
    }
    /// [`expected_purchases`](Self::expected_purchases) for many customers, in order.
    ///
    /// # Errors
    /// The first customer's error, as [`expected_purchases`](Self::expected_purchases).
    fn expected_purchases_batch(
        &self,
        histories: &[History],
        t: f64,
    ) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.expected_purchases(h, t))
    }
    /// [`dert`](Self::dert) for many customers, in order.
    ///
    /// # Errors
    /// The first customer's error, as [`dert`](Self::dert).
    fn dert_batch(&self, histories: &[History], rate: f64) -> Result<Vec<f64>, PredictError> {
        batch(histories, |h| self.dert(h, rate))
    }
    /// P(alive) now, expected purchases over `t` and DERT at continuous `rate` for many
    /// customers, in order: the three predictions a valuation makes of every customer. The
    /// default calls the three batch methods; a model whose three share work (P(alive), say)
    /// computes it once.
    ///
    /// # Errors
    /// The first error of [`p_alive_batch`](Self::p_alive_batch),
    /// [`expected_purchases_batch`](Self::expected_purchases_batch) or
    /// [`dert_batch`](Self::dert_batch), in that order.
    fn predict_batch(
        &self,
        histories: &[History],
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        Ok(BatchPredictions {
            p_alive: self.p_alive_batch(histories)?,
            expected_purchases: self.expected_purchases_batch(histories, t)?,
            dert: self.dert_batch(histories, rate)?,
        })
    }
    /// [`predict_batch`](Self::predict_batch) for identified customers (`ids[i]` has
    /// `histories[i]`): what a valuation calls. The default ignores the ids; a model whose
    /// parameters differ by customer (a covariate model bound to its design,
    /// [`BoundCovariateModel`](crate::models::covariates::BoundCovariateModel)) predicts each
    /// customer with their own.
    ///
    /// # Errors
    /// As [`predict_batch`](Self::predict_batch); a customer the model cannot place.
    fn predict_customers(
        &self,
        ids: &[crate::records::CustomerId],
        histories: &[History],
        t: f64,
        rate: f64,
    ) -> Result<BatchPredictions, PredictError> {
        let _ = ids;
        self.predict_batch(histories, t, rate)
    }
}

/// What [`TransactionModel::predict_batch`] gives: one value per customer in each column, in the
/// customers' order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchPredictions {
    /// P(alive) now.
    pub p_alive: Vec<f64>,
    /// Expected purchases over the horizon.
    pub expected_purchases: Vec<f64>,
    /// Discounted expected residual transactions.
    pub dert: Vec<f64>,
}

/// Applies `f` to every history and its value in `values` (in parallel with the `parallel`
/// feature), keeping the order; the first error wins. `values` is as long as `histories`.
pub(crate) fn batch_with<F>(
    histories: &[History],
    values: &[f64],
    f: F,
) -> Result<Vec<f64>, PredictError>
where
    F: Fn(&History, f64) -> Result<f64, PredictError> + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        histories
            .par_iter()
            .zip(values)
            .map(|(h, v)| f(h, *v))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        histories
            .iter()
            .zip(values)
            .map(|(h, v)| f(h, *v))
            .collect()
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
            fn reparameterized(&self, values: &[f64]) -> Option<Result<Box<dyn TransactionModel>, crate::InvalidParameter>> { (**self).reparameterized(values) }
            fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> { (**self).expected_purchases_new(t) }
            fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> { (**self).purchase_probability_new(n, t) }
            fn p_alive_batch(&self, hs: &[History]) -> Result<Vec<f64>, PredictError> { (**self).p_alive_batch(hs) }
            fn expected_purchases_batch(&self, hs: &[History], t: f64) -> Result<Vec<f64>, PredictError> { (**self).expected_purchases_batch(hs, t) }
            fn dert_batch(&self, hs: &[History], rate: f64) -> Result<Vec<f64>, PredictError> { (**self).dert_batch(hs, rate) }
            fn predict_batch(&self, hs: &[History], t: f64, rate: f64) -> Result<BatchPredictions, PredictError> { (**self).predict_batch(hs, t, rate) }
            fn predict_customers(&self, ids: &[crate::records::CustomerId], hs: &[History], t: f64, rate: f64) -> Result<BatchPredictions, PredictError> { (**self).predict_customers(ids, hs, t, rate) }
        }
    )*};
}
forward_transaction_model!(&T, Box<T>, std::sync::Arc<T>);
