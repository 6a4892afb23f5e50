//! Segmenters: known answers, edge cases and invariants.

use customer_assets::segment::abc::{AbcClass, AbcParams, ValueTiers};
use customer_assets::segment::rfm::{Binning, RfmParams, SegmentRule, SegmentRules};
use customer_assets::segment::{Assign, Feature, Profile, SegmentError, Segmenter};
use customer_assets::{CustomerId, TimeUnit};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn row(id: u64, x: u32, t_x: f64, t: f64, m: f64) -> Profile {
    Profile::new(
        CustomerId::from(id),
        TimeUnit::WEEKS,
        x,
        t_x,
        t,
        Decimal::from_f64_retain(m).unwrap().round_dp(2),
    )
    .unwrap()
}

fn spenders(spend: &[f64]) -> Vec<Profile> {
    spend
        .iter()
        .enumerate()
        .map(|(i, &s)| row(i as u64, 1, 1.0, 2.0, s))
        .collect()
}

#[test]
fn rfm_quintiles_on_ten_distinct_customers() {
    // Time since last purchase 0..9, frequency 1..10, monetary 10..100.
    let base: Vec<Profile> = (0..10)
        .map(|i| row(i, i as u32 + 1, i as f64, 20.0, 10.0 * (i + 1) as f64))
        .collect();
    let (_, labels) = RfmParams::default().segment(&base).unwrap();
    let r: Vec<u8> = labels.iter().map(|l| l.scores.recency).collect();
    let f: Vec<u8> = labels.iter().map(|l| l.scores.frequency).collect();
    let m: Vec<u8> = labels.iter().map(|l| l.scores.monetary).collect();
    // Customer 0 last bought 20 weeks before the as-of date (least recent), customer 9 eleven.
    assert_eq!(r, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    assert_eq!(f, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    assert_eq!(m, f);
    assert_eq!(labels[9].segment.as_ref(), "Champions");
    assert_eq!(labels[0].segment.as_ref(), "Lost");
    assert_eq!(labels[4].segment.as_ref(), "Loyal");
}

#[test]
fn rfm_ties_all_equal_and_single_customer() {
    // All equal: every score 1.
    let same: Vec<Profile> = (0..7).map(|i| row(i, 2, 5.0, 9.0, 20.0)).collect();
    let (_, labels) = RfmParams::default().segment(&same).unwrap();
    assert!(labels.iter().all(|l| l.scores.recency == 1
        && l.scores.frequency == 1
        && l.scores.monetary == 1
        && l.segment.as_ref() == "Lost"));
    // One customer.
    let (_, one) = RfmParams::default()
        .segment(&[row(1, 3, 5.0, 9.0, 1.0)])
        .unwrap();
    assert_eq!(one.len(), 1);
    // Ties: six customers at x = 0 share the bottom score, never split.
    let tied: Vec<Profile> = [0, 0, 0, 0, 0, 0, 1, 1, 2, 3]
        .iter()
        .enumerate()
        .map(|(i, &x)| row(i as u64, x, if x == 0 { 0.0 } else { 1.0 }, 10.0, 5.0))
        .collect();
    let (_, labels) = RfmParams::default().segment(&tied).unwrap();
    let f: Vec<u8> = labels.iter().map(|l| l.scores.frequency).collect();
    assert_eq!(f, vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
}

#[test]
fn rfm_fixed_thresholds_and_jenks() {
    let base: Vec<Profile> = vec![
        row(1, 0, 0.0, 30.0, 0.0),
        row(2, 2, 25.0, 30.0, 40.0),
        row(3, 8, 29.0, 30.0, 400.0),
    ];
    let params = RfmParams::default()
        .recency_binning(Binning::Thresholds(vec![4.0, 8.0, 12.0, 26.0]))
        .frequency_binning(Binning::Thresholds(vec![1.0, 2.0, 4.0, 8.0]))
        .monetary_binning(Binning::Thresholds(vec![10.0, 50.0, 100.0, 300.0]));
    let (_, labels) = params.segment(&base).unwrap();
    let scores: Vec<(u8, u8, u8)> = labels
        .iter()
        .map(|l| (l.scores.recency, l.scores.frequency, l.scores.monetary))
        .collect();
    // Recency: 30 weeks ago -> 1; 5 weeks -> 4 (below 8, 12, 26); 1 week -> 5.
    assert_eq!(scores, vec![(1, 1, 1), (4, 3, 2), (5, 5, 5)]);
    let jenks = RfmParams::default().binning(Binning::Jenks { classes: 3 });
    let base: Vec<Profile> = [1.0, 1.5, 2.0, 50.0, 55.0, 60.0, 500.0]
        .iter()
        .enumerate()
        .map(|(i, &m)| row(i as u64, 1, 1.0, 2.0, m))
        .collect();
    let (_, labels) = jenks.segment(&base).unwrap();
    let m: Vec<u8> = labels.iter().map(|l| l.scores.monetary).collect();
    assert_eq!(m, vec![1, 1, 1, 2, 2, 2, 3]);
}

#[test]
fn rfm_errors_are_typed() {
    assert_eq!(
        RfmParams::default().learn(&[]).unwrap_err(),
        SegmentError::EmptyPopulation
    );
    assert!(matches!(
        RfmParams::default()
            .binning(Binning::Quantiles { bins: 0 })
            .learn(&[row(1, 1, 1.0, 2.0, 1.0)]),
        Err(SegmentError::InvalidParameter { .. })
    ));
    assert!(matches!(
        RfmParams::default()
            .binning(Binning::Thresholds(vec![2.0, 1.0]))
            .learn(&[row(1, 1, 1.0, 2.0, 1.0)]),
        Err(SegmentError::InvalidParameter { .. })
    ));
    assert!(matches!(
        Profile::new(
            CustomerId::from(1u64),
            TimeUnit::DAYS,
            1,
            f64::NAN,
            2.0,
            Decimal::ONE
        ),
        Err(SegmentError::NotFinite { .. })
    ));
    assert!(matches!(
        Profile::new(
            CustomerId::from(1u64),
            TimeUnit::DAYS,
            1,
            3.0,
            2.0,
            Decimal::ONE
        ),
        Err(SegmentError::OutOfRange { .. })
    ));
    assert!(matches!(
        SegmentRules::new(vec![SegmentRule::new("x").recency(3, 2)], "rest"),
        Err(SegmentError::InvalidParameter { .. })
    ));
}

#[test]
fn custom_rules_round_trip_through_json_and_cover_everyone() {
    let json = r#"{"rules": [{"name": "Best", "recency": [5, 5], "frequency": [4, 5]}],
                   "fallback": "Everyone else"}"#;
    let rules: SegmentRules = serde_json::from_str(json).unwrap();
    let base: Vec<Profile> = (0..10)
        .map(|i| row(i, i as u32, i as f64, 20.0, 10.0))
        .collect();
    let (rfm, labels) = RfmParams::default().rules(rules).segment(&base).unwrap();
    let best = labels
        .iter()
        .filter(|l| l.segment.as_ref() == "Best")
        .count();
    assert_eq!(best, 2); // customers 8 and 9: the most recent and most frequent
    assert_eq!(labels.len(), 10);
    // The learnt scoring serializes and applies unchanged after a round trip.
    let back: customer_assets::segment::rfm::Rfm =
        serde_json::from_str(&serde_json::to_string(&rfm).unwrap()).unwrap();
    assert_eq!(back.assign_all(&base).unwrap(), labels);
    let bad = r#"{"rules": [{"name": "", "recency": [1, 2]}], "fallback": "x"}"#;
    assert!(serde_json::from_str::<SegmentRules>(bad).is_err());
}

#[test]
fn abc_known_answers_and_edge_cases() {
    let abc = AbcParams::default().value(Feature::TotalSpend);
    let (learnt, classes) = abc
        .segment(&spenders(&[1.0, 50.0, 4.0, 30.0, 15.0]))
        .unwrap();
    use AbcClass::*;
    assert_eq!(classes, vec![C, A, C, A, B]);
    assert_eq!(learnt.a_threshold(), 30.0);
    // Ties at the boundary stay together.
    let (_, tied) = abc.segment(&spenders(&[40.0, 30.0, 30.0])).unwrap();
    assert_eq!(tied, vec![A, A, A]);
    // All equal: everyone in A; all zero: everyone in C; one customer: A.
    let (_, eq) = abc.segment(&spenders(&[5.0; 4])).unwrap();
    assert_eq!(eq, vec![A; 4]);
    let (_, zero) = abc.segment(&spenders(&[0.0; 3])).unwrap();
    assert_eq!(zero, vec![C; 3]);
    assert_eq!(abc.segment(&spenders(&[9.0])).unwrap().1, vec![A]);
    assert_eq!(abc.learn(&[]).unwrap_err(), SegmentError::EmptyPopulation);
    // CLV must be supplied; a negative value is refused.
    let clv = AbcParams::default().value(Feature::Clv);
    assert!(matches!(
        clv.learn(&spenders(&[1.0])),
        Err(SegmentError::MissingFeature { .. })
    ));
    let neg = vec![spenders(&[1.0])[0].clone().with_clv(-3.0).unwrap()];
    assert!(matches!(
        clv.learn(&neg),
        Err(SegmentError::OutOfRange { .. })
    ));
    assert!(matches!(
        AbcParams::default()
            .shares(0.9, 0.2)
            .learn(&spenders(&[1.0])),
        Err(SegmentError::InvalidParameter { .. })
    ));
}

#[test]
fn value_tiers_known_answers() {
    let tiers = ValueTiers::new(
        Feature::Frequency,
        "one-off",
        vec![("repeat".into(), 1.0), ("regular".into(), 5.0)],
    )
    .unwrap();
    let base = vec![
        row(1, 0, 0.0, 3.0, 0.0),
        row(2, 1, 1.0, 3.0, 2.0),
        row(3, 5, 2.0, 3.0, 2.0),
    ];
    let (_, labels) = tiers.segment(&base).unwrap();
    let names: Vec<String> = labels.iter().map(|t| t.to_string()).collect();
    assert_eq!(names, vec!["one-off", "repeat", "regular"]);
    assert!(ValueTiers::new(Feature::Frequency, "a", vec![("b".into(), f64::NAN)]).is_err());
    assert_eq!(tiers.learn(&[]).unwrap_err(), SegmentError::EmptyPopulation);
}

fn arb_base() -> impl Strategy<Value = Vec<(u32, f64, f64, f64)>> {
    prop::collection::vec((0u32..20, 0.0..1.0f64, 1.0..60.0f64, 0.0..500.0f64), 1..60)
}

fn build(rows: &[(u32, f64, f64, f64)]) -> Vec<Profile> {
    rows.iter()
        .enumerate()
        .map(|(i, &(x, frac, t, m))| {
            let t_x = if x == 0 { 0.0 } else { frac * t };
            let m = if x == 0 { 0.0 } else { m };
            row(i as u64, x, t_x, t, m)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_customer_gets_exactly_one_rfm_segment(rows in arb_base()) {
        let base = build(&rows);
        let (rfm, labels) = RfmParams::default().segment(&base).unwrap();
        prop_assert_eq!(labels.len(), base.len());
        let names = rfm.rules().segment_names();
        for l in &labels {
            prop_assert_eq!(names.iter().filter(|n| **n == l.segment.as_ref()).count(), 1);
            prop_assert!((1..=5).contains(&l.scores.recency));
        }
        // Equal values get equal scores.
        for (a, la) in base.iter().zip(&labels) {
            for (b, lb) in base.iter().zip(&labels) {
                if a.frequency() == b.frequency() {
                    prop_assert_eq!(la.scores.frequency, lb.scores.frequency);
                }
            }
        }
    }

    #[test]
    fn more_spend_never_lowers_abc_class_or_value_tier(
        spend in prop::collection::vec(0.0..1000.0f64, 1..50),
        who in any::<prop::sample::Index>(),
        extra in 0.0..500.0f64,
    ) {
        let i = who.index(spend.len());
        let mut more = spend.clone();
        more[i] += extra;
        let abc = AbcParams::default();
        let (_, before) = abc.segment(&spenders(&spend)).unwrap();
        let (_, after) = abc.segment(&spenders(&more)).unwrap();
        prop_assert!(after[i] <= before[i], "{:?} -> {:?}", before[i], after[i]);
        let tiers = ValueTiers::new(Feature::TotalSpend, "low",
            vec![("mid".into(), 100.0), ("high".into(), 600.0)]).unwrap();
        let (_, tb) = tiers.segment(&spenders(&spend)).unwrap();
        let (_, ta) = tiers.segment(&spenders(&more)).unwrap();
        prop_assert!(ta[i].rank >= tb[i].rank);
    }
}
