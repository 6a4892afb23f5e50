//! The tiers of a whole ledger at an as-of date, the way a valuation needs them: the members'
//! records grouped by the ledger's customer slots (no id is hashed), and each replay keeping
//! only the tier (no timeline, no status, buffers reused from member to member).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::ledger::Ledger;
use crate::records::{Customer, CustomerId, Transaction};

use super::engine::{Keep, PointsBound, Scratch, Tables};
use super::error::LoyaltyError;
use super::evaluate::{Evaluator, Records};
use super::ladder::Metric;

/// Each member's tier at an as-of date, for the members of a [`Ledger`]: as
/// [`Evaluator::evaluate_statuses`] finds them with the ledger's customers and transactions
/// (made by [`Evaluator::ledger_tiers`]).
#[derive(Debug, Clone)]
pub struct LedgerTiers<'l> {
    ledger: &'l Ledger,
    names: Vec<Arc<str>>,
    /// Per ledger slot, the member and the tier's index (`None` for a customer who joins after
    /// the as-of date).
    by_slot: Vec<Option<(&'l CustomerId, usize)>>,
    /// The members added as customers without a transaction.
    without_transactions: HashMap<&'l CustomerId, usize>,
}

impl LedgerTiers<'_> {
    /// The position in the ladder of the tier `id` holds (`None` for a customer who is not a
    /// member at the as-of date, or not in the ledger).
    pub fn index(&self, id: &CustomerId) -> Option<usize> {
        match self.ledger.slot_of(id) {
            Some(slot) => self.by_slot.get(slot).copied().flatten().map(|(_, t)| t),
            None => self.without_transactions.get(id).copied(),
        }
    }

    /// The name of the tier `id` holds, shared (see [`index`](Self::index)).
    pub fn name(&self, id: &CustomerId) -> Option<&Arc<str>> {
        self.names.get(self.index(id)?)
    }

    /// The ladder's tier names, by index.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// [`index`](Self::index) of each of `ids`, in their order, without hashing an id: the
    /// members are sorted by id once and `ids` are matched against them in one pass while they
    /// increase (as [`Summaries`](crate::Summaries) list their customers), by binary search
    /// where they do not.
    pub fn indices<'i>(&self, ids: impl IntoIterator<Item = &'i CustomerId>) -> Vec<Option<usize>> {
        let mut members: Vec<(&CustomerId, usize)> = self
            .by_slot
            .iter()
            .flatten()
            .copied()
            .chain(self.without_transactions.iter().map(|(&id, &t)| (id, t)))
            .collect();
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            members.par_sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        #[cfg(not(feature = "parallel"))]
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut at = 0;
        let mut last: Option<&CustomerId> = None;
        ids.into_iter()
            .map(|id| {
                if last.is_some_and(|l| id < l) {
                    at = members.partition_point(|m| m.0 < id);
                }
                last = Some(id);
                while members.get(at).is_some_and(|m| m.0 < id) {
                    at += 1;
                }
                members.get(at).filter(|m| m.0 == id).map(|m| m.1)
            })
            .collect()
    }
}

/// The buffers of one thread's replays.
#[derive(Default)]
struct Buffers<'l> {
    scratch: Scratch,
    txns: Vec<&'l Transaction>,
}

impl<'a> Evaluator<'a> {
    /// The tier of every member of `ledger` at `as_of`: the same members, tiers and first error
    /// as [`evaluate_statuses`](Self::evaluate_statuses) of the ledger's customers and
    /// transactions, without redemptions or locks, in a fraction of the time: the records are
    /// grouped by the ledger's own customer numbering and each replay keeps only the tier.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::loyalty::{
    ///     Downgrades, EarnRules, Evaluator, Metric, Programme, QualificationWindow, Tier,
    ///     TierLadder,
    /// };
    /// use customer_assets::{CustomerId, Ledger, LedgerOptions, Transaction};
    /// use rust_decimal::Decimal;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
    /// let ladder = TierLadder::new(Metric::Spend, vec![
    ///     Tier::new("Member", Decimal::ZERO),
    ///     Tier::new("Gold", Decimal::new(1000, 0)),
    /// ])?;
    /// let programme = Programme::new("Club", ladder, QualificationWindow::CalendarYear,
    ///     Downgrades::default(), EarnRules::default())?;
    /// let (ann, bob) = (CustomerId::new("ann")?, CustomerId::new("bob")?);
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.add_transaction(Transaction::purchase(ann.clone(), d(2, 1)?, Decimal::new(1200, 0))?)?;
    /// ledger.add_transaction(Transaction::purchase(bob.clone(), d(3, 1)?, Decimal::new(80, 0))?)?;
    /// let tiers = Evaluator::new(&programme).ledger_tiers(&ledger, d(6, 30)?)?;
    /// assert_eq!(tiers.name(&ann).map(|n| &**n), Some("Gold"));
    /// assert_eq!(tiers.index(&bob), Some(0));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`evaluate_statuses`](Self::evaluate_statuses) (when a replay fails, the base is
    /// evaluated again that way to report the same first error).
    pub fn ledger_tiers<'l>(
        &self,
        ledger: &'l Ledger,
        as_of: NaiveDate,
    ) -> Result<LedgerTiers<'l>, LoyaltyError> {
        self.check_metric()?;
        let transactions = ledger.transactions();
        let n = ledger.transacting_customers();
        // A stable counting sort of the log by slot: slot `s`'s transactions are
        // `order[starts[s]..starts[s + 1]]`, in log order.
        let mut starts = vec![0usize; n + 1];
        for &s in ledger.transaction_slots() {
            if let Some(c) = starts.get_mut(s as usize + 1) {
                *c += 1;
            }
        }
        let mut total = 0;
        for c in &mut starts {
            total += *c;
            *c = total;
        }
        // Slots are numbered in order of first appearance: when they never decrease, each
        // slot's transactions lie together in the log, in its order, and need no `order`.
        let grouped = ledger.transaction_slots().is_sorted();
        let mut order = Vec::new();
        if !grouped {
            let mut next = starts.clone();
            order = vec![0usize; transactions.len()];
            for (i, &s) in ledger.transaction_slots().iter().enumerate() {
                if let Some(pos) = next.get_mut(s as usize) {
                    if let Some(cell) = order.get_mut(*pos) {
                        *cell = i;
                    }
                    *pos += 1;
                }
            }
        }
        let mut joined: Vec<Option<NaiveDate>> = Vec::new();
        if ledger.customers().next().is_some() {
            joined = vec![None; n];
        }
        let mut without: Vec<&'l Customer> = Vec::new();
        for c in ledger.customers() {
            match ledger.slot_of(c.id()).and_then(|s| joined.get_mut(s)) {
                Some(j) => *j = Some(c.acquired()),
                None => without.push(c),
            }
        }
        // The tier of a spend or orders ladder does not depend on the points: they are skipped
        // for each member whose points cannot fail either, decided from the member's own
        // records, so that no pass over the whole log is needed for the tables.
        let earn = self.programme().points();
        let skip_points = matches!(
            self.programme().ladder().metric(),
            Metric::Spend | Metric::Orders
        )
        .then(|| PointsBound::new(earn));
        let tables = match skip_points {
            Some(_) => Tables::reviews_only(self.programme(), as_of),
            None => Tables::new(self.programme(), transactions, as_of),
        };
        let rules = self.rules(None, Keep::Tier, Some(&tables));
        let replay = |slot: usize, buffers: &mut Buffers<'l>| {
            let Buffers { scratch, txns } = buffers;
            txns.clear();
            let part =
                starts.get(slot).copied().unwrap_or(0)..starts.get(slot + 1).copied().unwrap_or(0);
            if grouped {
                txns.extend(transactions.get(part).unwrap_or(&[]));
            } else {
                txns.extend(
                    order
                        .get(part)
                        .unwrap_or(&[])
                        .iter()
                        .filter_map(|&i| transactions.get(i)),
                );
            }
            let Some(id) = txns.first().map(|t| t.customer()) else {
                return Ok(None);
            };
            let start = joined.get(slot).copied().flatten();
            let Some(start) = start.or_else(|| txns.iter().map(|t| t.date()).min()) else {
                return Ok(None);
            };
            if start > as_of {
                return Ok(None);
            }
            let mut rules = rules;
            rules.points = !skip_points.is_some_and(|b| b.member_cannot_fail(earn, txns));
            let records = Records {
                id,
                joined: Some(start),
                txns,
                reds: &mut [],
                locks: &mut [],
            };
            self.replay_with(rules, records, as_of, scratch, |e, d, s| {
                e.finish_tier(d, s)
            })
            .map(|tier| Some((id, tier)))
        };
        let mut by_slot: Vec<Option<(&'l CustomerId, usize)>> = vec![None; n];
        #[cfg(feature = "parallel")]
        let replayed: Result<(), LoyaltyError> = {
            use rayon::prelude::*;
            by_slot.par_iter_mut().enumerate().try_for_each_init(
                Buffers::default,
                |buffers, (slot, out)| {
                    *out = replay(slot, buffers)?;
                    Ok(())
                },
            )
        };
        #[cfg(not(feature = "parallel"))]
        let replayed: Result<(), LoyaltyError> = {
            let mut buffers = Buffers::default();
            by_slot.iter_mut().enumerate().try_for_each(|(slot, out)| {
                *out = replay(slot, &mut buffers)?;
                Ok(())
            })
        };
        let mut without_transactions = HashMap::with_capacity(without.len());
        let replayed = replayed.and_then(|()| {
            let mut scratch = Scratch::default();
            for c in without {
                if c.acquired() > as_of {
                    continue;
                }
                let records = Records {
                    id: c.id(),
                    joined: Some(c.acquired()),
                    txns: &mut [],
                    reds: &mut [],
                    locks: &mut [],
                };
                let tier = self.replay_with(rules, records, as_of, &mut scratch, |e, d, s| {
                    e.finish_tier(d, s)
                })?;
                without_transactions.insert(c.id(), tier);
            }
            Ok(())
        });
        if let Err(e) = replayed {
            // Errors are rare: the base's own evaluation tells which member's comes first.
            let customers: Vec<Customer> = ledger.customers().cloned().collect();
            return Err(self
                .evaluate_statuses(&customers, transactions, &[], &[], as_of)
                .err()
                .unwrap_or(e));
        }
        let ladder = self.programme().ladder();
        Ok(LedgerTiers {
            ledger,
            names: (0..ladder.len()).map(|i| ladder.name(i)).collect(),
            by_slot,
            without_transactions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::ladder::{Tier, TierLadder};
    use super::super::points::EarnRules;
    use super::super::rules::Programme;
    use super::super::status::MemberStatus;
    use super::super::test_support::{any_log, any_programme, base_and_top, to_transactions};
    use super::super::window::{Downgrades, QualificationWindow};
    use super::*;
    use crate::ledger::LedgerOptions;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(128))]

        /// The ledger's tiers are those of the full replay of its customers and transactions.
        #[test]
        fn ledger_tiers_are_the_full_replays_tiers(
            programme in any_programme(),
            mut log in any_log(),
            // Whether the log is grouped by customer (each slot's transactions together, read
            // in place) or not (read through the counting sort).
            grouped in any::<bool>(),
            // Per customer 0..15: a record acquired this many days before its first transaction
            // (or, without transactions, after 2023-01-01), or none.
            records in proptest::collection::vec(proptest::option::of(0..800u64), 15),
            as_of_day in 0..760u64,
        ) {
            let start = NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
            if grouped {
                log.sort_by_key(|r| r.0);
            }
            let transactions = to_transactions(&log);
            let mut ledger = Ledger::new(LedgerOptions::default());
            for (c, days) in records.iter().enumerate() {
                let Some(days) = *days else { continue };
                let id = CustomerId::from(c as u64);
                let first = transactions.iter().filter(|t| *t.customer() == id).map(|t| t.date()).min();
                let acquired = match first {
                    Some(f) => f - chrono::Days::new(days % 40),
                    None => start + chrono::Days::new(days),
                };
                ledger.add_customer(Customer::new(id, acquired)).unwrap();
            }
            ledger.extend_transactions(transactions).unwrap();
            let as_of = start + chrono::Days::new(as_of_day);
            let evaluator = Evaluator::new(&programme);
            let customers: Vec<Customer> = ledger.customers().cloned().collect();
            let full = evaluator.evaluate_base(&customers, ledger.transactions(), &[], &[], as_of);
            let statuses = evaluator.evaluate_statuses(&customers, ledger.transactions(), &[], &[], as_of);
            let tiers = evaluator.ledger_tiers(&ledger, as_of);
            match (full, statuses, tiers) {
                (Ok(full), Ok(statuses), Ok(tiers)) => {
                    let kept: Vec<MemberStatus> = full.iter().map(|r| r.status().clone()).collect();
                    prop_assert_eq!(&statuses, &kept);
                    for r in &full {
                        let s = r.status();
                        prop_assert_eq!(tiers.index(&s.customer), Some(s.tier_index));
                        prop_assert_eq!(r.tier_on(as_of), Some(s.tier_index));
                        prop_assert_eq!(tiers.name(&s.customer), Some(&s.tier));
                    }
                    let ids: Vec<CustomerId> = (0..20u64).map(CustomerId::from).collect();
                    for id in &ids {
                        let member = full.iter().any(|r| r.status().customer == *id);
                        prop_assert_eq!(tiers.index(id).is_some(), member, "customer {}", id);
                    }
                    // In increasing order, and in an order that goes back and forth.
                    let one_by_one: Vec<Option<usize>> = ids.iter().map(|id| tiers.index(id)).collect();
                    prop_assert_eq!(tiers.indices(&ids), one_by_one.clone());
                    let shuffled: Vec<&CustomerId> = ids.iter().rev().chain(ids.iter().step_by(3)).collect();
                    let expected: Vec<Option<usize>> = shuffled.iter().map(|id| tiers.index(id)).collect();
                    prop_assert_eq!(tiers.indices(shuffled.iter().copied()), expected);
                }
                (Err(a), Err(b), Err(c)) => {
                    prop_assert_eq!(&a, &b);
                    prop_assert_eq!(&a, &c);
                }
                (a, b, c) => prop_assert!(false, "{:?} / {:?} / {:?}", a.err(), b.err(), c.err()),
            }
        }
    }

    #[test]
    fn a_failing_member_is_reported_as_the_full_evaluation_reports_it() {
        // A return past the decimal range makes the distance to the next tier overflow.
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        for c in [3u64, 1, 2] {
            let amount = if c == 3 { Decimal::ONE } else { Decimal::MAX };
            ledger
                .add_transaction(Transaction::refund(CustomerId::from(c), day(2), amount).unwrap())
                .unwrap();
        }
        let p = base_and_top(QualificationWindow::CalendarYear, EarnRules::default());
        let evaluator = Evaluator::new(&p);
        let err = evaluator.ledger_tiers(&ledger, day(5)).unwrap_err();
        let expected = evaluator
            .evaluate_statuses(&[], ledger.transactions(), &[], &[], day(5))
            .unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(err, LoyaltyError::Overflow(CustomerId::from(1u64)));
    }

    #[test]
    fn points_dated_past_the_calendar_fail_as_in_the_full_evaluation() {
        // Points of a purchase 5 days before the calendar's end become spendable after it.
        let end = NaiveDate::MAX - chrono::Days::new(5);
        let rules = EarnRules {
            pending_days: 14,
            ..EarnRules::default()
        };
        let p = base_and_top(QualificationWindow::CalendarYear, rules);
        let mut ledger = Ledger::new(LedgerOptions::default());
        for (c, date) in [(1u64, NaiveDate::MIN), (2, end)] {
            let t = Transaction::purchase(CustomerId::from(c), date, Decimal::ONE).unwrap();
            ledger.add_transaction(t).unwrap();
        }
        let evaluator = Evaluator::new(&p);
        let as_of = NaiveDate::MAX;
        let expected = evaluator
            .evaluate_statuses(&[], ledger.transactions(), &[], &[], as_of)
            .unwrap_err();
        assert!(matches!(expected, LoyaltyError::Window(_)), "{expected}");
        assert_eq!(
            evaluator.ledger_tiers(&ledger, as_of).unwrap_err(),
            expected
        );
    }

    #[test]
    fn points_that_overflow_fail_as_in_the_full_evaluation_though_the_tier_skips_them() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 1, d).unwrap();
        let bonus = super::super::points::Bonus {
            name: "huge".into(),
            points: u64::MAX,
            min_amount: None,
            first_purchase_only: false,
            from: None,
            until: None,
        };
        let rules = EarnRules {
            bonuses: vec![bonus],
            ..EarnRules::default()
        };
        let ladder =
            TierLadder::new(Metric::Spend, vec![Tier::new("base", Decimal::ZERO)]).unwrap();
        let window = QualificationWindow::CalendarYear;
        let p = Programme::new("p", ladder, window, Downgrades::default(), rules).unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        for d in [1, 2] {
            let t = Transaction::purchase(CustomerId::from(7u64), day(d), Decimal::ONE).unwrap();
            ledger.add_transaction(t).unwrap();
        }
        let evaluator = Evaluator::new(&p);
        let expected = evaluator
            .evaluate_statuses(&[], ledger.transactions(), &[], &[], day(5))
            .unwrap_err();
        assert!(matches!(expected, LoyaltyError::Points(_)), "{expected}");
        assert_eq!(
            evaluator.ledger_tiers(&ledger, day(5)).unwrap_err(),
            expected
        );
    }
}
