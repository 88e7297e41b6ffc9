//! The AWS JSON 1.1 protocol's error shape and the mapping of parse failures
//! to the exceptions AWS answers with.

use serde::de::DeserializeOwned;
use strongroom::{Error, ErrorKind};

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
/// JSON type are `SerializationException`; a missing required member or a
/// value outside an enumeration is `ValidationException`, as AWS answers.
///
/// # Errors
/// As above.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    let body: &[u8] = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}",
        Some(b'{') => body,
        // serde would read a struct from a JSON array too (`[]` as a
        // request with every member left out).
        Some(_) => {
            return Err(WireError::serialization(
                "the request body must be a JSON object",
            ))
        }
    };
    serde_json::from_slice(body).map_err(|e| {
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
    })
}

/// The member names a request struct deserializes from (its serde field
/// names, as renamed), read from the derived `Deserialize` impl itself; `None`
/// for a type that is not deserialized as a struct.
pub fn members<T: DeserializeOwned>() -> Option<&'static [&'static str]> {
    let mut probe = FieldNames(None);
    // The probe answers every request with an error: only the field list
    // handed to `deserialize_struct` is wanted.
    let _ = T::deserialize(&mut probe);
    probe.0
}

/// A deserializer that records the field list of the struct asked of it.
struct FieldNames(Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for &mut FieldNames {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(serde::de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}
