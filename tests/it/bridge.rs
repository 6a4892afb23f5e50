//! The equity bridge: every line on a four-customer base computed on paper; the bridge balances
//! to the cent on CDNOW at quarterly reviews and on simulated bases; bad input is refused.

use std::sync::Arc;

use chrono::NaiveDate;
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParams};
use customer_assets::models::{BgNbd, BgNbdParameters, BgNbdParams, MeanSpend, SpendData};
use customer_assets::segment::asset_quality::AssetClass;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::bridge::{BridgeError, EquityBridge, LossRule};
use customer_assets::valuation::{CustomerValue, DiscountRate, EquityReport, Valuation};
use customer_assets::{
    CustomerId, Fit, Ledger, LedgerOptions, SpendModel, SummaryOptions, TimeUnit, Transaction,
    TransactionModel,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// A report from a real valuation of a tiny ledger, to be filled with hand-made customers.
fn template() -> EquityReport {
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (id, m, d, amount) in [
        (1u64, 1, 5, 10),
        (1, 2, 9, 12),
        (2, 1, 7, 30),
        (2, 3, 1, 25),
    ] {
        ledger
            .add_transaction(
                Transaction::purchase(CustomerId::from(id), day(2024, m, d), Decimal::from(amount))
                    .unwrap(),
            )
            .unwrap();
    }
    Valuation::builder()
        .ledger(&ledger)
        .as_of(day(2024, 6, 30))
        .unit(TimeUnit::WEEKS)
        .transaction_model(
            BgNbd::new(
                BgNbdParameters {
                    r: 0.25,
                    alpha: 4.4,
                    a: 0.8,
                    b: 2.4,
                },
                TimeUnit::WEEKS,
            )
            .unwrap(),
        )
        .spend_model(MeanSpend::new(20.0).unwrap())
        .margin(0.3)
        .discount(DiscountRate::continuous(1.1f64.ln() / 52.0, TimeUnit::WEEKS).unwrap())
        .horizon(52.0)
        .build()
        .unwrap()
        .run()
        .unwrap()
}

/// `template` at `as_of` with these (id, CLV in cents, P(alive)) customers, all of one class.
fn report(template: &EquityReport, as_of: NaiveDate, rows: &[(u64, i64, f64)]) -> EquityReport {
    let mut r = template.clone();
    r.as_of = as_of;
    r.customers = rows
        .iter()
        .map(|&(id, clv, p_alive)| CustomerValue {
            id: CustomerId::from(id),
            segments: vec![(
                Arc::from("half"),
                Arc::from(if id % 2 == 0 { "even" } else { "odd" }),
            )],
            tier: None,
            p_alive,
            expected_purchases: 1.0,
            expected_spend: 20.0,
            dert: 1.0,
            clv: cents(clv),
            asset_class: if p_alive >= 0.5 {
                AssetClass::Grow
            } else {
                AssetClass::WinBack
            },
            referrals: 0,
            referral_value: Decimal::ZERO,
        })
        .collect();
    r.equity = r.customers.iter().map(|c| c.clv).sum();
    r
}

/// Four customers over one year at a discount rate of ln(1.1) a year (the carrying factor
/// e^(δ·Δt) is 1.1 over the 52 weeks from 2024-01-01 to 2024-12-30):
///
/// | customer | opening CLV₁ | carried W = 1.1 · CLV₁ | closing, opening models CLV₂' | closing CLV₂ | P(alive) at close |
/// |---|---|---|---|---|---|
/// | 1 | 100.00 | 110.00 | 130.00 | 125.00 | 0.9 (retained) |
/// | 2 | 50.00 | 55.00 | 6.00 | 5.00 | 0.2 (lost) |
/// | 3 | 20.00 | 22.00 | 18.00 | 21.00 | 0.6 (retained) |
/// | 4 | — | — | 35.00 | 40.00 | 0.95 (acquired) |
///
/// - opening equity: 100 + 50 + 20 = 170.00
/// - acquired: customer 4's closing value, 40.00 (1 customer)
/// - lost: customer 2, 5.00 − 55.00 = −50.00 (1)
/// - revaluation, own purchases: (130 − 110) + (18 − 22) = 16.00 (2)
/// - revaluation, model refit: (125 − 130) + (21 − 18) = −2.00 (2)
/// - unwinding of discount: 10 + 5 + 2 = 17.00 (3)
/// - closing equity: 125 + 5 + 21 + 40 = 191.00 = 170 + 40 − 50 + 16 − 2 + 17.
///
/// The four-customer base of the table above: the opening report, the closing report and the
/// closing date under the opening models.
fn four_customers() -> (EquityReport, EquityReport, EquityReport) {
    let t = template();
    let (from, to) = (day(2024, 1, 1), day(2024, 12, 30));
    let opening = report(
        &t,
        from,
        &[(1, 10_000, 0.9), (2, 5_000, 0.7), (3, 2_000, 0.8)],
    );
    let closing = report(
        &t,
        to,
        &[
            (1, 12_500, 0.9),
            (2, 500, 0.2),
            (3, 2_100, 0.6),
            (4, 4_000, 0.95),
        ],
    );
    let cross = report(
        &t,
        to,
        &[
            (1, 13_000, 0.9),
            (2, 600, 0.2),
            (3, 1_800, 0.6),
            (4, 3_500, 0.95),
        ],
    );
    (opening, closing, cross)
}

#[test]
fn every_line_of_a_four_customer_bridge_is_the_one_computed_on_paper() {
    let (opening, closing, cross) = four_customers();
    let ledger = Ledger::new(LedgerOptions::default());
    let bridge = EquityBridge::new(
        &opening,
        &closing,
        Some(&cross),
        &ledger,
        LossRule::PAliveBelow(0.5),
    )
    .unwrap();
    let lines: Vec<(&str, Decimal, usize)> = bridge
        .lines
        .iter()
        .map(|l| (l.name, l.amount, l.customers))
        .collect();
    assert_eq!(
        lines,
        [
            ("acquired", cents(4_000), 1),
            ("lost", cents(-5_000), 1),
            ("revaluation: own purchases", cents(1_600), 2),
            ("revaluation: model refit", cents(-200), 2),
            ("unwinding of discount", cents(1_700), 3),
        ]
    );
    assert_eq!(
        (bridge.opening_equity, bridge.closing_equity),
        (cents(17_000), cents(19_100))
    );
    assert!(bridge.refitted);
    // By asset class at the close: grow = customers 1, 3, 4; win back = customer 2.
    let grow = &bridge.by_asset_class[0];
    assert_eq!(
        (
            grow.label.as_str(),
            grow.opening_equity,
            grow.closing_equity
        ),
        ("grow", cents(12_000), cents(18_600))
    );
    let win_back = &bridge.by_asset_class[1];
    assert_eq!(win_back.lines[1].amount, cents(-5_000));
    assert_eq!(win_back.closing_equity, cents(500));
    // By segment: even = customers 2 and 4, odd = 1 and 3.
    let halves = &bridge.by_segment[0];
    assert_eq!(halves.segmenter, "half");
    let labels: Vec<(&str, Decimal)> = halves
        .segments
        .iter()
        .map(|g| (g.label.as_str(), g.closing_equity))
        .collect();
    assert_eq!(labels, [("even", cents(4_500)), ("odd", cents(14_600))]);

    // Without a refit the closing report is the opening models' own, and the refit line is 0.
    let same =
        EquityBridge::new(&opening, &cross, None, &ledger, LossRule::PAliveBelow(0.5)).unwrap();
    assert_eq!(same.lines[3].amount, Decimal::ZERO);
    assert_eq!(same.lines[2].amount, cents(1_600));
    assert!(!same.refitted);
}

#[test]
fn bad_bridges_are_typed_errors() {
    let t = template();
    let a = report(&t, day(2024, 1, 1), &[(1, 100, 0.9)]);
    let b = report(&t, day(2024, 6, 1), &[(1, 100, 0.9), (2, 50, 0.9)]);
    let ledger = Ledger::new(LedgerOptions::default());
    let rule = LossRule::PAliveBelow(0.5);
    assert!(matches!(
        EquityBridge::new(&b, &a, None, &ledger, rule),
        Err(BridgeError::DatesOutOfOrder { .. })
    ));
    let mut other = b.clone();
    other.margin = 0.5;
    let err = EquityBridge::new(&a, &other, None, &ledger, rule).unwrap_err();
    assert!(err.to_string().contains("margin"), "{err}");
    let cross = report(&t, day(2024, 6, 1), &[(1, 100, 0.9)]);
    let err = EquityBridge::new(&a, &b, Some(&cross), &ledger, rule).unwrap_err();
    assert!(err.to_string().contains("customers"), "{err}");
    let gone = report(&t, day(2024, 6, 1), &[(2, 50, 0.9)]);
    assert_eq!(
        EquityBridge::new(&a, &gone, None, &ledger, rule).unwrap_err(),
        BridgeError::CustomerGone(CustomerId::from(1u64))
    );
    for bad in [
        LossRule::PAliveBelow(0.0),
        LossRule::PAliveBelow(1.0),
        LossRule::NoPurchaseFor { days: 0 },
    ] {
        assert_eq!(
            EquityBridge::new(&a, &b, None, &ledger, bad).unwrap_err(),
            BridgeError::InvalidLossRule(bad)
        );
    }
}

/// The sum of a bridge's lines, and of each group's, and the groups' closings.
fn assert_balances(
    bridge: &EquityBridge,
    opening: &EquityReport,
    closing: &EquityReport,
    at: &str,
) {
    let moved: Decimal = bridge.lines.iter().map(|l| l.amount).sum();
    assert_eq!(bridge.opening_equity, opening.equity, "{at}");
    assert_eq!(bridge.closing_equity, closing.equity, "{at}");
    assert_eq!(
        bridge.opening_equity + moved,
        bridge.closing_equity,
        "{at}: lines"
    );
    let mut groups = vec![&bridge.by_asset_class];
    groups.extend(bridge.by_segment.iter().map(|s| &s.segments));
    for g in groups {
        let closing_sum: Decimal = g.iter().map(|b| b.closing_equity).sum();
        let opening_sum: Decimal = g.iter().map(|b| b.opening_equity).sum();
        assert_eq!(closing_sum, closing.equity, "{at}: groups' closing");
        assert_eq!(opening_sum, opening.equity, "{at}: groups' opening");
        for b in g {
            let moved: Decimal = b.lines.iter().map(|l| l.amount).sum();
            assert_eq!(
                b.opening_equity + moved,
                b.closing_equity,
                "{at}: group {}",
                b.label
            );
        }
    }
    let counts: usize =
        bridge.lines[..2].iter().map(|l| l.customers).sum::<usize>() + bridge.lines[2].customers;
    assert_eq!(
        counts,
        closing.customers.len(),
        "{at}: acquired + lost + retained"
    );
}

/// Values `ledger` at `as_of` with these models.
fn value(
    ledger: &Ledger,
    as_of: NaiveDate,
    transactions: impl TransactionModel,
    spend: impl SpendModel,
) -> EquityReport {
    Valuation::builder()
        .ledger(ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .transaction_model(transactions)
        .spend_model(spend)
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .build()
        .unwrap()
        .run()
        .unwrap()
}

/// The models fitted on the data to `as_of`.
fn fit_at(ledger: &Ledger, as_of: NaiveDate) -> (BgNbd, GammaGamma) {
    let s = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .unwrap();
    let bg = BgNbdParams::new().fit(&s.patterns()).unwrap();
    let spend = SpendData::usable_from_summaries(&s).unwrap().data;
    let gg = GammaGammaParams::new().fit(&spend).unwrap();
    (bg, gg)
}

/// The full CDNOW cohort reviewed quarterly through 1998-06-30, the models refitted at each
/// review: the bridge balances to the cent at every review, overall and in every group, under
/// either loss rule.
#[test]
fn the_bridge_balances_to_the_cent_on_cdnow_at_quarterly_reviews() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(crate::summarize::read_log("cdnow_master_transactions.csv"))
        .unwrap();
    let reviews = [
        day(1997, 3, 31),
        day(1997, 6, 30),
        day(1997, 9, 30),
        day(1997, 12, 31),
        day(1998, 3, 31),
        day(1998, 6, 30),
    ];
    let mut previous: Option<(EquityReport, (BgNbd, GammaGamma))> = None;
    for &to in &reviews {
        let (bg, gg) = fit_at(&ledger, to);
        let closing = value(&ledger, to, bg.clone(), gg.clone());
        if let Some((opening, (bg1, gg1))) = &previous {
            let cross = value(&ledger, to, bg1.clone(), gg1.clone());
            for rule in [
                LossRule::PAliveBelow(0.3),
                LossRule::NoPurchaseFor { days: 180 },
            ] {
                let bridge =
                    EquityBridge::new(opening, &closing, Some(&cross), &ledger, rule).unwrap();
                let at = format!("{} to {to}, {rule:?}", opening.as_of);
                assert_balances(&bridge, opening, &closing, &at);
                // The cohort was acquired in the first quarter of 1997.
                assert_eq!(bridge.lines[0].customers, 0, "{at}");
                assert!(bridge.lines[4].amount > Decimal::ZERO, "{at}: unwinding");
            }
        }
        previous = Some((closing, (bg, gg)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    /// Random opening, closing and refit values: the lines always sum to the closing equity.
    #[test]
    fn the_bridge_always_balances(
        rows in proptest::collection::vec((0i64..1_000_000, 0i64..1_000_000, 0i64..1_000_000, 0.0f64..1.0, any::<bool>()), 1..40),
        weeks in 1u64..200,
        rate in 0.0001f64..0.05,
    ) {
        let t = template();
        let from = day(2020, 1, 1);
        let to = from + chrono::Days::new(7 * weeks);
        let mut t = t;
        t.discount_rate = rate;
        let open: Vec<(u64, i64, f64)> = rows.iter().enumerate().filter(|(_, r)| r.4).map(|(i, r)| (i as u64, r.0, 0.5)).collect();
        let close: Vec<(u64, i64, f64)> = rows.iter().enumerate().map(|(i, r)| (i as u64, r.1, r.3)).collect();
        let cross: Vec<(u64, i64, f64)> = rows.iter().enumerate().map(|(i, r)| (i as u64, r.2, r.3)).collect();
        let (opening, closing, cross) = (report(&t, from, &open), report(&t, to, &close), report(&t, to, &cross));
        let ledger = Ledger::new(LedgerOptions::default());
        let bridge = EquityBridge::new(&opening, &closing, Some(&cross), &ledger, LossRule::PAliveBelow(0.5)).unwrap();
        let moved: Decimal = bridge.lines.iter().map(|l| l.amount).sum();
        prop_assert_eq!(bridge.opening_equity + moved, closing.equity);
        prop_assert_eq!(bridge.opening_equity, opening.equity);
        let grouped: Decimal = bridge.by_asset_class.iter().map(|g| g.closing_equity).sum();
        prop_assert_eq!(grouped, closing.equity);
    }
}

/// "Since last review" on the four-customer base: customer 4 gained, customer 2 lost, and the
/// one move between asset classes (customer 2, grow to win back) and between segments (none:
/// each customer keeps its half).
#[test]
fn since_last_review_lists_the_customers_gained_and_lost_and_the_biggest_moves() {
    use customer_assets::valuation::review::SinceLastReview;
    let (opening, closing, cross) = four_customers();
    let ledger = Ledger::new(LedgerOptions::default());
    let since = SinceLastReview::new(
        &opening,
        &closing,
        Some(&cross),
        &ledger,
        LossRule::PAliveBelow(0.5),
        5,
    )
    .unwrap();
    assert_eq!(since.bridge.closing_equity, cents(19_100));
    let gained: Vec<(CustomerId, Option<Decimal>, Decimal)> = since
        .top_gained
        .iter()
        .map(|c| (c.id.clone(), c.previous_clv, c.clv))
        .collect();
    assert_eq!(gained, [(CustomerId::from(4u64), None, cents(4_000))]);
    let lost: Vec<(CustomerId, Option<Decimal>, Decimal)> = since
        .top_lost
        .iter()
        .map(|c| (c.id.clone(), c.previous_clv, c.clv))
        .collect();
    assert_eq!(
        lost,
        [(CustomerId::from(2u64), Some(cents(5_000)), cents(500))]
    );
    let moves: Vec<(&str, &str, &str, usize)> = since
        .biggest_migrations
        .iter()
        .map(|m| {
            (
                m.dimension.as_str(),
                m.from.as_str(),
                m.to.as_str(),
                m.customers,
            )
        })
        .collect();
    assert_eq!(moves, [("asset_class", "grow", "win back", 1)]);
}
