//! Discrete-time purchase-and-dropout process: BG/BB (Fader, Hardie & Shang 2010).

use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution};

use super::error::SimulationError;
use super::params::positive;
use super::process::{PurchaseProcess, SimRng, MAX_CUSTOMERS, MAX_PERIODS, MAX_REPEAT_PURCHASES};
use crate::error::InvalidParameter;
use crate::models::bg_bb::DiscretePatterns;
use crate::models::History;
use crate::time::TimeUnit;

/// The BG/BB process: one transaction opportunity per period. At the start of each period an
/// alive customer dies with probability θ ~ Beta(γ, δ); if still alive, transacts with probability
/// p ~ Beta(α, β).
///
/// As a [`PurchaseProcess`] the opportunities fall at whole multiples of the simulation's time
/// unit after the first purchase (so the unit is the period length); [`BgBbProcess::patterns`]
/// draws the (x, t_x, n) patterns directly.
///
/// ```
/// use customer_assets::simulate::BgBbProcess;
/// use customer_assets::TimeUnit;
/// let process = BgBbProcess::new(1.204, 0.750, 0.657, 2.783)?;
/// let data = process.patterns(TimeUnit::custom_days(365.0)?, 1_000, 6, 7)?;
/// assert_eq!(data.total_weight(), 1_000.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BgBbProcess {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

impl BgBbProcess {
    /// The process with p ~ Beta(α, β) and θ ~ Beta(γ, δ).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self, SimulationError> {
        Ok(BgBbProcess {
            alpha: positive("alpha", alpha)?,
            beta: positive("beta", beta)?,
            gamma: positive("gamma", gamma)?,
            delta: positive("delta", delta)?,
        })
    }

    /// The opportunities (1..=periods) at which one new customer transacts.
    fn draw(&self, rng: &mut SimRng, periods: u32, times: &mut Vec<f64>) {
        let (Ok(pd), Ok(td)) = (
            Beta::new(self.alpha, self.beta),
            Beta::new(self.gamma, self.delta),
        ) else {
            return;
        };
        let p: f64 = pd.sample(rng);
        let theta: f64 = td.sample(rng);
        for t in 1..=periods {
            if rng.random::<f64>() < theta {
                return;
            }
            if rng.random::<f64>() < p {
                times.push(t as f64);
                if times.len() >= MAX_REPEAT_PURCHASES {
                    return;
                }
            }
        }
    }

    /// Simulates `customers` new customers over `periods` opportunities (seeded, reproducible)
    /// and returns their weighted (x, t_x, n) patterns; `period` is the length of one
    /// opportunity, which the patterns carry.
    ///
    /// # Errors
    /// [`SimulationError::TooManyCustomers`] for more than [`MAX_CUSTOMERS`] customers;
    /// [`SimulationError::InvalidParameter`] for more than [`MAX_PERIODS`] periods, or if a
    /// simulated pattern is invalid (never expected).
    pub fn patterns(
        &self,
        period: TimeUnit,
        customers: usize,
        periods: u32,
        seed: u64,
    ) -> Result<DiscretePatterns, SimulationError> {
        if customers > MAX_CUSTOMERS {
            return Err(SimulationError::TooManyCustomers {
                customers,
                limit: MAX_CUSTOMERS,
            });
        }
        if periods > MAX_PERIODS {
            return Err(SimulationError::InvalidParameter(InvalidParameter::new(
                "periods",
                periods,
                "must be at most MAX_PERIODS (100,000)",
            )));
        }
        let mut rng = SimRng::seed_from_u64(seed);
        let mut counts = std::collections::BTreeMap::<(u32, u32), f64>::new();
        let mut times = Vec::new();
        for _ in 0..customers {
            times.clear();
            self.draw(&mut rng, periods, &mut times);
            let x = times.len() as u32;
            let t_x = times.last().map_or(0, |&t| t as u32);
            *counts.entry((x, t_x)).or_insert(0.0) += 1.0;
        }
        DiscretePatterns::new(
            period,
            counts.into_iter().map(|((x, t_x), w)| (x, t_x, periods, w)),
        )
        .map_err(|_| {
            SimulationError::InvalidParameter(InvalidParameter::new(
                "periods",
                periods as f64,
                "produced an invalid pattern",
            ))
        })
    }

    /// Simulates `customers` new customers over `calibration` + `holdout` opportunities and
    /// returns, per customer, the calibration history (x, t_x, n = `calibration`, in periods) and
    /// the number of transactions in the `holdout` opportunities after it.
    ///
    /// # Errors
    ///
    /// [`SimulationError::TooManyCustomers`] for more than [`MAX_CUSTOMERS`] customers;
    /// [`SimulationError::InvalidParameter`] when `calibration + holdout` exceeds
    /// [`MAX_PERIODS`].
    pub fn with_holdout(
        &self,
        customers: usize,
        calibration: u32,
        holdout: u32,
        seed: u64,
    ) -> Result<Vec<(History, u32)>, SimulationError> {
        if customers > MAX_CUSTOMERS {
            return Err(SimulationError::TooManyCustomers {
                customers,
                limit: MAX_CUSTOMERS,
            });
        }
        let periods = calibration
            .checked_add(holdout)
            .filter(|&p| p <= MAX_PERIODS)
            .ok_or_else(|| {
                SimulationError::InvalidParameter(InvalidParameter::new(
                    "calibration + holdout",
                    f64::from(calibration) + f64::from(holdout),
                    "must be at most MAX_PERIODS (100,000)",
                ))
            })?;
        let mut rng = SimRng::seed_from_u64(seed);
        let mut times = Vec::new();
        let mut out = Vec::with_capacity(customers);
        let cut = calibration as f64;
        for _ in 0..customers {
            times.clear();
            self.draw(&mut rng, periods, &mut times);
            let cal: Vec<f64> = times.iter().copied().filter(|&t| t <= cut).collect();
            let x = cal.len() as u32;
            let t_x = cal.last().copied().unwrap_or(0.0);
            let later = times.len() as u32 - x;
            out.push((History::new(x, t_x, cut), later));
        }
        Ok(out)
    }
}

impl PurchaseProcess for BgBbProcess {
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>) {
        let periods = if horizon.is_finite() && horizon >= 0.0 {
            horizon.floor().min(u32::MAX as f64) as u32
        } else {
            0
        };
        self.draw(rng, periods, times);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_patterns() {
        let p = BgBbProcess::new(1.2, 0.75, 0.66, 2.8).unwrap();
        let year = TimeUnit::custom_days(365.0).unwrap();
        assert_eq!(
            p.patterns(year, 500, 6, 3).unwrap(),
            p.patterns(year, 500, 6, 3).unwrap()
        );
        assert_ne!(
            p.patterns(year, 500, 6, 3).unwrap(),
            p.patterns(year, 500, 6, 4).unwrap()
        );
    }
}
