//! Migration matrices between two equity reports of 1,000,000 customers each (950,000 in both,
//! 50,000 gone, 50,000 new): by asset class and by a segmenter's labels (125 RFM cells). The
//! reports are built directly, so only the matrix is timed.
//!
//! ```text
//! cargo bench --bench migration -- --warm-up-time 1 --measurement-time 3
//! ```
use std::hint::black_box;
use std::sync::Arc;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::segment::asset_quality::AssetClass;
use customer_assets::valuation::{
    CustomerValue, EquityReport, Migration, MigrationDimension, SegmentEquity, ValueAtRisk,
};
use customer_assets::{CustomerId, TimeUnit};
use rust_decimal::Decimal;

const CUSTOMERS: u64 = 1_000_000;
const TURNOVER: u64 = 50_000;

/// A well-mixed 64-bit hash (splitmix64's finaliser) of a customer and a date.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Customers `first..first + CUSTOMERS`, each with a class, an RFM label and a CLV drawn from
/// `seed`; ids in order, as the valuation lists them.
fn report(as_of: NaiveDate, first: u64, seed: u64) -> EquityReport {
    let rfm: Arc<str> = Arc::from("rfm");
    let labels: Vec<Arc<str>> = (0..125)
        .map(|i| Arc::from(format!("{}{}{}", i / 25 + 1, i / 5 % 5 + 1, i % 5 + 1)))
        .collect();
    // Three customers in four keep their class and label from one report to the next.
    let customers: Vec<CustomerValue> = (first..first + CUSTOMERS)
        .map(|id| {
            let h = mix(id ^ if mix(id).is_multiple_of(4) { seed } else { 0 });
            CustomerValue {
                id: CustomerId::from(id),
                segments: vec![(rfm.clone(), labels[(h % 125) as usize].clone())],
                tier: None,
                p_alive: 0.5,
                expected_purchases: 1.0,
                expected_spend: 10.0,
                dert: 1.0,
                clv: Decimal::new((mix(h ^ seed) % 100_000) as i64, 2),
                asset_class: AssetClass::ALL[(h >> 8) as usize % 4],
                referrals: 0,
                referral_value: Decimal::ZERO,
            }
        })
        .collect();
    EquityReport {
        as_of,
        unit: TimeUnit::WEEKS,
        horizon: 52.0,
        margin: 0.3,
        discount_rate: 0.002,
        equity: customers.iter().map(|c| c.clv).sum(),
        customers,
        by_segment: vec![SegmentEquity {
            segmenter: "rfm".into(),
            segments: Vec::new(),
        }],
        by_tier: Vec::new(),
        by_asset_class: Vec::new(),
        value_at_risk: ValueAtRisk {
            below_p_alive: 0.3,
            customers: 0,
            clv: Decimal::ZERO,
            historical_spend: Decimal::ZERO,
        },
        top_shares: Vec::new(),
        gini: None,
        asset_cuts: (0.0, 0.5),
        kpis: None,
        models: Vec::new(),
        customers_at_mean_spend: 0,
        firm: None,
        intervals: None,
        interval_note: None,
        consent: None,
        feedback: None,
        referrals: None,
        covariates: None,
    }
}

fn bench(c: &mut Criterion) {
    let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).expect("date");
    let (a, b) = (report(day(3, 31), 0, 1), report(day(6, 30), TURNOVER, 2));
    let mut group = c.benchmark_group("migration");
    group.sample_size(10);
    for (name, dimension) in [
        ("asset_class_1m", MigrationDimension::AssetClass),
        ("rfm_1m", MigrationDimension::segmenter("rfm")),
    ] {
        group.bench_function(name, |bench| {
            bench.iter(|| {
                let m = Migration::between(black_box(&a), black_box(&b), dimension.clone())
                    .expect("migration");
                black_box(m.transitions());
                m
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
