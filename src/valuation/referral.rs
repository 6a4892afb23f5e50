//! Referral value: what the customers a customer brought are worth, beside their own CLV.
//!
//! Following the idea of the customer referral value of Kumar, Petersen & Leone (2007, 2010):
//! a customer's referrals are worth the value of the customers who joined because of them and
//! would not have joined otherwise. The ledger cannot observe who would have come anyway, so
//! that share is a stated assumption ([`ReferralOptions::new`]'s `incremental_share`).
//!
//! For a referrer c at the as-of date, with window W days and incremental share s:
//!
//! - the referrals counted are c's referrals dated in the W days ending at the as-of date
//!   (`as_of − (W − 1)` to `as_of`, both included): older ones have had their credit, later
//!   ones have not happened yet;
//! - referral value(c) = s × Σ CLV(r) over the customers r those referrals brought, rounded
//!   to cents (half to even), where CLV(r) is r's CLV in the same report: the future value
//!   of r, already discounted to the as-of date at the report's rate. A referred customer
//!   with no row (no purchase by the as-of date) counts with value 0.
//!
//! Realised margin (what r has bought so far) is left out: the report values the future, and
//! past margin is already earned revenue, not an asset. The referral value is shown beside
//! CLV, never added into equity: r's CLV is already in equity once, as r's.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;

use super::referral_summary::ReferralSummary;
use super::report::EquityReport;
use crate::ledger::Ledger;
use crate::records::CustomerId;

/// The options of the referral value: the attribution window and the incremental share.
///
/// ```
/// use customer_assets::valuation::ReferralOptions;
/// let options = ReferralOptions::new(180, 0.6)?;
/// assert_eq!((options.window_days(), options.incremental_share()), (180, 0.6));
/// assert_eq!(ReferralOptions::default().window_days(), 365);
/// assert!(ReferralOptions::new(0, 0.5).is_err());
/// assert!(ReferralOptions::new(30, 1.5).is_err());
/// # Ok::<(), customer_assets::valuation::ReferralOptionsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReferralOptions {
    window_days: u32,
    incremental_share: f64,
    #[cfg_attr(feature = "serde", serde(skip))]
    share: Decimal,
}

/// Why [`ReferralOptions`] were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferralOptionsError {
    /// A window of no days counts no referral.
    #[error("the referral attribution window must be at least one day")]
    EmptyWindow,
    /// The incremental share is not a number in 0..=1.
    #[error("the incremental share of referred customers, {share}, is not a number in 0..=1")]
    IncrementalShare {
        /// The share given.
        share: f64,
    },
}

impl Default for ReferralOptions {
    /// A window of 365 days and an incremental share of 1 (every referred customer came
    /// because of the referral).
    fn default() -> Self {
        ReferralOptions {
            window_days: 365,
            incremental_share: 1.0,
            share: Decimal::ONE,
        }
    }
}

impl ReferralOptions {
    /// Referrals dated in the `window_days` days ending at the as-of date count, and
    /// `incremental_share` of the value of the customers they brought: the share of referred
    /// customers who would not have come without the referral (1: all of them).
    ///
    /// # Errors
    ///
    /// [`ReferralOptionsError::EmptyWindow`] for a window of 0 days;
    /// [`ReferralOptionsError::IncrementalShare`] for a share outside 0..=1 or not a number.
    pub fn new(window_days: u32, incremental_share: f64) -> Result<Self, ReferralOptionsError> {
        if window_days == 0 {
            return Err(ReferralOptionsError::EmptyWindow);
        }
        let share = Some(incremental_share)
            .filter(|s| (0.0..=1.0).contains(s))
            .and_then(|s| Decimal::try_from(s).ok())
            .ok_or(ReferralOptionsError::IncrementalShare {
                share: incremental_share,
            })?;
        Ok(ReferralOptions {
            window_days,
            incremental_share,
            share,
        })
    }

    /// The attribution window, in days ending at the as-of date.
    pub fn window_days(&self) -> u32 {
        self.window_days
    }

    /// The share of referred customers who would not have come otherwise.
    pub fn incremental_share(&self) -> f64 {
        self.incremental_share
    }

    /// The first day of the window ending at `as_of` (the earliest date when it reaches past
    /// it).
    fn first_day(&self, as_of: NaiveDate) -> NaiveDate {
        as_of
            .checked_sub_days(Days::new(u64::from(self.window_days) - 1))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// One referrer's count and value before rounding.
#[derive(Default)]
struct Tally {
    referrals: u32,
    clv: Decimal,
}

/// Sets each row's referral count and value and the report's [`ReferralSummary`], when the
/// ledger holds referrals. A problem (a sum past the decimal range) leaves the values at 0 and
/// says so in the summary's note: it never takes the report down.
pub(super) fn attach(report: &mut EquityReport, ledger: &Ledger, options: ReferralOptions) {
    if ledger.referrals().is_empty() {
        return;
    }
    let (first, last) = (options.first_day(report.as_of), report.as_of);
    let in_window: Vec<_> = ledger
        .referrals()
        .iter()
        .filter(|r| (first..=last).contains(&r.date()))
        .collect();
    let mut summary = ReferralSummary {
        window: (first, last),
        incremental_share: options.incremental_share,
        referrals: in_window.len(),
        referral_value: Decimal::ZERO,
        referrers_without_row: 0,
        value_without_row: Decimal::ZERO,
        note: None,
    };
    let row_of: HashMap<&CustomerId, usize> = report
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.id, i))
        .collect();
    let mut tallies: HashMap<&CustomerId, Tally> = HashMap::new();
    let mut overflow = None;
    for r in &in_window {
        let clv = row_of
            .get(r.referred())
            .map_or(Decimal::ZERO, |&i| report.customers[i].clv);
        let tally = tallies.entry(r.referrer()).or_default();
        tally.referrals = tally.referrals.saturating_add(1);
        match tally.clv.checked_add(clv) {
            Some(sum) => tally.clv = sum,
            None => {
                overflow = Some(format!(
                    "the CLV of the customers {} referred",
                    r.referrer()
                ))
            }
        }
    }
    let mut values: Vec<(Option<usize>, u32, Decimal)> = Vec::with_capacity(tallies.len());
    for (referrer, tally) in &tallies {
        let value = tally
            .clv
            .checked_mul(options.share)
            .map(|v| v.round_dp(2))
            .filter(|_| overflow.is_none());
        let total = value.and_then(|v| summary.referral_value.checked_add(v));
        match (value, total) {
            (Some(v), Some(total)) => {
                summary.referral_value = total;
                let row = row_of.get(referrer).copied();
                if row.is_none() {
                    summary.referrers_without_row += 1;
                    summary.value_without_row += v;
                }
                values.push((row, tally.referrals, v));
            }
            _ => {
                overflow.get_or_insert_with(|| format!("the referral value of {referrer}"));
                break;
            }
        }
    }
    if let Some(what) = overflow {
        summary.referral_value = Decimal::ZERO;
        summary.referrers_without_row = 0;
        summary.value_without_row = Decimal::ZERO;
        summary.note = Some(format!(
            "{what} does not fit a decimal: no referral value is reported"
        ));
        values.clear();
    }
    for (row, referrals, value) in values {
        if let Some(c) = row.and_then(|i| report.customers.get_mut(i)) {
            c.referrals = referrals;
            c.referral_value = value;
        }
    }
    report.referrals = Some(summary);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
    use crate::models::{History, PredictError, TransactionModel};
    use crate::records::{Customer, Referral, Transaction};
    use crate::time::TimeUnit;
    use crate::valuation::{DiscountRate, Valuation};
    use crate::LedgerOptions;

    /// Buys once a week while alive, alive with probability one half.
    struct Flat;
    impl TransactionModel for Flat {
        fn name(&self) -> &str {
            "flat"
        }
        fn unit(&self) -> TimeUnit {
            TimeUnit::WEEKS
        }
        fn log_likelihood(&self, _: &History) -> Result<f64, PredictError> {
            Ok(-1.0)
        }
        fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
            Ok(0.5)
        }
        fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
            Ok(0.5 * t)
        }
        fn purchase_probability(&self, _: &History, _: u32, _: f64) -> Result<f64, PredictError> {
            Ok(0.0)
        }
        fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
            Ok(t)
        }
        fn purchase_probability_new(&self, _: u32, _: f64) -> Result<f64, PredictError> {
            Ok(0.0)
        }
        fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> {
            Ok(0.5 / rate)
        }
        fn named_parameters(&self) -> Vec<(String, f64)> {
            Vec::new()
        }
    }

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn id(c: u64) -> CustomerId {
        CustomerId::from(c)
    }

    /// Customers 1–5 and 7 buy (5 only on 31 December); 6 (a referrer) and 8 (referred) have
    /// records only.
    /// Referrals: 1→2 (1 March), 1→3 (1 June), 1→8 (1 May), 2→4 (31 December 2023, before
    /// the window), 3→5 (31 December 2024, its last day), 6→7 (1 February).
    fn ledger() -> Ledger {
        let mut l = Ledger::new(LedgerOptions::default());
        for c in [1, 2, 3, 4, 5, 7] {
            if c != 5 {
                let t = Transaction::purchase(id(c), day(6, 1), Decimal::from(10 * c)).unwrap();
                l.add_transaction(t).unwrap();
            }
            let t = Transaction::purchase(id(c), day(12, 31), Decimal::from(10 * c)).unwrap();
            l.add_transaction(t).unwrap();
        }
        l.add_customer(Customer::new(id(6), day(1, 1))).unwrap();
        l.add_customer(Customer::new(id(8), day(6, 1))).unwrap();
        let before = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
        for (from, to, date) in [
            (1, 2, day(3, 1)),
            (1, 3, day(6, 1)),
            (1, 8, day(5, 1)),
            (2, 4, before),
            (3, 5, day(12, 31)),
            (6, 7, day(2, 1)),
        ] {
            l.add_referral(Referral::new(id(from), id(to), date).unwrap())
                .unwrap();
        }
        l
    }

    /// The report of `l` at the end of 2024, its referral values not yet attached and its CLVs
    /// set by hand: customer c's CLV is `clvs[c]`.
    fn report(l: &Ledger, clvs: [Decimal; 8]) -> EquityReport {
        let mut report = Valuation::builder()
            .ledger(l)
            .as_of(day(12, 31))
            .unit(TimeUnit::WEEKS)
            .transaction_model(Flat)
            .spend_model(
                GammaGamma::new(GammaGammaParameters {
                    p: 6.0,
                    q: 3.0,
                    gamma: 15.0,
                })
                .unwrap(),
            )
            .margin(0.3)
            .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
            .horizon(52.0)
            .build()
            .unwrap()
            .run()
            .unwrap();
        assert!(report.referrals.is_some(), "the run attaches them");
        report.referrals = None;
        for c in &mut report.customers {
            c.clv = clvs[c.id.to_string().parse::<usize>().unwrap()];
            (c.referrals, c.referral_value) = (0, Decimal::ZERO);
        }
        report
    }

    fn row(report: &EquityReport, c: u64) -> (u32, Decimal) {
        let row = report.customers.iter().find(|r| r.id == id(c)).unwrap();
        (row.referrals, row.referral_value)
    }

    #[test]
    fn a_hand_computed_referral_value() {
        let l = ledger();
        let cents = |c: i64| Decimal::new(c, 2);
        // CLV of customers 1..=7 (index 0 unused): 2 is worth 100.00, 3 50.55, 4 70.00,
        // 5 20.01, 7 10.00.
        let clvs = [0, 999, 10_000, 5_055, 7_000, 2_001, 0, 1_000].map(cents);
        let mut report = report(&l, clvs);
        attach(&mut report, &l, ReferralOptions::new(366, 0.6).unwrap());
        // Window: 1 January to 31 December 2024 (the 366 days of a leap year ending at the
        // as-of date).
        // 1 brought 2, 3 and 8 in it: 0.6 × (100.00 + 50.55 + 0 for 8, who has no row)
        // = 0.6 × 150.55 = 90.33.
        assert_eq!(row(&report, 1), (3, cents(9_033)));
        // 2's only referral (of 4) is dated the day before the window.
        assert_eq!(row(&report, 2), (0, Decimal::ZERO));
        // 3 brought 5 on the window's last day: 0.6 × 20.01 = 12.006, 12.01 in cents.
        assert_eq!(row(&report, 3), (1, cents(1_201)));
        assert_eq!(row(&report, 4), (0, Decimal::ZERO));
        // 6 has no row (no purchase): 0.6 × 10.00 = 6.00 counts in the totals only.
        let summary = report.referrals.clone().unwrap();
        assert_eq!(summary.window, (day(1, 1), day(12, 31)));
        assert_eq!(summary.referrals, 5);
        assert_eq!(
            (summary.referrers_without_row, summary.value_without_row),
            (1, cents(600))
        );
        // 90.33 + 12.01 + 6.00.
        assert_eq!(summary.referral_value, cents(10_834));
        assert_eq!(summary.note, None);

        // A 30-day window keeps only 3→5 (31 December): 1 × 0.6 × 20.01.
        let mut report = super::tests::report(&l, clvs);
        attach(&mut report, &l, ReferralOptions::new(30, 0.6).unwrap());
        assert_eq!(row(&report, 1), (0, Decimal::ZERO));
        assert_eq!(row(&report, 3), (1, cents(1_201)));
        assert_eq!(report.referrals.unwrap().window.0, day(12, 2));
    }

    #[test]
    fn an_overflow_leaves_the_values_at_zero_with_a_note() {
        let l = ledger();
        let mut clvs = [Decimal::ZERO; 8];
        (clvs[2], clvs[3]) = (Decimal::MAX, Decimal::MAX);
        let mut report = report(&l, clvs);
        attach(&mut report, &l, ReferralOptions::default());
        let summary = report.referrals.clone().unwrap();
        assert!(
            summary.note.as_deref().unwrap().contains("does not fit"),
            "{summary:?}"
        );
        assert_eq!(summary.referral_value, Decimal::ZERO);
        assert!(report
            .customers
            .iter()
            .all(|c| (c.referrals, c.referral_value) == (0, Decimal::ZERO)));
    }

    #[test]
    fn options_are_checked_in_one_place() {
        assert_eq!(
            ReferralOptions::new(0, 1.0),
            Err(ReferralOptionsError::EmptyWindow)
        );
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let err = ReferralOptions::new(10, bad).unwrap_err();
            assert!(
                matches!(err, ReferralOptionsError::IncrementalShare { .. }),
                "{err}"
            );
        }
        for good in [0.0, 0.25, 1.0] {
            assert_eq!(
                ReferralOptions::new(1, good).unwrap().incremental_share(),
                good
            );
        }
        // A window reaching past the earliest date starts there.
        let wide = ReferralOptions::new(u32::MAX, 1.0).unwrap();
        assert_eq!(wide.first_day(day(1, 1)), NaiveDate::MIN);
        assert_eq!(
            ReferralOptions::new(1, 1.0).unwrap().first_day(day(1, 1)),
            day(1, 1)
        );
    }

    #[test]
    fn a_ledger_without_referrals_leaves_the_report_as_it_was() {
        let mut plain = Ledger::new(LedgerOptions::default());
        plain
            .extend_transactions(ledger().transactions().iter().cloned())
            .unwrap();
        let mut report = report(&ledger(), [Decimal::ONE; 8]);
        attach(&mut report, &plain, ReferralOptions::default());
        assert_eq!(report.referrals, None);
        assert!(report.customers.iter().all(|c| c.referrals == 0));
    }
}
