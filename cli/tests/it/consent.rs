//! `--consents FILE --purpose P`: `clv report` and `clv segment` write only the customers whose
//! consent covers the purpose on the day, and say how many were left out.

use crate::{csv_rows, data_file, ok, ok_with_stderr, refused, temp_dir};

/// Customers 1 and 2 consent to marketing contact; 3's consent was withdrawn before the day; 4
/// consented only to profiling; 5's consent comes after the day.
const CONSENTS: &str = "customer_id,purpose,given,withdrawn
1,marketing_contact,1997-01-01,
2,marketing_contact,1997-01-01,1999-01-01
3,marketing_contact,1997-01-01,1997-06-01
4,profiling,1997-01-01,
5,marketing_contact,1998-01-01,
";

#[test]
fn report_and_segment_rows_are_restricted_to_consenting_customers() {
    let dir = temp_dir("consent");
    let consents = dir.join("consents.csv");
    std::fs::write(&consents, CONSENTS).unwrap();
    let consents = consents.to_str().unwrap();
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let report = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["report", "--transactions", log, "--end", "1997-09-30"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&args)).unwrap()
    };
    let all = report(&[]);
    let kept = report(&["--consents", consents, "--purpose", "marketing_contact"]);
    let ids: Vec<String> = kept["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(ids, ["1", "2"]);
    let everyone = all["customers"].as_array().unwrap().len();
    assert_eq!(kept["consent"]["left_out"], everyone - 2);
    assert_eq!(kept["consent"]["included"], 2);
    assert_eq!(kept["consent"]["purpose"], "marketing_contact");
    assert_eq!(
        kept["equity"], all["equity"],
        "totals stay the whole base's"
    );
    assert!(all["consent"].is_null());

    let summary = data_file("cdnow_summary.csv");
    let summary = summary.to_str().unwrap();
    let (out, stderr) = ok_with_stderr(&[
        "segment",
        "--summary",
        summary,
        "--method",
        "rfm",
        "--consents",
        consents,
        "--purpose",
        "profiling",
        "--consent-date",
        "1997-09-30",
    ]);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 2, "header and customer 4: {out}");
    assert_eq!(rows[1][0], "4");
    assert!(stderr.contains("2356 customer(s) left out"), "{stderr}");
}

#[test]
fn bad_consent_files_and_flags_are_refused_naming_the_line() {
    let dir = temp_dir("consent-bad");
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let backwards = write(
        "backwards.csv",
        "customer_id,purpose,given,withdrawn\n1,profiling,1997-05-01,1997-04-01\n",
    );
    let blank = write("blank.csv", "customer_id,purpose,given\n1, ,1997-05-01\n");
    let no_given = write("no_given.csv", "customer_id,purpose\n1,profiling\n");
    let report = |extra: &[&str], needles: &[&str]| {
        let mut args = vec!["report", "--transactions", log, "--end", "1997-09-30"];
        args.extend_from_slice(extra);
        refused(&args, needles);
    };
    report(
        &["--consents", &backwards, "--purpose", "profiling"],
        &[
            "line 2",
            "withdrawn",
            "customer 1",
            "before it was given on 1997-05-01",
        ],
    );
    report(
        &["--consents", &blank, "--purpose", "profiling"],
        &["line 2", "purpose", "blank"],
    );
    report(
        &["--consents", &no_given, "--purpose", "profiling"],
        &["given"],
    );
    report(
        &["--consents", &backwards, "--purpose", "a\tb"],
        &["--purpose", "control"],
    );
    let summary = data_file("cdnow_summary.csv");
    refused(
        &[
            "segment",
            "--summary",
            summary.to_str().unwrap(),
            "--method",
            "abc",
            "--consents",
            &backwards,
            "--purpose",
            "profiling",
            "--consent-date",
            "1997-13-01",
        ],
        &["--consent-date"],
    );
}
