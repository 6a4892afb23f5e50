//! Progress goes to stderr only: nothing when stderr is not a terminal (as here), stage lines
//! with `--progress`, never a byte more on stdout.

use crate::{data_file, run_clv};

#[test]
fn progress_is_on_stderr_only_and_only_when_asked_off_a_terminal() {
    let summary = data_file("cdnow_summary.csv");
    let args = [
        "predict",
        "--summary",
        summary.to_str().unwrap(),
        "--model",
        "bg-nbd",
        "--horizon",
        "39",
    ];
    let quiet = run_clv(&args);
    assert!(quiet.status.success());
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let shown = run_clv(&[&args[..], &["--progress"]].concat());
    assert!(shown.status.success());
    assert_eq!(shown.stdout, quiet.stdout, "progress never touches stdout");
    let stages: Vec<String> = String::from_utf8(shown.stderr)
        .unwrap()
        .lines()
        .map(|l| {
            // "clv: [0.1 s] fitting ..." without its time.
            assert!(l.starts_with("clv: ["), "{l}");
            l.split_once("] ").unwrap().1.to_string()
        })
        .collect();
    assert_eq!(
        stages,
        [
            format!("reading {}", summary.display()),
            "fitting bg-nbd on 2357 rows".to_string(),
            "predicting 2357 customers".to_string(),
            "writing 2357 rows".to_string(),
        ]
    );
    // --quiet, anywhere on the line, and not together with --progress.
    let out = run_clv(&[&["--quiet"][..], &args].concat());
    assert!(out.status.success() && out.stderr.is_empty());
    let out = run_clv(&[&args[..], &["--quiet", "--progress"]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}
