//! The audit-log sink: CloudTrail-shaped events as chained JSON lines in a
//! file beside the keystore (`<keystore file>.audit.jsonl`), and the sealed
//! checkpoint that makes truncation detectable.
//!
//! # Durability and ordering
//!
//! Every event — management or cryptographic, allowed or denied, successful
//! or failed — is appended inside an SQLite write transaction (`BEGIN
//! IMMEDIATE`), which serializes appenders across threads and processes, so
//! the chain stays linear. Under that lock the appender reads the
//! checkpoint (record count, last chain value, log length in bytes) from the
//! `meta` table, writes the new line, `fsync`s the log file, and stores the
//! new checkpoint in the same transaction. The operation returns only after
//! the event is durable: there is no batching, so a crash loses no event of
//! an operation whose result was returned. (Measured cost in the README.)
//!
//! If a crash or a failed commit leaves bytes after the checkpoint's length,
//! the next append cuts them off first: they belong to an operation whose
//! result was never returned.
//!
//! If the log cannot be written the operation fails with
//! `KMSInternalException`. Every transaction that changes keys, aliases or
//! grants first checks, inside that transaction, that the checkpoint
//! authenticates and the log file opens for writing, so an unwritable log
//! (permissions, a missing directory, a read-only file system, a tampered
//! checkpoint) fails a management operation before it changes anything. The
//! event itself is appended after the change commits; if that write alone
//! fails (e.g. the disk fills up in between), the change stays committed and
//! the caller still sees the failure.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;
use strongroom_core::audit::{chain_line, verify_chain, AuditEvent, ChainError, Checkpoint};
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Result};

use crate::store::{Row, Table, Tx};
use crate::Keystore;

/// Name of the checkpoint row in the `meta` table.
pub(crate) const META_AUDIT: &str = "audit-checkpoint";

/// The audit log of the keystore at `keystore_path`: the same path with
/// `.audit.jsonl` appended to the file name.
pub fn audit_log_path(keystore_path: &Path) -> PathBuf {
    let mut name = keystore_path.as_os_str().to_owned();
    name.push(".audit.jsonl");
    PathBuf::from(name)
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::internal(format!(
        "the audit log could not be written ({what} {}): {e}",
        path.display()
    ))
}

/// The checkpoint row's body: 8-byte big-endian count, 32-byte last chain
/// value, 8-byte big-endian log length in bytes (48 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoredCheckpoint {
    pub checkpoint: Checkpoint,
    pub log_len: u64,
}

impl StoredCheckpoint {
    pub(crate) fn genesis() -> Self {
        StoredCheckpoint {
            checkpoint: Checkpoint::genesis(),
            log_len: 0,
        }
    }

    fn to_bytes(self) -> Vec<u8> {
        let mut b = self.checkpoint.to_bytes().to_vec();
        b.extend_from_slice(&self.log_len.to_be_bytes());
        b
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.len() != 48 {
            return None;
        }
        let checkpoint = Checkpoint::from_bytes(&b[..40]).ok()?;
        let log_len = u64::from_be_bytes(b[40..].try_into().ok()?);
        Some(StoredCheckpoint {
            checkpoint,
            log_len,
        })
    }
}

fn checkpoint_row(root: &RootKey, cp: StoredCheckpoint) -> Result<Row> {
    let body = cp.to_bytes();
    let tag = root.mac_record(b"meta", META_AUDIT.as_bytes(), &body)?;
    Ok(Row {
        id: META_AUDIT.into(),
        body,
        tag: tag.to_vec(),
    })
}

/// The checkpoint of an empty log, stored when a keystore is created.
pub(crate) fn genesis_checkpoint_row(root: &RootKey) -> Result<Row> {
    checkpoint_row(root, StoredCheckpoint::genesis())
}

/// Filters of [`Keystore::audit_events`]; `None` matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Events whose `resources` or `requestParameters` name this key ID or
    /// key ARN (a substring match on the ARN, so a key ID matches its ARN).
    pub key_id: Option<String>,
    /// Events of this KMS operation (`eventName`), e.g. `Encrypt`.
    pub event_name: Option<String>,
    /// Events of this caller (`userIdentity.arn`, exact).
    pub principal: Option<String>,
    /// Events at or after this time (RFC 3339 UTC, `2024-01-01T00:00:00Z`;
    /// compared as text, so a date prefix such as `2024-01-01` works).
    pub start_time: Option<String>,
    /// Events at or before this time (same format as `start_time`; a date
    /// prefix includes that whole day).
    pub end_time: Option<String>,
}

impl AuditFilter {
    fn matches(&self, record: &Value) -> bool {
        let s = |p: &str| record.pointer(p).and_then(Value::as_str).unwrap_or("");
        if self
            .event_name
            .as_deref()
            .is_some_and(|n| n != s("/eventName"))
        {
            return false;
        }
        if self
            .principal
            .as_deref()
            .is_some_and(|p| p != s("/userIdentity/arn"))
        {
            return false;
        }
        let time = s("/eventTime");
        if self.start_time.as_deref().is_some_and(|t| time < t) {
            return false;
        }
        if self
            .end_time
            .as_deref()
            .is_some_and(|t| time > t && !time.starts_with(t))
        {
            return false;
        }
        if let Some(k) = self.key_id.as_deref() {
            let in_resources = record
                .get("resources")
                .and_then(Value::as_array)
                .is_some_and(|rs| {
                    rs.iter().any(|r| {
                        r.get("ARN")
                            .and_then(Value::as_str)
                            .is_some_and(|a| a == k || a.ends_with(&format!("/{k}")))
                    })
                });
            let in_params = record
                .get("requestParameters")
                .and_then(Value::as_object)
                .is_some_and(|m| m.values().any(|v| v.as_str() == Some(k)));
            if !in_resources && !in_params {
                return false;
            }
        }
        true
    }
}

/// The result of [`Keystore::verify_audit_log`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    /// Records that verified (all of them when `fault` is `None`).
    pub records: u64,
    /// Records the sealed checkpoint covers.
    pub checkpoint_records: u64,
    /// The first bad record and why, when the log is not intact.
    pub fault: Option<ChainError>,
}

impl Keystore {
    /// The path of this keystore's audit log.
    pub fn audit_log_path(&self) -> &Path {
        &self.inner.audit_path
    }

    fn read_checkpoint(&self, tx: &mut dyn Tx) -> Result<StoredCheckpoint> {
        let bad = || {
            Error::internal(
                "the audit checkpoint failed authentication: the keystore file was modified outside Strongroom",
            )
        };
        match tx.get(Table::Meta, META_AUDIT)? {
            Some(row) => {
                if !self.inner.root.verify_record(
                    b"meta",
                    META_AUDIT.as_bytes(),
                    &row.body,
                    &row.tag,
                ) {
                    return Err(bad());
                }
                StoredCheckpoint::from_bytes(&row.body).ok_or_else(bad)
            }
            // Keystores created before the audit log existed start a new chain.
            None if !self.inner.config.audit_log => Ok(StoredCheckpoint::genesis()),
            None => Err(bad()),
        }
    }

    /// Inside a write transaction that is about to change the keystore:
    /// fails unless the checkpoint authenticates and the log opens for writing.
    pub(crate) fn audit_preflight(&self, tx: &mut dyn Tx) -> Result<()> {
        self.read_checkpoint(tx)?;
        let path = self.inner.audit_path.as_path();
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| io_err("opening", path, &e))?;
        Ok(())
    }

    /// Appends one event: under the keystore's write lock, chained after the
    /// checkpoint, fsync'd, and the checkpoint advanced in the same transaction.
    pub(crate) fn append_audit(&self, event: &AuditEvent) -> Result<()> {
        let record = event.to_record();
        let path = self.inner.audit_path.as_path();
        self.inner.storage.write(&mut |tx| {
            let cp = self.read_checkpoint(tx)?;
            let (mut line, next) =
                chain_line(self.inner.root.audit_key(), &cp.checkpoint, &record)?;
            line.push('\n');
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(path)
                .map_err(|e| io_err("opening", path, &e))?;
            let len = f.metadata().map_err(|e| io_err("reading", path, &e))?.len();
            if len > cp.log_len {
                // An uncommitted tail (crash or failed commit after the write).
                f.set_len(cp.log_len)
                    .map_err(|e| io_err("truncating", path, &e))?;
            }
            let end = f
                .seek(SeekFrom::End(0))
                .map_err(|e| io_err("seeking", path, &e))?;
            f.write_all(line.as_bytes())
                .and_then(|()| f.sync_data())
                .map_err(|e| io_err("writing", path, &e))?;
            let stored = StoredCheckpoint {
                checkpoint: next,
                log_len: end + line.len() as u64,
            };
            tx.put(Table::Meta, &checkpoint_row(&self.inner.root, stored)?)
        })
    }

    /// Reads the checkpoint, then the log (in that order, so the log holds
    /// at least the records the checkpoint covers).
    fn read_log(&self) -> Result<(StoredCheckpoint, String)> {
        let mut cp = StoredCheckpoint::genesis();
        self.inner.storage.read(&mut |tx| {
            cp = self.read_checkpoint(tx)?;
            Ok(())
        })?;
        let path = self.inner.audit_path.as_path();
        let mut text = String::new();
        match File::open(path) {
            Ok(mut f) => {
                f.read_to_string(&mut text).map_err(|e| {
                    Error::internal(format!(
                        "the audit log {} could not be read: {e}",
                        path.display()
                    ))
                })?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::internal(format!(
                    "the audit log {} could not be read: {e}",
                    path.display()
                )))
            }
        }
        Ok((cp, text))
    }

    /// Verifies the audit log against its chain and the sealed checkpoint:
    /// an edited, deleted, inserted or reordered record, or a log cut short
    /// of the checkpoint, is reported with the index (0-based) of the first
    /// bad record and the reason. Reading the log is not itself audited.
    ///
    /// # Errors
    /// `KMSInternalException` if the checkpoint fails authentication or the
    /// log cannot be read (a log that reads but does not verify is an `Ok`
    /// with `fault` set).
    pub fn verify_audit_log(&self) -> Result<AuditVerification> {
        let (cp, text) = self.read_log()?;
        let lines = split_lines(&text);
        let key = self.inner.root.audit_key();
        Ok(
            match verify_chain(lines.iter().copied(), key, Some(&cp.checkpoint)) {
                Ok(state) => AuditVerification {
                    records: state.count,
                    checkpoint_records: cp.checkpoint.count,
                    fault: None,
                },
                Err(fault) => AuditVerification {
                    records: fault.index,
                    checkpoint_records: cp.checkpoint.count,
                    fault: Some(fault),
                },
            },
        )
    }

    /// The audit records (CloudTrail JSON objects, without the chain field)
    /// that match `filter`, oldest first. Does not verify the chain (see
    /// [`verify_audit_log`](Self::verify_audit_log)); unparsable lines are skipped.
    ///
    /// # Errors
    /// `KMSInternalException` if the log cannot be read.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<Value>> {
        let (_, text) = self.read_log()?;
        Ok(split_lines(&text)
            .into_iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|mut v| {
                if let Some(o) = v.as_object_mut() {
                    o.remove(strongroom_core::audit::CHAIN_FIELD);
                }
                v
            })
            .filter(|v| filter.matches(v))
            .collect())
    }
}

/// The lines of the log; a final newline ends the last line rather than
/// starting an empty one.
fn split_lines(text: &str) -> Vec<&str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() && text.is_empty() {
        return Vec::new();
    }
    body.split('\n').collect()
}
