//! The transaction log of the Parquet benchmarks: a folder of Parquet files as a shop's export
//! has them (rows in date order, timestamps, float amounts), the same bytes on every run.
//!
//! Shared by `benches/parquet_summaries.rs` and `examples/summary_memory.rs` (`#[path]`).

use std::error::Error;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

/// Files the log is cut into.
pub const FILES: usize = 4;
/// The as-of date the benchmarks summarise at (the log runs to the end of 2024).
pub const AS_OF: (i32, u32, u32) = (2024, 6, 30);

/// A reproducible uniform draw in [0, 1) for row `i` and stream `salt` (splitmix64).
fn uniform(i: u64, salt: u64) -> f64 {
    let mut z = i
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / (u64::MAX as f64 + 1.0)
}

/// The folder of the log of `rows` transactions, written there first if it is not yet: under
/// `PARQUET_BENCH_DIR`, or `target/parquet_bench/` of the workspace.
pub fn ensure(rows: usize) -> Result<PathBuf, Box<dyn Error>> {
    let root = match std::env::var_os("PARQUET_BENCH_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/parquet_bench"),
    };
    let dir = root.join(format!("transactions_{rows}"));
    let done = dir.join("_complete");
    if done.exists() {
        return Ok(dir);
    }
    fs::create_dir_all(&dir)?;
    write(&dir, rows)?;
    File::create(done)?;
    Ok(dir)
}

/// About nine purchases a customer, first purchases over the first half of 2023, each later
/// one up to 550 days after; amounts in cents between 1 and 81 (a skewed draw), as floats.
fn write(dir: &Path, rows: usize) -> Result<(), Box<dyn Error>> {
    // (day, customer, second of the day, cents): 16 bytes a row.
    let mut log: Vec<(u16, u32, u32, u32)> = Vec::with_capacity(rows);
    let mut customer = 0_u32;
    while log.len() < rows {
        let c = u64::from(customer);
        let count = 1 + (uniform(c, 1) * 16.0) as usize;
        let first = (uniform(c, 2) * 180.0) as u16;
        for k in 0..count.min(rows - log.len()) {
            let i = (c << 5) | k as u64;
            let day = if k == 0 {
                first
            } else {
                first + (uniform(i, 3) * 550.0) as u16
            };
            let second = (uniform(i, 4) * 86_400.0) as u32;
            let cents = 100 + (uniform(i, 5).powi(2) * 8_000.0) as u32;
            log.push((day, customer, second, cents));
        }
        customer += 1;
    }
    log.sort_by_key(|&(day, c, second, _)| (day, second, c));

    let schema = Arc::new(Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new(
            "date",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            false,
        ),
        Field::new("amount", DataType::Float64, false),
    ]));
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).ok_or("epoch")?;
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).ok_or("start")?;
    let start_day = (start - epoch).num_days();
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    for (n, part) in log.chunks(rows.div_ceil(FILES).max(1)).enumerate() {
        let file = File::create(dir.join(format!("part-{n}.parquet")))?;
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props.clone()))?;
        for chunk in part.chunks(1 << 16) {
            let ids = Int64Array::from_iter_values(chunk.iter().map(|r| i64::from(r.1)));
            let times = TimestampMicrosecondArray::from_iter_values(
                chunk
                    .iter()
                    .map(|r| ((start_day + i64::from(r.0)) * 86_400 + i64::from(r.2)) * 1_000_000),
            );
            let amounts =
                Float64Array::from_iter_values(chunk.iter().map(|r| f64::from(r.3) / 100.0));
            let columns: Vec<ArrayRef> = vec![Arc::new(ids), Arc::new(times), Arc::new(amounts)];
            writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
        }
        writer.close()?;
    }
    Ok(())
}
