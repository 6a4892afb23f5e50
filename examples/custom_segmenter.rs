//! A downstream-style segmenter and transaction model, written outside the crate against its
//! public traits, and plugged into the valuation builder.
//!
//! - `SpendVelocity` learns the median spend per week of customer age from a population, then
//!   labels each customer "fast" or "slow" against it. A downstream segmenter is two impls of one
//!   required method each: [`Segmenter::learn`] on the parameters, [`Assign::assign`] on what they
//!   learn, both over the crate's [`Profile`] by default; everything else (`segment`,
//!   `assign_all`, use through `&`, `Box` or `Arc`) comes with the traits.
//! - `Nbd` is a gamma-Poisson purchase model without dropout, fitted by the method of moments: a
//!   deliberately simple model that a downstream crate could ship. Its settings implement
//!   [`Fit`] (one method), which is all the valuation builder needs to fit it on the base; the
//!   model implements the eight required methods of [`TransactionModel`], and gets new-customer
//!   and batch predictions (over cores with `parallel`) and use through `&`, `Box` or `Arc` from
//!   the trait.
//!
//! ```text
//! cargo run --example custom_segmenter
//! ```
use std::fmt;

use chrono::NaiveDate;
use customer_assets::fit::Fit;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::segment::{Assign, Feature, Profile, SegmentError, Segmenter};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::valuation::{DiscountRate, Valuation};
use customer_assets::{
    History, Ledger, LedgerOptions, Patterns, PredictError, TimeUnit, TransactionModel,
};
use statrs::function::gamma::ln_gamma;

/// The label: a serializable enum with a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
enum Velocity {
    Fast,
    Slow,
}

impl fmt::Display for Velocity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Velocity::Fast => "fast",
            Velocity::Slow => "slow",
        })
    }
}

/// Parameters: nothing to set here.
struct SpendVelocity;

/// What is learnt: the median spend per unit of age.
#[derive(Debug, serde::Serialize)]
struct LearntVelocity {
    median_rate: f64,
}

fn rate(p: &Profile) -> Result<f64, SegmentError> {
    let age = p.feature(Feature::Age)?;
    let spend = p.feature(Feature::TotalSpend)?;
    Ok(if age > 0.0 { spend / age } else { spend })
}

impl Segmenter for SpendVelocity {
    type Learnt = LearntVelocity;

    fn learn(&self, population: &[Profile]) -> Result<LearntVelocity, SegmentError> {
        let mut rates = population.iter().map(rate).collect::<Result<Vec<_>, _>>()?;
        if rates.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        rates.sort_unstable_by(f64::total_cmp);
        Ok(LearntVelocity {
            median_rate: rates[rates.len() / 2],
        })
    }
}

impl Assign for LearntVelocity {
    type Label = Velocity;
    fn assign(&self, p: &Profile) -> Result<Velocity, SegmentError> {
        Ok(if rate(p)? >= self.median_rate {
            Velocity::Fast
        } else {
            Velocity::Slow
        })
    }
}

/// Parameters of the downstream model: nothing to set.
struct NbdParams;

/// Purchase rates λ ~ Gamma(r, α) per week, Poisson purchases, customers never leave.
struct Nbd {
    r: f64,
    alpha: f64,
}

impl Fit<Patterns> for NbdParams {
    type Model = Nbd;
    type Error = String;

    /// Method of moments on the observed rates x/T: E[λ] = r/α and Var[λ] = r/α², after
    /// removing the Poisson noise E[x/T²] from the variance of x/T.
    fn fit(&self, patterns: &Patterns) -> Result<Nbd, String> {
        let (mut n, mut m1, mut m2, mut noise) = (0.0, 0.0, 0.0, 0.0);
        for p in patterns.iter().filter(|p| p.age() > 0.0) {
            let rate = f64::from(p.frequency()) / p.age();
            n += p.weight();
            m1 += p.weight() * rate;
            m2 += p.weight() * rate * rate;
            noise += p.weight() * rate / p.age();
        }
        if n == 0.0 {
            return Err("no customer with a positive age".into());
        }
        let mean = m1 / n;
        let variance = (m2 / n - mean * mean - noise / n).max(1e-12);
        Ok(Nbd {
            r: mean * mean / variance,
            alpha: mean / variance,
        })
    }
}

impl TransactionModel for Nbd {
    fn name(&self) -> &str {
        "nbd"
    }
    fn unit(&self) -> TimeUnit {
        TimeUnit::WEEKS
    }
    fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
        let (x, t) = (f64::from(h.frequency), h.age);
        Ok(ln_gamma(self.r + x) - ln_gamma(self.r) - ln_gamma(x + 1.0)
            + self.r * (self.alpha / (self.alpha + t)).ln()
            + x * (t / (self.alpha + t)).ln())
    }
    fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_purchases(&self, h: &History, t: f64) -> Result<f64, PredictError> {
        Ok((self.r + f64::from(h.frequency)) * t / (self.alpha + h.age))
    }
    fn purchase_probability(&self, h: &History, n: u32, t: f64) -> Result<f64, PredictError> {
        let (k, a, n) = (
            self.r + f64::from(h.frequency),
            self.alpha + h.age,
            f64::from(n),
        );
        Ok((ln_gamma(k + n) - ln_gamma(k) - ln_gamma(n + 1.0)
            + k * (a / (a + t)).ln()
            + n * (t / (a + t)).ln())
        .exp())
    }
    /// Without dropout the discounted purchases are E[λ] / δ.
    fn dert(&self, h: &History, rate: f64) -> Result<f64, PredictError> {
        Ok((self.r + f64::from(h.frequency)) / (self.alpha + h.age) / rate)
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        vec![("r".into(), self.r), ("alpha".into(), self.alpha)]
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    let last = NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("bad date")?;
    let process = BgNbdProcess::new(0.25, 4.0, 0.8, 2.5)?;
    let opts = SimulationOptions::new(2_000, first, last, TimeUnit::WEEKS, 7)
        .acquisition_days(84)
        .spend(GammaGammaSpend::new(6.0, 4.0, 15.0)?);
    let base = simulate(&process, &opts)?;
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_transactions(base.transactions().iter().cloned())?;
    let summaries = ledger.summarize((last, TimeUnit::WEEKS))?;
    let profiles = Profile::from_summaries(&summaries);

    // Learn on the first half, apply to the second half: a learnt segmenter labels new customers.
    let (train, fresh) = profiles.split_at(profiles.len() / 2);
    let velocity = SpendVelocity;
    let (learnt, labels) = velocity.segment(train)?;
    let fresh_labels = learnt.assign_all(fresh)?;
    let fast = |ls: &[Velocity]| ls.iter().filter(|l| **l == Velocity::Fast).count();
    println!("learnt: {}", serde_json::to_string(&learnt)?);
    println!(
        "learning half: {} of {} fast; new half: {} of {} fast",
        fast(&labels),
        labels.len(),
        fast(&fresh_labels),
        fresh_labels.len()
    );

    // Both plugged into the builder beside the crate's own spend model.
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(last)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(NbdParams)
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.10, 365.0)?)
        .horizon(52.0)
        .segmenter("velocity", &velocity) // borrowed: a `&` of a segmenter is a segmenter
        .build()?
        .run()?;
    println!("\n{report}");
    Ok(())
}
