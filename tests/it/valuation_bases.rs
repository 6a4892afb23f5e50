//! The whole valuation on degenerate bases: one customer, identical customers, equal spends, free
//! repeat purchases, an extreme heavy buyer. Each run ends, within a hang guard, in a report whose
//! every number is finite and in range, or in a typed error that says which part failed. Every
//! run asks for bootstrap intervals too (an optional part): they come out ordered and finite, or
//! as a note, never as the report's failure.

use std::sync::mpsc;
use std::time::Duration;

use chrono::{Days, NaiveDate};
use customer_assets::fit::FitError;
use customer_assets::loyalty::{
    DowngradePolicy, Downgrades, EarnRules, Metric, Programme, QualificationWindow, Tier,
    TierLadder,
};
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::mbg_nbd::MbgNbdParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::models::BootstrapOptions;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::valuation::{
    DiscountRate, EquityReport, IntervalOptions, Valuation, ValuationError,
};
use customer_assets::{Ledger, LedgerOptions, TimeUnit, Transaction};
use proptest::prelude::*;
use rust_decimal::Decimal;

const AS_OF: (i32, u32, u32) = (2024, 12, 31);

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(AS_OF.0, AS_OF.1, AS_OF.2).unwrap()
}

/// A ledger of `(customer, days before the as-of date, amount)` purchases.
fn ledger(rows: impl IntoIterator<Item = (u64, u64, Decimal)>) -> Ledger {
    let mut l = Ledger::new(LedgerOptions::default());
    for (customer, days_before, amount) in rows {
        let date = as_of().checked_sub_days(Days::new(days_before)).unwrap();
        l.add_transaction(Transaction::purchase(customer.into(), date, amount).unwrap())
            .unwrap();
    }
    l
}

fn money(units: i64) -> Decimal {
    Decimal::new(units, 0)
}

/// An ordinary base: 300 customers simulated from CDNOW's Pareto/NBD and Gamma-Gamma estimates
/// over 2024, as (customer, days before the as-of date, amount).
fn ordinary() -> Vec<(u64, u64, Decimal)> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let base = simulate(
        &ParetoNbdProcess::new(0.55, 10.6, 0.61, 11.7).unwrap(),
        &SimulationOptions::new(300, start, as_of(), TimeUnit::WEEKS, 7)
            .acquisition_days(90)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).unwrap()),
    )
    .unwrap();
    let ids: Vec<_> = base.customers().iter().map(|c| c.id().clone()).collect();
    base.transactions()
        .iter()
        .map(|t| {
            let customer = ids.iter().position(|id| id == t.customer()).unwrap() as u64;
            let days_before = (as_of() - t.date()).num_days() as u64;
            (customer, days_before, t.amount())
        })
        .collect()
}

/// The named degenerate bases.
fn bases() -> Vec<(&'static str, Ledger)> {
    let identical =
        (0..1000u64).flat_map(|c| [(c, 200, money(20)), (c, 100, money(30)), (c, 10, money(25))]);
    let equal_spends = ordinary().into_iter().map(|(c, d, _)| (c, d, money(20)));
    let free_repeats = ordinary().into_iter().map(|(c, d, a)| {
        if c % 10 == 0 && d < 300 {
            (c, d, Decimal::ZERO)
        } else {
            (c, d, a)
        }
    });
    let heavy = ordinary()
        .into_iter()
        .chain((0..10_000u64).map(|d| (999_999, d, money(3))));
    vec![
        (
            "one customer",
            ledger([(1, 200, money(10)), (1, 100, money(12)), (1, 50, money(9))]),
        ),
        ("one customer, one purchase", ledger([(1, 200, money(10))])),
        (
            "two customers",
            ledger([
                (1, 200, money(10)),
                (1, 100, money(12)),
                (2, 150, money(40)),
            ]),
        ),
        ("1,000 identical customers", ledger(identical)),
        ("equal spends", ledger(equal_spends)),
        ("free repeat purchases", ledger(free_repeats)),
        ("an extreme heavy buyer", ledger(heavy)),
        (
            "nobody repeats",
            ledger((0..100u64).map(|c| (c, c + 1, money(10)))),
        ),
    ]
}

/// Runs a valuation on its own thread: a run that does not end within the guard fails the test
/// instead of hanging it.
fn value(ledger: &Ledger, model: &str) -> Result<EquityReport, ValuationError> {
    let ledger = ledger.clone();
    let name = model.to_string();
    let model = name.clone();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        // A spend ladder on a rolling year: the tiers stage runs on every base too.
        let tier = |name: &str, threshold: i64| Tier::new(name, Decimal::from(threshold));
        let ladder = TierLadder::new(
            Metric::Spend,
            vec![tier("Member", 0), tier("Silver", 100), tier("Gold", 300)],
        )
        .unwrap();
        let programme = Programme::new(
            "club",
            ladder,
            QualificationWindow::Rolling {
                days: 365,
                review_every_months: 3,
            },
            Downgrades {
                policy: DowngradePolicy::OneTier,
                grace_days: 30,
            },
            EarnRules::default(),
        )
        .unwrap();
        let builder = Valuation::builder()
            .ledger(&ledger)
            .as_of(as_of())
            .unit(TimeUnit::WEEKS)
            .fit_spend_model(GammaGammaParams::new())
            .margin(0.3)
            .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
            .horizon(52.0)
            .segmenter("rfm", RfmParams::default())
            .segmenter("abc", AbcParams::default())
            .kpis(90)
            .tiers(&programme)
            .intervals(IntervalOptions::bootstrap(
                0.9,
                BootstrapOptions::new(10, 1).unwrap(),
            ));
        let builder = match model.as_str() {
            "bg-nbd" => builder.fit_transaction_model(BgNbdParams::new()),
            "mbg-nbd" => builder.fit_transaction_model(MbgNbdParams::new()),
            _ => builder.fit_transaction_model(ParetoNbdParams::new()),
        };
        let _ = send.send(builder.build().and_then(|v| v.run()));
    });
    receive
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("the valuation with {name} ran past the 60 s hang guard"))
}

fn check_report(base: &str, model: &str, report: &EquityReport) {
    let at = |what: &str| format!("{base}, {model}: {what}");
    let mut total = Decimal::ZERO;
    for c in &report.customers {
        assert!(
            (0.0..=1.0).contains(&c.p_alive),
            "{}",
            at(&format!("P(alive) {}", c.p_alive))
        );
        for (name, v) in [
            ("expected purchases", c.expected_purchases),
            ("expected spend", c.expected_spend),
            ("DERT", c.dert),
        ] {
            assert!(
                v.is_finite() && v >= 0.0,
                "{}",
                at(&format!("{name} {v} of customer {}", c.id))
            );
        }
        assert!(c.clv >= Decimal::ZERO, "{}", at("negative CLV"));
        total += c.clv;
    }
    assert_eq!(report.equity, total, "{}", at("equity is the sum of CLV"));
    let gini = report.gini.unwrap_or(0.0);
    assert!(
        gini.is_finite() && (0.0..=1.0).contains(&gini),
        "{}",
        at("gini")
    );
    for share in &report.top_shares {
        assert!(
            share.share.is_finite() && (0.0..=1.0).contains(&share.share),
            "{}",
            at("top share")
        );
    }
    match (&report.intervals, &report.interval_note) {
        (Some(i), None) => {
            assert!(
                i.equity.lower <= i.equity.upper,
                "{}",
                at("equity interval")
            );
            assert!(
                i.value_at_risk.lower <= i.value_at_risk.upper,
                "{}",
                at("risk")
            );
            let p = i.expected_purchases;
            assert!(
                p.lower.is_finite() && p.upper.is_finite() && p.lower <= p.upper,
                "{}",
                at("purchases interval")
            );
        }
        (None, Some(note)) => assert!(!note.is_empty() && !note.contains("NaN"), "{}", at(note)),
        other => panic!("{}", at(&format!("intervals and note: {other:?}"))),
    }
}

#[test]
fn every_degenerate_base_ends_in_a_sound_report_or_a_typed_error() {
    let mut outcomes = Vec::new();
    for (base, ledger) in bases() {
        for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
            match value(&ledger, model) {
                Ok(report) => {
                    check_report(base, model, &report);
                    outcomes.push(format!("{base}, {model}: ok, equity {}", report.equity));
                }
                Err(
                    e @ ValuationError::Fit {
                        part: "transaction model",
                        ..
                    },
                ) => {
                    let text = e.to_string();
                    assert!(
                        !text.contains("NaN") && text.len() < 600,
                        "{base}, {model}: {text}"
                    );
                    outcomes.push(format!("{base}, {model}: {text}"));
                }
                Err(e) => panic!("{base}, {model}: not a transaction-model fit error: {e}"),
            }
        }
    }
    // Bases that cannot identify a transaction model say so, rather than "did not converge".
    for base in ["one customer", "two customers", "1,000 identical customers"] {
        for o in outcomes
            .iter()
            .filter(|o| o.starts_with(&format!("{base}, ")))
        {
            assert!(!o.contains("did not converge"), "{o}");
        }
    }
    // Bases with enough data must value: the optional spend model never takes them down.
    for must in [
        "equal spends",
        "free repeat purchases",
        "an extreme heavy buyer",
    ] {
        for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
            let line = format!("{must}, {model}: ok");
            assert!(
                outcomes.iter().any(|o| o.starts_with(&line)),
                "{line} expected in {outcomes:#?}"
            );
        }
    }
}

#[test]
fn free_repeat_purchases_are_valued_at_the_population_mean_and_counted() {
    let (_, ledger) = bases()
        .into_iter()
        .find(|(b, _)| *b == "free repeat purchases")
        .unwrap();
    let report = value(&ledger, "bg-nbd").unwrap();
    // Customers 0, 10, 20, ... whose repeat purchases all fall in the last 200 days (all free).
    assert!(report.customers_at_mean_spend > 0);
    assert!(
        report.models[1].note.is_none(),
        "Gamma-Gamma fits the others"
    );
}

#[test]
fn data_that_cannot_identify_the_model_is_named_in_the_error() {
    let (_, ledger) = bases()
        .into_iter()
        .find(|(b, _)| *b == "nobody repeats")
        .unwrap();
    let e = value(&ledger, "bg-nbd").unwrap_err();
    let ValuationError::Fit { source, .. } = &e else {
        panic!("{e}")
    };
    let fit = source.downcast_ref::<FitError>();
    assert!(fit.is_some(), "a FitError: {e}");
}

/// A random small base: 5 to 40 customers with 1 to 8 purchases each on days before the as-of date,
/// amounts in cents including free orders.
fn random_base() -> impl Strategy<Value = Vec<(u64, u64, Decimal)>> {
    let customer = proptest::collection::vec(
        (
            0u64..400,
            prop_oneof![1 => Just(0i64), 9 => 1i64..1_000_000],
        ),
        1..9,
    );
    proptest::collection::vec(customer, 5..41).prop_map(|customers| {
        let mut rows = Vec::new();
        for (c, purchases) in customers.into_iter().enumerate() {
            for (days_before, cents) in purchases {
                rows.push((c as u64, days_before, Decimal::new(cents, 2)));
            }
        }
        rows
    })
}

proptest! {
    #![proptest_config(crate::proptest_config(24))]

    /// Whatever the base, the valuation ends (within the hang guard) in a sound report or a typed
    /// error naming the part that failed; the optional spend model never is that part.
    #[test]
    fn any_small_base_values_soundly_or_fails_typed(
        rows in random_base(),
        model in prop_oneof![Just("bg-nbd"), Just("mbg-nbd"), Just("pareto-nbd")],
    ) {
        let ledger = ledger(rows);
        match value(&ledger, model) {
            Ok(report) => check_report("random base", model, &report),
            Err(ValuationError::Fit { part, source }) => {
                prop_assert_eq!(part, "transaction model", "{}", source);
                prop_assert!(source.downcast_ref::<FitError>().is_some(), "{}", source);
            }
            Err(e) => prop_assert!(false, "not a transaction-model fit error: {}", e),
        }
    }
}
