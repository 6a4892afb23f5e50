//! The coverage study of the 90% intervals: on bases simulated from known parameters, how often
//! each method's interval contains the truth. The README's table is this program's output.
//!
//! ```text
//! cargo run --release --features parallel --example coverage            # 200 runs, 1,000 customers
//! cargo run --release --features parallel --example coverage -- 400 2000 # runs, customers
//! ```
//!
//! Per run, a base of N customers is simulated over 39 weeks (acquired over the first 12) from
//! the CDNOW estimates of BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD and Gamma-Gamma, and the
//! model is fitted back. The truths: each parameter, and for the transaction models the base's
//! expected purchases in the next 39 weeks given each customer's history (Σ E[X | x, t_x, T] at
//! the true parameters), for Gamma-Gamma the base's expected spend per transaction given each
//! repeat buyer's history. Methods: the Wald interval (parameters) and the delta method (the
//! base's sum), the parametric bootstrap and the non-parametric bootstrap (200 draws each).
//! A resample whose estimate heads for a boundary of the parameter space (Pareto/NBD's no
//! dropout heterogeneity, on small bases) is kept at its last estimate
//! ([`BootstrapOptions::keep_boundary_estimates`]) and counted. A run whose fit fails is counted
//! as a failure, not dropped silently: the output gives the counts.
use std::error::Error;

use chrono::NaiveDate;
use customer_assets::fit::{Fit, FitError};
use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
use customer_assets::models::gamma_gamma::{
    GammaGamma, GammaGammaParameters, GammaGammaParams, SpendData,
};
use customer_assets::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
use customer_assets::models::{
    bootstrap, delta_interval, parametric_bootstrap, BootstrapOptions, Draws, PredictError,
    Reparameterize, Resample, Scale, WarmStart,
};
use customer_assets::simulate::{
    simulate, BgNbdProcess, GammaGammaSpend, ParetoNbdProcess, SimulationOptions,
};
use customer_assets::{
    Grain, History, Patterns, ReturnPolicy, SpendModel, SummaryAccumulator, SummaryOptions,
    TimeUnit, TransactionModel,
};

const LEVEL: f64 = 0.9;
const DRAWS: u32 = 200;

/// Hits per method (Wald/delta, parametric, bootstrap) for each quantity, and failed runs.
struct Tally {
    names: Vec<String>,
    hits: Vec<[u32; 3]>,
    runs: u32,
    /// Runs with every interval made.
    fitted: u32,
    /// Bootstrap replicates kept at a boundary estimate, over all runs.
    boundary_replicates: u64,
    /// Failed runs by the step that failed.
    why: std::collections::BTreeMap<String, u32>,
}

impl Tally {
    fn new(names: Vec<String>) -> Self {
        let hits = vec![[0; 3]; names.len()];
        Tally {
            names,
            hits,
            runs: 0,
            fitted: 0,
            boundary_replicates: 0,
            why: Default::default(),
        }
    }
}

/// One run of a model: fit, the three kinds of intervals, hits.
fn run_one<P, D>(
    tally: &mut Tally,
    params: &P,
    data: &D,
    truth: &[f64],
    quantity: &(dyn Fn(&P::Model) -> Result<f64, PredictError> + Sync),
    true_quantity: f64,
    seed: u64,
) where
    P: WarmStart<D> + Fit<D, Error = FitError> + Sync,
    D: Resample + Sync,
    P::Model: Reparameterize + Clone + Send + Sync,
{
    tally.runs += 1;
    let mut fail = |why: &str| {
        *tally.why.entry(why.to_string()).or_insert(0) += 1;
    };
    let model = match params.fit(data) {
        Ok(m) => m,
        Err(_) => return fail("fit"),
    };
    let options = BootstrapOptions::new(DRAWS, seed).expect("200 draws");
    let draws = match parametric_bootstrap(&model, &options) {
        Ok(d) => d,
        Err(_) => return fail("parametric draw"),
    };
    // A resample whose estimate heads for a boundary keeps its last estimate (counted below).
    let refits = match bootstrap(params, data, &model, &options.keep_boundary_estimates(true)) {
        Ok(d) => d,
        Err(customer_assets::models::BootstrapError::Refit { source, .. }) => {
            let kind = match *source {
                FitError::Optimizer { .. } => "refit (no convergence)",
                FitError::NotIdentified { .. } => "refit (not identified)",
                FitError::Unusable { .. } => "refit (unusable estimate)",
                _ => "refit (other)",
            };
            return fail(kind);
        }
        Err(_) => return fail("refit"),
    };
    let Some(covariance) = model.parameter_covariance() else {
        return fail("covariance");
    };
    let Ok(wald) = covariance.wald_intervals(&model.parameter_values(), LEVEL) else {
        return fail("covariance");
    };
    let intervals = [
        delta_interval(&model, LEVEL, Scale::Positive, quantity),
        draws.interval(LEVEL, quantity),
        refits.interval(LEVEL, quantity),
    ];
    let [Ok(delta), Ok(parametric_sum), Ok(bootstrap_sum)] = intervals else {
        return fail("interval of the sum");
    };
    let inside = |lower: f64, upper: f64, t: f64| u32::from(lower <= t && t <= upper);
    let summaries = |d: &Draws<P::Model>| d.parameter_summaries(LEVEL).expect("a level in (0, 1)");
    let (parametric, resampled) = (summaries(&draws), summaries(&refits));
    for (k, &t) in truth.iter().enumerate() {
        tally.hits[k][0] += inside(wald[k].lower, wald[k].upper, t);
        tally.hits[k][1] += inside(parametric[k].lower, parametric[k].upper, t);
        tally.hits[k][2] += inside(resampled[k].lower, resampled[k].upper, t);
    }
    let last = truth.len();
    for (m, i) in [delta, parametric_sum, bootstrap_sum].iter().enumerate() {
        tally.hits[last][m] += inside(i.lower, i.upper, true_quantity);
    }
    tally.fitted += 1;
    tally.boundary_replicates += refits.at_boundary().len() as u64;
}

/// A simulated base's transactions under some options.
type Process<'a> =
    dyn Fn(&SimulationOptions) -> Result<Vec<customer_assets::Transaction>, Box<dyn Error>> + 'a;

fn simulated_base(
    customers: usize,
    seed: u64,
    process: &Process<'_>,
) -> Result<customer_assets::Summaries, Box<dyn Error>> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("date")?;
    let end = NaiveDate::from_ymd_opt(2024, 9, 29).ok_or("date")?;
    let options = SimulationOptions::new(customers, start, end, TimeUnit::WEEKS, seed)
        .acquisition_days(84)
        .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?);
    // Exact times: the models' continuous time, without the merging of same-day purchases.
    let mut acc = SummaryAccumulator::new(Grain::Timestamp, ReturnPolicy::NetAgainstPurchase);
    acc.extend(process(&options)?.iter());
    Ok(acc.finish(&SummaryOptions::new(end, TimeUnit::WEEKS))?)
}

/// Σ E[X(39 weeks) | history] over the patterns.
fn base_purchases<M: TransactionModel>(m: &M, patterns: &Patterns) -> Result<f64, PredictError> {
    patterns.iter().try_fold(0.0, |total, p| {
        Ok(total + p.weight() * m.expected_purchases(&History::from(p), 39.0)?)
    })
}

/// Σ E[spend | x, m̄] over the spend rows.
fn base_spend(m: &GammaGamma, data: &SpendData) -> Result<f64, PredictError> {
    data.rows().iter().try_fold(0.0, |total, r| {
        Ok(total + r.weight() * m.expected_spend(r.frequency(), r.mean_spend())?)
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let runs: u64 = args.next().map_or(Ok(200), |a| a.parse())?;
    let customers: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let names = |params: &[&str], sum: &str| -> Vec<String> {
        params
            .iter()
            .map(|p| p.to_string())
            .chain(std::iter::once(sum.to_string()))
            .collect()
    };
    let mut tallies = vec![
        (
            "BG/NBD",
            Tally::new(names(&["r", "alpha", "a", "b"], "base purchases, 39 weeks")),
        ),
        (
            "Pareto/NBD",
            Tally::new(names(
                &["r", "alpha", "s", "beta"],
                "base purchases, 39 weeks",
            )),
        ),
        (
            "Gamma-Gamma",
            Tally::new(names(&["p", "q", "gamma"], "base expected spend")),
        ),
    ];
    let bg = [0.243, 4.414, 0.793, 2.426];
    let pareto = [0.553, 10.578, 0.606, 11.669];
    let gg = [6.25, 3.74, 15.44];
    let true_bg = BgNbd::new(
        BgNbdParameters {
            r: bg[0],
            alpha: bg[1],
            a: bg[2],
            b: bg[3],
        },
        TimeUnit::WEEKS,
    )?;
    let true_pareto = ParetoNbd::new(
        ParetoNbdParameters {
            r: pareto[0],
            alpha: pareto[1],
            s: pareto[2],
            beta: pareto[3],
        },
        TimeUnit::WEEKS,
    )?;
    let true_gg = GammaGamma::new(GammaGammaParameters {
        p: gg[0],
        q: gg[1],
        gamma: gg[2],
    })?;
    let bg_process = BgNbdProcess::new(bg[0], bg[1], bg[2], bg[3])?;
    let pareto_process = ParetoNbdProcess::new(pareto[0], pareto[1], pareto[2], pareto[3])?;
    for seed in 1..=runs {
        let base = simulated_base(customers, seed, &|o| {
            Ok(simulate(&bg_process, o)?.into_transactions())
        })?;
        let patterns = base.patterns();
        let quantity = |m: &BgNbd| base_purchases(m, &patterns);
        let truth = base_purchases(&true_bg, &patterns)?;
        let tally = &mut tallies[0].1;
        run_one(
            tally,
            &BgNbdParams::new(),
            &patterns,
            &bg,
            &quantity,
            truth,
            seed,
        );
        // The spend of the same base.
        let spend = SpendData::usable_from_summaries(&base)?.data;
        let quantity = |m: &GammaGamma| base_spend(m, &spend);
        let truth = base_spend(&true_gg, &spend)?;
        let tally = &mut tallies[2].1;
        run_one(
            tally,
            &GammaGammaParams::new(),
            &spend,
            &gg,
            &quantity,
            truth,
            seed,
        );

        let base = simulated_base(customers, seed, &|o| {
            Ok(simulate(&pareto_process, o)?.into_transactions())
        })?;
        let patterns = base.patterns();
        let quantity = |m: &ParetoNbd| base_purchases(m, &patterns);
        let truth = base_purchases(&true_pareto, &patterns)?;
        let tally = &mut tallies[1].1;
        run_one(
            tally,
            &ParetoNbdParams::new(),
            &patterns,
            &pareto,
            &quantity,
            truth,
            seed,
        );
        if seed % 20 == 0 {
            eprintln!("{seed} of {runs} runs");
        }
    }
    println!(
        "Coverage of the 90% intervals: {runs} bases of {customers} customers per model, {DRAWS} draws per bootstrap\n"
    );
    println!("| model | quantity | Wald / delta | parametric bootstrap | bootstrap |");
    println!("|---|---|---|---|---|");
    for (model, t) in &tallies {
        let fitted = t.fitted.max(1);
        for (k, name) in t.names.iter().enumerate() {
            let share = |m: usize| {
                format!(
                    "{:.1}%",
                    100.0 * f64::from(t.hits[k][m]) / f64::from(fitted)
                )
            };
            println!(
                "| {model} | {name} | {} | {} | {} |",
                share(0),
                share(1),
                share(2)
            );
        }
    }
    println!();
    for (model, t) in &tallies {
        let why: Vec<String> = t
            .why
            .iter()
            .map(|(k, n)| format!("{n} at the {k}"))
            .collect();
        println!(
            "- {model}: {} of {} runs with every interval; {} of their {} refits kept at a boundary estimate{}",
            t.fitted,
            t.runs,
            t.boundary_replicates,
            u64::from(t.fitted) * u64::from(DRAWS),
            if why.is_empty() {
                String::new()
            } else {
                format!("; failed: {}", why.join(", "))
            }
        );
    }
    Ok(())
}
