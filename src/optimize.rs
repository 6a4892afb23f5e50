//! The maximum-likelihood machinery every model fits with (crate-private): an [`Objective`]
//! (a total log-likelihood with its analytic gradient, in unconstrained parameters), [`maximize`]
//! (L-BFGS, restarts, a Nelder-Mead fallback and extra starting points), [`maximize_refined_detailed`]
//! (a subsample fit polished by Newton steps on all the data), and the covariance of the estimate
//! from the Hessian ([`hessian`], [`covariance`]).
//!
//! Conventions:
//!
//! - The models parameterize by the logarithms of their (positive) natural parameters, so θ is
//!   unconstrained and the natural parameters are exp(θ).
//! - The optimizer minimizes the *per-customer* objective
//!   `f(θ) = −ll(θ) / N + λ Σᵢ exp(θᵢ)²`, where N = [`Objective::weight`] (the number of customers)
//!   and λ the L2 penalty of [`FitOptions::penalty`]. The penalty is on the natural parameters and
//!   is added to the mean negative log-likelihood, exactly as Python lifetimes' `penalizer_coef`,
//!   so a user migrating from lifetimes keeps the same λ and gets the same estimates.
//! - Convergence is judged on ‖∇f(θ)‖₂ (the gradient norm of the per-customer objective) against
//!   [`FitOptions::gradient_tolerance`]; judging per customer makes one tolerance fit 100 or
//!   10 million customers alike.
//! - The reported log-likelihood is the total, unpenalized ll(θ̂).

use std::cell::{Cell, RefCell};

use argmin::core::{CostFunction, Executor, Gradient, IterState, Problem, Solver, State, KV};
use argmin::solver::linesearch::{LineSearch, MoreThuenteLineSearch};
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

use crate::fit::{
    Covariance, FitError, FitMethod, FitOptions, FitReport, OptimizerError,
    MAX_EVALUATIONS_PER_ITERATION,
};

/// A total log-likelihood to maximize, in unconstrained parameters θ.
///
/// Implementations must be pure functions of θ (the optimizer evaluates them in any order).
pub(crate) trait Objective: Sync {
    /// Number of parameters.
    fn dim(&self) -> usize;
    /// Total log-likelihood (to MAXIMIZE) at θ; writes ∂ll/∂θ into `grad` (length [`Objective::dim`]).
    /// Returns a non-finite value where θ is infeasible; the optimizer then steps back.
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64;
    /// Number of customers the log-likelihood sums over (the sum of the weights): the objective is
    /// divided by it for conditioning and for the convergence test. Defaults to 1.
    fn weight(&self) -> f64 {
        1.0
    }
    /// Upper limits on θ beyond which the model is not evaluated (a model whose likelihood grows
    /// costly or meaningless there); a search reaching one heads for that boundary. Defaults to
    /// none.
    fn theta_caps(&self) -> Option<Vec<f64>> {
        None
    }
    /// What one evaluation at θ costs against the fit's work budget
    /// ([`MAX_EVALUATIONS_PER_ITERATION`] × the iteration budget), in evaluations of ordinary
    /// cost: 1 by default. A likelihood whose cost grows with θ (series that lengthen towards a
    /// boundary) says so, so that the budget bounds time rather than a count.
    fn evaluation_cost(&self, _theta: &[f64]) -> f64 {
        1.0
    }
}

/// How close to a θ cap ([`Objective::theta_caps`]) a parameter counts as having reached it.
pub(crate) const CAP_MARGIN: f64 = 0.5;

/// A maximum: the estimate θ̂ (log-parameters for the crate's models) and its report.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct Maximum {
    /// The unconstrained parameters at the maximum.
    pub theta: Vec<f64>,
    /// Diagnostics.
    pub report: FitReport,
    /// Hessian of the total, unpenalized log-likelihood at θ (differences of the analytic
    /// gradient: central, as [`hessian`], or forward after [`maximize_refined_detailed`]'s polish);
    /// [`covariance`] turns it into the covariance of θ̂.
    pub hessian: Vec<Vec<f64>>,
}

impl Maximum {
    /// The covariance of θ̂: the inverse of the observed information of the *penalized* total
    /// log-likelihood ll(θ) − N λ Σ exp(2θᵢ) (the penalty is part of the estimator, so it is part
    /// of its curvature; without it the unpenalized −H of a penalized estimate need not be
    /// positive definite). Equal to [`covariance`] of [`Maximum::hessian`] when λ = 0.
    pub(crate) fn log_covariance(&self) -> Result<Vec<Vec<f64>>, OptimizerError> {
        let (weight, penalty) = (self.report.customers, self.report.penalty);
        if penalty == 0.0 {
            return covariance(&self.hessian);
        }
        let mut h = self.hessian.clone();
        for (i, row) in h.iter_mut().enumerate() {
            if let (Some(v), Some(t)) = (row.get_mut(i), self.theta.get(i)) {
                *v -= 4.0 * weight * penalty * (2.0 * t).exp();
            }
        }
        covariance(&h)
    }
}

/// θ, f(θ), ∇f(θ).
type CachedPoint = (Vec<f64>, f64, Vec<f64>);

/// The per-customer penalized objective seen by argmin, with a one-point cache (argmin asks for
/// the cost and the gradient of the same point separately).
struct Scaled<'a> {
    objective: &'a dyn Objective,
    inverse_weight: f64,
    penalty: f64,
    cache: RefCell<Option<CachedPoint>>,
    /// Largest |θᵢ| evaluated: beyond it the point counts as infeasible, so a search drifting to
    /// a boundary of the parameter space stops there instead of wandering to θ = ±700.
    reach: f64,
    /// Likelihood evaluations spent, and the most allowed; once spent, every new point counts
    /// as infeasible and the runs end.
    evaluations: Cell<u64>,
    spent: Cell<f64>,
    budget: f64,
    /// θ bound of the options, and the objective's caps (+∞ where none).
    theta_bound: f64,
    caps: Vec<f64>,
}

/// How far past [`FitOptions::theta_bound`] the search may look (e¹⁰ ≈ 2·10⁴ times further): far
/// enough to see that a parameter keeps drifting, near enough that every value stays finite.
const REACH_BEYOND_BOUND: f64 = 10.0;

/// The work budget is counted as if at least this many iterations were allowed, so that a tiny
/// iteration budget still leaves the line searches and fallbacks their evaluations.
const MIN_BUDGET_ITERATIONS: u64 = 100;

impl<'a> Scaled<'a> {
    fn new(objective: &'a dyn Objective, options: &FitOptions) -> Self {
        Scaled {
            objective,
            inverse_weight: 1.0 / objective.weight(),
            penalty: options.penalty,
            cache: RefCell::new(None),
            reach: options.theta_bound + REACH_BEYOND_BOUND,
            evaluations: Cell::new(0),
            spent: Cell::new(0.0),
            budget: options
                .max_iterations
                .max(MIN_BUDGET_ITERATIONS)
                .saturating_mul(MAX_EVALUATIONS_PER_ITERATION) as f64,
            theta_bound: options.theta_bound,
            caps: objective
                .theta_caps()
                .unwrap_or_else(|| vec![f64::INFINITY; objective.dim()]),
        }
    }

    /// Whether a parameter has drifted past the θ bound (towards 0 or ∞) or reached its cap.
    fn drifted(&self, theta: &[f64]) -> bool {
        theta.iter().enumerate().any(|(i, t)| {
            t.abs() > self.theta_bound || self.caps.get(i).is_some_and(|cap| *t > cap - CAP_MARGIN)
        })
    }

    /// Whether the evaluation budget is spent.
    fn exhausted(&self) -> bool {
        self.spent.get() >= self.budget
    }

    /// (f, ∇f); f = +inf where the log-likelihood or its gradient is not finite, beyond the
    /// reach, or once the budget is spent.
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        if let Some((t, f, g)) = self.cache.borrow().as_ref() {
            if t.as_slice() == theta {
                return (*f, g.clone());
            }
        }
        let mut grad = vec![0.0; theta.len()];
        let inside = theta.iter().enumerate().all(|(i, t)| {
            t.is_finite() && t.abs() <= self.reach && self.caps.get(i).is_none_or(|cap| *t <= *cap)
        });
        let ll = if inside && !self.exhausted() {
            self.evaluations.set(self.evaluations.get() + 1);
            let cost = self.objective.evaluation_cost(theta);
            self.spent.set(
                self.spent.get()
                    + if cost.is_finite() {
                        cost.max(1.0)
                    } else {
                        self.budget
                    },
            );
            self.objective.value_and_gradient(theta, &mut grad)
        } else {
            f64::NAN
        };
        let mut f = -ll * self.inverse_weight;
        for (g, t) in grad.iter_mut().zip(theta) {
            let natural = t.exp();
            f += self.penalty * natural * natural;
            *g = -*g * self.inverse_weight + 2.0 * self.penalty * natural * natural;
        }
        if !f.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            f = f64::INFINITY;
            grad.iter_mut().for_each(|g| *g = 0.0);
        }
        *self.cache.borrow_mut() = Some((theta.to_vec(), f, grad.clone()));
        (f, grad)
    }

    fn log_likelihood(&self, theta: &[f64]) -> f64 {
        let mut grad = vec![0.0; theta.len()];
        self.objective.value_and_gradient(theta, &mut grad)
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// The best point of one start.
struct Attempt {
    theta: Vec<f64>,
    cost: f64,
    gradient_norm: f64,
    iterations: u64,
    method: FitMethod,
}

/// L-BFGS memory length.
const LBFGS_MEMORY: usize = 8;
/// Retries of a stalled L-BFGS run with a capped step length.
const STEP_CAPS: u32 = 4;
/// Iteration cap of the Nelder-Mead fallback.
const NELDER_MEAD_MAX_ITERATIONS: u64 = 3000;
/// Fresh-memory restarts of L-BFGS after its line search stops early.
const LBFGS_RESTARTS: u32 = 8;

/// argmin takes its problem by value: a borrowed view keeps the cache shared between runs.
struct View<'p, 'a>(&'p Scaled<'a>);

impl CostFunction for View<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, theta: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.0.evaluate(theta).0)
    }
}

impl Gradient for View<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, theta: &Self::Param) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.0.evaluate(theta).1)
    }
}

/// More-Thuente along the L-BFGS direction shortened to at most `max_step` in θ (Euclidean), with
/// the step length α at most 1: every step moves θ by at most `max_step`. Capping α instead caps
/// only the first step right (along −∇f); the quasi-Newton directions after it have about the
/// right length, and an α cap sized for the gradient shrank each of them to a sliver of itself,
/// so a heavy-buyer fit crawled through a thousand iterations.
#[derive(Clone)]
struct ShortenedDirection {
    inner: MoreThuenteLineSearch<Vec<f64>, Vec<f64>, f64>,
    max_step: f64,
}

impl LineSearch<Vec<f64>, f64> for ShortenedDirection {
    fn search_direction(&mut self, direction: Vec<f64>) {
        let length = norm(&direction);
        let scale = if length > self.max_step {
            self.max_step / length
        } else {
            1.0
        };
        self.inner
            .search_direction(direction.into_iter().map(|d| d * scale).collect());
    }

    fn initial_step_length(&mut self, step_length: f64) -> Result<(), argmin::core::Error> {
        self.inner.initial_step_length(step_length)
    }
}

type LineSearchState = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

impl<O> Solver<O, LineSearchState> for ShortenedDirection
where
    O: CostFunction<Param = Vec<f64>, Output = f64>
        + Gradient<Param = Vec<f64>, Gradient = Vec<f64>>,
{
    fn name(&self) -> &str {
        "More-Thuente line search along a shortened direction"
    }

    fn init(
        &mut self,
        problem: &mut Problem<O>,
        state: LineSearchState,
    ) -> Result<(LineSearchState, Option<KV>), argmin::core::Error> {
        self.inner.init(problem, state)
    }

    fn next_iter(
        &mut self,
        problem: &mut Problem<O>,
        state: LineSearchState,
    ) -> Result<(LineSearchState, Option<KV>), argmin::core::Error> {
        self.inner.next_iter(problem, state)
    }
}

/// One L-BFGS run from `start`, with every step at most `step_cap` in θ when given. Never fails:
/// an argmin error (for example a line search that met an infeasible point) ends the run at the
/// best point so far. Returns (best θ, iterations).
fn lbfgs_run(
    problem: &Scaled<'_>,
    start: &[f64],
    budget: u64,
    tolerance: f64,
    step_cap: Option<f64>,
) -> (Vec<f64>, u64) {
    // The two line searches are different types, and argmin's bound on them names a private
    // type: one body, written out for each.
    macro_rules! run_with {
        ($linesearch:expr) => {{
            let solver = $linesearch.and_then(|linesearch| {
                LBFGS::new(linesearch, LBFGS_MEMORY).with_tolerance_grad(tolerance)
            });
            let Ok(solver) = solver else {
                return (start.to_vec(), 0);
            };
            Executor::new(View(problem), solver)
                .configure(|state| state.param(start.to_vec()).max_iters(budget))
                .ctrlc(false)
                .run()
                .ok()
                .map(|res| {
                    (
                        res.state().get_best_param().cloned(),
                        res.state().get_iter(),
                    )
                })
        }};
    }
    let linesearch = MoreThuenteLineSearch::new().with_c(1e-4, 0.9);
    let result = match step_cap {
        Some(max_step) => run_with!(linesearch
            .and_then(|inner| inner.with_bounds(f64::EPSILON.sqrt(), 1.0))
            .map(|inner| ShortenedDirection { inner, max_step })),
        None => run_with!(linesearch),
    };
    best_of(problem, start, result)
}

/// Nelder-Mead from `start` with a simplex of side `step`, then returns (best θ, iterations).
fn nelder_mead_run(problem: &Scaled<'_>, start: &[f64], budget: u64, step: f64) -> (Vec<f64>, u64) {
    let mut simplex = vec![start.to_vec()];
    for i in 0..start.len() {
        let mut vertex = start.to_vec();
        vertex[i] += step;
        simplex.push(vertex);
    }
    let Ok(solver) = NelderMead::new(simplex).with_sd_tolerance(1e-12) else {
        return (start.to_vec(), 0);
    };
    let result = Executor::new(View(problem), solver)
        .configure(|state| state.max_iters(budget))
        .ctrlc(false)
        .run()
        .ok()
        .map(|res| {
            (
                res.state().get_best_param().cloned(),
                res.state().get_iter(),
            )
        });
    best_of(problem, start, result)
}

fn best_of(
    problem: &Scaled<'_>,
    start: &[f64],
    outcome: Option<(Option<Vec<f64>>, u64)>,
) -> (Vec<f64>, u64) {
    match outcome {
        Some((candidate, iterations)) => {
            let candidate = candidate.unwrap_or_else(|| start.to_vec());
            // Keep the start when the run made things worse (it never should).
            if problem.evaluate(&candidate).0 <= problem.evaluate(start).0 {
                (candidate, iterations)
            } else {
                (start.to_vec(), iterations)
            }
        }
        None => (start.to_vec(), 0),
    }
}

/// Optimizes from one start: L-BFGS with fresh-memory restarts, then Nelder-Mead and an L-BFGS
/// polish when L-BFGS alone does not converge.
fn attempt(problem: &Scaled<'_>, start: &[f64], options: &FitOptions) -> Attempt {
    let tolerance = options.gradient_tolerance;
    let mut theta = start.to_vec();
    let mut iterations = 0;
    let (mut cost, grad) = problem.evaluate(&theta);
    let mut gradient_norm = norm(&grad);
    // A run that cannot move (typically: its first trial step already left the feasible region,
    // which ends argmin's line search) is retried with every step's length in θ capped, 10x
    // tighter each time; a run that moves loosens the cap 4x.
    let mut step_cap: Option<f64> = None;
    let mut stalls = 0;
    for _ in 0..(LBFGS_RESTARTS + STEP_CAPS) {
        if gradient_norm <= tolerance
            || iterations >= options.max_iterations
            || problem.exhausted()
            || problem.drifted(&theta)
        {
            break;
        }
        let (next, used) = lbfgs_run(
            problem,
            &theta,
            options.max_iterations - iterations,
            tolerance,
            step_cap,
        );
        iterations += used.max(1);
        let (next_cost, next_grad) = problem.evaluate(&next);
        let progress = cost - next_cost;
        if progress > 0.0 {
            theta = next;
            cost = next_cost;
            gradient_norm = norm(&next_grad);
            // loosen a cap that worked: the objective may be nearly linear over a long way
            step_cap = step_cap.map(|c| c * 4.0);
        } else {
            stalls += 1;
            if stalls > STEP_CAPS {
                break;
            }
            // At most 0.5 in θ along the first direction, −∇f (less where the gradient is small).
            let first = 0.5 * gradient_norm.min(1.0);
            step_cap = Some(step_cap.map_or(first, |c| c * 0.1));
        }
    }
    // A start that drifted past the θ bound heads for a boundary of the parameter space:
    // Nelder-Mead would only follow it further.
    if gradient_norm <= tolerance || problem.exhausted() || problem.drifted(&theta) {
        return Attempt {
            theta,
            cost,
            gradient_norm,
            iterations,
            method: FitMethod::Lbfgs,
        };
    }
    // Each Nelder-Mead iteration costs one or two evaluations of a likelihood that may sum over
    // millions of customers: a bounded budget.
    let budget = options
        .max_iterations
        .saturating_mul(20)
        .min(NELDER_MEAD_MAX_ITERATIONS);
    let (simplex_best, used) = nelder_mead_run(problem, &theta, budget, 0.1);
    iterations += used;
    let (polished, used) = lbfgs_run(
        problem,
        &simplex_best,
        options.max_iterations,
        tolerance,
        None,
    );
    iterations += used;
    let (polished_cost, polished_grad) = problem.evaluate(&polished);
    if polished_cost <= cost {
        theta = polished;
        cost = polished_cost;
        gradient_norm = norm(&polished_grad);
    }
    Attempt {
        theta,
        cost,
        gradient_norm,
        iterations,
        method: FitMethod::NelderMeadThenLbfgs,
    }
}

/// Converged: a small gradient, at a point inside the θ bound (see [`FitOptions::theta_bound`]),
/// where the objective curves upwards in every direction (a positive definite Hessian of the
/// minimized f). The last test rejects the plateaus of log-parameters: as a natural parameter
/// drifts to 0, its log-scale gradient vanishes although the point is no maximum. Returns the
/// Hessian of the total log-likelihood when converged, so that it is computed once per fit.
fn converged_hessian(
    objective: &dyn Objective,
    theta: &[f64],
    gradient_norm: f64,
    options: &FitOptions,
) -> Option<Vec<Vec<f64>>> {
    if !(gradient_norm <= options.gradient_tolerance
        && theta.iter().all(|t| t.abs() <= options.theta_bound))
    {
        return None;
    }
    let h = hessian(objective, theta).ok()?;
    curves_upwards(&h, objective.weight(), options.penalty, theta).then_some(h)
}

/// Whether f = −ll/N + λ Σ exp(θᵢ)² curves upwards at θ, given the Hessian of ll there: whether
/// ∇²f = −H/N + diag(4λ exp(2θᵢ)) is positive definite.
fn curves_upwards(ll_hessian: &[Vec<f64>], weight: f64, penalty: f64, theta: &[f64]) -> bool {
    inverse_f_hessian(ll_hessian, weight, penalty, theta).is_ok()
}

/// (∇²f)⁻¹ at θ from the Hessian of ll there, ∇²f = −H/N + diag(4λ exp(2θᵢ)); an error when ∇²f
/// is not positive definite.
fn inverse_f_hessian(
    ll_hessian: &[Vec<f64>],
    weight: f64,
    penalty: f64,
    theta: &[f64],
) -> Result<Vec<Vec<f64>>, OptimizerError> {
    // `covariance` inverts the negative of what it is given: pass −∇²f.
    let minus_f_hessian: Vec<Vec<f64>> = ll_hessian
        .iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, h)| {
                    let diagonal = match theta.get(i) {
                        Some(t) if i == j => 4.0 * penalty * (2.0 * t).exp(),
                        _ => 0.0,
                    };
                    h / weight - diagonal
                })
                .collect()
        })
        .collect();
    covariance(&minus_f_hessian)
}

/// λ Σ exp(θᵢ)², the penalty part of f.
fn penalty_at(penalty: f64, theta: &[f64]) -> f64 {
    theta.iter().map(|t| penalty * (2.0 * t).exp()).sum()
}

/// Maximizes `objective` from the given starts (tried in order until one converges), then from
/// [`FitOptions::random_starts`] seeded perturbations of the first start.
///
/// Each start runs L-BFGS (argmin, More-Thuente line search) on the per-customer penalized
/// objective, restarted with a fresh memory when its line search stops early (with the step length
/// capped, tighter after each stall and looser after each success); if that does not
/// converge, Nelder-Mead from the best point and an L-BFGS polish. Infeasible points (a
/// non-finite log-likelihood or gradient) count as +∞ for the optimizer: the line search steps
/// back, Nelder-Mead rejects them. Returns the first converged estimate, or
/// [`OptimizerError::NotConverged`] with the report of the best point found.
pub(crate) fn maximize(
    objective: &dyn Objective,
    starts: &[Vec<f64>],
    options: &FitOptions,
) -> Result<Maximum, OptimizerError> {
    maximize_detailed(objective, starts, options).map_err(|failure| failure.error)
}

/// Why [`maximize_detailed`] failed, with the best point it reached (when it evaluated one), so
/// that a model can tell a maximum on the boundary of its parameter space from other failures.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// The optimizer's error.
    pub error: OptimizerError,
    /// The best θ reached (`None` before any feasible point).
    pub theta: Option<Vec<f64>>,
}

impl From<OptimizerError> for Failure {
    fn from(error: OptimizerError) -> Self {
        Failure { error, theta: None }
    }
}

/// Starts that end past the θ bound, all on the same side, after which no further start is
/// tried: the likelihood rises towards a boundary from everywhere the search looked.
const BOUNDARY_STARTS: u32 = 2;

/// [`maximize`], returning the best point reached with the error.
pub(crate) fn maximize_detailed(
    objective: &dyn Objective,
    starts: &[Vec<f64>],
    options: &FitOptions,
) -> Result<Maximum, Failure> {
    options.check().map_err(OptimizerError::from)?;
    let weight = objective.weight();
    if !(weight.is_finite() && weight > 0.0) {
        return Err(OptimizerError::NoData(weight).into());
    }
    let dim = objective.dim();
    let first = starts.first().ok_or(OptimizerError::NoStart)?;
    for (index, start) in starts.iter().enumerate() {
        if start.len() != dim {
            return Err(OptimizerError::BadStart {
                index,
                reason: "its length differs from the objective's dimension",
            }
            .into());
        }
        if start.iter().any(|t| !t.is_finite()) {
            return Err(OptimizerError::BadStart {
                index,
                reason: "it has a non-finite entry",
            }
            .into());
        }
    }
    let problem = Scaled::new(objective, options);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(options.seed);
    let random = (0..options.random_starts).map(|_| {
        first
            .iter()
            .map(|t| {
                let e: f64 = StandardNormal.sample(&mut rng);
                t + options.random_start_spread * e
            })
            .collect::<Vec<f64>>()
    });
    let candidates: Vec<Vec<f64>> = starts.iter().cloned().chain(random).collect();

    let mut best: Option<(Attempt, Option<Vec<Vec<f64>>>)> = None;
    let mut starts_tried = 0u32;
    let mut iterations = 0u64;
    let mut boundary_starts = 0u32;
    for start in &candidates {
        if problem.exhausted() || boundary_starts >= BOUNDARY_STARTS {
            break;
        }
        starts_tried += 1;
        if !problem.evaluate(start).0.is_finite() {
            continue;
        }
        let a = attempt(&problem, start, options);
        iterations += a.iterations;
        let converged = converged_hessian(objective, &a.theta, a.gradient_norm, options);
        let done = converged.is_some();
        if !done && problem.drifted(&a.theta) {
            boundary_starts += 1;
        }
        if best.as_ref().is_none_or(|(b, _)| a.cost < b.cost) {
            best = Some((a, converged));
        }
        if done {
            break;
        }
    }
    let Some((best, hessian)) = best else {
        let error = if problem.exhausted() {
            OptimizerError::BudgetExhausted {
                evaluations: problem.evaluations.get(),
                report: Box::new(FitReport {
                    log_likelihood: f64::NAN,
                    iterations,
                    gradient_norm: f64::NAN,
                    converged: false,
                    method: FitMethod::Lbfgs,
                    starts_tried,
                    customers: weight,
                    penalty: options.penalty,
                    gradient_tolerance: options.gradient_tolerance,
                }),
            }
        } else {
            OptimizerError::Infeasible {
                starts: starts_tried,
            }
        };
        return Err(error.into());
    };
    let mut report = FitReport {
        // f = −ll/N + penalty at the best point, so ll needs no further pass over the data.
        log_likelihood: (penalty_at(options.penalty, &best.theta) - best.cost) * weight,
        iterations,
        gradient_norm: best.gradient_norm,
        converged: hessian.is_some(),
        method: best.method,
        starts_tried,
        customers: weight,
        penalty: options.penalty,
        gradient_tolerance: options.gradient_tolerance,
    };
    match hessian {
        Some(hessian) if report.log_likelihood.is_finite() => Ok(Maximum {
            theta: best.theta,
            report,
            hessian,
        }),
        _ => {
            report.converged = false;
            report.log_likelihood = problem.log_likelihood(&best.theta);
            let error = if best.gradient_norm <= options.gradient_tolerance {
                OptimizerError::NotAMaximum {
                    report: Box::new(report),
                    reason: if problem.drifted(&best.theta) {
                        "a parameter drifted past the theta bound or reached its cap, towards 0 or infinity"
                    } else {
                        "the log-likelihood is flat or curves the wrong way in some direction, so the data do not identify every parameter"
                    },
                }
            } else if problem.exhausted() {
                OptimizerError::BudgetExhausted {
                    evaluations: problem.evaluations.get(),
                    report: Box::new(report),
                }
            } else {
                OptimizerError::NotConverged(report)
            };
            Err(Failure {
                error,
                theta: Some(best.theta),
            })
        }
    }
}

/// Newton iterations of the full problem allowed after a subsample fit.
const NEWTON_MAX_ITERATIONS: u64 = 25;
/// Step halvings of one Newton iteration before the polish gives up.
const NEWTON_HALVINGS: u32 = 12;

/// [`maximize_refined_detailed`] without the best point of a failure.
#[cfg(test)]
pub(crate) fn maximize_refined(
    objective: &dyn Objective,
    coarse: &dyn Objective,
    starts: &[Vec<f64>],
    options: &FitOptions,
) -> Result<Maximum, OptimizerError> {
    maximize_refined_detailed(objective, coarse, starts, options).map_err(|failure| failure.error)
}

/// [`maximize`] for big data: maximizes `coarse` (the same log-likelihood on a subsample of the
/// customers, on the same parameter scale) from `starts`, then polishes that estimate on
/// `objective` by Newton steps whose Hessian is the subsample's (per customer, the two Hessians
/// differ only by sampling noise, so each step shrinks the gradient many-fold). Each Newton step
/// costs one pass over the data, where L-BFGS from scratch needs dozens.
///
/// The convergence test is [`maximize`]'s, on the full objective. When the subsample fit fails or
/// the polish does not converge within 25 steps, the full objective is maximized as by
/// [`maximize`], from the subsample estimate and then `starts`; nothing is lost but time.
///
/// A failure carries the best point reached, as [`maximize_detailed`]'s.
pub(crate) fn maximize_refined_detailed(
    objective: &dyn Objective,
    coarse: &dyn Objective,
    starts: &[Vec<f64>],
    options: &FitOptions,
) -> Result<Maximum, Failure> {
    options.check().map_err(OptimizerError::from)?;
    if coarse.dim() != objective.dim() {
        return Err(OptimizerError::BadStart {
            index: 0,
            reason: "the coarse objective's dimension differs from the objective's",
        }
        .into());
    }
    let Ok(rough) = maximize(coarse, starts, options) else {
        return maximize_detailed(objective, starts, options);
    };
    if let Some(polished) = newton_polish(objective, coarse.weight(), &rough, options) {
        return Ok(polished);
    }
    let warm: Vec<Vec<f64>> = std::iter::once(rough.theta.clone())
        .chain(starts.iter().cloned())
        .collect();
    let mut max = maximize_detailed(objective, &warm, options)?;
    max.report.iterations += rough.report.iterations;
    Ok(max)
}

/// Newton steps on `objective` from the subsample estimate `rough`, with the subsample's Hessian
/// of f fixed and halving of steps that do not decrease f. `None` when it does not converge.
#[allow(clippy::needless_range_loop)] // index notation mirrors the formulas
fn newton_polish(
    objective: &dyn Objective,
    coarse_weight: f64,
    rough: &Maximum,
    options: &FitOptions,
) -> Option<Maximum> {
    let weight = objective.weight();
    if !(weight.is_finite() && weight > 0.0 && coarse_weight > 0.0) {
        return None;
    }
    let dim = objective.dim();
    let mut theta = rough.theta.clone();
    let mut inverse =
        inverse_f_hessian(&rough.hessian, coarse_weight, options.penalty, &theta).ok()?;
    let problem = Scaled::new(objective, options);
    let (mut cost, mut grad) = problem.evaluate(&theta);
    let mut iterations = 0;
    while norm(&grad) > options.gradient_tolerance {
        if iterations >= NEWTON_MAX_ITERATIONS || !cost.is_finite() {
            return None;
        }
        iterations += 1;
        let step: Vec<f64> = (0..dim)
            .map(|i| -(0..dim).map(|j| inverse[i][j] * grad[j]).sum::<f64>())
            .collect();
        let slope: f64 = step.iter().zip(&grad).map(|(d, g)| d * g).sum();
        let mut length = 1.0;
        let mut accepted = false;
        for _ in 0..NEWTON_HALVINGS {
            let trial: Vec<f64> = theta
                .iter()
                .zip(&step)
                .map(|(t, d)| t + length * d)
                .collect();
            let (trial_cost, trial_grad) = problem.evaluate(&trial);
            // Armijo, or (within the rounding of f near the optimum) a smaller gradient.
            let sufficient = trial_cost <= cost + 1e-4 * length * slope;
            let flat = (trial_cost - cost).abs() <= 1e-12 * cost.abs().max(1.0)
                && norm(&trial_grad) < norm(&grad);
            if trial_cost.is_finite() && (sufficient || flat) {
                bfgs_update(&mut inverse, &theta, &trial, &grad, &trial_grad);
                theta = trial;
                cost = trial_cost;
                grad = trial_grad;
                accepted = true;
                break;
            }
            length *= 0.5;
        }
        if !accepted {
            return None;
        }
    }
    let gradient_norm = norm(&grad);
    if theta.iter().any(|t| t.abs() > options.theta_bound) {
        return None;
    }
    let hessian = forward_hessian(objective, &theta, options.penalty, &grad)?;
    if !curves_upwards(&hessian, weight, options.penalty, &theta) {
        return None;
    }
    let log_likelihood = (penalty_at(options.penalty, &theta) - cost) * weight;
    if !log_likelihood.is_finite() {
        return None;
    }
    Some(Maximum {
        theta,
        report: FitReport {
            log_likelihood,
            iterations: rough.report.iterations + iterations,
            gradient_norm,
            converged: true,
            method: FitMethod::SubsampleThenNewton,
            starts_tried: rough.report.starts_tried,
            customers: weight,
            penalty: options.penalty,
            gradient_tolerance: options.gradient_tolerance,
        },
        hessian,
    })
}

/// The BFGS update of an inverse Hessian of f after a step from θ to θ' with gradients g and
/// g': the subsample's curvature, corrected along the step by the whole data's gradients, so
/// that the Newton steps of [`newton_polish`] converge faster than linearly. Skipped where the
/// step shows no positive curvature (yᵀs ≤ 0: the update would lose positive definiteness).
#[allow(clippy::needless_range_loop)] // index notation mirrors the formulas
fn bfgs_update(inverse: &mut [Vec<f64>], theta: &[f64], next: &[f64], g: &[f64], g_next: &[f64]) {
    let dim = theta.len();
    let s: Vec<f64> = (0..dim).map(|i| next[i] - theta[i]).collect();
    let y: Vec<f64> = (0..dim).map(|i| g_next[i] - g[i]).collect();
    let ys: f64 = y.iter().zip(&s).map(|(a, b)| a * b).sum();
    if !(ys.is_finite() && ys > 0.0) {
        return;
    }
    let rho = 1.0 / ys;
    // H' = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ = H − ρ (s (Hy)ᵀ + (Hy) sᵀ) + (ρ² yᵀHy + ρ) s sᵀ.
    let hy: Vec<f64> = (0..dim)
        .map(|i| (0..dim).map(|j| inverse[i][j] * y[j]).sum())
        .collect();
    let yhy: f64 = y.iter().zip(&hy).map(|(a, b)| a * b).sum();
    let updated: Vec<Vec<f64>> = (0..dim)
        .map(|i| {
            (0..dim)
                .map(|j| {
                    inverse[i][j] - rho * (s[i] * hy[j] + hy[i] * s[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j]
                })
                .collect()
        })
        .collect();
    if updated.iter().flatten().all(|v| v.is_finite()) {
        for (row, new) in inverse.iter_mut().zip(updated) {
            *row = new;
        }
    }
}

/// Hessian of the total log-likelihood at θ by forward differences of the analytic gradient
/// (step 1e-6 · max(1, |θᵢ|)), symmetrized: one pass over the data per parameter, half of
/// [`hessian`]'s, for the big fits of [`maximize_refined_detailed`]. `f_gradient` is ∇f at θ, from which
/// the log-likelihood's gradient is recovered (∇ll = N (2λ exp(2θ) − ∇f)). Relative accuracy
/// about 1e-6, ample for standard errors.
fn forward_hessian(
    objective: &dyn Objective,
    theta: &[f64],
    penalty: f64,
    f_gradient: &[f64],
) -> Option<Vec<Vec<f64>>> {
    let weight = objective.weight();
    let at: Vec<f64> = theta
        .iter()
        .zip(f_gradient)
        .map(|(t, g)| weight * (2.0 * penalty * (2.0 * t).exp() - g))
        .collect();
    gradient_differences(objective, theta, Some(&at)).ok()
}

/// Hessian of the (unpenalized) total log-likelihood at θ, by central differences of the analytic
/// gradient (step 1e-5 · max(1, |θᵢ|)), symmetrized. Row-major.
pub(crate) fn hessian(
    objective: &dyn Objective,
    theta: &[f64],
) -> Result<Vec<Vec<f64>>, OptimizerError> {
    let dim = objective.dim();
    if theta.len() != dim || theta.iter().any(|t| !t.is_finite()) {
        return Err(OptimizerError::BadStart {
            index: 0,
            reason: "θ must be finite and of the objective's dimension",
        });
    }
    gradient_differences(objective, theta, None)
}

/// The symmetrized Hessian of ll from differences of its gradient: forward differences from
/// `at` = ∇ll(θ) when given (step 1e-6 · max(1, |θᵢ|)), else central (step 1e-5 · max(1, |θᵢ|)).
#[allow(clippy::needless_range_loop)] // index notation mirrors the formulas
fn gradient_differences(
    objective: &dyn Objective,
    theta: &[f64],
    at: Option<&[f64]>,
) -> Result<Vec<Vec<f64>>, OptimizerError> {
    let dim = theta.len();
    let mut h = vec![vec![0.0; dim]; dim];
    let mut plus = vec![0.0; dim];
    let mut minus = vec![0.0; dim];
    for j in 0..dim {
        let scale = theta[j].abs().max(1.0);
        let mut t = theta.to_vec();
        let (step, span) = match at {
            Some(at) => {
                minus.copy_from_slice(at);
                (1e-6 * scale, 1e-6 * scale)
            }
            None => {
                let step = 1e-5 * scale;
                t[j] = theta[j] - step;
                if !objective.value_and_gradient(&t, &mut minus).is_finite() {
                    return Err(OptimizerError::NotFinite);
                }
                (step, 2.0 * step)
            }
        };
        t[j] = theta[j] + step;
        if !objective.value_and_gradient(&t, &mut plus).is_finite() {
            return Err(OptimizerError::NotFinite);
        }
        for i in 0..dim {
            h[i][j] = (plus[i] - minus[i]) / span;
        }
    }
    for i in 0..dim {
        for j in 0..i {
            let mean = 0.5 * (h[i][j] + h[j][i]);
            h[i][j] = mean;
            h[j][i] = mean;
        }
    }
    if h.iter().flatten().any(|v| !v.is_finite()) {
        return Err(OptimizerError::NotFinite);
    }
    Ok(h)
}

/// Covariance of the estimate: the inverse of the negative Hessian (observed information), by
/// Cholesky; [`OptimizerError::NotPositiveDefinite`] when −H is not positive definite.
#[allow(clippy::needless_range_loop)] // index notation mirrors the formulas
pub(crate) fn covariance(hessian: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, OptimizerError> {
    let n = hessian.len();
    // Lower Cholesky factor of A = -H.
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let a = -hessian
                .get(i)
                .and_then(|row| row.get(j))
                .copied()
                .unwrap_or(f64::NAN);
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let pivot = a - s;
                if !(pivot.is_finite() && pivot > 0.0) {
                    return Err(OptimizerError::NotPositiveDefinite {
                        pivot: i,
                        value: pivot,
                    });
                }
                l[i][i] = pivot.sqrt();
            } else {
                l[i][j] = (a - s) / l[j][j];
            }
        }
    }
    // A⁻¹ = L⁻ᵀ L⁻¹: invert L column by column.
    let mut inv_l = vec![vec![0.0; n]; n];
    for col in 0..n {
        for i in col..n {
            let rhs = if i == col { 1.0 } else { 0.0 };
            let s: f64 = (col..i).map(|k| l[i][k] * inv_l[k][col]).sum();
            inv_l[i][col] = (rhs - s) / l[i][i];
        }
    }
    let mut cov = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            cov[i][j] = (i.max(j)..n).map(|k| inv_l[k][i] * inv_l[k][j]).sum();
        }
    }
    Ok(cov)
}

/// How a model reads a failed fit: its parameter names, the mixing pairs that name the limits
/// of its parameter space, and the map from θ to the natural parameters on the data's scale.
pub(crate) struct BoundaryReading<'a> {
    /// The parameter names, in θ's order.
    pub names: &'a [&'static str],
    /// The mixing distributions (see [`crate::fit::boundary_limits`]).
    pub pairs: &'a [crate::fit::Pair],
    /// θ → the natural parameters, in the data's units.
    pub natural: &'a dyn Fn(&[f64]) -> Vec<f64>,
    /// The objective's θ caps ([`Objective::theta_caps`]), when it has any.
    pub caps: Option<&'a [f64]>,
}

/// `model`'s error for an optimizer failure: [`FitError::Boundary`] when the best point reached
/// drifts towards a boundary the model names (with the finite last estimate and the report),
/// else [`FitError::Optimizer`].
pub(crate) fn failure_to_fit_error(
    model: &'static str,
    failure: Failure,
    options: &FitOptions,
    reading: &BoundaryReading<'_>,
) -> FitError {
    let report = match &failure.error {
        OptimizerError::NotConverged(report) => Some(report.clone()),
        OptimizerError::NotAMaximum { report, .. }
        | OptimizerError::BudgetExhausted { report, .. } => Some((**report).clone()),
        _ => None,
    };
    if let (Some(theta), Some(report)) = (&failure.theta, report) {
        let caps = reading.caps.unwrap_or(&[]);
        let limits = crate::fit::boundary_limits(
            theta,
            options.theta_bound,
            caps,
            reading.names,
            reading.pairs,
        );
        let values = (reading.natural)(theta);
        if !limits.is_empty() && values.iter().all(|v| v.is_finite()) {
            let estimate = reading
                .names
                .iter()
                .zip(values)
                .map(|(name, v)| (name.to_string(), v))
                .collect();
            let report = report.log_likelihood.is_finite().then_some(report);
            return FitError::Boundary {
                model,
                boundary: Box::new(crate::fit::BoundaryEstimate {
                    limits,
                    estimate,
                    population_mean_spend: None,
                    report,
                }),
            };
        }
    }
    FitError::Optimizer {
        model,
        source: failure.error,
    }
}

/// Maximizes a likelihood in the logarithms of `D` positive parameters from θ = 0 (the discrete
/// and contractual models' single start) and returns the natural parameters exp(θ̂) with the
/// maximum; an optimizer failure is `model`'s [`FitError::Boundary`] when it heads for a limit
/// `pairs` name, else its [`FitError::Optimizer`].
pub(crate) fn maximize_log_parameters<const D: usize>(
    model: &'static str,
    objective: &dyn Objective,
    options: &FitOptions,
    names: &[&'static str; D],
    pairs: &[crate::fit::Pair],
    first: Option<[f64; D]>,
) -> Result<([f64; D], Maximum), FitError> {
    let natural = |theta: &[f64]| theta.iter().map(|t| t.exp()).collect::<Vec<f64>>();
    let reading = BoundaryReading {
        names,
        pairs,
        natural: &natural,
        caps: None,
    };
    // A first start given in natural values (a warm start) goes before the default, θ = 0.
    let mut starts: Vec<Vec<f64>> = first
        .filter(|f| f.iter().all(|v| v.is_finite() && *v > 0.0))
        .map(|f| f.iter().map(|v| v.ln()).collect())
        .into_iter()
        .collect();
    starts.push(vec![0.0; D]);
    let max = maximize_detailed(objective, &starts, options)
        .map_err(|failure| failure_to_fit_error(model, failure, options, &reading))?;
    let mut p = [f64::NAN; D];
    for (k, t) in max.theta.iter().take(D).enumerate() {
        p[k] = t.exp();
    }
    Ok((p, max))
}

/// The covariance of the natural parameters exp(θ) at a maximum of a log-parameterized
/// likelihood; `None` when the negative Hessian is not positive definite or an entry is not
/// finite.
pub(crate) fn natural_covariance(names: &[&str], max: &Maximum) -> Option<Covariance> {
    let log_covariance = max.log_covariance().ok()?;
    Covariance::from_log_parameters(names, &max.theta, &log_covariance).ok()
}

#[cfg(test)]
/// Standard errors of the natural parameters exp(θᵢ) by the delta method:
/// se(exp θᵢ) = exp(θᵢ) √cov(θ)ᵢᵢ, with the covariance from [`hessian`] and [`covariance`].
pub(crate) fn natural_standard_errors(
    objective: &dyn Objective,
    theta: &[f64],
) -> Result<Vec<f64>, OptimizerError> {
    let cov = covariance(&hessian(objective, theta)?)?;
    Ok(natural_standard_errors_from(theta, &cov))
}

#[cfg(test)]
/// Central finite differences of the log-likelihood value at θ (step 1e-6 · max(1, |θᵢ|)): the
/// reference the models' tests compare their analytic gradients with. Entries are NaN where the
/// value is not finite at θ ± step.
pub(crate) fn finite_difference_gradient(objective: &dyn Objective, theta: &[f64]) -> Vec<f64> {
    let mut scratch = vec![0.0; theta.len()];
    (0..theta.len())
        .map(|i| {
            let step = 1e-6 * theta[i].abs().max(1.0);
            let mut t = theta.to_vec();
            t[i] = theta[i] + step;
            let up = objective.value_and_gradient(&t, &mut scratch);
            t[i] = theta[i] - step;
            let down = objective.value_and_gradient(&t, &mut scratch);
            (up - down) / (2.0 * step)
        })
        .collect()
}

/// Delta-method standard errors of exp(θᵢ) from a covariance of θ.
#[cfg(test)]
pub(crate) fn natural_standard_errors_from(theta: &[f64], covariance: &[Vec<f64>]) -> Vec<f64> {
    theta
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let var = covariance
                .get(i)
                .and_then(|row| row.get(i))
                .copied()
                .unwrap_or(f64::NAN);
            t.exp() * var.max(0.0).sqrt()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Normal sample, θ = (ln μ, ln σ).
    struct Normal {
        data: Vec<f64>,
    }
    impl Objective for Normal {
        fn dim(&self) -> usize {
            2
        }
        fn weight(&self) -> f64 {
            self.data.len() as f64
        }
        fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
            let (mu, sigma) = (theta[0].exp(), theta[1].exp());
            let n = self.data.len() as f64;
            let ss: f64 = self.data.iter().map(|x| (x - mu).powi(2)).sum();
            let sd: f64 = self.data.iter().map(|x| x - mu).sum();
            grad[0] = sd / (sigma * sigma) * mu;
            grad[1] = -n + ss / (sigma * sigma);
            -n * sigma.ln()
                - ss / (2.0 * sigma * sigma)
                - 0.5 * n * (2.0 * std::f64::consts::PI).ln()
        }
    }

    fn sample() -> Normal {
        let data = (0..400)
            .map(|i| 10.0 + 3.0 * ((i as f64 * 0.7).sin() + 0.5 * (i as f64 * 1.3).cos()))
            .collect();
        Normal { data }
    }

    #[test]
    fn normal_mle_and_standard_errors_match_closed_form() {
        let model = sample();
        let n = model.data.len() as f64;
        let mean = model.data.iter().sum::<f64>() / n;
        let var = model.data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        let max = maximize(&model, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap();
        assert!(max.report.converged);
        assert!((max.theta[0].exp() - mean).abs() < 1e-6 * mean);
        assert!((max.theta[1].exp() - var.sqrt()).abs() < 1e-6);
        let se = natural_standard_errors(&model, &max.theta).unwrap();
        assert!(
            (se[0] - (var / n).sqrt()).abs() < 1e-6 * se[0].max(1.0),
            "{se:?}"
        );
        assert!((se[1] - (var / (2.0 * n)).sqrt()).abs() < 1e-6, "{se:?}");
        // the analytic gradient agrees with finite differences
        let mut g = [0.0; 2];
        let theta = [2.0, 1.5];
        model.value_and_gradient(&theta, &mut g);
        let fd = finite_difference_gradient(&model, &theta);
        for (a, f) in g.iter().zip(&fd) {
            assert!((a - f).abs() < 1e-5 * a.abs().max(1.0), "{g:?} {fd:?}");
        }
        // the Hessian of the log-likelihood matches -n/σ² μ² on the (ln μ, ln μ) entry
        let h = hessian(&model, &max.theta).unwrap();
        assert!((h[0][0] + n / var * mean * mean).abs() < 1e-4 * n / var * mean * mean);
        assert!((h[0][1] - h[1][0]).abs() < 1e-12);
    }

    #[test]
    fn the_maximum_carries_the_hessian_of_the_log_likelihood() {
        let model = sample();
        let max = maximize(&model, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap();
        assert_eq!(max.hessian, hessian(&model, &max.theta).unwrap());
        // the reported log-likelihood (recovered from f without another pass) is ll(θ̂)
        let mut g = [0.0; 2];
        let ll = model.value_and_gradient(&max.theta, &mut g);
        assert!((max.report.log_likelihood - ll).abs() < 1e-9 * ll.abs());
    }

    #[test]
    fn refined_maximum_equals_the_direct_one() {
        // a big sample and every 10th point of it as the coarse objective
        let data: Vec<f64> = (0..20_000)
            .map(|i| 10.0 + 3.0 * ((i as f64 * 0.7).sin() + 0.5 * (i as f64 * 1.3).cos()))
            .collect();
        let coarse = Normal {
            data: data.iter().step_by(10).copied().collect(),
        };
        let full = Normal { data };
        for penalty in [0.0, 0.01] {
            let options = FitOptions::default().penalty(penalty);
            let direct = maximize(&full, &[vec![0.0, 0.0]], &options).unwrap();
            let refined = maximize_refined(&full, &coarse, &[vec![0.0, 0.0]], &options).unwrap();
            assert_eq!(refined.report.method, FitMethod::SubsampleThenNewton);
            assert!(refined.report.converged);
            assert!(refined.report.gradient_norm <= 1e-6);
            for (a, b) in refined.theta.iter().zip(&direct.theta) {
                assert!((a - b).abs() < 1e-6, "{refined:?} {direct:?}");
            }
            assert!(
                (refined.report.log_likelihood - direct.report.log_likelihood).abs()
                    < 1e-6 * direct.report.log_likelihood.abs()
            );
            // forward differences: accurate to ~1e-6 of the Hessian's scale
            let central = hessian(&full, &refined.theta).unwrap();
            let scale = central.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
            for (row, want) in refined.hessian.iter().zip(&central) {
                for (h, w) in row.iter().zip(want) {
                    assert!((h - w).abs() <= 1e-5 * scale, "{h} vs {w}");
                }
            }
        }
    }

    #[test]
    fn refined_maximum_survives_a_useless_coarse_objective() {
        let full = sample();
        let direct = maximize(&full, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap();
        // A coarse objective that is infeasible everywhere: the full fit runs as `maximize`.
        struct Nowhere;
        impl Objective for Nowhere {
            fn dim(&self) -> usize {
                2
            }
            fn value_and_gradient(&self, _: &[f64], _: &mut [f64]) -> f64 {
                f64::NAN
            }
        }
        let refined =
            maximize_refined(&full, &Nowhere, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap();
        assert_eq!(refined, direct);
        // A coarse Hessian that curves the wrong way: no polish.
        let mut wrong = direct.clone();
        wrong.hessian = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        assert!(newton_polish(&full, 400.0, &wrong, &FitOptions::default()).is_none());
        // A coarse Hessian 1000x too flat: steps overshoot and halve; the polish still converges
        // or gives up, never returns a point that is not a maximum.
        let mut flat = direct.clone();
        flat.theta = vec![direct.theta[0] + 0.1, direct.theta[1] - 0.1];
        flat.hessian = direct
            .hessian
            .iter()
            .map(|row| row.iter().map(|h| h / 1000.0).collect())
            .collect();
        if let Some(polished) = newton_polish(&full, 400.0, &flat, &FitOptions::default()) {
            for (a, b) in polished.theta.iter().zip(&direct.theta) {
                assert!((a - b).abs() < 1e-6);
            }
        }
        // a coarse objective of another dimension is an error, not a panic
        struct One;
        impl Objective for One {
            fn dim(&self) -> usize {
                1
            }
            fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
                g[0] = -t[0];
                -0.5 * t[0] * t[0]
            }
        }
        assert!(matches!(
            maximize_refined(&full, &One, &[vec![0.0, 0.0]], &FitOptions::default()),
            Err(OptimizerError::BadStart { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(crate::test_support::proptest_config(32))]
        #[test]
        fn normal_mle_from_any_start(
            shift in 0.5f64..50.0,
            spread in 0.1f64..10.0,
            start_mu in -3.0f64..5.0,
            start_sigma in -3.0f64..4.0,
        ) {
            let data: Vec<f64> = sample().data.iter().map(|x| shift + spread * (x - 10.0) / 3.0).collect();
            proptest::prop_assume!(data.iter().sum::<f64>() > 0.0);
            let n = data.len() as f64;
            let mean = data.iter().sum::<f64>() / n;
            let sd = (data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
            let model = Normal { data };
            // Either the MLE or an honest error: from a start far above the data, the log-scale
            // gradient can vanish as mu drifts to 0, a degenerate point that must not count.
            let max = match maximize(&model, &[vec![start_mu, start_sigma]], &FitOptions::default()) {
                Ok(max) => max,
                Err(OptimizerError::NotConverged(report)) => {
                    proptest::prop_assert!(!report.converged);
                    return Ok(());
                }
                Err(e) => return Err(proptest::test_runner::TestCaseError::fail(e.to_string())),
            };
            proptest::prop_assert!(max.report.converged);
            proptest::prop_assert!((max.theta[0].exp() - mean).abs() < 1e-5 * mean.max(sd));
            proptest::prop_assert!((max.theta[1].exp() - sd).abs() < 1e-5 * sd);
        }
    }

    /// Exponential waiting times, infeasible (NaN) for rates above 2.
    struct Capped {
        n: f64,
        total: f64,
    }
    impl Objective for Capped {
        fn dim(&self) -> usize {
            1
        }
        fn weight(&self) -> f64 {
            self.n
        }
        fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
            let rate = theta[0].exp();
            if rate > 2.0 {
                grad[0] = f64::NAN;
                return f64::NAN;
            }
            grad[0] = self.n - rate * self.total;
            self.n * theta[0] - rate * self.total
        }
    }

    #[test]
    fn infeasible_points_are_stepped_over() {
        // MLE 1.9, near the infeasible region; start on the far side of the optimum.
        let data = Capped {
            n: 19.0,
            total: 10.0,
        };
        let max = maximize(&data, &[vec![-5.0]], &FitOptions::default()).unwrap();
        assert!((max.theta[0].exp() - 1.9).abs() < 1e-6);
        assert_eq!(max.report.method, FitMethod::Lbfgs);
        // A first step far into the infeasible region (gradient 1000 per customer at the start):
        // the capped retries of L-BFGS handle it without Nelder-Mead.
        let steep = Capped {
            n: 1.9e4,
            total: 1e4,
        };
        let max = maximize(&steep, &[vec![-12.0]], &FitOptions::default()).unwrap();
        assert!((max.theta[0].exp() - 1.9).abs() < 1e-6);
        assert_eq!(max.report.method, FitMethod::Lbfgs);
        assert!(matches!(
            maximize(&data, &[vec![2.0]], &FitOptions::default().random_starts(0)),
            Err(OptimizerError::Infeasible { starts: 1 })
        ));
        // An infeasible first start falls through to the next one.
        let max = maximize(&data, &[vec![3.0], vec![0.0]], &FitOptions::default()).unwrap();
        assert_eq!(max.report.starts_tried, 2);
    }

    #[test]
    fn penalty_follows_lifetimes_convention() {
        // maximize ln λ − λ t̄ − c λ²: 2c λ² + t̄ λ − 1 = 0
        let data = Capped {
            n: 10.0,
            total: 20.0,
        };
        let c = 0.3;
        let max = maximize(&data, &[vec![0.0]], &FitOptions::default().penalty(c)).unwrap();
        let tbar = 2.0;
        let expected = (-tbar + (tbar * tbar + 8.0 * c).sqrt()) / (4.0 * c);
        assert!((max.theta[0].exp() - expected).abs() < 1e-6);
        // the reported log-likelihood is unpenalized
        let ll = 10.0 * max.theta[0] - max.theta[0].exp() * 20.0;
        assert!((max.report.log_likelihood - ll).abs() < 1e-12);
    }

    /// Rosenbrock as a "log-likelihood": hard enough that one iteration cannot converge.
    struct Rosenbrock;
    impl Objective for Rosenbrock {
        fn dim(&self) -> usize {
            2
        }
        fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
            let (x, y) = (t[0], t[1]);
            g[0] = -(-2.0 * (1.0 - x) - 400.0 * x * (y - x * x));
            g[1] = -(200.0 * (y - x * x));
            -((1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2))
        }
    }

    #[test]
    fn non_convergence_is_an_error_with_a_report() {
        let opts = FitOptions::default().max_iterations(1).random_starts(1);
        match maximize(&Rosenbrock, &[vec![-1.2, 1.0]], &opts) {
            Err(OptimizerError::NotConverged(report)) => {
                assert!(!report.converged);
                assert!(report.log_likelihood.is_finite());
                assert_eq!(report.starts_tried, 2);
            }
            other => panic!("{other:?}"),
        }
        let max = maximize(&Rosenbrock, &[vec![-1.2, 1.0]], &FitOptions::default()).unwrap();
        assert!((max.theta[0] - 1.0).abs() < 1e-4 && (max.theta[1] - 1.0).abs() < 1e-4);
    }

    /// A likelihood that does not depend on θ.
    struct Flat;
    impl Objective for Flat {
        fn dim(&self) -> usize {
            2
        }
        fn value_and_gradient(&self, _: &[f64], g: &mut [f64]) -> f64 {
            g.iter_mut().for_each(|v| *v = 0.0);
            0.0
        }
    }

    /// A likelihood that rises towards θ₀ → ∞ (−10¹² e^−θ₀, steep enough that its gradient
    /// stays above the tolerance within the search's reach) and has its maximum in θ₁ at 0.
    struct Rising;
    impl Objective for Rising {
        fn dim(&self) -> usize {
            2
        }
        fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 1e12 * (-t[0]).exp();
            g[1] = -t[1];
            -1e12 * (-t[0]).exp() - 0.5 * t[1] * t[1]
        }
    }

    #[test]
    fn a_vanishing_gradient_without_a_maximum_is_not_called_non_convergence() {
        // Once reported as "did not converge (gradient norm 0 > 0.000001, ..., 0 iterations)".
        let error = maximize(&Flat, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap_err();
        let text = error.to_string();
        assert!(
            matches!(&error, OptimizerError::NotAMaximum { reason, .. } if reason.contains("flat")),
            "{text}"
        );
        assert!(!text.contains("did not converge"), "{text}");
        assert!(text.contains("0.000e0 <= 1.000e-6"), "{text}");
    }

    /// Steep at the start, where the first step along −∇f lands past the reach (infeasible), with
    /// its maximum far along that steep direction: the shape of a heavy-buyer Pareto/NBD fit
    /// (∂/∂ln α of 1e5 at the start, the estimate 8 units of ln α away).
    struct SteepThenFar {
        evaluations: std::sync::atomic::AtomicU64,
    }
    impl Objective for SteepThenFar {
        fn dim(&self) -> usize {
            2
        }
        fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
            self.evaluations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            g[0] = -1000.0 * (t[0] + 8.0);
            g[1] = -(t[1] - 3.0);
            -500.0 * (t[0] + 8.0).powi(2) - 0.5 * (t[1] - 3.0).powi(2)
        }
    }

    /// After the first run stalls, the capped runs take quasi-Newton steps of their full length
    /// (up to the cap) and converge in a few dozen evaluations. Capping α for the gradient's
    /// length instead shrank every later step to 1e-4 of itself: 1000 iterations and no
    /// convergence.
    #[test]
    fn a_stalled_start_does_not_crawl() {
        let objective = SteepThenFar {
            evaluations: std::sync::atomic::AtomicU64::new(0),
        };
        let max = maximize(&objective, &[vec![0.0, 0.0]], &FitOptions::default()).unwrap();
        assert!((max.theta[0] + 8.0).abs() < 1e-6 && (max.theta[1] - 3.0).abs() < 1e-5);
        let evaluations = objective
            .evaluations
            .load(std::sync::atomic::Ordering::Relaxed);
        assert!(evaluations < 300, "{evaluations} evaluations");
        assert!(max.report.iterations < 100, "{:?}", max.report);
    }

    #[test]
    fn a_likelihood_rising_to_a_boundary_stops_past_the_theta_bound_with_its_point() {
        let options = FitOptions::default();
        let failure = maximize_detailed(&Rising, &[vec![0.0, 1.0]], &options).unwrap_err();
        let theta = failure.theta.expect("the best point");
        assert!(theta[0] > options.theta_bound, "{theta:?}");
        assert!(theta[0] <= options.theta_bound + REACH_BEYOND_BOUND);
        assert!(theta[1].abs() < 1e-3, "{theta:?}");
        // two starts agreed on the boundary: no random start was tried
        let report = match failure.error {
            OptimizerError::NotAMaximum { report, .. } => *report,
            OptimizerError::NotConverged(report) => report,
            other => panic!("{other:?}"),
        };
        assert!(report.starts_tried <= BOUNDARY_STARTS, "{report:?}");
    }

    /// The normal sample, at a cost of 1000 ordinary evaluations each.
    struct Costly(Normal);
    impl Objective for Costly {
        fn dim(&self) -> usize {
            2
        }
        fn weight(&self) -> f64 {
            self.0.weight()
        }
        fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
            self.0.value_and_gradient(t, g)
        }
        fn evaluation_cost(&self, _: &[f64]) -> f64 {
            1000.0
        }
    }

    #[test]
    fn the_work_budget_counts_what_evaluations_cost() {
        let options = FitOptions::default();
        let error = maximize(&Costly(sample()), &[vec![5.0, -3.0]], &options).unwrap_err();
        let budget = options.max_iterations * MAX_EVALUATIONS_PER_ITERATION;
        match error {
            OptimizerError::BudgetExhausted { evaluations, .. } => {
                assert!(evaluations <= budget / 1000 + 1, "{evaluations}")
            }
            other => panic!("{other:?}"),
        }
        // the same data at the ordinary cost fits
        assert!(maximize(&sample(), &[vec![5.0, -3.0]], &options).is_ok());
    }

    #[test]
    fn errors_print_numbers_in_short_scientific_form() {
        let opts = FitOptions::default().max_iterations(1).random_starts(0);
        let error = maximize(&Rosenbrock, &[vec![-1.2, 1.0]], &opts).unwrap_err();
        let text = error.to_string();
        let longest = text
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(longest <= 6, "{text}");
        assert!(text.contains("e-6"), "{text}");
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let o = FitOptions::default();
        assert_eq!(maximize(&Rosenbrock, &[], &o), Err(OptimizerError::NoStart));
        assert!(matches!(
            maximize(&Rosenbrock, &[vec![0.0]], &o),
            Err(OptimizerError::BadStart { index: 0, .. })
        ));
        assert!(matches!(
            maximize(&Rosenbrock, &[vec![0.0, f64::NAN]], &o),
            Err(OptimizerError::BadStart { .. })
        ));
        assert!(matches!(
            maximize(&Rosenbrock, &[vec![0.0, 0.0]], &o.clone().penalty(-1.0)),
            Err(OptimizerError::InvalidOption(e)) if e.name() == "penalty"
        ));
        assert!(matches!(
            covariance(&[vec![1.0, 0.0], vec![0.0, -1.0]]),
            Err(OptimizerError::NotPositiveDefinite { pivot: 0, .. })
        ));
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn covariance_inverts_the_negative_hessian() {
        let h = vec![
            vec![-4.0, 1.0, 0.5],
            vec![1.0, -3.0, 0.2],
            vec![0.5, 0.2, -2.0],
        ];
        let c = covariance(&h).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| -h[i][k] * c[k][j]).sum();
                assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }
}
