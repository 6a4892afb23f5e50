//! Differences of ln Γ without cancellation: ln Γ(x + a) − ln Γ(x), and the log-ratio of beta
//! functions ln B(a, b + Δ) − ln B(a, b) that survival curves need.
//!
//! The plain difference of two ln Γ values keeps only the absolute precision of the larger one:
//! at x = 1e12, ln Γ(x) ≈ 2.6e13, so a difference of order one keeps three digits (or none, and
//! a survival probability comes out above 1). Here every term is proportional to the shift a.

/// Below this the ratio is shifted up by the recurrence Γ(z + 1) = z Γ(z) before Stirling's
/// series is used: at 20 its six terms are exact to about 1e-19 relative.
const STIRLING_FROM: f64 = 20.0;

/// B₂ₖ / (2k (2k − 1)) for k = 1..6: the coefficients of Stirling's series for ln Γ.
const STIRLING: [f64; 6] = [
    1.0 / 12.0,
    -1.0 / 360.0,
    1.0 / 1260.0,
    -1.0 / 1680.0,
    1.0 / 1188.0,
    -691.0 / 360_360.0,
];

/// ln Γ(x + a) − ln Γ(x) for x > 0 and x + a > 0, to a relative precision of a few ulps of the
/// result however large x is and however small a is. NaN outside that domain.
pub(crate) fn ln_gamma_ratio(x: f64, a: f64) -> f64 {
    if !(x > 0.0 && x + a > 0.0) || a.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 {
        return 0.0;
    }
    if !x.is_finite() || !a.is_finite() {
        return if a > 0.0 {
            f64::INFINITY
        } else {
            f64::NEG_INFINITY
        };
    }
    a * x.ln() + ratio_excess(x, a)
}

/// φ(x) = ln Γ(x + a) − ln Γ(x) − a ln x, small against a ln x for large x: of order a²/x
/// while a ≪ x. Finite x > 0, x + a > 0.
fn ratio_excess(x: f64, a: f64) -> f64 {
    let low = x.min(x + a);
    if low >= STIRLING_FROM {
        return stirling_excess(x, a);
    }
    // Γ(x + a)/Γ(x) = Γ(x + N + a)/Γ(x + N) · Π_{i<N} (x + i)/(x + i + a); at most 21 steps.
    let steps = (STIRLING_FROM - low).ceil();
    let mut sum = 0.0;
    let mut i = 0.0;
    while i < steps {
        sum += (a / (x + i)).ln_1p();
        i += 1.0;
    }
    stirling_excess(x + steps, a) + a * (steps / x).ln_1p() - sum
}

/// Stirling's series for φ(x) (x and x + a at least [`STIRLING_FROM`]), with u = a/x:
/// φ = a q(u) − ½ ln(1 + u) + Σ cₖ x^(1−2k) [(1 + u)^(1−2k) − 1],
/// q(u) = ((1 + u) ln(1 + u) − u)/u, every term free of cancellation.
fn stirling_excess(x: f64, a: f64) -> f64 {
    let u = a / x;
    let l = u.ln_1p();
    let mut correction = 0.0;
    let inv_x2 = 1.0 / (x * x);
    let mut power = 1.0 / x; // x^(1−2k)
    for (k, c) in STIRLING.iter().enumerate() {
        let exponent = -(2.0 * k as f64 + 1.0);
        correction += c * power * (exponent * l).exp_m1();
        power *= inv_x2;
    }
    a * q(u, l) - 0.5 * l + correction
}

/// q(u) = ((1 + u) ln(1 + u) − u)/u = Σ_{k≥2} (−u)^k / (k (k − 1) (−u)) = u/2 − u²/6 + u³/12 − …
/// for u > −1, given l = ln(1 + u): the series where the closed form cancels.
fn q(u: f64, l: f64) -> f64 {
    if u.abs() >= 0.5 {
        return ((1.0 + u) * l - u) / u;
    }
    // Σ_{k≥2} (−1)^k u^(k−1) / (k (k − 1)); |u| < 1/2 makes 60 terms ample.
    let mut sum = 0.0;
    let mut power = 1.0; // (−1)^k u^(k−1) at k = 2 is u
    let mut k = 2.0;
    while k < 62.0 {
        power *= if k == 2.0 { u } else { -u };
        let term = power / (k * (k - 1.0));
        sum += term;
        if term.abs() <= 1e-17 * sum.abs() {
            break;
        }
        k += 1.0;
    }
    sum
}

/// ln B(a, b + Δ) − ln B(a, b) for a, b > 0 and Δ ≥ 0: the log-survival of the beta-geometric
/// and beta-discrete-Weibull models (Δ = t or t^c). Never positive, −∞ when Δ is infinite, and
/// exact to rounding however large b + Δ is.
pub(crate) fn ln_beta_shift(a: f64, b: f64, delta: f64) -> f64 {
    if delta == f64::INFINITY {
        return f64::NEG_INFINITY;
    }
    // ln B(a, y) = ln Γ(a) + ln Γ(y) − ln Γ(a + y). Shifting by a, the difference is
    // −[F(b + Δ) − F(b)], whose excess φ is small only while a is not far above b + Δ; there
    // shift by Δ instead: [ln Γ(b + Δ) − ln Γ(b)] − [ln Γ(a + b + Δ) − ln Γ(a + b)], two terms
    // of size Δ ln b and Δ ln(a + b) that do not cancel (at a = 6.5e5 the first form lost
    // nine digits of a log-survival of −15).
    let v = if a > b + delta {
        ln_gamma_ratio(b, delta) - ln_gamma_ratio(a + b, delta)
    } else {
        -ln_gamma_ratio_change(b, a, delta)
    };
    v.min(0.0)
}

/// F(x + Δ) − F(x) for F(y) = ln Γ(y + a) − ln Γ(y), with x > 0, x + a > 0 and Δ ≥ 0 finite:
/// F = a ln y + φ(y), so the logarithms subtract exactly as a ln(1 + Δ/x) and φ is small where
/// x is large; no cancellation of ln Γ values however large x + Δ is.
pub(crate) fn ln_gamma_ratio_change(x: f64, a: f64, delta: f64) -> f64 {
    if delta == 0.0 || a == 0.0 {
        return 0.0;
    }
    a * (delta / x).ln_1p() + ratio_excess(x + delta, a) - ratio_excess(x, a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::function::gamma::ln_gamma;

    /// The plain difference, accurate for moderate x.
    fn plain_ratio(x: f64, a: f64) -> f64 {
        ln_gamma(x + a) - ln_gamma(x)
    }

    #[test]
    fn ratio_matches_ln_gamma_where_that_is_accurate() {
        for x in [1e-6, 0.3, 1.0, 2.5, 19.9, 20.0, 35.0, 200.0] {
            for a in [1e-3, 0.5, 1.0, 3.7, 50.0, 1e4] {
                let want = plain_ratio(x, a);
                let got = ln_gamma_ratio(x, a);
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "x {x} a {a}: {got} vs {want}"
                );
            }
        }
        // Negative shifts down to x + a > 0.
        let (x, a) = (1.5, -0.9);
        assert!((ln_gamma_ratio(x, a) - plain_ratio(x, a)).abs() < 1e-13);
    }

    #[test]
    fn ratio_keeps_its_digits_for_huge_x_and_tiny_shifts() {
        // Γ(x + 1)/Γ(x) = x exactly.
        for x in [1e3, 1e8, 1e12, 1e15, 1e200] {
            let got = ln_gamma_ratio(x, 1.0);
            assert!(
                (got - x.ln()).abs() <= 4.0 * f64::EPSILON * x.ln(),
                "{x}: {got}"
            );
        }
        // a ψ(x) for tiny a: ψ(1) = −γ.
        let got = ln_gamma_ratio(1.0, 1e-12);
        assert!(
            (got / 1e-12 + 0.577_215_664_901_532_9).abs() < 1e-9,
            "{got}"
        );
    }

    #[test]
    fn beta_shift_is_the_log_survival_and_never_positive() {
        // sBG: S(t) = B(a, b + t)/B(a, b); S(1) = b/(a + b).
        let (a, b) = (0.7, 3.2);
        assert!((ln_beta_shift(a, b, 1.0) - (b / (a + b)).ln()).abs() < 1e-15);
        // Beyond 1e12 the plain difference of ln Γ has lost its digits; the recurrence is exact:
        // B(a, y + 1)/B(a, y) = y/(a + y).
        for y in [1e12, 1e13, 1e15] {
            let step = ln_beta_shift(0.5, y, 1.0);
            let want = -(0.5 / y).ln_1p();
            assert!(
                (step - want).abs() <= 1e-12 * want.abs(),
                "{y}: {step} vs {want}"
            );
            assert!(ln_beta_shift(0.5, 1.0, y) < ln_beta_shift(0.5, 1.0, y - 1e-3 * y));
        }
        assert_eq!(ln_beta_shift(0.5, 1.0, f64::INFINITY), f64::NEG_INFINITY);
        assert_eq!(ln_beta_shift(0.5, 1.0, 0.0), 0.0);
        // a far above b + Δ: one step of Δ = 1 is exactly b/(a + b).
        let (a, b): (f64, f64) = (651_817.190_834_984_4, 2.855_600_304_451_016_8);
        let want = (b / (a + b)).ln();
        assert!((ln_beta_shift(a, b, 1.0) - want).abs() < 1e-14 * want.abs());
    }

    #[test]
    fn beta_shift_matches_ln_gamma_where_that_is_accurate() {
        let ln_beta = |a: f64, b: f64| ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
        for a in [1e-4, 0.3, 5.0, 1e3] {
            for b in [1e-3, 0.5, 30.0, 1e4] {
                for delta in [1e-3, 0.5, 3.0, 100.0, 1e5] {
                    let want = ln_beta(a, b + delta) - ln_beta(a, b);
                    let got = ln_beta_shift(a, b, delta);
                    // The plain difference itself loses the ulps of ln Γ(b + Δ).
                    let plain_error = 4.0 * f64::EPSILON * ln_gamma(a + b + delta).abs();
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0) + plain_error,
                        "a {a} b {b} Δ {delta}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
