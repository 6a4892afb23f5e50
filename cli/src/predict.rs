//! `clv predict --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|ggom-nbd --horizon H [--unit U]
//! [--discount RATE] [--margin M] [--params FILE.json] [--spend auto|gamma-gamma|mean|none]`
//!
//! Fits the model on the summary (or loads the model `clv fit` printed, through the library,
//! refusing one fitted in another unit) and prints CSV in input order:
//! `customer_id,p_alive,expected_purchases,dert`, then `expected_spend,clv` when the summary has
//! a `monetary_value` column and `--spend` is not `none` (see `spend_model`).
//!
//! - U, the summary's time unit: weeks (default) or days. H and RATE are in it.
//! - H, the horizon of `expected_purchases`.
//! - RATE is the continuous discount rate per time unit (DERT discounts a purchase at time τ by
//!   e^(−RATE τ)). From an effective annual rate i and a unit of d days,
//!   RATE = ln(1 + i) d / 365.25. Default: 10% a year, 0.001831 a week or 0.000261 a day.
//! - M, the margin applied to spend (CLV = DERT × expected spend × M); default 1 (revenue).
//! - `--interval LEVEL [--method delta|bootstrap] [--bootstrap N] [--seed S]` adds
//!   `<column>_lower,<column>_upper` after each predicted column: by the delta method (CLV's
//!   from DERT's and spend's, whose parameters are fitted separately, on the log scale), or by
//!   percentiles over N (200) refits of both models on the customers resampled with
//!   replacement, paired by replicate.

use crate::common::{echo, line_place, Flags, MAX_HORIZON};
use crate::fit::{
    bootstrap_options, fit_spend, fit_transaction, read_summary, Fitted, FittedDraws, SummaryFile,
    TRANSACTION_MODELS,
};
use crate::output::{Cell, Table};
use customer_assets::models::covariates::BoundCovariateModel;
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParams};
use customer_assets::models::{
    bootstrap, delta_intervals, purchase_quantiles, BootstrapOptions, Draws, IntervalError,
    IntervalMethod, MeanSpend, MeanSpendParams, PredictionInterval, Reparameterize, Scale,
};
use customer_assets::{CustomerId, History, PredictError};
use customer_assets::{Fit, SpendModel, TimeUnit, TransactionModel};
use serde_json::Value;

/// The spend model `--spend` asks for: `auto` (default) is Gamma-Gamma fitted on the file, or,
/// when it cannot be fitted (equal spends, too few customers, a boundary, no convergence), the
/// population mean spend with a note on stderr saying why: spend is the optional part of a
/// prediction, and it never takes the purchase predictions down. `gamma-gamma` insists on
/// Gamma-Gamma and fails with its reason; `mean` is the population mean; `none` prints no spend
/// columns. Without a `monetary_value` column there is no spend model (`gamma-gamma` and `mean`
/// then fail).
pub(crate) fn spend_model(file: &SummaryFile, asked: &str) -> Result<Option<Spend>, String> {
    let mean = || -> Result<Option<Spend>, String> {
        let Some((data, _)) = file.spend_data()? else {
            return Ok(None);
        };
        let mean = MeanSpendParams::new()
            .fit(&data)
            .map_err(|e| format!("{}: {e}", file.path))?;
        Ok(Some(Spend::Mean(mean)))
    };
    let no_column = || {
        format!(
            "--spend {asked}: {} has no monetary_value column to fit spend on",
            file.path
        )
    };
    match asked {
        "none" => Ok(None),
        "mean" => mean()?.map(Some).ok_or_else(no_column),
        "gamma-gamma" => match fit_spend(file, 0.0)? {
            Some(gg) => Ok(Some(Spend::Gamma(gg))),
            None => Err(no_column()),
        },
        _ => match fit_spend(file, 0.0) {
            Ok(gg) => Ok(gg.map(Spend::Gamma)),
            Err(failure) => {
                let fallback = mean()?;
                if let Some(m) = fallback.as_ref().map(Spend::model) {
                    eprintln!(
                        "clv: note: {failure}; every customer's expected spend is the population \
                         mean spend per transaction, {:.2} (--spend gamma-gamma makes this an \
                         error)",
                        m.expected_spend_new().unwrap_or(f64::NAN)
                    );
                }
                Ok(fallback)
            }
        },
    }
}

/// The spend model of the spend columns.
pub(crate) enum Spend {
    /// Gamma-Gamma.
    Gamma(GammaGamma),
    /// The population mean spend per transaction.
    Mean(MeanSpend),
}

impl Spend {
    pub(crate) fn model(&self) -> &dyn SpendModel {
        match self {
            Spend::Gamma(m) => m,
            Spend::Mean(m) => m,
        }
    }

    /// The non-parametric bootstrap of the spend model on the file's spend data.
    fn bootstrap(
        &self,
        file: &SummaryFile,
        options: &BootstrapOptions,
    ) -> Result<SpendDraws, String> {
        let Some((data, _)) = file.spend_data()? else {
            return Err(format!("{}: no monetary_value column", file.path));
        };
        let err =
            |e: customer_assets::models::BootstrapError| format!("--method bootstrap: spend: {e}");
        Ok(match self {
            Spend::Gamma(m) => SpendDraws::Gamma(
                bootstrap(&GammaGammaParams::new(), &data, m, options).map_err(err)?,
            ),
            Spend::Mean(m) => SpendDraws::Mean(
                bootstrap(&MeanSpendParams::new(), &data, m, options).map_err(err)?,
            ),
        })
    }
}

/// Bootstrap draws of the spend model.
enum SpendDraws {
    Gamma(Draws<GammaGamma>),
    Mean(Draws<MeanSpend>),
}

/// How `--interval` is computed.
enum Uncertainty {
    /// The delta method at this level.
    Delta(f64),
    /// Percentiles over the bootstrap's refits at this level; the spend model's refits are
    /// paired with the transaction model's by replicate (the two models' parameters are
    /// independent, as the models assume spend independent of the purchase process).
    Bootstrap(f64, Box<(FittedDraws, Option<SpendDraws>)>),
}

/// A customer's spend under `model`: its own mean spend with repeat purchases, the population
/// mean without (a zero mean spend was left out of the fit).
pub(crate) fn spend_of(
    model: &dyn SpendModel,
    h: &History,
    mean: f64,
) -> Result<f64, PredictError> {
    if h.frequency > 0 && mean > 0.0 {
        model.expected_spend(h.frequency, mean)
    } else {
        model.expected_spend_new()
    }
}

/// Reads the JSON `clv fit` printed (the library's serde form of the fitted model) through the
/// library's checks; refuses parameters of another model or another time unit than the
/// summary's.
fn load_params(path: &str, model: &str, unit: TimeUnit) -> Result<Fitted, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--params: cannot read {path}: {e}"))?;
    // serde_json's message carries the line and column.
    let json: Value = serde_json::from_str(&text).map_err(|e| format!("--params: {path}: {e}"))?;
    if let Some(name) = json.get("model").and_then(Value::as_str) {
        if name != model {
            return Err(format!(
                "--params: {path}: parameters are for {}, not {model:?}",
                echo(name)
            ));
        }
    }
    let invalid = |e: serde_json::Error| {
        format!(
            "--params: {path}: not a fitted {model} as `clv fit` writes it: {}",
            crate::common::cut_lines(&e.to_string(), 200)
        )
    };
    let fitted = match model {
        "bg-nbd" => Fitted::Bg(serde_json::from_value(json).map_err(invalid)?),
        "mbg-nbd" => Fitted::Mbg(serde_json::from_value(json).map_err(invalid)?),
        "pareto-nbd" => Fitted::Pareto(serde_json::from_value(json).map_err(invalid)?),
        "ggom-nbd" => Fitted::GGompertz(serde_json::from_value(json).map_err(invalid)?),
        other => {
            return Err(format!(
                "--model: {} is not one of {TRANSACTION_MODELS}",
                echo(other)
            ))
        }
    };
    let fitted_unit = fitted.model().unit();
    if fitted_unit != unit {
        return Err(format!(
            "--params: {path}: the model was fitted in units of {} day(s), but the summary's \
             unit is {} day(s) (--unit); fit it again on this summary or give its --unit",
            fitted_unit.days(),
            unit.days()
        ));
    }
    Ok(fitted)
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "summary",
            "model",
            "horizon",
            "discount",
            "margin",
            "params",
            "unit",
            "spend",
            "purchase-interval",
            "interval",
            "method",
            "bootstrap",
            "seed",
            "covariates",
            "purchase-covariates",
            "dropout-covariates",
            "constrain",
        ],
    )?;
    let output = flags.output(true)?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let name = flags.required("model")?;
    if !matches!(name, "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd") {
        return Err(format!(
            "--model: {} is not one of {TRANSACTION_MODELS}",
            echo(name)
        ));
    }
    let unit = flags.unit(TimeUnit::WEEKS)?;
    flags.required("horizon")?;
    let horizon = flags
        .number_in(
            "horizon",
            0.0,
            MAX_HORIZON,
            "a duration in the file's time unit",
        )?
        .unwrap_or_default();
    let rate = flags.discount(unit)?;
    let margin = flags.margin()?;
    // Intervals of every predicted column: the delta method, or percentiles over refits on
    // resampled customers.
    let level = flags.number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?;
    let bootstrapped = match flags.get("method") {
        None | Some("delta") => {
            if flags.get("bootstrap").is_some() || flags.get("seed").is_some() {
                return Err("--bootstrap and --seed are for --method bootstrap".into());
            }
            false
        }
        Some("bootstrap") => true,
        Some(other) => {
            return Err(format!(
                "--method: {} is not one of delta, bootstrap",
                echo(other)
            ))
        }
    };
    if flags.get("method").is_some() && level.is_none() {
        return Err("--method: give the --interval level it is for, e.g. --interval 0.9".into());
    }
    let resampling = if bootstrapped {
        bootstrap_options(&flags, Some(DEFAULT_REPLICATES))?
    } else {
        None
    };
    // A predictive interval of the customer's own purchases over the horizon: its quantiles at
    // (1 - level)/2 and (1 + level)/2.
    let quantiles = flags
        .number_in("purchase-interval", 0.5, 0.9999, "a probability, e.g. 0.9")?
        .map(|level| [(1.0 - level) / 2.0, (1.0 + level) / 2.0]);
    if quantiles.is_some() && horizon <= 0.0 {
        return Err("--purchase-interval: the purchases of a --horizon of 0 are 0".into());
    }
    let spend_asked = flags.get("spend").unwrap_or("auto");
    if !matches!(spend_asked, "auto" | "gamma-gamma" | "mean" | "none") {
        return Err(format!(
            "--spend: {} is not one of auto, gamma-gamma, mean, none",
            echo(spend_asked)
        ));
    }
    let file = read_summary(&input, true)?;
    if spend_asked != "auto" && spend_asked != "none" && file.monetary.is_none() {
        return Err(format!(
            "--spend {spend_asked}: {path} has no monetary_value column to fit spend on"
        ));
    }
    crate::progress::stage(format!("fitting {name} on {} rows", file.ids.len()));
    let patterns = file.patterns(unit)?;
    let covariates = if flags.get("covariates").is_some() {
        if bootstrapped {
            return Err(
                "--method bootstrap is not available with --covariates (the delta method is)"
                    .into(),
            );
        }
        Some(covariate_model(&flags, &file, name, unit)?)
    } else {
        for flag in ["purchase-covariates", "dropout-covariates", "constrain"] {
            if flags.get(flag).is_some() {
                return Err(format!(
                    "--{flag} is for a model with --covariates ATTR.csv"
                ));
            }
        }
        None
    };
    let fitted = match (&covariates, flags.get("params")) {
        (Some(_), _) => None,
        (None, Some(p)) => Some(load_params(p, name, unit)?),
        (None, None) => {
            Some(fit_transaction(name, &patterns, 0.0).map_err(|e| format!("{path}: {e}"))?)
        }
    };
    // The model of the reference customer (covariates 0) with covariates; each customer's own
    // is taken in the loop.
    let model: &dyn TransactionModel = match (&covariates, &fitted) {
        (Some(bound), _) => bound,
        (None, Some(fitted)) => fitted.model(),
        (None, None) => return Err("no transaction model".into()),
    };
    let spend = spend_model(&file, spend_asked)?;
    let uncertainty = match (level, resampling) {
        (Some(level), Some(options)) => {
            let fitted = fitted
                .as_ref()
                .ok_or("--method bootstrap is not available with --covariates")?;
            let draws = fitted
                .bootstrap(&patterns, 0.0, &options)
                .map_err(|e| format!("{path}: {e}"))?;
            let spend_draws = spend
                .as_ref()
                .map(|s| s.bootstrap(&file, &options))
                .transpose()?;
            Some(Uncertainty::Bootstrap(
                level,
                Box::new((draws, spend_draws)),
            ))
        }
        (Some(level), None) => Some(Uncertainty::Delta(level)),
        (None, _) => None,
    };
    // Each transaction column, then its interval when asked.
    let with_interval = |name: &'static str| -> Vec<String> {
        let mut v = vec![name.to_string()];
        if level.is_some() {
            v.extend([format!("{name}_lower"), format!("{name}_upper")]);
        }
        v
    };
    let mut names: Vec<String> = vec!["customer_id".to_string()];
    names.extend(with_interval("p_alive"));
    names.extend(with_interval("expected_purchases"));
    if quantiles.is_some() {
        names.extend(["purchases_lower", "purchases_upper"].map(String::from));
    }
    names.extend(with_interval("dert"));
    if spend.is_some() {
        names.extend(with_interval("expected_spend"));
        names.extend(with_interval("clv"));
    }
    // The delta method over all customers at once: 2d + 1 batch predictions per column.
    let delta_columns = match &uncertainty {
        Some(Uncertainty::Delta(level)) => {
            crate::progress::stage(format!("intervals of {} customers", file.ids.len()));
            let batch = Batch {
                histories: &file.histories,
                mean_spends: file.monetary.as_deref(),
                horizon,
                rate,
                margin,
                level: *level,
            };
            let columns = match (&covariates, &fitted) {
                (Some(bound), _) => {
                    let ids: Vec<CustomerId> = file
                        .ids
                        .iter()
                        .map(|id| CustomerId::new(id).map_err(|e| format!("{path}: {e}")))
                        .collect::<Result<_, _>>()?;
                    batch.covariate_columns(bound, &ids, spend.as_ref())
                }
                (None, Some(fitted)) => batch.delta_columns(fitted, spend.as_ref()),
                (None, None) => return Err("no transaction model".into()),
            };
            Some(columns.map_err(|e| match e {
                IntervalError::AtElement { index, source } => format!(
                    "{} (customer {}): --interval: {source}",
                    line_place(path, file.lines.get(index).copied().unwrap_or(0)),
                    echo(file.ids.get(index).map_or("?", String::as_str))
                ),
                e => format!("{path}: --interval: {e}"),
            })?)
        }
        _ => None,
    };
    let mut table = Table::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
    table.rows.reserve(file.ids.len());
    crate::progress::stage(format!("predicting {} customers", file.ids.len()));
    for (i, (id, h)) in file.ids.iter().zip(&file.histories).enumerate() {
        let line = file.lines[i];
        let fail = |e: customer_assets::PredictError| {
            format!("{} (customer {}): {e}", line_place(path, line), echo(id))
        };
        let own = covariates
            .as_ref()
            .map(|bound| customer_model(bound, id))
            .transpose()
            .map_err(fail)?;
        let model: &dyn TransactionModel = own.as_deref().unwrap_or(model);
        let p = model.p_alive(h, 0.0).map_err(fail)?;
        let e = model.expected_purchases(h, horizon).map_err(fail)?;
        let d = model.dert(h, rate).map_err(fail)?;
        let mut values = vec![p, e, d];
        let mean = file
            .monetary
            .as_ref()
            .and_then(|m| m.get(i).copied())
            .unwrap_or(0.0);
        if let Some(spend) = &spend {
            let s = spend_of(spend.model(), h, mean).map_err(fail)?;
            values.extend([s, d * s * margin]);
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!(
                "{} (customer {}): the prediction is not finite ({bad}); the \
                 fitted model cannot value this customer",
                line_place(path, line),
                echo(id)
            ));
        }
        let customer = Customer {
            history: h,
            mean_spend: mean,
            horizon,
            rate,
            margin,
        };
        let intervals = match (&delta_columns, &uncertainty) {
            (Some(columns), _) => Some(columns.iter().map(|c| c[i]).collect::<Vec<_>>()),
            (None, Some(Uncertainty::Bootstrap(level, both))) => {
                let (draws, spend_draws) = both.as_ref();
                let spend = spend.as_ref().zip(spend_draws.as_ref());
                Some(
                    customer
                        .drawn_intervals(*level, draws, spend)
                        .map_err(|e| {
                            format!(
                                "{} (customer {}): --interval: {e}",
                                line_place(path, line),
                                echo(id)
                            )
                        })?,
                )
            }
            _ => None,
        };
        let mut row = Vec::with_capacity(names.len());
        row.push(Cell::Text(id.clone()));
        let push = |row: &mut Vec<Cell>, k: usize| {
            row.push(Cell::Float(values[k]));
            if let Some(i) = &intervals {
                row.extend([Cell::Float(i[k].lower), Cell::Float(i[k].upper)]);
            }
        };
        push(&mut row, 0);
        push(&mut row, 1);
        if let Some(q) = &quantiles {
            let range = purchase_quantiles(model, h, horizon, q).map_err(fail)?;
            row.extend(range.into_iter().map(|n| Cell::Int(i64::from(n))));
        }
        for k in 2..values.len() {
            push(&mut row, k);
        }
        table.rows.push(row);
    }
    output.write_table(&table)
}

/// The bootstrap refits of `--method bootstrap` without `--bootstrap N`.
const DEFAULT_REPLICATES: u32 = 200;

/// Every customer's history and what values them, for the delta method in batches.
struct Batch<'a> {
    histories: &'a [History],
    mean_spends: Option<&'a [f64]>,
    horizon: f64,
    rate: f64,
    margin: f64,
    level: f64,
}

impl Batch<'_> {
    /// The delta-method intervals of every customer, by column: P(alive), expected purchases,
    /// DERT, then (with a spend model) expected spend and CLV.
    fn delta_columns(
        &self,
        fitted: &Fitted,
        spend: Option<&Spend>,
    ) -> Result<Vec<Vec<PredictionInterval>>, IntervalError> {
        let mut columns = match fitted {
            Fitted::Bg(m) => self.transaction(m)?,
            Fitted::Mbg(m) => self.transaction(m)?,
            Fitted::Pareto(m) => self.transaction(m)?,
            Fitted::GGompertz(m) => self.transaction(m)?,
        };
        if let Some(spend) = spend {
            let spends = match spend {
                Spend::Gamma(m) => self.spend(m)?,
                Spend::Mean(m) => self.spend(m)?,
            };
            // CLV = DERT × spend × margin, the two fitted separately.
            let clv = columns[2]
                .iter()
                .zip(&spends)
                .enumerate()
                .map(|(index, (d, s))| {
                    d.product(s, self.margin)
                        .map_err(|e| IntervalError::AtElement {
                            index,
                            source: Box::new(e),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            columns.push(spends);
            columns.push(clv);
        }
        Ok(columns)
    }

    /// [`delta_columns`](Self::delta_columns) of a covariate model: each customer predicted
    /// with their own covariates, the coefficients varied with the base parameters.
    fn covariate_columns(
        &self,
        bound: &BoundCovariateModel,
        ids: &[CustomerId],
        spend: Option<&Spend>,
    ) -> Result<Vec<Vec<PredictionInterval>>, IntervalError> {
        let h = self.histories;
        let all = |m: &BoundCovariateModel| m.predict_customers(ids, h, self.horizon, self.rate);
        let mut columns = vec![
            delta_intervals(bound, self.level, Scale::Probability, |m| {
                all(m).map(|b| b.p_alive)
            })?,
            delta_intervals(bound, self.level, Scale::Positive, |m| {
                all(m).map(|b| b.expected_purchases)
            })?,
            delta_intervals(bound, self.level, Scale::Positive, |m| {
                all(m).map(|b| b.dert)
            })?,
        ];
        if let Some(spend) = spend {
            let spends = match spend {
                Spend::Gamma(m) => self.spend(m)?,
                Spend::Mean(m) => self.spend(m)?,
            };
            let clv = columns[2]
                .iter()
                .zip(&spends)
                .enumerate()
                .map(|(index, (d, s))| {
                    d.product(s, self.margin)
                        .map_err(|e| IntervalError::AtElement {
                            index,
                            source: Box::new(e),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            columns.push(spends);
            columns.push(clv);
        }
        Ok(columns)
    }

    fn transaction<M: Reparameterize + TransactionModel>(
        &self,
        m: &M,
    ) -> Result<Vec<Vec<PredictionInterval>>, IntervalError> {
        let h = self.histories;
        Ok(vec![
            delta_intervals(m, self.level, Scale::Probability, |m| m.p_alive_batch(h))?,
            delta_intervals(m, self.level, Scale::Positive, |m| {
                m.expected_purchases_batch(h, self.horizon)
            })?,
            delta_intervals(m, self.level, Scale::Positive, |m| {
                m.dert_batch(h, self.rate)
            })?,
        ])
    }

    fn spend<M: Reparameterize + SpendModel>(
        &self,
        m: &M,
    ) -> Result<Vec<PredictionInterval>, IntervalError> {
        delta_intervals(m, self.level, Scale::Positive, |m| {
            self.histories
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    let mean = self.mean_spends.and_then(|s| s.get(i).copied());
                    spend_of(m, h, mean.unwrap_or(0.0))
                })
                .collect()
        })
    }
}

/// One customer's history and what values it.
struct Customer<'a> {
    history: &'a History,
    mean_spend: f64,
    horizon: f64,
    rate: f64,
    margin: f64,
}

impl Customer<'_> {
    /// The bootstrap's intervals of P(alive), expected purchases over the horizon and DERT, then
    /// (with a spend model) expected spend and CLV.
    fn drawn_intervals(
        &self,
        level: f64,
        draws: &FittedDraws,
        spend: Option<(&Spend, &SpendDraws)>,
    ) -> Result<Vec<PredictionInterval>, IntervalError> {
        let (mut out, dert) = match draws {
            FittedDraws::Bg(d) => self.drawn_transaction(d, level)?,
            FittedDraws::Mbg(d) => self.drawn_transaction(d, level)?,
            FittedDraws::Pareto(d) => self.drawn_transaction(d, level)?,
            FittedDraws::GGompertz(d) => self.drawn_transaction(d, level)?,
        };
        if let Some((spend, spend_draws)) = spend {
            let estimate = spend_of(spend.model(), self.history, self.mean_spend)?;
            let values = match spend_draws {
                SpendDraws::Gamma(d) => self.drawn_spend(d)?,
                SpendDraws::Mean(d) => self.drawn_spend(d)?,
            };
            let method = IntervalMethod::Bootstrap;
            let clv: Vec<f64> = dert
                .iter()
                .zip(&values)
                .map(|(d, s)| d * s * self.margin)
                .collect();
            let clv_estimate = out[2].estimate * estimate * self.margin;
            out.push(PredictionInterval::from_draws(
                estimate, &values, level, method,
            )?);
            out.push(PredictionInterval::from_draws(
                clv_estimate,
                &clv,
                level,
                method,
            )?);
        }
        Ok(out)
    }

    /// The transaction intervals over the draws, and the DERT of each draw (for CLV).
    fn drawn_transaction<M: Reparameterize + TransactionModel + Sync>(
        &self,
        draws: &Draws<M>,
        level: f64,
    ) -> Result<(Vec<PredictionInterval>, Vec<f64>), IntervalError> {
        let h = self.history;
        let dert = draws.values(|m| m.dert(h, self.rate))?;
        let estimate = draws.estimate().dert(h, self.rate)?;
        Ok((
            vec![
                draws.interval(level, |m| m.p_alive(h, 0.0))?,
                draws.interval(level, |m| m.expected_purchases(h, self.horizon))?,
                PredictionInterval::from_draws(estimate, &dert, level, draws.method())?,
            ],
            dert,
        ))
    }

    fn drawn_spend<M: Reparameterize + SpendModel + Sync>(
        &self,
        draws: &Draws<M>,
    ) -> Result<Vec<f64>, IntervalError> {
        draws.values(|m| spend_of(m, self.history, self.mean_spend))
    }
}

/// The covariate model of `clv predict --covariates`: read from `--params` (as `clv fit
/// --covariates` writes it) or fitted on the summary, bound to the summary's design.
fn covariate_model(
    flags: &Flags,
    file: &SummaryFile,
    name: &str,
    unit: TimeUnit,
) -> Result<BoundCovariateModel, String> {
    use crate::covariate_fit as cov;
    let design = cov::design(flags, file)?;
    let model = match flags.get("params") {
        Some(p) => cov::load(p, name, unit)?,
        None => cov::fit_transaction(flags, name, file, &design, unit, 0.0)?,
    };
    cov::bind(model, &design)
}

/// Customer `id`'s own model.
fn customer_model(
    bound: &BoundCovariateModel,
    id: &str,
) -> Result<Box<dyn TransactionModel>, PredictError> {
    let id = CustomerId::new(id).map_err(|_| PredictError::InvalidInput {
        name: "customer_id",
        value: f64::NAN,
        reason: "is not a customer id",
    })?;
    bound.customer(&id)
}
