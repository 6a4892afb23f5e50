//! Arrow record batches in and out (the `arrow` feature): transactions from a batch into a
//! [`SummaryAccumulator`](crate::SummaryAccumulator), and summaries, predictions and the equity
//! report's customer table as batches. Arrays in memory are not IO: the core stays IO-free.

mod input;
mod input_error;

pub use input::{TimeZoneRule, TransactionArrays, TransactionBatch, TransactionColumns};
pub use input_error::ArrowInputError;

pub mod output;
pub use output::{
    predictions_batch, predictions_schema, report_customers_batch, report_customers_schema,
    summaries_batch, summaries_schema, ArrowOutputError, IdType, MoneyScale, OutputOptions,
    SpendColumns,
};
