//! ₂F₁(a, b; a + 1; z), the function of the Pareto/NBD likelihood: coefficient tables built once
//! and evaluated as polynomials, with a fallback to the general ₂F₁.

use super::hyp2f1::{ln_hyp2f1_grad, SpecialError, TAIL_TOLERANCE};
use super::near_one::ln_hyp2f1_a_plus_one_near_one;

/// Largest |z| for which the fast path of [`ln_hyp2f1_a_plus_one_grad`] sums the series, and the
/// most negative z [`APlusOneSeries`] is built for: its terms then shrink at least by half per
/// term, so at most about 70 are needed, and for z < 0, where they alternate, at most a factor 3
/// is lost to cancellation.
pub(crate) const A_PLUS_ONE_MAX_Z: f64 = 0.5;

/// Largest positive z [`APlusOneSeries`] is built for: about 460 terms (all positive), a quarter
/// of a microsecond per evaluation where the near-one forms take a few microseconds; beyond it the
/// Pareto/NBD likelihood uses those.
pub(crate) const A_PLUS_ONE_TABLE_MAX_Z: f64 = 0.9;

/// Most rows an [`APlusOneSeries`] table may have (z = 0.9 needs about 460).
const A_PLUS_ONE_MAX_TERMS: usize = 1024;

/// ₂F₁(a, b; a + 1; z) through Euler's transformation, (1 − z)^(1 − b) G(z), where
/// G(z) = ₂F₁(1, d; e; z) = Σₖ (d)ₖ / (e)ₖ zᵏ with d = a + 1 − b and e = a + 1 = d + b.
///
/// With d, b > 0 each term is at most |z| times the previous one, so the series converges
/// geometrically whatever the size of a and b (heavy Pareto/NBD buyers included). The
/// coefficients (d)ₖ / (e)ₖ and those of the derivatives do not depend on z: they are tabulated
/// once, and every evaluation is a division-free polynomial in z, stopped by a rigorous tail bound.
/// This is the ₂F₁ of the Pareto/NBD likelihood, where d, b, e are fixed per frequency x and z
/// varies per customer.
#[derive(Debug, Clone)]
pub(crate) struct APlusOneSeries {
    b: f64,
    e: f64,
    /// Per k: (d)ₖ/(e)ₖ; its derivative in e (d fixed); its derivative moving d and e together
    /// (b fixed); (k+1) times the next coefficient (for ∂/∂z); and the tail-bound weight.
    coef: Vec<[f64; 5]>,
}

/// G(z) of [`APlusOneSeries`] and its partial derivatives (not divided by G).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct APlusOneValue {
    /// G(z).
    pub g: f64,
    /// G(z) − 1, accurate for small z.
    pub g_minus_one: f64,
    /// ∂G/∂e with d fixed.
    pub de: f64,
    /// ∂G/∂d + ∂G/∂e (d and e moving together, b = e − d fixed).
    pub shift: f64,
    /// ∂G/∂z.
    pub dz: f64,
}

impl APlusOneSeries {
    /// Tables for G = ₂F₁(1, d; d + b; ·), long enough for arguments up to |`z_max`| in absolute
    /// value, for `z_max` from −[`A_PLUS_ONE_MAX_Z`] to [`A_PLUS_ONE_TABLE_MAX_Z`] (a negative
    /// `z_max` limits arguments to that range of negative z). Errors for d or b not finite and
    /// positive, or `z_max` outside that range.
    pub(crate) fn new(d: f64, b: f64, z_max: f64) -> Result<Self, SpecialError> {
        let e = d + b;
        let (a, c) = (e - 1.0, e);
        if !(d.is_finite() && d > 0.0 && b.is_finite() && b > 0.0 && e.is_finite()) {
            return Err(SpecialError::Domain {
                a,
                b,
                c,
                z: z_max,
                reason: "the c = a + 1 series needs a + 1 - b > 0 and b > 0",
            });
        }
        if !(-A_PLUS_ONE_MAX_Z..=A_PLUS_ONE_TABLE_MAX_Z).contains(&z_max) {
            return Err(SpecialError::Domain {
                a,
                b,
                c,
                z: z_max,
                reason: "the c = a + 1 series is used for -0.5 <= z <= 0.9 only",
            });
        }
        let z_max = z_max.abs();
        let threshold = TAIL_TOLERANCE * (1.0 - z_max).powi(3);
        let mut coef = Vec::with_capacity(64);
        // c_k = (d)_k/(e)_k, e_k = Σ_{j<k} 1/(e+j), s_k = Σ_{j<k} 1/((d+j)(e+j)):
        // ∂c_k/∂e = -c_k e_k and (∂/∂d + ∂/∂e) c_k = c_k Σ_{j<k} (1/(d+j) - 1/(e+j)) = b c_k s_k.
        let (mut c_k, mut e_k, mut s_k) = (1.0_f64, 0.0_f64, 0.0_f64);
        let mut pow = 1.0_f64; // z_max^(k-1) at term k, as in `eval`
        let tail_extra = 1.0 / d + 1.0 / e + 2.0;
        for k in 0..A_PLUS_ONE_MAX_TERMS {
            let kf = k as f64;
            let (dk, ek) = (d + kf, e + kf);
            let inv = 1.0 / (dk * ek);
            let next = c_k * (dk * dk * inv);
            // The tail after term k, for the value and each derivative sum, is below
            // |t_k| (k + 2 + e_k + b s_k + 1/d + 1/e) / (1 - |z|)^2 (terms shrink by |z| at least,
            // e_j and s_j grow by at most 1/e and 1/(d e) per term); G >= 1 - |z|.
            let weight = c_k * (kf + tail_extra + e_k + b * s_k);
            coef.push([c_k, -c_k * e_k, b * c_k * s_k, (kf + 1.0) * next, weight]);
            c_k = next;
            e_k += dk * inv;
            s_k += inv;
            if k > 0 {
                if weight * pow <= threshold {
                    break;
                }
                pow *= z_max;
            }
        }
        Ok(APlusOneSeries { b, e, coef })
    }

    /// G(z) and its derivatives; [`SpecialError::NotConverged`] when |z| exceeds the `z_max` the
    /// tables were built for (the tables run out before the tail bound is met) or z < −½.
    #[inline]
    pub(crate) fn eval(&self, z: f64) -> Result<APlusOneValue, SpecialError> {
        if z < -A_PLUS_ONE_MAX_Z {
            return Err(self.not_converged(z));
        }
        let threshold = TAIL_TOLERANCE * (1.0 - z.abs()).powi(3);
        let mut pow = 1.0_f64; // z^(k-1) at term k
        let (mut g, mut de, mut shift, mut dz) = (0.0_f64, 0.0_f64, 0.0_f64, self.coef[0][3]);
        for &[c, c_e, c_s, c_z, weight] in self.coef.iter().skip(1) {
            // Tested with z^(k-1), one power short: the z-derivative has no leading factor z.
            let converged = weight * pow.abs() <= threshold;
            let zk = pow * z;
            g += c * zk;
            de += c_e * zk;
            shift += c_s * zk;
            dz += c_z * zk;
            pow = zk;
            if converged {
                return Ok(APlusOneValue {
                    g: 1.0 + g,
                    g_minus_one: g,
                    de,
                    shift,
                    dz,
                });
            }
        }
        Err(self.not_converged(z))
    }

    #[cold]
    fn not_converged(&self, z: f64) -> SpecialError {
        SpecialError::NotConverged {
            a: self.e - 1.0,
            b: self.b,
            c: self.e,
            z,
            terms: self.coef.len() as u64,
        }
    }
}

/// ln ₂F₁(a, b; a + 1; z) and its derivatives along a (with c = a + 1 moving too), b and z, for
/// a, b > 0 and z < 1. This is the function of the Pareto/NBD likelihood (there a = r + s + x).
///
/// For |z| <= 0.5 and a + 1 > b it sums (1 − z)^(1 − b) ₂F₁(1, a + 1 − b; a + 1; z) (Euler's
/// transformation), whose terms shrink at least by |z| each, without any digamma function; for
/// ½ < z < 1 (with b > 0) it uses Gauss's continued fraction or a split of the function's
/// integral, a few hundred steps at most however close z is to 1; elsewhere, or when those do not
/// settle, it falls back to [`ln_hyp2f1_grad`] (the a-derivative is then ∂/∂a + ∂/∂c).
///
/// # Errors
/// As [`ln_hyp2f1_grad`].
///
/// ```
/// use customer_assets::advanced::{ln_hyp2f1_a_plus_one_grad, ln_hyp2f1_grad};
/// let (v, [da, db, dz]) = ln_hyp2f1_a_plus_one_grad(3.2, 1.6, 0.09)?;
/// let (w, g) = ln_hyp2f1_grad(3.2, 1.6, 4.2, 0.09)?;
/// assert!((v - w).abs() < 1e-14);
/// assert!((da - (g[0] + g[2])).abs() < 1e-14 && (db - g[1]).abs() < 1e-14);
/// assert!((dz - g[3]).abs() < 1e-13);
/// # Ok::<(), customer_assets::advanced::SpecialError>(())
/// ```
pub fn ln_hyp2f1_a_plus_one_grad(a: f64, b: f64, z: f64) -> Result<(f64, [f64; 3]), SpecialError> {
    if let Some(fast) = a_plus_one_fast(a, b, z) {
        return Ok(fast);
    }
    if z > A_PLUS_ONE_MAX_Z && z < 1.0 {
        // 1 − z is exact for z in [½, 1].
        if let Ok(near) = ln_hyp2f1_a_plus_one_near_one(a, b, 1.0 - z) {
            return Ok(near);
        }
    }
    let (v, [ga, gb, gc, gz]) = ln_hyp2f1_grad(a, b, a + 1.0, z)?;
    Ok((v, [ga + gc, gb, gz]))
}

/// The fast path of [`ln_hyp2f1_a_plus_one_grad`]; `None` outside its domain.
fn a_plus_one_fast(a: f64, b: f64, z: f64) -> Option<(f64, [f64; 3])> {
    if !(a.is_finite() && a > 0.0 && z.is_finite() && z.abs() <= A_PLUS_ONE_MAX_Z) {
        return None;
    }
    let d = a + 1.0 - b;
    let series = APlusOneSeries::new(d, b, z).ok()?;
    let v = series.eval(z).ok()?;
    // ln F = (1 - b) ln(1 - z) + ln G, G = 2F1(1, d; a + 1; z): ∂/∂a moves d and e = a + 1,
    // ∂/∂b moves d the other way (∂G/∂d = shift - ∂G/∂e).
    let ln1mz = (-z).ln_1p();
    let value = (1.0 - b) * ln1mz + v.g_minus_one.ln_1p();
    let grads = [
        v.shift / v.g,
        -ln1mz - (v.shift - v.de) / v.g,
        (b - 1.0) / (1.0 - z) + v.dz / v.g,
    ];
    (value.is_finite() && grads.iter().all(|g| g.is_finite())).then_some((value, grads))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The c = a + 1 series against the general routine on a grid of (a, b, z): values and
    /// gradients to 1e-12 relative (plus a few ulps absolute, for values near zero).
    #[test]
    fn a_plus_one_series_matches_the_general_routine() {
        let zs = [
            -0.5, -0.4999, -0.3, -0.09, -1e-3, -1e-9, 0.0, 1e-9, 1e-3, 0.024, 0.09, 0.3, 0.4999,
            0.5,
        ];
        let mut checked = 0;
        for a in [0.05, 0.7, 1.159, 3.2, 50.5, 1000.5, 10_001.159] {
            for b in [0.3, 1.0, 1.606, 2.553, 0.5 * a, a, a + 0.9] {
                for z in zs {
                    if b >= a + 1.0 {
                        // d = a + 1 - b <= 0: outside the fast path's domain.
                        assert!(a_plus_one_fast(a, b, z).is_none());
                        continue;
                    }
                    let fast = a_plus_one_fast(a, b, z).unwrap_or_else(|| {
                        panic!("no fast path at a {a} b {b} z {z}");
                    });
                    let (v, [ga, gb, gc, gz]) = ln_hyp2f1_grad(a, b, a + 1.0, z).unwrap();
                    // For a in the thousands and z < 0 the general routine's Pfaff transform
                    // itself is only good to a few 1e-12 (mpmath agrees with the fast series
                    // there: see the golden test below).
                    let rel_tol = if a > 500.0 && z < 0.0 { 1e-11 } else { 1e-12 };
                    let close = |got: f64, want: f64, scale: f64, what: &str| {
                        let tol = rel_tol * want.abs().max(scale) + 4.0 * f64::EPSILON;
                        assert!(
                            (got - want).abs() <= tol,
                            "{what} at a {a} b {b} z {z}: {got} vs {want}"
                        );
                    };
                    close(fast.0, v, 0.0, "value");
                    // ga + gc cancels in the general routine: its error scales with |ga|.
                    close(fast.1[0], ga + gc, ga.abs(), "d/da");
                    close(fast.1[1], gb, 0.0, "d/db");
                    close(fast.1[2], gz, 0.0, "d/dz");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 45 * zs.len());
    }

    /// Tables built up to z = 0.9 (the Pareto/NBD rows between ½ and 0.9) against the general
    /// routine: values to 1e-13, derivatives to 1e-11 (of their scale).
    #[test]
    fn tables_up_to_nine_tenths_match_the_general_routine() {
        let mut checked = 0;
        for (d, b) in [
            (0.05, 0.3),
            (1.553, 1.606),
            (3.2, 0.5),
            (221.5, 1.6),
            (1.6, 1000.0),
        ] {
            let series = APlusOneSeries::new(d, b, A_PLUS_ONE_TABLE_MAX_Z).unwrap();
            let a = d + b - 1.0;
            for z in [0.51, 0.7, 0.85, 0.9] {
                let v = series.eval(z).unwrap();
                let (want, [ga, gb, gc, gz]) = ln_hyp2f1_grad(a, b, a + 1.0, z).unwrap();
                // ln F = (1 − b) ln(1 − z) + ln G; ∂/∂a moves d and e, ∂/∂b moves d the other way.
                let ln1mz = (-z).ln_1p();
                let got = (1.0 - b) * ln1mz + v.g.ln();
                assert!(
                    (got - want).abs() <= 1e-13 * want.abs().max(1.0),
                    "{d} {b} {z}"
                );
                let grads = [
                    v.shift / v.g,
                    -ln1mz - (v.shift - v.de) / v.g,
                    (b - 1.0) / (1.0 - z) + v.dz / v.g,
                ];
                let want_grads = [ga + gc, gb, gz];
                for k in 0..3 {
                    let scale = want_grads[k].abs().max(ga.abs()).max(1.0);
                    assert!(
                        (grads[k] - want_grads[k]).abs() <= 1e-11 * scale,
                        "{d} {b} {z} gradient {k}: {} vs {}",
                        grads[k],
                        want_grads[k]
                    );
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 20);
    }

    /// The c = a + 1 series against mpmath (scripts/golden_a_plus_one.py, 50 digits).
    #[test]
    #[allow(clippy::excessive_precision)]
    fn a_plus_one_series_matches_mpmath() {
        let cases: [(f64, f64, f64, f64, [f64; 3]); 10] = [
            (
                1.1590000000000000302,
                0.55300000000000004707,
                0.089999999999999996669,
                0.027686310246952010338,
                [
                    0.011112102116132989602,
                    0.050259653120133377297,
                    0.31897329583328408846,
                ],
            ),
            (
                1.1590000000000000302,
                1.6060000000000000941,
                0.023400000000000000661,
                0.020394199222596005389,
                [
                    0.0081301038310280274852,
                    0.01273418984114374974,
                    0.88110004155380480251,
                ],
            ),
            (
                3.1589999999999998082,
                2.5529999999999999361,
                0.2999999999999999889,
                0.68251704679267067533,
                [
                    0.050144762973166024576,
                    0.27320770338733276632,
                    2.6975584052642858541,
                ],
            ),
            (
                3.1589999999999998082,
                1.6060000000000000941,
                -0.4000000000000000222,
                -0.41857584575135257086,
                [
                    -0.0314293224997830134,
                    -0.25760239893880159028,
                    0.90563250358721790079,
                ],
            ),
            (
                222.15899999999999181,
                221.55299999999999727,
                0.0094999999999999997641,
                2.1053378123873369315,
                [
                    0.000042268820958182749182,
                    0.0095028376101521478472,
                    222.6755470788606028,
                ],
            ),
            (
                222.15899999999999181,
                1.6060000000000000941,
                0.4500000000000000111,
                0.95427625302672663919,
                [
                    0.000026046274034403348384,
                    0.5942048943041092584,
                    2.8965162881728286087,
                ],
            ),
            (
                10001.158999999999651,
                0.2999999999999999889,
                -0.5,
                -0.12162953420782952292,
                [
                    -9.9964495259883614193e-10,
                    -0.40543178052617925429,
                    0.19998666852292966304,
                ],
            ),
            (
                10001.158999999999651,
                10000.552999999999884,
                0.0240000000000000005,
                242.91607071045197966,
                [
                    2.3991116767009813589e-6,
                    0.024290293072090911362,
                    10245.44380810770655,
                ],
            ),
            (
                0.050000000000000002776,
                0.2999999999999999889,
                0.5,
                0.0087478131546295836949,
                [
                    0.16674250583493198637,
                    0.030543377942960117177,
                    0.022042156118395431025,
                ],
            ),
            (
                50.5,
                25.25,
                -9.9999999999999995475e-7,
                -0.000024759696478210600798,
                [
                    -9.5202139239046004552e-9,
                    -9.8058203416224809634e-7,
                    24.759684218565258479,
                ],
            ),
        ];
        for (a, b, z, want, grad) in cases {
            let (v, g) = a_plus_one_fast(a, b, z).unwrap();
            assert!(
                (v - want).abs() <= 1e-13 * want.abs(),
                "value at a {a} b {b} z {z}: {v} vs {want}"
            );
            for k in 0..3 {
                assert!(
                    (g[k] - grad[k]).abs() <= 1e-13 * grad[k].abs() + 1e-18,
                    "gradient {k} at a {a} b {b} z {z}: {} vs {}",
                    g[k],
                    grad[k]
                );
            }
        }
    }

    #[test]
    fn a_plus_one_switches_to_the_general_routine_beyond_half() {
        // Below −½ the general routine; above ½ the near-one forms, which agree with it.
        for (a, b, z) in [(3.2, 1.6, -0.7), (3.2, 1.6, 0.5001), (50.5, 2.6, 0.98)] {
            assert!(a_plus_one_fast(a, b, z).is_none());
            let (v, g) = ln_hyp2f1_a_plus_one_grad(a, b, z).unwrap();
            let (w, h) = ln_hyp2f1_grad(a, b, a + 1.0, z).unwrap();
            let want = [h[0] + h[2], h[1], h[3]];
            if z < 0.0 {
                assert_eq!((v, g), (w, want));
            } else {
                assert_eq!(
                    (v, g),
                    ln_hyp2f1_a_plus_one_near_one(a, b, 1.0 - z).unwrap()
                );
                assert!((v - w).abs() <= 1e-13 * w.abs(), "{v} vs {w}");
                for k in 0..3 {
                    assert!((g[k] - want[k]).abs() <= 1e-11 * want[k].abs().max(1.0));
                }
            }
        }
        // Tables built for |z| <= 0.1 run out for larger z: an error, never a partial sum.
        let series = APlusOneSeries::new(1.6, 2.553, 0.1).unwrap();
        assert!(series.eval(0.1).is_ok());
        assert!(matches!(
            series.eval(0.45),
            Err(SpecialError::NotConverged { .. })
        ));
        assert!(APlusOneSeries::new(1.6, 2.553, 0.95).is_err());
        assert!(APlusOneSeries::new(1.6, 2.553, -0.6).is_err());
        // Below −½ the terms alternate and cancel: never from a table.
        let wide = APlusOneSeries::new(1.6, 2.553, 0.9).unwrap();
        assert!(wide.eval(0.9).is_ok() && wide.eval(-0.5).is_ok());
        assert!(wide.eval(-0.7).is_err());
        assert!(APlusOneSeries::new(0.0, 2.553, 0.1).is_err());
        assert!(APlusOneSeries::new(1.0, f64::NAN, 0.1).is_err());
        assert!(ln_hyp2f1_a_plus_one_grad(1.0, 2.0, 1.0).is_err());
    }
}
