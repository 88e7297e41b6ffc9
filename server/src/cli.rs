//! The `strongroom serve` subcommand: its options and the start-up that the
//! `strongroom` binary delegates to.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use strongroom::{Error, Keystore};

use crate::{Auth, Credentials, ServerConfig, TlsFiles};

/// Options of `strongroom serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port, printed on standard output).
    #[arg(long, default_value = "127.0.0.1:4599")]
    pub listen: SocketAddr,
    /// JSON credentials file for SigV4:
    /// `{"credentials":[{"access_key_id":..,"secret_access_key":..,"principal":"arn:aws:iam::..."}]}`;
    /// an entry with `"session_token"` requires that token (signed) in `X-Amz-Security-Token`.
    /// Read strictly: an unknown field or an access key ID given twice stops the server.
    /// At most 1 MiB, as each TLS file.
    #[arg(
        long,
        env = "STRONGROOM_CREDENTIALS_FILE",
        required_unless_present = "insecure_no_auth"
    )]
    pub credentials: Option<PathBuf>,
    /// Accept unauthenticated requests, acting as the administrator.
    /// FOR LOCAL TESTS ONLY: anyone who reaches the port can use every key.
    /// Refused unless --listen is a loopback address.
    #[arg(long, conflicts_with = "credentials")]
    pub insecure_no_auth: bool,
    /// TLS certificate chain (PEM); with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = crate::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Time limit, in seconds, for a client to send a request's body (the
    /// operation itself is not cut short: its outcome is the answer).
    #[arg(long, default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Log format on standard error.
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Log level: error, warn, info, debug.
    #[arg(long, default_value = "info")]
    pub log_level: tracing::Level,
}

/// Log formats.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Text,
}

/// Runs `strongroom serve` on an opened keystore until SIGTERM or SIGINT.
///
/// # Errors
/// `ValidationException` naming the credentials or TLS file that is
/// missing, unreadable, longer than 1 MiB or malformed, for a credentials
/// file without credentials, or for `--insecure-no-auth` on an address
/// that is not loopback; `KMSInternalException` for an address in use.
/// Each before `listening on` is printed.
pub fn serve(keystore: Keystore, args: &ServeArgs) -> Result<(), strongroom::Error> {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log_level)
        .with_ansi(false);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
    let auth = match (&args.credentials, args.insecure_no_auth) {
        (_, true) if !args.listen.ip().is_loopback() => {
            return Err(Error::validation(format!(
                "--insecure-no-auth serves only loopback addresses, not {}",
                args.listen
            )))
        }
        (_, true) => Auth::InsecureNoAuth,
        (Some(path), false) => {
            warn_if_readable_by_others(path);
            let c = Credentials::load(path)?;
            if c.is_empty() {
                return Err(Error::validation(format!(
                    "{}: no credentials",
                    path.display()
                )));
            }
            Auth::SigV4(c)
        }
        (None, false) => {
            return Err(Error::validation(
                "either --credentials FILE or --insecure-no-auth is required",
            ))
        }
    };
    let mut config = ServerConfig::new(auth);
    config.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    config.max_body_bytes = args.max_body_bytes;
    config.request_timeout = Duration::from_secs(args.request_timeout_secs.max(1));
    crate::run(keystore, config, args.listen)
}

/// The credentials file holds secret access keys: say so if others can read it.
fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path) {
            if m.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the credentials file is readable by other users; chmod 600 it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
