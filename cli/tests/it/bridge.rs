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

/// `clv report --previous-review D` adds `since_last_review`: the bridge from D closes at the
/// report's equity, and the biggest migrations and customers lost are listed; `clv bridge`
/// prints the migration matrices, whose cells hold every customer.
#[test]
fn the_report_since_the_previous_review_and_the_bridges_migrations() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "report",
        "--transactions",
        log,
        "--end",
        "1997-09-30",
        "--margin",
        "0.3",
        "--previous-review",
        "1997-06-30",
    ]))
    .unwrap();
    let since = &report["since_last_review"];
    assert_eq!(since["bridge"]["closing_equity"], report["equity"]);
    let moved: Decimal = since["bridge"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| money(&l["amount"]))
        .sum();
    assert_eq!(
        money(&since["bridge"]["opening_equity"]) + moved,
        money(&report["equity"])
    );
    let lost = since["top_lost"].as_array().unwrap();
    assert_eq!(lost.len(), 10);
    let previous: Vec<Decimal> = lost.iter().map(|c| money(&c["previous_clv"])).collect();
    assert!(previous.windows(2).all(|w| w[0] >= w[1]), "largest first");
    assert!(!since["biggest_migrations"].as_array().unwrap().is_empty());
    // Without the flag, no section.
    let plain: serde_json::Value = serde_json::from_str(&ok(&[
        "report",
        "--transactions",
        log,
        "--end",
        "1997-09-30",
        "--margin",
        "0.3",
    ]))
    .unwrap();
    assert!(plain.get("since_last_review").is_none());
    assert_eq!(plain["equity"], report["equity"]);
    refused(
        &[
            "report",
            "--transactions",
            log,
            "--end",
            "1997-09-30",
            "--previous-review",
            "1997-09-30",
        ],
        &["--previous-review", "before --end"],
    );

    let bridge: serde_json::Value = serde_json::from_str(&ok(&[
        "bridge",
        "--transactions",
        log,
        "--from",
        "1997-06-30",
        "--to",
        "1997-09-30",
    ]))
    .unwrap();
    let migrations = bridge["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 2);
    assert_eq!(migrations[0]["dimension"], "asset_class");
    assert_eq!(migrations[1]["segmenter"], "rfm");
    for m in migrations {
        let cells: u64 = m["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["customers"].as_u64().unwrap())
            .sum();
        assert_eq!(cells, bridge["closing_customers"].as_u64().unwrap());
        assert!(m["transitions"]["shares"].is_array());
    }
}

/// `clv bridge --referrals FILE` checks the referrals against the log and reports the totals.
#[test]
fn bridge_reads_referrals() {
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let dir = crate::temp_dir("bridge-referrals");
    let good = dir.join("referrals.csv");
    // Customer 4 bought first on 1997-01-01 (the cohort's first day): referred that day.
    std::fs::write(&good, "referrer,referred,date\n1,4,1997-01-01\n").unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "bridge",
        "--transactions",
        log,
        "--from",
        "1997-06-30",
        "--to",
        "1997-09-30",
        "--referrals",
        good.to_str().unwrap(),
    ]))
    .unwrap();
    assert!(json["referrals"].is_object(), "{json}");
    let bad = dir.join("self.csv");
    std::fs::write(&bad, "referrer,referred,date\n1,1,1997-01-01\n").unwrap();
    refused(
        &[
            "bridge",
            "--transactions",
            log,
            "--from",
            "1997-06-30",
            "--to",
            "1997-09-30",
            "--referrals",
            bad.to_str().unwrap(),
        ],
        &["line 2", "refers themselves"],
    );
}
