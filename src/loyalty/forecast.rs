//! Forecasts from the CLV models: the tier a member holds at the next review and the expected
//! tier mix of a base. The points liability, valued with the same models, is in
//! [`liability`](super::liability).
//!
//! # What is assumed
//!
//! The fitted [`TransactionModel`] gives, for each member's history (x, t_x, T at the as-of
//! date), the distribution of the number N of purchases in the days between the as-of date and
//! the review (`purchase_probability`). Everything else is stated here:
//!
//! - **Count.** Purchases are counted on the days `as_of + 1 ..= review − 1` (a review looks at
//!   the window that closed the day before), horizon `review − as_of − 1` days in the model's
//!   unit. The model counts purchase *days*; each simulated purchase is one transaction.
//! - **Timing** (simulation only). Given N, purchase days are drawn independently with
//!   probability proportional to the model's expected purchases on each day,
//!   `E[X(j)] − E[X(j − 1)]` for day j after the as-of date (uniform for a Poisson purchaser,
//!   front-loaded when members may drop out). For a Poisson purchaser this is exact; for
//!   BG/NBD-type models it ignores that purchase times given N are dependent through the
//!   dropout, which matters only when the window rolls during the horizon.
//! - **Spend** (simulation only). Each purchase's amount is independent of the others and of
//!   the count, with mean `SpendModel::expected_spend(x, mean spend)` for that member:
//!   [`SpendAssumption::Expected`] uses that mean for every purchase; [`SpendAssumption::Gamma`]
//!   draws Gamma(shape k, mean m) amounts (coefficient of variation 1/√k). With k = p of a
//!   fitted Gamma-Gamma model this is the Gamma-Gamma transaction distribution with the member's
//!   rate ν fixed at the value that gives their expected spend (the posterior spread of ν is
//!   left out, so the spread of spend is understated for members with few purchases). Amounts
//!   are rounded to cents.
//! - **No future returns, redemptions or locks other than the ones given**; locks given for
//!   future dates apply.
//!
//! **Exact** forecasts are used when the outcome depends on the count alone: a ladder on
//! [`Metric::Orders`], a calendar-year or membership-anniversary window (the qualifying value at
//! the review is the current value plus N), no lock between the as-of date and the review, and
//! no grace period running. Then tier probabilities are sums of the model's
//! `purchase_probability` with no simulation error. Otherwise the forecast replays the
//! programme's rules over `simulations` simulated futures with a seed.

use crate::error::InvalidParameter;
use chrono::NaiveDate;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::models::{History, PredictError, SpendModel, TransactionModel};
use crate::records::{Customer, CustomerId, RecordError, Transaction};
use crate::summary::Summaries;
use crate::time::TimeUnit;

use super::error::LoyaltyError;
use super::evaluate::Evaluator;
use super::ladder::Metric;
use super::member::{sort_records, Base, MemberRecords, TierLock};
use super::points::Redemption;
use super::status::Replay;
use super::window::QualificationWindow;

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// Replaying the rules failed.
    #[error(transparent)]
    Loyalty(#[from] LoyaltyError),
    /// The model could not predict.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// An option is out of range.
    #[error(transparent)]
    InvalidParameter(#[from] InvalidParameter),
    /// A simulated purchase is not a valid transaction.
    #[error("a simulated purchase: {0}")]
    Transaction(#[from] RecordError),
    /// The summaries were computed in another time unit than the model's.
    #[error("summaries are in {summaries} but the model in {model}")]
    UnitMismatch {
        /// Unit of the summaries.
        summaries: TimeUnit,
        /// Unit of the model.
        model: TimeUnit,
    },
    /// The summaries were computed at another date than the forecast's as-of date.
    #[error("summaries are as of {summaries} but the forecast as of {as_of}")]
    DateMismatch {
        /// As-of date of the summaries.
        summaries: NaiveDate,
        /// As-of date of the forecast.
        as_of: NaiveDate,
    },
    /// A money or points figure does not fit its type (huge point values or spends).
    #[error("{0} does not fit")]
    Overflow(String),
}

/// The most simulated futures per member ([`ForecastOptions::simulations`]): each is a full
/// replay of the member's records, so a million already takes seconds per member; more would
/// let one setting stall a forecast of a base.
pub const MAX_SIMULATIONS: u32 = 1_000_000;

/// The largest [`ForecastOptions::max_purchases`]: the count distribution is evaluated term by
/// term up to it, and a simulated future holds up to that many purchases. 100,000 purchases
/// before one review is far beyond any member (the points liability sums the same series to the
/// same bound).
pub const MAX_PURCHASES: u32 = 100_000;

/// The distribution of simulated purchase amounts (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "snake_case"))]
pub enum SpendAssumption {
    /// Every purchase spends the member's expected spend.
    Expected,
    /// Gamma-distributed amounts with the member's expected spend as mean and this shape.
    Gamma {
        /// Shape k > 0 (coefficient of variation 1/√k).
        shape: f64,
    },
}

/// How forecasts are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ForecastOptions {
    /// Simulated futures per member (when not exact).
    pub simulations: u32,
    /// Seed of the simulations: the same seed gives the same forecast.
    pub seed: u64,
    /// Distribution of simulated amounts.
    pub spend: SpendAssumption,
    /// Use the exact computation when the rules allow it (see the module docs).
    pub exact_when_possible: bool,
    /// Largest number of purchases considered before the review; the model's probability of
    /// more is added to this count.
    pub max_purchases: u32,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        ForecastOptions {
            simulations: 1000,
            seed: 0,
            spend: SpendAssumption::Expected,
            exact_when_possible: true,
            max_purchases: 1000,
        }
    }
}

/// How a forecast was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ForecastMethod {
    /// From the model's count distribution, no simulation error.
    Exact,
    /// By replaying the rules over simulated futures.
    Simulated {
        /// Number of simulated futures.
        runs: u32,
    },
}

/// A member's tier at the next review.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TierForecast {
    /// The member.
    pub customer: CustomerId,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The review forecast.
    pub review: NaiveDate,
    /// The tier held at the as-of date (index in the ladder).
    pub current_tier: usize,
    /// Probability of holding each tier (by ladder index) on the review date, after the review.
    pub probabilities: Vec<f64>,
    /// Probability that a downgrade decided at the review waits out a grace period.
    pub p_grace: f64,
    /// How it was computed.
    pub method: ForecastMethod,
}

impl TierForecast {
    /// Probability of holding the current tier or a higher one after the review.
    pub fn p_keep(&self) -> f64 {
        self.probabilities
            .iter()
            .skip(self.current_tier)
            .sum::<f64>()
            .clamp(0.0, 1.0)
    }
    /// Probability of holding tier `index` or a higher one after the review.
    pub fn p_at_least(&self, index: usize) -> f64 {
        self.probabilities
            .iter()
            .skip(index)
            .sum::<f64>()
            .clamp(0.0, 1.0)
    }
}

/// Forecasts of a whole base.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BaseForecast {
    /// One forecast per member.
    pub members: Vec<TierForecast>,
    /// Members per tier at the as-of date.
    pub current_mix: Vec<usize>,
    /// Expected members per tier at their next review.
    pub expected_mix: Vec<f64>,
}

/// Forecasts tiers from a fitted transaction model and spend model.
///
/// See the [module docs](self) for the assumptions.
#[derive(Clone, Copy)]
pub struct TierForecaster<'a> {
    evaluator: Evaluator<'a>,
    model: &'a dyn TransactionModel,
    spend: &'a dyn SpendModel,
    options: ForecastOptions,
}

impl std::fmt::Debug for TierForecaster<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TierForecaster")
            .field("evaluator", &self.evaluator)
            .field("model", &self.model.name())
            .field("spend", &self.spend.name())
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> TierForecaster<'a> {
    /// A forecaster with default options.
    pub fn new(
        evaluator: Evaluator<'a>,
        model: &'a dyn TransactionModel,
        spend: &'a dyn SpendModel,
    ) -> Self {
        TierForecaster {
            evaluator,
            model,
            spend,
            options: ForecastOptions::default(),
        }
    }

    /// Sets the options.
    ///
    /// # Errors
    ///
    /// [`ForecastError::InvalidParameter`] for zero simulations or more than
    /// [`MAX_SIMULATIONS`], a `max_purchases` above [`MAX_PURCHASES`], or a Gamma spend shape
    /// that is not finite and positive.
    pub fn options(mut self, options: ForecastOptions) -> Result<Self, ForecastError> {
        if !(1..=MAX_SIMULATIONS).contains(&options.simulations) {
            return Err(ForecastError::InvalidParameter(InvalidParameter::new(
                "simulations",
                options.simulations,
                "must lie in 1..=MAX_SIMULATIONS (1,000,000)",
            )));
        }
        if options.max_purchases > MAX_PURCHASES {
            return Err(ForecastError::InvalidParameter(InvalidParameter::new(
                "max_purchases",
                options.max_purchases,
                "must be at most MAX_PURCHASES (100,000)",
            )));
        }
        if let SpendAssumption::Gamma { shape } = options.spend {
            if !(shape.is_finite() && shape > 0.0) {
                return Err(ForecastError::InvalidParameter(InvalidParameter::new(
                    "spend.shape",
                    shape.to_string(),
                    "must be finite and positive",
                )));
            }
        }
        self.options = options;
        Ok(self)
    }

    /// Forecasts one member. `history` is the member's (x, t_x, T) at `as_of` in the model's
    /// unit, `mean_spend` their mean spend per repeat purchase (the summary's monetary value).
    /// Records dated after `as_of` are ignored.
    ///
    /// # Errors
    ///
    /// [`ForecastError::Loyalty`] when replaying the member's records fails (see
    /// [`Evaluator::replay`]); [`ForecastError::Predict`] for an invalid history or when the model
    /// or the spend model cannot predict; [`ForecastError::InvalidParameter`] or
    /// [`ForecastError::Transaction`] when the member's expected spend gives no valid simulated
    /// purchase (e.g. an amount past the decimal range); [`ForecastError::Overflow`] when the
    /// qualifying value plus the purchases counted does not fit a decimal.
    pub fn forecast_member(
        &self,
        member: &MemberRecords<'_>,
        history: &History,
        mean_spend: f64,
        as_of: NaiveDate,
    ) -> Result<TierForecast, ForecastError> {
        let mut txns: Vec<&Transaction> = member.transactions.iter().collect();
        let mut reds: Vec<&Redemption> = member.redemptions.iter().collect();
        let mut locks: Vec<&TierLock> = member.locks.iter().collect();
        let foreign = txns
            .iter()
            .map(|t| t.customer())
            .chain(reds.iter().map(|r| &r.customer))
            .chain(locks.iter().map(|l| &l.customer))
            .find(|c| *c != member.customer);
        if let Some(found) = foreign {
            return Err(LoyaltyError::ForeignRecord {
                expected: member.customer.clone(),
                found: found.clone(),
            }
            .into());
        }
        self.forecast_refs(
            member.customer,
            member.joined,
            &mut txns,
            &mut reds,
            &mut locks,
            history,
            mean_spend,
            as_of,
            0,
        )
    }

    /// Forecasts every member of a base (as [`Evaluator::evaluate_base`] finds them), with the
    /// histories from `summaries` (computed at `as_of` in the model's unit; a member without a
    /// summary has made no purchase and is forecast as a new customer, x = t_x = T = 0).
    /// Member `i` uses the random stream `seed + i`.
    ///
    /// # Errors
    ///
    /// [`ForecastError::UnitMismatch`] or [`ForecastError::DateMismatch`] when the summaries are
    /// not in the model's unit or not as of `as_of`; then the first error of
    /// [`forecast_member`](Self::forecast_member) among the members.
    #[allow(clippy::too_many_arguments)]
    pub fn forecast_base(
        &self,
        customers: &[Customer],
        transactions: &[Transaction],
        redemptions: &[Redemption],
        locks: &[TierLock],
        summaries: &Summaries,
        as_of: NaiveDate,
    ) -> Result<BaseForecast, ForecastError> {
        if summaries.unit() != self.model.unit() {
            return Err(ForecastError::UnitMismatch {
                summaries: summaries.unit(),
                model: self.model.unit(),
            });
        }
        if summaries.as_of() != as_of {
            return Err(ForecastError::DateMismatch {
                summaries: summaries.as_of(),
                as_of,
            });
        }
        let tiers = self.evaluator.programme().ladder().len();
        let mut base = Base::group(customers, transactions, redemptions, locks);
        let mut out = BaseForecast {
            members: Vec::with_capacity(base.len()),
            current_mix: vec![0; tiers],
            expected_mix: vec![0.0; tiers],
        };
        for (i, m) in base.members().into_iter().enumerate() {
            let Some(joined) = m.joined.or_else(|| m.txns.iter().map(|t| t.date()).min()) else {
                continue;
            };
            if joined > as_of {
                continue;
            }
            let (history, mean) = match summaries.get(m.id) {
                Some(s) => (History::from(s), s.monetary_value().to_f64().unwrap_or(0.0)),
                None => (History::new(0, 0.0, 0.0), 0.0),
            };
            let f = self.forecast_refs(
                m.id,
                Some(joined),
                m.txns,
                m.reds,
                m.locks,
                &history,
                mean,
                as_of,
                i as u64,
            )?;
            if let Some(c) = out.current_mix.get_mut(f.current_tier) {
                *c += 1;
            }
            for (e, p) in out.expected_mix.iter_mut().zip(&f.probabilities) {
                *e += p;
            }
            out.members.push(f);
        }
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn forecast_refs(
        &self,
        id: &CustomerId,
        joined: Option<NaiveDate>,
        txns: &mut [&Transaction],
        reds: &mut [&Redemption],
        locks: &mut [&TierLock],
        history: &History,
        mean_spend: f64,
        as_of: NaiveDate,
        stream: u64,
    ) -> Result<TierForecast, ForecastError> {
        history.validate()?;
        let mut txns: Vec<&Transaction> =
            txns.iter().copied().filter(|t| t.date() <= as_of).collect();
        let mut reds: Vec<&Redemption> = reds.iter().copied().filter(|r| r.date <= as_of).collect();
        let (txns, reds) = (&mut txns[..], &mut reds[..]);
        sort_records(txns, reds, locks);
        let now = self
            .evaluator
            .replay_refs(id, joined, txns, reds, locks, as_of)?;
        let status = now.status();
        let review = status.next_evaluation;
        let horizon_days = (review - as_of).num_days().saturating_sub(1).max(0) as u32;
        let t = self.model.unit().from_days(f64::from(horizon_days));
        let pmf = self.count_pmf(history, t)?;
        let tiers = self.evaluator.programme().ladder().len();

        let lock_in_horizon = locks.iter().any(|l| l.from <= review && l.until > as_of);
        let exact = self.options.exact_when_possible
            && *self.evaluator.programme().ladder().metric() == Metric::Orders
            && matches!(
                self.evaluator.programme().window(),
                QualificationWindow::CalendarYear | QualificationWindow::MembershipAnniversary
            )
            && !lock_in_horizon
            && status.pending_downgrade.is_none();
        let (probabilities, p_grace, method) = if exact {
            let (p, g) = self.exact(&now, &pmf, tiers)?;
            (p, g, ForecastMethod::Exact)
        } else {
            let (p, g) = self.simulate(
                id,
                joined,
                txns,
                reds,
                locks,
                &now,
                history,
                mean_spend,
                &pmf,
                horizon_days,
                stream,
            )?;
            (
                p,
                g,
                ForecastMethod::Simulated {
                    runs: self.options.simulations,
                },
            )
        };
        Ok(TierForecast {
            customer: id.clone(),
            as_of,
            review,
            current_tier: status.tier_index,
            probabilities,
            p_grace,
            method,
        })
    }

    /// P(N = n) for n = 0..; the last entry carries the probability of that many or more.
    fn count_pmf(&self, history: &History, t: f64) -> Result<Vec<f64>, ForecastError> {
        if t <= 0.0 {
            return Ok(vec![1.0]);
        }
        let mut pmf = Vec::new();
        let mut total = 0.0;
        for n in 0..=self.options.max_purchases {
            let p = self.model.purchase_probability(history, n, t)?;
            if !p.is_finite() {
                return Err(PredictError::Numerical {
                    what: "purchase probability",
                    detail: format!("P(N = {n}) is not finite"),
                }
                .into());
            }
            let p = p.clamp(0.0, 1.0);
            pmf.push(p);
            total += p;
            if total >= 1.0 - 1e-12 {
                break;
            }
        }
        if let Some(last) = pmf.last_mut() {
            *last += (1.0 - total).max(0.0);
        }
        Ok(pmf)
    }

    fn exact(
        &self,
        now: &Replay,
        pmf: &[f64],
        tiers: usize,
    ) -> Result<(Vec<f64>, f64), ForecastError> {
        let programme = self.evaluator.programme();
        let ladder = programme.ladder();
        let downgrades = programme.downgrades();
        let status = now.status();
        let mut probabilities = vec![0.0; tiers];
        let mut p_grace = 0.0;
        for (n, p) in pmf.iter().enumerate() {
            let value = status
                .qualifying_value
                .checked_add(Decimal::from(n))
                .ok_or_else(|| {
                    ForecastError::Overflow(format!(
                        "customer {}: qualifying value {} plus {n} purchases",
                        status.customer, status.qualifying_value
                    ))
                })?;
            let earned = ladder.bucket(value);
            let before = status.tier_index.max(earned);
            let target = downgrades.target(before, earned);
            let held = if target < before && downgrades.grace_days > 0 {
                p_grace += p;
                before
            } else {
                target
            };
            if let Some(slot) = probabilities.get_mut(held) {
                *slot += p;
            }
        }
        Ok((probabilities, p_grace))
    }

    #[allow(clippy::too_many_arguments)]
    fn simulate(
        &self,
        id: &CustomerId,
        joined: Option<NaiveDate>,
        txns: &[&Transaction],
        reds: &mut [&Redemption],
        locks: &mut [&TierLock],
        now: &Replay,
        history: &History,
        mean_spend: f64,
        pmf: &[f64],
        horizon_days: u32,
        stream: u64,
    ) -> Result<(Vec<f64>, f64), ForecastError> {
        let status = now.status();
        let tiers = self.evaluator.programme().ladder().len();
        let review = status.next_evaluation;
        let as_of = status.as_of;
        // Day weights: expected purchases on each day of the horizon.
        let unit = self.model.unit();
        let mut cdf = Vec::with_capacity(horizon_days as usize);
        let mut prev = 0.0;
        for j in 1..=horizon_days {
            let e = self
                .model
                .expected_purchases(history, unit.from_days(f64::from(j)))?;
            let w = if e.is_finite() {
                (e - prev).max(0.0)
            } else {
                0.0
            };
            prev = if e.is_finite() { e } else { prev };
            let last = cdf.last().copied().unwrap_or(0.0);
            cdf.push(last + w);
        }
        let total_w = cdf.last().copied().unwrap_or(0.0);
        let mean = self.spend.expected_spend(history.frequency, mean_spend)?;
        let mean = if mean.is_finite() && mean > 0.0 {
            mean
        } else {
            0.0
        };
        let gamma = match self.options.spend {
            SpendAssumption::Gamma { shape } if mean > 0.0 => {
                Some(Gamma::new(shape, mean / shape).map_err(|_| {
                    ForecastError::InvalidParameter(InvalidParameter::new(
                        "spend.shape",
                        format!("{shape} (mean {mean})"),
                        "must be finite and positive",
                    ))
                })?)
            }
            _ => None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed.wrapping_add(stream));
        let mut probabilities = vec![0.0; tiers];
        let mut grace = 0.0;
        let mut future: Vec<Transaction> = Vec::new();
        let runs = self.options.simulations;
        for _ in 0..runs {
            // Count by inverse CDF.
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut n = pmf.len().saturating_sub(1);
            for (k, p) in pmf.iter().enumerate() {
                acc += p;
                if u < acc {
                    n = k;
                    break;
                }
            }
            future.clear();
            if horizon_days > 0 {
                for _ in 0..n {
                    let v: f64 = rng.random();
                    let j = if total_w > 0.0 {
                        cdf.partition_point(|&c| c <= v * total_w)
                    } else {
                        (v * f64::from(horizon_days)) as usize
                    };
                    let j = (j as u64).min(u64::from(horizon_days) - 1) + 1;
                    // Before the review, which is a valid date: never out of range in practice.
                    let date = as_of.checked_add_days(chrono::Days::new(j)).ok_or(
                        LoyaltyError::Window(super::window::WindowError::DateOutOfRange(as_of)),
                    )?;
                    let amount = match gamma {
                        Some(g) => g.sample(&mut rng),
                        None => mean,
                    };
                    let amount = Transaction::amount_from_f64(
                        amount,
                        &format!("a simulated purchase of customer {id} on {date}"),
                    )?
                    .round_dp(2);
                    let t = Transaction::purchase(id.clone(), date, amount)?;
                    future.push(t);
                }
            }
            let mut all: Vec<&Transaction> = Vec::with_capacity(txns.len() + future.len());
            all.extend_from_slice(txns);
            all.extend(future.iter());
            let r = self
                .evaluator
                .replay_refs(id, joined, &mut all, reds, locks, review)?;
            let s = r.status();
            if let Some(slot) = probabilities.get_mut(s.tier_index) {
                *slot += 1.0;
            }
            if s.pending_downgrade.is_some() {
                grace += 1.0;
            }
        }
        let runs = f64::from(runs);
        probabilities.iter_mut().for_each(|p| *p /= runs);
        Ok((probabilities, grace / runs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loyalty::test_support::{programme, Daily, Flat};

    #[test]
    fn forecast_options_past_their_limits_are_refused_naming_the_setting() {
        let p = programme();
        let forecaster = TierForecaster::new(Evaluator::new(&p), &Daily, &Flat);
        for (options, name) in [
            (
                ForecastOptions {
                    simulations: MAX_SIMULATIONS + 1,
                    ..ForecastOptions::default()
                },
                "simulations",
            ),
            (
                ForecastOptions {
                    max_purchases: MAX_PURCHASES + 1,
                    ..ForecastOptions::default()
                },
                "max_purchases",
            ),
        ] {
            let err = forecaster.options(options).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let limits = ForecastOptions {
            simulations: MAX_SIMULATIONS,
            max_purchases: MAX_PURCHASES,
            ..ForecastOptions::default()
        };
        assert!(forecaster.options(limits).is_ok());
    }
}
