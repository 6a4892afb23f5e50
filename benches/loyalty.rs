//! Tier and points evaluation of 1 million members with 10 million transactions, under the
//! rules of `examples/loyalty_rules.json` (rolling 365-day window, quarterly reviews, one tier
//! down with 30 days of grace, points with tier and campaign multipliers, bonuses, a pending
//! period and expiry).
//!
//! ```text
//! cargo bench --bench loyalty -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The log comes from a simple seeded generator: every member makes 10 transactions on days
//! drawn uniformly over 2023–2024, amounts uniform in $5.00–$200.00, and one transaction in 20
//! is a return of up to $50.00.
use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::loyalty::{Evaluator, Programme};
use customer_assets::{CustomerId, Transaction};
use rand::{RngExt, SeedableRng};
use rust_decimal::Decimal;

const MEMBERS: u64 = 1_000_000;
const PER_MEMBER: u64 = 10;

fn log() -> Vec<Transaction> {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let mut out = Vec::with_capacity((MEMBERS * PER_MEMBER) as usize);
    for m in 0..MEMBERS {
        let id = CustomerId::from(m);
        for _ in 0..PER_MEMBER {
            let date = start + Days::new(rng.random_range(0..731));
            let t = if rng.random_range(0..20) == 0 {
                let cents = rng.random_range(100..5_000);
                Transaction::refund(id.clone(), date, Decimal::new(cents, 2))
            } else {
                let cents = rng.random_range(500..20_000);
                Transaction::purchase(id.clone(), date, Decimal::new(cents, 2))
            };
            out.push(t.expect("valid transaction"));
        }
    }
    out
}

/// CPU seconds used by this process so far (user + system, from /proc; Linux only). On a
/// shared machine this is a steadier figure than wall time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn bench(c: &mut Criterion) {
    let programme: Programme =
        serde_json::from_str(include_str!("../examples/loyalty_rules.json")).expect("rules");
    let log = log();
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let evaluator = Evaluator::new(&programme);
    let cpu_before = cpu_seconds();
    let started = std::time::Instant::now();
    let replays = evaluator
        .evaluate_base(&[], &log, &[], &[], as_of)
        .expect("evaluation");
    let first = started.elapsed();
    let cpu = cpu_before.zip(cpu_seconds()).map(|(a, b)| b - a);
    let mut mix = vec![0usize; programme.ladder().len()];
    for r in &replays {
        mix[r.status().tier_index] += 1;
    }
    println!(
        "loyalty: {} members, {} transactions evaluated in {:.2} s wall, {} CPU (first run); tier mix at {as_of}: {:?}",
        replays.len(),
        log.len(),
        first.as_secs_f64(),
        cpu.map_or("?".to_string(), |c| format!("{c:.2} s")),
        programme
            .ladder()
            .tiers()
            .iter()
            .zip(&mix)
            .map(|(t, n)| format!("{} {n}", t.name()))
            .collect::<Vec<_>>()
    );
    drop(replays);
    let mut group = c.benchmark_group("loyalty");
    group.sample_size(10);
    group.bench_function("evaluate_base 1M members 10M transactions", |b| {
        b.iter(|| {
            evaluator
                .evaluate_base(&[], black_box(&log), &[], &[], as_of)
                .expect("evaluation")
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
