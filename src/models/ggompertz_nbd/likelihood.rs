//! The GGompertz/NBD likelihood: the gamma/Gompertz lifetime's survival and density in log
//! space, one customer's likelihood with its gradient (the integral over the unobserved death
//! time by adaptive Gauss-Kronrod), and the total over prepared patterns that the fit maximises.
//!
//! With k = r + x, P = α + t_x, and the scale e^K = P^−k S(t_x) that bounds the likelihood,
//!
//! L / (C e^K) = A' + I',  A' = (P/(α+T))^k S(T)/S(t_x),
//! I' = ∫₀^U e^−(k−1)u P f(τ(u))/S(t_x) du,  τ(u) = t_x + P(eᵘ − 1),  U = ln((α+T)/P),
//!
//! where C = Γ(r+x)/Γ(r) α^r: the substitution α + τ = P eᵘ turns the factor (α+τ)^−k, which
//! falls steeply for a heavy buyer (large k) and varies over the scale α near τ = 0 when α is
//! small, into e^−(k−1)u. A' + I' lies in (0, 1].

use statrs::function::gamma::{digamma, ln_gamma};

use crate::models::btyd::{integrate_many, Prepared};
use crate::models::error::PredictError;
use crate::optimize::Objective;

/// Largest gamma shape (r or s) the fit evaluates, as for Pareto/NBD: a shape of 1000 means a
/// coefficient of variation of about 3% across customers, which no data set tells from none.
pub(super) const MAX_SHAPE: f64 = 1000.0;

/// Relative tolerance of the likelihood's quadrature (against the customer's likelihood, not the
/// integral alone). The estimate |Kronrod − Gauss| is that of the 7-point Gauss rule, so the
/// Kronrod value is far more accurate still.
const LL_TOLERANCE: f64 = 1e-10;

/// Beyond b t = 30, e^(bt) − 1 is e^(bt) to double precision relative to β > e^−40.
const LARGE_BT: f64 = 30.0;

/// The gamma/Gompertz lifetime: individual survival exp(−η(e^(bt) − 1)), η ~ gamma(s, β).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifetime {
    pub b: f64,
    pub s: f64,
    pub beta: f64,
    ln_beta: f64,
    ln_sb: f64,
}

/// The lifetime's quantities at one time t, with D(t) = β + e^(bt) − 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LifeAt {
    /// b t.
    pub bt: f64,
    /// ln D(t).
    pub ln_d: f64,
    /// ln(D(t)/β) = ln(1 + (e^(bt) − 1)/β), so that ln S(t) = −s `l`.
    pub l: f64,
    /// e^(bt)/D(t).
    pub growth_over_d: f64,
    /// β/D(t).
    pub beta_over_d: f64,
    /// (e^(bt) − 1)/D(t) = 1 − β/D(t).
    pub excess_over_d: f64,
}

impl Lifetime {
    pub(crate) fn new(b: f64, s: f64, beta: f64) -> Self {
        Lifetime {
            b,
            s,
            beta,
            ln_beta: beta.ln(),
            ln_sb: s.ln() + b.ln(),
        }
    }

    pub(crate) fn at(&self, t: f64) -> LifeAt {
        let bt = self.b * t;
        if bt < LARGE_BT {
            let excess = bt.exp_m1();
            let l = (excess / self.beta).ln_1p();
            let ln_d = self.ln_beta + l;
            let d = self.beta + excess;
            LifeAt {
                bt,
                ln_d,
                l,
                growth_over_d: (1.0 + excess) / d,
                beta_over_d: self.beta / d,
                excess_over_d: excess / d,
            }
        } else {
            // D = e^(bt) (1 + (β − 1) e^(−bt)), 1 + (β − 1) e^(−bt) > 0 for β > 0 and bt ≥ 0.
            let ln_d = bt + ((self.beta - 1.0) * (-bt).exp()).ln_1p();
            let beta_over_d = (self.ln_beta - ln_d).exp();
            LifeAt {
                bt,
                ln_d,
                l: ln_d - self.ln_beta,
                growth_over_d: (bt - ln_d).exp(),
                beta_over_d,
                excess_over_d: -(self.ln_beta - ln_d).exp_m1(),
            }
        }
    }

    /// ln S(t) = −s ln(D(t)/β).
    pub(crate) fn ln_survival(&self, at: &LifeAt) -> f64 {
        -self.s * at.l
    }

    /// ln f(t) = ln(s b) + bt − ln D(t) − s ln(D(t)/β), the lifetime's density.
    pub(crate) fn ln_density(&self, at: &LifeAt) -> f64 {
        self.ln_sb + at.bt - at.ln_d - self.s * at.l
    }

    /// Gradient of ln f(t) in (ln b, ln s, ln β).
    fn density_gradient(&self, at: &LifeAt) -> [f64; 3] {
        let s = self.s;
        [
            1.0 + at.bt - (s + 1.0) * at.bt * at.growth_over_d,
            1.0 - s * at.l,
            s - (s + 1.0) * at.beta_over_d,
        ]
    }

    /// Gradient of ln S(t) in (ln b, ln s, ln β).
    fn survival_gradient(&self, at: &LifeAt) -> [f64; 3] {
        let s = self.s;
        [
            -s * at.bt * at.growth_over_d,
            -s * at.l,
            s * at.excess_over_d,
        ]
    }
}

/// One customer's likelihood without the constant C = Γ(r+x)/Γ(r) α^r: ln A (alive at T),
/// ln(A + I) (all of it), and the gradient of ln(A + I) in (ln r, ln α, ln b, ln s, ln β).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RowLikelihood {
    pub ln_alive: f64,
    pub ln_total: f64,
    pub gradient: [f64; 5],
}

/// [`RowLikelihood`] of a customer with x repeat purchases (k = r + x), recency t_x and age T
/// (t_x ≤ T, on the time axis of r, α and b).
pub(crate) fn row_likelihood(
    life: &Lifetime,
    r: f64,
    alpha: f64,
    x: f64,
    t_x: f64,
    age: f64,
) -> Result<RowLikelihood, PredictError> {
    let k = r + x;
    let p = alpha + t_x;
    let ln_p = p.ln();
    let at_recency = life.at(t_x);
    let at_age = life.at(age);
    let ln_s_recency = life.ln_survival(&at_recency);
    // ln e^K = −k ln P + ln S(t_x)
    let ln_scale = -k * ln_p + ln_s_recency;
    let u_end = ((age - t_x) / p).ln_1p();
    let ln_a = -k * u_end + life.ln_survival(&at_age) - ln_s_recency;
    let a = ln_a.exp();
    let [ab, as_, abeta] = life.survival_gradient(&at_age);
    // The gradient of ln A without the constant −r ln P (shared by every term).
    let d_alive = [-r * u_end, -k * alpha / (alpha + age), ab, as_, abeta];
    let mut integral = [0.0; 6];
    if u_end > 0.0 {
        let base = ln_p - ln_s_recency;
        let integrand = |u: f64| -> Result<[f64; 6], PredictError> {
            let tau = t_x + p * u.exp_m1();
            let at = life.at(tau);
            let v = (base - (k - 1.0) * u + life.ln_density(&at)).exp();
            let [db, ds, dbeta] = life.density_gradient(&at);
            Ok([
                v,
                v * (-r * u),
                v * (-k * alpha / (p * u.exp())),
                v * db,
                v * ds,
                v * dbeta,
            ])
        };
        integral = integrate_many(
            "ggompertz/nbd likelihood",
            integrand,
            0.0,
            u_end,
            |total: &[f64; 6], err: &[f64; 6]| {
                let value = a + total[0];
                err[0] <= LL_TOLERANCE * value
                    && (1..6).all(|j| {
                        err[j] <= LL_TOLERANCE * ((a * d_alive[j - 1] + total[j]).abs() + value)
                    })
            },
        )?;
    }
    let value = a + integral[0];
    if !(value > 0.0 && value.is_finite()) {
        return Err(PredictError::Numerical {
            what: "ggompertz/nbd likelihood",
            detail: format!("likelihood ratio {value} at x {x}, t_x {t_x}, T {age}"),
        });
    }
    let gradient = std::array::from_fn(|j| {
        let shared = if j == 0 { -r * ln_p } else { 0.0 };
        shared + (a * d_alive[j] + integral[j + 1]) / value
    });
    Ok(RowLikelihood {
        ln_alive: ln_scale + ln_a,
        ln_total: ln_scale + value.ln(),
        gradient,
    })
}

/// The total weighted GGompertz/NBD log-likelihood of prepared patterns and its analytic
/// gradient in θ = (ln r, ln α, ln b, ln s, ln β), on the patterns' rescaled time axis (α per
/// rescaled unit, b per rescaled unit, β dimensionless). (−∞, 0) where θ is infeasible or the
/// likelihood is not finite; never NaN.
pub(crate) fn ggompertz_ll(data: &Prepared, theta: &[f64]) -> (f64, [f64; 5]) {
    let infeasible = (f64::NEG_INFINITY, [0.0; 5]);
    let [Some(&t0), Some(&t1), Some(&t2), Some(&t3), Some(&t4)] =
        [0, 1, 2, 3, 4].map(|i| theta.get(i))
    else {
        return infeasible;
    };
    let [r, alpha, b, s, beta] = [t0, t1, t2, t3, t4].map(f64::exp);
    if ![r, alpha, b, s, beta]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
    {
        return infeasible;
    }
    let life = Lifetime::new(b, s, beta);
    let (lg_r, psi_r, l_alpha) = (ln_gamma(r), digamma(r), alpha.ln());
    let (ll, g) = data.sum_groups::<5, _>(|_, x, rows| {
        let c = ln_gamma(r + x) - lg_r + r * l_alpha;
        let dc = [r * (digamma(r + x) - psi_r + l_alpha), r];
        let (mut ll, mut g, mut w_sum) = (0.0, [0.0; 5], 0.0);
        for i in rows {
            let (w, t_x, age) = (data.weight[i], data.recency[i], data.age[i]);
            let Ok(row) = row_likelihood(&life, r, alpha, x, t_x, age) else {
                return (f64::NEG_INFINITY, [0.0; 5]);
            };
            ll += w * row.ln_total;
            w_sum += w;
            for (gk, dk) in g.iter_mut().zip(row.gradient) {
                *gk += w * dk;
            }
        }
        ll += w_sum * c;
        g[0] += w_sum * dc[0];
        g[1] += w_sum * dc[1];
        (ll, g)
    });
    if ll.is_finite() && g.iter().all(|v| v.is_finite()) {
        (ll, g)
    } else {
        infeasible
    }
}

/// The likelihood on prepared patterns, for the optimizer.
pub(super) struct GGompertzObjective<'a> {
    pub(super) data: &'a Prepared,
}

impl Objective for GGompertzObjective<'_> {
    fn dim(&self) -> usize {
        5
    }
    fn weight(&self) -> f64 {
        self.data.weight.iter().sum()
    }
    /// r and s at most [`MAX_SHAPE`].
    fn theta_caps(&self) -> Option<Vec<f64>> {
        let cap = MAX_SHAPE.ln();
        Some(vec![cap, f64::INFINITY, f64::INFINITY, cap, f64::INFINITY])
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (ll, g) = ggompertz_ll(self.data, theta);
        for (d, v) in grad.iter_mut().zip(g) {
            *d = v;
        }
        ll
    }
}
