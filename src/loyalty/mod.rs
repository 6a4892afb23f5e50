//! Loyalty programmes: tier ladders, qualification windows, upgrade and downgrade rules, points,
//! tier timelines, and forecasts from the CLV models.
//!
//! (Module documentation with the rules JSON, field by field, is below.)

pub mod evaluate;
pub mod ladder;
pub mod points;
pub mod rules;
pub mod window;

pub use evaluate::{
    Evaluator, LoyaltyError, MemberRecords, MemberStatus, PendingDowngrade, Replay,
    TierChangeReason, TierEvent, TierLock,
};
pub use ladder::{LadderError, Metric, QualifyingMetric, Tier, TierLadder};
pub use points::{
    Bonus, Campaign, EarnRules, PointsAccount, PointsError, PointsLot, PointsStatus, Redemption,
    Rounding,
};
pub use rules::{Programme, ProgrammeError};
pub use window::{DowngradePolicy, Downgrades, QualificationWindow, WindowError};
