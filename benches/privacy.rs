//! Pseudonymising 1,000,000 customer ids with `Pseudonymizer::pseudonym` (HMAC-SHA-256, written
//! as 64 hex digits): integer ids, and text ids (`cust-0000042`) as a CSV reader makes them.
//!
//! The ledger's upkeep on 100,000 customers with 10 purchases each (1,000,000 transactions, half
//! with order ids), a record, a consent and two attribute updates each: erasing one customer and
//! a thousand (delete and unlink), pseudonymising the whole ledger, each customer as of a day,
//! the freshness report and a consent scope.
//!
//! `cargo bench --bench privacy -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use chrono::{Days, NaiveDate};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use customer_assets::ledger::ErasurePolicy;
use customer_assets::records::{Attribute, AttributeUpdate, Purpose, Referral};
use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions, Pseudonymizer, Transaction};
use rust_decimal::Decimal;

const IDS: u64 = 1_000_000;

fn pseudonymize_all(pseudonymizer: &Pseudonymizer, ids: &[CustomerId]) -> usize {
    ids.iter()
        .map(|id| pseudonymizer.pseudonym(id))
        .filter(|alias| alias.as_u64().is_none())
        .count()
}

fn bench(c: &mut Criterion) {
    let key: Vec<u8> = (0u8..32).collect();
    let pseudonymizer = Pseudonymizer::new(&key).expect("a 32-byte key");
    let integers: Vec<CustomerId> = (0..IDS).map(CustomerId::from).collect();
    let texts: Vec<CustomerId> = (0..IDS)
        .map(|i| CustomerId::new(&format!("cust-{i:07}")).expect("id"))
        .collect();

    let mut group = c.benchmark_group("pseudonymize");
    group.sample_size(10);
    group.bench_function("1m integer ids", |bench| {
        bench.iter(|| pseudonymize_all(&pseudonymizer, black_box(&integers)))
    });
    group.bench_function("1m text ids", |bench| {
        bench.iter(|| pseudonymize_all(&pseudonymizer, black_box(&texts)))
    });
    group.finish();
}

const CUSTOMERS: u64 = 100_000;

fn ledger() -> Ledger {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let day = |n: u64| start.checked_add_days(Days::new(n)).expect("date");
    let mut ledger = Ledger::new(LedgerOptions::default());
    for c in 0..CUSTOMERS {
        let id = CustomerId::from(c);
        let record = Customer::builder(id.clone(), start)
            .region("north")
            .email("someone@example.com")
            .build();
        ledger.add_customer(record).expect("customer");
        ledger
            .give_consent(&id, Purpose::MARKETING_CONTACT, day(c % 30))
            .expect("consent");
        for (n, source) in [(40, "web_form"), (80, "crm")] {
            let update = AttributeUpdate::set(
                id.clone(),
                Attribute::Region,
                "south",
                day(n + c % 7),
                source,
            )
            .expect("update");
            ledger.update(update).expect("update");
        }
    }
    // Purchases interleaved across customers, as a log arrives.
    for k in 0..10 {
        for c in 0..CUSTOMERS {
            let t = Transaction::purchase(CustomerId::from(c), day(k * 30 + c % 29), Decimal::TEN)
                .expect("purchase");
            let t = if c % 2 == 0 {
                t.with_id(&format!("o-{c}-{k}")).expect("order id")
            } else {
                t
            };
            ledger.add_transaction(t).expect("transaction");
        }
    }
    ledger
}

fn bench_ledger(c: &mut Criterion) {
    let ledger = ledger();
    let one = [CustomerId::from(CUSTOMERS / 2)];
    let thousand: Vec<CustomerId> = (0..1000u64).map(|k| CustomerId::from(k * 97)).collect();
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut group = c.benchmark_group("ledger upkeep (1m transactions)");
    group.sample_size(10);
    for (name, ids, policy) in [
        ("erase 1 (delete)", &one[..], ErasurePolicy::DeleteRecords),
        ("erase 1 (unlink)", &one[..], ErasurePolicy::Unlink),
        (
            "erase 1000 (delete)",
            &thousand[..],
            ErasurePolicy::DeleteRecords,
        ),
        ("erase 1000 (unlink)", &thousand[..], ErasurePolicy::Unlink),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || ledger.clone(),
                |mut l| l.erase_all(black_box(ids), policy),
                BatchSize::LargeInput,
            )
        });
    }
    let key: Vec<u8> = (0u8..32).collect();
    let pseudonymizer = Pseudonymizer::new(&key).expect("a 32-byte key");
    group.bench_function("pseudonymized", |b| {
        b.iter(|| ledger.pseudonymized(black_box(&pseudonymizer)))
    });
    group.bench_function("customer_as_of, every customer", |b| {
        b.iter(|| {
            (0..CUSTOMERS)
                .filter_map(|c| ledger.customer_as_of(&CustomerId::from(c), black_box(as_of)))
                .filter(|c| c.region() == Some("south"))
                .count()
        })
    });
    group.bench_function("freshness", |b| {
        b.iter(|| ledger.freshness(black_box(as_of), 90).stale.len())
    });
    // Referral trees of branching 10 (customer c brought customers 10c + 1 ..= 10c + 10): the
    // cycle check walks depth 5 at most.
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("date");
    let referrals: Vec<Referral> = (1..CUSTOMERS)
        .map(|c| {
            Referral::new(CustomerId::from((c - 1) / 10), CustomerId::from(c), start)
                .expect("referral")
        })
        .collect();
    group.bench_function("add_referral, 99,999 in trees", |b| {
        b.iter_batched(
            || ledger.clone(),
            |mut l| l.extend_referrals(black_box(referrals.iter().cloned())),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("consent_scope", |b| {
        b.iter(|| {
            ledger
                .consent_scope(&Purpose::MARKETING_CONTACT, black_box(as_of))
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench, bench_ledger);
criterion_main!(benches);
