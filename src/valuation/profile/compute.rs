//! The computation of the attribute profile.

use std::collections::HashMap;

use crate::covariates::{AttributeKind, AttributeTable, AttributeValue};
use crate::error::InvalidParameter;
use crate::kpi::CustomerGroups;

use super::behaviour::Behaviour;
use super::error::ProfileError;
use super::estimate::{Estimate, NotComputable};
use super::stats::{
    anova, kruskal_wallis, level_mean, moments, pearson, ranks_in, sort_order, spearman, summary,
    welch,
};
use super::types::{
    Association, AttributeAssociation, AttributeBySegment, AttributeProfile,
    CategoricalAssociation, Distribution, LevelShare, Measure, NumericAssociation,
    SegmentDistribution, SegmentPortrait,
};

/// The most levels a categorical attribute may have for its level means to be compared; beyond
/// it the attribute's rows are [`NotComputable::TooManyLevels`] (its segment shares are still
/// given).
pub const MAX_LEVELS: usize = 1_000;

/// The default confidence level of the profile's intervals.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// How the profile is computed: the confidence level of its intervals (default 0.95).
///
/// ```
/// use customer_assets::valuation::profile::ProfileOptions;
/// assert_eq!(ProfileOptions::default().get_level(), 0.95);
/// assert_eq!(ProfileOptions::new().level(0.9).get_level(), 0.9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ProfileOptions {
    level: f64,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            level: DEFAULT_LEVEL,
        }
    }
}

impl ProfileOptions {
    /// The defaults: 95% intervals.
    pub fn new() -> Self {
        Self::default()
    }

    /// The confidence level of every interval, strictly between 0 and 1 (checked by
    /// [`AttributeProfile::compute`]).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// The confidence level.
    pub fn get_level(&self) -> f64 {
        self.level
    }
}

/// No level: the attribute is missing for this customer.
const MISSING: u32 = u32::MAX;

/// One attribute's values over the behaviour rows.
enum Column<'t> {
    /// Numbers (0 where missing) and whether each row has one.
    Numeric { values: Vec<f64>, has: Vec<bool> },
    /// Level indices into `levels` (sorted labels), [`MISSING`] where missing.
    Categorical {
        codes: Vec<u32>,
        levels: Vec<&'t str>,
    },
}

impl Column<'_> {
    fn has(&self, i: usize) -> bool {
        match self {
            Column::Numeric { has, .. } => has[i],
            Column::Categorical { codes, .. } => codes[i] != MISSING,
        }
    }
}

/// The behaviour measures as columns, with each one's rows sorted by value.
struct Measures {
    values: [Vec<f64>; 4],
    has_spend: Vec<bool>,
    orders: [Vec<u32>; 4],
}

impl Measures {
    fn new(rows: &[Behaviour]) -> Self {
        let frequency: Vec<f64> = rows.iter().map(|b| f64::from(b.frequency)).collect();
        let spend: Vec<f64> = rows.iter().map(|b| b.mean_spend.unwrap_or(0.0)).collect();
        let p_alive: Vec<f64> = rows.iter().map(|b| b.p_alive).collect();
        let clv: Vec<f64> = rows.iter().map(|b| b.clv).collect();
        let has_spend = rows.iter().map(|b| b.mean_spend.is_some()).collect();
        let values = [frequency, spend, p_alive, clv];
        let orders = [
            sort_order(&values[0]),
            sort_order(&values[1]),
            sort_order(&values[2]),
            sort_order(&values[3]),
        ];
        Measures {
            values,
            has_spend,
            orders,
        }
    }

    fn has(&self, m: usize, i: usize) -> bool {
        m != 1 || self.has_spend[i]
    }
}

impl AttributeProfile {
    /// Sets each attribute of `table` against the behaviour of the customers in `behaviour`
    /// (joined by id), and, with `segments`, gives each attribute's distribution per segment.
    ///
    /// - A numeric attribute: per measure, Pearson's r with its Fisher-z interval and p-value,
    ///   and Spearman's ρ with its p-value.
    /// - A categorical attribute: per measure, each level's mean with its t interval, the
    ///   one-way ANOVA F test with η², Welch's F test and the Kruskal–Wallis test.
    /// - Customers with behaviour but without the attribute are counted (`missing`) and left
    ///   out of that attribute's rows; customers without a mean spend are left out of the
    ///   mean-spend rows (`without_measure`); customers of the table without behaviour are
    ///   counted (`attributes_without_behaviour`) and not analysed; customers in no segment
    ///   are counted (`unsegmented`) and left out of the segments.
    /// - Degenerate data (too few customers, a constant attribute or measure, one level) gives
    ///   [`NotComputable`] statistics with the reason, never NaN.
    ///
    /// ```
    /// use customer_assets::covariates::{AttributeTable, AttributeValue};
    /// use customer_assets::kpi::CustomerGroups;
    /// use customer_assets::valuation::profile::{
    ///     Association, AttributeProfile, Behaviour, Measure, ProfileOptions,
    /// };
    /// use customer_assets::CustomerId;
    ///
    /// let mut table = AttributeTable::new();
    /// let mut rows = Vec::new();
    /// let mut segments = CustomerGroups::new();
    /// for k in 0..40u64 {
    ///     let id = CustomerId::from(k);
    ///     let age = 20.0 + k as f64;
    ///     table.insert(id.clone(), "age", AttributeValue::number(age)?)?;
    ///     let channel = if k % 2 == 0 { "web" } else { "store" };
    ///     table.insert(id.clone(), "channel", AttributeValue::category(channel)?)?;
    ///     // Older customers buy more often; web customers are worth more.
    ///     let x = (k / 8) as u32;
    ///     let spend = (x > 0).then_some(20.0 + (k % 5) as f64);
    ///     let clv = 50.0 + 2.0 * k as f64 + if k % 2 == 0 { 30.0 } else { 0.0 };
    ///     rows.push(Behaviour::new(id.clone(), x, spend, 0.5 + 0.01 * k as f64, clv)?);
    ///     segments.assign(id, if k < 20 { "new" } else { "loyal" })?;
    /// }
    /// let profile =
    ///     AttributeProfile::compute(&table, &rows, Some(&segments), &ProfileOptions::default())?;
    /// let age = &profile.attributes[0];
    /// assert_eq!(age.attribute, "age");
    /// let Some(Association::Numeric(rows)) = age.measures.computed() else { panic!() };
    /// let frequency = rows[0].pearson.computed().ok_or("not computed")?;
    /// assert_eq!(rows[0].measure, Measure::Frequency);
    /// assert!(frequency.r > 0.9 && frequency.p_value < 1e-6);
    /// // Customers without repeat purchases have no mean spend: left out of that row.
    /// assert_eq!((rows[1].n, rows[1].without_measure), (32, 8));
    /// assert_eq!(profile.by_segment.ok_or("no segments")?.segments, ["new", "loyal"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`ProfileError::InvalidParameter`] for a level not strictly between 0 and 1;
    /// [`ProfileError::NoCustomers`] without behaviour rows; [`ProfileError::NoAttributes`] for
    /// an empty table; [`ProfileError::DuplicateCustomer`] for two rows of one customer;
    /// [`ProfileError::InvalidBehaviour`] for a value out of range.
    pub fn compute(
        table: &AttributeTable,
        behaviour: &[Behaviour],
        segments: Option<&CustomerGroups>,
        options: &ProfileOptions,
    ) -> Result<AttributeProfile, ProfileError> {
        let level = options.level;
        if !(level.is_finite() && level > 0.0 && level < 1.0) {
            return Err(InvalidParameter::new(
                "level",
                level,
                "a confidence level lies strictly between 0 and 1",
            )
            .into());
        }
        if behaviour.is_empty() {
            return Err(ProfileError::NoCustomers);
        }
        for row in behaviour {
            row.check()?;
        }
        check_unique(behaviour)?;
        let attributes: Vec<(&str, AttributeKind)> = table.attributes().collect();
        if attributes.is_empty() {
            return Err(ProfileError::NoAttributes);
        }
        let n = behaviour.len();
        let found: Vec<_> = behaviour.iter().map(|b| table.customer(&b.id)).collect();
        let matched = found.iter().filter(|f| f.is_some()).count();
        let columns: Vec<Column<'_>> = attributes
            .iter()
            .map(|&(name, kind)| column(&found, name, kind))
            .collect();
        let measures = Measures::new(behaviour);
        let mut scratch = (vec![0.0; n], vec![0.0; n]);
        let associations = attributes
            .iter()
            .zip(&columns)
            .map(|(&(name, kind), col)| {
                let with_value = (0..n).filter(|&i| col.has(i)).count();
                let levels = match col {
                    Column::Categorical { levels, .. } => {
                        levels.iter().map(|l| l.to_string()).collect()
                    }
                    Column::Numeric { .. } => Vec::new(),
                };
                let measures_of = if with_value == 0 {
                    Estimate::NotComputable(NotComputable::NoValues)
                } else {
                    match col {
                        Column::Numeric { values, has } => {
                            Estimate::Computed(Association::Numeric(numeric(
                                values,
                                has,
                                &measures,
                                level,
                                &mut scratch,
                            )))
                        }
                        Column::Categorical { levels, .. } if levels.len() > MAX_LEVELS => {
                            Estimate::NotComputable(NotComputable::TooManyLevels)
                        }
                        Column::Categorical { codes, levels } => {
                            Estimate::Computed(Association::Categorical(categorical(
                                codes,
                                levels,
                                &measures,
                                level,
                                &mut scratch.0,
                            )))
                        }
                    }
                };
                AttributeAssociation {
                    attribute: name.to_string(),
                    kind,
                    with_value,
                    missing: n - with_value,
                    levels,
                    measures: measures_of,
                }
            })
            .collect();
        let by_segment =
            segments.map(|groups| segment_portrait(groups, behaviour, &attributes, &columns));
        Ok(AttributeProfile {
            level,
            customers: n,
            without_spend: behaviour.iter().filter(|b| b.mean_spend.is_none()).count(),
            attributes_without_behaviour: table.len() - matched,
            attributes: associations,
            by_segment,
        })
    }
}

/// Refuses two rows of one customer.
fn check_unique(rows: &[Behaviour]) -> Result<(), ProfileError> {
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| rows[a as usize].id.cmp(&rows[b as usize].id));
    for w in order.windows(2) {
        if rows[w[0] as usize].id == rows[w[1] as usize].id {
            return Err(ProfileError::DuplicateCustomer {
                customer: rows[w[1] as usize].id.clone(),
            });
        }
    }
    Ok(())
}

/// The column of attribute `name` over the rows whose table entries are `found`.
fn column<'t>(
    found: &[Option<&'t std::collections::BTreeMap<String, AttributeValue>>],
    name: &str,
    kind: AttributeKind,
) -> Column<'t> {
    let value = |i: usize| found[i].and_then(|m| m.get(name));
    match kind {
        AttributeKind::Numeric => {
            let mut values = vec![0.0; found.len()];
            let mut has = vec![false; found.len()];
            for i in 0..found.len() {
                if let Some(v) = value(i).and_then(AttributeValue::as_number) {
                    values[i] = v;
                    has[i] = true;
                }
            }
            Column::Numeric { values, has }
        }
        AttributeKind::Categorical => {
            let mut index: HashMap<&'t str, u32> = HashMap::new();
            let mut labels: Vec<&'t str> = Vec::new();
            let mut codes = vec![MISSING; found.len()];
            for (i, code) in codes.iter_mut().enumerate() {
                let Some(label) = found[i]
                    .and_then(|m| m.get(name))
                    .and_then(AttributeValue::as_category)
                else {
                    continue;
                };
                *code = *index.entry(label).or_insert_with(|| {
                    labels.push(label);
                    (labels.len() - 1) as u32
                });
            }
            // Levels in label order.
            let mut sorted: Vec<u32> = (0..labels.len() as u32).collect();
            sorted.sort_by_key(|&k| labels[k as usize]);
            let mut new_code = vec![0u32; labels.len()];
            for (rank, &old) in sorted.iter().enumerate() {
                new_code[old as usize] = rank as u32;
            }
            for code in codes.iter_mut().filter(|c| **c != MISSING) {
                *code = new_code[*code as usize];
            }
            let levels = sorted.iter().map(|&k| labels[k as usize]).collect();
            Column::Categorical { codes, levels }
        }
    }
}

/// A numeric attribute against each measure.
fn numeric(
    values: &[f64],
    has: &[bool],
    measures: &Measures,
    level: f64,
    scratch: &mut (Vec<f64>, Vec<f64>),
) -> Vec<NumericAssociation> {
    let order = sort_order(values);
    let (rank_x, rank_y) = scratch;
    let with_value = has.iter().filter(|&&h| h).count();
    // The attribute's ranks among the customers that have it (every measure but mean spend).
    ranks_in(&order, values, |i| has[i], rank_x);
    let all_ranks_x = rank_x.clone();
    Measure::ALL
        .iter()
        .enumerate()
        .map(|(m, &measure)| {
            let member = |i: usize| has[i] && measures.has(m, i);
            let used: Vec<usize> = (0..values.len()).filter(|&i| member(i)).collect();
            let x: Vec<f64> = used.iter().map(|&i| values[i]).collect();
            let y: Vec<f64> = used.iter().map(|&i| measures.values[m][i]).collect();
            let ranks_x = if m == 1 {
                ranks_in(&order, values, member, rank_x);
                &*rank_x
            } else {
                &all_ranks_x
            };
            ranks_in(&measures.orders[m], &measures.values[m], member, rank_y);
            let rx: Vec<f64> = used.iter().map(|&i| ranks_x[i]).collect();
            let ry: Vec<f64> = used.iter().map(|&i| rank_y[i]).collect();
            NumericAssociation {
                measure,
                n: used.len(),
                without_measure: with_value - used.len(),
                pearson: pearson(&x, &y, level).into(),
                spearman: spearman(&rx, &ry).into(),
            }
        })
        .collect()
}

/// A categorical attribute against each measure.
fn categorical(
    codes: &[u32],
    levels: &[&str],
    measures: &Measures,
    level: f64,
    ranks: &mut [f64],
) -> Vec<CategoricalAssociation> {
    let with_value = codes.iter().filter(|&&c| c != MISSING).count();
    Measure::ALL
        .iter()
        .enumerate()
        .map(|(m, &measure)| {
            let member = |i: usize| codes[i] != MISSING && measures.has(m, i);
            let mut groups: Vec<Vec<f64>> = vec![Vec::new(); levels.len()];
            let mut rank_sums = vec![0.0; levels.len()];
            let (used, ties) = ranks_in(&measures.orders[m], &measures.values[m], member, ranks);
            for i in (0..codes.len()).filter(|&i| member(i)) {
                let k = codes[i] as usize;
                groups[k].push(measures.values[m][i]);
                rank_sums[k] += ranks[i];
            }
            let level_means = groups
                .iter()
                .zip(levels)
                .filter_map(|(g, name)| level_mean(name, g, level).ok())
                .collect();
            let moments = moments(&groups);
            let (anova, welch) = match moments {
                Ok(moments) => (anova(&moments).into(), welch(&moments).into()),
                Err(reason) => (
                    Estimate::NotComputable(reason),
                    Estimate::NotComputable(reason),
                ),
            };
            let sums: Vec<(usize, f64)> = groups
                .iter()
                .zip(&rank_sums)
                .filter(|(g, _)| !g.is_empty())
                .map(|(g, &r)| (g.len(), r))
                .collect();
            CategoricalAssociation {
                measure,
                n: used,
                without_measure: with_value - used,
                levels: level_means,
                anova,
                welch,
                kruskal_wallis: kruskal_wallis(&sums, used, ties).into(),
            }
        })
        .collect()
}

/// Each attribute's distribution in each segment.
fn segment_portrait(
    groups: &CustomerGroups,
    behaviour: &[Behaviour],
    attributes: &[(&str, AttributeKind)],
    columns: &[Column<'_>],
) -> SegmentPortrait {
    let labels: Vec<String> = groups.labels().map(str::to_string).collect();
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(k, l)| (l.as_str(), k))
        .collect();
    let of: Vec<Option<usize>> = behaviour
        .iter()
        .map(|b| groups.group_of(&b.id).and_then(|l| index.get(l).copied()))
        .collect();
    let mut customers = vec![0usize; labels.len()];
    for s in of.iter().flatten() {
        customers[*s] += 1;
    }
    let unsegmented = of.iter().filter(|s| s.is_none()).count();
    let by_attribute = attributes
        .iter()
        .zip(columns)
        .map(|(&(name, kind), col)| {
            let segments = match col {
                Column::Numeric { values, has } => {
                    let mut per: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
                    for (i, s) in of.iter().enumerate() {
                        if let (Some(s), true) = (s, has[i]) {
                            per[*s].push(values[i]);
                        }
                    }
                    per.into_iter()
                        .enumerate()
                        .map(|(s, mut v)| SegmentDistribution {
                            segment: labels[s].clone(),
                            customers: customers[s],
                            missing: customers[s] - v.len(),
                            distribution: summary(&mut v).map(Distribution::Numeric).into(),
                        })
                        .collect()
                }
                Column::Categorical { codes, levels } => {
                    let mut counts = vec![vec![0usize; levels.len()]; labels.len()];
                    for (i, s) in of.iter().enumerate() {
                        if let (Some(s), true) = (s, codes[i] != MISSING) {
                            counts[*s][codes[i] as usize] += 1;
                        }
                    }
                    counts
                        .into_iter()
                        .enumerate()
                        .map(|(s, counts)| {
                            let total: usize = counts.iter().sum();
                            let distribution = if total == 0 {
                                Estimate::NotComputable(NotComputable::NoValues)
                            } else {
                                Estimate::Computed(Distribution::Categorical(
                                    counts
                                        .iter()
                                        .zip(levels)
                                        .map(|(&count, level)| LevelShare {
                                            level: level.to_string(),
                                            count,
                                            share: count as f64 / total as f64,
                                        })
                                        .collect(),
                                ))
                            };
                            SegmentDistribution {
                                segment: labels[s].clone(),
                                customers: customers[s],
                                missing: customers[s] - total,
                                distribution,
                            }
                        })
                        .collect()
                }
            };
            AttributeBySegment {
                attribute: name.to_string(),
                kind,
                segments,
            }
        })
        .collect();
    SegmentPortrait {
        segments: labels,
        unsegmented,
        attributes: by_attribute,
    }
}
