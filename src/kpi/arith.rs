//! Arithmetic the KPIs share: a count ratio and a decimal as `f64`.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

pub(super) fn ratio(num: usize, den: usize) -> f64 {
    num as f64 / den as f64
}

pub(super) fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}
