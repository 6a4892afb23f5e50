//! k-means clustering on standardised features, with k-means++ seeding, the silhouette score
//! and a helper that compares k over a range.
//!
//! Each chosen [`Feature`] is standardised to mean 0 and standard deviation 1 over the population
//! (a constant feature is only centred). Seeding is k-means++ (Arthur & Vassilvitskii 2007): the
//! first centre is a customer drawn uniformly, each further centre a customer drawn with
//! probability proportional to its squared distance to the nearest centre so far; when every
//! customer already sits on a centre (all values equal), the remaining centres repeat the first
//! and stay empty. Lloyd iterations follow until no customer changes cluster (or
//! `max_iterations`); an empty cluster keeps its centre. Randomness comes from ChaCha8 seeded by
//! the parameters' seed, so the same seed and population give the same clusters. With `restarts`
//! > 1 the run with the least within-cluster sum of squares (inertia) wins.
//!
//! ```
//! use customer_assets::segment::kmeans::KMeansParams;
//! use customer_assets::segment::{Feature, Profile, Segmenter};
//! use customer_assets::{CustomerId, TimeUnit};
//! use rust_decimal::Decimal;
//! let base: Vec<Profile> = [(1, 10), (1, 12), (2, 11), (20, 300), (21, 310), (22, 290)].iter().enumerate()
//!     .map(|(i, &(x, m))| Profile::new(CustomerId::from(i as u64), TimeUnit::WEEKS, x, 1.0, 30.0, Decimal::from(m)))
//!     .collect::<Result<_, _>>()?;
//! let params = KMeansParams::new(2).features(vec![Feature::Frequency, Feature::MonetaryValue]).seed(7);
//! let (model, labels) = params.segment(&base)?;
//! assert_eq!(labels[0], labels[1]);
//! assert_ne!(labels[0], labels[3]);
//! assert!(model.silhouette(&base, 1000, 7)? > 0.9);
//! # Ok::<(), customer_assets::segment::SegmentError>(())
//! ```

use std::fmt;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::error::SegmentError;
use super::feature::Feature;
use super::profile::{feature_column, Profile};
use super::traits::{Assign, Segmenter};

/// A cluster index, 0..k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Cluster(pub usize);

impl fmt::Display for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cluster_{}", self.0)
    }
}

/// Parameters of k-means.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KMeansParams {
    k: usize,
    features: Vec<Feature>,
    seed: u64,
    max_iterations: usize,
    restarts: usize,
}

impl KMeansParams {
    /// k clusters on time since last purchase, frequency and mean repeat spend; seed 0, at most
    /// 300 iterations, one start.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            features: vec![
                Feature::TimeSinceLastPurchase,
                Feature::Frequency,
                Feature::MonetaryValue,
            ],
            seed: 0,
            max_iterations: 300,
            restarts: 1,
        }
    }
    /// The features to cluster on.
    pub fn features(mut self, features: Vec<Feature>) -> Self {
        self.features = features;
        self
    }
    /// The random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// The iteration cap of each run.
    pub fn max_iterations(mut self, n: usize) -> Self {
        self.max_iterations = n;
        self
    }
    /// Number of seeded starts; the best (least inertia) wins.
    pub fn restarts(mut self, n: usize) -> Self {
        self.restarts = n;
        self
    }

    fn validate(&self, n: usize) -> Result<(), SegmentError> {
        if self.k == 0 {
            return Err(SegmentError::invalid("k", self.k, "at least one cluster"));
        }
        if self.features.is_empty() {
            return Err(SegmentError::invalid(
                "features",
                "[]",
                "at least one feature",
            ));
        }
        if self.restarts == 0 || self.max_iterations == 0 {
            return Err(SegmentError::invalid(
                "restarts, max_iterations",
                format!("{}, {}", self.restarts, self.max_iterations),
                "at least one each",
            ));
        }
        if n == 0 {
            return Err(SegmentError::EmptyPopulation);
        }
        if self.k > n {
            return Err(SegmentError::invalid(
                "k",
                format!("{} for {n} customers", self.k),
                "at most one cluster per customer",
            ));
        }
        Ok(())
    }
}

/// Standardised feature matrix, row-major.
struct Matrix {
    data: Vec<f64>,
    dims: usize,
}

impl Matrix {
    fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
    fn rows(&self) -> usize {
        self.data.len() / self.dims
    }
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index and squared distance of the nearest centre (first on ties).
fn nearest(point: &[f64], centres: &[f64], dims: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centres.chunks_exact(dims).enumerate() {
        let d = dist2(point, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

struct Run {
    centres: Vec<f64>,
    labels: Vec<usize>,
    inertia: f64,
    iterations: usize,
}

fn run_once(x: &Matrix, k: usize, max_iterations: usize, rng: &mut ChaCha8Rng) -> Run {
    let n = x.rows();
    let d = x.dims;
    // k-means++ seeding.
    let mut centres: Vec<f64> = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    centres.extend_from_slice(x.row(first));
    let mut d2: Vec<f64> = (0..n).map(|i| dist2(x.row(i), x.row(first))).collect();
    for _ in 1..k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut target = rng.random::<f64>() * total;
            let mut chosen = n - 1;
            for (i, &w) in d2.iter().enumerate() {
                if target < w {
                    chosen = i;
                    break;
                }
                target -= w;
            }
            // Rounding may leave the last weightless customer chosen: take the farthest instead.
            if d2[chosen] == 0.0 {
                chosen = d2
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
            }
            chosen
        } else {
            first
        };
        let start = centres.len();
        centres.extend_from_slice(x.row(pick));
        let c = centres[start..].to_vec();
        for (i, w) in d2.iter_mut().enumerate() {
            *w = w.min(dist2(x.row(i), &c));
        }
    }
    // Lloyd iterations: one pass assigns each customer and accumulates the new centres' sums.
    let mut labels = vec![usize::MAX; n];
    let mut iterations = 0;
    let mut inertia;
    let mut sums = vec![0.0; k * d];
    let mut counts = vec![0usize; k];
    loop {
        iterations += 1;
        let mut changed = false;
        inertia = 0.0;
        sums.iter_mut().for_each(|s| *s = 0.0);
        counts.iter_mut().for_each(|c| *c = 0);
        for (label, point) in labels.iter_mut().zip(x.data.chunks_exact(d)) {
            let (j, dd) = nearest(point, &centres, d);
            inertia += dd;
            if *label != j {
                *label = j;
                changed = true;
            }
            counts[j] += 1;
            for (s, v) in sums[j * d..(j + 1) * d].iter_mut().zip(point) {
                *s += v;
            }
        }
        if !changed || iterations >= max_iterations {
            break;
        }
        for (j, &count) in counts.iter().enumerate() {
            if count > 0 {
                for t in 0..d {
                    centres[j * d + t] = sums[j * d + t] / count as f64;
                }
            }
        }
    }
    Run {
        centres,
        labels,
        inertia,
        iterations,
    }
}

impl KMeansParams {
    fn matrix(&self, population: &[Profile]) -> Result<(Matrix, Vec<f64>, Vec<f64>), SegmentError> {
        let n = population.len();
        let dims = self.features.len();
        let mut data = vec![0.0; n * dims];
        let mut means = Vec::with_capacity(dims);
        let mut scales = Vec::with_capacity(dims);
        for (t, &f) in self.features.iter().enumerate() {
            let col = feature_column(population, f)?;
            // Features may lie anywhere in f64's range (a CLV of 1e300): the mean and spread are
            // taken of the values divided by a power of two at least their largest magnitude,
            // so no sum or square overflows, and scaled back.
            let largest = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let unit = if largest > 1.0 && largest.is_finite() {
                2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
            } else {
                1.0
            };
            let mean_u = col.iter().map(|v| v / unit).sum::<f64>() / n as f64;
            let var_u = col
                .iter()
                .map(|v| (v / unit - mean_u) * (v / unit - mean_u))
                .sum::<f64>()
                / n as f64;
            let sd_u = var_u.sqrt();
            let (mean, scale_u) = (mean_u * unit, if sd_u > 0.0 { sd_u } else { 1.0 / unit });
            let scale = scale_u * unit;
            for (i, v) in col.iter().enumerate() {
                data[i * dims + t] = (v / unit - mean_u) / scale_u;
            }
            means.push(mean);
            scales.push(scale);
        }
        Ok((Matrix { data, dims }, means, scales))
    }
}

impl Segmenter<Profile> for KMeansParams {
    type Learnt = KMeans;

    /// Everything but k against the population's size, which `learn` checks.
    fn check(&self) -> Result<(), SegmentError> {
        self.validate(self.k.max(1))
    }

    fn learn(&self, population: &[Profile]) -> Result<KMeans, SegmentError> {
        self.validate(population.len())?;
        let (x, means, scales) = self.matrix(population)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut best: Option<Run> = None;
        for _ in 0..self.restarts {
            let run = run_once(&x, self.k, self.max_iterations, &mut rng);
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        let run = best.ok_or(SegmentError::EmptyPopulation)?;
        let mut sizes = vec![0usize; self.k];
        for &l in &run.labels {
            sizes[l] += 1;
        }
        Ok(KMeans {
            features: self.features.clone(),
            means,
            scales,
            centres: run.centres,
            sizes,
            inertia: run.inertia,
            iterations: run.iterations,
        })
    }
}

/// Learnt k-means: standardisation, centres (in standardised units) and fit figures.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "KMeansRaw"))]
pub struct KMeans {
    features: Vec<Feature>,
    means: Vec<f64>,
    scales: Vec<f64>,
    centres: Vec<f64>,
    sizes: Vec<usize>,
    inertia: f64,
    iterations: usize,
}

/// The serialized form of a [`KMeans`], checked for a consistent shape on the way in: at least
/// one feature and one cluster, a finite mean and a finite positive scale per feature, and a
/// finite centre of that many coordinates per cluster.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct KMeansRaw {
    features: Vec<Feature>,
    means: Vec<f64>,
    scales: Vec<f64>,
    centres: Vec<f64>,
    sizes: Vec<usize>,
    inertia: f64,
    iterations: usize,
}

#[cfg(feature = "serde")]
impl TryFrom<KMeansRaw> for KMeans {
    type Error = SegmentError;
    fn try_from(raw: KMeansRaw) -> Result<Self, SegmentError> {
        let (d, k) = (raw.features.len(), raw.sizes.len());
        if d == 0 || k == 0 {
            return Err(SegmentError::invalid(
                "kmeans",
                format!("{d} features, {k} clusters"),
                "a learnt k-means needs at least one feature and one cluster",
            ));
        }
        if raw.means.len() != d
            || raw.scales.len() != d
            || Some(raw.centres.len()) != k.checked_mul(d)
        {
            return Err(SegmentError::invalid(
                "kmeans",
                format!(
                    "{d} features, {k} clusters, {} means, {} scales, {} centre coordinates",
                    raw.means.len(),
                    raw.scales.len(),
                    raw.centres.len()
                ),
                "a mean and a scale per feature, a centre per cluster",
            ));
        }
        let finite = raw.means.iter().chain(&raw.centres).all(|v| v.is_finite());
        if !finite || raw.scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(SegmentError::invalid(
                "kmeans",
                format!("means {:?}, scales {:?}", raw.means, raw.scales),
                "means and centres must be finite and scales finite and positive",
            ));
        }
        Ok(KMeans {
            features: raw.features,
            means: raw.means,
            scales: raw.scales,
            centres: raw.centres,
            sizes: raw.sizes,
            inertia: raw.inertia,
            iterations: raw.iterations,
        })
    }
}

impl KMeans {
    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.sizes.len()
    }
    /// The features clustered on.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }
    /// Centre of cluster `j` in the features' own units.
    pub fn centre(&self, j: usize) -> Option<Vec<f64>> {
        let d = self.features.len();
        let c = self.centres.get(j * d..(j + 1) * d)?;
        Some(
            c.iter()
                .zip(self.means.iter().zip(&self.scales))
                .map(|(z, (m, s))| m + z * s)
                .collect(),
        )
    }
    /// Customers per cluster in the population learnt from.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }
    /// Within-cluster sum of squared (standardised) distances.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }
    /// Lloyd iterations run.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    fn standardise(&self, p: &Profile) -> Result<Vec<f64>, SegmentError> {
        self.features
            .iter()
            .zip(self.means.iter().zip(&self.scales))
            .map(|(&f, (m, s))| Ok((p.feature(f)? - m) / s))
            .collect()
    }

    /// Mean silhouette (Rousseeuw 1987) of `customers` under this clustering, in −1..=1: for each
    /// customer, (b − a) / max(a, b) with a the mean distance to its own cluster and b the least
    /// mean distance to another cluster (0 for a customer alone in its cluster). Exact when there
    /// are at most `max_sample` customers, else over a uniform sample of `max_sample` drawn with
    /// `seed` (distances within the sample).
    ///
    /// # Errors
    ///
    /// [`SegmentError::EmptyPopulation`] without customers; [`SegmentError::InvalidParameter`] when
    /// fewer than two clusters are in use; [`SegmentError::MissingFeature`] or
    /// [`SegmentError::NotFinite`] for a feature it reads that the profile lacks or that is not
    /// finite.
    pub fn silhouette(
        &self,
        customers: &[Profile],
        max_sample: usize,
        seed: u64,
    ) -> Result<f64, SegmentError> {
        if customers.is_empty() {
            return Err(SegmentError::EmptyPopulation);
        }
        let chosen: Vec<&Profile> = if customers.len() <= max_sample.max(2) {
            customers.iter().collect()
        } else {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rand::seq::index::sample(&mut rng, customers.len(), max_sample.max(2))
                .into_iter()
                .filter_map(|i| customers.get(i))
                .collect()
        };
        let d = self.features.len();
        let mut points = Vec::with_capacity(chosen.len() * d);
        let mut labels = Vec::with_capacity(chosen.len());
        for p in &chosen {
            let z = self.standardise(p)?;
            labels.push(nearest(&z, &self.centres, d).0);
            points.extend(z);
        }
        silhouette_of(&points, d, &labels, self.k())
    }
}

/// Mean silhouette of labelled points (row-major, `d` columns).
fn silhouette_of(
    points: &[f64],
    d: usize,
    labels: &[usize],
    k: usize,
) -> Result<f64, SegmentError> {
    let n = labels.len();
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return Err(SegmentError::invalid(
            "clusters",
            format!("{sizes:?} customers each"),
            "the silhouette needs at least two non-empty clusters",
        ));
    }
    let mut total = 0.0;
    let mut sums = vec![0.0; k];
    for i in 0..n {
        sums.iter_mut().for_each(|s| *s = 0.0);
        let pi = &points[i * d..(i + 1) * d];
        for j in 0..n {
            if i != j {
                sums[labels[j]] += dist2(pi, &points[j * d..(j + 1) * d]).sqrt();
            }
        }
        let own = labels[i];
        if sizes[own] <= 1 {
            continue; // s(i) = 0
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Ok(total / n as f64)
}

impl Assign<Profile> for KMeans {
    type Label = Cluster;
    fn assign(&self, p: &Profile) -> Result<Cluster, SegmentError> {
        let z = self.standardise(p)?;
        Ok(Cluster(nearest(&z, &self.centres, self.features.len()).0))
    }
}

/// One k tried by [`compare_k`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KChoice {
    /// Number of clusters.
    pub k: usize,
    /// Within-cluster sum of squares (falls as k grows: look for the elbow).
    pub inertia: f64,
    /// Mean silhouette (higher is better), `None` when fewer than two clusters are in use.
    pub silhouette: Option<f64>,
}

/// Fits k-means for each k in `ks` with otherwise the same parameters and reports inertia and
/// silhouette (sampled as in [`KMeans::silhouette`], with the parameters' seed).
///
/// # Errors
///
/// The first error of [`Segmenter::learn`] for [`KMeansParams`] with a k of `ks` (an invalid
/// parameter, more clusters than customers, a feature missing or not finite); a silhouette that
/// cannot be computed is `None`, not an error.
pub fn compare_k(
    params: &KMeansParams,
    population: &[Profile],
    ks: std::ops::RangeInclusive<usize>,
    max_sample: usize,
) -> Result<Vec<KChoice>, SegmentError> {
    ks.map(|k| {
        let model = params.clone().seed(params.seed).learn_k(k, population)?;
        Ok(KChoice {
            k,
            inertia: model.inertia(),
            silhouette: model.silhouette(population, max_sample, params.seed).ok(),
        })
    })
    .collect()
}

impl KMeansParams {
    fn learn_k(mut self, k: usize, population: &[Profile]) -> Result<KMeans, SegmentError> {
        self.k = k;
        self.learn(population)
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;
    use crate::records::CustomerId;
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    #[test]
    fn learnt_clusters_round_trip_and_inconsistent_json_is_rejected() {
        let base: Vec<Profile> = [(1, 10), (1, 12), (20, 300), (21, 310)]
            .iter()
            .enumerate()
            .map(|(i, &(x, m))| {
                Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    x,
                    1.0,
                    30.0,
                    Decimal::from(m),
                )
                .unwrap()
            })
            .collect();
        let model = KMeansParams::new(2).seed(3).learn(&base).unwrap();
        let json = serde_json::to_string(&model).unwrap();
        assert_eq!(serde_json::from_str::<KMeans>(&json).unwrap(), model);
        // A centre too few, and no features at all: the silhouette would index past its sizes,
        // and nearest() would split the centres into chunks of zero coordinates.
        for bad in [
            r#"{"features":["frequency"],"means":[0.0],"scales":[1.0],"centres":[0.5],"sizes":[1,1],"inertia":0.0,"iterations":1}"#,
            r#"{"features":[],"means":[],"scales":[],"centres":[],"sizes":[2],"inertia":0.0,"iterations":1}"#,
            r#"{"features":["frequency"],"means":[0.0],"scales":[0.0],"centres":[0.5],"sizes":[2],"inertia":0.0,"iterations":1}"#,
        ] {
            let err = serde_json::from_str::<KMeans>(bad).unwrap_err();
            assert!(err.to_string().contains("kmeans"), "{err}");
        }
    }
}

#[cfg(test)]
mod extreme_tests {
    use super::*;
    use crate::records::CustomerId;
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    #[test]
    fn features_near_the_f64_limit_give_finite_standardisation_and_inertia() {
        let population: Vec<Profile> = [f64::MAX, -f64::MAX, 0.0, 1.0, f64::MAX]
            .iter()
            .enumerate()
            .map(|(i, &clv)| {
                Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    1,
                    1.0,
                    2.0,
                    Decimal::ONE,
                )
                .unwrap()
                .with_clv(clv)
                .unwrap()
            })
            .collect();
        let params = KMeansParams::new(2).features(vec![Feature::Clv, Feature::Frequency]);
        let (learnt, labels) = params.segment(&population).unwrap();
        assert!(learnt.inertia().is_finite(), "{learnt:?}");
        assert!(learnt
            .means
            .iter()
            .chain(&learnt.scales)
            .all(|v| v.is_finite()));
        assert!(learnt.centres.iter().all(|v| v.is_finite()), "{learnt:?}");
        assert_eq!(labels.len(), population.len());
        assert_eq!(labels[0], labels[4]);
        assert_ne!(labels[0], labels[1]);
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&learnt).unwrap();
            assert_eq!(serde_json::from_str::<KMeans>(&json).unwrap(), learnt);
        }
    }
}
