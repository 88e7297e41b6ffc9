//! Secret byte strings: zeroized on drop, redacted in `Debug`, compared in
//! constant time.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Secret bytes (key material, plaintext data keys, decrypted plaintext).
///
/// The bytes are wiped when the value is dropped. `Debug` prints only the
/// length. Reach the bytes through [`expose_secret`](Self::expose_secret),
/// whose name makes every read visible in review.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Secret(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([REDACTED; {} bytes])", self.0.len())
    }
}

impl PartialEq for Secret {
    /// Constant-time in the contents (the length is not secret).
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for Secret {}

impl serde::Serialize for Secret {
    /// Serializes as standard base64, as the KMS JSON protocol does for the
    /// `Plaintext` members whose purpose is to return secret bytes. The
    /// base64 text is built in one allocation of its exact size and zeroized
    /// once the serializer has copied it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&self.0));
        s.serialize_str(&text)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    /// Reads standard base64 text. No copy of the secret is left unwiped:
    /// borrowed text is decoded in place, owned text (a JSON string with
    /// escapes, or a deserializer that owns its strings) is zeroized after
    /// decoding, and the decoded bytes are written into a buffer reserved
    /// once, wiped on error. An invalid text gives a fixed message, with no
    /// symbol or offset of the input.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(SecretVisitor)
    }
}

struct SecretVisitor;

impl SecretVisitor {
    fn decode<E: serde::de::Error>(text: &str) -> Result<Secret, E> {
        use base64::Engine;
        let mut out = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(text.len())));
        base64::engine::general_purpose::STANDARD
            .decode_vec(text.as_bytes(), &mut out)
            .map_err(|_| E::custom("a secret byte field is not valid base64"))?;
        Ok(Secret::new(core::mem::take(&mut *out)))
    }
}

impl serde::de::Visitor<'_> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
        Self::decode(v)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
        let v = Zeroizing::new(v);
        Self::decode(&v)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn deserializes_borrowed_and_owned_base64() {
        // Borrowed text (no escapes) and owned text (a JSON escape makes
        // serde_json build a String): the same bytes.
        let a: Secret = serde_json::from_str(r#""aGk=""#).unwrap();
        let b: Secret = serde_json::from_str(r#""aG\u006b=""#).unwrap();
        assert_eq!(a.expose_secret(), b"hi");
        assert_eq!(b.expose_secret(), b"hi");
        // From an owned `serde_json::Value` (visit_string).
        let v = serde_json::Value::String("AAEC".into());
        let c: Secret = serde_json::from_value(v).unwrap();
        assert_eq!(c.expose_secret(), [0, 1, 2]);
        let empty: Secret = serde_json::from_str(r#""""#).unwrap();
        assert!(empty.expose_secret().is_empty());
    }

    #[test]
    fn invalid_base64_is_one_fixed_message_without_the_input() {
        for bad in [r#""aGk""#, r#""a!Gk=""#, r#""aGk=AAAA""#, r#""=""#] {
            let e = serde_json::from_str::<Secret>(bad).unwrap_err().to_string();
            assert!(
                e.starts_with("a secret byte field is not valid base64"),
                "{bad}: {e}"
            );
            assert!(!e.contains('!') && !e.contains("symbol"), "{bad}: {e}");
        }
        assert!(serde_json::from_str::<Secret>("12").is_err());
    }
}
