//! The SQL dialects a summary query is written in, and what differs between them: quoting of
//! names, the floating-point type's name and the difference of two dates in days.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

use crate::sql::error::SqlError;

/// The SQL engine a query is written for.
///
/// The query is ANSI SQL (common table expressions, `CASE`, `COUNT`/`SUM`/`MIN`/`MAX`, an inner
/// join, a windowed `MAX`, `CAST`, `DATE '…'` literals); the dialects differ in how names are quoted
/// (backticks in Spark, double quotes elsewhere), the name of the double type (`DOUBLE
/// PRECISION` in PostgreSQL) and the number of days between two dates (`datediff(b, a)` in
/// Spark, `b - a` elsewhere: Spark's date difference is an interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Apache DataFusion (and Ballista); tested with DataFusion 55.
    DataFusion,
    /// Spark SQL; tested with Spark 4 (PySpark 4.3, local mode).
    Spark,
    /// DuckDB; tested with the duckdb Python package 2.0.
    DuckDb,
    /// PostgreSQL; tested with PostgreSQL 15.
    Postgres,
}

impl Dialect {
    /// Every dialect, in the order of their names in [`Dialect::from_str`].
    pub const ALL: [Dialect; 4] = [
        Dialect::DataFusion,
        Dialect::Spark,
        Dialect::DuckDb,
        Dialect::Postgres,
    ];

    /// The dialect's name: `datafusion`, `spark`, `duckdb` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DataFusion => "datafusion",
            Dialect::Spark => "spark",
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
        }
    }

    /// `name` quoted as an identifier of this dialect, after checking it can be quoted safely.
    pub(crate) fn quote(self, what: &'static str, name: &str) -> Result<String, SqlError> {
        if name.is_empty() {
            return Err(SqlError::EmptyIdentifier { what });
        }
        // Quote characters could be doubled, but engines disagree on whether they undo that;
        // refusing them (and control characters) is the one rule that is safe everywhere.
        if let Some(character) = name
            .chars()
            .find(|&c| c == '"' || c == '`' || c.is_control())
        {
            return Err(SqlError::UnsafeIdentifier {
                what,
                name: name.to_string(),
                character,
            });
        }
        // PostgreSQL truncates longer names (NAMEDATALEN - 1).
        const POSTGRES_MAX: usize = 63;
        if self == Dialect::Postgres && name.len() > POSTGRES_MAX {
            return Err(SqlError::IdentifierTooLong {
                what,
                name: name.to_string(),
                bytes: name.len(),
                dialect: self.name(),
                max: POSTGRES_MAX,
            });
        }
        Ok(match self {
            Dialect::Spark => format!("`{name}`"),
            Dialect::DataFusion | Dialect::DuckDb | Dialect::Postgres => format!("\"{name}\""),
        })
    }

    /// The name of the 64-bit floating-point type.
    pub(crate) fn double(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::DataFusion | Dialect::Spark | Dialect::DuckDb => "DOUBLE",
        }
    }

    /// The number of days from the date `from` to the date `to`, as an integer expression.
    pub(crate) fn days_between(self, from: &str, to: &str) -> String {
        match self {
            Dialect::Spark => format!("datediff({to}, {from})"),
            Dialect::DataFusion | Dialect::DuckDb | Dialect::Postgres => {
                format!("({to} - {from})")
            }
        }
    }
}

/// The ANSI literal of `date` (`DATE 'YYYY-MM-DD'`), for years 1 to 9999.
pub(crate) fn date_literal(what: &'static str, date: NaiveDate) -> Result<String, SqlError> {
    if !(1..=9999).contains(&date.year()) {
        return Err(SqlError::DateOutOfRange { what, date });
    }
    Ok(format!("DATE '{}'", date.format("%Y-%m-%d")))
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = SqlError;
    /// Reads a dialect's [`name`](Dialect::name).
    fn from_str(s: &str) -> Result<Self, SqlError> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| SqlError::UnknownDialect(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_names_per_dialect_and_refuses_what_could_escape() {
        assert_eq!(
            Dialect::Spark.quote("table", "my table").unwrap(),
            "`my table`"
        );
        assert_eq!(
            Dialect::DuckDb.quote("table", "Ünïcode").unwrap(),
            "\"Ünïcode\""
        );
        for bad in ["a\"b", "a`b", "a\nb", "a\0b"] {
            for d in Dialect::ALL {
                let err = d.quote("customer column", bad).unwrap_err();
                assert!(
                    matches!(
                        err,
                        SqlError::UnsafeIdentifier {
                            what: "customer column",
                            ..
                        }
                    ),
                    "{err}"
                );
            }
        }
        assert_eq!(
            Dialect::Postgres.quote("table", ""),
            Err(SqlError::EmptyIdentifier { what: "table" })
        );
        let long = "x".repeat(64);
        assert!(matches!(
            Dialect::Postgres.quote("date column", &long),
            Err(SqlError::IdentifierTooLong {
                bytes: 64,
                max: 63,
                ..
            })
        ));
        assert!(Dialect::DataFusion.quote("date column", &long).is_ok());
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for d in Dialect::ALL {
            assert_eq!(d.name().parse::<Dialect>(), Ok(d));
            assert_eq!(d.to_string(), d.name());
        }
        assert_eq!(
            "mysql".parse::<Dialect>(),
            Err(SqlError::UnknownDialect("mysql".into()))
        );
    }

    #[test]
    fn date_literals_cover_years_1_to_9999() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            date_literal("as-of date", d(1997, 9, 30)).unwrap(),
            "DATE '1997-09-30'"
        );
        assert_eq!(
            date_literal("as-of date", d(1, 1, 1)).unwrap(),
            "DATE '0001-01-01'"
        );
        assert!(date_literal("as-of date", d(10_000, 1, 1)).is_err());
        assert!(matches!(
            date_literal("holdout end", d(0, 12, 31)),
            Err(SqlError::DateOutOfRange {
                what: "holdout end",
                ..
            })
        ));
    }
}
