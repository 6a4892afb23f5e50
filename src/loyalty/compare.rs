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
    let small = |m: i128| m.unsigned_abs() <= u128::from(u64::MAX);
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
