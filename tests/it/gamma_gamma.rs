//! Gamma-Gamma: the CDNOW golden fit (Fader, Hardie & Lee 2005; ../shared/reference-values.md),
//! parameter recovery and interval coverage on simulated spend, serde round trip.

use chrono::NaiveDate;
use customer_assets::fit::{Fit, FitOptions};
use customer_assets::models::gamma_gamma::{
    GammaGamma, GammaGammaParameters, GammaGammaParams, SpendData,
};
use customer_assets::{
    CustomerId, Ledger, LedgerOptions, SpendModel, SummaryOptions, TimeUnit, Transaction,
};
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma, Poisson};

/// The customers with frequency > 0 of cdnow_summary.csv, read as a user would.
pub fn cdnow_spend() -> SpendData {
    let mut reader = csv::Reader::from_path(crate::data_file("cdnow_summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (fx, fm) = (col("frequency"), col("monetary_value"));
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let x: u32 = record[fx].parse().unwrap();
        if x > 0 {
            rows.push((x, record[fm].parse::<f64>().unwrap(), 1.0));
        }
    }
    assert_eq!(rows.len(), 946);
    SpendData::new(rows).unwrap()
}

#[test]
fn cdnow_golden_fit() {
    let data = cdnow_spend();
    let model = GammaGammaParams::new().fit(&data).unwrap();
    let p = model.parameters();
    // Published to 2 decimals: p = 6.25, q = 3.74, gamma = 15.44 (from the exact spends). On
    // this file, whose mean spends are rounded to cents, the maximum is at gamma = 15.448 (its
    // standard error is 4.2): p and q within the published rounding, gamma within 0.01, and the
    // estimate is a better maximum of this file's likelihood than the published point.
    assert!((p.p - 6.25).abs() <= 0.005, "{p:?}");
    assert!((p.q - 3.74).abs() <= 0.005, "{p:?}");
    assert!((p.gamma - 15.44).abs() <= 0.01, "{p:?}");
    let published = GammaGamma::new(GammaGammaParameters {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    })
    .unwrap();
    let at_published = published.total_log_likelihood(&data).unwrap();
    assert!(model.total_log_likelihood(&data).unwrap() >= at_published);
    assert!((at_published - (-4055.92)).abs() <= 0.01, "{at_published}");
    let report = model.report().unwrap();
    assert!(report.converged);
    assert!(
        (report.log_likelihood - (-4055.92)).abs() <= 0.01,
        "{}",
        report.log_likelihood
    );
    assert!((model.total_log_likelihood(&data).unwrap() - report.log_likelihood).abs() < 1e-9);
    let se = model.standard_errors().unwrap();
    assert!(se.p > 0.0 && se.q > 0.0 && se.gamma > 0.0);
    // the independence check Fader, Hardie & Lee report: a weak correlation (0.11)
    let r = model.frequency_spend_correlation().unwrap();
    assert!((r - 0.11).abs() < 0.01, "{r}");
    // population mean spend p gamma / (q - 1) and a customer's credibility-weighted mean
    let pop = model.expected_spend_new().unwrap();
    assert!((pop - p.p * p.gamma / (p.q - 1.0)).abs() < 1e-9);
    let s = model.expected_spend(2, 22.35).unwrap();
    assert!(s > 22.35 && s < pop, "{s} {pop}");
}

/// The full path a user takes from the raw log: transactions -> ledger -> summaries at
/// 1997-09-30 in weeks -> the repeat buyers' exact mean spends.
#[test]
fn cdnow_fit_from_the_transaction_log() {
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let mut reader =
        csv::Reader::from_path(crate::data_file("cdnow_sample_transactions.csv")).unwrap();
    let log: Vec<Transaction> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let amount = Transaction::parse_amount(&r[3], "amount").unwrap();
            Transaction::purchase(CustomerId::new(&r[0]).unwrap(), date(&r[1]), amount).unwrap()
        })
        .collect();
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_transactions(log).unwrap();
    let summaries = ledger
        .summarize(SummaryOptions::new(date("1997-09-30"), TimeUnit::WEEKS))
        .unwrap();
    let data = SpendData::from_summaries(&summaries).unwrap();
    assert_eq!(data.rows().len(), 946);
    let model = GammaGammaParams::new().fit(&data).unwrap();
    let p = model.parameters();
    // from the exact spends, all three land within the published rounding
    assert!((p.p - 6.25).abs() <= 0.005, "{p:?}");
    assert!((p.q - 3.74).abs() <= 0.005, "{p:?}");
    assert!((p.gamma - 15.44).abs() <= 0.005, "{p:?}");
    assert!((model.report().unwrap().log_likelihood - (-4055.92)).abs() <= 0.01);
}

#[test]
fn penalty_shrinks_the_parameters() {
    let data = cdnow_spend();
    let plain = GammaGammaParams::new().fit(&data).unwrap().parameters();
    let penalized = GammaGammaParams::new().penalty(1e-4).fit(&data).unwrap();
    let pp = penalized.parameters();
    assert!(
        pp.p * pp.p + pp.q * pp.q + pp.gamma * pp.gamma
            < plain.p * plain.p + plain.q * plain.q + plain.gamma * plain.gamma
    );
    assert!(penalized.report().unwrap().log_likelihood < -4055.92 + 0.01);
}

/// Spend rows from the Gamma-Gamma process: x ~ 1 + Poisson(2), nu ~ Gamma(q, rate gamma),
/// each transaction ~ Gamma(p, rate nu).
fn simulate(n: usize, p: f64, q: f64, gamma: f64, seed: u64) -> SpendData {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let count = Poisson::new(2.0).unwrap();
    let nu_dist = Gamma::new(q, 1.0 / gamma).unwrap();
    let rows: Vec<(u32, f64, f64)> = (0..n)
        .map(|_| {
            let x = 1 + count.sample(&mut rng) as u32;
            let nu: f64 = nu_dist.sample(&mut rng);
            let z = Gamma::new(p, 1.0 / nu).unwrap();
            let total: f64 = (0..x).map(|_| z.sample(&mut rng)).sum();
            (x, total / f64::from(x), 1.0)
        })
        .collect();
    SpendData::new(rows).unwrap()
}

#[test]
fn recovers_parameters_from_simulated_spend() {
    let (p, q, gamma) = (6.0, 4.0, 15.0);
    let model = GammaGammaParams::new()
        .fit(&simulate(50_000, p, q, gamma, 7))
        .unwrap();
    let (est, se) = (model.parameters(), model.standard_errors().unwrap());
    for (name, truth, e, s) in [
        ("p", p, est.p, se.p),
        ("q", q, est.q, se.q),
        ("gamma", gamma, est.gamma, se.gamma),
    ] {
        assert!((e - truth).abs() <= 3.0 * s, "{name}: {e} ± {s} vs {truth}");
    }
}

#[test]
fn intervals_cover_the_truth() {
    // 40 data sets of 1,500 customers: each 95% interval should cover about 38 times;
    // binomial(40, 0.95) puts 34 or more covers at 99%.
    let (p, q, gamma) = (6.0, 4.0, 15.0);
    let mut covered = [0u32; 3];
    for seed in 0..40 {
        let model = GammaGammaParams::new()
            .fit_options(FitOptions::new().seed(seed))
            .fit(&simulate(1_500, p, q, gamma, 1000 + seed))
            .unwrap();
        let (est, se) = (model.parameters(), model.standard_errors().unwrap());
        for (i, (truth, e, s)) in [
            (p, est.p, se.p),
            (q, est.q, se.q),
            (gamma, est.gamma, se.gamma),
        ]
        .into_iter()
        .enumerate()
        {
            covered[i] += u32::from((e - truth).abs() <= 1.96 * s);
        }
    }
    assert!(covered.iter().all(|&c| c >= 34), "{covered:?}");
}

#[test]
fn fitted_model_round_trips_through_json() {
    let model = GammaGammaParams::new().fit(&cdnow_spend()).unwrap();
    let json = serde_json::to_string(&model).unwrap();
    let back: GammaGamma = serde_json::from_str(&json).unwrap();
    assert_eq!(back, model);
    let given = GammaGamma::new(GammaGammaParameters {
        p: 6.25,
        q: 3.74,
        gamma: 15.44,
    })
    .unwrap();
    let back: GammaGamma = serde_json::from_str(&serde_json::to_string(&given).unwrap()).unwrap();
    assert_eq!(back, given);
}

proptest::proptest! {
    /// The expected spend is a credibility-weighted mean: between the customer's own mean spend
    /// and the population mean, closer to the customer's the more transactions it has.
    #[test]
    fn expected_spend_lies_between_own_and_population_means(
        p in 0.1f64..20.0, q in 1.05f64..20.0, gamma in 0.1f64..100.0,
        x in 1u32..200, mean in 0.01f64..1000.0,
    ) {
        let model = GammaGamma::new(GammaGammaParameters { p, q, gamma }).unwrap();
        let pop = model.expected_spend_new().unwrap();
        let e = model.expected_spend(x, mean).unwrap();
        let (lo, hi) = (mean.min(pop), mean.max(pop));
        proptest::prop_assert!(e >= lo * (1.0 - 1e-12) && e <= hi * (1.0 + 1e-12));
        let more = model.expected_spend(x + 1, mean).unwrap();
        proptest::prop_assert!((more - mean).abs() <= (e - mean).abs() * (1.0 + 1e-12));
    }
}
