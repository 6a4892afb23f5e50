//! Erasure: removing a customer's personal data from the ledger, with their transactions or only
//! the link between the transactions and the person.

use std::collections::{HashMap, HashSet};

use super::store::Ledger;
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
    /// Referrals the customer made or was brought by, deleted: every one under
    /// [`ErasurePolicy::DeleteRecords`]; under [`ErasurePolicy::Unlink`] those of a customer
    /// without transactions (the new id would name no customer of the ledger).
    pub referrals_deleted: usize,
    /// Referrals kept with the new id in the customer's place (under [`ErasurePolicy::Unlink`]).
    pub referrals_unlinked: usize,
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
            && self.referrals_deleted == 0
            && self.referrals_unlinked == 0
    }
}

impl Ledger {
    /// Erases a customer: their record (contact details, attributes, tags, consents) and
    /// attribute updates always; their transactions, feedback and referrals by `policy`. Summaries,
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
        let mut erased = self.erase_all([id], policy);
        erased.pop().unwrap_or_else(|| Erasure::nothing(policy))
    }

    /// Erases many customers in one pass over the log (erasing them one by one passes over it
    /// once each), with the results in the order of `ids`; each as [`erase`](Self::erase)
    /// would give it one after the other (an id given twice is a no-op the second time).
    pub fn erase_all<'a>(
        &mut self,
        ids: impl IntoIterator<Item = &'a CustomerId>,
        policy: ErasurePolicy,
    ) -> Vec<Erasure> {
        let mut results = Vec::new();
        // Per erased id, its result's index.
        let mut erased: HashMap<CustomerId, usize> = HashMap::new();
        for id in ids {
            let mut erasure = Erasure::nothing(policy);
            if !erased.contains_key(id) {
                erasure.customer_record = self.customers.remove(id).is_some();
                erasure.attribute_updates = self.updates.remove(id).map_or(0, |u| u.len());
                erased.insert(id.clone(), results.len());
            }
            results.push(erasure);
        }
        if erased.is_empty() {
            return results;
        }
        self.customer_order.retain(|c| !erased.contains_key(c));
        let mut replacements: HashMap<CustomerId, CustomerId> = HashMap::new();
        match policy {
            ErasurePolicy::DeleteRecords => {
                self.feedback.retain(|f| match erased.get(f.customer()) {
                    Some(&k) => {
                        results[k].feedback_deleted += 1;
                        false
                    }
                    None => true,
                });
                let counts = self.slot_counts();
                let mut gone = vec![false; self.slot_customers.len()];
                for (id, &k) in &erased {
                    if let Some(&slot) = self.slots.get(id) {
                        if let Some(g) = gone.get_mut(slot as usize) {
                            *g = true;
                        }
                        results[k].transactions_deleted =
                            counts.get(slot as usize).copied().unwrap_or(0);
                    }
                }
                self.delete_slots(&gone);
            }
            ErasurePolicy::Unlink => {
                let feedback: HashSet<CustomerId> =
                    self.feedback.iter().map(|f| f.customer().clone()).collect();
                // A replacement only for customers with something to keep, in the order given.
                let mut with_records: Vec<(&CustomerId, usize)> = erased
                    .iter()
                    .filter(|(id, _)| self.slots.contains_key(*id) || feedback.contains(*id))
                    .map(|(id, &k)| (id, k))
                    .collect();
                with_records.sort_by_key(|&(_, k)| k);
                let mut chosen: HashSet<CustomerId> = HashSet::new();
                for (id, k) in with_records {
                    let (number, replacement) = self.unused_erased_id(&feedback, &chosen);
                    self.erasures = number;
                    chosen.insert(replacement.clone());
                    results[k].unlinked_as = Some(replacement.clone());
                    replacements.insert(id.clone(), replacement);
                }
                for f in &mut self.feedback {
                    if let Some(replacement) = replacements.get(f.customer()) {
                        if let Some(&k) = erased.get(f.customer()) {
                            results[k].feedback_unlinked += 1;
                        }
                        *f = f.clone().with_customer(replacement.clone());
                    }
                }
                let counts = self.slot_counts();
                for (id, replacement) in &replacements {
                    if let Some(slot) = self.slots.remove(id) {
                        let k = erased.get(id).copied().unwrap_or(0);
                        results[k].transactions_unlinked =
                            counts.get(slot as usize).copied().unwrap_or(0);
                        self.slots.insert(replacement.clone(), slot);
                        if let Some(entry) = self.slot_customers.get_mut(slot as usize) {
                            entry.0 = replacement.clone();
                        }
                    }
                }
                self.unlink_transactions();
            }
        }
        self.erase_referrals(&erased, &replacements, &mut results);
        results
    }

    /// Deletes or relabels the referrals of the erased customers (`erased`: each one's result
    /// index): relabelled where a replacement holds their transactions, deleted otherwise. A
    /// referral between two erased customers is counted as erasing them one by one in the order
    /// given would count it (by the first to delete it, by each that relabels it before).
    fn erase_referrals(
        &mut self,
        erased: &HashMap<CustomerId, usize>,
        replacements: &HashMap<CustomerId, CustomerId>,
        results: &mut [Erasure],
    ) {
        if self.referrals.is_empty() {
            return;
        }
        let relabel = |id: &CustomerId| -> Option<CustomerId> {
            replacements
                .get(id)
                .filter(|r| self.slots.contains_key(*r))
                .cloned()
        };
        let mut kept = Vec::with_capacity(self.referrals.len());
        for r in std::mem::take(&mut self.referrals) {
            let mut sides: Vec<(usize, &CustomerId)> = [r.referrer(), r.referred()]
                .into_iter()
                .filter_map(|id| erased.get(id).map(|&k| (k, id)))
                .collect();
            if sides.is_empty() {
                kept.push(r);
                continue;
            }
            sides.sort_by_key(|&(k, _)| k);
            let (mut referrer, mut referred) = (r.referrer().clone(), r.referred().clone());
            let mut deleted = false;
            for (k, id) in sides {
                match relabel(id) {
                    Some(new) => {
                        results[k].referrals_unlinked += 1;
                        if referrer == *id {
                            referrer = new;
                        } else {
                            referred = new;
                        }
                    }
                    None => {
                        results[k].referrals_deleted += 1;
                        deleted = true;
                        break;
                    }
                }
            }
            if !deleted {
                kept.push(r.with_parties(referrer, referred));
            }
        }
        self.referrals = kept;
        self.reindex_referrals();
    }

    /// Per slot, how many transactions it holds.
    fn slot_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.slot_customers.len()];
        for &s in &self.transaction_slots {
            if let Some(c) = counts.get_mut(s as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// `erased-N` for the first N past the last one used that no record (nor an id `chosen`
    /// earlier in the same erasure) uses, with N.
    fn unused_erased_id(
        &self,
        feedback: &HashSet<CustomerId>,
        chosen: &HashSet<CustomerId>,
    ) -> (usize, CustomerId) {
        let taken = |id: &CustomerId| {
            self.slots.contains_key(id)
                || self.customers.contains_key(id)
                || feedback.contains(id)
                || chosen.contains(id)
        };
        // Fewer ids are taken than there are records, so one of the first `records + 1`
        // candidates is free (the search is bounded by the ledger's size, not by a number).
        let records = self.slots.len() + self.customers.len() + feedback.len() + chosen.len();
        let first = self.erasures.saturating_add(1);
        (first..=first.saturating_add(records))
            .filter_map(|n| {
                CustomerId::new(&format!("erased-{n}"))
                    .ok()
                    .map(|id| (n, id))
            })
            .find(|(_, id)| !taken(id))
            .unwrap_or_else(|| (first, CustomerId::from(u64::MAX)))
    }

    /// Files every transaction under its slot's customer, without its id where the slot's
    /// customer changed (the slot map already names the replacement).
    fn unlink_transactions(&mut self) {
        for (t, &s) in self.transactions.iter_mut().zip(&self.transaction_slots) {
            let Some((owner, _)) = self.slot_customers.get(s as usize) else {
                continue;
            };
            if t.customer() != owner {
                if let Some(tid) = t.id() {
                    self.by_id.remove(tid);
                }
                *t = t.clone().unlinked(owner.clone());
            }
        }
    }

    /// Deletes the transactions of the slots marked `gone` and renumbers the others down (they
    /// keep their order of first appearance).
    fn delete_slots(&mut self, gone: &[bool]) {
        let is_gone = |s: u32| gone.get(s as usize).copied().unwrap_or(false);
        // Per old slot, its new number: the slots kept below it.
        let mut renumbered = Vec::with_capacity(gone.len());
        let mut kept_slots = 0u32;
        for &g in gone {
            renumbered.push(kept_slots);
            if !g {
                kept_slots += 1;
            }
        }
        // Per old transaction index, its new one (None when deleted).
        let mut new_index = Vec::with_capacity(self.transactions.len());
        let mut kept = 0usize;
        for &s in &self.transaction_slots {
            if is_gone(s) {
                new_index.push(None);
            } else {
                new_index.push(Some(kept));
                kept += 1;
            }
        }
        let mut index = 0;
        let slots = &self.transaction_slots;
        self.transactions.retain(|_| {
            let keep = !is_gone(slots[index]);
            index += 1;
            keep
        });
        self.transaction_slots.retain(|&s| !is_gone(s));
        for s in &mut self.transaction_slots {
            *s = renumbered.get(*s as usize).copied().unwrap_or(*s);
        }
        self.slots.retain(|_, s| !is_gone(*s));
        for s in self.slots.values_mut() {
            *s = renumbered.get(*s as usize).copied().unwrap_or(*s);
        }
        let mut slot = 0;
        self.slot_customers.retain(|_| {
            let keep = !is_gone(slot);
            slot += 1;
            keep
        });
        for entry in &mut self.slot_customers {
            // A kept slot's earliest transaction is kept.
            entry.1 = new_index.get(entry.1).copied().flatten().unwrap_or(0);
        }
        self.by_id
            .retain(|_, i| match new_index.get(*i).copied().flatten() {
                Some(moved) => {
                    *i = moved;
                    true
                }
                None => false,
            });
    }
}

impl Erasure {
    /// The result of erasing a customer the ledger does not hold.
    fn nothing(policy: ErasurePolicy) -> Self {
        Erasure {
            policy,
            customer_record: false,
            attribute_updates: 0,
            transactions_deleted: 0,
            transactions_unlinked: 0,
            feedback_deleted: 0,
            feedback_unlinked: 0,
            unlinked_as: None,
            referrals_deleted: 0,
            referrals_unlinked: 0,
        }
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

    #[test]
    fn referrals_are_deleted_or_relabelled_with_their_customers() {
        use crate::records::Referral;
        let referral = |from: u64, to: u64, m, d| {
            Referral::new(CustomerId::from(from), CustomerId::from(to), day(m, d)).unwrap()
        };
        let with_referrals = || {
            let mut l = ledger();
            // 1 brought 2 (acquired 1 January), 2 brought 3 (first purchase 5 January);
            // customer 8 has only a record and brought customer 1.
            l.add_customer(Customer::new(CustomerId::from(8u64), day(1, 1)))
                .unwrap();
            for r in [
                referral(1, 2, 1, 1),
                referral(2, 3, 1, 5),
                referral(8, 1, 1, 1),
            ] {
                l.add_referral(r).unwrap();
            }
            l
        };
        let two = CustomerId::from(2u64);
        let mut l = with_referrals();
        let e = l.erase(&two, ErasurePolicy::DeleteRecords);
        assert_eq!((e.referrals_deleted, e.referrals_unlinked), (2, 0));
        assert_eq!(l.referrals(), [referral(8, 1, 1, 1)]);
        // The index agrees: customer 3 may be referred again, and 2 is unknown.
        assert_eq!(l.referrer_of(&CustomerId::from(3u64)), None);
        l.add_referral(referral(1, 3, 1, 5)).unwrap();

        let mut l = with_referrals();
        let e = l.erase(&two, ErasurePolicy::Unlink);
        let erased = e.unlinked_as.clone().unwrap();
        assert_eq!((e.referrals_deleted, e.referrals_unlinked), (0, 2));
        assert!(l
            .referrals()
            .iter()
            .all(|r| r.referrer() != &two && r.referred() != &two));
        assert_eq!(l.referrer_of(&erased), Some(&CustomerId::from(1u64)));
        assert_eq!(l.referrer_of(&CustomerId::from(3u64)), Some(&erased));
        // Customer 8 has no transactions: unlinking leaves no customer to hold the referral.
        let e = l.erase(&CustomerId::from(8u64), ErasurePolicy::Unlink);
        assert_eq!((e.referrals_deleted, e.referrals_unlinked), (1, 0));
        assert_eq!(e.unlinked_as, None);
        assert_eq!(l.referrals().len(), 2);
        // Erasing both sides at once counts each referral once, as one by one would.
        let mut batch = with_referrals();
        let ids = [CustomerId::from(3u64), two.clone()];
        let at_once = batch.erase_all(&ids, ErasurePolicy::DeleteRecords);
        let mut serial = with_referrals();
        let one_by_one: Vec<Erasure> = ids
            .iter()
            .map(|id| serial.erase(id, ErasurePolicy::DeleteRecords))
            .collect();
        assert_eq!(at_once, one_by_one);
        assert_eq!(
            (at_once[0].referrals_deleted, at_once[1].referrals_deleted),
            (1, 1)
        );
        assert_eq!(batch.referrals(), serial.referrals());
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
        fn erasing_many_at_once_equals_erasing_them_one_by_one(
            rows in log(),
            who in proptest::collection::vec(1u64..8, 0..5),
            unlink in any::<bool>(),
        ) {
            let policy = if unlink { ErasurePolicy::Unlink } else { ErasurePolicy::DeleteRecords };
            let mut plain = build(&rows, None);
            // A feedback record for customer 7, who has no transactions.
            plain.add_feedback(Feedback::new(CustomerId::from(7u64), day(1, 9), None, Some(5)).unwrap()).unwrap();
            let ids: Vec<CustomerId> = who.iter().map(|&c| CustomerId::from(c)).collect();
            let mut batch = plain.clone();
            let at_once = batch.erase_all(&ids, policy);
            let mut serial = plain;
            let one_by_one: Vec<Erasure> = ids.iter().map(|id| serial.erase(id, policy)).collect();
            prop_assert_eq!(at_once, one_by_one);
            prop_assert_eq!(batch.transactions(), serial.transactions());
            prop_assert_eq!(batch.feedback(), serial.feedback());
            prop_assert_eq!(batch.transaction_slots(), serial.transaction_slots());
            prop_assert_eq!(&batch.slot_customers, &serial.slot_customers);
            prop_assert_eq!(&batch.by_id, &serial.by_id);
            prop_assert_eq!(&batch.slots, &serial.slots);
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
