//! The valuation: compose data, models, segmenters and tier rules into one customer-equity report.
//!
//! [`Valuation::builder`] collects the parts; [`ValuationBuilder::build`] checks them all in one
//! place (before any work is done) and [`Valuation::run`] produces the [`EquityReport`].
//!
//! Per customer, with history (x, t_x, T) at the as-of date:
//! - P(alive), expected purchases over the horizon and DERT come from the transaction model;
//! - expected spend per purchase comes from the spend model;
//! - CLV = DERT × expected spend × margin, in money (rounded to cents);
//! - the asset class is the CLV × P(alive) quadrant ([`AssetQualityParams`]).
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

pub mod gls;
mod report;

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::fit::Fit;
use crate::kpi::{Concentration, KpiError, KpiReport, TopShare};
use crate::ledger::Ledger;
use crate::loyalty::{Evaluator, LoyaltyError, Programme};
use crate::models::gamma_gamma::{SpendData, SpendDataError};
use crate::models::{History, PredictError, SpendModel, TransactionModel};
use crate::records::CustomerId;
use crate::segment::asset_quality::{AssetClass, AssetQualityParams};
use crate::segment::{Assign, Profile, SegmentError, Segmenter};
use crate::summary::{Patterns, Summaries, SummaryError, SummaryOptions};
use crate::time::TimeUnit;

pub use report::{
    CustomerValue, EquityReport, FirmValue, GroupEquity, ModelSummary, SegmentEquity, ValueAtRisk,
};

/// A boxed error from a model fit supplied by the caller or a downstream crate.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A type-erased [`Fit`] of a transaction model on patterns: what the builder keeps of the
/// settings given to [`ValuationBuilder::fit_transaction_model`].
trait FitTransactions<'a> {
    fn check_settings(&self) -> Result<(), BoxError>;
    fn fit_boxed(&self, patterns: &Patterns) -> Result<Box<dyn TransactionModel + 'a>, BoxError>;
}

impl<'a, P> FitTransactions<'a> for P
where
    P: Fit<Patterns>,
    P::Model: TransactionModel + 'a,
    P::Error: Into<BoxError>,
{
    fn check_settings(&self) -> Result<(), BoxError> {
        Fit::check(self).map_err(Into::into)
    }
    fn fit_boxed(&self, patterns: &Patterns) -> Result<Box<dyn TransactionModel + 'a>, BoxError> {
        match Fit::fit(self, patterns) {
            Ok(model) => Ok(Box::new(model)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A type-erased [`Fit`] of a spend model on spend data.
trait FitSpend<'a> {
    fn check_settings(&self) -> Result<(), BoxError>;
    fn fit_boxed(&self, data: &SpendData) -> Result<Box<dyn SpendModel + 'a>, BoxError>;
}

impl<'a, P> FitSpend<'a> for P
where
    P: Fit<SpendData>,
    P::Model: SpendModel + 'a,
    P::Error: Into<BoxError>,
{
    fn check_settings(&self) -> Result<(), BoxError> {
        Fit::check(self).map_err(Into::into)
    }
    fn fit_boxed(&self, data: &SpendData) -> Result<Box<dyn SpendModel + 'a>, BoxError> {
        match Fit::fit(self, data) {
            Ok(model) => Ok(Box::new(model)),
            Err(e) => Err(e.into()),
        }
    }
}

/// A discount rate, stored as a continuous rate per day and converted to the valuation's unit.
///
/// ```
/// use customer_assets::valuation::DiscountRate;
/// use customer_assets::TimeUnit;
/// // 10% a year of 365 days, as a continuous rate per week:
/// let d = DiscountRate::per_period(0.10, 365.0)?;
/// assert!((d.continuous_per(TimeUnit::WEEKS) - 1.1f64.ln() * 7.0 / 365.0).abs() < 1e-15);
/// assert!(DiscountRate::per_period(-0.2, 365.0).is_err());
/// # Ok::<(), customer_assets::valuation::ValuationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscountRate {
    per_day: f64,
}

impl DiscountRate {
    /// A continuous rate δ per `unit` (money at time t is worth e^(−δt) now). Range: δ in
    /// (0, 10] per unit.
    pub fn continuous(rate: f64, unit: TimeUnit) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 10.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        Ok(DiscountRate {
            per_day: rate / unit.days(),
        })
    }

    /// A rate d per period of `period_days` days, compounded per period (1 money unit a period
    /// from now is worth 1/(1 + d)). Range: d in (0, 1], a period of at least one day.
    pub fn per_period(rate: f64, period_days: f64) -> Result<Self, ValuationError> {
        if !(rate.is_finite() && rate > 0.0 && rate <= 1.0) {
            return Err(ValuationError::DiscountRateOutOfRange(rate));
        }
        if !(period_days.is_finite() && period_days >= 1.0) {
            return Err(ValuationError::InvalidPeriod(period_days));
        }
        Ok(DiscountRate {
            per_day: rate.ln_1p() / period_days,
        })
    }

    /// The continuous rate per `unit`.
    pub fn continuous_per(&self, unit: TimeUnit) -> f64 {
        self.per_day * unit.days()
    }
}

/// Future acquisition for the firm view: `customers` new customers every `period_days` days for
/// `periods` periods, each costing `cost` to acquire.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Acquisition {
    /// New customers per period.
    pub customers: f64,
    /// Length of a period in days.
    pub period_days: f64,
    /// Number of future periods (cohorts) counted.
    pub periods: u32,
    /// Acquisition cost per customer.
    pub cost: Decimal,
}

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
    #[error("horizon {0} must be finite and greater than 0")]
    NonPositiveHorizon(f64),
    /// No horizon was given.
    #[error("no horizon: say over how many time units expected purchases are counted")]
    MissingHorizon,
    /// No discount rate was given.
    #[error("no discount rate")]
    MissingDiscountRate,
    /// A discount rate outside its range.
    #[error("discount rate {0} is outside its range (per period: (0, 1]; continuous: (0, 10])")]
    DiscountRateOutOfRange(f64),
    /// A period length that is not a finite number of days ≥ 1.
    #[error("period of {0} days: must be finite and at least 1 day")]
    InvalidPeriod(f64),
    /// A margin outside (0, 1].
    #[error("margin {0} must be a share of spend in (0, 1]")]
    MarginOutOfRange(f64),
    /// A P(alive) threshold outside (0, 1).
    #[error("at-risk threshold {0} must lie strictly between 0 and 1")]
    ThresholdOutOfRange(f64),
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
    /// The settings of a model to fit are invalid (found by [`ValuationBuilder::build`]).
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
    #[error("customer {customer}: CLV {value} does not fit a decimal amount")]
    Money {
        /// The customer.
        customer: CustomerId,
        /// The value.
        value: f64,
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

/// A segmenter with a name, its types erased so the builder can hold any number of them.
pub trait NamedSegmenter {
    /// The name under which labels appear in the report.
    fn name(&self) -> &str;
    /// Learns from `profiles` and labels each of them, in order.
    fn labels(&self, profiles: &[Profile]) -> Result<Vec<String>, SegmentError>;
}

struct Named<S> {
    name: String,
    segmenter: S,
}

impl<S: Segmenter<Profile>> NamedSegmenter for Named<S> {
    fn name(&self) -> &str {
        &self.name
    }
    fn labels(&self, profiles: &[Profile]) -> Result<Vec<String>, SegmentError> {
        let (_, labels) = self.segmenter.segment(profiles)?;
        Ok(labels.iter().map(ToString::to_string).collect())
    }
}

enum Data<'a> {
    Ledger(&'a Ledger),
    Summaries(Summaries),
}

enum Source<Fitted: ?Sized, Fitter: ?Sized> {
    Fitted(Box<Fitted>),
    Fit(Box<Fitter>),
}

/// Collects the parts of a valuation; [`build`](Self::build) checks them.
#[derive(Default)]
pub struct ValuationBuilder<'a> {
    data: Option<Data<'a>>,
    as_of: Option<NaiveDate>,
    unit: Option<TimeUnit>,
    transactions: Option<Source<dyn TransactionModel + 'a, dyn FitTransactions<'a> + 'a>>,
    spend: Option<Source<dyn SpendModel + 'a, dyn FitSpend<'a> + 'a>>,
    margin: Option<f64>,
    discount: Option<DiscountRate>,
    horizon: Option<f64>,
    segmenters: Vec<Box<dyn NamedSegmenter + 'a>>,
    asset_quality: Option<AssetQualityParams>,
    tiers: Option<&'a Programme>,
    kpi_period_days: Option<u32>,
    at_risk_below: Option<f64>,
    acquisition: Option<Acquisition>,
}

impl<'a> ValuationBuilder<'a> {
    /// Values the customers of a ledger (summarised at the as-of date, in the unit).
    pub fn ledger(mut self, ledger: &'a Ledger) -> Self {
        self.data = Some(Data::Ledger(ledger));
        self
    }
    /// Values customers from summaries already made (their as-of date and unit apply).
    pub fn summaries(mut self, summaries: Summaries) -> Self {
        self.data = Some(Data::Summaries(summaries));
        self
    }
    /// The as-of date (required with a ledger).
    pub fn as_of(mut self, date: NaiveDate) -> Self {
        self.as_of = Some(date);
        self
    }
    /// The time unit of recency, age, horizon and the models (default: the summaries', else weeks).
    pub fn unit(mut self, unit: TimeUnit) -> Self {
        self.unit = Some(unit);
        self
    }
    /// A transaction model fitted already.
    pub fn transaction_model(mut self, model: impl TransactionModel + 'a) -> Self {
        self.transactions = Some(Source::Fitted(Box::new(model)));
        self
    }
    /// Settings of a transaction model to fit on the base's patterns: any [`Fit<Patterns>`](Fit)
    /// whose model is a [`TransactionModel`] (the crate's `XParams`, or a downstream crate's).
    /// [`build`](Self::build) checks the settings; [`Valuation::run`] fits.
    pub fn fit_transaction_model<P>(mut self, params: P) -> Self
    where
        P: Fit<Patterns> + 'a,
        P::Model: TransactionModel + 'a,
        P::Error: Into<BoxError>,
    {
        self.transactions = Some(Source::Fit(Box::new(params)));
        self
    }
    /// A spend model fitted already.
    pub fn spend_model(mut self, model: impl SpendModel + 'a) -> Self {
        self.spend = Some(Source::Fitted(Box::new(model)));
        self
    }
    /// Settings of a spend model to fit on the base's [`SpendData`] (customers with repeat
    /// purchases carry the information): any [`Fit<SpendData>`](Fit) whose model is a
    /// [`SpendModel`].
    pub fn fit_spend_model<P>(mut self, params: P) -> Self
    where
        P: Fit<SpendData> + 'a,
        P::Model: SpendModel + 'a,
        P::Error: Into<BoxError>,
    {
        self.spend = Some(Source::Fit(Box::new(params)));
        self
    }
    /// The margin as a share of spend, in (0, 1] (default 1: CLV in revenue terms).
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = Some(margin);
        self
    }
    /// The discount rate (required).
    pub fn discount(mut self, rate: DiscountRate) -> Self {
        self.discount = Some(rate);
        self
    }
    /// The horizon, in the valuation's unit, of the expected purchases reported (required).
    pub fn horizon(mut self, horizon: f64) -> Self {
        self.horizon = Some(horizon);
        self
    }
    /// Adds a segmenter; its labels appear under `name`. It sees profiles with P(alive) and CLV.
    pub fn segmenter<S: Segmenter<Profile> + 'a>(
        mut self,
        name: impl Into<String>,
        segmenter: S,
    ) -> Self {
        self.segmenters.push(Box::new(Named {
            name: name.into(),
            segmenter,
        }));
        self
    }
    /// Adds a type-erased segmenter (for segmenters built at run time).
    pub fn named_segmenter(mut self, segmenter: Box<dyn NamedSegmenter + 'a>) -> Self {
        self.segmenters.push(segmenter);
        self
    }
    /// How asset classes are cut (default: CLV at the median, P(alive) at 0.5).
    pub fn asset_quality(mut self, params: AssetQualityParams) -> Self {
        self.asset_quality = Some(params);
        self
    }
    /// A loyalty programme whose tier each customer holds at the as-of date (needs a ledger).
    pub fn tiers(mut self, programme: &'a Programme) -> Self {
        self.tiers = Some(programme);
        self
    }
    /// Computes the KPI report over the `period_days` days ending at the as-of date (needs a ledger).
    pub fn kpis(mut self, period_days: u32) -> Self {
        self.kpi_period_days = Some(period_days);
        self
    }
    /// Customers with P(alive) below `threshold` count as value at risk (default 0.5).
    pub fn at_risk_below(mut self, threshold: f64) -> Self {
        self.at_risk_below = Some(threshold);
        self
    }
    /// Adds the firm view: future acquisition cohorts (Gupta, Lehmann & Stuart 2004).
    pub fn acquisition(mut self, plan: Acquisition) -> Self {
        self.acquisition = Some(plan);
        self
    }

    /// Checks every part in one place, before any work is done.
    pub fn build(self) -> Result<Valuation<'a>, ValuationError> {
        let data = self.data.ok_or(ValuationError::MissingData)?;
        let (as_of, data_unit) = match &data {
            Data::Ledger(_) => (self.as_of.ok_or(ValuationError::MissingAsOf)?, None),
            Data::Summaries(s) => {
                if let Some(given) = self.as_of.filter(|d| *d != s.as_of()) {
                    return Err(ValuationError::AsOfMismatch {
                        given,
                        summaries: s.as_of(),
                    });
                }
                (s.as_of(), Some(s.unit()))
            }
        };
        let unit = self.unit.or(data_unit).unwrap_or(TimeUnit::WEEKS);
        if let Some(found) = data_unit.filter(|u| *u != unit) {
            return Err(ValuationError::UnitMismatch {
                what: "the summaries",
                expected: unit,
                found,
            });
        }
        let transactions = self
            .transactions
            .ok_or(ValuationError::MissingTransactionModel)?;
        if let Source::Fitted(m) = &transactions {
            if m.unit() != unit {
                return Err(ValuationError::UnitMismatch {
                    what: "the transaction model",
                    expected: unit,
                    found: m.unit(),
                });
            }
        }
        if let Source::Fit(p) = &transactions {
            p.check_settings()
                .map_err(|source| ValuationError::FitSettings {
                    part: "transaction model",
                    source,
                })?;
        }
        let spend = self.spend.ok_or(ValuationError::MissingSpendModel)?;
        if let Source::Fit(p) = &spend {
            p.check_settings()
                .map_err(|source| ValuationError::FitSettings {
                    part: "spend model",
                    source,
                })?;
        }
        let horizon = self.horizon.ok_or(ValuationError::MissingHorizon)?;
        if !(horizon.is_finite() && horizon > 0.0) {
            return Err(ValuationError::NonPositiveHorizon(horizon));
        }
        let discount = self.discount.ok_or(ValuationError::MissingDiscountRate)?;
        let margin = self.margin.unwrap_or(1.0);
        if !(margin.is_finite() && margin > 0.0 && margin <= 1.0) {
            return Err(ValuationError::MarginOutOfRange(margin));
        }
        let at_risk_below = self.at_risk_below.unwrap_or(0.5);
        if !(at_risk_below > 0.0 && at_risk_below < 1.0) {
            return Err(ValuationError::ThresholdOutOfRange(at_risk_below));
        }
        if matches!(data, Data::Summaries(_)) {
            if self.tiers.is_some() {
                return Err(ValuationError::NeedsLedger("tier rules"));
            }
            if self.kpi_period_days.is_some() {
                return Err(ValuationError::NeedsLedger("KPIs"));
            }
        }
        if let Some(a) = &self.acquisition {
            if !(a.customers.is_finite() && a.customers >= 0.0) {
                return Err(ValuationError::InvalidAcquisition(
                    "customers per period must be finite and non-negative",
                ));
            }
            if !(a.period_days.is_finite() && a.period_days >= 1.0) {
                return Err(ValuationError::InvalidPeriod(a.period_days));
            }
            if a.cost.is_sign_negative() && !a.cost.is_zero() {
                return Err(ValuationError::InvalidAcquisition(
                    "acquisition cost must not be negative",
                ));
            }
        }
        Ok(Valuation {
            data,
            as_of,
            unit,
            transactions,
            spend,
            margin,
            discount,
            horizon,
            segmenters: self.segmenters,
            asset_quality: self.asset_quality.unwrap_or_default(),
            tiers: self.tiers,
            kpi_period_days: self.kpi_period_days,
            at_risk_below,
            acquisition: self.acquisition,
        })
    }
}

/// A checked valuation, ready to [`run`](Self::run).
pub struct Valuation<'a> {
    data: Data<'a>,
    as_of: NaiveDate,
    unit: TimeUnit,
    transactions: Source<dyn TransactionModel + 'a, dyn FitTransactions<'a> + 'a>,
    spend: Source<dyn SpendModel + 'a, dyn FitSpend<'a> + 'a>,
    margin: f64,
    discount: DiscountRate,
    horizon: f64,
    segmenters: Vec<Box<dyn NamedSegmenter + 'a>>,
    asset_quality: AssetQualityParams,
    tiers: Option<&'a Programme>,
    kpi_period_days: Option<u32>,
    at_risk_below: f64,
    acquisition: Option<Acquisition>,
}

/// One customer's model outputs, before money rounding.
struct Prediction {
    p_alive: f64,
    expected_purchases: f64,
    expected_spend: f64,
    dert: f64,
    clv: f64,
}

impl<'a> Valuation<'a> {
    /// Starts a builder.
    pub fn builder() -> ValuationBuilder<'a> {
        ValuationBuilder::default()
    }

    /// Runs the valuation, stage by stage: summarize the base, fit the models, predict per
    /// customer, segment (asset classes and the named segmenters), evaluate tiers, and aggregate
    /// the report. Everything the caller chose was checked by
    /// [`build`](ValuationBuilder::build), so this fails only on the data.
    ///
    /// # Errors
    /// A [`ValuationError`] naming the stage and, where one is at fault, the customer.
    pub fn run(self) -> Result<EquityReport, ValuationError> {
        let summaries = self.summarize()?;
        let (transactions, spend) =
            fit_models(self.transactions, self.spend, &summaries, self.unit)?;
        let rate = self.discount.continuous_per(self.unit);
        let models = Models {
            transactions: transactions.as_ref(),
            spend: spend.as_ref(),
        };
        let predictions = predict_all(&summaries, &models, self.horizon, rate, self.margin)?;
        let ledger = match &self.data {
            Data::Ledger(l) => Some(*l),
            Data::Summaries(_) => None,
        };
        let profiles = profiles(&summaries, &predictions, ledger, self.unit)?;
        let segments = segment(&profiles, &self.asset_quality, &self.segmenters)?;
        let tiers = match (self.tiers, ledger) {
            (Some(programme), Some(l)) => Some(tiers(programme, l, self.as_of)?),
            _ => None,
        };
        let kpis = match (self.kpi_period_days, ledger) {
            (Some(days), Some(l)) => Some(KpiReport::new(l, self.as_of, days)?),
            _ => None,
        };
        let customers = customer_values(&summaries, &predictions, &segments, tiers.as_ref())?;
        let equity: Decimal = customers.iter().map(|c| c.clv).sum();
        let firm = match &self.acquisition {
            Some(plan) => Some(firm_view(
                plan,
                &summaries,
                &models,
                self.margin,
                self.discount,
                self.unit,
                equity,
            )?),
            None => None,
        };
        aggregate(Aggregate {
            as_of: self.as_of,
            unit: self.unit,
            horizon: self.horizon,
            margin: self.margin,
            at_risk_below: self.at_risk_below,
            summaries: &summaries,
            predictions: &predictions,
            customers,
            equity,
            asset_cuts: segments.asset_cuts,
            kpis,
            models: &models,
            rate,
            firm,
        })
    }

    /// Stage 1: the per-customer summaries at the as-of date.
    fn summarize(&self) -> Result<Summaries, ValuationError> {
        let summaries = match &self.data {
            Data::Ledger(l) => l.summarize(SummaryOptions::new(self.as_of, self.unit))?,
            Data::Summaries(s) => s.clone(),
        };
        if summaries.is_empty() {
            return Err(ValuationError::EmptyBase);
        }
        Ok(summaries)
    }
}

/// The two models of a valuation.
struct Models<'m> {
    transactions: &'m dyn TransactionModel,
    spend: &'m dyn SpendModel,
}

/// Stage 2: the models, fitted where settings were given.
#[allow(clippy::type_complexity)]
fn fit_models<'a>(
    transactions: Source<dyn TransactionModel + 'a, dyn FitTransactions<'a> + 'a>,
    spend: Source<dyn SpendModel + 'a, dyn FitSpend<'a> + 'a>,
    summaries: &Summaries,
    unit: TimeUnit,
) -> Result<(Box<dyn TransactionModel + 'a>, Box<dyn SpendModel + 'a>), ValuationError> {
    let transactions = match transactions {
        Source::Fitted(m) => m,
        Source::Fit(p) => {
            let m = p
                .fit_boxed(&summaries.patterns())
                .map_err(|source| ValuationError::Fit {
                    part: "transaction model",
                    source,
                })?;
            if m.unit() != unit {
                return Err(ValuationError::UnitMismatch {
                    what: "the fitted transaction model",
                    expected: unit,
                    found: m.unit(),
                });
            }
            m
        }
    };
    let spend = match spend {
        Source::Fitted(m) => m,
        Source::Fit(p) => p
            .fit_boxed(&SpendData::from_summaries(summaries)?)
            .map_err(|source| ValuationError::Fit {
                part: "spend model",
                source,
            })?,
    };
    Ok((transactions, spend))
}

/// Stage 4: profiles carry the model values so that any segmenter can use them.
fn profiles(
    summaries: &Summaries,
    predictions: &[Prediction],
    ledger: Option<&Ledger>,
    unit: TimeUnit,
) -> Result<Vec<Profile>, ValuationError> {
    let segment_error = |source| ValuationError::Segment {
        segmenter: "profile".into(),
        source,
    };
    let mut profiles = Vec::with_capacity(summaries.len());
    for (s, p) in summaries.iter().zip(predictions) {
        let mut profile = Profile::from_summary(s, unit)
            .with_p_alive(p.p_alive)
            .map_err(segment_error)?
            .with_clv(p.clv)
            .map_err(segment_error)?;
        if let Some(c) = ledger.and_then(|l| l.customer(s.id())) {
            profile = profile.with_attributes(c);
        }
        profiles.push(profile);
    }
    Ok(profiles)
}

/// What the segmentation stage produces.
struct Segments {
    classes: Vec<AssetClass>,
    asset_cuts: (f64, f64),
    /// Per named segmenter, its labels in customer order.
    labels: Vec<(String, Vec<String>)>,
}

/// Stage 5: asset classes and the named segmenters' labels.
fn segment(
    profiles: &[Profile],
    asset_quality: &AssetQualityParams,
    segmenters: &[Box<dyn NamedSegmenter + '_>],
) -> Result<Segments, ValuationError> {
    let asset_error = |source| ValuationError::Segment {
        segmenter: "asset quality".into(),
        source,
    };
    let asset = asset_quality.learn(profiles).map_err(asset_error)?;
    let classes = asset.assign_all(profiles).map_err(asset_error)?;
    let mut labels = Vec::with_capacity(segmenters.len());
    for s in segmenters {
        let l = s
            .labels(profiles)
            .map_err(|source| ValuationError::Segment {
                segmenter: s.name().to_string(),
                source,
            })?;
        labels.push((s.name().to_string(), l));
    }
    Ok(Segments {
        classes,
        asset_cuts: (asset.clv_cut(), asset.p_alive_cut()),
        labels,
    })
}

/// Stage 6: each member's tier at the as-of date.
fn tiers(
    programme: &Programme,
    ledger: &Ledger,
    as_of: NaiveDate,
) -> Result<HashMap<CustomerId, String>, ValuationError> {
    let customers: Vec<_> = ledger.customers().cloned().collect();
    let replays = Evaluator::new(programme).evaluate_base(
        &customers,
        ledger.transactions(),
        &[],
        &[],
        as_of,
    )?;
    Ok(replays
        .into_iter()
        .map(|r| {
            let (status, _, _) = r.into_parts();
            (status.customer, status.tier.to_string())
        })
        .collect())
}

/// Stage 7: one row per customer, CLV in money.
fn customer_values(
    summaries: &Summaries,
    predictions: &[Prediction],
    segments: &Segments,
    tiers: Option<&HashMap<CustomerId, String>>,
) -> Result<Vec<CustomerValue>, ValuationError> {
    let mut customers = Vec::with_capacity(summaries.len());
    for (k, (s, p)) in summaries.iter().zip(predictions).enumerate() {
        let clv = money(p.clv).ok_or_else(|| ValuationError::Money {
            customer: s.id().clone(),
            value: p.clv,
        })?;
        customers.push(CustomerValue {
            id: s.id().clone(),
            segments: segments
                .labels
                .iter()
                .map(|(name, labels)| (name.clone(), labels[k].clone()))
                .collect(),
            tier: tiers.and_then(|t| t.get(s.id()).cloned()),
            p_alive: p.p_alive,
            expected_purchases: p.expected_purchases,
            expected_spend: p.expected_spend,
            dert: p.dert,
            clv,
            asset_class: segments.classes[k],
        });
    }
    Ok(customers)
}

/// Everything the report is aggregated from.
struct Aggregate<'v, 'm> {
    as_of: NaiveDate,
    unit: TimeUnit,
    horizon: f64,
    margin: f64,
    at_risk_below: f64,
    summaries: &'v Summaries,
    predictions: &'v [Prediction],
    customers: Vec<CustomerValue>,
    equity: Decimal,
    asset_cuts: (f64, f64),
    kpis: Option<KpiReport>,
    models: &'v Models<'m>,
    rate: f64,
    firm: Option<FirmValue>,
}

/// Stage 8: equity by group, value at risk, concentration, and the report.
fn aggregate(a: Aggregate<'_, '_>) -> Result<EquityReport, ValuationError> {
    let by_segment = report::equity_by_segment(&a.customers);
    let by_tier = report::equity_by(&a.customers, |c| c.tier.clone());
    let by_asset_class = report::equity_by(&a.customers, |c| Some(c.asset_class.to_string()));
    let mut at_risk = ValueAtRisk {
        below_p_alive: a.at_risk_below,
        customers: 0,
        clv: Decimal::ZERO,
        historical_spend: Decimal::ZERO,
    };
    for (c, s) in a.customers.iter().zip(a.summaries.iter()) {
        if c.p_alive < a.at_risk_below {
            at_risk.customers += 1;
            at_risk.clv += c.clv;
            at_risk.historical_spend += s.total_spend();
        }
    }
    let clvs: Vec<f64> = a.predictions.iter().map(|p| p.clv).collect();
    let concentration = Concentration::new(&clvs)?;
    let top_shares = [0.01, 0.1, 0.2]
        .iter()
        .map(|&top| {
            Ok(TopShare {
                top,
                share: concentration.top_share(top)?,
            })
        })
        .collect::<Result<Vec<_>, KpiError>>()?;
    let (t, s) = (a.models.transactions, a.models.spend);
    let models = vec![
        ModelSummary::new(
            "transactions",
            t.name(),
            t.named_parameters(),
            t.fit_report(),
        ),
        ModelSummary::new("spend", s.name(), s.named_parameters(), s.fit_report()),
    ];
    Ok(EquityReport {
        as_of: a.as_of,
        unit: a.unit,
        horizon: a.horizon,
        margin: a.margin,
        discount_rate: a.rate,
        customers: a.customers,
        equity: a.equity,
        by_segment,
        by_tier,
        by_asset_class,
        value_at_risk: at_risk,
        top_shares,
        gini: concentration.gini(),
        asset_cuts: a.asset_cuts,
        kpis: a.kpis,
        models,
        firm: a.firm,
    })
}

/// CLV in money: rounded to cents.
fn money(value: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(value)
        .filter(|_| value.is_finite())
        .map(|d| d.round_dp(2))
}

/// Stage 3: one customer's predictions.
fn predict_one(
    s: &crate::summary::CustomerSummary,
    models: &Models<'_>,
    horizon: f64,
    rate: f64,
    margin: f64,
) -> Result<Prediction, ValuationError> {
    let error = |source| ValuationError::Predict {
        customer: s.id().clone(),
        source,
    };
    let (transactions, spend) = (models.transactions, models.spend);
    let h = History::from(s);
    let p_alive = transactions.p_alive(&h, 0.0).map_err(error)?;
    let expected_purchases = transactions
        .expected_purchases(&h, horizon)
        .map_err(error)?;
    let dert = transactions.dert(&h, rate).map_err(error)?;
    let mean_spend = rust_decimal::prelude::ToPrimitive::to_f64(&s.monetary_value()).unwrap_or(0.0);
    let expected_spend = spend
        .expected_spend(s.frequency(), mean_spend)
        .map_err(error)?;
    Ok(Prediction {
        p_alive,
        expected_purchases,
        expected_spend,
        dert,
        clv: dert * expected_spend * margin,
    })
}

fn predict_all(
    summaries: &Summaries,
    models: &Models<'_>,
    horizon: f64,
    rate: f64,
    margin: f64,
) -> Result<Vec<Prediction>, ValuationError> {
    summaries
        .iter()
        .map(|s| predict_one(s, models, horizon, rate, margin))
        .collect()
}

/// The firm view: current equity plus future cohorts, and GLS elasticities at the base's implied
/// retention per acquisition period.
fn firm_view(
    plan: &Acquisition,
    summaries: &Summaries,
    models: &Models<'_>,
    margin: f64,
    discount: DiscountRate,
    unit: TimeUnit,
    equity: Decimal,
) -> Result<FirmValue, ValuationError> {
    let predict = |source| ValuationError::Predict {
        customer: CustomerId::from(0u64),
        source,
    };
    let (transactions, spend) = (models.transactions, models.spend);
    let rate = discount.continuous_per(unit);
    let period = unit.from_days(plan.period_days);
    // A new customer: the first purchase at acquisition plus the discounted residual purchases.
    let fresh = History::new(0, 0.0, 0.0);
    let spend_new = spend.expected_spend_new().map_err(predict)?;
    let dert_new = transactions.dert(&fresh, rate).map_err(predict)?;
    let new_customer_margin = margin * spend_new * (1.0 + dert_new);
    let cost = rust_decimal::prelude::ToPrimitive::to_f64(&plan.cost).unwrap_or(0.0);
    let per_customer = new_customer_margin - cost;
    let discount_factor = (-rate * period).exp();
    let cohorts: f64 = (1..=plan.periods)
        .map(|k| plan.customers * per_customer * discount_factor.powi(k as i32))
        .sum();
    let future = money(cohorts).ok_or(ValuationError::Money {
        customer: CustomerId::from(0u64),
        value: cohorts,
    })?;
    // Implied retention per period: expected survivors one period on over expected alive now.
    let (mut alive_now, mut alive_next) = (0.0, 0.0);
    for s in summaries.iter() {
        let h = History::from(s);
        alive_now += transactions.p_alive(&h, 0.0).map_err(predict)?;
        alive_next += transactions.p_alive(&h, period).map_err(predict)?;
    }
    let retention = if alive_now > 0.0 {
        alive_next / alive_now
    } else {
        0.0
    };
    let per_period_discount = (rate * period).exp_m1();
    let elasticities = gls::elasticities(retention, per_period_discount, 0.0)?;
    Ok(FirmValue {
        current_equity: equity,
        future_cohorts: future,
        firm_value: equity + future,
        new_customer_value: money(per_customer).unwrap_or(Decimal::ZERO),
        implied_retention: retention,
        discount_per_period: per_period_discount,
        elasticities,
    })
}

#[cfg(test)]
mod tests;
