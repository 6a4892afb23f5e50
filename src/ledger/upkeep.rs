//! Record upkeep: attribute updates from several sources with effective dates, consents given
//! and withdrawn, the customer as of any day, and how fresh each attribute is.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::NaiveDate;

use super::store::{Added, Ledger, LedgerError};
use crate::records::{
    Attribute, AttributeUpdate, Consent, Customer, CustomerId, Purpose, RecordError,
    SourcePrecedence,
};

/// What [`Ledger::upsert_customer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// The customer was new and was added.
    Added,
    /// The customer was known: this many attribute updates were recorded (those the offered
    /// record states; a repeat of one held counts too, as a confirmation is not new).
    Updated(usize),
}

/// An attribute whose value in force was last stated longer ago than the freshness limit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct StaleAttribute {
    /// The customer.
    pub customer: CustomerId,
    /// The attribute.
    pub attribute: Attribute,
    /// The last day a source stated the value in force (the acquisition day for a value on the
    /// customer's first record).
    pub last_confirmed: NaiveDate,
    /// Days from `last_confirmed` to the report's day.
    pub days_since: i64,
}

/// Which attributes were not confirmed within a number of days (see [`Ledger::freshness`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Freshness {
    /// The day the freshness is judged on.
    pub as_of: NaiveDate,
    /// The limit: a value not confirmed for more than this many days is stale.
    pub max_age_days: u32,
    /// How many attribute values were in force on `as_of` (the ones judged).
    pub attributes_checked: usize,
    /// The stale ones, by customer (in the order customers were added), then attribute.
    pub stale: Vec<StaleAttribute>,
}

/// The customers whose consent covers a purpose on a day: the filter for exports (see
/// [`Ledger::consent_scope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScope {
    purpose: Purpose,
    day: NaiveDate,
    consenting: HashSet<CustomerId>,
}

impl ConsentScope {
    /// The scope of consents held outside a ledger (e.g. a consent file beside a summary
    /// file): the customers with a consent to `purpose` that covers `day`.
    pub fn from_consents<'a>(
        purpose: &Purpose,
        day: NaiveDate,
        consents: impl IntoIterator<Item = (&'a CustomerId, &'a Consent)>,
    ) -> Self {
        ConsentScope {
            purpose: purpose.clone(),
            day,
            consenting: consents
                .into_iter()
                .filter(|(_, c)| c.purpose() == purpose && c.covers(day))
                .map(|(id, _)| id.clone())
                .collect(),
        }
    }

    /// The purpose.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The day consent is judged on.
    pub fn day(&self) -> NaiveDate {
        self.day
    }
    /// Whether a customer's consent covers the purpose on the day. A customer the ledger holds
    /// no record for has given no consent.
    pub fn allows(&self, id: &CustomerId) -> bool {
        self.consenting.contains(id)
    }
    /// How many customers consent.
    pub fn len(&self) -> usize {
        self.consenting.len()
    }
    /// Whether no customer consents.
    pub fn is_empty(&self) -> bool {
        self.consenting.is_empty()
    }
    /// Keeps the rows of consenting customers, in order, and returns how many were left out.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::records::{Consent, Purpose};
    /// use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions};
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// let (ann, bob) = (CustomerId::new("ann")?, CustomerId::new("bob")?);
    /// ledger.add_customer(Customer::new(ann.clone(), day))?;
    /// ledger.add_customer(Customer::new(bob.clone(), day))?;
    /// ledger.give_consent(&ann, Purpose::MARKETING_CONTACT, day)?;
    /// let scope = ledger.consent_scope(&Purpose::MARKETING_CONTACT, day);
    /// let mut rows = vec![(ann.clone(), "grow"), (bob, "win back")];
    /// assert_eq!(scope.retain(&mut rows, |r| &r.0), 1);
    /// assert_eq!(rows, [(ann, "grow")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retain<T>(&self, rows: &mut Vec<T>, id: impl Fn(&T) -> &CustomerId) -> usize {
        let before = rows.len();
        rows.retain(|row| self.allows(id(row)));
        before - rows.len()
    }
}

impl Ledger {
    /// The precedence between sources and the survivorship rule that pick each attribute's
    /// value in force.
    pub fn source_precedence(&self) -> &SourcePrecedence {
        &self.precedence
    }

    /// Sets the precedence between sources. It applies to every question asked afterwards
    /// (updates are kept as given, so changing it never loses one).
    pub fn set_source_precedence(&mut self, precedence: SourcePrecedence) {
        self.precedence = precedence;
    }

    fn known_customer(
        &mut self,
        id: &CustomerId,
        record: impl FnOnce() -> String,
    ) -> Result<&mut Customer, LedgerError> {
        self.customers
            .get_mut(id)
            .ok_or_else(|| LedgerError::UnknownCustomer { record: record() })
    }

    /// Records an attribute update: an upsert, kept beside the others, never a conflict with
    /// the customer's first record. The value in force on any day is chosen by the
    /// [`source_precedence`](Self::source_precedence).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::records::{Attribute, AttributeUpdate, SourcePrecedence};
    /// use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions};
    /// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
    /// let ann = CustomerId::new("ann")?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.set_source_precedence(SourcePrecedence::new(["crm", "web_form"])?);
    /// ledger.add_customer(Customer::builder(ann.clone(), d(1, 1)?).region("north").build())?;
    /// ledger.update(AttributeUpdate::set(ann.clone(), Attribute::Region, "south", d(3, 1)?, "web_form")?)?;
    /// ledger.update(AttributeUpdate::set(ann.clone(), Attribute::Region, "east", d(3, 1)?, "crm")?)?;
    /// let region = |day| ledger.customer_as_of(&ann, day).and_then(|c| c.region().map(str::to_owned));
    /// assert_eq!(region(d(2, 1)?).as_deref(), Some("north"));
    /// assert_eq!(region(d(3, 1)?).as_deref(), Some("east")); // same day: the CRM wins
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownCustomer`] when the customer was not added;
    /// [`LedgerError::BeforeAcquisition`] for an update effective before the acquisition date;
    /// [`LedgerError::ConflictingUpdate`] when the same source stated another value for the
    /// same attribute effective the same day (no rule could choose between the two without
    /// depending on the order they arrived in); [`LedgerError::OutsideWindow`] when the
    /// effective date lies outside the window.
    pub fn update(&mut self, update: AttributeUpdate) -> Result<Added, LedgerError> {
        self.check_window(
            || format!("attribute update {}", update.describe()),
            update.effective(),
        )?;
        let acquired = self
            .known_customer(update.customer(), || update.describe())?
            .acquired();
        if update.effective() < acquired {
            return Err(LedgerError::BeforeAcquisition {
                record: format!("attribute update {}", update.describe()),
                customer: update.customer().clone(),
                acquired,
            });
        }
        let held = self.updates.entry(update.customer().clone()).or_default();
        let key = |u: &AttributeUpdate| (u.attribute(), u.effective(), u.source().to_owned());
        match held.binary_search_by_key(&key(&update), key) {
            Ok(i) if held[i] == update => Ok(Added::Duplicate),
            Ok(_) => Err(LedgerError::ConflictingUpdate {
                record: update.describe(),
            }),
            Err(i) => {
                held.insert(i, update);
                Ok(Added::New)
            }
        }
    }

    /// Adds the customer, or, when the id is known, records as updates from `source` effective
    /// on `effective` the attributes the offered record states (a record that leaves an
    /// attribute out says nothing about it).
    ///
    /// # Errors
    ///
    /// Those of [`add_customer`](Self::add_customer) for a new customer and of
    /// [`update`](Self::update) for a known one; [`LedgerError::UpsertConflict`] when a known
    /// customer is offered with another acquisition date, or with tags, consents or typed
    /// attributes (name and value) it does not hold (those are not attributes with a history:
    /// consents change through [`give_consent`](Self::give_consent) and
    /// [`withdraw_consent`](Self::withdraw_consent)).
    pub fn upsert_customer(
        &mut self,
        customer: Customer,
        source: &str,
        effective: NaiveDate,
    ) -> Result<Upserted, LedgerError> {
        let Some(held) = self.customers.get(customer.id()) else {
            self.add_customer(customer)?;
            return Ok(Upserted::Added);
        };
        let conflict = |field| LedgerError::UpsertConflict {
            customer: customer.id().clone(),
            field,
        };
        if held.acquired() != customer.acquired() {
            return Err(conflict("acquisition date"));
        }
        if customer.tags().iter().any(|t| !held.has_tag(t)) {
            return Err(conflict("tags"));
        }
        if customer
            .consents()
            .iter()
            .any(|c| !held.consents().contains(c))
        {
            return Err(conflict("consents"));
        }
        // Typed attributes have no dated updates: an upsert may repeat them, not change them.
        if customer
            .attributes()
            .iter()
            .any(|(name, value)| held.attribute_value(name) != Some(value))
        {
            return Err(conflict("typed attributes"));
        }
        // Every update is checked before any is recorded, so that a failure records none.
        let updates = Attribute::ALL
            .into_iter()
            .filter_map(|a| {
                customer.attribute(a).map(|value| {
                    AttributeUpdate::set(customer.id().clone(), a, value, effective, source)
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;
        let mut trial = self.updates.get(customer.id()).cloned().unwrap_or_default();
        for u in &updates {
            self.check_update_fits(u, &trial)?;
            trial.push(u.clone());
        }
        let count = updates.len();
        for u in updates {
            self.update(u)?;
        }
        Ok(Upserted::Updated(count))
    }

    /// The checks of [`update`](Self::update) that can fail, against `held` updates.
    fn check_update_fits(
        &self,
        update: &AttributeUpdate,
        held: &[AttributeUpdate],
    ) -> Result<(), LedgerError> {
        self.check_window(
            || format!("attribute update {}", update.describe()),
            update.effective(),
        )?;
        if let Some(c) = self.customers.get(update.customer()) {
            if update.effective() < c.acquired() {
                return Err(LedgerError::BeforeAcquisition {
                    record: format!("attribute update {}", update.describe()),
                    customer: c.id().clone(),
                    acquired: c.acquired(),
                });
            }
        }
        let clash = held.iter().any(|u| {
            u.attribute() == update.attribute()
                && u.effective() == update.effective()
                && u.source() == update.source()
                && u != update
        });
        if clash {
            return Err(LedgerError::ConflictingUpdate {
                record: update.describe(),
            });
        }
        Ok(())
    }

    /// The attribute updates held for a customer, by attribute, effective date and source.
    pub fn updates(&self, id: &CustomerId) -> &[AttributeUpdate] {
        self.updates.get(id).map_or(&[], Vec::as_slice)
    }

    /// The customer's record as of `day`: the first record with each attribute replaced by the
    /// update in force on that day. `None` for a customer not added.
    pub fn customer_as_of(&self, id: &CustomerId, day: NaiveDate) -> Option<Cow<'_, Customer>> {
        let base = self.customers.get(id)?;
        let Some(updates) = self.updates.get(id).filter(|u| !u.is_empty()) else {
            return Some(Cow::Borrowed(base));
        };
        let mut customer = base.clone();
        for attribute in Attribute::ALL {
            let of_attribute = updates.iter().filter(|u| u.attribute() == attribute);
            if let Some(winner) = self.precedence.in_force(of_attribute, day) {
                customer.set_attribute(attribute, winner.value());
            }
        }
        Some(Cow::Owned(customer))
    }

    /// The history of one attribute: the value in force from each day it changed on, starting
    /// with the first record's (on the acquisition day).
    pub fn attribute_history(
        &self,
        id: &CustomerId,
        attribute: Attribute,
    ) -> Vec<(NaiveDate, Option<String>)> {
        let Some(base) = self.customers.get(id) else {
            return Vec::new();
        };
        let mut history = vec![(
            base.acquired(),
            base.attribute(attribute).map(str::to_owned),
        )];
        let mut days: Vec<NaiveDate> = self
            .updates(id)
            .iter()
            .filter(|u| u.attribute() == attribute)
            .map(AttributeUpdate::effective)
            .collect();
        days.dedup();
        for day in days {
            let of_attribute = self
                .updates(id)
                .iter()
                .filter(|u| u.attribute() == attribute);
            let value = self
                .precedence
                .in_force(of_attribute, day)
                .map(|u| u.value().map(str::to_owned));
            if let Some(value) = value {
                // An update effective on the acquisition day replaces the first record's value.
                if history.len() == 1 && history[0].0 == day {
                    history[0].1 = value;
                } else if history.last().map(|(_, v)| v) != Some(&value) {
                    history.push((day, value));
                }
            }
        }
        history
    }

    /// Which attribute values in force on `as_of` no source has stated for more than
    /// `max_age_days` days. A value counts as confirmed on each day a source stated that same
    /// value (whichever source), and on the acquisition day when the first record held it.
    pub fn freshness(&self, as_of: NaiveDate, max_age_days: u32) -> Freshness {
        let mut stale = Vec::new();
        let mut attributes_checked = 0;
        for base in self.customers() {
            if base.acquired() > as_of {
                continue;
            }
            let Some(now) = self.customer_as_of(base.id(), as_of) else {
                continue;
            };
            for attribute in Attribute::ALL {
                let Some(value) = now.attribute(attribute) else {
                    continue;
                };
                attributes_checked += 1;
                let stated = self
                    .updates(base.id())
                    .iter()
                    .filter(|u| {
                        u.attribute() == attribute
                            && u.effective() <= as_of
                            && u.value() == Some(value)
                    })
                    .map(AttributeUpdate::effective);
                let first = (base.attribute(attribute) == Some(value)).then_some(base.acquired());
                // A value in force was stated by an update or held by the first record.
                let Some(last_confirmed) = stated.chain(first).max() else {
                    continue;
                };
                let days_since = (as_of - last_confirmed).num_days();
                if days_since > i64::from(max_age_days) {
                    stale.push(StaleAttribute {
                        customer: base.id().clone(),
                        attribute,
                        last_confirmed,
                        days_since,
                    });
                }
            }
        }
        Freshness {
            as_of,
            max_age_days,
            attributes_checked,
            stale,
        }
    }

    /// Records that a customer consented to `purpose` on `day`. Giving a consent already in
    /// force on that day changes nothing.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownCustomer`] when the customer was not added;
    /// [`LedgerError::OutsideWindow`] for a day outside the window.
    pub fn give_consent(
        &mut self,
        id: &CustomerId,
        purpose: Purpose,
        day: NaiveDate,
    ) -> Result<(), LedgerError> {
        let record = || format!("consent of customer {id} to {purpose}");
        self.check_window(record, day)?;
        let customer = self.known_customer(id, record)?;
        if !customer.consents_to(&purpose, day) {
            customer.consents_mut().push(Consent::given(purpose, day));
        }
        Ok(())
    }

    /// Records that a customer withdrew their consent to `purpose` on `day`: the consent in
    /// force on that day ends.
    ///
    /// # Errors
    ///
    /// [`LedgerError::UnknownCustomer`] when the customer was not added;
    /// [`LedgerError::Record`] with [`RecordError::WithdrawalBeforeConsent`] when no consent to
    /// the purpose is in force on `day` (none given, or one given only later);
    /// [`LedgerError::OutsideWindow`] for a day outside the window.
    pub fn withdraw_consent(
        &mut self,
        id: &CustomerId,
        purpose: &Purpose,
        day: NaiveDate,
    ) -> Result<(), LedgerError> {
        let record = || format!("consent of customer {id} to {purpose}");
        self.check_window(record, day)?;
        let customer = self.known_customer(id, record)?;
        let consents = customer.consents_mut();
        let open = consents
            .iter()
            .position(|c| c.purpose() == purpose && c.covers(day));
        let Some(i) = open else {
            let given = consents
                .iter()
                .filter(|c| c.purpose() == purpose && c.given_on() > day)
                .map(Consent::given_on)
                .min();
            return Err(LedgerError::Record(RecordError::WithdrawalBeforeConsent {
                record: record(),
                given,
                withdrawn: day,
            }));
        };
        let withdrawn = consents[i].clone().withdrawn(day)?;
        consents[i] = withdrawn;
        Ok(())
    }

    /// The customers whose consent covers `purpose` on `day`: the filter that restricts an
    /// export (segment labels, the report's customers) to them.
    pub fn consent_scope(&self, purpose: &Purpose, day: NaiveDate) -> ConsentScope {
        let consents = self
            .customers
            .values()
            .flat_map(|c| c.consents().iter().map(move |consent| (c.id(), consent)));
        ConsentScope::from_consents(purpose, day, consents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::Survivorship;
    use proptest::prelude::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn id(n: u64) -> CustomerId {
        CustomerId::from(n)
    }
    fn ledger_with(n: u64) -> Ledger {
        let mut l = Ledger::new(super::super::LedgerOptions::default());
        for k in 1..=n {
            let c = Customer::builder(id(k), day(1, 1)).region("north").build();
            l.add_customer(c).unwrap();
        }
        l
    }
    fn set(k: u64, a: Attribute, v: &str, m: u32, d: u32, s: &str) -> AttributeUpdate {
        AttributeUpdate::set(id(k), a, v, day(m, d), s).unwrap()
    }

    #[test]
    fn updates_are_upserts_with_a_history_as_of_any_day() {
        let mut l = ledger_with(1);
        l.update(set(1, Attribute::Region, "south", 3, 1, "web"))
            .unwrap();
        l.update(set(1, Attribute::Region, "west", 6, 1, "crm"))
            .unwrap();
        l.update(AttributeUpdate::clear(id(1), Attribute::Region, day(9, 1), "crm").unwrap())
            .unwrap();
        let region = |d| {
            l.customer_as_of(&id(1), d)
                .unwrap()
                .region()
                .map(str::to_owned)
        };
        assert_eq!(region(day(2, 28)).as_deref(), Some("north"));
        assert_eq!(region(day(3, 1)).as_deref(), Some("south"));
        assert_eq!(region(day(8, 31)).as_deref(), Some("west"));
        assert_eq!(region(day(9, 1)), None);
        assert_eq!(
            l.attribute_history(&id(1), Attribute::Region),
            [
                (day(1, 1), Some("north".into())),
                (day(3, 1), Some("south".into())),
                (day(6, 1), Some("west".into())),
                (day(9, 1), None),
            ]
        );
        // The first record is unchanged.
        assert_eq!(l.customer(&id(1)).unwrap().region(), Some("north"));
    }

    #[test]
    fn bad_updates_are_typed_errors_naming_the_record() {
        let mut l = ledger_with(1);
        let err = l
            .update(set(2, Attribute::Region, "x", 3, 1, "crm"))
            .unwrap_err();
        assert!(matches!(err, LedgerError::UnknownCustomer { .. }), "{err}");
        assert!(err.to_string().contains("customer 2"), "{err}");
        let mut early = ledger_with(0);
        early.add_customer(Customer::new(id(1), day(5, 1))).unwrap();
        let err = early
            .update(set(1, Attribute::Region, "x", 4, 1, "crm"))
            .unwrap_err();
        assert!(
            matches!(err, LedgerError::BeforeAcquisition { .. }),
            "{err}"
        );
        l.update(set(1, Attribute::Region, "x", 3, 1, "crm"))
            .unwrap();
        assert_eq!(
            l.update(set(1, Attribute::Region, "x", 3, 1, "crm"))
                .unwrap(),
            Added::Duplicate
        );
        let err = l
            .update(set(1, Attribute::Region, "y", 3, 1, "crm"))
            .unwrap_err();
        assert!(
            matches!(err, LedgerError::ConflictingUpdate { .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("\"y\""), "{err}");
    }

    #[test]
    fn upsert_adds_new_customers_and_updates_known_ones() {
        let mut l = ledger_with(0);
        let c = Customer::builder(id(1), day(1, 1)).channel("web").build();
        assert_eq!(
            l.upsert_customer(c, "web", day(1, 1)).unwrap(),
            Upserted::Added
        );
        let again = Customer::builder(id(1), day(1, 1))
            .channel("store")
            .email("a@b.c")
            .build();
        assert_eq!(
            l.upsert_customer(again, "crm", day(2, 1)).unwrap(),
            Upserted::Updated(2)
        );
        let now = l.customer_as_of(&id(1), day(2, 1)).unwrap();
        assert_eq!(now.channel(), Some("store"));
        assert_eq!(now.contact().email.as_deref(), Some("a@b.c"));
        let moved = Customer::new(id(1), day(1, 2));
        let err = l.upsert_customer(moved, "crm", day(2, 1)).unwrap_err();
        assert!(err.to_string().contains("acquisition date"), "{err}");
        // A failed upsert records nothing.
        let clash = Customer::builder(id(1), day(1, 1))
            .channel("phone")
            .region("x")
            .build();
        let before = l.updates(&id(1)).len();
        assert!(l.upsert_customer(clash, "crm", day(2, 1)).is_err());
        assert_eq!(l.updates(&id(1)).len(), before);
    }

    #[test]
    fn freshness_names_values_not_stated_for_too_long() {
        let mut l = ledger_with(2);
        l.update(set(1, Attribute::Email, "a@b.c", 2, 1, "crm"))
            .unwrap();
        // Customer 2's region is confirmed by a source that repeats it.
        l.update(set(2, Attribute::Region, "north", 6, 1, "web"))
            .unwrap();
        let f = l.freshness(day(7, 1), 90);
        assert_eq!(f.attributes_checked, 3);
        let stale: Vec<_> = f
            .stale
            .iter()
            .map(|s| {
                (
                    s.customer.clone(),
                    s.attribute,
                    s.last_confirmed,
                    s.days_since,
                )
            })
            .collect();
        assert_eq!(
            stale,
            [
                (id(1), Attribute::Region, day(1, 1), 182),
                (id(1), Attribute::Email, day(2, 1), 151),
            ]
        );
        assert!(l.freshness(day(7, 1), 200).stale.is_empty());
    }

    #[test]
    fn consents_are_given_withdrawn_and_checked() {
        let mut l = ledger_with(2);
        let p = Purpose::MARKETING_CONTACT;
        let err = l.withdraw_consent(&id(1), &p, day(2, 1)).unwrap_err();
        assert!(err.to_string().contains("no consent to withdraw"), "{err}");
        l.give_consent(&id(1), p.clone(), day(3, 1)).unwrap();
        let err = l.withdraw_consent(&id(1), &p, day(2, 1)).unwrap_err();
        assert!(
            err.to_string()
                .contains("before it was given on 2024-03-01"),
            "{err}"
        );
        assert!(err.to_string().contains("customer 1"), "{err}");
        l.give_consent(&id(1), p.clone(), day(4, 1)).unwrap(); // already in force
        assert_eq!(l.customer(&id(1)).unwrap().consents().len(), 1);
        l.withdraw_consent(&id(1), &p, day(5, 1)).unwrap();
        assert_eq!(l.consent_scope(&p, day(4, 30)).len(), 1);
        assert!(l.consent_scope(&p, day(5, 1)).is_empty());
        assert!(!l
            .consent_scope(&Purpose::PROFILING, day(4, 1))
            .allows(&id(1)));
        let err = l.give_consent(&id(3), p, day(1, 1)).unwrap_err();
        assert!(matches!(err, LedgerError::UnknownCustomer { .. }), "{err}");
    }

    /// Updates of three attributes from three sources over a few days, some on the same day.
    fn updates() -> impl Strategy<Value = Vec<AttributeUpdate>> {
        let one = (0usize..3, 0usize..3, 1u32..6, 0usize..4).prop_map(|(a, s, d, v)| {
            let attribute = [Attribute::Region, Attribute::Channel, Attribute::Email][a];
            let source = ["crm", "web", "shop"][s];
            let value = ["a", "b", "c", ""][v];
            if value.is_empty() {
                AttributeUpdate::clear(id(1), attribute, day(2, d), source).unwrap()
            } else {
                AttributeUpdate::set(id(1), attribute, value, day(2, d), source).unwrap()
            }
        });
        proptest::collection::vec(one, 0..12).prop_map(|mut ups| {
            // The same source, attribute and day stated once: a contradiction is refused.
            let mut seen = std::collections::HashSet::new();
            ups.retain(|u| seen.insert((u.attribute(), u.effective(), u.source().to_owned())));
            ups
        })
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        #[test]
        fn upserts_in_any_order_give_the_same_state_as_of_each_day(
            (ups, shuffled) in updates().prop_flat_map(|ups| (Just(ups.clone()), Just(ups).prop_shuffle())),
            source_first in any::<bool>(),
        ) {
            let rule = if source_first { Survivorship::SourceFirst } else { Survivorship::MostRecent };
            let precedence = SourcePrecedence::new(["crm", "web"]).unwrap().survivorship(rule);
            let build = |order: &[AttributeUpdate]| {
                let mut l = ledger_with(1);
                l.set_source_precedence(precedence.clone());
                for u in order {
                    l.update(u.clone()).unwrap();
                }
                l
            };
            let (a, b) = (build(&ups), build(&shuffled));
            for d in 0..8 {
                let on = day(1, 31) + chrono::Days::new(d);
                prop_assert_eq!(a.customer_as_of(&id(1), on), b.customer_as_of(&id(1), on));
                prop_assert_eq!(a.freshness(on, 2), b.freshness(on, 2));
            }
            for attribute in Attribute::ALL {
                prop_assert_eq!(
                    a.attribute_history(&id(1), attribute),
                    b.attribute_history(&id(1), attribute)
                );
            }
        }
    }
}
