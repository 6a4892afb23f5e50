//! `clv fit --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|ggom-nbd|gamma-gamma [--penalty L]
//! [--unit weeks|days]`
//!
//! Reads `customer_id,frequency,recency,T,monetary_value` (optional `weights` column; recency
//! and T in `--unit`, weeks by default) and prints the fitted model as JSON: the library's serde
//! form (`parameters`, `covariance`, `report` with the log-likelihood, convergence and
//! iterations, `unit` in days), which the library reads back, plus `model` and
//! `standard_errors`. Gamma-Gamma uses the customers with frequency > 0 and adds
//! `frequency_spend_correlation`.
//!
//! `--interval LEVEL` adds the parameters' Wald intervals (`intervals`); `--bootstrap N [--seed
//! S]` adds the distribution of N refits on the customers resampled with replacement
//! (`bootstrap`: each parameter's mean, standard deviation and percentile interval at LEVEL,
//! 0.9 by default, with the number of refits that converged and their iterations).
//!
//! `--covariates ATTR.csv [--purchase-covariates A,B] [--dropout-covariates A,B] [--constrain
//! A,...]` fits the model with the attribute file's covariates (see `covariate_fit`): `params`
//! and `standard_errors` name each coefficient `purchase.<column>` or `dropout.<column>`
//! (`spend.<column>` for gamma-gamma), beside `aic`, `bic` and `lr_test` against the model
//! without covariates.

use crate::common::{
    at, echo, line_place, no_rows, parse_count, parse_number, text_field, Flags, Header,
    MAX_PENALTY,
};
use crate::table::Input;
use customer_assets::fit::{Fit, FitReport};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParams};
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParams, SpendData};
use customer_assets::models::ggompertz_nbd::{GGompertzNbd, GGompertzNbdParams};
use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParams};
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParams};
use customer_assets::models::{
    bootstrap, BootstrapOptions, Draws, Reparameterize, Resample, WarmStart, MAX_REPLICATES,
};
use customer_assets::{History, PatternError, Patterns, TimeUnit, TransactionModel};
use serde_json::{json, Value};

/// The transaction models `clv fit` and `clv predict` fit on a summary.
pub const TRANSACTION_MODELS: &str = "bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd";

/// The rows of a summary file, in file order.
pub struct SummaryFile {
    /// The file, for messages.
    pub path: String,
    /// The line of each row, for messages.
    pub lines: Vec<u64>,
    /// Customer ids (empty when the reader was asked not to keep them).
    pub ids: Vec<String>,
    /// (x, t_x, T) per row.
    pub histories: Vec<History>,
    /// Weight per row (1 without a `weights` column).
    pub weights: Vec<f64>,
    /// Mean repeat spend per row, when the file has `monetary_value`.
    pub monetary: Option<Vec<f64>>,
}

impl SummaryFile {
    /// No rows yet, of the file at `path`; with `money`, a `monetary_value` column.
    fn empty(path: &str, money: bool) -> Self {
        SummaryFile {
            path: path.to_string(),
            lines: Vec::new(),
            ids: Vec::new(),
            histories: Vec::new(),
            weights: Vec::new(),
            monetary: money.then(Vec::new),
        }
    }

    /// A library error about data row `row` (0-based, of the rows the library was given; row
    /// `index` of the file) as `FILE: line N: ...`, the library's own "row N: " prefix dropped.
    fn at_row(&self, index: usize, row: usize, message: &str) -> String {
        let message = message
            .strip_prefix(&format!("row {row}"))
            .map_or(message, |m| m.trim_start_matches(": "));
        match self.lines.get(index) {
            Some(line) => format!("{}: {message}", line_place(&self.path, *line)),
            None => format!("{}: {message}", self.path),
        }
    }

    /// Weighted (x, t_x, T) patterns, their durations in `unit` (the file carries none: the
    /// user says it with `--unit`, default weeks).
    pub fn patterns(&self, unit: TimeUnit) -> Result<Patterns, String> {
        Patterns::new(
            unit,
            self.histories
                .iter()
                .zip(&self.weights)
                .map(|(h, &w)| (h.frequency, h.recency, h.age, w)),
        )
        .map_err(|e| {
            let row = match &e {
                PatternError::NotFinite { row, .. }
                | PatternError::RecencyAfterAge { row, .. }
                | PatternError::RecencyWithoutRepeat { row, .. }
                | PatternError::BadWeight { row, .. } => Some(*row),
                _ => None,
            };
            match row {
                Some(row) => self.at_row(row, row, &e.to_string()),
                None => format!("{}: {e}", self.path),
            }
        })
    }

    /// (x, mean spend, weight) of the customers with x > 0 and a positive mean spend, for
    /// Gamma-Gamma, and how many customers with x > 0 were left out for a zero mean spend (they
    /// get the population mean, as in `clv report`).
    pub fn spend_data(&self) -> Result<Option<(SpendData, usize)>, String> {
        let Some(m) = &self.monetary else {
            return Ok(None);
        };
        let mut rows = Vec::new();
        let mut kept = Vec::new();
        let mut zero = 0usize;
        for (i, ((h, &v), &w)) in self.histories.iter().zip(m).zip(&self.weights).enumerate() {
            if h.frequency == 0 {
                continue;
            }
            if v == 0.0 {
                zero += 1;
                continue;
            }
            rows.push((h.frequency, v, w));
            kept.push(i);
        }
        if rows.is_empty() {
            return Err(format!(
                "{}: no customer with a repeat purchase and a positive monetary_value: the \
                 spend model has nothing to fit",
                self.path
            ));
        }
        SpendData::new(rows).map(|d| Some((d, zero))).map_err(|e| {
            let text = e.to_string();
            // The library names rows of the data it was given: map them back to lines.
            let row = text
                .strip_prefix("row ")
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|r| r.parse::<usize>().ok());
            match row.and_then(|r| kept.get(r).map(|&i| (r, i))) {
                Some((r, i)) => self.at_row(i, r, &text),
                None => format!("{}: {text}", self.path),
            }
        })
    }
}

/// Reads a summary CSV: `customer_id,frequency,recency,T` and optional `monetary_value` and
/// `weights`. Each row is checked here, so that an error names its line and column. A file
/// without quotes is parsed in pieces on all cores (a million rows take a fifth of a second on
/// one); the rows, and the first error in file order, are those of one pass. With `keep_ids`
/// false the ids are checked but not kept (a fit needs none; a million of them cost time).
pub fn read_summary(input: &Input, keep_ids: bool) -> Result<SummaryFile, String> {
    let path = input.path.as_str();
    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(
        path,
        &mut reader,
        &["customer_id", "frequency", "recency", "T"],
    )?;
    let columns = SummaryColumns {
        id: header.cols[0],
        frequency: header.cols[1],
        recency: header.cols[2],
        age: header.cols[3],
        money: header.optional("monetary_value")?,
        weights: header.optional("weights")?,
    };
    let start = crate::common::body_start(&bytes, &reader);
    let header_lines = bytes[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .max(1) as u64;
    let body = &bytes[start..];
    let pieces = crate::common::split_rows(body, crate::common::threads());
    let parsed = crate::common::read_pieces(pieces, |rows, offset| {
        let before = header_lines + body[..offset].iter().filter(|&&b| b == b'\n').count() as u64;
        parse_rows(input, &header, &columns, rows, before, keep_ids)
    });
    let mut file = SummaryFile::empty(path, columns.money.is_some());
    for piece in parsed {
        let piece = piece?;
        file.lines.extend(piece.lines);
        file.ids.extend(piece.ids);
        file.histories.extend(piece.histories);
        file.weights.extend(piece.weights);
        if let (Some(all), Some(part)) = (file.monetary.as_mut(), piece.monetary) {
            all.extend(part);
        }
    }
    if file.histories.is_empty() {
        return Err(no_rows(path, "customers"));
    }
    Ok(file)
}

/// The positions of a summary file's columns.
struct SummaryColumns {
    id: usize,
    frequency: usize,
    recency: usize,
    age: usize,
    money: Option<usize>,
    weights: Option<usize>,
}

/// Parses and checks the rows of `rows`, a piece of a summary file's body after
/// `lines_before` lines.
fn parse_rows(
    input: &Input,
    header: &Header,
    columns: &SummaryColumns,
    rows: &[u8],
    lines_before: u64,
    keep_ids: bool,
) -> Result<SummaryFile, String> {
    let path = input.path.as_str();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(input.csv_delimiter())
        .from_reader(rows);
    let mut file = SummaryFile::empty(path, columns.money.is_some());
    let mut record = csv::ByteRecord::new();
    let mut lines = crate::common::LineCounter::after(rows, lines_before);
    while let Some(line) = crate::common::next_row(header, &mut reader, &mut record, &mut lines)? {
        let here = |c: usize| at(path, line, &header.names[c]);
        let field = |c: usize| text_field(header, &record, line, c);
        let number = |c: usize| -> Result<f64, String> {
            parse_number(field(c)?).map_err(|e| format!("{}: {e}", here(c)))
        };
        let id = field(columns.id)?;
        if id.is_empty() {
            return Err(format!("{}: the customer id is empty", here(columns.id)));
        }
        let x = parse_count(field(columns.frequency)?)
            .map_err(|e| format!("{}: {e}", here(columns.frequency)))?;
        let h = History::new(x, number(columns.recency)?, number(columns.age)?);
        h.validate()
            .map_err(|e| format!("{}: {e}", line_place(path, line)))?;
        let w = match columns.weights {
            Some(c) => {
                let w = number(c)?;
                if w <= 0.0 {
                    return Err(format!(
                        "{}: {} is not a positive weight",
                        here(c),
                        echo(field(c)?)
                    ));
                }
                w
            }
            None => 1.0,
        };
        if let (Some(c), Some(m)) = (columns.money, file.monetary.as_mut()) {
            let v = number(c)?;
            if v < 0.0 {
                return Err(format!("{}: {} is negative", here(c), echo(field(c)?)));
            }
            m.push(if v == 0.0 { 0.0 } else { v });
        }
        file.lines.push(line);
        if keep_ids {
            file.ids.push(id.to_string());
        }
        file.histories.push(h);
        file.weights.push(w);
    }
    Ok(file)
}

/// A fitted transaction model of one of the three kinds.
pub enum Fitted {
    /// BG/NBD.
    Bg(BgNbd),
    /// MBG/NBD.
    Mbg(MbgNbd),
    /// Pareto/NBD.
    Pareto(ParetoNbd),
    /// GGompertz/NBD.
    GGompertz(GGompertzNbd),
}

impl Fitted {
    /// The model as a trait object.
    pub fn model(&self) -> &dyn TransactionModel {
        match self {
            Fitted::Bg(m) => m,
            Fitted::Mbg(m) => m,
            Fitted::Pareto(m) => m,
            Fitted::GGompertz(m) => m,
        }
    }

    /// The JSON `clv fit` prints: the library's serde form of the fitted model (parameters,
    /// covariance, fit report, time unit), which `clv predict --params` and any program using
    /// the library read back, with the model's name and the standard errors added.
    pub fn to_json(&self) -> Result<Value, String> {
        let (value, se) = match self {
            Fitted::Bg(m) => (
                to_value(m)?,
                m.standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "a": s.a, "b": s.b})),
            ),
            Fitted::Mbg(m) => (
                to_value(m)?,
                m.standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "a": s.a, "b": s.b})),
            ),
            Fitted::Pareto(m) => (
                to_value(m)?,
                m.standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "s": s.s, "beta": s.beta})),
            ),
            Fitted::GGompertz(m) => (
                to_value(m)?,
                m.standard_errors().map(
                    |s| json!({"r": s.r, "alpha": s.alpha, "b": s.b, "s": s.s, "beta": s.beta}),
                ),
            ),
        };
        Ok(with_name(value, self.model().name(), se))
    }
}

/// The bootstrap `--bootstrap N [--seed S]` asks for (seed 0 by default). With `default`, the
/// bootstrap is there without `--bootstrap` (N = `default`), and `--seed` alone sets its seed;
/// without, `--seed` needs `--bootstrap`.
pub fn bootstrap_options(
    flags: &Flags,
    default: Option<u32>,
) -> Result<Option<BootstrapOptions>, String> {
    let replicates = flags.whole_in(
        "bootstrap",
        1,
        u64::from(MAX_REPLICATES),
        "a number of refits, e.g. 200",
    )?;
    let seed = flags.whole_in("seed", 0, u64::MAX, "any whole number")?;
    match replicates.map(|n| n as u32).or(default) {
        Some(n) => BootstrapOptions::new(n, seed.unwrap_or(0))
            .map(Some)
            .map_err(|e| format!("--bootstrap: {e}")),
        None if seed.is_some() => Err("--seed is for --bootstrap N".into()),
        None => Ok(None),
    }
}

/// Bootstrap draws of a fitted transaction model of one of the three kinds.
pub enum FittedDraws {
    /// BG/NBD.
    Bg(Draws<BgNbd>),
    /// MBG/NBD.
    Mbg(Draws<MbgNbd>),
    /// Pareto/NBD.
    Pareto(Draws<ParetoNbd>),
    /// GGompertz/NBD.
    GGompertz(Draws<GGompertzNbd>),
}

impl Fitted {
    /// The non-parametric bootstrap of the model on `patterns`, refitted with `penalty`.
    pub fn bootstrap(
        &self,
        patterns: &Patterns,
        penalty: f64,
        options: &BootstrapOptions,
    ) -> Result<FittedDraws, String> {
        crate::progress::stage(format!(
            "bootstrapping {}: {} refits",
            self.model().name(),
            options.replicates()
        ));
        let err = |e: customer_assets::models::BootstrapError| format!("--bootstrap: {e}");
        Ok(match self {
            Fitted::Bg(m) => FittedDraws::Bg(
                bootstrap(&BgNbdParams::new().penalty(penalty), patterns, m, options)
                    .map_err(err)?,
            ),
            Fitted::Mbg(m) => FittedDraws::Mbg(
                bootstrap(&MbgNbdParams::new().penalty(penalty), patterns, m, options)
                    .map_err(err)?,
            ),
            Fitted::Pareto(m) => FittedDraws::Pareto(
                bootstrap(
                    &ParetoNbdParams::new().penalty(penalty),
                    patterns,
                    m,
                    options,
                )
                .map_err(err)?,
            ),
            Fitted::GGompertz(m) => FittedDraws::GGompertz(
                bootstrap(
                    &GGompertzNbdParams::new().penalty(penalty),
                    patterns,
                    m,
                    options,
                )
                .map_err(err)?,
            ),
        })
    }
}

impl FittedDraws {
    /// The summary `clv fit --bootstrap` prints.
    fn summary(&self, level: f64) -> Result<Value, String> {
        match self {
            FittedDraws::Bg(d) => draws_summary(d, level, |m| m.report()),
            FittedDraws::Mbg(d) => draws_summary(d, level, |m| m.report()),
            FittedDraws::Pareto(d) => draws_summary(d, level, |m| m.report()),
            FittedDraws::GGompertz(d) => draws_summary(d, level, |m| m.report()),
        }
    }
}

/// The bootstrap of any model `P` fits on `D`, summarised for `clv fit`.
fn bootstrap_summary<P, D>(
    params: &P,
    data: &D,
    model: &P::Model,
    options: &BootstrapOptions,
    level: f64,
    report: impl Fn(&P::Model) -> Option<&FitReport>,
) -> Result<Value, String>
where
    P: WarmStart<D> + Fit<D, Error = customer_assets::FitError> + Sync,
    D: Resample + Sync,
    P::Model: Reparameterize + Clone + Send + Sync,
{
    crate::progress::stage(format!("bootstrapping: {} refits", options.replicates()));
    let draws = bootstrap(params, data, model, options).map_err(|e| format!("--bootstrap: {e}"))?;
    draws_summary(&draws, level, report)
}

/// `{"method", "replicates", "seed", "converged", "level", "iterations": {"mean", "max"},
/// "parameters": {NAME: {"estimate", "mean", "standard_deviation", "lower", "upper"}}}`.
fn draws_summary<M: Reparameterize>(
    draws: &Draws<M>,
    level: f64,
    report: impl Fn(&M) -> Option<&FitReport>,
) -> Result<Value, String> {
    let reports: Vec<&FitReport> = draws.draws().iter().filter_map(&report).collect();
    let converged = reports.iter().filter(|r| r.converged).count();
    let iterations: Vec<u64> = reports.iter().map(|r| r.iterations).collect();
    let mean_iterations = iterations.iter().sum::<u64>() as f64 / iterations.len().max(1) as f64;
    let mut parameters = serde_json::Map::new();
    for p in draws
        .parameter_summaries(level)
        .map_err(|e| format!("--interval: {e}"))?
    {
        parameters.insert(
            p.name,
            json!({
                "estimate": p.estimate,
                "mean": p.mean,
                "standard_deviation": p.standard_deviation,
                "lower": p.lower,
                "upper": p.upper,
            }),
        );
    }
    Ok(json!({
        "method": draws.method().name(),
        "replicates": draws.len(),
        "seed": draws.seed(),
        "converged": converged,
        "level": level,
        "iterations": {"mean": mean_iterations, "max": iterations.iter().max()},
        "parameters": parameters,
    }))
}

/// Wald intervals of the estimates at `level` (on the log scale) as `{"level": L, "NAME":
/// {"lower": .., "upper": ..}, ...}`; `null` when the fit has no covariance.
fn intervals(
    covariance: Option<&customer_assets::Covariance>,
    estimates: &[f64],
    level: f64,
) -> Result<Value, String> {
    let Some(covariance) = covariance else {
        return Ok(Value::Null);
    };
    let mut out = serde_json::Map::new();
    out.insert("level".into(), json!(level));
    for i in covariance
        .wald_intervals(estimates, level)
        .map_err(|e| format!("--interval: {e}"))?
    {
        out.insert(i.name, json!({"lower": i.lower, "upper": i.upper}));
    }
    Ok(Value::Object(out))
}

/// A fitted model's serde form as JSON.
pub fn to_value(model: &impl serde::Serialize) -> Result<Value, String> {
    serde_json::to_value(model).map_err(|e| format!("cannot write the fitted model: {e}"))
}

/// The serde form of a fitted model with `"model": name` and its standard errors added (the
/// library ignores both when it reads the form back).
pub fn with_name(value: Value, name: &str, standard_errors: Option<Value>) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("model".to_string(), Value::String(name.to_string()));
    if let Value::Object(fields) = value {
        out.extend(fields);
    }
    out.insert(
        "standard_errors".to_string(),
        standard_errors.unwrap_or(Value::Null),
    );
    Value::Object(out)
}

/// Fits a transaction model by name.
pub fn fit_transaction(name: &str, patterns: &Patterns, penalty: f64) -> Result<Fitted, String> {
    // The library's message says which model failed to fit.
    let err = |e: customer_assets::FitError| e.to_string();
    Ok(match name {
        "bg-nbd" => Fitted::Bg(
            BgNbdParams::new()
                .penalty(penalty)
                .fit(patterns)
                .map_err(err)?,
        ),
        "mbg-nbd" => Fitted::Mbg(
            MbgNbdParams::new()
                .penalty(penalty)
                .fit(patterns)
                .map_err(err)?,
        ),
        "pareto-nbd" => Fitted::Pareto(
            ParetoNbdParams::new()
                .penalty(penalty)
                .fit(patterns)
                .map_err(err)?,
        ),
        "ggom-nbd" => Fitted::GGompertz(
            GGompertzNbdParams::new()
                .penalty(penalty)
                .fit(patterns)
                .map_err(err)?,
        ),
        other => {
            return Err(format!(
                "--model: {} is not one of {TRANSACTION_MODELS}, gamma-gamma",
                echo(other)
            ))
        }
    })
}

/// Fits Gamma-Gamma on the customers with frequency > 0 and a positive mean spend; says on
/// stderr how many repeat customers with a zero mean spend were left out.
pub fn fit_spend(file: &SummaryFile, penalty: f64) -> Result<Option<GammaGamma>, String> {
    let Some((data, zero)) = file.spend_data()? else {
        return Ok(None);
    };
    if zero > 0 {
        eprintln!(
            "clv: note: {zero} customer(s) with repeat purchases but a zero monetary_value are \
             left out of the Gamma-Gamma fit (their expected spend is the population mean)"
        );
    }
    GammaGammaParams::new()
        .penalty(penalty)
        .fit(&data)
        .map(Some)
        .map_err(|e| format!("{}: {e}", file.path))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "summary",
            "model",
            "penalty",
            "unit",
            "interval",
            "bootstrap",
            "seed",
            "covariates",
            "purchase-covariates",
            "dropout-covariates",
            "constrain",
        ],
    )?;
    let output = flags.output(false)?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let model = flags.required("model")?;
    if flags.get("covariates").is_some() {
        return output.write_json(&fit_with_covariates(&flags, &input, model)?);
    }
    for name in ["purchase-covariates", "dropout-covariates", "constrain"] {
        if flags.get(name).is_some() {
            return Err(format!("--{name} is for a fit with --covariates ATTR.csv"));
        }
    }
    if !matches!(
        model,
        "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd" | "gamma-gamma"
    ) {
        return Err(format!(
            "--model: {} is not one of {TRANSACTION_MODELS}, gamma-gamma, bg-bb, sbg, bdw",
            echo(model)
        ));
    }
    let penalty = flags
        .number_in("penalty", 0.0, MAX_PENALTY, "an L2 weight, 0 for none")?
        .unwrap_or(0.0);
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let level = flags.number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?;
    let resampling = bootstrap_options(&flags, None)?;
    let file = read_summary(&input, false)?;
    crate::progress::stage(format!("fitting {model} on {} rows", file.histories.len()));
    let value = if model == "gamma-gamma" {
        let gg = fit_spend(&file, penalty)?
            .ok_or_else(|| format!("{path}: gamma-gamma needs a monetary_value column"))?;
        let se = gg
            .standard_errors()
            .map(|s| json!({"p": s.p, "q": s.q, "gamma": s.gamma}));
        let mut value = with_name(to_value(&gg)?, "gamma-gamma", se);
        value["frequency_spend_correlation"] = json!(gg.frequency_spend_correlation());
        if let Some(level) = level {
            let p = gg.parameters();
            value["intervals"] = intervals(gg.covariance(), &[p.p, p.q, p.gamma], level)?;
        }
        if let (Some(options), Some((data, _))) = (&resampling, file.spend_data()?) {
            value["bootstrap"] = bootstrap_summary(
                &GammaGammaParams::new().penalty(penalty),
                &data,
                &gg,
                options,
                level.unwrap_or(0.9),
                GammaGamma::report,
            )?;
        }
        value
    } else {
        let patterns = file.patterns(unit)?;
        let fitted =
            fit_transaction(model, &patterns, penalty).map_err(|e| format!("{path}: {e}"))?;
        let mut value = fitted.to_json()?;
        if let Some(level) = level {
            let m = fitted.model();
            let estimates: Vec<f64> = m.named_parameters().iter().map(|(_, v)| *v).collect();
            value["intervals"] = intervals(m.covariance(), &estimates, level)?;
        }
        if let Some(options) = &resampling {
            let draws = fitted
                .bootstrap(&patterns, penalty, options)
                .map_err(|e| format!("{path}: {e}"))?;
            value["bootstrap"] = draws.summary(level.unwrap_or(0.9))?;
        }
        value
    };
    output.write_json(&value)
}

/// `clv fit --covariates`: the model with the attribute file's covariates.
fn fit_with_covariates(flags: &Flags, input: &Input, model: &str) -> Result<Value, String> {
    use crate::covariate_fit as cov;
    if flags.get("bootstrap").is_some() || flags.get("seed").is_some() {
        return Err("--bootstrap is not available with --covariates (use --interval)".into());
    }
    let penalty = flags
        .number_in(
            "penalty",
            0.0,
            MAX_PENALTY,
            "an L2 weight on the coefficients, 0 for none",
        )?
        .unwrap_or(0.0);
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let level = flags.number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?;
    let file = read_summary(input, true)?;
    let design = cov::design(flags, &file)?;
    crate::progress::stage(format!(
        "fitting {model} with {} covariate columns on {} customers",
        design.matrix().columns(),
        file.histories.len()
    ));
    if model == "gamma-gamma" {
        for name in ["purchase-covariates", "dropout-covariates", "constrain"] {
            if flags.get(name).is_some() {
                return Err(format!(
                    "--{name}: gamma-gamma has one process, its spend; every attribute enters it"
                ));
            }
        }
        let fitted = cov::fit_spend(&file, &design, penalty)?;
        return cov::spend_json(&fitted, &design);
    }
    let fitted = cov::fit_transaction(flags, model, &file, &design, unit, penalty)?;
    let plain = fit_transaction(model, &file.patterns(unit)?, 0.0).ok();
    let mut value =
        cov::transaction_json(&fitted, &design, plain.as_ref().map(|p| p.model()), penalty)?;
    if let Some(level) = level {
        let mut out = serde_json::Map::new();
        out.insert("level".into(), json!(level));
        for i in fitted
            .wald_intervals(level)
            .map_err(|e| format!("--interval: {e}"))?
            .unwrap_or_default()
        {
            out.insert(i.name, json!({"lower": i.lower, "upper": i.upper}));
        }
        value["intervals"] = Value::Object(out);
    }
    Ok(value)
}
