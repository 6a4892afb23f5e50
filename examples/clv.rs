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
//!
//! Errors go to stderr with a non-zero exit; a malformed row names its line.
use std::process::ExitCode;

#[path = "clv_cmd/common.rs"]
mod common;
#[path = "clv_cmd/fit_discrete.rs"]
mod fit_discrete;
#[path = "clv_cmd/summarize.rs"]
mod summarize;

const USAGE: &str = "usage: clv <subcommand> [flags]
subcommands:
  fit --model bg-bb --summary FILE.csv
  fit --model sbg|bdw --survival FILE.csv [--periods K]
  summarize --transactions FILE.csv --end YYYY-MM-DD [--unit days|weeks] [--holdout-end YYYY-MM-DD]";

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
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown subcommand {other:?}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("clv: error: {message}");
            ExitCode::FAILURE
        }
    }
}
