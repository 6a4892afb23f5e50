//! The special function of the Pareto/NBD DERT: Tricomi's U on its diagonal, through the scaled
//! upper incomplete gamma function.

use statrs::function::gamma::ln_gamma;

use crate::models::btyd::finite;
use crate::models::error::PredictError;

/// e^z z^(-a) Γ(a, z) for real a < 1 and z > 0 (the scaled upper incomplete gamma function):
/// a continued fraction for z >= 2; for z < 2 a series around a₀ = a + m in (-1/2, 1) written so
/// that it does not cancel near a₀ = 0 (Temme's form), then the recurrence
/// G(a) = (z G(a+1) - 1) / a down to a.
pub(super) fn scaled_upper_gamma(a: f64, z: f64) -> Result<f64, PredictError> {
    let fail = |detail: String| PredictError::Numerical {
        what: "incomplete gamma",
        detail,
    };
    if !(a.is_finite() && a < 1.0 && z.is_finite() && z > 0.0) {
        return Err(fail(format!("needs a < 1 and z > 0, got a = {a}, z = {z}")));
    }
    // The continued fraction converges fast for z >= 2, and for any z once a is far below 0
    // (its denominators z + 2i + 1 − a are then large); the series and the upward recurrence
    // serve the rest, in at most MAX_RECURRENCE_STEPS steps.
    if z >= 2.0 || a < -MAX_RECURRENCE_STEPS {
        return continued_fraction(a, z);
    }
    // m ≤ MAX_RECURRENCE_STEPS + 1 here: a whole number of f64 steps, no integer conversion.
    let m = if a > -0.5 {
        0.0
    } else {
        (-0.5 - a).floor() + 1.0
    };
    let a0 = a + m;
    // (Γ(1+a0) - 1) / a0
    let gamma_term = if a0.abs() < 1e-4 {
        const EULER: f64 = 0.577_215_664_901_532_9;
        const ZETA2: f64 = 1.644_934_066_848_226_4;
        const ZETA3: f64 = 1.202_056_903_159_594_3;
        let l = -EULER * a0 + ZETA2 / 2.0 * a0 * a0 - ZETA3 / 3.0 * a0 * a0 * a0;
        if l == 0.0 {
            -EULER
        } else {
            l.exp_m1() / a0
        }
    } else {
        ln_gamma(1.0 + a0).exp_m1() / a0
    };
    // (z^a0 - 1) / a0
    let lz = z.ln();
    let y = a0 * lz;
    let power_term = if y == 0.0 { lz } else { lz * (y.exp_m1() / y) };
    let mut sum = 0.0;
    let mut term = 1.0;
    for i in 1..200 {
        let fi = f64::from(i);
        term *= -z / fi;
        let add = term / (a0 + fi);
        sum += add;
        if add.abs() <= 1e-17 * sum.abs() {
            break;
        }
    }
    let upper = gamma_term - power_term - z.powf(a0) * sum;
    let mut g = z.exp() * z.powf(-a0) * upper;
    let mut ai = a0;
    while ai > a + 0.5 {
        ai -= 1.0;
        g = (z * g - 1.0) / ai;
    }
    finite("incomplete gamma", g)
}

/// Below a = −MAX_RECURRENCE_STEPS, [`scaled_upper_gamma`] takes the continued fraction for
/// every z instead of as many recurrence steps (s = 1e300 once asked for 1e300 of them, after
/// overflowing an integer).
const MAX_RECURRENCE_STEPS: f64 = 64.0;

/// Most terms of the continued fraction before it is reported as not converged.
const MAX_FRACTION_TERMS: u32 = 10_000;

/// e^z z^(-a) Γ(a, z) by the modified Lentz algorithm on Legendre's continued fraction
/// Γ(a,z) = e^-z z^a / (z+1-a- 1(1-a)/(z+3-a- 2(2-a)/(z+5-a- ...))).
fn continued_fraction(a: f64, z: f64) -> Result<f64, PredictError> {
    const TINY: f64 = 1e-300;
    let mut b = z + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..MAX_FRACTION_TERMS {
        let fi = f64::from(i);
        let an = -fi * (fi - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-16 {
            return finite("incomplete gamma", h);
        }
    }
    Err(PredictError::Numerical {
        what: "incomplete gamma",
        detail: format!(
            "continued fraction did not converge in {MAX_FRACTION_TERMS} terms (a = {a:.3e}, z = {z:.3e})"
        ),
    })
}

/// Tricomi's confluent hypergeometric function of the second kind on its diagonal, U(a, a, z),
/// for a > 0 and z > 0: U(a, a, z) = e^z Γ(1 - a, z) (DLMF 13.6.6). This is the Ψ(s, s; ·) of the
/// Pareto/NBD DERT (Fader, Hardie & Lee 2005, "RFM and CLV").
///
/// # Errors
/// [`PredictError::InvalidInput`] when a or z is not finite and positive;
/// [`PredictError::Numerical`] when the incomplete gamma function does not converge or the value
/// is not finite.
///
/// ```
/// use customer_assets::models::pareto_nbd::tricomi_u_diagonal;
/// // U(1, 1, z) = e^z E₁(z); mpmath.hyperu(1, 1, 0.5) = 0.922910632483730...
/// assert!((tricomi_u_diagonal(1.0, 0.5)? - 0.922_910_632_483_730_5).abs() < 1e-13);
/// # Ok::<(), customer_assets::PredictError>(())
/// ```
pub fn tricomi_u_diagonal(a: f64, z: f64) -> Result<f64, PredictError> {
    if !(a.is_finite() && a > 0.0) {
        return Err(PredictError::InvalidInput {
            name: "a",
            value: a,
            reason: "must be finite and positive",
        });
    }
    if !(z.is_finite() && z > 0.0) {
        return Err(PredictError::InvalidInput {
            name: "z",
            value: z,
            reason: "must be finite and positive",
        });
    }
    // U(a, a, z) = z^(1-a) G(1-a, z)
    finite(
        "tricomi U",
        ((1.0 - a) * z.ln() + scaled_upper_gamma(1.0 - a, z)?.ln()).exp(),
    )
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    #[test]
    fn tricomi_u_matches_mpmath() {
        // scripts/btyd_golden.py: mpmath.hyperu(s, s, z) at 60 digits
        let cases = [
            (0.606, 0.0221, 1.728_917_751_886_742_2),
            (0.606, 3.5, 0.409_655_014_563_817_05),
            (1.0, 0.5, 0.922_910_632_483_730_47),
            (1.000_001, 0.2, 1.493_349_733_479_221_1),
            (2.5, 0.01, 655.451_904_835_089_86),
            (0.2, 50.0, 0.455_517_915_552_179_38),
            (7.3, 1.7, 0.004_294_823_435_908_285_7),
            (0.5, 2.0, 0.595_906_078_825_865_01),
        ];
        for (s, z, want) in cases {
            let got = tricomi_u_diagonal(s, z).unwrap();
            assert!(
                ((got - want) / want).abs() < 1e-11,
                "U({s},{s},{z}) = {got}, want {want}"
            );
        }
        assert!(tricomi_u_diagonal(0.0, 1.0).is_err());
        assert!(tricomi_u_diagonal(1.0, 0.0).is_err());
    }

    /// Past a = −64 the continued fraction serves every z; it agrees with the series and
    /// recurrence through G(a) = (z G(a+1) − 1)/a, and a = 1 − 1e300 (s = 1e300, which once
    /// overflowed the step count) is finite.
    #[test]
    fn far_negative_a_takes_the_continued_fraction() {
        for z in [1e-3, 0.5, 1.9] {
            for a in [-64.3, -64.9, -80.5] {
                let below = scaled_upper_gamma(a, z).unwrap();
                let above = scaled_upper_gamma(a + 1.0, z).unwrap();
                let want = (z * above - 1.0) / a;
                assert!(
                    (below - want).abs() < 1e-13 * want.abs(),
                    "{a} {z}: {below} vs {want}"
                );
            }
            let g = scaled_upper_gamma(1.0 - 1e300, z).unwrap();
            assert!(g > 0.0 && (g * 1e300 - 1.0).abs() < 1e-12, "{g:e}");
        }
    }
}
