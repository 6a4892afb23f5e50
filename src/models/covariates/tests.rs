//! The fit's objective: its analytic gradient against finite differences, and its value at
//! zero coefficients against the models without covariates.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::{
    Coefficient, CovariateData, CovariateFamily, CovariateModel, CovariateParams, Process,
};
use crate::optimize::{finite_difference_gradient, Objective};
use crate::simulate::{draw_design, simulate_with_covariates, CovariateDraw, SimulationOptions};
use crate::time::TimeUnit;

fn base(family: CovariateFamily) -> Vec<f64> {
    match family {
        CovariateFamily::ParetoNbd => vec![0.6, 8.0, 0.7, 12.0],
        CovariateFamily::GGompertzNbd => vec![0.6, 8.0, 0.05, 0.7, 2.5],
        _ => vec![0.6, 8.0, 0.7, 2.5],
    }
}

/// `n` simulated customers with a binary column `web` and a standard normal `score`.
fn data(family: CovariateFamily, n: usize, seed: u64) -> CovariateData {
    let c = |column: &str, process, value| Coefficient {
        column: column.into(),
        process,
        value,
    };
    let truth = CovariateModel::new(
        family,
        TimeUnit::WEEKS,
        base(family),
        vec![
            c("web", Process::Purchase, 0.5),
            c("score", Process::Both, -0.3),
        ],
    )
    .unwrap();
    let design = draw_design(
        &[
            CovariateDraw::binary("web", 0.5),
            CovariateDraw::standard_normal("score"),
        ],
        n,
        seed,
    )
    .unwrap();
    let options = SimulationOptions::new(
        n,
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2025, 1, 31).unwrap(),
        TimeUnit::WEEKS,
        seed,
    )
    .acquisition_days(60);
    simulate_with_covariates(&truth, &design, &options)
        .unwrap()
        .into_data()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_analytic_gradient_matches_finite_differences(
        family in 0usize..4,
        constrained in any::<bool>(),
        penalty in prop_oneof![Just(0.0), 0.01f64..2.0],
        shift in prop::collection::vec(-0.7f64..0.7, 5),
        gammas in prop::collection::vec(-0.8f64..0.8, 4),
        seed in 0u64..4,
    ) {
        let family = CovariateFamily::ALL[family];
        let data = data(family, 80, seed);
        let mut params = CovariateParams::new(family).penalty(penalty);
        if constrained {
            params = params.constrain(&["score"]);
        }
        let setup = params.setup(&data).unwrap();
        let objective = params.objective(&setup);
        let d = family.base_names().len();
        let k = setup.layout.coefficients.len();
        prop_assert_eq!(objective.dim(), d + k);
        let mut theta: Vec<f64> = base(family)
            .iter()
            .zip(family.time_powers())
            .zip(&shift)
            .map(|((v, p), s)| (v / setup.scale.powf(*p)).ln() + s)
            .collect();
        theta.extend(&gammas[..k]);
        let mut analytic = vec![0.0; d + k];
        let value = objective.value_and_gradient(&theta, &mut analytic);
        prop_assert!(value.is_finite());
        let numeric = finite_difference_gradient(&objective, &theta);
        for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
            prop_assert!(
                (a - n).abs() <= 1e-5 * a.abs().max(n.abs()).max(1.0),
                "{} parameter {}: analytic {} numeric {}", family, i, a, n
            );
        }
    }
}

#[test]
fn at_zero_coefficients_the_objective_is_the_plain_likelihood() {
    // The fit's total at γ = 0 (on its rescaled time axis, then moved back to the data's unit
    // as the fit reports it) against the plain model's log-likelihood summed over customers.
    for family in CovariateFamily::ALL {
        let data = data(family, 300, 21);
        let params = CovariateParams::new(family);
        let setup = params.setup(&data).unwrap();
        let objective = params.objective(&setup);
        let mut theta: Vec<f64> = base(family)
            .iter()
            .zip(family.time_powers())
            .map(|(v, p)| (v / setup.scale.powf(*p)).ln())
            .collect();
        theta.resize(objective.dim(), 0.0);
        let x: f64 = data
            .histories()
            .iter()
            .map(|h| f64::from(h.frequency))
            .sum();
        let got = objective.total(&theta, false).0 - x * setup.scale.ln();
        let plain = family.model(&base(family), TimeUnit::WEEKS).unwrap();
        let expected: f64 = data
            .histories()
            .iter()
            .map(|h| plain.log_likelihood(h).unwrap())
            .sum();
        assert!(
            (got - expected).abs() <= 1e-8 * expected.abs(),
            "{family}: {got} vs {expected}"
        );
    }
}
