//! `clv tiers`: loyalty tier and points status of every customer at an as-of date.

use customer_assets::loyalty::{Evaluator, Programme};
use customer_assets::Transaction;

use crate::common::{check_span, no_rows, Flags};
use crate::output::{Cell, Table};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "rules", "as-of"])?;
    let output = flags.output(true)?;
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
    let mut transactions = Vec::new();
    input.for_each_transaction(true, |t| {
        transactions.push(t);
        Ok(())
    })?;
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
    crate::progress::stage(format!(
        "replaying the programme over {} transactions",
        transactions.len()
    ));
    let replays = Evaluator::new(&programme)
        .evaluate_base(&[], &transactions, &[], &[], as_of)
        .map_err(|e| format!("{path} with --rules {rules_path}: {e}"))?;

    let mut table = Table::new(&[
        "customer_id",
        "tier",
        "since",
        "qualifying_value",
        "to_next_tier",
        "points_balance",
    ]);
    for r in &replays {
        let s = r.status();
        table.rows.push(vec![
            Cell::Text(s.customer.to_string()),
            Cell::Text(s.tier.to_string()),
            Cell::Date(s.since),
            Cell::Money(s.qualifying_value),
            s.to_next_tier.map_or(Cell::Null, Cell::Money),
            i64::try_from(s.points.balance)
                .map_or_else(|_| Cell::Text(s.points.balance.to_string()), Cell::Int),
        ]);
    }
    output.write_table(&table)
}
