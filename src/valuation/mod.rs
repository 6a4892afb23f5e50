//! The valuation: compose data, models, segmenters and tier rules into one customer-equity report.
//!
//! [`Valuation::builder`] collects the parts; [`ValuationBuilder::build`] checks them all in one
//! place (before any work is done) and [`Valuation::run`] produces the [`EquityReport`].
//!
//! Per customer, with history (x, t_x, T) at the as-of date:
//! - P(alive), expected purchases over the horizon and DERT come from the transaction model;
//! - expected spend per purchase comes from the spend model;
//! - CLV = DERT × expected spend × margin, in money (rounded to cents);
//! - the asset class is the CLV × P(alive) quadrant ([`AssetQualityParams`](crate::segment::asset_quality::AssetQualityParams)).
//!
//! Customer equity is the sum of the CLVs of current customers. The optional firm view adds future
//! acquisition cohorts net of acquisition cost (Gupta, Lehmann & Stuart 2004) and the elasticities
//! of value to retention, margin and discount rate ([`gls`]).
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
//! use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
//! use customer_assets::valuation::{DiscountRate, Valuation};
//! use customer_assets::{Ledger, LedgerOptions, TimeUnit};
//! # use customer_assets::{History, PredictError, TransactionModel};
//! # /// A stand-in transaction model: buys at rate 0.1 a week, alive with probability 0.8.
//! # struct Steady;
//! # impl TransactionModel for Steady {
//! #     fn name(&self) -> &str { "steady" }
//! #     fn unit(&self) -> TimeUnit { TimeUnit::WEEKS }
//! #     fn named_parameters(&self) -> Vec<(String, f64)> { Vec::new() }
//! #     fn log_likelihood(&self, _: &History) -> Result<f64, PredictError> { Ok(0.0) }
//! #     fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> { Ok(0.8) }
//! #     fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> { Ok(0.08 * t) }
//! #     fn purchase_probability(&self, _: &History, _: u32, _: f64) -> Result<f64, PredictError> { Ok(0.0) }
//! #     fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> { Ok(0.1 * t) }
//! #     fn purchase_probability_new(&self, _: u32, _: f64) -> Result<f64, PredictError> { Ok(0.0) }
//! #     fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> { Ok(0.08 / rate) }
//! # }
//!
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
//! let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("bad date")?;
//! let base = simulate(
//!     &ParetoNbdProcess::new(0.55, 10.6, 0.61, 11.7)?,
//!     &SimulationOptions::new(300, start, as_of, TimeUnit::WEEKS, 1)
//!         .acquisition_days(90)
//!         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
//! )?;
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! ledger.extend_transactions(base.transactions().iter().cloned())?;
//!
//! let report = Valuation::builder()
//!     .ledger(&ledger)
//!     .as_of(as_of)
//!     .unit(TimeUnit::WEEKS)
//!     .transaction_model(Steady)
//!     .spend_model(GammaGamma::new(GammaGammaParameters { p: 6.25, q: 3.74, gamma: 15.44 })?)
//!     .margin(0.3)
//!     .discount(DiscountRate::per_period(0.10, 365.0)?)
//!     .horizon(52.0)
//!     .build()?
//!     .run()?;
//! let total: rust_decimal::Decimal = report.customers.iter().map(|c| c.clv).sum();
//! assert_eq!(report.equity, total);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bridge;
mod builder;
pub mod by_covariate;
mod covariate_section;
mod error;
mod feedback;
mod feedback_section;
mod fitting;
pub mod gls;
mod inputs;
mod intervals;
mod labels;
pub mod migration;
pub mod profile;
mod referral;
mod referral_summary;
mod report;
pub mod review;
mod run;
mod sums;

pub use builder::{NamedSegmenter, Valuation, ValuationBuilder};
pub use error::{BoxError, ValuationError};
pub use feedback_section::{
    FeedbackBySegment, SegmentFeedback, FEEDBACK_LEVEL, HIGH_VALUE_TOP_SHARE,
};
pub use inputs::{Acquisition, DiscountRate};
pub use intervals::IntervalOptions;
pub use labels::Labels;
#[cfg(feature = "serde")]
pub use migration::MigrationWithIds;
pub use migration::{
    Migration, MigrationCell, MigrationDimension, MigrationError, MigrationState, MoveRanking,
    Projection, Transitions,
};
pub use referral::{ReferralOptions, ReferralOptionsError};
pub use referral_summary::ReferralSummary;
pub use report::{
    ConsentFilter, CustomerValue, EquityReport, FirmValue, GroupEquity, ModelSummary,
    MoneyInterval, PurchasesInterval, ReportIntervals, SegmentEquity, ValueAtRisk,
};
pub use sums::to_cents;

#[cfg(test)]
mod tests;
