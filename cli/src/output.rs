//! Where and how a subcommand writes its result: `--output FILE` (default standard output) and
//! `--format csv|json|ndjson|parquet` for tables; JSON for the subcommands that report a
//! document (`fit`, `kpi`, `report`, `validate`).
//!
//! A table is written by one function per format, so every subcommand's table reads the same
//! way: CSV through `csv::Writer` (fields quoted when they need it), floats in their shortest
//! round-trip form (`1.689e-200`, never two hundred digits), money as its decimal, dates as
//! `YYYY-MM-DD`, an absent value as an empty field (CSV) or `null` (JSON); Parquet with typed
//! columns (money as `Decimal128`).

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{echo, write_error};

/// The formats of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Comma-separated text with a header row (the default).
    Csv,
    /// One JSON array of objects, one object per row.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Apache Parquet.
    Parquet,
}

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// A real number (finite).
    Float(f64),
    /// Money.
    Money(Decimal),
    /// A day.
    Date(NaiveDate),
    /// No value.
    Null,
}

/// A table: its column names, and its rows (as many cells as names each).
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The column names.
    pub names: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(names: &[&str]) -> Table {
        Table {
            names: names.iter().map(|n| n.to_string()).collect(),
            rows: Vec::new(),
        }
    }
}

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct Output {
    /// The format.
    pub format: OutputFormat,
    /// The file, or standard output.
    pub path: Option<String>,
}

impl Output {
    /// The output `--format` and `--output` ask for; `table` says whether the subcommand writes
    /// a table (else only JSON is a format it has).
    pub fn new(format: Option<&str>, path: Option<&str>, table: bool) -> Result<Output, String> {
        let format = match (format, table) {
            (None, true) | (Some("csv"), true) => OutputFormat::Csv,
            (None, false) | (Some("json"), _) => OutputFormat::Json,
            (Some("ndjson"), true) => OutputFormat::Ndjson,
            (Some("parquet"), true) => OutputFormat::Parquet,
            (Some(other), true) => {
                return Err(format!(
                    "--format: {} is not one of csv, json, ndjson, parquet",
                    echo(other)
                ))
            }
            (Some(other), false) => {
                return Err(format!(
                    "--format: {} is not json, the one format of this subcommand's report",
                    echo(other)
                ))
            }
        };
        if let Some(p) = path {
            if p.trim().is_empty() {
                return Err("--output: the path is empty".to_string());
            }
        }
        Ok(Output {
            format,
            path: path.filter(|p| *p != "-").map(str::to_string),
        })
    }

    /// Whether the output is CSV (the subcommands that have a faster CSV writer of their own
    /// use it then).
    pub fn is_csv(&self) -> bool {
        self.format == OutputFormat::Csv
    }

    /// A writer to the file or standard output; the file is created (or truncated) now.
    pub fn writer(&self) -> Result<Box<dyn Write + Send>, String> {
        match &self.path {
            Some(path) => {
                let file = File::create(path)
                    .map_err(|e| format!("--output: cannot create {path}: {e}"))?;
                Ok(Box::new(BufWriter::with_capacity(1 << 16, file)))
            }
            None => Ok(Box::new(BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            ))),
        }
    }

    /// Writes a JSON document (pretty-printed).
    pub fn write_json(&self, value: &Value) -> Result<(), String> {
        let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
        let mut out = self.writer()?;
        out.write_all(text.as_bytes()).map_err(write_error)?;
        out.write_all(b"\n").map_err(write_error)?;
        out.flush().map_err(write_error)
    }

    /// Writes `table` in the output's format.
    pub fn write_table(&self, table: &Table) -> Result<(), String> {
        crate::progress::stage(format!("writing {} rows", table.rows.len()));
        if self.format == OutputFormat::Parquet
            && self.path.is_none()
            && std::io::stdout().is_terminal()
        {
            return Err(
                "--format parquet: binary output to a terminal; give --output FILE or redirect \
                 standard output"
                    .to_string(),
            );
        }
        let mut out = self.writer()?;
        match self.format {
            OutputFormat::Csv => write_csv(&mut out, table)?,
            OutputFormat::Json => {
                out.write_all(b"[").map_err(write_error)?;
                for (k, row) in table.rows.iter().enumerate() {
                    let sep: &[u8] = if k == 0 { b"\n" } else { b",\n" };
                    out.write_all(sep).map_err(write_error)?;
                    write_object(&mut out, &table.names, row)?;
                }
                out.write_all(b"\n]\n").map_err(write_error)?;
            }
            OutputFormat::Ndjson => {
                for row in &table.rows {
                    write_object(&mut out, &table.names, row)?;
                    out.write_all(b"\n").map_err(write_error)?;
                }
            }
            OutputFormat::Parquet => {
                let batch = record_batch(table)?;
                let mut writer =
                    parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None)
                        .map_err(|e| format!("cannot write Parquet: {e}"))?;
                writer
                    .write(&batch)
                    .and_then(|()| writer.close().map(|_| ()))
                    .map_err(|e| match e {
                        parquet::errors::ParquetError::External(inner) => {
                            match inner.downcast::<std::io::Error>() {
                                Ok(io) => write_error(*io),
                                Err(other) => format!("cannot write Parquet: {other}"),
                            }
                        }
                        other => format!("cannot write Parquet: {other}"),
                    })?;
            }
        }
        out.flush().map_err(write_error)
    }
}

/// A float in its shortest round-trip form (`0.1`, `1.0`, `1.689e-200`).
pub fn float_text(x: f64) -> String {
    ryu::Buffer::new().format(x).to_string()
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(x) => float_text(*x),
        Cell::Money(d) => d.normalize().to_string(),
        Cell::Date(d) => d.to_string(),
        Cell::Null => String::new(),
    }
}

fn write_csv(out: &mut dyn Write, table: &Table) -> Result<(), String> {
    let mut writer = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out);
    let csv_error = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => write_error(io),
        other => format!("cannot write CSV: {other:?}"),
    };
    writer.write_record(&table.names).map_err(csv_error)?;
    for row in &table.rows {
        writer
            .write_record(row.iter().map(cell_text))
            .map_err(csv_error)?;
    }
    writer.flush().map_err(write_error)
}

fn json_value(cell: &Cell) -> Value {
    match cell {
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Int(n) => Value::from(*n),
        Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        // Money as a JSON number of its decimal text (JSON readers take numbers as doubles).
        Cell::Money(d) => d
            .normalize()
            .to_string()
            .parse::<serde_json::Number>()
            .map_or_else(|_| Value::String(d.to_string()), Value::Number),
        Cell::Date(d) => Value::String(d.to_string()),
        Cell::Null => Value::Null,
    }
}

/// One row as a JSON object, its fields in column order.
fn write_object(out: &mut dyn Write, names: &[String], row: &[Cell]) -> Result<(), String> {
    let mut text = String::from("{");
    for (k, (name, cell)) in names.iter().zip(row).enumerate() {
        if k > 0 {
            text.push(',');
        }
        text.push_str(&Value::String(name.clone()).to_string());
        text.push(':');
        text.push_str(&json_value(cell).to_string());
    }
    text.push('}');
    out.write_all(text.as_bytes()).map_err(write_error)
}

/// The table as one record batch: each column typed by its cells (text, Int64, Float64,
/// Decimal128 at the largest scale of the column's amounts, Date32), nulls where a cell is
/// absent; a column of nothing but nulls is text.
fn record_batch(table: &Table) -> Result<RecordBatch, String> {
    let column = |k: usize| {
        table
            .rows
            .iter()
            .map(move |r| r.get(k).unwrap_or(&Cell::Null))
    };
    let mut columns: Vec<(String, ArrayRef)> = Vec::with_capacity(table.names.len());
    for (k, name) in table.names.iter().enumerate() {
        // The column's type is its cells' one type; cells of several types make a text column.
        let kind = |c: &Cell| std::mem::discriminant(c);
        let mut present = column(k).filter(|c| **c != Cell::Null);
        let first = present.next();
        let first = match first {
            Some(f) if present.all(|c| kind(c) == kind(f)) => Some(f),
            Some(_) => Some(&Cell::Null),
            None => None,
        };
        let array: ArrayRef = match first {
            Some(Cell::Int(_)) => Arc::new(Int64Array::from_iter(column(k).map(|c| match c {
                Cell::Int(n) => Some(*n),
                _ => None,
            }))),
            Some(Cell::Float(_)) => Arc::new(Float64Array::from_iter(column(k).map(|c| match c {
                Cell::Float(x) => Some(*x),
                _ => None,
            }))),
            Some(Cell::Money(_)) => {
                let scale = column(k)
                    .filter_map(|c| match c {
                        Cell::Money(d) => Some(d.normalize().scale()),
                        _ => None,
                    })
                    .max()
                    .unwrap_or(0)
                    .min(28);
                let units = column(k).map(|c| match c {
                    Cell::Money(d) => {
                        let mut d = d.normalize();
                        d.rescale(scale);
                        Some(d.mantissa())
                    }
                    _ => None,
                });
                Arc::new(
                    Decimal128Array::from_iter(units)
                        .with_precision_and_scale(38, scale as i8)
                        .map_err(|e| format!("cannot write column {name}: {e}"))?,
                )
            }
            Some(Cell::Date(_)) => Arc::new(Date32Array::from_iter(column(k).map(|c| match c {
                Cell::Date(d) => Some(
                    (*d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
                        as i32,
                ),
                _ => None,
            }))),
            _ => Arc::new(StringArray::from_iter(column(k).map(|c| match c {
                Cell::Null => None,
                other => Some(cell_text(other)),
            }))),
        };
        columns.push((name.clone(), array));
    }
    RecordBatch::try_from_iter(columns).map_err(|e| format!("cannot build the table: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&["customer_id", "p", "spend", "since", "note"]);
        t.rows.push(vec![
            Cell::Text("a,\"b\"".into()),
            Cell::Float(1.689e-200),
            Cell::Money(Decimal::new(1250, 2)),
            Cell::Date(NaiveDate::from_ymd_opt(2024, 3, 1).unwrap()),
            Cell::Null,
        ]);
        t.rows.push(vec![
            Cell::Text("7".into()),
            Cell::Float(0.5),
            Cell::Money(Decimal::new(3, 0)),
            Cell::Null,
            Cell::Int(4),
        ]);
        t
    }

    #[test]
    fn csv_quotes_what_needs_it_and_floats_are_short() {
        let mut out = Vec::new();
        write_csv(&mut out, &sample()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "customer_id,p,spend,since,note\n\"a,\"\"b\"\"\",1.689e-200,12.5,2024-03-01,\n7,0.5,3,,4\n"
        );
    }

    #[test]
    fn json_rows_and_parquet_columns_are_typed() {
        let t = sample();
        let mut out = Vec::new();
        write_object(&mut out, &t.names, &t.rows[0]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"customer_id":"a,\"b\"","p":1.689e-200,"spend":12.5,"since":"2024-03-01","note":null}"#
        );
        let batch = record_batch(&t).unwrap();
        let types: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().to_string())
            .collect();
        assert_eq!(
            types,
            ["Utf8", "Float64", "Decimal128(38, 1)", "Date32", "Int64"]
        );
        assert_eq!(batch.num_rows(), 2);
        assert!(Output::new(Some("xlsx"), None, true).is_err());
        assert!(Output::new(Some("csv"), None, false).is_err());
        assert_eq!(
            Output::new(None, None, false).unwrap().format,
            OutputFormat::Json
        );
    }
}
