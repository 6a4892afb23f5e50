//! Equity by covariate: how a valuation's value splits over a design column's values, and how
//! much value each coefficient of a covariate model moves.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

pub use super::covariate_section::{
    CoefficientEffect, CovariateGroup, CovariateSection, CovariateValue,
};
use super::report::EquityReport;
use crate::covariates::DesignMatrix;

/// The most distinct values a column is grouped by; a column with more (a continuous one) is
/// grouped by quartile.
pub const MAX_GROUPS: usize = 20;

impl CoefficientEffect {
    /// The effect of `coefficient` from the report with the fitted model and the report with
    /// the coefficient at 0 ([`BoundCovariateModel::without`](crate::models::covariates::BoundCovariateModel::without)).
    pub fn new(coefficient: &str, with: &EquityReport, without: &EquityReport) -> Self {
        let (equity, equity_without) = (with.equity, without.equity);
        CoefficientEffect {
            coefficient: coefficient.to_string(),
            equity,
            equity_without,
            moved: equity - equity_without,
        }
    }
}

/// The report's customers grouped by every column of `design`: each column's distinct values
/// (at most [`MAX_GROUPS`]; quartiles of a column with more), with equity, mean CLV and its
/// interval per group.
pub fn value_by_covariate(report: &EquityReport, design: &DesignMatrix) -> Vec<CovariateValue> {
    (0..design.columns())
        .map(|j| {
            let mut pairs: Vec<Member> = Vec::new();
            let mut without_row = 0;
            for c in &report.customers {
                match design.row_of(&c.id).and_then(|r| r.get(j)) {
                    Some(v) => pairs.push((*v, c.clv.to_f64().unwrap_or(0.0), c.clv)),
                    None => without_row += 1,
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut distinct: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            distinct.dedup();
            let groups: Vec<(String, Vec<Member>)> = if distinct.len() <= MAX_GROUPS {
                distinct
                    .iter()
                    .map(|v| {
                        (
                            format!("{v}"),
                            pairs.iter().filter(|p| p.0 == *v).cloned().collect(),
                        )
                    })
                    .collect()
            } else {
                let n = pairs.len();
                (0..4)
                    .map(|q| {
                        let part: Vec<_> = pairs[q * n / 4..(q + 1) * n / 4].to_vec();
                        let (lo, hi) = (
                            part.first().map(|p| p.0).unwrap_or(f64::NAN),
                            part.last().map(|p| p.0).unwrap_or(f64::NAN),
                        );
                        (format!("[{lo}, {hi}]"), part)
                    })
                    .filter(|(_, part)| !part.is_empty())
                    .collect()
            };
            CovariateValue {
                column: design.names()[j].clone(),
                groups: groups
                    .into_iter()
                    .map(|(label, part)| group(label, &part))
                    .collect(),
                without_row,
            }
        })
        .collect()
}

/// A customer of a group: the column's value, the CLV as f64 and as money.
type Member = (f64, f64, Decimal);

fn group(label: String, part: &[Member]) -> CovariateGroup {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let n = part.len();
    let equity = part.iter().map(|p| p.2).sum();
    let mean = part.iter().map(|p| p.1).sum::<f64>() / n.max(1) as f64;
    let interval = (n >= 2)
        .then(|| {
            let var = part.iter().map(|p| (p.1 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
                .ok()?
                .inverse_cdf(0.975);
            let half = t * (var / n as f64).sqrt();
            (half.is_finite()).then_some((mean - half, mean + half))
        })
        .flatten();
    CovariateGroup {
        label,
        customers: n,
        equity,
        mean_clv: if mean.is_finite() { mean } else { 0.0 },
        mean_clv_interval: interval,
    }
}

/// The section of `report`, valued with `model`; `equity_with` values the base with another
/// model (the valuation's own predictions and sums).
pub(crate) fn section(
    report: &EquityReport,
    design: &DesignMatrix,
    model: &dyn crate::models::TransactionModel,
    equity_with: &dyn Fn(&dyn crate::models::TransactionModel) -> Result<Decimal, String>,
) -> CovariateSection {
    let parameters = model.named_parameters();
    let values: Vec<f64> = parameters.iter().map(|(_, v)| *v).collect();
    let mut effects = Vec::new();
    let mut notes = Vec::new();
    for (k, (name, _)) in parameters.iter().enumerate() {
        if !["purchase.", "dropout.", "both."]
            .iter()
            .any(|p| name.starts_with(p))
        {
            continue;
        }
        let mut zeroed = values.clone();
        zeroed[k] = 0.0;
        let without = match model.reparameterized(&zeroed) {
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                notes.push(format!("{name}: {e}"));
                continue;
            }
            None => {
                notes.push(format!("{name}: the model cannot be re-evaluated"));
                continue;
            }
        };
        match equity_with(without.as_ref()) {
            Ok(equity_without) => effects.push(CoefficientEffect {
                coefficient: name.clone(),
                equity: report.equity,
                equity_without,
                moved: report.equity - equity_without,
            }),
            Err(e) => notes.push(format!("{name}: {e}")),
        }
    }
    CovariateSection {
        by_column: value_by_covariate(report, design),
        effects,
        notes,
    }
}
