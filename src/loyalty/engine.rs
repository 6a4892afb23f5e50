//! The replay engine: one member's records, in canonical order, applied day by day to the
//! programme's rules.

use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::records::{CustomerId, Transaction, TransactionKind};

use super::compare::{self, at_least};
use super::error::LoyaltyError;
use super::ladder::{Metric, QualifyingMetric};
use super::points::{EarnRules, PointsAccount, PointsError, PointsLot, Redemption};
use super::rules::Programme;
use super::status::{MemberStatus, PendingDowngrade, Replay, TierChangeReason, TierEvent};
use super::window::{add_days, QualificationWindow, WindowError};

/// A member's lock, checked: the tier's position in the ladder, the first day, the first day after.
#[derive(Debug, Clone, Copy)]
pub(super) struct LockSpan {
    pub(super) tier: usize,
    pub(super) from: NaiveDate,
    pub(super) until: NaiveDate,
}

/// What a replay applies: the programme, the custom metric its ladder may name, the horizon of
/// "points expiring within", and optionally the tier names to hand out.
#[derive(Clone, Copy)]
pub(super) struct Rules<'e> {
    pub(super) programme: &'e Programme,
    pub(super) custom: Option<&'e dyn QualifyingMetric>,
    pub(super) horizon_days: u32,
    /// The ladder's names, one per tier, to share in events and statuses instead of the
    /// ladder's own: replays on several threads each use their own copies, so that no reference
    /// count is written from two cores.
    pub(super) names: Option<&'e [Arc<str>]>,
    /// What the replay is for: what it has to record on the way.
    pub(super) keep: Keep,
    /// The points' dates by day of purchase, for the days of a base's log.
    pub(super) days: Option<&'e DayTable>,
    /// The review dates of the window, for the days of a base's log.
    pub(super) reviews: Option<&'e ReviewTable>,
    /// Whether points are kept. Only a replay that keeps the tier alone, on a ladder that does
    /// not count points, skips them, and only for a member whose points can fail on no record
    /// (see [`PointsBound::member_cannot_fail`]).
    pub(super) points: bool,
}

/// What the replays of a base share, worked out in one pass over its log: the tables of the
/// points' dates and of the window's reviews over the span of its days.
#[derive(Debug)]
pub(super) struct Tables {
    /// The points' dates by day of purchase.
    pub(super) days: Option<DayTable>,
    /// The window's reviews from the log's first day to the as-of date.
    pub(super) reviews: Option<ReviewTable>,
}

impl Tables {
    /// The tables of `programme` for `transactions`, evaluated at `as_of`.
    pub(super) fn new(
        programme: &Programme,
        transactions: &[Transaction],
        as_of: NaiveDate,
    ) -> Tables {
        // (first day, last day).
        type Span = (NaiveDate, NaiveDate);
        let add = |(lo, hi): Span, t: &Transaction| (lo.min(t.date()), hi.max(t.date()));
        let empty: Span = (NaiveDate::MAX, NaiveDate::MIN);
        #[cfg(feature = "parallel")]
        let (lo, hi) = {
            use rayon::prelude::*;
            transactions
                .par_iter()
                .fold(|| empty, add)
                .reduce(|| empty, |a, b| (a.0.min(b.0), a.1.max(b.1)))
        };
        #[cfg(not(feature = "parallel"))]
        let (lo, hi) = transactions.iter().fold(empty, add);
        Tables {
            days: DayTable::new(programme.points(), lo, hi),
            reviews: ReviewTable::new(programme.window(), lo, as_of),
        }
    }

    /// The review table alone, without a pass over the log: from [`MAX_TABLE_DAYS`] before
    /// `as_of` (a membership starting earlier has its first review worked out by the window).
    /// For replays that keep the tier of a spend or orders ladder, which need no day table (see
    /// [`PointsBound::member_cannot_fail`]).
    pub(super) fn reviews_only(programme: &Programme, as_of: NaiveDate) -> Tables {
        let from = as_of
            .checked_sub_days(chrono::Days::new(MAX_TABLE_DAYS as u64 - 1))
            .unwrap_or(NaiveDate::MIN);
        Tables {
            days: None,
            reviews: ReviewTable::new(programme.window(), from, as_of),
        }
    }
}

/// The larger of two decimals (by [`compare::cmp`]).
fn larger(a: Decimal, b: Decimal) -> Decimal {
    if compare::cmp(b, a).is_gt() {
        b
    } else {
        a
    }
}

/// What a transaction adds to the purchases' amounts: its amount for a purchase, 0 for a return.
fn purchased(t: &Transaction) -> Decimal {
    match t.kind() {
        TransactionKind::Purchase => t.amount(),
        TransactionKind::Return => Decimal::ZERO,
    }
}

/// The most points a purchase can earn under a programme's earn rules, per unit of its amount
/// (at the highest tier and campaign multipliers) and from bonuses (all of them): worked out once,
/// for the checks that points cannot fail.
#[derive(Debug, Clone, Copy)]
pub(super) struct PointsBound {
    /// Points per unit at the highest multipliers (`None` past the decimal range).
    rate: Option<Decimal>,
    /// The sum of every bonus (`None` past `u64`).
    bonus: Option<u64>,
}

impl PointsBound {
    pub(super) fn new(rules: &EarnRules) -> PointsBound {
        let top = |values: &mut dyn Iterator<Item = Decimal>| values.fold(Decimal::ONE, larger);
        let tier = top(&mut rules.tier_multipliers.values().copied());
        let campaign = top(&mut rules.campaigns.iter().map(|c| c.multiplier));
        PointsBound {
            rate: rules
                .points_per_unit
                .checked_mul(tier)
                .and_then(|p| p.checked_mul(campaign)),
            bonus: rules
                .bonuses
                .iter()
                .try_fold(0u64, |sum, b| sum.checked_add(b.points)),
        }
    }

    /// Whether `transactions` purchases of at most `largest` each can make no sum of points
    /// overflow, credited, clawed back or written off: the most one can earn (rounded up,
    /// bonuses included), times their number, fits in 63 bits. (A decimal product rounded in its
    /// last digit cannot matter: the sums fail only at 2^64.)
    fn cannot_overflow(&self, largest: Decimal, transactions: usize) -> bool {
        let per_purchase = self
            .rate
            .and_then(|rate| largest.checked_mul(rate))
            .and_then(|p| p.ceil().to_u64())
            .zip(self.bonus)
            .and_then(|(variable, bonus)| variable.checked_add(bonus));
        per_purchase
            .and_then(|p| p.checked_mul(u64::try_from(transactions).ok()?))
            .is_some_and(|total| total < 1 << 63)
    }

    /// Whether one member's points under `rules` (those of the bound) cannot fail on `txns`
    /// (all of the member's transactions):
    /// no sum overflows ([`cannot_overflow`](Self::cannot_overflow) of the member's largest
    /// purchase and number of records), and every purchase's points have their dates (adding
    /// days leaves the calendar at the latest date first, so that date decides). A replay that
    /// keeps the tier alone on a spend or orders ladder may then skip the member's points: they
    /// change neither the tier nor the outcome.
    pub(super) fn member_cannot_fail(&self, rules: &EarnRules, txns: &[&Transaction]) -> bool {
        let (last, largest) = txns
            .iter()
            .fold((NaiveDate::MIN, Decimal::ZERO), |(last, largest), t| {
                (last.max(t.date()), larger(largest, purchased(t)))
            });
        rules.spendable_on(last).is_some()
            && rules.expires_on(last).is_some()
            && self.cannot_overflow(largest, txns.len())
    }
}

/// Per day of a log's span, the days a purchase's points become spendable and expire: worked
/// out once for a whole base instead of twice per purchase.
#[derive(Debug)]
pub(super) struct DayTable {
    /// The day number of the first day.
    first: i64,
    /// Per day from the first, (spendable, expires); `None` where a date leaves the calendar
    /// (the replay then works it out, and reports it).
    rows: Vec<Option<(NaiveDate, Option<NaiveDate>)>>,
}

/// The longest span of days a [`DayTable`] or a [`ReviewTable`] covers (about 270 years; 1.6 MB
/// of daily points' dates).
const MAX_TABLE_DAYS: i64 = 100_000;

impl DayTable {
    /// The table of `rules` for the days `lo` to `hi` (`None` when `hi` is before `lo`, or when
    /// they span more than [`MAX_TABLE_DAYS`]).
    fn new(rules: &EarnRules, lo: NaiveDate, hi: NaiveDate) -> Option<DayTable> {
        let span = (hi - lo).num_days();
        if !(0..MAX_TABLE_DAYS).contains(&span) {
            return None;
        }
        let rows = lo
            .iter_days()
            .take(span as usize + 1)
            .map(|d| rules.spendable_on(d).zip(rules.expires_on(d)))
            .collect();
        Some(DayTable {
            first: day_number(lo),
            rows,
        })
    }

    /// The spendable and expiry days of points earned on `day`, when the table has them.
    fn get(&self, day: NaiveDate) -> Option<(NaiveDate, Option<NaiveDate>)> {
        let i = usize::try_from(day_number(day) - self.first).ok()?;
        self.rows.get(i).copied().flatten()
    }
}

/// The review dates of a window whose reviews fall on the same dates for every member (rolling
/// and calendar-year windows) over a span of days, with their day numbers: worked out once for a
/// whole base instead of once per member and review.
#[derive(Debug)]
pub(super) struct ReviewTable {
    /// The first day the table answers for.
    from: NaiveDate,
    /// The reviews after `from`, in order, up to the first one after the span's last day.
    reviews: Vec<(NaiveDate, i64)>,
}

impl ReviewTable {
    /// The reviews of `window` after `from` up to the first one after `until` (`None` for a
    /// window whose reviews depend on the member, for `until` before `from`, or for a span of
    /// more than [`MAX_TABLE_DAYS`]).
    pub(super) fn new(
        window: QualificationWindow,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Option<ReviewTable> {
        let shared = matches!(
            window,
            QualificationWindow::Rolling { .. } | QualificationWindow::CalendarYear
        );
        if !shared || !(0..MAX_TABLE_DAYS).contains(&(until - from).num_days()) {
            return None;
        }
        let mut reviews = Vec::new();
        let mut after = from;
        while after <= until {
            // These windows ignore the joining and anchor dates.
            after = window.next_review(after, from, from).ok()?;
            reviews.push((after, day_number(after)));
        }
        Some(ReviewTable { from, reviews })
    }

    /// The first review strictly after `after`, with its day number and its position in the
    /// table, when the table holds it.
    fn after(&self, after: NaiveDate) -> Option<Review> {
        if after < self.from {
            return None;
        }
        self.at(self.reviews.partition_point(|r| r.0 <= after))
    }

    /// The review at position `index` of the table: the first after the one at `index − 1`,
    /// without a search (the reviews increase strictly).
    fn at(&self, index: usize) -> Option<Review> {
        let &(date, day) = self.reviews.get(index)?;
        Some(Review {
            date,
            day,
            index: Some(index),
        })
    }
}

/// What a replay hands back, and so what it records on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    /// The whole [`Replay`]: status, timeline and points account.
    Replay,
    /// The status only: no timeline is recorded, and the points account's buffer is reused.
    Status,
    /// The tier index only (the same checks and errors as the status).
    Tier,
}

/// Buffers a replay needs only while it runs, handed from one replay to the next of a base.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    rolling: Vec<(i64, Decimal)>,
    purchases: Vec<PurchaseRecord>,
    /// The timeline being recorded (copied out at its exact length when a replay is kept).
    events: Vec<TierEvent>,
    /// The points lots of replays that keep no points account.
    lots: Vec<PointsLot>,
}

/// A date as a count of days (from the common era), for window arithmetic without calendars.
fn day_number(date: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&date))
}

/// [`day_number`] with the calendar's arithmetic done once a year: the number of the day before
/// the last year seen is kept, and a date of that year is that plus its ordinal (a member's
/// transactions fall in a few years).
#[derive(Debug, Clone, Copy)]
struct DayNumbers {
    /// The last year seen and the number of the day before its first.
    year: Option<(i32, i64)>,
}

impl DayNumbers {
    fn of(&mut self, date: NaiveDate) -> i64 {
        use chrono::Datelike;
        let ordinal = i64::from(date.ordinal());
        match self.year {
            Some((year, before)) if year == date.year() => before + ordinal,
            _ => {
                let number = day_number(date);
                self.year = Some((date.year(), number - ordinal));
                number
            }
        }
    }
}

/// A review date, with its day number and, when it comes from a [`ReviewTable`], its position
/// there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Review {
    date: NaiveDate,
    day: i64,
    index: Option<usize>,
}

/// The first review strictly after `after`: from the rules' table when it holds it, else from
/// the window (`joined` and `anchor` as in [`QualificationWindow::next_review`]).
fn review_after(
    rules: Rules<'_>,
    after: NaiveDate,
    joined: NaiveDate,
    anchor: NaiveDate,
) -> Result<Review, LoyaltyError> {
    if let Some(review) = rules.reviews.and_then(|t| t.after(after)) {
        return Ok(review);
    }
    let date = rules
        .programme
        .window()
        .next_review(after, joined, anchor)?;
    Ok(Review {
        date,
        day: day_number(date),
        index: None,
    })
}

/// The name of tier `index`: from the rules' table when they carry one, else the ladder's.
fn tier_name(rules: Rules<'_>, index: usize) -> Arc<str> {
    match rules.names.and_then(|names| names.get(index)) {
        Some(name) => name.clone(),
        None => rules.programme.ladder().name(index),
    }
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

/// Replays one member's sorted records day by day: reviews, locks, grace periods, transactions,
/// redemptions.
pub(super) struct Engine<'e> {
    rules: Rules<'e>,
    customer: CustomerId,
    joined: NaiveDate,
    tier: usize,
    since: NaiveDate,
    /// The rolling window's contributions by day number, oldest first, from `evicted` on (a
    /// `Vec` read from a moving front: an entry's position never changes, and a member's
    /// records are few).
    rolling: Vec<(i64, Decimal)>,
    /// Entries dropped from the front of `rolling` so far (the position of the window's first).
    evicted: usize,
    window_sum: Decimal,
    /// The current qualification period of a periodic window (counts the restarts).
    period: u64,
    anchor: NaiveDate,
    next_review: NaiveDate,
    /// The day number of `next_review`.
    review_day: i64,
    /// The position of `next_review` in the rules' review table, when it comes from there.
    review_index: Option<usize>,
    /// The day numbers of the transactions' dates.
    day_numbers: DayNumbers,
    grace: Option<(NaiveDate, usize)>,
    lock: Option<(usize, NaiveDate)>,
    points: PointsAccount,
    /// The purchases returns may net against: none are recorded for a member without returns.
    purchases: Vec<PurchaseRecord>,
    /// Whether the member's records include a return (set by [`run`](Self::run)).
    returns: bool,
    orders: u64,
    events: Vec<TierEvent>,
    /// The points multiplier of the tier last looked up: tiers change far less often than
    /// purchases come.
    multiplier: Option<(usize, Decimal)>,
}

impl<'e> Engine<'e> {
    pub(super) fn new(
        rules: Rules<'e>,
        customer: CustomerId,
        joined: NaiveDate,
        capacity: usize,
        scratch: &mut Scratch,
    ) -> Result<Self, LoyaltyError> {
        let p = rules.programme;
        let review = review_after(rules, joined, joined, joined)?;
        let mut rolling = std::mem::take(&mut scratch.rolling);
        rolling.clear();
        if !p.window().is_periodic() {
            rolling.reserve(capacity);
        }
        let mut purchases = std::mem::take(&mut scratch.purchases);
        purchases.clear();
        purchases.reserve(capacity);
        let mut events = std::mem::take(&mut scratch.events);
        events.clear();
        if rules.keep == Keep::Replay {
            events.push(TierEvent {
                date: joined,
                from: None,
                to: tier_name(rules, 0),
                to_index: 0,
                reason: TierChangeReason::Joined,
            });
        }
        let points = match rules.keep {
            Keep::Replay => PointsAccount::with_capacity(customer.clone(), capacity),
            Keep::Status | Keep::Tier => {
                PointsAccount::with_buffer(customer.clone(), std::mem::take(&mut scratch.lots))
            }
        };
        Ok(Engine {
            rules,
            points,
            customer,
            joined,
            tier: 0,
            since: joined,
            rolling,
            evicted: 0,
            window_sum: Decimal::ZERO,
            period: 0,
            anchor: joined,
            next_review: review.date,
            review_day: review.day,
            review_index: review.index,
            day_numbers: DayNumbers { year: None },
            grace: None,
            lock: None,
            purchases,
            returns: true,
            orders: 0,
            events,
            multiplier: None,
        })
    }

    /// The name of tier `index`, shared.
    fn name(&self, index: usize) -> Arc<str> {
        tier_name(self.rules, index)
    }

    fn programme(&self) -> &'e Programme {
        self.rules.programme
    }

    pub(super) fn run(
        &mut self,
        txns: &[&Transaction],
        reds: &[&Redemption],
        locks: &[LockSpan],
        as_of: NaiveDate,
    ) -> Result<(), LoyaltyError> {
        let (mut ti, mut ri, mut li) = (0, 0, 0);
        self.returns = txns.iter().any(|t| t.kind() == TransactionKind::Return);
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

    /// Records an event (when the replay keeps its timeline; `reason` is made only then) and
    /// moves to tier `to`.
    fn event(
        &mut self,
        date: NaiveDate,
        to: usize,
        reason: impl FnOnce(&Self) -> TierChangeReason,
    ) {
        if self.rules.keep == Keep::Replay {
            let reason = reason(self);
            self.events.push(TierEvent {
                date,
                from: Some(self.name(self.tier)),
                to: self.name(to),
                to_index: to,
                reason,
            });
        }
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
            let review = review_after(self.rules, day, self.joined, day)?;
            self.set_next_review(review);
        }
        Ok(())
    }

    fn change_tier(
        &mut self,
        day: NaiveDate,
        to: usize,
        reason: TierChangeReason,
    ) -> Result<(), LoyaltyError> {
        self.event(day, to, |_| reason);
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
                self.event(day, tier, |_| TierChangeReason::LockEnded);
                self.restart_tier_year(day)?;
                // The day's transactions are still to come: use the value at the start of the day.
                let before = day.pred_opt().unwrap_or(day);
                self.check_upgrade(day, before, day_number(before))?;
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
            self.review()?;
        }
        Ok(())
    }

    /// The review due on `next_review`.
    fn review(&mut self) -> Result<(), LoyaltyError> {
        let e = self.next_review;
        let window = self.programme().window();
        let value = match window {
            QualificationWindow::Rolling { days, .. } => {
                self.evict_before_day(self.review_day, days)?;
                self.window_sum
            }
            _ => self.window_sum,
        };
        if self.lock.is_none() {
            let ladder = self.programme().ladder();
            let downgrades = self.programme().downgrades();
            let earned = ladder.bucket_near(value, self.tier);
            let target = downgrades.target(self.tier, earned);
            if let Some((_, pending)) = self.grace {
                if target >= self.tier {
                    self.grace = None;
                    self.event(e, self.tier, |_| TierChangeReason::Requalified {
                        qualifying_value: value,
                    });
                } else if target < pending {
                    self.grace = self.grace.map(|(until, _)| (until, target));
                }
            } else if target > self.tier {
                let threshold = ladder.threshold(target);
                self.event(e, target, |_| TierChangeReason::Upgrade {
                    qualifying_value: value,
                    threshold,
                });
            } else if target < self.tier {
                if downgrades.grace_days > 0 {
                    let until =
                        add_days(e, downgrades.grace_days).ok_or(WindowError::DateOutOfRange(e))?;
                    self.grace = Some((until, target));
                    self.event(e, self.tier, |engine| TierChangeReason::GraceStarted {
                        until,
                        target: engine.name(target),
                        qualifying_value: value,
                    });
                } else {
                    self.event(e, target, |engine| TierChangeReason::Downgrade {
                        policy: downgrades.policy,
                        qualifying_value: value,
                        earned: engine.name(earned),
                    });
                }
            }
        }
        if window.is_periodic() {
            self.new_period(e);
        }
        // The table's next entry is the next review: no search, no calendar.
        let review = match self
            .review_index
            .and_then(|i| self.rules.reviews?.at(i + 1))
        {
            Some(review) => review,
            None => review_after(self.rules, e, self.joined, self.anchor)?,
        };
        self.set_next_review(review);
        Ok(())
    }

    fn set_next_review(&mut self, review: Review) {
        self.next_review = review.date;
        self.review_day = review.day;
        self.review_index = review.index;
    }

    /// Starts a new period of a periodic window on `day`: what was bought before no longer
    /// counts, and neither do its returns.
    fn new_period(&mut self, day: NaiveDate) {
        self.window_sum = Decimal::ZERO;
        self.period = self.period.wrapping_add(1);
        self.anchor = day;
    }

    /// Keeps the rolling-window contributions of the `days` days before the day numbered `end`
    /// (day numbers ≥ `end − days`), the window as it stands at the start of that day. (A cutoff
    /// before the first date of the calendar keeps every contribution, as there is none before
    /// it.)
    ///
    /// # Errors
    ///
    /// [`LoyaltyError::Overflow`] when the sum of the contributions left does not fit a decimal
    /// (a later part of a sum need not fit where the whole did: −x, then +x, then +x).
    #[inline]
    fn evict_before_day(&mut self, end: i64, days: u32) -> Result<(), LoyaltyError> {
        let cutoff = end - i64::from(days);
        // Checked here, inline: most calls (one per transaction) find nothing to evict.
        if self
            .rolling
            .get(self.evicted)
            .is_some_and(|&(d, _)| d < cutoff)
        {
            return self.evict_from(cutoff);
        }
        Ok(())
    }

    /// Drops the contributions of the days before the day numbered `cutoff` (see
    /// [`evict_before_day`](Self::evict_before_day)).
    #[inline(never)]
    fn evict_from(&mut self, cutoff: i64) -> Result<(), LoyaltyError> {
        while let Some(&(d, c)) = self.rolling.get(self.evicted) {
            if d >= cutoff {
                break;
            }
            if !compare::sub_into(&mut self.window_sum, c) {
                return Err(LoyaltyError::Overflow(self.customer.clone()));
            }
            self.evicted += 1;
        }
        Ok(())
    }

    /// The qualifying value at the end of `day`, numbered `number`.
    fn current_value(&mut self, day: NaiveDate, number: i64) -> Result<Decimal, LoyaltyError> {
        if let QualificationWindow::Rolling { days, .. } = self.programme().window() {
            // The window of day d is (d − days, d], i.e. dates ≥ (d + 1) − days (nothing is
            // evicted on the calendar's last day, which has no next).
            if day < NaiveDate::MAX {
                self.evict_before_day(number + 1, days)?;
            }
        }
        Ok(self.window_sum)
    }

    /// Upgrades on `day` if the value at the end of `value_day` (numbered `number`) reaches a
    /// higher tier; ends a grace period if it reaches the tier held.
    #[inline]
    fn check_upgrade(
        &mut self,
        day: NaiveDate,
        value_day: NaiveDate,
        number: i64,
    ) -> Result<(), LoyaltyError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let value = self.current_value(value_day, number)?;
        let ladder = self.programme().ladder();
        // Thresholds increase strictly: a higher tier is reached exactly when the next one is.
        if ladder
            .next_threshold(self.tier)
            .is_some_and(|next| at_least(value, next))
        {
            let reached = ladder.bucket(value);
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
        } else if self.grace.is_some() && at_least(value, ladder.threshold(self.tier)) {
            self.grace = None;
            self.event(day, self.tier, |_| TierChangeReason::Requalified {
                qualifying_value: value,
            });
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
        let custom_metric = self.rules.custom;
        let custom = |name: &String| match custom_metric {
            Some(m) => Ok(m.contribution(t)),
            None => Err(LoyaltyError::MissingCustomMetric(name.clone())),
        };
        let contribution = match t.kind() {
            TransactionKind::Purchase => {
                let points = if self.rules.points {
                    self.purchase_points(day, t.amount())?
                } else {
                    self.purchase_without_points(t.amount())
                };
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
        if !compare::add_into(&mut self.window_sum, contribution) {
            return Err(LoyaltyError::Overflow(self.customer.clone()));
        }
        let number = self.day_numbers.of(day);
        if !self.programme().window().is_periodic() {
            self.rolling.push((number, contribution));
        }
        self.check_upgrade(day, day, number)
    }

    fn purchase_points(
        &mut self,
        day: NaiveDate,
        amount: Decimal,
    ) -> Result<Decimal, LoyaltyError> {
        let rules = self.programme().points();
        let tier_multiplier = match self.multiplier {
            Some((tier, m)) if tier == self.tier => m,
            _ => {
                let m = self
                    .programme()
                    .ladder()
                    .tier(self.tier)
                    .map(|t| rules.tier_multiplier(t.name()))
                    .unwrap_or(Decimal::ONE);
                self.multiplier = Some((self.tier, m));
                m
            }
        };
        let (variable, bonus) =
            rules.purchase_points(day, amount, tier_multiplier, self.orders == 0)?;
        self.orders += 1;
        let total = variable.checked_add(bonus).ok_or_else(|| {
            PointsError::Overflow(format!(
                "customer {}: {variable} points and a bonus of {bonus} for a purchase of {amount} on {day}",
                self.customer
            ))
        })?;
        let out_of_range = || LoyaltyError::Window(WindowError::DateOutOfRange(day));
        let lot = if total > 0 {
            let (spendable, expires) = match self.rules.days.and_then(|t| t.get(day)) {
                Some(dates) => dates,
                None => (
                    rules.spendable_on(day).ok_or_else(out_of_range)?,
                    rules.expires_on(day).ok_or_else(out_of_range)?,
                ),
            };
            Some(self.points.credit(day, spendable, expires, total)?)
        } else {
            None
        };
        self.record_purchase(amount, variable, bonus, lot);
        Ok(Decimal::from(total))
    }

    /// Records a purchase whose points are not kept (see [`Rules::points`]).
    fn purchase_without_points(&mut self, amount: Decimal) -> Decimal {
        self.orders += 1;
        self.record_purchase(amount, 0, 0, None);
        Decimal::ZERO
    }

    /// Remembers a purchase for the returns to net against, when the member has returns.
    fn record_purchase(&mut self, amount: Decimal, variable: u64, bonus: u64, lot: Option<usize>) {
        if self.returns {
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
                entry: self.rolling.len(),
            });
        }
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
                // Their sum was credited, so it fits.
                p.variable.saturating_add(p.bonus)
            } else if p.variable == 0 {
                0
            } else {
                let fraction = p.refunded / p.amount;
                rounding
                    .whole_points(Decimal::from(p.variable) * fraction)
                    .unwrap_or(p.variable)
                    .min(p.variable)
            };
            let claw = owed.saturating_sub(p.clawed);
            p.clawed = p.clawed.saturating_add(claw);
            if claw > 0 {
                self.points.claw_back(day, claw, p.lot)?;
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
            } else if let Some(entry) = self
                .rolling
                .get_mut(p.entry)
                .filter(|_| p.entry >= self.evicted)
            {
                // `taken` is at most what the purchase still counts, which its entry holds.
                entry.1 = entry
                    .1
                    .checked_sub(taken)
                    .ok_or_else(|| LoyaltyError::Overflow(self.customer.clone()))?;
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

    /// The replay at `as_of`: status, timeline and points.
    ///
    /// # Errors
    ///
    /// [`LoyaltyError::Overflow`] when the qualifying value or the distance to the next tier's
    /// threshold does not fit a decimal (a value far below zero after returns).
    pub(super) fn finish(
        mut self,
        as_of: NaiveDate,
        scratch: &mut Scratch,
    ) -> Result<Replay, LoyaltyError> {
        let status = self.status(as_of);
        // The timeline at its exact length: the scratch buffer keeps its room for the next one.
        let mut timeline = Vec::with_capacity(self.events.len());
        timeline.append(&mut self.events);
        let Engine {
            rolling,
            purchases,
            events,
            points,
            ..
        } = self;
        scratch.rolling = rolling;
        scratch.purchases = purchases;
        scratch.events = events;
        Ok(Replay::new(status?, timeline, points))
    }

    /// The status at `as_of` alone: [`finish`](Self::finish) without the timeline and the
    /// points account (whose buffers go back to `scratch`).
    ///
    /// # Errors
    ///
    /// As [`finish`](Self::finish).
    pub(super) fn finish_status(
        mut self,
        as_of: NaiveDate,
        scratch: &mut Scratch,
    ) -> Result<MemberStatus, LoyaltyError> {
        let status = self.status(as_of);
        self.recycle(scratch);
        status
    }

    /// The tier index at `as_of` alone, after the checks of [`finish_status`](Self::finish_status)
    /// (the same errors), without building the status.
    ///
    /// # Errors
    ///
    /// As [`finish`](Self::finish).
    pub(super) fn finish_tier(
        mut self,
        as_of: NaiveDate,
        scratch: &mut Scratch,
    ) -> Result<usize, LoyaltyError> {
        let checked = self
            .current_value(as_of, day_number(as_of))
            .and_then(|value| self.check_distance(value))
            .map(|()| self.tier);
        self.recycle(scratch);
        checked
    }

    /// Hands the buffers back to `scratch`.
    fn recycle(self, scratch: &mut Scratch) {
        let Engine {
            rolling,
            purchases,
            events,
            points,
            ..
        } = self;
        scratch.rolling = rolling;
        scratch.purchases = purchases;
        scratch.events = events;
        scratch.lots = points.into_buffer();
    }

    /// The qualifying value at the end of `as_of` and the distance to the next tier's threshold.
    fn value_and_distance(
        &mut self,
        as_of: NaiveDate,
    ) -> Result<(Decimal, Option<Decimal>), LoyaltyError> {
        let value = self.current_value(as_of, day_number(as_of))?;
        Ok((value, self.distance(value)?))
    }

    /// The distance from `value` to the next tier's threshold (0 once reached), if there is a
    /// next tier.
    fn distance(&self, value: Decimal) -> Result<Option<Decimal>, LoyaltyError> {
        match self.programme().ladder().next_threshold(self.tier) {
            Some(t) => Ok(Some(
                t.checked_sub(value)
                    .ok_or_else(|| LoyaltyError::Overflow(self.customer.clone()))?
                    .max(Decimal::ZERO),
            )),
            None => Ok(None),
        }
    }

    /// The check of [`distance`](Self::distance) alone: the same error, without the decimal
    /// subtraction where it cannot overflow.
    fn check_distance(&self, value: Decimal) -> Result<(), LoyaltyError> {
        match self.programme().ladder().next_threshold(self.tier) {
            Some(t) if compare::difference_fits(t, value) => Ok(()),
            _ => self.distance(value).map(drop),
        }
    }

    /// The status at the end of `as_of` (expires the points due by then).
    fn status(&mut self, as_of: NaiveDate) -> Result<MemberStatus, LoyaltyError> {
        let (value, to_next_tier) = self.value_and_distance(as_of)?;
        self.points.expire_until(as_of);
        let ladder = self.programme().ladder();
        Ok(MemberStatus {
            customer: self.customer.clone(),
            as_of,
            joined: self.joined,
            tier: self.name(self.tier),
            tier_index: self.tier,
            since: self.since,
            qualifying_value: value,
            next_tier: (self.tier + 1 < ladder.len()).then(|| self.name(self.tier + 1)),
            to_next_tier,
            next_evaluation: self.next_review,
            pending_downgrade: self.grace.map(|(on, to)| PendingDowngrade {
                on,
                to: self.name(to),
            }),
            locked_until: self.lock.map(|(_, until)| until),
            points: self.points.status(as_of, self.rules.horizon_days),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::evaluate::Evaluator;
    use crate::loyalty::member::MemberRecords;
    use crate::loyalty::points::{Bonus, EarnRules};

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
    }
    use crate::loyalty::test_support::base_and_top as programme;
    fn no_points() -> EarnRules {
        EarnRules {
            points_per_unit: Decimal::ZERO,
            ..EarnRules::default()
        }
    }
    fn record(d: u32, kind: TransactionKind) -> Transaction {
        let at = day(d).and_hms_opt(12, 0, 0).unwrap();
        Transaction::new(CustomerId::from(8u64), at, Decimal::MAX, kind).unwrap()
    }

    fn any_window() -> impl proptest::strategy::Strategy<Value = QualificationWindow> {
        use proptest::prelude::*;
        prop_oneof![
            (1..400u32, prop::sample::select(vec![1u32, 2, 3, 4, 6, 12])).prop_map(
                |(days, review_every_months)| QualificationWindow::Rolling {
                    days,
                    review_every_months,
                }
            ),
            Just(QualificationWindow::CalendarYear),
            Just(QualificationWindow::MembershipAnniversary),
            Just(QualificationWindow::TierAnniversary),
        ]
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        /// The review table answers as the window does, wherever it answers, and it answers
        /// for every day of its span for the windows whose reviews every member shares.
        #[test]
        fn review_tables_give_the_windows_reviews(
            window in any_window(),
            first in 0..2000u64,
            span in 0..1500u64,
            at in 0..4000u64,
        ) {
            let origin = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
            let from = origin + chrono::Days::new(first);
            let until = from + chrono::Days::new(span);
            let after = origin + chrono::Days::new(at);
            let table = ReviewTable::new(window, from, until);
            let shared = !matches!(
                window,
                QualificationWindow::MembershipAnniversary | QualificationWindow::TierAnniversary
            );
            proptest::prop_assert_eq!(table.is_some(), shared);
            if let Some(review) = table.as_ref().and_then(|t| t.after(after)) {
                // The joining and anchor dates play no part in a shared window's reviews.
                let expected = window.next_review(after, origin, from).unwrap();
                proptest::prop_assert_eq!((review.date, review.day), (expected, day_number(expected)));
                // The entry after it is the review after it.
                if let Some(next) = review.index.and_then(|i| table.as_ref()?.at(i + 1)) {
                    let expected = window.next_review(review.date, origin, from).unwrap();
                    proptest::prop_assert_eq!((next.date, next.day), (expected, day_number(expected)));
                }
            } else if table.is_some() {
                proptest::prop_assert!(after < from || after > until, "{} in {}..={}", after, from, until);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        /// Day numbers kept by year are the calendar's, in any order of dates, across years and
        /// leap days.
        #[test]
        fn day_numbers_by_year_are_the_calendars(days in proptest::collection::vec(-800_000i64..800_000, 1..40)) {
            let origin = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
            let mut numbers = DayNumbers { year: None };
            for d in days {
                let date = origin + chrono::Duration::days(d);
                proptest::prop_assert_eq!(numbers.of(date), day_number(date), "{}", date);
                let near = date + chrono::Duration::days(d % 400);
                proptest::prop_assert_eq!(numbers.of(near), day_number(near), "{}", near);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        /// A member whose points are said not to fail (and so may be skipped) has the tier, or
        /// the error, of a replay without points; and with usual rates and dates, points are
        /// skipped.
        #[test]
        fn points_said_not_to_fail_do_not(
            records in proptest::collection::vec((0..60u64, 0..1_000_000_000_000i64, proptest::bool::weighted(0.2)), 1..10),
            rate_digits in 0..24u32,
            bonus in proptest::prop_oneof![proptest::strategy::Just(0u64), 1u64 << 59..1u64 << 62, proptest::arbitrary::any::<u64>()],
            // Expiry must outlast the 14 pending days (a programme refuses 14 or less).
            expiry in proptest::option::of(15..100u32),
            near_the_end in proptest::arbitrary::any::<bool>(),
        ) {
            let first = if near_the_end {
                NaiveDate::MAX - chrono::Days::new(90)
            } else {
                day(1)
            };
            let id = CustomerId::from(8u64);
            let log: Vec<Transaction> = records
                .iter()
                .map(|&(d, cents, refund)| {
                    let (date, amount) = (first + chrono::Days::new(d), Decimal::new(cents, 2));
                    if refund {
                        Transaction::refund(id.clone(), date, amount).unwrap()
                    } else {
                        Transaction::purchase(id.clone(), date, amount).unwrap()
                    }
                })
                .collect();
            let rules = EarnRules {
                points_per_unit: Decimal::from_i128_with_scale(10i128.pow(rate_digits), 6),
                bonuses: vec![Bonus {
                    name: "b".into(),
                    points: bonus,
                    min_amount: None,
                    first_purchase_only: false,
                    from: None,
                    until: None,
                }],
                pending_days: 14,
                expiry_days: expiry,
                ..EarnRules::default()
            };
            let refs: Vec<&Transaction> = log.iter().collect();
            let skipped = PointsBound::new(&rules).member_cannot_fail(&rules, &refs);
            let as_of = first + chrono::Days::new(80);
            let tier = |rules: EarnRules| {
                let p = programme(QualificationWindow::CalendarYear, rules);
                Evaluator::new(&p)
                    .evaluate_statuses(&[], &log, &[], &[], as_of)
                    .map(|s| s.iter().map(|s| s.tier_index).collect::<Vec<_>>())
            };
            if skipped {
                proptest::prop_assert_eq!(tier(rules), tier(no_points()));
            }
            if !near_the_end && rate_digits <= 8 && bonus == 0 {
                proptest::prop_assert!(skipped);
            }
        }
    }

    #[test]
    fn a_rolling_window_whose_remaining_sum_overflows_is_an_error_not_a_panic() {
        // −MAX, +MAX, +MAX: every running sum fits, but dropping the first does not.
        let p = programme(
            QualificationWindow::Rolling {
                days: 2,
                review_every_months: 1,
            },
            no_points(),
        );
        let log = [
            record(1, TransactionKind::Return),
            record(2, TransactionKind::Purchase),
            record(3, TransactionKind::Purchase),
        ];
        let id = CustomerId::from(8u64);
        let member = MemberRecords::new(&id, &log);
        let err = Evaluator::new(&p).replay(&member, day(5)).unwrap_err();
        assert_eq!(err, LoyaltyError::Overflow(id));
    }

    #[test]
    fn a_distance_to_the_next_tier_past_the_decimal_range_is_an_error() {
        let p = programme(QualificationWindow::CalendarYear, no_points());
        let log = [record(1, TransactionKind::Return)];
        let id = CustomerId::from(8u64);
        let member = MemberRecords::new(&id, &log);
        let err = Evaluator::new(&p).replay(&member, day(5)).unwrap_err();
        assert_eq!(err, LoyaltyError::Overflow(id));
    }

    #[test]
    fn points_and_bonus_past_u64_are_an_error_naming_the_purchase() {
        let bonus = Bonus {
            name: "b".into(),
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
        let p = programme(QualificationWindow::CalendarYear, rules);
        let id = CustomerId::from(8u64);
        let buy = |d: u32, cents: i64| {
            Transaction::purchase(id.clone(), day(d), Decimal::new(cents, 2)).unwrap()
        };
        // One point and the bonus overflow one purchase; two bonuses overflow the account.
        for log in [vec![buy(1, 100)], vec![buy(1, 0), buy(2, 0)]] {
            let member = MemberRecords::new(&id, &log);
            let err = Evaluator::new(&p).replay(&member, day(5)).unwrap_err();
            assert!(
                matches!(err, LoyaltyError::Points(PointsError::Overflow(_))),
                "{err}"
            );
            assert!(err.to_string().contains("customer 8"), "{err}");
        }
    }
}
