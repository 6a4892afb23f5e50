//! The validated ledger: customers, transactions and feedback collected in any order and from
//! several sources, checked against each other.

mod erasure;
mod pseudonymize;
mod referrals;
#[cfg(feature = "serde")]
mod serial;
mod store;
mod upkeep;

pub use erasure::{Erasure, ErasurePolicy};
#[cfg(feature = "serde")]
pub use serial::LedgerWithContactDetails;
pub use store::{Added, Ledger, LedgerError, LedgerOptions, MAX_CUSTOMERS};
pub use upkeep::{ConsentScope, Freshness, StaleAttribute, Upserted};
// The merge grain and return policy are summary settings the ledger passes on; re-exported here
// because they are part of the ledger's options.
pub use crate::summary::{Grain, ReturnPolicy};
