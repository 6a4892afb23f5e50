//! Replaying a member's history: tier and points status at any date, the timeline of tier
//! changes, and batch evaluation of a whole base.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::records::{Customer, CustomerId, Transaction, TransactionKind};

use super::ladder::{Metric, QualifyingMetric};
use super::points::{PointsAccount, PointsError, PointsStatus, Redemption};
use super::rules::Programme;
use super::window::{add_days, DowngradePolicy, QualificationWindow, WindowError};

/// Why a replay failed. Each variant names the customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoyaltyError {
    /// A points operation failed (e.g. a redemption above the balance).
    #[error(transparent)]
    Points(#[from] PointsError),
    /// A date computation left the calendar.
    #[error(transparent)]
    Window(#[from] WindowError),
    /// A transaction is dated before the membership started.
    #[error("customer {customer}: transaction {record} is dated before the membership started on {joined}")]
    BeforeMembership {
        /// The member.
        customer: CustomerId,
        /// The transaction.
        record: String,
        /// Start of the membership.
        joined: NaiveDate,
    },
    /// A record given for one member belongs to another.
    #[error("records of customer {expected} include one of customer {found}")]
    ForeignRecord {
        /// The member replayed.
        expected: CustomerId,
        /// The customer on the record.
        found: CustomerId,
    },
    /// Neither a joining date nor any transaction: the membership has no start.
    #[error("customer {0}: no joining date and no transaction")]
    NoMembershipStart(CustomerId),
    /// The as-of date is before the membership started.
    #[error(
        "customer {customer}: as-of date {as_of} is before the membership started on {joined}"
    )]
    NotYetMember {
        /// The member.
        customer: CustomerId,
        /// The as-of date.
        as_of: NaiveDate,
        /// Start of the membership.
        joined: NaiveDate,
    },
    /// A lock names a tier the ladder does not have.
    #[error("customer {customer}: lock on unknown tier {tier:?}")]
    UnknownLockTier {
        /// The member.
        customer: CustomerId,
        /// The tier named.
        tier: String,
    },
    /// A lock ends on or before its first day.
    #[error("customer {customer}: lock from {from} until {until} is empty")]
    EmptyLock {
        /// The member.
        customer: CustomerId,
        /// First day.
        from: NaiveDate,
        /// End (exclusive).
        until: NaiveDate,
    },
    /// Two locks of one member overlap.
    #[error("customer {customer}: locks overlap around {date}")]
    OverlappingLocks {
        /// The member.
        customer: CustomerId,
        /// Start of the later lock.
        date: NaiveDate,
    },
    /// The ladder uses a custom metric but the evaluator was given none (or another).
    #[error("the ladder's metric is the custom metric {0:?}, which the evaluator was not given")]
    MissingCustomMetric(String),
    /// Arithmetic overflow in a qualifying value.
    #[error("customer {0}: qualifying value overflows")]
    Overflow(CustomerId),
}

/// A manual override: the member holds `tier` from `from` (included) until `until` (excluded),
/// whatever the rules say. Reviews during the lock are skipped; when it ends the member keeps the
/// tier until the next review (or upgrades at once if the qualifying value reaches a higher tier).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TierLock {
    /// The member.
    pub customer: CustomerId,
    /// The tier held.
    pub tier: String,
    /// First day of the lock.
    pub from: NaiveDate,
    /// First day after the lock.
    pub until: NaiveDate,
}

/// Why a member's tier changed (or a grace period or lock started or ended).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "snake_case"))]
pub enum TierChangeReason {
    /// The membership started in the base tier.
    Joined,
    /// The qualifying value reached the threshold of a higher tier.
    Upgrade {
        /// The qualifying value at that moment.
        qualifying_value: Decimal,
        /// The threshold of the new tier.
        threshold: Decimal,
    },
    /// A review lowered the tier.
    Downgrade {
        /// The policy applied.
        policy: DowngradePolicy,
        /// The value of the window that closed.
        qualifying_value: Decimal,
        /// The tier that value reaches.
        earned: Arc<str>,
    },
    /// A review decided a downgrade, postponed by the grace period.
    GraceStarted {
        /// The downgrade takes effect on this day unless the member re-qualifies.
        until: NaiveDate,
        /// The tier the member will fall to.
        target: Arc<str>,
        /// The value of the window that closed.
        qualifying_value: Decimal,
    },
    /// The grace period ran out: the postponed downgrade took effect.
    GraceExpired,
    /// During a grace period the member reached their tier's threshold again and keeps it.
    Requalified {
        /// The qualifying value at that moment.
        qualifying_value: Decimal,
    },
    /// A manual lock started.
    LockStarted {
        /// The first day after the lock.
        until: NaiveDate,
    },
    /// A manual lock ended.
    LockEnded,
}

/// One entry of a member's tier timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TierEvent {
    /// The day it happened.
    pub date: NaiveDate,
    /// The tier before (absent for [`TierChangeReason::Joined`]).
    pub from: Option<Arc<str>>,
    /// The tier after (the same as `from` for events that change no tier).
    pub to: Arc<str>,
    /// Position of `to` in the ladder.
    pub to_index: usize,
    /// Why.
    pub reason: TierChangeReason,
}

impl fmt::Display for TierEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  ", self.date)?;
        match &self.from {
            Some(from) if *from != self.to => write!(f, "{from} -> {}", self.to)?,
            _ => write!(f, "{}", self.to)?,
        }
        match &self.reason {
            TierChangeReason::Joined => write!(f, "  joined"),
            TierChangeReason::Upgrade {
                qualifying_value,
                threshold,
            } => write!(
                f,
                "  upgrade: qualifying value {qualifying_value} reached {threshold}"
            ),
            TierChangeReason::Downgrade {
                policy,
                qualifying_value,
                earned,
            } => write!(
                f,
                "  downgrade at review ({policy:?}): the closed window's {qualifying_value} earns {earned}"
            ),
            TierChangeReason::GraceStarted {
                until,
                target,
                qualifying_value,
            } => write!(
                f,
                "  review: {qualifying_value} does not keep the tier; grace until {until}, then {target}"
            ),
            TierChangeReason::GraceExpired => write!(f, "  grace period over"),
            TierChangeReason::Requalified { qualifying_value } => {
                write!(f, "  re-qualified during grace with {qualifying_value}")
            }
            TierChangeReason::LockStarted { until } => write!(f, "  locked until {until}"),
            TierChangeReason::LockEnded => write!(f, "  lock ended"),
        }
    }
}

/// A downgrade decided at a review and waiting for its grace period to end.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingDowngrade {
    /// The day it takes effect.
    pub on: NaiveDate,
    /// The tier the member falls to.
    pub to: Arc<str>,
}

/// A member's tier and points at the end of an as-of date.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemberStatus {
    /// The member.
    pub customer: CustomerId,
    /// The as-of date (its transactions included).
    pub as_of: NaiveDate,
    /// Start of the membership.
    pub joined: NaiveDate,
    /// The tier held.
    pub tier: Arc<str>,
    /// Its position in the ladder (0 = base).
    pub tier_index: usize,
    /// The day the tier was reached.
    pub since: NaiveDate,
    /// The qualifying value of the current window.
    pub qualifying_value: Decimal,
    /// The tier above, if any.
    pub next_tier: Option<Arc<str>>,
    /// How much more of the metric reaches the tier above now (0 when already reached, absent at
    /// the top).
    pub to_next_tier: Option<Decimal>,
    /// The next review (the next date a downgrade can happen).
    pub next_evaluation: NaiveDate,
    /// A downgrade waiting for its grace period to end.
    pub pending_downgrade: Option<PendingDowngrade>,
    /// The first day after an active lock.
    pub locked_until: Option<NaiveDate>,
    /// The points.
    pub points: PointsStatus,
}

/// The outcome of a replay: the status at the as-of date, the timeline and the points account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    status: MemberStatus,
    timeline: Vec<TierEvent>,
    points: PointsAccount,
}

impl Replay {
    /// The status at the as-of date.
    pub fn status(&self) -> &MemberStatus {
        &self.status
    }
    /// The tier events in the order they happened.
    pub fn timeline(&self) -> &[TierEvent] {
        &self.timeline
    }
    /// The points account at the as-of date.
    pub fn points(&self) -> &PointsAccount {
        &self.points
    }
    /// The tier held at the end of `date` (`None` before the membership or after the as-of date).
    pub fn tier_on(&self, date: NaiveDate) -> Option<usize> {
        if date > self.status.as_of {
            return None;
        }
        self.timeline
            .iter()
            .take_while(|e| e.date <= date)
            .last()
            .map(|e| e.to_index)
    }
    /// Splits the replay into its parts.
    pub fn into_parts(self) -> (MemberStatus, Vec<TierEvent>, PointsAccount) {
        (self.status, self.timeline, self.points)
    }
}

/// One member's records for a replay.
#[derive(Debug, Clone, Copy)]
pub struct MemberRecords<'a> {
    /// The member.
    pub customer: &'a CustomerId,
    /// Start of the membership; the first transaction's day when absent.
    pub joined: Option<NaiveDate>,
    /// The member's transactions, in any order.
    pub transactions: &'a [Transaction],
    /// The member's redemptions, in any order.
    pub redemptions: &'a [Redemption],
    /// The member's locks, in any order.
    pub locks: &'a [TierLock],
}

impl<'a> MemberRecords<'a> {
    /// Records with transactions only.
    pub fn new(customer: &'a CustomerId, transactions: &'a [Transaction]) -> Self {
        MemberRecords {
            customer,
            joined: None,
            transactions,
            redemptions: &[],
            locks: &[],
        }
    }
    /// Sets the joining date.
    pub fn joined(mut self, joined: NaiveDate) -> Self {
        self.joined = Some(joined);
        self
    }
    /// Sets the redemptions.
    pub fn redemptions(mut self, redemptions: &'a [Redemption]) -> Self {
        self.redemptions = redemptions;
        self
    }
    /// Sets the locks.
    pub fn locks(mut self, locks: &'a [TierLock]) -> Self {
        self.locks = locks;
        self
    }
}

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
        let mut engine = Engine::new(self, id.clone(), joined, txns.len())?;
        engine.run(txns, reds, &locks, as_of)?;
        Ok(engine.finish(as_of))
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

/// Records grouped by member, in flat arrays (one allocation per kind of record, not per
/// member): member `i`'s transactions are the `txn_counts[i]` entries after those of members
/// `0..i`.
pub(crate) struct Base<'a> {
    ids: Vec<&'a CustomerId>,
    joined: Vec<Option<NaiveDate>>,
    txns: Vec<&'a Transaction>,
    txn_counts: Vec<usize>,
    reds: Vec<&'a Redemption>,
    red_counts: Vec<usize>,
    locks: Vec<&'a TierLock>,
    lock_counts: Vec<usize>,
}

/// One member's records, borrowed from a [`Base`].
pub(crate) struct BaseMember<'b, 'a> {
    pub(crate) id: &'a CustomerId,
    pub(crate) joined: Option<NaiveDate>,
    pub(crate) txns: &'b mut [&'a Transaction],
    pub(crate) reds: &'b mut [&'a Redemption],
    pub(crate) locks: &'b mut [&'a TierLock],
}

/// Assigns members to dense slots, remembering the last id looked up: logs grouped by customer
/// then hash each customer once.
struct Slots<'a> {
    map: HashMap<&'a CustomerId, usize>,
    ids: Vec<&'a CustomerId>,
    last: Option<(&'a CustomerId, usize)>,
}

impl<'a> Slots<'a> {
    fn slot(&mut self, id: &'a CustomerId) -> usize {
        if let Some((last, i)) = self.last {
            if last == id {
                return i;
            }
        }
        let ids = &mut self.ids;
        let i = *self.map.entry(id).or_insert_with(|| {
            ids.push(id);
            ids.len() - 1
        });
        self.last = Some((id, i));
        i
    }
}

/// Stable counting sort of `items` by slot: returns the items grouped and the count per slot.
fn bucket<'a, T>(items: &'a [T], slots: &[usize], n: usize) -> (Vec<&'a T>, Vec<usize>) {
    let mut counts = vec![0usize; n];
    for &s in slots {
        if let Some(c) = counts.get_mut(s) {
            *c += 1;
        }
    }
    let mut next = Vec::with_capacity(n);
    let mut acc = 0;
    for c in &counts {
        next.push(acc);
        acc += c;
    }
    let mut out: Vec<Option<&'a T>> = vec![None; items.len()];
    for (item, &s) in items.iter().zip(slots) {
        if let Some(pos) = next.get_mut(s) {
            if let Some(cell) = out.get_mut(*pos) {
                *cell = Some(item);
            }
            *pos += 1;
        }
    }
    (out.into_iter().flatten().collect(), counts)
}

impl<'a> Base<'a> {
    pub(crate) fn group(
        customers: &'a [Customer],
        transactions: &'a [Transaction],
        redemptions: &'a [Redemption],
        locks: &'a [TierLock],
    ) -> Self {
        let mut slots = Slots {
            map: HashMap::with_capacity(customers.len()),
            ids: Vec::with_capacity(customers.len()),
            last: None,
        };
        let mut joined: Vec<Option<NaiveDate>> = Vec::with_capacity(customers.len());
        for c in customers {
            let i = slots.slot(c.id());
            if joined.len() <= i {
                joined.resize(i + 1, None);
            }
            if let Some(j) = joined.get_mut(i) {
                *j = Some(j.map_or(c.acquired(), |d| d.min(c.acquired())));
            }
        }
        let txn_slots: Vec<usize> = transactions
            .iter()
            .map(|t| slots.slot(t.customer()))
            .collect();
        let red_slots: Vec<usize> = redemptions
            .iter()
            .map(|r| slots.slot(&r.customer))
            .collect();
        let lock_slots: Vec<usize> = locks.iter().map(|l| slots.slot(&l.customer)).collect();
        let n = slots.ids.len();
        joined.resize(n, None);
        let (txns, txn_counts) = bucket(transactions, &txn_slots, n);
        let (reds, red_counts) = bucket(redemptions, &red_slots, n);
        let (locks, lock_counts) = bucket(locks, &lock_slots, n);
        Base {
            ids: slots.ids,
            joined,
            txns,
            txn_counts,
            reds,
            red_counts,
            locks,
            lock_counts,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The members, each with mutable views of their records.
    pub(crate) fn members(&mut self) -> Vec<BaseMember<'_, 'a>> {
        let mut out = Vec::with_capacity(self.ids.len());
        let mut txns: &mut [&'a Transaction] = &mut self.txns;
        let mut reds: &mut [&'a Redemption] = &mut self.reds;
        let mut locks: &mut [&'a TierLock] = &mut self.locks;
        for (i, id) in self.ids.iter().enumerate() {
            let take = |counts: &[usize]| counts.get(i).copied().unwrap_or(0);
            let Some((t, t_rest)) =
                std::mem::take(&mut txns).split_at_mut_checked(take(&self.txn_counts))
            else {
                break;
            };
            txns = t_rest;
            let Some((r, r_rest)) =
                std::mem::take(&mut reds).split_at_mut_checked(take(&self.red_counts))
            else {
                break;
            };
            reds = r_rest;
            let Some((l, l_rest)) =
                std::mem::take(&mut locks).split_at_mut_checked(take(&self.lock_counts))
            else {
                break;
            };
            locks = l_rest;
            out.push(BaseMember {
                id,
                joined: self.joined.get(i).copied().flatten(),
                txns: t,
                reds: r,
                locks: l,
            });
        }
        out
    }
}

/// Sorts records into the canonical processing order, so a replay does not depend on the order
/// records were given in: transactions by moment, purchases before returns at the same moment,
/// then by amount, quantity and id (records equal on all of these are interchangeable).
pub(crate) fn sort_records(
    txns: &mut [&Transaction],
    reds: &mut [&Redemption],
    locks: &mut [&TierLock],
) {
    let key = |t: &Transaction| (t.at(), t.kind(), t.amount(), t.quantity());
    if txns.is_sorted_by(|a, b| key(a) < key(b)) {
        // Strictly increasing keys: already in canonical order (the common case for logs).
    } else {
        txns.sort_unstable_by(|a, b| {
            (a.at(), a.kind(), a.amount(), a.quantity(), a.id()).cmp(&(
                b.at(),
                b.kind(),
                b.amount(),
                b.quantity(),
                b.id(),
            ))
        });
    }
    reds.sort_unstable_by_key(|r| (r.date, r.points));
    locks.sort_unstable();
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

#[derive(Debug, Clone, Copy)]
struct LockSpan {
    tier: usize,
    from: NaiveDate,
    until: NaiveDate,
}

/// A purchase remembered so that returns can claw its points back and take back what it added
/// to the qualifying value.
#[derive(Debug, Clone, Copy)]
struct PurchaseRecord {
    amount: Decimal,
    refunded: Decimal,
    variable: u64,
    bonus: u64,
    clawed: u64,
    lot: Option<usize>,
    /// What the purchase still adds to the qualifying value of the window it counts in (net of
    /// what returns have taken back).
    counted: Decimal,
    /// The qualification period it counts in (periodic windows).
    period: u64,
    /// The absolute position of its entry in the rolling window (rolling windows).
    entry: usize,
}

struct Engine<'e> {
    ev: &'e Evaluator<'e>,
    customer: CustomerId,
    joined: NaiveDate,
    tier: usize,
    since: NaiveDate,
    rolling: VecDeque<(NaiveDate, Decimal)>,
    /// Entries dropped from the front of `rolling` so far (absolute position of its front).
    evicted: usize,
    window_sum: Decimal,
    /// The current qualification period of a periodic window (counts the restarts).
    period: u64,
    anchor: NaiveDate,
    next_review: NaiveDate,
    grace: Option<(NaiveDate, usize)>,
    lock: Option<(usize, NaiveDate)>,
    points: PointsAccount,
    purchases: Vec<PurchaseRecord>,
    orders: u64,
    events: Vec<TierEvent>,
}

impl<'e> Engine<'e> {
    fn new(
        ev: &'e Evaluator<'e>,
        customer: CustomerId,
        joined: NaiveDate,
        capacity: usize,
    ) -> Result<Self, LoyaltyError> {
        let p = ev.programme;
        let next_review = p.window().next_review(joined, joined, joined)?;
        let base = p.ladder().name(0);
        Ok(Engine {
            ev,
            points: PointsAccount::with_capacity(customer.clone(), capacity),
            customer,
            joined,
            tier: 0,
            since: joined,
            rolling: if p.window().is_periodic() {
                VecDeque::new()
            } else {
                VecDeque::with_capacity(capacity)
            },
            evicted: 0,
            window_sum: Decimal::ZERO,
            period: 0,
            anchor: joined,
            next_review,
            grace: None,
            lock: None,
            purchases: Vec::with_capacity(capacity),
            orders: 0,
            events: vec![TierEvent {
                date: joined,
                from: None,
                to: base,
                to_index: 0,
                reason: TierChangeReason::Joined,
            }],
        })
    }

    fn programme(&self) -> &'e Programme {
        self.ev.programme
    }

    fn run(
        &mut self,
        txns: &[&Transaction],
        reds: &[&Redemption],
        locks: &[LockSpan],
        as_of: NaiveDate,
    ) -> Result<(), LoyaltyError> {
        let (mut ti, mut ri, mut li) = (0, 0, 0);
        // Locks that ended before the membership began play no part.
        while locks.get(li).is_some_and(|l| l.until <= self.joined) {
            li += 1;
        }
        loop {
            let mut day = self.next_review;
            let mut consider = |d: Option<NaiveDate>| {
                if let Some(d) = d {
                    day = day.min(d);
                }
            };
            consider(txns.get(ti).map(|t| t.date()));
            consider(reds.get(ri).map(|r| r.date));
            consider(locks.get(li).map(|l| l.from.max(self.joined)));
            consider(self.lock.map(|(_, until)| until));
            consider(self.grace.map(|(until, _)| until));
            if day > as_of {
                break;
            }
            self.start_of_day(day, locks, &mut li)?;
            while let Some(t) = txns.get(ti).filter(|t| t.date() == day) {
                self.transaction(t)?;
                ti += 1;
            }
            while let Some(r) = reds.get(ri).filter(|r| r.date == day) {
                self.points.redeem(day, r.points)?;
                ri += 1;
            }
        }
        Ok(())
    }

    fn event(&mut self, date: NaiveDate, to: usize, reason: TierChangeReason) {
        let ladder = self.programme().ladder();
        self.events.push(TierEvent {
            date,
            from: Some(ladder.name(self.tier)),
            to: ladder.name(to),
            to_index: to,
            reason,
        });
        if to != self.tier {
            self.tier = to;
            self.since = date;
        }
    }

    /// Starts a new qualification period on `day` (the tier-anniversary window restarts at every
    /// tier change).
    fn restart_tier_year(&mut self, day: NaiveDate) -> Result<(), LoyaltyError> {
        if self.programme().window() == QualificationWindow::TierAnniversary {
            self.new_period(day);
            self.next_review = self
                .programme()
                .window()
                .next_review(day, self.joined, day)?;
        }
        Ok(())
    }

    fn change_tier(
        &mut self,
        day: NaiveDate,
        to: usize,
        reason: TierChangeReason,
    ) -> Result<(), LoyaltyError> {
        self.event(day, to, reason);
        self.restart_tier_year(day)
    }

    fn start_of_day(
        &mut self,
        day: NaiveDate,
        locks: &[LockSpan],
        li: &mut usize,
    ) -> Result<(), LoyaltyError> {
        if let Some((tier, until)) = self.lock {
            if until <= day {
                self.lock = None;
                self.event(day, tier, TierChangeReason::LockEnded);
                self.restart_tier_year(day)?;
                // The day's transactions are still to come: use the value at the start of the day.
                self.check_upgrade(day, day.pred_opt().unwrap_or(day))?;
            }
        }
        while let Some(l) = locks.get(*li).filter(|l| l.from.max(self.joined) <= day) {
            *li += 1;
            if l.until <= day {
                continue;
            }
            self.lock = Some((l.tier, l.until));
            self.grace = None;
            self.change_tier(
                day,
                l.tier,
                TierChangeReason::LockStarted { until: l.until },
            )?;
        }
        if let Some((until, target)) = self.grace {
            if until <= day {
                self.grace = None;
                if self.lock.is_none() && target < self.tier {
                    self.change_tier(day, target, TierChangeReason::GraceExpired)?;
                }
            }
        }
        while self.next_review <= day {
            let review = self.next_review;
            self.review(review)?;
        }
        Ok(())
    }

    fn review(&mut self, e: NaiveDate) -> Result<(), LoyaltyError> {
        let window = self.programme().window();
        let value = match window {
            QualificationWindow::Rolling { days, .. } => {
                self.evict_before(e, days);
                self.window_sum
            }
            _ => self.window_sum,
        };
        if self.lock.is_none() {
            let ladder = self.programme().ladder();
            let downgrades = self.programme().downgrades();
            let earned = ladder.bucket(value);
            let target = downgrades.target(self.tier, earned);
            if let Some((_, pending)) = self.grace {
                if target >= self.tier {
                    self.grace = None;
                    self.event(
                        e,
                        self.tier,
                        TierChangeReason::Requalified {
                            qualifying_value: value,
                        },
                    );
                } else if target < pending {
                    self.grace = self.grace.map(|(until, _)| (until, target));
                }
            } else if target > self.tier {
                let threshold = ladder.threshold(target);
                self.event(
                    e,
                    target,
                    TierChangeReason::Upgrade {
                        qualifying_value: value,
                        threshold,
                    },
                );
            } else if target < self.tier {
                if downgrades.grace_days > 0 {
                    let until =
                        add_days(e, downgrades.grace_days).ok_or(WindowError::DateOutOfRange(e))?;
                    self.grace = Some((until, target));
                    let reason = TierChangeReason::GraceStarted {
                        until,
                        target: ladder.name(target),
                        qualifying_value: value,
                    };
                    self.event(e, self.tier, reason);
                } else {
                    let reason = TierChangeReason::Downgrade {
                        policy: downgrades.policy,
                        qualifying_value: value,
                        earned: ladder.name(earned),
                    };
                    self.event(e, target, reason);
                }
            }
        }
        if window.is_periodic() {
            self.new_period(e);
        }
        self.next_review = window.next_review(e, self.joined, self.anchor)?;
        Ok(())
    }

    /// Starts a new period of a periodic window on `day`: what was bought before no longer
    /// counts, and neither do its returns.
    fn new_period(&mut self, day: NaiveDate) {
        self.window_sum = Decimal::ZERO;
        self.period = self.period.wrapping_add(1);
        self.anchor = day;
    }

    /// Keeps the rolling-window contributions of the `days` days before `end` (dates ≥ `end −
    /// days`), the window as it stands at the start of day `end`.
    fn evict_before(&mut self, end: NaiveDate, days: u32) {
        let Some(cutoff) = end.checked_sub_days(chrono::Days::new(u64::from(days))) else {
            return;
        };
        while let Some(&(d, c)) = self.rolling.front() {
            if d >= cutoff {
                break;
            }
            self.window_sum -= c;
            self.rolling.pop_front();
            self.evicted += 1;
        }
    }

    /// The qualifying value at the end of `day`.
    fn current_value(&mut self, day: NaiveDate) -> Decimal {
        if let QualificationWindow::Rolling { days, .. } = self.programme().window() {
            // The window of day d is (d − days, d], i.e. dates ≥ (d + 1) − days.
            if let Some(next) = day.succ_opt() {
                self.evict_before(next, days);
            }
        }
        self.window_sum
    }

    /// Upgrades on `day` if the value at the end of `value_day` reaches a higher tier; ends a
    /// grace period if it reaches the tier held.
    fn check_upgrade(&mut self, day: NaiveDate, value_day: NaiveDate) -> Result<(), LoyaltyError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let value = self.current_value(value_day);
        let ladder = self.programme().ladder();
        let reached = ladder.bucket(value);
        if reached > self.tier {
            self.grace = None;
            let threshold = ladder.threshold(reached);
            self.change_tier(
                day,
                reached,
                TierChangeReason::Upgrade {
                    qualifying_value: value,
                    threshold,
                },
            )?;
        } else if self.grace.is_some() && value >= ladder.threshold(self.tier) {
            self.grace = None;
            self.event(
                day,
                self.tier,
                TierChangeReason::Requalified {
                    qualifying_value: value,
                },
            );
        }
        Ok(())
    }

    fn transaction(&mut self, t: &Transaction) -> Result<(), LoyaltyError> {
        let day = t.date();
        if day < self.joined {
            return Err(LoyaltyError::BeforeMembership {
                customer: self.customer.clone(),
                record: t.describe(),
                joined: self.joined,
            });
        }
        let metric = self.programme().ladder().metric();
        let custom = |name: &String| match self.ev.custom {
            Some(m) => Ok(m.contribution(t)),
            None => Err(LoyaltyError::MissingCustomMetric(name.clone())),
        };
        let contribution = match t.kind() {
            TransactionKind::Purchase => {
                let points = self.purchase_points(day, t.amount())?;
                let contribution = match metric {
                    Metric::PointsEarned => points,
                    Metric::Custom(name) => custom(name)?,
                    m => m.simple_contribution(t).unwrap_or_default(),
                };
                if let Some(p) = self.purchases.last_mut() {
                    p.counted = contribution;
                }
                contribution
            }
            TransactionKind::Return => {
                // What the return takes back from purchases still counting has been taken off
                // the window already; only the rest counts on the return's own date.
                let unmatched = self.net_return(day, t.amount())?;
                match metric {
                    Metric::Spend => -unmatched,
                    Metric::Custom(name) => custom(name)?,
                    Metric::PointsEarned | Metric::Orders => Decimal::ZERO,
                }
            }
        };
        self.window_sum = self
            .window_sum
            .checked_add(contribution)
            .ok_or_else(|| LoyaltyError::Overflow(self.customer.clone()))?;
        if !self.programme().window().is_periodic() {
            self.rolling.push_back((day, contribution));
        }
        self.check_upgrade(day, day)
    }

    fn purchase_points(
        &mut self,
        day: NaiveDate,
        amount: Decimal,
    ) -> Result<Decimal, LoyaltyError> {
        let rules = self.programme().points();
        let ladder = self.programme().ladder();
        let tier_multiplier = ladder
            .tier(self.tier)
            .map(|t| rules.tier_multiplier(t.name()))
            .unwrap_or(Decimal::ONE);
        let (variable, bonus) =
            rules.purchase_points(day, amount, tier_multiplier, self.orders == 0)?;
        self.orders += 1;
        let total = variable.saturating_add(bonus);
        let out_of_range = || LoyaltyError::Window(WindowError::DateOutOfRange(day));
        let lot = if total > 0 {
            let spendable = rules.spendable_on(day).ok_or_else(out_of_range)?;
            let expires = rules.expires_on(day).ok_or_else(out_of_range)?;
            Some(self.points.credit(day, spendable, expires, total))
        } else {
            None
        };
        self.purchases.push(PurchaseRecord {
            amount,
            refunded: Decimal::ZERO,
            variable,
            bonus,
            clawed: 0,
            lot,
            // Set by the caller, which knows the ladder's metric.
            counted: Decimal::ZERO,
            period: self.period,
            // Where `transaction` is about to push its entry (rolling windows).
            entry: self.evicted + self.rolling.len(),
        });
        Ok(Decimal::from(total))
    }

    /// Nets a return against the latest purchases not yet refunded and claws their points back
    /// in proportion to the amount refunded (rounded with the programme's rounding; a purchase
    /// refunded in full loses all its points, bonus included). For spend and points-earned
    /// ladders, each purchase also loses what the return takes back from its contribution to
    /// the qualifying value (the amount refunded, or the points clawed back); that lowers the
    /// current window only while the purchase still counts in it. Returns the amount that found
    /// no purchase to net against.
    fn net_return(&mut self, day: NaiveDate, amount: Decimal) -> Result<Decimal, LoyaltyError> {
        let rounding = self.programme().points().rounding;
        let metric = self.programme().ladder().metric();
        let periodic = self.programme().window().is_periodic();
        let mut left = amount;
        for p in self.purchases.iter_mut().rev() {
            if left <= Decimal::ZERO {
                break;
            }
            let open = p.amount - p.refunded;
            if open <= Decimal::ZERO {
                continue;
            }
            let share = left.min(open);
            left -= share;
            p.refunded += share;
            let owed = if p.refunded >= p.amount {
                p.variable.saturating_add(p.bonus)
            } else {
                let fraction = p.refunded / p.amount;
                use rust_decimal::prelude::ToPrimitive;
                rounding
                    .apply(Decimal::from(p.variable) * fraction)
                    .to_u64()
                    .unwrap_or(p.variable)
                    .min(p.variable)
            };
            let claw = owed.saturating_sub(p.clawed);
            p.clawed = p.clawed.saturating_add(claw);
            if claw > 0 {
                self.points.claw_back(day, claw, p.lot);
            }
            let taken = match metric {
                Metric::Spend => share,
                Metric::PointsEarned => Decimal::from(claw),
                Metric::Orders | Metric::Custom(_) => Decimal::ZERO,
            }
            .min(p.counted);
            if taken <= Decimal::ZERO {
                continue;
            }
            p.counted -= taken;
            let counts = if periodic {
                p.period == self.period
            } else if let Some(entry) = p
                .entry
                .checked_sub(self.evicted)
                .and_then(|i| self.rolling.get_mut(i))
            {
                entry.1 -= taken;
                true
            } else {
                false
            };
            if counts {
                self.window_sum = self
                    .window_sum
                    .checked_sub(taken)
                    .ok_or_else(|| LoyaltyError::Overflow(self.customer.clone()))?;
            }
        }
        Ok(left)
    }

    fn finish(mut self, as_of: NaiveDate) -> Replay {
        let value = self.current_value(as_of);
        self.points.expire_until(as_of);
        let ladder = self.programme().ladder();
        let status = MemberStatus {
            customer: self.customer.clone(),
            as_of,
            joined: self.joined,
            tier: ladder.name(self.tier),
            tier_index: self.tier,
            since: self.since,
            qualifying_value: value,
            next_tier: ladder.tier(self.tier + 1).map(|t| t.name_arc().clone()),
            to_next_tier: ladder
                .next_threshold(self.tier)
                .map(|t| (t - value).max(Decimal::ZERO)),
            next_evaluation: self.next_review,
            pending_downgrade: self.grace.map(|(on, to)| PendingDowngrade {
                on,
                to: ladder.name(to),
            }),
            locked_until: self.lock.map(|(_, until)| until),
            points: self.points.status(as_of, self.ev.horizon_days),
        };
        Replay {
            status,
            timeline: self.events,
            points: self.points,
        }
    }
}
