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
//! refused, as any number there would be. An error found in the document
//! read again is reported at its line and column in the document as given
//! ([`Quoted::column`]), not in the quoted text.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::OnceCell;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The raw texts of a document's condition values, read on first use.
pub(crate) struct Literals<'a> {
    document: &'a str,
    table: OnceCell<Table<'a>>,
}

/// (statement index, operator, condition key) as written (JSON escapes
/// decoded) → the raw text of the value, or of each element of its list.
/// Sorted by its keys once built, and searched by bisection
/// ([`Literals::number`]): a 32 KiB document can hold a thousand condition
/// keys and several thousand numbers, each looked up once. (A sorted
/// vector, not a `BTreeMap`: no map code of another type in the
/// WebAssembly module.)
type Table<'a> = Vec<((usize, String, String), Vec<&'a str>)>;

/// A document with its condition values beyond `f64`'s range quoted
/// ([`Literals::quote_out_of_range`]).
pub(crate) struct Quoted<'a> {
    /// The quoted text, to read instead of the document.
    pub(crate) text: String,
    document: &'a str,
    /// (byte offset in the document, length) of each value quoted, in
    /// order of offset.
    at: Vec<(usize, usize)>,
}

impl Quoted<'_> {
    /// The column in the document of serde_json's position (`line`,
    /// `column`) in the quoted text: the same line (quotes add no line),
    /// and a column of bytes counted as serde_json counts them (1-based:
    /// the byte the error was found at), less the 2 quotes of each value
    /// quoted before the position on its line (1 when the position is
    /// within a quoted value). An inserted quote stands for the byte of the
    /// value next to it: the opening one for its first byte, the closing
    /// one for its last.
    pub(crate) fn column(&self, line: usize, column: usize) -> usize {
        // serde_json's position is a byte index `i` of the text read, given
        // as its line and `i` - the start of that line.
        let line_start = |text: &str| match line.checked_sub(2) {
            None => 0,
            Some(newlines) => text
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .nth(newlines)
                .map_or(text.len(), |(i, _)| i + 1),
        };
        let in_quoted = (line_start(&self.text) + column).min(self.text.len());
        let mut in_document = in_quoted;
        for (k, &(offset, len)) in self.at.iter().enumerate() {
            let open = offset + 2 * k;
            if in_quoted <= open {
                break;
            }
            in_document = if in_quoted <= open + 1 + len {
                // At the opening quote (`in_quoted` is `open + 1`) or
                // within the value: at least the value's first byte.
                (in_quoted - (2 * k + 1)).max(offset + 1)
            } else {
                in_quoted - (2 * k + 2)
            };
        }
        let in_document = in_document.max(line_start(self.document));
        in_document - line_start(self.document)
    }
}

/// One level of a JSON text: an object's members (names decoded, values as
/// their raw text), an array's elements as their raw texts, or a scalar.
/// One serde visitor reads every level of the document.
enum Level<'a> {
    Object(Vec<(String, &'a str)>),
    Array(Vec<&'a str>),
    Scalar,
}

impl<'de> Deserialize<'de> for Level<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LevelVisitor)
    }
}

struct LevelVisitor;

impl<'de> Visitor<'de> for LevelVisitor {
    type Value = Level<'de>;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_str<E>(self, _: &str) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_unit<E>(self) -> Result<Level<'de>, E> {
        Ok(Level::Scalar)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Level<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            items.push(raw.get());
        }
        Ok(Level::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Level<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            let raw: &'de RawValue = map.next_value()?;
            members.push((name, raw.get()));
        }
        Ok(Level::Object(members))
    }
}

/// The members of `text` when it is a JSON object.
fn object(text: &str) -> Option<Vec<(String, &str)>> {
    match crate::json_from_str(text) {
        Ok(Level::Object(members)) => Some(members),
        _ => None,
    }
}

/// The raw text of the member `name` of `members` (the document has no
/// repeated member: the policy parser refuses them).
fn member<'a>(members: &[(String, &'a str)], name: &str) -> Option<&'a str> {
    members.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// The elements of `raw` when it is a JSON array, else `raw` alone.
fn items(raw: &str) -> Vec<&str> {
    if raw.starts_with('[') {
        match crate::json_from_str(raw) {
            Ok(Level::Array(items)) => items,
            _ => Vec::new(),
        }
    } else {
        alloc::vec![raw]
    }
}

/// The literals of the statement `statement` (its raw text), added to
/// `table` under `index`: all of its `Condition`'s (an object of operators,
/// each an object of condition keys), or none when it has none or one of
/// its operators does not map to an object.
fn add_statement<'a>(table: &mut Table<'a>, index: usize, statement: &'a str) -> Option<()> {
    let condition = member(&object(statement)?, "Condition")?;
    if condition == "null" {
        return None;
    }
    let mut found = Vec::new();
    for (op, keys) in object(condition)? {
        for (key, raw) in object(keys)? {
            found.push(((index, op.clone(), key), items(raw)));
        }
    }
    table.extend(found);
    Some(())
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
            let Some(statements) = object(self.document)
                .and_then(|top| member(&top, "Statement"))
                .filter(|s| *s != "null")
            else {
                return table;
            };
            for (index, statement) in items(statements).into_iter().enumerate() {
                // A statement that is not one is refused by the parser
                // itself; only the others are asked for.
                let _ = add_statement(&mut table, index, statement);
            }
            table.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
            table
        })
    }

    /// The document with each condition value that is a JSON number
    /// beyond `f64`'s range (which serde_json refuses to read into a
    /// `Value`) written as a JSON string of its text (`1e400` → `"1e400"`);
    /// `None` when it has no such value. Values in a list are each
    /// considered. [`Quoted::column`] places a reading error of the result
    /// in `document`.
    pub(crate) fn quote_out_of_range(&self) -> Option<Quoted<'a>> {
        let start = self.document.as_ptr() as usize;
        let mut at: Vec<(usize, usize)> = self
            .table()
            .iter()
            .flat_map(|(_, texts)| texts)
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
        for &(offset, len) in &at {
            quoted.push_str(&self.document[done..offset]);
            quoted.push('"');
            quoted.push_str(&self.document[offset..offset + len]);
            quoted.push('"');
            done = offset + len;
        }
        quoted.push_str(&self.document[done..]);
        Some(Quoted {
            text: quoted,
            document: self.document,
            at,
        })
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
        let table = self.table();
        let at = table
            .binary_search_by(|((s, o, k), _)| {
                (*s, o.as_str(), k.as_str()).cmp(&(statement, op, key))
            })
            .ok()?;
        table[at].1.get(item).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every position in the quoted text is placed at the byte of the
    /// document it stands for: a byte of the document at itself, an
    /// inserted quote at the byte of the value next to it. The position of
    /// an error found at an opening quote was the byte before the value
    /// (one early).
    #[test]
    fn every_position_of_the_quoted_text_is_placed_in_the_document() {
        let document = "{\"Statement\": {\"Condition\": {\"NumericLessThan\":\n\
            {\"a\": 1e400, \"b\": [-1e400, 2, 2E+309]}}}, \"Sid\": \"x\"}";
        let literals = Literals::new(document);
        let quoted = literals.quote_out_of_range().expect("values to quote");
        assert_eq!(quoted.text.len(), document.len() + 6);
        // The document byte each byte of the quoted text stands for.
        let mut origin = Vec::new();
        let mut done = 0;
        for &(offset, len) in &quoted.at {
            origin.extend(done..offset);
            origin.push(offset);
            origin.extend(offset..offset + len);
            origin.push(offset + len - 1);
            done = offset + len;
        }
        origin.extend(done..document.len());
        assert_eq!(origin.len(), quoted.text.len());
        // serde_json's (line, column) of the error found at byte `i`.
        let position = |text: &str, i: usize| {
            let start = text[..i].rfind('\n').map_or(0, |n| n + 1);
            (1 + text[..start].matches('\n').count(), i + 1 - start)
        };
        for (i, &at) in origin.iter().enumerate() {
            let (line, column) = position(&quoted.text, i);
            let want = position(document, at);
            assert_eq!((line, quoted.column(line, column)), want, "byte {i}");
        }
    }
}
