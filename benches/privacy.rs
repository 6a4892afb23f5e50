//! Pseudonymising 1,000,000 customer ids with `Pseudonymizer::pseudonym` (HMAC-SHA-256, written
//! as 64 hex digits): integer ids, and text ids (`cust-0000042`) as a CSV reader makes them.
//!
//! `cargo bench --bench privacy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::{CustomerId, Pseudonymizer};

const IDS: u64 = 1_000_000;

fn pseudonymize_all(pseudonymizer: &Pseudonymizer, ids: &[CustomerId]) -> usize {
    ids.iter()
        .map(|id| pseudonymizer.pseudonym(id))
        .filter(|alias| alias.as_u64().is_none())
        .count()
}

fn bench(c: &mut Criterion) {
    let key: Vec<u8> = (0u8..32).collect();
    let pseudonymizer = Pseudonymizer::new(&key).expect("a 32-byte key");
    let integers: Vec<CustomerId> = (0..IDS).map(CustomerId::from).collect();
    let texts: Vec<CustomerId> = (0..IDS)
        .map(|i| CustomerId::new(&format!("cust-{i:07}")).expect("id"))
        .collect();

    let mut group = c.benchmark_group("pseudonymize");
    group.sample_size(10);
    group.bench_function("1m integer ids", |bench| {
        bench.iter(|| pseudonymize_all(&pseudonymizer, black_box(&integers)))
    });
    group.bench_function("1m text ids", |bench| {
        bench.iter(|| pseudonymize_all(&pseudonymizer, black_box(&texts)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
