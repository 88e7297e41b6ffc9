//! Sealed keystore export and import (backups, and the bridge to the
//! in-memory keystore of the WebAssembly package). The byte format is
//! [`strongroom_core::export`], specified in `docs/FORMAT.md` ("Sealed
//! keystore export"). Row bodies travel byte for byte: JSON whose key
//! material is already sealed under the root key. Their record MACs are
//! those of the export ([`RootKey::mac_export_record`]; exports of
//! versions 1 and 2 carried [`RootKey::mac_record`]), not the keystore's own
//! (bound to it, [`RootKey::mac_keystore_record`]): each row is checked
//! under the one before it is tagged with the other.

use std::path::Path;

use strongroom_core::export::{ExportRow, SealedExport};
use strongroom_core::seal::RootKey;

use crate::store::{Row, SqliteStorage, Table};
use crate::{
    auth_failed, from_json, integrity, migrate, resolve_root, root, Config, Error, Keystore,
    OpenOptions, Result, RootKeySource, KEYSTORE_FORMAT_VERSION, META_CHECK, META_CONFIG, META_KDF,
};

/// `r` with its export tag, for rows whose keystore tag was checked.
fn export_row(root: &RootKey, kind: &[u8], r: Row) -> Result<ExportRow> {
    let tag = root
        .mac_export_record(kind, r.id.as_bytes(), &r.body)?
        .to_vec();
    Ok(ExportRow {
        id: r.id,
        body: r.body,
        tag,
    })
}

impl Keystore {
    /// The whole keystore as one sealed byte string (format version 3): its
    /// configuration, every key, alias and grant record as stored (key
    /// material stays sealed under the root key; key policies, tags,
    /// rotation state, deletion schedules and imported-material expiry are
    /// fields of the key records), each checked under this keystore's record
    /// MAC and carried with its export record MAC, and an HMAC under the
    /// root key's `strongroom/v1/export` sub-key over all of it. Read in one
    /// transaction, so the export is a consistent snapshot.
    ///
    /// # Errors
    /// `KMSInternalException` on storage failure or when a stored record
    /// fails authentication (a tampered keystore is not exported);
    /// `ValidationException` in a process made by `fork()` from the one
    /// that opened the handle (it opens its own).
    pub fn export_sealed(&self) -> Result<Vec<u8>> {
        self.inner.audit.check_process()?;
        let mut export = None;
        self.inner.storage.read(&mut |tx| {
            let get = |tx: &mut dyn crate::store::Tx, id: &str| {
                tx.get(Table::Meta, id)
                    .and_then(|r| r.ok_or_else(|| auth_failed(&format!("meta/{id}"))))
            };
            let check = get(tx, META_CHECK)?;
            let config = get(tx, META_CONFIG)?;
            let kdf = tx.get(Table::Meta, META_KDF)?.map(|r| r.body);
            if !self.verify_row(b"meta", &config) {
                return Err(auth_failed("the keystore configuration"));
            }
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
                    tables[i].extend(rows);
                }
            }
            let [keys, aliases, grants] = tables;
            export = Some((check.tag, config.body, kdf, keys, aliases, grants));
            Ok(())
        })?;
        let (check, config_body, kdf, keys, aliases, grants) =
            export.ok_or_else(|| Error::internal("export produced no result"))?;
        // Refuse to wrap records that do not authenticate in a fresh MAC.
        for r in &keys {
            self.parse_key_row(r)?;
        }
        for r in &aliases {
            self.parse_alias_row(r)?;
        }
        for r in &grants {
            self.parse_grant_row(r)?;
        }
        let root = &self.inner.root;
        let retag = |kind: &[u8], rows: Vec<Row>| -> Result<Vec<ExportRow>> {
            rows.into_iter()
                .map(|r| export_row(root, kind, r))
                .collect()
        };
        SealedExport {
            keystore_id: self.inner.config.keystore_id.clone(),
            check,
            config_tag: root
                .mac_export_record(b"meta", META_CONFIG.as_bytes(), &config_body)?
                .to_vec(),
            config_body,
            kdf: kdf.unwrap_or_default(),
            keys: retag(b"key", keys)?,
            aliases: retag(b"alias", aliases)?,
            grants: retag(b"grant", grants)?,
        }
        .encode(root)
    }

    /// Creates a new keystore file at `path` from a sealed export made by
    /// [`export_sealed`](Self::export_sealed) (or by the WebAssembly
    /// package), with the same keystore ID, region, account and records
    /// (keys, aliases and, from a version 2 or 3 export, grants: grant tokens
    /// issued before the export keep working). A version 1 export has no
    /// grants.
    /// `root` must yield the root key the export was sealed under; a
    /// passphrase uses the Argon2id parameters carried in the export.
    ///
    /// An export of an anchored keystore is refused
    /// (`KMSInvalidStateException`): import it with
    /// [`import_sealed_with`](Self::import_sealed_with) and an anchor.
    ///
    /// # Errors
    /// `AlreadyExistsException` if `path` exists, an audit log is at its
    /// place (an earlier keystore's history, neither deleted nor adopted:
    /// move it away first) or a non-empty SQLite `-wal` or `-journal` file
    /// of an earlier keystore is ([`Keystore::create`]); `ValidationException` for
    /// bytes that are not an export, or a file name longer than 193 bytes or not
    /// UTF-8 (as [`Keystore::create`] refuses); `AccessDeniedException` for another
    /// root key; `KMSInvalidStateException` for the export of an anchored
    /// keystore; `KMSInternalException` for an altered export or I/O failure.
    pub fn import_sealed(
        path: impl AsRef<Path>,
        bytes: &[u8],
        root: RootKeySource,
    ) -> Result<Keystore> {
        Self::import_sealed_with(path, bytes, root, OpenOptions::default())
    }

    /// [`import_sealed`](Self::import_sealed), opening the new keystore
    /// with `options`. With an anchor ([`OpenOptions::anchor`]) the anchor
    /// must hold no record (the original keystore's anchor, whose keystore
    /// ID the import keeps, is not taken over): the new keystore is
    /// anchored from the start, and the anchor's first record (the imported
    /// state, counter 0) is stored before the new keystore is opened, as
    /// [`Keystore::create`] does (no `AnchorKeystore` event). Without one, the
    /// export of an anchored keystore (its configuration says so, and
    /// travels byte for byte) is refused unless
    /// [`OpenOptions::without_anchor`] is set: the new keystore is then
    /// still anchored, opened (audited) without its anchor, and its first
    /// anchored open must create the anchor
    /// ([`Anchor::initialize_if_missing`](crate::Anchor::initialize_if_missing)).
    ///
    /// # Errors
    /// Those of [`import_sealed`](Self::import_sealed), checked before the
    /// file is created; `AlreadyExistsException` when the anchor holds a
    /// record; `ValidationException` when the anchor is one of the new
    /// keystore's own files or both an anchor and `without_anchor` are
    /// given; `KMSInternalException` when the anchor's first record cannot
    /// be stored (the new file and its still empty audit log are removed:
    /// the retry works); those of [`open_with`](Self::open_with).
    pub fn import_sealed_with(
        path: impl AsRef<Path>,
        bytes: &[u8],
        root: RootKeySource,
        mut options: OpenOptions,
    ) -> Result<Keystore> {
        // A log that could never be rotated: refused before any work.
        crate::audit_log::refuse_long_name(path.as_ref())?;
        let unauthenticated = SealedExport::parse_unauthenticated(bytes)?;
        let kdf: Option<root::Argon2Params> = if unauthenticated.kdf.is_empty() {
            None
        } else {
            // Altered parameters only give a wrong root key, which the MAC
            // catches; out of range ones are refused before deriving.
            Some(root::Argon2Params::parse_stored(
                &unauthenticated.kdf,
                "the export's KDF parameters",
            )?)
        };
        if kdf.is_none() && matches!(root, RootKeySource::Passphrase(_)) {
            return Err(Error::validation(
                "a passphrase was given, but this sealed keystore export holds no passphrase \
                 (Argon2id KDF) parameters: it is the export of a keystore created with a root \
                 key (import it with that key)",
            ));
        }
        let root_key = RootKey::from_bytes(resolve_root(&root, kdf.as_ref())?.expose_secret())?;
        let export = SealedExport::decode(bytes, &root_key).map_err(|e| {
            if e.kind() == crate::ErrorKind::AccessDeniedException {
                crate::wrong_root(&root, "this sealed keystore export")
            } else {
                e
            }
        })?;
        let mut config: Config = from_json(&export.config_body, "keystore configuration")?;
        // Checked before the file exists, as the open will.
        crate::anchor::check_anchored(&config, &options)?;
        if let Some(a) = options.anchor.take() {
            if options.without_anchor {
                return Err(Error::validation(
                    "an anchor and without_anchor were both given: choose one",
                ));
            }
            a.refuse_keystore_file(path.as_ref())?;
            a.refuse_existing()?;
            options.anchor = Some(a);
        }
        // With an anchor, the new keystore is anchored from the start, as a
        // created one (`Keystore::create`): its configuration says so and
        // its integrity state holds a new anchor ID.
        let anchor_id = options
            .anchor
            .as_ref()
            .map(|_| crate::anchor::new_anchor_id());
        let rewrite = config.format_version < KEYSTORE_FORMAT_VERSION
            || (anchor_id.is_some() && !config.anchored);
        // The rows are the same in every format version; the file written
        // here is of this version's: the configuration and every row are
        // tagged in this keystore's domain (the export's tags were checked
        // by `decode`), and the integrity state is rebuilt below.
        let config_row = if rewrite {
            config.format_version = KEYSTORE_FORMAT_VERSION;
            config.anchored |= anchor_id.is_some();
            migrate::config_row(&root_key, &config)?
        } else {
            Row {
                id: META_CONFIG.into(),
                tag: migrate::tag(
                    &root_key,
                    &export.keystore_id,
                    b"meta",
                    META_CONFIG,
                    &export.config_body,
                )?,
                body: export.config_body.clone(),
            }
        };
        crate::audit_log::refuse_existing_log(path.as_ref())?;
        // Built whole under a temporary name, then linked into place.
        let mut initial = None;
        let storage = SqliteStorage::create_with(path.as_ref(), &mut |tx| {
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
            tx.put(Table::Meta, &config_row)?;
            for (table, rows) in [
                (Table::Keys, &export.keys),
                (Table::Aliases, &export.aliases),
                (Table::Grants, &export.grants),
            ] {
                let kind = migrate::kind_of(table);
                for r in rows {
                    let row = Row {
                        id: r.id.clone(),
                        body: r.body.clone(),
                        tag: migrate::tag(&root_key, &export.keystore_id, kind, &r.id, &r.body)?,
                    };
                    let bucket = integrity::bucket_of(&root_key, table, &r.id)?;
                    tx.put_in_bucket(table, &row, bucket)?;
                }
            }
            // The restored keystore starts a new audit chain beside its new path.
            let genesis = crate::audit_log::genesis_checkpoint();
            initial = Some(integrity::rebuild(tx, &root_key, genesis, 0, anchor_id)?);
            Ok(())
        })?;
        drop(storage);
        // Its empty audit log, as a created keystore's.
        let log = crate::audit_log::create_empty_log(path.as_ref())
            .inspect_err(|_| crate::remove_new_keystore(path.as_ref(), None))?;
        // The anchor's first record, before the open, as `Keystore::create`
        // stores it: the open then finds the keystore anchored and appends
        // no record of its own to the log (an `AnchorKeystore` whose store
        // failed would leave the log holding records, kept, and every retry
        // refused for it). If it cannot be stored, the import fails and the
        // file just created is removed, with its log while untouched.
        if let (Some(a), Some(state)) = (&options.anchor, &initial) {
            a.store_first(&root_key, &export.keystore_id, state)
                .inspect_err(|_| crate::remove_new_keystore(path.as_ref(), Some(&log)))?;
        }
        // Open it the ordinary way, so the imported keystore is checked
        // (root key, configuration, integrity state, anchor) exactly as any
        // other. An open that fails fails the import, and the file just
        // created is removed (its log only while untouched), so nothing
        // blocks the retry.
        Keystore::open_with(path.as_ref(), root, options)
            .inspect_err(|_| crate::remove_new_keystore(path.as_ref(), Some(&log)))
    }
}
