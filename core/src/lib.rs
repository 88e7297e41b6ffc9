#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

// The AWS-LC backend needs `std` (aws-lc-rs does); the RustCrypto one does not.
#[cfg(feature = "backend-aws-lc")]
extern crate std;

pub mod access;
pub mod api;
pub mod asym;
pub mod audit;
pub mod b64;
pub mod blob;
pub mod context;
pub mod crypto;
pub mod error;
pub mod export;
pub mod grant;
pub mod key;
pub mod memstore;
pub mod ops;
pub mod paging;
pub mod policy;
pub mod seal;
pub mod secret;
pub mod service;
pub mod sorted_map;
pub mod time;

/// `serde_json::from_str`, except that wasm builds parse the text's bytes
/// (`serde_json::from_slice`, the same result for any `&str`): serde_json
/// compiles its parser once per input type, and the records are read from
/// bytes, so a `&str` parser would be a second copy in the module (≈ 8 KB).
/// Native builds keep `from_str`, which need not check strings for UTF-8.
///
/// # Errors
/// serde_json's, with the same line and column.
pub(crate) fn json_from_str<'a, T: serde::Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    if cfg!(target_arch = "wasm32") {
        serde_json::from_slice(text.as_bytes())
    } else {
        serde_json::from_str(text)
    }
}

/// `text` as a JSON tree, read by the crate's one tree reader
/// ([`policy::JsonTree`]) over the parser [`json_from_str`] uses: with
/// `unique`, an object that repeats a key (at any depth) is an error;
/// without, the last of repeated keys is kept. Every object is read as
/// written, whatever its member names: unlike `serde_json::from_str::<Value>`
/// with serde_json's `raw_value` feature (on in this workspace), which
/// replaces an object whose first member is named
/// `"$serde_json::private::RawValue"` by the JSON parsed from that member's
/// string (or fails when it is not JSON), so that a caller-chosen key (an
/// encryption context key) could change or hide a record.
///
/// # Errors
/// serde_json's, with the same line and column.
pub(crate) fn json_tree(text: &str, unique: bool) -> serde_json::Result<serde_json::Value> {
    use serde::de::DeserializeSeed;
    fn read<'de, R: serde_json::de::Read<'de>>(
        mut de: serde_json::Deserializer<R>,
        unique: bool,
    ) -> serde_json::Result<serde_json::Value> {
        let value = policy::JsonTree { unique }.deserialize(&mut de)?;
        de.end()?;
        Ok(value)
    }
    if cfg!(target_arch = "wasm32") {
        read(
            serde_json::Deserializer::from_slice(text.as_bytes()),
            unique,
        )
    } else {
        read(serde_json::Deserializer::from_str(text), unique)
    }
}

/// `text` as a `serde_json::Value` (the last of repeated keys kept),
/// through the tree reader the crate uses for policies, stored records and
/// audit lines, so that a WebAssembly module that reads JSON this way has
/// one such reader.
///
/// It reads every object as written. `serde_json::from_str::<Value>` does
/// not when serde_json's `raw_value` feature is on (as it is in this
/// workspace): an object whose first member is named
/// `"$serde_json::private::RawValue"` becomes the JSON parsed from that
/// member's string value (`{"$serde_json::private::RawValue":"1"}` reads as
/// `1`, with `"x"` it is an error). Read untrusted JSON (audit lines, whose
/// encryption context keys a caller chooses) into a `Value` with this
/// function, not with serde_json's.
///
/// # Errors
/// serde_json's: the text is not one JSON value (white space around it
/// allowed), with the line and column; the same errors as
/// `serde_json::from_str` for every text without that member name.
pub fn json_value(text: &str) -> serde_json::Result<serde_json::Value> {
    json_tree(text, false)
}

/// A stored record (a JSON object, as every writer writes it) read from
/// `bytes` by [`record`]'s reader over a JSON tree (no serde visitors per
/// record type); `None` when it is not one.
pub(crate) fn record_from_slice<T: record::FromJson>(bytes: &[u8]) -> Option<T> {
    record::read(bytes)
}

mod record;

pub use context::EncryptionContext;
pub use error::{Error, ErrorKind, Result};
pub use secret::Secret;
pub mod envelope;

#[cfg(test)]
mod json_from_str_tests {
    use alloc::string::ToString;
    use serde_json::Value;

    /// What wasm builds run (`from_slice` on the text's bytes) reads every
    /// text as `from_str` does: the same value, or the same error at the
    /// same line and column; `json_from_str` is one of the two.
    #[test]
    fn bytes_and_str_read_alike() {
        for text in [
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Sid":"\u00e9\ud83d\ude00 é😀"}]}"#,
            "[1, -2, 3.5e3, true, null, \"a\\\"b\\\\c\\n\"]",
            "{\n  \"a\": 1,\n  \"b\": [tru]\n}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"tab\there\"}",
            "{\"a\": 1} trailing",
            "\"unterminated",
            "",
        ] {
            let s = serde_json::from_str::<Value>(text);
            let b = serde_json::from_slice::<Value>(text.as_bytes());
            let ours = crate::json_from_str::<Value>(text);
            match (s, b, ours) {
                (Ok(s), Ok(b), Ok(ours)) => {
                    assert_eq!(s, b, "{text}");
                    assert_eq!(s, ours, "{text}");
                }
                (Err(s), Err(b), Err(ours)) => {
                    assert_eq!(s.to_string(), b.to_string(), "{text}");
                    assert_eq!(s.to_string(), ours.to_string(), "{text}");
                }
                (s, b, _) => panic!("{text}: from_str {s:?}, from_slice {b:?}"),
            }
        }
    }

    /// The crate's tree reader without `unique` reads every text as
    /// `serde_json::from_str::<Value>` does (the last of repeated keys
    /// kept, the same errors); with `unique` a repeated key at any depth is
    /// an error naming it, and every other text reads alike.
    #[test]
    fn tree_reader_reads_as_serde_json() {
        for text in [
            r#"{"b":1,"a":[true,null,-2,3.5e3,"x",{"c":{}}],"d":"\u00e9"}"#,
            r#"{"a":1,"a":2}"#,
            r#"[{"k":[{"k":1,"k":"two"}]}]"#,
            "  17 ",
            "18446744073709551615",
            "-9223372036854775808",
            "1e400",
            "{\n  \"a\": 1,\n  \"b\": [tru]\n}",
            "{\"a\": 1} trailing",
            "",
        ] {
            let want = serde_json::from_str::<Value>(text);
            match (want, crate::json_value(text), crate::json_tree(text, true)) {
                (Ok(want), Ok(ours), unique) => {
                    assert_eq!(want, ours, "{text}");
                    match unique {
                        Ok(v) => assert_eq!(v, want, "{text}"),
                        Err(e) => assert!(
                            e.to_string()
                                .contains("appears more than once in one object"),
                            "{text}: {e}"
                        ),
                    }
                }
                (Err(want), Err(ours), Err(unique)) => {
                    assert_eq!(want.to_string(), ours.to_string(), "{text}");
                    assert_eq!(want.to_string(), unique.to_string(), "{text}");
                }
                (want, ours, _) => panic!("{text}: serde_json {want:?}, ours {ours:?}"),
            }
        }
        let e = crate::json_tree(r#"[{"k":[{"k":1,"k":"two"}]}]"#, true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the key \"k\" appears more than once in one object at line 1 column 17"
        );
    }

    /// serde_json's `Value`, with the `raw_value` feature on in this
    /// workspace, reads an object whose first member is named
    /// `"$serde_json::private::RawValue"` as the JSON in that member's
    /// string; the tree reader reads it as written, at any depth, and
    /// writing such a map (an encryption context with that key) through
    /// `serde_json::to_value` or `to_string` writes it as it is.
    #[test]
    fn raw_value_token_is_an_ordinary_key() {
        use alloc::collections::BTreeMap;
        use alloc::string::String;
        use serde_json::json;
        const TOKEN: &str = "$serde_json::private::RawValue";
        for (text, want) in [
            (
                r#"{"$serde_json::private::RawValue":"1"}"#,
                json!({TOKEN: "1"}),
            ),
            (
                r#"{"$serde_json::private::RawValue":"x"}"#,
                json!({TOKEN: "x"}),
            ),
            (
                r#"{"a":{"$serde_json::private::RawValue":"{\"k\":2}","b":"c"}}"#,
                json!({"a": {TOKEN: "{\"k\":2}", "b": "c"}}),
            ),
            (
                r#"[{"$serde_json::private::RawValue":"[]"}]"#,
                json!([{TOKEN: "[]"}]),
            ),
        ] {
            assert_eq!(crate::json_value(text).unwrap(), want, "{text}");
            assert_eq!(crate::json_tree(text, true).unwrap(), want, "{text}");
            assert_ne!(
                serde_json::from_str::<Value>(text).ok(),
                Some(want),
                "{text}"
            );
        }
        // What serde_json does with it, which the tree reader does not.
        assert_eq!(
            serde_json::from_str::<Value>(r#"{"$serde_json::private::RawValue":"1"}"#).unwrap(),
            json!(1)
        );
        assert!(
            serde_json::from_str::<Value>(r#"{"$serde_json::private::RawValue":"x"}"#).is_err()
        );

        let context = crate::EncryptionContext(BTreeMap::from([
            (String::from(TOKEN), String::from("1")),
            (String::from("k"), String::from("v")),
        ]));
        let value = serde_json::to_value(&context).unwrap();
        assert_eq!(value, json!({TOKEN: "1", "k": "v"}));
        let text = serde_json::to_string(&context).unwrap();
        assert_eq!(text, r#"{"$serde_json::private::RawValue":"1","k":"v"}"#);
        assert_eq!(serde_json::to_string(&value).unwrap(), text);
        assert_eq!(crate::json_value(&text).unwrap(), value);
    }
}
