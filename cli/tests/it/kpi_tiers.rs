//! `clv kpi` and `clv tiers` on the CDNOW sample (the figures the README documents), and `clv sql`
//! (the library's query for each dialect; `scripts/sql_engines.py` runs it on the engines).

use crate::{csv_rows, data_file, ok};

#[test]
fn kpi_on_the_cdnow_sample() {
    let log = data_file("cdnow_sample_transactions.csv");
    let text = ok(&[
        "kpi",
        "--transactions",
        log.to_str().unwrap(),
        "--end",
        "1997-09-30",
    ]);
    let k: serde_json::Value = serde_json::from_str(&text).unwrap();
    // Numbers, or money as the library writes it (decimal text).
    let f = |v: &serde_json::Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{v}"))
    };
    // Retention from 1997-04-02..07-01 to 1997-07-02..09-30: 215 of 529.
    assert_eq!(k["previous_period"]["start"], "1997-04-02");
    assert_eq!(k["period"]["start"], "1997-07-02");
    assert_eq!(
        (
            k["retention"]["retained"].as_u64(),
            k["retention"]["base"].as_u64()
        ),
        (Some(215), Some(529))
    );
    assert!((f(&k["retention"]["retention_rate"]) - 215.0 / 529.0).abs() < 1e-12);
    // The last period: 411 customers, 742 orders, AOV $35.89, $64.79 a customer.
    let current = &k["current"];
    assert_eq!(
        (current["customers"].as_u64(), current["orders"].as_u64()),
        (Some(411), Some(742))
    );
    assert!((f(&current["average_order_value"]) - 35.888706).abs() < 1e-6);
    assert!((f(&current["revenue_per_customer"]) - 64.791776).abs() < 1e-6);
    // To date: 2,357 customers, 4,960 orders, AOV $34.90, revenue $173,115.55.
    let to_date = &k["to_date"];
    assert_eq!(
        (to_date["customers"].as_u64(), to_date["orders"].as_u64()),
        (Some(2357), Some(4960))
    );
    assert_eq!(to_date["net_revenue"], "173115.55");
    assert!((f(&k["repeat_purchase_rate"]) - 946.0 / 2357.0).abs() < 1e-12);
    assert!((f(&k["gini"]) - 0.585).abs() < 5e-4);
    let tops: Vec<(f64, f64)> = k["top_shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (f(&t["top"]), f(&t["share"])))
        .collect();
    assert_eq!(tops.len(), 3);
    assert!(
        (tops[1].1 - 0.469).abs() < 5e-4 && (tops[2].1 - 0.633).abs() < 5e-4,
        "{tops:?}"
    );
    // Monthly cohorts of January, February and March 1997, each of its first month's buyers.
    let rows = k["cohorts"]["rows"].as_array().unwrap();
    let starts: Vec<&str> = rows.iter().map(|r| r["start"].as_str().unwrap()).collect();
    assert_eq!(starts, ["1997-01-01", "1997-02-01", "1997-03-01"]);
    let sizes: u64 = rows.iter().map(|r| r["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 2357);
}

#[test]
fn tiers_on_the_cdnow_sample() {
    let log = data_file("cdnow_sample_transactions.csv");
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/loyalty_rules.json"
    );
    let tiers = |as_of: &str| {
        csv_rows(&ok(&[
            "tiers",
            "--transactions",
            log.to_str().unwrap(),
            "--rules",
            rules,
            "--as-of",
            as_of,
        ]))
    };
    let count =
        |rows: &[Vec<String>], tier: &str| rows[1..].iter().filter(|r| r[1] == tier).count();
    let points = |rows: &[Vec<String>]| -> u64 {
        rows[1..].iter().map(|r| r[5].parse::<u64>().unwrap()).sum()
    };
    let end_1997 = tiers("1997-12-31");
    assert_eq!(
        end_1997[0],
        [
            "customer_id",
            "tier",
            "since",
            "qualifying_value",
            "to_next_tier",
            "points_balance"
        ]
    );
    assert_eq!(end_1997.len(), 2358);
    assert_eq!(
        end_1997[1],
        ["1", "Silver", "1997-12-12", "100.5", "199.5", "174"]
    );
    assert_eq!(
        end_1997[2],
        ["2", "Member", "1997-01-01", "75.11", "24.89", "124"]
    );
    let mix: Vec<usize> = ["Member", "Silver", "Gold", "Platinum"]
        .iter()
        .map(|t| count(&end_1997, t))
        .collect();
    assert_eq!(mix, [1850, 387, 102, 18]);
    assert_eq!(points(&end_1997), 362_829);
    // After the quarterly reviews of January and April 1998, and a year of expiries.
    let mid_1998 = tiers("1998-06-30");
    let mix: Vec<usize> = ["Member", "Silver", "Gold", "Platinum"]
        .iter()
        .map(|t| count(&mid_1998, t))
        .collect();
    assert_eq!(mix, [1986, 260, 94, 17]);
    assert_eq!(points(&mid_1998), 141_197);
}

#[test]
fn sql_prints_the_library_query_in_each_dialect() {
    use customer_assets::sql::{Dialect, SummarySql};
    use customer_assets::{ReturnPolicy, SummaryOptions, TimeUnit};
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    for (name, dialect) in [
        ("datafusion", Dialect::DataFusion),
        ("spark", Dialect::Spark),
        ("duckdb", Dialect::DuckDb),
        ("postgres", Dialect::Postgres),
    ] {
        let printed = ok(&[
            "sql",
            "--dialect",
            name,
            "--table",
            "orders",
            "--customer-col",
            "client",
            "--kind-col",
            "kind",
            "--end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
        ]);
        // Weeks by default, as every subcommand; returns netted.
        let options =
            SummaryOptions::new(day("1997-09-30"), TimeUnit::WEEKS).holdout_end(day("1998-06-30"));
        let expected = SummarySql::new("orders", options)
            .customer_column("client")
            .kind_column("kind", "purchase", "return")
            .returns(ReturnPolicy::NetAgainstPurchase)
            .to_sql(dialect)
            .unwrap();
        assert_eq!(printed.trim_end(), expected.trim_end(), "{name}");
    }
}

#[test]
fn kpi_reports_categories_from_a_category_column_and_refuses_a_bad_one() {
    let dir = crate::temp_dir("kpi-categories");
    let log = dir.join("log.csv");
    // In the 31 days to 2024-01-31: books 30 + 10 (customer 1 on two days) + 20 (customer 2),
    // toys 40, uncategorised 20: net revenue 120.
    std::fs::write(
        &log,
        "customer_id,date,amount,category,sku\n\
         1,2024-01-02,30,books,b-1\n\
         1,2024-01-09,10,books,\n\
         2,2024-01-03,20,books,b-2\n\
         2,2024-01-04,40,toys,t-1\n\
         3,2024-01-05,20,,\n",
    )
    .unwrap();
    let log = log.to_str().unwrap();
    let args = [
        "kpi",
        "--transactions",
        log,
        "--end",
        "2024-01-31",
        "--period-days",
        "31",
    ];
    let k: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let categories = k["categories"].as_array().unwrap();
    let row = |i: usize, key: &str| categories[i][key].clone();
    assert_eq!(categories.len(), 3);
    assert_eq!(row(0, "category"), "books");
    assert_eq!(row(2, "category"), serde_json::Value::Null);
    assert_eq!(
        (row(0, "customers"), row(0, "repeat_customers")),
        (2.into(), 1.into())
    );
    assert_eq!(row(0, "repeat_rate"), 0.5);
    assert_eq!(row(0, "net_revenue"), "60");
    assert_eq!(row(1, "spend_share"), 40.0 / 120.0);
    assert_eq!(row(2, "spend_share"), 20.0 / 120.0);

    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "customer_id,date,amount,category\n1,2024-01-02,30,books\n1,2024-01-03,5,\"to\u{7}ys\"\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    crate::refused(
        &["kpi", "--transactions", bad, "--end", "2024-01-31"],
        &[
            "line 3, column category",
            "category contains a control character",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
