//! Test doubles shared by the loyalty module's unit tests (compiled only under `cfg(test)`).

use rust_decimal::Decimal;

use super::ladder::{Metric, Tier, TierLadder};
use super::points::EarnRules;
use super::rules::Programme;
use super::window::{Downgrades, QualificationWindow};
use crate::models::{History, PredictError, SpendModel, TransactionModel};
use crate::time::TimeUnit;

/// Buys every day with certainty: every point is redeemed.
pub(super) struct Daily;
impl TransactionModel for Daily {
    fn name(&self) -> &str {
        "daily"
    }
    fn unit(&self) -> TimeUnit {
        TimeUnit::DAYS
    }
    fn named_parameters(&self) -> Vec<(String, f64)> {
        Vec::new()
    }
    fn log_likelihood(&self, _: &History) -> Result<f64, PredictError> {
        Ok(0.0)
    }
    fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
        Ok(t)
    }
    fn purchase_probability(&self, _: &History, n: u32, _: f64) -> Result<f64, PredictError> {
        Ok(if n == 1_000 { 1.0 } else { 0.0 })
    }
    fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> {
        Ok(1.0 / rate)
    }
}
pub(super) struct Flat;
impl SpendModel for Flat {
    fn name(&self) -> &str {
        "flat"
    }
    fn expected_spend(&self, _: u32, _: f64) -> Result<f64, PredictError> {
        Ok(1.0)
    }
    fn expected_spend_new(&self) -> Result<f64, PredictError> {
        Ok(1.0)
    }
}

pub(super) fn programme() -> Programme {
    let ladder = TierLadder::new(Metric::Spend, vec![Tier::new("base", Decimal::ZERO)]).unwrap();
    let window = QualificationWindow::CalendarYear;
    Programme::new(
        "p",
        ladder,
        window,
        Downgrades::default(),
        EarnRules::default(),
    )
    .unwrap()
}

/// A spend ladder "base" (from 0) and "top" (from 1) on `window`, with `points`: a value past
/// the decimal range overflows its distance to "top".
pub(crate) fn base_and_top(window: QualificationWindow, points: EarnRules) -> Programme {
    let ladder = TierLadder::new(
        Metric::Spend,
        vec![
            Tier::new("base", Decimal::ZERO),
            Tier::new("top", Decimal::ONE),
        ],
    )
    .unwrap();
    Programme::new("p", ladder, window, Downgrades::default(), points).unwrap()
}

/// Random programmes for the comparisons of fast paths with the full replay: every metric but
/// the custom one, every window, policy and rounding, with or without grace, campaigns, bonuses,
/// a pending period and expiry.
pub(super) fn any_programme() -> impl proptest::strategy::Strategy<Value = Programme> {
    use super::points::{Bonus, Campaign, Rounding};
    use super::window::DowngradePolicy;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    (
        0..3usize,
        0..5usize,
        0..3usize,
        any::<bool>(),
        0..4usize,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(metric, window, policy, grace, rounding, expiry, extras)| {
                let d = |n: i64| Decimal::from(n);
                let (metric, thresholds) = match metric {
                    0 => (Metric::Spend, [0, 100, 300, 750]),
                    1 => (Metric::PointsEarned, [0, 100, 300, 750]),
                    _ => (Metric::Orders, [0, 2, 5, 9]),
                };
                let names = ["Member", "Silver", "Gold", "Platinum"];
                let tiers = names
                    .iter()
                    .zip(thresholds)
                    .map(|(n, t)| Tier::new(n, d(t)))
                    .collect();
                let ladder = TierLadder::new(metric, tiers).unwrap();
                let window = match window {
                    0 => QualificationWindow::Rolling {
                        days: 365,
                        review_every_months: 3,
                    },
                    1 => QualificationWindow::Rolling {
                        days: 60,
                        review_every_months: 1,
                    },
                    2 => QualificationWindow::CalendarYear,
                    3 => QualificationWindow::MembershipAnniversary,
                    _ => QualificationWindow::TierAnniversary,
                };
                let downgrades = Downgrades {
                    policy: [
                        DowngradePolicy::Never,
                        DowngradePolicy::OneTier,
                        DowngradePolicy::Rebucket,
                    ][policy],
                    grace_days: if grace { 30 } else { 0 },
                };
                let day = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
                let mut points = EarnRules {
                    points_per_unit: Decimal::new(15, 1),
                    rounding: [
                        Rounding::Down,
                        Rounding::HalfUp,
                        Rounding::HalfEven,
                        Rounding::Up,
                    ][rounding],
                    pending_days: 14,
                    expiry_days: expiry.then_some(200),
                    ..EarnRules::default()
                };
                if extras {
                    points.tier_multipliers = [
                        ("Silver".to_string(), Decimal::new(125, 2)),
                        ("Gold".to_string(), Decimal::new(15, 1)),
                    ]
                    .into_iter()
                    .collect();
                    points.campaigns = vec![Campaign {
                        name: "double".into(),
                        from: day(2023, 11, 20),
                        until: day(2023, 12, 31),
                        multiplier: d(2),
                    }];
                    points.bonuses = vec![
                        Bonus {
                            name: "welcome".into(),
                            points: 50,
                            min_amount: None,
                            first_purchase_only: true,
                            from: None,
                            until: None,
                        },
                        Bonus {
                            name: "basket".into(),
                            points: 25,
                            min_amount: Some(d(75)),
                            first_purchase_only: false,
                            from: None,
                            until: None,
                        },
                    ];
                }
                Programme::new("p", ladder, window, downgrades, points).unwrap()
            },
        )
}

/// A random log of a few customers over 2023–2024: (customer, day offset from 2023-01-01,
/// cents, return?).
pub(super) fn any_log() -> impl proptest::strategy::Strategy<Value = Vec<(u64, u64, i64, bool)>> {
    proptest::collection::vec(
        (
            0..12u64,
            0..731u64,
            1..30_000i64,
            proptest::bool::weighted(0.15),
        ),
        0..80,
    )
}

/// The transactions of [`any_log`]'s records.
pub(super) fn to_transactions(log: &[(u64, u64, i64, bool)]) -> Vec<crate::records::Transaction> {
    use crate::records::{CustomerId, Transaction};
    let start = chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap();
    log.iter()
        .map(|&(c, day, cents, refund)| {
            let (id, date) = (CustomerId::from(c), start + chrono::Days::new(day));
            let amount = Decimal::new(cents, 2);
            if refund {
                Transaction::refund(id, date, amount).unwrap()
            } else {
                Transaction::purchase(id, date, amount).unwrap()
            }
        })
        .collect()
}
