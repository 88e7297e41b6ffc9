//! The sealed keystore export: a whole keystore (its configuration, every
//! key record and alias record as stored, with their record MAC tags) in one
//! byte string, authenticated as a whole under the root key. Version 2
//! adds the grant records; version 3 tags the records under a label of its
//! own ([`RootKey::mac_export_record`]); versions 1 (no grants) and 2
//! (portable record MACs, [`RootKey::mac_record`]) are still read. Used for
//! backups of the native keystore and as the persistence format of the
//! in-memory keystore ([`crate::memstore`]) in JavaScript.
//!
//! Byte layout: `docs/FORMAT.md`, "Sealed keystore export". Key material
//! inside the records stays sealed under the root key ([`crate::seal`]); the
//! export adds no plaintext.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::HMAC_SHA256_LEN;
use crate::error::{Error, ErrorKind, Result};
use crate::seal::RootKey;

/// The first four bytes of every export.
pub const MAGIC: &[u8; 4] = b"SRKX";
/// The format version this build writes (3: with grant records, every
/// record tagged with [`RootKey::mac_export_record`]).
pub const VERSION: u8 = 3;
/// The second format version (grant records, portable record MACs), still
/// read.
pub const VERSION_2: u8 = 2;
/// The first format version (no grant records, portable record MACs), still
/// read.
pub const VERSION_1: u8 = 1;
/// Format version of the keystore's tables and records
/// (`format_version` of [`KeystoreConfig`]): 2 since the native keystore's
/// integrity state replaced its XOR digest, 3 since the native keystore's
/// record MACs are bound to it ([`RootKey::mac_keystore_record`]), 4 since
/// its integrity state counts the rows and keeps a key's grants in one
/// bucket (so that a write sees a row deleted from the file). The
/// records of an export are the same in every keystore format version
/// (their tags are the export's own), so exports of versions 1 and 2 are
/// read as they are.
pub const KEYSTORE_FORMAT_VERSION: u32 = 4;

const TAG: usize = HMAC_SHA256_LEN;

/// The keystore-wide settings: the JSON body of the native keystore's
/// `meta/config` row (the one type both the native keystore and the
/// in-memory keystore read and write, so that no field is lost between them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeystoreConfig {
    /// Format version of tables and records (3; 2 before the native
    /// keystore's record MACs were bound to it, 1 before its integrity state).
    pub format_version: u32,
    /// The keystore ID (lowercase hyphenated UUID).
    pub keystore_id: String,
    /// Region in ARNs.
    pub region: String,
    /// 12-digit account ID in ARNs.
    pub account: String,
    /// Creation date (Unix seconds).
    pub created: u64,
    /// The administrator principal (an IAM ARN) named by the default key
    /// policy. Empty in keystores made before principals existed, and in
    /// in-memory keystores: then the account root `arn:aws:iam::<account>:root`.
    #[serde(default)]
    pub admin_principal: String,
    /// Whether the native keystore was created with an audit checkpoint
    /// (then a missing checkpoint is tampering, not an old keystore).
    #[serde(default)]
    pub audit_log: bool,
    /// Whether the native keystore is anchored (`docs/FORMAT.md`, "Keystore
    /// anchor"): set by a create or open with an anchor, cleared only by a
    /// deliberate removal. An anchored keystore is opened only with its
    /// anchor, or with an explicit, audited opt-out. Absent (`false`) in
    /// keystores made before anchoring was recorded, and left out of the
    /// JSON when `false`, so an un-anchored configuration is byte for byte
    /// what earlier builds wrote. The in-memory keystore keeps it as it is
    /// (it has no anchor), so an export passed through it keeps it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub anchored: bool,
}

/// `serde`'s test for leaving [`KeystoreConfig::anchored`] out.
#[allow(clippy::trivially_copy_pass_by_ref)] // the signature serde calls
fn is_false(b: &bool) -> bool {
    !*b
}

/// One stored record: its ID (key ID, alias name or `<key ID>/<grant ID>`),
/// JSON body and record MAC tag ([`RootKey::mac_export_record`], in
/// exports of versions 1 and 2 [`RootKey::mac_record`], with kind `key`,
/// `alias` or `grant`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRow {
    /// Key ID, alias name, or `<key ID>/<grant ID>` for a grant.
    pub id: String,
    /// The record's JSON body, byte for byte as stored.
    pub body: Vec<u8>,
    /// Its 32-byte record MAC tag.
    pub tag: Vec<u8>,
}

/// The decoded contents of a sealed keystore export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedExport {
    /// The keystore ID (must equal the one inside `config_body`).
    pub keystore_id: String,
    /// The root-key check value (`meta/check` tag): `RootKey::check_value(keystore_id)`.
    pub check: Vec<u8>,
    /// JSON of [`KeystoreConfig`] as stored (`meta/config` body).
    pub config_body: Vec<u8>,
    /// Its record MAC tag (kind `meta`, id `config`; made as the rows' tags).
    pub config_tag: Vec<u8>,
    /// The `meta/kdf` body (Argon2id parameters, JSON) of a passphrase
    /// keystore; empty otherwise.
    pub kdf: Vec<u8>,
    /// Key records, in ascending order of key ID.
    pub keys: Vec<ExportRow>,
    /// Alias records, in ascending order of alias name.
    pub aliases: Vec<ExportRow>,
    /// Grant records (JSON [`crate::grant::Grant`]), in ascending order of
    /// their `<key ID>/<grant ID>` row ID. Always empty when read from a
    /// version 1 export.
    pub grants: Vec<ExportRow>,
}

fn too_large() -> Error {
    Error::validation("the keystore is too large to export")
}

fn put_u16_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let n = u16::try_from(b.len()).map_err(|_| too_large())?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

fn put_u32_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let n = u32::try_from(b.len()).map_err(|_| too_large())?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

fn put_tag(out: &mut Vec<u8>, tag: &[u8]) -> Result<()> {
    if tag.len() != TAG {
        return Err(Error::internal("a record tag is not 32 bytes"));
    }
    out.extend_from_slice(tag);
    Ok(())
}

fn put_rows(out: &mut Vec<u8>, rows: &[ExportRow]) -> Result<()> {
    let n = u32::try_from(rows.len()).map_err(|_| too_large())?;
    out.extend_from_slice(&n.to_be_bytes());
    for r in rows {
        put_u16_bytes(out, r.id.as_bytes())?;
        put_u32_bytes(out, &r.body)?;
        put_tag(out, &r.tag)?;
    }
    Ok(())
}

/// A bounds-checked reader over untrusted bytes; every short read is `None`.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Some(head)
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    }
    fn u32(&mut self) -> Option<usize> {
        self.take(4)
            .and_then(|b| usize::try_from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok())
    }
    fn bytes16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(n)
    }
    fn bytes32(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()?;
        self.take(n)
    }
    fn rows(&mut self) -> Option<Vec<ExportRow>> {
        let n = self.u32()?;
        // Each row is at least 2 + 4 + 32 bytes: bound the allocation by the input.
        let mut rows = Vec::with_capacity(n.min(self.buf.len() / 38));
        for _ in 0..n {
            let id = String::from_utf8(self.bytes16()?.to_vec()).ok()?;
            let body = self.bytes32()?.to_vec();
            let tag = self.take(TAG)?.to_vec();
            rows.push(ExportRow { id, body, tag });
        }
        Some(rows)
    }
}

fn is_supported(version: u8) -> bool {
    (VERSION_1..=VERSION).contains(&version)
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn malformed() -> Error {
    Error::validation("the bytes are not a Strongroom sealed keystore export")
}

fn tampered() -> Error {
    Error::new(
        ErrorKind::KMSInternalException,
        "the sealed keystore export failed authentication: it was modified or truncated",
    )
}

impl SealedExport {
    /// Encodes the export in format version 3 ([`VERSION`]) and appends its
    /// HMAC under `root`'s `strongroom/v1/export` key. The configuration and
    /// row tags must be [`RootKey::mac_export_record`] tags.
    ///
    /// # Errors
    /// `ValidationException` when a field exceeds its length prefix;
    /// `KMSInternalException` when a tag is not 32 bytes.
    pub fn encode(&self, root: &RootKey) -> Result<Vec<u8>> {
        self.encode_as(VERSION, root)
    }

    /// [`encode`](Self::encode) with the version byte `version` (2 or 3:
    /// the same layout; the tags must be of that version).
    fn encode_as(&self, version: u8, root: &RootKey) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(version);
        put_u16_bytes(&mut out, self.keystore_id.as_bytes())?;
        put_tag(&mut out, &self.check)?;
        put_u32_bytes(&mut out, &self.config_body)?;
        put_tag(&mut out, &self.config_tag)?;
        put_u32_bytes(&mut out, &self.kdf)?;
        put_rows(&mut out, &self.keys)?;
        put_rows(&mut out, &self.aliases)?;
        put_rows(&mut out, &self.grants)?;
        let mac = root.mac_export(&out)?;
        out.extend_from_slice(&mac);
        Ok(out)
    }

    /// Parses an export without authenticating it, for the one thing needed
    /// before the root key is known: the Argon2id parameters of a passphrase
    /// keystore ([`kdf`](Self::kdf)). Nothing else from the result may be
    /// trusted; use [`decode`](Self::decode).
    ///
    /// # Errors
    /// `ValidationException` for bytes that are not an export of version
    /// 1, 2 or 3 (length, magic, version byte); `KMSInternalException` ("failed
    /// authentication") when the fields do not parse or bytes remain.
    pub fn parse_unauthenticated(bytes: &[u8]) -> Result<Self> {
        if bytes.len() < MAGIC.len() + 1 + TAG || &bytes[..4] != MAGIC {
            return Err(malformed());
        }
        let version = bytes[4];
        if !is_supported(version) {
            return Err(Error::validation(alloc::format!(
                "sealed keystore export version {version} is not supported (this build reads {VERSION_1} to {VERSION})"
            )));
        }
        let body = &bytes[..bytes.len() - TAG];
        let mut r = Reader { buf: &body[5..] };
        let parsed = (|| {
            let keystore_id = String::from_utf8(r.bytes16()?.to_vec()).ok()?;
            let check = r.take(TAG)?.to_vec();
            let config_body = r.bytes32()?.to_vec();
            let config_tag = r.take(TAG)?.to_vec();
            let kdf = r.bytes32()?.to_vec();
            let keys = r.rows()?;
            let aliases = r.rows()?;
            let grants = if version == VERSION_1 {
                Vec::new()
            } else {
                r.rows()?
            };
            Some(SealedExport {
                keystore_id,
                check,
                config_body,
                config_tag,
                kdf,
                keys,
                aliases,
                grants,
            })
        })();
        match parsed {
            Some(e) if r.buf.is_empty() => Ok(e),
            // Magic and version are right: a truncated or extended export
            // fails as tampering, without saying where parsing stopped.
            _ => Err(tampered()),
        }
    }

    /// Decodes and authenticates an export under `root`: the root-key check
    /// value, the export MAC over every byte, the configuration's and every
    /// record's own tag, that IDs are unique, ascending and match the
    /// bodies, and that the configuration names the same keystore. Reads
    /// versions 1 (no grants), 2 and 3; only versions 1 and 2 take portable
    /// record MACs ([`RootKey::mac_record`]) as record tags.
    ///
    /// # Errors
    /// `ValidationException` for bytes that are not an export of version 1,
    /// 2 or 3; `AccessDeniedException` when `root` is not the keystore's
    /// root key; `KMSInternalException` ("failed authentication") for any
    /// altered, added, removed or truncated byte.
    pub fn decode(bytes: &[u8], root: &RootKey) -> Result<Self> {
        let parsed = Self::parse_unauthenticated(bytes)?;
        let (body, mac) = bytes.split_at(bytes.len() - TAG);
        if !root.verify_export(body, mac) {
            let expected = root.check_value(parsed.keystore_id.as_bytes())?;
            if !ct_eq(&expected, &parsed.check) {
                return Err(Error::new(
                    ErrorKind::AccessDeniedException,
                    "the root key does not open this sealed keystore export",
                ));
            }
            return Err(tampered());
        }
        parsed.check_records(root, bytes[4])?;
        Ok(parsed)
    }

    /// The record-level checks of [`decode`](Self::decode), after the MAC,
    /// for an export of version `version`.
    fn check_records(&self, root: &RootKey, version: u8) -> Result<()> {
        let verify_record = |kind: &[u8], id: &[u8], body: &[u8], tag: &[u8]| {
            if version >= VERSION {
                root.verify_export_record(kind, id, body, tag)
            } else {
                root.verify_record(kind, id, body, tag)
            }
        };
        let expected = root.check_value(self.keystore_id.as_bytes())?;
        if !ct_eq(&expected, &self.check) {
            return Err(tampered());
        }
        if !verify_record(b"meta", b"config", &self.config_body, &self.config_tag) {
            return Err(tampered());
        }
        let config = self.config()?;
        if config.keystore_id != self.keystore_id {
            return Err(tampered());
        }
        if config.format_version > KEYSTORE_FORMAT_VERSION {
            return Err(Error::internal(alloc::format!(
                "keystore format {} is newer than this Strongroom ({KEYSTORE_FORMAT_VERSION})",
                config.format_version
            )));
        }
        for (kind, rows) in [
            (&b"key"[..], &self.keys),
            (&b"alias"[..], &self.aliases),
            (&b"grant"[..], &self.grants),
        ] {
            for (i, row) in rows.iter().enumerate() {
                if i > 0 && rows[i - 1].id >= row.id {
                    return Err(tampered());
                }
                if !verify_record(kind, row.id.as_bytes(), &row.body, &row.tag) {
                    return Err(tampered());
                }
            }
        }
        for row in &self.keys {
            let rec: crate::key::KeyRecord =
                crate::record_from_slice(&row.body).ok_or_else(tampered)?;
            if rec.key_id != row.id {
                return Err(tampered());
            }
        }
        for row in &self.aliases {
            let a: crate::key::AliasRecord =
                crate::record_from_slice(&row.body).ok_or_else(tampered)?;
            if a.alias_name != row.id {
                return Err(tampered());
            }
        }
        for row in &self.grants {
            let g: crate::grant::Grant =
                crate::record_from_slice(&row.body).ok_or_else(tampered)?;
            match row.id.split_once('/') {
                Some((key_id, grant_id)) if !key_id.is_empty() && grant_id == g.grant_id => {}
                _ => return Err(tampered()),
            }
        }
        Ok(())
    }

    /// The parsed configuration.
    ///
    /// # Errors
    /// `KMSInternalException` when the body is not a configuration.
    pub fn config(&self) -> Result<KeystoreConfig> {
        crate::record_from_slice(&self.config_body).ok_or_else(tampered)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloc::vec;

    const ID: &str = "5f0c6f43-0c43-4a4f-9f3c-1d2e3f405162";

    /// An export of one alias row, its tags made by `tag`.
    fn export(root: &RootKey, tag: impl Fn(&[u8], &[u8], &[u8]) -> [u8; TAG]) -> SealedExport {
        let config = KeystoreConfig {
            format_version: KEYSTORE_FORMAT_VERSION,
            keystore_id: ID.into(),
            region: "local-1".into(),
            account: "000000000000".into(),
            created: 0,
            admin_principal: String::new(),
            audit_log: true,
            anchored: false,
        };
        let config_body = serde_json::to_vec(&config).unwrap();
        let alias = br#"{"alias_name":"alias/a","target_key_id":"k","creation_date":0,"last_updated_date":0}"#;
        SealedExport {
            keystore_id: ID.into(),
            check: root.check_value(ID.as_bytes()).unwrap().to_vec(),
            config_tag: tag(b"meta", b"config", &config_body).to_vec(),
            config_body,
            kdf: Vec::new(),
            keys: Vec::new(),
            aliases: vec![ExportRow {
                id: "alias/a".into(),
                body: alias.to_vec(),
                tag: tag(b"alias", b"alias/a", alias).to_vec(),
            }],
            grants: Vec::new(),
        }
    }

    /// Version 3 tags rows under their own label, not the portable record
    /// MAC of format 1 and 2 keystore files; version 2 exports, which carry
    /// portable record MACs, still read, and neither version takes the
    /// other's tags.
    #[test]
    fn record_tags_are_bound_to_the_export_version() {
        let root = RootKey::from_bytes(&[7; 32]).unwrap();
        let current = export(&root, |k, i, b| root.mac_export_record(k, i, b).unwrap());
        let portable = export(&root, |k, i, b| root.mac_record(k, i, b).unwrap());
        let row = &current.aliases[0];
        assert!(!root.verify_record(b"alias", row.id.as_bytes(), &row.body, &row.tag));

        let v3 = current.encode(&root).unwrap();
        assert_eq!(v3[4], VERSION);
        assert_eq!(SealedExport::decode(&v3, &root).unwrap(), current);
        let v2 = portable.encode_as(VERSION_2, &root).unwrap();
        assert_eq!(SealedExport::decode(&v2, &root).unwrap(), portable);

        for wrong in [
            portable.encode_as(VERSION, &root).unwrap(),
            current.encode_as(VERSION_2, &root).unwrap(),
        ] {
            let e = SealedExport::decode(&wrong, &root).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::KMSInternalException);
        }
    }
}
