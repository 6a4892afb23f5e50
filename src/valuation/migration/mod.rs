//! Migration matrices: how customers, and the equity they carry, moved between the states of one
//! dimension (asset class, a segmenter's labels, loyalty tier) from one review date to the next.
//!
//! [`Migration::between`] compares two [`EquityReport`]s, at D1 and at a later D2. Rows are the
//! states at D1, columns the states at D2. Two explicit states make the matrix cover both bases:
//! the row [`MigrationState::New`] holds the customers of D2 who are not in the D1 report, the
//! column [`MigrationState::Gone`] the customers of D1 who are not in the D2 report. Every customer
//! of either report is in exactly one cell ([`MigrationCell`]: the customers, their count, the sum
//! of their CLV at D1 and at D2), so the rows add up to the D1 base and its equity, the columns to
//! the D2 base and its equity.
//!
//! States, in this order (the order of [`Migration::states`]):
//! - asset classes: all four, in [`AssetClass::ALL`] order, whether held or not;
//! - a segmenter's labels: those held by some customer in either report, sorted by their text
//!   (byte order);
//! - loyalty tiers: the tiers held by some customer in either report, sorted by their text, then
//!   [`MigrationState::NoTier`] (always present) for customers without a tier.
//!
//! Rows are the states then `New`; columns the states then `Gone`. In text and JSON the explicit
//! states read `(new)`, `(gone)` and `(no tier)`: a label spelt like one of them is an error
//! ([`MigrationError::ReservedLabel`]), so a state's text names one state.
//!
//! The Markov view ([`Migration::transitions`]) divides each D1 row by its total (the D2 states and
//! `Gone`), and [`Migration::projection`] applies it to the D2 mix: the customers expected in each
//! state one period further on, and those expected to be gone. New customers are not projected
//! (the matrix says nothing of future inflow).
//!
//! ```
//! use chrono::NaiveDate;
//! use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
//! use customer_assets::models::gamma_gamma::{GammaGamma, GammaGammaParameters};
//! use customer_assets::segment::asset_quality::AssetClass;
//! use customer_assets::simulate::{simulate, BgNbdProcess, GammaGammaSpend, SimulationOptions};
//! use customer_assets::valuation::{
//!     DiscountRate, EquityReport, Migration, MigrationDimension, MigrationState, Valuation,
//! };
//! use customer_assets::{Ledger, LedgerOptions, TimeUnit};
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).ok_or("bad date");
//! let base = simulate(
//!     &BgNbdProcess::new(0.25, 4.4, 0.8, 2.4)?,
//!     &SimulationOptions::new(300, day(1, 1)?, day(12, 31)?, TimeUnit::WEEKS, 1)
//!         .acquisition_days(200)
//!         .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?),
//! )?;
//! let mut ledger = Ledger::new(LedgerOptions::default());
//! ledger.extend_transactions(base.transactions().iter().cloned())?;
//! let value = |as_of| -> Result<EquityReport, Box<dyn std::error::Error>> {
//!     Ok(Valuation::builder()
//!         .ledger(&ledger)
//!         .as_of(as_of)
//!         .unit(TimeUnit::WEEKS)
//!         .transaction_model(BgNbd::new(
//!             BgNbdParameters { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
//!             TimeUnit::WEEKS,
//!         )?)
//!         .spend_model(GammaGamma::new(GammaGammaParameters { p: 6.25, q: 3.74, gamma: 15.44 })?)
//!         .margin(0.3)
//!         .discount(DiscountRate::per_period(0.10, 365.0)?)
//!         .horizon(52.0)
//!         .build()?
//!         .run()?)
//! };
//! let (q3, q4) = (value(day(9, 30)?)?, value(day(12, 31)?)?);
//!
//! let migration = Migration::between(&q3, &q4, MigrationDimension::AssetClass)?;
//! // Every customer of either report is in one cell; the columns add up to Q4's equity.
//! let customers: usize = migration.cells().map(|c| c.count()).sum();
//! assert!(customers >= q4.customers.len());
//! assert_eq!(migration.equity_to(), q4.equity);
//! let stayed = migration
//!     .cell(&MigrationState::Class(AssetClass::Grow), &MigrationState::Class(AssetClass::Grow))
//!     .ok_or("no such cell")?;
//! assert!(stayed.customers().len() == stayed.count());
//! // Shares of each Q3 row, and Q4's mix one period ahead.
//! let shares = migration.transitions();
//! for state in shares.rows() {
//!     if let Some(row) = shares.row(state) {
//!         assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
//!     }
//! }
//! let ahead = migration.projection();
//! let in_q4 = q4.customers.len() as f64;
//! assert!((ahead.retained() + ahead.gone() + ahead.unprojected_total() - in_q4).abs() < 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::report::EquityReport;
use crate::records::CustomerId;
use crate::segment::asset_quality::AssetClass;

#[cfg(feature = "serde")]
mod json;
mod markov;

#[cfg(feature = "serde")]
pub use json::MigrationWithIds;
pub use markov::{Projection, Transitions};

/// The text of [`MigrationState::New`].
const NEW: &str = "(new)";
/// The text of [`MigrationState::Gone`].
const GONE: &str = "(gone)";
/// The text of [`MigrationState::NoTier`].
const NO_TIER: &str = "(no tier)";

/// What customers migrate between.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MigrationDimension {
    /// The CLV × P(alive) asset class ([`CustomerValue::asset_class`](super::CustomerValue::asset_class)).
    AssetClass,
    /// The labels of the segmenter of this name ([`CustomerValue::segments`](super::CustomerValue::segments)),
    /// e.g. `"rfm"` or `"lifecycle"`.
    Segmenter(Arc<str>),
    /// The loyalty tier ([`CustomerValue::tier`](super::CustomerValue::tier)).
    Tier,
}

impl MigrationDimension {
    /// The labels of the segmenter named `name`.
    pub fn segmenter(name: impl Into<Arc<str>>) -> Self {
        MigrationDimension::Segmenter(name.into())
    }

    /// `"asset_class"`, `"segmenter"` or `"tier"` (the JSON's `dimension`).
    pub fn kind(&self) -> &'static str {
        match self {
            MigrationDimension::AssetClass => "asset_class",
            MigrationDimension::Segmenter(_) => "segmenter",
            MigrationDimension::Tier => "tier",
        }
    }
}

impl fmt::Display for MigrationDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationDimension::AssetClass => f.write_str("asset class"),
            MigrationDimension::Segmenter(name) => write!(f, "segmenter {name:?}"),
            MigrationDimension::Tier => f.write_str("loyalty tier"),
        }
    }
}

/// A row or column of a migration matrix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MigrationState {
    /// Row only: customers in the later report and not in the earlier one. Reads `(new)`.
    New,
    /// An asset class.
    Class(AssetClass),
    /// A segmenter's label or a loyalty tier.
    Label(Arc<str>),
    /// Tier dimension only: customers holding no tier. Reads `(no tier)`.
    NoTier,
    /// Column only: customers in the earlier report and not in the later one. Reads `(gone)`.
    Gone,
}

impl MigrationState {
    /// A segmenter's label or a tier, by its text.
    pub fn label(text: &str) -> Self {
        MigrationState::Label(Arc::from(text))
    }

    /// Whether this is a state of the dimension itself (not `New` or `Gone`).
    pub fn is_held(&self) -> bool {
        !matches!(self, MigrationState::New | MigrationState::Gone)
    }
}

impl fmt::Display for MigrationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationState::New => f.write_str(NEW),
            MigrationState::Class(c) => c.fmt(f),
            MigrationState::Label(l) => f.write_str(l),
            MigrationState::NoTier => f.write_str(NO_TIER),
            MigrationState::Gone => f.write_str(GONE),
        }
    }
}

/// Why a migration matrix or a projection could not be made. Each variant names the report (by
/// its as-of date), the customer or the state at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The reports are not in date order (the earlier first) or share a date.
    #[error("migration from {from} to {to}: the first report must be dated before the second")]
    DatesOutOfOrder {
        /// The first report's as-of date.
        from: NaiveDate,
        /// The second report's as-of date.
        to: NaiveDate,
    },
    /// The report lists only consenting customers
    /// ([`EquityReport::retain_consenting`]): customers left out would read as gone or new.
    #[error("the report as of {as_of} lists only consenting customers: migrate the whole base, then restrict the customer lists")]
    ConsentFiltered {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// The report has no segmenter of this name.
    #[error("the report as of {as_of} has no segmenter named {segmenter:?}")]
    MissingSegmenter {
        /// The name asked for.
        segmenter: String,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A customer has no label from the segmenter.
    #[error(
        "customer {customer} in the report as of {as_of} has no label from segmenter {segmenter:?}"
    )]
    MissingLabel {
        /// The segmenter.
        segmenter: String,
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// No customer of the report holds a tier (the valuation was run without tier rules).
    #[error("the report as of {as_of} has no loyalty tiers")]
    NoTiers {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A customer is listed twice in one report.
    #[error("customer {customer} is listed twice in the report as of {as_of}")]
    DuplicateCustomer {
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A label reads like one of the matrix's own states, `(new)`, `(gone)` or `(no tier)`.
    #[error("customer {customer} in the report as of {as_of} has the label {label:?}, which names a state of the migration matrix itself")]
    ReservedLabel {
        /// The label.
        label: String,
        /// The customer.
        customer: CustomerId,
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A sum of CLV does not fit a decimal amount (about ±7.9 × 10²⁸).
    #[error(
        "the equity of the customers moving from {from} to {to} does not fit a decimal amount"
    )]
    SumOverflow {
        /// The cell's row.
        from: String,
        /// The cell's column.
        to: String,
    },
    /// A report's equity, the sum of its customers' CLV, does not fit a decimal amount.
    #[error("the equity of the report as of {as_of} does not fit a decimal amount")]
    TotalOverflow {
        /// The report's as-of date.
        as_of: NaiveDate,
    },
    /// A mix to project names a state that is not a row of the transition matrix.
    #[error("the mix names {state}, which is not a row of the transition matrix")]
    UnknownState {
        /// The state.
        state: String,
    },
    /// A mix to project has a count that is negative, NaN or infinite.
    #[error("the mix's count for {state} is {value}: must be finite and at least 0")]
    InvalidMix {
        /// The state.
        state: String,
        /// The count, as text.
        value: String,
    },
}

/// One cell of a migration matrix: the customers in state `from` at the earlier date and in state
/// `to` at the later one.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationCell {
    from: MigrationState,
    to: MigrationState,
    customers: Vec<CustomerId>,
    equity_from: Decimal,
    equity_to: Decimal,
}

impl MigrationCell {
    fn new(from: MigrationState, to: MigrationState) -> Self {
        MigrationCell {
            from,
            to,
            customers: Vec::new(),
            equity_from: Decimal::ZERO,
            equity_to: Decimal::ZERO,
        }
    }

    /// The state at the earlier date (the row).
    pub fn from(&self) -> &MigrationState {
        &self.from
    }

    /// The state at the later date (the column).
    pub fn to(&self) -> &MigrationState {
        &self.to
    }

    /// The customers, sorted by id.
    pub fn customers(&self) -> &[CustomerId] {
        &self.customers
    }

    /// How many customers.
    pub fn count(&self) -> usize {
        self.customers.len()
    }

    /// The sum of their CLV in the earlier report (0 in the `New` row).
    pub fn equity_from(&self) -> Decimal {
        self.equity_from
    }

    /// The sum of their CLV in the later report (0 in the `Gone` column).
    pub fn equity_to(&self) -> Decimal {
        self.equity_to
    }

    /// Whether the cell is a move between two different states of the dimension (neither `New`
    /// nor `Gone`).
    pub fn is_move(&self) -> bool {
        self.from.is_held() && self.to.is_held() && self.from != self.to
    }
}

/// What [`Migration::biggest_moves`] ranks the moves by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoveRanking {
    /// The number of customers.
    Customers,
    /// Their equity at the earlier date: the value that left the row's state.
    EquityFrom,
    /// Their equity at the later date: the value that arrived in the column's state.
    EquityTo,
}

/// A migration matrix between two equity reports for one dimension (see the
/// [module documentation](self) for the states and their order).
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    dimension: MigrationDimension,
    from: NaiveDate,
    to: NaiveDate,
    /// The dimension's states; rows are these then `New`, columns these then `Gone`.
    states: Vec<MigrationState>,
    /// Row-major, `(states + 1)²` cells.
    cells: Vec<MigrationCell>,
    /// The sums of the cells' equity at D1 and at D2.
    equity: (Decimal, Decimal),
}

/// One report's customers: id, state index, CLV.
type Entry<'r> = (&'r CustomerId, usize, Decimal);

impl Migration {
    /// The migration matrix of `dimension` from the report `from` (at D1) to the report `to` (at
    /// D2 > D1).
    ///
    /// # Errors
    ///
    /// - [`MigrationError::DatesOutOfOrder`] unless `from.as_of < to.as_of`;
    /// - [`MigrationError::ConsentFiltered`] for a report restricted to consenting customers;
    /// - [`MigrationError::MissingSegmenter`], [`MigrationError::MissingLabel`] or
    ///   [`MigrationError::NoTiers`] when a report lacks the dimension or a customer its state;
    /// - [`MigrationError::ReservedLabel`] for a label reading `(new)`, `(gone)` or `(no tier)`;
    /// - [`MigrationError::DuplicateCustomer`] for a customer listed twice in one report;
    /// - [`MigrationError::SumOverflow`] or [`MigrationError::TotalOverflow`] when a cell's or a
    ///   report's equity does not fit a decimal amount.
    pub fn between(
        from: &EquityReport,
        to: &EquityReport,
        dimension: MigrationDimension,
    ) -> Result<Self, MigrationError> {
        if from.as_of >= to.as_of {
            return Err(MigrationError::DatesOutOfOrder {
                from: from.as_of,
                to: to.as_of,
            });
        }
        for r in [from, to] {
            if r.consent.is_some() {
                return Err(MigrationError::ConsentFiltered { as_of: r.as_of });
            }
        }
        let (states, mut a, mut b) = match &dimension {
            MigrationDimension::AssetClass => {
                let states = AssetClass::ALL.map(MigrationState::Class).to_vec();
                (states, class_entries(from), class_entries(to))
            }
            MigrationDimension::Segmenter(name) => {
                let la = segment_labels(from, name)?;
                let lb = segment_labels(to, name)?;
                labelled(from, to, &la, &lb, None)?
            }
            MigrationDimension::Tier => {
                let (ta, tb) = (tiers(from)?, tiers(to)?);
                labelled(from, to, &ta, &tb, Some(MigrationState::NoTier))?
            }
        };
        in_id_order(&mut a, from.as_of)?;
        in_id_order(&mut b, to.as_of)?;
        let k = states.len();
        let rows = states.iter().cloned().chain([MigrationState::New]);
        let mut cells: Vec<MigrationCell> = rows
            .flat_map(|r| {
                states
                    .iter()
                    .cloned()
                    .chain([MigrationState::Gone])
                    .map(move |c| MigrationCell::new(r.clone(), c))
            })
            .collect();
        let width = k + 1;
        let mut put = |row: usize,
                       col: usize,
                       id: &CustomerId,
                       clv_from: Decimal,
                       clv_to: Decimal|
         -> Result<(), MigrationError> {
            let cell = &mut cells[row * width + col];
            let overflow = |cell: &MigrationCell| MigrationError::SumOverflow {
                from: cell.from.to_string(),
                to: cell.to.to_string(),
            };
            cell.equity_from = cell
                .equity_from
                .checked_add(clv_from)
                .ok_or_else(|| overflow(cell))?;
            cell.equity_to = cell
                .equity_to
                .checked_add(clv_to)
                .ok_or_else(|| overflow(cell))?;
            cell.customers.push(id.clone());
            Ok(())
        };
        // A merge of the two id-ordered lists: each cell's customers come out in id order.
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            let order = match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => x.0.cmp(y.0),
                (Some(_), None) => Ordering::Less,
                _ => Ordering::Greater,
            };
            match order {
                Ordering::Less => {
                    let (id, s, clv) = a[i];
                    put(s, k, id, clv, Decimal::ZERO)?;
                    i += 1;
                }
                Ordering::Greater => {
                    let (id, s, clv) = b[j];
                    put(k, s, id, Decimal::ZERO, clv)?;
                    j += 1;
                }
                Ordering::Equal => {
                    let ((id, s, clv_a), (_, t, clv_b)) = (a[i], b[j]);
                    put(s, t, id, clv_a, clv_b)?;
                    i += 1;
                    j += 1;
                }
            }
        }
        let mut equity = (Decimal::ZERO, Decimal::ZERO);
        for c in &cells {
            equity.0 = (equity.0.checked_add(c.equity_from))
                .ok_or(MigrationError::TotalOverflow { as_of: from.as_of })?;
            equity.1 = (equity.1.checked_add(c.equity_to))
                .ok_or(MigrationError::TotalOverflow { as_of: to.as_of })?;
        }
        Ok(Migration {
            dimension,
            from: from.as_of,
            to: to.as_of,
            states,
            cells,
            equity,
        })
    }

    /// The dimension.
    pub fn dimension(&self) -> &MigrationDimension {
        &self.dimension
    }

    /// The earlier report's as-of date (D1).
    pub fn from_date(&self) -> NaiveDate {
        self.from
    }

    /// The later report's as-of date (D2).
    pub fn to_date(&self) -> NaiveDate {
        self.to
    }

    /// The dimension's states, in order.
    pub fn states(&self) -> &[MigrationState] {
        &self.states
    }

    /// The rows: the states, then [`MigrationState::New`].
    pub fn rows(&self) -> impl Iterator<Item = &MigrationState> + '_ {
        self.states
            .iter()
            .chain(std::iter::once(&MigrationState::New))
    }

    /// The columns: the states, then [`MigrationState::Gone`].
    pub fn columns(&self) -> impl Iterator<Item = &MigrationState> + '_ {
        self.states
            .iter()
            .chain(std::iter::once(&MigrationState::Gone))
    }

    fn row_index(&self, state: &MigrationState) -> Option<usize> {
        match state {
            MigrationState::New => Some(self.states.len()),
            MigrationState::Gone => None,
            s => self.states.iter().position(|x| x == s),
        }
    }

    fn column_index(&self, state: &MigrationState) -> Option<usize> {
        match state {
            MigrationState::Gone => Some(self.states.len()),
            MigrationState::New => None,
            s => self.states.iter().position(|x| x == s),
        }
    }

    /// The cell of the customers in `from` at D1 and `to` at D2; `None` when `from` is not a row
    /// or `to` not a column (an empty cell of the matrix is `Some`, with no customers).
    pub fn cell(&self, from: &MigrationState, to: &MigrationState) -> Option<&MigrationCell> {
        let (r, c) = (self.row_index(from)?, self.column_index(to)?);
        self.cells.get(r * (self.states.len() + 1) + c)
    }

    /// Every cell, empty ones included, row by row.
    pub fn cells(&self) -> impl Iterator<Item = &MigrationCell> + '_ {
        self.cells.iter()
    }

    /// Customers in the earlier report (every row but `New`).
    pub fn customers_from(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.from != MigrationState::New)
            .map(MigrationCell::count)
            .sum()
    }

    /// Customers in the later report (every column but `Gone`).
    pub fn customers_to(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.to != MigrationState::Gone)
            .map(MigrationCell::count)
            .sum()
    }

    /// The earlier report's equity: the sum of the cells' equity at D1, which is the sum of the
    /// report's CLVs ([`EquityReport::equity`]).
    pub fn equity_from(&self) -> Decimal {
        self.equity.0
    }

    /// The later report's equity: the sum of the cells' equity at D2.
    pub fn equity_to(&self) -> Decimal {
        self.equity.1
    }

    /// The `n` largest moves between two different states of the dimension (cells off the
    /// diagonal, outside the `New` row and the `Gone` column, with customers), largest first by
    /// `by`; ties keep the matrix's row-by-row order. New and gone customers are the inflow and
    /// outflow of the base, read from [`cell`](Self::cell).
    pub fn biggest_moves(&self, by: MoveRanking, n: usize) -> Vec<&MigrationCell> {
        let mut moves: Vec<&MigrationCell> = self
            .cells
            .iter()
            .filter(|c| c.is_move() && c.count() > 0)
            .collect();
        moves.sort_by(|x, y| match by {
            MoveRanking::Customers => y.count().cmp(&x.count()),
            MoveRanking::EquityFrom => y.equity_from.cmp(&x.equity_from),
            MoveRanking::EquityTo => y.equity_to.cmp(&x.equity_to),
        });
        moves.truncate(n);
        moves
    }

    /// The customers of each row in each column, as shares of the row's customers at D1: the
    /// transition matrix of a Markov chain over the states (rows: the states; columns: the
    /// states and `Gone`). The `New` row has no share: new customers had no state at D1.
    pub fn transitions(&self) -> Transitions {
        let width = self.states.len() + 1;
        let shares = self.cells[..self.states.len() * width]
            .chunks(width)
            .map(|row| {
                let total: usize = row.iter().map(MigrationCell::count).sum();
                (total > 0).then(|| {
                    row.iter()
                        .map(|c| c.count() as f64 / total as f64)
                        .collect()
                })
            })
            .collect();
        Transitions::new(self.from, self.to, self.states.clone(), shares)
    }

    /// The D2 base's mix projected one period (D2 − D1) ahead: the customers at D2 in each state
    /// (new ones included), each state's count spread over the states and `Gone` by its row of
    /// [`transitions`](Self::transitions). Customers arriving after D2 are not projected; those
    /// in a state nobody held at D1 have no row to follow and are counted in
    /// [`Projection::unprojected`], not dropped.
    pub fn projection(&self) -> Projection {
        let width = self.states.len() + 1;
        let mix: Vec<f64> = (0..self.states.len())
            .map(|c| {
                (0..width)
                    .map(|r| self.cells[r * width + c].count())
                    .sum::<usize>() as f64
            })
            .collect();
        self.transitions().project_dense(&mix)
    }
}

/// Each customer's asset class.
fn class_entries(report: &EquityReport) -> Vec<Entry<'_>> {
    report
        .customers
        .iter()
        .map(|c| (&c.id, class_index(c.asset_class), c.clv))
        .collect()
}

/// Each customer's tier, in the report's order; an error when nobody holds one.
fn tiers(report: &EquityReport) -> Result<Vec<Option<&Arc<str>>>, MigrationError> {
    let tiers: Vec<_> = report.customers.iter().map(|c| c.tier.as_ref()).collect();
    if tiers.iter().all(Option::is_none) {
        return Err(MigrationError::NoTiers {
            as_of: report.as_of,
        });
    }
    Ok(tiers)
}

fn class_index(class: AssetClass) -> usize {
    match class {
        AssetClass::Grow => 0,
        AssetClass::Develop => 1,
        AssetClass::WinBack => 2,
        AssetClass::Divest => 3,
    }
}

/// Each customer's label from the segmenter `name`, in the report's order.
fn segment_labels<'r>(
    report: &'r EquityReport,
    name: &str,
) -> Result<Vec<Option<&'r Arc<str>>>, MigrationError> {
    if !report.by_segment.iter().any(|s| s.segmenter == name)
        && !report
            .customers
            .iter()
            .any(|c| c.segments.iter().any(|(n, _)| &**n == name))
    {
        return Err(MigrationError::MissingSegmenter {
            segmenter: name.to_string(),
            as_of: report.as_of,
        });
    }
    report
        .customers
        .iter()
        .map(|c| {
            c.segments
                .iter()
                .find(|(n, _)| &**n == name)
                .map(|(_, label)| Some(label))
                .ok_or_else(|| MigrationError::MissingLabel {
                    segmenter: name.to_string(),
                    customer: c.id.clone(),
                    as_of: report.as_of,
                })
        })
        .collect()
}

/// The states, then each report's entries.
type Labelled<'r> = (Vec<MigrationState>, Vec<Entry<'r>>, Vec<Entry<'r>>);

/// States and entries from each customer's label (`None`: the `missing` state, for tiers).
fn labelled<'r>(
    from: &'r EquityReport,
    to: &'r EquityReport,
    la: &[Option<&Arc<str>>],
    lb: &[Option<&Arc<str>>],
    missing: Option<MigrationState>,
) -> Result<Labelled<'r>, MigrationError> {
    let mut texts: BTreeSet<&str> = BTreeSet::new();
    for (report, labels) in [(from, la), (to, lb)] {
        for (c, label) in report.customers.iter().zip(labels) {
            let Some(label) = label else { continue };
            if !texts.contains(&***label) {
                if [NEW, GONE, NO_TIER].contains(&&***label) {
                    return Err(MigrationError::ReservedLabel {
                        label: label.to_string(),
                        customer: c.id.clone(),
                        as_of: report.as_of,
                    });
                }
                texts.insert(label);
            }
        }
    }
    let index: foldhash::HashMap<&str, usize> =
        texts.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let none = texts.len();
    let mut states: Vec<MigrationState> = texts.iter().map(|t| MigrationState::label(t)).collect();
    states.extend(missing);
    let entries = |report: &'r EquityReport, labels: &[Option<&Arc<str>>]| -> Vec<Entry<'r>> {
        report
            .customers
            .iter()
            .zip(labels)
            .map(|(c, label)| {
                // Every label was indexed above; `None` only with the `missing` state.
                let s = label.and_then(|l| index.get(&**l).copied()).unwrap_or(none);
                (&c.id, s, c.clv)
            })
            .collect()
    };
    let (a, b) = (entries(from, la), entries(to, lb));
    Ok((states, a, b))
}

/// Sorts a report's entries by id when they are not (reports list customers in id order), and
/// rejects a customer listed twice.
fn in_id_order(entries: &mut [Entry<'_>], as_of: NaiveDate) -> Result<(), MigrationError> {
    if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
        entries.sort_by(|x, y| x.0.cmp(y.0));
        if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(MigrationError::DuplicateCustomer {
                customer: w[0].0.clone(),
                as_of,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
