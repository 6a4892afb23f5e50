//! Rule-based classes on customer attributes and summary features, for need-based and
//! demographic classification.
//!
//! [`ClassRules`] is an ordered list of named rules, each a list of [`Condition`]s that must all
//! hold; the first rule that matches names the class and a fallback catches everyone else, so
//! each customer gets exactly one class. Conditions test the region, the channel, tags, and
//! ranges of numeric [`Feature`]s (`min <= value < max`). A customer without a region or channel
//! does not match a condition on it; a feature the profile lacks (P(alive), CLV) is an error,
//! not a silent mismatch. Rules are data (serde):
//!
#![cfg_attr(feature = "serde", doc = "```")]
#![cfg_attr(not(feature = "serde"), doc = "```ignore")]
//! use customer_assets::segment::rules::ClassRules;
//! use customer_assets::segment::{Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let rules: ClassRules = serde_json::from_str(r#"{
//!   "rules": [
//!     {"name": "northern web regulars", "all_of": [
//!         {"region": ["north"]}, {"channel": ["web"]}, {"feature": {"feature": "frequency", "min": 3}}]},
//!     {"name": "newsletter", "all_of": [{"tag": "newsletter"}]}
//!   ],
//!   "fallback": "other"}"#).map_err(|e| e.to_string())?;
//! let p = Profile::new(CustomerId::from(1u64), TimeUnit::DAYS, 4, 9.0, 20.0, Decimal::ONE)?
//!     .with_region("north").with_channel("web");
//! let (_, classes) = rules.segment(&[p])?;
//! assert_eq!(classes[0].as_ref(), "northern web regulars");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use super::error::SegmentError;
use super::feature::Feature;
use super::profile::Profile;
use super::traits::{Assign, Segmenter};

/// A range of a numeric feature: `min <= value < max` (either end optional).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FeatureRange {
    /// The feature.
    pub feature: Feature,
    /// Inclusive lower bound.
    #[cfg_attr(feature = "serde", serde(default))]
    pub min: Option<f64>,
    /// Exclusive upper bound.
    #[cfg_attr(feature = "serde", serde(default))]
    pub max: Option<f64>,
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Condition {
    /// The region is one of these.
    Region(Vec<String>),
    /// The channel is one of these.
    Channel(Vec<String>),
    /// The customer carries this tag.
    Tag(String),
    /// The customer does not carry this tag.
    NotTag(String),
    /// A numeric feature lies in a range.
    Feature(FeatureRange),
}

impl Condition {
    /// Whether the profile satisfies the condition.
    ///
    /// # Errors
    ///
    /// [`SegmentError::MissingFeature`] or [`SegmentError::NotFinite`] for a feature it reads that
    /// the profile lacks or that is not finite (for a feature condition).
    pub fn holds(&self, p: &Profile) -> Result<bool, SegmentError> {
        Ok(match self {
            Condition::Region(any) => p.region().is_some_and(|r| any.iter().any(|a| a == r)),
            Condition::Channel(any) => p.channel().is_some_and(|c| any.iter().any(|a| a == c)),
            Condition::Tag(t) => p.tags().contains(t),
            Condition::NotTag(t) => !p.tags().contains(t),
            Condition::Feature(r) => {
                let v = p.feature(r.feature)?;
                r.min.is_none_or(|m| v >= m) && r.max.is_none_or(|m| v < m)
            }
        })
    }
}

/// A named rule: all conditions must hold (an empty list matches everyone).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassRule {
    /// The class's name.
    pub name: String,
    /// The conditions.
    #[cfg_attr(feature = "serde", serde(default))]
    pub all_of: Vec<Condition>,
}

/// Ordered class rules with a fallback (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ClassRulesDef"))]
pub struct ClassRules {
    rules: Vec<ClassRule>,
    fallback: String,
    #[cfg_attr(feature = "serde", serde(skip))]
    names: Vec<Arc<str>>,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ClassRulesDef {
    rules: Vec<ClassRule>,
    fallback: String,
}

#[cfg(feature = "serde")]
impl TryFrom<ClassRulesDef> for ClassRules {
    type Error = SegmentError;
    fn try_from(d: ClassRulesDef) -> Result<Self, SegmentError> {
        ClassRules::new(d.rules, d.fallback)
    }
}

impl ClassRules {
    /// Validates: names not empty; feature bounds finite with min < max; region and channel
    /// lists not empty.
    ///
    /// # Errors
    ///
    /// [`SegmentError::InvalidParameter`] for an empty class name, an empty list of regions or
    /// channels, or a feature range whose bounds are not finite with min < max.
    pub fn new(rules: Vec<ClassRule>, fallback: impl Into<String>) -> Result<Self, SegmentError> {
        let fallback = fallback.into();
        if fallback.trim().is_empty() || rules.iter().any(|r| r.name.trim().is_empty()) {
            let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
            return Err(SegmentError::invalid(
                "rules",
                format!("{names:?}, fallback {fallback:?}"),
                "a class name is empty",
            ));
        }
        for r in &rules {
            for c in &r.all_of {
                match c {
                    Condition::Region(v) | Condition::Channel(v) if v.is_empty() => {
                        return Err(SegmentError::invalid(
                            "rules",
                            format!("rule {:?}: {c:?}", r.name),
                            "a list of regions or channels must not be empty",
                        ))
                    }
                    Condition::Feature(f) => {
                        let bad = f.min.is_some_and(|v| !v.is_finite())
                            || f.max.is_some_and(|v| !v.is_finite())
                            || matches!((f.min, f.max), (Some(a), Some(b)) if a >= b);
                        if bad {
                            return Err(SegmentError::invalid(
                                "rules",
                                format!(
                                    "rule {:?}: {} {:?}..{:?}",
                                    r.name, f.feature, f.min, f.max
                                ),
                                "a feature range needs finite bounds with min < max",
                            ));
                        }
                    }
                    _ => {}
                }
            }
        }
        let names = rules
            .iter()
            .map(|r| Arc::from(r.name.as_str()))
            .chain(std::iter::once(Arc::from(fallback.as_str())))
            .collect();
        Ok(ClassRules {
            rules,
            fallback,
            names,
        })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[ClassRule] {
        &self.rules
    }
    /// The fallback class.
    pub fn fallback(&self) -> &str {
        &self.fallback
    }

    /// The class of one customer.
    ///
    /// # Errors
    ///
    /// Those of [`Condition::holds`] for the conditions tested.
    pub fn class_of(&self, p: &Profile) -> Result<Arc<str>, SegmentError> {
        for (i, r) in self.rules.iter().enumerate() {
            let mut all = true;
            for c in &r.all_of {
                if !c.holds(p)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(self
                    .names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| Arc::from(r.name.as_str())));
            }
        }
        Ok(Arc::from(self.fallback.as_str()))
    }
}

impl Segmenter<Profile> for ClassRules {
    type Learnt = ClassRules;
    /// Nothing to learn: checks the population is not empty.
    fn learn(&self, population: &[Profile]) -> Result<ClassRules, SegmentError> {
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        Ok(self.clone())
    }
}

impl Assign<Profile> for ClassRules {
    type Label = Arc<str>;
    fn assign(&self, p: &Profile) -> Result<Arc<str>, SegmentError> {
        self.class_of(p)
    }
}
