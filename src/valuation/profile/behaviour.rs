//! One customer's behaviour: the measures the attributes are set against.

use rust_decimal::prelude::ToPrimitive;

use crate::records::CustomerId;
use crate::summary::Summaries;
use crate::valuation::report::EquityReport;

use super::error::ProfileError;

/// One customer's behaviour: repeat purchases, mean spend per repeat purchase, P(alive) and CLV.
///
/// `mean_spend` is `None` for a customer without repeat purchases (a summary's monetary value
/// is the mean of the repeat purchases, and there are none): such a customer is left out of the
/// mean-spend rows of the profile, and counted (`without_spend`, `without_measure`), but used
/// for frequency, P(alive) and CLV.
///
/// ```
/// use customer_assets::valuation::profile::Behaviour;
/// use customer_assets::CustomerId;
/// let b = Behaviour::new(CustomerId::from(7u64), 3, Some(24.5), 0.8, 112.0)?;
/// assert_eq!(b.frequency, 3);
/// assert!(Behaviour::new(CustomerId::from(8u64), 0, None, 1.5, 0.0).is_err());
/// # Ok::<(), customer_assets::valuation::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Behaviour {
    /// The customer.
    pub id: CustomerId,
    /// Repeat purchases x.
    pub frequency: u32,
    /// Mean spend per repeat purchase, not negative; `None` without repeat purchases.
    pub mean_spend: Option<f64>,
    /// P(alive), within 0..=1.
    pub p_alive: f64,
    /// CLV in money (finite; may be negative with a negative margin convention, never NaN).
    pub clv: f64,
}

impl Behaviour {
    /// A checked behaviour row.
    ///
    /// # Errors
    /// [`ProfileError::InvalidBehaviour`] for a mean spend that is negative or not finite, a
    /// P(alive) outside 0..=1 or a CLV that is not finite.
    pub fn new(
        id: CustomerId,
        frequency: u32,
        mean_spend: Option<f64>,
        p_alive: f64,
        clv: f64,
    ) -> Result<Self, ProfileError> {
        let row = Behaviour {
            id,
            frequency,
            mean_spend,
            p_alive,
            clv,
        };
        row.check()?;
        Ok(row)
    }

    /// Checks the values (the fields are public, so the profile checks every row again).
    pub(crate) fn check(&self) -> Result<(), ProfileError> {
        let bad = |measure: &'static str, value: f64, reason: &'static str| {
            Err(ProfileError::InvalidBehaviour {
                customer: self.id.clone(),
                measure,
                value,
                reason,
            })
        };
        if let Some(m) = self.mean_spend {
            if !m.is_finite() || m < 0.0 {
                return bad("mean_spend", m, "a mean spend is finite and not negative");
            }
        }
        if !(0.0..=1.0).contains(&self.p_alive) {
            return bad("p_alive", self.p_alive, "a probability lies within 0..=1");
        }
        if !self.clv.is_finite() {
            return bad("clv", self.clv, "a CLV is finite");
        }
        Ok(())
    }

    /// The behaviour of every customer of an equity report, in the report's order: P(alive)
    /// and CLV from the report, frequency and mean repeat spend from the summaries the report
    /// was valued on (`mean_spend` is `None` for a customer without repeat purchases).
    ///
    /// # Errors
    /// [`ProfileError::NotInSummaries`] when a customer of the report has no summary;
    /// [`ProfileError::InvalidBehaviour`] for a value out of range.
    pub fn from_report(
        report: &EquityReport,
        summaries: &Summaries,
    ) -> Result<Vec<Behaviour>, ProfileError> {
        report
            .customers
            .iter()
            .map(|c| {
                let s = summaries
                    .get(&c.id)
                    .ok_or_else(|| ProfileError::NotInSummaries {
                        customer: c.id.clone(),
                    })?;
                let x = s.frequency();
                let mean_spend = (x > 0).then(|| s.monetary_value().to_f64().unwrap_or(0.0));
                Behaviour::new(
                    c.id.clone(),
                    x,
                    mean_spend,
                    c.p_alive,
                    c.clv.to_f64().unwrap_or(0.0),
                )
            })
            .collect()
    }
}
