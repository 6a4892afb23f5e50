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
    #![proptest_config(crate::proptest_config(64))]

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

mod more {
    use super::*;
    use chrono::NaiveDate;
    use customer_assets::segment::asset_quality::{AssetClass, AssetQualityParams, Cut};
    use customer_assets::segment::kmeans::{compare_k, Cluster, KMeansParams};
    use customer_assets::segment::lifecycle::{attach_purchase_gaps, LifecycleParams, Stage};
    use customer_assets::segment::rules::{ClassRule, ClassRules, Condition, FeatureRange};
    use customer_assets::{Ledger, LedgerOptions, Transaction};

    fn days(id: u64, x: u32, t_x: f64, t: f64) -> Profile {
        Profile::new(
            CustomerId::from(id),
            TimeUnit::DAYS,
            x,
            t_x,
            t,
            Decimal::ONE,
        )
        .unwrap()
    }

    #[test]
    fn lifecycle_by_dates_known_answers() {
        let lc = LifecycleParams::default();
        let base = vec![
            Profile::prospect(CustomerId::from(0u64), TimeUnit::DAYS),
            days(1, 0, 0.0, 90.0), // first purchase 90 days ago: new (boundary inclusive)
            days(2, 3, 200.0, 290.0), // last purchase 90 days ago: active
            days(3, 3, 100.0, 280.0), // 180 days: at risk
            days(4, 3, 100.0, 281.0), // 181 days: lapsed
            days(5, 0, 0.0, 91.0), // one purchase 91 days ago: at risk
        ];
        let (_, stages) = lc.segment(&base).unwrap();
        use Stage::*;
        assert_eq!(stages, vec![Prospect, New, Active, AtRisk, Lapsed, AtRisk]);
        // Weeks convert to days: 13 weeks since the last purchase is 91 days.
        let w = Profile::new(
            CustomerId::from(9u64),
            TimeUnit::WEEKS,
            2,
            20.0,
            33.0,
            Decimal::ONE,
        )
        .unwrap();
        assert_eq!(lc.assign(&w).unwrap(), AtRisk);
        assert_eq!(lc.learn(&[]).unwrap_err(), SegmentError::EmptyPopulation);
        assert!(LifecycleParams::default()
            .windows(10.0, 200.0, 100.0)
            .learn(&base)
            .is_err());
    }

    #[test]
    fn lifecycle_reactivation_from_the_ledger_and_by_p_alive() {
        let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        // Customer 1: Jan 2, then back on Nov 20 after ten months; customer 2: steady buyer.
        for (id, m, d) in [
            (1u64, 1, 2),
            (1, 11, 20),
            (2, 1, 5),
            (2, 10, 1),
            (2, 11, 25),
        ] {
            ledger
                .add_transaction(
                    Transaction::purchase(CustomerId::from(id), day(m, d), Decimal::TEN).unwrap(),
                )
                .unwrap();
        }
        let as_of = day(12, 1);
        let summaries = ledger.summarize((as_of, TimeUnit::DAYS)).unwrap();
        let profiles =
            attach_purchase_gaps(Profile::from_summaries(&summaries), &ledger, as_of).unwrap();
        assert_eq!(profiles[0].gap_before_last(), Some(323.0));
        assert_eq!(profiles[1].gap_before_last(), Some(55.0));
        let (_, stages) = LifecycleParams::default().segment(&profiles).unwrap();
        assert_eq!(stages, vec![Stage::Reactivated, Stage::Active]);
        // By P(alive): the model's view decides activity.
        let by_model = LifecycleParams::default().by_p_alive(0.7, 0.3);
        let with_p: Vec<Profile> = profiles
            .iter()
            .zip([0.5, 0.1])
            .map(|(p, pa)| p.clone().with_p_alive(pa).unwrap())
            .collect();
        let (_, stages) = by_model.segment(&with_p).unwrap();
        assert_eq!(stages, vec![Stage::AtRisk, Stage::Lapsed]);
        assert!(matches!(
            by_model.segment(&profiles),
            Err(SegmentError::MissingFeature { .. })
        ));
        assert!(Profile::prospect(CustomerId::from(1u64), TimeUnit::DAYS)
            .with_p_alive(1.5)
            .is_err());
        assert!(Profile::prospect(CustomerId::from(1u64), TimeUnit::DAYS)
            .with_clv(f64::NAN)
            .is_err());
    }

    fn valued(id: u64, clv: f64, pa: f64) -> Profile {
        row(id, 1, 1.0, 2.0, 1.0)
            .with_clv(clv)
            .unwrap()
            .with_p_alive(pa)
            .unwrap()
    }

    #[test]
    fn asset_quality_quadrants_and_value() {
        let base = vec![
            valued(1, 500.0, 0.9),
            valued(2, 20.0, 0.8),
            valued(3, 400.0, 0.1),
            valued(4, 10.0, 0.2),
            valued(5, 400.0, 0.5),
        ];
        let (aq, classes) = AssetQualityParams::default().segment(&base).unwrap();
        use AssetClass::*;
        assert_eq!(aq.clv_cut(), 400.0); // median (3rd of 5) of 10, 20, 400, 400, 500
        assert_eq!(classes, vec![Grow, Develop, WinBack, Divest, Grow]);
        let value = aq.value_by_class(&base).unwrap();
        assert_eq!(value.iter().map(|c| c.customers).sum::<usize>(), 5);
        assert_eq!(value[0].clv, 900.0);
        assert!((value.iter().map(|c| c.clv_share).sum::<f64>() - 1.0).abs() < 1e-12);
        let fixed = AssetQualityParams::default()
            .clv_cut(Cut::Value(1000.0))
            .p_alive_cut(Cut::Value(0.95));
        let (_, all) = fixed.segment(&base).unwrap();
        assert!(all.iter().all(|c| *c == Divest));
        // Single customer and all equal: everyone at the cut is high value.
        let (_, one) = AssetQualityParams::default().segment(&base[..1]).unwrap();
        assert_eq!(one, vec![Grow]);
        assert!(matches!(
            AssetQualityParams::default().segment(&[row(1, 1, 1.0, 2.0, 1.0)]),
            Err(SegmentError::MissingFeature { .. })
        ));
        assert!(AssetQualityParams::default()
            .clv_cut(Cut::Quantile(2.0))
            .learn(&base)
            .is_err());
        assert_eq!(
            AssetQualityParams::default().learn(&[]).unwrap_err(),
            SegmentError::EmptyPopulation
        );
    }

    #[test]
    fn class_rules_on_attributes_and_features() {
        let rules = ClassRules::new(
            vec![
                ClassRule {
                    name: "vip".into(),
                    all_of: vec![Condition::Feature(FeatureRange {
                        feature: Feature::TotalSpend,
                        min: Some(1000.0),
                        max: None,
                    })],
                },
                ClassRule {
                    name: "northern web".into(),
                    all_of: vec![
                        Condition::Region(vec!["north".into()]),
                        Condition::Channel(vec!["web".into(), "app".into()]),
                        Condition::NotTag("churned".into()),
                    ],
                },
                ClassRule {
                    name: "tagged".into(),
                    all_of: vec![Condition::Tag("b2b".into())],
                },
            ],
            "other",
        )
        .unwrap();
        let base = vec![
            row(1, 10, 5.0, 9.0, 200.0),
            row(2, 1, 5.0, 9.0, 2.0)
                .with_region("north")
                .with_channel("app"),
            row(3, 1, 5.0, 9.0, 2.0)
                .with_region("north")
                .with_channel("web")
                .with_tag("churned"),
            row(4, 1, 5.0, 9.0, 2.0).with_tag("b2b"),
            row(5, 1, 5.0, 9.0, 2.0),
        ];
        let (_, classes) = rules.segment(&base).unwrap();
        let names: Vec<&str> = classes.iter().map(|c| c.as_ref()).collect();
        assert_eq!(
            names,
            vec!["vip", "northern web", "other", "tagged", "other"]
        );
        let json = serde_json::to_string(&rules).unwrap();
        let back: ClassRules = serde_json::from_str(&json).unwrap();
        assert_eq!(back.assign_all(&base).unwrap(), classes);
        let bad = ClassRule {
            name: "x".into(),
            all_of: vec![Condition::Feature(FeatureRange {
                feature: Feature::Age,
                min: Some(3.0),
                max: Some(1.0),
            })],
        };
        assert!(ClassRules::new(vec![bad], "y").is_err());
        assert_eq!(rules.learn(&[]).unwrap_err(), SegmentError::EmptyPopulation);
    }

    fn blobs() -> Vec<Profile> {
        let mut out = Vec::new();
        for (c, (x, m)) in [(1u32, 10.0), (10, 100.0), (30, 400.0)].iter().enumerate() {
            for i in 0..20u64 {
                let jitter = (i % 5) as f64 * 0.5;
                out.push(row(
                    c as u64 * 100 + i,
                    x + (i % 3) as u32,
                    10.0,
                    30.0,
                    m + jitter,
                ));
            }
        }
        out
    }

    #[test]
    fn kmeans_separates_blobs_and_is_reproducible() {
        let base = blobs();
        let params = KMeansParams::new(3)
            .features(vec![Feature::Frequency, Feature::MonetaryValue])
            .seed(42);
        let (model, labels) = params.segment(&base).unwrap();
        for blob in labels.chunks(20) {
            assert!(blob.iter().all(|l| *l == blob[0]));
        }
        assert_ne!(labels[0], labels[20]);
        assert_ne!(labels[20], labels[40]);
        assert_eq!(model.sizes().iter().sum::<usize>(), 60);
        assert!(model.silhouette(&base, 1000, 1).unwrap() > 0.8);
        let (again, labels2) = params.segment(&base).unwrap();
        assert_eq!(labels, labels2);
        assert_eq!(model, again);
        // Round trip and apply to a new customer.
        let back: customer_assets::segment::kmeans::KMeans =
            serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
        assert_eq!(
            back.assign(&row(999, 31, 1.0, 2.0, 390.0)).unwrap(),
            labels[40]
        );
        let cmp = compare_k(&params, &base, 2..=4, 1000).unwrap();
        assert_eq!(cmp.len(), 3);
        assert!(cmp[1].inertia < cmp[0].inertia);
        let best = cmp
            .iter()
            .max_by(|a, b| a.silhouette.partial_cmp(&b.silhouette).unwrap())
            .unwrap();
        assert_eq!(best.k, 3);
    }

    #[test]
    fn kmeans_edge_cases() {
        let same: Vec<Profile> = (0..5).map(|i| row(i, 2, 1.0, 3.0, 7.0)).collect();
        let (model, labels) = KMeansParams::new(3).segment(&same).unwrap();
        assert!(labels.iter().all(|l| *l == Cluster(0)));
        assert!(model.silhouette(&same, 100, 0).is_err());
        let (_, one) = KMeansParams::new(1).segment(&same[..1]).unwrap();
        assert_eq!(one, vec![Cluster(0)]);
        assert!(KMeansParams::new(6).learn(&same).is_err());
        assert!(KMeansParams::new(0).learn(&same).is_err());
        assert_eq!(
            KMeansParams::new(2).learn(&[]).unwrap_err(),
            SegmentError::EmptyPopulation
        );
        assert!(matches!(
            KMeansParams::new(2)
                .features(vec![Feature::Clv])
                .learn(&same),
            Err(SegmentError::MissingFeature { .. })
        ));
    }

    proptest! {
        #![proptest_config(crate::proptest_config(32))]

        #[test]
        fn kmeans_same_seed_same_clusters(rows in arb_base(), seed in any::<u64>(), k in 1usize..5) {
            let base = build(&rows);
            prop_assume!(k <= base.len());
            let params = KMeansParams::new(k).seed(seed);
            let (a, la) = params.segment(&base).unwrap();
            let (b, lb) = params.segment(&base).unwrap();
            prop_assert_eq!(la, lb);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn every_customer_gets_exactly_one_label_from_each_segmenter(rows in arb_base()) {
            let base: Vec<Profile> = build(&rows)
                .into_iter()
                .enumerate()
                .map(|(i, p)| p.with_clv(i as f64 * 3.0).unwrap().with_p_alive((i % 10) as f64 / 10.0).unwrap())
                .collect();
            let n = base.len();
            prop_assert_eq!(LifecycleParams::default().segment(&base).unwrap().1.len(), n);
            let (aq, classes) = AssetQualityParams::default().segment(&base).unwrap();
            prop_assert_eq!(classes.len(), n);
            let counted: usize = aq.value_by_class(&base).unwrap().iter().map(|c| c.customers).sum();
            prop_assert_eq!(counted, n);
            prop_assert_eq!(AbcParams::default().value(Feature::Clv).segment(&base).unwrap().1.len(), n);
        }
    }
}

#[test]
fn single_customer_and_all_equal_values_for_the_other_segmenters() {
    use customer_assets::segment::asset_quality::{AssetClass, AssetQualityParams};
    use customer_assets::segment::lifecycle::{LifecycleParams, Stage};
    use customer_assets::segment::rules::{ClassRules, Condition, FeatureRange};
    let same: Vec<Profile> = (0..4)
        .map(|i| {
            row(i, 2, 10.0, 30.0, 12.0)
                .with_clv(50.0)
                .unwrap()
                .with_p_alive(0.6)
                .unwrap()
        })
        .collect();
    // Lifecycle: 20 weeks = 140 days since the last purchase, 30 weeks old: at risk, all alike.
    let (_, stages) = LifecycleParams::default().segment(&same).unwrap();
    assert_eq!(stages, vec![Stage::AtRisk; 4]);
    assert_eq!(
        LifecycleParams::default().segment(&same[..1]).unwrap().1,
        vec![Stage::AtRisk]
    );
    // Asset quality: everyone sits on both cuts (median CLV, P(alive) 0.5): grow.
    let (_, classes) = AssetQualityParams::default().segment(&same).unwrap();
    assert_eq!(classes, vec![AssetClass::Grow; 4]);
    // Value tiers and rules: equal values, equal labels.
    let tiers = ValueTiers::new(Feature::Clv, "low", vec![("high".into(), 50.0)]).unwrap();
    let (_, t) = tiers.segment(&same).unwrap();
    assert!(t.iter().all(|x| x.to_string() == "high"));
    assert_eq!(tiers.segment(&same[..1]).unwrap().1.len(), 1);
    let rules = ClassRules::new(
        vec![customer_assets::segment::rules::ClassRule {
            name: "frequent".into(),
            all_of: vec![Condition::Feature(FeatureRange {
                feature: Feature::Frequency,
                min: Some(2.0),
                max: None,
            })],
        }],
        "rest",
    )
    .unwrap();
    let (_, r) = rules.segment(&same).unwrap();
    assert!(r.iter().all(|x| x.as_ref() == "frequent"));
    // RFM with Jenks on all-equal values: one class, score 1.
    let (_, j) = RfmParams::default()
        .binning(Binning::Jenks { classes: 5 })
        .segment(&same)
        .unwrap();
    assert!(j.iter().all(|l| l.scores.monetary == 1));
}

#[test]
fn labels_and_learnt_segmenters_serialize_and_apply_to_new_customers() {
    use customer_assets::segment::abc::Abc;
    use customer_assets::segment::asset_quality::{AssetClass, AssetQualityParams};
    use customer_assets::segment::kmeans::Cluster;
    use customer_assets::segment::lifecycle::Stage;
    let base = spenders(&[50.0, 30.0, 15.0, 4.0, 1.0]);
    let (abc, _) = AbcParams::default().segment(&base).unwrap();
    let back: Abc = serde_json::from_str(&serde_json::to_string(&abc).unwrap()).unwrap();
    assert_eq!(
        back.assign(&row(99, 1, 1.0, 2.0, 45.0)).unwrap(),
        AbcClass::A
    );
    assert_eq!(
        back.assign(&row(98, 1, 1.0, 2.0, 0.5)).unwrap(),
        AbcClass::C
    );
    let labels = serde_json::json!([AbcClass::B, Stage::AtRisk, AssetClass::WinBack, Cluster(3),]);
    assert_eq!(labels.to_string(), r#"["B","at_risk","win_back",3]"#);
    let (rfm, l) = RfmParams::default().segment(&base).unwrap();
    let json = serde_json::to_value(&l[0]).unwrap();
    assert_eq!(json["segment"], "Lost"); // equal recency and frequency: both score 1
    assert_eq!(json["scores"]["recency"], 1);
    let _ = rfm;
    let valued: Vec<Profile> = base
        .iter()
        .map(|p| p.clone().with_clv(10.0).unwrap().with_p_alive(0.9).unwrap())
        .collect();
    let (aq, _) = AssetQualityParams::default().segment(&valued).unwrap();
    let aq_back: customer_assets::segment::asset_quality::AssetQuality =
        serde_json::from_str(&serde_json::to_string(&aq).unwrap()).unwrap();
    assert_eq!(aq_back, aq);
}

#[test]
fn profiles_round_trip_and_invalid_ones_are_refused() {
    let p = row(7, 3, 4.0, 9.0, 12.5)
        .with_p_alive(0.4)
        .unwrap()
        .with_region("north");
    let json = serde_json::to_string(&p).unwrap();
    let back: Profile = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
    let bad = json.replace("\"p_alive\":0.4", "\"p_alive\":1.4");
    assert!(serde_json::from_str::<Profile>(&bad).is_err());
    let bad = json.replace("\"recency\":4.0", "\"recency\":40.0");
    assert!(serde_json::from_str::<Profile>(&bad).is_err());
}
