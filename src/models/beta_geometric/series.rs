//! Expected purchases of many beta-geometric customers at once: piecewise Taylor series of the
//! ₂F₁ after Euler's transformation, tabulated once per frequency.

use std::collections::HashMap;

use crate::concurrent::map;
use crate::models::beta_geometric::kernel::Core;
use crate::models::beta_geometric::pairs::Pairs;
use crate::models::btyd::{finite, horizon};
use crate::models::error::PredictError;
use crate::models::transaction_model::batch;
use crate::special::inv_one_plus_exp;

impl Core {
    /// [`Core::expected`] for many customers, in order. With Euler's transformation
    /// ₂F₁(k, b'; c; u) = (1−u)^(c−k−b') ₂F₁(c−k, c−b'; c; u), c = a+b'−1, and 1 − u = A/(A+t):
    ///
    /// E[X(t) | alive] = c/(a−1) [1 − (1−u)^(a−1) ₂F₁(a+b'−1−k, a−1; a+b'−1; u)].
    ///
    /// That ₂F₁ depends on the customer only through x and u = t/(α+T+t), so [0, 1) is cut into
    /// fixed pieces ([`pieces`] from 0) on which Taylor series converge fast (each piece's
    /// half-width is at most a quarter of its centre's distance to the singularity at u = 1);
    /// the coefficients are computed once per frequency and piece used, the polynomial (two
    /// logarithms and an exponential) once per distinct (x, T), and each customer costs its
    /// P(alive).
    ///
    /// Each customer's value depends only on its own (x, u): the pieces do not depend on the
    /// batch (they once spanned the batch's range of u, so a companion could stretch a piece
    /// until its series cancelled to garbage). A piece whose series could lose more than three
    /// digits to cancellation ([`series_is_well_conditioned`]), a ≈ 1, x above
    /// [`MAX_TABLE_FREQUENCY`] or a ₂F₁ that is not positive take the per-customer path.
    pub fn expected_batch(
        &self,
        histories: &[crate::models::history::History],
        t: f64,
    ) -> Result<Vec<f64>, PredictError> {
        let t = horizon(t)?;
        if (self.a - 1.0).abs() <= 1e-4 || t == 0.0 {
            return batch(histories, |h| self.expected(h, t));
        }
        let pieces = pieces(0.0, 1.0);
        let piece_of = |h: &crate::models::history::History| {
            let big_a = self.alpha + h.age;
            // Within MIN_ONE_MINUS_U of the singularity the tables lose more than 1e-8 (CI's
            // fuzz case: α ≈ 2e-6, T = 0, b ≈ 5.6e4): per customer there.
            if big_a < MIN_ONE_MINUS_U * (big_a + t) {
                return None;
            }
            let u = t / (big_a + t);
            pieces.iter().position(|p| u <= p.upper)
        };
        // The (frequency, piece) tables the batch needs, built once each; `None` where the
        // series is refused.
        let pairs = Pairs::of(histories);
        let mut tables: HashMap<(u32, usize), Option<FrequencyTable>> = HashMap::new();
        for h in pairs.first() {
            if h.frequency > MAX_TABLE_FREQUENCY {
                continue;
            }
            if let Some(piece) = piece_of(h) {
                tables.entry((h.frequency, piece)).or_insert_with(|| {
                    self.frequency_table(f64::from(h.frequency), &pieces[piece])
                });
            }
        }
        // Per distinct (x, T): the expected purchases while alive and the P(alive) constants,
        // or `None` where the series is refused (each of its customers then takes the
        // per-customer path).
        let by_pair = map(pairs.first(), |h| {
            let piece = piece_of(h)?;
            let table = tables.get(&(h.frequency, piece))?.as_ref()?;
            let big_a = self.alpha + h.age;
            let u = t / (big_a + t);
            // ln(1 − u) = −ln(1 + t/A); a plain ln of the ratio is as accurate (and much
            // cheaper than ln_1p) unless t/A is small.
            let ratio = t / big_a;
            let ln_one_minus_u = if ratio > 1e-2 {
                -(1.0 + ratio).ln()
            } else {
                -ratio.ln_1p()
            };
            let power = ((self.a - 1.0) * ln_one_minus_u).exp();
            let series = horner(&table.coefficients, u - pieces[piece].centre);
            // 1 − (1−u)^(a−1) F cancels for horizons short against α + T: below 1e-3 in size
            // it would lose more than three digits here, so take the per-customer path. (Its
            // sign is that of a − 1, as is the scale's.)
            let gap = 1.0 - power * series;
            let alive = table.scale * gap;
            (gap.abs() >= 1e-3 && alive.is_finite() && alive >= 0.0).then_some(WhileAlive {
                expected: alive,
                ln_odds: table.ln_odds,
                k: table.k,
            })
        });
        pairs.each(histories, |h, pair| {
            h.validate()?;
            let Some(pair) = pair.and_then(|p| by_pair.get(p).copied().flatten()) else {
                return self.expected(h, t);
            };
            let p_alive = match pair.ln_odds {
                Some(ln_odds) => inv_one_plus_exp(
                    ln_odds + pair.k * ((self.alpha + h.age) / (self.alpha + h.recency)).ln(),
                ),
                None => 1.0,
            };
            finite("expected purchases", p_alive * pair.expected)
        })
    }

    /// The constants of [`Core::expected_batch`] for one frequency and piece; `None` when the
    /// piece's series cannot be built or is not well conditioned.
    fn frequency_table(&self, x: f64, piece: &Piece) -> Option<FrequencyTable> {
        let k = self.r + x;
        let b = self.b + x + self.offset;
        let c = self.a + b - 1.0;
        let coefficients = taylor_coefficients(c - k, self.a - 1.0, c, piece.centre, piece.radius)?;
        if !series_is_well_conditioned(&coefficients, piece.radius) {
            return None;
        }
        Some(FrequencyTable {
            coefficients,
            scale: c / (self.a - 1.0),
            ln_odds: (x + self.offset > 0.0).then(|| (self.a / (b - 1.0)).ln()),
            k,
        })
    }
}

/// Largest factor by which the terms of a piece's series may exceed its smallest value on the
/// piece: 1e3 loses at most three of the sixteen digits, which the batch path can afford.
const MAX_SERIES_CANCELLATION: f64 = 1e3;

/// Whether Σ cₙ dⁿ keeps its digits for every |d| ≤ `radius`: the sum of |cₙ| radiusⁿ bounds
/// the terms, and c₀ − Σ_{n≥1} |cₙ| radiusⁿ bounds the value from below. A function that varies
/// by orders of magnitude over the piece (a huge a, say) fails, and its customers take the
/// per-customer path.
fn series_is_well_conditioned(coefficients: &[f64], radius: f64) -> bool {
    let mut power = radius;
    let mut rest = 0.0;
    for c in coefficients.iter().skip(1) {
        rest += c.abs() * power;
        power *= radius;
    }
    let Some(&c0) = coefficients.first() else {
        return false;
    };
    let lowest = c0 - rest;
    lowest > 0.0 && c0 + rest <= MAX_SERIES_CANCELLATION * lowest
}

/// A piece of the range of u with its Taylor expansion point.
#[derive(Debug, Clone, Copy)]
pub(super) struct Piece {
    pub(super) centre: f64,
    pub(super) radius: f64,
    /// The largest u of the piece.
    pub(super) upper: f64,
}

/// Cuts [lo, hi] ⊂ [0, 1) into pieces whose half-width is at most a quarter of the centre's
/// distance to 1, so that every Taylor series converges at least like 4⁻ⁿ: from `lo`, each
/// piece ends at (2 + 3 lo) / 5, and 1 − u shrinks by 0.6 a piece.
pub(super) fn pieces(lo: f64, hi: f64) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut start = lo.max(0.0);
    while pieces.len() < MAX_PIECES {
        let end = ((2.0 + 3.0 * start) / 5.0).min(hi);
        let centre = 0.5 * (start + end);
        pieces.push(Piece {
            centre,
            radius: end - centre,
            upper: end,
        });
        if end >= hi {
            break;
        }
        start = end;
    }
    pieces
}

/// The least 1 − u = (α+T)/(α+T+t) at which [`Core::expected_batch`] uses its tables: only a
/// tiny α + T against the horizon comes closer to the singularity at u = 1.
const MIN_ONE_MINUS_U: f64 = 1e-3;

/// Frequencies above this take the per-customer path in [`Core::expected_batch`]: heavier
/// buyers are rare, and a table per frequency would not be shared.
const MAX_TABLE_FREQUENCY: u32 = 100_000;
/// Longest Taylor series [`taylor_coefficients`] builds.
const MAX_SERIES_TERMS: usize = 400;
/// Most pieces [`pieces`] cuts: 1 − u shrinks by 0.6 a piece, so 60 reach u = 1 − 1e-13.
const MAX_PIECES: usize = 60;

/// What [`Core::expected_batch`] computes once per distinct (x, T).
#[derive(Debug, Clone, Copy)]
struct WhileAlive {
    /// The expected purchases over the horizon while alive.
    expected: f64,
    /// The table's P(alive) odds constant.
    ln_odds: Option<f64>,
    /// r + x.
    k: f64,
}

/// Per-frequency, per-piece constants of the batch expectation.
#[derive(Debug, Clone)]
struct FrequencyTable {
    /// Taylor coefficients of ₂F₁(c−k, a−1; c; u) about the piece's centre.
    coefficients: Vec<f64>,
    /// c / (a − 1).
    scale: f64,
    /// ln(a / (b' − 1)), the P(alive) odds constant; `None` when dropout is impossible.
    ln_odds: Option<f64>,
    /// r + x.
    k: f64,
}

/// Taylor coefficients of ₂F₁(p, q; c; u) about u₀ = `centre`, for |u − u₀| ≤ `radius`:
/// cₙ = (p)ₙ(q)ₙ / ((c)ₙ n!) · ₂F₁(p+n, q+n; c+n; u₀) (the n-th derivative over n!), each
/// ₂F₁ from [`crate::special::ln_hyp2f1`]. Stops once three successive terms cₙ radiusⁿ are below
/// 1e-17 of the sum and shrinking by a factor of at least 2; `None` when that takes more than
/// [`MAX_SERIES_TERMS`] terms or a ₂F₁ is not positive (`ln_hyp2f1` works with positive values).
pub(super) fn taylor_coefficients(
    p: f64,
    q: f64,
    c: f64,
    centre: f64,
    radius: f64,
) -> Option<Vec<f64>> {
    if !((0.0..1.0).contains(&centre) && radius >= 0.0 && centre + radius < 1.0) {
        return None;
    }
    let mut coefficients = Vec::new();
    let mut pochhammer = 1.0f64; // (p)ₙ(q)ₙ / ((c)ₙ n!)
    let (mut power, mut sum, mut small, mut last) = (1.0f64, 0.0f64, 0, f64::INFINITY);
    for n in 0..MAX_SERIES_TERMS {
        let nf = n as f64;
        let value = crate::special::ln_hyp2f1(p + nf, q + nf, c + nf, centre)
            .ok()?
            .exp();
        let coefficient = pochhammer * value;
        if !coefficient.is_finite() {
            return None;
        }
        coefficients.push(coefficient);
        let term = (coefficient * power).abs();
        sum += coefficient * power;
        if pochhammer == 0.0 {
            // p or q is a non-positive integer: a polynomial.
            return Some(coefficients);
        }
        small = if term <= 1e-17 * sum.abs() && term <= 0.5 * last {
            small + 1
        } else {
            0
        };
        if small == 3 {
            return Some(coefficients);
        }
        last = term;
        pochhammer *= (p + nf) * (q + nf) / ((c + nf) * (nf + 1.0));
        power *= radius;
    }
    None
}

/// Σ cₙ uⁿ by Horner's rule in four interleaved chains (the powers ≡ 0, 1, 2, 3 mod 4, each in
/// u⁴), which cuts the dependent multiply-add latency of long series fourfold.
pub(super) fn horner(coefficients: &[f64], u: f64) -> f64 {
    let u2 = u * u;
    let u4 = u2 * u2;
    let mut chains = [0.0f64; 4];
    let quads = coefficients.chunks_exact(4);
    // The top coefficients that do not fill a group of four start their chains.
    for (chain, &c) in chains.iter_mut().zip(quads.remainder()) {
        *chain = c;
    }
    for quad in quads.rev() {
        for (chain, &c) in chains.iter_mut().zip(quad) {
            *chain = *chain * u4 + c;
        }
    }
    (chains[0] + u * chains[1]) + u2 * (chains[2] + u * chains[3])
}
