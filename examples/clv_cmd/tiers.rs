//! `clv tiers`: loyalty tier and points status of every customer at an as-of date.

use std::io::Write;

use customer_assets::loyalty::{Evaluator, Programme};
use customer_assets::{CustomerId, Transaction, TransactionKind};

use crate::common::{
    columns, csv_reader, finish, line_of, optional_column, parse_date, stdout, Flags,
};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "rules", "as-of"])?;
    let path = flags.required("transactions")?;
    let rules_path = flags.required("rules")?;
    let as_of = flags.date("as-of")?;
    let text = std::fs::read_to_string(rules_path)
        .map_err(|e| format!("cannot read {rules_path}: {e}"))?;
    let programme: Programme =
        serde_json::from_str(&text).map_err(|e| format!("{rules_path}: {e}"))?;
    let transactions = read_transactions(path)?;
    let replays = Evaluator::new(&programme)
        .evaluate_base(&[], &transactions, &[], &[], as_of)
        .map_err(|e| e.to_string())?;

    let mut out = stdout();
    let write_err = |e: std::io::Error| format!("cannot write output: {e}");
    writeln!(
        out,
        "customer_id,tier,since,qualifying_value,to_next_tier,points_balance"
    )
    .map_err(write_err)?;
    for r in &replays {
        let s = r.status();
        let to_next = s
            .to_next_tier
            .map(|d| d.normalize().to_string())
            .unwrap_or_default();
        writeln!(
            out,
            "{},{},{},{},{},{}",
            s.customer,
            s.tier,
            s.since,
            s.qualifying_value.normalize(),
            to_next,
            s.points.balance
        )
        .map_err(write_err)?;
    }
    finish(out)
}

/// Reads `customer_id,date,amount` and an optional `kind` column (`purchase` or `return`; rows
/// without it are purchases). A malformed row stops the read with its line named.
fn read_transactions(path: &str) -> Result<Vec<Transaction>, String> {
    let mut reader = csv_reader(path)?;
    let headers = reader
        .headers()
        .map_err(|e| format!("{path}: cannot read the header row: {e}"))?
        .clone();
    let cols = columns(path, &headers, &["customer_id", "date", "amount"])?;
    let kind_col = optional_column(&headers, "kind");
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Ok(out),
            Err(e) => return Err(format!("{path}: {e}")),
        }
        let line = || line_of(path, &record);
        let field = |i: usize| -> Result<&str, String> {
            let bytes = record
                .get(i)
                .ok_or_else(|| format!("{}: missing field", line()))?;
            std::str::from_utf8(bytes).map_err(|_| format!("{}: field is not UTF-8", line()))
        };
        let id = CustomerId::new(field(cols[0])?).map_err(|e| format!("{}: {e}", line()))?;
        let date = parse_date(field(cols[1])?.trim()).map_err(|e| format!("{}: {e}", line()))?;
        let amount =
            Transaction::parse_amount(field(cols[2])?, &line()).map_err(|e| e.to_string())?;
        let kind = match kind_col {
            None => TransactionKind::Purchase,
            Some(i) => match field(i)?.trim() {
                "" | "purchase" => TransactionKind::Purchase,
                "return" | "refund" => TransactionKind::Return,
                other => {
                    return Err(format!(
                        "{}: kind {other:?} is not purchase or return",
                        line()
                    ))
                }
            },
        };
        let t = Transaction::new(id, date.and_time(chrono::NaiveTime::MIN), amount, kind)
            .map_err(|e| format!("{}: {e}", line()))?;
        out.push(t);
    }
}
