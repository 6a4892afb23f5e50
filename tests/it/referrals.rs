//! Referral value on a simulated base: each referrer's value is the incremental share of the
//! CLV of the customers they brought within the window, shown beside CLV; equity is unchanged.

use std::collections::HashMap;

use chrono::NaiveDate;
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::records::Referral;
use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
use customer_assets::valuation::{DiscountRate, EquityReport, ReferralOptions, Valuation};
use customer_assets::{CustomerId, Ledger, LedgerOptions, TimeUnit};
use rust_decimal::Decimal;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn value(ledger: &Ledger, options: Option<ReferralOptions>) -> EquityReport {
    let builder = Valuation::builder()
        .ledger(ledger)
        .as_of(day(2024, 12, 31))
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(BgNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.1, 365.0).unwrap())
        .horizon(52.0);
    let builder = match options {
        Some(o) => builder.referrals(o),
        None => builder,
    };
    builder.build().unwrap().run().unwrap()
}

#[test]
fn referral_values_on_a_simulated_base() {
    let base = simulate(
        &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4).unwrap(),
        &SimulationOptions::new(600, day(2024, 1, 1), day(2024, 12, 31), TimeUnit::WEEKS, 11)
            .acquisition_days(300)
            .spend(GammaGammaSpend::new(6.25, 3.74, 15.44).unwrap()),
    )
    .unwrap();
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(base.transactions().iter().cloned())
        .unwrap();
    // Customers in order of first purchase; each of the later half was referred, on the day of
    // their first purchase, by the customer three places before them in that order.
    let mut firsts: Vec<(NaiveDate, CustomerId)> = ledger
        .transactions()
        .iter()
        .map(|t| t.customer().clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|id| (ledger.first_transaction_at(&id).unwrap().date(), id))
        .collect();
    firsts.sort();
    let mut brought: HashMap<CustomerId, Vec<(CustomerId, NaiveDate)>> = HashMap::new();
    for k in (firsts.len() / 2..firsts.len()).step_by(2) {
        let (date, referred) = firsts[k].clone();
        let referrer = firsts[k - 3].1.clone();
        ledger
            .add_referral(Referral::new(referrer.clone(), referred.clone(), date).unwrap())
            .unwrap();
        brought.entry(referrer).or_default().push((referred, date));
    }
    let plain = value(&ledger, None);
    let share = 0.6;
    let window = 120;
    let report = value(&ledger, Some(ReferralOptions::new(window, share).unwrap()));
    assert_eq!(
        report.equity, plain.equity,
        "referral value is beside equity, not in it"
    );
    let clv: HashMap<&CustomerId, Decimal> =
        report.customers.iter().map(|c| (&c.id, c.clv)).collect();
    let first_day = day(2024, 12, 31) - chrono::Days::new(u64::from(window) - 1);
    let share_decimal = Decimal::try_from(share).unwrap();
    let mut total = Decimal::ZERO;
    let mut counted = 0;
    for c in &report.customers {
        let mine: Vec<&(CustomerId, NaiveDate)> = brought
            .get(&c.id)
            .map(|v| v.iter().filter(|(_, d)| *d >= first_day).collect())
            .unwrap_or_default();
        let expected = (share_decimal
            * mine
                .iter()
                .map(|(r, _)| clv.get(r).copied().unwrap_or_default())
                .sum::<Decimal>())
        .round_dp(2);
        assert_eq!(c.referrals as usize, mine.len(), "customer {}", c.id);
        assert_eq!(c.referral_value, expected, "customer {}", c.id);
        total += c.referral_value;
        counted += mine.len();
    }
    assert!(counted > 0, "some referrals fall in the window");
    let summary = report.referrals.as_ref().unwrap();
    assert_eq!(summary.referrals, counted);
    assert_eq!(summary.referral_value, total);
}
