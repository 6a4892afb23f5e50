//! One summary of the Parquet benchmarks' log, for its wall time and peak memory: through
//! DataFusion with or without a memory cap, or through the core's in-memory path.
//!
//! ```text
//! cargo run --release -p customer-assets-datafusion --example summary_memory -- MODE [ROWS] [--digest]
//! ```
//!
//! `MODE` is `datafusion` (no cap), `datafusion:MB` (the session's memory pool capped at `MB`
//! megabytes; the engine spills to disk), `summaries` (the engine's scan feeding the core's
//! accumulators, `customer_assets_datafusion::summaries`) or `core` (the Parquet files decoded and pushed into a
//! `SummaryAccumulator`). `ROWS` (10,000,000) picks the log, written under
//! `target/parquet_bench/` first if missing. The summaries are streamed, not collected. It prints
//! the customers, with `--digest` a digest of every summary field that does not depend on the
//! rows' order (equal digests, equal summaries; its hashing is timed too), the wall time
//! and the process's peak resident memory (`VmHWM` of `/proc/self/status`, on Linux).

use std::error::Error;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use customer_assets::arrow::TransactionColumns;
use customer_assets::sql::SummarySql;
use customer_assets::{Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit};
use customer_assets_datafusion::{summaries, summarize};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::StreamExt;

#[path = "../benches/support/parquet_log.rs"]
mod parquet_log;

/// The sum of the rows' hashes: the same for the same rows in any order (and batching).
fn digest(batch: &RecordBatch) -> Result<u64, Box<dyn Error>> {
    let mut sum = 0_u64;
    {
        let options = FormatOptions::default().with_null("NULL");
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            let mut h = DefaultHasher::new();
            for f in &formatters {
                f.value(row).to_string().hash(&mut h);
            }
            sum = sum.wrapping_add(h.finish());
        }
    }
    Ok(sum)
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("datafusion", String::as_str);
    let with_digest = args.iter().any(|a| a == "--digest");
    let rows: usize = match args.get(1).filter(|a| *a != "--digest") {
        Some(n) => n.parse()?,
        None => 10_000_000,
    };
    let dir = parquet_log::ensure(rows)?;
    let (y, m, d) = parquet_log::AS_OF;
    let options = SummaryOptions::new(
        NaiveDate::from_ymd_opt(y, m, d).ok_or("as-of date")?,
        TimeUnit::WEEKS,
    );
    let started = Instant::now();
    let (customers, output) = if mode == "core" {
        let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
        for n in 0..parquet_log::FILES {
            let file = File::open(dir.join(format!("part-{n}.parquet")))?;
            for batch in ParquetRecordBatchReaderBuilder::try_new(file)?.build()? {
                acc.push_batch(&batch?, &TransactionColumns::new())?;
            }
        }
        (acc.finish(&options)?.len(), None)
    } else if mode == "summaries" {
        let ctx = SessionContext::new();
        let log = ctx
            .read_parquet(format!("{}/", dir.display()), ParquetReadOptions::default())
            .await?;
        let s = summaries(log, &SummarySql::new("transactions", options)).await?;
        let digest = if with_digest {
            use customer_assets::arrow::{summaries_batch, OutputOptions};
            let batch = summaries_batch(&s, &OutputOptions::for_summaries(&s))?;
            Some(digest(&batch)?)
        } else {
            None
        };
        (s.len(), digest)
    } else {
        let limit = match mode.strip_prefix("datafusion:") {
            Some(mb) => Some(mb.parse::<usize>()? << 20),
            None if mode == "datafusion" => None,
            None => return Err(format!("unknown mode {mode:?}").into()),
        };
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = limit {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime.build_arc()?);
        let log = ctx
            .read_parquet(format!("{}/", dir.display()), ParquetReadOptions::default())
            .await?;
        // Streamed, not collected: memory is the engine's, not the output's.
        let mut stream = summarize(log, &SummarySql::new("transactions", options))
            .await?
            .execute_stream()
            .await?;
        let (mut customers, mut sum) = (0, 0_u64);
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            customers += batch.num_rows();
            if with_digest {
                sum = sum.wrapping_add(digest(&batch)?);
            }
        }
        (customers, with_digest.then_some(sum))
    };
    let took = started.elapsed();
    let digest = output.map_or_else(|| "-".to_string(), |d| format!("{d:016x}"));
    println!(
        "mode={mode} rows={rows} customers={customers} digest={digest} seconds={:.3} peak_rss={}",
        took.as_secs_f64(),
        peak_rss()
    );
    Ok(())
}
