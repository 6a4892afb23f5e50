//! The foundation end to end: CSV logs to summaries, the mergeable accumulator, the simulator.

use std::collections::HashMap;

use chrono::NaiveDate;
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::{
    CustomerId, Grain, Ledger, LedgerOptions, ReturnPolicy, Summaries, SummaryAccumulator,
    SummaryOptions, TimeUnit, Transaction, TransactionKind,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::{csv_rows, data_file, run_clv};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Reads a transaction CSV into typed records, the way a user of the library would.
pub fn read_log(name: &str) -> Vec<Transaction> {
    let mut reader = csv::Reader::from_path(data_file(name)).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Transaction::purchase(
                CustomerId::new(&r[0]).unwrap(),
                date(&r[1]),
                Transaction::parse_amount(&r[3], "row").unwrap(),
            )
            .unwrap()
        })
        .collect()
}

fn reference_summary() -> Vec<(String, u32, f64, f64, f64)> {
    let text = std::fs::read_to_string(data_file("cdnow_summary.csv")).unwrap();
    csv_rows(&text)
        .into_iter()
        .skip(1)
        .map(|r| {
            (
                r[0].clone(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
            )
        })
        .collect()
}

/// `clv summarize` of the CDNOW sample at 1997-09-30 in weeks, plus `extra` flags, as CSV rows.
fn summarize_cdnow(extra: &[&str]) -> Vec<Vec<String>> {
    let log = data_file("cdnow_sample_transactions.csv");
    let mut args = vec![
        "summarize",
        "--transactions",
        log.to_str().unwrap(),
        "--end",
        "1997-09-30",
        "--unit",
        "weeks",
    ];
    args.extend_from_slice(extra);
    let out = run_clv(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    csv_rows(&String::from_utf8(out.stdout).unwrap())
}

#[test]
fn clv_summarize_reproduces_the_cdnow_summary_file() {
    let rows = summarize_cdnow(&[]);
    assert_eq!(
        rows[0],
        ["customer_id", "frequency", "recency", "T", "monetary_value"]
    );
    let reference = reference_summary();
    assert_eq!(rows.len() - 1, 2357);
    assert_eq!(reference.len(), 2357);
    for (row, (id, x, t_x, t, m)) in rows[1..].iter().zip(&reference) {
        assert_eq!(&row[0], id, "customers in order of first appearance");
        assert_eq!(row[1].parse::<u32>().unwrap(), *x, "frequency of {id}");
        let close =
            |got: &str, want: f64, tol: f64| (got.parse::<f64>().unwrap() - want).abs() <= tol;
        assert!(
            close(&row[2], *t_x, 0.005),
            "recency of {id}: {} vs {t_x}",
            row[2]
        );
        assert!(close(&row[3], *t, 0.005), "T of {id}: {} vs {t}", row[3]);
        assert!(
            close(&row[4], *m, 0.005 + 1e-9),
            "monetary value of {id}: {} vs {m}",
            row[4]
        );
    }
}

#[test]
fn clv_summarize_reports_the_holdout() {
    let rows = summarize_cdnow(&["--holdout-end", "1998-06-30"]);
    assert_eq!(rows[0].len(), 7);
    assert_eq!(
        &rows[0][5..],
        ["holdout_frequency", "holdout_monetary_value"]
    );
    let holdout: u32 = rows[1..].iter().map(|r| r[5].parse::<u32>().unwrap()).sum();
    assert_eq!(
        holdout, 1882,
        "repeat purchase-days in the CDNOW holdout (data/README.md)"
    );
}

#[test]
fn clv_summarize_stops_on_a_malformed_row_naming_its_line() {
    let dir = std::env::temp_dir().join(format!("clv-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body, needle) in [
        (
            "date.csv",
            "customer_id,date,amount\n1,2024-01-01,5\n1,2024-13-01,5\n",
            "line 3",
        ),
        (
            "amount.csv",
            "customer_id,date,amount\n1,2024-01-01,five\n",
            "line 2",
        ),
        (
            "negative.csv",
            "customer_id,date,amount\n1,2024-01-01,-5\n",
            "line 2",
        ),
        (
            "id.csv",
            "customer_id,date,amount\n1,2024-01-01,5\n ,2024-01-02,5\n",
            "line 3",
        ),
        (
            "header.csv",
            "customer,date,amount\n1,2024-01-01,5\n",
            "customer_id",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let out = run_clv(&[
            "summarize",
            "--transactions",
            path.to_str().unwrap(),
            "--end",
            "2024-12-31",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} should fail");
        assert!(err.contains(needle), "{name}: {err}");
    }
    // A bad row deep in a file that the tool parses in parts is still named by its own line.
    let mut body = String::from("customer_id,date,amount\n");
    for i in 0..5000 {
        let amount = if i == 3998 { "1.2.3" } else { "9.99" };
        body.push_str(&format!("{},2024-01-{:02},{amount}\n", i % 70, 1 + i % 28));
    }
    let path = dir.join("deep.csv");
    std::fs::write(&path, body).unwrap();
    let out = run_clv(&[
        "summarize",
        "--transactions",
        path.to_str().unwrap(),
        "--end",
        "2024-12-31",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("line 4000"), "{err}");
    let out = run_clv(&[
        "summarize",
        "--transactions",
        "x.csv",
        "--end",
        "2024-12-31",
        "--unit",
        "months",
    ]);
    assert!(!out.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn clv_summarize_reads_plain_crlf_and_quoted_csv_alike() {
    // Plain rows take the tool's direct splitter; CRLF and quoted rows go through the csv crate.
    let dir = std::env::temp_dir().join(format!("clv-forms-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rows: Vec<(String, String, &str)> = (0..3000)
        .map(|i| {
            let id = if i % 3 == 0 {
                format!("C{}", i % 97)
            } else {
                format!("{}", (i * 7) % 211)
            };
            let date = format!("2024-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
            (id, date, ["12.50", "7", "0.05", "1e2", "3.125"][i % 5])
        })
        .collect();
    let write = |name: &str, eol: &str, quote: &str| {
        let mut body = format!("customer_id,note,date,amount{eol}");
        for (id, date, amount) in &rows {
            body.push_str(&format!("{quote}{id}{quote},x,{date},{amount}{eol}"));
        }
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let out = run_clv(&[
            "summarize",
            "--transactions",
            path.to_str().unwrap(),
            "--end",
            "2024-09-30",
            "--holdout-end",
            "2024-12-31",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let plain = write("plain.csv", "\n", "");
    assert!(plain.len() > 100);
    assert_eq!(plain, write("crlf.csv", "\r\n", ""));
    assert_eq!(plain, write("quoted.csv", "\n", "\""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_ledger_path_matches_the_reference_summary() {
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(read_log("cdnow_sample_transactions.csv"))
        .unwrap();
    let s = ledger
        .summarize(SummaryOptions::new(date("1997-09-30"), TimeUnit::WEEKS))
        .unwrap();
    assert_eq!(s.len(), 2357);
    let repeat: u32 = s.iter().map(|c| c.frequency()).sum();
    assert_eq!(repeat, 2457);
    assert_eq!(s.iter().filter(|c| c.frequency() > 0).count(), 946);
    assert_eq!(s.iter().map(|c| c.frequency()).max(), Some(29));
    let by_id: HashMap<String, _> = reference_summary()
        .into_iter()
        .map(|r| (r.0.clone(), r))
        .collect();
    for c in s.iter() {
        let r = &by_id[&c.id().to_string()];
        assert_eq!(c.frequency(), r.1);
        assert!((c.age() - r.3).abs() <= 0.005);
    }
    // 2,357 customers compress into far fewer (x, t_x, T) patterns.
    let p = s.patterns();
    assert_eq!(p.total_weight(), 2357.0);
    assert!(p.len() < 2357);
}

fn summary_key(s: &Summaries) -> Vec<String> {
    s.iter().map(|c| format!("{c:?}")).collect()
}

fn arbitrary_log() -> impl Strategy<Value = Vec<Transaction>> {
    let tx = (
        0u64..6,
        0i64..60,
        0u32..24,
        0i64..10_000,
        prop::bool::weighted(0.15),
    )
        .prop_map(|(id, day, hour, cents, is_return)| {
            let at =
                date("2024-01-01").and_hms_opt(hour, 0, 0).unwrap() + chrono::Duration::days(day);
            let kind = if is_return {
                TransactionKind::Return
            } else {
                TransactionKind::Purchase
            };
            Transaction::new(CustomerId::from(id), at, Decimal::new(cents, 2), kind).unwrap()
        });
    prop::collection::vec(tx, 0..80)
}

fn accumulate(log: &[Transaction], grain: Grain, policy: ReturnPolicy) -> SummaryAccumulator {
    let mut acc = SummaryAccumulator::new(grain, policy);
    acc.extend(log);
    acc
}

proptest! {
    #![proptest_config(crate::proptest_config(200))]

    #[test]
    fn merged_partial_summaries_equal_the_one_pass_summary(
        log in arbitrary_log(),
        cuts in prop::collection::vec(0usize..80, 0..4),
        seed in any::<u64>(),
        timestamp in any::<bool>(),
        ignore_returns in any::<bool>(),
    ) {
        let grain = if timestamp { Grain::Timestamp } else { Grain::Day };
        let policy = if ignore_returns { ReturnPolicy::Ignore } else { ReturnPolicy::NetAgainstPurchase };
        let opts = SummaryOptions::new(date("2024-02-10"), TimeUnit::WEEKS).holdout_end(date("2024-03-31"));
        let one_pass = accumulate(&log, grain, policy).finish(&opts);

        // Shuffle deterministically, split at arbitrary points, merge the parts in reverse.
        let mut shuffled = log.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(shuffled.len())).collect();
        bounds.push(0);
        bounds.push(shuffled.len());
        bounds.sort_unstable();
        let mut parts: Vec<SummaryAccumulator> = bounds
            .windows(2)
            .map(|w| accumulate(&shuffled[w[0]..w[1]], grain, policy))
            .collect();
        let mut merged = parts.pop().unwrap();
        while let Some(p) = parts.pop() {
            merged.merge(p).unwrap();
        }
        let merged = merged.finish(&opts);
        match (one_pass, merged) {
            (Ok(a), Ok(b)) => prop_assert_eq!(summary_key(&a), summary_key(&b)),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "one pass {:?} vs merged {:?}", a, b),
        }
    }

    #[test]
    fn summaries_do_not_depend_on_input_order(log in arbitrary_log()) {
        let opts = SummaryOptions::new(date("2024-03-01"), TimeUnit::DAYS);
        let forward = accumulate(&log, Grain::Day, ReturnPolicy::Ignore).finish(&opts).unwrap();
        let mut reversed = log.clone();
        reversed.reverse();
        let backward = accumulate(&reversed, Grain::Day, ReturnPolicy::Ignore).finish(&opts).unwrap();
        prop_assert_eq!(summary_key(&forward), summary_key(&backward));
        for c in forward.iter() {
            prop_assert!(c.recency() <= c.age());
            prop_assert!(c.frequency() == 0 || c.recency() > 0.0);
        }
    }

    #[test]
    fn the_simulator_reproduces_the_same_log_for_the_same_seed(seed in any::<u64>()) {
        let process = BgNbdProcess::new(0.5, 4.0, 0.8, 2.4).unwrap();
        let opts = SimulationOptions::new(40, date("2024-01-01"), date("2024-06-30"), TimeUnit::WEEKS, seed)
            .acquisition_days(30)
            .spend(GammaGammaSpend::new(6.0, 3.7, 15.0).unwrap());
        let a = simulate(&process, &opts).unwrap();
        let b = simulate(&process, &opts).unwrap();
        prop_assert_eq!(a.transactions(), b.transactions());
        prop_assert_eq!(a.patterns(), b.patterns());
    }
}
