//! One customer's purchase process and the random number generator it draws from.

use rand_chacha::ChaCha8Rng;

/// The random number generator every simulation uses: ChaCha8, value-stable across platforms.
pub type SimRng = ChaCha8Rng;

/// The most repeat purchases one simulated customer may make. The built-in processes stop
/// drawing there, and [`simulate`](crate::simulate::simulate()) refuses a customer who reaches
/// it ([`SimulationError::TooManyPurchases`](crate::simulate::SimulationError::TooManyPurchases)):
/// a purchase rate of, say, 10¹⁰ per unit (a tiny α) would otherwise fill memory with one
/// customer's purchases. A million is far beyond any real customer's history.
pub const MAX_REPEAT_PURCHASES: usize = 1_000_000;

/// The most customers [`simulate`](crate::simulate::simulate()) draws: each costs a customer
/// record, a pattern row and its transactions (a few hundred bytes at least), so ten million is
/// gigabytes already; the benchmarks use up to one million.
pub const MAX_CUSTOMERS: usize = 10_000_000;

/// The most periods (opportunities of a discrete process, or periods of a retention cohort) a
/// simulation lays out: a cohort keeps a count per period and a discrete process loops over the
/// periods for every customer. 100,000 periods is some 270 years of days.
pub const MAX_PERIODS: u32 = 100_000;

/// One customer's purchasing: draws the times of the repeat purchases after a first purchase at
/// time 0, within the horizon `(0, horizon]` (times in the simulation's time unit).
///
/// Implement it to simulate any other process with [`simulate`](crate::simulate::simulate()).
pub trait PurchaseProcess {
    /// Appends the repeat-purchase times of one new customer, in increasing order, to `times`.
    fn repeat_purchases(&self, rng: &mut SimRng, horizon: f64, times: &mut Vec<f64>);
}
