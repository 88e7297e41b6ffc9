//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) verification and signing
//! of requests, as described in the AWS IAM user guide ("Create a signed AWS
//! API request"): canonical request, string to sign, signing key derived
//! from the secret access key, date, region and service.
//!
//! Only the `Authorization` header form is accepted (no presigned query
//! strings); the service in the credential scope must be `kms`; the region
//! may be any; `X-Amz-Date` must be within [`MAX_CLOCK_SKEW_SECS`] of the
//! server's clock.
//!
//! Session tokens (`X-Amz-Security-Token`, sent with temporary credentials)
//! are checked, never ignored: an access key configured with a session
//! token requires exactly that token in a signed `x-amz-security-token`
//! header, and a request with a token for an access key configured without
//! one is refused.

use std::collections::HashMap;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use strongroom::core::time;
use strongroom::{Error, Secret};
use subtle::ConstantTimeEq;

use crate::wire::WireError;

/// The largest accepted difference between `X-Amz-Date` and the server's clock (15 minutes, as AWS).
pub const MAX_CLOCK_SKEW_SECS: u64 = 15 * 60;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "kms";

/// One entry of the credentials file. An unknown field is an error (a
/// misspelt `session_token` must not turn temporary credentials into
/// long-term ones).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialEntry {
    access_key_id: String,
    secret_access_key: String,
    principal: String,
    #[serde(default)]
    session_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    credentials: Vec<CredentialEntry>,
}

struct Credential {
    secret: Secret,
    principal: String,
    session_token: Option<Secret>,
}

/// Access key IDs with their secret access keys and the principal (an IAM
/// ARN such as `arn:aws:iam::000000000000:user/alice`) each one acts as.
///
/// The file format is JSON:
/// `{"credentials": [{"access_key_id": "...", "secret_access_key": "...", "principal": "arn:..."}]}`;
/// an entry may add `"session_token": "..."` (temporary credentials: every
/// request with that access key must carry that token, signed, in
/// `X-Amz-Security-Token`).
pub struct Credentials {
    by_id: HashMap<String, Credential>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_keys", &self.by_id.len())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// An empty set (every signed request is refused).
    pub fn new() -> Self {
        Credentials {
            by_id: HashMap::new(),
        }
    }

    /// Adds one access key (long-term: requests with it carry no session
    /// token).
    pub fn insert(&mut self, access_key_id: &str, secret_access_key: &str, principal: &str) {
        self.insert_entry(access_key_id, secret_access_key, principal, None);
    }

    /// Adds one access key of temporary credentials: requests with it must
    /// carry `session_token` in a signed `X-Amz-Security-Token` header.
    pub fn insert_with_session_token(
        &mut self,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
        principal: &str,
    ) {
        self.insert_entry(
            access_key_id,
            secret_access_key,
            principal,
            Some(session_token),
        );
    }

    fn insert_entry(
        &mut self,
        access_key_id: &str,
        secret_access_key: &str,
        principal: &str,
        session_token: Option<&str>,
    ) {
        self.by_id.insert(
            access_key_id.to_string(),
            Credential {
                secret: Secret::new(secret_access_key.as_bytes().to_vec()),
                principal: principal.to_string(),
                session_token: session_token.map(|t| Secret::new(t.as_bytes().to_vec())),
            },
        );
    }

    /// Parses the JSON credentials document.
    ///
    /// # Errors
    /// `ValidationException` naming what is wrong (never a secret):
    /// malformed JSON, an unknown field, an empty access key ID or secret,
    /// an access key ID given twice, a principal that is not an ARN, a
    /// session token that is empty or not visible ASCII (a space, a control
    /// character or a byte over 0x7E: no HTTP client sends it back
    /// unchanged).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let invalid = |what: String| Error::validation(format!("credentials file: {what}"));
        let file: CredentialsFile =
            serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut c = Credentials::new();
        for e in file.credentials {
            if e.access_key_id.is_empty() || e.secret_access_key.is_empty() {
                return Err(invalid("empty access key ID or secret".into()));
            }
            if c.by_id.contains_key(&e.access_key_id) {
                return Err(invalid(format!(
                    "access key ID {} is given twice",
                    e.access_key_id
                )));
            }
            if let Some(t) = &e.session_token {
                if t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(invalid(format!(
                        "session_token of {} must be non-empty visible ASCII \
                         (no spaces, control characters or non-ASCII bytes)",
                        e.access_key_id
                    )));
                }
            }
            // The rules every call applies to its caller (a grantee's).
            if let Err(err) = strongroom::core::access::check_caller(&e.principal) {
                return Err(invalid(format!(
                    "principal of {}: {}",
                    e.access_key_id,
                    err.message()
                )));
            }
            c.insert_entry(
                &e.access_key_id,
                &e.secret_access_key,
                &e.principal,
                e.session_token.as_deref(),
            );
        }
        Ok(c)
    }

    /// Reads and parses a credentials file of at most
    /// [`MAX_SERVER_FILE`](crate::MAX_SERVER_FILE) bytes (1 MiB).
    ///
    /// # Errors
    /// `ValidationException` naming the file when it is missing, cannot be
    /// read (a directory), is longer than 1 MiB or is not UTF-8; those of
    /// [`from_json`](Self::from_json).
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bytes = zeroize::Zeroizing::new(strongroom::files::read_file_capped(
            path,
            crate::MAX_SERVER_FILE,
            "more than a credentials file holds",
        )?);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            Error::validation(format!("cannot read {}: it is not UTF-8", path.display()))
        })?;
        Self::from_json(text)
    }

    /// Number of access keys.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are no access keys.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Self::new()
    }
}

/// The parts of an HTTP request that the signature covers.
#[derive(Debug)]
pub struct RequestParts<'a> {
    /// `POST`, `GET`, …
    pub method: &'a str,
    /// The path as sent (already percent-encoded), e.g. `/`.
    pub path: &'a str,
    /// The raw query string, without `?` (empty if none).
    pub query: &'a str,
    /// Every header as (name, value); names in any case.
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body.
    pub body: &'a [u8],
}

impl RequestParts<'_> {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .collect()
    }
}

/// Refuses a request with a header whose value is not visible ASCII
/// (`opaque`: names of the headers whose value has a byte outside 0x20-0x7E
/// and tab) if that header is `authorization`, an `x-amz-*` header, or one
/// the `Authorization` header in `headers` lists in `SignedHeaders`: such a
/// header can be neither checked nor signed as sent, and leaving it out
/// would hide it (a second `X-Amz-Security-Token`, a token sent unsigned).
/// Other headers play no part in authentication.
///
/// # Errors
/// `IncompleteSignatureException` naming the header.
pub fn refuse_opaque_headers(headers: &[(&str, &str)], opaque: &[&str]) -> Result<(), WireError> {
    if opaque.is_empty() {
        return Ok(());
    }
    let signed: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .filter_map(|(_, v)| parse_auth_header(v).ok())
        .flat_map(|a| a.signed_headers)
        .collect();
    let counts = |name: &str| {
        let lower = name.to_ascii_lowercase();
        lower == "authorization" || lower.starts_with("x-amz-") || signed.contains(&lower.as_str())
    };
    match opaque.iter().find(|n| counts(n)) {
        Some(name) => Err(incomplete(&format!(
            "the value of the {name} header must be visible ASCII"
        ))),
        None => Ok(()),
    }
}

struct AuthHeader<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(msg: &str) -> WireError {
    WireError::auth(400, "IncompleteSignatureException", msg)
}

fn parse_auth_header(value: &str) -> Result<AuthHeader<'_>, WireError> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| incomplete("Authorization header must use AWS4-HMAC-SHA256"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(incomplete(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(
            "Credential must have the form <AccessKeyId>/<date>/<region>/<service>/aws4_request",
        ));
    };
    if terminator != "aws4_request" || date.len() != 8 || region.is_empty() {
        return Err(incomplete("malformed credential scope"));
    }
    Ok(AuthHeader {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

/// `YYYYMMDD'T'HHMMSS'Z'` of Unix seconds (core's
/// [`time::format_amz_date`]).
pub fn format_amz_date(secs: u64) -> String {
    // Unix seconds past i64 (292 billion years) are past any clock.
    time::format_amz_date(i64::try_from(secs).unwrap_or(i64::MAX))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail.
    let mut m = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 asks.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Canonical path: each segment percent-encoded once more after decoding
/// (non-S3 services normalize and encode the path).
fn canonical_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(|seg| uri_encode(&percent_decode(seg)))
        .collect::<Vec<_>>()
        .join("/")
}

fn collapse_spaces(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The SigV4 canonical request of `req` for the (lowercase, sorted) `signed_headers`.
pub fn canonical_request(req: &RequestParts<'_>, signed_headers: &[&str]) -> String {
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_path(req.path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = req
            .header_values(name)
            .iter()
            .map(|v| collapse_spaces(v))
            .collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&sha256_hex(req.body));
    out
}

fn signature(
    secret: &[u8],
    date: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    canonical: &str,
) -> String {
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut k = b"AWS4".to_vec();
    k.extend_from_slice(secret);
    let k_date = hmac(&k, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex::encode(hmac(&k_signing, string_to_sign.as_bytes()))
}

impl Credentials {
    /// Verifies the SigV4 `Authorization` header of `req` at Unix time `now`
    /// and returns the principal of the access key.
    ///
    /// # Errors
    /// `MissingAuthenticationTokenException` (no `Authorization` header),
    /// `IncompleteSignatureException` (malformed header, missing
    /// `X-Amz-Date`, a required header not signed: `host`, `x-amz-date`, and
    /// `x-amz-target` when the request has one), `UnrecognizedClientException`
    /// (unknown access key; a session token that is not the access key's,
    /// missing where it has one or present where it has none: checked
    /// before the signature, as AWS does),
    /// `InvalidSignatureException` (wrong signature, wrong service or date
    /// in the scope, clock skew over 15 minutes). A session token must be
    /// a signed header (`IncompleteSignatureException`), and is never taken
    /// from the query string.
    pub fn verify(&self, req: &RequestParts<'_>, now: u64) -> Result<String, WireError> {
        let auth = req.header_values("authorization");
        let auth = match auth[..] {
            [] => {
                return Err(WireError::auth(
                    400,
                    "MissingAuthenticationTokenException",
                    "Missing Authentication Token",
                ))
            }
            [one] => parse_auth_header(one)?,
            _ => return Err(incomplete("more than one Authorization header")),
        };
        let amz_date = match req.header_values("x-amz-date")[..] {
            [d] => d,
            _ => {
                return Err(incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header",
                ))
            }
        };
        let Ok(t) = time::parse_amz_date(amz_date) else {
            // AWS's text for a date it cannot read.
            return Err(incomplete(&format!(
                "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )));
        };
        for required in ["host", "x-amz-date"] {
            if !auth.signed_headers.contains(&required) {
                return Err(incomplete(&format!("'{required}' must be a signed header")));
            }
        }
        // The operation comes from X-Amz-Target: unsigned, a captured body
        // could be replayed as another operation. AWS SDKs always sign it.
        if !req.header_values("x-amz-target").is_empty()
            && !auth.signed_headers.contains(&"x-amz-target")
        {
            return Err(incomplete("'x-amz-target' must be a signed header"));
        }
        let sorted = auth.signed_headers.windows(2).all(|w| w[0] < w[1]);
        if !sorted
            || auth
                .signed_headers
                .iter()
                .any(|h| h.is_empty() || h.bytes().any(|c| c.is_ascii_uppercase()))
        {
            return Err(incomplete(
                "SignedHeaders must be lowercase, sorted and unique",
            ));
        }
        let Some(cred) = self.by_id.get(auth.access_key_id) else {
            return Err(WireError::auth(
                400,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        };
        if auth.service != SERVICE {
            return Err(WireError::auth(
                400,
                "InvalidSignatureException",
                &format!("Credential should be scoped to correct service: '{SERVICE}'."),
            ));
        }
        if !amz_date.starts_with(auth.date) {
            return Err(WireError::auth(
                400,
                "InvalidSignatureException",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP",
            ));
        }
        if t.abs_diff(i64::try_from(now).unwrap_or(i64::MAX)) > MAX_CLOCK_SKEW_SECS {
            return Err(WireError::auth(
                400,
                "InvalidSignatureException",
                &format!(
                    "Signature expired: {amz_date} is now earlier or later than {} (15 minutes of skew allowed)",
                    format_amz_date(now)
                ),
            ));
        }
        // As AWS: an invalid security token is UnrecognizedClientException
        // whatever the signature.
        check_session_token(cred, req, &auth.signed_headers)?;
        let canonical = canonical_request(req, &auth.signed_headers);
        let expected = signature(
            cred.secret.expose_secret(),
            auth.date,
            auth.region,
            auth.service,
            amz_date,
            &canonical,
        );
        if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
            return Err(WireError::auth(
                400,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
            ));
        }
        Ok(cred.principal.clone())
    }
}

/// The session token rule: the request's `X-Amz-Security-Token` (a signed
/// header, at most one) must be the credential's session token, and absent
/// when the credential has none. The tokens are compared as SHA-256
/// digests, in constant time: neither the content nor the length of the
/// configured token shows in the time taken.
fn check_session_token(
    cred: &Credential,
    req: &RequestParts<'_>,
    signed_headers: &[&str],
) -> Result<(), WireError> {
    let invalid = || {
        WireError::auth(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    };
    let in_query = req.query.split('&').any(|p| {
        let name = p.split('=').next().unwrap_or("");
        percent_decode(name).eq_ignore_ascii_case("x-amz-security-token")
    });
    if in_query {
        return Err(incomplete(
            "X-Amz-Security-Token must be sent as a signed header, not in the query string",
        ));
    }
    let sent = match req.header_values("x-amz-security-token")[..] {
        [] => None,
        [one] => Some(one),
        _ => return Err(incomplete("more than one X-Amz-Security-Token header")),
    };
    if sent.is_some() && !signed_headers.contains(&"x-amz-security-token") {
        return Err(incomplete("'x-amz-security-token' must be a signed header"));
    }
    match (&cred.session_token, sent) {
        (None, None) => Ok(()),
        (Some(want), Some(got))
            if bool::from(
                Sha256::digest(want.expose_secret())
                    .as_slice()
                    .ct_eq(Sha256::digest(got.trim().as_bytes()).as_slice()),
            ) =>
        {
            Ok(())
        }
        _ => Err(invalid()),
    }
}

/// Signs a request the way an AWS SDK does: returns the `X-Amz-Date` and
/// `Authorization` header values. `headers` must contain `host`; `x-amz-date`
/// is added. Used by the load generator and tests.
pub fn sign(
    access_key_id: &str,
    secret_access_key: &str,
    region: &str,
    req: &RequestParts<'_>,
    now: u64,
) -> (String, String) {
    let amz_date = format_amz_date(now);
    let date = &amz_date[..8];
    let mut headers = req.headers.clone();
    headers.push(("x-amz-date", &amz_date));
    let lower: Vec<(String, &str)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), *v))
        .collect();
    let mut names: Vec<&str> = lower.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let parts = RequestParts {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: lower.iter().map(|(n, v)| (n.as_str(), *v)).collect(),
        body: req.body,
    };
    let canonical = canonical_request(&parts, &names);
    let sig = signature(
        secret_access_key.as_bytes(),
        date,
        region,
        SERVICE,
        &amz_date,
        &canonical,
    );
    let auth = format!(
        "{ALGORITHM} Credential={access_key_id}/{date}/{region}/{SERVICE}/aws4_request, SignedHeaders={}, Signature={sig}",
        names.join(";")
    );
    (amz_date, auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `X-Amz-Date` is read by core's `time::parse_amz_date`: a day past
    /// the month's end, a second 60 and a date before 1970 are not read as
    /// another instant (they were, as 2 or 3 March, the next minute, and a
    /// time of 1 January 1970).
    #[test]
    fn dates_round_trip() {
        assert_eq!(time::parse_amz_date("20150830T123600Z"), Ok(1_440_938_160));
        assert_eq!(format_amz_date(1_440_938_160), "20150830T123600Z");
        for t in [0, 951_782_400, 1_709_164_799, 4_102_444_800] {
            assert_eq!(time::parse_amz_date(&format_amz_date(t)), Ok(t as i64));
        }
        assert_eq!(format_amz_date(u64::MAX), format_amz_date(i64::MAX as u64));
    }

    /// A date that is not a real one is IncompleteSignatureException (it
    /// was read as another date and, at that time, went on to the
    /// signature); one before 1970 is expired (it was read as a time of 1
    /// January 1970).
    #[test]
    fn impossible_dates_are_refused_before_the_signature() {
        for (date, now, code, message) in [
            // Read as 2 March 2024 and as 00:01:00.
            (
                "20240231T000000Z",
                1_709_337_600,
                "IncompleteSignatureException",
                "Date must be in ISO-8601 'basic format'. Got '20240231T000000Z'.",
            ),
            (
                "20240301T000060Z",
                1_709_251_260,
                "IncompleteSignatureException",
                "Date must be in ISO-8601 'basic format'. Got '20240301T000060Z'.",
            ),
            // Read as 1970-01-01T23:59:59Z.
            (
                "19691231T235959Z",
                86_399,
                "InvalidSignatureException",
                "expired",
            ),
        ] {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential=AKID/{}/us-east-1/kms/aws4_request, \
                 SignedHeaders=host;x-amz-date;x-amz-target, Signature=00",
                &date[..8]
            );
            let e = verify(date, &auth, b"{}", now).unwrap_err();
            assert_eq!(e.code, code, "{date}: {}", e.message);
            assert!(e.message.contains(message), "{date}: {}", e.message);
        }
    }

    /// The worked example of the AWS SigV4 documentation (IAM ListUsers, GET
    /// with a query string, secret `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`).
    #[test]
    fn aws_documented_example() {
        let req = RequestParts {
            method: "GET",
            path: "/",
            query: "Action=ListUsers&Version=2010-05-08",
            headers: vec![
                (
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                ),
                ("host", "iam.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            body: b"",
        };
        let names = ["content-type", "host", "x-amz-date"];
        let canonical = canonical_request(&req, &names);
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        let sig = signature(
            b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
            "20150830T123600Z",
            &canonical,
        );
        assert_eq!(
            sig,
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    fn creds() -> Credentials {
        let mut c = Credentials::new();
        c.insert("AKID", "secret", "arn:aws:iam::000000000000:user/alice");
        c
    }

    fn signed(body: &'static [u8], now: u64) -> (String, String) {
        let req = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("host", "127.0.0.1:1"),
                ("x-amz-target", "TrentService.ListKeys"),
            ],
            body,
        };
        sign("AKID", "secret", "us-east-1", &req, now)
    }

    fn verify(date: &str, auth: &str, body: &[u8], now: u64) -> Result<String, WireError> {
        let req = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("Host", "127.0.0.1:1"),
                ("X-Amz-Target", "TrentService.ListKeys"),
                ("X-Amz-Date", date),
                ("Authorization", auth),
            ],
            body,
        };
        creds().verify(&req, now)
    }

    #[test]
    fn sign_then_verify() {
        let now = 1_700_000_000;
        let (d, a) = signed(b"{}", now);
        assert_eq!(
            verify(&d, &a, b"{}", now).map_err(|e| e.code),
            Ok("arn:aws:iam::000000000000:user/alice".into())
        );
        assert_eq!(
            verify(&d, &a, b"{ }", now).unwrap_err().code,
            "InvalidSignatureException"
        );
        assert_eq!(
            verify(&d, &a, b"{}", now + 901).unwrap_err().code,
            "InvalidSignatureException"
        );
        assert!(verify(&d, &a, b"{}", now + 899).is_ok());
        let other = a.replace("AKID/", "NOPE/");
        assert_eq!(
            verify(&d, &other, b"{}", now).unwrap_err().code,
            "UnrecognizedClientException"
        );
        // X-Amz-Target left out of SignedHeaders: refused before the
        // signature is computed, whatever the signature says.
        let unsigned_target = a.replace("host;x-amz-date;x-amz-target", "host;x-amz-date");
        assert_eq!(
            verify(&d, &unsigned_target, b"{}", now).unwrap_err().code,
            "IncompleteSignatureException"
        );
        assert_eq!(
            verify(&d, "AWS4-HMAC-SHA256 Credential=AKID", b"{}", now)
                .unwrap_err()
                .code,
            "IncompleteSignatureException"
        );
        let iam = a.replace("/kms/", "/iam/");
        assert_eq!(
            verify(&d, &iam, b"{}", now).unwrap_err().code,
            "InvalidSignatureException"
        );
    }

    /// Signs and verifies a request with `token` (if any) as a header, signed
    /// or not, against credentials where AKID has `configured` (if any).
    fn with_token(
        configured: Option<&str>,
        token: Option<&str>,
        sign_token: bool,
        query: &str,
    ) -> Result<String, WireError> {
        let now = 1_700_000_000;
        let mut c = Credentials::new();
        match configured {
            Some(t) => c.insert_with_session_token(
                "AKID",
                "secret",
                t,
                "arn:aws:iam::000000000000:user/tmp",
            ),
            None => c.insert("AKID", "secret", "arn:aws:iam::000000000000:user/tmp"),
        }
        let mut headers = vec![
            ("host", "127.0.0.1:1"),
            ("x-amz-target", "TrentService.ListKeys"),
        ];
        if let (Some(t), true) = (token, sign_token) {
            headers.push(("x-amz-security-token", t));
        }
        let unsigned = RequestParts {
            method: "POST",
            path: "/",
            query,
            headers: headers.clone(),
            body: b"{}",
        };
        let (date, auth) = sign("AKID", "secret", "us-east-1", &unsigned, now);
        if let (Some(t), false) = (token, sign_token) {
            headers.push(("x-amz-security-token", t));
        }
        headers.push(("x-amz-date", &date));
        headers.push(("authorization", &auth));
        let req = RequestParts {
            method: "POST",
            path: "/",
            query,
            headers,
            body: b"{}",
        };
        c.verify(&req, now)
    }

    #[test]
    fn session_tokens_are_checked_not_ignored() {
        let code = |r: Result<String, WireError>| r.map_err(|e| e.code);
        assert!(with_token(Some("tok"), Some("tok"), true, "").is_ok());
        assert!(with_token(None, None, true, "").is_ok());
        let refused = [
            // a token for a long-term key, a wrong token, none where one is due
            (None, Some("tok"), true, "", "UnrecognizedClientException"),
            (
                Some("tok"),
                Some("tok2"),
                true,
                "",
                "UnrecognizedClientException",
            ),
            (
                Some("tok"),
                Some("to"),
                true,
                "",
                "UnrecognizedClientException",
            ),
            (Some("tok"), None, true, "", "UnrecognizedClientException"),
            // the right token, but outside the signature
            (
                Some("tok"),
                Some("tok"),
                false,
                "",
                "IncompleteSignatureException",
            ),
            (None, Some("tok"), false, "", "IncompleteSignatureException"),
            (
                Some("tok"),
                None,
                true,
                "X-Amz-Security-Token=tok",
                "IncompleteSignatureException",
            ),
        ];
        for (configured, token, signed, query, want) in refused {
            assert_eq!(
                code(with_token(configured, token, signed, query)),
                Err(want),
                "{configured:?} {token:?} signed={signed} {query}"
            );
        }
    }

    /// A wrong token is UnrecognizedClientException before the signature
    /// is looked at, as AWS answers.
    #[test]
    fn a_wrong_token_is_refused_before_the_signature() {
        let now = 1_700_000_000;
        let mut c = Credentials::new();
        c.insert_with_session_token("AKID", "secret", "tok", "arn:aws:iam::000000000000:user/t");
        let mut headers = vec![
            ("host", "127.0.0.1:1"),
            ("x-amz-target", "TrentService.ListKeys"),
            ("x-amz-security-token", "wrong"),
        ];
        let unsigned = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: headers.clone(),
            body: b"{}",
        };
        let (date, auth) = sign("AKID", "other-secret", "us-east-1", &unsigned, now);
        headers.push(("x-amz-date", &date));
        headers.push(("authorization", &auth));
        let req = RequestParts {
            headers,
            ..unsigned
        };
        assert_eq!(
            c.verify(&req, now).unwrap_err().code,
            "UnrecognizedClientException"
        );
    }

    #[test]
    fn opaque_headers_that_count_are_refused() {
        let auth = "AWS4-HMAC-SHA256 Credential=A/20240101/us-east-1/kms/aws4_request, \
                    SignedHeaders=host;user-agent;x-amz-date, Signature=00";
        let headers = [("authorization", auth), ("host", "h")];
        for name in [
            "X-Amz-Security-Token",
            "x-amz-security-token",
            "x-amz-meta",
            "authorization",
            "user-agent",
        ] {
            assert_eq!(
                refuse_opaque_headers(&headers, &[name]).unwrap_err().code,
                "IncompleteSignatureException",
                "{name}"
            );
        }
        // Neither signed nor read: no part in authentication.
        assert!(refuse_opaque_headers(&headers, &["x-forwarded-for"]).is_ok());
        assert!(refuse_opaque_headers(&headers, &[]).is_ok());
    }

    #[test]
    fn credentials_file_is_strict() {
        let entry = |extra: &str| {
            format!(
                r#"{{"credentials": [{{"access_key_id": "A", "secret_access_key": "s",
                "principal": "arn:aws:iam::000000000000:user/a"{extra}}}]}}"#
            )
        };
        assert!(Credentials::from_json(&entry("")).is_ok());
        let bad = [
            // misspelt session token fields: never a long-term key
            r#", "aws_session_token": "T""#,
            r#", "SessionToken": "T""#,
            r#", "session_token": " T""#,
            r#", "session_token": "T\n""#,
            r#", "session_token": "T T""#,
            r#", "session_token": "T\u00e9""#,
            r#", "session_token": """#,
        ];
        for extra in bad {
            assert!(Credentials::from_json(&entry(extra)).is_err(), "{extra}");
        }
        assert!(Credentials::from_json(r#"{"credentials": [], "Credentials": []}"#).is_err());
        // Principals follow the caller rules (user trial item 10).
        for p in [
            "nope",
            "arn:aws:s3::000000000000:bucket",
            "arn:aws:iam::000000000000:group/g",
        ] {
            let json = format!(
                r#"{{"credentials": [{{"access_key_id": "A", "secret_access_key": "s", "principal": "{p}"}}]}}"#
            );
            let e = Credentials::from_json(&json).unwrap_err();
            assert_eq!(e.kind(), strongroom::ErrorKind::ValidationException);
            assert!(e.message().contains("principal of A"), "{p}: {e}");
        }
        let twice = r#"{"credentials": [
            {"access_key_id": "A", "secret_access_key": "s", "principal": "arn:aws:iam::000000000000:user/a"},
            {"access_key_id": "A", "secret_access_key": "t", "principal": "arn:aws:iam::000000000000:user/b",
             "session_token": "x"}]}"#;
        assert!(Credentials::from_json(twice)
            .unwrap_err()
            .message()
            .contains("given twice"));
    }

    #[test]
    fn credentials_file_session_token() {
        let c = Credentials::from_json(
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s",
                "principal": "arn:aws:iam::000000000000:user/a", "session_token": "t"}]}"#,
        )
        .unwrap();
        assert!(c.by_id["A"].session_token.is_some());
        assert!(Credentials::from_json(
            r#"{"credentials": [{"access_key_id": "A", "secret_access_key": "s",
                "principal": "arn:aws:iam::000000000000:user/a", "session_token": ""}]}"#,
        )
        .is_err());
    }
}
