//! Sealed keystore export and import (backups, and the bridge to the
//! in-memory keystore of the WebAssembly package). The byte format is
//! [`strongroom_core::export`], specified in `docs/FORMAT.md` ("Sealed
//! keystore export"). Rows travel byte for byte: JSON bodies whose key
//! material is already sealed under the root key, with their record MACs.

use std::path::Path;

use strongroom_core::export::{ExportRow, SealedExport};
use strongroom_core::seal::RootKey;

use crate::store::{Row, SqliteStorage, Storage, Table};
use crate::{
    auth_failed, from_json, integrity, resolve_root, root, to_json, Config, Error, Keystore,
    Result, RootKeySource, KEYSTORE_FORMAT_VERSION, META_CHECK, META_CONFIG, META_KDF,
};

fn export_row(r: Row) -> ExportRow {
    ExportRow {
        id: r.id,
        body: r.body,
        tag: r.tag,
    }
}

fn row(r: &ExportRow) -> Row {
    Row {
        id: r.id.clone(),
        body: r.body.clone(),
        tag: r.tag.clone(),
    }
}

impl Keystore {
    /// The whole keystore as one sealed byte string (format version 2): its
    /// configuration, every key, alias and grant record as stored (key
    /// material stays sealed under the root key; key policies, tags,
    /// rotation state, deletion schedules and imported-material expiry are
    /// fields of the key records) with their record MACs, and an HMAC under the
    /// root key's `strongroom/v1/export` sub-key over all of it. Read in one
    /// transaction, so the export is a consistent snapshot.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure or when a stored record
    /// fails authentication (a tampered keystore is not exported).
    pub fn export_sealed(&self) -> Result<Vec<u8>> {
        let mut export = None;
        self.inner.storage.read(&mut |tx| {
            let get = |tx: &mut dyn crate::store::Tx, id: &str| {
                tx.get(Table::Meta, id)
                    .and_then(|r| r.ok_or_else(|| auth_failed(&format!("meta/{id}"))))
            };
            let check = get(tx, META_CHECK)?;
            let config = get(tx, META_CONFIG)?;
            let kdf = tx.get(Table::Meta, META_KDF)?.map(|r| r.body);
            let mut tables = [Vec::new(), Vec::new(), Vec::new()];
            for (i, table) in [Table::Keys, Table::Aliases, Table::Grants]
                .into_iter()
                .enumerate()
            {
                let mut after: Option<String> = None;
                loop {
                    let rows = tx.list(table, after.as_deref(), 1000)?;
                    let Some(last) = rows.last() else { break };
                    after = Some(last.id.clone());
                    tables[i].extend(rows.into_iter().map(export_row));
                }
            }
            let [keys, aliases, grants] = tables;
            export = Some(SealedExport {
                keystore_id: self.inner.config.keystore_id.clone(),
                check: check.tag,
                config_body: config.body,
                config_tag: config.tag,
                kdf: kdf.unwrap_or_default(),
                keys,
                aliases,
                grants,
            });
            Ok(())
        })?;
        let export = export.ok_or_else(|| Error::internal("export produced no result"))?;
        // Refuse to wrap records that do not authenticate in a fresh MAC.
        for r in &export.keys {
            self.parse_key_row(&row(r))?;
        }
        for r in &export.aliases {
            self.parse_alias_row(&row(r))?;
        }
        for r in &export.grants {
            self.parse_grant_row(&row(r))?;
        }
        export.encode(&self.inner.root)
    }

    /// Creates a new keystore file at `path` from a sealed export made by
    /// [`export_sealed`](Self::export_sealed) (or by the WebAssembly
    /// package), with the same keystore ID, region, account and records
    /// (keys, aliases and, from a version 2 export, grants: grant tokens
    /// issued before the export keep working). A version 1 export has no
    /// grants.
    /// `root` must yield the root key the export was sealed under; a
    /// passphrase uses the Argon2id parameters carried in the export.
    ///
    /// # Errors
    /// `AlreadyExistsException` if `path` exists; `ValidationException` for
    /// bytes that are not an export; `AccessDeniedException` for another
    /// root key; `KMSInternalException` for an altered export or I/O failure.
    pub fn import_sealed(
        path: impl AsRef<Path>,
        bytes: &[u8],
        root: RootKeySource,
    ) -> Result<Keystore> {
        let unauthenticated = SealedExport::parse_unauthenticated(bytes)?;
        let kdf: Option<root::Argon2Params> = if unauthenticated.kdf.is_empty() {
            None
        } else {
            // Altered parameters only give a wrong root key, which the MAC catches.
            Some(from_json(&unauthenticated.kdf, "export KDF parameters")?)
        };
        let root_key = RootKey::from_bytes(resolve_root(&root, kdf.as_ref())?.expose_secret())?;
        let export = SealedExport::decode(bytes, &root_key)?;
        let mut config: Config = from_json(&export.config_body, "keystore configuration")?;
        // The rows are the same in every format version; the file written
        // here is of this version's (its integrity state is rebuilt below).
        let (config_body, config_tag) = if config.format_version < KEYSTORE_FORMAT_VERSION {
            config.format_version = KEYSTORE_FORMAT_VERSION;
            let body = to_json(&config)?;
            let tag = root_key.mac_record(b"meta", META_CONFIG.as_bytes(), &body)?;
            (body, tag.to_vec())
        } else {
            (export.config_body.clone(), export.config_tag.clone())
        };
        let storage = SqliteStorage::open(path.as_ref(), true)?;
        storage.write(&mut |tx| {
            if !export.kdf.is_empty() {
                tx.put(
                    Table::Meta,
                    &Row {
                        id: META_KDF.into(),
                        body: export.kdf.clone(),
                        tag: Vec::new(),
                    },
                )?;
            }
            tx.put(
                Table::Meta,
                &Row {
                    id: META_CHECK.into(),
                    body: export.keystore_id.clone().into_bytes(),
                    tag: export.check.clone(),
                },
            )?;
            tx.put(
                Table::Meta,
                &Row {
                    id: META_CONFIG.into(),
                    body: config_body.clone(),
                    tag: config_tag.clone(),
                },
            )?;
            for (table, rows) in [
                (Table::Keys, &export.keys),
                (Table::Aliases, &export.aliases),
                (Table::Grants, &export.grants),
            ] {
                for r in rows {
                    let bucket = integrity::bucket_of(&root_key, table, &r.id)?;
                    tx.put_in_bucket(table, &row(r), bucket)?;
                }
            }
            // The restored keystore starts a new audit chain beside its new path.
            integrity::rebuild(tx, &root_key, crate::audit_log::genesis_checkpoint(), false)
        })?;
        drop(storage);
        // Open it the ordinary way, so the imported keystore is checked
        // (root key, configuration, integrity state) exactly as any other.
        Keystore::open(path, root)
    }
}
