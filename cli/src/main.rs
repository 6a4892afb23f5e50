//! `clv`: the command-line tool over transaction logs and summary tables.
//!
//! ```text
//! cargo install --path cli        # then: clv <subcommand> [flags]
//! cargo run --release -p customer-assets-cli -- <subcommand> [flags]
//! ```
//!
//! Subcommands:
//! - `summarize --transactions FILE.csv --end YYYY-MM-DD [--unit weeks|days] [--holdout-end YYYY-MM-DD]`
//!   writes `customer_id,frequency,recency,T,monetary_value` (then
//!   `holdout_frequency,holdout_monetary_value` with a holdout) to stdout, one row per customer in
//!   the order customers first appear. An optional `kind` column marks each row `purchase` or
//!   `return`; returns are netted against the latest purchase day at or before them.
//! - `segment --summary FILE.csv --method rfm|abc|lifecycle|kmeans [--k N]` writes
//!   `customer_id,segment` (plus `recency_score,frequency_score,monetary_score` for rfm);
//!   `--consents FILE --purpose P --consent-date D` writes only the consenting customers
//!   (`consent.rs`).
//! - `kpi --transactions FILE.csv --end YYYY-MM-DD [--period-days N]` writes the KPIs as JSON
//!   (with optional `category` and `sku` columns in a CSV log, the category KPIs too).
//! - `tiers --transactions FILE.csv --rules RULES.json --as-of YYYY-MM-DD` applies a loyalty
//!   programme (JSON, see `examples/loyalty_rules.json`) and writes
//!   `customer_id,tier,since,qualifying_value,to_next_tier,points_balance`, one row per customer
//!   in the order customers first appear (an optional `kind` column marks returns).
//! - `fit --summary FILE.csv --model bg-nbd|mbg-nbd|pareto-nbd|ggom-nbd|gamma-gamma
//!   [--penalty L] [--unit weeks|days]` prints the fitted model as JSON: the library's serde form (parameters,
//!   covariance, fit report, time unit), which the library and `predict --params` read back,
//!   plus `model` and `standard_errors`.
//! - `predict --summary FILE.csv --model M --horizon H [--unit weeks|days] [--discount RATE]
//!   [--margin M] [--params FILE.json] [--spend auto|gamma-gamma|mean|none]` prints
//!   `customer_id,p_alive,expected_purchases,dert[,expected_spend,clv]`.
//! - `fit --model bg-bb --summary FILE.csv` (columns `frequency,recency,n_periods,weights`) and
//!   `fit --model sbg|bdw --survival FILE.csv [--periods K]` (columns `cohort,period,alive`) print
//!   the same JSON form; sbg/bdw add `projected_alive`.
//! - `bridge --transactions FILE.csv --from D1 --to D2 [--unit weeks|days] [--model NAME]
//!   [--margin M] [--discount R] [--lost-below P | --lost-after-days N] [--same-models]` prints
//!   the equity bridge from D1 to D2 as JSON (`bridge.rs`).
//! - `validate --transactions FILE.csv --calibration-end DATE --end DATE [--unit weeks|days]
//!   --model M[,M...]` prints a JSON holdout-validation report, one section per model.
//!
//! - `sql --dialect datafusion|spark|duckdb|postgres --table T [--customer-col C] [--date-col D]
//!   [--amount-col A] [--kind-col K [--returns net|ignore]] --end YYYY-MM-DD [--unit weeks|days]
//!   [--holdout-end YYYY-MM-DD]` prints the SQL query that computes `summarize`'s columns (and
//!   more) on the table in that engine (see `customer_assets::sql`).
//! - `plot --transactions FILE --calibration-end DATE --chart KIND [--end DATE] [...]` writes an
//!   SVG chart (see `plot.rs` for the kinds).
//! - `report --transactions FILE.csv --end YYYY-MM-DD [--unit weeks|days] [--model NAME] [--margin M] [--discount R]
//!   [--consents FILE --purpose P] [--referrals FILE]` prints the customer-equity report as JSON
//!   (with consents, only the consenting customers' rows; with referrals, each row's referral
//!   count and value beside its CLV: `referral.rs`).
//! - `profile --summary FILE.csv --attributes ATTR.csv [--segments SEG.csv] [--model NAME]
//!   [--unit U] [--margin M] [--discount R] [--interval LEVEL]` prints each attribute's
//!   association with frequency, mean spend, P(alive) and CLV, and its distribution per segment,
//!   as JSON (`profile.rs`).
//! - `pseudonymize --transactions FILE.csv --key-file KEY [--customer-col C] [--output FILE]`
//!   writes the same CSV log with every customer id replaced by its pseudonym under the key
//!   (HMAC-SHA-256, 64 hex digits; see `pseudonymize.rs` for how the key file is read). Every
//!   other subcommand runs unchanged on the result and values the same customers the same.
//!
//! `clv --help` lists the subcommands; `clv <subcommand> --help` (or `clv help <subcommand>`)
//! gives a subcommand's flags and examples. The command line is parsed by clap (`args.rs`),
//! which suggests the nearest subcommand or flag for a typo; each subcommand then reads and checks
//! its flags' values.
//!
//! One time unit rule: every duration a subcommand reads or writes (recency, T, `--horizon`,
//! the discount rate's unit) is in `--unit`, weeks unless `--unit days` is given; a summary file
//! carries no unit, so `fit`, `predict` and `segment` take the one it was written in. The default
//! discount is 10% a year converted to that unit, ln(1.1) × unit days / 365.25.
//!
//! Progress: a spinner on stderr after a second when stderr is a terminal; `--progress` always
//! (lines off a terminal), `--quiet` never (`progress.rs`).
//!
//! Output: `--format csv|json|ndjson|parquet` and `--output FILE` for the tables of `summarize`,
//! `predict`, `segment` and `tiers` (`output.rs`); JSON for the reports of `fit`, `kpi`,
//! `report`, `profile` and `validate`.
//!
//! Input and errors (the same for every subcommand):
//! - Errors go to stderr as `clv: error: ...` with exit 1 (exit 2 without a subcommand). Each
//!   names where it comes from: the flag (`--margin: ...`), or the file, line and column
//!   (`FILE: line 7, column weights: ...`); a failure of the data as a whole (a fit that does not
//!   converge) names the file. Values echoed from the input are cut to 60 characters ("…").
//! - Files are UTF-8 CSV with a header row, `\n` or `\r\n` line ends (old-Mac `\r`-only files
//!   are refused: their lines could not be named), optional RFC 4180 quoting and an optional
//!   byte-order mark. Every row has as many fields as the header; the columns a subcommand reads
//!   appear once each, others are ignored. A file without data rows is refused, never answered
//!   with an empty table.
//! - Parquet and Arrow IPC files (the file or the stream format) are read too: by extension
//!   (`.parquet`/`.pq`; `.arrow`/`.arrows`/`.ipc`/`.feather`) or as `--input-format
//!   csv|parquet|arrow` says, for the `--transactions`, `--summary` and `--survival` tables. A
//!   log's columns are read by the library's Arrow reader: ids UInt64, Int64 or text; dates
//!   Date32, Date64 or naive timestamps (a timestamp's day is its wall-clock day); amounts
//!   Decimal128, Float64 or Int64; an optional `kind` column of `purchase`/`return` or Boolean.
//!   Other tables are read as their CSV text (numbers as Arrow writes them, nulls as empty
//!   fields). Errors name the row from 1 instead of a line: `FILE: column amount, row 6: null`,
//!   `FILE: row 3, column frequency: ...`.
//! - Whole numbers (counts, `--k`, `--seed`, `--period-days`, `--periods`) are plain digits.
//!   Other numbers are decimals with an optional sign, fraction and exponent (`-0.5`, `1e3`);
//!   `inf`, `NaN`, `1_000` and hex are refused. Money is such a decimal, not negative (`-0` is 0).
//! - Dates are `YYYY-MM-DD`. A date flag before the first transaction, or more than 100 years
//!   after it, is refused. Flag ranges: `--horizon` 0 to 36,525 time units, `--discount` 1e-6
//!   to 10 per time unit, `--margin` above 0 up to 1, `--penalty` 0 to 1e6, `--k` 1 to the number
//!   of customers, `--period-days` 1 to 36,525, `--periods` 1 to 10,000 (and a BG/BB row's
//!   `n_periods` at most 10,000).
//! - A summary's repeat customers with a zero `monetary_value` are left out of the Gamma-Gamma
//!   fit (a note on stderr says how many) and get the population mean spend.
//! - When the reader of the output goes away (`clv ... | head`), the tool stops quietly, exit 0.
#![forbid(unsafe_code)]

use std::process::ExitCode;

mod args;
// Read by `clv fit --covariates` and `clv profile --attributes` (until they land, unused).
mod attributes;
mod bridge;
mod common;
mod consent;
mod covariate_fit;
mod fit;
mod fit_discrete;
mod kpi;
mod output;
mod plot;
mod predict;
mod profile;
mod progress;
mod pseudonymize;
mod referral;
mod report;
mod segment;
mod sql;
mod summarize;
mod table;
mod tiers;
mod validate;

fn main() -> ExitCode {
    let mut args = Vec::new();
    for (k, arg) in std::env::args_os().skip(1).enumerate() {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!(
                    "clv: error: argument {} ({}) is not UTF-8 text",
                    k + 1,
                    common::echo(&arg.to_string_lossy())
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let (command, rest) = match args::parse(args) {
        args::Parsed::Run {
            subcommand,
            args,
            progress,
        } => {
            progress::start(progress);
            (subcommand, args)
        }
        args::Parsed::Print(text) => {
            return match common::print(text.trim_end()) {
                Err(message) if message != common::BROKEN_PIPE => {
                    eprintln!("clv: error: {message}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            };
        }
        args::Parsed::Usage(text, 2) => {
            eprintln!("{}", text.trim_end());
            return ExitCode::from(2);
        }
        args::Parsed::Usage(text, code) => {
            eprintln!("clv: error: {}", common::cut_lines(&text, 300));
            return ExitCode::from(code);
        }
    };
    let result = match command.as_str() {
        "fit" if fit_discrete::requested(&rest) => fit_discrete::run(&rest),
        "summarize" => summarize::run(&rest),
        "segment" => segment::run(&rest),
        "kpi" => kpi::run(&rest),
        "tiers" => tiers::run(&rest),
        "fit" => fit::run(&rest),
        "predict" => predict::run(&rest),
        "report" => report::run(&rest),
        "profile" => profile::run(&rest),
        "bridge" => bridge::run(&rest),
        "validate" => validate::run(&rest),
        "sql" => sql::run(&rest),
        "plot" => plot::run(&rest),
        "pseudonymize" => pseudonymize::run(&rest),
        other => Err(format!("unknown subcommand {}", common::echo(other))),
    };
    progress::finish();
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
