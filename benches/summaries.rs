//! Summarising 10 million simulated transactions: time (criterion) and peak memory (a counting
//! allocator, printed before the timings). The simulated log comes grouped by customer in id
//! order; the `_date_ordered` variants summarise the same transactions sorted by time, and the
//! `_date_ordered_text` ones the same again with text ids (`cust-0000042`, one shared text per
//! customer, as the ledger and the CSV reader make them).
//!
//! ```text
//! cargo bench --bench summaries
//! SUMMARIES_BENCH_CSV=/tmp/summaries_log.csv cargo bench --bench summaries   # also writes the log
//! ```
use std::hint::black_box;
use std::sync::atomic::Ordering;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction,
};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

const TRANSACTIONS: usize = 10_000_000;

fn log() -> (Vec<Transaction>, NaiveDate) {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
    let end = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    // About 9 purchases a customer over two years: 1.1M customers give 10M transactions.
    let process = BgNbdProcess::new(1.2, 12.0, 0.3, 6.0).expect("params");
    let options = SimulationOptions::new(1_250_000, start, end, TimeUnit::WEEKS, 7)
        .acquisition_days(180)
        .spend(GammaGammaSpend::new(6.0, 3.7, 15.0).expect("params"));
    let mut log = simulate(&process, &options)
        .expect("simulate")
        .into_transactions();
    assert!(
        log.len() >= TRANSACTIONS,
        "simulated only {} transactions",
        log.len()
    );
    log.truncate(TRANSACTIONS);
    (log, end)
}

fn summarize(log: &[Transaction], options: &SummaryOptions) -> usize {
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    acc.extend(log);
    acc.finish(options).expect("summaries").len()
}

#[cfg(feature = "parallel")]
fn summarize_parallel(log: &[Transaction], options: &SummaryOptions) -> usize {
    SummaryAccumulator::from_slice_parallel(Grain::Day, ReturnPolicy::NetAgainstPurchase, log)
        .expect("merge")
        .finish(options)
        .expect("summaries")
        .len()
}

/// Writes the log as `customer_id,date,amount` CSV, for timing lifetimes on the same transactions
/// (`benches/compare_summarize.py --in-memory-only --csv PATH --end 2024-12-31`).
fn write_csv(log: &[Transaction], path: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "customer_id,date,amount")?;
    for t in log {
        writeln!(out, "{},{},{}", t.customer(), t.date(), t.amount())?;
    }
    out.flush()
}

fn bench(c: &mut Criterion) {
    let (log, end) = log();
    if let Ok(path) = std::env::var("SUMMARIES_BENCH_CSV") {
        write_csv(&log, &path).expect("write the log as CSV");
        println!("wrote the log to {path}");
    }
    let options = SummaryOptions::new(end, TimeUnit::WEEKS);
    let input_bytes = log.len() * std::mem::size_of::<Transaction>();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let customers = summarize(&log, &options);
    let peak_extra = PEAK.load(Ordering::Relaxed) - before;
    println!(
        "summaries: {} transactions ({:.0} MB in memory), {customers} customers; peak extra heap while summarising {:.0} MB = {:.2}x the input",
        log.len(),
        input_bytes as f64 / 1e6,
        peak_extra as f64 / 1e6,
        peak_extra as f64 / input_bytes as f64
    );

    let mut group = c.benchmark_group("summaries");
    group.sample_size(10);
    group.bench_function("summarize_10m_transactions", |b| {
        b.iter(|| summarize(black_box(&log), black_box(&options)))
    });
    #[cfg(feature = "parallel")]
    group.bench_function("summarize_10m_transactions_parallel", |b| {
        b.iter(|| summarize_parallel(black_box(&log), black_box(&options)))
    });
    // The same transactions in date order, as a ledger export usually comes: customers
    // interleave, so every transaction looks its customer up by id.
    let mut by_date = log.clone();
    by_date.sort_by_key(|t| t.at());
    let peak = |name: &str, run: &dyn Fn() -> usize| {
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        run();
        let extra = PEAK.load(Ordering::Relaxed) - before;
        println!(
            "{name}: peak extra heap {:.0} MB = {:.2}x the input",
            extra as f64 / 1e6,
            extra as f64 / input_bytes as f64
        );
    };
    peak("date-ordered", &|| summarize(&by_date, &options));
    #[cfg(feature = "parallel")]
    peak("date-ordered, parallel", &|| {
        summarize_parallel(&by_date, &options)
    });
    group.bench_function("summarize_10m_transactions_date_ordered", |b| {
        b.iter(|| summarize(black_box(&by_date), black_box(&options)))
    });
    #[cfg(feature = "parallel")]
    group.bench_function("summarize_10m_transactions_date_ordered_parallel", |b| {
        b.iter(|| summarize_parallel(black_box(&by_date), black_box(&options)))
    });
    // The same again with text ids, one shared text per customer.
    let mut names: Vec<Option<CustomerId>> = Vec::new();
    let by_date_text: Vec<Transaction> = by_date
        .iter()
        .map(|t| {
            let n = t.customer().as_u64().expect("integer ids") as usize;
            if names.len() <= n {
                names.resize(n + 1, None);
            }
            let id = names[n]
                .get_or_insert_with(|| CustomerId::new(&format!("cust-{n:07}")).expect("id"))
                .clone();
            Transaction::new(id, t.at(), t.amount(), t.kind()).expect("transaction")
        })
        .collect();
    drop(names);
    peak("date-ordered, text ids", &|| {
        summarize(&by_date_text, &options)
    });
    #[cfg(feature = "parallel")]
    peak("date-ordered, text ids, parallel", &|| {
        summarize_parallel(&by_date_text, &options)
    });
    group.bench_function("summarize_10m_transactions_date_ordered_text", |b| {
        b.iter(|| summarize(black_box(&by_date_text), black_box(&options)))
    });
    #[cfg(feature = "parallel")]
    group.bench_function(
        "summarize_10m_transactions_date_ordered_text_parallel",
        |b| b.iter(|| summarize_parallel(black_box(&by_date_text), black_box(&options))),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
