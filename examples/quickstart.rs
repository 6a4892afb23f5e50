//! Quickstart: from a simulated transaction log to the customer-equity report.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```
//!
//! 1. simulate 5,000 customers acquired over a quarter, with CDNOW-like behaviour and spend;
//! 2. put their transactions through the validated ledger;
//! 3. value the base: fit Pareto/NBD (purchases and dropout) and Gamma-Gamma (spend) on the
//!    summaries at the as-of date, segment the customers (RFM, ABC), place them in the loyalty
//!    programme of `examples/loyalty_rules.json`, compute the KPIs, and add the firm view;
//! 4. print the report.
use chrono::NaiveDate;
use customer_assets::loyalty::Programme;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::valuation::{Acquisition, DiscountRate, Valuation};
use customer_assets::{Ledger, LedgerOptions, TimeUnit};
use rust_decimal::Decimal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("bad date")?;

    // 1. A simulated base: Pareto/NBD purchasing (rates per week) and Gamma-Gamma spend.
    let process = ParetoNbdProcess::new(0.55, 10.58, 0.61, 11.67)?;
    let options = SimulationOptions::new(5_000, start, as_of, TimeUnit::WEEKS, 42)
        .acquisition_days(90)
        .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?);
    let base = simulate(&process, &options)?;

    // 2. Records -> validated ledger.
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_customers(base.customers().iter().cloned())?;
    ledger.extend_transactions(base.transactions().iter().cloned())?;
    println!(
        "Simulated {} customers and {} transactions; valuing the base as of {as_of}.\n",
        base.customers().len(),
        ledger.transactions().len()
    );

    // 3. The valuation: every part is checked by `build()` before any work is done.
    let programme: Programme = serde_json::from_str(include_str!("loyalty_rules.json"))?;
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(ParetoNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.30)
        .discount(DiscountRate::per_period(0.10, 365.0)?)
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .tiers(&programme)
        .kpis(90)
        .acquisition(Acquisition {
            customers: 1_250.0,
            period_days: 91.0,
            periods: 8,
            cost: Decimal::new(25, 0),
        })
        .build()?
        .run()?;

    // 4. The report as text tables (it also serializes to JSON with serde).
    println!("{report}");
    println!("\nThe five most valuable customers:");
    let mut top: Vec<_> = report.customers.iter().collect();
    top.sort_by_key(|c| std::cmp::Reverse(c.clv));
    println!(
        "  {:>8} {:>8} {:>10} {:>10} {:>9} {:<10} {:<10}",
        "customer", "P(alive)", "exp. buys", "spend/buy", "CLV", "asset", "tier"
    );
    for c in top.iter().take(5) {
        println!(
            "  {:>8} {:>8.3} {:>10.2} {:>10.2} {:>9} {:<10} {:<10}",
            c.id.to_string(),
            c.p_alive,
            c.expected_purchases,
            c.expected_spend,
            c.clv,
            c.asset_class.to_string(),
            c.tier.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
