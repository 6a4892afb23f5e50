//! Tier ladders: ordered tiers with a qualifying threshold on one metric.

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::records::{Transaction, TransactionKind};

use super::compare::at_least;

/// The metric a ladder's thresholds are stated in.
///
/// Every metric is a sum of per-transaction contributions over the qualification window:
///
/// | metric | purchase | return |
/// |---|---|---|
/// | [`Metric::Spend`] | + amount | − amount |
/// | [`Metric::PointsEarned`] | + points credited (multipliers and bonuses included) | − points clawed back |
/// | [`Metric::Orders`] | + 1 | 0 (a return does not undo an order) |
/// | [`Metric::Custom`] | [`QualifyingMetric::contribution`] | [`QualifyingMetric::contribution`] |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Metric {
    /// Net spend: purchases minus returns, in currency units.
    Spend,
    /// Points earned (before redemptions and expiry), net of claw-backs.
    PointsEarned,
    /// Number of purchase transactions.
    Orders,
    /// A metric supplied by the host application, by name (see [`QualifyingMetric`]).
    Custom(String),
}

impl Metric {
    /// The contribution of one transaction to the built-in metrics `Spend` and `Orders`
    /// (`None` for the metrics that need more context).
    pub(crate) fn simple_contribution(&self, t: &Transaction) -> Option<Decimal> {
        match self {
            Metric::Spend => Some(t.signed_amount()),
            Metric::Orders => Some(match t.kind() {
                TransactionKind::Purchase => Decimal::ONE,
                TransactionKind::Return => Decimal::ZERO,
            }),
            Metric::PointsEarned | Metric::Custom(_) => None,
        }
    }
}

/// A qualifying metric defined by the host application, e.g. "items bought" or "spend in the
/// partner network". The qualifying value is the sum of contributions over the window, so a
/// contribution may be negative (a return) or zero (a transaction that does not count). Each
/// contribution counts on its transaction's date: unlike the built-in spend and points ladders,
/// a return is not matched to the purchase it refunds.
///
/// ```
/// use customer_assets::loyalty::QualifyingMetric;
/// use customer_assets::{Transaction, TransactionKind};
/// use rust_decimal::Decimal;
///
/// /// Counts items, from the transaction's quantity (1 when unknown); returns count negative.
/// struct Items;
/// impl QualifyingMetric for Items {
///     fn name(&self) -> &str { "items" }
///     fn contribution(&self, t: &Transaction) -> Decimal {
///         let n = Decimal::from(t.quantity().unwrap_or(1));
///         if t.kind() == TransactionKind::Return { -n } else { n }
///     }
/// }
/// ```
///
/// Both methods are required: the name ties the metric to the ladder. References, boxes and
/// `Arc`s of metrics are metrics too.
pub trait QualifyingMetric: Send + Sync {
    /// The name the ladder refers to in [`Metric::Custom`].
    fn name(&self) -> &str;
    /// What one transaction adds to the qualifying value.
    fn contribution(&self, transaction: &Transaction) -> Decimal;
}

/// Qualifying metrics behind a pointer: `&M`, `Box<M>`, `Arc<M>`, trait objects included.
macro_rules! forward_through_pointers {
    ($($pointer:ty),+) => {$(
        impl<M: QualifyingMetric + ?Sized> QualifyingMetric for $pointer {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn contribution(&self, transaction: &Transaction) -> Decimal {
                (**self).contribution(transaction)
            }
        }
    )+};
}

forward_through_pointers!(&M, Box<M>, Arc<M>);

/// One tier: a name and the qualifying value needed to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Tier {
    name: Arc<str>,
    threshold: Decimal,
}

impl Tier {
    /// A tier reached when the qualifying value is at least `threshold`.
    pub fn new(name: &str, threshold: Decimal) -> Self {
        Tier {
            name: Arc::from(name),
            threshold,
        }
    }
    /// The tier's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The qualifying value needed to reach the tier.
    pub fn threshold(&self) -> Decimal {
        self.threshold
    }
}

/// Why a [`TierLadder`] is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LadderError {
    /// The ladder has no tiers.
    #[error("a tier ladder needs at least one tier")]
    Empty,
    /// A tier name is empty.
    #[error("tier {index} has an empty name")]
    EmptyName {
        /// Position of the tier (0 = base).
        index: usize,
    },
    /// Two tiers share a name.
    #[error("tier name {0:?} is used twice")]
    DuplicateName(String),
    /// The first tier is not a base tier: its threshold must be 0, so every member has a tier.
    #[error("the first tier {tier:?} must be the base tier with threshold 0, found {threshold}")]
    NoBaseTier {
        /// The first tier.
        tier: String,
        /// Its threshold.
        threshold: Decimal,
    },
    /// Thresholds are not strictly increasing.
    #[error(
        "tier {tier:?} has threshold {threshold}, not above {previous:?}'s {previous_threshold}"
    )]
    NotIncreasing {
        /// The offending tier.
        tier: String,
        /// Its threshold.
        threshold: Decimal,
        /// The tier below it.
        previous: String,
        /// That tier's threshold.
        previous_threshold: Decimal,
    },
}

/// Ordered tiers, lowest (the base tier, threshold 0) first, with strictly increasing thresholds
/// on one [`Metric`].
///
/// ```
/// use customer_assets::loyalty::{Metric, Tier, TierLadder};
/// use rust_decimal::Decimal;
/// let ladder = TierLadder::new(Metric::Spend, vec![
///     Tier::new("Member", Decimal::ZERO),
///     Tier::new("Silver", Decimal::new(500, 0)),
///     Tier::new("Gold", Decimal::new(2000, 0)),
/// ])?;
/// assert_eq!(ladder.tier(ladder.bucket(Decimal::new(750, 0))).map(|t| t.name()), Some("Silver"));
/// assert!(TierLadder::new(Metric::Spend, vec![Tier::new("Gold", Decimal::ONE)]).is_err());
/// # Ok::<(), customer_assets::loyalty::LadderError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "LadderSpec"))]
pub struct TierLadder {
    metric: Metric,
    tiers: Vec<Tier>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct LadderSpec {
    metric: Metric,
    tiers: Vec<Tier>,
}

#[cfg(feature = "serde")]
impl TryFrom<LadderSpec> for TierLadder {
    type Error = LadderError;
    fn try_from(spec: LadderSpec) -> Result<Self, Self::Error> {
        TierLadder::new(spec.metric, spec.tiers)
    }
}

impl TierLadder {
    /// Validates and builds a ladder: at least one tier, unique non-empty names, the first tier a
    /// base tier with threshold 0, thresholds strictly increasing.
    ///
    /// # Errors
    ///
    /// [`LadderError::Empty`] without tiers; [`LadderError::EmptyName`] or
    /// [`LadderError::DuplicateName`] for an empty or repeated name; [`LadderError::NoBaseTier`]
    /// when the first threshold is not 0; [`LadderError::NotIncreasing`] when thresholds do not
    /// strictly increase.
    pub fn new(metric: Metric, tiers: Vec<Tier>) -> Result<Self, LadderError> {
        let first = tiers.first().ok_or(LadderError::Empty)?;
        if !first.threshold.is_zero() {
            return Err(LadderError::NoBaseTier {
                tier: first.name.to_string(),
                threshold: first.threshold,
            });
        }
        for (index, t) in tiers.iter().enumerate() {
            if t.name.trim().is_empty() {
                return Err(LadderError::EmptyName { index });
            }
            if tiers[..index].iter().any(|u| u.name == t.name) {
                return Err(LadderError::DuplicateName(t.name.to_string()));
            }
        }
        for pair in tiers.windows(2) {
            if let [lower, upper] = pair {
                if upper.threshold <= lower.threshold {
                    return Err(LadderError::NotIncreasing {
                        tier: upper.name.to_string(),
                        threshold: upper.threshold,
                        previous: lower.name.to_string(),
                        previous_threshold: lower.threshold,
                    });
                }
            }
        }
        Ok(TierLadder { metric, tiers })
    }

    /// The metric the thresholds are stated in.
    pub fn metric(&self) -> &Metric {
        &self.metric
    }
    /// The tiers, base tier first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }
    /// Number of tiers (at least 1).
    pub fn len(&self) -> usize {
        self.tiers.len()
    }
    /// Always false: a valid ladder has a base tier.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }
    /// The tier at `index` (0 = base).
    pub fn tier(&self, index: usize) -> Option<&Tier> {
        self.tiers.get(index)
    }
    /// The position of the tier named `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| &*t.name == name)
    }
    /// The highest tier whose threshold the value reaches (the base tier for values below every
    /// other threshold, negative values included).
    pub fn bucket(&self, value: Decimal) -> usize {
        // Thresholds are sorted, so the answer is the count of thresholds <= value, minus one.
        self.tiers
            .partition_point(|t| at_least(value, t.threshold))
            .saturating_sub(1)
    }
    /// [`bucket`](Self::bucket), trying tier `hint` first (at a review, usually the tier held):
    /// two comparisons when the value reaches that tier and not the next.
    pub(crate) fn bucket_near(&self, value: Decimal, hint: usize) -> usize {
        let reaches = |i: usize| {
            self.tiers
                .get(i)
                .is_some_and(|t| at_least(value, t.threshold))
        };
        // Tier 0 is also the answer for values below every threshold, negative ones included.
        if (hint == 0 || reaches(hint)) && hint < self.tiers.len() && !reaches(hint + 1) {
            return hint;
        }
        self.bucket(value)
    }

    /// The threshold of the tier above `index`, when there is one.
    pub fn next_threshold(&self, index: usize) -> Option<Decimal> {
        self.tiers.get(index + 1).map(|t| t.threshold)
    }
    /// The threshold of tier `index` (0 for an index past the top, which never happens for indices
    /// this crate hands out).
    pub(crate) fn threshold(&self, index: usize) -> Decimal {
        self.tiers
            .get(index)
            .map(|t| t.threshold)
            .unwrap_or_default()
    }
    /// The name of tier `index`, shared.
    pub(crate) fn name(&self, index: usize) -> Arc<str> {
        self.tiers
            .get(index)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| Arc::from("?"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }
    fn ladder() -> TierLadder {
        TierLadder::new(
            Metric::Spend,
            vec![
                Tier::new("Member", d(0)),
                Tier::new("Silver", d(500)),
                Tier::new("Gold", d(2000)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn bucket_finds_the_highest_tier_reached() {
        let l = ladder();
        assert_eq!(l.bucket(d(-10)), 0);
        assert_eq!(l.bucket(d(0)), 0);
        assert_eq!(l.bucket(d(499)), 0);
        assert_eq!(l.bucket(d(500)), 1);
        assert_eq!(l.bucket(d(1999)), 1);
        assert_eq!(l.bucket(d(2000)), 2);
        assert_eq!(l.bucket(d(1_000_000)), 2);
        for v in [-10, 0, 499, 500, 1999, 2000, 1_000_000] {
            for hint in 0..4 {
                assert_eq!(l.bucket_near(d(v), hint), l.bucket(d(v)), "{v} from {hint}");
            }
        }
        assert_eq!(l.next_threshold(1), Some(d(2000)));
        assert_eq!(l.next_threshold(2), None);
        assert_eq!(l.index_of("Gold"), Some(2));
    }

    #[test]
    fn qualifying_metrics_work_through_pointers() {
        struct Items;
        impl QualifyingMetric for Items {
            fn name(&self) -> &str {
                "items"
            }
            fn contribution(&self, t: &Transaction) -> Decimal {
                Decimal::from(t.quantity().unwrap_or(1))
            }
        }
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let t = Transaction::purchase(crate::records::CustomerId::from(1u64), day, d(5))
            .unwrap()
            .with_quantity(3)
            .unwrap();
        let metrics: [Box<dyn QualifyingMetric>; 3] = [
            Box::new(&Items),
            Box::new(Box::new(Items)),
            Box::new(Arc::new(Items)),
        ];
        for m in &metrics {
            assert_eq!((m.name(), m.contribution(&t)), ("items", d(3)));
        }
    }

    #[test]
    fn invalid_ladders_are_typed_errors() {
        assert_eq!(
            TierLadder::new(Metric::Orders, vec![]).unwrap_err(),
            LadderError::Empty
        );
        assert!(matches!(
            TierLadder::new(Metric::Orders, vec![Tier::new("A", d(1))]).unwrap_err(),
            LadderError::NoBaseTier { .. }
        ));
        assert_eq!(
            TierLadder::new(
                Metric::Orders,
                vec![Tier::new("A", d(0)), Tier::new("A", d(3))]
            )
            .unwrap_err(),
            LadderError::DuplicateName("A".into())
        );
        assert!(matches!(
            TierLadder::new(
                Metric::Orders,
                vec![Tier::new("A", d(0)), Tier::new("B", d(3)), Tier::new("C", d(3))]
            )
            .unwrap_err(),
            LadderError::NotIncreasing { ref tier, .. } if tier == "C"
        ));
        assert_eq!(
            TierLadder::new(Metric::Orders, vec![Tier::new(" ", d(0))]).unwrap_err(),
            LadderError::EmptyName { index: 0 }
        );
    }
}
