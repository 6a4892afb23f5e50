//! Seeded, reproducible simulation of customer bases for tests, examples and benchmarks.
//!
//! A [`PurchaseProcess`] draws one customer's repeat-purchase times; [`simulate`] spreads first
//! purchases over an acquisition window, runs the process for each customer until the end of the
//! observation window, draws amounts from an optional [`GammaGammaSpend`], and returns typed
//! [`Customer`](crate::records::Customer)s and [`Transaction`](crate::records::Transaction)s
//! together with the exact (x, t_x, T) patterns.
//!
//! [`simulate_with_covariates`] does the same for a base with time-invariant covariates: each
//! customer of a [`DesignMatrix`](crate::covariates::DesignMatrix) (given, or drawn by
//! [`draw_design`]) buys and drops out with the parameters a
//! [`CovariateModel`](crate::models::covariates::CovariateModel) gives their row, and the result
//! is the [`CovariateData`](crate::models::covariates::CovariateData) a covariate fit reads.
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

mod base;
mod continuous;
mod contractual;
mod covariates;
mod discrete;
mod error;
mod params;
mod process;

pub use base::{simulate, GammaGammaSpend, SimulatedBase, SimulationOptions};
pub use continuous::{BgNbdProcess, GGompertzNbdProcess, MbgNbdProcess, ParetoNbdProcess};
pub use contractual::RetentionProcess;
pub use covariates::{
    draw_design, simulate_with_covariates, CovariateDraw, SimulatedCovariateBase,
};
pub use discrete::BgBbProcess;
pub use error::SimulationError;
pub use process::{PurchaseProcess, SimRng, MAX_CUSTOMERS, MAX_PERIODS, MAX_REPEAT_PURCHASES};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeUnit;
    use crate::{Grain, Ledger, LedgerOptions, ReturnPolicy, SummaryOptions};
    use chrono::NaiveDate;

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
