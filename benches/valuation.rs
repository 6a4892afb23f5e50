//! The whole valuation of 1 million simulated customers (about 10 million transactions), from
//! the ledger to the report — summaries, the transaction and Gamma-Gamma fits, predictions, RFM,
//! ABC and asset classes, loyalty tiers, KPIs — with BG/NBD and with Pareto/NBD.
//!
//! Before criterion's timings it prints, for each model, a table of the stages timed one by one
//! through the public API (best of three runs each, one for a stage over 2 s) and the whole valuation's peak heap memory
//! against the size of the ledger's transactions (a counting allocator).
//!
//! ```text
//! cargo bench --bench valuation --features parallel
//! ```
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use customer_assets::fit::Fit;
use customer_assets::kpi::KpiReport;
use customer_assets::loyalty::{
    DowngradePolicy, Downgrades, EarnRules, Evaluator, Metric, Programme, QualificationWindow,
    Tier, TierLadder,
};
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::models::{History, SpendData, SpendModel, TransactionModel};
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::asset_quality::AssetQualityParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::segment::{Profile, Segmenter};
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::valuation::{DiscountRate, Valuation};
use customer_assets::{Ledger, LedgerOptions, Summaries, SummaryOptions, TimeUnit, Transaction};
use rust_decimal::Decimal;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::{LIVE, PEAK};

/// The peak heap of the last stage timed by [`best`].
static STAGE_PEAK: AtomicUsize = AtomicUsize::new(0);

const UNIT: TimeUnit = TimeUnit::WEEKS;
const HORIZON: f64 = 52.0;
const KPI_DAYS: u32 = 90;

fn ledger() -> (Ledger, NaiveDate) {
    let start = NaiveDate::from_ymd_opt(2023, 1, 1).expect("date");
    let end = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    // Frequent buyers (about 9 purchases each over two years) so that 1M customers make ~10M
    // transactions.
    let process = ParetoNbdProcess::new(2.7, 20.0, 0.5, 40.0).expect("params");
    let options = SimulationOptions::new(1_000_000, start, end, UNIT, 11)
        .acquisition_days(180)
        .spend(GammaGammaSpend::new(6.0, 3.7, 15.0).expect("params"));
    let base = simulate(&process, &options).expect("simulate");
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger
        .extend_transactions(base.into_transactions())
        .expect("ledger");
    (ledger, end)
}

/// A spend ladder with a rolling year reviewed quarterly, as in `examples/loyalty_rules.json`.
fn programme() -> Programme {
    let tier = |name: &str, threshold: i64| Tier::new(name, Decimal::from(threshold));
    let ladder = TierLadder::new(
        Metric::Spend,
        vec![
            tier("Member", 0),
            tier("Silver", 100),
            tier("Gold", 300),
            tier("Platinum", 750),
        ],
    )
    .expect("ladder");
    Programme::new(
        "bench club",
        ladder,
        QualificationWindow::Rolling {
            days: 365,
            review_every_months: 3,
        },
        Downgrades {
            policy: DowngradePolicy::OneTier,
            grace_days: 30,
        },
        EarnRules::default(),
    )
    .expect("programme")
}

#[derive(Clone, Copy)]
enum Model {
    BgNbd,
    ParetoNbd,
}

impl Model {
    fn name(self) -> &'static str {
        match self {
            Model::BgNbd => "bg_nbd",
            Model::ParetoNbd => "pareto_nbd",
        }
    }

    fn fit(self, summaries: &Summaries) -> Box<dyn TransactionModel> {
        let patterns = summaries.patterns();
        match self {
            Model::BgNbd => Box::new(BgNbdParams::new().fit(&patterns).expect("BG/NBD fit")),
            Model::ParetoNbd => Box::new(
                ParetoNbdParams::new()
                    .fit(&patterns)
                    .expect("Pareto/NBD fit"),
            ),
        }
    }
}

fn discount() -> DiscountRate {
    DiscountRate::per_period(0.10, 365.0).expect("rate")
}

fn value(ledger: &Ledger, as_of: NaiveDate, model: Model, programme: &Programme) -> usize {
    let builder = Valuation::builder().ledger(ledger).as_of(as_of).unit(UNIT);
    let builder = match model {
        Model::BgNbd => builder.fit_transaction_model(BgNbdParams::new()),
        Model::ParetoNbd => builder.fit_transaction_model(ParetoNbdParams::new()),
    };
    let report = builder
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(discount())
        .horizon(HORIZON)
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .tiers(programme)
        .kpis(KPI_DAYS)
        .build()
        .expect("valid configuration")
        .run()
        .expect("valuation");
    report.customers.len()
}

/// Best of three runs, or the first alone when it takes over two seconds; the peak heap of the
/// first run (beyond what was live before it) goes to `STAGE_PEAK`.
fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let mut out = f();
    let mut fastest = started.elapsed();
    STAGE_PEAK.store(PEAK.load(Ordering::Relaxed) - before, Ordering::Relaxed);
    if fastest < Duration::from_secs(2) {
        for _ in 0..2 {
            let started = Instant::now();
            out = f();
            fastest = fastest.min(started.elapsed());
        }
    }
    (fastest, out)
}

/// Times the fits alone, `runs` times each, and prints the fastest time of each step and the
/// fits' reports.
fn fit_table(summaries: &Summaries, model: Model, runs: u32) {
    // (fastest wall time, mean CPU seconds of the process per run): on a loaded machine the CPU
    // time is the steadier figure.
    let time = |f: &mut dyn FnMut()| {
        let runs = runs.max(1);
        let cpu_before = process_cpu_seconds();
        let fastest = (0..runs)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .min()
            .unwrap_or_default();
        let cpu = (process_cpu_seconds() - cpu_before) / f64::from(runs);
        (fastest, cpu)
    };
    let patterns = summaries.patterns();
    let t_patterns = time(&mut || {
        black_box(summaries.patterns());
    });
    let mut fitted = model.fit(summaries);
    let t_fit = time(&mut || fitted = model.fit(summaries));
    let t_spend_data = time(&mut || {
        black_box(SpendData::usable_from_summaries(summaries).expect("spend data"));
    });
    let usable = SpendData::usable_from_summaries(summaries).expect("spend data");
    let mut spend = GammaGammaParams::new()
        .fit(&usable.data)
        .expect("Gamma-Gamma fit");
    let t_spend = time(&mut || {
        spend = GammaGammaParams::new()
            .fit(&usable.data)
            .expect("Gamma-Gamma fit")
    });
    println!(
        "\n{}: {} customers, {} patterns, {} spend rows (best of {runs})",
        model.name(),
        summaries.len(),
        patterns.len(),
        usable.data.rows().len()
    );
    println!("| step | time | CPU a run |\n|---|---|---|");
    for (step, (t, cpu)) in [
        ("patterns", t_patterns),
        ("transaction model fit (with patterns)", t_fit),
        ("spend data", t_spend_data),
        ("spend model fit (without spend data)", t_spend),
    ] {
        println!("| {step} | {:.4} s | {cpu:.3} s |", t.as_secs_f64());
    }
    println!("{:?}", fitted.named_parameters());
    println!("{:?}", fitted.fit_report());
    println!("{:?}", spend.named_parameters());
    println!("{:?}", spend.fit_report());
}

/// User and system CPU seconds of this process so far, all threads (Linux `/proc/self/stat`, in
/// clock ticks of 10 ms); 0 where that file cannot be read.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which ends with ')'): utime and stime are the 12th and
    // 13th of them.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let ticks: f64 = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Times the valuation's stages one by one, as the valuation runs them, and prints the table.
fn stage_table(ledger: &Ledger, as_of: NaiveDate, model: Model, programme: &Programme) {
    let mut rows: Vec<(&str, Duration, usize)> = Vec::new();
    let (t, summaries) = best(|| {
        ledger
            .summarize(SummaryOptions::new(as_of, UNIT))
            .expect("summaries")
    });
    rows.push(("summaries", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let (t, fitted) = best(|| model.fit(&summaries));
    rows.push((
        "transaction model fit",
        t,
        STAGE_PEAK.load(Ordering::Relaxed),
    ));
    let (t, spend) = best(|| {
        let usable = SpendData::usable_from_summaries(&summaries).expect("spend data");
        GammaGammaParams::new()
            .fit(&usable.data)
            .expect("Gamma-Gamma fit")
    });
    rows.push(("spend model fit", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let histories: Vec<History> = summaries.iter().map(History::from).collect();
    let rate = discount().continuous_per(UNIT);
    let (t, _) = best(|| {
        let alive = fitted.p_alive_batch(&histories).expect("p_alive");
        let expected = fitted
            .expected_purchases_batch(&histories, HORIZON)
            .expect("expected purchases");
        (alive, expected)
    });
    rows.push((
        "P(alive) and expected purchases",
        t,
        STAGE_PEAK.load(Ordering::Relaxed),
    ));
    let (t, dert) = best(|| fitted.dert_batch(&histories, rate).expect("dert"));
    rows.push(("DERT", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let (t, clv) = best(|| {
        summaries
            .iter()
            .zip(&dert)
            .map(|(s, d)| {
                let m =
                    rust_decimal::prelude::ToPrimitive::to_f64(&s.monetary_value()).unwrap_or(0.0);
                let e = if s.frequency() > 0 && m > 0.0 {
                    spend.expected_spend(s.frequency(), m)
                } else {
                    spend.expected_spend_new()
                };
                d * e.expect("expected spend") * 0.3
            })
            .collect::<Vec<f64>>()
    });
    rows.push((
        "expected spend and CLV",
        t,
        STAGE_PEAK.load(Ordering::Relaxed),
    ));
    let alive = fitted.p_alive_batch(&histories).expect("p_alive");
    let (t, profiles) = best(|| {
        summaries
            .iter()
            .zip(alive.iter().zip(&clv))
            .map(|(s, (p, c))| {
                Profile::from_summary(s, UNIT)
                    .with_p_alive(*p)
                    .expect("p_alive")
                    .with_clv(*c)
                    .expect("clv")
            })
            .collect::<Vec<Profile>>()
    });
    rows.push(("profiles", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let (t, _) = best(|| {
        AssetQualityParams::default()
            .segment(&profiles)
            .expect("asset quality")
    });
    rows.push(("asset classes", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let (t, _) = best(|| RfmParams::default().segment(&profiles).expect("rfm"));
    rows.push(("RFM", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let (t, _) = best(|| AbcParams::default().segment(&profiles).expect("abc"));
    rows.push(("ABC", t, STAGE_PEAK.load(Ordering::Relaxed)));
    // The valuation's own path: each member's tier only, grouped by the ledger's slots, then
    // matched to the summaries' customers.
    let (t, _) = best(|| {
        Evaluator::new(programme)
            .ledger_tiers(ledger, as_of)
            .expect("tiers")
            .indices(summaries.iter().map(|s| s.id()))
    });
    rows.push(("loyalty tiers", t, STAGE_PEAK.load(Ordering::Relaxed)));
    // Every member's full status, for comparison (not part of the valuation).
    let (statuses, _) = best(|| {
        let customers: Vec<_> = ledger.customers().cloned().collect();
        Evaluator::new(programme)
            .evaluate_statuses(&customers, ledger.transactions(), &[], &[], as_of)
            .expect("statuses")
            .len()
    });
    let statuses_peak = STAGE_PEAK.load(Ordering::Relaxed);
    let (t, _) = best(|| KpiReport::new(ledger, as_of, KPI_DAYS).expect("kpis"));
    rows.push(("KPIs", t, STAGE_PEAK.load(Ordering::Relaxed)));
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let n = value(ledger, as_of, model, programme);
    let whole = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let log_bytes = std::mem::size_of_val(ledger.transactions());
    println!("\n{}: {n} customers", model.name());
    println!("| stage | time | peak heap |\n|---|---|---|");
    let mut sum = Duration::ZERO;
    for (stage, t, bytes) in &rows {
        sum += *t;
        println!(
            "| {stage} | {:.3} s | {:.0} MB |",
            t.as_secs_f64(),
            *bytes as f64 / 1e6
        );
    }
    println!("| sum of the stages | {:.3} s | |", sum.as_secs_f64());
    println!(
        "| (loyalty statuses, not in the valuation) | {:.3} s | {:.0} MB |",
        statuses.as_secs_f64(),
        statuses_peak as f64 / 1e6
    );
    println!(
        "| whole valuation (one run) | {:.3} s | {:.0} MB |",
        whole.as_secs_f64(),
        peak as f64 / 1e6
    );
    println!(
        "peak heap of the valuation: {:.0} MB = {:.2}x the {:.0} MB of transactions \
         ({} transactions of {} bytes)",
        peak as f64 / 1e6,
        peak as f64 / log_bytes as f64,
        log_bytes as f64 / 1e6,
        ledger.transactions().len(),
        std::mem::size_of::<Transaction>()
    );
}

/// The process's CPU time (user and system, all threads) from /proc/self/stat on Linux, 0
/// elsewhere: under load a run's CPU time says more than its wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |k: usize| {
        fields
            .get(k)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Linux reports these in clock ticks of 1/100 s.
    (ticks(11) + ticks(12)) / 100.0
}

fn bench(c: &mut Criterion) {
    let (ledger, as_of) = ledger();
    let programme = programme();
    // VALUATION_BENCH_MODELS=pareto_nbd (or bg_nbd) limits the tables and timings to one model.
    let chosen = std::env::var("VALUATION_BENCH_MODELS").unwrap_or_default();
    let models: Vec<Model> = [Model::BgNbd, Model::ParetoNbd]
        .into_iter()
        .filter(|m| chosen.is_empty() || chosen.contains(m.name()))
        .collect();
    // VALUATION_BENCH_PROFILE=N runs only N whole valuations and no table or criterion timing,
    // for a profiler (perf record) to see the valuation itself.
    if let Some(runs) = std::env::var("VALUATION_BENCH_PROFILE")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for &model in &models {
            for _ in 0..runs {
                let (started, cpu) = (Instant::now(), cpu_seconds());
                let n = value(&ledger, as_of, model, &programme);
                println!(
                    "{}: {n} customers in {:.3} s ({:.2} s of CPU)",
                    model.name(),
                    started.elapsed().as_secs_f64(),
                    cpu_seconds() - cpu
                );
            }
        }
        return;
    }
    // VALUATION_BENCH_TIERS=N runs only the loyalty tiers stage N times (the valuation's
    // `ledger_tiers`) and prints each run's wall and CPU time: for work on that stage.
    if let Some(runs) = std::env::var("VALUATION_BENCH_TIERS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for run in 0..runs {
            let (started, cpu) = (Instant::now(), cpu_seconds());
            let tiers = Evaluator::new(&programme)
                .ledger_tiers(&ledger, as_of)
                .expect("tiers");
            let (wall, cpu) = (started.elapsed(), cpu_seconds() - cpu);
            // A checksum of the tiers (first run only, to keep profiles clean): per tier, the
            // transactions of its members.
            let mut mix = vec![0usize; tiers.names().len()];
            for t in ledger.transactions().iter().filter(|_| run == 0) {
                if let Some(t) = tiers.index(t.customer()) {
                    mix[t] += 1;
                }
            }
            println!(
                "ledger_tiers: {:.3} s wall, {cpu:.2} s of CPU; transactions by tier {mix:?}",
                wall.as_secs_f64()
            );
        }
        return;
    }
    // VALUATION_BENCH_FITS=N times only the fits N times each (patterns, transaction model fit,
    // spend data, spend model fit) and prints their reports: for work on the fits.
    if let Some(runs) = std::env::var("VALUATION_BENCH_FITS")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        let summaries = ledger
            .summarize(SummaryOptions::new(as_of, UNIT))
            .expect("summaries");
        for &model in &models {
            fit_table(&summaries, model, runs);
        }
        return;
    }
    for &model in &models {
        stage_table(&ledger, as_of, model, &programme);
    }
    let mut group = c.benchmark_group("valuation");
    group.sample_size(10);
    for &model in &models {
        group.bench_function(
            format!("value_1m_customers_10m_transactions_{}", model.name()),
            |b| b.iter(|| value(black_box(&ledger), black_box(as_of), model, &programme)),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
