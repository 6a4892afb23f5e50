//! The models that take covariates, and how covariates enter each one's parameters.

use crate::error::InvalidParameter;
use crate::fit::{Fit, FitOptions};
use crate::models::beta_geometric::{beta_geometric_ll, BetaGeometricParameters};
use crate::models::bg_nbd::{BgNbd, BgNbdParams};
use crate::models::btyd::Prepared;
use crate::models::ggompertz_nbd::{
    ggompertz_ll, GGompertzNbd, GGompertzNbdParameters, GGompertzNbdParams,
};
use crate::models::mbg_nbd::{MbgNbd, MbgNbdParams};
use crate::models::pareto_nbd::{pareto_ll, ParetoNbd, ParetoNbdParameters, ParetoNbdParams};
use crate::models::transaction_model::TransactionModel;
use crate::summary::Patterns;
use crate::time::TimeUnit;

/// The most base parameters of a family.
pub(crate) const MAX_BASE: usize = 5;

/// A continuous-time purchase-and-dropout model that takes time-invariant covariates, with the
/// standard parameterisation (Fader & Hardie 2007, "Incorporating time-invariant covariates
/// into the Pareto/NBD and BG/NBD models"; CLVTools' convention):
///
/// | model | purchase covariates z_p | dropout covariates z_d |
/// |---|---|---|
/// | Pareto/NBD | αᵢ = α₀ exp(−γ_p′z_p) | βᵢ = β₀ exp(−γ_d′z_d) |
/// | BG/NBD, MBG/NBD | αᵢ = α₀ exp(−γ_p′z_p) | aᵢ = a₀ exp(γ_d′z_d), bᵢ = b₀ exp(γ_d′z_d) |
/// | GGompertz/NBD | αᵢ = α₀ exp(−γ_p′z_p) | βᵢ = β₀ exp(−γ_d′z_d) (b, the ageing rate, is common) |
///
/// So a positive purchase coefficient raises the mean purchase rate r/αᵢ by the factor
/// exp(γ); a positive Pareto/NBD dropout coefficient raises the mean dropout rate s/βᵢ by
/// exp(γ). In the beta-geometric models one dropout coefficient scales both beta parameters:
/// the mean dropout probability a/(a+b) stays, and the coefficient moves how concentrated the
/// dropout probabilities are around it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CovariateFamily {
    /// Pareto/NBD.
    #[cfg_attr(feature = "serde", serde(rename = "pareto-nbd"))]
    ParetoNbd,
    /// BG/NBD.
    #[cfg_attr(feature = "serde", serde(rename = "bg-nbd"))]
    BgNbd,
    /// MBG/NBD.
    #[cfg_attr(feature = "serde", serde(rename = "mbg-nbd"))]
    MbgNbd,
    /// GGompertz/NBD (Bemmaor & Glady 2012).
    #[cfg_attr(feature = "serde", serde(rename = "ggom-nbd"))]
    GGompertzNbd,
}

impl CovariateFamily {
    /// Every family, in order.
    pub const ALL: [CovariateFamily; 4] = [
        CovariateFamily::ParetoNbd,
        CovariateFamily::BgNbd,
        CovariateFamily::MbgNbd,
        CovariateFamily::GGompertzNbd,
    ];

    /// The model's short name, as the `clv` tool spells it: `"pareto-nbd"`, `"bg-nbd"`, …
    pub fn name(self) -> &'static str {
        match self {
            CovariateFamily::ParetoNbd => "pareto-nbd",
            CovariateFamily::BgNbd => "bg-nbd",
            CovariateFamily::MbgNbd => "mbg-nbd",
            CovariateFamily::GGompertzNbd => "ggom-nbd",
        }
    }

    /// The family of a short name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The names of the base parameters, in order: the values at covariates 0.
    pub fn base_names(self) -> &'static [&'static str] {
        match self {
            CovariateFamily::ParetoNbd => &["r", "alpha", "s", "beta"],
            CovariateFamily::BgNbd | CovariateFamily::MbgNbd => &["r", "alpha", "a", "b"],
            CovariateFamily::GGompertzNbd => &["r", "alpha", "b", "s", "beta"],
        }
    }

    /// The base parameters the purchase covariates scale, with the sign of the exponent.
    pub(crate) fn purchase_links(self) -> &'static [(usize, f64)] {
        &[(1, -1.0)]
    }

    /// The base parameters the dropout covariates scale, with the sign of the exponent.
    pub(crate) fn dropout_links(self) -> &'static [(usize, f64)] {
        match self {
            CovariateFamily::ParetoNbd => &[(3, -1.0)],
            CovariateFamily::BgNbd | CovariateFamily::MbgNbd => &[(2, 1.0), (3, 1.0)],
            CovariateFamily::GGompertzNbd => &[(4, -1.0)],
        }
    }

    /// Per base parameter, the power of the time scale in it: α and β (Pareto/NBD) are times.
    pub(crate) fn time_powers(self) -> &'static [f64] {
        match self {
            CovariateFamily::ParetoNbd => &[0.0, 1.0, 0.0, 1.0],
            CovariateFamily::BgNbd | CovariateFamily::MbgNbd => &[0.0, 1.0, 0.0, 0.0],
            // b is a rate per time unit.
            CovariateFamily::GGompertzNbd => &[0.0, 1.0, -1.0, 0.0, 0.0],
        }
    }

    /// Total log-likelihood and gradient in the logarithms of the base parameters on `data`'s
    /// time axis.
    pub(crate) fn log_likelihood(self, data: &Prepared, theta: &[f64]) -> (f64, [f64; MAX_BASE]) {
        let pad = |(ll, g): (f64, [f64; 4])| (ll, [g[0], g[1], g[2], g[3], 0.0]);
        match self {
            CovariateFamily::ParetoNbd => pad(pareto_ll(data, theta)),
            CovariateFamily::BgNbd => pad(beta_geometric_ll(data, theta, 0.0)),
            CovariateFamily::MbgNbd => pad(beta_geometric_ll(data, theta, 1.0)),
            CovariateFamily::GGompertzNbd => ggompertz_ll(data, theta),
        }
    }

    /// The model at base parameter `values` (in the order of [`base_names`](Self::base_names)).
    pub(crate) fn model(
        self,
        values: &[f64],
        unit: TimeUnit,
    ) -> Result<Box<dyn TransactionModel>, InvalidParameter> {
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        Ok(match self {
            CovariateFamily::ParetoNbd => Box::new(ParetoNbd::new(
                ParetoNbdParameters {
                    r: at(0),
                    alpha: at(1),
                    s: at(2),
                    beta: at(3),
                },
                unit,
            )?),
            CovariateFamily::BgNbd => Box::new(BgNbd::new(
                BetaGeometricParameters {
                    r: at(0),
                    alpha: at(1),
                    a: at(2),
                    b: at(3),
                },
                unit,
            )?),
            CovariateFamily::MbgNbd => Box::new(MbgNbd::new(
                BetaGeometricParameters {
                    r: at(0),
                    alpha: at(1),
                    a: at(2),
                    b: at(3),
                },
                unit,
            )?),
            CovariateFamily::GGompertzNbd => Box::new(GGompertzNbd::new(
                GGompertzNbdParameters {
                    r: at(0),
                    alpha: at(1),
                    b: at(2),
                    s: at(3),
                    beta: at(4),
                },
                unit,
            )?),
        })
    }

    /// The model without covariates fitted to `patterns`: its parameters are the covariate
    /// fit's first start. `None` when that fit fails (the built-in starts remain).
    pub(crate) fn base_fit(self, patterns: &Patterns, options: &FitOptions) -> Option<Vec<f64>> {
        let options = options.clone().penalty(0.0);
        // Every model names its parameters in `base_names`' order.
        fn values(model: &dyn TransactionModel) -> Vec<f64> {
            model
                .named_parameters()
                .into_iter()
                .map(|(_, v)| v)
                .collect()
        }
        match self {
            CovariateFamily::ParetoNbd => ParetoNbdParams::new()
                .fit_options(options)
                .fit(patterns)
                .ok()
                .map(|m| values(&m)),
            CovariateFamily::BgNbd => BgNbdParams::new()
                .fit_options(options)
                .fit(patterns)
                .ok()
                .map(|m| values(&m)),
            CovariateFamily::MbgNbd => MbgNbdParams::new()
                .fit_options(options)
                .fit(patterns)
                .ok()
                .map(|m| values(&m)),
            CovariateFamily::GGompertzNbd => GGompertzNbdParams::new()
                .fit_options(options)
                .fit(patterns)
                .ok()
                .map(|m| values(&m)),
        }
    }

    /// Built-in starting points of the base parameters on the rescaled time axis (natural
    /// values), tried after the fit without covariates.
    pub(crate) fn default_starts(self) -> &'static [&'static [f64]] {
        match self {
            CovariateFamily::ParetoNbd => &[&[1.0, 1.0, 1.0, 1.0], &[0.5, 0.3, 0.5, 3.0]],
            CovariateFamily::BgNbd | CovariateFamily::MbgNbd => {
                &[&[1.0, 1.0, 1.0, 1.0], &[0.5, 0.2, 0.8, 2.5]]
            }
            CovariateFamily::GGompertzNbd => &[
                &[1.0, 1.0, 1.0, 1.0, 1.0],
                &[0.5, 0.2, 0.5, 0.5, 0.5],
                &[1.0, 0.5, 0.05, 1.0, 0.1],
            ],
        }
    }

    /// The mixing distributions' parameters, for reading a fit that heads for a boundary.
    pub(crate) fn pairs(self) -> Vec<crate::fit::Pair> {
        match self {
            CovariateFamily::ParetoNbd => crate::models::btyd::btyd_pairs(true).to_vec(),
            CovariateFamily::BgNbd | CovariateFamily::MbgNbd => {
                crate::models::btyd::btyd_pairs(false).to_vec()
            }
            CovariateFamily::GGompertzNbd => crate::models::ggompertz_nbd::pairs().to_vec(),
        }
    }
}

impl std::fmt::Display for CovariateFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
