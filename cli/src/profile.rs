//! `clv profile --summary FILE.csv --attributes ATTR.csv [--segments SEG.csv] [--model M]
//! [--unit U] [--margin M] [--discount RATE] [--interval LEVEL]`: attributes against
//! behaviour, as JSON.
//!
//! Reads the summary table `clv fit` and `clv predict` read (it needs `monetary_value`), fits
//! the transaction model (bg-nbd by default, mbg-nbd or pareto-nbd) and the spend model as `clv
//! predict` does (Gamma-Gamma, or the population mean spend with a note when Gamma-Gamma cannot
//! be fitted), and values each customer: P(alive) at the end of the summary, and CLV = DERT ×
//! expected spend × margin (the discounted lifetime value at `--discount`, as `clv predict`'s
//! `clv` column). Each customer's behaviour is then frequency, mean repeat spend (none without
//! a repeat purchase), P(alive) and CLV.
//!
//! The attribute file has a header row; its first column is the customer id, every other
//! column an attribute: numeric when every non-empty cell is a number, else categorical; an
//! empty cell is a missing value. `--delimiter` applies to all three CSV files. The optional segments file is `customer_id,segment` as `clv
//! segment` writes it (other columns ignored). The output is the library's
//! `customer_assets::valuation::profile::AttributeProfile` as JSON, with `settings` added (the
//! files, the models, the unit, margin and discount).

use customer_assets::covariates::AttributeTable;
use customer_assets::kpi::CustomerGroups;
use customer_assets::valuation::profile::{AttributeProfile, Behaviour, ProfileOptions};
use customer_assets::{CustomerId, TimeUnit};
use serde_json::json;

use crate::common::{
    at, echo, line_place, next_row, no_rows, text_field, Flags, Header, LineCounter,
};
use crate::fit::{fit_transaction, read_summary, TRANSACTION_MODELS};
use crate::predict::{spend_model, spend_of, Spend};
use crate::table::Input;

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "summary",
            "attributes",
            "segments",
            "model",
            "unit",
            "margin",
            "discount",
            "interval",
        ],
    )?;
    let output = flags.output(false)?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let attributes_path = flags.required("attributes")?;
    let name = flags.get("model").unwrap_or("bg-nbd");
    if !matches!(name, "bg-nbd" | "mbg-nbd" | "pareto-nbd") {
        return Err(format!(
            "--model: {} is not one of {TRANSACTION_MODELS}",
            echo(name)
        ));
    }
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let rate = flags.discount(unit)?;
    let margin = flags.margin()?;
    let level = flags
        .number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?
        .unwrap_or(customer_assets::valuation::profile::DEFAULT_LEVEL);

    let file = read_summary(&input, true)?;
    let Some(monetary) = file.monetary.clone() else {
        return Err(format!(
            "{path}: line 1: no monetary_value column: the profile sets attributes against mean \
             spend and CLV"
        ));
    };
    crate::progress::stage(format!("fitting {name} on {} rows", file.ids.len()));
    let patterns = file.patterns(unit)?;
    let fitted = fit_transaction(name, &patterns, 0.0).map_err(|e| format!("{path}: {e}"))?;
    let model = fitted.model();
    let spend = spend_model(&file, "auto")?
        .ok_or_else(|| format!("{path}: no monetary_value column to fit spend on"))?;
    let spend_name = match spend {
        Spend::Gamma(_) => "gamma-gamma",
        Spend::Mean(_) => "mean",
    };
    crate::progress::stage(format!("valuing {} customers", file.ids.len()));
    let mut behaviour = Vec::with_capacity(file.ids.len());
    for (i, (id, h)) in file.ids.iter().zip(&file.histories).enumerate() {
        let line = file.lines[i];
        let fail = |e: customer_assets::PredictError| {
            format!("{} (customer {}): {e}", line_place(path, line), echo(id))
        };
        let p = model.p_alive(h, 0.0).map_err(fail)?;
        let d = model.dert(h, rate).map_err(fail)?;
        let s = spend_of(spend.model(), h, monetary[i]).map_err(fail)?;
        let clv = d * s * margin;
        let customer =
            CustomerId::new(id).map_err(|e| format!("{}: {e}", at(path, line, "customer_id")))?;
        let mean_spend = (h.frequency > 0).then_some(monetary[i]);
        behaviour.push(
            Behaviour::new(customer, h.frequency, mean_spend, p, clv).map_err(|e| {
                format!(
                    "{} (customer {}): the fitted model cannot value this customer: {e}",
                    line_place(path, line),
                    echo(id)
                )
            })?,
        );
    }
    let delimiter = flags.get("delimiter");
    let table = read_attributes(attributes_path, delimiter)?;
    let segments = flags
        .get("segments")
        .map(|p| read_segments(p, delimiter))
        .transpose()?;
    crate::progress::stage("profiling the attributes");
    let profile = AttributeProfile::compute(
        &table,
        &behaviour,
        segments.as_ref(),
        &ProfileOptions::new().level(level),
    )
    .map_err(|e| match e {
        customer_assets::valuation::profile::ProfileError::DuplicateCustomer { customer } => {
            format!(
                "{path}: customer {} appears on two lines",
                echo(&customer.to_string())
            )
        }
        e => format!("{path}: profiling with --attributes {attributes_path}: {e}"),
    })?;
    if profile.attributes_without_behaviour > 0 {
        eprintln!(
            "clv: note: {} customer(s) of {attributes_path} are not in {path} and are left out",
            profile.attributes_without_behaviour
        );
    }
    let mut json = serde_json::to_value(&profile).map_err(|e| format!("cannot write JSON: {e}"))?;
    if let Some(object) = json.as_object_mut() {
        object.insert(
            "settings".into(),
            json!({
                "summary": path,
                "attributes": attributes_path,
                "segments": flags.get("segments"),
                "model": name,
                "spend_model": spend_name,
                "unit_days": unit.days(),
                "margin": margin,
                "discount": rate,
            }),
        );
    }
    output.write_json(&json)
}

/// Reads an attribute file (CSV with the `--delimiter` given, or Parquet or Arrow IPC by
/// extension) with the tool's attribute reader: first column the customer id, every other column
/// an attribute.
fn read_attributes(path: &str, delimiter: Option<&str>) -> Result<AttributeTable, String> {
    let input = Input::new(path, None)
        .map_err(|e| format!("--attributes: {e}"))?
        .with_csv_options(delimiter, [None; 3], None)?;
    crate::attributes::read_attributes(&input, None).map_err(|e| format!("--attributes: {e}"))
}

/// Reads `customer_id,segment` (as `clv segment` writes it; other columns ignored).
fn read_segments(path: &str, delimiter: Option<&str>) -> Result<CustomerGroups, String> {
    let input = Input::new(path, None)
        .map_err(|e| format!("--segments: {e}"))?
        .with_csv_options(delimiter, [None; 3], None)?;
    let path = input.path.as_str();
    let bytes = input.csv_bytes().map_err(|e| format!("--segments: {e}"))?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["customer_id", "segment"])?;
    let (id_col, segment_col) = (header.cols[0], header.cols[1]);
    let mut groups = CustomerGroups::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let here = |c: usize| at(path, line, &header.names[c]);
        let id = text_field(&header, &record, line, id_col)?;
        let id = CustomerId::new(id).map_err(|e| format!("{}: {e}", here(id_col)))?;
        let label = text_field(&header, &record, line, segment_col)?;
        if label.is_empty() {
            return Err(format!("{}: the segment is empty", here(segment_col)));
        }
        if label.chars().count() > 200 || label.chars().any(char::is_control) {
            return Err(format!(
                "{}: segment {} is not usable (at most 200 characters, no control characters)",
                here(segment_col),
                echo(label)
            ));
        }
        groups
            .assign(id, label)
            .map_err(|e| format!("{}: {e}", line_place(path, line)))?;
    }
    if groups.customers() == 0 {
        return Err(no_rows(path, "customers"));
    }
    Ok(groups)
}
