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
use super::lloyd::{self, dist2, nearest, Matrix, Run};
use super::profile::Profile;
use super::standardise::{self, standardise, try_map, Standardised};
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

fn run_once(x: &Matrix, k: usize, max_iterations: usize, rng: &mut ChaCha8Rng) -> Run {
    let n = x.rows();
    let d = x.dims;
    // k-means++ seeding.
    let mut centres: Vec<f64> = Vec::with_capacity(k * d);
    let first = rng.random_range(0..n);
    centres.extend_from_slice(x.row(first));
    let mut d2 = vec![f64::INFINITY; n];
    nearer(&mut d2, x, x.row(first));
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
        centres.extend_from_slice(x.row(pick));
        nearer(&mut d2, x, x.row(pick));
    }
    lloyd::iterate(x, centres, k, max_iterations)
}

/// Lowers each customer's squared distance in `d2` to that to `centre` where it is nearer (on
/// all cores with the feature `parallel`; each entry is its own, so the result is the same).
fn nearer(d2: &mut [f64], x: &Matrix, centre: &[f64]) {
    let update = |(w, point): (&mut f64, &[f64])| *w = w.min(dist2(point, centre));
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        d2.par_chunks_mut(lloyd::BLOCK)
            .zip(x.data.par_chunks(lloyd::BLOCK * x.dims))
            .for_each(|(w, points)| {
                w.iter_mut()
                    .zip(points.chunks_exact(x.dims))
                    .for_each(update)
            });
    }
    #[cfg(not(feature = "parallel"))]
    d2.iter_mut()
        .zip(x.data.chunks_exact(x.dims))
        .for_each(update);
}

impl Segmenter<Profile> for KMeansParams {
    type Learnt = KMeans;

    /// Everything but k against the population's size, which `learn` checks.
    fn check(&self) -> Result<(), SegmentError> {
        self.validate(self.k.max(1))
    }

    fn learn(&self, population: &[Profile]) -> Result<KMeans, SegmentError> {
        self.fit(population).map(|(model, _, _)| model)
    }

    /// Learns, then labels the population as [`KMeans::assign`] would, reusing the last Lloyd
    /// pass's nearest centres where they are bit for bit what `assign` would compute.
    fn segment(&self, population: &[Profile]) -> Result<(KMeans, Vec<Cluster>), SegmentError> {
        let (model, data, learnt) = self.fit(population)?;
        let labels = standardise::labels(&data, &model.centres, &learnt)
            .into_iter()
            .map(Cluster)
            .collect();
        Ok((model, labels))
    }
}

impl KMeansParams {
    /// The learnt clusters, the population's features and each customer's cluster in the last
    /// Lloyd pass (of the best start).
    fn fit(
        &self,
        population: &[Profile],
    ) -> Result<(KMeans, Standardised, Vec<usize>), SegmentError> {
        self.validate(population.len())?;
        let data = standardise(population, &self.features)?;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut best: Option<Run> = None;
        for _ in 0..self.restarts {
            let run = run_once(&data.x, self.k, self.max_iterations, &mut rng);
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        let run = best.ok_or(SegmentError::EmptyPopulation)?;
        let mut sizes = vec![0usize; self.k];
        for &l in &run.labels {
            sizes[l] += 1;
        }
        let model = KMeans {
            features: self.features.clone(),
            means: data.means.clone(),
            scales: data.scales.clone(),
            centres: run.centres,
            sizes,
            inertia: run.inertia,
            iterations: run.iterations,
        };
        Ok((model, data, run.labels))
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
            .map(|(&f, (m, s))| Ok(standardise::standard(p.feature(f)?, *m, *s)))
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

    /// As [`assign`](Self::assign) for each customer, reusing one buffer per block of customers
    /// (on all cores with the feature `parallel`); the error is the first customer's, in order.
    fn assign_all(&self, customers: &[Profile]) -> Result<Vec<Cluster>, SegmentError> {
        let d = self.features.len();
        try_map(
            customers,
            || Vec::with_capacity(d),
            |z: &mut Vec<f64>, p| {
                z.clear();
                for (&f, (m, s)) in self
                    .features
                    .iter()
                    .zip(self.means.iter().zip(&self.scales))
                {
                    z.push(standardise::standard(p.feature(f)?, *m, *s));
                }
                Ok(Cluster(nearest(z, &self.centres, d).0))
            },
        )
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
        // Restarts, so that the best split (the two largest apart) is found whatever the seed.
        let params = KMeansParams::new(2)
            .features(vec![Feature::Clv, Feature::Frequency])
            .restarts(8);
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
        assert_ne!(labels[0], labels[1], "{labels:?} {learnt:?}");
        // At the edges of f64's range the standardised rows of `assign` need not be the learnt
        // matrix's bit for bit: the labels are still those of `assign`.
        let assigned: Vec<Cluster> = population
            .iter()
            .map(|p| learnt.assign(p).unwrap())
            .collect();
        assert_eq!(labels, assigned);
        #[cfg(feature = "serde")]
        {
            let json = serde_json::to_string(&learnt).unwrap();
            assert_eq!(serde_json::from_str::<KMeans>(&json).unwrap(), learnt);
        }
    }
}

#[cfg(test)]
mod stability_tests {
    use super::*;
    use crate::records::CustomerId;
    use crate::time::TimeUnit;
    use rust_decimal::Decimal;

    /// 5000 customers drawn from a fixed seed: repeat buyers with spread-out spend.
    fn base() -> Vec<Profile> {
        let mut rng = ChaCha8Rng::seed_from_u64(99);
        (0..5000u64)
            .map(|i| {
                let age = 26.0 + 13.0 * rng.random::<f64>();
                let x = rng.random_range(0..12u32);
                let t_x = if x == 0 {
                    0.0
                } else {
                    age * rng.random::<f64>()
                };
                let cents = if x == 0 {
                    0
                } else {
                    rng.random_range(500..50_000i64)
                };
                Profile::new(
                    CustomerId::from(i),
                    TimeUnit::WEEKS,
                    x,
                    t_x,
                    age,
                    Decimal::new(cents, 2),
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn segment_labels_are_those_of_assign_one_by_one() {
        let base = base();
        for k in [1, 4, 9] {
            let params = KMeansParams::new(k).seed(5);
            let (model, labels) = params.segment(&base).unwrap();
            assert_eq!(model, params.learn(&base).unwrap());
            let one_by_one: Vec<Cluster> = base.iter().map(|p| model.assign(p).unwrap()).collect();
            assert_eq!(labels, one_by_one, "k = {k}");
            assert_eq!(model.assign_all(&base).unwrap(), one_by_one, "k = {k}");
        }
    }

    #[test]
    fn the_error_is_that_of_a_serial_scan() {
        // Customer 9000 lacks the first feature (CLV), customer 5000 the second (P(alive)), in
        // other blocks of customers: learning reads feature by feature and reports 9000;
        // assigning reads customer by customer and reports 5000.
        let base: Vec<Profile> = base()
            .into_iter()
            .chain(base())
            .enumerate()
            .map(|(i, p)| {
                let p = if i == 9000 {
                    p
                } else {
                    p.with_clv(i as f64).unwrap()
                };
                if i == 5000 {
                    p
                } else {
                    p.with_p_alive(0.5).unwrap()
                }
            })
            .collect();
        let params = KMeansParams::new(3).features(vec![Feature::Clv, Feature::PAlive]);
        let missing = |err: SegmentError| match err {
            SegmentError::MissingFeature { customer, feature } => (customer, feature),
            other => panic!("{other}"),
        };
        assert_eq!(
            missing(params.learn(&base).unwrap_err()),
            (base[9000].id().clone(), Feature::Clv)
        );
        let fine: Vec<Profile> = base[..4000].to_vec();
        let model = params.learn(&fine).unwrap();
        assert_eq!(
            missing(model.assign_all(&base).unwrap_err()),
            (base[5000].id().clone(), Feature::PAlive)
        );
    }

    #[test]
    fn the_clusters_depend_on_the_features_not_on_the_order_or_the_ids() {
        let base = base();
        // The same customers reversed and renamed (as pseudonyms would reorder them).
        let renamed: Vec<Profile> = base
            .iter()
            .rev()
            .enumerate()
            .map(|(i, p)| {
                Profile::new(
                    CustomerId::from(1_000_000 + i as u64),
                    p.unit(),
                    p.frequency(),
                    p.recency(),
                    p.age(),
                    p.monetary_value(),
                )
                .unwrap()
            })
            .collect();
        let params = KMeansParams::new(5).seed(3).restarts(2);
        let (a, labels_a) = params.segment(&base).unwrap();
        let (b, labels_b) = params.segment(&renamed).unwrap();
        assert_eq!(a, b);
        let reversed: Vec<Cluster> = labels_b.into_iter().rev().collect();
        assert_eq!(labels_a, reversed);
    }

    #[test]
    fn fixed_seeds_give_the_clusters_of_plain_lloyd_iterations() {
        // Sizes, iterations, a hash of the labels and the inertia, recorded when the rows were
        // first put in canonical order (sorted by their features, so that the clusters do not
        // depend on the customers' order or ids). The recording before that, of plain Lloyd
        // iterations with every distance computed, pinned the bounds and block sums, which
        // `lloyd::tests` still check bit for bit against plain Lloyd on any data: the labels
        // and sizes are the same exactly, the inertia to the rounding of a sum in another order.
        let base = base();
        struct Recorded {
            k: usize,
            seed: u64,
            restarts: usize,
            sizes: &'static [usize],
            iterations: usize,
            label_hash: u64,
            inertia: f64,
        }
        let recorded = [
            Recorded {
                k: 8,
                seed: 1,
                restarts: 1,
                sizes: &[540, 577, 626, 757, 636, 674, 590, 600],
                iterations: 26,
                label_hash: 4563548255537889956,
                inertia: 3.2807264299590224e3,
            },
            Recorded {
                k: 5,
                seed: 7,
                restarts: 3,
                sizes: &[1160, 745, 1049, 1038, 1008],
                iterations: 37,
                label_hash: 1719139969742969717,
                inertia: 5.2264927313008075e3,
            },
            Recorded {
                k: 3,
                seed: 2024,
                restarts: 1,
                sizes: &[2066, 1112, 1822],
                iterations: 23,
                label_hash: 13220708393792441216,
                inertia: 8.0315554662324475e3,
            },
        ];
        for r in recorded {
            let (k, inertia) = (r.k, r.inertia);
            let (model, labels) = KMeansParams::new(k)
                .seed(r.seed)
                .restarts(r.restarts)
                .segment(&base)
                .unwrap();
            let label_hash = labels
                .iter()
                .fold(0u64, |h, l| h.wrapping_mul(31).wrapping_add(l.0 as u64));
            assert_eq!(model.sizes(), r.sizes, "k = {k}");
            assert_eq!(model.iterations(), r.iterations, "k = {k}");
            assert_eq!(label_hash, r.label_hash, "k = {k}");
            assert!(
                (model.inertia() - inertia).abs() <= 1e-12 * inertia,
                "k = {k}: inertia {:e}, recorded {inertia:e}",
                model.inertia()
            );
        }
    }
}
