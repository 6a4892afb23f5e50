//! Summaries of 10 million transactions in Parquet (a folder of four files, rows in date order,
//! timestamps and float amounts), on the machine's cores:
//!
//! - `datafusion_summarize`: [`summarize`] in a DataFusion session (the row checks included);
//! - `datafusion_summarize_unchecked`: the same without the pass that checks the rows;
//! - `datafusion_summarize_256MB`: checked, in a session whose memory pool is capped at 256 MB
//!   (the engine spills);
//! - `datafusion_summaries`: [`summaries`], the engine's scan feeding the core's accumulator in
//!   each partition (in memory);
//! - `core_decode_and_accumulate`: the baseline, the core's in-memory path: the Parquet files
//!   decoded by the parquet crate and pushed batch by batch into one `SummaryAccumulator`.
//!
//! Target: DataFusion within 2× of the baseline. `PARQUET_BENCH_ROWS=N` changes the size (run
//! as a test, without `--bench`, the log has 100,000 rows); the log is written once under
//! `target/parquet_bench/` (or `PARQUET_BENCH_DIR`).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use customer_assets::arrow::TransactionColumns;
use customer_assets::sql::SummarySql;
use customer_assets::{Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit};
use customer_assets_datafusion::{summaries, summarize, summarize_unchecked};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};

#[path = "support/parquet_log.rs"]
mod parquet_log;

fn options() -> SummaryOptions {
    let (y, m, d) = parquet_log::AS_OF;
    let as_of = NaiveDate::from_ymd_opt(y, m, d).expect("the as-of date");
    SummaryOptions::new(as_of, TimeUnit::WEEKS)
}

/// The log's folder as a DataFrame, in a session on the machine's cores (its memory pool capped
/// at `memory_limit` bytes, if given).
async fn log(dir: &Path, memory_limit: Option<usize>) -> DataFrame {
    let config = SessionConfig::new().with_target_partitions(num_cpus());
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = memory_limit {
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    let ctx = SessionContext::new_with_config_rt(config, runtime.build_arc().expect("a runtime"));
    let path = format!("{}/", dir.display());
    ctx.read_parquet(path, ParquetReadOptions::default())
        .await
        .expect("the Parquet folder")
}

/// Customers summarised by the engine (rows of the result).
async fn engine(dir: &Path, memory_limit: Option<usize>, checked: bool) -> usize {
    let log = log(dir, memory_limit).await;
    let query = SummarySql::new("transactions", options());
    let summaries = if checked {
        summarize(log, &query).await
    } else {
        summarize_unchecked(log, &query).await
    }
    .expect("the summary query");
    let batches = summaries.collect().await.expect("summaries");
    batches.iter().map(|b| b.num_rows()).sum()
}

/// Customers summarised by the engine's scan and the core's accumulators.
async fn engine_in_memory(dir: &Path) -> usize {
    let log = log(dir, None).await;
    let query = SummarySql::new("transactions", options());
    summaries(log, &query).await.expect("summaries").len()
}

/// Customers summarised by the core from the decoded files.
fn core(dir: &Path) -> usize {
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    let columns = TransactionColumns::new();
    for n in 0..parquet_log::FILES {
        let file = File::open(dir.join(format!("part-{n}.parquet"))).expect("a Parquet file");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("a Parquet reader")
            .with_batch_size(8192)
            .build()
            .expect("a Parquet reader");
        for batch in reader {
            acc.push_batch(&batch.expect("a batch"), &columns)
                .expect("transactions");
        }
    }
    acc.finish(&options()).expect("summaries").len()
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn bench(c: &mut Criterion) {
    // `cargo test --all-targets` runs each case once without `--bench`: a small log there.
    let full = std::env::args().any(|a| a == "--bench");
    let rows = std::env::var("PARQUET_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 10_000_000 } else { 100_000 });
    let dir = parquet_log::ensure(rows).expect("the benchmark's log");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(num_cpus())
        .enable_all()
        .build()
        .expect("a tokio runtime");

    // Every path must summarise the same customers before anything is timed.
    let customers = core(&dir);
    for (limit, checked) in [(None, true), (None, false), (Some(256 << 20), true)] {
        assert_eq!(runtime.block_on(engine(&dir, limit, checked)), customers);
    }
    assert_eq!(runtime.block_on(engine_in_memory(&dir)), customers);

    let mut group = c.benchmark_group(format!("parquet_summaries/{rows} transactions"));
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("datafusion_summarize", |b| {
        b.iter(|| runtime.block_on(engine(&dir, None, true)))
    });
    group.bench_function("datafusion_summarize_unchecked", |b| {
        b.iter(|| runtime.block_on(engine(&dir, None, false)))
    });
    group.bench_function("datafusion_summarize_256MB", |b| {
        b.iter(|| runtime.block_on(engine(&dir, Some(256 << 20), true)))
    });
    group.bench_function("datafusion_summaries", |b| {
        b.iter(|| runtime.block_on(engine_in_memory(&dir)))
    });
    group.bench_function("core_decode_and_accumulate", |b| b.iter(|| core(&dir)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
