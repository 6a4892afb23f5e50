//! Checks of process and spend parameters, reported as [`SimulationError`]s.

use rand_distr::Gamma;

use super::error::SimulationError;
use crate::error::InvalidParameter;

pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, SimulationError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SimulationError::InvalidParameter(InvalidParameter::new(
            name,
            value,
            "must be finite and positive",
        )))
    }
}

pub(crate) fn gamma(shape: f64, scale: f64) -> Result<Gamma<f64>, SimulationError> {
    Gamma::new(shape, scale).map_err(|_| {
        SimulationError::InvalidParameter(InvalidParameter::new(
            "gamma shape/scale",
            shape,
            "must be finite and positive",
        ))
    })
}
