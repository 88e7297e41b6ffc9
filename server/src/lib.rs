#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod cli;
pub mod ops;
pub mod sigv4;
pub mod wire;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use strongroom::Keystore;
use tokio::net::TcpListener;

pub use sigv4::Credentials;
pub use wire::WireError;

/// Default request body limit: 1 MiB (KMS's largest request, a 32 KiB policy
/// or a 6 KiB ciphertext blob in base64, is far below it).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;

/// The most bytes a TLS PEM file (`--tls-cert`, `--tls-key`) or the
/// credentials file (`--credentials`) is read to: 1 MiB. A certificate
/// chain of ten 4096-bit RSA certificates in PEM is under 20 KiB, and a
/// credentials file of a thousand access keys about 200 KiB.
pub const MAX_SERVER_FILE: usize = 1 << 20;

/// How requests are authenticated.
#[derive(Debug)]
pub enum Auth {
    /// AWS Signature Version 4 against these credentials; the access key's
    /// principal is the caller.
    SigV4(Credentials),
    /// No authentication at all: every request is accepted and acts as the
    /// keystore's administrator. For local tests only; never expose it.
    InsecureNoAuth,
}

/// PEM files of the TLS certificate chain and private key.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Settings of the endpoint.
#[derive(Debug)]
pub struct ServerConfig {
    /// Authentication mode.
    pub auth: Auth,
    /// TLS, or plain HTTP when `None`.
    pub tls: Option<TlsFiles>,
    /// Largest accepted request body in bytes; larger ones get HTTP 413.
    pub max_body_bytes: usize,
    /// Time limit for a client to send a request's body once its headers
    /// are in: past it the answer is HTTP 408 `RequestTimeoutException` and
    /// the connection is closed. It does not bound the operation itself:
    /// once it starts, the answer is its own outcome (an operation that may
    /// still commit is never answered with a failure).
    pub request_timeout: Duration,
    /// Time limit for a client to send a request's headers.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    /// Defaults (1 MiB bodies, 30 s per operation, 10 s for headers, 10 s grace) with `auth`.
    pub fn new(auth: Auth) -> Self {
        ServerConfig {
            auth,
            tls: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

struct AppState {
    keystore: Keystore,
    auth: Auth,
    max_body_bytes: usize,
    request_timeout: Duration,
    next_request: AtomicU64,
    epoch: u64,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The response body over `json`'s own buffer, not a copy: the buffer is
/// zeroized when hyper drops the last reference, after writing it to the
/// socket (see `ops::ResponseBody` and "Plaintext in responses" in
/// `server/README.md`).
fn zeroizing_body(json: ops::ResponseBody) -> Body {
    Body::from(Bytes::from_owner(json))
}

fn json_response(status: StatusCode, request_id: &str, body: ops::ResponseBody) -> Response {
    let mut r = (status, zeroizing_body(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(wire::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(request_id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

fn error_response(e: &WireError, request_id: &str) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(
        status,
        request_id,
        zeroize::Zeroizing::new(e.body().into_bytes()),
    )
}

/// The router: `POST /` (KMS operations) and `GET /health`; every other
/// method on them is HTTP 405 and every other path HTTP 404, each with a
/// JSON error body as AWS answers errors (`__type`, `message`).
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", post(kms).fallback(method_not_allowed))
        .route("/health", get(health).fallback(method_not_allowed))
        .fallback(not_found)
        .with_state(state)
}

/// Another method than the one a served path takes: HTTP 405 with the
/// `Allow` header (RFC 9110, section 15.5.6) and a JSON error body
/// (`UnknownOperationException`, as for an unknown path), not axum's empty
/// one.
async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let (allow, served) = if uri.path() == "/health" {
        ("GET, HEAD", "GET /health")
    } else {
        ("POST", "POST / (KMS operations)")
    };
    let mut r = error_response(
        &WireError::new(
            405,
            "UnknownOperationException",
            format!("{method} {} is not served: only {served}", uri.path()),
        ),
        "",
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

async fn health() -> Response {
    let mut r = (StatusCode::OK, r#"{"status":"ok"}"#).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn not_found() -> Response {
    error_response(
        &WireError::new(
            404,
            "UnknownOperationException",
            "only POST / (KMS operations) and GET /health are served",
        ),
        "",
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the request has the header `name` more than once.
fn repeated(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(name).iter().nth(1).is_some()
}

/// The operation name of `X-Amz-Target`, after the content type is checked.
/// Either header given twice is refused, as a second `X-Amz-Security-Token`
/// is ([`sigv4`]), rather than the first value taken: the request does not
/// say which one it means. The exception is the one the header's other
/// faults get: `UnknownOperationException` for `X-Amz-Target` (missing,
/// unknown), `SerializationException` for `Content-Type` (not JSON).
fn operation(headers: &HeaderMap) -> Result<String, WireError> {
    if repeated(headers, "x-amz-target") {
        return Err(WireError::unknown_operation(
            "more than one X-Amz-Target header",
        ));
    }
    let target = header_str(headers, "x-amz-target").ok_or_else(|| {
        WireError::unknown_operation("missing X-Amz-Target header (TrentService.<Operation>)")
    })?;
    let op = target
        .strip_prefix(ops::TARGET_PREFIX)
        .ok_or_else(|| WireError::unknown_operation(format!("unknown operation {target}")))?;
    if repeated(headers, "content-type") {
        return Err(WireError::serialization(format!(
            "more than one Content-Type header: send one, {}",
            wire::CONTENT_TYPE
        )));
    }
    match header_str(headers, "content-type") {
        Some(ct) if is_json_content_type(ct) => Ok(op.to_string()),
        Some(_) | None => Err(WireError::serialization(format!(
            "Content-Type must be {}",
            wire::CONTENT_TYPE
        ))),
    }
}

/// Whether a `Content-Type` value is a media type of the AWS JSON protocol:
/// `application/x-amz-json-1.1` (what AWS SDKs send for KMS) or
/// `application/x-amz-json-1.0`, compared without regard to case (RFC 9110,
/// section 8.3.1), with or without parameters (`; charset=utf-8`). Another
/// media type that merely starts with one of them
/// (`application/x-amz-json-1.10`) is not one.
fn is_json_content_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    [wire::CONTENT_TYPE, "application/x-amz-json-1.0"]
        .iter()
        .any(|t| media.eq_ignore_ascii_case(t))
}

/// The most of a declared `Content-Length` that [`read_body`] reserves
/// before any of the body has arrived: a client declaring the limit (1 MiB)
/// and sending nothing, on many connections, would otherwise hold that much
/// memory per connection, before authentication.
const FIRST_BODY_RESERVATION: usize = 64 * 1024;

/// The request body, collected into one buffer that is zeroized when
/// dropped: it carries base64 plaintext (Encrypt, GenerateMac, Sign) and
/// wrapped key material. The buffer grows by copying into a new zeroizing
/// one (never by `realloc`, which would free the old bytes unwiped), as the
/// bytes arrive: it starts at the declared `Content-Length` up to
/// [`FIRST_BODY_RESERVATION`] and doubles, never past the declared length
/// or the limit. The chunks hyper reads
/// from the socket are its own and are not wiped (`docs/THREAT-MODEL.md`).
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<zeroize::Zeroizing<Vec<u8>>, WireError> {
    use http_body_util::BodyExt;
    let too_large = || {
        WireError::new(
            413,
            "ValidationException",
            format!("the request body exceeds {limit} bytes"),
        )
    };
    let declared = header_str(headers, "content-length").and_then(|l| l.parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit as u64) {
        drain(body, limit).await;
        return Err(too_large());
    }
    // Within the limit (checked above) when given.
    let declared = declared.and_then(|l| usize::try_from(l).ok());
    let ceiling = declared.unwrap_or(limit).min(limit);
    let first = declared.unwrap_or(0).min(FIRST_BODY_RESERVATION);
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(first));
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| WireError::serialization("the request body was truncated"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let needed = out.len().checked_add(data.len()).filter(|&n| n <= limit);
        let Some(needed) = needed else {
            drain(body, limit).await;
            return Err(too_large());
        };
        if needed > out.capacity() {
            let grown = out.capacity().saturating_mul(2).min(ceiling).max(needed);
            let mut bigger = zeroize::Zeroizing::new(Vec::with_capacity(grown));
            bigger.extend_from_slice(&out);
            out = bigger;
        }
        out.extend_from_slice(&data);
    }
    Ok(out)
}

/// Reads and discards a too-large body (up to 16 times the limit, for at
/// most 5 s) so that the client, still sending, reads the 413 answer instead
/// of a connection reset.
async fn drain(body: Body, limit: usize) {
    use http_body_util::BodyExt;
    let cap = limit.saturating_mul(16);
    let mut body = body;
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen += data.len();
                if seen > cap {
                    break;
                }
            }
        }
    })
    .await;
}

fn authenticate(
    auth: &Auth,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<Option<String>, WireError> {
    let creds = match auth {
        Auth::InsecureNoAuth => return Ok(None),
        Auth::SigV4(c) => c,
    };
    // A value with a byte that is not visible ASCII (obs-text, 0x80-0xFF)
    // has no &str: it is never dropped silently, the request is refused if
    // the header counts for authentication.
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(parts.headers.len());
    let mut opaque: Vec<&str> = Vec::new();
    for (n, v) in &parts.headers {
        match v.to_str() {
            Ok(v) => headers.push((n.as_str(), v)),
            Err(_) => opaque.push(n.as_str()),
        }
    }
    sigv4::refuse_opaque_headers(&headers, &opaque)?;
    // HTTP/1.1 always carries Host; keep it even if the map lost it.
    let authority;
    if !parts.headers.contains_key(header::HOST) {
        if let Some(a) = parts.uri.authority() {
            authority = a.to_string();
            headers.push(("host", &authority));
        }
    }
    let req = sigv4::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body,
    };
    creds.verify(&req, now_secs()).map(Some)
}

async fn kms(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let n = state.next_request.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("{:016x}-{n:016x}", state.epoch);
    let (parts, body) = req.into_parts();
    // Client-controlled: logged, but bounded.
    let target: String = header_str(&parts.headers, "x-amz-target")
        .unwrap_or("")
        .chars()
        .take(96)
        .collect();
    let result = handle(&state, parts, body).await;
    let (response, principal, code) = match result {
        Ok((body, principal)) => (
            json_response(StatusCode::OK, &request_id, body),
            principal,
            "",
        ),
        Err((e, principal)) => (error_response(&e, &request_id), principal, e.code),
    };
    tracing::info!(
        request_id = %request_id,
        target = %target,
        principal = principal.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        error = code,
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

type Handled = Result<(ops::ResponseBody, Option<String>), (WireError, Option<String>)>;

async fn handle(state: &Arc<AppState>, parts: axum::http::request::Parts, body: Body) -> Handled {
    // A body that stops arriving would otherwise hold the connection and
    // its task for as long as the client keeps the socket open.
    let bytes = tokio::time::timeout(
        state.request_timeout,
        read_body(body, &parts.headers, state.max_body_bytes),
    )
    .await
    .map_err(|_elapsed| {
        let secs = state.request_timeout.as_secs();
        let e = format!("the request body did not arrive within {secs} s");
        (WireError::new(408, "RequestTimeoutException", e), None)
    })?
    .map_err(|e| (e, None))?;
    let principal = authenticate(&state.auth, &parts, &bytes).map_err(|e| (e, None))?;
    let op = operation(&parts.headers).map_err(|e| (e, principal.clone()))?;
    if !ops::is_known(&op) {
        return Err((
            WireError::unknown_operation(format!("unknown operation TrentService.{op}")),
            principal,
        ));
    }
    let mut ks = keystore_for(&state.keystore, principal.as_deref());
    if let Some(Peer(peer)) = parts.extensions.get::<Peer>() {
        ks = ks.with_source_ip(peer.ip());
    }
    // No timeout from here on: a blocking task cannot be cancelled, so an
    // operation answered "timed out" could still commit, and KMS clients
    // retry a 500 believing nothing changed (a second key, a deletion
    // believed failed). The answer waits for the operation's own outcome;
    // an operation waiting for the keystore's write lock gives up with an
    // error of its own after the storage's busy timeout (30 s), changing
    // nothing.
    let task = tokio::task::spawn_blocking(move || ops::dispatch(&ks, &op, &bytes));
    match task.await {
        Ok(Ok(body)) => Ok((body, principal)),
        Ok(Err(e)) => Err((e, principal)),
        Err(_join) => Err((
            WireError::new(500, "KMSInternalException", "the operation failed"),
            principal,
        )),
    }
}

/// The TCP peer of a request's connection, set by [`serve`]: key policies
/// see its address as `aws:SourceIp` ([`Keystore::with_source_ip`]). The
/// address is the socket's, not a `X-Forwarded-For` header (which any client
/// can write); behind a proxy it is the proxy's.
#[derive(Clone, Copy, Debug)]
struct Peer(SocketAddr);

/// The keystore acting as `principal` (the SigV4 access key's), or as the
/// administrator in `--insecure-no-auth` mode.
fn keystore_for(ks: &Keystore, principal: Option<&str>) -> Keystore {
    match principal {
        Some(p) => ks.as_principal(p),
        None => ks.clone(),
    }
}

/// The TLS acceptor of `files`: both read with the options' cap
/// ([`MAX_SERVER_FILE`], 1 MiB), the chain leaf first.
///
/// # Errors
/// `ValidationException` naming the file that is missing, unreadable,
/// longer than 1 MiB, holds no certificate or no private key, or does not
/// fit the other; `KMSInternalException` if the TLS library offers no
/// protocol version of its safe defaults.
fn load_tls(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, strongroom::Error> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use strongroom::Error;
    let read = |path: &std::path::Path| {
        strongroom::files::read_file_capped(
            path,
            MAX_SERVER_FILE,
            "more than a TLS certificate chain or key takes",
        )
        .map(zeroize::Zeroizing::new)
    };
    let cert_pem = read(&files.cert)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            Error::validation(format!(
                "cannot read certificates from {}: {e}",
                files.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(Error::validation(format!(
            "no certificate in {}",
            files.cert.display()
        )));
    }
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        Error::validation(format!(
            "cannot read the private key from {}: {e}",
            files.key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::validation(format!("TLS certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `keystore` on `listener` until `shutdown` resolves, then stops
/// accepting, lets requests in flight finish (up to `shutdown_grace`) and returns.
///
/// # Errors
/// The TLS files' errors, before anything is served: `ValidationException`
/// naming the file that is missing, unreadable, longer than 1 MiB
/// ([`MAX_SERVER_FILE`]), holds no certificate or no private key, or does
/// not fit the other; `KMSInternalException` if the TLS library offers no
/// protocol version of its safe defaults.
pub async fn serve(
    keystore: Keystore,
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), strongroom::Error> {
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    serve_with(keystore, config, tls, listener, shutdown).await;
    Ok(())
}

/// [`serve`] with the TLS acceptor already loaded.
async fn serve_with(
    keystore: Keystore,
    config: ServerConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) {
    let state = Arc::new(AppState {
        keystore,
        auth: config.auth,
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
        next_request: AtomicU64::new(0),
        epoch: now_secs(),
    });
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut app = app.clone();
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(Peer(peer));
                async move {
                    use tower::Service;
                    app.call(req).await
                }
            });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_timeout = config.header_read_timeout;
        tokio::spawn(async move {
            let result =
                match tls {
                    None => {
                        watcher
                            .watch(http.serve_connection(TokioIo::new(stream), service))
                            .await
                    }
                    Some(acceptor) => {
                        let stream =
                            match tokio::time::timeout(handshake_timeout, acceptor.accept(stream))
                                .await
                            {
                                Ok(Ok(s)) => s,
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => return,
                            };
                        watcher
                            .watch(http.serve_connection(TokioIo::new(stream), service))
                            .await
                    }
                };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for requests in flight");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(config.shutdown_grace) => tracing::warn!("grace period over; closing"),
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Loads the TLS files (if any), binds `addr`, prints `listening on
/// <scheme>://<addr>` to standard output (so that a caller that asked for
/// port 0 learns the port, and a supervisor that the server is up: the line
/// comes only once the TLS files are loaded and the address is bound), and
/// serves until SIGTERM or SIGINT, on a multi-threaded tokio runtime.
///
/// # Errors
/// `ValidationException` naming the TLS file that cannot be loaded
/// (missing, unreadable, longer than 1 MiB, not a certificate chain or a
/// key that fits it); `KMSInternalException` if the address cannot be bound,
/// the runtime cannot start or the TLS library offers no protocol version of
/// its safe defaults. Nothing is printed then.
pub fn run(
    keystore: Keystore,
    config: ServerConfig,
    addr: SocketAddr,
) -> Result<(), strongroom::Error> {
    let tls = config.tls.as_ref().map(load_tls).transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| strongroom::Error::internal(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| strongroom::Error::internal(format!("cannot listen on {addr}: {e}")))?;
        let local = listener.local_addr().map_err(|e| {
            strongroom::Error::internal(format!("cannot read the bound address: {e}"))
        })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        if matches!(config.auth, Auth::InsecureNoAuth) {
            tracing::warn!("--insecure-no-auth: requests are NOT authenticated; local tests only");
        }
        tracing::info!(address = %local, scheme, "listening");
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on {scheme}://{local}");
            let _ = out.flush();
        }
        serve_with(keystore, config, tls, listener, shutdown_signal()).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A declared `Content-Length` of 1 MiB reserved 1 MiB before any of
    /// the body arrived (or authentication): now at most 64 KiB, the rest
    /// as the bytes arrive, never past the declared length.
    #[tokio::test]
    async fn a_declared_length_is_reserved_as_the_body_arrives() {
        let limit = DEFAULT_MAX_BODY_BYTES;
        let declaring = |n: usize| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            h
        };
        let nothing = read_body(Body::empty(), &declaring(limit), limit)
            .await
            .unwrap();
        assert_eq!(nothing.capacity(), FIRST_BODY_RESERVATION);
        let small = read_body(Body::from(vec![b' '; 10]), &declaring(10), limit)
            .await
            .unwrap();
        assert_eq!((small.len(), small.capacity()), (10, 10));
        let whole = read_body(Body::from(vec![b' '; limit]), &declaring(limit), limit)
            .await
            .unwrap();
        assert_eq!((whole.len(), whole.capacity()), (limit, limit));
        // Undeclared (chunked): grown as it arrives, up to the limit.
        let chunked = read_body(Body::from(vec![b' '; 1000]), &HeaderMap::new(), limit)
            .await
            .unwrap();
        assert_eq!(chunked.len(), 1000);
    }

    #[test]
    fn content_types_are_media_types_not_prefixes() {
        for ok in [
            "application/x-amz-json-1.1",
            "application/x-amz-json-1.0",
            "application/x-amz-json-1.1; charset=utf-8",
            "application/x-amz-json-1.1;charset=UTF-8",
            "Application/X-Amz-Json-1.1",
            "APPLICATION/X-AMZ-JSON-1.0 ; q=1",
        ] {
            assert!(is_json_content_type(ok), "{ok}");
        }
        for refused in [
            "application/x-amz-json-1.10",
            "application/x-amz-json-1.1garbage",
            "application/x-amz-json-1.1x; charset=utf-8",
            "application/json",
            "application/x-amz-json",
            "",
            ";application/x-amz-json-1.1",
        ] {
            assert!(!is_json_content_type(refused), "{refused}");
        }
    }
}
