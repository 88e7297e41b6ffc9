//! The encryption context: a map of UTF-8 strings bound to a ciphertext as
//! additional authenticated data (exact, case-sensitive match on decrypt).
//!
//! Its byte encoding is the AWS Encryption SDK's (message format, "Encryption
//! Context" serialization): a big-endian `u16` pair count followed by, for
//! each pair in ascending order of the key's UTF-8 bytes, `u16` key length,
//! key bytes, `u16` value length, value bytes. An empty context encodes as
//! zero bytes. Because every field is length-prefixed, `{"ab":"c"}` and
//! `{"a":"bc"}` encode differently.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};

/// An encryption context. Keys are unique; iteration and encoding are in
/// ascending order of key bytes (`BTreeMap<String, _>` orders by bytes).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EncryptionContext(pub BTreeMap<String, String>);

impl EncryptionContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a context from `(key, value)` pairs.
    ///
    /// An empty key is accepted here, as in every other way to build a
    /// context (JSON, [`decode`](Self::decode)), so that a ciphertext written
    /// with one by an older version still decrypts through every binding;
    /// encryption refuses it ([`check_for_encryption`](Self::check_for_encryption)).
    ///
    /// # Errors
    /// `ValidationException` if a key repeats.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self> {
        let mut map = BTreeMap::new();
        for (k, v) in pairs {
            if map.insert(k.into(), v.into()).is_some() {
                return Err(Error::validation("encryption context key repeated"));
            }
        }
        Ok(EncryptionContext(map))
    }

    /// The rule for a context that a new ciphertext (a KMS ciphertext blob or
    /// an envelope message) is bound to: no key is the empty string. Such a
    /// pair cannot be named in a key policy or grant condition
    /// (`kms:EncryptionContext:<key>` needs a key) and one spelling of it on
    /// the command line (`=value`) is easily a typo. Decryption does not
    /// apply the rule: a ciphertext written before it was enforced (through
    /// the endpoint, the CLI's JSON form or a Rust caller) still decrypts.
    ///
    /// # Errors
    /// `ValidationException` if a key is empty.
    pub fn check_for_encryption(&self) -> Result<()> {
        if self.0.contains_key("") {
            return Err(Error::validation(
                "encryption context keys must not be empty",
            ));
        }
        Ok(())
    }

    /// True when the context has no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The value for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Iterates `(key, value)` in encoding order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The AWS Encryption SDK serialization described in the module docs.
    ///
    /// # Errors
    /// `ValidationException` if there are more than 65535 pairs or a key or
    /// value is longer than 65535 bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        if self.0.is_empty() {
            return Ok(Vec::new());
        }
        // Sized once: the encoding is part of every blob's AAD.
        let len = self
            .0
            .iter()
            .fold(2usize, |n, (k, v)| n.saturating_add(4 + k.len() + v.len()));
        let mut out = Vec::with_capacity(len);
        let count = u16::try_from(self.0.len())
            .map_err(|_| Error::validation("encryption context has too many pairs"))?;
        out.extend_from_slice(&count.to_be_bytes());
        for (k, v) in &self.0 {
            for s in [k, v] {
                let len = u16::try_from(s.len())
                    .map_err(|_| Error::validation("encryption context entry too long"))?;
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
        Ok(out)
    }

    /// Parses the encoding produced by [`encode`](Self::encode). The whole
    /// input must be consumed; pairs must be in strictly ascending key order.
    ///
    /// # Errors
    /// `ValidationException` on truncation, trailing bytes, invalid UTF-8,
    /// duplicate or unsorted keys, or a zero count (an empty context is
    /// encoded as no bytes at all).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Ok(Self::new());
        }
        let bad = || Error::validation("malformed encryption context encoding");
        let mut pos = 0usize;
        let mut take = |n: usize| -> Result<&[u8]> {
            let end = pos.checked_add(n).ok_or_else(bad)?;
            let s = bytes.get(pos..end).ok_or_else(bad)?;
            pos = end;
            Ok(s)
        };
        let read_u16 = |s: &[u8]| u16::from_be_bytes([s[0], s[1]]) as usize;
        let count = read_u16(take(2)?);
        if count == 0 {
            return Err(bad());
        }
        let mut map = BTreeMap::new();
        let mut last: Option<String> = None;
        for _ in 0..count {
            let kl = read_u16(take(2)?);
            let k = String::from(core::str::from_utf8(take(kl)?).map_err(|_| bad())?);
            let vl = read_u16(take(2)?);
            let v = String::from(core::str::from_utf8(take(vl)?).map_err(|_| bad())?);
            if let Some(prev) = &last {
                if prev.as_bytes() >= k.as_bytes() {
                    return Err(bad());
                }
            }
            last = Some(k.clone());
            map.insert(k, v);
        }
        if pos != bytes.len() {
            return Err(bad());
        }
        Ok(EncryptionContext(map))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for EncryptionContext {
    /// Later pairs replace earlier ones with the same key.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        EncryptionContext(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_collision_between_shifted_boundaries() {
        let a: EncryptionContext = [("ab", "c")].into_iter().collect();
        let b: EncryptionContext = [("a", "bc")].into_iter().collect();
        assert_ne!(a.encode().unwrap(), b.encode().unwrap());
    }

    #[test]
    fn encode_matches_esdk_layout() {
        let c: EncryptionContext = [("b", "2"), ("a", "1")].into_iter().collect();
        assert_eq!(
            c.encode().unwrap(),
            [0, 2, 0, 1, b'a', 0, 1, b'1', 0, 1, b'b', 0, 1, b'2']
        );
        assert!(EncryptionContext::new().encode().unwrap().is_empty());
    }

    proptest::proptest! {
        #[test]
        fn round_trip(pairs in proptest::collection::btree_map(".{1,8}", ".{0,8}", 0..6)) {
            let c = EncryptionContext(pairs);
            let enc = c.encode().unwrap();
            proptest::prop_assert_eq!(EncryptionContext::decode(&enc).unwrap(), c);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = EncryptionContext::decode(&bytes);
        }
    }
}
