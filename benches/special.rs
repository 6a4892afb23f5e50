//! ln 2F1 on Pareto/NBD arguments, and the Gamma-Gamma fit on 100,000 customers.
//!
//! `cargo bench --bench special -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::advanced::{ln_hyp2f1, ln_hyp2f1_grad};
use customer_assets::fit::Fit;
use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, Poisson};

/// Pareto/NBD likelihood arguments 2F1(r+s+x, s+1; r+s+x+1; z) at the CDNOW estimates
/// (r = 0.553, s = 0.606, alpha = 10.578, beta = 11.669), for a typical and a heavy buyer, and a
/// large-x case with z near 1.
fn pareto_args() -> [(&'static str, f64, f64, f64, f64); 3] {
    let (r, s) = (0.553, 0.606);
    [
        (
            "cdnow x=2",
            r + s + 2.0,
            r + 2.0,
            r + s + 3.0,
            (11.669 - 10.578) / (11.669 + 30.43),
        ),
        (
            "heavy x=221",
            r + s + 221.0,
            r + 221.0,
            r + s + 222.0,
            (11.669 - 10.578) / (11.669 + 103.43),
        ),
        (
            "x=10000 z=0.98",
            r + s + 10000.0,
            s + 1.0,
            r + s + 10001.0,
            4999.0 / 5100.0,
        ),
    ]
}

fn spend(n: usize) -> SpendData {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let count = Poisson::new(2.0).unwrap();
    let nu = Gamma::new(3.74, 1.0 / 15.44).unwrap();
    let rows: Vec<(u32, f64, f64)> = (0..n)
        .map(|_| {
            let x = 1 + count.sample(&mut rng) as u32;
            let v: f64 = nu.sample(&mut rng);
            let z = Gamma::new(6.25, 1.0 / v).unwrap();
            let total: f64 = (0..x).map(|_| z.sample(&mut rng)).sum();
            (x, total / f64::from(x), 1.0)
        })
        .collect();
    SpendData::new(rows).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ln_hyp2f1");
    for (name, a, b, cc, z) in pareto_args() {
        group.bench_function(format!("value {name}"), |bench| {
            bench.iter(|| ln_hyp2f1(black_box(a), black_box(b), black_box(cc), black_box(z)))
        });
        group.bench_function(format!("gradient {name}"), |bench| {
            bench.iter(|| ln_hyp2f1_grad(black_box(a), black_box(b), black_box(cc), black_box(z)))
        });
    }
    group.finish();

    let data = spend(100_000);
    let mut group = c.benchmark_group("gamma_gamma");
    group.sample_size(10);
    group.bench_function("fit 100k customers", |bench| {
        bench.iter(|| GammaGammaParams::new().fit(black_box(&data)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
