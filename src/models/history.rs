//! One customer's purchase history as the transaction models see it: x, t_x and T.

use super::error::PredictError;

/// One customer's purchase history as the transaction models see it: x repeat purchases, the
/// last at t_x, observed for T since the first purchase (t_x and T in the model's time unit; for
/// discrete-time models, whole periods).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct History {
    /// x: number of repeat purchases.
    pub frequency: u32,
    /// t_x: time of the last purchase since the first.
    pub recency: f64,
    /// T: time observed since the first purchase.
    pub age: f64,
}

impl History {
    /// A history from x, t_x and T.
    pub fn new(frequency: u32, recency: f64, age: f64) -> Self {
        History {
            frequency,
            recency,
            age,
        }
    }

    /// A customer just acquired: x = 0, t_x = 0, T = 0 (the prior is the posterior).
    pub const fn new_customer() -> Self {
        History {
            frequency: 0,
            recency: 0.0,
            age: 0.0,
        }
    }

    /// Checks 0 <= t_x <= T, both finite, and t_x = 0 when x = 0.
    ///
    /// # Errors
    /// A [`PredictError::InvalidInput`] naming `age` or `recency` when they break those rules.
    pub fn validate(&self) -> Result<(), PredictError> {
        let bad = |name, value, reason| {
            Err(PredictError::InvalidInput {
                name,
                value,
                reason,
            })
        };
        if !(self.age.is_finite() && self.age >= 0.0) {
            return bad("age", self.age, "must be finite and non-negative");
        }
        if !(self.recency.is_finite() && self.recency >= 0.0 && self.recency <= self.age) {
            return bad("recency", self.recency, "must be finite and within 0..=age");
        }
        if self.frequency == 0 && self.recency != 0.0 {
            return bad("recency", self.recency, "must be 0 when frequency is 0");
        }
        Ok(())
    }
}

impl From<&crate::summary::Pattern> for History {
    fn from(p: &crate::summary::Pattern) -> Self {
        History::new(p.frequency(), p.recency(), p.age())
    }
}

impl From<&crate::summary::CustomerSummary> for History {
    fn from(s: &crate::summary::CustomerSummary) -> Self {
        History::new(s.frequency(), s.recency(), s.age())
    }
}
