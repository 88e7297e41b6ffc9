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

/// A stored record (a JSON object, as every writer writes it) read from
/// `bytes`: `serde_json::from_slice`, except that the record's own fields
/// are read as a JSON object only (`deserialize_map`), so that serde's
/// derived code for a record written as a JSON array of its fields, which
/// nothing writes, is not compiled for it.
///
/// # Errors
/// serde_json's, also for a record that is a JSON array.
pub(crate) fn record_from_slice<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = T::deserialize(ObjectOnly(&mut de))?;
    de.end()?;
    Ok(value)
}

/// serde_json's deserializer with structs read as JSON objects only (the
/// records' own `Deserialize` calls `deserialize_struct` or
/// `deserialize_map`; the other methods are there for completeness).
struct ObjectOnly<'a, 'de>(&'a mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>);

impl<'de> serde::Deserializer<'de> for ObjectOnly<'_, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_any(v)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, v: V) -> serde_json::Result<V::Value> {
        self.0.deserialize_map(v)
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> serde_json::Result<V::Value> {
        self.0.deserialize_map(v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

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
}

#[cfg(test)]
mod record_from_slice_tests {
    use crate::grant::Grant;
    use crate::key::AliasRecord;

    /// Records read as `serde_json::from_slice` reads them when they are
    /// JSON objects (members in any order, unknown ones ignored, trailing
    /// whitespace allowed); a record written as a JSON array of its
    /// fields, which serde's derived code also accepts, is refused, as is
    /// anything after the object.
    #[test]
    fn records_are_json_objects() {
        let alias = br#"{"target_key_id":"k","alias_name":"alias/a","creation_date":1,"last_updated_date":2,"later":[1]} "#;
        let ours: AliasRecord = crate::record_from_slice(alias).unwrap();
        let theirs: AliasRecord = serde_json::from_slice(alias).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.alias_name, "alias/a");

        let array = br#"["alias/a","k",1,2]"#;
        assert!(serde_json::from_slice::<AliasRecord>(array).is_ok());
        assert!(crate::record_from_slice::<AliasRecord>(array).is_err());
        assert!(crate::record_from_slice::<AliasRecord>(br#"{"alias_name":"alias/a"}"#).is_err());
        assert!(crate::record_from_slice::<AliasRecord>(&[&alias[..], b"{}"].concat()).is_err());

        let grant = br#"{"KeyId":"arn:aws:kms:us-east-1:111122223333:key/k","GrantId":"g","CreationDate":5,"GranteePrincipal":"arn:aws:iam::111122223333:role/r","IssuingAccount":"111122223333","Operations":["Encrypt","Decrypt"]}"#;
        let ours: Grant = crate::record_from_slice(grant).unwrap();
        assert_eq!(ours, serde_json::from_slice::<Grant>(grant).unwrap());
        assert_eq!(ours.issuing_account, "arn:aws:iam::111122223333:root");
        assert!(crate::record_from_slice::<Grant>(b"[]").is_err());
    }
}
