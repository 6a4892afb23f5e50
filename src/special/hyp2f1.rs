//! The Gauss hypergeometric function ₂F₁ as its logarithm, with analytic partial derivatives.
//!
//! ₂F₁ is summed as its power series after a transformation that keeps the series argument in
//! [0, 1) and its terms decaying fast:
//!
//! - z < 0: Pfaff, ₂F₁(a, b; c; z) = (1 − z)^(−a) ₂F₁(a, c − b; c; z / (z − 1)) (or the same with a
//!   and b exchanged), so the argument lands in (0, 1);
//! - 0 ≤ z < 1 with a + b − c > 0 (the function grows like (1 − z)^(c − a − b) towards z = 1): Euler,
//!   ₂F₁(a, b; c; z) = (1 − z)^(c − a − b) ₂F₁(c − a, c − b; c; z), whose terms decay like
//!   n^(c − a − b − 1) zⁿ instead of n^(a + b − c − 1) zⁿ. For the Pareto/NBD arguments
//!   ₂F₁(r + s + x, s + 1; r + s + x + 1; z) this leaves ₂F₁(1, r + x; r + s + x + 1; z), which is
//!   bounded by 1 / (1 − z) whatever x is, so heavy buyers (x in the thousands) stay finite.
//!
//! The sum stops when a rigorous bound on the remaining tail (a geometric series with the largest
//! term ratio still possible) is below 2⁻⁵³ of the partial sum. It is rescaled when it grows, so
//! results up to the largest `f64` logarithm are representable. An iteration cap of
//! [`MAX_TERMS`] turns a series that cannot converge in time into [`SpecialError::NotConverged`],
//! never into a silent partial sum.

/// Largest number of series terms summed before [`SpecialError::NotConverged`] is returned.
///
/// Enough for |z| up to about 0.9995 after the transformations (the terms decay at least like |z|ⁿ).
pub const MAX_TERMS: u64 = 500_000;

/// Relative size of the neglected tail at which a series stops.
pub(super) const TAIL_TOLERANCE: f64 = f64::EPSILON / 2.0;

/// Largest ratio of the largest term to the sum accepted (about 10 significant digits left).
const MAX_CANCELLATION: f64 = 1e5;

/// Sums larger than this are rescaled to keep intermediate values finite.
const RESCALE_ABOVE: f64 = 1e200;

/// Why a special function could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecialError {
    /// The series did not reach full precision within [`MAX_TERMS`] terms.
    #[error("2F1({a}, {b}; {c}; {z}) did not converge within {terms} terms")]
    NotConverged {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// Terms summed before giving up.
        terms: u64,
    },
    /// The arguments are outside the supported domain (non-finite, z >= 1, or c a non-positive
    /// integer).
    #[error("2F1({a}, {b}; {c}; {z}) is outside the supported domain: {reason}")]
    Domain {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The series terms cancel so much that fewer than 10 significant digits would be left.
    #[error("2F1({a}, {b}; {c}; {z}): the series loses {digits_lost:.1} digits to cancellation")]
    Cancellation {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
        /// log10 of (largest term / sum).
        digits_lost: f64,
    },
    /// ₂F₁ is zero or negative there, so it has no real logarithm.
    #[error("2F1({a}, {b}; {c}; {z}) is not positive, its logarithm is undefined")]
    NotPositive {
        /// First numerator parameter.
        a: f64,
        /// Second numerator parameter.
        b: f64,
        /// Denominator parameter.
        c: f64,
        /// Argument.
        z: f64,
    },
}

/// ln ₂F₁(a, b; c; z) for real z < 1 where ₂F₁ > 0.
///
/// # Errors
/// [`SpecialError::Domain`] for non-finite input, z ≥ 1 or c a non-positive integer;
/// [`SpecialError::NotPositive`] where ₂F₁ ≤ 0; [`SpecialError::NotConverged`] when the series
/// needs more than [`MAX_TERMS`] terms (|z| or z / (z − 1) extremely close to 1);
/// [`SpecialError::Cancellation`] when terms of mixed sign would leave fewer than 10 digits
/// (z < 0 with c below both a and b, where ₂F₁ oscillates in sign).
///
/// ```
/// use customer_assets::advanced::ln_hyp2f1;
/// // 2F1(0.5, 0.7; 2.2; 0.999) = 1.365136... (SciPy returns inf here).
/// let v = ln_hyp2f1(0.5, 0.7, 2.2, 0.999)?.exp();
/// assert!((v - 1.365136).abs() < 1e-6);
/// // A Pareto/NBD argument where Cephes-style code returns garbage: about 1.38e169.
/// let ln = ln_hyp2f1(101.16, 100.55, 102.16, 0.98)?;
/// assert!((ln / std::f64::consts::LN_10 - 169.14).abs() < 0.01);
/// # Ok::<(), customer_assets::advanced::SpecialError>(())
/// ```
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Result<f64, SpecialError> {
    evaluate(a, b, c, z, false).map(|(v, _)| v)
}

/// Value and partial derivatives of ln ₂F₁(a, b; c; z) with respect to (a, b, c, z).
///
/// The derivatives are summed termwise with the value (∂/∂a of the n-th term is the term times
/// ψ(a + n) − ψ(a) = Σₖ₌₀ⁿ⁻¹ 1/(a + k)), then carried through the same transformation as the value.
/// Same domain and errors as [`ln_hyp2f1`], and a or b must not be a non-positive integer (the
/// series then terminates, but its derivative does not).
///
/// # Errors
/// As [`ln_hyp2f1`], and [`SpecialError::Domain`] for a or b a non-positive integer.
///
/// ```
/// use customer_assets::advanced::{ln_hyp2f1, ln_hyp2f1_grad};
/// let (v, g) = ln_hyp2f1_grad(1.5, 2.0, 3.5, 0.4)?;
/// let h = 1e-6;
/// let fd = (ln_hyp2f1(1.5, 2.0, 3.5, 0.4 + h)? - ln_hyp2f1(1.5, 2.0, 3.5, 0.4 - h)?) / (2.0 * h);
/// assert!((g[3] - fd).abs() < 1e-6);
/// assert_eq!(v, ln_hyp2f1(1.5, 2.0, 3.5, 0.4)?);
/// # Ok::<(), customer_assets::advanced::SpecialError>(())
/// ```
pub fn ln_hyp2f1_grad(a: f64, b: f64, c: f64, z: f64) -> Result<(f64, [f64; 4]), SpecialError> {
    if is_non_positive_integer(a) || is_non_positive_integer(b) {
        // The series terminates, but its derivative in a or b does not.
        return Err(SpecialError::Domain {
            a,
            b,
            c,
            z,
            reason: "derivatives need a and b not to be non-positive integers",
        });
    }
    evaluate(a, b, c, z, true)
}

fn evaluate(a: f64, b: f64, c: f64, z: f64, grad: bool) -> Result<(f64, [f64; 4]), SpecialError> {
    let domain = |reason| SpecialError::Domain { a, b, c, z, reason };
    if !(a.is_finite() && b.is_finite() && c.is_finite() && z.is_finite()) {
        return Err(domain("arguments must be finite"));
    }
    if z >= 1.0 {
        return Err(domain("z must be below 1"));
    }
    if c <= 0.0 && c == c.round() {
        return Err(domain("c must not be a non-positive integer"));
    }
    let relabel = |e: SpecialError| match e {
        SpecialError::NotConverged { terms, .. } => {
            SpecialError::NotConverged { a, b, c, z, terms }
        }
        SpecialError::NotPositive { .. } => SpecialError::NotPositive { a, b, c, z },
        SpecialError::Domain { reason, .. } => domain(reason),
        SpecialError::Cancellation { digits_lost, .. } => SpecialError::Cancellation {
            a,
            b,
            c,
            z,
            digits_lost,
        },
    };
    if z >= 0.0 {
        return on_unit_interval(a, b, c, z, grad).map_err(relabel);
    }
    // Pfaff: the inner argument w = z / (z - 1) lies in (0, 1). Keep the inner numerator
    // parameters positive when possible, so the inner terms do not change sign.
    let ln1mz = (-z).ln_1p();
    let w = z / (z - 1.0);
    let dw_dz = -1.0 / ((1.0 - z) * (1.0 - z));
    let pfaff_a = || {
        let (g, d) = on_unit_interval(a, c - b, c, w, grad)?;
        let value = -a * ln1mz + g;
        let grads = [
            -ln1mz + d[0],
            -d[1],
            d[1] + d[2],
            a / (1.0 - z) + d[3] * dw_dz,
        ];
        Ok((value, grads))
    };
    let pfaff_b = || {
        let (g, d) = on_unit_interval(c - a, b, c, w, grad)?;
        let value = -b * ln1mz + g;
        let grads = [
            -d[0],
            -ln1mz + d[1],
            d[0] + d[2],
            b / (1.0 - z) + d[3] * dw_dz,
        ];
        Ok((value, grads))
    };
    // Prefer the form whose inner numerator parameters are positive (no cancellation); fall back
    // to the other when the first loses too many digits.
    let result = if c - b >= c - a { pfaff_a() } else { pfaff_b() };
    match result {
        Err(SpecialError::Cancellation { .. }) | Err(SpecialError::NotConverged { .. }) => {
            if c - b >= c - a {
                pfaff_b()
            } else {
                pfaff_a()
            }
        }
        other => other,
    }
    .map_err(relabel)
}

/// 0 <= z < 1: direct series, or Euler's transformation when the function grows towards z = 1.
fn on_unit_interval(
    a: f64,
    b: f64,
    c: f64,
    z: f64,
    grad: bool,
) -> Result<(f64, [f64; 4]), SpecialError> {
    let euler_terminates = is_non_positive_integer(c - a) || is_non_positive_integer(c - b);
    let direct_terminates = is_non_positive_integer(a) || is_non_positive_integer(b);
    // Euler only when its parameters change sign at most once (c - a, c - b > -1): more sign
    // changes mean cancellation, while the direct series with positive terms is merely slower.
    let use_euler = !direct_terminates
        && (euler_terminates || (a + b - c > 0.0 && c - a > -1.0 && c - b > -1.0));
    // Near z = 1 the series needs ~1/(1 - z) terms; the connection formula needs a few, but
    // its ln Γ of large parameters keep only their absolute precision (c = 1e6 left a DEL of
    // 1 − 2e-9 where it is 1 + 2e-10). Where the series falls fast anyway (c far above a and
    // b), it is summed first, within QUICK_TERMS.
    if !grad && z > ONE_MINUS_Z_ABOVE && !direct_terminates {
        if !use_euler {
            if let Ok(quick) = series_within(a, b, c, z, false, QUICK_TERMS) {
                return Ok(quick);
            }
        }
        if let Some(value) = one_minus_z(a, b, c, z) {
            return Ok((value, [0.0; 4]));
        }
    }
    if !use_euler {
        return series(a, b, c, z, grad);
    }
    let ln1mz = (-z).ln_1p();
    let (g, d) = series(c - a, c - b, c, z, grad)?;
    let value = (c - a - b) * ln1mz + g;
    let grads = [
        -ln1mz - d[0],
        -ln1mz - d[1],
        ln1mz + d[0] + d[1] + d[2],
        -(c - a - b) / (1.0 - z) + d[3],
    ];
    Ok((value, grads))
}

/// Terms the direct series may take near z = 1 before the connection formula is used instead.
const QUICK_TERMS: u64 = 2_000;

/// Above this z, values (not derivatives) use the 1 − z connection formula when it applies.
const ONE_MINUS_Z_ABOVE: f64 = 0.9;

/// ln |Γ(x)| and the sign of Γ(x); `None` at the poles.
fn ln_gamma_signed(x: f64) -> Option<(f64, f64)> {
    if x > 0.0 {
        return Some((statrs::function::gamma::ln_gamma(x), 1.0));
    }
    if x == x.round() {
        return None;
    }
    // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
    let sin = (std::f64::consts::PI * x).sin();
    let ln =
        std::f64::consts::PI.ln() - sin.abs().ln() - statrs::function::gamma::ln_gamma(1.0 - x);
    Some((ln, sin.signum()))
}

/// ln ₂F₁ by the connection formula in 1 − z (DLMF 15.8.4), for c − a − b not near an integer:
///
/// F = Γ(c)Γ(c−a−b)/(Γ(c−a)Γ(c−b)) F(a, b; a+b−c+1; 1−z)
///   + (1−z)^(c−a−b) Γ(c)Γ(a+b−c)/(Γ(a)Γ(b)) F(c−a, c−b; c−a−b+1; 1−z).
///
/// `None` when a Gamma function has a pole, an inner series fails, the terms cancel to fewer
/// than ten digits, or the result is not positive: the caller then sums the series directly.
fn one_minus_z(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    let s = c - a - b;
    if (s - s.round()).abs() < 1e-3 {
        return None; // Γ(c−a−b) and Γ(a+b−c) nearly cancel: the formula loses digits.
    }
    let w = 1.0 - z;
    let inner = |p: f64, q: f64, r: f64| -> Option<(f64, f64)> {
        if is_non_positive_integer(r) {
            return None;
        }
        // The inner series may change sign; `series` only sums positive values, so fall back.
        // With r far below zero its terms can underflow and grow back (c − a − b = 6323 gave
        // 3.3e200 for a ₂F₁ below 1/(1 − z)); the series then reports that it did not converge
        // and the caller falls back as well.
        series(p, q, r, w, false).ok().map(|(v, _)| (v, 1.0))
    };
    let (gc, sc) = ln_gamma_signed(c)?;
    let first = {
        let (g1, s1) = ln_gamma_signed(s)?;
        let (g2, s2) = ln_gamma_signed(c - a)?;
        let (g3, s3) = ln_gamma_signed(c - b)?;
        let (f, sf) = inner(a, b, 1.0 - s)?;
        (gc + g1 - g2 - g3 + f, sc * s1 * s2 * s3 * sf)
    };
    let second = {
        let (g1, s1) = ln_gamma_signed(-s)?;
        let (g2, s2) = ln_gamma_signed(a)?;
        let (g3, s3) = ln_gamma_signed(b)?;
        let (f, sf) = inner(c - a, c - b, 1.0 + s)?;
        (s * w.ln() + gc + g1 - g2 - g3 + f, sc * s1 * s2 * s3 * sf)
    };
    let (big, small) = if first.0 >= second.0 {
        (first, second)
    } else {
        (second, first)
    };
    // Both terms negative, or the negative one larger: ₂F₁ < 0 has no logarithm (the caller's
    // series then says so). Taking ln |₂F₁| here once turned a BG/NBD expectation of 0.73 into 0.20.
    if big.1 < 0.0 {
        return None;
    }
    let value = if big.1 == small.1 {
        big.0 + (small.0 - big.0).exp().ln_1p()
    } else {
        let ratio = (small.0 - big.0).exp();
        // Opposite signs: accept at most one digit lost to cancellation, else sum the series.
        if ratio > 0.9 {
            return None;
        }
        big.0 + (-ratio).ln_1p()
    };
    value.is_finite().then_some(value)
}

fn is_non_positive_integer(v: f64) -> bool {
    v <= 0.0 && v == v.round()
}

/// The power series Σ (a)ₙ(b)ₙ / ((c)ₙ n!) zⁿ for 0 <= z < 1, as a logarithm, with the
/// derivatives of that logarithm when `grad`.
fn series(a: f64, b: f64, c: f64, z: f64, grad: bool) -> Result<(f64, [f64; 4]), SpecialError> {
    series_within(a, b, c, z, grad, MAX_TERMS)
}

/// [`series`] with its own term limit (at most [`MAX_TERMS`]).
fn series_within(
    a: f64,
    b: f64,
    c: f64,
    z: f64,
    grad: bool,
    max_terms: u64,
) -> Result<(f64, [f64; 4]), SpecialError> {
    let mut term = 1.0_f64;
    let mut sum = 1.0_f64;
    let mut ln_scale = 0.0_f64;
    // Running sums of 1/(a+k), 1/(b+k), 1/(c+k) for k < n: the derivative of ln (a)_n etc.
    let (mut pa, mut pb, mut pc) = (0.0_f64, 0.0_f64, 0.0_f64);
    // Sums of term * pa, term * pb, term * pc and of n * term / z.
    let (mut sa, mut sb, mut sc, mut sz) = (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut largest = 1.0_f64;
    let mut n: u64 = 0;
    loop {
        if n >= max_terms {
            return Err(SpecialError::NotConverged {
                a,
                b,
                c,
                z,
                terms: n,
            });
        }
        let nf = n as f64;
        let (an, bn, cn) = (a + nf, b + nf, c + nf);
        if an == 0.0 || bn == 0.0 {
            break; // a terminating series: every further term is exactly zero
        }
        if cn == 0.0 {
            return Err(SpecialError::Domain {
                a,
                b,
                c,
                z,
                reason: "c must not be a non-positive integer",
            });
        }
        let ab = an * bn;
        let denominator = cn * (nf + 1.0);
        // One division per term: with inv = 1/(a_n b_n c_n (n+1)), the coefficient and the three
        // reciprocals are products (the product stays far from overflow for the models' inputs;
        // otherwise fall back to plain divisions).
        let inv = 1.0 / (ab * denominator);
        let fast = grad && inv.is_normal();
        let coefficient = if fast {
            ab * ab * inv
        } else {
            ab / denominator
        };
        // u = term_{n+1} / z, kept separately so that d/dz is right at z = 0.
        let previous = term;
        let u = term * coefficient;
        term = u * z;
        n += 1;
        if term.abs() < f64::MIN_POSITIVE && z != 0.0 {
            // The term underflowed: to zero, or to a subnormal that keeps a few bits at most
            // and, multiplied by ratios above 1 later, grows back from the wrong magnitude
            // (2F1(12.3, 501462; −11683; 0.011) came out e^10039 for e^8545, which hid the
            // cancellation of the connection formula's two terms). The sum stops here only if
            // no later term can grow back to matter; otherwise it did not reach full precision
            // and says so (the connection formula then gives way to the direct series).
            let ln_term = previous.abs().ln() + an.abs().ln() + bn.abs().ln()
                - cn.abs().ln()
                - (nf + 1.0).ln()
                + z.ln();
            let mut ln_limit = (TAIL_TOLERANCE * sum.abs()).ln();
            if grad {
                // The derivative sums weight a term by 1 + |Σ 1/(a+k)| + ... + n; with every
                // factor positive that weight grows by at most 4/min(factor, 1) a term.
                let least = an.min(bn).min(cn).min(1.0);
                ln_limit -=
                    (1.0 + pa.abs() + pb.abs() + pc.abs() + 4.0 * MAX_TERMS as f64 / least).ln();
            }
            let positive = an > 0.0 && bn > 0.0 && cn > 0.0;
            if previous != 0.0
                && (positive || !grad)
                && underflowed_tail_is_negligible([a, b, c, z], n, ln_term, ln_limit)
            {
                break;
            }
            return Err(SpecialError::NotConverged {
                a,
                b,
                c,
                z,
                terms: n,
            });
        }
        if grad {
            if fast {
                pa += bn * denominator * inv;
                pb += an * denominator * inv;
                pc += ab * (nf + 1.0) * inv;
            } else {
                pa += 1.0 / an;
                pb += 1.0 / bn;
                pc += 1.0 / cn;
            }
            sz += n as f64 * u;
            sa += term * pa;
            sb += term * pb;
            sc += term * pc;
        }
        sum += term;
        largest = largest.max(term.abs());
        if !sum.is_finite() {
            return Err(SpecialError::NotConverged {
                a,
                b,
                c,
                z,
                terms: n,
            });
        }
        let weight = if grad {
            1.0 + pa.abs() + pb.abs() + pc.abs() + n as f64
        } else {
            1.0
        };
        if term == 0.0 && u == 0.0 {
            break;
        }
        let small = if grad {
            term.abs().max(u.abs())
        } else {
            term.abs()
        } * weight;
        if small <= TAIL_TOLERANCE * sum.abs() {
            let m = n as f64;
            if m + a > 0.0 && m + b > 0.0 && m + c > 0.0 {
                let bound = later_ratio_bound([a, b, c, z], m);
                if bound < 1.0 && small / (1.0 - bound) <= TAIL_TOLERANCE * sum.abs() {
                    break;
                }
            }
        }
        if sum.abs() > RESCALE_ABOVE {
            sum /= RESCALE_ABOVE;
            term /= RESCALE_ABOVE;
            sa /= RESCALE_ABOVE;
            sb /= RESCALE_ABOVE;
            sc /= RESCALE_ABOVE;
            sz /= RESCALE_ABOVE;
            largest /= RESCALE_ABOVE;
            ln_scale += RESCALE_ABOVE.ln();
        }
    }
    // Terms of mixed sign: the rounding error is about eps * largest term; keep 10 digits.
    if largest > MAX_CANCELLATION * sum.abs() {
        return Err(SpecialError::Cancellation {
            a,
            b,
            c,
            z,
            digits_lost: (largest / sum.abs()).log10(),
        });
    }
    if sum <= 0.0 {
        return Err(SpecialError::NotPositive { a, b, c, z });
    }
    let value = sum.ln() + ln_scale;
    let grads = if grad {
        [sa / sum, sb / sum, -sc / sum, sz / sum]
    } else {
        [0.0; 4]
    };
    Ok((value, grads))
}

/// The largest ratio of consecutive terms from term m on, once m + a, m + b, m + c > 0: each of
/// (m+a)/(m+c), (m+b)/(m+1) (or the other pairing) is monotone in m and tends to 1.
fn later_ratio_bound([a, b, c, z]: [f64; 4], m: f64) -> f64 {
    let f = |p: f64, q: f64| ((m + p) / (m + q)).abs().max(1.0);
    z * (f(a, c) * f(b, 1.0)).min(f(a, 1.0) * f(b, c))
}

/// Whether a series whose n-th term underflowed, with logarithm `ln_term`, may stop there: no
/// later term reaches `ln_limit`, the logarithm of the tail tolerance. `false` when that cannot
/// be shown.
///
/// The logarithm of the k-th term is L(k) = ln_term + Σ_{j=n}^{k−1} ln|r(j)| with the term ratio
/// r(j) = (j+a)(j+b) z / ((j+c)(j+1)), a difference of ln Γ values. L has its local maxima where
/// |r| falls through 1, at a root of z(x+a)(x+b) = ±(x+c)(x+1) (two quadratics), so L is checked
/// beside those roots, up to the first M from which every factor is positive and the ratio bound
/// below 1; from M on, the terms are below a geometric series. A margin of 2 (a factor e²)
/// covers the rounding of the ln Γ values.
fn underflowed_tail_is_negligible(
    [a, b, c, z]: [f64; 4],
    n: u64,
    ln_term: f64,
    ln_limit: f64,
) -> bool {
    const MARGIN: f64 = 2.0;
    let start = n as f64;
    let ln_gamma = |x: f64| ln_gamma_signed(x).map(|(v, _)| v);
    let rise = |k: f64| -> Option<f64> {
        Some(
            ln_gamma(k + a)? - ln_gamma(start + a)? + ln_gamma(k + b)?
                - ln_gamma(start + b)?
                - ln_gamma(k + c)?
                + ln_gamma(start + c)?
                - ln_gamma(k + 1.0)?
                + ln_gamma(start + 1.0)?
                + (k - start) * z.ln(),
        )
    };
    let bound_at = |m: f64| later_ratio_bound([a, b, c, z], m);
    let positive_from = [-a, -b, -c]
        .into_iter()
        .fold(start, |m, p| m.max(p.floor() + 1.0));
    let mut end = positive_from;
    while bound_at(end) >= 1.0 {
        end += 1.0;
        if end > MAX_TERMS as f64 {
            return false;
        }
    }
    let mut candidates = vec![end];
    for (q2, q1, q0) in [
        (z - 1.0, z * (a + b) - (c + 1.0), z * a * b - c),
        (z + 1.0, z * (a + b) + (c + 1.0), z * a * b + c),
    ] {
        let roots = if q2 == 0.0 {
            vec![-q0 / q1]
        } else {
            let d = q1 * q1 - 4.0 * q2 * q0;
            if d < 0.0 {
                vec![]
            } else {
                vec![(-q1 - d.sqrt()) / (2.0 * q2), (-q1 + d.sqrt()) / (2.0 * q2)]
            }
        };
        for root in roots.into_iter().filter(|r| r.is_finite()) {
            for k in [
                root.floor() - 1.0,
                root.floor(),
                root.ceil(),
                root.ceil() + 1.0,
            ] {
                if k > start && k < end {
                    candidates.push(k);
                }
            }
        }
    }
    let tail = -(-bound_at(end)).ln_1p();
    candidates.into_iter().all(|k| {
        let extra = if k == end { tail } else { 0.0 };
        rise(k).is_some_and(|r| ln_term + r + extra + MARGIN <= ln_limit)
    })
}

#[cfg(test)]
mod one_minus_z_tests {
    use super::*;

    /// ln ₂F₁ near z = 1, from mpmath (mp.dps = 40; scripts/golden_hyp2f1.py style).
    #[allow(clippy::excessive_precision)]
    const NEAR_ONE: [(f64, f64, f64, f64, f64); 8] = [
        (1.243, 2.426, 3.219, 0.9995, 4.805238962535397264071019),
        (1.243, 2.426, 3.219, 0.95, 2.337064426371035315742317),
        (11.24, 12.43, 13.22, 0.99, 48.26069280952012280357645),
        (30.24, 32.43, 33.22, 0.999, 203.5097155111904697592805),
        (0.5, 0.7, 2.2, 0.999, 0.3112538793203287427637676),
        (2.0, 3.0, 4.5, 0.97, 3.544872872622596555718708),
        (1.5, 2.5, 3.5, 0.9999999, 9.667740766447962617546953),
        (5.3, 2.1, 3.7, 0.93, 9.076522108030594259528107),
    ];

    #[test]
    fn values_near_one_match_mpmath() {
        for (a, b, c, z, want) in NEAR_ONE {
            let got = ln_hyp2f1(a, b, c, z).unwrap();
            assert!(
                (got - want).abs() <= 1e-10 * want.abs().max(1.0),
                "{a} {b} {c} {z}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_term_that_underflows_before_c_plus_n_turns_positive_is_an_error() {
        // 2F1(1, 608644; -6322.25; 0.003): the terms alternate and shrink below the smallest
        // f64 by n = 4000, then grow back to about 1e196 once c + n > 0 (mpmath: -3.5e198).
        let err = series(1.0, 608_643.7, -6_322.25, 0.003_038, false).unwrap_err();
        assert!(matches!(err, SpecialError::NotConverged { .. }), "{err:?}");
    }

    #[test]
    fn a_large_c_minus_a_minus_b_near_one_is_not_taken_from_an_underflowed_series() {
        // The sBG DERL's 2F1(1, β + 1; α + β + 1; 1/(1 + d)) for α = 6324.25, β = 608642.70,
        // d = 0.003047 (a fuzz case in CI). Every term is positive and below zⁿ, so the value
        // is at most 1/(1 − z); the connection formula once gave 3.3e200 from an inner series
        // whose terms had underflowed (mpmath 1.3 returns 3.4e200 here as well). The reference
        // is the direct sum at 60 digits: 75.248120469295...
        let (alpha, beta, d) = (6324.254558926251, 608642.7013472556, 0.003047229084630208);
        let z = 1.0 / (1.0 + d);
        let got = ln_hyp2f1(1.0, beta + 1.0, alpha + beta + 1.0, z)
            .unwrap()
            .exp();
        assert!((got - 75.248_120_469_295).abs() < 1e-8 * 75.25, "{got}");
    }

    #[test]
    fn a_term_that_turns_subnormal_counts_as_underflowed() {
        // The BG/NBD purchase rate's 2F1(k + 1, b; a + b; τ/(A + τ)) at k = 11.27, a = 11696.3,
        // b = 501462.3 (a fitted random base in the valuation fuzz test). The connection
        // formula's first inner series 2F1(12.27, 501462; −11683.05; 0.0108) shrinks to the
        // subnormal 5e-324, stays there while its ratio is near 1 and then grows back from
        // that wrong magnitude: e^10039 for e^8545. The formula's two terms, e^8591.76 each,
        // then no longer cancelled and gave e^10086. The reference is the direct sum at
        // 60 digits (mpmath 1.3's hyp2f1 returns −e^8591.76 here).
        let (a, b, c, z) = (
            12.274641819134436,
            501_462.330_751_002_3,
            11_696.320_563_963_654 + 501_462.330_751_002_3,
            0.989_175_412_628_436_6,
        );
        let w = 1.0 - z;
        let inner = series(a, b, 1.0 - (c - a - b), w, false);
        assert!(
            matches!(inner, Err(SpecialError::NotConverged { .. })),
            "{inner:?}"
        );
        let got = ln_hyp2f1(a, b, c, z).unwrap();
        assert!((got - 41.737_848_873_132_43).abs() < 1e-10 * 41.74, "{got}");
    }

    #[test]
    fn the_connection_formula_agrees_with_the_series_where_both_converge() {
        // BG/NBD-style arguments (c − a − b < 0), where the formula is used.
        for (a, b, c, z) in [
            (1.3, 2.4, 3.1, 0.92),
            (4.2, 1.7, 2.6, 0.95),
            (2.24, 3.43, 3.22, 0.91),
        ] {
            let direct = series(a, b, c, z, false).unwrap().0;
            let connected = one_minus_z(a, b, c, z).expect("the connection formula applies");
            assert!(
                (direct - connected).abs() < 1e-11 * direct.abs().max(1.0),
                "{direct} vs {connected}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(a: f64, b: f64, c: f64, z: f64) -> f64 {
        let (mut t, mut s) = (1.0, 1.0);
        for n in 0..2000 {
            let n = n as f64;
            t *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
            s += t;
        }
        s
    }

    #[test]
    fn elementary_identities() {
        // 2F1(1, 1; 2; z) = -ln(1 - z) / z
        for z in [-0.9f64, -0.3, 0.1, 0.5, 0.9] {
            let exact = (-(-z).ln_1p() / z).ln();
            assert!(
                (ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap() - exact).abs() < 1e-14,
                "{z}"
            );
        }
        // 2F1(a, b; b; z) = (1 - z)^(-a)
        let v = ln_hyp2f1(2.5, 3.0, 3.0, 0.7).unwrap();
        assert!((v - (-2.5 * 0.3f64.ln())).abs() < 1e-13);
        assert_eq!(ln_hyp2f1(1.0, 2.0, 3.0, 0.0).unwrap(), 0.0);
    }

    #[test]
    fn matches_direct_series_for_small_z() {
        for &(a, b, c, z) in &[
            (0.3, 1.7, 2.4, 0.3),
            (5.0, 0.2, 1.1, -0.4),
            (-0.5, 2.0, 3.0, 0.6),
        ] {
            let d = direct(a, b, c, z).ln();
            assert!(
                (ln_hyp2f1(a, b, c, z).unwrap() - d).abs() < 1e-13,
                "{a} {b} {c} {z}"
            );
        }
    }

    #[test]
    fn domain_errors() {
        assert!(matches!(
            ln_hyp2f1(1.0, 1.0, 2.0, 1.0),
            Err(SpecialError::Domain { .. })
        ));
        assert!(matches!(
            ln_hyp2f1(1.0, 1.0, -2.0, 0.5),
            Err(SpecialError::Domain { .. })
        ));
        assert!(matches!(
            ln_hyp2f1(f64::NAN, 1.0, 2.0, 0.5),
            Err(SpecialError::Domain { .. })
        ));
        // 2F1(-1, 3; 1; z) = 1 - 3z, negative at z = 0.5.
        assert!(matches!(
            ln_hyp2f1(-1.0, 3.0, 1.0, 0.5),
            Err(SpecialError::NotPositive { .. })
        ));
        assert!(matches!(
            ln_hyp2f1(0.5, 0.5, 1.0, 1.0 - 1e-9),
            Err(SpecialError::NotConverged { .. })
        ));
    }

    /// Near z = 1 with c = 1e6 the connection formula's ln Γ values (about 1.3e7) kept nine
    /// digits: ₂F₁(1, b; c; z) came out below 1. The direct series, falling like b z / c,
    /// is summed first.
    #[test]
    fn a_fast_series_near_one_is_summed_not_connected() {
        let (b, c, z) = (
            1.707_554_435_456_342e-4,
            999_352.890_886_449,
            1.0 / 1.001_808_736_182_065_5,
        );
        let got = ln_hyp2f1(1.0, b, c, z).unwrap();
        let first = b * z / c;
        let want = first * (1.0 + (b + 1.0) * z / (c + 1.0)); // ln(1 + x) ≈ x to 1e-20 here
                                                              // ln F is ln of a sum near 1: exact to the sum's ulps, not relative to ln F itself.
        assert!(
            got > 0.0 && (got - want).abs() < 4.0 * f64::EPSILON,
            "{got:e} vs {want:e}"
        );
    }

    /// Near z = 1 with c < 0 both terms of the 1 − z connection formula can be negative: ₂F₁ < 0
    /// is `NotPositive`, never the logarithm of its magnitude (CI's fuzz case, a BG/NBD
    /// expectation: mpmath gives ₂F₁ = −0.57925 and −0.0012315 for the two forms).
    #[test]
    fn a_negative_value_near_one_is_not_positive() {
        let (r, a, b) = (
            0.0015796356857944757,
            0.00024418537029634524,
            0.5333056407844958,
        );
        let c = a + b - 1.0;
        let z = 0.9978564666710228;
        for (p, q) in [(r, b), (c - r, a - 1.0)] {
            assert!(
                matches!(ln_hyp2f1(p, q, c, z), Err(SpecialError::NotPositive { .. })),
                "{:?}",
                ln_hyp2f1(p, q, c, z)
            );
        }
    }
}
