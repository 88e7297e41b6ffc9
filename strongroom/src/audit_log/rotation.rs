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
use strongroom_core::audit::{ChainError, ChainFault, ChainVerifier, Checkpoint};
use strongroom_core::crypto::digest::Sha256Stream;
use strongroom_core::{Error, Result};

use super::StoredCheckpoint;

/// `eventName` of the record that starts every rotated log file: a
/// Strongroom operation, named as the others (`PurgeDeletedKeys`,
/// `AnchorKeystore`...).
pub const ROTATE_AUDIT_LOG: &str = "RotateAuditLog";

/// Longest first line read to recognize a rotation record (a rotation
/// record is well under 2 KiB; a longer first line is not one).
const FIRST_LINE_MAX: u64 = 16 * 1024;

/// Bytes read (and copied) at a time when a rotation or an archive check
/// streams a file: 1 MiB.
const PIECE: usize = 1 << 20;

/// Longest line (one record, without its newline) a streamed pass holds:
/// 16 MiB. A longer line is a fault at its record (`malformed record`),
/// never an allocation, so that a file without newlines (or a device
/// without end) cannot exhaust memory.
pub(crate) const LINE_MAX: usize = 16 << 20;

/// The fault of a line longer than [`LINE_MAX`].
const LINE_TOO_LONG: &str = "a line longer than 16 MiB";

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
        let v = strongroom_core::json_value(line).ok()?;
        if v.get("eventName")?.as_str()? != ROTATE_AUDIT_LOG {
            return None;
        }
        let r = v.get("responseElements")?;
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
        let n = |k: &str| r.get(k).and_then(Value::as_u64);
        let mut chain = [0u8; 32];
        hex::decode_to_slice(s("chainValue")?, &mut chain).ok()?;
        let (first, last) = (n("firstRecordNumber")?, n("lastRecordNumber")?);
        // Not a claim any rotation makes (an archive holds records
        // `1 <= first <= last`, and the rotation record itself is record
        // `last + 1`): refused here, before any count is computed from it.
        if first == 0 || first > last || last >= u64::MAX - 1 {
            return None;
        }
        Some(RotationClaim {
            file_name: s("archiveFileName")?,
            first,
            last,
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

/// [`first_line`] where there is no positioned read: read from the start,
/// the file's position put back at the start.
#[cfg(not(unix))]
pub(crate) fn first_line(f: &File, len: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut r = f;
    let mut buf = vec![0u8; usize::try_from(len.min(FIRST_LINE_MAX)).ok()?];
    r.seek(SeekFrom::Start(0)).ok()?;
    let read = r.read_exact(&mut buf);
    r.seek(SeekFrom::Start(0)).ok()?;
    read.ok()?;
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

/// A rotation refused: record `index` (0-based over every record ever) is
/// a line longer than [`LINE_MAX`], more than a rotation holds (only an
/// older version appended one: appends refuse them).
fn line_too_long(path: &Path, index: u64) -> Error {
    Error::internal(format!(
        "record index {index} of the audit log {} is a line over the {} MiB limit of a rotation; the log is not rotated",
        path.display(),
        LINE_MAX >> 20
    ))
}

/// Where the chain of a log file's `lines` starts: after the records its
/// first line's rotation claim states (unauthenticated until that line is
/// checked), else at genesis.
#[cfg(test)]
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
#[cfg(test)]
pub(crate) fn verify_from(
    lines: &[&str],
    key: &[u8],
    base: Checkpoint,
    cp: Option<&Checkpoint>,
) -> std::result::Result<Checkpoint, ChainError> {
    strongroom_core::audit::verify_chain_from(lines.iter().copied(), key, base, cp)
}

/// One streamed pass over a log file's bytes, fed in pieces of any size:
/// hashes them (SHA-256), splits them into lines (a line may straddle
/// pieces; at most [`LINE_MAX`] bytes of one are held) and verifies each
/// with a [`ChainVerifier`] from the base the first line states (as
/// `file_base` does over whole lines; a first line longer than [`FIRST_LINE_MAX`] is not a
/// rotation record), against a sealed checkpoint when given. The lines are
/// those of `split_lines(utf8_lines(bytes))`: a line that is not UTF-8 is
/// verified as `NOT_UTF8` (a fault at its index), and bytes after the last
/// newline are a last line. Stops verifying at the first fault.
pub(crate) struct LinePass<'k> {
    key: &'k [u8],
    cp: Option<Checkpoint>,
    verifier: Option<ChainVerifier<'k>>,
    base: Checkpoint,
    first_line: Option<String>,
    carry: Vec<u8>,
    hash: Sha256Stream,
    len: u64,
    fault: Option<ChainError>,
    /// When tracked: the intents of unknown outcome, fed every line that
    /// verifies.
    pub(crate) intents: Option<super::OpenIntents>,
}

/// What a [`LinePass`] found.
pub(crate) struct PassEnd {
    /// The base the file's first line states (genesis for none).
    pub base: Checkpoint,
    /// The first line, when at most [`FIRST_LINE_MAX`] bytes.
    pub first_line: Option<String>,
    /// Bytes fed.
    pub len: u64,
    /// SHA-256 of the bytes fed (of all of them only without a fault).
    pub sha256: [u8; 32],
    /// The state after the last line, or the first fault.
    pub end: std::result::Result<Checkpoint, ChainError>,
    /// The intents tracked ([`LinePass::intents`]).
    pub intents: Option<super::OpenIntents>,
}

impl<'k> LinePass<'k> {
    /// A pass verifying under the chain key `key`, against the sealed
    /// checkpoint `cp` (global counts) when given.
    pub(crate) fn new(key: &'k [u8], cp: Option<Checkpoint>) -> Self {
        LinePass {
            key,
            cp,
            verifier: None,
            base: Checkpoint::genesis(),
            first_line: None,
            carry: Vec::new(),
            hash: Sha256Stream::new(),
            len: 0,
            fault: None,
            intents: None,
        }
    }

    /// Whether a fault was found (nothing more needs to be fed).
    pub(crate) fn failed(&self) -> bool {
        self.fault.is_some()
    }

    /// The next bytes of the file.
    pub(crate) fn feed(&mut self, piece: &[u8]) {
        self.hash.update(piece);
        self.len += piece.len() as u64;
        let mut rest = piece;
        while self.fault.is_none() {
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let (head, tail) = (&rest[..nl], &rest[nl + 1..]);
            rest = tail;
            if self.carry.is_empty() {
                self.line(head);
            } else if self.carry.len() + head.len() > LINE_MAX {
                self.too_long();
            } else {
                let mut line = std::mem::take(&mut self.carry);
                line.extend_from_slice(head);
                self.line(&line);
                line.clear();
                self.carry = line;
            }
        }
        if self.fault.is_none() {
            if self.carry.len() + rest.len() > LINE_MAX {
                self.too_long();
            } else {
                self.carry.extend_from_slice(rest);
            }
        }
    }

    /// A line longer than [`LINE_MAX`]: a fault at its record (a first
    /// line so long is not a rotation record: the chain starts at genesis).
    fn too_long(&mut self) {
        self.carry = Vec::new();
        if self.verifier.is_none() {
            self.start(None);
        }
        if self.fault.is_none() {
            let index = self
                .verifier
                .as_ref()
                .map_or(self.base.count, |v| v.state().count);
            self.fault = Some(ChainError {
                index,
                reason: ChainFault::Malformed(LINE_TOO_LONG),
            });
        }
    }

    /// Starts the chain at the base `first` (the first line, `None` for a
    /// file without lines) states.
    fn start(&mut self, first: Option<&str>) {
        let first = first.filter(|l| l.len() as u64 <= FIRST_LINE_MAX);
        self.base = first
            .and_then(RotationClaim::of_line)
            .map_or_else(Checkpoint::genesis, |c| c.base());
        self.first_line = first.map(str::to_owned);
        match ChainVerifier::new(self.key, self.base, self.cp) {
            Ok(v) => self.verifier = Some(v),
            Err(e) => self.fault = Some(e),
        }
    }

    fn line(&mut self, bytes: &[u8]) {
        let text = std::str::from_utf8(bytes).unwrap_or(super::NOT_UTF8);
        if self.verifier.is_none() {
            self.start(Some(text));
        }
        if let Some(v) = &mut self.verifier {
            match v.next_line(text) {
                Err(e) => self.fault = Some(e),
                Ok(_) => {
                    if let Some(intents) = &mut self.intents {
                        intents.line(text);
                    }
                }
            }
        }
    }

    /// The end of the file: its last line (if it does not end in a
    /// newline) verified, and the chain checked against the checkpoint.
    pub(crate) fn finish(mut self) -> PassEnd {
        if self.fault.is_none() && !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.line(&last);
        }
        if self.fault.is_none() && self.verifier.is_none() {
            self.start(None);
        }
        let end = match (self.fault, self.verifier) {
            (Some(e), _) => Err(e),
            (None, Some(v)) => v.finish(),
            // (Not reached: `start` sets one or the other.)
            (None, None) => Err(ChainError {
                index: 0,
                reason: ChainFault::Malformed("no record"),
            }),
        };
        PassEnd {
            base: self.base,
            first_line: self.first_line,
            len: self.len,
            sha256: self.hash.finish(),
            end,
            intents: self.intents,
        }
    }
}

/// Why a streamed pass stopped.
pub(crate) enum StreamError {
    /// Reading the file failed.
    Read(std::io::Error),
    /// The copy of a piece failed.
    Copy(std::io::Error),
}

/// Feeds a file to `pass` in pieces of [`PIECE`] bytes, up to `limit`
/// bytes or its end: `read(buf, offset)` fills the start of `buf` (0 at
/// the end), `copy(piece, offset)` is given each piece after `pass`. Stops
/// early at the pass's first fault. Holds one piece in memory.
pub(crate) fn stream(
    pass: &mut LinePass<'_>,
    limit: Option<u64>,
    mut read: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
    mut copy: impl FnMut(&[u8], u64) -> std::io::Result<()>,
) -> std::result::Result<(), StreamError> {
    let mut buf = vec![0u8; PIECE];
    let mut offset = 0u64;
    loop {
        let want = limit.map_or(PIECE, |l| {
            usize::try_from(l.saturating_sub(offset)).map_or(PIECE, |r| r.min(PIECE))
        });
        if want == 0 || pass.failed() {
            return Ok(());
        }
        let n = match read(&mut buf[..want], offset) {
            Ok(0) => return Ok(()),
            Ok(n) => n.min(want),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StreamError::Read(e)),
        };
        pass.feed(&buf[..n]);
        copy(&buf[..n], offset).map_err(StreamError::Copy)?;
        offset += n as u64;
    }
}

/// Opens `path` for reading without blocking on a FIFO (and, with
/// `nofollow`, without following a symbolic link), and checks that it is a
/// regular file: returns it with its length, or `Ok(None)` for anything
/// else (a directory, device, FIFO or socket, which could block a read or
/// never end).
pub(crate) fn open_regular(path: &Path, nofollow: bool) -> std::io::Result<Option<(File, u64)>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        let mut flags = rustix::fs::OFlags::NONBLOCK;
        if nofollow {
            flags |= rustix::fs::OFlags::NOFOLLOW;
        }
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, flags.bits() as i32);
    }
    #[cfg(not(unix))]
    let _ = nofollow;
    let f = options.open(path)?;
    let meta = f.metadata()?;
    Ok(meta.is_file().then_some((f, meta.len())))
}

/// Checks `archives` (oldest first) against each other and against the
/// current log whose first line is `current_first` (`current` its path):
/// each archive's chain verifies from its own start, and the next file's
/// rotation record names it, with its record range, length, SHA-256 and
/// final chain value. Each archive is read once, streamed (one piece and
/// one line at a time in memory), and must be a regular file. Returns the
/// archives read and the first fault.
pub(crate) fn verify_archives(
    archives: &[PathBuf],
    key: &[u8],
    current: &Path,
    current_first: Option<&str>,
    intents: &mut super::OpenIntents,
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
        let mut file = match open_regular(path, false) {
            Ok(Some((f, _))) => f,
            Ok(None) => {
                return (
                    segments,
                    Some(fault(
                        None,
                        "is not a regular file (a directory, device or pipe)".to_owned(),
                    )),
                )
            }
            Err(e) => return (segments, Some(fault(None, format!("cannot be read: {e}")))),
        };
        let mut pass = LinePass::new(key, None);
        pass.intents = Some(std::mem::take(intents));
        let read = |buf: &mut [u8], _| std::io::Read::read(&mut file, buf);
        if let Err(StreamError::Read(e) | StreamError::Copy(e)) =
            stream(&mut pass, None, read, |_, _| Ok(()))
        {
            // The intents of the archives read so far are kept.
            *intents = pass.intents.take().unwrap_or_default();
            return (segments, Some(fault(None, format!("cannot be read: {e}"))));
        }
        let PassEnd {
            base,
            first_line,
            len,
            sha256,
            end,
            intents: seen,
        } = pass.finish();
        *intents = seen.unwrap_or_default();
        first_lines.push(first_line);
        let end = match end {
            Ok(end) => end,
            Err(e) => {
                return (
                    segments,
                    Some(fault(Some(e.index.saturating_add(1)), e.reason.to_string())),
                )
            }
        };
        segments.push(ArchiveSegment {
            path: path.clone(),
            first_record: base.count.saturating_add(1),
            last_record: end.count,
            bytes: len,
            sha256: hex::encode(sha256),
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
        let at = Some(claim.last.saturating_add(1));
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
                    record: Some(seg.last_record.min(claim.last).saturating_add(1)),
                    reason,
                }),
            );
        }
    }
    (segments, None)
}

/// Creates `path` with `mode` (Unix; the fd returned can read and write
/// whatever the mode), replacing a file left there.
#[cfg(unix)]
pub(crate) fn create_replacing(path: &Path, mode: u32) -> std::io::Result<File> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    create_new(path, mode)
}

/// Creates `path` with `mode` (Unix; the fd returned can read and write
/// whatever the mode), failing (`AlreadyExists`) if anything is there: a
/// rotation's `.partial` file, never made by removing what holds its name
/// (that may be another rotation's, still being written).
#[cfg(unix)]
fn create_new(path: &Path, mode: u32) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    super::log_options()
        .mode(mode)
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)
}

/// Whether `path` itself (not followed if it is a symbolic link) is the
/// file open as `f`: the same device and inode number.
#[cfg(unix)]
pub(crate) fn names_file(path: &Path, f: &File) -> std::io::Result<bool> {
    let at = rustix::fs::lstat(path)?;
    let open = rustix::fs::fstat(f)?;
    Ok(at.st_dev == open.st_dev && at.st_ino == open.st_ino)
}

/// The directory that holds `log` (`.` for a bare file name).
#[cfg(unix)]
fn dir_of(log: &Path) -> &Path {
    match log.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The file names in the directory of `log` that start with the archive
/// prefix of a segment starting at record `first` and end with `suffix`.
/// An error reading the directory is returned (a rotation must not take
/// an unreadable directory for one without the files it looks for).
#[cfg(unix)]
fn segment_files(log: &Path, first: u64, suffix: &str) -> std::io::Result<Vec<PathBuf>> {
    let prefix = archive_prefix(log, first);
    if crate::test_hooks::take_partial_scan_failure() {
        return Err(std::io::Error::from_raw_os_error(
            rustix::io::Errno::MFILE.raw_os_error(),
        ));
    }
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir_of(log))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(suffix) {
            found.push(e.path());
        }
    }
    Ok(found)
}

/// Removes the `.partial` files of archives of a segment starting at record
/// `first`: left by a rotation that crashed before naming its archive (a
/// rotation removes its own on every error). A rotation holds its own
/// `flock`ed from its creation until after it is removed (it is created
/// and locked under the log's lock; it is removed under the log's lock
/// when the rotation commits, and possibly after the log's lock is
/// released on the error and restart paths, but always before its own
/// lock is). So a `.partial` file is removed here only once this rotation
/// holds its lock (or when it is gone, or is not a regular file: a rotation
/// makes only regular ones); one found locked belongs to a rotation
/// copying these records now, and is returned open (left in place) with
/// its path for the caller to wait on. Any other error (reading the
/// directory, opening or locking a file: `EMFILE`, `ENOMEM`...) is
/// returned: nothing is removed that might be another rotation's.
#[cfg(unix)]
pub(crate) fn remove_stale_partials(log: &Path, first: u64) -> Result<Option<(File, PathBuf)>> {
    let dir = dir_of(log);
    let paths = segment_files(log, first, ".jsonl.partial")
        .map_err(|e| super::io_err("reading the directory", dir, &e))?;
    for p in paths {
        let opened = if crate::test_hooks::take_partial_open_failure() {
            Err(std::io::Error::from_raw_os_error(
                rustix::io::Errno::MFILE.raw_os_error(),
            ))
        } else {
            open_regular(&p, true)
        };
        let f = match opened {
            Ok(Some((f, _))) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            // Not a regular file (a symbolic link refused by `O_NOFOLLOW`,
            // a directory, a FIFO...): no rotation's.
            Ok(None) => {
                let _ = std::fs::remove_file(&p);
                continue;
            }
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                let _ = std::fs::remove_file(&p);
                continue;
            }
            Err(e) => return Err(super::io_err("opening", &p, &e)),
        };
        let busy = match super::FileLock::try_acquire(&f) {
            Ok(Some(_lock)) => {
                // Locked by this rotation: stale. Removed if the name
                // still holds that file.
                if names_file(&p, &f).unwrap_or(false) {
                    let _ = std::fs::remove_file(&p);
                }
                false
            }
            Ok(None) => true,
            Err(e) => return Err(super::io_err("locking", &p, &std::io::Error::from(e))),
        };
        if busy {
            return Ok(Some((f, p)));
        }
    }
    Ok(None)
}

/// How long a rotation that finds another's `.partial` file of the same
/// records locked waits for it: 5 s, then it fails naming the file. A
/// rotation copies outside the log's lock, so this bounds the wait for
/// another rotation's copy (a copy of a log of many hundreds of MiB may
/// take longer: the second rotation then fails and is retried later) and
/// for a lock held by a process that is not a rotation (a file planted
/// and locked, a child made by `fork()` during a rotation that keeps the
/// lock its parent's `.partial` file had).
pub(crate) const PARTIAL_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits, up to `wait` (polling every 10 ms; `ZERO`: one try), for the lock
/// of the `.partial` file `busy` (at `path`) found locked by
/// [`remove_stale_partials`], without holding any other lock. Returns once
/// it is free (the lock is released at once) or `path` no longer names it
/// (its rotation removed it, which it does before unlocking it: the lock
/// is then only held by a child made by `fork()` that inherited it, and
/// the caller starts again); `KMSInvalidStateException` naming the file
/// when the time is up; any other locking error as it is.
#[cfg(unix)]
fn wait_for_partial(log: &Path, busy: &File, path: &Path, wait: std::time::Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match super::FileLock::try_acquire(busy) {
            // Released at once.
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(e) => return Err(super::io_err("locking", path, &std::io::Error::from(e))),
        }
        if !names_file(path, busy).unwrap_or(false) {
            return Ok(());
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return Err(Error::new(
                strongroom_core::ErrorKind::KMSInvalidStateException,
                format!(
                    "the audit log {} is not rotated: {} (the temporary archive file of another \
                     rotation of the same records) {}; another rotation is \
                     copying them, or a process holds that file's lock (one that planted it, or \
                     a child made by fork() during a rotation, which keeps its parent's lock): \
                     rotate again later",
                    log.display(),
                    path.display(),
                    if wait.is_zero() {
                        "is locked (an automatic rotation does not wait)".to_string()
                    } else {
                        format!("stayed locked for {} ms", wait.as_millis())
                    }
                ),
            ));
        }
        std::thread::sleep((deadline - now).min(std::time::Duration::from_millis(10)));
    }
}

/// Feeds the bytes `from..to` of the log `f` (at `path`) to `pass` and
/// copies them to the same offsets of `a` (the archive's temporary file
/// `partial`), streamed ([`stream`]).
#[cfg(unix)]
fn copy_range(
    pass: &mut LinePass<'_>,
    f: &File,
    path: &Path,
    a: &File,
    partial: &Path,
    from: u64,
    to: u64,
) -> Result<()> {
    use std::os::unix::fs::FileExt;
    match stream(
        pass,
        Some(to - from),
        |buf, offset| f.read_at(buf, from + offset),
        |piece, offset| a.write_all_at(piece, from + offset),
    ) {
        Ok(()) => Ok(()),
        Err(StreamError::Read(e)) => Err(super::io_err("reading", path, &e)),
        Err(StreamError::Copy(e)) => Err(super::io_err("writing", partial, &e)),
    }
}

/// Whether the first `len` bytes of `a` and `b` are the same (read in
/// 64 KiB pieces).
#[cfg(unix)]
fn same_bytes(a: &File, b: &File, len: u64) -> std::io::Result<bool> {
    use std::os::unix::fs::FileExt;
    const STEP: usize = 64 * 1024;
    let (mut x, mut y) = (vec![0u8; STEP], vec![0u8; STEP]);
    let mut offset = 0u64;
    while offset < len {
        let n = usize::try_from(len - offset).map_or(STEP, |r| r.min(STEP));
        a.read_exact_at(&mut x[..n], offset)?;
        b.read_exact_at(&mut y[..n], offset)?;
        if x[..n] != y[..n] {
            return Ok(false);
        }
        offset += n as u64;
    }
    Ok(true)
}

/// `path` opened if it is a regular file (not a link) whose bytes are a
/// non-empty prefix of the `len` bytes of `copy` (exactly them with
/// `whole`): a copy of records the current log holds.
#[cfg(unix)]
fn copy_of(path: &Path, copy: &File, len: u64, whole: bool) -> Option<File> {
    let (f, l) = open_regular(path, true).ok()??;
    let fits = if whole { l == len } else { l > 0 && l <= len };
    (fits && same_bytes(&f, copy, l).ok()?).then_some(f)
}

/// Removes the archives of a segment starting at record `first`, other than
/// `keep`, that are provably redundant: regular files whose bytes are a
/// prefix of `copy` (the current log's `len` verified bytes, as copied to
/// the new archive's temporary file) — left by a rotation that crashed
/// after naming its archive and before committing, when records were
/// appended since. Any other file (an archive of another history, after a
/// keystore was restored from a backup or imported at an old path) is
/// left alone.
#[cfg(unix)]
pub(crate) fn remove_redundant_archives(
    log: &Path,
    first: u64,
    keep: &Path,
    copy: &File,
    len: u64,
) {
    // A directory that cannot be read: nothing removed (they are only
    // redundant).
    for p in segment_files(log, first, ".jsonl").unwrap_or_default() {
        if p.file_name() != keep.file_name() && copy_of(&p, copy, len, false).is_some() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A rotation refused: the archive's name is taken by another file.
#[cfg(unix)]
fn archive_name_taken(log: &Path, archive: &Path) -> Error {
    Error::internal(format!(
        "the audit log {} is not rotated: its archive's name {} is taken by a file that is not \
         a copy of the log's records (an archive of another history, e.g. from before the \
         keystore was restored from a backup); nothing was deleted: move that file away and \
         rotate again",
        log.display(),
        archive.display()
    ))
}

/// Gives the temporary file `partial` (holding `len` bytes, open as
/// `copy`) the name `archive` without replacing a file there: a hard link
/// (or, where hard links are refused, `renameat2` with `RENAME_NOREPLACE`
/// on Linux). A name taken by a regular file with the same bytes (an
/// earlier attempt that crashed after naming it) is kept as it is; taken
/// by anything else, the rotation is refused. The caller removes
/// `partial`.
///
/// The name `partial` must still be the file open as `copy` (the same
/// device and inode), checked before it is linked, and the archive's
/// name that file after: a rotation never names as its archive a file
/// another put at its temporary name.
#[cfg(unix)]
fn name_archive(log: &Path, partial: &Path, archive: &Path, copy: &File, len: u64) -> Result<()> {
    let taken = || match copy_of(archive, copy, len, true) {
        Some(existing) => existing
            .sync_all()
            .map_err(|e| super::io_err("syncing", archive, &e)),
        None => Err(archive_name_taken(log, archive)),
    };
    let replaced = |named: &Path| {
        Error::internal(format!(
            "the audit log {} is not rotated: {} is no longer the file this rotation copied \
             the log's records to (another file was put at that name meanwhile): rotate again",
            log.display(),
            named.display()
        ))
    };
    let check = |named: &Path| match names_file(named, copy) {
        Ok(true) => Ok(()),
        Ok(false) => Err(replaced(named)),
        Err(e) => Err(super::io_err("reading", named, &e)),
    };
    check(partial)?;
    match std::fs::hard_link(partial, archive) {
        Ok(()) => check(archive),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => taken(),
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Err(e) => {
            use rustix::fs::{renameat_with, RenameFlags, CWD};
            match renameat_with(CWD, partial, CWD, archive, RenameFlags::NOREPLACE) {
                Ok(()) => check(archive),
                Err(rustix::io::Errno::EXIST) => taken(),
                Err(_) => Err(super::io_err("naming", partial, &e)),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Err(e) => Err(super::io_err("naming", partial, &e)),
    }
}

/// Removes a temporary file (at the path, open as the file) when dropped
/// (on every return, error or not), if the path still names that file
/// (another put there is not removed).
#[cfg(unix)]
struct RemoveOnDrop<'a>(&'a Path, &'a File);

#[cfg(unix)]
impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        if names_file(self.0, self.1).unwrap_or(false) {
            let _ = std::fs::remove_file(self.0);
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

/// The file that the audit log path `log` names when it is a symbolic
/// link, with every link resolved (`None` when it is not a link, or cannot
/// be looked at): a rotation archives such a log beside that file and
/// writes its next log as that file's [`rotating_path`], keeping the link.
/// `Some(Err)` when the link names nothing (dangling, a loop).
pub(crate) fn link_target(log: &Path) -> Option<std::io::Result<PathBuf>> {
    let link = std::fs::symlink_metadata(log).ok()?;
    link.file_type()
        .is_symlink()
        .then(|| std::fs::canonicalize(log))
}

/// `<log>.rotating`: the new log file while a rotation writes it.
pub(crate) fn rotating_path(log: &Path) -> PathBuf {
    crate::store::sidecar(log, ".rotating")
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
    /// 2. the file is streamed to `<archive>.partial` (created new, mode
    ///    0400, and `flock`ed under the lock, removed on every error before
    ///    it is unlocked, possibly after the log's lock is released; a
    ///    rotation that finds another's locked waits for it, holding no
    ///    lock, up to [`PARTIAL_WAIT`], and starts again, or fails naming
    ///    it) in 1 MiB pieces, hashed and
    ///    verified line by line: up to the end step 1 found *without* the
    ///    log's lock or the tail (appends write past that end, and go on
    ///    meanwhile), then, under them again, step 1 repeated on the same
    ///    file (another rotation committed meanwhile: start again) and what
    ///    was appended meanwhile copied, the whole checked against the
    ///    checkpoint then and synced; redundant copies of the segment removed; linked to
    ///    the archive name without replacing anything (a file there with
    ///    the same bytes is reused, any other refuses the rotation), the
    ///    directory synced;
    /// 3. the new file is written as `<log>.rotating` (its one line the
    ///    `RotateAuditLog` record chained after the last record), locked,
    ///    synced, and renamed over the log (the commit point: the old file
    ///    is unlinked, so every holder of it sees a link count of 0 under
    ///    its lock and reopens the path), the directory synced;
    /// 4. the checkpoint after the rotation record is stored (if that fails,
    ///    the next append or flush stores it: the rotation record continues
    ///    exactly from the stored checkpoint, which they accept).
    pub(crate) fn rotate(&self, caller: &RotationCaller<'_>) -> Result<AuditLogRotation> {
        self.rotate_at_least(caller, 0, PARTIAL_WAIT)?
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
        let rotated = super::refuse_unnamable_archives(&self.path).and_then(|()| {
            self.rotate_at_least(&caller, self.rotate_bytes, std::time::Duration::ZERO)
        });
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

    /// Under the log's lock, with `st` the locked file's: the path of the
    /// file a log reached through a symbolic link names, if it is one
    /// (`Some(None)` for a log that is not a link); `None` when the locked
    /// file is no longer the log (renamed over, or the link moved), the
    /// tail's cached file forgotten so that the caller opens the path
    /// again.
    ///
    /// A log reached through a symbolic link is rotated beside the file
    /// the link names (its archives there, the new file renamed over that
    /// file), so the link is kept and goes on naming the current log.
    fn locked_log(
        &self,
        tail: &mut super::AuditTail,
        st: super::LogStat,
    ) -> Result<Option<Option<PathBuf>>> {
        let resolved = match link_target(&self.path) {
            _ if st.nlink == 0 => None,
            None => Some(None),
            Some(Ok(p)) if super::LogStat::of_path(&p).map(|s| s.id) == Some(st.id) => {
                Some(Some(p))
            }
            Some(_) => None,
        };
        match &resolved {
            None => {
                tail.path_checked = None;
                tail.last = None;
            }
            Some(Some(p)) => super::refuse_unnamable_archives(p)?,
            Some(None) => {}
        }
        Ok(resolved)
    }

    /// Under the log's lock: the valid chain's end of the locked file `f`
    /// (`st` its state, `path` its path) synced and checkpointed, an
    /// invalid tail past it cut, as an append does.
    fn sync_end(
        &self,
        tail: &mut super::AuditTail,
        f: &File,
        st: super::LogStat,
        path: &Path,
    ) -> Result<StoredCheckpoint> {
        // Read under the lock: no checkpoint moves until it is released.
        let epoch = self.storage.change_counter()?;
        let cp = self.checkpoint(tail, epoch)?;
        let (end, len, id) = self.valid_end(f, st, cp, tail.last)?;
        if len > end.log_len {
            f.set_len(end.log_len)
                .map_err(|e| super::io_err("truncating", path, &e))?;
        }
        if end != cp {
            f.sync_data()
                .map_err(|e| super::io_err("syncing", path, &e))?;
            self.store_checkpoint(tail, end)?;
        }
        self.set_tail(tail, id, end);
        tail.unsynced_since = None;
        Ok(end)
    }

    /// [`rotate`](Self::rotate) when the log's valid chain ends at
    /// `min_len` bytes or more (after it is checkpointed); `None` otherwise
    /// or for a log without records.
    ///
    /// A `.partial` file of the same records found locked (another
    /// rotation copying them) is waited for up to `wait`
    /// ([`PARTIAL_WAIT`]; `ZERO` for the automatic rotation, which then
    /// fails this round), then the rotation starts again; past it, it
    /// fails naming the file.
    fn rotate_at_least(
        &self,
        caller: &RotationCaller<'_>,
        min_len: u64,
        wait: std::time::Duration,
    ) -> Result<Option<AuditLogRotation>> {
        use std::os::unix::fs::FileExt;
        let path = self.path.as_path();
        let io = |what: &str, p: &Path, e: std::io::Error| super::io_err(what, p, &e);
        for _ in 0..super::REOPEN_ATTEMPTS {
            // Phase 1, under the tail and the log's lock: the valid end
            // synced and checkpointed, the segment's temporary archive
            // file created and locked.
            let LockedLog {
                mut tail,
                file: f,
                st,
                resolved,
            } = self.lock_log()?;
            let lock = super::FileLock::adopt(&f);
            let Some(resolved) = resolved else {
                drop(lock);
                continue;
            };
            let path = resolved.as_deref().unwrap_or(path);
            let start = self.sync_end(&mut tail, &f, st, path)?;
            crate::test_hooks::rotation_step(1);
            if start.log_len == 0 || start.log_len < min_len {
                return Ok(None);
            }
            // The segment starts after the base the first line states
            // (the streamed pass below must find the same).
            let base = first_line(&f, start.log_len)
                .as_deref()
                .and_then(RotationClaim::of_line)
                .map_or_else(Checkpoint::genesis, |c| c.base());
            let first = base.count + 1;
            let partial = crate::store::sidecar(
                &audit_archive_path(path, first, start.checkpoint.count),
                ".partial",
            );
            if let Some((busy, busy_path)) = remove_stale_partials(path, first)? {
                // Another rotation of these records is copying them: wait
                // for it to end (its temporary file unlocked), up to
                // `wait`, then start again (one of the attempts), holding
                // no lock meanwhile.
                drop(lock);
                drop(tail);
                wait_for_partial(path, &busy, &busy_path, wait)?;
                continue;
            }
            // The archive: copied under a temporary name (created new,
            // read only from its creation, locked by this rotation,
            // removed on every error before it is unlocked), then named.
            // A live rotation's file at that name was waited for above
            // (they are created under this lock, so none appeared since);
            // anything else still there (a directory that could not be
            // removed) fails the rotation, removed by nobody.
            let a = create_new(&partial, 0o400).map_err(|e| io("creating", &partial, e))?;
            let temporary = RemoveOnDrop(&partial, &a);
            super::FileLock::acquire(&a, &partial)?.keep();
            drop(lock);
            drop(tail);
            // Phase 2, holding no lock: the records up to that end copied.
            // The log is only appended to past its valid end; a rotation
            // by another handle meanwhile is seen below.
            //
            // Only a file whose every record verifies, from the base its
            // first line states to the sealed checkpoint, is archived: a
            // rotation must not seal over an edited or dropped record (the
            // new file would verify clean). The file is streamed: read,
            // hashed, verified line by line and copied one piece at a
            // time, never held whole.
            let mut pass = LinePass::new(self.root.audit_key(), Some(start.checkpoint));
            copy_range(&mut pass, &f, path, &a, &partial, 0, start.log_len)?;
            // Most of the archive on disk before the lock is taken again.
            a.sync_data().map_err(|e| io("writing", &partial, e))?;
            crate::test_hooks::rotation_step(7);
            crate::test_hooks::rotation_copied();
            // Phase 3, under the tail and the log's lock again: what was
            // appended meanwhile copied, the archive verified and named, the
            // new file renamed over the log.
            let LockedLog {
                mut tail,
                file: f,
                st: st2,
                resolved: again,
            } = self.lock_log()?;
            let lock = super::FileLock::adopt(&f);
            if st2.id != st.id || again != Some(resolved.clone()) {
                // Rotated (or the link moved) meanwhile: start again.
                drop(lock);
                tail.path_checked = None;
                tail.last = None;
                continue;
            }
            let end = self.sync_end(&mut tail, &f, st2, path)?;
            if end.log_len < start.log_len {
                // Records the first pass copied are no longer in the file.
                return Err(log_not_intact(path, None));
            }
            copy_range(
                &mut pass,
                &f,
                path,
                &a,
                &partial,
                start.log_len,
                end.log_len,
            )?;
            let read = pass.finish();
            match read.end {
                Ok(state) if state == end.checkpoint => {}
                Ok(state) => return Err(log_not_intact(path, Some(state.count))),
                Err(e) if e.reason == ChainFault::Malformed(LINE_TOO_LONG) => {
                    return Err(line_too_long(path, e.index))
                }
                Err(e) => return Err(log_not_intact(path, Some(e.index))),
            }
            if read.len != end.log_len || read.base != base {
                // The file changed under the lock (shorter, or another
                // first line than the one the name was taken from).
                return Err(log_not_intact(path, None));
            }
            let last = end.checkpoint.count;
            if last <= base.count {
                return Ok(None);
            }
            let archive = audit_archive_path(path, first, last);
            a.sync_all().map_err(|e| io("writing", &partial, e))?;
            let sha256 = hex::encode(read.sha256);
            crate::test_hooks::rotation_step(2);
            remove_redundant_archives(path, first, &archive, &a, end.log_len);
            name_archive(path, &partial, &archive, &a, end.log_len)?;
            drop(temporary);
            drop(a);
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
            let nf = create_replacing(&tmp, 0o600).map_err(|e| io("creating", &tmp, e))?;
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
            tail.file = Some(nf);
            tail.path_checked = Some(std::time::Instant::now());
            return Ok(Some(AuditLogRotation {
                archive,
                first_record: first,
                last_record: last,
                bytes: end.log_len,
                sha256,
            }));
        }
        Err(gave_up(path, super::REOPEN_ATTEMPTS))
    }

    /// The log as a rotation's phase starts: under the tail (once no lock
    /// hold is kept between batches), the path opened afresh, locked, its
    /// stat taken (`LogStat`: length, link count, identity) and
    /// [`locked_log`](Self::locked_log) asked where it is. On return the
    /// file's lock is held: the caller takes it over at once
    /// ([`FileLock::adopt`](super::FileLock::adopt)), with nothing run in
    /// between (an early return there would leave the `flock` held until
    /// the file is closed).
    fn lock_log(&self) -> Result<LockedLog<'_>> {
        let path = self.path.as_path();
        let mut tail = self.lock_tail_free();
        tail.path_checked = None;
        let file = self
            .open(&mut tail, true)?
            .ok_or_else(|| super::io_err("opening", path, &std::io::ErrorKind::NotFound.into()))?;
        let lock = super::FileLock::acquire(&file, path)?;
        let st = super::LogStat::of(&file, path)?;
        let resolved = self.locked_log(&mut tail, st)?;
        lock.keep();
        Ok(LockedLog {
            tail,
            file,
            st,
            resolved,
        })
    }
}

/// What [`AuditSink::lock_log`](super::AuditSink) returns: the tail, the
/// log's file (locked), its stat, and what
/// [`locked_log`](super::AuditSink) found (`None`: the locked file is no
/// longer the log).
#[cfg(unix)]
struct LockedLog<'s> {
    tail: std::sync::MutexGuard<'s, super::AuditTail>,
    file: File,
    st: super::LogStat,
    resolved: Option<Option<PathBuf>>,
}

/// A rotation that gave up: the log changed under it (another handle or
/// process rotated or replaced it, its link moved, or another rotation of
/// the same records was waited for) before each of its `restarts` attempts
/// could finish. Nothing was archived; the caller can retry.
#[cfg(unix)]
fn gave_up(path: &Path, restarts: usize) -> Error {
    Error::new(
        strongroom_core::ErrorKind::KMSInvalidStateException,
        format!(
            "the audit log {} is not rotated: the rotation gave up after {restarts} attempts \
             because the log kept changing under it (rotated or replaced by other handles or \
             processes); nothing was archived: rotate again",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    //! The streamed pass ([`LinePass`]) against the whole-file reading it
    //! replaced (`utf8_lines`, `split_lines`, [`file_base`], [`verify_from`]):
    //! the same lines, base, result and SHA-256 whatever the pieces.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use strongroom_core::audit::{chain_line, Checkpoint};

    const KEY: &[u8] = b"chain key";

    /// Three chained lines, each with its newline.
    fn chained() -> Vec<u8> {
        let mut state = Checkpoint::genesis();
        let mut out = Vec::new();
        for i in 0..3 {
            let (line, next) = chain_line(
                KEY,
                &state,
                &serde_json::json!({ "eventName": "E", "n": i }),
            )
            .unwrap();
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
            state = next;
        }
        out
    }

    fn whole(
        bytes: &[u8],
    ) -> (
        Checkpoint,
        Option<String>,
        std::result::Result<Checkpoint, ChainError>,
    ) {
        let text = super::super::utf8_lines(bytes.to_vec());
        let lines = super::super::split_lines(&text);
        let (base, _) = file_base(&lines);
        let end = verify_from(&lines, KEY, base, None);
        (base, lines.first().map(|l| (*l).to_owned()), end)
    }

    #[test]
    fn any_pieces_give_what_the_whole_file_gave() {
        let good = chained();
        let mut cases = vec![Vec::new(), good.clone(), b"\n".to_vec()];
        cases.push(good[..good.len() - 1].to_vec()); // no final newline
        cases.push([&good[..], b"\n"].concat()); // an empty last line
        cases.push([&good[..], b"x"].concat()); // a torn last line
        let mut bad = good.clone();
        bad[40] = 0xff; // not UTF-8 in record 0
        cases.push(bad);
        let mut bad = good.clone();
        let second = good.iter().position(|&b| b == b'\n').unwrap() + 30;
        bad[second] ^= 1; // an edited byte in record 1
        cases.push(bad);
        for bytes in &cases {
            let (base, first, end) = whole(bytes);
            for step in [1, 2, 7, 100, bytes.len().max(1)] {
                let mut pass = LinePass::new(KEY, None);
                for piece in bytes.chunks(step) {
                    pass.feed(piece);
                }
                let got = pass.finish();
                assert_eq!(got.end, end, "{step}: {:?}", String::from_utf8_lossy(bytes));
                assert_eq!(got.base, base);
                if end.is_ok() {
                    assert_eq!(got.first_line, first);
                    assert_eq!(got.len, bytes.len() as u64);
                    assert_eq!(
                        got.sha256[..],
                        strongroom_core::crypto::digest::DigestAlgorithm::Sha256.digest(bytes)[..]
                    );
                }
            }
        }
    }

    /// A line longer than [`LINE_MAX`] is a fault at its record, and what is
    /// held stays bounded (fed without a newline, piece after piece).
    #[test]
    fn an_over_long_line_is_a_fault_not_an_allocation() {
        let good = chained();
        let mut pass = LinePass::new(KEY, None);
        pass.feed(&good);
        let piece = vec![b'a'; PIECE];
        let mut fed = 0;
        while !pass.failed() {
            pass.feed(&piece);
            fed += PIECE;
            assert!(pass.carry.len() <= LINE_MAX);
            assert!(fed <= LINE_MAX + PIECE, "never refused");
        }
        let end = pass.finish().end.unwrap_err();
        assert_eq!(end.index, 3);
        assert_eq!(end.reason, ChainFault::Malformed(LINE_TOO_LONG));
    }
}
