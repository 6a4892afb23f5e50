//! A downstream-style segmenter, written outside the crate against its public traits.
//!
//! `SpendVelocity` learns the median spend per week of customer age from a population, then
//! labels each customer "fast" or "slow" against it. It uses only the public API: the
//! [`Segmenter`] and [`Assign`] traits, [`Profile`] and [`SegmentError`].
//!
//! ```text
//! cargo run --example custom_segmenter
//! ```
use std::fmt;

use chrono::NaiveDate;
use customer_assets::segment::{Assign, Feature, Profile, SegmentError, Segmenter};
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::{Ledger, LedgerOptions, TimeUnit};

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

impl Segmenter<Profile> for SpendVelocity {
    type Label = Velocity;
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

impl Assign<Profile> for LearntVelocity {
    type Label = Velocity;
    fn assign(&self, p: &Profile) -> Result<Velocity, SegmentError> {
        Ok(if rate(p)? >= self.median_rate {
            Velocity::Fast
        } else {
            Velocity::Slow
        })
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
    let (learnt, labels) = SpendVelocity.segment(train)?;
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
    Ok(())
}
