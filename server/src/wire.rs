//! The AWS JSON 1.1 protocol's error shape and the mapping of parse failures
//! to the exceptions AWS answers with.

use serde::de::DeserializeOwned;
use strongroom::{Error, ErrorKind};
use zeroize::Zeroizing;

/// The content type of every request and response body.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error as it goes on the wire: HTTP status, `__type` and `message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireError {
    /// HTTP status (400, 403, 404, 408, 413 or 500).
    pub status: u16,
    /// The exception name sent as `__type`.
    pub code: &'static str,
    /// The human-readable message (never secret material).
    pub message: String,
}

impl WireError {
    /// An error with status, exception name and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        WireError {
            status,
            code,
            message: message.into(),
        }
    }

    /// An authentication failure.
    pub fn auth(status: u16, code: &'static str, message: &str) -> Self {
        Self::new(status, code, message)
    }

    /// `SerializationException` (the body is not the JSON the operation takes).
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", message)
    }

    /// `ValidationException`.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }

    /// `UnknownOperationException`.
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new(400, "UnknownOperationException", message)
    }

    /// The JSON body: `{"__type": ..., "message": ...}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "__type": self.code, "message": self.message }).to_string()
    }
}

impl From<Error> for WireError {
    fn from(e: Error) -> Self {
        let status = if e.kind() == ErrorKind::KMSInternalException {
            500
        } else {
            400
        };
        WireError::new(status, e.code(), e.message())
    }
}

/// Deserializes an operation's request body. An empty body counts as `{}`.
///
/// A body that is not a JSON object (an array such as `[]`, a string, a
/// number, `null`), malformed or truncated JSON and members of the wrong
/// JSON type (`1.5` or `"10"` for an integer) are `SerializationException`;
/// a missing required member, a value outside an enumeration or a number
/// outside the range of the member's type (`-1` or 2^32 for `Limit`, a
/// negative `ValidTo`) is `ValidationException`, as AWS answers.
///
/// # Errors
/// As above.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    let body = object(body)?;
    serde_json::from_slice(body).map_err(|e| parse_error(body, e))
}

/// As [`parse`], refusing a member that the struct it is in (the request's
/// own, a `Tag` of its `Tags`, its `Constraints`, …) does not have, except
/// the `also` members at the top ([`strongroom::core::api::from_json_strict`],
/// in the same parse): a member of a KMS feature Strongroom does not have
/// (those KMS added after this server, too) or a misspelt one is never
/// ignored. `operation` names the request in the message.
///
/// # Errors
/// `UnsupportedOperationException` naming the member, where it is and the
/// members accepted there; those of [`parse`].
pub fn parse_strict<T: DeserializeOwned>(
    operation: &str,
    body: &[u8],
    also: &'static [&'static str],
) -> Result<T, WireError> {
    use strongroom::core::api::{from_json_strict, StrictError};
    let body = object(body)?;
    from_json_strict(body, also).map_err(|e| match e {
        StrictError::Unknown(u) => {
            let place = if u.place.is_empty() {
                String::new()
            } else {
                format!(" in {}", u.place)
            };
            WireError::new(
                400,
                "UnsupportedOperationException",
                format!(
                    "{}{place} is not supported: Strongroom {operation} does not offer it \
                     (refused, not ignored); accepted: {}",
                    u.name,
                    u.accepted.join(", ")
                ),
            )
        }
        StrictError::Json(e) => parse_error(body, e),
    })
}

/// The exception of [`parse`] for `e`, an error reading `body`.
fn parse_error(body: &[u8], e: serde_json::Error) -> WireError {
    // serde_json reports an enumeration member given a number or null
    // as a syntax error ("expected value"): in valid JSON, it is a
    // member of the wrong type.
    let syntax = !matches!(e.classify(), serde_json::error::Category::Data);
    if syntax && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        WireError::serialization(format!(
            "a member's value is not of the JSON type the operation takes: {e}"
        ))
    } else {
        out_of_range(&e, body).unwrap_or_else(|| classify(e))
    }
}

/// `ValidationException` in AWS's words for a number of the JSON type a
/// member takes but outside the range of its type, which serde reports as
/// "invalid value: integer `-1`, expected u32" ("floating point" for a
/// timestamp): "1 validation error detected: Value '-1' at 'Limit' failed
/// to satisfy constraint: Member must be an integer from 0 to 4294967295",
/// naming the top-level member that holds that value when exactly one
/// does. `None` for any other error.
fn out_of_range(e: &serde_json::Error, body: &[u8]) -> Option<WireError> {
    if !matches!(e.classify(), serde_json::error::Category::Data) {
        return None;
    }
    let text = e.to_string();
    let rest = text
        .strip_prefix("invalid value: integer `")
        .or_else(|| text.strip_prefix("invalid value: floating point `"))?;
    let (value, rest) = rest.split_once('`')?;
    let expected = rest.strip_prefix(", expected ")?;
    // serde_json ends its message with the position.
    let expected = expected
        .rsplit_once(" at line ")
        .map_or(expected, |(x, _)| x);
    let range = |min: i128, max: i128| format!("an integer from {min} to {max}");
    let constraint = match expected {
        "u8" => range(0, u8::MAX.into()),
        "u16" => range(0, u16::MAX.into()),
        "u32" => range(0, u32::MAX.into()),
        "u64" => range(0, u64::MAX.into()),
        "i32" => range(i32::MIN.into(), i32::MAX.into()),
        "i64" => range(i64::MIN.into(), i64::MAX.into()),
        other => other.to_string(),
    };
    let at = serde_json::from_slice::<TopLevel<'_>>(body)
        .ok()
        .and_then(|members| {
            let mut holding = members.0.into_iter().filter(|(_, v)| v.get() == value);
            match (holding.next(), holding.next()) {
                (Some((name, _)), None) => Some(format!(" at '{name}'")),
                _ => None,
            }
        })
        .unwrap_or_default();
    Some(WireError::validation(format!(
        "1 validation error detected: Value '{value}'{at} failed to satisfy constraint: \
         Member must be {constraint}"
    )))
}

/// `body`, or `{}` for an empty body; `SerializationException` unless it
/// starts as a JSON object (serde would read a struct from a JSON array
/// too: `[]` as a request with every member left out).
fn object(body: &[u8]) -> Result<&[u8], WireError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Ok(b"{}"),
        Some(b'{') => Ok(body),
        Some(_) => Err(WireError::serialization(
            "the request body must be a JSON object",
        )),
    }
}

/// The exception AWS answers for a body that does not deserialize.
fn classify(e: serde_json::Error) -> WireError {
    let text = e.to_string();
    match e.classify() {
        serde_json::error::Category::Data
            if text.starts_with("missing field")
                || text.starts_with("unknown variant")
                || text.contains(" is not a valid ") =>
        {
            WireError::validation(text)
        }
        serde_json::error::Category::Data => WireError::serialization(text),
        _ => WireError::serialization(format!("the request body is not valid JSON: {text}")),
    }
}

/// The request body as the operations read it. A JSON object with the same
/// member name twice, at any depth, is `SerializationException` (a parser
/// keeping either one would read a request the client may not have meant);
/// a top-level member whose value is JSON `null` counts as absent, as AWS
/// SDKs treat it: an optional member is then left out, a required one is
/// missing (`ValidationException`).
///
/// Returns `None` when `body` is read as it is, or the body without its
/// `null` members, in a buffer zeroized when dropped (the body may carry
/// plaintext).
///
/// # Errors
/// `SerializationException` for a body that is not a JSON object or has a
/// duplicate member.
pub fn normalize(body: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, WireError> {
    let body = object(body)?;
    check_no_duplicate_members(body).map_err(classify)?;
    let members: Vec<(String, &serde_json::value::RawValue)> =
        serde_json::from_slice::<TopLevel<'_>>(body)
            .map_err(classify)?
            .0;
    if members.iter().all(|(_, v)| v.get() != "null") {
        return Ok(None);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(body.len()));
    out.push(b'{');
    for (name, value) in members.iter().filter(|(_, v)| v.get() != "null") {
        if out.len() > 1 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, name).map_err(classify)?;
        out.push(b':');
        out.extend_from_slice(value.get().as_bytes());
    }
    out.push(b'}');
    Ok(Some(out))
}

/// Checks that `json` is one JSON value in which no object, at any depth,
/// has a member name twice: a parser would keep one of them (serde_json
/// the last) where the writer may have meant the other. The CLI applies it
/// to its JSON option values (encryption contexts, grant constraints).
///
/// # Errors
/// The parse error, for text that is not JSON or has a duplicate member.
pub fn check_no_duplicate_members(json: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<NoDuplicates>(json).map(|_| ())
}

/// Any JSON value; deserializing it fails on an object that has a member
/// name twice.
struct NoDuplicates;

impl<'de> serde::Deserialize<'de> for NoDuplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<NoDuplicates, A::Error> {
        while a.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = std::collections::BTreeSet::new();
        while let Some(name) = a.next_key::<String>()? {
            a.next_value::<NoDuplicates>()?;
            if !seen.insert(name) {
                return Err(serde::de::Error::custom(
                    "a JSON object has the same member name twice",
                ));
            }
        }
        Ok(NoDuplicates)
    }
}

/// The top-level members of a JSON object, in order, values unparsed.
struct TopLevel<'a>(Vec<(String, &'a serde_json::value::RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for TopLevel<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = TopLevel<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<TopLevel<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    out.push(entry);
                }
                Ok(TopLevel(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
