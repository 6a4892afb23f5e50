//! The numeric features of a customer that segmenters read.

use std::fmt;

/// A numeric feature of a customer that segmenters can read.
///
/// Durations are in the profile's [`TimeUnit`](crate::time::TimeUnit); money as `f64` in the currency of the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Feature {
    /// x: repeat purchase periods.
    Frequency,
    /// t_x: time from the first to the last purchase.
    Recency,
    /// T: time from the first purchase to the as-of date.
    Age,
    /// T − t_x: time from the last purchase to the as-of date (lower is more recent).
    TimeSinceLastPurchase,
    /// Mean spend of the repeat purchases (the first excluded).
    MonetaryValue,
    /// Net spend over all purchases.
    TotalSpend,
    /// Number of orders.
    Orders,
    /// Total spend per order.
    AverageOrderValue,
    /// P(alive) supplied from a fitted model.
    PAlive,
    /// CLV supplied from a fitted model (or any value estimate).
    Clv,
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Feature::Frequency => "frequency",
            Feature::Recency => "recency",
            Feature::Age => "age",
            Feature::TimeSinceLastPurchase => "time_since_last_purchase",
            Feature::MonetaryValue => "monetary_value",
            Feature::TotalSpend => "total_spend",
            Feature::Orders => "orders",
            Feature::AverageOrderValue => "average_order_value",
            Feature::PAlive => "p_alive",
            Feature::Clv => "clv",
        };
        f.write_str(name)
    }
}
