//! `clv validate` on the CDNOW holdout.

#[test]
fn clv_validate_runs_the_cdnow_holdout_for_three_models() {
    let log = crate::data_file("cdnow_sample_transactions.csv");
    let out = crate::run_clv(&[
        "validate",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
        "--end",
        "1998-06-30",
        "--unit",
        "weeks",
        "--model",
        "bg-nbd,mbg-nbd,pareto-nbd",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["customers"], 2357);
    for (model, ll) in [
        ("bg-nbd", -9582.43),
        ("mbg-nbd", -9582.13),
        ("pareto-nbd", -9594.98),
    ] {
        let r = &json["models"][model];
        // Calibration log-likelihoods at the published fits (from exact dates).
        assert!(
            (r["log_likelihood"].as_f64().unwrap() - ll).abs() < 0.02,
            "{model}: {}",
            r["log_likelihood"]
        );
        // 1,882 repeat purchase-days in the holdout (data/README.md), 2,457 in calibration.
        assert_eq!(r["errors"]["total_actual"], 1882.0);
        let expected = r["errors"]["total_expected"].as_f64().unwrap();
        assert!(
            expected > 1400.0 && expected < 2000.0,
            "{model}: {expected}"
        );
        let tracking = r["tracking"].as_array().unwrap();
        assert_eq!(tracking.len(), 78);
        assert_eq!(tracking[38]["actual_cumulative"], 2457.0);
        assert_eq!(tracking[38]["end"], "1997-09-30");
        assert_eq!(tracking[77]["actual_cumulative"], 2457.0 + 1882.0);
        let customers: u64 = r["by_frequency"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["customers"].as_u64().unwrap())
            .sum();
        assert_eq!(customers, 2357);
    }
    let comparison = json["comparison"].as_array().unwrap();
    assert_eq!(comparison.len(), 3);
    assert_eq!(comparison[0]["delta_aic"], 0.0);

    // An unknown model is refused before any work.
    let out = crate::run_clv(&[
        "validate",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
        "--end",
        "1998-06-30",
        "--model",
        "nope",
    ]);
    assert!(!out.status.success());
}
