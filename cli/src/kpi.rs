//! `clv kpi`: the KPIs of a transaction log as JSON.
//!
//! `clv kpi --transactions FILE.csv --end YYYY-MM-DD [--period-days N]` reads
//! `customer_id,date,amount` (other columns ignored) and prints
//! [`customer_assets::kpi::KpiReport`] as JSON: retention and churn between the `N` days ending at
//! `--end` (default 91) and the `N` days before; orders, average order value and revenue per
//! customer in that period and to date; the repeat-purchase rate; spend concentration (top 1%,
//! 10%, 20% shares and Gini); monthly acquisition cohorts. A CSV log with a `category` column
//! (and optionally `sku`; an empty cell is none) also gives the category KPIs of the period:
//! buyers, repeat rate, net revenue and spend share per category.

use customer_assets::kpi::KpiReport;

use super::common::{check_span, Flags, MAX_PERIOD_DAYS};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "end", "period-days"])?;
    let output = flags.output(false)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let end = flags.date("end")?;
    let period_days = flags
        .whole_in("period-days", 1, MAX_PERIOD_DAYS, "days in each KPI period")?
        .unwrap_or(91) as u32;
    let (ledger, first) = input.ledger_with_products()?;
    check_span("end", end, first, path)?;
    if end < first {
        return Err(format!(
            "--end: {end} is before the first transaction in {path} ({first}); no KPI to report"
        ));
    }
    crate::progress::stage("computing the KPIs");
    let report = KpiReport::new(&ledger, end, period_days)
        .map_err(|e| format!("{path}: KPIs at --end {end}: {e}"))?;
    let json = serde_json::to_value(&report).map_err(|e| e.to_string())?;
    output.write_json(&json)
}
