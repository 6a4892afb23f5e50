//! `clv bridge`: the lines sum to closing − opening to the cent, the closing equity is the
//! report's at the closing date, and bad dates or rules are refused naming the flag.

use rust_decimal::Decimal;

use crate::{data_file, ok, refused};

fn money(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[test]
fn the_bridge_balances_and_closes_at_the_reports_equity() {
    let log = data_file("cdnow_master_transactions.csv");
    let log = log.to_str().unwrap();
    for extra in [&[][..], &["--same-models"], &["--lost-after-days", "120"]] {
        let mut args = vec![
            "bridge",
            "--transactions",
            log,
            "--from",
            "1997-09-30",
            "--to",
            "1997-12-31",
            "--margin",
            "0.3",
        ];
        args.extend_from_slice(extra);
        let json: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
        let opening = money(&json["opening_equity"]);
        let closing = money(&json["closing_equity"]);
        let lines = json["lines"].as_array().unwrap();
        let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "acquired",
                "lost",
                "revaluation: own purchases",
                "revaluation: model refit",
                "unwinding of discount"
            ]
        );
        let moved: Decimal = lines.iter().map(|l| money(&l["amount"])).sum();
        assert_eq!(opening + moved, closing, "{extra:?}");
        assert_eq!(json["refitted"], extra != ["--same-models"], "{extra:?}");
        if extra == ["--same-models"] {
            assert_eq!(money(&lines[3]["amount"]), Decimal::ZERO);
        }
        let classes: Decimal = json["by_asset_class"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| money(&g["closing_equity"]))
            .sum();
        assert_eq!(classes, closing);
    }
    // The closing equity is `clv report`'s at the closing date (the same models and settings).
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "report",
        "--transactions",
        log,
        "--end",
        "1997-12-31",
        "--margin",
        "0.3",
    ]))
    .unwrap();
    let bridge: serde_json::Value = serde_json::from_str(&ok(&[
        "bridge",
        "--transactions",
        log,
        "--from",
        "1997-09-30",
        "--to",
        "1997-12-31",
        "--margin",
        "0.3",
    ]))
    .unwrap();
    assert_eq!(bridge["closing_equity"], report["equity"]);
}

#[test]
fn bad_dates_and_rules_are_refused_naming_the_flag() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let bridge = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["bridge", "--transactions", log];
        args.extend_from_slice(extra);
        refused(&args, needles);
    };
    bridge(
        &["--from", "1997-09-30", "--to", "1997-06-30"],
        &["--to", "after --from"],
    );
    bridge(&["--from", "1997-09-30", "--to", "1997-09-30"], &["--to"]);
    bridge(&["--from", "1996-01-01", "--to", "1997-06-30"], &["--from"]);
    let dates = ["--from", "1997-06-30", "--to", "1997-09-30"];
    bridge(
        &[&dates[..], &["--lost-below", "1.5"]].concat(),
        &["--lost-below"],
    );
    bridge(
        &[&dates[..], &["--lost-after-days", "0"]].concat(),
        &["--lost-after-days"],
    );
    bridge(
        &[
            &dates[..],
            &["--lost-below", "0.4", "--lost-after-days", "90"],
        ]
        .concat(),
        &["--lost-below", "--lost-after-days"],
    );
    bridge(&[&dates[..], &["--model", "gamma"]].concat(), &["--model"]);
}
