//! The audit-log sink: CloudTrail-shaped events as chained JSON lines in a
//! file beside the keystore (`<keystore file>.audit.jsonl`), and the sealed
//! checkpoint that makes truncation detectable.
//!
//! # Durability and ordering
//!
//! Appenders serialize on an exclusive `flock` on the log file, across
//! threads, handles and processes, so the chain stays linear. Under that
//! lock an appender reads the sealed checkpoint (record count, last chain
//! value, log length in bytes) from the `meta` table, finds the end of the
//! valid chain past it, writes the new line there with one `pwrite`, and
//! then:
//!
//! - for a **management** operation (anything but the read-only operations
//!   of [`strongroom_core::audit::is_read_only`]: CreateKey, policies,
//!   grants, aliases, tags, rotation, deletion...), `fdatasync`s the log and
//!   advances the checkpoint over every record before returning, as before
//!   batching;
//! - for a **read-only** operation (Encrypt, Decrypt, GenerateDataKey,
//!   Sign, DescribeKey, `Get*`, `List*`...), returns without `fsync` unless
//!   [`AUDIT_BATCH_EVENTS`] records would lie past the checkpoint or this
//!   handle's oldest unsynced record is [`AUDIT_BATCH_MILLIS`] old; a
//!   background flush also runs `AUDIT_BATCH_MILLIS` after the first
//!   unsynced append, and the last handle's drop flushes.
//!
//! **Group commit.** Within one handle (and its clones), concurrent callers
//! queue their records; the first caller that finds no writer at work takes
//! the log lock once and writes every queued record, in queue order, with
//! one `pwrite` (synced and checkpointed as above if any of them is a
//! management event). The others wait until the batch holding their record
//! is written or has failed (spinning for up to 30 µs first, on machines
//! with more than one CPU: a batch of read-only records is written faster
//! than a sleeping thread is woken), so an operation still returns only after its
//! line is in the file, and fails if its line could not be written.
//! **One lock hold for the batches queued meanwhile:** a writer that finds
//! more records queued when its `pwrite` returns marks its own batch
//! written (its callers return at once) and keeps the log's `flock` for the
//! caller that claims the next batch, which chains and writes it after the
//! end just written without taking the lock, taking the file's stat or finding
//! the valid end again: the records of such batches are checked once per
//! lock hold, as the records of one batch are. Each batch still completes
//! or fails on its own (a failed batch fails its own callers, ends the hold
//! and releases the lock); at most 8 batches are written per lock hold (then
//! the lock is released; `flock` does not queue waiters, so this bounds a
//! hold, not another process's wait), and a batch
//! with a management record, write-behind records, records kept after a
//! failure, or after the handle got stuck ends the hold first and takes the
//! lock again. Flushes, changes and closing wait for a kept hold to end.
//! Handles
//! opened separately on one keystore share, per process, the end of the
//! chain each last wrote, so they do not re-verify each other's lines.
//!
//! **The log file** stays open between appends. Its path is looked up again
//! for management events, for flushes and when it was last looked up
//! [`AUDIT_BATCH_MILLIS`] or more ago; in between, a log deleted or
//! replaced by a rename is noticed at once (its link count is zero under the
//! lock). A log merely renamed away keeps receiving read-only events for at
//! most `AUDIT_BATCH_MILLIS` (validly chained, in the renamed file).
//!
//! **Fail closed.** The log at the path must hold every record the sealed
//! checkpoint covers: at least the checkpoint's length in bytes, with the
//! checkpoint's last chain value ending at that length. A log truncated
//! below it, replaced, or deleted fails every operation, read-only or not,
//! with `KMSInternalException` (nothing is performed) until the log is
//! restored; [`Keystore::verify_audit_log`] still reads it and names the
//! first bad record. So records cannot be cut, new ones appended, and the
//! old file put back to hide them.
//!
//! What a crash can lose:
//!
//! - A process crash (`kill -9`, abort) loses nothing: every line was
//!   written to the file (page cache) before its operation returned. The
//!   lines past the checkpoint chain validly from it, and the next append or
//!   flush by any process advances the checkpoint over them.
//! - An operating-system crash or power loss can lose the unsynced lines:
//!   at most `AUDIT_BATCH_EVENTS - 1` (255) records, all of read-only
//!   operations, appended within about `AUDIT_BATCH_MILLIS` of the crash by
//!   a live process. Never a management event: its `fdatasync` and
//!   checkpoint also cover every record before it (a crash before that
//!   loses the outcome record of a change, never its intent record).
//! - The same records are the ones an attacker who can write the log may
//!   remove (from the end) undetected; every record the checkpoint covers is
//!   protected against edits, deletion, reordering, insertion and truncation.
//!
//! **Write-behind mode** ([`AuditWriteMode::WriteBehind`], opt-in per
//! handle through [`OpenOptions`](crate::OpenOptions) or
//! [`CreateOptions`](crate::CreateOptions); the default,
//! [`AuditWriteMode::WriteThrough`], is everything above). A read-only
//! event is not written before its operation returns: its canonical record
//! is queued in the handle's memory (shared by its clones), and the queue is
//! written as one batch — chained after the valid end under the log lock,
//! one `pwrite`, then `fdatasync` and the checkpoint advanced — when
//! `max_events` records would be queued (the call that makes them
//! `max_events` writes them, its own last, and returns once they are
//! written), when the oldest queued record is `max_millis` old (a
//! background thread, and any later call), before any management event
//! of the handle (written in the same batch, after them: it stays
//! synchronous and durable), on [`Keystore::flush_audit_log`],
//! [`Keystore::audit_events`] and [`Keystore::verify_audit_log`], and when
//! the last clone of the handle is dropped. Records of one handle keep
//! their call order in the chain; batches of different handles and
//! processes interleave as they are written. What a crash can lose
//! changes:
//!
//! - A process crash (`kill -9`, abort, `std::process::exit` without
//!   dropping the handle) loses the queued records: at most
//!   `max_events - 1` events of read-only operations, those that returned
//!   within about the last `max_millis` ms (longer if the machine is so
//!   loaded that the background thread does not run in time), plus, if the
//!   crash comes while a batch is being written (other threads keep queueing
//!   meanwhile), that batch's records: at most `2 × (max_events - 1)` in
//!   all. Never a
//!   management event, nor anything written before it. The log stays
//!   verifiable: the lost records were never chained into the file.
//! - An operating-system crash or power loss loses the same records and
//!   nothing else: every batch is `fdatasync`ed and checkpointed.
//!
//! Fail closed in this mode: if a batch cannot be written (a replaced or
//! truncated log, a full disk...), its records stay queued and the handle
//! is *stuck*: every later operation first tries to write the queue again,
//! with its own record, and fails with `KMSInternalException` while that
//! fails (its result is withheld, as for a failed append in the default
//! mode); a management operation fails before it changes anything. Once the
//! log is restored the next operation (or [`Keystore::flush_audit_log`])
//! writes the queued records and the handle works again: no record whose
//! operation returned success is dropped while the process lives. A forked
//! child does not write records its parent queued: a handle used in a
//! process other than the one that opened it refuses every call
//! ([`AuditSink::check_process`]); each process opens its own.
//!
//! A torn last line (a crash mid-`pwrite`) or any bytes past the last
//! valid record are reported by [`Keystore::verify_audit_log`] as a fault
//! at that record's index, and cut off by the next append.
//!
//! If the log cannot be written the operation fails with
//! `KMSInternalException`.
//!
//! **Intent records.** Every write transaction of the keystore runs with
//! the log locked (this sink's tail, then the `flock`:
//! [`AuditSink::with_change`]), after checking that the checkpoint
//! authenticates and the log holds what it covers, so an unwritable log
//! (permissions, a missing directory, a read-only file system, a tampered
//! checkpoint) fails a management operation before it changes anything. If
//! the transaction changed a row, the *intent record* of its operation (the
//! operation's record without its outcome, marked
//! [`INTENT_FIELD`](strongroom_core::audit::INTENT_FIELD)) is appended and
//! `fdatasync`ed before the commit, and the state the transaction commits
//! holds the checkpoint that covers it: no authentic state row reflects a
//! change without covering the record of that change. The operation's own
//! record (its outcome) is appended after the commit as any management
//! record. **Once a change has committed, its caller is told its own
//! outcome** (a KMS client takes an error for "nothing changed" and
//! retries): nothing after the commit turns it into an error. Each
//! post-commit step that fails is a deferred fault instead:
//!
//! - the outcome record of a management operation cannot be written
//!   (e.g. the disk fills up in between; a read-only operation whose call
//!   committed due maintenance still fails, its result withheld, and a
//!   retry finds the maintenance done): the intent records the change, the outcome record is kept in
//!   the handle's memory and the handle is stuck (as a write-behind batch
//!   that failed, above): its next call writes it first, and fails while
//!   that fails (a change before anything changes). If the process ends
//!   first it is lost, and [`Keystore::verify_audit_log`] names the intent
//!   in `outcome_unknown`;
//! - the record is written and synced but the checkpoint over it cannot be
//!   stored: the record stays past the checkpoint, validly chained, until
//!   the next flush, synced append or change of any handle or process
//!   covers it (a change commits the checkpoint over it with its own state,
//!   so none commits while that fails);
//! - the anchor cannot be stored: see `docs/FORMAT.md`, "Keystore anchor".
//!
//! A crash between the intent and the commit, or between the
//! commit and the outcome, loses the outcome record only: the keystore
//! opens and [`Keystore::verify_audit_log`] names the intent in
//! `outcome_unknown` (`docs/FORMAT.md`, "Intent records").
//!
//! On targets without `flock` (non-Unix), every event is appended inside an
//! SQLite write transaction and made durable before the operation returns,
//! in both modes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
#[cfg(not(unix))]
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
#[cfg(not(unix))]
use strongroom_core::audit::chain_canonical;
use strongroom_core::audit::{AuditEvent, ChainError, Checkpoint, RequestParameters, INTENT_FIELD};
use strongroom_core::crypto::HmacSha256Key;
use strongroom_core::seal::RootKey;
use strongroom_core::{Error, Result};

use crate::anchor::StateGuard;
use crate::integrity::CHECKPOINT_LEN;
use crate::store::{Storage, Table, Tx};
use crate::Keystore;

mod rotation;
#[cfg(unix)]
pub(crate) use rotation::RotationCaller;
pub use rotation::{
    audit_archive_path, ArchiveFault, ArchiveSegment, AuditLogRotation, ROTATE_AUDIT_LOG,
};
pub(crate) use rotation::{link_target, rotating_path};

/// Name of the checkpoint row in the `meta` table of keystore format
/// version 1 (since version 2 the checkpoint is in the integrity state).
pub(crate) const META_AUDIT: &str = "audit-checkpoint";

/// The audit log of the keystore at `keystore_path`: the same path with
/// `.audit.jsonl` appended to the file name. A keystore uses it beside its
/// file with symbolic links resolved ([`Keystore::audit_log_path`](crate::Keystore::audit_log_path) names
/// it), so that a keystore opened through a link writes the same log.
pub fn audit_log_path(keystore_path: &Path) -> PathBuf {
    crate::store::sidecar(keystore_path, ".audit.jsonl")
}

/// Longest file name, in bytes, that the usual file systems accept
/// (`NAME_MAX` on Linux, the BSDs and macOS).
const NAME_MAX: usize = 255;

/// Length in bytes of the longest file name written beside the log `log`:
/// the temporary name of an archive of the largest record numbers,
/// `<log without .jsonl>.<first:020>-<last:020>.jsonl.partial`.
fn longest_side_name(log: &Path) -> usize {
    let archive = audit_archive_path(log, u64::MAX, u64::MAX);
    archive.file_name().map_or(0, |n| n.len()) + ".partial".len()
}

/// Longest keystore file name, in bytes, whose audit log's archives can be
/// named: [`NAME_MAX`] less what the longest archive temporary name adds to
/// the keystore's file name (62 bytes: `.audit.`, two 20-digit record
/// numbers and a `-`, `.jsonl.partial`), so 193 bytes.
pub(crate) fn keystore_name_max() -> usize {
    NAME_MAX.saturating_sub(longest_side_name(&audit_log_path(Path::new(""))))
}

/// The byte length of the file name of `path` (0 without one).
fn name_len(path: &Path) -> usize {
    path.file_name().map_or(0, |n| n.len())
}

/// Refuses a keystore or audit log file name that is not UTF-8: its
/// archives' names are written into the `RotateAuditLog` record (a JSON
/// string) and compared as text, so two names differing only in bytes that
/// are not UTF-8 would share their archives' names (review17 L1, L2).
///
/// # Errors
/// `ValidationException` naming the file.
fn refuse_non_utf8_name(path: &Path) -> Result<()> {
    match path.file_name() {
        Some(n) if n.to_str().is_none() => Err(Error::validation(format!(
            "the file name {n:?} is not UTF-8: a keystore's file name (which its audit log \
             and the log's archives are named after) must be UTF-8"
        ))),
        _ => Ok(()),
    }
}

/// Refuses to create a keystore whose file name (as given, or with
/// symbolic links resolved: the log is placed beside the resolved file) is
/// longer than [`keystore_name_max`]: its audit log could never be rotated
/// (the archive's name would pass [`NAME_MAX`]).
///
/// # Errors
/// `ValidationException` naming the limit.
pub(crate) fn refuse_long_name(keystore_path: &Path) -> Result<()> {
    let max = keystore_name_max();
    let resolved = crate::store::canonical(keystore_path);
    for p in [keystore_path, resolved.as_path()] {
        refuse_non_utf8_name(p)?;
        let len = name_len(p);
        if len > max {
            return Err(Error::validation(format!(
                "the keystore file name {:?} is {len} bytes long; at most {max} bytes are \
                 allowed, as its audit log's archives are named after it with {} bytes more \
                 (`<keystore file name>.audit.<first record, 20 digits>-<last record, 20 \
                 digits>.jsonl.partial` while written) and a file name is at most {NAME_MAX} bytes",
                p.file_name().unwrap_or_default(),
                NAME_MAX - max
            )));
        }
    }
    Ok(())
}

/// Refuses to rotate the log `log` (of a keystore created before
/// [`refuse_long_name`], or renamed since) when its archives' names would
/// pass [`NAME_MAX`], before anything is written: rather than the
/// operating system's "file name too long" halfway through.
///
/// # Errors
/// `ValidationException` naming the limit.
pub(crate) fn refuse_unnamable_archives(log: &Path) -> Result<()> {
    refuse_non_utf8_name(log)?;
    let longest = longest_side_name(log);
    if longest <= NAME_MAX {
        return Ok(());
    }
    let max = keystore_name_max();
    Err(Error::validation(format!(
        "the audit log {} cannot be rotated: its archives would be named \
         `<keystore file name>.audit.<first record, 20 digits>-<last record, 20 digits>.jsonl` \
         ({longest} bytes with the `.partial` of the name written first), and a file name is at \
         most {NAME_MAX} bytes; rename the keystore file to at most {max} bytes (its audit log \
         `<keystore file name>.audit.jsonl` with it) to rotate its log",
        log.display()
    )))
}

/// Refuses to create a keystore at `keystore_path` while an audit log is
/// at its place (beside the path as given, or beside it with symbolic links
/// resolved): the history of an earlier keystore, which a new keystore
/// would neither delete nor adopt. Left to the keystore's own check when
/// the keystore file itself exists.
///
/// # Errors
/// `AlreadyExistsException` naming the log.
pub(crate) fn refuse_existing_log(keystore_path: &Path) -> Result<()> {
    if keystore_path.exists() {
        return Ok(());
    }
    let resolved = crate::store::canonical(keystore_path);
    for log in [audit_log_path(keystore_path), audit_log_path(&resolved)] {
        if std::fs::symlink_metadata(&log).is_ok() {
            return Err(Error::new(
                strongroom_core::ErrorKind::AlreadyExistsException,
                format!(
                    "an audit log already exists at {} (the history of an earlier keystore); \
                     move it away before creating a keystore at {}",
                    log.display(),
                    keystore_path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Versions before the log was placed beside the keystore file with
/// symbolic links resolved kept it beside the path as given: a keystore
/// opened through a link to its file had its log beside the link. When the
/// log beside the resolved file does not exist and one beside the given path
/// does (a regular file, not a link), that log is moved into place, so that
/// such a keystore keeps its audit trail instead of failing closed. Errors
/// (e.g. another process moved it first, or another file system) are left
/// for the first append to report.
pub(crate) fn adopt_log_named_by_link(given: &Path, resolved_log: &Path) {
    let given_log = audit_log_path(given);
    if given_log == resolved_log || resolved_log.exists() {
        return;
    }
    if std::fs::symlink_metadata(&given_log).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::rename(&given_log, resolved_log);
    }
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::internal(format!(
        "the audit log could not be written ({what} {}): {e}",
        path.display()
    ))
}

/// An audit time filter: RFC 3339 UTC `YYYY-MM-DDTHH:MM:SSZ` or a prefix
/// of it cut at a field (`2024`, `2024-01`, `2024-01-31`,
/// `2024-01-31T10`, `2024-01-31T10:30`, `2024-01-31T10:30:00`), every
/// field in range (the day in its month): core's
/// [`check_rfc3339_utc_prefix`](strongroom_core::time::check_rfc3339_utc_prefix).
/// Compared with the records' `eventTime` as text.
///
/// # Errors
/// `ValidationException` naming the text otherwise.
pub fn check_time_filter(s: &str) -> Result<()> {
    strongroom_core::time::check_rfc3339_utc_prefix(s).map_err(|_| {
        Error::validation(format!(
            "'{s}' is not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ) or a prefix of one such as YYYY-MM-DD"
        ))
    })
}

/// Refuses an audit time range no event can fall in: `start` after `end`,
/// where the range is the times at or after `start` and at or before `end`
/// or within it (a prefix such as `2024-01-31` includes that whole day), so
/// `start` `2024-01-31T10` with `end` `2024-01-31` is the rest of that day,
/// not empty. Both are [`check_time_filter`] text of fixed-width fields,
/// compared as text as the records' `eventTime` is. CloudTrail's
/// LookupEvents answers such a range with `InvalidTimeRangeException`;
/// KMS has no such operation and no such error, so this is its
/// `ValidationException`.
///
/// # Errors
/// `ValidationException` naming both times.
pub fn check_time_range(start: &str, end: &str) -> Result<()> {
    if start > end && !start.starts_with(end) {
        return Err(Error::validation(format!(
            "the start time '{start}' is after the end time '{end}': no event can match \
             (an invalid time range)"
        )));
    }
    Ok(())
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

    fn to_bytes(self) -> [u8; CHECKPOINT_LEN] {
        let mut b = [0u8; CHECKPOINT_LEN];
        b[..40].copy_from_slice(&self.checkpoint.to_bytes());
        b[40..].copy_from_slice(&self.log_len.to_be_bytes());
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

/// The checkpoint of an empty log, stored when a keystore is created.
pub(crate) fn genesis_checkpoint() -> [u8; CHECKPOINT_LEN] {
    StoredCheckpoint::genesis().to_bytes()
}

fn checkpoint_failed() -> Error {
    Error::internal(
        "the audit checkpoint failed authentication: the keystore file was modified outside Strongroom",
    )
}

/// The checkpoint of a keystore of format version 1 (its own row, under
/// the record MAC with kind `meta`), for the migration to the integrity
/// state; genesis if the keystore predates the checkpoint (`required`
/// false).
pub(crate) fn v1_checkpoint(
    tx: &mut dyn Tx,
    root: &RootKey,
    required: bool,
) -> Result<[u8; CHECKPOINT_LEN]> {
    match tx.get(Table::Meta, META_AUDIT)? {
        Some(row) => {
            if !root.verify_record(b"meta", META_AUDIT.as_bytes(), &row.body, &row.tag) {
                return Err(checkpoint_failed());
            }
            StoredCheckpoint::from_bytes(&row.body)
                .map(StoredCheckpoint::to_bytes)
                .ok_or_else(checkpoint_failed)
        }
        None if !required => Ok(genesis_checkpoint()),
        None => Err(checkpoint_failed()),
    }
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
    /// Records that verified (all of them when `fault` is `None`), intent
    /// records included (an operation that changed rows has two or more),
    /// counted over every record the log ever held: in a rotated log, the
    /// records of its archives too (the number of the last record that
    /// verified).
    pub records: u64,
    /// Records the sealed checkpoint covers (over every record ever held).
    pub checkpoint_records: u64,
    /// Number (1-based) of the log file's first record: 1, or after a
    /// [rotation](Keystore::rotate_audit_log) the number of its
    /// `RotateAuditLog` record (the records before it are in archives).
    /// When that first record does not verify, its claim is not trusted:
    /// 1, with the fault at index 0 and `records` 0.
    pub first_record: u64,
    /// The first bad record and why, when the log is not intact; its
    /// `index` is 0-based over every record ever held (record number
    /// `index + 1`; line `index + 1 - first_record` of the file).
    pub fault: Option<ChainError>,
    /// The archives checked, oldest first
    /// ([`verify_audit_log_archives`](Keystore::verify_audit_log_archives);
    /// empty otherwise).
    pub archives: Vec<ArchiveSegment>,
    /// The first problem with the archives given (a modified, truncated,
    /// missing or misordered archive), when there is one.
    pub archive_fault: Option<ArchiveFault>,
    /// The (own) `eventID`s of the intent records (`docs/FORMAT.md`,
    /// "Intent records") among the records that verified with no record of
    /// their operation's outcome (the `eventID` their `strongroomIntent`
    /// names) after them, oldest first: "outcome unknown". Over the
    /// archives given ([`verify_audit_log_archives`](Keystore::verify_audit_log_archives))
    /// and the current file, in that order: an intent a rotation archived
    /// is reported when its archive is given.
    /// After a crash between a change's intent and its outcome record the
    /// last one is there: its change may or may not have committed (the
    /// rows tell). Not a fault.
    pub outcome_unknown: Vec<String>,
}

impl Keystore {
    /// The path of this keystore's audit log.
    pub fn audit_log_path(&self) -> &Path {
        self.inner.audit.path()
    }

    fn read_checkpoint(&self, tx: &mut dyn Tx) -> Result<StoredCheckpoint> {
        self.inner.audit.read_checkpoint(tx)
    }

    /// Inside a write transaction that is about to change the keystore,
    /// with the checkpoint of its authenticated integrity state: fails
    /// unless the log opens for writing and still holds the records the
    /// checkpoint covers (see "Fail closed").
    #[cfg(not(unix))]
    pub(crate) fn audit_preflight(&self, checkpoint: &[u8; CHECKPOINT_LEN]) -> Result<()> {
        let cp = StoredCheckpoint::from_bytes(checkpoint).ok_or_else(checkpoint_failed)?;
        if let Some(e) = self.inner.audit.stuck() {
            return Err(e);
        }
        let path = self.audit_log_path();
        let f = log_options()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| io_err("opening", path, &e))?;
        let len = f.metadata().map_err(|e| io_err("reading", path, &e))?.len();
        #[cfg(unix)]
        let intact = len >= cp.log_len && holds_checkpoint(&f, &cp);
        #[cfg(not(unix))]
        let intact = len >= cp.log_len;
        if intact {
            Ok(())
        } else {
            Err(log_replaced(path))
        }
    }

    /// Appends one event: durable before returning when `durable`, else
    /// batched (see the module documentation).
    pub(crate) fn append_audit(&self, event: &AuditEvent, durable: bool, pid: u32) -> Result<()> {
        self.inner
            .audit
            .append(event.to_canonical_record(), durable, pid)
    }

    /// Writes the events this handle queued in
    /// [`AuditWriteMode::WriteBehind`], then makes every complete, correctly
    /// chained record already in the log
    /// durable and covered by the sealed checkpoint (`fdatasync`, then the
    /// checkpoint advanced), whichever process or handle wrote it. Bytes past
    /// the last valid record are left in place for
    /// [`verify_audit_log`](Self::verify_audit_log) to report. Run by
    /// `verify_audit_log`, [`AUDIT_BATCH_MILLIS`] after a batched append, and
    /// when the last clone of a handle is dropped; call it before handing the
    /// log to another tool.
    ///
    /// # Errors
    /// `KMSInternalException` if the checkpoint fails authentication or the
    /// log cannot be locked, written or synced (queued events then stay
    /// queued, and the handle fails every operation until they are written;
    /// see the module documentation).
    pub fn flush_audit_log(&self) -> Result<()> {
        self.inner.audit.check_process()?;
        self.inner.audit.drain()?;
        self.inner.audit.flush()
    }

    /// Reads the checkpoint, then the log (in that order, so the log holds
    /// at least the records the checkpoint covers).
    /// The sealed checkpoint, as stored.
    fn stored_checkpoint(&self) -> Result<StoredCheckpoint> {
        let mut cp = StoredCheckpoint::genesis();
        self.inner.storage.read(&mut |tx| {
            cp = self.read_checkpoint(tx)?;
            Ok(())
        })?;
        Ok(cp)
    }

    /// Calls `each` with every line of the log that is UTF-8 (without its
    /// newline; bytes after the last newline are a last line), oldest
    /// first, reading it in pieces: at most one line of [`LINE_MAX`](rotation::LINE_MAX)
    /// bytes is held (a longer one is skipped, as one that is not UTF-8).
    /// Nothing for a missing log.
    fn for_each_log_line(&self, each: &mut dyn FnMut(&str)) -> Result<()> {
        use std::io::BufRead;
        let path = self.audit_log_path();
        let read_err = |e: std::io::Error| {
            Error::internal(format!(
                "the audit log {} could not be read: {e}",
                path.display()
            ))
        };
        let f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(read_err(e)),
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, f);
        let mut line = Vec::new();
        let mut skipping = false;
        let mut emit = |line: &mut Vec<u8>, skipping: &mut bool| {
            if !*skipping {
                if let Ok(text) = std::str::from_utf8(line) {
                    each(text);
                }
            }
            line.clear();
            *skipping = false;
        };
        loop {
            let buf = match reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_err(e)),
            };
            if buf.is_empty() {
                break;
            }
            let (take, ends) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buf.len(), false),
            };
            if !skipping {
                if line.len() + take > rotation::LINE_MAX {
                    skipping = true;
                    line.clear();
                } else {
                    line.extend_from_slice(&buf[..take]);
                }
            }
            reader.consume(take + usize::from(ends));
            if ends {
                emit(&mut line, &mut skipping);
            }
        }
        if !line.is_empty() || skipping {
            emit(&mut line, &mut skipping);
        }
        Ok(())
    }

    /// Verifies the audit log against its chain and the sealed checkpoint:
    /// an edited, deleted, inserted or reordered record, or a log cut short
    /// of the checkpoint, is reported with the index (0-based) of the first
    /// bad record and the reason. Reading the log is not itself audited.
    ///
    /// It first flushes ([`flush_audit_log`](Self::flush_audit_log)), so
    /// that `checkpoint_records` covers every valid record written so far,
    /// by any process; where that cannot be done (e.g. a read-only copy of
    /// the files) it verifies without flushing: records past the checkpoint
    /// are then checked by the chain alone. A torn or invalid tail past the
    /// checkpoint (`docs/FORMAT.md`, "Audit log file") is reported as a fault at
    /// its index.
    ///
    /// # Errors
    /// `KMSInternalException` if the checkpoint or the keystore integrity
    /// state ([`verify_digest`](Self::verify_digest)) fails authentication
    /// or the log cannot be read (a log that reads but does not verify is an
    /// `Ok` with `fault` set).
    pub fn verify_audit_log(&self) -> Result<AuditVerification> {
        self.inner.audit.check_process()?;
        // A flush failure that matters (a checkpoint that fails
        // authentication) fails the read below as well.
        let _ = self.flush_audit_log();
        // The checkpoint is trusted only with the rows it was sealed with:
        // an older state row put back alone (checkpoint and all) fails here.
        self.verify_digest()?;
        self.verify_log(&[])
    }

    /// Verifies the audit log of the keystore at `path` as
    /// [`verify_audit_log`](Self::verify_audit_log) does, writing nothing:
    /// for a keystore and log the process cannot write (a read-only file
    /// system or files, a copy kept as evidence). The keystore is opened
    /// read only, symbolic links resolved: through its WAL with SQLite's
    /// locks while a `-wal` or `-shm` file exists beside the file (a writer
    /// may have commits there), otherwise immutable, creating no file (if
    /// a writer opens it during that read, it is read once more through the
    /// WAL); nothing is flushed first, so
    /// records past the sealed checkpoint are checked by the chain alone;
    /// the integrity state is verified and checked against the anchor of
    /// `options` (a keystore behind it fails) without moving or creating
    /// it; no anchoring is begun or recorded and no audit event appended.
    /// `options` as for [`open_with`](Self::open_with) (the audit write
    /// mode and the principal have no effect here), but an anchor with
    /// `initialize_if_missing` or `reinitialize` is refused: a missing
    /// anchor is always an error here. "Writing nothing" stops at SQLite:
    /// the keystore, its WAL, its audit log and its anchor are never
    /// written, but while a `-wal` file exists (a writer has the keystore
    /// open, or crashed) SQLite may create or update the shared-memory
    /// index `-shm` beside it, as it does for any reader.
    ///
    /// # Errors
    /// `ValidationException` for an anchor with
    /// [`Anchor::initialize_if_missing`](crate::Anchor::initialize_if_missing)
    /// or [`Anchor::reinitialize`](crate::Anchor::reinitialize);
    /// those of [`open_with`](Self::open_with) up to the configuration
    /// (`NotFoundException`, `AccessDeniedException`,
    /// `KMSInvalidStateException` for an anchored keystore without an
    /// anchor or the opt-out, `KMSInternalException` for a keystore of an
    /// older format version, which is never migrated here); those of
    /// [`verify_audit_log`](Self::verify_audit_log);
    /// `KMSInternalException` too when the file cannot be opened read
    /// only (a `-wal` file beside it that cannot be read).
    pub fn verify_audit_log_read_only(
        path: impl AsRef<Path>,
        root: crate::RootKeySource,
        options: crate::OpenOptions,
    ) -> Result<AuditVerification> {
        Self::verify_audit_log_read_only_with_archives(path, root, options, &[])
    }

    /// [`verify_audit_log_read_only`](Self::verify_audit_log_read_only)
    /// with the archives `archives` checked as
    /// [`verify_audit_log_archives`](Self::verify_audit_log_archives) does,
    /// writing nothing.
    ///
    /// # Errors
    /// Those of [`verify_audit_log_read_only`](Self::verify_audit_log_read_only).
    pub fn verify_audit_log_read_only_with_archives(
        path: impl AsRef<Path>,
        root: crate::RootKeySource,
        options: crate::OpenOptions,
        archives: &[PathBuf],
    ) -> Result<AuditVerification> {
        if let Some(a) = &options.anchor {
            a.refuse_initialization("a read-only audit verification")?;
        }
        let path = path.as_ref();
        let verify = |root, options| {
            let ks = Self::open_checked(path, root, options, crate::Opening::ReadOnly)?;
            ks.verify_state()?;
            ks.verify_log(archives)
        };
        crate::store::read_again_if_writer_appeared(|| verify(root.clone(), options.clone()))
    }

    /// The chain of the log verified against the sealed checkpoint (the
    /// end of [`verify_audit_log`](Self::verify_audit_log)).
    fn verify_log(&self, archives: &[PathBuf]) -> Result<AuditVerification> {
        let key = self.inner.root.audit_key();
        let path = self.audit_log_path();
        let read_err = |e: std::io::Error| {
            Error::internal(format!(
                "the audit log {} could not be read: {e}",
                path.display()
            ))
        };
        let mut retries = 0;
        loop {
            let cp = self.stored_checkpoint()?;
            let file = match File::open(path) {
                Ok(f) => Some(f),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(read_err(e)),
            };
            let size = match &file {
                Some(f) => f.metadata().map_err(read_err)?.len(),
                None => 0,
            };
            // A rotated file starts after the records its first line states.
            let first = file.as_ref().and_then(|f| rotation::first_line(f, size));
            let starts = first
                .as_deref()
                .and_then(rotation::RotationClaim::of_line)
                .map_or(0, |c| c.base().count);
            if starts > cp.checkpoint.count && retries < REOPEN_ATTEMPTS {
                // A file that starts past the checkpoint read just before
                // it: a rotation by another process in between (rotations
                // by size may follow closely); read both again.
                retries += 1;
                continue;
            }
            // Intents of unknown outcome over the archives then the current
            // file: an intent archived by a rotation is still reported when
            // its archive is given (review17 L3).
            let mut intents = OpenIntents::default();
            let (archives, archive_fault) = if archives.is_empty() {
                (Vec::new(), None)
            } else {
                rotation::verify_archives(archives, key, path, first.as_deref(), &mut intents)
            };
            // The current file, streamed (its memory does not grow with it).
            let mut pass = rotation::LinePass::new(key, Some(cp.checkpoint));
            pass.intents = Some(intents);
            if let Some(mut f) = file.as_ref() {
                let read = |buf: &mut [u8], _| std::io::Read::read(&mut f, buf);
                if let Err(rotation::StreamError::Read(e) | rotation::StreamError::Copy(e)) =
                    rotation::stream(&mut pass, None, read, |_, _| Ok(()))
                {
                    return Err(read_err(e));
                }
            }
            let end = pass.finish();
            let mut base = end.base;
            let (records, fault) = match end.end {
                // The first line's rotation claim did not verify (or the
                // file cannot start where it claims): the claim is not
                // trusted, so neither are the numbers it states; reported
                // at record 0, the file starting at record 1 (review17b:
                // a forged claim set `records` and `first_record`).
                Err(mut fault) if base.count > 0 && fault.index == base.count => {
                    base = Checkpoint::genesis();
                    fault.index = 0;
                    (0, Some(fault))
                }
                // Every record there, but the file shorter than the
                // checkpoint covers (its last checkpointed line lost its
                // newline, say): every operation stops on it ("Fail
                // closed"), so it is a fault here too, at the last
                // checkpointed record (review17 L4).
                Ok(_) if end.len < cp.log_len && base.count < cp.checkpoint.count => {
                    let index = cp.checkpoint.count - 1;
                    (
                        index,
                        Some(strongroom_core::audit::ChainError {
                            index,
                            reason: strongroom_core::audit::ChainFault::Malformed(
                                "the file is shorter than its sealed checkpoint covers \
                                 (a checkpointed line cut, or its newline removed)",
                            ),
                        }),
                    )
                }
                Ok(state) => (state.count, None),
                Err(fault) => (fault.index, Some(fault)),
            };
            return Ok(AuditVerification {
                records,
                checkpoint_records: cp.checkpoint.count,
                first_record: base.count.saturating_add(1),
                fault,
                outcome_unknown: end.intents.map(OpenIntents::ids).unwrap_or_default(),
                archives,
                archive_fault,
            });
        }
    }

    /// Moves the audit log's records to an archive file beside it and
    /// starts a new log file with a chained `RotateAuditLog` record that
    /// names the archive (`docs/FORMAT.md`, "Audit log rotation and
    /// archives"), as CloudTrail ends one log file and starts the next.
    /// The log is made durable and checkpointed under the log's lock (the
    /// events this handle queued in [`AuditWriteMode::WriteBehind`] written
    /// first); its records up to that end are copied to
    /// [`audit_archive_path`]`(log, first, last)` (mode 0400) without the
    /// lock (appenders of every handle and process go on); then, under the
    /// lock again, the records appended meanwhile are copied too and the
    /// log is replaced by the new file; the checkpoint then covers the
    /// rotation record. Appenders wait only for that last part (for a
    /// 101 MB log, 78 ms where the whole 3.4 s rotation held the lock
    /// before). A second rotation of the same records waits for the first
    /// (its `.partial` file `flock`ed), 5 s at most.
    /// The record count and chain continue across files: the new file
    /// verifies alone ([`verify_audit_log`](Self::verify_audit_log), from
    /// the base its first line states), the archives with
    /// [`verify_audit_log_archives`](Self::verify_audit_log_archives).
    /// Other handles and processes notice the new file at their next append
    /// and continue in it. The archives are the caller's: moving or deleting
    /// them does not affect the keystore, and a rotation never removes or
    /// replaces an archive that is not a copy of records the log still
    /// holds. The segment is streamed in 1 MiB pieces (memory does not grow
    /// with the log; one line of at most 16 MiB is held: appends refuse a
    /// longer line, and every record is bounded far below it,
    /// `docs/FORMAT.md`, "Bounded records").
    ///
    /// A crash at any point leaves a keystore that opens and a log that
    /// verifies: before the new file is renamed into place, the old log
    /// stays current (a `.partial` file left beside it is removed by the
    /// next rotation of the same records, and an archive while it is a
    /// copy of the start of the log; at the archive's own name it is
    /// reused); after, the new
    /// file's first line continues exactly from the stored checkpoint, which
    /// appends and flushes accept (and checkpoint).
    ///
    /// A rotation refused or failed is audited as a `RotateAuditLog` record
    /// with its `errorCode`, appended to the current file.
    ///
    /// # Errors
    /// `KMSInvalidStateException` when the log holds no record, when a
    /// `.partial` file of the same records stayed locked for 5 s (another
    /// rotation copying them, or a process holding its lock; the message
    /// names it), or when the rotation gave up after 64 attempts because
    /// the log kept changing under it (rotated or replaced by other handles
    /// or processes; nothing archived: rotate again);
    /// `ValidationException` on a [`dry_run`](Self::dry_run) handle, in a
    /// process made by `fork()`, or for a keystore whose file name is longer
    /// than 193 bytes or not UTF-8 (made by an older version, or renamed
    /// since: its archives' names would pass the 255-byte limit of a file
    /// name, or could not be written into the log as JSON text; refused before anything is written); `KMSInternalException` when the log cannot
    /// be locked, read, written or synced, the log's directory cannot be
    /// read or a `.partial` file of the same records cannot be opened or
    /// locked (nothing is removed), the temporary archive file was replaced
    /// by another during the copy (nothing is named), the log's records do not verify
    /// (nothing is archived), the log holds a line over the 16 MiB limit
    /// (only an older version appended one; the message names its record
    /// index), the archive's name is taken by a file that is
    /// not a copy of the log's records (the message names it: move it
    /// away; nothing is deleted), the archive or new file cannot be
    /// created (e.g. a full disk or a read-only directory: nothing then
    /// changes but a leftover `.rotating` file or a named archive), the log does
    /// not hold what the sealed checkpoint covers (it stops every operation,
    /// see "Fail closed"), or the checkpoint fails authentication. An error
    /// reported after the new file was renamed into place (a failed
    /// directory sync) leaves the rotation done;
    /// `UnsupportedOperationException` on targets without `flock`
    /// (non-Unix).
    pub fn rotate_audit_log(&self) -> Result<AuditLogRotation> {
        let pid = self.inner.audit.check_process()?;
        let random = crate::access::audit_id_bytes(pid);
        let millis = self.inner.clock.now().saturating_mul(1000);
        let result = self.rotate_now(millis, random);
        if let Err(e) = &result {
            // A rotation refused or failed is audited as any call is, in the
            // current file (the old one when nothing was rotated; the new
            // one, after its own success record, when the error came after
            // the rename, e.g. a failed directory sync); a rotation's own
            // record is the first line of the new file.
            let event = AuditEvent::new(ROTATE_AUDIT_LOG, self.principal(), millis, random)
                .with_request_parameters_value(serde_json::json!({}))
                .with_error(e)
                .with_recipient_account(self.account());
            self.append_audit(&event, true, pid)?;
        }
        result
    }

    /// [`rotate_audit_log`](Self::rotate_audit_log) after the process check.
    fn rotate_now(&self, millis: u64, random: [u8; 32]) -> Result<AuditLogRotation> {
        strongroom_core::access::check_caller(self.principal())?;
        if self.dry_run {
            return Err(strongroom_core::access::dry_run_refused(
                ROTATE_AUDIT_LOG,
                "on a handle without dry_run()",
            ));
        }
        refuse_unnamable_archives(self.audit_log_path())?;
        self.inner.audit.drain()?;
        #[cfg(unix)]
        {
            self.inner.audit.rotate(&RotationCaller {
                principal: Some(self.principal()),
                account: self.account(),
                millis,
                random,
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (millis, random);
            Err(Error::new(
                strongroom_core::ErrorKind::UnsupportedOperationException,
                "audit log rotation needs flock (Unix)",
            ))
        }
    }

    /// [`verify_audit_log`](Self::verify_audit_log), then the archives
    /// `archives` (oldest first, as [`rotate_audit_log`](Self::rotate_audit_log)
    /// made them; any contiguous run of them, up to the current log): each
    /// archive's chain verifies from its own first record, and the file
    /// after it (the next archive, or the current log for the last one)
    /// starts with a `RotateAuditLog` record that names it, with its record
    /// range, length, SHA-256 and last chain value. A modified, truncated,
    /// extended, missing or misordered archive is reported in
    /// `archive_fault` with the file and record number.
    ///
    /// # Errors
    /// Those of [`verify_audit_log`](Self::verify_audit_log) (an archive that
    /// cannot be read is an `archive_fault`, not an error).
    pub fn verify_audit_log_archives(&self, archives: &[PathBuf]) -> Result<AuditVerification> {
        self.inner.audit.check_process()?;
        let _ = self.flush_audit_log();
        self.verify_digest()?;
        self.verify_log(archives)
    }

    /// The audit records (CloudTrail JSON objects, without the chain field)
    /// that match `filter`, oldest first, one per operation: an intent
    /// record (`docs/FORMAT.md`, "Intent records") is left out once the
    /// record of its operation's outcome (the `eventID` its
    /// `strongroomIntent` names) follows it, and listed while none does. After writing the events this
    /// handle queued in [`AuditWriteMode::WriteBehind`] (if it can). Does not verify the chain (see
    /// [`verify_audit_log`](Self::verify_audit_log)); unparsable lines (and
    /// lines over 16 MiB, which no append writes) are skipped. The log is
    /// read in pieces: memory grows with the records returned, not with
    /// the log.
    ///
    /// # Errors
    /// `ValidationException` if `start_time` or `end_time` is not RFC 3339
    /// UTC text or a prefix of it ([`check_time_filter`]), or `start_time`
    /// is after `end_time` ([`check_time_range`]: CloudTrail's
    /// `InvalidTimeRangeException`); the log is not read then;
    /// `KMSInternalException` if the log cannot be read.
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<Value>> {
        self.inner.audit.check_process()?;
        for t in [&filter.start_time, &filter.end_time].into_iter().flatten() {
            check_time_filter(t)?;
        }
        if let (Some(start), Some(end)) = (&filter.start_time, &filter.end_time) {
            check_time_range(start, end)?;
        }
        // This handle's queued events (write-behind) first; a log that
        // cannot be written is still read.
        let _ = self.inner.audit.drain();
        // Streamed, one line at a time: what is held is the records that
        // match, and for each matching intent record the outcome it waits
        // for (one record per operation: an intent record only while no
        // record of its outcome follows it).
        let mut out: Vec<Option<Value>> = Vec::new();
        let mut waiting: HashMap<String, Vec<usize>> = HashMap::new();
        self.for_each_log_line(&mut |line| {
            let Ok(mut v) = strongroom_core::json_value(line) else {
                return;
            };
            if let Some(o) = v.as_object_mut() {
                o.remove(strongroom_core::audit::CHAIN_FIELD);
            }
            match intent_of(&v).map(str::to_owned) {
                Some(outcome) => {
                    if filter.matches(&v) {
                        waiting.entry(outcome).or_default().push(out.len());
                        out.push(Some(v));
                    }
                }
                None => {
                    if let Some(id) = v.get("eventID").and_then(Value::as_str) {
                        for i in waiting.remove(id).unwrap_or_default() {
                            out[i] = None;
                        }
                    }
                    if filter.matches(&v) {
                        out.push(Some(v));
                    }
                }
            }
        })?;
        Ok(out.into_iter().flatten().collect())
    }
}

/// The `eventID`s of the intent records, in the lines seen so far (in log
/// order, across archives and the current file), that no later
/// (non-intent) record with the `eventID` they name follows:
/// [`AuditVerification::outcome_unknown`].
#[derive(Default)]
pub(crate) struct OpenIntents {
    /// (the intent's own eventID, the outcome's it names)
    open: Vec<(String, String)>,
}

impl OpenIntents {
    /// The next line of the log.
    pub(crate) fn line(&mut self, line: &str) {
        // Only an intent opens one, only a record after one can close it.
        if self.open.is_empty() && !line.contains(INTENT_FIELD) {
            return;
        }
        let Ok(record) = strongroom_core::json_value(line) else {
            return;
        };
        let Some(id) = record.get("eventID").and_then(Value::as_str) else {
            return;
        };
        if let Some(outcome) = intent_of(&record) {
            self.open.push((id.to_owned(), outcome.to_owned()));
        } else {
            // An operation may have committed more than one change.
            self.open.retain(|(_, o)| o != id);
        }
    }

    /// The eventIDs of the intents still open.
    pub(crate) fn ids(self) -> Vec<String> {
        self.open.into_iter().map(|(id, _)| id).collect()
    }
}

/// (Whole-file reading, kept as the oracle of the streamed pass's tests.)
/// The log's bytes as text, line for line: a line that is not UTF-8 (an
/// edited byte, or a write torn inside a character) becomes [`NOT_UTF8`],
/// which is not JSON, so that the verification reports it as a bad record at
/// its index (and `AuditEvents` skips it) rather than failing to read the
/// whole log.
#[cfg(test)]
fn utf8_lines(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => e
            .as_bytes()
            .split(|&b| b == b'\n')
            .map(|line| std::str::from_utf8(line).unwrap_or(NOT_UTF8))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// What [`utf8_lines`] puts in place of a line that is not UTF-8.
const NOT_UTF8: &str = "(a record that is not UTF-8)";

/// The lines of `text`; a final newline ends the last line rather than
/// starting an empty one.
#[cfg(test)]
fn split_lines(text: &str) -> Vec<&str> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() && text.is_empty() {
        return Vec::new();
    }
    body.split('\n').collect()
}

/// Events of read-only operations appended after the sealed checkpoint
/// before the log is `fdatasync`'d and the checkpoint advanced: after every
/// append, fewer than this many records lie past the checkpoint (counted
/// across every process and handle sharing the log).
pub const AUDIT_BATCH_EVENTS: u64 = 256;

/// How long (milliseconds) a handle leaves its own read-only events past
/// the checkpoint: a background flush runs this long after its first
/// unsynced append, and an append later than this syncs at once.
pub const AUDIT_BATCH_MILLIS: u64 = 100;

/// How a handle writes the audit events of read-only operations (those of
/// [`strongroom_core::audit::is_read_only`]: the cryptographic operations,
/// `Describe*`, `Get*`, `List*`). Chosen when the keystore is opened
/// ([`OpenOptions`](crate::OpenOptions), [`CreateOptions`](crate::CreateOptions));
/// not stored in the keystore. Management events are written, `fdatasync`ed
/// and checkpointed before their operation returns in both modes.
///
/// The two modes are the write-through / write-behind choice of a cache:
/// whether a record is in the file when the call returns. It is the trade
/// SQLite's `synchronous` setting (`FULL` against `NORMAL`) makes for power
/// loss, made here for a process crash; CloudTrail itself delivers events
/// asynchronously (within minutes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AuditWriteMode {
    /// Every event is in the log file (the page cache) before its operation
    /// returns: a process crash loses no record (see the module
    /// documentation of `audit_log` in the README for what an operating-system crash can
    /// lose). The default.
    #[default]
    WriteThrough,
    /// Read-only events are queued in memory and written (chained, with one
    /// locked `pwrite`, then `fdatasync`ed and checkpointed) in batches:
    /// when `max_events` would be queued, when the oldest queued one is
    /// `max_millis` milliseconds old (a background thread writes them), before
    /// any management event of the handle (which lands after them in the
    /// chain), on [`Keystore::flush_audit_log`] and when the last clone of
    /// the handle is dropped. A process crash (`kill -9`, abort,
    /// `std::process::exit` without dropping the handle) loses the queued
    /// records: at most `max_events - 1` events of read-only operations,
    /// from about the last `max_millis` ms (twice that many if other threads
    /// queue while a batch is being written). If a batch cannot be written,
    /// its records stay queued and every later operation of the handle
    /// first tries to write them again and fails with
    /// `KMSInternalException` while that fails (so no result is returned
    /// while the trail has a gap); management operations fail before they
    /// change anything. Records still unwritten when the last clone is
    /// dropped are lost ([`Keystore::flush_audit_log`] first reports the
    /// failure).
    WriteBehind {
        /// Most events queued at once, 1 to [`AUDIT_WRITE_BEHIND_MAX_EVENTS`]
        /// (1 writes every event at once).
        max_events: u32,
        /// Most milliseconds an event waits in the queue, 1 to
        /// [`AUDIT_WRITE_BEHIND_MAX_MILLIS`].
        max_millis: u32,
    },
}

/// Smallest size of [`OpenOptions::audit_rotate_bytes`](crate::OpenOptions::audit_rotate_bytes)
/// (64 KiB).
pub const AUDIT_ROTATE_MIN_BYTES: u64 = 64 * 1024;

/// Largest size of [`OpenOptions::audit_rotate_bytes`](crate::OpenOptions::audit_rotate_bytes)
/// (1 GiB). Appenders do not wait while a rotation copies the file (only
/// for the part appended meanwhile), but a second rotation of the same
/// records waits for the first's copy 5 s at most (about 150 MB on this
/// project's test machine) and then fails with `KMSInvalidStateException`.
pub const AUDIT_ROTATE_MAX_BYTES: u64 = 1 << 30;

/// Checks [`OpenOptions::audit_rotate_bytes`](crate::OpenOptions::audit_rotate_bytes).
///
/// # Errors
/// `ValidationException` out of [`AUDIT_ROTATE_MIN_BYTES`] to
/// [`AUDIT_ROTATE_MAX_BYTES`].
pub(crate) fn check_rotate_bytes(bytes: Option<u64>) -> Result<()> {
    match bytes {
        Some(b) if !(AUDIT_ROTATE_MIN_BYTES..=AUDIT_ROTATE_MAX_BYTES).contains(&b) => {
            Err(Error::validation(format!(
                "the size at which the audit log is rotated must be {AUDIT_ROTATE_MIN_BYTES} to \
                 {AUDIT_ROTATE_MAX_BYTES} bytes, not {b}"
            )))
        }
        _ => Ok(()),
    }
}

/// Largest `max_events` of [`AuditWriteMode::WriteBehind`].
pub const AUDIT_WRITE_BEHIND_MAX_EVENTS: u32 = 65_536;

/// Largest `max_millis` of [`AuditWriteMode::WriteBehind`] (one minute).
pub const AUDIT_WRITE_BEHIND_MAX_MILLIS: u32 = 60_000;

impl AuditWriteMode {
    /// [`WriteBehind`](Self::WriteBehind) with the bounds of the default
    /// mode's unsynced records: [`AUDIT_BATCH_EVENTS`] events and
    /// [`AUDIT_BATCH_MILLIS`] ms.
    pub const fn write_behind() -> Self {
        AuditWriteMode::WriteBehind {
            max_events: AUDIT_BATCH_EVENTS as u32,
            max_millis: AUDIT_BATCH_MILLIS as u32,
        }
    }

    /// Checks the bounds of `WriteBehind`.
    ///
    /// # Errors
    /// `ValidationException` when `max_events` or `max_millis` is out of range.
    pub fn validate(&self) -> Result<()> {
        if let AuditWriteMode::WriteBehind {
            max_events,
            max_millis,
        } = *self
        {
            if !(1..=AUDIT_WRITE_BEHIND_MAX_EVENTS).contains(&max_events) {
                return Err(Error::validation(format!(
                    "max_events must be 1 to {AUDIT_WRITE_BEHIND_MAX_EVENTS}, not {max_events}"
                )));
            }
            if !(1..=AUDIT_WRITE_BEHIND_MAX_MILLIS).contains(&max_millis) {
                return Err(Error::validation(format!(
                    "max_millis must be 1 to {AUDIT_WRITE_BEHIND_MAX_MILLIS}, not {max_millis}"
                )));
            }
        }
        Ok(())
    }
}

/// Whether the event of `op` is made durable (fsync'd and checkpointed)
/// before the operation returns: every operation except the read-only ones
/// of [`strongroom_core::audit::is_read_only`] (cryptographic operations,
/// `Describe*`, `Get*`, `List*`), whose events are batched.
pub(crate) fn durable_event(op: &str) -> bool {
    !strongroom_core::audit::is_read_only(op)
}

/// Per-sink state behind its mutex.
#[derive(Default)]
struct AuditTail {
    /// The log, opened once and reused while the path still names it.
    file: Option<File>,
    /// (device, inode) of `file` and the chain state at the end of the last
    /// line this sink wrote or verified.
    last: Option<((u64, u64), StoredCheckpoint)>,
    /// When this sink first appended a line that is not yet checkpointed.
    unsynced_since: Option<Instant>,
    /// A background flush is scheduled.
    flush_scheduled: bool,
    /// The checkpoint as last read or stored, with the storage's change
    /// counter at that time (re-read when the counter moved).
    checkpoint: Option<(u64, StoredCheckpoint)>,
    /// When the path was last seen to name `file` (see [`AuditSink::open`]).
    path_checked: Option<Instant>,
    /// The log's `flock` is still held, between two batches of one lock
    /// hold ([`Held`]): only the appender that claimed the next batch
    /// ([`Queue::held`]) may take the tail while this is set; everything
    /// else waits for the hold to end ([`AuditSink::lock_tail_free`]).
    held: Option<Held>,
}

/// A lock hold of the log kept between two batches of the queue: the
/// writer of a batch that finds more records queued when its `pwrite`
/// returns marks its batch written (its callers return) and leaves the
/// `flock` held for the caller that claims the next batch, which writes
/// it chained after `end` without locking, a stat or finding the valid
/// end again (one lock hold, one length check, as for the records of one
/// batch). Bounded by [`HOLD_MAX_BATCHES`].
#[derive(Clone, Copy)]
struct Held {
    /// The checkpoint as read (or stored) under the hold.
    cp: StoredCheckpoint,
    /// (device, inode) of the locked file (`AuditTail::file`).
    id: (u64, u64),
    /// The end of the valid chain in it: after the last batch written.
    end: StoredCheckpoint,
    /// Batches written under the hold so far.
    batches: u32,
}

/// Most times an append, change or rotation finds the log file it locked
/// deleted or renamed over (a link count of 0: a rotation by another
/// handle or process, each of which replaces the file) and opens the path
/// again before it fails.
const REOPEN_ATTEMPTS: usize = 64;

/// Most batches written under one lock hold of the log (the first and its
/// continuations, [`Held`]): another process waiting for the lock waits for
/// at most this many batches of one handle.
const HOLD_MAX_BATCHES: u32 = 8;

/// The audit sink as a keystore's handles hold it, shared by its clones and
/// by the handles [`Keystore::with_clock`] makes: dropping the last one
/// [closes](AuditSink::close) the sink before the drop returns. The sink
/// alone would not do: a background flush or drain holds it alive while it
/// runs, and the last handle dropped meanwhile would leave its final writes
/// to that thread, done after the drop returned, or never if the process
/// exits first (`audit_batching::dropping_the_last_handle_flushes` saw the
/// checkpoint short of the records written).
pub(crate) struct AuditOwner(Arc<AuditSink>);

impl AuditOwner {
    pub(crate) fn new(sink: Arc<AuditSink>) -> Arc<Self> {
        Arc::new(AuditOwner(sink))
    }
}

impl std::ops::Deref for AuditOwner {
    type Target = Arc<AuditSink>;

    fn deref(&self) -> &Arc<AuditSink> {
        &self.0
    }
}

impl Drop for AuditOwner {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The writer of one keystore's audit log, shared by every handle (clone)
/// of a [`Keystore`]; flushed when the last handle is dropped.
pub(crate) struct AuditSink {
    storage: Arc<dyn Storage>,
    root: RootKey,
    path: PathBuf,
    tail: Mutex<AuditTail>,
    /// Records waiting to be written by one writer (group commit).
    queue: Mutex<Queue>,
    /// Signalled when a batch of the queue is written, if some caller
    /// waits on it ([`Queue::waiters`]).
    written: Condvar,
    /// [`Queue::done`] as last published, read without the queue's lock by
    /// callers that spin briefly before sleeping on `written` (a hint: the
    /// queue's own `done` decides).
    done_hint: AtomicU64,
    /// Distinguishes sinks in [`OBSERVED_EPOCH`] (unique per process).
    id: u64,
    /// Names the chain key in [`PROCESS_TAILS`] without holding it: a MAC
    /// of a fixed string under the root key's record-MAC key.
    key_tag: [u8; 32],
    /// The highest integrity states seen and the anchor
    /// ([`AuditSink::guard`]).
    guard: Arc<StateGuard>,
    /// The chain key ([`RootKey::audit_key`]) with its HMAC states
    /// computed once.
    chain_key: HmacSha256Key,
    /// How read-only events are written.
    mode: AuditWriteMode,
    /// The process that opened the keystore ([`check_process`](Self::check_process)).
    opened_in: u32,
    /// Signalled when a lock hold kept between batches ends, if some
    /// thread waits for it (`tail_waiters`).
    tail_free: Condvar,
    /// Threads waiting on `tail_free` (counted under the tail's mutex).
    tail_waiters: std::sync::atomic::AtomicU32,
    /// Test hooks (`crate::test_hooks`, feature `test-hooks`; nothing
    /// without it): a writer to park after its `pwrite`, failures to
    /// inject, the count of lock holds taken by this sink's batch writers.
    hooks: TestHooks,
    /// Automatic rotation ([`OpenOptions::audit_rotate_bytes`](crate::OpenOptions::audit_rotate_bytes)):
    /// the size, or `u64::MAX` when off.
    rotate_bytes: u64,
    /// The log length at which a batch marks a rotation due (the size, or
    /// more after a failed rotation).
    rotate_after: AtomicU64,
    /// A batch left the log at or past `rotate_after`.
    rotation_due: std::sync::atomic::AtomicBool,
    /// A background rotation is running.
    rotation_scheduled: std::sync::atomic::AtomicBool,
    /// The keystore's account (the automatic rotation's service event).
    account: String,
}

/// See [`AuditSink::hooks`] (feature `test-hooks`).
#[cfg(feature = "test-hooks")]
#[derive(Default)]
struct TestHooks {
    armed: std::sync::atomic::AtomicBool,
    park: Mutex<Option<Arc<crate::test_hooks::WriterPark>>>,
    fail_continued: std::sync::atomic::AtomicBool,
    fail_epoch: std::sync::atomic::AtomicBool,
    lock_holds: AtomicU64,
}

#[cfg(feature = "test-hooks")]
impl TestHooks {
    /// Whether the one-shot hook `flag` is armed, disarming it: a relaxed
    /// load first, so that the path where nothing is armed does not take
    /// the cache line for writing as a `swap` would on every batch.
    fn take(flag: &std::sync::atomic::AtomicBool) -> bool {
        flag.load(Ordering::Relaxed) && flag.swap(false, Ordering::Relaxed)
    }

    /// Whether a failure of the next change-counter read is armed (cleared).
    fn take_fail_epoch(&self) -> bool {
        Self::take(&self.fail_epoch)
    }

    /// Whether a failure of the next continued batch is armed (cleared).
    fn take_fail_continued(&self) -> bool {
        Self::take(&self.fail_continued)
    }

    /// Counts a lock hold of the log taken by a batch writer.
    fn count_lock_hold(&self) {
        self.lock_holds.fetch_add(1, Ordering::Relaxed);
    }

    /// Parks this writer (after its `pwrite`, still under the lock) if a
    /// park is armed ([`crate::test_hooks::hold_audit_writer`]).
    fn park_writer(&self) {
        if !self.armed.load(Ordering::Relaxed) {
            return;
        }
        let park = self
            .park
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        self.armed.store(false, Ordering::Relaxed);
        if let Some(p) = park {
            p.park();
        }
    }
}

/// Without the `test-hooks` feature: nothing is ever armed, every check a
/// constant (compiled to nothing).
#[cfg(not(feature = "test-hooks"))]
struct TestHooks;

#[cfg(not(feature = "test-hooks"))]
impl TestHooks {
    #[inline(always)]
    fn take_fail_epoch(&self) -> bool {
        false
    }

    #[inline(always)]
    fn take_fail_continued(&self) -> bool {
        false
    }

    #[inline(always)]
    fn count_lock_hold(&self) {}

    #[inline(always)]
    fn park_writer(&self) {}
}

/// One record waiting in a sink's [`Queue`].
struct Queued {
    /// The canonical record (`R_i` of `docs/FORMAT.md`).
    canonical: String,
    /// Its caller waits for it to be written (always, except the read-only
    /// records queued in [`AuditWriteMode::WriteBehind`]).
    waited: bool,
}

/// The records appended to a sink and not yet written (group commit): the
/// first caller to find no writer at work writes every queued record, its
/// own and those of the threads that queued behind it, under one lock of
/// the log and one `pwrite`; the others wait until their record is written
/// (or failed), so every caller still returns only once its line is in the
/// file. In [`AuditWriteMode::WriteBehind`], read-only records are queued
/// without a waiting caller and written by the next batch.
#[derive(Default)]
struct Queue {
    /// Records in arrival order; sequence numbers `done..next`.
    pending: Vec<Queued>,
    /// Some pending record needs a durable write.
    pending_durable: bool,
    /// Sequence number of the next record queued.
    next: u64,
    /// Every record numbered below this is written or failed.
    done: u64,
    /// A writer is writing a batch.
    writing: bool,
    /// The batch being written is durable (`fdatasync`): its waiters sleep
    /// at once instead of spinning ([`AuditSink::spin_for_batch`]).
    writing_durable: bool,
    /// The errors of records that failed, until their callers take them.
    failed: HashMap<u64, Error>,
    /// An empty buffer to swap in for `pending`.
    spare: Vec<Queued>,
    /// Write-behind: records of a batch that failed and whose callers
    /// already returned, written before `pending` by the next batch.
    retained: Vec<Queued>,
    /// Write-behind: records queued without a waiting caller (in `pending`
    /// and `retained`).
    detached: u64,
    /// Write-behind: when the oldest record in `pending` without a waiting
    /// caller was queued.
    oldest: Option<Instant>,
    /// Write-behind: the error of the last failed batch that held records
    /// whose callers had returned; while set, every append is written at
    /// once and fails while the log cannot be written.
    stuck: Option<Error>,
    /// Write-behind: the background write of the queue is scheduled.
    drain_scheduled: bool,
    /// The process that queued the records (a forked child drops its
    /// parent's).
    pid: u32,
    /// Threads waiting on [`AuditSink::written`] ([`AuditSink::wait_written`]).
    waiters: u32,
    /// The writer of the last batch kept the log locked ([`Held`]): the
    /// next batch claimed continues that lock hold.
    held: bool,
}

/// The end of the valid chain of each log file this process last wrote or
/// verified (by file identity and [`AuditSink::key_tag`]), shared by every
/// sink of the process, so that handles opened separately on one keystore
/// do not re-verify each other's lines. Updated under the log's `flock`.
static PROCESS_TAILS: Mutex<Option<HashMap<TailKey, StoredCheckpoint>>> = Mutex::new(None);

/// Most entries of [`PROCESS_TAILS`] (emptied when full; an entry only
/// saves work).
const PROCESS_TAILS_MAX: usize = 64;

type TailKey = ((u64, u64), [u8; 32]);

fn lock_tails() -> std::sync::MutexGuard<'static, Option<HashMap<TailKey, StoredCheckpoint>>> {
    PROCESS_TAILS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The operation a thread is running ([`Keystore::call`](crate::Keystore)):
/// what the intent record of a row change it commits names.
struct CallContext {
    /// A call is running (the fields below are its own).
    active: bool,
    /// The operation's name (a buffer reused from call to call).
    op: String,
    /// The bytes of its `requestID` and `eventID` ([`AuditEvent::new`]).
    random: [u8; 32],
    /// Its request parameters, kept for management operations only (the
    /// read-only ones change rows only through due maintenance: their
    /// intent names the operation without them).
    params: Option<RequestParameters>,
    /// A change of the call committed (an intent record preceded it).
    committed: bool,
}

thread_local! {
    static CALL: RefCell<CallContext> = const {
        RefCell::new(CallContext {
            active: false,
            op: String::new(),
            random: [0; 32],
            params: None,
            committed: false,
        })
    };
}

/// The current call of this thread, from [`CallScope::enter`] until it is
/// dropped (also on unwinding).
pub(crate) struct CallScope {
    /// The call this one runs inside of (`op`, `random`, `params`,
    /// `committed`).
    outer: Option<(String, [u8; 32], Option<RequestParameters>, bool)>,
}

impl CallScope {
    /// Names `op` (event IDs from `random`) as this thread's current call;
    /// `params` only for a management operation.
    pub(crate) fn enter(
        op: &str,
        random: [u8; 32],
        params: Option<RequestParameters>,
    ) -> CallScope {
        CALL.with(|c| {
            let mut c = c.borrow_mut();
            let outer = c
                .active
                .then(|| (c.op.clone(), c.random, c.params.take(), c.committed));
            c.active = true;
            c.committed = false;
            c.op.clear();
            c.op.push_str(op);
            c.random = random;
            c.params = params;
            CallScope { outer }
        })
    }

    /// Whether a change of this call has committed (its intent record is
    /// in the log, before it): from then on the call is not reported as
    /// failed for want of its outcome record (see [`Keystore::call`]).
    ///
    /// [`Keystore::call`]: crate::Keystore
    pub(crate) fn committed(&self) -> bool {
        CALL.with(|c| c.borrow().committed)
    }
}

/// Records that the current call (if any) committed a change.
fn mark_committed() {
    CALL.with(|c| {
        let mut c = c.borrow_mut();
        if c.active {
            c.committed = true;
        }
    });
}

impl Drop for CallScope {
    fn drop(&mut self) {
        // `try_with`: a thread-local being destroyed has nothing to restore.
        let _ = CALL.try_with(|c| {
            let mut c = c.borrow_mut();
            match self.outer.take() {
                Some((op, random, params, committed)) => {
                    c.op = op;
                    c.random = random;
                    c.params = params;
                    c.committed = committed;
                }
                None => {
                    c.active = false;
                    c.params = None;
                }
            }
        });
    }
}

/// The canonical intent record (`docs/FORMAT.md`, "Intent records") of the
/// operation this thread is running, called by `principal` in `account`,
/// at `millis` (Unix milliseconds), with an `eventID` of its own and the
/// ARNs `keys` (of the keys its transaction wrote) in `resources`; `None`
/// outside a call.
pub(crate) fn intent_record(
    principal: &str,
    account: &str,
    millis: u64,
    keys: impl Iterator<Item = String>,
) -> Option<String> {
    let random = crate::access::audit_id_bytes(std::process::id());
    let mut intent_id = [0u8; 16];
    intent_id.copy_from_slice(&random[..16]);
    CALL.with(|c| {
        let c = c.borrow();
        if !c.active {
            return None;
        }
        let mut event = AuditEvent::new(&c.op, principal, millis, c.random);
        if let Some(p) = &c.params {
            event = event.with_request_parameters(p);
        }
        event = event.with_keys(keys);
        Some(
            event
                .with_recipient_account(account)
                .into_intent(intent_id)
                .to_canonical_record(),
        )
    })
}

/// For an intent record (parsed), the `eventID` of the outcome record it
/// names (`docs/FORMAT.md`, "Intent records"); `None` for any other record.
fn intent_of(record: &Value) -> Option<&str> {
    record.get(INTENT_FIELD)?.get("eventID")?.as_str()
}

/// Source of [`AuditSink::id`].
static NEXT_SINK_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The storage change counter this thread last read for a sink (its
    /// `id`), in the record cache's freshness check of the current call,
    /// taken by that call's append instead of a second change-counter
    /// check. Any counter value read before the log lock will
    /// do (see [`AuditSink::checkpoint`]), so one left over by a call that
    /// appended nothing is still correct, only older.
    static OBSERVED_EPOCH: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

fn lock_tail(m: &Mutex<AuditTail>) -> std::sync::MutexGuard<'_, AuditTail> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock_queue(m: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Longest a caller spins for a batch in progress before it sleeps
/// ([`AuditSink::spin_for_batch`]): about three times what a batch of
/// read-only records takes to write on a loaded machine.
const SPIN_FOR_BATCH: Duration = Duration::from_micros(30);

/// Whether spinning for a batch can help: only with more than one CPU
/// (with one, the spinner only delays the writer it waits for).
fn spin_worthwhile() -> bool {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from)) > 1
}

/// Marks a batch of the queue written (or failed) and wakes its waiters;
/// also on unwinding, so that a panicking writer leaves no caller waiting.
struct BatchDone<'a> {
    sink: &'a AuditSink,
    /// Sequence numbers of the batch's records from `pending`.
    range: std::ops::Range<u64>,
    result: Result<()>,
}

impl<'a> BatchDone<'a> {
    /// `batch`: the records written, the `retained` ones first.
    fn complete(self, batch: Vec<Queued>) -> std::sync::MutexGuard<'a, Queue> {
        let mut this = std::mem::ManuallyDrop::new(self);
        let result = std::mem::replace(&mut this.result, Ok(()));
        Self::finish(this.sink, this.range.clone(), result, Some(batch))
    }

    fn finish(
        sink: &'a AuditSink,
        range: std::ops::Range<u64>,
        result: Result<()>,
        batch: Option<Vec<Queued>>,
    ) -> std::sync::MutexGuard<'a, Queue> {
        let mut q = lock_queue(&sink.queue);
        match result {
            Ok(()) => {
                q.stuck = None;
                if let Some(mut v) = batch {
                    v.clear();
                    q.spare = v;
                }
            }
            Err(e) => {
                let mut lost_detached = false;
                match batch {
                    Some(v) => {
                        // The waiting callers get the error; the records of
                        // callers that returned are kept, ahead of anything
                        // queued meanwhile, for the next batch.
                        let retained_len = v.len() - (range.end - range.start) as usize;
                        let mut keep = Vec::new();
                        for (i, rec) in v.into_iter().enumerate() {
                            if rec.waited {
                                let seq = range.start + (i - retained_len) as u64;
                                q.failed.insert(seq, e.clone());
                            } else {
                                keep.push(rec);
                            }
                        }
                        if !keep.is_empty() {
                            q.detached += keep.len() as u64;
                            keep.append(&mut q.retained);
                            q.retained = keep;
                        }
                    }
                    None => {
                        // The writer panicked: the records are gone.
                        for seq in range.clone() {
                            q.failed.insert(seq, e.clone());
                        }
                        lost_detached = true;
                    }
                }
                if !q.retained.is_empty() || lost_detached {
                    q.stuck = Some(e);
                }
            }
        }
        q.done = range.end;
        q.writing = false;
        sink.done_hint.store(range.end, Ordering::Release);
        // `notify_all` is a system call (`FUTEX_WAKE`) even when no thread
        // waits; a waiter counts itself under this lock before it waits.
        if q.waiters > 0 {
            sink.written.notify_all();
        }
        q
    }
}

/// Refuses a record whose line would be longer than the rotation's
/// longest line (16 MiB): appended, it would make the log one that
/// verifies but can never be rotated. `strongroom_core::audit` bounds every
/// record far below it (`docs/FORMAT.md`, "Bounded records"); this is the
/// backstop.
///
/// # Errors
/// `KMSInternalException` naming the line's length and the limit.
pub(crate) fn check_line_len(canonical: &str) -> Result<()> {
    let len = strongroom_core::audit::chained_line_len(canonical.len());
    if len > rotation::LINE_MAX {
        return Err(Error::internal(format!(
            "an audit record of {len} bytes is longer than the {} bytes a log line may hold; \
             it is not appended and the operation fails",
            rotation::LINE_MAX
        )));
    }
    Ok(())
}

impl AuditSink {
    /// Keeps the outcome record `canonical` of a call whose change
    /// committed but whose record could not be written (`e`): it is queued
    /// ahead of anything queued later, and the sink is stuck (as after a
    /// failed write-behind batch): every later call of the handle first
    /// writes it, and fails while that fails; a change is refused before it
    /// changes anything. Dropping the sink (the last handle) tries once
    /// more to write it; lost if that fails too or the process ends
    /// without dropping it: the change's intent record then stays in
    /// `outcome_unknown`.
    pub(crate) fn retain_outcome(&self, canonical: String, e: &Error) {
        let mut q = lock_queue(&self.queue);
        q.retained.push(Queued {
            canonical,
            waited: false,
        });
        q.detached += 1;
        q.stuck = Some(Error::internal(format!(
            "the audit record of a committed change could not be written; it is kept, and \
             this handle's calls fail until it is written: {}",
            e.message()
        )));
    }
}

impl Drop for BatchDone<'_> {
    fn drop(&mut self) {
        let result = std::mem::replace(&mut self.result, Ok(()));
        drop(Self::finish(self.sink, self.range.clone(), result, None));
    }
}

/// What an append reads of the log file under the lock, with one system
/// call on the open descriptor: on Linux a `statx` that asks for the
/// type, length, link count and inode number and no time stamp, elsewhere
/// (and where `statx` is missing) `fstat`.
///
/// No time stamp, because asking for the change or modification time
/// (which `fstat` always returns) marks it as seen on a filesystem with
/// multigrain time stamps (ext4, XFS, btrfs and tmpfs since Linux 6.13),
/// and the next write then takes a fine-grained time and dirties the inode
/// again: with one such query per append, every append updated the log's
/// time stamps (on ext4 `ext4_dirty_inode`, a third of the `pwrite`'s
/// kernel time; without the query the time moves once per clock tick).
/// `benches/RESULTS.md`, branches `perf11` and `perf19`.
#[cfg(unix)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LogStat {
    /// Length in bytes.
    len: u64,
    /// Link count: 0 once the file was deleted or another renamed over it.
    nlink: u64,
    /// (device, inode): the file's identity.
    id: (u64, u64),
}

#[cfg(unix)]
impl LogStat {
    // The field types of `stat` differ between targets (same-type
    // conversions on some).
    #[allow(clippy::useless_conversion, clippy::unnecessary_cast)]
    fn new(st: &rustix::fs::Stat) -> Self {
        LogStat {
            len: u64::try_from(st.st_size).unwrap_or(0),
            nlink: st.st_nlink as u64,
            id: (st.st_dev as u64, st.st_ino as u64),
        }
    }

    /// The open log `f` (at `path`, for the error).
    fn of(f: &File, path: &Path) -> Result<Self> {
        #[cfg(target_os = "linux")]
        if let Some(st) = Self::statx(f, c"", rustix::fs::AtFlags::EMPTY_PATH) {
            return st
                .map(|(st, _)| st)
                .map_err(|e| io_err("reading", path, &std::io::Error::from(e)));
        }
        rustix::fs::fstat(f)
            .map(|st| Self::new(&st))
            .map_err(|e| io_err("reading", path, &std::io::Error::from(e)))
    }

    /// The regular file at `path`, if there is one.
    fn of_path(path: &Path) -> Option<Self> {
        #[cfg(target_os = "linux")]
        if let Some(st) = Self::statx(rustix::fs::CWD, path, rustix::fs::AtFlags::empty()) {
            return st.ok().and_then(|(st, file)| file.then_some(st));
        }
        let st = rustix::fs::stat(path).ok()?;
        rustix::fs::FileType::from_raw_mode(st.st_mode)
            .is_file()
            .then(|| Self::new(&st))
    }

    /// `statx` of `path` from `dir` with [`LOG_STATX`] (no time stamp):
    /// the log's stat and whether it is a regular file; `None` where
    /// `statx` is missing (Linux before 4.11, some sandboxes) or does not
    /// return all of it, for `fstat` / `stat` instead. The device is
    /// encoded as `stat`'s `st_dev` is, so either call's identities
    /// compare.
    ///
    /// `statx` refused with `EPERM` is taken as missing too: some seccomp
    /// filters (older container runtimes and libseccomp) answer a system
    /// call they do not know with `EPERM`, never a file's stat. Once
    /// missing, it is not tried again in this process ([`STATX_MISSING`]).
    #[cfg(target_os = "linux")]
    fn statx<P: rustix::path::Arg>(
        dir: impl std::os::fd::AsFd,
        path: P,
        flags: rustix::fs::AtFlags,
    ) -> Option<rustix::io::Result<(Self, bool)>> {
        use std::sync::atomic::Ordering;
        if STATX_MISSING.load(Ordering::Relaxed) {
            return None;
        }
        match rustix::fs::statx(dir, path, flags, LOG_STATX) {
            Ok(sx) if sx.stx_mask & LOG_STATX.bits() == LOG_STATX.bits() => Some(Ok((
                LogStat {
                    len: sx.stx_size,
                    nlink: u64::from(sx.stx_nlink),
                    id: (
                        rustix::fs::makedev(sx.stx_dev_major, sx.stx_dev_minor),
                        sx.stx_ino,
                    ),
                },
                rustix::fs::FileType::from_raw_mode(u32::from(sx.stx_mode)).is_file(),
            ))),
            Ok(_) | Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
                STATX_MISSING.store(true, Ordering::Relaxed);
                None
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// Whether [`LogStat::statx`] found `statx` missing, refused (`ENOSYS`,
/// `EPERM`) or short of a field [`LOG_STATX`] asks for, so that every
/// later stat of the process goes to `fstat` / `stat` at once instead of
/// making two system calls.
#[cfg(target_os = "linux")]
static STATX_MISSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// What [`LogStat`] asks `statx` for: no time stamp (see there).
#[cfg(target_os = "linux")]
const LOG_STATX: rustix::fs::StatxFlags = rustix::fs::StatxFlags::TYPE
    .union(rustix::fs::StatxFlags::SIZE)
    .union(rustix::fs::StatxFlags::NLINK)
    .union(rustix::fs::StatxFlags::INO);

/// An exclusive `flock` on the log, released on drop. It serializes
/// appenders across threads, handles and processes.
#[cfg(unix)]
struct FileLock<'a>(&'a File);

#[cfg(unix)]
impl<'a> FileLock<'a> {
    /// Waits for the lock. A wait cut short by a signal (`EINTR`, from a
    /// handler installed without `SA_RESTART`) is waited again, as
    /// `signal::Signal::begin` does, rather than failing the append.
    fn acquire(f: &'a File, path: &Path) -> Result<Self> {
        loop {
            match rustix::fs::flock(f, rustix::fs::FlockOperation::LockExclusive) {
                Ok(()) => return Ok(FileLock(f)),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(io_err("locking", path, &std::io::Error::from(e))),
            }
        }
    }

    /// Takes the lock without waiting (a try cut short by a signal,
    /// `EINTR`, is made again): `Ok(None)` when another open file
    /// description holds it, any other error as it is.
    fn try_acquire(f: &'a File) -> rustix::io::Result<Option<Self>> {
        use rustix::fs::{flock, FlockOperation};
        loop {
            match flock(f, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Ok(Some(FileLock(f))),
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(unix)]
impl<'a> FileLock<'a> {
    /// The lock of `f` that this thread already holds, taken over (to be
    /// released when the value is dropped): the one a rotation's
    /// `lock_log` took and kept.
    fn adopt(f: &'a File) -> Self {
        FileLock(f)
    }
}

#[cfg(unix)]
impl FileLock<'_> {
    /// Leaves the lock held past this value (a lock hold kept for the next
    /// batch, [`Held`]; the writer of that batch releases it).
    fn keep(self) {
        std::mem::forget(self);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod flock_eintr;

/// Wakes the threads waiting for a lock hold kept between batches to end
/// ([`AuditSink::lock_tail_free`]) when dropped, also on unwinding.
#[cfg(unix)]
struct TailFree<'a>(&'a AuditSink);

#[cfg(unix)]
impl Drop for TailFree<'_> {
    fn drop(&mut self) {
        // A waiter counts itself under the tail's mutex, which the writer
        // holds here.
        if self.0.tail_waiters.load(Ordering::SeqCst) > 0 {
            self.0.tail_free.notify_all();
        }
    }
}

/// What a batch writer runs under the lock once its batch is written
/// ([`AuditSink::write_unscheduled`]).
#[cfg(unix)]
type OnWritten<'c> = &'c mut dyn FnMut(&mut Vec<Queued>, u32) -> bool;

#[cfg(unix)]
impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = rustix::fs::flock(self.0, rustix::fs::FlockOperation::Unlock);
    }
}

impl AuditSink {
    pub(crate) fn new(
        storage: Arc<dyn Storage>,
        root: RootKey,
        path: PathBuf,
        mode: AuditWriteMode,
        guard: Arc<StateGuard>,
        rotate: Option<(u64, String)>,
    ) -> Arc<Self> {
        let (rotate_bytes, account) = rotate.unwrap_or((u64::MAX, String::new()));
        // A MAC cannot fail for these lengths; a zero tag only shares the
        // process-wide tail with other sinks whose MAC failed too.
        let key_tag = root
            .mac_record(b"meta", b"audit-tail", b"")
            .unwrap_or([0; 32]);
        let chain_key = HmacSha256Key::new(root.audit_key());
        Arc::new(AuditSink {
            chain_key,
            mode,
            storage,
            root,
            path,
            tail: Mutex::new(AuditTail::default()),
            queue: Mutex::new(Queue {
                pid: std::process::id(),
                ..Queue::default()
            }),
            written: Condvar::new(),
            done_hint: AtomicU64::new(0),
            id: NEXT_SINK_ID.fetch_add(1, Ordering::Relaxed),
            key_tag,
            guard,
            opened_in: std::process::id(),
            tail_free: Condvar::new(),
            tail_waiters: std::sync::atomic::AtomicU32::new(0),
            #[cfg(feature = "test-hooks")]
            hooks: TestHooks::default(),
            #[cfg(not(feature = "test-hooks"))]
            hooks: TestHooks,
            rotate_bytes,
            rotate_after: AtomicU64::new(rotate_bytes),
            rotation_due: std::sync::atomic::AtomicBool::new(false),
            rotation_scheduled: std::sync::atomic::AtomicBool::new(false),
            account,
        })
    }

    /// The tail, once no lock hold is kept between batches ([`Held`]):
    /// what everything but the appender continuing the hold takes.
    fn lock_tail_free(&self) -> std::sync::MutexGuard<'_, AuditTail> {
        let mut tail = lock_tail(&self.tail);
        while tail.held.is_some() {
            self.tail_waiters.fetch_add(1, Ordering::SeqCst);
            tail = self
                .tail_free
                .wait(tail)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            self.tail_waiters.fetch_sub(1, Ordering::SeqCst);
        }
        tail
    }

    /// See [`crate::test_hooks::hold_audit_writer`].
    #[cfg(feature = "test-hooks")]
    pub(crate) fn arm_park(&self, park: Arc<crate::test_hooks::WriterPark>) {
        *self
            .hooks
            .park
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(park);
        self.hooks.armed.store(true, Ordering::SeqCst);
    }

    /// See [`crate::test_hooks::audit_queued`].
    #[cfg(feature = "test-hooks")]
    pub(crate) fn queued(&self) -> usize {
        lock_queue(&self.queue).pending.len()
    }

    /// See [`crate::test_hooks::audit_lock_holds`].
    #[cfg(feature = "test-hooks")]
    pub(crate) fn lock_holds(&self) -> u64 {
        self.hooks.lock_holds.load(Ordering::SeqCst)
    }

    /// See [`crate::test_hooks::fail_next_continued_audit_batch`].
    #[cfg(feature = "test-hooks")]
    pub(crate) fn fail_next_continued(&self) {
        self.hooks.fail_continued.store(true, Ordering::SeqCst);
    }

    /// See [`crate::test_hooks::fail_next_audit_epoch_read`].
    #[cfg(feature = "test-hooks")]
    pub(crate) fn fail_next_epoch_read(&self) {
        self.hooks.fail_epoch.store(true, Ordering::SeqCst);
    }

    /// What dropping a keystore's last handle does, before the drop
    /// returns ([`AuditOwner`]): waits for an automatic rotation in
    /// progress, writes the records queued in
    /// [`AuditWriteMode::WriteBehind`] and those kept after a failed write
    /// (after any batch a background drain is writing), then makes the
    /// batched records durable (`fdatasync`, the checkpoint advanced),
    /// waiting for a background flush that is at it. Errors are ignored
    /// here: records already in the file but not yet synced are synced by
    /// the next handle's append or flush; records still queued after a
    /// failed write get one more try when the sink itself is dropped, and
    /// are lost if that fails too (docs/FORMAT.md). Nothing in
    /// a process made by `fork()` from the one that opened the keystore:
    /// the queue and the tail are the parent's.
    pub(crate) fn close(self: &Arc<Self>) {
        if std::process::id() != self.opened_in {
            return;
        }
        // An automatic rotation in progress finishes first (a process that
        // exits after dropping its last handle does not cut it short).
        while self.rotation_scheduled.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = self.drain();
        let mut tail = self.lock_tail_free();
        if tail.unsynced_since.is_some() {
            let _ = self.flush_locked(&mut tail);
        }
    }

    /// Refuses use of the handle in a process other than the one that
    /// opened it (a child made by `fork()`): its SQLite connections must not
    /// be used across `fork()` (SQLite's rule), and its cached audit state
    /// (checkpoint, chain end, queued events) is its parent's. Each process
    /// opens its own handle.
    ///
    /// Returns the process ID (read once per call: it is a system call).
    ///
    /// # Errors
    /// `ValidationException` in a forked child.
    pub(crate) fn check_process(&self) -> Result<u32> {
        let pid = std::process::id();
        if pid == self.opened_in {
            Ok(pid)
        } else {
            Err(Error::validation(format!(
                "this keystore handle was opened by process {}, not by this process ({pid}): \
                 a process made by fork() must open its own handle (Keystore::open), as SQLite \
                 connections and the audit log's state cannot be shared across fork()",
                self.opened_in
            )))
        }
    }

    /// Stores checkpoint `body` in the state inside `tx`, refusing a state
    /// older than one seen or than the anchor ([`StateGuard::check`]);
    /// returns the state written.
    fn put_checkpoint_seen(
        &self,
        tx: &mut dyn Tx,
        body: [u8; CHECKPOINT_LEN],
    ) -> Result<crate::integrity::State> {
        crate::integrity::put_checkpoint(tx, &self.root, body, &mut |state| {
            self.guard.check(state, None, false).map(|_| ())
        })
    }

    /// Checks the keystore's state as stored now against the highest seen
    /// and the anchor ([`StateGuard::check`]), under the log's lock, as
    /// the next checkpoint store will.
    ///
    /// # Errors
    /// `KMSInternalException` when the check refuses the state.
    fn check_state(&self) -> Result<()> {
        self.storage.read(&mut |tx| {
            let state = crate::integrity::read_state(tx, &self.root)?;
            self.guard.check(&state, None, false).map(|_| ())
        })
    }

    /// Stores checkpoint `cp` in its own write transaction, then records
    /// the state written as seen and stores it in the anchor.
    fn put_checkpoint_committed(&self, body: [u8; CHECKPOINT_LEN]) -> Result<()> {
        let mut written = None;
        self.storage.write(&mut |tx| {
            written = Some(self.put_checkpoint_seen(tx, body)?);
            Ok(())
        })?;
        match written {
            Some(state) => self.guard.checkpointed(&state),
            None => Err(Error::internal("transaction produced no result")),
        }
    }

    /// Records `epoch`, just read from this sink's storage by the calling
    /// thread, for the thread's next append to use.
    pub(crate) fn observed_epoch(&self, epoch: u64) {
        OBSERVED_EPOCH.with(|c| c.set(Some((self.id, epoch))));
    }

    /// The change counter for an append: the one this thread observed last
    /// for this sink (once), else read now.
    #[cfg(unix)]
    fn epoch_for_append(&self) -> Result<Option<u64>> {
        if self.hooks.take_fail_epoch() {
            return Err(Error::internal(
                "the keystore's change counter could not be read",
            ));
        }
        match OBSERVED_EPOCH.with(Cell::take) {
            Some((id, e)) if id == self.id => Ok(Some(e)),
            _ => self.storage.change_counter(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The checkpoint, from the authenticated integrity state (so it
    /// cannot be rolled back alone, `docs/FORMAT.md`).
    pub(crate) fn read_checkpoint(&self, tx: &mut dyn Tx) -> Result<StoredCheckpoint> {
        let body = crate::integrity::read_checkpoint(tx, &self.root)?;
        StoredCheckpoint::from_bytes(&body).ok_or_else(checkpoint_failed)
    }

    fn current_checkpoint(&self) -> Result<StoredCheckpoint> {
        let mut cp = StoredCheckpoint::genesis();
        self.storage.read(&mut |tx| {
            cp = self.read_checkpoint(tx)?;
            Ok(())
        })?;
        Ok(cp)
    }

    /// Under the log lock: the checkpoint, read from the storage only when
    /// its change counter moved from `epoch` (read before the lock, so that
    /// the query runs outside it). A checkpoint another process advanced
    /// after `epoch` was read is at worst seen older than it is: appends
    /// then find more records past it and sync sooner, never later, and the
    /// next call re-reads it.
    fn checkpoint(&self, tail: &mut AuditTail, epoch: Option<u64>) -> Result<StoredCheckpoint> {
        if let (Some(e), Some((seen, cp))) = (epoch, tail.checkpoint) {
            if e == seen {
                return Ok(cp);
            }
        }
        let cp = self.current_checkpoint()?;
        tail.checkpoint = epoch.map(|e| (e, cp));
        Ok(cp)
    }

    /// Under the log lock: stores `cp` (no other appender can move the
    /// checkpoint while the lock is held, so it is remembered as current).
    fn store_checkpoint(&self, tail: &mut AuditTail, cp: StoredCheckpoint) -> Result<()> {
        tail.checkpoint = None;
        self.put_checkpoint_committed(cp.to_bytes())?;
        tail.checkpoint = self.storage.change_counter()?.map(|e| (e, cp));
        Ok(())
    }
}

#[cfg(unix)]
impl AuditSink {
    /// The cached log file if the path still names it, else the file at the
    /// path (created if missing).
    ///
    /// The path is looked up again only when it was last checked
    /// [`AUDIT_BATCH_MILLIS`] or more ago, or `tail.path_checked` was
    /// cleared (durable events, flushes); in between, a cached file that was
    /// deleted or renamed over is caught by its link count under the lock
    /// ([`write_locked`](Self::write_locked)). So a log renamed away (with
    /// nothing put in its place) takes this handle's read-only events for up
    /// to `AUDIT_BATCH_MILLIS` more, chained as usual.
    fn open(&self, tail: &mut AuditTail, create: bool) -> Result<Option<File>> {
        let path = self.path.as_path();
        if let Some(f) = tail.file.take() {
            if tail
                .path_checked
                .is_some_and(|t| t.elapsed() < Duration::from_millis(AUDIT_BATCH_MILLIS))
            {
                return Ok(Some(f));
            }
            // `last` holds the identity of the cached file (set with it).
            let same = match (LogStat::of_path(path), tail.last) {
                (Some(p), Some((id, _))) => p.id == id,
                _ => false,
            };
            if same {
                tail.path_checked = Some(Instant::now());
                return Ok(Some(f));
            }
        }
        let open = |create_new: bool| {
            log_options()
                .create_new(create_new)
                .read(true)
                .write(true)
                .open(path)
        };
        let f = match open(false) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match open(true) {
                    Ok(f) => {
                        // The new file's directory entry is durable before a
                        // checkpoint can cover a record in it.
                        sync_parent_dir(path)?;
                        f
                    }
                    // Created by another process meanwhile.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        open(false).map_err(|e| io_err("opening", path, &e))?
                    }
                    Err(e) => return Err(io_err("opening", path, &e)),
                }
            }
            Err(e) => return Err(io_err("opening", path, &e)),
        };
        tail.path_checked = Some(Instant::now());
        Ok(Some(f))
    }

    /// Under the log lock: the chain state at the end of the valid prefix
    /// of the log (complete lines chained from the checkpoint, or from this
    /// sink's last line when that is still in place), and the file length.
    fn valid_end(
        &self,
        f: &File,
        st: LogStat,
        cp: StoredCheckpoint,
        last: Option<((u64, u64), StoredCheckpoint)>,
    ) -> Result<(StoredCheckpoint, u64, (u64, u64))> {
        let LogStat { len, id, .. } = st;
        if len < cp.log_len || (len == cp.log_len && !holds_checkpoint(f, &cp)) {
            return self.rotated_end(f, st, &cp);
        }
        if len == cp.log_len {
            // Nothing past the checkpoint: chain after it.
            return Ok((cp, len, id));
        }
        let shared = lock_tails()
            .as_ref()
            .and_then(|m| m.get(&(id, self.key_tag)).copied());
        let own = last.filter(|(last_id, _)| *last_id == id).map(|(_, t)| t);
        let last = match (shared, own) {
            // This sink wrote or verified the end last.
            (Some(t), Some(o)) if t == o => Some((id, t)),
            // Another sink of the process did: trusted only if the file
            // holds that line's chain value just before that end (the
            // entry may be left from an earlier file with a reused inode).
            (Some(t), _) if t.log_len <= len && ends_with_chain_value(f, &t) => Some((id, t)),
            (_, o) => o.map(|t| (id, t)),
        };
        let state = match last {
            Some((last_id, t))
                if last_id == id
                    && t.log_len >= cp.log_len
                    && t.checkpoint.count >= cp.checkpoint.count
                    && t.log_len <= len =>
            {
                t
            }
            // The file must still hold the records the checkpoint covers.
            _ if holds_checkpoint(f, &cp) => cp,
            _ => return self.rotated_end(f, st, &cp),
        };
        self.scan_from(f, st, state)
    }

    /// [`valid_end`](Self::valid_end) of a file that does not hold the
    /// records the checkpoint `cp` covers: valid only if it is a rotated
    /// log continuing exactly from `cp` (its first line a `RotateAuditLog`
    /// record chained from `cp`: a rotation whose checkpoint was not stored
    /// yet); otherwise the log was replaced. Off the append's usual path.
    #[cold]
    fn rotated_end(
        &self,
        f: &File,
        st: LogStat,
        cp: &StoredCheckpoint,
    ) -> Result<(StoredCheckpoint, u64, (u64, u64))> {
        match rotation::continues_from(f, st.len, cp, self.root.audit_key()) {
            Some(state) => self.scan_from(f, st, state),
            None => Err(log_replaced(&self.path)),
        }
    }

    /// The end of the valid chain of `f` from `state` (complete lines
    /// chained after it), with the file's length and identity.
    fn scan_from(
        &self,
        f: &File,
        st: LogStat,
        mut state: StoredCheckpoint,
    ) -> Result<(StoredCheckpoint, u64, (u64, u64))> {
        use std::os::unix::fs::FileExt;
        let path = self.path.as_path();
        let LogStat { len, id, .. } = st;
        if state.log_len == len {
            return Ok((state, len, id));
        }
        let mut bytes = vec![0u8; usize::try_from(len - state.log_len).unwrap_or(0)];
        f.read_exact_at(&mut bytes, state.log_len)
            .map_err(|e| io_err("reading", path, &e))?;
        let key = self.root.audit_key();
        let mut rest = &bytes[..];
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            let Ok(line) = std::str::from_utf8(&rest[..nl]) else {
                break;
            };
            let Ok(next) = strongroom_core::audit::verify_next_line(line, key, &state.checkpoint)
            else {
                break;
            };
            state = StoredCheckpoint {
                checkpoint: next,
                log_len: state.log_len + nl as u64 + 1,
            };
            rest = &rest[nl + 1..];
        }
        Ok((state, len, id))
    }

    /// Appends one record (canonical JSON), chained after the last valid
    /// record, and returns once it is written: fsync'd and checkpointed when
    /// `durable`, when [`AUDIT_BATCH_EVENTS`] records would otherwise lie
    /// past the checkpoint, or when this sink's oldest unsynced record is
    /// older than [`AUDIT_BATCH_MILLIS`]. Records of concurrent callers are
    /// written together (see [`Queue`]).
    ///
    /// In [`AuditWriteMode::WriteBehind`], a read-only record (`!durable`)
    /// is only queued, unless that makes `max_events` queued records, the
    /// oldest queued one is `max_millis` old, or an earlier batch failed:
    /// then it is written at once with everything queued before it. `pid`
    /// is the calling process's ID.
    pub(crate) fn append(
        self: &Arc<Self>,
        canonical: String,
        durable: bool,
        pid: u32,
    ) -> Result<()> {
        check_line_len(&canonical)?;
        let mut q = lock_queue(&self.queue);
        if q.pid != pid {
            // A forked child: the records queued are its parent's to write.
            *q = Queue {
                pid,
                ..Queue::default()
            };
            self.done_hint.store(0, Ordering::Release);
        }
        if let AuditWriteMode::WriteBehind {
            max_events,
            max_millis,
        } = self.mode
        {
            let young = q
                .oldest
                .is_none_or(|t| t.elapsed() < Duration::from_millis(u64::from(max_millis)));
            if !durable && q.stuck.is_none() && q.detached + 1 < u64::from(max_events) && young {
                q.pending.push(Queued {
                    canonical,
                    waited: false,
                });
                q.next += 1;
                q.detached += 1;
                if q.oldest.is_none() {
                    q.oldest = Some(Instant::now());
                }
                let schedule = !std::mem::replace(&mut q.drain_scheduled, true);
                drop(q);
                if schedule && !self.schedule_drain(max_millis) {
                    // No thread: the next append past `max_millis` writes.
                    lock_queue(&self.queue).drain_scheduled = false;
                }
                return Ok(());
            }
        }
        let seq = q.next;
        q.next += 1;
        q.pending.push(Queued {
            canonical,
            waited: true,
        });
        q.pending_durable |= durable;
        // The batch in progress when this caller last spun (it spins at most
        // once per batch, then sleeps).
        let mut spun_at = None;
        loop {
            if seq < q.done {
                return q.failed.remove(&seq).map_or(Ok(()), Err);
            }
            if !q.writing {
                q = self.write_queued(q);
            } else if spun_at != Some(q.done) && !q.writing_durable && spin_worthwhile() {
                let first = q.done;
                spun_at = Some(first);
                drop(q);
                self.spin_for_batch(seq, first);
                q = lock_queue(&self.queue);
            } else {
                q = self.wait_written(q);
            }
        }
    }

    /// Spins, without the queue's lock, until the batch holding record
    /// `seq` may be written or another batch may be claimable, for at most
    /// [`SPIN_FOR_BATCH`]: a batch of read-only records takes a few
    /// microseconds to write, less than putting the caller to sleep and
    /// waking it again costs, and a sleeping caller leaves its core idle
    /// while the writer finishes (the second thread of a pair then gains
    /// nothing). Callers waiting for a durable batch (`fdatasync`, which
    /// outlasts any spin) do not spin: they sleep as before.
    /// `first`: [`Queue::done`] as seen under the queue's lock before
    /// spinning (a batch that ends before the spin starts ends it at once).
    fn spin_for_batch(&self, seq: u64, first: u64) {
        let start = Instant::now();
        let mut spins = 0u32;
        loop {
            let done = self.done_hint.load(Ordering::Acquire);
            if done > seq || done != first {
                return;
            }
            std::hint::spin_loop();
            spins = spins.wrapping_add(1);
            if spins % 64 == 0 && start.elapsed() >= SPIN_FOR_BATCH {
                return;
            }
        }
    }

    /// Writes every queued record (the `retained` ones first) as one batch,
    /// as the writer; `q` shows no writer at work. Returns the queue locked
    /// again, with the batch marked done or failed. If the previous batch's
    /// writer kept the log locked ([`Queue::held`]), this batch continues
    /// that lock hold ([`Held`]).
    fn write_queued<'a>(
        self: &'a Arc<Self>,
        mut q: std::sync::MutexGuard<'a, Queue>,
    ) -> std::sync::MutexGuard<'a, Queue> {
        q.writing = true;
        let continuing = std::mem::take(&mut q.held);
        let first = q.done;
        let last = q.next;
        let mut batch = std::mem::take(&mut q.retained);
        if batch.is_empty() {
            batch = std::mem::take(&mut q.spare);
        }
        batch.append(&mut q.pending);
        // Write-behind batches are durable: what a crash can lose is the
        // queue alone.
        let durable = std::mem::take(&mut q.pending_durable) || q.detached > 0;
        q.writing_durable = durable;
        q.detached = 0;
        q.oldest = None;
        drop(q);
        let mut finish = Some(BatchDone {
            sink: self,
            range: first..last,
            result: Err(Error::internal("the audit writer panicked")),
        });
        let result = self.write_batch(&mut batch, durable, continuing, &mut |b, batches| {
            Self::batch_written(&mut finish, b, batches)
        });
        match finish.take() {
            Some(mut done) => {
                done.result = result;
                done.complete(batch)
            }
            // Marked written under the lock (nothing after that fails).
            None => lock_queue(&self.queue),
        }
    }

    /// Under the log lock, once a batch (`batch`, the `batches`th of its
    /// lock hold) is written: marks it written, so that its callers return
    /// at once, and decides whether the writer keeps the log locked for
    /// the records queued meanwhile ([`Held`]): only for a next batch that
    /// needs no more than a read-only write-through batch does (no
    /// management or write-behind record, nothing retained, not stuck), and
    /// for at most [`HOLD_MAX_BATCHES`] batches.
    fn batch_written(
        finish: &mut Option<BatchDone<'_>>,
        batch: &mut Vec<Queued>,
        batches: u32,
    ) -> bool {
        let Some(mut done) = finish.take() else {
            return false;
        };
        done.result = Ok(());
        let mut q = done.complete(std::mem::take(batch));
        let keep = batches < HOLD_MAX_BATCHES
            && !q.pending.is_empty()
            && !q.pending_durable
            && q.detached == 0
            && q.retained.is_empty()
            && q.stuck.is_none();
        q.held = keep;
        keep
    }

    /// Waits (releasing `q`) until a batch is marked done or failed.
    fn wait_written<'a>(
        &self,
        mut q: std::sync::MutexGuard<'a, Queue>,
    ) -> std::sync::MutexGuard<'a, Queue> {
        q.waiters += 1;
        let mut q = self
            .written
            .wait(q)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.waiters -= 1;
        q
    }

    /// Writes everything queued (write-behind) and waits for any batch in
    /// progress; fails if the log cannot be written (the records stay
    /// queued).
    pub(crate) fn drain(self: &Arc<Self>) -> Result<()> {
        let mut q = lock_queue(&self.queue);
        loop {
            if q.writing {
                q = self.wait_written(q);
            } else if q.pending.is_empty() && q.retained.is_empty() {
                return q.stuck.clone().map_or(Ok(()), Err);
            } else {
                q = self.write_queued(q);
                if let Some(e) = &q.stuck {
                    return Err(e.clone());
                }
            }
        }
    }

    /// Starts a thread that writes the queue after `millis` ms (it holds
    /// no handle alive: a sink dropped meanwhile wrote its queue itself).
    fn schedule_drain(self: &Arc<Self>, millis: u32) -> bool {
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("strongroom-audit-drain".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(u64::from(millis)));
                if let Some(sink) = weak.upgrade() {
                    lock_queue(&sink.queue).drain_scheduled = false;
                    // A failure leaves the sink stuck: the next call retries.
                    let _ = sink.drain();
                }
            })
            .is_ok()
    }

    /// Writes `batch` (canonical records, in order) under the log lock,
    /// chained after the last valid record, with one `pwrite`; then syncs
    /// and checkpoints as [`append`](Self::append) says. `continuing`: the
    /// previous batch's writer kept the log locked for this one
    /// ([`Held`]); `on_written` as in
    /// [`write_unscheduled`](Self::write_unscheduled).
    fn write_batch(
        self: &Arc<Self>,
        batch: &mut Vec<Queued>,
        durable: bool,
        continuing: bool,
        on_written: OnWritten<'_>,
    ) -> Result<()> {
        if self.write_unscheduled(batch, durable, continuing, on_written)? && !self.schedule_flush()
        {
            lock_tail(&self.tail).flush_scheduled = false;
        }
        if self.rotation_due.load(Ordering::Relaxed) {
            self.schedule_rotation();
        }
        Ok(())
    }

    /// [`write_batch`](Self::write_batch) without starting the background
    /// flush: `true` when one is due (and marked scheduled). `on_written`
    /// runs under the lock once the batch is written (and synced and
    /// checkpointed if due), with the number of batches its lock hold has
    /// written; `true` from it keeps the log locked for the next batch
    /// ([`Held`]). With `continuing`, the batch is written under the lock
    /// hold the previous batch's writer kept (if it kept one), after its
    /// end; a durable batch ends such a hold and takes the lock again (a
    /// management event goes to the file the path names now).
    fn write_unscheduled(
        &self,
        batch: &mut Vec<Queued>,
        durable: bool,
        continuing: bool,
        on_written: OnWritten<'_>,
    ) -> Result<bool> {
        let path = self.path.as_path();
        // Read before the tail is locked, as always; its error counts only
        // where the lock is taken afresh (below). A batch continuing a
        // kept lock hold does not use it, and must not fail before it has
        // taken that hold over: the log's lock would stay held, and
        // `held` set, with nobody left to release them.
        let epoch = self.epoch_for_append();
        let mut tail = if continuing {
            lock_tail(&self.tail)
        } else {
            self.lock_tail_free()
        };
        if let Some(at) = tail.held.take() {
            // Only the appender continuing the hold gets here; the others
            // waiting for it are woken when this ends.
            let _free = TailFree(self);
            if let Some(f) = tail.file.take() {
                // The lock the previous batch's writer kept.
                let lock = FileLock(&f);
                if durable {
                    drop(lock);
                    tail.file = Some(f);
                } else {
                    let end = self.write_and_end(&mut tail, lock, batch, false, at, on_written)?;
                    tail.file = Some(f);
                    return Ok(self.unsynced(&mut tail, end));
                }
            }
        }
        let epoch = epoch?;
        if durable {
            // A management event goes to the file the path names now.
            tail.path_checked = None;
        }
        let end = self.with_locked_log(&mut tail, true, &mut |tail, f, lock, st| {
            self.hooks.count_lock_hold();
            let mut cp = self.checkpoint(tail, epoch)?;
            let (start, len, id) = match self.valid_end(f, st, cp, tail.last) {
                Ok(v) => v,
                Err(e) => {
                    // The checkpoint, read through a change counter taken
                    // before the lock, may predate a rotation that stored
                    // a newer one meanwhile: checked again against the
                    // stored one (off the usual path).
                    tail.checkpoint = None;
                    let fresh = self.current_checkpoint()?;
                    if fresh == cp {
                        return Err(e);
                    }
                    cp = fresh;
                    self.valid_end(f, st, cp, tail.last)?
                }
            };
            if len > start.log_len {
                // A torn or invalid tail past the checkpoint (a crash
                // mid-write, or an edit of records the checkpoint does not
                // cover): cut it.
                f.set_len(start.log_len)
                    .map_err(|e| io_err("truncating", path, &e))?;
            }
            let at = Held {
                cp,
                id,
                end: start,
                batches: 0,
            };
            self.write_and_end(tail, lock, batch, durable, at, on_written)
        })?;
        let end =
            end.ok_or_else(|| io_err("opening", path, &std::io::ErrorKind::NotFound.into()))?;
        Ok(self.unsynced(&mut tail, end))
    }

    /// Opens the log (the cached file if the path still names it, else the
    /// path's, created if missing and `create`), locks it and runs `locked`
    /// under the lock with the file, the lock and its stat ([`LogStat`]); the file is
    /// cached in `tail.file` once `locked` returns `Ok`. A locked file with
    /// a link count of 0 (deleted, or renamed over by a rotation of another
    /// handle or process) is unlocked, nothing remembered of it is trusted
    /// any more (a new file may reuse its inode), and the path is opened
    /// again, up to [`REOPEN_ATTEMPTS`] times: what the append path, changes
    /// and flushes share. `Ok(None)` when there is no log and not `create`.
    ///
    /// # Errors
    /// `locked`'s error; `KMSInternalException` if the log cannot be opened,
    /// locked or stat-ed, or was still replaced after
    /// [`REOPEN_ATTEMPTS`] tries.
    fn with_locked_log<T>(
        &self,
        tail: &mut AuditTail,
        create: bool,
        locked: &mut dyn for<'f> FnMut(
            &mut AuditTail,
            &'f File,
            FileLock<'f>,
            LogStat,
        ) -> Result<T>,
    ) -> Result<Option<T>> {
        let path = self.path.as_path();
        for _ in 0..REOPEN_ATTEMPTS {
            let Some(f) = self.open(tail, create)? else {
                return Ok(None);
            };
            let lock = FileLock::acquire(&f, path)?;
            let st = LogStat::of(&f, path)?;
            if st.nlink == 0 {
                // The cached file was deleted (or another renamed over
                // it, as a rotation does): the file the path names.
                drop(lock);
                tail.path_checked = None;
                tail.last = None;
                continue;
            }
            let done = locked(tail, &f, lock, st)?;
            tail.file = Some(f);
            return Ok(Some(done));
        }
        Err(log_replaced(path))
    }

    /// After a batch: `end` is the end of its records when they were not
    /// checkpointed. Returns `true` when a background flush is due (and
    /// marks it scheduled).
    fn unsynced(&self, tail: &mut AuditTail, end: Option<StoredCheckpoint>) -> bool {
        if end.is_some() && tail.unsynced_since.is_none() {
            tail.unsynced_since = Some(Instant::now());
        }
        tail.unsynced_since.is_some() && !std::mem::replace(&mut tail.flush_scheduled, true)
    }

    /// Under `lock`, the log's lock: writes `batch` after `at.end`
    /// ([`write_after`](Self::write_after)), then runs `on_written` and
    /// keeps the lock held for the next batch ([`Held`], in `tail.held`)
    /// or releases it. Returns the new end if it was not checkpointed. On
    /// failure the lock is released and `on_written` does not run.
    fn write_and_end(
        &self,
        tail: &mut AuditTail,
        lock: FileLock<'_>,
        batch: &mut Vec<Queued>,
        durable: bool,
        at: Held,
        on_written: OnWritten<'_>,
    ) -> Result<Option<StoredCheckpoint>> {
        let (end, checkpointed) = self.write_after(tail, lock.0, batch, durable, at)?;
        self.hooks.park_writer();
        let batches = at.batches + 1;
        if on_written(batch, batches) {
            lock.keep();
            tail.held = Some(Held {
                cp: if checkpointed { end } else { at.cp },
                id: at.id,
                end,
                batches,
            });
        }
        Ok((!checkpointed).then_some(end))
    }

    /// Under the log lock of `f`, whose valid chain ends at `at.end` (the
    /// checkpoint being `at.cp`): writes `batch` there, chained, with one
    /// `pwrite`; syncs and stores the checkpoint if `durable`, if
    /// [`AUDIT_BATCH_EVENTS`] records would otherwise lie past the
    /// checkpoint, or if this sink's oldest unsynced record is
    /// [`AUDIT_BATCH_MILLIS`] old. Returns the new end and whether the
    /// checkpoint now covers it.
    fn write_after(
        &self,
        tail: &mut AuditTail,
        f: &File,
        batch: &[Queued],
        durable: bool,
        at: Held,
    ) -> Result<(StoredCheckpoint, bool)> {
        use std::os::unix::fs::FileExt;
        let path = self.path.as_path();
        let Held {
            cp,
            id,
            end: start,
            batches,
        } = at;
        let overdue = tail
            .unsynced_since
            .is_some_and(|t| t.elapsed() >= Duration::from_millis(AUDIT_BATCH_MILLIS));
        let past =
            (start.checkpoint.count + batch.len() as u64).saturating_sub(cp.checkpoint.count);
        let sync = durable || overdue || past >= AUDIT_BATCH_EVENTS;
        if sync {
            // The checkpoint store below refuses a rolled-back state or an
            // anchor that is missing or ahead; checked before anything is
            // written, so such a refusal leaves the batch unwritten (a
            // refusal after the write would fail the batch with its
            // records in the file, and they would be written again).
            self.check_state()?;
        }
        let mut lines = String::with_capacity(batch.iter().map(|c| c.canonical.len() + 96).sum());
        let mut chain = start.checkpoint;
        for rec in batch {
            chain = strongroom_core::audit::chain_canonical_keyed(
                &self.chain_key,
                &chain,
                &rec.canonical,
                &mut lines,
            )?;
            lines.push('\n');
        }
        let written = if (batches > 0 && self.hooks.take_fail_continued())
            || crate::test_hooks::take_audit_write_failure()
        {
            Err(std::io::Error::other("failure injected by a test hook"))
        } else {
            f.write_all_at(lines.as_bytes(), start.log_len)
        };
        if let Err(e) = written {
            self.abandon_tail(tail, id, f, start.log_len);
            return Err(io_err("writing", path, &e));
        }
        let end = StoredCheckpoint {
            checkpoint: chain,
            log_len: start.log_len + lines.len() as u64,
        };
        if end.log_len >= self.rotate_after.load(Ordering::Relaxed) {
            // Automatic rotation (off: never, the bound is u64::MAX).
            self.rotation_due.store(true, Ordering::Relaxed);
        }
        if sync {
            if let Err(e) = f.sync_data() {
                // What the failed sync covered may not be on disk: nothing
                // trusts it as written.
                self.abandon_tail(tail, id, f, start.log_len);
                return Err(io_err("syncing", path, &e));
            }
        }
        self.set_tail(tail, id, end);
        // The batch is written (and synced when `sync`): its operations
        // are not failed from here on. A checkpoint that cannot be stored
        // (a full disk...) leaves the records past the checkpoint, validly
        // chained and on disk: they stay unsynced for this sink, so the
        // background flush, the next append that syncs, and the next change
        // of any handle or process (whose committed state holds a
        // checkpoint over them and its intent) cover them; a change cannot
        // commit while its checkpoint cannot be stored.
        if sync && self.store_checkpoint(tail, end).is_ok() {
            tail.unsynced_since = None;
            Ok((end, true))
        } else {
            Ok((end, false))
        }
    }

    /// Under the log lock: `end` is the end of the valid chain of the file
    /// `id`, for this sink and the process.
    fn set_tail(&self, tail: &mut AuditTail, id: (u64, u64), end: StoredCheckpoint) {
        tail.last = Some((id, end));
        let mut tails = lock_tails();
        let map = tails.get_or_insert_with(HashMap::new);
        if map.len() >= PROCESS_TAILS_MAX && !map.contains_key(&(id, self.key_tag)) {
            map.clear();
        }
        map.insert((id, self.key_tag), end);
    }

    /// Under the log lock, after a failed write or sync of records from
    /// `start` on in the file `id`: forgets this sink's and the process's
    /// cached end of that file (the next append finds the valid end in the
    /// file itself) and cuts the file back to `start` (best effort).
    fn abandon_tail(&self, tail: &mut AuditTail, id: (u64, u64), f: &File, start: u64) {
        tail.last = None;
        if let Some(map) = lock_tails().as_mut() {
            map.remove(&(id, self.key_tag));
        }
        let _ = f.set_len(start);
    }

    /// Starts a thread that flushes this sink after [`AUDIT_BATCH_MILLIS`]
    /// (it holds no handle alive: a sink dropped meanwhile flushed itself).
    fn schedule_flush(self: &Arc<Self>) -> bool {
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("strongroom-audit-flush".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(AUDIT_BATCH_MILLIS));
                if let Some(sink) = weak.upgrade() {
                    lock_tail(&sink.tail).flush_scheduled = false;
                    // A failure here is retried by the next append (overdue).
                    let _ = sink.flush();
                }
            })
            .is_ok()
    }

    /// See [`Keystore::flush_audit_log`].
    pub(crate) fn flush(&self) -> Result<()> {
        let mut tail = self.lock_tail_free();
        self.flush_locked(&mut tail)
    }

    /// Under the tail: syncs the log and stores the checkpoint after its
    /// valid chain, in the file the path names now (reopened, as an append
    /// does, when a rotation by another handle or process replaced the file
    /// between its opening and its lock).
    fn flush_locked(&self, tail: &mut AuditTail) -> Result<()> {
        let path = self.path.as_path();
        tail.path_checked = None;
        self.with_locked_log(tail, false, &mut |tail, f, _lock, st| {
            // Read under the lock: no checkpoint moves until it is released.
            let epoch = self.storage.change_counter()?;
            let cp = self.checkpoint(tail, epoch)?;
            let (end, _, id) = self.valid_end(f, st, cp, tail.last)?;
            if end.checkpoint.count > cp.checkpoint.count {
                f.sync_data().map_err(|e| io_err("syncing", path, &e))?;
                self.store_checkpoint(tail, end)?;
            }
            self.set_tail(tail, id, end);
            Ok(())
        })?;
        tail.unsynced_since = None;
        Ok(())
    }
}

/// The log held, locked, for one transaction that may change rows (see
/// [`AuditSink::with_change`]).
#[cfg(unix)]
pub(crate) struct ChangeLog<'a> {
    sink: &'a AuditSink,
    file: &'a File,
    /// The checkpoint, read under the lock.
    cp: StoredCheckpoint,
    /// The end of the valid chain (after the intent, once written).
    end: StoredCheckpoint,
    /// The file's length.
    len: u64,
    /// An intent was written.
    written: bool,
    /// Writing or syncing the intent failed: the cached ends are dropped.
    broken: bool,
}

#[cfg(unix)]
impl ChangeLog<'_> {
    /// Inside the transaction, before anything changes: `stored`, the
    /// checkpoint of its authenticated state, must be the one read under
    /// the lock (the log holds the records it covers: see "Fail closed").
    pub(crate) fn check(&self, _ks: &Keystore, stored: &[u8; CHECKPOINT_LEN]) -> Result<()> {
        if *stored == self.cp.to_bytes() {
            Ok(())
        } else {
            // Only a writer that ignores the log's lock moves it meanwhile.
            Err(Error::internal(
                "the audit checkpoint moved while the audit log was locked for a change; retry",
            ))
        }
    }

    /// Appends the intent record `canonical` after the last valid record,
    /// `fdatasync`s the log, and returns the checkpoint that covers it and
    /// every record before it, for the state this transaction commits.
    /// `stored` is that state's checkpoint so far: the new one is never
    /// older (it extends the valid chain that holds `stored`).
    pub(crate) fn append_intent(
        &mut self,
        canonical: &str,
        stored: &[u8; CHECKPOINT_LEN],
    ) -> Result<[u8; CHECKPOINT_LEN]> {
        let stored = StoredCheckpoint::from_bytes(stored).ok_or_else(checkpoint_failed)?;
        // (The end may lie in a shorter file than the stored checkpoint's:
        // a rotation whose checkpoint was not stored yet.)
        if stored.checkpoint.count > self.end.checkpoint.count
            || (stored.checkpoint.count == self.end.checkpoint.count && stored != self.end)
        {
            return Err(checkpoint_failed());
        }
        self.append_committed(canonical)?;
        Ok(self.end.to_bytes())
    }

    /// Appends `canonical` after the last valid record and `fdatasync`s it.
    /// Used after the transaction committed, still under the lock, for the
    /// records of a committed change (a purge's `DeleteKey` service
    /// events): they lie past the checkpoint just committed, as a batched
    /// record does, until the next flush or change covers them. On failure
    /// the log is cut back before it (best effort).
    pub(crate) fn append_committed(&mut self, canonical: &str) -> Result<()> {
        use std::os::unix::fs::FileExt;
        check_line_len(canonical)?;
        let path = self.sink.path.as_path();
        if self.len > self.end.log_len {
            // A torn or invalid tail past the valid chain: cut it, as an
            // append does.
            self.file
                .set_len(self.end.log_len)
                .map_err(|e| io_err("truncating", path, &e))?;
            self.len = self.end.log_len;
        }
        let mut line = String::with_capacity(canonical.len() + 96);
        let chain = strongroom_core::audit::chain_canonical_keyed(
            &self.sink.chain_key,
            &self.end.checkpoint,
            canonical,
            &mut line,
        )?;
        line.push('\n');
        let start = self.end.log_len;
        // Every record up to the intent is on disk before the state that
        // covers it can commit. On failure the end stays before the intent
        // (cut back, best effort), and nothing trusts the cached ends.
        let synced = self
            .file
            .write_all_at(line.as_bytes(), start)
            .map_err(|e| io_err("writing", path, &e))
            .and_then(|()| {
                self.file
                    .sync_data()
                    .map_err(|e| io_err("syncing", path, &e))
            });
        if let Err(e) = synced {
            self.broken = true;
            let _ = self.file.set_len(start);
            self.len = start;
            return Err(e);
        }
        self.written = true;
        self.end = StoredCheckpoint {
            checkpoint: chain,
            log_len: start + line.len() as u64,
        };
        self.len = self.end.log_len;
        Ok(())
    }
}

#[cfg(unix)]
impl AuditSink {
    /// Runs `f` (one write transaction of the keystore) with the log
    /// locked: this sink's tail, then the log's `flock`, as an append takes
    /// them, so no checkpoint moves and no record is appended while it
    /// runs. The lock is released when `f` returns or unwinds (and by the
    /// kernel if the process dies); nothing inside `f` appends.
    ///
    /// # Errors
    /// `KMSInternalException` before `f` runs if the log cannot be opened
    /// or locked, or no longer holds the records the checkpoint covers.
    pub(crate) fn with_change<T>(
        &self,
        f: impl FnOnce(&mut ChangeLog<'_>) -> Result<T>,
    ) -> Result<T> {
        let path = self.path.as_path();
        let mut tail = self.lock_tail_free();
        // A change goes to the file the path names now.
        tail.path_checked = None;
        let mut f = Some(f);
        let done = self.with_locked_log(&mut tail, true, &mut |tail, file, lock, st| {
            // Read under the lock: no checkpoint moves until it is released.
            let epoch = self.storage.change_counter()?;
            let cp = self.checkpoint(tail, epoch)?;
            let (end, len, id) = self.valid_end(file, st, cp, tail.last)?;
            let mut log = ChangeLog {
                sink: self,
                file,
                cp,
                end,
                len,
                written: false,
                broken: false,
            };
            let run = f
                .take()
                .ok_or_else(|| Error::internal("change run twice"))?;
            let result = run(&mut log);
            if log.broken {
                // Under the lock still: the file is cut back to the end before the intent.
                self.abandon_tail(tail, id, file, log.end.log_len);
            }
            let (end, written, broken) = (log.end, log.written, log.broken);
            drop(lock);
            if !broken {
                self.set_tail(tail, id, end);
            }
            if written {
                // The checkpoint moved with the change, if it committed.
                tail.checkpoint = None;
                if result.is_ok() {
                    mark_committed();
                }
            }
            Ok(result)
        })?;
        done.ok_or_else(|| io_err("opening", path, &std::io::ErrorKind::NotFound.into()))?
    }
}

/// Whether `f` ends, at the checkpoint's length, with the checkpoint's last
/// record (trivially true for an empty checkpoint).
#[cfg(unix)]
fn holds_checkpoint(f: &File, cp: &StoredCheckpoint) -> bool {
    cp.log_len == 0 || ends_with_chain_value(f, cp)
}

/// `fsync`s the directory that holds `path` (a file just created in it).
#[cfg(unix)]
fn sync_parent_dir(path: &Path) -> Result<()> {
    crate::root::sync_parent_dir(path).map_err(|e| io_err("syncing the directory of", path, &e))
}

/// Makes the empty audit log of the keystore just created at
/// `keystore_path` (beside its file, symbolic links resolved; mode 0600 as
/// [`log_options`]), its directory entry synced: the genesis checkpoint
/// covers 0 bytes of it. A log another process made meanwhile (an open of
/// the new keystore that appended first) is kept. With the log in place, a
/// first open of the new keystore reads it as any other, not through the
/// missing-log check ([`log_is_missing`]). Returns the log made, for a
/// create that fails after this to remove it only while it is untouched
/// ([`NewLog::remove_if_untouched`]).
///
/// # Errors
/// `KMSInternalException` if the file cannot be created or its directory
/// synced (the file made is then removed if untouched).
pub(crate) fn create_empty_log(keystore_path: &Path) -> Result<NewLog> {
    let path = audit_log_path(&crate::store::canonical(keystore_path));
    let file = match log_options().write(true).create_new(true).open(&path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
        Err(e) => return Err(io_err("creating", &path, &e)),
    };
    let log = NewLog { path, file };
    #[cfg(unix)]
    if log.file.is_some() {
        sync_parent_dir(&log.path).inspect_err(|_| log.remove_if_untouched())?;
    }
    Ok(log)
}

/// The audit log [`create_empty_log`] made for a new keystore, kept open to
/// know it by (`file`; `None` when another process had made it first).
#[derive(Debug)]
pub(crate) struct NewLog {
    path: PathBuf,
    file: Option<File>,
}

impl NewLog {
    /// Removes the log, for a create or import that failed, only if its path
    /// still names the file made (the same device and inode) and that file
    /// is still empty: a log another process opened and appended to
    /// meanwhile is history, left in place (as is one that process made).
    /// Checked and removed under the log's lock, taken without waiting (a
    /// lock held by another is an append: the log is left), so that no
    /// append falls between them; an appender that locked the file before
    /// finds it unlinked (a link count of 0) and opens the path again.
    pub(crate) fn remove_if_untouched(&self) {
        let Some(f) = &self.file else {
            return;
        };
        #[cfg(unix)]
        {
            let Ok(Some(_lock)) = FileLock::try_acquire(f) else {
                return;
            };
            let untouched = f.metadata().is_ok_and(|m| m.len() == 0)
                && rotation::names_file(&self.path, f).unwrap_or(false);
            if untouched {
                let _ = std::fs::remove_file(&self.path);
            }
        }
        #[cfg(not(unix))]
        if f.metadata().is_ok_and(|m| m.len() == 0)
            && std::fs::metadata(&self.path).is_ok_and(|m| m.len() == 0)
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Options for opening the log: a log created by them is mode 0600 on Unix
/// (owner only, as the keystore file), whatever the umask allows.
fn log_options() -> OpenOptions {
    #[allow(unused_mut)]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Whether a keystore opened by the path `given` has no audit log: none at
/// `resolved_log` (beside its file, symbolic links resolved) and none
/// beside `given` for [`adopt_log_named_by_link`] to move there.
pub(crate) fn log_is_missing(given: &Path, resolved_log: &Path) -> bool {
    let absent = |p: &Path| {
        std::fs::symlink_metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    };
    // An error other than "not found" (a directory this process may not
    // search, say) is not taken for a missing log: the open goes on and
    // reports what it meets.
    absent(resolved_log)
        && match std::fs::symlink_metadata(audit_log_path(given)) {
            Ok(m) => !m.is_file(),
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        }
}

/// Refuses to open a keystore whose audit log at `path` is missing
/// ([`log_is_missing`]) while its sealed checkpoint `checkpoint` (of the
/// authenticated integrity state) covers records in that file: making a
/// new log there would only fail every operation later ("no longer holds
/// the records …") and leave a stray log and signal file behind. A
/// checkpoint of an empty file passes (the log is made by the first
/// append; a new keystore's is made empty with it, [`create_empty_log`]).
///
/// # Errors
/// `KMSInternalException` naming `path` and the records the checkpoint
/// covers.
pub(crate) fn refuse_missing_log(path: &Path, checkpoint: &[u8; CHECKPOINT_LEN]) -> Result<()> {
    let cp = StoredCheckpoint::from_bytes(checkpoint).ok_or_else(checkpoint_failed)?;
    if cp.log_len == 0 {
        return Ok(());
    }
    Err(Error::internal(format!(
        "the audit log {} is missing for a keystore that has written records (its sealed \
         checkpoint covers {} records, {} bytes of that file); nothing was created and no \
         operation runs until it is restored there. A keystore's side files are named after \
         the path it is opened by (symbolic links resolved, a hard link's own name kept): \
         open it by the path its audit log is beside",
        path.display(),
        cp.checkpoint.count,
        cp.log_len
    )))
}

/// The log at the path no longer holds the records the checkpoint covers.
fn log_replaced(path: &Path) -> Error {
    Error::internal(format!(
        "the audit log {} no longer holds the records its sealed checkpoint covers \
         (it was truncated, replaced or deleted); no operation runs until it is restored \
         (`strongroom audit verify` shows the first bad record)",
        path.display()
    ))
}

/// Whether the bytes of `f` just before `state.log_len` are the end of a
/// line whose chain value is `state.checkpoint.last`: `<64 hex digits>"}`
/// and a newline.
#[cfg(unix)]
fn ends_with_chain_value(f: &File, state: &StoredCheckpoint) -> bool {
    use std::os::unix::fs::FileExt;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    const TAIL: u64 = 64 + 3;
    if state.log_len < TAIL {
        return false;
    }
    let mut expected = [0u8; TAIL as usize];
    for (i, b) in state.checkpoint.last.iter().enumerate() {
        expected[2 * i] = HEX[usize::from(b >> 4)];
        expected[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    expected[64..].copy_from_slice(b"\"}\n");
    let mut found = [0u8; TAIL as usize];
    f.read_exact_at(&mut found, state.log_len - TAIL).is_ok() && found == expected
}

/// Without `flock` (non-Unix targets) every event is appended inside an
/// SQLite write transaction and made durable, as before batching.
#[cfg(not(unix))]
impl AuditSink {
    pub(crate) fn append(
        self: &Arc<Self>,
        canonical: String,
        _durable: bool,
        _pid: u32,
    ) -> Result<()> {
        self.append_durable(&canonical)
    }

    /// Appends `canonical` durably in its own write transaction, which
    /// stores the checkpoint that covers it.
    fn append_durable(&self, canonical: &str) -> Result<()> {
        let mut written = None;
        self.storage.write(&mut |tx| {
            let cp = self.read_checkpoint(tx)?;
            let stored = self.append_after(cp, canonical)?;
            written = Some(self.put_checkpoint_seen(tx, stored.to_bytes())?);
            Ok(())
        })?;
        match written {
            Some(state) => self.guard.checkpointed(&state),
            None => Err(Error::internal("transaction produced no result")),
        }
    }

    /// Appends `canonical` after the records `cp` covers (inside the write
    /// transaction that stores the checkpoint returned), durably.
    fn append_after(&self, cp: StoredCheckpoint, canonical: &str) -> Result<StoredCheckpoint> {
        check_line_len(canonical)?;
        let path = self.path.as_path();
        let (mut line, next) = chain_canonical(self.root.audit_key(), &cp.checkpoint, canonical)?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| io_err("opening", path, &e))?;
        let len = f.metadata().map_err(|e| io_err("reading", path, &e))?.len();
        if len < cp.log_len {
            return Err(log_replaced(path));
        }
        if len > cp.log_len {
            f.set_len(cp.log_len)
                .map_err(|e| io_err("truncating", path, &e))?;
        }
        let end = f
            .seek(SeekFrom::End(0))
            .map_err(|e| io_err("seeking", path, &e))?;
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| io_err("writing", path, &e))?;
        Ok(StoredCheckpoint {
            checkpoint: next,
            log_len: end + line.len() as u64,
        })
    }

    /// Without `flock`, a change's transaction is itself the lock: its
    /// intent record is appended inside it.
    pub(crate) fn with_change<T>(
        &self,
        f: impl FnOnce(&mut ChangeLog<'_>) -> Result<T>,
    ) -> Result<T> {
        f(&mut ChangeLog { sink: self })
    }

    pub(crate) fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn flush_locked(&self, _tail: &mut AuditTail) -> Result<()> {
        Ok(())
    }

    pub(crate) fn drain(self: &Arc<Self>) -> Result<()> {
        Ok(())
    }

    pub(crate) fn stuck(&self) -> Option<Error> {
        None
    }
}

/// See the Unix `ChangeLog`: here the write transaction serializes appenders.
#[cfg(not(unix))]
pub(crate) struct ChangeLog<'a> {
    sink: &'a AuditSink,
}

#[cfg(not(unix))]
impl ChangeLog<'_> {
    pub(crate) fn check(&self, ks: &Keystore, stored: &[u8; CHECKPOINT_LEN]) -> Result<()> {
        ks.audit_preflight(stored)
    }

    pub(crate) fn append_intent(
        &mut self,
        canonical: &str,
        stored: &[u8; CHECKPOINT_LEN],
    ) -> Result<[u8; CHECKPOINT_LEN]> {
        let cp = StoredCheckpoint::from_bytes(stored).ok_or_else(checkpoint_failed)?;
        self.sink
            .append_after(cp, canonical)
            .map(StoredCheckpoint::to_bytes)
    }

    /// After the transaction committed: see the Unix `ChangeLog`.
    pub(crate) fn append_committed(&mut self, canonical: &str) -> Result<()> {
        self.sink.append_durable(canonical)
    }
}

impl Drop for AuditSink {
    fn drop(&mut self) {
        if std::process::id() != self.opened_in {
            // A forked child: its parent's queue, tail and connections are
            // the parent's to write.
            return;
        }
        // The last handle is gone: write the records kept after a commit
        // (a last try; errors are ignored) and its queued events
        // (write-behind)...
        #[cfg(unix)]
        {
            let tail = self
                .tail
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if tail.held.take().is_some() {
                // A lock hold kept for a batch nobody claimed (not reached:
                // the claimer holds the sink alive).
                if let Some(f) = &tail.file {
                    drop(FileLock(f));
                }
            }
            let q = self
                .queue
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if q.pid == std::process::id() {
                let mut batch = std::mem::take(&mut q.retained);
                batch.append(&mut q.pending);
                if !batch.is_empty() {
                    let _ = self.write_unscheduled(&mut batch, true, false, &mut |_, _| false);
                }
            }
        }
        // ...and make its batched events durable.
        let tail = self
            .tail
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if tail.unsynced_since.is_some() {
            let mut taken = std::mem::take(tail);
            let _ = self.flush_locked(&mut taken);
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The grammar is core's (`core/tests/time.rs` has its tables); the
    /// filter check turns a refusal into ValidationException naming the text.
    #[test]
    fn audit_time_filters_are_rfc3339_utc_or_a_prefix() {
        assert!(check_time_filter("2024-02-29T23").is_ok());
        for bad in ["yesterday", "2023-02-29", "2024-01-01T10:00:00+01:00"] {
            let e = check_time_filter(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::ValidationException);
            assert!(
                e.message()
                    .starts_with(&format!("'{bad}' is not an RFC 3339 UTC time")),
                "{e}"
            );
        }
    }
    use strongroom_core::audit::{chain_line, AuditEvent};

    /// The last handle dropped while a background flush or drain holds the
    /// sink (here: a clone of the sink kept, as that thread's upgrade of its
    /// weak reference does): its records are written and checkpointed
    /// before the drop returns, not left to that thread
    /// (`audit_batching::dropping_the_last_handle_flushes` failed on a
    /// loaded machine with the checkpoint short of the records).
    #[test]
    fn the_last_handle_writes_and_flushes_while_a_background_thread_holds_the_sink() {
        for mode in [
            AuditWriteMode::WriteThrough,
            AuditWriteMode::WriteBehind {
                max_events: 60_000,
                max_millis: 60_000,
            },
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("ks.db");
            let ks = crate::Keystore::create(
                &path,
                crate::RootKeySource::Bytes(crate::Secret::from_slice(&[0x5a; 32])),
                crate::CreateOptions {
                    audit_write_mode: mode,
                    ..crate::CreateOptions::default()
                },
            )
            .unwrap();
            let key = ks
                .create_key(&crate::api::CreateKeyRequest::default())
                .unwrap()
                .key_metadata
                .key_id;
            for _ in 0..3 {
                ks.describe_key(&key).unwrap();
            }
            let held: Arc<AuditSink> = Arc::clone(&ks.inner.audit);
            let clone = ks.clone();
            drop(ks);
            if matches!(mode, AuditWriteMode::WriteBehind { .. }) {
                // (In write-through, the background flush may have run.)
                assert_eq!(
                    lock_queue(&held.queue).pending.len(),
                    3,
                    "a handle left does not close the sink"
                );
            }
            drop(clone);
            assert!(lock_queue(&held.queue).pending.is_empty(), "{mode:?}");
            assert!(lock_tail(&held.tail).unsynced_since.is_none(), "{mode:?}");
            let text = std::fs::read_to_string(held.path()).unwrap();
            // CreateKey's intent and record, three DescribeKey.
            assert_eq!(text.lines().count(), 5, "{mode:?}");
            let storage = crate::store::SqliteStorage::open(&path, false).unwrap();
            let mut count = 0;
            crate::store::Storage::read(&storage, &mut |tx| {
                count = held.read_checkpoint(tx)?.checkpoint.count;
                Ok(())
            })
            .unwrap();
            assert_eq!(count, 5, "{mode:?}: the checkpoint covers every record");
            drop(held);
        }
    }

    #[test]
    fn a_remembered_end_is_trusted_only_where_its_chain_value_is() {
        let key = [9u8; 32];
        let mut text = String::new();
        let mut cp = Checkpoint::genesis();
        let mut ends = Vec::new();
        for i in 0..3u8 {
            let record = AuditEvent::new("Encrypt", "arn:aws:iam::111122223333:root", 0, [i; 32])
                .to_record();
            let (line, next) = chain_line(&key, &cp, &record).unwrap();
            text.push_str(&line);
            text.push('\n');
            cp = next;
            ends.push(StoredCheckpoint {
                checkpoint: cp,
                log_len: text.len() as u64,
            });
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, &text).unwrap();
        let f = File::open(&path).unwrap();
        for e in &ends {
            assert!(ends_with_chain_value(&f, e));
        }
        // The chain value of another line, another offset, or the start of the file.
        let wrong = StoredCheckpoint {
            checkpoint: ends[0].checkpoint,
            log_len: ends[1].log_len,
        };
        assert!(!ends_with_chain_value(&f, &wrong));
        let shifted = StoredCheckpoint {
            log_len: ends[1].log_len - 1,
            ..ends[1]
        };
        assert!(!ends_with_chain_value(&f, &shifted));
        assert!(!ends_with_chain_value(&f, &StoredCheckpoint::genesis()));
        // Past the end of the file.
        let past = StoredCheckpoint {
            log_len: ends[2].log_len + 10,
            ..ends[2]
        };
        assert!(!ends_with_chain_value(&f, &past));
    }

    /// The stat an append takes of the open log under the lock (and the
    /// path's, which it is compared with) asks for no time stamp, so that
    /// it does not make the next append's write update the log's times
    /// (see [`LogStat`]); and it reads what `fstat` / `stat` read: the
    /// length, the link count (0 once the file is deleted) and the identity
    /// (another file renamed over the path has another).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_logs_stat_asks_for_no_time_stamp_and_reads_what_fstat_reads() {
        use rustix::fs::StatxFlags;
        use std::os::unix::fs::FileExt;
        let times = StatxFlags::ATIME | StatxFlags::MTIME | StatxFlags::CTIME | StatxFlags::BTIME;
        assert!((LOG_STATX & times).is_empty(), "{LOG_STATX:?}");
        let fstat = |f: &File| LogStat::new(&rustix::fs::fstat(f).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.db.audit.jsonl");
        let f = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        f.write_all_at(&[b'x'; 700], 0).unwrap();
        let st = LogStat::of(&f, &path).unwrap();
        assert!(
            LogStat::statx(&f, c"", rustix::fs::AtFlags::EMPTY_PATH).is_some(),
            "statx is used on this system"
        );
        assert_eq!(st, fstat(&f));
        assert_eq!((st.len, st.nlink), (700, 1));
        assert_eq!(LogStat::of_path(&path), Some(st));
        // Another file renamed over the path: another identity; the one
        // held open has no link left.
        let other = dir.path().join("other");
        std::fs::write(&other, b"y").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let new = LogStat::of_path(&path).unwrap();
        assert_ne!(new.id, st.id);
        assert_eq!(new, fstat(&File::open(&path).unwrap()));
        let gone = LogStat::of(&f, &path).unwrap();
        assert_eq!(gone, fstat(&f));
        assert_eq!((gone.nlink, gone.id), (0, st.id));
        // No regular file at the path: none.
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        assert_eq!(LogStat::of_path(&path), None);
        assert_eq!(LogStat::of_path(&dir.path().join("missing")), None);
    }

    /// Where `statx` is missing or refused (`ENOSYS`, or `EPERM` from a
    /// seccomp filter), the stat falls back to `fstat` / `stat` and reads
    /// the same; once found missing it is not tried again. Run in a child
    /// process, as the flag is the whole process's.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_logs_stat_falls_back_to_fstat_where_statx_is_missing() {
        use std::sync::atomic::Ordering;
        if std::env::var_os("STRONGROOM_TEST_STATX_MISSING").is_none() {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "audit_log::tests::the_logs_stat_falls_back_to_fstat_where_statx_is_missing",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("STRONGROOM_TEST_STATX_MISSING", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{text}");
            assert!(text.contains("1 passed"), "{text}");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ks.db.audit.jsonl");
        std::fs::write(&path, [b'x'; 9]).unwrap();
        let f = File::open(&path).unwrap();
        let with_statx = (LogStat::of(&f, &path).unwrap(), LogStat::of_path(&path));
        assert!(!STATX_MISSING.load(Ordering::Relaxed));
        STATX_MISSING.store(true, Ordering::Relaxed);
        assert!(LogStat::statx(&f, c"", rustix::fs::AtFlags::EMPTY_PATH).is_none());
        let fallback = (LogStat::of(&f, &path).unwrap(), LogStat::of_path(&path));
        assert_eq!(fallback, with_statx);
        assert_eq!(fallback.0.len, 9);
        let st = rustix::fs::fstat(&f).unwrap();
        assert_eq!(fallback.0, LogStat::new(&st));
    }
}
