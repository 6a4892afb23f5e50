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

use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::kmeans::KMeansParams;
use customer_assets::segment::lifecycle::LifecycleParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::segment::{Feature, Profile, Segmenter};
use customer_assets::{CustomerId, TimeUnit};

use super::common::{
    at, csv_field, echo, line_place, next_row, no_rows, parse_count, parse_money, parse_number,
    text_field, Flags, Header,
};
use crate::output::{Cell, Table};
use crate::table::Input;

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

/// The segmentation of a summary file: the table of customers and the shares per segment.
pub struct Segmented {
    /// One row per customer, in input order.
    pub table: Table,
    /// Per segment, by spend, largest first (ties by name).
    pub shares: Vec<Share>,
}

/// Reads a summary table into profiles, in file order.
pub fn read_summary(input: &Input, unit: TimeUnit) -> Result<Vec<Profile>, String> {
    let path = input.path.as_str();
    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(
        path,
        &mut reader,
        &["customer_id", "frequency", "recency", "T", "monetary_value"],
    )?;
    let cols = header.cols.clone();
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = super::common::LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let here = |i: usize| at(path, line, &header.names[cols[i]]);
        let field = |i: usize| text_field(&header, &record, line, cols[i]);
        let number = |i: usize| -> Result<f64, String> {
            parse_number(field(i)?).map_err(|e| format!("{}: {e}", here(i)))
        };
        let id = CustomerId::new(field(0)?).map_err(|e| format!("{}: {e}", here(0)))?;
        let x = parse_count(field(1)?).map_err(|e| format!("{}: {e}", here(1)))?;
        let t_x = number(2)?;
        let t = number(3)?;
        let m = parse_money(field(4)?).map_err(|e| format!("{}: {e}", here(4)))?;
        if m.is_sign_negative() && !m.is_zero() {
            return Err(format!("{}: {} is negative", here(4), echo(field(4)?)));
        }
        out.push(
            Profile::new(id, unit, x, t_x, t, m.abs())
                .map_err(|e| format!("{}: {e}", line_place(path, line)))?,
        );
    }
    if out.is_empty() {
        return Err(no_rows(path, "customers"));
    }
    Ok(out)
}

/// Segments profiles by `method` (rfm, abc, lifecycle, kmeans).
pub fn segment(
    profiles: &[Profile],
    method: &str,
    k: usize,
    seed: u64,
) -> Result<Segmented, String> {
    let err = |e: customer_assets::SegmentError| e.to_string();
    let mut table = Table::default();
    let names: Vec<String> = match method {
        "rfm" => {
            let (_, labels) = RfmParams::default().segment(profiles).map_err(err)?;
            table = Table::new(&[
                "customer_id",
                "segment",
                "recency_score",
                "frequency_score",
                "monetary_score",
            ]);
            for (p, l) in profiles.iter().zip(&labels) {
                table.rows.push(vec![
                    Cell::Text(p.id().to_string()),
                    Cell::Text(l.segment.to_string()),
                    Cell::Int(i64::from(l.scores.recency)),
                    Cell::Int(i64::from(l.scores.frequency)),
                    Cell::Int(i64::from(l.scores.monetary)),
                ]);
            }
            labels.iter().map(|l| l.segment.to_string()).collect()
        }
        "abc" => labels(&AbcParams::default(), profiles)?,
        "lifecycle" => labels(&LifecycleParams::default(), profiles)?,
        "kmeans" => {
            labels(&KMeansParams::new(k).seed(seed), profiles).map_err(|e| format!("--k: {e}"))?
        }
        other => {
            return Err(format!(
                "--method: {} is not one of rfm, abc, lifecycle, kmeans",
                echo(other)
            ))
        }
    };
    if table.names.is_empty() {
        table = Table::new(&["customer_id", "segment"]);
        for (p, n) in profiles.iter().zip(&names) {
            table
                .rows
                .push(vec![Cell::Text(p.id().to_string()), Cell::Text(n.clone())]);
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
    // Largest spend first, as the equity report lists segments (ties by name).
    shares.sort_by(|a, b| {
        b.spend
            .total_cmp(&a.spend)
            .then_with(|| a.segment.cmp(&b.segment))
    });
    Ok(Segmented { table, shares })
}

fn labels<S: Segmenter<Profile>>(s: &S, profiles: &[Profile]) -> Result<Vec<String>, String> {
    let (_, labels) = s.segment(profiles).map_err(|e| e.to_string())?;
    Ok(labels.iter().map(|l| l.to_string()).collect())
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "summary",
            "method",
            "k",
            "unit",
            "seed",
            "consents",
            "purpose",
            "consent-date",
        ],
    )?;
    let output = flags.output(true)?;
    let input = flags.input("summary")?;
    let path = input.path.as_str();
    let method = flags.required("method")?;
    if !matches!(method, "rfm" | "abc" | "lifecycle" | "kmeans") {
        return Err(format!(
            "--method: {} is not one of rfm, abc, lifecycle, kmeans",
            echo(method)
        ));
    }
    if method != "kmeans" && (flags.get("k").is_some() || flags.get("seed").is_some()) {
        return Err(format!(
            "--k and --seed are for --method kmeans, not {method}"
        ));
    }
    let k = flags
        .whole_in("k", 1, u64::from(u32::MAX), "the number of clusters")?
        .unwrap_or(4) as usize;
    let seed = flags
        .whole_in("seed", 0, u64::MAX, "any whole number")?
        .unwrap_or(0);
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let profiles = read_summary(&input, unit)?;
    if method == "kmeans" && k > profiles.len() {
        return Err(format!(
            "--k: {k} clusters{} for {} customers in {path}; at most one cluster per customer",
            if flags.get("k").is_none() {
                " (the default)"
            } else {
                ""
            },
            profiles.len()
        ));
    }
    crate::progress::stage(format!(
        "segmenting {} customers ({method})",
        profiles.len()
    ));
    let consent_date = flags.optional_date("consent-date")?;
    let scope = match consent_date {
        Some(day) => crate::consent::scope(&flags, day)?,
        None if flags.get("consents").is_some() => {
            return Err("--consents needs --consent-date, the day consent is judged on".into())
        }
        None => None,
    };
    let mut result = segment(&profiles, method, k, seed)?;
    if let Some(scope) = &scope {
        // One row per profile, in order.
        let mut rows = std::mem::take(&mut result.table.rows);
        let everyone = rows.len();
        let mut allowed = profiles.iter().map(|p| scope.allows(p.id()));
        rows.retain(|_| allowed.next().unwrap_or(false));
        crate::consent::note(scope, everyone - rows.len(), rows.len());
        result.table.rows = rows;
    }
    output.write_table(&result.table)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clv_segment_counts_on_cdnow_are_consistent() {
        let path = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/cdnow_summary.csv"
        ));
        let input = Input::new(path.to_str().unwrap(), None).unwrap();
        let profiles = read_summary(&input, TimeUnit::WEEKS).unwrap();
        assert_eq!(profiles.len(), 2357);
        let mut counts = std::collections::BTreeMap::new();
        for method in ["rfm", "abc", "lifecycle", "kmeans"] {
            let out = segment(&profiles, method, 4, 0).unwrap();
            // One row per customer, each customer once, in input order.
            assert_eq!(out.table.rows.len(), 2357, "{method}");
            let ids: Vec<&str> = out
                .table
                .rows
                .iter()
                .map(|r| match &r[0] {
                    Cell::Text(id) => id.as_str(),
                    other => panic!("{other:?}"),
                })
                .collect();
            let unique: std::collections::HashSet<&&str> = ids.iter().collect();
            assert_eq!(unique.len(), 2357, "{method}");
            assert_eq!(ids[0], "1");
            // Segments are listed by spend, largest first.
            assert!(
                out.shares.windows(2).all(|w| w[0].spend >= w[1].spend),
                "{method}"
            );
            if method == "abc" {
                let order: Vec<&str> = out.shares.iter().map(|s| s.segment.as_str()).collect();
                assert_eq!(order, ["A", "B", "C"]);
            }
            let customers: usize = out.shares.iter().map(|s| s.customers).sum();
            assert_eq!(customers, 2357, "{method}");
            let pct: f64 = out.shares.iter().map(|s| s.customer_pct).sum();
            let spend: f64 = out.shares.iter().map(|s| s.spend_pct).sum();
            assert!(
                (pct - 100.0).abs() < 1e-9 && (spend - 100.0).abs() < 1e-9,
                "{method}"
            );
            for s in &out.shares {
                counts.insert(format!("{method}:{}", s.segment), s.customers);
            }
        }
        assert_eq!(
            segment(&profiles, "rfm", 4, 0).unwrap().table.names,
            [
                "customer_id",
                "segment",
                "recency_score",
                "frequency_score",
                "monetary_score"
            ]
        );
        // The figures documented in the README (notes/segments.md).
        let get = |k: &str| counts.get(k).copied().unwrap_or(0);
        assert_eq!((get("abc:A"), get("abc:B"), get("abc:C")), (351, 315, 1691));
        assert_eq!(get("rfm:Champions"), 481);
        assert_eq!(get("rfm:Lost"), 458);
        assert!(segment(&profiles, "bogus", 4, 0).is_err());
    }
}
