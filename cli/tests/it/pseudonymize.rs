//! `clv pseudonymize`: ids replaced by their keyed pseudonyms and nothing else changed; keys
//! read as documented and refused when short; and a pseudonymised CDNOW log valued and
//! summarised as the plain one.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use customer_assets::{CustomerId, Pseudonymizer};

use crate::{csv_rows, data_file, ok, ok_with_stderr, refused, run_clv, temp_dir};

/// Two keys of 64 hex characters, as `openssl rand -hex 32` writes them (with a line end).
const KEY_A: &str = "3f6c1a9d0b7e42c58d1e6f3a2b9c4d7e8f0a1b2c3d4e5f60718293a4b5c6d7e8\n";
const KEY_B: &str = "3f6c1a9d0b7e42c58d1e6f3a2b9c4d7e8f0a1b2c3d4e5f60718293a4b5c6d7e9\n";

/// The library's pseudonymizer of a key file's text (its one line end dropped).
fn pseudonymizer(key_file_text: &str) -> Pseudonymizer {
    Pseudonymizer::new(key_file_text.trim_end_matches('\n').as_bytes()).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// The records of CSV text, parsed by the csv crate (header included).
fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn ids_become_their_pseudonyms_and_every_other_field_is_kept() {
    let dir = temp_dir("pseudo-fields");
    let key = write(&dir, "key", KEY_A.as_bytes());
    let log = write(
        &dir,
        "log.csv",
        b"note,client,date,amount,kind\n\
          \"a, quoted\",7,1997-01-01,10.50,purchase\n\
          plain, 7 ,1997-01-02,3,return\n\
          \"two\nlines\",acme-7,1997-01-03,4.00,purchase\n\
          x,042,1997-01-04,5,purchase\n\
          y,7,1997-01-05,6,purchase\n",
    );
    let text = ok(&[
        "pseudonymize",
        "--transactions",
        &log,
        "--key-file",
        &key,
        "--customer-col",
        "client",
    ]);
    let (plain, pseudo) = (
        records(&std::fs::read_to_string(&log).unwrap()),
        records(&text),
    );
    assert_eq!(pseudo.len(), plain.len());
    assert_eq!(pseudo[0], plain[0], "the header is kept");
    let p = pseudonymizer(KEY_A);
    for (before, after) in plain[1..].iter().zip(&pseudo[1..]) {
        let id = CustomerId::new(&before[1]).unwrap();
        assert_eq!(after[1], p.pseudonym(&id).to_string(), "{before:?}");
        assert_eq!(after[1].len(), 64);
        for col in [0, 2, 3, 4] {
            assert_eq!(after[col], before[col], "column {col} of {before:?}");
        }
    }
    // "7" and " 7 " are one customer, one pseudonym; "042" is another id than 7.
    assert_eq!(pseudo[1][1], pseudo[2][1]);
    assert_eq!(pseudo[1][1], pseudo[5][1]);
    assert_ne!(pseudo[4][1], pseudo[1][1]);
    assert_eq!(
        pseudo[1..]
            .iter()
            .map(|r| &r[1])
            .collect::<HashSet<_>>()
            .len(),
        3
    );

    // --output writes the same bytes as standard output; a tab-separated log stays one.
    let out = dir.join("out.csv");
    let out = out.to_str().unwrap();
    ok(&[
        "pseudonymize",
        "--transactions",
        &log,
        "--key-file",
        &key,
        "--customer-col",
        "client",
        "--output",
        out,
    ]);
    assert_eq!(std::fs::read_to_string(out).unwrap(), text);
    let tsv = write(
        &dir,
        "log.tsv",
        b"customer_id\tdate\tamount\n9\t1997-01-01\t1\n",
    );
    let text = ok(&[
        "pseudonymize",
        "--transactions",
        &tsv,
        "--key-file",
        &key,
        "--delimiter",
        "\\t",
    ]);
    let alias = p.pseudonym(&CustomerId::from(9u64));
    assert_eq!(
        text,
        format!("customer_id\tdate\tamount\n{alias}\t1997-01-01\t1\n")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_key_is_the_files_bytes_less_one_line_end_and_another_key_gives_unrelated_pseudonyms() {
    let dir = temp_dir("pseudo-keys");
    let log = data_file("cdnow_sample_transactions.csv");
    let log = log.to_str().unwrap();
    let bare = KEY_A.trim_end();
    let run = |key_bytes: &str, name: &str| {
        let key = write(&dir, name, key_bytes.as_bytes());
        let text = ok(&["pseudonymize", "--transactions", log, "--key-file", &key]);
        csv_rows(&text)
    };
    let a = run(KEY_A, "a");
    assert_eq!(run(bare, "a-bare"), a, "no line end: the same key");
    assert_eq!(
        run(&format!("{bare}\r\n"), "a-crlf"),
        a,
        "CRLF: the same key"
    );
    // Only one line end is removed: a second one is part of the key.
    assert_ne!(run(&format!("{bare}\n\n"), "a-two"), a);

    let b = run(KEY_B, "b");
    let ids = |rows: &[Vec<String>]| -> HashSet<String> {
        rows[1..].iter().map(|r| r[0].clone()).collect()
    };
    let (under_a, under_b) = (ids(&a), ids(&b));
    assert_eq!(under_a.len(), 2357, "one pseudonym per CDNOW customer");
    assert_eq!(under_b.len(), 2357);
    assert!(
        under_a.is_disjoint(&under_b),
        "keys one bit apart share no pseudonym"
    );
    // Raw 32 random-looking bytes, not text, are a key too.
    let raw: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(151) ^ 0x5a).collect();
    let key = dir.join("raw");
    std::fs::write(&key, &raw).unwrap();
    let text = ok(&[
        "pseudonymize",
        "--transactions",
        log,
        "--key-file",
        key.to_str().unwrap(),
    ]);
    let first = Pseudonymizer::new(&raw)
        .unwrap()
        .pseudonym(&CustomerId::from(1u64));
    assert_eq!(csv_rows(&text)[1][0], first.to_string());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn short_keys_missing_columns_and_empty_ids_are_refused_without_output() {
    let dir = temp_dir("pseudo-refused");
    let log = write(
        &dir,
        "log.csv",
        b"customer_id,date,amount\n1,1997-01-01,2\n",
    );
    let key = write(&dir, "key", KEY_A.as_bytes());
    let pseudonymize = |log: &str, key: &str, extra: &[&str], needles: &[&str]| {
        let mut args = vec!["pseudonymize", "--transactions", log, "--key-file", key];
        args.extend_from_slice(extra);
        refused(&args, needles);
    };
    let short = write(&dir, "short", &[b'k'; 31]);
    pseudonymize(
        &log,
        &short,
        &[],
        &["--key-file", "short", "31 bytes", "at least 32"],
    );
    // 31 bytes and the line end that is removed.
    let short_nl = write(&dir, "short-nl", format!("{}\n", "k".repeat(31)).as_bytes());
    pseudonymize(&log, &short_nl, &[], &["31 bytes"]);
    let empty = write(&dir, "empty", b"");
    pseudonymize(&log, &empty, &[], &["0 bytes", "at least 32"]);
    let folder = dir.to_str().unwrap();
    pseudonymize(&log, folder, &[], &["--key-file: cannot read"]);
    pseudonymize(
        &log,
        dir.join("absent").to_str().unwrap(),
        &[],
        &["--key-file: cannot read", "absent"],
    );
    pseudonymize(
        &log,
        &key,
        &["--customer-col", "client"],
        &["line 1", "no \"client\" column", "customer_id,date,amount"],
    );

    // An error after rows were written leaves no output file behind.
    let blank = write(
        &dir,
        "blank.csv",
        b"customer_id,date,amount\n1,1997-01-01,2\n  ,1997-01-02,3\n",
    );
    let out = dir.join("out.csv");
    pseudonymize(
        &blank,
        &key,
        &["--output", out.to_str().unwrap()],
        &["blank.csv: line 3, column customer_id: customer id is empty"],
    );
    assert!(!out.exists(), "a partial output was left");
    let header_only = write(&dir, "header.csv", b"customer_id,date,amount\n");
    pseudonymize(
        &header_only,
        &key,
        &[],
        &["no transactions after the header"],
    );
    pseudonymize(
        &log,
        &key,
        &["--output", &log],
        &["is the --transactions file"],
    );
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .starts_with("customer_id"));
    let parquet = write(&dir, "log.parquet", b"PAR1");
    pseudonymize(
        &parquet,
        &key,
        &[],
        &["reads and writes CSV logs", "Parquet"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The proof the issue asks for: everything `clv report` says of a customer and of the base is
/// the same on the pseudonymised CDNOW log, each customer found through the pseudonym of its
/// plain id; `clv summarize` writes the same rows with the ids replaced.
#[test]
fn a_pseudonymised_cdnow_log_gives_the_same_equity_and_summaries() {
    let dir = temp_dir("pseudo-cdnow");
    let plain = data_file("cdnow_sample_transactions.csv");
    let plain = plain.to_str().unwrap();
    let key = write(&dir, "key", KEY_A.as_bytes());
    let pseudo = dir.join("pseudo.csv");
    let pseudo = pseudo.to_str().unwrap();
    ok(&[
        "pseudonymize",
        "--transactions",
        plain,
        "--key-file",
        &key,
        "--output",
        pseudo,
    ]);
    let p = pseudonymizer(KEY_A);

    let report = |log: &str| -> serde_json::Value {
        let out = run_clv(&[
            "report",
            "--transactions",
            log,
            "--end",
            "1997-09-30",
            "--margin",
            "0.3",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (report(plain), report(pseudo));
    assert_eq!(a["equity"], b["equity"]);
    assert!(a["equity"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    for part in [
        "value_at_risk",
        "by_asset_class",
        "by_segment",
        "kpis",
        "firm",
    ] {
        assert_eq!(a[part], b[part], "{part}");
    }
    let by_id: HashMap<String, &serde_json::Value> = b["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c))
        .collect();
    let customers = a["customers"].as_array().unwrap();
    assert_eq!(customers.len(), 2357);
    assert_eq!(by_id.len(), customers.len());
    for c in customers {
        let id = match &c["id"] {
            serde_json::Value::Number(n) => CustomerId::from(n.as_u64().unwrap()),
            other => CustomerId::new(other.as_str().unwrap()).unwrap(),
        };
        let twin = by_id[&p.pseudonym(&id).to_string()];
        for exact in ["clv", "asset_class", "segments"] {
            assert_eq!(c[exact], twin[exact], "{exact} of customer {id}");
        }
        // The transaction model fits weighted patterns, the same whatever the ids; the spend
        // model sums over customers in id order, so its fit (and what follows from it) may
        // differ in the last bits.
        for close in ["p_alive", "expected_purchases", "dert", "expected_spend"] {
            let (x, y) = (c[close].as_f64().unwrap(), twin[close].as_f64().unwrap());
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                "{close} of customer {id}: {x} vs {y}"
            );
        }
    }

    let summarize = |log: &str| {
        let (text, _notes) =
            ok_with_stderr(&["summarize", "--transactions", log, "--end", "1997-09-30"]);
        csv_rows(&text)
    };
    let (rows, pseudo_rows) = (summarize(plain), summarize(pseudo));
    assert_eq!(rows.len(), 2358);
    assert_eq!(pseudo_rows[0], rows[0]);
    for (row, twin) in rows[1..].iter().zip(&pseudo_rows[1..]) {
        let alias = p.pseudonym(&CustomerId::new(&row[0]).unwrap());
        assert_eq!(twin[0], alias.to_string());
        assert_eq!(twin[1..], row[1..], "customer {}", row[0]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
