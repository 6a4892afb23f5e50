//! Running a checked valuation, stage by stage.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::fit::Fit;
use crate::kpi::{Concentration, KpiReport};
use crate::ledger::Ledger;
use crate::loyalty::{Evaluator, LedgerTiers};
use crate::models::{
    History, MeanSpendParams, PredictError, SpendData, SpendModel, TransactionModel,
};
use crate::records::CustomerId;
use crate::segment::asset_quality::{AssetClass, AssetQualityParams};
use crate::segment::{Profile, SegmentError, Segmenter};
use crate::summary::{CustomerSummary, Summaries, SummaryOptions};
use crate::time::TimeUnit;
use crate::valuation::builder::{Data, NamedSegmenter, Source, Valuation, ValuationBuilder};
use crate::valuation::error::ValuationError;
use crate::valuation::feedback;
use crate::valuation::fitting::{FitSpend, FitTransactions};
use crate::valuation::gls;
use crate::valuation::inputs::{Acquisition, DiscountRate};
use crate::valuation::intervals;
use crate::valuation::labels::Labels;
use crate::valuation::report::{
    CustomerValue, EquityReport, FirmValue, GroupEquity, ModelSummary, SegmentEquity, ValueAtRisk,
};
use crate::valuation::sums::{self, to_cents, Clv, GroupOrder, Sums};

/// One customer's model outputs, before money rounding.
struct Prediction {
    p_alive: f64,
    expected_purchases: f64,
    expected_spend: f64,
    dert: f64,
    clv: f64,
    /// The CLV in money.
    clv_money: Decimal,
    /// A repeat buyer valued at the population mean spend (no positive mean spend of its own).
    at_population_mean: bool,
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
        let Valuation {
            data,
            as_of,
            unit,
            transactions,
            spend,
            margin,
            discount,
            horizon,
            segmenters,
            asset_quality,
            tiers: programme,
            kpi_period_days,
            at_risk_below,
            acquisition,
            intervals,
            referrals: referral_options,
            covariates,
        } = self;
        let ledger = match &data {
            Data::Ledger(l) => Some(*l),
            Data::Summaries(_) => None,
        };
        let rate = discount.continuous_per(unit);
        // The tiers' replays read only the ledger: with `parallel` they run from the start on a
        // thread of their own, beside every other stage, on the cores those leave idle (the
        // fits and the segmentation have serial parts).
        let replay = match (programme, ledger) {
            (Some(programme), Some(l)) => Some(move || {
                Evaluator::new(programme)
                    .ledger_tiers(l, as_of)
                    .map_err(ValuationError::from)
            }),
            _ => None,
        };
        let staged = |replayed: Side<Result<LedgerTiers<'_>, ValuationError>>| -> Result<Staged<'_>, ValuationError> {
            let summaries = summarize(&data, as_of, unit)?;
            let (transactions, spend, fitters) =
                fit_models(transactions, spend, &summaries, unit)?;
            let models = Models {
                transactions: transactions.as_ref(),
                spend: spend.model.as_ref(),
                spend_fallback: spend.fallback.as_deref(),
            };
            let predictions = predict_all(&summaries, &models, horizon, rate, margin)?;
            // Those replays are usually done by now; the summaries' customers find their tiers
            // beside the segmentation, with the KPIs (which read only the ledger and the
            // summaries).
            let replayed = replayed.wait().transpose();
            let beside_segments = || {
                let kpis = match (kpi_period_days, ledger) {
                    (Some(days), Some(l)) => KpiReport::with_summaries(l, as_of, days, &summaries)
                        .map(Some)
                        .map_err(ValuationError::from),
                    _ => Ok(None),
                };
                let tiers = match &replayed {
                    Ok(Some(t)) => Some(Tiers::of(t, &summaries)),
                    _ => None,
                };
                (kpis, tiers)
            };
            let segments = || -> Result<_, ValuationError> {
                let profiles = profiles(&summaries, &predictions, ledger, as_of, unit)?;
                segment(&profiles, &asset_quality, &segmenters)
            };
            let (segments, (kpis, tiers)) = beside(segments, beside_segments);
            // Errors in stage order: the summaries', the fits', the predictions', the
            // segmentation's, then the tiers' and the KPIs'.
            let segments = segments?;
            replayed?;
            let kpis = kpis?;
            Ok(Staged {
                summaries,
                transactions,
                spend,
                fitters,
                predictions,
                segments,
                tiers,
                kpis,
            })
        };
        let Staged {
            summaries,
            transactions,
            spend,
            fitters,
            predictions,
            segments,
            tiers,
            kpis,
        } = with_side(replay, staged)?;
        let models = Models {
            transactions: transactions.as_ref(),
            spend: spend.model.as_ref(),
            spend_fallback: spend.fallback.as_deref(),
        };
        let customers = customer_values(&summaries, &predictions, &segments, tiers.as_ref());
        let sums = sums_of(
            &summaries,
            &predictions,
            &segments,
            tiers.as_ref(),
            at_risk_below,
        );
        let by_tier = match &tiers {
            Some(t) => sums::named_groups(&t.names, &sums.by_tier, GroupOrder::Named, |name| {
                format!("the equity of tier {name}")
            })?,
            None => Vec::new(),
        };
        let by_segment = segments
            .labels
            .iter()
            .zip(&sums.by_segment)
            .map(|((name, labels), groups)| {
                Ok(SegmentEquity {
                    segmenter: name.to_string(),
                    segments: sums::named_groups(
                        labels.names(),
                        groups,
                        GroupOrder::EquityDescending,
                        |label| format!("the equity of segment {label} of {name}"),
                    )?,
                })
            })
            .collect::<Result<_, ValuationError>>()?;
        let equity = sums.equity.equity(|| "the equity".into())?;
        let firm = match &acquisition {
            Some(plan) => Some(firm_view(
                plan, &summaries, &models, margin, discount, unit, equity,
            )?),
            None => None,
        };
        let membership = intervals.map(|_| intervals::Membership {
            classes: &segments.classes,
            tiers: tiers
                .as_ref()
                .map(|t| (t.of_customer.as_slice(), t.names.len())),
            segments: segments
                .labels
                .iter()
                .map(|(_, l)| (l.indices(), l.names().len()))
                .collect(),
            at_risk: predictions
                .iter()
                .map(|p| p.p_alive < at_risk_below)
                .collect(),
        });
        let made = match (intervals, membership) {
            (Some(options), Some(membership)) => {
                let inputs = intervals::Inputs {
                    options,
                    summaries: &summaries,
                    unit,
                    transactions: models.transactions,
                    spend: models.spend,
                    fit_transactions: fitters.transactions.as_deref(),
                    fit_spend: fitters.spend.as_deref(),
                    spend_fallback: models.spend_fallback.is_some(),
                    membership,
                };
                let values_of = |t: &dyn TransactionModel,
                                 s: &dyn SpendModel|
                 -> Result<intervals::Values, ValuationError> {
                    let models = Models {
                        transactions: t,
                        spend: s,
                        spend_fallback: None,
                    };
                    Ok(predict_all(&summaries, &models, horizon, rate, margin)?
                        .iter()
                        .map(|p| (p.clv, p.expected_purchases))
                        .collect())
                };
                Some(intervals::make(&inputs, &values_of))
            }
            _ => None,
        };
        let mut report = aggregate(Aggregate {
            as_of,
            unit,
            horizon,
            margin,
            at_risk_below,
            predictions: &predictions,
            customers,
            equity,
            sums,
            asset_cuts: segments.asset_cuts,
            by_segment,
            by_tier,
            kpis,
            models: &models,
            rate,
            firm,
        })?;
        // Feedback by segment reads the report's groups; it never takes the report down.
        report.feedback = feedback::section(&report, ledger, kpi_period_days);
        match made {
            Some(Ok(made)) => attach(&mut report, made, &segments, tiers.as_ref()),
            Some(Err(note)) => report.interval_note = Some(note),
            None => {}
        }
        if let Some(l) = ledger {
            super::referral::attach(&mut report, l, referral_options.unwrap_or_default());
        }
        if let Some(design) = covariates {
            let equity_with = |t: &dyn TransactionModel| -> Result<Decimal, String> {
                let models = Models {
                    transactions: t,
                    spend: models.spend,
                    spend_fallback: None,
                };
                let predictions = predict_all(&summaries, &models, horizon, rate, margin)
                    .map_err(|e| e.to_string())?;
                let mut total = sums::Group::default();
                for p in &predictions {
                    total.add(Clv::new(p.clv_money));
                }
                total
                    .equity(|| "the counterfactual equity".into())
                    .map_err(|e| e.to_string())
            };
            report.covariates = Some(super::by_covariate::section(
                &report,
                design,
                models.transactions,
                &equity_with,
            ));
        }
        Ok(report)
    }
}

/// Puts the intervals made in the report: each group's by its label.
fn attach(
    report: &mut EquityReport,
    made: intervals::Made,
    segments: &Segments,
    tiers: Option<&Tiers>,
) {
    let intervals::Made {
        layout,
        bounds,
        report: summary,
    } = made;
    let money = |q: usize| intervals::money_at(&bounds, q);
    for g in &mut report.by_asset_class {
        let class = AssetClass::ALL
            .iter()
            .position(|c| c.to_string() == g.label);
        g.interval = class.and_then(|c| money(layout.class(c)));
    }
    if let Some(t) = tiers {
        for g in &mut report.by_tier {
            let tier = t.names.iter().position(|n| **n == *g.label);
            g.interval = tier.and_then(|i| money(layout.tier(i)));
        }
    }
    for (s, (segment, (_, labels))) in report
        .by_segment
        .iter_mut()
        .zip(&segments.labels)
        .enumerate()
    {
        for g in &mut segment.segments {
            let label = labels.names().iter().position(|n| **n == *g.label);
            g.interval = label.and_then(|l| money(layout.segment(s, l)));
        }
    }
    report.intervals = Some(summary);
}

/// Stage 1: the per-customer summaries at the as-of date.
fn summarize(
    data: &Data<'_>,
    as_of: NaiveDate,
    unit: TimeUnit,
) -> Result<Summaries, ValuationError> {
    let summaries = match data {
        Data::Ledger(l) => l.summarize(SummaryOptions::new(as_of, unit))?,
        Data::Summaries(s) => (*s).clone(),
    };
    if summaries.is_empty() {
        return Err(ValuationError::EmptyBase);
    }
    Ok(summaries)
}

/// What the stages before the report's rows produce.
struct Staged<'a> {
    summaries: Summaries,
    transactions: Box<dyn TransactionModel + 'a>,
    spend: FittedSpend<'a>,
    fitters: Fitters<'a>,
    predictions: Vec<Prediction>,
    segments: Segments,
    tiers: Option<Tiers>,
    kpis: Option<KpiReport>,
}

/// The two models of a valuation.
struct Models<'m> {
    transactions: &'m dyn TransactionModel,
    spend: &'m dyn SpendModel,
    /// Why the population mean spend stands in for the spend model asked for, if it does.
    spend_fallback: Option<&'m str>,
}

/// The settings the valuation fitted its models with, kept for the bootstrap's refits.
#[derive(Default)]
struct Fitters<'a> {
    transactions: Option<Box<dyn FitTransactions<'a> + 'a>>,
    spend: Option<Box<dyn FitSpend<'a> + 'a>>,
}

/// Stage 2: the models, fitted where settings were given.
#[allow(clippy::type_complexity)]
fn fit_models<'a>(
    transactions: Source<dyn TransactionModel + 'a, dyn FitTransactions<'a> + 'a>,
    spend: Source<dyn SpendModel + 'a, dyn FitSpend<'a> + 'a>,
    summaries: &Summaries,
    unit: TimeUnit,
) -> Result<(Box<dyn TransactionModel + 'a>, FittedSpend<'a>, Fitters<'a>), ValuationError> {
    let mut fitters = Fitters::default();
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
            fitters.transactions = Some(p);
            m
        }
    };
    let spend = match spend {
        Source::Fitted(m) => FittedSpend {
            model: m,
            fallback: None,
        },
        Source::Fit(p) => {
            let fitted = fit_spend(p.as_ref(), summaries)?;
            fitters.spend = Some(p);
            fitted
        }
    };
    Ok((transactions, spend, fitters))
}

/// The spend model of a valuation, and why it is not the one asked for (when it is not).
struct FittedSpend<'a> {
    model: Box<dyn SpendModel + 'a>,
    /// Set when the requested spend model could not be fitted and the population mean spend
    /// stands in for it: the fit's error, in words, for the report.
    fallback: Option<String>,
}

/// The spend model, fitted on the repeat buyers with a positive mean spend. A spend model is an
/// optional part: when its fit fails (for Gamma-Gamma, equal spends or no spend heterogeneity),
/// the valuation goes on with the limiting model, the population mean spend, and the report
/// says why.
fn fit_spend<'a>(
    params: &(dyn FitSpend<'a> + 'a),
    summaries: &Summaries,
) -> Result<FittedSpend<'a>, ValuationError> {
    let usable = SpendData::usable_from_summaries(summaries)?;
    match params.fit_boxed(&usable.data) {
        Ok(model) => Ok(FittedSpend {
            model,
            fallback: None,
        }),
        Err(failure) => {
            let mean =
                MeanSpendParams::new()
                    .fit(&usable.data)
                    .map_err(|source| ValuationError::Fit {
                        part: "spend model",
                        source: Box::new(source),
                    })?;
            Ok(FittedSpend {
                model: Box::new(mean),
                fallback: Some(format!(
                    "the spend model could not be fitted ({failure}); every customer is valued at the population mean spend per transaction"
                )),
            })
        }
    }
}

/// `main()` and `side()`, with `parallel` at once: `side` as a task of rayon's pool, `main` on
/// this thread, which holds what is not `Send`.
fn beside<M, S: Send>(main: impl FnOnce() -> M, side: impl Fn() -> S + Sync) -> (M, S) {
    #[cfg(feature = "parallel")]
    {
        let mut side_out = None;
        let main_out = rayon::in_place_scope(|scope| {
            scope.spawn(|_| side_out = Some(side()));
            main()
        });
        // The scope returns once its task is done, so `side_out` is there; were it not, `side`
        // (which only reads) runs again here.
        let side_out = side_out.unwrap_or_else(side);
        (main_out, side_out)
    }
    #[cfg(not(feature = "parallel"))]
    {
        (main(), side())
    }
}

/// The result of work that runs beside the main stages, on a thread of its own with `parallel`
/// (without it, done before them).
enum Side<S> {
    /// Nothing runs beside.
    None,
    /// Done already.
    Done(S),
    /// Being done: the result arrives here.
    #[cfg(feature = "parallel")]
    Coming(std::sync::mpsc::Receiver<S>),
}

impl<S> Side<S> {
    /// The result, once it is there.
    fn wait(self) -> Option<S> {
        match self {
            Side::None => None,
            Side::Done(s) => Some(s),
            // The sender is gone without a result only if `side` panicked; the scope it runs
            // in passes that panic on when `main` returns.
            #[cfg(feature = "parallel")]
            Side::Coming(r) => r.recv().ok(),
        }
    }
}

/// `main(result of side)`, with `side` (if any) running on a thread of its own with `parallel`.
/// In the shared pool a worker runs the tasks it split off itself before those `main` hands in,
/// so a long `side` that splits (a parallel loop) would hold back all of `main` until it is
/// done; on its own thread the cores are shared between the two by the operating system, and
/// `side` fills the time `main` leaves a core idle.
fn with_side<M, S: Send>(
    side: Option<impl FnOnce() -> S + Send>,
    main: impl FnOnce(Side<S>) -> M,
) -> M {
    let Some(side) = side else {
        return main(Side::None);
    };
    #[cfg(feature = "parallel")]
    {
        // Without a thread to be had, `side` goes first.
        let Ok(own) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
            return main(Side::Done(side()));
        };
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        own.in_place_scope(|scope| {
            scope.spawn(move |_| {
                // `main` may have returned (on an error) and dropped the receiver.
                let _ = send.send(side());
            });
            main(Side::Coming(receive))
        })
    }
    #[cfg(not(feature = "parallel"))]
    {
        main(Side::Done(side()))
    }
}

/// `f` of every customer (index, summary), in order, on all cores with the `parallel` feature;
/// the first error in customer order wins.
fn per_customer<T, F>(summaries: &Summaries, f: F) -> Result<Vec<T>, ValuationError>
where
    T: Send,
    F: Fn(usize, &crate::summary::CustomerSummary) -> Result<T, ValuationError> + Sync + Send,
{
    #[cfg(feature = "parallel")]
    {
        // Written by index straight into place, then unwrapped in place (a `Result` the size of
        // a `T`, as a profile's, reuses the allocation as it is): rayon's own `Result` collect
        // cannot know the length, and gathers growing vectors in a list that it then copies.
        use rayon::prelude::*;
        let results: Vec<Result<T, ValuationError>> = summaries
            .customers()
            .par_iter()
            .enumerate()
            .map(|(k, s)| f(k, s))
            .collect();
        results.into_iter().collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        summaries.iter().enumerate().map(|(k, s)| f(k, s)).collect()
    }
}

/// Stage 4: profiles carry the model values (and the attributes and category mix a ledger has)
/// so that any segmenter can use them.
fn profiles(
    summaries: &Summaries,
    predictions: &[Prediction],
    ledger: Option<&Ledger>,
    as_of: NaiveDate,
    unit: TimeUnit,
) -> Result<Vec<Profile>, ValuationError> {
    let segment_error = |source| ValuationError::Segment {
        segmenter: "profile".into(),
        source,
    };
    // The category mix, for the segmenters that read it (preference), when any transaction
    // carries a category: a ledger without any pays one scan for it.
    let mix = match ledger {
        Some(l) if l.transactions().iter().any(|t| t.category().is_some()) => {
            Some(l.category_mix(summaries.as_of())?)
        }
        _ => None,
    };
    per_customer(summaries, |k, s| {
        let p = &predictions[k];
        let mut profile = Profile::from_summary(s, unit)
            .with_p_alive(p.p_alive)
            .map_err(segment_error)?
            .with_clv(p.clv)
            .map_err(segment_error)?;
        // The attributes in force on the as-of date, not those of the first record.
        if let Some(c) = ledger.and_then(|l| l.customer_as_of(s.id(), as_of)) {
            profile = profile.with_attributes(&c);
        }
        if let Some(m) = mix.as_ref().and_then(|m| m.get(s.id())) {
            profile = profile.with_categories(m.clone()).map_err(segment_error)?;
        }
        Ok(profile)
    })
}

/// What the segmentation stage produces.
struct Segments {
    classes: Vec<AssetClass>,
    asset_cuts: (f64, f64),
    /// Per named segmenter, its name and its labels in customer order.
    labels: Vec<(Arc<str>, Labels)>,
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
    let (asset, classes) = asset_quality.segment(profiles).map_err(asset_error)?;
    let mut labels = Vec::with_capacity(segmenters.len());
    for s in segmenters {
        let error = |source| ValuationError::Segment {
            segmenter: s.name().to_string(),
            source,
        };
        let l = s.labels(profiles).map_err(error)?;
        // A segmenter implemented elsewhere may miscount; every customer needs a label.
        if l.len() != profiles.len() {
            return Err(error(SegmentError::ShapeMismatch(format!(
                "{} labels for {} customers",
                l.len(),
                profiles.len()
            ))));
        }
        labels.push((Arc::from(s.name()), l));
    }
    Ok(Segments {
        classes,
        asset_cuts: (asset.clv_cut(), asset.p_alive_cut()),
        labels,
    })
}

/// The tier of each customer at the as-of date, in the summaries' order.
struct Tiers {
    /// The tiers' names by their position in the ladder.
    names: Vec<Arc<str>>,
    /// Per summarised customer, the position of the tier held (`None`: not a member then).
    of_customer: Vec<Option<u32>>,
}

impl Tiers {
    /// Stage 6: each summarised customer's tier at the as-of date, from the members' replays.
    fn of(tiers: &LedgerTiers<'_>, summaries: &Summaries) -> Self {
        let of_customer = tiers
            .indices(summaries.customers().iter().map(|s| s.id()))
            .into_iter()
            .map(|index| index.and_then(|i| u32::try_from(i).ok()))
            .collect();
        Tiers {
            names: tiers.names().to_vec(),
            of_customer,
        }
    }
}

/// The names a customer row refers to: each segmenter's name and labels, and the tiers.
struct RowNames {
    segmenters: Vec<(Arc<str>, Vec<Arc<str>>)>,
    tiers: Vec<Arc<str>>,
}

impl RowNames {
    fn new(segments: &Segments, tiers: Option<&Tiers>) -> Self {
        RowNames {
            segmenters: segments
                .labels
                .iter()
                .map(|(name, labels)| (name.clone(), labels.names().to_vec()))
                .collect(),
            tiers: tiers.map(|t| t.names.clone()).unwrap_or_default(),
        }
    }

    /// A copy with strings of its own: rows built on different cores then count references on
    /// different strings (two cores counting on one string take turns with its cache line).
    #[cfg(feature = "parallel")]
    fn deep_copy(&self) -> Self {
        let copy = |name: &Arc<str>| Arc::from(&**name);
        RowNames {
            segmenters: self
                .segmenters
                .iter()
                .map(|(name, labels)| (copy(name), labels.iter().map(copy).collect()))
                .collect(),
            tiers: self.tiers.iter().map(copy).collect(),
        }
    }
}

/// Stage 7: one row per customer.
fn customer_values(
    summaries: &Summaries,
    predictions: &[Prediction],
    segments: &Segments,
    tiers: Option<&Tiers>,
) -> Vec<CustomerValue> {
    let names = RowNames::new(segments, tiers);
    let row = |names: &mut RowNames, (k, (s, p)): (usize, (&CustomerSummary, &Prediction))| {
        CustomerValue {
            id: s.id().clone(),
            segments: names
                .segmenters
                .iter()
                .zip(&segments.labels)
                .filter_map(|((name, labels), (_, column))| {
                    let label = labels.get(*column.indices().get(k)? as usize)?;
                    Some((name.clone(), label.clone()))
                })
                .collect(),
            tier: tiers.and_then(|t| {
                let tier = t.of_customer.get(k).copied().flatten()?;
                names.tiers.get(tier as usize).cloned()
            }),
            p_alive: p.p_alive,
            expected_purchases: p.expected_purchases,
            expected_spend: p.expected_spend,
            dert: p.dert,
            clv: p.clv_money,
            asset_class: segments.classes[k],
            referrals: 0,
            referral_value: Decimal::ZERO,
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        summaries
            .customers()
            .par_iter()
            .zip(predictions)
            .enumerate()
            .with_min_len(1 << 14)
            .map_init(|| names.deep_copy(), row)
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        let mut names = names;
        summaries
            .iter()
            .zip(predictions)
            .enumerate()
            .map(|item| row(&mut names, item))
            .collect()
    }
}

/// Stage 8a: the report's sums (equity, by asset class, tier and segment, at risk) in one pass.
fn sums_of(
    summaries: &Summaries,
    predictions: &[Prediction],
    segments: &Segments,
    tiers: Option<&Tiers>,
    at_risk_below: f64,
) -> Sums {
    let labels: Vec<usize> = segments
        .labels
        .iter()
        .map(|(_, l)| l.names().len())
        .collect();
    let tier_count = tiers.map_or(0, |t| t.names.len());
    let customers = summaries.customers();
    Sums::over(
        predictions.len(),
        || Sums::new(tier_count, &labels),
        |sums, k| {
            let Some(p) = predictions.get(k) else {
                return;
            };
            let clv = Clv::new(p.clv_money);
            sums.equity.add(clv);
            let class = segments
                .classes
                .get(k)
                .and_then(|c| AssetClass::ALL.iter().position(|k| k == c));
            if let Some(g) = class.and_then(|c| sums.by_class.get_mut(c)) {
                g.add(clv);
            }
            let tier = tiers.and_then(|t| t.of_customer.get(k).copied().flatten());
            if let Some(g) = tier.and_then(|t| sums.by_tier.get_mut(t as usize)) {
                g.add(clv);
            }
            for (groups, (_, labels)) in sums.by_segment.iter_mut().zip(&segments.labels) {
                let label = labels.indices().get(k).copied();
                if let Some(g) = label.and_then(|l| groups.get_mut(l as usize)) {
                    g.add(clv);
                }
            }
            if p.p_alive < at_risk_below {
                sums.at_risk.add(clv);
                let spend = customers.get(k).map_or(Decimal::ZERO, |s| s.total_spend());
                sums.at_risk_spend = sums.at_risk_spend.and_then(|a| a.checked_add(spend));
            }
        },
    )
}

/// Everything the report is aggregated from.
struct Aggregate<'v, 'm> {
    as_of: NaiveDate,
    unit: TimeUnit,
    horizon: f64,
    margin: f64,
    at_risk_below: f64,
    predictions: &'v [Prediction],
    customers: Vec<CustomerValue>,
    equity: Decimal,
    sums: Sums,
    asset_cuts: (f64, f64),
    by_segment: Vec<SegmentEquity>,
    by_tier: Vec<GroupEquity>,
    kpis: Option<KpiReport>,
    models: &'v Models<'m>,
    rate: f64,
    firm: Option<FirmValue>,
}

/// Stage 8: equity by group, value at risk, concentration, and the report.
fn aggregate(a: Aggregate<'_, '_>) -> Result<EquityReport, ValuationError> {
    let by_asset_class = sums::named_groups(
        &AssetClass::ALL.map(|c| c.to_string()),
        &a.sums.by_class,
        GroupOrder::Named,
        |class| format!("the equity of asset class {class}"),
    )?;
    let at_risk = ValueAtRisk {
        below_p_alive: a.at_risk_below,
        customers: a.sums.at_risk.customers(),
        clv: a
            .sums
            .at_risk
            .equity(|| "the CLV of the customers at risk".into())?,
        historical_spend: a
            .sums
            .at_risk_spend
            .ok_or_else(|| ValuationError::SumOverflow {
                what: "the historical spend of the customers at risk".into(),
            })?,
    };
    let clvs: Vec<f64> = a.predictions.iter().map(|p| p.clv).collect();
    // A base worth nothing (every CLV 0) has no concentration to report, and is no error.
    let concentration = match clvs.iter().all(|v| *v == 0.0) {
        true => None,
        false => Some(Concentration::new(&clvs)?),
    };
    let top_shares = match &concentration {
        Some(c) => c.top_shares(&[0.01, 0.1, 0.2])?,
        None => Vec::new(),
    };
    let (t, s) = (a.models.transactions, a.models.spend);
    let models = vec![
        ModelSummary::new(
            "transactions",
            t.name(),
            t.named_parameters(),
            t.fit_report(),
        ),
        ModelSummary::new("spend", s.name(), s.named_parameters(), s.fit_report())
            .with_note(a.models.spend_fallback),
    ];
    let customers_at_mean_spend = a
        .predictions
        .iter()
        .filter(|p| p.at_population_mean)
        .count();
    Ok(EquityReport {
        as_of: a.as_of,
        unit: a.unit,
        horizon: a.horizon,
        margin: a.margin,
        discount_rate: a.rate,
        customers: a.customers,
        equity: a.equity,
        by_segment: a.by_segment,
        by_tier: a.by_tier,
        by_asset_class,
        value_at_risk: at_risk,
        top_shares,
        gini: concentration.as_ref().map(Concentration::gini),
        asset_cuts: a.asset_cuts,
        kpis: a.kpis,
        models,
        customers_at_mean_spend,
        firm: a.firm,
        intervals: None,
        interval_note: None,
        consent: None,
        feedback: None,
        referrals: None,
        covariates: None,
    })
}

/// A firm-view amount in money.
fn firm_money(what: &'static str, value: f64) -> Result<Decimal, ValuationError> {
    to_cents(value).ok_or(ValuationError::FirmMoney { what, value })
}

/// Stage 3: the customers' predictions, from the transaction model's batch methods (each
/// model's fastest path, parallel with the `parallel` feature). When a batch fails, the
/// customers are predicted one by one, so that the error names the customer at fault.
fn predict_all(
    summaries: &Summaries,
    models: &Models<'_>,
    horizon: f64,
    rate: f64,
    margin: f64,
) -> Result<Vec<Prediction>, ValuationError> {
    let histories: Vec<History> = summaries.iter().map(History::from).collect();
    let ids: Vec<crate::records::CustomerId> = summaries.iter().map(|s| s.id().clone()).collect();
    let t = models.transactions;
    let Ok(batch) = t.predict_customers(&ids, &histories, horizon, rate) else {
        return summaries
            .iter()
            .zip(&histories)
            .map(|(s, h)| predict_one(s, h, models, horizon, rate, margin))
            .collect();
    };
    let (alive, expected, dert) = (batch.p_alive, batch.expected_purchases, batch.dert);
    // A model implemented elsewhere may miscount; then the customers are predicted one by one.
    if [alive.len(), expected.len(), dert.len()] != [summaries.len(); 3] {
        return summaries
            .iter()
            .zip(&histories)
            .map(|(s, h)| predict_one(s, h, models, horizon, rate, margin))
            .collect();
    }
    per_customer(summaries, |k, s| {
        value_one(s, models.spend, margin, alive[k], expected[k], dert[k])
    })
}

/// One customer's predictions from the single-customer methods: the error names the customer.
fn predict_one(
    s: &CustomerSummary,
    h: &History,
    models: &Models<'_>,
    horizon: f64,
    rate: f64,
    margin: f64,
) -> Result<Prediction, ValuationError> {
    let (t, error) = (models.transactions, predict_error(s));
    let p_alive = t.p_alive(h, 0.0).map_err(&error)?;
    let expected_purchases = t.expected_purchases(h, horizon).map_err(&error)?;
    let dert = t.dert(h, rate).map_err(&error)?;
    value_one(s, models.spend, margin, p_alive, expected_purchases, dert)
}

/// The error of a prediction for customer `s`.
fn predict_error(
    s: &crate::summary::CustomerSummary,
) -> impl Fn(PredictError) -> ValuationError + '_ {
    move |source| ValuationError::Predict {
        customer: s.id().clone(),
        source,
    }
}

/// One customer's expected spend and CLV, from the transaction model's predictions.
fn value_one(
    s: &crate::summary::CustomerSummary,
    spend: &dyn SpendModel,
    margin: f64,
    p_alive: f64,
    expected_purchases: f64,
    dert: f64,
) -> Result<Prediction, ValuationError> {
    let error = predict_error(s);
    // A repeat buyer without a positive mean spend (free orders, net returns) is outside the
    // spend model's data: valued at the population mean, and counted in the report.
    let mean_spend = rust_decimal::prelude::ToPrimitive::to_f64(&s.monetary_value())
        .filter(|m| m.is_finite() && *m > 0.0);
    let at_population_mean = s.frequency() > 0 && mean_spend.is_none();
    let expected_spend = match mean_spend {
        Some(m) => spend.expected_spend(s.frequency(), m),
        None => spend.expected_spend_new(),
    }
    .map_err(&error)?;
    let clv = dert * expected_spend * margin;
    if !clv.is_finite() {
        return Err(error(PredictError::Numerical {
            what: "CLV",
            detail: format!(
                "DERT {dert:.3e} × expected spend {expected_spend:.3e} × margin {margin} is not finite"
            ),
        }));
    }
    let clv_money = to_cents(clv).ok_or_else(|| ValuationError::Money {
        customer: s.id().clone(),
        value: clv,
    })?;
    Ok(Prediction {
        p_alive,
        expected_purchases,
        expected_spend,
        dert,
        clv,
        clv_money,
        at_population_mean,
    })
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
    let cost = rust_decimal::prelude::ToPrimitive::to_f64(&plan.cost).unwrap_or(f64::NAN);
    let per_customer = new_customer_margin - cost;
    // Σₖ₌₁ⁿ dᵏ = d (1 − dⁿ) / (1 − d), d = e^(−δp), in closed form: no loop over the plan's
    // period count; δp underflowing to 0 is the undiscounted limit n.
    let rp = rate * period;
    let n = f64::from(plan.periods);
    let discounted_periods = if rp > 0.0 {
        (-rp).exp() * (-rp * n).exp_m1() / (-rp).exp_m1()
    } else {
        n
    };
    let cohorts = plan.customers * per_customer * discounted_periods;
    let future = firm_money("the future cohorts' value", cohorts)?;
    let new_customer_value = firm_money("a new customer's value", per_customer)?;
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
        firm_value: equity
            .checked_add(future)
            .ok_or_else(|| ValuationError::SumOverflow {
                what: "the firm value (the equity and the future cohorts)".into(),
            })?,
        new_customer_value,
        implied_retention: retention,
        discount_per_period: per_period_discount,
        elasticities,
    })
}

#[cfg(test)]
mod money_tests {
    use super::*;
    use proptest::prelude::*;

    fn same(value: f64) -> Result<(), TestCaseError> {
        let (fast, exact) = (to_cents(value), sums::exact_money(value));
        prop_assert_eq!(fast, exact, "{}", value);
        // The same representation too: scale and sign show in the report's text.
        let parts =
            |d: Option<Decimal>| d.map(|d| (d.scale(), d.is_sign_negative(), d.to_string()));
        prop_assert_eq!(parts(fast), parts(exact), "{}", value);
        Ok(())
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(2048))]

        /// Money from any float equals the exact conversion, in value and in representation:
        /// floats of every magnitude, and on and near half cents (n/8 are exact ties).
        #[test]
        fn money_is_the_exact_value_rounded_to_cents(
            bits in any::<u64>(),
            wide in -1e13..1e13f64,
            eighths in -1_000_000_000i64..1_000_000_000,
            ulps in -3i64..=3,
        ) {
            same(f64::from_bits(bits))?;
            same(wide)?;
            let tie = eighths as f64 / 8.0;
            same(tie)?;
            let near = f64::from_bits(tie.to_bits().wrapping_add_signed(ulps));
            same(near)?;
            same(eighths as f64 / 1000.0)?;
            same(eighths as f64 * 1e-9)?;
        }
    }

    #[test]
    fn special_values() -> Result<(), TestCaseError> {
        for v in [
            0.0, -0.0, 0.005, -0.005, 0.015, 0.125, -0.125, 1.0, 0.5, 0.25, 1e300, -1e-300,
        ] {
            same(v)?;
        }
        assert_eq!(to_cents(f64::NAN), None);
        assert_eq!(to_cents(f64::INFINITY), None);
        Ok(())
    }
}
