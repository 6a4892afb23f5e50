//! `clv plot`: every chart is well-formed SVG carrying its series (bars, lines, points, cells)
//! and its axis titles, on the CDNOW sample.

use crate::{data_file, run_clv};

const ACTUAL: &str = "#1F77B4";
const EXPECTED: &str = "#D62728";

/// Runs `clv plot` with `args` after the common ones; the SVG, parsed.
#[track_caller]
fn chart(args: &[&str]) -> String {
    let log = data_file("cdnow_sample_transactions.csv");
    let common = [
        "plot",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
    ];
    let out = run_clv(&[&common[..], args].concat());
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg = String::from_utf8(out.stdout).unwrap();
    roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{args:?}: not SVG: {e}"));
    svg
}

struct Parsed<'a> {
    doc: roxmltree::Document<'a>,
}

impl Parsed<'_> {
    fn count(&self, tag: &str, attribute: &str, value: &str) -> usize {
        self.doc
            .descendants()
            .filter(|n| n.has_tag_name(tag) && n.attribute(attribute) == Some(value))
            .count()
    }
    fn texts(&self) -> Vec<String> {
        self.doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text().map(|t| t.trim().to_string()))
            .collect()
    }
    /// The points of the polylines drawn in `color` 3 pixels wide (the series, not the legend).
    fn series_points(&self, color: &str) -> Vec<usize> {
        self.doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some(color))
            .filter_map(|n| n.attribute("points"))
            .map(|p| p.split_whitespace().count())
            .collect()
    }
}

fn parsed(svg: &str) -> Parsed<'_> {
    Parsed {
        doc: roxmltree::Document::parse(svg).unwrap(),
    }
}

#[test]
fn period_transactions_has_eight_pairs_of_bars() {
    let svg = chart(&["--chart", "period-transactions"]);
    let p = parsed(&svg);
    // 8 bars each (0 to 6, and 7+), and one legend swatch each.
    assert_eq!(p.count("rect", "fill", ACTUAL), 9);
    assert_eq!(p.count("rect", "fill", EXPECTED), 9);
    let texts = p.texts();
    for label in [
        "repeat purchases in the calibration period",
        "customers",
        "0",
        "7+",
        "actual",
        "expected",
    ] {
        assert!(
            texts.iter().any(|t| t == label),
            "{label:?} not in {texts:?}"
        );
    }
}

#[test]
fn holdout_charts_have_a_point_per_period_or_bucket() {
    let holdout = ["--end", "1998-06-30"];
    // The CDNOW sample's 78 weeks from the first acquisition week.
    for (kind, points) in [("tracking-cumulative", 78), ("tracking-incremental", 78)] {
        let svg = chart(&[&["--chart", kind][..], &holdout].concat());
        let p = parsed(&svg);
        let actual = p.series_points(ACTUAL);
        assert!(actual.contains(&points), "{kind}: {actual:?}");
        assert!(p.texts().iter().any(|t| t == "holdout"), "{kind}");
    }
    let svg = chart(&["--chart", "calibration-holdout", "--end", "1998-06-30"]);
    let p = parsed(&svg);
    let actual = p.series_points(ACTUAL);
    assert!(actual.iter().any(|&n| n >= 5), "{actual:?}");
    assert!(p
        .texts()
        .iter()
        .any(|t| t.starts_with("mean purchases in the holdout")));
    // Without --end these charts are refused, naming the flag.
    let log = data_file("cdnow_sample_transactions.csv");
    let out = run_clv(&[
        "plot",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
        "--chart",
        "tracking-cumulative",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--end: --chart tracking-cumulative compares with a holdout"));
}

#[test]
fn heat_maps_have_a_cell_per_frequency_and_recency() {
    for kind in ["p-alive-heatmap", "expected-purchases-heatmap"] {
        let svg = chart(&["--chart", kind]);
        let p = parsed(&svg);
        // Frequencies 0..=20 (the sample's maximum is above 20) by 38 whole weeks of recency
        // (0..=38): 21 × 39 cells, plus the 50 steps of the colour bar.
        let cells = p
            .doc
            .descendants()
            .filter(|n| n.has_tag_name("rect") && n.attribute("stroke") == Some("none"))
            .count();
        assert_eq!(cells, 21 * 39 + 50 + 1, "{kind}"); // + the white background
        assert!(
            p.texts()
                .iter()
                .any(|t| t == "frequency x: repeat purchases"),
            "{kind}"
        );
    }
}

#[test]
fn a_customers_history_marks_each_purchase() {
    // Customer 1 bought on 1997-01-01, 1997-01-18 and 1997-08-02 before 1997-09-30.
    let svg = chart(&["--chart", "p-alive-history", "--customer", "1"]);
    let p = parsed(&svg);
    let circles = p.count("circle", "fill", EXPECTED);
    assert_eq!(circles, 3 + 1, "three purchases and the legend's mark");
    // One point a day from the first purchase to the calibration end.
    let days = (chrono::NaiveDate::from_ymd_opt(1997, 9, 30).unwrap()
        - chrono::NaiveDate::from_ymd_opt(1997, 1, 1).unwrap())
    .num_days() as usize
        + 1;
    assert!(
        p.series_points(ACTUAL).contains(&days),
        "{:?}",
        p.series_points(ACTUAL)
    );
    let log = data_file("cdnow_sample_transactions.csv");
    let out = run_clv(&[
        "plot",
        "--transactions",
        log.to_str().unwrap(),
        "--calibration-end",
        "1997-09-30",
        "--chart",
        "p-alive-history",
        "--customer",
        "nobody",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--customer: \"nobody\" has no purchase"));
}

#[test]
fn clv_and_equity_charts_carry_the_valuation() {
    let svg = chart(&["--chart", "clv-distribution"]);
    let p = parsed(&svg);
    // 12 bands and the top 1%, plus the legend swatch.
    assert_eq!(p.count("rect", "fill", ACTUAL), 12 + 1 + 1);
    assert!(p
        .texts()
        .iter()
        .any(|t| t.starts_with("Lorenz curve of CLV (Gini 0.")));
    let svg = chart(&["--chart", "equity", "--by", "abc"]);
    let p = parsed(&svg);
    assert_eq!(p.count("rect", "fill", ACTUAL), 3 + 1, "A, B and C");
    let texts = p.texts();
    let order: Vec<&String> = texts
        .iter()
        .filter(|t| ["A", "B", "C"].contains(&t.as_str()))
        .collect();
    assert_eq!(order, ["A", "B", "C"]);
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/loyalty_rules.json"
    );
    let svg = chart(&["--chart", "equity", "--by", "tier", "--rules", rules]);
    let texts = parsed(&svg).texts();
    assert!(texts.iter().any(|t| t == "Member"), "{texts:?}");
}
