//! Exact comparisons of decimals without `Decimal`'s general path in the usual cases: amounts of
//! money against amounts or thresholds, a few decimals apart.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// The largest difference of scales aligned in integers: a 64-bit mantissa times 10^18 stays
/// below 2^124, within `i128`.
const MAX_ALIGNED_SCALES: u32 = 18;

/// 10^0 ..= 10^19, the powers that fit a `u64`.
pub(crate) const POWERS_OF_TEN: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

/// Orders `a` and `b` as `Decimal`'s `Ord` does (−0 equals 0). When both mantissas fit 64 bits
/// and the scales are at most [`MAX_ALIGNED_SCALES`] apart, the mantissas are aligned and
/// compared as integers; otherwise `Ord` decides.
pub(crate) fn cmp(a: Decimal, b: Decimal) -> Ordering {
    let (ma, mb) = (a.mantissa(), b.mantissa());
    let (sa, sb) = (a.scale(), b.scale());
    if sa == sb {
        return ma.cmp(&mb);
    }
    let small = fits_64;
    let gap = sa.abs_diff(sb);
    if gap <= MAX_ALIGNED_SCALES && small(ma) && small(mb) {
        let power = i128::from(POWERS_OF_TEN[gap as usize]);
        return if sa < sb {
            (ma * power).cmp(&mb)
        } else {
            ma.cmp(&(mb * power))
        };
    }
    a.cmp(&b)
}

/// `Decimal::checked_add` into `sum` (false, `sum` unchanged, when it overflows), without its
/// general path in the usual case of a running sum of amounts: when both have the same scale
/// and mantissas within 64 bits, and the sum is not zero, the sum is exact at that scale, and a
/// non-zero value at a given scale has one representation, the one `checked_add` gives. (A zero
/// sum takes the general path, which decides its sign.) Each path writes the sum itself:
/// merging the two paths' results cost more than the integer sum.
#[inline]
pub(crate) fn add_into(sum: &mut Decimal, b: Decimal) -> bool {
    if let Some(s) = same_scale_sum(*sum, b.mantissa(), b.scale()) {
        *sum = s;
        return true;
    }
    general(sum, b, Decimal::checked_add)
}

/// `Decimal::checked_sub` into `sum`, as [`add_into`] of `−b`.
#[inline]
pub(crate) fn sub_into(sum: &mut Decimal, b: Decimal) -> bool {
    if let Some(s) = same_scale_sum(*sum, -b.mantissa(), b.scale()) {
        *sum = s;
        return true;
    }
    general(sum, b, Decimal::checked_sub)
}

/// `op` of `sum` and `b` into `sum`, by `Decimal`'s general path.
#[cold]
#[inline(never)]
fn general(sum: &mut Decimal, b: Decimal, op: fn(Decimal, Decimal) -> Option<Decimal>) -> bool {
    match op(*sum, b) {
        Some(s) => {
            *sum = s;
            true
        }
        None => false,
    }
}

/// `a` plus the mantissa `m` at `scale`, when both are at that scale within 64 bits and the sum
/// is not zero (see [`add_into`]).
#[inline]
fn same_scale_sum(a: Decimal, m: i128, scale: u32) -> Option<Decimal> {
    let small = fits_64;
    let ma = a.mantissa();
    if a.scale() != scale || !small(ma) || !small(m) || ma + m == 0 {
        return None;
    }
    Decimal::try_from_i128_with_scale(ma + m, scale).ok()
}

/// Whether `a − b` surely fits a decimal (`Decimal::checked_sub` gives a value): when both
/// mantissas fit 64 bits, each value is below 2^64 whatever its scale, and the difference below
/// 2^65, far within the 96 bits of a decimal's range. (False says nothing: the subtraction may
/// fit or not.)
#[inline]
pub(crate) fn difference_fits(a: Decimal, b: Decimal) -> bool {
    fits_64(a.mantissa()) && fits_64(b.mantissa())
}

/// Whether a mantissa's magnitude fits 64 bits.
#[inline]
fn fits_64(m: i128) -> bool {
    m.unsigned_abs() <= u128::from(u64::MAX)
}

/// `a >= b`, by [`cmp`].
pub(crate) fn at_least(a: Decimal, b: Decimal) -> bool {
    cmp(a, b) != Ordering::Less
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decimal() -> impl Strategy<Value = Decimal> {
        let mantissa = prop_oneof![
            -100_000i128..100_000,
            any::<i64>().prop_map(i128::from),
            any::<u64>().prop_map(i128::from),
            (-(1i128 << 96) + 1)..(1i128 << 96),
        ];
        (mantissa, 0u32..=28, any::<bool>()).prop_map(|(m, scale, negative_zero)| {
            let mut d = Decimal::from_i128_with_scale(m, scale);
            if negative_zero && m == 0 {
                d.set_sign_negative(true);
            }
            d
        })
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(2048))]

        #[test]
        fn integer_comparisons_order_decimals_as_ord_does(a in decimal(), b in decimal()) {
            prop_assert_eq!(cmp(a, b), a.cmp(&b), "{} against {}", a, b);
            prop_assert_eq!(at_least(a, b), a >= b);
        }

        #[test]
        fn sums_are_those_of_decimal_bit_for_bit(a in decimal(), b in decimal(), same in any::<bool>()) {
            // Mostly at the same scale, where the integer path applies.
            let mut b = b;
            if same {
                b.rescale(a.scale());
            }
            // The sum's bits, or the unchanged first operand's on overflow.
            let bits = |d: Option<Decimal>| d.map(|d| d.serialize());
            let into = |f: fn(&mut Decimal, Decimal) -> bool, a: Decimal, b: Decimal| {
                let mut sum = a;
                let ok = f(&mut sum, b);
                prop_assert!(ok || sum.serialize() == a.serialize());
                Ok(ok.then_some(sum.serialize()))
            };
            prop_assert_eq!(into(add_into, a, b)?, bits(a.checked_add(b)), "{} + {}", a, b);
            prop_assert_eq!(into(sub_into, a, b)?, bits(a.checked_sub(b)), "{} - {}", a, b);
            prop_assert_eq!(into(add_into, a, -a)?, bits(a.checked_add(-a)), "{} + -{}", a, a);
            prop_assert_eq!(into(sub_into, a, a)?, bits(a.checked_sub(a)), "{} - {}", a, a);
        }

        #[test]
        fn differences_said_to_fit_do(a in decimal(), b in decimal()) {
            if difference_fits(a, b) {
                prop_assert!(a.checked_sub(b).is_some(), "{} - {}", a, b);
            }
        }

        #[test]
        fn equal_values_at_other_scales_are_equal(m in any::<i64>(), scale in 0u32..=9, more in 0u32..=19) {
            let a = Decimal::from_i128_with_scale(i128::from(m), scale);
            let mut b = a;
            b.rescale(scale + more);
            prop_assume!(b == a);
            prop_assert_eq!(cmp(a, b), Ordering::Equal);
            prop_assert_eq!(cmp(b, a), Ordering::Equal);
        }
    }
}
