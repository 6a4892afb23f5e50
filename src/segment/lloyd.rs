//! Lloyd's k-means iterations, accelerated with Hamerly's bounds and run in blocks of customers
//! whose sums are combined in a fixed order.
//!
//! **Bounds** (Hamerly 2010). Each customer keeps an upper bound on its distance to its own
//! centre and a lower bound on its distance to every other centre. When the centres move, the
//! upper bound grows by its centre's move and the lower bound shrinks by the largest move of the
//! others; a customer whose bounds still separate (upper < lower, or upper < the distance from
//! its centre to the nearest other centre minus upper) keeps its cluster without any distance
//! computed. The assignments are those of plain Lloyd iterations: every bound carries a margin
//! for rounding ([`Margin`]), so a customer is only skipped when the nearest centre computed in
//! floating point, first on ties, is the one it has.
//!
//! **Blocks.** Customers are processed in blocks of [`BLOCK`]. Each block sums its customers'
//! coordinates per cluster, and the blocks' sums are added in block order, so the centres, the
//! labels and the inertia are the same bit for bit whatever the number of threads (feature
//! `parallel` spreads the blocks over cores).

/// Customers per block. The centres' sums are formed per block and added block by block, so this
/// fixes the order of every floating-point sum (and the results) independently of threads; a
/// block is also the unit of work given to a core.
pub(super) const BLOCK: usize = 4096;

/// Standardised feature matrix, row-major.
pub(super) struct Matrix {
    pub(super) data: Vec<f64>,
    pub(super) dims: usize,
}

impl Matrix {
    pub(super) fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
    pub(super) fn rows(&self) -> usize {
        self.data.len() / self.dims
    }
}

/// Squared Euclidean distance, summed over the coordinates in order (every caller uses this one
/// function, so the same pair always gives the same bits).
pub(super) fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index and squared distance of the nearest centre (first on ties).
pub(super) fn nearest(point: &[f64], centres: &[f64], dims: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, c) in centres.chunks_exact(dims).enumerate() {
        let d = dist2(point, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    best
}

/// The nearest centre as [`nearest`] finds it, with the squared distances to it and to the
/// second nearest (infinite for a single centre).
fn nearest_two(point: &[f64], centres: &[f64], dims: usize) -> (usize, f64, f64) {
    let (mut best, mut best_d, mut second) = (0, f64::INFINITY, f64::INFINITY);
    for (j, c) in centres.chunks_exact(dims).enumerate() {
        let d = dist2(point, c);
        if d < best_d {
            second = best_d;
            (best, best_d) = (j, d);
        } else if d < second {
            second = d;
        }
    }
    (best, best_d, second)
}

/// Margins that keep a computed bound on the right side of the exact distance it bounds.
///
/// A distance computed as `dist2(..).sqrt()` over `dims` coordinates is within a relative
/// `(dims + 3)·ε` of the exact one, plus an absolute error of about `1e-160·√dims` where squares
/// fall below the normal range. `rel` is eight times that relative error and `abs` far above the
/// absolute one, so one margin covers a computed distance and the rounding of the few operations
/// that update a bound; the skip test applies one more, so that a customer is skipped only when
/// the computed squared distances order its centre strictly first.
#[derive(Debug, Clone, Copy)]
struct Margin {
    rel: f64,
    abs: f64,
}

impl Margin {
    fn new(dims: usize) -> Self {
        Margin {
            rel: 8.0 * (dims as f64 + 4.0) * f64::EPSILON,
            abs: 1e-150,
        }
    }
    /// A value at least the exact quantity `x` approximates.
    fn up(self, x: f64) -> f64 {
        x * (1.0 + self.rel) + self.abs
    }
    /// A value at most the exact quantity `x` approximates.
    fn down(self, x: f64) -> f64 {
        x * (1.0 - self.rel) - self.abs
    }
}

/// A customer's bounds: `upper` ≥ the distance to its centre, `lower` ≤ the distance to any
/// other centre.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    upper: f64,
    lower: f64,
}

/// What one pass over the customers reads: the centres and how far they moved since the bounds
/// were last set.
struct Pass<'a> {
    centres: &'a [f64],
    dims: usize,
    margin: Margin,
    /// The first pass: every customer is searched in full (there are no bounds yet).
    full: bool,
    /// Per centre, an upper bound on how far it moved.
    shift: Vec<f64>,
    /// The centre that moved most, that move, and the largest move of the others.
    largest: (usize, f64, f64),
    /// Per centre, a lower bound on the distance to the nearest other centre.
    separation: Vec<f64>,
}

impl<'a> Pass<'a> {
    fn first(centres: &'a [f64], k: usize, dims: usize) -> Self {
        Pass {
            centres,
            dims,
            margin: Margin::new(dims),
            full: true,
            shift: vec![0.0; k],
            largest: (0, 0.0, 0.0),
            separation: vec![0.0; k],
        }
    }

    /// The pass after the centres moved from `old` to `centres`.
    fn after_move(centres: &'a [f64], old: &[f64], k: usize, dims: usize) -> Self {
        let margin = Margin::new(dims);
        let shift: Vec<f64> = centres
            .chunks_exact(dims)
            .zip(old.chunks_exact(dims))
            .map(|(c, o)| margin.up(dist2(c, o).sqrt()))
            .collect();
        let mut largest = (0, 0.0, 0.0);
        for (j, &s) in shift.iter().enumerate() {
            if s > largest.1 {
                largest = (j, s, largest.1);
            } else if s > largest.2 {
                largest.2 = s;
            }
        }
        let separation = (0..k)
            .map(|a| {
                let ca = &centres[a * dims..(a + 1) * dims];
                centres
                    .chunks_exact(dims)
                    .enumerate()
                    .filter(|&(j, _)| j != a)
                    .map(|(_, c)| margin.down(dist2(ca, c).sqrt()))
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        Pass {
            centres,
            dims,
            margin,
            full: false,
            shift,
            largest,
            separation,
        }
    }

    fn centre(&self, j: usize) -> &[f64] {
        &self.centres[j * self.dims..(j + 1) * self.dims]
    }

    /// Whether bounds this far apart prove that `a` stays the computed nearest centre.
    fn separates(&self, upper: f64, lower: f64, a: usize) -> bool {
        let m = self.margin;
        let others = lower.max(m.down(self.separation[a] - upper));
        m.up(upper) < m.down(others)
    }

    /// The nearest centre of `point` with fresh bounds.
    fn search<const D: usize>(&self, point: &[f64]) -> (usize, Bounds) {
        let d = if D == 0 { self.dims } else { D };
        let (j, best, second) = nearest_two(point, self.centres, d);
        let bounds = Bounds {
            upper: self.margin.up(best.sqrt()),
            lower: self.margin.down(second.sqrt()),
        };
        (j, bounds)
    }

    /// Assigns one block of customers and brings its sums per cluster up to date (`sums` holds
    /// the block's sums under its labels before the pass).
    fn block(
        &self,
        points: &[f64],
        labels: &mut [usize],
        bounds: &mut [Bounds],
        sums: &mut BlockSums,
    ) {
        // Constant dimensions let the compiler unroll the distances and sums.
        match self.dims {
            1 => self.block_in::<1>(points, labels, bounds, sums),
            2 => self.block_in::<2>(points, labels, bounds, sums),
            3 => self.block_in::<3>(points, labels, bounds, sums),
            4 => self.block_in::<4>(points, labels, bounds, sums),
            _ => self.block_in::<0>(points, labels, bounds, sums),
        }
    }

    /// [`block`](Self::block) for `D` dimensions (0: any, read from `self.dims`).
    fn block_in<const D: usize>(
        &self,
        points: &[f64],
        labels: &mut [usize],
        bounds: &mut [Bounds],
        sums: &mut BlockSums,
    ) {
        let d = if D == 0 { self.dims } else { D };
        let m = self.margin;
        let mut changed = false;
        for ((point, label), b) in points.chunks_exact(d).zip(labels.iter_mut()).zip(bounds) {
            let a = *label;
            let j = if self.full {
                let (j, fresh) = self.search::<D>(point);
                *b = fresh;
                j
            } else {
                let moved_most = if a == self.largest.0 {
                    self.largest.2
                } else {
                    self.largest.1
                };
                b.upper = m.up(b.upper + self.shift[a]);
                b.lower = m.down(m.down(b.lower) - moved_most);
                if self.separates(b.upper, b.lower, a) {
                    a
                } else {
                    b.upper = m.up(dist2(point, self.centre(a)).sqrt());
                    if self.separates(b.upper, b.lower, a) {
                        a
                    } else {
                        let (j, fresh) = self.search::<D>(point);
                        *b = fresh;
                        j
                    }
                }
            };
            if j != a {
                *label = j;
                changed = true;
            }
        }
        sums.changed = changed || self.full;
        if !sums.changed {
            // Same customers under the same labels: the same sums, bit for bit.
            return;
        }
        sums.sums.iter_mut().for_each(|s| *s = 0.0);
        sums.counts.iter_mut().for_each(|c| *c = 0);
        for (point, &j) in points.chunks_exact(d).zip(labels.iter()) {
            sums.counts[j] += 1;
            for (s, v) in sums.sums[j * d..(j + 1) * d].iter_mut().zip(point) {
                *s += v;
            }
        }
    }
}

/// A block's coordinates summed per cluster, its cluster sizes, and whether a label changed in
/// the last pass.
#[derive(Debug, Clone)]
struct BlockSums {
    sums: Vec<f64>,
    counts: Vec<usize>,
    changed: bool,
}

/// Applies `f` to each block of customers (the points, labels and bounds of up to [`BLOCK`]
/// customers), on all cores with the feature `parallel`; the results come in block order.
fn map_blocks<T: Send>(
    x: &Matrix,
    labels: &mut [usize],
    bounds: &mut [Bounds],
    sums: &mut [BlockSums],
    f: impl Fn(&[f64], &mut [usize], &mut [Bounds], &mut BlockSums) -> T + Sync + Send,
) -> Vec<T> {
    let rows = BLOCK * x.dims;
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        x.data
            .par_chunks(rows)
            .zip(labels.par_chunks_mut(BLOCK))
            .zip(bounds.par_chunks_mut(BLOCK))
            .zip(sums.par_iter_mut())
            .map(|(((p, l), b), s)| f(p, l, b, s))
            .collect()
    }
    #[cfg(not(feature = "parallel"))]
    {
        x.data
            .chunks(rows)
            .zip(labels.chunks_mut(BLOCK))
            .zip(bounds.chunks_mut(BLOCK))
            .zip(sums.iter_mut())
            .map(|(((p, l), b), s)| f(p, l, b, s))
            .collect()
    }
}

/// The outcome of Lloyd iterations from given centres.
pub(super) struct Run {
    pub(super) centres: Vec<f64>,
    pub(super) labels: Vec<usize>,
    pub(super) inertia: f64,
    pub(super) iterations: usize,
}

/// Lloyd iterations from `centres` (k rows of `x.dims`) until no customer changes cluster or
/// `max_iterations` passes: each pass assigns every customer to its nearest centre (first on
/// ties), then each centre moves to the mean of its customers (an empty cluster keeps its
/// centre). The inertia is that of the last assignment.
pub(super) fn iterate(x: &Matrix, mut centres: Vec<f64>, k: usize, max_iterations: usize) -> Run {
    let (n, d) = (x.rows(), x.dims);
    let mut labels = vec![0usize; n];
    let mut bounds = vec![
        Bounds {
            upper: f64::INFINITY,
            lower: 0.0,
        };
        n
    ];
    let blocks = n.div_ceil(BLOCK);
    let mut block_sums = vec![
        BlockSums {
            sums: vec![0.0; k * d],
            counts: vec![0; k],
            changed: true,
        };
        blocks
    ];
    let mut old = centres.clone();
    let mut iterations = 0;
    loop {
        iterations += 1;
        let pass = if iterations == 1 {
            Pass::first(&centres, k, d)
        } else {
            Pass::after_move(&centres, &old, k, d)
        };
        map_blocks(
            x,
            &mut labels,
            &mut bounds,
            &mut block_sums,
            |p, l, b, s| pass.block(p, l, b, s),
        );
        // Every label is new in the first pass.
        let changed = iterations == 1 || block_sums.iter().any(|b| b.changed);
        if !changed || iterations >= max_iterations {
            break;
        }
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for b in &block_sums {
            for (s, v) in sums.iter_mut().zip(&b.sums) {
                *s += v;
            }
            for (c, v) in counts.iter_mut().zip(&b.counts) {
                *c += v;
            }
        }
        old.copy_from_slice(&centres);
        for (j, &count) in counts.iter().enumerate() {
            if count > 0 {
                for t in 0..d {
                    centres[j * d + t] = sums[j * d + t] / count as f64;
                }
            }
        }
    }
    let inertia = map_blocks(
        x,
        &mut labels,
        &mut bounds,
        &mut block_sums,
        |p, l, _, _| {
            p.chunks_exact(d)
                .zip(l.iter())
                .map(|(point, &j)| dist2(point, &centres[j * d..(j + 1) * d]))
                .sum::<f64>()
        },
    )
    .iter()
    .sum();
    Run {
        centres,
        labels,
        inertia,
        iterations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Plain Lloyd iterations: every distance computed in every pass, with the same block-ordered
    /// sums.
    fn plain(x: &Matrix, mut centres: Vec<f64>, k: usize, max_iterations: usize) -> Run {
        let d = x.dims;
        let mut labels = vec![usize::MAX; x.rows()];
        let mut iterations = 0;
        loop {
            iterations += 1;
            let mut changed = false;
            let mut inertia = 0.0;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            for (points, block) in x.data.chunks(BLOCK * d).zip(labels.chunks_mut(BLOCK)) {
                let mut block_sums = vec![0.0; k * d];
                let mut block_inertia = 0.0;
                for (point, label) in points.chunks_exact(d).zip(block) {
                    let (j, dd) = nearest(point, &centres, d);
                    block_inertia += dd;
                    changed |= *label != j;
                    *label = j;
                    counts[j] += 1;
                    for (s, v) in block_sums[j * d..(j + 1) * d].iter_mut().zip(point) {
                        *s += v;
                    }
                }
                inertia += block_inertia;
                for (s, v) in sums.iter_mut().zip(&block_sums) {
                    *s += v;
                }
            }
            if !changed || iterations >= max_iterations {
                return Run {
                    centres,
                    labels,
                    inertia,
                    iterations,
                };
            }
            for (j, &count) in counts.iter().enumerate() {
                if count > 0 {
                    for t in 0..d {
                        centres[j * d + t] = sums[j * d + t] / count as f64;
                    }
                }
            }
        }
    }

    /// Points on a small grid (many exact ties) at `scale`, nudged by a thousandth of a step
    /// (near ties); centres start on the points `starts`.
    fn setup(
        dims: usize,
        cells: &[(i8, u8)],
        scale: f64,
        starts: &[usize],
    ) -> (Matrix, Vec<f64>, usize) {
        let data: Vec<f64> = cells
            .iter()
            .map(|&(g, nudge)| scale * (f64::from(g) + f64::from(nudge) * 1e-3))
            .collect();
        let n = data.len() / dims;
        let x = Matrix {
            data: data[..n * dims].to_vec(),
            dims,
        };
        let centres: Vec<f64> = starts.iter().flat_map(|&i| x.row(i % n).to_vec()).collect();
        (x, centres, starts.len())
    }

    fn assert_same(a: &Run, b: &Run) {
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.iterations, b.iterations);
        let bits = |v: &[f64]| v.iter().map(|c| c.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.centres), bits(&b.centres));
        assert_eq!(a.inertia.to_bits(), b.inertia.to_bits());
    }

    proptest! {
        #![proptest_config(crate::test_support::proptest_config(64))]

        #[test]
        fn bounds_give_the_assignments_of_plain_lloyd_bit_for_bit(
            dims in 1usize..5,
            cells in prop::collection::vec((-3i8..=3, 0u8..3), 4..1200),
            scale in prop::sample::select(vec![1.0, 3.7, 1e-3, 1e-140, 1e-155, 1e-160, 1e-170, 1e100]),
            starts in prop::collection::vec(any::<usize>(), 1..9),
            max_iterations in 1usize..60,
        ) {
            prop_assume!(cells.len() >= dims);
            let (x, centres, k) = setup(dims, &cells, scale, &starts);
            let fast = iterate(&x, centres.clone(), k, max_iterations);
            let reference = plain(&x, centres, k, max_iterations);
            assert_same(&fast, &reference);
        }
    }

    #[test]
    fn blocks_split_the_sums_alike_past_one_block() {
        // Three full blocks and a part: the sums cross block boundaries.
        let n = 3 * BLOCK + 17;
        let cells: Vec<(i8, u8)> = (0..2 * n)
            .map(|i| (((i * 7919) % 7) as i8 - 3, ((i * 104_729) % 3) as u8))
            .collect();
        let (x, centres, k) = setup(2, &cells, 1.0, &[0, 5, 11, 400, 9000, 12_001]);
        let fast = iterate(&x, centres.clone(), k, 300);
        assert!(fast.iterations > 2, "{}", fast.iterations);
        assert_same(&fast, &plain(&x, centres, k, 300));
    }

    #[cfg(feature = "parallel")]
    #[test]
    fn any_number_of_threads_gives_the_same_bits() {
        let n = 5 * BLOCK + 3;
        let cells: Vec<(i8, u8)> = (0..3 * n)
            .map(|i| (((i * 31) % 7) as i8 - 3, ((i * 17) % 3) as u8))
            .collect();
        let (x, centres, k) = setup(3, &cells, 0.5, &[1, 2, 3, 50, 7000]);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| iterate(&x, centres.clone(), k, 300))
        };
        let one = run(1);
        assert_same(&one, &run(2));
        assert_same(&one, &run(3));
        assert_same(&one, &plain(&x, centres.clone(), k, 300));
    }
}
