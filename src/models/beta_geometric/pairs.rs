//! The distinct (x, T) of a batch of customers. What a beta-geometric customer will buy while
//! alive depends on its history only through x and T (t_x enters through P(alive) alone), and
//! the T of a base summarised from a ledger counts whole days since the first purchase: a
//! million customers have a few thousand distinct (x, T). The batch paths compute that part
//! once per pair, the same computation on the same inputs as the single-customer path.

use std::collections::HashMap;

use crate::models::error::PredictError;
use crate::models::history::History;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The distinct (x, T) of a batch's valid histories, and where each history's pair is.
pub(super) struct Pairs {
    /// The first valid history of each distinct (x, T), in order of appearance.
    first: Vec<History>,
    /// Per history of the batch, the position of its pair in `first` ([`NO_PAIR`] for an
    /// invalid history).
    of: Vec<u32>,
}

/// The position of an invalid history's pair: it has none.
const NO_PAIR: u32 = u32::MAX;

impl Pairs {
    /// The pairs of `histories`.
    pub(super) fn of(histories: &[History]) -> Pairs {
        let mut index: FastMap<(u32, u64), u32> = FastMap::default();
        let mut first = Vec::new();
        let of = histories
            .iter()
            .map(|h| {
                if h.validate().is_err() {
                    return NO_PAIR;
                }
                // Past u32::MAX − 1 pairs (never for a real base), a history has none and
                // takes the caller's per-customer path.
                let Ok(next) = u32::try_from(first.len()) else {
                    return NO_PAIR;
                };
                *index
                    .entry((h.frequency, h.age.to_bits()))
                    .or_insert_with(|| {
                        if next != NO_PAIR {
                            first.push(*h);
                        }
                        next
                    })
            })
            .collect();
        Pairs { first, of }
    }

    /// The first history of each pair, in order of appearance.
    pub(super) fn first(&self) -> &[History] {
        &self.first
    }

    /// `f(history, position of its pair)` for every history of the batch the pairs were made
    /// of, in order (on all cores with `parallel`); the first error wins.
    pub(super) fn each<F>(&self, histories: &[History], f: F) -> Result<Vec<f64>, PredictError>
    where
        F: Fn(&History, Option<usize>) -> Result<f64, PredictError> + Sync + Send,
    {
        let pair = |&p: &u32| (p != NO_PAIR).then_some(p as usize);
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            histories
                .par_iter()
                .zip(&self.of)
                .map(|(h, p)| f(h, pair(p)))
                .collect()
        }
        #[cfg(not(feature = "parallel"))]
        {
            histories
                .iter()
                .zip(&self.of)
                .map(|(h, p)| f(h, pair(p)))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histories_share_a_pair_by_frequency_and_age_only() {
        let hs = [
            History::new(2, 3.0, 10.0),
            History::new(2, 5.0, 10.0),
            History::new(1, 3.0, 10.0),
            History::new(2, 3.0, -1.0),
            History::new(1, 0.5, 10.0),
        ];
        let pairs = Pairs::of(&hs);
        assert_eq!(pairs.first(), &[hs[0], hs[2]]);
        let positions = pairs.each(&hs, |_, p| Ok(p.map_or(-1.0, |p| p as f64)));
        assert_eq!(positions, Ok(vec![0.0, 0.0, 1.0, -1.0, 1.0]));
    }
}
