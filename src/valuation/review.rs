//! "Since last review": what a manager reads at a review besides the equity report: the equity
//! bridge from the previous review, the biggest migrations between asset classes and segments,
//! and the customers gained and lost with the most value.

use rust_decimal::Decimal;

use super::bridge::{BridgeError, EquityBridge, LossRule};
use super::migration::{Migration, MigrationDimension, MigrationError, MoveRanking};
use super::report::EquityReport;
use crate::ledger::Ledger;
use crate::records::CustomerId;

/// One customer gained or lost since the previous review.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CustomerChange {
    /// The customer.
    pub id: CustomerId,
    /// Their value at the previous review (none for a customer gained).
    pub previous_clv: Option<Decimal>,
    /// Their value now.
    pub clv: Decimal,
}

/// One of the biggest moves between two states of a dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BiggestMove {
    /// `asset_class`, or the segmenter's name.
    pub dimension: String,
    /// The state at the previous review.
    pub from: String,
    /// The state now.
    pub to: String,
    /// Customers who moved.
    pub customers: usize,
    /// Their equity at the previous review.
    pub equity_from: Decimal,
    /// Their equity now.
    pub equity_to: Decimal,
}

/// Why the section could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// The bridge could not be drawn.
    #[error(transparent)]
    Bridge(#[from] BridgeError),
    /// A migration matrix could not be made.
    #[error(transparent)]
    Migration(#[from] MigrationError),
}

/// The "since last review" section (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SinceLastReview {
    /// The equity bridge from the previous review to this one.
    pub bridge: EquityBridge,
    /// Per dimension (asset class, then each segmenter of both reports), the moves between two
    /// states with the most equity at the previous review, largest first.
    pub biggest_migrations: Vec<BiggestMove>,
    /// The customers acquired since the previous review with the highest value now.
    pub top_gained: Vec<CustomerChange>,
    /// The customers lost since the previous review (by the bridge's rule) with the highest
    /// value at the previous review.
    pub top_lost: Vec<CustomerChange>,
}

impl SinceLastReview {
    /// The section for `current` given the `previous` review (and `current` valued with the
    /// previous review's models when the models were refitted, as for
    /// [`EquityBridge::new`]), with the `top` biggest moves per dimension and customers gained
    /// and lost.
    ///
    /// # Errors
    ///
    /// Those of [`EquityBridge::new`] and of [`Migration::between`].
    pub fn new(
        previous: &EquityReport,
        current: &EquityReport,
        current_at_previous_models: Option<&EquityReport>,
        ledger: &Ledger,
        loss_rule: LossRule,
        top: usize,
    ) -> Result<Self, ReviewError> {
        let bridge = EquityBridge::new(
            previous,
            current,
            current_at_previous_models,
            ledger,
            loss_rule,
        )?;
        let mut dimensions = vec![MigrationDimension::AssetClass];
        if let (Some(a), Some(b)) = (previous.customers.first(), current.customers.first()) {
            for (name, _) in &b.segments {
                if a.segments.iter().any(|(n, _)| n == name) {
                    dimensions.push(MigrationDimension::Segmenter(name.clone()));
                }
            }
        }
        let mut biggest_migrations = Vec::new();
        for dimension in dimensions {
            let name = match &dimension {
                MigrationDimension::Segmenter(name) => name.to_string(),
                _ => "asset_class".to_owned(),
            };
            let migration = Migration::between(previous, current, dimension)?;
            for cell in migration.biggest_moves(MoveRanking::EquityFrom, top) {
                biggest_migrations.push(BiggestMove {
                    dimension: name.clone(),
                    from: cell.from().to_string(),
                    to: cell.to().to_string(),
                    customers: cell.count(),
                    equity_from: cell.equity_from(),
                    equity_to: cell.equity_to(),
                });
            }
        }
        let previous_clv = |id: &CustomerId| {
            previous
                .customers
                .binary_search_by(|c| c.id.cmp(id))
                .ok()
                .map(|k| previous.customers[k].clv)
        };
        let lost = bridge.lost_customers(current, ledger)?;
        let mut top_gained: Vec<CustomerChange> = Vec::new();
        let mut top_lost: Vec<CustomerChange> = Vec::new();
        for c in &current.customers {
            match previous_clv(&c.id) {
                None => top_gained.push(CustomerChange {
                    id: c.id.clone(),
                    previous_clv: None,
                    clv: c.clv,
                }),
                Some(clv) if lost.contains(&c.id) => top_lost.push(CustomerChange {
                    id: c.id.clone(),
                    previous_clv: Some(clv),
                    clv: c.clv,
                }),
                Some(_) => {}
            }
        }
        // Largest first, ties by id (the reports list customers by id).
        top_gained.sort_by_key(|c| std::cmp::Reverse(c.clv));
        top_lost.sort_by_key(|c| std::cmp::Reverse(c.previous_clv));
        top_gained.truncate(top);
        top_lost.truncate(top);
        Ok(SinceLastReview {
            bridge,
            biggest_migrations,
            top_gained,
            top_lost,
        })
    }
}
