//! Holdout validation: the bookkeeping of the report on simulated logs, the retention
//! projection, and (with the fitted continuous models) `clv validate` on CDNOW.

use chrono::NaiveDate;
use customer_assets::fit::Fit;
use customer_assets::models::contractual::Cohort;
use customer_assets::models::sbg::SbgParams;
use customer_assets::simulate::{simulate, BgNbdProcess, SimulationOptions};
use customer_assets::validation::{compare, validate, validate_retention};
use customer_assets::{
    History, Ledger, LedgerOptions, PredictError, SummaryOptions, TimeUnit, TransactionModel,
};

/// A deliberately simple model: purchases at a constant rate forever (a stand-in for any
/// `TransactionModel` implemented downstream).
struct ConstantRate(f64);

impl TransactionModel for ConstantRate {
    fn name(&self) -> &str {
        "constant-rate"
    }
    fn unit(&self) -> TimeUnit {
        TimeUnit::WEEKS
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        vec![("rate".into(), self.0)]
    }
    fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
        // Poisson process: x ln λ − λT.
        Ok(h.frequency as f64 * self.0.ln() - self.0 * h.age)
    }
    fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
        Ok(self.0 * t)
    }
    fn purchase_probability(&self, _: &History, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
        Ok(self.0 * t)
    }
    fn purchase_probability_new(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn dert(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(0.0)
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_report_accounts_for_every_transaction() {
    let start = day(2024, 1, 1);
    let holdout_end = day(2024, 12, 29);
    let process = BgNbdProcess::new(0.5, 5.0, 0.5, 3.0).unwrap();
    let opts =
        SimulationOptions::new(2_000, start, holdout_end, TimeUnit::WEEKS, 9).acquisition_days(84);
    let base = simulate(&process, &opts).unwrap();
    let mut ledger = Ledger::new(LedgerOptions::default());
    for t in base.transactions() {
        ledger.add_transaction(t.clone()).unwrap();
    }
    let as_of = day(2024, 6, 30);
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS).holdout_end(holdout_end))
        .unwrap();
    let rate = 0.05;
    let report = validate(&ConstantRate(rate), &summaries, ledger.transactions()).unwrap();

    assert_eq!(report.customers, summaries.len());
    let buckets: usize = report.by_frequency.iter().map(|b| b.customers).sum();
    assert_eq!(buckets, summaries.len());
    assert_eq!(report.by_frequency.len(), 8);
    assert!(report.by_frequency[7].and_above);

    let calibration: f64 = summaries.iter().map(|s| s.frequency() as f64).sum();
    let holdout: f64 = summaries
        .iter()
        .map(|s| s.holdout().unwrap().frequency as f64)
        .sum();
    assert_eq!(report.errors.total_actual, holdout);
    let last = report.tracking.last().unwrap();
    assert_eq!(last.end, holdout_end);
    assert_eq!(last.actual_cumulative, calibration + holdout);
    let incremental: f64 = report.tracking.iter().map(|p| p.actual).sum();
    assert_eq!(incremental, last.actual_cumulative);
    // Under a constant rate the expected cumulative count is rate × total customer-weeks.
    let weeks: f64 = summaries
        .iter()
        .map(|s| (holdout_end - s.first_purchase().date()).num_days() as f64 / 7.0)
        .sum();
    assert!((last.expected_cumulative - rate * weeks).abs() < 1e-6);
    // Expected holdout = rate × holdout length for everyone.
    let length = (holdout_end - as_of).num_days() as f64 / 7.0;
    assert!((report.errors.total_expected - rate * length * summaries.len() as f64).abs() < 1e-6);
    assert!(report.errors.rmse >= report.errors.mae);
    // AIC and BIC from the log-likelihood.
    assert!((report.aic - (2.0 - 2.0 * report.log_likelihood)).abs() < 1e-9);
    let worse = validate(&ConstantRate(rate * 3.0), &summaries, ledger.transactions()).unwrap();
    let ranking = compare(&[worse, report.clone()]);
    assert_eq!(ranking[0].delta_aic, 0.0);
    assert!(ranking[1].delta_aic >= 0.0);

    // No holdout: a typed error.
    let no_holdout = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .unwrap();
    assert!(validate(&ConstantRate(rate), &no_holdout, ledger.transactions()).is_err());
}

#[test]
fn retention_validation_compares_projected_and_actual_survivors() {
    let data = vec![
        1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0, 223.0, 207.0, 194.0, 183.0, 173.0,
    ];
    let cohort = Cohort::new("regular", data).unwrap();
    let fitted = SbgParams::new().fit(&[cohort.calibration(7)]).unwrap();
    let v = validate_retention(&fitted, &cohort, 7).unwrap();
    assert_eq!(v.survivors.len(), 13);
    assert_eq!(v.survivors.iter().filter(|s| s.holdout).count(), 5);
    assert!(v.holdout_mape_percent < 3.0, "{}", v.holdout_mape_percent);
    assert!((v.log_likelihood - fitted.report().unwrap().log_likelihood).abs() < 1e-6);
    assert!(validate_retention(&fitted, &cohort, 12).is_err());
}

#[test]
fn bg_bb_holdout_validation_on_simulated_opportunities() {
    use customer_assets::models::bg_bb::{BgBbParams, DiscretePatterns};
    use customer_assets::simulate::BgBbProcess;
    use customer_assets::validation::{validate_holdout, HoldoutRecord};

    let process = BgBbProcess::new(1.2, 0.75, 0.66, 2.8).unwrap();
    let customers = process.with_holdout(20_000, 6, 5, 77).unwrap();
    let data = DiscretePatterns::new(
        TimeUnit::custom_days(365.0).unwrap(),
        customers
            .iter()
            .map(|(h, _)| (h.frequency, h.recency as u32, h.age as u32, 1.0)),
    )
    .unwrap();
    let fitted = BgBbParams::new().fit(&data).unwrap();
    let records: Vec<HoldoutRecord> = customers
        .iter()
        .map(|(h, later)| HoldoutRecord {
            history: *h,
            holdout: *later as f64,
        })
        .collect();
    let report = validate_holdout(&fitted, &records, 5.0).unwrap();
    assert_eq!(report.customers, 20_000);
    assert!(report.tracking.is_empty());
    // A correctly specified model predicts the holdout total within a few percent.
    assert!(
        report.errors.aggregate_error_percent.abs() < 5.0,
        "{:?}",
        report.errors
    );
    for b in &report.by_frequency {
        if b.customers > 500 {
            assert!((b.actual_mean - b.expected_mean).abs() < 0.15, "{b:?}");
        }
    }
    assert!(
        (report.log_likelihood - fitted.report().unwrap().log_likelihood).abs()
            < 1e-6 * report.log_likelihood.abs()
    );
}
