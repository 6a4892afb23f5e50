//! Parquet and Arrow IPC input: every subcommand that reads a table gives, on the same data as
//! Parquet, as an Arrow IPC file and as an Arrow IPC stream, what it gives on the CSV file; bad
//! values are named by file, column and row.

use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};

use crate::{data_file, ok_with_stderr, refused, temp_dir};

const LOG_TYPES: &[(&str, DataType)] = &[
    ("customer_id", DataType::Utf8),
    ("date", DataType::Date32),
    ("quantity", DataType::Int64),
    ("amount", DataType::Decimal128(12, 2)),
    ("master_customer_id", DataType::Int64),
];

const SUMMARY_TYPES: &[(&str, DataType)] = &[
    ("customer_id", DataType::Utf8),
    ("frequency", DataType::Int64),
    ("recency", DataType::Float64),
    ("T", DataType::Float64),
    ("monetary_value", DataType::Float64),
];

/// The CSV file at `csv`, typed as `types` says, as one record batch per 1,000 rows.
fn batches(csv: &Path, types: &[(&str, DataType)]) -> Vec<RecordBatch> {
    let fields: Vec<Field> = types
        .iter()
        .map(|(name, t)| Field::new(*name, t.clone(), true))
        .collect();
    let reader = arrow_csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(true)
        .with_batch_size(1_000)
        .build(std::fs::File::open(csv).unwrap())
        .unwrap();
    reader.collect::<Result<Vec<_>, _>>().unwrap()
}

/// `batches` written to `dir` as `name.parquet`, `name.arrow` (the IPC file format) and
/// `name.arrows` (the IPC stream format); their paths.
fn write_all(dir: &Path, name: &str, batches: &[RecordBatch]) -> [String; 3] {
    let schema = batches[0].schema();
    let parquet = dir.join(format!("{name}.parquet"));
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&parquet).unwrap(),
        schema.clone(),
        None,
    )
    .unwrap();
    let file = dir.join(format!("{name}.arrow"));
    let mut file_writer =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(&file).unwrap(), &schema)
            .unwrap();
    let stream = dir.join(format!("{name}.arrows"));
    let mut stream_writer =
        arrow_ipc::writer::StreamWriter::try_new(std::fs::File::create(&stream).unwrap(), &schema)
            .unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
        file_writer.write(batch).unwrap();
        stream_writer.write(batch).unwrap();
    }
    writer.close().unwrap();
    file_writer.finish().unwrap();
    stream_writer.finish().unwrap();
    [parquet, file, stream].map(|p| p.to_str().unwrap().to_string())
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `args` with the table flag's value `csv`, then `other`: the same output.
#[track_caller]
fn same_output(args: &[&str], csv: &str, other: &str) {
    let with = |path: &str| -> Vec<String> {
        args.iter()
            .map(|a| if *a == "TABLE" { path } else { a })
            .map(str::to_string)
            .collect()
    };
    let csv_args = with(csv);
    let other_args = with(other);
    let (expected, _) = ok_with_stderr(&as_strs(&csv_args));
    let (found, _) = ok_with_stderr(&as_strs(&other_args));
    assert!(!expected.is_empty(), "{args:?}");
    assert_eq!(found, expected, "{other_args:?}");
}

#[test]
fn every_log_reader_reads_parquet_and_arrow_ipc_as_csv() {
    let dir = temp_dir("formats-log");
    let csv = data_file("cdnow_sample_transactions.csv");
    let csv = csv.to_str().unwrap();
    let typed = batches(Path::new(csv), LOG_TYPES);
    assert!(typed.len() > 1);
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/loyalty_rules.json"
    );
    for other in write_all(&dir, "log", &typed) {
        for args in [
            &[
                "summarize",
                "--transactions",
                "TABLE",
                "--end",
                "1997-09-30",
                "--unit",
                "weeks",
                "--holdout-end",
                "1998-06-30",
            ][..],
            &["kpi", "--transactions", "TABLE", "--end", "1997-09-30"][..],
            &[
                "tiers",
                "--transactions",
                "TABLE",
                "--rules",
                rules,
                "--as-of",
                "1997-09-30",
            ][..],
            &[
                "report",
                "--transactions",
                "TABLE",
                "--end",
                "1997-09-30",
                "--margin",
                "0.3",
            ][..],
            &[
                "validate",
                "--transactions",
                "TABLE",
                "--calibration-end",
                "1997-09-30",
                "--end",
                "1998-06-30",
                "--unit",
                "weeks",
                "--model",
                "bg-nbd",
            ][..],
        ] {
            same_output(args, csv, &other);
        }
    }
    // The summary of the Parquet log is the reference summary file, row for row.
    let parquet = dir.join("log.parquet");
    let (summary, _) = ok_with_stderr(&[
        "summarize",
        "--transactions",
        parquet.to_str().unwrap(),
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
    ]);
    assert_eq!(summary.lines().count(), 2_358);
    assert!(summary.starts_with("customer_id,frequency,recency,T,monetary_value\n1,2,"));
    // --input-format overrides the extension.
    let renamed = dir.join("log.dat");
    std::fs::copy(&parquet, &renamed).unwrap();
    let (expected, _) = ok_with_stderr(&["kpi", "--transactions", csv, "--end", "1997-09-30"]);
    let renamed = renamed.to_str().unwrap();
    let kpi = ["kpi", "--transactions", renamed, "--end", "1997-09-30"];
    let (found, _) = ok_with_stderr(&[&kpi[..], &["--input-format", "parquet"]].concat());
    assert_eq!(found, expected);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_summary_reader_reads_parquet_and_arrow_ipc_as_csv() {
    let dir = temp_dir("formats-summary");
    let csv = data_file("cdnow_summary.csv");
    let csv = csv.to_str().unwrap();
    let typed = batches(Path::new(csv), SUMMARY_TYPES);
    let paths = write_all(&dir, "summary", &typed);
    let params = dir.join("bg-nbd.json");
    let (fit, _) = ok_with_stderr(&["fit", "--summary", csv, "--model", "bg-nbd"]);
    std::fs::write(&params, fit).unwrap();
    for other in &paths {
        for args in [
            &["fit", "--summary", "TABLE", "--model", "bg-nbd"][..],
            &["fit", "--summary", "TABLE", "--model", "gamma-gamma"][..],
            &[
                "predict",
                "--summary",
                "TABLE",
                "--model",
                "pareto-nbd",
                "--horizon",
                "39",
                "--margin",
                "0.3",
            ][..],
            &[
                "predict",
                "--summary",
                "TABLE",
                "--model",
                "bg-nbd",
                "--horizon",
                "39",
                "--params",
                params.to_str().unwrap(),
            ][..],
            &["segment", "--summary", "TABLE", "--method", "rfm"][..],
        ] {
            same_output(args, csv, other);
        }
    }
    // The discrete models' tables too: BG/BB patterns and sBG survival counts.
    let donations = data_file("donations.csv");
    let donations = donations.to_str().unwrap();
    let counts = [
        ("frequency", DataType::Int64),
        ("recency", DataType::Int64),
        ("n_periods", DataType::Int64),
        ("weights", DataType::Float64),
    ];
    let [parquet, ..] = write_all(&dir, "donations", &batches(Path::new(donations), &counts));
    same_output(
        &["fit", "--model", "bg-bb", "--summary", "TABLE"],
        donations,
        &parquet,
    );
    let survival = dir.join("survival.csv");
    std::fs::write(
        &survival,
        "cohort,period,alive\nr,0,1000\nr,1,631\nr,2,468\nr,3,382\nr,4,326\n",
    )
    .unwrap();
    let survival_types = [
        ("cohort", DataType::Utf8),
        ("period", DataType::Int64),
        ("alive", DataType::Float64),
    ];
    let [_, ipc, _] = write_all(&dir, "survival", &batches(&survival, &survival_types));
    same_output(
        &["fit", "--model", "sbg", "--survival", "TABLE"],
        survival.to_str().unwrap(),
        &ipc,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_values_in_parquet_and_arrow_files_are_named_by_column_and_row() {
    let dir = temp_dir("formats-bad");
    // A null amount on the third row, a negative one on the fifth (rows from 1).
    let log = dir.join("log.csv");
    std::fs::write(
        &log,
        "customer_id,date,amount\n1,1997-01-01,10\n2,1997-01-02,5\n3,1997-01-03,\n",
    )
    .unwrap();
    let types = [
        ("customer_id", DataType::Utf8),
        ("date", DataType::Date32),
        ("amount", DataType::Float64),
    ];
    let [parquet, file, stream] = write_all(&dir, "null", &batches(&log, &types));
    for path in [&parquet, &file, &stream] {
        for sub in ["summarize", "kpi", "report"] {
            refused(
                &[sub, "--transactions", path, "--end", "1997-03-01"],
                &[path, "column amount, row 3: null"],
            );
        }
    }
    std::fs::write(
        &log,
        "customer_id,date,amount\n1,1997-01-01,10\n2,1997-01-02,5\n3,1997-01-03,1\n4,1997-01-04,2\n5,1997-01-05,-3\n",
    )
    .unwrap();
    let [parquet, ..] = write_all(&dir, "negative", &batches(&log, &types));
    refused(
        &[
            "summarize",
            "--transactions",
            &parquet,
            "--end",
            "1997-03-01",
        ],
        &[&parquet, "column amount, row 5: negative amount -3"],
    );
    // A summary's bad value: the row and column, as for CSV.
    let summary = dir.join("summary.csv");
    std::fs::write(
        &summary,
        "customer_id,frequency,recency,T,monetary_value\na,1,2,10,5\nb,0,0,10,0\nc,2,20,10,5\n",
    )
    .unwrap();
    let [parquet, ..] = write_all(&dir, "summary", &batches(&summary, SUMMARY_TYPES));
    refused(
        &["fit", "--summary", &parquet, "--model", "bg-nbd"],
        &[&format!("{parquet}: row 3")],
    );
    let summary = summary.to_str().unwrap();
    refused(
        &["fit", "--summary", summary, "--model", "bg-nbd"],
        &[&format!("{summary}: line 4")],
    );
    // A file that is not what its extension says, and a format not known.
    let fake = dir.join("fake.parquet");
    std::fs::write(&fake, "customer_id,date,amount\n1,1997-01-01,10\n").unwrap();
    let fake = fake.to_str().unwrap();
    refused(
        &["kpi", "--transactions", fake, "--end", "1997-03-01"],
        &[fake, "not a readable Parquet file"],
    );
    refused(
        &[
            "kpi",
            "--transactions",
            fake,
            "--end",
            "1997-03-01",
            "--input-format",
            "xlsx",
        ],
        &["--input-format: \"xlsx\" is not one of csv, parquet, arrow"],
    );
    // Read as CSV when asked, the fake file is a good log.
    ok_with_stderr(&[
        "kpi",
        "--transactions",
        fake,
        "--end",
        "1997-03-01",
        "--input-format",
        "csv",
    ]);
    // A table without rows.
    let empty = RecordBatch::new_empty(batches(&log, &types)[0].schema());
    let [parquet, ..] = write_all(&dir, "empty", &[empty]);
    refused(
        &[
            "summarize",
            "--transactions",
            &parquet,
            "--end",
            "1997-03-01",
        ],
        &[&format!(
            "{parquet}: no transactions (the table has no rows)"
        )],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zoned_timestamps_are_read_on_the_day_of_the_zone_given() {
    use arrow_array::{ArrayRef, StringArray, TimestampMicrosecondArray};
    let dir = temp_dir("formats-zoned");
    // Customer a buys at 23:30 UTC on 1997-01-01 and again on 1997-01-02 at 00:30 UTC: two days
    // in UTC, one day (1997-01-02) at +05:00.
    let micros = |s: &str| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    };
    let batch = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a", "a"])) as ArrayRef,
        ),
        (
            "date",
            Arc::new(
                TimestampMicrosecondArray::from(vec![
                    micros("1997-01-01 23:30"),
                    micros("1997-01-02 00:30"),
                ])
                .with_timezone("+00:00"),
            ) as ArrayRef,
        ),
        (
            "amount",
            Arc::new(arrow_array::Float64Array::from(vec![10.0, 5.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let [parquet, ..] = write_all(&dir, "zoned", &[batch]);
    let summarize = [
        "summarize",
        "--transactions",
        &parquet,
        "--end",
        "1997-01-10",
        "--unit",
        "days",
    ];
    refused(&summarize, &[&parquet, "column date", "--time-zone utc"]);
    let (utc, _) = ok_with_stderr(&[&summarize[..], &["--time-zone", "utc"]].concat());
    assert_eq!(
        utc,
        "customer_id,frequency,recency,T,monetary_value\na,1,1.0,9.0,5\n"
    );
    let (east, _) = ok_with_stderr(&[&summarize[..], &["--time-zone", "+05:00"]].concat());
    assert_eq!(
        east,
        "customer_id,frequency,recency,T,monetary_value\na,0,0.0,8.0,0\n"
    );
    refused(
        &[&summarize[..], &["--time-zone", "CET"]].concat(),
        &["--time-zone: \"CET\" is not utc nor an offset"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
