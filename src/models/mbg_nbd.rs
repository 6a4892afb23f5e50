//! The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
//! of models for customer base analysis", *International Journal of Research in Marketing* 24(3)).
//!
//! As BG/NBD, but a customer may also drop out right after the first purchase (at time 0), so a
//! customer without repeat purchases is not certainly alive:
//! ln L = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x+1) − ln B(a, b)
//!        + ln[(α+T)^−(r+x) + a/(b+x) (α+t_x)^−(r+x)].
//!
//! The model is the [`MBG` variant](Mbg) of the generic [`BetaGeometric`] family.
//!
//! ```
//! use customer_assets::fit::Fit;
//! use customer_assets::models::mbg_nbd::{MbgNbd, MbgNbdParameters, MbgNbdParams};
//! use customer_assets::{History, Patterns, TimeUnit, TransactionModel};
//!
//! let parameters = MbgNbdParameters { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
//! let model = MbgNbd::new(parameters, TimeUnit::WEEKS)?;
//! let p = model.p_alive(&History::new(0, 0.0, 38.86), 0.0)?;
//! assert!(p < 1.0); // unlike BG/NBD, a customer without repeat purchases may be gone
//!
//! let patterns = Patterns::new(TimeUnit::WEEKS, [
//!     (0, 0.0, 38.0, 60.0), (1, 20.0, 38.0, 20.0), (3, 30.0, 36.0, 10.0), (6, 34.0, 37.0, 6.0), (2, 5.0, 35.0, 8.0),
//! ])?;
//! let fitted = MbgNbdParams::new().fit(&patterns)?;
//! assert_eq!(fitted.unit(), TimeUnit::WEEKS);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use crate::models::beta_geometric::Mbg;
use crate::models::beta_geometric::{BetaGeometric, BetaGeometricParameters, BetaGeometricParams};

/// An MBG/NBD model, fitted ([`MbgNbdParams`]) or at given parameters ([`BetaGeometric::new`]).
pub type MbgNbd = BetaGeometric<Mbg>;

/// How to fit MBG/NBD: fit options and a first starting point.
pub type MbgNbdParams = BetaGeometricParams<Mbg>;

/// The MBG/NBD parameters r, α (per time unit), a, b.
pub type MbgNbdParameters = BetaGeometricParameters;
