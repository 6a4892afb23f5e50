//! Intervals of the report's sums (customer equity, each group's equity, value at risk, the
//! base's expected purchases) from the uncertainty of the models' parameters.
//!
//! Every sum is a function of the transaction model's parameters and the spend model's, which
//! are fitted separately (the models take spend independent of the purchase process): their
//! covariance is block-diagonal. Group memberships (asset class, tier, segment, at risk) are
//! those of the point estimate: an interval says how sure the value of a group is, not who is
//! in it.
//!
//! - The delta method: central differences of every sum in each log-parameter (step 10⁻⁵, as
//!   [`delta_interval`](crate::models::delta_interval)), one pass over the customers per step;
//!   each interval symmetric on the log scale.
//! - The parametric bootstrap: both models at parameters drawn from their asymptotic normals
//!   (the spend model's from the seed + 1, so that the two are independent).
//! - The non-parametric bootstrap: the customers resampled with replacement (one multinomial
//!   draw per replicate), both models refitted on the same resample with the settings the
//!   valuation fitted them with; a replicate that does not refit ends the intervals with its
//!   error (never dropped from the distribution).
//!
//! The point report never depends on the intervals: when they cannot be made, the report says
//! why in [`EquityReport::interval_note`](super::EquityReport::interval_note).

use crate::error::InvalidParameter;
use crate::fit::{two_sided_normal_quantile, Covariance, Fit};
use crate::models::bootstrap::{log_normal_draws, multinomial_weights, stream};
use crate::models::uncertainty::interval_at;
use crate::models::{
    BootstrapOptions, History, IntervalError, IntervalMethod, MeanSpendParams, PredictionInterval,
    Scale, SpendData, SpendModel, TransactionModel,
};
use crate::segment::asset_quality::AssetClass;
use crate::summary::{Patterns, Summaries};
use crate::time::TimeUnit;
use crate::valuation::error::ValuationError;
use crate::valuation::fitting::{FitSpend, FitTransactions};
use crate::valuation::report::{MoneyInterval, PurchasesInterval, ReportIntervals};
use crate::valuation::sums::to_cents;

/// How the report's intervals are made: the level and the method (with the bootstrap's draws
/// and seed). Give it to [`ValuationBuilder::intervals`](super::ValuationBuilder::intervals).
///
/// ```
/// use customer_assets::models::{BootstrapOptions, IntervalMethod};
/// use customer_assets::valuation::IntervalOptions;
/// let delta = IntervalOptions::delta(0.9);
/// assert_eq!(delta.method(), IntervalMethod::Delta);
/// let refits = IntervalOptions::bootstrap(0.9, BootstrapOptions::new(200, 7)?);
/// assert_eq!(refits.bootstrap_options().replicates(), 200);
/// # Ok::<(), customer_assets::InvalidParameter>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalOptions {
    level: f64,
    method: IntervalMethod,
    bootstrap: BootstrapOptions,
}

impl IntervalOptions {
    /// Delta-method intervals at `level`.
    pub fn delta(level: f64) -> Self {
        IntervalOptions {
            level,
            method: IntervalMethod::Delta,
            bootstrap: BootstrapOptions::default(),
        }
    }
    /// Percentile intervals at `level` over draws from the parameters' asymptotic normals.
    pub fn parametric_bootstrap(level: f64, options: BootstrapOptions) -> Self {
        IntervalOptions {
            level,
            method: IntervalMethod::ParametricBootstrap,
            bootstrap: options,
        }
    }
    /// Percentile intervals at `level` over refits on the customers resampled with
    /// replacement. Each replicate refits both models and predicts every customer again, so the
    /// bootstrap costs about as many valuations as it has draws (CDNOW's 23,570 customers, 200
    /// draws: 4 s). The valuation must fit both models itself
    /// ([`fit_transaction_model`](super::ValuationBuilder::fit_transaction_model),
    /// [`fit_spend_model`](super::ValuationBuilder::fit_spend_model)).
    pub fn bootstrap(level: f64, options: BootstrapOptions) -> Self {
        IntervalOptions {
            level,
            method: IntervalMethod::Bootstrap,
            bootstrap: options,
        }
    }
    /// The confidence level.
    pub fn level(&self) -> f64 {
        self.level
    }
    /// The method.
    pub fn method(&self) -> IntervalMethod {
        self.method
    }
    /// The bootstrap's draws and seed (unused by the delta method).
    pub fn bootstrap_options(&self) -> BootstrapOptions {
        self.bootstrap
    }
    pub(super) fn check(&self) -> Result<(), ValuationError> {
        if self.level > 0.0 && self.level < 1.0 {
            Ok(())
        } else {
            Err(ValuationError::IntervalLevel(self.level))
        }
    }
}

/// Who is in which group, at the point estimate: the sums an interval is made for.
pub(super) struct Membership<'s> {
    pub classes: &'s [AssetClass],
    /// Per customer, the tier's position (with the number of tiers).
    pub tiers: Option<(&'s [Option<u32>], usize)>,
    /// Per segmenter, each customer's label index, and the number of labels.
    pub segments: Vec<(&'s [u32], usize)>,
    pub at_risk: Vec<bool>,
}

/// The sums of one set of predictions, in a fixed order: equity, expected purchases, value at
/// risk, then the asset classes (in [`AssetClass::ALL`] order), the tiers, and each segmenter's
/// labels.
pub(super) struct SumLayout {
    tiers: usize,
    segments: Vec<usize>,
}

impl SumLayout {
    pub(super) fn new(membership: &Membership<'_>) -> Self {
        SumLayout {
            tiers: membership.tiers.map_or(0, |(_, n)| n),
            segments: membership.segments.iter().map(|(_, n)| *n).collect(),
        }
    }
    fn len(&self) -> usize {
        3 + AssetClass::ALL.len() + self.tiers + self.segments.iter().sum::<usize>()
    }
    pub(super) fn class(&self, class: usize) -> usize {
        3 + class
    }
    pub(super) fn tier(&self, tier: usize) -> usize {
        3 + AssetClass::ALL.len() + tier
    }
    pub(super) fn segment(&self, segmenter: usize, label: usize) -> usize {
        3 + AssetClass::ALL.len()
            + self.tiers
            + self.segments[..segmenter].iter().sum::<usize>()
            + label
    }
}

/// One customer's CLV and expected purchases (in customer order) under a pair of models.
pub(super) type Values = Vec<(f64, f64)>;

/// The customers' values under a pair of models (the valuation's predictions).
pub(super) type ValuesOf<'f> =
    dyn Fn(&dyn TransactionModel, &dyn SpendModel) -> Result<Values, ValuationError> + 'f;

/// The sums of a model rebuilt at some parameter values.
type SumsAt<'f> = dyn Fn(&[f64]) -> Result<Vec<f64>, String> + 'f;

/// The sums of `values` by the layout.
fn sums(layout: &SumLayout, membership: &Membership<'_>, values: &Values) -> Vec<f64> {
    let mut out = vec![0.0; layout.len()];
    for (k, &(clv, purchases)) in values.iter().enumerate() {
        out[0] += clv;
        out[1] += purchases;
        if membership.at_risk.get(k).copied().unwrap_or(false) {
            out[2] += clv;
        }
        if let Some(c) = membership
            .classes
            .get(k)
            .and_then(|c| AssetClass::ALL.iter().position(|a| a == c))
        {
            out[layout.class(c)] += clv;
        }
        if let Some(t) = membership
            .tiers
            .and_then(|(tiers, _)| tiers.get(k).copied().flatten())
        {
            out[layout.tier(t as usize)] += clv;
        }
        for (s, (labels, _)) in membership.segments.iter().enumerate() {
            if let Some(&l) = labels.get(k) {
                out[layout.segment(s, l as usize)] += clv;
            }
        }
    }
    out
}

/// What the intervals are made from.
pub(super) struct Inputs<'v, 'a> {
    pub options: IntervalOptions,
    pub summaries: &'v Summaries,
    pub unit: TimeUnit,
    pub transactions: &'v dyn TransactionModel,
    pub spend: &'v dyn SpendModel,
    /// The settings the valuation fitted each model with (`None`: given fitted).
    pub fit_transactions: Option<&'v (dyn FitTransactions<'a> + 'a)>,
    pub fit_spend: Option<&'v (dyn FitSpend<'a> + 'a)>,
    /// The population mean spend stands in for the spend model asked for.
    pub spend_fallback: bool,
    pub membership: Membership<'v>,
}

/// Every sum's interval, in the layout's order, with the report-level summary.
pub(super) struct Made {
    pub layout: SumLayout,
    pub bounds: Vec<(f64, f64)>,
    pub report: ReportIntervals,
}

/// The intervals, or why they could not be made (in words, for the report's note).
pub(super) fn make<'v, 'a>(
    inputs: &Inputs<'v, 'a>,
    values_of: &ValuesOf<'_>,
) -> Result<Made, String> {
    let layout = SumLayout::new(&inputs.membership);
    let point = values_of(inputs.transactions, inputs.spend).map_err(|e| e.to_string())?;
    let estimates = sums(&layout, &inputs.membership, &point);
    let options = inputs.options;
    let level = options.level;
    let intervals: Vec<PredictionInterval> = match options.method {
        IntervalMethod::Delta => delta(inputs, &layout, &estimates, values_of)?,
        IntervalMethod::ParametricBootstrap | IntervalMethod::Bootstrap => {
            let draws = if options.method == IntervalMethod::Bootstrap {
                refits(inputs, &layout, values_of)?
            } else {
                parametric(inputs, &layout, values_of)?
            };
            let mut column = vec![0.0; draws.len()];
            (0..layout.len())
                .map(|q| {
                    for (c, d) in column.iter_mut().zip(&draws) {
                        *c = d[q];
                    }
                    PredictionInterval::from_draws(estimates[q], &column, level, options.method)
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?
        }
    };
    let bounds: Vec<(f64, f64)> = intervals.iter().map(|i| (i.lower, i.upper)).collect();
    let money = |q: usize| -> Result<MoneyInterval, String> {
        money_at(&bounds, q)
            .ok_or_else(|| format!("an interval {:?} is not an amount of money", bounds.get(q)))
    };
    let bootstrapped = options.method != IntervalMethod::Delta;
    let report = ReportIntervals {
        method: options.method,
        level,
        replicates: bootstrapped.then_some(options.bootstrap.replicates()),
        seed: bootstrapped.then_some(options.bootstrap.seed()),
        equity: money(0)?,
        value_at_risk: money(2)?,
        expected_purchases: PurchasesInterval {
            estimate: estimates[1],
            lower: bounds[1].0,
            upper: bounds[1].1,
        },
    };
    Ok(Made {
        layout,
        bounds,
        report,
    })
}

/// The interval of sum `q` in money (cents); `None` past the bounds or the decimal range.
pub(super) fn money_at(bounds: &[(f64, f64)], q: usize) -> Option<MoneyInterval> {
    let (lower, upper) = *bounds.get(q)?;
    Some(MoneyInterval {
        lower: to_cents(lower)?,
        upper: to_cents(upper)?,
    })
}

/// A model's parameter values and covariance, or why it has none.
fn uncertainty<'m>(
    role: &str,
    name: &str,
    values: Vec<(String, f64)>,
    covariance: Option<&'m Covariance>,
) -> Result<(Vec<String>, Vec<f64>, &'m Covariance), String> {
    let covariance = covariance.ok_or_else(|| {
        format!(
            "the {role} model {name} carries no covariance of its parameters (fit it to get one)"
        )
    })?;
    let (names, values): (Vec<String>, Vec<f64>) = values.into_iter().unzip();
    if covariance.names().len() != values.len() {
        return Err(format!(
            "the {role} model {name} has {} parameters but a covariance of {}",
            values.len(),
            covariance.names().len()
        ));
    }
    Ok((names, values, covariance))
}

fn rebuilt<T: ?Sized>(
    role: &str,
    name: &str,
    model: Option<Result<Box<T>, InvalidParameter>>,
) -> Result<Box<T>, String> {
    match model {
        Some(Ok(m)) => Ok(m),
        Some(Err(e)) => Err(format!("the {role} model at drawn parameters: {e}")),
        None => Err(format!(
            "the {role} model {name} cannot be rebuilt at other parameters (it does not implement `reparameterized`)"
        )),
    }
}

/// The delta method: each sum's gradient in the log-parameters of both models by central
/// differences, its variance over the block-diagonal covariance.
fn delta(
    inputs: &Inputs<'_, '_>,
    layout: &SumLayout,
    estimates: &[f64],
    values_of: &ValuesOf<'_>,
) -> Result<Vec<PredictionInterval>, String> {
    let (t, s) = (inputs.transactions, inputs.spend);
    let (_, t_values, t_cov) = uncertainty(
        "transaction",
        t.name(),
        t.named_parameters(),
        t.covariance(),
    )?;
    let (_, s_values, s_cov) =
        uncertainty("spend", s.name(), s.named_parameters(), s.covariance())?;
    let mut variance = vec![0.0; layout.len()];
    let mut add_block =
        |values: &[f64], covariance: &Covariance, at: &SumsAt<'_>| -> Result<(), String> {
            let mut gradients = Vec::with_capacity(values.len());
            for k in 0..values.len() {
                let step = |sign: f64| {
                    let mut v = values.to_vec();
                    v[k] = crate::models::uncertainty::stepped(values[k], sign);
                    at(&v)
                };
                let (up, down) = (step(1.0)?, step(-1.0)?);
                // ∂q/∂θₖ by a central difference (a step of ±STEP in ln θₖ, or in θₖ at 0).
                let g: Vec<f64> = up
                    .iter()
                    .zip(&down)
                    .map(|(u, d)| (u - d) / crate::models::uncertainty::step_width(values[k]))
                    .collect();
                gradients.push(g);
            }
            let matrix = covariance.matrix();
            for (q, v) in variance.iter_mut().enumerate() {
                for i in 0..values.len() {
                    for j in 0..values.len() {
                        *v += gradients[i][q] * matrix[i][j] * gradients[j][q];
                    }
                }
            }
            Ok(())
        };
    let sums_at = |t: &dyn TransactionModel, s: &dyn SpendModel| -> Result<Vec<f64>, String> {
        let values = values_of(t, s).map_err(|e| e.to_string())?;
        Ok(sums(layout, &inputs.membership, &values))
    };
    add_block(&t_values, t_cov, &|v| {
        let model = rebuilt("transaction", t.name(), t.reparameterized(v))?;
        sums_at(model.as_ref(), s)
    })?;
    add_block(&s_values, s_cov, &|v| {
        let model = rebuilt("spend", s.name(), s.reparameterized(v))?;
        sums_at(t, model.as_ref())
    })?;
    let level = inputs.options.level;
    let z = two_sided_normal_quantile(level);
    estimates
        .iter()
        .zip(&variance)
        .map(|(&estimate, &var)| {
            interval_at(estimate, var, z, Scale::Positive, level).map_err(|e| match e {
                IntervalError::AtBoundary { estimate } => format!(
                    "a sum of {estimate} varies with the parameters: it has no interval on the log scale"
                ),
                e => format!("a delta-method interval: {e}"),
            })
        })
        .collect()
}

/// The parametric bootstrap's sums, one vector per draw.
fn parametric(
    inputs: &Inputs<'_, '_>,
    layout: &SumLayout,
    values_of: &ValuesOf<'_>,
) -> Result<Vec<Vec<f64>>, String> {
    let (t, s) = (inputs.transactions, inputs.spend);
    let options = inputs.options.bootstrap;
    let (t_names, t_values, t_cov) = uncertainty(
        "transaction",
        t.name(),
        t.named_parameters(),
        t.covariance(),
    )?;
    let (s_names, s_values, s_cov) =
        uncertainty("spend", s.name(), s.named_parameters(), s.covariance())?;
    let t_draws =
        log_normal_draws(&t_names, &t_values, t_cov, &options).map_err(|e| e.to_string())?;
    // The spend model's draws from the next seed: independent of the transaction model's.
    let spend_options = BootstrapOptions::new(options.replicates(), options.seed().wrapping_add(1))
        .map_err(|e| e.to_string())?;
    let s_draws =
        log_normal_draws(&s_names, &s_values, s_cov, &spend_options).map_err(|e| e.to_string())?;
    t_draws
        .iter()
        .zip(&s_draws)
        .enumerate()
        .map(|(draw, (tv, sv))| {
            let context = |e: String| format!("draw {draw} (seed {}): {e}", options.seed());
            let tm = rebuilt("transaction", t.name(), t.reparameterized(tv)).map_err(context)?;
            let sm = rebuilt("spend", s.name(), s.reparameterized(sv)).map_err(context)?;
            let values = values_of(tm.as_ref(), sm.as_ref()).map_err(|e| context(e.to_string()))?;
            Ok(sums(layout, &inputs.membership, &values))
        })
        .collect()
}

/// The non-parametric bootstrap's sums, one vector per replicate: the customers resampled with
/// replacement, both models refitted on the resample.
fn refits(
    inputs: &Inputs<'_, '_>,
    layout: &SumLayout,
    values_of: &ValuesOf<'_>,
) -> Result<Vec<Vec<f64>>, String> {
    let (Some(fit_transactions), Some(fit_spend)) = (inputs.fit_transactions, inputs.fit_spend)
    else {
        return Err(
            "the bootstrap refits both models: give them to the valuation as settings to fit"
                .into(),
        );
    };
    let options = inputs.options.bootstrap;
    let histories: Vec<History> = inputs.summaries.iter().map(History::from).collect();
    let ones = vec![1.0; histories.len()];
    (0..options.replicates())
        .map(|replicate| {
            let context = |part: &str, e: String| {
                format!(
                    "bootstrap replicate {replicate} (seed {}) did not refit the {part}: {e}",
                    options.seed()
                )
            };
            let mut rng = stream(options.seed(), replicate);
            let counts = multinomial_weights(&ones, &mut rng)
                .map_err(|e| context("resample", e.to_string()))?;
            let patterns = Patterns::new(
                inputs.unit,
                histories
                    .iter()
                    .zip(&counts)
                    .filter(|(_, c)| **c > 0.0)
                    .map(|(h, c)| (h.frequency, h.recency, h.age, *c)),
            )
            .map_err(|e| context("transaction model", e.to_string()))?;
            let tm = fit_transactions
                .fit_boxed(&patterns)
                .map_err(|e| context("transaction model", e.to_string()))?;
            let data = SpendData::usable_weighted(inputs.summaries, &counts)
                .map_err(|e| context("spend model", e.to_string()))?;
            let sm: Box<dyn SpendModel + '_> = if inputs.spend_fallback {
                Box::new(
                    MeanSpendParams::new()
                        .fit(&data)
                        .map_err(|e| context("spend model", e.to_string()))?,
                )
            } else {
                fit_spend
                    .fit_boxed(&data)
                    .map_err(|e| context("spend model", e.to_string()))?
            };
            let values = values_of(tm.as_ref(), sm.as_ref())
                .map_err(|e| context("predictions", e.to_string()))?;
            Ok(sums(layout, &inputs.membership, &values))
        })
        .collect()
}
