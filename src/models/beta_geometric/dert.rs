//! Discounted expected residual transactions (DERT) of a beta-geometric customer alive at T, in
//! closed form.
//!
//! Alive at T, the customer buys at a rate λ ~ gamma(k, A) and drops out after each purchase
//! with probability p ~ beta(a, b), so given (λ, p) the death time is exponential with rate pλ
//! and the discounted purchases at continuous rate δ are λ/(δ + pλ). With Λ = Aλ ~ gamma(k, 1)
//! and z = δA:
//!
//! D(k, a, b, z) = E[Λ/(z + pΛ)] = k ∫₀^∞ e^(−zs) ₂F₁(k+1, a; a+b; −s) ds.
//!
//! Closing the Mellin–Barnes integral of that Laplace transform on its left poles (s = −1−n,
//! −a−n, −k−1−n) gives three everywhere-convergent series:
//!
//! ```text
//! D = (a+b−1)/(a−1) ₂F₂(1, 2−a−b; 1−k, 2−a; z)
//!   + Γ(1−a) Γ(a+b)/Γ(b) Γ(k+1−a)/Γ(k) z^(a−1) ₁F₁(1−b; a−k; z)
//!   − Γ(1−k) Γ(a−k−1) Γ(a+b) / (Γ(a) Γ(a+b−k−1)) z^k ₁F₁(2+k−a−b; 2+k−a; z).
//! ```
//!
//! The coefficients depend on the customer only through x (k and b), so a batch computes them
//! once per frequency (the module `dert_batch`), and each customer costs three short series
//! in z. Near an integer a, k or
//! k − a two of the terms grow like 1/distance and cancel, and for large z (or z b/k) the series
//! cancel like e^z: every evaluation therefore carries a running bound on its rounding error
//! (coefficients, series terms, sums, truncation) and is refused when that bound exceeds
//! [`DERT_TOLERANCE`] of the result; the caller then integrates instead.

use statrs::function::gamma::ln_gamma;

use crate::special::ln_gamma_ratio;

/// Largest relative error bound [`DertTerms::evaluate`] accepts. Its bound is a worst case
/// (every rounding adding up); the values it passes agree with 50-digit references to a few
/// 1e-14 (tests/it/dert.rs).
pub(super) const DERT_TOLERANCE: f64 = 1e-11;

/// Most terms a series may take. A series must run past its denominator's sign changes
/// (n > k − 1 for the first, n > k − a for the second) before its tail can be bounded, so this
/// covers frequencies up to about 2.4e5 (with r up to 1e4); heavier buyers are integrated.
pub(super) const MAX_SERIES_TERMS: u32 = 250_000;

/// Relative error bound of statrs' `ln_gamma` (Lanczos approximation), per unit of the value's
/// magnitude, with an absolute floor: generous against its documented ~1e-15.
const LN_GAMMA_ERROR: f64 = 1e-14;

/// Unit roundoff of f64.
const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Below this a term's magnitude e^(ln) underflows: the term is left out, and its whole size
/// counted as error.
const LN_NEGLIGIBLE: f64 = -700.0;

/// sin(πx) with the argument reduced exactly first (x − 2 round(x/2) is exact in floating
/// point), so that large k keep the distance to the nearest integer.
fn sin_pi(x: f64) -> f64 {
    let r = x - 2.0 * (0.5 * x).round(); // in [−1, 1]
    let folded = if r > 0.5 {
        1.0 - r
    } else if r < -0.5 {
        -1.0 - r
    } else {
        r
    };
    (std::f64::consts::PI * folded).sin()
}

/// A logarithm of a magnitude with its sign and an absolute error bound on the logarithm.
#[derive(Debug, Clone, Copy)]
struct SignedLn {
    ln: f64,
    sign: f64,
    error: f64,
}

impl SignedLn {
    fn mul(self, other: SignedLn) -> SignedLn {
        let ln = self.ln + other.ln;
        SignedLn {
            ln,
            sign: self.sign * other.sign,
            error: self.error + other.error + UNIT_ROUNDOFF * ln.abs(),
        }
    }

    fn inv(self) -> SignedLn {
        SignedLn {
            ln: -self.ln,
            ..self
        }
    }
}

/// ln|Γ(x)| with the sign of Γ(x), for x not a non-positive integer (None there); negative x by
/// the reflection Γ(x) = π / (sin(πx) Γ(1−x)).
fn ln_gamma_signed(x: f64) -> Option<SignedLn> {
    if x > 0.0 {
        let ln = ln_gamma(x);
        return Some(SignedLn {
            ln,
            sign: 1.0,
            error: LN_GAMMA_ERROR * (ln.abs() + 1.0),
        });
    }
    let s = sin_pi(x);
    if s == 0.0 || !x.is_finite() {
        return None;
    }
    let g = ln_gamma(1.0 - x);
    let ln = std::f64::consts::PI.ln() - s.abs().ln() - g;
    Some(SignedLn {
        ln,
        sign: s.signum(),
        // sin(πx) has a few ulps of relative error (its reduced argument is exact)
        error: LN_GAMMA_ERROR * (g.abs() + 1.0) + 8.0 * UNIT_ROUNDOFF * (ln.abs() + 1.0),
    })
}

/// ln|Γ(x + s)/Γ(x)| with its sign: for positive arguments without cancellation
/// ([`ln_gamma_ratio`], a few ulps of the result however large x is); otherwise as a difference.
fn ln_gamma_ratio_signed(x: f64, s: f64) -> Option<SignedLn> {
    if x > 0.0 && x + s > 0.0 {
        let ln = ln_gamma_ratio(x, s);
        if !ln.is_finite() {
            return None;
        }
        return Some(SignedLn {
            ln,
            sign: 1.0,
            error: 8.0 * UNIT_ROUNDOFF * (ln.abs() + 1.0),
        });
    }
    Some(ln_gamma_signed(x + s)?.mul(ln_gamma_signed(x)?.inv()))
}

/// A summed hypergeometric series with the sum of its terms' magnitudes and a bound on its
/// absolute error (rounding and truncation).
#[derive(Debug, Clone, Copy)]
struct Series {
    sum: f64,
    magnitude: f64,
    error: f64,
}

/// Σ tₙ with t₀ = 1 and tₙ₊₁ = tₙ z (n+α) / ((n+β)(n+γ)), z ≥ 0: ₁F₁(α; β; z) with γ = 1, and
/// ₂F₂(1, α; β, γ; z) as it is.
///
/// Once n + β > 0 and n + γ > 0, every later ratio is at most ρ = z max(1, (n+|α|)/(n+β)) / (n+γ)
/// ((m+|α|)/(m+β) is monotone in m and tends to 1), so the tail after tₙ is at most
/// |tₙ| ρ/(1−ρ); summing stops when that is below [`TAIL_SHARE`] of the magnitude sum, and the bound is
/// added to the error. The rounding error is bounded as it runs: a step multiplies tₙ by a ratio
/// with at most [`STEP_ROUNDINGS`] roundings, and by up to η_p/|n+p| more for each parameter p = α, β, γ whose
/// computed value carries an absolute error η_p (they are sums such as 2 − a − b); a partial sum
/// adds at most min(u |sum|, |tₙ|) (rounding to nearest never moves further than the addend).
/// None when a denominator vanishes, a term is not finite, or [`MAX_SERIES_TERMS`] terms do not
/// reach the tail bound.
fn series(
    z: f64,
    [alpha, beta, gamma]: [f64; 3],
    [eta_alpha, eta_beta, eta_gamma]: [f64; 3],
) -> Option<Series> {
    let (mut term, mut sum, mut magnitude, mut error) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    // relative error bound of the current term
    let mut term_error = 0.0f64;
    let abs_alpha = alpha.abs();
    for n in 0..MAX_SERIES_TERMS {
        let nf = f64::from(n);
        sum += term;
        let size = term.abs();
        magnitude += size;
        // (a term that is exactly 0 ends a terminating series and has no error)
        if term != 0.0 {
            error += term_error * size + (UNIT_ROUNDOFF * sum.abs()).min(size);
        }
        let (alpha_n, beta_n, gamma_n) = (nf + alpha, nf + beta, nf + gamma);
        // The tail test costs two divisions: only once the term is small enough to pass it.
        if size <= magnitude * TAIL_SHARE && beta_n > 0.0 && gamma_n > 0.0 {
            let rho = z * (nf + abs_alpha).max(beta_n) / (beta_n * gamma_n);
            if rho < 1.0 {
                let tail = size * rho / (1.0 - rho);
                if tail <= magnitude * TAIL_SHARE {
                    return Some(Series {
                        sum,
                        magnitude: magnitude + tail,
                        error: error + tail,
                    });
                }
            }
        }
        if alpha_n == 0.0 {
            term = 0.0;
            continue;
        }
        // One division for the ratio z α_n / (β_n γ_n) and for the parameters' error terms
        // η_p / |n + p|.
        let product = beta_n * gamma_n;
        let inverse = 1.0 / (alpha_n * product);
        term *= z * alpha_n * alpha_n * inverse;
        if !term.is_finite() {
            return None;
        }
        if term != 0.0 {
            term_error += STEP_ROUNDINGS * UNIT_ROUNDOFF
                + inverse.abs()
                    * (eta_alpha * product.abs()
                        + (eta_beta * gamma_n.abs() + eta_gamma * beta_n.abs()) * alpha_n.abs());
        }
    }
    None
}

/// Share of the magnitude sum below which a series' tail bound must fall: 2⁻⁶⁰.
const TAIL_SHARE: f64 = 8.673_617_379_884_035e-19;

/// Roundings in one step of [`series`]: three sums n + p, three products, one division and the
/// product with the term, with one to spare.
const STEP_ROUNDINGS: f64 = 9.0;

/// The per-frequency constants of the closed form for one (k, a, b).
#[derive(Debug, Clone, Copy)]
pub(super) struct DertTerms {
    k: f64,
    a: f64,
    b: f64,
    /// (a+b−1)/(a−1), with its relative error bound.
    c1: f64,
    c1_error: f64,
    /// Γ(1−a) Γ(a+b)/Γ(b) Γ(k+1−a)/Γ(k).
    c2: SignedLn,
    /// −Γ(1−k) Γ(a−k−1) Γ(a+b) / (Γ(a) Γ(a+b−k−1)).
    c3: SignedLn,
}

impl DertTerms {
    /// The constants, or None where one does not exist (a or k an integer: there the residue
    /// series merge into logarithmic ones, and the caller integrates).
    pub(super) fn new(k: f64, a: f64, b: f64) -> Option<DertTerms> {
        if !(k > 0.0 && a > 0.0 && b > 0.0 && k.is_finite() && a.is_finite() && b.is_finite()) {
            return None;
        }
        let c1 = (a + b - 1.0) / (a - 1.0);
        if !c1.is_finite() {
            return None;
        }
        // Γ(1−a) = π / (sin(πa) Γ(a))
        let c2 = ln_gamma_signed(1.0 - a)?
            .mul(ln_gamma_ratio_signed(b, a)?)
            .mul(ln_gamma_ratio_signed(k, 1.0 - a)?);
        // Γ(1−k) = π / (sin(πk) Γ(k)); Γ(a+b)/Γ(a+b−k−1) is a ratio with shift k+1.
        let c3 = ln_gamma_signed(1.0 - k)?
            .mul(ln_gamma_signed(a - k - 1.0)?)
            .mul(ln_gamma_ratio_signed(a + b - k - 1.0, k + 1.0)?)
            .mul(ln_gamma_signed(a)?.inv());
        let c3 = SignedLn {
            sign: -c3.sign,
            ..c3
        };
        if ![c2.ln, c3.ln]
            .iter()
            .all(|v| v.is_finite() || *v == f64::NEG_INFINITY)
        {
            return None;
        }
        Some(DertTerms {
            k,
            a,
            b,
            c1,
            c1_error: 4.0 * UNIT_ROUNDOFF,
            c2,
            c3,
        })
    }

    /// D(k, a, b, z) for z > 0, or None when the error bound exceeds [`DERT_TOLERANCE`] of the
    /// value (or a series does not converge within [`MAX_SERIES_TERMS`]).
    pub(super) fn evaluate(&self, z: f64) -> Option<f64> {
        if !(z > 0.0 && z.is_finite()) {
            return None;
        }
        let (k, a, b) = (self.k, self.a, self.b);
        let ln_z = z.ln();
        // The series parameters and the absolute error of each (sums of a, b, k and small
        // integers, one rounding per operation).
        let u = UNIT_ROUNDOFF;
        let s1 = series(
            z,
            [2.0 - a - b, 1.0 - k, 2.0 - a],
            [
                u * ((2.0 - a).abs() + (2.0 - a - b).abs()),
                u * (1.0 - k).abs(),
                u * (2.0 - a).abs(),
            ],
        )?;
        let t1 = self.c1 * s1.sum;
        let mut error = self.c1.abs() * (s1.error + s1.magnitude * self.c1_error);
        let mut value = t1;
        // The z^(a−1) and z^k terms: c e^((a−1) ln z) S, with the logarithm's error bound.
        for (c, power, [alpha, beta], [eta_alpha, eta_beta]) in [
            (
                self.c2,
                a - 1.0,
                [1.0 - b, a - k],
                [u * (1.0 - b).abs(), u * (a - k).abs()],
            ),
            (
                self.c3,
                k,
                [2.0 + k - a - b, 2.0 + k - a],
                [
                    u * ((2.0 + k).abs() + (2.0 + k - a).abs() + (2.0 + k - a - b).abs()),
                    u * ((2.0 + k).abs() + (2.0 + k - a).abs()),
                ],
            ),
        ] {
            let ln = c.ln + power * ln_z;
            let ln_error = c.error + UNIT_ROUNDOFF * (2.0 * (power * ln_z).abs() + ln.abs());
            // With β > 0 every ratio is below z max(1, |α|/β), so Σ|tₙ| ≤ e^(z max(1, |α|/β)):
            // a term that small in total is left out (the z^k term of heavy buyers).
            if beta > 0.0 && ln + z * (alpha.abs() / beta).max(1.0) < LN_NEGLIGIBLE {
                error += (ln + z * (alpha.abs() / beta).max(1.0)).exp();
                continue;
            }
            let s = series(z, [alpha, beta, 1.0], [eta_alpha, eta_beta, 0.0])?;
            let scale = ln.exp();
            if !scale.is_finite() || ln_error > 0.5 {
                return None;
            }
            value += c.sign * scale * s.sum;
            // e^(ln ± ε) = e^ln (1 ± ε e^ε), and e^ε ≤ 1 + 2ε for ε ≤ 1/2
            let relative = ln_error * (1.0 + 2.0 * ln_error) + 2.0 * UNIT_ROUNDOFF;
            error += scale * (s.error + s.magnitude * relative);
        }
        error += 2.0 * UNIT_ROUNDOFF * value.abs();
        (value > 0.0 && value.is_finite() && error <= DERT_TOLERANCE * value).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sin_pi_keeps_the_distance_to_an_integer() {
        assert_eq!(sin_pi(3.0), 0.0);
        assert!((sin_pi(100_000.25) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-11);
        assert!((sin_pi(-0.5) + 1.0).abs() < 1e-16);
        assert!((sin_pi(1.5) + 1.0).abs() < 1e-16);
    }

    #[test]
    fn signed_ln_gamma_matches_gamma_on_both_sides_of_zero() {
        for x in [-3.7, -0.4, 0.3, 2.5, 7.1] {
            let g = statrs::function::gamma::gamma(x);
            let s = ln_gamma_signed(x).unwrap();
            assert!((s.sign * s.ln.exp() / g - 1.0).abs() < 1e-13, "{x}");
        }
        assert!(ln_gamma_signed(-2.0).is_none());
    }

    #[test]
    fn series_sums_exp_and_refuses_a_vanishing_denominator() {
        // ₁F₁(1; 1; z) = e^z
        let s = series(2.5, [1.0, 1.0, 1.0], [0.0; 3]).unwrap();
        assert!((s.sum - 2.5f64.exp()).abs() <= s.error.max(1e-15));
        assert!(s.error < 1e-14 * s.sum);
        // β = −2 makes the third term divide by zero
        assert!(series(1.0, [0.5, -2.0, 1.0], [0.0; 3]).is_none());
    }

    #[test]
    fn integer_a_or_k_has_no_closed_form_here() {
        assert!(DertTerms::new(0.243, 1.0, 2.4).is_none());
        assert!(DertTerms::new(3.0, 0.8, 2.4).is_none());
        assert!(DertTerms::new(0.243, 0.793, 2.426).is_some());
    }
}
