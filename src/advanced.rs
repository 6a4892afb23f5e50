//! The numerical building blocks behind the models, public so that they can be checked,
//! benchmarked and reused: the logarithm of the Gauss hypergeometric function ₂F₁ with its
//! analytic partial derivatives, and log-space helpers.
//!
//! They are not part of the modelling vocabulary (records, ledger, summaries, models, valuation)
//! and may change in a minor release more readily than it. The optimizer the models fit with is
//! crate-private; its settings and results are [`crate::fit`]'s public types.
//!
//! ₂F₁ is summed as its power series after a transformation that keeps the series argument in
//! [0, 1) and its terms decaying fast (Pfaff for z < 0, Euler where a + b − c > 0). The sum stops
//! when a rigorous bound on the remaining tail is below 2⁻⁵³ of the partial sum; an iteration cap
//! of [`MAX_TERMS`] turns a series that cannot converge in time into
//! [`SpecialError::NotConverged`], never into a silent partial sum.
//!
//! ```
//! use customer_assets::advanced::ln_hyp2f1;
//! // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z
//! let z: f64 = 0.5;
//! assert!((ln_hyp2f1(1.0, 1.0, 2.0, z)? - (-(1.0 - z).ln() / z).ln()).abs() < 1e-14);
//! # Ok::<(), customer_assets::advanced::SpecialError>(())
//! ```

pub use crate::special::{
    ln_1m_exp, ln_hyp2f1, ln_hyp2f1_a_plus_one_grad, ln_hyp2f1_grad, log_diff_exp, log_sum_exp,
    log_sum_exp_slice, SpecialError, MAX_TERMS,
};
