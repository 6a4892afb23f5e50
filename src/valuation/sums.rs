//! The report's sums of money, in one pass over the customers (parallel with the `parallel`
//! feature): CLVs are summed exactly as integers of cents, and a sum past the decimal range is
//! an error naming it, not a panic.

use rust_decimal::Decimal;

use crate::valuation::error::ValuationError;
use crate::valuation::report::GroupEquity;

/// One group's customers and the sum of their CLVs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Group {
    customers: usize,
    /// The CLVs' sum in cents (`None` once past an `i128`).
    cents: Option<i128>,
    /// The most decimal places of a CLV added: the sum shows as many, as a sum of decimals does.
    places: u32,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            customers: 0,
            cents: Some(0),
            places: 0,
        }
    }
}

impl Group {
    /// Adds a customer with its CLV.
    pub(super) fn add(&mut self, clv: Clv) {
        self.customers += 1;
        self.cents = self.cents.and_then(|c| c.checked_add(clv.cents));
        self.places = self.places.max(clv.places);
    }

    // Parts are merged only with `parallel` (and in the tests).
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn merge(&mut self, other: &Group) {
        self.customers += other.customers;
        self.cents = self
            .cents
            .zip(other.cents)
            .and_then(|(a, b)| a.checked_add(b));
        self.places = self.places.max(other.places);
    }

    /// The customers in the group.
    pub(super) fn customers(&self) -> usize {
        self.customers
    }

    /// The sum of the CLVs, with as many places as the most of any (`Decimal::ZERO` for none).
    ///
    /// # Errors
    /// [`ValuationError::SumOverflow`] naming `what` when the sum does not fit a decimal.
    pub(super) fn equity(&self, what: impl FnOnce() -> String) -> Result<Decimal, ValuationError> {
        // Exact: every CLV added is a whole number at `places`, so is their sum.
        let places = self.places.min(2);
        self.cents
            .map(|c| c / 10i128.pow(2 - places))
            .and_then(|units| Decimal::try_from_i128_with_scale(units, places).ok())
            .ok_or_else(|| ValuationError::SumOverflow { what: what() })
    }
}

/// A CLV in cents, and its decimal places.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clv {
    cents: i128,
    places: u32,
}

impl Clv {
    /// A CLV as money: rounded to cents (the valuation's CLVs already are, and keep their value).
    pub(super) fn new(money: Decimal) -> Self {
        let d = money.round_dp(2);
        let places = d.scale();
        // A mantissa has at most 96 bits: times 100 it fits an i128.
        let cents = d.mantissa() * 10i128.pow(2 - places.min(2));
        Clv { cents, places }
    }
}

/// Every sum of the report, from one pass over the customers.
#[derive(Debug, Clone)]
pub(super) struct Sums {
    /// The whole base.
    pub(super) equity: Group,
    /// Per asset class, by position in `AssetClass::ALL`.
    pub(super) by_class: [Group; 4],
    /// Per tier, by position in the ladder.
    pub(super) by_tier: Vec<Group>,
    /// Per segmenter, per label by its index in the segmenter's names.
    pub(super) by_segment: Vec<Vec<Group>>,
    /// The customers at risk.
    pub(super) at_risk: Group,
    /// The historical spend of the customers at risk (`None` past the decimal range).
    pub(super) at_risk_spend: Option<Decimal>,
}

impl Sums {
    /// Empty sums for `tiers` tiers and segmenters of `labels` distinct labels each.
    pub(super) fn new(tiers: usize, labels: &[usize]) -> Self {
        Sums {
            equity: Group::default(),
            by_class: [Group::default(); 4],
            by_tier: vec![Group::default(); tiers],
            by_segment: labels.iter().map(|&n| vec![Group::default(); n]).collect(),
            at_risk: Group::default(),
            at_risk_spend: Some(Decimal::ZERO),
        }
    }

    /// `add(sums, k)` for every customer `k < n`, in parts on all cores with `parallel`, the
    /// parts' sums merged: `empty` makes each part's sums.
    pub(super) fn over(
        n: usize,
        empty: impl Fn() -> Sums + Sync + Send,
        add: impl Fn(&mut Sums, usize) + Sync + Send,
    ) -> Sums {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            (0..n)
                .into_par_iter()
                .with_min_len(1 << 14)
                .fold(&empty, |mut sums, k| {
                    add(&mut sums, k);
                    sums
                })
                .reduce(&empty, |mut a, b| {
                    a.merge(&b);
                    a
                })
        }
        #[cfg(not(feature = "parallel"))]
        {
            let mut sums = empty();
            for k in 0..n {
                add(&mut sums, k);
            }
            sums
        }
    }

    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn merge(&mut self, other: &Sums) {
        self.equity.merge(&other.equity);
        for (a, b) in self.by_class.iter_mut().zip(&other.by_class) {
            a.merge(b);
        }
        for (a, b) in self.by_tier.iter_mut().zip(&other.by_tier) {
            a.merge(b);
        }
        for (a, b) in self.by_segment.iter_mut().zip(&other.by_segment) {
            for (a, b) in a.iter_mut().zip(b) {
                a.merge(b);
            }
        }
        self.at_risk.merge(&other.at_risk);
        self.at_risk_spend = self
            .at_risk_spend
            .zip(other.at_risk_spend)
            .and_then(|(a, b)| a.checked_add(b));
    }
}

/// How the groups of a report table are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupOrder {
    /// In the order of their names: asset classes best first, tiers up the ladder.
    Named,
    /// By equity, largest first (ties by name): segments, whose labels have no order of their
    /// own that holds across segmenters.
    EquityDescending,
}

/// The groups with customers, named by `names` (the group at index `i` is `names[i]`), listed
/// in `order`; `what` names a group's sum in an overflow error.
pub(super) fn named_groups(
    names: &[impl AsRef<str>],
    groups: &[Group],
    order: GroupOrder,
    what: impl Fn(&str) -> String,
) -> Result<Vec<GroupEquity>, ValuationError> {
    let mut listed = names
        .iter()
        .map(AsRef::as_ref)
        .zip(groups)
        .filter(|(_, g)| g.customers > 0)
        .map(|(name, g)| {
            Ok(GroupEquity {
                label: name.to_string(),
                customers: g.customers,
                equity: g.equity(|| what(name))?,
                interval: None,
            })
        })
        .collect::<Result<Vec<_>, ValuationError>>()?;
    if order == GroupOrder::EquityDescending {
        listed.sort_by(|a, b| b.equity.cmp(&a.equity).then_with(|| a.label.cmp(&b.label)));
    }
    Ok(listed)
}

/// An amount of money computed in floating point (a CLV, say) as the report writes it: the exact
/// value of the float rounded to cents, midpoint to even; `None` for NaN, an infinity or a value
/// beyond a decimal's range. Integrations that score customers outside the valuation (SQL
/// functions, record batches) round with it so their CLVs equal the report's to the cent.
///
/// ```
/// use customer_assets::valuation::to_cents;
/// use rust_decimal::Decimal;
/// assert_eq!(to_cents(12.345_000_1), Some(Decimal::new(1235, 2)));
/// assert_eq!(to_cents(0.125), Some(Decimal::new(12, 2))); // a tie: to even
/// assert_eq!(to_cents(f64::NAN), None);
/// ```
pub fn to_cents(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    // The exact conversion costs about 100 ns (a million customers: 0.1 s); the cents of the
    // float product are the same wherever it lies clear of a half cent by more than its
    // rounding error, when the value has more than two binary fractional digits (the exact
    // path then gives two decimals too). Zeros, signs of tiny values, ties and the rest take
    // the exact path.
    let cents = value * 100.0;
    let clear_of_half = (cents.abs().fract() - 0.5).abs() > 4.0 * f64::EPSILON * cents.abs();
    if (1.0..FAST_CENTS_BELOW).contains(&cents.abs())
        && (value * 4.0).fract() != 0.0
        && clear_of_half
    {
        // |cents| < 2^40: an exact integer.
        return Some(Decimal::new(cents.round() as i64, 2));
    }
    exact_money(value)
}

/// The cents below which [`money`] may take its fast path (2^40: exact in an i64 and an f64).
const FAST_CENTS_BELOW: f64 = 1_099_511_627_776.0;

/// [`money`] by the exact decimal value of the float.
pub(crate) fn exact_money(value: f64) -> Option<Decimal> {
    Decimal::from_f64_retain(value)
        .filter(|_| value.is_finite())
        .map(|d| d.round_dp(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]

        /// A group's equity is the sum of its CLVs as decimals, in value and in places, however
        /// the customers are split into parts and the parts merged.
        #[test]
        fn a_group_sums_as_decimals_do_whatever_the_parts(
            clvs in proptest::collection::vec((-10_000_000_000i64..10_000_000_000, 0u32..=2), 0..60),
            split in 0usize..60,
        ) {
            let money: Vec<Decimal> = clvs.iter().map(|&(m, s)| Decimal::new(m, s)).collect();
            let expected: Decimal = money.iter().copied().sum();
            let split = split.min(money.len());
            let (mut a, mut b, mut whole) = (Group::default(), Group::default(), Group::default());
            for (k, d) in money.iter().enumerate() {
                whole.add(Clv::new(*d));
                if k < split { a.add(Clv::new(*d)) } else { b.add(Clv::new(*d)) }
            }
            b.merge(&a);
            for g in [whole, b] {
                let sum = g.equity(String::new).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(sum, expected);
                prop_assert_eq!(sum.to_string(), expected.to_string());
                prop_assert_eq!(g.customers(), money.len());
            }
        }
    }

    #[test]
    fn a_sum_past_the_decimal_range_is_an_error_naming_it() {
        let mut g = Group::default();
        for _ in 0..3 {
            g.add(Clv::new(Decimal::MAX.round_dp(2)));
        }
        let err = g.equity(|| "the equity of tier gold".into()).unwrap_err();
        assert!(err.to_string().contains("the equity of tier gold"), "{err}");
        g.add(Clv::new(-Decimal::MAX));
        g.add(Clv::new(-Decimal::MAX));
        assert_eq!(g.equity(String::new).ok(), Some(Decimal::MAX));
    }
}
