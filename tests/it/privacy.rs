//! Customer data a company may keep: erasure leaves no trace in any output, contact details stay
//! out of serialized forms by default, exports can be restricted to consenting customers.

use chrono::NaiveDate;
use customer_assets::ledger::{ErasurePolicy, Upserted};
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::records::{Attribute, AttributeUpdate, Purpose};
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::kmeans::KMeansParams;
use customer_assets::segment::lifecycle::LifecycleParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::{DiscountRate, EquityReport, Valuation};
use customer_assets::{
    Customer, CustomerId, Feedback, Ledger, LedgerOptions, SummaryOptions, TimeUnit,
};
use serde_json::Value;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn as_of() -> NaiveDate {
    day(1998, 6, 30)
}

/// The full CDNOW cohort, with a record, contact details, consents, updates and feedback for
/// its heaviest buyer and for a few others.
fn cdnow() -> (Ledger, CustomerId) {
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(crate::summarize::read_log("cdnow_master_transactions.csv"))
        .unwrap();
    let mut counts = std::collections::HashMap::<CustomerId, usize>::new();
    for t in ledger.transactions() {
        *counts.entry(t.customer().clone()).or_default() += 1;
    }
    let heavy = counts
        .iter()
        .max_by_key(|(id, n)| (**n, std::cmp::Reverse((*id).clone())))
        .map(|(id, _)| id.clone())
        .unwrap();
    let others: Vec<CustomerId> = ["1", "2", "3"]
        .iter()
        .map(|s| CustomerId::new(s).unwrap())
        .collect();
    for id in std::iter::once(&heavy).chain(&others) {
        let first = ledger.first_transaction_at(id).unwrap().date();
        let c = Customer::builder(id.clone(), first)
            .name("Person Named")
            .email(format!("person{id}@example.com"))
            .region("north")
            .build();
        assert_eq!(
            ledger.upsert_customer(c, "crm", first).unwrap(),
            Upserted::Added
        );
        ledger
            .give_consent(id, Purpose::MARKETING_CONTACT, first)
            .unwrap();
        ledger
            .update(
                AttributeUpdate::set(id.clone(), Attribute::Phone, "+1 555 0199", first, "web")
                    .unwrap(),
            )
            .unwrap();
        ledger
            .add_feedback(Feedback::new(id.clone(), as_of(), None, Some(4)).unwrap())
            .unwrap();
    }
    (ledger, heavy)
}

fn report(ledger: &Ledger) -> EquityReport {
    Valuation::builder()
        .ledger(ledger)
        .as_of(as_of())
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .segmenter("lifecycle", LifecycleParams::default())
        .segmenter("kmeans", KMeansParams::new(4))
        .kpis(90)
        .build()
        .unwrap()
        .run()
        .unwrap()
}

/// Every customer id a JSON value names under a key that holds ids.
fn ids_in(json: &Value, out: &mut Vec<String>) {
    match json {
        Value::Object(map) => {
            for (k, v) in map {
                if matches!(k.as_str(), "id" | "customer") {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_owned());
                    } else if let Some(n) = v.as_u64() {
                        out.push(n.to_string());
                    }
                }
                ids_in(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| ids_in(v, out)),
        _ => {}
    }
}

fn assert_no_trace(ledger: &Ledger, report: &EquityReport, who: &CustomerId, what: &str) {
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of(), TimeUnit::WEEKS))
        .unwrap();
    assert!(summaries.get(who).is_none(), "{what}: summaries");
    assert!(
        report.customers.iter().all(|c| &c.id != who),
        "{what}: report rows"
    );
    for (name, json) in [
        ("report", serde_json::to_value(report).unwrap()),
        ("ledger", serde_json::to_value(ledger).unwrap()),
        (
            "ledger with contact details",
            serde_json::to_value(ledger.with_contact_details()).unwrap(),
        ),
        ("summaries", serde_json::to_value(&summaries).unwrap()),
    ] {
        let mut ids = Vec::new();
        ids_in(&json, &mut ids);
        assert!(!ids.is_empty(), "{what}: {name} names no one at all");
        assert!(
            !ids.contains(&who.to_string()),
            "{what}: {name} names the customer"
        );
        let text = json.to_string();
        assert!(
            !text.contains(&format!("person{who}@")),
            "{what}: {name} holds the e-mail"
        );
    }
}

/// The full CDNOW cohort: after erasure of its heaviest buyer, under either policy, no output
/// (summaries, every segmenter's labels and the report's rows, the report JSON, the serialized
/// ledger with or without contact details) names them; deletion takes their spend out of the
/// KPIs while unlinking keeps every aggregate.
#[test]
fn an_erased_customer_leaves_no_trace_in_any_output() {
    let (plain, heavy) = cdnow();
    let before = report(&plain);
    assert!(before.customers.iter().any(|c| c.id == heavy));
    let revenue = |r: &EquityReport| {
        r.kpis
            .as_ref()
            .map(|k| serde_json::to_value(k).unwrap())
            .unwrap()
    };

    let mut deleted = plain.clone();
    let e = deleted.erase(&heavy, ErasurePolicy::DeleteRecords);
    assert!(e.customer_record && e.transactions_deleted > 0 && e.attribute_updates == 1);
    assert_eq!(e.feedback_deleted, 1);
    let after = report(&deleted);
    assert_no_trace(&deleted, &after, &heavy, "deleted");
    assert_eq!(after.customers.len(), before.customers.len() - 1);
    assert_ne!(revenue(&after), revenue(&before));
    assert!(deleted
        .erase(&heavy, ErasurePolicy::DeleteRecords)
        .is_noop());

    let mut unlinked = plain.clone();
    let e = unlinked.erase(&heavy, ErasurePolicy::Unlink);
    assert!(e.transactions_unlinked > 0 && e.feedback_unlinked == 1);
    let after = report(&unlinked);
    assert_no_trace(&unlinked, &after, &heavy, "unlinked");
    assert_eq!(after.customers.len(), before.customers.len());
    // Every aggregate stays: the same purchases under a name that is nobody's.
    assert_eq!(revenue(&after), revenue(&before));
    assert_eq!(after.equity, before.equity);
    let moved = after
        .customers
        .iter()
        .find(|c| Some(&c.id) == e.unlinked_as.as_ref())
        .unwrap();
    let was = before.customers.iter().find(|c| c.id == heavy).unwrap();
    assert_eq!(moved.clv, was.clv);
    assert!(unlinked.erase(&heavy, ErasurePolicy::Unlink).is_noop());
}

/// The customer rows of a report restricted to the consenting customers, with the count left
/// out; the totals stay the whole base's.
#[test]
fn report_rows_can_be_restricted_to_consenting_customers() {
    let (mut ledger, heavy) = cdnow();
    ledger
        .withdraw_consent(&heavy, &Purpose::MARKETING_CONTACT, day(1998, 1, 1))
        .unwrap();
    let mut report = report(&ledger);
    let (everyone, equity) = (report.customers.len(), report.equity);
    let scope = ledger.consent_scope(&Purpose::MARKETING_CONTACT, report.as_of);
    report.retain_consenting(&scope);
    let kept: Vec<String> = report.customers.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(kept, ["1", "2", "3"]);
    let filter = report.consent.as_ref().unwrap();
    assert_eq!((filter.included, filter.left_out), (3, everyone - 3));
    assert_eq!(report.equity, equity);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["consent"]["purpose"], "marketing_contact");
    assert_eq!(json["consent"]["left_out"], everyone - 3);
    let profiling = ledger.consent_scope(&Purpose::PROFILING, report.as_of);
    report.retain_consenting(&profiling);
    assert!(report.customers.is_empty());
    assert_eq!(report.consent.unwrap().left_out, everyone);
}

/// Attributes in force on the as-of date reach the segmenters: a rule on region sees the
/// region a later update set, not the first record's.
#[test]
fn the_valuation_reads_attributes_in_force_on_the_as_of_date() {
    use customer_assets::segment::rules::{ClassRule, ClassRules, Condition};
    let (mut ledger, heavy) = cdnow();
    ledger
        .update(
            AttributeUpdate::set(
                heavy.clone(),
                Attribute::Region,
                "south",
                day(1998, 6, 1),
                "crm",
            )
            .unwrap(),
        )
        .unwrap();
    ledger
        .update(
            AttributeUpdate::set(
                heavy.clone(),
                Attribute::Region,
                "west",
                day(1998, 7, 1),
                "crm",
            )
            .unwrap(),
        )
        .unwrap();
    let rules = ClassRules::new(
        vec![ClassRule {
            name: "south".into(),
            all_of: vec![Condition::Region(vec!["south".into()])],
        }],
        "elsewhere",
    )
    .unwrap();
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(as_of())
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0)
        .segmenter("region", rules)
        .build()
        .unwrap()
        .run()
        .unwrap();
    let south: Vec<&CustomerId> = report
        .customers
        .iter()
        .filter(|c| c.segments.iter().any(|(_, label)| &**label == "south"))
        .map(|c| &c.id)
        .collect();
    assert_eq!(south, [&heavy]);
}

/// The full CDNOW cohort valued under pseudonyms gives the same equity, the same value per
/// customer (matched through the key holder's table) and the same segments as the plain ledger;
/// the pseudonymised ledger serializes without any plain id or contact detail.
#[test]
fn a_pseudonymised_pipeline_gives_the_same_equity_as_the_plain_one() {
    use customer_assets::Pseudonymizer;
    let (plain, heavy) = cdnow();
    let key =
        Pseudonymizer::new(b"a key of thirty-two bytes or more, kept by the controller").unwrap();
    let outside = plain.pseudonymized(&key);
    let (a, b) = (report(&plain), report(&outside));
    assert_eq!(a.equity, b.equity);
    assert_eq!(a.customers.len(), b.customers.len());
    let back = key.reidentifier(a.customers.iter().map(|c| c.id.clone()));
    assert_eq!(back.len(), a.customers.len());
    let by_id: std::collections::HashMap<&CustomerId, _> =
        a.customers.iter().map(|c| (&c.id, c)).collect();
    // Every segmenter, k-means included, learns from the customers' features and not from
    // their order or ids: the segments are the same.
    for c in &b.customers {
        let original = by_id[back.identity(&c.id).unwrap()];
        assert_eq!(
            (c.clv, &c.segments, c.asset_class),
            (original.clv, &original.segments, original.asset_class)
        );
    }
    let named = |r: &EquityReport, name: &str| {
        serde_json::to_value(r.by_segment.iter().find(|s| s.segmenter == name).unwrap()).unwrap()
    };
    for name in ["rfm", "abc", "lifecycle", "kmeans"] {
        assert_eq!(named(&a, name), named(&b, name));
    }
    let json = serde_json::to_value(outside.with_contact_details()).unwrap();
    let mut ids = Vec::new();
    ids_in(&json, &mut ids);
    assert!(ids.iter().all(|id| id.len() == 64), "a plain id left");
    assert!(ids.contains(&key.pseudonym(&heavy).to_string()));
    assert!(!json.to_string().contains("example.com"));
    assert!(!json.to_string().contains("Person Named"));
    // Consents travel with the pseudonym, so exports outside can still be filtered.
    let scope = outside.consent_scope(&Purpose::MARKETING_CONTACT, as_of());
    assert!(scope.allows(&key.pseudonym(&heavy)));
}
