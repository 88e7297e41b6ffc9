//! JSON (the AWS CLI's default shape) and text (tab-separated) output.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use strongroom::Error;

use crate::OutputFormat;

/// Set once a write to stdout failed with EPIPE (the reader went away).
static BROKEN_PIPE: AtomicBool = AtomicBool::new(false);
/// Set once writing an operation's output (stdout or an output file)
/// failed otherwise than by a closed pipe.
static OUTPUT_FAILED: AtomicBool = AtomicBool::new(false);
/// Set once `--outfile -` claimed stdout for raw bytes.
static STDOUT_RAW: AtomicBool = AtomicBool::new(false);

/// Whether a write to stdout found the pipe closed; the command then exits
/// quietly with status 141 (128 + SIGPIPE, as a process killed by SIGPIPE).
pub fn broken_pipe() -> bool {
    BROKEN_PIPE.load(Ordering::Relaxed)
}

/// Whether writing the command's output failed ([`not_written`]): the
/// operation itself had succeeded.
pub fn output_failed() -> bool {
    OUTPUT_FAILED.load(Ordering::Relaxed)
}

/// Marks the failure `e` to write the output of an operation that
/// succeeded ([`output_failed`]), and returns it.
pub fn not_written(e: Error) -> Error {
    OUTPUT_FAILED.store(true, Ordering::Relaxed);
    e
}

/// Writes `bytes` to stdout and flushes. A closed pipe (EPIPE) is not an
/// error: it is recorded ([`broken_pipe`]) and later output is dropped.
///
/// # Errors
/// `KMSInternalException` for other write failures.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Error> {
    if broken_pipe() {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            BROKEN_PIPE.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(not_written(Error::internal(format!(
            "cannot write to stdout: {e}"
        )))),
    }
}

/// A writer to stdout (`-o -` of `encrypt-file` / `decrypt-file`) that
/// records EPIPE ([`broken_pipe`]), so that the command ends quietly
/// instead of reporting the failed write.
#[derive(Debug)]
pub struct NoteBrokenPipe<W>(pub W);

impl<W: Write> Write for NoteBrokenPipe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        note_broken_pipe(self.0.write(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        note_broken_pipe(self.0.flush())
    }
}

fn note_broken_pipe<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            BROKEN_PIPE.store(true, Ordering::Relaxed);
        }
    }
    r
}

/// Writes raw bytes for `--outfile -`; the JSON response is then not
/// printed, so that stdout holds only those bytes.
///
/// # Errors
/// As [`write_stdout`].
pub fn write_raw_stdout(bytes: &[u8]) -> Result<(), Error> {
    STDOUT_RAW.store(true, Ordering::Relaxed);
    write_stdout(bytes)
}

/// Prints `v` to stdout in `format`. `null` (operations with no response
/// body) prints nothing, as the AWS CLI does; nor does anything print once
/// `--outfile -` has written raw bytes to stdout.
pub fn print(format: OutputFormat, v: &Value) -> Result<(), Error> {
    if v.is_null() || STDOUT_RAW.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut s = match format {
        OutputFormat::Json => {
            serde_json::to_string_pretty(v).map_err(|e| Error::internal(e.to_string()))?
        }
        OutputFormat::Text => {
            let mut lines = Vec::new();
            text(None, v, &mut lines);
            if lines.is_empty() {
                return Ok(());
            }
            lines.join("\n")
        }
    };
    s.push('\n');
    write_stdout(s.as_bytes())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True".into() } else { "False".into() }),
        Value::Null => Some("None".into()),
        _ => None,
    }
}

/// The AWS CLI's text layout: an object's scalars on one tab-separated line
/// (prefixed by its upper-cased name when nested), nested values after it.
fn text(name: Option<&str>, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            let scalars: Vec<String> = map.values().filter_map(scalar).collect();
            if !scalars.is_empty() {
                let mut line = Vec::new();
                if let Some(n) = name {
                    line.push(n.to_uppercase());
                }
                line.extend(scalars);
                out.push(line.join("\t"));
            }
            for (k, child) in map {
                if scalar(child).is_none() {
                    text(Some(k), child, out);
                }
            }
        }
        Value::Array(items) => {
            if items.iter().all(|i| scalar(i).is_some()) {
                let mut line = vec![name.unwrap_or("").to_uppercase()];
                line.extend(items.iter().filter_map(scalar));
                out.push(line.join("\t"));
            } else {
                for i in items {
                    text(name, i, out);
                }
            }
        }
        other => out.push(scalar(other).unwrap_or_default()),
    }
}

/// Prints audit records as a table: time, event, principal, key, error.
///
/// # Errors
/// As [`write_stdout`].
pub fn print_audit_table(records: &[Value]) -> Result<(), Error> {
    let s = |r: &Value, p: &str| {
        r.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let mut table = format!(
        "{:<20}  {:<32}  {:<44}  {:<36}  ERROR\n",
        "TIME", "EVENT", "PRINCIPAL", "KEY"
    );
    for r in records {
        let key = r
            .pointer("/resources/0/ARN")
            .and_then(Value::as_str)
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
            .unwrap_or_else(|| "-".into());
        table.push_str(&format!(
            "{:<20}  {:<32}  {:<44}  {:<36}  {}\n",
            s(r, "/eventTime"),
            s(r, "/eventName"),
            // A service event (DeleteKey, RotateKey, DeleteExpiredKeyMaterial)
            // has no caller: who invoked it ("AWS Internal").
            r.pointer("/userIdentity/arn")
                .or_else(|| r.pointer("/userIdentity/invokedBy"))
                .and_then(Value::as_str)
                .unwrap_or("-"),
            key,
            s(r, "/errorCode")
        ));
    }
    write_stdout(table.as_bytes())
}

/// PEM text (RFC 7468) of a DER document: base64 in 64-character lines
/// between `-----BEGIN {label}-----` and `-----END {label}-----`.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
