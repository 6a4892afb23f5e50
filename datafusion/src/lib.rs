//! # customer-assets-datafusion
//!
//! customer-assets where the data lives: customer summaries computed by DataFusion (or Ballista)
//! over any table, fits from the engine's weighted patterns, and scoring functions bound to
//! fitted models.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
