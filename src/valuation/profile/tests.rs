//! Known answers and degenerate data.
//!
//! The golden values were produced with scipy 1.17.1 and numpy (Python 3) on the twelve
//! customers below:
//!
//! ```text
//! r = stats.pearsonr(x, y); r.statistic, r.pvalue, r.confidence_interval(0.95)
//! stats.spearmanr(x, y)
//! stats.f_oneway(*groups); stats.f_oneway(*groups, equal_var=False); stats.kruskal(*groups)
//! stats.t.interval(0.95, n - 1, loc=g.mean(), scale=stats.sem(g))
//! eta² = Σ n_i (mean_i − mean)² / Σ (y − mean)²;  np.percentile(v, [25, 50, 75])
//! ```
//!
//! with the customers without a mean spend (frequency 0) left out of the mean-spend rows.

use super::*;
use crate::covariates::{AttributeTable, AttributeValue};
use crate::kpi::CustomerGroups;
use crate::records::CustomerId;

const AGE: [f64; 12] = [
    23.0, 35.0, 31.0, 52.0, 46.0, 29.0, 61.0, 38.0, 44.0, 27.0, 55.0, 33.0,
];
const REGION: [&str; 12] = [
    "north", "south", "north", "east", "south", "north", "east", "south", "east", "north", "south",
    "east",
];
const FREQUENCY: [u32; 12] = [0, 2, 1, 6, 4, 1, 7, 3, 5, 0, 4, 2];
const SPEND: [Option<f64>; 12] = [
    None,
    Some(30.5),
    Some(22.0),
    Some(48.25),
    Some(41.0),
    Some(25.5),
    Some(55.0),
    Some(35.75),
    Some(44.5),
    None,
    Some(39.0),
    Some(28.0),
];
const P_ALIVE: [f64; 12] = [
    0.31, 0.62, 0.55, 0.91, 0.84, 0.47, 0.95, 0.71, 0.88, 0.22, 0.79, 0.58,
];
const CLV: [f64; 12] = [
    12.4, 88.1, 41.3, 402.7, 251.9, 35.2, 540.0, 160.4, 330.8, 5.1, 240.3, 70.6,
];

fn id(k: usize) -> CustomerId {
    CustomerId::from(k as u64 + 1)
}

fn behaviour() -> Vec<Behaviour> {
    (0..12)
        .map(|k| Behaviour::new(id(k), FREQUENCY[k], SPEND[k], P_ALIVE[k], CLV[k]).unwrap())
        .collect()
}

fn table() -> AttributeTable {
    let mut t = AttributeTable::new();
    for k in 0..12 {
        t.insert(id(k), "age", AttributeValue::number(AGE[k]).unwrap())
            .unwrap();
        t.insert(
            id(k),
            "region",
            AttributeValue::category(REGION[k]).unwrap(),
        )
        .unwrap();
    }
    t
}

#[track_caller]
fn close(a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1e-300),
        "{a} vs {b} (relative tolerance {tol})"
    );
}

fn numeric_rows(p: &AttributeProfile, name: &str) -> Vec<NumericAssociation> {
    let a = p.attributes.iter().find(|a| a.attribute == name).unwrap();
    match a.measures.computed() {
        Some(Association::Numeric(rows)) => rows.clone(),
        other => panic!("{other:?}"),
    }
}

fn categorical_rows(p: &AttributeProfile, name: &str) -> Vec<CategoricalAssociation> {
    let a = p.attributes.iter().find(|a| a.attribute == name).unwrap();
    match a.measures.computed() {
        Some(Association::Categorical(rows)) => rows.clone(),
        other => panic!("{other:?}"),
    }
}

fn profile() -> AttributeProfile {
    AttributeProfile::compute(&table(), &behaviour(), None, &ProfileOptions::default()).unwrap()
}

/// (n, r, p, ci low, ci high, rho, rho p) per measure, from scipy.
const PEARSON: [(usize, f64, f64, f64, f64, f64, f64); 4] = [
    (
        12,
        0.9470536774113435,
        2.9971928694280178e-06,
        0.817447629170925,
        0.9853837940468949,
        0.9542490146014182,
        1.4616575561004222e-06,
    ),
    (
        10,
        0.915632994230124,
        0.00019998978448573757,
        0.6753510296727185,
        0.9801793917251169,
        0.9030303030303028,
        0.0003436121977632824,
    ),
    (
        12,
        0.9025822966396955,
        5.855846372497939e-05,
        0.6819008423994575,
        0.9726550031143566,
        0.9440559440559443,
        3.927261080965947e-06,
    ),
    (
        12,
        0.9320418906136477,
        1.0177026176066556e-05,
        0.7700291156406793,
        0.981134384029893,
        0.9440559440559443,
        3.927261080965947e-06,
    ),
];

#[test]
fn numeric_attribute_matches_scipy() {
    let p = profile();
    assert_eq!(p.customers, 12);
    assert_eq!(p.without_spend, 2);
    let rows = numeric_rows(&p, "age");
    for (row, &(n, r, pv, lo, hi, rho, rp)) in rows.iter().zip(&PEARSON) {
        assert_eq!(row.n, n, "{:?}", row.measure);
        assert_eq!(row.without_measure, 12 - n);
        let c = row.pearson.computed().unwrap();
        close(c.r, r, 1e-12);
        close(c.p_value, pv, 1e-8);
        let i = c.interval.computed().unwrap();
        assert_eq!(i.level, 0.95);
        close(i.lower, lo, 1e-9);
        close(i.upper, hi, 1e-9);
        let s = row.spearman.computed().unwrap();
        close(s.rho, rho, 1e-12);
        close(s.p_value, rp, 1e-8);
    }
}

/// (F, p, η²), (Welch F, p), (H, p) per measure, from scipy.
const TESTS: [[f64; 7]; 4] = [
    [
        10.43661971830986,
        0.004521898953802105,
        0.6987270155586986,
        15.83012089329905,
        0.006304175144839982,
        8.279255319148938,
        0.01592878132970486,
    ],
    [
        4.102179909843234,
        0.0662147363266273,
        0.5396057392080091,
        11.561008189430147,
        0.017442177496926812,
        5.2363636363636346,
        0.07293535207721419,
    ],
    [
        10.88583275742918,
        0.003957416669195023,
        0.7075231434692969,
        8.906225938573662,
        0.018077006914327443,
        8.0,
        0.018315638888734182,
    ],
    [
        6.515368599638141,
        0.017801666391802373,
        0.5914798529621762,
        11.438229801535961,
        0.019692145598603168,
        8.0,
        0.018315638888734182,
    ],
];

/// (n, mean, sd, ci low, ci high) of a level, from scipy.
type Level = (usize, f64, f64, f64, f64);

/// East, north and south per measure.
const LEVELS: [[Level; 3]; 4] = [
    [
        (
            4,
            5.0,
            2.160246899469287,
            1.5625651181416913,
            8.437434881858309,
        ),
        (
            4,
            0.5,
            0.5773502691896257,
            -0.41869311551853927,
            1.4186931155185394,
        ),
        (
            4,
            3.25,
            0.9574271077563381,
            1.7265198191711877,
            4.7734801808288125,
        ),
    ],
    [
        (
            4,
            43.9375,
            11.478920898760475,
            25.671975298547896,
            62.20302470145211,
        ),
        (
            2,
            23.75,
            2.4748737341529163,
            1.5141417116942897,
            45.98585828830571,
        ),
        (
            4,
            36.5625,
            4.584280205223062,
            29.267887199251312,
            43.85711280074869,
        ),
    ],
    [
        (
            4,
            0.83,
            0.16911534525287764,
            0.5608997471666004,
            1.0991002528333995,
        ),
        (
            4,
            0.3875,
            0.14974979131871938,
            0.14921466495036764,
            0.6257853350496324,
        ),
        (
            4,
            0.74,
            0.09626352718795768,
            0.5868232467835531,
            0.8931767532164469,
        ),
    ],
    [
        (
            4,
            336.025,
            197.0863495188509,
            22.416637575939717,
            649.6333624240602,
        ),
        (
            4,
            23.5,
            17.46902019767184,
            -4.297109392503604,
            51.2971093925036,
        ),
        (
            4,
            185.175,
            76.43809586848694,
            63.54493211020596,
            306.80506788979403,
        ),
    ],
];

#[test]
fn categorical_attribute_matches_scipy() {
    let p = profile();
    let region = p
        .attributes
        .iter()
        .find(|a| a.attribute == "region")
        .unwrap();
    assert_eq!(region.levels, ["east", "north", "south"]);
    assert_eq!((region.with_value, region.missing), (12, 0));
    let rows = categorical_rows(&p, "region");
    for ((row, t), levels) in rows.iter().zip(&TESTS).zip(&LEVELS) {
        let a = row.anova.computed().unwrap();
        close(a.f, t[0], 1e-10);
        close(a.p_value, t[1], 1e-8);
        close(a.eta_squared, t[2], 1e-10);
        assert_eq!(a.df_between, 2);
        assert_eq!(a.df_within, row.n - 3);
        let w = row.welch.computed().unwrap();
        close(w.f, t[3], 1e-10);
        close(w.p_value, t[4], 1e-8);
        let k = row.kruskal_wallis.computed().unwrap();
        close(k.h, t[5], 1e-10);
        close(k.p_value, t[6], 1e-8);
        close(k.epsilon_squared, t[5] / (row.n as f64 - 1.0), 1e-12);
        for (level, &(n, mean, sd, lo, hi)) in row.levels.iter().zip(levels) {
            assert_eq!(level.n, n, "{:?} {}", row.measure, level.level);
            close(level.mean, mean, 1e-12);
            close(level.sd.unwrap(), sd, 1e-12);
            let i = level.interval.computed().unwrap();
            close(i.lower, lo, 1e-8);
            close(i.upper, hi, 1e-8);
        }
    }
}

#[test]
fn segments_give_quartiles_and_shares() {
    let groups =
        CustomerGroups::from_pairs((0..12).map(|k| (id(k), if k < 6 { "a" } else { "b" })))
            .unwrap();
    let mut rows = behaviour();
    // A customer in no segment is counted and left out.
    rows.push(Behaviour::new(CustomerId::from(99u64), 1, Some(5.0), 0.5, 1.0).unwrap());
    let p =
        AttributeProfile::compute(&table(), &rows, Some(&groups), &ProfileOptions::new()).unwrap();
    let s = p.by_segment.unwrap();
    assert_eq!(s.segments, ["a", "b"]);
    assert_eq!(s.unsegmented, 1);
    let age = &s.attributes[0];
    assert_eq!(age.attribute, "age");
    // numpy: np.percentile(v, [25, 50, 75]), v.mean(), v.std(ddof=1).
    let expected = [
        (29.5, 33.0, 43.25, 36.0, 10.954451150103322),
        (34.25, 41.0, 52.25, 43.0, 13.038404810405298),
    ];
    for (seg, (q1, med, q3, mean, sd)) in age.segments.iter().zip(expected) {
        assert_eq!((seg.customers, seg.missing), (6, 0));
        let Some(Distribution::Numeric(d)) = seg.distribution.computed() else {
            panic!()
        };
        assert_eq!(d.n, 6);
        close(d.q1, q1, 1e-12);
        close(d.median, med, 1e-12);
        close(d.q3, q3, 1e-12);
        close(d.mean, mean, 1e-12);
        close(d.sd.unwrap(), sd, 1e-12);
    }
    let region = &s.attributes[1];
    let Some(Distribution::Categorical(shares)) = region.segments[0].distribution.computed() else {
        panic!()
    };
    // Segment a: north, south, north, east, south, north.
    let counts: Vec<(&str, usize)> = shares.iter().map(|l| (l.level.as_str(), l.count)).collect();
    assert_eq!(counts, [("east", 1), ("north", 3), ("south", 2)]);
    close(shares[1].share, 0.5, 1e-15);
    // The extra customer has no attributes: missing everywhere, and counted.
    assert_eq!(p.attributes[0].missing, 1);
}

#[test]
fn missing_attributes_are_counted_not_dropped() {
    let mut t = table();
    t.insert(
        CustomerId::from(500u64),
        "age",
        AttributeValue::number(40.0).unwrap(),
    )
    .unwrap();
    let mut rows = behaviour();
    for k in 0..3u64 {
        rows.push(Behaviour::new(CustomerId::from(100 + k), 1, Some(9.0), 0.4, 3.0).unwrap());
    }
    let p = AttributeProfile::compute(&t, &rows, None, &ProfileOptions::default()).unwrap();
    assert_eq!(p.attributes_without_behaviour, 1);
    let age = &p.attributes[0];
    assert_eq!((age.with_value, age.missing), (12, 3));
    // The rows are those of the twelve: the same answers as without the extra customers.
    let rows = numeric_rows(&p, "age");
    close(rows[0].pearson.computed().unwrap().r, PEARSON[0].1, 1e-12);
}

fn one_attribute(values: &[AttributeValue], rows: &[Behaviour]) -> AttributeProfile {
    let mut t = AttributeTable::new();
    for (row, v) in rows.iter().zip(values) {
        t.insert(row.id.clone(), "a", v.clone()).unwrap();
    }
    AttributeProfile::compute(&t, rows, None, &ProfileOptions::default()).unwrap()
}

#[test]
fn degenerate_data_is_not_computable_with_a_reason() {
    let rows = behaviour();
    let number = |v: f64| AttributeValue::number(v).unwrap();
    let label = |s: &str| AttributeValue::category(s).unwrap();
    // One customer.
    let p = one_attribute(&[number(3.0)], &rows[..1]);
    let r = numeric_rows(&p, "a");
    assert_eq!(r[0].pearson.reason(), Some(NotComputable::TooFewCustomers));
    // A constant attribute.
    let p = one_attribute(&vec![number(7.0); 12], &rows);
    let r = numeric_rows(&p, "a");
    assert!(r.iter().all(
        |r| r.pearson.reason() == Some(NotComputable::ConstantAttribute)
            && r.spearman.reason() == Some(NotComputable::ConstantAttribute)
    ));
    // A constant measure.
    let flat: Vec<Behaviour> = rows
        .iter()
        .map(|b| Behaviour {
            p_alive: 0.5,
            ..b.clone()
        })
        .collect();
    let ages: Vec<_> = AGE.iter().map(|&a| number(a)).collect();
    let p = one_attribute(&ages, &flat);
    let r = numeric_rows(&p, "a");
    assert_eq!(r[2].pearson.reason(), Some(NotComputable::ConstantMeasure));
    assert!(r[0].pearson.computed().is_some());
    // Four customers: r and p, but no interval below four... and three have no interval.
    let p = one_attribute(&ages[..3], &rows[..3]);
    let r = numeric_rows(&p, "a");
    assert_eq!(
        r[0].pearson.computed().unwrap().interval.reason(),
        Some(NotComputable::TooFewCustomers)
    );
    // One level.
    let p = one_attribute(&vec![label("x"); 12], &rows);
    let r = categorical_rows(&p, "a");
    assert_eq!(r[0].anova.reason(), Some(NotComputable::OneLevel));
    assert_eq!(r[0].welch.reason(), Some(NotComputable::OneLevel));
    assert_eq!(r[0].kruskal_wallis.reason(), Some(NotComputable::OneLevel));
    assert!(r[0].levels[0].interval.computed().is_some());
    // A level of one customer: no sd, no interval, no Welch; ANOVA stands.
    let mut labels: Vec<_> = REGION.iter().map(|&s| label(s)).collect();
    labels[0] = label("west");
    let p = one_attribute(&labels, &rows);
    let r = categorical_rows(&p, "a");
    let west = r[0].levels.iter().find(|l| l.level == "west").unwrap();
    assert_eq!((west.n, west.sd), (1, None));
    assert_eq!(
        west.interval.reason(),
        Some(NotComputable::SingleCustomerLevel)
    );
    assert_eq!(
        r[0].welch.reason(),
        Some(NotComputable::SingleCustomerLevel)
    );
    assert!(r[0].anova.computed().is_some());
    // A constant measure whose grand mean rounds away from the level means.
    let flat: Vec<Behaviour> = rows
        .iter()
        .map(|b| Behaviour {
            clv: 0.1,
            ..b.clone()
        })
        .collect();
    let regions: Vec<_> = REGION.iter().map(|&s| label(s)).collect();
    let p = one_attribute(&regions, &flat);
    let r = categorical_rows(&p, "a");
    assert_eq!(r[3].anova.reason(), Some(NotComputable::ConstantMeasure));
    assert_eq!(r[3].welch.reason(), Some(NotComputable::ConstantMeasure));
    assert_eq!(
        r[3].kruskal_wallis.reason(),
        Some(NotComputable::ConstantMeasure)
    );
    // Levels constant within, different between: F would be infinite.
    let by_level: Vec<Behaviour> = rows
        .iter()
        .zip(REGION)
        .map(|(b, r)| Behaviour {
            clv: if r == "east" { 10.0 } else { 20.0 },
            ..b.clone()
        })
        .collect();
    let labels: Vec<_> = REGION.iter().map(|&s| label(s)).collect();
    let p = one_attribute(&labels, &by_level);
    let r = categorical_rows(&p, "a");
    assert_eq!(
        r[3].anova.reason(),
        Some(NotComputable::NoWithinLevelVariation)
    );
    assert!(r[3].kruskal_wallis.computed().is_some());
    // A perfect correlation: r = 1, p = 0, no interval.
    let perfect: Vec<_> = P_ALIVE.iter().map(|&p| number(p * 10.0)).collect();
    let p = one_attribute(&perfect, &rows);
    let c = numeric_rows(&p, "a")[2]
        .pearson
        .computed()
        .cloned()
        .unwrap();
    assert_eq!((c.r, c.p_value), (1.0, 0.0));
    assert_eq!(c.interval.reason(), Some(NotComputable::PerfectCorrelation));
    // Huge values: no overflow to NaN.
    let huge: Vec<_> = AGE.iter().map(|&a| number(a * 1e300)).collect();
    let p = one_attribute(&huge, &rows);
    close(
        numeric_rows(&p, "a")[0].pearson.computed().unwrap().r,
        PEARSON[0].1,
        1e-9,
    );
    #[cfg(feature = "serde")]
    {
        // Every number is finite: serde_json writes a non-finite one as null, and the only
        // nulls are absent standard deviations and segments.
        let json = serde_json::to_value(&p).unwrap().to_string();
        assert!(
            !json.contains("null")
                || json.matches("null").count() == json.matches("\"by_segment\":null").count()
        );
    }
}

#[test]
fn no_value_of_an_attribute_is_not_computable() {
    let mut t = table();
    t.insert(
        CustomerId::from(777u64),
        "income",
        AttributeValue::number(1.0).unwrap(),
    )
    .unwrap();
    let p = AttributeProfile::compute(&t, &behaviour(), None, &ProfileOptions::default()).unwrap();
    let income = p
        .attributes
        .iter()
        .find(|a| a.attribute == "income")
        .unwrap();
    assert_eq!(income.with_value, 0);
    assert_eq!(income.missing, 12);
    assert_eq!(income.measures.reason(), Some(NotComputable::NoValues));
}

#[test]
fn bad_input_is_a_typed_error() {
    let t = table();
    let rows = behaviour();
    let options = ProfileOptions::default();
    assert_eq!(
        AttributeProfile::compute(&t, &[], None, &options),
        Err(ProfileError::NoCustomers)
    );
    assert_eq!(
        AttributeProfile::compute(&AttributeTable::new(), &rows, None, &options),
        Err(ProfileError::NoAttributes)
    );
    for level in [0.0, 1.0, f64::NAN, -0.5] {
        assert!(matches!(
            AttributeProfile::compute(&t, &rows, None, &ProfileOptions::new().level(level)),
            Err(ProfileError::InvalidParameter(_))
        ));
    }
    let mut twice = rows.clone();
    twice.push(rows[3].clone());
    assert_eq!(
        AttributeProfile::compute(&t, &twice, None, &options),
        Err(ProfileError::DuplicateCustomer { customer: id(3) })
    );
    let mut bad = rows.clone();
    bad[2].clv = f64::INFINITY;
    assert!(matches!(
        AttributeProfile::compute(&t, &bad, None, &options),
        Err(ProfileError::InvalidBehaviour { measure: "clv", .. })
    ));
    assert!(Behaviour::new(id(0), 1, Some(-1.0), 0.5, 1.0).is_err());
    assert!(Behaviour::new(id(0), 1, Some(f64::NAN), 0.5, 1.0).is_err());
    assert!(Behaviour::new(id(0), 1, None, f64::NAN, 1.0).is_err());
}

#[test]
fn a_level_changes_the_intervals() {
    let p = AttributeProfile::compute(
        &table(),
        &behaviour(),
        None,
        &ProfileOptions::new().level(0.9),
    )
    .unwrap();
    let c = numeric_rows(&p, "age")[0]
        .pearson
        .computed()
        .cloned()
        .unwrap();
    let i = c.interval.computed().unwrap();
    assert_eq!(i.level, 0.9);
    // Narrower than the 95% interval.
    assert!(i.lower > PEARSON[0].3 && i.upper < PEARSON[0].4);
}
