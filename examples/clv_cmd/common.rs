//! Helpers shared by the `clv` subcommands: flag parsing, CSV reading, output.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};

use chrono::NaiveDate;
use customer_assets::{CustomerId, TimeUnit, Transaction};

/// `--flag value` pairs, checked against the flags a subcommand accepts.
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` as `--flag value` pairs; `allowed` lists the flag names without dashes.
    pub fn parse(args: &[String], allowed: &[&str]) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!(
                    "unexpected argument {arg:?} (flags look like --name value)"
                ));
            };
            if !allowed.contains(&name) {
                let list: Vec<String> = allowed.iter().map(|a| format!("--{a}")).collect();
                return Err(format!(
                    "unknown flag --{name} (accepted: {})",
                    list.join(", ")
                ));
            }
            let Some(value) = it.next() else {
                return Err(format!("flag --{name} needs a value"));
            };
            if values.insert(name.to_string(), value.clone()).is_some() {
                return Err(format!("flag --{name} given twice"));
            }
        }
        Ok(Flags { values })
    }

    /// An optional flag's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// A required flag's value.
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("missing required flag --{name}"))
    }

    /// A required date flag.
    pub fn date(&self, name: &str) -> Result<NaiveDate, String> {
        parse_date(self.required(name)?).map_err(|e| format!("--{name}: {e}"))
    }

    /// An optional date flag.
    pub fn optional_date(&self, name: &str) -> Result<Option<NaiveDate>, String> {
        self.get(name)
            .map(|v| parse_date(v).map_err(|e| format!("--{name}: {e}")))
            .transpose()
    }

    /// An optional number flag.
    pub fn number(&self, name: &str) -> Result<Option<f64>, String> {
        self.get(name)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| format!("--{name}: {v:?} is not a finite number"))
            })
            .transpose()
    }

    /// The `--unit` flag: `days` or `weeks` (default `default`).
    pub fn unit(&self, default: TimeUnit) -> Result<TimeUnit, String> {
        match self.get("unit") {
            None => Ok(default),
            Some("days") => Ok(TimeUnit::DAYS),
            Some("weeks") => Ok(TimeUnit::WEEKS),
            Some(other) => Err(format!("--unit: {other:?} is not one of days, weeks")),
        }
    }
}

/// Parses `YYYY-MM-DD` quickly (large logs spend most of their time here).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let parsed = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        match (digits(0..4), digits(5..7), digits(8..10)) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
            _ => None,
        }
    } else {
        None
    };
    parsed.ok_or_else(|| format!("{text:?} is not a date of the form YYYY-MM-DD"))
}

/// Opens a CSV file with a header row.
pub fn csv_reader(path: &str) -> Result<csv::Reader<BufReader<File>>, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(BufReader::with_capacity(1 << 20, file)))
}

/// The positions of the named columns in a CSV header; a missing required column is an error.
pub fn columns(
    path: &str,
    headers: &csv::StringRecord,
    required: &[&str],
) -> Result<Vec<usize>, String> {
    required
        .iter()
        .map(|name| {
            headers
                .iter()
                .position(|h| h.trim() == *name)
                .ok_or_else(|| {
                    format!(
                        "{path}: header has no {name:?} column (found: {})",
                        headers.iter().collect::<Vec<_>>().join(",")
                    )
                })
        })
        .collect()
}

/// The position of an optional column.
pub fn optional_column(headers: &csv::StringRecord, name: &str) -> Option<usize> {
    headers.iter().position(|h| h.trim() == name)
}

/// Names a CSV row in error messages: file and line number.
pub fn line_of(path: &str, record: &csv::ByteRecord) -> String {
    match record.position() {
        Some(p) => format!("{path}: line {}", p.line()),
        None => path.to_string(),
    }
}

/// Reads a transaction log with at least `customer_id,date,amount` (other columns ignored),
/// calling `each` for every transaction in file order. A malformed row stops the read with an
/// error naming its line.
pub fn for_each_transaction(
    path: &str,
    mut each: impl FnMut(Transaction) -> Result<(), String>,
) -> Result<(), String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(path, &headers, &["customer_id", "date", "amount"])?;
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => return Err(format!("{path}: {e}")),
        }
        let field = |i: usize| -> Result<&str, String> {
            let bytes = record
                .get(cols[i])
                .ok_or_else(|| format!("{}: missing field", line_of(path, &record)))?;
            std::str::from_utf8(bytes)
                .map_err(|_| format!("{}: field is not UTF-8", line_of(path, &record)))
        };
        let line = || line_of(path, &record);
        let id = CustomerId::new(field(0)?).map_err(|e| format!("{}: {e}", line()))?;
        let date = parse_date(field(1)?.trim()).map_err(|e| format!("{}: {e}", line()))?;
        let amount = Transaction::parse_amount(field(2)?, &line()).map_err(|e| e.to_string())?;
        let t = Transaction::purchase(id, date, amount).map_err(|e| format!("{}: {e}", line()))?;
        each(t)?;
    }
}

/// A buffered stdout writer.
pub fn stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Flushes output, turning a broken pipe into an error message.
pub fn finish(mut out: impl Write) -> Result<(), String> {
    out.flush().map_err(|e| format!("cannot write output: {e}"))
}
