//! A loyalty programme's rules as one validated value (loads from JSON with serde).

use super::ladder::{LadderError, TierLadder};
use super::points::{EarnRules, PointsError};
use super::window::{Downgrades, QualificationWindow, WindowError};

/// Why a [`Programme`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProgrammeError {
    /// The tier ladder is invalid.
    #[error("tier ladder: {0}")]
    Ladder(#[from] LadderError),
    /// The qualification window is invalid.
    #[error("qualification window: {0}")]
    Window(#[from] WindowError),
    /// The earn rules are invalid.
    #[error("earn rules: {0}")]
    Points(#[from] PointsError),
    /// The earn rules name a tier the ladder does not have.
    #[error("tier multiplier for {0:?}, which is not a tier of the ladder")]
    UnknownTier(String),
}

/// A loyalty programme: the tier ladder, the qualification window, the downgrade rules and the
/// points rules. All parts are validated together; see the [module docs](crate::loyalty) for the
/// JSON form, field by field.
///
/// ```
/// use customer_assets::loyalty::{
///     Downgrades, EarnRules, Metric, Programme, QualificationWindow, Tier, TierLadder,
/// };
/// use rust_decimal::Decimal;
/// let ladder = TierLadder::new(Metric::Spend, vec![
///     Tier::new("Member", Decimal::ZERO),
///     Tier::new("Gold", Decimal::new(1000, 0)),
/// ])?;
/// let programme = Programme::new(
///     "Club",
///     ladder,
///     QualificationWindow::CalendarYear,
///     Downgrades::default(),
///     EarnRules::default(),
/// )?;
/// assert_eq!(programme.ladder().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ProgrammeSpec"))]
pub struct Programme {
    name: String,
    ladder: TierLadder,
    window: QualificationWindow,
    downgrades: Downgrades,
    points: EarnRules,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgrammeSpec {
    name: String,
    ladder: TierLadder,
    window: QualificationWindow,
    #[serde(default)]
    downgrades: Downgrades,
    #[serde(default)]
    points: EarnRules,
}

#[cfg(feature = "serde")]
impl TryFrom<ProgrammeSpec> for Programme {
    type Error = ProgrammeError;
    fn try_from(s: ProgrammeSpec) -> Result<Self, Self::Error> {
        Programme::new(&s.name, s.ladder, s.window, s.downgrades, s.points)
    }
}

impl Programme {
    /// Validates the parts against each other and builds the programme.
    ///
    /// # Errors
    ///
    /// [`ProgrammeError::Window`] or [`ProgrammeError::Points`] when the window or the earn rules
    /// are invalid (see [`QualificationWindow::validate`], [`EarnRules::validate`]);
    /// [`ProgrammeError::UnknownTier`] when a tier multiplier names a tier the ladder does not
    /// have.
    pub fn new(
        name: &str,
        ladder: TierLadder,
        window: QualificationWindow,
        downgrades: Downgrades,
        points: EarnRules,
    ) -> Result<Self, ProgrammeError> {
        window.validate()?;
        points.validate()?;
        if let Some(unknown) = points
            .tier_multipliers
            .keys()
            .find(|t| ladder.index_of(t).is_none())
        {
            return Err(ProgrammeError::UnknownTier(unknown.clone()));
        }
        Ok(Programme {
            name: name.to_string(),
            ladder,
            window,
            downgrades,
            points,
        })
    }

    /// The programme's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The tier ladder.
    pub fn ladder(&self) -> &TierLadder {
        &self.ladder
    }
    /// The qualification window.
    pub fn window(&self) -> QualificationWindow {
        self.window
    }
    /// The downgrade rules.
    pub fn downgrades(&self) -> Downgrades {
        self.downgrades
    }
    /// The points rules.
    pub fn points(&self) -> &EarnRules {
        &self.points
    }
}
