//! Per-customer summaries in plain SQL, for the engines where the transactions already live
//! (DataFusion and Ballista, Spark SQL, DuckDB, PostgreSQL).
//!
//! [`SummarySql`] writes one query over a table of transactions that gives, per customer, the
//! same summary as [`SummaryAccumulator::finish`](crate::SummaryAccumulator::finish) at the day
//! grain ([`Grain::Day`](crate::Grain::Day), the only grain the query supports: all purchases of
//! a customer on one calendar day are one purchase period). The log is first aggregated to
//! (customer, day) rows; every field is then a standard aggregate (`COUNT`, `MIN`, `MAX`, `SUM`),
//! with the first purchase day joined back to the customer's days, and (when returns are
//! netted) a windowed `MAX` for the purchase day a return nets against. There is no window over
//! a customer's whole history: engines buffer such a partition whole (DataFusion outside its
//! memory pool). Writing the query is pure string building: nothing is run or read here.
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::sql::{Dialect, SummarySql};
//! use customer_assets::{ReturnPolicy, SummaryOptions, TimeUnit};
//!
//! let as_of = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("bad date")?;
//! let holdout = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("bad date")?;
//! let query = SummarySql::new("sales.transactions", SummaryOptions::new(as_of, TimeUnit::WEEKS).holdout_end(holdout))
//!     .customer_column("customer")
//!     .kind_column("kind", "purchase", "return")
//!     .returns(ReturnPolicy::NetAgainstPurchase);
//! let sql = query.to_sql(Dialect::Spark)?;
//! assert!(sql.contains("FROM `sales`.`transactions`"));
//! assert!(sql.contains("datediff(")); // Spark's date difference; `b - a` elsewhere
//! assert_eq!(query.columns()[..4], ["customer_id", "frequency", "recency", "T"]);
//! // A name that could break out of its quotes is refused, never pasted in.
//! assert!(query.customer_column("id\" OR 1=1 --").to_sql(Dialect::DuckDb).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Output columns
//!
//! One row per customer with a counted calibration purchase (customers whose first purchase is
//! after the as-of date are left out, as in [`Summaries`](crate::Summaries)), in no particular
//! order, with the columns of [`SummarySql::columns`]:
//!
//! | column | type | equals, in the core's [`CustomerSummary`](crate::CustomerSummary) |
//! |---|---|---|
//! | `customer_id` | the customer column's | `id()` |
//! | `frequency` | `BIGINT` | `frequency()` |
//! | `recency`, `T` | `DOUBLE` | `recency()`, `age()`: bit for bit (days as a double, divided by the unit's length in days, as [`TimeUnit::from_days`](crate::TimeUnit::from_days) does) |
//! | `monetary_value` | `DECIMAL(38, 6)` | `monetary_value()` rounded half to even to 6 places (`round_dp(6)`, as `clv summarize` prints it) |
//! | `holdout_frequency`, `holdout_monetary_value` | `BIGINT`, `DECIMAL(38, 6)` | `holdout()`'s `frequency` and `monetary_value()` rounded likewise (with a holdout) |
//! | `repeat_spend`, `total_spend` | the sum's `DECIMAL` | `repeat_spend()`, `total_spend()`: exact |
//! | `orders` | `BIGINT` | `orders()` |
//! | `first_purchase`, `last_purchase` | `DATE` | the dates of `first_purchase()`, `last_purchase()` |
//! | `holdout_spend` | the sum's `DECIMAL` | `holdout()`'s `spend`: exact (with a holdout) |
//! | `return_without_purchase` | `DATE` | see below (when returns are netted) |
//!
//! The means are exact: the engine's own decimal division only gives a first guess, within one
//! unit of the last place whatever the engine rounds to (DuckDB divides decimals in `DOUBLE`),
//! and exact decimal products (`(2m ± 10⁻⁶) · n` against `2 · sum`) then pick the correctly
//! rounded neighbour. The exact sums (`repeat_spend`, `holdout_spend`) and counts are there for
//! a caller that wants the mean at another precision.
//!
//! # Returns
//!
//! With [`SummarySql::kind_column`], rows of the return kind are returns (a positive amount).
//! Under [`ReturnPolicy::NetAgainstPurchase`](crate::ReturnPolicy::NetAgainstPurchase) a
//! return is subtracted from the latest purchase day at or before it in the same part of the
//! window (calibration or holdout), and a purchase day whose net spend is no longer positive
//! stops counting as a purchase. A holdout return with no holdout purchase before it lowers the
//! holdout spend. A calibration return with no purchase at or before it makes the core fail
//! ([`SummaryError::ReturnWithoutPurchase`](crate::SummaryError::ReturnWithoutPurchase)); a
//! query cannot fail, so it reports it instead: such a customer's row is always present, with
//! the day of the first such return in `return_without_purchase` (its other fields are then
//! not meaningful, and `recency` and `T` are NULL when nothing else was bought). Any non-NULL
//! `return_without_purchase` means the core would reject the whole log. Under
//! [`ReturnPolicy::Ignore`](crate::ReturnPolicy::Ignore) returns are not read.
//!
//! # What the table must hold
//!
//! The query reads what [`Transaction`](crate::Transaction) guarantees and does not check it:
//! no NULL customer, date or amount (SQL aggregates skip NULLs, so such rows would be left out
//! or grouped as one NULL customer), amounts not negative and `DECIMAL` (sums of a
//! floating-point column are not exact), dates as `DATE` (or timestamps without time zone, or
//! text the engine casts to `DATE`), between the years 1 and 9999. A table that may break these
//! is best checked with a query of its own first.

mod builder;
mod dialect;
mod error;

pub use builder::SummarySql;
pub use dialect::Dialect;
pub use error::SqlError;
