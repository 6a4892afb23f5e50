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

use crate::{csv_rows, data_file};

pub(crate) fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Reads a transaction CSV into typed records, the way a user of the library would.
pub(crate) fn read_log(name: &str) -> Vec<Transaction> {
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
