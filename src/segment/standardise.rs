//! A population's features read once per customer and standardised per feature (mean 0,
//! standard deviation 1), on all cores with the feature `parallel`.

use super::error::SegmentError;
use super::feature::Feature;
use super::lloyd::{self, Matrix};
use super::profile::Profile;

/// `(value - mean) / scale`, also where `value - mean` overflows (features at the edges of f64's
/// range): halving all three is exact for normal numbers and leaves the quotient unchanged, so
/// where the plain form is finite both agree bit for bit.
pub(super) fn standard(value: f64, mean: f64, scale: f64) -> f64 {
    let difference = value - mean;
    if difference.is_finite() {
        difference / scale
    } else {
        (value / 2.0 - mean / 2.0) / (scale / 2.0)
    }
}

/// A population's features: as read, and standardised.
pub(super) struct Standardised {
    /// The features as read, row-major (a row per customer), rows in canonical order.
    pub(super) raw: Vec<f64>,
    /// Per row, the customer's position in the population: rows are sorted by their features
    /// (ties are identical rows), so that what is learnt depends on the customers' features and
    /// not on their order or ids (pseudonymised customers sort differently).
    pub(super) order: Vec<usize>,
    /// The standardised features.
    pub(super) x: Matrix,
    /// Per feature, the mean subtracted.
    pub(super) means: Vec<f64>,
    /// Per feature, the scale divided by (the standard deviation; 1 for a constant feature).
    pub(super) scales: Vec<f64>,
}

/// Reads and standardises `features` of every customer. A constant feature is only centred.
///
/// # Errors
///
/// The first failure of [`Profile::feature`] feature by feature, then customer by customer (the
/// first customer lacking the first feature that some customer lacks).
pub(super) fn standardise(
    population: &[Profile],
    features: &[Feature],
) -> Result<Standardised, SegmentError> {
    let n = population.len();
    let dims = features.len();
    let (raw, order) = canonical(read(population, features)?, dims, n);
    let mut data = vec![0.0; raw.len()];
    let mut means = Vec::with_capacity(dims);
    let mut scales = Vec::with_capacity(dims);
    for t in 0..dims {
        let col = || raw.iter().skip(t).step_by(dims);
        // Features may lie anywhere in f64's range (a CLV of 1e300): the mean and spread are
        // taken of the values divided by a power of two at least their largest magnitude, so no
        // sum or square overflows, and scaled back.
        let largest = col().fold(0.0f64, |m, v| m.max(v.abs()));
        let unit = if largest > 1.0 && largest.is_finite() {
            2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
        } else {
            1.0
        };
        let mean_u = col().map(|v| v / unit).sum::<f64>() / n as f64;
        let var_u = col()
            .map(|v| (v / unit - mean_u) * (v / unit - mean_u))
            .sum::<f64>()
            / n as f64;
        let sd_u = var_u.sqrt();
        let (mean, scale_u) = (mean_u * unit, if sd_u > 0.0 { sd_u } else { 1.0 / unit });
        for (z, v) in data.iter_mut().skip(t).step_by(dims).zip(col()) {
            *z = (v / unit - mean_u) / scale_u;
        }
        means.push(mean);
        scales.push(scale_u * unit);
    }
    Ok(Standardised {
        raw,
        order,
        x: Matrix { data, dims },
        means,
        scales,
    })
}

/// The rows sorted by their features (lexicographically, by IEEE total order), and per sorted
/// row its position in `raw`.
fn canonical(raw: Vec<f64>, dims: usize, n: usize) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..n).collect();
    if dims == 0 {
        return (raw, order);
    }
    let row = |i: usize| &raw[i * dims..(i + 1) * dims];
    order.sort_unstable_by(|&a, &b| {
        row(a)
            .iter()
            .zip(row(b))
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let sorted = order.iter().flat_map(|&i| row(i).iter().copied()).collect();
    (sorted, order)
}

/// Every feature of every customer, row-major, each customer read once.
///
/// # Errors
///
/// As [`standardise`]: when a read fails, a feature-by-feature scan finds the error to report.
fn read(population: &[Profile], features: &[Feature]) -> Result<Vec<f64>, SegmentError> {
    let dims = features.len();
    let mut raw = vec![0.0; population.len() * dims];
    if dims == 0 {
        return Ok(raw);
    }
    // Each block reads its customers row by row and keeps its first failure.
    let block = |(part, rows): (&[Profile], &mut [f64])| -> Option<SegmentError> {
        for (p, row) in part.iter().zip(rows.chunks_exact_mut(dims)) {
            for (&f, v) in features.iter().zip(row) {
                match p.feature(f) {
                    Ok(value) => *v = value,
                    Err(e) => return Some(e),
                }
            }
        }
        None
    };
    #[cfg(feature = "parallel")]
    let failure = {
        use rayon::prelude::*;
        population
            .par_chunks(lloyd::BLOCK)
            .zip(raw.par_chunks_mut(lloyd::BLOCK * dims))
            .map(block)
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .next()
    };
    #[cfg(not(feature = "parallel"))]
    let failure = population
        .chunks(lloyd::BLOCK)
        .zip(raw.chunks_mut(lloyd::BLOCK * dims))
        .find_map(block);
    match failure {
        None => Ok(raw),
        Some(first_in_rows) => {
            // The error of the feature-by-feature order, which need not be the first in rows.
            for &f in features {
                for p in population {
                    p.feature(f)?;
                }
            }
            Err(first_in_rows)
        }
    }
}

/// The label [`KMeans::assign`](super::kmeans::KMeans) gives each customer of `data`: the
/// nearest of `centres` to the customer's raw features standardised by `data`'s means and scales.
/// Where that row equals the learnt matrix's bit for bit (always, but at the edges of f64's
/// range), the nearest centre is the one the last Lloyd pass found, `learnt[i]`. `learnt` is in
/// the rows' canonical order; the labels come out in the population's.
pub(super) fn labels(data: &Standardised, centres: &[f64], learnt: &[usize]) -> Vec<usize> {
    let sorted = sorted_labels(data, centres, learnt);
    let mut labels = vec![0; sorted.len()];
    for (&position, label) in data.order.iter().zip(sorted) {
        if let Some(slot) = labels.get_mut(position) {
            *slot = label;
        }
    }
    labels
}

/// [`labels`] in the rows' canonical order.
fn sorted_labels(data: &Standardised, centres: &[f64], learnt: &[usize]) -> Vec<usize> {
    let dims = data.x.dims;
    let label = |(raw, (z_learnt, &j)): (&[f64], (&[f64], &usize)), z: &mut Vec<f64>| {
        z.clear();
        z.extend(
            raw.iter()
                .zip(data.means.iter().zip(&data.scales))
                .map(|(v, (m, s))| standard(*v, *m, *s)),
        );
        let same = z
            .iter()
            .zip(z_learnt)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        if same {
            j
        } else {
            lloyd::nearest(z, centres, dims).0
        }
    };
    let rows = |raw: &[f64], z: &[f64], learnt: &[usize]| -> Vec<usize> {
        let mut buffer = Vec::with_capacity(dims);
        raw.chunks_exact(dims)
            .zip(z.chunks_exact(dims).zip(learnt))
            .map(|row| label(row, &mut buffer))
            .collect()
    };
    if dims == 0 {
        return learnt.to_vec();
    }
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let blocks: Vec<Vec<usize>> = data
            .raw
            .par_chunks(lloyd::BLOCK * dims)
            .zip(data.x.data.par_chunks(lloyd::BLOCK * dims))
            .zip(learnt.par_chunks(lloyd::BLOCK))
            .map(|((raw, z), learnt)| rows(raw, z, learnt))
            .collect();
        blocks.concat()
    }
    #[cfg(not(feature = "parallel"))]
    rows(&data.raw, &data.x.data, learnt)
}

/// `f` of each customer in order, with a scratch `state` per block of customers (on all cores
/// with the feature `parallel`). The error is that of the first customer that fails, as in a
/// serial pass: each block stops at its first failure and blocks are read in order.
pub(super) fn try_map<S, U: Send>(
    customers: &[Profile],
    state: impl Fn() -> S + Sync + Send,
    f: impl Fn(&mut S, &Profile) -> Result<U, SegmentError> + Sync + Send,
) -> Result<Vec<U>, SegmentError> {
    let block = |part: &[Profile]| -> Result<Vec<U>, SegmentError> {
        let mut s = state();
        part.iter().map(|p| f(&mut s, p)).collect()
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        let blocks: Vec<Result<Vec<U>, SegmentError>> =
            customers.par_chunks(lloyd::BLOCK).map(block).collect();
        let mut out = Vec::with_capacity(customers.len());
        for b in blocks {
            out.extend(b?);
        }
        Ok(out)
    }
    #[cfg(not(feature = "parallel"))]
    block(customers)
}
