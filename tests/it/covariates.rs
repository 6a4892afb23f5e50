//! Covariate models end to end: CLVTools' apparel data (when ../shared is there), simulated
//! bases with known effects, and the edge cases.

use std::path::Path;

use customer_assets::covariates::DesignMatrix;
use customer_assets::fit::Fit;
use customer_assets::models::covariates::{CovariateData, CovariateFamily, CovariateParams};
use customer_assets::{
    CustomerId, Grain, ReturnPolicy, Summaries, SummaryAccumulator, SummaryOptions, TimeUnit,
    Transaction,
};

use crate::summarize::date;

/// CLVTools' apparel set-up: weekly unit, 104-week calibration from 2005-01-02 (to 2006-12-31).
pub(crate) fn apparel(dir: &Path) -> (Summaries, DesignMatrix) {
    let mut reader = csv::Reader::from_path(dir.join("apparelTrans.csv")).unwrap();
    let mut acc = SummaryAccumulator::new(Grain::Day, ReturnPolicy::NetAgainstPurchase);
    for r in reader.records() {
        let r = r.unwrap();
        let t = Transaction::purchase(
            CustomerId::new(&r[0]).unwrap(),
            date(&r[1]),
            Transaction::parse_amount(&r[2], "row").unwrap(),
        )
        .unwrap();
        acc.push(&t);
    }
    let summaries = acc
        .finish(&SummaryOptions::new(date("2006-12-31"), TimeUnit::WEEKS))
        .unwrap();
    let mut reader = csv::Reader::from_path(dir.join("apparelStaticCov.csv")).unwrap();
    let (mut ids, mut rows) = (Vec::new(), Vec::new());
    for r in reader.records() {
        let r = r.unwrap();
        ids.push(CustomerId::new(&r[0]).unwrap());
        rows.push(vec![r[1].parse().unwrap(), r[2].parse().unwrap()]);
    }
    let design = DesignMatrix::new(vec!["Gender".into(), "Channel".into()], ids, rows).unwrap();
    (summaries, design)
}

/// The apparel estimates of Pareto/NBD with Gender and Channel on both processes: the maximum
/// that `scripts/covariate_check.py` finds independently (numpy/scipy likelihood written from
/// Fader & Hardie, BFGS then Nelder-Mead from three starts, all at ln L = −5821.062686; mpmath
/// at 30 digits gives −5821.06268586887 at its estimate).
const APPAREL_PARETO: [(&str, f64); 8] = [
    ("r", 1.838967),
    ("alpha", 92.962974),
    ("s", 0.591304),
    ("beta", 49.513075),
    ("purchase.Gender", 0.286135),
    ("purchase.Channel", 0.623930),
    ("dropout.Gender", -0.641868),
    ("dropout.Channel", 0.789759),
];

#[test]
fn apparel_pareto_nbd_reaches_the_maximum_a_second_optimiser_finds() {
    let Some(dir) = crate::clvtools_dir(
        "covariates::apparel_pareto_nbd_reaches_the_maximum_a_second_optimiser_finds",
    ) else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = CovariateData::from_summaries(&summaries, &design).unwrap();
    assert_eq!(data.len(), 600);
    let model = CovariateParams::new(CovariateFamily::ParetoNbd)
        .fit(&data)
        .unwrap();
    let ll = model.report().unwrap().log_likelihood;
    assert!((ll - (-5821.062686)).abs() < 1e-5, "{ll}");
    for ((name, value), (want_name, want)) in model
        .parameter_names()
        .iter()
        .zip(model.parameter_values())
        .zip(APPAREL_PARETO)
    {
        assert_eq!(name, want_name);
        // The second optimiser stops within about 1e-5 relative of the maximum (its flat
        // direction is s, β).
        assert!(
            (value - want).abs() <= 1e-4 * want.abs().max(0.1),
            "{name}: {value} vs {want}"
        );
    }
    // The likelihood at the estimate, summed customer by customer through the individual
    // models, is the fit's.
    let again = model.total_log_likelihood(&data).unwrap();
    assert!((again - ll).abs() < 1e-6, "{again} vs {ll}");
    let se = model.standard_errors().unwrap();
    assert!(se.iter().all(|s| s.is_finite() && *s > 0.0), "{se:?}");
    // Both covariates matter: against the model without any (6 fewer... 4 fewer parameters).
    let plain = customer_assets::models::ParetoNbdParams::new()
        .fit(&summaries.patterns())
        .unwrap();
    let lr = model.likelihood_ratio_test(&plain).unwrap();
    assert_eq!(lr.degrees_of_freedom, 4);
    assert!(lr.p_value < 1e-6, "{lr:?}");
    assert!(model.aic().unwrap() < 2.0 * 4.0 - 2.0 * plain.report().unwrap().log_likelihood);
}

#[test]
fn apparel_bg_nbd_with_channel_on_dropout_heads_for_a_boundary() {
    let Some(dir) = crate::clvtools_dir(
        "covariates::apparel_bg_nbd_with_channel_on_dropout_heads_for_a_boundary",
    ) else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = CovariateData::from_summaries(&summaries, &design).unwrap();
    // The second optimiser agrees: its BG/NBD estimate has a, b ≈ 3.6e5, 2.6e6 and a Channel
    // coefficient of −12 on the dropout process (ln L = −5839.862), still climbing.
    let error = CovariateParams::new(CovariateFamily::BgNbd)
        .fit(&data)
        .unwrap_err();
    assert_eq!(
        error.boundary_limit(),
        Some(customer_assets::fit::Limit::NoDropoutHeterogeneity),
        "{error}"
    );
    let report = error.boundary().unwrap().report.clone().unwrap();
    assert!(
        report.log_likelihood > -5839.87 && report.log_likelihood < -5839.85,
        "{report:?}"
    );
    // An L2 penalty on the dropout coefficients keeps the estimate inside.
    let penalised = CovariateParams::new(CovariateFamily::BgNbd)
        .dropout_penalty(1.0)
        .fit(&data)
        .unwrap();
    assert!(penalised.report().unwrap().converged);
    // With Gender alone on dropout there is a maximum.
    let model = CovariateParams::new(CovariateFamily::BgNbd)
        .dropout_covariates(&["Gender"])
        .fit(&data)
        .unwrap();
    let ll = model.report().unwrap().log_likelihood;
    for ((n, v), s) in model
        .parameter_names()
        .iter()
        .zip(model.parameter_values())
        .zip(model.standard_errors().unwrap())
    {
        eprintln!("bg {n} {v:.6} ({s:.6})");
    }
    eprintln!(
        "bg ll {ll:.6}; penalised {:?}",
        penalised.parameter_values()
    );
}

/// A row of CDNOW's summary: (id, x, t_x, T, m̄).
type Row = (CustomerId, u32, f64, f64, f64);

/// CDNOW's summary (2,357 customers, weeks).
fn cdnow() -> Vec<Row> {
    let text = std::fs::read_to_string(crate::data_file("cdnow_summary.csv")).unwrap();
    crate::csv_rows(&text)
        .into_iter()
        .skip(1)
        .map(|r| {
            (
                CustomerId::new(&r[0]).unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn without_covariates_the_spend_fit_is_gamma_gamma() {
    use customer_assets::models::covariates::{SpendCovariateData, SpendCovariateParams};
    use customer_assets::models::{GammaGammaParams, SpendData};
    let rows = cdnow();
    let ids: Vec<CustomerId> = rows.iter().map(|r| r.0.clone()).collect();
    let design = DesignMatrix::new(vec![], ids.clone(), vec![vec![]; ids.len()]).unwrap();
    let data =
        SpendCovariateData::new(rows.iter().map(|r| (r.0.clone(), r.1, r.4)), &design).unwrap();
    assert_eq!(data.left_out().len(), 1411);
    let with = SpendCovariateParams::new().fit(&data).unwrap();
    let plain = GammaGammaParams::new()
        .fit(&SpendData::new(rows.iter().filter(|r| r.1 > 0).map(|r| (r.1, r.4, 1.0))).unwrap())
        .unwrap();
    let (a, b) = (with.base_parameters(), plain.parameters());
    for (u, v) in [(a.p, b.p), (a.q, b.q), (a.gamma, b.gamma)] {
        assert!((u - v).abs() <= 1e-5 * v, "{a:?} vs {b:?}");
    }
    let (l1, l2) = (
        with.report().unwrap().log_likelihood,
        plain.report().unwrap().log_likelihood,
    );
    assert!((l1 - l2).abs() < 1e-6, "{l1} vs {l2}");
}

#[test]
fn apparel_spend_by_gender_and_channel() {
    use customer_assets::models::covariates::{SpendCovariateData, SpendCovariateParams};
    let Some(dir) = crate::clvtools_dir("covariates::apparel_spend_by_gender_and_channel") else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = SpendCovariateData::from_summaries(&summaries, &design).unwrap();
    let model = SpendCovariateParams::new().fit(&data).unwrap();
    let se = model.standard_errors().unwrap();
    eprintln!(
        "spend {:?} {:?} se {se:?} ll {}",
        model.base_parameters(),
        model.coefficients().collect::<Vec<_>>(),
        model.report().unwrap().log_likelihood
    );
}

#[test]
fn apparel_valuation_with_a_covariate_model_values_each_customer_with_their_own_parameters() {
    use customer_assets::models::GammaGammaParams;
    use customer_assets::valuation::by_covariate::CoefficientEffect;
    use customer_assets::valuation::{DiscountRate, IntervalOptions};
    use customer_assets::{History, TransactionModel, Valuation};
    let Some(dir) = crate::clvtools_dir("covariates::apparel_valuation_with_a_covariate_model")
    else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = CovariateData::from_summaries(&summaries, &design).unwrap();
    let model = CovariateParams::new(CovariateFamily::ParetoNbd)
        .fit(&data)
        .unwrap();
    let bound = model.clone().bind(design.clone()).unwrap();
    let value = |t: customer_assets::models::covariates::BoundCovariateModel, extras: bool| {
        let mut builder = Valuation::builder()
            .summaries(summaries.clone())
            .unit(TimeUnit::WEEKS)
            .transaction_model(t)
            .fit_spend_model(GammaGammaParams::new())
            .margin(0.3)
            .discount(DiscountRate::continuous(0.1 / 52.0, TimeUnit::WEEKS).unwrap())
            .horizon(52.0);
        if extras {
            builder = builder
                .intervals(IntervalOptions::delta(0.95))
                .covariates(&design);
        }
        builder.build().unwrap().run().unwrap()
    };
    let report = value(bound.clone(), true);
    assert_eq!(report.customers.len(), 600);
    for c in &report.customers {
        let s = summaries.get(&c.id).unwrap();
        let h = History::new(s.frequency(), s.recency(), s.age());
        let own = bound.customer(&c.id).unwrap().p_alive(&h, 0.0).unwrap();
        assert!(
            (own - c.p_alive).abs() < 1e-12,
            "{}: {own} vs {}",
            c.id,
            c.p_alive
        );
    }
    // The delta-method interval of equity covers the coefficients' uncertainty too.
    let equity = report.intervals.as_ref().unwrap().equity;
    assert!(
        equity.lower < report.equity && report.equity < equity.upper,
        "{equity:?}"
    );
    let section = report.covariates.as_ref().unwrap();
    assert!(section.notes.is_empty(), "{:?}", section.notes);
    assert_eq!(section.by_column.len(), 2);
    for g in &section.by_column {
        let total: rust_decimal::Decimal = g.groups.iter().map(|x| x.equity).sum();
        assert_eq!(total, report.equity, "{}", g.column);
        assert_eq!(g.groups.iter().map(|x| x.customers).sum::<usize>(), 600);
    }
    assert_eq!(section.effects.len(), 4);
    for (effect, c) in section.effects.iter().zip(model.coefficients()) {
        assert_eq!(effect.coefficient, c.name());
        // More purchases raise value; a higher dropout rate lowers it.
        let sign = if c.name().starts_with("purchase.") {
            1.0
        } else {
            -1.0
        };
        let moved: f64 = effect.moved.try_into().unwrap();
        assert!(sign * c.value * moved > 0.0, "{effect:?} with {c:?}");
        // The same as valuing with the coefficient at 0 by hand.
        let without = value(bound.without(&effect.coefficient).unwrap(), false);
        assert_eq!(
            *effect,
            CoefficientEffect::new(&effect.coefficient, &report, &without)
        );
    }
}

/// CDNOW's customers with a covariate that cannot matter (the parity of the id) and one that
/// must (whether the customer is among the heavier buyers of their id's block of ten).
fn cdnow_with_covariates() -> (CovariateData, Vec<Row>) {
    let rows = cdnow();
    let ids: Vec<CustomerId> = rows.iter().map(|r| r.0.clone()).collect();
    let design = DesignMatrix::new(
        vec!["odd".into()],
        ids.clone(),
        ids.iter()
            .map(|id| vec![(id.as_u64().unwrap() % 2) as f64])
            .collect(),
    )
    .unwrap();
    let data = CovariateData::new(
        TimeUnit::WEEKS,
        rows.iter()
            .map(|r| (r.0.clone(), customer_assets::History::new(r.1, r.2, r.3))),
        &design,
    )
    .unwrap();
    (data, rows)
}

#[test]
fn cdnow_a_covariate_without_effect_is_found_without_effect() {
    let (data, rows) = cdnow_with_covariates();
    let patterns =
        customer_assets::Patterns::new(TimeUnit::WEEKS, rows.iter().map(|r| (r.1, r.2, r.3, 1.0)))
            .unwrap();
    for family in CovariateFamily::ALL {
        let fitted = CovariateParams::new(family).fit(&data);
        if family == CovariateFamily::GGompertzNbd {
            // CDNOW's lifetimes do not age: GGompertz/NBD ends at its Pareto/NBD limit, with
            // covariates as without.
            let error = fitted.unwrap_err();
            assert_eq!(
                error.boundary_limit(),
                Some(customer_assets::fit::Limit::NoAgeing),
                "{error}"
            );
            continue;
        }
        let model = fitted.unwrap();
        let plain: Box<dyn customer_assets::TransactionModel> = match family {
            CovariateFamily::ParetoNbd => Box::new(
                customer_assets::models::ParetoNbdParams::new()
                    .fit(&patterns)
                    .unwrap(),
            ),
            CovariateFamily::BgNbd => Box::new(
                customer_assets::models::BgNbdParams::new()
                    .fit(&patterns)
                    .unwrap(),
            ),
            _ => Box::new(
                customer_assets::models::MbgNbdParams::new()
                    .fit(&patterns)
                    .unwrap(),
            ),
        };
        let lr = model.likelihood_ratio_test(plain.as_ref()).unwrap();
        assert_eq!(lr.degrees_of_freedom, 2);
        // The parity of an id says nothing of a customer: no coefficient is significant, and
        // the likelihood barely moves.
        assert!(lr.p_value > 0.05, "{family}: {lr:?}");
        let se = model.standard_errors().unwrap();
        for (c, s) in model.coefficients().iter().zip(&se[4..]) {
            assert!(c.value.abs() < 2.0 * s, "{family}: {c:?} (se {s})");
        }
        assert!(
            model.aic().unwrap() > 2.0 * 4.0 - 2.0 * plain.fit_report().unwrap().log_likelihood
        );
        assert!(model.bic().unwrap() > model.aic().unwrap());
    }
}

#[test]
fn cdnow_constrained_and_single_process_fits_nest() {
    let (data, _) = cdnow_with_covariates();
    let full = CovariateParams::new(CovariateFamily::ParetoNbd)
        .fit(&data)
        .unwrap();
    let constrained = CovariateParams::new(CovariateFamily::ParetoNbd)
        .constrain(&["odd"])
        .fit(&data)
        .unwrap();
    assert_eq!(constrained.coefficients().len(), 1);
    assert_eq!(constrained.coefficients()[0].name(), "both.odd");
    let lr = full.likelihood_ratio_test_against(&constrained).unwrap();
    assert_eq!(lr.degrees_of_freedom, 1);
    let purchase_only = CovariateParams::new(CovariateFamily::ParetoNbd)
        .dropout_covariates::<&str>(&[])
        .fit(&data)
        .unwrap();
    assert_eq!(
        purchase_only.parameter_names(),
        ["r", "alpha", "s", "beta", "purchase.odd"]
    );
    assert!(
        purchase_only.report().unwrap().log_likelihood
            <= full.report().unwrap().log_likelihood + 1e-6
    );
    // A constraint on a column outside a process is refused, naming it.
    let error = CovariateParams::new(CovariateFamily::ParetoNbd)
        .dropout_covariates::<&str>(&[])
        .constrain(&["odd"])
        .fit(&data)
        .unwrap_err();
    assert!(error.to_string().contains("odd"), "{error}");
    // A penalty shrinks the coefficients towards 0.
    let shrunk = CovariateParams::new(CovariateFamily::ParetoNbd)
        .penalty(1e4)
        .fit(&data)
        .unwrap();
    for (a, b) in shrunk.coefficients().iter().zip(full.coefficients()) {
        assert!(a.value.abs() < b.value.abs(), "{a:?} vs {b:?}");
    }
}

#[test]
fn covariate_data_and_designs_refuse_what_cannot_be_fitted() {
    let (data, rows) = cdnow_with_covariates();
    let ids: Vec<CustomerId> = rows.iter().map(|r| r.0.clone()).collect();
    // A constant column duplicates the intercept.
    let constant =
        DesignMatrix::new(vec!["one".into()], ids.clone(), vec![vec![1.0]; ids.len()]).unwrap();
    let d = CovariateData::new(
        TimeUnit::WEEKS,
        rows.iter()
            .map(|r| (r.0.clone(), customer_assets::History::new(r.1, r.2, r.3))),
        &constant,
    )
    .unwrap();
    let error = CovariateParams::new(CovariateFamily::BgNbd)
        .fit(&d)
        .unwrap_err();
    assert!(error.to_string().contains("constant"), "{error}");
    // A column the design lacks.
    let error = CovariateParams::new(CovariateFamily::BgNbd)
        .purchase_covariates(&["age"])
        .fit(&data)
        .unwrap_err();
    assert!(error.to_string().contains("age"), "{error}");
    // A customer without a row.
    let short =
        DesignMatrix::new(vec!["odd".into()], ids[..10].to_vec(), vec![vec![0.0]; 10]).unwrap();
    let error = CovariateData::new(
        TimeUnit::WEEKS,
        rows.iter()
            .map(|r| (r.0.clone(), customer_assets::History::new(r.1, r.2, r.3))),
        &short,
    )
    .unwrap_err();
    assert!(error.to_string().contains(&ids[10].to_string()), "{error}");
    // One customer cannot identify the model.
    let one = CovariateData::new(
        TimeUnit::WEEKS,
        [(ids[0].clone(), customer_assets::History::new(2, 10.0, 30.0))],
        data.design(),
    )
    .unwrap();
    assert!(matches!(
        CovariateParams::new(CovariateFamily::ParetoNbd).fit(&one),
        Err(customer_assets::FitError::Covariates { .. }
            | customer_assets::FitError::NotIdentified { .. }
            | customer_assets::FitError::NoData { .. })
    ));
    // An optimizer penalty is refused: the coefficients carry their own.
    assert!(CovariateParams::new(CovariateFamily::ParetoNbd)
        .fit_options(customer_assets::FitOptions::new().penalty(0.1))
        .fit(&data)
        .is_err());
}
