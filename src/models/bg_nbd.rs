//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
//! alternative to the Pareto/NBD model", *Marketing Science* 24(2)).
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α) (shape r, rate α); after each
//! repeat purchase they drop out with probability p ~ beta(a, b). Fitted by maximum likelihood on
//! weighted (x, t_x, T) patterns.
//!
//! ```
//! use customer_assets::models::bg_nbd::{BgNbd, BgNbdParams};
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! // A fitted model from published parameters (CDNOW, weeks) ...
//! let model = BgNbd::new(0.243, 4.414, 0.793, 2.426, TimeUnit::WEEKS)?;
//! let h = History::new(2, 30.43, 38.86);
//! assert!((model.p_alive(&h, 0.0)? - 0.7266).abs() < 1e-3);
//! // ... or fitted on patterns.
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
//! ])?;
//! let fitted = BgNbdParams::new().fit(&patterns)?;
//! assert!(fitted.report().is_some_and(|r| r.converged));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::fit::{FitOptions, FitReport};
use crate::models::btyd::{
    beta_geometric_ll, fit_log_params, positive, BetaGeometric, Prepared, TransactionFitError,
    COARSE_ROWS,
};
use crate::models::{History, PredictError, TransactionModel};
use crate::optimize::Objective;
use crate::summary::Patterns;
use crate::time::TimeUnit;

crate::models::btyd::beta_geometric_family! {
    model: BgNbd,
    params: BgNbdParams,
    parameters: BgNbdParameters,
    raw: BgNbdRaw,
    raw_name: "BgNbdRaw",
    name: "bg-nbd",
    title: "BG/NBD",
    offset: 0.0,
}

/// Shared by BG/NBD and MBG/NBD.
pub(crate) fn fit_beta_geometric(
    model: &'static str,
    offset: f64,
    patterns: &Patterns,
    options: &FitOptions,
    start: Option<&[f64; 4]>,
) -> Result<crate::models::btyd::FitOutcome<4>, TransactionFitError> {
    if patterns.is_empty() {
        return Err(TransactionFitError::NoData {
            model,
            reason: "no patterns",
        });
    }
    let data = Prepared::new(patterns, true);
    if data.repeaters() == 0.0 {
        return Err(TransactionFitError::NoData {
            model,
            reason: "no customer has a repeat purchase",
        });
    }
    let mut starts = Vec::new();
    if let Some(s) = start {
        for (name, v) in ["r", "alpha", "a", "b"].iter().zip(s) {
            positive(name, *v)?;
        }
        starts.push(vec![
            s[0].ln(),
            (s[1] / data.scale).ln(),
            s[2].ln(),
            s[3].ln(),
        ]);
    }
    // r, α (on the rescaled axis), a, b
    starts.push(vec![0.0, 0.0, 0.0, 0.0]);
    starts.push(vec![
        (0.5f64).ln(),
        (0.2f64).ln(),
        (0.8f64).ln(),
        (2.5f64).ln(),
    ]);
    starts.push(vec![
        (2.0f64).ln(),
        (2.0f64).ln(),
        (2.0f64).ln(),
        (8.0f64).ln(),
    ]);
    let objective = BetaGeometricObjective {
        data: &data,
        offset,
    };
    let thin = data.thinned(COARSE_ROWS);
    let coarse = thin
        .as_ref()
        .map(|data| BetaGeometricObjective { data, offset });
    fit_log_params(
        model,
        &objective,
        coarse.as_ref().map(|c| c as &dyn Objective),
        &starts,
        options,
        data.scale,
        &[1],
        -data.weighted_x * data.scale.ln(),
    )
}

struct BetaGeometricObjective<'a> {
    data: &'a Prepared,
    offset: f64,
}

impl Objective for BetaGeometricObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn weight(&self) -> f64 {
        self.data.weight.iter().sum()
    }
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (ll, g) = beta_geometric_ll(self.data, theta, self.offset);
        for (d, v) in grad.iter_mut().zip(g) {
            *d = v;
        }
        ll
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Beta, Distribution, Exp, Gamma};

    /// 100,000 BG/NBD customers with continuous t_x and T (every row its own pattern).
    fn continuous_customers() -> Patterns {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let rate: Gamma<f64> = Gamma::new(0.243, 1.0 / 4.414).unwrap();
        let dropout: Beta<f64> = Beta::new(0.793, 2.426).unwrap();
        let rows: Vec<(u32, f64, f64, f64)> = (0..100_000)
            .map(|_| {
                let age: f64 = rng.random_range(27.0..39.0);
                let gap = Exp::new(rate.sample(&mut rng).max(1e-12)).unwrap();
                let p = dropout.sample(&mut rng);
                let (mut t, mut x, mut recency) = (0.0, 0u32, 0.0);
                loop {
                    t += gap.sample(&mut rng);
                    if t > age {
                        break;
                    }
                    x += 1;
                    recency = t;
                    if rng.random::<f64>() < p {
                        break;
                    }
                }
                (x, recency, age, 1.0)
            })
            .collect();
        Patterns::new(TimeUnit::WEEKS, rows).unwrap()
    }

    /// The subsample warm start with Newton polish finds the maximum that L-BFGS on all the data
    /// finds, with the same standard errors.
    #[test]
    fn refined_fit_equals_the_direct_fit_on_big_data() {
        let patterns = continuous_customers();
        let data = Prepared::new(&patterns, true);
        let thin = data.thinned(COARSE_ROWS).unwrap();
        assert!(thin.recency.len() >= COARSE_ROWS && thin.recency.len() < 2 * COARSE_ROWS);
        for offset in [0.0, 1.0] {
            let objective = BetaGeometricObjective {
                data: &data,
                offset,
            };
            let coarse = BetaGeometricObjective {
                data: &thin,
                offset,
            };
            let starts = [vec![0.0; 4]];
            let options = FitOptions::default();
            let fit = |coarse: Option<&dyn Objective>| {
                fit_log_params::<4>(
                    "bg-nbd",
                    &objective,
                    coarse,
                    &starts,
                    &options,
                    data.scale,
                    &[1],
                    0.0,
                )
                .unwrap()
            };
            let direct = fit(None);
            let refined = fit(Some(&coarse));
            assert_eq!(
                refined.report.method,
                crate::fit::FitMethod::SubsampleThenNewton
            );
            for i in 0..4 {
                let (p, q) = (refined.params[i], direct.params[i]);
                assert!((p - q).abs() < 1e-5 * q, "{i}: {p} vs {q}");
                let (p, q) = (refined.standard_errors[i], direct.standard_errors[i]);
                assert!((p - q).abs() < 1e-3 * q, "se {i}: {p} vs {q}");
            }
            let (p, q) = (refined.report.log_likelihood, direct.report.log_likelihood);
            assert!((p - q).abs() < 1e-9 * q.abs(), "{p} vs {q}");
        }
    }
}
