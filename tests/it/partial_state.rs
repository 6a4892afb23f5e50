//! The accumulator's partial state through serde: parts of a log accumulated apart, shipped as
//! JSON and merged give the one-pass result.

use chrono::NaiveDate;
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, SummaryAccumulator, SummaryOptions, TimeUnit, Transaction,
    TransactionKind,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::proptest_config;

fn ship(acc: &SummaryAccumulator) -> SummaryAccumulator {
    serde_json::from_str(&serde_json::to_string(acc).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(proptest_config(256))]

    /// A log (integer and text ids, same-moment purchases, returns, amounts of several scales)
    /// cut into parts, each accumulated, shipped through JSON and merged in order, gives the
    /// one-pass summaries (or error), arrival order and partial state, at either grain.
    #[test]
    fn shipped_parts_merge_into_the_one_pass_accumulator(
        rows in proptest::collection::vec(
            (0u8..2, 0u64..8, 0u32..(24 * 30), 0i64..100_000, 0u32..4, proptest::bool::weighted(0.1)),
            0..100,
        ),
        cuts in proptest::collection::vec(0usize..100, 0..5),
        timestamp_grain: bool,
        ignore_returns: bool,
    ) {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let log: Vec<Transaction> = rows
            .iter()
            .map(|&(text, n, hours, mantissa, scale, refund)| {
                let id = if text == 1 {
                    CustomerId::new(&format!("shop-{n}")).unwrap()
                } else {
                    CustomerId::from(n)
                };
                // Every third hour repeats the last: same-moment records fold.
                let at = start + chrono::Duration::hours(i64::from(hours - hours % 3));
                let kind = if refund { TransactionKind::Return } else { TransactionKind::Purchase };
                Transaction::new(id, at, Decimal::new(mantissa, scale), kind).unwrap()
            })
            .collect();
        let grain = if timestamp_grain { Grain::Timestamp } else { Grain::Day };
        let returns = if ignore_returns { ReturnPolicy::Ignore } else { ReturnPolicy::NetAgainstPurchase };
        let mut whole = SummaryAccumulator::new(grain, returns);
        whole.extend(&log);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(log.len())).collect();
        cuts.sort_unstable();
        let mut merged = SummaryAccumulator::new(grain, returns);
        let mut from = 0;
        for &to in cuts.iter().chain([&log.len()]) {
            let mut part = SummaryAccumulator::new(grain, returns);
            part.extend(&log[from..to]);
            merged.merge(ship(&part)).unwrap();
            from = to;
        }
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let options = SummaryOptions::new(day(15), TimeUnit::DAYS).holdout_end(day(28));
        prop_assert_eq!(merged.finish(&options), whole.finish(&options));
        prop_assert!(merged.arrival_order().eq(whole.arrival_order()));
        // The partial state is canonical: the same whatever the split, and a fixed point.
        let json = serde_json::to_string(&whole).unwrap();
        prop_assert_eq!(serde_json::to_string(&merged).unwrap(), json.clone());
        prop_assert_eq!(serde_json::to_string(&ship(&whole)).unwrap(), json);
    }
}

#[test]
fn the_partial_state_is_columns_of_entries() {
    let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    let buy = |id: CustomerId, d, cents| Transaction::purchase(id, day(d), Decimal::new(cents, 2));
    let acme = CustomerId::new("acme").unwrap();
    acc.extend(&[
        buy(CustomerId::from(9u64), 3, 1250).unwrap(),
        buy(acme.clone(), 2, 500).unwrap(),
        buy(CustomerId::from(9u64), 3, 250).unwrap(),
        Transaction::refund(acme, day(2), Decimal::new(100, 2)).unwrap(),
    ]);
    let json: serde_json::Value = serde_json::to_value(&acc).unwrap();
    // 2024-01-02 is day 738,887 of the common era.
    let expected = serde_json::json!({
        "version": 1,
        "grain": "day",
        "returns": "net_against_purchase",
        "customers": [9, "acme"],
        "owner": [0, 1, 1],
        "moment": [738_888, 738_887, 738_887],
        "count": [2, 1, 1],
        "amount": ["15.00", "5.00", "1.00"],
        "is_return": [false, false, true],
    });
    assert_eq!(json, expected);
}

#[test]
fn inconsistent_partial_states_are_errors_naming_what_is_wrong() {
    let valid = serde_json::json!({
        "version": 1,
        "grain": "timestamp",
        "returns": "ignore",
        "customers": [9, "acme"],
        "owner": [0, 1],
        "moment": [1_700_000_000_000_000i64, 0],
        "count": [2, 1],
        "amount": ["15.00", "5"],
        "is_return": [false, true],
    });
    let read = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut state = valid.clone();
        edit(&mut state);
        serde_json::from_value::<SummaryAccumulator>(state).map_err(|e| e.to_string())
    };
    let acc = read(&|_| {}).unwrap();
    assert_eq!(acc.customers_seen(), 2);
    // What the error says, and the edit of the valid state that causes it.
    type Edit<'e> = &'e dyn Fn(&mut serde_json::Value);
    let cases: [(&str, Edit<'_>); 10] = [
        ("version[0]", &|s| s["version"] = 2.into()),
        ("count[1]", &|s| s["count"] = serde_json::json!([1])),
        ("owner[1] is not the index", &|s| s["owner"][1] = 2.into()),
        ("customers[1] repeats", &|s| s["customers"][1] = 9.into()),
        ("customers[1] has no entries", &|s| s["owner"][1] = 0.into()),
        ("moment[0] is outside", &|s| {
            s["moment"][0] = i64::MAX.into()
        }),
        ("count[0] is not between", &|s| s["count"][0] = 0.into()),
        ("count[1] is not between", &|s| s["count"][1] = 256.into()),
        ("amount[1] is negative", &|s| s["amount"][1] = "-5".into()),
        ("unknown field", &|s| s["extra"] = 1.into()),
    ];
    for (needle, edit) in cases {
        let error = read(edit).unwrap_err();
        assert!(error.contains(needle), "{needle}: {error}");
    }
    // A day key beyond chrono's dates at the day grain.
    let error = read(&|s| {
        s["grain"] = "day".into();
        s["moment"][1] = i64::from(i32::MAX).into();
    })
    .unwrap_err();
    assert!(error.contains("moment"), "{error}");
}
