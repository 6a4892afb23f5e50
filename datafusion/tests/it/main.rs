//! The integration-test binary of customer-assets-datafusion: each capability has its own module.

mod pipeline;
mod sql_summary;
mod summarize;
