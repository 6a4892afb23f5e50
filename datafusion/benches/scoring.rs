//! Scoring with the SQL functions: P(alive) with BG/NBD for 10 million customers through
//! DataFusion (`SELECT sum(p_alive(...))`, so that the figure is the scoring's, not the
//! collection's). Target: at least 10 million customers a second on 2 cores.
//!
//! `SCORING_BENCH_CUSTOMERS=N` changes the number of customers (run as a test, without
//! `--bench`: 100,000).

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use customer_assets::models::{BgNbd, BgNbdParameters};
use customer_assets::TimeUnit;
use customer_assets_datafusion::Scoring;
use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, UInt32Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

/// `n` summaries spread over the range of a two-year base in weeks (frequencies 0..40), from a
/// fixed hash of the row number: the same table on every run.
fn summaries(n: usize, partitions: usize) -> MemTable {
    let schema = Arc::new(Schema::new(vec![
        Field::new("frequency", DataType::UInt32, false),
        Field::new("recency", DataType::Float64, false),
        Field::new("T", DataType::Float64, false),
    ]));
    let hash = |i: u64, salt: u64| {
        let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
        z = (z ^ (z >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (z ^ (z >> 29)) as f64 / u64::MAX as f64
    };
    let per_partition = n.div_ceil(partitions);
    let batch = 8192;
    let partitions = (0..partitions)
        .map(|p| {
            let (from, to) = (p * per_partition, ((p + 1) * per_partition).min(n));
            (from..to)
                .step_by(batch)
                .map(|start| {
                    let rows = start..(start + batch).min(to);
                    let age: Vec<f64> = rows
                        .clone()
                        .map(|i| 1.0 + (hash(i as u64, 1) * 730.0).floor() / 7.0)
                        .collect();
                    let x: Vec<u32> = rows
                        .clone()
                        .map(|i| (hash(i as u64, 2).powi(3) * 40.0) as u32)
                        .collect();
                    let t_x: Vec<f64> = rows
                        .clone()
                        .zip(&age)
                        .zip(&x)
                        .map(|((i, t), &x)| {
                            if x == 0 {
                                0.0
                            } else {
                                (hash(i as u64, 3) * t * 7.0).floor() / 7.0
                            }
                        })
                        .collect();
                    let columns: Vec<ArrayRef> = vec![
                        Arc::new(UInt32Array::from(x)),
                        Arc::new(Float64Array::from(t_x)),
                        Arc::new(Float64Array::from(age)),
                    ];
                    RecordBatch::try_new(Arc::clone(&schema), columns).expect("a batch")
                })
                .collect()
        })
        .collect();
    MemTable::try_new(schema, partitions).expect("a table")
}

fn scoring(c: &mut Criterion) {
    // `cargo test --all-targets` runs each case once without `--bench`: fewer customers there.
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("SCORING_BENCH_CUSTOMERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if full { 10_000_000 } else { 100_000 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let ctx = SessionContext::new();
    let partitions = ctx.state().config().target_partitions();
    ctx.register_table("summaries", Arc::new(summaries(n, partitions)))
        .expect("the table");
    let parameters = BgNbdParameters {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    Scoring::new(BgNbd::new(parameters, TimeUnit::WEEKS).expect("a model"))
        .register(&ctx)
        .expect("the functions");
    let sql = r#"SELECT sum(p_alive(frequency, recency, "T")) FROM summaries"#;
    let mut group = c.benchmark_group("scoring");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(format!("p_alive BG/NBD, {n} customers"), |b| {
        b.iter(|| {
            runtime.block_on(async {
                ctx.sql(sql)
                    .await
                    .expect("a plan")
                    .collect()
                    .await
                    .expect("the sum")
            })
        })
    });
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
