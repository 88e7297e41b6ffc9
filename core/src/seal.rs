//! Sealing: how key material and metadata are protected under the
//! keystore's 256-bit root key. Byte layouts are in `docs/FORMAT.md`
//! ("Sealed key material", "Authenticated records").
//!
//! From the root key, HKDF-SHA256 (RFC 5869, empty salt) derives one
//! sub-key per purpose, so that no key is used for two jobs:
//! `strongroom/v1/seal` (AES-256-GCM for key material),
//! `strongroom/v1/record-mac` (HMAC-SHA256 over stored metadata),
//! `strongroom/v1/audit-mac` (the audit-log chain),
//! `strongroom/v1/grant-token` (HMAC-SHA256 tag of grant tokens),
//! `strongroom/v1/check` (the root-key check value),
//! `strongroom/v1/export` (HMAC-SHA256 over a sealed keystore export,
//! [`crate::export`]), `strongroom/v1/integrity` (HMAC-SHA256 of the
//! native keystore's integrity state: bucket, level-2, level-1 and state
//! digests) and `strongroom/v1/anchor` (HMAC-SHA256 of the native
//! keystore's external anchor record).

use alloc::vec::Vec;
use core::fmt;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::crypto::{self, AES_256_KEY_LEN, GCM_NONCE_LEN, HMAC_SHA256_LEN};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Version byte of the sealed-material format.
pub const SEALED_VERSION: u8 = 1;
/// Length of a root key in bytes.
pub const ROOT_KEY_LEN: usize = 32;

/// The keystore's root key (key-encryption key) and its derived sub-keys.
/// The sub-keys are zeroized on drop; the integrity sub-key is held as its
/// prepared HMAC states (as the audit log holds its chain key,
/// [`crypto::HmacSha256Key`]), which the backend wipes on drop. `Debug` is
/// redacted.
#[derive(Clone)]
pub struct RootKey {
    seal: Zeroizing<[u8; 32]>,
    record_mac: Zeroizing<[u8; 32]>,
    audit_mac: Zeroizing<[u8; 32]>,
    grant_token: Zeroizing<[u8; 32]>,
    check: Zeroizing<[u8; 32]>,
    export_mac: Zeroizing<[u8; 32]>,
    anchor_mac: Zeroizing<[u8; 32]>,
    /// The `strongroom/v1/integrity` sub-key, its HMAC states computed once:
    /// opening a keystore MACs every non-empty bucket (up to one per row).
    integrity: crypto::HmacSha256Key,
}

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey").finish_non_exhaustive()
    }
}

fn derive(root: &[u8], label: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    crypto::hkdf_sha256(&[], root, label, out.as_mut())?;
    Ok(out)
}

impl RootKey {
    /// Derives the sub-keys from 32 bytes of root key material.
    ///
    /// # Errors
    /// `ValidationException` if `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != ROOT_KEY_LEN {
            return Err(Error::validation("a root key is exactly 32 bytes"));
        }
        Ok(RootKey {
            seal: derive(bytes, b"strongroom/v1/seal")?,
            record_mac: derive(bytes, b"strongroom/v1/record-mac")?,
            audit_mac: derive(bytes, b"strongroom/v1/audit-mac")?,
            grant_token: derive(bytes, b"strongroom/v1/grant-token")?,
            check: derive(bytes, b"strongroom/v1/check")?,
            export_mac: derive(bytes, b"strongroom/v1/export")?,
            anchor_mac: derive(bytes, b"strongroom/v1/anchor")?,
            integrity: crypto::HmacSha256Key::new(
                derive(bytes, b"strongroom/v1/integrity")?.as_ref(),
            ),
        })
    }

    /// The key that chains the audit log (HMAC-SHA256).
    pub fn audit_key(&self) -> &[u8] {
        self.audit_mac.as_ref()
    }

    /// The key that authenticates grant tokens (HMAC-SHA256, see
    /// [`crate::grant::grant_token`]).
    pub fn grant_token_key(&self) -> &[u8] {
        self.grant_token.as_ref()
    }

    /// A 32-byte value stored in the keystore to tell, on open, whether the
    /// root key is the right one, without revealing anything about it.
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key).
    pub fn check_value(&self, keystore_id: &[u8]) -> Result<[u8; HMAC_SHA256_LEN]> {
        crypto::hmac_sha256(self.check.as_ref(), &[b"strongroom/v1/check", keystore_id])
    }

    /// HMAC-SHA256 under the `strongroom/v1/export` sub-key over `data`
    /// (a sealed keystore export without its trailing MAC; see
    /// [`crate::export`]).
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key).
    pub fn mac_export(&self, data: &[u8]) -> Result<[u8; HMAC_SHA256_LEN]> {
        crypto::hmac_sha256(self.export_mac.as_ref(), &[data])
    }

    /// HMAC-SHA256 under the `strongroom/v1/integrity` sub-key over the
    /// concatenation of `parts` (the native keystore's bucket, level-2,
    /// level-1 and state digests, `docs/FORMAT.md` "Keystore integrity state"; the
    /// caller's first part is its domain label).
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key).
    pub fn mac_integrity(&self, parts: &[&[u8]]) -> Result<[u8; HMAC_SHA256_LEN]> {
        Ok(self.integrity.tag(parts))
    }

    /// HMAC-SHA256 under the `strongroom/v1/anchor` sub-key over the
    /// concatenation of `parts` (the native keystore's external anchor
    /// record, `docs/FORMAT.md` "Keystore anchor"; the caller's first part is
    /// its domain label).
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key).
    pub fn mac_anchor(&self, parts: &[&[u8]]) -> Result<[u8; HMAC_SHA256_LEN]> {
        crypto::hmac_sha256(self.anchor_mac.as_ref(), parts)
    }

    /// Verifies a tag made by [`mac_export`](Self::mac_export), in constant time.
    pub fn verify_export(&self, data: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        match self.mac_export(data) {
            Ok(t) => tag.len() == HMAC_SHA256_LEN && bool::from(t.ct_eq(tag)),
            Err(_) => false,
        }
    }

    /// Seals key material for `(key_id, version)`:
    /// `0x01 || nonce (12) || AES-256-GCM(material) || tag (16)` with AAD
    /// `"strongroom/v1/material" || u16 len(key_id) || key_id || u32 version`.
    ///
    /// # Errors
    /// `KMSInternalException` if the key ID is longer than 65535 bytes.
    pub fn seal_material<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        key_id: &str,
        version: u32,
        material: &Secret,
    ) -> Result<Vec<u8>> {
        let mut nonce = [0u8; GCM_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let aad = material_aad(key_id, version)?;
        let ct =
            crypto::aes256_gcm_seal(self.seal.as_ref(), &nonce, &aad, material.expose_secret())?;
        let mut out = Vec::with_capacity(1 + GCM_NONCE_LEN + ct.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`seal_material`](Self::seal_material) sealed for the same
    /// `(key_id, version)`.
    ///
    /// # Errors
    /// `KMSInternalException` ("stored key material failed authentication")
    /// if the bytes were altered, moved to another key or version, or sealed
    /// under another root key.
    pub fn unseal_material(&self, key_id: &str, version: u32, sealed: &[u8]) -> Result<Secret> {
        let bad = || Error::internal("stored key material failed authentication");
        if sealed.len() < 1 + GCM_NONCE_LEN + crypto::GCM_TAG_LEN || sealed[0] != SEALED_VERSION {
            return Err(bad());
        }
        let mut nonce = [0u8; GCM_NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + GCM_NONCE_LEN]);
        let aad = material_aad(key_id, version)?;
        crypto::aes256_gcm_open(
            self.seal.as_ref(),
            &nonce,
            &aad,
            &sealed[1 + GCM_NONCE_LEN..],
        )
        .map(Secret::new)
        .map_err(|_| bad())
    }

    /// Seals `plaintext` for a purpose other than backing keys (e.g. the
    /// wrapping private key inside an import token): `nonce (12) ‖
    /// AES-256-GCM(plaintext) ‖ tag (16)` under the sealing sub-key with AAD
    /// `label ‖ aad`. `label` must start with `strongroom/v1/` and be neither
    /// a prefix of `strongroom/v1/material` nor start with it (checked:
    /// [`is_purpose_label`]), so that no `label ‖ aad` equals the AAD of
    /// sealed key material. Labels of different purposes must not be
    /// prefixes of one another either (today there is one,
    /// `strongroom/v1/import-token`).
    ///
    /// # Errors
    /// `KMSInternalException` if the label breaks that rule or encryption
    /// fails.
    pub fn seal_labeled<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        label: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        if !is_purpose_label(label) {
            return Err(Error::internal(
                "seal_labeled: the label must start with strongroom/v1/ and not overlap strongroom/v1/material",
            ));
        }
        let mut nonce = [0u8; GCM_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let mut full = Vec::with_capacity(label.len() + aad.len());
        full.extend_from_slice(label);
        full.extend_from_slice(aad);
        let ct = crypto::aes256_gcm_seal(self.seal.as_ref(), &nonce, &full, plaintext)?;
        let mut out = Vec::with_capacity(GCM_NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`seal_labeled`](Self::seal_labeled) sealed with the same
    /// `label` and `aad`; `None` on any failure (no detail), and for a label
    /// that [`seal_labeled`](Self::seal_labeled) refuses — so sealed key
    /// material can never be opened through it.
    pub fn open_labeled(&self, label: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Secret> {
        if !is_purpose_label(label) || sealed.len() < GCM_NONCE_LEN + crypto::GCM_TAG_LEN {
            return None;
        }
        let mut nonce = [0u8; GCM_NONCE_LEN];
        nonce.copy_from_slice(&sealed[..GCM_NONCE_LEN]);
        let mut full = Vec::with_capacity(label.len() + aad.len());
        full.extend_from_slice(label);
        full.extend_from_slice(aad);
        crypto::aes256_gcm_open(self.seal.as_ref(), &nonce, &full, &sealed[GCM_NONCE_LEN..])
            .ok()
            .map(Secret::new)
    }

    /// HMAC-SHA256 tag over a stored record: `kind` (a domain label such as
    /// `b"key"` or `b"alias"`), its identifier, and its serialized bytes,
    /// each length-prefixed (u32 big-endian).
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key); lengths over 4 GiB are
    /// `ValidationException`.
    pub fn mac_record(&self, kind: &[u8], id: &[u8], body: &[u8]) -> Result<[u8; HMAC_SHA256_LEN]> {
        self.record_tag(b"strongroom/v1/record", &[kind, id, body])
    }

    /// HMAC-SHA256 under the record-mac sub-key over `label` and each of
    /// `fields` prefixed with its length (u32 big-endian).
    fn record_tag(&self, label: &[u8], fields: &[&[u8]]) -> Result<[u8; HMAC_SHA256_LEN]> {
        let lens = fields
            .iter()
            .map(|f| {
                u32::try_from(f.len())
                    .map(u32::to_be_bytes)
                    .map_err(|_| Error::validation("record too large"))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + 2 * fields.len());
        parts.push(label);
        for (len, field) in lens.iter().zip(fields) {
            parts.push(len);
            parts.push(field);
        }
        crypto::hmac_sha256(self.record_mac.as_ref(), &parts)
    }

    /// Verifies a tag made by [`mac_record`](Self::mac_record), in constant time.
    pub fn verify_record(&self, kind: &[u8], id: &[u8], body: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        match self.mac_record(kind, id, body) {
            Ok(t) => tag.len() == HMAC_SHA256_LEN && bool::from(t.ct_eq(tag)),
            Err(_) => false,
        }
    }

    /// HMAC-SHA256 tag over a record carried in a sealed export of version
    /// 3 or later ([`crate::export`]): under the same sub-key as
    /// [`mac_record`](Self::mac_record) but over
    /// `"strongroom/v3/export-record" ‖ u32 len(kind) ‖ kind ‖ u32 len(id) ‖
    /// id ‖ u32 len(body) ‖ body` (lengths big-endian). Its own label keeps
    /// the tags of an export from verifying as the portable record MACs of a
    /// format 1 or 2 keystore file (`docs/FORMAT.md`, "Sealed keystore
    /// export").
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key); lengths over 4 GiB are
    /// `ValidationException`.
    pub fn mac_export_record(
        &self,
        kind: &[u8],
        id: &[u8],
        body: &[u8],
    ) -> Result<[u8; HMAC_SHA256_LEN]> {
        self.record_tag(b"strongroom/v3/export-record", &[kind, id, body])
    }

    /// Verifies a tag made by
    /// [`mac_export_record`](Self::mac_export_record), in constant time.
    pub fn verify_export_record(&self, kind: &[u8], id: &[u8], body: &[u8], tag: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        match self.mac_export_record(kind, id, body) {
            Ok(t) => tag.len() == HMAC_SHA256_LEN && bool::from(t.ct_eq(tag)),
            Err(_) => false,
        }
    }

    /// HMAC-SHA256 tag over a record of the native keystore from format
    /// version 3 on, bound to that keystore: under the same sub-key as
    /// [`mac_record`](Self::mac_record) but over
    /// `"strongroom/v3/record" ‖ u32 len(keystore_id) ‖ keystore_id ‖
    /// u32 len(kind) ‖ kind ‖ u32 len(id) ‖ id ‖ u32 len(body) ‖ body`
    /// (lengths big-endian), so that no tag of one domain verifies in the
    /// other, and a row cannot move between keystores sharing a root key
    /// (`docs/FORMAT.md`, "Authenticated records").
    ///
    /// # Errors
    /// None in practice (HMAC accepts every key); lengths over 4 GiB are
    /// `ValidationException`.
    pub fn mac_keystore_record(
        &self,
        keystore_id: &[u8],
        kind: &[u8],
        id: &[u8],
        body: &[u8],
    ) -> Result<[u8; HMAC_SHA256_LEN]> {
        self.record_tag(b"strongroom/v3/record", &[keystore_id, kind, id, body])
    }

    /// Verifies a tag made by
    /// [`mac_keystore_record`](Self::mac_keystore_record), in constant time.
    pub fn verify_keystore_record(
        &self,
        keystore_id: &[u8],
        kind: &[u8],
        id: &[u8],
        body: &[u8],
        tag: &[u8],
    ) -> bool {
        use subtle::ConstantTimeEq;
        match self.mac_keystore_record(keystore_id, kind, id, body) {
            Ok(t) => tag.len() == HMAC_SHA256_LEN && bool::from(t.ct_eq(tag)),
            Err(_) => false,
        }
    }
}

/// The AAD prefix of sealed key material.
const MATERIAL_LABEL: &[u8] = b"strongroom/v1/material";

/// Whether `label` may name a purpose of
/// [`RootKey::seal_labeled`]: it starts with `strongroom/v1/` followed by at
/// least one byte, and neither it nor `strongroom/v1/material` is a prefix
/// of the other.
pub fn is_purpose_label(label: &[u8]) -> bool {
    label.len() > b"strongroom/v1/".len()
        && label.starts_with(b"strongroom/v1/")
        && !label.starts_with(MATERIAL_LABEL)
        && !MATERIAL_LABEL.starts_with(label)
}

fn material_aad(key_id: &str, version: u32) -> Result<Vec<u8>> {
    let id_len = u16::try_from(key_id.len()).map_err(|_| Error::internal("key ID too long"))?;
    let mut aad = Vec::with_capacity(22 + 2 + key_id.len() + 4);
    aad.extend_from_slice(MATERIAL_LABEL);
    aad.extend_from_slice(&id_len.to_be_bytes());
    aad.extend_from_slice(key_id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    Ok(aad)
}

/// Fresh random key material of `len` bytes.
pub fn random_secret<R: CryptoRng + ?Sized>(rng: &mut R, len: usize) -> Secret {
    let mut v = alloc::vec![0u8; len];
    rng.fill_bytes(&mut v);
    Secret::new(v)
}

/// Length of symmetric (SYMMETRIC_DEFAULT) backing keys in bytes.
pub const SYMMETRIC_KEY_LEN: usize = AES_256_KEY_LEN;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)
    use super::*;

    fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
        rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn labels_that_overlap_key_material_or_lack_the_prefix_are_refused() {
        let root = RootKey::from_bytes(&[3u8; 32]).unwrap();
        for bad in [
            &b"strongroom/v1/material"[..],
            b"strongroom/v1/materialX",
            b"strongroom/v1/mat",
            b"strongroom/v1/",
            b"strongroom/v2/import-token",
            b"",
        ] {
            let e = root
                .seal_labeled(&mut rng(), bad, b"aad", b"pt")
                .unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::KMSInternalException);
            assert!(!is_purpose_label(bad));
        }
        let sealed = root
            .seal_labeled(&mut rng(), b"strongroom/v1/import-token", b"aad", b"pt")
            .unwrap();
        let opened = root
            .open_labeled(b"strongroom/v1/import-token", b"aad", &sealed)
            .unwrap();
        assert_eq!(opened.expose_secret(), b"pt");
    }

    /// The material label's AAD written by hand through `open_labeled`
    /// must not open a backing key sealed by `seal_material`.
    #[test]
    fn open_labeled_cannot_open_sealed_key_material() {
        let root = RootKey::from_bytes(&[3u8; 32]).unwrap();
        let id = "1234abcd-12ab-34cd-56ef-1234567890ab";
        let sealed = root
            .seal_material(&mut rng(), id, 1, &Secret::from_slice(&[8u8; 32]))
            .unwrap();
        let mut aad = Vec::new();
        aad.extend_from_slice(&u16::try_from(id.len()).unwrap().to_be_bytes());
        aad.extend_from_slice(id.as_bytes());
        aad.extend_from_slice(&1u32.to_be_bytes());
        assert!(root
            .open_labeled(b"strongroom/v1/material", &aad, &sealed[1..])
            .is_none());
        // Split elsewhere: the same bytes of AAD, a shorter label.
        let mut rest = b"erial".to_vec();
        rest.extend_from_slice(&aad);
        assert!(root
            .open_labeled(b"strongroom/v1/mat", &rest, &sealed[1..])
            .is_none());
    }
}
