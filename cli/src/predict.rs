//! `clv predict --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd --horizon H [--unit U]
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

use crate::common::{echo, line_place, Flags, MAX_HORIZON};
use crate::fit::{
    fit_spend, fit_transaction, read_summary, Fitted, SummaryFile, TRANSACTION_MODELS,
};
use crate::output::{Cell, Table};
use customer_assets::models::MeanSpendParams;
use customer_assets::models::{
    delta_interval, purchase_quantiles, IntervalError, PredictionInterval, Reparameterize, Scale,
};
use customer_assets::History;
use customer_assets::{Fit, SpendModel, TimeUnit, TransactionModel};
use serde_json::Value;

/// The spend model `--spend` asks for: `auto` (default) is Gamma-Gamma fitted on the file, or,
/// when it cannot be fitted (equal spends, too few customers, a boundary, no convergence), the
/// population mean spend with a note on stderr saying why: spend is the optional part of a
/// prediction, and it never takes the purchase predictions down. `gamma-gamma` insists on
/// Gamma-Gamma and fails with its reason; `mean` is the population mean; `none` prints no spend
/// columns. Without a `monetary_value` column there is no spend model (`gamma-gamma` and `mean`
/// then fail).
fn spend_model(file: &SummaryFile, asked: &str) -> Result<Option<Box<dyn SpendModel>>, String> {
    let mean = || -> Result<Option<Box<dyn SpendModel>>, String> {
        let Some((data, _)) = file.spend_data()? else {
            return Ok(None);
        };
        let mean = MeanSpendParams::new()
            .fit(&data)
            .map_err(|e| format!("{}: {e}", file.path))?;
        Ok(Some(Box::new(mean)))
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
            Some(gg) => Ok(Some(Box::new(gg))),
            None => Err(no_column()),
        },
        _ => match fit_spend(file, 0.0) {
            Ok(gg) => Ok(gg.map(|m| Box::new(m) as Box<dyn SpendModel>)),
            Err(failure) => {
                let fallback = mean()?;
                if let Some(m) = &fallback {
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
        ],
    )?;
    let output = flags.output(true)?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let name = flags.required("model")?;
    if !matches!(name, "bg-nbd" | "mbg-nbd" | "pareto-nbd") {
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
    // Delta-method intervals of the transaction columns from the parameters' covariance.
    let level = flags.number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?;
    match flags.get("method") {
        None | Some("delta") => {}
        Some(other) => {
            return Err(format!(
                "--method: {} is not delta (the bootstrap intervals are not built yet)",
                echo(other)
            ))
        }
    }
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
    let fitted = match flags.get("params") {
        Some(p) => load_params(p, name, unit)?,
        None => {
            fit_transaction(name, &file.patterns(unit)?, 0.0).map_err(|e| format!("{path}: {e}"))?
        }
    };
    let model = fitted.model();
    let spend = spend_model(&file, spend_asked)?;
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
        names.extend(["expected_spend", "clv"].map(String::from));
    }
    let mut table = Table::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
    table.rows.reserve(file.ids.len());
    crate::progress::stage(format!("predicting {} customers", file.ids.len()));
    for (i, (id, h)) in file.ids.iter().zip(&file.histories).enumerate() {
        let line = file.lines[i];
        let fail = |e: customer_assets::PredictError| {
            format!("{} (customer {}): {e}", line_place(path, line), echo(id))
        };
        let p = model.p_alive(h, 0.0).map_err(fail)?;
        let e = model.expected_purchases(h, horizon).map_err(fail)?;
        let d = model.dert(h, rate).map_err(fail)?;
        let mut values = vec![p, e, d];
        if let (Some(gg), Some(m)) = (&spend, &file.monetary) {
            let mean = m.get(i).copied().unwrap_or(0.0);
            // A zero mean spend was left out of the fit: such customers get the population mean.
            let s = if h.frequency > 0 && mean > 0.0 {
                gg.expected_spend(h.frequency, mean)
            } else {
                gg.expected_spend_new()
            }
            .map_err(fail)?;
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
        let intervals = match level {
            Some(level) => Some(
                transaction_intervals(&fitted, h, horizon, rate, level).map_err(|e| {
                    format!(
                        "{} (customer {}): --interval: {e}",
                        line_place(path, line),
                        echo(id)
                    )
                })?,
            ),
            None => None,
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
        push(&mut row, 2);
        row.extend(values[3..].iter().copied().map(Cell::Float));
        table.rows.push(row);
    }
    output.write_table(&table)
}

/// The delta-method intervals at `level` of P(alive), expected purchases over `horizon` and
/// DERT at `rate`, for one customer.
fn transaction_intervals(
    fitted: &Fitted,
    h: &History,
    horizon: f64,
    rate: f64,
    level: f64,
) -> Result<[PredictionInterval; 3], IntervalError> {
    fn three<M: Reparameterize + TransactionModel>(
        m: &M,
        h: &History,
        horizon: f64,
        rate: f64,
        level: f64,
    ) -> Result<[PredictionInterval; 3], IntervalError> {
        Ok([
            delta_interval(m, level, Scale::Probability, |m| m.p_alive(h, 0.0))?,
            delta_interval(m, level, Scale::Positive, |m| {
                m.expected_purchases(h, horizon)
            })?,
            delta_interval(m, level, Scale::Positive, |m| m.dert(h, rate))?,
        ])
    }
    match fitted {
        Fitted::Bg(m) => three(m, h, horizon, rate, level),
        Fitted::Mbg(m) => three(m, h, horizon, rate, level),
        Fitted::Pareto(m) => three(m, h, horizon, rate, level),
    }
}
