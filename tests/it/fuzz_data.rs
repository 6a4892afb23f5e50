//! Hostile and degenerate input on the data path and the non-model features: records, the
//! ledger, the summary accumulator, summaries at the calendar's limits, KPIs, loyalty evaluation
//! and forecasts with huge rule values, segmenters on degenerate bases, simulation and holdout
//! validation. Every property asserts that nothing panics (the test profile keeps overflow
//! checks and debug assertions on) and that every `Ok` value is finite and in range.
//!
//! Case counts (24,832 generated cases over the nine properties, and 820 more that check the
//! generators reach computed results) keep the whole file at a few seconds at the test profile's
//! opt-level 1 on two cores; `PROPTEST_CASES` sets them all for a longer sweep.

use chrono::{NaiveDate, NaiveDateTime};
use customer_assets::kpi::{
    cac_payback_periods, campaign_roi, clv_to_cac, cohort_retention, net_promoter_score,
    purchase_metrics, repeat_purchase_rate, retention, satisfaction, CohortGrain, Concentration,
    KpiReport, Period,
};
use customer_assets::loyalty::{
    points_liability, Bonus, Campaign, Downgrades, EarnRules, Evaluator, ForecastOptions,
    LiabilityOptions, Metric, Programme, QualificationWindow, Redemption, SpendAssumption, Tier,
    TierForecaster, TierLadder, MAX_PURCHASES, MAX_SIMULATIONS,
};
use customer_assets::models::{History, PredictError, SpendModel, TransactionModel};
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::kmeans::KMeansParams;
use customer_assets::segment::lifecycle::LifecycleParams;
use customer_assets::segment::rfm::{Binning, RfmParams};
use customer_assets::segment::Feature;
use customer_assets::simulate::{simulate, BgNbdProcess, ParetoNbdProcess, SimulationOptions};
use customer_assets::validation::{error_metrics, validate, validate_holdout, HoldoutRecord};
use customer_assets::{
    Customer, CustomerId, Feedback, Grain, Ledger, LedgerOptions, Patterns, Profile, ReturnPolicy,
    Segmenter, Summaries, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction,
    TransactionKind,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::proptest_config;

// ---------------------------------------------------------------------------------------------
// Generators

/// chrono's first and last days as day numbers from the common era.
fn day_range() -> (i32, i32) {
    use chrono::Datelike;
    (
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
    )
}

fn date_from(n: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MIN)
}

/// Any date, weighted towards chrono's two ends, the year 9999 and a small ordinary window.
fn any_date() -> impl Strategy<Value = NaiveDate> {
    let (lo, hi) = day_range();
    let ordinary = 729_000..729_400; // 1997
    prop_oneof![
        3 => ordinary.prop_map(date_from),
        1 => (lo..lo + 400).prop_map(date_from),
        1 => (hi - 400..=hi).prop_map(date_from),
        1 => (3_651_000..3_652_059).prop_map(date_from), // 9999
        1 => (lo..=hi).prop_map(date_from),
    ]
}

fn any_moment() -> impl Strategy<Value = NaiveDateTime> {
    (any_date(), 0u32..86_400).prop_map(|(d, s)| {
        d.and_hms_opt(s / 3600, (s / 60) % 60, s % 60)
            .unwrap_or(d.and_time(chrono::NaiveTime::MIN))
    })
}

/// Non-negative amounts from cents to `Decimal::MAX`, at any scale.
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        4 => (0i64..100_000, 0u32..3).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => Just(Decimal::MAX),
        1 => Just(Decimal::ZERO),
        1 => (any::<u32>(), any::<u32>(), any::<u32>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, s)| Decimal::from_parts(lo, mid, hi, false, s)),
    ]
}

fn unit() -> impl Strategy<Value = TimeUnit> {
    prop_oneof![
        Just(TimeUnit::DAYS),
        Just(TimeUnit::WEEKS),
        Just(TimeUnit::custom_days(TimeUnit::MIN_DAYS).unwrap()),
        Just(TimeUnit::custom_days(TimeUnit::MAX_DAYS).unwrap()),
        (TimeUnit::MIN_DAYS..TimeUnit::MAX_DAYS).prop_map(|d| TimeUnit::custom_days(d).unwrap()),
    ]
}

fn transaction() -> impl Strategy<Value = Transaction> {
    let refund = prop::bool::weighted(0.2);
    (0u64..6, any_moment(), amount(), refund).prop_map(|(id, at, amount, refund)| {
        let kind = if refund {
            TransactionKind::Return
        } else {
            TransactionKind::Purchase
        };
        Transaction::new(CustomerId::from(id), at, amount, kind).unwrap()
    })
}

/// A log of a few customers whose dates stay close together (so that summaries are often
/// computed) or scatter over the whole calendar.
fn log() -> impl Strategy<Value = Vec<Transaction>> {
    prop::collection::vec(transaction(), 0..24)
}

fn summary_options() -> impl Strategy<Value = SummaryOptions> {
    (any_date(), unit(), prop::option::of(0u32..4_000)).prop_map(|(as_of, unit, holdout)| {
        let options = SummaryOptions::new(as_of, unit);
        match holdout.and_then(|d| as_of.checked_add_days(chrono::Days::new(u64::from(d) + 1))) {
            Some(end) => options.holdout_end(end),
            None => options,
        }
    })
}

fn accumulate(grain: Grain, returns: ReturnPolicy, log: &[Transaction]) -> SummaryAccumulator {
    let mut acc = SummaryAccumulator::new(grain, returns);
    acc.extend(log);
    acc
}

/// Every summary is finite and consistent, and its patterns are valid fitting data.
fn check_summaries(s: &Summaries) -> Result<(), TestCaseError> {
    for c in s {
        prop_assert!(c.recency().is_finite() && c.age().is_finite(), "{c:?}");
        prop_assert!(0.0 <= c.recency() && c.recency() <= c.age(), "{c:?}");
        prop_assert!(c.first_purchase() <= c.last_purchase(), "{c:?}");
        prop_assert!(c.last_purchase().date() <= s.as_of(), "{c:?}");
        let _ = (c.monetary_value(), c.average_order_value());
        if let Some(h) = c.holdout() {
            let _ = h.monetary_value();
        }
    }
    let rows: Vec<_> = s
        .iter()
        .map(|c| (c.frequency(), c.recency(), c.age(), 1.0))
        .collect();
    prop_assert!(Patterns::new(s.unit(), rows).is_ok());
    #[cfg(feature = "serde")]
    {
        let json = serde_json::to_string(s).unwrap();
        let back: Summaries = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, s);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Test doubles: a Poisson purchaser (any rate) and a flat spend (any amount).

struct Poisson {
    per_unit: f64,
    unit: TimeUnit,
}

impl TransactionModel for Poisson {
    fn name(&self) -> &str {
        "poisson"
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        vec![("per_unit".into(), self.per_unit)]
    }
    fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
        Ok(f64::from(h.frequency) * self.per_unit.ln() - self.per_unit * h.age)
    }
    fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
        Ok(self.per_unit * t)
    }
    fn purchase_probability(&self, _: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let m = self.per_unit * t;
        if m == 0.0 {
            return Ok(if n == 0 { 1.0 } else { 0.0 });
        }
        let n = f64::from(n);
        Ok((n * m.ln() - m - statrs::function::gamma::ln_gamma(n + 1.0)).exp())
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        Ok(self.per_unit * t)
    }
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        self.purchase_probability(&History::new(0, 0.0, 0.0), n, t)
    }
    fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> {
        Ok(self.per_unit / rate)
    }
}

struct FlatSpend(f64);

impl SpendModel for FlatSpend {
    fn name(&self) -> &str {
        "flat"
    }
    fn expected_spend(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(self.0)
    }
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        Ok(self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Records and time units

proptest! {
    #![proptest_config(proptest_config(4096))]

    #[test]
    fn record_constructors_never_panic(
        text in ".{0,12}",
        number in any::<f64>(),
        at in any_moment(),
        mantissa in any::<i64>(),
        scale in 0u32..=28,
        quantity in any::<u32>(),
        score in any::<f64>(),
        bounds in (any::<f64>(), any::<f64>()),
        recommend in any::<u8>(),
    ) {
        if let Ok(id) = CustomerId::new(&text) {
            prop_assert!(!id.to_string().is_empty());
        }
        let amount = Decimal::new(mantissa, scale);
        let made = Transaction::new(CustomerId::from(1u64), at, amount, TransactionKind::Purchase);
        prop_assert_eq!(made.is_ok(), !amount.is_sign_negative() || amount.is_zero());
        if let Ok(t) = made {
            let _ = (t.clone().with_id(&text), t.clone().with_quantity(quantity), t.describe());
            prop_assert!(t.signed_amount() == t.amount());
        }
        if let Ok(d) = Transaction::parse_amount(&text, "row") {
            let _ = d.to_string();
        }
        if let Ok(d) = Transaction::amount_from_f64(number, "row") {
            prop_assert!(number.is_finite(), "{} -> {}", number, d);
        }
        let made = Feedback::new(CustomerId::from(1u64), at.date(), Some((score, bounds.0, bounds.1)), Some(recommend));
        if let Ok(f) = made {
            let s = f.satisfaction().unwrap();
            prop_assert!(s.min < s.max && (s.min..=s.max).contains(&s.score));
            prop_assert!(recommend <= 10);
        }
        let _ = Customer::builder(CustomerId::from(2u64), at.date()).tag(text.clone()).tag(text).build();
    }

    #[test]
    fn time_units_are_refused_or_convert_to_finite_values(days in any::<f64>(), span in -2.0e8f64..2.0e8) {
        match TimeUnit::custom_days(days) {
            Ok(u) => {
                prop_assert!((TimeUnit::MIN_DAYS..=TimeUnit::MAX_DAYS).contains(&days));
                prop_assert!(u.from_days(span).is_finite() && u.to_days(1.0).is_finite());
                prop_assert!(u.from_seconds(span * 86_400.0).is_finite());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ledger, accumulator and summaries

proptest! {
    #![proptest_config(proptest_config(4096))]

    #[test]
    fn ledgers_and_summaries_at_the_calendar_limits_are_finite_or_typed_errors(case in ledger_case()) {
        ledger_summaries(case)?;
    }

    /// Merging accumulators of any split of a log equals one pass over it, at any grain, return
    /// policy, unit and as-of date, errors included.
    #[test]
    fn merged_accumulators_equal_the_sequential_one(
        log in log(),
        cuts in prop::collection::vec(0usize..24, 0..4),
        options in summary_options(),
        timestamp in any::<bool>(),
        ignore_returns in any::<bool>(),
    ) {
        merged_equals_sequential(log, cuts, options, timestamp, ignore_returns)?;
    }
}

type LedgerCase = (
    Vec<Transaction>,
    Option<(NaiveDate, NaiveDate)>,
    Vec<(u64, NaiveDate)>,
    SummaryOptions,
    bool,
    bool,
);

fn ledger_case() -> impl Strategy<Value = LedgerCase> {
    (
        log(),
        prop::option::of((any_date(), any_date())),
        prop::collection::vec((0u64..6, any_date()), 0..4),
        summary_options(),
        any::<bool>(),
        any::<bool>(),
    )
}

/// One ledger case; `Ok(true)` when the summaries were computed (and checked).
fn ledger_summaries(case: LedgerCase) -> Result<bool, TestCaseError> {
    let (log, window, customers, options, timestamp, ignore_returns) = case;
    {
        let mut ledger_options = LedgerOptions::default()
            .grain(if timestamp {
                Grain::Timestamp
            } else {
                Grain::Day
            })
            .returns(if ignore_returns {
                ReturnPolicy::Ignore
            } else {
                ReturnPolicy::NetAgainstPurchase
            });
        if let Some((first, last)) = window {
            match ledger_options.window(first, last) {
                Ok(o) => ledger_options = o,
                Err(_) => prop_assert!(last < first),
            }
        }
        let mut ledger = Ledger::new(ledger_options);
        for (id, acquired) in customers {
            let _ = ledger.add_customer(Customer::new(CustomerId::from(id), acquired));
        }
        for t in log {
            let _ = ledger.add_transaction(t);
        }
        match ledger.summarize(options) {
            Ok(s) => {
                check_summaries(&s)?;
                Ok(!s.is_empty())
            }
            Err(_) => Ok(false),
        }
    }
}

fn merged_equals_sequential(
    log: Vec<Transaction>,
    cuts: Vec<usize>,
    options: SummaryOptions,
    timestamp: bool,
    ignore_returns: bool,
) -> Result<bool, TestCaseError> {
    {
        let grain = if timestamp {
            Grain::Timestamp
        } else {
            Grain::Day
        };
        let returns = if ignore_returns {
            ReturnPolicy::Ignore
        } else {
            ReturnPolicy::NetAgainstPurchase
        };
        let whole = accumulate(grain, returns, &log).finish(&options);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(log.len())).collect();
        cuts.sort_unstable();
        let mut merged = SummaryAccumulator::new(grain, returns);
        let mut from = 0;
        for to in cuts.into_iter().chain([log.len()]) {
            merged
                .merge(accumulate(grain, returns, &log[from..to]))
                .unwrap();
            from = to;
        }
        let merged = merged.finish(&options);
        prop_assert_eq!(&merged, &whole);
        if let Ok(s) = whole {
            check_summaries(&s)?;
            return Ok(!s.is_empty());
        }
        Ok(false)
    }
}

// ---------------------------------------------------------------------------------------------
// KPIs

fn check_rate(v: f64) -> Result<(), TestCaseError> {
    prop_assert!(v.is_finite() && (0.0..=1.0).contains(&v), "{v}");
    Ok(())
}

proptest! {
    #![proptest_config(proptest_config(2048))]

    #[test]
    fn concentration_is_finite_on_any_values(
        values in prop::collection::vec(prop_oneof![
            3 => 0.0f64..1e6,
            1 => Just(f64::MAX),
            1 => Just(f64::MIN_POSITIVE),
            1 => any::<f64>(),
        ], 0..12),
        x in any::<f64>(),
        amounts in prop::collection::vec(amount(), 0..6),
    ) {
        for c in [Concentration::new(&values), Concentration::from_amounts(&amounts)].into_iter().flatten() {
            check_rate(c.gini())?;
            if let Ok(share) = c.top_share(x) {
                check_rate(share)?;
            }
            for (p, share) in c.lorenz_points(7) {
                check_rate(p)?;
                check_rate(share)?;
            }
        }
    }

    #[test]
    fn ledger_kpis_are_finite_or_typed_errors(
        log in log(),
        end in any_date(),
        period_days in prop_oneof![1u32..400, Just(u32::MAX)],
        grain_days in prop_oneof![Just(0u32), 1u32..60, Just(u32::MAX)],
        scores in prop::collection::vec((any::<f64>(), any::<f64>(), any::<f64>(), 0u8..12), 0..5),
        money in (amount(), amount(), amount()),
    ) {
        kpi_case(log, end, period_days, grain_days, scores, money)?;
    }
}

/// One KPI case; `Ok(true)` when the KPI report was computed (and checked).
fn kpi_case(
    log: Vec<Transaction>,
    end: NaiveDate,
    period_days: u32,
    grain_days: u32,
    scores: Vec<(f64, f64, f64, u8)>,
    money: (Decimal, Decimal, Decimal),
) -> Result<bool, TestCaseError> {
    let mut reached = false;
    {
        let mut ledger = Ledger::new(LedgerOptions::default());
        for t in log {
            let _ = ledger.add_transaction(t);
        }
        for (k, &(score, lo, hi, recommend)) in scores.iter().enumerate() {
            let date = ledger.transactions().get(k).map_or(end, Transaction::date);
            if let Ok(f) = Feedback::new(
                CustomerId::from(1u64),
                date,
                Some((score, lo, hi)),
                Some(recommend),
            ) {
                ledger.add_feedback(f).unwrap();
            }
        }
        if let Ok(r) = KpiReport::new(&ledger, end, period_days) {
            reached = true;
            check_rate(r.repeat_purchase_rate)?;
            if let Some(gini) = r.gini {
                check_rate(gini)?;
            }
            for t in &r.top_shares {
                check_rate(t.share)?;
            }
            for row in &r.cohorts.rows {
                for &v in &row.retention {
                    check_rate(v)?;
                }
            }
            if let Some(s) = r.satisfaction {
                check_rate(s.mean_normalized)?;
                prop_assert!(s.mean.is_none_or(f64::is_finite));
            }
            if let Some(n) = r.nps {
                prop_assert!((-100.0..=100.0).contains(&n.score));
            }
        }
        let grain = if grain_days == 0 {
            CohortGrain::Months
        } else {
            CohortGrain::Days(grain_days)
        };
        if let Ok(m) = cohort_retention(&ledger, grain, end) {
            prop_assert!(m.rows.len() <= customer_assets::kpi::MAX_COHORT_PERIODS);
        }
        if let Ok(period) = Period::ending(end, period_days) {
            if let Ok(m) = purchase_metrics(&ledger, period) {
                prop_assert!(m.purchase_frequency.is_finite() && m.purchase_frequency >= 1.0);
            }
            if let Ok(previous) = period.preceding() {
                if let Ok(r) = retention(&ledger, previous, period) {
                    check_rate(r.retention_rate)?;
                    check_rate(r.churn_rate)?;
                }
            }
            if let Ok(s) = satisfaction(ledger.feedback(), period) {
                check_rate(s.mean_normalized)?;
            }
            let _ = net_promoter_score(ledger.feedback(), period);
        }
        if let Ok(s) = ledger.summarize((end, TimeUnit::DAYS)) {
            if let Ok(r) = repeat_purchase_rate(&s) {
                check_rate(r)?;
            }
        }
        let (a, b, c) = money;
        for v in [
            clv_to_cac(a, b),
            cac_payback_periods(a, b),
            campaign_roi(c, a),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(v.is_finite(), "{v}");
        }
    }
    Ok(reached)
}

// ---------------------------------------------------------------------------------------------
// Loyalty

fn huge_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        8 => (0i64..1000, 0u32..3).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => Just(Decimal::MAX),
        1 => (any::<u32>(), any::<u32>(), any::<u32>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, s)| Decimal::from_parts(lo, mid, hi, false, s)),
    ]
}

fn programme() -> impl Strategy<Value = Programme> {
    (
        (0usize..4, huge_decimal(), huge_decimal()),
        (huge_decimal(), huge_decimal(), huge_decimal()),
        prop::collection::vec(
            prop_oneof![2 => Just(0u64), 1 => Just(u64::MAX), 4 => 0u64..1000],
            0..3,
        ),
        (
            0usize..4,
            1u32..800,
            prop_oneof![Just(0u32), 1u32..100, Just(u32::MAX)],
        ),
        (
            any::<bool>(),
            prop::option::of(prop_oneof![1u32..1000, Just(u32::MAX)]),
        ),
    )
        .prop_filter_map(
            "a valid programme",
            |(
                (metric, step, bump),
                (rate, tier_multiplier, campaign),
                bonuses,
                (window, days, grace),
                (one_tier, expiry),
            )| {
                let metric = [
                    Metric::Spend,
                    Metric::PointsEarned,
                    Metric::Orders,
                    Metric::Spend,
                ][metric]
                    .clone();
                let second = step.max(Decimal::ONE);
                let third = second
                    .checked_add(bump.max(Decimal::ONE))
                    .unwrap_or(Decimal::MAX);
                let mut tiers = vec![
                    Tier::new("base", Decimal::ZERO),
                    Tier::new("silver", second),
                ];
                if third > second {
                    tiers.push(Tier::new("gold", third));
                }
                let ladder = TierLadder::new(metric, tiers).ok()?;
                let window = match window {
                    0 => QualificationWindow::Rolling {
                        days,
                        review_every_months: 1,
                    },
                    1 => QualificationWindow::CalendarYear,
                    2 => QualificationWindow::MembershipAnniversary,
                    _ => QualificationWindow::TierAnniversary,
                };
                let downgrades = Downgrades {
                    policy: if one_tier {
                        customer_assets::loyalty::DowngradePolicy::OneTier
                    } else {
                        customer_assets::loyalty::DowngradePolicy::Rebucket
                    },
                    grace_days: grace,
                };
                let points = EarnRules {
                    points_per_unit: rate,
                    tier_multipliers: [("silver".to_string(), tier_multiplier)]
                        .into_iter()
                        .collect(),
                    campaigns: vec![Campaign {
                        name: "c".into(),
                        from: NaiveDate::MIN,
                        until: NaiveDate::MAX,
                        multiplier: campaign,
                    }],
                    bonuses: bonuses
                        .into_iter()
                        .map(|points| Bonus {
                            name: "b".into(),
                            points,
                            min_amount: None,
                            first_purchase_only: false,
                            from: None,
                            until: None,
                        })
                        .collect(),
                    expiry_days: expiry,
                    ..EarnRules::default()
                };
                Programme::new("fuzz", ladder, window, downgrades, points).ok()
            },
        )
}

/// A member's records near one ordinary date: purchases and returns of any size.
fn member_log() -> impl Strategy<Value = Vec<Transaction>> {
    let refund = prop::bool::weighted(0.2);
    prop::collection::vec((0u64..3, 0i64..900, amount(), refund), 0..12).prop_map(|rows| {
        let origin = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
        rows.into_iter()
            .map(|(id, day, amount, refund)| {
                let date = origin + chrono::Days::new(day as u64);
                if refund {
                    Transaction::refund(CustomerId::from(id), date, amount).unwrap()
                } else {
                    Transaction::purchase(CustomerId::from(id), date, amount).unwrap()
                }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(proptest_config(2048))]

    #[test]
    fn loyalty_with_huge_rule_values_is_finite_or_typed_errors(
        programme in programme(),
        log in member_log(),
        redemptions in prop::collection::vec((0u64..3, 0i64..900, prop_oneof![1u64..100, Just(u64::MAX)]), 0..3),
        as_of_offset in 0i64..1000,
        point_value in huge_decimal(),
        per_day in prop_oneof![Just(0.0), 1e-6f64..5.0, Just(1e6)],
        spend in prop_oneof![1.0f64..100.0, Just(1e30), Just(f64::MAX)],
        simulations in prop_oneof![1u32..8, Just(0u32), Just(MAX_SIMULATIONS + 1)],
        max_purchases in prop_oneof![1u32..50, Just(MAX_PURCHASES + 1)],
    ) {
        loyalty_case(
            programme, log, redemptions, as_of_offset, point_value,
            (per_day, spend, simulations, max_purchases),
        )?;
    }
}

const REPLAYED: u8 = 1;
const VALUED: u8 = 2;
const FORECAST: u8 = 4;

/// One loyalty case; the bits say which results were computed (and checked).
fn loyalty_case(
    programme: Programme,
    log: Vec<Transaction>,
    redemptions: Vec<(u64, i64, u64)>,
    as_of_offset: i64,
    point_value: Decimal,
    (per_day, spend, simulations, max_purchases): (f64, f64, u32, u32),
) -> Result<u8, TestCaseError> {
    let mut reached = 0;
    {
        let origin = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
        let as_of = origin + chrono::Days::new(as_of_offset as u64);
        let redemptions: Vec<Redemption> = redemptions
            .into_iter()
            .map(|(id, day, points)| Redemption {
                customer: CustomerId::from(id),
                date: origin + chrono::Days::new(day as u64),
                points,
            })
            .collect();
        let evaluator = Evaluator::new(&programme);
        let replays = evaluator.evaluate_base(&[], &log, &redemptions, &[], as_of);
        if let Ok(replays) = &replays {
            if !replays.is_empty() {
                reached |= REPLAYED;
            }
            for r in replays {
                let s = r.status();
                prop_assert!(s.tier_index < programme.ladder().len());
                prop_assert!(s.to_next_tier.is_none_or(|d| d >= Decimal::ZERO));
                prop_assert!(s.points.balance <= s.points.earned);
            }
        }
        let mut ledger = Ledger::new(LedgerOptions::default().returns(ReturnPolicy::Ignore));
        ledger.extend_transactions(log.iter().cloned()).unwrap();
        let Ok(summaries) = ledger.summarize((as_of, TimeUnit::DAYS)) else {
            return Ok(reached);
        };
        let model = Poisson {
            per_unit: per_day,
            unit: TimeUnit::DAYS,
        };
        if let Ok(replays) = &replays {
            let options = LiabilityOptions {
                point_value,
                redemption_per_purchase: 0.5,
                horizon_without_expiry_days: 365,
            };
            if let Ok(l) = points_liability(replays, &summaries, &model, &options) {
                if l.outstanding > 0 {
                    reached |= VALUED;
                }
                prop_assert!(l.expected_redeemed.is_finite() && l.expected_redeemed >= 0.0);
                for m in &l.members {
                    prop_assert!(m.expected_redeemed.is_finite());
                }
            }
        }
        let spend_model = FlatSpend(spend);
        let options = ForecastOptions {
            simulations,
            seed: 7,
            spend: SpendAssumption::Gamma { shape: 2.0 },
            exact_when_possible: true,
            max_purchases,
        };
        let forecaster = TierForecaster::new(evaluator, &model, &spend_model).options(options);
        prop_assert_eq!(
            forecaster.is_ok(),
            (1..=MAX_SIMULATIONS).contains(&simulations) && max_purchases <= MAX_PURCHASES
        );
        if let Ok(f) = forecaster {
            if let Ok(base) = f.forecast_base(&[], &log, &redemptions, &[], &summaries, as_of) {
                if !base.members.is_empty() {
                    reached |= FORECAST;
                }
                for m in &base.members {
                    check_rate(m.p_grace)?;
                    check_rate(m.p_keep())?;
                    let total: f64 = m.probabilities.iter().sum();
                    prop_assert!((total - 1.0).abs() < 1e-6, "{:?}", m.probabilities);
                }
                prop_assert!(base.expected_mix.iter().all(|v| v.is_finite()));
            }
        }
    }
    Ok(reached)
}

// ---------------------------------------------------------------------------------------------
// Segmenters on degenerate bases

/// Degenerate bases: one customer, identical customers, equal spends, one extreme heavy buyer.
fn degenerate_base() -> impl Strategy<Value = Vec<Profile>> {
    let profile = |id: u64, x: u32, t_x: f64, age: f64, z: Decimal| {
        Profile::new(
            CustomerId::from(id),
            TimeUnit::WEEKS,
            x,
            t_x.min(age),
            age,
            z,
        )
    };
    (
        0usize..4,
        1usize..30,
        0u32..20,
        0.0f64..60.0,
        0.0f64..60.0,
        amount(),
    )
        .prop_map(move |(kind, n, x, t_x, age, z)| {
            let t_x = if x == 0 { 0.0 } else { t_x };
            let rows: Vec<Result<Profile, _>> = match kind {
                0 => vec![profile(1, x, t_x, age, z)],
                1 => (0..n as u64).map(|i| profile(i, x, t_x, age, z)).collect(),
                2 => (0..n as u64)
                    .map(|i| profile(i, (i % 5) as u32 + 1, (i % 7) as f64, 10.0, Decimal::TEN))
                    .collect(),
                _ => (0..n as u64)
                    .map(|i| {
                        if i == 0 {
                            profile(i, u32::MAX, 1e300, 1e300, Decimal::ONE)
                        } else {
                            profile(i, 1, 1.0, 2.0, Decimal::ONE)
                        }
                    })
                    .collect(),
            };
            rows.into_iter()
                .flatten()
                .map(|p| {
                    let p = p.with_p_alive(0.5).unwrap();
                    p.with_clv(1e300).unwrap()
                })
                .collect()
        })
}

/// `Ok(true)` when the segmenter labelled the base (everyone).
fn check_segmenter<S: Segmenter<Profile>>(s: &S, base: &[Profile]) -> Result<bool, TestCaseError> {
    if let Ok((_, labels)) = s.segment(base) {
        prop_assert_eq!(labels.len(), base.len());
        return Ok(true);
    }
    Ok(false)
}

proptest! {
    #![proptest_config(proptest_config(2048))]

    #[test]
    fn segmenters_on_degenerate_bases_label_everyone_or_fail_typed(
        base in degenerate_base(),
        k in 1usize..5,
    ) {
        check_segmenter(&RfmParams::default(), &base)?;
        check_segmenter(&AbcParams::default(), &base)?;
        check_segmenter(&LifecycleParams::default(), &base)?;
        check_segmenter(&KMeansParams::new(k).seed(3), &base)?;
        let jenks = RfmParams::default()
            .binning(Binning::Jenks { classes: 4 })
            .monetary_feature(Feature::Clv);
        for params in [RfmParams::default(), jenks] {
            check_segmenter(&params, &base)?;
            if let Ok(rfm) = params.learn(&base) {
                for bins in [rfm.recency_bins(), rfm.frequency_bins(), rfm.monetary_bins()] {
                    prop_assert!(bins.edges().iter().all(|e| e.is_finite()), "{:?}", bins.edges());
                }
            }
        }
        for value in [Feature::Clv, Feature::TotalSpend, Feature::Frequency] {
            if let Ok(abc) = AbcParams::default().value(value).learn(&base) {
                prop_assert!(abc.a_threshold().is_finite() && abc.b_threshold().is_finite(), "{abc:?}");
            }
        }
        if let Ok(kmeans) = KMeansParams::new(k).features(vec![Feature::Clv, Feature::Frequency, Feature::Recency]).learn(&base) {
            prop_assert!(kmeans.inertia().is_finite(), "{kmeans:?}");
            prop_assert_eq!(kmeans.sizes().iter().sum::<usize>(), base.len());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Simulation and validation

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn simulation_and_validation_are_finite_or_typed_errors(
        customers in 0usize..40,
        rates in (1e-3f64..1e3, prop_oneof![1e-12f64..1e-6, 1e-2f64..1e3]),
        days in prop_oneof![1u32..20, Just(0u32)],
        unit in unit(),
        holdout_end in prop_oneof![
            3 => (1u64..800).prop_map(|d| NaiveDate::from_ymd_opt(2024, 6, 30).unwrap() + chrono::Days::new(d)),
            1 => Just(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()),
        ],
        per_unit in prop_oneof![1e-9f64..10.0, Just(1e300)],
        holdout in prop::collection::vec(prop_oneof![0.0f64..10.0, Just(f64::NAN), Just(-1.0), Just(f64::MAX)], 1..6),
    ) {
        validation_case(customers, rates, days, unit, holdout_end, per_unit, holdout)?;
    }
}

const VALIDATED: u8 = 1;
const VALIDATED_HOLDOUT: u8 = 2;

/// One simulation and validation case; the bits say which reports were computed (and checked).
fn validation_case(
    customers: usize,
    rates: (f64, f64),
    days: u32,
    unit: TimeUnit,
    holdout_end: NaiveDate,
    per_unit: f64,
    holdout: Vec<f64>,
) -> Result<u8, TestCaseError> {
    let mut reached = 0;
    {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let as_of = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        let (r, alpha) = rates;
        let options =
            SimulationOptions::new(customers, start, holdout_end, unit, 5).acquisition_days(days);
        for base in [
            BgNbdProcess::new(r, alpha, 1.0, 2.0).map(|p| simulate(&p, &options)),
            ParetoNbdProcess::new(r, alpha, 1.0, 2.0).map(|p| simulate(&p, &options)),
        ] {
            let Ok(Ok(base)) = base else { continue };
            let mut ledger = Ledger::new(LedgerOptions::default());
            ledger
                .extend_transactions(base.transactions().iter().cloned())
                .unwrap();
            let Ok(summaries) =
                ledger.summarize(SummaryOptions::new(as_of, unit).holdout_end(holdout_end))
            else {
                continue;
            };
            let model = Poisson { per_unit, unit };
            if let Ok(report) = validate(&model, &summaries, ledger.transactions()) {
                reached |= VALIDATED;
                let e = &report.errors;
                for v in [
                    e.mae,
                    e.rmse,
                    e.correlation,
                    e.total_actual,
                    e.total_expected,
                    report.aic,
                    report.bic,
                ] {
                    prop_assert!(v.is_finite(), "{report:?}");
                }
                prop_assert!(
                    report.tracking.len()
                        <= customer_assets::validation::MAX_TRACKING_PERIODS as usize
                );
                for p in &report.tracking {
                    prop_assert!(p.expected.is_finite() && p.actual.is_finite());
                }
            }
        }
        let records: Vec<HoldoutRecord> = holdout
            .iter()
            .map(|&h| HoldoutRecord {
                history: History::new(1, 1.0, 2.0),
                holdout: h,
            })
            .collect();
        let model = Poisson { per_unit, unit };
        match validate_holdout(&model, &records, 1.0) {
            Ok(report) => {
                reached |= VALIDATED_HOLDOUT;
                prop_assert!(holdout.iter().all(|h| h.is_finite() && *h >= 0.0));
                prop_assert!(report.errors.rmse.is_finite() && report.aic.is_finite());
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        let m = error_metrics(&holdout, &holdout);
        if holdout.iter().all(|h| h.is_finite()) {
            prop_assert!(m.mae == 0.0 && m.rmse == 0.0);
        }
    }
    Ok(reached)
}

// ---------------------------------------------------------------------------------------------
// The properties above only check the results they get: this makes sure their generators reach
// the computed results, not only the typed errors.

/// How many of `cases` deterministic draws of `strategy` make `case` report reaching `bit`.
fn reached<S: Strategy, R: Into<u32>>(
    strategy: S,
    cases: u32,
    case: impl Fn(S::Value) -> Result<R, TestCaseError>,
) -> [u32; 3] {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut counts = [0u32; 3];
    for _ in 0..cases {
        let value = strategy.new_tree(&mut runner).unwrap().current();
        let bits: u32 = case(value).unwrap().into();
        for (k, count) in counts.iter_mut().enumerate() {
            *count += (bits >> k) & 1;
        }
    }
    counts
}

#[test]
fn the_generators_reach_computed_results_not_only_errors() {
    let [summaries, ..] = reached(ledger_case(), 200, ledger_summaries);
    assert!(
        summaries >= 20,
        "summaries computed in {summaries} of 200 cases"
    );
    let merged = (
        log(),
        prop::collection::vec(0usize..24, 0..4),
        summary_options(),
        any::<bool>(),
        any::<bool>(),
    );
    let [merges, ..] = reached(merged, 200, |(l, c, o, t, r)| {
        merged_equals_sequential(l, c, o, t, r)
    });
    assert!(
        merges >= 20,
        "merged summaries computed in {merges} of 200 cases"
    );
    let kpis = (
        log(),
        any_date(),
        1u32..400,
        0u32..3,
        prop::collection::vec((0.0f64..5.0, Just(0.0), Just(5.0), 0u8..11), 0..3),
        (amount(), amount(), amount()),
    );
    let [reports, ..] = reached(kpis, 200, |(l, e, p, g, s, m)| kpi_case(l, e, p, g, s, m));
    assert!(
        reports >= 5,
        "KPI reports computed in {reports} of 200 cases"
    );
    let loyalty = (
        programme(),
        member_log(),
        Just(vec![]),
        0i64..1000,
        huge_decimal(),
        (1e-3f64..1.0, 1.0f64..100.0, 1u32..4, 1u32..30),
    );
    let [replayed, valued, forecast] = reached(loyalty, 100, |(p, l, r, a, v, o)| {
        loyalty_case(p, l, r, a, v, o)
    });
    assert!(
        replayed >= 20 && valued >= 5 && forecast >= 5,
        "replayed {replayed}, valued {valued}, forecast {forecast} of 100"
    );
    let validation = (
        1usize..40,
        (0.5f64..2.0, 0.5f64..5.0),
        1u32..20,
        Just(TimeUnit::WEEKS),
        (1u64..300)
            .prop_map(|d| NaiveDate::from_ymd_opt(2024, 6, 30).unwrap() + chrono::Days::new(d)),
        1e-3f64..1.0,
        prop::collection::vec(0.0f64..10.0, 1..6),
    );
    let [validated, holdout, _] = reached(validation, 20, |(c, r, d, u, h, p, o)| {
        validation_case(c, r, d, u, h, p, o)
    });
    assert!(
        validated >= 5 && holdout >= 5,
        "validated {validated}, holdout {holdout} of 20"
    );
    let [labelled, ..] = reached(degenerate_base(), 50, |base| {
        check_segmenter(&RfmParams::default(), &base)
    });
    let [clustered, ..] = reached(degenerate_base(), 50, |base| {
        check_segmenter(&KMeansParams::new(2), &base)
    });
    assert!(clustered >= 10, "k-means labelled {clustered} of 50 bases");
    assert!(labelled >= 10, "RFM labelled {labelled} of 50 bases");
}

/// The properties mean something only with overflow checks on: the test profile
/// (`[profile.test] opt-level = 1`) inherits them, and debug assertions, from the dev profile.
#[test]
fn the_fuzz_runs_with_overflow_checks_and_debug_assertions() {
    let mut debug_assertions = false;
    debug_assert!({
        debug_assertions = true;
        true
    });
    assert!(debug_assertions, "debug assertions are off");
    let overflowed = std::panic::catch_unwind(|| std::hint::black_box(i32::MAX) + 1);
    assert!(overflowed.is_err(), "i32::MAX + 1 did not panic");
}

// ---------------------------------------------------------------------------------------------
// The reported findings, one by one

#[test]
fn a_kpi_report_ending_in_9999_is_a_typed_error_not_an_allocation_failure() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    let day = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    ledger
        .add_transaction(Transaction::purchase(CustomerId::from(1u64), day, Decimal::ONE).unwrap())
        .unwrap();
    let end = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let err = KpiReport::new(&ledger, end, 90).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn a_holdout_ending_in_9999_is_a_typed_error_not_110_mb_of_tracking() {
    let start = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
    let as_of = NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
    let end = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (id, d) in [(1u64, 0u64), (1, 30), (2, 10)] {
        let t = Transaction::purchase(
            CustomerId::from(id),
            start + chrono::Days::new(d),
            Decimal::ONE,
        );
        ledger.add_transaction(t.unwrap()).unwrap();
    }
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS).holdout_end(end))
        .unwrap();
    let model = Poisson {
        per_unit: 0.1,
        unit: TimeUnit::WEEKS,
    };
    let err = validate(&model, &summaries, ledger.transactions()).unwrap_err();
    assert!(
        matches!(
            err,
            customer_assets::validation::ValidationError::TooManyPeriods { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("holdout end"), "{err}");
}

#[test]
fn summaries_at_the_calendar_limits_with_extreme_units_are_finite() {
    let first = NaiveDate::MIN.and_hms_opt(0, 0, 1).unwrap();
    let as_of = NaiveDate::MAX.pred_opt().unwrap();
    let log: Vec<Transaction> = [first, as_of.and_hms_opt(23, 59, 59).unwrap()]
        .iter()
        .map(|&at| {
            Transaction::new(
                CustomerId::from(1u64),
                at,
                Decimal::MAX,
                TransactionKind::Purchase,
            )
            .unwrap()
        })
        .collect();
    for grain in [Grain::Day, Grain::Timestamp] {
        for days in [TimeUnit::MIN_DAYS, TimeUnit::MAX_DAYS] {
            let unit = TimeUnit::custom_days(days).unwrap();
            let acc = accumulate(grain, ReturnPolicy::NetAgainstPurchase, &log);
            // Two purchases of Decimal::MAX: the total overflows, as a typed error.
            assert!(acc.finish(&SummaryOptions::new(as_of, unit)).is_err());
            let acc = accumulate(grain, ReturnPolicy::NetAgainstPurchase, &log[..1]);
            let s = acc.finish(&SummaryOptions::new(as_of, unit)).unwrap();
            let c = &s.customers()[0];
            assert!(c.age().is_finite() && c.age() > 0.0, "{c:?}");
        }
    }
}
