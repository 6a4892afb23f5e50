//! Fitting from an engine: the weighted (x, t_x, T) patterns of a summary table, grouped by the
//! engine, so that only distinct patterns reach the optimiser.

use customer_assets::models::{SpendData, SpendDataError};
use customer_assets::{PatternError, Patterns, TimeUnit};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::DataFusionError;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::prelude::{cast, col, lit, DataFrame};

/// Why the patterns of a summary table could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatternsError {
    /// The engine failed (a missing column, a type that does not cast, an IO error).
    #[error("the engine: {0}")]
    Engine(#[from] DataFusionError),
    /// A frequency that is not a whole number of repeat purchases in 0..=4294967295.
    #[error("frequency {0} is not a whole number of repeat purchases in 0..=4294967295")]
    Frequency(f64),
    /// A group with a null frequency, recency or age.
    #[error("a summary row has a null {column}")]
    Null {
        /// The column.
        column: &'static str,
    },
    /// A pattern the models cannot take (recency above age, say), as [`Patterns::new`] says.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// Spend rows a spend model cannot take (no repeat buyer with a positive mean spend, say).
    #[error(transparent)]
    Spend(#[from] SpendDataError),
}

/// What [`spend_data`] reads: the spend model's data, and how many repeat buyers it left out.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSpend {
    /// The repeat buyers with a positive mean spend, grouped by (frequency, mean spend).
    pub data: SpendData,
    /// The repeat buyers whose mean spend is zero or negative (free orders, returns): a spend
    /// model cannot learn from them, and the valuation values them at the population mean.
    pub left_out: u64,
}

/// The spend model's data from a summary table with columns `frequency` and `monetary_value`
/// (the mean repeat spend): the engine groups the repeat buyers by (frequency, mean spend) and
/// counts them, as [`patterns`] does for the transaction model. Repeat buyers without a positive
/// mean spend are counted in [`EngineSpend::left_out`], not dropped silently.
///
/// # Errors
/// As [`patterns`], and [`PatternsError::Spend`] when no repeat buyer has a positive mean spend.
pub async fn spend_data(summaries: DataFrame) -> Result<EngineSpend, PatternsError> {
    let grouped = summaries
        .filter(col("frequency").gt(lit(0)))?
        .select(vec![
            cast(col("frequency"), DataType::Float64).alias("x"),
            cast(col("monetary_value"), DataType::Float64).alias("m"),
        ])?
        .aggregate(
            vec![col("x"), col("m")],
            vec![count(lit(1)).alias("weight")],
        )?;
    let mut rows = Vec::new();
    let mut left_out = 0u64;
    for batch in &grouped.collect().await? {
        let (x, m, weight) = (
            batch.column(0).as_primitive::<Float64Type>(),
            batch.column(1).as_primitive::<Float64Type>(),
            batch.column(2).as_primitive::<Int64Type>(),
        );
        for (name, array) in [
            ("frequency", batch.column(0)),
            ("monetary_value", batch.column(1)),
        ] {
            if array.null_count() > 0 {
                return Err(PatternsError::Null { column: name });
            }
        }
        for i in 0..batch.num_rows() {
            let frequency = whole(x.value(i))?;
            let count = weight.value(i).unsigned_abs();
            if m.value(i) > 0.0 {
                rows.push((frequency, m.value(i), count as f64));
            } else {
                left_out += count;
            }
        }
    }
    Ok(EngineSpend {
        data: SpendData::new(rows)?,
        left_out,
    })
}

/// A frequency as a whole number of repeat purchases.
fn whole(frequency: f64) -> Result<u32, PatternsError> {
    whole_frequency(frequency).ok_or(PatternsError::Frequency(frequency))
}

/// A float frequency that is a whole number in `0..=u32::MAX`, as an integer (a cast would
/// truncate 1.5 or saturate −1 silently).
pub(crate) fn whole_frequency(frequency: f64) -> Option<u32> {
    (frequency >= 0.0 && frequency <= f64::from(u32::MAX) && frequency.fract() == 0.0)
        .then_some(frequency as u32)
}

/// The weighted patterns of a summary table with columns `frequency` (whole repeat purchases),
/// `recency` and `T` (in `unit`), as [`Summaries::patterns`](customer_assets::Summaries::patterns)
/// gives them from the core's summaries: the engine groups the rows by (frequency, recency, T)
/// and counts them, and only the groups are collected.
///
/// A table of a million customers has a few thousand distinct patterns, so the fit that
/// follows (`BgNbdParams::new().fit(&patterns)`, say) costs the same whatever the table's size.
///
/// # Errors
/// [`PatternsError::Engine`] when the engine fails (a missing column among them),
/// [`PatternsError::Null`] for a null value, [`PatternsError::Frequency`] for a negative or
/// fractional frequency, [`PatternsError::Pattern`] for another row the models cannot take.
pub async fn patterns(summaries: DataFrame, unit: TimeUnit) -> Result<Patterns, PatternsError> {
    let grouped = summaries
        .select(vec![
            cast(col("frequency"), DataType::Float64).alias("x"),
            cast(col("recency"), DataType::Float64).alias("t_x"),
            cast(col(r#""T""#), DataType::Float64).alias("age"),
        ])?
        .aggregate(
            vec![col("x"), col("t_x"), col("age")],
            vec![count(lit(1)).alias("weight")],
        )?;
    let batches = grouped.collect().await?;
    let mut rows = Vec::new();
    for batch in &batches {
        let column = |i: usize| batch.column(i);
        let (x, t_x, age) = (
            column(0).as_primitive::<Float64Type>(),
            column(1).as_primitive::<Float64Type>(),
            column(2).as_primitive::<Float64Type>(),
        );
        let weight = column(3).as_primitive::<Int64Type>();
        for (name, array) in [
            ("frequency", column(0)),
            ("recency", column(1)),
            ("T", column(2)),
        ] {
            if array.null_count() > 0 {
                return Err(PatternsError::Null { column: name });
            }
        }
        for i in 0..batch.num_rows() {
            rows.push((
                whole(x.value(i))?,
                t_x.value(i),
                age.value(i),
                weight.value(i) as f64,
            ));
        }
    }
    Ok(Patterns::new(unit, rows)?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::test_support::{base, table};
    use customer_assets::models::{BgNbdParams, GammaGammaParams};
    use customer_assets::{Fit, SpendModel, TransactionModel};
    use datafusion::prelude::SessionContext;

    /// The patterns as a sorted list of (x, t_x bits, T bits, weight).
    fn sorted(p: &Patterns) -> Vec<(u32, u64, u64, u64)> {
        let mut rows: Vec<_> = p
            .iter()
            .map(|q| {
                (
                    q.frequency(),
                    q.recency().to_bits(),
                    q.age().to_bits(),
                    q.weight().to_bits(),
                )
            })
            .collect();
        rows.sort_unstable();
        rows
    }

    #[tokio::test]
    async fn the_engines_patterns_are_the_summaries_patterns_and_fit_the_same_model() {
        let b = base();
        let ctx = SessionContext::new();
        ctx.register_table("summaries", Arc::new(table(&b.summaries, 500)))
            .expect("table");
        let df = ctx.table("summaries").await.expect("table");
        let from_engine = patterns(df, TimeUnit::WEEKS).await.expect("patterns");
        let core = b.summaries.patterns();
        assert_eq!(sorted(&from_engine), sorted(&core));
        assert!(from_engine.len() < b.summaries.len());
        let fitted = BgNbdParams::new().fit(&from_engine).expect("fit");
        for ((name, a), (_, b)) in fitted
            .named_parameters()
            .iter()
            .zip(b.bg.named_parameters().iter())
        {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{name}: {a} against {b}");
        }
    }

    #[tokio::test]
    async fn the_engines_spend_data_fit_the_summaries_gamma_gamma() {
        let b = base();
        let ctx = SessionContext::new();
        ctx.register_table("summaries", Arc::new(table(&b.summaries, 500)))
            .expect("table");
        let df = ctx.table("summaries").await.expect("table");
        let spend = spend_data(df).await.expect("spend data");
        assert_eq!(spend.left_out, 0);
        let weight: f64 = spend.data.rows().iter().map(|r| r.weight()).sum();
        let repeat = b.summaries.iter().filter(|s| s.frequency() > 0).count();
        assert_eq!(weight, repeat as f64);
        let fitted = GammaGammaParams::new().fit(&spend.data).expect("fit");
        for ((name, a), (_, b)) in fitted
            .named_parameters()
            .iter()
            .zip(b.gg.named_parameters().iter())
        {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{name}: {a} against {b}");
        }
        let df = ctx
            .sql("SELECT * FROM (VALUES (1, 0.0), (2, 5.0), (0, 0.0), (1, -2.0)) AS v(frequency, monetary_value)")
            .await
            .expect("plan");
        let spend = spend_data(df).await.expect("spend data");
        assert_eq!(spend.left_out, 2);
    }

    #[tokio::test]
    async fn degenerate_bases_group_to_their_one_pattern() {
        let ctx = SessionContext::new();
        // One customer; identical customers; equal spends.
        for (values, customers) in [
            ("(2, 10.0, 20.0, 15.0)", 1.0),
            (
                "(2, 10.0, 20.0, 15.0), (2, 10.0, 20.0, 15.0), (2, 10.0, 20.0, 15.0)",
                3.0,
            ),
        ] {
            let sql = format!(
                "SELECT * FROM (VALUES {values}) AS v(frequency, recency, \"T\", monetary_value)"
            );
            let p = patterns(ctx.sql(&sql).await.expect("plan"), TimeUnit::WEEKS)
                .await
                .expect("patterns");
            assert_eq!((p.len(), p.total_weight()), (1, customers));
            let spend = spend_data(ctx.sql(&sql).await.expect("plan"))
                .await
                .expect("spend");
            assert_eq!(spend.data.rows().len(), 1);
            assert_eq!(spend.data.rows()[0].weight(), customers);
            // A fit on one pattern either converges or says why; it never panics.
            if let Err(e) = BgNbdParams::new().fit(&p) {
                assert!(!e.to_string().is_empty());
            }
        }
    }

    #[tokio::test]
    async fn nulls_and_missing_columns_are_errors() {
        let ctx = SessionContext::new();
        let df = ctx
            .sql("SELECT * FROM (VALUES (1, 2.0, 3.0), (NULL, 1.0, 2.0)) AS v(frequency, recency, \"T\")")
            .await
            .expect("plan");
        assert!(matches!(
            patterns(df, TimeUnit::WEEKS).await,
            Err(PatternsError::Null {
                column: "frequency"
            })
        ));
        let df = ctx
            .sql("SELECT * FROM (VALUES (1, 2.0)) AS v(frequency, recency)")
            .await
            .expect("plan");
        assert!(matches!(
            patterns(df, TimeUnit::WEEKS).await,
            Err(PatternsError::Engine(_))
        ));
        let df = ctx
            .sql("SELECT * FROM (VALUES (1, 3.0, 2.0)) AS v(frequency, recency, \"T\")")
            .await
            .expect("plan");
        assert!(matches!(
            patterns(df, TimeUnit::WEEKS).await,
            Err(PatternsError::Pattern(_))
        ));
        let df = ctx
            .sql("SELECT * FROM (VALUES (1.5, 1.0, 2.0)) AS v(frequency, recency, \"T\")")
            .await
            .expect("plan");
        assert!(matches!(
            patterns(df, TimeUnit::WEEKS).await,
            Err(PatternsError::Frequency(f)) if f == 1.5
        ));
    }
}
