//! Past one machine: the summary and the scoring functions on Ballista, with a standalone
//! scheduler and executor in the test process. The log is read from Parquet files (a table an
//! executor can open; an in-memory table cannot travel), the plans go to the scheduler as
//! protobuf, and the scoring functions reach the executor by name through its function registry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use customer_assets::models::BgNbdParams;
use customer_assets::sql::Dialect;
use customer_assets::{Fit, History, ReturnPolicy, SummaryOptions, TimeUnit, TransactionModel};
use customer_assets_datafusion::{summarize, Scoring};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::{FunctionRegistry, SessionStateBuilder};
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};

use crate::sql_summary::{
    assert_same, cdnow, core, day, degenerate_bases, partitions, query, read_rows, runtime,
};
use crate::summarize::frame;

/// A folder of its own under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "customer-assets-ballista-{name}-{}",
            std::process::id()
        ));
        // A folder left by an earlier run of this process id would add its files to the table.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn url(&self) -> String {
        format!("{}/", self.0.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `partitions` as Parquet files in `dir`, one or more per partition.
async fn write_parquet(partitions: Vec<Vec<RecordBatch>>, dir: &Scratch) {
    frame(&SessionContext::new(), partitions)
        .write_parquet(&dir.url(), DataFrameWriteOptions::new(), None)
        .await
        .expect("Parquet files written");
}

/// The rows of `query` on `ctx`, sorted by customer, as one batch.
async fn sorted(ctx: &SessionContext, query: &str) -> RecordBatch {
    let batches = ctx
        .sql(query)
        .await
        .expect("a plan")
        .sort_by(vec![datafusion::prelude::col("customer_id")])
        .expect("a sort")
        .collect()
        .await
        .expect("rows");
    concat_batches(&batches[0].schema(), &batches).expect("one batch")
}

#[test]
fn cdnow_summaries_and_scores_on_ballista_equal_the_core_and_datafusion() {
    let runtime = runtime();
    let log = cdnow();
    let options =
        SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS).holdout_end(day(1998, 6, 30));
    let want = core(&log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
    let bg = BgNbdParams::new()
        .fit(&want.patterns())
        .expect("the core's fit");
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    let transactions = Scratch::new("transactions");
    let summaries = Scratch::new("summaries");
    runtime.block_on(async {
        // Shuffled over four partitions, so the same customer's days lie in different files.
        write_parquet(partitions(&log, 4, 7), &transactions).await;
        let files = std::fs::read_dir(transactions.path())
            .expect("the folder")
            .count();
        assert!(files > 1, "the log spread over {files} file(s)");

        // The scoring functions are registered in the state the scheduler and the executor are
        // made from: both resolve them by name when they decode a plan.
        let mut state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(SessionConfig::new_with_ballista().with_target_partitions(4))
            .build();
        let scoring = Scoring::new(bg.clone());
        for function in scoring.functions() {
            state
                .register_udf(Arc::new(function))
                .expect("function registered");
        }
        let cluster = SessionContext::standalone_with_state(state)
            .await
            .expect("a standalone Ballista scheduler and executor");
        // The client's session is rebuilt with Ballista's own function list: the planner must be
        // told of the functions again.
        scoring.register(&cluster).expect("functions registered");
        cluster
            .register_parquet(
                "transactions",
                transactions.url(),
                ParquetReadOptions::default(),
            )
            .await
            .expect("the log registered");

        // The portable query, as written for DataFusion, runs on Ballista unchanged: planned
        // into a job for the scheduler, not run in this session.
        let portable = cluster
            .sql(&sql.to_sql(Dialect::DataFusion).expect("a query"))
            .await
            .expect("the summary query planned");
        let plan = portable
            .clone()
            .create_physical_plan()
            .await
            .expect("a physical plan");
        assert_eq!(plan.name(), "DistributedQueryExec");
        let batches = portable.collect().await.expect("the summary query run");
        assert_same(&read_rows(&batches, &sql), &want, "Ballista, the SQL");

        // summarize() over the cluster's table, with its column and row checks, likewise.
        let checked = summarize(cluster.table("transactions").await.expect("a table"), &sql)
            .await
            .expect("the summary planned");
        checked
            .write_parquet(&summaries.url(), DataFrameWriteOptions::new(), None)
            .await
            .expect("the summaries written by the executor");
        let local = SessionContext::new();
        let written = local
            .read_parquet(summaries.url(), ParquetReadOptions::default())
            .await
            .expect("the written summaries")
            .collect()
            .await
            .expect("read back");
        assert_same(&read_rows(&written, &sql), &want, "Ballista, summarize");

        // The scoring functions on the cluster give what they give in one DataFusion session,
        // and P(alive) is the core's for every customer.
        scoring.register(&local).expect("functions registered");
        for ctx in [&cluster, &local] {
            ctx.register_parquet("summaries", summaries.url(), ParquetReadOptions::default())
                .await
                .expect("the summaries registered");
        }
        let scores = r#"SELECT customer_id, p_alive(frequency, recency, "T") AS p,
                               expected_purchases(frequency, recency, "T", 52.0) AS e
                        FROM summaries"#;
        let on_cluster = sorted(&cluster, scores).await;
        let on_one = sorted(&local, scores).await;
        assert_eq!(on_cluster, on_one, "Ballista's scores against DataFusion's");

        // Registered in the client alone, the functions do not reach the cluster: the scheduler
        // and executors of a state without them refuse the plan that names them.
        let bare = SessionContext::standalone_with_state(
            SessionStateBuilder::new()
                .with_default_features()
                .with_config(SessionConfig::new_with_ballista())
                .build(),
        )
        .await
        .expect("a second standalone cluster");
        scoring.register(&bare).expect("functions registered");
        bare.register_parquet("summaries", summaries.url(), ParquetReadOptions::default())
            .await
            .expect("the summaries registered");
        let refused = match bare.sql(scores).await {
            Ok(df) => df.collect().await.err(),
            Err(e) => Some(e),
        };
        let refused = refused.expect("a cluster without the functions refuses the query");
        assert!(
            refused.to_string().contains("p_alive"),
            "the refusal names the function: {refused}"
        );

        let by_id: HashMap<u64, History> = want
            .iter()
            .map(|s| (s.id().as_u64().expect("integer ids"), History::from(s)))
            .collect();
        let ids = on_cluster.column(0).as_primitive::<Int64Type>();
        let p = on_cluster.column(1).as_primitive::<Float64Type>();
        assert_eq!(on_cluster.num_rows(), want.len());
        for row in 0..on_cluster.num_rows() {
            let history = &by_id[&(ids.value(row) as u64)];
            assert_eq!(
                p.value(row),
                bg.p_alive(history, 0.0).expect("p_alive"),
                "customer {}",
                ids.value(row)
            );
        }
    });
}

/// Degenerate bases on the cluster: one customer with one purchase, identical customers, equal
/// spends, and one heavy buyer among light ones; the summaries equal the core's.
#[test]
fn degenerate_bases_on_ballista_equal_the_core() {
    let bases = degenerate_bases();
    let options = SummaryOptions::new(day(1997, 9, 30), TimeUnit::WEEKS);
    let sql = query(options, ReturnPolicy::NetAgainstPurchase);
    let runtime = runtime();
    runtime.block_on(async {
        let cluster = SessionContext::standalone_with_state(
            SessionStateBuilder::new()
                .with_default_features()
                .with_config(SessionConfig::new_with_ballista().with_target_partitions(4))
                .build(),
        )
        .await
        .expect("a standalone Ballista scheduler and executor");
        for (i, (name, log)) in bases.iter().enumerate() {
            let want = core(log, ReturnPolicy::NetAgainstPurchase, &options).expect("summaries");
            let dir = Scratch::new(&format!("degenerate-{i}"));
            write_parquet(partitions(log, 2, 11), &dir).await;
            let summaries = summarize(
                cluster
                    .read_parquet(dir.url(), ParquetReadOptions::default())
                    .await
                    .expect("the log"),
                &sql,
            )
            .await
            .expect("the summary planned")
            .collect()
            .await
            .expect("the summary run");
            assert_same(&read_rows(&summaries, &sql), &want, name);
        }
    });
}
