//! Holdout validation of fitted models: fit on a calibration period, predict the holdout, and
//! compare.
//!
//! For transaction models (continuous or discrete, any [`TransactionModel`]): actual against
//! expected holdout transactions in total and by calibration frequency (0, 1, ..., 7+); the
//! cumulative and incremental tracking of repeat transactions per period over calibration and
//! holdout (each customer's expectation starting at their own first purchase, as in Fader, Hardie
//! & Lee 2005); per-customer error metrics (MAE, RMSE, correlation) and the aggregate error; and
//! the log-likelihood, AIC and BIC of the calibration data for comparing models.
//!
//! For retention models ([`RetentionModel`]): projected against actual survivors in the periods
//! after the calibration.
//!
//! Purchases are counted in purchase days, as the summaries count them (several purchases on one
//! day are one transaction; returns do not count).

use std::collections::{BTreeMap, HashMap};

use chrono::{Days, NaiveDate};

use crate::models::contractual::{Cohort, RetentionModel};
use crate::models::{History, PredictError, TransactionModel};
use crate::records::{CustomerId, Transaction, TransactionKind};
use crate::summary::Summaries;

/// Why a validation could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The summaries have no holdout period (see `SummaryOptions::holdout_end`).
    #[error("the summaries have no holdout period")]
    NoHoldout,
    /// There are no customers to validate on.
    #[error("no customers to validate on")]
    Empty,
    /// The model's time unit differs from the summaries'.
    #[error("model {model} is in {model_unit} but the summaries are in {data_unit}")]
    UnitMismatch {
        /// The model's name.
        model: String,
        /// The model's unit.
        model_unit: String,
        /// The summaries' unit.
        data_unit: String,
    },
    /// A prediction failed for a customer.
    #[error("model {model}, customer {customer}: {source}")]
    Predict {
        /// The model's name.
        model: String,
        /// The customer (or "new customer" for the tracking curve).
        customer: String,
        /// What failed.
        source: PredictError,
    },
    /// A retention validation needs periods after the calibration.
    #[error("cohort {cohort} has no period after calibration period {calibration}")]
    NoHoldoutPeriods {
        /// The cohort's name.
        cohort: String,
        /// The last calibration period.
        calibration: usize,
    },
    /// A date fell outside the calendar range.
    #[error("a date fell outside the supported calendar range")]
    DateOutOfRange,
    /// A holdout count is negative or not finite.
    #[error("row {row}: holdout count {} must be finite and non-negative", crate::error::short(*.value))]
    InvalidHoldout {
        /// The row (0-based).
        row: usize,
        /// The count given.
        value: f64,
    },
    /// The tracking curve would have more points than [`MAX_TRACKING_PERIODS`].
    #[error("{parameter} spans {periods:.3e} tracking periods, more than the limit of {limit}")]
    TooManyPeriods {
        /// The inputs that set the number of periods.
        parameter: &'static str,
        /// Periods asked for.
        periods: f64,
        /// The limit.
        limit: u32,
    },
    /// A figure of the report is not finite (a model's predictions or log-likelihood too large
    /// to add up).
    #[error("model {model}: the {what} is not finite")]
    NotFinite {
        /// The model's name.
        model: String,
        /// Which figure.
        what: &'static str,
    },
}

/// The most points of a tracking curve ([`ValidationReport::tracking`]): one per period of the
/// summaries' unit from the first purchase to the holdout end. Each point evaluates the model
/// once per acquisition day, so the work grows with points × acquisition days: 10,000 points
/// (about 190 years of weeks, or 27 years of days) covers any real holdout design, while a
/// holdout ending in year 9999 in weeks would ask for some 400,000 points (over 100 MB of
/// report) and hours of predictions. A longer curve is [`ValidationError::TooManyPeriods`].
pub const MAX_TRACKING_PERIODS: u32 = 10_000;

/// Actual and expected holdout transactions of the customers with one calibration frequency.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FrequencyBucket {
    /// Calibration frequency x (the last bucket holds x and above).
    pub frequency: u32,
    /// Whether this bucket holds every frequency from `frequency` up ("7+").
    pub and_above: bool,
    /// Customers in the bucket.
    pub customers: usize,
    /// Mean actual holdout transactions per customer.
    pub actual_mean: f64,
    /// Mean expected holdout transactions per customer.
    pub expected_mean: f64,
}

/// Repeat transactions of the whole base in one tracking period.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackingPoint {
    /// Period number (1-based) counted from the first acquisition day.
    pub period: u32,
    /// Last day of the period.
    pub end: NaiveDate,
    /// Whether the period ends in the holdout.
    pub holdout: bool,
    /// Actual repeat transactions in the period.
    pub actual: f64,
    /// Expected repeat transactions in the period.
    pub expected: f64,
    /// Actual repeat transactions from the start through this period.
    pub actual_cumulative: f64,
    /// Expected repeat transactions from the start through this period.
    pub expected_cumulative: f64,
}

/// Per-customer and aggregate errors of the holdout prediction.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ErrorMetrics {
    /// Mean absolute error per customer.
    pub mae: f64,
    /// Root mean squared error per customer.
    pub rmse: f64,
    /// Pearson correlation of actual and expected per customer (0 when either is constant).
    pub correlation: f64,
    /// Total actual holdout transactions.
    pub total_actual: f64,
    /// Total expected holdout transactions.
    pub total_expected: f64,
    /// (expected − actual) / actual, in percent (0 when both are 0).
    pub aggregate_error_percent: f64,
}

/// The holdout validation of one transaction model.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ValidationReport {
    /// The model's name.
    pub model: String,
    /// Customers validated (first purchase in the calibration period).
    pub customers: usize,
    /// Holdout length in the model's time unit.
    pub holdout_length: f64,
    /// Actual vs expected holdout transactions by calibration frequency 0..6 and 7+.
    pub by_frequency: Vec<FrequencyBucket>,
    /// Tracking per period over calibration and holdout.
    pub tracking: Vec<TrackingPoint>,
    /// Error metrics.
    pub errors: ErrorMetrics,
    /// Calibration log-likelihood (total).
    pub log_likelihood: f64,
    /// Number of parameters.
    pub parameters: usize,
    /// AIC = 2k − 2 LL.
    pub aic: f64,
    /// BIC = k ln N − 2 LL.
    pub bic: f64,
}

/// Per-customer error metrics of paired actual and expected values.
pub fn error_metrics(actual: &[f64], expected: &[f64]) -> ErrorMetrics {
    let n = actual.len().min(expected.len());
    let nf = n.max(1) as f64;
    // Sums of squares of values beyond ~1e154 overflow: everything is computed on the values
    // divided by the largest magnitude (the ratios and the correlation do not depend on it) and
    // scaled back at the end.
    let largest = actual[..n]
        .iter()
        .chain(&expected[..n])
        .fold(0.0f64, |m, v| m.max(v.abs()));
    // A power of two, so that dividing and scaling back are exact.
    let scale = if largest.is_finite() && largest > 1.0 {
        2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
    } else {
        1.0
    };
    let a = |i: usize| actual[i] / scale;
    let x = |i: usize| expected[i] / scale;
    let (mut abs, mut sq) = (0.0, 0.0);
    let (mut sa, mut se) = (0.0, 0.0);
    for i in 0..n {
        let e = x(i) - a(i);
        abs += e.abs();
        sq += e * e;
        sa += a(i);
        se += x(i);
    }
    let (ma, me) = (sa / nf, se / nf);
    let (mut cov, mut va, mut ve) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (da, de) = (a(i) - ma, x(i) - me);
        cov += da * de;
        va += da * da;
        ve += de * de;
    }
    let correlation = if va > 0.0 && ve > 0.0 {
        cov / (va * ve).sqrt()
    } else {
        0.0
    };
    let aggregate_error_percent = if sa > 0.0 {
        100.0 * (se - sa) / sa
    } else if se == 0.0 {
        0.0
    } else {
        f64::MAX
    };
    ErrorMetrics {
        mae: abs / nf * scale,
        rmse: (sq / nf).sqrt() * scale,
        correlation: correlation.clamp(-1.0, 1.0),
        total_actual: sa * scale,
        total_expected: se * scale,
        aggregate_error_percent,
    }
}

/// Validates a fitted transaction model on summaries with a holdout, using the transaction log
/// for the tracking curve.
///
/// The summaries' calibration histories give the expected holdout transactions (over the whole
/// holdout length) and the log-likelihood; their holdout frequencies are the actuals. The tracking
/// periods have the summaries' unit and start on the earliest first-purchase day; each customer
/// contributes the model's expectation for a new customer from their own first purchase.
///
/// # Errors
/// [`ValidationError::NoHoldout`], [`ValidationError::Empty`], [`ValidationError::UnitMismatch`]
/// between the model and the summaries, a customer's [`ValidationError::Predict`],
/// [`ValidationError::TooManyPeriods`] when the tracking curve from the first purchase to the
/// holdout end would have more than [`MAX_TRACKING_PERIODS`] points, and
/// [`ValidationError::NotFinite`] when a figure of the report does not fit an f64.
pub fn validate(
    model: &dyn TransactionModel,
    summaries: &Summaries,
    transactions: &[Transaction],
) -> Result<ValidationReport, ValidationError> {
    let holdout_end = summaries
        .options()
        .get_holdout_end()
        .ok_or(ValidationError::NoHoldout)?;
    if summaries.is_empty() {
        return Err(ValidationError::Empty);
    }
    let unit = summaries.unit();
    if model.unit() != unit {
        return Err(ValidationError::UnitMismatch {
            model: model.name().to_string(),
            model_unit: model.unit().to_string(),
            data_unit: unit.to_string(),
        });
    }
    let as_of = summaries.as_of();
    let holdout_length = unit.from_days((holdout_end - as_of).num_days() as f64);
    let records: Vec<HoldoutRecord> = summaries
        .iter()
        .map(|s| HoldoutRecord {
            history: History::from(s),
            holdout: s.holdout().map_or(0, |h| h.frequency) as f64,
        })
        .collect();
    let mut report = validate_holdout(model, &records, holdout_length).map_err(|e| match e {
        ValidationError::Predict {
            model,
            customer,
            source,
        } => {
            // Name the customer by id rather than by row.
            let id = customer
                .strip_prefix("row ")
                .and_then(|r| r.parse::<usize>().ok())
                .and_then(|r| summaries.customers().get(r))
                .map_or(customer, |s| s.id().to_string());
            ValidationError::Predict {
                model,
                customer: id,
                source,
            }
        }
        other => other,
    })?;
    report.tracking = tracking(model, summaries, transactions, holdout_end)?;
    if report
        .tracking
        .iter()
        .any(|p| !(p.expected.is_finite() && p.expected_cumulative.is_finite()))
    {
        return Err(ValidationError::NotFinite {
            model: model.name().to_string(),
            what: "expected tracking curve",
        });
    }
    Ok(report)
}

/// One customer's calibration history and the transactions they made in the holdout.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HoldoutRecord {
    /// The calibration history (x, t_x, T).
    pub history: History,
    /// Transactions in the holdout.
    pub holdout: f64,
}

/// Validates a model on calibration histories and holdout counts alone (no dates): everything
/// of [`validate`] but the tracking curve, which is left empty. This is the entry point for
/// discrete-time data, e.g. BG/BB patterns over n calibration opportunities and the
/// transactions in the next `holdout_length` opportunities.
///
/// # Errors
/// [`ValidationError::Empty`] without histories, a customer's [`ValidationError::Predict`],
/// [`ValidationError::InvalidHoldout`] for a holdout count that is negative or not finite, and
/// [`ValidationError::NotFinite`] when a total, an error metric or the log-likelihood does not
/// fit an f64.
pub fn validate_holdout(
    model: &dyn TransactionModel,
    records: &[HoldoutRecord],
    holdout_length: f64,
) -> Result<ValidationReport, ValidationError> {
    if records.is_empty() {
        return Err(ValidationError::Empty);
    }
    let fail = |row: usize, source: PredictError| ValidationError::Predict {
        model: model.name().to_string(),
        customer: format!("row {row}"),
        source,
    };
    const TOP: u32 = 7;
    let mut actual = Vec::with_capacity(records.len());
    let mut expected = Vec::with_capacity(records.len());
    let mut buckets = vec![(0usize, 0.0f64, 0.0f64); TOP as usize + 1];
    let mut log_likelihood = 0.0;
    for (row, r) in records.iter().enumerate() {
        if !(r.holdout.is_finite() && r.holdout >= 0.0) {
            return Err(ValidationError::InvalidHoldout {
                row,
                value: r.holdout,
            });
        }
        let e = model
            .expected_purchases(&r.history, holdout_length)
            .map_err(|e| fail(row, e))?;
        log_likelihood += model.log_likelihood(&r.history).map_err(|e| fail(row, e))?;
        let b = &mut buckets[r.history.frequency.min(TOP) as usize];
        b.0 += 1;
        b.1 += r.holdout;
        b.2 += e;
        actual.push(r.holdout);
        expected.push(e);
    }
    let by_frequency = buckets
        .iter()
        .enumerate()
        .map(|(x, &(n, a, e))| FrequencyBucket {
            frequency: x as u32,
            and_above: x as u32 == TOP,
            customers: n,
            actual_mean: if n > 0 { a / n as f64 } else { 0.0 },
            expected_mean: if n > 0 { e / n as f64 } else { 0.0 },
        })
        .collect();
    let errors = error_metrics(&actual, &expected);
    let k = model.parameter_count() as f64;
    let n = records.len() as f64;
    let not_finite = |what| ValidationError::NotFinite {
        model: model.name().to_string(),
        what,
    };
    let figures = [
        (errors.mae, "holdout mean absolute error"),
        (errors.rmse, "holdout root mean squared error"),
        (errors.total_actual, "total of holdout transactions"),
        (
            errors.total_expected,
            "total of expected holdout transactions",
        ),
        (errors.aggregate_error_percent, "aggregate holdout error"),
        (errors.correlation, "correlation of actual and expected"),
        (
            2.0 * k - 2.0 * log_likelihood,
            "calibration log-likelihood (or its AIC)",
        ),
    ];
    if let Some((_, what)) = figures.iter().find(|(v, _)| !v.is_finite()) {
        return Err(not_finite(what));
    }
    if buckets
        .iter()
        .any(|(_, a, e)| !(a.is_finite() && e.is_finite()))
    {
        return Err(not_finite("total of a frequency bucket"));
    }
    Ok(ValidationReport {
        model: model.name().to_string(),
        customers: records.len(),
        holdout_length,
        by_frequency,
        tracking: Vec::new(),
        errors,
        log_likelihood,
        parameters: model.parameter_count(),
        aic: 2.0 * k - 2.0 * log_likelihood,
        bic: k * n.ln() - 2.0 * log_likelihood,
    })
}

fn add_days(d: NaiveDate, days: i64) -> Result<NaiveDate, ValidationError> {
    let r = if days >= 0 {
        d.checked_add_days(Days::new(days as u64))
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    r.ok_or(ValidationError::DateOutOfRange)
}

/// Cumulative and incremental tracking of repeat purchase days, actual and expected.
fn tracking(
    model: &dyn TransactionModel,
    summaries: &Summaries,
    transactions: &[Transaction],
    holdout_end: NaiveDate,
) -> Result<Vec<TrackingPoint>, ValidationError> {
    let unit = summaries.unit();
    let as_of = summaries.as_of();
    // First-purchase days of the validated customers, and how many customers share each.
    let mut first: HashMap<&CustomerId, NaiveDate> = HashMap::with_capacity(summaries.len());
    let mut cohorts: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for s in summaries {
        let d = s.first_purchase().date();
        first.insert(s.id(), d);
        *cohorts.entry(d).or_insert(0.0) += 1.0;
    }
    let Some((&start, _)) = cohorts.iter().next() else {
        return Err(ValidationError::Empty);
    };
    // Repeat purchase days: distinct purchase dates after the first, through the holdout end.
    let mut days: Vec<(&CustomerId, NaiveDate)> = transactions
        .iter()
        .filter(|t| t.kind() == TransactionKind::Purchase && t.date() <= holdout_end)
        .filter_map(|t| {
            let f = first.get(t.customer())?;
            (t.date() > *f).then_some((t.customer(), t.date()))
        })
        .collect();
    days.sort_unstable();
    days.dedup();
    let mut repeat_dates: Vec<NaiveDate> = days.into_iter().map(|(_, d)| d).collect();
    repeat_dates.sort_unstable();

    // Period boundaries every `unit` from the start; the last period ends on the holdout end.
    let span = (holdout_end - start).num_days() + 1;
    let periods = (span as f64 / unit.days()).ceil().max(1.0);
    if periods > f64::from(MAX_TRACKING_PERIODS) {
        return Err(ValidationError::TooManyPeriods {
            parameter: "the holdout end and the unit (periods from the first purchase)",
            periods,
            limit: MAX_TRACKING_PERIODS,
        });
    }
    // At most MAX_TRACKING_PERIODS: exact in u32.
    let periods = periods as u32;
    let mut out = Vec::with_capacity(periods as usize);
    let mut cum_actual_idx = 0usize;
    let mut prev = (0.0, 0.0);
    for k in 1..=periods {
        let next_start_offset = ((k as f64) * unit.days()).floor() as i64;
        let end = add_days(start, next_start_offset.min(span) - 1)?;
        while cum_actual_idx < repeat_dates.len() && repeat_dates[cum_actual_idx] <= end {
            cum_actual_idx += 1;
        }
        let actual_cumulative = cum_actual_idx as f64;
        let mut expected_cumulative = 0.0;
        for (&d, &count) in &cohorts {
            if d >= end {
                continue;
            }
            let t = unit.from_days((end - d).num_days() as f64);
            let e = model
                .expected_purchases_new(t)
                .map_err(|e| ValidationError::Predict {
                    model: model.name().to_string(),
                    customer: format!("new customer acquired {d}"),
                    source: e,
                })?;
            expected_cumulative += count * e;
        }
        out.push(TrackingPoint {
            period: k,
            end,
            holdout: end > as_of,
            actual: actual_cumulative - prev.0,
            expected: expected_cumulative - prev.1,
            actual_cumulative,
            expected_cumulative,
        });
        prev = (actual_cumulative, expected_cumulative);
    }
    Ok(out)
}

/// One model's line in a comparison.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ModelComparison {
    /// The model's name.
    pub model: String,
    /// Calibration log-likelihood.
    pub log_likelihood: f64,
    /// Number of parameters.
    pub parameters: usize,
    /// AIC.
    pub aic: f64,
    /// BIC.
    pub bic: f64,
    /// AIC minus the smallest AIC in the comparison.
    pub delta_aic: f64,
    /// BIC minus the smallest BIC in the comparison.
    pub delta_bic: f64,
    /// Holdout MAE per customer.
    pub holdout_mae: f64,
}

/// Compares models validated on the same data, best (lowest AIC) first.
pub fn compare(reports: &[ValidationReport]) -> Vec<ModelComparison> {
    let min_aic = reports.iter().map(|r| r.aic).fold(f64::INFINITY, f64::min);
    let min_bic = reports.iter().map(|r| r.bic).fold(f64::INFINITY, f64::min);
    let mut out: Vec<ModelComparison> = reports
        .iter()
        .map(|r| ModelComparison {
            model: r.model.clone(),
            log_likelihood: r.log_likelihood,
            parameters: r.parameters,
            aic: r.aic,
            bic: r.bic,
            delta_aic: r.aic - min_aic,
            delta_bic: r.bic - min_bic,
            holdout_mae: r.errors.mae,
        })
        .collect();
    out.sort_by(|a, b| a.aic.total_cmp(&b.aic));
    out
}

/// Actual against projected survivors of one cohort in one period.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SurvivorPoint {
    /// The period.
    pub period: usize,
    /// Whether the period is after the calibration.
    pub holdout: bool,
    /// Active customers observed.
    pub actual: f64,
    /// Active customers projected by the model.
    pub projected: f64,
}

/// The holdout validation of a retention model on one cohort.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RetentionValidation {
    /// The model's name.
    pub model: String,
    /// The cohort's name.
    pub cohort: String,
    /// The last calibration period.
    pub calibration_periods: usize,
    /// Every period, calibration and holdout.
    pub survivors: Vec<SurvivorPoint>,
    /// Mean absolute percentage error of the projected survivors in the holdout periods.
    pub holdout_mape_percent: f64,
    /// Calibration log-likelihood of the cohort (periods 0..=calibration).
    pub log_likelihood: f64,
    /// AIC of the calibration fit.
    pub aic: f64,
    /// BIC of the calibration fit (N = customers acquired).
    pub bic: f64,
}

/// Compares a retention model's projection with a cohort's survivors after period
/// `calibration_periods` (the model having been fitted on periods 0..=calibration_periods).
///
/// # Errors
/// [`ValidationError::NoHoldoutPeriods`] for a cohort with no period after the calibration, and
/// the model's errors.
pub fn validate_retention(
    model: &dyn RetentionModel,
    cohort: &Cohort,
    calibration_periods: usize,
) -> Result<RetentionValidation, ValidationError> {
    if cohort.periods() <= calibration_periods {
        return Err(ValidationError::NoHoldoutPeriods {
            cohort: cohort.name().to_string(),
            calibration: calibration_periods,
        });
    }
    let n0 = cohort.acquired();
    let mut survivors = Vec::with_capacity(cohort.alive().len());
    let mut ape = 0.0;
    let mut count = 0usize;
    for (t, &actual) in cohort.alive().iter().enumerate() {
        let projected = n0 * model.survival(t as u32);
        let holdout = t > calibration_periods;
        if holdout && actual > 0.0 {
            ape += ((projected - actual) / actual).abs();
            count += 1;
        }
        survivors.push(SurvivorPoint {
            period: t,
            holdout,
            actual,
            projected,
        });
    }
    let ll = model.log_likelihood(std::slice::from_ref(
        &cohort.calibration(calibration_periods),
    ));
    let k = model.parameter_count() as f64;
    Ok(RetentionValidation {
        model: model.name().to_string(),
        cohort: cohort.name().to_string(),
        calibration_periods,
        survivors,
        holdout_mape_percent: if count > 0 {
            100.0 * ape / count as f64
        } else {
            0.0
        },
        log_likelihood: ll,
        aic: 2.0 * k - 2.0 * ll,
        bic: k * n0.ln() - 2.0 * ll,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_metrics_known_answer() {
        let m = error_metrics(&[0.0, 1.0, 2.0, 3.0], &[0.5, 1.0, 2.5, 2.0]);
        assert!((m.mae - 0.5).abs() < 1e-12);
        assert!((m.rmse - (1.5f64 / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(m.total_actual, 6.0);
        assert_eq!(m.total_expected, 6.0);
        assert_eq!(m.aggregate_error_percent, 0.0);
        assert!(m.correlation > 0.8 && m.correlation < 1.0);
        let flat = error_metrics(&[1.0, 1.0], &[0.0, 2.0]);
        assert_eq!(flat.correlation, 0.0);
    }

    #[test]
    fn error_metrics_of_values_near_the_f64_limit_are_finite() {
        let big = f64::MAX / 4.0;
        let m = error_metrics(&[big, 0.0, big], &[0.0, big, big]);
        for v in [
            m.mae,
            m.rmse,
            m.correlation,
            m.total_actual,
            m.aggregate_error_percent,
        ] {
            assert!(v.is_finite(), "{m:?}");
        }
        assert_eq!(m.total_actual, 2.0 * big);
        assert!(
            (m.rmse / big - (2.0f64 / 3.0).sqrt()).abs() < 1e-12,
            "{m:?}"
        );
        assert!((m.correlation + 0.5).abs() < 1e-12, "{m:?}");
    }
}
