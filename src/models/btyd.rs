//! Shared machinery of the continuous-time "buy till you die" models (BG/NBD, MBG/NBD,
//! Pareto/NBD): input checks, the prepared (sorted, rescaled) patterns the likelihoods sum over,
//! adaptive quadrature, and the fit in log-parameters with its covariance.

use crate::fit::{check_total_weight, Covariance, FitError, Limit, Pair, MAX_TIME_SPAN};
use crate::models::error::PredictError;
use crate::summary::Patterns;
use statrs::function::gamma::ln_gamma;

/// The mixing distributions of the continuous-time models (BG/NBD, MBG/NBD, Pareto/NBD):
/// the purchase rate's gamma(r, α) at parameters 0 and 1, and the dropout's distribution at 2 and
/// 3 (beta(a, b) of a probability, or gamma(s, β) of a rate), for reading a boundary estimate.
pub(crate) fn btyd_pairs(dropout_is_rate: bool) -> [Pair; 2] {
    let purchase = Pair::Gamma {
        shape: 0,
        rate: 1,
        heterogeneity: Limit::NoPurchaseHeterogeneity,
        mean_to_zero: None,
    };
    let dropout = if dropout_is_rate {
        Pair::Gamma {
            shape: 2,
            rate: 3,
            heterogeneity: Limit::NoDropoutHeterogeneity,
            mean_to_zero: Some(Limit::NoDropout),
        }
    } else {
        Pair::Beta {
            a: 2,
            b: 3,
            heterogeneity: Limit::NoDropoutHeterogeneity,
            mean_to_zero: Some(Limit::NoDropout),
            mean_to_one: None,
        }
    };
    [purchase, dropout]
}

/// What the continuous-time fits check before optimising, so that data which cannot identify
/// the model fail at once, in words: some patterns, a total weight within
/// [`MAX_TOTAL_WEIGHT`](crate::fit::MAX_TOTAL_WEIGHT), ages within [`MAX_TIME_SPAN`], some time
/// observed, some repeat purchase, and at least as many
/// distinct histories (x, t_x, T) as the model has parameters (identical customers carry the
/// information of one).
pub(crate) fn check_identifiable(
    model: &'static str,
    patterns: &Patterns,
    parameters: usize,
) -> Result<(), FitError> {
    if patterns.is_empty() {
        return Err(FitError::NoData {
            model,
            reason: "no patterns",
        });
    }
    check_total_weight(model, patterns.total_weight())?;
    if let Some((row, p)) = patterns
        .iter()
        .enumerate()
        .find(|(_, p)| p.age() > MAX_TIME_SPAN)
    {
        return Err(FitError::OutOfRange {
            model,
            reason: format!(
                "pattern {row} has age T = {:.3e}, above the limit {MAX_TIME_SPAN:.0e} time units",
                p.age()
            ),
        });
    }
    let not_identified = |reason: String| FitError::NotIdentified { model, reason };
    if patterns.iter().all(|p| p.age() == 0.0) {
        return Err(not_identified(
            "no time observed: every customer's age T is 0".into(),
        ));
    }
    if patterns.iter().all(|p| p.frequency() == 0) {
        return Err(FitError::NoData {
            model,
            reason: "no customer has a repeat purchase",
        });
    }
    if patterns.len() < parameters {
        return Err(not_identified(format!(
            "its {parameters} parameters need at least {parameters} distinct customer histories (x, t_x, T); the data have {}",
            patterns.len()
        )));
    }
    Ok(())
}

/// Checks a prediction horizon (finite, non-negative).
pub(crate) fn horizon(t: f64) -> Result<f64, PredictError> {
    if t.is_finite() && t >= 0.0 {
        Ok(t)
    } else {
        Err(PredictError::InvalidInput {
            name: "t",
            value: t,
            reason: "horizon must be finite and non-negative",
        })
    }
}

/// Checks a continuous discount rate (finite, strictly positive).
pub(crate) fn discount_rate(rate: f64) -> Result<f64, PredictError> {
    if rate.is_finite() && rate > 0.0 {
        Ok(rate)
    } else {
        Err(PredictError::InvalidInput {
            name: "rate",
            value: rate,
            reason: "continuous discount rate must be finite and positive",
        })
    }
}

/// Turns a non-finite result into a [`PredictError::Numerical`].
pub(crate) fn finite(what: &'static str, value: f64) -> Result<f64, PredictError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(PredictError::Numerical {
            what,
            detail: format!("result is {value}"),
        })
    }
}

/// ln of the negative binomial probability of `n` events in (0, t] for a Poisson rate with a
/// gamma(k, a) distribution: Γ(k+n)/(Γ(k) n!) (a/(a+t))^k (t/(a+t))^n.
pub(crate) fn ln_nbd_pmf(n: u32, k: f64, a: f64, t: f64) -> f64 {
    let nf = f64::from(n);
    if t == 0.0 {
        return if n == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    let ln_at = (a + t).ln();
    ln_gamma(k + nf) - ln_gamma(k) - ln_gamma(nf + 1.0)
        + k * (a.ln() - ln_at)
        + nf * (t.ln() - ln_at)
}

/// Patterns prepared for fast likelihood sums: sorted by x, with the time axis divided by `scale`
/// so the optimizer works on parameters of order one. Per-x terms are computed once per group.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// Distinct frequencies, ascending.
    pub xs: Vec<f64>,
    /// For each distinct frequency, the row range `starts[g]..starts[g + 1]`.
    pub starts: Vec<usize>,
    /// t_x / scale per row.
    pub recency: Vec<f64>,
    /// T / scale per row.
    pub age: Vec<f64>,
    /// Customer count per row.
    pub weight: Vec<f64>,
    /// The time scale divided out.
    pub scale: f64,
    /// Sum of weight * x (for converting the log-likelihood back to the data's unit).
    pub weighted_x: f64,
    /// The distinct times of each frequency, when the rows share few (see [`TimeTables`]).
    pub times: Option<TimeTables>,
}

/// The distinct times (t_x and T, rescaled) of the rows of each frequency, and each row's place
/// in its frequency's list: a likelihood term that depends only on x and one time (ln(α + T), the
/// ₂F₁ of Pareto/NBD at T) is then computed once per distinct time of a frequency instead of once
/// per row. Summaries count time in whole days (or another grain), so a million customers
/// observed over two years share about 730 ages and recencies; customers with continuous times
/// share none, and then [`TimeTables::build`] gives up early.
#[derive(Debug, Clone)]
pub(crate) struct TimeTables {
    /// The distinct times of group g are `times[starts[g]..starts[g + 1]]` (in the order the
    /// rows first use them).
    pub times: Vec<f64>,
    /// For each group, the range of its times in `times` and the per-time vectors.
    pub starts: Vec<usize>,
    /// Per row: the index of its t_x among its group's times (0-based within the group).
    pub recency_at: Vec<u32>,
    /// Per row: the index of its T among its group's times.
    pub age_at: Vec<u32>,
    /// Per time of a group: how many of the group's rows have it as their age T.
    pub age_rows: Vec<u32>,
    /// Per time of a group: whether some row of the group has it as its recency t_x.
    pub is_recency: Vec<bool>,
}

impl TimeTables {
    /// The tables of rows grouped by `starts` (as [`Prepared`]'s), or `None` when the rows have
    /// more than `rows / 4` distinct times in all (but always up to 4,096, never beyond 65,536):
    /// the lists would save little then, and building them stops as soon as that is clear.
    pub fn build(starts: &[usize], recency: &[f64], age: &[f64]) -> Option<TimeTables> {
        const MAX_TIMES: usize = 1 << 16;
        let rows = recency.len();
        let cap = (rows / 4).clamp(4096, MAX_TIMES);
        // Distinct times over all groups, then per group a local list (stamped by group).
        let mut global: FastMap<u64, u32> = FastMap::default();
        let mut stamp: Vec<usize> = Vec::new();
        let mut local: Vec<u32> = Vec::new();
        let mut tables = TimeTables {
            times: Vec::new(),
            starts: Vec::with_capacity(starts.len()),
            recency_at: Vec::with_capacity(rows),
            age_at: Vec::with_capacity(rows),
            age_rows: Vec::new(),
            is_recency: Vec::new(),
        };
        for (g, range) in starts.windows(2).enumerate() {
            let first = tables.times.len();
            tables.starts.push(first);
            let mut previous: Option<(u64, u32)> = None;
            for i in range[0]..range[1] {
                let mut slot = |t: f64, tables: &mut TimeTables| -> Option<u32> {
                    let key = (t + 0.0).to_bits();
                    let next = u32::try_from(stamp.len()).ok()?;
                    let id = *global.entry(key).or_insert(next) as usize;
                    if id == stamp.len() {
                        if id >= cap {
                            return None;
                        }
                        stamp.push(usize::MAX);
                        local.push(0);
                    }
                    if stamp[id] != g {
                        stamp[id] = g;
                        local[id] = u32::try_from(tables.times.len() - first).ok()?;
                        tables.times.push(t);
                        tables.age_rows.push(0);
                        tables.is_recency.push(false);
                    }
                    Some(local[id])
                };
                let t_x = recency[i];
                let key = (t_x + 0.0).to_bits();
                let at = match previous {
                    Some((k, at)) if k == key => at,
                    _ => {
                        let at = slot(t_x, &mut tables)?;
                        previous = Some((key, at));
                        at
                    }
                };
                tables.recency_at.push(at);
                tables.is_recency[first + at as usize] = true;
                let at = slot(age[i], &mut tables)?;
                tables.age_at.push(at);
                tables.age_rows[first + at as usize] += 1;
            }
        }
        tables.starts.push(tables.times.len());
        Some(tables)
    }

    /// The distinct times of group `g`.
    pub fn of_group(&self, g: usize) -> &[f64] {
        &self.times[self.starts[g]..self.starts[g + 1]]
    }
}

type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

impl Prepared {
    /// Sorts and rescales; `scale` is chosen as the weighted mean age (1 when all ages are 0).
    pub fn new(patterns: &Patterns, rescale: bool) -> Self {
        // Owned (x, t_x, T, weight) rows: sorting them in place is cache-friendly.
        let mut rows: Vec<(u32, f64, f64, f64)> = patterns
            .iter()
            .map(|p| (p.frequency(), p.recency(), p.age(), p.weight()))
            .collect();
        sort_by_frequency_then_recency(&mut rows);
        let total: f64 = rows.iter().map(|p| p.3).sum();
        let mean_age = rows.iter().map(|p| p.3 * p.2).sum::<f64>() / total;
        let scale = if rescale && mean_age.is_finite() && mean_age > 0.0 {
            mean_age
        } else {
            1.0
        };
        Self::from_sorted(rows, scale)
    }

    /// The weighted mean age of `patterns`: the time scale [`Prepared::new`] divides out (1 when
    /// every age is 0).
    pub fn mean_age(patterns: &Patterns) -> f64 {
        let total: f64 = patterns.iter().map(|p| p.weight()).sum();
        let mean = patterns.iter().map(|p| p.weight() * p.age()).sum::<f64>() / total;
        if mean.is_finite() && mean > 0.0 {
            mean
        } else {
            1.0
        }
    }

    /// Sorts and divides the time axis by a given `scale` (finite and positive): the parts of
    /// one likelihood that must share a scale (the covariate cells of a fit).
    pub fn with_scale(patterns: &Patterns, scale: f64) -> Self {
        let mut rows: Vec<(u32, f64, f64, f64)> = patterns
            .iter()
            .map(|p| (p.frequency(), p.recency(), p.age(), p.weight()))
            .collect();
        sort_by_frequency_then_recency(&mut rows);
        Self::from_sorted(rows, scale)
    }

    fn from_sorted(rows: Vec<(u32, f64, f64, f64)>, scale: f64) -> Self {
        let mut xs = Vec::new();
        let mut starts = Vec::new();
        let mut recency = Vec::with_capacity(rows.len());
        let mut age = Vec::with_capacity(rows.len());
        let mut weight = Vec::with_capacity(rows.len());
        let mut weighted_x = 0.0;
        for (i, &(frequency, t_x, t, w)) in rows.iter().enumerate() {
            let x = f64::from(frequency);
            if xs.last() != Some(&x) {
                xs.push(x);
                starts.push(i);
            }
            recency.push(t_x / scale);
            age.push(t / scale);
            weight.push(w);
            weighted_x += w * x;
        }
        starts.push(rows.len());
        let times = TimeTables::build(&starts, &recency, &age);
        Prepared {
            xs,
            starts,
            recency,
            age,
            weight,
            scale,
            weighted_x,
            times,
        }
    }

    /// The same rows without [`TimeTables`]: every term computed per row (the reference the
    /// tables' likelihoods are tested against).
    #[cfg(test)]
    pub fn without_time_tables(&self) -> Prepared {
        Prepared {
            times: None,
            ..self.clone()
        }
    }

    /// Every k-th row, k = ⌊rows / target⌋, on the same time scale: in the (x, t_x) order every
    /// frequency band keeps its share, so this is a stratified subsample for the warm start of
    /// [`crate::optimize::maximize_refined_detailed`]. `None` below 4 × `target` rows, where a subsample saves
    /// too little.
    pub fn thinned(&self, target: usize) -> Option<Prepared> {
        let n = self.recency.len();
        if target == 0 || n < 4 * target {
            return None;
        }
        let stride = n / target;
        let mut thin = Prepared {
            xs: Vec::new(),
            starts: Vec::new(),
            recency: Vec::with_capacity(n / stride + 1),
            age: Vec::with_capacity(n / stride + 1),
            weight: Vec::with_capacity(n / stride + 1),
            scale: self.scale,
            weighted_x: 0.0,
            times: None,
        };
        for (g, &x) in self.xs.iter().enumerate() {
            let (lo, hi) = (self.starts[g], self.starts[g + 1]);
            let first = lo.next_multiple_of(stride);
            if first >= hi {
                continue;
            }
            thin.xs.push(x);
            thin.starts.push(thin.recency.len());
            for i in (first..hi).step_by(stride) {
                thin.recency.push(self.recency[i]);
                thin.age.push(self.age[i]);
                thin.weight.push(self.weight[i]);
                thin.weighted_x += self.weight[i] * x;
            }
        }
        thin.starts.push(thin.recency.len());
        thin.times = TimeTables::build(&thin.starts, &thin.recency, &thin.age);
        Some(thin)
    }

    /// Sums `f(group index, x, rows)` over groups (computed in parallel with the `parallel`
    /// feature, added in order: the same bits either way), where `f` returns (log-likelihood,
    /// gradient) of its rows; a big group comes in several parts.
    pub fn sum_groups<const D: usize, F>(&self, f: F) -> (f64, [f64; D])
    where
        F: Fn(usize, f64, std::ops::Range<usize>) -> (f64, [f64; D]) + Sync,
    {
        let add = |mut a: (f64, [f64; D]), b: (f64, [f64; D])| {
            a.0 += b.0;
            for (x, y) in a.1.iter_mut().zip(b.1) {
                *x += y;
            }
            a
        };
        // Split big groups into chunks so the work balances across threads.
        const CHUNK: usize = 16_384;
        let tasks: Vec<(usize, f64, std::ops::Range<usize>)> = self
            .xs
            .iter()
            .enumerate()
            .flat_map(|(g, &x)| {
                let (lo, hi) = (self.starts[g], self.starts[g + 1]);
                (lo..hi)
                    .step_by(CHUNK)
                    .map(move |s| (g, x, s..(s + CHUNK).min(hi)))
            })
            .collect();
        #[cfg(feature = "parallel")]
        {
            // The parts are added in order, as serially: a reduction tree shaped by the threads'
            // stealing would change the sums' last bits from run to run, and with them where an
            // optimiser stops on a flat likelihood (a fit must not depend on the feature).
            use rayon::prelude::*;
            let parts: Vec<(f64, [f64; D])> =
                tasks.into_par_iter().map(|(g, x, r)| f(g, x, r)).collect();
            parts.into_iter().fold((0.0, [0.0; D]), add)
        }
        #[cfg(not(feature = "parallel"))]
        {
            tasks
                .into_iter()
                .map(|(g, x, r)| f(g, x, r))
                .fold((0.0, [0.0; D]), add)
        }
    }
}

/// Rows of the warm-start subsample of big fits ([`Prepared::thinned`]).
pub(crate) const COARSE_ROWS: usize = 20_000;

/// Sorts (x, t_x, T, weight) rows by x, then t_x: a counting sort on x when the frequencies are
/// small (the usual case), so that only rows of one frequency are compared.
fn sort_by_frequency_then_recency(rows: &mut Vec<(u32, f64, f64, f64)>) {
    let by_recency = |p: &(u32, f64, f64, f64), q: &(u32, f64, f64, f64)| p.1.total_cmp(&q.1);
    // Summaries' patterns come sorted.
    if rows
        .windows(2)
        .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && by_recency(&w[0], &w[1]).is_le()))
    {
        return;
    }
    let max_x = rows.iter().map(|p| p.0).max().unwrap_or(0) as usize;
    if max_x > 2 * rows.len() + 1024 {
        rows.sort_unstable_by(|p, q| p.0.cmp(&q.0).then(by_recency(p, q)));
        return;
    }
    let mut offsets = vec![0usize; max_x + 2];
    for p in rows.iter() {
        offsets[p.0 as usize + 1] += 1;
    }
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut sorted = vec![(0u32, 0.0, 0.0, 0.0); rows.len()];
    let mut next = offsets.clone();
    for &p in rows.iter() {
        let slot = &mut next[p.0 as usize];
        sorted[*slot] = p;
        *slot += 1;
    }
    for w in offsets.windows(2) {
        sorted[w[0]..w[1]].sort_unstable_by(by_recency);
    }
    *rows = sorted;
}

// Gauss-Kronrod 7/15 nodes and weights (QUADPACK qk15).
const XGK: [f64; 8] = [
    0.991_455_371_120_812_6,
    0.949_107_912_342_758_5,
    0.864_864_423_359_769_1,
    0.741_531_185_599_394_4,
    0.586_087_235_467_691_1,
    0.405_845_151_377_397_2,
    0.207_784_955_007_898_5,
    0.0,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_22,
    0.063_092_092_629_978_55,
    0.104_790_010_322_250_2,
    0.140_653_259_715_525_9,
    0.169_004_726_639_267_9,
    0.190_350_578_064_785_4,
    0.204_432_940_075_298_9,
    0.209_482_141_084_727_8,
];
const WG: [f64; 4] = [
    0.129_484_966_168_869_7,
    0.279_705_391_489_276_7,
    0.381_830_050_505_118_9,
    0.417_959_183_673_469_4,
];

fn gk15<F: FnMut(f64) -> Result<f64, PredictError>>(
    f: &mut F,
    lo: f64,
    hi: f64,
) -> Result<(f64, f64), PredictError> {
    let c = 0.5 * (lo + hi);
    let h = 0.5 * (hi - lo);
    let fc = f(c)?;
    let mut kronrod = fc * WGK[7];
    let mut gauss = fc * WG[3];
    for j in 0..7 {
        let dx = h * XGK[j];
        let s = f(c - dx)? + f(c + dx)?;
        kronrod += WGK[j] * s;
        if j % 2 == 1 {
            gauss += WG[j / 2] * s;
        }
    }
    Ok((kronrod * h, ((kronrod - gauss) * h).abs()))
}

/// Adaptive Gauss-Kronrod (7/15) integral of `f` over [lo, hi] to relative tolerance `rel_tol`;
/// an error when the tolerance is not met within a fixed number of subdivisions.
pub(crate) fn integrate<F: FnMut(f64) -> Result<f64, PredictError>>(
    what: &'static str,
    f: F,
    lo: f64,
    hi: f64,
    rel_tol: f64,
) -> Result<f64, PredictError> {
    integrate_to(what, f, lo, hi, rel_tol, 0.0)
}

/// [`integrate`], also done once the error estimate is below `abs_tol` (for one piece of an
/// integral whose total sets the scale).
pub(crate) fn integrate_to<F: FnMut(f64) -> Result<f64, PredictError>>(
    what: &'static str,
    mut f: F,
    lo: f64,
    hi: f64,
    rel_tol: f64,
    abs_tol: f64,
) -> Result<f64, PredictError> {
    const MAX_INTERVALS: usize = 400;
    let (v, e) = gk15(&mut f, lo, hi)?;
    let mut parts = vec![(lo, hi, v, e)];
    loop {
        let total: f64 = parts.iter().map(|p| p.2).sum();
        let err: f64 = parts.iter().map(|p| p.3).sum();
        if !total.is_finite() || !err.is_finite() {
            return Err(PredictError::Numerical {
                what,
                detail: format!("integral is {total} (error estimate {err})"),
            });
        }
        if err <= rel_tol * total.abs() || err <= abs_tol || err < 1e-300 {
            return Ok(total);
        }
        if parts.len() >= MAX_INTERVALS {
            return Err(PredictError::Numerical {
                what,
                detail: format!(
                    "quadrature did not reach relative tolerance {rel_tol}: value {total}, error {err}"
                ),
            });
        }
        // Bisect the interval with the largest error estimate.
        let (i, _) = parts
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (i, p)| {
                if p.3 > best.1 {
                    (i, p.3)
                } else {
                    best
                }
            });
        let (a, b, _, _) = parts.swap_remove(i);
        let m = 0.5 * (a + b);
        let (v1, e1) = gk15(&mut f, a, m)?;
        let (v2, e2) = gk15(&mut f, m, b)?;
        parts.push((a, m, v1, e1));
        parts.push((m, b, v2, e2));
    }
}

/// GK15 of the `N` functions `f` returns at once over [lo, hi]: the Kronrod values and their
/// error estimates |Kronrod − Gauss|.
fn gk15_many<const N: usize, F: FnMut(f64) -> Result<[f64; N], PredictError>>(
    f: &mut F,
    lo: f64,
    hi: f64,
) -> Result<([f64; N], [f64; N]), PredictError> {
    let c = 0.5 * (lo + hi);
    let h = 0.5 * (hi - lo);
    let fc = f(c)?;
    let mut kronrod: [f64; N] = std::array::from_fn(|k| fc[k] * WGK[7]);
    let mut gauss: [f64; N] = std::array::from_fn(|k| fc[k] * WG[3]);
    for j in 0..7 {
        let dx = h * XGK[j];
        let (left, right) = (f(c - dx)?, f(c + dx)?);
        for k in 0..N {
            let s = left[k] + right[k];
            kronrod[k] += WGK[j] * s;
            if j % 2 == 1 {
                gauss[k] += WG[j / 2] * s;
            }
        }
    }
    Ok((
        std::array::from_fn(|k| kronrod[k] * h),
        std::array::from_fn(|k| ((kronrod[k] - gauss[k]) * h).abs()),
    ))
}

/// Adaptive Gauss-Kronrod (7/15) integrals of the `N` functions `f` returns at once over
/// [lo, hi] (a likelihood and its gradient share their nodes): done when `done(totals, errors)`
/// says so, an error when it does not within a fixed number of subdivisions. The interval with
/// the largest error estimate (summed over the functions) is bisected first.
pub(crate) fn integrate_many<const N: usize, F, D>(
    what: &'static str,
    mut f: F,
    lo: f64,
    hi: f64,
    done: D,
) -> Result<[f64; N], PredictError>
where
    F: FnMut(f64) -> Result<[f64; N], PredictError>,
    D: Fn(&[f64; N], &[f64; N]) -> bool,
{
    const MAX_INTERVALS: usize = 400;
    let (v, e) = gk15_many(&mut f, lo, hi)?;
    let mut parts = vec![(lo, hi, v, e)];
    loop {
        let mut total = [0.0; N];
        let mut err = [0.0; N];
        for p in &parts {
            for k in 0..N {
                total[k] += p.2[k];
                err[k] += p.3[k];
            }
        }
        if total.iter().chain(&err).any(|v| !v.is_finite()) {
            return Err(PredictError::Numerical {
                what,
                detail: format!("integrals are {total:?} (error estimates {err:?})"),
            });
        }
        if done(&total, &err) || err.iter().all(|e| *e < 1e-300) {
            return Ok(total);
        }
        if parts.len() >= MAX_INTERVALS {
            return Err(PredictError::Numerical {
                what,
                detail: format!(
                    "quadrature did not reach its tolerance: values {total:?}, errors {err:?}"
                ),
            });
        }
        let (i, _) = parts
            .iter()
            .enumerate()
            .fold((0, f64::NEG_INFINITY), |best, (i, p)| {
                let e: f64 = p.3.iter().sum();
                if e > best.1 {
                    (i, e)
                } else {
                    best
                }
            });
        let (a, b, _, _) = parts.swap_remove(i);
        let m = 0.5 * (a + b);
        let (v1, e1) = gk15_many(&mut f, a, m)?;
        let (v2, e2) = gk15_many(&mut f, m, b)?;
        parts.push((a, m, v1, e1));
        parts.push((m, b, v2, e2));
    }
}

/// The outcome of a maximum-likelihood fit in log-parameter space, converted back to the data's
/// time unit.
#[derive(Debug, Clone)]
pub(crate) struct FitOutcome<const D: usize> {
    /// Natural parameters in the data's unit.
    pub params: [f64; D],
    /// Their covariance (delta method on the log-parameters' inverse observed information).
    pub covariance: Covariance,
    /// The optimizer's report, with the log-likelihood in the data's unit.
    pub report: crate::fit::FitReport,
}

/// Maximizes `objective` (log-parameters on the rescaled time axis) from `starts` (through
/// `coarse`, the same likelihood on a subsample, when given:
/// [`crate::optimize::maximize_refined_detailed`]), then converts the scale parameters (indices in
/// `time_scaled`) back to the data's unit and computes the covariance of the parameters `names`.
/// `ll_offset` converts the log-likelihood from the rescaled axis to the data's unit.
///
/// A failure heading for a boundary the `pairs` name is [`FitError::Boundary`] (its estimate
/// and log-likelihood in the data's unit).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_log_params<const D: usize>(
    model: &'static str,
    names: &[&'static str; D],
    pairs: &[Pair],
    objective: &dyn crate::optimize::Objective,
    coarse: Option<&dyn crate::optimize::Objective>,
    starts: &[Vec<f64>],
    options: &crate::fit::FitOptions,
    scale: f64,
    time_scaled: &[usize],
    ll_offset: f64,
) -> Result<FitOutcome<D>, FitError> {
    let powers: Vec<i32> = (0..D)
        .map(|i| i32::from(time_scaled.contains(&i)))
        .collect();
    fit_log_params_in_units(
        model, names, pairs, objective, coarse, starts, options, scale, &powers, ll_offset,
    )
}

/// [`fit_log_params`] for parameters that scale with any power of time: parameter i of the
/// data's unit is exp(θᵢ) · scale^`unit_powers[i]` (1 for a rate per time unit such as α, −1 for
/// one that multiplies time such as the Gompertz b, 0 for a dimensionless one).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_log_params_in_units<const D: usize>(
    model: &'static str,
    names: &[&'static str; D],
    pairs: &[Pair],
    objective: &dyn crate::optimize::Objective,
    coarse: Option<&dyn crate::optimize::Objective>,
    starts: &[Vec<f64>],
    options: &crate::fit::FitOptions,
    scale: f64,
    unit_powers: &[i32],
    ll_offset: f64,
) -> Result<FitOutcome<D>, FitError> {
    let natural = |theta: &[f64]| -> Vec<f64> {
        theta
            .iter()
            .enumerate()
            .map(|(i, t)| t.exp() * scale.powi(unit_powers.get(i).copied().unwrap_or(0)))
            .collect()
    };
    let max = match coarse {
        Some(coarse) => {
            crate::optimize::maximize_refined_detailed(objective, coarse, starts, options)
        }
        None => crate::optimize::maximize_detailed(objective, starts, options),
    }
    .map_err(|failure| {
        let caps = objective.theta_caps();
        let reading = crate::optimize::BoundaryReading {
            names,
            pairs,
            natural: &natural,
            caps: caps.as_deref(),
        };
        let mut error = crate::optimize::failure_to_fit_error(model, failure, options, &reading);
        if let FitError::Boundary { boundary, .. } = &mut error {
            if let Some(report) = boundary.report.as_mut() {
                report.log_likelihood += ll_offset;
            }
        }
        error
    })?;
    let mut params = [0.0; D];
    for (p, v) in params.iter_mut().zip(natural(&max.theta)) {
        *p = v;
    }
    if !params.iter().all(|p| p.is_finite() && *p > 0.0) {
        return Err(FitError::Numerical {
            model,
            detail: format!("optimum has invalid parameters {params:?}"),
        });
    }
    let log_covariance = max.log_covariance().map_err(|source| FitError::Numerical {
        model,
        detail: format!("standard errors: {source}"),
    })?;
    // From the estimates themselves: exp(ln p) can differ from p in the last bit.
    let covariance =
        Covariance::from_log_covariance(names, &params, &log_covariance).map_err(|source| {
            FitError::Numerical {
                model,
                detail: format!("standard errors: {source}"),
            }
        })?;
    let mut report = max.report;
    report.log_likelihood += ll_offset;
    Ok(FitOutcome {
        params,
        covariance,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::TimeUnit;
    use proptest::prelude::*;

    /// Patterns on a grid of days (as summaries make them, so that rows share times), from
    /// (x, day of t_x as a share of T, day of T, weight).
    fn day_patterns(rows: &[(u32, f64, u32, f64)]) -> Patterns {
        Patterns::new(
            TimeUnit::WEEKS,
            rows.iter().map(|&(x, u, days, w)| {
                let age = f64::from(days) / 7.0;
                let t_x = if x == 0 {
                    0.0
                } else {
                    (u * f64::from(days)).floor() / 7.0
                };
                (x, t_x, age, w)
            }),
        )
        .unwrap()
    }

    /// Every row's place in its group's list of times holds that row's t_x and T.
    #[test]
    fn time_tables_point_at_each_rows_times() {
        let rows: Vec<(u32, f64, u32, f64)> = (0..500u32)
            .map(|i| {
                (
                    i % 7,
                    f64::from(i % 13) / 13.0,
                    30 + i % 41,
                    1.0 + f64::from(i % 3),
                )
            })
            .collect();
        let data = Prepared::new(&day_patterns(&rows), true);
        let times = data.times.as_ref().expect("few distinct times");
        for (g, range) in data.starts.windows(2).enumerate() {
            let own = times.of_group(g);
            for i in range[0]..range[1] {
                assert_eq!(own[times.recency_at[i] as usize], data.recency[i]);
                assert_eq!(own[times.age_at[i] as usize], data.age[i]);
            }
            let ages: u32 = (0..own.len())
                .map(|k| times.age_rows[times.starts[g] + k])
                .sum();
            assert_eq!(ages as usize, range[1] - range[0]);
        }
        // Continuous times: no tables past the cap.
        let continuous: Vec<(u32, f64, f64, f64)> = (0..40_000u32)
            .map(|i| {
                (
                    1,
                    0.5 + f64::from(i) * 1e-4,
                    10.0 + f64::from(i) * 1e-3,
                    1.0,
                )
            })
            .collect();
        let p = Patterns::new(TimeUnit::WEEKS, continuous).unwrap();
        assert!(Prepared::new(&p, true).times.is_none());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]
        /// The likelihoods with time tables equal those computed row by row, value and gradient
        /// to the last bit (the tables hold the very values the rows computed), for BG/NBD,
        /// MBG/NBD and Pareto/NBD, on the whole data and on its subsample.
        #[test]
        fn time_tables_change_no_likelihood(
            theta in proptest::array::uniform4(-2.0f64..2.5),
            rows in proptest::collection::vec(
                (0u32..30, 0.0f64..1.0, 1u32..400, 1.0f64..4.0), 1..200),
        ) {
            let p = day_patterns(&rows);
            let data = Prepared::new(&p, true);
            prop_assert!(data.times.is_some());
            let plain = data.without_time_tables();
            for offset in [0.0, 1.0] {
                let fast = crate::models::beta_geometric::beta_geometric_ll(&data, &theta, offset);
                let slow = crate::models::beta_geometric::beta_geometric_ll(&plain, &theta, offset);
                prop_assert_eq!(fast.0.to_bits(), slow.0.to_bits(), "offset {}: {:?} vs {:?}", offset, fast, slow);
                for k in 0..4 {
                    prop_assert_eq!(fast.1[k].to_bits(), slow.1[k].to_bits(), "offset {} k {}", offset, k);
                }
            }
            let fast = crate::models::pareto_nbd::likelihood_for_tests(&data, &theta);
            let slow = crate::models::pareto_nbd::likelihood_for_tests(&plain, &theta);
            prop_assert_eq!(fast.0.to_bits(), slow.0.to_bits(), "pareto: {:?} vs {:?}", fast, slow);
            for k in 0..4 {
                prop_assert_eq!(fast.1[k].to_bits(), slow.1[k].to_bits(), "pareto k {}", k);
            }
        }
    }

    #[test]
    fn gauss_kronrod_integrates_smooth_and_singular_functions() {
        let v = integrate("t", |x: f64| Ok(x.exp()), 0.0, 1.0, 1e-12).unwrap();
        assert!((v - (1f64.exp() - 1.0)).abs() < 1e-12);
        // ∫_0^1 x^-0.5 dx = 2 (endpoint singularity: adaptive bisection)
        let v = integrate("t", |x: f64| Ok(x.powf(-0.5)), 0.0, 1.0, 1e-7).unwrap();
        assert!((v - 2.0).abs() < 1e-6, "{v}");
    }
}
