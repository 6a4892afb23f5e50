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
    parse_date_bytes(text.as_bytes())
        .ok_or_else(|| format!("{text:?} is not a date of the form YYYY-MM-DD"))
}

/// Parses `YYYY-MM-DD` from bytes; `None` when it is not such a date.
pub fn parse_date_bytes(b: &[u8]) -> Option<NaiveDate> {
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        match (digits(0..4), digits(5..7), digits(8..10)) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
            _ => None,
        }
    } else {
        None
    }
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
    each: impl FnMut(Transaction) -> Result<(), String>,
) -> Result<(), String> {
    let log = TransactionLog::open(path)?;
    log.read(log.body(), 0, each)
}

/// A transaction log read into memory, with the positions of its columns, so that it can be
/// parsed in parts (one per thread) that are later merged.
pub struct TransactionLog {
    path: String,
    bytes: Vec<u8>,
    body_start: usize,
    cols: Vec<usize>,
    fields: usize,
}

impl TransactionLog {
    /// Reads the file and its header.
    pub fn open(path: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot open {path}: {e}"))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes.as_slice());
        let headers = reader
            .headers()
            .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
            .clone();
        let cols = columns(path, &headers, &["customer_id", "date", "amount"])?;
        let body_start = headers
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(0)
            .max(
                bytes
                    .iter()
                    .position(|&b| b == b'\n')
                    .map(|i| i + 1)
                    .unwrap_or(bytes.len()),
            );
        Ok(TransactionLog {
            path: path.to_string(),
            bytes,
            body_start,
            cols,
            fields: headers.len(),
        })
    }

    /// The rows after the header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body_start..]
    }

    /// Splits the rows into up to `parts` pieces at line ends, each with its byte offset in the
    /// body. A file with quotes is one piece: a quoted field could hold a line end.
    pub fn split(&self, parts: usize) -> Vec<(&[u8], usize)> {
        let body = self.body();
        if parts <= 1 || body.contains(&b'"') {
            return vec![(body, 0)];
        }
        let mut pieces = Vec::with_capacity(parts);
        let mut start = 0usize;
        for k in 1..parts {
            let target = (body.len() * k / parts).max(start);
            let Some(cut) = body[target..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|i| target + i + 1)
            else {
                break;
            };
            pieces.push((&body[start..cut], start));
            start = cut;
        }
        pieces.push((&body[start..], start));
        pieces
    }

    /// Parses `rows` (a piece of [`body`](Self::body) starting at byte `offset` of the body) and
    /// calls `each` for every transaction.
    pub fn read(
        &self,
        rows: &[u8],
        offset: usize,
        each: impl FnMut(Transaction) -> Result<(), String>,
    ) -> Result<(), String> {
        // Rows without quotes or carriage returns are split at commas and line ends directly;
        // anything else goes through the csv crate.
        if rows.contains(&b'"') || rows.contains(&b'\r') {
            self.read_csv(rows, offset, each)
        } else {
            self.read_plain(rows, offset, each)
        }
    }

    /// Number of lines before byte `offset` of the body, the header included (for messages).
    fn lines_before(&self, offset: usize) -> u64 {
        let body = self.body();
        1 + body[..offset.min(body.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
    }

    fn read_plain(
        &self,
        rows: &[u8],
        offset: usize,
        mut each: impl FnMut(Transaction) -> Result<(), String>,
    ) -> Result<(), String> {
        let (id_col, date_col, amount_col) = (self.cols[0], self.cols[1], self.cols[2]);
        let mut line_in_piece = 0u64;
        let mut pos = 0usize;
        // One pass over the bytes: each row's fields end at a comma, the row at a line end.
        while pos < rows.len() {
            line_in_piece += 1;
            let line_name = || {
                format!(
                    "{}: line {}",
                    self.path,
                    self.lines_before(offset) + line_in_piece
                )
            };
            let (mut id, mut date, mut amount): (&[u8], &[u8], &[u8]) = (&[], &[], &[]);
            let mut fields = 0usize;
            let row_start = pos;
            let row_end = loop {
                let rest = &rows[pos..];
                let len = rest
                    .iter()
                    .position(|&b| b == b',' || b == b'\n')
                    .unwrap_or(rest.len());
                let field = &rest[..len];
                if fields == id_col {
                    id = field;
                }
                if fields == date_col {
                    date = field;
                }
                if fields == amount_col {
                    amount = field;
                }
                fields += 1;
                pos += len + 1;
                if rest.get(len) != Some(&b',') {
                    break pos - 1;
                }
            };
            if row_end == row_start {
                continue; // an empty line
            }
            if fields != self.fields {
                return Err(format!(
                    "{}: found a record with {fields} fields, but the header has {}",
                    line_name(),
                    self.fields
                ));
            }
            each(transaction(id, date, amount, line_name)?)?;
        }
        Ok(())
    }

    fn read_csv(
        &self,
        rows: &[u8],
        offset: usize,
        mut each: impl FnMut(Transaction) -> Result<(), String>,
    ) -> Result<(), String> {
        let path = &self.path;
        let cols = &self.cols;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(rows);
        let mut record = csv::ByteRecord::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(format!("{path}: {e}")),
            }
            // Line numbers count the header (line 1) and the body lines before this piece.
            let line_name = || {
                let line = record
                    .position()
                    .map(|p| p.line() + self.lines_before(offset))
                    .unwrap_or(0);
                format!("{path}: line {line}")
            };
            let field = |i: usize| record.get(cols[i]);
            let (Some(id), Some(date), Some(amount)) = (field(0), field(1), field(2)) else {
                return Err(format!("{}: missing field", line_name()));
            };
            each(transaction(id, date, amount, line_name)?)?;
        }
    }
}

/// One row's transaction from its raw fields; `line` names the row in error messages (it is
/// only formatted on error: formatting per row would dominate).
fn transaction(
    id: &[u8],
    date: &[u8],
    amount: &[u8],
    line: impl Fn() -> String,
) -> Result<Transaction, String> {
    let text =
        |bytes| std::str::from_utf8(bytes).map_err(|_| format!("{}: field is not UTF-8", line()));
    let id = match integer_id(id) {
        Some(n) => CustomerId::from(n),
        None => CustomerId::new(text(id)?).map_err(|e| format!("{}: {e}", line()))?,
    };
    let date = match parse_date_bytes(date) {
        Some(d) => d,
        None => parse_date(text(date)?.trim()).map_err(|e| format!("{}: {e}", line()))?,
    };
    let amount = match plain_amount(amount) {
        Some(a) => a,
        None => {
            let text = text(amount)?;
            match text.parse::<rust_decimal::Decimal>() {
                Ok(a) => a,
                Err(_) => Transaction::parse_amount(text, &line()).map_err(|e| e.to_string())?,
            }
        }
    };
    Transaction::purchase(id, date, amount).map_err(|e| format!("{}: {e}", line()))
}

/// The fast path for plain amounts (`123` or `123.45`, at most 17 digits): the same decimal,
/// mantissa and scale, as `Decimal::from_str` gives.
fn plain_amount(b: &[u8]) -> Option<rust_decimal::Decimal> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut mantissa = 0i64;
    let mut scale = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + i64::from(c - b'0'),
            b'.' if scale.is_none() && i > 0 && i + 1 < b.len() => scale = Some(b.len() - 1 - i),
            _ => return None,
        }
    }
    rust_decimal::Decimal::try_new(mantissa, scale.unwrap_or(0) as u32).ok()
}

/// The fast path for canonical integer ids (`CustomerId::new` gives the same id, more slowly).
fn integer_id(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 19 || (bytes.len() > 1 && bytes[0] == b'0') {
        return None;
    }
    bytes.iter().try_fold(0u64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u64::from(c - b'0'))
    })
}

/// A buffered stdout writer.
pub fn stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Flushes output, turning a broken pipe into an error message.
pub fn finish(mut out: impl Write) -> Result<(), String> {
    out.flush().map_err(|e| format!("cannot write output: {e}"))
}
