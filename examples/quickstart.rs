//! Quickstart: simulate a customer base, put it through the ledger and summarise it.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
use chrono::NaiveDate;
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::{Grain, Ledger, LedgerOptions, SummaryOptions, TimeUnit};
use rust_decimal::Decimal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("bad date")?;

    // 5,000 customers acquired over the first quarter, with CDNOW-like Pareto/NBD behaviour.
    let process = ParetoNbdProcess::new(0.55, 10.58, 0.61, 11.67)?;
    let options = SimulationOptions::new(5_000, start, as_of, TimeUnit::WEEKS, 42)
        .acquisition_days(90)
        .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?);
    let base = simulate(&process, &options)?;

    // Records -> validated ledger -> per-customer summaries at the as-of date.
    let mut ledger = Ledger::new(LedgerOptions::default().grain(Grain::Day));
    ledger.extend_customers(base.customers().iter().cloned())?;
    ledger.extend_transactions(base.transactions().iter().cloned())?;
    let summaries = ledger.summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))?;

    let n = summaries.len();
    let repeaters = summaries.iter().filter(|s| s.frequency() > 0).count();
    let revenue: Decimal = summaries.iter().map(|s| s.total_spend()).sum();
    let orders: u32 = summaries.iter().map(|s| s.orders()).sum();
    let mean = |f: &dyn Fn(&customer_assets::CustomerSummary) -> f64| {
        summaries.iter().map(f).sum::<f64>() / n as f64
    };

    println!("customer-assets quickstart: a simulated base as of {as_of}");
    println!();
    println!("  customers                    {n:>10}");
    println!(
        "  transactions                 {:>10}",
        base.transactions().len()
    );
    println!("  orders                       {orders:>10}");
    println!(
        "  repeat customers             {repeaters:>10}  ({:.1}%)",
        100.0 * repeaters as f64 / n as f64
    );
    println!("  revenue                      {:>10}", revenue.round_dp(2));
    println!(
        "  average order value          {:>10}",
        (revenue / Decimal::from(orders.max(1))).round_dp(2)
    );
    println!(
        "  mean frequency x             {:>10.3}",
        mean(&|s| f64::from(s.frequency()))
    );
    println!(
        "  mean recency t_x (weeks)     {:>10.2}",
        mean(&|s| s.recency())
    );
    println!(
        "  mean age T (weeks)           {:>10.2}",
        mean(&|s| s.age())
    );
    println!(
        "  distinct (x, t_x, T) patterns{:>10}",
        summaries.patterns().len()
    );
    println!();
    println!("  frequency x   customers");
    let mut counts = [0usize; 8];
    for s in &summaries {
        counts[(s.frequency() as usize).min(7)] += 1;
    }
    for (x, c) in counts.iter().enumerate() {
        let label = if x == 7 {
            "7+".to_string()
        } else {
            x.to_string()
        };
        println!("  {label:>11}   {c:>9}  {}", "#".repeat(c * 50 / n.max(1)));
    }
    Ok(())
}
