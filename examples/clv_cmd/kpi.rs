//! `clv kpi`: the KPIs of a transaction log as JSON.
//!
//! `clv kpi --transactions FILE.csv --end YYYY-MM-DD [--period-days N]` reads
//! `customer_id,date,amount` (other columns ignored) and prints
//! [`customer_assets::kpi::KpiReport`] as JSON: retention and churn between the `N` days ending at
//! `--end` (default 91) and the `N` days before; orders, average order value and revenue per
//! customer in that period and to date; the repeat-purchase rate; spend concentration (top 1%,
//! 10%, 20% shares and Gini); monthly acquisition cohorts.

use customer_assets::kpi::KpiReport;
use customer_assets::{Ledger, LedgerOptions};

use super::common::{for_each_transaction, Flags};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "end", "period-days"])?;
    let path = flags.required("transactions")?;
    let end = flags.date("end")?;
    let period_days = match flags.get("period-days") {
        None => 91,
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| format!("--period-days: {v:?} is not a whole number"))?,
    };
    let mut ledger = Ledger::new(LedgerOptions::default());
    for_each_transaction(path, |t| {
        ledger
            .add_transaction(t)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let report = KpiReport::new(&ledger, end, period_days).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
