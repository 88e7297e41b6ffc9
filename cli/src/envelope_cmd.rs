//! `encrypt-file` and `decrypt-file`: envelope encryption of files and
//! streams in the AWS Encryption SDK message format (the logic is in
//! `strongroom::envelope`; this is argument handling, I/O plumbing and the
//! progress bar).

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};
use strongroom::core::envelope::{
    check_max_encrypted_data_keys as check_max_edks, CommitmentPolicy, DecryptOptions,
    EncryptOptions, Keyring, MultiKeyring, RawAesKeyring,
};
use strongroom::envelope::{self as env, header_json, EnvelopeSummary, KmsKeyring};
use strongroom::{Error, Keystore};

use crate::input::parse_context;

/// Inputs at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_THRESHOLD: u64 = 8 * 1024 * 1024;

/// A raw AES wrapping key for interoperability with the ESDKs' raw AES keyring.
#[derive(Args, Debug)]
pub struct RawAesArgs {
    /// File holding a raw AES wrapping key for the ESDK raw AES keyring:
    /// its 16, 24 or 32 bytes, or its hex (32, 48 or 64 digits; white space
    /// around them ignored); usable with or without --key-id. Hex text
    /// 16, 24 or 32 bytes long (32 digits without a newline) is refused as
    /// ambiguous: end hex with a newline.
    #[arg(long)]
    raw_aes_key_file: Option<PathBuf>,
    /// Key namespace (provider ID) of the raw AES key.
    #[arg(long, default_value = "strongroom-raw")]
    raw_key_namespace: String,
    /// Key name of the raw AES key.
    #[arg(long, default_value = "raw-aes-key")]
    raw_key_name: String,
}

/// `encrypt-file` arguments.
#[derive(Args, Debug)]
pub struct EncryptFileArgs {
    /// Input file, or `-` for standard input.
    #[arg(short = 'i', long)]
    pub(crate) input: String,
    /// KMS key (ID, ARN, alias name or alias ARN); repeat for several keys.
    /// The first generates the data key, every one can decrypt.
    #[arg(long)]
    key_id: Vec<String>,
    /// Encryption context: `k=v,k2=v2` or a JSON object.
    #[arg(long)]
    encryption_context: Option<String>,
    /// Plaintext bytes per frame, 1 to 268435456 (256 MiB, the largest frame
    /// a streaming decryptor buffers by default); default 4096.
    #[arg(long)]
    frame_length: Option<u32>,
    /// `0x0578` (signed, default) or `0x0478`, or the ESDK suite name.
    #[arg(long)]
    algorithm_suite: Option<String>,
    /// REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default), REQUIRE_ENCRYPT_ALLOW_DECRYPT
    /// or FORBID_ENCRYPT_ALLOW_DECRYPT.
    #[arg(long)]
    commitment_policy: Option<String>,
    /// Fail if the message would have more encrypted data keys than this,
    /// 1 to 65535 (0: ValidationException before any KMS call, as the AWS
    /// Encryption SDKs refuse it); default: no limit.
    #[arg(long)]
    max_encrypted_data_keys: Option<u16>,
    /// Grant tokens (at most 10) sent with each KMS call of the keyring.
    #[arg(long, num_args = 1..)]
    grant_tokens: Vec<String>,
    #[command(flatten)]
    raw: RawAesArgs,
}

/// `decrypt-file` arguments.
#[derive(Args, Debug)]
pub struct DecryptFileArgs {
    /// Input message file, or `-` for standard input.
    #[arg(short = 'i', long)]
    pub(crate) input: String,
    /// Only these KMS keys may decrypt (strict); default: any key of the keystore.
    #[arg(long)]
    key_id: Vec<String>,
    /// Pairs that must be in the message's encryption context: `k=v,...` or JSON.
    #[arg(long)]
    required_context: Option<String>,
    /// REQUIRE_ENCRYPT_REQUIRE_DECRYPT (default), REQUIRE_ENCRYPT_ALLOW_DECRYPT
    /// or FORBID_ENCRYPT_ALLOW_DECRYPT.
    #[arg(long)]
    commitment_policy: Option<String>,
    /// Refuse messages with more encrypted data keys than this (default 10:
    /// each one the keyring tries may cost a Decrypt call), 1 to 65535;
    /// 65535 accepts any message, as the AWS Encryption SDKs do by default.
    /// 0 is a ValidationException before the input is read, as the AWS
    /// Encryption SDKs refuse it.
    #[arg(long)]
    max_encrypted_data_keys: Option<u16>,
    /// The largest frame (or non-framed body), in bytes, the decryption
    /// buffers: 1 to 4294967295, default 268435456 (256 MiB, the largest
    /// frame length Strongroom writes). A message with larger frames
    /// (another writer's) is refused with LimitExceededException once its
    /// header is read.
    #[arg(long)]
    max_frame_buffer: Option<u64>,
    /// Print the (unauthenticated) header — suite, encryption context, EDK
    /// providers and key ARNs, frame length — without decrypting.
    #[arg(long)]
    show_header: bool,
    /// Accept only unsigned algorithm suites (0x0478, 0x0178), as the AWS
    /// Encryption CLI's `--decrypt-unsigned`: a signed message is refused
    /// (ValidationException) once its header is read, before any data key
    /// is unwrapped; to standard output each frame is written once it
    /// authenticates.
    #[arg(long)]
    decrypt_unsigned: bool,
    /// Grant tokens (at most 10) sent with each KMS call of the keyring.
    #[arg(long, num_args = 1..)]
    grant_tokens: Vec<String>,
    #[command(flatten)]
    raw: RawAesArgs,
}

/// The global settings the envelope commands need.
pub struct Ctx<'a> {
    /// Output path (`-o`), `-` for standard output.
    pub output: Option<&'a str>,
    /// Opens the keystore (only when a KMS key is involved).
    pub open: &'a dyn Fn() -> Result<Keystore, Error>,
}

fn parse_policy(s: &Option<String>) -> Result<CommitmentPolicy, Error> {
    s.as_deref()
        .map_or(Ok(CommitmentPolicy::default()), str::parse)
}

fn raw_keyring(raw: &RawAesArgs) -> Result<Option<RawAesKeyring>, Error> {
    let Some(path) = &raw.raw_aes_key_file else {
        return Ok(None);
    };
    let bytes = zeroize::Zeroizing::new(crate::input::read_option_file(path)?);
    let key = if matches!(bytes.len(), 16 | 24 | 32) {
        refuse_hex_as_raw(path, &bytes)?;
        bytes
    } else {
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        zeroize::Zeroizing::new(hex_decode(&text).ok_or_else(|| {
            Error::validation("a raw AES key file holds 16, 24 or 32 raw bytes, or hex")
        })?)
    };
    RawAesKeyring::new(&raw.raw_key_namespace, &raw.raw_key_name, &key).map(Some)
}

/// Refuses a raw AES key file of a key's length (16, 24 or 32 bytes) that
/// is hex text: hex digits, with white space only around them (what the
/// hex reading takes). Read as raw bytes, such text — the 32 digits of an
/// AES-128 key written without a line end (`printf %s`) — silently became
/// an AES-256 key of ASCII characters, under which nothing else decrypts.
/// A random 16-byte key is all hex digits with a chance of about 2^-56.
fn refuse_hex_as_raw(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let text = bytes.trim_ascii();
    if text.is_empty() || !text.iter().all(u8::is_ascii_hexdigit) {
        return Ok(());
    }
    let n = bytes.len();
    if text.len() != n {
        // Digits and white space already: the advice below (add a line
        // end) would not help; the digits are not a key in hex.
        return Err(Error::validation(format!(
            "the raw AES key file {} holds {n} bytes: {} hex digits and white space, \
             neither a key's raw bytes nor a key in hex (32, 48 or 64 hex digits)",
            path.display(),
            text.len()
        )));
    }
    let spelled = if n == 32 && text.len() == 32 {
        " (32 hex digits spell a 16-byte AES-128 key)"
    } else {
        ""
    };
    Err(Error::validation(format!(
        "the raw AES key file {} holds {n} bytes of hex text{spelled}: \
         refused as ambiguous. For a key in hex, end the file with a newline \
         (printf '%s\\n' HEX > FILE); for a raw key, write its own bytes (xxd -r -p), \
         or its hex if those characters are the key (xxd -p -c 32 FILE)",
        path.display()
    )))
}

/// Hex text (either case), or `None`: digits only (`u8::from_str_radix`
/// alone would also take a sign, `+f`).
fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The keyring of the command: KMS keys (strict) and/or a raw AES key;
/// with neither, a discovery KMS keyring when `discovery` is allowed.
/// The KMS keyring carries `grant_tokens`.
fn keyring(
    ctx: &Ctx<'_>,
    key_ids: &[String],
    grant_tokens: &[String],
    raw: &RawAesArgs,
    discovery: bool,
) -> Result<Box<dyn Keyring>, Error> {
    let raw = raw_keyring(raw)?;
    let kms = if !key_ids.is_empty() {
        Some(KmsKeyring::new(&(ctx.open)()?, key_ids)?)
    } else if raw.is_none() && discovery {
        Some(KmsKeyring::discovery(&(ctx.open)()?))
    } else if !grant_tokens.is_empty() {
        return Err(Error::validation(
            "--grant-tokens applies to KMS keys: give --key-id",
        ));
    } else {
        None
    };
    let kms: Option<Box<dyn Keyring>> = match kms {
        Some(k) => Some(Box::new(k.with_grant_tokens(grant_tokens.to_vec())?)),
        None => None,
    };
    match (kms, raw) {
        (Some(k), None) => Ok(k),
        (None, Some(r)) => Ok(Box::new(r)),
        (Some(k), Some(r)) => Ok(Box::new(MultiKeyring::new(Some(k), vec![Box::new(r)])?)),
        (None, None) => Err(Error::validation(
            "give at least one --key-id (or --raw-aes-key-file)",
        )),
    }
}

/// The input as a reader, with a progress bar on a terminal for large files.
fn open_input(input: &str, label: &str) -> Result<(Box<dyn Read>, ProgressBar), Error> {
    if input == "-" {
        return Ok((Box::new(io::stdin().lock()), ProgressBar::hidden()));
    }
    let f = File::open(input).map_err(|e| env::path_error("cannot open", Path::new(input), &e))?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        // Opened, but every read fails (EISDIR): the argument's fault.
        return Err(Error::validation(format!(
            "the input {input} is a directory"
        )));
    }
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let pb = if io::stderr().is_terminal() && len >= PROGRESS_THRESHOLD {
        let pb = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            pb.set_style(style.progress_chars("=> "));
        }
        pb.set_message(label.to_string());
        pb
    } else {
        ProgressBar::hidden()
    };
    let reader: Box<dyn Read> =
        Box::new(pb.wrap_read(io::BufReader::with_capacity(env::FILE_BUFFER_LEN, f)));
    Ok((reader, pb))
}

fn output_path<'a>(ctx: &Ctx<'a>) -> Result<&'a str, Error> {
    match ctx.output {
        None => Err(Error::validation(
            "-o/--output is required (a file, or - for stdout)",
        )),
        // `--output json|text` selects the response format of the other
        // commands; here it names a file, so refuse the likely mistake.
        Some(o) if o.eq_ignore_ascii_case("json") || o.eq_ignore_ascii_case("text") => {
            Err(Error::validation(format!(
                "-o/--output is the output file here; to write a file named '{o}', use ./{o}"
            )))
        }
        Some(o) => Ok(o),
    }
}

fn summary_json(s: &EnvelopeSummary, out: &str) -> Value {
    let mut v = header_json(&s.header);
    if let Value::Object(m) = &mut v {
        m.insert("Output".into(), json!(out));
        m.insert("PlaintextBytes".into(), json!(s.plaintext_len));
        m.insert("MessageBytes".into(), json!(s.message_len));
    }
    v
}

fn print(v: &Value) -> Result<(), Error> {
    crate::output::print(crate::OutputFormat::Json, v)
}

/// Runs the stream `f` into a buffered writer to stdout (`-o -`), then
/// flushes what it wrote (for a failed unsigned decryption, the frames
/// authenticated before the failure). `None` when stdout was closed, which
/// ends the command quietly (exit 141), but only if the closed pipe is why
/// `f` failed, if it did: a write that finds the pipe closed fails the
/// stream with that write's error. An error `f` met before any write found
/// the pipe closed (a failed authentication, a KMS error) is returned even
/// if the final flush then finds it closed, so that the command exits 1
/// with that error.
fn to_stdout<T>(f: impl FnOnce(&mut dyn Write) -> Result<T, Error>) -> Result<Option<T>, Error> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::with_capacity(
        env::FILE_BUFFER_LEN,
        crate::output::NoteBrokenPipe(stdout.lock()),
    );
    let result = f(&mut w);
    let closed_during = crate::output::broken_pipe();
    let _ = w.flush();
    drop(w);
    match result {
        Err(e) if !closed_during => Err(e),
        _ if crate::output::broken_pipe() => Ok(None),
        r => r.map(Some),
    }
}

/// Refuses `--max-encrypted-data-keys 0` before any input is read or KMS
/// called, saying what leaving the option out means for this command
/// (`if_left_out`): the library's message cannot, the default differing.
fn check_max_encrypted_data_keys(max: Option<u16>, if_left_out: &str) -> Result<(), Error> {
    check_max_edks(max).map_err(|_| {
        Error::validation(format!(
            "the limit on encrypted data keys cannot be less than 1: \
             --max-encrypted-data-keys is 1 to 65535, or leave it out for {if_left_out}"
        ))
    })
}

/// `encrypt-file`.
pub fn encrypt_file(ctx: &Ctx<'_>, a: &EncryptFileArgs) -> Result<(), Error> {
    check_max_encrypted_data_keys(a.max_encrypted_data_keys, "no limit")?;
    let out = output_path(ctx)?;
    let keyring = keyring(ctx, &a.key_id, &a.grant_tokens, &a.raw, false)?;
    let context = a
        .encryption_context
        .as_deref()
        .map(parse_context)
        .transpose()?
        .unwrap_or_default();
    let mut options = EncryptOptions {
        commitment_policy: parse_policy(&a.commitment_policy)?,
        max_encrypted_data_keys: a.max_encrypted_data_keys,
        ..EncryptOptions::default()
    };
    if let Some(s) = &a.algorithm_suite {
        options.suite = s.parse()?;
    }
    if let Some(f) = a.frame_length {
        options.frame_length = f;
    }
    let (mut reader, pb) = open_input(&a.input, "encrypting")?;
    let stdout = crate::is_stdout(Path::new(out));
    let result = if stdout {
        to_stdout(|w| env::encrypt_stream(&*keyring, &mut reader, w, &context, &options))
    } else {
        env::encrypt_to_path(&*keyring, &mut reader, Path::new(out), &context, &options).map(Some)
    };
    pb.finish_and_clear();
    let Some(s) = result? else {
        // The reader of stdout went away: main exits quietly with 141.
        return Ok(());
    };
    if !stdout {
        print(&summary_json(&s, out))?;
    }
    Ok(())
}

/// `decrypt-file`.
pub fn decrypt_file(ctx: &Ctx<'_>, a: &DecryptFileArgs) -> Result<(), Error> {
    check_max_encrypted_data_keys(
        a.max_encrypted_data_keys,
        "the default of 10 (65535 accepts any message)",
    )?;
    let mut options = DecryptOptions {
        commitment_policy: parse_policy(&a.commitment_policy)?,
        max_encrypted_data_keys: a
            .max_encrypted_data_keys
            .or(DecryptOptions::default().max_encrypted_data_keys),
        required_encryption_context: a
            .required_context
            .as_deref()
            .map(parse_context)
            .transpose()?
            .unwrap_or_default(),
        ..DecryptOptions::default()
    };
    options.set_max_frame_buffer(a.max_frame_buffer)?;
    if a.show_header {
        let (mut reader, _) = open_input(&a.input, "reading")?;
        let h = env::read_header(&mut reader, options.max_header_length)?;
        return print(&header_json(&h));
    }
    let out = output_path(ctx)?;
    let keyring = keyring(ctx, &a.key_id, &a.grant_tokens, &a.raw, true)?;
    let (mut reader, pb) = open_input(&a.input, "decrypting")?;
    let stdout = crate::is_stdout(Path::new(out));
    let result = if stdout {
        // Signed suites are staged in a temporary file until the signature
        // verifies (decrypt_stream); unsigned ones stream frame by frame.
        to_stdout(|w| {
            if a.decrypt_unsigned {
                env::decrypt_stream_unsigned_only(&*keyring, &mut reader, w, &options)
            } else {
                env::decrypt_stream(&*keyring, &mut reader, w, &options)
            }
        })
    } else if a.decrypt_unsigned {
        env::decrypt_to_path_unsigned_only(&*keyring, &mut reader, Path::new(out), &options)
            .map(Some)
    } else {
        env::decrypt_to_path(&*keyring, &mut reader, Path::new(out), &options).map(Some)
    };
    pb.finish_and_clear();
    let Some(s) = result? else {
        // The reader of stdout went away: main exits quietly with 141.
        return Ok(());
    };
    if !stdout {
        print(&summary_json(&s, out))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
        ))]

        /// A raw AES key file's hex: arbitrary text never panics, and what
        /// decodes is hex digits only, the bytes' one spelling up to case;
        /// every key's hex decodes to it.
        #[test]
        fn raw_key_hex(text in "\\PC{0,40}|[0-9a-fA-F+ -]{0,40}", key in proptest::collection::vec(any::<u8>(), 0..33)) {
            if let Some(b) = hex_decode(&text) {
                let lower: String = b.iter().map(|x| format!("{x:02x}")).collect();
                prop_assert_eq!(lower, text.to_ascii_lowercase());
            }
            let hex: String = key.iter().map(|x| format!("{x:02X}")).collect();
            prop_assert_eq!(hex_decode(&hex), Some(key));
        }
    }
}
