//! `clv`: the scripting tool over CSV files.
//!
//! ```text
//! cargo run --release --example clv -- <subcommand> [flags]
//! ```
//!
//! Subcommands:
//! - `summarize --transactions FILE.csv --end YYYY-MM-DD [--unit days|weeks] [--holdout-end YYYY-MM-DD]`
//!   writes `customer_id,frequency,recency,T,monetary_value` (then
//!   `holdout_frequency,holdout_monetary_value` with a holdout) to stdout, one row per customer in
//!   the order customers first appear.
//! - `segment --summary FILE.csv --method rfm|abc|lifecycle|kmeans [--k N]` writes
//!   `customer_id,segment` (plus `recency_score,frequency_score,monetary_score` for rfm).
//! - `kpi --transactions FILE.csv --end YYYY-MM-DD [--period-days N]` writes the KPIs as JSON.
//! - `tiers --transactions FILE.csv --rules RULES.json --as-of YYYY-MM-DD` applies a loyalty
//!   programme (JSON, see `examples/loyalty_rules.json`) and writes
//!   `customer_id,tier,since,qualifying_value,to_next_tier,points_balance`, one row per customer
//!   in the order customers first appear (an optional `kind` column marks returns).
//! - `fit --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|gamma-gamma [--penalty L]` prints
//!   the fitted parameters, standard errors and fit report as JSON.
//! - `predict --summary FILE.csv --model M --horizon H [--discount RATE] [--margin M] [--params FILE.json]`
//!   prints `customer_id,p_alive,expected_purchases,dert[,expected_spend,clv]`.
//! - `fit --model bg-bb --summary FILE.csv` (columns `frequency,recency,n_periods,weights`) and
//!   `fit --model sbg|bdw --survival FILE.csv [--periods K]` (columns `cohort,period,alive`) print
//!   the same JSON shape; sbg/bdw add `projected_alive`.
//! - `validate --transactions FILE.csv --calibration-end DATE --end DATE [--unit days|weeks]
//!   --model M[,M...]` prints a JSON holdout-validation report, one section per model.
//!
//! - `report --transactions FILE.csv --end YYYY-MM-DD [--unit days|weeks] [--model NAME] [--margin M] [--discount R]`
//!   prints the customer-equity report as JSON.
//!
//! Errors go to stderr with a non-zero exit; a malformed row names its line.
use std::process::ExitCode;

#[path = "clv_cmd/common.rs"]
mod common;
#[path = "clv_cmd/fit.rs"]
mod fit;
#[path = "clv_cmd/fit_discrete.rs"]
mod fit_discrete;
#[path = "clv_cmd/kpi.rs"]
mod kpi;
#[path = "clv_cmd/predict.rs"]
mod predict;
#[path = "clv_cmd/report.rs"]
mod report;
#[path = "clv_cmd/segment.rs"]
mod segment;
#[path = "clv_cmd/summarize.rs"]
mod summarize;
#[path = "clv_cmd/tiers.rs"]
mod tiers;
#[path = "clv_cmd/validate.rs"]
mod validate;

const USAGE: &str = "usage: clv <subcommand> [flags]
subcommands:
  summarize --transactions FILE.csv --end YYYY-MM-DD [--unit days|weeks] [--holdout-end YYYY-MM-DD]
  segment --summary FILE.csv --method rfm|abc|lifecycle|kmeans [--k N] [--unit weeks|days] [--seed S]
  kpi --transactions FILE.csv --end YYYY-MM-DD [--period-days N]
  tiers --transactions FILE.csv --rules RULES.json --as-of YYYY-MM-DD
  fit --model bg-bb --summary FILE.csv
  fit --model sbg|bdw --survival FILE.csv [--periods K]
  fit --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|gamma-gamma [--penalty L]
  predict --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd --horizon H [--discount RATE] [--margin M] [--params FILE.json]
  report --transactions FILE.csv --end YYYY-MM-DD [--unit days|weeks] [--model NAME] [--margin M] [--discount R]
  validate --transactions FILE.csv --calibration-end DATE --end DATE [--unit days|weeks] --model M[,M...]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "fit" if fit_discrete::requested(&rest) => fit_discrete::run(&rest),
        "summarize" => summarize::run(&rest),
        "segment" => segment::run(&rest),
        "kpi" => kpi::run(&rest),
        "tiers" => tiers::run(&rest),
        "fit" => fit::run(&rest),
        "predict" => predict::run(&rest),
        "report" => report::run(&rest),
        "validate" => validate::run(&rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!(
            "unknown subcommand {}\n{USAGE}",
            common::echo(other)
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of the output went away (`clv ... | head`): nothing more to say.
        Err(message) if message == common::BROKEN_PIPE => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("clv: error: {}", common::cut_lines(&message, 300));
            ExitCode::FAILURE
        }
    }
}
