//! The whole path on the full CDNOW cohort (zero amounts included) in DataFusion: summaries by
//! the query, patterns and spend rows grouped by the engine, fits, and scores, each against the
//! core's in-memory path.

use std::collections::HashMap;
use std::sync::Arc;

use customer_assets::models::{BgNbdParams, SpendData};
use customer_assets::sql::Dialect;
use customer_assets::{Fit, History, ReturnPolicy, SummaryOptions, TimeUnit, TransactionModel};
use customer_assets_datafusion::{patterns, spend_data, Scoring};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::sql_summary::{batch, cdnow, core, day, query, runtime};

#[test]
fn cdnow_fits_and_scores_from_the_engine_as_in_memory() {
    let log = cdnow();
    let options = SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS);
    let summaries = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    let bg = BgNbdParams::new()
        .fit(&summaries.patterns())
        .expect("the core's fit");
    let usable = SpendData::usable_from_summaries(&summaries).expect("spend rows");
    let sql = query(options, ReturnPolicy::NetAgainstPurchase)
        .to_sql(Dialect::DataFusion)
        .expect("a query");
    let ctx = SessionContext::new();
    let table = batch(&log);
    let table = MemTable::try_new(table.schema(), vec![vec![table]]).expect("a table");
    ctx.register_table("transactions", Arc::new(table))
        .expect("registered");
    Scoring::new(bg.clone()).register(&ctx).expect("functions");
    runtime().block_on(async {
        let summary_table = ctx.sql(&sql).await.expect("the summary query").into_view();
        ctx.register_table("summaries", summary_table)
            .expect("registered");
        // The engine's patterns fit the model the core's patterns fit.
        let grouped = patterns(
            ctx.table("summaries").await.expect("table"),
            TimeUnit::WEEKS,
        )
        .await
        .expect("patterns");
        assert_eq!(grouped.total_weight(), summaries.len() as f64);
        assert_eq!(grouped.len(), summaries.patterns().len());
        let engine_bg = BgNbdParams::new().fit(&grouped).expect("the engine's fit");
        for ((name, a), (_, b)) in engine_bg
            .named_parameters()
            .iter()
            .zip(bg.named_parameters().iter())
        {
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{name}: {a} against {b}");
        }
        // The repeat buyers without a positive mean spend (CDNOW's zero amounts) are counted,
        // as the core counts them.
        let spend = spend_data(ctx.table("summaries").await.expect("table"))
            .await
            .expect("spend rows");
        assert_eq!(spend.left_out, usable.left_out.len() as u64);
        let weight: f64 = spend.data.rows().iter().map(|r| r.weight()).sum();
        assert_eq!(weight, usable.data.rows().len() as f64);
        // Every customer's P(alive) from SQL is the core's.
        let scores = ctx
            .sql(r#"SELECT customer_id, p_alive(frequency, recency, "T") FROM summaries"#)
            .await
            .expect("a plan")
            .collect()
            .await
            .expect("scores");
        let by_id: HashMap<u64, History> = summaries
            .iter()
            .map(|s| (s.id().as_u64().expect("integer ids"), History::from(s)))
            .collect();
        let mut scored = 0;
        for b in &scores {
            let ids = b.column(0).as_primitive::<Int64Type>();
            let p = b.column(1).as_primitive::<Float64Type>();
            for row in 0..b.num_rows() {
                let history = &by_id[&(ids.value(row) as u64)];
                assert_eq!(p.value(row), bg.p_alive(history, 0.0).expect("p_alive"));
                scored += 1;
            }
        }
        assert_eq!(scored, summaries.len());
    });
}
