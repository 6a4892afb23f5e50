//! The `clv` tool on hostile and degenerate input (issue 15), and the full CDNOW cohort through
//! every subcommand and model. `scripts/clv_fuzz.py` runs the wider corpus; these are the
//! findings of the issue, each as a test.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use chrono::NaiveDate;

use crate::{csv_rows, data_file, run_clv, temp_dir};

/// The loyalty programme of the examples (`examples/loyalty_rules.json` at the workspace root).
const RULES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/loyalty_rules.json"
);

/// Writes `content` to `name` in `dir`; the path as a string.
fn write(dir: &std::path::Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs clv and expects it to fail with an error line containing every needle.
#[track_caller]
fn refused(args: &[&str], needles: &[&str]) -> String {
    let out = run_clv(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("clv: error: "))
        .unwrap_or_else(|| panic!("{args:?}: no error line in {err:?}"));
    for needle in needles {
        assert!(
            line.contains(needle),
            "{args:?}: {needle:?} not in {line:?}"
        );
    }
    assert!(line.chars().count() <= 400, "{args:?}: {line}");
    assert!(out.stdout.is_empty(), "{args:?}: output on failure");
    line.to_string()
}

/// Runs clv and expects success; stdout as text.
#[track_caller]
fn succeeds(args: &[&str]) -> String {
    let out = run_clv(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8(out.stdout).unwrap()
}

const LOG: &str = "customer_id,date,amount\n";

#[test]
fn weight_errors_name_the_line_not_the_row() {
    let dir = temp_dir("weights");
    let mut body = String::from("customer_id,frequency,recency,T,monetary_value,weights\n");
    for i in 1..=5 {
        body.push_str(&format!("{i},1,2,3,4,1\n"));
    }
    body.push_str("6,1,2,3,4,-1\n");
    let summary = write(&dir, "summary.csv", &body);
    refused(
        &["fit", "--summary", &summary, "--model", "bg-nbd"],
        &[&summary, "line 7", "column weights"],
    );
    let discrete = write(
        &dir,
        "discrete.csv",
        "frequency,recency,n_periods,weights\n1,1,6,1\n1,1,6,1\n1,1,6,1\n1,1,6,1\n1,1,6,1\n1,1,6,-1\n",
    );
    refused(
        &["fit", "--model", "bg-bb", "--summary", &discrete],
        &[&discrete, "line 7", "column weights"],
    );
}

#[test]
fn a_crlf_file_names_the_line_of_its_short_row() {
    let dir = temp_dir("crlf");
    let log = write(
        &dir,
        "log.csv",
        "customer_id,date,amount\r\n1,1997-01-01,10\r\n1,1997-01-05,10\r\n2,1997-01-02\r\n",
    );
    for args in [
        vec!["summarize", "--transactions", &log, "--end", "1997-02-01"],
        vec!["kpi", "--transactions", &log, "--end", "1997-02-01"],
        vec!["report", "--transactions", &log, "--end", "1997-02-01"],
        vec![
            "tiers",
            "--transactions",
            &log,
            "--rules",
            RULES,
            "--as-of",
            "1997-02-01",
        ],
    ] {
        refused(&args, &[&log, "line 4", "2 fields, but the header has 3"]);
    }
    let summary = write(
        &dir,
        "summary.csv",
        "customer_id,frequency,recency,T\r\n1,1,1,3\r\n2,1,2,3\r\n3,1\r\n",
    );
    refused(
        &["fit", "--summary", &summary, "--model", "bg-nbd"],
        &[&summary, "line 4"],
    );
    let cohorts = write(
        &dir,
        "cohorts.csv",
        "cohort,period,alive\r\na,0,100\r\na,1,120\r\n",
    );
    refused(
        &["fit", "--model", "sbg", "--survival", &cohorts],
        &[&cohorts, "line 3", "column alive"],
    );
}

#[test]
fn report_and_kpi_name_the_line_of_a_bad_row() {
    let dir = temp_dir("ledger-line");
    let log = write(
        &dir,
        "log.csv",
        format!("{LOG}1,1997-01-01,10\n2,1997-01-02,5\n\n3,1997-01-03,x\n"),
    );
    for sub in ["kpi", "report", "validate"] {
        let mut args = vec![sub, "--transactions", &log, "--end", "1997-03-01"];
        if sub == "validate" {
            args.extend(["--calibration-end", "1997-02-01", "--model", "bg-nbd"]);
        }
        refused(&args, &[&log, "line 5", "column amount"]);
    }
}

#[test]
fn echoed_values_are_cut_to_a_readable_length() {
    let dir = temp_dir("echo");
    let long = "9".repeat(10_000);
    let log = write(&dir, "log.csv", format!("{LOG}1,1997-01-01,{long}\n"));
    let line = refused(
        &["summarize", "--transactions", &log, "--end", "1997-02-01"],
        &[&log, "line 2", "column amount", "…"],
    );
    assert!(line.len() < 300, "{line}");
    let field: String = (0..100).map(|i| format!("line {i}\n")).collect();
    let log = write(
        &dir,
        "hundred_lines.csv",
        format!("{LOG}1,1997-01-01,\"{field}\"\n"),
    );
    let line = refused(
        &["kpi", "--transactions", &log, "--end", "1997-02-01"],
        &[&log, "line 2", "…"],
    );
    assert!(!line.contains("line 99"), "{line}");
    let id = "x".repeat(10_000);
    let summary = write(
        &dir,
        "summary.csv",
        format!("customer_id,frequency,recency,T\n{id},1,2,{long}x\n"),
    );
    refused(
        &["fit", "--summary", &summary, "--model", "bg-nbd"],
        &[&summary, "line 2", "column T", "…"],
    );
    refused(
        &["summarize", "--transactions", &log, "--end", &long],
        &["--end", "…"],
    );
}

#[test]
fn numbers_users_would_not_write_are_refused() {
    let dir = temp_dir("numbers");
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    // Whole numbers are plain digits: no separators, signs, exponents or fractions.
    for v in ["1_000", "+5", "1e3", "1.5", "-1", "inf", "NaN", ""] {
        refused(
            &[
                "kpi",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--period-days",
                v,
            ],
            &["--period-days"],
        );
        refused(
            &[
                "segment",
                "--summary",
                summary,
                "--method",
                "kmeans",
                "--k",
                v,
            ],
            &["--k"],
        );
    }
    // Other numbers are decimals: a sign and an exponent are fine; separators, inf and NaN not.
    for v in ["1_000", "inf", "-inf", "NaN", "0x10", "1e400", ""] {
        refused(
            &[
                "predict",
                "--summary",
                summary,
                "--model",
                "bg-nbd",
                "--horizon",
                v,
            ],
            &["--horizon"],
        );
    }
    for v in ["+5", "5e0", "5"] {
        let out = succeeds(&[
            "predict",
            "--summary",
            summary,
            "--model",
            "pareto-nbd",
            "--horizon",
            v,
        ]);
        assert_eq!(csv_rows(&out).len(), 2358);
    }
    // The same rules in files.
    for (amount, needle) in [
        ("1_000", "not a money amount"),
        ("NaN", "not a money amount"),
        ("inf", "not a money amount"),
        ("1e400", "does not fit"),
        ("-5", "negative"),
    ] {
        let path = write(&dir, "log.csv", format!("{LOG}1,1997-01-01,{amount}\n"));
        refused(
            &["summarize", "--transactions", &path, "--end", "1997-02-01"],
            &[&path, "line 2", "column amount", needle],
        );
    }
    for x in ["1_000", "1.5", "-1", "+5", "1e3", "4294967296"] {
        let path = write(
            &dir,
            "summary.csv",
            format!("customer_id,frequency,recency,T\n1,{x},2,3\n"),
        );
        refused(
            &["fit", "--summary", &path, "--model", "bg-nbd"],
            &[&path, "line 2", "column frequency"],
        );
    }
    // -0 is a purchase of nothing; 1e2 a hundred.
    let path = write(
        &dir,
        "log.csv",
        format!("{LOG}1,1997-01-01,-0\n1,1997-01-02,1e2\n"),
    );
    let out = succeeds(&[
        "summarize",
        "--transactions",
        &path,
        "--end",
        "1997-02-01",
        "--unit",
        "days",
    ]);
    assert_eq!(csv_rows(&out)[1], ["1", "1", "1.0", "31.0", "100"]);
}

#[test]
fn cr_only_empty_and_header_only_files_are_refused() {
    let dir = temp_dir("degenerate");
    let cr = write(
        &dir,
        "cr.csv",
        "customer_id,date,amount\r1,1997-01-01,10\r1,1997-01-05,10\r",
    );
    refused(
        &["summarize", "--transactions", &cr, "--end", "1997-02-01"],
        &[&cr, "line 1", "carriage return"],
    );
    let empty = write(&dir, "empty.csv", "");
    let header = write(&dir, "header.csv", LOG);
    for path in [&empty, &header] {
        for args in [
            vec!["summarize", "--transactions", path, "--end", "1997-02-01"],
            vec!["kpi", "--transactions", path, "--end", "1997-02-01"],
            vec!["report", "--transactions", path, "--end", "1997-02-01"],
            vec![
                "tiers",
                "--transactions",
                path,
                "--rules",
                RULES,
                "--as-of",
                "1997-02-01",
            ],
        ] {
            refused(&args, &[path, "line 1"]);
        }
    }
    let summary = write(&dir, "summary.csv", "customer_id,frequency,recency,T\n");
    refused(
        &["fit", "--summary", &summary, "--model", "bg-nbd"],
        &[&summary, "no customers"],
    );
    // A UTF-8 byte-order mark is read past.
    let bom = write(
        &dir,
        "bom.csv",
        "\u{feff}customer_id,date,amount\n1,1997-01-01,10\n",
    );
    succeeds(&["summarize", "--transactions", &bom, "--end", "1997-02-01"]);
}

#[test]
fn dates_before_every_record_are_refused_naming_the_flag() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    refused(
        &[
            "tiers",
            "--transactions",
            log,
            "--rules",
            RULES,
            "--as-of",
            "1996-12-31",
        ],
        &["--as-of", "before the first transaction"],
    );
    refused(
        &["summarize", "--transactions", log, "--end", "1996-12-31"],
        &["--end", "before the first purchase"],
    );
    refused(
        &[
            "validate",
            "--transactions",
            log,
            "--calibration-end",
            "1996-12-31",
            "--end",
            "1997-09-30",
            "--model",
            "bg-nbd",
        ],
        &["--calibration-end"],
    );
    refused(
        &[
            "summarize",
            "--transactions",
            log,
            "--end",
            "1997-09-30",
            "--holdout-end",
            "1997-09-01",
        ],
        &["--holdout-end", "after --end"],
    );
}

#[test]
fn margins_outside_a_share_of_spend_are_refused() {
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    for m in ["-1", "-0.5", "0", "1.01", "1e308", "NaN"] {
        refused(
            &[
                "predict",
                "--summary",
                summary,
                "--model",
                "bg-nbd",
                "--horizon",
                "52",
                "--margin",
                m,
            ],
            &["--margin"],
        );
        refused(
            &[
                "report",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--margin",
                m,
            ],
            &["--margin"],
        );
    }
}

#[test]
fn absurd_flag_values_name_the_flag() {
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let predict = |flag: &'static str, v: &'static str| {
        let mut args = vec!["predict", "--summary", summary, "--model", "bg-nbd"];
        if flag != "--horizon" {
            args.extend(["--horizon", "52"]);
        }
        args.extend([flag, v]);
        args
    };
    for (args, flag) in [
        (predict("--horizon", "-1"), "--horizon"),
        (predict("--horizon", "1e300"), "--horizon"),
        (predict("--discount", "1e-300"), "--discount"),
        (predict("--discount", "0"), "--discount"),
        (predict("--discount", "-0.1"), "--discount"),
        (
            vec![
                "segment",
                "--summary",
                summary,
                "--method",
                "kmeans",
                "--k",
                "0",
            ],
            "--k",
        ),
        (
            vec![
                "segment",
                "--summary",
                summary,
                "--method",
                "kmeans",
                "--k",
                "4294967295",
            ],
            "--k",
        ),
        (
            vec![
                "kpi",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--period-days",
                "0",
            ],
            "--period-days",
        ),
        (
            vec![
                "fit",
                "--summary",
                summary,
                "--model",
                "bg-nbd",
                "--penalty",
                "-1",
            ],
            "--penalty",
        ),
        (
            vec![
                "report",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--discount",
                "1e-300",
            ],
            "--discount",
        ),
        (
            vec![
                "summarize",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--unit",
                "months",
            ],
            "--unit",
        ),
        (
            vec![
                "segment",
                "--summary",
                summary,
                "--method",
                "rfm",
                "--k",
                "3",
            ],
            "--k",
        ),
    ] {
        refused(&args, &[flag]);
    }
}

#[test]
fn far_end_dates_are_refused_before_any_work() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    for args in [
        vec!["kpi", "--transactions", log, "--end", "9999-12-31"],
        vec!["report", "--transactions", log, "--end", "9999-12-31"],
        vec!["summarize", "--transactions", log, "--end", "9999-12-31"],
        vec![
            "validate",
            "--transactions",
            log,
            "--calibration-end",
            "1997-09-30",
            "--end",
            "9999-12-31",
            "--model",
            "bg-nbd",
        ],
        vec![
            "tiers",
            "--transactions",
            log,
            "--rules",
            RULES,
            "--as-of",
            "9999-12-31",
        ],
    ] {
        let flag = if args[0] == "tiers" {
            "--as-of"
        } else {
            "--end"
        };
        refused(&args, &[flag, "100 years", log]);
    }
}

#[test]
fn periods_beyond_the_limit_are_refused() {
    let dir = temp_dir("periods");
    // BG/BB opportunities: 4294967295 asked for 171 GB.
    for n in ["4294967295", "10001"] {
        let path = write(
            &dir,
            "discrete.csv",
            format!("frequency,recency,n_periods,weights\n1,1,{n},10\n0,0,{n},5\n"),
        );
        refused(
            &["fit", "--model", "bg-bb", "--summary", &path],
            &[&path, "line 2", "column n_periods", "at most 10000"],
        );
    }
    let mut survival = String::from("cohort,period,alive\n");
    for (t, v) in [1000, 631, 468, 382, 326].iter().enumerate() {
        survival.push_str(&format!("a,{t},{v}\n"));
    }
    let path = write(&dir, "survival.csv", survival);
    for model in ["sbg", "bdw"] {
        for v in ["4294967295", "1e12", "0", "10001", "2.0"] {
            refused(
                &["fit", "--model", model, "--survival", &path, "--periods", v],
                &["--periods"],
            );
        }
        let out = succeeds(&[
            "fit",
            "--model",
            model,
            "--survival",
            &path,
            "--periods",
            "3",
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["projected_alive"].as_array().unwrap().len(), 5);
    }
}

#[test]
fn a_closed_output_pipe_ends_quietly() {
    // The first line read, the reader goes away; the tool must neither panic nor complain.
    let clv = env!("CARGO_BIN_EXE_clv");
    let log = master();
    for args in [
        vec!["summarize", "--transactions", &log, "--end", "1997-09-30"],
        vec![
            "tiers",
            "--transactions",
            &log,
            "--rules",
            RULES,
            "--as-of",
            "1998-06-30",
        ],
    ] {
        let mut child = Command::new(clv)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with("customer_id,"), "{first}");
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
    }
}

#[test]
fn zero_spend_repeat_customers_get_the_population_mean_spend() {
    let dir = temp_dir("zero-spend");
    let rows = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    let mut lines: Vec<String> = rows.lines().map(str::to_string).collect();
    // Customer 1 (x = 2) spent nothing on its repeat purchases.
    assert!(lines[1].starts_with("1,2,"));
    let mut fields: Vec<&str> = lines[1].split(',').collect();
    fields[4] = "0.00";
    lines[1] = fields.join(",");
    let path = write(&dir, "summary.csv", lines.join("\n") + "\n");
    let out = run_clv(&["fit", "--summary", &path, "--model", "gamma-gamma"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 customer"), "{}", stderr(&out));
    let out = succeeds(&[
        "predict",
        "--summary",
        &path,
        "--model",
        "bg-nbd",
        "--horizon",
        "52",
    ]);
    let rows = csv_rows(&out);
    // Customer 3 has no repeat purchase: the population mean too.
    assert_eq!(rows[1][4], rows[3][4]);
    assert!(rows[1][5].parse::<f64>().unwrap() > 0.0);
}

#[test]
fn ids_that_need_quoting_are_quoted_in_csv_output() {
    let dir = temp_dir("quoting");
    let log = write(
        &dir,
        "log.csv",
        format!("{LOG}\"a,b\",1997-01-01,10\n\"a,b\",1997-01-05,12\n\"q\"\"x\",1997-01-02,5\n"),
    );
    let out = succeeds(&[
        "summarize",
        "--transactions",
        &log,
        "--end",
        "1997-02-01",
        "--unit",
        "days",
    ]);
    assert_eq!(
        out,
        "customer_id,frequency,recency,T,monetary_value\n\"a,b\",1,4.0,31.0,12\n\"q\"\"x\",0,0.0,30.0,0\n"
    );
    let out = succeeds(&[
        "tiers",
        "--transactions",
        &log,
        "--rules",
        RULES,
        "--as-of",
        "1997-02-01",
    ]);
    assert!(out.lines().nth(1).unwrap().starts_with("\"a,b\","), "{out}");
}

// ---------------------------------------------------------------------------------------------
// The full CDNOW cohort (23,570 customers, tests/data/cdnow_master_transactions.csv) through every
// subcommand and model.

const CUSTOMERS: usize = 23_570;

fn master() -> String {
    data_file("cdnow_master_transactions.csv")
        .to_str()
        .unwrap()
        .to_string()
}

/// The cohort summarised at 1997-09-30 in weeks, written once per test.
fn master_summary(test: &str) -> String {
    let out = succeeds(&[
        "summarize",
        "--transactions",
        &master(),
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
    ]);
    write(&temp_dir(test), "summary.csv", out)
}

#[test]
fn cdnow_cohort_summarize_and_segment() {
    let summary = master_summary("cdnow-segment");
    let rows = csv_rows(&std::fs::read_to_string(&summary).unwrap());
    assert_eq!(rows.len(), CUSTOMERS + 1);
    let holdout = succeeds(&[
        "summarize",
        "--transactions",
        &master(),
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
        "--holdout-end",
        "1998-06-30",
    ]);
    assert_eq!(csv_rows(&holdout).len(), CUSTOMERS + 1);
    for method in ["rfm", "abc", "lifecycle", "kmeans"] {
        let out = succeeds(&["segment", "--summary", &summary, "--method", method]);
        assert_eq!(csv_rows(&out).len(), CUSTOMERS + 1, "{method}");
    }
}

#[test]
fn cdnow_cohort_kpi_and_tiers() {
    let out = succeeds(&["kpi", "--transactions", &master(), "--end", "1997-09-30"]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(json.is_object());
    let out = succeeds(&[
        "tiers",
        "--transactions",
        &master(),
        "--rules",
        RULES,
        "--as-of",
        "1998-06-30",
    ]);
    assert_eq!(csv_rows(&out).len(), CUSTOMERS + 1);
}

#[test]
fn cdnow_cohort_fit_and_predict_every_model() {
    let summary = master_summary("cdnow-fit");
    for model in ["bg-nbd", "mbg-nbd", "pareto-nbd", "gamma-gamma"] {
        let out = run_clv(&["fit", "--summary", &summary, "--model", model]);
        assert!(out.status.success(), "{model}: {}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["model"], model);
        assert_eq!(json["report"]["converged"], true, "{model}");
        if model == "gamma-gamma" {
            // The one repeat customer whose repeat purchases cost 0.00 is left out, and said so.
            assert!(stderr(&out).contains("1 customer"), "{}", stderr(&out));
        }
    }
    for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
        let out = succeeds(&[
            "predict",
            "--summary",
            &summary,
            "--model",
            model,
            "--horizon",
            "52",
        ]);
        let rows = csv_rows(&out);
        assert_eq!(rows.len(), CUSTOMERS + 1, "{model}");
        assert_eq!(rows[0].len(), 6);
        for row in &rows[1..] {
            for v in &row[1..] {
                let v: f64 = v.parse().unwrap();
                assert!(v.is_finite() && v >= 0.0, "{model}: {row:?}");
            }
        }
    }
}

/// The discrete-time and contractual data of the cohort, written for `test`: five 91-day
/// periods from 1997-04-01, a period counted when the customer bought in it (BG/BB patterns);
/// "alive" at period k is the number whose last purchase falls in period k or later (period 0:
/// everyone). Returns the paths of the BG/BB and the survival files.
fn cdnow_discrete_files(test: &str) -> (String, String) {
    let start = NaiveDate::from_ymd_opt(1997, 4, 1).unwrap();
    let text = std::fs::read_to_string(master()).unwrap();
    let mut periods: std::collections::BTreeMap<u64, [bool; 5]> = Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let id: u64 = f[0].parse().unwrap();
        let date = NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap();
        let seen = periods.entry(id).or_default();
        let days = (date - start).num_days();
        if (0..5 * 91).contains(&days) {
            seen[(days / 91) as usize] = true;
        }
    }
    assert_eq!(periods.len(), CUSTOMERS);
    let mut patterns: std::collections::BTreeMap<(usize, usize), u64> = Default::default();
    let mut alive = [0u64; 6];
    for seen in periods.values() {
        let x = seen.iter().filter(|&&s| s).count();
        let t_x = seen.iter().rposition(|&s| s).map_or(0, |i| i + 1);
        *patterns.entry((x, t_x)).or_default() += 1;
        for a in alive.iter_mut().take(t_x + 1) {
            *a += 1;
        }
    }
    let dir = temp_dir(test);
    let mut discrete = String::from("frequency,recency,n_periods,weights\n");
    for ((x, t_x), w) in &patterns {
        discrete.push_str(&format!("{x},{t_x},5,{w}\n"));
    }
    let mut survival = String::from("cohort,period,alive\n");
    for (k, a) in alive.iter().enumerate() {
        survival.push_str(&format!("cdnow,{k},{a}\n"));
    }
    (
        write(&dir, "discrete.csv", discrete),
        write(&dir, "survival.csv", survival),
    )
}

/// Fits `model` on a CDNOW file and checks it converged; the JSON.
fn fits(args: &[&str]) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_str(&succeeds(args)).unwrap();
    assert_eq!(json["report"]["converged"], true, "{args:?}");
    json
}

#[test]
fn cdnow_cohort_fit_bg_bb_and_sbg() {
    let (discrete, survival) = cdnow_discrete_files("cdnow-bg-bb-sbg");
    fits(&["fit", "--model", "bg-bb", "--summary", &discrete]);
    let json = fits(&[
        "fit",
        "--model",
        "sbg",
        "--survival",
        &survival,
        "--periods",
        "4",
    ]);
    assert_eq!(json["projected_alive"].as_array().unwrap().len(), 6);
}

/// The cohort's survival (23570, 9985, 8328, 7060, 5382, 3323 alive) has a hazard that falls and
/// then rises: BdW's best fit sends α and β to infinity together, the limit without dropout
/// heterogeneity. `clv` says so, with the last estimate, instead of "did not converge".
#[test]
fn cdnow_cohort_fit_bdw_names_its_boundary() {
    let (_, survival) = cdnow_discrete_files("cdnow-bdw");
    let out = run_clv(&[
        "fit",
        "--model",
        "bdw",
        "--survival",
        &survival,
        "--periods",
        "4",
    ]);
    let err = stderr(&out);
    assert!(!out.status.success() && out.stdout.is_empty(), "{err}");
    assert!(err.contains(&survival), "{err}");
    assert!(
        err.contains("boundary") && err.contains("no dropout heterogeneity"),
        "{err}"
    );
    assert!(err.contains("last estimate alpha = "), "{err}");
}

#[test]
fn cdnow_cohort_validate_every_model() {
    let out = succeeds(&[
        "validate",
        "--transactions",
        &master(),
        "--calibration-end",
        "1997-09-30",
        "--end",
        "1998-06-30",
        "--unit",
        "weeks",
        "--model",
        "bg-nbd,mbg-nbd,pareto-nbd",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["customers"], CUSTOMERS);
    assert_eq!(json["models"].as_object().unwrap().len(), 3);
}

#[test]
fn cdnow_cohort_report_every_model() {
    for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
        let out = succeeds(&[
            "report",
            "--transactions",
            &master(),
            "--end",
            "1997-09-30",
            "--unit",
            "weeks",
            "--model",
            model,
        ]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            json["customers"].as_array().unwrap().len(),
            CUSTOMERS,
            "{model}"
        );
        // Customer 10244's repeat purchases are all free: valued at the population mean.
        assert_eq!(json["customers_at_mean_spend"], 1, "{model}");
        assert!(
            json["models"][1]["note"].is_null(),
            "{model}: Gamma-Gamma fits"
        );
    }
}

/// Equal repeat spends cannot identify Gamma-Gamma: `clv predict` goes on with the population mean
/// spend (as `clv report` does) and says why on stderr; `clv fit --model gamma-gamma` refuses.
#[test]
fn predict_falls_back_to_the_population_mean_spend() {
    let dir = temp_dir("equal-spends");
    let mut body = String::from("customer_id,frequency,recency,T,monetary_value\n");
    let source = std::fs::read_to_string(crate::data_file("cdnow_summary.csv")).unwrap();
    for line in source.lines().skip(1).take(300) {
        let f: Vec<&str> = line.split(',').collect();
        let spend = if f[1] == "0" { "0" } else { "20" };
        body.push_str(&format!("{},{},{},{},{spend}\n", f[0], f[1], f[2], f[3]));
    }
    let path = write(&dir, "equal.csv", &body);
    let out = run_clv(&[
        "predict",
        "--summary",
        &path,
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
        "--margin",
        "0.3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no spend heterogeneity"),
        "{}",
        stderr(&out)
    );
    let rows = crate::csv_rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 301);
    for row in &rows[1..] {
        assert_eq!(row[4].parse::<f64>().unwrap(), 20.0, "{row:?}");
    }
    refused(
        &["fit", "--summary", &path, "--model", "gamma-gamma"],
        &[&path, "no spend heterogeneity"],
    );
}
