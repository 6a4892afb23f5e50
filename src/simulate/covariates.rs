//! Customer bases with time-invariant covariates: each customer's purchase and dropout
//! parameters follow from their covariate row as a [`CovariateModel`] says.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};

use super::base::{run, SimulatedBase, SimulationOptions};
use super::continuous::{BgNbdProcess, GGompertzNbdProcess, MbgNbdProcess, ParetoNbdProcess};
use super::error::SimulationError;
use super::process::{PurchaseProcess, SimRng, MAX_CUSTOMERS};
use crate::covariates::DesignMatrix;
use crate::error::InvalidParameter;
use crate::models::covariates::{CovariateData, CovariateFamily, CovariateModel};
use crate::records::CustomerId;

/// How [`draw_design`] draws one covariate column.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CovariateDraw {
    /// 1 with probability `p`, else 0.
    Binary {
        /// The column's name.
        name: String,
        /// P(1), in [0, 1].
        p: f64,
    },
    /// Normal with mean `mean` and standard deviation `sd`.
    Normal {
        /// The column's name.
        name: String,
        /// The mean.
        mean: f64,
        /// The standard deviation, positive.
        sd: f64,
    },
}

impl CovariateDraw {
    /// A 0/1 column, 1 with probability `p`.
    pub fn binary(name: &str, p: f64) -> Self {
        CovariateDraw::Binary {
            name: name.to_string(),
            p,
        }
    }

    /// A standard normal column.
    pub fn standard_normal(name: &str) -> Self {
        Self::normal(name, 0.0, 1.0)
    }

    /// A normal column with `mean` and standard deviation `sd`.
    pub fn normal(name: &str, mean: f64, sd: f64) -> Self {
        CovariateDraw::Normal {
            name: name.to_string(),
            mean,
            sd,
        }
    }

    fn name(&self) -> &str {
        match self {
            CovariateDraw::Binary { name, .. } | CovariateDraw::Normal { name, .. } => name,
        }
    }
}

/// A design of `customers` rows (ids 1..=n) whose columns are drawn independently as `columns`
/// say, from a ChaCha8 stream seeded with `seed` (row by row, column by column), so a seed gives
/// the same design on every platform.
///
/// # Errors
/// [`SimulationError::InvalidParameter`] for a probability outside [0, 1] or a mean or
/// standard deviation that is not finite (the deviation must be positive);
/// [`SimulationError::TooManyCustomers`] beyond [`MAX_CUSTOMERS`];
/// [`SimulationError::Covariates`] for a bad or repeated column name.
pub fn draw_design(
    columns: &[CovariateDraw],
    customers: usize,
    seed: u64,
) -> Result<DesignMatrix, SimulationError> {
    if customers > MAX_CUSTOMERS {
        return Err(SimulationError::TooManyCustomers {
            customers,
            limit: MAX_CUSTOMERS,
        });
    }
    let mut normals = Vec::with_capacity(columns.len());
    for c in columns {
        normals.push(match c {
            CovariateDraw::Binary { p, .. } => {
                if !(0.0..=1.0).contains(p) {
                    return Err(InvalidParameter::new("p", *p, "must lie in [0, 1]").into());
                }
                None
            }
            CovariateDraw::Normal { mean, sd, .. } => {
                if !mean.is_finite() {
                    return Err(InvalidParameter::new("mean", *mean, "must be finite").into());
                }
                let sd = super::params::positive("sd", *sd)?;
                Some(
                    Normal::new(*mean, sd).map_err(|_| {
                        InvalidParameter::new("sd", sd, "must be finite and positive")
                    })?,
                )
            }
        });
    }
    let mut rng = SimRng::seed_from_u64(seed);
    let rows = (0..customers)
        .map(|_| {
            columns
                .iter()
                .zip(&normals)
                .map(|(c, normal)| match (c, normal) {
                    (CovariateDraw::Binary { p, .. }, _) => {
                        f64::from(u8::from(rng.random::<f64>() < *p))
                    }
                    (_, Some(normal)) => normal.sample(&mut rng),
                    (_, None) => 0.0,
                })
                .collect()
        })
        .collect();
    let ids = (1..=customers as u64).map(CustomerId::from).collect();
    let names = columns.iter().map(|c| c.name().to_string()).collect();
    Ok(DesignMatrix::new(names, ids, rows)?)
}

/// A simulated customer base with covariates: the base (customers, transactions, patterns) and
/// the [`CovariateData`] a covariate fit reads.
#[derive(Debug, Clone)]
pub struct SimulatedCovariateBase {
    base: SimulatedBase,
    data: CovariateData,
}

impl SimulatedCovariateBase {
    /// The customers, transactions and patterns.
    pub fn base(&self) -> &SimulatedBase {
        &self.base
    }

    /// Every customer's exact history (x, t_x, T) with their design row, in the design's order:
    /// ready for [`CovariateParams::fit`](crate::models::covariates::CovariateParams).
    pub fn data(&self) -> &CovariateData {
        &self.data
    }

    /// Takes the fit's data out of the base.
    pub fn into_data(self) -> CovariateData {
        self.data
    }
}

/// Simulates one customer per row of `design` (with the design's ids, in its order) whose
/// parameters are `truth`'s for that row ([`CovariateModel::individual_parameters`], the
/// convention of [`CovariateFamily`]): a Pareto/NBD, BG/NBD or MBG/NBD process per customer,
/// otherwise exactly as [`simulate`](crate::simulate::simulate()) does (acquisition window, spend, the
/// ChaCha8 stream of `options`' seed).
///
/// `options` must ask for as many customers as the design has rows, in `truth`'s time unit.
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::fit::Fit;
/// use customer_assets::models::covariates::{
///     Coefficient, CovariateFamily, CovariateModel, CovariateParams, Process,
/// };
/// use customer_assets::simulate::{draw_design, simulate_with_covariates, CovariateDraw, SimulationOptions};
/// use customer_assets::TimeUnit;
/// let design = draw_design(&[CovariateDraw::binary("web", 0.5)], 2_000, 1)?;
/// let coefficient = |process, value| Coefficient { column: "web".into(), process, value };
/// let truth = CovariateModel::new(
///     CovariateFamily::BgNbd,
///     TimeUnit::WEEKS,
///     vec![0.5, 5.0, 0.8, 2.5],
///     vec![coefficient(Process::Purchase, 0.7), coefficient(Process::Dropout, -0.4)],
/// )?;
/// let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
/// let end = NaiveDate::from_ymd_opt(2025, 6, 30).ok_or("bad date")?;
/// let options = SimulationOptions::new(2_000, start, end, TimeUnit::WEEKS, 7).acquisition_days(90);
/// let base = simulate_with_covariates(&truth, &design, &options)?;
/// let model = CovariateParams::new(CovariateFamily::BgNbd).fit(base.data())?;
/// assert!((model.coefficients()[0].value - 0.7).abs() < 0.3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`SimulationError::InvalidParameter`] when `options` ask for another number of customers
/// or another time unit, when the design lacks a column of `truth`, or when a row takes a
/// parameter out of range; otherwise as [`simulate`](crate::simulate::simulate()).
pub fn simulate_with_covariates(
    truth: &CovariateModel,
    design: &DesignMatrix,
    options: &SimulationOptions,
) -> Result<SimulatedCovariateBase, SimulationError> {
    if options.customers != design.len() {
        return Err(InvalidParameter::new(
            "customers",
            options.customers,
            "must equal the design's number of rows",
        )
        .into());
    }
    if options.unit != truth.unit() {
        return Err(InvalidParameter::new(
            "unit",
            options.unit.days(),
            "must be the model's time unit (days)",
        )
        .into());
    }
    let at: Vec<usize> = truth
        .columns()
        .iter()
        .map(|c| {
            design.column_index(c).ok_or_else(|| {
                InvalidParameter::new("design", c.as_str(), "lacks a column of the model")
            })
        })
        .collect::<Result<_, _>>()?;
    let family = truth.family();
    let mut row = vec![0.0; at.len()];
    let (base, histories) = run(
        options,
        design.len(),
        |i| design.ids()[i].clone(),
        |i, rng, horizon, times| {
            for (v, &j) in row.iter_mut().zip(&at) {
                *v = design.row(i)[j];
            }
            let p = truth.individual_parameters(&row).map_err(|e| {
                InvalidParameter::new(
                    "covariates",
                    e.to_string(),
                    "take a customer's parameters out of range",
                )
            })?;
            let process: Box<dyn PurchaseProcess> = match family {
                CovariateFamily::ParetoNbd => {
                    Box::new(ParetoNbdProcess::new(p[0], p[1], p[2], p[3])?)
                }
                CovariateFamily::BgNbd => Box::new(BgNbdProcess::new(p[0], p[1], p[2], p[3])?),
                CovariateFamily::MbgNbd => Box::new(MbgNbdProcess::new(p[0], p[1], p[2], p[3])?),
                CovariateFamily::GGompertzNbd => {
                    Box::new(GGompertzNbdProcess::new(p[0], p[1], p[2], p[3], p[4])?)
                }
            };
            process.repeat_purchases(rng, horizon, times);
            Ok(())
        },
    )?;
    let data = CovariateData::new(
        options.unit,
        design.ids().iter().cloned().zip(histories),
        design,
    )?;
    Ok(SimulatedCovariateBase { base, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::covariates::{Coefficient, Process};
    use crate::time::TimeUnit;
    use chrono::NaiveDate;

    fn truth(family: CovariateFamily) -> CovariateModel {
        let c = |column: &str, process, value| Coefficient {
            column: column.into(),
            process,
            value,
        };
        let base = match family {
            CovariateFamily::ParetoNbd => vec![0.6, 8.0, 0.7, 12.0],
            CovariateFamily::GGompertzNbd => vec![0.6, 8.0, 0.05, 0.7, 2.5],
            _ => vec![0.6, 8.0, 0.7, 2.5],
        };
        CovariateModel::new(
            family,
            TimeUnit::WEEKS,
            base,
            vec![
                c("web", Process::Purchase, 0.5),
                c("age", Process::Dropout, -0.3),
            ],
        )
        .unwrap()
    }

    fn options(n: usize, seed: u64) -> SimulationOptions {
        SimulationOptions::new(
            n,
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap(),
            TimeUnit::WEEKS,
            seed,
        )
        .acquisition_days(60)
    }

    fn columns() -> [CovariateDraw; 2] {
        [
            CovariateDraw::binary("web", 0.4),
            CovariateDraw::standard_normal("age"),
        ]
    }

    #[test]
    fn value_stability_of_the_design_and_the_first_histories() {
        // Guards the random streams of the design and of the customers with covariates.
        let design = draw_design(&columns(), 50, 2024).unwrap();
        let base =
            simulate_with_covariates(&truth(CovariateFamily::BgNbd), &design, &options(50, 9))
                .unwrap();
        let head: Vec<String> = (0..3)
            .map(|i| {
                let h = base.data().histories()[i];
                let z = design.row(i);
                format!(
                    "{} {:.6} {} {:.6} {:.6}",
                    z[0], z[1], h.frequency, h.recency, h.age
                )
            })
            .collect();
        assert_eq!(head, STABLE_HEAD);
    }

    const STABLE_HEAD: [&str; 3] = [
        "1 1.384231 2 41.596635 51.307520",
        "0 1.512362 3 34.576951 50.702366",
        "0 -0.017469 0 0.000000 44.155694",
    ];

    #[test]
    fn a_seed_gives_one_base_and_the_data_matches_the_patterns() {
        let design = draw_design(&columns(), 200, 3).unwrap();
        assert_eq!(design, draw_design(&columns(), 200, 3).unwrap());
        assert_ne!(design, draw_design(&columns(), 200, 4).unwrap());
        for family in CovariateFamily::ALL {
            let a = simulate_with_covariates(&truth(family), &design, &options(200, 5)).unwrap();
            let b = simulate_with_covariates(&truth(family), &design, &options(200, 5)).unwrap();
            assert_eq!(a.data(), b.data());
            assert_eq!(a.base().transactions(), b.base().transactions());
            assert_eq!(a.data().ids(), design.ids());
            let x: u32 = a.data().histories().iter().map(|h| h.frequency).sum();
            assert_eq!(
                f64::from(x),
                a.base()
                    .patterns()
                    .iter()
                    .map(|p| f64::from(p.frequency()) * p.weight())
                    .sum::<f64>()
            );
            assert_eq!(a.base().transactions().len(), 200 + x as usize, "{family}");
        }
    }

    #[test]
    fn with_zero_coefficients_the_base_is_the_plain_simulation() {
        // The same stream, the same per-customer parameters: the same transactions.
        let design = draw_design(&columns(), 100, 3).unwrap();
        let zero = CovariateModel::new(
            CovariateFamily::ParetoNbd,
            TimeUnit::WEEKS,
            vec![0.6, 8.0, 0.7, 12.0],
            vec![Coefficient {
                column: "web".into(),
                process: Process::Both,
                value: 0.0,
            }],
        )
        .unwrap();
        let with = simulate_with_covariates(&zero, &design, &options(100, 8)).unwrap();
        let process = ParetoNbdProcess::new(0.6, 8.0, 0.7, 12.0).unwrap();
        let plain = crate::simulate::simulate(&process, &options(100, 8)).unwrap();
        assert_eq!(with.base().transactions(), plain.transactions());
    }

    #[test]
    fn covariates_move_purchases_the_right_way() {
        // web = 1 raises the purchase rate by e^0.5: more repeat purchases per customer.
        let design = draw_design(&columns(), 4000, 11).unwrap();
        let base = simulate_with_covariates(
            &truth(CovariateFamily::ParetoNbd),
            &design,
            &options(4000, 1),
        )
        .unwrap();
        let mut sums = [(0.0, 0.0); 2];
        for (i, h) in base.data().histories().iter().enumerate() {
            let k = usize::from(design.row(i)[0] == 1.0);
            sums[k].0 += f64::from(h.frequency);
            sums[k].1 += 1.0;
        }
        let (off, on) = (sums[0].0 / sums[0].1, sums[1].0 / sums[1].1);
        assert!(on > 1.3 * off, "{on} vs {off}");
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let design = draw_design(&columns(), 10, 1).unwrap();
        let t = truth(CovariateFamily::BgNbd);
        assert!(matches!(
            simulate_with_covariates(&t, &design, &options(11, 1)),
            Err(SimulationError::InvalidParameter(_))
        ));
        let days = options(10, 1);
        let mut other = days;
        other.unit = TimeUnit::DAYS;
        assert!(simulate_with_covariates(&t, &design, &other).is_err());
        let narrow = design.select(&["web"]).unwrap();
        assert!(simulate_with_covariates(&t, &narrow, &days).is_err());
        assert!(draw_design(&[CovariateDraw::binary("x", 1.5)], 5, 1).is_err());
        assert!(draw_design(&[CovariateDraw::normal("x", 0.0, 0.0)], 5, 1).is_err());
        assert!(draw_design(&[CovariateDraw::normal("x", f64::NAN, 1.0)], 5, 1).is_err());
        assert!(matches!(
            draw_design(
                &[
                    CovariateDraw::binary("x", 0.5),
                    CovariateDraw::binary("x", 0.5)
                ],
                5,
                1
            ),
            Err(SimulationError::Covariates(_))
        ));
        assert!(matches!(
            draw_design(&columns(), MAX_CUSTOMERS + 1, 1),
            Err(SimulationError::TooManyCustomers { .. })
        ));
        // A coefficient that takes α to 0 for a large covariate: refused, not a panic.
        let wild = CovariateModel::new(
            CovariateFamily::BgNbd,
            TimeUnit::WEEKS,
            vec![0.6, 8.0, 0.7, 2.5],
            vec![Coefficient {
                column: "age".into(),
                process: Process::Purchase,
                value: 800.0,
            }],
        )
        .unwrap();
        let err = simulate_with_covariates(&wild, &design, &days).unwrap_err();
        assert!(err.to_string().contains("covariates"), "{err}");
    }
}
