//! The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and comparison
//! of models for customer base analysis", *International Journal of Research in Marketing* 24(3)).
//!
//! As BG/NBD, but a customer may also drop out right after the first purchase (at time 0), so a
//! customer without repeat purchases is not certainly alive:
//! ln L = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+x+1) - ln B(a, b)
//!        + ln[(α+T)^-(r+x) + a/(b+x) (α+t_x)^-(r+x)].
//!
//! ```
//! use customer_assets::models::mbg_nbd::MbgNbd;
//! use customer_assets::{History, TimeUnit, TransactionModel};
//!
//! let model = MbgNbd::new(0.525, 6.183, 0.891, 1.614, TimeUnit::WEEKS)?;
//! let p = model.p_alive(&History::new(0, 0.0, 38.86), 0.0)?;
//! assert!(p < 1.0); // unlike BG/NBD, a customer without repeat purchases may be gone
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::fit::{FitOptions, FitReport};
use crate::models::bg_nbd::fit_beta_geometric;
use crate::models::btyd::{positive, BetaGeometric, TransactionFitError};
use crate::models::{History, PredictError, TransactionModel};
use crate::summary::Patterns;
use crate::time::TimeUnit;

/// How to fit a MBG/NBD model: fit options (penalty, iterations, tolerance) and starting values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MbgNbdParams {
    options: FitOptions,
    start: Option<[f64; 4]>,
}

impl MbgNbdParams {
    /// Default options: no penalty, the optimizer's default tolerance, several starts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the fit options (iterations, tolerance, L2 penalty, extra starts).
    pub fn fit_options(mut self, options: FitOptions) -> Self {
        self.options = options;
        self
    }

    /// L2 penalty on the log-parameters (on the rescaled time axis; 0 = plain maximum likelihood).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.options = self.options.penalty(penalty);
        self
    }

    /// First starting point (r, α, a, b) in the data's time unit; the default starts are tried
    /// after it.
    pub fn start(mut self, r: f64, alpha: f64, a: f64, b: f64) -> Self {
        self.start = Some([r, alpha, a, b]);
        self
    }

    /// Fits the model by maximum likelihood. Errors: no patterns, an invalid start, or an
    /// optimizer that did not converge (the error carries the fit report).
    pub fn fit(&self, patterns: &Patterns) -> Result<MbgNbd, TransactionFitError> {
        let fitted =
            fit_beta_geometric("mbg-nbd", 1.0, patterns, &self.options, self.start.as_ref())?;
        Ok(MbgNbd {
            params: MbgNbdParameters::from_array(fitted.params),
            standard_errors: Some(MbgNbdParameters::from_array(fitted.standard_errors)),
            report: Some(fitted.report),
            unit: patterns.unit(),
        })
    }
}

/// The four MBG/NBD parameters (or their standard errors), α in the data's time unit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MbgNbdParameters {
    /// Shape of the purchase-rate gamma distribution.
    pub r: f64,
    /// Rate (inverse scale) of the purchase-rate gamma distribution, per time unit.
    pub alpha: f64,
    /// First shape of the dropout-probability beta distribution.
    pub a: f64,
    /// Second shape of the dropout-probability beta distribution.
    pub b: f64,
}

impl MbgNbdParameters {
    fn from_array(v: [f64; 4]) -> Self {
        MbgNbdParameters {
            r: v[0],
            alpha: v[1],
            a: v[2],
            b: v[3],
        }
    }
}

/// A fitted (or given) MBG/NBD model.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "MbgNbdRaw"))]
pub struct MbgNbd {
    params: MbgNbdParameters,
    standard_errors: Option<MbgNbdParameters>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct MbgNbdRaw {
    params: MbgNbdParameters,
    standard_errors: Option<MbgNbdParameters>,
    report: Option<FitReport>,
    unit: TimeUnit,
}

#[cfg(feature = "serde")]
impl TryFrom<MbgNbdRaw> for MbgNbd {
    type Error = TransactionFitError;
    fn try_from(raw: MbgNbdRaw) -> Result<Self, Self::Error> {
        let p = raw.params;
        let mut m = MbgNbd::new(p.r, p.alpha, p.a, p.b, raw.unit)?;
        m.standard_errors = raw.standard_errors;
        m.report = raw.report;
        Ok(m)
    }
}

impl MbgNbd {
    /// A model at known parameters (α per `unit`), without fit report or standard errors.
    pub fn new(
        r: f64,
        alpha: f64,
        a: f64,
        b: f64,
        unit: TimeUnit,
    ) -> Result<Self, TransactionFitError> {
        Ok(MbgNbd {
            params: MbgNbdParameters {
                r: positive("r", r)?,
                alpha: positive("alpha", alpha)?,
                a: positive("a", a)?,
                b: positive("b", b)?,
            },
            standard_errors: None,
            report: None,
            unit,
        })
    }

    /// The parameters (α per [`TransactionModel::unit`]).
    pub fn params(&self) -> &MbgNbdParameters {
        &self.params
    }

    /// Standard errors of the parameters (from the Hessian of the log-likelihood), when fitted.
    pub fn standard_errors(&self) -> Option<&MbgNbdParameters> {
        self.standard_errors.as_ref()
    }

    /// The fit report (total log-likelihood in the data's unit, iterations, convergence), when fitted.
    pub fn report(&self) -> Option<&FitReport> {
        self.report.as_ref()
    }

    /// Total log-likelihood of weighted patterns (in the patterns' own time unit, which should
    /// be the model's).
    pub fn total_log_likelihood(&self, patterns: &Patterns) -> Result<f64, PredictError> {
        crate::models::btyd::total_beta_geometric_ll(&self.core(), patterns)
    }

    fn core(&self) -> BetaGeometric {
        let p = self.params;
        BetaGeometric {
            r: p.r,
            alpha: p.alpha,
            a: p.a,
            b: p.b,
            offset: 1.0,
        }
    }
}

crate::models::btyd::beta_geometric_model!(MbgNbd, "mbg-nbd");
