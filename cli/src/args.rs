//! The command line: subcommands, flags, their help and examples (clap).
//!
//! Clap checks the shape of a command line: known subcommands and flags (suggesting the nearest
//! name for a typo), each flag once, with its value, the required ones present. Every value stays
//! text here: each subcommand reads and checks its values itself (`common::Flags`), so that a
//! message names the flag and says what the value should be, in one place per kind of value.

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

/// Customer-lifetime-value tools over transaction logs and summary tables.
#[derive(Debug, Parser)]
#[command(
    name = "clv",
    version,
    about = "Customer-lifetime-value tools over transaction logs and summary tables",
    after_help = "Table files are CSV (a header row; \\n or \\r\\n line ends), Parquet (.parquet) or \
                  Arrow IPC (.arrow, .arrows), or as --input-format says. Dates are YYYY-MM-DD.\n\n\
                  Run `clv <subcommand> --help` for a subcommand's flags and examples.",
    disable_help_subcommand = false,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Never show progress on stderr.
    // The global flags come last in every subcommand's help, wherever clap would number them
    // (a new subcommand would otherwise move them in every help).
    #[arg(long, global = true, conflicts_with = "progress", display_order = 1000)]
    pub quiet: bool,
    /// Show progress on stderr from the start, as lines when stderr is not a terminal (by
    /// default a spinner appears on a terminal once the work has taken a second).
    #[arg(long, global = true, display_order = 1001)]
    pub progress: bool,
}

/// The flags of every subcommand that reads a table.
#[derive(Debug, Args)]
pub struct TableFlags {
    /// The table's format, whatever its extension: csv, parquet or arrow (IPC file or stream).
    /// Default: by extension (.parquet/.pq, .arrow/.arrows/.ipc/.feather; anything else is CSV).
    #[arg(long, value_name = "FORMAT", allow_hyphen_values = true)]
    pub input_format: Option<String>,
    /// How timestamps with a zone become days: `utc`, or an offset such as +05:30. Needed for
    /// zoned Parquet or Arrow timestamps; a CSV timestamp with an offset is otherwise taken on
    /// the day written, and naive ones always are.
    #[arg(long, value_name = "ZONE", allow_hyphen_values = true)]
    pub time_zone: Option<String>,
    /// The CSV field delimiter: one character, or \t for a tab (default ,).
    #[arg(long, value_name = "CHAR", allow_hyphen_values = true)]
    pub delimiter: Option<String>,
    /// The output's format: csv (default), json, ndjson or parquet for a table; json for a
    /// report.
    #[arg(long, value_name = "FORMAT", allow_hyphen_values = true)]
    pub format: Option<String>,
    /// Write the output to this file instead of standard output.
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub output: Option<String>,
}

/// The flags of every subcommand that reads a transaction log.
#[derive(Debug, Args)]
pub struct LogFlags {
    /// The log's customer column (default customer_id).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub customer_col: Option<String>,
    /// The log's date column (default date).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub date_col: Option<String>,
    /// The log's amount column (default amount).
    #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
    pub amount_col: Option<String>,
    /// The form of a CSV log's dates, in chrono's strftime syntax (e.g. %d/%m/%Y, or
    /// "%Y-%m-%d %H:%M:%S %z"). Default: YYYY-MM-DD, or a timestamp YYYY-MM-DDTHH:MM:SS with an
    /// optional offset, on the day written.
    #[arg(long, value_name = "FORMAT", allow_hyphen_values = true)]
    pub date_format: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Per-customer summaries (frequency, recency, T, monetary value) of a transaction log.
    #[command(after_help = concat!(
        "The log has at least customer_id,date,amount (other columns ignored; --customer-col, \
         --date-col and --amount-col name others); an optional kind column marks each row purchase or return, returns netted against the latest purchase day \
         at or before them. Output: customer_id,frequency,recency,T,monetary_value (then \
         holdout_frequency,holdout_monetary_value with --holdout-end), one row per customer in \
         the order customers first appear.\n\n",
        "Examples:\n",
        "  clv summarize --transactions orders.csv --end 1997-09-30 --unit weeks\n",
        "  clv summarize --transactions orders.parquet --end 1997-09-30 --holdout-end 1998-06-30\n",
        "  zcat orders.csv.gz | clv summarize --transactions - --end 1997-09-30\n",
        "  clv summarize --transactions orders.tsv --delimiter '\\t' --customer-col client \\\n",
        "      --date-col ordered_at --date-format '%d/%m/%Y' --end 1997-09-30"
    ))]
    Summarize {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The last day of the calibration period (YYYY-MM-DD, included).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        end: Option<String>,
        /// The time unit of recency and T: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// The last day of a holdout period after --end: adds the holdout columns.
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        holdout_end: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// One segment per customer of a summary table: RFM, ABC, lifecycle or k-means.
    #[command(after_help = concat!(
        "The summary has customer_id,frequency,recency,T,monetary_value (durations in --unit). \
         Output: customer_id,segment (plus recency_score,frequency_score,monetary_score for rfm) \
         in input order; a table of customers and spend per segment goes to stderr.\n\n",
        "Examples:\n",
        "  clv segment --summary summary.csv --method rfm\n",
        "  clv segment --summary summary.csv --method kmeans --k 5 --seed 7\n",
        "  clv segment --summary summary.csv --method rfm --consents consents.csv \
         --purpose marketing_contact --consent-date 1998-06-30"
    ))]
    Segment {
        /// The summary table.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        summary: Option<String>,
        /// rfm, abc, lifecycle or kmeans.
        #[arg(
            long,
            value_name = "METHOD",
            required = true,
            allow_hyphen_values = true
        )]
        method: Option<String>,
        /// The number of k-means clusters (default 4).
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        k: Option<String>,
        /// The time unit of the summary's durations: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// The k-means seed (default 0).
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// A consent file (customer_id,purpose,given[,withdrawn]): write only the customers whose
        /// consent to --purpose covers --consent-date (the segments are learnt on everyone).
        #[arg(long, value_name = "FILE", allow_hyphen_values = true, requires_all = ["purpose", "consent_date"])]
        consents: Option<String>,
        /// The purpose the output is for, e.g. marketing_contact or profiling (with --consents).
        #[arg(
            long,
            value_name = "P",
            allow_hyphen_values = true,
            requires = "consents"
        )]
        purpose: Option<String>,
        /// The day consent is judged on (YYYY-MM-DD, with --consents).
        #[arg(
            long,
            value_name = "DATE",
            allow_hyphen_values = true,
            requires = "consents"
        )]
        consent_date: Option<String>,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Retention, repeat rate, order value, concentration, cohorts and categories of a log, as JSON.
    #[command(after_help = concat!(
        "Examples:\n",
        "  clv kpi --transactions orders.csv --end 1997-09-30\n",
        "  clv kpi --transactions orders.csv --end 1997-09-30 --period-days 30"
    ))]
    Kpi {
        /// The transaction log. In a CSV log, optional `category` and `sku` columns (an empty cell
        /// is none) add each category's buyers, repeat rate and spend share in the period.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The last day included (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        end: Option<String>,
        /// Days in each KPI period (default 91).
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        period_days: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Applies a loyalty programme (JSON rules) to a log: each customer's tier and points.
    #[command(after_help = concat!(
        "Output: customer_id,tier,since,qualifying_value,to_next_tier,points_balance, one row per \
         customer in the order customers first appear.\n\n",
        "Example:\n",
        "  clv tiers --transactions orders.csv --rules examples/loyalty_rules.json --as-of 1997-09-30"
    ))]
    Tiers {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The programme, as JSON (see examples/loyalty_rules.json).
        #[arg(
            long,
            value_name = "RULES.json",
            required = true,
            allow_hyphen_values = true
        )]
        rules: Option<String>,
        /// The day the tiers are computed on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        as_of: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Fits a model and prints its parameters, standard errors and fit report as JSON.
    #[command(after_help = concat!(
        "bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd and gamma-gamma read a summary table \
         (customer_id,frequency,recency,T[,monetary_value][,weights]); bg-bb reads --summary \
         with frequency,recency,n_periods[,weights]; sbg and bdw read --survival with \
         cohort,period,alive.\n\n",
        "Examples:\n",
        "  clv fit --summary summary.csv --model pareto-nbd\n",
        "  clv fit --summary donations.csv --model bg-bb\n",
        "  clv fit --summary summary.csv --model bg-nbd --bootstrap 200 --seed 7\n",
        "  clv fit --summary summary.csv --model pareto-nbd --covariates attributes.csv \\\n",
        "      --dropout-covariates channel --penalty 0.1\n",
        "  clv fit --survival cohorts.csv --model sbg --periods 7"
    ))]
    Fit {
        /// bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd, gamma-gamma, bg-bb, sbg or bdw.
        #[arg(
            long,
            value_name = "MODEL",
            required = true,
            allow_hyphen_values = true
        )]
        model: Option<String>,
        /// The summary table (continuous models, gamma-gamma and bg-bb).
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        summary: Option<String>,
        /// The survival counts (sbg and bdw).
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        survival: Option<String>,
        /// An L2 penalty on the parameters, or on the coefficients with --covariates (0 to 1e6;
        /// default 0).
        #[arg(long, value_name = "L", allow_hyphen_values = true)]
        penalty: Option<String>,
        /// Add Wald intervals of the parameters at this confidence level (e.g. 0.9; on the log
        /// scale) to the JSON, for bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd and gamma-gamma.
        #[arg(long, value_name = "LEVEL", allow_hyphen_values = true)]
        interval: Option<String>,
        /// Refit the model N times on the customers resampled with replacement and add the
        /// distribution of each parameter (mean, standard deviation, percentile interval at
        /// --interval or 0.9) to the JSON, for bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd and
        /// gamma-gamma.
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        bootstrap: Option<String>,
        /// The seed of --bootstrap (default 0): the same seed gives the same refits.
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// The periods to fit and project (sbg and bdw).
        #[arg(long, value_name = "K", allow_hyphen_values = true)]
        periods: Option<String>,
        #[command(flatten)]
        covariates: CovariateFlags,
        /// The time unit of the summary's recency and T: weeks (default) or days. It is saved
        /// with the fitted model.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Per-customer P(alive), expected purchases, DERT and (with spends) expected spend and CLV.
    #[command(after_help = concat!(
        "Output: customer_id,p_alive,expected_purchases,dert[,expected_spend,clv] in input \
         order. The summary's durations are the time unit of --horizon and --discount.\n\n",
        "Examples:\n",
        "  clv predict --summary summary.csv --model bg-nbd --horizon 39 --margin 0.3\n",
        "  clv fit --summary summary.csv --model bg-nbd > bg-nbd.json\n",
        "  clv predict --summary summary.csv --model bg-nbd --horizon 39 --params bg-nbd.json\n",
        "  clv predict --summary summary.csv --model pareto-nbd --horizon 39 --interval 0.9 \
         --method bootstrap --seed 7\n",
        "  clv predict --summary summary.csv --model pareto-nbd --horizon 39 --covariates \
         attributes.csv"
    ))]
    Predict {
        /// The summary table.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        summary: Option<String>,
        /// bg-nbd, mbg-nbd, pareto-nbd or ggom-nbd.
        #[arg(
            long,
            value_name = "MODEL",
            required = true,
            allow_hyphen_values = true
        )]
        model: Option<String>,
        /// The horizon of expected purchases, in the summary's time unit.
        #[arg(long, value_name = "H", required = true, allow_hyphen_values = true)]
        horizon: Option<String>,
        /// The time unit of the summary's recency and T, and of --horizon and --discount: weeks
        /// (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// A continuous discount rate per time unit (default: 10% a year, ln(1.1) × unit days /
        /// 365.25).
        #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
        discount: Option<String>,
        /// The margin on spend (above 0, up to 1; default 1).
        #[arg(long, value_name = "M", allow_hyphen_values = true)]
        margin: Option<String>,
        /// Parameters saved by `clv fit` (instead of fitting); their time unit must be --unit.
        #[arg(long, value_name = "FILE.json", allow_hyphen_values = true)]
        params: Option<String>,
        /// Add intervals at this confidence level (e.g. 0.9) after each predicted column
        /// (p_alive, expected_purchases, dert, expected_spend, clv): columns <column>_lower and
        /// <column>_upper, from the uncertainty of the fitted parameters (see --method).
        #[arg(long, value_name = "LEVEL", allow_hyphen_values = true)]
        interval: Option<String>,
        /// How --interval is computed: delta (default; the delta method from the parameters'
        /// covariance, on the logit scale for P(alive) and the log scale otherwise) or bootstrap
        /// (percentiles over refits of both models on the customers resampled with replacement).
        #[arg(long, value_name = "METHOD", allow_hyphen_values = true)]
        method: Option<String>,
        /// The refits of --method bootstrap (default 200).
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        bootstrap: Option<String>,
        /// The seed of --method bootstrap (default 0): the same seed gives the same intervals.
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// Add the customer's own predictive interval of purchases over the horizon at this
        /// probability (e.g. 0.9): columns purchases_lower and purchases_upper, the quantiles
        /// of the number of purchases at (1 - p)/2 and (1 + p)/2, parameters taken as known.
        #[arg(long, value_name = "P", allow_hyphen_values = true)]
        purchase_interval: Option<String>,
        /// The spend model: auto (default: Gamma-Gamma, or the population mean spend with a note
        /// when Gamma-Gamma cannot be fitted), gamma-gamma (an error when it cannot), mean, or
        /// none (no spend and CLV columns).
        #[arg(long, value_name = "MODEL", allow_hyphen_values = true)]
        spend: Option<String>,
        #[command(flatten)]
        covariates: CovariateFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// The customer-equity report of a log, as JSON.
    #[command(after_help = concat!(
        "Example:\n",
        "  clv report --transactions orders.csv --end 1997-09-30 --margin 0.3 --model pareto-nbd\n",
        "  clv report --transactions orders.csv --end 1997-09-30 --consents consents.csv \
         --purpose marketing_contact"
    ))]
    Report {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The valuation day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        end: Option<String>,
        /// The time unit of the models: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// bg-nbd (default), mbg-nbd, pareto-nbd or ggom-nbd.
        #[arg(long, value_name = "MODEL", allow_hyphen_values = true)]
        model: Option<String>,
        /// The margin on spend (above 0, up to 1; default 1).
        #[arg(long, value_name = "M", allow_hyphen_values = true)]
        margin: Option<String>,
        /// A continuous discount rate per time unit (default: 10% a year, ln(1.1) × unit days /
        /// 365.25).
        #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
        discount: Option<String>,
        /// Add intervals at this confidence level (e.g. 0.9) of equity, of each group's equity,
        /// of value at risk and of the base's expected purchases.
        #[arg(long, value_name = "LEVEL", allow_hyphen_values = true)]
        interval: Option<String>,
        /// How --interval is computed: delta (default), parametric-bootstrap or bootstrap
        /// (refits on the customers resampled with replacement).
        #[arg(long, value_name = "METHOD", allow_hyphen_values = true)]
        method: Option<String>,
        /// The draws of the bootstrap methods (default 200).
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        bootstrap: Option<String>,
        /// The seed of the bootstrap methods (default 0).
        #[arg(long, value_name = "S", allow_hyphen_values = true)]
        seed: Option<String>,
        /// A consent file (customer_id,purpose,given[,withdrawn]): list only the customers whose
        /// consent to --purpose covers --end (`consent` says how many were left out; the totals
        /// stay the whole base's).
        #[arg(
            long,
            value_name = "FILE",
            allow_hyphen_values = true,
            requires = "purpose"
        )]
        consents: Option<String>,
        /// The previous review date (YYYY-MM-DD, before --end): adds `since_last_review`, the
        /// equity bridge from it, the biggest migrations and the customers gained and lost.
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        previous_review: Option<String>,
        /// The purpose the report is for, e.g. marketing_contact or profiling (with --consents).
        #[arg(
            long,
            value_name = "P",
            allow_hyphen_values = true,
            requires = "consents"
        )]
        purpose: Option<String>,
        /// A referral file (referrer,referred,date[,channel]): each customer's referrals in the
        /// year to --end and their value (the CLV of the customers they brought) beside the CLV.
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        referrals: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Attributes against behaviour: correlations, group means and tests, segment portraits.
    #[command(after_help = concat!(
        "Fits the model and Gamma-Gamma on the summary (as predict does) to value each customer, \
         then sets each attribute against frequency, mean spend (customers with a repeat \
         purchase), P(alive) and CLV: Pearson's r with its Fisher-z interval and Spearman's rho \
         for a numeric attribute; level means with t intervals, the ANOVA F test with eta \
         squared, Welch's F test and Kruskal-Wallis for a categorical one. With --segments, \
         each attribute's quartiles or level shares per segment. The attribute file's first \
         column is the customer id; a column is numeric when every non-empty cell is a number; \
         empty cells are missing. Output: JSON.\n\n",
        "Examples:\n",
        "  clv profile --summary summary.csv --attributes customers.csv\n",
        "  clv segment --summary summary.csv --method rfm > segments.csv\n",
        "  clv profile --summary summary.csv --attributes customers.csv --segments segments.csv \\\n",
        "      --model pareto-nbd --margin 0.3 --interval 0.9"
    ))]
    Profile {
        /// The summary table (customer_id,frequency,recency,T,monetary_value).
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        summary: Option<String>,
        /// The attributes: a header row, the customer id first, one column per attribute.
        #[arg(
            long,
            value_name = "ATTR.csv",
            required = true,
            allow_hyphen_values = true
        )]
        attributes: Option<String>,
        /// Segments as `clv segment` writes them (customer_id,segment; other columns ignored).
        #[arg(long, value_name = "SEG.csv", allow_hyphen_values = true)]
        segments: Option<String>,
        /// bg-nbd (default), mbg-nbd or pareto-nbd.
        #[arg(long, value_name = "MODEL", allow_hyphen_values = true)]
        model: Option<String>,
        /// The time unit of the summary's recency and T, and of --discount: weeks (default) or
        /// days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// The margin on spend (above 0, up to 1; default 1).
        #[arg(long, value_name = "M", allow_hyphen_values = true)]
        margin: Option<String>,
        /// A continuous discount rate per time unit (default: 10% a year, ln(1.1) × unit days /
        /// 365.25).
        #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
        discount: Option<String>,
        /// The confidence level of every interval (default 0.95).
        #[arg(long, value_name = "LEVEL", allow_hyphen_values = true)]
        interval: Option<String>,
        #[command(flatten)]
        table: TableFlags,
    },
    /// How customer equity moved between two review dates: the equity bridge, as JSON.
    #[command(after_help = concat!(
        "Lines, in order: acquired, lost, revaluation: own purchases, revaluation: model refit, \
         unwinding of discount; they sum to closing_equity - opening_equity exactly. The models \
         are fitted at --from and refitted at --to (--same-models: the --from models value both \
         dates).\n\n",
        "Examples:\n",
        "  clv bridge --transactions orders.csv --from 1997-12-31 --to 1998-03-31 --margin 0.3\n",
        "  clv bridge --transactions orders.csv --from 1997-12-31 --to 1998-03-31 --lost-after-days 180"
    ))]
    Bridge {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The opening review date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        from: Option<String>,
        /// The closing review date (YYYY-MM-DD), after --from.
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        to: Option<String>,
        /// The time unit of the models: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// bg-nbd (default), mbg-nbd, pareto-nbd or ggom-nbd.
        #[arg(long, value_name = "MODEL", allow_hyphen_values = true)]
        model: Option<String>,
        /// The margin on spend (above 0, up to 1; default 1).
        #[arg(long, value_name = "M", allow_hyphen_values = true)]
        margin: Option<String>,
        /// A continuous discount rate per time unit (default: 10% a year, ln(1.1) × unit days /
        /// 365.25).
        #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
        discount: Option<String>,
        /// Customers count as lost when their P(alive) at --to is below P (default 0.5).
        #[arg(long, value_name = "P", allow_hyphen_values = true)]
        lost_below: Option<String>,
        /// Customers count as lost when they have not bought in the N days to --to.
        #[arg(long, value_name = "N", allow_hyphen_values = true)]
        lost_after_days: Option<String>,
        /// Value both dates with the models fitted at --from (no refit line).
        #[arg(long, num_args = 0, default_missing_value = "true")]
        same_models: Option<String>,
        /// A referral file (referrer,referred,date[,channel]): its events are checked against
        /// the log, and `referrals` gives the closing report's referral totals.
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        referrals: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Holdout validation: fits on a calibration period, compares with the holdout, as JSON.
    #[command(after_help = concat!(
        "Example:\n",
        "  clv validate --transactions orders.csv --calibration-end 1997-09-30 --end 1998-06-30 \
         --unit weeks --model bg-nbd,pareto-nbd"
    ))]
    Validate {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The last day of the calibration period (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        calibration_end: Option<String>,
        /// The last day of the holdout (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        end: Option<String>,
        /// The time unit of the models: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// One or more of bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd, separated by commas.
        #[arg(
            long,
            value_name = "M[,M...]",
            required = true,
            allow_hyphen_values = true
        )]
        model: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// SVG charts: model vs actual, heat maps, a customer's P(alive), CLV and equity.
    #[command(after_help = concat!(
        "The model is fitted on the log's summaries at --calibration-end; calibration-holdout and \
         the tracking charts compare with the holdout up to --end. Charts: period-transactions, \
         calibration-holdout, tracking-cumulative, tracking-incremental, p-alive-heatmap, \
         expected-purchases-heatmap, p-alive-history (--customer), clv-distribution, equity \
         (--by asset-class, rfm, abc, or tier with --rules).\n\n",
        "Examples:\n",
        "  clv plot --transactions orders.csv --calibration-end 1997-09-30 --end 1998-06-30 \\\n",
        "      --chart tracking-cumulative --output tracking.svg\n",
        "  clv plot --transactions orders.csv --calibration-end 1997-09-30 --chart p-alive-history \\\n",
        "      --customer 1516 --output customer.svg"
    ))]
    Plot {
        /// The transaction log.
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The chart (see below).
        #[arg(long, value_name = "KIND", required = true, allow_hyphen_values = true)]
        chart: Option<String>,
        /// The last day of the calibration period, where the model is fitted (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        calibration_end: Option<String>,
        /// The last day of the holdout (for calibration-holdout and the tracking charts).
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        end: Option<String>,
        /// The time unit of the model: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// bg-nbd (default), mbg-nbd, pareto-nbd or ggom-nbd.
        #[arg(long, value_name = "MODEL", allow_hyphen_values = true)]
        model: Option<String>,
        /// The customer of p-alive-history.
        #[arg(long, value_name = "ID", allow_hyphen_values = true)]
        customer: Option<String>,
        /// The groups of the equity chart: asset-class (default), rfm, abc or tier.
        #[arg(long, value_name = "GROUPS", allow_hyphen_values = true)]
        by: Option<String>,
        /// The loyalty programme (JSON) for --by tier.
        #[arg(long, value_name = "RULES.json", allow_hyphen_values = true)]
        rules: Option<String>,
        /// The horizon of expected purchases and CLV, in --unit (default 52 weeks).
        #[arg(long, value_name = "H", allow_hyphen_values = true)]
        horizon: Option<String>,
        /// The margin on spend for CLV (default 1).
        #[arg(long, value_name = "M", allow_hyphen_values = true)]
        margin: Option<String>,
        /// A continuous discount rate per time unit (default: 10% a year).
        #[arg(long, value_name = "RATE", allow_hyphen_values = true)]
        discount: Option<String>,
        #[command(flatten)]
        log: LogFlags,
        #[command(flatten)]
        table: TableFlags,
    },
    /// Replaces every customer id of a CSV log by its keyed pseudonym (HMAC-SHA-256).
    #[command(after_help = concat!(
        "Writes the same log (header, other columns and row order kept) with each customer id \
         replaced by 64 hex digits: the same id gives the same pseudonym under the same key, \
         another key unrelated ones, and without the key no pseudonym leads back to its id. \
         Every other subcommand runs unchanged on the result. The key is the key file's bytes, \
         one trailing line end removed, at least 32 bytes; keep it apart from the output. The \
         key holder maps pseudonyms back by pseudonymising the ids they hold \
         (customer_assets::Pseudonymizer::reidentifier).\n\n",
        "Examples:\n",
        "  openssl rand -hex 32 > key\n",
        "  clv pseudonymize --transactions orders.csv --key-file key --output orders_pseudo.csv\n",
        "  clv pseudonymize --transactions orders.tsv --delimiter '\\t' --customer-col client \\\n",
        "      --key-file key > orders_pseudo.tsv"
    ))]
    Pseudonymize {
        /// The transaction log (CSV).
        #[arg(long, value_name = "FILE", required = true, allow_hyphen_values = true)]
        transactions: Option<String>,
        /// The file holding the secret key (at least 32 bytes after one trailing line end is
        /// removed).
        #[arg(long, value_name = "KEY", required = true, allow_hyphen_values = true)]
        key_file: Option<String>,
        /// The log's customer column (default customer_id).
        #[arg(long, value_name = "NAME", allow_hyphen_values = true)]
        customer_col: Option<String>,
        /// The CSV field delimiter: one character, or \t for a tab (default ,); the output
        /// keeps it.
        #[arg(long, value_name = "CHAR", allow_hyphen_values = true)]
        delimiter: Option<String>,
        /// Write the pseudonymised log to this file instead of standard output.
        #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
        output: Option<String>,
    },
    /// Prints the SQL query that computes `summarize`'s columns on a table, in an engine's dialect.
    #[command(after_help = concat!(
        "Example:\n",
        "  clv sql --dialect duckdb --table orders --end 1997-09-30 --unit weeks"
    ))]
    Sql {
        /// datafusion, spark, duckdb or postgres.
        #[arg(
            long,
            value_name = "DIALECT",
            required = true,
            allow_hyphen_values = true
        )]
        dialect: Option<String>,
        /// The table.
        #[arg(long, value_name = "T", required = true, allow_hyphen_values = true)]
        table: Option<String>,
        /// The customer column (default customer_id).
        #[arg(long, value_name = "C", allow_hyphen_values = true)]
        customer_col: Option<String>,
        /// The date column (default date).
        #[arg(long, value_name = "D", allow_hyphen_values = true)]
        date_col: Option<String>,
        /// The amount column (default amount).
        #[arg(long, value_name = "A", allow_hyphen_values = true)]
        amount_col: Option<String>,
        /// A kind column: rows of kind `return` are returns.
        #[arg(long, value_name = "K", allow_hyphen_values = true)]
        kind_col: Option<String>,
        /// What returns do: net (default) or ignore; needs --kind-col.
        #[arg(long, value_name = "POLICY", allow_hyphen_values = true)]
        returns: Option<String>,
        /// The last day of the calibration period (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", required = true, allow_hyphen_values = true)]
        end: Option<String>,
        /// The time unit of recency and T: weeks (default) or days.
        #[arg(long, value_name = "UNIT", allow_hyphen_values = true)]
        unit: Option<String>,
        /// The last day of a holdout period after --end.
        #[arg(long, value_name = "DATE", allow_hyphen_values = true)]
        holdout_end: Option<String>,
    },
}

/// What the command line asks for.
pub enum Parsed {
    /// Run `subcommand` with these `--flag value` pairs, as given.
    Run {
        /// The subcommand's name.
        subcommand: String,
        /// Its flags, `--name value` pairs.
        args: Vec<String>,
        /// When to show progress.
        progress: crate::progress::Mode,
    },
    /// Print this (help or version) to stdout and stop.
    Print(String),
    /// The command line is wrong: the message, and the exit code.
    Usage(String, u8),
}

/// Parses the command line (without the program name).
pub fn parse(args: impl IntoIterator<Item = String>) -> Parsed {
    let args: Vec<String> = args.into_iter().collect();
    if args.is_empty() {
        let help = Cli::command().render_help().to_string();
        return Parsed::Usage(format!("usage: clv <subcommand> [flags]\n\n{help}"), 2);
    }
    let command = Cli::command();
    let matches = match command.try_get_matches_from(std::iter::once("clv".to_string()).chain(args))
    {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => Parsed::Print(text),
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => Parsed::Usage(text, 2),
                _ => Parsed::Usage(text.trim_start_matches("error: ").trim_end().to_string(), 1),
            };
        }
    };
    // The derive's types are the definitions; its values are read back as the pairs given.
    if let Err(e) = Cli::from_arg_matches(&matches) {
        return Parsed::Usage(e.to_string(), 1);
    }
    let Some((subcommand, sub)) = matches.subcommand() else {
        return Parsed::Usage("usage: clv <subcommand> [flags]".to_string(), 2);
    };
    let flag = |name: &str| sub.get_flag(name) || matches.get_flag(name);
    let progress = if flag("quiet") {
        crate::progress::Mode::Never
    } else if flag("progress") {
        crate::progress::Mode::Always
    } else {
        crate::progress::Mode::Auto
    };
    let mut pairs = Vec::new();
    for id in sub.ids() {
        if let Ok(Some(value)) = sub.try_get_one::<String>(id.as_str()) {
            pairs.push(format!("--{}", id.as_str().replace('_', "-")));
            pairs.push(value.clone());
        }
    }
    Parsed::Run {
        subcommand: subcommand.to_string(),
        args: pairs,
        progress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn flags_come_back_as_pairs() {
        let args = [
            "fit",
            "--summary",
            "s.csv",
            "--model=bg-nbd",
            "--penalty",
            "-1",
        ]
        .map(String::from);
        let Parsed::Run {
            subcommand, args, ..
        } = parse(args)
        else {
            panic!("not parsed");
        };
        assert_eq!(subcommand, "fit");
        let mut pairs: Vec<(String, String)> = args
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("--model", "bg-nbd"),
                ("--penalty", "-1"),
                ("--summary", "s.csv")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}

/// Time-invariant covariates from an attribute file (`clv fit`, `clv predict`).
#[derive(Args, Debug)]
pub struct CovariateFlags {
    /// An attribute file (customer id first, then one column per attribute: numeric, or
    /// categorical as dummies against the most frequent level) whose covariates enter the model
    /// (pareto-nbd, bg-nbd, mbg-nbd, ggom-nbd; gamma-gamma on its scale).
    #[arg(long, value_name = "ATTR.csv", allow_hyphen_values = true)]
    pub covariates: Option<String>,
    /// The attributes on the purchase process, comma-separated (default all; `none` for none).
    #[arg(long, value_name = "A,B", allow_hyphen_values = true)]
    pub purchase_covariates: Option<String>,
    /// The attributes on the dropout process, comma-separated (default all; `none` for none).
    #[arg(long, value_name = "A,B", allow_hyphen_values = true)]
    pub dropout_covariates: Option<String>,
    /// Attributes with one coefficient for both processes (each must enter both).
    #[arg(long, value_name = "A,B", allow_hyphen_values = true)]
    pub constrain: Option<String>,
}
