//! `clv summarize`: a transaction log to per-customer summaries.

use std::io::Write;

use customer_assets::{Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit};
use rust_decimal::Decimal;

use crate::common::{finish, stdout, Flags, TransactionLog};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "end", "unit", "holdout-end"])?;
    let path = flags.required("transactions")?;
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::DAYS)?;
    let mut options = SummaryOptions::new(end, unit);
    if let Some(h) = flags.optional_date("holdout-end")? {
        options = options.holdout_end(h);
    }

    // Each thread streams its part of the log into its own accumulator; merging them gives the
    // one-pass result, with customers in the order they first appear in the file.
    let log = TransactionLog::open(path)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let parts = std::thread::scope(|scope| {
        let handles: Vec<_> = log
            .split(threads)
            .into_iter()
            .map(|(rows, lines_before)| {
                let log = &log;
                scope.spawn(move || {
                    let mut acc =
                        SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
                    log.read(rows, lines_before, |t| {
                        acc.push(&t);
                        Ok(())
                    })
                    .map(|()| acc)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a reader thread failed".to_string()))
            })
            .collect::<Result<Vec<_>, String>>()
    })?;
    let mut parts = parts.into_iter();
    let mut acc = parts
        .next()
        .unwrap_or_else(|| SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase));
    for part in parts {
        acc.merge(part).map_err(|e| e.to_string())?;
    }
    let summaries = acc.finish(&options).map_err(|e| e.to_string())?;

    let mut out = stdout();
    let write_err = |e: std::io::Error| format!("cannot write output: {e}");
    let holdout = options.holdout().is_some();
    let header = if holdout {
        "customer_id,frequency,recency,T,monetary_value,holdout_frequency,holdout_monetary_value"
    } else {
        "customer_id,frequency,recency,T,monetary_value"
    };
    writeln!(out, "{header}").map_err(write_err)?;
    let money = |d: Decimal| d.round_dp(6).normalize();
    let mut float = ryu::Buffer::new();
    for id in acc.arrival_order() {
        let Some(s) = summaries.get(id) else { continue };
        write!(out, "{},{},", id, s.frequency()).map_err(write_err)?;
        // ryu prints the shortest round-trip form several times faster than `Display`.
        out.write_all(float.format(s.recency()).as_bytes())
            .map_err(write_err)?;
        out.write_all(b",").map_err(write_err)?;
        out.write_all(float.format(s.age()).as_bytes())
            .map_err(write_err)?;
        write!(out, ",{}", money(s.monetary_value())).map_err(write_err)?;
        if let Some(h) = s.holdout() {
            write!(out, ",{},{}", h.frequency, money(h.monetary_value())).map_err(write_err)?;
        }
        writeln!(out).map_err(write_err)?;
    }
    finish(out)?;
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
    Ok(())
}
