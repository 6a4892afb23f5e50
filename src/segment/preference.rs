//! Category preference: "mostly books", "mixed", or no category to prefer.
//!
//! The segmenter reads each profile's category mix (attached with
//! [`Profile::with_categories`]; the valuation attaches it when the ledger's transactions carry
//! categories) and the shares of [`CustomerCategories::shares`](crate::summary::CustomerCategories::shares)
//! on a [`ShareBasis`]: spend (default; a bucket's net spend when positive) or purchase periods.
//! The shares are over all the customer's buckets, the uncategorised one included.
//!
//! - [`PreferenceLabel::Mostly`] a category when its share is at least the threshold (default
//!   0.5, one of 0.5..=1) and strictly larger than every other bucket's. So at most one category
//!   is "mostly" any customer's, and a tie for the largest share (50/50 at the default
//!   threshold) is [`Mixed`](PreferenceLabel::Mixed), whatever the order of the names.
//! - [`PreferenceLabel::Uncategorised`] when no named category has a positive share: no mix
//!   attached, no purchase with a category, or (on spend) no category with a positive net spend.
//! - [`PreferenceLabel::Mixed`] otherwise, including when the uncategorised bucket holds the
//!   largest share.
//!
//! Nothing is learnt: the labels of one customer do not depend on the others.
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::segment::preference::{PreferenceLabel, PreferenceParams};
//! use customer_assets::segment::{Profile, Segmenter};
//! use customer_assets::{CustomerId, Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction};
//! use rust_decimal::Decimal;
//! let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! for (id, day, amount, category) in [(1u64, 3, 80, "books"), (1, 9, 20, "toys"), (2, 4, 50, "books"), (2, 5, 50, "toys")] {
//!     let t = Transaction::purchase(CustomerId::from(id), d(1, day)?, Decimal::from(amount))?;
//!     ledger.add_transaction(t.with_category(category)?)?;
//! }
//! let as_of = d(3, 31)?;
//! let summaries = ledger.summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))?;
//! let mix = ledger.category_mix(as_of)?;
//! let profiles = Profile::from_summaries(&summaries)
//!     .into_iter()
//!     .map(|p| match mix.get(p.id()) {
//!         Some(m) => p.with_categories(m.clone()),
//!         None => Ok(p),
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//! let (_, labels) = PreferenceParams::default().segment(&profiles)?;
//! assert_eq!(labels[0], PreferenceLabel::Mostly("books".into())); // 80% of spend
//! assert_eq!(labels[1], PreferenceLabel::Mixed); // 50/50: a tie
//! assert_eq!(labels[0].to_string(), "mostly books");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use super::error::SegmentError;
use super::profile::Profile;
use super::traits::{assign_all_in_order, Assign, Segmenter};
use crate::summary::{Category, ShareBasis};

/// A customer's category preference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum PreferenceLabel {
    /// One category holds at least the threshold's share, more than any other bucket.
    Mostly(Arc<str>),
    /// No category holds such a share.
    Mixed,
    /// No named category has a positive share (no categorised purchase or spend known).
    Uncategorised,
}

impl fmt::Display for PreferenceLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreferenceLabel::Mostly(category) => write!(f, "mostly {category}"),
            PreferenceLabel::Mixed => f.write_str("mixed"),
            PreferenceLabel::Uncategorised => f.write_str("uncategorised"),
        }
    }
}

/// Parameters of the preference segmentation: the share a category needs, and what it is a
/// share of. Also the learnt segmentation (nothing is learnt).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PreferenceParams {
    threshold: f64,
    basis: ShareBasis,
}

impl Default for PreferenceParams {
    /// At least half of the spend.
    fn default() -> Self {
        PreferenceParams {
            threshold: 0.5,
            basis: ShareBasis::Spend,
        }
    }
}

impl PreferenceParams {
    /// The least share that makes a category "mostly" the customer's. Checked when learning:
    /// finite, in 0.5..=1 (below a half, two categories could both qualify).
    pub fn threshold(mut self, share: f64) -> Self {
        self.threshold = share;
        self
    }
    /// Shares of spend (default) or of purchase periods.
    pub fn basis(mut self, basis: ShareBasis) -> Self {
        self.basis = basis;
        self
    }
    /// The threshold.
    pub fn get_threshold(&self) -> f64 {
        self.threshold
    }
    /// The basis.
    pub fn get_basis(&self) -> ShareBasis {
        self.basis
    }

    /// The label of one profile (see the [module docs](self)).
    pub fn label_of(&self, p: &Profile) -> PreferenceLabel {
        let Some(mix) = p.categories() else {
            return PreferenceLabel::Uncategorised;
        };
        let Some(shares) = mix.shares(self.basis) else {
            return PreferenceLabel::Uncategorised;
        };
        // The largest share, and whether another bucket has as much.
        let mut best: Option<(usize, f64)> = None;
        let mut tied = false;
        for (i, &s) in shares.iter().enumerate() {
            match best {
                Some((_, b)) if s < b => {}
                Some((_, b)) if s == b => tied = true,
                _ => {
                    best = Some((i, s));
                    tied = false;
                }
            }
        }
        let named_share = mix
            .totals()
            .iter()
            .zip(&shares)
            .any(|(t, &s)| t.category().name().is_some() && s > 0.0);
        if !named_share {
            return PreferenceLabel::Uncategorised;
        }
        match best.and_then(|(i, s)| Some((mix.totals().get(i)?.category(), s))) {
            Some((Category::Named(name), s)) if !tied && s >= self.threshold => {
                PreferenceLabel::Mostly(name.clone())
            }
            _ => PreferenceLabel::Mixed,
        }
    }
}

impl Segmenter<Profile> for PreferenceParams {
    type Learnt = PreferenceParams;

    fn check(&self) -> Result<(), SegmentError> {
        let t = self.threshold;
        if !(t.is_finite() && (0.5..=1.0).contains(&t)) {
            return Err(SegmentError::invalid(
                "threshold",
                t,
                "must lie in 0.5..=1 so that at most one category is a customer's mostly",
            ));
        }
        Ok(())
    }

    /// Nothing to learn: checks the parameters and that the population is not empty.
    fn learn(&self, population: &[Profile]) -> Result<PreferenceParams, SegmentError> {
        self.check()?;
        if population.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        Ok(*self)
    }
}

impl Assign<Profile> for PreferenceParams {
    type Label = PreferenceLabel;
    /// The label of [`label_of`](PreferenceParams::label_of), once the parameters (perhaps read
    /// back from JSON) are checked.
    fn assign(&self, p: &Profile) -> Result<PreferenceLabel, SegmentError> {
        self.check()?;
        Ok(self.label_of(p))
    }
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<PreferenceLabel>, SegmentError> {
        self.check()?;
        assign_all_in_order(&Checked(self), customers)
    }
}

/// Parameters already checked: assigns without checking them again for every customer.
struct Checked<'a>(&'a PreferenceParams);

impl Assign<Profile> for Checked<'_> {
    type Label = PreferenceLabel;
    fn assign(&self, p: &Profile) -> Result<PreferenceLabel, SegmentError> {
        Ok(self.0.label_of(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{CustomerId, Transaction};
    use crate::summary::{CategoryMix, Grain, ReturnPolicy};
    use crate::time::TimeUnit;
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 1, d).unwrap()
    }

    /// A profile of customer 1 whose purchases are `(day, amount, category)`; `""` for none.
    fn profile(purchases: &[(u32, i64, &str)]) -> Profile {
        let log: Vec<Transaction> = purchases
            .iter()
            .map(|&(d, amount, category)| {
                let t =
                    Transaction::purchase(CustomerId::from(1u64), day(d), Decimal::from(amount))
                        .unwrap();
                if category.is_empty() {
                    t
                } else {
                    t.with_category(category).unwrap()
                }
            })
            .collect();
        let mix = CategoryMix::from_transactions(
            &log,
            Grain::Day,
            ReturnPolicy::NetAgainstPurchase,
            day(31),
        )
        .unwrap();
        let p = Profile::new(
            CustomerId::from(1u64),
            TimeUnit::DAYS,
            1,
            1.0,
            2.0,
            Decimal::ONE,
        )
        .unwrap();
        match mix.customers().first() {
            Some(m) => p.with_categories(m.clone()).unwrap(),
            None => p,
        }
    }
    fn label(params: PreferenceParams, p: &Profile) -> PreferenceLabel {
        params.assign(p).unwrap()
    }
    fn mostly(name: &str) -> PreferenceLabel {
        PreferenceLabel::Mostly(Arc::from(name))
    }

    #[test]
    fn a_share_at_the_threshold_is_mostly_and_below_it_is_mixed() {
        // Spend shares 50%, 30%, 20%.
        let p = profile(&[(1, 50, "a"), (2, 30, "b"), (3, 20, "c")]);
        let params = PreferenceParams::default();
        assert_eq!(label(params, &p), mostly("a"));
        assert_eq!(
            label(params.threshold(0.5 + 1e-9), &p),
            PreferenceLabel::Mixed
        );
        let only = profile(&[(1, 5, "a"), (9, 7, "a")]);
        assert_eq!(label(params.threshold(1.0), &only), mostly("a"));
        assert_eq!(label(params.threshold(1.0), &p), PreferenceLabel::Mixed);
    }

    #[test]
    fn a_tie_for_the_largest_share_is_mixed_whatever_the_names() {
        for (x, y) in [("a", "b"), ("b", "a")] {
            let p = profile(&[(1, 50, x), (2, 50, y)]);
            assert_eq!(
                label(PreferenceParams::default(), &p),
                PreferenceLabel::Mixed
            );
        }
        // A tie below the largest share does not matter.
        let p = profile(&[(1, 60, "a"), (2, 20, "b"), (3, 20, "c")]);
        assert_eq!(label(PreferenceParams::default(), &p), mostly("a"));
    }

    #[test]
    fn the_basis_decides_between_spend_and_purchase_periods() {
        // Spend: a 90 of 100. Purchase periods: b 3 of 4.
        let p = profile(&[(1, 90, "a"), (2, 4, "b"), (3, 3, "b"), (4, 3, "b")]);
        let params = PreferenceParams::default();
        assert_eq!(label(params, &p), mostly("a"));
        assert_eq!(label(params.basis(ShareBasis::Purchases), &p), mostly("b"));
        assert_eq!(
            params.basis(ShareBasis::Purchases).get_basis(),
            ShareBasis::Purchases
        );
    }

    #[test]
    fn customers_without_categorised_purchases_are_uncategorised() {
        let params = PreferenceParams::default();
        let no_mix = Profile::prospect(CustomerId::from(1u64), TimeUnit::DAYS);
        assert_eq!(label(params, &no_mix), PreferenceLabel::Uncategorised);
        let plain = profile(&[(1, 10, ""), (2, 5, "")]);
        assert_eq!(label(params, &plain), PreferenceLabel::Uncategorised);
        // Free purchases: nothing to share on spend, one period to share on purchases.
        let free = profile(&[(1, 0, "a")]);
        assert_eq!(label(params, &free), PreferenceLabel::Uncategorised);
        let on_periods = params.basis(ShareBasis::Purchases);
        assert_eq!(label(on_periods, &free), mostly("a"));
        // Mostly uncategorised spend: a category is known, but not preferred.
        let partly = profile(&[(1, 90, ""), (2, 10, "a")]);
        assert_eq!(label(params, &partly), PreferenceLabel::Mixed);
    }

    #[test]
    fn thresholds_outside_a_half_to_one_are_refused() {
        for t in [0.49, 1.0 + 1e-9, f64::NAN, f64::INFINITY, -1.0] {
            let params = PreferenceParams::default().threshold(t);
            let err = params.check().unwrap_err();
            assert!(err.to_string().contains("threshold"), "{err}");
            assert!(matches!(err, SegmentError::InvalidParameter(_)));
            let p = profile(&[(1, 5, "a")]);
            assert_eq!(params.learn(std::slice::from_ref(&p)).unwrap_err(), err);
            assert_eq!(params.assign(&p).unwrap_err(), err);
            assert_eq!(params.assign_all(&[p]).unwrap_err(), err);
        }
        for t in [0.5, 0.75, 1.0] {
            assert!(PreferenceParams::default().threshold(t).check().is_ok());
        }
        assert_eq!(
            PreferenceParams::default().learn(&[]).unwrap_err(),
            SegmentError::EmptyPopulation
        );
    }

    #[test]
    fn labels_print_their_names_and_a_mix_fits_only_its_own_customer() {
        assert_eq!(mostly("books").to_string(), "mostly books");
        assert_eq!(PreferenceLabel::Mixed.to_string(), "mixed");
        assert_eq!(PreferenceLabel::Uncategorised.to_string(), "uncategorised");
        let p = profile(&[(1, 5, "a")]);
        let mix = p.categories().unwrap().clone();
        let other = Profile::prospect(CustomerId::from(2u64), TimeUnit::DAYS);
        let err = other.with_categories(mix).unwrap_err();
        assert!(matches!(err, SegmentError::ShapeMismatch(_)), "{err}");
        let (_, labels) = PreferenceParams::default()
            .segment(&[p.clone(), p])
            .unwrap();
        assert_eq!(labels, [mostly("a"), mostly("a")]);
    }
}
