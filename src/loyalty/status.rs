//! What a replay produces: a member's status at the as-of date and the timeline of tier events.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::records::CustomerId;

use super::points::{PointsAccount, PointsStatus};
use super::window::DowngradePolicy;

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
    pub(super) fn new(
        status: MemberStatus,
        timeline: Vec<TierEvent>,
        points: PointsAccount,
    ) -> Self {
        Replay {
            status,
            timeline,
            points,
        }
    }
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
