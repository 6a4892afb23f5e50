//! Qualification windows, review dates and downgrade policies.

use chrono::{Datelike, Days, Months, NaiveDate};

/// Over which span of days the qualifying value is summed, and when reviews (the only moments a
/// downgrade can happen) fall.
///
/// All windows count whole days. The qualifying value *on* day `d` includes the transactions of
/// `d`. A review on day `e` happens at the start of `e`, before that day's transactions, and looks
/// at the window that has just closed (ending with day `e − 1`).
///
/// | window | qualifying value on day d | reviews |
/// |---|---|---|
/// | `Rolling { days: N, review_every_months: k }` | the N days ending with d | the 1st of every k-th month counting from January (k = 3: Jan 1, Apr 1, Jul 1, Oct 1) |
/// | `CalendarYear` | January 1 of d's year through d | every January 1 |
/// | `MembershipAnniversary` | the membership year containing d (from the last anniversary of the joining date) | every anniversary of the joining date |
/// | `TierAnniversary` | since the last tier change or review | one year after the last tier change or review |
///
/// With `TierAnniversary` an upgrade starts a new qualification year: what was bought before the
/// upgrade (including the purchase that triggered it) does not count towards keeping the new tier,
/// and neither does its return. In every window a return counts with the purchase it is netted
/// against: once that purchase no longer counts (its period closed, or it left the rolling
/// window), its return no longer lowers the qualifying value.
/// Anniversaries of February 29 fall on February 28 in other years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum QualificationWindow {
    /// The last `days` days; reviews on the first day of every `review_every_months`-th month.
    Rolling {
        /// Length of the window in days (at least 1).
        days: u32,
        /// Months between reviews: 1, 2, 3, 4, 6 or 12 (so reviews fall on the same dates each year).
        review_every_months: u32,
    },
    /// The calendar year; reviews every January 1.
    CalendarYear,
    /// Membership years from the joining date; reviews on its anniversaries.
    MembershipAnniversary,
    /// Years from the last tier change (or review); reviews on their anniversaries.
    TierAnniversary,
}

/// Why a [`QualificationWindow`] or [`Downgrades`] setting is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// A rolling window of zero days.
    #[error("a rolling window must last at least one day")]
    EmptyRollingWindow,
    /// Months between reviews that do not divide a year.
    #[error("review_every_months must be 1, 2, 3, 4, 6 or 12, got {0}")]
    ReviewInterval(u32),
    /// A date computation left chrono's calendar.
    #[error("date out of range after {0}")]
    DateOutOfRange(NaiveDate),
}

impl QualificationWindow {
    /// Checks the window's parameters.
    ///
    /// # Errors
    ///
    /// [`WindowError::EmptyRollingWindow`] for a rolling window of 0 days;
    /// [`WindowError::ReviewInterval`] for months between reviews that do not divide a year.
    pub fn validate(&self) -> Result<(), WindowError> {
        if let QualificationWindow::Rolling {
            days,
            review_every_months,
        } = *self
        {
            if days == 0 {
                return Err(WindowError::EmptyRollingWindow);
            }
            if ![1, 2, 3, 4, 6, 12].contains(&review_every_months) {
                return Err(WindowError::ReviewInterval(review_every_months));
            }
        }
        Ok(())
    }

    /// Whether the window is a sequence of periods whose value restarts at each review (all but
    /// the rolling window).
    pub fn is_periodic(&self) -> bool {
        !matches!(self, QualificationWindow::Rolling { .. })
    }

    /// The first review strictly after `after`. `joined` is the membership start and `anchor` the
    /// start of the current qualification period (used by the anniversary windows).
    ///
    /// # Errors
    ///
    /// [`WindowError::DateOutOfRange`] when the review falls outside chrono's calendar.
    pub fn next_review(
        &self,
        after: NaiveDate,
        joined: NaiveDate,
        anchor: NaiveDate,
    ) -> Result<NaiveDate, WindowError> {
        let out = WindowError::DateOutOfRange(after);
        match *self {
            QualificationWindow::Rolling {
                review_every_months,
                ..
            } => {
                let step = review_every_months.max(1);
                // First day of the month containing `after`, then step up to the next review month.
                let month0 = after.month0();
                let next_month0 = (month0 / step + 1) * step;
                let year = after.year() + (next_month0 / 12) as i32;
                NaiveDate::from_ymd_opt(year, next_month0 % 12 + 1, 1).ok_or(out)
            }
            QualificationWindow::CalendarYear => {
                NaiveDate::from_ymd_opt(after.year() + 1, 1, 1).ok_or(out)
            }
            QualificationWindow::MembershipAnniversary => {
                let years = after.year() - joined.year();
                let mut k = years.max(1) as u32;
                loop {
                    let candidate = anniversary(joined, k).ok_or(out.clone())?;
                    if candidate > after {
                        return Ok(candidate);
                    }
                    k += 1;
                }
            }
            QualificationWindow::TierAnniversary => {
                let mut k = 1;
                loop {
                    let candidate = anniversary(anchor, k).ok_or(out.clone())?;
                    if candidate > after {
                        return Ok(candidate);
                    }
                    k += 1;
                }
            }
        }
    }
}

/// The `years`-th anniversary of `date` (February 29 falls on February 28).
pub(crate) fn anniversary(date: NaiveDate, years: u32) -> Option<NaiveDate> {
    date.checked_add_months(Months::new(years.checked_mul(12)?))
}

/// `date` plus `days` days.
pub(crate) fn add_days(date: NaiveDate, days: u32) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(u64::from(days)))
}

/// What a review does to a member whose closed window no longer reaches their tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DowngradePolicy {
    /// Tiers are never lowered.
    Never,
    /// Down one tier per review at most (never below the tier the window earned).
    OneTier,
    /// Down to the tier the closed window's value earns ("re-bucket").
    #[default]
    Rebucket,
}

/// The downgrade rules: a policy and an optional grace period.
///
/// With a grace period of `g` days, a downgrade decided at a review takes effect `g` days later,
/// unless the member's current qualifying value reaches their tier's threshold before then
/// (they re-qualify and keep the tier). Reviews during a pending grace do not start a second one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Downgrades {
    /// What a review does.
    pub policy: DowngradePolicy,
    /// Days a member keeps the tier after a review decided a downgrade (0: none).
    #[cfg_attr(feature = "serde", serde(default))]
    pub grace_days: u32,
}

impl Downgrades {
    /// The tier a review leaves a member in: `current` is the tier held, `earned` the tier the
    /// closed window's value reaches.
    pub fn target(&self, current: usize, earned: usize) -> usize {
        if earned >= current {
            return earned;
        }
        match self.policy {
            DowngradePolicy::Never => current,
            DowngradePolicy::OneTier => current - 1,
            DowngradePolicy::Rebucket => earned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn rolling_reviews_fall_on_the_first_of_review_months() {
        let w = QualificationWindow::Rolling {
            days: 365,
            review_every_months: 3,
        };
        let j = day(2024, 1, 1);
        assert_eq!(
            w.next_review(day(2024, 2, 10), j, j).unwrap(),
            day(2024, 4, 1)
        );
        assert_eq!(
            w.next_review(day(2024, 4, 1), j, j).unwrap(),
            day(2024, 7, 1)
        );
        assert_eq!(
            w.next_review(day(2024, 12, 31), j, j).unwrap(),
            day(2025, 1, 1)
        );
        let m = QualificationWindow::Rolling {
            days: 30,
            review_every_months: 1,
        };
        assert_eq!(
            m.next_review(day(2024, 12, 5), j, j).unwrap(),
            day(2025, 1, 1)
        );
        assert!(QualificationWindow::Rolling {
            days: 30,
            review_every_months: 5
        }
        .validate()
        .is_err());
    }

    #[test]
    fn anniversary_reviews() {
        let joined = day(2024, 2, 29);
        let w = QualificationWindow::MembershipAnniversary;
        assert_eq!(
            w.next_review(joined, joined, joined).unwrap(),
            day(2025, 2, 28)
        );
        assert_eq!(
            w.next_review(day(2025, 2, 28), joined, joined).unwrap(),
            day(2026, 2, 28)
        );
        let t = QualificationWindow::TierAnniversary;
        assert_eq!(
            t.next_review(day(2024, 7, 1), joined, day(2024, 6, 15))
                .unwrap(),
            day(2025, 6, 15)
        );
        assert_eq!(
            QualificationWindow::CalendarYear
                .next_review(day(2024, 12, 31), joined, joined)
                .unwrap(),
            day(2025, 1, 1)
        );
    }

    #[test]
    fn downgrade_targets() {
        let mut d = Downgrades::default();
        assert_eq!(d.target(3, 0), 0);
        assert_eq!(d.target(1, 2), 2);
        d.policy = DowngradePolicy::OneTier;
        assert_eq!(d.target(3, 0), 2);
        d.policy = DowngradePolicy::Never;
        assert_eq!(d.target(3, 0), 3);
    }
}
