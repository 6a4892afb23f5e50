//! DERT of many beta-geometric customers at once: the closed form's constants (module `dert`)
//! once per frequency, the quadrature where the closed form refuses; and the tests that hold
//! the closed form against that quadrature.

use std::collections::HashMap;

use crate::concurrent::map;
use crate::models::beta_geometric::dert::DertTerms;
use crate::models::beta_geometric::kernel::Core;
use crate::models::beta_geometric::pairs::Pairs;
use crate::models::btyd::{discount_rate, finite};
use crate::models::error::PredictError;
use crate::models::history::History;
use crate::special::inv_one_plus_exp;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Core {
    /// [`Core::dert`] for many customers, in order: the closed form's constants are computed
    /// once per frequency, and its three short series in z = δ(α+T) (or the integral where it
    /// refuses) once per distinct (x, T), so each customer costs its P(alive) (spread over
    /// cores with the `parallel` feature). A customer's value is the one [`Core::dert`] gives:
    /// the same constants, the same series, the same fallback.
    pub fn dert_batch(&self, histories: &[History], rate: f64) -> Result<Vec<f64>, PredictError> {
        let rate = discount_rate(rate)?;
        // The discounted purchases while alive depend on (x, T) alone: computed once per pair.
        let pairs = Pairs::of(histories);
        // None where the closed form does not exist for that frequency (then the integral).
        let mut terms: FastMap<u32, Option<DertTerms>> = FastMap::default();
        for h in pairs.first() {
            terms.entry(h.frequency).or_insert_with(|| {
                let kernel = self.kernel(h);
                DertTerms::new(kernel.k, kernel.a, kernel.b)
            });
        }
        // Per pair, the value while alive; None where the integral fails (each of its
        // customers then computes it again, to report the error).
        let while_alive = |h: &History| {
            let kernel = self.kernel(h);
            let closed = terms
                .get(&h.frequency)
                .copied()
                .flatten()
                .and_then(|t| t.evaluate(rate * kernel.big_a));
            match closed {
                Some(v) => Ok(v),
                None => kernel.dert_by_quadrature(rate),
            }
        };
        let by_pair: Vec<Option<f64>> = map(pairs.first(), |h| while_alive(h).ok());
        pairs.each(histories, |h, pair| {
            h.validate()?;
            let alive = match pair.and_then(|p| by_pair.get(p).copied().flatten()) {
                Some(v) => v,
                None => while_alive(h)?,
            };
            let now = inv_one_plus_exp(self.ln_dead_odds(h));
            finite("dert", now * alive)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::beta_geometric::kernel::AliveBetaGeometric;

    /// The closed form where its bound holds, else None; and the quadrature, where its ₂F₁
    /// converges (None where it does not: ln_hyp2f1 gives up on some a ~ 1e2, b ~ 1e4 near
    /// u = 1).
    fn both(k: f64, a: f64, b: f64, z: f64) -> (Option<f64>, Option<f64>) {
        let closed = DertTerms::new(k, a, b).and_then(|t| t.evaluate(z));
        let kernel = AliveBetaGeometric {
            k,
            big_a: 1.0,
            a,
            b,
        };
        (closed, kernel.dert_by_quadrature(z).ok())
    }

    /// Across the ranges fits reach (r, a, b from 0.01 to 1e3, x to 1e5, z = δ(α+T) from 1e-5
    /// to 8), the closed form agrees with the quadrature (relative tolerance 1e-9) wherever it
    /// answers, and answers for most light and heavy buyers at ordinary rates.
    #[test]
    fn closed_form_agrees_with_the_quadrature_across_fitted_ranges() {
        let (mut answered, mut compared, mut total, mut worst) = (0u32, 0u32, 0u32, 0.0f64);
        for r in [0.01, 0.243, 997.3] {
            for a in [0.07, 0.793, 0.999, 1.0004, 3.3, 150.7] {
                for b in [0.01, 2.4, 1000.0] {
                    for x in [0.0, 5.0, 500.0, 1e5] {
                        for z in [1e-5, 0.02, 0.5, 8.0] {
                            let (closed, quadrature) = both(r + x, a, b + x, z);
                            total += 1;
                            let Some(closed) = closed else { continue };
                            answered += 1;
                            let Some(quadrature) = quadrature else {
                                continue;
                            };
                            compared += 1;
                            let error = (closed / quadrature - 1.0).abs();
                            worst = worst.max(error);
                            assert!(
                                error <= 1e-9,
                                "k {} a {a} b {} z {z}: {closed} vs {quadrature}",
                                r + x,
                                b + x
                            );
                        }
                    }
                }
            }
        }
        // 864 cases; the refused are mostly z ≥ 0.5 with b far from k, and a within 1e-3 of 1
        assert!(
            answered * 2 > total && compared * 5 > answered * 4,
            "{answered} of {total} answered, {compared} compared (worst {worst:.1e})"
        );
    }

    #[test]
    fn near_integer_parameters_are_refused_or_right() {
        for (k, a, b, z) in [
            (0.243, 1.0 + 1e-9, 2.4, 0.05),
            (0.243, 1.0 - 1e-5, 2.4, 0.05),
            (0.243, 2.0 + 1e-7, 2.4, 0.05),
            (3.0 + 1e-9, 0.793, 5.4, 0.05),
            (3.793 + 1e-9, 0.793, 5.4, 0.05),
            (40.0 + 1e-6, 2.0 + 1e-6, 45.0, 0.5),
        ] {
            let (closed, quadrature) = both(k, a, b, z);
            let quadrature = quadrature.unwrap();
            if let Some(closed) = closed {
                assert!((closed / quadrature - 1.0).abs() <= 1e-9, "{k} {a} {b} {z}");
            }
        }
    }

    /// The quadrature once returned 0 here: all of the rate sits near v = 0 when a is large
    /// and δA small. Both paths now give about E[1/p] = (a+b−1)/(a−1), the z → 0 limit.
    #[test]
    fn large_a_at_a_tiny_rate_is_not_zero() {
        let (k, a, b, z) = (1497.3, 999.6, 1500.0, 1e-5);
        let (closed, quadrature) = both(k, a, b, z);
        let quadrature = quadrature.unwrap();
        let limit = (a + b - 1.0) / (a - 1.0);
        assert!(
            (quadrature / limit - 1.0).abs() < 1e-4,
            "{quadrature} vs {limit}"
        );
        let closed = closed.unwrap();
        assert!(
            (closed / quadrature - 1.0).abs() < 1e-9,
            "{closed} vs {quadrature}"
        );
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        /// Random log-uniform parameters over the ranges fits reach: where the closed form
        /// answers, 0 < D ≤ k/z (Λ/(z+pΛ) ≤ Λ/z), D ≤ E[1/p] = (a+b−1)/(a−1) when a > 1, and D
        /// falls as z grows; below 300 (where the quadrature's ₂F₁ is sound: above, it gave
        /// 6e33 for D ≈ 2250 at k = 2232, b = 7152) it agrees with the quadrature.
        #[test]
        fn closed_form_matches_the_quadrature_on_random_parameters(
            ln_k in (0.01f64).ln()..(1e5f64).ln(),
            ln_a in (0.02f64).ln()..(1e3f64).ln(),
            ln_b in (0.02f64).ln()..(1e5f64).ln(),
            ln_z in (1e-5f64).ln()..(3.0f64).ln(),
        ) {
            let (k, a, b, z) = (ln_k.exp(), ln_a.exp(), ln_b.exp(), ln_z.exp());
            let Some(closed) = DertTerms::new(k, a, b).and_then(|t| t.evaluate(z)) else {
                return Ok(());
            };
            proptest::prop_assert!(closed > 0.0 && closed <= k / z * (1.0 + 1e-12));
            if a > 1.0 {
                proptest::prop_assert!(closed <= (a + b - 1.0) / (a - 1.0) * (1.0 + 1e-12));
            }
            if let Some(further) = DertTerms::new(k, a, b).and_then(|t| t.evaluate(1.1 * z)) {
                proptest::prop_assert!(further < closed);
            }
            if k <= 300.0 && a <= 300.0 && b <= 300.0 {
                if let (_, Some(quadrature)) = both(k, a, b, z) {
                    proptest::prop_assert!(
                        (closed / quadrature - 1.0).abs() <= 1e-9,
                        "k {k} a {a} b {b} z {z}: {closed} vs {quadrature}"
                    );
                }
            }
        }
    }
}
