//! The migration matrix between two equity reports.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::records::CustomerId;
use crate::segment::asset_quality::AssetClass;
use crate::valuation::report::EquityReport;

use super::markov::{Projection, Transitions};
use super::states::{MigrationDimension, MigrationError, MigrationState, GONE, NEW, NO_TIER};

/// One cell of a migration matrix: the customers in state `from` at the earlier date and in state
/// `to` at the later one.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationCell {
    pub(super) from: MigrationState,
    pub(super) to: MigrationState,
    pub(super) customers: Vec<CustomerId>,
    pub(super) equity_from: Decimal,
    pub(super) equity_to: Decimal,
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
/// [module documentation](crate::valuation::migration) for the states and their order).
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub(super) dimension: MigrationDimension,
    pub(super) from: NaiveDate,
    pub(super) to: NaiveDate,
    /// The dimension's states; rows are these then `New`, columns these then `Gone`.
    pub(super) states: Vec<MigrationState>,
    /// Row-major, `(states + 1)²` cells.
    pub(super) cells: Vec<MigrationCell>,
    /// The sums of the cells' equity at D1 and at D2.
    pub(super) equity: (Decimal, Decimal),
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
