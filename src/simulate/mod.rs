//! Seeded, reproducible simulation of customer bases for tests, examples and benchmarks.
//!
//! A [`PurchaseProcess`] draws one customer's repeat-purchase times; [`simulate`] spreads first
//! purchases over an acquisition window, runs the process for each customer until the end of the
//! observation window, draws amounts from an optional [`GammaGammaSpend`], and returns typed
//! [`Customer`]s and [`Transaction`]s together with the exact (x, t_x, T) patterns.
//!
//! The random stream is ChaCha8 seeded from a `u64`, so a seed gives the same base on every
//! platform and release of this crate (a value-stability test guards this).
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
//! use customer_assets::TimeUnit;
//! let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
//! let end = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("bad date")?;
//! let process = BgNbdProcess::new(0.243, 4.414, 0.793, 2.426)?;
//! let options = SimulationOptions::new(500, start, end, TimeUnit::WEEKS, 42)
//!     .acquisition_days(90)
//!     .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?);
//! let base = simulate(&process, &options)?;
//! assert_eq!(base.customers().len(), 500);
//! assert_eq!(base.patterns().total_weight(), 500.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod continuous;
mod contractual;
mod discrete;
mod error;
mod params;
mod process;

pub use continuous::{BgNbdProcess, ParetoNbdProcess};
pub use contractual::RetentionProcess;
pub use discrete::BgBbProcess;
pub use error::SimulationError;
pub use process::{PurchaseProcess, SimRng, MAX_CUSTOMERS, MAX_PERIODS, MAX_REPEAT_PURCHASES};

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::RngExt;
use rand_distr::Distribution;
use rust_decimal::Decimal;

use crate::error::InvalidParameter;
use crate::records::{Customer, CustomerId, Transaction};
use crate::summary::Patterns;
use crate::time::TimeUnit;
use params::{gamma, positive};

/// Gamma-Gamma spend: each customer's mean-spend parameter ν ~ Gamma(q, rate γ); each
/// transaction's amount z ~ Gamma(p, rate ν), so the expected amount is pγ/(q−1) for q > 1.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GammaGammaSpend {
    p: f64,
    q: f64,
    gamma: f64,
}

impl GammaGammaSpend {
    /// Spend with shape `p`, and ν ~ Gamma(shape `q`, rate `gamma`).
    ///
    /// # Errors
    /// [`SimulationError::InvalidParameter`] for a parameter that is not finite and positive.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self, SimulationError> {
        Ok(GammaGammaSpend {
            p: positive("p", p)?,
            q: positive("q", q)?,
            gamma: positive("gamma", gamma)?,
        })
    }
}

/// What to simulate: how many customers, the acquisition and observation windows, the time
/// unit of the process's rates, the seed, and optionally the spend.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SimulationOptions {
    customers: usize,
    start: NaiveDate,
    end: NaiveDate,
    unit: TimeUnit,
    seed: u64,
    acquisition_days: u32,
    spend: Option<GammaGammaSpend>,
}

impl SimulationOptions {
    /// `customers` customers whose first purchases fall on `start` (spread them with
    /// [`acquisition_days`](Self::acquisition_days)), observed through the end of `end`; process
    /// rates are per `unit`.
    pub fn new(
        customers: usize,
        start: NaiveDate,
        end: NaiveDate,
        unit: TimeUnit,
        seed: u64,
    ) -> Self {
        SimulationOptions {
            customers,
            start,
            end,
            unit,
            seed,
            acquisition_days: 1,
            spend: None,
        }
    }
    /// Spreads first purchases uniformly over `days` days from the start (default 1).
    pub fn acquisition_days(mut self, days: u32) -> Self {
        self.acquisition_days = days.max(1);
        self
    }
    /// Draws amounts from Gamma-Gamma spend (without it, every amount is 1.00).
    pub fn spend(mut self, spend: GammaGammaSpend) -> Self {
        self.spend = Some(spend);
        self
    }
    /// The time unit of the process's rates and of the patterns.
    pub fn unit(&self) -> TimeUnit {
        self.unit
    }
}

/// A simulated customer base.
#[derive(Debug, Clone)]
pub struct SimulatedBase {
    customers: Vec<Customer>,
    transactions: Vec<Transaction>,
    patterns: Patterns,
    end: NaiveDate,
}

impl SimulatedBase {
    /// The customers, ids 1..=n, acquired on their first purchase date.
    pub fn customers(&self) -> &[Customer] {
        &self.customers
    }
    /// The transactions, grouped by customer and in time order, timestamps to the second.
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }
    /// Takes the transactions out of the base.
    pub fn into_transactions(self) -> Vec<Transaction> {
        self.transactions
    }
    /// The exact (x, t_x, T) of every customer at the end of observation, in the options' unit.
    /// A ledger at [`Grain::Timestamp`](crate::Grain::Timestamp) summarised at the end date gives
    /// the same patterns.
    pub fn patterns(&self) -> &Patterns {
        &self.patterns
    }
    /// The last day observed.
    pub fn end(&self) -> NaiveDate {
        self.end
    }
}

/// Simulates a customer base. See the [module docs](self) for an example.
///
/// # Errors
/// [`SimulationError::WindowTooShort`] when observation ends before acquisition does,
/// [`SimulationError::DateOutOfRange`] for dates outside the calendar,
/// [`SimulationError::InvalidParameter`] for a spend drawn outside a decimal amount,
/// [`SimulationError::TooManyCustomers`] for more than [`MAX_CUSTOMERS`] customers, and
/// [`SimulationError::TooManyPurchases`] for a customer drawing [`MAX_REPEAT_PURCHASES`] repeat
/// purchases.
pub fn simulate(
    process: &dyn PurchaseProcess,
    options: &SimulationOptions,
) -> Result<SimulatedBase, SimulationError> {
    use rand::SeedableRng;
    if options.customers > MAX_CUSTOMERS {
        return Err(SimulationError::TooManyCustomers {
            customers: options.customers,
            limit: MAX_CUSTOMERS,
        });
    }
    // Options read through serde may carry 0 days, which the setter never makes.
    let acquisition_days = options.acquisition_days.max(1);
    let last_acquisition = options
        .start
        .checked_add_days(chrono::Days::new(u64::from(acquisition_days) - 1))
        .ok_or(SimulationError::DateOutOfRange)?;
    if options.end < last_acquisition {
        return Err(SimulationError::WindowTooShort {
            end: options.end,
            last_acquisition,
        });
    }
    let origin = options.start.and_time(NaiveTime::MIN);
    let end_moment = options
        .end
        .checked_add_days(chrono::Days::new(1))
        .ok_or(SimulationError::DateOutOfRange)?
        .and_time(NaiveTime::MIN);
    let end_second = (end_moment - origin).num_seconds();
    let acquisition_seconds = i64::from(acquisition_days) * 86_400;
    let unit_seconds = options.unit.days() * 86_400.0;

    let mut rng = SimRng::seed_from_u64(options.seed);
    let spend_mean = match options.spend {
        Some(s) => Some((s, gamma(s.q, 1.0 / s.gamma)?)),
        None => None,
    };
    let mut customers = Vec::with_capacity(options.customers);
    let mut transactions = Vec::new();
    let mut rows = Vec::with_capacity(options.customers);
    let mut times = Vec::new();
    let mut seconds = Vec::new();
    for i in 0..options.customers {
        let id = CustomerId::from(i as u64 + 1);
        let first = rng.random_range(0..acquisition_seconds);
        let horizon = (end_second - first) as f64 / unit_seconds;
        times.clear();
        process.repeat_purchases(&mut rng, horizon, &mut times);
        if times.len() >= MAX_REPEAT_PURCHASES {
            return Err(SimulationError::TooManyPurchases {
                customer: i as u64 + 1,
                purchases: times.len(),
                limit: MAX_REPEAT_PURCHASES,
            });
        }
        // Purchases land on whole seconds; two in the same second are one purchase.
        seconds.clear();
        seconds.push(first);
        for &t in &times {
            let s = first + (t * unit_seconds) as i64;
            if s < end_second && seconds.last().is_some_and(|&last| s > last) {
                seconds.push(s);
            }
        }
        let amounts = match &spend_mean {
            Some((s, nu_dist)) => {
                let nu = nu_dist.sample(&mut rng);
                let z = gamma(s.p, 1.0 / nu)?;
                Some(
                    seconds
                        .iter()
                        .map(|_| z.sample(&mut rng))
                        .collect::<Vec<_>>(),
                )
            }
            None => None,
        };
        let moment = |s: i64| -> Result<NaiveDateTime, SimulationError> {
            origin
                .checked_add_signed(Duration::seconds(s))
                .ok_or(SimulationError::DateOutOfRange)
        };
        let first_moment = moment(first)?;
        customers.push(Customer::new(id.clone(), first_moment.date()));
        for (k, &s) in seconds.iter().enumerate() {
            let amount = match &amounts {
                // Whole cents through an integer: exact, and far cheaper than a decimal rounding.
                Some(a) => (a[k].is_finite() && a[k] < 1e15)
                    .then(|| Decimal::new((a[k] * 100.0).round() as i64, 2))
                    .ok_or(SimulationError::InvalidParameter(InvalidParameter::new(
                        "spend",
                        a[k],
                        "drew an amount that does not fit a decimal",
                    )))?,
                None => Decimal::ONE,
            };
            let t = Transaction::new(
                id.clone(),
                moment(s)?,
                amount,
                crate::TransactionKind::Purchase,
            )
            .map_err(|_| {
                SimulationError::InvalidParameter(InvalidParameter::new(
                    "spend",
                    amount.try_into().unwrap_or(f64::NAN),
                    "drew a negative amount",
                ))
            })?;
            transactions.push(t);
        }
        let x = (seconds.len() - 1) as u32;
        let last = seconds.last().copied().unwrap_or(first);
        let t_x = (last - first) as f64 / unit_seconds;
        let age = (end_second - first) as f64 / unit_seconds;
        rows.push((x, t_x, age, 1.0));
    }
    let patterns =
        Patterns::new(options.unit, rows).map_err(|_| SimulationError::DateOutOfRange)?;
    Ok(SimulatedBase {
        customers,
        transactions,
        patterns,
        end: options.end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Grain, Ledger, LedgerOptions, ReturnPolicy, SummaryOptions};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn oversize_requests_are_typed_errors_before_anything_is_drawn() {
        let opts = SimulationOptions::new(
            MAX_CUSTOMERS + 1,
            day(2024, 1, 1),
            day(2024, 2, 1),
            TimeUnit::DAYS,
            1,
        );
        let process = BgNbdProcess::new(1.0, 1.0, 1.0, 1.0).unwrap();
        assert!(matches!(
            simulate(&process, &opts),
            Err(SimulationError::TooManyCustomers { .. })
        ));
        // A purchase rate of about 10¹² a day, no dropout to speak of.
        let frantic = ParetoNbdProcess::new(100.0, 1e-10, 1e-3, 1e3).unwrap();
        let opts = SimulationOptions::new(3, day(2024, 1, 1), day(2024, 2, 1), TimeUnit::DAYS, 1);
        let err = simulate(&frantic, &opts).unwrap_err();
        assert!(
            matches!(err, SimulationError::TooManyPurchases { customer: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn cohorts_and_discrete_patterns_refuse_more_than_max_periods() {
        // u32::MAX periods used to overflow `periods + 1` and ask for 16 GB of counts.
        let sbg = RetentionProcess::sbg(1.0, 1.0).unwrap();
        for periods in [MAX_PERIODS + 1, u32::MAX] {
            let err = sbg.cohort("c", 10, periods, 1).unwrap_err();
            assert!(err.to_string().contains("periods"), "{err}");
        }
        assert!(sbg.cohort("c", 10, MAX_PERIODS, 1).is_ok());
        let bgbb = BgBbProcess::new(1.0, 1.0, 1.0, 1.0).unwrap();
        assert!(bgbb.patterns(TimeUnit::DAYS, 10, u32::MAX, 1).is_err());
        assert!(matches!(
            bgbb.patterns(TimeUnit::DAYS, usize::MAX, 5, 1),
            Err(SimulationError::TooManyCustomers { .. })
        ));
        assert!(matches!(
            bgbb.with_holdout(usize::MAX, 5, 5, 1),
            Err(SimulationError::TooManyCustomers { .. })
        ));
        // u32::MAX + 1 opportunities used to saturate silently.
        let err = bgbb.with_holdout(10, u32::MAX, 1, 1).unwrap_err();
        assert!(err.to_string().contains("calibration + holdout"), "{err}");
        assert_eq!(bgbb.with_holdout(10, 6, 5, 1).unwrap().len(), 10);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn options_with_zero_acquisition_days_from_json_do_not_underflow() {
        let opts = SimulationOptions::new(5, day(2024, 1, 1), day(2024, 2, 1), TimeUnit::DAYS, 1);
        let json = serde_json::to_string(&opts)
            .unwrap()
            .replace("\"acquisition_days\":1", "\"acquisition_days\":0");
        let zero: SimulationOptions = serde_json::from_str(&json).unwrap();
        let process = BgNbdProcess::new(1.0, 1.0, 1.0, 1.0).unwrap();
        let (a, b) = (
            simulate(&process, &zero).unwrap(),
            simulate(&process, &opts).unwrap(),
        );
        assert_eq!(a.transactions(), b.transactions());
    }

    fn options(seed: u64) -> SimulationOptions {
        SimulationOptions::new(
            300,
            day(2024, 1, 1),
            day(2024, 12, 31),
            TimeUnit::WEEKS,
            seed,
        )
        .acquisition_days(60)
        .spend(GammaGammaSpend::new(6.0, 4.0, 15.0).unwrap())
    }

    #[test]
    fn same_seed_same_base_other_seed_other_base() {
        let p = BgNbdProcess::new(0.5, 5.0, 0.8, 2.5).unwrap();
        let a = simulate(&p, &options(7)).unwrap();
        let b = simulate(&p, &options(7)).unwrap();
        let c = simulate(&p, &options(8)).unwrap();
        assert_eq!(a.transactions(), b.transactions());
        assert_ne!(a.transactions(), c.transactions());
    }

    #[test]
    fn value_stability_of_the_first_transactions() {
        // Guards the random stream: a change here changes every simulated base users rely on.
        let p = ParetoNbdProcess::new(0.55, 10.5, 0.6, 11.7).unwrap();
        let base = simulate(&p, &options(2024)).unwrap();
        let head: Vec<String> = base
            .transactions()
            .iter()
            .take(3)
            .map(|t| format!("{} {} {}", t.customer(), t.at(), t.amount()))
            .collect();
        assert_eq!(head, STABLE_HEAD);
    }

    const STABLE_HEAD: [&str; 3] = [
        "1 2024-01-11 00:30:27 15.69",
        "1 2024-02-09 14:16:35 13.62",
        "2 2024-02-13 06:22:20 13.44",
    ];

    #[test]
    fn ledger_summaries_reproduce_the_exact_patterns() {
        let p = ParetoNbdProcess::new(0.55, 10.5, 0.6, 11.7).unwrap();
        let base = simulate(&p, &options(3)).unwrap();
        let mut ledger = Ledger::new(
            LedgerOptions::default()
                .grain(Grain::Timestamp)
                .returns(ReturnPolicy::Ignore),
        );
        ledger
            .extend_customers(base.customers().iter().cloned())
            .unwrap();
        ledger
            .extend_transactions(base.transactions().iter().cloned())
            .unwrap();
        let s = ledger
            .summarize(SummaryOptions::new(base.end(), TimeUnit::WEEKS))
            .unwrap();
        assert_eq!(s.len(), 300);
        let mut from_ledger: Vec<_> = s
            .patterns()
            .iter()
            .map(|p| (p.frequency(), p.recency(), p.age()))
            .collect();
        let mut exact: Vec<_> = base
            .patterns()
            .iter()
            .map(|p| (p.frequency(), p.recency(), p.age()))
            .collect();
        let key = |a: &(u32, f64, f64), b: &(u32, f64, f64)| a.partial_cmp(b).unwrap();
        from_ledger.sort_by(key);
        exact.sort_by(key);
        assert_eq!(from_ledger, exact);
    }

    #[test]
    fn rejects_bad_parameters_and_windows() {
        assert!(BgNbdProcess::new(-1.0, 1.0, 1.0, 1.0).is_err());
        assert!(ParetoNbdProcess::new(1.0, f64::NAN, 1.0, 1.0).is_err());
        assert!(GammaGammaSpend::new(1.0, 0.0, 1.0).is_err());
        let p = BgNbdProcess::new(0.5, 5.0, 0.8, 2.5).unwrap();
        let o = SimulationOptions::new(10, day(2024, 1, 1), day(2024, 1, 10), TimeUnit::DAYS, 1)
            .acquisition_days(30);
        assert!(matches!(
            simulate(&p, &o),
            Err(SimulationError::WindowTooShort { .. })
        ));
    }
}
