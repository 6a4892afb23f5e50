//! Helpers shared by the `clv` subcommands: flag parsing, CSV reading, output.
//!
//! Every error the tool prints says where it comes from: a flag (`--name: ...`), or a file, its
//! line and column (`FILE: line N, column NAME: ...`). Values echoed from the input are cut to
//! [`MAX_ECHO_CHARS`].

use std::collections::HashMap;
use std::io::{BufWriter, Write};

use chrono::NaiveDate;
use customer_assets::{CustomerId, TimeUnit, Transaction, TransactionKind};
use rust_decimal::Decimal;

use crate::output::Output;
use crate::table::Input;

/// At most this many characters of an input value are echoed in a message (then "…"): an
/// error must stay readable when a field holds a whole file.
pub const MAX_ECHO_CHARS: usize = 60;

/// The longest span, in days, between the first transaction of a log and a date flag (100
/// years). Reports sized by the span (KPI cohorts, weekly tracking) stay small below it, and no
/// customer base is followed longer.
pub const MAX_SPAN_DAYS: i64 = 36_525;

/// The longest `--horizon`, in the summary's time units: 100 years when the unit is a day,
/// more for coarser units. Beyond it the forecast integrals are meaningless.
pub const MAX_HORIZON: f64 = 36_525.0;

/// The smallest continuous `--discount` rate per time unit (0.0365% a year for a file in days).
/// Below it discounted sums run to the edge of the hypergeometric functions' domain.
pub const MIN_DISCOUNT: f64 = 1e-6;

/// The largest continuous `--discount` rate per time unit (e^10 ≈ 22,000-fold per unit): beyond
/// it nothing after the first instant counts.
pub const MAX_DISCOUNT: f64 = 10.0;

/// The longest `--period-days` (100 years).
pub const MAX_PERIOD_DAYS: u64 = 36_525;

/// The most periods `clv fit --model sbg|bdw --periods K` fits and projects, and the most
/// transaction opportunities (`n_periods`) of a BG/BB row: 10,000 periods (years, months or
/// weeks) are already far beyond any use, and the BG/BB likelihood sums over them.
pub const MAX_PERIODS: u64 = 10_000;

/// The largest `--penalty` (L2 weight on the log-parameters): larger ones only pin the
/// parameters at 1.
pub const MAX_PENALTY: f64 = 1e6;

/// The error text that stands for a closed output pipe (`clv ... | head`): `main` exits quietly
/// and successfully on it, as command-line tools do.
pub const BROKEN_PIPE: &str = "\u{0}broken pipe";

/// An input value quoted for a message, cut to [`MAX_ECHO_CHARS`] characters.
pub fn echo(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(MAX_ECHO_CHARS).collect();
    if chars.next().is_some() {
        format!("{:?}", format!("{head}…"))
    } else {
        format!("{head:?}")
    }
}

/// Raw bytes quoted for a message (invalid UTF-8 shown as �), cut like [`echo`].
pub fn echo_bytes(bytes: &[u8]) -> String {
    echo(&String::from_utf8_lossy(
        &bytes[..bytes.len().min(4 * MAX_ECHO_CHARS + 4)],
    ))
}

/// Cuts every line of a message to `max` characters: the last guard against a library message
/// that echoes a long input.
pub fn cut_lines(message: &str, max: usize) -> String {
    message
        .lines()
        .map(|line| {
            if line.chars().count() > max {
                let head: String = line.chars().take(max).collect();
                format!("{head}…")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The message for a failed write: [`BROKEN_PIPE`] when the reader went away.
pub fn write_error(e: std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        BROKEN_PIPE.to_string()
    } else {
        format!("cannot write output: {e}")
    }
}

/// A decimal number: optional sign, digits with an optional fraction, optional exponent
/// (`12`, `-0.5`, `.5`, `1e3`, `2.5E-2`). Not `inf`, `NaN`, `1_000`, hex or white space inside:
/// forms Rust's parsers accept in places but a user would not write as a number.
pub fn is_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let exp_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp_digits == 0 {
            return false;
        }
        i += exp_digits;
    }
    i == b.len()
}

/// A finite number written as [`is_decimal`] allows; the error says why not (no location).
pub fn parse_number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if !is_decimal(t) {
        return Err(format!(
            "{} is not a number (write digits, e.g. 12, 0.5 or 1e3)",
            echo(text)
        ));
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{} is too large for a finite number", echo(text)))
}

/// A whole number written in plain digits (no sign, no exponent, no separators).
pub fn parse_whole(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "{} is not a whole number (write plain digits, e.g. 12)",
            echo(text)
        ));
    }
    t.parse::<u64>()
        .map_err(|_| format!("{} is too large (at most {})", echo(text), u64::MAX))
}

/// A count that fits `u32`, in plain digits.
pub fn parse_count(text: &str) -> Result<u32, String> {
    let n = parse_whole(text)?;
    u32::try_from(n).map_err(|_| format!("{} is too large (at most {})", echo(text), u32::MAX))
}

/// A money amount: a decimal as [`is_decimal`] allows that fits a `Decimal`.
pub fn parse_money(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if !is_decimal(t) {
        return Err(format!(
            "{} is not a money amount (write digits, e.g. 12.50)",
            echo(text)
        ));
    }
    t.parse::<Decimal>()
        .or_else(|_| Decimal::from_scientific(t))
        .map_err(|_| format!("{} does not fit a decimal money amount", echo(text)))
}

/// `--flag value` pairs, checked against the flags a subcommand accepts.
pub struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    /// Parses `args` as `--flag value` pairs; `allowed` lists the flag names without dashes.
    pub fn parse(args: &[String], allowed: &[&str]) -> Result<Flags, String> {
        // A subcommand that reads a table reads it in any format.
        let mut allowed = allowed.to_vec();
        if allowed
            .iter()
            .any(|a| matches!(*a, "transactions" | "summary" | "survival"))
        {
            allowed.extend(["input-format", "time-zone", "delimiter", "format", "output"]);
        }
        // A subcommand that reads a log names its columns and dates.
        if allowed.contains(&"transactions") {
            allowed.extend(["customer-col", "date-col", "amount-col", "date-format"]);
        }
        let mut values = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!(
                    "unexpected argument {} (flags look like --name value)",
                    echo(arg)
                ));
            };
            if !allowed.contains(&name) {
                let list: Vec<String> = allowed.iter().map(|a| format!("--{a}")).collect();
                return Err(format!(
                    "unknown flag --{} (accepted: {})",
                    echo(name).trim_matches('"'),
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

    /// A required table flag (`--transactions`, `--summary`, `--survival`): the file (`-` for
    /// standard input), in the format `--input-format` names or its extension implies, its
    /// zoned timestamps read at `--time-zone`, with the CSV options given.
    pub fn input(&self, name: &str) -> Result<Input, String> {
        Input::new(self.required(name)?, self.get("input-format"))?
            .with_time_zone(self.get("time-zone"))?
            .with_csv_options(
                self.get("delimiter"),
                [
                    self.get("customer-col"),
                    self.get("date-col"),
                    self.get("amount-col"),
                ],
                self.get("date-format"),
            )
    }

    /// Where and how to write (`--format`, `--output`); `table` says whether the subcommand
    /// writes a table (else a JSON report).
    pub fn output(&self, table: bool) -> Result<Output, String> {
        Output::new(self.get("format"), self.get("output"), table)
    }

    /// The `--margin` on spend: above 0, up to 1 (default 1, revenue).
    pub fn margin(&self) -> Result<f64, String> {
        let margin = self
            .number_in("margin", 0.0, 1.0, "a share of spend")?
            .unwrap_or(1.0);
        if margin == 0.0 {
            return Err(
                "--margin: 0 values every customer at nothing; give a share of spend above 0"
                    .into(),
            );
        }
        Ok(margin)
    }

    /// The `--discount` rate, continuous per `unit` (default 10% a year in that unit).
    pub fn discount(&self, unit: TimeUnit) -> Result<f64, String> {
        Ok(self
            .number_in(
                "discount",
                MIN_DISCOUNT,
                MAX_DISCOUNT,
                "a continuous rate per time unit",
            )?
            .unwrap_or_else(|| annual_discount_default(unit)))
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

    /// An optional number flag, finite and within `min..=max` (`why` says what the range is).
    pub fn number_in(
        &self,
        name: &str,
        min: f64,
        max: f64,
        why: &str,
    ) -> Result<Option<f64>, String> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let x = parse_number(v).map_err(|e| format!("--{name}: {e}"))?;
        if !(min..=max).contains(&x) {
            return Err(format!(
                "--{name}: {} is outside {} to {} ({why})",
                echo(v),
                short(min),
                short(max)
            ));
        }
        Ok(Some(x))
    }

    /// An optional whole-number flag within `min..=max` (`why` says what the range is).
    pub fn whole_in(
        &self,
        name: &str,
        min: u64,
        max: u64,
        why: &str,
    ) -> Result<Option<u64>, String> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n = parse_whole(v).map_err(|e| format!("--{name}: {e}"))?;
        if !(min..=max).contains(&n) {
            return Err(format!("--{name}: {n} is outside {min} to {max} ({why})"));
        }
        Ok(Some(n))
    }

    /// The `--unit` flag: `days` or `weeks` (default `default`).
    pub fn unit(&self, default: TimeUnit) -> Result<TimeUnit, String> {
        match self.get("unit") {
            None => Ok(default),
            Some("days") => Ok(TimeUnit::DAYS),
            Some("weeks") => Ok(TimeUnit::WEEKS),
            Some(other) => Err(format!("--unit: {} is not one of days, weeks", echo(other))),
        }
    }
}

/// The default discount rate: 10% a year (effective), as a continuous rate per `unit`,
/// ln(1.1) × unit days / 365.25.
pub fn annual_discount_default(unit: TimeUnit) -> f64 {
    0.10f64.ln_1p() * unit.days() / 365.25
}

/// A number for a message: plain when short, scientific when huge or tiny.
pub fn short(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:.3e}")
    } else {
        format!("{x}")
    }
}

/// Checks that a date flag lies within [`MAX_SPAN_DAYS`] after `first`, the first transaction
/// of the log at `path`.
pub fn check_span(flag: &str, date: NaiveDate, first: NaiveDate, path: &str) -> Result<(), String> {
    let days = (date - first).num_days();
    if days > MAX_SPAN_DAYS {
        return Err(format!(
            "--{flag}: {date} is {days} days after the first transaction in {path} ({first}); at \
             most {MAX_SPAN_DAYS} days (100 years) are supported"
        ));
    }
    Ok(())
}

/// Parses `YYYY-MM-DD` quickly (large logs spend most of their time here).
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    parse_date_bytes(text.trim().as_bytes())
        .ok_or_else(|| format!("{} is not a date of the form YYYY-MM-DD", echo(text)))
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

/// How a log's date field becomes the day of a purchase.
///
/// Without a format: `YYYY-MM-DD`, or a timestamp `YYYY-MM-DDTHH:MM:SS` (a space for the `T`,
/// fractions of a second allowed) whose day is the day written, or one with an offset (`Z`,
/// `+05:30`) whose day is the day written in its own offset, or, with `--time-zone`, its day in
/// that zone. With `--date-format` (chrono's `strftime` syntax) the field is read with that
/// format: as a date, a date and time, or a date and time with an offset (`%z`), with the same
/// rule for the day.
#[derive(Debug, Clone, Default)]
pub struct DayRule {
    /// The `--date-format`, if given.
    pub format: Option<String>,
    /// The `--time-zone` offset timestamps are taken in, if given.
    pub zone: Option<chrono::FixedOffset>,
}

impl DayRule {
    /// Whether every date is plain `YYYY-MM-DD` (no format given): the fast path then applies
    /// first, and only a field it does not read goes through [`day`](Self::day).
    pub fn is_plain(&self) -> bool {
        self.format.is_none()
    }

    /// The day of a date field.
    pub fn day(&self, text: &str) -> Result<NaiveDate, String> {
        let text = text.trim();
        let offset_day = |at: chrono::DateTime<chrono::FixedOffset>| match self.zone {
            Some(zone) => at.with_timezone(&zone).date_naive(),
            None => at.date_naive(),
        };
        if let Some(format) = &self.format {
            return NaiveDate::parse_from_str(text, format)
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, format).map(|t| t.date()))
                .or_else(|_| chrono::DateTime::parse_from_str(text, format).map(offset_day))
                .map_err(|e| {
                    format!(
                        "{} does not match --date-format {} ({e})",
                        echo(text),
                        echo(format)
                    )
                });
        }
        if let Some(day) = parse_date_bytes(text.as_bytes()) {
            return Ok(day);
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
            return Ok(offset_day(at));
        }
        for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(at) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Ok(at.date());
            }
        }
        Err(format!(
            "{} is not a date (YYYY-MM-DD) or a timestamp (YYYY-MM-DDTHH:MM:SS, with an \
             optional offset such as Z or +05:30); --date-format reads other forms",
            echo(text)
        ))
    }
}

/// Checks CSV text read from `path` for parsing: refuses empty text and old-Mac (CR-only) line
/// ends, drops a UTF-8 byte-order mark.
pub fn check_csv_bytes(path: &str, mut bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "{path}: line 1: the file is empty (expected a header row, then data rows)"
        ));
    }
    // The first line end decides: a CR without LF means CR-only line ends, which CSV readers
    // split but no line counter counts; refusing beats naming wrong lines.
    if let Some(i) = bytes.iter().position(|&b| b == b'\r' || b == b'\n') {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') && i + 1 < bytes.len() {
            return Err(format!(
                "{path}: line 1 ends in a carriage return alone (old Mac line ends); convert \
                 the file to \\n or \\r\\n line ends"
            ));
        }
    }
    Ok(bytes)
}

/// The header row of a CSV file: the position of each required column.
pub struct Header {
    /// The file, for messages.
    pub path: String,
    /// Column names, trimmed.
    pub names: Vec<String>,
    /// Positions of the required columns, in the order asked.
    pub cols: Vec<usize>,
}

impl Header {
    /// Reads the header row of `reader`: the `required` columns must be there, once each.
    pub fn read(
        path: &str,
        reader: &mut csv::Reader<&[u8]>,
        required: &[&str],
    ) -> Result<Header, String> {
        let headers = reader
            .byte_headers()
            .map_err(|e| {
                format!(
                    "{path}: line 1: cannot read the header row: {}",
                    csv_reason(&e)
                )
            })?
            .clone();
        let names: Vec<String> = headers
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let found = || {
            let all = names.join(",");
            echo(&all)
        };
        let cols = required
            .iter()
            .map(|name| {
                let mut at = names.iter().enumerate().filter(|(_, h)| h == name);
                match (at.next(), at.next()) {
                    (Some((i, _)), None) => Ok(i),
                    (Some(_), Some(_)) => Err(format!(
                        "{path}: line 1: the header names column {name:?} more than once"
                    )),
                    (None, _) => Err(format!(
                        "{path}: line 1: header has no {name:?} column (found: {})",
                        found()
                    )),
                }
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Header {
            path: path.to_string(),
            names,
            cols,
        })
    }

    /// The position of an optional column (an error when it is named twice).
    pub fn optional(&self, name: &str) -> Result<Option<usize>, String> {
        let mut at = self.names.iter().enumerate().filter(|(_, h)| *h == name);
        match (at.next(), at.next()) {
            (Some(_), Some(_)) => Err(format!(
                "{}: line 1: the header names column {name:?} more than once",
                self.path
            )),
            (first, _) => Ok(first.map(|(i, _)| i)),
        }
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// A CSV reader over bytes checked by [`check_csv_bytes`], with a header row. Rows of another
/// length than the header are reported by [`next_row`], not by the csv crate.
pub fn csv_reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes)
}

/// The csv crate's error without its own (record-relative) position.
fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "a field is not UTF-8".to_string(),
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, but earlier rows have {expected_len}"),
        _ => e.to_string(),
    }
}

/// Splits the rows of a CSV body into up to `parts` pieces at line ends, each with its byte
/// offset in the body. A body with quotes is one piece: a quoted field could hold a line end.
pub fn split_rows(body: &[u8], parts: usize) -> Vec<(&[u8], usize)> {
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

/// Runs `read` on each piece of a body ([`split_rows`]: the rows and their byte offset) on a
/// thread of its own; the results in piece order.
pub fn read_pieces<'b, T: Send>(
    pieces: Vec<(&'b [u8], usize)>,
    read: impl Fn(&'b [u8], usize) -> Result<T, String> + Sync,
) -> Vec<Result<T, String>> {
    let read = &read;
    std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .into_iter()
            .map(|(rows, offset)| scope.spawn(move || read(rows, offset)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a reader thread failed".to_string()))
            })
            .collect()
    })
}

/// Where the rows of CSV text read with `reader` after its header row begin: after the header's
/// line end (both bytes of a CRLF), so that the body does not begin with an empty line.
pub fn body_start(bytes: &[u8], reader: &csv::Reader<&[u8]>) -> usize {
    let mut start = (reader.position().byte() as usize).min(bytes.len());
    if start > 0 && bytes[start - 1] == b'\r' && bytes.get(start) == Some(&b'\n') {
        start += 1;
    }
    start
}

/// The number of threads to parse and format on: the cores, at most 8.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// Line numbers of byte offsets in a file, counted forward once (the csv crate's own line
/// count lags by one after a CRLF line end).
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: usize,
    newlines: u64,
}

impl<'a> LineCounter<'a> {
    /// Counts lines of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self::after(bytes, 0)
    }

    /// Counts lines of `bytes`, a piece of a file that `lines_before` lines precede.
    pub fn after(bytes: &'a [u8], lines_before: u64) -> Self {
        LineCounter {
            bytes,
            counted_to: 0,
            newlines: lines_before,
        }
    }

    /// The line (from 1) of the record that starts at `byte`: line ends before the record's
    /// first byte are skipped, as the csv reader skips them. Offsets must not go backwards.
    pub fn line_of_record(&mut self, byte: usize) -> u64 {
        let mut start = byte.min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let from = self.counted_to.min(start);
        self.newlines += self.bytes[from..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64;
        self.counted_to = start;
        self.newlines + 1
    }
}

/// Reads the next data row into `record`; `Some(line)` with its line number (the header is
/// line 1), `None` at the end. A row with another number of fields than the header is an error.
pub fn next_row(
    header: &Header,
    reader: &mut csv::Reader<&[u8]>,
    record: &mut csv::ByteRecord,
    lines: &mut LineCounter<'_>,
) -> Result<Option<u64>, String> {
    let path = &header.path;
    match reader.read_byte_record(record) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(e) => {
            let line = e.position().map_or(String::new(), |p| {
                format!(" line {}:", lines.line_of_record(p.byte() as usize))
            });
            return Err(format!("{path}:{line} {}", csv_reason(&e)));
        }
    }
    let line = record
        .position()
        .map_or(0, |p| lines.line_of_record(p.byte() as usize));
    if record.len() != header.len() {
        return Err(format!(
            "{}: {} fields, but the header has {}",
            line_place(path, line),
            record.len(),
            header.len()
        ));
    }
    Ok(Some(line))
}

/// Where a field is: `FILE: line N, column NAME`.
pub fn at(path: &str, line: u64, column: &str) -> String {
    format!("{}, column {column}", line_place(path, line))
}

/// A field of `record` as text, trimmed; the error names the line and column.
pub fn text_field<'r>(
    header: &Header,
    record: &'r csv::ByteRecord,
    line: u64,
    col: usize,
) -> Result<&'r str, String> {
    let bytes = record.get(col).unwrap_or_default();
    std::str::from_utf8(bytes).map(str::trim).map_err(|_| {
        format!(
            "{}: {} is not UTF-8 text",
            at(&header.path, line, &header.names[col]),
            echo_bytes(bytes)
        )
    })
}

/// The error for a file that has a header but no data row.
pub fn no_rows(path: &str, what: &str) -> String {
    if is_row_numbered(path) {
        format!("{path}: no {what} (the table has no rows)")
    } else {
        format!("{path}: no {what} after the header row (line 1)")
    }
}

/// The paths of Parquet and Arrow IPC files read (`table::Input::batches`): their
/// rows are named `row N` (from 1), as the file has no lines. One list for the run, so that
/// every message about a row, wherever it is made, names it the same way.
static ROW_NUMBERED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Names the rows of the table at `path` `row N` in messages (see [`line_place`]).
pub fn mark_row_numbered(path: &str) {
    if let Ok(mut paths) = ROW_NUMBERED.lock() {
        paths.push(path.to_string());
    }
}

fn is_row_numbered(path: &str) -> bool {
    ROW_NUMBERED
        .lock()
        .is_ok_and(|paths| paths.iter().any(|p| p == path))
}

/// Where the record on line `line` of the CSV text of `path` is: `FILE: line N`, or for a
/// Parquet or Arrow IPC file read as text, `FILE: row N` (the header is line 1, so row N is line
/// N + 1).
pub fn line_place(path: &str, line: u64) -> String {
    if is_row_numbered(path) {
        format!("{path}: row {}", line.saturating_sub(1))
    } else {
        format!("{path}: line {line}")
    }
}

/// Reads a CSV transaction log with at least `customer_id,date,amount` (as `input` names them;
/// other columns ignored; with `kinds`, an optional `kind` column of `purchase` or `return`),
/// calling `each` for every transaction in file order. A malformed row stops the read with an
/// error naming its line; so does an error `each` returns.
pub fn for_each_transaction(
    input: &Input,
    kinds: bool,
    each: impl FnMut(Transaction) -> Result<(), String>,
) -> Result<(), String> {
    for_each_transaction_with(input, kinds, false, each)
}

/// [`for_each_transaction`], with `products` also reading the optional `category` and `sku`
/// columns (an empty cell is none).
pub fn for_each_transaction_with(
    input: &Input,
    kinds: bool,
    products: bool,
    each: impl FnMut(Transaction) -> Result<(), String>,
) -> Result<(), String> {
    let path = input.path.as_str();
    let mut log = TransactionLog::open(input, kinds)?;
    if products {
        log = log.with_products()?;
    }
    let mut rows = 0usize;
    let mut each = each;
    log.read(log.body(), 0, |t| {
        rows += 1;
        each(t)
    })?;
    if rows == 0 {
        return Err(no_rows(path, "transactions"));
    }
    Ok(())
}

/// A transaction log read into memory, with the positions of its columns, so that it can be
/// parsed in parts (one per thread) that are later merged.
pub struct TransactionLog {
    path: String,
    bytes: Vec<u8>,
    body_start: usize,
    cols: Vec<usize>,
    names: Vec<String>,
    /// The `kind` column, when read (`purchase` or `return`).
    kind: Option<usize>,
    /// The `category` and `sku` columns, when read.
    products: [Option<usize>; 2],
    /// The field delimiter.
    delimiter: u8,
    /// How a date field becomes a day.
    days: DayRule,
}

impl TransactionLog {
    /// Reads the log and its header (the columns `input` names); with `kinds`, an optional
    /// `kind` column marks each row `purchase` or `return`.
    pub fn open(input: &Input, kinds: bool) -> Result<Self, String> {
        let path = input.path.as_str();
        let bytes = input.csv_bytes()?;
        let mut reader = input.csv_reader(&bytes);
        let [customer, date, amount] = input.log_column_names();
        let header = Header::read(path, &mut reader, &[customer, date, amount])?;
        let kind = if kinds {
            header.optional("kind")?
        } else {
            None
        };
        let body_start = body_start(&bytes, &reader);
        Ok(TransactionLog {
            path: path.to_string(),
            body_start,
            cols: header.cols,
            names: header.names,
            kind,
            products: [None, None],
            delimiter: input.csv_delimiter(),
            days: input.day_rule(),
            bytes,
        })
    }

    /// Also reads the optional `category` and `sku` columns, when the header has them.
    pub fn with_products(mut self) -> Result<Self, String> {
        let header = Header {
            path: self.path.clone(),
            names: self.names.clone(),
            cols: Vec::new(),
        };
        self.products = [header.optional("category")?, header.optional("sku")?];
        Ok(self)
    }

    /// The rows after the header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[self.body_start..]
    }

    /// Whether the log has no data row (only blank lines after the header).
    pub fn is_empty(&self) -> bool {
        self.body().iter().all(u8::is_ascii_whitespace)
    }

    /// Splits the rows into up to `parts` pieces at line ends, each with its byte offset in the
    /// body. A file with quotes is one piece: a quoted field could hold a line end.
    pub fn split(&self, parts: usize) -> Vec<(&[u8], usize)> {
        split_rows(self.body(), parts)
    }

    /// Parses `rows` (a piece of [`body`](Self::body) starting at byte `offset` of the body) and
    /// calls `each` for every transaction; an error from `each` is prefixed with the row's line.
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

    /// The line number of the header plus the body lines before byte `offset` of the body.
    fn lines_before(&self, offset: usize) -> u64 {
        let header_lines = self.bytes[..self.body_start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            .max(1) as u64;
        let body = self.body();
        header_lines
            + body[..offset.min(body.len())]
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
        let kind_col = self.kind.unwrap_or(usize::MAX);
        let [category_col, sku_col] = self.products.map(|c| c.unwrap_or(usize::MAX));
        let mut line_in_piece = 0u64;
        let mut pos = 0usize;
        // One pass over the bytes: each row's fields end at a comma, the row at a line end.
        while pos < rows.len() {
            line_in_piece += 1;
            let line = || self.lines_before(offset) + line_in_piece;
            let (mut id, mut date, mut amount, mut kind): (&[u8], &[u8], &[u8], &[u8]) =
                (&[], &[], &[], &[]);
            let mut products: [&[u8]; 2] = [&[], &[]];
            let mut fields = 0usize;
            let row_start = pos;
            let row_end = loop {
                let rest = &rows[pos..];
                let len = rest
                    .iter()
                    .position(|&b| b == self.delimiter || b == b'\n')
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
                if fields == kind_col {
                    kind = field;
                }
                if fields == category_col {
                    products[0] = field;
                }
                if fields == sku_col {
                    products[1] = field;
                }
                fields += 1;
                pos += len + 1;
                if rest.get(len) != Some(&self.delimiter) {
                    break pos - 1;
                }
            };
            if row_end == row_start {
                continue; // an empty line
            }
            if fields != self.names.len() {
                return Err(format!(
                    "{}: line {}: {fields} fields, but the header has {}",
                    self.path,
                    line(),
                    self.names.len()
                ));
            }
            let t = self.transaction(id, date, amount, kind, &line)?;
            let t = self.add_products(t, products, &line)?;
            each(t).map_err(|e| format!("{}: line {}: {e}", self.path, line()))?;
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
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(rows);
        let mut record = csv::ByteRecord::new();
        // Line numbers count the header and the body lines before this piece.
        let before = self.lines_before(offset);
        let mut lines = LineCounter::new(rows);
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => {
                    let line = e.position().map_or(String::new(), |p| {
                        format!(
                            " line {}:",
                            before + lines.line_of_record(p.byte() as usize)
                        )
                    });
                    return Err(format!("{path}:{line} {}", csv_reason(&e)));
                }
            }
            let row_line = record
                .position()
                .map_or(0, |p| before + lines.line_of_record(p.byte() as usize));
            let line = || row_line;
            if record.len() != self.names.len() {
                return Err(format!(
                    "{path}: line {}: {} fields, but the header has {}",
                    line(),
                    record.len(),
                    self.names.len()
                ));
            }
            let field = |i: usize| record.get(self.cols[i]).unwrap_or_default();
            let kind = self
                .kind
                .map_or(&[][..], |k| record.get(k).unwrap_or_default());
            let t = self.transaction(field(0), field(1), field(2), kind, &line)?;
            let products = self
                .products
                .map(|c| c.map_or(&[][..], |c| record.get(c).unwrap_or_default()));
            let t = self.add_products(t, products, &line)?;
            each(t).map_err(|e| format!("{path}: line {}: {e}", line()))?;
        }
    }

    /// `t` with the row's category and SKU (`fields`, empty without their columns); an empty
    /// cell is none.
    fn add_products(
        &self,
        mut t: Transaction,
        fields: [&[u8]; 2],
        line: &dyn Fn() -> u64,
    ) -> Result<Transaction, String> {
        for ((column, field), is_category) in self.products.iter().zip(fields).zip([true, false]) {
            let (Some(column), false) = (column, field.trim_ascii().is_empty()) else {
                continue;
            };
            let here = || at(&self.path, line(), &self.names[*column]);
            let text = std::str::from_utf8(field)
                .map_err(|_| format!("{}: {} is not UTF-8 text", here(), echo_bytes(field)))?;
            let added = if is_category {
                t.with_category(text)
            } else {
                t.with_sku(text)
            };
            t = added.map_err(|e| format!("{}: {e}", here()))?;
        }
        Ok(t)
    }

    /// One row's transaction from its raw fields (`kind` is empty without a kind column);
    /// `line` gives the row's line number (only computed on error: formatting per row would
    /// dominate).
    fn transaction(
        &self,
        id: &[u8],
        date: &[u8],
        amount: &[u8],
        kind: &[u8],
        line: &dyn Fn() -> u64,
    ) -> Result<Transaction, String> {
        let names = [
            &self.names[self.cols[0]],
            &self.names[self.cols[1]],
            &self.names[self.cols[2]],
        ];
        let here = |i: usize| at(&self.path, line(), names[i]);
        let text = |i: usize, bytes: &[u8]| -> Result<String, String> {
            std::str::from_utf8(bytes)
                .map(|s| s.trim().to_string())
                .map_err(|_| format!("{}: {} is not UTF-8 text", here(i), echo_bytes(bytes)))
        };
        let id = match integer_id(id) {
            Some(n) => CustomerId::from(n),
            None => CustomerId::new(&text(0, id)?).map_err(|e| format!("{}: {e}", here(0)))?,
        };
        let date = match parse_date_bytes(date).filter(|_| self.days.is_plain()) {
            Some(d) => d,
            None => self
                .days
                .day(&text(1, date)?)
                .map_err(|e| format!("{}: {e}", here(1)))?,
        };
        let amount = match plain_amount(amount) {
            Some(a) => a,
            None => parse_money(&text(2, amount)?).map_err(|e| format!("{}: {e}", here(2)))?,
        };
        if amount.is_sign_negative() && !amount.is_zero() {
            let why = if self.kind.is_some() {
                "a return is a positive amount with kind return"
            } else {
                "a purchase log has no returns"
            };
            return Err(format!(
                "{}: {} is negative ({why})",
                here(2),
                echo(&amount.to_string())
            ));
        }
        // -0 is a purchase of 0.
        let amount = if amount.is_zero() {
            Decimal::ZERO
        } else {
            amount
        };
        let kind = match (self.kind, kind.trim_ascii()) {
            (None, _) | (Some(_), b"purchase") => TransactionKind::Purchase,
            (Some(_), b"return") => TransactionKind::Return,
            (Some(k), other) => {
                return Err(format!(
                    "{}: {} is not purchase or return",
                    at(&self.path, line(), &self.names[k]),
                    echo_bytes(other)
                ))
            }
        };
        Transaction::new(id, date.and_time(chrono::NaiveTime::MIN), amount, kind)
            .map_err(|e| format!("{}: line {}: {e}", self.path, line()))
    }
}

/// The fast path for plain amounts (`123` or `123.45`, at most 17 digits): the same decimal,
/// mantissa and scale, as `Decimal::from_str` gives.
fn plain_amount(b: &[u8]) -> Option<Decimal> {
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
    Decimal::try_new(mantissa, scale.unwrap_or(0) as u32).ok()
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

/// A field for CSV output, quoted when it holds a comma, quote or line end (customer ids can).
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        std::borrow::Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A buffered stdout writer.
pub fn stdout() -> BufWriter<std::io::StdoutLock<'static>> {
    BufWriter::with_capacity(1 << 16, std::io::stdout().lock())
}

/// Writes `text` and a line end to stdout (instead of `println!`, which panics on a closed pipe).
pub fn print(text: &str) -> Result<(), String> {
    let mut out = stdout();
    out.write_all(text.as_bytes()).map_err(write_error)?;
    out.write_all(b"\n").map_err(write_error)?;
    finish(out)
}

/// Flushes output; a closed pipe becomes [`BROKEN_PIPE`].
pub fn finish(mut out: impl Write) -> Result<(), String> {
    out.flush().map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_forms_and_echoes() {
        for ok in ["12", "-0.5", ".5", "5.", "+5", "1e3", "2.5E-2", " 7 "] {
            assert!(parse_number(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "1_000", "inf", "-inf", "NaN", "0x10", "1e", "e3", "1 000", "1e400", "--1",
        ] {
            assert!(parse_number(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_whole("4294967296"), Ok(4_294_967_296));
        for bad in ["+5", "1e3", "1.0", "-1", "1_000", ""] {
            assert!(parse_whole(bad).is_err(), "{bad}");
        }
        assert!(parse_count("4294967296").is_err());
        assert_eq!(echo("abc"), "\"abc\"");
        let long = echo(&"é".repeat(100));
        assert_eq!(long.chars().count(), MAX_ECHO_CHARS + 3);
        assert!(long.ends_with("…\""));
        assert_eq!(cut_lines("abcdef\nxy", 3), "abc…\nxy");
        // Lines of records, whatever the line ends.
        let bytes = b"h\r\na\r\n\r\nb\nc";
        let mut lines = LineCounter::new(bytes);
        assert_eq!(lines.line_of_record(3), 2);
        assert_eq!(lines.line_of_record(5), 4);
        assert_eq!(lines.line_of_record(10), 5);
    }

    /// What the ledger refuses reaches the reader as an error of the row: it gets the line too.
    #[test]
    fn an_error_of_the_caller_names_the_row_line() {
        let dir = std::env::temp_dir().join(format!("clv-unit-each-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = dir.join("ok.csv");
        std::fs::write(
            &ok,
            "customer_id,date,amount\n1,1997-01-01,10\n2,1997-01-02,5\n3,1997-01-03,7\n",
        )
        .unwrap();
        let ok = ok.to_str().unwrap();
        let mut seen = 0;
        let input = Input::new(ok, None).unwrap();
        let err = for_each_transaction(&input, false, |_| {
            seen += 1;
            if seen == 2 {
                Err("the ledger refuses it".to_string())
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert_eq!(err, format!("{ok}: line 3: the ledger refuses it"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
