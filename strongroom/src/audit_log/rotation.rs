//! Rotation of the audit log into archive files (`docs/FORMAT.md`, "Audit
//! log rotation and archives"): the current file is copied to an archive
//! beside it, and a new file whose first line is a chained `RotateAuditLog`
//! record (naming the archive, its record range, length and SHA-256, and
//! the chain value it ends with) takes its place.
//!
//! Rotation needs `flock` (Unix); elsewhere only the verification of
//! rotated logs and archives is compiled in use.
#![cfg_attr(not(unix), allow(dead_code, unused_imports))]

use std::fs::File;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strongroom_core::audit::{ChainError, ChainFault, Checkpoint};
use strongroom_core::{Error, Result};

use super::{split_lines, utf8_lines, StoredCheckpoint};

/// `eventName` of the record that starts every rotated log file: a
/// Strongroom operation, named as the others (`PurgeDeletedKeys`,
/// `AnchorKeystore`...).
pub const ROTATE_AUDIT_LOG: &str = "RotateAuditLog";

/// Longest first line read to recognize a rotation record (a rotation
/// record is well under 2 KiB; a longer first line is not one).
const FIRST_LINE_MAX: u64 = 16 * 1024;

/// The result of [`Keystore::rotate_audit_log`](crate::Keystore::rotate_audit_log):
/// the segment of the log that was archived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLogRotation {
    /// The archive file, beside the log:
    /// `<keystore file name>.audit.<first record, 20 digits>-<last record, 20 digits>.jsonl`.
    pub archive: PathBuf,
    /// Number (1-based, counted over every record the log ever held) of the
    /// archive's first record.
    pub first_record: u64,
    /// Number of the archive's last record; the rotation record that starts
    /// the new log file is record `last_record + 1`.
    pub last_record: u64,
    /// Length of the archive in bytes.
    pub bytes: u64,
    /// SHA-256 (FIPS 180-4) of the archive's bytes, 64 lowercase hex digits.
    pub sha256: String,
}

/// One archive checked by
/// [`Keystore::verify_audit_log_archives`](crate::Keystore::verify_audit_log_archives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveSegment {
    /// The file as given.
    pub path: PathBuf,
    /// Number (1-based) of its first record.
    pub first_record: u64,
    /// Number of its last record (`first_record - 1` for a file without records).
    pub last_record: u64,
    /// Its length in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, 64 lowercase hex digits.
    pub sha256: String,
}

/// The first problem found in a chain of archives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchiveFault {
    /// The file where it was found (an archive, or the current log when
    /// its rotation record does not match the last archive given).
    pub file: PathBuf,
    /// Number (1-based, over every record the log ever held) of the record
    /// concerned, when there is one.
    pub record: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ArchiveFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.record {
            Some(r) => write!(f, "{}, record {r}: {}", self.file.display(), self.reason),
            None => write!(f, "{}: {}", self.file.display(), self.reason),
        }
    }
}

/// What a rotation record states about the segment before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RotationClaim {
    pub file_name: String,
    pub first: u64,
    pub last: u64,
    pub bytes: u64,
    pub sha256: String,
    /// `C_last`: the chain value the rotation record is chained from.
    pub chain: [u8; 32],
}

impl RotationClaim {
    /// The chain state the file continues from: `last` records, `C_last`.
    pub(crate) fn base(&self) -> Checkpoint {
        Checkpoint {
            count: self.last,
            last: self.chain,
        }
    }

    /// The claim a line makes, if it is a `RotateAuditLog` record (parsed,
    /// not authenticated: the line's chain value, checked from
    /// [`base`](Self::base), does that).
    pub(crate) fn of_line(line: &str) -> Option<Self> {
        // Cheap refusal of every other record before parsing.
        if !line.contains("\"eventName\":\"RotateAuditLog\"") {
            return None;
        }
        let v: Value = serde_json::from_str(line).ok()?;
        if v.get("eventName")?.as_str()? != ROTATE_AUDIT_LOG {
            return None;
        }
        let r = v.get("responseElements")?;
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| r.get(k).and_then(Value::as_u64);
        let mut chain = [0u8; 32];
        hex::decode_to_slice(s("chainValue")?, &mut chain).ok()?;
        Some(RotationClaim {
            file_name: s("archiveFileName")?,
            first: n("firstRecordNumber")?,
            last: n("lastRecordNumber")?,
            bytes: n("archiveBytes")?,
            sha256: s("archiveSha256")?,
            chain,
        })
    }

    /// The `responseElements` of the rotation record.
    pub(crate) fn response_elements(&self) -> Value {
        serde_json::json!({
            "archiveFileName": self.file_name,
            "firstRecordNumber": self.first,
            "lastRecordNumber": self.last,
            "archiveBytes": self.bytes,
            "archiveSha256": self.sha256,
            "chainValue": hex::encode(self.chain),
        })
    }
}

/// The archive of records `first..=last` of the log at `log`:
/// `<log without .jsonl>.<first:020>-<last:020>.jsonl` (so that names sort
/// by age).
pub fn audit_archive_path(log: &Path, first: u64, last: u64) -> PathBuf {
    log.with_file_name(format!("{}{last:020}.jsonl", archive_prefix(log, first)))
}

/// The start of the file names of the archives of `log` whose first
/// record is `first`: `<log without .jsonl>.<first:020>-`.
fn archive_prefix(log: &Path, first: u64) -> String {
    let name = log
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".jsonl").unwrap_or(&name);
    format!("{stem}.{first:020}-")
}

/// The first line of `f` (`len` bytes), without its newline, if it is
/// complete and at most [`FIRST_LINE_MAX`] bytes.
#[cfg(unix)]
pub(crate) fn first_line(f: &File, len: u64) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; usize::try_from(len.min(FIRST_LINE_MAX)).ok()?];
    f.read_exact_at(&mut buf, 0).ok()?;
    let nl = buf.iter().position(|&b| b == b'\n')?;
    buf.truncate(nl);
    String::from_utf8(buf).ok()
}

/// When the log file `f` (`len` bytes) does not hold what the sealed
/// checkpoint `cp` covers: whether it is a rotated file that continues
/// exactly from `cp` (its first line a `RotateAuditLog` record based at
/// `cp`'s count and chain value, chained from it under `key`): a rotation
/// whose new checkpoint was not stored yet (a crash, or a reader between
/// the rotation's steps). Returns the chain state after that first line.
#[cfg(unix)]
pub(crate) fn continues_from(
    f: &File,
    len: u64,
    cp: &StoredCheckpoint,
    key: &[u8],
) -> Option<StoredCheckpoint> {
    let line = first_line(f, len)?;
    let claim = RotationClaim::of_line(&line)?;
    if claim.base() != cp.checkpoint {
        return None;
    }
    let next = strongroom_core::audit::verify_next_line(&line, key, &cp.checkpoint).ok()?;
    Some(StoredCheckpoint {
        checkpoint: next,
        log_len: line.len() as u64 + 1,
    })
}

/// A rotation refused: the log's records do not verify (`index`, 0-based
/// over every record ever, the first bad one when known).
fn log_not_intact(path: &Path, index: Option<u64>) -> Error {
    let at = index.map_or(String::new(), |i| format!(" at record index {i}"));
    Error::internal(format!(
        "the audit log {} does not verify{at}; it is not rotated (`strongroom audit verify` shows the first bad record)",
        path.display()
    ))
}

/// Where the chain of a log file's `lines` starts: after the records its
/// first line's rotation claim states (unauthenticated until that line is
/// checked), else at genesis.
pub(crate) fn file_base(lines: &[&str]) -> (Checkpoint, Option<RotationClaim>) {
    match lines.first().and_then(|l| RotationClaim::of_line(l)) {
        Some(c) => (c.base(), Some(c)),
        None => (Checkpoint::genesis(), None),
    }
}

/// Verifies the chain of one file's `lines` from `base`, and against the
/// sealed checkpoint `cp` when given (global counts: `cp.count` over every
/// record ever). Returns the state after the last line, or the first bad
/// record (index 0-based over every record ever).
pub(crate) fn verify_from(
    lines: &[&str],
    key: &[u8],
    base: Checkpoint,
    cp: Option<&Checkpoint>,
) -> std::result::Result<Checkpoint, ChainError> {
    if let Some(cp) = cp {
        if cp.count < base.count || (cp.count == base.count && cp.last != base.last) {
            // The file starts past the checkpoint, or not where it ends.
            return Err(ChainError {
                index: base.count,
                reason: ChainFault::CheckpointMismatch,
            });
        }
    }
    let mut state = base;
    for line in lines {
        let index = state.count;
        let fail = |reason| ChainError { index, reason };
        state = strongroom_core::audit::verify_next_line(line, key, &state).map_err(fail)?;
        if let Some(cp) = cp {
            if cp.count == state.count && cp.last != state.last {
                return Err(fail(ChainFault::CheckpointMismatch));
            }
        }
    }
    if let Some(cp) = cp {
        if state.count < cp.count {
            return Err(ChainError {
                index: state.count,
                reason: ChainFault::Truncated {
                    expected: cp.count,
                    found: state.count,
                },
            });
        }
    }
    Ok(state)
}

/// Checks `archives` (oldest first) against each other and against the
/// current log whose first line is `current_first` (`current` its path):
/// each archive's chain verifies from its own start, and the next file's
/// rotation record names it, with its record range, length, SHA-256 and
/// final chain value. Returns the archives read and the first fault.
pub(crate) fn verify_archives(
    archives: &[PathBuf],
    key: &[u8],
    current: &Path,
    current_first: Option<&str>,
) -> (Vec<ArchiveSegment>, Option<ArchiveFault>) {
    let mut segments = Vec::new();
    let mut ends = Vec::new();
    // Each archive's first line, from the one read that is verified (a
    // second read could find another file swapped in meanwhile).
    let mut first_lines: Vec<Option<String>> = Vec::new();
    for path in archives {
        let fault = |record, reason: String| ArchiveFault {
            file: path.clone(),
            record,
            reason,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return (segments, Some(fault(None, format!("cannot be read: {e}")))),
        };
        let sha256 =
            hex::encode(strongroom_core::crypto::digest::DigestAlgorithm::Sha256.digest(&bytes));
        let len = bytes.len() as u64;
        let text = utf8_lines(bytes);
        let lines = split_lines(&text);
        let (base, _) = file_base(&lines);
        first_lines.push(lines.first().map(|l| (*l).to_owned()));
        let end = match verify_from(&lines, key, base, None) {
            Ok(end) => end,
            Err(e) => {
                return (
                    segments,
                    Some(fault(Some(e.index + 1), e.reason.to_string())),
                )
            }
        };
        segments.push(ArchiveSegment {
            path: path.clone(),
            first_record: base.count + 1,
            last_record: end.count,
            bytes: len,
            sha256,
        });
        ends.push(end);
    }
    // Each archive against the rotation record that follows it.
    let firsts: Vec<Option<String>> = first_lines
        .into_iter()
        .skip(1)
        .chain(std::iter::once(current_first.map(str::to_owned)))
        .collect();
    for (i, (seg, end)) in segments.clone().iter().zip(&ends).enumerate() {
        let next = archives.get(i + 1).map_or(current, PathBuf::as_path);
        let fault = |record, reason: String| {
            Some(ArchiveFault {
                file: next.to_path_buf(),
                record,
                reason,
            })
        };
        let name = seg
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(claim) = firsts[i].as_deref().and_then(RotationClaim::of_line) else {
            return (
                segments,
                fault(
                    None,
                    format!(
                        "it does not start with a RotateAuditLog record, so archive {name} cannot \
                         precede it: an archive is missing or out of order"
                    ),
                ),
            );
        };
        let at = Some(claim.last + 1);
        if claim.file_name != name || claim.first != seg.first_record {
            return (
                segments,
                fault(
                    at,
                    format!(
                        "its rotation record follows archive {} (records {} to {}), not {name} \
                         (records {} to {}): an archive is missing or out of order",
                        claim.file_name, claim.first, claim.last, seg.first_record, seg.last_record
                    ),
                ),
            );
        }
        let problem = if claim.last != seg.last_record || claim.chain != end.last {
            Some(format!(
                "the archive holds records {} to {} but the rotation record after it states {} to {}: \
                 the archive was truncated or extended",
                seg.first_record, seg.last_record, claim.first, claim.last
            ))
        } else if claim.bytes != seg.bytes {
            Some(format!(
                "the archive is {} bytes long, the rotation record after it states {}",
                seg.bytes, claim.bytes
            ))
        } else if claim.sha256 != seg.sha256 {
            Some(format!(
                "its SHA-256 is {}, the rotation record after it states {}: the archive was modified",
                seg.sha256, claim.sha256
            ))
        } else {
            None
        };
        if let Some(reason) = problem {
            return (
                segments,
                Some(ArchiveFault {
                    file: seg.path.clone(),
                    record: Some(seg.last_record.min(claim.last) + 1),
                    reason,
                }),
            );
        }
    }
    (segments, None)
}

/// Creates `path` (mode 0600 on Unix), replacing a file left there.
#[cfg(unix)]
pub(crate) fn create_replacing(path: &Path) -> std::io::Result<File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    super::log_options()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)
}

/// Removes archives of a segment starting at record `first` other than
/// `keep`, and their `.partial` files: left by a rotation that crashed
/// before it committed (copies of records still in the current log).
#[cfg(unix)]
pub(crate) fn remove_stale_archives(log: &Path, first: u64, keep: &Path) {
    let Some(dir) = log.parent().map(|d| {
        if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        }
    }) else {
        return;
    };
    let prefix = archive_prefix(log, first);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix)
            && (name.ends_with(".jsonl") || name.ends_with(".jsonl.partial"))
            && entry.path().file_name() != keep.file_name()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The error of a rotation that found nothing to archive.
#[cfg(unix)]
pub(crate) fn nothing_to_rotate(path: &Path) -> Error {
    Error::new(
        strongroom_core::ErrorKind::KMSInvalidStateException,
        format!(
            "the audit log {} holds no record to archive",
            path.display()
        ),
    )
}

/// `<log>.rotating`: the new log file while a rotation writes it.
pub(crate) fn rotating_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".rotating");
    PathBuf::from(name)
}

/// The rotation record's own fields: who asked (`None`: the automatic
/// rotation, a service event), when, in which account.
#[cfg(unix)]
pub(crate) struct RotationCaller<'a> {
    pub principal: Option<&'a str>,
    pub account: &'a str,
    pub millis: u64,
    pub random: [u8; 32],
}

#[cfg(unix)]
impl super::AuditSink {
    /// See [`Keystore::rotate_audit_log`](crate::Keystore::rotate_audit_log).
    /// Under the log's lock (and the tail, once no lock hold is kept):
    ///
    /// 1. the valid chain's end is synced and checkpointed (an invalid tail
    ///    past it cut, as an append does);
    /// 2. the file is copied to `<archive>.partial` (mode 0400) with its
    ///    SHA-256, synced, renamed to the archive name, the directory synced;
    /// 3. the new file is written as `<log>.rotating` (its one line the
    ///    `RotateAuditLog` record chained after the last record), locked,
    ///    synced, and renamed over the log (the commit point: the old file
    ///    is unlinked, so every holder of it sees a link count of 0 under
    ///    its lock and reopens the path), the directory synced;
    /// 4. the checkpoint after the rotation record is stored (if that fails,
    ///    the next append or flush stores it: the rotation record continues
    ///    exactly from the stored checkpoint, which they accept).
    pub(crate) fn rotate(&self, caller: &RotationCaller<'_>) -> Result<AuditLogRotation> {
        self.rotate_at_least(caller, 0)?
            .ok_or_else(|| nothing_to_rotate(&self.path))
    }

    /// Starts the background rotation of a log that a batch left at or
    /// past [`OpenOptions::audit_rotate_bytes`](crate::OpenOptions::audit_rotate_bytes),
    /// unless one is running. Off the append's usual path.
    #[cold]
    pub(crate) fn schedule_rotation(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering;
        if self.rotation_scheduled.swap(true, Ordering::AcqRel) {
            return;
        }
        self.rotation_due.store(false, Ordering::Relaxed);
        let weak = std::sync::Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("strongroom-audit-rotate".into())
            .spawn(move || {
                if let Some(sink) = weak.upgrade() {
                    sink.rotate_automatically();
                    sink.rotation_scheduled.store(false, Ordering::Release);
                }
            });
        if spawned.is_err() {
            // No thread: the next batch past the size tries again.
            self.rotation_scheduled.store(false, Ordering::Release);
        }
    }

    /// The automatic rotation: a `RotateAuditLog` service event, if the
    /// log is still at or past the size (another handle or process may
    /// have rotated it meanwhile). After a failure the next try waits for
    /// the log to grow by the size again, and the failure is audited (in
    /// the current file, nothing having been rotated) as a `RotateAuditLog`
    /// service event with its `errorCode` and `errorMessage`, as a failed
    /// [`rotate_audit_log`](crate::Keystore::rotate_audit_log) is. That
    /// append cannot start another rotation (this one is still marked
    /// scheduled, and the log is then short of the next size) nor wait for
    /// this thread (it holds neither the tail nor the log's lock any more);
    /// if it fails too (the log cannot be written), nothing more is done:
    /// the next append reports that.
    fn rotate_automatically(self: &std::sync::Arc<Self>) {
        use std::sync::atomic::Ordering;
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let caller = RotationCaller {
            principal: None,
            account: &self.account,
            millis,
            random: crate::access::audit_id_bytes(std::process::id()),
        };
        let rotated = super::refuse_unnamable_archives(&self.path)
            .and_then(|()| self.rotate_at_least(&caller, self.rotate_bytes));
        let failed = match rotated {
            Ok(_) => {
                self.rotate_after
                    .store(self.rotate_bytes, Ordering::Relaxed);
                return;
            }
            Err(e) => e,
        };
        let next = std::fs::metadata(&self.path)
            .map_or(0, |m| m.len())
            .saturating_add(self.rotate_bytes);
        self.rotate_after.store(next, Ordering::Relaxed);
        let event = strongroom_core::audit::AuditEvent::service_event(
            ROTATE_AUDIT_LOG,
            caller.account,
            caller.millis,
            caller.random,
        )
        .with_error(&failed);
        let _ = self.append(event.to_canonical_record(), true, std::process::id());
    }

    /// [`rotate`](Self::rotate) when the log's valid chain ends at
    /// `min_len` bytes or more (after it is checkpointed); `None` otherwise
    /// or for a log without records.
    fn rotate_at_least(
        &self,
        caller: &RotationCaller<'_>,
        min_len: u64,
    ) -> Result<Option<AuditLogRotation>> {
        use std::os::unix::fs::FileExt;
        let path = self.path.as_path();
        let io = |what: &str, p: &Path, e: std::io::Error| super::io_err(what, p, &e);
        let mut tail = self.lock_tail_free();
        tail.path_checked = None;
        for _ in 0..super::REOPEN_ATTEMPTS {
            let f = self.open(&mut tail, true)?.ok_or_else(|| {
                super::io_err("opening", path, &std::io::ErrorKind::NotFound.into())
            })?;
            let (result, new_file) = {
                let lock = super::FileLock::acquire(&f, path)?;
                let st = super::LogStat::of(&f, path)?;
                if st.nlink == 0 {
                    drop(lock);
                    tail.path_checked = None;
                    tail.last = None;
                    continue;
                }
                // Read under the lock: no checkpoint moves until it is released.
                let epoch = self.storage.change_counter()?;
                let cp = self.checkpoint(&mut tail, epoch)?;
                let (end, len, id) = self.valid_end(&f, st, cp, tail.last)?;
                if len > end.log_len {
                    f.set_len(end.log_len)
                        .map_err(|e| io("truncating", path, e))?;
                }
                if end != cp {
                    f.sync_data().map_err(|e| io("syncing", path, e))?;
                    self.store_checkpoint(&mut tail, end)?;
                }
                self.set_tail(&mut tail, id, end);
                tail.unsynced_since = None;
                crate::test_hooks::rotation_step(1);
                let mut bytes = vec![0u8; usize::try_from(end.log_len).unwrap_or(0)];
                f.read_exact_at(&mut bytes, 0)
                    .map_err(|e| io("reading", path, e))?;
                if end.log_len == 0 || end.log_len < min_len {
                    return Ok(None);
                }
                // Only a file whose every record verifies, from the base
                // its first line states to the sealed checkpoint, is
                // archived: a rotation must not seal over an edited or
                // dropped record (the new file would verify clean).
                let text = std::str::from_utf8(&bytes).map_err(|_| log_not_intact(path, None))?;
                let lines = split_lines(text);
                let (base, _) = file_base(&lines);
                match verify_from(&lines, self.root.audit_key(), base, Some(&end.checkpoint)) {
                    Ok(state) if state == end.checkpoint => {}
                    Ok(state) => return Err(log_not_intact(path, Some(state.count))),
                    Err(e) => return Err(log_not_intact(path, Some(e.index))),
                }
                let last = end.checkpoint.count;
                if last <= base.count {
                    return Ok(None);
                }
                let first = base.count + 1;
                let archive = audit_archive_path(path, first, last);
                remove_stale_archives(path, first, &archive);
                let sha256 = hex::encode(
                    strongroom_core::crypto::digest::DigestAlgorithm::Sha256.digest(&bytes),
                );
                // The archive: written whole under a temporary name, then named.
                let partial = {
                    let mut n = archive.as_os_str().to_owned();
                    n.push(".partial");
                    PathBuf::from(n)
                };
                {
                    let a = create_replacing(&partial).map_err(|e| io("creating", &partial, e))?;
                    a.write_all_at(&bytes, 0)
                        .and_then(|()| a.sync_all())
                        .map_err(|e| io("writing", &partial, e))?;
                    set_read_only(&a).map_err(|e| io("writing", &partial, e))?;
                }
                crate::test_hooks::rotation_step(2);
                std::fs::rename(&partial, &archive).map_err(|e| io("renaming", &partial, e))?;
                super::sync_parent_dir(&archive)?;
                crate::test_hooks::rotation_step(3);
                let claim = RotationClaim {
                    file_name: archive
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    first,
                    last,
                    bytes: end.log_len,
                    sha256: sha256.clone(),
                    chain: end.checkpoint.last,
                };
                let event = match caller.principal {
                    Some(principal) => strongroom_core::audit::AuditEvent::new(
                        ROTATE_AUDIT_LOG,
                        principal,
                        caller.millis,
                        caller.random,
                    )
                    .with_request_parameters_value(serde_json::json!({}))
                    .with_recipient_account(caller.account),
                    None => strongroom_core::audit::AuditEvent::service_event(
                        ROTATE_AUDIT_LOG,
                        caller.account,
                        caller.millis,
                        caller.random,
                    ),
                };
                let canonical = event
                    .with_response_elements(claim.response_elements())
                    .to_canonical_record();
                let mut line = String::with_capacity(canonical.len() + 96);
                let next = strongroom_core::audit::chain_canonical_keyed(
                    &self.chain_key,
                    &end.checkpoint,
                    &canonical,
                    &mut line,
                )?;
                line.push('\n');
                // The new file, locked before it is named (so that nobody
                // appends to it before its checkpoint is stored below).
                let tmp = rotating_path(path);
                let nf = create_replacing(&tmp).map_err(|e| io("creating", &tmp, e))?;
                let new_lock = super::FileLock::acquire(&nf, &tmp)?;
                nf.write_all_at(line.as_bytes(), 0)
                    .and_then(|()| nf.sync_data())
                    .map_err(|e| io("writing", &tmp, e))?;
                crate::test_hooks::rotation_step(4);
                std::fs::rename(&tmp, path).map_err(|e| io("renaming", &tmp, e))?;
                super::sync_parent_dir(path)?;
                crate::test_hooks::rotation_step(5);
                let new_end = StoredCheckpoint {
                    checkpoint: next,
                    log_len: line.len() as u64,
                };
                let new_id = super::LogStat::of(&nf, path)?.id;
                // Committed: a checkpoint that cannot be stored now is
                // stored by the next append or flush, which accept a file
                // continuing exactly from the stored checkpoint.
                if self.store_checkpoint(&mut tail, new_end).is_err() {
                    tail.unsynced_since = Some(std::time::Instant::now());
                }
                crate::test_hooks::rotation_step(6);
                self.set_tail(&mut tail, new_id, new_end);
                drop(new_lock);
                drop(lock);
                (
                    Ok(Some(AuditLogRotation {
                        archive,
                        first_record: first,
                        last_record: last,
                        bytes: end.log_len,
                        sha256,
                    })),
                    nf,
                )
            };
            tail.file = Some(new_file);
            tail.path_checked = Some(std::time::Instant::now());
            return result;
        }
        Err(super::log_replaced(path))
    }
}

/// Makes an archive read only (mode 0400): it is never written again.
#[cfg(unix)]
fn set_read_only(f: &File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o400))
}
