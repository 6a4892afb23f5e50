//! `--format csv|json|ndjson|parquet` and `--output FILE`: every table subcommand writes the same
//! rows in every format; reports are JSON only.

use arrow_array::cast::AsArray;
use arrow_array::RecordBatch;

use crate::{csv_rows, data_file, ok, run_clv, temp_dir};

fn parquet_batch(path: &std::path::Path) -> RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

#[test]
fn every_table_is_the_same_rows_in_every_format() {
    let dir = temp_dir("outputs-tables");
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/loyalty_rules.json"
    );
    let commands: [(&str, Vec<&str>); 4] = [
        (
            "summarize",
            vec![
                "summarize",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--holdout-end",
                "1998-06-30",
            ],
        ),
        (
            "predict",
            vec![
                "predict",
                "--summary",
                summary,
                "--model",
                "bg-nbd",
                "--horizon",
                "39",
            ],
        ),
        (
            "segment",
            vec!["segment", "--summary", summary, "--method", "rfm"],
        ),
        (
            "tiers",
            vec![
                "tiers",
                "--transactions",
                log,
                "--rules",
                rules,
                "--as-of",
                "1997-09-30",
            ],
        ),
    ];
    for (name, args) in &commands {
        let csv = ok(args);
        let rows = csv_rows(&csv);
        let header = &rows[0];
        // --output writes the same bytes to the file.
        let file = dir.join(format!("{name}.csv"));
        let written = ok(&[&args[..], &["--output", file.to_str().unwrap()]].concat());
        assert!(written.is_empty(), "{name}: stdout with --output");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), csv, "{name}");
        // JSON: an array of objects, keys in column order, values as in the CSV.
        let json: serde_json::Value =
            serde_json::from_str(&ok(&[&args[..], &["--format", "json"]].concat())).unwrap();
        let objects = json.as_array().unwrap();
        assert_eq!(objects.len(), rows.len() - 1, "{name}");
        let ndjson = ok(&[&args[..], &["--format", "ndjson"]].concat());
        assert_eq!(ndjson.lines().count(), rows.len() - 1, "{name}");
        for (k, (row, line)) in rows[1..].iter().zip(ndjson.lines()).enumerate().step_by(97) {
            let from_line: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(from_line, objects[k], "{name} row {k}");
            let keys: Vec<&String> = from_line.as_object().unwrap().keys().collect();
            let mut sorted = header.iter().collect::<Vec<_>>();
            sorted.sort();
            assert_eq!(keys, sorted, "{name}");
            for (column, text) in header.iter().zip(row) {
                let value = &from_line[column];
                let same = match value {
                    serde_json::Value::String(s) => s == text,
                    serde_json::Value::Number(n) => n.as_f64() == text.parse::<f64>().ok(),
                    serde_json::Value::Null => text.is_empty(),
                    _ => false,
                };
                assert!(same, "{name} row {k} {column}: {value} vs {text}");
            }
        }
        // Parquet: typed columns, the same rows.
        let parquet = dir.join(format!("{name}.parquet"));
        ok(&[
            &args[..],
            &["--format", "parquet", "--output", parquet.to_str().unwrap()],
        ]
        .concat());
        let batch = parquet_batch(&parquet);
        assert_eq!(batch.num_rows(), rows.len() - 1, "{name}");
        let schema = batch.schema();
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, header.iter().collect::<Vec<_>>(), "{name}");
        let ids = batch.column(0).as_string::<i32>();
        assert_eq!(ids.value(0), rows[1][0], "{name}");
    }
    // Summaries: frequency Int64, recency Float64, money Decimal128.
    let batch = parquet_batch(&dir.join("summarize.parquet"));
    let types: Vec<String> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().to_string())
        .collect();
    assert_eq!(
        types[1..5],
        ["Int64", "Float64", "Float64", "Decimal128(38, 6)"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reports_are_json_and_formats_are_checked() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let kpi = ["kpi", "--transactions", log, "--end", "1997-09-30"];
    assert_eq!(ok(&kpi), ok(&[&kpi[..], &["--format", "json"]].concat()));
    for (args, needle) in [
        (vec!["--format", "csv"], "--format: \"csv\" is not json"),
        (vec!["--format", "xlsx"], "--format: \"xlsx\" is not json"),
        (vec!["--output", ""], "--output: the path is empty"),
        (
            vec!["--output", "/nonexistent-dir/x.json"],
            "--output: cannot create /nonexistent-dir/x.json",
        ),
    ] {
        let out = run_clv(&[&kpi[..], &args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let summary = data_file("cdnow_summary.csv");
    let out = run_clv(&[
        "segment",
        "--summary",
        summary.to_str().unwrap(),
        "--method",
        "abc",
        "--format",
        "xml",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--format: \"xml\" is not one of csv, json, ndjson, parquet"));
}
