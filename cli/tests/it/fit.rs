//! `clv fit` and `clv predict --params`: the fits of the continuous and discrete models, and the
//! saved parameters read back.

use crate::{data_file, run_clv};

/// Fader & Hardie (2007), customers active at the start of years 0–12 per 1,000 acquired (the
/// paper's data, from Berry & Linoff): the regular and the high-end segment.
const REGULAR: [f64; 13] = [
    1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0,
];
const HIGH_END: [f64; 13] = [
    1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0, 468.0, 445.0, 427.0, 409.0, 394.0,
];

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("clv-fit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn clv_fit_bg_bb_prints_the_donations_fit() {
    let out = run_clv(&[
        "fit",
        "--model",
        "bg-bb",
        "--summary",
        data_file("donations.csv").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["model"], "bg-bb");
    assert_eq!(json["report"]["converged"], true);
    assert!((json["parameters"]["alpha"].as_f64().unwrap() - 1.204).abs() < 0.001);
    assert!((json["parameters"]["delta"].as_f64().unwrap() - 2.783).abs() < 0.001);
    assert!(json["standard_errors"]["gamma"].as_f64().unwrap() > 0.0);
    assert!((json["report"]["log_likelihood"].as_f64().unwrap() - -33225.6).abs() < 0.1);
    assert!(json["report"]["iterations"].as_u64().unwrap() > 0);
}

#[test]
fn clv_fit_sbg_projects_one_or_several_cohorts() {
    let mut one = String::from("cohort,period,alive\n");
    for (t, v) in REGULAR.iter().enumerate() {
        one.push_str(&format!("regular,{t},{v}\n"));
    }
    let path = write_temp("regular.csv", &one);
    let out = run_clv(&[
        "fit",
        "--model",
        "sbg",
        "--survival",
        path.to_str().unwrap(),
        "--periods",
        "7",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!((json["parameters"]["alpha"].as_f64().unwrap() - 0.704).abs() < 0.0005);
    let projected = json["projected_alive"].as_array().unwrap();
    assert_eq!(projected.len(), 13);
    assert_eq!(projected[0].as_f64().unwrap(), 1000.0);
    assert!((projected[12].as_f64().unwrap() - 170.0).abs() < 0.5);

    let mut two = one.clone();
    for (t, v) in HIGH_END.iter().enumerate().take(9) {
        two.push_str(&format!("high end,{t},{v}\n"));
    }
    let path = write_temp("two.csv", &two);
    let out = run_clv(&[
        "fit",
        "--model",
        "bdw",
        "--survival",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["model"], "bdw");
    assert!(json["parameters"]["c"].as_f64().unwrap() > 0.0);
    assert_eq!(
        json["projected_alive"]["regular"].as_array().unwrap().len(),
        13
    );
    assert_eq!(
        json["projected_alive"]["high end"]
            .as_array()
            .unwrap()
            .len(),
        9
    );

    // A bad row is named.
    let path = write_temp("bad.csv", "cohort,period,alive\na,0,100\na,2,50\n");
    let out = run_clv(&[
        "fit",
        "--model",
        "sbg",
        "--survival",
        path.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `clv fit` writes parameters that `clv predict --params` reads back: the predictions equal
/// those of fitting inside `predict`, for each continuous model.
#[test]
fn clv_predict_with_saved_parameters_equals_predict_that_fits() {
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let dir = std::env::temp_dir().join(format!("clv-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
        let fit = run_clv(&["fit", "--summary", summary, "--model", model]);
        assert!(
            fit.status.success(),
            "{}",
            String::from_utf8_lossy(&fit.stderr)
        );
        let params = dir.join(format!("{model}.json"));
        std::fs::write(&params, &fit.stdout).unwrap();
        let args = [
            "predict",
            "--summary",
            summary,
            "--model",
            model,
            "--horizon",
            "39",
        ];
        let fitted = run_clv(&args);
        let mut with_params = args.to_vec();
        with_params.extend(["--params", params.to_str().unwrap()]);
        let loaded = run_clv(&with_params);
        assert!(
            loaded.status.success(),
            "{}",
            String::from_utf8_lossy(&loaded.stderr)
        );
        assert_eq!(fitted.stdout, loaded.stdout, "{model}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A large summary is read in pieces on several threads: an error still names its line, and
/// the first one in the file wins, whatever piece it is in; LF and CRLF alike.
#[test]
fn summary_errors_name_their_line_whichever_piece_reads_them() {
    let dir = crate::temp_dir("fit-pieces");
    for end in ["\n", "\r\n"] {
        let row = |k: usize, frequency: &str| format!("{k},{frequency},5,10{end}");
        let mut late = format!("customer_id,frequency,recency,T{end}");
        let mut both = late.clone();
        for k in 1..=10_000 {
            late.push_str(&row(k, if k == 9_000 { "x" } else { "1" }));
            both.push_str(&row(k, if k == 10 || k == 9_000 { "y" } else { "1" }));
        }
        for (name, text, line, value) in [("late", &late, 9_001, "x"), ("both", &both, 11, "y")] {
            let path = dir.join(format!("{name}.csv"));
            std::fs::write(&path, text).unwrap();
            let path = path.to_str().unwrap();
            crate::refused(
                &["fit", "--summary", path, "--model", "bg-nbd"],
                &[&format!(
                    "{path}: line {line}, column frequency: \"{value}\""
                )],
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--bootstrap N --seed S` summarises the library's refits of that seed: every one converged,
/// each parameter's distribution as `Draws::parameter_summaries` gives it.
#[test]
fn clv_fit_bootstrap_summarises_the_librarys_refits() {
    use customer_assets::fit::Fit;
    use customer_assets::models::bg_nbd::BgNbdParams;
    use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
    use customer_assets::models::{bootstrap, BootstrapOptions};
    use customer_assets::{Patterns, TimeUnit};
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let run = |model: &str| -> serde_json::Value {
        let args = [
            "fit",
            "--summary",
            summary,
            "--model",
            model,
            "--bootstrap",
            "40",
            "--seed",
            "11",
            "--interval",
            "0.8",
        ];
        serde_json::from_str(&crate::ok(&args)).unwrap()
    };
    let source = std::fs::read_to_string(summary).unwrap();
    let rows: Vec<Vec<f64>> = source
        .lines()
        .skip(1)
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    let patterns = Patterns::new(
        TimeUnit::WEEKS,
        rows.iter().map(|r| (r[0] as u32, r[1], r[2], 1.0)),
    )
    .unwrap();
    let spend = SpendData::new(
        rows.iter()
            .filter(|r| r[0] > 0.0 && r[3] > 0.0)
            .map(|r| (r[0] as u32, r[3], 1.0)),
    )
    .unwrap();
    let options = BootstrapOptions::new(40, 11).unwrap();
    let bg = BgNbdParams::new().fit(&patterns).unwrap();
    let bg_draws = bootstrap(&BgNbdParams::new(), &patterns, &bg, &options).unwrap();
    let gg = GammaGammaParams::new().fit(&spend).unwrap();
    let gg_draws = bootstrap(&GammaGammaParams::new(), &spend, &gg, &options).unwrap();
    let expected = [
        ("bg-nbd", bg_draws.parameter_summaries(0.8).unwrap()),
        ("gamma-gamma", gg_draws.parameter_summaries(0.8).unwrap()),
    ];
    for (model, summaries) in expected {
        let json = run(model);
        let b = &json["bootstrap"];
        assert_eq!(b["method"], "bootstrap", "{model}");
        assert_eq!(
            (b["replicates"].as_u64(), b["seed"].as_u64()),
            (Some(40), Some(11))
        );
        assert_eq!(b["converged"].as_u64(), Some(40), "{model}");
        assert_eq!(b["level"].as_f64(), Some(0.8));
        assert!(b["iterations"]["max"].as_u64().unwrap() >= 1);
        for s in summaries {
            let p = &b["parameters"][&s.name];
            for (key, want) in [
                ("estimate", s.estimate),
                ("mean", s.mean),
                ("standard_deviation", s.standard_deviation),
                ("lower", s.lower),
                ("upper", s.upper),
            ] {
                assert_eq!(p[key].as_f64(), Some(want), "{model} {} {key}", s.name);
            }
        }
    }
    crate::refused(
        &[
            "fit",
            "--summary",
            summary,
            "--model",
            "bg-nbd",
            "--seed",
            "1",
        ],
        &["--seed is for --bootstrap N"],
    );
    crate::refused(
        &[
            "fit",
            "--summary",
            summary,
            "--model",
            "bg-nbd",
            "--bootstrap",
            "0",
        ],
        &["--bootstrap"],
    );
}

/// GGompertz/NBD by name: on CDNOW the fit ends at its Pareto/NBD limit and says so (with the
/// estimate); a saved model predicts every customer.
#[test]
fn clv_fit_and_predict_take_ggom_nbd() {
    use customer_assets::models::ggompertz_nbd::{GGompertzNbd, GGompertzNbdParameters};
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    crate::refused(
        &["fit", "--summary", summary, "--model", "ggom-nbd"],
        &["fitting ggom-nbd", "Pareto/NBD", "r = 5.533e-1"],
    );
    let model = GGompertzNbd::new(
        GGompertzNbdParameters {
            r: 0.55,
            alpha: 10.5,
            b: 0.05,
            s: 0.5,
            beta: 1.5,
        },
        customer_assets::TimeUnit::WEEKS,
    )
    .unwrap();
    let mut json = serde_json::to_value(&model).unwrap();
    json["model"] = serde_json::json!("ggom-nbd");
    let params = write_temp("ggom.json", &json.to_string());
    let out = run_clv(&[
        "predict",
        "--summary",
        summary,
        "--model",
        "ggom-nbd",
        "--horizon",
        "39",
        "--params",
        params.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("customer_id,p_alive,expected_purchases,dert"));
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2357);
    for row in &rows {
        assert!(
            (0.0..=1.0).contains(&row[0]) && row[1] >= 0.0 && row[2] >= 0.0,
            "{row:?}"
        );
    }
    // Customer 1 (x = 2, t_x = 30.43, T = 38.86): the library's own prediction.
    let h = customer_assets::History::new(2, 30.43, 38.86);
    use customer_assets::TransactionModel;
    let want = model.expected_purchases(&h, 39.0).unwrap();
    assert!(
        (rows[0][1] - want).abs() < 1e-6 * want,
        "{} vs {want}",
        rows[0][1]
    );
}
