//! The input of the Gamma-Gamma model: weighted (frequency, mean spend) rows, checked on the way
//! in, and the frequency–spend correlation that checks the model's independence assumption.

use rust_decimal::prelude::ToPrimitive;

use crate::records::CustomerId;
use crate::summary::Summaries;

/// Why spend data could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpendDataError {
    /// A row has no repeat transaction (x = 0): its mean spend is undefined.
    #[error("row {row}{}: frequency must be at least 1", customer_suffix(.customer))]
    NoRepeatTransaction {
        /// Row index (0-based) in the input.
        row: usize,
        /// The customer, when the row came from a summary.
        customer: Option<String>,
    },
    /// A mean spend is zero, negative or not finite (the model needs positive amounts).
    #[error("row {row}{}: mean spend {} must be positive and finite", customer_suffix(.customer), crate::error::short(*.value))]
    NonPositiveSpend {
        /// Row index (0-based) in the input.
        row: usize,
        /// The customer, when the row came from a summary.
        customer: Option<String>,
        /// The mean spend given.
        value: f64,
    },
    /// A weight is zero, negative or not finite.
    #[error("row {row}: weight {} must be positive and finite", crate::error::short(*.weight))]
    BadWeight {
        /// Row index (0-based) in the input.
        row: usize,
        /// The weight given.
        weight: f64,
    },
    /// No row at all (for summaries: no customer with a repeat purchase).
    #[error("no customer with a repeat purchase")]
    Empty,
    /// Summaries have repeat buyers, but none whose mean repeat spend is positive (all free
    /// orders or net returns): the spend model has nothing to learn from.
    #[error("no repeat buyer has a positive mean spend ({left_out} repeat buyers have a zero or negative one)")]
    NoPositiveSpend {
        /// Repeat buyers whose mean repeat spend is zero or negative.
        left_out: usize,
    },
}

fn customer_suffix(customer: &Option<String>) -> String {
    customer
        .as_ref()
        .map(|c| format!(" (customer {c})"))
        .unwrap_or_default()
}

/// One row of spend data: x repeat transactions with mean value m̄ₓ, for `weight` customers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpendRow {
    pub(super) frequency: u32,
    pub(super) mean_spend: f64,
    pub(super) weight: f64,
}

impl SpendRow {
    /// x: number of repeat transactions (at least 1).
    pub fn frequency(&self) -> u32 {
        self.frequency
    }
    /// m̄ₓ: mean value of the repeat transactions (positive).
    pub fn mean_spend(&self) -> f64 {
        self.mean_spend
    }
    /// Number of customers with this row.
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

/// Validated input of the Gamma-Gamma model: weighted (x ≥ 1, m̄ₓ > 0) rows.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpendData {
    pub(super) rows: Vec<SpendRow>,
}

impl SpendData {
    /// Rows of `(x, mean spend, weight)`; every row must have x ≥ 1, a positive finite mean spend
    /// and a positive finite weight (errors name the row).
    ///
    /// # Errors
    /// [`SpendDataError`] naming the first invalid row, or [`SpendDataError::Empty`] without rows.
    pub fn new(rows: impl IntoIterator<Item = (u32, f64, f64)>) -> Result<Self, SpendDataError> {
        let mut out = Vec::new();
        for (row, (x, m, w)) in rows.into_iter().enumerate() {
            out.push(checked_row(row, None, x, m, w)?);
        }
        if out.is_empty() {
            return Err(SpendDataError::Empty);
        }
        Ok(SpendData { rows: out })
    }

    /// The customers of `summaries` with at least one repeat purchase (frequency > 0), each with
    /// weight 1 and its monetary value (the mean of the repeat purchases). A repeat buyer whose
    /// monetary value is not positive (for example all returns or free orders) is an error naming
    /// the customer: remove or fix such customers first, nothing is dropped silently.
    ///
    /// # Errors
    /// [`SpendDataError::NonPositiveSpend`] naming the first repeat buyer whose monetary value is
    /// not positive, or [`SpendDataError::Empty`] when no customer has a repeat purchase.
    pub fn from_summaries(summaries: &Summaries) -> Result<Self, SpendDataError> {
        let mut out = Vec::new();
        for (row, s) in summaries.iter().enumerate() {
            if s.frequency() == 0 {
                continue;
            }
            let m = mean_spend(s.repeat_spend(), s.frequency()).unwrap_or(f64::NAN);
            out.push(checked_row(
                row,
                Some(s.id().to_string()),
                s.frequency(),
                m,
                1.0,
            )?);
        }
        if out.is_empty() {
            return Err(SpendDataError::Empty);
        }
        Ok(SpendData { rows: out })
    }

    /// The repeat buyers of `summaries` that a spend model can learn from: those whose mean
    /// repeat spend is positive, each with weight 1; the repeat buyers whose mean repeat spend is
    /// zero or negative (free orders, returns) are listed in [`UsableSpend::left_out`], not
    /// dropped silently. A valuation fits its spend model on the usable rows and values the
    /// customers left out at the population mean spend.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::models::SpendData;
    /// use customer_assets::{Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction};
    ///
    /// let day = |d| NaiveDate::from_ymd_opt(1997, 1, d).ok_or("bad day");
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// for (customer, d, amount) in [(1u64, 1, "10"), (1, 5, "12"), (2, 1, "8"), (2, 9, "0")] {
    ///     ledger.add_transaction(Transaction::purchase(customer.into(), day(d)?, amount.parse()?)?)?;
    /// }
    /// let summaries = ledger.summarize(SummaryOptions::new(day(31)?, TimeUnit::DAYS))?;
    /// let usable = SpendData::usable_from_summaries(&summaries)?;
    /// assert_eq!(usable.data.rows().len(), 1);
    /// assert_eq!(usable.left_out.len(), 1); // customer 2: the repeat purchase was free
    /// assert!(SpendData::from_summaries(&summaries).is_err()); // the strict form refuses
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`SpendDataError::Empty`] when no customer has a repeat purchase, and
    /// [`SpendDataError::NoPositiveSpend`] when repeat buyers exist but none has a positive mean
    /// spend.
    pub fn usable_from_summaries(summaries: &Summaries) -> Result<UsableSpend, SpendDataError> {
        let mut rows = Vec::new();
        let mut left_out = Vec::new();
        for s in summaries.iter().filter(|s| s.frequency() > 0) {
            match mean_spend(s.repeat_spend(), s.frequency()) {
                Some(m) if m.is_finite() && m > 0.0 => rows.push(SpendRow {
                    frequency: s.frequency(),
                    mean_spend: m,
                    weight: 1.0,
                }),
                _ => left_out.push(s.id().clone()),
            }
        }
        match (rows.is_empty(), left_out.len()) {
            (true, 0) => Err(SpendDataError::Empty),
            (true, left_out) => Err(SpendDataError::NoPositiveSpend { left_out }),
            (false, _) => Ok(UsableSpend {
                data: SpendData { rows },
                left_out,
            }),
        }
    }

    /// The usable rows of `summaries` (as [`usable_from_summaries`](Self::usable_from_summaries)
    /// picks them) weighted by `weights`, one per customer in the summaries' order, the
    /// customers of weight 0 left out: the spend data of a resample of the customers.
    ///
    /// # Errors
    /// [`SpendDataError::Empty`] when no customer of positive weight is usable.
    pub(crate) fn usable_weighted(
        summaries: &Summaries,
        weights: &[f64],
    ) -> Result<SpendData, SpendDataError> {
        let rows: Vec<SpendRow> = summaries
            .iter()
            .zip(weights)
            .filter(|(s, w)| s.frequency() > 0 && **w > 0.0)
            .filter_map(|(s, &weight)| {
                let m = mean_spend(s.repeat_spend(), s.frequency())?;
                (m.is_finite() && m > 0.0).then_some(SpendRow {
                    frequency: s.frequency(),
                    mean_spend: m,
                    weight,
                })
            })
            .collect();
        if rows.is_empty() {
            return Err(SpendDataError::Empty);
        }
        Ok(SpendData { rows })
    }

    /// The mean value of one repeat transaction over all rows: Σ w·x·m̄ₓ / Σ w·x (each
    /// transaction counts once). This is the population mean spend of the limiting Gamma-Gamma
    /// model without spend heterogeneity (q → ∞), the [`MeanSpend`](crate::models::MeanSpend)
    /// model's estimate.
    pub fn mean_transaction_value(&self) -> f64 {
        // A running mean of weights scaled by the largest: nothing overflows (weights reach 1e308).
        let largest = self.rows.iter().fold(0.0f64, |m, r| m.max(r.weight));
        let (mut mean, mut transactions) = (0.0, 0.0);
        for r in &self.rows {
            let n = r.weight / largest * f64::from(r.frequency);
            transactions += n;
            mean += (n / transactions) * (r.mean_spend - mean);
        }
        mean
    }

    /// The rows.
    pub fn rows(&self) -> &[SpendRow] {
        &self.rows
    }

    /// The same rows with new weights (one per row, finite and non-negative), the rows of
    /// weight 0 left out: a resample of the customers.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`](crate::InvalidParameter) for a number of weights other than of
    /// rows, a negative or non-finite weight, or no weight above 0.
    pub fn with_weights(&self, weights: &[f64]) -> Result<SpendData, crate::InvalidParameter> {
        let rows = crate::error::reweighted_rows(&self.rows, weights, |r, w| SpendRow {
            weight: w,
            ..*r
        })?;
        Ok(SpendData { rows })
    }

    /// Number of customers (sum of the weights).
    pub fn total_weight(&self) -> f64 {
        self.rows.iter().map(|r| r.weight).sum()
    }

    /// The model's independence check: the weighted Pearson correlation between frequency and mean
    /// spend across customers. `None` when either has no variance (for example a single row).
    pub fn frequency_spend_correlation(&self) -> Option<f64> {
        let w = self.total_weight();
        let mean_x = self
            .rows
            .iter()
            .map(|r| r.weight * f64::from(r.frequency))
            .sum::<f64>()
            / w;
        let mean_m = self
            .rows
            .iter()
            .map(|r| r.weight * r.mean_spend)
            .sum::<f64>()
            / w;
        let (mut sxx, mut smm, mut sxm) = (0.0, 0.0, 0.0);
        for r in &self.rows {
            let dx = f64::from(r.frequency) - mean_x;
            let dm = r.mean_spend - mean_m;
            sxx += r.weight * dx * dx;
            smm += r.weight * dm * dm;
            sxm += r.weight * dx * dm;
        }
        let c = sxm / (sxx * smm).sqrt();
        (sxx > 0.0 && smm > 0.0 && c.is_finite()).then_some(c.clamp(-1.0, 1.0))
    }
}

/// The spend data a model can use from summaries, and the repeat buyers left out of it (see
/// [`SpendData::usable_from_summaries`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UsableSpend {
    /// The repeat buyers with a positive mean repeat spend.
    pub data: SpendData,
    /// The repeat buyers whose mean repeat spend is zero or negative, in summary order.
    pub left_out: Vec<CustomerId>,
}

/// The mean spend per repeat transaction, `spend` / `frequency` (frequency ≥ 1), as an f64: for
/// spends of up to 15 decimals and 2⁵³ units of their last digit (any amount of money in cents
/// below 90 trillion) one correctly rounded division of the spend's digits by 10^scale ·
/// frequency; else [`CustomerSummary::monetary_value`](crate::summary::CustomerSummary::monetary_value)
/// converted (a decimal division, ten times slower, equal to the last bit or one off).
pub(crate) fn mean_spend(spend: rust_decimal::Decimal, frequency: u32) -> Option<f64> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    const EXACT: u128 = 1 << 53;
    let digits = spend.mantissa();
    if let Some(power) = POWERS.get(spend.scale() as usize) {
        // Both factors are integers below 2⁵³, and so is their product: it is exact.
        let divisor = power * f64::from(frequency);
        if digits.unsigned_abs() < EXACT && divisor < EXACT as f64 && frequency > 0 {
            return Some(digits as f64 / divisor);
        }
    }
    if frequency == 0 {
        return Some(0.0);
    }
    (spend / rust_decimal::Decimal::from(frequency)).to_f64()
}

pub(super) fn checked_row(
    row: usize,
    customer: Option<String>,
    x: u32,
    m: f64,
    w: f64,
) -> Result<SpendRow, SpendDataError> {
    if x == 0 {
        return Err(SpendDataError::NoRepeatTransaction { row, customer });
    }
    if !(m.is_finite() && m > 0.0) {
        return Err(SpendDataError::NonPositiveSpend {
            row,
            customer,
            value: m,
        });
    }
    if !(w.is_finite() && w > 0.0) {
        return Err(SpendDataError::BadWeight { row, weight: w });
    }
    Ok(SpendRow {
        frequency: x,
        mean_spend: m,
        weight: w,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_rows_are_named() {
        assert_eq!(
            SpendData::new([(1, 5.0, 1.0), (0, 5.0, 1.0)]),
            Err(SpendDataError::NoRepeatTransaction {
                row: 1,
                customer: None
            })
        );
        assert!(matches!(
            SpendData::new([(1, -5.0, 1.0)]),
            Err(SpendDataError::NonPositiveSpend { row: 0, .. })
        ));
        assert!(matches!(
            SpendData::new([(1, 5.0, 0.0)]),
            Err(SpendDataError::BadWeight { row: 0, .. })
        ));
        assert_eq!(SpendData::new([]), Err(SpendDataError::Empty));
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(256))]
        /// The mean spend from the spend's digits is the decimal mean converted, within two ulps:
        /// ours is one IEEE division of exact operands (correctly rounded), while rust_decimal's
        /// conversion to f64 is not always correctly rounded (CI found a case two ulps apart:
        /// -3938709493.328716 / 1984153637).
        #[test]
        fn mean_spend_is_the_decimal_mean(
            digits in -(1i64 << 53) + 1..(1i64 << 53),
            scale in 0u32..18,
            frequency in 1u32..u32::MAX,
        ) {
            let spend = rust_decimal::Decimal::new(digits, scale);
            let want = (spend / rust_decimal::Decimal::from(frequency)).to_f64().unwrap();
            let got = mean_spend(spend, frequency).unwrap();
            proptest::prop_assert!(
                got == want || (got - want).abs() <= 2.0 * f64::EPSILON * want.abs(),
                "{} / {}: {} vs {}", spend, frequency, got, want
            );
            proptest::prop_assert_eq!(got > 0.0, want > 0.0);
        }
    }

    #[test]
    fn correlation_is_pearson() {
        let d = SpendData::new([(1, 1.0, 1.0), (2, 2.0, 1.0), (3, 3.0, 1.0)]).unwrap();
        assert!((d.frequency_spend_correlation().unwrap() - 1.0).abs() < 1e-12);
        let d = SpendData::new([(1, 1.0, 1.0), (1, 2.0, 1.0)]).unwrap();
        assert_eq!(d.frequency_spend_correlation(), None);
    }
}
