//! Applying a programme to members' histories: one member's replay, or a whole base.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::records::{Customer, CustomerId, Transaction};

use super::engine::{Engine, Keep, LockSpan, Rules, Scratch, Tables};
use super::error::LoyaltyError;
use super::ladder::{Metric, QualifyingMetric};
use super::member::{sort_records, Base, BaseMember, MemberRecords, TierLock};
use super::points::Redemption;
use super::rules::Programme;
use super::status::{MemberStatus, Replay};

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

    pub(super) fn check_metric(&self) -> Result<(), LoyaltyError> {
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
        let records = Records {
            id,
            joined,
            txns,
            reds,
            locks,
        };
        self.replay_with(
            self.rules(None, Keep::Replay, None),
            records,
            as_of,
            &mut Scratch::default(),
            |e, d, s| e.finish(d, s),
        )
    }

    pub(super) fn rules<'r>(
        &self,
        names: Option<&'r [Arc<str>]>,
        keep: Keep,
        tables: Option<&'r Tables>,
    ) -> Rules<'r>
    where
        'a: 'r,
    {
        Rules {
            programme: self.programme,
            custom: self.custom,
            horizon_days: self.horizon_days,
            names,
            keep,
            days: tables.and_then(|t| t.days.as_ref()),
            reviews: tables.and_then(|t| t.reviews.as_ref()),
            points: true,
        }
    }

    /// Replays from borrowed records (sorted here) under `rules`, with `scratch`'s buffers, and
    /// hands the engine to `finish` at the end.
    pub(super) fn replay_with<T>(
        &self,
        rules: Rules<'_>,
        records: Records<'_, '_, '_, '_, '_>,
        as_of: NaiveDate,
        scratch: &mut Scratch,
        finish: impl FnOnce(Engine<'_>, NaiveDate, &mut Scratch) -> Result<T, LoyaltyError>,
    ) -> Result<T, LoyaltyError> {
        let Records {
            id,
            joined,
            txns,
            reds,
            locks,
        } = records;
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
        let mut engine = Engine::new(rules, id.clone(), joined, txns.len(), scratch)?;
        engine.run(txns, reds, &locks, as_of)?;
        finish(engine, as_of, scratch)
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
    /// `parallel` feature members are replayed on all cores, with the same output.
    ///
    /// # Errors
    ///
    /// As [`replay`](Self::replay), for the first member (in the order above) whose replay fails
    /// (a member with neither an acquisition date nor a transaction, or who joins after `as_of`,
    /// is left out, not an error).
    pub fn evaluate_base(
        &self,
        customers: &[Customer],
        transactions: &[Transaction],
        redemptions: &[Redemption],
        locks: &[TierLock],
        as_of: NaiveDate,
    ) -> Result<Vec<Replay>, LoyaltyError> {
        self.evaluate_base_into(
            customers,
            transactions,
            redemptions,
            locks,
            as_of,
            Keep::Replay,
            |e, d, s| e.finish(d, s),
        )
    }

    /// [`evaluate_base`](Self::evaluate_base), keeping only each member's status: what a
    /// valuation needs, without holding every member's timeline and points account at once
    /// (each replay is dropped as soon as its status is taken).
    ///
    /// # Errors
    ///
    /// As [`evaluate_base`](Self::evaluate_base).
    pub fn evaluate_statuses(
        &self,
        customers: &[Customer],
        transactions: &[Transaction],
        redemptions: &[Redemption],
        locks: &[TierLock],
        as_of: NaiveDate,
    ) -> Result<Vec<MemberStatus>, LoyaltyError> {
        self.evaluate_base_into(
            customers,
            transactions,
            redemptions,
            locks,
            as_of,
            Keep::Status,
            |e, d, s| e.finish_status(d, s),
        )
    }

    /// The base's replays under `keep`, each ended by `finish`.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_base_into<T: Send>(
        &self,
        customers: &[Customer],
        transactions: &[Transaction],
        redemptions: &[Redemption],
        locks: &[TierLock],
        as_of: NaiveDate,
        keep: Keep,
        finish: impl Fn(Engine<'_>, NaiveDate, &mut Scratch) -> Result<T, LoyaltyError> + Sync,
    ) -> Result<Vec<T>, LoyaltyError> {
        self.check_metric()?;
        let tables = Tables::new(self.programme, transactions, as_of);
        let tables = Some(&tables);
        let mut base = Base::group(customers, transactions, redemptions, locks);
        let members = base.members();
        // Each membership's start: the acquisition date, else the first transaction's day.
        let start =
            |m: &BaseMember<'_, '_>| m.joined.or_else(|| m.txns.iter().map(|t| t.date()).min());
        #[cfg(feature = "parallel")]
        let starts: Vec<Option<NaiveDate>> = {
            use rayon::prelude::*;
            members.par_iter().map(start).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let starts: Vec<Option<NaiveDate>> = members.iter().map(start).collect();
        let members: Vec<Records<'_, '_, '_, '_, '_>> = members
            .into_iter()
            .zip(starts)
            .filter_map(|(m, joined)| {
                let joined = joined?;
                (joined <= as_of).then_some(Records {
                    id: m.id,
                    joined: Some(joined),
                    txns: m.txns,
                    reds: m.reds,
                    locks: m.locks,
                })
            })
            .collect();
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let names: Vec<Arc<str>> = (0..self.programme.ladder().len())
                .map(|i| self.programme.ladder().name(i))
                .collect();
            let mut replays: Vec<Result<T, LoyaltyError>> = Vec::new();
            members
                .into_par_iter()
                .map_init(
                    // Each worker shares its own copies of the tier names (see `Rules::names`).
                    || {
                        let own: Vec<Arc<str>> = names.iter().map(|n| Arc::from(&**n)).collect();
                        (own, Scratch::default())
                    },
                    |(own, scratch), m| {
                        self.replay_with(
                            self.rules(Some(own), keep, tables),
                            m,
                            as_of,
                            scratch,
                            &finish,
                        )
                    },
                )
                .collect_into_vec(&mut replays);
            replays.into_iter().collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut scratch = Scratch::default();
            let rules = self.rules(None, keep, tables);
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                out.push(self.replay_with(rules, m, as_of, &mut scratch, &finish)?);
            }
            Ok(out)
        }
    }
}

/// One member's records, borrowed for a replay that sorts them (each kind of record may be
/// borrowed for its own lifetime).
pub(super) struct Records<'b, 'i, 't, 'r, 'l> {
    pub(super) id: &'i CustomerId,
    pub(super) joined: Option<NaiveDate>,
    pub(super) txns: &'b mut [&'t Transaction],
    pub(super) reds: &'b mut [&'r Redemption],
    pub(super) locks: &'b mut [&'l TierLock],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::ladder::{Tier, TierLadder};
    use crate::loyalty::points::{Bonus, Campaign, EarnRules, Rounding};
    use crate::loyalty::test_support::{any_log, any_programme, to_transactions};
    use crate::loyalty::window::{DowngradePolicy, Downgrades, QualificationWindow};
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// The shape of `examples/loyalty_rules.json` on `metric` and `window`.
    fn programme(metric: Metric, window: QualificationWindow) -> Programme {
        let d = |n: i64| Decimal::from(n);
        let ladder = TierLadder::new(
            metric,
            vec![
                Tier::new("Member", d(0)),
                Tier::new("Silver", d(100)),
                Tier::new("Gold", d(300)),
                Tier::new("Platinum", d(750)),
            ],
        )
        .unwrap();
        let points = EarnRules {
            points_per_unit: d(1),
            rounding: Rounding::HalfEven,
            tier_multipliers: BTreeMap::from([
                ("Silver".to_string(), Decimal::new(125, 2)),
                ("Gold".to_string(), Decimal::new(15, 1)),
            ]),
            campaigns: vec![Campaign {
                name: "double".into(),
                from: day(2023, 11, 20),
                until: day(2023, 12, 31),
                multiplier: d(2),
            }],
            bonuses: vec![
                Bonus {
                    name: "welcome".into(),
                    points: 50,
                    min_amount: None,
                    first_purchase_only: true,
                    from: None,
                    until: None,
                },
                Bonus {
                    name: "basket".into(),
                    points: 25,
                    min_amount: Some(Decimal::new(7500, 2)),
                    first_purchase_only: false,
                    from: None,
                    until: None,
                },
            ],
            pending_days: 14,
            expiry_days: Some(365),
        };
        let downgrades = Downgrades {
            policy: DowngradePolicy::OneTier,
            grace_days: 30,
        };
        Programme::new("p", ladder, window, downgrades, points).unwrap()
    }

    /// 3000 members with 0 to 14 purchases and returns each over 2023–2024, the log interleaved
    /// (not grouped by member); a few locks.
    fn base() -> (Vec<Transaction>, Vec<TierLock>) {
        let mut rng = ChaCha8Rng::seed_from_u64(16);
        let mut log = Vec::new();
        let mut locks = Vec::new();
        for m in 0..3000u64 {
            let id = CustomerId::from(m);
            for _ in 0..rng.random_range(0..15) {
                let date = day(2023, 1, 1) + chrono::Days::new(rng.random_range(0..731));
                let cents = rng.random_range(100..30_000);
                let t = if rng.random_range(0..8) == 0 {
                    Transaction::refund(id.clone(), date, Decimal::new(cents / 2, 2))
                } else {
                    Transaction::purchase(id.clone(), date, Decimal::new(cents, 2))
                };
                log.push(t.unwrap());
            }
            if m % 97 == 0 {
                locks.push(TierLock {
                    customer: id,
                    tier: "Gold".into(),
                    from: day(2023, 6, 1),
                    until: day(2023, 9, 1),
                });
            }
        }
        // Interleave: a fixed shuffle of the members' records.
        for i in (1..log.len()).rev() {
            log.swap(i, rng.random_range(0..=i));
        }
        (log, locks)
    }

    /// Each member replayed on its own, in order of first appearance.
    fn one_by_one(
        evaluator: &Evaluator<'_>,
        log: &[Transaction],
        locks: &[TierLock],
        as_of: NaiveDate,
    ) -> Vec<Replay> {
        let mut order: Vec<&CustomerId> = Vec::new();
        for t in log {
            if !order.contains(&t.customer()) {
                order.push(t.customer());
            }
        }
        order
            .into_iter()
            .map(|id| {
                let txns: Vec<Transaction> =
                    log.iter().filter(|t| t.customer() == id).cloned().collect();
                let own: Vec<TierLock> = locks
                    .iter()
                    .filter(|l| &l.customer == id)
                    .cloned()
                    .collect();
                evaluator
                    .replay(&MemberRecords::new(id, &txns).locks(&own), as_of)
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_whole_base_replays_as_its_members_one_by_one() {
        let (log, locks) = base();
        let mut grouped = log.clone();
        grouped.sort_by_key(|t| t.customer().clone());
        let as_of = day(2024, 12, 31);
        for window in [
            QualificationWindow::Rolling {
                days: 365,
                review_every_months: 3,
            },
            QualificationWindow::CalendarYear,
        ] {
            for metric in [Metric::Spend, Metric::PointsEarned] {
                let p = programme(metric.clone(), window);
                let evaluator = Evaluator::new(&p);
                for log in [&log, &grouped] {
                    let expected = one_by_one(&evaluator, log, &locks, as_of);
                    let evaluate = || evaluator.evaluate_base(&[], log, &[], &locks, as_of);
                    assert_eq!(evaluate().unwrap(), expected, "{metric:?}, {window:?}");
                    #[cfg(feature = "parallel")]
                    for threads in [1, 2, 3] {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .unwrap();
                        assert_eq!(
                            pool.install(evaluate).unwrap(),
                            expected,
                            "{threads} threads"
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(128))]

        /// A base evaluates as its members replayed one by one, whether its log is sorted by
        /// customer (members found without hashing) or not, and its statuses are the replays'.
        #[test]
        fn a_random_base_replays_as_its_members_one_by_one(
            programme in any_programme(),
            log in any_log(),
            lock in proptest::option::of(0..14u64),
            as_of_day in 0..760u64,
        ) {
            let log = to_transactions(&log);
            let locks: Vec<TierLock> = lock
                .map(|c| TierLock {
                    customer: CustomerId::from(c),
                    tier: "Gold".into(),
                    from: day(2023, 6, 1),
                    until: day(2023, 9, 1),
                })
                .into_iter()
                .collect();
            let as_of = day(2023, 1, 1) + chrono::Days::new(as_of_day);
            let evaluator = Evaluator::new(&programme);
            let mut sorted = log.clone();
            sorted.sort_by_key(|t| t.customer().clone());
            let by_id = |replays: Vec<Replay>| {
                replays
                    .into_iter()
                    .map(|r| (r.status().customer.clone(), r))
                    .collect::<BTreeMap<_, _>>()
            };
            let expected = {
                let mut out = BTreeMap::new();
                for t in &log {
                    let id = t.customer();
                    if out.contains_key(id) {
                        continue;
                    }
                    let txns: Vec<Transaction> =
                        log.iter().filter(|t| t.customer() == id).cloned().collect();
                    let own: Vec<TierLock> =
                        locks.iter().filter(|l| &l.customer == id).cloned().collect();
                    let first = txns.iter().map(|t| t.date()).min();
                    if first.is_some_and(|f| f > as_of) {
                        continue;
                    }
                    let replay = evaluator.replay(&MemberRecords::new(id, &txns).locks(&own), as_of);
                    out.insert(id.clone(), replay.unwrap());
                }
                out
            };
            for log in [&log, &sorted] {
                let replays = evaluator.evaluate_base(&[], log, &[], &locks, as_of).unwrap();
                let statuses = evaluator.evaluate_statuses(&[], log, &[], &locks, as_of).unwrap();
                let kept: Vec<MemberStatus> = replays.iter().map(|r| r.status().clone()).collect();
                proptest::prop_assert_eq!(statuses, kept);
                // A lock of a customer without transactions makes a member of them too.
                let replays = by_id(replays);
                let transacting: BTreeMap<_, _> = replays
                    .iter()
                    .filter(|(id, _)| log.iter().any(|t| t.customer() == *id))
                    .map(|(id, r)| (id.clone(), r.clone()))
                    .collect();
                proptest::prop_assert_eq!(&transacting, &expected);
            }
        }
    }

    #[test]
    fn the_error_of_a_base_is_its_first_failing_member() {
        let (log, mut locks) = base();
        // Two members lock an unknown tier: the one whose records come first is reported, not
        // the one whose lock comes first.
        let early = log[0].customer().clone();
        let late = log[log.len() - 1].customer().clone();
        assert_ne!(early, late);
        for m in [&late, &early] {
            locks.push(TierLock {
                customer: m.clone(),
                tier: "Diamond".into(),
                from: day(2024, 1, 1),
                until: day(2024, 2, 1),
            });
        }
        let p = programme(
            Metric::Spend,
            QualificationWindow::Rolling {
                days: 365,
                review_every_months: 3,
            },
        );
        let err = Evaluator::new(&p)
            .evaluate_base(&[], &log, &[], &locks, day(2024, 12, 31))
            .unwrap_err();
        assert_eq!(
            err,
            LoyaltyError::UnknownLockTier {
                customer: early,
                tier: "Diamond".into()
            }
        );
    }
}
