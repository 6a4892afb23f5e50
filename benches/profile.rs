//! The attribute profile (`valuation::profile`) of 1,000,000 customers with 3 numeric and 2
//! categorical attributes (4 and 12 levels), against frequency, mean spend, P(alive) and CLV,
//! with 8 segments.
//!
//! ```text
//! cargo bench --bench profile -- --warm-up-time 1 --measurement-time 20
//! ```
//! The customers are synthetic, drawn from a fixed seed: 60% one-off buyers (no mean spend),
//! attributes loosely tied to behaviour, one customer in twenty without each attribute.
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::covariates::{AttributeTable, AttributeValue};
use customer_assets::kpi::CustomerGroups;
use customer_assets::valuation::profile::{AttributeProfile, Behaviour, ProfileOptions};
use customer_assets::CustomerId;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CUSTOMERS: u64 = 1_000_000;

fn base() -> (AttributeTable, Vec<Behaviour>, CustomerGroups) {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut table = AttributeTable::new();
    let mut rows = Vec::with_capacity(CUSTOMERS as usize);
    let mut segments = CustomerGroups::new();
    let regions = ["north", "south", "east", "west"];
    let campaigns: Vec<String> = (0..12).map(|k| format!("campaign-{k:02}")).collect();
    for i in 0..CUSTOMERS {
        let id = CustomerId::from(i);
        let mut x = 0u32;
        while rng.random::<f64>() < if x == 0 { 0.4 } else { 0.7 } {
            x += 1;
        }
        let spend = (x > 0).then(|| (10.0 / rng.random::<f64>().max(1e-9).sqrt()).min(5_000.0));
        let p_alive = rng.random::<f64>();
        let clv = f64::from(x) * spend.unwrap_or(15.0) * p_alive;
        rows.push(Behaviour::new(id.clone(), x, spend, p_alive, clv).expect("valid row"));
        let mut put = |name: &str, value: AttributeValue, rng: &mut ChaCha8Rng| {
            if rng.random::<f64>() >= 0.05 {
                table.insert(id.clone(), name, value).expect("valid value");
            }
        };
        let age = 18.0 + 60.0 * rng.random::<f64>() + f64::from(x.min(10));
        put(
            "age",
            AttributeValue::number(age.floor()).unwrap(),
            &mut rng,
        );
        let income = 20_000.0 + 80_000.0 * rng.random::<f64>();
        put("income", AttributeValue::number(income).unwrap(), &mut rng);
        let tenure = f64::from(rng.random_range(0..20u32));
        put("tenure", AttributeValue::number(tenure).unwrap(), &mut rng);
        let region = regions[rng.random_range(0..4usize)];
        put(
            "region",
            AttributeValue::category(region).unwrap(),
            &mut rng,
        );
        let campaign = &campaigns[rng.random_range(0..12usize)];
        put(
            "campaign",
            AttributeValue::category(campaign).unwrap(),
            &mut rng,
        );
        segments
            .assign(
                id,
                ["a", "b", "c", "d", "e", "f", "g", "h"][(i % 8) as usize],
            )
            .expect("one segment each");
    }
    (table, rows, segments)
}

fn profile(c: &mut Criterion) {
    let (table, rows, segments) = base();
    let options = ProfileOptions::default();
    let mut group = c.benchmark_group("profile");
    group.sample_size(10);
    group.bench_function("profile_1m_3_numeric_2_categorical", |b| {
        b.iter(|| AttributeProfile::compute(&table, &rows, None, &options).expect("profile"))
    });
    group.bench_function("profile_1m_with_8_segments", |b| {
        b.iter(|| {
            AttributeProfile::compute(&table, &rows, Some(&segments), &options).expect("profile")
        })
    });
    group.finish();
}

criterion_group!(benches, profile);
criterion_main!(benches);
