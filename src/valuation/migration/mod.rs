//! Migration matrices: how customers, and the equity they carry, moved between the states of one
//! dimension (asset class, a segmenter's labels, loyalty tier) from one review date to the next.
//!
//! [`Migration::between`] compares two [`EquityReport`](crate::valuation::EquityReport)s, at D1 and at a later D2. Rows are the
//! states at D1, columns the states at D2. Two explicit states make the matrix cover both bases:
//! the row [`MigrationState::New`] holds the customers of D2 who are not in the D1 report, the
//! column [`MigrationState::Gone`] the customers of D1 who are not in the D2 report. Every customer
//! of either report is in exactly one cell ([`MigrationCell`]: the customers, their count, the sum
//! of their CLV at D1 and at D2), so the rows add up to the D1 base and its equity, the columns to
//! the D2 base and its equity.
//!
//! States, in this order (the order of [`Migration::states`]):
//! - asset classes: all four, in [`AssetClass::ALL`](crate::segment::asset_quality::AssetClass::ALL) order, whether held or not;
//! - a segmenter's labels: those held by some customer in either report, sorted by their text
//!   (byte order);
//! - loyalty tiers: the tiers held by some customer in either report, sorted by their text, then
//!   [`MigrationState::NoTier`] (always present) for customers without a tier.
//!
//! Rows are the states then `New`; columns the states then `Gone`. In text and JSON the explicit
//! states read `(new)`, `(gone)` and `(no tier)`: a label spelt like one of them is an error
//! ([`MigrationError::ReservedLabel`]), so a state's text names one state.
//!
//! The Markov view ([`Migration::transitions`]) divides each D1 row by its total (the D2 states and
//! `Gone`), and [`Migration::projection`] applies it to the D2 mix: the customers expected in each
//! state one period further on, and those expected to be gone. New customers are not projected
//! (the matrix says nothing of future inflow).
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
//! use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
//! use customer_assets::segment::asset_quality::AssetClass;
//! use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
//! use customer_assets::valuation::{
//!     DiscountRate, EquityReport, Migration, MigrationDimension, MigrationState, Valuation,
//! };
//! use customer_assets::{Ledger, LedgerOptions, TimeUnit};
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).ok_or("bad date");
//! let base = simulate(
//!     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
//!     &SimulationOptions::new(300, day(1, 1)?, day(12, 31)?, TimeUnit::WEEKS, 1)
//!         .acquisition_days(200)
//!         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
//! )?;
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! ledger.extend_transactions(base.transactions().iter().cloned())?;
//! let value = |as_of| -> Result<EquityReport, Box<dyn std::error::Error>> {
//!     Ok(Valuation::builder()
//!         .ledger(&ledger)
//!         .as_of(as_of)
//!         .unit(TimeUnit::WEEKS)
//!         .transaction_model(BgNbd::new(
//!             BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
//!             TimeUnit::WEEKS,
//!         )?)
//!         .spend_model(GammaGamma::new(GammaGammaParameters { p: 6.25, q: 3.74, gamma: 15.44 })?)
//!         .margin(0.3)
//!         .discount(DiscountRate::per_period(0.10, 365.0)?)
//!         .horizon(52.0)
//!         .build()?
//!         .run()?)
//! };
//! let (q3, q4) = (value(day(9, 30)?)?, value(day(12, 31)?)?);
//!
//! let migration = Migration::between(&q3, &q4, MigrationDimension::AssetClass)?;
//! // Every customer of either report is in one cell; the columns add up to Q4's equity.
//! let customers: usize = migration.cells().map(|c| c.count()).sum();
//! assert!(customers >= q4.customers.len());
//! assert_eq!(migration.equity_to(), q4.equity);
//! let stayed = migration
//!     .cell(&MigrationState::Class(AssetClass::Grow), &MigrationState::Class(AssetClass::Grow))
//!     .ok_or("no such cell")?;
//! assert!(stayed.customers().len() == stayed.count());
//! // Shares of each Q3 row, and Q4's mix one period ahead.
//! let shares = migration.transitions();
//! for state in shares.rows() {
//!     if let Some(row) = shares.row(state) {
//!         assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
//!     }
//! }
//! let ahead = migration.projection();
//! let in_q4 = q4.customers.len() as f64;
//! assert!((ahead.retained() + ahead.gone() + ahead.unprojected_total() - in_q4).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#[cfg(feature = "serde")]
mod json;
mod markov;
mod matrix;
mod states;

#[cfg(feature = "serde")]
pub use json::MigrationWithIds;
pub use markov::{Projection, Transitions};
pub use matrix::{Migration, MigrationCell, MoveRanking};
pub use states::{MigrationDimension, MigrationError, MigrationState};

#[cfg(test)]
mod tests;
