//! The literal text of the JSON numbers a policy gives as condition values.
//!
//! The policy is read into a `serde_json::Value`, which holds a number that
//! is not an integer of `u64`/`i64` range as an `f64`:
//! `12345678901234567890123` became `1.2345678901234568e22`,
//! `0.1000000000000000000001` became `0.1` and `1e-400` became `0`, so a
//! numeric condition compared another number than the one written. The
//! numeric operators read such a value from its text in the document
//! instead ([`Literals::number`]): the document is read a second time,
//! only when a numeric condition has such a value, with the condition
//! values kept as their raw JSON text (`serde_json::value::RawValue`).
//!
//! A number beyond `f64`'s range (`1e400`, `-1e400`, a 500-digit integer)
//! is refused by serde_json's `Value` reader ("number out of range"), which
//! refused the whole document. When the first reading fails, the document
//! is read again with each such condition value written as a JSON string of
//! the same text ([`Literals::quote_out_of_range`]): the value is then what
//! its string form is, accepted wherever that is and compared exactly by
//! the numeric operators. A number beyond the range anywhere else is still
//! refused, as any number there would be.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::OnceCell;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The raw texts of a document's condition values, read on first use.
pub(crate) struct Literals<'a> {
    document: &'a str,
    table: OnceCell<Table<'a>>,
}

/// (statement index, operator, condition key) as written (JSON escapes
/// decoded) → the raw text of the value, or of each element of its list.
type Table<'a> = BTreeMap<(usize, String, String), Vec<&'a str>>;

#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(rename = "Statement", borrow)]
    statement: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct RawStatement<'a> {
    #[serde(rename = "Condition", borrow)]
    condition: Option<BTreeMap<String, BTreeMap<String, &'a RawValue>>>,
}

/// The elements of `raw` when it is a JSON array, else `raw` alone.
fn items(raw: &RawValue) -> Vec<&RawValue> {
    if raw.get().starts_with('[') {
        crate::json_from_str(raw.get()).unwrap_or_default()
    } else {
        alloc::vec![raw]
    }
}

impl<'a> Literals<'a> {
    /// The literals of `document`, which the policy parser has read as
    /// JSON (objects without repeated keys).
    pub(crate) fn new(document: &'a str) -> Literals<'a> {
        Literals {
            document,
            table: OnceCell::new(),
        }
    }

    fn table(&self) -> &Table<'a> {
        self.table.get_or_init(|| {
            let mut table = Table::new();
            let Ok(RawDocument {
                statement: Some(statements),
            }) = crate::json_from_str::<RawDocument<'a>>(self.document)
            else {
                return table;
            };
            for (index, statement) in items(statements).into_iter().enumerate() {
                // A statement that is not one is refused by the parser
                // itself; only the others are asked for.
                let Ok(RawStatement {
                    condition: Some(condition),
                }) = crate::json_from_str::<RawStatement<'a>>(statement.get())
                else {
                    continue;
                };
                for (op, keys) in condition {
                    for (key, raw) in keys {
                        let texts = items(raw).into_iter().map(RawValue::get).collect();
                        table.insert((index, op.clone(), key), texts);
                    }
                }
            }
            table
        })
    }

    /// The document with each condition value that is a JSON number
    /// beyond `f64`'s range (which serde_json refuses to read into a
    /// `Value`) written as a JSON string of its text (`1e400` → `"1e400"`);
    /// `None` when it has no such value. Values in a list are each
    /// considered. A reading error of the result is placed 2 columns
    /// further per value quoted before it.
    pub(crate) fn quote_out_of_range(&self) -> Option<String> {
        let start = self.document.as_ptr() as usize;
        let mut at: Vec<(usize, usize)> = self
            .table()
            .values()
            .flatten()
            .filter(|text| {
                text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
                    && crate::json_from_str::<f64>(text).is_err()
            })
            // Every text is a slice of `document` (borrowed by the raw
            // values read from it).
            .map(|text| (text.as_ptr() as usize - start, text.len()))
            .collect();
        if at.is_empty() {
            return None;
        }
        at.sort_unstable();
        let mut quoted = String::with_capacity(self.document.len() + 2 * at.len());
        let mut done = 0;
        for (offset, len) in at {
            quoted.push_str(&self.document[done..offset]);
            quoted.push('"');
            quoted.push_str(&self.document[offset..offset + len]);
            quoted.push('"');
            done = offset + len;
        }
        quoted.push_str(&self.document[done..]);
        Some(quoted)
    }

    /// The text of the `item`th value (0 for a value not in a list) of the
    /// condition key `key` under the operator `op` of statement `statement`
    /// (its index in the `Statement` list, 0 when `Statement` is one
    /// object); `None` when the document has none there.
    pub(crate) fn number(
        &self,
        statement: usize,
        op: &str,
        key: &str,
        item: usize,
    ) -> Option<&'a str> {
        let texts = self
            .table()
            .get(&(statement, String::from(op), String::from(key)))?;
        texts.get(item).copied()
    }
}
