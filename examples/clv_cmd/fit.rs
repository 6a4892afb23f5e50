//! `clv fit --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|gamma-gamma [--penalty L]`
//!
//! Reads `customer_id,frequency,recency,T,monetary_value` (optional `weights` column; recency
//! and T in the file's own time unit) and prints the fit as JSON:
//! `{"model": ..., "params": {...}, "standard_errors": {...}, "log_likelihood": <total>,
//! "converged": true, "iterations": N}`. Gamma-Gamma uses the customers with frequency > 0.

use crate::common::{columns, csv_reader, line_of, optional_column, stdout, Flags};
use customer_assets::fit::Fit;
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParams};
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParams, SpendData};
use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParams};
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParams};
use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
use serde_json::{json, Value};
use std::io::Write;

/// The rows of a summary file, in file order.
pub struct SummaryFile {
    /// Customer ids.
    pub ids: Vec<String>,
    /// (x, t_x, T) per row.
    pub histories: Vec<History>,
    /// Weight per row (1 without a `weights` column).
    pub weights: Vec<f64>,
    /// Mean repeat spend per row, when the file has `monetary_value`.
    pub monetary: Option<Vec<f64>>,
}

impl SummaryFile {
    /// Weighted (x, t_x, T) patterns. The file carries no unit: it is recorded as weeks, and
    /// every horizon and rate is in the file's own unit.
    pub fn patterns(&self) -> Result<Patterns, String> {
        Patterns::new(
            TimeUnit::WEEKS,
            self.histories
                .iter()
                .zip(&self.weights)
                .map(|(h, &w)| (h.frequency, h.recency, h.age, w)),
        )
        .map_err(|e| format!("invalid summary: {e}"))
    }

    /// (x, mean spend, weight) of the customers with x > 0, for Gamma-Gamma.
    pub fn spend_data(&self) -> Result<Option<SpendData>, String> {
        let Some(m) = &self.monetary else {
            return Ok(None);
        };
        let rows: Vec<(u32, f64, f64)> = self
            .histories
            .iter()
            .zip(m)
            .zip(&self.weights)
            .filter(|((h, _), _)| h.frequency > 0)
            .map(|((h, &v), &w)| (h.frequency, v, w))
            .collect();
        SpendData::new(rows)
            .map(Some)
            .map_err(|e| format!("invalid spend data: {e}"))
    }
}

/// Reads a summary CSV.
pub fn read_summary(path: &str) -> Result<SummaryFile, String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(
        path,
        &headers,
        &["customer_id", "frequency", "recency", "T"],
    )?;
    let money = optional_column(&headers, "monetary_value");
    let weights = optional_column(&headers, "weights");
    let mut file = SummaryFile {
        ids: Vec::new(),
        histories: Vec::new(),
        weights: Vec::new(),
        monetary: money.map(|_| Vec::new()),
    };
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(format!("{path}: {e}")),
        }
        let line = || line_of(path, record.as_byte_record());
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or("");
        let number = |i: usize, name: &str| -> Result<f64, String> {
            field(i)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{}: {name} {:?} is not a finite number", line(), field(i)))
        };
        let x: u32 = field(cols[1])
            .parse()
            .map_err(|_| format!("{}: frequency {:?} is not a count", line(), field(cols[1])))?;
        let h = History::new(x, number(cols[2], "recency")?, number(cols[3], "T")?);
        h.validate().map_err(|e| format!("{}: {e}", line()))?;
        file.ids.push(field(cols[0]).to_string());
        file.histories.push(h);
        file.weights.push(match weights {
            Some(c) => number(c, "weights")?,
            None => 1.0,
        });
        if let (Some(c), Some(m)) = (money, file.monetary.as_mut()) {
            m.push(number(c, "monetary_value")?);
        }
    }
    if file.ids.is_empty() {
        return Err(format!("{path}: no customers"));
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
}

impl Fitted {
    /// The model as a trait object.
    pub fn model(&self) -> &dyn TransactionModel {
        match self {
            Fitted::Bg(m) => m,
            Fitted::Mbg(m) => m,
            Fitted::Pareto(m) => m,
        }
    }

    /// The JSON `clv fit` prints.
    pub fn to_json(&self, patterns: &Patterns) -> Result<Value, String> {
        let (params, se, report) = match self {
            Fitted::Bg(m) => {
                let p = m.parameters();
                let se = m
                    .standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "a": s.a, "b": s.b}));
                (
                    json!({"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b}),
                    se,
                    m.report(),
                )
            }
            Fitted::Mbg(m) => {
                let p = m.parameters();
                let se = m
                    .standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "a": s.a, "b": s.b}));
                (
                    json!({"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b}),
                    se,
                    m.report(),
                )
            }
            Fitted::Pareto(m) => {
                let p = m.parameters();
                let se = m
                    .standard_errors()
                    .map(|s| json!({"r": s.r, "alpha": s.alpha, "s": s.s, "beta": s.beta}));
                (
                    json!({"r": p.r, "alpha": p.alpha, "s": p.s, "beta": p.beta}),
                    se,
                    m.report(),
                )
            }
        };
        let ll = match report {
            Some(r) => r.log_likelihood,
            None => total_ll(self, patterns)?,
        };
        Ok(json!({
            "model": self.model().name(),
            "params": params,
            "standard_errors": se,
            "log_likelihood": ll,
            "converged": report.map(|r| r.converged),
            "iterations": report.map(|r| r.iterations),
        }))
    }
}

fn total_ll(fitted: &Fitted, patterns: &Patterns) -> Result<f64, String> {
    match fitted {
        Fitted::Bg(m) => m.total_log_likelihood(patterns),
        Fitted::Mbg(m) => m.total_log_likelihood(patterns),
        Fitted::Pareto(m) => m.total_log_likelihood(patterns),
    }
    .map_err(|e| e.to_string())
}

/// Fits a transaction model by name.
pub fn fit_transaction(name: &str, patterns: &Patterns, penalty: f64) -> Result<Fitted, String> {
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
                .map_err(|e| e.to_string())?,
        ),
        other => {
            return Err(format!(
                "--model: {other:?} is not one of bg-nbd, mbg-nbd, pareto-nbd, gamma-gamma"
            ))
        }
    })
}

/// Fits Gamma-Gamma on the customers with frequency > 0.
pub fn fit_spend(file: &SummaryFile, penalty: f64) -> Result<Option<GammaGamma>, String> {
    let Some(data) = file.spend_data()? else {
        return Ok(None);
    };
    GammaGammaParams::new()
        .penalty(penalty)
        .fit(&data)
        .map(Some)
        .map_err(|e| e.to_string())
}

pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["summary", "model", "penalty"])?;
    let path = flags.required("summary")?;
    let model = flags.required("model")?;
    let penalty = flags.number("penalty")?.unwrap_or(0.0);
    let file = read_summary(path)?;
    let value = if model == "gamma-gamma" {
        let gg = fit_spend(&file, penalty)?
            .ok_or_else(|| format!("{path}: gamma-gamma needs a monetary_value column"))?;
        let p = gg.parameters();
        let se = gg
            .standard_errors()
            .map(|s| json!({"p": s.p, "q": s.q, "gamma": s.gamma}));
        let report = gg.report();
        json!({
            "model": "gamma-gamma",
            "params": {"p": p.p, "q": p.q, "gamma": p.gamma},
            "standard_errors": se,
            "log_likelihood": report.map(|r| r.log_likelihood),
            "converged": report.map(|r| r.converged),
            "iterations": report.map(|r| r.iterations),
            "frequency_spend_correlation": gg.frequency_spend_correlation(),
        })
    } else {
        let patterns = file.patterns()?;
        fit_transaction(model, &patterns, penalty)?.to_json(&patterns)?
    };
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, &value).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())?;
    crate::common::finish(out)
}
