//! Referrals in the ledger: who brought whom, checked against the customers held.
//!
//! The rules, kept whichever record arrives first:
//! - both sides are customers of the ledger: a customer record was added for them, or a
//!   transaction of theirs (the `clv` tool builds its ledger from transactions alone);
//! - the referred customer was not acquired, nor bought (any transaction, returns included),
//!   before the day of the referral: the same day is fine;
//! - a customer is referred at most once (an exact copy of the referral held is a no-op);
//! - referrals form no cycle (A brought B, B brought A): they make a forest, each customer
//!   hanging below the one who brought them.
//!
//! The referrer's own dates are not checked: the referral programme decides whether a referrer
//! must have bought first.

use super::store::{Added, Ledger, LedgerError};
use crate::records::{CustomerId, Referral, Transaction};

impl Ledger {
    /// Adds a referral; an exact copy of one held is [`Added::Duplicate`] (and dropped).
    ///
    /// A customer is known to the ledger when their customer record was added or a transaction
    /// of theirs was: add those first. The checks on the referred customer's dates hold
    /// whichever arrives first: a transaction or customer record added later that precedes a
    /// referral held is refused by [`add_transaction`](Self::add_transaction) and
    /// [`add_customer`](Self::add_customer). The cycle check walks up the referrer's line of
    /// referrers: its cost is the length of that line.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::records::Referral;
    /// use customer_assets::{Added, CustomerId, Ledger, LedgerError, LedgerOptions, Transaction};
    /// use rust_decimal::Decimal;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
    /// let id = CustomerId::new;
    /// let (ann, bob, cat) = (id("ann")?, id("bob")?, id("cat")?);
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// for (who, day) in [(&ann, d(1, 5)?), (&bob, d(2, 1)?), (&cat, d(2, 1)?)] {
    ///     ledger.add_transaction(Transaction::purchase(who.clone(), day, Decimal::TEN)?)?;
    /// }
    /// let referral = Referral::new(ann.clone(), bob.clone(), d(1, 20)?)?;
    /// assert_eq!(ledger.add_referral(referral.clone())?, Added::New);
    /// assert_eq!(ledger.add_referral(referral)?, Added::Duplicate);
    /// assert_eq!(ledger.referrer_of(&bob), Some(&ann));
    /// // Cat bought on 1 February: a referral dated after that did not bring her.
    /// let late = Referral::new(ann.clone(), cat, d(3, 1)?)?;
    /// assert!(matches!(ledger.add_referral(late), Err(LedgerError::TransactionBeforeReferral { .. })));
    /// let back = Referral::new(bob, ann, d(1, 5)?)?;
    /// assert!(matches!(ledger.add_referral(back), Err(LedgerError::ReferralCycle { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`LedgerError::OutsideWindow`] when it is dated outside the window;
    /// [`LedgerError::ReferredTwice`] when the referred customer was referred otherwise;
    /// [`LedgerError::ReferralOfUnknownCustomer`] when a side is not a customer of the ledger;
    /// [`LedgerError::AcquiredBeforeReferral`] or [`LedgerError::TransactionBeforeReferral`]
    /// when the referred customer was acquired or bought before the day of the referral;
    /// [`LedgerError::ReferralCycle`] when it would close a cycle of referrals.
    pub fn add_referral(&mut self, referral: Referral) -> Result<Added, LedgerError> {
        self.check_window(|| referral.to_string(), referral.date())?;
        let (referrer, referred) = (referral.referrer(), referral.referred());
        if let Some(&i) = self.referred_by.get(referred) {
            let held = &self.referrals[i];
            return if *held == referral {
                Ok(Added::Duplicate)
            } else {
                Err(LedgerError::ReferredTwice {
                    customer: referred.clone(),
                    held: held.to_string(),
                    offered: referral.to_string(),
                })
            };
        }
        for (role, id) in [("referrer", referrer), ("referred", referred)] {
            if !self.customers.contains_key(id) && !self.slots.contains_key(id) {
                return Err(LedgerError::ReferralOfUnknownCustomer {
                    record: referral.to_string(),
                    role,
                    customer: id.clone(),
                });
            }
        }
        if let Some(c) = self.customers.get(referred) {
            if c.acquired() < referral.date() {
                return Err(LedgerError::AcquiredBeforeReferral {
                    referral: referral.to_string(),
                    customer: referred.clone(),
                    acquired: c.acquired(),
                });
            }
        }
        if let Some(&slot) = self.slots.get(referred) {
            let first = &self.transactions[self.slot_customers[slot as usize].1];
            if first.date() < referral.date() {
                return Err(LedgerError::TransactionBeforeReferral {
                    referral: referral.to_string(),
                    transaction: first.describe(),
                });
            }
        }
        // The referred customer has no referrer (checked above), so the referral closes a cycle
        // exactly when they are among the referrer's line of referrers.
        if self.line_of_referrers(referrer).any(|up| up == referred) {
            let mut chain: Vec<CustomerId> = std::iter::once(referrer)
                .chain(
                    self.line_of_referrers(referrer)
                        .take_while(|up| *up != referred),
                )
                .cloned()
                .collect();
            chain.push(referred.clone());
            chain.reverse();
            chain.push(referred.clone());
            return Err(LedgerError::ReferralCycle {
                record: referral.to_string(),
                chain,
            });
        }
        self.referred_by
            .insert(referred.clone(), self.referrals.len());
        self.referrals.push(referral);
        Ok(Added::New)
    }

    /// Adds many referrals, stopping at the first error. Returns how many were new.
    ///
    /// # Errors
    ///
    /// The first error of [`add_referral`](Self::add_referral); the referrals before it stay
    /// added.
    pub fn extend_referrals(
        &mut self,
        referrals: impl IntoIterator<Item = Referral>,
    ) -> Result<usize, LedgerError> {
        let mut added = 0;
        for r in referrals {
            if self.add_referral(r)? == Added::New {
                added += 1;
            }
        }
        Ok(added)
    }

    /// The referrals held, in the order they were added.
    pub fn referrals(&self) -> &[Referral] {
        &self.referrals
    }

    /// The customer who referred `id`, if one did.
    pub fn referrer_of(&self, id: &CustomerId) -> Option<&CustomerId> {
        self.referred_by
            .get(id)
            .and_then(|&i| self.referrals.get(i))
            .map(Referral::referrer)
    }

    /// `id`'s referrer, their referrer, and so on up to a customer nobody referred. It ends:
    /// the referrals form no cycle.
    fn line_of_referrers<'a>(&'a self, id: &'a CustomerId) -> impl Iterator<Item = &'a CustomerId> {
        std::iter::successors(self.referrer_of(id), |up| self.referrer_of(up))
    }

    /// The rule of [`add_referral`](Self::add_referral) for a customer record arriving after
    /// the referral of its customer.
    pub(super) fn check_acquired_after_referral(
        &self,
        id: &CustomerId,
        acquired: chrono::NaiveDate,
    ) -> Result<(), LedgerError> {
        match self
            .referred_by
            .get(id)
            .and_then(|&i| self.referrals.get(i))
        {
            Some(r) if acquired < r.date() => Err(LedgerError::AcquiredBeforeReferral {
                referral: r.to_string(),
                customer: id.clone(),
                acquired,
            }),
            _ => Ok(()),
        }
    }

    /// The rule of [`add_referral`](Self::add_referral) for a transaction arriving after the
    /// referral of its customer.
    pub(super) fn check_transaction_after_referral(
        &self,
        t: &Transaction,
    ) -> Result<(), LedgerError> {
        if self.referred_by.is_empty() {
            return Ok(());
        }
        match self
            .referred_by
            .get(t.customer())
            .and_then(|&i| self.referrals.get(i))
        {
            Some(r) if t.date() < r.date() => Err(LedgerError::TransactionBeforeReferral {
                referral: r.to_string(),
                transaction: t.describe(),
            }),
            _ => Ok(()),
        }
    }

    /// Rebuilds the index of referred customers after referrals were removed or renamed.
    pub(super) fn reindex_referrals(&mut self) {
        self.referred_by = self
            .referrals
            .iter()
            .enumerate()
            .map(|(i, r)| (r.referred().clone(), i))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerOptions;
    use crate::records::Customer;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn id(c: u64) -> CustomerId {
        CustomerId::from(c)
    }
    fn buy(c: u64, m: u32, d: u32) -> Transaction {
        Transaction::purchase(id(c), day(m, d), Decimal::TEN).unwrap()
    }
    fn referral(from: u64, to: u64, m: u32, d: u32) -> Referral {
        Referral::new(id(from), id(to), day(m, d)).unwrap()
    }
    /// Customers 1..=n, each with a purchase on 1 June.
    fn ledger(n: u64) -> Ledger {
        let mut l = Ledger::new(LedgerOptions::default());
        for c in 1..=n {
            l.add_transaction(buy(c, 6, 1)).unwrap();
        }
        l
    }

    #[test]
    fn a_referral_of_an_unknown_customer_names_the_side_and_the_customer() {
        let mut l = ledger(1);
        let err = l.add_referral(referral(1, 9, 5, 1)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::ReferralOfUnknownCustomer {
                record: "referral of 9 by 1 on 2024-05-01".into(),
                role: "referred",
                customer: id(9),
            }
        );
        let err = l.add_referral(referral(9, 1, 5, 1)).unwrap_err();
        assert!(err.to_string().contains("the referrer 9"), "{err}");
        // A customer record alone makes a customer known.
        l.add_customer(Customer::new(id(9), day(5, 1))).unwrap();
        assert_eq!(l.add_referral(referral(1, 9, 5, 1)).unwrap(), Added::New);
        assert!(l.referrals().len() == 1 && l.referrer_of(&id(9)) == Some(&id(1)));
    }

    #[test]
    fn a_referral_after_the_first_purchase_is_refused_whichever_arrives_first() {
        // The purchase first.
        let mut l = ledger(2);
        let err = l.add_referral(referral(1, 2, 6, 2)).unwrap_err();
        assert!(
            matches!(err, LedgerError::TransactionBeforeReferral { .. }),
            "{err}"
        );
        assert!(
            err.to_string().contains("referral of 2 by 1 on 2024-06-02"),
            "{err}"
        );
        // The same day is fine.
        assert_eq!(l.add_referral(referral(1, 2, 6, 1)).unwrap(), Added::New);

        // The referral first: the referred is known by a record acquired after it, and a
        // purchase before the referral arrives later.
        let mut l = ledger(1);
        l.add_customer(Customer::new(id(2), day(6, 10))).unwrap();
        l.add_referral(referral(1, 2, 6, 5)).unwrap();
        // The record's acquisition rule refuses it already; with no record the referral does.
        let err = l.add_transaction(buy(2, 6, 4)).unwrap_err();
        assert!(
            matches!(err, LedgerError::BeforeAcquisition { .. }),
            "{err}"
        );
        let mut l = ledger(2);
        l.add_referral(referral(1, 2, 6, 1)).unwrap();
        let err = l.add_transaction(buy(2, 5, 31)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::TransactionBeforeReferral {
                referral: "referral of 2 by 1 on 2024-06-01".into(),
                transaction: buy(2, 5, 31).describe(),
            }
        );
        assert_eq!(l.transactions().len(), 2);
        assert_eq!(l.add_transaction(buy(2, 6, 1)).unwrap(), Added::New);
    }

    #[test]
    fn a_referral_after_acquisition_is_refused_whichever_arrives_first() {
        let mut l = ledger(1);
        l.add_customer(Customer::new(id(2), day(3, 1))).unwrap();
        let err = l.add_referral(referral(1, 2, 3, 2)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::AcquiredBeforeReferral {
                referral: "referral of 2 by 1 on 2024-03-02".into(),
                customer: id(2),
                acquired: day(3, 1),
            }
        );
        // The referral first (the referred known by a purchase), the record later.
        let mut l = ledger(2);
        l.add_referral(referral(1, 2, 5, 1)).unwrap();
        let err = l
            .add_customer(Customer::new(id(2), day(4, 30)))
            .unwrap_err();
        assert!(
            matches!(err, LedgerError::AcquiredBeforeReferral { .. }),
            "{err}"
        );
        assert!(l.customer(&id(2)).is_none());
        l.add_customer(Customer::new(id(2), day(5, 1))).unwrap();
    }

    #[test]
    fn a_second_referrer_is_a_conflict_and_a_copy_is_a_no_op() {
        let mut l = ledger(3);
        l.add_referral(referral(1, 3, 5, 1)).unwrap();
        assert_eq!(
            l.add_referral(referral(1, 3, 5, 1)).unwrap(),
            Added::Duplicate
        );
        let err = l.add_referral(referral(2, 3, 5, 1)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::ReferredTwice {
                customer: id(3),
                held: "referral of 3 by 1 on 2024-05-01".into(),
                offered: "referral of 3 by 2 on 2024-05-01".into(),
            }
        );
        // Another channel is another record too.
        let channelled = referral(1, 3, 5, 1).with_channel("app").unwrap();
        assert!(l.add_referral(channelled).is_err());
        assert_eq!(l.referrals().len(), 1);
    }

    #[test]
    fn cycles_of_two_and_three_are_refused_naming_the_chain() {
        let mut l = ledger(3);
        l.add_referral(referral(1, 2, 5, 1)).unwrap();
        let err = l.add_referral(referral(2, 1, 5, 1)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::ReferralCycle {
                record: "referral of 1 by 2 on 2024-05-01".into(),
                chain: vec![id(1), id(2), id(1)],
            }
        );
        l.add_referral(referral(2, 3, 5, 1)).unwrap();
        let err = l.add_referral(referral(3, 1, 5, 1)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::ReferralCycle {
                record: "referral of 1 by 3 on 2024-05-01".into(),
                chain: vec![id(1), id(2), id(3), id(1)],
            }
        );
        assert!(err.to_string().contains("1 → 2 → 3 → 1"), "{err}");
        assert_eq!(l.referrals().len(), 2);
    }

    #[test]
    fn referrals_fall_in_the_window() {
        let mut l = Ledger::with_window(LedgerOptions::default(), day(1, 1), day(12, 31)).unwrap();
        l.add_transaction(buy(1, 6, 1)).unwrap();
        l.add_transaction(buy(2, 6, 1)).unwrap();
        let early = Referral::new(id(1), id(2), day(1, 1).pred_opt().unwrap()).unwrap();
        let err = l.add_referral(early).unwrap_err();
        assert!(matches!(err, LedgerError::OutsideWindow { .. }), "{err}");
    }

    /// The number of customers and the referrals of a random forest of customers 1..=n
    /// (customer k + 1 is a root or referred by one of 1..=k), in a random order.
    fn forest() -> impl Strategy<Value = (u64, Vec<(u64, u64)>)> {
        proptest::collection::vec(any::<prop::sample::Index>(), 1..25).prop_flat_map(|parents| {
            let n = parents.len() as u64;
            let edges: Vec<(u64, u64)> = parents
                .iter()
                .enumerate()
                // Index 0 makes a root; about one customer in four is one.
                .filter_map(|(k, p)| match p.index(k + 1 + k / 3) {
                    0 => None,
                    i if i > k => Some((k as u64, k as u64 + 1)).filter(|_| k > 0),
                    i => Some((i as u64, k as u64 + 1)),
                })
                .collect();
            (Just(n), Just(edges).prop_shuffle())
        })
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        /// A random forest is accepted in any order; then a referral of a root by a customer
        /// below it closes a cycle and is refused naming it, and a referral of a root by a
        /// customer of another tree is accepted.
        #[test]
        fn forests_are_accepted_and_edges_closing_a_cycle_refused(
            (n, edges) in forest(),
            pick in any::<prop::sample::Index>(),
            other in any::<prop::sample::Index>(),
        ) {
            let mut l = ledger(n);
            for &(from, to) in &edges {
                prop_assert_eq!(l.add_referral(referral(from, to, 5, 1)), Ok(Added::New));
            }
            prop_assert_eq!(l.referrals().len(), edges.len());
            let root = |l: &Ledger, c: u64| l.line_of_referrers(&id(c)).last().cloned().unwrap_or(id(c));
            let by = pick.index(n as usize) as u64 + 1;
            let top = root(&l, by);
            if top != id(by) {
                let err = l.add_referral(Referral::new(id(by), top.clone(), day(5, 1)).unwrap()).unwrap_err();
                let is_cycle = matches!(&err, LedgerError::ReferralCycle { chain, .. }
                    if chain.first() == Some(&top) && chain.last() == Some(&top)
                        && chain.len() >= 3
                        && chain[..chain.len() - 1].windows(2).all(|w| l.referrer_of(&w[1]) == Some(&w[0])));
                prop_assert!(is_cycle, "{}", err);
                prop_assert_eq!(l.referrals().len(), edges.len());
            }
            let roots: Vec<u64> = (1..=n).filter(|&c| l.referrer_of(&id(c)).is_none() && id(c) != top).collect();
            if !roots.is_empty() {
                let z = roots[other.index(roots.len())];
                prop_assert_eq!(l.add_referral(referral(by, z, 5, 1)), Ok(Added::New));
                prop_assert_eq!(root(&l, z), top);
            }
        }
    }
}
