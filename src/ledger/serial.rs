//! The ledger's serialized form: its records, replayed through the ledger's checks on the way
//! in. Contact details (on customers and in updates of contact attributes) are written only
//! through [`Ledger::with_contact_details`].

use serde::{Deserialize, Serialize};

use super::store::{Ledger, LedgerError, LedgerOptions};
use crate::records::{
    AttributeUpdate, Customer, Feedback, Referral, SourcePrecedence, Transaction,
};

/// A [`Ledger`] that serializes with its customers' contact details (from
/// [`Ledger::with_contact_details`]).
#[derive(Clone, Copy, Debug)]
pub struct LedgerWithContactDetails<'a>(&'a Ledger);

#[derive(Serialize)]
struct LedgerOut<'a, C: Serialize> {
    options: &'a LedgerOptions,
    source_precedence: &'a SourcePrecedence,
    customers: Vec<C>,
    attribute_updates: Vec<&'a AttributeUpdate>,
    transactions: &'a [Transaction],
    feedback: &'a [Feedback],
    #[serde(skip_serializing_if = "<[Referral]>::is_empty")]
    referrals: &'a [Referral],
    duplicates_dropped: usize,
    erasures: usize,
}

#[derive(Deserialize)]
struct LedgerRaw {
    options: LedgerOptions,
    #[serde(default)]
    source_precedence: SourcePrecedence,
    customers: Vec<Customer>,
    #[serde(default)]
    attribute_updates: Vec<AttributeUpdate>,
    transactions: Vec<Transaction>,
    #[serde(default)]
    feedback: Vec<Feedback>,
    #[serde(default)]
    referrals: Vec<Referral>,
    #[serde(default)]
    duplicates_dropped: usize,
    #[serde(default)]
    erasures: usize,
}

impl Ledger {
    fn out<'a, C: Serialize>(
        &'a self,
        customer: impl Fn(&'a Customer) -> C,
        contact: bool,
    ) -> LedgerOut<'a, C> {
        let mut attribute_updates: Vec<&AttributeUpdate> = self
            .customers()
            .flat_map(|c| self.updates(c.id()))
            .filter(|u| contact || !u.attribute().is_contact())
            .collect();
        attribute_updates.sort_by(|a, b| a.customer().cmp(b.customer()));
        LedgerOut {
            options: &self.options,
            source_precedence: &self.precedence,
            customers: self.customers().map(customer).collect(),
            attribute_updates,
            transactions: &self.transactions,
            feedback: &self.feedback,
            referrals: &self.referrals,
            duplicates_dropped: self.duplicates_dropped,
            erasures: self.erasures,
        }
    }

    /// The ledger for serializing with contact details (on customers and in updates of contact
    /// attributes): the opt-in for hosts that mean to write personal data out. The plain
    /// `Serialize` leaves them out.
    pub fn with_contact_details(&self) -> LedgerWithContactDetails<'_> {
        LedgerWithContactDetails(self)
    }
}

/// The default serialized form: every record but contact details.
impl Serialize for Ledger {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.out(|c| c, false).serialize(serializer)
    }
}

impl Serialize for LedgerWithContactDetails<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0
            .out(Customer::with_contact_details, true)
            .serialize(serializer)
    }
}

/// Reads a ledger back through [`Ledger::add_customer`], [`Ledger::add_transaction`],
/// [`Ledger::add_feedback`], [`Ledger::update`] and [`Ledger::add_referral`]: a serialized ledger that breaks a rule is
/// refused with the rule's error.
impl<'de> Deserialize<'de> for Ledger {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = LedgerRaw::deserialize(deserializer)?;
        replay(raw).map_err(serde::de::Error::custom)
    }
}

fn replay(raw: LedgerRaw) -> Result<Ledger, LedgerError> {
    let mut ledger = Ledger::new(raw.options);
    ledger.set_source_precedence(raw.source_precedence);
    ledger.extend_customers(raw.customers)?;
    ledger.extend_transactions(raw.transactions)?;
    for f in raw.feedback {
        ledger.add_feedback(f)?;
    }
    for u in raw.attribute_updates {
        ledger.update(u)?;
    }
    ledger.extend_referrals(raw.referrals)?;
    ledger.duplicates_dropped += raw.duplicates_dropped;
    ledger.erasures = raw.erasures;
    Ok(ledger)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{Attribute, CustomerId, Purpose};
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    fn ledger() -> Ledger {
        let ann = CustomerId::new("ann").unwrap();
        let mut l = Ledger::new(LedgerOptions::default());
        l.add_customer(
            Customer::builder(ann.clone(), day(1, 1))
                .name("Ann Example")
                .phone("+1 555 0100")
                .region("north")
                .build(),
        )
        .unwrap();
        l.give_consent(&ann, Purpose::MARKETING_CONTACT, day(1, 2))
            .unwrap();
        l.update(
            AttributeUpdate::set(
                ann.clone(),
                Attribute::Email,
                "ann@example.com",
                day(2, 1),
                "crm",
            )
            .unwrap(),
        )
        .unwrap();
        l.update(
            AttributeUpdate::set(ann.clone(), Attribute::Region, "south", day(2, 1), "crm")
                .unwrap(),
        )
        .unwrap();
        l.add_transaction(
            Transaction::purchase(ann.clone(), day(1, 5), Decimal::TEN)
                .unwrap()
                .with_id("o-1")
                .unwrap(),
        )
        .unwrap();
        l.add_feedback(Feedback::new(ann, day(3, 1), None, Some(9)).unwrap())
            .unwrap();
        l
    }

    #[test]
    fn the_default_form_holds_no_contact_and_the_opt_in_round_trips() {
        let l = ledger();
        let plain = serde_json::to_string(&l).unwrap();
        for personal in ["Ann", "555", "example.com"] {
            assert!(!plain.contains(personal), "{plain}");
        }
        assert!(
            plain.contains("south") && plain.contains("marketing_contact"),
            "{plain}"
        );
        let back: Ledger = serde_json::from_str(&plain).unwrap();
        let ann = CustomerId::new("ann").unwrap();
        assert_eq!(back.transactions(), l.transactions());
        assert_eq!(back.updates(&ann).len(), 1);
        assert_eq!(
            back.customer(&ann).unwrap().consents(),
            l.customer(&ann).unwrap().consents()
        );

        let full = serde_json::to_string(&l.with_contact_details()).unwrap();
        let back: Ledger = serde_json::from_str(&full).unwrap();
        assert_eq!(back.customer(&ann), l.customer(&ann));
        assert_eq!(back.updates(&ann), l.updates(&ann));
        assert_eq!(back.feedback(), l.feedback());
        assert_eq!(
            serde_json::to_string(&back.with_contact_details()).unwrap(),
            full
        );
    }

    #[test]
    fn referrals_round_trip_and_are_checked_on_the_way_in() {
        let mut l = ledger();
        let (ann, bob) = (
            CustomerId::new("ann").unwrap(),
            CustomerId::new("bob").unwrap(),
        );
        l.add_transaction(Transaction::purchase(bob.clone(), day(2, 1), Decimal::ONE).unwrap())
            .unwrap();
        let r = Referral::new(ann, bob, day(1, 20))
            .unwrap()
            .with_channel("app")
            .unwrap();
        l.add_referral(r).unwrap();
        let json = serde_json::to_string(&l).unwrap();
        let back: Ledger = serde_json::from_str(&json).unwrap();
        assert_eq!(back.referrals(), l.referrals());
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        // A ledger without referrals writes no referrals field.
        assert!(!serde_json::to_string(&ledger())
            .unwrap()
            .contains("referrals"));
        // The referral moved after bob's first purchase.
        let late = json.replace("\"date\":\"2024-01-20\"", "\"date\":\"2024-02-02\"");
        assert_ne!(late, json);
        let err = serde_json::from_str::<Ledger>(&late).unwrap_err();
        assert!(err.to_string().contains("referral of bob by ann"), "{err}");
    }

    #[test]
    fn a_serialized_ledger_that_breaks_a_rule_is_refused_with_the_rule() {
        let json = serde_json::to_string(&ledger()).unwrap();
        // The purchase moved before the customer's acquisition.
        let early = json.replace("2024-01-05T00:00:00", "2023-12-31T00:00:00");
        let err = serde_json::from_str::<Ledger>(&early).unwrap_err();
        assert!(
            err.to_string().contains("before customer ann was acquired"),
            "{err}"
        );
    }
}
