//! The simulation of a base: options, the simulated base, and the loop that draws customers.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::RngExt;
use rand_distr::Distribution;
use rust_decimal::Decimal;

use super::error::SimulationError;
use super::params::{gamma, positive};
use super::process::{PurchaseProcess, SimRng, MAX_CUSTOMERS, MAX_REPEAT_PURCHASES};
use crate::error::InvalidParameter;
use crate::models::History;
use crate::records::{Customer, CustomerId, Transaction};
use crate::summary::Patterns;
use crate::time::TimeUnit;

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
    pub(super) customers: usize,
    start: NaiveDate,
    end: NaiveDate,
    pub(super) unit: TimeUnit,
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

/// Simulates a customer base. See the [module docs](crate::simulate) for an example.
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
    let (base, _) = run(
        options,
        options.customers,
        |i| CustomerId::from(i as u64 + 1),
        |_, rng, horizon, times| {
            process.repeat_purchases(rng, horizon, times);
            Ok(())
        },
    )?;
    Ok(base)
}

/// Draws `count` customers (ids from `id_of`, repeat purchases from `draw`, which gets the
/// customer's index), as [`simulate`] describes; also returns each customer's exact history in
/// order. The random stream is the same for any `draw` that draws as a
/// [`PurchaseProcess`] does.
pub(crate) fn run(
    options: &SimulationOptions,
    count: usize,
    id_of: impl Fn(usize) -> CustomerId,
    mut draw: impl FnMut(usize, &mut SimRng, f64, &mut Vec<f64>) -> Result<(), SimulationError>,
) -> Result<(SimulatedBase, Vec<History>), SimulationError> {
    use rand::SeedableRng;
    if count > MAX_CUSTOMERS {
        return Err(SimulationError::TooManyCustomers {
            customers: count,
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
    let mut customers = Vec::with_capacity(count);
    let mut transactions = Vec::new();
    let mut rows = Vec::with_capacity(count);
    let mut histories = Vec::with_capacity(count);
    let mut times = Vec::new();
    let mut seconds = Vec::new();
    for i in 0..count {
        let id = id_of(i);
        let first = rng.random_range(0..acquisition_seconds);
        let horizon = (end_second - first) as f64 / unit_seconds;
        times.clear();
        draw(i, &mut rng, horizon, &mut times)?;
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
        histories.push(History::new(x, t_x, age));
    }
    let patterns =
        Patterns::new(options.unit, rows).map_err(|_| SimulationError::DateOutOfRange)?;
    Ok((
        SimulatedBase {
            customers,
            transactions,
            patterns,
            end: options.end,
        },
        histories,
    ))
}
