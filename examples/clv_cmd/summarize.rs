//! `clv summarize`: a transaction log to per-customer summaries.

use std::collections::HashSet;
use std::io::Write;

use customer_assets::{
    CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit,
};
use rust_decimal::Decimal;

use crate::common::{finish, for_each_transaction, stdout, Flags};

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

    // Stream the log into the accumulator: memory grows with purchase days, not with rows.
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    let mut order: Vec<CustomerId> = Vec::new();
    let mut seen: HashSet<CustomerId> = HashSet::new();
    let mut last: Option<CustomerId> = None;
    for_each_transaction(path, |t| {
        if last.as_ref() != Some(t.customer()) {
            if seen.insert(t.customer().clone()) {
                order.push(t.customer().clone());
            }
            last = Some(t.customer().clone());
        }
        acc.push(&t);
        Ok(())
    })?;
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
    for id in &order {
        let Some(s) = summaries.get(id) else { continue };
        write!(
            out,
            "{},{},{},{},{}",
            id,
            s.frequency(),
            s.recency(),
            s.age(),
            money(s.monetary_value())
        )
        .map_err(write_err)?;
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
