//! Loyalty programmes: tier ladders, qualification windows, upgrade and downgrade rules, points,
//! tier timelines, and forecasts from the CLV models.
//!
//! A [`Programme`] holds the rules; an [`Evaluator`] replays a member's transactions (in any
//! order) up to an as-of date that is always an input and returns a [`Replay`]: the
//! [`MemberStatus`] (tier, since when, qualifying value, amount to the next tier, next review,
//! points balance, points expiring within a horizon) and the timeline of [`TierEvent`]s with their
//! reasons. [`Evaluator::evaluate_base`] does a whole base, [`Evaluator::evaluate_statuses`] keeps
//! only the statuses, and [`Evaluator::ledger_tiers`] only the tiers of a
//! [`Ledger`](crate::Ledger). The [`forecast`] module turns fitted transaction and spend models
//! into tier probabilities at the next review and the expected tier mix; the [`liability`]
//! module values the outstanding points with them.
//!
//! # The rules
//!
//! - **Ladder** ([`TierLadder`]): ordered tiers, the first a base tier with threshold 0,
//!   thresholds strictly increasing, names unique; thresholds are on one [`Metric`]: net spend,
//!   points earned, number of orders, or a host-defined [`QualifyingMetric`].
//! - **Window** ([`QualificationWindow`]): rolling N days, calendar year, membership
//!   anniversary, or tier anniversary; it also fixes the review dates.
//! - **Upgrades** happen the moment the qualifying value reaches a higher tier's threshold
//!   (after the transaction that reaches it). **Returns** lower the qualifying value but, like
//!   everything else, can only lower the tier at a review. A return takes back what the
//!   purchases it is netted against brought to the window they count in: it lowers the current
//!   value only as long as those purchases still count (not after a review closed their period,
//!   after a tier-anniversary year restarted, or after they left a rolling window). The part of
//!   a return with no purchase left to net against counts on its own date (spend ladders); a
//!   [`QualifyingMetric`]'s contributions, returns included, all count on their own dates.
//! - **Downgrades** happen only at reviews, by [`DowngradePolicy`], optionally after a grace
//!   period ([`Downgrades`]).
//! - **Locks** ([`TierLock`]) hold a member in a tier between two dates, whatever the rules say.
//! - **Points** ([`EarnRules`]): per currency unit with stated [`Rounding`], tier multipliers,
//!   campaign multipliers, fixed bonuses, pending period, expiry; [`Redemption`]s spend the oldest
//!   points first; a redemption above the spendable balance is
//!   [`PointsError::InsufficientPoints`].
//!
//! **Order within a day.** At the start of day `d`: a lock ending on `d` ends, a lock starting on
//! `d` starts, a grace period ending on `d` applies its downgrade, and a review due on `d` looks at
//! the window that closed with `d − 1`. Then the day's transactions are applied in time order
//! (purchases before returns at the same moment), then the day's redemptions. A status "as of
//! `d`" is taken at the end of `d`.
//!
//! **Returns and points.** A return is netted against the latest purchases not yet refunded
//! (newest first). Each purchase refunded loses `round(points × share refunded)` of its
//! variable points, with the programme's rounding, and all its points (bonuses included) when
//! refunded in full. The points are taken from that purchase's lot first, then from the oldest
//! lots; what cannot be taken because it was already spent is written off and reported as
//! `shortfall`: the balance never goes negative. Points earned by a purchase use the tier held
//! *before* that purchase. On a `points_earned` ladder the points clawed back from a purchase
//! leave the qualifying value of the window that purchase counts in (see the rules above).
//!
//! # Rules as JSON
//!
//! A programme (de)serialises with serde (feature `serde`, on by default). Money and multipliers
//! are decimals, written as strings for exactness (`"1.25"`; plain JSON numbers are accepted too).
//! Dates are `YYYY-MM-DD`. This is `examples/loyalty_rules.json`, used by `clv tiers`:
//!
//! ```json
#![doc = include_str!("../../examples/loyalty_rules.json")]
//! ```
//!
//! Field by field:
//!
//! | field | meaning |
//! |---|---|
//! | `name` | the programme's name |
//! | `ladder.metric` | `"spend"` (purchases − returns), `"points_earned"` (points credited − clawed back; for both, a return counts with the purchase it is netted against, see the rules above), `"orders"` (number of purchases), or `{"custom": "name"}` for a [`QualifyingMetric`] supplied with [`Evaluator::custom_metric`] |
//! | `ladder.tiers[]` | lowest first: `name` (unique) and `threshold` (decimal; the first must be 0, then strictly increasing) |
//! | `window.type` | `"rolling"` (with `days` ≥ 1 and `review_every_months` ∈ {1, 2, 3, 4, 6, 12}: reviews on the 1st of every k-th month from January), `"calendar_year"` (reviews on January 1), `"membership_anniversary"` (reviews on anniversaries of the joining date), `"tier_anniversary"` (reviews a year after the last tier change or review) |
//! | `downgrades.policy` | `"never"`, `"one_tier"` (one step per review at most), `"rebucket"` (to the tier the closed window earns); default `"rebucket"` |
//! | `downgrades.grace_days` | days a downgrade decided at a review waits; reaching the tier's threshold meanwhile cancels it (default 0) |
//! | `points.points_per_unit` | points per currency unit (decimal) |
//! | `points.rounding` | `"down"` (default), `"half_up"`, `"half_even"`, `"up"`: applied once per purchase to `amount × points_per_unit × tier multiplier × campaign multiplier` |
//! | `points.tier_multipliers` | `{tier name: multiplier}`; tiers not listed earn 1× (names must be tiers of the ladder) |
//! | `points.campaigns[]` | `name`, `from`, `until` (both days included), `multiplier`; overlapping campaigns do not stack, the highest applies |
//! | `points.bonuses[]` | `name`, `points` (whole points, not multiplied), optional `min_amount`, `first_purchase_only` (default false), `from`, `until` |
//! | `points.pending_days` | days before earned points can be redeemed (default 0) |
//! | `points.expiry_days` | days after earning when points expire (absent: never); must exceed `pending_days` |
//!
//! `downgrades` and `points` may be left out (defaults: re-bucket without grace; 1 point per unit,
//! rounded down, no expiry). Unknown top-level fields are rejected.

mod compare;
mod engine;
pub mod error;
pub mod evaluate;
pub mod forecast;
pub mod ladder;
mod ledger_tiers;
pub mod liability;
pub mod member;
pub mod points;
pub mod rules;
pub mod status;
#[cfg(test)]
pub(crate) mod test_support;
pub mod window;

pub use error::LoyaltyError;
pub use evaluate::Evaluator;
pub use forecast::{
    BaseForecast, ForecastError, ForecastMethod, ForecastOptions, SpendAssumption, TierForecast,
    TierForecaster, MAX_PURCHASES, MAX_SIMULATIONS,
};
pub use ladder::{LadderError, Metric, QualifyingMetric, Tier, TierLadder};
pub use ledger_tiers::LedgerTiers;
pub use liability::{points_liability, LiabilityOptions, MemberLiability, PointsLiability};
pub use member::{MemberRecords, TierLock};
pub use points::{
    Bonus, Campaign, EarnRules, PointsAccount, PointsError, PointsLot, PointsStatus, Redemption,
    Rounding,
};
pub use rules::{Programme, ProgrammeError};
pub use status::{MemberStatus, PendingDowngrade, Replay, TierChangeReason, TierEvent};
pub use window::{DowngradePolicy, Downgrades, QualificationWindow, WindowError};
