//! The Pareto/NBD log-likelihood in Fader & Hardie's form: the fit's objective, the per-row terms
//! the predictions share, and the fast path that tabulates the ₂F₁ series once per frequency.

use statrs::function::gamma::{digamma, ln_gamma};

use crate::models::btyd::Prepared;
use crate::optimize::Objective;
use crate::special::log_sum_exp as lse;
use crate::special::{
    ln_hyp2f1_a_plus_one_near_one, APlusOneSeries, SpecialError, A_PLUS_ONE_MAX_Z,
    A_PLUS_ONE_TABLE_MAX_Z,
};

/// Largest gamma shape (r or s) the fit evaluates: 1000. Purchase or dropout rates with such a
/// shape vary by about 3% across customers (coefficient of variation 1/√r), which no data set can
/// tell from none; a fit that reaches the cap reports the no-heterogeneity boundary.
pub(super) const MAX_SHAPE: f64 = 1000.0;

/// ₂F₁ series terms per row of an evaluation of ordinary cost (the unit of
/// [`Objective::evaluation_cost`]): CDNOW's estimate needs about 90 a row (two times).
const TERMS_PER_EVALUATION: f64 = 200.0;

/// Terms a tabulated ₂F₁ series needs at z for double precision: its terms fall like zⁿ, and
/// ln(1e-16) ≈ −37.
const TERMS_FOR_PRECISION: f64 = 40.0;

/// What one near-one ₂F₁ (z beyond [`A_PLUS_ONE_TABLE_MAX_Z`]) costs in tabulated series terms:
/// 3 to 10 µs against 3 to 5 ns a term, measured on the Pareto/NBD arguments.
const NEAR_ONE_TERMS: f64 = 2_000.0;

/// Series terms (or their equivalent) one ₂F₁ of a row costs at z.
fn terms_at(z: f64) -> f64 {
    if z <= A_PLUS_ONE_TABLE_MAX_Z {
        TERMS_FOR_PRECISION / (1.0 - z)
    } else {
        NEAR_ONE_TERMS
    }
}

pub(super) struct ParetoObjective<'a> {
    pub(super) data: &'a Prepared,
}

impl Objective for ParetoObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn weight(&self) -> f64 {
        self.data.weight.iter().sum()
    }
    /// r and s at most [`MAX_SHAPE`].
    fn theta_caps(&self) -> Option<Vec<f64>> {
        let cap = MAX_SHAPE.ln();
        Some(vec![cap, f64::INFINITY, cap, f64::INFINITY])
    }
    /// A row costs its two ₂F₁ at t_x and T (t_x once for rows of a frequency sharing it), with
    /// z = (max − min)/(max + t) for min, max of α and β: a tabulated series of about
    /// 40/(1 − z) terms up to z = 0.9, a near-one form ([`NEAR_ONE_TERMS`]) beyond, and each
    /// frequency its table; an evaluation costs the mean over rows in units of
    /// [`TERMS_PER_EVALUATION`]. Every part is bounded, so an evaluation costs at most about 25
    /// ordinary ones wherever the fit wanders.
    fn evaluation_cost(&self, theta: &[f64]) -> f64 {
        let (alpha, beta) = match theta {
            [_, ln_alpha, _, ln_beta, ..] => (ln_alpha.exp(), ln_beta.exp()),
            _ => return 1.0,
        };
        let (low, high) = (alpha.min(beta), alpha.max(beta));
        let z = |t: f64| (high - low) / (high + t);
        let data = self.data;
        let rows = data.recency.len().max(1) as f64;
        let mut terms = 0.0;
        for (g, group) in data.starts.windows(2).enumerate() {
            let (start, end) = (group[0], group[1]);
            if let Some(first) = data.recency.get(start) {
                terms += terms_at(z(*first).min(A_PLUS_ONE_TABLE_MAX_Z));
            }
            if let Some(times) = &data.times {
                // The same sum from the group's distinct times: each t_x once (the rows are
                // sorted by t_x), each T once per row that has it.
                let first = times.starts[g];
                for (k, t) in times.of_group(g).iter().enumerate() {
                    let (ages, is_recency) =
                        (times.age_rows[first + k], times.is_recency[first + k]);
                    let n = f64::from(ages) + if is_recency { 1.0 } else { 0.0 };
                    terms += n * terms_at(z(*t));
                }
                continue;
            }
            let mut previous = None;
            for i in start..end {
                let t_x = data.recency[i];
                if previous != Some(t_x) {
                    terms += terms_at(z(t_x));
                    previous = Some(t_x);
                }
                terms += terms_at(z(data.age[i]));
            }
        }
        let cost = 1.0 + terms / (rows * TERMS_PER_EVALUATION);
        if cost.is_finite() {
            cost
        } else {
            1.0
        }
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (ll, g) = pareto_ll(self.data, theta);
        for (d, v) in grad.iter_mut().zip(g) {
            *d = v;
        }
        ll
    }
}

/// ln F(t) = ln ₂F₁(·) - n ln(m + t) of the Fader-Hardie likelihood and its gradient with respect
/// to (r, α, s, β). With α >= β: ₂F₁(n, s+1; n+1; (α-β)/(α+t)), m = α; otherwise
/// ₂F₁(n, r+x; n+1; (β-α)/(β+t)), m = β; n = r + s + x.
fn ln_f(r: f64, alpha: f64, s: f64, beta: f64, x: f64, t: f64) -> Result<(f64, [f64; 4]), String> {
    let n = r + s + x;
    if alpha >= beta {
        let m = alpha + t;
        let (v, [ga, gb, gz]) = ln_hyp2f1_n_plus_one(n, s + 1.0, alpha - beta, beta + t, m)?;
        let lm = m.ln();
        Ok((
            v - n * lm,
            [
                ga - lm,
                gz * (beta + t) / (m * m) - n / m,
                ga + gb - lm,
                -gz / m,
            ],
        ))
    } else {
        let m = beta + t;
        let (v, [ga, gb, gz]) = ln_hyp2f1_n_plus_one(n, r + x, beta - alpha, alpha + t, m)?;
        let lm = m.ln();
        Ok((
            v - n * lm,
            [
                ga + gb - lm,
                -gz / m,
                ga - lm,
                gz * (alpha + t) / (m * m) - n / m,
            ],
        ))
    }
}

/// ln ₂F₁(n, b; n + 1; z) with z = difference/m, 1 − z = rest/m (difference + rest = m), and its
/// derivatives along n (with c = n + 1), b and z. Beyond z = ½ the near-one forms take 1 − z from
/// `rest` itself, exact where z rounds to 1; below, and where those do not settle, the general
/// series.
fn ln_hyp2f1_n_plus_one(
    n: f64,
    b: f64,
    difference: f64,
    rest: f64,
    m: f64,
) -> Result<(f64, [f64; 3]), String> {
    let z = difference / m;
    if z > A_PLUS_ONE_MAX_Z {
        if let Ok(near) = ln_hyp2f1_a_plus_one_near_one(n, b, rest / m) {
            return Ok(near);
        }
    }
    let (v, [ga, gb, gc, gz]) =
        crate::special::ln_hyp2f1_grad(n, b, n + 1.0, z).map_err(|e| e.to_string())?;
    Ok((v, [ga + gc, gb, gz]))
}

/// Per-row pieces: B = -(r+x) ln(α+T) - s ln(β+T) and D = ln s - ln(r+s+x) + ln A₀ with
/// A₀ = F(t_x) - F(T), each with its gradient in (r, α, s, β).
pub(super) struct RowTerms {
    pub(super) b: f64,
    db: [f64; 4],
    pub(super) d: f64,
    dd: [f64; 4],
}

#[allow(clippy::too_many_arguments)]
pub(super) fn row_terms(
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    x: f64,
    t_x: f64,
    age: f64,
) -> Result<RowTerms, String> {
    // With t_x = T the customer cannot have died unseen (D = −∞): no ₂F₁ is needed.
    let at_recency = if t_x < age {
        ln_f(r, alpha, s, beta, x, t_x)?
    } else {
        (0.0, [0.0; 4])
    };
    row_terms_with(r, alpha, s, beta, x, t_x, age, at_recency)
}

/// As [`row_terms`], with ln F(t_x) and its gradient given (customers sharing x and t_x, such as
/// every customer without repeat purchases, share it).
#[allow(clippy::too_many_arguments)]
fn row_terms_with(
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    x: f64,
    t_x: f64,
    age: f64,
    at_recency: (f64, [f64; 4]),
) -> Result<RowTerms, String> {
    let n = r + s + x;
    let (la, lb) = ((alpha + age).ln(), (beta + age).ln());
    let b = -(r + x) * la - s * lb;
    let db = [-la, -(r + x) / (alpha + age), -lb, -s / (beta + age)];
    let (f1, g1) = at_recency;
    let (d, dd) = if t_x < age {
        let (f2, g2) = ln_f(r, alpha, s, beta, x, age)?;
        let diff = f2 - f1; // < 0: F decreases in t
        let e = diff.exp();
        let one_minus = -diff.exp_m1();
        let ln_a0 = f1 + one_minus.ln();
        let g: [f64; 4] = std::array::from_fn(|i| (g1[i] - e * g2[i]) / one_minus);
        let d = s.ln() - n.ln() + ln_a0;
        (d, [g[0] - 1.0 / n, g[1], g[2] + 1.0 / s - 1.0 / n, g[3]])
    } else {
        (f64::NEG_INFINITY, [0.0; 4])
    };
    Ok(RowTerms { b, db, d, dd })
}

/// ln F(t) − n ln m of [`ln_f`] at one time t, split as `base` + ln G with
/// G = ₂F₁(1, d; n + 1; z) (Euler's transformation of the likelihood's ₂F₁, see [`FastGroup`]);
/// the gradients in (r, α, s, β) are those of `base` and of G itself (not of ln G).
#[derive(Debug, Clone, Copy)]
struct AtTime {
    /// 1/(α + t) and 1/(β + t).
    inv_p: f64,
    inv_q: f64,
    base: f64,
    dbase: [f64; 4],
    g: f64,
    dg: [f64; 4],
}

/// Constants of the fast likelihood path for one frequency x at one parameter point.
///
/// ₂F₁(n, b; n + 1; z) = (1 − z)^(1 − b) G(z), G = ₂F₁(1, d; n + 1; z), d = n + 1 − b. With
/// P = α + t, Q = β + t:
/// - α >= β: b = s + 1, d = r + x, z = (α − β)/P, 1 − z = Q/P, and
///   ln F(t) − n ln P = −(r + x) ln P − s ln Q + ln G;
/// - α < β: b = r + x, d = s + 1, z = (β − α)/Q, 1 − z = P/Q, and
///   ln F(t) − n ln Q = −(r + x − 1) ln P − (s + 1) ln Q + ln G.
///
/// The coefficients of G depend on x and the parameters only, so they are tabulated once per
/// group ([`APlusOneSeries`]) and each customer costs two division-free polynomial evaluations.
struct FastGroup {
    series: APlusOneSeries,
    alpha_ge_beta: bool,
    alpha: f64,
    beta: f64,
    r_x: f64,
    s: f64,
    /// ln P and ln Q coefficients of `base` (negated).
    k_p: f64,
    k_q: f64,
    /// s / n, and the gradient of ln(s/n): (−1/n, 0, 1/s − 1/n, 0).
    s_over_n: f64,
    d_ln_s_over_n: [f64; 4],
}

impl AtTime {
    /// ln F(t) − n ln m and its gradient as given by [`ln_f`] (G = 1, all of it in `base`).
    fn from_log(value: f64, grad: [f64; 4], alpha: f64, beta: f64, t: f64) -> Self {
        AtTime {
            inv_p: 1.0 / (alpha + t),
            inv_q: 1.0 / (beta + t),
            base: value,
            dbase: grad,
            g: 1.0,
            dg: [0.0; 4],
        }
    }
}

impl FastGroup {
    /// `None` when the series does not apply (then every row takes the general path). The tables
    /// reach the z of the group's earliest time `t_min` (z falls with t), at most
    /// [`A_PLUS_ONE_TABLE_MAX_Z`]; rows beyond take the near-one forms.
    fn new(r: f64, alpha: f64, s: f64, beta: f64, x: f64, t_min: f64) -> Option<Self> {
        let alpha_ge_beta = alpha >= beta;
        let r_x = r + x;
        // A little headroom for rounding in z per row.
        let z_max = ((alpha - beta).abs() / (alpha.max(beta) + t_min) * (1.0 + 1e-9))
            .min(A_PLUS_ONE_TABLE_MAX_Z);
        let (d, b, k_p, k_q) = if alpha_ge_beta {
            (r_x, s + 1.0, r_x, s)
        } else {
            (s + 1.0, r_x, r_x - 1.0, s + 1.0)
        };
        let series = APlusOneSeries::new(d, b, z_max).ok()?;
        let n = r_x + s;
        Some(FastGroup {
            series,
            alpha_ge_beta,
            alpha,
            beta,
            r_x,
            s,
            k_p,
            k_q,
            s_over_n: s / n,
            d_ln_s_over_n: [-1.0 / n, 0.0, 1.0 / s - 1.0 / n, 0.0],
        })
    }

    #[inline]
    fn at(&self, t: f64) -> Result<AtTime, SpecialError> {
        let (p, q) = (self.alpha + t, self.beta + t);
        let (inv_p, inv_q) = (1.0 / p, 1.0 / q);
        let (lp, lq) = (p.ln(), q.ln());
        let base = -self.k_p * lp - self.k_q * lq;
        let dbase = [-lp, -self.k_p * inv_p, -lq, -self.k_q * inv_q];
        let (g, dg) = if self.alpha_ge_beta {
            // z = (α − β)/P: ∂z/∂α = Q/P², ∂z/∂β = −1/P; r moves d and e, s moves e.
            let v = self.series.eval((self.alpha - self.beta) * inv_p)?;
            (
                v.g,
                [v.shift, v.dz * q * inv_p * inv_p, v.de, -v.dz * inv_p],
            )
        } else {
            // z = (β − α)/Q: ∂z/∂α = −1/Q, ∂z/∂β = P/Q²; r moves e, s moves d and e.
            let v = self.series.eval((self.beta - self.alpha) * inv_q)?;
            (
                v.g,
                [v.de, -v.dz * inv_q, v.shift, v.dz * p * inv_q * inv_q],
            )
        };
        Ok(AtTime {
            inv_p,
            inv_q,
            base,
            dbase,
            g,
            dg,
        })
    }

    /// ln(e^B + e^D) of one row and its gradient, with F(t_x) given; t_x < T.
    ///
    /// With E = e^(B − base₁), e^(f₂ − f₁) = E K₂ G₂ / G₁ where K₂ = e^(base₂ − B) (1 when α >= β,
    /// P/Q at T otherwise), so ln(e^B + (s/n)(e^f₁ − e^f₂)) = base₁ + ln Y with
    /// Y = E + (s/n)(G₁ − E K₂ G₂): one exp and one ln per row besides the logarithms of P and Q.
    #[inline]
    fn row(&self, a1: &AtTime, age: f64) -> Result<(f64, [f64; 4]), SpecialError> {
        let a2 = self.at(age)?;
        self.row_with(a1, &a2, age)
    }

    /// [`row`](Self::row) with the terms at T given (`a2`, from [`at`](Self::at)).
    #[inline]
    fn row_with(
        &self,
        a1: &AtTime,
        a2: &AtTime,
        age: f64,
    ) -> Result<(f64, [f64; 4]), SpecialError> {
        let (lp, lq) = (-a2.dbase[0], -a2.dbase[2]);
        let b = -self.r_x * lp - self.s * lq;
        let db = [-lp, -self.r_x * a2.inv_p, -lq, -self.s * a2.inv_q];
        let e = (b - a1.base).exp();
        let k2 = if self.alpha_ge_beta {
            1.0
        } else {
            (self.alpha + age) * a2.inv_q
        };
        let ek = e * k2;
        let e2 = ek * a2.g;
        let c = self.s_over_n;
        let y = e + c * (a1.g - e2);
        let m = a1.base + y.ln();
        if !(y > 0.0 && m.is_finite()) {
            return Err(SpecialError::NotPositive {
                a: self.r_x + self.s,
                b: y,
                c: self.r_x + self.s + 1.0,
                z: age,
            });
        }
        let inv_y = 1.0 / y;
        let (wb, wd, cy) = (e * inv_y, c * (a1.g - e2) * inv_y, c * inv_y);
        let grad = std::array::from_fn(|k| {
            wb * db[k]
                + cy * (a1.g * a1.dbase[k] + a1.dg[k] - e2 * a2.dbase[k] - ek * a2.dg[k])
                + wd * self.d_ln_s_over_n[k]
        });
        Ok((m, grad))
    }
}

impl FastGroup {
    /// P(alive at T) of a row with t_x < T, e^B / (e^B + e^D) = E / Y in the notation of
    /// [`row`](Self::row), without gradients; `None` where the series does not apply.
    fn p_alive(&self, t_x: f64, age: f64) -> Option<f64> {
        let (a1, a2) = (self.at(t_x).ok()?, self.at(age).ok()?);
        let (lp, lq) = (-a2.dbase[0], -a2.dbase[2]);
        let b = -self.r_x * lp - self.s * lq;
        let ln_e = b - a1.base;
        let e = ln_e.exp();
        let k2 = if self.alpha_ge_beta {
            1.0
        } else {
            (self.alpha + age) * a2.inv_q
        };
        let y = e + self.s_over_n * (a1.g - e * k2 * a2.g);
        // E / Y through logarithms: a P(alive) near underflow keeps its digits when E is
        // subnormal or 0 (the fuzz test saw 3.13e-306 against the single path's 3.09e-306).
        let p = (ln_e - y.ln()).exp();
        (y > 0.0 && p.is_finite()).then_some(p.min(1.0))
    }
}

/// P(alive at T) of customers with x repeat purchases, recency t_x and age T (`rows`), from the
/// series tabulated once for x as the likelihood's fast path does; `None` for a customer where
/// the series does not apply (the caller takes the general path), and 1 where t_x = T.
pub(super) fn p_alive_rows(
    [r, alpha, s, beta]: [f64; 4],
    x: f64,
    rows: impl Iterator<Item = (f64, f64)>,
) -> Vec<Option<f64>> {
    // Tables from t = 0, whatever the batch holds, so that a customer's value never depends on
    // its companions (customers past the tables' z take the single-customer path).
    let group = FastGroup::new(r, alpha, s, beta, x, 0.0);
    rows.map(|(t_x, age)| {
        if t_x >= age {
            Some(1.0)
        } else {
            group.as_ref().and_then(|g| g.p_alive(t_x, age))
        }
    })
    .collect()
}

/// One row by the general ₂F₁ (the path for large z or when the fast series fails), with the
/// ln F(t_x) cache of rows sharing t_x.
#[allow(clippy::too_many_arguments)]
fn general_row(
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    x: f64,
    t_x: f64,
    age: f64,
    cache: &mut Option<(f64, (f64, [f64; 4]))>,
) -> Result<(f64, [f64; 4]), String> {
    let at_recency = match *cache {
        Some((t, v)) if t == t_x => v,
        _ => {
            let v = ln_f(r, alpha, s, beta, x, t_x)?;
            *cache = Some((t_x, v));
            v
        }
    };
    let t = row_terms_with(r, alpha, s, beta, x, t_x, age, at_recency)?;
    let m = lse(t.b, t.d);
    let (wb, wd) = ((t.b - m).exp(), (t.d - m).exp());
    Ok((m, std::array::from_fn(|k| wb * t.db[k] + wd * t.dd[k])))
}

/// The terms of one distinct time of a group.
#[derive(Clone, Copy)]
struct TimeSlot {
    /// The series' terms at t ([`FastGroup::at`]); `None` where the series does not reach t.
    at: Option<AtTime>,
    /// The terms at t as some row's t_x: the series' or, past its reach, the general ₂F₁'s
    /// (`None` where both fail, or where no row has t as its t_x).
    at_recency: Option<AtTime>,
}

/// A group's series and the terms at its distinct times ([`group_slots`]).
type GroupSlots = (FastGroup, Vec<TimeSlot>);

/// A group's series ([`FastGroup`], with tables reaching the z of its earliest time) and the
/// terms at each of its distinct times ([`TimeTables`](crate::models::btyd::TimeTables)),
/// computed once per evaluation; `None` where the series does not apply.
fn group_slots(
    data: &Prepared,
    times: &crate::models::btyd::TimeTables,
    group: usize,
    [r, alpha, s, beta]: [f64; 4],
) -> Option<GroupSlots> {
    let x = data.xs[group];
    // Rows of a frequency are sorted by recency: the first has the earliest time. A part of a
    // group gets the same values from these longer tables (a series stops by its tail bound).
    let t_min = data.recency.get(data.starts[group]).copied().unwrap_or(0.0);
    let fast = FastGroup::new(r, alpha, s, beta, x, t_min)?;
    let first = times.starts[group];
    let slots = times
        .of_group(group)
        .iter()
        .enumerate()
        .map(|(k, &t)| {
            let at = fast.at(t).ok();
            // As the loop without tables: past the series' range F(t_x) comes from the general
            // 2F1.
            let at_recency = if times.is_recency[first + k] {
                at.or_else(|| {
                    let (v, dv) = ln_f(r, alpha, s, beta, x, t).ok()?;
                    Some(AtTime::from_log(v, dv, alpha, beta, t))
                })
            } else {
                None
            };
            TimeSlot { at, at_recency }
        })
        .collect();
    Some((fast, slots))
}

/// Σ w·ln L (without the per-x constant), its gradient and Σ w over `rows` of one group, with
/// the terms at the group's distinct times given (`fast`, `slots`: [`group_slots`]): the same
/// values, row by row, as the loop of [`pareto_ll`] without tables. `None` where a row has no
/// finite likelihood.
#[allow(clippy::too_many_arguments)]
fn tabulated_rows(
    data: &Prepared,
    times: &crate::models::btyd::TimeTables,
    fast: &FastGroup,
    slots: &[TimeSlot],
    [r, alpha, s, beta]: [f64; 4],
    x: f64,
    rows: std::ops::Range<usize>,
) -> Option<(f64, [f64; 4], f64)> {
    let (mut ll, mut g, mut w_sum) = (0.0, [0.0; 4], 0.0);
    let mut general_cache: Option<(f64, (f64, [f64; 4]))> = None;
    for i in rows {
        let (w, t_x, age) = (data.weight[i], data.recency[i], data.age[i]);
        let fast_row = if t_x < age {
            let a1 = slots[times.recency_at[i] as usize].at_recency;
            let a2 = slots[times.age_at[i] as usize].at;
            match (a1, a2) {
                (Some(a1), Some(a2)) => fast.row_with(&a1, &a2, age).ok(),
                _ => None,
            }
        } else {
            None
        };
        let (m, dm) = match fast_row {
            Some(v) => v,
            None => general_row(r, alpha, s, beta, x, t_x, age, &mut general_cache).ok()?,
        };
        ll += w * m;
        w_sum += w;
        for (gk, dk) in g.iter_mut().zip(dm) {
            *gk += w * dk;
        }
    }
    Some((ll, g, w_sum))
}

/// Total log-likelihood and gradient in (ln r, ln α, ln s, ln β).
pub(crate) fn pareto_ll(data: &Prepared, theta: &[f64]) -> (f64, [f64; 4]) {
    let [r, alpha, s, beta] = [
        theta[0].exp(),
        theta[1].exp(),
        theta[2].exp(),
        theta[3].exp(),
    ];
    if ![r, alpha, s, beta]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
    {
        return (f64::NEG_INFINITY, [0.0; 4]);
    }
    let (lg_r, psi_r, l_alpha, l_beta) = (ln_gamma(r), digamma(r), alpha.ln(), beta.ln());
    // With time tables, each group's terms at its distinct times first (on all cores with
    // `parallel`), then the rows.
    let tabulated: Option<Vec<Option<GroupSlots>>> = data.times.as_ref().map(|times| {
        let group = |g: usize| group_slots(data, times, g, [r, alpha, s, beta]);
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            (0..data.xs.len()).into_par_iter().map(group).collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            (0..data.xs.len()).map(group).collect()
        }
    });
    let (ll, g) = data.sum_groups::<4, _>(|group, x, rows| {
        let c = ln_gamma(r + x) - lg_r + r * l_alpha + s * l_beta;
        let dc = [
            digamma(r + x) - psi_r + l_alpha,
            r / alpha,
            l_beta,
            s / beta,
        ];
        // Rows of a frequency are sorted by recency: the first has the earliest time.
        let t_min = data.recency.get(rows.start).copied().unwrap_or(0.0);
        let (mut ll, mut g, mut w_sum) = (0.0, [0.0; 4], 0.0);
        if let (Some(times), Some(Some((f, slots)))) =
            (&data.times, tabulated.as_ref().and_then(|t| t.get(group)))
        {
            let Some((lg, gg, ws)) =
                tabulated_rows(data, times, f, slots, [r, alpha, s, beta], x, rows)
            else {
                return (f64::NEG_INFINITY, [0.0; 4]);
            };
            (ll, g, w_sum) = (lg, gg, ws);
            ll += w_sum * c;
            for (gk, dck) in g.iter_mut().zip(dc) {
                *gk += w_sum * dck;
            }
            return (ll, g);
        }
        let fast = FastGroup::new(r, alpha, s, beta, x, t_min);
        let mut fast_cache: Option<(f64, AtTime)> = None;
        let mut general_cache: Option<(f64, (f64, [f64; 4]))> = None;
        for i in rows {
            let (w, t_x, age) = (data.weight[i], data.recency[i], data.age[i]);
            let fast_row = if t_x < age {
                fast.as_ref().and_then(|f| {
                    let a1 = match fast_cache {
                        Some((t, a)) if t == t_x => a,
                        _ => {
                            // z is largest at t_x = 0; past the series' range F(t_x) comes from
                            // the general 2F1 (cached like the rest), F(T) still from the series.
                            let a = match f.at(t_x) {
                                Ok(a) => a,
                                Err(_) => {
                                    let (v, dv) = ln_f(r, alpha, s, beta, x, t_x).ok()?;
                                    AtTime::from_log(v, dv, alpha, beta, t_x)
                                }
                            };
                            fast_cache = Some((t_x, a));
                            a
                        }
                    };
                    f.row(&a1, age).ok()
                })
            } else {
                None
            };
            let (m, dm) = match fast_row {
                Some(v) => v,
                None => match general_row(r, alpha, s, beta, x, t_x, age, &mut general_cache) {
                    Ok(v) => v,
                    Err(_) => return (f64::NEG_INFINITY, [0.0; 4]),
                },
            };
            ll += w * m;
            w_sum += w;
            for (gk, dk) in g.iter_mut().zip(dm) {
                *gk += w * dk;
            }
        }
        ll += w_sum * c;
        for (gk, dck) in g.iter_mut().zip(dc) {
            *gk += w_sum * dck;
        }
        (ll, g)
    });
    let grad = [g[0] * r, g[1] * alpha, g[2] * s, g[3] * beta];
    if ll.is_finite() && grad.iter().all(|v| v.is_finite()) {
        (ll, grad)
    } else {
        (f64::NEG_INFINITY, [0.0; 4])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Patterns;
    use crate::time::TimeUnit;

    /// The tabulated-series rows agree with the general path (the general ₂F₁ up to z = ½, the
    /// near-one forms beyond), for α above, equal to and below β (some sets with z > 0.5 or
    /// beyond the tables' 0.9 at t = 0, where F(t_x) comes from the general path), light and
    /// heavy buyers, t_x near 0 and near T.
    #[test]
    fn fast_rows_match_the_general_path() {
        let (mut compared, mut beyond) = (0, 0);
        for [r, alpha, s, beta] in [
            [0.553, 10.578, 0.606, 11.669],
            [0.553, 11.669, 0.606, 10.578],
            [0.243, 4.4, 0.793, 4.4],
            [2.0, 0.3, 0.05, 0.2],
            [0.02, 1.0, 3.0, 1.9],
            [1.3, 20.0, 0.4, 40.0],
            [0.52, 0.31, 1.03, 0.83],
            // Where heavy-buyer fits go: z(0) = 1 − 6e-5 (α ≪ β) and 0.96 (α ≫ β), beyond the
            // tables' 0.9 for early t_x, so F(t_x) and some F(T) come from the near-one forms.
            [0.0524, 1.66e-4, 1.92, 3.16],
            [0.3, 50.0, 3.0, 2.0],
        ] {
            for x in [0.0, 1.0, 2.0, 7.0, 221.0, 10_000.0, 1e6] {
                let Some(fast) = FastGroup::new(r, alpha, s, beta, x, 0.0) else {
                    panic!("no fast path at {r} {alpha} {s} {beta} x {x}");
                };
                for (t_x, age) in [
                    (0.0, 38.0),
                    (0.0, 0.5),
                    (30.4, 38.9),
                    (1.0, 100.0),
                    (103.43, 103.57),
                    (20.0, 20.0 + 1e-9),
                ] {
                    let t_x = if x == 0.0 { 0.0 } else { t_x };
                    let a1 = fast.at(t_x).unwrap_or_else(|_| {
                        let (v, dv) = ln_f(r, alpha, s, beta, x, t_x).unwrap();
                        AtTime::from_log(v, dv, alpha, beta, t_x)
                    });
                    let Ok(got) = fast.row(&a1, age) else {
                        // Beyond the tables at T the likelihood takes the general row.
                        let z_age = (alpha - beta).abs() / (alpha.max(beta) + age);
                        assert!(
                            z_age > A_PLUS_ONE_TABLE_MAX_Z,
                            "fast row failed at x {x} t_x {t_x} T {age}"
                        );
                        beyond += 1;
                        continue;
                    };
                    let want = general_row(r, alpha, s, beta, x, t_x, age, &mut None).unwrap();
                    let tol = |v: f64| 1e-11 * (1.0 + v.abs());
                    assert!(
                        (got.0 - want.0).abs() <= tol(want.0) * (1.0 + x).sqrt(),
                        "value {got:?} vs {want:?} at {r} {alpha} {s} {beta} x {x} t_x {t_x} T {age}"
                    );
                    for k in 0..4 {
                        assert!(
                            (got.1[k] - want.1[k]).abs() <= 1e-9 * (1.0 + want.1[k].abs()),
                            "gradient {k}: {got:?} vs {want:?} at x {x} t_x {t_x} T {age}"
                        );
                    }
                    compared += 1;
                }
            }
        }
        assert_eq!(compared + beyond, 9 * 7 * 6);
        assert!(beyond <= 7 * 2, "{beyond}");
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        /// The full gradient (fast and general rows together) against central differences, at
        /// random parameters and customers.
        #[test]
        fn gradient_matches_finite_differences_anywhere(
            theta in proptest::array::uniform4(-2.0f64..2.5),
            rows in proptest::collection::vec((0u32..60, 0.0f64..1.0, 0.5f64..60.0), 1..12),
        ) {
            let p = Patterns::new(
                TimeUnit::WEEKS,
                rows.iter().map(|&(x, u, age)| {
                    let t_x = if x == 0 { 0.0 } else { u * age };
                    (x, t_x, age, 1.0)
                }),
            )
            .unwrap();
            let data = Prepared::new(&p, true);
            let (ll, g) = pareto_ll(&data, &theta);
            proptest::prop_assert!(ll.is_finite());
            for k in 0..4 {
                let h = 1e-5;
                let (mut up, mut down) = (theta, theta);
                up[k] += h;
                down[k] -= h;
                let fd = (pareto_ll(&data, &up).0 - pareto_ll(&data, &down).0) / (2.0 * h);
                proptest::prop_assert!(
                    (fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs() + ll.abs() * 1e-3),
                    "theta {:?} k {}: analytic {} fd {}", theta, k, g[k], fd
                );
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let p = Patterns::new(
            TimeUnit::WEEKS,
            [
                (0, 0.0, 38.0, 3.0),
                (2, 30.4, 38.9, 1.0),
                (7, 20.0, 33.0, 2.0),
                (29, 35.0, 35.5, 1.0),
            ],
        )
        .unwrap();
        for scale in [false, true] {
            let data = Prepared::new(&p, scale);
            for theta in [
                [-0.6, 2.3, -0.5, 2.4],
                [0.2, -0.5, 0.3, 0.1],
                [-1.0, 1.0, 1.0, 0.5],
            ] {
                let (_, g) = pareto_ll(&data, &theta);
                for k in 0..4 {
                    let h = 1e-6;
                    let (mut up, mut down) = (theta, theta);
                    up[k] += h;
                    down[k] -= h;
                    let fd = (pareto_ll(&data, &up).0 - pareto_ll(&data, &down).0) / (2.0 * h);
                    assert!(
                        (fd - g[k]).abs() < 1e-5 * (1.0 + fd.abs()),
                        "theta {theta:?} k {k}: analytic {} fd {fd}",
                        g[k]
                    );
                }
            }
        }
    }
}
