//! The valuation builder: collects the parts, and `build` checks them all in one place.

use chrono::NaiveDate;

use crate::fit::Fit;
use crate::ledger::Ledger;
use crate::loyalty::Programme;
use crate::models::{SpendData, SpendModel, TransactionModel};
use crate::segment::asset_quality::AssetQualityParams;
use crate::segment::{Profile, SegmentError, Segmenter};
use crate::summary::{Patterns, Summaries};
use crate::time::TimeUnit;
use crate::valuation::error::{BoxError, ValuationError};
use crate::valuation::fitting::{FitSpend, FitTransactions};
use crate::valuation::inputs::{Acquisition, DiscountRate};
use crate::valuation::intervals::IntervalOptions;
use crate::valuation::labels::Labels;

/// A segmenter with a name, its types erased so the builder can hold any number of them.
pub trait NamedSegmenter {
    /// The name under which labels appear in the report.
    fn name(&self) -> &str;
    /// Learns from `profiles` and labels each of them, in order: one label per profile.
    ///
    /// # Errors
    /// The segmenter's own: an empty population, an invalid parameter, a missing feature.
    fn labels(&self, profiles: &[Profile]) -> Result<Labels, SegmentError>;
    /// Checks the segmenter's parameters without profiles (the default accepts everything);
    /// [`ValuationBuilder::build`] calls it.
    ///
    /// # Errors
    /// The first invalid parameter.
    fn check(&self) -> Result<(), SegmentError> {
        Ok(())
    }
}

struct Named<S> {
    name: String,
    segmenter: S,
}

impl<S: Segmenter<Profile>> NamedSegmenter for Named<S> {
    fn name(&self) -> &str {
        &self.name
    }
    fn labels(&self, profiles: &[Profile]) -> Result<Labels, SegmentError> {
        let (_, labels) = self.segmenter.segment(profiles)?;
        Labels::from_labels(&labels)
    }
    fn check(&self) -> Result<(), SegmentError> {
        self.segmenter.check()
    }
}

pub(super) enum Data<'a> {
    Ledger(&'a Ledger),
    Summaries(Summaries),
}

pub(super) enum Source<Fitted: ?Sized, Fitter: ?Sized> {
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
    intervals: Option<IntervalOptions>,
    referrals: Option<super::referral::ReferralOptions>,
    covariates: Option<&'a crate::covariates::DesignMatrix>,
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

    /// Adds intervals of customer equity, of each group's equity, of value at risk and of the
    /// base's expected purchases, from the uncertainty of the models' parameters (the method
    /// and level stated in the report). The models must carry their covariance (fitted models
    /// do) and be rebuildable at other parameters (the crate's models are); the
    /// [bootstrap](IntervalOptions::bootstrap) needs both models as settings to fit.
    pub fn intervals(mut self, options: IntervalOptions) -> Self {
        self.intervals = Some(options);
        self
    }

    /// The options of the referral values (default: [`ReferralOptions::default`]), computed
    /// when the ledger holds referrals (see [`ReferralSummary`](super::ReferralSummary)).
    ///
    /// [`ReferralOptions::default`]: super::ReferralOptions::default
    pub fn referrals(mut self, options: super::referral::ReferralOptions) -> Self {
        self.referrals = Some(options);
        self
    }

    /// The customers' covariates: the report then holds
    /// [`EquityReport::covariates`](super::EquityReport::covariates), equity by each column's
    /// values and, for a covariate model
    /// ([`BoundCovariateModel`](crate::models::covariates::BoundCovariateModel)), the value each
    /// coefficient moves (equity with it against equity with it at 0).
    pub fn covariates(mut self, design: &'a crate::covariates::DesignMatrix) -> Self {
        self.covariates = Some(design);
        self
    }

    /// Checks every part in one place, before any work is done.
    ///
    /// # Errors
    /// The first missing or invalid part, each with its own [`ValuationError`] variant.
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
        if let Some(options) = &self.intervals {
            options.check()?;
            let refits = options.method() == crate::models::IntervalMethod::Bootstrap;
            if refits && !matches!((&transactions, &spend), (Source::Fit(_), Source::Fit(_))) {
                return Err(ValuationError::Intervals(
                    "the bootstrap refits both models: give them as settings to fit (fit_transaction_model, fit_spend_model)",
                ));
            }
        }
        let asset_quality = self.asset_quality.unwrap_or_default();
        asset_quality
            .check()
            .map_err(|source| ValuationError::Segment {
                segmenter: "asset quality".into(),
                source,
            })?;
        for s in &self.segmenters {
            s.check().map_err(|source| ValuationError::Segment {
                segmenter: s.name().to_string(),
                source,
            })?;
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
            asset_quality,
            tiers: self.tiers,
            kpi_period_days: self.kpi_period_days,
            at_risk_below,
            acquisition: self.acquisition,
            intervals: self.intervals,
            referrals: self.referrals,
            covariates: self.covariates,
        })
    }
}

/// A checked valuation, ready to [`run`](Self::run).
pub struct Valuation<'a> {
    pub(super) data: Data<'a>,
    pub(super) as_of: NaiveDate,
    pub(super) unit: TimeUnit,
    pub(super) transactions: Source<dyn TransactionModel + 'a, dyn FitTransactions<'a> + 'a>,
    pub(super) spend: Source<dyn SpendModel + 'a, dyn FitSpend<'a> + 'a>,
    pub(super) margin: f64,
    pub(super) discount: DiscountRate,
    pub(super) horizon: f64,
    pub(super) segmenters: Vec<Box<dyn NamedSegmenter + 'a>>,
    pub(super) asset_quality: AssetQualityParams,
    pub(super) tiers: Option<&'a Programme>,
    pub(super) kpi_period_days: Option<u32>,
    pub(super) at_risk_below: f64,
    pub(super) acquisition: Option<Acquisition>,
    pub(super) intervals: Option<IntervalOptions>,
    pub(super) referrals: Option<super::referral::ReferralOptions>,
    pub(super) covariates: Option<&'a crate::covariates::DesignMatrix>,
}
