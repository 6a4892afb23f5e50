//! Hostile and degenerate input to every model's predictions (issue 15): parameters log-uniform
//! in 1e-6..1e6, histories with x up to 1e6 and T up to 1e4, wide horizons and discount rates.
//! Every call must return (no panic, no hang); every `Ok` must be finite and in range; batch
//! predictions must equal the per-customer ones whatever else is in the batch.
//!
//! Case counts keep the whole file near a minute on one core in the test profile; set
//! `PROPTEST_CASES` for a longer sweep (see [`crate::proptest_config`]).

use customer_assets::models::bdw::{Bdw, BdwParameters};
use customer_assets::models::bg_bb::{BgBb, BgBbParameters};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParameters};
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters};
use customer_assets::models::sbg::{Sbg, SbgParameters};
use customer_assets::{History, RetentionModel, SpendModel, TimeUnit, TransactionModel};
use proptest::prelude::*;

/// Relative slack for comparisons between two computations of the same quantity (monotonicity,
/// batch against single): rounding, not a tolerance for wrong answers.
const SLACK: f64 = 1e-9;

/// 10^e for e uniform in [lo, hi]: log-uniform over the decades.
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo..=hi).prop_map(|e: f64| 10f64.powf(e))
}

fn parameter() -> impl Strategy<Value = f64> {
    log_uniform(-6.0, 6.0)
}

/// A continuous-time history: x (often 0, else log-uniform up to 1e6), T up to 1e4 (sometimes
/// 0), t_x a fraction of T (0 when x = 0).
fn history() -> impl Strategy<Value = History> {
    let x = prop_oneof![
        1 => Just(0u32),
        1 => 1u32..20,
        2 => log_uniform(0.0, 6.0).prop_map(|v| v as u32),
    ];
    let age = prop_oneof![1 => Just(0.0), 6 => log_uniform(-4.0, 4.0)];
    let share = prop_oneof![1 => Just(1.0), 1 => Just(0.0), 4 => 0.0f64..=1.0];
    (x, age, share).prop_map(|(x, age, share)| {
        let recency = if x == 0 { 0.0 } else { age * share };
        History::new(x, recency, age)
    })
}

/// A discrete-time history for BG/BB: n opportunities up to 1e4, 1 <= x <= t_x <= n or
/// x = t_x = 0.
fn discrete_history() -> impl Strategy<Value = History> {
    (log_uniform(0.0, 4.0), 0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(n, a, b)| {
        let n = n.floor();
        let t_x = (n * a).floor();
        let x = (t_x * b).floor();
        if x == 0.0 {
            History::new(0, 0.0, n)
        } else {
            History::new(x as u32, t_x, n)
        }
    })
}

fn horizon() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 6 => log_uniform(-4.0, 4.0)]
}

fn rate() -> impl Strategy<Value = f64> {
    log_uniform(-6.0, 2.0)
}

/// `Ok(v)` must be finite and within [lo, hi].
fn in_range(what: &str, r: &Result<f64, customer_assets::PredictError>, lo: f64, hi: f64) {
    if let Ok(v) = r {
        assert!(
            v.is_finite() && *v >= lo && *v <= hi,
            "{what} = {v:e} outside [{lo}, {hi}]"
        );
    }
}

/// Relative slack of the monotonicity checks: two horizons may take different paths (closed
/// form, quadrature), and the BG/NBD family accepts a closed form estimated good to 1e-8.
const MONOTONE_SLACK: f64 = 1e-8;

/// `later` >= `earlier` up to [`MONOTONE_SLACK`], when both are `Ok`.
fn not_below(
    what: &str,
    earlier: &Result<f64, customer_assets::PredictError>,
    later: &Result<f64, customer_assets::PredictError>,
) {
    if let (Ok(a), Ok(b)) = (earlier, later) {
        assert!(
            *b >= *a - MONOTONE_SLACK * a.abs() - 1e-300,
            "{what}: {b:e} after {a:e}"
        );
    }
}

/// Batch results equal the per-customer ones: every customer `Ok` alone gives the batch's value
/// (within the two paths' accuracy), and a batch holding a customer that fails alone fails.
fn batch_matches<F, B>(what: &str, histories: &[History], single: F, batch: B)
where
    F: Fn(&History) -> Result<f64, customer_assets::PredictError>,
    B: Fn(&[History]) -> Result<Vec<f64>, customer_assets::PredictError>,
{
    let singles: Vec<_> = histories.iter().map(&single).collect();
    let together = batch(histories);
    match singles.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(want) => {
            let got = together.unwrap_or_else(|e| {
                panic!("{what}: batch failed ({e}) where every customer alone succeeds")
            });
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                // The batch's series and the single call's closed form or quadrature are two
                // paths, each good to 1e-8 (the closed form's accepted error bound); companions
                // never change a customer's batch value at all (checked bit for bit elsewhere).
                assert!(
                    (g - w).abs() <= MONOTONE_SLACK * w.abs().max(1e-300),
                    "{what}: customer {i} {:?}: batch {g:e}, alone {w:e}",
                    histories[i]
                );
            }
        }
        Err(_) => assert!(
            together.is_err(),
            "{what}: a customer fails alone but not in the batch"
        ),
    }
    // Each customer's batch value does not depend on its companions.
    if let Ok(all) = batch(histories) {
        for (i, h) in histories.iter().enumerate() {
            let alone = batch(std::slice::from_ref(h))
                .unwrap_or_else(|e| panic!("{what}: one-customer batch failed: {e}"));
            assert_eq!(
                alone[0].to_bits(),
                all[i].to_bits(),
                "{what}: customer {i} {h:?}: {:e} alone, {:e} in the batch",
                alone[0],
                all[i]
            );
        }
    }
}

/// Every prediction of a transaction model for one customer, and the batch property with
/// `companions`.
fn check_transaction_model(
    model: &dyn TransactionModel,
    h: &History,
    companions: &[History],
    t: f64,
    n: u32,
    rate: f64,
    is_probability_ll: bool,
) {
    let ll = model.log_likelihood(h);
    in_range(
        "log-likelihood",
        &ll,
        f64::MIN,
        if is_probability_ll { 0.0 } else { f64::MAX },
    );
    let alive_now = model.p_alive(h, 0.0);
    let alive_t = model.p_alive(h, t);
    in_range("p_alive now", &alive_now, 0.0, 1.0);
    in_range("p_alive ahead", &alive_t, 0.0, 1.0);
    not_below("p_alive falls ahead", &alive_t, &alive_now);
    let e1 = model.expected_purchases(h, t);
    let e2 = model.expected_purchases(h, 2.0 * t);
    in_range("expected purchases", &e1, 0.0, f64::MAX);
    in_range("expected purchases 2t", &e2, 0.0, f64::MAX);
    not_below("expected purchases grow with t", &e1, &e2);
    in_range(
        "purchase probability",
        &model.purchase_probability(h, n, t),
        0.0,
        1.0,
    );
    in_range("dert", &model.dert(h, rate), 0.0, f64::MAX);
    let new1 = model.expected_purchases_new(t);
    let new2 = model.expected_purchases_new(2.0 * t);
    in_range("expected purchases new", &new1, 0.0, f64::MAX);
    not_below("new-customer expected purchases grow with t", &new1, &new2);
    in_range(
        "purchase probability new",
        &model.purchase_probability_new(n, t),
        0.0,
        1.0,
    );

    let mut batch = vec![*h];
    batch.extend_from_slice(companions);
    batch_matches(
        "p_alive_batch",
        &batch,
        |h| model.p_alive(h, 0.0),
        |hs| model.p_alive_batch(hs),
    );
    batch_matches(
        "expected_purchases_batch",
        &batch,
        |h| model.expected_purchases(h, t),
        |hs| model.expected_purchases_batch(hs, t),
    );
    batch_matches(
        "dert_batch",
        &batch,
        |h| model.dert(h, rate),
        |hs| model.dert_batch(hs, rate),
    );
}

/// Every prediction of a retention model.
fn check_retention_model(model: &dyn RetentionModel, t: u32, d: f64, n: u32, periods: u32) {
    let mut previous = 1.0;
    let mut ts = vec![
        0,
        1,
        2,
        3,
        t / 2,
        t,
        t.saturating_add(1),
        t.saturating_mul(2),
        u32::MAX,
    ];
    ts.sort_unstable();
    for &s in &ts {
        let v = model.survival(s);
        assert!((0.0..=1.0).contains(&v), "survival({s}) = {v:e}");
        assert!(
            v <= previous * (1.0 + SLACK),
            "survival rises at {s}: {v:e} after {previous:e}"
        );
        previous = v;
        let churn = model.churn_probability(s);
        assert!(
            (0.0..=1.0).contains(&churn),
            "churn_probability({s}) = {churn:e}"
        );
        let retention = model.retention_rate(s);
        assert!(
            (0.0..=1.0).contains(&retention),
            "retention_rate({s}) = {retention:e}"
        );
    }
    if let Ok(projection) = model.projected_survivors(1000.0, periods) {
        for w in projection.windows(2) {
            assert!(
                w[1] <= w[0] * (1.0 + SLACK),
                "projected survivors rise: {:e} then {:e}",
                w[0],
                w[1]
            );
        }
    }
    let lifetime = model.expected_lifetime();
    in_range("expected lifetime", &lifetime, 1.0 - SLACK, f64::MAX);
    let derl = model.derl(d, n);
    in_range("derl", &derl, 0.0, f64::MAX);
    let del = model.del(d);
    in_range("del", &del, 1.0 - SLACK, f64::MAX);
    in_range("clv", &model.clv(1.0, d, n), 0.0, f64::MAX);
    if let (Ok(near), Ok(far)) = (model.derl(d, n), model.derl(2.0 * d, n)) {
        assert!(
            far <= near * (1.0 + SLACK),
            "derl rises with the rate: {near:e} then {far:e}"
        );
    }
}

fn companions() -> impl Strategy<Value = Vec<History>> {
    prop::collection::vec(history(), 0..4)
}

/// Cases per transaction-model property: each case makes about thirty predictions, some by
/// quadrature.
const TRANSACTION_CASES: u32 = 96;
/// Cases per retention- and spend-model property (cheaper cases).
const CHEAP_CASES: u32 = 256;

proptest! {
    #![proptest_config(crate::proptest_config(TRANSACTION_CASES))]

    #[test]
    fn bg_nbd_predictions_are_finite_in_range_and_batch_independent(
        r in parameter(), alpha in parameter(), a in parameter(), b in parameter(),
        h in history(), companions in companions(), t in horizon(), n in 0u32..50, rate in rate(),
    ) {
        let model = BgNbd::new(BgNbdParameters { r, alpha, a, b }, TimeUnit::WEEKS).unwrap();
        check_transaction_model(&model, &h, &companions, t, n, rate, false);
    }

    #[test]
    fn mbg_nbd_predictions_are_finite_in_range_and_batch_independent(
        r in parameter(), alpha in parameter(), a in parameter(), b in parameter(),
        h in history(), companions in companions(), t in horizon(), n in 0u32..50, rate in rate(),
    ) {
        let model = MbgNbd::new(MbgNbdParameters { r, alpha, a, b }, TimeUnit::WEEKS).unwrap();
        check_transaction_model(&model, &h, &companions, t, n, rate, false);
    }

    #[test]
    fn pareto_nbd_predictions_are_finite_in_range_and_batch_independent(
        r in parameter(), alpha in parameter(), s in parameter(), beta in parameter(),
        h in history(), companions in companions(), t in horizon(), n in 0u32..50, rate in rate(),
    ) {
        let model = ParetoNbd::new(ParetoNbdParameters { r, alpha, s, beta }, TimeUnit::WEEKS).unwrap();
        check_transaction_model(&model, &h, &companions, t, n, rate, false);
    }

    #[test]
    fn bg_bb_predictions_are_finite_in_range_and_batch_independent(
        alpha in parameter(), beta in parameter(), gamma in parameter(), delta in parameter(),
        h in discrete_history(), companions in prop::collection::vec(discrete_history(), 0..4),
        t in prop_oneof![Just(0.0), log_uniform(0.0, 4.0)], n in 0u32..50, rate in rate(),
    ) {
        let model = BgBb::new(BgBbParameters { alpha, beta, gamma, delta }, TimeUnit::WEEKS).unwrap();
        check_transaction_model(&model, &h, &companions, t.floor(), n, rate, true);
    }
}

proptest! {
    #![proptest_config(crate::proptest_config(CHEAP_CASES))]

    #[test]
    fn sbg_predictions_are_finite_and_in_range(
        alpha in parameter(), beta in parameter(), t in any::<u32>(),
        d in log_uniform(-3.0, 2.0), n in 1u32..1000, periods in 0u32..500,
    ) {
        if let Ok(model) = Sbg::new(SbgParameters { alpha, beta }) {
            check_retention_model(&model, t, d, n, periods);
        }
    }

    #[test]
    fn bdw_predictions_are_finite_and_in_range(
        alpha in parameter(), beta in parameter(), c in log_uniform(-3.0, 1.5), t in any::<u32>(),
        d in log_uniform(-3.0, 2.0), n in 1u32..1000, periods in 0u32..500,
    ) {
        if let Ok(model) = Bdw::new(BdwParameters { alpha, beta, c }) {
            check_retention_model(&model, t, d, n, periods);
        }
    }

    #[test]
    fn gamma_gamma_predictions_are_finite_and_positive(
        p in parameter(), q in parameter(), gamma in parameter(),
        x in prop_oneof![Just(0u32), log_uniform(0.0, 6.0).prop_map(|v| v as u32)],
        spend in prop_oneof![Just(0.0), log_uniform(-6.0, 9.0)],
    ) {
        if let Ok(model) = GammaGamma::new(GammaGammaParameters { p, q, gamma }) {
            in_range("expected spend", &model.expected_spend(x, spend), 0.0, f64::MAX);
            in_range("expected spend new", &model.expected_spend_new(), 0.0, f64::MAX);
            if let Ok(ll) = model.log_likelihood(x, spend) {
                prop_assert!(ll.is_finite());
            }
        }
    }
}

/// The reported findings, one test each (reproduced before the fixes).
mod reported {
    use super::*;

    fn assert_batch_independent(
        model: &dyn TransactionModel,
        alone: History,
        other: History,
        t: f64,
    ) {
        let single = model.expected_purchases(&alone, t).unwrap();
        let one = model.expected_purchases_batch(&[alone], t).unwrap()[0];
        let two = model.expected_purchases_batch(&[alone, other], t).unwrap()[0];
        assert!(
            (one - single).abs() <= SLACK * single,
            "{one:e} vs {single:e}"
        );
        assert_eq!(
            one.to_bits(),
            two.to_bits(),
            "{one:e} alone, {two:e} with a companion"
        );
    }

    #[test]
    fn mbg_nbd_batch_does_not_depend_on_the_companions() {
        let model = MbgNbd::new(
            MbgNbdParameters {
                r: 0.0995,
                alpha: 0.0659,
                a: 64537.8,
                b: 0.0950,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        assert_batch_independent(
            &model,
            History::new(0, 0.0, 1691.35),
            History::new(3, 0.8314, 0.9485),
            9.19e-4,
        );
    }

    #[test]
    fn bg_nbd_batch_does_not_depend_on_the_companions() {
        let model = BgNbd::new(
            BgNbdParameters {
                r: 49.6,
                alpha: 0.0354,
                a: 1382.9,
                b: 0.0268,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        for t in [1e-3, 1.0, 100.0] {
            assert_batch_independent(
                &model,
                History::new(2, 5133.5, 10_000.0),
                History::new(0, 0.0, 0.01),
                t,
            );
        }
    }

    #[test]
    fn bg_nbd_expected_purchases_grow_with_the_horizon_for_a_huge_r() {
        let model = BgNbd::new(
            BgNbdParameters {
                r: 652_370.0,
                alpha: 9.2e-5,
                a: 1.42,
                b: 73_038.0,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        let h = History::new(0, 0.0, 1e4);
        let mut last = 0.0;
        for t in [1.0, 100.0, 4110.0, 8220.0, 1e5] {
            if let Ok(v) = model.expected_purchases(&h, t) {
                assert!(
                    v.is_finite() && v >= last,
                    "E[X({t})] = {v:e} after {last:e}"
                );
                last = v;
            }
        }
    }

    #[test]
    fn bdw_survival_is_a_probability_that_falls() {
        for (alpha, beta, c) in [
            (1e-6, 1e6, 30.0),
            (1e6, 1e-6, 0.001),
            (0.5, 1e6, 5.0),
            (2.0, 1e12, 1.0),
            (1e3, 1e5, 31.0),
        ] {
            let model = Bdw::new(BdwParameters { alpha, beta, c }).unwrap();
            let mut previous = 1.0;
            for t in [0, 1, 2, 10, 1000, 100_000, 1_000_000, u32::MAX] {
                let s = model.survival(t);
                assert!(
                    (0.0..=1.0).contains(&s) && s <= previous * (1.0 + SLACK),
                    "{alpha} {beta} {c}: S({t}) = {s:e} after {previous:e}"
                );
                previous = s;
                let churn = model.churn_probability(t);
                assert!((0.0..=1.0).contains(&churn), "churn({t}) = {churn:e}");
            }
            in_range("derl", &model.derl(0.1, 1), 0.0, f64::MAX);
        }
    }

    #[test]
    fn bdw_projection_over_the_longest_horizon_never_rises() {
        let model = Bdw::new(BdwParameters {
            alpha: 0.7,
            beta: 3e5,
            c: 2.5,
        })
        .unwrap();
        // The reported million periods is now past the documented limit: a typed error.
        assert!(model.projected_survivors(1e6, 1_000_000).is_err());
        let longest = customer_assets::models::contractual::MAX_PROJECTION_PERIODS;
        let projection = model.projected_survivors(1e6, longest).unwrap();
        for (t, w) in projection.windows(2).enumerate() {
            assert!(
                w[1] <= w[0] * (1.0 + SLACK),
                "period {t}: {:e} then {:e}",
                w[0],
                w[1]
            );
        }
    }

    #[test]
    fn bg_bb_purchase_probability_over_billions_of_periods_is_bounded() {
        let model = BgBb::new(
            BgBbParameters {
                alpha: 1.2,
                beta: 0.75,
                gamma: 0.66,
                delta: 2.78,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        let start = std::time::Instant::now();
        let r = model.purchase_probability(&History::new(3, 5.0, 6.0), 2, 2e9);
        assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
        in_range("purchase probability", &r, 0.0, 1.0);
        let e = model.expected_purchases(&History::new(3, 5.0, 6.0), 4e9);
        in_range("expected purchases", &e, 0.0, f64::MAX);
    }

    #[test]
    fn pareto_nbd_heavy_buyers_and_huge_s_are_bounded() {
        for (params, x) in [
            (
                ParetoNbdParameters {
                    r: 0.553,
                    alpha: 10.578,
                    s: 1e300,
                    beta: 11.669,
                },
                2,
            ),
            (
                ParetoNbdParameters {
                    r: 0.553,
                    alpha: 10.578,
                    s: 0.606,
                    beta: 11.669,
                },
                10_000_000,
            ),
            (
                ParetoNbdParameters {
                    r: 0.553,
                    alpha: 10.578,
                    s: 0.606,
                    beta: 11.669,
                },
                100_000,
            ),
            (
                ParetoNbdParameters {
                    r: 0.553,
                    alpha: 10.578,
                    s: 0.606,
                    beta: 11.669,
                },
                u32::MAX,
            ),
        ] {
            let model = ParetoNbd::new(params, TimeUnit::WEEKS).unwrap();
            let h = History::new(x, 30.0, 38.0);
            let start = std::time::Instant::now();
            in_range("dert", &model.dert(&h, 0.001), 0.0, f64::MAX);
            in_range("p_alive", &model.p_alive(&h, 0.0), 0.0, 1.0);
            in_range(
                "expected",
                &model.expected_purchases(&h, 10.0),
                0.0,
                f64::MAX,
            );
            assert!(
                start.elapsed().as_secs_f64() < 10.0,
                "x = {x}: {:?}",
                start.elapsed()
            );
        }
    }

    /// b → 0 once reached an unwrapped statrs `ln_beta` in the BG/NBD purchase probability
    /// (a panic); every outcome is now a probability or a typed error.
    #[test]
    fn bg_nbd_purchase_probability_survives_b_near_zero() {
        for b in [1e-6, 1e-100, 1e-300, f64::MIN_POSITIVE, 5e-324] {
            let model = BgNbd::new(
                BgNbdParameters {
                    r: 0.243,
                    alpha: 4.414,
                    a: 0.793,
                    b,
                },
                TimeUnit::WEEKS,
            )
            .unwrap();
            let mbg = MbgNbd::new(
                MbgNbdParameters {
                    r: 0.243,
                    alpha: 4.414,
                    a: 0.793,
                    b,
                },
                TimeUnit::WEEKS,
            )
            .unwrap();
            for h in [
                History::new(0, 0.0, 0.0),
                History::new(0, 0.0, 38.0),
                History::new(1, 2.0, 38.0),
                History::new(5, 30.0, 38.0),
            ] {
                for n in [0, 1, 2, 10] {
                    in_range(
                        "purchase probability",
                        &model.purchase_probability(&h, n, 39.0),
                        0.0,
                        1.0,
                    );
                    in_range(
                        "purchase probability",
                        &mbg.purchase_probability(&h, n, 39.0),
                        0.0,
                        1.0,
                    );
                }
                in_range(
                    "expected",
                    &model.expected_purchases(&h, 39.0),
                    0.0,
                    f64::MAX,
                );
                in_range("dert", &model.dert(&h, 0.01), 0.0, f64::MAX);
            }
        }
    }
}
