//! Segmenters: who is worth what, and how to treat them.
//!
//! A segmenter *learns* what it needs from a population (quantile edges, value thresholds,
//! cluster centres) and then *assigns* each customer exactly one label. The learnt state is a
//! value of its own: it serializes and applies to customers it has never seen. Two small traits
//! carry this: [`Segmenter`] (parameters that learn) and [`Assign`] (what was learnt). A
//! downstream crate implements both for its own types (see `examples/custom_segmenter.rs`).
//!
//! The built-in segmenters read a [`Profile`] per customer: the summary numbers (frequency x,
//! recency t_x, age T, monetary value, total spend, orders), optional numbers supplied by the
//! caller from a fitted model (P(alive), CLV) and optional customer attributes (region, channel,
//! tags, the category mix). [`Profile::from_summaries`] builds them from [`Summaries`](crate::summary::Summaries); [`attach_model_values`]
//! joins model outputs keyed by customer.
//!
//! | module | labels |
//! |---|---|
//! | [`rfm`] | recency, frequency and monetary scores 1..=k and a named segment |
//! | [`abc`] | ABC (Pareto) classes by cumulative share of value; value tiers by thresholds |
//! | [`lifecycle`] | prospect, new, active, at risk, lapsed, reactivated |
//! | [`asset_quality`] | grow, develop, win back, divest (CLV × P(alive)) |
//! | [`kmeans`] | cluster index on standardised features |
//! | [`rules`] | classes from declarative rules on attributes and features |
//! | [`preference`] | mostly one product category, mixed, or uncategorised (from the category mix) |

pub mod abc;
pub mod asset_quality;
mod error;
mod feature;
mod in_order;
pub mod kmeans;
pub mod lifecycle;
mod lloyd;
pub mod preference;
mod profile;
pub mod rfm;
pub mod rules;
mod standardise;
mod traits;

pub use error::{CustomError, SegmentError};
pub use feature::Feature;
pub use profile::{attach_model_values, Profile};
pub use traits::{Assign, Label, Segmenter};

/// How many customers carry each label, in order of first appearance.
pub fn label_counts<L: PartialEq + Clone>(labels: &[L]) -> Vec<(L, usize)> {
    let mut out: Vec<(L, usize)> = Vec::new();
    for l in labels {
        match out.iter_mut().find(|(k, _)| k == l) {
            Some((_, n)) => *n += 1,
            None => out.push((l.clone(), 1)),
        }
    }
    out
}
