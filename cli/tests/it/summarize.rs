//! `clv summarize`: the CDNOW summary file reproduced, the holdout, malformed rows named by line,
//! and plain, CRLF and quoted CSV read alike.

use crate::{csv_rows, data_file, run_clv};

/// The rows of `cdnow_summary.csv` (lifetimes' summary of the CDNOW sample, in weeks).
fn reference_summary() -> Vec<(String, u32, f64, f64, f64)> {
    let text = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    csv_rows(&text)
        .into_iter()
        .skip(1)
        .map(|r| {
            (
                r[0].clone(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
            )
        })
        .collect()
}

/// `clv summarize` of the CDNOW sample at 1997-09-30 in weeks, plus `extra` flags, as CSV rows.
fn summarize_cdnow(extra: &[&str]) -> Vec<Vec<String>> {
    let log = data_file("cdnow_sample_transactions.csv");
    let mut args = vec![
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
    ];
    args.extend_from_slice(extra);
    let out = run_clv(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    csv_rows(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn clv_summarize_reproduces_the_cdnow_summary_file() {
    let rows = summarize_cdnow(&[]);
    assert_eq!(
        rows[0],
        ["customer_id", "frequency", "recency", "T", "monetary_value"]
    );
    let reference = reference_summary();
    assert_eq!(rows.len() - 1, 2357);
    assert_eq!(reference.len(), 2357);
    for (row, (id, x, t_x, t, m)) in rows[1..].iter().zip(&reference) {
        assert_eq!(&row[0], id, "customers in order of first appearance");
        assert_eq!(row[1].parse::<u32>().unwrap(), *x, "frequency of {id}");
        let close =
            |got: &str, want: f64, tol: f64| (got.parse::<f64>().unwrap() - want).abs() <= tol;
        assert!(
            close(&row[2], *t_x, 0.005),
            "recency of {id}: {} vs {t_x}",
            row[2]
        );
        assert!(close(&row[3], *t, 0.005), "T of {id}: {} vs {t}", row[3]);
        assert!(
            close(&row[4], *m, 0.005 + 1e-9),
            "monetary value of {id}: {} vs {m}",
            row[4]
        );
    }
}

#[test]
fn clv_summarize_reports_the_holdout() {
    let rows = summarize_cdnow(&["--holdout-end", "1998-06-30"]);
    assert_eq!(rows[0].len(), 7);
    assert_eq!(
        &rows[0][5..],
        ["holdout_frequency", "holdout_monetary_value"]
    );
    let holdout: u32 = rows[1..].iter().map(|r| r[5].parse::<u32>().unwrap()).sum();
    assert_eq!(
        holdout, 1882,
        "repeat purchase-days in the CDNOW holdout (data/README.md)"
    );
}

#[test]
fn clv_summarize_stops_on_a_malformed_row_naming_its_line() {
    let dir = std::env::temp_dir().join(format!("clv-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body, needle) in [
        (
            "date.csv",
            "customer_id,date,amount\n1,2024-01-01,5\n1,2024-13-01,5\n",
            "line 3",
        ),
        (
            "amount.csv",
            "customer_id,date,amount\n1,2024-01-01,five\n",
            "line 2",
        ),
        (
            "negative.csv",
            "customer_id,date,amount\n1,2024-01-01,-5\n",
            "line 2",
        ),
        (
            "id.csv",
            "customer_id,date,amount\n1,2024-01-01,5\n ,2024-01-02,5\n",
            "line 3",
        ),
        (
            "header.csv",
            "customer,date,amount\n1,2024-01-01,5\n",
            "customer_id",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let out = run_clv(&[
            "summarize",
            "--transactions",
            path.to_str().unwrap(),
            "--end",
            "2024-12-31",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} should fail");
        assert!(err.contains(needle), "{name}: {err}");
    }
    // A bad row deep in a file that the tool parses in parts is still named by its own line.
    let mut body = String::from("customer_id,date,amount\n");
    for i in 0..5000 {
        let amount = if i == 3998 { "1.2.3" } else { "9.99" };
        body.push_str(&format!("{},2024-01-{:02},{amount}\n", i % 70, 1 + i % 28));
    }
    let path = dir.join("deep.csv");
    std::fs::write(&path, body).unwrap();
    let out = run_clv(&[
        "summarize",
        "--transactions",
        path.to_str().unwrap(),
        "--end",
        "2024-12-31",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("line 4000"), "{err}");
    let out = run_clv(&[
        "summarize",
        "--transactions",
        "x.csv",
        "--end",
        "2024-12-31",
        "--unit",
        "months",
    ]);
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn clv_summarize_reads_plain_crlf_and_quoted_csv_alike() {
    // Plain rows take the tool's direct splitter; CRLF and quoted rows go through the csv crate.
    let dir = std::env::temp_dir().join(format!("clv-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rows: Vec<(String, String, &str)> = (0..3000)
        .map(|i| {
            let id = if i % 3 == 0 {
                format!("C{}", i % 97)
            } else {
                format!("{}", (i * 7) % 211)
            };
            let date = format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            (id, date, ["12.50", "7", "0.05", "1e2", "3.125"][i % 5])
        })
        .collect();
    let write = |name: &str, eol: &str, quote: &str| {
        let mut body = format!("customer_id,note,date,amount{eol}");
        for (id, date, amount) in &rows {
            body.push_str(&format!("{quote}{id}{quote},x,{date},{amount}{eol}"));
        }
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let out = run_clv(&[
            "summarize",
            "--transactions",
            path.to_str().unwrap(),
            "--end",
            "2024-09-30",
            "--holdout-end",
            "2024-12-31",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let plain = write("plain.csv", "\n", "");
    assert!(plain.len() > 100);
    assert_eq!(plain, write("crlf.csv", "\r\n", ""));
    assert_eq!(plain, write("quoted.csv", "\n", "\""));
    std::fs::remove_dir_all(&dir).ok();
}
