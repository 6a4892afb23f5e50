//! The ledger under pseudonyms: every record filed under its customer's pseudonym, contact
//! details left behind.

use std::collections::HashMap;

use super::store::Ledger;
use crate::records::{ContactDetails, CustomerId, Pseudonymizer};

impl Ledger {
    /// The same ledger with every customer id replaced by its pseudonym (customers,
    /// transactions, feedback, attribute updates, consents and referrals kept) and without
    /// contact details (on the customers and in updates of contact attributes), ready to leave
    /// the trusted zone:
    /// summaries, fits, segments and reports made from it equal the plain ones but name
    /// customers only by pseudonym. The key holder maps pseudonyms back with
    /// [`Pseudonymizer::reidentifier`]. Transaction ids, channels, regions and tags stay: drop
    /// them before pseudonymising when they could identify a customer outside the company.
    ///
    /// Pseudonyms are 256-bit: two customers sharing one is not a practical event (at a billion
    /// customers, a chance under 10⁻⁵⁸).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::{Customer, CustomerId, Ledger, LedgerOptions, Pseudonymizer, Transaction};
    /// use rust_decimal::Decimal;
    /// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
    /// let ann = CustomerId::new("ann")?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.add_customer(Customer::builder(ann.clone(), day).email("ann@example.com").build())?;
    /// ledger.add_transaction(Transaction::purchase(ann.clone(), day, Decimal::TEN)?)?;
    /// let key = Pseudonymizer::new(&[7u8; 32])?;
    /// let outside = ledger.pseudonymized(&key);
    /// let alias = key.pseudonym(&ann);
    /// assert_eq!(outside.transactions()[0].customer(), &alias);
    /// assert!(outside.customer(&alias).ok_or("no customer")?.contact().email.is_none());
    /// assert!(outside.customer(&ann).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn pseudonymized(&self, pseudonymizer: &Pseudonymizer) -> Ledger {
        // Each id's pseudonym once: customers recur in every index.
        let mut aliases: HashMap<CustomerId, CustomerId> = HashMap::new();
        let mut alias = |id: &CustomerId| {
            aliases
                .entry(id.clone())
                .or_insert_with(|| pseudonymizer.pseudonym(id))
                .clone()
        };
        let customers = self
            .customers
            .values()
            .map(|c| {
                let mut c = c.clone().with_id(alias(c.id()));
                *c.contact_mut() = ContactDetails::default();
                (c.id().clone(), c)
            })
            .collect();
        let updates = self
            .updates
            .iter()
            .map(|(id, ups)| {
                let a = alias(id);
                let ups = ups
                    .iter()
                    .filter(|u| !u.attribute().is_contact())
                    .map(|u| u.clone().with_customer(a.clone()))
                    .collect();
                (a, ups)
            })
            .collect();
        Ledger {
            options: self.options,
            customers,
            customer_order: self.customer_order.iter().map(&mut alias).collect(),
            transactions: self
                .transactions
                .iter()
                .map(|t| t.clone().with_customer(alias(t.customer())))
                .collect(),
            by_id: self.by_id.clone(),
            slots: self.slots.iter().map(|(id, &s)| (alias(id), s)).collect(),
            slot_customers: self
                .slot_customers
                .iter()
                .map(|(id, first)| (alias(id), *first))
                .collect(),
            transaction_slots: self.transaction_slots.clone(),
            feedback: self
                .feedback
                .iter()
                .map(|f| f.clone().with_customer(alias(f.customer())))
                .collect(),
            duplicates_dropped: self.duplicates_dropped,
            updates,
            precedence: self.precedence.clone(),
            erasures: self.erasures,
            referrals: self
                .referrals
                .iter()
                .map(|r| {
                    let (from, to) = (alias(r.referrer()), alias(r.referred()));
                    r.clone().with_parties(from, to)
                })
                .collect(),
            referred_by: self
                .referred_by
                .iter()
                .map(|(id, &i)| (alias(id), i))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::LedgerOptions;
    use crate::records::{CustomerId, Pseudonymizer, Referral, Transaction};
    use crate::Ledger;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    #[test]
    fn referrals_are_carried_under_pseudonyms() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let ids: Vec<CustomerId> = (1..=3u64).map(CustomerId::from).collect();
        let mut l = Ledger::new(LedgerOptions::default());
        for id in &ids {
            l.add_transaction(Transaction::purchase(id.clone(), day(10), Decimal::ONE).unwrap())
                .unwrap();
        }
        l.add_referral(Referral::new(ids[0].clone(), ids[1].clone(), day(2)).unwrap())
            .unwrap();
        l.add_referral(Referral::new(ids[1].clone(), ids[2].clone(), day(3)).unwrap())
            .unwrap();
        let key = Pseudonymizer::new(&[3u8; 32]).unwrap();
        let mut p = l.pseudonymized(&key);
        let alias: Vec<CustomerId> = ids.iter().map(|id| key.pseudonym(id)).collect();
        assert_eq!(p.referrals().len(), 2);
        assert_eq!(p.referrer_of(&alias[1]), Some(&alias[0]));
        assert_eq!(p.referrer_of(&alias[2]), Some(&alias[1]));
        assert!(p.referrer_of(&ids[1]).is_none());
        assert_eq!(p.referrals()[1].date(), day(3));
        // The rules hold under pseudonyms: the cycle is seen.
        let back = Referral::new(alias[2].clone(), alias[0].clone(), day(1)).unwrap();
        assert!(p.add_referral(back).is_err());
    }
}
