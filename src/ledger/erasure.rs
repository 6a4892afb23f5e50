//! Erasure: removing a customer's personal data from the ledger, with their transactions or only
//! the link between the transactions and the person.

use std::collections::HashMap;
use std::sync::Arc;

use super::Ledger;
use crate::records::CustomerId;

/// What [`Ledger::erase`] does with the erased customer's transactions and feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ErasurePolicy {
    /// Delete them: the customer leaves every figure, aggregates included.
    DeleteRecords,
    /// Keep them under a new id that names nobody (`erased-1`, `erased-2`, … in order of
    /// erasure), without their transaction ids: revenue, orders, NPS and the fitted models stay
    /// as they were, and no output can be traced back to the person.
    Unlink,
}

/// What an erasure removed. Every count is zero for a customer the ledger does not hold, a
/// second erasure included: erasing twice is a no-op, not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Erasure {
    /// The policy applied.
    pub policy: ErasurePolicy,
    /// Whether the customer's record (attributes, contact details, tags, consents) was removed.
    pub customer_record: bool,
    /// Attribute updates removed (every one: they are the customer's personal data).
    pub attribute_updates: usize,
    /// Transactions deleted (under [`ErasurePolicy::DeleteRecords`]).
    pub transactions_deleted: usize,
    /// Transactions kept under the new id (under [`ErasurePolicy::Unlink`]).
    pub transactions_unlinked: usize,
    /// Feedback records deleted.
    pub feedback_deleted: usize,
    /// Feedback records kept under the new id.
    pub feedback_unlinked: usize,
    /// The id the unlinked records now carry, when any were unlinked.
    pub unlinked_as: Option<CustomerId>,
}

impl Erasure {
    /// Whether nothing was held for the customer (a second erasure, or an unknown id).
    pub fn is_noop(&self) -> bool {
        !self.customer_record
            && self.attribute_updates == 0
            && self.transactions_deleted == 0
            && self.transactions_unlinked == 0
            && self.feedback_deleted == 0
            && self.feedback_unlinked == 0
    }
}

impl Ledger {
    /// Erases a customer: their record (contact details, attributes, tags, consents) and
    /// attribute updates always; their transactions and feedback by `policy`. Summaries,
    /// segments, KPIs and reports computed afterwards never contain the customer, and the
    /// serialized ledger holds no trace of them.
    ///
    /// The ledger keeps no list of erased ids (that list would itself be personal data), so a
    /// record of the customer offered again afterwards is accepted as new: keeping erased
    /// customers out of later imports is the host's part.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::ledger::ErasurePolicy;
    /// use customer_assets::{CustomerId, Ledger, LedgerOptions, Transaction};
    /// use rust_decimal::Decimal;
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
    /// let ann = CustomerId::new("ann")?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.add_transaction(Transaction::purchase(ann.clone(), day, Decimal::TEN)?)?;
    /// let erased = ledger.erase(&ann, ErasurePolicy::Unlink);
    /// assert_eq!(erased.transactions_unlinked, 1);
    /// assert!(ledger.transactions().iter().all(|t| t.customer() != &ann));
    /// assert_eq!(ledger.transactions()[0].amount(), Decimal::TEN); // revenue kept
    /// assert!(ledger.erase(&ann, ErasurePolicy::Unlink).is_noop());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn erase(&mut self, id: &CustomerId, policy: ErasurePolicy) -> Erasure {
        let customer_record = match self.customers.remove(id) {
            Some(_) => {
                self.customer_order.retain(|c| c != id);
                true
            }
            None => false,
        };
        let attribute_updates = self.updates.remove(id).map_or(0, |u| u.len());
        let mut erasure = Erasure {
            policy,
            customer_record,
            attribute_updates,
            transactions_deleted: 0,
            transactions_unlinked: 0,
            feedback_deleted: 0,
            feedback_unlinked: 0,
            unlinked_as: None,
        };
        let has_feedback = self.feedback.iter().any(|f| f.customer() == id);
        let slot = self.slots.get(id).copied();
        if slot.is_none() && !has_feedback {
            return erasure;
        }
        match policy {
            ErasurePolicy::DeleteRecords => {
                let before = self.feedback.len();
                self.feedback.retain(|f| f.customer() != id);
                erasure.feedback_deleted = before - self.feedback.len();
                if let Some(slot) = slot {
                    erasure.transactions_deleted = self.delete_slot(id, slot);
                }
            }
            ErasurePolicy::Unlink => {
                let replacement = self.unused_erased_id();
                for f in &mut self.feedback {
                    if f.customer() == id {
                        *f = f.clone().with_customer(replacement.clone());
                        erasure.feedback_unlinked += 1;
                    }
                }
                if let Some(slot) = slot {
                    erasure.transactions_unlinked = self.unlink_slot(id, slot, &replacement);
                }
                self.erasures += 1;
                erasure.unlinked_as = Some(replacement);
            }
        }
        erasure
    }

    /// `erased-N` for the first N past the erasures so far that no record uses.
    fn unused_erased_id(&self) -> CustomerId {
        let taken = |id: &CustomerId| {
            self.slots.contains_key(id)
                || self.customers.contains_key(id)
                || self.feedback.iter().any(|f| f.customer() == id)
        };
        // Fewer ids are taken than there are records, so one of the first `records + 1`
        // candidates is free (the search is bounded by the ledger's size, not by a number).
        let records = self.slots.len() + self.customers.len() + self.feedback.len();
        let first = self.erasures.saturating_add(1);
        (first..=first.saturating_add(records))
            .filter_map(|n| CustomerId::new(&format!("erased-{n}")).ok())
            .find(|id| !taken(id))
            .unwrap_or_else(|| CustomerId::from(u64::MAX))
    }

    /// Files the slot's transactions under `replacement`, without their ids; the slot keeps
    /// its number, so no index moves. Returns how many there were.
    fn unlink_slot(&mut self, id: &CustomerId, slot: u32, replacement: &CustomerId) -> usize {
        let mut unlinked = 0;
        for (t, &s) in self.transactions.iter_mut().zip(&self.transaction_slots) {
            if s == slot {
                if let Some(tid) = t.id() {
                    self.by_id.remove(tid);
                }
                *t = t.clone().unlinked(replacement.clone());
                unlinked += 1;
            }
        }
        self.slots.remove(id);
        self.slots.insert(replacement.clone(), slot);
        if let Some(entry) = self.slot_customers.get_mut(slot as usize) {
            entry.0 = replacement.clone();
        }
        unlinked
    }

    /// Deletes the slot's transactions and renumbers the later slots down by one (they keep
    /// their order of first appearance). Returns how many were deleted.
    fn delete_slot(&mut self, id: &CustomerId, slot: u32) -> usize {
        // Per old index, its new index (None when deleted).
        let mut new_index = Vec::with_capacity(self.transactions.len());
        let mut kept = 0usize;
        for &s in &self.transaction_slots {
            if s == slot {
                new_index.push(None);
            } else {
                new_index.push(Some(kept));
                kept += 1;
            }
        }
        let deleted = self.transactions.len() - kept;
        let mut index = 0;
        let slots = &self.transaction_slots;
        self.transactions.retain(|_| {
            let keep = slots[index] != slot;
            index += 1;
            keep
        });
        self.transaction_slots.retain(|&s| s != slot);
        for s in &mut self.transaction_slots {
            if *s > slot {
                *s -= 1;
            }
        }
        self.slots.remove(id);
        for s in self.slots.values_mut() {
            if *s > slot {
                *s -= 1;
            }
        }
        if (slot as usize) < self.slot_customers.len() {
            self.slot_customers.remove(slot as usize);
        }
        for entry in &mut self.slot_customers {
            // A kept slot's earliest transaction is kept.
            entry.1 = new_index.get(entry.1).copied().flatten().unwrap_or(0);
        }
        let by_id: HashMap<Arc<str>, usize> = self
            .transactions
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.id().map(|tid| (Arc::from(tid), i)))
            .collect();
        self.by_id = by_id;
        deleted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Added, LedgerOptions};
    use crate::records::{Customer, Feedback, Purpose, Transaction};
    use crate::summary::SummaryOptions;
    use crate::time::TimeUnit;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn buy(c: u64, m: u32, d: u32, amount: i64, order: Option<&str>) -> Transaction {
        let t =
            Transaction::purchase(CustomerId::from(c), day(m, d), Decimal::from(amount)).unwrap();
        match order {
            Some(o) => t.with_id(o).unwrap(),
            None => t,
        }
    }

    /// Three customers; customer 2 has a record, consent, feedback and transactions with ids.
    fn ledger() -> Ledger {
        let mut l = Ledger::new(LedgerOptions::default());
        let ann = Customer::builder(CustomerId::from(2u64), day(1, 1))
            .email("ann@example.com")
            .region("north")
            .build();
        l.add_customer(ann).unwrap();
        l.give_consent(&CustomerId::from(2u64), Purpose::PROFILING, day(1, 1))
            .unwrap();
        for t in [
            buy(1, 1, 3, 10, Some("o-1")),
            buy(2, 1, 4, 20, Some("o-2")),
            buy(3, 1, 5, 30, Some("o-3")),
            buy(2, 2, 4, 25, Some("o-4")),
            buy(1, 3, 3, 15, None),
        ] {
            l.add_transaction(t).unwrap();
        }
        l.add_feedback(Feedback::new(CustomerId::from(2u64), day(2, 5), None, Some(3)).unwrap())
            .unwrap();
        l
    }

    #[test]
    fn delete_removes_the_customer_and_keeps_the_ledger_consistent() {
        let mut l = ledger();
        let two = CustomerId::from(2u64);
        let e = l.erase(&two, ErasurePolicy::DeleteRecords);
        assert!(e.customer_record);
        assert_eq!((e.transactions_deleted, e.feedback_deleted), (2, 1));
        assert_eq!(e.unlinked_as, None);
        assert!(l.transactions().iter().all(|t| t.customer() != &two));
        assert!(l.feedback().is_empty() && l.customer(&two).is_none());
        // The indexes still agree with the log: duplicates, conflicts and first purchases.
        assert_eq!(
            l.add_transaction(buy(3, 1, 5, 30, Some("o-3"))).unwrap(),
            Added::Duplicate
        );
        assert!(l.add_transaction(buy(3, 1, 5, 31, Some("o-3"))).is_err());
        assert_eq!(
            l.add_transaction(buy(2, 5, 1, 5, Some("o-2"))).unwrap(),
            Added::New
        );
        assert_eq!(
            l.first_transaction_at(&CustomerId::from(3u64))
                .map(|t| t.date()),
            Some(day(1, 5))
        );
        assert_eq!(l.transacting_customers(), 3);
        assert_eq!(l.transaction_slots(), [0, 1, 0, 2]);
    }

    #[test]
    fn unlink_keeps_the_figures_under_an_id_that_names_nobody() {
        let mut l = ledger();
        let two = CustomerId::from(2u64);
        let revenue: Decimal = l.transactions().iter().map(Transaction::amount).sum();
        let e = l.erase(&two, ErasurePolicy::Unlink);
        let erased = CustomerId::new("erased-1").unwrap();
        assert_eq!(e.unlinked_as.as_ref(), Some(&erased));
        assert_eq!((e.transactions_unlinked, e.feedback_unlinked), (2, 1));
        assert_eq!(
            l.transactions()
                .iter()
                .map(Transaction::amount)
                .sum::<Decimal>(),
            revenue
        );
        let theirs: Vec<_> = l
            .transactions()
            .iter()
            .filter(|t| t.customer() == &erased)
            .collect();
        assert_eq!(theirs.len(), 2);
        assert!(
            theirs.iter().all(|t| t.id().is_none()),
            "order ids lead back"
        );
        assert_eq!(l.feedback()[0].customer(), &erased);
        // The order id is free again, and the slot moved to the new id.
        assert_eq!(
            l.add_transaction(buy(5, 6, 1, 1, Some("o-2"))).unwrap(),
            Added::New
        );
        assert_eq!(l.slot_of(&erased), Some(1));
        assert_eq!(l.slot_of(&two), None);
        // A second erasure finds nothing; so does an unknown id.
        assert!(l.erase(&two, ErasurePolicy::Unlink).is_noop());
        assert!(l
            .erase(&CustomerId::from(99u64), ErasurePolicy::DeleteRecords)
            .is_noop());
        // The next unlinked customer gets the next id.
        let e = l.erase(&CustomerId::from(3u64), ErasurePolicy::Unlink);
        assert_eq!(e.unlinked_as, Some(CustomerId::new("erased-2").unwrap()));
    }

    #[test]
    fn the_replacement_id_never_takes_one_in_use() {
        let mut l = Ledger::new(LedgerOptions::default());
        let taken = CustomerId::new("erased-1").unwrap();
        l.add_transaction(Transaction::purchase(taken.clone(), day(1, 1), Decimal::ONE).unwrap())
            .unwrap();
        l.add_transaction(buy(7, 1, 2, 1, None)).unwrap();
        let e = l.erase(&CustomerId::from(7u64), ErasurePolicy::Unlink);
        assert_eq!(e.unlinked_as, Some(CustomerId::new("erased-2").unwrap()));
        assert_eq!(
            l.transactions()
                .iter()
                .filter(|t| t.customer() == &taken)
                .count(),
            1
        );
    }

    /// Small logs of up to five customers.
    fn log() -> impl Strategy<Value = Vec<(u64, u32, i64, Option<u8>)>> {
        proptest::collection::vec(
            (1u64..6, 1u32..28, 0i64..50, proptest::option::of(0u8..20)),
            1..30,
        )
    }

    fn build(rows: &[(u64, u32, i64, Option<u8>)], skip: Option<u64>) -> Ledger {
        let mut l = Ledger::new(LedgerOptions::default());
        for (i, &(c, d, amount, order)) in rows.iter().enumerate() {
            if Some(c) == skip {
                continue;
            }
            let t = buy(c, 1, d, amount, None);
            // Order ids unique per row, on about half the rows.
            let t = match order {
                Some(o) if o % 2 == 0 => t.with_id(&format!("o-{i}")).unwrap(),
                _ => t,
            };
            l.add_transaction(t).unwrap();
        }
        l
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        #[test]
        fn deleting_a_customer_equals_never_having_had_them(
            rows in log(),
            who in 1u64..6,
        ) {
            let mut erased = build(&rows, None);
            erased.erase(&CustomerId::from(who), ErasurePolicy::DeleteRecords);
            let never = build(&rows, Some(who));
            prop_assert_eq!(erased.transactions(), never.transactions());
            prop_assert_eq!(erased.transaction_slots(), never.transaction_slots());
            for c in 1..6u64 {
                let c = CustomerId::from(c);
                prop_assert_eq!(erased.slot_of(&c), never.slot_of(&c));
                prop_assert_eq!(erased.first_transaction_at(&c), never.first_transaction_at(&c));
            }
            let opts = SummaryOptions::new(day(2, 1), TimeUnit::DAYS);
            let (a, b) = (erased.summarize(opts), never.summarize(opts));
            prop_assert_eq!(a.ok(), b.ok());
        }

        #[test]
        fn unlinking_keeps_every_summary_but_the_name(rows in log(), who in 1u64..6) {
            let plain = build(&rows, None);
            let mut unlinked = plain.clone();
            let e = unlinked.erase(&CustomerId::from(who), ErasurePolicy::Unlink);
            let opts = SummaryOptions::new(day(2, 1), TimeUnit::DAYS);
            let (a, b) = (plain.summarize(opts).unwrap(), unlinked.summarize(opts).unwrap());
            prop_assert_eq!(a.len(), b.len());
            prop_assert!(b.get(&CustomerId::from(who)).is_none());
            for s in a.iter() {
                let id = if s.id() == &CustomerId::from(who) {
                    e.unlinked_as.clone().unwrap()
                } else {
                    s.id().clone()
                };
                let t = b.get(&id).unwrap();
                prop_assert_eq!(
                    (s.frequency(), s.recency(), s.age(), s.monetary_value()),
                    (t.frequency(), t.recency(), t.age(), t.monetary_value())
                );
            }
        }
    }
}
