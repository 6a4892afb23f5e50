//! Why a valuation could not be built or run.

use chrono::NaiveDate;

use crate::kpi::KpiError;
use crate::loyalty::LoyaltyError;
use crate::models::{PredictError, SpendDataError};
use crate::records::CustomerId;
use crate::segment::SegmentError;
use crate::summary::SummaryError;
use crate::time::TimeUnit;
use crate::valuation::gls;

/// A boxed error from a model fit supplied by the caller or a downstream crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a valuation could not be built or run. Each variant names the part at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValuationError {
    /// Neither a ledger nor summaries were given.
    #[error("no data: give a ledger or summaries")]
    MissingData,
    /// No as-of date was given with a ledger.
    #[error("no as-of date: a ledger is summarised at an as-of date the caller chooses")]
    MissingAsOf,
    /// The as-of date given differs from the summaries'.
    #[error("as-of date {given} differs from the summaries' as-of date {summaries}")]
    AsOfMismatch {
        /// The date given to the builder.
        given: NaiveDate,
        /// The summaries' date.
        summaries: NaiveDate,
    },
    /// No transaction model (fitted or to fit) was given.
    #[error("no transaction model: give a fitted one or parameters to fit")]
    MissingTransactionModel,
    /// No spend model was given.
    #[error("no spend model: give a fitted one or parameters to fit")]
    MissingSpendModel,
    /// Time units disagree.
    #[error("time units do not match: {what} is in {found}, the valuation in {expected}")]
    UnitMismatch {
        /// Which part.
        what: &'static str,
        /// The valuation's unit.
        expected: TimeUnit,
        /// The part's unit.
        found: TimeUnit,
    },
    /// The horizon is not a finite positive number.
    #[error("horizon {} must be finite and greater than 0", crate::error::short(*.0))]
    NonPositiveHorizon(f64),
    /// No horizon was given.
    #[error("no horizon: say over how many time units expected purchases are counted")]
    MissingHorizon,
    /// No discount rate was given.
    #[error("no discount rate")]
    MissingDiscountRate,
    /// A discount rate outside its range.
    #[error("discount rate {} is outside its range (per period: (0, 1]; continuous: (0, 10])", crate::error::short(*.0))]
    DiscountRateOutOfRange(f64),
    /// A period length that is not a finite number of days ≥ 1.
    #[error("period of {} days: must be finite and at least 1 day", crate::error::short(*.0))]
    InvalidPeriod(f64),
    /// A margin outside (0, 1].
    #[error("margin {} must be a share of spend in (0, 1]", crate::error::short(*.0))]
    MarginOutOfRange(f64),
    /// A P(alive) threshold outside (0, 1).
    #[error("at-risk threshold {} must lie strictly between 0 and 1", crate::error::short(*.0))]
    ThresholdOutOfRange(f64),
    /// An interval level outside (0, 1).
    #[error("interval level {} must lie strictly between 0 and 1", crate::error::short(*.0))]
    IntervalLevel(f64),
    /// The intervals asked for need what the valuation was not given.
    #[error("intervals: {0}")]
    Intervals(&'static str),
    /// Tier rules or KPIs were asked for without a ledger.
    #[error("{0} need the ledger, not only summaries")]
    NeedsLedger(&'static str),
    /// The acquisition plan is invalid.
    #[error("acquisition: {0}")]
    InvalidAcquisition(&'static str),
    /// Summarising the ledger failed.
    #[error(transparent)]
    Summary(#[from] SummaryError),
    /// There are no customers to value.
    #[error("no customer has a purchase on or before the as-of date")]
    EmptyBase,
    /// The settings of a model to fit are invalid (found by [`ValuationBuilder::build`](crate::valuation::ValuationBuilder::build)).
    #[error("the {part}'s fit settings: {source}")]
    FitSettings {
        /// `"transaction model"` or `"spend model"`.
        part: &'static str,
        /// Why.
        source: BoxError,
    },
    /// Fitting a model failed.
    #[error("the {part}: {source}")]
    Fit {
        /// `"transaction model"` or `"spend model"`.
        part: &'static str,
        /// Why.
        source: BoxError,
    },
    /// The base's spend data could not be formed for the spend model.
    #[error("the spend model's data: {0}")]
    SpendData(#[from] SpendDataError),
    /// A prediction failed for a customer.
    #[error("customer {customer}: {source}")]
    Predict {
        /// The customer.
        customer: CustomerId,
        /// Why.
        source: PredictError,
    },
    /// A CLV could not be represented as money.
    #[error("customer {customer}: CLV {} does not fit a decimal amount", crate::error::short(*.value))]
    Money {
        /// The customer.
        customer: CustomerId,
        /// The value.
        value: f64,
    },
    /// An amount of the firm view could not be represented as money.
    #[error("firm view: {what} {} does not fit a decimal amount", crate::error::short(*.value))]
    FirmMoney {
        /// Which amount.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// A sum of money in the report (the equity, a group's, the value at risk) does not fit a
    /// decimal amount (about ±7.9 × 10²⁸).
    #[error("{what} does not fit a decimal amount")]
    SumOverflow {
        /// Which sum.
        what: String,
    },
    /// A segmenter failed.
    #[error("segmenter {segmenter}: {source}")]
    Segment {
        /// Its name.
        segmenter: String,
        /// Why.
        source: SegmentError,
    },
    /// Tier evaluation failed.
    #[error(transparent)]
    Loyalty(#[from] LoyaltyError),
    /// A KPI failed.
    #[error(transparent)]
    Kpi(#[from] KpiError),
    /// The firm view's margin multiple is not defined.
    #[error(transparent)]
    Gls(#[from] gls::GlsError),
}
