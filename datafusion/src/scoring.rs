//! Scoring functions bound to fitted models: `p_alive`, `expected_purchases`, `dert` and `clv`
//! as DataFusion scalar functions, vectorised over Arrow arrays (one model call per batch).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use customer_assets::models::SpendModel;
use customer_assets::valuation::{to_cents, DiscountRate};
use customer_assets::{History, PredictError, TransactionModel};

use crate::patterns::whole_frequency;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Builder, Float64Array};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{exec_datafusion_err, DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The precision and scale of `clv`'s Decimal128 result: money in cents, as the equity report.
pub const CLV_PRECISION: u8 = 38;
/// See [`CLV_PRECISION`].
pub const CLV_SCALE: i8 = 2;

/// What scoring needs that the transaction model lacks, or a parameter out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ScoringError {
    /// The margin is not finite or not in (0, 1].
    #[error("margin {0} must lie in (0, 1]")]
    Margin(f64),
    /// A function name prefix that is not a plain SQL identifier start.
    #[error("function prefix {0:?} must be ASCII letters, digits and underscores, not starting with a digit")]
    Prefix(String),
    /// DataFusion refused to register a function.
    #[error("registering {function}: {message}")]
    Register {
        /// The function.
        function: String,
        /// DataFusion's message.
        message: String,
    },
}

/// A fitted transaction model (and optionally a spend model, a margin and a discount rate) to
/// score customers with in SQL.
///
/// [`register`](Self::register) adds, each prefixed by [`prefix`](Self::prefix) (none by
/// default):
///
/// | function | arguments | result |
/// |---|---|---|
/// | `p_alive(x, t_x, T)` | frequency, recency, age in the model's unit | `Float64` |
/// | `expected_purchases(x, t_x, T, horizon)` | horizon in the model's unit | `Float64` |
/// | `dert(x, t_x, T)` | at the bound discount rate | `Float64` |
/// | `clv(x, t_x, T, monetary_value)` | monetary value: mean repeat spend | `Decimal128(38, 2)` |
///
/// `dert` needs [`discount`](Self::discount); `clv` needs the discount, a
/// [`spend`](Self::spend) model and a [`margin`](Self::margin) (a function whose inputs are
/// missing is not registered). Arguments of any numeric type are cast to `Float64`. A row with
/// a null argument scores null; a row outside the model's domain (a negative or fractional
/// frequency, recency above age) fails the query with an error naming the function and the
/// row in its batch. `clv` values a repeat buyer without a positive monetary value at the spend
/// model's population mean, as the valuation does, and rounds to cents as the report does
/// ([`to_cents`]).
///
/// ```
/// use customer_assets::models::{BgNbd, BgNbdParameters};
/// use customer_assets::TimeUnit;
/// use customer_assets_datafusion::Scoring;
/// use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let parameters = BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/// let model = BgNbd::new(parameters, TimeUnit::WEEKS)?;
/// let ctx = SessionContext::new();
/// Scoring::new(model).register(&ctx)?;
/// let batches = ctx.sql("SELECT p_alive(2, 30.43, 38.86) AS p").await?.collect().await?;
/// assert_eq!(batches[0].num_rows(), 1);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Scoring {
    model: Arc<dyn TransactionModel>,
    spend: Option<Arc<dyn SpendModel>>,
    rate: Option<f64>,
    margin: Option<f64>,
    prefix: String,
}

impl fmt::Debug for Scoring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoring")
            .field("model", &self.model.name())
            .field("spend", &self.spend.as_ref().map(|s| s.name().to_string()))
            .field("rate", &self.rate)
            .field("margin", &self.margin)
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Scoring {
    /// Scoring with `model`: `p_alive` and `expected_purchases`.
    pub fn new(model: impl TransactionModel + 'static) -> Self {
        Self::from_arc(Arc::new(model))
    }
    /// Scoring with a shared model.
    pub fn from_arc(model: Arc<dyn TransactionModel>) -> Self {
        Scoring {
            model,
            spend: None,
            rate: None,
            margin: None,
            prefix: String::new(),
        }
    }
    /// Discounts `dert` and `clv` at `rate`, converted to the model's time unit.
    pub fn discount(mut self, rate: DiscountRate) -> Self {
        self.rate = Some(rate.continuous_per(self.model.unit()));
        self
    }
    /// The spend model `clv` values purchases with.
    pub fn spend(mut self, spend: impl SpendModel + 'static) -> Self {
        self.spend = Some(Arc::new(spend));
        self
    }
    /// The margin `clv` applies to spend, in (0, 1].
    ///
    /// # Errors
    /// [`ScoringError::Margin`] outside (0, 1].
    pub fn margin(mut self, margin: f64) -> Result<Self, ScoringError> {
        if !(margin > 0.0 && margin <= 1.0) {
            return Err(ScoringError::Margin(margin));
        }
        self.margin = Some(margin);
        Ok(self)
    }
    /// Prefixes every function's name (`bg_` gives `bg_p_alive`, ...), so that several models
    /// can be registered in one session.
    ///
    /// # Errors
    /// [`ScoringError::Prefix`] for anything but ASCII letters, digits and underscores, or a
    /// leading digit.
    pub fn prefix(mut self, prefix: &str) -> Result<Self, ScoringError> {
        let plain = prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !prefix.starts_with(|c: char| c.is_ascii_digit());
        if !plain {
            return Err(ScoringError::Prefix(prefix.to_string()));
        }
        self.prefix = prefix.to_string();
        Ok(self)
    }

    /// The scalar functions these settings give (see the type's table), to register in a
    /// session or a Ballista executor's function registry. On Ballista, register them in the
    /// `SessionState` the cluster is made from (or each executor's registry) and again in the
    /// session Ballista returns, which it rebuilds with its own function list.
    pub fn functions(&self) -> Vec<ScalarUDF> {
        let mut kinds = vec![Kind::PAlive, Kind::ExpectedPurchases];
        if let Some(rate) = self.rate {
            kinds.push(Kind::Dert { rate });
            if let (Some(spend), Some(margin)) = (&self.spend, self.margin) {
                kinds.push(Kind::Clv {
                    rate,
                    spend: Arc::clone(spend),
                    margin,
                });
            }
        }
        kinds
            .into_iter()
            .map(|kind| {
                ScalarUDF::from(ScoreFunction {
                    name: format!("{}{}", self.prefix, kind.base_name()),
                    signature: Signature::uniform(
                        kind.arguments(),
                        vec![DataType::Float64],
                        Volatility::Immutable,
                    ),
                    model: Arc::clone(&self.model),
                    kind,
                })
            })
            .collect()
    }

    /// Registers [`functions`](Self::functions) in `registry` (a `SessionContext`, say),
    /// replacing functions of the same names.
    ///
    /// # Errors
    /// [`ScoringError::Register`] when the registry refuses a function.
    pub fn register(&self, registry: &dyn FunctionRegistryMut) -> Result<(), ScoringError> {
        for udf in self.functions() {
            let function = udf.name().to_string();
            registry.register(udf).map_err(|e| ScoringError::Register {
                function,
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

/// Where scoring functions can be registered: DataFusion's `SessionContext` and any
/// [`FunctionRegistry`] behind a lock.
pub trait FunctionRegistryMut {
    /// Registers one scalar function.
    ///
    /// # Errors
    /// DataFusion's, when the registry refuses it.
    fn register(&self, udf: ScalarUDF) -> Result<()>;
}

impl FunctionRegistryMut for datafusion::prelude::SessionContext {
    fn register(&self, udf: ScalarUDF) -> Result<()> {
        self.register_udf(udf);
        Ok(())
    }
}

impl<R: FunctionRegistry + Send> FunctionRegistryMut for std::sync::Mutex<R> {
    fn register(&self, udf: ScalarUDF) -> Result<()> {
        let mut registry = self
            .lock()
            .map_err(|_| exec_datafusion_err!("the function registry's lock is poisoned"))?;
        registry.register_udf(Arc::new(udf))?;
        Ok(())
    }
}

/// Which prediction a function computes, with what it needs beyond the model.
#[derive(Clone)]
enum Kind {
    PAlive,
    ExpectedPurchases,
    Dert {
        rate: f64,
    },
    Clv {
        rate: f64,
        spend: Arc<dyn SpendModel>,
        margin: f64,
    },
}

impl Kind {
    fn base_name(&self) -> &'static str {
        match self {
            Kind::PAlive => "p_alive",
            Kind::ExpectedPurchases => "expected_purchases",
            Kind::Dert { .. } => "dert",
            Kind::Clv { .. } => "clv",
        }
    }
    fn arguments(&self) -> usize {
        match self {
            Kind::PAlive | Kind::Dert { .. } => 3,
            Kind::ExpectedPurchases | Kind::Clv { .. } => 4,
        }
    }
}

/// One scoring function: a prediction of one model.
struct ScoreFunction {
    name: String,
    signature: Signature,
    model: Arc<dyn TransactionModel>,
    kind: Kind,
}

impl fmt::Debug for ScoreFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScoreFunction")
            .field("name", &self.name)
            .field("model", &self.model.name())
            .finish()
    }
}

/// Two functions are equal when they are the same prediction of the same model object (the
/// planner compares functions; a model's parameters are behind its pointer).
impl PartialEq for ScoreFunction {
    fn eq(&self, other: &Self) -> bool {
        let same_kind = match (&self.kind, &other.kind) {
            (Kind::PAlive, Kind::PAlive) | (Kind::ExpectedPurchases, Kind::ExpectedPurchases) => {
                true
            }
            (Kind::Dert { rate: a }, Kind::Dert { rate: b }) => a.to_bits() == b.to_bits(),
            (
                Kind::Clv {
                    rate: a,
                    spend: s,
                    margin: m,
                },
                Kind::Clv {
                    rate: b,
                    spend: t,
                    margin: n,
                },
            ) => a.to_bits() == b.to_bits() && Arc::ptr_eq(s, t) && m.to_bits() == n.to_bits(),
            _ => false,
        };
        self.name == other.name && Arc::ptr_eq(&self.model, &other.model) && same_kind
    }
}

impl Eq for ScoreFunction {}

impl Hash for ScoreFunction {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        Arc::as_ptr(&self.model).cast::<()>().hash(state);
    }
}

impl ScalarUDFImpl for ScoreFunction {
    fn name(&self) -> &str {
        &self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Clv { .. } => DataType::Decimal128(CLV_PRECISION, CLV_SCALE),
            _ => DataType::Float64,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let horizon = match (&self.kind, args.args.get(3)) {
            (Kind::ExpectedPurchases, Some(ColumnarValue::Scalar(s))) => {
                Some(match s.clone().cast_to(&DataType::Float64)? {
                    datafusion::scalar::ScalarValue::Float64(v) => v,
                    _ => None,
                })
            }
            _ => None,
        };
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let columns = arrays
            .iter()
            .map(|a| {
                a.as_primitive_opt::<Float64Type>()
                    .ok_or_else(|| exec_datafusion_err!("{}: arguments must be Float64", self.name))
            })
            .collect::<Result<Vec<&Float64Array>>>()?;
        let rows = Rows::of(&self.name, &columns, args.number_rows)?;
        let values = self.score(&rows, &columns, horizon)?;
        Ok(ColumnarValue::Array(self.assemble(&rows, values)?))
    }
}

/// The valid rows of a batch: their histories, and which rows are null.
struct Rows {
    /// Row `i` of the batch scores `values[slot[i]]`, or null.
    slot: Vec<Option<usize>>,
    histories: Vec<History>,
    /// The batch row of each history.
    batch_row: Vec<usize>,
}

impl Rows {
    fn of(name: &str, columns: &[&Float64Array], rows: usize) -> Result<Rows> {
        let mut out = Rows {
            slot: Vec::with_capacity(rows),
            histories: Vec::with_capacity(rows),
            batch_row: Vec::with_capacity(rows),
        };
        let [x, t_x, t, ..] = columns else {
            return Err(exec_datafusion_err!("{name}: expects (x, t_x, T, ...)"));
        };
        for row in 0..rows {
            if columns.iter().any(|c| c.is_null(row)) {
                out.slot.push(None);
                continue;
            }
            let frequency = x.value(row);
            let Some(whole) = whole_frequency(frequency) else {
                return Err(exec_datafusion_err!(
                    "{name}: row {row} of the batch: frequency {frequency} is not a whole number of repeat purchases in 0..=4294967295"
                ));
            };
            let history = History::new(whole, t_x.value(row), t.value(row));
            history.validate().map_err(|e| row_error(name, row, &e))?;
            out.slot.push(Some(out.histories.len()));
            out.histories.push(history);
            out.batch_row.push(row);
        }
        Ok(out)
    }
}

fn row_error(name: &str, row: usize, e: &PredictError) -> DataFusionError {
    exec_datafusion_err!("{name}: row {row} of the batch: {e}")
}

impl ScoreFunction {
    /// The prediction of every valid row, in the order of `rows.histories`: one batch call where
    /// the arguments allow, and when it fails, row by row to name the row at fault.
    fn score(
        &self,
        rows: &Rows,
        columns: &[&Float64Array],
        horizon: Option<Option<f64>>,
    ) -> Result<Vec<f64>> {
        let model = self.model.as_ref();
        let histories = &rows.histories;
        let batch = match (&self.kind, horizon) {
            (Kind::PAlive, _) => model.p_alive_batch(histories).ok(),
            (Kind::ExpectedPurchases, Some(Some(t))) => {
                model.expected_purchases_batch(histories, t).ok()
            }
            (Kind::Dert { rate } | Kind::Clv { rate, .. }, _) => {
                model.dert_batch(histories, *rate).ok()
            }
            // A horizon per row (or a null horizon: all rows are null then): row by row.
            (Kind::ExpectedPurchases, _) => None,
        };
        let fourth = |row: usize| {
            columns
                .get(3)
                .map(|c| c.value(row))
                .ok_or_else(|| exec_datafusion_err!("{}: a fourth argument is missing", self.name))
        };
        let base = match batch.filter(|v| v.len() == histories.len()) {
            Some(values) => values,
            None => histories
                .iter()
                .zip(&rows.batch_row)
                .map(|(h, &row)| {
                    let value = match &self.kind {
                        Kind::PAlive => model.p_alive(h, 0.0),
                        Kind::ExpectedPurchases => model.expected_purchases(h, fourth(row)?),
                        Kind::Dert { rate } | Kind::Clv { rate, .. } => model.dert(h, *rate),
                    };
                    value.map_err(|e| row_error(&self.name, row, &e))
                })
                .collect::<Result<Vec<f64>>>()?,
        };
        let Kind::Clv { spend, margin, .. } = &self.kind else {
            return Ok(base);
        };
        base.iter()
            .zip(histories.iter().zip(&rows.batch_row))
            .map(|(&dert, (h, &row))| {
                let mean = fourth(row)?;
                let expected = if mean.is_finite() && mean > 0.0 {
                    spend.expected_spend(h.frequency, mean)
                } else {
                    spend.expected_spend_new()
                }
                .map_err(|e| row_error(&self.name, row, &e))?;
                Ok(dert * expected * margin)
            })
            .collect()
    }

    /// The result array: each row's value, or null.
    fn assemble(&self, rows: &Rows, values: Vec<f64>) -> Result<ArrayRef> {
        if !matches!(self.kind, Kind::Clv { .. }) {
            let array: Float64Array = rows
                .slot
                .iter()
                .map(|s| s.and_then(|i| values.get(i).copied()))
                .collect();
            return Ok(Arc::new(array));
        }
        let mut out = Decimal128Builder::with_capacity(rows.slot.len());
        for (row, slot) in rows.slot.iter().enumerate() {
            match slot {
                None => out.append_null(),
                Some(i) => {
                    let clv = values.get(*i).copied().unwrap_or(f64::NAN);
                    let cents = to_cents(clv).ok_or_else(|| {
                        exec_datafusion_err!(
                            "{}: row {row} of the batch: CLV {clv:e} is not a finite amount of money",
                            self.name
                        )
                    })?;
                    let mut cents = cents;
                    cents.rescale(CLV_SCALE as u32);
                    out.append_value(cents.mantissa());
                }
            }
        }
        Ok(Arc::new(
            out.finish()
                .with_precision_and_scale(CLV_PRECISION, CLV_SCALE)?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{base, table, Base, HORIZON, MARGIN};
    use datafusion::arrow::array::{Decimal128Array, RecordBatch};
    use datafusion::prelude::SessionContext;

    async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
        ctx.sql(sql)
            .await
            .expect("plan")
            .collect()
            .await
            .expect("run")
    }

    fn scoring(b: &Base) -> Scoring {
        Scoring::new(b.bg.clone())
            .discount(b.rate)
            .spend(b.gg.clone())
            .margin(MARGIN)
            .expect("margin")
    }

    #[tokio::test]
    async fn scores_equal_the_valuation_report_for_every_customer() {
        let b = base();
        let ctx = SessionContext::new();
        scoring(&b).register(&ctx).expect("register");
        ctx.register_table("summaries", Arc::new(table(&b.summaries, 700)))
            .expect("table");
        let batches = query(
            &ctx,
            &format!(
                "SELECT customer_id, p_alive(frequency, recency, \"T\") AS p, \
             expected_purchases(frequency, recency, \"T\", {HORIZON:?}) AS e, \
             dert(frequency, recency, \"T\") AS d, \
             clv(frequency, recency, \"T\", monetary_value) AS clv FROM summaries"
            ),
        )
        .await;
        let by_id: std::collections::HashMap<String, &customer_assets::valuation::CustomerValue> =
            b.report
                .customers
                .iter()
                .map(|c| (c.id.to_string(), c))
                .collect();
        let mut seen = 0;
        for batch in &batches {
            let ids = batch.column(0).as_string::<i32>();
            let p = batch.column(1).as_primitive::<Float64Type>();
            let e = batch.column(2).as_primitive::<Float64Type>();
            let d = batch.column(3).as_primitive::<Float64Type>();
            let clv = batch
                .column(4)
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .expect("decimal clv");
            assert_eq!(clv.scale(), CLV_SCALE);
            for row in 0..batch.num_rows() {
                let c = by_id[ids.value(row)];
                assert_eq!(
                    p.value(row).to_bits(),
                    c.p_alive.to_bits(),
                    "p_alive of {}",
                    c.id
                );
                assert_eq!(
                    e.value(row).to_bits(),
                    c.expected_purchases.to_bits(),
                    "expected purchases of {}",
                    c.id
                );
                assert_eq!(d.value(row).to_bits(), c.dert.to_bits(), "dert of {}", c.id);
                let mut cents = c.clv;
                cents.rescale(2);
                assert_eq!(clv.value(row), cents.mantissa(), "clv of {}", c.id);
                seen += 1;
            }
        }
        assert_eq!(seen, b.report.customers.len());
        assert!(seen > 1_000);
    }

    #[tokio::test]
    async fn nulls_score_null_and_a_horizon_per_row_scores_each_row() {
        let b = base();
        let ctx = SessionContext::new();
        Scoring::new(b.bg.clone())
            .prefix("bg_")
            .expect("prefix")
            .register(&ctx)
            .expect("register");
        let batches = query(
            &ctx,
            "SELECT bg_p_alive(x, t_x, t) AS p, bg_expected_purchases(x, t_x, t, h) AS e FROM \
             (VALUES (2, 30.0, 40.0, 10.0), (NULL, 1.0, 2.0, 1.0), (0, 0.0, 5.0, NULL), (1, 3.0, 3.0, 100.0)) \
             AS v(x, t_x, t, h)",
        )
        .await;
        let batch = &batches[0];
        let p = batch.column(0).as_primitive::<Float64Type>();
        let e = batch.column(1).as_primitive::<Float64Type>();
        assert!(p.is_null(1) && e.is_null(1) && e.is_null(2));
        assert!(!p.is_null(2));
        for (row, (x, t_x, t, h)) in [(0, (2, 30.0, 40.0, 10.0)), (3, (1, 3.0, 3.0, 100.0))] {
            let history = History::new(x, t_x, t);
            assert_eq!(p.value(row), b.bg.p_alive(&history, 0.0).expect("p"));
            assert_eq!(
                e.value(row),
                b.bg.expected_purchases(&history, h).expect("e")
            );
        }
        // dert and clv were not asked for: no discount, no spend model.
        assert!(ctx.sql("SELECT bg_dert(1, 1.0, 2.0)").await.is_err());
    }

    #[tokio::test]
    async fn rows_outside_the_model_fail_naming_the_row() {
        let b = base();
        let ctx = SessionContext::new();
        Scoring::new(b.bg.clone()).register(&ctx).expect("register");
        for (values, needle) in [
            ("(1, 1.0, 2.0), (-1, 0.0, 2.0)", "row 1"),
            ("(1, 1.0, 2.0), (1, 0.5, 2.0), (1.5, 1.0, 2.0)", "row 2"),
            ("(3, 5.0, 2.0)", "row 0"),
        ] {
            let sql = format!("SELECT p_alive(x, t_x, t) FROM (VALUES {values}) AS v(x, t_x, t)");
            let error = ctx
                .sql(&sql)
                .await
                .expect("plan")
                .collect()
                .await
                .expect_err("an invalid row");
            let message = error.to_string();
            assert!(
                message.contains("p_alive") && message.contains(needle),
                "{message}"
            );
        }
    }

    #[test]
    fn settings_out_of_range_are_typed_errors() {
        let b = base();
        let s = Scoring::new(b.bg.clone());
        assert_eq!(s.clone().margin(0.0).err(), Some(ScoringError::Margin(0.0)));
        assert!(matches!(
            s.clone().margin(f64::NAN),
            Err(ScoringError::Margin(_))
        ));
        assert!(matches!(
            s.clone().prefix("1x"),
            Err(ScoringError::Prefix(_))
        ));
        assert!(matches!(
            s.clone().prefix("a;b"),
            Err(ScoringError::Prefix(_))
        ));
        let names: Vec<String> = s
            .discount(b.rate)
            .functions()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        assert_eq!(names, ["p_alive", "expected_purchases", "dert"]);
    }
}
