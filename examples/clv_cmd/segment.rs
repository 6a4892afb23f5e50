//! `clv segment`: a summary table to one segment per customer.
//!
//! `clv segment --summary FILE.csv --method rfm|abc|lifecycle|kmeans [--k N] [--unit weeks|days] [--seed S]`
//! reads `customer_id,frequency,recency,T,monetary_value` (recency is t_x, the time from first to
//! last purchase; durations in `--unit`, default weeks as in `cdnow_summary.csv`) and prints CSV
//! `customer_id,segment` in input order, plus `recency_score,frequency_score,monetary_score` for
//! rfm. The RFM recency score is based on the time since the last purchase, T − t_x (lower is
//! better). ABC classes are on the repeat spend x · monetary_value (a summary table does not
//! carry the first purchase). k-means (default k = 4, seed 0) clusters on standardised
//! T − t_x, x and monetary_value. A table of customers and spend per segment goes to stderr.
#![allow(dead_code)]

use std::io::Write;

use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::kmeans::KMeansParams;
use customer_assets::segment::lifecycle::LifecycleParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::segment::{Feature, Profile, Segmenter};
use customer_assets::{CustomerId, TimeUnit, Transaction};

use super::common::{columns, csv_reader, finish, line_of, stdout, Flags};

/// Customers and repeat spend in one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    /// The segment's name.
    pub segment: String,
    /// Customers in it.
    pub customers: usize,
    /// Percentage of customers.
    pub customer_pct: f64,
    /// Repeat spend x · monetary_value of its customers.
    pub spend: f64,
    /// Percentage of repeat spend.
    pub spend_pct: f64,
}

/// The segmentation of a summary file: the CSV lines (header first) and the shares per segment.
pub struct Segmented {
    /// CSV output, one line per customer after the header.
    pub lines: Vec<String>,
    /// Per segment, in order of first appearance.
    pub shares: Vec<Share>,
}

/// Reads a summary table into profiles, in file order.
pub fn read_summary(path: &str, unit: TimeUnit) -> Result<Vec<Profile>, String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(
        path,
        &headers,
        &["customer_id", "frequency", "recency", "T", "monetary_value"],
    )?;
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(out),
            Err(e) => return Err(format!("{path}: {e}")),
        }
        let line = line_of(path, &record);
        let field = |i: usize| -> Result<&str, String> {
            record
                .get(cols[i])
                .and_then(|b| std::str::from_utf8(b).ok())
                .map(str::trim)
                .ok_or_else(|| format!("{line}: missing or non-UTF-8 field"))
        };
        let number = |i: usize, name: &str| -> Result<f64, String> {
            field(i)?.parse::<f64>().map_err(|_| {
                format!(
                    "{line}: {name} {:?} is not a number",
                    field(i).unwrap_or("")
                )
            })
        };
        let id = CustomerId::new(field(0)?).map_err(|e| format!("{line}: {e}"))?;
        let x = field(1)?
            .parse::<u32>()
            .map_err(|_| format!("{line}: frequency is not a whole number"))?;
        let t_x = number(2, "recency")?;
        let t = number(3, "T")?;
        let m = Transaction::parse_amount(field(4)?, &line).map_err(|e| e.to_string())?;
        out.push(Profile::new(id, unit, x, t_x, t, m).map_err(|e| format!("{line}: {e}"))?);
    }
}

/// Segments profiles by `method` (rfm, abc, lifecycle, kmeans).
pub fn segment(
    profiles: &[Profile],
    method: &str,
    k: usize,
    seed: u64,
) -> Result<Segmented, String> {
    let err = |e: customer_assets::SegmentError| e.to_string();
    let mut lines = Vec::with_capacity(profiles.len() + 1);
    let names: Vec<String> = match method {
        "rfm" => {
            let (_, labels) = RfmParams::default().segment(profiles).map_err(err)?;
            lines.push(
                "customer_id,segment,recency_score,frequency_score,monetary_score".to_string(),
            );
            for (p, l) in profiles.iter().zip(&labels) {
                lines.push(format!(
                    "{},{},{},{},{}",
                    p.id(),
                    csv_field(&l.segment),
                    l.scores.recency,
                    l.scores.frequency,
                    l.scores.monetary
                ));
            }
            labels.iter().map(|l| l.segment.to_string()).collect()
        }
        "abc" => labels(&AbcParams::default(), profiles)?,
        "lifecycle" => labels(&LifecycleParams::default(), profiles)?,
        "kmeans" => labels(&KMeansParams::new(k).seed(seed), profiles)?,
        other => {
            return Err(format!(
                "--method {other:?} is not one of rfm, abc, lifecycle, kmeans"
            ))
        }
    };
    if lines.is_empty() {
        lines.push("customer_id,segment".to_string());
        for (p, n) in profiles.iter().zip(&names) {
            lines.push(format!("{},{}", p.id(), csv_field(n)));
        }
    }
    let spend: Vec<f64> = profiles
        .iter()
        .map(|p| p.feature(Feature::TotalSpend))
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let total_spend: f64 = spend.iter().sum();
    let mut shares: Vec<Share> = Vec::new();
    for (n, s) in names.iter().zip(&spend) {
        let i = match shares.iter().position(|x| &x.segment == n) {
            Some(i) => i,
            None => {
                shares.push(Share {
                    segment: n.clone(),
                    customers: 0,
                    customer_pct: 0.0,
                    spend: 0.0,
                    spend_pct: 0.0,
                });
                shares.len() - 1
            }
        };
        shares[i].customers += 1;
        shares[i].spend += s;
    }
    for s in &mut shares {
        s.customer_pct = 100.0 * s.customers as f64 / profiles.len() as f64;
        s.spend_pct = if total_spend > 0.0 {
            100.0 * s.spend / total_spend
        } else {
            0.0
        };
    }
    Ok(Segmented { lines, shares })
}

fn labels<S: Segmenter<Profile>>(s: &S, profiles: &[Profile]) -> Result<Vec<String>, String> {
    let (_, labels) = s.segment(profiles).map_err(|e| e.to_string())?;
    Ok(labels.iter().map(|l| l.to_string()).collect())
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["summary", "method", "k", "unit", "seed"])?;
    let path = flags.required("summary")?;
    let method = flags.required("method")?;
    let k = match flags.get("k") {
        None => 4,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("--k: {v:?} is not a whole number"))?,
    };
    let seed = match flags.get("seed") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| format!("--seed: {v:?} is not a whole number"))?,
    };
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let profiles = read_summary(path, unit)?;
    let result = segment(&profiles, method, k, seed)?;
    let mut out = stdout();
    for line in &result.lines {
        writeln!(out, "{line}").map_err(|e| format!("cannot write output: {e}"))?;
    }
    finish(out)?;
    eprintln!("segment,customers,customer_pct,repeat_spend,spend_pct");
    for s in &result.shares {
        eprintln!(
            "{},{},{:.1},{:.2},{:.1}",
            csv_field(&s.segment),
            s.customers,
            s.customer_pct,
            s.spend,
            s.spend_pct
        );
    }
    Ok(())
}
