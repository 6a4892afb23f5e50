//! Predictive intervals for a customer's own future: the quantiles of the number of purchases
//! in a horizon, from the model's conditional distribution of that number given the history.
//!
//! This is the customer-level randomness (how many purchases this customer will make, the
//! parameters taken as known), as distinct from the uncertainty of the parameters themselves.

use super::error::PredictError;
use super::history::History;
use super::transaction_model::TransactionModel;

/// The fewest purchases the search will look at: a PMF that has not reached the largest asked
/// probability by max(this, 100 × (1 + expected purchases)) is a numerical failure, not a loop.
const MIN_SEARCH: u32 = 1_000;

/// For each probability q of `probabilities`, the smallest number of purchases n in
/// (T, T + `t`] with P(X ≤ n | history) ≥ q, in the order given. A 90% predictive interval is
/// the quantiles at 0.05 and 0.95.
///
/// ```
/// use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
/// use customer_assets::models::purchase_quantiles;
/// use customer_assets::{History, TimeUnit};
///
/// // Fader, Hardie & Lee's CDNOW estimates; a customer with 2 repeat purchases, the last in
/// // week 30.4 of 38.9, over the next 39 weeks.
/// let model = BgNbd::new(BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, TimeUnit::WEEKS)?;
/// let history = History::new(2, 30.43, 38.86);
/// let q = purchase_quantiles(&model, &history, 39.0, &[0.05, 0.5, 0.95])?;
/// assert_eq!(q[0], 0);
/// assert!(q[0] <= q[1] && q[1] <= q[2] && q[2] >= 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`PredictError::InvalidInput`] for a probability outside (0, 1) or a horizon that is not
/// finite and positive; the model's errors for the history; [`PredictError::Numerical`] when
/// the probabilities do not sum to the largest q within max(1,000, 100 × (1 + expected
/// purchases)) purchases.
pub fn purchase_quantiles(
    model: &dyn TransactionModel,
    history: &History,
    t: f64,
    probabilities: &[f64],
) -> Result<Vec<u32>, PredictError> {
    mixture_quantiles(&[model], history, t, probabilities)
}

/// [`purchase_quantiles`] of the equal mixture of `models`' conditional distributions: with the
/// draws of a bootstrap, the predictive distribution that carries both the customer's own
/// randomness and the parameters' uncertainty
/// ([`Draws::purchase_quantiles`](crate::models::Draws::purchase_quantiles)).
pub(crate) fn mixture_quantiles(
    models: &[&dyn TransactionModel],
    history: &History,
    t: f64,
    probabilities: &[f64],
) -> Result<Vec<u32>, PredictError> {
    for &q in probabilities {
        if !(q > 0.0 && q < 1.0) {
            return Err(PredictError::InvalidInput {
                name: "probability",
                value: q,
                reason: "must be between 0 and 1",
            });
        }
    }
    if !(t.is_finite() && t > 0.0) {
        return Err(PredictError::InvalidInput {
            name: "t",
            value: t,
            reason: "must be finite and positive",
        });
    }
    let Some(top) = probabilities.iter().copied().reduce(f64::max) else {
        return Ok(Vec::new());
    };
    if models.is_empty() {
        return Err(PredictError::InvalidInput {
            name: "models",
            value: 0.0,
            reason: "a mixture needs at least one model",
        });
    }
    let weight = 1.0 / models.len() as f64;
    let mut expected = 0.0f64;
    for m in models {
        expected = expected.max(m.expected_purchases(history, t)?);
    }
    // A bound the search cannot pass whatever the input: at most u32::MAX purchases.
    let limit = (100.0 * (1.0 + expected)).clamp(f64::from(MIN_SEARCH), f64::from(u32::MAX)) as u32;
    // The distribution function at 0, 1, 2, ... until it reaches the largest q.
    let mut cdf: Vec<f64> = Vec::new();
    let mut sum = 0.0;
    let mut n = 0u32;
    while sum < top {
        if n > limit {
            return Err(PredictError::Numerical {
                what: "purchase quantiles",
                detail: format!(
                    "P(X <= {limit}) = {sum} has not reached {top} (expected purchases up to {expected})"
                ),
            });
        }
        for m in models {
            sum += weight * m.purchase_probability(history, n, t)?;
        }
        cdf.push(sum);
        n += 1;
    }
    Ok(probabilities
        .iter()
        .map(|&q| cdf.iter().position(|&c| c >= q).unwrap_or(cdf.len() - 1) as u32)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::bg_nbd::{BgNbd, BgNbdParameters};
    use crate::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters};
    use crate::TimeUnit;

    #[test]
    fn quantiles_invert_the_conditional_distribution() {
        let bg = BgNbd::new(
            BgNbdParameters {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        let pareto = ParetoNbd::new(
            ParetoNbdParameters {
                r: 0.553,
                alpha: 10.578,
                s: 0.606,
                beta: 11.669,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        let models: [&dyn TransactionModel; 2] = [&bg, &pareto];
        let qs = [0.05, 0.25, 0.5, 0.75, 0.95, 0.999];
        for model in models {
            for h in [
                History::new(0, 0.0, 38.86),
                History::new(2, 30.43, 38.86),
                History::new(14, 37.0, 38.86),
                History::new(221, 103.43, 103.57),
            ] {
                let got = purchase_quantiles(model, &h, 52.0, &qs).unwrap();
                let cdf = |n: u32| -> f64 {
                    (0..=n)
                        .map(|k| model.purchase_probability(&h, k, 52.0).unwrap())
                        .sum()
                };
                for (&q, &n) in qs.iter().zip(&got) {
                    assert!(
                        cdf(n) >= q,
                        "{} {h:?} q {q}: cdf({n}) = {}",
                        model.name(),
                        cdf(n)
                    );
                    if n > 0 {
                        assert!(
                            cdf(n - 1) < q,
                            "{} {h:?} q {q}: n {n} is not the smallest",
                            model.name()
                        );
                    }
                }
                assert!(got.windows(2).all(|w| w[0] <= w[1]), "{got:?}");
            }
        }
        // The heavy buyer's median is near its expectation; a lapsed one-time buyer's is 0.
        let heavy = History::new(221, 103.43, 103.57);
        let median = purchase_quantiles(&pareto, &heavy, 52.0, &[0.5]).unwrap()[0];
        let mean = pareto.expected_purchases(&heavy, 52.0).unwrap();
        assert!(
            (f64::from(median) - mean).abs() < 0.1 * mean + 2.0,
            "{median} vs {mean}"
        );
        assert_eq!(
            purchase_quantiles(&bg, &History::new(0, 0.0, 38.86), 52.0, &[0.5]).unwrap(),
            [0]
        );
    }

    #[test]
    fn bad_probabilities_and_horizons_are_errors() {
        let bg = BgNbd::new(
            BgNbdParameters {
                r: 0.243,
                alpha: 4.414,
                a: 0.793,
                b: 2.426,
            },
            TimeUnit::WEEKS,
        )
        .unwrap();
        let h = History::new(2, 30.43, 38.86);
        for q in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(purchase_quantiles(&bg, &h, 39.0, &[q]).is_err(), "{q}");
        }
        for t in [0.0, -1.0, f64::INFINITY] {
            assert!(purchase_quantiles(&bg, &h, t, &[0.5]).is_err(), "{t}");
        }
        assert_eq!(
            purchase_quantiles(&bg, &h, 39.0, &[]).unwrap(),
            Vec::<u32>::new()
        );
    }
}
