//! Per-customer summaries (frequency, recency, age, monetary value) at an as-of date, built by a
//! mergeable accumulator, and their compression into weighted (x, t_x, T) patterns for fitting.
//!
//! The public types live in submodules, all re-exported: the summaries (`summaries`), their
//! options (`options`) and errors (`error`), the [`SummaryAccumulator`] (`accumulator`, with its
//! packed entries in `entry`, its index of customer ids in `id_index` and the per-customer fold in
//! `fold`), the [`Patterns`] (`patterns`) and each customer's [`CategoryMix`] (`categories`).

mod accumulator;
mod categories;
mod entry;
mod error;
mod fold;
mod grouping;
mod id_index;
mod int_rows;
mod options;
// The partial state: serialized with serde (and, in tests, what a failed push must not change).
#[cfg(any(feature = "serde", all(test, feature = "arrow")))]
mod parts;
mod patterns;
mod summaries;
#[cfg(test)]
mod test_support;

pub use accumulator::SummaryAccumulator;
pub(crate) use categories::tally as tally_categories;
pub use categories::{Category, CategoryMix, CategoryTotals, CustomerCategories, ShareBasis};
pub use error::SummaryError;
#[cfg(feature = "arrow")]
pub(crate) use int_rows::IntBatch;
pub use options::{Grain, ReturnPolicy, SummaryOptions};
pub use patterns::{Pattern, PatternError, Patterns};
pub use summaries::{CustomerSummary, HoldoutSummary, Summaries};
