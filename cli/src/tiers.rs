//! `clv tiers`: loyalty tier and points status of every customer at an as-of date.

use std::io::Write;

use customer_assets::loyalty::{Evaluator, Programme};
use customer_assets::{CustomerId, Transaction, TransactionKind};

use crate::common::{
    at, check_span, csv_field, csv_reader, echo, finish, next_row, no_rows, parse_date,
    parse_money, read_csv_bytes, stdout, text_field, write_error, Flags, Header,
};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "rules", "as-of"])?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let rules_path = flags.required("rules")?;
    let as_of = flags.date("as-of")?;
    let text = std::fs::read_to_string(rules_path)
        .map_err(|e| format!("--rules: cannot read {rules_path}: {e}"))?;
    // serde_json's message carries the line and column.
    let programme: Programme = serde_json::from_str(&text).map_err(|e| {
        format!(
            "--rules: {rules_path}: {}",
            crate::common::cut_lines(&e.to_string(), 200)
        )
    })?;
    let transactions = if input.is_csv() {
        read_transactions(path)?
    } else {
        let mut transactions = Vec::new();
        input.for_each_transaction(true, |t| {
            transactions.push(t);
            Ok(())
        })?;
        transactions
    };
    let first = transactions
        .iter()
        .map(Transaction::date)
        .min()
        .ok_or_else(|| no_rows(path, "transactions"))?;
    check_span("as-of", as_of, first, path)?;
    if as_of < first {
        return Err(format!(
            "--as-of: {as_of} is before the first transaction in {path} ({first}); no customer \
             has a tier yet"
        ));
    }
    let replays = Evaluator::new(&programme)
        .evaluate_base(&[], &transactions, &[], &[], as_of)
        .map_err(|e| format!("{path} with --rules {rules_path}: {e}"))?;

    let mut out = stdout();
    let write_err = write_error;
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
            csv_field(&s.customer.to_string()),
            csv_field(s.tier.as_ref()),
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
    let bytes = read_csv_bytes(path)?;
    let mut reader = csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["customer_id", "date", "amount"])?;
    let cols = header.cols.clone();
    let kind_col = header.optional("kind")?;
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = crate::common::LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let here = |c: usize| at(path, line, &header.names[c]);
        let field = |c: usize| text_field(&header, &record, line, c);
        let id = CustomerId::new(field(cols[0])?).map_err(|e| format!("{}: {e}", here(cols[0])))?;
        let date = parse_date(field(cols[1])?).map_err(|e| format!("{}: {e}", here(cols[1])))?;
        let amount = parse_money(field(cols[2])?).map_err(|e| format!("{}: {e}", here(cols[2])))?;
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(format!(
                "{}: {} is negative (a return is a positive amount with kind return)",
                here(cols[2]),
                echo(field(cols[2])?)
            ));
        }
        let amount = amount.abs();
        let kind = match kind_col {
            None => TransactionKind::Purchase,
            Some(i) => match field(i)? {
                "" | "purchase" => TransactionKind::Purchase,
                "return" | "refund" => TransactionKind::Return,
                other => {
                    return Err(format!(
                        "{}: {} is not purchase or return",
                        here(i),
                        echo(other)
                    ))
                }
            },
        };
        let t = Transaction::new(id, date.and_time(chrono::NaiveTime::MIN), amount, kind)
            .map_err(|e| format!("{path}: line {line}: {e}"))?;
        out.push(t);
    }
    if out.is_empty() {
        return Err(no_rows(path, "transactions"));
    }
    Ok(out)
}
