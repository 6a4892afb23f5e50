//! `clv fit` and `clv predict` with `--covariates`: the CDNOW summary with a generated attribute
//! file, the JSON's names, the round trip through `--params`, and the flags refused.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{csv_rows, data_file, ok, refused, temp_dir};

/// The CDNOW summary and an attribute file: `heavy` (a 0/1 flag) and `region`
/// (north/south/east), both made from the id alone, so that neither should matter.
fn files(dir: &Path) -> (PathBuf, PathBuf) {
    let text = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    let mut attributes = String::from("customer_id,heavy,region\n");
    for row in text.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let k: u32 = fields[0].parse().unwrap();
        let region = ["north", "south", "east"][(k % 3) as usize];
        attributes.push_str(&format!("{k},{},{region}\n", (k * 7919 / 11) % 2));
    }
    let (summary, attribute_file) = (dir.join("summary.csv"), dir.join("attributes.csv"));
    std::fs::write(&summary, text).unwrap();
    std::fs::write(&attribute_file, attributes).unwrap();
    (summary, attribute_file)
}

#[test]
fn fit_names_each_coefficient_by_process_and_predict_reads_the_fit_back() {
    let dir = temp_dir("covariates-fit");
    let (summary, attributes) = files(&dir);
    let (s, a) = (summary.to_str().unwrap(), attributes.to_str().unwrap());
    let out = ok(&[
        "fit",
        "--summary",
        s,
        "--model",
        "pareto-nbd",
        "--covariates",
        a,
        "--interval",
        "0.9",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    let params = json["params"].as_object().unwrap();
    // region's reference level is the most frequent (ties: the first in sorted order).
    let mut names: Vec<&str> = params.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "alpha",
            "beta",
            "dropout.heavy",
            "dropout.region=north",
            "dropout.region=south",
            "purchase.heavy",
            "purchase.region=north",
            "purchase.region=south",
            "r",
            "s"
        ]
    );
    for name in &names {
        assert!(
            json["standard_errors"][name].as_f64().unwrap() > 0.0,
            "{name}"
        );
        let i = &json["intervals"][name];
        let v = params[*name].as_f64().unwrap();
        assert!(i["lower"].as_f64().unwrap() < v && v < i["upper"].as_f64().unwrap());
    }
    // Covariates made from the id say nothing of a customer: the test does not reject.
    assert_eq!(json["lr_test"]["degrees_of_freedom"], 6);
    assert!(
        json["lr_test"]["p_value"].as_f64().unwrap() > 0.01,
        "{}",
        json["lr_test"]
    );
    assert!(json["aic"].as_f64().unwrap() < json["bic"].as_f64().unwrap());
    // The fitted JSON is what predict --params reads: the same predictions as refitting.
    let fitted = dir.join("fitted.json");
    std::fs::write(&fitted, &out).unwrap();
    let args = |params: Option<&str>| {
        let mut v = vec![
            "predict",
            "--summary",
            s,
            "--model",
            "pareto-nbd",
            "--horizon",
            "39",
            "--covariates",
            a,
        ];
        if let Some(p) = params {
            v.extend(["--params", p]);
        }
        v.iter().map(|x| x.to_string()).collect::<Vec<String>>()
    };
    let run = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let refit = run(args(None));
    let loaded = run(args(Some(fitted.to_str().unwrap())));
    let (a_rows, b_rows) = (csv_rows(&refit), csv_rows(&loaded));
    assert_eq!(a_rows.len(), 2358);
    assert_eq!(
        a_rows[0][..4],
        ["customer_id", "p_alive", "expected_purchases", "dert"]
    );
    for (x, y) in a_rows.iter().zip(&b_rows).skip(1) {
        for (u, v) in x.iter().zip(y).skip(1) {
            let (u, v): (f64, f64) = (u.parse().unwrap(), v.parse().unwrap());
            assert!((u - v).abs() <= 1e-9 * u.abs().max(1.0), "{x:?} vs {y:?}");
        }
    }
    // Intervals from the delta method over the base parameters and the coefficients.
    let with_intervals = ok(&[
        "predict",
        "--summary",
        s,
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
        "--covariates",
        a,
        "--interval",
        "0.9",
        "--purchase-covariates",
        "heavy",
        "--dropout-covariates",
        "none",
    ]);
    let rows = csv_rows(&with_intervals);
    assert_eq!(rows[0][1..4], ["p_alive", "p_alive_lower", "p_alive_upper"]);
    for row in &rows[1..] {
        let v: Vec<f64> = row[1..].iter().map(|c| c.parse().unwrap()).collect();
        assert!(v[1] <= v[0] && v[0] <= v[2], "{row:?}");
    }
}

#[test]
fn spend_covariates_and_constraints() {
    let dir = temp_dir("covariates-spend");
    let (summary, attributes) = files(&dir);
    let (s, a) = (summary.to_str().unwrap(), attributes.to_str().unwrap());
    let out = ok(&[
        "fit",
        "--summary",
        s,
        "--model",
        "gamma-gamma",
        "--covariates",
        a,
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    for name in [
        "p",
        "q",
        "gamma",
        "spend.heavy",
        "spend.region=north",
        "spend.region=south",
    ] {
        assert!(json["params"][name].is_f64(), "{name}: {out}");
        assert!(
            json["standard_errors"][name].as_f64().unwrap() > 0.0,
            "{name}"
        );
    }
    let out = ok(&[
        "fit",
        "--summary",
        s,
        "--model",
        "bg-nbd",
        "--covariates",
        a,
        "--constrain",
        "heavy",
        "--penalty",
        "0.5",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["params"]["purchase.heavy"],
        json["params"]["dropout.heavy"]
    );
    assert_eq!(json["covariates"]["constrained"][0], "heavy");
    assert_eq!(json["covariates"]["penalty"], 0.5);
}

#[test]
fn covariate_flags_are_checked() {
    let dir = temp_dir("covariates-refused");
    let (summary, attributes) = files(&dir);
    let (s, a) = (summary.to_str().unwrap(), attributes.to_str().unwrap());
    let fit = |extra: &[&str], needles: &[&str]| {
        let mut v = vec![
            "fit",
            "--summary",
            s,
            "--model",
            "pareto-nbd",
            "--covariates",
            a,
        ];
        v.extend(extra);
        refused(&v, needles);
    };
    fit(
        &["--purchase-covariates", "age"],
        &["--purchase-covariates", "\"age\"", "heavy"],
    );
    fit(
        &["--dropout-covariates", "none", "--constrain", "heavy"],
        &["heavy", "both"],
    );
    fit(&["--bootstrap", "10"], &["--bootstrap", "--covariates"]);
    refused(
        &[
            "fit",
            "--summary",
            s,
            "--model",
            "pareto-nbd",
            "--constrain",
            "heavy",
        ],
        &["--constrain", "--covariates"],
    );
    // A customer of the summary missing from the attribute file is named.
    let short = dir.join("short.csv");
    let text = std::fs::read_to_string(&attributes).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("7,")).collect();
    std::fs::write(&short, kept.join("\n") + "\n").unwrap();
    refused(
        &[
            "fit",
            "--summary",
            s,
            "--model",
            "bg-nbd",
            "--covariates",
            short.to_str().unwrap(),
        ],
        &["customer 7"],
    );
    // A constant attribute duplicates the intercept.
    let constant = dir.join("constant.csv");
    let text: String = std::fs::read_to_string(data_file("cdnow_summary.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|row| format!("{},1\n", row.split(',').next().unwrap()))
        .collect();
    std::fs::write(&constant, format!("customer_id,one\n{text}")).unwrap();
    refused(
        &[
            "fit",
            "--summary",
            s,
            "--model",
            "bg-nbd",
            "--covariates",
            constant.to_str().unwrap(),
        ],
        &["one", "constant"],
    );
}
