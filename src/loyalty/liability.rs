//! The points liability: outstanding points valued by the probability, from the fitted
//! transaction model, that they are redeemed before they expire.

use crate::error::InvalidParameter;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::models::{History, PredictError, TransactionModel};
use crate::records::CustomerId;
use crate::summary::Summaries;

use super::forecast::ForecastError;
use super::status::Replay;

/// How outstanding points are valued.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LiabilityOptions {
    /// Money value of one point when redeemed.
    pub point_value: Decimal,
    /// Probability that a member redeems (all their spendable points) at a given purchase.
    pub redemption_per_purchase: f64,
    /// Horizon, in days, for points that never expire.
    pub horizon_without_expiry_days: u32,
}

/// One member's share of the points liability.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemberLiability {
    /// The member.
    pub customer: CustomerId,
    /// Points outstanding (spendable and pending).
    pub outstanding: u64,
    /// Expected points redeemed before they expire.
    pub expected_redeemed: f64,
    /// Their value.
    pub value: Decimal,
}

/// The points liability of a base.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PointsLiability {
    /// Points outstanding.
    pub outstanding: u64,
    /// Value of the outstanding points if all were redeemed.
    pub face_value: Decimal,
    /// Expected points redeemed before they expire.
    pub expected_redeemed: f64,
    /// Their value: the liability.
    pub value: Decimal,
    /// Per member.
    pub members: Vec<MemberLiability>,
}

/// Values the outstanding points of `replays` (all at the same as-of date) by the probability
/// that they are redeemed before they expire.
///
/// A member redeems at each purchase with probability ρ = `redemption_per_purchase`,
/// independently, so a lot expiring on day x is redeemed with probability
/// `1 − E[(1 − ρ)^N]`, N the model's count of purchases on the days `as_of + 1 ..= x − 1`
/// (from `purchase_probability`; the sum runs until the remaining probability is below 1e-12).
/// Pending points are treated like spendable ones (the count includes purchases made while they
/// are still pending, so their probability is slightly overstated). Points that never expire use
/// `horizon_without_expiry_days`. `summaries` give each member's history (a member without one
/// is a new customer, x = t_x = T = 0).
///
/// # Errors
///
/// [`ForecastError::InvalidParameter`] when `redemption_per_purchase` lies outside 0..=1 or
/// `point_value` is negative; [`ForecastError::UnitMismatch`] when the summaries are not in the
/// model's unit; [`ForecastError::Predict`] when the model cannot predict a member's purchases;
/// [`ForecastError::Overflow`] when a value, a total or the horizon date leaves the range of
/// decimals, points or dates.
pub fn points_liability(
    replays: &[Replay],
    summaries: &Summaries,
    model: &dyn TransactionModel,
    options: &LiabilityOptions,
) -> Result<PointsLiability, ForecastError> {
    let rho = options.redemption_per_purchase;
    if !(rho.is_finite() && (0.0..=1.0).contains(&rho)) {
        return Err(ForecastError::InvalidParameter(InvalidParameter::new(
            "redemption_per_purchase",
            rho.to_string(),
            "must lie in [0, 1]",
        )));
    }
    if summaries.unit() != model.unit() {
        return Err(ForecastError::UnitMismatch {
            summaries: summaries.unit(),
            model: model.unit(),
        });
    }
    if options.point_value.is_sign_negative() && !options.point_value.is_zero() {
        return Err(ForecastError::InvalidParameter(InvalidParameter::new(
            "point_value",
            options.point_value.to_string(),
            "must not be negative",
        )));
    }
    let overflow = |what: String| ForecastError::Overflow(what);
    // Expected points × point value, in money; an expectation or product past the decimal
    // range is an error naming the member, never a silent zero.
    let money = |x: f64, customer: &CustomerId| {
        Decimal::from_f64_retain(x)
            .filter(|_| x.is_finite())
            .and_then(|points| points.checked_mul(options.point_value))
            .map(|v| v.round_dp(2))
            .ok_or_else(|| {
                overflow(format!(
                    "customer {customer}: the value of {x:.3e} expected points at {} a point",
                    options.point_value
                ))
            })
    };
    let mut out = PointsLiability {
        outstanding: 0,
        face_value: Decimal::ZERO,
        expected_redeemed: 0.0,
        value: Decimal::ZERO,
        members: Vec::with_capacity(replays.len()),
    };
    for r in replays {
        let s = r.status();
        let history = summaries
            .get(&s.customer)
            .map(History::from)
            .unwrap_or(History::new(0, 0.0, 0.0));
        let mut outstanding = 0u64;
        let mut expected = 0.0;
        let mut cache: Option<(NaiveDate, f64)> = None;
        for lot in r.points().lots(s.as_of) {
            // The lots are part of the points credited, whose total fits a u64.
            outstanding = outstanding.saturating_add(lot.points);
            let end = match lot.expires {
                Some(x) => x,
                None => s
                    .as_of
                    .checked_add_days(chrono::Days::new(u64::from(
                        options.horizon_without_expiry_days,
                    )))
                    .ok_or_else(|| {
                        overflow(format!(
                            "customer {}: the horizon of {} days after {}",
                            s.customer, options.horizon_without_expiry_days, s.as_of
                        ))
                    })?,
            };
            let p = match cache {
                Some((d, p)) if d == end => p,
                _ => {
                    let days = (end - s.as_of).num_days().saturating_sub(1).max(0);
                    let t = model.unit().from_days(days as f64);
                    let p = p_redeemed(model, &history, t, rho)?;
                    cache = Some((end, p));
                    p
                }
            };
            expected += lot.points as f64 * p;
        }
        let value = money(expected, &s.customer)?;
        out.outstanding = out.outstanding.checked_add(outstanding).ok_or_else(|| {
            overflow(format!(
                "the outstanding points of the base (at customer {})",
                s.customer
            ))
        })?;
        out.expected_redeemed += expected;
        out.value = out.value.checked_add(value).ok_or_else(|| {
            overflow(format!(
                "the liability of the base (at customer {})",
                s.customer
            ))
        })?;
        out.members.push(MemberLiability {
            customer: s.customer.clone(),
            outstanding,
            expected_redeemed: expected,
            value,
        });
    }
    out.face_value = options
        .point_value
        .checked_mul(Decimal::from(out.outstanding))
        .ok_or_else(|| {
            overflow(format!(
                "the face value of {} points at {} a point",
                out.outstanding, options.point_value
            ))
        })?;
    Ok(out)
}

/// 1 − E[(1 − ρ)^N(t)].
fn p_redeemed(
    model: &dyn TransactionModel,
    history: &History,
    t: f64,
    rho: f64,
) -> Result<f64, ForecastError> {
    if t <= 0.0 || rho == 0.0 {
        return Ok(0.0);
    }
    let mut mass = 0.0;
    let mut pgf = 0.0;
    let mut s_n = 1.0;
    for n in 0..=100_000u32 {
        let p = model.purchase_probability(history, n, t)?;
        if !p.is_finite() {
            return Err(PredictError::Numerical {
                what: "purchase probability",
                detail: format!("P(N = {n}) is not finite"),
            }
            .into());
        }
        mass += p;
        pgf += p * s_n;
        s_n *= 1.0 - rho;
        // The rest contributes at most (1 − mass)·(1 − ρ)^n.
        if (1.0 - mass).max(0.0) * s_n < 1e-12 {
            break;
        }
    }
    Ok((1.0 - pgf).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{Ledger, LedgerOptions};
    use crate::loyalty::evaluate::Evaluator;
    use crate::loyalty::test_support::{programme, Daily};
    use crate::records::Transaction;
    use crate::time::TimeUnit;

    #[test]
    fn a_liability_past_the_decimal_range_is_an_error_not_a_silent_zero() {
        let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let id = CustomerId::from(1u64);
        let log = [Transaction::purchase(id.clone(), day, Decimal::from(1_000)).unwrap()];
        let p = programme();
        let replays = Evaluator::new(&p)
            .evaluate_base(&[], &log, &[], &[], day)
            .unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger.extend_transactions(log.iter().cloned()).unwrap();
        let summaries = ledger.summarize((day, TimeUnit::DAYS)).unwrap();
        let options = |point_value| LiabilityOptions {
            point_value,
            redemption_per_purchase: 1.0,
            horizon_without_expiry_days: 30,
        };
        let fine = points_liability(&replays, &summaries, &Daily, &options(Decimal::ONE)).unwrap();
        assert_eq!(
            (fine.outstanding, fine.value),
            (1_000, Decimal::from(1_000))
        );
        let err =
            points_liability(&replays, &summaries, &Daily, &options(Decimal::MAX)).unwrap_err();
        assert!(matches!(err, ForecastError::Overflow(_)), "{err}");
        assert!(err.to_string().contains("customer 1"), "{err}");
        let err = points_liability(
            &replays,
            &summaries,
            &Daily,
            &options(Decimal::NEGATIVE_ONE),
        )
        .unwrap_err();
        assert!(matches!(err, ForecastError::InvalidParameter(_)), "{err}");
    }
}
