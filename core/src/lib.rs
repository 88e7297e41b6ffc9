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
}
