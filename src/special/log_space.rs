//! Small log-space helpers: ln B and its gradient, log-sum-exp and log-diff-exp, ln(1 − eˣ),
//! and overflow-free forms of 1/(1 + eᶻ) and (1 − e^(−cL))/c.

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), finite for a, b > 0 (statrs' `ln_beta`
/// checks its arguments and panics outside that domain; the likelihoods call this with
/// arguments already checked positive and need no check per row).
#[inline]
pub(crate) fn ln_beta(a: f64, b: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// (∂/∂a, ∂/∂b) of ln B(a, b): (ψ(a) − ψ(a+b), ψ(b) − ψ(a+b)).
#[inline]
pub(crate) fn ln_beta_grad(a: f64, b: f64) -> (f64, f64) {
    use statrs::function::gamma::digamma;
    let dab = digamma(a + b);
    (digamma(a) - dab, digamma(b) - dab)
}

/// 1 / (1 + eᶻ), computed without overflow.
#[inline]
pub(crate) fn inv_one_plus_exp(z: f64) -> f64 {
    if z > 0.0 {
        let e = (-z).exp();
        e / (1.0 + e)
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// (1 − e^(−c L)) / c, with its limit L as c → 0.
#[inline]
pub(crate) fn one_minus_exp_over(c: f64, l: f64) -> f64 {
    let cl = c * l;
    if cl.abs() < 1e-10 {
        l * (1.0 - 0.5 * cl)
    } else {
        -(-cl).exp_m1() / c
    }
}

/// ln(eᵃ + eᵇ) without overflow or underflow; `-inf` inputs are exact zeros.
///
/// ```
/// use customer_assets::advanced::log_sum_exp;
/// assert!((log_sum_exp(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// assert_eq!(log_sum_exp(f64::NEG_INFINITY, 3.0), 3.0);
/// ```
#[inline]
pub fn log_sum_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    if hi == f64::INFINITY {
        return f64::INFINITY;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// ln(eᵃ − eᵇ) for a >= b (−inf when a = b). Returns NaN when b > a, which has no real logarithm;
/// callers check.
///
/// ```
/// use customer_assets::advanced::log_diff_exp;
/// assert!((log_diff_exp(2.0, 1.0) - (2f64.exp() - 1f64.exp()).ln()).abs() < 1e-12);
/// assert!(log_diff_exp(1.0, 2.0).is_nan());
/// ```
pub fn log_diff_exp(a: f64, b: f64) -> f64 {
    if b > a {
        return f64::NAN;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    a + ln_1m_exp(b - a)
}

/// ln(1 − eˣ) for x <= 0, accurate near 0 and for very negative x (Mächler's switch at −ln 2).
/// NaN for x > 0.
///
/// ```
/// use customer_assets::advanced::ln_1m_exp;
/// assert!((ln_1m_exp(-1e-20) - (1e-20f64).ln()).abs() < 1e-12);
/// assert!((ln_1m_exp(-50.0) + (-50f64).exp()).abs() < 1e-30);
/// ```
pub fn ln_1m_exp(x: f64) -> f64 {
    if x > 0.0 {
        f64::NAN
    } else if x > -std::f64::consts::LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// ln Σ eˣⁱ over a slice, without overflow; −inf for an empty slice.
///
/// ```
/// use customer_assets::advanced::log_sum_exp_slice;
/// assert!((log_sum_exp_slice(&[0.0, 0.0, 0.0]) - 3f64.ln()).abs() < 1e-12);
/// ```
pub fn log_sum_exp_slice(values: &[f64]) -> f64 {
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !hi.is_finite() {
        return hi;
    }
    hi + values.iter().map(|v| (v - hi).exp()).sum::<f64>().ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_helpers() {
        assert_eq!(
            log_sum_exp(f64::NEG_INFINITY, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert_eq!(log_diff_exp(3.0, 3.0), f64::NEG_INFINITY);
        assert!((ln_1m_exp(-1.0) - (1.0 - (-1f64).exp()).ln()).abs() < 1e-15);
        assert_eq!(log_sum_exp_slice(&[]), f64::NEG_INFINITY);
        assert!((log_sum_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
        assert!((inv_one_plus_exp(800.0)).abs() < 1e-300);
        assert!((inv_one_plus_exp(-800.0) - 1.0).abs() < 1e-15);
        assert!((one_minus_exp_over(1e-14, 2.0) - 2.0).abs() < 1e-12);
        assert!((one_minus_exp_over(0.5, 2.0) - (1.0 - (-1f64).exp()) / 0.5).abs() < 1e-15);
        assert!((ln_beta(2.0, 3.0) - (1.0f64 / 12.0).ln()).abs() < 1e-14);
    }
}
