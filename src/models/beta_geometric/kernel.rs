//! The beta-geometric posterior: the likelihood of the BG/NBD family with its analytic
//! gradient, P(alive), and the purchases of a customer alive at T (expected count, distribution,
//! discounted expected residual transactions).

use statrs::function::gamma::ln_gamma;

use crate::models::beta_geometric::dert::DertTerms;
use crate::models::btyd::{
    discount_rate, finite, horizon, integrate, integrate_to, ln_nbd_pmf, Prepared,
};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::special::{inv_one_plus_exp, ln_beta};
use crate::summary::Patterns;

fn hyp(what: &'static str, a: f64, b: f64, c: f64, z: f64) -> Result<f64, PredictError> {
    crate::special::ln_hyp2f1(a, b, c, z)
        .map_err(|source| PredictError::SpecialFunction { what, source })
}

/// Relative error of a sum of two logarithms as [`AliveBetaGeometric::expected`] forms it, per
/// unit of the terms' size: ln ₂F₁ of parameters in the hundreds of thousands loses thousands
/// of ulps (a closed form 0.24% off was seen at r = 652370), so the bound is generous.
const LN_TERM_ERROR: f64 = 1e-12;
/// Largest relative error [`AliveBetaGeometric::expected`] accepts from its closed form before
/// it integrates instead.
const CLOSED_FORM_TOLERANCE: f64 = 1e-8;
/// Relative tolerances of [`AliveBetaGeometric::dert_by_quadrature`], the path for what the
/// closed form refuses: 1e-11 first, so that its values too meet 1e-10 (at 1e-9 a near-1 a was
/// off by 1.9e-10); where the ₂F₁'s own rounding keeps the estimate above that (heavy buyers),
/// 1e-9, the tolerance this integral always had.
const DERT_QUADRATURE_TOLERANCES: [f64; 2] = [1e-11, 1e-9];

/// ∫ f over [cuts₀, cuts_last], one adaptive quadrature (relative tolerance `tolerance`) per
/// interval between consecutive distinct cuts (ascending).
fn integrate_pieces<F: FnMut(f64) -> Result<f64, PredictError>>(
    what: &'static str,
    mut f: F,
    cuts: &[f64],
    tolerance: f64,
) -> Result<f64, PredictError> {
    let mut total = 0.0;
    for pair in cuts.windows(2) {
        if pair[1] > pair[0] {
            total += integrate(what, &mut f, pair[0], pair[1], tolerance)?;
        }
    }
    Ok(total)
}

/// The future of a beta-geometric/NBD customer who is alive at the end of observation: purchases
/// at a rate λ ~ gamma(k, big_a) (shape, rate), after each purchase dropout with probability
/// p ~ beta(a, b). BG/NBD gives k = r + x, big_a = α + T, b = b + x; MBG/NBD b = b + x + 1; a new
/// BG/NBD customer k = r, big_a = α.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AliveBetaGeometric {
    pub k: f64,
    pub big_a: f64,
    pub a: f64,
    pub b: f64,
}

impl AliveBetaGeometric {
    /// Expected purchases in (0, t]: (a+b-1)/(a-1) [1 - (A/(A+t))^k 2F1(k, b; a+b-1; t/(A+t))]
    /// (Fader, Hardie & Lee 2005, eq. 9 with the posterior parameters). Near a = 1 the closed
    /// form is 0/0, and where ₂F₁ ≤ 0 its logarithm does not exist, so there the expectation
    /// E_p[(1 - (1 + p t/A)^-k) / p] is integrated instead.
    pub fn expected(&self, t: f64) -> Result<f64, PredictError> {
        if t == 0.0 {
            return Ok(0.0);
        }
        let (k, aa, a, b) = (self.k, self.big_a, self.a, self.b);
        let u = t / (aa + t);
        let c = a + b - 1.0;
        // The closed form needs ln ₂F₁, which does not exist where ₂F₁ ≤ 0 (possible when
        // a + b < 1): the integral below covers that case too.
        if (a - 1.0).abs() > 1e-4 {
            let ln_one_minus_u = -(t / aa).ln_1p();
            // ln[(1−u)^k ₂F₁(k, b; c; u)], first after Euler's transformation,
            // (1−u)^(a−1) ₂F₁(c−k, a−1; c; u): for heavy buyers the plain form cancels
            // k ln(1−u) against ln ₂F₁, both in the thousands, and keeps only ~1e-9 of the
            // small difference; the transformed terms stay small. The plain form remains for
            // arguments where the transformed series fails.
            // Each gives ln_term with the size of the terms it summed.
            let euler = || {
                hyp("expected purchases", c - k, a - 1.0, c, u).map(|ln_f| {
                    let power = (a - 1.0) * ln_one_minus_u;
                    (power + ln_f, power.abs() + ln_f.abs())
                })
            };
            let plain = || {
                hyp("expected purchases", k, b, c, u).map(|ln_f| {
                    let power = k * ln_one_minus_u;
                    (power + ln_f, power.abs() + ln_f.abs())
                })
            };
            // ln_term is a sum of terms of size `size`, so its absolute error is about
            // LN_TERM_ERROR × size; 1 − e^ln_term magnifies that where ln_term is near 0 (a
            // huge r or a against a short horizon: the terms in the hundreds of thousands
            // cancel to nothing, and the closed form once returned 0 for twice the horizon).
            // Where more than CLOSED_FORM_TOLERANCE would be lost, integrate instead.
            let closed = |(ln_term, size): (f64, f64)| {
                let one_minus = -ln_term.exp_m1();
                // ln ₂F₁ is also the logarithm of a sum near 1 for short horizons: a few ulps
                // of 1 absolute, whatever the terms' size (E[X] ≈ 1e-14 came out 3x off).
                let ln_error = LN_TERM_ERROR * size + 4.0 * f64::EPSILON;
                let error = ln_error * ln_term.exp() / one_minus.abs();
                Some(c / (a - 1.0) * one_minus)
                    .filter(|v| v.is_finite() && *v >= 0.0 && error <= CLOSED_FORM_TOLERANCE)
            };
            if let Some(v) = euler()
                .ok()
                .and_then(closed)
                .or_else(|| plain().ok().and_then(closed))
            {
                return Ok(v);
            }
        }
        // E over p ~ beta(a, b) of g(p) = (1 - (1 + p t / A)^-k) / p (k s at p = 0; the
        // ln_1p/exp_m1 form keeps its digits down to the smallest p).
        let ln_b = ln_beta(a, b);
        let s = t / aa;
        let g = |p: f64| {
            if p == 0.0 {
                k * s
            } else {
                -(-k * (p * s).ln_1p()).exp_m1() / p
            }
        };
        let what = "expected purchases";
        let mean = a / (a + b);
        if a >= 1.0 && b >= 1.0 {
            // A log-concave density without singularities: in p itself, over the mean ± 50
            // standard deviations (the mass beyond is below e^-50), cut where the density
            // changes, so that a narrow peak (b in the tens of thousands) is not missed.
            let sd = (a * b / (a + b + 1.0)).sqrt() / (a + b);
            let cuts: Vec<f64> = [-50.0, -10.0, -3.0, -1.0, 0.0, 1.0, 3.0, 10.0, 50.0]
                .iter()
                .map(|z| (mean + z * sd).clamp(0.0, 1.0))
                .collect();
            let density = |p: f64| {
                if p <= 0.0 || p >= 1.0 {
                    return 0.0;
                }
                ((a - 1.0) * p.ln() + (b - 1.0) * (-p).ln_1p() - ln_b).exp()
            };
            let v = integrate_pieces(what, |p| Ok(g(p) * density(p)), &cuts, 1e-10)?;
            return finite(what, v);
        }
        // By quadrature in q = p^a on p ≤ 1/2 and in w = (1 - p)^b on p ≥ 1/2: the
        // substitutions absorb the density's singularities p^(a-1) at 0 and (1-p)^(b-1) at 1.
        // Cuts at multiples of the mean (of p, and of 1 - p) keep a narrow peak in view.
        let spread = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0];
        let mut low_cuts = vec![0.0];
        low_cuts.extend(
            spread
                .iter()
                .map(|f| f * mean)
                .filter(|p| *p < 0.5)
                .map(|p| p.powf(a)),
        );
        low_cuts.push(0.5f64.powf(a));
        // density p^(a-1) (1-p)^(b-1) / B(a,b); dp = dq / (a p^(a-1))
        let low = integrate_pieces(
            what,
            |q: f64| {
                let p = q.powf(1.0 / a);
                Ok(g(p) * ((b - 1.0) * (-p).ln_1p() - ln_b).exp() / a)
            },
            &low_cuts,
            1e-10,
        )?;
        let mut high_cuts = vec![0.0];
        high_cuts.extend(
            spread
                .iter()
                .map(|f| f * (1.0 - mean))
                .filter(|w| *w < 0.5)
                .map(|w| w.powf(b)),
        );
        high_cuts.push(0.5f64.powf(b));
        // dp = -dw / (b (1-p)^(b-1))
        let high = integrate_pieces(
            what,
            |w: f64| {
                let p = 1.0 - w.powf(1.0 / b);
                Ok(g(p) * ((a - 1.0) * p.ln() - ln_b).exp() / b)
            },
            &high_cuts,
            1e-10,
        )?;
        finite(what, low + high)
    }

    /// Probability of still being alive after a further t: E[exp(-λ p t)] =
    /// 2F1(k, a; a+b; -t/A), computed with the Pfaff transform
    /// (1 + t/A)^-k 2F1(k, b; a+b; t/(A+t)).
    pub fn survival(&self, t: f64) -> Result<f64, PredictError> {
        if t == 0.0 {
            return Ok(1.0);
        }
        let (k, aa, a, b) = (self.k, self.big_a, self.a, self.b);
        let ln = -k * (t / aa).ln_1p() + hyp("p_alive", k, b, a + b, t / (aa + t))?;
        finite("p_alive", ln.exp().min(1.0))
    }

    /// Probability of exactly n purchases in (0, t] (Fader, Hardie & Lee 2005, eq. 8, posterior
    /// parameters): B(a, b+n)/B(a,b) NBD(n) + [n > 0] B(a+1, b+n-1)/B(a,b) P(NBD >= n).
    pub fn pmf(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        let (k, aa, a, b) = (self.k, self.big_a, self.a, self.b);
        let nf = f64::from(n);
        let ln_b = ln_beta(a, b);
        let first = (ln_beta(a, b + nf) - ln_b + ln_nbd_pmf(n, k, aa, t)).exp();
        let second = if n > 0 && t > 0.0 {
            // P(NBD >= n) = I_{t/(A+t)}(n, k)
            let tail =
                statrs::function::beta::checked_beta_reg(nf, k, t / (aa + t)).map_err(|e| {
                    PredictError::Numerical {
                        what: "purchase probability",
                        detail: e.to_string(),
                    }
                })?;
            (ln_beta(a + 1.0, b + nf - 1.0) - ln_b).exp() * tail
        } else {
            0.0
        };
        finite("purchase probability", (first + second).clamp(0.0, 1.0))
    }

    /// Discounted expected purchases at continuous rate δ (`rate`): the closed form of the module
    /// `dert` at z = δA, D(k, a, b, δA), within its error bound ([`DertTerms::evaluate`]);
    /// where that bound is not met (a or k at or very near an integer, large z) the integral
    /// [`AliveBetaGeometric::dert_by_quadrature`].
    pub fn dert(&self, rate: f64) -> Result<f64, PredictError> {
        match DertTerms::new(self.k, self.a, self.b).and_then(|t| t.evaluate(rate * self.big_a)) {
            Some(v) => Ok(v),
            None => self.dert_by_quadrature(rate),
        }
    }

    /// Discounted expected purchases by quadrature: ∫_0^∞ e^{-δτ} m(τ) dτ with the purchase
    /// rate m(τ) = (k/A) 2F1(k+1, a; a+b; -τ/A) = (k/A) (1+τ/A)^-(k+1)
    /// 2F1(k+1, b; a+b; τ/(A+τ)), integrated in v = 1 - e^{-δτ} over [0, 1) (adaptive
    /// Gauss-Kronrod, relative tolerance [`DERT_QUADRATURE_TOLERANCES`]), cut where τ/A =
    /// 10^j / k (j = −3..9): the rate falls on scales 1/(kp), and at a small δA all of it sits
    /// near v = 0, where a single rule saw nothing and returned 0 (a = 999.6, δA = 1e-5).
    pub fn dert_by_quadrature(&self, rate: f64) -> Result<f64, PredictError> {
        let (k, aa, a, b) = (self.k, self.big_a, self.a, self.b);
        let z = rate * aa;
        let mut cuts = vec![0.0];
        for j in -3..=9 {
            let v = -(-z * 10f64.powi(j) / k).exp_m1();
            if v > cuts[cuts.len() - 1] && v < 1.0 {
                cuts.push(v);
            }
        }
        cuts.push(1.0);
        let rate_at = |v: f64| -> Result<f64, PredictError> {
            let tau = -(-v).ln_1p() / rate;
            if !tau.is_finite() {
                return Ok(0.0);
            }
            let ln_m = (k / aa).ln() - (k + 1.0) * (tau / aa).ln_1p()
                + if tau > 0.0 {
                    hyp("dert", k + 1.0, b, a + b, tau / (aa + tau))?
                } else {
                    0.0
                };
            Ok(ln_m.exp() / rate)
        };
        // A first rough pass sets the scale, so that a piece holding a negligible share of the
        // total need not meet the tolerance relative to itself.
        let mut rough = 0.0;
        for pair in cuts.windows(2) {
            rough += integrate("dert", rate_at, pair[0], pair[1], 1.0)?.abs();
        }
        let pieces = |tolerance: f64| -> Result<f64, PredictError> {
            let floor = tolerance * rough / cuts.len() as f64;
            let mut v = 0.0;
            for pair in cuts.windows(2) {
                v += integrate_to("dert", rate_at, pair[0], pair[1], tolerance, floor)?;
            }
            Ok(v)
        };
        let [fine, coarse] = DERT_QUADRATURE_TOLERANCES;
        let v = pieces(fine).or_else(|_| pieces(coarse))?;
        finite("dert", v)
    }
}

/// Log-likelihood and gradient (with respect to ln r, ln α, ln a, ln b) of the beta-geometric
/// family on prepared patterns. `offset` 0 gives BG/NBD (Fader, Hardie & Lee 2005, eq. 6), 1 gives
/// MBG/NBD (Batislam, Denizel & Filiztekin 2007: dropout is possible at the first purchase too):
///
/// ln L = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x+o) - ln B(a, b)
///        + ln[(α+T)^-(r+x) + [x+o > 0] a/(b+x+o-1) (α+t_x)^-(r+x)]
///
/// Per-x terms (ln Γ, ln B, digammas) are computed once per distinct x, and ln(α + t) once per
/// distinct time of an x (with the data's [`TimeTables`](crate::models::btyd::TimeTables), else
/// per row); each row costs an exponential and a logarithm besides.
pub(crate) fn beta_geometric_ll(data: &Prepared, theta: &[f64], offset: f64) -> (f64, [f64; 4]) {
    use statrs::function::gamma::digamma;
    let [r, alpha, a, b] = [
        theta[0].exp(),
        theta[1].exp(),
        theta[2].exp(),
        theta[3].exp(),
    ];
    if ![r, alpha, a, b].iter().all(|v| v.is_finite() && *v > 0.0) {
        return (f64::NEG_INFINITY, [0.0; 4]);
    }
    let ln_alpha = alpha.ln();
    let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
    let (lb_ab, psi_ab, psi_b) = (ln_beta(a, b), digamma(a + b), digamma(b));
    let (ll, g) = data.sum_groups::<4, _>(|group, x, rows| {
        let bx = b + x + offset;
        let c1 = ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, bx) - lb_ab;
        let dr1 = digamma(r + x) - psi_r + ln_alpha;
        let psi_abx = digamma(a + bx);
        let da1 = psi_ab - psi_abx;
        let db1 = digamma(bx) + psi_ab - psi_b - psi_abx;
        let second = x + offset > 0.0;
        let lc = if second { (a / (bx - 1.0)).ln() } else { 0.0 };
        let db4 = if second { -1.0 / (bx - 1.0) } else { 0.0 };
        let rx = r + x;
        let (mut ll, mut g) = (0.0, [0.0; 4]);
        let (mut s_r, mut s_alpha, mut s_a, mut s_b, mut w_sum) = (0.0, 0.0, 0.0, 0.0, 0.0);
        // (α + t, ln(α + t)) per distinct time of the group: the values the rows would compute.
        let tables = data.times.as_ref().map(|times| {
            let at: Vec<(f64, f64)> = times
                .of_group(group)
                .iter()
                .map(|t| {
                    let v = alpha + t;
                    (v, v.ln())
                })
                .collect();
            (times, at)
        });
        for i in rows {
            let w = data.weight[i];
            let ((v_t, l_t), (v_tx, l_tx)) = match &tables {
                Some((times, at)) => (
                    at[times.age_at[i] as usize],
                    at[times.recency_at[i] as usize],
                ),
                None => {
                    let (v_t, v_tx) = (alpha + data.age[i], alpha + data.recency[i]);
                    (
                        (v_t, v_t.ln()),
                        (v_tx, if second { v_tx.ln() } else { 0.0 }),
                    )
                }
            };
            let a3 = -rx * l_t;
            let (lrow, w4, l_tx) = if second {
                let a4 = lc - rx * l_tx;
                // ln(e^a3 + e^a4) and the share of the second term with one exp and one ln_1p
                let d = a4 - a3;
                if d <= 0.0 {
                    let e = d.exp();
                    (a3 + e.ln_1p(), e / (1.0 + e), l_tx)
                } else {
                    let e = (-d).exp();
                    (a4 + e.ln_1p(), 1.0 / (1.0 + e), l_tx)
                }
            } else {
                (a3, 0.0, 0.0)
            };
            let w3 = 1.0 - w4;
            ll += w * lrow;
            w_sum += w;
            s_r += w * (-w3 * l_t - w4 * l_tx);
            s_alpha += w * (-w3 * rx / v_t - w4 * rx / v_tx);
            s_a += w * w4;
            s_b += w * w4;
        }
        ll += w_sum * c1;
        g[0] = w_sum * dr1 + s_r;
        g[1] = w_sum * r / alpha + s_alpha;
        g[2] = w_sum * da1 + s_a / a;
        g[3] = w_sum * db1 + s_b * db4;
        (ll, g)
    });
    let grad = [g[0] * r, g[1] * alpha, g[2] * a, g[3] * b];
    if ll.is_finite() && grad.iter().all(|v| v.is_finite()) {
        (ll, grad)
    } else {
        (f64::NEG_INFINITY, [0.0; 4])
    }
}

/// A beta-geometric model (BG/NBD with offset 0, MBG/NBD with offset 1) at known parameters in
/// the data's time unit: every prediction of the [`crate::models::TransactionModel`] trait.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Core {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub offset: f64,
}

impl Core {
    pub fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
        h.validate()?;
        let p = Patterns::new(
            crate::time::TimeUnit::DAYS,
            [(h.frequency, h.recency, h.age, 1.0)],
        )
        .map_err(|e| PredictError::Numerical {
            what: "log-likelihood",
            detail: e.to_string(),
        })?;
        let data = Prepared::new(&p, false);
        let theta = [self.r.ln(), self.alpha.ln(), self.a.ln(), self.b.ln()];
        finite(
            "log-likelihood",
            beta_geometric_ll(&data, &theta, self.offset).0,
        )
    }

    /// ln of the odds that the customer dropped out, (1 - P(alive)) / P(alive); -inf when
    /// dropout is impossible (BG/NBD with x = 0).
    pub(super) fn ln_dead_odds(&self, h: &History) -> f64 {
        let x = f64::from(h.frequency);
        if x + self.offset == 0.0 {
            return f64::NEG_INFINITY;
        }
        let bx = self.b + x + self.offset;
        // ln of the ratio, not a difference of two logarithms: the factor r + x is in the
        // thousands for heavy buyers and would magnify that difference's rounding.
        (self.a / (bx - 1.0)).ln()
            + (self.r + x) * ((self.alpha + h.age) / (self.alpha + h.recency)).ln()
    }

    /// P(alive at T): 1 / (1 + [x+o > 0] a/(b+x+o-1) ((α+T)/(α+t_x))^(r+x)).
    pub fn p_alive_now(&self, h: &History) -> Result<f64, PredictError> {
        h.validate()?;
        finite("p_alive", inv_one_plus_exp(self.ln_dead_odds(h)))
    }

    pub fn kernel(&self, h: &History) -> AliveBetaGeometric {
        let x = f64::from(h.frequency);
        AliveBetaGeometric {
            k: self.r + x,
            big_a: self.alpha + h.age,
            a: self.a,
            b: self.b + x + self.offset,
        }
    }

    pub fn p_alive(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(h)?;
        finite("p_alive", now * self.kernel(h).survival(t)?)
    }

    pub fn expected(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(h)?;
        finite("expected purchases", now * self.kernel(h).expected(t)?)
    }

    pub fn pmf(&self, h: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(h)?;
        let dead = if n == 0 { 1.0 - now } else { 0.0 };
        finite(
            "purchase probability",
            (dead + now * self.kernel(h).pmf(n, t)?).clamp(0.0, 1.0),
        )
    }

    pub fn dert(&self, h: &History, rate: f64) -> Result<f64, PredictError> {
        let rate = discount_rate(rate)?;
        let now = self.p_alive_now(h)?;
        finite("dert", now * self.kernel(h).dert(rate)?)
    }
}

/// Total log-likelihood of weighted patterns under a beta-geometric model.
pub(crate) fn total_beta_geometric_ll(
    model: &Core,
    patterns: &Patterns,
) -> Result<f64, PredictError> {
    let data = Prepared::new(patterns, false);
    let theta = [model.r.ln(), model.alpha.ln(), model.a.ln(), model.b.ln()];
    finite(
        "log-likelihood",
        beta_geometric_ll(&data, &theta, model.offset).0,
    )
}
