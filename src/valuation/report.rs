//! The customer-equity report: per-customer values, equity by group, risk, concentration, models.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::fit::FitReport;
use crate::kpi::{KpiReport, TopShare};
use crate::ledger::ConsentScope;
use crate::records::{CustomerId, Purpose};
use crate::segment::asset_quality::AssetClass;
use crate::time::TimeUnit;

use super::feedback_section::FeedbackBySegment;
use super::gls::Elasticities;
use super::referral_summary::ReferralSummary;
use crate::models::IntervalMethod;

/// One customer's value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CustomerValue {
    /// The customer.
    pub id: CustomerId,
    /// (segmenter name, label) for each segmenter, in the order they were added. Customers
    /// share the names' strings.
    pub segments: Vec<(Arc<str>, Arc<str>)>,
    /// The loyalty tier held at the as-of date, when tier rules were given.
    pub tier: Option<Arc<str>>,
    /// Probability the customer is alive at the as-of date.
    pub p_alive: f64,
    /// Expected purchases over the horizon.
    pub expected_purchases: f64,
    /// Expected spend per purchase.
    pub expected_spend: f64,
    /// Discounted expected residual transactions.
    pub dert: f64,
    /// CLV = DERT × expected spend × margin, rounded to cents.
    pub clv: Decimal,
    /// The CLV × P(alive) asset class.
    pub asset_class: AssetClass,
    /// The customer's referrals in the attribution window (0 without referrals; see
    /// [`ReferralOptions`](super::ReferralOptions)).
    pub referrals: u32,
    /// The value of the customers those referrals brought, beside (not in) the CLV: the
    /// incremental share of their CLV, in money (see [`ReferralOptions`](super::ReferralOptions)).
    pub referral_value: Decimal,
}

/// Equity of one group of customers.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct GroupEquity {
    /// The group's label.
    pub label: String,
    /// Customers in it.
    pub customers: usize,
    /// Sum of their CLV.
    pub equity: Decimal,
    /// Its interval, when the report's intervals were asked for
    /// ([`ValuationBuilder::intervals`](super::ValuationBuilder::intervals)).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub interval: Option<MoneyInterval>,
}

/// Equity of one segment of one segmenter.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SegmentEquity {
    /// The segmenter's name.
    pub segmenter: String,
    /// Its segments with customers, by equity, largest first (ties by label).
    pub segments: Vec<GroupEquity>,
}

/// Customers likely to have churned: what they may still be worth, and what they were worth.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ValueAtRisk {
    /// The P(alive) below which a customer counts as at risk.
    pub below_p_alive: f64,
    /// Customers at risk.
    pub customers: usize,
    /// Their remaining CLV.
    pub clv: Decimal,
    /// Their spend to date (all calibration purchases).
    pub historical_spend: Decimal,
}

/// A model used in the valuation.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ModelSummary {
    /// "transactions" or "spend".
    pub role: String,
    /// The model's name.
    pub name: String,
    /// Its parameters by name.
    pub parameters: Vec<(String, f64)>,
    /// The fit report, when the model was fitted.
    pub fit: Option<FitReport>,
    /// Why this model stands in for the one asked for, when it does (a spend model that could
    /// not be fitted is replaced by the population mean spend).
    pub note: Option<String>,
}

impl ModelSummary {
    pub(super) fn new(
        role: &str,
        name: &str,
        parameters: Vec<(String, f64)>,
        fit: Option<&FitReport>,
    ) -> Self {
        ModelSummary {
            role: role.into(),
            name: name.into(),
            parameters,
            fit: fit.cloned(),
            note: None,
        }
    }

    pub(super) fn with_note(mut self, note: Option<&str>) -> Self {
        self.note = note.map(str::to_string);
        self
    }
}

/// The firm-level view (Gupta, Lehmann & Stuart 2004).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FirmValue {
    /// Customer equity of the current base.
    pub current_equity: Decimal,
    /// Discounted value of the future acquisition cohorts, net of acquisition cost.
    pub future_cohorts: Decimal,
    /// Current equity plus future cohorts.
    pub firm_value: Decimal,
    /// Value of one newly acquired customer net of acquisition cost: margin × expected spend ×
    /// (1 + DERT of a new customer) − cost.
    pub new_customer_value: Decimal,
    /// Retention per acquisition period implied by the model: expected customers alive one
    /// period on over expected customers alive now.
    pub implied_retention: f64,
    /// The discount rate per acquisition period.
    pub discount_per_period: f64,
    /// Elasticities of value from the GLS margin multiple at that retention and discount rate.
    pub elasticities: Elasticities,
}

/// The customer-equity report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EquityReport {
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The time unit of horizon and rates.
    pub unit: TimeUnit,
    /// The horizon of the expected purchases.
    pub horizon: f64,
    /// The margin as a share of spend.
    pub margin: f64,
    /// The continuous discount rate per unit.
    pub discount_rate: f64,
    /// Every customer's value, sorted by id.
    pub customers: Vec<CustomerValue>,
    /// Customer equity: the sum of the customers' CLV.
    pub equity: Decimal,
    /// Equity by segment, per segmenter: each segmenter's segments with customers, by equity,
    /// largest first (ties by label).
    pub by_segment: Vec<SegmentEquity>,
    /// Equity by loyalty tier, the tiers with members up the ladder, lowest first (empty
    /// without tier rules).
    pub by_tier: Vec<GroupEquity>,
    /// Equity by asset class, the classes with customers in class order (`AssetClass::ALL`).
    pub by_asset_class: Vec<GroupEquity>,
    /// Customers likely to have churned.
    pub value_at_risk: ValueAtRisk,
    /// Share of equity held by the top 1%, 10% and 20% of customers; empty when every CLV is 0.
    pub top_shares: Vec<TopShare>,
    /// Gini coefficient of CLV; `None` when every CLV is 0 (nothing to share out).
    pub gini: Option<f64>,
    /// The asset-class cut points (CLV, P(alive)).
    pub asset_cuts: (f64, f64),
    /// The KPIs, when asked for.
    pub kpis: Option<KpiReport>,
    /// The models used.
    pub models: Vec<ModelSummary>,
    /// Repeat buyers valued at the population mean spend per transaction because their own mean
    /// repeat spend is zero or negative (free orders, net returns): the spend model was fitted
    /// without them.
    pub customers_at_mean_spend: usize,
    /// The firm view, when an acquisition plan was given.
    pub firm: Option<FirmValue>,
    /// The intervals of equity, value at risk and the base's expected purchases (each group's
    /// is in the group), when asked for and made.
    pub intervals: Option<ReportIntervals>,
    /// Why the intervals asked for could not be made (the point report stands without them).
    pub interval_note: Option<String>,
    /// Set by [`retain_consenting`](Self::retain_consenting): `customers` then lists only the
    /// customers whose consent covers a purpose.
    pub consent: Option<ConsentFilter>,
    /// NPS and satisfaction per segment, tier and asset class, and the detractors among
    /// high-value customers, over the KPI period, when KPIs were asked for and the ledger has
    /// feedback ([`EquityReport::feedback_by_segment`]).
    pub feedback: Option<FeedbackBySegment>,
    /// The referrals' window, share and totals, when the ledger holds referrals (the values are
    /// shown beside equity, not added into it).
    pub referrals: Option<ReferralSummary>,
    /// Equity by each covariate's values and the value each coefficient of a covariate model
    /// moves, when the valuation was given the customers' covariates
    /// ([`ValuationBuilder::covariates`](super::ValuationBuilder::covariates)).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub covariates: Option<super::covariate_section::CovariateSection>,
}

/// How an [`EquityReport`]'s customer rows were restricted to consenting customers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ConsentFilter {
    /// The purpose the rows were exported for.
    pub purpose: Purpose,
    /// The day consent was judged on.
    pub on: NaiveDate,
    /// Customer rows kept.
    pub included: usize,
    /// Customer rows left out for want of consent.
    pub left_out: usize,
}

impl EquityReport {
    /// Restricts the customer rows (each with its CLV, segments and tier) to the customers
    /// whose consent covers the scope's purpose, and records how many were left out in
    /// [`consent`](Self::consent); so does the named list of detractors at risk in
    /// [`feedback`](Self::feedback). The totals (equity, groups, value at risk, KPIs, feedback) stay those
    /// of the whole base: they describe no one customer. A second filter records its own purpose and
    /// adds to the count left out.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use customer_assets::models::{bg_nbd::BgNbdParams, gamma_gamma::GammaGammaParams};
    /// use customer_assets::records::Purpose;
    /// use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
    /// use customer_assets::valuation::{DiscountRate, Valuation};
    /// use customer_assets::{Customer, Ledger, LedgerOptions, TimeUnit};
    /// let (start, as_of) = (NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("date")?, NaiveDate::from_ymd_opt(2024, 12, 31).ok_or("date")?);
    /// let base = simulate(
    ///     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
    ///     &SimulationOptions::new(300, start, as_of, TimeUnit::WEEKS, 1)
    ///         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
    /// )?;
    /// let mut ledger = Ledger::new(LedgerOptions::default());
    /// ledger.extend_transactions(base.transactions().iter().cloned())?;
    /// let first = base.transactions()[0].customer().clone();
    /// ledger.add_customer(Customer::new(first.clone(), start))?;
    /// ledger.give_consent(&first, Purpose::MARKETING_CONTACT, start)?;
    /// let mut report = Valuation::builder()
    ///     .ledger(&ledger)
    ///     .as_of(as_of)
    ///     .unit(TimeUnit::WEEKS)
    ///     .fit_transaction_model(BgNbdParams::new())
    ///     .fit_spend_model(GammaGammaParams::new())
    ///     .margin(0.3)
    ///     .discount(DiscountRate::per_period(0.10, 365.0)?)
    ///     .horizon(52.0)
    ///     .build()?
    ///     .run()?;
    /// let everyone = report.customers.len();
    /// report.retain_consenting(&ledger.consent_scope(&Purpose::MARKETING_CONTACT, as_of));
    /// assert_eq!(report.customers.len(), 1);
    /// assert_eq!(report.consent.as_ref().map(|c| c.left_out), Some(everyone - 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retain_consenting(&mut self, scope: &ConsentScope) {
        let earlier = self.consent.as_ref().map_or(0, |c| c.left_out);
        let left_out = scope.retain(&mut self.customers, |c| &c.id);
        // The named detractors at risk are customer rows too (their total stays).
        if let Some(at_risk) = self.feedback.as_mut().and_then(|f| f.at_risk.as_mut()) {
            scope.retain(&mut at_risk.customers, |c| &c.id);
        }
        self.consent = Some(ConsentFilter {
            purpose: scope.purpose().clone(),
            on: scope.day(),
            included: self.customers.len(),
            left_out: earlier + left_out,
        });
    }
}

/// An interval of a sum of money, rounded to cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MoneyInterval {
    /// The lower end.
    pub lower: Decimal,
    /// The upper end.
    pub upper: Decimal,
}

/// The base's expected purchases over the horizon, with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PurchasesInterval {
    /// The sum over the customers at the estimate.
    pub estimate: f64,
    /// The lower end.
    pub lower: f64,
    /// The upper end.
    pub upper: f64,
}

/// The report's intervals ([`ValuationBuilder::intervals`](super::ValuationBuilder::intervals)):
/// how they were made, and those of the base's sums (each group's is in its
/// [`GroupEquity::interval`]).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ReportIntervals {
    /// The method.
    pub method: IntervalMethod,
    /// The confidence level.
    pub level: f64,
    /// The bootstrap's draws (`None` for the delta method).
    pub replicates: Option<u32>,
    /// The bootstrap's seed (`None` for the delta method).
    pub seed: Option<u64>,
    /// Customer equity's interval.
    pub equity: MoneyInterval,
    /// The CLV at risk's interval.
    pub value_at_risk: MoneyInterval,
    /// The base's expected purchases over the horizon.
    pub expected_purchases: PurchasesInterval,
}

fn table(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    groups: &[GroupEquity],
    total: Decimal,
) -> fmt::Result {
    writeln!(f, "\n{title}")?;
    writeln!(
        f,
        "  {:<24} {:>10} {:>16} {:>7}",
        "", "customers", "equity", "share"
    )?;
    for g in groups {
        let share = if total.is_zero() {
            0.0
        } else {
            rust_decimal::prelude::ToPrimitive::to_f64(&(g.equity / total)).unwrap_or(0.0) * 100.0
        };
        write!(
            f,
            "  {:<24} {:>10} {:>16} {:>6.1}%",
            g.label,
            g.customers,
            g.equity.round_dp(2),
            share
        )?;
        match &g.interval {
            Some(i) => writeln!(f, "  [{}, {}]", i.lower, i.upper)?,
            None => writeln!(f)?,
        }
    }
    Ok(())
}

impl fmt::Display for EquityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Customer equity as of {} ({} customers)",
            self.as_of,
            self.customers.len()
        )?;
        writeln!(
            f,
            "  margin {:.0}%, discount {:.5} per unit of {} (continuous), horizon {} {}",
            self.margin * 100.0,
            self.discount_rate,
            self.unit,
            self.horizon,
            self.unit
        )?;
        writeln!(
            f,
            "  customer equity            {:>16}",
            self.equity.round_dp(2)
        )?;
        if let Some(i) = &self.intervals {
            writeln!(
                f,
                "    {:.0}% interval ({})       [{}, {}]; value at risk [{}, {}]; expected purchases [{:.1}, {:.1}]",
                i.level * 100.0,
                i.method.name(),
                i.equity.lower,
                i.equity.upper,
                i.value_at_risk.lower,
                i.value_at_risk.upper,
                i.expected_purchases.lower,
                i.expected_purchases.upper
            )?;
        }
        if let Some(note) = &self.interval_note {
            writeln!(f, "    no intervals: {note}")?;
        }
        let n = self.customers.len().max(1) as f64;
        let mean =
            |g: &dyn Fn(&CustomerValue) -> f64| self.customers.iter().map(g).sum::<f64>() / n;
        writeln!(
            f,
            "  mean P(alive)              {:>16.3}",
            mean(&|c| c.p_alive)
        )?;
        writeln!(
            f,
            "  expected purchases ({} {})  {:>10.1}",
            self.horizon,
            self.unit,
            mean(&|c| c.expected_purchases) * n
        )?;
        let v = &self.value_at_risk;
        writeln!(
            f,
            "  value at risk (P(alive) < {}): {} customers, CLV {}, spent {} to date",
            v.below_p_alive,
            v.customers,
            v.clv.round_dp(2),
            v.historical_spend.round_dp(2)
        )?;
        let shares: Vec<String> = self
            .top_shares
            .iter()
            .map(|t| format!("top {:.0}% hold {:.1}%", t.top * 100.0, t.share * 100.0))
            .collect();
        match self.gini {
            Some(gini) => writeln!(f, "  concentration: {}; Gini {gini:.3}", shares.join(", "))?,
            None => writeln!(f, "  concentration: none (every CLV is 0)")?,
        }
        table(f, "By asset class", &self.by_asset_class, self.equity)?;
        for s in &self.by_segment {
            table(
                f,
                &format!("By segment: {}", s.segmenter),
                &s.segments,
                self.equity,
            )?;
        }
        if !self.by_tier.is_empty() {
            table(f, "By loyalty tier", &self.by_tier, self.equity)?;
        }
        writeln!(f, "\nModels")?;
        for m in &self.models {
            let params: Vec<String> = m
                .parameters
                .iter()
                .map(|(k, v)| format!("{k} = {v:.4}"))
                .collect();
            write!(f, "  {:<13} {:<12} {}", m.role, m.name, params.join(", "))?;
            if let Some(r) = &m.fit {
                write!(
                    f,
                    "  (log-likelihood {:.2}, {} iterations, {})",
                    r.log_likelihood,
                    r.iterations,
                    if r.converged {
                        "converged"
                    } else {
                        "NOT converged"
                    }
                )?;
            }
            writeln!(f)?;
        }
        if let Some(k) = &self.kpis {
            writeln!(f, "\nKPIs ({} to {})", k.period.start(), k.period.end())?;
            writeln!(
                f,
                "  repeat-purchase rate       {:>10.1}%",
                k.repeat_purchase_rate * 100.0
            )?;
            if let Some(r) = &k.retention {
                writeln!(
                    f,
                    "  retention / churn          {:>9.1}% / {:.1}%",
                    r.retention_rate * 100.0,
                    r.churn_rate * 100.0
                )?;
            }
            writeln!(
                f,
                "  revenue to date            {:>16}",
                k.to_date.net_revenue.round_dp(2)
            )?;
            writeln!(
                f,
                "  average order value        {:>16}",
                k.to_date.average_order_value.round_dp(2)
            )?;
        }
        if let Some(feedback) = &self.feedback {
            write!(f, "{feedback}")?;
        }
        if let Some(firm) = &self.firm {
            writeln!(f, "\nFirm view (Gupta, Lehmann & Stuart 2004)")?;
            writeln!(
                f,
                "  current equity             {:>16}",
                firm.current_equity.round_dp(2)
            )?;
            writeln!(
                f,
                "  future cohorts (net of CAC){:>16}",
                firm.future_cohorts.round_dp(2)
            )?;
            writeln!(
                f,
                "  firm value                 {:>16}",
                firm.firm_value.round_dp(2)
            )?;
            writeln!(
                f,
                "  new customer value net CAC {:>16}",
                firm.new_customer_value.round_dp(2)
            )?;
            writeln!(
                f,
                "  implied retention {:.3}/period; elasticities: retention {:.2}, margin {:.2}, discount {:.2}",
                firm.implied_retention,
                firm.elasticities.retention,
                firm.elasticities.margin,
                firm.elasticities.discount_rate
            )?;
        }
        Ok(())
    }
}
