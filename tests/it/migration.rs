//! Migration matrices on the CDNOW sample between two quarterly reviews (1997-12-31 and
//! 1998-03-31): every customer in one cell, the sums adding up to each report's, the Markov view.

use chrono::NaiveDate;
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::segment::lifecycle::LifecycleParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::{
    DiscountRate, EquityReport, Migration, MigrationDimension, MigrationState, MoveRanking,
    Valuation,
};
use customer_assets::{CustomerId, Ledger, LedgerOptions, TimeUnit, Transaction};
use rust_decimal::Decimal;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn report(log: &[Transaction], as_of: NaiveDate) -> EquityReport {
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_transactions(log.iter().cloned()).unwrap();
    Valuation::builder()
        .ledger(&ledger)
        .as_of(as_of)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .segmenter("lifecycle", LifecycleParams::default())
        .build()
        .unwrap()
        .run()
        .unwrap()
}

/// The two reviews. Customer 1's data is gone by the second (erased, say), so the `Gone` column
/// has one customer; the cohort was acquired in the first quarter of 1997, so nobody is new.
fn reviews() -> (EquityReport, EquityReport) {
    let log = crate::summarize::read_log("cdnow_sample_transactions.csv");
    let one = CustomerId::from(1u64);
    let without_one: Vec<Transaction> = log
        .iter()
        .filter(|t| t.customer() != &one)
        .cloned()
        .collect();
    (
        report(&log, day(1997, 12, 31)),
        report(&without_one, day(1998, 3, 31)),
    )
}

fn check(m: &Migration, a: &EquityReport, b: &EquityReport) {
    let what = m.dimension().to_string();
    // Every customer of either report in exactly one cell.
    let mut ids: Vec<&CustomerId> = m.cells().flat_map(|c| c.customers()).collect();
    let listed = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), listed, "{what}: a customer in two cells");
    assert_eq!(listed, a.customers.len(), "{what}");
    assert_eq!(m.customers_from(), a.customers.len(), "{what}");
    assert_eq!(m.customers_to(), b.customers.len(), "{what}");
    // Equity to the cent.
    assert_eq!(m.equity_from(), a.equity, "{what}");
    assert_eq!(m.equity_to(), b.equity, "{what}");
    let new: usize = m
        .columns()
        .map(|c| m.cell(&MigrationState::New, c).unwrap().count())
        .sum();
    assert_eq!(new, 0, "{what}");
    let gone: Vec<&CustomerId> = m
        .rows()
        .flat_map(|r| m.cell(r, &MigrationState::Gone).unwrap().customers())
        .collect();
    assert_eq!(gone, [&CustomerId::from(1u64)], "{what}");
    let gone_equity: Decimal = m
        .rows()
        .map(|r| m.cell(r, &MigrationState::Gone).unwrap().equity_from())
        .sum();
    let one = a.customers.iter().find(|c| c.id == CustomerId::from(1u64));
    assert_eq!(Some(gone_equity), one.map(|c| c.clv), "{what}");

    // The Markov view: each row with customers sums to 1.
    let t = m.transitions();
    for s in t.rows() {
        if let Some(row) = t.row(s) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{what} {s}");
        }
    }
    // Projecting the first review's mix gives back the second's retained customers by state,
    // and the one gone.
    let mix: Vec<(MigrationState, f64)> = m
        .states()
        .iter()
        .map(|s| {
            let n: usize = m.columns().map(|c| m.cell(s, c).unwrap().count()).sum();
            (s.clone(), n as f64)
        })
        .collect();
    let back = t.project(&mix).unwrap();
    for (s, projected) in back.states().iter().zip(back.customers()) {
        let retained: usize = m
            .states()
            .iter()
            .map(|r| m.cell(r, s).unwrap().count())
            .sum();
        assert!(
            (projected - retained as f64).abs() < 1e-9,
            "{what} {s}: {projected} vs {retained}"
        );
    }
    assert!((back.retained() - (a.customers.len() - 1) as f64).abs() < 1e-9);
    assert!((back.gone() - 1.0).abs() < 1e-12);
    // One period beyond the second review: its customers are retained, gone or not projectable.
    let ahead = m.projection();
    let total = ahead.retained() + ahead.gone() + ahead.unprojected_total();
    assert!((total - b.customers.len() as f64).abs() < 1e-9, "{what}");
    assert!(ahead.gone() > 0.0, "{what}");
}

#[test]
fn cdnow_sample_between_two_quarterly_reviews() {
    let (a, b) = reviews();
    assert_eq!(a.customers.len(), b.customers.len() + 1);
    for dimension in [
        MigrationDimension::AssetClass,
        MigrationDimension::segmenter("rfm"),
        MigrationDimension::segmenter("lifecycle"),
    ] {
        let m = Migration::between(&a, &b, dimension).unwrap();
        check(&m, &a, &b);
    }
    // Over a quarter customers age: some move between lifecycle stages, the biggest first.
    let m = Migration::between(&a, &b, MigrationDimension::segmenter("lifecycle")).unwrap();
    let moves = m.biggest_moves(MoveRanking::Customers, 3);
    assert!(!moves.is_empty());
    assert!(moves.windows(2).all(|w| w[0].count() >= w[1].count()));
    assert!(moves.iter().all(|c| c.from() != c.to()));

    // The JSON's cells list every customer once; the second review has no tiers.
    let json = serde_json::to_value(&m).unwrap();
    let listed: u64 = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customers"].as_u64().unwrap())
        .sum();
    assert_eq!(listed as usize, a.customers.len());
    assert_eq!(json["equity_to"], b.equity.to_string());
    assert!(Migration::between(&a, &b, MigrationDimension::Tier).is_err());
}
