//! `clv report --referrals FILE`: each customer's referral count and value beside their CLV;
//! referral rows that break a rule are refused naming the file and line.

use crate::{data_file, ok, refused, temp_dir};

#[test]
fn report_rows_carry_referral_counts_and_values_beside_clv() {
    let dir = temp_dir("referral");
    let referrals = dir.join("referrals.csv");
    // Every customer of the sample bought first on 1 January 1997 or later.
    std::fs::write(
        &referrals,
        "referrer,referred,date,channel\n1,2,1997-01-01,app\n1,3,1997-01-01,\n2,4,1997-01-01,mail\n",
    )
    .unwrap();
    let referrals = referrals.to_str().unwrap();
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let report = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["report", "--transactions", log, "--end", "1997-09-30"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&args)).unwrap()
    };
    let plain = report(&[]);
    let with = report(&["--referrals", referrals]);
    assert_eq!(with["equity"], plain["equity"], "beside equity, not in it");
    assert!(plain["referrals"].is_null());
    let rows = with["customers"].as_array().unwrap();
    let row = |id: u64| rows.iter().find(|c| c["id"] == id).unwrap();
    let money = |v: &serde_json::Value| -> f64 { v.as_str().unwrap().parse().unwrap() };
    // Incremental share 1: the CLVs of the customers brought, to the cent.
    assert_eq!(row(1)["referrals"], 2);
    let expected = money(&row(2)["clv"]) + money(&row(3)["clv"]);
    assert!((money(&row(1)["referral_value"]) - expected).abs() < 0.005);
    assert_eq!(row(2)["referrals"], 1);
    assert_eq!(row(2)["referral_value"], row(4)["clv"]);
    assert_eq!(row(3)["referrals"], 0);
    assert_eq!(with["referrals"]["referrals"], 3);
    assert_eq!(with["referrals"]["window"][0], "1996-10-01");
}

#[test]
fn referral_rows_that_break_a_rule_are_refused_naming_the_file_and_line() {
    let dir = temp_dir("referral-bad");
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    for (name, body, needles) in [
        (
            "unknown",
            "referrer,referred,date\n1,2,1997-01-01\n1,999999,1997-01-01\n",
            &["line 3", "999999", "not a customer"][..],
        ),
        (
            "late",
            "referrer,referred,date\n1,2,1997-06-01\n",
            &["line 2", "referral of 2 by 1 on 1997-06-01", "transaction"][..],
        ),
        (
            "self",
            "referrer,referred,date\n7,7,1997-01-01\n",
            &["line 2", "refers themselves"][..],
        ),
        (
            "cycle",
            "referrer,referred,date\n1,2,1997-01-01\n2,3,1997-01-01\n3,1,1997-01-01\n",
            &["line 4", "cycle", "1 → 2 → 3 → 1"][..],
        ),
        (
            "twice",
            "referrer,referred,date\n1,2,1997-01-01\n3,2,1997-01-01\n",
            &["line 3", "already referred"][..],
        ),
        (
            "channel",
            "referrer,referred,date,channel\n1,2,1997-01-01,a\u{7}b\n",
            &["line 2", "channel"][..],
        ),
        ("empty", "referrer,referred,date\n", &["no referral"][..]),
        (
            "columns",
            "from,to,date\n1,2,1997-01-01\n",
            &["referrer"][..],
        ),
    ] {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, body).unwrap();
        let path = path.to_str().unwrap();
        let mut needles = needles.to_vec();
        needles.push(path);
        refused(
            &[
                "report",
                "--transactions",
                log,
                "--end",
                "1997-09-30",
                "--referrals",
                path,
            ],
            &needles,
        );
    }
}
