//! Per-customer work over a population: on all cores with the `parallel` feature, in order
//! without it. Either way the results are the same, and so is the error reported: the first in
//! customer order.

use super::error::SegmentError;

/// Customers per part of a parallel pass: parts large enough that splitting costs nothing next
/// to the work, many enough to balance the cores.
/// (Small in tests, so that a few hundred customers make several parts.)
#[cfg(feature = "parallel")]
const PART: usize = if cfg!(test) { 64 } else { 16 * 1024 };

/// `f` of each part of `customers`, the parts in order; `f` returns its part's first error.
///
/// Every part before the first that fails is done in full, so the first failing part holds the
/// first error in customer order, and that is the error returned. (Rayon's own collect into a
/// `Result` returns whichever error it meets first.)
pub(crate) fn parts<C: Sync, R: Send>(
    customers: &[C],
    f: impl Fn(&[C]) -> Result<R, SegmentError> + Sync,
) -> Result<Vec<R>, SegmentError> {
    #[cfg(feature = "parallel")]
    if customers.len() > PART {
        use rayon::prelude::*;
        let parts: Vec<Result<R, SegmentError>> = customers.par_chunks(PART).map(&f).collect();
        return parts.into_iter().collect();
    }
    Ok(vec![f(customers)?])
}

/// The parts' vectors end to end.
pub(crate) fn concat<T>(mut parts: Vec<Vec<T>>) -> Vec<T> {
    if parts.len() == 1 {
        return parts.pop().unwrap_or_default();
    }
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend(part);
    }
    out
}

/// `f` of every customer, in order; the first error in customer order.
pub(crate) fn try_map<C: Sync, T: Send>(
    customers: &[C],
    f: impl Fn(&C) -> Result<T, SegmentError> + Sync,
) -> Result<Vec<T>, SegmentError> {
    parts(customers, |part| part.iter().map(&f).collect()).map(concat)
}

/// `f` of every index below `n`, in order.
pub(crate) fn map_index<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "parallel")]
    if n > PART {
        use rayon::prelude::*;
        return (0..n).into_par_iter().with_min_len(PART).map(f).collect();
    }
    (0..n).map(f).collect()
}

/// Sorts floats by [`f64::total_cmp`], descending if asked (on all cores with `parallel`):
/// values equal in that order are the same bits, so the result does not depend on the sort.
pub(crate) fn sort_floats(values: &mut [f64], descending: bool) {
    let order = |x: &f64, y: &f64| {
        if descending {
            y.total_cmp(x)
        } else {
            x.total_cmp(y)
        }
    };
    #[cfg(feature = "parallel")]
    {
        use rayon::slice::ParallelSliceMut;
        values.par_sort_unstable_by(order);
    }
    #[cfg(not(feature = "parallel"))]
    values.sort_unstable_by(order);
}

#[cfg(test)]
mod tests {
    use crate::segment::traits::Assign;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    use super::*;
    use crate::records::CustomerId;
    use crate::segment::abc::{AbcParams, ValueTiers};
    use crate::segment::asset_quality::{AssetQualityParams, Cut};
    use crate::segment::profile::{feature_column, feature_columns};
    use crate::segment::rfm::{Binning, RfmParams, SegmentRule, SegmentRules};
    use crate::segment::{Feature, Profile, Segmenter};
    use crate::time::TimeUnit;

    /// A customer: x, t_x, T − t_x, z̄ in cents, and P(alive) and CLV, each sometimes missing.
    type Row = (u32, f64, f64, i64, Option<f64>, Option<f64>);

    fn rows() -> impl Strategy<Value = Vec<Row>> {
        // Missing values are rare, so that some populations have none and others a few,
        // anywhere.
        let sometimes =
            |v: BoxedStrategy<f64>| prop_oneof![1 => Just(None), 60 => v.prop_map(Some)].boxed();
        proptest::collection::vec(
            (
                0u32..12,
                0.0..50.0f64,
                0.0..30.0f64,
                0i64..100_000,
                sometimes((0.0..=1.0f64).boxed()),
                sometimes((-50.0..5000.0f64).boxed()),
            ),
            0..700,
        )
    }

    fn profiles(rows: &[Row]) -> Vec<Profile> {
        rows.iter()
            .enumerate()
            .map(|(i, &(x, t_x, since, cents, p_alive, clv))| {
                let mut p = Profile::new(
                    CustomerId::from(i as u64),
                    TimeUnit::WEEKS,
                    x,
                    t_x,
                    t_x + since,
                    Decimal::new(cents, 2),
                )
                .unwrap();
                if let Some(v) = p_alive {
                    p = p.with_p_alive(v).unwrap();
                }
                if let Some(v) = clv {
                    p = p.with_clv(v).unwrap();
                }
                p
            })
            .collect()
    }

    /// The first `most` customers with both P(alive) and CLV.
    fn complete(base: &[Profile], most: usize) -> Vec<Profile> {
        base.iter()
            .filter(|p| p.p_alive().is_some() && p.clv().is_some())
            .take(most)
            .cloned()
            .collect()
    }

    /// The serial default of `Assign::assign_all`.
    fn serial<A: Assign>(learnt: &A, customers: &[Profile]) -> Result<Vec<A::Label>, SegmentError> {
        customers.iter().map(|c| learnt.assign(c)).collect()
    }

    const FEATURES: [Feature; 4] = [
        Feature::Clv,
        Feature::TimeSinceLastPurchase,
        Feature::PAlive,
        Feature::TotalSpend,
    ];

    proptest! {
        /// Feature columns, read in parts or several in one pass, are the serial reading's,
        /// and so is the error: the first customer's in the first column that fails.
        #[test]
        fn columns_are_read_as_one_by_one(rows in rows(), pick in 0usize..4) {
            let base = profiles(&rows);
            let one_by_one = |features: &[Feature]| -> Result<Vec<Vec<f64>>, SegmentError> {
                features
                    .iter()
                    .map(|&f| base.iter().map(|p| p.feature(f)).collect())
                    .collect()
            };
            let feature = FEATURES[pick];
            prop_assert_eq!(
                feature_column(&base, feature).map(|c| vec![c]),
                one_by_one(&[feature])
            );
            prop_assert_eq!(
                feature_columns(&base, FEATURES).map(Vec::from),
                one_by_one(&FEATURES)
            );
            let two = [FEATURES[pick], FEATURES[(pick + 2) % 4]];
            prop_assert_eq!(feature_columns(&base, two).map(Vec::from), one_by_one(&two));
        }

        /// The crate's segmentations label in parts exactly as one by one, first error included;
        /// RFM with few scores or many (its rule lookup table or the rules).
        #[test]
        fn assign_all_is_assign_in_order(
            rows in rows(),
            learn_from in 1usize..700,
            bins in 1u8..=20,
            cut in 0.0..=1.0f64,
        ) {
            let base = profiles(&rows);
            // Learnt from customers that have every value, so that learning succeeds.
            let complete = complete(&base, learn_from);
            prop_assume!(!complete.is_empty());
            let rules = SegmentRules::new(
                vec![
                    SegmentRule::new("top").recency(bins.min(3), 20).monetary(2, 20),
                    SegmentRule::new("frequent").frequency(2, 3),
                ],
                "rest",
            )
            .unwrap();
            for params in [
                RfmParams::default(),
                RfmParams::default()
                    .binning(Binning::Quantiles { bins })
                    .monetary_feature(Feature::Clv)
                    .rules(rules),
            ] {
                let rfm = params.learn(&complete).unwrap();
                prop_assert_eq!(rfm.assign_all(&base), serial(&rfm, &base));
                prop_assert_eq!(rfm.assign_all(&complete), serial(&rfm, &complete));
            }
            let valued: Vec<Profile> =
                complete.iter().filter(|p| p.clv() >= Some(0.0)).cloned().collect();
            if !valued.is_empty() {
                let abc = AbcParams::default()
                    .value(Feature::Clv)
                    .shares(0.7, 0.2)
                    .learn(&valued)
                    .unwrap();
                prop_assert_eq!(abc.assign_all(&base), serial(&abc, &base));
            }
            let aq = AssetQualityParams::default()
                .clv_cut(Cut::Quantile(cut))
                .learn(&complete)
                .unwrap();
            prop_assert_eq!(aq.assign_all(&base), serial(&aq, &base));
            prop_assert_eq!(aq.assign_all(&complete), serial(&aq, &complete));
            let tiers = ValueTiers::new(
                Feature::PAlive,
                "low",
                vec![("mid".into(), cut / 2.0), ("high".into(), cut)],
            )
            .unwrap();
            prop_assert_eq!(tiers.assign_all(&base), serial(&tiers, &base));
        }
    }

    /// Learning, then assigning one by one.
    fn learn_then_assign<S: Segmenter>(
        params: &S,
        customers: &[Profile],
    ) -> Result<(S::Learnt, Vec<crate::segment::Label<S>>), SegmentError> {
        let learnt = params.learn(customers)?;
        let labels = serial(&learnt, customers)?;
        Ok((learnt, labels))
    }

    proptest! {
        /// RFM, ABC and asset quality segment (scoring the columns they learnt from) as they
        /// learn and then assign, errors included.
        #[test]
        fn segment_is_learn_then_assign(
            rows in rows(),
            bins in 1u8..=20,
            cut in 0.0..=1.0f64,
        ) {
            let base = profiles(&rows);
            let complete = complete(&base, usize::MAX);
            for customers in [&base, &complete] {
                for params in [
                    RfmParams::default(),
                    RfmParams::default()
                        .binning(Binning::Jenks { classes: bins })
                        .monetary_feature(Feature::Clv),
                ] {
                    prop_assert_eq!(
                        params.segment(customers),
                        learn_then_assign(&params, customers)
                    );
                }
                for value in [Feature::TotalSpend, Feature::Clv] {
                    let params = AbcParams::default().value(value);
                    prop_assert_eq!(
                        params.segment(customers),
                        learn_then_assign(&params, customers)
                    );
                }
                let params = AssetQualityParams::default()
                    .clv_cut(Cut::Quantile(cut))
                    .p_alive_cut(Cut::Quantile(1.0 - cut));
                prop_assert_eq!(params.segment(customers), learn_then_assign(&params, customers));
            }
        }
    }

    #[test]
    fn floats_sort_as_serially() {
        let mut values = vec![3.0, -0.0, 0.0, f64::NAN, -1.0, 3.0, f64::INFINITY];
        values.extend((0..2000).map(|i| f64::from((i * 7919) % 1000) / 8.0));
        for descending in [false, true] {
            let mut sorted = values.clone();
            sort_floats(&mut sorted, descending);
            let mut expect = values.clone();
            expect.sort_by(f64::total_cmp);
            if descending {
                expect.reverse();
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&sorted), bits(&expect));
        }
    }
}
