//! Designs of customer attributes on CLVTools' apparel data (`apparelStaticCov.csv`: gender and
//! channel, 0/1, of 600 customers; GPL-3, read from the shared data folder, skipped without it):
//! from the ledger's customers and from the attribute file joined by id, in the summaries' order.

use std::collections::HashMap;

use chrono::NaiveDate;
use customer_assets::covariates::{
    AttributeTable, AttributeValue, CovariateError, DesignBuilder, EncodedColumn, Encoding,
};
use customer_assets::{
    Customer, CustomerId, Ledger, LedgerOptions, SummaryOptions, TimeUnit, Transaction,
};
use rust_decimal::Decimal;

/// The apparel customers' `(id, gender, channel)` and their transactions.
fn apparel(dir: &std::path::Path) -> (Vec<(CustomerId, f64, f64)>, Vec<Transaction>) {
    let rows = crate::csv_rows(&std::fs::read_to_string(dir.join("apparelStaticCov.csv")).unwrap());
    assert_eq!(rows[0], ["Id", "Gender", "Channel"]);
    let covariates = rows[1..]
        .iter()
        .map(|r| {
            (
                CustomerId::new(&r[0]).unwrap(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    let rows = crate::csv_rows(&std::fs::read_to_string(dir.join("apparelTrans.csv")).unwrap());
    let transactions = rows[1..]
        .iter()
        .map(|r| {
            Transaction::purchase(
                CustomerId::new(&r[0]).unwrap(),
                r[1].parse::<NaiveDate>().unwrap(),
                r[2].parse::<Decimal>().unwrap(),
            )
            .unwrap()
        })
        .collect();
    (covariates, transactions)
}

#[test]
fn apparel_designs_agree_from_the_ledger_and_from_the_attribute_file() {
    let Some(dir) = crate::clvtools_dir("design::apparel_designs_agree") else {
        return;
    };
    let (covariates, transactions) = apparel(&dir);
    assert_eq!(covariates.len(), 600);
    let first: HashMap<CustomerId, NaiveDate> =
        transactions.iter().fold(HashMap::new(), |mut m, t| {
            let d = m.entry(t.customer().clone()).or_insert(t.date());
            *d = (*d).min(t.date());
            m
        });
    let as_of = transactions.iter().map(Transaction::date).max().unwrap();

    // The ledger: gender as a typed attribute, the channel code as the customer's channel.
    let mut ledger = Ledger::new(LedgerOptions::default());
    for (id, gender, channel) in &covariates {
        let customer = Customer::builder(id.clone(), first[id])
            .channel(channel.to_string())
            .attribute("gender", AttributeValue::number(*gender).unwrap())
            .unwrap()
            .build();
        ledger.add_customer(customer).unwrap();
    }
    ledger.extend_transactions(transactions).unwrap();
    let summaries = ledger
        .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
        .unwrap();
    let ids: Vec<CustomerId> = summaries.iter().map(|s| s.id().clone()).collect();
    assert_eq!(ids.len(), 600);

    let from_ledger = ledger.attribute_table().unwrap();
    let design = DesignBuilder::all(&from_ledger)
        .build(&from_ledger, &ids)
        .unwrap();
    // The channel's reference level is its most frequent code, 0 (372 of 600).
    assert_eq!(design.matrix().names(), ["channel=1", "gender"]);
    assert_eq!(design.encoding().reference("channel"), Some("0"));

    // The attribute file joined by id: the same rows, in the summaries' order.
    let mut file = AttributeTable::new();
    for (id, gender, channel) in covariates.iter().rev() {
        file.insert(
            id.clone(),
            "Gender",
            AttributeValue::number(*gender).unwrap(),
        )
        .unwrap();
        file.insert(
            id.clone(),
            "Channel",
            AttributeValue::number(*channel).unwrap(),
        )
        .unwrap();
    }
    let raw = DesignBuilder::new()
        .numeric("Channel")
        .numeric("Gender")
        .build(&file, &ids)
        .unwrap();
    assert_eq!(raw.matrix().ids(), ids.as_slice());
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(raw.matrix().row(i), design.matrix().row(i), "{id}");
    }
    let by_id: HashMap<&CustomerId, (f64, f64)> =
        covariates.iter().map(|(id, g, c)| (id, (*c, *g))).collect();
    for (i, id) in ids.iter().enumerate() {
        let (channel, gender) = by_id[id];
        assert_eq!(design.matrix().row(i), [channel, gender]);
    }

    // Standardised: the mean is the share of 1s, the sd the sample sd of a 0/1 column.
    let z = DesignBuilder::new()
        .standardised("Gender")
        .build(&file, &ids)
        .unwrap();
    let EncodedColumn::Standardised { mean, sd, .. } = &z.encoding().columns()[0] else {
        panic!("{:?}", z.encoding())
    };
    let p = 296.0 / 600.0;
    assert!((mean - p).abs() < 1e-12, "{mean}");
    assert!(
        (sd - (p * (1.0 - p) * 600.0 / 599.0).sqrt()).abs() < 1e-12,
        "{sd}"
    );

    // Each customer's record encodes to its row; the encoding survives JSON.
    let json = serde_json::to_string(design.encoding()).unwrap();
    let encoding: Encoding = serde_json::from_str(&json).unwrap();
    for (i, id) in ids.iter().enumerate().step_by(37) {
        let customer = ledger.customer(id).unwrap();
        assert_eq!(
            encoding.encode_customer(customer).unwrap(),
            design.matrix().row(i)
        );
    }
    // A channel the data never had has no coefficient.
    let day = NaiveDate::from_ymd_opt(2006, 1, 1).unwrap();
    let newcomer = Customer::builder(CustomerId::new("new").unwrap(), day)
        .channel("2")
        .attribute("gender", AttributeValue::number(1.0).unwrap())
        .unwrap()
        .build();
    assert_eq!(
        encoding.encode_customer(&newcomer).unwrap_err(),
        CovariateError::UnseenLevel {
            attribute: "channel".into(),
            level: "2".into()
        }
    );

    // A column that is 1 − Gender adds nothing the intercept and Gender do not say.
    for (id, gender, _) in &covariates {
        file.insert(
            id.clone(),
            "Male",
            AttributeValue::number(1.0 - gender).unwrap(),
        )
        .unwrap();
    }
    let err = DesignBuilder::all(&file).build(&file, &ids).unwrap_err();
    assert!(
        matches!(&err, CovariateError::Collinear { column, .. } if column == "Male"),
        "{err}"
    );
    // A customer of the summaries missing from the file is named.
    let fewer = AttributeTable::from_rows(covariates.iter().skip(1).map(|(id, g, _)| {
        (
            id.clone(),
            [("Gender", AttributeValue::number(*g).unwrap())],
        )
    }))
    .unwrap();
    let err = DesignBuilder::new()
        .numeric("Gender")
        .build(&fewer, &ids)
        .unwrap_err();
    assert_eq!(
        err,
        CovariateError::Missing {
            customer: covariates[0].0.to_string(),
            attribute: "Gender".into()
        }
    );
}
