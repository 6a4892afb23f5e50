//! KPIs: known answers, edge cases and invariants.

use chrono::{Datelike, NaiveDate};
use customer_assets::kpi::{
    cac_payback_periods, campaign_roi, clv_to_cac, cohort_retention, net_promoter_score,
    purchase_metrics, repeat_purchase_rate, retention, satisfaction, CohortGrain, Concentration,
    KpiError, KpiReport, Period,
};
use customer_assets::{CustomerId, Feedback, Ledger, LedgerOptions, TimeUnit, Transaction};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, day).unwrap()
}

fn ledger(rows: &[(u64, u32, u32, i64)]) -> Ledger {
    let mut l = Ledger::new(LedgerOptions::default());
    for &(id, m, day, amount) in rows {
        l.add_transaction(
            Transaction::purchase(CustomerId::from(id), d(m, day), Decimal::from(amount)).unwrap(),
        )
        .unwrap();
    }
    l
}

fn month(m: u32) -> Period {
    let end = NaiveDate::from_ymd_opt(2024, m + 1, 1)
        .unwrap()
        .pred_opt()
        .unwrap();
    Period::new(d(m, 1), end).unwrap()
}

#[test]
fn retention_and_churn_known_answer() {
    // Jan buyers 1, 2, 3, 4; Feb buyers 1, 3, 5.
    let l = ledger(&[
        (1, 1, 2, 10),
        (2, 1, 3, 10),
        (3, 1, 4, 10),
        (4, 1, 5, 10),
        (1, 2, 2, 10),
        (3, 2, 9, 10),
        (5, 2, 9, 10),
    ]);
    let r = retention(&l, month(1), month(2)).unwrap();
    assert_eq!((r.base, r.retained), (4, 2));
    assert_eq!((r.retention_rate, r.churn_rate), (0.5, 0.5));
    assert!(matches!(
        retention(&l, month(2), month(1)),
        Err(KpiError::InvalidPeriod(_))
    ));
    assert!(matches!(
        retention(&l, month(3), month(4)),
        Err(KpiError::Empty { .. })
    ));
    assert!(Period::new(d(2, 1), d(1, 1)).is_err());
    let p = Period::ending(d(3, 31), 31).unwrap();
    assert_eq!(p.start(), d(3, 1));
    assert_eq!(
        p.preceding().unwrap(),
        Period::new(d(1, 30), d(2, 29)).unwrap()
    );
}

#[test]
fn cohort_matrix_known_answer() {
    // Cohort Jan: 1, 2 (1 buys again in Mar); cohort Feb: 3 (buys again in Feb and Mar).
    let l = ledger(&[
        (1, 1, 5, 10),
        (2, 1, 20, 10),
        (3, 2, 1, 10),
        (3, 2, 15, 10),
        (1, 3, 3, 10),
        (3, 3, 30, 10),
    ]);
    let m = cohort_retention(&l, CohortGrain::Months, d(3, 31)).unwrap();
    assert_eq!(m.rows.len(), 2);
    assert_eq!(m.rows[0].start, d(1, 1));
    assert_eq!(m.rows[0].size, 2);
    assert_eq!(m.rows[0].active, vec![2, 0, 1]);
    assert_eq!(m.rows[0].retention, vec![1.0, 0.0, 0.5]);
    assert_eq!(m.rows[1].active, vec![1, 1]);
    let weeks = cohort_retention(&l, CohortGrain::Days(28), d(3, 31)).unwrap();
    assert_eq!(weeks.rows[0].start, d(1, 5));
    assert_eq!(weeks.rows[0].size, 3); // Jan 5 ..= Feb 1 holds all three first purchases
    assert!(cohort_retention(&l, CohortGrain::Days(0), d(3, 31)).is_err());
    assert!(matches!(
        cohort_retention(&l, CohortGrain::Months, d(1, 1)),
        Err(KpiError::Empty { .. })
    ));
}

#[test]
fn purchase_metrics_and_repeat_rate_known_answers() {
    let mut l = ledger(&[(1, 1, 2, 10), (1, 1, 2, 30), (2, 1, 9, 20), (1, 1, 20, 40)]);
    l.add_transaction(
        Transaction::refund(CustomerId::from(2u64), d(1, 10), Decimal::from(20)).unwrap(),
    )
    .unwrap();
    let m = purchase_metrics(&l, month(1)).unwrap();
    assert_eq!((m.customers, m.orders), (2, 4));
    assert_eq!(m.net_revenue, Decimal::from(80));
    assert_eq!(m.purchase_frequency, 2.0);
    assert_eq!(m.average_order_value, Decimal::from(20));
    assert_eq!(m.revenue_per_customer, Decimal::from(40));
    assert!(matches!(
        purchase_metrics(&l, month(5)),
        Err(KpiError::Empty { .. })
    ));
    let s = ledger(&[(1, 1, 2, 10), (1, 1, 9, 10), (2, 1, 3, 5), (3, 1, 4, 5)])
        .summarize((d(1, 31), TimeUnit::DAYS))
        .unwrap();
    assert!((repeat_purchase_rate(&s).unwrap() - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn nps_and_satisfaction_known_answers() {
    let f = |id: u64, day, sat: Option<f64>, rec: Option<u8>| {
        Feedback::new(
            CustomerId::from(id),
            d(1, day),
            sat.map(|s| (s, 1.0, 5.0)),
            rec,
        )
        .unwrap()
    };
    let fb = vec![
        f(1, 2, Some(5.0), Some(10)),
        f(2, 3, Some(4.0), Some(9)),
        f(3, 4, Some(2.0), Some(6)),
        f(4, 5, None, Some(8)),
        f(5, 6, Some(1.0), None),
    ];
    let n = net_promoter_score(&fb, month(1)).unwrap();
    assert_eq!((n.promoters, n.passives, n.detractors), (2, 1, 1));
    assert_eq!(n.score, 25.0);
    let s = satisfaction(&fb, month(1)).unwrap();
    assert_eq!(s.responses, 4);
    assert_eq!(s.mean, Some(3.0));
    assert_eq!(s.mean_normalized, 0.5);
    assert!(matches!(
        net_promoter_score(&fb, month(2)),
        Err(KpiError::Empty { .. })
    ));
    assert!(satisfaction(&[], month(1)).is_err());
}

#[test]
fn concentration_known_answers_and_edge_cases() {
    let c = Concentration::new(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert!((c.gini() - 0.25).abs() < 1e-12);
    assert!((c.top_share(0.25).unwrap() - 0.4).abs() < 1e-12);
    assert!((c.top_share(0.5).unwrap() - 0.7).abs() < 1e-12);
    assert_eq!(c.lorenz_points(10).len(), 5);
    assert_eq!(c.lorenz_points(3), vec![(0.0, 0.0), (0.5, 0.3), (1.0, 1.0)]);
    // All equal and a single customer: no concentration.
    let eq = Concentration::new(&[7.0; 5]).unwrap();
    assert!(eq.gini().abs() < 1e-12);
    assert!((eq.top_share(0.2).unwrap() - 0.2).abs() < 1e-12);
    let one = Concentration::new(&[3.0]).unwrap();
    assert_eq!(one.gini(), 0.0);
    assert!(matches!(
        Concentration::new(&[]),
        Err(KpiError::Empty { .. })
    ));
    assert!(Concentration::new(&[0.0, 0.0]).is_err());
    assert!(Concentration::new(&[1.0, f64::NAN]).is_err());
    assert!(Concentration::new(&[1.0, -1.0]).is_err());
    assert!(c.top_share(1.5).is_err());
}

#[test]
fn unit_economics_known_answers() {
    assert_eq!(
        clv_to_cac(Decimal::from(300), Decimal::from(100)).unwrap(),
        3.0
    );
    assert_eq!(
        cac_payback_periods(Decimal::from(120), Decimal::from(10)).unwrap(),
        12.0
    );
    assert_eq!(
        campaign_roi(Decimal::from(1000), Decimal::from(1500)).unwrap(),
        0.5
    );
    assert!(clv_to_cac(Decimal::ONE, Decimal::ZERO).is_err());
    assert!(cac_payback_periods(Decimal::ONE, Decimal::ZERO).is_err());
    assert!(campaign_roi(Decimal::NEGATIVE_ONE, Decimal::ONE).is_err());
}

#[test]
fn kpi_report_on_the_cdnow_sample() {
    let mut l = Ledger::new(LedgerOptions::default());
    let mut reader =
        csv::Reader::from_path(crate::data_file("cdnow_sample_transactions.csv")).unwrap();
    for row in reader.records() {
        let row = row.unwrap();
        let t = Transaction::purchase(
            CustomerId::new(&row[0]).unwrap(),
            NaiveDate::parse_from_str(&row[1], "%Y-%m-%d").unwrap(),
            row[3].parse().unwrap(),
        )
        .unwrap();
        l.add_transaction(t).unwrap();
    }
    let end = NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
    let r = KpiReport::new(&l, end, 91).unwrap();
    // Every CDNOW customer was acquired in the first quarter of 1997.
    assert_eq!(r.cohorts.rows.len(), 3);
    assert_eq!(r.cohorts.rows.iter().map(|c| c.size).sum::<usize>(), 2357);
    // Repeat-purchase rate agrees with the summary file: 946 of 2,357 have x >= 1.
    let repeaters = csv::Reader::from_path(crate::data_file("cdnow_summary.csv"))
        .unwrap()
        .records()
        .filter(|r| &r.as_ref().unwrap()[1] != "0")
        .count();
    assert!((r.repeat_purchase_rate - repeaters as f64 / 2357.0).abs() < 1e-12);
    let ret = r.retention.unwrap();
    assert!(ret.retention_rate > 0.0 && ret.retention_rate < 1.0);
    let gini = r.gini.unwrap();
    assert!(gini > 0.0 && gini < 1.0);
}

/// The cohort matrix by its definition, hashing ids: each customer's first period and the set of
/// periods with a purchase on or before `end` (`period` numbers a day from the first purchase's
/// day); one row per first period (oldest first), cell k the customers buying k periods later.
fn cohorts_by_definition(
    rows: &[(u64, u32, u32, i64)],
    end: NaiveDate,
    period: impl Fn(NaiveDate, NaiveDate) -> usize,
) -> Vec<(usize, Vec<usize>)> {
    use std::collections::{BTreeMap, BTreeSet};
    let dates = rows.iter().map(|r| d(r.1, r.2)).filter(|day| *day <= end);
    let Some(origin) = dates.min() else {
        return Vec::new();
    };
    let mut periods: BTreeMap<u64, BTreeSet<usize>> = BTreeMap::new();
    for &(id, m, day, _) in rows {
        if d(m, day) <= end {
            periods
                .entry(id)
                .or_default()
                .insert(period(origin, d(m, day)));
        }
    }
    let last = period(origin, end);
    let mut matrix: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for set in periods.values() {
        let first = *set.first().unwrap();
        let row = matrix
            .entry(first)
            .or_insert_with(|| vec![0; last - first + 1]);
        for p in set {
            row[p - first] += 1;
        }
    }
    matrix.into_iter().collect()
}

proptest! {
    #![proptest_config(crate::proptest_config(64))]

    /// Retention, purchase metrics and the cohort matrix count customers as their definitions do,
    /// whatever the order of the log and however ids interleave (the ledger groups rows by
    /// customer slots, not by hashing).
    #[test]
    fn customer_counts_match_their_definitions(
        rows in prop::collection::vec((0u64..40, 1u32..=12, 1u32..=28, 1i64..100), 1..300),
        end_month in 1u32..=12,
    ) {
        use std::collections::BTreeSet;
        let l = ledger(&rows);
        let end = NaiveDate::from_ymd_opt(2024, end_month, 28).unwrap();
        let buyers = |m: u32| rows.iter().filter(|r| r.1 == m).map(|r| r.0).collect::<BTreeSet<_>>();
        for m in 2..=11 {
            let (before, now) = (buyers(m - 1), buyers(m));
            match retention(&l, month(m - 1), month(m)) {
                Ok(r) => {
                    prop_assert_eq!(r.base, before.len());
                    prop_assert_eq!(r.retained, before.intersection(&now).count());
                }
                Err(_) => prop_assert!(before.is_empty()),
            }
            if let Ok(p) = purchase_metrics(&l, month(m)) {
                prop_assert_eq!(p.customers, now.len());
                prop_assert_eq!(p.orders, rows.iter().filter(|r| r.1 == m).count());
            }
        }
        // Months (at most 12 periods: a bit mask per customer) and days (up to 365 periods: a
        // counting sort by customer), against the definition.
        let months = |origin: NaiveDate, day: NaiveDate| (day.month0() - origin.month0()) as usize;
        let days = |origin: NaiveDate, day: NaiveDate| (day - origin).num_days() as usize;
        for (grain, period) in [
            (CohortGrain::Months, &months as &dyn Fn(NaiveDate, NaiveDate) -> usize),
            (CohortGrain::Days(1), &days),
        ] {
            let expected = cohorts_by_definition(&rows, end, period);
            match cohort_retention(&l, grain, end) {
                Ok(matrix) => {
                    let origin = matrix.rows[0].start;
                    let got: Vec<(usize, Vec<usize>)> = matrix
                        .rows
                        .iter()
                        .map(|r| (period(origin, r.start), r.active.clone()))
                        .collect();
                    prop_assert_eq!(got, expected);
                }
                Err(_) => prop_assert!(expected.is_empty()),
            }
        }
    }

    #[test]
    fn nps_stays_within_bounds(scores in prop::collection::vec(0u8..=10, 1..100)) {
        let fb: Vec<Feedback> = scores.iter().enumerate().map(|(i, &s)| {
            Feedback::new(CustomerId::from(i as u64), d(1, 1), None, Some(s)).unwrap()
        }).collect();
        let n = net_promoter_score(&fb, month(1)).unwrap();
        prop_assert!((-100.0..=100.0).contains(&n.score));
        prop_assert_eq!(n.promoters + n.passives + n.detractors, scores.len());
    }

    #[test]
    fn gini_and_shares_stay_in_range(values in prop::collection::vec(0.0..1e6f64, 1..80)) {
        prop_assume!(values.iter().sum::<f64>() > 0.0);
        let c = Concentration::new(&values).unwrap();
        prop_assert!((0.0..1.0).contains(&c.gini()));
        let mut last = 0.0;
        for x in [0.0, 0.1, 0.2, 0.5, 1.0] {
            let s = c.top_share(x).unwrap();
            prop_assert!(s >= last - 1e-12 && s >= x - 1e-9 && s <= 1.0 + 1e-12);
            last = s;
        }
    }
}

#[test]
fn kpis_for_a_single_customer_and_all_equal_answers() {
    let l = ledger(&[(1, 1, 2, 10), (1, 2, 2, 10)]);
    let r = retention(&l, month(1), month(2)).unwrap();
    assert_eq!((r.base, r.retained, r.retention_rate), (1, 1, 1.0));
    let m = cohort_retention(&l, CohortGrain::Months, d(2, 29)).unwrap();
    assert_eq!(m.rows.len(), 1);
    assert_eq!(m.rows[0].retention, vec![1.0, 1.0]);
    let p = purchase_metrics(&l, month(2)).unwrap();
    assert_eq!((p.customers, p.orders, p.purchase_frequency), (1, 1, 1.0));
    let all_nine: Vec<Feedback> = (0..5)
        .map(|i| Feedback::new(CustomerId::from(i as u64), d(1, 3), None, Some(9)).unwrap())
        .collect();
    assert_eq!(
        net_promoter_score(&all_nine, month(1)).unwrap().score,
        100.0
    );
    let all_zero: Vec<Feedback> = (0..3)
        .map(|i| Feedback::new(CustomerId::from(i as u64), d(1, 3), None, Some(0)).unwrap())
        .collect();
    assert_eq!(
        net_promoter_score(&all_zero, month(1)).unwrap().score,
        -100.0
    );
    assert!(matches!(
        net_promoter_score(&[], month(1)),
        Err(KpiError::Empty { .. })
    ));
    assert!(matches!(
        purchase_metrics(&Ledger::new(LedgerOptions::default()), month(1)),
        Err(KpiError::Empty { .. })
    ));
}

/// Free orders only: the KPIs are computed, with no spend concentration (nothing to share out).
#[test]
fn a_log_of_free_orders_has_kpis_without_concentration() {
    use chrono::NaiveDate;
    use customer_assets::kpi::KpiReport;
    use customer_assets::{Ledger, LedgerOptions, Transaction};
    let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (c, m, d) in [(1u64, 1, 1), (1, 2, 1), (2, 1, 5)] {
        ledger
            .add_transaction(
                Transaction::purchase(c.into(), day(m, d), rust_decimal::Decimal::ZERO).unwrap(),
            )
            .unwrap();
    }
    let r = KpiReport::new(&ledger, day(3, 1), 30).unwrap();
    assert_eq!(r.gini, None);
    assert!(r.top_shares.is_empty());
    assert_eq!(r.repeat_purchase_rate, 0.5);
}

proptest! {
    #![proptest_config(crate::proptest_config(64))]

    /// The KPI report reads the log once for all its KPIs: what it reports equals what each
    /// KPI's own function finds, with returns in the log, and over spans of cohort months
    /// within a word (up to 64) and past it.
    #[test]
    fn the_kpi_report_equals_its_kpis_one_by_one(
        rows in prop::collection::vec((0u64..30, 0u64..3_000, 1i64..500, prop::bool::weighted(0.15)), 1..200),
        span in prop::sample::select(vec![400u64, 3_000]),
        period_days in 1u32..200,
    ) {
        let origin = NaiveDate::from_ymd_opt(2017, 1, 1).unwrap();
        // Returns kept in the log but not netted in the summaries: a return may come first.
        let mut l = Ledger::new(LedgerOptions::default().returns(customer_assets::ReturnPolicy::Ignore));
        for &(id, day, amount, is_return) in &rows {
            let date = origin + chrono::Days::new(day % span);
            let id = CustomerId::from(id);
            let t = match is_return {
                true => Transaction::refund(id, date, Decimal::from(amount)),
                false => Transaction::purchase(id, date, Decimal::from(amount)),
            };
            l.add_transaction(t.unwrap()).unwrap();
        }
        let end = origin + chrono::Days::new(span * 9 / 10);
        let report = match KpiReport::new(&l, end, period_days) {
            Ok(report) => report,
            Err(e) => {
                // Only when nothing was bought by the end date.
                prop_assert!(matches!(e, KpiError::Empty { .. }), "{}", e);
                return Ok(());
            }
        };
        // Net revenue and orders by their definitions, over the rows themselves.
        for m in std::iter::once(&report.to_date).chain(&report.current) {
            let dated = |&&(_, day, _, _): &&(u64, u64, i64, bool)| {
                m.period.contains(origin + chrono::Days::new(day % span))
            };
            let net: i64 = rows.iter().filter(dated).map(|r| if r.3 { -r.2 } else { r.2 }).sum();
            prop_assert_eq!(m.net_revenue, Decimal::from(net));
            prop_assert_eq!(m.orders, rows.iter().filter(dated).filter(|r| !r.3).count());
        }
        prop_assert_eq!(report.current, purchase_metrics(&l, report.period).ok());
        prop_assert_eq!(Ok(report.to_date), purchase_metrics(&l, report.to_date.period));
        prop_assert_eq!(
            report.retention,
            retention(&l, report.previous_period, report.period).ok()
        );
        prop_assert_eq!(Ok(report.cohorts), cohort_retention(&l, CohortGrain::Months, end));
    }
}
