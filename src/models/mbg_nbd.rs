//! The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
//! of models for customer base analysis", *International Journal of Research in Marketing* 24(3)).
//!
//! As BG/NBD, but a customer may also drop out right after the first purchase (at time 0), so a
//! customer without repeat purchases is not certainly alive:
//! ln L = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x+1) - ln B(a, b)
//!        + ln[(α+T)^-(r+x) + a/(b+x) (α+t_x)^-(r+x)].
//!
//! ```
//! use customer_assets::models::mbg_nbd::MbgNbd;
//! use customer_assets::{History, TimeUnit, TransactionModel};
//!
//! let model = MbgNbd::new(0.525, 6.183, 0.891, 1.614, TimeUnit::WEEKS)?;
//! let p = model.p_alive(&History::new(0, 0.0, 38.86), 0.0)?;
//! assert!(p < 1.0); // unlike BG/NBD, a customer without repeat purchases may be gone
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::fit::FitReport;
use crate::models::btyd::BetaGeometric;
use crate::models::{History, PredictError, TransactionModel};
use crate::time::TimeUnit;

crate::models::btyd::beta_geometric_family! {
    model: MbgNbd,
    params: MbgNbdParams,
    parameters: MbgNbdParameters,
    raw: MbgNbdRaw,
    raw_name: "MbgNbdRaw",
    name: "mbg-nbd",
    title: "MBG/NBD",
    offset: 1.0,
}
