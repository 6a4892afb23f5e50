//! Feedback by segment in the equity report: on a simulated base with feedback derived from the
//! customer ids, the report's section matches the KPI functions applied group by group.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use customer_assets::kpi::{
    net_promoter_score, nps_interval, satisfaction, FeedbackByGroup, Period,
};
use customer_assets::loyalty::{
    DowngradePolicy, Downgrades, EarnRules, Metric, Programme, QualificationWindow, Tier,
    TierLadder,
};
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::records::Purpose;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::valuation::{
    DiscountRate, EquityReport, Valuation, FEEDBACK_LEVEL, HIGH_VALUE_TOP_SHARE,
};
use customer_assets::{Customer, CustomerId, Feedback, Ledger, LedgerOptions, TimeUnit};
use rust_decimal::Decimal;

const KPI_DAYS: u32 = 90;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn as_of() -> NaiveDate {
    day(2024, 12, 31)
}

fn base() -> Ledger {
    let sim = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4).unwrap(),
        &SimulationOptions::new(400, day(2024, 1, 1), as_of(), TimeUnit::WEEKS, 7)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).unwrap()),
    )
    .unwrap();
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(sim.transactions().iter().cloned())
        .unwrap();
    ledger
}

/// Feedback derived from each customer's id k: recommend (7k mod 11), a satisfaction score
/// (k mod 5) + 1 on 1..=5 unless 3 divides k, dated k mod 150 days before the as-of date (so
/// some fall outside the 90-day period); every fourth customer answered once more, earlier, with
/// the opposite score. One answer comes from a customer who never bought.
fn with_feedback(ledger: &mut Ledger) {
    let mut ids: Vec<CustomerId> = ledger
        .transactions()
        .iter()
        .map(|t| t.customer().clone())
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let k = id.as_u64().unwrap();
        let date = as_of() - Days::new(k % 150);
        let recommend = ((7 * k) % 11) as u8;
        let sat = (k % 3 != 0).then_some(((k % 5) as f64 + 1.0, 1.0, 5.0));
        if k % 4 == 0 {
            let earlier = date - Days::new(3);
            let f = Feedback::new(id.clone(), earlier, None, Some(10 - recommend)).unwrap();
            ledger.add_feedback(f).unwrap();
        }
        ledger
            .add_feedback(Feedback::new(id, date, sat, Some(recommend)).unwrap())
            .unwrap();
    }
    let stranger = Feedback::new(CustomerId::from(9_999_999u64), as_of(), None, Some(0)).unwrap();
    ledger.add_feedback(stranger).unwrap();
}

fn programme() -> Programme {
    let tier = |name: &str, threshold: i64| Tier::new(name, Decimal::from(threshold));
    let ladder = TierLadder::new(
        Metric::Spend,
        vec![tier("Member", 0), tier("Silver", 100), tier("Gold", 300)],
    )
    .unwrap();
    Programme::new(
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
    .unwrap()
}

fn value(ledger: &Ledger, kpis: bool) -> EquityReport {
    let programme = programme();
    let builder = Valuation::builder()
        .ledger(ledger)
        .as_of(as_of())
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .tiers(&programme);
    let builder = if kpis {
        builder.kpis(KPI_DAYS)
    } else {
        builder
    };
    builder.build().unwrap().run().unwrap()
}

/// Checks one grouping of the section against the KPI functions on each group's feedback.
fn check_groups(
    what: &str,
    section: &FeedbackByGroup,
    feedback: &[Feedback],
    period: Period,
    label_of: &HashMap<CustomerId, String>,
) {
    let in_period: Vec<&Feedback> = feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .collect();
    let mut listed = 0;
    for g in &section.groups {
        let mine: Vec<Feedback> = in_period
            .iter()
            .filter(|f| label_of.get(f.customer()) == Some(&g.label))
            .map(|f| (*f).clone())
            .collect();
        assert_eq!(g.responses, mine.len(), "{what} {}", g.label);
        listed += g.responses;
        match (net_promoter_score(&mine, period), &g.nps) {
            (Ok(want), Some(got)) => {
                assert_eq!(got.nps, want, "{what} {}", g.label);
                assert_eq!(got.interval, nps_interval(&want, FEEDBACK_LEVEL).unwrap());
            }
            (Err(_), None) => {}
            (want, got) => panic!("{what} {}: {want:?} vs {got:?}", g.label),
        }
        match (satisfaction(&mine, period), &g.satisfaction) {
            (Ok(want), Some(got)) => {
                let s = got.satisfaction;
                assert_eq!(s.responses, want.responses);
                assert!((s.mean_normalized - want.mean_normalized).abs() < 1e-12);
                assert!((s.mean.unwrap() - want.mean.unwrap()).abs() < 1e-12);
                assert!(got.interval.lower <= s.mean_normalized);
                assert!(s.mean_normalized <= got.interval.upper);
            }
            (Err(_), None) => {}
            (want, got) => panic!("{what} {}: {want:?} vs {got:?}", g.label),
        }
    }
    let ungrouped: Vec<&&Feedback> = in_period
        .iter()
        .filter(|f| !label_of.contains_key(f.customer()))
        .collect();
    assert_eq!(section.ungrouped.responses, ungrouped.len(), "{what}");
    let mut customers: Vec<&CustomerId> = ungrouped.iter().map(|f| f.customer()).collect();
    customers.sort();
    customers.dedup();
    assert_eq!(section.ungrouped.customers, customers.len(), "{what}");
    assert_eq!(
        listed + ungrouped.len(),
        in_period.len(),
        "{what}: none dropped"
    );
}

#[test]
fn the_reports_feedback_section_matches_a_direct_computation() {
    let mut ledger = base();
    with_feedback(&mut ledger);
    let report = value(&ledger, true);
    let section = report
        .feedback
        .as_ref()
        .expect("KPIs and feedback: a section");
    let period = Period::ending(as_of(), KPI_DAYS).unwrap();
    assert_eq!(section.period, period);
    assert_eq!(section.level, FEEDBACK_LEVEL);
    assert_eq!(section.note, None);
    let feedback = ledger.feedback();
    assert!(
        feedback.iter().any(|f| !period.contains(f.date())),
        "some outside"
    );

    assert_eq!(section.by_segment.len(), 2);
    for (s, by) in report.by_segment.iter().enumerate() {
        let got = &section.by_segment[s];
        assert_eq!(got.segmenter, by.segmenter);
        let labels: Vec<&str> = got
            .feedback
            .groups
            .iter()
            .map(|g| g.label.as_str())
            .collect();
        let want: Vec<&str> = by.segments.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, want, "the report's order of segments");
        let label_of = report
            .customers
            .iter()
            .map(|c| (c.id.clone(), c.segments[s].1.to_string()))
            .collect();
        check_groups(&by.segmenter, &got.feedback, feedback, period, &label_of);
    }
    let tiers: HashMap<CustomerId, String> = report
        .customers
        .iter()
        .filter_map(|c| c.tier.as_ref().map(|t| (c.id.clone(), t.to_string())))
        .collect();
    assert!(!tiers.is_empty());
    let by_tier = section.by_tier.as_ref().expect("tier rules: by tier");
    check_groups("tier", by_tier, feedback, period, &tiers);
    let classes = report
        .customers
        .iter()
        .map(|c| (c.id.clone(), c.asset_class.to_string()))
        .collect();
    let by_class = section.by_asset_class.as_ref().unwrap();
    check_groups("asset class", by_class, feedback, period, &classes);
    // The customer who never bought is in no group of any grouping.
    assert!(by_class.ungrouped.customers >= 1);

    // The at-risk list, directly: the top 20% by CLV, each customer's latest answer.
    let mut clvs: Vec<Decimal> = report.customers.iter().map(|c| c.clv).collect();
    clvs.sort_by(|a, b| b.cmp(a));
    let rank = (HIGH_VALUE_TOP_SHARE * clvs.len() as f64).ceil() as usize;
    let threshold = clvs[rank - 1];
    let mut latest: HashMap<&CustomerId, (NaiveDate, u8)> = HashMap::new();
    for f in feedback.iter().filter(|f| period.contains(f.date())) {
        let e = latest.entry(f.customer()).or_insert((f.date(), 10));
        if f.date() >= e.0 {
            *e = (f.date(), f.recommend().unwrap());
        }
    }
    let mut want: Vec<(Decimal, CustomerId, u8, NaiveDate)> = report
        .customers
        .iter()
        .filter(|c| c.clv >= threshold)
        .filter_map(|c| latest.get(&c.id).map(|&(d, s)| (c.clv, c.id.clone(), s, d)))
        .filter(|(_, _, s, _)| *s <= 6)
        .collect();
    want.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let at_risk = section.at_risk.as_ref().unwrap();
    assert_eq!(at_risk.threshold, threshold);
    let got: Vec<(Decimal, CustomerId, u8, NaiveDate)> = at_risk
        .customers
        .iter()
        .map(|c| (c.clv, c.id.clone(), c.score, c.date))
        .collect();
    assert!(!want.is_empty(), "the base has high-value detractors");
    assert_eq!(got, want);
    let total: Decimal = want.iter().map(|w| w.0).sum();
    assert_eq!(at_risk.value_at_risk, total);
    assert_eq!(
        at_risk.unvalued_detractors, 1,
        "the customer who never bought"
    );
    let detractors = latest.values().filter(|(_, s)| *s <= 6).count();
    assert_eq!(at_risk.detractors, detractors);

    let text = report.to_string();
    assert!(text.contains("Feedback ("), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["feedback"]["at_risk"]["customers"].is_array());
}

#[test]
fn no_feedback_or_no_kpis_means_no_section_and_consent_filters_the_named_list() {
    let mut ledger = base();
    assert!(value(&ledger, true).feedback.is_none(), "no feedback");
    with_feedback(&mut ledger);
    assert!(value(&ledger, false).feedback.is_none(), "no KPI period");

    // The named detractors are customer rows: a consent filter keeps only the consenting.
    let mut report = value(&ledger, true);
    let named = &report
        .feedback
        .as_ref()
        .unwrap()
        .at_risk
        .as_ref()
        .unwrap()
        .customers;
    assert!(named.len() >= 2);
    let keep = named[1].id.clone();
    let total = report
        .feedback
        .as_ref()
        .unwrap()
        .at_risk
        .as_ref()
        .unwrap()
        .value_at_risk;
    ledger
        .add_customer(Customer::new(keep.clone(), day(2024, 1, 1)))
        .unwrap();
    ledger
        .give_consent(&keep, Purpose::MARKETING_CONTACT, day(2024, 1, 1))
        .unwrap();
    report.retain_consenting(&ledger.consent_scope(&Purpose::MARKETING_CONTACT, as_of()));
    let at_risk = report.feedback.as_ref().unwrap().at_risk.as_ref().unwrap();
    let left: Vec<&CustomerId> = at_risk.customers.iter().map(|c| &c.id).collect();
    assert_eq!(left, [&keep]);
    assert_eq!(
        at_risk.value_at_risk, total,
        "the total describes no one customer"
    );

    // No feedback in the period: an empty section with a note, not an error.
    let mut late = base();
    let old = Feedback::new(CustomerId::from(1u64), day(2024, 1, 5), None, Some(3)).unwrap();
    late.add_feedback(old).unwrap();
    let section = value(&late, true).feedback.unwrap();
    assert_eq!(section.note.as_deref(), Some("no feedback in the period"));
    let by_class = section.by_asset_class.unwrap();
    assert!(by_class
        .groups
        .iter()
        .all(|g| g.responses == 0 && g.nps.is_none()));
    assert!(section.at_risk.unwrap().customers.is_empty());
}
