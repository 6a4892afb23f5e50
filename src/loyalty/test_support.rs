//! Test doubles shared by the loyalty module's unit tests (compiled only under `cfg(test)`).

use rust_decimal::Decimal;

use super::ladder::{Metric, Tier, TierLadder};
use super::points::EarnRules;
use super::rules::Programme;
use super::window::{Downgrades, QualificationWindow};
use crate::models::{History, PredictError, SpendModel, TransactionModel};
use crate::time::TimeUnit;

/// Buys every day with certainty: every point is redeemed.
pub(super) struct Daily;
impl TransactionModel for Daily {
    fn name(&self) -> &str {
        "daily"
    }
    fn unit(&self) -> TimeUnit {
        TimeUnit::DAYS
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    fn log_likelihood(&self, _: &History) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
        Ok(t)
    }
    fn purchase_probability(&self, _: &History, n: u32, _: f64) -> Result<f64, PredictError> {
        Ok(if n == 1_000 { 1.0 } else { 0.0 })
    }
    fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> {
        Ok(1.0 / rate)
    }
}
pub(super) struct Flat;
impl SpendModel for Flat {
    fn name(&self) -> &str {
        "flat"
    }
    fn expected_spend(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        Ok(1.0)
    }
}

pub(super) fn programme() -> Programme {
    let ladder = TierLadder::new(Metric::Spend, vec![Tier::new("base", Decimal::ZERO)]).unwrap();
    let window = QualificationWindow::CalendarYear;
    Programme::new(
        "p",
        ladder,
        window,
        Downgrades::default(),
        EarnRules::default(),
    )
    .unwrap()
}
