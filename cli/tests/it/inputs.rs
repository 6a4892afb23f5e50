//! CSV as users have it: standard input, gzip, other delimiters, other column names, other date
//! forms and timestamps; each gives what the plain file gives, and a bad value is named by file,
//! line and column.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::{data_file, ok, refused, temp_dir};

/// Runs clv with `stdin` as its standard input.
fn with_stdin(args: &[&str], stdin: &[u8]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_clv"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn stdin_gzip_delimiters_and_column_names_read_as_the_plain_file() {
    let dir = temp_dir("inputs-same");
    let log = data_file("cdnow_sample_transactions.csv");
    let text = std::fs::read_to_string(&log).unwrap();
    let end = ["--end", "1997-09-30"];
    let expected = ok(&[
        &["summarize", "--transactions", log.to_str().unwrap()][..],
        &end,
    ]
    .concat());
    // Standard input, plain and gzip-compressed.
    for body in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
        let out = with_stdin(
            &[&["summarize", "--transactions", "-"][..], &end].concat(),
            &body,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
    // A gzip file, named .csv.gz.
    let gz = dir.join("log.csv.gz");
    std::fs::write(&gz, gzip(text.as_bytes())).unwrap();
    assert_eq!(
        ok(&[
            &["summarize", "--transactions", gz.to_str().unwrap()][..],
            &end
        ]
        .concat()),
        expected
    );
    // Semicolons and tabs, with other column names, for every log reader.
    let renamed = text.replacen(
        "customer_id,date,quantity,amount",
        "client,ordered,quantity,total",
        1,
    );
    for (name, delimiter, flag) in [("log.ssv", ';', ";"), ("log.tsv", '\t', "\\t")] {
        let path = dir.join(name);
        std::fs::write(&path, renamed.replace(',', &delimiter.to_string())).unwrap();
        let path = path.to_str().unwrap();
        let options = [
            "--delimiter",
            flag,
            "--customer-col",
            "client",
            "--date-col",
            "ordered",
            "--amount-col",
            "total",
        ];
        for sub in ["summarize", "kpi", "report"] {
            let plain = ok(&[&[sub, "--transactions", log.to_str().unwrap()][..], &end].concat());
            let other = ok(&[&[sub, "--transactions", path][..], &end, &options].concat());
            assert_eq!(other, plain, "{sub} {name}");
        }
    }
    // A missing renamed column is named as the user named it.
    refused(
        &[
            "summarize",
            "--transactions",
            log.to_str().unwrap(),
            "--end",
            "1997-09-30",
            "--customer-col",
            "client",
        ],
        &["header has no \"client\" column"],
    );
    refused(
        &[
            "summarize",
            "--transactions",
            log.to_str().unwrap(),
            "--end",
            "1997-09-30",
            "--delimiter",
            ";;",
        ],
        &["--delimiter: \";;\" is not one character"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dates_in_other_forms_and_timestamps_follow_the_day_rule() {
    let dir = temp_dir("inputs-dates");
    let write = |name: &str, body: &str| {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path.to_str().unwrap().to_string()
    };
    let summarize = |path: &str, extra: &[&str]| {
        ok(&[
            &[
                "summarize",
                "--transactions",
                path,
                "--end",
                "2024-03-10",
                "--unit",
                "days",
            ][..],
            extra,
        ]
        .concat())
    };
    let plain = write(
        "plain.csv",
        "customer_id,date,amount\na,2024-03-01,10\na,2024-03-02,5\nb,2024-03-02,7\n",
    );
    let expected = summarize(&plain, &[]);
    // Naive timestamps, either separator, with fractions: the day written.
    let naive = write(
        "naive.csv",
        "customer_id,date,amount\na,2024-03-01T23:59:59,10\na,2024-03-02 00:00:01.250,5\nb,2024-03-02T12:00:00,7\n",
    );
    assert_eq!(summarize(&naive, &[]), expected);
    // Timestamps with offsets: the day written in their own offset...
    let zoned = write(
        "zoned.csv",
        "customer_id,date,amount\na,2024-03-01T23:30:00+02:00,10\na,2024-03-02T01:00:00Z,5\nb,2024-03-02T12:00:00-05:00,7\n",
    );
    assert_eq!(summarize(&zoned, &[]), expected);
    // ...or their day in the zone asked for: a's first purchase is 21:30 UTC on the 1st, its
    // second 01:00 UTC on the 2nd; at -03:00 both fall on the 1st.
    let west = summarize(&zoned, &["--time-zone", "-03:00"]);
    assert_eq!(
        west,
        "customer_id,frequency,recency,T,monetary_value\na,0,0.0,9.0,0\nb,0,0.0,8.0,0\n"
    );
    // A day-first format.
    let european = write(
        "european.csv",
        "customer_id,date,amount\na,01/03/2024,10\na,02/03/2024,5\nb,02/03/2024,7\n",
    );
    assert_eq!(
        summarize(&european, &["--date-format", "%d/%m/%Y"]),
        expected
    );
    // A date that does not match is named with its line, column and the format.
    let bad = write(
        "bad.csv",
        "customer_id,date,amount\na,01/03/2024,10\na,2024-03-02,5\n",
    );
    refused(
        &[
            "summarize",
            "--transactions",
            &bad,
            "--end",
            "2024-03-10",
            "--date-format",
            "%d/%m/%Y",
        ],
        &[
            &bad,
            "line 3, column date",
            "does not match --date-format \"%d/%m/%Y\"",
        ],
    );
    refused(
        &[
            "summarize",
            "--transactions",
            &european,
            "--end",
            "2024-03-10",
        ],
        &[
            &european,
            "line 2, column date",
            "is not a date (YYYY-MM-DD) or a timestamp",
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
