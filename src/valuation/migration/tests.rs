use std::collections::BTreeMap;

use proptest::prelude::*;

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::records::{CustomerId, Purpose};
use crate::segment::asset_quality::AssetClass;
use crate::test_support::proptest_config;
use crate::time::TimeUnit;
use crate::valuation::report::EquityReport;
use crate::valuation::report::{ConsentFilter, CustomerValue, SegmentEquity, ValueAtRisk};

/// One customer row: id, asset class, CLV in cents, RFM label, tier.
type Row = (u64, AssetClass, i64, &'static str, Option<&'static str>);

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, m, d).unwrap()
}

/// A report with these customers (in the order given) and an `rfm` segmenter; the rest of the
/// report is filler the migration does not read.
fn report(as_of: NaiveDate, rows: &[Row]) -> EquityReport {
    let rfm: Arc<str> = Arc::from("rfm");
    let customers: Vec<CustomerValue> = rows
        .iter()
        .map(|&(id, class, cents, label, tier)| CustomerValue {
            id: CustomerId::from(id),
            segments: vec![(rfm.clone(), Arc::from(label))],
            tier: tier.map(Arc::from),
            p_alive: 0.5,
            expected_purchases: 1.0,
            expected_spend: 1.0,
            dert: 1.0,
            clv: Decimal::new(cents, 2),
            asset_class: class,
            referrals: 0,
            referral_value: Decimal::ZERO,
        })
        .collect();
    EquityReport {
        as_of,
        unit: TimeUnit::WEEKS,
        horizon: 52.0,
        margin: 0.3,
        discount_rate: 0.002,
        equity: customers.iter().map(|c| c.clv).sum(),
        customers,
        by_segment: vec![SegmentEquity {
            segmenter: "rfm".into(),
            segments: Vec::new(),
        }],
        by_tier: Vec::new(),
        by_asset_class: Vec::new(),
        value_at_risk: ValueAtRisk {
            below_p_alive: 0.3,
            customers: 0,
            clv: Decimal::ZERO,
            historical_spend: Decimal::ZERO,
        },
        top_shares: Vec::new(),
        gini: None,
        asset_cuts: (0.0, 0.5),
        kpis: None,
        models: Vec::new(),
        customers_at_mean_spend: 0,
        firm: None,
        intervals: None,
        interval_note: None,
        consent: None,
        feedback: None,
        referrals: None,
        covariates: None,
    }
}

use AssetClass::{Develop, Divest, Grow, WinBack};

/// Five customers at the end of March, five at the end of June: 4 leaves, 6 arrives.
fn march() -> EquityReport {
    report(
        day(3, 31),
        &[
            (1, Grow, 10000, "555", Some("gold")),
            (2, Grow, 8000, "444", Some("silver")),
            (3, Develop, 1000, "333", None),
            (4, WinBack, 5000, "222", Some("silver")),
            (5, Divest, 100, "111", None),
        ],
    )
}

fn june() -> EquityReport {
    report(
        day(6, 30),
        &[
            (1, Grow, 12000, "555", Some("gold")),
            (2, WinBack, 3000, "222", Some("silver")),
            (3, Grow, 4000, "444", Some("silver")),
            (5, Divest, 50, "111", None),
            (6, Develop, 500, "333", None),
        ],
    )
}

fn class(c: AssetClass) -> MigrationState {
    MigrationState::Class(c)
}

fn ids(cell: &MigrationCell) -> Vec<u64> {
    cell.customers()
        .iter()
        .filter_map(CustomerId::as_u64)
        .collect()
}

/// Every non-empty cell as (from, to, ids, equity at D1, equity at D2), as text.
fn filled(m: &Migration) -> Vec<(String, String, Vec<u64>, String, String)> {
    m.cells()
        .filter(|c| c.count() > 0)
        .map(|c| {
            (
                c.from().to_string(),
                c.to().to_string(),
                ids(c),
                c.equity_from().to_string(),
                c.equity_to().to_string(),
            )
        })
        .collect()
}

fn row(
    from: &str,
    to: &str,
    ids: &[u64],
    a: &str,
    b: &str,
) -> (String, String, Vec<u64>, String, String) {
    (from.into(), to.into(), ids.to_vec(), a.into(), b.into())
}

#[test]
fn asset_classes_by_hand() {
    let m = Migration::between(&march(), &june(), MigrationDimension::AssetClass).unwrap();
    let names: Vec<String> = m.rows().map(ToString::to_string).collect();
    assert_eq!(names, ["grow", "develop", "win back", "divest", "(new)"]);
    let names: Vec<String> = m.columns().map(ToString::to_string).collect();
    assert_eq!(names, ["grow", "develop", "win back", "divest", "(gone)"]);
    // On paper, row by row:
    //   grow:     1 stays (100.00 → 120.00), 2 falls to win back (80.00 → 30.00);
    //   develop:  3 rises to grow (10.00 → 40.00);
    //   win back: 4 is not in June's report: gone (50.00 → 0);
    //   divest:   5 stays (1.00 → 0.50);
    //   new:      6 was not in March's report, develop in June (0 → 5.00).
    assert_eq!(
        filled(&m),
        vec![
            row("grow", "grow", &[1], "100.00", "120.00"),
            row("grow", "win back", &[2], "80.00", "30.00"),
            row("develop", "grow", &[3], "10.00", "40.00"),
            row("win back", "(gone)", &[4], "50.00", "0"),
            row("divest", "divest", &[5], "1.00", "0.50"),
            row("(new)", "develop", &[6], "0", "5.00"),
        ]
    );
    // 25 cells in all, 19 of them empty but present; (new, gone) cannot hold anyone.
    assert_eq!(m.cells().count(), 25);
    let empty = m.cell(&MigrationState::New, &MigrationState::Gone).unwrap();
    assert_eq!(empty.count(), 0);
    assert!(m.cell(&MigrationState::Gone, &class(Grow)).is_none());
    assert!(m.cell(&class(Grow), &MigrationState::New).is_none());
    assert_eq!(ids(m.cell(&class(Develop), &class(Grow)).unwrap()), [3]);
    // 100 + 80 + 10 + 50 + 1 = 241.00 in March; 120 + 30 + 40 + 0.50 + 5 = 195.50 in June.
    assert_eq!(m.equity_from(), march().equity);
    assert_eq!(m.equity_from().to_string(), "241.00");
    assert_eq!(m.equity_to().to_string(), "195.50");
    assert_eq!((m.customers_from(), m.customers_to()), (5, 5));
}

#[test]
fn transition_shares_and_projection_by_hand() {
    let m = Migration::between(&march(), &june(), MigrationDimension::AssetClass).unwrap();
    let t = m.transitions();
    // grow: 2 customers, 1 stays, 1 to win back; develop: 1, to grow; win back: 1, gone;
    // divest: 1, stays.
    assert_eq!(t.row(&class(Grow)), Some(&[0.5, 0.0, 0.5, 0.0, 0.0][..]));
    assert_eq!(t.row(&class(Develop)), Some(&[1.0, 0.0, 0.0, 0.0, 0.0][..]));
    assert_eq!(t.share(&class(WinBack), &MigrationState::Gone), Some(1.0));
    assert_eq!(t.share(&class(Divest), &class(Divest)), Some(1.0));
    assert_eq!(t.row(&MigrationState::New), None);
    // June's mix: grow 2 (1, 3), develop 1 (6), win back 1 (2), divest 1 (5). One period on:
    // grow 2 × ½ + develop 1 × 1 = 2 in grow; grow 2 × ½ = 1 in win back; divest 1; win back's
    // 1 is gone; nobody left in develop.
    let p = m.projection();
    assert_eq!(p.customers(), &[2.0, 0.0, 1.0, 1.0]);
    assert_eq!(
        (p.retained(), p.gone(), p.unprojected_total()),
        (4.0, 1.0, 0.0)
    );
    assert_eq!(p.customers_in(&class(WinBack)), Some(1.0));
    assert_eq!(p.shares(), Some(vec![0.5, 0.0, 0.25, 0.25]));
    // March's mix through the same matrix gives back June's retained customers by state.
    let march_mix: Vec<(MigrationState, f64)> = vec![
        (class(Grow), 2.0),
        (class(Develop), 1.0),
        (class(WinBack), 1.0),
        (class(Divest), 1.0),
    ];
    let back = t.project(&march_mix).unwrap();
    assert_eq!(back.customers(), &[2.0, 0.0, 1.0, 1.0]);
    assert_eq!(back.gone(), 1.0);
}

#[test]
fn an_empty_row_has_no_shares_and_its_customers_are_not_projected() {
    // Customer 6 arrives in a label nobody held in March: its row has no shares.
    let mut later = june();
    later.customers[4].segments[0].1 = Arc::from("999");
    let m = Migration::between(&march(), &later, MigrationDimension::segmenter("rfm")).unwrap();
    let t = m.transitions();
    assert_eq!(t.row(&MigrationState::label("999")), None);
    assert_eq!(
        t.share(&MigrationState::label("999"), &MigrationState::Gone),
        None
    );
    let p = m.projection();
    assert_eq!(p.unprojected(), &[(MigrationState::label("999"), 1.0)]);
    assert_eq!(p.retained() + p.gone() + p.unprojected_total(), 5.0);
    assert!(p.customers().iter().all(|c| c.is_finite()));
}

#[test]
fn a_segmenter_by_hand() {
    let m = Migration::between(&march(), &june(), MigrationDimension::segmenter("rfm")).unwrap();
    let names: Vec<String> = m.states().iter().map(ToString::to_string).collect();
    assert_eq!(names, ["111", "222", "333", "444", "555"]);
    assert_eq!(
        filled(&m),
        vec![
            row("111", "111", &[5], "1.00", "0.50"),
            row("222", "(gone)", &[4], "50.00", "0"),
            row("333", "444", &[3], "10.00", "40.00"),
            row("444", "222", &[2], "80.00", "30.00"),
            row("555", "555", &[1], "100.00", "120.00"),
            row("(new)", "333", &[6], "0", "5.00"),
        ]
    );
}

#[test]
fn tiers_by_hand_with_no_tier_as_a_state() {
    let m = Migration::between(&march(), &june(), MigrationDimension::Tier).unwrap();
    let names: Vec<String> = m.columns().map(ToString::to_string).collect();
    assert_eq!(names, ["gold", "silver", "(no tier)", "(gone)"]);
    // 3 had no tier in March and silver in June; 5 had none at either date; 6 arrives without.
    assert_eq!(
        filled(&m),
        vec![
            row("gold", "gold", &[1], "100.00", "120.00"),
            row("silver", "silver", &[2], "80.00", "30.00"),
            row("silver", "(gone)", &[4], "50.00", "0"),
            row("(no tier)", "silver", &[3], "10.00", "40.00"),
            row("(no tier)", "(no tier)", &[5], "1.00", "0.50"),
            row("(new)", "(no tier)", &[6], "0", "5.00"),
        ]
    );
    let t = m.transitions();
    assert_eq!(
        t.row(&MigrationState::NoTier),
        Some(&[0.0, 0.5, 0.5, 0.0][..])
    );
}

#[test]
fn biggest_moves_leave_out_the_diagonal_and_the_inflow_and_outflow() {
    let m = Migration::between(&march(), &june(), MigrationDimension::AssetClass).unwrap();
    let pairs = |by| -> Vec<(String, String)> {
        m.biggest_moves(by, 5)
            .iter()
            .map(|c| (c.from().to_string(), c.to().to_string()))
            .collect()
    };
    let down = ("grow".to_string(), "win back".to_string());
    let up = ("develop".to_string(), "grow".to_string());
    // 80.00 left grow for win back, 10.00 left develop for grow; they arrived as 30.00 and 40.00.
    assert_eq!(pairs(MoveRanking::EquityFrom), [down.clone(), up.clone()]);
    assert_eq!(pairs(MoveRanking::EquityTo), [up.clone(), down.clone()]);
    // One customer each: the tie keeps row order.
    assert_eq!(pairs(MoveRanking::Customers), [down.clone(), up]);
    assert_eq!(m.biggest_moves(MoveRanking::EquityFrom, 1).len(), 1);
}

#[test]
fn each_bad_input_is_its_own_error() {
    let (a, b) = (march(), june());
    assert_eq!(
        Migration::between(&b, &a, MigrationDimension::AssetClass),
        Err(MigrationError::DatesOutOfOrder {
            from: day(6, 30),
            to: day(3, 31)
        })
    );
    assert!(matches!(
        Migration::between(&a, &a, MigrationDimension::AssetClass),
        Err(MigrationError::DatesOutOfOrder { .. })
    ));
    assert_eq!(
        Migration::between(&a, &b, MigrationDimension::segmenter("abc")),
        Err(MigrationError::MissingSegmenter {
            segmenter: "abc".into(),
            as_of: day(3, 31)
        })
    );
    let mut unlabelled = b.clone();
    unlabelled.customers[2].segments.clear();
    assert_eq!(
        Migration::between(&a, &unlabelled, MigrationDimension::segmenter("rfm")),
        Err(MigrationError::MissingLabel {
            segmenter: "rfm".into(),
            customer: CustomerId::from(3u64),
            as_of: day(6, 30)
        })
    );
    let mut untiered = b.clone();
    untiered.customers.iter_mut().for_each(|c| c.tier = None);
    assert_eq!(
        Migration::between(&a, &untiered, MigrationDimension::Tier),
        Err(MigrationError::NoTiers { as_of: day(6, 30) })
    );
    let mut twice = b.clone();
    twice.customers.push(twice.customers[0].clone());
    assert_eq!(
        Migration::between(&a, &twice, MigrationDimension::AssetClass),
        Err(MigrationError::DuplicateCustomer {
            customer: CustomerId::from(1u64),
            as_of: day(6, 30)
        })
    );
    let mut reserved = b.clone();
    reserved.customers[1].tier = Some(Arc::from("(no tier)"));
    let err = Migration::between(&a, &reserved, MigrationDimension::Tier).unwrap_err();
    assert_eq!(
        err,
        MigrationError::ReservedLabel {
            label: "(no tier)".into(),
            customer: CustomerId::from(2u64),
            as_of: day(6, 30)
        }
    );
    let mut filtered = b.clone();
    filtered.consent = Some(ConsentFilter {
        purpose: Purpose::MARKETING_CONTACT,
        on: day(6, 30),
        included: 5,
        left_out: 0,
    });
    assert_eq!(
        Migration::between(&a, &filtered, MigrationDimension::AssetClass),
        Err(MigrationError::ConsentFiltered { as_of: day(6, 30) })
    );
    // Customers 1 and 3 both end in grow: their cell's sum overflows ...
    let mut huge = b.clone();
    huge.customers[0].clv = Decimal::MAX;
    huge.customers[2].clv = Decimal::MAX;
    let mut from_grow = a.clone();
    from_grow.customers[2].asset_class = Grow;
    assert_eq!(
        Migration::between(&from_grow, &huge, MigrationDimension::AssetClass),
        Err(MigrationError::SumOverflow {
            from: "grow".into(),
            to: "grow".into()
        })
    );
    // ... and in two cells, June's total.
    assert_eq!(
        Migration::between(&a, &huge, MigrationDimension::AssetClass),
        Err(MigrationError::TotalOverflow { as_of: day(6, 30) })
    );
    let t = Migration::between(&a, &b, MigrationDimension::AssetClass)
        .unwrap()
        .transitions();
    assert_eq!(
        t.project(&[(MigrationState::New, 1.0)]),
        Err(MigrationError::UnknownState {
            state: "(new)".into()
        })
    );
    assert!(matches!(
        t.project(&[(class(Grow), f64::NAN)]),
        Err(MigrationError::InvalidMix { .. })
    ));
    assert!(matches!(
        t.project(&[(class(Grow), -1.0)]),
        Err(MigrationError::InvalidMix { .. })
    ));
    assert!(matches!(
        t.project(&[(class(Grow), f64::MAX), (class(Grow), f64::MAX)]),
        Err(MigrationError::InvalidMix { .. })
    ));
}

#[test]
fn customers_out_of_id_order_give_the_same_matrix() {
    let mut shuffled = june();
    shuffled.customers.reverse();
    let a = Migration::between(&march(), &june(), MigrationDimension::AssetClass).unwrap();
    let b = Migration::between(&march(), &shuffled, MigrationDimension::AssetClass).unwrap();
    assert_eq!(a, b);
}

#[cfg(feature = "serde")]
#[test]
fn the_json_lists_the_filled_cells_and_ids_only_when_asked() {
    let m = Migration::between(&march(), &june(), MigrationDimension::segmenter("rfm")).unwrap();
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["dimension"], "segmenter");
    assert_eq!(json["segmenter"], "rfm");
    assert_eq!(json["from"], "2024-03-31");
    assert_eq!(json["rows"][5], "(new)");
    assert_eq!(json["columns"][5], "(gone)");
    assert_eq!(json["equity_to"], "195.50");
    assert_eq!(json["cells"].as_array().unwrap().len(), 6);
    assert_eq!(
        json["cells"][2],
        serde_json::json!({"from": "333", "to": "444", "customers": 1, "equity_from": "10.00", "equity_to": "40.00"})
    );
    let with = serde_json::to_value(m.with_ids()).unwrap();
    assert_eq!(with["cells"][2]["ids"], serde_json::json!([3]));
    let classes = Migration::between(&march(), &june(), MigrationDimension::AssetClass).unwrap();
    let json = serde_json::to_value(&classes).unwrap();
    assert_eq!(json["dimension"], "asset_class");
    assert!(json.get("segmenter").is_none());
    let t = serde_json::to_value(classes.transitions()).unwrap();
    assert_eq!(t["shares"][0], serde_json::json!([0.5, 0.0, 0.5, 0.0, 0.0]));
    let p = serde_json::to_value(classes.projection()).unwrap();
    assert_eq!(p["retained"], 4.0);
}

/// A customer of the generated bases: present at D1 and/or D2, with a state and CLV at each.
#[derive(Debug, Clone)]
struct Generated {
    at: [Option<(u8, i64, Option<u8>)>; 2],
}

fn generated() -> impl Strategy<Value = Generated> {
    let one = (0u8..4, 0i64..10_000_000, proptest::option::of(0u8..3));
    (proptest::option::of(one.clone()), proptest::option::of(one))
        .prop_map(|(a, b)| Generated { at: [a, b] })
}

const LABELS: [&str; 4] = ["a", "b", "c", "d"];
const TIERS: [&str; 3] = ["bronze", "silver", "gold"];

fn bases(people: &[Generated], order: &[usize]) -> [EquityReport; 2] {
    [0, 1].map(|k| {
        let rows: Vec<Row> = order
            .iter()
            .filter_map(|&i| {
                people[i].at[k].map(|(s, cents, tier)| {
                    (
                        i as u64,
                        AssetClass::ALL[usize::from(s)],
                        cents,
                        LABELS[usize::from(s)],
                        tier.map(|t| TIERS[usize::from(t)]),
                    )
                })
            })
            .collect();
        let mut r = report(if k == 0 { day(3, 31) } else { day(6, 30) }, &rows);
        // At least one tier, so the tier dimension exists.
        if let Some(c) = r.customers.first_mut() {
            c.tier.get_or_insert_with(|| Arc::from("gold"));
        }
        r
    })
}

proptest! {
    #![proptest_config(proptest_config(64))]

    #[test]
    fn every_customer_is_in_one_cell_and_the_sums_add_up(
        (people, order) in proptest::collection::vec(generated(), 1..40)
            .prop_flat_map(|p| { let n = p.len(); (Just(p), Just((0..n).collect::<Vec<_>>()).prop_shuffle()) }),
        which in 0usize..3,
    ) {
        let [a, b] = bases(&people, &order);
        prop_assume!(!a.customers.is_empty() && !b.customers.is_empty());
        let dimension = [MigrationDimension::AssetClass, MigrationDimension::segmenter("rfm"), MigrationDimension::Tier][which].clone();
        let m = Migration::between(&a, &b, dimension).unwrap();
        // Each customer of either report in exactly one cell: in (gone) iff only at D1, in
        // (new) iff only at D2.
        let mut seen: BTreeMap<CustomerId, (MigrationState, MigrationState)> = BTreeMap::new();
        for c in m.cells() {
            prop_assert!(c.customers().windows(2).all(|w| w[0] < w[1]));
            let (mut from, mut to) = (Decimal::ZERO, Decimal::ZERO);
            for id in c.customers() {
                prop_assert!(seen.insert(id.clone(), (c.from().clone(), c.to().clone())).is_none());
                let find = |r: &EquityReport| r.customers.iter().find(|x| &x.id == id).map(|x| x.clv);
                from += find(&a).unwrap_or_default();
                to += find(&b).unwrap_or_default();
                prop_assert_eq!(find(&a).is_none(), c.from() == &MigrationState::New);
                prop_assert_eq!(find(&b).is_none(), c.to() == &MigrationState::Gone);
            }
            prop_assert_eq!((from, to), (c.equity_from(), c.equity_to()));
        }
        let union = people.iter().filter(|p| p.at.iter().any(Option::is_some)).count();
        prop_assert_eq!(seen.len(), union);
        prop_assert_eq!(m.customers_from(), a.customers.len());
        prop_assert_eq!(m.customers_to(), b.customers.len());
        // Equity to the cent: the rows add up to March's, the columns to June's.
        prop_assert_eq!(m.equity_from(), a.equity);
        prop_assert_eq!(m.equity_to(), b.equity);
        // Shares: in 0..=1, each row with customers summing to 1, no row without.
        let t = m.transitions();
        for s in t.rows() {
            let in_row: usize = m.columns().map(|c| m.cell(s, c).unwrap().count()).sum();
            match t.row(s) {
                Some(shares) => {
                    prop_assert!(in_row > 0);
                    prop_assert!(shares.iter().all(|x| (0.0..=1.0).contains(x)));
                    prop_assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                }
                None => prop_assert_eq!(in_row, 0),
            }
        }
        // The projection keeps June's customers: retained, gone or not projectable.
        let p = m.projection();
        let total = p.retained() + p.gone() + p.unprojected_total();
        prop_assert!((total - b.customers.len() as f64).abs() < 1e-9);
        prop_assert!(p.customers().iter().all(|x| x.is_finite() && *x >= 0.0));
    }
}
