//! The strict reader of request documents ([`from_json_strict`]): a member
//! that the struct it is in does not have, at any depth, is refused by name
//! with the members accepted there, in the same parse that reads the
//! request.
//!
//! The request structs themselves do not refuse unknown members
//! (`deny_unknown_fields` would give serde's own message, and the endpoint
//! reads members such as `DryRun` from the same body as the operation's
//! struct). The reader wraps serde_json's deserializer: every struct asked
//! of it hands over its member names (the `fields` of `deserialize_struct`,
//! as renamed), and each member name read is checked against them before
//! its value is.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

/// A member that a strict read ([`from_json_strict`]) found in a struct
/// that does not have it: `"Keyusage"` for `"KeyUsage"`, `"Tag"` for
/// `"Tags"`, `"TagValu"` in a tag, or a member of a KMS feature the type
/// does not carry (`"XksKeyId"`).
///
/// Its `Display` is `unknown member "TagValu" in Tags[0]; accepted:
/// TagKey, TagValue` (the name quoted and escaped as a Rust string, so that
/// a control character in it is seen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownMember {
    /// The member's name as given (JSON escapes decoded).
    pub name: String,
    /// Where the struct holding it is: empty at the top of the document,
    /// else its members and list indices from the top (`Tags[0]`,
    /// `Constraints.EncryptionContextSubset`).
    pub place: String,
    /// The members that struct accepts, in its declaration order (and,
    /// at the top, the `also` members of [`from_json_strict`]).
    pub accepted: Vec<&'static str>,
}

impl fmt::Display for UnknownMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown member {:?}", self.name)?;
        if !self.place.is_empty() {
            write!(f, " in {}", self.place)?;
        }
        write!(f, "; accepted: {}", self.accepted.join(", "))
    }
}

impl core::error::Error for UnknownMember {}

/// Why [`from_json_strict`] read no request.
#[derive(Debug)]
pub enum StrictError {
    /// A member its struct does not have (the first in the document).
    Unknown(UnknownMember),
    /// Not JSON, or JSON that is not the request: a member of the wrong
    /// type, a missing required member, a value outside an enumeration,
    /// text after the document (serde_json's error, with its position).
    Json(serde_json::Error),
}

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrictError::Unknown(u) => fmt::Display::fmt(u, f),
            StrictError::Json(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for StrictError {}

/// Reads the request `T` from the JSON document `json` in one parse,
/// refusing a member of any struct in it (the request's own, a `Tag` of its
/// `Tags`, …) that the struct does not have, instead of ignoring it as
/// serde does: a misspelt `"Keyusage"` would otherwise give a key of the
/// default usage. `also` names members accepted at the top beside `T`'s
/// (read by the caller from the same document: the endpoint's `DryRun`).
///
/// Only structs are checked: the members of a map (an encryption context)
/// are its data, and a member that `T` reads as `serde::de::IgnoredAny` is
/// not looked into. A struct whose `Deserialize` does not go through
/// `deserialize_struct` (one with `#[serde(flatten)]` members) is not
/// checked either.
///
/// Faults are found in document order: `{"KeySpec": 5, "Bogus": 1}` is a
/// type error of `KeySpec`, `{"Bogus": 1}` for a request with a required
/// member the unknown `Bogus` (found before the end, where a missing member
/// is).
///
/// # Errors
/// [`StrictError::Unknown`] for the first unknown member,
/// [`StrictError::Json`] otherwise.
pub fn from_json_strict<T: DeserializeOwned>(
    json: &[u8],
    also: &'static [&'static str],
) -> Result<T, StrictError> {
    let state = RefCell::new(State {
        also,
        path: Vec::new(),
        key: None,
        refused: None,
    });
    let mut de = serde_json::Deserializer::from_slice(json);
    let read = T::deserialize(Strict {
        inner: &mut de,
        state: &state,
    })
    .and_then(|t| de.end().map(|()| t));
    // The unknown member's error stops the parse; it is the one reported,
    // not the message serde_json made of it.
    match (read, state.into_inner().refused) {
        (_, Some(unknown)) => Err(StrictError::Unknown(unknown)),
        (Ok(t), None) => Ok(t),
        (Err(e), None) => Err(StrictError::Json(e)),
    }
}

/// What the wrappers of one read share.
struct State {
    also: &'static [&'static str],
    /// The members and indices leading to the value being read.
    path: Vec<Step>,
    /// The last member name read, until its value is.
    key: Option<String>,
    /// The unknown member found, which ended the read.
    refused: Option<UnknownMember>,
}

enum Step {
    Member(Option<String>),
    Index(usize),
}

impl State {
    fn place(&self) -> String {
        let mut place = String::new();
        for step in &self.path {
            match step {
                Step::Member(Some(name)) => {
                    if !place.is_empty() {
                        place.push('.');
                    }
                    place.push_str(name);
                }
                Step::Member(None) => {}
                Step::Index(i) => {
                    place.push('[');
                    place.push_str(&i.to_string());
                    place.push(']');
                }
            }
        }
        place
    }

    /// Records the member name `name` read in a struct with `fields` (or a
    /// map, `None`); an error when the struct does not have it.
    fn member<E: de::Error>(
        &mut self,
        name: &str,
        fields: Option<&'static [&'static str]>,
    ) -> Result<(), E> {
        self.key = Some(name.to_string());
        let Some(fields) = fields else {
            return Ok(());
        };
        let top = self.path.is_empty();
        if fields.contains(&name) || (top && self.also.contains(&name)) {
            return Ok(());
        }
        let mut accepted = fields.to_vec();
        if top {
            accepted.extend(self.also.iter().copied().filter(|a| !fields.contains(a)));
        }
        self.refused = Some(UnknownMember {
            name: name.to_string(),
            place: self.place(),
            accepted,
        });
        Err(E::custom("unknown member"))
    }
}

type Shared<'s> = &'s RefCell<State>;

/// The `Deserializer` methods that hand their visitor on as they are, but
/// wrapped (`self.split`); `$extra` adds more of them. Shared by the
/// wrapper of values ([`Strict`]) and that of member names ([`Key`]).
macro_rules! forward_deserializer {
    ($($extra:tt)*) => {
        forward_deserializer_methods! {
            deserialize_any() deserialize_bool() deserialize_i8() deserialize_i16()
            deserialize_i32() deserialize_i64() deserialize_i128() deserialize_u8()
            deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
            deserialize_f32() deserialize_f64() deserialize_char() deserialize_str()
            deserialize_string() deserialize_bytes() deserialize_byte_buf()
            deserialize_option() deserialize_unit() deserialize_seq() deserialize_map()
            deserialize_identifier()
            deserialize_unit_struct(name: &'static str)
            deserialize_newtype_struct(name: &'static str)
            deserialize_tuple(len: usize)
            deserialize_tuple_struct(name: &'static str, len: usize)
            deserialize_enum(name: &'static str, variants: &'static [&'static str])
            $($extra)*
        }

        fn is_human_readable(&self) -> bool {
            self.inner.is_human_readable()
        }
    };
}

macro_rules! forward_deserializer_methods {
    ($($method:ident($($arg:ident: $ty:ty),*))*) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            $($arg: $ty,)*
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            let (inner, visitor) = self.split(visitor);
            inner.$method($($arg,)* visitor)
        }
    )*};
}

/// The `Visitor` methods given a plain value, handed on as they are;
/// `$extra` adds more of them (`name: type`).
macro_rules! forward_visitor {
    ($($extra:tt)*) => {
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.inner.expecting(f)
        }

        fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
            self.inner.visit_none()
        }

        fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
            self.inner.visit_unit()
        }

        forward_visitor_methods! {
            visit_bool: bool visit_i8: i8 visit_i16: i16 visit_i32: i32
            visit_i64: i64 visit_i128: i128 visit_u8: u8 visit_u16: u16
            visit_u32: u32 visit_u64: u64 visit_u128: u128 visit_f32: f32
            visit_f64: f64 visit_char: char visit_bytes: &[u8]
            visit_borrowed_bytes: &'de [u8] visit_byte_buf: Vec<u8>
            $($extra)*
        }
    };
}

macro_rules! forward_visitor_methods {
    ($($method:ident: $ty:ty)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

/// The wrapped deserializer of one value.
struct Strict<'s, D> {
    inner: D,
    state: Shared<'s>,
}

impl<'s, D> Strict<'s, D> {
    /// The deserializer, and `visitor` wrapped (as not a struct's).
    fn split<V>(self, visitor: V) -> (D, Wrap<'s, V>) {
        let visitor = Wrap {
            inner: visitor,
            state: self.state,
            fields: None,
        };
        (self.inner, visitor)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<'_, D> {
    type Error = D::Error;

    forward_deserializer!();

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let (inner, mut visitor) = self.split(visitor);
        visitor.fields = Some(fields);
        inner.deserialize_struct(name, fields, visitor)
    }

    /// What is ignored is not looked into.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_ignored_any(visitor)
    }
}

/// The wrapped visitor of one value; `fields` when a struct was asked for.
struct Wrap<'s, V> {
    inner: V,
    state: Shared<'s>,
    fields: Option<&'static [&'static str]>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<'_, V> {
    type Value = V::Value;

    forward_visitor! {
        visit_str: &str visit_borrowed_str: &'de str visit_string: String
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        let state = self.state;
        self.inner.visit_some(Strict { inner, state })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        let state = self.state;
        self.inner.visit_newtype_struct(Strict { inner, state })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        if self.fields.is_some() {
            // serde fills a struct from a JSON array by position, which
            // would read `"Tags":[["k","v"]]` as a tag: a structure is a
            // JSON object in the KMS protocol (AWS: SerializationException).
            return Err(de::Error::invalid_type(
                de::Unexpected::Seq,
                &"a structure (a JSON object)",
            ));
        }
        self.inner.visit_seq(Seq {
            seq,
            state: self.state,
            index: 0,
        })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(Map {
            map,
            state: self.state,
            fields: self.fields,
        })
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(Enum {
            data,
            state: self.state,
        })
    }
}

/// A seed whose value is read through the wrapper.
struct Value<'s, T> {
    seed: T,
    state: Shared<'s>,
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Value<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<T::Value, D::Error> {
        let state = self.state;
        self.seed.deserialize(Strict { inner, state })
    }
}

/// Runs `read` with `step` on the path.
fn at<T>(state: Shared<'_>, step: Step, read: impl FnOnce() -> T) -> T {
    state.borrow_mut().path.push(step);
    let out = read();
    state.borrow_mut().path.pop();
    out
}

struct Seq<'s, A> {
    seq: A,
    state: Shared<'s>,
    index: usize,
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Seq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let state = self.state;
        let element = at(state, Step::Index(self.index), || {
            self.seq.next_element_seed(Value { seed, state })
        });
        self.index += 1;
        element
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// A struct's members (`fields`) or a map's.
struct Map<'s, A> {
    map: A,
    state: Shared<'s>,
    fields: Option<&'static [&'static str]>,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Map<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(Key {
            inner: seed,
            state: self.state,
            fields: self.fields,
        })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let state = self.state;
        let name = state.borrow_mut().key.take();
        at(state, Step::Member(name), || {
            self.map.next_value_seed(Value { seed, state })
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A member name: the seed, deserializer and visitor that read it, the
/// visitor checking it (a member name is a string in JSON: every way of
/// reading one reaches a string method of the visitor).
struct Key<'s, T> {
    inner: T,
    state: Shared<'s>,
    fields: Option<&'static [&'static str]>,
}

impl<'s, D> Key<'s, D> {
    /// The deserializer, and `visitor` wrapped to check what it reads.
    fn split<V>(self, visitor: V) -> (D, Key<'s, V>) {
        let visitor = Key {
            inner: visitor,
            state: self.state,
            fields: self.fields,
        };
        (self.inner, visitor)
    }
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Key<'_, T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<T::Value, D::Error> {
        let (seed, de) = self.split(de);
        seed.deserialize(de)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Key<'_, D> {
    type Error = D::Error;

    forward_deserializer! {
        deserialize_struct(name: &'static str, fields: &'static [&'static str])
        deserialize_ignored_any()
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Key<'_, V> {
    type Value = V::Value;

    forward_visitor!();

    fn visit_str<E: de::Error>(self, name: &str) -> Result<V::Value, E> {
        self.state.borrow_mut().member(name, self.fields)?;
        self.inner.visit_str(name)
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<V::Value, E> {
        self.state.borrow_mut().member(name, self.fields)?;
        self.inner.visit_borrowed_str(name)
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<V::Value, E> {
        self.state.borrow_mut().member(&name, self.fields)?;
        self.inner.visit_string(name)
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let (visitor, de) = self.split(de);
        visitor.visit_some(de)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<V::Value, D::Error> {
        let (visitor, de) = self.split(de);
        visitor.visit_newtype_struct(de)
    }

    // A name that is an enum's variant (a map keyed by an enumeration).
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.inner.visit_enum(data)
    }
}

/// An enum's variant, whose content (a newtype, tuple or struct variant's)
/// is read through the wrapper.
struct Enum<'s, A> {
    data: A,
    state: Shared<'s>,
}

impl<'s, 'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Enum<'s, A> {
    type Error = A::Error;
    type Variant = Enum<'s, A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), A::Error> {
        let (value, data) = self.data.variant_seed(seed)?;
        let state = self.state;
        Ok((value, Enum { data, state }))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Enum<'_, A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.data.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let state = self.state;
        self.data.newtype_variant_seed(Value { seed, state })
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            inner: visitor,
            state: self.state,
            fields: None,
        };
        self.data.tuple_variant(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            inner: visitor,
            state: self.state,
            fields: Some(fields),
        };
        self.data.struct_variant(fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CreateGrantRequest, CreateKeyRequest, EncryptRequest, Tag};

    fn unknown<T: DeserializeOwned + fmt::Debug>(json: &str) -> UnknownMember {
        match from_json_strict::<T>(json.as_bytes(), &["DryRun"]) {
            Err(StrictError::Unknown(u)) => u,
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn an_unknown_member_is_named_with_its_place_and_the_accepted_ones() {
        let u =
            unknown::<CreateKeyRequest>(r#"{"KeySpec":"ECC_NIST_P256","Keyusage":"SIGN_VERIFY"}"#);
        assert_eq!((u.name.as_str(), u.place.as_str()), ("Keyusage", ""));
        for name in [
            "Description",
            "KeySpec",
            "KeyUsage",
            "Policy",
            "Tags",
            "DryRun",
        ] {
            assert!(u.accepted.contains(&name), "{name} in {u:?}");
        }
        let u = unknown::<CreateKeyRequest>(
            r#"{"Tags":[{"TagKey":"a","TagValue":"b"},{"TagKey":"a","TagValu":"c"}]}"#,
        );
        assert_eq!(
            u.to_string(),
            r#"unknown member "TagValu" in Tags[1]; accepted: TagKey, TagValue"#
        );
        // The `also` members are accepted at the top only.
        let u = unknown::<CreateKeyRequest>(r#"{"DryRun":true,"Tags":[{"DryRun":true}]}"#);
        assert_eq!((u.name.as_str(), u.place.as_str()), ("DryRun", "Tags[0]"));
        assert_eq!(u.accepted, ["TagKey", "TagValue"]);
        // In a struct within an `Option`, and a name quoted as escaped.
        let u = unknown::<CreateGrantRequest>(
            r#"{"KeyId":"k","Constraints":{"EncryptionContextEqual":{"a":"b"}}}"#,
        );
        assert_eq!(u.place, "Constraints");
        assert_eq!(u.name, "EncryptionContextEqual");
        let u = unknown::<Tag>("{\"Tag\\u0000Key\":\"a\"}");
        assert!(
            u.to_string().starts_with(r#"unknown member "Tag\0Key";"#),
            "{u}"
        );
    }

    #[test]
    fn a_known_request_reads_as_serde_json_reads_it() {
        let json = r#"{"Description":"d","KeyUsage":"SIGN_VERIFY","KeySpec":"ECC_NIST_P256",
            "Tags":[{"TagKey":"a","TagValue":"b"}],"MultiRegion":false,"DryRun":true}"#;
        let strict: CreateKeyRequest = from_json_strict(json.as_bytes(), &["DryRun"]).unwrap();
        assert_eq!(strict, serde_json::from_str(json).unwrap());
        // A map's members are its data, not checked.
        let json = r#"{"KeyId":"k","Plaintext":"AA==","EncryptionContext":{"Bogus":"x"}}"#;
        let r: EncryptRequest = from_json_strict(json.as_bytes(), &[]).unwrap();
        assert_eq!(r.encryption_context.0["Bogus"], "x");
    }

    #[test]
    fn other_faults_are_serde_jsons_in_document_order() {
        let json = |text: &str| match from_json_strict::<CreateKeyRequest>(text.as_bytes(), &[]) {
            Err(StrictError::Json(e)) => e.to_string(),
            other => panic!("{text}: {other:?}"),
        };
        assert!(json(r#"{"KeySpec":5,"Bogus":1}"#).contains("invalid type"));
        assert!(json(r#"{"KeySpec":"ECC_NIST_P256"} x"#).contains("trailing characters"));
        assert!(json(r#"{"Tags":[{"TagKey":"a"}]}"#).contains("missing field `TagValue`"));
        // Second reading 20: a structure given as an array (serde would
        // fill it by position) is refused, at the top and within.
        for text in [r#"{"Tags":[["k","v"]]}"#, r#"["d"]"#] {
            let e = json(text);
            assert!(
                e.contains("invalid type: sequence, expected a structure"),
                "{text}: {e}"
            );
        }
        // An unknown member is found before the end, where a missing one is.
        assert_eq!(unknown::<Tag>(r#"{"Bogus":1}"#).name, "Bogus");
    }
}
