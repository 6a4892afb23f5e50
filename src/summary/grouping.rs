//! The stable counting sort that groups the summary accumulator's interleaved entries into one
//! run per customer, the runs in id order.
//!
//! Each entry carries a value (the customer's integer id less the smallest, or the customer's
//! position in id order); the entries are sorted by it in two scatter passes that both write
//! locally: first into about 1,024 buckets of consecutive values, then each bucket, whose region
//! of the output is small enough to stay in cache, into its values' runs. One scatter over the
//! whole output, or a lookup by customer per entry, misses the cache (and on virtual machines the
//! TLB, which costs most) on nearly every entry.

use super::entry::Entry;

/// A bucket of the first pass spans at most 2^16 values, so that a value's place in its bucket
/// fits in 16 bits (2 bytes an entry) and the second pass counts them in an array of 512 KiB.
/// Spans up to 2^26 make at most 1,024 buckets; wider ones (more than 16 million customers)
/// make more.
const MAX_BUCKET_SHIFT: u32 = 16;

/// Sorts `entries` stably by `value(k)` (of entry `k`), every value below `span`. Calls `run`
/// with each value present, in ascending order, and where its run begins in the sorted entries.
/// Takes time in proportion to the entries and to `span`, which callers keep to a few times the
/// number of customers.
pub(super) fn sort_by_value(
    entries: &[Entry],
    span: u64,
    value: impl Fn(usize) -> u64,
    mut run: impl FnMut(u64, usize),
) -> Vec<Entry> {
    let shift = (u64::BITS - span.leading_zeros())
        .saturating_sub(10)
        .min(MAX_BUCKET_SHIFT);
    let buckets = usize::try_from(span >> shift).unwrap_or(usize::MAX - 1) + 1;
    let mask = (1u64 << shift) - 1;
    let mut bucket_start = vec![0usize; buckets + 1];
    for k in 0..entries.len() {
        if let Some(count) = usize::try_from(value(k) >> shift)
            .ok()
            .and_then(|b| bucket_start.get_mut(b + 1))
        {
            *count += 1;
        }
    }
    for b in 1..bucket_start.len() {
        bucket_start[b] += bucket_start[b - 1];
    }

    // First pass: into the buckets, each entry with its value's place in its bucket.
    let mut next = bucket_start.clone();
    let mut bucketed = vec![Entry { key: 0, word: 0 }; entries.len()];
    let mut within = vec![0u16; entries.len()];
    for (k, entry) in entries.iter().enumerate() {
        let v = value(k);
        let Some(at) = usize::try_from(v >> shift)
            .ok()
            .and_then(|b| next.get_mut(b))
        else {
            continue;
        };
        if let Some(e) = bucketed.get_mut(*at) {
            *e = *entry;
        }
        if let Some(w) = within.get_mut(*at) {
            // Below 2^MAX_BUCKET_SHIFT.
            *w = (v & mask) as u16;
        }
        *at += 1;
    }
    drop(next);

    // Second pass: each bucket, through a copy that stays in cache, into its values' runs in
    // place. (The copy is as long as the longest bucket: a fraction of the entries unless a few
    // customers have most of them.)
    let mut scratch: Vec<Entry> = Vec::new();
    let mut run_next: Vec<usize> = Vec::new();
    for (b, bounds) in bucket_start.windows(2).enumerate() {
        let &[from, to] = bounds else { continue };
        let (Some(out), Some(within)) = (bucketed.get_mut(from..to), within.get(from..to)) else {
            continue;
        };
        if out.is_empty() {
            continue;
        }
        run_next.clear();
        run_next.resize((mask + 2) as usize, 0);
        for &w in within {
            if let Some(count) = run_next.get_mut(w as usize + 1) {
                *count += 1;
            }
        }
        let base = (b as u64) << shift;
        for w in 0..run_next.len() - 1 {
            if run_next[w + 1] > 0 {
                run(base + w as u64, from + run_next[w]);
            }
            run_next[w + 1] += run_next[w];
        }
        // One value's entries are in order already.
        if within.iter().all(|&w| Some(&w) == within.first()) {
            continue;
        }
        scratch.clear();
        scratch.extend_from_slice(out);
        for (entry, &w) in scratch.iter().zip(within) {
            if let Some(at) = run_next.get_mut(w as usize) {
                if let Some(e) = out.get_mut(*at) {
                    *e = *entry;
                }
                *at += 1;
            }
        }
    }
    bucketed
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The sort equals a stable sort by value, and the runs reported are where each
        /// value's entries begin, whatever the span (one bucket, many, or wide buckets).
        #[test]
        fn sorting_by_value_equals_a_stable_sort(
            values in proptest::collection::vec(0u64..5_000, 0..400),
            scale in prop_oneof![Just(1u64), Just(37), Just(1_000)],
        ) {
            let values: Vec<u64> = values.iter().map(|v| v * scale).collect();
            let span = values.iter().max().map_or(0, |m| m + 1);
            let entries: Vec<Entry> = (0..values.len())
                .map(|k| Entry { key: k as i64, word: 0 })
                .collect();
            let mut runs = Vec::new();
            let sorted = sort_by_value(&entries, span, |k| values[k], |v, at| runs.push((v, at)));
            let mut expected: Vec<(u64, Entry)> =
                values.iter().copied().zip(entries.iter().copied()).collect();
            expected.sort_by_key(|&(v, _)| v);
            let expected_entries: Vec<Entry> = expected.iter().map(|&(_, e)| e).collect();
            prop_assert_eq!(&sorted, &expected_entries);
            let mut expected_runs = Vec::new();
            for (at, &(v, _)) in expected.iter().enumerate() {
                if at == 0 || expected[at - 1].0 != v {
                    expected_runs.push((v, at));
                }
            }
            prop_assert_eq!(runs, expected_runs);
        }
    }
}
