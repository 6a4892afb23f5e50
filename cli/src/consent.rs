//! `--consents FILE --purpose P`: restrict an export (`segment`'s rows, `report`'s customers) to
//! the customers whose consent to a purpose covers the day, and say how many were left out.
//!
//! The consent file has columns `customer_id,purpose,given` and an optional `withdrawn` (dates
//! YYYY-MM-DD; an empty `withdrawn` cell is a consent not withdrawn). A customer may have several
//! rows; one covering the day is enough. A customer without a row has not consented.

use chrono::NaiveDate;
use customer_assets::ledger::ConsentScope;
use customer_assets::records::{Consent, Purpose};
use customer_assets::CustomerId;

use crate::common::{
    at, echo, next_row, no_rows, parse_date, text_field, Flags, Header, LineCounter,
};

/// The scope `--consents FILE --purpose P` ask for on `day`, if they ask.
pub fn scope(flags: &Flags, day: NaiveDate) -> Result<Option<ConsentScope>, String> {
    let purpose = match (flags.get("consents"), flags.get("purpose")) {
        (None, None) => return Ok(None),
        (Some(_), Some(purpose)) => Purpose::new(purpose).map_err(|e| format!("--purpose: {e}"))?,
        _ => return Err("--consents FILE and --purpose P go together".into()),
    };
    let input = flags.input("consents")?;
    let path = input.path.as_str();
    let bytes = input.csv_bytes().map_err(|e| format!("--consents: {e}"))?;
    let mut reader = input.csv_reader(&bytes);
    let header = Header::read(path, &mut reader, &["customer_id", "purpose", "given"])?;
    let withdrawn_col = header.optional("withdrawn")?;
    let mut consents: Vec<(CustomerId, Consent)> = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let here = |col: usize| at(path, line, &header.names[col]);
        let field = |col: usize| text_field(&header, &record, line, col);
        let (id_col, purpose_col, given_col) = (header.cols[0], header.cols[1], header.cols[2]);
        let id = CustomerId::new(field(id_col)?).map_err(|e| format!("{}: {e}", here(id_col)))?;
        let row_purpose =
            Purpose::new(field(purpose_col)?).map_err(|e| format!("{}: {e}", here(purpose_col)))?;
        let given =
            parse_date(field(given_col)?).map_err(|e| format!("{}: {e}", here(given_col)))?;
        let mut consent = Consent::given(row_purpose, given);
        if let Some(col) = withdrawn_col {
            let text = field(col)?;
            if !text.trim().is_empty() {
                let day = parse_date(text).map_err(|e| format!("{}: {e}", here(col)))?;
                consent = consent
                    .withdrawn(day)
                    .map_err(|e| format!("{}: customer {id}: {e}", here(col)))?;
            }
        }
        consents.push((id, consent));
    }
    if consents.is_empty() {
        // An empty file restricts the output to no one: almost surely the wrong file.
        return Err(no_rows(path, "consent"));
    }
    Ok(Some(ConsentScope::from_consents(
        &purpose,
        day,
        consents.iter().map(|(id, c)| (id, c)),
    )))
}

/// The note on stderr for the rows an export left out.
pub fn note(scope: &ConsentScope, left_out: usize, kept: usize) {
    eprintln!(
        "clv: note: {left_out} customer(s) left out of the output for want of consent to {} on {} ({kept} kept)",
        echo(scope.purpose().name()),
        scope.day()
    );
}
