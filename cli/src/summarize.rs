//! `clv summarize`: a transaction log to per-customer summaries.

use std::io::Write;

use customer_assets::{
    CustomerSummary, Grain, ReturnPolicy, Summaries, SummaryAccumulator, SummaryOptions, TimeUnit,
};
use rust_decimal::Decimal;

use crate::common::{check_span, csv_field, finish, no_rows, write_error, Flags, TransactionLog};
use crate::output::{Cell, Table};
use crate::table::Input;

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "end", "unit", "holdout-end"])?;
    let output = flags.output(true)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let mut options = SummaryOptions::new(end, unit);
    let holdout_end = flags.optional_date("holdout-end")?;
    if let Some(h) = holdout_end {
        if h <= end {
            return Err(format!(
                "--holdout-end: {h} must be after --end {end} (the holdout follows the calibration)"
            ));
        }
        options = options.holdout_end(h);
    }

    let threads = crate::common::threads();
    let (acc, first) =
        match input.summary_accumulator(Grain::Day, ReturnPolicy::NetAgainstPurchase)? {
            Some(acc) => {
                let first = acc.first_moment().map(|m| m.date());
                (acc, first)
            }
            None => read_csv_in_parts(&input, threads)?,
        };
    let Some(first) = first else {
        return Err(no_rows(path, "transactions"));
    };
    check_span("end", end, first, path)?;
    if let Some(h) = holdout_end {
        check_span("holdout-end", h, first, path)?;
    }
    crate::progress::stage(format!("summarising {} customers", acc.customers_seen()));
    let summaries = acc
        .finish(&options)
        .map_err(|e| format!("{path}: summarising at --end {end}: {e}"))?;
    if summaries.is_empty() {
        return Err(format!(
            "--end: {end} is before the first purchase in {path} ({first}); no customer to summarise"
        ));
    }

    // Rows in the order customers first appeared. Summaries are sorted by id, which is often
    // the arrival order too: try the summary after the last one found before searching.
    let customers = summaries.customers();
    let mut rows = Vec::with_capacity(customers.len());
    let mut next = 0usize;
    for id in acc.arrival_order() {
        let at = match customers.get(next) {
            Some(s) if s.id() == id => Ok(next),
            _ => customers.binary_search_by(|s| s.id().cmp(id)),
        };
        if let Ok(i) = at {
            rows.push(&customers[i]);
            next = i + 1;
        }
    }

    crate::progress::stage("writing the summaries");
    let holdout = options.get_holdout_end().is_some();
    if !output.is_csv() {
        output.write_table(&summary_table(&rows, holdout))?;
        notes(&summaries, end);
        return Ok(());
    }
    let mut out = output.writer()?;
    let write_err = write_error;
    let header = if holdout {
        "customer_id,frequency,recency,T,monetary_value,holdout_frequency,holdout_monetary_value"
    } else {
        "customer_id,frequency,recency,T,monetary_value"
    };
    writeln!(out, "{header}").map_err(write_err)?;
    // Rows are formatted in blocks on all threads and written in order.
    let block = rows.len().div_ceil(threads).max(1);
    let blocks: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(block)
            .map(|part| scope.spawn(move || format_rows(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| "a writer thread failed".to_string()))
            .collect::<Result<_, String>>()
    })?;
    for b in &blocks {
        out.write_all(b).map_err(write_err)?;
    }
    finish(out)?;
    notes(&summaries, end);
    Ok(())
}

/// Notes on stderr of what the summaries leave out.
fn notes(summaries: &Summaries, end: chrono::NaiveDate) {
    if summaries.first_purchase_after_as_of() > 0 {
        eprintln!(
            "clv: note: {} customers first bought after {end} and are not summarised",
            summaries.first_purchase_after_as_of()
        );
    }
    if summaries.transactions_after_end() > 0 {
        eprintln!(
            "clv: note: {} transactions fall after the last day summarised",
            summaries.transactions_after_end()
        );
    }
}

/// The summary rows as a table (money rounded to 6 places, as in the CSV).
fn summary_table(rows: &[&CustomerSummary], holdout: bool) -> Table {
    let mut names = vec!["customer_id", "frequency", "recency", "T", "monetary_value"];
    if holdout {
        names.extend(["holdout_frequency", "holdout_monetary_value"]);
    }
    let mut table = Table::new(&names);
    table.rows = rows
        .iter()
        .map(|s| {
            let mut row = vec![
                Cell::Text(s.id().to_string()),
                Cell::Int(i64::from(s.frequency())),
                Cell::Float(s.recency()),
                Cell::Float(s.age()),
                Cell::Money(s.monetary_value().round_dp(6)),
            ];
            if let Some(h) = s.holdout() {
                row.push(Cell::Int(i64::from(h.frequency)));
                row.push(Cell::Money(h.monetary_value().round_dp(6)));
            }
            row
        })
        .collect();
    table
}

/// Formats summary rows as CSV lines (`id,frequency,recency,T,monetary_value[,holdout...]`):
/// floats in their shortest round-trip form, money rounded to 6 places without trailing zeros.
fn format_rows(rows: &[&CustomerSummary]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(rows.len() * 48);
    let mut float = ryu::Buffer::new();
    for s in rows {
        match s.id().as_u64() {
            Some(n) => write_u64(&mut buf, n),
            None => buf.extend_from_slice(csv_field(&s.id().to_string()).as_bytes()),
        }
        buf.push(b',');
        write_u64(&mut buf, u64::from(s.frequency()));
        buf.push(b',');
        // ryu prints the shortest round-trip form several times faster than `Display`.
        buf.extend_from_slice(float.format(s.recency()).as_bytes());
        buf.push(b',');
        buf.extend_from_slice(float.format(s.age()).as_bytes());
        buf.push(b',');
        write_money(&mut buf, s.monetary_value());
        if let Some(h) = s.holdout() {
            buf.push(b',');
            write_u64(&mut buf, u64::from(h.frequency));
            buf.push(b',');
            write_money(&mut buf, h.monetary_value());
        }
        buf.push(b'\n');
    }
    buf
}

/// Writes `n` in decimal.
fn write_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Writes a money amount rounded to 6 decimal places, trailing zeros dropped: the same text as
/// `Display` of `d.round_dp(6).normalize()`.
fn write_money(buf: &mut Vec<u8>, d: Decimal) {
    let d = d.round_dp(6).normalize();
    let scale = d.scale() as usize;
    let mantissa = d.mantissa();
    if mantissa < 0 {
        buf.push(b'-');
    }
    let mut text = Vec::with_capacity(40);
    let m = mantissa.unsigned_abs();
    match u64::try_from(m) {
        // 64-bit division is much faster than 128-bit: the usual amounts take this path.
        Ok(small) => write_u64(&mut text, small),
        Err(_) => text.extend_from_slice(m.to_string().as_bytes()),
    }
    let digits = text.as_slice();
    if scale == 0 {
        buf.extend_from_slice(digits);
    } else if digits.len() > scale {
        let (int, frac) = digits.split_at(digits.len() - scale);
        buf.extend_from_slice(int);
        buf.push(b'.');
        buf.extend_from_slice(frac);
    } else {
        buf.extend_from_slice(b"0.");
        buf.extend(std::iter::repeat_n(b'0', scale - digits.len()));
        buf.extend_from_slice(digits);
    }
}

/// Reads a CSV log on `threads` threads, each streaming its part into its own accumulator;
/// merging them gives the one-pass result, with customers in the order they first appear in the
/// file. Also the first day of the log.
fn read_csv_in_parts(
    input: &Input,
    threads: usize,
) -> Result<(SummaryAccumulator, Option<chrono::NaiveDate>), String> {
    let path = input.path.as_str();
    let log = TransactionLog::open(input, true)?;
    if log.is_empty() {
        return Err(no_rows(path, "transactions"));
    }
    let parts = crate::common::read_pieces(log.split(threads), |rows, offset| {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        let mut first: Option<chrono::NaiveDate> = None;
        log.read(rows, offset, |t| {
            let day = t.date();
            first = Some(first.map_or(day, |f| f.min(day)));
            acc.push(&t);
            Ok(())
        })
        .map(|()| (acc, first))
    })
    .into_iter()
    .collect::<Result<Vec<_>, String>>()?;
    let first = parts.iter().filter_map(|(_, f)| *f).min();
    let mut parts = parts.into_iter().map(|(acc, _)| acc);
    let mut acc = parts
        .next()
        .unwrap_or_else(|| SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase));
    for part in parts {
        acc.merge(part).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok((acc, first))
}
