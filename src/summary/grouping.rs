//! The stable counting sort that groups the summary accumulator's interleaved entries into one
//! run per customer, the runs in id order, and hands each run over as it is formed.
//!
//! Each entry carries a value (the customer's integer id less the smallest, or the customer's
//! position in id order). The entries are split into consecutive chunks (one per core with
//! `parallel`); each chunk is partitioned on its own into about 1,024 buckets of consecutive
//! values, each entry with its value's place in its bucket, a scatter that writes locally. Then
//! each bucket, gathered from every chunk into a copy small enough to stay in cache, is sorted
//! into its values' runs, which are read there: no second array of all the entries is written.
//! One scatter over the whole output, or a lookup by customer per entry, misses the cache (and
//! on virtual machines the TLB, which costs most) on nearly every entry.
//!
//! A log of integer ids accumulated on all cores is partitioned as it is read: each chunk of
//! transactions is counted by bucket, then its entries are made and written into their buckets
//! ([`Buckets`]), so that no array of all the entries in log order is written at all.

use std::ops::Range;

use super::entry::Entry;

/// A bucket spans at most 2^16 values, so that a value's place in its bucket fits in 16 bits
/// (2 bytes an entry) and a bucket's values are counted in an array of 512 KiB. Spans up to
/// 2^26 make at most 1,024 buckets; wider ones (more than 16 million customers) make more.
const MAX_BUCKET_SHIFT: u32 = 16;

/// One chunk's entries partitioned by bucket, stable within each bucket.
#[derive(Debug, Clone, Default)]
pub(super) struct Part {
    entries: Vec<Entry>,
    /// Each entry's value less its bucket's first value.
    within: Vec<u16>,
    /// Where each bucket begins in `entries`, and the end: one more than the buckets.
    starts: Vec<usize>,
}

/// The entries partitioned into buckets of consecutive values, chunk by chunk.
#[derive(Debug, Clone, Default)]
pub(super) struct Partition {
    shift: u32,
    parts: Vec<Part>,
    /// The entries of each bucket, summed over the chunks.
    bucket_lens: Vec<usize>,
}

/// What forming one bucket's runs after another reuses.
#[derive(Default)]
pub(super) struct RunScratch {
    entries: Vec<Entry>,
    next: Vec<usize>,
}

/// How values below a span are split into buckets: about 1,024 buckets of 2^`shift` values.
#[derive(Debug, Clone, Copy)]
pub(super) struct Buckets {
    shift: u32,
    count: usize,
}

impl Buckets {
    pub(super) fn new(span: u64) -> Self {
        let shift = (u64::BITS - span.leading_zeros())
            .saturating_sub(10)
            .min(MAX_BUCKET_SHIFT);
        Buckets {
            shift,
            count: usize::try_from(span >> shift).unwrap_or(usize::MAX - 1) + 1,
        }
    }

    /// Where each bucket of a chunk begins, and the end (one more than the buckets), from the
    /// values of its `len` entries (`value(k)` of the `k`th); values past the span are left out.
    pub(super) fn starts(&self, len: usize, mut value: impl FnMut(usize) -> u64) -> Vec<usize> {
        let mut starts = vec![0usize; self.count + 1];
        for k in 0..len {
            if let Some(count) = usize::try_from(value(k) >> self.shift)
                .ok()
                .and_then(|b| starts.get_mut(b + 1))
            {
                *count += 1;
            }
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        starts
    }

    /// Partitions a chunk of `len` entries (the `k`th being `item(k)`: its value and entry),
    /// given its bucket `starts` (from [`starts`](Self::starts) on the same values).
    pub(super) fn fill(
        &self,
        starts: Vec<usize>,
        len: usize,
        mut item: impl FnMut(usize) -> (u64, Entry),
    ) -> Part {
        let mask = (1u64 << self.shift) - 1;
        let mut next = starts.clone();
        // Filled here, on the thread that partitions the chunk: the fresh pages are faulted in
        // on every core at once.
        let filled = starts.last().copied().unwrap_or(0);
        let mut out = vec![Entry { key: 0, word: 0 }; filled];
        let mut within = vec![0u16; filled];
        for k in 0..len {
            let (v, entry) = item(k);
            let Some(at) = usize::try_from(v >> self.shift)
                .ok()
                .and_then(|b| next.get_mut(b))
            else {
                continue;
            };
            if let Some(e) = out.get_mut(*at) {
                *e = entry;
            }
            if let Some(w) = within.get_mut(*at) {
                // Below 2^MAX_BUCKET_SHIFT.
                *w = (v & mask) as u16;
            }
            *at += 1;
        }
        Part {
            entries: out,
            within,
            starts,
        }
    }

    /// The partition of these chunks, in order.
    pub(super) fn partition(&self, parts: Vec<Part>) -> Partition {
        let mut bucket_lens = vec![0usize; self.count];
        for p in &parts {
            for (len, bounds) in bucket_lens.iter_mut().zip(p.starts.windows(2)) {
                if let &[from, to] = bounds {
                    *len += to - from;
                }
            }
        }
        Partition {
            shift: self.shift,
            parts,
            bucket_lens,
        }
    }
}

/// Partitions `entries` by `value(k)` (of entry `k`), every value below `span`, in `chunks`
/// consecutive chunks (on all cores with `parallel`). Takes time in proportion to the entries
/// and to `span`, which callers keep to a few times the number of customers.
pub(super) fn partition(
    entries: &[Entry],
    span: u64,
    chunks: usize,
    value: impl Fn(usize) -> u64 + Sync,
) -> Partition {
    let buckets = Buckets::new(span);
    let chunk = entries.len().div_ceil(chunks.max(1)).max(1);
    let part = |c: usize| {
        let from = (c * chunk).min(entries.len());
        let chunk = entries
            .get(from..(from + chunk).min(entries.len()))
            .unwrap_or(&[]);
        let starts = buckets.starts(chunk.len(), |k| value(from + k));
        buckets.fill(starts, chunk.len(), |k| {
            let entry = chunk.get(k).copied().unwrap_or(Entry { key: 0, word: 0 });
            (value(from + k), entry)
        })
    };
    let count = entries.len().div_ceil(chunk);
    #[cfg(feature = "parallel")]
    let parts: Vec<Part> = {
        use rayon::prelude::*;
        (0..count).into_par_iter().map(part).collect()
    };
    #[cfg(not(feature = "parallel"))]
    let parts: Vec<Part> = (0..count).map(part).collect();
    buckets.partition(parts)
}

impl Partition {
    /// Splits the buckets into at most `pieces` consecutive ranges of about as many entries.
    pub(super) fn bucket_ranges(&self, pieces: usize) -> Vec<Range<usize>> {
        let total: usize = self.bucket_lens.iter().sum();
        let pieces = pieces.max(1);
        let mut ranges = Vec::with_capacity(pieces);
        let (mut from, mut sum) = (0, 0usize);
        for (b, &len) in self.bucket_lens.iter().enumerate() {
            sum += len;
            // Cut once this range holds its share of the entries.
            if sum.saturating_mul(pieces) >= total.saturating_mul(ranges.len() + 1) && sum > 0 {
                ranges.push(from..b + 1);
                from = b + 1;
            }
        }
        // Buckets without entries at the end join the last range.
        let buckets = self.bucket_lens.len();
        match ranges.last_mut() {
            Some(last) => last.end = buckets,
            None => ranges.push(0..buckets),
        }
        ranges
    }

    /// Calls `run` with each value of the buckets in `buckets` that has entries, in ascending
    /// order, and that value's entries in their original order; stops at the first error.
    pub(super) fn runs<E>(
        &self,
        buckets: Range<usize>,
        scratch: &mut RunScratch,
        mut run: impl FnMut(u64, &[Entry]) -> Result<(), E>,
    ) -> Result<(), E> {
        let width = 1usize << self.shift;
        for b in buckets {
            let len = self.bucket_lens.get(b).copied().unwrap_or(0);
            if len == 0 {
                continue;
            }
            let pieces = self.parts.iter().filter_map(|p| {
                let from = *p.starts.get(b)?;
                let to = *p.starts.get(b + 1)?;
                Some((p.entries.get(from..to)?, p.within.get(from..to)?))
            });
            let next = &mut scratch.next;
            next.clear();
            next.resize(width + 1, 0);
            for (_, within) in pieces.clone() {
                for &w in within {
                    if let Some(count) = next.get_mut(w as usize + 1) {
                        *count += 1;
                    }
                }
            }
            for w in 1..next.len() {
                next[w] += next[w - 1];
            }
            let sorted = &mut scratch.entries;
            sorted.clear();
            sorted.resize(len, Entry { key: 0, word: 0 });
            for (entries, within) in pieces {
                for (entry, &w) in entries.iter().zip(within) {
                    if let Some(at) = next.get_mut(w as usize) {
                        if let Some(e) = sorted.get_mut(*at) {
                            *e = *entry;
                        }
                        *at += 1;
                    }
                }
            }
            // Each value's run now ends where the next begins.
            let base = (b as u64) << self.shift;
            let mut from = 0;
            for (w, &to) in next.iter().enumerate().take(width) {
                if to > from {
                    if let Some(entries) = sorted.get(from..to) {
                        run(base + w as u64, entries)?;
                    }
                    from = to;
                }
            }
        }
        Ok(())
    }

    /// The number of buckets.
    pub(super) fn buckets(&self) -> usize {
        self.bucket_lens.len()
    }

    /// Each chunk's entries, to adjust in place (with `parallel`, whose accumulation builds them).
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    pub(super) fn chunk_entries_mut(&mut self) -> impl Iterator<Item = &mut [Entry]> {
        self.parts.iter_mut().map(|p| p.entries.as_mut_slice())
    }

    /// Every entry, chunk by chunk (in no useful order).
    pub(super) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.parts.iter().flat_map(|p| p.entries.iter())
    }

    /// All entries (by chunk, bucket by bucket) and their values, in one array each.
    pub(super) fn flatten(self) -> (Vec<Entry>, Vec<u64>) {
        let total = self.bucket_lens.iter().sum();
        let (mut entries, mut values) = (Vec::with_capacity(total), Vec::with_capacity(total));
        for p in self.parts {
            for (b, bounds) in p.starts.windows(2).enumerate() {
                if let &[from, to] = bounds {
                    let base = (b as u64) << self.shift;
                    let within = p.within.get(from..to).unwrap_or(&[]);
                    values.extend(within.iter().map(|&w| base + u64::from(w)));
                }
            }
            entries.extend(p.entries);
        }
        (entries, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The runs, read bucket range by bucket range, are those of a stable sort by value,
        /// whatever the span (one bucket, many, or wide buckets) and the number of chunks.
        #[test]
        fn the_runs_are_those_of_a_stable_sort(
            values in proptest::collection::vec(0u64..5_000, 0..400),
            scale in prop_oneof![Just(1u64), Just(37), Just(1_000)],
            chunks in 1usize..5,
            pieces in 1usize..6,
        ) {
            let values: Vec<u64> = values.iter().map(|v| v * scale).collect();
            let span = values.iter().max().map_or(0, |m| m + 1);
            let entries: Vec<Entry> = (0..values.len())
                .map(|k| Entry { key: k as i64, word: 0 })
                .collect();
            let partition = partition(&entries, span, chunks, |k| values[k]);
            let ranges = partition.bucket_ranges(pieces);
            prop_assert!(ranges.len() <= pieces);
            let covered: Vec<usize> = ranges.iter().flat_map(Clone::clone).collect();
            prop_assert_eq!(covered, (0..partition.buckets()).collect::<Vec<_>>());
            let mut runs: Vec<(u64, Vec<Entry>)> = Vec::new();
            let mut scratch = RunScratch::default();
            for range in ranges {
                partition
                    .runs(range, &mut scratch, |v, run| {
                        runs.push((v, run.to_vec()));
                        Ok::<(), ()>(())
                    })
                    .unwrap();
            }
            let mut expected: Vec<(u64, Vec<Entry>)> = Vec::new();
            let mut sorted: Vec<(u64, Entry)> =
                values.iter().copied().zip(entries.iter().copied()).collect();
            sorted.sort_by_key(|&(v, _)| v);
            for (v, e) in sorted {
                match expected.last_mut() {
                    Some((last, run)) if *last == v => run.push(e),
                    _ => expected.push((v, vec![e])),
                }
            }
            prop_assert_eq!(runs, expected);
            // Flattened, every entry keeps its value.
            let (flat, flat_values) = partition.flatten();
            let mut pairs: Vec<(i64, u64)> =
                flat.iter().map(|e| e.key).zip(flat_values).collect();
            pairs.sort_unstable();
            let by_key: Vec<(i64, u64)> =
                entries.iter().map(|e| e.key).zip(values.iter().copied()).collect();
            prop_assert_eq!(pairs, by_key);
        }
    }
}
