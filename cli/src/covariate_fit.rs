//! `clv fit` and `clv predict` with `--covariates ATTR.csv`: time-invariant covariates in the
//! continuous models and in Gamma-Gamma.
//!
//! The attribute file holds the customer id (first column) and one column per attribute;
//! numeric attributes enter as they are, categorical ones as dummies `<attribute>=<level>`
//! against their most frequent level. `--purchase-covariates A,B` and `--dropout-covariates A,B`
//! name attributes (or dummy columns) per process; both default to every attribute, and
//! `none` leaves a process without covariates. `--constrain A,...` gives an attribute one
//! coefficient for both processes; `--penalty L` is the L2 penalty on the coefficients.

use std::path::Path;

use customer_assets::covariates::{Design, DesignBuilder};
use customer_assets::fit::Fit;
use customer_assets::models::covariates::{
    BoundCovariateModel, CovariateData, CovariateFamily, CovariateModel, CovariateParams,
    LikelihoodRatioTest, Process, SpendCovariateData, SpendCovariateModel, SpendCovariateParams,
};
use customer_assets::{CustomerId, TimeUnit, TransactionModel};
use serde_json::{json, Map, Value};

use crate::attributes::read_attribute_table;
use crate::common::{echo, Flags};
use crate::fit::SummaryFile;

/// The design of the summary's customers from the attribute file of `--covariates`, in the
/// summary's order.
pub fn design(flags: &Flags, file: &SummaryFile) -> Result<Design, String> {
    let path = flags.required("covariates")?;
    let table =
        read_attribute_table(Path::new(path), None).map_err(|e| format!("--covariates: {e}"))?;
    if file.weights.iter().any(|w| *w != 1.0) {
        return Err(format!(
            "{}: --covariates needs one row per customer (a weights column other than 1 merges customers whose covariates may differ)",
            file.path
        ));
    }
    let ids: Vec<CustomerId> = file
        .ids
        .iter()
        .map(|id| CustomerId::new(id).map_err(|e| format!("{}: {e}", file.path)))
        .collect::<Result<_, _>>()?;
    DesignBuilder::all(&table)
        .build(&table, &ids)
        .map_err(|e| format!("--covariates {path}: {e}"))
}

/// The design columns a list flag names: attributes (each with all its columns) or columns;
/// `None` when the flag is absent, empty for `none`.
fn columns(flags: &Flags, name: &str, design: &Design) -> Result<Option<Vec<String>>, String> {
    let Some(list) = flags.get(name) else {
        return Ok(None);
    };
    if list.trim() == "none" {
        return Ok(Some(Vec::new()));
    }
    let mut out: Vec<String> = Vec::new();
    for item in list.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("--{name}: an empty name in {}", echo(list)));
        }
        let found: Vec<String> = design
            .encoding()
            .columns()
            .iter()
            .filter(|c| c.attribute() == item || c.name() == item)
            .map(|c| c.name())
            .collect();
        if found.is_empty() {
            return Err(format!(
                "--{name}: {} is not an attribute of the --covariates file (columns: {})",
                echo(item),
                design.matrix().names().join(", ")
            ));
        }
        for c in found {
            if out.contains(&c) {
                return Err(format!("--{name}: {} is named twice", echo(&c)));
            }
            out.push(c);
        }
    }
    Ok(Some(out))
}

/// The family of a continuous model's name.
pub fn family(name: &str) -> Result<CovariateFamily, String> {
    CovariateFamily::from_name(name).ok_or_else(|| {
        format!(
            "--model {}: covariates enter pareto-nbd, bg-nbd, mbg-nbd, ggom-nbd and gamma-gamma",
            echo(name)
        )
    })
}

/// Fits a transaction model with covariates on the summary's customers.
pub fn fit_transaction(
    flags: &Flags,
    name: &str,
    file: &SummaryFile,
    design: &Design,
    unit: TimeUnit,
    penalty: f64,
) -> Result<CovariateModel, String> {
    let family = family(name)?;
    let data = CovariateData::new(
        unit,
        design
            .matrix()
            .ids()
            .iter()
            .cloned()
            .zip(file.histories.iter().copied()),
        design.matrix(),
    )
    .map_err(|e| format!("{}: {e}", file.path))?;
    let mut params = CovariateParams::new(family).penalty(penalty);
    if let Some(c) = columns(flags, "purchase-covariates", design)? {
        params = params.purchase_covariates(&c);
    }
    if let Some(c) = columns(flags, "dropout-covariates", design)? {
        params = params.dropout_covariates(&c);
    }
    if let Some(c) = columns(flags, "constrain", design)? {
        params = params.constrain(&c);
    }
    params.fit(&data).map_err(|e| format!("{}: {e}", file.path))
}

/// `params` and `standard_errors` by name: `purchase.<column>` and `dropout.<column>` (a
/// constrained coefficient under both names).
fn named(model: &CovariateModel) -> (Map<String, Value>, Map<String, Value>) {
    let se = model.standard_errors();
    let mut params = Map::new();
    let mut errors = Map::new();
    for (k, (name, value)) in model
        .parameter_names()
        .into_iter()
        .zip(model.parameter_values())
        .enumerate()
    {
        let s = se.as_ref().and_then(|s| s.get(k)).copied();
        let names = match name.strip_prefix("both.") {
            Some(column) => vec![format!("purchase.{column}"), format!("dropout.{column}")],
            None => vec![name],
        };
        for n in names {
            params.insert(n.clone(), json!(value));
            errors.insert(n, s.map_or(Value::Null, |s| json!(s)));
        }
    }
    (params, errors)
}

/// The JSON of a fitted covariate model: its serde form (which `clv predict --params` reads
/// back), `params` and `standard_errors` by name, AIC, BIC, the likelihood-ratio test against
/// the model without covariates (`plain`) and the design's encoding.
pub fn transaction_json(
    model: &CovariateModel,
    design: &Design,
    plain: Option<&dyn TransactionModel>,
    penalty: f64,
) -> Result<Value, String> {
    let mut out = match serde_json::to_value(model) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) | Err(_) => return Err("cannot write the fitted covariate model".into()),
    };
    let (params, errors) = named(model);
    out.insert("params".into(), Value::Object(params));
    out.insert("standard_errors".into(), Value::Object(errors));
    out.insert(
        "log_likelihood".into(),
        json!(model.report().map(|r| r.log_likelihood)),
    );
    out.insert("aic".into(), json!(model.aic()));
    out.insert("bic".into(), json!(model.bic()));
    let lr = plain.map(|p| model.likelihood_ratio_test(p));
    out.insert(
        "lr_test".into(),
        match lr {
            Some(Ok(t)) => lr_json(&t, "the model without covariates"),
            Some(Err(e)) => json!({ "not_computed": e.to_string() }),
            None => json!({ "not_computed": "the model without covariates did not fit" }),
        },
    );
    let process = |p: Process| -> Vec<String> {
        model
            .coefficients()
            .iter()
            .filter(|c| c.process == p || c.process == Process::Both)
            .map(|c| c.column.clone())
            .collect()
    };
    let constrained: Vec<String> = model
        .coefficients()
        .iter()
        .filter(|c| c.process == Process::Both)
        .map(|c| c.column.clone())
        .collect();
    out.insert(
        "covariates".into(),
        json!({
            "purchase": process(Process::Purchase),
            "dropout": process(Process::Dropout),
            "constrained": constrained,
            "penalty": penalty,
            "encoding": design.encoding(),
        }),
    );
    Ok(Value::Object(out))
}

fn lr_json(t: &LikelihoodRatioTest, against: &str) -> Value {
    json!({
        "against": against,
        "statistic": t.statistic,
        "degrees_of_freedom": t.degrees_of_freedom,
        "p_value": t.p_value,
    })
}

/// Fits Gamma-Gamma with covariates on its scale (every attribute, or `--purchase-covariates`'
/// list is not used: spend has its own process) on the repeat buyers with a positive mean spend.
pub fn fit_spend(
    file: &SummaryFile,
    design: &Design,
    penalty: f64,
) -> Result<SpendCovariateModel, String> {
    let Some(monetary) = &file.monetary else {
        return Err(format!(
            "{}: gamma-gamma needs a monetary_value column",
            file.path
        ));
    };
    let data = SpendCovariateData::new(
        design
            .matrix()
            .ids()
            .iter()
            .cloned()
            .zip(file.histories.iter().zip(monetary))
            .map(|(id, (h, m))| (id, h.frequency, *m)),
        design.matrix(),
    )
    .map_err(|e| format!("{}: {e}", file.path))?;
    if !data.left_out().is_empty() {
        eprintln!(
            "clv: note: {} customer(s) without a repeat purchase or with a zero monetary_value are left out of the Gamma-Gamma fit",
            data.left_out().len()
        );
    }
    SpendCovariateParams::new()
        .penalty(penalty)
        .fit(&data)
        .map_err(|e| format!("{}: {e}", file.path))
}

/// The JSON of a fitted Gamma-Gamma with covariates.
pub fn spend_json(model: &SpendCovariateModel, design: &Design) -> Result<Value, String> {
    let mut out = match serde_json::to_value(model) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) | Err(_) => return Err("cannot write the fitted covariate model".into()),
    };
    let b = model.base_parameters();
    let mut names = vec!["p".to_string(), "q".into(), "gamma".into()];
    let mut values = vec![b.p, b.q, b.gamma];
    for (c, v) in model.coefficients() {
        names.push(format!("spend.{c}"));
        values.push(v);
    }
    let se = model.standard_errors();
    let mut params = Map::new();
    let mut errors = Map::new();
    for (k, (n, v)) in names.into_iter().zip(values).enumerate() {
        params.insert(n.clone(), json!(v));
        errors.insert(
            n,
            se.as_ref()
                .and_then(|s| s.get(k))
                .map_or(Value::Null, |s| json!(s)),
        );
    }
    out.insert("model".into(), json!("gamma-gamma"));
    out.insert("params".into(), Value::Object(params));
    out.insert("standard_errors".into(), Value::Object(errors));
    out.insert(
        "log_likelihood".into(),
        json!(model.report().map(|r| r.log_likelihood)),
    );
    out.insert(
        "covariates".into(),
        json!({ "spend": model.columns(), "encoding": design.encoding() }),
    );
    Ok(Value::Object(out))
}

/// A covariate model read back from `clv fit --covariates`' JSON (`--params`).
pub fn load(path: &str, name: &str, unit: TimeUnit) -> Result<CovariateModel, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--params: cannot read {path}: {e}"))?;
    let model: CovariateModel = serde_json::from_str(&text).map_err(|e| {
        format!(
            "--params: {path}: not a fitted {name} with covariates as `clv fit --covariates` writes it: {}",
            crate::common::cut_lines(&e.to_string(), 200)
        )
    })?;
    if model.family().name() != name {
        return Err(format!(
            "--params: {path}: parameters are for {}, not {name:?}",
            model.family()
        ));
    }
    if model.unit() != unit {
        return Err(format!(
            "--params: {path}: the model's time unit is {} days, the summary's {} days (--unit)",
            model.unit().days(),
            unit.days()
        ));
    }
    Ok(model)
}

/// The model bound to the summary's design.
pub fn bind(model: CovariateModel, design: &Design) -> Result<BoundCovariateModel, String> {
    model
        .bind(design.matrix().clone())
        .map_err(|e| format!("--covariates: {e}"))
}
