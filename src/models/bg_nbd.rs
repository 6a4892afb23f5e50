//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way: an
//! alternative to the Pareto/NBD model", *Marketing Science* 24(2)).
//!
//! While alive, a customer buys at a Poisson rate λ ~ gamma(r, α) (shape r, rate α per time
//! unit); after each repeat purchase they drop out with probability p ~ beta(a, b). Fitted by
//! maximum likelihood on weighted (x, t_x, T) patterns:
//! ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
//!        + ln[(α+T)^−(r+x) + 𝟙(x > 0) a/(b+x−1) (α+t_x)^−(r+x)].
//!
//! The model is the [`BG` variant](Bg) of the generic [`BetaGeometric`] family, which it shares
//! with [MBG/NBD](crate::models::mbg_nbd).
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters, BgNbdParams};
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! // A model from published parameters (CDNOW, weeks) ...
//! let parameters = BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
//! let model = BgNbd::new(parameters, TimeUnit::WEEKS)?;
//! let h = History::new(2, 30.43, 38.86);
//! assert!((model.p_alive(&h, 0.0)? - 0.7266).abs() < 1e-3);
//! // ... or fitted on patterns, with its report and covariance.
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
//! ])?;
//! let fitted = BgNbdParams::new().fit(&patterns)?;
//! assert!(fitted.report().is_some_and(|r| r.converged));
//! assert!(fitted.standard_errors().is_some_and(|se| se.r > 0.0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::models::beta_geometric::Bg;
use crate::models::beta_geometric::{BetaGeometric, BetaGeometricParameters, BetaGeometricParams};

/// A BG/NBD model, fitted ([`BgNbdParams`]) or at given parameters ([`BetaGeometric::new`]).
pub type BgNbd = BetaGeometric<Bg>;

/// How to fit BG/NBD: fit options and a first starting point.
pub type BgNbdParams = BetaGeometricParams<Bg>;

/// The BG/NBD parameters r, α (per time unit), a, b.
pub type BgNbdParameters = BetaGeometricParameters;
