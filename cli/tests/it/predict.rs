//! `clv fit`'s JSON is the library's fitted model, `clv predict --params` reads it back through
//! the library (and refuses another time unit), `--unit` sets the summary's unit and the default
//! discount, and `--spend` chooses the spend model.

use customer_assets::models::bg_nbd::BgNbd;
use customer_assets::models::gamma_gamma::GammaGamma;
use customer_assets::models::pareto_nbd::ParetoNbd;
use customer_assets::TimeUnit;

use crate::{csv_rows, data_file, ok_with_stderr, refused, temp_dir};

#[test]
fn fit_prints_the_library_model_with_its_unit() {
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let (text, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "bg-nbd"]);
    let model: BgNbd = serde_json::from_str(&text).unwrap();
    assert_eq!(model.unit(), TimeUnit::WEEKS);
    let p = model.parameters();
    // Fader, Hardie & Lee (2005) on this summary: r 0.243, alpha 4.414, a 0.793, b 2.426.
    assert!(
        (p.r - 0.243).abs() < 1e-3 && (p.alpha - 4.414).abs() < 1e-3,
        "{p:?}"
    );
    assert!(
        (p.a - 0.793).abs() < 1e-3 && (p.b - 2.426).abs() < 1e-3,
        "{p:?}"
    );
    let report = model.report().unwrap();
    assert!(report.converged && (report.log_likelihood - -9582.43).abs() < 0.01);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["model"], "bg-nbd");
    assert_eq!(json["unit"], 7.0);
    let se = model.standard_errors().unwrap();
    assert_eq!(json["standard_errors"]["r"].as_f64(), Some(se.r));
    // --interval adds Wald intervals on the log scale: r's 90% is 0.2426 · exp(± 1.6449 · se/r).
    let (text, _) = ok_with_stderr(&[
        "fit",
        "--summary",
        summary,
        "--model",
        "bg-nbd",
        "--interval",
        "0.9",
    ]);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let half = 1.6448536269514722 * se.r / p.r;
    let r = &json["intervals"]["r"];
    assert!(
        (r["lower"].as_f64().unwrap() - p.r * (-half).exp()).abs() < 1e-12,
        "{r}"
    );
    assert!(
        (r["upper"].as_f64().unwrap() - p.r * half.exp()).abs() < 1e-12,
        "{r}"
    );
    assert_eq!(json["intervals"]["level"], 0.9);
    for name in ["alpha", "a", "b"] {
        let i = &json["intervals"][name];
        let estimate = json["parameters"][name].as_f64().unwrap();
        assert!(i["lower"].as_f64().unwrap() < estimate && estimate < i["upper"].as_f64().unwrap());
    }
    crate::refused(
        &[
            "fit",
            "--summary",
            summary,
            "--model",
            "bg-nbd",
            "--interval",
            "1.5",
        ],
        &["--interval: \"1.5\" is outside 0.5 to 0.9999"],
    );
    // Pareto/NBD on the same summary: Fader, Hardie & Lee's r 0.553, alpha 10.578, s 0.606,
    // beta 11.669, log-likelihood -9594.97.
    let (text, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "pareto-nbd"]);
    let pareto: ParetoNbd = serde_json::from_str(&text).unwrap();
    let p = pareto.parameters();
    assert!(
        (p.r - 0.553).abs() < 1e-3 && (p.alpha - 10.578).abs() < 1e-2,
        "{p:?}"
    );
    assert!(
        (p.s - 0.606).abs() < 1e-3 && (p.beta - 11.669).abs() < 2e-2,
        "{p:?}"
    );
    assert!((pareto.report().unwrap().log_likelihood - -9594.97).abs() < 0.05);
    // The same summary declared in days: the rates are per day, the unit saved with them.
    let (text, _) = ok_with_stderr(&[
        "fit",
        "--summary",
        summary,
        "--model",
        "pareto-nbd",
        "--unit",
        "days",
    ]);
    let days: ParetoNbd = serde_json::from_str(&text).unwrap();
    assert_eq!(days.unit(), TimeUnit::DAYS);
    let (text, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "gamma-gamma"]);
    let gg: GammaGamma = serde_json::from_str(&text).unwrap();
    assert!(
        (gg.parameters().p - 6.2488).abs() < 1e-3,
        "{:?}",
        gg.parameters()
    );
}

#[test]
fn params_are_read_through_the_library_in_the_summary_unit() {
    let dir = temp_dir("predict-params");
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let (weeks, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "bg-nbd"]);
    let params = dir.join("weeks.json");
    std::fs::write(&params, &weeks).unwrap();
    let params = params.to_str().unwrap();
    let predict = [
        "predict",
        "--summary",
        summary,
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
    ];
    let (fitted, _) = ok_with_stderr(&predict);
    let (loaded, _) = ok_with_stderr(&[&predict[..], &["--params", params]].concat());
    assert_eq!(loaded, fitted);
    // A model fitted in weeks does not value a summary declared in days.
    refused(
        &[&predict[..], &["--params", params, "--unit", "days"]].concat(),
        &["--params", params, "units of 7 day(s)", "1 day(s)"],
    );
    // The library's checks: a negative parameter, the old hand-written form, another model.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, weeks.replacen("\"r\": 0.", "\"r\": -0.", 1)).unwrap();
    let bad = bad.to_str().unwrap();
    refused(
        &[&predict[..], &["--params", bad]].concat(),
        &["--params", bad, "r"],
    );
    let old = dir.join("old.json");
    std::fs::write(
        &old,
        r#"{"model": "bg-nbd", "params": {"r": 0.2, "alpha": 4, "a": 0.8, "b": 2.4}}"#,
    )
    .unwrap();
    let old = old.to_str().unwrap();
    refused(
        &[&predict[..], &["--params", old]].concat(),
        &[
            "--params",
            old,
            "not a fitted bg-nbd as `clv fit` writes it",
        ],
    );
    let mut pareto = predict.to_vec();
    pareto[4] = "pareto-nbd";
    refused(
        &[&pareto[..], &["--params", params]].concat(),
        &["parameters are for \"bg-nbd\", not \"pareto-nbd\""],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_default_discount_is_ten_percent_a_year_in_the_unit_given() {
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    for (unit, days) in [("weeks", 7.0), ("days", 1.0)] {
        let args = [
            "predict",
            "--summary",
            summary,
            "--model",
            "bg-nbd",
            "--horizon",
            "10",
            "--unit",
            unit,
        ];
        let (default, _) = ok_with_stderr(&args);
        let rate = (0.1f64).ln_1p() * days / 365.25;
        let (explicit, _) =
            ok_with_stderr(&[&args[..], &["--discount", &rate.to_string()]].concat());
        assert_eq!(default, explicit, "{unit}");
    }
}

#[test]
fn spend_chooses_the_spend_model_and_never_takes_down_the_purchases() {
    let dir = temp_dir("predict-spend");
    // Equal repeat spends: Gamma-Gamma cannot be identified.
    let mut body = String::from("customer_id,frequency,recency,T,monetary_value\n");
    let source = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    for line in source.lines().skip(1).take(300) {
        let f: Vec<&str> = line.split(',').collect();
        let spend = if f[1] == "0" { "0" } else { "20" };
        body.push_str(&format!("{},{},{},{},{spend}\n", f[0], f[1], f[2], f[3]));
    }
    let path = dir.join("equal.csv");
    std::fs::write(&path, body).unwrap();
    let path = path.to_str().unwrap();
    let args = [
        "predict",
        "--summary",
        path,
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
    ];
    let (auto, note) = ok_with_stderr(&args);
    assert!(
        note.contains("no spend heterogeneity") && note.contains("--spend gamma-gamma"),
        "{note}"
    );
    assert_eq!(csv_rows(&auto)[0].len(), 6);
    let (mean, note) = ok_with_stderr(&[&args[..], &["--spend", "mean"]].concat());
    assert!(note.is_empty(), "{note}");
    assert_eq!(mean, auto);
    let (none, _) = ok_with_stderr(&[&args[..], &["--spend", "none"]].concat());
    let rows = csv_rows(&none);
    assert_eq!(
        rows[0],
        ["customer_id", "p_alive", "expected_purchases", "dert"]
    );
    for (with, without) in csv_rows(&auto).iter().zip(&rows).skip(1) {
        assert_eq!(
            with[..4],
            without[..],
            "the purchase columns do not depend on spend"
        );
    }
    refused(
        &[&args[..], &["--spend", "gamma-gamma"]].concat(),
        &[path, "no spend heterogeneity"],
    );
    refused(
        &[&args[..], &["--spend", "lognormal"]].concat(),
        &["--spend: \"lognormal\""],
    );
    // Without a monetary_value column, asking for a spend model is an error; auto has none.
    let plain = dir.join("plain.csv");
    std::fs::write(
        &plain,
        "customer_id,frequency,recency,T\na,1,2,10\nb,0,0,10\nc,3,8,10\nd,2,3,9\n",
    )
    .unwrap();
    let plain = plain.to_str().unwrap();
    let args = [
        "predict",
        "--summary",
        plain,
        "--model",
        "bg-nbd",
        "--horizon",
        "5",
    ];
    refused(
        &[&args[..], &["--spend", "mean"]].concat(),
        &["--spend mean", "no monetary_value column"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--purchase-interval` adds the library's quantiles of each customer's own purchases.
#[test]
fn purchase_intervals_are_the_librarys_quantiles() {
    use customer_assets::models::purchase_quantiles;
    use customer_assets::History;
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let (fit, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "bg-nbd"]);
    let model: BgNbd = serde_json::from_str(&fit).unwrap();
    let (text, _) = ok_with_stderr(&[
        "predict",
        "--summary",
        summary,
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
        "--purchase-interval",
        "0.9",
    ]);
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0][..6],
        [
            "customer_id",
            "p_alive",
            "expected_purchases",
            "purchases_lower",
            "purchases_upper",
            "dert"
        ]
    );
    let source = std::fs::read_to_string(summary).unwrap();
    for (row, line) in rows[1..].iter().zip(source.lines().skip(1)).step_by(53) {
        let f: Vec<&str> = line.split(',').collect();
        let h = History::new(
            f[1].parse().unwrap(),
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
        );
        let q = purchase_quantiles(&model, &h, 39.0, &[0.05, 0.95]).unwrap();
        assert_eq!(
            (
                row[3].parse::<u32>().unwrap(),
                row[4].parse::<u32>().unwrap()
            ),
            (q[0], q[1]),
            "{row:?}"
        );
    }
    crate::refused(
        &[
            "predict",
            "--summary",
            summary,
            "--model",
            "bg-nbd",
            "--horizon",
            "0",
            "--purchase-interval",
            "0.9",
        ],
        &["--purchase-interval: the purchases of a --horizon of 0 are 0"],
    );
}

/// `--interval` adds the library's delta-method intervals after each predicted column.
#[test]
fn intervals_are_the_librarys_delta_method() {
    use customer_assets::models::{delta_interval, Scale};
    use customer_assets::History;
    use customer_assets::TransactionModel;
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let (fit, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "pareto-nbd"]);
    let model: ParetoNbd = serde_json::from_str(&fit).unwrap();
    use customer_assets::models::gamma_gamma::GammaGamma;
    use customer_assets::SpendModel;
    let args = [
        "predict",
        "--summary",
        summary,
        "--model",
        "pareto-nbd",
        "--horizon",
        "39",
        "--discount",
        "0.002",
    ];
    let (plain, _) = ok_with_stderr(&args);
    let (text, _) = ok_with_stderr(&[&args[..], &["--interval", "0.9"]].concat());
    let rows = csv_rows(&text);
    assert_eq!(
        rows[0],
        [
            "customer_id",
            "p_alive",
            "p_alive_lower",
            "p_alive_upper",
            "expected_purchases",
            "expected_purchases_lower",
            "expected_purchases_upper",
            "dert",
            "dert_lower",
            "dert_upper",
            "expected_spend",
            "expected_spend_lower",
            "expected_spend_upper",
            "clv",
            "clv_lower",
            "clv_upper",
        ]
    );
    // The point predictions are those without --interval.
    for (with, without) in rows.iter().zip(csv_rows(&plain)).skip(1) {
        assert_eq!(
            [&with[1], &with[4], &with[7], &with[10], &with[13]],
            [
                &without[1],
                &without[2],
                &without[3],
                &without[4],
                &without[5]
            ]
        );
    }
    let (spend_fit, _) = ok_with_stderr(&["fit", "--summary", summary, "--model", "gamma-gamma"]);
    let spend: GammaGamma = serde_json::from_str(&spend_fit).unwrap();
    let source = std::fs::read_to_string(summary).unwrap();
    let f = |s: &str| s.parse::<f64>().unwrap();
    for (row, line) in rows[1..].iter().zip(source.lines().skip(1)).step_by(97) {
        let c: Vec<&str> = line.split(',').collect();
        let h = History::new(c[1].parse().unwrap(), f(c[2]), f(c[3]));
        let p = delta_interval(&model, 0.9, Scale::Probability, |m| m.p_alive(&h, 0.0)).unwrap();
        let e = delta_interval(&model, 0.9, Scale::Positive, |m| {
            m.expected_purchases(&h, 39.0)
        })
        .unwrap();
        let d = delta_interval(&model, 0.9, Scale::Positive, |m| m.dert(&h, 0.002)).unwrap();
        let mean_spend = f(c[4]);
        let s = delta_interval(&spend, 0.9, Scale::Positive, |m| {
            if h.frequency > 0 && mean_spend > 0.0 {
                m.expected_spend(h.frequency, mean_spend)
            } else {
                m.expected_spend_new()
            }
        })
        .unwrap();
        let clv = d.product(&s, 1.0).unwrap();
        // The tool takes the differences over the batch predictions, which round differently
        // from the one-customer methods; the central differences magnify that to ~1e-10.
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-8 * want.abs();
        for (k, i) in [(1, p), (4, e), (7, d), (10, s), (13, clv)] {
            let (lower, upper) = (f(&row[k + 1]), f(&row[k + 2]));
            assert!(
                close(lower, i.lower) && close(upper, i.upper),
                "{k}: {row:?} vs {i:?}"
            );
            assert!(lower <= f(&row[k]) && f(&row[k]) <= upper, "{row:?}");
        }
    }
    crate::refused(
        &[&args[..], &["--interval", "0.9", "--method", "jackknife"]].concat(),
        &["--method: \"jackknife\" is not one of delta, bootstrap"],
    );
    crate::refused(
        &[&args[..], &["--method", "bootstrap"]].concat(),
        &["--method: give the --interval level"],
    );
    crate::refused(
        &[&args[..], &["--interval", "0.9", "--seed", "3"]].concat(),
        &["--bootstrap and --seed are for --method bootstrap"],
    );
}

/// `--method bootstrap` takes percentiles over the library's refits of the same seed, the
/// transaction model's and the spend model's paired by replicate for CLV; a seed repeats.
#[test]
fn bootstrap_intervals_are_the_librarys_refits() {
    use customer_assets::fit::Fit;
    use customer_assets::models::gamma_gamma::{GammaGammaParams, SpendData};
    use customer_assets::models::pareto_nbd::ParetoNbdParams;
    use customer_assets::models::{bootstrap, BootstrapOptions, PredictionInterval};
    use customer_assets::{History, Patterns, SpendModel, TimeUnit, TransactionModel};
    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let args = [
        "predict",
        "--summary",
        summary,
        "--model",
        "pareto-nbd",
        "--horizon",
        "39",
        "--discount",
        "0.002",
        "--margin",
        "0.3",
        "--interval",
        "0.8",
        "--method",
        "bootstrap",
        "--bootstrap",
        "25",
        "--seed",
        "3",
    ];
    let (text, _) = ok_with_stderr(&args);
    let (again, _) = ok_with_stderr(&args);
    assert_eq!(text, again, "the same seed gives the same intervals");
    let (other, _) = ok_with_stderr(&[&args[..args.len() - 1], &["4"]].concat());
    assert_ne!(text, other);
    let rows = csv_rows(&text);
    assert_eq!(rows[0].len(), 16);

    // The library's refits on the same rows, in file order.
    let source = std::fs::read_to_string(summary).unwrap();
    let f = |s: &str| s.parse::<f64>().unwrap();
    let lines: Vec<Vec<&str>> = source
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let histories: Vec<History> = lines
        .iter()
        .map(|c| History::new(c[1].parse().unwrap(), f(c[2]), f(c[3])))
        .collect();
    let patterns = Patterns::new(
        TimeUnit::WEEKS,
        histories
            .iter()
            .map(|h| (h.frequency, h.recency, h.age, 1.0)),
    )
    .unwrap();
    let spend = SpendData::new(
        lines
            .iter()
            .zip(&histories)
            .filter(|(c, h)| h.frequency > 0 && f(c[4]) > 0.0)
            .map(|(c, h)| (h.frequency, f(c[4]), 1.0)),
    )
    .unwrap();
    let options = BootstrapOptions::new(25, 3).unwrap();
    let params = ParetoNbdParams::new();
    let model = params.fit(&patterns).unwrap();
    let draws = bootstrap(&params, &patterns, &model, &options).unwrap();
    let spend_params = GammaGammaParams::new();
    let spend_model = spend_params.fit(&spend).unwrap();
    let spend_draws = bootstrap(&spend_params, &spend, &spend_model, &options).unwrap();
    for (row, (c, h)) in rows[1..]
        .iter()
        .zip(lines.iter().zip(&histories))
        .step_by(131)
    {
        let p = draws.interval(0.8, |m| m.p_alive(h, 0.0)).unwrap();
        let e = draws
            .interval(0.8, |m| m.expected_purchases(h, 39.0))
            .unwrap();
        let dert = draws.values(|m| m.dert(h, 0.002)).unwrap();
        let spend_of = |m: &customer_assets::models::gamma_gamma::GammaGamma| {
            if h.frequency > 0 && f(c[4]) > 0.0 {
                m.expected_spend(h.frequency, f(c[4]))
            } else {
                m.expected_spend_new()
            }
        };
        let s = spend_draws.interval(0.8, spend_of).unwrap();
        let spends = spend_draws.values(spend_of).unwrap();
        let clv: Vec<f64> = dert.iter().zip(&spends).map(|(d, s)| d * s * 0.3).collect();
        let clv = PredictionInterval::from_draws(f(&row[13]), &clv, 0.8, s.method).unwrap();
        let d = PredictionInterval::from_draws(f(&row[7]), &dert, 0.8, s.method).unwrap();
        for (k, i) in [(1, p), (4, e), (7, d), (10, s), (13, clv)] {
            assert_eq!(
                (f(&row[k + 1]), f(&row[k + 2])),
                (i.lower, i.upper),
                "{k}: {row:?}"
            );
        }
    }
}
