//! The attribute profile on real cohorts: the full CDNOW cohort with simulated attributes
//! (deterministic from the id), and the CLVTools apparel data with its Gender and Channel.

use chrono::NaiveDate;
use customer_assets::covariates::{AttributeTable, AttributeValue};
use customer_assets::kpi::CustomerGroups;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::BgNbdParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::profile::{
    Association, AttributeProfile, Behaviour, Distribution, Measure, ProfileOptions,
};
use customer_assets::valuation::{DiscountRate, EquityReport, Valuation};
use customer_assets::Transaction;
use customer_assets::{CustomerId, Ledger, LedgerOptions, Summaries, SummaryOptions, TimeUnit};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A number in 0..1 from the id (splitmix64): the simulated attributes.
fn uniform(id: &CustomerId, salt: u64) -> f64 {
    let mut z = id
        .to_string()
        .bytes()
        .fold(salt, |h, b| h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b));
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The summaries at `as_of` and the report of BG/NBD and Gamma-Gamma fitted on them, with RFM
/// segments.
fn value(ledger: &Ledger, as_of: NaiveDate) -> (Summaries, EquityReport) {
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .unwrap();
    let report = Valuation::builder()
        .summaries(summaries.clone())
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .build()
        .unwrap()
        .run()
        .unwrap();
    (summaries, report)
}

/// The RFM segment of each customer of the report.
fn rfm_segments(report: &EquityReport) -> CustomerGroups {
    CustomerGroups::from_pairs(report.customers.iter().map(|c| {
        let label = c
            .segments
            .iter()
            .find(|(n, _)| &**n == "rfm")
            .unwrap()
            .1
            .clone();
        (c.id.clone(), label.to_string())
    }))
    .unwrap()
}

/// The full CDNOW cohort (23,570 customers) valued at 1997-09-30: an age independent of
/// behaviour shows no association; a score built from the frequency shows a strong one; the
/// region (four levels, one customer in ten without) gives every test; every RFM segment gets
/// its portrait.
#[test]
fn the_profile_runs_on_the_full_cdnow_cohort() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(crate::summarize::read_log("cdnow_master_transactions.csv"))
        .unwrap();
    let (summaries, report) = value(&ledger, day(1997, 9, 30));
    let behaviour = Behaviour::from_report(&report, &summaries).unwrap();
    assert_eq!(behaviour.len(), 23_570);
    let mut table = AttributeTable::new();
    for b in &behaviour {
        let age = 18.0 + (60.0 * uniform(&b.id, 1)).floor();
        table
            .insert(b.id.clone(), "age", AttributeValue::number(age).unwrap())
            .unwrap();
        let score = f64::from(b.frequency) + uniform(&b.id, 2);
        table
            .insert(
                b.id.clone(),
                "score",
                AttributeValue::number(score).unwrap(),
            )
            .unwrap();
        let u = uniform(&b.id, 3);
        if u >= 0.1 {
            let region = ["north", "south", "east", "west"][(u * 40.0) as usize % 4];
            table
                .insert(
                    b.id.clone(),
                    "region",
                    AttributeValue::category(region).unwrap(),
                )
                .unwrap();
        }
    }
    let segments = rfm_segments(&report);
    let profile = AttributeProfile::compute(
        &table,
        &behaviour,
        Some(&segments),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!(profile.customers, 23_570);
    assert_eq!(profile.attributes_without_behaviour, 0);
    let without_repeat = behaviour.iter().filter(|b| b.frequency == 0).count();
    assert_eq!(profile.without_spend, without_repeat);
    let rows = |name: &str| {
        profile
            .attributes
            .iter()
            .find(|a| a.attribute == name)
            .unwrap()
            .measures
            .computed()
            .cloned()
            .unwrap()
    };
    let Association::Numeric(age) = rows("age") else {
        panic!()
    };
    for row in &age {
        let c = row.pearson.computed().unwrap();
        let i = c.interval.computed().unwrap();
        // Independent of behaviour: r near 0, inside its interval.
        assert!(c.r.abs() < 0.05, "{:?}: {}", row.measure, c.r);
        assert!(i.lower < c.r && c.r < i.upper);
        assert!(row.spearman.computed().unwrap().rho.abs() < 0.05);
    }
    assert_eq!(age[1].n, 23_570 - without_repeat);
    let Association::Numeric(score) = rows("score") else {
        panic!()
    };
    assert_eq!(score[0].measure, Measure::Frequency);
    assert!(score[0].pearson.computed().unwrap().r > 0.99);
    assert!(score[0].spearman.computed().unwrap().p_value < 1e-12);
    let Association::Categorical(region) = rows("region") else {
        panic!()
    };
    let missing = profile
        .attributes
        .iter()
        .find(|a| a.attribute == "region")
        .unwrap()
        .missing;
    assert!((2_000..2_800).contains(&missing), "{missing}");
    for row in &region {
        assert_eq!(row.levels.len(), 4);
        let anova = row.anova.computed().unwrap();
        assert!(anova.eta_squared < 0.01);
        assert!(row.welch.computed().is_some());
        assert!(row.kruskal_wallis.computed().is_some());
    }
    let portrait = profile.by_segment.unwrap();
    assert_eq!(portrait.unsegmented, 0);
    let by_age = portrait
        .attributes
        .iter()
        .find(|a| a.attribute == "age")
        .unwrap();
    let total: usize = by_age.segments.iter().map(|s| s.customers).sum();
    assert_eq!(total, 23_570);
    for s in &by_age.segments {
        let Some(Distribution::Numeric(d)) = s.distribution.computed() else {
            panic!("{}", s.segment)
        };
        assert!(d.min <= d.q1 && d.q1 <= d.median && d.median <= d.q3 && d.q3 <= d.max);
    }
}

/// The CLVTools apparel data (600 customers, GPL-3, outside the repository): Gender
/// (0 = male, 1 = female) and Channel (0 = online, 1 = offline) against behaviour valued at
/// the last transaction day. Prints what it finds (`--nocapture`).
#[test]
fn the_profile_runs_on_the_apparel_data() {
    let Some(dir) = crate::clvtools_dir("profile::the_profile_runs_on_the_apparel_data") else {
        return;
    };
    let mut reader = csv::Reader::from_path(dir.join("apparelTrans.csv")).unwrap();
    let transactions: Vec<Transaction> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Transaction::purchase(
                CustomerId::new(&r[0]).unwrap(),
                NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").unwrap(),
                Transaction::parse_amount(&r[2], "row").unwrap(),
            )
            .unwrap()
        })
        .collect();
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_transactions(transactions).unwrap();
    let (summaries, report) = value(&ledger, day(2010, 12, 20));
    let behaviour = Behaviour::from_report(&report, &summaries).unwrap();
    let mut table = AttributeTable::new();
    let mut reader = csv::Reader::from_path(dir.join("apparelStaticCov.csv")).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let id = CustomerId::new(&r[0]).unwrap();
        let gender = if &r[1] == "1" { "female" } else { "male" };
        let channel = if &r[2] == "1" { "offline" } else { "online" };
        table
            .insert(
                id.clone(),
                "gender",
                AttributeValue::category(gender).unwrap(),
            )
            .unwrap();
        table
            .insert(id, "channel", AttributeValue::category(channel).unwrap())
            .unwrap();
    }
    let segments = rfm_segments(&report);
    let profile = AttributeProfile::compute(
        &table,
        &behaviour,
        Some(&segments),
        &ProfileOptions::default(),
    )
    .unwrap();
    assert_eq!(profile.customers, 600);
    assert_eq!(profile.attributes_without_behaviour, 0);
    for a in &profile.attributes {
        assert_eq!(a.missing, 0);
        let Some(Association::Categorical(rows)) = a.measures.computed() else {
            panic!("{}", a.attribute)
        };
        for row in rows {
            let anova = row.anova.computed().unwrap();
            let kw = row.kruskal_wallis.computed().unwrap();
            let welch = row.welch.computed().unwrap();
            let means: Vec<String> = row
                .levels
                .iter()
                .map(|l| {
                    let i = l.interval.computed().unwrap();
                    format!(
                        "{} {:.3} [{:.3}, {:.3}] n={}",
                        l.level, l.mean, i.lower, i.upper, l.n
                    )
                })
                .collect();
            eprintln!(
                "apparel {} × {}: {}; ANOVA F={:.2} p={:.3e} η²={:.4}; Welch p={:.3e}; \
                 Kruskal-Wallis H={:.2} p={:.3e}",
                a.attribute,
                row.measure.name(),
                means.join(", "),
                anova.f,
                anova.p_value,
                anova.eta_squared,
                welch.p_value,
                kw.h,
                kw.p_value
            );
        }
    }
    let portrait = profile.by_segment.unwrap();
    for a in &portrait.attributes {
        for s in &a.segments {
            if let Some(Distribution::Categorical(shares)) = s.distribution.computed() {
                let text: Vec<String> = shares
                    .iter()
                    .map(|l| format!("{} {:.2}", l.level, l.share))
                    .collect();
                eprintln!(
                    "apparel {} in {} (n={}): {}",
                    a.attribute,
                    s.segment,
                    s.customers,
                    text.join(", ")
                );
            }
        }
    }
}
