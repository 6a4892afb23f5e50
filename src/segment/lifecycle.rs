//! Lifecycle stages: prospect, new, active, at risk, lapsed, reactivated.
//!
//! Stages follow from durations (in days, converted from the profile's time unit) or, for the
//! activity part, from a fitted model's P(alive). The rules, checked in this order:
//!
//! 1. **prospect**: the customer has not bought yet ([`Profile::prospect`]);
//! 2. **new**: the first purchase lies at most `new_within_days` before the as-of date (T);
//! 3. **reactivated**: the last purchase is recent (within `active_within_days`, or P(alive) at
//!    least the active cut) *and* came after a gap of at least `lapsed_after_days` since the
//!    purchase before it (the gap must be supplied: [`Profile::with_gap_before_last`] or
//!    [`attach_purchase_gaps`]; without it nobody is reactivated);
//! 4. by dates: **active** when the last purchase lies within `active_within_days` (T − t_x),
//!    **at risk** within `lapsed_after_days`, **lapsed** beyond;
//!    by P(alive): **active** when P(alive) ≥ `active_at_least`, **at risk** when ≥
//!    `at_risk_at_least`, **lapsed** below.
//!
//! Defaults: new within 90 days, active within 90 days, lapsed after 180 days; P(alive) cuts 0.7
//! and 0.3. Nothing is learnt from the population: the stages apply to any customer.
//!
//! ```
//! use customer_assets::segment::lifecycle::{LifecycleParams, Stage};
//! use customer_assets::segment::{Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let p = |id: u64, x, t_x, t| Profile::new(CustomerId::from(id), TimeUnit::DAYS, x, t_x, t, Decimal::ONE);
//! let base = vec![p(1, 0, 0.0, 30.0)?, p(2, 4, 300.0, 320.0)?, p(3, 1, 100.0, 200.0)?, p(4, 2, 20.0, 400.0)?,
//!                 Profile::prospect(CustomerId::from(5u64), TimeUnit::DAYS)];
//! let (_, stages) = LifecycleParams::default().segment(&base)?;
//! assert_eq!(stages, vec![Stage::New, Stage::Active, Stage::AtRisk, Stage::Lapsed, Stage::Prospect]);
//! # Ok::<(), customer_assets::segment::SegmentError>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;

use super::error::SegmentError;
use super::feature::Feature;
use super::profile::Profile;
use super::traits::{Assign, Segmenter};
use crate::ledger::Ledger;
use crate::records::{CustomerId, TransactionKind};

/// A lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Stage {
    /// Known but has not bought.
    Prospect,
    /// First purchase recent.
    New,
    /// Bought recently (or likely alive).
    Active,
    /// Slipping away.
    AtRisk,
    /// Gone quiet.
    Lapsed,
    /// Came back after a lapse.
    Reactivated,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Prospect => "prospect",
            Stage::New => "new",
            Stage::Active => "active",
            Stage::AtRisk => "at risk",
            Stage::Lapsed => "lapsed",
            Stage::Reactivated => "reactivated",
        })
    }
}

/// What decides activity.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Activity {
    /// The time since the last purchase against the day windows.
    Dates,
    /// A fitted model's P(alive) (supplied on each profile).
    PAlive {
        /// Active at or above this P(alive).
        active_at_least: f64,
        /// At risk at or above this (and below the active cut); lapsed below.
        at_risk_at_least: f64,
    },
}

/// Parameters of lifecycle stages (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LifecycleParams {
    new_within_days: f64,
    active_within_days: f64,
    lapsed_after_days: f64,
    activity: Activity,
}

impl Default for LifecycleParams {
    fn default() -> Self {
        LifecycleParams {
            new_within_days: 90.0,
            active_within_days: 90.0,
            lapsed_after_days: 180.0,
            activity: Activity::Dates,
        }
    }
}

impl LifecycleParams {
    /// Sets the day windows: new within `new`, active within `active`, lapsed after `lapsed`.
    /// Checked when learning: finite, non-negative, `active <= lapsed`.
    pub fn windows(mut self, new: f64, active: f64, lapsed: f64) -> Self {
        self.new_within_days = new;
        self.active_within_days = active;
        self.lapsed_after_days = lapsed;
        self
    }
    /// Decides activity by P(alive) with these cuts (checked: 0 <= at_risk <= active <= 1).
    pub fn by_p_alive(mut self, active_at_least: f64, at_risk_at_least: f64) -> Self {
        self.activity = Activity::PAlive {
            active_at_least,
            at_risk_at_least,
        };
        self
    }

    fn validate(&self) -> Result<(), SegmentError> {
        let days = [
            self.new_within_days,
            self.active_within_days,
            self.lapsed_after_days,
        ];
        if days.iter().any(|d| !d.is_finite() || *d < 0.0)
            || self.active_within_days > self.lapsed_after_days
        {
            return Err(SegmentError::invalid(
                "windows",
                format!("{days:?}"),
                "need finite, non-negative days with active <= lapsed",
            ));
        }
        if let Activity::PAlive {
            active_at_least: a,
            at_risk_at_least: r,
        } = self.activity
        {
            if !(0.0 <= r && r <= a && a <= 1.0) {
                return Err(SegmentError::invalid(
                    "p_alive cuts",
                    format!("active {a}, at risk {r}"),
                    "need 0 <= at risk <= active <= 1",
                ));
            }
        }
        Ok(())
    }

    /// The stage of one customer.
    ///
    /// # Errors
    ///
    /// [`SegmentError::MissingFeature`] or [`SegmentError::NotFinite`] for a feature it reads that
    /// the profile lacks or that is not finite (the age, the time since the last purchase, and
    /// P(alive) when activity is decided by it).
    pub fn stage(&self, p: &Profile) -> Result<Stage, SegmentError> {
        if !p.has_purchased() {
            return Ok(Stage::Prospect);
        }
        let days = |units: f64| p.unit().to_days(units);
        let age = days(p.feature(Feature::Age)?);
        let since_last = days(p.feature(Feature::TimeSinceLastPurchase)?);
        if age <= self.new_within_days {
            return Ok(Stage::New);
        }
        let (recent, stage) = match self.activity {
            Activity::Dates => {
                let stage = if since_last <= self.active_within_days {
                    Stage::Active
                } else if since_last <= self.lapsed_after_days {
                    Stage::AtRisk
                } else {
                    Stage::Lapsed
                };
                (stage == Stage::Active, stage)
            }
            Activity::PAlive {
                active_at_least,
                at_risk_at_least,
            } => {
                let pa = p.feature(Feature::PAlive)?;
                let stage = if pa >= active_at_least {
                    Stage::Active
                } else if pa >= at_risk_at_least {
                    Stage::AtRisk
                } else {
                    Stage::Lapsed
                };
                (stage == Stage::Active, stage)
            }
        };
        let came_back = p
            .gap_before_last()
            .is_some_and(|g| days(g) >= self.lapsed_after_days);
        Ok(if recent && came_back {
            Stage::Reactivated
        } else {
            stage
        })
    }
}

impl Segmenter<Profile> for LifecycleParams {
    type Learnt = LifecycleParams;
    /// Nothing to learn: validates the parameters and that the population is not empty.
    fn check(&self) -> Result<(), SegmentError> {
        self.validate()
    }

    fn learn(&self, population: &[Profile]) -> Result<LifecycleParams, SegmentError> {
        self.check()?;
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        Ok(*self)
    }
}

impl Assign<Profile> for LifecycleParams {
    type Label = Stage;
    fn assign(&self, p: &Profile) -> Result<Stage, SegmentError> {
        self.stage(p)
    }
}

/// Sets on each profile the time between its last purchase day on or before `as_of` and the
/// purchase day before that (in the profile's unit), read from the ledger's purchases; profiles
/// with a single purchase day keep none.
///
/// # Errors
///
/// Those of [`Profile::with_gap_before_last`]; a gap between two purchase days is finite and
/// positive, so none in practice.
pub fn attach_purchase_gaps(
    profiles: Vec<Profile>,
    ledger: &Ledger,
    as_of: NaiveDate,
) -> Result<Vec<Profile>, SegmentError> {
    // The last two distinct purchase days of each customer.
    let mut last_two: HashMap<&CustomerId, (NaiveDate, Option<NaiveDate>)> = HashMap::new();
    for t in ledger.transactions() {
        if t.kind() != TransactionKind::Purchase || t.date() > as_of {
            continue;
        }
        let d = t.date();
        last_two
            .entry(t.customer())
            .and_modify(|(a, b)| {
                if d > *a {
                    *b = Some(*a);
                    *a = d;
                } else if d < *a && b.is_none_or(|b| d > b) {
                    *b = Some(d);
                }
            })
            .or_insert((d, None));
    }
    profiles
        .into_iter()
        .map(|p| match last_two.get(p.id()) {
            Some((last, Some(before))) => {
                let gap = p.unit().from_days((*last - *before).num_days() as f64);
                p.with_gap_before_last(gap)
            }
            _ => Ok(p),
        })
        .collect()
}
