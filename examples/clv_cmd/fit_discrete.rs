//! `clv fit` for the discrete-time and contractual models:
//! - `--model bg-bb --summary FILE.csv` reads `frequency,recency,n_periods,weights`
//!   (`weights` optional, default 1 per row);
//! - `--model sbg|bdw --survival FILE.csv [--periods K]` reads `cohort,period,alive` (period 0 is
//!   the acquisition count) and fits periods 1..K (all periods without K).
//!
//! Prints one JSON object: model, params, standard_errors, log_likelihood, converged, iterations,
//! and for sbg/bdw `projected_alive` (an array for one cohort, an object of arrays by cohort name
//! for several).

use customer_assets::fit::{Fit, FitReport};
use customer_assets::models::bdw::BdwParams;
use customer_assets::models::bg_bb::{BgBbParams, DiscretePatterns};
use customer_assets::models::contractual::{Cohort, RetentionModel};
use customer_assets::models::sbg::SbgParams;
use customer_assets::TimeUnit;
use serde_json::{json, Map, Value};

use crate::common::{columns, csv_reader, line_of, optional_column, Flags};

/// Whether the arguments ask `clv fit` for one of the models this file fits.
pub fn requested(args: &[String]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--model" && matches!(w[1].as_str(), "bg-bb" | "sbg" | "bdw"))
}

/// Runs `clv fit` for bg-bb, sbg or bdw.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["model", "summary", "survival", "periods"])?;
    let model = flags.required("model")?;
    let value = match model {
        "bg-bb" => fit_bg_bb(flags.required("summary")?)?,
        "sbg" | "bdw" => {
            let periods = match flags.number("periods")? {
                None => None,
                Some(k) if k >= 1.0 && k.fract() == 0.0 => Some(k as usize),
                Some(k) => return Err(format!("--periods: {k} is not a whole number >= 1")),
            };
            fit_retention(model, flags.required("survival")?, periods)?
        }
        other => return Err(format!("--model {other:?} is not one of bg-bb, sbg, bdw")),
    };
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

fn named(names: &[&str], values: &[f64]) -> Value {
    let mut m = Map::new();
    for (n, v) in names.iter().zip(values) {
        m.insert((*n).to_string(), json!(v));
    }
    Value::Object(m)
}

fn report_json(
    model: &str,
    names: &[&str],
    params: &[f64],
    se: Option<&[f64]>,
    report: &FitReport,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("model".into(), json!(model));
    m.insert("params".into(), named(names, params));
    m.insert(
        "standard_errors".into(),
        se.map_or(Value::Null, |se| named(names, se)),
    );
    m.insert("log_likelihood".into(), json!(report.log_likelihood));
    m.insert("converged".into(), json!(report.converged));
    m.insert("iterations".into(), json!(report.iterations));
    m
}

fn parse_u32(path: &str, record: &csv::StringRecord, i: usize, name: &str) -> Result<u32, String> {
    let text = record.get(i).unwrap_or("").trim();
    text.parse::<u32>().map_err(|_| {
        format!(
            "{}: {name} {text:?} is not a non-negative whole number",
            line_of(path, &record.as_byte_record().clone())
        )
    })
}

fn parse_f64(path: &str, record: &csv::StringRecord, i: usize, name: &str) -> Result<f64, String> {
    let text = record.get(i).unwrap_or("").trim();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| {
            format!(
                "{}: {name} {text:?} is not a finite number",
                line_of(path, &record.as_byte_record().clone())
            )
        })
}

/// Reads `frequency,recency,n_periods[,weights]`; `period` is the length of one opportunity.
pub fn read_discrete_patterns(path: &str, period: TimeUnit) -> Result<DiscretePatterns, String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(path, &headers, &["frequency", "recency", "n_periods"])?;
    let weight_col = optional_column(&headers, "weights");
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{path}: {e}"))?;
        let x = parse_u32(path, &record, cols[0], "frequency")?;
        let t_x = parse_u32(path, &record, cols[1], "recency")?;
        let n = parse_u32(path, &record, cols[2], "n_periods")?;
        let w = match weight_col {
            Some(i) => parse_f64(path, &record, i, "weights")?,
            None => 1.0,
        };
        rows.push((x, t_x, n, w));
    }
    DiscretePatterns::new(period, rows)
        .map_err(|e| format!("{path}: {e} (data rows counted from 0)"))
}

fn fit_bg_bb(path: &str) -> Result<Value, String> {
    // One opportunity per period; the period's calendar length does not enter the fit.
    let period = TimeUnit::custom_days(365.0).map_err(|e| e.to_string())?;
    let data = read_discrete_patterns(path, period)?;
    let fitted = BgBbParams::new().fit(&data).map_err(|e| e.to_string())?;
    let p = fitted.parameters();
    let se = fitted
        .standard_errors()
        .map(|s| [s.alpha, s.beta, s.gamma, s.delta]);
    Ok(Value::Object(report_json(
        "bg-bb",
        &["alpha", "beta", "gamma", "delta"],
        &[p.alpha, p.beta, p.gamma, p.delta],
        se.as_ref().map(|s| s.as_slice()),
        fit_report(fitted.report())?,
    )))
}

fn fit_report(report: Option<&FitReport>) -> Result<&FitReport, String> {
    report.ok_or_else(|| "the fitted model has no fit report".to_string())
}

/// Reads `cohort,period,alive` into cohorts in the order they first appear; each cohort's
/// periods must run 0, 1, 2, ... without gaps.
pub fn read_cohorts(path: &str) -> Result<Vec<Cohort>, String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(path, &headers, &["cohort", "period", "alive"])?;
    let mut order: Vec<(String, Vec<f64>)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{path}: {e}"))?;
        let line = line_of(path, &record.as_byte_record().clone());
        let name = record.get(cols[0]).unwrap_or("").trim().to_string();
        if name.is_empty() {
            return Err(format!("{line}: empty cohort name"));
        }
        let period = parse_u32(path, &record, cols[1], "period")? as usize;
        let alive = parse_f64(path, &record, cols[2], "alive")?;
        let idx = match order.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                order.push((name.clone(), Vec::new()));
                order.len() - 1
            }
        };
        let counts = &mut order[idx].1;
        if period != counts.len() {
            return Err(format!(
                "{line}: cohort {name:?} period {period} out of order (expected period {})",
                counts.len()
            ));
        }
        counts.push(alive);
    }
    if order.is_empty() {
        return Err(format!("{path}: no data rows"));
    }
    order
        .into_iter()
        .map(|(name, counts)| Cohort::new(name, counts).map_err(|e| format!("{path}: {e}")))
        .collect()
}

fn fit_retention(model: &str, path: &str, periods: Option<usize>) -> Result<Value, String> {
    let cohorts = read_cohorts(path)?;
    let calibration: Vec<Cohort> = cohorts
        .iter()
        .map(|c| c.calibration(periods.unwrap_or(usize::MAX)))
        .collect();
    let (mut out, fitted): (Map<String, Value>, Box<dyn RetentionModel>) = if model == "sbg" {
        let f = SbgParams::new()
            .fit(&calibration)
            .map_err(|e| e.to_string())?;
        let p = f.parameters();
        let se = f.standard_errors().map(|s| [s.alpha, s.beta]);
        let out = report_json(
            "sbg",
            &["alpha", "beta"],
            &[p.alpha, p.beta],
            se.as_ref().map(|s| s.as_slice()),
            fit_report(f.report())?,
        );
        (out, Box::new(f))
    } else {
        let f = BdwParams::new()
            .fit(&calibration)
            .map_err(|e| e.to_string())?;
        let p = f.parameters();
        let se = f.standard_errors().map(|s| [s.alpha, s.beta, s.c]);
        let out = report_json(
            "bdw",
            &["alpha", "beta", "c"],
            &[p.alpha, p.beta, p.c],
            se.as_ref().map(|s| s.as_slice()),
            fit_report(f.report())?,
        );
        (out, Box::new(f))
    };
    let project = |c: &Cohort| -> Result<Value, String> {
        let last = c.periods().max(periods.unwrap_or(0)) as u32;
        let survivors = fitted
            .projected_survivors(c.acquired(), last)
            .map_err(|e| format!("cohort {:?}: {e}", c.name()))?;
        Ok(json!(survivors))
    };
    let projected = if cohorts.len() == 1 {
        project(&cohorts[0])?
    } else {
        let mut m = Map::new();
        for c in &cohorts {
            m.insert(c.name().to_string(), project(c)?);
        }
        Value::Object(m)
    };
    out.insert("projected_alive".into(), projected);
    Ok(Value::Object(out))
}
