use super::*;
use crate::models::btyd::Prepared;

fn small() -> Patterns {
    Patterns::new(
        TimeUnit::WEEKS,
        [
            (0, 0.0, 38.0, 60.0),
            (1, 20.0, 38.0, 20.0),
            (3, 30.0, 36.0, 10.0),
            (6, 34.0, 37.0, 6.0),
            (2, 5.0, 35.0, 8.0),
            (1, 2.0, 37.0, 10.0),
            (4, 12.0, 38.0, 4.0),
            (2, 10.0, 30.0, 6.0),
        ],
    )
    .unwrap()
}

const SOME: GGompertzNbdParameters = GGompertzNbdParameters {
    r: 0.55,
    alpha: 10.5,
    b: 0.05,
    s: 0.5,
    beta: 1.5,
};

fn weeks(p: GGompertzNbdParameters) -> GGompertzNbd {
    GGompertzNbd::new(p, TimeUnit::WEEKS).unwrap()
}

fn fd_check(data: &Prepared, theta: [f64; 5], h: f64, tol: f64) -> Result<(), String> {
    let (ll, g) = ggompertz_ll(data, &theta);
    if !ll.is_finite() {
        return Err(format!("ll {ll} at {theta:?}"));
    }
    for k in 0..5 {
        let (mut up, mut down) = (theta, theta);
        up[k] += h;
        down[k] -= h;
        let fd = (ggompertz_ll(data, &up).0 - ggompertz_ll(data, &down).0) / (2.0 * h);
        if (fd - g[k]).abs() > tol * (1.0 + fd.abs() + ll.abs() * 1e-3) {
            return Err(format!("theta {theta:?} k {k}: analytic {} fd {fd}", g[k]));
        }
    }
    Ok(())
}

#[test]
fn gradient_matches_finite_differences() {
    let p = Patterns::new(
        TimeUnit::WEEKS,
        [
            (0, 0.0, 38.0, 3.0),
            (2, 30.4, 38.9, 1.0),
            (7, 20.0, 33.0, 2.0),
            (29, 35.0, 35.5, 1.0),
            (3, 10.0, 10.0, 1.0),
            (400, 12.0, 39.0, 1.0),
        ],
    )
    .unwrap();
    for scale in [false, true] {
        let data = Prepared::new(&p, scale);
        for theta in [
            [-0.6, 2.3, -3.0, -0.5, 0.4],
            [0.2, -0.5, 0.3, 0.3, 0.1],
            [-1.0, 1.0, -8.0, 1.0, -6.0],
            [-0.6, -3.0, 1.5, -1.0, 3.0],
            [1.0, 0.5, -1.0, 4.0, 5.0],
        ] {
            fd_check(&data, theta, 1e-6, 1e-6).unwrap();
        }
    }
}

proptest::proptest! {
    #![proptest_config(crate::test_support::proptest_config(48))]
    /// The analytic gradient (the quadrature's integrals of the integrand's derivatives)
    /// against central differences, at random parameters and customers.
    #[test]
    fn gradient_matches_finite_differences_anywhere(
        theta in proptest::array::uniform5(-3.0f64..3.0),
        rows in proptest::collection::vec((0u32..60, 0.0f64..1.0, 0.5f64..60.0), 1..10),
    ) {
        let p = Patterns::new(
            TimeUnit::WEEKS,
            rows.iter().map(|&(x, u, age)| {
                let t_x = if x == 0 { 0.0 } else { u * age };
                (x, t_x, age, 1.0)
            }),
        )
        .unwrap();
        let data = Prepared::new(&p, true);
        let checked = fd_check(&data, theta, 1e-5, 1e-5);
        proptest::prop_assert!(checked.is_ok(), "{:?}", checked);
    }
}

#[test]
fn the_likelihood_is_the_sum_of_the_customers() {
    let m = weeks(SOME);
    let p = small();
    let total = m.total_log_likelihood(&p).unwrap();
    let sum: f64 = p
        .iter()
        .map(|q| q.weight() * m.log_likelihood(&History::from(q)).unwrap())
        .sum();
    assert!((total - sum).abs() < 1e-9 * sum.abs(), "{total} vs {sum}");
    // On the rescaled axis, less Σ w x ln(scale), the same.
    let data = Prepared::new(&p, true);
    let s = data.scale;
    let theta = [
        SOME.r.ln(),
        (SOME.alpha / s).ln(),
        (SOME.b * s).ln(),
        SOME.s.ln(),
        SOME.beta.ln(),
    ];
    let rescaled = ggompertz_ll(&data, &theta).0 - data.weighted_x * s.ln();
    assert!(
        (rescaled - total).abs() < 1e-9 * total.abs(),
        "{rescaled} vs {total}"
    );
}

// Golden values from scripts/ggompertz_golden.py (mpmath, 40 digits, the likelihood's integral
// in the original variable τ by tanh-sinh quadrature, the predictions straight from their
// definitions; the script also checks that its purchase probabilities sum to 1 with the
// expected purchases as their mean). Output pasted from scripts/ggompertz_golden.txt.
/// SOME: (x, t_x, T) and ll, P(alive now), P(alive in 10), E[X(39)], P(0; 39), P(1; 39),
/// P(3; 39), DERT at 0.01.
#[allow(clippy::excessive_precision)]
const GOLDEN_SOME: [((u32, f64, f64), [f64; 8]); 6] = [
    (
        (0, 0.0, 38.0),
        [
            -0.62192165610919774,
            0.36677397709441498,
            0.28963619033850339,
            0.10545649780652802,
            0.92916307409965192,
            0.048907784642102466,
            0.004836613004850625,
            0.12136759175538831,
        ],
    ),
    (
        (2, 30.43, 38.86),
        [
            -9.3708186161156301,
            0.7853105386800859,
            0.61980604271129198,
            1.0279053274270602,
            0.54226435411203891,
            0.19668336687566366,
            0.066427308319670694,
            1.1828235127342144,
        ],
    ),
    (
        (26, 30.86, 31.0),
        [
            -38.932522250918815,
            0.99669635994161734,
            0.7913076497196418,
            16.279020812510278,
            0.038795421614851518,
            0.034401583193580669,
            0.032259484186496542,
            18.761851909549284,
        ],
    ),
    (
        (7, 5.0, 39.0),
        [
            -15.506888284695683,
            0.0018098203565322879,
            0.0014282744014587132,
            0.0069931847135504873,
            0.99846628183093471,
            0.00024821983260552416,
            0.00021093961981489166,
            0.0080469609119371575,
        ],
    ),
    (
        (1, 20.0, 20.0),
        [
            -4.9837482266114956,
            1.0,
            0.80375507412076767,
            1.3184148306219634,
            0.44570469769078561,
            0.2354200132166971,
            0.077220892225244114,
            1.5247462797196593,
        ],
    ),
    (
        (3, 10.0, 10.5),
        [
            -8.9175710073439055,
            0.99001128930574399,
            0.80816779108147061,
            4.4327938665819042,
            0.15235275319084309,
            0.1302190857234939,
            0.1062152359003743,
            5.1510038203861942,
        ],
    ),
];
/// SOME, a new customer: E[X(52)], P(0; 52), P(2; 52).
#[allow(clippy::excessive_precision)]
const GOLDEN_SOME_NEW: [f64; 3] = [1.694564100023236, 0.51483812472150448, 0.094689170960306167];
/// STEEP: (x, t_x, T) and ll, P(alive now), P(alive in 10), E[X(39)], P(0; 39), P(1; 39),
/// P(3; 39), DERT at 0.01.
#[allow(clippy::excessive_precision)]
const GOLDEN_STEEP: [((u32, f64, f64), [f64; 8]); 6] = [
    (
        (0, 0.0, 38.0),
        [
            -2.3074398378037114,
            0.10947459146596091,
            0.040602512571888263,
            0.029966744445487081,
            0.97853285615033393,
            0.015753691224320862,
            0.0011669195759822447,
            0.027803086201551365,
        ],
    ),
    (
        (2, 30.43, 38.86),
        [
            -10.304555031110771,
            0.44441145688214242,
            0.16069146592729505,
            0.31176089897217883,
            0.82279829588676653,
            0.1029601372117669,
            0.017764130219763405,
            0.28948994387810625,
        ],
    ),
    (
        (26, 30.86, 31.0),
        [
            -33.459004229568572,
            0.99092664284024551,
            0.45671948342489807,
            8.8237330856732687,
            0.086507899153887909,
            0.074906389103677415,
            0.068492946736800759,
            8.1233212909447587,
        ],
    ),
    (
        (7, 5.0, 39.0),
        [
            -11.030906330404603,
            2.1438741265879258e-5,
            7.7202130057350561e-6,
            3.829403490325881e-5,
            0.99998609090674223,
            4.9991477604611287e-6,
            2.0734801327969887e-6,
            3.5563137932049266e-5,
        ],
    ),
    (
        (1, 20.0, 20.0),
        [
            -5.7581562860189373,
            1.0,
            0.6365136616110338,
            1.4655892203964374,
            0.41181910095059497,
            0.24121572146115836,
            0.08222391571306492,
            1.3304190573809663,
        ],
    ),
    (
        (3, 10.0, 10.5),
        [
            -7.5972752246212866,
            0.99079978893334223,
            0.771599793860247,
            6.2317694786918798,
            0.098202338563449072,
            0.096536782847357458,
            0.093073084630646189,
            5.615095572119695,
        ],
    ),
];
/// STEEP, a new customer: E[X(52)], P(0; 52), P(2; 52).
#[allow(clippy::excessive_precision)]
const GOLDEN_STEEP_NEW: [f64; 3] = [
    11.162043714547284,
    0.097603614785876986,
    0.074707777828925188,
];

const STEEP: GGompertzNbdParameters = GGompertzNbdParameters {
    r: 1.2,
    alpha: 3.0,
    b: 0.08,
    s: 2.0,
    beta: 20.0,
};

#[test]
fn predictions_match_the_high_precision_evaluation() {
    let close = |got: f64, want: f64, what: &str, h: &History| {
        assert!(
            (got - want).abs() <= 1e-9 * want.abs() + 1e-15,
            "{what} of {h:?}: {got:e} vs {want:e}"
        );
    };
    for (params, golden, new) in [
        (SOME, &GOLDEN_SOME, GOLDEN_SOME_NEW),
        (STEEP, &GOLDEN_STEEP, GOLDEN_STEEP_NEW),
    ] {
        let m = weeks(params);
        for &((x, t_x, age), want) in golden {
            let h = History::new(x, t_x, age);
            close(m.log_likelihood(&h).unwrap(), want[0], "ll", &h);
            close(m.p_alive(&h, 0.0).unwrap(), want[1], "p_alive", &h);
            close(m.p_alive(&h, 10.0).unwrap(), want[2], "p_alive(10)", &h);
            close(m.expected_purchases(&h, 39.0).unwrap(), want[3], "E[X]", &h);
            for (k, n) in [0, 1, 3].into_iter().enumerate() {
                let p = m.purchase_probability(&h, n, 39.0).unwrap();
                close(p, want[4 + k], "P(n)", &h);
            }
            close(m.dert(&h, 0.01).unwrap(), want[7], "dert", &h);
        }
        let h = History::new_customer();
        close(
            m.expected_purchases_new(52.0).unwrap(),
            new[0],
            "E[X] new",
            &h,
        );
        close(
            m.purchase_probability_new(0, 52.0).unwrap(),
            new[1],
            "P(0) new",
            &h,
        );
        close(
            m.purchase_probability_new(2, 52.0).unwrap(),
            new[2],
            "P(2) new",
            &h,
        );
    }
}

/// The two derivations agree: the probabilities of n purchases (from the death time's density)
/// add up to 1 and have the expected purchases (from the survival) as their mean.
#[test]
fn purchase_probabilities_sum_to_one_with_the_expected_mean() {
    for params in [SOME, STEEP] {
        let m = weeks(params);
        for h in [
            History::new(0, 0.0, 38.0),
            History::new(5, 30.0, 38.0),
            History::new(26, 30.86, 31.0),
        ] {
            let (mut total, mut mean) = (0.0, 0.0);
            for n in 0..400u32 {
                let p = m.purchase_probability(&h, n, 52.0).unwrap();
                total += p;
                mean += f64::from(n) * p;
            }
            let e = m.expected_purchases(&h, 52.0).unwrap();
            assert!((total - 1.0).abs() < 1e-9, "{h:?}: {total}");
            assert!((mean - e).abs() < 1e-8 * e, "{h:?}: {mean} vs {e}");
        }
    }
}

/// As b → 0 with β/b fixed, the frailty η times b is gamma(s, β/b), an exponential lifetime's
/// rate: the model becomes Pareto/NBD, with an error that shrinks in proportion to b.
#[test]
fn without_ageing_the_model_is_pareto_nbd() {
    use crate::models::pareto_nbd::{ParetoNbd, ParetoNbdParameters};
    let pareto = ParetoNbd::new(
        ParetoNbdParameters {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        },
        TimeUnit::WEEKS,
    )
    .unwrap();
    let near = |b: f64| {
        weeks(GGompertzNbdParameters {
            r: 0.553,
            alpha: 10.578,
            b,
            s: 0.606,
            beta: 11.669 * b,
        })
    };
    for h in [
        History::new(0, 0.0, 38.0),
        History::new(2, 30.43, 38.86),
        History::new(26, 30.86, 31.0),
        History::new(7, 5.0, 39.0),
    ] {
        let gap = |b: f64| {
            let m = near(b);
            let values = |m: &dyn TransactionModel| {
                [
                    m.log_likelihood(&h).unwrap(),
                    m.p_alive(&h, 10.0).unwrap(),
                    m.expected_purchases(&h, 39.0).unwrap(),
                    m.purchase_probability(&h, 1, 39.0).unwrap(),
                    m.dert(&h, 0.01).unwrap(),
                ]
            };
            let (g, p) = (values(&m), values(&pareto));
            g.iter()
                .zip(p)
                .map(|(g, p)| ((g - p) / p).abs())
                .fold(0.0, f64::max)
        };
        let (coarse, fine) = (gap(1e-4), gap(1e-6));
        assert!(coarse < 1e-2, "{h:?}: {coarse}");
        assert!(fine < 1e-4, "{h:?}: {fine}");
        // First order in b: a hundred times smaller b, about a hundred times closer.
        assert!(fine < coarse / 30.0, "{h:?}: {coarse} then {fine}");
    }
}

#[test]
fn fits_and_models_check_their_parameters() {
    let bad_start = GGompertzNbdParams::new().start(GGompertzNbdParameters { b: -1.0, ..SOME });
    let Err(FitError::InvalidParameter(e)) = bad_start.check() else {
        panic!("a negative starting value passed the check");
    };
    assert_eq!((e.name(), e.number()), ("b", Some(-1.0)));
    assert!(matches!(
        bad_start.fit(&small()),
        Err(FitError::InvalidParameter(_))
    ));
    assert!(matches!(
        GGompertzNbdParams::new().penalty(f64::NAN).check(),
        Err(FitError::InvalidParameter(e)) if e.name() == "penalty"
    ));
    assert!(GGompertzNbdParams::new().start(SOME).check().is_ok());
    for (name, p) in [
        ("r", GGompertzNbdParameters { r: 0.0, ..SOME }),
        (
            "alpha",
            GGompertzNbdParameters {
                alpha: -1.0,
                ..SOME
            },
        ),
        (
            "b",
            GGompertzNbdParameters {
                b: f64::INFINITY,
                ..SOME
            },
        ),
        (
            "s",
            GGompertzNbdParameters {
                s: f64::NAN,
                ..SOME
            },
        ),
        ("beta", GGompertzNbdParameters { beta: 0.0, ..SOME }),
    ] {
        assert_eq!(
            GGompertzNbd::new(p, TimeUnit::WEEKS).unwrap_err().name(),
            name
        );
    }
    let m = weeks(SOME);
    assert_eq!(m.name(), "ggom-nbd");
    assert_eq!(m.parameter_count(), 5);
    assert_eq!(
        (m.covariance(), m.report(), m.standard_errors()),
        (None, None, None)
    );
    let names: Vec<String> = m.named_parameters().into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["r", "alpha", "b", "s", "beta"]);
    // Reparameterized at other values, a model of the same kind.
    let other = m
        .reparameterized(&[1.0, 2.0, 0.1, 3.0, 4.0])
        .unwrap()
        .unwrap();
    assert_eq!(other.named_parameters()[2], ("b".to_string(), 0.1));
    assert!(m.reparameterized(&[1.0, 2.0]).unwrap().is_err());
    // Invalid histories and horizons are typed errors.
    let h = History::new(2, 30.0, 38.0);
    assert!(matches!(
        m.p_alive(&History::new(2, 40.0, 38.0), 0.0),
        Err(PredictError::InvalidInput { .. })
    ));
    assert!(matches!(
        m.expected_purchases(&h, -1.0),
        Err(PredictError::InvalidInput { .. })
    ));
    assert!(matches!(
        m.dert(&h, 0.0),
        Err(PredictError::InvalidInput { .. })
    ));
}

/// The likelihood never returns NaN, and a parameter vector too short is infeasible.
#[test]
fn the_likelihood_is_infeasible_rather_than_nan() {
    let data = Prepared::new(&small(), true);
    assert_eq!(ggompertz_ll(&data, &[0.0; 4]).0, f64::NEG_INFINITY);
    for theta in [
        [800.0, 0.0, 0.0, 0.0, 0.0],
        [0.0, -800.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 40.0, 0.0, 0.0],
        [0.0, 0.0, -40.0, 40.0, -40.0],
        [40.0, 40.0, 40.0, 40.0, 40.0],
        [-40.0, -40.0, -40.0, -40.0, -40.0],
        [f64::NAN, 0.0, 0.0, 0.0, 0.0],
    ] {
        let (ll, g) = ggompertz_ll(&data, &theta);
        assert!(!ll.is_nan() && ll < f64::INFINITY, "{theta:?}: {ll}");
        assert!(g.iter().all(|v| v.is_finite()), "{theta:?}: {g:?}");
    }
}
