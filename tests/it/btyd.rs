//! Golden, recovery and property tests of the BG/NBD, MBG/NBD and Pareto/NBD models.
#![allow(clippy::excessive_precision)]

use chrono::NaiveDate;
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParameters, MbgNbdParams};
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
use customer_assets::simulate::{simulate, BgNbdProcess, ParetoNbdProcess, SimulationOptions};
use customer_assets::{Fit, History, Patterns, TimeUnit, TransactionModel};
use proptest::prelude::*;

/// One row of `cdnow_summary.csv`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub history: History,
}

/// Reads `cdnow_summary.csv` the way a user would (csv crate, named columns).
pub fn cdnow() -> Vec<SummaryRow> {
    let path = crate::data_file("cdnow_summary.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (f, r, t) = (col("frequency"), col("recency"), col("T"));
    reader
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            SummaryRow {
                history: History::new(
                    rec[f].parse().unwrap(),
                    rec[r].parse().unwrap(),
                    rec[t].parse().unwrap(),
                ),
            }
        })
        .collect()
}

pub fn cdnow_patterns() -> Patterns {
    Patterns::new(
        TimeUnit::WEEKS,
        cdnow()
            .iter()
            .map(|r| (r.history.frequency, r.history.recency, r.history.age, 1.0)),
    )
    .unwrap()
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} ± {tol}"
    );
}

#[test]
fn bg_nbd_published_parameters_give_the_published_log_likelihood_and_worked_example() {
    let model = BgNbd::new(
        BgNbdParameters {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    let ll = model.total_log_likelihood(&cdnow_patterns()).unwrap();
    close(ll, -9582.43, 0.05, "ll at the rounded published parameters");
    let h = History::new(2, 30.43, 38.86);
    close(model.p_alive(&h, 0.0).unwrap(), 0.7266, 5e-4, "P(alive)");
    close(
        model.expected_purchases(&h, 39.0).unwrap(),
        1.226,
        2e-3,
        "E[Y(39)]",
    );
}

#[test]
fn bg_nbd_golden_cdnow_fit() {
    let fitted = BgNbdParams::new().fit(&cdnow_patterns()).unwrap();
    let p = fitted.parameters();
    close(p.r, 0.243, 5e-4, "r");
    close(p.alpha, 4.414, 5e-4, "alpha");
    close(p.a, 0.793, 5e-4, "a");
    close(p.b, 2.426, 5e-4, "b");
    let report = fitted.report().unwrap();
    assert!(report.converged);
    close(report.log_likelihood, -9582.4256, 0.01, "ll");
    let se = fitted.standard_errors().unwrap();
    for v in [se.r, se.alpha, se.a, se.b] {
        assert!(v.is_finite() && v > 0.0, "{se:?}");
    }
    // the worked example, with the fitted model
    let h = History::new(2, 30.43, 38.86);
    close(fitted.p_alive(&h, 0.0).unwrap(), 0.7266, 5e-4, "P(alive)");
    close(
        fitted.expected_purchases(&h, 39.0).unwrap(),
        1.226,
        1e-3,
        "E[Y(39)]",
    );
}

/// A penalized estimate's standard errors come from the penalized likelihood's curvature: at
/// λ = 1 the unpenalized −H of CDNOW's BG/NBD estimate is not positive definite, and the fit used to
/// fail for want of standard errors.
#[test]
fn penalized_fits_have_standard_errors() {
    use customer_assets::fit::FitOptions;
    let patterns = cdnow_patterns();
    for penalty in [0.01, 1.0] {
        let options = FitOptions::new().penalty(penalty);
        let fits: Vec<(&str, Vec<f64>)> = vec![
            ("bg-nbd", {
                let se = BgNbdParams::new()
                    .fit_options(options.clone())
                    .fit(&patterns)
                    .unwrap()
                    .standard_errors()
                    .unwrap();
                vec![se.r, se.alpha, se.a, se.b]
            }),
            ("mbg-nbd", {
                let se = MbgNbdParams::new()
                    .fit_options(options.clone())
                    .fit(&patterns)
                    .unwrap()
                    .standard_errors()
                    .unwrap();
                vec![se.r, se.alpha, se.a, se.b]
            }),
            ("pareto-nbd", {
                let se = ParetoNbdParams::new()
                    .fit_options(options.clone())
                    .fit(&patterns)
                    .unwrap()
                    .standard_errors()
                    .unwrap();
                vec![se.r, se.alpha, se.s, se.beta]
            }),
        ];
        for (model, se) in fits {
            assert!(
                se.iter().all(|v| v.is_finite() && *v > 0.0),
                "{model}, λ = {penalty}: {se:?}"
            );
        }
    }
}

fn rel(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        ((got - want) / want).abs() <= tol,
        "{what}: got {got}, want {want} (relative tolerance {tol})"
    );
}

/// (model, history, ll, P(alive), E[Y(t)], DERT at 0.0018/week) from scripts/btyd_golden.py
/// (mpmath, 60 digits); t = 52 weeks for Pareto/NBD, 39 for the beta-geometric models.
fn check_golden(model: &dyn TransactionModel, h: History, t: f64, want: [f64; 4]) {
    let what = format!("{} {h:?}", model.name());
    rel(
        model.log_likelihood(&h).unwrap(),
        want[0],
        1e-9,
        &format!("{what} ll"),
    );
    rel(
        model.p_alive(&h, 0.0).unwrap(),
        want[1],
        1e-9,
        &format!("{what} p_alive"),
    );
    rel(
        model.expected_purchases(&h, t).unwrap(),
        want[2],
        1e-8,
        &format!("{what} E"),
    );
    rel(
        model.dert(&h, 0.0018).unwrap(),
        want[3],
        1e-7,
        &format!("{what} DERT"),
    );
}

fn pareto_cdnow() -> ParetoNbd {
    ParetoNbd::new(
        ParetoNbdParameters {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        },
        TimeUnit::WEEKS,
    )
    .unwrap()
}
fn bg_cdnow() -> BgNbd {
    BgNbd::new(
        BgNbdParameters {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        },
        TimeUnit::WEEKS,
    )
    .unwrap()
}
fn mbg_cdnow() -> MbgNbd {
    MbgNbd::new(
        MbgNbdParameters {
            r: 0.525,
            alpha: 6.183,
            a: 0.891,
            b: 1.614,
        },
        TimeUnit::WEEKS,
    )
    .unwrap()
}

#[test]
fn pareto_nbd_predictions_match_mpmath_including_heavy_buyers() {
    let m = pareto_cdnow();
    let g = |x, tx, t, want| check_golden(&m, History::new(x, tx, t), 52.0, want);
    g(
        221,
        103.43,
        103.57,
        [
            -76.964978360381071,
            0.9991538582322728,
            89.643971406404694,
            491.94523901997072,
        ],
    );
    g(
        10000,
        103.0,
        103.57,
        [
            34767.0193723563,
            3.0083261955827918e-18,
            1.2183162160693536e-14,
            6.6858356754297446e-14,
        ],
    );
    g(
        26,
        30.86,
        31.0,
        [
            -39.131671540302774,
            0.99791873105515828,
            25.458472951428769,
            108.89753102919989,
        ],
    );
    g(
        0,
        0.0,
        38.86,
        [
            -0.52104629408089037,
            0.29528660461689416,
            0.13620100592390506,
            0.60669883868677954,
        ],
    );
    g(
        2,
        30.43,
        38.86,
        [
            -9.5542832451504057,
            0.8691675591530112,
            1.8508267207019516,
            8.2443915479426857,
        ],
    );
    // every x up to 10,000 stays finite and in range
    for x in [1, 10, 100, 500, 1000, 2000, 5000, 10000] {
        for tx in [1.0, 50.0, 103.5] {
            let h = History::new(x, tx, 103.57);
            let p = m.p_alive(&h, 0.0).unwrap();
            assert!((0.0..=1.0).contains(&p), "{h:?} {p}");
            let e = m.expected_purchases(&h, 52.0).unwrap();
            assert!(e.is_finite() && e >= 0.0);
        }
    }
}

#[test]
fn bg_and_mbg_predictions_match_mpmath_including_heavy_buyers() {
    let bg = bg_cdnow();
    let g = |x, tx, t, want| check_golden(&bg, History::new(x, tx, t), 39.0, want);
    g(
        221,
        103.43,
        103.57,
        [
            -68.901546722411436,
            0.99527194190430908,
            70.178468667616523,
            412.29472175801772,
        ],
    );
    g(
        2,
        30.43,
        38.86,
        [
            -9.4586063070662712,
            0.72657857008067291,
            1.2260281747671445,
            6.4208011704581147,
        ],
    );
    g(
        0,
        0.0,
        38.86,
        [
            -0.55471327643815845,
            1.0,
            0.19509805201126264,
            1.3158262771090935,
        ],
    );
    let mbg = mbg_cdnow();
    let g = |x, tx, t, want| check_golden(&mbg, History::new(x, tx, t), 39.0, want);
    g(
        221,
        103.43,
        103.57,
        [
            -71.712375506134817,
            0.9947176843098601,
            68.196852722255586,
            369.83759957431204,
        ],
    );
    g(
        2,
        30.43,
        38.86,
        [
            -9.4855513145339315,
            0.70620226511848728,
            1.2629606232673657,
            6.0150784417018692,
        ],
    );
    g(
        0,
        0.0,
        38.86,
        [
            -0.53983746353101459,
            0.3897350809187629,
            0.15401274667514669,
            0.91523650292902254,
        ],
    );
    for model in [&bg as &dyn TransactionModel, &mbg] {
        for x in [1000, 10000] {
            let h = History::new(x, 103.5, 103.57);
            let p = model.p_alive(&h, 0.0).unwrap();
            assert!((0.0..=1.0).contains(&p));
            let e = model.expected_purchases(&h, 39.0).unwrap();
            assert!(e.is_finite() && e > 0.0, "{} {e}", model.name());
        }
    }
}

#[test]
fn pareto_nbd_golden_cdnow_fit() {
    let fitted = ParetoNbdParams::new().fit(&cdnow_patterns()).unwrap();
    let p = fitted.parameters();

    close(p.r, 0.553, 5e-4, "r");
    close(p.alpha, 10.578, 5e-4, "alpha");
    close(p.s, 0.606, 5e-4, "s");
    // β is the flattest direction of this likelihood (its standard error is several units):
    // on the 2-decimal summary file the maximum sits at β = 11.6679 (gradient norm 1e-9), on
    // the exact dates the published fit has 11.669. The test allows that rounding shift and
    // checks that our optimum beats the published point on this file.
    close(p.beta, 11.669, 1.5e-3, "beta");
    let report = fitted.report().unwrap();
    assert!(report.converged);
    close(report.log_likelihood, -9594.9739, 0.01, "ll");
    let published = pareto_cdnow()
        .total_log_likelihood(&cdnow_patterns())
        .unwrap();
    assert!(
        report.log_likelihood >= published - 1e-9,
        "{} < {published}",
        report.log_likelihood
    );
    let se = fitted.standard_errors().unwrap();
    for v in [se.r, se.alpha, se.s, se.beta] {
        assert!(v.is_finite() && v > 0.0, "{se:?}");
    }
    close(
        fitted.expected_purchases_new(52.0).unwrap(),
        1.473,
        1e-3,
        "E[X(52)]",
    );
    let h = History::new(26, 30.86, 31.0);
    close(
        fitted.expected_purchases(&h, 52.0).unwrap(),
        25.46,
        0.01,
        "E[Y(52)] customer 1516",
    );
}

#[test]
fn mbg_nbd_golden_cdnow_fit() {
    let fitted = MbgNbdParams::new().fit(&cdnow_patterns()).unwrap();
    let p = fitted.parameters();
    close(p.r, 0.525, 5e-4, "r");
    close(p.alpha, 6.183, 5e-4, "alpha");
    close(p.a, 0.891, 5e-4, "a");
    close(p.b, 1.614, 5e-4, "b");
    let report = fitted.report().unwrap();
    assert!(report.converged);
    close(report.log_likelihood, -9582.13, 0.01, "ll");
}

#[test]
fn fitted_models_round_trip_through_json() {
    let patterns = cdnow_patterns();
    let bg = BgNbdParams::new().fit(&patterns).unwrap();
    let back: BgNbd = serde_json::from_str(&serde_json::to_string(&bg).unwrap()).unwrap();
    assert_eq!(back, bg);
    let mbg = mbg_cdnow();
    let back: MbgNbd = serde_json::from_str(&serde_json::to_string(&mbg).unwrap()).unwrap();
    assert_eq!(back, mbg);
    let pnbd = pareto_cdnow();
    let back: ParetoNbd = serde_json::from_str(&serde_json::to_string(&pnbd).unwrap()).unwrap();
    assert_eq!(back, pnbd);
    // invalid parameters are refused on load
    let bad = serde_json::to_string(&pnbd)
        .unwrap()
        .replace("0.553", "-1.0");
    assert!(serde_json::from_str::<ParetoNbd>(&bad).is_err());
}

fn models() -> Vec<Box<dyn TransactionModel>> {
    vec![
        Box::new(bg_cdnow()),
        Box::new(mbg_cdnow()),
        Box::new(pareto_cdnow()),
    ]
}

proptest! {
    #![proptest_config(crate::proptest_config(24))]

    #[test]
    fn predictions_are_probabilities_and_monotone(
        x in 0u32..60,
        frac in 0.0f64..=1.0,
        age in 0.5f64..80.0,
        extra in 0.0f64..20.0,
        t in 0.0f64..60.0,
        dt in 0.0f64..30.0,
    ) {
        let h = History::new(x, if x == 0 { 0.0 } else { frac * age }, age);
        let older = History::new(h.frequency, h.recency, age + extra);
        for m in models() {
            let p = m.p_alive(&h, 0.0).unwrap();
            prop_assert!((0.0..=1.0).contains(&p));
            let p_later = m.p_alive(&h, t).unwrap();
            prop_assert!((0.0..=p + 1e-12).contains(&p_later));
            prop_assert!(m.p_alive(&older, 0.0).unwrap() <= p + 1e-12, "{} P(alive) grew with T", m.name());
            let e1 = m.expected_purchases(&h, t).unwrap();
            let e2 = m.expected_purchases(&h, t + dt).unwrap();
            prop_assert!(e1.is_finite() && e1 >= 0.0 && e2 >= e1 - 1e-9 * e2.abs(), "{} {} {}", m.name(), e1, e2);
            let n1 = m.expected_purchases_new(t).unwrap();
            prop_assert!(n1 >= 0.0 && m.expected_purchases_new(t + dt).unwrap() >= n1 - 1e-12);
        }
    }

    #[test]
    fn models_round_trip_through_json(
        v in prop::array::uniform4(0.01f64..50.0),
        days in 0.5f64..30.0,
    ) {
        let unit = TimeUnit::custom_days(days).unwrap();
        let bg = BgNbd::new(
BgNbdParameters { r: v[0], alpha: v[1], a: v[2], b: v[3] },
unit,
).unwrap();
        prop_assert_eq!(serde_json::from_str::<BgNbd>(&serde_json::to_string(&bg).unwrap()).unwrap(), bg);
        let mbg = MbgNbd::new(
MbgNbdParameters { r: v[0], alpha: v[1], a: v[2], b: v[3] },
unit,
).unwrap();
        prop_assert_eq!(serde_json::from_str::<MbgNbd>(&serde_json::to_string(&mbg).unwrap()).unwrap(), mbg);
        let p = ParetoNbd::new(ParetoNbdParameters { r: v[0], alpha: v[1], s: v[2], beta: v[3] }, unit).unwrap();
        prop_assert_eq!(serde_json::from_str::<ParetoNbd>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn pmf_sums_to_one_and_matches_the_expectation(
        x in 0u32..15,
        frac in 0.0f64..=1.0,
        age in 1.0f64..40.0,
        t in 0.5f64..40.0,
    ) {
        let h = History::new(x, if x == 0 { 0.0 } else { frac * age }, age);
        for m in models() {
            let (mut total, mut mean) = (0.0, 0.0);
            for n in 0..400u32 {
                let p = m.purchase_probability(&h, n, t).unwrap();
                prop_assert!((0.0..=1.0).contains(&p));
                total += p;
                mean += f64::from(n) * p;
            }
            prop_assert!((total - 1.0).abs() < 1e-6, "{} sum {}", m.name(), total);
            let e = m.expected_purchases(&h, t).unwrap();
            prop_assert!((mean - e).abs() < 1e-4 * (1.0 + e), "{} mean {} vs E {}", m.name(), mean, e);
            let new_total: f64 = (0..400u32).map(|n| m.purchase_probability_new(n, t).unwrap()).sum();
            prop_assert!((new_total - 1.0).abs() < 1e-6, "{} new sum {}", m.name(), new_total);
        }
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn bg_nbd_recovers_simulated_parameters_within_three_standard_errors() {
    let truth = [0.243, 4.414, 0.793, 2.426];
    let process = BgNbdProcess::new(truth[0], truth[1], truth[2], truth[3]).unwrap();
    let opts = SimulationOptions::new(
        50_000,
        day(2024, 1, 1),
        day(2024, 12, 31),
        TimeUnit::WEEKS,
        7,
    )
    .acquisition_days(84);
    let base = simulate(&process, &opts).unwrap();
    let fitted = BgNbdParams::new().fit(base.patterns()).unwrap();
    let (p, se) = (fitted.parameters(), fitted.standard_errors().unwrap());
    for (name, est, se, want) in [
        ("r", p.r, se.r, truth[0]),
        ("alpha", p.alpha, se.alpha, truth[1]),
        ("a", p.a, se.a, truth[2]),
        ("b", p.b, se.b, truth[3]),
    ] {
        assert!(
            (est - want).abs() <= 3.0 * se,
            "{name}: {est} ± {se}, truth {want}"
        );
    }
}

#[test]
fn pareto_nbd_recovers_simulated_parameters_within_three_standard_errors() {
    let truth = [0.553, 10.578, 0.606, 11.669];
    let process = ParetoNbdProcess::new(truth[0], truth[1], truth[2], truth[3]).unwrap();
    let opts = SimulationOptions::new(
        50_000,
        day(2024, 1, 1),
        day(2024, 12, 31),
        TimeUnit::WEEKS,
        11,
    )
    .acquisition_days(84);
    let base = simulate(&process, &opts).unwrap();
    let fitted = ParetoNbdParams::new().fit(base.patterns()).unwrap();
    let (p, se) = (fitted.parameters(), fitted.standard_errors().unwrap());
    for (name, est, se, want) in [
        ("r", p.r, se.r, truth[0]),
        ("alpha", p.alpha, se.alpha, truth[1]),
        ("s", p.s, se.s, truth[2]),
        ("beta", p.beta, se.beta, truth[3]),
    ] {
        assert!(
            (est - want).abs() <= 3.0 * se,
            "{name}: {est} ± {se}, truth {want}"
        );
    }
}

/// Over 20 simulated bases of 2,000 customers, the 95% Wald intervals (on the log scale, as the
/// fit works in log-parameters) cover the truth about 95% of the time: with 80 intervals, at
/// least 68 must cover (the binomial(80, 0.95) probability of fewer is below 0.1%).
#[test]
fn bg_nbd_wald_intervals_cover_the_truth() {
    let truth = [0.5, 5.0, 0.8, 2.5];
    let process = BgNbdProcess::new(truth[0], truth[1], truth[2], truth[3]).unwrap();
    let mut covered = 0;
    for rep in 0..20u64 {
        let opts = SimulationOptions::new(
            2_000,
            day(2024, 1, 1),
            day(2024, 12, 31),
            TimeUnit::WEEKS,
            100 + rep,
        )
        .acquisition_days(84);
        let base = simulate(&process, &opts).unwrap();
        let fitted = BgNbdParams::new().fit(base.patterns()).unwrap();
        let (p, se) = (fitted.parameters(), fitted.standard_errors().unwrap());
        for (est, se, want) in [
            (p.r, se.r, truth[0]),
            (p.alpha, se.alpha, truth[1]),
            (p.a, se.a, truth[2]),
            (p.b, se.b, truth[3]),
        ] {
            // se(ln θ) = se(θ) / θ by the delta method
            if ((est.ln() - f64::ln(want)) / (se / est)).abs() <= 1.96 {
                covered += 1;
            }
        }
    }
    assert!(covered >= 68, "{covered} of 80 intervals covered the truth");
}
