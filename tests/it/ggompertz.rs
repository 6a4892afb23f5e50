//! The GGompertz/NBD model on CDNOW, on data simulated from it, at its limits, and on degenerate
//! or extreme inputs.

use crate::btyd::cdnow_patterns;
use customer_assets::fit::{Fit, FitError, Limit};
use customer_assets::models::ggompertz_nbd::{
    GGompertzNbd, GGompertzNbdParameters, GGompertzNbdParams,
};
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Gamma};

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} ± {tol}"
    );
}

/// On CDNOW the GGompertz/NBD likelihood is largest at the no-ageing boundary: b → 0 with β/b
/// fixed, where the model is Pareto/NBD. From every start the fit ends there, with the
/// Pareto/NBD estimates (r, α, s and β/b for Pareto's β; Fader, Hardie & Lee 2005: 0.553,
/// 10.578, 0.606, 11.669) and its log-likelihood (−9594.97), and says so as a boundary error.
#[test]
fn ggompertz_cdnow_fit_ends_at_the_pareto_nbd_limit_from_every_start() {
    let patterns = cdnow_patterns();
    let pareto = ParetoNbdParams::new().fit(&patterns).unwrap();
    let pareto_ll = pareto.report().unwrap().log_likelihood;
    let starts = [
        None,
        Some(GGompertzNbdParameters {
            r: 0.55,
            alpha: 10.0,
            b: 0.01,
            s: 0.5,
            beta: 0.1,
        }),
        Some(GGompertzNbdParameters {
            r: 1.0,
            alpha: 5.0,
            b: 0.2,
            s: 2.0,
            beta: 50.0,
        }),
        Some(GGompertzNbdParameters {
            r: 0.2,
            alpha: 20.0,
            b: 1.0,
            s: 0.3,
            beta: 1.0,
        }),
    ];
    for start in starts {
        let params = match start {
            Some(s) => GGompertzNbdParams::new().start(s),
            None => GGompertzNbdParams::new(),
        };
        let error = params.fit(&patterns).unwrap_err();
        assert_eq!(error.boundary_limit(), Some(Limit::NoAgeing), "{error}");
        assert!(error.to_string().contains("Pareto/NBD"), "{error}");
        let boundary = error.boundary().unwrap();
        let value = |name: &str| {
            boundary
                .estimate
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| *v)
                .unwrap()
        };
        let report = boundary.report.as_ref().unwrap();
        assert!(report.converged, "{report:?}");
        // The same maximum as Pareto/NBD's, to 1e-5 in the log-likelihood.
        close(report.log_likelihood, pareto_ll, 1e-5, "ll");
        close(report.log_likelihood, -9594.97, 0.005, "published ll");
        let p = pareto.parameters();
        close(value("r"), p.r, 2e-4, "r");
        close(value("alpha"), p.alpha, 2e-3, "alpha");
        close(value("s"), p.s, 2e-4, "s");
        close(value("beta/b"), p.beta, 0.02, "beta/b");
        assert!(value("b") * 39.0 < 1e-3, "b = {}", value("b"));
    }
}

/// (x, t_x, T) of `n` customers drawn from the GGompertz/NBD model, ages uniform in [T/2, T].
fn simulate(p: GGompertzNbdParameters, n: usize, age: f64, seed: u64) -> Patterns {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let rate = Gamma::new(p.r, 1.0 / p.alpha).unwrap();
    let frailty = Gamma::new(p.s, 1.0 / p.beta).unwrap();
    let rows: Vec<(u32, f64, f64, f64)> = (0..n)
        .map(|_| {
            let lambda = rate.sample(&mut rng);
            let eta = frailty.sample(&mut rng);
            let t_end = age * (0.5 + 0.5 * rng.random::<f64>());
            // P(τ > t) = exp(−η(e^(bt) − 1)) = U
            let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
            let tau = (-u.ln() / eta).ln_1p() / p.b;
            let end = tau.min(t_end);
            let (mut t, mut x, mut t_x) = (0.0, 0u32, 0.0);
            loop {
                t += -(1.0 - rng.random::<f64>()).ln() / lambda;
                if t > end {
                    break;
                }
                x += 1;
                t_x = t;
            }
            (x, t_x, t_end, 1.0)
        })
        .collect();
    Patterns::new(TimeUnit::WEEKS, rows).unwrap()
}

/// On data drawn from the model with a clearly ageing lifetime, fits from several starts reach
/// the same maximum, near the truth (within 3 standard errors), with a positive definite
/// covariance.
#[test]
fn ggompertz_fits_reach_one_maximum_near_the_truth_on_simulated_data() {
    let truth = GGompertzNbdParameters {
        r: 0.85,
        alpha: 4.45,
        b: 0.12,
        s: 0.75,
        beta: 9.55,
    };
    let patterns = simulate(truth, 4000, 40.0, 7);
    let mut fits = Vec::new();
    for start in [
        None,
        Some(GGompertzNbdParameters {
            r: 0.3,
            alpha: 1.0,
            b: 0.02,
            s: 2.0,
            beta: 1.0,
        }),
        Some(GGompertzNbdParameters {
            r: 2.0,
            alpha: 10.0,
            b: 0.5,
            s: 0.3,
            beta: 50.0,
        }),
    ] {
        let params = match start {
            Some(s) => GGompertzNbdParams::new().start(s),
            None => GGompertzNbdParams::new(),
        };
        fits.push(params.fit(&patterns).unwrap());
    }
    let first = &fits[0];
    let ll = first.report().unwrap().log_likelihood;
    for m in &fits {
        let report = m.report().unwrap();
        assert!(report.converged);
        close(report.log_likelihood, ll, 1e-6, "same maximum");
        for (a, b) in m.named_parameters().iter().zip(first.named_parameters()) {
            close(a.1, b.1, 1e-3 * b.1, &a.0);
        }
    }
    let p = first.parameters();
    let se = first.standard_errors().unwrap();
    for (name, got, want, se) in [
        ("r", p.r, truth.r, se.r),
        ("alpha", p.alpha, truth.alpha, se.alpha),
        ("b", p.b, truth.b, se.b),
        ("s", p.s, truth.s, se.s),
        ("beta", p.beta, truth.beta, se.beta),
    ] {
        assert!(se.is_finite() && se > 0.0, "{name}: se {se}");
        assert!(
            (got - want).abs() < 3.0 * se,
            "{name}: {got} vs truth {want} (se {se})"
        );
    }
    // The fitted log-likelihood is the model's own total at the estimate.
    let total = first.total_log_likelihood(&patterns).unwrap();
    close(total, ll, 1e-6 * ll.abs(), "total ll");
    let covariance = first.covariance().unwrap();
    assert_eq!(covariance.names(), ["r", "alpha", "b", "s", "beta"]);
    assert_eq!(TransactionModel::covariance(first), Some(covariance));
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(first).unwrap();
        assert_eq!(&serde_json::from_str::<GGompertzNbd>(&json).unwrap(), first);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let refused =
            |v: &serde_json::Value| serde_json::from_value::<GGompertzNbd>(v.clone()).is_err();
        let mut negative = value.clone();
        negative["parameters"]["b"] = serde_json::json!(-0.1);
        assert!(refused(&negative));
        let mut renamed = value.clone();
        renamed["covariance"]["names"][2] = serde_json::json!("a");
        assert!(refused(&renamed));
        let mut bare = value;
        bare["covariance"] = serde_json::Value::Null;
        bare["report"] = serde_json::Value::Null;
        let bare: GGompertzNbd = serde_json::from_value(bare).unwrap();
        assert_eq!(
            bare,
            GGompertzNbd::new(first.parameters(), first.unit()).unwrap()
        );
    }
}

#[test]
fn ggompertz_degenerate_bases_are_typed_errors() {
    let fit = |rows: &[(u32, f64, f64, f64)]| {
        GGompertzNbdParams::new()
            .fit(&Patterns::new(TimeUnit::WEEKS, rows.iter().copied()).unwrap())
    };
    // One customer, or identical customers: one distinct history for five parameters.
    assert!(matches!(
        fit(&[(3, 20.0, 30.0, 1.0)]),
        Err(FitError::NotIdentified {
            model: "ggom-nbd",
            ..
        })
    ));
    assert!(matches!(
        fit(&[(3, 20.0, 30.0, 500.0)]),
        Err(FitError::NotIdentified {
            model: "ggom-nbd",
            ..
        })
    ));
    assert!(matches!(
        fit(&[
            (3, 20.0, 30.0, 5.0),
            (1, 2.0, 30.0, 5.0),
            (0, 0.0, 30.0, 5.0),
            (2, 9.0, 30.0, 1.0)
        ]),
        Err(FitError::NotIdentified { .. })
    ));
    // Nobody observed for any time, nobody buying again, nothing at all.
    assert!(matches!(
        fit(&[(0, 0.0, 0.0, 1.0), (0, 0.0, 0.0, 2.0)]),
        Err(FitError::NoData { .. } | FitError::NotIdentified { .. })
    ));
    assert!(matches!(
        fit(&[(0, 0.0, 10.0, 1.0), (0, 0.0, 20.0, 2.0)]),
        Err(FitError::NoData { .. })
    ));
    assert!(matches!(fit(&[]), Err(FitError::NoData { .. })));
}

/// Extreme histories, horizons and parameters give finite values or typed errors, never a panic
/// or a NaN.
#[test]
fn ggompertz_extreme_inputs_never_panic() {
    let parameters = [
        GGompertzNbdParameters {
            r: 0.55,
            alpha: 10.5,
            b: 0.05,
            s: 0.5,
            beta: 1.5,
        },
        GGompertzNbdParameters {
            r: 1e-6,
            alpha: 1e-9,
            b: 1e-9,
            s: 1e-6,
            beta: 1e-9,
        },
        GGompertzNbdParameters {
            r: 1e6,
            alpha: 1e9,
            b: 50.0,
            s: 1e6,
            beta: 1e12,
        },
        GGompertzNbdParameters {
            r: 2.0,
            alpha: 0.01,
            b: 3.0,
            s: 0.01,
            beta: 1e-6,
        },
    ];
    let histories = [
        History::new(0, 0.0, 0.0),
        History::new(0, 0.0, 1e6),
        History::new(1_000_000, 0.5, 1.0),
        History::new(u32::MAX, 1e6, 1e6),
        History::new(5, 1e-12, 1e6),
        History::new(3, 10.0, 10.0),
        History::new(2, 5.0, f64::NAN),
        History::new(2, 50.0, 5.0),
    ];
    for p in parameters {
        let m = GGompertzNbd::new(p, TimeUnit::WEEKS).unwrap();
        for h in &histories {
            for t in [0.0, 1e-9, 39.0, 1e6, f64::INFINITY, -1.0] {
                let ok = |v: Result<f64, _>| {
                    if let Ok(v) = v {
                        assert!(v.is_finite(), "{p:?} {h:?} {t}: {v}");
                    }
                };
                ok(m.p_alive(h, t));
                ok(m.expected_purchases(h, t));
                ok(m.purchase_probability(h, 2, t));
                ok(m.dert(h, t));
            }
            if let Ok(v) = m.log_likelihood(h) {
                assert!(v.is_finite());
            }
        }
    }
    let bad = GGompertzNbd::new(
        GGompertzNbdParameters {
            r: 1.0,
            alpha: 1.0,
            b: f64::NAN,
            s: 1.0,
            beta: 1.0,
        },
        TimeUnit::WEEKS,
    );
    assert_eq!(bad.unwrap_err().name(), "b");
}
