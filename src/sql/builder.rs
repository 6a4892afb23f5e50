//! [`SummarySql`]: the per-customer summary query for a table of transactions.

use std::fmt::Write;

use rust_decimal::Decimal;

use crate::sql::dialect::{date_literal, Dialect};
use crate::sql::error::SqlError;
use crate::summary::{ReturnPolicy, SummaryOptions};

/// Writes the SQL query that summarises a table of transactions per customer exactly as
/// [`SummaryAccumulator::finish`](crate::SummaryAccumulator::finish) does at the day grain
/// ([`Grain::Day`](crate::Grain::Day)). See the [module documentation](crate::sql) for the
/// output columns and what each engine must provide.
#[derive(Debug, Clone, PartialEq)]
pub struct SummarySql {
    table: String,
    customer: String,
    date: String,
    amount: String,
    kind: Option<KindColumn>,
    options: SummaryOptions,
    returns: ReturnPolicy,
}

/// The column that tells purchases from returns, and its two values.
#[derive(Debug, Clone, PartialEq)]
struct KindColumn {
    name: String,
    purchase: String,
    ret: String,
}

/// The names of a query's columns (quoted) and the literals it compares with.
struct Names {
    table: String,
    customer: String,
    date: String,
    amount: String,
    /// The kind column and its purchase and return literals, when returns are read.
    kind: Option<(String, String, String)>,
}

impl SummarySql {
    /// The scale (decimal places) of the `monetary_value` columns: the exact mean rounded half
    /// to even, as `Decimal::round_dp` rounds.
    pub const MONETARY_SCALE: u32 = 6;

    /// The query over `table` (a dot separates the parts of a qualified name, such as
    /// `sales.transactions`), with columns `customer_id`, `date` and `amount`, every row a
    /// purchase, summarised by `options`.
    pub fn new(table: &str, options: SummaryOptions) -> Self {
        SummarySql {
            table: table.to_string(),
            customer: "customer_id".to_string(),
            date: "date".to_string(),
            amount: "amount".to_string(),
            kind: None,
            options,
            returns: ReturnPolicy::NetAgainstPurchase,
        }
    }
    /// The customer column (any type the engine groups by).
    pub fn customer_column(mut self, name: &str) -> Self {
        self.customer = name.to_string();
        self
    }
    /// The date column: a `DATE`, a timestamp without time zone (its day is taken), or text
    /// the engine casts to a date.
    pub fn date_column(mut self, name: &str) -> Self {
        self.date = name.to_string();
        self
    }
    /// The amount column: a `DECIMAL` (with a floating-point column the sums are not exact),
    /// not negative (a return's amount is positive, as in
    /// [`Transaction`](crate::Transaction)).
    pub fn amount_column(mut self, name: &str) -> Self {
        self.amount = name.to_string();
        self
    }
    /// Reads purchases and returns from the text column `name`: rows where it equals
    /// `purchase` are purchases, rows where it equals `ret` are returns; any other row (another
    /// value, or NULL) is not read.
    pub fn kind_column(mut self, name: &str, purchase: &str, ret: &str) -> Self {
        self.kind = Some(KindColumn {
            name: name.to_string(),
            purchase: purchase.to_string(),
            ret: ret.to_string(),
        });
        self
    }
    /// What returns do (the default: [`ReturnPolicy::NetAgainstPurchase`]); only matters with a
    /// [`kind_column`](Self::kind_column).
    pub fn returns(mut self, policy: ReturnPolicy) -> Self {
        self.returns = policy;
        self
    }

    /// The same query over another table (for an engine helper that names its input itself).
    pub fn table(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }

    /// The table read, as given.
    pub fn table_name(&self) -> &str {
        &self.table
    }
    /// The customer column's name.
    pub fn customer_column_name(&self) -> &str {
        &self.customer
    }
    /// The date column's name.
    pub fn date_column_name(&self) -> &str {
        &self.date
    }
    /// The amount column's name.
    pub fn amount_column_name(&self) -> &str {
        &self.amount
    }
    /// The kind column's name and its purchase and return values, when returns are read.
    pub fn kind_column_name(&self) -> Option<(&str, &str, &str)> {
        self.kind
            .as_ref()
            .map(|k| (k.name.as_str(), k.purchase.as_str(), k.ret.as_str()))
    }
    /// The summary options (as-of date, unit, holdout).
    pub fn options(&self) -> &SummaryOptions {
        &self.options
    }
    /// What returns do.
    pub fn return_policy(&self) -> ReturnPolicy {
        self.returns
    }

    /// Whether the query nets returns (a kind column and [`ReturnPolicy::NetAgainstPurchase`]).
    pub fn nets_returns(&self) -> bool {
        self.kind.is_some() && self.returns == ReturnPolicy::NetAgainstPurchase
    }

    /// The names of the query's output columns, in order.
    pub fn columns(&self) -> Vec<&'static str> {
        let holdout = self.options.get_holdout_end().is_some();
        let mut columns = vec!["customer_id", "frequency", "recency", "T", "monetary_value"];
        if holdout {
            columns.extend(["holdout_frequency", "holdout_monetary_value"]);
        }
        columns.extend([
            "repeat_spend",
            "orders",
            "total_spend",
            "first_purchase",
            "last_purchase",
        ]);
        if holdout {
            columns.push("holdout_spend");
        }
        if self.nets_returns() {
            columns.push("return_without_purchase");
        }
        columns
    }

    /// The quoted names and literals, checked.
    fn names(&self, dialect: Dialect) -> Result<Names, SqlError> {
        let table = self
            .table
            .split('.')
            .map(|part| dialect.quote("table", part))
            .collect::<Result<Vec<_>, _>>()?
            .join(".");
        let kind = match &self.kind {
            Some(k) => {
                if k.purchase == k.ret {
                    return Err(SqlError::SameKindValues(k.purchase.clone()));
                }
                Some((
                    dialect.quote("kind column", &k.name)?,
                    literal("purchase kind", &k.purchase)?,
                    literal("return kind", &k.ret)?,
                ))
            }
            None => None,
        };
        Ok(Names {
            table,
            customer: dialect.quote("customer column", &self.customer)?,
            date: dialect.quote("date column", &self.date)?,
            amount: dialect.quote("amount column", &self.amount)?,
            kind,
        })
    }

    /// The query in `dialect`.
    ///
    /// # Errors
    ///
    /// [`SqlError::EmptyIdentifier`], [`SqlError::UnsafeIdentifier`] or
    /// [`SqlError::IdentifierTooLong`] for a table or column name that cannot be quoted safely;
    /// [`SqlError::UnsafeValue`] or [`SqlError::SameKindValues`] for kind values that cannot be
    /// told apart safely; [`SqlError::DateOutOfRange`] for an as-of date or holdout end outside
    /// the years 1 to 9999; [`SqlError::HoldoutBeforeAsOf`] for a holdout end on or before the
    /// as-of date.
    pub fn to_sql(&self, dialect: Dialect) -> Result<String, SqlError> {
        let n = self.names(dialect)?;
        let as_of = self.options.as_of();
        let as_of_lit = date_literal("as-of date", as_of)?;
        let holdout = match self.options.get_holdout_end() {
            Some(h) if h <= as_of => {
                return Err(SqlError::HoldoutBeforeAsOf {
                    as_of,
                    holdout_end: h,
                })
            }
            Some(h) => Some(date_literal("holdout end", h)?),
            None => None,
        };
        let end_lit = holdout.as_deref().unwrap_or(&as_of_lit);
        let nets = self.nets_returns();
        let (table, customer, date, amount) = (&n.table, &n.customer, &n.date, &n.amount);
        // `write!` to a String cannot fail.
        let mut q = String::with_capacity(4096);
        q.push_str("WITH\n");
        // 1. The rows read: purchases (and returns), up to the last day looked at.
        let (is_ret, kinds) = match &n.kind {
            Some((k, purchase, ret)) if nets => (
                format!("CASE WHEN {k} = {ret} THEN 1 ELSE 0 END"),
                format!(" AND {k} IN ({purchase}, {ret})"),
            ),
            Some((k, purchase, _)) => ("0".to_string(), format!(" AND {k} = {purchase}")),
            None => ("0".to_string(), String::new()),
        };
        let _ = write!(
            q,
            "s_rows AS (\n  SELECT {customer} AS cid, CAST({date} AS DATE) AS dt, {amount} AS amt, {is_ret} AS is_ret\n  FROM {table}\n  WHERE CAST({date} AS DATE) <= {end_lit}{kinds}\n),\n"
        );
        // 2. One row per customer and day: the day's purchases (and returns).
        let _ = write!(
            q,
            "s_days AS (\n  SELECT cid, dt, CASE WHEN dt <= {as_of_lit} THEN 0 ELSE 1 END AS in_holdout,\n    COUNT(CASE WHEN is_ret = 0 THEN 1 END) AS orders,\n    COALESCE(SUM(CASE WHEN is_ret = 0 THEN amt END), 0) AS gross,\n    COALESCE(SUM(CASE WHEN is_ret = 1 THEN amt END), 0) AS refunded\n  FROM s_rows\n  GROUP BY cid, dt\n),\n"
        );
        if nets {
            // 3. A day with purchases is a purchase period; a day with only returns belongs to
            // the latest period at or before it in the same part of the window (calibration or
            // holdout), or to none (period_dt NULL).
            q.push_str("s_marked AS (\n  SELECT cid, dt, in_holdout, orders, gross, refunded,\n    MAX(CASE WHEN orders > 0 THEN dt END) OVER (PARTITION BY cid, in_holdout ORDER BY dt ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS period_dt\n  FROM s_days\n),\n");
            // 4. Each period netted; a fully refunded one no longer counts as a purchase.
            q.push_str("s_netted AS (\n  SELECT cid, in_holdout, period_dt, MIN(dt) AS dt, SUM(orders) AS orders,\n    SUM(gross) - SUM(refunded) AS net, SUM(refunded) AS refunded\n  FROM s_marked\n  GROUP BY cid, in_holdout, period_dt\n),\n");
            q.push_str("s_periods AS (\n  SELECT cid, in_holdout, period_dt, dt, orders, net,\n    CASE WHEN period_dt IS NOT NULL AND (refunded = 0 OR net > 0) THEN 1 ELSE 0 END AS counted\n  FROM s_netted\n),\n");
        } else {
            q.push_str("s_periods AS (\n  SELECT cid, in_holdout, dt AS period_dt, dt, orders, gross AS net, 1 AS counted\n  FROM s_days\n),\n");
        }
        // 5. The first counted calibration period, which is not a repeat purchase: a grouped
        // MIN joined back, not a window over each customer (engines buffer a whole window
        // partition, and DataFusion does so outside its memory pool).
        q.push_str("s_first AS (\n  SELECT cid AS first_cid, MIN(CASE WHEN counted = 1 AND in_holdout = 0 THEN dt END) AS first_dt\n  FROM s_periods\n  GROUP BY cid\n),\n");
        q.push_str("s_firsts AS (\n  SELECT cid, in_holdout, period_dt, dt, orders, net, counted, first_dt\n  FROM s_periods JOIN s_first ON cid = first_cid\n),\n");
        // 6. One row per customer.
        q.push_str("s_customers AS (\n  SELECT cid, MIN(first_dt) AS first_dt,\n    MAX(CASE WHEN counted = 1 AND in_holdout = 0 THEN dt END) AS last_dt,\n    COUNT(CASE WHEN counted = 1 AND in_holdout = 0 THEN 1 END) AS periods,\n    COALESCE(SUM(CASE WHEN counted = 1 AND in_holdout = 0 AND dt > first_dt THEN net END), 0) AS repeat_spend,\n    COALESCE(SUM(CASE WHEN in_holdout = 0 AND period_dt IS NOT NULL THEN orders END), 0) AS orders,\n    COALESCE(SUM(CASE WHEN in_holdout = 0 AND period_dt IS NOT NULL THEN net END), 0) AS total_spend,\n    COUNT(CASE WHEN counted = 1 AND in_holdout = 1 THEN 1 END) AS h_count,\n    COALESCE(SUM(CASE WHEN in_holdout = 1 THEN net END), 0) AS h_spend,\n    MIN(CASE WHEN in_holdout = 0 AND period_dt IS NULL THEN dt END) AS unmatched\n  FROM s_firsts\n  GROUP BY cid\n),\n");
        // 7. The means to within a unit of the last place, in the engine's own division.
        let scale = Self::MONETARY_SCALE;
        let mean = |sum: &str, count: &str| {
            format!(
                "CAST(CAST({sum} AS DECIMAL(38, {})) / NULLIF({count}, 0) AS DECIMAL(38, {scale}))",
                2 * scale
            )
        };
        let _ = write!(
            q,
            "s_means AS (\n  SELECT cid, first_dt, last_dt, periods, repeat_spend, orders, total_spend, h_count, h_spend, unmatched,\n    CASE WHEN periods > 1 THEN {} ELSE 0 END AS mv0,\n    CASE WHEN h_count > 0 THEN {} ELSE 0 END AS hmv0\n  FROM s_customers\n  WHERE first_dt IS NOT NULL{}\n)\n",
            mean("repeat_spend", "periods - 1"),
            mean("h_spend", "h_count"),
            if nets { " OR unmatched IS NOT NULL" } else { "" }
        );
        // 8. The output, named as `clv summarize` names its columns.
        let double = dialect.double();
        let unit = format!("CAST('{:?}' AS {double})", self.options.unit().days());
        let span = |from: &str, to: &str| {
            format!(
                "CAST({} AS {double}) / {unit}",
                dialect.days_between(from, to)
            )
        };
        let col = |name: &'static str| dialect.quote("output column", name);
        let mut select = vec![
            format!("cid AS {}", col("customer_id")?),
            format!(
                "CAST(CASE WHEN periods > 0 THEN periods - 1 ELSE 0 END AS BIGINT) AS {}",
                col("frequency")?
            ),
            format!("{} AS {}", span("first_dt", "last_dt"), col("recency")?),
            format!("{} AS {}", span("first_dt", &as_of_lit), col("T")?),
            format!(
                "{} AS {}",
                rounded_mean("mv0", "repeat_spend", "(periods - 1)"),
                col("monetary_value")?
            ),
        ];
        if holdout.is_some() {
            select.push(format!(
                "CAST(h_count AS BIGINT) AS {}",
                col("holdout_frequency")?
            ));
            select.push(format!(
                "{} AS {}",
                rounded_mean("hmv0", "h_spend", "h_count"),
                col("holdout_monetary_value")?
            ));
        }
        select.push(format!("repeat_spend AS {}", col("repeat_spend")?));
        select.push(format!("CAST(orders AS BIGINT) AS {}", col("orders")?));
        select.push(format!("total_spend AS {}", col("total_spend")?));
        select.push(format!("first_dt AS {}", col("first_purchase")?));
        select.push(format!("last_dt AS {}", col("last_purchase")?));
        if holdout.is_some() {
            select.push(format!("h_spend AS {}", col("holdout_spend")?));
        }
        if nets {
            select.push(format!("unmatched AS {}", col("return_without_purchase")?));
        }
        let _ = write!(q, "SELECT\n  {}\nFROM s_means\n", select.join(",\n  "));
        Ok(q)
    }
}

/// The exact mean `sum / count` rounded half to even at [`SummarySql::MONETARY_SCALE`] places,
/// from `approx`, a mean within one unit of the last place (whatever the engine's division
/// rounds to): exact decimal products decide whether the true mean lies beyond a midpoint.
fn rounded_mean(approx: &str, sum: &str, count: &str) -> String {
    let scale = SummarySql::MONETARY_SCALE;
    let unit = format!("CAST('{}' AS DECIMAL(38, {scale}))", Decimal::new(1, scale));
    // approx is even in the last place when approx × 10^scale / 2 is a whole number.
    let half = 10u64.pow(scale) / 2;
    let even = format!("CAST({approx} * {half} AS DECIMAL(38, 0)) = {approx} * {half}");
    let above = format!("(2 * {approx} + {unit}) * {count}");
    let below = format!("(2 * {approx} - {unit}) * {count}");
    let twice = format!("2 * {sum}");
    format!(
        "CAST(CASE WHEN {count} <= 0 THEN 0 \
         WHEN {above} < {twice} THEN {approx} + {unit} \
         WHEN {below} > {twice} THEN {approx} - {unit} \
         WHEN {above} = {twice} AND NOT ({even}) THEN {approx} + {unit} \
         WHEN {below} = {twice} AND NOT ({even}) THEN {approx} - {unit} \
         ELSE {approx} END AS DECIMAL(38, {scale}))"
    )
}

/// `value` as a string literal, after checking no engine reads it differently.
fn literal(what: &'static str, value: &str) -> Result<String, SqlError> {
    // Spark reads backslashes in string literals as escapes; quotes would end the literal.
    if value.is_empty()
        || value
            .chars()
            .any(|c| c == '\'' || c == '\\' || c.is_control())
    {
        return Err(SqlError::UnsafeValue {
            what,
            value: value.to_string(),
        });
    }
    Ok(format!("'{value}'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeUnit;
    use chrono::NaiveDate;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn options() -> SummaryOptions {
        SummaryOptions::new(date(1997, 9, 30), TimeUnit::WEEKS)
    }

    #[test]
    fn accessors_give_back_what_was_set_and_table_renames_only_the_table() {
        let q = SummarySql::new("sales.t", options())
            .customer_column("c")
            .date_column("d")
            .amount_column("a")
            .kind_column("k", "buy", "back")
            .returns(ReturnPolicy::Ignore);
        let renamed = q.clone().table("other");
        assert_eq!(q.table_name(), "sales.t");
        assert_eq!(renamed.table_name(), "other");
        for x in [&q, &renamed] {
            assert_eq!(
                (
                    x.customer_column_name(),
                    x.date_column_name(),
                    x.amount_column_name()
                ),
                ("c", "d", "a")
            );
            assert_eq!(x.kind_column_name(), Some(("k", "buy", "back")));
            assert_eq!(x.options(), &options());
            assert_eq!(x.return_policy(), ReturnPolicy::Ignore);
            assert!(!x.nets_returns());
        }
        let sql = renamed.to_sql(Dialect::DuckDb).unwrap();
        assert!(
            sql.contains("FROM \"other\"") && !sql.contains("sales"),
            "{sql}"
        );
        assert!(SummarySql::new("t", options())
            .kind_column("k", "p", "r")
            .nets_returns());
    }

    #[test]
    fn columns_follow_clv_summarize_then_the_other_fields() {
        let plain = SummarySql::new("t", options());
        assert_eq!(
            plain.columns(),
            [
                "customer_id",
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "repeat_spend",
                "orders",
                "total_spend",
                "first_purchase",
                "last_purchase"
            ]
        );
        let full = SummarySql::new("t", options().holdout_end(date(1998, 6, 30)))
            .kind_column("k", "p", "r");
        let columns = full.columns();
        assert_eq!(
            columns[5..7],
            ["holdout_frequency", "holdout_monetary_value"]
        );
        assert_eq!(columns[12..], ["holdout_spend", "return_without_purchase"]);
        // Every column is in the query, quoted, in order.
        for d in Dialect::ALL {
            let sql = full.to_sql(d).unwrap();
            let mut at = 0;
            for c in &columns {
                let quoted = d.quote("output column", c).unwrap();
                let found = sql[at..]
                    .find(&format!("AS {quoted}"))
                    .unwrap_or_else(|| panic!("{d}: {c}"));
                at += found;
            }
        }
        let ignoring = full.returns(ReturnPolicy::Ignore);
        assert!(!ignoring.columns().contains(&"return_without_purchase"));
    }

    #[test]
    fn names_are_quoted_per_dialect_and_tables_may_be_qualified() {
        let q = SummarySql::new("db.sales log", options()).customer_column("Customer Id");
        let spark = q.to_sql(Dialect::Spark).unwrap();
        assert!(spark.contains("FROM `db`.`sales log`"), "{spark}");
        assert!(spark.contains("`Customer Id` AS cid"));
        assert!(spark.contains("datediff(last_dt, first_dt)"));
        let pg = q.to_sql(Dialect::Postgres).unwrap();
        assert!(pg.contains("FROM \"db\".\"sales log\""), "{pg}");
        assert!(pg.contains("CAST((last_dt - first_dt) AS DOUBLE PRECISION)"));
        assert!(!pg.contains("datediff"));
        assert_eq!(
            SummarySql::new("db..t", options()).to_sql(Dialect::DuckDb),
            Err(SqlError::EmptyIdentifier { what: "table" })
        );
        let injected = q.clone().date_column("d\") FROM x; DROP TABLE y; --");
        for d in Dialect::ALL {
            assert!(matches!(
                injected.to_sql(d),
                Err(SqlError::UnsafeIdentifier {
                    what: "date column",
                    character: '"',
                    ..
                })
            ));
        }
        assert!(matches!(
            q.clone().amount_column("a`b").to_sql(Dialect::DataFusion),
            Err(SqlError::UnsafeIdentifier {
                what: "amount column",
                character: '`',
                ..
            })
        ));
    }

    #[test]
    fn kind_values_must_be_plain_and_distinct() {
        let q = SummarySql::new("t", options());
        for bad in ["it's", "a\\b", "", "x\ny"] {
            assert!(matches!(
                q.clone()
                    .kind_column("k", "purchase", bad)
                    .to_sql(Dialect::Spark),
                Err(SqlError::UnsafeValue {
                    what: "return kind",
                    ..
                })
            ));
        }
        assert_eq!(
            q.clone().kind_column("k", "x", "x").to_sql(Dialect::Spark),
            Err(SqlError::SameKindValues("x".into()))
        );
        assert!(matches!(
            q.clone()
                .kind_column("k\"", "p", "r")
                .to_sql(Dialect::Spark),
            Err(SqlError::UnsafeIdentifier {
                what: "kind column",
                ..
            })
        ));
        // Netting reads both kinds and finds each return's period; ignoring reads purchases only.
        let net = q
            .clone()
            .kind_column("k", "P", "R")
            .to_sql(Dialect::DuckDb)
            .unwrap();
        assert!(net.contains("\"k\" IN ('P', 'R')") && net.contains("s_marked"));
        let ignore = q
            .kind_column("k", "P", "R")
            .returns(ReturnPolicy::Ignore)
            .to_sql(Dialect::DuckDb)
            .unwrap();
        assert!(ignore.contains("\"k\" = 'P'") && !ignore.contains("s_marked"));
    }

    #[test]
    fn dates_and_holdouts_are_checked_as_the_core_checks_them() {
        let as_of = date(1997, 9, 30);
        for h in [as_of, date(1997, 1, 1)] {
            let q = SummarySql::new("t", options().holdout_end(h));
            assert_eq!(
                q.to_sql(Dialect::DataFusion),
                Err(SqlError::HoldoutBeforeAsOf {
                    as_of,
                    holdout_end: h
                })
            );
        }
        let far = date(10_000, 1, 1);
        let q = SummarySql::new("t", options().holdout_end(far));
        assert_eq!(
            q.to_sql(Dialect::DataFusion),
            Err(SqlError::DateOutOfRange {
                what: "holdout end",
                date: far
            })
        );
        let q = SummarySql::new("t", SummaryOptions::new(far, TimeUnit::DAYS));
        assert!(matches!(
            q.to_sql(Dialect::Spark),
            Err(SqlError::DateOutOfRange {
                what: "as-of date",
                ..
            })
        ));
    }

    #[test]
    fn the_unit_is_written_as_text_that_reads_back_to_the_same_double() {
        for days in [
            1.0,
            7.0,
            1.0 / 3.0,
            0.1,
            TimeUnit::MIN_DAYS,
            TimeUnit::MAX_DAYS,
            365.25,
        ] {
            let unit = TimeUnit::custom_days(days).unwrap();
            let sql = SummarySql::new("t", SummaryOptions::new(date(2024, 1, 1), unit))
                .to_sql(Dialect::DataFusion)
                .unwrap();
            let start = sql.find("CAST('").unwrap() + 6;
            let text = &sql[start..start + sql[start..].find('\'').unwrap()];
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                days.to_bits(),
                "{text}"
            );
        }
    }
}
