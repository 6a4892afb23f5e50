//! `clv fit` for the discrete-time and contractual models:
//! - `--model bg-bb --summary FILE.csv` reads `frequency,recency,n_periods,weights`
//!   (`weights` optional, default 1 per row);
//! - `--model sbg|bdw --survival FILE.csv [--periods K]` reads `cohort,period,alive` (period 0 is
//!   the acquisition count) and fits periods 1..K (all periods without K).
//!
//! Prints one JSON object: model, params, standard_errors, log_likelihood, converged, iterations,
//! and for sbg/bdw `projected_alive` (an array for one cohort, an object of arrays by cohort name
//! for several).

use customer_assets::fit::Fit;
use customer_assets::models::bdw::BdwParams;
use customer_assets::models::bg_bb::{BgBbParams, DiscretePatterns};
use customer_assets::models::contractual::{Cohort, RetentionModel};
use customer_assets::models::sbg::SbgParams;
use customer_assets::TimeUnit;
use serde_json::{json, Map, Value};

use crate::common::{
    at, echo, line_place, next_row, no_rows, parse_count, parse_number, text_field, Flags, Header,
    MAX_PERIODS,
};
use crate::table::Input;

/// Whether the arguments ask `clv fit` for one of the models this file fits.
pub fn requested(args: &[String]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--model" && matches!(w[1].as_str(), "bg-bb" | "sbg" | "bdw"))
}

/// Runs `clv fit` for bg-bb, sbg or bdw.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["model", "summary", "survival", "periods"])?;
    let output = flags.output(false)?;
    let model = flags.required("model")?;
    let value = match model {
        "bg-bb" => {
            if flags.get("periods").is_some() || flags.get("survival").is_some() {
                return Err(
                    "--periods and --survival are for sbg and bdw; bg-bb reads --summary".into(),
                );
            }
            fit_bg_bb(&flags.input("summary")?)?
        }
        "sbg" | "bdw" => {
            if flags.get("summary").is_some() {
                return Err(format!("--summary is for bg-bb; {model} reads --survival"));
            }
            let periods = flags
                .whole_in(
                    "periods",
                    1,
                    MAX_PERIODS,
                    "the periods to fit and project, at least 1",
                )?
                .map(|k| k as usize);
            fit_retention(model, &flags.input("survival")?, periods)?
        }
        other => {
            return Err(format!(
                "--model: {} is not one of bg-bb, sbg, bdw",
                echo(other)
            ))
        }
    };
    output.write_json(&value)
}

fn named(names: &[&str], values: &[f64]) -> Value {
    let mut m = Map::new();
    for (n, v) in names.iter().zip(values) {
        m.insert((*n).to_string(), json!(v));
    }
    Value::Object(m)
}

/// The library's serde form of the fitted `model`, named, with its standard errors by name.
fn report_json(
    name: &str,
    model: &impl serde::Serialize,
    names: &[&str],
    se: Option<&[f64]>,
) -> Result<Map<String, Value>, String> {
    let se = se.map(|se| named(names, se));
    match crate::fit::with_name(crate::fit::to_value(model)?, name, se) {
        Value::Object(m) => Ok(m),
        _ => Err(format!("cannot write the fitted {name} model as an object")),
    }
}

/// A field parsed by `parse`; the error names the line and column.
fn parsed<T>(
    header: &Header,
    record: &csv::ByteRecord,
    line: u64,
    col: usize,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, String> {
    parse(text_field(header, record, line, col)?)
        .map_err(|e| format!("{}: {e}", at(&header.path, line, &header.names[col])))
}

/// Reads `frequency,recency,n_periods[,weights]`; `period` is the length of one opportunity.
/// Each row is checked here (x <= t_x <= n, t_x = 0 exactly when x = 0, positive weight), so
/// that an error names its line.
pub fn read_discrete_patterns(input: &Input, period: TimeUnit) -> Result<DiscretePatterns, String> {
    let path = input.path.as_str();
    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["frequency", "recency", "n_periods"])?;
    let cols = header.cols.clone();
    let weight_col = header.optional("weights")?;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = crate::common::LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let x = parsed(&header, &record, line, cols[0], parse_count)?;
        let t_x = parsed(&header, &record, line, cols[1], parse_count)?;
        let n = parsed(&header, &record, line, cols[2], parse_count)?;
        if u64::from(n) > MAX_PERIODS {
            return Err(format!(
                "{}: {n} opportunities; at most {MAX_PERIODS} are supported",
                at(path, line, "n_periods")
            ));
        }
        if !(x <= t_x && t_x <= n) || (x == 0) != (t_x == 0) {
            return Err(format!(
                "{}: frequency {x}, recency {t_x}, n_periods {n}: need \
                 frequency <= recency <= n_periods, and recency 0 exactly when frequency is 0",
                line_place(path, line)
            ));
        }
        let w = match weight_col {
            Some(c) => {
                let w = parsed(&header, &record, line, c, parse_number)?;
                if w <= 0.0 {
                    return Err(format!(
                        "{}: {} is not a positive weight",
                        at(path, line, "weights"),
                        crate::common::short(w)
                    ));
                }
                w
            }
            None => 1.0,
        };
        rows.push((x, t_x, n, w));
    }
    if rows.is_empty() {
        return Err(no_rows(path, "patterns"));
    }
    DiscretePatterns::new(period, rows)
        .map_err(|e| format!("{path}: {e} (data rows counted from 0)"))
}

fn fit_bg_bb(input: &Input) -> Result<Value, String> {
    let path = input.path.as_str();
    // One opportunity per period; the period's calendar length does not enter the fit.
    let period = TimeUnit::custom_days(365.0).map_err(|e| e.to_string())?;
    let data = read_discrete_patterns(input, period)?;
    let fitted = BgBbParams::new()
        .fit(&data)
        .map_err(|e| format!("{path}: {e}"))?;
    let se = fitted
        .standard_errors()
        .map(|s| [s.alpha, s.beta, s.gamma, s.delta]);
    Ok(Value::Object(report_json(
        "bg-bb",
        &fitted,
        &["alpha", "beta", "gamma", "delta"],
        se.as_ref().map(|s| s.as_slice()),
    )?))
}

/// Reads `cohort,period,alive` into cohorts in the order they first appear; each cohort's
/// periods must run 0, 1, 2, ... without gaps.
pub fn read_cohorts(input: &Input) -> Result<Vec<Cohort>, String> {
    let path = input.path.as_str();
    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["cohort", "period", "alive"])?;
    let cols = header.cols.clone();
    let mut order: Vec<(String, Vec<f64>)> = Vec::new();
    // The line of each cohort's period 0, for messages about the cohort as a whole.
    let mut first_lines: Vec<u64> = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = crate::common::LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let name = text_field(&header, &record, line, cols[0])?.to_string();
        if name.is_empty() {
            return Err(format!("{}: empty cohort name", at(path, line, "cohort")));
        }
        let period = parsed(&header, &record, line, cols[1], parse_count)? as usize;
        let alive = parsed(&header, &record, line, cols[2], parse_number)?;
        if alive < 0.0 {
            return Err(format!(
                "{}: {} customers alive is negative",
                at(path, line, "alive"),
                crate::common::short(alive)
            ));
        }
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
                "{}: cohort {} period {period} out of order (expected period {})",
                at(path, line, "period"),
                echo(&name),
                counts.len()
            ));
        }
        match counts.last() {
            None if alive <= 0.0 => {
                return Err(format!(
                    "{}: cohort {} acquires no one at period 0",
                    at(path, line, "alive"),
                    echo(&name)
                ))
            }
            Some(&before) if alive > before => {
                return Err(format!(
                    "{}: cohort {} has {} alive at period {period}, more than the {} of the \
                     period before",
                    at(path, line, "alive"),
                    echo(&name),
                    crate::common::short(alive),
                    crate::common::short(before)
                ))
            }
            _ => {}
        }
        counts.push(alive);
        if period == 0 {
            first_lines.push(line);
        }
    }
    if order.is_empty() {
        return Err(no_rows(path, "survival counts"));
    }
    for ((name, counts), line) in order.iter().zip(&first_lines) {
        if counts.len() < 2 {
            return Err(format!(
                "{}: cohort {} has period 0 only; a fit needs periods 0 and 1 \
                 at least",
                line_place(path, *line),
                echo(name)
            ));
        }
    }
    order
        .into_iter()
        .map(|(name, counts)| {
            let shown = echo(&name);
            Cohort::new(name, counts).map_err(|e| format!("{path}: cohort {shown}: {e}"))
        })
        .collect()
}

fn fit_retention(model: &str, input: &Input, periods: Option<usize>) -> Result<Value, String> {
    let path = input.path.as_str();
    let cohorts = read_cohorts(input)?;
    let calibration: Vec<Cohort> = cohorts
        .iter()
        .map(|c| c.calibration(periods.unwrap_or(usize::MAX)))
        .collect();
    let (mut out, fitted): (Map<String, Value>, Box<dyn RetentionModel>) = if model == "sbg" {
        let f = SbgParams::new()
            .fit(&calibration)
            .map_err(|e| format!("{path}: {e}"))?;
        let se = f.standard_errors().map(|s| [s.alpha, s.beta]);
        let out = report_json(
            "sbg",
            &f,
            &["alpha", "beta"],
            se.as_ref().map(|s| s.as_slice()),
        )?;
        (out, Box::new(f))
    } else {
        let f = BdwParams::new()
            .fit(&calibration)
            .map_err(|e| format!("{path}: {e}"))?;
        let se = f.standard_errors().map(|s| [s.alpha, s.beta, s.c]);
        let out = report_json(
            "bdw",
            &f,
            &["alpha", "beta", "c"],
            se.as_ref().map(|s| s.as_slice()),
        )?;
        (out, Box::new(f))
    };
    let project = |c: &Cohort| -> Result<Value, String> {
        let last = c.periods().max(periods.unwrap_or(0)) as u32;
        let survivors = fitted
            .projected_survivors(c.acquired(), last)
            .map_err(|e| format!("{path}: cohort {}: {e}", echo(c.name())))?;
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
