//! One customer's purchase process and the random number generator it draws from.

use rand_chacha::ChaCha8Rng;

/// The random number generator every simulation uses: ChaCha8, value-stable across platforms.
pub type SimRng = ChaCha8Rng;

/// One customer's purchasing: draws the times of the repeat purchases after a first purchase at
/// time 0, within the horizon `(0, horizon]` (times in the simulation's time unit).
///
/// Implement it to simulate any other process with [`simulate`](crate::simulate::simulate()).
pub trait PurchaseProcess {
    /// Appends the repeat-purchase times of one new customer, in increasing order, to `times`.
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>);
}
