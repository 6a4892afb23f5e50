//! `clv validate --transactions FILE.csv --calibration-end DATE --end DATE [--unit weeks|days]
//! --model M[,M...]`: fits each model on the calibration period, predicts the holdout
//! (calibration end + 1 day through `--end`), and prints one JSON report with a section per
//! model (holdout totals and by calibration frequency, tracking per period, error metrics,
//! log-likelihood, AIC, BIC) and a comparison of the models.
//!
//! Models: bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd (the continuous-time models fitted on the summaries).

use customer_assets::fit::Fit;
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::ggompertz_nbd::GGompertzNbdParams;
use customer_assets::models::mbg_nbd::MbgNbdParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::validation::{compare, validate, ValidationReport};
use customer_assets::{
    Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction,
    TransactionModel,
};
use serde_json::{json, Map, Value};

use crate::common::{check_span, echo, Flags};

const MODELS: &str = "bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd";

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &["transactions", "calibration-end", "end", "unit", "model"],
    )?;
    let output = flags.output(false)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let calibration_end = flags.date("calibration-end")?;
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::WEEKS)?;
    if end <= calibration_end {
        return Err(format!(
            "--end: {end} must be after --calibration-end {calibration_end} (the holdout follows \
             the calibration)"
        ));
    }
    let names: Vec<&str> = flags
        .required("model")?
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if names.is_empty() {
        return Err(format!("--model: name at least one of {MODELS}"));
    }
    for m in &names {
        if !matches!(*m, "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd") {
            return Err(format!("--model: {} is not one of {MODELS}", echo(m)));
        }
    }

    let mut transactions: Vec<Transaction> = Vec::new();
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    let mut first: Option<chrono::NaiveDate> = None;
    input.for_each_transaction(false, |t| {
        first = Some(first.map_or(t.date(), |f| f.min(t.date())));
        acc.push(&t);
        transactions.push(t);
        Ok(())
    })?;
    let first = first.ok_or_else(|| crate::common::no_rows(path, "transactions"))?;
    check_span("end", end, first, path)?;
    let options = SummaryOptions::new(calibration_end, unit).holdout_end(end);
    let summaries = acc
        .finish(&options)
        .map_err(|e| format!("{path}: summarising at --calibration-end {calibration_end}: {e}"))?;
    if summaries.is_empty() {
        return Err(format!(
            "--calibration-end: {calibration_end} is before the first purchase in {path} \
             ({first}); no customer to fit on"
        ));
    }
    let patterns = summaries.patterns();

    let mut sections = Map::new();
    let mut reports: Vec<ValidationReport> = Vec::new();
    for name in names {
        crate::progress::stage(format!("fitting {name} on the calibration period"));
        let model: Box<dyn TransactionModel> = match name {
            "bg-nbd" => Box::new(
                BgNbdParams::new()
                    .fit(&patterns)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
            "mbg-nbd" => Box::new(
                MbgNbdParams::new()
                    .fit(&patterns)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
            "ggom-nbd" => Box::new(
                GGompertzNbdParams::new()
                    .fit(&patterns)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
            _ => Box::new(
                ParetoNbdParams::new()
                    .fit(&patterns)
                    .map_err(|e| format!("{path}: {e}"))?,
            ),
        };
        let report = validate(model.as_ref(), &summaries, &transactions)
            .map_err(|e| format!("{path}: validating {name}: {e}"))?;
        sections.insert(
            name.to_string(),
            serde_json::to_value(&report).map_err(|e| e.to_string())?,
        );
        reports.push(report);
    }
    let out = json!({
        "calibration_end": calibration_end.to_string(),
        "end": end.to_string(),
        "unit": unit.to_string(),
        "customers": summaries.len(),
        "models": Value::Object(sections),
        "comparison": serde_json::to_value(compare(&reports)).map_err(|e| e.to_string())?,
    });
    output.write_json(&out)
}
