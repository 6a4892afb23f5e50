//! The help of `clv` and of each subcommand, snapshot-tested (`cli/tests/snapshots`; run with
//! `CLV_UPDATE_SNAPSHOTS=1` to write them after a deliberate change, then review the diff), and
//! what the parser says of a command line it refuses.

use std::path::PathBuf;

use crate::run_clv;

const SUBCOMMANDS: [&str; 13] = [
    "summarize",
    "segment",
    "kpi",
    "tiers",
    "fit",
    "predict",
    "report",
    "profile",
    "bridge",
    "validate",
    "sql",
    "plot",
    "pseudonymize",
];

fn snapshot(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"))
        .join(format!("{name}.txt"))
}

/// `args`' output equals the snapshot `name` (written instead when asked).
#[track_caller]
fn matches_snapshot(args: &[&str], name: &str) {
    let out = run_clv(args);
    assert!(out.status.success(), "{args:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let path = snapshot(name);
    if std::env::var_os("CLV_UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (CLV_UPDATE_SNAPSHOTS=1 writes it)", path.display()));
    assert_eq!(text, expected, "{args:?} differs from {}", path.display());
}

#[test]
fn each_subcommand_has_its_help_with_examples() {
    matches_snapshot(&["--help"], "clv");
    for sub in SUBCOMMANDS {
        matches_snapshot(&[sub, "--help"], sub);
        // `clv help <sub>` and `-h` say the same.
        let long = run_clv(&[sub, "--help"]).stdout;
        assert_eq!(run_clv(&["help", sub]).stdout, long, "{sub}");
        let text = String::from_utf8(long).unwrap();
        assert!(text.contains(&format!("Usage: clv {sub}")), "{sub}");
        assert!(text.contains("Example"), "{sub}: no example");
    }
}

#[test]
fn refused_command_lines_say_why_and_suggest() {
    let err = |args: &[&str]| {
        let out = run_clv(args);
        (
            out.status.code(),
            String::from_utf8(out.stderr).unwrap(),
            out.stdout,
        )
    };
    let (code, text, stdout) = err(&["sumarize"]);
    assert_eq!(code, Some(1));
    assert!(stdout.is_empty());
    assert!(
        text.starts_with("clv: error: unrecognized subcommand 'sumarize'"),
        "{text}"
    );
    assert!(
        text.contains("a similar subcommand exists: 'summarize'"),
        "{text}"
    );
    let (code, text, _) = err(&["summarize", "--transaction", "x.csv", "--end", "1997-01-01"]);
    assert_eq!(code, Some(1));
    assert!(
        text.starts_with("clv: error: unexpected argument '--transaction' found"),
        "{text}"
    );
    assert!(
        text.contains("a similar argument exists: '--transactions'"),
        "{text}"
    );
    let (code, text, _) = err(&["predict", "--summary", "s.csv", "--model", "bg-nbd"]);
    assert_eq!(code, Some(1));
    assert!(
        text.contains("required arguments were not provided"),
        "{text}"
    );
    assert!(text.contains("--horizon <H>"), "{text}");
    // No subcommand: the usage, exit 2, as before.
    let (code, text, _) = err(&[]);
    assert_eq!(code, Some(2));
    assert!(
        text.starts_with("usage: clv <subcommand> [flags]"),
        "{text}"
    );
    let out = run_clv(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("clv {}", env!("CARGO_PKG_VERSION"))
    );
}
