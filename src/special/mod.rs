//! Special functions the likelihoods need, evaluated in log space: the Gauss hypergeometric
//! function ₂F₁ as its logarithm (with analytic partial derivatives), and small log-space helpers.
//!
//! `hyp2f1` evaluates ln ₂F₁ and its gradient for any admissible argument, `a_plus_one` the
//! c = a + 1 case of the Pareto/NBD likelihood fast (`near_one` its z > ½ part), and `log_space`
//! holds the helpers. This module only declares them and re-exports their items, so
//! `crate::special::X` names them all.

mod a_plus_one;
mod gamma_ratio;
mod hyp2f1;
mod log_space;
mod near_one;

pub use a_plus_one::ln_hyp2f1_a_plus_one_grad;
pub(crate) use a_plus_one::{APlusOneSeries, A_PLUS_ONE_MAX_Z, A_PLUS_ONE_TABLE_MAX_Z};
pub(crate) use gamma_ratio::{ln_beta_shift, ln_gamma_ratio, ln_gamma_ratio_change};
pub use hyp2f1::{ln_hyp2f1, ln_hyp2f1_grad, SpecialError, MAX_TERMS};
pub(crate) use log_space::{inv_one_plus_exp, ln_beta, ln_beta_grad, one_minus_exp_over};
pub use log_space::{ln_1m_exp, log_diff_exp, log_sum_exp, log_sum_exp_slice};
pub(crate) use near_one::ln_hyp2f1_a_plus_one_near_one;
