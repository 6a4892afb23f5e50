//! CLV models: the extension traits every model implements, and the models themselves.
//!
//! Every model reads the same way (see [`crate::fit`]): `XParams` are the fit settings and
//! implement [`Fit`](crate::fit::Fit); fitting gives the model `X` (parameters, covariance,
//! standard errors, fit report, time unit, and every prediction); `XParameters` are plain values
//! for `X::new` without fitting.
//!
//! | model | settings → model | data | trait |
//! |---|---|---|---|
//! | BG/NBD ([`bg_nbd`]) | [`BgNbdParams`] → [`BgNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | MBG/NBD ([`mbg_nbd`]) | [`MbgNbdParams`] → [`MbgNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | Pareto/NBD ([`pareto_nbd`]) | [`ParetoNbdParams`] → [`ParetoNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | GGompertz/NBD ([`ggompertz_nbd`]) | [`GGompertzNbdParams`] → [`GGompertzNbd`] | [`Patterns`](crate::Patterns) | [`TransactionModel`] |
//! | BG/BB ([`bg_bb`]) | [`BgBbParams`] → [`BgBb`] | [`DiscretePatterns`] | [`TransactionModel`] |
//! | Gamma-Gamma ([`gamma_gamma`]) | [`GammaGammaParams`] → [`GammaGamma`] | [`SpendData`] | [`SpendModel`] |
//! | population mean spend | [`MeanSpendParams`] → [`MeanSpend`] | [`SpendData`] | [`SpendModel`] |
//! | sBG ([`sbg`]) | [`SbgParams`] → [`Sbg`] | `[`[`Cohort`]`]` | [`RetentionModel`] |
//! | BdW ([`bdw`]) | [`BdwParams`] → [`Bdw`] | `[`[`Cohort`]`]` | [`RetentionModel`] |
//!
//! A downstream crate adds a model by implementing [`TransactionModel`], [`SpendModel`] or
//! [`RetentionModel`] for its model type, and [`Fit`](crate::fit::Fit) for its settings.

pub mod bdw;
pub mod bg_bb;
pub(crate) mod bootstrap;
pub mod contractual;
pub mod covariates;
pub mod gamma_gamma;
pub mod ggompertz_nbd;
pub mod sbg;

mod discrete_patterns;
mod error;
mod history;
mod mean_spend;
mod predictive;
pub(crate) mod spend_data;
mod spend_model;
mod transaction_model;
pub(crate) mod uncertainty;

pub mod beta_geometric;
pub mod bg_nbd;

pub use bdw::{Bdw, BdwParameters, BdwParams};
pub use bg_bb::{BgBb, BgBbParameters, BgBbParams, DiscretePatterns, DiscretePatternsError};
pub use bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
pub use bootstrap::{
    bootstrap, parametric_bootstrap, BootstrapError, BootstrapOptions, Draws, ParameterSummary,
    Resample, WarmStart, MAX_REPLICATES,
};
pub use contractual::{Cohort, CohortError, RetentionModel};
pub use error::PredictError;
pub use gamma_gamma::{
    GammaGamma, GammaGammaParameters, GammaGammaParams, SpendData, SpendDataError, UsableSpend,
};
pub use ggompertz_nbd::{GGompertzNbd, GGompertzNbdParameters, GGompertzNbdParams};
pub use history::History;
pub use mbg_nbd::{MbgNbd, MbgNbdParameters, MbgNbdParams};
pub use mean_spend::{MeanSpend, MeanSpendParams};
pub use pareto_nbd::{ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
pub use predictive::purchase_quantiles;
pub use sbg::{Sbg, SbgParameters, SbgParams};
pub use spend_model::SpendModel;
pub use transaction_model::{BatchPredictions, TransactionModel};
pub use uncertainty::{
    delta_interval, delta_intervals, IntervalError, IntervalMethod, PredictionInterval,
    Reparameterize, Scale,
};
pub(crate) mod btyd;
pub mod clv;
pub mod mbg_nbd;
pub mod pareto_nbd;
