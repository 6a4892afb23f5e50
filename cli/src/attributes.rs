//! Attribute files: one row per customer, one column per attribute, for `clv fit --covariates
//! ATTR.csv` and `clv profile --attributes ATTR.csv`.
//!
//! The id column is the first column, or the one named (`--customer-col`); every other column
//! is an attribute named as its header. A column is numeric when every non-empty value in it is
//! a decimal number (`12`, `-0.5`, `1e3`: the tool's number form), else categorical (its values
//! are labels, trimmed). An empty cell is a missing value: the customer has no value of that
//! attribute, and a design that needs it says so, naming the customer. A customer on two rows,
//! a column without any value, an attribute name or label the library refuses and a number out
//! of range are errors naming the file, line and column.

use std::collections::HashMap;
use std::path::Path;

use customer_assets::covariates::{AttributeTable, AttributeValue, CovariateError};
use customer_assets::CustomerId;

use crate::common::{at, echo, is_decimal, next_row, no_rows, text_field, Header, LineCounter};
use crate::table::Input;

/// Reads the attribute file at `path` (CSV, or Parquet/Arrow IPC by extension) into a table;
/// `id_column` names the id column, else it is the first column.
pub(crate) fn read_attribute_table(
    path: &Path,
    id_column: Option<&str>,
) -> Result<AttributeTable, String> {
    let text = path
        .to_str()
        .ok_or_else(|| format!("{}: the path is not UTF-8 text", path.display()))?;
    read_attributes(&Input::new(text, None)?, id_column)
}

/// Reads the attribute file `input` (with its delimiter) into a table; see
/// [`read_attribute_table`].
pub(crate) fn read_attributes(
    input: &Input,
    id_column: Option<&str>,
) -> Result<AttributeTable, String> {
    let path = input.path.as_str();
    let bytes = input.csv_bytes()?;
    let mut reader = input.csv_reader(&bytes);
    let required: Vec<&str> = id_column.into_iter().collect();
    let header = Header::read(path, &mut reader, &required)?;
    let id_col = header.cols.first().copied().unwrap_or(0);
    let mut attribute_cols = Vec::new();
    for (col, name) in header.names.iter().enumerate() {
        if col == id_col {
            continue;
        }
        if name.is_empty() {
            return Err(format!(
                "{path}: line 1: column {} has no name (an attribute needs one)",
                col + 1
            ));
        }
        if header.optional(name)? != Some(col) {
            return Err(format!(
                "{path}: line 1: the header names column {} more than once",
                echo(name)
            ));
        }
        attribute_cols.push(col);
    }
    if attribute_cols.is_empty() {
        return Err(format!(
            "{path}: line 1: no attribute column beside the id column {}",
            echo(&header.names[id_col])
        ));
    }

    // First pass: the cells, as text, and the line of each customer.
    let mut rows: Vec<(u64, CustomerId, Vec<String>)> = Vec::new();
    let mut lines_of: HashMap<CustomerId, u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(&bytes);
    while let Some(line) = next_row(&header, &mut reader, &mut record, &mut lines)? {
        let id_text = text_field(&header, &record, line, id_col)?;
        let id = CustomerId::new(id_text)
            .map_err(|e| format!("{}: {e}", at(path, line, &header.names[id_col])))?;
        if let Some(first) = lines_of.insert(id.clone(), line) {
            return Err(format!(
                "{}: customer {} appears again (first on line {first})",
                at(path, line, &header.names[id_col]),
                echo(&id.to_string())
            ));
        }
        let cells = attribute_cols
            .iter()
            .map(|&col| text_field(&header, &record, line, col).map(str::to_string))
            .collect::<Result<Vec<_>, _>>()?;
        rows.push((line, id, cells));
    }
    if rows.is_empty() {
        return Err(no_rows(path, "customers"));
    }

    // The kind of each column: numeric when every value is a number.
    let mut numeric = Vec::with_capacity(attribute_cols.len());
    for (k, &col) in attribute_cols.iter().enumerate() {
        let mut values = rows.iter().map(|(_, _, cells)| cells[k].as_str());
        if values.clone().all(str::is_empty) {
            return Err(format!(
                "{path}: column {} has no value in any row",
                echo(&header.names[col])
            ));
        }
        numeric.push(values.all(|v| v.is_empty() || is_decimal(v)));
    }

    // A cell that reads as a number but is none (NaN, an infinity) is neither a value nor a
    // category: a missing value is an empty cell.
    for (line, _, cells) in &rows {
        for (k, &col) in attribute_cols.iter().enumerate() {
            let cell = cells[k].trim();
            if !is_decimal(cell) && cell.parse::<f64>().is_ok_and(|v| !v.is_finite()) {
                return Err(format!(
                    "{}: {} is not a finite number (leave the cell empty for a missing value)",
                    at(path, *line, &header.names[col]),
                    echo(cell)
                ));
            }
        }
    }
    let mut table = AttributeTable::new();
    for (line, id, cells) in rows {
        for (k, &col) in attribute_cols.iter().enumerate() {
            let cell = cells[k].as_str();
            if cell.is_empty() {
                continue;
            }
            let name = &header.names[col];
            let here = || at(path, line, name);
            let value = if numeric[k] {
                let v: f64 = cell.parse().unwrap_or(f64::INFINITY);
                AttributeValue::number(v).map_err(|_| {
                    format!(
                        "{}: {} is too large for a finite number",
                        here(),
                        echo(cell)
                    )
                })?
            } else {
                AttributeValue::category(cell).map_err(|e| format!("{}: {e}", here()))?
            };
            table.insert(id.clone(), name, value).map_err(|e| match e {
                CovariateError::BadName { .. } => format!("{path}: line 1: {e}"),
                e => format!("{}: {e}", here()),
            })?;
        }
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use customer_assets::covariates::{AttributeKind, DesignBuilder};

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn an_attribute_file_becomes_a_table_with_kinds_and_missing_values() {
        let dir = std::env::temp_dir().join(format!("clv-unit-attributes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = write(
            &dir,
            "attr.csv",
            "Id,Gender,Channel,age,segment\n1,0,0,34.5,gold\n2,1,0,,silver\n\"3\",1,1,2e1, gold \n",
        );
        let table = read_attribute_table(&good, None).unwrap();
        assert_eq!(table.len(), 3);
        assert_eq!(
            table.attributes().collect::<Vec<_>>(),
            [
                ("Channel", AttributeKind::Numeric),
                ("Gender", AttributeKind::Numeric),
                ("age", AttributeKind::Numeric),
                ("segment", AttributeKind::Categorical)
            ]
        );
        let id = |n: u64| CustomerId::from(n);
        assert_eq!(table.get(&id(2), "age"), None);
        assert_eq!(
            table.get(&id(3), "age"),
            Some(&AttributeValue::Number(20.0))
        );
        assert_eq!(
            table.get(&id(3), "segment"),
            Some(&AttributeValue::Category("gold".into()))
        );
        // The missing age is named by a design that needs it.
        let ids: Vec<CustomerId> = (1..=3).map(id).collect();
        let err = DesignBuilder::new()
            .numeric("age")
            .build(&table, &ids)
            .unwrap_err();
        assert_eq!(err.to_string(), "customer 2 has no value for attribute age");

        // The id column by name; a number-like column with a word in it is categorical.
        let named = write(&dir, "named.csv", "age,client,code\n30,a,1\n40,b,x\n");
        let table = read_attribute_table(&named, Some("client")).unwrap();
        assert_eq!(table.kind("code"), Some(AttributeKind::Categorical));
        assert_eq!(table.kind("age"), Some(AttributeKind::Numeric));
        assert_eq!(table.kind("client"), None);

        let p = |name: &str| dir.join(name).display().to_string();
        let cases = [
            (
                "dup.csv",
                "id,a\n1,2\n1,3\n",
                None,
                format!(
                    "{}: line 3, column id: customer \"1\" appears again (first on line 2)",
                    p("dup.csv")
                ),
            ),
            (
                "huge.csv",
                "id,a\n1,2\n2,1e400\n",
                None,
                format!(
                    "{}: line 3, column a: \"1e400\" is too large for a finite number",
                    p("huge.csv")
                ),
            ),
            (
                "empty_col.csv",
                "id,a,b\n1,2,\n2,3,\n",
                None,
                format!(
                    "{}: column \"b\" has no value in any row",
                    p("empty_col.csv")
                ),
            ),
            (
                "only_id.csv",
                "id\n1\n",
                None,
                format!(
                    "{}: line 1: no attribute column beside the id column \"id\"",
                    p("only_id.csv")
                ),
            ),
            (
                "no_rows.csv",
                "id,a\n",
                None,
                format!(
                    "{}: no customers after the header row (line 1)",
                    p("no_rows.csv")
                ),
            ),
            (
                "twice.csv",
                "id,a,a\n1,2,3\n",
                None,
                format!(
                    "{}: line 1: the header names column \"a\" more than once",
                    p("twice.csv")
                ),
            ),
            (
                "no_col.csv",
                "id,a\n1,2\n",
                Some("client"),
                format!(
                    "{}: line 1: header has no \"client\" column (found: \"id,a\")",
                    p("no_col.csv")
                ),
            ),
            (
                "short.csv",
                "id,a\n1,2\n2\n",
                None,
                format!("{}: line 3: 1 fields, but the header has 2", p("short.csv")),
            ),
            (
                "blank_id.csv",
                "id,a\n1,2\n ,3\n",
                None,
                format!(
                    "{}: line 3, column id: customer id is empty",
                    p("blank_id.csv")
                ),
            ),
        ];
        for (name, text, id_column, expected) in cases {
            let path = write(&dir, name, text);
            assert_eq!(
                read_attribute_table(&path, id_column).unwrap_err(),
                expected,
                "{name}"
            );
        }
        let long = write(&dir, "long.csv", &format!("id,{}\n1,2\n", "n".repeat(65)));
        let err = read_attribute_table(&long, None).unwrap_err();
        assert!(err.contains(": line 1: attribute name"), "{err}");
        let label = write(
            &dir,
            "label.csv",
            &format!("id,a\n1,x\n2,{}\n", "y".repeat(201)),
        );
        let err = read_attribute_table(&label, None).unwrap_err();
        assert!(err.contains(": line 3, column a: category"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
