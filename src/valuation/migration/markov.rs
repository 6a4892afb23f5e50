//! The Markov view of a migration matrix: transition shares and the projection of a mix.

use chrono::NaiveDate;

use super::states::{MigrationError, MigrationState};

/// Transition shares: for each state at D1, the share of its customers in each state at D2 and
/// gone ([`Migration::transitions`](super::Migration::transitions)). Each row with customers sums
/// to 1; a row without customers has no shares (`None`), never NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Transitions {
    from: NaiveDate,
    to: NaiveDate,
    /// The dimension's states: the rows; the columns are these then `Gone`.
    states: Vec<MigrationState>,
    shares: Vec<Option<Vec<f64>>>,
}

impl Transitions {
    pub(super) fn new(
        from: NaiveDate,
        to: NaiveDate,
        states: Vec<MigrationState>,
        shares: Vec<Option<Vec<f64>>>,
    ) -> Self {
        Transitions {
            from,
            to,
            states,
            shares,
        }
    }

    /// The dates of the two reports (D1, D2): the period of one step.
    pub fn dates(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.to)
    }

    /// The rows: the dimension's states.
    pub fn rows(&self) -> &[MigrationState] {
        &self.states
    }

    /// The columns: the states, then [`MigrationState::Gone`].
    pub fn columns(&self) -> impl Iterator<Item = &MigrationState> + '_ {
        self.states
            .iter()
            .chain(std::iter::once(&MigrationState::Gone))
    }

    /// The shares of row `from`, in column order; `None` when no customer was in `from` at D1
    /// or `from` is not a row.
    pub fn row(&self, from: &MigrationState) -> Option<&[f64]> {
        let r = self.states.iter().position(|s| s == from)?;
        self.shares[r].as_deref()
    }

    /// The share of the customers in `from` at D1 who were in `to` at D2 (or gone); `None` when
    /// the row has no customers or either state is not in the matrix.
    pub fn share(&self, from: &MigrationState, to: &MigrationState) -> Option<f64> {
        let row = self.row(from)?;
        let c = match to {
            MigrationState::Gone => self.states.len(),
            s => self.states.iter().position(|x| x == s)?,
        };
        row.get(c).copied()
    }

    /// Projects a mix one step ahead: each state's count spread over the states and `Gone` by
    /// its row. A state repeated in `mix` adds up. Counts in a state whose row has no shares
    /// (nobody held it at D1) cannot be projected and are reported in
    /// [`Projection::unprojected`].
    ///
    /// # Errors
    ///
    /// [`MigrationError::UnknownState`] for a state that is not a row (`New`, `Gone` or a state
    /// of another matrix); [`MigrationError::InvalidMix`] for a count that is negative, NaN or
    /// infinite.
    pub fn project(&self, mix: &[(MigrationState, f64)]) -> Result<Projection, MigrationError> {
        let mut dense = vec![0.0; self.states.len()];
        for (state, count) in mix {
            let r = self.states.iter().position(|s| s == state).ok_or_else(|| {
                MigrationError::UnknownState {
                    state: state.to_string(),
                }
            })?;
            if !count.is_finite() || *count < 0.0 {
                return Err(MigrationError::InvalidMix {
                    state: state.to_string(),
                    value: count.to_string(),
                });
            }
            dense[r] += count;
        }
        if dense.iter().any(|c| !c.is_finite()) {
            return Err(MigrationError::InvalidMix {
                state: "the sum of the mix".into(),
                value: "infinite".into(),
            });
        }
        Ok(self.project_dense(&dense))
    }

    /// `mix[r]`: the finite, non-negative count of row `r`.
    pub(super) fn project_dense(&self, mix: &[f64]) -> Projection {
        let k = self.states.len();
        let mut ahead = vec![0.0; k + 1];
        let mut unprojected = Vec::new();
        for ((state, count), shares) in self.states.iter().zip(mix).zip(&self.shares) {
            match shares {
                Some(shares) => {
                    for (a, s) in ahead.iter_mut().zip(shares) {
                        *a += count * s;
                    }
                }
                None if *count > 0.0 => unprojected.push((state.clone(), *count)),
                None => {}
            }
        }
        let gone = ahead.pop().unwrap_or(0.0);
        Projection {
            states: self.states.clone(),
            customers: ahead,
            gone,
            unprojected,
        }
    }
}

/// A mix of customers projected one step ahead ([`Migration::projection`](super::Migration::projection),
/// [`Transitions::project`]): expected customers per state, expected gone, and what could not be
/// projected. Customers who arrive during the step (inflow) are not part of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    states: Vec<MigrationState>,
    customers: Vec<f64>,
    gone: f64,
    unprojected: Vec<(MigrationState, f64)>,
}

impl Projection {
    /// The states, in the matrix's order.
    pub fn states(&self) -> &[MigrationState] {
        &self.states
    }

    /// Expected customers in each state, in [`states`](Self::states) order.
    pub fn customers(&self) -> &[f64] {
        &self.customers
    }

    /// Expected customers in `state`; `None` when it is not a state of the matrix.
    pub fn customers_in(&self, state: &MigrationState) -> Option<f64> {
        let i = self.states.iter().position(|s| s == state)?;
        self.customers.get(i).copied()
    }

    /// Expected customers retained: the sum over the states.
    pub fn retained(&self) -> f64 {
        self.customers.iter().sum()
    }

    /// Expected customers gone by the end of the step.
    pub fn gone(&self) -> f64 {
        self.gone
    }

    /// The counts of the mix in states with no transition row (nobody held them at D1), by
    /// state: not projected.
    pub fn unprojected(&self) -> &[(MigrationState, f64)] {
        &self.unprojected
    }

    /// The sum of [`unprojected`](Self::unprojected).
    pub fn unprojected_total(&self) -> f64 {
        self.unprojected.iter().map(|(_, n)| n).sum()
    }

    /// The projected mix as shares of the retained customers, in [`states`](Self::states)
    /// order; `None` when none is expected to be retained.
    pub fn shares(&self) -> Option<Vec<f64>> {
        let total = self.retained();
        (total > 0.0).then(|| self.customers.iter().map(|c| c / total).collect())
    }
}
