//! `clv sql`: prints the per-customer summary query for a table, in an engine's dialect.
//!
//! `clv sql --dialect datafusion|spark|duckdb|postgres --table T [--customer-col C]
//! [--date-col D] [--amount-col A] [--kind-col K [--returns net|ignore]] --end YYYY-MM-DD
//! [--unit weeks|days] [--holdout-end YYYY-MM-DD]` prints the query of
//! [`customer_assets::sql::SummarySql`]: run on the table, it gives the rows of `clv summarize`
//! (and more columns) for the same log. Columns default to `customer_id`, `date`, `amount`; with
//! `--kind-col`, rows whose kind is `return` are returns (`purchase` rows are purchases).

use customer_assets::sql::{Dialect, SqlError, SummarySql};
use customer_assets::{ReturnPolicy, SummaryOptions, TimeUnit};

use super::common::{echo, print, Flags};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "dialect",
            "table",
            "customer-col",
            "date-col",
            "amount-col",
            "kind-col",
            "returns",
            "end",
            "unit",
            "holdout-end",
        ],
    )?;
    let dialect_name = flags.required("dialect")?;
    let dialect: Dialect = dialect_name.parse().map_err(|_| {
        format!(
            "--dialect: {} is not one of datafusion, spark, duckdb, postgres",
            echo(dialect_name)
        )
    })?;
    let table = flags.required("table")?;
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let mut options = SummaryOptions::new(end, unit);
    if let Some(h) = flags.optional_date("holdout-end")? {
        options = options.holdout_end(h);
    }
    let returns = match flags.get("returns") {
        None | Some("net") => ReturnPolicy::NetAgainstPurchase,
        Some("ignore") => ReturnPolicy::Ignore,
        Some(other) => {
            return Err(format!(
                "--returns: {} is not one of net, ignore",
                echo(other)
            ))
        }
    };
    if flags.get("returns").is_some() && flags.get("kind-col").is_none() {
        return Err("--returns: needs --kind-col (without it every row is a purchase)".to_string());
    }
    let mut query = SummarySql::new(table, options).returns(returns);
    if let Some(c) = flags.get("customer-col") {
        query = query.customer_column(c);
    }
    if let Some(c) = flags.get("date-col") {
        query = query.date_column(c);
    }
    if let Some(c) = flags.get("amount-col") {
        query = query.amount_column(c);
    }
    if let Some(c) = flags.get("kind-col") {
        query = query.kind_column(c, "purchase", "return");
    }
    let sql = query.to_sql(dialect).map_err(|e| {
        let flag = |what: &str| match what {
            "table" => "--table",
            "customer column" => "--customer-col",
            "date column" => "--date-col",
            "amount column" => "--amount-col",
            _ => "--kind-col",
        };
        // Names echoed from the flags are cut to 60 characters.
        match e {
            SqlError::EmptyIdentifier { what } => {
                format!(
                    "{}: the name is empty (or has an empty part between dots)",
                    flag(what)
                )
            }
            SqlError::UnsafeIdentifier {
                what,
                name,
                character,
            } => format!(
                "{}: {} holds {character:?}, which a quoted SQL name may not hold",
                flag(what),
                echo(&name)
            ),
            SqlError::IdentifierTooLong {
                what,
                name,
                bytes,
                dialect,
                max,
            } => format!(
                "{}: {} is {bytes} bytes long; {dialect} keeps only {max}",
                flag(what),
                echo(&name)
            ),
            SqlError::DateOutOfRange {
                what: "holdout end",
                ..
            } => format!("--holdout-end: {e}"),
            SqlError::DateOutOfRange { .. } => format!("--end: {e}"),
            SqlError::HoldoutBeforeAsOf { .. } => format!("--holdout-end: {e}"),
            other => format!("--kind-col: {other}"),
        }
    })?;
    print(sql.trim_end())
}
