//! Continuous-time purchase-and-dropout processes: BG/NBD, MBG/NBD and Pareto/NBD.

use rand::RngExt;
use rand_distr::{Beta, Distribution, Exp};

use super::error::SimulationError;
use super::params::{gamma, positive};
use super::process::{PurchaseProcess, SimRng, MAX_REPEAT_PURCHASES};

/// The BG/NBD process (Fader, Hardie & Lee 2005): while alive a customer buys at Poisson rate
/// λ ~ Gamma(r, rate α); after each repeat purchase they drop out with probability p ~ Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BgNbdProcess {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl BgNbdProcess {
    /// The process with purchase-rate heterogeneity Gamma(r, α) and dropout Beta(a, b).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, SimulationError> {
        Ok(BgNbdProcess {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            a: positive("a", a)?,
            b: positive("b", b)?,
        })
    }
}

impl PurchaseProcess for BgNbdProcess {
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>) {
        let (Ok(rate), Ok(dropout)) = (gamma(self.r, 1.0 / self.alpha), Beta::new(self.a, self.b))
        else {
            return;
        };
        let lambda = rate.sample(rng);
        let p = dropout.sample(rng);
        let Ok(gap) = Exp::new(lambda) else { return };
        let mut t = 0.0;
        loop {
            t += gap.sample(rng);
            if t > horizon || times.len() >= MAX_REPEAT_PURCHASES {
                return;
            }
            times.push(t);
            if rng.random::<f64>() < p {
                return;
            }
        }
    }
}

/// The MBG/NBD process (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a customer may
/// also drop out right after the first purchase: with probability p ~ Beta(a, b) at time 0 and
/// after each repeat purchase.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MbgNbdProcess {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl MbgNbdProcess {
    /// The process with purchase-rate heterogeneity Gamma(r, α) and dropout Beta(a, b).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, SimulationError> {
        Ok(MbgNbdProcess {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            a: positive("a", a)?,
            b: positive("b", b)?,
        })
    }
}

impl PurchaseProcess for MbgNbdProcess {
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>) {
        let (Ok(rate), Ok(dropout)) = (gamma(self.r, 1.0 / self.alpha), Beta::new(self.a, self.b))
        else {
            return;
        };
        let lambda = rate.sample(rng);
        let p = dropout.sample(rng);
        if rng.random::<f64>() < p {
            return;
        }
        let Ok(gap) = Exp::new(lambda) else { return };
        let mut t = 0.0;
        loop {
            t += gap.sample(rng);
            if t > horizon || times.len() >= MAX_REPEAT_PURCHASES {
                return;
            }
            times.push(t);
            if rng.random::<f64>() < p {
                return;
            }
        }
    }
}

/// The Pareto/NBD process (Schmittlein, Morrison & Colombo 1987): while alive a customer buys at
/// Poisson rate λ ~ Gamma(r, rate α); the lifetime is exponential with rate μ ~ Gamma(s, rate β).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ParetoNbdProcess {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

impl ParetoNbdProcess {
    /// The process with purchase-rate heterogeneity Gamma(r, α) and dropout-rate Gamma(s, β).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self, SimulationError> {
        Ok(ParetoNbdProcess {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            s: positive("s", s)?,
            beta: positive("beta", beta)?,
        })
    }
}

impl PurchaseProcess for ParetoNbdProcess {
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>) {
        let (Ok(rate), Ok(death)) = (
            gamma(self.r, 1.0 / self.alpha),
            gamma(self.s, 1.0 / self.beta),
        ) else {
            return;
        };
        let lambda = rate.sample(rng);
        let mu = death.sample(rng);
        let (Ok(gap), Ok(life)) = (Exp::new(lambda), Exp::new(mu)) else {
            return;
        };
        let end = life.sample(rng).min(horizon);
        poisson_until(rng, &gap, end, times);
    }
}

/// Appends the times of a Poisson process with inter-purchase times `gap` up to `end` (a
/// customer's death or the horizon), at most [`MAX_REPEAT_PURCHASES`] in all.
fn poisson_until(rng: &mut SimRng, gap: &Exp<f64>, end: f64, times: &mut Vec<f64>) {
    let mut t = 0.0;
    loop {
        t += gap.sample(rng);
        if t > end || times.len() >= MAX_REPEAT_PURCHASES {
            return;
        }
        times.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn mean_repeats(p: &dyn PurchaseProcess, horizon: f64, n: usize) -> f64 {
        let mut rng = SimRng::seed_from_u64(11);
        let mut times = Vec::new();
        let mut total = 0usize;
        for _ in 0..n {
            times.clear();
            p.repeat_purchases(&mut rng, horizon, &mut times);
            assert!(times.windows(2).all(|w| w[0] <= w[1]));
            assert!(times.iter().all(|&t| t > 0.0 && t <= horizon));
            total += times.len();
        }
        total as f64 / n as f64
    }

    #[test]
    fn ggompertz_nbd_mean_matches_the_survival_integral() {
        // E[X(t)] = (r/α) ∫₀ᵗ S(u) du with S(u) = (β / (β + e^{bu} − 1))^s (Bemmaor & Glady
        // 2012), integrated here by the trapezoid rule on 52,000 steps.
        let (r, alpha, b, s, beta, t) = (0.8, 8.0, 0.05, 0.7, 2.5, 52.0);
        let p = GGompertzNbdProcess::new(r, alpha, b, s, beta).unwrap();
        let survival = |u: f64| (beta / (beta + (b * u).exp_m1())).powf(s);
        let steps = 52_000;
        let h = t / f64::from(steps);
        let area: f64 = (0..steps)
            .map(|k| 0.5 * h * (survival(h * f64::from(k)) + survival(h * f64::from(k + 1))))
            .sum();
        let expected = r / alpha * area;
        let got = mean_repeats(&p, t, 200_000);
        assert!(
            (got - expected).abs() < 0.02 * expected + 0.01,
            "{got} vs {expected}"
        );
        assert!(GGompertzNbdProcess::new(r, alpha, 0.0, s, beta).is_err());
    }

    #[test]
    fn pareto_nbd_mean_matches_the_closed_form() {
        // E[X(t)] = r β / (α (s − 1)) [1 − (β / (β + t))^(s − 1)] (Schmittlein et al. 1987).
        let (r, alpha, s, beta, t) = (0.8, 8.0, 2.5, 12.0, 52.0);
        let p = ParetoNbdProcess::new(r, alpha, s, beta).unwrap();
        let expected = r * beta / (alpha * (s - 1.0)) * (1.0 - (beta / (beta + t)).powf(s - 1.0));
        let got = mean_repeats(&p, t, 200_000);
        assert!(
            (got - expected).abs() < 0.02 * expected + 0.01,
            "{got} vs {expected}"
        );
    }

    #[test]
    fn mbg_nbd_drops_out_at_time_zero_with_the_mean_dropout_probability() {
        // With p ~ Beta(1, 3) (mean 1/4) and a rate so low nobody buys again within the
        // horizon, the share without repeat purchases is P(no purchase) ≈ 1; with a high rate it
        // is the share that dropped out at time 0: E[p] = 1/4 (BG/NBD has none).
        let mut rng = SimRng::seed_from_u64(5);
        let mbg = MbgNbdProcess::new(50.0, 1.0, 1.0, 3.0).unwrap();
        let bg = BgNbdProcess::new(50.0, 1.0, 1.0, 3.0).unwrap();
        let n = 40_000;
        let mut times = Vec::new();
        let mut none = [0usize; 2];
        for _ in 0..n {
            for (k, p) in [&mbg as &dyn PurchaseProcess, &bg].into_iter().enumerate() {
                times.clear();
                p.repeat_purchases(&mut rng, 10.0, &mut times);
                none[k] += usize::from(times.is_empty());
            }
        }
        let share = none[0] as f64 / n as f64;
        assert!((share - 0.25).abs() < 0.01, "{share}");
        assert_eq!(none[1], 0);
    }

    #[test]
    fn bg_nbd_mean_matches_the_closed_form_without_dropout_limit() {
        // With b huge, p ≈ 0 and BG/NBD is an NBD: E[X(t)] = r t / α.
        let p = BgNbdProcess::new(0.8, 8.0, 0.001, 1e6).unwrap();
        let got = mean_repeats(&p, 40.0, 100_000);
        let expected = 0.8 * 40.0 / 8.0;
        assert!(
            (got - expected).abs() < 0.03 * expected,
            "{got} vs {expected}"
        );
    }
}

/// The GGompertz/NBD process (Bemmaor & Glady 2012): while alive a customer buys at Poisson rate
/// λ ~ Gamma(r, rate α); the lifetime is Gompertz, P(τ > t | η) = exp(−η(e^{bt} − 1)), with the
/// frailty η ~ Gamma(s, rate β).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GGompertzNbdProcess {
    r: f64,
    alpha: f64,
    b: f64,
    s: f64,
    beta: f64,
}

impl GGompertzNbdProcess {
    /// The process with purchase-rate heterogeneity Gamma(r, α), ageing rate b and frailty
    /// Gamma(s, β).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(r: f64, alpha: f64, b: f64, s: f64, beta: f64) -> Result<Self, SimulationError> {
        Ok(GGompertzNbdProcess {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            b: positive("b", b)?,
            s: positive("s", s)?,
            beta: positive("beta", beta)?,
        })
    }
}

impl PurchaseProcess for GGompertzNbdProcess {
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>) {
        let (Ok(rate), Ok(frailty), Ok(unit)) = (
            gamma(self.r, 1.0 / self.alpha),
            gamma(self.s, 1.0 / self.beta),
            Exp::new(1.0),
        ) else {
            return;
        };
        let lambda = rate.sample(rng);
        let eta = frailty.sample(rng);
        let Ok(gap) = Exp::new(lambda) else {
            return;
        };
        // Inverse of the survival: η(e^{bτ} − 1) = E with E ~ Exp(1).
        let e: f64 = unit.sample(rng);
        let life = (e / eta).ln_1p() / self.b;
        let end = if life.is_nan() {
            horizon
        } else {
            life.min(horizon)
        };
        poisson_until(rng, &gap, end, times);
    }
}
