//! The statistics of the attribute profile: Pearson and Spearman correlations, level means with
//! t intervals, the one-way ANOVA, Welch's ANOVA, Kruskal–Wallis, and quartiles. Each returns
//! its result or why it cannot be computed; none returns NaN.

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, StudentsT};

use crate::kpi::{normal_quantile, t_quantile, ConfidenceInterval};

use super::estimate::{Estimate, NotComputable};
use super::types::{
    AnovaTest, Correlation, KruskalWallis, LevelMean, NumericSummary, RankCorrelation, WelchTest,
};

/// `value` when finite, else [`NotComputable::Overflow`].
fn finite(value: f64) -> Result<f64, NotComputable> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NotComputable::Overflow)
    }
}

/// A probability clamped into 0..=1 (a p-value from an incomplete beta function can stray by
/// an ulp).
fn probability(p: f64) -> Result<f64, NotComputable> {
    finite(p).map(|p| p.clamp(0.0, 1.0))
}

/// The mean by a running update (no overflow of a sum of large values) and the sum of squared
/// deviations from it.
pub(crate) fn mean_and_ss(values: &[f64]) -> Result<(f64, f64), NotComputable> {
    let mean = mean(values)?;
    let ss = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>();
    Ok((finite(mean)?, finite(ss)?))
}

/// The mean by a running update.
fn mean(values: &[f64]) -> Result<f64, NotComputable> {
    let mut mean = 0.0;
    for (k, v) in values.iter().enumerate() {
        mean += (v - mean) / (k + 1) as f64;
    }
    finite(mean)
}

/// Whether every value is the same.
fn is_constant(values: &[f64]) -> bool {
    values.windows(2).all(|w| w[0] == w[1])
}

/// Pearson's r of `x` and `y` (same length), within −1..=1. The deviations are scaled by their
/// largest magnitude before they are multiplied, so that large values do not overflow.
pub(crate) fn pearson_r(x: &[f64], y: &[f64]) -> Result<f64, NotComputable> {
    if x.len() < 3 {
        return Err(NotComputable::TooFewCustomers);
    }
    if is_constant(x) {
        return Err(NotComputable::ConstantAttribute);
    }
    if is_constant(y) {
        return Err(NotComputable::ConstantMeasure);
    }
    let (mx, my) = (mean(x)?, mean(y)?);
    let scale = |v: &[f64], m: f64| v.iter().fold(0.0f64, |a, b| a.max((b - m).abs()));
    let (ax, ay) = (finite(scale(x, mx))?, finite(scale(y, my))?);
    if ax == 0.0 {
        return Err(NotComputable::ConstantAttribute);
    }
    if ay == 0.0 {
        return Err(NotComputable::ConstantMeasure);
    }
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = ((a - mx) / ax, (b - my) / ay);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let r = sxy / (sxx.sqrt() * syy.sqrt());
    Ok(finite(r)?.clamp(-1.0, 1.0))
}

/// The two-sided p-value of a correlation `r` of `n` ≥ 3 pairs: Student's t on n − 2 degrees of
/// freedom.
fn correlation_p_value(r: f64, n: usize) -> Result<f64, NotComputable> {
    if r.abs() >= 1.0 {
        return Ok(0.0);
    }
    let df = (n - 2) as f64;
    let t = r * (df / ((1.0 - r) * (1.0 + r))).sqrt();
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|_| NotComputable::TooFewCustomers)?;
    probability(2.0 * dist.sf(t.abs()))
}

/// Pearson's correlation of `x` and `y` with its Fisher-z interval at `level` and p-value.
pub(crate) fn pearson(x: &[f64], y: &[f64], level: f64) -> Result<Correlation, NotComputable> {
    let r = pearson_r(x, y)?;
    let n = x.len();
    let interval = if n < 4 {
        Estimate::NotComputable(NotComputable::TooFewCustomers)
    } else if r.abs() >= 1.0 {
        Estimate::NotComputable(NotComputable::PerfectCorrelation)
    } else {
        let z = r.atanh();
        let half = normal_quantile(level) / ((n - 3) as f64).sqrt();
        Estimate::from(finite(half).map(|half| ConfidenceInterval {
            level,
            lower: (z - half).tanh(),
            upper: (z + half).tanh(),
        }))
    };
    Ok(Correlation {
        r,
        interval,
        p_value: correlation_p_value(r, n)?,
    })
}

/// Spearman's ρ of rank vectors and its t-approximation p-value.
pub(crate) fn spearman(rank_x: &[f64], rank_y: &[f64]) -> Result<RankCorrelation, NotComputable> {
    let rho = pearson_r(rank_x, rank_y)?;
    Ok(RankCorrelation {
        rho,
        p_value: correlation_p_value(rho, rank_x.len())?,
    })
}

/// Mid-ranks (1-based; ties share their mean rank) of the members of `values`, walking `order`,
/// the indices of all values sorted by value: `out[i]` for every member `i`, others untouched.
/// Returns the number of members and Σ (t³ − t) over the tie groups (for Kruskal–Wallis).
pub(crate) fn ranks_in(
    order: &[u32],
    values: &[f64],
    member: impl Fn(usize) -> bool,
    out: &mut [f64],
) -> (usize, f64) {
    let mut placed = 0usize;
    let mut ties = 0.0;
    let mut group: Vec<usize> = Vec::new();
    let mut flush = |group: &mut Vec<usize>, placed: &mut usize, ties: &mut f64| {
        let t = group.len();
        if t == 0 {
            return;
        }
        // Ranks placed+1 ..= placed+t share their mean.
        let mean = *placed as f64 + (t as f64 + 1.0) / 2.0;
        for &i in group.iter() {
            out[i] = mean;
        }
        let tf = t as f64;
        *ties += tf * tf * tf - tf;
        *placed += t;
        group.clear();
    };
    for &i in order {
        let i = i as usize;
        if !member(i) {
            continue;
        }
        if let Some(&last) = group.last() {
            if values[last] != values[i] {
                flush(&mut group, &mut placed, &mut ties);
            }
        }
        group.push(i);
    }
    flush(&mut group, &mut placed, &mut ties);
    (placed, ties)
}

/// The indices of `values` sorted by value (ties in any order: they share a rank). The pairs
/// are sorted in place, not the indices through the values: a sort that reads values at random
/// took several times as long on a million customers.
pub(crate) fn sort_order(values: &[f64]) -> Vec<u32> {
    let mut pairs: Vec<(f64, u32)> = values.iter().zip(0u32..).map(|(&v, i)| (v, i)).collect();
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// The mean of one level with its sample standard deviation and t interval at `level`.
pub(crate) fn level_mean(
    name: &str,
    values: &[f64],
    level: f64,
) -> Result<LevelMean, NotComputable> {
    let n = values.len();
    if n == 0 {
        return Err(NotComputable::NoValues);
    }
    let (mean, ss) = mean_and_ss(values)?;
    let (sd, interval) = if n < 2 {
        (
            None,
            Estimate::NotComputable(NotComputable::SingleCustomerLevel),
        )
    } else {
        let sd = (ss / (n - 1) as f64).sqrt();
        let half = t_quantile(level, (n - 1) as f64) * sd / (n as f64).sqrt();
        let interval = finite(half).map(|half| ConfidenceInterval {
            level,
            lower: mean - half,
            upper: mean + half,
        });
        (Some(sd), Estimate::from(interval))
    };
    Ok(LevelMean {
        level: name.to_string(),
        n,
        mean,
        sd,
        interval,
    })
}

/// Per level: n, mean and the sum of squared deviations from the level mean.
pub(crate) struct LevelMoments {
    pub n: usize,
    pub mean: f64,
    pub ss: f64,
}

/// The moments of each non-empty group.
pub(crate) fn moments(groups: &[Vec<f64>]) -> Result<Vec<LevelMoments>, NotComputable> {
    groups
        .iter()
        .filter(|g| !g.is_empty())
        .map(|g| {
            let (mean, ss) = mean_and_ss(g)?;
            Ok(LevelMoments {
                n: g.len(),
                mean,
                ss,
            })
        })
        .collect()
}

/// The one-way ANOVA of the non-empty groups.
pub(crate) fn anova(groups: &[LevelMoments]) -> Result<AnovaTest, NotComputable> {
    let k = groups.len();
    let n: usize = groups.iter().map(|g| g.n).sum();
    if k < 2 {
        return Err(NotComputable::OneLevel);
    }
    if n <= k {
        return Err(NotComputable::TooFewCustomers);
    }
    let mut grand = 0.0;
    for g in groups {
        grand += g.n as f64 / n as f64 * g.mean;
    }
    let between: f64 = groups
        .iter()
        .map(|g| g.n as f64 * (g.mean - grand) * (g.mean - grand))
        .sum();
    let within: f64 = groups.iter().map(|g| g.ss).sum();
    let (between, within) = (finite(between)?, finite(within)?);
    let total = between + within;
    // Constant values give equal level means exactly (the running mean of equal values is the
    // value), while the grand mean, a weighted sum, may round away from them.
    if total <= 0.0 || (within <= 0.0 && groups.windows(2).all(|w| w[0].mean == w[1].mean)) {
        return Err(NotComputable::ConstantMeasure);
    }
    if within <= 0.0 {
        return Err(NotComputable::NoWithinLevelVariation);
    }
    let (d1, d2) = (k - 1, n - k);
    let f = finite((between / d1 as f64) / (within / d2 as f64))?;
    let dist =
        FisherSnedecor::new(d1 as f64, d2 as f64).map_err(|_| NotComputable::TooFewCustomers)?;
    Ok(AnovaTest {
        f,
        df_between: d1,
        df_within: d2,
        p_value: probability(dist.sf(f))?,
        eta_squared: (between / total).clamp(0.0, 1.0),
    })
}

/// Welch's ANOVA of the non-empty groups (each needs two customers and some variation).
pub(crate) fn welch(groups: &[LevelMoments]) -> Result<WelchTest, NotComputable> {
    let k = groups.len();
    if k < 2 {
        return Err(NotComputable::OneLevel);
    }
    if groups.iter().any(|g| g.n < 2) {
        return Err(NotComputable::SingleCustomerLevel);
    }
    if groups.iter().all(|g| g.ss <= 0.0)
        && is_constant(&groups.iter().map(|g| g.mean).collect::<Vec<_>>())
    {
        return Err(NotComputable::ConstantMeasure);
    }
    if groups.iter().any(|g| g.ss <= 0.0) {
        return Err(NotComputable::NoWithinLevelVariation);
    }
    let w: Vec<f64> = groups
        .iter()
        .map(|g| g.n as f64 / (g.ss / (g.n - 1) as f64))
        .collect();
    let total: f64 = finite(w.iter().sum())?;
    let centre: f64 = w.iter().zip(groups).map(|(w, g)| w * g.mean).sum::<f64>() / total;
    let kf = k as f64;
    let a = w
        .iter()
        .zip(groups)
        .map(|(w, g)| w * (g.mean - centre) * (g.mean - centre))
        .sum::<f64>()
        / (kf - 1.0);
    let lambda: f64 = w
        .iter()
        .zip(groups)
        .map(|(w, g)| (1.0 - w / total).powi(2) / (g.n - 1) as f64)
        .sum();
    let b = 1.0 + 2.0 * (kf - 2.0) / (kf * kf - 1.0) * lambda;
    let f = finite(a / b)?;
    let df2 = finite((kf * kf - 1.0) / (3.0 * lambda))?;
    if df2 <= 0.0 {
        return Err(NotComputable::TooFewCustomers);
    }
    let dist = FisherSnedecor::new(kf - 1.0, df2).map_err(|_| NotComputable::TooFewCustomers)?;
    Ok(WelchTest {
        f,
        df_between: kf - 1.0,
        df_within: df2,
        p_value: probability(dist.sf(f))?,
    })
}

/// Kruskal–Wallis from each non-empty group's size and rank sum, n customers in all, and the
/// ties' Σ (t³ − t).
pub(crate) fn kruskal_wallis(
    groups: &[(usize, f64)],
    n: usize,
    ties: f64,
) -> Result<KruskalWallis, NotComputable> {
    let k = groups.len();
    if k < 2 {
        return Err(NotComputable::OneLevel);
    }
    if n <= k {
        return Err(NotComputable::TooFewCustomers);
    }
    let nf = n as f64;
    let correction = 1.0 - ties / (nf * nf * nf - nf);
    if correction <= 0.0 {
        return Err(NotComputable::ConstantMeasure);
    }
    let sum: f64 = groups.iter().map(|&(m, r)| r * r / m as f64).sum();
    let h = (12.0 / (nf * (nf + 1.0)) * sum - 3.0 * (nf + 1.0)) / correction;
    let h = finite(h)?.max(0.0);
    let df = k - 1;
    let dist = ChiSquared::new(df as f64).map_err(|_| NotComputable::OneLevel)?;
    Ok(KruskalWallis {
        h,
        df,
        p_value: probability(dist.sf(h))?,
        epsilon_squared: (h / (nf - 1.0)).clamp(0.0, 1.0),
    })
}

/// The quantile at `p` of sorted values by linear interpolation between order statistics
/// (Hyndman & Fan type 7).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// n, mean, sd and quartiles of `values` (sorted here).
pub(crate) fn summary(values: &mut [f64]) -> Result<NumericSummary, NotComputable> {
    let n = values.len();
    if n == 0 {
        return Err(NotComputable::NoValues);
    }
    values.sort_by(f64::total_cmp);
    let (mean, ss) = mean_and_ss(values)?;
    Ok(NumericSummary {
        n,
        mean,
        sd: (n > 1).then(|| (ss / (n - 1) as f64).sqrt()),
        min: values[0],
        q1: finite(quantile(values, 0.25))?,
        median: finite(quantile(values, 0.5))?,
        q3: finite(quantile(values, 0.75))?,
        max: values[n - 1],
    })
}
