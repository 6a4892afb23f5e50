//! Predictions for many customers at once: P(alive) from the likelihood's ₂F₁ series tabulated
//! once per frequency (as the fit's fast path does) instead of a general ₂F₁ per customer.

use super::likelihood::p_alive_rows;
use super::ParetoNbd;
use crate::models::error::PredictError;
use crate::models::history::History;

impl ParetoNbd {
    /// P(alive at T) of every customer, in order. Each customer's value depends only on its own
    /// history (the series of its frequency), never on the rest of the batch; where the series
    /// does not apply, the customer takes the single-customer path.
    pub(super) fn p_alive_now_batch(
        &self,
        histories: &[History],
    ) -> Result<Vec<f64>, PredictError> {
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            let chunk = histories
                .len()
                .div_ceil(rayon::current_num_threads().max(1))
                .max(1);
            let parts: Vec<Vec<f64>> = histories
                .par_chunks(chunk)
                .map(|part| self.p_alive_now_serial(part))
                .collect::<Result<_, _>>()?;
            Ok(parts.concat())
        }
        #[cfg(not(feature = "parallel"))]
        self.p_alive_now_serial(histories)
    }

    fn p_alive_now_serial(&self, histories: &[History]) -> Result<Vec<f64>, PredictError> {
        for h in histories {
            h.validate()?;
        }
        let p = self.parameters;
        let mut order: Vec<usize> = (0..histories.len()).collect();
        order.sort_unstable_by_key(|&i| histories[i].frequency);
        let mut out = vec![0.0; histories.len()];
        for group in order.chunk_by(|&i, &j| histories[i].frequency == histories[j].frequency) {
            let x = f64::from(histories[group[0]].frequency);
            let rows = group
                .iter()
                .map(|&i| (histories[i].recency, histories[i].age));
            let values = p_alive_rows([p.r, p.alpha, p.s, p.beta], x, rows);
            for (&i, value) in group.iter().zip(values) {
                out[i] = match value {
                    Some(v) => v,
                    None => self.p_alive_now(&histories[i])?,
                };
            }
        }
        Ok(out)
    }
}
