//! # customer-assets-datafusion
//!
//! customer-assets where the data lives: customer summaries computed by DataFusion (or
//! Ballista) over any table, fits from the engine's weighted patterns, and scoring functions
//! bound to fitted models.
//!
//! - [`summarize`] computes the per-customer summary of any DataFrame (a Parquet folder, a
//!   table, a query) in the engine, after checking its columns and rows: the query of
//!   [`customer_assets::sql::SummarySql`], equal field for field to the core's summaries.
//! - [`summaries`] computes the same summaries several times faster, in memory: the engine
//!   reads and partitions the DataFrame, each partition's batches are read and checked on the
//!   session's threads, and the core accumulates them all, partitioned by customer.
//! - [`Scoring`] registers `p_alive`, `expected_purchases`, `dert` and `clv` as scalar
//!   functions bound to fitted models, vectorised over Arrow arrays.
//! - [`patterns()`] reads the weighted (x, t_x, T) patterns of a summary table, grouped by the
//!   engine, for any model's `fit`; [`spend_data`] the spend model's (frequency, mean spend)
//!   rows, likewise.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod accumulate;
mod patterns;
mod scoring;
mod summarize;

pub use accumulate::summaries;
pub use patterns::{patterns, spend_data, EngineSpend, PatternsError};
pub use scoring::{FunctionRegistryMut, Scoring, ScoringError, CLV_PRECISION, CLV_SCALE};
pub use summarize::{summarize, summarize_unchecked, SummarizeError, FLOAT_AMOUNT_SCALE};
#[cfg(test)]
mod test_support;
