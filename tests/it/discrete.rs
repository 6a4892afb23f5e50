//! Discrete-time and contractual models: golden fits from the papers, parameter recovery on
//! simulated data, and the `clv fit` subcommand for bg-bb, sbg and bdw.

use customer_assets::fit::Fit;
use customer_assets::models::bdw::BdwParams;
use customer_assets::models::bg_bb::{BgBb, BgBbParams, DiscretePatterns};
use customer_assets::models::contractual::{Cohort, RetentionModel};
use customer_assets::models::sbg::SbgParams;
use customer_assets::simulate::{BgBbProcess, RetentionProcess};
use customer_assets::{History, TimeUnit, TransactionModel};

use crate::data_file;

fn year() -> TimeUnit {
    TimeUnit::custom_days(365.0).unwrap()
}

/// donations.csv as a user would read it: frequency,recency,n_periods,weights.
pub fn donations() -> DiscretePatterns {
    let mut reader = csv::Reader::from_path(data_file("donations.csv")).unwrap();
    let rows: Vec<(u32, u32, u32, f64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].parse().unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            )
        })
        .collect();
    DiscretePatterns::new(year(), rows).unwrap()
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[test]
fn bg_bb_reproduces_the_donations_fit() {
    let data = donations();
    assert_eq!(data.total_weight(), 11_104.0);
    let fitted = BgBbParams::new().fit(&data).unwrap();
    let p = fitted.parameters();
    let report = fitted.report().unwrap();
    assert!(report.converged);
    // Fader, Hardie & Shang (2010): α = 1.204, β = 0.750, γ = 0.657, δ = 2.783, LL = −33225.6.
    assert_eq!(
        [
            round3(p.alpha),
            round3(p.beta),
            round3(p.gamma),
            round3(p.delta)
        ],
        [1.204, 0.750, 0.657, 2.783],
        "{p:?}"
    );
    assert!((report.log_likelihood - -33225.6).abs() < 0.1);
    let se = fitted.standard_errors().unwrap();
    let se = [se.alpha, se.beta, se.gamma, se.delta];
    assert!(se.iter().all(|s| *s > 0.0 && *s < 0.5), "{se:?}");
    // Fitted models serialize and load back, with their covariance.
    let json = serde_json::to_string(&fitted).unwrap();
    let back: BgBb = serde_json::from_str(&json).unwrap();
    // (serde_json's default float parsing may differ in the last bit.)
    let array =
        |p: customer_assets::models::bg_bb::BgBbParameters| [p.alpha, p.beta, p.gamma, p.delta];
    for (a, b) in array(back.parameters())
        .iter()
        .zip(array(fitted.parameters()))
    {
        assert!((a - b).abs() <= 1e-14 * b.abs());
    }
    assert_eq!(back.report().unwrap().iterations, report.iterations);
    assert_eq!(back.unit(), fitted.unit());
    let (c, c_back) = (fitted.covariance().unwrap(), back.covariance().unwrap());
    assert_eq!(c_back.names(), ["alpha", "beta", "gamma", "delta"]);
    for (row, row_back) in c.matrix().iter().zip(c_back.matrix()) {
        for (a, b) in row.iter().zip(row_back) {
            assert!((a - b).abs() <= 1e-14 * a.abs());
        }
    }

    // Predictions on the fitted model behave: the 6-for-6 donor is the most likely to be alive
    // and to give again; the never-again donor the least.
    let m = &fitted;
    let best = History::new(6, 6.0, 6.0);
    let none = History::new(0, 0.0, 6.0);
    assert!(m.p_alive_in_period(&best, 1).unwrap() > m.p_alive_in_period(&none, 1).unwrap());
    let e_best = m.expected_transactions(&best, 5).unwrap();
    assert!(e_best > 2.0 && e_best < 5.0, "{e_best}");
    // DERT (closed form) against the summed series at d = 10%.
    let d = 0.1;
    let dert = m.dert_discrete(&best, d).unwrap();
    let mut summed = 0.0;
    for k in 1..2000u32 {
        let step = m.expected_transactions(&best, k).unwrap()
            - m.expected_transactions(&best, k - 1).unwrap();
        summed += step / (1.0 + d).powi(k as i32);
    }
    assert!((dert - summed).abs() < 1e-6, "{dert} vs {summed}");
    // DERT falls as the discount rate grows.
    assert!(m.dert_discrete(&best, 0.2).unwrap() < dert);
    // The trait view: whole periods, continuous rate ρ = ln(1 + d).
    assert!((m.dert(&best, (1.0f64 + d).ln()).unwrap() - dert).abs() < 1e-9);
    assert_eq!(
        m.expected_purchases(&best, 5.7).unwrap(),
        m.expected_transactions(&best, 5).unwrap()
    );
    // New donors: expected transactions in the first 6 years vs the observed mean.
    let observed: f64 = data
        .as_slice()
        .iter()
        .map(|p| p.frequency() as f64 * p.weight())
        .sum::<f64>()
        / data.total_weight();
    let expected = m.expected_transactions_new(6).unwrap();
    assert!(
        (observed - expected).abs() < 0.05,
        "{observed} vs {expected}"
    );
}

#[test]
fn bg_bb_recovers_simulated_parameters() {
    let truth = [1.2, 0.75, 0.66, 2.8];
    let data = BgBbProcess::new(truth[0], truth[1], truth[2], truth[3])
        .unwrap()
        .patterns(year(), 50_000, 10, 2024)
        .unwrap();
    let fitted = BgBbParams::new().fit(&data).unwrap();
    let p = fitted.parameters();
    let est = [p.alpha, p.beta, p.gamma, p.delta];
    let se = fitted.standard_errors().unwrap();
    let se = [se.alpha, se.beta, se.gamma, se.delta];
    for k in 0..4 {
        assert!(
            (est[k] - truth[k]).abs() < 3.0 * se[k],
            "param {k}: {} vs {} (se {})",
            est[k],
            truth[k],
            se[k]
        );
    }
}

/// Fader & Hardie (2007), customers active at the start of years 0–12 per 1,000 acquired (the
/// paper's data, from Berry & Linoff).
const REGULAR: [f64; 13] = [
    1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0,
];
const HIGH_END: [f64; 13] = [
    1000.0, 869.0, 743.0, 653.0, 593.0, 551.0, 517.0, 491.0, 468.0, 445.0, 427.0, 409.0, 394.0,
];

#[test]
fn sbg_reproduces_the_regular_and_high_end_fits() {
    for (name, data, alpha, beta, ll, projected) in [
        (
            "regular",
            REGULAR,
            0.704,
            1.182,
            -1680.27,
            [220.1, 204.4, 191.2, 179.9, 170.0],
        ),
        (
            "high end",
            HIGH_END,
            0.668,
            3.806,
            -1611.16,
            [460.4, 435.8, 414.2, 395.1, 378.0],
        ),
    ] {
        let cohort = Cohort::new(name, data.to_vec()).unwrap();
        let fitted = SbgParams::new().fit(&[cohort.calibration(7)]).unwrap();
        let p = fitted.parameters();
        assert_eq!((round3(p.alpha), round3(p.beta)), (alpha, beta), "{name}");
        let report = fitted.report().unwrap();
        assert!(
            (report.log_likelihood - ll).abs() < 0.01,
            "{name}: {}",
            report.log_likelihood
        );
        let m = &fitted;
        let survivors = m.projected_survivors(1000.0, 12).unwrap();
        for (t, want) in (8..=12).zip(projected) {
            assert!(
                (survivors[t] - want).abs() < 0.5,
                "{name} year {t}: {} vs {want}",
                survivors[t]
            );
        }
        // The projection stays close to the observed holdout years.
        for t in 8..=12 {
            assert!(
                (survivors[t] - data[t]).abs() / data[t] < 0.05,
                "{name} year {t}"
            );
        }
        // DERL and DEL: closed form against the summed survival, retention rising with tenure.
        assert!(m.retention_rate(2) > m.retention_rate(1));
        let del = m.del(0.1).unwrap();
        let summed: f64 = (0..5000)
            .map(|t| m.survival(t) / 1.1f64.powi(t as i32))
            .sum();
        assert!((del - summed).abs() < 1e-6, "{del} vs {summed}");
        let derl = m.derl(0.1, 5).unwrap();
        assert!(
            derl > m.derl(0.1, 1).unwrap(),
            "older customers are worth more under sBG"
        );
        assert!((m.clv(50.0, 0.1, 5).unwrap() - 50.0 * derl).abs() < 1e-9);
        assert!(m.retention_elasticity(0.1, 1).unwrap() > 1.0);
    }
}

#[test]
fn bdw_fits_the_same_data_at_least_as_well() {
    for data in [REGULAR, HIGH_END] {
        let cal = [Cohort::new("c", data.to_vec()).unwrap().calibration(7)];
        let sbg = SbgParams::new().fit(&cal).unwrap();
        let bdw = BdwParams::new().fit(&cal).unwrap();
        assert!(
            bdw.report().unwrap().log_likelihood >= sbg.report().unwrap().log_likelihood - 1e-6
        );
        assert!(bdw.derl(0.1, 3).unwrap() > 0.0);
    }
}

#[test]
fn sbg_and_bdw_recover_simulated_parameters() {
    // Several cohorts of different lengths at once.
    let sbg_truth = [0.9, 2.5];
    let process = RetentionProcess::sbg(sbg_truth[0], sbg_truth[1]).unwrap();
    let cohorts: Vec<Cohort> = (0..4)
        .map(|i| {
            process
                .cohort(&format!("c{i}"), 20_000, 6 + 2 * i, 100 + i as u64)
                .unwrap()
        })
        .collect();
    let fitted = SbgParams::new().fit(&cohorts).unwrap();
    let (est, se) = (fitted.parameters(), fitted.standard_errors().unwrap());
    let se = [se.alpha, se.beta];
    assert!(
        (est.alpha - sbg_truth[0]).abs() < 3.0 * se[0],
        "{est:?} {se:?}"
    );
    assert!(
        (est.beta - sbg_truth[1]).abs() < 3.0 * se[1],
        "{est:?} {se:?}"
    );

    let bdw_truth = [1.1, 3.0, 0.7];
    let process = RetentionProcess::bdw(bdw_truth[0], bdw_truth[1], bdw_truth[2]).unwrap();
    let cohorts: Vec<Cohort> = (0..4)
        .map(|i| {
            process
                .cohort(&format!("c{i}"), 25_000, 12, 200 + i as u64)
                .unwrap()
        })
        .collect();
    let fitted = BdwParams::new().fit(&cohorts).unwrap();
    let p = fitted.parameters();
    let est = [p.alpha, p.beta, p.c];
    let se = fitted.standard_errors().unwrap();
    let se = [se.alpha, se.beta, se.c];
    for k in 0..3 {
        assert!(
            (est[k] - bdw_truth[k]).abs() < 3.0 * se[k],
            "param {k}: {est:?} {se:?}"
        );
    }
}

#[test]
fn deserialization_checks_what_the_constructors_check() {
    assert!(serde_json::from_str::<BgBb>(
        r#"{"parameters":{"alpha":1,"beta":1,"gamma":1,"delta":2},"unit":365}"#
    )
    .is_ok());
    assert!(serde_json::from_str::<BgBb>(
        r#"{"parameters":{"alpha":-1,"beta":1,"gamma":1,"delta":2},"unit":365}"#
    )
    .is_err());
    assert!(serde_json::from_str::<Cohort>(r#"{"name":"a","alive":[10,8]}"#).is_ok());
    assert!(serde_json::from_str::<Cohort>(r#"{"name":"a","alive":[]}"#).is_err());
    assert!(serde_json::from_str::<Cohort>(r#"{"name":"a","alive":[10,12]}"#).is_err());
    let good = r#"{"period":365,"items":[{"frequency":2,"recency":3,"periods":6,"weight":1}]}"#;
    assert!(serde_json::from_str::<DiscretePatterns>(good).is_ok());
    let bad = r#"{"period":365,"items":[{"frequency":3,"recency":2,"periods":6,"weight":1}]}"#;
    assert!(serde_json::from_str::<DiscretePatterns>(bad).is_err());
}

#[test]
fn fitted_retention_models_round_trip_through_json_and_reject_invalid_parameters() {
    use customer_assets::models::bdw::Bdw;
    use customer_assets::models::sbg::Sbg;

    let cal = [Cohort::new("regular", REGULAR.to_vec())
        .unwrap()
        .calibration(7)];
    let sbg = SbgParams::new().fit(&cal).unwrap();
    let back: Sbg = serde_json::from_str(&serde_json::to_string(&sbg).unwrap()).unwrap();
    assert!((back.parameters().alpha - sbg.parameters().alpha).abs() <= 1e-14);
    assert_eq!(back.covariance().unwrap().names(), ["alpha", "beta"]);
    let (a, b) = (sbg.covariance().unwrap(), back.covariance().unwrap());
    assert!(
        (a.get(0, 1).unwrap() - b.get(0, 1).unwrap()).abs() <= 1e-14 * a.get(0, 1).unwrap().abs()
    );
    assert_eq!(back.report(), sbg.report());
    assert!(serde_json::from_str::<Sbg>(r#"{"parameters":{"alpha":-0.7,"beta":1.2}}"#).is_err());

    let bdw = BdwParams::new().fit(&cal).unwrap();
    let back: Bdw = serde_json::from_str(&serde_json::to_string(&bdw).unwrap()).unwrap();
    assert!((back.parameters().c - bdw.parameters().c).abs() <= 1e-14);
    assert_eq!(back.covariance().unwrap().names(), ["alpha", "beta", "c"]);
    assert!(
        serde_json::from_str::<Bdw>(r#"{"parameters":{"alpha":0.7,"beta":1.2,"c":1}}"#).is_ok()
    );
    assert!(
        serde_json::from_str::<Bdw>(r#"{"parameters":{"alpha":0.7,"beta":1.2,"c":-1}}"#).is_err()
    );
    // A covariance must name the model's parameters.
    let mut json: serde_json::Value = serde_json::to_value(&bdw).unwrap();
    json["covariance"]["names"] = serde_json::json!(["a", "b", "c"]);
    assert!(serde_json::from_value::<Bdw>(json).is_err());
}
