//! A folder of Parquet transaction files → per-customer summaries in DataFusion → BG/NBD and
//! Gamma-Gamma fits from the engine's groups → scores → Parquet out, in a session whose memory
//! is capped (the engine spills rather than fail).
//!
//! ```text
//! cargo run --release -p customer-assets-datafusion --example parquet_pipeline -- [IN_DIR OUT_DIR AS_OF]
//! ```
//!
//! `IN_DIR` holds Parquet files with columns `customer_id`, `date` (a date) and `amount`;
//! `AS_OF` is `YYYY-MM-DD`. Without arguments the example first writes a simulated base of
//! 100,000 customers to `target/parquet_pipeline/transactions/` and reads that.

use std::error::Error;
use std::sync::Arc;

use chrono::NaiveDate;
use customer_assets::models::{BgNbdParams, GammaGammaParams};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::sql::SummarySql;
use customer_assets::valuation::DiscountRate;
use customer_assets::{Fit, SummaryOptions, TimeUnit, TransactionModel};
use customer_assets_datafusion::{patterns, spend_data, summarize, Scoring};
use datafusion::arrow::array::{ArrayRef, Date32Array, Decimal128Array, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

/// The session's memory cap: queries that need more spill to disk.
const MEMORY_LIMIT: usize = 256 << 20;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The fair pool shares the cap among the operators that can spill.
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(MEMORY_LIMIT)))
        .build_arc()?;
    let ctx = SessionContext::new_with_config_rt(SessionConfig::new(), runtime);
    let (input, output, as_of) = match args.as_slice() {
        [input, output, as_of] => (input.clone(), output.clone(), as_of.parse::<NaiveDate>()?),
        [] => {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/parquet_pipeline");
            let as_of = write_simulated(&ctx, &format!("{dir}/transactions/")).await?;
            (
                format!("{dir}/transactions/"),
                format!("{dir}/scores/"),
                as_of,
            )
        }
        _ => return Err("usage: parquet_pipeline [IN_DIR OUT_DIR AS_OF]".into()),
    };

    // 1. Summaries, computed by the engine over every file of the folder.
    // (`summarize` checks the columns and rows first: a NULL or negative amount is an error
    // naming the row, not a silently skipped purchase.)
    let transactions = ctx
        .read_parquet(input.as_str(), ParquetReadOptions::default())
        .await?;
    let query = SummarySql::new("transactions", SummaryOptions::new(as_of, TimeUnit::WEEKS));
    ctx.register_table(
        "summaries",
        summarize(transactions, &query).await?.into_view(),
    )?;

    // 2. Fits from the engine's groups: only distinct patterns leave the engine.
    let patterns = patterns(ctx.table("summaries").await?, TimeUnit::WEEKS).await?;
    let bg = BgNbdParams::new().fit(&patterns)?;
    let spend = spend_data(ctx.table("summaries").await?).await?;
    let gg = GammaGammaParams::new().fit(&spend.data)?;
    println!(
        "{} customers in {} patterns; BG/NBD {:?}",
        patterns.total_weight(),
        patterns.len(),
        bg.named_parameters()
    );

    // 3. Scores, written as Parquet.
    Scoring::new(bg)
        .discount(DiscountRate::per_period(0.10, 365.0)?)
        .spend(gg)
        .margin(0.3)?
        .register(&ctx)?;
    let scores = ctx
        .sql(
            r#"SELECT customer_id,
                      p_alive(frequency, recency, "T") AS p_alive,
                      expected_purchases(frequency, recency, "T", 52) AS expected_purchases,
                      dert(frequency, recency, "T") AS dert,
                      clv(frequency, recency, "T", monetary_value) AS clv
               FROM summaries"#,
        )
        .await?;
    scores
        .write_parquet(&output, DataFrameWriteOptions::new(), None)
        .await?;
    let equity = ctx
        .sql(&format!(
            "SELECT count(*) AS customers, sum(clv) AS equity FROM '{output}'"
        ))
        .await?
        .collect()
        .await?;
    println!("scores in {output}");
    println!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&equity)?
    );
    Ok(())
}

/// Writes a simulated base's transactions to `dir` as Parquet files; returns its as-of date.
async fn write_simulated(ctx: &SessionContext, dir: &str) -> Result<NaiveDate, Box<dyn Error>> {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).ok_or("date")?;
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("date")?;
    let base = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
        &SimulationOptions::new(100_000, start, as_of, TimeUnit::WEEKS, 42)
            .acquisition_days(365)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
    )?;
    let log = base.transactions();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("date")?;
    let ids = UInt64Array::from_iter_values(
        log.iter()
            .map(|t| t.customer().as_u64().ok_or("simulated ids are integers"))
            .collect::<Result<Vec<u64>, _>>()?,
    );
    let dates = Date32Array::from_iter_values(
        log.iter()
            .map(|t| (t.at().date() - epoch).num_days() as i32),
    );
    let amounts = Decimal128Array::from_iter_values(log.iter().map(|t| {
        let mut a = t.amount();
        a.rescale(2);
        a.mantissa()
    }))
    .with_precision_and_scale(18, 2)?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::UInt64, false),
        Field::new("date", DataType::Date32, false),
        Field::new("amount", DataType::Decimal128(18, 2), false),
    ]));
    let columns: Vec<ArrayRef> = vec![Arc::new(ids), Arc::new(dates), Arc::new(amounts)];
    let batch = RecordBatch::try_new(schema, columns)?;
    let _ = std::fs::remove_dir_all(dir);
    ctx.read_batch(batch)?
        .repartition(datafusion::logical_expr::Partitioning::RoundRobinBatch(4))?
        .write_parquet(dir, DataFrameWriteOptions::new(), None)
        .await?;
    println!("{} simulated transactions written to {dir}", log.len());
    Ok(as_of)
}
