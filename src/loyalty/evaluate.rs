//! Applying a programme to members' histories: one member's replay, or a whole base.

use std::fmt;

use chrono::NaiveDate;

use crate::records::{Customer, CustomerId, Transaction};

use super::engine::{Engine, LockSpan, Rules};
use super::error::LoyaltyError;
use super::ladder::{Metric, QualifyingMetric};
use super::member::{sort_records, Base, BaseMember, MemberRecords, TierLock};
use super::points::Redemption;
use super::rules::Programme;
use super::status::Replay;

/// Applies a [`Programme`] to members' histories.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::loyalty::{
///     Downgrades, EarnRules, Evaluator, MemberRecords, Metric, Programme, QualificationWindow,
///     Tier, TierLadder,
/// };
/// use customer_assets::{CustomerId, Transaction};
/// use rust_decimal::Decimal;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let ladder = TierLadder::new(Metric::Spend, vec![
///     Tier::new("Member", Decimal::ZERO),
///     Tier::new("Gold", Decimal::new(1000, 0)),
/// ])?;
/// let programme = Programme::new("Club", ladder, QualificationWindow::CalendarYear,
///     Downgrades::default(), EarnRules::default())?;
/// let ann = CustomerId::new("ann")?;
/// let history = [
///     Transaction::purchase(ann.clone(), d(2, 1)?, Decimal::new(600, 0))?,
///     Transaction::purchase(ann.clone(), d(5, 1)?, Decimal::new(450, 0))?,
/// ];
/// let replay = Evaluator::new(&programme).replay(&MemberRecords::new(&ann, &history), d(6, 30)?)?;
/// assert_eq!(&*replay.status().tier, "Gold");
/// assert_eq!(replay.status().since, d(5, 1)?);
/// assert_eq!(replay.status().points.balance, 1050);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct Evaluator<'a> {
    programme: &'a Programme,
    custom: Option<&'a dyn QualifyingMetric>,
    horizon_days: u32,
}

impl fmt::Debug for Evaluator<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Evaluator")
            .field("programme", &self.programme.name())
            .field("custom", &self.custom.map(|c| c.name().to_string()))
            .field("horizon_days", &self.horizon_days)
            .finish()
    }
}

impl<'a> Evaluator<'a> {
    /// An evaluator with an expiry horizon of 30 days.
    pub fn new(programme: &'a Programme) -> Self {
        Evaluator {
            programme,
            custom: None,
            horizon_days: 30,
        }
    }
    /// Supplies the custom qualifying metric the ladder names.
    pub fn custom_metric(mut self, metric: &'a dyn QualifyingMetric) -> Self {
        self.custom = Some(metric);
        self
    }
    /// Sets the horizon of "points expiring within" in the status.
    pub fn expiry_horizon(mut self, days: u32) -> Self {
        self.horizon_days = days;
        self
    }
    /// The programme.
    pub fn programme(&self) -> &'a Programme {
        self.programme
    }

    fn check_metric(&self) -> Result<(), LoyaltyError> {
        if let Metric::Custom(name) = self.programme.ladder().metric() {
            if self.custom.is_none_or(|c| c.name() != name) {
                return Err(LoyaltyError::MissingCustomMetric(name.clone()));
            }
        }
        Ok(())
    }

    /// Replays one member's records up to the end of `as_of` (later records are ignored).
    ///
    /// # Errors
    ///
    /// [`LoyaltyError::MissingCustomMetric`] when the ladder names a custom metric the evaluator
    /// was not given; [`LoyaltyError::ForeignRecord`] for a record of another customer;
    /// [`LoyaltyError::NoMembershipStart`] without a joining date or a transaction;
    /// [`LoyaltyError::NotYetMember`] when the membership starts after `as_of`;
    /// [`LoyaltyError::BeforeMembership`] for a transaction before it starts;
    /// [`LoyaltyError::UnknownLockTier`], [`LoyaltyError::EmptyLock`] or
    /// [`LoyaltyError::OverlappingLocks`] for an invalid lock; [`LoyaltyError::Points`] for a
    /// redemption of zero points or above the spendable balance, or points past `u64` (huge earn
    /// rates or bonuses); [`LoyaltyError::Window`] or [`LoyaltyError::Overflow`] at the limits of
    /// dates and decimals.
    pub fn replay(
        &self,
        member: &MemberRecords<'_>,
        as_of: NaiveDate,
    ) -> Result<Replay, LoyaltyError> {
        self.check_metric()?;
        let id = member.customer;
        let foreign = |found: &CustomerId| {
            (found != id).then(|| LoyaltyError::ForeignRecord {
                expected: id.clone(),
                found: found.clone(),
            })
        };
        let mut txns: Vec<&Transaction> = Vec::with_capacity(member.transactions.len());
        for t in member.transactions {
            if let Some(e) = foreign(t.customer()) {
                return Err(e);
            }
            txns.push(t);
        }
        let mut reds: Vec<&Redemption> = Vec::with_capacity(member.redemptions.len());
        for r in member.redemptions {
            if let Some(e) = foreign(&r.customer) {
                return Err(e);
            }
            reds.push(r);
        }
        let mut locks: Vec<&TierLock> = Vec::with_capacity(member.locks.len());
        for l in member.locks {
            if let Some(e) = foreign(&l.customer) {
                return Err(e);
            }
            locks.push(l);
        }
        self.replay_refs(id, member.joined, &mut txns, &mut reds, &mut locks, as_of)
    }

    /// Replays from borrowed records (sorted here).
    pub(crate) fn replay_refs(
        &self,
        id: &CustomerId,
        joined: Option<NaiveDate>,
        txns: &mut [&Transaction],
        reds: &mut [&Redemption],
        locks: &mut [&TierLock],
        as_of: NaiveDate,
    ) -> Result<Replay, LoyaltyError> {
        sort_records(txns, reds, locks);
        let joined = membership_start(id, joined, txns)?;
        if as_of < joined {
            return Err(LoyaltyError::NotYetMember {
                customer: id.clone(),
                as_of,
                joined,
            });
        }
        let locks = self.lock_spans(id, locks)?;
        let rules = Rules {
            programme: self.programme,
            custom: self.custom,
            horizon_days: self.horizon_days,
        };
        let mut engine = Engine::new(rules, id.clone(), joined, txns.len())?;
        engine.run(txns, reds, &locks, as_of)?;
        engine.finish(as_of)
    }

    fn lock_spans(
        &self,
        id: &CustomerId,
        locks: &[&TierLock],
    ) -> Result<Vec<LockSpan>, LoyaltyError> {
        let mut spans: Vec<LockSpan> = Vec::with_capacity(locks.len());
        for l in locks {
            let tier = self.programme.ladder().index_of(&l.tier).ok_or_else(|| {
                LoyaltyError::UnknownLockTier {
                    customer: id.clone(),
                    tier: l.tier.clone(),
                }
            })?;
            if l.until <= l.from {
                return Err(LoyaltyError::EmptyLock {
                    customer: id.clone(),
                    from: l.from,
                    until: l.until,
                });
            }
            if spans.last().is_some_and(|p| p.until > l.from) {
                return Err(LoyaltyError::OverlappingLocks {
                    customer: id.clone(),
                    date: l.from,
                });
            }
            spans.push(LockSpan {
                tier,
                from: l.from,
                until: l.until,
            });
        }
        Ok(spans)
    }

    /// Evaluates a whole base at `as_of`: every customer given (in that order) and then every
    /// customer seen only in the transactions (in order of first appearance). A customer's
    /// membership starts at their acquisition date, or at their first transaction when no
    /// customer record is given. Members who join after `as_of` are left out. With the
    /// `parallel` feature members are replayed on all cores (same output; when several members
    /// fail, which error is returned is not specified).
    ///
    /// # Errors
    ///
    /// As [`replay`](Self::replay), for a member whose replay fails (a member with neither an
    /// acquisition date nor a transaction, or who joins after `as_of`, is left out, not an error).
    pub fn evaluate_base(
        &self,
        customers: &[Customer],
        transactions: &[Transaction],
        redemptions: &[Redemption],
        locks: &[TierLock],
        as_of: NaiveDate,
    ) -> Result<Vec<Replay>, LoyaltyError> {
        self.check_metric()?;
        let mut base = Base::group(customers, transactions, redemptions, locks);
        let members = base.members();
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let replays: Vec<Option<Replay>> = members
                .into_par_iter()
                .map(|m| self.replay_member(m, as_of))
                .collect::<Result<_, _>>()?;
            Ok(replays.into_iter().flatten().collect())
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                if let Some(r) = self.replay_member(m, as_of)? {
                    out.push(r);
                }
            }
            Ok(out)
        }
    }

    /// Replays one member of a base; `None` for members who join after `as_of`.
    fn replay_member(
        &self,
        m: BaseMember<'_, '_>,
        as_of: NaiveDate,
    ) -> Result<Option<Replay>, LoyaltyError> {
        let Some(joined) = m.joined.or_else(|| m.txns.iter().map(|t| t.date()).min()) else {
            return Ok(None);
        };
        if joined > as_of {
            return Ok(None);
        }
        self.replay_refs(m.id, Some(joined), m.txns, m.reds, m.locks, as_of)
            .map(Some)
    }
}

fn membership_start(
    id: &CustomerId,
    joined: Option<NaiveDate>,
    sorted: &[&Transaction],
) -> Result<NaiveDate, LoyaltyError> {
    joined
        .or_else(|| sorted.first().map(|t| t.date()))
        .ok_or_else(|| LoyaltyError::NoMembershipStart(id.clone()))
}
