//! Covariate models on simulated bases with known effects: estimates within their standard
//! errors of the truth, the coverage of the Wald intervals over seeds, the model at zero
//! coefficients against the model without covariates, constraints and the likelihood-ratio
//! test, and degenerate bases.

use chrono::NaiveDate;
use customer_assets::covariates::DesignMatrix;
use customer_assets::fit::Fit;
use customer_assets::models::covariates::{
    Coefficient, CovariateData, CovariateFamily, CovariateModel, CovariateParams, Process,
};
use customer_assets::models::{
    BgNbd, BgNbdParameters, BgNbdParams, MbgNbd, MbgNbdParams, ParetoNbd, ParetoNbdParameters,
    ParetoNbdParams, TransactionModel,
};
use customer_assets::simulate::{
    draw_design, simulate_with_covariates, CovariateDraw, SimulationOptions,
};
use customer_assets::{CustomerId, FitError, History, TimeUnit};

/// The families with closed-form likelihoods, checked at length here; GGompertz/NBD (whose
/// likelihood is a quadrature, a fit a few times slower) has its own, shorter checks below.
const CLOSED_FORM: [CovariateFamily; 3] = [
    CovariateFamily::ParetoNbd,
    CovariateFamily::BgNbd,
    CovariateFamily::MbgNbd,
];

/// The base parameters of the truth (weekly unit).
fn base(family: CovariateFamily) -> Vec<f64> {
    match family {
        CovariateFamily::ParetoNbd => vec![0.6, 8.0, 0.7, 12.0],
        // r, α, b (ageing per week), s, β
        CovariateFamily::GGompertzNbd => vec![0.6, 8.0, 0.05, 0.7, 2.5],
        _ => vec![0.6, 8.0, 0.7, 2.5],
    }
}

/// The truth: a binary column `web` and a standard normal column `score` on both processes.
fn truth(family: CovariateFamily) -> CovariateModel {
    let c = |column: &str, process, value| Coefficient {
        column: column.into(),
        process,
        value,
    };
    CovariateModel::new(
        family,
        TimeUnit::WEEKS,
        base(family),
        vec![
            c("web", Process::Purchase, 0.5),
            c("score", Process::Purchase, -0.3),
            c("web", Process::Dropout, -0.4),
            c("score", Process::Dropout, 0.3),
        ],
    )
    .unwrap()
}

fn columns() -> [CovariateDraw; 2] {
    [
        CovariateDraw::binary("web", 0.5),
        CovariateDraw::standard_normal("score"),
    ]
}

/// `n` customers acquired over 12 weeks from 2024-01-01, observed to 2025-06-30 (78 weeks).
fn options(n: usize, seed: u64) -> SimulationOptions {
    SimulationOptions::new(
        n,
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        TimeUnit::WEEKS,
        seed,
    )
    .acquisition_days(84)
}

fn simulated(model: &CovariateModel, n: usize, seed: u64) -> CovariateData {
    let design = draw_design(&columns(), n, seed).unwrap();
    simulate_with_covariates(model, &design, &options(n, seed.wrapping_add(1_000_003)))
        .unwrap()
        .into_data()
}

/// The truth's value of each of `fitted`'s parameters, by name.
fn true_values(fitted: &CovariateModel, truth: &CovariateModel) -> Vec<f64> {
    let names = truth.parameter_names();
    let values = truth.parameter_values();
    fitted
        .parameter_names()
        .iter()
        .map(|n| values[names.iter().position(|m| m == n).unwrap()])
        .collect()
}

#[test]
fn every_family_recovers_its_parameters_within_three_standard_errors() {
    for family in CLOSED_FORM {
        let truth = truth(family);
        let data = simulated(&truth, 5_000, 1);
        let model = CovariateParams::new(family).fit(&data).unwrap();
        let se = model.standard_errors().unwrap();
        let want = true_values(&model, &truth);
        for (((name, got), se), want) in model
            .parameter_names()
            .iter()
            .zip(model.parameter_values())
            .zip(se)
            .zip(want)
        {
            let z = (got - want) / se;
            eprintln!("{family} {name}: {got:.4} (se {se:.4}) truth {want} z {z:+.2}");
            assert!(se.is_finite() && se > 0.0, "{family} {name} se {se}");
            assert!(z.abs() <= 3.0, "{family} {name}: {got} vs {want}, z {z}");
        }
    }
}

/// Fits `seeds` bases of `n` customers of `family` and counts, per parameter (in the fit's
/// order), the 95% Wald intervals that hold the truth: estimate ± 1.96 SE, and for the base
/// parameters also on the log scale, exp(ln estimate ± 1.96 SE / estimate) (the same standard
/// error, by the delta method); also the fits that failed.
#[allow(clippy::type_complexity)]
fn coverage(
    family: CovariateFamily,
    seeds: u64,
    n: usize,
) -> (Vec<String>, Vec<usize>, Vec<usize>, usize) {
    let truth = truth(family);
    let (mut names, mut covered, mut log_covered, mut failed) =
        (Vec::new(), vec![0; 8], vec![0; 4], 0);
    for seed in 0..seeds {
        let data = simulated(&truth, n, 100 + seed);
        let Ok(model) = CovariateParams::new(family).fit(&data) else {
            failed += 1;
            continue;
        };
        names = model.parameter_names();
        let se = model.standard_errors().unwrap();
        let want = true_values(&model, &truth);
        for (i, ((got, se), want)) in model
            .parameter_values()
            .into_iter()
            .zip(se)
            .zip(want)
            .enumerate()
        {
            covered[i] += usize::from((got - want).abs() <= 1.96 * se);
            if i < 4 {
                log_covered[i] += usize::from((got.ln() - want.ln()).abs() <= 1.96 * se / got);
            }
        }
    }
    (names, covered, log_covered, failed)
}

/// Whether `covered` of `total` 95% intervals is within `k` binomial standard deviations of
/// 95% (the intervals of one fit are correlated, so k is generous).
fn plausible(covered: usize, total: usize, k: f64) -> bool {
    let n = total as f64;
    let sd = (n * 0.95 * 0.05).sqrt();
    (covered as f64 - 0.95 * n).abs() <= k * sd
}

/// Asserts the coverage of the coefficients' intervals and of the base parameters' log-scale
/// intervals, each pooled over their parameters, within 3 binomial standard deviations of 95%,
/// and every single one's within 4. The base parameters' symmetric intervals are only
/// reported. The long sweep (2026-12-04) found every coefficient's coverage within 0.936–0.960
/// and every base parameter's within 0.932–0.968 but MBG/NBD's b: 0.884 symmetric, 0.908 on
/// the log scale (its estimate is skewed at 2,000 customers); MBG/NBD's base parameters pool to
/// 0.931 on the log scale, −2.8 binomial standard deviations.
fn check_coverage(seeds: u64, n: usize) {
    for family in CLOSED_FORM {
        let (names, covered, log_covered, failed) = coverage(family, seeds, n);
        assert_eq!(failed, 0, "{family}");
        let fits = seeds as usize;
        let list = |counts: &[usize]| -> String {
            names
                .iter()
                .zip(counts)
                .map(|(name, c)| format!("{name} {:.3}", *c as f64 / fits as f64))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let base: usize = covered[..4].iter().sum();
        let log_base: usize = log_covered.iter().sum();
        let coefficients: usize = covered[4..].iter().sum();
        let share = |c: usize| c as f64 / (4 * fits) as f64;
        eprintln!(
            "{family}: {seeds} seeds × {n} customers: coefficients {coefficients}/{} = {:.3}, base {base} = {:.3} (log scale {log_base} = {:.3}); {} (log scale: {})",
            4 * fits,
            share(coefficients),
            share(base),
            share(log_base),
            list(&covered),
            list(&log_covered)
        );
        assert!(
            plausible(coefficients, 4 * fits, 3.0),
            "{family} coefficients {coefficients}"
        );
        assert!(
            plausible(log_base, 4 * fits, 3.0),
            "{family} base parameters (log scale) {log_base}"
        );
        for (name, c) in names[4..].iter().zip(&covered[4..]) {
            assert!(plausible(*c, fits, 4.0), "{family} {name}: {c}/{fits}");
        }
        for (name, c) in names.iter().zip(&log_covered) {
            assert!(
                plausible(*c, fits, 4.0),
                "{family} {name} (log scale): {c}/{fits}"
            );
        }
    }
}

#[test]
fn wald_intervals_cover_the_truth_about_95_percent_of_the_time() {
    // About 10 s at the test profile's opt-level 1 on 2 cores.
    check_coverage(40, 2_000);
}

/// The long sweep (250 seeds of 2,000 customers per family, 750 fits): about a minute at the
/// test profile's opt-level, so run on demand:
/// `cargo test --test it covariate_recovery::long -- --ignored --nocapture`.
#[test]
#[ignore = "long: 750 fits of 2,000 customers; run on demand"]
fn long_wald_coverage_sweep() {
    check_coverage(250, 2_000);
}

/// The model without covariates at the base parameters.
fn plain(family: CovariateFamily, p: &[f64]) -> Box<dyn TransactionModel> {
    match family {
        CovariateFamily::ParetoNbd => Box::new(
            ParetoNbd::new(
                ParetoNbdParameters {
                    r: p[0],
                    alpha: p[1],
                    s: p[2],
                    beta: p[3],
                },
                TimeUnit::WEEKS,
            )
            .unwrap(),
        ),
        CovariateFamily::BgNbd => Box::new(
            BgNbd::new(
                BgNbdParameters {
                    r: p[0],
                    alpha: p[1],
                    a: p[2],
                    b: p[3],
                },
                TimeUnit::WEEKS,
            )
            .unwrap(),
        ),
        _ => Box::new(
            MbgNbd::new(
                BgNbdParameters {
                    r: p[0],
                    alpha: p[1],
                    a: p[2],
                    b: p[3],
                },
                TimeUnit::WEEKS,
            )
            .unwrap(),
        ),
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-300)
}

#[test]
fn at_zero_coefficients_the_model_is_the_model_without_covariates() {
    for family in CLOSED_FORM {
        let data = simulated(&truth(family), 500, 7);
        let zero = truth(family)
            .with_parameters(&[base(family), vec![0.0; 4]].concat())
            .unwrap();
        let plain = plain(family, &base(family));
        let expected: f64 = data
            .histories()
            .iter()
            .map(|h| plain.log_likelihood(h).unwrap())
            .sum();
        let got = zero.total_log_likelihood(&data).unwrap();
        assert!(close(got, expected, 1e-8), "{family}: {got} vs {expected}");
        let with = zero.predict(&data, 26.0, 0.01).unwrap();
        let without = plain.predict_batch(data.histories(), 26.0, 0.01).unwrap();
        for i in 0..data.len() {
            assert!(
                close(with.p_alive[i], without.p_alive[i], 1e-8),
                "{family} {i}"
            );
            assert!(
                close(
                    with.expected_purchases[i],
                    without.expected_purchases[i],
                    1e-8
                ),
                "{family} {i}"
            );
            assert!(close(with.dert[i], without.dert[i], 1e-8), "{family} {i}");
        }
    }
}

#[test]
fn without_covariates_the_fit_is_the_plain_fit() {
    // Not a tautology: the covariate fit has its own likelihood over cells and its own time
    // rescaling; with no columns it must find the plain model's maximum.
    let none: [&str; 0] = [];
    for family in CLOSED_FORM {
        let data = simulated(&truth(family), 1_000, 8);
        let patterns = customer_assets::Patterns::new(
            TimeUnit::WEEKS,
            data.histories()
                .iter()
                .map(|h| (h.frequency, h.recency, h.age, 1.0)),
        )
        .unwrap();
        let model = CovariateParams::new(family)
            .purchase_covariates(&none)
            .dropout_covariates(&none)
            .fit(&data)
            .unwrap();
        let plain: Box<dyn TransactionModel> = match family {
            CovariateFamily::ParetoNbd => Box::new(ParetoNbdParams::new().fit(&patterns).unwrap()),
            CovariateFamily::BgNbd => Box::new(BgNbdParams::new().fit(&patterns).unwrap()),
            _ => Box::new(MbgNbdParams::new().fit(&patterns).unwrap()),
        };
        let (a, b) = (
            model.report().unwrap().log_likelihood,
            plain.fit_report().unwrap().log_likelihood,
        );
        assert!(close(a, b, 1e-7), "{family}: {a} vs {b}");
        for ((_, p), (_, q)) in model.base_parameters().iter().zip(plain.named_parameters()) {
            assert!(close(*p, q, 1e-3), "{family}: {p} vs {q}");
        }
        // and its likelihood-ratio test against the full fit has 4 degrees of freedom
        let full = CovariateParams::new(family).fit(&data).unwrap();
        let lr = full.likelihood_ratio_test(plain.as_ref()).unwrap();
        assert_eq!(lr.degrees_of_freedom, 4);
        assert!(lr.p_value < 1e-3, "{family}: {lr:?}");
    }
}

#[test]
fn a_constrained_coefficient_enters_both_processes_and_costs_one_degree_of_freedom() {
    for family in CLOSED_FORM {
        // web acts on both processes with one coefficient in the truth…
        let equal = truth(family)
            .with_parameters(&[base(family), vec![0.5, -0.3, 0.5, 0.3]].concat())
            .unwrap();
        let data = simulated(&equal, 3_000, 9);
        let free = CovariateParams::new(family).fit(&data).unwrap();
        let tied = CovariateParams::new(family)
            .constrain(&["web"])
            .fit(&data)
            .unwrap();
        let both: Vec<&Coefficient> = tied
            .coefficients()
            .iter()
            .filter(|c| c.column == "web")
            .collect();
        assert_eq!(both.len(), 1);
        assert_eq!(both[0].process, Process::Both);
        // …so the web customer's α and dropout parameters move by the one coefficient.
        let g = both[0].value;
        let at = |row: &[f64]| tied.individual_parameters(row).unwrap();
        let (off, on) = (at(&[0.0, 0.0]), at(&[1.0, 0.0]));
        assert!(close(on[1] / off[1], (-g).exp(), 1e-12), "{family}");
        let dropout_ratio = match family {
            CovariateFamily::ParetoNbd => (-g).exp(),
            _ => g.exp(),
        };
        assert!(close(on[3] / off[3], dropout_ratio, 1e-12), "{family}");
        let lr = free.likelihood_ratio_test_against(&tied).unwrap();
        assert_eq!(lr.degrees_of_freedom, 1);
        eprintln!("{family}: both.web {g:.4}, LR {lr:?}");
        assert!(lr.p_value > 0.001, "{family}: {lr:?}");
        // With unequal effects (0.5 on purchase, −0.4 on dropout) the test rejects.
        let data = simulated(&truth(family), 3_000, 10);
        let free = CovariateParams::new(family).fit(&data).unwrap();
        let tied = CovariateParams::new(family)
            .constrain(&["web"])
            .fit(&data)
            .unwrap();
        let lr = free.likelihood_ratio_test_against(&tied).unwrap();
        eprintln!("{family}: unequal effects, LR {lr:?}");
        assert_eq!(lr.degrees_of_freedom, 1);
        assert!(lr.p_value < 0.01, "{family}: {lr:?}");
    }
}

fn data_of(rows: Vec<Vec<f64>>, names: &[&str], histories: Vec<History>) -> CovariateData {
    let ids: Vec<CustomerId> = (1..=rows.len() as u64).map(CustomerId::from).collect();
    let design = DesignMatrix::new(
        names.iter().map(|s| s.to_string()).collect(),
        ids.clone(),
        rows,
    )
    .unwrap();
    CovariateData::new(TimeUnit::WEEKS, ids.into_iter().zip(histories), &design).unwrap()
}

#[test]
fn degenerate_bases_give_typed_errors_not_panics() {
    for family in CLOSED_FORM {
        let params = CovariateParams::new(family);
        // One customer: the one covariate value is constant.
        let one = data_of(vec![vec![1.0]], &["web"], vec![History::new(2, 10.0, 30.0)]);
        assert!(
            matches!(params.fit(&one), Err(FitError::Covariates { .. })),
            "{family}"
        );
        // Identical customers with identical covariates.
        let same = data_of(
            vec![vec![1.0, 0.5]; 50],
            &["web", "score"],
            vec![History::new(2, 10.0, 30.0); 50],
        );
        assert!(
            matches!(params.fit(&same), Err(FitError::Covariates { .. })),
            "{family}"
        );
        // Identical histories, varied covariates: the base model is not identified.
        let rows: Vec<Vec<f64>> = (0..50).map(|i| vec![f64::from(i % 2)]).collect();
        let flat = data_of(rows, &["web"], vec![History::new(2, 10.0, 30.0); 50]);
        let err = params.fit(&flat);
        assert!(err.is_err(), "{family}: {err:?}");
        // A constant and a collinear column among simulated customers.
        let data = simulated(&truth(family), 300, 11);
        let widen = |f: &dyn Fn(&[f64]) -> f64| {
            let design = data.design();
            let rows = (0..data.len())
                .map(|i| {
                    let r = design.row(i);
                    vec![r[0], r[1], f(r)]
                })
                .collect();
            let design = DesignMatrix::new(
                vec!["web".into(), "score".into(), "extra".into()],
                data.ids().to_vec(),
                rows,
            )
            .unwrap();
            CovariateData::new(
                TimeUnit::WEEKS,
                data.ids()
                    .iter()
                    .cloned()
                    .zip(data.histories().iter().copied()),
                &design,
            )
            .unwrap()
        };
        let constant = widen(&|_| 3.0);
        let collinear = widen(&|r| 2.0 * r[1] - r[0] + 1.0);
        for bad in [&constant, &collinear] {
            let err = params.fit(bad).unwrap_err();
            assert!(
                matches!(err, FitError::Covariates { .. }),
                "{family}: {err}"
            );
            assert!(err.to_string().contains("extra"), "{family}: {err}");
        }
        // An extreme heavy buyer among ordinary customers: a fit or a typed error.
        let mut histories = data.histories().to_vec();
        histories[0] = History::new(5_000, 77.9, 78.0);
        let heavy = CovariateData::new(
            TimeUnit::WEEKS,
            data.ids().iter().cloned().zip(histories),
            data.design(),
        )
        .unwrap();
        match params.fit(&heavy) {
            Ok(m) => {
                assert!(m.report().unwrap().log_likelihood.is_finite());
                if let Ok(p) = m.predict(&heavy, 10.0, 0.01) {
                    assert!(
                        p.p_alive.iter().all(|v| (0.0..=1.0).contains(v)),
                        "{family}"
                    );
                    assert!(
                        p.expected_purchases
                            .iter()
                            .all(|v| v.is_finite() && *v >= 0.0),
                        "{family}"
                    );
                }
                eprintln!("{family} heavy buyer: {:?}", m.parameter_values());
            }
            Err(e) => eprintln!("{family} heavy buyer: {e}"),
        }
    }
}

/// (family, [web, score], (x, t_x, T), ln L, P(alive), E[Y(26)]) at the base parameters of
/// [`base`] and the coefficients (0.5, −0.3, −0.4, 0.3): produced by
/// `python3 scripts/covariate_golden.py` (mpmath at 30 digits, each customer's parameters and
/// the papers' closed forms computed independently of the crate; its output is kept in
/// scripts/covariate_golden.txt).
#[allow(clippy::type_complexity, clippy::excessive_precision)]
const GOLDEN: [(&str, [f64; 2], (u32, f64, f64), f64, f64, f64); 12] = [
    (
        "pareto-nbd",
        [1.0, 0.8],
        (4, 30.5, 52.0),
        -15.727217391910167477,
        0.46810438973498795324,
        0.85338272163449555138,
    ),
    (
        "pareto-nbd",
        [0.0, -1.2],
        (0, 0.0, 40.0),
        -0.81421303633641549496,
        0.2761048704662421969,
        0.08244178051994562487,
    ),
    (
        "pareto-nbd",
        [1.0, -0.5],
        (12, 70.0, 78.0),
        -37.082102807510515666,
        0.8890123060645965381,
        3.2590871783446191905,
    ),
    (
        "pareto-nbd",
        [0.0, 2.0],
        (1, 5.25, 60.0),
        -4.9885091236429169832,
        0.087765166094775361162,
        0.043442644126916561967,
    ),
    (
        "bg-nbd",
        [1.0, 0.8],
        (4, 30.5, 52.0),
        -15.391643218317448189,
        0.50732135334798785929,
        0.94621419091798839912,
    ),
    (
        "bg-nbd",
        [0.0, -1.2],
        (0, 0.0, 40.0),
        -1.260035057778553282,
        1.0,
        0.31410720991582977851,
    ),
    (
        "bg-nbd",
        [1.0, -0.5],
        (12, 70.0, 78.0),
        -36.973752836651240629,
        0.89447260338320973346,
        3.3696246290678683819,
    ),
    (
        "bg-nbd",
        [0.0, 2.0],
        (1, 5.25, 60.0),
        -4.845398722884293821,
        0.30012613952142655996,
        0.15474923450390967632,
    ),
    (
        "mbg-nbd",
        [1.0, 0.8],
        (4, 30.5, 52.0),
        -15.568278924188390894,
        0.5516563211317136151,
        1.0408191365672585582,
    ),
    (
        "mbg-nbd",
        [0.0, -1.2],
        (0, 0.0, 40.0),
        -0.82019236420256036834,
        0.50323260946744601046,
        0.1620270774517881302,
    ),
    (
        "mbg-nbd",
        [1.0, -0.5],
        (12, 70.0, 78.0),
        -37.011235843033134661,
        0.90155009060824201865,
        3.4081982437178671134,
    ),
    (
        "mbg-nbd",
        [0.0, 2.0],
        (1, 5.25, 60.0),
        -5.1867413620447873971,
        0.34338713528210928473,
        0.17875323173752370316,
    ),
];

#[test]
fn individual_predictions_match_mpmath() {
    let mut worst: f64 = 0.0;
    for (name, row, (x, t_x, age), ll, p_alive, expected) in GOLDEN {
        let family = CovariateFamily::from_name(name).unwrap();
        let model = truth(family);
        assert_eq!(model.columns(), ["web", "score"]);
        let customer = model.individual(&row).unwrap();
        let h = History::new(x, t_x, age);
        for (what, got, want) in [
            ("ln L", customer.log_likelihood(&h).unwrap(), ll),
            ("P(alive)", customer.p_alive(&h, 0.0).unwrap(), p_alive),
            (
                "E[Y(26)]",
                customer.expected_purchases(&h, 26.0).unwrap(),
                expected,
            ),
        ] {
            let rel = (got - want).abs() / want.abs();
            worst = worst.max(rel);
            assert!(
                rel <= 1e-9,
                "{name} {row:?} {what}: {got} vs {want} ({rel:e})"
            );
        }
    }
    eprintln!("largest relative difference from mpmath: {worst:e}");
}

#[test]
fn ggompertz_nbd_recovers_its_parameters_and_matches_the_plain_model_at_zero() {
    use customer_assets::models::ggompertz_nbd::{GGompertzNbd, GGompertzNbdParameters};
    let family = CovariateFamily::GGompertzNbd;
    let truth = truth(family);
    let data = simulated(&truth, 4_000, 1);
    let model = CovariateParams::new(family).fit(&data).unwrap();
    let se = model.standard_errors().unwrap();
    let want = true_values(&model, &truth);
    for (((name, got), se), want) in model
        .parameter_names()
        .iter()
        .zip(model.parameter_values())
        .zip(se)
        .zip(want)
    {
        let z = (got - want) / se;
        eprintln!("ggom-nbd {name}: {got:.4} ± {se:.4} (truth {want}, z {z:.2})");
        assert!(z.abs() < 3.0, "ggom-nbd {name}: {got} ± {se} vs {want}");
    }
    // At zero coefficients, the plain model.
    let b = base(family);
    let zero = truth
        .with_parameters(&[b.clone(), vec![0.0; 4]].concat())
        .unwrap();
    let plain = GGompertzNbd::new(
        GGompertzNbdParameters {
            r: b[0],
            alpha: b[1],
            b: b[2],
            s: b[3],
            beta: b[4],
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    let small = simulated(&truth, 200, 7);
    let expected: f64 = small
        .histories()
        .iter()
        .map(|h| plain.log_likelihood(h).unwrap())
        .sum();
    let got = zero.total_log_likelihood(&small).unwrap();
    assert!(close(got, expected, 1e-8), "{got} vs {expected}");
    let with = zero.predict(&small, 26.0, 0.01).unwrap();
    let without = plain.predict_batch(small.histories(), 26.0, 0.01).unwrap();
    for i in 0..small.len() {
        assert!(close(with.p_alive[i], without.p_alive[i], 1e-8), "{i}");
        assert!(close(with.dert[i], without.dert[i], 1e-8), "{i}");
    }
    // The dropout coefficients move β: a customer with web = 1 has β·exp(0.4).
    let at = |row: &[f64]| model.individual_parameters(row).unwrap();
    let (off, on) = (at(&[0.0, 0.0]), at(&[1.0, 0.0]));
    let web = model
        .coefficients()
        .iter()
        .find(|c| c.name() == "dropout.web")
        .unwrap()
        .value;
    assert!(close(on[4] / off[4], (-web).exp(), 1e-12));
    assert_eq!(on[2], off[2], "the ageing rate b is common");
    // Against the model without covariates: 4 degrees of freedom, and the effects are real.
    let patterns = customer_assets::Patterns::new(
        TimeUnit::WEEKS,
        data.histories()
            .iter()
            .map(|h| (h.frequency, h.recency, h.age, 1.0)),
    )
    .unwrap();
    if let Ok(plain_fit) =
        customer_assets::models::ggompertz_nbd::GGompertzNbdParams::new().fit(&patterns)
    {
        let lr = model.likelihood_ratio_test(&plain_fit).unwrap();
        assert_eq!(lr.degrees_of_freedom, 4);
        assert!(lr.p_value < 1e-3, "{lr:?}");
    }
}
