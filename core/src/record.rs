//! Stored records (keys, aliases, grants, the keystore configuration) read
//! from a JSON tree: what the in-memory keystore's import and the sealed
//! export's checks run ([`crate::record_from_slice`]).
//!
//! The records are parsed into a `serde_json::Value` whose objects have no
//! repeated member (the crate's tree reader, `crate::json_tree`), then read field by
//! field with the types of the records' `Deserialize` (serde's derived code,
//! which the native keystore keeps for its own reading): a member that is
//! not a JSON object where a record is expected, a missing field that is not
//! an `Option` or `#[serde(default)]`, or a field of another JSON type
//! (a string for a number, a negative or fractional number for an unsigned
//! integer, a number above `u32::MAX` for a `u32`, an unknown KMS name for
//! an enum, text that is not base64 for sealed material) is refused.
//! Unknown members are ignored, except in [`KeyRecord`], which keeps them in
//! `extra`, and in [`GrantConstraints`], which refuses them.
//!
//! Compared with serde's derived reading, three edges nothing writes are
//! refused too: a member repeated at any depth (serde's maps keep the last
//! of repeated tag or context keys, and its structs keep the last of
//! repeated unknown members), a nested record (`BackingKey`,
//! `RotationConfig`, `GrantConstraints`) written as a JSON array of its
//! fields, and bytes that are not UTF-8 anywhere in the record.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::context::EncryptionContext;
use crate::export::KeystoreConfig;
use crate::grant::{Grant, GrantConstraints, GrantOperation};
use crate::key::{AliasRecord, BackingKey, KeyRecord, RotationConfig};

/// A type read from a JSON value; `None` when the value is not one.
pub(crate) trait FromJson: Sized {
    fn from_json(v: &Value) -> Option<Self>;
}

/// `bytes` as a record of type `T`: one JSON object (white space around it
/// allowed, nothing else), read as the module documentation says.
pub(crate) fn read<T: FromJson>(bytes: &[u8]) -> Option<T> {
    let text = core::str::from_utf8(bytes).ok()?;
    let value = crate::json_tree(text, true).ok()?;
    T::from_json(&value)
}

/// The members of a JSON object, read by name.
struct Obj<'a>(&'a Map<String, Value>);

impl<'a> Obj<'a> {
    fn of(v: &'a Value) -> Option<Self> {
        v.as_object().map(Obj)
    }

    /// A field that must be present.
    fn req<T: FromJson>(&self, name: &str) -> Option<T> {
        T::from_json(self.0.get(name)?)
    }

    /// An `Option` field: absent or `null` is `None`.
    fn opt<T: FromJson>(&self, name: &str) -> Option<Option<T>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Some(None),
            Some(v) => T::from_json(v).map(Some),
        }
    }

    /// A `#[serde(default)]` field: absent is the default.
    fn or_default<T: FromJson + Default>(&self, name: &str) -> Option<T> {
        self.0.get(name).map_or(Some(T::default()), T::from_json)
    }
}

impl FromJson for String {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(String::from)
    }
}

impl FromJson for u64 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_u64()
    }
}

impl FromJson for u32 {
    fn from_json(v: &Value) -> Option<Self> {
        u32::try_from(v.as_u64()?).ok()
    }
}

impl FromJson for bool {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_bool()
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_array()?.iter().map(T::from_json).collect()
    }
}

impl FromJson for BTreeMap<String, String> {
    fn from_json(v: &Value) -> Option<Self> {
        // Inserted one by one: `collect` would compile a sort and a bulk
        // build for a map whose members already come in order.
        let mut map = BTreeMap::new();
        for (k, v) in v.as_object()? {
            map.insert(k.clone(), String::from_json(v)?);
        }
        Some(map)
    }
}

impl FromJson for EncryptionContext {
    fn from_json(v: &Value) -> Option<Self> {
        BTreeMap::from_json(v).map(EncryptionContext)
    }
}

impl FromJson for GrantOperation {
    fn from_json(v: &Value) -> Option<Self> {
        GrantOperation::parse(v.as_str()?).ok()
    }
}

impl FromJson for AliasRecord {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        Some(AliasRecord {
            alias_name: o.req("alias_name")?,
            target_key_id: o.req("target_key_id")?,
            creation_date: o.req("creation_date")?,
            last_updated_date: o.req("last_updated_date")?,
        })
    }
}

impl FromJson for KeystoreConfig {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        Some(KeystoreConfig {
            format_version: o.req("format_version")?,
            keystore_id: o.req("keystore_id")?,
            region: o.req("region")?,
            account: o.req("account")?,
            created: o.req("created")?,
            admin_principal: o.or_default("admin_principal")?,
            audit_log: o.or_default("audit_log")?,
            anchored: o.or_default("anchored")?,
        })
    }
}

impl FromJson for GrantConstraints {
    fn from_json(v: &Value) -> Option<Self> {
        const NAMES: [&str; 2] = ["EncryptionContextEquals", "EncryptionContextSubset"];
        let o = Obj::of(v)?;
        if !o.0.keys().all(|k| NAMES.contains(&k.as_str())) {
            return None;
        }
        Some(GrantConstraints {
            encryption_context_equals: o.opt(NAMES[0])?,
            encryption_context_subset: o.opt(NAMES[1])?,
        })
    }
}

impl FromJson for Grant {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        Some(Grant {
            key_id: o.req("KeyId")?,
            grant_id: o.req("GrantId")?,
            name: o.opt("Name")?,
            creation_date: o.req("CreationDate")?,
            grantee_principal: o.req("GranteePrincipal")?,
            retiring_principal: o.opt("RetiringPrincipal")?,
            issuing_account: crate::grant::issuing_account_from(o.req("IssuingAccount")?),
            operations: o.req("Operations")?,
            constraints: o.opt("Constraints")?,
        })
    }
}

impl FromJson for BackingKey {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        Some(BackingKey {
            version: o.req("version")?,
            created: o.req("created")?,
            rotation_type: o.opt("rotation_type")?,
            sealed: crate::b64::decode(o.0.get("sealed")?.as_str()?).ok()?,
        })
    }
}

impl FromJson for RotationConfig {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        Some(RotationConfig {
            enabled: o.req("enabled")?,
            period_days: o.opt("period_days")?,
            next_rotation: o.opt("next_rotation")?,
            on_demand_count: o.req("on_demand_count")?,
            on_demand_started: o.opt("on_demand_started")?,
        })
    }
}

/// The members [`KeyRecord`] reads; any other goes to `extra`.
const KEY_RECORD_FIELDS: [&str; 18] = [
    "key_id",
    "arn",
    "account",
    "creation_date",
    "description",
    "key_spec",
    "key_usage",
    "origin",
    "state",
    "deletion_date",
    "pending_window_days",
    "tags",
    "rotation",
    "backing_keys",
    "policy",
    "valid_to",
    "import_commitment",
    "generation",
];

impl FromJson for KeyRecord {
    fn from_json(v: &Value) -> Option<Self> {
        let o = Obj::of(v)?;
        let mut extra = BTreeMap::new();
        for (k, v) in o.0 {
            if !KEY_RECORD_FIELDS.contains(&k.as_str()) {
                extra.insert(k.clone(), v.clone());
            }
        }
        Some(KeyRecord {
            key_id: o.req("key_id")?,
            arn: o.req("arn")?,
            account: o.req("account")?,
            creation_date: o.req("creation_date")?,
            description: o.req("description")?,
            key_spec: o.req("key_spec")?,
            key_usage: o.req("key_usage")?,
            origin: o.req("origin")?,
            state: o.req("state")?,
            deletion_date: o.opt("deletion_date")?,
            pending_window_days: o.opt("pending_window_days")?,
            tags: o.req("tags")?,
            rotation: o.req("rotation")?,
            backing_keys: o.req("backing_keys")?,
            policy: o.opt("policy")?,
            valid_to: o.opt("valid_to")?,
            import_commitment: o.opt("import_commitment")?,
            generation: o.req("generation")?,
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;
    use serde_json::json;

    /// The reading before this module: serde's derived code
    /// (`serde_json::from_slice`), for records that are JSON objects.
    fn serde_read<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
        let text = core::str::from_utf8(bytes).ok()?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }

    /// Values put in place of each member.
    fn probes() -> Vec<Value> {
        vec![
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(7),
            json!(-1),
            json!(1.5),
            json!(100.0),
            json!(-0.0),
            json!(4_294_967_295_u64),
            json!(4_294_967_296_u64),
            json!(u64::MAX),
            json!(""),
            json!("x"),
            json!("AAAA"),
            json!("not base64!"),
            json!("111122223333"),
            json!("Enabled"),
            json!("ON_DEMAND"),
            json!("SYMMETRIC_DEFAULT"),
            json!("Encrypt"),
            json!([]),
            json!(["Encrypt"]),
            json!(["encrypt"]),
            json!([1]),
            json!([{"version":1,"created":2,"sealed":"AAAA"}]),
            json!({}),
            json!({"a": "b"}),
            json!({"a": 1}),
            json!({"EncryptionContextSubset": {"a": "b"}}),
            json!({"EncryptionContextEquals": {"a": "b"}, "Other": 1}),
            json!({"enabled": false, "on_demand_count": 0}),
        ]
    }

    /// Every record obtained from `golden` by removing one member, setting it
    /// to each probe, or adding an unknown one, at the top level and in the
    /// nested objects at `nested` (JSON pointers).
    fn variants(golden: &Value, nested: &[&str]) -> Vec<Value> {
        let mut out = vec![golden.clone()];
        for at in [""].iter().chain(nested) {
            let names: Vec<String> = golden
                .pointer(at)
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            let mut edit = |f: &dyn Fn(&mut Map<String, Value>)| {
                let mut v = golden.clone();
                if let Some(o) = v.pointer_mut(at).and_then(Value::as_object_mut) {
                    f(o);
                }
                out.push(v);
            };
            edit(&|o| {
                o.insert("unknown_member".to_string(), json!([1, {"a": null}]));
            });
            edit(&|o| {
                o.insert("EncryptionContextSubset".to_string(), json!({"k": "v"}));
            });
            for name in &names {
                edit(&|o| {
                    o.remove(name);
                });
                for p in probes() {
                    edit(&|o| {
                        o.insert(name.clone(), p.clone());
                    });
                }
            }
        }
        out
    }

    /// The new reading and serde's accept the same variants of `golden`
    /// and read them as the same record.
    fn reads_alike<T: FromJson + serde::de::DeserializeOwned + PartialEq + core::fmt::Debug>(
        golden: &Value,
        nested: &[&str],
    ) -> (usize, usize) {
        let (mut accepted, mut refused) = (0, 0);
        for v in variants(golden, nested) {
            let bytes = serde_json::to_vec(&v).unwrap();
            let ours = read::<T>(&bytes);
            // A nested record written as an array: refused (see the module
            // documentation and `repeated_members_and_nested_arrays_are_refused`).
            if ["/Constraints", "/rotation"]
                .iter()
                .any(|at| v.pointer(at).is_some_and(Value::is_array))
            {
                assert_eq!(ours, None, "{v}");
                refused += 1;
                continue;
            }
            assert_eq!(ours, serde_read::<T>(&bytes), "{v}");
            if ours.is_some() {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        (accepted, refused)
    }

    fn key_record() -> Value {
        json!({
            "key_id": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "account": "111122223333",
            "creation_date": 1_700_000_000,
            "description": "d",
            "key_spec": "SYMMETRIC_DEFAULT",
            "key_usage": "ENCRYPT_DECRYPT",
            "origin": "AWS_KMS",
            "state": "Enabled",
            "deletion_date": null,
            "pending_window_days": 7,
            "tags": {"a": "b", "c": ""},
            "rotation": {
                "enabled": true,
                "period_days": 365,
                "next_rotation": 1_731_536_000,
                "on_demand_count": 1,
                "on_demand_started": null
            },
            "backing_keys": [
                {"version": 1, "created": 1_700_000_000, "rotation_type": null, "sealed": "AAECAw=="},
                {"version": 2, "created": 1_700_000_001, "rotation_type": "ON_DEMAND", "sealed": "BAU="}
            ],
            "policy": "{}",
            "valid_to": null,
            "import_commitment": "c29tZQ==",
            "generation": 3,
            "later_member": {"x": [1, 2.5, "y"]}
        })
    }

    #[test]
    fn key_records_read_as_serde_reads_them() {
        let golden = key_record();
        let rec = read::<KeyRecord>(&serde_json::to_vec(&golden).unwrap()).unwrap();
        assert_eq!(rec.extra.len(), 1);
        assert_eq!(rec.backing_keys[1].sealed, [4, 5]);
        let (accepted, refused) =
            reads_alike::<KeyRecord>(&golden, &["/rotation", "/backing_keys/1"]);
        assert!(accepted > 50 && refused > 500, "{accepted} {refused}");
    }

    #[test]
    fn grants_read_as_serde_reads_them() {
        let golden = json!({
            "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
            "GrantId": "g",
            "Name": "n",
            "CreationDate": 5,
            "GranteePrincipal": "arn:aws:iam::111122223333:role/r",
            "RetiringPrincipal": "arn:aws:iam::111122223333:role/s",
            "IssuingAccount": "111122223333",
            "Operations": ["Encrypt", "Decrypt"],
            "Constraints": {"EncryptionContextSubset": {"a": "b"}}
        });
        let g = read::<Grant>(&serde_json::to_vec(&golden).unwrap()).unwrap();
        assert_eq!(g.issuing_account, "arn:aws:iam::111122223333:root");
        let (accepted, refused) = reads_alike::<Grant>(&golden, &["/Constraints"]);
        assert!(accepted > 20 && refused > 200, "{accepted} {refused}");
    }

    #[test]
    fn aliases_and_configurations_read_as_serde_reads_them() {
        let alias = json!({
            "alias_name": "alias/a",
            "target_key_id": "k",
            "creation_date": 1,
            "last_updated_date": 2
        });
        let (accepted, refused) = reads_alike::<AliasRecord>(&alias, &[]);
        assert!(accepted > 10 && refused > 100, "{accepted} {refused}");
        let config = json!({
            "format_version": 3,
            "keystore_id": "1234abcd-12ab-34cd-56ef-1234567890ab",
            "region": "us-east-1",
            "account": "111122223333",
            "created": 1,
            "admin_principal": "arn:aws:iam::111122223333:root",
            "audit_log": true,
            "anchored": true
        });
        let (accepted, refused) = reads_alike::<KeystoreConfig>(&config, &[]);
        assert!(accepted > 10 && refused > 100, "{accepted} {refused}");
    }

    /// Texts: white space around the object is allowed, anything else
    /// after it or a record that is not an object is refused, as before.
    #[test]
    fn record_texts() {
        let alias = r#"{"target_key_id":"k","alias_name":"alias/a","creation_date":1,"last_updated_date":2}"#;
        for text in [
            format!(" {alias}\n"),
            format!("{alias} {{}}"),
            format!("{alias}x"),
            r#"["alias/a","k",1,2]"#.to_string(),
            "null".to_string(),
            String::new(),
        ] {
            assert_eq!(
                read::<AliasRecord>(text.as_bytes()),
                serde_read::<AliasRecord>(text.as_bytes()),
                "{text}"
            );
        }
        assert!(read::<AliasRecord>(format!(" {alias}\n").as_bytes()).is_some());
        assert!(read::<AliasRecord>(br#"["alias/a","k",1,2]"#).is_none());
    }

    /// The edges the module documentation names, which serde's reading
    /// accepted and nothing writes.
    #[test]
    fn repeated_members_and_nested_arrays_are_refused() {
        let alias = br#"{"alias_name":"alias/a","target_key_id":"k","creation_date":1,"last_updated_date":2,"x":1,"x":2}"#;
        assert!(serde_read::<AliasRecord>(alias).is_some());
        assert!(read::<AliasRecord>(alias).is_none());
        let mut rec = key_record();
        rec["rotation"] = json!([true, 365, null, 0, null]);
        let bytes = serde_json::to_vec(&rec).unwrap();
        assert!(serde_read::<KeyRecord>(&bytes).is_some());
        assert!(read::<KeyRecord>(&bytes).is_none());
        let text = serde_json::to_string(&key_record())
            .unwrap()
            .replace(r#""tags":{"a":"b""#, r#""tags":{"a":"b","a":"c""#);
        assert!(serde_read::<KeyRecord>(text.as_bytes()).is_some());
        assert!(read::<KeyRecord>(text.as_bytes()).is_none());
    }
}
