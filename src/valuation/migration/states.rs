//! The states customers migrate between, and the errors of migration matrices.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::records::CustomerId;
use crate::segment::asset_quality::AssetClass;

/// The text of [`MigrationState::New`].
pub(super) const NEW: &str = "(new)";
/// The text of [`MigrationState::Gone`].
pub(super) const GONE: &str = "(gone)";
/// The text of [`MigrationState::NoTier`].
pub(super) const NO_TIER: &str = "(no tier)";

/// What customers migrate between.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MigrationDimension {
    /// The CLV × P(alive) asset class ([`CustomerValue::asset_class`](crate::valuation::CustomerValue::asset_class)).
    AssetClass,
    /// The labels of the segmenter of this name ([`CustomerValue::segments`](crate::valuation::CustomerValue::segments)),
    /// e.g. `"rfm"` or `"lifecycle"`.
    Segmenter(Arc<str>),
    /// The loyalty tier ([`CustomerValue::tier`](crate::valuation::CustomerValue::tier)).
    Tier,
}

impl MigrationDimension {
    /// The labels of the segmenter named `name`.
    pub fn segmenter(name: impl Into<Arc<str>>) -> Self {
        MigrationDimension::Segmenter(name.into())
    }

    /// `"asset_class"`, `"segmenter"` or `"tier"` (the JSON's `dimension`).
    pub fn kind(&self) -> &'static str {
        match self {
            MigrationDimension::AssetClass => "asset_class",
            MigrationDimension::Segmenter(_) => "segmenter",
            MigrationDimension::Tier => "tier",
        }
    }
}

impl fmt::Display for MigrationDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationDimension::AssetClass => f.write_str("asset class"),
            MigrationDimension::Segmenter(name) => write!(f, "segmenter {name:?}"),
            MigrationDimension::Tier => f.write_str("loyalty tier"),
        }
    }
}

/// A row or column of a migration matrix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MigrationState {
    /// Row only: customers in the later report and not in the earlier one. Reads `(new)`.
    New,
    /// An asset class.
    Class(AssetClass),
    /// A segmenter's label or a loyalty tier.
    Label(Arc<str>),
    /// Tier dimension only: customers holding no tier. Reads `(no tier)`.
    NoTier,
    /// Column only: customers in the earlier report and not in the later one. Reads `(gone)`.
    Gone,
}

impl MigrationState {
    /// A segmenter's label or a tier, by its text.
    pub fn label(text: &str) -> Self {
        MigrationState::Label(Arc::from(text))
    }

    /// Whether this is a state of the dimension itself (not `New` or `Gone`).
    pub fn is_held(&self) -> bool {
        !matches!(self, MigrationState::New | MigrationState::Gone)
    }
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationState::New => f.write_str(NEW),
            MigrationState::Class(c) => c.fmt(f),
            MigrationState::Label(l) => f.write_str(l),
            MigrationState::NoTier => f.write_str(NO_TIER),
            MigrationState::Gone => f.write_str(GONE),
        }
    }
}

/// Why a migration matrix or a projection could not be made. Each variant names the report (by
/// its as-of date), the customer or the state at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The reports are not in date order (the earlier first) or share a date.
    #[error("migration from {from} to {to}: the first report must be dated before the second")]
    DatesOutOfOrder {
        /// The first report's as-of date.
        from: NaiveDate,
        /// The second report's as-of date.
        to: NaiveDate,
    },
    /// The report lists only consenting customers
    /// ([`EquityReport::retain_consenting`](crate::valuation::EquityReport::retain_consenting)): customers left out would read as gone or new.
    #[error("the report as of {as_of} lists only consenting customers: migrate the whole base, then restrict the customer lists")]
    ConsentFiltered {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// The report has no segmenter of this name.
    #[error("the report as of {as_of} has no segmenter named {segmenter:?}")]
    MissingSegmenter {
        /// The name asked for.
        segmenter: String,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A customer has no label from the segmenter.
    #[error(
        "customer {customer} in the report as of {as_of} has no label from segmenter {segmenter:?}"
    )]
    MissingLabel {
        /// The segmenter.
        segmenter: String,
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// No customer of the report holds a tier (the valuation was run without tier rules).
    #[error("the report as of {as_of} has no loyalty tiers")]
    NoTiers {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A customer is listed twice in one report.
    #[error("customer {customer} is listed twice in the report as of {as_of}")]
    DuplicateCustomer {
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A label reads like one of the matrix's own states, `(new)`, `(gone)` or `(no tier)`.
    #[error("customer {customer} in the report as of {as_of} has the label {label:?}, which names a state of the migration matrix itself")]
    ReservedLabel {
        /// The label.
        label: String,
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A sum of CLV does not fit a decimal amount (about ±7.9 × 10²⁸).
    #[error(
        "the equity of the customers moving from {from} to {to} does not fit a decimal amount"
    )]
    SumOverflow {
        /// The cell's row.
        from: String,
        /// The cell's column.
        to: String,
    },
    /// A report's equity, the sum of its customers' CLV, does not fit a decimal amount.
    #[error("the equity of the report as of {as_of} does not fit a decimal amount")]
    TotalOverflow {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A mix to project names a state that is not a row of the transition matrix.
    #[error("the mix names {state}, which is not a row of the transition matrix")]
    UnknownState {
        /// The state.
        state: String,
    },
    /// A mix to project has a count that is negative, NaN or infinite.
    #[error("the mix's count for {state} is {value}: must be finite and at least 0")]
    InvalidMix {
        /// The state.
        state: String,
        /// The count, as text.
        value: String,
    },
}
