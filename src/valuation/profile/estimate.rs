//! A statistic that was computed, or the reason it could not be.

use std::fmt;

/// Why a statistic of the profile could not be computed from the data it was given. Never an
/// error of the whole analysis: the other statistics stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum NotComputable {
    /// Fewer customers than the statistic needs (a correlation needs 3, its Fisher-z interval
    /// 4; an F test one more customer than levels).
    TooFewCustomers,
    /// The attribute takes one value for every customer used: it varies with nothing.
    ConstantAttribute,
    /// The behaviour measure takes one value for every customer used.
    ConstantMeasure,
    /// Fewer than two levels of a categorical attribute occur among the customers used.
    OneLevel,
    /// A level holds one customer: it has no standard deviation, so neither a t interval nor a
    /// place in Welch's test.
    SingleCustomerLevel,
    /// Every level (Welch: some level) is constant in the measure: the F statistic is infinite.
    NoWithinLevelVariation,
    /// The correlation is exactly ±1: Fisher's z is infinite, so there is no interval.
    PerfectCorrelation,
    /// No customer used has a value (of the attribute, or in the segment).
    NoValues,
    /// A categorical attribute has more levels than [`MAX_LEVELS`](super::MAX_LEVELS): the
    /// comparison of its level means is left out (an id-like column is no grouping).
    TooManyLevels,
    /// The values are too large for sums of squares in `f64`.
    Overflow,
}

impl NotComputable {
    /// What the reason means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            NotComputable::TooFewCustomers => "too few customers",
            NotComputable::ConstantAttribute => "the attribute is constant",
            NotComputable::ConstantMeasure => "the behaviour measure is constant",
            NotComputable::OneLevel => "fewer than two levels occur",
            NotComputable::SingleCustomerLevel => "a level holds a single customer",
            NotComputable::NoWithinLevelVariation => "no variation within the levels",
            NotComputable::PerfectCorrelation => "the correlation is exactly ±1",
            NotComputable::NoValues => "no customer has a value",
            NotComputable::TooManyLevels => "the attribute has too many levels",
            NotComputable::Overflow => "the values are too large to sum",
        }
    }
}

impl fmt::Display for NotComputable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A statistic, or why it could not be computed. Serialized as `{"computed": value}` or
/// `{"not_computable": "reason"}`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Estimate<T> {
    /// The statistic.
    Computed(T),
    /// Why there is none.
    NotComputable(NotComputable),
}

impl<T> Estimate<T> {
    /// The statistic, when computed.
    pub fn computed(&self) -> Option<&T> {
        match self {
            Estimate::Computed(v) => Some(v),
            Estimate::NotComputable(_) => None,
        }
    }

    /// The reason, when not computed.
    pub fn reason(&self) -> Option<NotComputable> {
        match self {
            Estimate::Computed(_) => None,
            Estimate::NotComputable(r) => Some(*r),
        }
    }
}

impl<T> From<Result<T, NotComputable>> for Estimate<T> {
    fn from(result: Result<T, NotComputable>) -> Self {
        match result {
            Ok(v) => Estimate::Computed(v),
            Err(r) => Estimate::NotComputable(r),
        }
    }
}
