//! Conversions between JavaScript values and the core's request and
//! response types. Requests are plain objects with the KMS member names in
//! camelCase (`keyId`, `encryptionContext`, …), bytes are `Uint8Array`s;
//! responses are plain objects with camelCase members, `Uint8Array` bytes
//! and `Date` timestamps. Every malformed input is a `ValidationException`,
//! never a panic.

use std::str::FromStr;

use js_sys::{Array, Date, Object, Reflect, Uint8Array};
use serde_json::Value;
use strongroom_core::api::Tag;
use strongroom_core::{EncryptionContext, Error, ErrorKind, Result, Secret};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

// Catching versions of the reflection functions: a Proxy whose traps throw
// must become a ValidationException, not an exception unwinding through
// Rust frames (which would leave the Keystore borrowed for good).
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn object_keys(o: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array(o: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Array, js_name = from)]
    fn array_from(o: &JsValue) -> Result<Array, JsValue>;
}

fn is_array_like(v: &JsValue) -> bool {
    is_array(v).unwrap_or(true)
}

/// A copy of `v` as a real array (so that reading elements runs no traps).
pub(crate) fn as_array(v: &JsValue) -> Option<Array> {
    if is_array(v).unwrap_or(false) {
        array_from(v).ok()
    } else {
        None
    }
}

/// A copy of the bytes of a `Uint8Array` (read through the intrinsic
/// accessors: a Proxy or an own `length` is not a `Uint8Array`); `None`
/// for anything else.
///
/// # Errors
/// `LimitExceededException` when the copy does not fit in the module's
/// memory (at most 4 GiB): an allocation that failed would trap the module
/// and leave every handle in use unusable.
pub(crate) fn read_bytes(v: &JsValue, name: &str) -> Result<Option<Vec<u8>>> {
    let view = crate::uint8_view(v);
    if view.is_undefined() {
        return Ok(None);
    }
    let view: Uint8Array = view.unchecked_into();
    let n = view.length() as usize;
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| {
        Error::new(
            ErrorKind::LimitExceededException,
            format!(
                "{name} ({n} bytes) does not fit in the module's memory; \
                 stream it with MessageEncryptor / MessageDecryptor"
            ),
        )
    })?;
    out.resize(n, 0);
    view.copy_to(&mut out);
    Ok(Some(out))
}

/// A `Uint8Array` argument (not a request member) as bytes.
pub(crate) fn bytes_arg(v: &JsValue, name: &str) -> Result<Vec<u8>> {
    read_bytes(v, name)?.ok_or_else(|| validation(format!("{name} must be a Uint8Array")))
}

/// A string without unpaired surrogates (JavaScript strings are UTF-16;
/// Rust would turn each unpaired surrogate into U+FFFD, so that two
/// different strings, say two encryption contexts, would become equal).
pub(crate) fn as_str(v: &JsValue) -> Option<String> {
    if crate::well_formed_string(v) {
        v.as_string()
    } else {
        None
    }
}

/// A string argument (not a request member).
pub(crate) fn str_arg(v: &JsValue, name: &str) -> Result<String> {
    as_str(v).ok_or_else(|| {
        validation(format!(
            "{name} must be a string (without unpaired surrogates)"
        ))
    })
}

/// A request object, checked against the members an operation accepts.
pub(crate) struct Req {
    obj: Object,
}

fn validation(msg: impl Into<String>) -> Error {
    Error::validation(msg)
}

impl Req {
    /// `value` must be a plain object (or `undefined`/`null` when every
    /// member is optional) whose members are all in `allowed`.
    pub(crate) fn new(value: &JsValue, allowed: &[&str]) -> Result<Req> {
        if value.is_undefined() || value.is_null() {
            return Ok(Req { obj: Object::new() });
        }
        if !value.is_object() {
            return Err(validation("the request must be an object"));
        }
        if value.is_function() || is_array_like(value) || crate::is_uint8array(value) {
            return Err(validation("the request must be a plain object"));
        }
        let keys =
            object_keys(value).map_err(|_| validation("the request members could not be read"))?;
        for k in keys.iter() {
            let name = k.as_string().unwrap_or_default();
            if !allowed.contains(&name.as_str()) {
                return Err(validation(format!(
                    "unknown request member '{name}'; accepted: {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(Req {
            obj: value.clone().unchecked_into(),
        })
    }

    /// The member `name`, `None` when absent, `undefined` or `null`.
    pub(crate) fn get(&self, name: &str) -> Result<Option<JsValue>> {
        // Own members only: one inherited from a polluted Object.prototype
        // (`grantTokens`, `policy`, …) is not part of the request.
        let v = crate::own_member(&self.obj, name)
            .map_err(|_| validation(format!("{name} could not be read")))?;
        Ok(if v.is_undefined() || v.is_null() {
            None
        } else {
            Some(v)
        })
    }

    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<String>> {
        self.get(name)?.map(|v| str_arg(&v, name)).transpose()
    }

    pub(crate) fn str(&self, name: &str) -> Result<String> {
        self.opt_str(name)?
            .ok_or_else(|| validation(format!("{name} is required")))
    }

    pub(crate) fn opt_bytes(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.get(name)?.map(|v| bytes_arg(&v, name)).transpose()
    }

    pub(crate) fn bytes(&self, name: &str) -> Result<Vec<u8>> {
        self.opt_bytes(name)?
            .ok_or_else(|| validation(format!("{name} is required")))
    }

    /// A non-negative integer member. One above 2^32 − 1 is read as
    /// 2^32 − 1: every `u32` member has a range well below that
    /// (`numberOfBytes` 1–1024, `limit`, `pendingWindowInDays`,
    /// …), so the operation's own check
    /// refuses it with the KMS range message ("NumberOfBytes must be between
    /// 1 and 1024") instead of a type complaint about a valid integer.
    pub(crate) fn opt_u32(&self, name: &str) -> Result<Option<u32>> {
        Ok(self
            .opt_u64(name)?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    /// A non-negative integer member, up to 2^53 (the integers a JS number
    /// holds exactly; a larger one is read as 2^53).
    pub(crate) fn opt_u64(&self, name: &str) -> Result<Option<u64>> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        self.get(name)?
            .map(|v| {
                v.as_f64()
                    .filter(|n| n.is_finite() && n.fract() == 0.0 && *n >= 0.0)
                    .map(|n| n.min(EXACT) as u64)
                    .ok_or_else(|| validation(format!("{name} must be a non-negative integer")))
            })
            .transpose()
    }

    /// A `Date` as Unix seconds (rounded down).
    pub(crate) fn opt_date(&self, name: &str) -> Result<Option<u64>> {
        self.get(name)?
            .map(|v| {
                Some(crate::date_ms(&v))
                    .filter(|ms| ms.is_finite() && *ms >= 0.0)
                    .map(|ms| (ms / 1000.0) as u64)
                    .ok_or_else(|| validation(format!("{name} must be a valid Date")))
            })
            .transpose()
    }

    pub(crate) fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        self.get(name)?
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| validation(format!("{name} must be a boolean")))
            })
            .transpose()
    }

    /// A KMS enum member (`"SYMMETRIC_DEFAULT"`, `"AES_256"`, …).
    pub(crate) fn opt_enum<T: FromStr<Err = Error>>(&self, name: &str) -> Result<Option<T>> {
        self.opt_str(name)?.map(|s| s.parse()).transpose()
    }

    /// A nested request object (`undefined` or `null`: `None`) with the
    /// members in `allowed`.
    pub(crate) fn opt_req(&self, name: &str, allowed: &[&str]) -> Result<Option<Req>> {
        self.get(name)?
            .map(|v| {
                Req::new(&v, allowed).map_err(|e| validation(format!("{name}: {}", e.message())))
            })
            .transpose()
    }

    pub(crate) fn context(&self, name: &str) -> Result<EncryptionContext> {
        match self.get(name)? {
            None => Ok(EncryptionContext::new()),
            Some(v) => context_from(&v, name),
        }
    }

    /// An optional encryption context (absent: `None`, not empty).
    pub(crate) fn opt_context(&self, name: &str) -> Result<Option<EncryptionContext>> {
        self.get(name)?.map(|v| context_from(&v, name)).transpose()
    }

    pub(crate) fn str_list(&self, name: &str) -> Result<Vec<String>> {
        let Some(v) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let arr = as_array(&v)
            .ok_or_else(|| validation(format!("{name} must be an array of strings")))?;
        arr.iter()
            .map(|s| {
                as_str(&s).ok_or_else(|| {
                    validation(format!(
                        "{name} must be an array of strings (without unpaired surrogates)"
                    ))
                })
            })
            .collect()
    }

    pub(crate) fn tags(&self, name: &str) -> Result<Vec<Tag>> {
        let Some(v) = self.get(name)? else {
            return Ok(Vec::new());
        };
        let bad = || validation(format!("{name} must be an array of {{ tagKey, tagValue }}"));
        let arr = as_array(&v).ok_or_else(bad)?;
        arr.iter()
            .map(|t| {
                let r = Req::new(&t, &["tagKey", "tagValue"]).map_err(|_| bad())?;
                Ok(Tag {
                    tag_key: r.str("tagKey")?,
                    tag_value: r.opt_str("tagValue")?.unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// A plain object (prototype `Object.prototype` or `null`; not a Map, a
/// Date or a class instance, whose members `Object.entries` would not see)
/// of string values, with only enumerable string keys, as an encryption
/// context.
pub(crate) fn context_from(v: &JsValue, name: &str) -> Result<EncryptionContext> {
    let bad = || {
        validation(format!(
            "{name} must be a plain object of string values (without unpaired surrogates)"
        ))
    };
    let entries = crate::context_entries(v).map_err(|_| bad())?;
    if entries.is_null() {
        return Err(bad());
    }
    let mut pairs = Vec::new();
    for entry in entries.unchecked_into::<Array>().iter() {
        let entry: Array = entry.unchecked_into();
        let (Some(k), Some(val)) = (as_str(&entry.get(0)), as_str(&entry.get(1))) else {
            return Err(bad());
        };
        pairs.push((k, val));
    }
    EncryptionContext::from_pairs(pairs)
}

/// An encryption context as a plain object.
pub(crate) fn context_to_js(ctx: &EncryptionContext) -> JsValue {
    let obj = Object::new();
    for (k, v) in ctx.iter() {
        // Defined, not set: a key `__proto__` stays a member.
        crate::define_own(&obj, k, &JsValue::from_str(v));
    }
    obj.into()
}

/// A plain object from `(name, value)` pairs.
pub(crate) fn object(members: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (k, v) in members {
        let _ = Reflect::set(&obj, &JsValue::from_str(k), v);
    }
    obj.into()
}

/// Secret bytes copied into a new `Uint8Array` (the Rust copy is zeroized
/// when `s` is dropped; the JavaScript copy is the caller's to manage).
pub(crate) fn secret_to_js(s: &Secret) -> JsValue {
    Uint8Array::from(s.expose_secret()).into()
}

pub(crate) fn bytes_to_js(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// `PascalCase` (and `AWSAccountId`) to `camelCase` (`awsAccountId`).
pub(crate) fn camel(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let lower = if run > 1 && run < chars.len() {
        run - 1
    } else {
        run
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

/// Members holding Unix seconds, given to JavaScript as `Date`s.
const DATE_MEMBERS: &[&str] = &[
    "CreationDate",
    "DeletionDate",
    "ValidTo",
    "NextRotationDate",
    "RotationDate",
    "LastUpdatedDate",
    "OnDemandRotationStartDate",
    "ParametersValidTo",
];

/// Members holding non-secret bytes (base64 in the KMS JSON), given to
/// JavaScript as `Uint8Array`s.
const BYTE_MEMBERS: &[&str] = &[
    "CiphertextBlob",
    "PrivateKeyCiphertextBlob",
    "PublicKey",
    "Signature",
    "Mac",
    "ImportToken",
];

/// Members holding caller-chosen names (encryption contexts of grant
/// constraints), whose keys and values are kept as they are.
const VERBATIM_MEMBERS: &[&str] = &["EncryptionContextEquals", "EncryptionContextSubset"];

fn json_to_js(v: &Value, member: Option<&str>) -> JsValue {
    match v {
        Value::Null => JsValue::UNDEFINED,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            if member.is_some_and(|m| DATE_MEMBERS.contains(&m)) {
                Date::new(&JsValue::from_f64(f * 1000.0)).into()
            } else {
                JsValue::from_f64(f)
            }
        }
        Value::String(s) => {
            if member.is_some_and(|m| BYTE_MEMBERS.contains(&m)) {
                if let Ok(b) = strongroom_core::b64::decode(s) {
                    return bytes_to_js(&b);
                }
            }
            JsValue::from_str(s)
        }
        Value::Array(a) => a
            .iter()
            .map(|x| json_to_js(x, None))
            .collect::<Array>()
            .into(),
        Value::Object(m) => {
            let verbatim = member.is_some_and(|m| VERBATIM_MEMBERS.contains(&m));
            let obj = Object::new();
            for (k, x) in m {
                // The values of a caller's names (a context's) are kept as
                // they are: a context key `PublicKey` is not a byte member.
                let value = json_to_js(x, (!verbatim).then_some(k.as_str()));
                if verbatim {
                    crate::define_own(&obj, k, &value);
                } else {
                    let _ = Reflect::set(&obj, &JsValue::from_str(&camel(k)), &value);
                }
            }
            obj.into()
        }
    }
}

/// A response (AWS KMS JSON shape, no secret members) as a plain object
/// with camelCase members.
pub(crate) fn response<T: serde::Serialize>(r: &T) -> Result<JsValue> {
    let v = serde_json::to_value(r).map_err(|_| Error::internal("serialization failed"))?;
    Ok(json_to_js(&v, None))
}

#[cfg(test)]
mod tests {
    use super::camel;

    #[test]
    fn camel_case_of_kms_member_names() {
        assert_eq!(camel("KeyId"), "keyId");
        assert_eq!(camel("AWSAccountId"), "awsAccountId");
        assert_eq!(camel("CiphertextBlob"), "ciphertextBlob");
        assert_eq!(camel("Arn"), "arn");
        assert_eq!(camel("KMS"), "kms");
    }
}
