//! The equity bridge: how customer equity moved from one review date to the next, line by line,
//! as accounts show any asset (opening balance, additions, disposals, revaluation, closing
//! balance).
//!
//! Three equity reports feed it, all with the same unit, margin and discount rate:
//! - the **opening** report at the first date `from` (models fitted on the data to `from`);
//! - the **closing** report at `to` (models refitted on the data to `to`, or the same models);
//! - when the models were refitted, the closing date valued with the **opening models**, which
//!   separates what the customers did from what the refit changed.
//!
//! Per customer, with CLV₁ the opening value, W = CLV₁ · e^(δ·Δt) the opening value carried to
//! `to` at the discount rate δ (rounded to cents), CLV₂ the closing value and CLV₂' the closing
//! value under the opening models:
//!
//! | line | customers | amount |
//! |---|---|---|
//! | opening equity | in the opening report | Σ CLV₁ |
//! | acquired | first purchase after `from` (in the closing report only) | Σ CLV₂ |
//! | lost | opening customers the [`LossRule`] deems lost at `to` | Σ (CLV₂ − W): their carried value, down to what the closing models still give them |
//! | revaluation: own purchases | the other opening customers (retained) | Σ (CLV₂' − W): what their purchases, or their silence, since `from` did to their value |
//! | revaluation: model refit | retained | Σ (CLV₂ − CLV₂'): zero when the models were not refitted |
//! | unwinding of discount | every opening customer | Σ (W − CLV₁): the interest on the opening value for the time elapsed |
//! | closing equity | in the closing report | Σ CLV₂ |
//!
//! Each customer's terms cancel between the lines, and every amount is a sum of cents, so the
//! lines add up to the closing equity exactly. The same lines are given per asset class, tier
//! and segment, each customer in the group it is in at `to` (the migration between groups is a
//! matter for migration matrices).

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::report::{CustomerValue, EquityReport};
use crate::ledger::Ledger;
use crate::records::{CustomerId, TransactionKind};
use crate::time::TimeUnit;

/// When an opening customer counts as lost at the closing date.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum LossRule {
    /// P(alive) at the closing date, under the closing models, below this (in (0, 1)).
    PAliveBelow(f64),
    /// No purchase in the last `days` days up to the closing date (at least 1).
    NoPurchaseFor {
        /// Days without a purchase.
        days: u32,
    },
}

impl Default for LossRule {
    /// P(alive) below 0.5.
    fn default() -> Self {
        LossRule::PAliveBelow(0.5)
    }
}

/// Why a bridge could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// The closing date is not after the opening date.
    #[error(
        "the bridge runs from {from} to {to}: the closing date must come after the opening date"
    )]
    DatesOutOfOrder {
        /// The opening report's date.
        from: NaiveDate,
        /// The closing report's date.
        to: NaiveDate,
    },
    /// The reports differ in what makes values comparable.
    #[error(
        "the {report} report has another {what} than the opening one ({found} against {expected})"
    )]
    Mismatch {
        /// Which report: "closing" or "closing at the opening models".
        report: &'static str,
        /// unit, margin, discount rate, as-of date or customers.
        what: &'static str,
        /// Its value there.
        found: String,
        /// The value expected.
        expected: String,
    },
    /// A loss rule out of range.
    #[error("loss rule {0:?} is out of range (P(alive) in (0, 1), at least one day)")]
    InvalidLossRule(LossRule),
    /// An opening customer is missing from the closing report (erased between the reviews?).
    #[error(
        "opening customer {0} is not in the closing report; erase customers before both reviews"
    )]
    CustomerGone(CustomerId),
    /// An amount does not fit a decimal.
    #[error("the bridge's amount for {0} does not fit a decimal")]
    Overflow(String),
}

/// One line of the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BridgeLine {
    /// What moved equity: `acquired`, `lost`, `revaluation: own purchases`,
    /// `revaluation: model refit`, `unwinding of discount`.
    pub name: &'static str,
    /// The money it moved (negative for a decrease).
    pub amount: Decimal,
    /// The customers it counts.
    pub customers: usize,
}

/// The bridge of one group of customers (an asset class, a tier or a segment at `to`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupBridge {
    /// The group's label.
    pub label: String,
    /// The opening value of the group's customers (those in it at `to`).
    pub opening_equity: Decimal,
    /// The lines, in bridge order.
    pub lines: Vec<BridgeLine>,
    /// The group's closing equity.
    pub closing_equity: Decimal,
}

/// The bridges of one segmenter's segments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentBridges {
    /// The segmenter's name.
    pub segmenter: String,
    /// Per segment at `to`, by label.
    pub segments: Vec<GroupBridge>,
}

/// How customer equity moved between two review dates (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EquityBridge {
    /// The opening date.
    pub from: NaiveDate,
    /// The closing date.
    pub to: NaiveDate,
    /// The time unit of the rate.
    pub unit: TimeUnit,
    /// Whether the closing models were refitted on the data to `to` (otherwise the opening
    /// models valued both dates, and the refit line is zero).
    pub refitted: bool,
    /// The rule that decided who was lost.
    pub loss_rule: LossRule,
    /// Equity at `from`.
    pub opening_equity: Decimal,
    /// The lines, in bridge order; they sum to `closing_equity − opening_equity` exactly.
    pub lines: Vec<BridgeLine>,
    /// Equity at `to`.
    pub closing_equity: Decimal,
    /// Per asset class at `to`, in class order.
    pub by_asset_class: Vec<GroupBridge>,
    /// Per tier at `to` (customers without one under "no tier"), when the closing report has
    /// tiers.
    pub by_tier: Vec<GroupBridge>,
    /// Per segmenter of the closing report, per segment at `to`.
    pub by_segment: Vec<SegmentBridges>,
}

/// The names of the lines, in bridge order.
const LINES: [&str; 5] = [
    "acquired",
    "lost",
    "revaluation: own purchases",
    "revaluation: model refit",
    "unwinding of discount",
];

/// One customer's place in the bridge: the line amounts it adds to, by index into [`LINES`].
#[derive(Clone, Copy)]
struct Terms {
    opening: Decimal,
    amounts: [Decimal; 5],
    counted: [bool; 5],
}

impl EquityBridge {
    /// The bridge from `opening` to `closing`; `closing_at_opening_models` is the closing date
    /// valued with the opening models, when the closing models were refitted (`None` when the
    /// closing report used the opening models). The ledger gives the purchase dates for
    /// [`LossRule::NoPurchaseFor`].
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::models::{bg_nbd::BgNbdParams, gamma_gamma::GammaGammaParams};
    /// use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
    /// use customer_assets::valuation::bridge::{EquityBridge, LossRule};
    /// use customer_assets::valuation::{DiscountRate, Valuation};
    /// use customer_assets::{Fit, Ledger, LedgerOptions, SummaryOptions, TimeUnit};
    /// let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).ok_or("bad date");
    /// let base = simulate(
    ///     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
    ///     &SimulationOptions::new(500, d(2024, 1, 1)?, d(2024, 12, 31)?, TimeUnit::WEEKS, 1)
    ///         .acquisition_days(200)
    ///         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
    /// )?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.extend_transactions(base.transactions().iter().cloned())?;
    /// let (from, to) = (d(2024, 6, 30)?, d(2024, 12, 31)?);
    /// // The opening models, fitted on the data to `from`, value both dates.
    /// let at_from = ledger.summarize(SummaryOptions::new(from, TimeUnit::WEEKS))?;
    /// let model = BgNbdParams::new().fit(&at_from.patterns())?;
    /// let report = |as_of| {
    ///     Valuation::builder()
    ///         .ledger(&ledger)
    ///         .as_of(as_of)
    ///         .unit(TimeUnit::WEEKS)
    ///         .transaction_model(model.clone())
    ///         .fit_spend_model(GammaGammaParams::new())
    ///         .margin(0.3)
    ///         .discount(DiscountRate::per_period(0.10, 365.0)?)
    ///         .horizon(52.0)
    ///         .build()?
    ///         .run()
    /// };
    /// let (opening, closing) = (report(from)?, report(to)?);
    /// let bridge = EquityBridge::new(&opening, &closing, None, &ledger, LossRule::PAliveBelow(0.5))?;
    /// let moved: rust_decimal::Decimal = bridge.lines.iter().map(|l| l.amount).sum();
    /// assert_eq!(bridge.opening_equity + moved, bridge.closing_equity);
    /// assert_eq!(bridge.closing_equity, closing.equity);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`BridgeError::DatesOutOfOrder`] unless the closing date comes after the opening date;
    /// [`BridgeError::Mismatch`] for reports of other units, margins or discount rates, or a
    /// third report of another date or other customers than the closing one;
    /// [`BridgeError::InvalidLossRule`]; [`BridgeError::CustomerGone`] for an opening customer
    /// missing at `to`; [`BridgeError::Overflow`] for amounts past a decimal's range.
    pub fn new(
        opening: &EquityReport,
        closing: &EquityReport,
        closing_at_opening_models: Option<&EquityReport>,
        ledger: &Ledger,
        loss_rule: LossRule,
    ) -> Result<Self, BridgeError> {
        let (from, to) = (opening.as_of, closing.as_of);
        if to <= from {
            return Err(BridgeError::DatesOutOfOrder { from, to });
        }
        check_comparable(opening, closing, "closing")?;
        let cross = match closing_at_opening_models {
            Some(cross) => {
                check_comparable(opening, cross, "closing at the opening models")?;
                check_same_date_and_customers(closing, cross)?;
                cross
            }
            None => closing,
        };
        let lost = lost_customers(closing, ledger, loss_rule)?;
        // The carrying factor e^(δ·Δt), δ per unit, Δt in units.
        let elapsed = opening.unit.from_days((to - from).num_days() as f64);
        let factor = Decimal::from_f64_retain((opening.discount_rate * elapsed).exp())
            .filter(|f| f.is_sign_positive())
            .ok_or_else(|| BridgeError::Mismatch {
                report: "closing",
                what: "discount rate",
                found: opening.discount_rate.to_string(),
                expected: "a rate whose growth over the period fits a decimal".into(),
            })?;
        let opening_clv: HashMap<&CustomerId, Decimal> =
            opening.customers.iter().map(|c| (&c.id, c.clv)).collect();
        let mut terms = Vec::with_capacity(closing.customers.len());
        for (c, x) in closing.customers.iter().zip(&cross.customers) {
            terms.push(customer_terms(
                c,
                x,
                opening_clv.get(&c.id).copied(),
                lost.contains(&c.id),
                factor,
            )?);
        }
        if terms.iter().filter(|t| t.counted[4]).count() != opening.customers.len() {
            let gone = opening.customers.iter().find(|o| {
                closing
                    .customers
                    .binary_search_by(|c| c.id.cmp(&o.id))
                    .is_err()
            });
            if let Some(o) = gone {
                return Err(BridgeError::CustomerGone(o.id.clone()));
            }
        }
        let all = group_bridge(String::new(), terms.iter())?;
        let by =
            |label: &dyn Fn(&CustomerValue) -> String| -> Result<Vec<GroupBridge>, BridgeError> {
                let mut groups: Vec<(String, Vec<&Terms>)> = Vec::new();
                for (c, t) in closing.customers.iter().zip(&terms) {
                    let l = label(c);
                    match groups.iter_mut().find(|(g, _)| *g == l) {
                        Some((_, members)) => members.push(t),
                        None => groups.push((l, vec![t])),
                    }
                }
                groups
                    .into_iter()
                    .map(|(l, members)| group_bridge(l, members.into_iter()))
                    .collect()
            };
        let mut by_asset_class = by(&|c| c.asset_class.to_string())?;
        let order = |label: &str| {
            crate::segment::asset_quality::AssetClass::ALL
                .iter()
                .position(|a| a.to_string() == label)
        };
        by_asset_class.sort_by_key(|g| order(&g.label));
        let by_tier = if closing.customers.iter().any(|c| c.tier.is_some()) {
            let mut tiers = by(&|c| c.tier.as_deref().unwrap_or("no tier").to_owned())?;
            tiers.sort_by(|a, b| a.label.cmp(&b.label));
            tiers
        } else {
            Vec::new()
        };
        let segmenters: Vec<String> = closing
            .customers
            .first()
            .map(|c| c.segments.iter().map(|(n, _)| n.to_string()).collect())
            .unwrap_or_default();
        let mut by_segment = Vec::with_capacity(segmenters.len());
        for (k, name) in segmenters.into_iter().enumerate() {
            let mut segments = by(&|c| {
                c.segments
                    .get(k)
                    .map(|(_, label)| label.to_string())
                    .unwrap_or_default()
            })?;
            segments.sort_by(|a, b| a.label.cmp(&b.label));
            by_segment.push(SegmentBridges {
                segmenter: name,
                segments,
            });
        }
        Ok(EquityBridge {
            from,
            to,
            unit: opening.unit,
            refitted: closing_at_opening_models.is_some(),
            loss_rule,
            opening_equity: opening.equity,
            lines: all.lines,
            closing_equity: all.closing_equity,
            by_asset_class,
            by_tier,
            by_segment,
        })
    }
}

impl EquityBridge {
    /// The customers of `closing` its rule deems lost (acquired ones included: only opening
    /// customers are on the lost line).
    ///
    /// # Errors
    ///
    /// [`BridgeError::InvalidLossRule`].
    pub fn lost_customers(
        &self,
        closing: &EquityReport,
        ledger: &Ledger,
    ) -> Result<std::collections::HashSet<CustomerId>, BridgeError> {
        lost_customers(closing, ledger, self.loss_rule)
    }
}

fn check_comparable(
    opening: &EquityReport,
    other: &EquityReport,
    report: &'static str,
) -> Result<(), BridgeError> {
    let mismatch = |what, found: String, expected: String| BridgeError::Mismatch {
        report,
        what,
        found,
        expected,
    };
    if other.unit != opening.unit {
        return Err(mismatch(
            "unit",
            other.unit.to_string(),
            opening.unit.to_string(),
        ));
    }
    if other.margin != opening.margin {
        return Err(mismatch(
            "margin",
            other.margin.to_string(),
            opening.margin.to_string(),
        ));
    }
    if other.discount_rate != opening.discount_rate {
        return Err(mismatch(
            "discount rate",
            other.discount_rate.to_string(),
            opening.discount_rate.to_string(),
        ));
    }
    Ok(())
}

fn check_same_date_and_customers(
    closing: &EquityReport,
    cross: &EquityReport,
) -> Result<(), BridgeError> {
    let report = "closing at the opening models";
    if cross.as_of != closing.as_of {
        return Err(BridgeError::Mismatch {
            report,
            what: "as-of date",
            found: cross.as_of.to_string(),
            expected: closing.as_of.to_string(),
        });
    }
    let same = cross.customers.len() == closing.customers.len()
        && cross
            .customers
            .iter()
            .zip(&closing.customers)
            .all(|(a, b)| a.id == b.id);
    if !same {
        return Err(BridgeError::Mismatch {
            report,
            what: "customers",
            found: format!("{} customers", cross.customers.len()),
            expected: format!("the closing report's {}", closing.customers.len()),
        });
    }
    Ok(())
}

/// The closing customers the rule deems lost (only opening customers end up on the lost line).
fn lost_customers(
    closing: &EquityReport,
    ledger: &Ledger,
    rule: LossRule,
) -> Result<std::collections::HashSet<CustomerId>, BridgeError> {
    match rule {
        LossRule::PAliveBelow(p) => {
            if !(p > 0.0 && p < 1.0) {
                return Err(BridgeError::InvalidLossRule(rule));
            }
            Ok(closing
                .customers
                .iter()
                .filter(|c| c.p_alive < p)
                .map(|c| c.id.clone())
                .collect())
        }
        LossRule::NoPurchaseFor { days } => {
            if days == 0 {
                return Err(BridgeError::InvalidLossRule(rule));
            }
            let to = closing.as_of;
            let mut last: HashMap<&CustomerId, NaiveDate> = HashMap::new();
            for t in ledger.transactions() {
                if t.kind() == TransactionKind::Purchase && t.date() <= to {
                    let day = last.entry(t.customer()).or_insert(t.date());
                    *day = (*day).max(t.date());
                }
            }
            Ok(closing
                .customers
                .iter()
                .filter(|c| {
                    last.get(&c.id)
                        .is_none_or(|&day| (to - day).num_days() >= i64::from(days))
                })
                .map(|c| c.id.clone())
                .collect())
        }
    }
}

/// One closing customer's terms (see the module docs): `opening` is its opening CLV when it was
/// an opening customer.
fn customer_terms(
    closing: &CustomerValue,
    cross: &CustomerValue,
    opening: Option<Decimal>,
    lost: bool,
    factor: Decimal,
) -> Result<Terms, BridgeError> {
    let overflow = || BridgeError::Overflow(format!("customer {}", closing.id));
    let mut t = Terms {
        opening: Decimal::ZERO,
        amounts: [Decimal::ZERO; 5],
        counted: [false; 5],
    };
    let Some(clv1) = opening else {
        t.amounts[0] = closing.clv;
        t.counted[0] = true;
        return Ok(t);
    };
    t.opening = clv1;
    let carried = clv1.checked_mul(factor).ok_or_else(overflow)?.round_dp(2);
    let sub = |a: Decimal, b: Decimal| a.checked_sub(b).ok_or_else(overflow);
    t.amounts[4] = sub(carried, clv1)?;
    t.counted[4] = true;
    if lost {
        t.amounts[1] = sub(closing.clv, carried)?;
        t.counted[1] = true;
    } else {
        t.amounts[2] = sub(cross.clv, carried)?;
        t.amounts[3] = sub(closing.clv, cross.clv)?;
        t.counted[2] = true;
        t.counted[3] = true;
    }
    Ok(t)
}

/// The bridge of the customers `members`.
fn group_bridge<'t>(
    label: String,
    members: impl Iterator<Item = &'t Terms>,
) -> Result<GroupBridge, BridgeError> {
    let mut opening = Decimal::ZERO;
    let mut amounts = [Decimal::ZERO; 5];
    let mut counts = [0usize; 5];
    let overflow = || BridgeError::Overflow(format!("the group {label:?}"));
    for t in members {
        opening = opening.checked_add(t.opening).ok_or_else(overflow)?;
        for k in 0..5 {
            amounts[k] = amounts[k].checked_add(t.amounts[k]).ok_or_else(overflow)?;
            counts[k] += usize::from(t.counted[k]);
        }
    }
    let mut closing = opening;
    for a in amounts {
        closing = closing.checked_add(a).ok_or_else(overflow)?;
    }
    Ok(GroupBridge {
        label,
        opening_equity: opening,
        lines: LINES
            .iter()
            .zip(amounts.into_iter().zip(counts))
            .map(|(&name, (amount, customers))| BridgeLine {
                name,
                amount,
                customers,
            })
            .collect(),
        closing_equity: closing,
    })
}
