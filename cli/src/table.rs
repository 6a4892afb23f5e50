//! Table files a subcommand reads: CSV, Parquet or Arrow IPC, chosen by the file's extension
//! or by `--input-format`.
//!
//! Parquet and Arrow IPC files are read whole into record batches. A transaction log becomes
//! transactions through the library's Arrow reader (`TransactionColumns::transactions`), with its
//! types and checks; any other table (a summary, survival counts) is written out as CSV text in
//! memory and read by the CSV code, so every subcommand reads every format the same way. Rows of
//! such files are named `row N` (from 1, the first data row), not `line N`.
//!
//! A table comes from a file or, for the path `-`, from standard input (named `<stdin>` in
//! messages); gzip-compressed data (by its magic bytes, whatever the name) is decompressed first.
//! CSV takes a `--delimiter` of one byte; a log's columns are named by `--customer-col`,
//! `--date-col` and `--amount-col`.

use std::fs::File;
use std::io::Read;

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use chrono::{FixedOffset, Offset};
use customer_assets::arrow::{ArrowInputError, TimeZoneRule, TransactionColumns};
use customer_assets::{
    Grain, Ledger, LedgerOptions, ReturnPolicy, SummaryAccumulator, Transaction,
};

use crate::common::{check_csv_bytes, echo, mark_row_numbered, no_rows, DayRule};

/// How standard input is named in messages (the path `-` on the command line).
pub const STDIN: &str = "<stdin>";

/// The format of a table file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Comma-separated text with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC, the file format (Feather v2) or the stream format.
    ArrowIpc,
}

impl InputFormat {
    /// The names `--input-format` accepts, for messages.
    pub const NAMES: &'static str = "csv, parquet, arrow";

    /// The format `--input-format` names.
    pub fn named(name: &str) -> Result<InputFormat, String> {
        match name {
            "csv" => Ok(InputFormat::Csv),
            "parquet" => Ok(InputFormat::Parquet),
            "arrow" | "ipc" | "feather" => Ok(InputFormat::ArrowIpc),
            other => Err(format!(
                "--input-format: {} is not one of {}",
                echo(other),
                Self::NAMES
            )),
        }
    }

    /// The format of a file by its extension: `.parquet`/`.pq` Parquet, `.arrow`/`.arrows`/
    /// `.ipc`/`.feather` Arrow IPC, anything else CSV.
    pub fn of_path(path: &str) -> InputFormat {
        // A compressed file's format is its name's without `.gz`.
        let path = path.strip_suffix(".gz").unwrap_or(path);
        let extension = std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("parquet" | "pq") => InputFormat::Parquet,
            Some("arrow" | "arrows" | "ipc" | "feather") => InputFormat::ArrowIpc,
            _ => InputFormat::Csv,
        }
    }
}

/// A table file to read, and its format.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path, as given (and as named in messages).
    pub path: String,
    /// Its format.
    pub format: InputFormat,
    /// How zoned timestamps of a Parquet or Arrow IPC log are read as days (`--time-zone`).
    pub time_zone: Option<TimeZoneRule>,
    /// The CSV field delimiter (`--delimiter`, default `,`).
    pub delimiter: u8,
    /// A log's customer, date and amount columns (`--customer-col`, `--date-col`,
    /// `--amount-col`).
    pub columns: [String; 3],
    /// The `--date-format` of a CSV log's dates, if given.
    pub date_format: Option<String>,
}

impl Input {
    /// The file at `path`, in the format `format` names, or else the one its extension implies.
    pub fn new(path: &str, format: Option<&str>) -> Result<Input, String> {
        let format = match format {
            Some(name) => InputFormat::named(name)?,
            None => InputFormat::of_path(path),
        };
        Ok(Input {
            path: if path == "-" { STDIN } else { path }.to_string(),
            format,
            time_zone: None,
            delimiter: b',',
            columns: ["customer_id", "date", "amount"].map(String::from),
            date_format: None,
        })
    }

    /// The input with the CSV options given: a one-byte `--delimiter` (`\t` for a tab), the log
    /// columns, and a `--date-format`.
    pub fn with_csv_options(
        mut self,
        delimiter: Option<&str>,
        columns: [Option<&str>; 3],
        date_format: Option<&str>,
    ) -> Result<Input, String> {
        if let Some(d) = delimiter {
            self.delimiter = match d {
                "\\t" | "\t" | "tab" => b'\t',
                d if d.len() == 1 && d != "\"" && d != "\n" && d != "\r" => d.as_bytes()[0],
                other => {
                    return Err(format!(
                        "--delimiter: {} is not one character (a tab is \\t)",
                        echo(other)
                    ))
                }
            };
        }
        for (flag, (slot, name)) in ["--customer-col", "--date-col", "--amount-col"]
            .iter()
            .zip(self.columns.iter_mut().zip(columns))
        {
            if let Some(name) = name {
                if name.trim().is_empty() {
                    return Err(format!("{flag}: a column name cannot be empty"));
                }
                *slot = name.to_string();
            }
        }
        if let Some(format) = date_format {
            if format.trim().is_empty() {
                return Err("--date-format: the format is empty".to_string());
            }
            self.date_format = Some(format.to_string());
        }
        Ok(self)
    }

    /// A log's customer, date and amount column names.
    pub fn log_column_names(&self) -> [&str; 3] {
        [&self.columns[0], &self.columns[1], &self.columns[2]].map(String::as_str)
    }

    /// The delimiter of the CSV text [`csv_bytes`](Self::csv_bytes) gives: the file's, or a
    /// comma for a Parquet or Arrow IPC file written out as text.
    pub fn csv_delimiter(&self) -> u8 {
        if self.is_csv() {
            self.delimiter
        } else {
            b','
        }
    }

    /// A CSV reader with a header row over text [`csv_bytes`](Self::csv_bytes) gave.
    pub fn csv_reader<'b>(&self, bytes: &'b [u8]) -> csv::Reader<&'b [u8]> {
        crate::common::csv_reader(bytes, self.csv_delimiter())
    }

    /// How a CSV log's date fields become days.
    pub fn day_rule(&self) -> DayRule {
        DayRule {
            format: self.date_format.clone(),
            zone: self.time_zone.map(|rule| match rule {
                TimeZoneRule::Utc => chrono::Utc.fix(),
                TimeZoneRule::Offset(offset) => offset,
            }),
        }
    }

    /// Whether the data comes from standard input or is gzip-compressed: then it is read into
    /// memory whole, else a Parquet or IPC file is read from the file.
    fn in_memory(&self) -> Result<bool, String> {
        if self.path == STDIN {
            return Ok(true);
        }
        let mut magic = [0u8; 2];
        let mut file =
            File::open(&self.path).map_err(|e| format!("cannot open {}: {e}", self.path))?;
        let n = file.read(&mut magic).unwrap_or(0);
        Ok(n == 2 && magic == [0x1f, 0x8b])
    }

    /// The data, from the file or standard input, decompressed when it is gzip.
    pub fn bytes(&self) -> Result<Vec<u8>, String> {
        let path = &self.path;
        crate::progress::stage(format!("reading {path}"));
        let mut raw = Vec::new();
        if *path == STDIN {
            std::io::stdin()
                .lock()
                .read_to_end(&mut raw)
                .map_err(|e| format!("{path}: cannot read: {e}"))?;
        } else {
            raw = std::fs::read(path).map_err(|e| format!("cannot open {path}: {e}"))?;
        }
        if !raw.starts_with(&[0x1f, 0x8b]) {
            return Ok(raw);
        }
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| format!("{path}: not a readable gzip file: {e}"))?;
        Ok(out)
    }

    /// The input with zoned timestamps read at `--time-zone`'s value: `utc`, or an offset from
    /// UTC as `+HH:MM` or `-HH:MM`.
    pub fn with_time_zone(mut self, zone: Option<&str>) -> Result<Input, String> {
        let Some(zone) = zone else {
            return Ok(self);
        };
        let rule = if zone.eq_ignore_ascii_case("utc") {
            TimeZoneRule::Utc
        } else {
            let offset = parse_offset(zone).ok_or_else(|| {
                format!(
                    "--time-zone: {} is not utc nor an offset like +05:30 or -08:00",
                    echo(zone)
                )
            })?;
            TimeZoneRule::Offset(offset)
        };
        self.time_zone = Some(rule);
        Ok(self)
    }

    /// Whether the file is CSV.
    pub fn is_csv(&self) -> bool {
        self.format == InputFormat::Csv
    }

    /// The file's record batches (a Parquet or Arrow IPC file).
    pub fn batches(&self) -> Result<Vec<RecordBatch>, String> {
        let path = &self.path;
        let cannot = |e: &dyn std::fmt::Display| format!("{path}: cannot read the file: {e}");
        // The file has rows, not lines: every message about it names them so.
        mark_row_numbered(path);
        crate::progress::stage(format!("reading {path}"));
        let in_memory = self.in_memory()?;
        match self.format {
            InputFormat::Parquet => {
                use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
                let not = |e: parquet::errors::ParquetError| {
                    format!("{path}: not a readable Parquet file: {e}")
                };
                let reader = if in_memory {
                    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(self.bytes()?))
                        .and_then(|b| b.build())
                        .map_err(not)?
                } else {
                    let file = File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
                    ParquetRecordBatchReaderBuilder::try_new(file)
                        .and_then(|b| b.build())
                        .map_err(not)?
                };
                reader
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| cannot(&e))
            }
            InputFormat::ArrowIpc => {
                let data = if in_memory {
                    self.bytes()?
                } else {
                    std::fs::read(path).map_err(|e| format!("cannot open {path}: {e}"))?
                };
                // The file format starts with its magic bytes; anything else is read as a stream.
                if data.starts_with(b"ARROW1") {
                    arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(data), None)
                        .map_err(|e| format!("{path}: not a readable Arrow IPC file: {e}"))?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| cannot(&e))
                } else {
                    arrow_ipc::reader::StreamReader::try_new(data.as_slice(), None)
                        .map_err(|e| format!("{path}: not a readable Arrow IPC stream: {e}"))?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| cannot(&e))
                }
            }
            InputFormat::Csv => Err(format!("{path}: a CSV file has no record batches")),
        }
    }

    /// The file as CSV text with a header row: a CSV file as `check_csv_bytes` checks it; a
    /// Parquet or Arrow IPC file written out (dates `YYYY-MM-DD`, decimals as written, nulls as
    /// empty fields), its rows then named `row N` in messages.
    pub fn csv_bytes(&self) -> Result<Vec<u8>, String> {
        if self.is_csv() {
            return check_csv_bytes(&self.path, self.bytes()?);
        }
        let batches = self.batches()?;
        let mut writer = arrow_csv::WriterBuilder::new()
            .with_header(true)
            .build(Vec::new());
        for batch in &batches {
            writer
                .write(batch)
                .map_err(|e| format!("{}: cannot read the table as text: {e}", self.path))?;
        }
        let mut bytes = writer.into_inner();
        if batches.is_empty() {
            // No batch, no header: name the file as empty, as for CSV.
            bytes.clear();
        }
        if bytes.is_empty() {
            return Err(format!(
                "{}: the file holds no table (expected columns, then rows)",
                self.path
            ));
        }
        Ok(bytes)
    }

    /// The accumulator of a Parquet or Arrow IPC log (its batches read on all cores by the
    /// library), with the optional `kind` column; `None` for a CSV file.
    pub fn summary_accumulator(
        &self,
        grain: Grain,
        returns: ReturnPolicy,
    ) -> Result<Option<SummaryAccumulator>, String> {
        if self.is_csv() {
            return Ok(None);
        }
        let batches = self.batches()?;
        let columns = self.log_columns(&batches, true);
        SummaryAccumulator::from_batches(grain, returns, batches, &columns)
            .map(Some)
            .map_err(|e| self.log_error(e.with_row_offset(1)))
    }

    /// The columns of a log: `customer_id`, `date`, `amount`, and with `kinds` the `kind` column
    /// when there is one; zoned timestamps read at `--time-zone`.
    fn log_columns(&self, batches: &[RecordBatch], kinds: bool) -> TransactionColumns {
        let [customer, date, amount] = self.log_column_names();
        let mut columns = TransactionColumns::new()
            .customer(customer)
            .date(date)
            .amount(amount);
        if let Some(rule) = self.time_zone {
            columns = columns.time_zone(rule);
        }
        let has_kind = batches
            .first()
            .is_some_and(|b| b.schema().column_with_name("kind").is_some());
        if kinds && has_kind {
            columns = columns.kind("kind");
        }
        columns
    }

    /// A message for the library's error reading the log (its rows already counted from 1).
    fn log_error(&self, e: ArrowInputError) -> String {
        let hint = match e {
            ArrowInputError::ZonedWithoutRule { .. } => {
                " (give --time-zone utc, or the offset of the days, like +05:30)"
            }
            _ => "",
        };
        format!("{}: {e}{hint}", self.path)
    }

    /// The log in a ledger (purchases only; a ledger error names the row), and its first day.
    pub fn ledger(&self) -> Result<(Ledger, NaiveDate), String> {
        self.ledger_reading(false)
    }

    /// [`ledger`](Self::ledger) with the transactions' categories and SKUs from the optional
    /// `category` and `sku` columns of a CSV log (an empty cell is none).
    pub fn ledger_with_products(&self) -> Result<(Ledger, NaiveDate), String> {
        self.ledger_reading(true)
    }

    fn ledger_reading(&self, products: bool) -> Result<(Ledger, NaiveDate), String> {
        let mut ledger = Ledger::new(LedgerOptions::default());
        let mut first: Option<NaiveDate> = None;
        let add = |t: Transaction| {
            first = Some(first.map_or(t.date(), |f| f.min(t.date())));
            ledger
                .add_transaction(t)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if products && self.is_csv() {
            crate::common::for_each_transaction_with(self, false, true, add)?;
        } else {
            self.for_each_transaction(false, add)?;
        }
        let first = first.ok_or_else(|| no_rows(&self.path, "transactions"))?;
        Ok((ledger, first))
    }

    /// Calls `each` for every transaction of a log with at least `customer_id,date,amount`
    /// (other columns ignored; with `kinds`, an optional `kind` column of `purchase` or `return`)
    /// in file order. A Parquet or Arrow IPC log is read by the library's Arrow reader (ids as
    /// integers or text, dates as `Date32`, `Date64` or naive timestamps, amounts as decimals,
    /// floats or integers); an error names the column and the row (from 1). An error `each`
    /// returns is prefixed with the row.
    pub fn for_each_transaction(
        &self,
        kinds: bool,
        mut each: impl FnMut(Transaction) -> Result<(), String>,
    ) -> Result<(), String> {
        let path = &self.path;
        if self.is_csv() {
            return crate::common::for_each_transaction(self, kinds, each);
        }
        let batches = self.batches()?;
        let columns = self.log_columns(&batches, kinds);
        let mut before = 0u64;
        for batch in &batches {
            let transactions = columns
                .transactions(batch)
                .map_err(|e| self.log_error(e.with_row_offset(before + 1)))?;
            for (i, t) in transactions.into_iter().enumerate() {
                each(t).map_err(|e| format!("{path}: row {}: {e}", before + 1 + i as u64))?;
            }
            before += batch.num_rows() as u64;
        }
        if before == 0 {
            return Err(no_rows(path, "transactions"));
        }
        Ok(())
    }
}

/// An offset from UTC written `+HH:MM` or `-HH:MM` (hours up to 23).
fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_formats_are_read_strictly() {
        assert_eq!(parse_offset("+05:30"), FixedOffset::east_opt(19_800));
        assert_eq!(parse_offset("-08:00"), FixedOffset::east_opt(-28_800));
        for bad in [
            "05:30", "+5:30", "+24:00", "+05:60", "+0530", "", "+", "+aa:bb",
        ] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
        assert_eq!(InputFormat::of_path("a/b.PARQUET"), InputFormat::Parquet);
        assert_eq!(InputFormat::of_path("b.feather"), InputFormat::ArrowIpc);
        assert_eq!(InputFormat::of_path("b.csv.gz"), InputFormat::Csv);
        assert_eq!(InputFormat::of_path("parquet"), InputFormat::Csv);
        assert!(InputFormat::named("xlsx").is_err());
    }
}
