//! `--referrals FILE` for `report`: referral events added to the ledger, so that each
//! customer's row carries their referral count and value beside their CLV.
//!
//! The file has columns `referrer,referred,date` and an optional `channel` (dates YYYY-MM-DD;
//! an empty `channel` cell is a referral without a channel). Each row goes through the
//! ledger's checks: both customers have transactions in the log, no one refers themselves, the
//! referred customer's first purchase is not before the referral, a customer is referred once
//! (an exact copy of a row is a no-op) and referrals form no cycle. A row that breaks a rule is
//! refused naming the file and line.

use customer_assets::records::Referral;
use customer_assets::{CustomerId, Ledger};

use crate::common::{
    at, line_place, next_row, no_rows, parse_date, text_field, Flags, Header, LineCounter,
};

/// Adds the referrals of `--referrals FILE` to `ledger`, if the flag is given; how many rows
/// were read.
pub fn add(flags: &Flags, ledger: &mut Ledger) -> Result<Option<usize>, String> {
    if flags.get("referrals").is_none() {
        return Ok(None);
    }
    let input = flags.input("referrals")?;
    let path = input.path.as_str();
    let bytes = input.csv_bytes().map_err(|e| format!("--referrals: {e}"))?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["referrer", "referred", "date"])?;
    let channel_col = header.optional("channel")?;
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(&bytes);
    let mut rows = 0;
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let here = |col: usize| at(path, line, &header.names[col]);
        let field = |col: usize| text_field(&header, &record, line, col);
        let (from_col, to_col, date_col) = (header.cols[0], header.cols[1], header.cols[2]);
        let from =
            CustomerId::new(field(from_col)?).map_err(|e| format!("{}: {e}", here(from_col)))?;
        let to = CustomerId::new(field(to_col)?).map_err(|e| format!("{}: {e}", here(to_col)))?;
        let date = parse_date(field(date_col)?).map_err(|e| format!("{}: {e}", here(date_col)))?;
        let mut referral = Referral::new(from, to, date)
            .map_err(|e| format!("{}: {e}", line_place(path, line)))?;
        if let Some(col) = channel_col {
            let text = field(col)?;
            if !text.trim().is_empty() {
                referral = referral
                    .with_channel(text)
                    .map_err(|e| format!("{}: {e}", here(col)))?;
            }
        }
        ledger
            .add_referral(referral)
            .map_err(|e| format!("{}: {e}", line_place(path, line)))?;
        rows += 1;
    }
    if rows == 0 {
        // An empty file values no referral: almost surely the wrong file.
        return Err(no_rows(path, "referral"));
    }
    Ok(Some(rows))
}
