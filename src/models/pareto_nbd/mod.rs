//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987, "Counting your customers: who
//! are they and what will they do next?", *Management Science* 33(1)), with the likelihood of
//! Fader & Hardie's note "A note on implementing the Pareto/NBD model in MATLAB" and the DERT of
//! Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", *JMR* 42(4).
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α); their lifetime is exponential
//! with rate μ ~ gamma(s, β) (α and β per time unit). Everything is computed in log space, so
//! heavy buyers (x in the thousands) get finite, correct answers.
//!
//! The parts, as for every model of the crate (see [`crate::fit`]): [`ParetoNbdParams`] (how to
//! fit, implementing [`Fit<Patterns>`](Fit)), [`ParetoNbd`] (the model, with every prediction of
//! [`TransactionModel`]) and [`ParetoNbdParameters`] (the values of r, α, s and β).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! // (x, t_x, T, number of customers with that pattern), in weeks
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0),
//!     (2, 5.0, 35.0, 8.0), (1, 2.0, 37.0, 10.0), (4, 12.0, 38.0, 4.0),
//! ])?;
//! let fitted = ParetoNbdParams::new().fit(&patterns)?;
//! assert!(fitted.report().ok_or("a fitted model has its report")?.converged);
//! let se = fitted.standard_errors().ok_or("and its standard errors")?;
//! assert!(se.r > 0.0);
//!
//! // The CDNOW estimates (Fader, Hardie & Lee 2005), per week
//! let cdnow = ParetoNbdParameters { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
//! let model = ParetoNbd::new(cdnow, TimeUnit::WEEKS)?;
//! let heavy = History::new(221, 103.43, 103.57);
//! let p = model.p_alive(&heavy, 0.0)?;
//! assert!(p > 0.99 && p <= 1.0);
//! assert!((model.expected_purchases_new(52.0)? - 1.473).abs() < 1e-3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::InvalidParameter;
use crate::fit::{Covariance, Fit, FitError, FitOptions, FitReport};
use crate::models::btyd::{
    discount_rate, finite, fit_log_params, horizon, integrate, ln_nbd_pmf, Prepared, COARSE_ROWS,
};
use crate::special::{inv_one_plus_exp, log_sum_exp as lse, one_minus_exp_over};

use crate::models::error::PredictError;
use crate::models::history::History;
use crate::models::transaction_model::TransactionModel;
use crate::optimize::Objective;
use crate::special::{APlusOneSeries, SpecialError, A_PLUS_ONE_MAX_Z};
use crate::summary::Patterns;
use crate::time::TimeUnit;
use statrs::function::gamma::{digamma, ln_gamma};

/// The model's name, in errors and reports.
const MODEL: &str = "pareto-nbd";
/// The parameter names, in the covariance's order.
const NAMES: [&str; 4] = ["r", "alpha", "s", "beta"];

/// How to fit a Pareto/NBD model: the optimizer's settings ([`FitOptions`]) and an optional first
/// starting point, checked by [`Fit::check`] before any work. Fit with [`Fit::fit`] on
/// [`Patterns`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParetoNbdParams {
    options: FitOptions,
    start: Option<ParetoNbdParameters>,
}

impl ParetoNbdParams {
    /// Default options (see [`FitOptions`]), the built-in starting points.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// L2 penalty on the log-parameters (on the rescaled time axis; 0 = plain maximum likelihood).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.options = self.options.penalty(penalty);
        self
    }

    /// First starting point (α and β in the data's time unit), tried before the built-in ones;
    /// every value must be finite and positive.
    pub fn start(mut self, start: ParetoNbdParameters) -> Self {
        self.start = Some(start);
        self
    }
}

impl Fit<Patterns> for ParetoNbdParams {
    type Model = ParetoNbd;
    type Error = FitError;

    /// Checks the fit options and the starting point.
    ///
    /// # Errors
    /// [`FitError::InvalidParameter`] naming the first option or starting value out of range.
    fn check(&self) -> Result<(), FitError> {
        self.options.check()?;
        if let Some(start) = &self.start {
            for (name, value) in NAMES.into_iter().zip(start.to_array()) {
                InvalidParameter::positive(name, value)?;
            }
        }
        Ok(())
    }

    /// Fits the model by maximum likelihood (analytic gradients through ln ₂F₁), with the
    /// covariance of (r, α, s, β) from the Hessian (delta method).
    ///
    /// # Errors
    /// - [`FitError::InvalidParameter`]: an option or starting value is out of range (see
    ///   [`Fit::check`]);
    /// - [`FitError::NoData`]: no patterns, or no customer with a repeat purchase;
    /// - [`FitError::Optimizer`]: no start converged;
    /// - [`FitError::Numerical`]: the estimate, its Hessian or its covariance is not finite, or
    ///   the negative Hessian is not positive definite.
    fn fit(&self, patterns: &Patterns) -> Result<ParetoNbd, FitError> {
        self.check()?;
        if patterns.is_empty() {
            return Err(FitError::NoData {
                model: MODEL,
                reason: "no patterns",
            });
        }
        let data = Prepared::new(patterns, true);
        if data.repeaters() == 0.0 {
            return Err(FitError::NoData {
                model: MODEL,
                reason: "no customer has a repeat purchase",
            });
        }
        let mut starts = Vec::new();
        if let Some(s) = &self.start {
            starts.push(vec![
                s.r.ln(),
                (s.alpha / data.scale).ln(),
                s.s.ln(),
                (s.beta / data.scale).ln(),
            ]);
        }
        starts.push(vec![0.0, 0.0, 0.0, 0.0]);
        starts.push(vec![
            (0.5f64).ln(),
            (0.3f64).ln(),
            (0.5f64).ln(),
            (0.3f64).ln(),
        ]);
        starts.push(vec![
            (2.0f64).ln(),
            (2.0f64).ln(),
            (2.0f64).ln(),
            (4.0f64).ln(),
        ]);
        let objective = ParetoObjective { data: &data };
        let thin = data.thinned(COARSE_ROWS);
        let coarse = thin.as_ref().map(|data| ParetoObjective { data });
        let fitted = fit_log_params::<4>(
            MODEL,
            &["r", "alpha", "s", "beta"],
            &objective,
            coarse.as_ref().map(|c| c as &dyn Objective),
            &starts,
            &self.options,
            data.scale,
            &[1, 3],
            -data.weighted_x * data.scale.ln(),
        )?;
        let mut model = ParetoNbd::new(
            ParetoNbdParameters::from_array(fitted.params),
            patterns.unit(),
        )
        .map_err(|e| FitError::Numerical {
            model: MODEL,
            detail: format!("estimate: {e}"),
        })?;
        model.covariance = Some(fitted.covariance);
        model.report = Some(fitted.report);
        Ok(model)
    }
}

struct ParetoObjective<'a> {
    data: &'a Prepared,
}

impl Objective for ParetoObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn weight(&self) -> f64 {
        self.data.weight.iter().sum()
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
        let z = (alpha - beta) / m;
        let (v, [ga, gb, gc, gz]) =
            crate::special::ln_hyp2f1_grad(n, s + 1.0, n + 1.0, z).map_err(|e| e.to_string())?;
        let lm = m.ln();
        Ok((
            v - n * lm,
            [
                ga + gc - lm,
                gz * (beta + t) / (m * m) - n / m,
                ga + gb + gc - lm,
                -gz / m,
            ],
        ))
    } else {
        let m = beta + t;
        let z = (beta - alpha) / m;
        let (v, [ga, gb, gc, gz]) =
            crate::special::ln_hyp2f1_grad(n, r + x, n + 1.0, z).map_err(|e| e.to_string())?;
        let lm = m.ln();
        Ok((
            v - n * lm,
            [
                ga + gb + gc - lm,
                -gz / m,
                ga + gc - lm,
                gz * (alpha + t) / (m * m) - n / m,
            ],
        ))
    }
}

/// Per-row pieces: B = -(r+x) ln(α+T) - s ln(β+T) and D = ln s - ln(r+s+x) + ln A₀ with
/// A₀ = F(t_x) - F(T), each with its gradient in (r, α, s, β).
struct RowTerms {
    b: f64,
    db: [f64; 4],
    d: f64,
    dd: [f64; 4],
}

#[allow(clippy::too_many_arguments)]
fn row_terms(
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    x: f64,
    t_x: f64,
    age: f64,
) -> Result<RowTerms, String> {
    let at_recency = ln_f(r, alpha, s, beta, x, t_x)?;
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
    /// `None` when the series does not apply (then every row takes the general path).
    fn new(r: f64, alpha: f64, s: f64, beta: f64, x: f64) -> Option<Self> {
        let alpha_ge_beta = alpha >= beta;
        let r_x = r + x;
        // z is largest at t = 0; a little headroom for rounding in z per row.
        let z_max = ((alpha - beta).abs() / alpha.max(beta) * (1.0 + 1e-9)).min(A_PLUS_ONE_MAX_Z);
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

/// Total log-likelihood and gradient in (ln r, ln α, ln s, ln β).
fn pareto_ll(data: &Prepared, theta: &[f64]) -> (f64, [f64; 4]) {
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
    let (ll, g) = data.sum_groups::<4, _>(|x, rows| {
        let c = ln_gamma(r + x) - lg_r + r * l_alpha + s * l_beta;
        let dc = [
            digamma(r + x) - psi_r + l_alpha,
            r / alpha,
            l_beta,
            s / beta,
        ];
        let fast = FastGroup::new(r, alpha, s, beta, x);
        let (mut ll, mut g, mut w_sum) = (0.0, [0.0; 4], 0.0);
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

/// The four Pareto/NBD parameters: the values of a model, its starting point, or the
/// standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParetoNbdParameters {
    /// r: shape of the purchase-rate gamma distribution (dimensionless).
    pub r: f64,
    /// α: rate of the purchase-rate gamma distribution, in the model's time unit (the mean
    /// purchase rate while alive is r/α per time unit).
    pub alpha: f64,
    /// s: shape of the dropout-rate gamma distribution (dimensionless).
    pub s: f64,
    /// β: rate of the dropout-rate gamma distribution, in the model's time unit (the mean
    /// dropout rate is s/β per time unit).
    pub beta: f64,
}

impl ParetoNbdParameters {
    fn from_array([r, alpha, s, beta]: [f64; 4]) -> Self {
        ParetoNbdParameters { r, alpha, s, beta }
    }

    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }
}

/// A fitted (or given) Pareto/NBD model: its parameters, their covariance and the fit's report
/// when fitted, and the time unit of α and β.
///
/// Serializes its parameters, covariance, report and unit; deserializes only through
/// [`ParetoNbd::new`]'s checks, with a covariance of r, alpha, s and beta (in that order).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ParetoNbdData"))]
pub struct ParetoNbd {
    parameters: ParetoNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

/// A [`ParetoNbd`] as stored, before its checks.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ParetoNbdData {
    parameters: ParetoNbdParameters,
    covariance: Option<Covariance>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<ParetoNbdData> for ParetoNbd {
    type Error = InvalidParameter;
    fn try_from(data: ParetoNbdData) -> Result<Self, Self::Error> {
        let mut model = ParetoNbd::new(data.parameters, data.unit)?;
        if let Some(covariance) = &data.covariance {
            if covariance.names().iter().map(String::as_str).ne(NAMES) {
                return Err(InvalidParameter::new(
                    "covariance",
                    covariance.names().len() as f64,
                    "must be of the parameters r, alpha, s, beta, in this order",
                ));
            }
        }
        model.covariance = data.covariance;
        model.report = data.report;
        Ok(model)
    }
}

impl ParetoNbd {
    /// A model with given parameters (α and β per `unit`; for example from a previous fit or a
    /// paper), all finite and positive. It has no covariance or report.
    ///
    /// # Errors
    /// [`InvalidParameter`] naming the first parameter that is not finite and positive.
    pub fn new(parameters: ParetoNbdParameters, unit: TimeUnit) -> Result<Self, InvalidParameter> {
        for (name, value) in NAMES.into_iter().zip(parameters.to_array()) {
            InvalidParameter::positive(name, value)?;
        }
        Ok(ParetoNbd {
            parameters,
            covariance: None,
            report: None,
            unit,
        })
    }

    /// The parameters (α and β per [`ParetoNbd::unit`]).
    pub fn parameters(&self) -> ParetoNbdParameters {
        self.parameters
    }

    /// Standard errors of (r, α, s, β): the square roots of the covariance's diagonal; `None`
    /// without a covariance (a model built by [`ParetoNbd::new`]).
    pub fn standard_errors(&self) -> Option<ParetoNbdParameters> {
        let covariance = self.covariance.as_ref()?;
        let se = |i| covariance.get(i, i).map(f64::sqrt);
        Some(ParetoNbdParameters {
            r: se(0)?,
            alpha: se(1)?,
            s: se(2)?,
            beta: se(3)?,
        })
    }

    /// The covariance of (r, α, s, β) at the estimate (delta method from the Hessian in
    /// log-parameters); `None` for a model built by [`ParetoNbd::new`].
    pub fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    /// The fit's report; `None` for a model built by [`ParetoNbd::new`].
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// The time unit of α, β, histories and horizons.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }

    /// Total log-likelihood of weighted patterns (in the model's time unit).
    ///
    /// # Errors
    /// [`PredictError::Numerical`] when the value is not finite.
    pub fn total_log_likelihood(&self, patterns: &Patterns) -> Result<f64, PredictError> {
        let data = Prepared::new(patterns, false);
        let p = self.parameters;
        finite(
            "log-likelihood",
            pareto_ll(&data, &[p.r.ln(), p.alpha.ln(), p.s.ln(), p.beta.ln()]).0,
        )
    }

    fn terms(&self, h: &History) -> Result<RowTerms, PredictError> {
        h.validate()?;
        let p = self.parameters;
        row_terms(
            p.r,
            p.alpha,
            p.s,
            p.beta,
            f64::from(h.frequency),
            h.recency,
            h.age,
        )
        .map_err(|detail| PredictError::Numerical {
            what: "pareto/nbd likelihood",
            detail,
        })
    }

    fn p_alive_now(&self, h: &History) -> Result<f64, PredictError> {
        let t = self.terms(h)?;
        finite("p_alive", inv_one_plus_exp(t.d - t.b))
    }

    /// P(exactly n purchases in (0, t]) for a customer alive at the start whose rates have the
    /// gamma(k, a_rate) and gamma(s, b_rate) distributions: the customer either survives the
    /// whole window, or dies at τ < t (Fader & Hardie's note on the conditional PMF):
    /// NBD(n; t) (B/(B+t))^s + ∫₀ᵗ s Bˢ (B+τ)^-(s+1) NBD(n; τ) dτ.
    fn alive_pmf(
        &self,
        n: u32,
        k: f64,
        a_rate: f64,
        b_rate: f64,
        t: f64,
    ) -> Result<f64, PredictError> {
        let s = self.parameters.s;
        let survive = (ln_nbd_pmf(n, k, a_rate, t) - s * (t / b_rate).ln_1p()).exp();
        if t == 0.0 {
            return Ok(survive);
        }
        let die = integrate(
            "purchase probability",
            |tau: f64| {
                let ln = s.ln() - b_rate.ln() - (s + 1.0) * (tau / b_rate).ln_1p()
                    + ln_nbd_pmf(n, k, a_rate, tau);
                Ok(ln.exp())
            },
            0.0,
            t,
            1e-10,
        )?;
        finite("purchase probability", (survive + die).clamp(0.0, 1.0))
    }
}

/// e^z z^(-a) Γ(a, z) for real a < 1 and z > 0 (the scaled upper incomplete gamma function):
/// a continued fraction for z >= 2; for z < 2 a series around a₀ = a + m in (-1/2, 1) written so
/// that it does not cancel near a₀ = 0 (Temme's form), then the recurrence
/// G(a) = (z G(a+1) - 1) / a down to a.
fn scaled_upper_gamma(a: f64, z: f64) -> Result<f64, PredictError> {
    const TINY: f64 = 1e-300;
    let fail = |detail: String| PredictError::Numerical {
        what: "incomplete gamma",
        detail,
    };
    if !(a.is_finite() && a < 1.0 && z.is_finite() && z > 0.0) {
        return Err(fail(format!("needs a < 1 and z > 0, got a = {a}, z = {z}")));
    }
    if z >= 2.0 {
        // modified Lentz on Γ(a,z) = e^-z z^a / (z+1-a- 1(1-a)/(z+3-a- 2(2-a)/(z+5-a- ...)))
        let mut b = z + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
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
        return Err(fail(format!(
            "continued fraction did not converge (a = {a}, z = {z})"
        )));
    }
    let m = if a > -0.5 {
        0
    } else {
        ((-0.5 - a).floor() as i64) + 1
    };
    let a0 = a + m as f64;
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
    for _ in 0..m {
        ai -= 1.0;
        g = (z * g - 1.0) / ai;
    }
    finite("incomplete gamma", g)
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

impl TransactionModel for ParetoNbd {
    fn named_parameters(&self) -> Vec<(String, f64)> {
        let p = self.parameters;
        vec![
            ("r".into(), p.r),
            ("alpha".into(), p.alpha),
            ("s".into(), p.s),
            ("beta".into(), p.beta),
        ]
    }

    fn fit_report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    fn covariance(&self) -> Option<&Covariance> {
        self.covariance.as_ref()
    }

    fn name(&self) -> &str {
        "pareto-nbd"
    }
    fn unit(&self) -> TimeUnit {
        self.unit
    }
    fn parameter_count(&self) -> usize {
        4
    }
    fn log_likelihood(&self, history: &History) -> Result<f64, PredictError> {
        let t = self.terms(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let c = ln_gamma(p.r + x) - ln_gamma(p.r) + p.r * p.alpha.ln() + p.s * p.beta.ln();
        finite("log-likelihood", c + lse(t.b, t.d))
    }
    /// P(alive at T) (Fader & Hardie's note, eq. 18) times the survival E[e^(-μt)] =
    /// ((β+T)/(β+T+t))^s.
    fn p_alive(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let b = self.parameters.beta + history.age;
        finite(
            "p_alive",
            now * (-self.parameters.s * (t / b).ln_1p()).exp(),
        )
    }
    /// P(alive) (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)], with its limit at s = 1.
    fn expected_purchases(&self, history: &History, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let b = p.beta + history.age;
        let per_alive = (p.r + x) / (p.alpha + history.age)
            * b
            * one_minus_exp_over(p.s - 1.0, (t / b).ln_1p());
        finite("expected purchases", now * per_alive)
    }
    fn purchase_probability(&self, history: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let alive = self.alive_pmf(n, p.r + x, p.alpha + history.age, p.beta + history.age, t)?;
        let dead = if n == 0 { 1.0 - now } else { 0.0 };
        finite("purchase probability", (dead + now * alive).clamp(0.0, 1.0))
    }
    /// r β / (α (s-1)) [1 - (β/(β+t))^(s-1)].
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let p = self.parameters;
        finite(
            "expected purchases",
            p.r / p.alpha * p.beta * one_minus_exp_over(p.s - 1.0, (t / p.beta).ln_1p()),
        )
    }
    fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
        let t = horizon(t)?;
        let p = self.parameters;
        self.alive_pmf(n, p.r, p.alpha, p.beta, t)
    }
    /// Closed form (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 2): P(alive) E\[λ\] E\[1/(δ+μ)\]
    /// = P(alive) (r+x)/(α+T) (β+T)^s δ^(s-1) U(s, s; δ(β+T)).
    fn dert(&self, history: &History, rate: f64) -> Result<f64, PredictError> {
        let rate = discount_rate(rate)?;
        let now = self.p_alive_now(history)?;
        let p = self.parameters;
        let x = f64::from(history.frequency);
        let b = p.beta + history.age;
        // (β+T)^s δ^(s-1) U(s,s,z) = (β+T) z^(s-1) U(s,s,z) = (β+T) G(1-s, z), z = δ(β+T)
        let g = scaled_upper_gamma(1.0 - p.s, rate * b)?;
        finite("dert", now * (p.r + x) / (p.alpha + history.age) * b * g)
    }
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

    /// The tabulated-series rows agree with the general ₂F₁ path, for α above, equal to and
    /// below β (the last set with z > 0.5 at t = 0, where F(t_x) comes from the general ₂F₁),
    /// light and heavy buyers, t_x near 0 and near T.
    #[test]
    fn fast_rows_match_the_general_path() {
        let mut compared = 0;
        for [r, alpha, s, beta] in [
            [0.553, 10.578, 0.606, 11.669],
            [0.553, 11.669, 0.606, 10.578],
            [0.243, 4.4, 0.793, 4.4],
            [2.0, 0.3, 0.05, 0.2],
            [0.02, 1.0, 3.0, 1.9],
            [1.3, 20.0, 0.4, 40.0],
            [0.52, 0.31, 1.03, 0.83],
        ] {
            for x in [0.0, 1.0, 2.0, 7.0, 221.0, 10_000.0] {
                let Some(fast) = FastGroup::new(r, alpha, s, beta, x) else {
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
                        panic!("fast row failed at x {x} t_x {t_x} T {age}");
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
        assert_eq!(compared, 7 * 6 * 6);
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

    fn small() -> Patterns {
        Patterns::new(
            TimeUnit::WEEKS,
            [
                (0, 0.0, 38.0, 60.0),
                (1, 20.0, 38.0, 20.0),
                (3, 30.0, 36.0, 10.0),
                (6, 34.0, 37.0, 6.0),
                (2, 5.0, 35.0, 8.0),
                (1, 2.0, 37.0, 10.0),
                (4, 12.0, 38.0, 4.0),
            ],
        )
        .unwrap()
    }

    const CDNOW: ParetoNbdParameters = ParetoNbdParameters {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.669,
    };

    #[test]
    fn fits_check_their_settings_first() {
        let bad_start = ParetoNbdParams::new().start(ParetoNbdParameters { s: -1.0, ..CDNOW });
        let Err(FitError::InvalidParameter(e)) = bad_start.check() else {
            panic!("a negative starting value passed the check");
        };
        assert_eq!((e.name(), e.value()), ("s", -1.0));
        assert!(matches!(
            bad_start.fit(&small()),
            Err(FitError::InvalidParameter(_))
        ));
        let bad_options = ParetoNbdParams::new().penalty(f64::NAN);
        assert!(matches!(
            bad_options.check(),
            Err(FitError::InvalidParameter(e)) if e.name() == "penalty"
        ));
        assert!(ParetoNbdParams::new().start(CDNOW).check().is_ok());
        let no_repeat = Patterns::new(TimeUnit::WEEKS, [(0, 0.0, 10.0, 3.0)]).unwrap();
        assert!(matches!(
            ParetoNbdParams::new().fit(&no_repeat),
            Err(FitError::NoData {
                model: "pareto-nbd",
                ..
            })
        ));
    }

    #[test]
    fn a_fitted_model_carries_its_covariance_and_report() {
        let m = ParetoNbdParams::new().start(CDNOW).fit(&small()).unwrap();
        let c = m.covariance().unwrap();
        assert_eq!(c.names(), ["r", "alpha", "s", "beta"]);
        let se = m.standard_errors().unwrap();
        assert_eq!(se.beta, c.get(3, 3).unwrap().sqrt());
        assert_eq!(TransactionModel::covariance(&m), Some(c));
        assert_eq!(m.fit_report(), m.report());
        assert!(m.report().unwrap().converged);
        assert_eq!(m.unit(), TimeUnit::WEEKS);
        let given = ParetoNbd::new(m.parameters(), m.unit()).unwrap();
        assert_eq!(given.covariance(), None);
        assert_eq!(given.standard_errors(), None);
        assert_eq!(given.report(), None);
        let bad = ParetoNbd::new(
            ParetoNbdParameters {
                alpha: 0.0,
                ..CDNOW
            },
            TimeUnit::WEEKS,
        );
        assert_eq!(bad.unwrap_err().name(), "alpha");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn deserialization_goes_through_the_checks() {
        let fitted = ParetoNbdParams::new().fit(&small()).unwrap();
        let json = serde_json::to_string(&fitted).unwrap();
        assert_eq!(serde_json::from_str::<ParetoNbd>(&json).unwrap(), fitted);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let refused =
            |v: &serde_json::Value| serde_json::from_value::<ParetoNbd>(v.clone()).is_err();
        let mut negative = value.clone();
        negative["parameters"]["beta"] = serde_json::json!(-11.669);
        assert!(refused(&negative));
        let mut renamed = value.clone();
        renamed["covariance"]["names"][1] = serde_json::json!("a");
        assert!(refused(&renamed));
        let mut asymmetric = value.clone();
        asymmetric["covariance"]["matrix"][0][1] = serde_json::json!(1.0e6);
        assert!(refused(&asymmetric));
        let mut bare = value;
        bare["covariance"] = serde_json::Value::Null;
        bare["report"] = serde_json::Value::Null;
        let bare: ParetoNbd = serde_json::from_value(bare).unwrap();
        assert_eq!(
            bare,
            ParetoNbd::new(fitted.parameters(), fitted.unit()).unwrap()
        );
    }

    #[test]
    fn batch_predictions_are_the_single_ones_in_order() {
        let m = ParetoNbd::new(CDNOW, TimeUnit::WEEKS).unwrap();
        let hs = [
            History::new(0, 0.0, 38.0),
            History::new(221, 103.43, 103.57),
            History::new(2, 30.43, 38.86),
        ];
        let e = m.expected_purchases_batch(&hs, 39.0).unwrap();
        let p = m.p_alive_batch(&hs).unwrap();
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(e[i], m.expected_purchases(h, 39.0).unwrap());
            assert_eq!(p[i], m.p_alive(h, 0.0).unwrap());
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
