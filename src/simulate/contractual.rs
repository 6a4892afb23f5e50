//! Contract lifetimes: sBG and beta-discrete-Weibull cohorts.

use rand::{RngExt, SeedableRng};
use rand_distr::{Beta, Distribution};

use super::error::SimulationError;
use super::params::positive;
use super::process::{SimRng, MAX_PERIODS};
use crate::error::InvalidParameter;
use crate::models::contractual::Cohort;

/// Contract lifetimes from the beta-discrete-Weibull process (Fader et al. 2018): each customer
/// has θ ~ Beta(α, β) and survives t periods with probability (1 − θ)^{t^c}; c = 1 is the
/// shifted-beta-geometric process of Fader & Hardie (2007).
///
/// ```
/// use customer_assets::simulate::RetentionProcess;
/// let cohort = RetentionProcess::sbg(0.704, 1.182)?.cohort("regular", 1_000, 12, 1)?;
/// assert_eq!(cohort.alive()[0], 1_000.0);
/// assert_eq!(cohort.periods(), 12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RetentionProcess {
    alpha: f64,
    beta: f64,
    c: f64,
}

impl RetentionProcess {
    /// The sBG process, θ ~ Beta(α, β).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn sbg(alpha: f64, beta: f64) -> Result<Self, SimulationError> {
        Self::bdw(alpha, beta, 1.0)
    }
    /// The BdW process with duration dependence `c`.
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn bdw(alpha: f64, beta: f64, c: f64) -> Result<Self, SimulationError> {
        Ok(RetentionProcess {
            alpha: positive("alpha", alpha)?,
            beta: positive("beta", beta)?,
            c: positive("c", c)?,
        })
    }

    /// One lifetime T ≥ 1 in whole periods, capped at `cap`: the first t with (1−θ)^{t^c} < U.
    fn lifetime(&self, rng: &mut SimRng, theta: f64, cap: u32) -> u32 {
        let u: f64 = rng.random::<f64>();
        let ln_keep = (-theta).ln_1p();
        if ln_keep == 0.0 || u <= 0.0 {
            return cap;
        }
        // (1−θ)^{t^c} < u  ⇔  t^c > ln u / ln(1−θ)
        let threshold = (u.ln() / ln_keep).powf(1.0 / self.c);
        let t = threshold.floor() + 1.0;
        if t >= cap as f64 {
            cap
        } else {
            t.max(1.0) as u32
        }
    }

    /// Simulates a cohort of `acquired` customers and counts those still active at the start of
    /// periods 0..=`periods` (seeded, reproducible).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for no customer acquired, no period, or more than
    /// [`MAX_PERIODS`] periods.
    pub fn cohort(
        &self,
        name: &str,
        acquired: u32,
        periods: u32,
        seed: u64,
    ) -> Result<Cohort, SimulationError> {
        let bad = |name, value| {
            SimulationError::InvalidParameter(InvalidParameter::new(
                name,
                value,
                "must be at least 1",
            ))
        };
        if acquired == 0 {
            return Err(bad("acquired", 0.0));
        }
        if periods == 0 {
            return Err(bad("periods", 0.0));
        }
        if periods > MAX_PERIODS {
            return Err(SimulationError::InvalidParameter(InvalidParameter::new(
                "periods",
                periods,
                "must be at most MAX_PERIODS (100,000)",
            )));
        }
        let dist = Beta::new(self.alpha, self.beta).map_err(|_| {
            SimulationError::InvalidParameter(InvalidParameter::new(
                "alpha",
                self.alpha,
                "Beta(alpha, beta) could not be formed",
            ))
        })?;
        let mut rng = SimRng::seed_from_u64(seed);
        let cap = periods + 1;
        let mut churned_at = vec![0u32; cap as usize + 1];
        for _ in 0..acquired {
            let theta: f64 = dist.sample(&mut rng);
            let t = self.lifetime(&mut rng, theta, cap);
            churned_at[t as usize] += 1;
        }
        // alive at t = customers with T > t.
        let mut alive = Vec::with_capacity(periods as usize + 1);
        let mut remaining = acquired as f64;
        for churned in churned_at.iter().take(periods as usize + 1) {
            remaining -= *churned as f64;
            alive.push(remaining);
        }
        Cohort::new(name, alive).map_err(|_| {
            SimulationError::InvalidParameter(InvalidParameter::new(
                "acquired",
                acquired as f64,
                "produced an invalid cohort",
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::contractual::RetentionModel;
    use crate::models::sbg::{Sbg, SbgParameters};

    #[test]
    fn simulated_survivors_follow_the_survival_function() {
        let process = RetentionProcess::sbg(1.5, 3.0).unwrap();
        let cohort = process.cohort("c", 200_000, 8, 11).unwrap();
        let model = Sbg::new(SbgParameters {
            alpha: 1.5,
            beta: 3.0,
        })
        .unwrap();
        for t in 0..=8 {
            let share = cohort.alive()[t] / 200_000.0;
            let s = model.survival(t as u32);
            // binomial standard error is at most 0.0012
            assert!((share - s).abs() < 0.005, "t={t}: {share} vs {s}");
        }
    }
}
