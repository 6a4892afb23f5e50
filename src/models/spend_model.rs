//! The spend-model trait every model of spend per transaction implements, with its impls for
//! pointers.

use super::error::PredictError;
use crate::fit::{Covariance, FitReport};

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
    ///
    /// # Errors
    /// [`PredictError::InvalidInput`] for a mean spend that is not finite and positive (with repeat
    /// purchases); [`PredictError::Numerical`] where the computation fails.
    fn expected_spend(&self, frequency: u32, mean_spend: f64) -> Result<f64, PredictError>;
    /// Expected spend per transaction of a customer with no purchase history.
    ///
    /// # Errors
    /// [`PredictError::Numerical`] where the population mean does not exist.
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
    /// This model at other values of its parameters (in the order of
    /// [`named_parameters`](Self::named_parameters)), boxed, for a report's intervals; `None`,
    /// the default, for a model that cannot be rebuilt (see
    /// [`TransactionModel::reparameterized`](crate::TransactionModel::reparameterized)).
    fn reparameterized(
        &self,
        _values: &[f64],
    ) -> Option<Result<Box<dyn SpendModel>, crate::InvalidParameter>> {
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
            fn reparameterized(&self, values: &[f64]) -> Option<Result<Box<dyn SpendModel>, crate::InvalidParameter>> { (**self).reparameterized(values) }
        }
    )*};
}
forward_spend_model!(&T, Box<T>, std::sync::Arc<T>);
