use super::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::fit::Fit;
use crate::models::gamma_gamma::{GammaGamma, GammaGammaParameters, GammaGammaParams};
use crate::models::{History, PredictError, SpendModel, TransactionModel};
use crate::records::CustomerId;
use crate::segment::abc::AbcParams;
use crate::segment::asset_quality::AssetClass;
use crate::segment::rfm::RfmParams;
use crate::segment::{Profile, SegmentError};
use crate::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use crate::summary::SummaryOptions;
use crate::time::TimeUnit;
use crate::{Ledger, LedgerOptions};

/// A transaction model with a closed form for everything: Poisson purchases at rate λ while
/// alive, alive with probability 1/(1 + (T − t_x)/10), exponential dropout at rate μ.
struct Toy {
    unit: TimeUnit,
}

impl TransactionModel for Toy {
    fn name(&self) -> &str {
        "toy"
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn log_likelihood(&self, _: &History) -> Result<f64, PredictError> {
        Ok(-1.0)
    }
    fn p_alive(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        Ok((-0.01 * t).exp() / (1.0 + (h.age - h.recency) / 10.0))
    }
    fn expected_purchases(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        Ok(self.p_alive(h, 0.0)? * 0.1 * (1.0 - (-0.01 * t).exp()) / 0.01)
    }
    fn purchase_probability(&self, _: &History, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        Ok(0.1 * (1.0 - (-0.01 * t).exp()) / 0.01)
    }
    fn purchase_probability_new(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn dert(&self, h: &History, rate: f64) -> Result<f64, PredictError> {
        Ok(self.p_alive(h, 0.0)? * 0.1 / (0.01 + rate))
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        vec![("lambda".into(), 0.1), ("mu".into(), 0.01)]
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ledger() -> Ledger {
    let base = simulate(
        &ParetoNbdProcess::new(0.55, 10.6, 0.61, 11.7).unwrap(),
        &SimulationOptions::new(400, day(2024, 1, 1), day(2024, 12, 31), TimeUnit::WEEKS, 5)
            .acquisition_days(90)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).unwrap()),
    )
    .unwrap();
    let mut l = Ledger::new(LedgerOptions::default());
    l.extend_customers(base.customers().iter().cloned())
        .unwrap();
    l.extend_transactions(base.transactions().iter().cloned())
        .unwrap();
    l
}

/// A Gamma-Gamma spend model at fixed parameters (p 6, q 3, γ 15).
fn flat_spend() -> GammaGamma {
    GammaGamma::new(GammaGammaParameters {
        p: 6.0,
        q: 3.0,
        gamma: 15.0,
    })
    .unwrap()
}

fn valid(l: &Ledger) -> ValuationBuilder<'_> {
    Valuation::builder()
        .ledger(l)
        .as_of(day(2024, 12, 31))
        .unit(TimeUnit::WEEKS)
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .spend_model(
            GammaGamma::new(GammaGammaParameters {
                p: 6.25,
                q: 3.74,
                gamma: 15.44,
            })
            .unwrap(),
        )
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
}

#[test]
fn equity_is_the_sum_of_clv_and_groups_partition_it() {
    let l = ledger();
    let report = valid(&l)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .kpis(90)
        .acquisition(Acquisition {
            customers: 100.0,
            period_days: 91.0,
            periods: 8,
            cost: Decimal::new(20, 0),
        })
        .build()
        .unwrap()
        .run()
        .unwrap();
    let n = report.customers.len();
    assert!(n > 300);
    let total: Decimal = report.customers.iter().map(|c| c.clv).sum();
    assert_eq!(report.equity, total);
    assert!(report.equity > Decimal::ZERO);
    assert_eq!(report.by_segment.len(), 2);
    for s in &report.by_segment {
        let equity: Decimal = s.segments.iter().map(|g| g.equity).sum();
        let customers: usize = s.segments.iter().map(|g| g.customers).sum();
        assert_eq!(equity, report.equity, "{}", s.segmenter);
        assert_eq!(customers, n, "{}", s.segmenter);
    }
    let classes: usize = report.by_asset_class.iter().map(|g| g.customers).sum();
    let class_equity: Decimal = report.by_asset_class.iter().map(|g| g.equity).sum();
    assert_eq!(classes, n);
    assert_eq!(class_equity, report.equity);
    for c in &report.customers {
        let expected = c.dert * c.expected_spend * 0.3;
        assert!((c.clv.to_string().parse::<f64>().unwrap() - expected).abs() <= 0.005 + 1e-9);
        assert!((0.0..=1.0).contains(&c.p_alive));
    }
    assert!(report.value_at_risk.customers > 0);
    assert!(report.kpis.is_some());
    let firm = report.firm.as_ref().unwrap();
    assert_eq!(firm.firm_value, firm.current_equity + firm.future_cohorts);
    // The closed form of the cohorts' value is the plain sum over the 8 periods.
    let d = 1.0 / (1.0 + firm.discount_per_period);
    let per_customer: f64 = firm.new_customer_value.to_string().parse().unwrap();
    let summed: f64 = (1..=8).map(|k| 100.0 * per_customer * d.powi(k)).sum();
    let future: f64 = firm.future_cohorts.to_string().parse().unwrap();
    assert!(
        (future - summed).abs() <= 100.0 * 8.0 * 0.005,
        "{future} vs {summed}"
    );
    assert!(firm.implied_retention > 0.0 && firm.implied_retention < 1.0);
    let text = report.to_string();
    assert!(text.contains("Customer equity as of 2024-12-31"), "{text}");
    assert!(text.contains("By segment: rfm"), "{text}");
}

#[test]
fn fitting_the_spend_model_here_matches_fitting_it_apart() {
    let l = ledger();
    let report = Valuation::builder()
        .ledger(&l)
        .as_of(day(2024, 12, 31))
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .fit_spend_model(GammaGammaParams::new())
        .discount(DiscountRate::continuous(0.002, TimeUnit::WEEKS).unwrap())
        .horizon(26.0)
        .build()
        .unwrap()
        .run()
        .unwrap();
    let spend = &report.models[1];
    assert_eq!(spend.name, "gamma-gamma");
    assert!(spend.fit.as_ref().is_some_and(|r| r.converged));
    let s = l
        .summarize(SummaryOptions::new(day(2024, 12, 31), TimeUnit::WEEKS))
        .unwrap();
    let apart = GammaGammaParams::new()
        .fit(&crate::models::gamma_gamma::SpendData::from_summaries(&s).unwrap())
        .unwrap();
    let p = apart.parameters();
    assert_eq!(spend.parameters[0].1, p.p);
}

#[test]
fn the_builder_rejects_each_invalid_configuration_with_its_own_error() {
    let l = ledger();
    let err = |b: ValuationBuilder<'_>| b.build().err().unwrap();
    assert!(matches!(
        err(Valuation::builder()),
        ValuationError::MissingData
    ));
    assert!(matches!(
        err(Valuation::builder().ledger(&l)),
        ValuationError::MissingAsOf
    ));
    let no_model = Valuation::builder()
        .ledger(&l)
        .as_of(day(2024, 12, 31))
        .spend_model(flat_spend())
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0);
    assert!(matches!(
        err(no_model),
        ValuationError::MissingTransactionModel
    ));
    let no_spend = Valuation::builder()
        .ledger(&l)
        .as_of(day(2024, 12, 31))
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0);
    assert!(matches!(err(no_spend), ValuationError::MissingSpendModel));
    assert!(matches!(
        err(valid(&l).transaction_model(Toy {
            unit: TimeUnit::DAYS
        })),
        ValuationError::UnitMismatch { .. }
    ));
    let summaries = l
        .summarize(SummaryOptions::new(day(2024, 12, 31), TimeUnit::DAYS))
        .unwrap();
    let mismatched = Valuation::builder()
        .summaries(summaries.clone())
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .spend_model(flat_spend())
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0);
    assert!(matches!(
        err(mismatched),
        ValuationError::UnitMismatch { .. }
    ));
    for h in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            err(valid(&l).horizon(h)),
            ValuationError::NonPositiveHorizon(_)
        ));
    }
    for m in [0.0, 1.5, f64::NAN] {
        assert!(matches!(
            err(valid(&l).margin(m)),
            ValuationError::MarginOutOfRange(_)
        ));
    }
    for d in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(matches!(
            DiscountRate::per_period(d, 365.0),
            Err(ValuationError::DiscountRateOutOfRange(_))
        ));
        assert!(matches!(
            DiscountRate::continuous(if d == 1.5 { 11.0 } else { d }, TimeUnit::WEEKS),
            Err(ValuationError::DiscountRateOutOfRange(_))
        ));
    }
    assert!(matches!(
        DiscountRate::per_period(0.1, 0.0),
        Err(ValuationError::InvalidPeriod(_))
    ));
    assert!(matches!(
        err(valid(&l).at_risk_below(1.0)),
        ValuationError::ThresholdOutOfRange(_)
    ));
    let summaries_weeks = l
        .summarize(SummaryOptions::new(day(2024, 12, 31), TimeUnit::WEEKS))
        .unwrap();
    let kpis_without_ledger = Valuation::builder()
        .summaries(summaries_weeks.clone())
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .spend_model(flat_spend())
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .kpis(30);
    assert!(matches!(
        err(kpis_without_ledger),
        ValuationError::NeedsLedger(_)
    ));
    let wrong_date = Valuation::builder()
        .summaries(summaries_weeks)
        .as_of(day(2024, 6, 30))
        .transaction_model(Toy {
            unit: TimeUnit::WEEKS,
        })
        .spend_model(flat_spend())
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0);
    assert!(matches!(
        err(wrong_date),
        ValuationError::AsOfMismatch { .. }
    ));
    let bad_plan = valid(&l).acquisition(Acquisition {
        customers: -1.0,
        period_days: 30.0,
        periods: 1,
        cost: Decimal::ONE,
    });
    assert!(matches!(
        err(bad_plan),
        ValuationError::InvalidAcquisition(_)
    ));
    assert!(valid(&l).horizon(1.0).margin(0.5).build().is_ok());
}

#[test]
fn an_empty_base_is_an_error_not_a_panic() {
    let l = Ledger::new(LedgerOptions::default());
    let run = valid(&l).build().unwrap().run();
    assert!(matches!(run, Err(ValuationError::EmptyBase)));
}

/// Settings of models to fit and of segmenters are checked by `build`, before any work: `run`
/// fails only on data.
#[test]
fn build_checks_fit_settings_and_segmenters() {
    use crate::models::BgNbdParams;
    use crate::segment::asset_quality::Cut;
    let l = ledger();
    let bad_penalty = valid(&l).fit_transaction_model(BgNbdParams::new().penalty(-1.0));
    match bad_penalty.build().err() {
        Some(ValuationError::FitSettings { part, source }) => {
            assert_eq!(part, "transaction model");
            assert!(source.to_string().contains("penalty"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    let bad_spend = valid(&l).fit_spend_model(
        GammaGammaParams::new().fit_options(crate::fit::FitOptions::new().gradient_tolerance(0.0)),
    );
    assert!(matches!(
        bad_spend.build().err(),
        Some(ValuationError::FitSettings {
            part: "spend model",
            ..
        })
    ));
    let bad_abc = valid(&l).segmenter("abc", AbcParams::default().shares(2.0, 0.5));
    match bad_abc.build().err() {
        Some(ValuationError::Segment { segmenter, .. }) => assert_eq!(segmenter, "abc"),
        other => panic!("{other:?}"),
    }
    let bad_cut = valid(&l).asset_quality(
        crate::segment::asset_quality::AssetQualityParams::default().clv_cut(Cut::Quantile(1.5)),
    );
    match bad_cut.build().err() {
        Some(ValuationError::Segment { segmenter, .. }) => assert_eq!(segmenter, "asset quality"),
        other => panic!("{other:?}"),
    }
    // The same settings, valid, build and run.
    let report = valid(&l)
        .fit_spend_model(GammaGammaParams::new())
        .segmenter("abc", AbcParams::default())
        .build()
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(report.models[1].name, "gamma-gamma");
}

/// A ledger of `(customer, day of 2024-01, amount)` purchases.
fn purchases(rows: &[(u64, u32, &str)]) -> Ledger {
    let mut l = Ledger::new(LedgerOptions::default());
    for &(customer, d, amount) in rows {
        l.add_transaction(
            crate::records::Transaction::purchase(
                customer.into(),
                day(2024, 1, d),
                amount.parse().unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
    }
    l
}

/// A valuation of `l` at 2024-01-31 in days with the toy transaction model; the spend model is
/// the caller's.
fn january_in_days(l: &Ledger) -> ValuationBuilder<'_> {
    Valuation::builder()
        .ledger(l)
        .as_of(day(2024, 1, 31))
        .unit(TimeUnit::DAYS)
        .transaction_model(Toy {
            unit: TimeUnit::DAYS,
        })
}

#[test]
fn repeat_buyers_without_a_positive_spend_are_valued_at_the_population_mean() {
    // Customer 3's repeat purchases are free: it cannot enter Gamma-Gamma, so the model is
    // fitted on the others and customer 3 gets the population mean.
    let l = purchases(&[
        (1, 1, "10"),
        (1, 5, "12"),
        (1, 9, "30"),
        (2, 1, "8"),
        (2, 9, "21"),
        (3, 2, "40"),
        (3, 6, "0"),
        (3, 12, "0"),
        (4, 3, "5"),
        (4, 20, "45"),
        (4, 25, "17"),
        (4, 28, "9"),
        (5, 4, "15"),
    ]);
    let report = january_in_days(&l)
        .spend_model(flat_spend())
        .margin(0.5)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(30.0)
        .build()
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(report.customers_at_mean_spend, 1);
    let population_mean = flat_spend().expected_spend_new().unwrap();
    let spend_of = |id: u64| {
        report
            .customers
            .iter()
            .find(|c| c.id == CustomerId::from(id))
            .unwrap()
            .expected_spend
    };
    assert_eq!(spend_of(3), population_mean);
    assert_ne!(spend_of(1), population_mean);
    // Customer 5 has no repeat purchase: the population mean too, but not counted as left out.
    assert_eq!(spend_of(5), population_mean);
}

#[test]
fn a_spend_model_that_cannot_be_fitted_gives_way_to_the_population_mean() {
    // Every repeat transaction is worth 20: Gamma-Gamma cannot tell customers apart.
    let l = purchases(&[
        (1, 1, "20"),
        (1, 5, "20"),
        (1, 9, "20"),
        (2, 1, "20"),
        (2, 9, "20"),
        (3, 2, "20"),
        (3, 6, "20"),
        (4, 3, "20"),
        (4, 20, "20"),
        (4, 25, "20"),
    ]);
    let report = january_in_days(&l)
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.5)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(30.0)
        .build()
        .unwrap()
        .run()
        .unwrap();
    let spend = &report.models[1];
    assert_eq!(spend.name, "population mean spend");
    assert_eq!(spend.parameters, vec![("mean".to_string(), 20.0)]);
    let note = spend.note.as_deref().unwrap();
    assert!(note.contains("gamma-gamma"), "{note}");
    assert!(report.customers.iter().all(|c| c.expected_spend == 20.0));
    assert!(report.equity > Decimal::ZERO);
}

/// Groups recomputed from the customers' rows by their label text, in order of first appearance.
fn groups_of<'c>(
    customers: &'c [CustomerValue],
    label: impl Fn(&'c CustomerValue) -> Option<String>,
) -> Vec<GroupEquity> {
    let mut groups: Vec<GroupEquity> = Vec::new();
    for c in customers {
        let Some(l) = label(c) else { continue };
        match groups.iter_mut().find(|g| g.label == l) {
            Some(g) => {
                g.customers += 1;
                g.equity += c.clv;
            }
            None => groups.push(GroupEquity {
                label: l,
                customers: 1,
                equity: c.clv,
                interval: None,
            }),
        }
    }
    groups
}

#[test]
fn tiers_and_groups_agree_with_the_rows_and_the_loyalty_replay() {
    use crate::loyalty::{
        DowngradePolicy, Downgrades, EarnRules, Evaluator, Metric, Programme, QualificationWindow,
        Tier, TierLadder,
    };
    let l = ledger();
    let tier = |name: &str, threshold: i64| Tier::new(name, Decimal::from(threshold));
    let ladder = TierLadder::new(
        Metric::Spend,
        vec![tier("Member", 0), tier("Silver", 60), tier("Gold", 200)],
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
    let as_of = day(2024, 12, 31);
    let report = valid(&l)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .tiers(&programme)
        .build()
        .unwrap()
        .run()
        .unwrap();
    // Each row's tier is the member's status in a full replay of the base.
    let customers: Vec<_> = l.customers().cloned().collect();
    let replays = Evaluator::new(&programme)
        .evaluate_base(&customers, l.transactions(), &[], &[], as_of)
        .unwrap();
    let mut tiered = 0;
    for c in &report.customers {
        let status = replays
            .iter()
            .map(|r| r.status())
            .find(|s| s.customer == c.id);
        assert_eq!(
            c.tier.as_deref(),
            status.map(|s| &*s.tier),
            "customer {}",
            c.id
        );
        tiered += usize::from(c.tier.is_some());
    }
    assert!(tiered > 300, "{tiered} customers with a tier");
    let tiers: std::collections::HashSet<_> = report.customers.iter().map(|c| &c.tier).collect();
    assert!(tiers.len() >= 3, "{tiers:?}: the test needs several tiers");
    // Every group table is the grouping of the rows by their labels: tiers up the ladder, asset
    // classes in class order, segments by equity, largest first.
    let in_order = |mut groups: Vec<GroupEquity>, order: &[String]| {
        groups.sort_by_key(|g| order.iter().position(|name| *name == g.label));
        groups
    };
    assert_eq!(
        report.by_tier,
        in_order(
            groups_of(&report.customers, |c| c.tier.as_deref().map(str::to_string)),
            &["Member", "Silver", "Gold"].map(String::from)
        )
    );
    assert_eq!(
        report.by_asset_class,
        in_order(
            groups_of(&report.customers, |c| Some(c.asset_class.to_string())),
            &AssetClass::ALL.map(|c| c.to_string())
        )
    );
    assert_eq!(report.by_segment.len(), 2);
    for (k, s) in report.by_segment.iter().enumerate() {
        assert_eq!(s.segmenter, ["rfm", "abc"][k]);
        assert!(s.segments.len() >= 2, "{}", s.segmenter);
        let mut expected = groups_of(&report.customers, |c| {
            let (name, label) = &c.segments[k];
            assert_eq!(&**name, s.segmenter);
            Some(label.to_string())
        });
        expected.sort_by(|a, b| b.equity.cmp(&a.equity).then_with(|| a.label.cmp(&b.label)));
        assert_eq!(s.segments, expected);
    }
}

/// A type-erased segmenter that labels one customer too few.
struct Short;

impl NamedSegmenter for Short {
    fn name(&self) -> &str {
        "short"
    }
    fn labels(&self, profiles: &[Profile]) -> Result<Labels, SegmentError> {
        Labels::from_names(profiles.iter().skip(1).map(|_| "x"))
    }
}

#[test]
fn a_segmenter_that_miscounts_its_labels_is_an_error_not_a_panic() {
    let l = ledger();
    let error = valid(&l)
        .named_segmenter(Box::new(Short))
        .build()
        .unwrap()
        .run()
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ValuationError::Segment { segmenter, source: SegmentError::ShapeMismatch(_) }
                if segmenter == "short"
        ),
        "{error:?}"
    );
}

#[test]
fn errors_come_in_stage_order_whatever_runs_beside() {
    use crate::loyalty::test_support::base_and_top;
    use crate::loyalty::{EarnRules, QualificationWindow};
    use crate::summary::ReturnPolicy;
    // Two refunds of the largest decimal: the loyalty window's sum and the KPIs' net revenue
    // leave the decimal range (returns are ignored by the summaries, so those still work).
    let base = ledger();
    let mut l = Ledger::new(LedgerOptions::default().returns(ReturnPolicy::Ignore));
    l.extend_customers(base.customers().cloned()).unwrap();
    l.extend_transactions(base.transactions().iter().cloned())
        .unwrap();
    let first = base.transactions()[0].clone();
    for _ in 0..2 {
        let refund =
            crate::Transaction::refund(first.customer().clone(), first.date(), Decimal::MAX);
        l.add_transaction(refund.unwrap()).unwrap();
    }
    let programme = base_and_top(QualificationWindow::CalendarYear, EarnRules::default());
    let run = |b: ValuationBuilder<'_>| b.build().unwrap().run().unwrap_err();
    // The tiers replay from the start, beside every stage: a later stage's error still comes
    // first only after every earlier stage's.
    let e = run(valid(&l)
        .named_segmenter(Box::new(Short))
        .tiers(&programme)
        .kpis(90));
    assert!(matches!(e, ValuationError::Segment { .. }), "{e:?}");
    let e = run(valid(&l).tiers(&programme).kpis(90));
    assert!(matches!(e, ValuationError::Loyalty(_)), "{e:?}");
    let e = run(valid(&l).kpis(90));
    assert!(matches!(e, ValuationError::Kpi(_)), "{e:?}");
}

/// A spend model of a huge fixed spend per purchase: each CLV fits a decimal, their sum not.
struct Huge(f64);
impl SpendModel for Huge {
    fn name(&self) -> &str {
        "huge"
    }
    fn expected_spend(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(self.0)
    }
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        Ok(self.0)
    }
}

#[test]
fn sums_past_the_decimal_range_are_an_error_not_a_panic() {
    let l = ledger();
    let run = |spend: f64| {
        valid(&l)
            .spend_model(Huge(spend))
            .segmenter("abc", AbcParams::default())
            .tiers(&crate::loyalty::test_support::base_and_top(
                crate::loyalty::QualificationWindow::CalendarYear,
                crate::loyalty::EarnRules::default(),
            ))
            .at_risk_below(0.99)
            .build()
            .unwrap()
            .run()
    };
    // Every CLV is below the largest decimal (about 7.9e28), 400 of them are not.
    let err = run(1e27).unwrap_err();
    assert!(
        matches!(&err, ValuationError::SumOverflow { what } if what.contains("equity")),
        "{err}"
    );
    // Just below, the same base is valued.
    let report = run(1e22).unwrap();
    assert!(report.equity > Decimal::from(10u64.pow(19)));
}
