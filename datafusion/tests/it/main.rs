//! The integration-test binary of customer-assets-datafusion: each capability has its own module.

mod ballista;
mod pipeline;
mod sql_summary;
mod summarize;
