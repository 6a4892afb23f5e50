//! The report's referral totals (filled by `referral.rs`; the report reads the type).

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The referrals of a report: the window, the share and the totals. Each customer's own count
/// and value are in their row ([`CustomerValue::referrals`](super::CustomerValue::referrals),
/// [`CustomerValue::referral_value`](super::CustomerValue::referral_value)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReferralSummary {
    /// The first and last day of the attribution window.
    pub window: (NaiveDate, NaiveDate),
    /// The share of referred customers taken to have come because of the referral.
    pub incremental_share: f64,
    /// The referrals dated in the window.
    pub referrals: usize,
    /// The referral value of every referrer (not part of equity: the customers they brought
    /// are in it already).
    pub referral_value: Decimal,
    /// Referrers with referrals in the window but no row in the report (no purchase by the
    /// as-of date): their value is in [`referral_value`](Self::referral_value) but no row.
    pub referrers_without_row: usize,
    /// The referral value of those referrers.
    pub value_without_row: Decimal,
    /// Why the referral values could not be computed (every value is then 0; the report
    /// stands without them).
    pub note: Option<String>,
}
