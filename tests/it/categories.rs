//! Product categories through the whole valuation: a simulated base whose transactions carry
//! categories, valued with the preference segmenter and the KPIs; and the degenerate bases (one
//! customer, every purchase in one category, no category at all), which still give a report.

use chrono::NaiveDate;
use customer_assets::kpi::KpiReport;
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParameters, GammaGammaParams};
use customer_assets::segment::preference::PreferenceParams;
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::summary::ShareBasis;
use customer_assets::valuation::{DiscountRate, EquityReport, Valuation};
use customer_assets::{CustomerId, Ledger, LedgerOptions, TimeUnit, Transaction};
use rust_decimal::Decimal;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

/// Each customer's preference label in the report, by customer.
fn labels(report: &EquityReport, segmenter: &str) -> Vec<(CustomerId, String)> {
    report
        .customers
        .iter()
        .map(|c| {
            let label = c
                .segments
                .iter()
                .find(|(name, _)| &**name == segmenter)
                .map(|(_, label)| label.to_string())
                .unwrap();
            (c.id.clone(), label)
        })
        .collect()
}

/// A valuation of `ledger` at fixed models (no fit, so that any base gives a report), with the
/// preference segmenter on spend and on purchases and the KPIs of the last 91 days.
fn value_at_fixed_models(ledger: &Ledger) -> EquityReport {
    let bg = BgNbd::new(
        BgNbdParameters {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    let gg = GammaGamma::new(GammaGammaParameters {
        p: 6.0,
        q: 3.0,
        gamma: 15.0,
    })
    .unwrap();
    Valuation::builder()
        .ledger(ledger)
        .as_of(day(12, 31))
        .unit(TimeUnit::WEEKS)
        .transaction_model(bg)
        .spend_model(gg)
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("preference", PreferenceParams::default())
        .segmenter(
            "by purchases",
            PreferenceParams::default().basis(ShareBasis::Purchases),
        )
        .kpis(91)
        .build()
        .unwrap()
        .run()
        .unwrap()
}

#[test]
fn a_simulated_base_with_categories_is_valued_with_the_preference_segmenter() {
    let base = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4).unwrap(),
        &SimulationOptions::new(600, day(1, 1), day(12, 31), TimeUnit::WEEKS, 3)
            .acquisition_days(84)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).unwrap()),
    )
    .unwrap();
    let ids: Vec<CustomerId> = base.customers().iter().map(|c| c.id().clone()).collect();
    let index = |id: &CustomerId| ids.iter().position(|c| c == id).unwrap();
    // A third buy only books; a third alternate books and toys, purchase by purchase; a third
    // carry no category.
    let mut ledger = Ledger::new(LedgerOptions::default());
    let mut nth = vec![0usize; ids.len()];
    for t in base.transactions() {
        let i = index(t.customer());
        nth[i] += 1;
        let t = match (i % 3, nth[i] % 2) {
            (0, _) | (1, 0) => t.clone().with_category("books").unwrap(),
            (1, _) => t.clone().with_category("toys").unwrap(),
            _ => t.clone(),
        };
        ledger.add_transaction(t).unwrap();
    }
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(day(12, 31))
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("preference", PreferenceParams::default())
        .kpis(91)
        .build()
        .unwrap()
        .run()
        .unwrap();
    let mut seen = [0usize; 3];
    for (id, label) in labels(&report, "preference") {
        let i = index(&id);
        seen[i % 3] += 1;
        match i % 3 {
            0 => assert_eq!(label, "mostly books", "{id}"),
            2 => assert_eq!(label, "uncategorised", "{id}"),
            _ => assert!(
                ["mostly books", "mostly toys", "mixed"].contains(&label.as_str()),
                "{id}: {label}"
            ),
        }
    }
    assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
    let segments = &report
        .by_segment
        .iter()
        .find(|s| s.segmenter == "preference")
        .unwrap()
        .segments;
    let customers: usize = segments.iter().map(|s| s.customers).sum();
    assert_eq!(customers, report.customers.len());

    let kpis = report.kpis.as_ref().unwrap();
    let names: Vec<String> = kpis
        .categories
        .iter()
        .map(|k| k.category.to_string())
        .collect();
    assert_eq!(names, ["books", "toys", "(uncategorised)"]);
    let shares: f64 = kpis.categories.iter().map(|k| k.spend_share.unwrap()).sum();
    assert!((shares - 1.0).abs() < 1e-12, "{shares}");
    for k in &kpis.categories {
        let rate = k.repeat_rate.unwrap();
        assert!((0.0..=1.0).contains(&rate) && k.customers > 0, "{k:?}");
    }
    let revenue: Decimal = kpis.categories.iter().map(|k| k.net_revenue).sum();
    assert_eq!(revenue, kpis.current.unwrap().net_revenue);
}

#[test]
fn one_customer_buying_in_one_category_is_mostly_that_category_on_either_basis() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (m, d, amount) in [(3, 1, 20), (6, 5, 35), (11, 20, 15)] {
        let t = Transaction::purchase(CustomerId::from(1u64), day(m, d), Decimal::from(amount))
            .unwrap()
            .with_category("garden")
            .unwrap();
        ledger.add_transaction(t).unwrap();
    }
    let report = value_at_fixed_models(&ledger);
    let want = vec![(CustomerId::from(1u64), "mostly garden".to_string())];
    assert_eq!(labels(&report, "preference"), want);
    assert_eq!(labels(&report, "by purchases"), want);
    let kpis = report.kpis.unwrap();
    // Only the November purchase lies in the 91 days: one buyer, no repeat, all the revenue.
    assert_eq!(kpis.categories.len(), 1);
    let garden = &kpis.categories[0];
    assert_eq!(
        (garden.customers, garden.repeat_rate, garden.spend_share),
        (1, Some(0.0), Some(1.0))
    );
}

#[test]
fn a_base_without_categories_is_valued_as_before_with_every_customer_uncategorised() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (id, m, d, amount) in [
        (1u64, 2, 1, 20),
        (1, 10, 5, 30),
        (2, 4, 4, 10),
        (3, 12, 1, 0),
    ] {
        let t =
            Transaction::purchase(CustomerId::from(id), day(m, d), Decimal::from(amount)).unwrap();
        ledger.add_transaction(t).unwrap();
    }
    let report = value_at_fixed_models(&ledger);
    for (_, label) in labels(&report, "preference")
        .into_iter()
        .chain(labels(&report, "by purchases"))
    {
        assert_eq!(label, "uncategorised");
    }
    let kpis = report.kpis.unwrap();
    assert!(kpis.categories.is_empty());
    assert_eq!(
        kpis,
        KpiReport::new(&ledger, day(12, 31), 91).unwrap(),
        "the valuation's KPIs are the ledger's"
    );
    let json = serde_json::to_string(&kpis).unwrap();
    assert!(!json.contains("categories"), "{json}");
}
