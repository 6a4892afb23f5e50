//! `clv profile`: attributes against behaviour on a small generated summary, checked against
//! `clv predict`'s own values, and the files it refuses.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{csv_rows, data_file, ok, ok_with_stderr, refused, temp_dir};

/// The first 300 customers of the CDNOW summary and an attribute file: `age` grows with
/// frequency, `channel` (web/store) is missing for every seventh customer, `tier` is constant.
/// Also each customer's (age, frequency) and the number without a channel.
struct Files {
    summary: PathBuf,
    attributes: PathBuf,
    ages: Vec<f64>,
    frequencies: Vec<u32>,
    no_channel: usize,
}

fn files(dir: &Path) -> Files {
    let text = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    let rows: Vec<&str> = text.lines().take(301).collect();
    let mut attributes = String::from("customer_id,age,channel,tier\n");
    let (mut ages, mut frequencies, mut no_channel) = (Vec::new(), Vec::new(), 0);
    for row in &rows[1..] {
        let fields: Vec<&str> = row.split(',').collect();
        let k: u32 = fields[0].parse().unwrap();
        let x: u32 = fields[1].parse().unwrap();
        let age = 20 + 3 * x.min(10) + k % 4;
        let channel = match k % 7 {
            0 => {
                no_channel += 1;
                ""
            }
            c if c % 2 == 0 => "web",
            _ => "store",
        };
        attributes.push_str(&format!("{k},{age},{channel},gold\n"));
        ages.push(f64::from(age));
        frequencies.push(x);
    }
    // A customer of the attribute file not in the summary: counted, not analysed.
    attributes.push_str("999999,40,web,gold\n");
    let (summary, attribute_file) = (dir.join("summary.csv"), dir.join("attributes.csv"));
    std::fs::write(&summary, rows.join("\n") + "\n").unwrap();
    std::fs::write(&attribute_file, attributes).unwrap();
    Files {
        summary,
        attributes: attribute_file,
        ages,
        frequencies,
        no_channel,
    }
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sxx: f64 = x.iter().map(|a| (a - mx) * (a - mx)).sum();
    let syy: f64 = y.iter().map(|b| (b - my) * (b - my)).sum();
    sxy / (sxx * syy).sqrt()
}

fn attribute<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["attribute"] == name)
        .unwrap()
}

#[test]
fn profile_sets_attributes_against_predicted_behaviour() {
    let dir = temp_dir("profile");
    let f = files(&dir);
    let (s, a) = (f.summary.to_str().unwrap(), f.attributes.to_str().unwrap());
    let (out, stderr) = ok_with_stderr(&["profile", "--summary", s, "--attributes", a]);
    assert!(stderr.contains("1 customer(s)"), "{stderr}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let n = f.ages.len();
    let one_off = f.frequencies.iter().filter(|&&x| x == 0).count();
    assert_eq!(json["customers"], n);
    assert_eq!(json["attributes_without_behaviour"], 1);
    assert_eq!(json["level"], 0.95);
    assert_eq!(json["settings"]["model"], "bg-nbd");
    // Customers with frequency 0 have no mean spend.
    assert_eq!(json["without_spend"], one_off);

    // Age against P(alive) and CLV: the r of the values `clv predict` prints.
    let predicted = ok(&[
        "predict",
        "--summary",
        s,
        "--model",
        "bg-nbd",
        "--horizon",
        "52",
    ]);
    let rows = csv_rows(&predicted);
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let (p_col, clv_col) = (col("p_alive"), col("clv"));
    let ages = &f.ages;
    let p: Vec<f64> = rows[1..]
        .iter()
        .map(|r| r[p_col].parse().unwrap())
        .collect();
    let clv: Vec<f64> = rows[1..]
        .iter()
        .map(|r| r[clv_col].parse().unwrap())
        .collect();
    let age = attribute(&json, "age");
    assert_eq!(age["kind"], "numeric");
    let measures = age["measures"]["computed"].as_array().unwrap();
    let names: Vec<&str> = measures
        .iter()
        .map(|m| m["measure"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["frequency", "mean_spend", "p_alive", "clv"]);
    for (m, y) in [(2, &p), (3, &clv)] {
        let r = measures[m]["pearson"]["computed"]["r"].as_f64().unwrap();
        assert!((r - pearson(ages, y)).abs() < 1e-9, "{r}");
        let i = &measures[m]["pearson"]["computed"]["interval"]["computed"];
        assert!(i["lower"].as_f64().unwrap() < r && r < i["upper"].as_f64().unwrap());
    }
    assert_eq!(measures[1]["n"], n - one_off);
    assert_eq!(measures[1]["without_measure"], one_off);
    assert!(measures[0]["pearson"]["computed"]["r"].as_f64().unwrap() > 0.8);

    // The channel: missing for 8 customers, two levels, the three tests.
    let channel = attribute(&json, "channel");
    assert_eq!(channel["kind"], "categorical");
    assert_eq!(channel["missing"], f.no_channel);
    assert_eq!(channel["levels"], serde_json::json!(["store", "web"]));
    let row = &channel["measures"]["computed"][0];
    assert_eq!(row["n"], n - f.no_channel);
    for test in ["anova", "welch", "kruskal_wallis"] {
        let p = row[test]["computed"]["p_value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{test}");
    }
    // A constant attribute: one level, with its reason.
    let tier = attribute(&json, "tier");
    assert_eq!(
        tier["measures"]["computed"][0]["anova"]["not_computable"],
        "one_level"
    );
}

#[test]
fn profile_reads_the_segments_clv_segment_writes() {
    let dir = temp_dir("profile-segments");
    let f = files(&dir);
    let (s, a) = (f.summary.to_str().unwrap(), f.attributes.to_str().unwrap());
    let segments = dir.join("segments.csv");
    let text = ok(&["segment", "--summary", s, "--method", "abc"]);
    std::fs::write(&segments, &text).unwrap();
    let out = ok(&[
        "profile",
        "--summary",
        s,
        "--attributes",
        a,
        "--segments",
        segments.to_str().unwrap(),
        "--model",
        "pareto-nbd",
        "--interval",
        "0.9",
    ]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["level"], 0.9);
    let portrait = &json["by_segment"];
    assert_eq!(portrait["unsegmented"], 0);
    let labels: Vec<&str> = portrait["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(!labels.is_empty());
    let age = &portrait["attributes"][0];
    assert_eq!(age["attribute"], "age");
    let total: u64 = age["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 300);
    let first = &age["segments"][0]["distribution"]["computed"];
    assert!(first["q1"].as_f64().unwrap() <= first["median"].as_f64().unwrap());
    let channel = &portrait["attributes"][1]["segments"][0]["distribution"]["computed"];
    let share: f64 = channel
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["share"].as_f64().unwrap())
        .sum();
    assert!((share - 1.0).abs() < 1e-12);
}

#[test]
fn profile_refuses_bad_files_naming_the_place() {
    let dir = temp_dir("profile-refused");
    let f = files(&dir);
    let (s, a) = (f.summary.to_str().unwrap(), f.attributes.to_str().unwrap());
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let twice = write("twice.csv", "customer_id,age\n1,30\n2,31\n1,32\n");
    refused(
        &["profile", "--summary", s, "--attributes", &twice],
        &["twice.csv: line 4", "appears again"],
    );
    let control = write("control.csv", "customer_id,channel\n1,web\n2,we\u{1}b\n");
    refused(
        &["profile", "--summary", s, "--attributes", &control],
        &["control.csv: line 3, column channel"],
    );
    let id_only = write("id_only.csv", "customer_id\n1\n");
    refused(
        &["profile", "--summary", s, "--attributes", &id_only],
        &["id_only.csv: line 1", "no attribute"],
    );
    let header_only = write("header_only.csv", "customer_id,age\n");
    refused(
        &["profile", "--summary", s, "--attributes", &header_only],
        &["header_only.csv", "no customers"],
    );
    let no_money = write(
        "no_money.csv",
        "customer_id,frequency,recency,T\n1,1,2,30\n2,0,0,30\n",
    );
    refused(
        &["profile", "--summary", &no_money, "--attributes", a],
        &["no_money.csv", "monetary_value"],
    );
    let conflict = write("conflict.csv", "customer_id,segment\n1,A\n1,B\n");
    refused(
        &[
            "profile",
            "--summary",
            s,
            "--attributes",
            a,
            "--segments",
            &conflict,
        ],
        &["conflict.csv: line 3"],
    );
    refused(
        &[
            "profile",
            "--summary",
            s,
            "--attributes",
            a,
            "--interval",
            "1.5",
        ],
        &["--interval"],
    );
    refused(
        &[
            "profile",
            "--summary",
            s,
            "--attributes",
            a,
            "--model",
            "gamma-gamma",
        ],
        &["--model"],
    );
}
