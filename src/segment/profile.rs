//! What the built-in segmenters read about a customer: a [`Profile`] of [`Feature`]s.

use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::error::SegmentError;
use super::feature::Feature;
use super::in_order::{concat, parts, try_map};
use crate::records::{Customer, CustomerId};
use crate::summary::{CustomerCategories, CustomerSummary, Summaries};
use crate::time::TimeUnit;

/// What the built-in segmenters know about one customer.
///
/// Build it from a [`CustomerSummary`] ([`Profile::from_summary`], [`Profile::from_summaries`]),
/// from the columns of a summary table ([`Profile::new`]) or for a prospect who has not bought
/// yet ([`Profile::prospect`]); then add model outputs and attributes with the `with_*` methods.
///
/// ```
/// use customer_assets::segment::{Feature, Profile};
/// use customer_assets::{CustomerId, TimeUnit};
/// use rust_decimal::Decimal;
/// let p = Profile::new(CustomerId::from(1u64), TimeUnit::WEEKS, 2, 30.43, 38.86, Decimal::new(2235, 2))?
///     .with_p_alive(0.8)?;
/// assert!((p.feature(Feature::TimeSinceLastPurchase)? - 8.43).abs() < 1e-9);
/// assert_eq!(p.feature(Feature::TotalSpend)?, 44.70); // x · z̄ when built from a summary table
/// # Ok::<(), customer_assets::segment::SegmentError>(())
/// ```
//
// Segmenters stream a feature or two of every profile, a million at a time, so the layout is
// kept small (136 bytes, not 224): the optional model values are floats with NaN for none, and
// the attributes, which the built-in segmenters except rules never read, sit behind one pointer.
// Serialized as before, field by field (see the `Serialize` impl).
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ProfileDef"))]
pub struct Profile {
    id: CustomerId,
    unit: TimeUnit,
    recency: f64,
    age: f64,
    monetary_value: Decimal,
    total_spend: Decimal,
    /// `monetary_value` and `total_spend` as floats (NaN past the float range), converted once:
    /// segmenters read them for every customer, several times.
    money_f64: [f64; 2],
    gap_before_last: MaybeF64,
    p_alive: MaybeF64,
    clv: MaybeF64,
    /// `None` when the profile has no channel, region or tag (never an empty box, so that the
    /// derived equality holds).
    attributes: Option<Box<Attributes>>,
    frequency: u32,
    orders: u32,
    purchased: bool,
}

/// A customer's channel, region and tags, and category mix.
#[derive(Clone, PartialEq, Default)]
struct Attributes {
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
    categories: Option<CustomerCategories>,
}

impl Attributes {
    /// `None` for no attribute at all.
    fn boxed(self) -> Option<Box<Attributes>> {
        let empty = self.channel.is_none()
            && self.region.is_none()
            && self.tags.is_empty()
            && self.categories.is_none();
        (!empty).then(|| Box::new(self))
    }
}

/// An optional finite float in 8 bytes: NaN stands for none (the setters refuse values that are
/// not finite, so no value is ever NaN).
#[derive(Clone, Copy)]
struct MaybeF64(f64);

impl MaybeF64 {
    const NONE: MaybeF64 = MaybeF64(f64::NAN);

    fn get(self) -> Option<f64> {
        (!self.0.is_nan()).then_some(self.0)
    }
}

impl PartialEq for MaybeF64 {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl std::fmt::Debug for Profile {
    /// As the derived form of the struct with every attribute a field of its own.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("id", &self.id)
            .field("unit", &self.unit)
            .field("purchased", &self.purchased)
            .field("frequency", &self.frequency)
            .field("recency", &self.recency)
            .field("age", &self.age)
            .field("monetary_value", &self.monetary_value)
            .field("total_spend", &self.total_spend)
            .field("money_f64", &self.money_f64)
            .field("orders", &self.orders)
            .field("gap_before_last", &self.gap_before_last())
            .field("p_alive", &self.p_alive())
            .field("clv", &self.clv())
            .field("channel", &self.attributes().channel)
            .field("region", &self.attributes().region)
            .field("tags", &self.attributes().tags)
            .field("categories", &self.attributes().categories)
            .finish()
    }
}

/// The fields, in the order and form the struct derived them from when each was a field. The
/// category mix is not serialized (see [`Profile::with_categories`]).
#[cfg(feature = "serde")]
impl serde::Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let attributes = self.attributes();
        let mut out = s.serialize_struct("Profile", 15)?;
        out.serialize_field("id", &self.id)?;
        out.serialize_field("unit", &self.unit)?;
        out.serialize_field("purchased", &self.purchased)?;
        out.serialize_field("frequency", &self.frequency)?;
        out.serialize_field("recency", &self.recency)?;
        out.serialize_field("age", &self.age)?;
        out.serialize_field("monetary_value", &self.monetary_value)?;
        out.serialize_field("total_spend", &self.total_spend)?;
        out.serialize_field("orders", &self.orders)?;
        out.serialize_field("gap_before_last", &self.gap_before_last())?;
        out.serialize_field("p_alive", &self.p_alive())?;
        out.serialize_field("clv", &self.clv())?;
        out.serialize_field("channel", &attributes.channel)?;
        out.serialize_field("region", &attributes.region)?;
        out.serialize_field("tags", &attributes.tags)?;
        out.end()
    }
}

/// A decimal as a float, NaN when it has none.
fn money_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(f64::NAN)
}

/// The serialized form of a [`Profile`], validated on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ProfileDef {
    id: CustomerId,
    unit: TimeUnit,
    purchased: bool,
    frequency: u32,
    recency: f64,
    age: f64,
    monetary_value: Decimal,
    total_spend: Decimal,
    orders: u32,
    gap_before_last: Option<f64>,
    p_alive: Option<f64>,
    clv: Option<f64>,
    channel: Option<String>,
    region: Option<String>,
    tags: Vec<String>,
}

#[cfg(feature = "serde")]
impl TryFrom<ProfileDef> for Profile {
    type Error = SegmentError;
    fn try_from(d: ProfileDef) -> Result<Self, SegmentError> {
        let mut p = Profile::new(
            d.id,
            d.unit,
            d.frequency,
            d.recency,
            d.age,
            d.monetary_value,
        )?;
        p = p.with_total_spend(d.total_spend)?;
        p.purchased = d.purchased;
        p.orders = d.orders;
        p.attributes = Attributes {
            channel: d.channel,
            region: d.region,
            tags: d.tags,
            categories: None,
        }
        .boxed();
        if let Some(g) = d.gap_before_last {
            p = p.with_gap_before_last(g)?;
        }
        if let Some(v) = d.p_alive {
            p = p.with_p_alive(v)?;
        }
        if let Some(v) = d.clv {
            p = p.with_clv(v)?;
        }
        Ok(p)
    }
}

impl Profile {
    /// A profile from the columns of a summary table: x, t_x, T (in `unit`) and the mean repeat
    /// spend z̄. Such a table does not carry the first purchase, so the total spend is taken as
    /// the repeat spend x · z̄ and the number of orders as x + 1 (one per purchase period); use
    /// [`with_total_spend`](Self::with_total_spend) when the true total is known.
    ///
    /// # Errors
    ///
    /// [`SegmentError::NotFinite`] when t_x or T is not finite; [`SegmentError::OutOfRange`] when
    /// either is negative, t_x > T, or z̄ is negative.
    pub fn new(
        id: CustomerId,
        unit: TimeUnit,
        frequency: u32,
        recency: f64,
        age: f64,
        monetary_value: Decimal,
    ) -> Result<Self, SegmentError> {
        let check = |feature, value: f64| -> Result<(), SegmentError> {
            if !value.is_finite() {
                return Err(SegmentError::NotFinite {
                    customer: id.clone(),
                    feature,
                    value,
                });
            }
            if value < 0.0 {
                return Err(SegmentError::OutOfRange {
                    customer: id.clone(),
                    feature,
                    value,
                    reason: "must not be negative",
                });
            }
            Ok(())
        };
        check(Feature::Recency, recency)?;
        check(Feature::Age, age)?;
        if recency > age {
            return Err(SegmentError::OutOfRange {
                customer: id,
                feature: Feature::Recency,
                value: recency,
                reason: "must not exceed the age T",
            });
        }
        if monetary_value.is_sign_negative() && !monetary_value.is_zero() {
            return Err(SegmentError::OutOfRange {
                customer: id,
                feature: Feature::MonetaryValue,
                value: monetary_value.to_f64().unwrap_or(f64::NAN),
                reason: "must not be negative",
            });
        }
        let Some(total_spend) = monetary_value.checked_mul(Decimal::from(frequency)) else {
            return Err(SegmentError::OutOfRange {
                customer: id,
                feature: Feature::MonetaryValue,
                value: monetary_value.to_f64().unwrap_or(f64::NAN),
                reason: "times the frequency (the repeat spend) must fit a decimal",
            });
        };
        Ok(Profile {
            id,
            unit,
            purchased: true,
            frequency,
            recency,
            age,
            monetary_value,
            total_spend,
            money_f64: [money_f64(monetary_value), money_f64(total_spend)],
            orders: frequency.saturating_add(1),
            gap_before_last: MaybeF64::NONE,
            p_alive: MaybeF64::NONE,
            clv: MaybeF64::NONE,
            attributes: None,
        })
    }

    /// A prospect: a known customer who has not bought yet (all purchase figures zero).
    pub fn prospect(id: CustomerId, unit: TimeUnit) -> Self {
        Profile {
            id,
            unit,
            purchased: false,
            frequency: 0,
            recency: 0.0,
            age: 0.0,
            monetary_value: Decimal::ZERO,
            total_spend: Decimal::ZERO,
            money_f64: [0.0, 0.0],
            orders: 0,
            gap_before_last: MaybeF64::NONE,
            p_alive: MaybeF64::NONE,
            clv: MaybeF64::NONE,
            attributes: None,
        }
    }

    /// A profile from one customer's summary, with durations in `unit` (the summaries' unit).
    pub fn from_summary(summary: &CustomerSummary, unit: TimeUnit) -> Self {
        Profile {
            id: summary.id().clone(),
            unit,
            purchased: true,
            frequency: summary.frequency(),
            recency: summary.recency(),
            age: summary.age(),
            monetary_value: summary.monetary_value(),
            total_spend: summary.total_spend(),
            money_f64: [
                money_f64(summary.monetary_value()),
                money_f64(summary.total_spend()),
            ],
            orders: summary.orders(),
            gap_before_last: MaybeF64::NONE,
            p_alive: MaybeF64::NONE,
            clv: MaybeF64::NONE,
            attributes: None,
        }
    }

    /// One profile per summarised customer, in the summaries' order (by id).
    pub fn from_summaries(summaries: &Summaries) -> Vec<Self> {
        summaries
            .iter()
            .map(|s| Profile::from_summary(s, summaries.unit()))
            .collect()
    }

    /// Adds P(alive) from a fitted model.
    ///
    /// # Errors
    ///
    /// [`SegmentError::NotFinite`] or [`SegmentError::OutOfRange`] for a P(alive) that is not
    /// finite or lies outside 0..=1.
    pub fn with_p_alive(mut self, p_alive: f64) -> Result<Self, SegmentError> {
        self.check_finite(Feature::PAlive, p_alive)?;
        if !(0.0..=1.0).contains(&p_alive) {
            return Err(SegmentError::OutOfRange {
                customer: self.id,
                feature: Feature::PAlive,
                value: p_alive,
                reason: "must lie in 0..=1",
            });
        }
        self.p_alive = MaybeF64(p_alive);
        Ok(self)
    }

    /// Adds a CLV (or any value estimate).
    ///
    /// # Errors
    ///
    /// [`SegmentError::NotFinite`] for a CLV that is not finite.
    pub fn with_clv(mut self, clv: f64) -> Result<Self, SegmentError> {
        self.check_finite(Feature::Clv, clv)?;
        self.clv = MaybeF64(clv);
        Ok(self)
    }

    /// Replaces the total spend (e.g. with the ledger's, first purchase included).
    ///
    /// # Errors
    ///
    /// [`SegmentError::OutOfRange`] for a negative total.
    pub fn with_total_spend(mut self, total_spend: Decimal) -> Result<Self, SegmentError> {
        if total_spend.is_sign_negative() && !total_spend.is_zero() {
            return Err(SegmentError::OutOfRange {
                customer: self.id,
                feature: Feature::TotalSpend,
                value: total_spend.to_f64().unwrap_or(f64::NAN),
                reason: "must not be negative",
            });
        }
        self.total_spend = total_spend;
        self.money_f64[1] = money_f64(total_spend);
        Ok(self)
    }

    /// Sets the time between the last purchase and the one before it, in the profile's unit
    /// (used to recognise reactivated customers).
    ///
    /// # Errors
    ///
    /// [`SegmentError::NotFinite`] or [`SegmentError::OutOfRange`] for a gap that is not finite or
    /// is negative.
    pub fn with_gap_before_last(mut self, gap: f64) -> Result<Self, SegmentError> {
        self.check_finite(Feature::Recency, gap)?;
        if gap < 0.0 {
            return Err(SegmentError::OutOfRange {
                customer: self.id,
                feature: Feature::Recency,
                value: gap,
                reason: "gap before the last purchase must not be negative",
            });
        }
        self.gap_before_last = MaybeF64(gap);
        Ok(self)
    }

    /// Copies the customer's region, channel and tags (replacing any set before; a category mix
    /// is kept).
    pub fn with_attributes(mut self, customer: &Customer) -> Self {
        let categories = self.attributes.take().and_then(|a| a.categories);
        self.attributes = Attributes {
            channel: customer.channel().map(str::to_owned),
            region: customer.region().map(str::to_owned),
            tags: customer.tags().to_vec(),
            categories,
        }
        .boxed();
        self
    }

    /// Attaches the customer's category mix (from
    /// [`Ledger::category_mix`](crate::Ledger::category_mix)), which the
    /// [`preference`](super::preference) segmenter reads. The mix is not part of the profile's
    /// serialized form: attach it again after reading profiles back.
    ///
    /// # Errors
    ///
    /// [`SegmentError::ShapeMismatch`] when the mix is another customer's.
    pub fn with_categories(mut self, categories: CustomerCategories) -> Result<Self, SegmentError> {
        if categories.id() != &self.id {
            return Err(SegmentError::ShapeMismatch(format!(
                "the category mix of customer {} given to the profile of customer {}",
                categories.id(),
                self.id
            )));
        }
        self.attributes_mut().categories = Some(categories);
        Ok(self)
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.attributes_mut().region = Some(region.into());
        self
    }

    /// Sets the channel.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.attributes_mut().channel = Some(channel.into());
        self
    }

    /// Adds a tag.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.attributes_mut().tags.push(tag.into());
        self
    }

    /// The attributes, to be set (every setter sets one, so the box is never left empty).
    fn attributes_mut(&mut self) -> &mut Attributes {
        self.attributes.get_or_insert_with(Box::default)
    }

    /// The attributes, empty ones when there are none.
    fn attributes(&self) -> &Attributes {
        static NONE: Attributes = Attributes {
            channel: None,
            region: None,
            tags: Vec::new(),
            categories: None,
        };
        self.attributes.as_deref().unwrap_or(&NONE)
    }

    fn check_finite(&self, feature: Feature, value: f64) -> Result<(), SegmentError> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(SegmentError::NotFinite {
                customer: self.id.clone(),
                feature,
                value,
            })
        }
    }

    /// The customer.
    pub fn id(&self) -> &CustomerId {
        &self.id
    }
    /// The unit of the durations.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
    /// Whether the customer has bought at all (false for a prospect).
    pub fn has_purchased(&self) -> bool {
        self.purchased
    }
    /// x.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// t_x.
    pub fn recency(&self) -> f64 {
        self.recency
    }
    /// T.
    pub fn age(&self) -> f64 {
        self.age
    }
    /// Mean repeat spend z̄.
    pub fn monetary_value(&self) -> Decimal {
        self.monetary_value
    }
    /// Total spend.
    pub fn total_spend(&self) -> Decimal {
        self.total_spend
    }
    /// Orders.
    pub fn orders(&self) -> u32 {
        self.orders
    }
    /// Time between the last purchase and the one before, when known.
    pub fn gap_before_last(&self) -> Option<f64> {
        self.gap_before_last.get()
    }
    /// P(alive), when supplied.
    pub fn p_alive(&self) -> Option<f64> {
        self.p_alive.get()
    }
    /// CLV, when supplied.
    pub fn clv(&self) -> Option<f64> {
        self.clv.get()
    }
    /// Region.
    pub fn region(&self) -> Option<&str> {
        self.attributes().region.as_deref()
    }
    /// Channel.
    pub fn channel(&self) -> Option<&str> {
        self.attributes().channel.as_deref()
    }
    /// Tags.
    pub fn tags(&self) -> &[String] {
        &self.attributes().tags
    }
    /// The category mix, when attached.
    pub fn categories(&self) -> Option<&CustomerCategories> {
        self.attributes().categories.as_ref()
    }

    /// The value of a numeric feature.
    ///
    /// # Errors
    ///
    /// [`SegmentError::MissingFeature`] for a model value (P(alive), CLV) that was not supplied;
    /// [`SegmentError::NotFinite`] for a value that is not finite.
    pub fn feature(&self, feature: Feature) -> Result<f64, SegmentError> {
        let missing = || SegmentError::MissingFeature {
            customer: self.id.clone(),
            feature,
        };
        let value = match feature {
            Feature::Frequency => f64::from(self.frequency),
            Feature::Recency => self.recency,
            Feature::Age => self.age,
            Feature::TimeSinceLastPurchase => self.age - self.recency,
            Feature::MonetaryValue => self.money_f64[0],
            Feature::TotalSpend => self.money_f64[1],
            Feature::Orders => f64::from(self.orders),
            Feature::AverageOrderValue => {
                if self.orders == 0 {
                    0.0
                } else {
                    self.money_f64[1] / f64::from(self.orders)
                }
            }
            Feature::PAlive => self.p_alive().ok_or_else(missing)?,
            Feature::Clv => self.clv().ok_or_else(missing)?,
        };
        self.check_finite(feature, value)?;
        Ok(value)
    }
}

/// Joins model outputs keyed by customer onto profiles: P(alive) and CLV where the maps have an
/// entry (customers without one keep none, and segmenters that need it report
/// [`SegmentError::MissingFeature`]).
///
/// # Errors
///
/// Those of [`Profile::with_p_alive`] and [`Profile::with_clv`]: a value that is not finite, or a
/// P(alive) outside 0..=1.
pub fn attach_model_values(
    profiles: Vec<Profile>,
    p_alive: &HashMap<CustomerId, f64>,
    clv: &HashMap<CustomerId, f64>,
) -> Result<Vec<Profile>, SegmentError> {
    profiles
        .into_iter()
        .map(|mut p| {
            if let Some(&v) = p_alive.get(&p.id) {
                p = p.with_p_alive(v)?;
            }
            if let Some(&v) = clv.get(&p.id) {
                p = p.with_clv(v)?;
            }
            Ok(p)
        })
        .collect()
}

/// Reads one feature of every customer, failing on the first missing or non-finite value
/// (on all cores with `parallel`).
pub(crate) fn feature_column(
    population: &[Profile],
    feature: Feature,
) -> Result<Vec<f64>, SegmentError> {
    try_map(population, |p| p.feature(feature))
}

/// Reads several features of every customer in one pass over the profiles (a pass streams them
/// all from memory); the error is the one of reading the columns one after the other: the first
/// customer's that fails in the first column that fails.
pub(crate) fn feature_columns<const N: usize>(
    population: &[Profile],
    features: [Feature; N],
) -> Result<[Vec<f64>; N], SegmentError> {
    let read = |part: &[Profile]| -> Result<[Vec<f64>; N], SegmentError> {
        let mut columns = std::array::from_fn(|_| Vec::with_capacity(part.len()));
        for p in part {
            for (column, &feature) in columns.iter_mut().zip(&features) {
                column.push(p.feature(feature)?);
            }
        }
        Ok(columns)
    };
    match parts(population, read) {
        Ok(parts) => {
            let mut columns: [Vec<Vec<f64>>; N] =
                std::array::from_fn(|_| Vec::with_capacity(parts.len()));
            for part in parts {
                for (column, values) in columns.iter_mut().zip(part) {
                    column.push(values);
                }
            }
            Ok(columns.map(concat))
        }
        // Rare: find the error the column-by-column reading reports.
        Err(first_met) => {
            for feature in features {
                feature_column(population, feature)?;
            }
            Err(first_met)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The money features are the decimals as floats, however the profile was made
        /// (the floats are kept beside the decimals, and not serialized).
        #[test]
        fn money_features_are_the_decimals_as_floats(
            mantissa in 0i64..i64::MAX,
            scale in 0u32..=28,
            frequency in 0u32..1000,
            total in 0i64..i64::MAX,
        ) {
            let mv = Decimal::new(mantissa, scale);
            let features = |p: &Profile| {
                [Feature::MonetaryValue, Feature::TotalSpend, Feature::AverageOrderValue]
                    .map(|f| p.feature(f).ok())
            };
            let expect = |p: &Profile| {
                let spend = p.total_spend().to_f64();
                [
                    p.monetary_value().to_f64(),
                    spend,
                    spend.map(|s| s / f64::from(p.orders).max(1.0)),
                ]
            };
            let p = Profile::new(CustomerId::from(1u64), TimeUnit::WEEKS, frequency, 1.0, 2.0, mv)
                .unwrap();
            proptest::prop_assert_eq!(features(&p), expect(&p));
            let p = p.with_total_spend(Decimal::new(total, scale)).unwrap();
            proptest::prop_assert_eq!(features(&p), expect(&p));
            #[cfg(feature = "serde")]
            {
                let back: Profile =
                    serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
                proptest::prop_assert_eq!(features(&back), features(&p));
                proptest::prop_assert_eq!(back, p);
            }
        }
    }

    fn profile(frequency: u32, monetary_value: Decimal) -> Result<Profile, SegmentError> {
        Profile::new(
            CustomerId::from(3u64),
            TimeUnit::WEEKS,
            frequency,
            1.0,
            2.0,
            monetary_value,
        )
    }

    #[test]
    fn a_negative_total_spend_is_refused_naming_the_customer() {
        let p = profile(1, Decimal::ONE).unwrap();
        let err = p
            .clone()
            .with_total_spend(Decimal::NEGATIVE_ONE)
            .unwrap_err();
        assert!(
            matches!(
                err,
                SegmentError::OutOfRange {
                    feature: Feature::TotalSpend,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("customer 3"), "{err}");
        let p = p.with_total_spend(Decimal::ZERO).unwrap();
        assert_eq!(p.total_spend(), Decimal::ZERO);
    }

    #[test]
    fn a_repeat_spend_past_the_decimal_range_is_an_error_not_a_clamp() {
        let err = profile(2, Decimal::MAX).unwrap_err();
        assert!(matches!(err, SegmentError::OutOfRange { .. }), "{err}");
        assert_eq!(
            profile(1, Decimal::MAX).unwrap().total_spend(),
            Decimal::MAX
        );
    }

    #[test]
    fn a_profile_is_small_and_its_optional_parts_compare_by_value() {
        assert!(std::mem::size_of::<Profile>() <= 136);
        let p = profile(1, Decimal::ONE).unwrap();
        assert_eq!(p, p.clone());
        assert_eq!(
            (p.p_alive(), p.clv(), p.gap_before_last()),
            (None, None, None)
        );
        let q = p.clone().with_p_alive(0.0).unwrap().with_clv(-0.0).unwrap();
        assert_ne!(p, q);
        assert_eq!((q.p_alive(), q.clv()), (Some(0.0), Some(-0.0)));
        // Attributes copied from a customer without any are none, as if never set.
        let bare = Customer::new(
            CustomerId::from(3u64),
            chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        );
        let cleared = p.clone().with_region("north").with_attributes(&bare);
        assert_eq!(cleared, p);
        assert_eq!(cleared.region(), None);
        let tagged = p.clone().with_tag("a");
        assert_ne!(tagged, p);
        assert_eq!(
            (tagged.tags(), tagged.channel()),
            (&["a".to_owned()][..], None)
        );
    }

    /// The JSON of a profile with every field set, and of a bare one, as written before the
    /// fields were packed: the serialized format must not change with the layout.
    #[cfg(feature = "serde")]
    #[test]
    fn the_json_format_is_fixed() {
        let full = Profile::new(
            CustomerId::new("c-7").unwrap(),
            TimeUnit::WEEKS,
            3,
            12.5,
            40.25,
            Decimal::new(1999, 2),
        )
        .unwrap()
        .with_total_spend(Decimal::new(8000, 2))
        .unwrap()
        .with_gap_before_last(2.75)
        .unwrap()
        .with_p_alive(0.625)
        .unwrap()
        .with_clv(-3.5)
        .unwrap()
        .with_channel("web")
        .with_region("north")
        .with_tag("vip")
        .with_tag("b2b");
        let full_json = r#"{"id":"c-7","unit":7.0,"purchased":true,"frequency":3,"recency":12.5,"age":40.25,"monetary_value":"19.99","total_spend":"80.00","orders":4,"gap_before_last":2.75,"p_alive":0.625,"clv":-3.5,"channel":"web","region":"north","tags":["vip","b2b"]}"#;
        assert_eq!(serde_json::to_string(&full).unwrap(), full_json);
        assert_eq!(serde_json::from_str::<Profile>(full_json).unwrap(), full);
        let bare = Profile::prospect(CustomerId::from(9u64), TimeUnit::DAYS);
        let bare_json = r#"{"id":9,"unit":1.0,"purchased":false,"frequency":0,"recency":0.0,"age":0.0,"monetary_value":"0","total_spend":"0","orders":0,"gap_before_last":null,"p_alive":null,"clv":null,"channel":null,"region":null,"tags":[]}"#;
        assert_eq!(serde_json::to_string(&bare).unwrap(), bare_json);
        let back = serde_json::from_str::<Profile>(bare_json).unwrap();
        assert_eq!(back, bare);
        assert_eq!(
            (back.p_alive(), back.clv(), back.region()),
            (None, None, None)
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_profiles_go_through_the_total_spend_check() {
        let p = profile(1, Decimal::ONE)
            .unwrap()
            .with_total_spend(Decimal::TWO)
            .unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Profile>(&json).unwrap(), p);
        let negative = json.replace("\"total_spend\":\"2\"", "\"total_spend\":\"-2\"");
        assert_ne!(negative, json);
        assert!(serde_json::from_str::<Profile>(&negative).is_err());
    }
}
