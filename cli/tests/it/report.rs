//! The valuation end to end through the `clv` tool: `clv report` agrees with `clv predict`.

use crate::{csv_rows, data_file, run_clv};

#[test]
fn clv_report_equity_equals_the_sum_of_clv_predict_on_cdnow() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let (margin, discount) = ("0.3", "0.002");
    let report = run_clv(&[
        "report",
        "--transactions",
        log,
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
        "--model",
        "bg-nbd",
        "--margin",
        margin,
        "--discount",
        discount,
    ]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&report.stdout).expect("report is JSON");
    let equity: f64 = json["equity"].as_str().unwrap().parse().unwrap();
    let customers = json["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 2357);
    let per_customer: f64 = customers
        .iter()
        .map(|c| c["clv"].as_str().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(
        (equity - per_customer).abs() < 1e-6,
        "{equity} vs {per_customer}"
    );
    assert_eq!(json["models"][0]["name"], "bg-nbd");
    let r = json["models"][0]["parameters"][0][1].as_f64().unwrap();
    assert!((r - 0.243).abs() < 0.0005, "BG/NBD r on exact dates: {r}");

    // The same model, margin and rate through `clv summarize` and `clv predict`.
    let dir = std::env::temp_dir().join(format!("clv-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let summary = run_clv(&[
        "summarize",
        "--transactions",
        log,
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
    ]);
    assert!(summary.status.success());
    let summary_path = dir.join("summary.csv");
    std::fs::write(&summary_path, &summary.stdout).unwrap();
    let predict = run_clv(&[
        "predict",
        "--summary",
        summary_path.to_str().unwrap(),
        "--model",
        "bg-nbd",
        "--horizon",
        "52",
        "--margin",
        margin,
        "--discount",
        discount,
    ]);
    assert!(
        predict.status.success(),
        "{}",
        String::from_utf8_lossy(&predict.stderr)
    );
    let rows = csv_rows(&String::from_utf8(predict.stdout).unwrap());
    let clv_col = rows[0].iter().position(|h| h == "clv").expect("clv column");
    let predicted: f64 = rows[1..]
        .iter()
        .map(|r| r[clv_col].parse::<f64>().unwrap())
        .sum();
    // The report rounds each CLV to cents: the totals agree within half a cent a customer.
    assert!(
        (equity - predicted).abs() <= 0.005 * 2357.0,
        "report equity {equity} vs predict {predicted}"
    );
    assert!(
        (equity - predicted).abs() / predicted < 1e-4,
        "{equity} vs {predicted}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `--interval` puts the library's report intervals in the JSON: equity, value at risk, the
/// base's expected purchases and each group's, by the method asked for; a seed repeats.
#[test]
fn clv_report_intervals_by_each_method() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let base = [
        "report",
        "--transactions",
        log,
        "--end",
        "1997-09-30",
        "--model",
        "pareto-nbd",
        "--margin",
        "0.3",
        "--interval",
        "0.9",
    ];
    let money = |v: &serde_json::Value| v.as_str().unwrap().parse::<f64>().unwrap();
    let mut outputs = Vec::new();
    for (method, extra) in [
        ("delta", &[][..]),
        (
            "parametric-bootstrap",
            &["--bootstrap", "50", "--seed", "4"][..],
        ),
        ("bootstrap", &["--bootstrap", "30", "--seed", "4"][..]),
    ] {
        let args = [&base[..], &["--method", method], extra].concat();
        let text = crate::ok(&args);
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let i = &json["intervals"];
        assert_eq!(i["method"], method, "{json}");
        assert_eq!(i["level"], 0.9);
        let equity = money(&json["equity"]);
        let (lower, upper) = (money(&i["equity"]["lower"]), money(&i["equity"]["upper"]));
        assert!(
            lower < equity && equity < upper,
            "{method}: {lower} {equity} {upper}"
        );
        for g in json["by_asset_class"].as_array().unwrap() {
            let e = money(&g["equity"]);
            let (l, u) = (
                money(&g["interval"]["lower"]),
                money(&g["interval"]["upper"]),
            );
            assert!(l <= e && e <= u, "{method} {g}");
        }
        let p = &i["expected_purchases"];
        assert!(p["lower"].as_f64() < p["estimate"].as_f64());
        if method != "delta" {
            assert_eq!(text, crate::ok(&args), "the seed repeats");
        }
        outputs.push((upper - lower) / equity);
    }
    // The three methods' relative widths agree to within a factor 1.5.
    for w in &outputs[1..] {
        assert!((w / outputs[0] - 1.0).abs() < 0.5, "{outputs:?}");
    }
    crate::refused(
        &[&base[..], &["--method", "jackknife"]].concat(),
        &["is not one of delta, parametric-bootstrap, bootstrap"],
    );
    crate::refused(
        &[&base[..], &["--seed", "3"]].concat(),
        &["--bootstrap and --seed are for --method bootstrap or parametric-bootstrap"],
    );
    crate::refused(
        &[&base[..base.len() - 2], &["--method", "bootstrap"]].concat(),
        &["are for --interval LEVEL"],
    );
}
