//! Points: earn rules, multipliers, bonuses, claw-backs, pending periods, expiry and redemptions.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::records::CustomerId;

use super::compare::{at_least, POWERS_OF_TEN};
use super::window::add_days;

/// How fractional points are rounded to whole points. Points are computed per transaction as
/// `amount × points_per_unit × tier multiplier × campaign multiplier` and then rounded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Rounding {
    /// Round down (12.9 points → 12): the common "per whole currency unit" rule.
    #[default]
    Down,
    /// Round to the nearest point, halves up (12.5 → 13).
    HalfUp,
    /// Round to the nearest point, halves to even (12.5 → 12, 13.5 → 14).
    HalfEven,
    /// Round up (12.1 → 13).
    Up,
}

impl Rounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Rounding::Down => RoundingStrategy::ToZero,
            Rounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Rounding::HalfEven => RoundingStrategy::MidpointNearestEven,
            Rounding::Up => RoundingStrategy::AwayFromZero,
        }
    }
    /// Rounds a non-negative number of points to whole points.
    pub fn apply(self, points: Decimal) -> Decimal {
        points.round_dp_with_strategy(0, self.strategy())
    }

    /// [`apply`](Self::apply) as a `u64` (`None` when the result does not fit), in integer
    /// arithmetic when the points are not negative with a mantissa of at most 64 bits (every
    /// purchase of up to 1.8e17 points at two decimals), by the decimal path otherwise.
    pub(crate) fn whole_points(self, points: Decimal) -> Option<u64> {
        if !points.is_sign_negative() {
            let unit = POWERS_OF_TEN.get(points.scale() as usize);
            if let (Some(&unit), Ok(mantissa)) = (unit, u64::try_from(points.mantissa())) {
                return self.ratio(mantissa, unit);
            }
        }
        self.apply(points).to_u64()
    }

    /// `mantissa / unit` rounded, for a power of ten `unit` (at least 1).
    fn ratio(self, mantissa: u64, unit: u64) -> Option<u64> {
        let (whole, rest) = (mantissa / unit, mantissa % unit);
        // `rest` against `unit - rest` compares the fraction with one half, exactly.
        let up = match self {
            Rounding::Down => false,
            Rounding::Up => rest > 0,
            Rounding::HalfUp => rest >= unit - rest,
            Rounding::HalfEven => rest > unit - rest || (rest == unit - rest && whole % 2 == 1),
        };
        whole.checked_add(u64::from(up))
    }

    /// The rounded product of `factors`, in integers when the decimal product is exact at every
    /// step: no factor negative (nor −0), every partial product of the mantissas within 64 bits
    /// and the scales adding up to at most 19 (then each partial product is a decimal that fits,
    /// so `Decimal`'s multiplication rounds nothing). `None` otherwise: the caller multiplies
    /// decimals.
    pub(crate) fn whole_product(self, factors: [Decimal; 4]) -> Option<u64> {
        let mut mantissa: u64 = 1;
        let mut scale: u32 = 0;
        for f in factors {
            if f.is_sign_negative() {
                return None;
            }
            mantissa = mantissa.checked_mul(u64::try_from(f.mantissa()).ok()?)?;
            scale += f.scale();
        }
        self.ratio(mantissa, *POWERS_OF_TEN.get(scale as usize)?)
    }
}

/// A campaign: a points multiplier for purchases made between two dates (both included).
/// Campaigns do not stack: when several are active, the highest multiplier applies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Campaign {
    /// Name shown in reports.
    pub name: String,
    /// First day of the campaign.
    pub from: NaiveDate,
    /// Last day of the campaign.
    pub until: NaiveDate,
    /// Multiplier of the points earned (e.g. 2 for "double points").
    pub multiplier: Decimal,
}

/// A fixed bonus credited on a purchase that meets its conditions. Bonus points are not
/// multiplied. A bonus is clawed back when its purchase is returned in full.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bonus {
    /// Name shown in reports.
    pub name: String,
    /// Points credited.
    pub points: u64,
    /// Only purchases of at least this amount qualify.
    #[cfg_attr(feature = "serde", serde(default))]
    pub min_amount: Option<Decimal>,
    /// Only the member's first purchase qualifies (a welcome bonus).
    #[cfg_attr(feature = "serde", serde(default))]
    pub first_purchase_only: bool,
    /// First day the bonus is offered (open when absent).
    #[cfg_attr(feature = "serde", serde(default))]
    pub from: Option<NaiveDate>,
    /// Last day the bonus is offered (open when absent).
    #[cfg_attr(feature = "serde", serde(default))]
    pub until: Option<NaiveDate>,
}

impl Bonus {
    fn applies(&self, date: NaiveDate, amount: Decimal, first_purchase: bool) -> bool {
        self.min_amount.is_none_or(|m| at_least(amount, m))
            && (!self.first_purchase_only || first_purchase)
            && self.from.is_none_or(|f| date >= f)
            && self.until.is_none_or(|u| date <= u)
    }
}

/// How purchases earn points, and how long points live.
///
/// Points of a purchase = `round(amount × points_per_unit × tier multiplier × campaign
/// multiplier)` with the stated [`Rounding`], plus the fixed bonuses that apply. Points become
/// spendable `pending_days` after the purchase and expire `expiry_days` after it (on that day they
/// are gone). A return claws back the points of the purchase it refunds (see
/// [`crate::loyalty`] for the matching rule).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EarnRules {
    /// Points per currency unit spent (e.g. 1 point per dollar; 0.1 for a point per 10 dollars).
    pub points_per_unit: Decimal,
    /// How fractional points are rounded.
    #[cfg_attr(feature = "serde", serde(default))]
    pub rounding: Rounding,
    /// Multiplier per tier name (tiers not listed earn at 1×).
    #[cfg_attr(feature = "serde", serde(default))]
    pub tier_multipliers: BTreeMap<String, Decimal>,
    /// Time-limited multipliers.
    #[cfg_attr(feature = "serde", serde(default))]
    pub campaigns: Vec<Campaign>,
    /// Fixed bonuses.
    #[cfg_attr(feature = "serde", serde(default))]
    pub bonuses: Vec<Bonus>,
    /// Days after earning before points can be redeemed (0: at once).
    #[cfg_attr(feature = "serde", serde(default))]
    pub pending_days: u32,
    /// Days after earning when points expire (absent: never).
    #[cfg_attr(feature = "serde", serde(default))]
    pub expiry_days: Option<u32>,
}

impl Default for EarnRules {
    fn default() -> Self {
        EarnRules {
            points_per_unit: Decimal::ONE,
            rounding: Rounding::Down,
            tier_multipliers: BTreeMap::new(),
            campaigns: Vec::new(),
            bonuses: Vec::new(),
            pending_days: 0,
            expiry_days: None,
        }
    }
}

/// Why [`EarnRules`] are invalid, or a points operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PointsError {
    /// A rate or multiplier is negative.
    #[error("{what} must not be negative, got {value}")]
    Negative {
        /// Which setting.
        what: String,
        /// The value.
        value: Decimal,
    },
    /// A campaign ends before it starts.
    #[error("campaign {name:?} ends ({until}) before it starts ({from})")]
    CampaignDates {
        /// The campaign.
        name: String,
        /// First day.
        from: NaiveDate,
        /// Last day.
        until: NaiveDate,
    },
    /// Points would expire before (or when) they become spendable.
    #[error("points expire after {expiry_days} days but are pending for {pending_days}: they could never be spent")]
    ExpiryBeforeSpendable {
        /// Expiry in days.
        expiry_days: u32,
        /// Pending period in days.
        pending_days: u32,
    },
    /// A redemption asks for more points than the spendable balance.
    #[error("customer {customer}: redemption of {requested} points on {date} exceeds the spendable balance of {available}")]
    InsufficientPoints {
        /// The member.
        customer: CustomerId,
        /// Day of the redemption.
        date: NaiveDate,
        /// Points asked for.
        requested: u64,
        /// Spendable points.
        available: u64,
    },
    /// A redemption of zero points.
    #[error("customer {customer}: a redemption on {date} is for zero points")]
    ZeroRedemption {
        /// The member.
        customer: CustomerId,
        /// Day of the redemption.
        date: NaiveDate,
    },
    /// A points figure does not fit the counters.
    #[error("points overflow for {0}")]
    Overflow(String),
}

impl EarnRules {
    /// Checks rates, multipliers, campaign dates and that points can be spent before they expire.
    ///
    /// # Errors
    ///
    /// [`PointsError::Negative`] for a negative rate or multiplier; [`PointsError::CampaignDates`]
    /// for a campaign that ends before it starts; [`PointsError::ExpiryBeforeSpendable`] when
    /// points would expire before they can be spent.
    pub fn validate(&self) -> Result<(), PointsError> {
        let negative = |what: String, value: Decimal| {
            if value.is_sign_negative() && !value.is_zero() {
                Err(PointsError::Negative { what, value })
            } else {
                Ok(())
            }
        };
        negative("points_per_unit".into(), self.points_per_unit)?;
        for (tier, m) in &self.tier_multipliers {
            negative(format!("tier multiplier of {tier:?}"), *m)?;
        }
        for c in &self.campaigns {
            negative(format!("multiplier of campaign {:?}", c.name), c.multiplier)?;
            if c.until < c.from {
                return Err(PointsError::CampaignDates {
                    name: c.name.clone(),
                    from: c.from,
                    until: c.until,
                });
            }
        }
        if let Some(expiry_days) = self.expiry_days {
            if expiry_days <= self.pending_days {
                return Err(PointsError::ExpiryBeforeSpendable {
                    expiry_days,
                    pending_days: self.pending_days,
                });
            }
        }
        Ok(())
    }

    /// The highest multiplier of the campaigns running on `date` (1 when none runs).
    pub fn campaign_multiplier(&self, date: NaiveDate) -> Decimal {
        self.campaigns
            .iter()
            .filter(|c| c.from <= date && date <= c.until)
            .map(|c| c.multiplier)
            .max()
            .unwrap_or(Decimal::ONE)
    }

    /// The multiplier of tier `name` (1 when not listed).
    pub fn tier_multiplier(&self, name: &str) -> Decimal {
        self.tier_multipliers
            .get(name)
            .copied()
            .unwrap_or(Decimal::ONE)
    }

    /// Points a purchase earns: `(variable, bonus)`, where variable = rounded amount × rates.
    ///
    /// # Errors
    ///
    /// [`PointsError::Overflow`] when the points do not fit the counters.
    pub fn purchase_points(
        &self,
        date: NaiveDate,
        amount: Decimal,
        tier_multiplier: Decimal,
        first_purchase: bool,
    ) -> Result<(u64, u64), PointsError> {
        let overflow = || PointsError::Overflow(format!("a purchase of {amount} on {date}"));
        let campaign = self.campaign_multiplier(date);
        let exact =
            self.rounding
                .whole_product([amount, self.points_per_unit, tier_multiplier, campaign]);
        let variable = match exact {
            Some(points) => points,
            None => {
                let raw = amount
                    .checked_mul(self.points_per_unit)
                    .and_then(|p| p.checked_mul(tier_multiplier))
                    .and_then(|p| p.checked_mul(campaign))
                    .ok_or_else(overflow)?;
                self.rounding.whole_points(raw).ok_or_else(overflow)?
            }
        };
        let mut bonus: u64 = 0;
        for b in &self.bonuses {
            if b.applies(date, amount, first_purchase) {
                bonus = bonus.checked_add(b.points).ok_or_else(overflow)?;
            }
        }
        Ok((variable, bonus))
    }

    pub(crate) fn spendable_on(&self, earned: NaiveDate) -> Option<NaiveDate> {
        add_days(earned, self.pending_days)
    }

    pub(crate) fn expires_on(&self, earned: NaiveDate) -> Option<Option<NaiveDate>> {
        match self.expiry_days {
            None => Some(None),
            Some(days) => add_days(earned, days).map(Some),
        }
    }
}

/// Points earned together: they become spendable and expire on the same days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PointsLot {
    /// Day the points were earned.
    pub earned: NaiveDate,
    /// First day they can be redeemed.
    pub spendable: NaiveDate,
    /// Day they expire (gone from that day on), if they expire.
    pub expires: Option<NaiveDate>,
    /// Points left in the lot.
    pub points: u64,
}

/// A member's points: lots in the order earned, and running totals.
///
/// Redemptions spend the oldest spendable points first (they expire first). Claw-backs take the
/// points of the refunded purchase first, then the oldest points. The balance never goes
/// negative: a claw-back larger than what is left is written off and counted in
/// [`PointsAccount::shortfall`]; a redemption larger than the spendable balance is an error.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::loyalty::PointsAccount;
/// use customer_assets::CustomerId;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let mut acct = PointsAccount::new(CustomerId::from(1u64));
/// acct.credit(d(1, 10)?, d(1, 10)?, Some(d(7, 10)?), 120)?;
/// acct.redeem(d(2, 1)?, 100)?;
/// assert_eq!(acct.balance(d(2, 1)?), 20);
/// assert!(acct.redeem(d(2, 2)?, 50).is_err()); // more than the balance
/// assert_eq!(acct.balance(d(7, 10)?), 0);        // the rest expired
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsAccount {
    customer: CustomerId,
    lots: Vec<PointsLot>,
    head: usize,
    earned: u64,
    redeemed: u64,
    expired: u64,
    clawed_back: u64,
    shortfall: u64,
}

impl PointsAccount {
    /// An empty account.
    pub fn new(customer: CustomerId) -> Self {
        PointsAccount {
            customer,
            lots: Vec::new(),
            head: 0,
            earned: 0,
            redeemed: 0,
            expired: 0,
            clawed_back: 0,
            shortfall: 0,
        }
    }

    /// An empty account with room for `lots` lots.
    pub fn with_capacity(customer: CustomerId, lots: usize) -> Self {
        let mut a = PointsAccount::new(customer);
        a.lots.reserve(lots);
        a
    }

    /// An empty account whose lots go into `lots` (cleared first): replays that keep no account
    /// hand one buffer from member to member.
    pub(crate) fn with_buffer(customer: CustomerId, mut lots: Vec<PointsLot>) -> Self {
        lots.clear();
        PointsAccount {
            lots,
            ..PointsAccount::new(customer)
        }
    }

    /// The buffer of the lots, for [`with_buffer`](Self::with_buffer).
    pub(crate) fn into_buffer(self) -> Vec<PointsLot> {
        self.lots
    }

    /// Credits `points` earned on `earned`; returns the lot's index (for claw-backs).
    /// Lots must be credited in the order earned.
    ///
    /// Every balance of the account is a part of the points ever credited, so keeping that total
    /// within `u64` keeps every balance, pending sum and expiry sum within it too.
    ///
    /// # Errors
    ///
    /// [`PointsError::Overflow`] when the points ever credited would pass `u64::MAX`.
    pub fn credit(
        &mut self,
        earned: NaiveDate,
        spendable: NaiveDate,
        expires: Option<NaiveDate>,
        points: u64,
    ) -> Result<usize, PointsError> {
        self.earned = self.earned.checked_add(points).ok_or_else(|| {
            PointsError::Overflow(format!(
                "customer {}: {points} points earned on {earned} on top of {} already credited",
                self.customer, self.earned
            ))
        })?;
        self.lots.push(PointsLot {
            earned,
            spendable,
            expires,
            points,
        });
        Ok(self.lots.len() - 1)
    }

    /// Expires the lots whose expiry day is on or before `date`.
    pub fn expire_until(&mut self, date: NaiveDate) {
        for lot in &mut self.lots[self.head..] {
            if lot.expires.is_some_and(|e| e <= date) && lot.points > 0 {
                self.expired = self.expired.saturating_add(lot.points);
                lot.points = 0;
            }
        }
        while self.lots.get(self.head).is_some_and(|l| l.points == 0) {
            self.head += 1;
        }
    }

    fn live(&self, date: NaiveDate) -> impl Iterator<Item = &PointsLot> {
        self.lots[self.head..]
            .iter()
            .filter(move |l| l.points > 0 && l.expires.is_none_or(|e| e > date))
    }

    /// Spendable points on `date` (earned, past their pending period, not expired).
    pub fn balance(&self, date: NaiveDate) -> u64 {
        self.live(date)
            .filter(|l| l.spendable <= date)
            .map(|l| l.points)
            .sum()
    }

    /// Points still pending on `date`.
    pub fn pending(&self, date: NaiveDate) -> u64 {
        self.live(date)
            .filter(|l| l.spendable > date)
            .map(|l| l.points)
            .sum()
    }

    /// Points (spendable or pending) that expire in the `days` days after `date`.
    pub fn expiring_within(&self, date: NaiveDate, days: u32) -> u64 {
        let Some(limit) = add_days(date, days) else {
            return 0;
        };
        self.live(date)
            .filter(|l| l.expires.is_some_and(|e| e <= limit))
            .map(|l| l.points)
            .sum()
    }

    /// The lots alive on `date` (spendable or pending), oldest first.
    pub fn lots(&self, date: NaiveDate) -> impl Iterator<Item = PointsLot> + '_ {
        self.live(date).copied()
    }

    /// Redeems `points` on `date` from the oldest spendable lots.
    ///
    /// # Errors
    ///
    /// [`PointsError::ZeroRedemption`] for zero points; [`PointsError::InsufficientPoints`] for
    /// more than the spendable balance on `date`.
    pub fn redeem(&mut self, date: NaiveDate, points: u64) -> Result<(), PointsError> {
        if points == 0 {
            return Err(PointsError::ZeroRedemption {
                customer: self.customer.clone(),
                date,
            });
        }
        self.expire_until(date);
        let available = self.balance(date);
        if points > available {
            return Err(PointsError::InsufficientPoints {
                customer: self.customer.clone(),
                date,
                requested: points,
                available,
            });
        }
        let mut left = points;
        for lot in &mut self.lots[self.head..] {
            if left == 0 {
                break;
            }
            if lot.spendable <= date && lot.expires.is_none_or(|e| e > date) {
                let take = left.min(lot.points);
                lot.points -= take;
                left -= take;
            }
        }
        self.redeemed = self.redeemed.saturating_add(points);
        Ok(())
    }

    /// Claws back `points` on `date`, from lot `from_lot` first, then the oldest lots. Returns the
    /// part that could not be taken (written off: the balance never goes negative).
    ///
    /// # Errors
    ///
    /// [`PointsError::Overflow`] when the written-off total would pass `u64::MAX` (nothing is
    /// taken then).
    pub fn claw_back(
        &mut self,
        date: NaiveDate,
        points: u64,
        from_lot: Option<usize>,
    ) -> Result<u64, PointsError> {
        self.expire_until(date);
        // What cannot be taken is known before anything is: check its write-off first, so an
        // error leaves the account as it was.
        let outstanding: u64 = self.lots[self.head..].iter().map(|l| l.points).sum();
        let unmet = points.saturating_sub(outstanding);
        if self.shortfall.checked_add(unmet).is_none() {
            return Err(PointsError::Overflow(format!(
                "customer {}: a claw-back of {points} points on {date} on top of {} written off",
                self.customer, self.shortfall
            )));
        }
        let mut left = points;
        if let Some(lot) = from_lot.and_then(|i| self.lots.get_mut(i)) {
            let take = left.min(lot.points);
            lot.points -= take;
            left -= take;
        }
        for lot in &mut self.lots[self.head..] {
            if left == 0 {
                break;
            }
            let take = left.min(lot.points);
            lot.points -= take;
            left -= take;
        }
        // Taken points were credited, so their total stays below the credited total.
        self.clawed_back = self.clawed_back.saturating_add(points - left);
        self.shortfall = self.shortfall.checked_add(left).ok_or_else(|| {
            PointsError::Overflow(format!(
                "customer {}: a claw-back of {points} points on {date}",
                self.customer
            ))
        })?;
        Ok(left)
    }

    /// Points ever credited.
    pub fn earned(&self) -> u64 {
        self.earned
    }
    /// Points ever redeemed.
    pub fn redeemed(&self) -> u64 {
        self.redeemed
    }
    /// Points expired so far (as of the last operation).
    pub fn expired(&self) -> u64 {
        self.expired
    }
    /// Points clawed back by returns.
    pub fn clawed_back(&self) -> u64 {
        self.clawed_back
    }
    /// Claw-backs that found no points left (written off).
    pub fn shortfall(&self) -> u64 {
        self.shortfall
    }
}

/// A request to redeem points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Redemption {
    /// The member.
    pub customer: CustomerId,
    /// Day of the redemption (processed after that day's purchases).
    pub date: NaiveDate,
    /// Points redeemed.
    pub points: u64,
}

/// A points summary at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PointsStatus {
    /// Spendable points.
    pub balance: u64,
    /// Points earned but still pending.
    pub pending: u64,
    /// Points (spendable or pending) expiring within the horizon.
    pub expiring: u64,
    /// The horizon of `expiring`, in days.
    pub horizon_days: u32,
    /// Points ever credited.
    pub earned: u64,
    /// Points ever redeemed.
    pub redeemed: u64,
    /// Points expired.
    pub expired: u64,
    /// Points clawed back by returns.
    pub clawed_back: u64,
    /// Claw-backs written off because no points were left.
    pub shortfall: u64,
}

impl PointsAccount {
    /// The summary on `date` with an expiry horizon of `horizon_days`.
    pub fn status(&self, date: NaiveDate, horizon_days: u32) -> PointsStatus {
        PointsStatus {
            balance: self.balance(date),
            pending: self.pending(date),
            expiring: self.expiring_within(date, horizon_days),
            horizon_days,
            earned: self.earned,
            redeemed: self.redeemed,
            expired: self.expired,
            clawed_back: self.clawed_back,
            shortfall: self.shortfall,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        #[test]
        fn whole_points_in_integers_round_as_the_decimal_path(
            mantissa in prop_oneof![
                0i128..1_000_000,
                any::<u64>().prop_map(i128::from),
                (0i128..20).prop_map(|k| 5 * 10i128.pow((k % 19) as u32)),
                (-(1i128 << 96) + 1)..(1i128 << 96),
            ],
            scale in 0u32..=28,
            negative_zero in any::<bool>(),
        ) {
            let mut points = Decimal::from_i128_with_scale(mantissa, scale);
            if negative_zero && mantissa == 0 {
                points.set_sign_negative(true);
            }
            for rounding in [Rounding::Down, Rounding::HalfUp, Rounding::HalfEven, Rounding::Up] {
                prop_assert_eq!(
                    rounding.whole_points(points),
                    rounding.apply(points).to_u64(),
                    "{:?} of {}", rounding, points
                );
            }
        }
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(512))]

        #[test]
        fn whole_products_in_integers_round_as_the_decimal_product(
            factors in proptest::array::uniform4((
                prop_oneof![
                    0i64..100_000,
                    any::<u32>().prop_map(i64::from),
                    any::<i64>(),
                    Just(0i64),
                ],
                0u32..=12,
                any::<bool>(),
            )),
        ) {
            let factors = factors.map(|(mantissa, scale, negative)| {
                let mut d = Decimal::new(mantissa, scale);
                if negative {
                    d.set_sign_negative(true);
                }
                d
            });
            for rounding in [Rounding::Down, Rounding::HalfUp, Rounding::HalfEven, Rounding::Up] {
                if let Some(points) = rounding.whole_product(factors) {
                    let [a, b, c, d] = factors;
                    let product = a.checked_mul(b).and_then(|p| p.checked_mul(c)).and_then(|p| p.checked_mul(d));
                    prop_assert_eq!(
                        product.and_then(|p| rounding.whole_points(p)),
                        Some(points),
                        "{:?} of {:?}", rounding, factors
                    );
                }
            }
        }
    }

    #[test]
    fn whole_products_take_the_integer_path_for_money_and_multipliers() {
        let p = |s: &str| s.parse::<Decimal>().unwrap();
        let factors = [p("19.99"), p("1"), p("1.25"), p("2")];
        assert_eq!(Rounding::Down.whole_product(factors), Some(49));
        assert_eq!(Rounding::HalfUp.whole_product(factors), Some(50));
        assert_eq!(
            Rounding::Down.whole_product([p("-1"), p("1"), p("1"), p("1")]),
            None
        );
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    #[test]
    fn rounding_rules() {
        let p = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(Rounding::Down.apply(p("12.9")), p("12"));
        assert_eq!(Rounding::HalfUp.apply(p("12.5")), p("13"));
        assert_eq!(Rounding::HalfEven.apply(p("12.5")), p("12"));
        assert_eq!(Rounding::HalfEven.apply(p("13.5")), p("14"));
        assert_eq!(Rounding::Up.apply(p("12.1")), p("13"));
    }

    #[test]
    fn campaigns_take_the_highest_multiplier_and_bonuses_add() {
        let rules = EarnRules {
            campaigns: vec![
                Campaign {
                    name: "double".into(),
                    from: day(3, 1),
                    until: day(3, 31),
                    multiplier: Decimal::TWO,
                },
                Campaign {
                    name: "triple weekend".into(),
                    from: day(3, 9),
                    until: day(3, 10),
                    multiplier: Decimal::from(3),
                },
            ],
            bonuses: vec![Bonus {
                name: "welcome".into(),
                points: 50,
                min_amount: None,
                first_purchase_only: true,
                from: None,
                until: None,
            }],
            ..EarnRules::default()
        };
        rules.validate().unwrap();
        let amt = Decimal::new(1050, 2);
        assert_eq!(
            rules
                .purchase_points(day(2, 1), amt, Decimal::ONE, true)
                .unwrap(),
            (10, 50)
        );
        assert_eq!(
            rules
                .purchase_points(day(3, 1), amt, Decimal::ONE, false)
                .unwrap(),
            (21, 0)
        );
        assert_eq!(
            rules
                .purchase_points(day(3, 9), amt, Decimal::ONE, false)
                .unwrap(),
            (31, 0)
        );
    }

    #[test]
    fn invalid_rules_are_errors() {
        let mut r = EarnRules {
            pending_days: 30,
            expiry_days: Some(30),
            ..EarnRules::default()
        };
        assert!(matches!(
            r.validate(),
            Err(PointsError::ExpiryBeforeSpendable { .. })
        ));
        r.expiry_days = None;
        r.points_per_unit = Decimal::NEGATIVE_ONE;
        assert!(matches!(r.validate(), Err(PointsError::Negative { .. })));
    }

    #[test]
    fn credits_and_write_offs_past_u64_are_errors_and_balances_stay_exact() {
        let mut a = PointsAccount::new(CustomerId::from(4u64));
        a.credit(day(1, 1), day(1, 1), None, u64::MAX).unwrap();
        let err = a.credit(day(1, 2), day(1, 2), None, 1).unwrap_err();
        assert!(matches!(err, PointsError::Overflow(_)), "{err}");
        assert!(err.to_string().contains("customer 4"), "{err}");
        assert_eq!(a.balance(day(1, 3)), u64::MAX);
        assert_eq!(a.status(day(1, 3), 30).earned, u64::MAX);
        assert_eq!(a.claw_back(day(1, 4), u64::MAX, None).unwrap(), 0);
        assert_eq!(a.claw_back(day(1, 5), u64::MAX, None).unwrap(), u64::MAX);
        let err = a.claw_back(day(1, 6), 1, None).unwrap_err();
        assert!(matches!(err, PointsError::Overflow(_)), "{err}");
        assert_eq!(a.shortfall(), u64::MAX);
    }

    #[test]
    fn rules_with_huge_rates_are_overflow_errors_naming_the_purchase() {
        let rules = EarnRules {
            points_per_unit: Decimal::MAX,
            bonuses: vec![
                Bonus {
                    name: "a".into(),
                    points: u64::MAX,
                    min_amount: None,
                    first_purchase_only: false,
                    from: None,
                    until: None,
                },
                Bonus {
                    name: "b".into(),
                    points: 1,
                    min_amount: None,
                    first_purchase_only: false,
                    from: None,
                    until: None,
                },
            ],
            ..EarnRules::default()
        };
        let err = rules
            .purchase_points(day(1, 1), Decimal::TWO, Decimal::ONE, false)
            .unwrap_err();
        assert!(err.to_string().contains("2024-01-01"), "{err}");
        let zero_rate = EarnRules {
            points_per_unit: Decimal::ZERO,
            ..rules
        };
        assert!(zero_rate
            .purchase_points(day(1, 1), Decimal::MAX, Decimal::MAX, false)
            .is_err());
    }

    #[test]
    fn claw_back_never_drives_the_balance_negative() {
        let mut a = PointsAccount::new(CustomerId::from(1u64));
        let lot = a.credit(day(1, 1), day(1, 1), None, 100).unwrap();
        a.redeem(day(1, 2), 80).unwrap();
        let short = a.claw_back(day(1, 3), 100, Some(lot)).unwrap();
        assert_eq!(short, 80);
        assert_eq!(a.balance(day(1, 3)), 0);
        assert_eq!(a.shortfall(), 80);
        assert!(matches!(
            a.redeem(day(1, 4), 1),
            Err(PointsError::InsufficientPoints { .. })
        ));
    }
}
