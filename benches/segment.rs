//! RFM scoring with named segments, and k-means (k = 8), on 1,000,000 customers; and the
//! category mix the preference segmenter reads, of a ledger of 1,000,000 transactions in 20
//! categories (`categories_1m`); NPS and satisfaction with intervals of 1,000,000 feedback
//! records in 50 groups, over a year and over 12 periods of 30 days (`feedback_1m`).
//!
//! ```text
//! cargo bench --bench segment -- --warm-up-time 1 --measurement-time 20
//! ```
//! The customers are synthetic but shaped like a BTYD base (many one-off buyers, skewed spend),
//! drawn from a fixed seed.
use chrono::{Days, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::kpi::{
    feedback_by_group, feedback_by_group_per_period, CustomerGroups, Period,
};
use customer_assets::segment::kmeans::KMeansParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::segment::{Profile, Segmenter};
use customer_assets::{CustomerId, Feedback, Ledger, LedgerOptions, TimeUnit, Transaction};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

const CUSTOMERS: u64 = 1_000_000;

fn base() -> Vec<Profile> {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    (0..CUSTOMERS)
        .map(|i| {
            let age = 26.0 + 13.0 * rng.random::<f64>();
            // About 60% one-off buyers, then a long tail of repeat purchases.
            let mut x = 0u32;
            while rng.random::<f64>() < if x == 0 { 0.4 } else { 0.7 } {
                x += 1;
            }
            let t_x = if x == 0 {
                0.0
            } else {
                age * rng.random::<f64>()
            };
            let spend = if x == 0 {
                Decimal::ZERO
            } else {
                let u: f64 = rng.random::<f64>().max(1e-9);
                Decimal::from_f64_retain((10.0 / u.sqrt()).min(5_000.0))
                    .unwrap_or(Decimal::TEN)
                    .round_dp(2)
            };
            Profile::new(CustomerId::from(i), TimeUnit::WEEKS, x, t_x, age, spend)
                .expect("valid synthetic profile")
        })
        .collect()
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
    let profiles = base();
    let mut group = c.benchmark_group("segment_1m");
    group.sample_size(10);
    group.bench_function("rfm_scores_and_named_segments", |b| {
        b.iter(|| {
            RfmParams::default()
                .segment(&profiles)
                .expect("rfm")
                .1
                .len()
        })
    });
    let cpu_before = cpu_seconds();
    let started = std::time::Instant::now();
    let (model, _) = KMeansParams::new(8)
        .seed(1)
        .segment(&profiles)
        .expect("kmeans");
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(cpu_seconds()).map(|(a, b)| b - a);
    eprintln!(
        "k-means k = 8: {} Lloyd iterations, inertia {:.1}; first run {wall:.2} s wall, {} CPU",
        model.iterations(),
        model.inertia(),
        cpu.map_or("?".to_string(), |c| format!("{c:.2} s")),
    );
    group.bench_function("kmeans_k8", |b| {
        b.iter(|| {
            KMeansParams::new(8)
                .seed(1)
                .segment(&profiles)
                .expect("kmeans")
                .1
                .len()
        })
    });
    group.finish();
}

/// A ledger of 1,000,000 transactions of 100,000 customers over 2024 in date order, each in one
/// of 20 categories (one in 20 without), one in 20 a return.
fn categorised_ledger() -> (Ledger, NaiveDate) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let names: Vec<String> = (0..20).map(|k| format!("category-{k:02}")).collect();
    let mut log: Vec<Transaction> = (0..1_000_000u64)
        .map(|i| {
            let customer = CustomerId::from(rng.random_range(0..100_000u64));
            let date = start + Days::new(rng.random_range(0..366u64));
            let amount = Decimal::new(rng.random_range(100..20_000i64), 2);
            let t = if i % 20 == 19 {
                Transaction::refund(customer, date, amount)
            } else {
                Transaction::purchase(customer, date, amount)
            }
            .expect("transaction");
            match names.get(rng.random_range(0..21usize)) {
                Some(name) => t.with_category(name).expect("category"),
                None => t,
            }
        })
        .collect();
    log.sort_by_key(Transaction::at);
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_transactions(log).expect("ledger");
    (ledger, NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"))
}

fn categories(c: &mut Criterion) {
    let (ledger, as_of) = categorised_ledger();
    let mut group = c.benchmark_group("categories_1m");
    group.sample_size(10);
    group.bench_function("category_mix", |b| {
        b.iter(|| ledger.category_mix(as_of).expect("mix").len())
    });
    group.finish();
}

/// 1,000,000 feedback records over 2024 from 200,000 customers in 50 groups (customer id mod 50),
/// each with a recommend score, three in four with a satisfaction score on 1..=5.
fn feedback_base() -> (Vec<Feedback>, CustomerGroups, Period) {
    let mut rng = ChaCha8Rng::seed_from_u64(19);
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let feedback = (0..1_000_000u64)
        .map(|_| {
            let customer = CustomerId::from(rng.random_range(0..200_000u64));
            let date = start + Days::new(rng.random_range(0..366u64));
            let satisfaction = (rng.random_range(0..4u8) > 0)
                .then(|| (f64::from(rng.random_range(1..=5u8)), 1.0, 5.0));
            let recommend = rng.random_range(0..=10u8);
            Feedback::new(customer, date, satisfaction, Some(recommend)).expect("feedback")
        })
        .collect();
    let groups = CustomerGroups::from_pairs(
        (0..200_000u64).map(|c| (CustomerId::from(c), format!("group-{:02}", c % 50))),
    )
    .expect("groups");
    let year = Period::new(start, start + Days::new(365)).expect("period");
    (feedback, groups, year)
}

fn feedback(c: &mut Criterion) {
    let (feedback, groups, year) = feedback_base();
    let mut group = c.benchmark_group("feedback_1m");
    group.sample_size(10);
    group.bench_function("feedback_by_group", |b| {
        b.iter(|| {
            feedback_by_group(&feedback, year, &groups, 0.95)
                .expect("by group")
                .groups
                .len()
        })
    });
    let december = Period::new(
        NaiveDate::from_ymd_opt(2024, 12, 2).expect("date"),
        NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
    )
    .expect("period");
    group.bench_function("feedback_by_group_12_periods", |b| {
        b.iter(|| {
            feedback_by_group_per_period(&feedback, december, 12, &groups, 0.95)
                .expect("per period")
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench, categories, feedback);
criterion_main!(benches);
