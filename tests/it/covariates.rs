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

#[test]
fn apparel_fits_with_both_covariates_on_both_processes() {
    let Some(dir) =
        crate::clvtools_dir("covariates::apparel_fits_with_both_covariates_on_both_processes")
    else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = CovariateData::from_summaries(&summaries, &design).unwrap();
    eprintln!("customers {}", data.len());
    for family in [CovariateFamily::ParetoNbd, CovariateFamily::BgNbd] {
        let model = CovariateParams::new(family).fit(&data).unwrap();
        let se = model.standard_errors().unwrap();
        for ((name, v), s) in model
            .parameter_names()
            .iter()
            .zip(model.parameter_values())
            .zip(se)
        {
            eprintln!("{family} {name} {v:.6} ({s:.6})");
        }
        eprintln!(
            "{family} ll {:.6} {:?}",
            model.report().unwrap().log_likelihood,
            model.report()
        );
    }
}

#[test]
fn apparel_base_fits() {
    let Some(dir) = crate::clvtools_dir("covariates::apparel_base_fits") else {
        return;
    };
    let (summaries, _) = apparel(&dir);
    let patterns = summaries.patterns();
    let bg = customer_assets::models::BgNbdParams::new().fit(&patterns);
    eprintln!("bg {:?}", bg.map(|m| (m.parameters(), m.report().cloned())));
    let p = customer_assets::models::ParetoNbdParams::new().fit(&patterns);
    eprintln!(
        "pnbd {:?}",
        p.map(|m| (m.parameters(), m.report().cloned()))
    );
}

#[test]
fn apparel_bg_variants() {
    let Some(dir) = crate::clvtools_dir("covariates::apparel_bg_variants") else {
        return;
    };
    let (summaries, design) = apparel(&dir);
    let data = CovariateData::from_summaries(&summaries, &design).unwrap();
    let none: [&str; 0] = [];
    for (p, d) in [
        (&["Gender", "Channel"][..], &none[..]),
        (&none[..], &["Gender", "Channel"][..]),
        (&none[..], &["Gender"][..]),
        (&none[..], &["Channel"][..]),
    ] {
        let m = CovariateParams::new(CovariateFamily::BgNbd)
            .purchase_covariates(p)
            .dropout_covariates(d)
            .fit(&data);
        match m {
            Ok(m) => eprintln!(
                "{p:?} {d:?} {:?} ll {}",
                m.parameter_values(),
                m.report().unwrap().log_likelihood
            ),
            Err(e) => eprintln!("{p:?} {d:?} {e}"),
        }
    }
}
