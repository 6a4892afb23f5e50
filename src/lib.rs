//! # customer-assets
//!
//! Value a business's customers as assets: the customer base is worth the discounted margin of the
//! purchases it will still make.
//!
//! Data flows one way, and each module reads only what lies upstream of it:
//!
//! 1. **Records** ([`records`]): typed, validated customers, transactions (money as
//!    [`rust_decimal::Decimal`]) and feedback.
//! 2. **Ledger** ([`ledger`]): records collected in any order and from several sources, checked
//!    against each other (duplicate ids, acquisition dates, observation window).
//! 3. **Summaries** ([`summary`]): per-customer frequency, recency, age and monetary value at an
//!    as-of date that is always an input, in an explicit [`TimeUnit`]; a mergeable accumulator; and
//!    weighted (x, t_x, T) [`Patterns`] for fitting.
//! 4. **Models** ([`models`], fitted through [`fit`]; numerics in [`advanced`]): BG/NBD, MBG/NBD,
//!    Pareto/NBD and Gamma-Gamma; BG/BB; sBG and beta-discrete-Weibull; checked by [`validation`].
//!    **Segmenters** ([`segment`]), **KPIs** ([`kpi`]) and **loyalty tiers** ([`loyalty`]).
//! 5. **The valuation** ([`valuation`]) composes them into the customer-equity report.
//!
//! The core is pure: it never reads files, the network, the environment or the clock.
//! [`simulate`] generates reproducible customer bases for tests, examples and benchmarks.
//!
//! From transactions to summaries:
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::{CustomerId, Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction};
//! use rust_decimal::Decimal;
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).ok_or("bad date");
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! for (id, m, d, cents) in [(1u64, 1, 3, 1250), (1, 2, 10, 990), (2, 1, 20, 4000)] {
//!     ledger.add_transaction(Transaction::purchase(CustomerId::from(id), day(m, d)?, Decimal::new(cents, 2))?)?;
//! }
//! let summaries = ledger.summarize(SummaryOptions::new(day(3, 31)?, TimeUnit::WEEKS))?;
//! assert_eq!(summaries.len(), 2);
//! let patterns = summaries.patterns(); // what the CLV models fit on
//! assert_eq!(patterns.total_weight(), 2.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! From summaries to models, and from the ledger to customer equity:
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::models::{bg_nbd::BgNbdParams, gamma_gamma::GammaGammaParams};
//! use customer_assets::segment::rfm::RfmParams;
//! use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
//! use customer_assets::valuation::{DiscountRate, Valuation};
//! use customer_assets::{Fit, History, Ledger, LedgerOptions, SummaryOptions, TimeUnit, TransactionModel};
//!
//! let (start, as_of) = (NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("date")?, NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("date")?);
//! let base = simulate(
//!     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
//!     &SimulationOptions::new(2_000, start, as_of, TimeUnit::WEEKS, 1)
//!         .acquisition_days(84)
//!         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
//! )?;
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! ledger.extend_transactions(base.transactions().iter().cloned())?;
//!
//! // A model on its own: fit, then predict for one history.
//! let summaries = ledger.summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))?;
//! let bg = BgNbdParams::new().fit(&summaries.patterns())?;
//! let p_alive = bg.p_alive(&History::new(2, 30.0, 40.0), 0.0)?;
//! assert!((0.0..=1.0).contains(&p_alive));
//!
//! // The whole valuation.
//! let report = Valuation::builder()
//!     .ledger(&ledger)
//!     .as_of(as_of)
//!     .unit(TimeUnit::WEEKS)
//!     .transaction_model(bg)
//!     .fit_spend_model(GammaGammaParams::new())
//!     .margin(0.3)
//!     .discount(DiscountRate::per_period(0.10, 365.0)?)
//!     .horizon(52.0)
//!     .segmenter("rfm", RfmParams::default())
//!     .build()?
//!     .run()?;
//! let total: rust_decimal::Decimal = report.customers.iter().map(|c| c.clv).sum();
//! assert_eq!(report.equity, total);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//! | feature | default | what it adds |
//! |---|---|---|
//! | `serde` | yes | `Serialize`/`Deserialize` for records, summaries, fitted models, rules and reports |
//! | `parallel` | no | spreads likelihood sums and predictions over cores with rayon |
//! | `arrow` | no | transactions from Arrow record batches; summaries, predictions and the report's customers as record batches ([`arrow`]) |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Every fallible public function says when it fails (CI denies warnings).
#![warn(clippy::missing_errors_doc)]

pub mod advanced;
#[cfg(feature = "arrow")]
pub mod arrow;
mod concurrent;
pub mod covariates;
pub mod error;
pub mod fit;
pub mod kpi;
pub mod ledger;
pub mod loyalty;
pub mod models;
mod optimize;
pub mod records;
pub mod segment;
pub mod simulate;
pub(crate) mod special;
pub mod sql;
pub mod summary;
pub mod time;
pub mod validation;
pub mod valuation;

// The crate root re-exports the vocabulary every pipeline uses: records, ledger, summaries, the
// fitting vocabulary, the model traits and their errors, segmenter traits, time units and the
// valuation. Models stay in `models` (each in its own module, all re-exported by `models`).
pub use error::InvalidParameter;
pub use fit::{Covariance, Fit, FitError, FitOptions, FitReport, ParameterInterval};
pub use ledger::{Added, Ledger, LedgerError, LedgerOptions};
pub use models::{History, PredictError, RetentionModel, SpendModel, TransactionModel};
pub use records::{
    ContactDetails, Customer, CustomerBuilder, CustomerId, Feedback, Pseudonymizer, RecordError,
    SatisfactionScore, Transaction, TransactionKind,
};
pub use segment::{Assign, Profile, SegmentError, Segmenter};
pub use summary::{
    CustomerSummary, Grain, HoldoutSummary, Pattern, PatternError, Patterns, ReturnPolicy,
    Summaries, SummaryAccumulator, SummaryError, SummaryOptions,
};
pub use time::{TimeUnit, TimeUnitError};
pub use valuation::{Valuation, ValuationError};

/// The README's Rust examples, compiled and run as doctests by `cargo test` (never part of the
/// library's API).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Test-only helpers shared by the unit tests (compiled only under `cfg(test)`, never in the library).
#[cfg(test)]
pub(crate) mod test_support {
    /// `default_cases` proptest cases, or `PROPTEST_CASES` when set: an explicit `with_cases`
    /// would ignore the variable, so a longer sweep is one environment variable away.
    pub(crate) fn proptest_config(default_cases: u32) -> proptest::prelude::ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default_cases);
        proptest::prelude::ProptestConfig::with_cases(cases)
    }
}
