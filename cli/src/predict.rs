//! `clv predict --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd --horizon H [--discount RATE]
//! [--margin M] [--params FILE.json]`
//!
//! Fits the model on the summary (or loads the parameters `clv fit` printed) and prints CSV in
//! input order: `customer_id,p_alive,expected_purchases,dert`, then `expected_spend,clv` when
//! the summary has a `monetary_value` column (spend from a Gamma-Gamma fit on the same file; when
//! Gamma-Gamma cannot be fitted, every customer's expected spend is the population mean spend per
//! transaction, and a note on stderr says why, as in `clv report`).
//!
//! - H, the horizon of `expected_purchases`, is in the file's time unit.
//! - RATE is the continuous discount rate per time unit of the file (DERT discounts a purchase
//!   at time τ by e^(−RATE τ)). From an effective annual rate i and a unit of d days,
//!   RATE = ln(1 + i) d / 365.25. Default: 0.001831, which is 10% a year for a file in weeks.
//! - M, the margin applied to spend (CLV = DERT × expected spend × M); default 1 (revenue).

use crate::common::{
    csv_field, echo, line_place, stdout, write_error, Flags, MAX_DISCOUNT, MAX_HORIZON,
    MIN_DISCOUNT,
};
use crate::fit::{
    fit_spend, fit_transaction, read_summary, Fitted, SummaryFile, TRANSACTION_MODELS,
};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
use customer_assets::models::mbg_nbd::MbgNbd;
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters};
use customer_assets::models::MeanSpendParams;
use customer_assets::{Fit, SpendModel, TimeUnit};
use serde_json::Value;
use std::io::Write;

/// Gamma-Gamma fitted on the file, or, when it cannot be fitted (equal spends, a boundary, no
/// convergence), the population mean spend with a note on stderr: spend is the optional part of
/// a prediction, and it never takes the purchase predictions down.
fn spend_model(file: &SummaryFile) -> Result<Option<Box<dyn SpendModel>>, String> {
    match fit_spend(file, 0.0) {
        Ok(gg) => Ok(gg.map(|m| Box::new(m) as Box<dyn SpendModel>)),
        Err(failure) => {
            let Some((data, _)) = file.spend_data()? else {
                return Err(failure);
            };
            let mean = MeanSpendParams::new()
                .fit(&data)
                .map_err(|e| format!("{}: {e}", file.path))?;
            eprintln!(
                "clv: note: {failure}; every customer's expected spend is the population mean \
                 spend per transaction, {:.2}",
                mean.mean()
            );
            Ok(Some(Box::new(mean)))
        }
    }
}

/// The default discount rate: 10% a year, continuous, per week.
fn default_rate() -> f64 {
    (0.10f64).ln_1p() * 7.0 / 365.25
}

/// Builds a model from the JSON `clv fit` printed.
fn load_params(path: &str, model: &str) -> Result<Fitted, String> {
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
    let get = |name: &str| -> Result<f64, String> {
        json.get("params")
            .and_then(|p| p.get(name))
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("--params: {path}: params.{name} is missing or not a number"))
    };
    let unit = TimeUnit::WEEKS;
    let invalid = |e: customer_assets::InvalidParameter| format!("--params: {path}: {e}");
    // BG/NBD and MBG/NBD share their parameters (r, alpha, a, b).
    let beta_geometric = || -> Result<BgNbdParameters, String> {
        Ok(BgNbdParameters {
            r: get("r")?,
            alpha: get("alpha")?,
            a: get("a")?,
            b: get("b")?,
        })
    };
    Ok(match model {
        "bg-nbd" => Fitted::Bg(BgNbd::new(beta_geometric()?, unit).map_err(invalid)?),
        "mbg-nbd" => Fitted::Mbg(MbgNbd::new(beta_geometric()?, unit).map_err(invalid)?),
        "pareto-nbd" => Fitted::Pareto(
            ParetoNbd::new(
                ParetoNbdParameters {
                    r: get("r")?,
                    alpha: get("alpha")?,
                    s: get("s")?,
                    beta: get("beta")?,
                },
                unit,
            )
            .map_err(invalid)?,
        ),
        other => {
            return Err(format!(
                "--model: {} is not one of {TRANSACTION_MODELS}",
                echo(other)
            ))
        }
    })
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "summary", "model", "horizon", "discount", "margin", "params",
        ],
    )?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let name = flags.required("model")?;
    if !matches!(name, "bg-nbd" | "mbg-nbd" | "pareto-nbd") {
        return Err(format!(
            "--model: {} is not one of {TRANSACTION_MODELS}",
            echo(name)
        ));
    }
    flags.required("horizon")?;
    let horizon = flags
        .number_in(
            "horizon",
            0.0,
            MAX_HORIZON,
            "a duration in the file's time unit",
        )?
        .unwrap_or_default();
    let rate = flags
        .number_in(
            "discount",
            MIN_DISCOUNT,
            MAX_DISCOUNT,
            "a continuous rate per time unit",
        )?
        .unwrap_or_else(default_rate);
    let margin = flags
        .number_in("margin", 0.0, 1.0, "a share of spend")?
        .unwrap_or(1.0);
    if margin == 0.0 {
        return Err(
            "--margin: 0 values every customer at nothing; give a share of spend above 0".into(),
        );
    }
    let file = read_summary(&input)?;
    let fitted = match flags.get("params") {
        Some(p) => load_params(p, name)?,
        None => {
            fit_transaction(name, &file.patterns()?, 0.0).map_err(|e| format!("{path}: {e}"))?
        }
    };
    let model = fitted.model();
    let spend = spend_model(&file)?;
    let mut out = stdout();
    let w = write_error;
    if spend.is_some() {
        writeln!(
            out,
            "customer_id,p_alive,expected_purchases,dert,expected_spend,clv"
        )
        .map_err(w)?;
    } else {
        writeln!(out, "customer_id,p_alive,expected_purchases,dert").map_err(w)?;
    }
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
        write!(out, "{}", csv_field(id)).map_err(w)?;
        for v in values {
            write!(out, ",{v}").map_err(w)?;
        }
        writeln!(out).map_err(w)?;
    }
    crate::common::finish(out)
}
