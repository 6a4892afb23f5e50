//! `clv pseudonymize --transactions FILE.csv --key-file KEY [--customer-col C] [--delimiter D]
//! [--output FILE]`: the same CSV log with every customer id replaced by its pseudonym under
//! the key (`customer_assets::Pseudonymizer`: HMAC-SHA-256 of the id's text, 64 hex digits).
//!
//! - The key is the key file's bytes, with one trailing `\n` or `\r\n` removed if present, so
//!   that `openssl rand -hex 32 > key` (64 hex characters and a line end: the key is those 64
//!   bytes of text) and `head -c 32 /dev/urandom > key` both make keys; at least 32 bytes, at
//!   most [`MAX_KEY_BYTES`].
//! - The header and every other field come out as the csv crate parsed them, in the same order,
//!   rows in the same order (fields quoted only where CSV needs it; a byte-order mark and blank
//!   lines are dropped). The id is read as the other subcommands read it (trimmed; `42` and the
//!   integer 42 are one customer), so a pseudonymised log gives every other subcommand the same
//!   customers, under their pseudonyms.
//! - Rows are written as they are read. On an error no output file is left behind (a partial
//!   log could pass for a whole one).

use std::io::Read;

use customer_assets::records::PseudonymError;
use customer_assets::{CustomerId, Pseudonymizer};

use crate::common::{
    at, body_start, echo, next_row, no_rows, text_field, write_error, Flags, Header, LineCounter,
};

/// The largest key file read (1 MiB): anything longer is not a key (the log given twice, a
/// device that never ends).
pub const MAX_KEY_BYTES: u64 = 1 << 20;

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(args, &["transactions", "key-file"])?;
    let output = flags.output(true)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    if !input.is_csv() {
        return Err(format!(
            "{path}: clv pseudonymize reads and writes CSV logs; this file is {} by its \
             extension (write it as CSV first)",
            match input.format {
                crate::table::InputFormat::Parquet => "Parquet",
                _ => "Arrow IPC",
            }
        ));
    }
    let key_path = flags.required("key-file")?;
    let pseudonymizer = read_key(key_path)?;
    if let Some(out) = &output.path {
        if same_file(out, path) {
            return Err(format!(
                "--output: {} is the --transactions file; write the pseudonymised log to \
                 another file",
                echo(out)
            ));
        }
    }

    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let customer = input.log_column_names()[0];
    let header = Header::read(path, &mut reader, &[customer])?;
    if bytes[body_start(&bytes, &reader)..]
        .iter()
        .all(u8::is_ascii_whitespace)
    {
        return Err(no_rows(path, "transactions"));
    }
    let names = reader
        .byte_headers()
        .map_err(|e| format!("{path}: line 1: cannot read the header row: {e}"))?
        .clone();

    crate::progress::stage(format!("pseudonymising {path}"));
    let writer = output.writer()?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(input.csv_delimiter())
        .from_writer(writer);
    let written = (|| {
        writer.write_byte_record(&names).map_err(csv_write_error)?;
        let col = header.cols[0];
        let (mut record, mut out) = (csv::ByteRecord::new(), csv::ByteRecord::new());
        let mut lines = LineCounter::new(&bytes);
        while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
            let id = CustomerId::new(text_field(&header, &record, line, col)?)
                .map_err(|e| format!("{}: {e}", at(path, line, &header.names[col])))?;
            let alias = pseudonymizer.pseudonym(&id).to_string();
            out.clear();
            for (i, field) in record.iter().enumerate() {
                out.push_field(if i == col { alias.as_bytes() } else { field });
            }
            writer.write_byte_record(&out).map_err(csv_write_error)?;
        }
        writer.flush().map_err(write_error)
    })();
    if written.is_err() {
        if let Some(out) = &output.path {
            drop(writer);
            // Best effort: the error that stopped the run is the one to report.
            let _ = std::fs::remove_file(out);
        }
    }
    written
}

/// The pseudonymizer of the key in the file at `path` (see the module's documentation).
fn read_key(path: &str) -> Result<Pseudonymizer, String> {
    let cannot = |e: std::io::Error| format!("--key-file: cannot read {path}: {e}");
    let mut key = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_KEY_BYTES + 1).read_to_end(&mut key))
        .map_err(cannot)?;
    if key.len() as u64 > MAX_KEY_BYTES {
        return Err(format!(
            "--key-file: {path} is longer than {MAX_KEY_BYTES} bytes, which is no key (32 random \
             bytes are one)"
        ));
    }
    if key.ends_with(b"\r\n") {
        key.truncate(key.len() - 2);
    } else if key.ends_with(b"\n") {
        key.truncate(key.len() - 1);
    }
    Pseudonymizer::new(&key).map_err(|e| match e {
        PseudonymError::KeyTooShort { length, minimum } => format!(
            "--key-file: {path}: the key is {length} bytes (a trailing line end not counted), at \
             least {minimum} are needed; make one with `openssl rand -hex 32 > KEYFILE`"
        ),
        other => format!("--key-file: {path}: {other}"),
    })
}

/// Whether the paths `a` and `b` name one existing file.
fn same_file(a: &str, b: &str) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The message for a failed CSV write ([`write_error`] for the writer's own failures).
fn csv_write_error(e: csv::Error) -> String {
    let text = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => write_error(io),
        _ => format!("cannot write output: {text}"),
    }
}
