//! The builder's fitting hooks: any `Fit` settings, their types erased.

use crate::fit::Fit;
use crate::models::{SpendData, SpendModel, TransactionModel};
use crate::summary::Patterns;
use crate::valuation::error::BoxError;

/// A type-erased [`Fit`] of a transaction model on patterns: what the builder keeps of the
/// settings given to [`ValuationBuilder::fit_transaction_model`].
pub(crate) trait FitTransactions<'a> {
    fn check_settings(&self) -> Result<(), BoxError>;
    fn fit_boxed(&self, patterns: &Patterns) -> Result<Box<dyn TransactionModel + 'a>, BoxError>;
}

impl<'a, P> FitTransactions<'a> for P
where
    P: Fit<Patterns>,
    P::Model: TransactionModel + 'a,
    P::Error: Into<BoxError>,
{
    fn check_settings(&self) -> Result<(), BoxError> {
        Fit::check(self).map_err(Into::into)
    }
    fn fit_boxed(&self, patterns: &Patterns) -> Result<Box<dyn TransactionModel + 'a>, BoxError> {
        match Fit::fit(self, patterns) {
            Ok(model) => Ok(Box::new(model)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A type-erased [`Fit`] of a spend model on spend data.
pub(crate) trait FitSpend<'a> {
    fn check_settings(&self) -> Result<(), BoxError>;
    fn fit_boxed(&self, data: &SpendData) -> Result<Box<dyn SpendModel + 'a>, BoxError>;
}

impl<'a, P> FitSpend<'a> for P
where
    P: Fit<SpendData>,
    P::Model: SpendModel + 'a,
    P::Error: Into<BoxError>,
{
    fn check_settings(&self) -> Result<(), BoxError> {
        Fit::check(self).map_err(Into::into)
    }
    fn fit_boxed(&self, data: &SpendData) -> Result<Box<dyn SpendModel + 'a>, BoxError> {
        match Fit::fit(self, data) {
            Ok(model) => Ok(Box::new(model)),
            Err(e) => Err(e.into()),
        }
    }
}
