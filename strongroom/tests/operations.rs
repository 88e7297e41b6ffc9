//! Round trips of every `Keystore` operation, keys addressed in all four
//! ways KMS allows, and every KMS limit at and just past its edge.
#![allow(clippy::unwrap_used)]

mod fixture;

use std::collections::BTreeSet;

use fixture::*;
use strongroom::api::*;
use strongroom::core::blob;
use strongroom::core::key::{
    DataKeySpec, EncryptionAlgorithm, KeySpec, KeyState, KeyUsage, Origin, RotationType,
};
use strongroom::{ErrorKind, Keystore, Secret};

const REGION: &str = "local-1";
const ACCOUNT: &str = "000000000000";

fn blob_key_id(b: &[u8]) -> String {
    blob::parse_header(b).unwrap().key_id_string()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag {
        tag_key: k.to_string(),
        tag_value: v.to_string(),
    }
}

fn gdk_req(key_id: &str, spec: Option<DataKeySpec>, n: Option<u32>) -> GenerateDataKeyRequest {
    GenerateDataKeyRequest {
        key_id: key_id.to_string(),
        key_spec: spec,
        number_of_bytes: n,
        ..Default::default()
    }
}

/// Follows `NextMarker` until the end, checking `Truncated` agrees with it.
fn all_key_pages(ks: &Keystore, limit: u32) -> (Vec<String>, usize) {
    let mut marker: Option<String> = None;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let page = ks.list_keys(Some(limit), marker.as_deref()).unwrap();
        pages += 1;
        assert!(page.keys.len() <= limit as usize);
        assert_eq!(page.truncated, page.next_marker.is_some());
        ids.extend(page.keys.into_iter().map(|k| k.key_id));
        match page.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
        assert!(pages < 100, "pagination does not terminate");
    }
    (ids, pages)
}

#[test]
fn create_describe_and_metadata() {
    let f = fixture();
    let created =
        f.ks.create_key(&CreateKeyRequest {
            description: Some("first key".into()),
            tags: vec![tag("team", "vault")],
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    let id = &created.key_id;
    assert!(uuid_like(id), "{id}");
    assert_eq!(
        created.arn,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
    );
    assert_eq!(created.aws_account_id, ACCOUNT);
    assert_eq!(created.creation_date, T0);
    assert!(created.enabled);
    assert_eq!(created.key_state, KeyState::Enabled);
    assert_eq!(created.description, "first key");
    assert_eq!(created.key_spec, KeySpec::SymmetricDefault);
    assert_eq!(created.customer_master_key_spec, KeySpec::SymmetricDefault);
    assert_eq!(created.key_usage, KeyUsage::EncryptDecrypt);
    assert_eq!(created.origin, Origin::AwsKms);
    assert_eq!(created.key_manager, "CUSTOMER");
    assert_eq!(created.encryption_algorithms, vec!["SYMMETRIC_DEFAULT"]);
    assert_eq!(created.deletion_date, None);

    let described = f.ks.describe_key(id).unwrap().key_metadata;
    assert_eq!(described, created);
    assert_eq!(
        f.ks.list_resource_tags(id, None, None).unwrap().tags,
        vec![tag("team", "vault")]
    );

    // A reopened keystore describes the same key.
    drop(f.ks);
    let ks = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
    assert_eq!(ks.describe_key(id).unwrap().key_metadata, created);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit() && !b.is_ascii_uppercase(),
        })
}

#[test]
fn unknown_and_malformed_identifiers() {
    let f = fixture();
    let k = new_key(&f.ks);
    let absent = "11111111-2222-4333-8444-555555555555";
    expect_err(f.ks.describe_key(absent), ErrorKind::NotFoundException);
    expect_err(
        f.ks.describe_key("alias/none"),
        ErrorKind::NotFoundException,
    );
    expect_err(
        f.ks.describe_key("not-a-uuid"),
        ErrorKind::NotFoundException,
    );
    expect_err(f.ks.describe_key(""), ErrorKind::ValidationException);
    expect_err(
        f.ks.describe_key(&"a".repeat(2049)),
        ErrorKind::ValidationException,
    );
    // The right key ID in an ARN of another account or region names nothing here.
    expect_err(
        f.ks.describe_key(&format!(
            "arn:aws:kms:{REGION}:999999999999:key/{}",
            k.key_id
        )),
        ErrorKind::NotFoundException,
    );
    expect_err(
        f.ks.describe_key(&format!("arn:aws:kms:other-1:{ACCOUNT}:key/{}", k.key_id)),
        ErrorKind::NotFoundException,
    );
    expect_err(
        f.ks.describe_key("arn:aws:s3:::bucket"),
        ErrorKind::InvalidArnException,
    );
    expect_err(
        f.ks.describe_key(&format!("arn:aws:kms:{REGION}:{ACCOUNT}:grant/x")),
        ErrorKind::InvalidArnException,
    );
}

/// A key or alias ARN names a key here only in the keystore's partition
/// (`aws`, compared exactly), region and account: another partition is
/// `NotFoundException` with a wrong region's message, for the operations
/// that read, use and change a key (review 18, M4: the partition was never
/// compared). Core's MemKeystore: `memstore::an_arn_of_another_partition_names_no_key`.
#[test]
fn an_arn_of_another_partition_names_no_key() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.create_alias("alias/app", &k).unwrap();
    for resource in [format!("key/{k}"), "alias/app".to_owned()] {
        let good = format!("arn:aws:kms:{REGION}:{ACCOUNT}:{resource}");
        assert_eq!(f.ks.describe_key(&good).unwrap().key_metadata.key_id, k);
        let wrong_region = format!("arn:aws:kms:other-1:{ACCOUNT}:{resource}");
        let e = f.ks.describe_key(&wrong_region).unwrap_err();
        assert_eq!(
            e.message(),
            format!("{wrong_region} is not found in this keystore")
        );
        for partition in ["not-a-partition", "aws-cn", "aws-us-gov", "xyz", "", "AWS"] {
            let arn = format!("arn:{partition}:kms:{REGION}:{ACCOUNT}:{resource}");
            let msg = format!("{arn} is not found in this keystore");
            let e = f.ks.describe_key(&arn).unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::NotFoundException, &*msg)
            );
            let e =
                f.ks.encrypt(&EncryptRequest {
                    key_id: arn.clone(),
                    plaintext: Secret::from_slice(b"x"),
                    ..Default::default()
                })
                .unwrap_err();
            assert_eq!(
                (e.kind(), e.message()),
                (ErrorKind::NotFoundException, &*msg)
            );
            if resource.starts_with("key/") {
                for e in [
                    f.ks.disable_key(&arn).unwrap_err(),
                    f.ks.enable_key(&arn).unwrap_err(),
                    f.ks.create_alias("alias/b", &arn).unwrap_err(),
                ] {
                    assert_eq!(
                        (e.kind(), e.message()),
                        (ErrorKind::NotFoundException, &*msg)
                    );
                }
            }
        }
    }
    assert!(f.ks.describe_key(&k).unwrap().key_metadata.enabled);
}

/// The symmetric operations that take an alias reach the key by all four
/// forms (the others: key_identifiers.rs).
#[test]
fn every_identifier_form_reaches_the_key() {
    let f = fixture();
    let k = new_key(&f.ks);
    let other = new_key(&f.ks);
    f.ks.create_alias("alias/app", &k.key_id).unwrap();
    let forms = [
        k.key_id.clone(),
        k.arn.clone(),
        "alias/app".to_string(),
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/app"),
    ];
    let c = ctx(&[("form", "test")]);
    for form in forms.iter() {
        assert_eq!(
            f.ks.describe_key(form).unwrap().key_metadata.key_id,
            k.key_id
        );

        let enc =
            f.ks.encrypt(&EncryptRequest {
                key_id: form.clone(),
                plaintext: Secret::from_slice(b"by every name"),
                encryption_context: c.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(enc.key_id, k.arn);
        assert_eq!(blob_key_id(&enc.ciphertext_blob), k.key_id);
        let dec = try_decrypt(&f.ks, &enc.ciphertext_blob, &c, Some(form)).unwrap();
        assert_eq!(dec.plaintext.expose_secret(), b"by every name");
        assert_eq!(dec.key_id, k.arn);

        let dk =
            f.ks.generate_data_key(&gdk_req(form, Some(DataKeySpec::Aes128), None))
                .unwrap();
        assert_eq!(blob_key_id(&dk.ciphertext_blob), k.key_id);
        let dk2 =
            f.ks.generate_data_key_without_plaintext(&gdk_req(form, None, Some(7)))
                .unwrap();
        assert_eq!(dk2.key_id, k.arn);

        // ReEncrypt with the identifier as the destination and as the expected source.
        let re =
            f.ks.re_encrypt(&ReEncryptRequest {
                ciphertext_blob: enc.ciphertext_blob.clone(),
                source_encryption_context: c.clone(),
                source_key_id: Some(form.clone()),
                destination_key_id: form.clone(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(re.key_id, k.arn);
    }
    // A KeyId naming another key in any form: IncorrectKeyException.
    let blob = encrypt(&f.ks, &k.key_id, b"x", &c);
    for form in [
        other.key_id.clone(),
        other.arn.clone(),
        "alias/other".into(),
    ] {
        if form == "alias/other" {
            f.ks.create_alias("alias/other", &other.key_id).unwrap();
        }
        expect_err(
            try_decrypt(&f.ks, &blob, &c, Some(&form)),
            ErrorKind::IncorrectKeyException,
        );
    }
    // An alias may target a key by ARN but not by another alias.
    f.ks.create_alias("alias/by-arn", &k.arn).unwrap();
    expect_err(
        f.ks.create_alias("alias/by-alias", "alias/app"),
        ErrorKind::ValidationException,
    );
}

#[test]
fn list_keys_paginates_with_markers() {
    let f = fixture();
    let mut created = BTreeSet::new();
    for _ in 0..7 {
        created.insert(new_key(&f.ks).key_id);
    }
    let everything = f.ks.list_keys(None, None).unwrap();
    assert!(!everything.truncated);
    assert_eq!(everything.next_marker, None);
    assert_eq!(everything.keys.len(), 7);
    for e in &everything.keys {
        assert_eq!(
            e.key_arn,
            format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", e.key_id)
        );
    }

    for limit in [1, 2, 3, 6, 7, 8] {
        let (ids, pages) = all_key_pages(&f.ks, limit);
        assert_eq!(ids.len(), 7, "limit {limit}: duplicates or losses");
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), created);
        assert_eq!(
            pages,
            7usize.div_ceil(limit as usize).max(1),
            "limit {limit}"
        );
    }
    let first = f.ks.list_keys(Some(3), None).unwrap();
    assert!(first.truncated);
    assert_eq!(first.keys.len(), 3);

    expect_err(
        f.ks.list_keys(Some(3), Some("%%% not a marker")),
        ErrorKind::InvalidMarkerException,
    );
}

#[test]
fn update_description_enable_disable() {
    let f = fixture();
    let k = new_key(&f.ks);
    assert_eq!(k.description, "");
    f.ks.update_key_description(&k.key_id, "new words").unwrap();
    assert_eq!(
        f.ks.describe_key(&k.key_id)
            .unwrap()
            .key_metadata
            .description,
        "new words"
    );
    f.ks.update_key_description(&k.key_id, "").unwrap();
    assert_eq!(
        f.ks.describe_key(&k.key_id)
            .unwrap()
            .key_metadata
            .description,
        ""
    );

    f.ks.disable_key(&k.key_id).unwrap();
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!((m.key_state, m.enabled), (KeyState::Disabled, false));
    f.ks.disable_key(&k.key_id).unwrap(); // idempotent, as in KMS
    f.ks.enable_key(&k.key_id).unwrap();
    f.ks.enable_key(&k.key_id).unwrap();
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!((m.key_state, m.enabled), (KeyState::Enabled, true));
}

#[test]
fn schedule_and_cancel_deletion() {
    let f = fixture();
    let k = new_key(&f.ks);
    let s = f.ks.schedule_key_deletion(&k.key_id, None).unwrap();
    assert_eq!(s.pending_window_in_days, 30, "default window");
    assert_eq!(s.deletion_date, T0 + 30 * DAY);
    assert_eq!(s.key_state, KeyState::PendingDeletion);
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!(m.key_state, KeyState::PendingDeletion);
    assert_eq!(m.deletion_date, Some(T0 + 30 * DAY));
    assert_eq!(m.pending_deletion_window_in_days, Some(30));
    // Scheduling twice is an invalid state.
    expect_err(
        f.ks.schedule_key_deletion(&k.key_id, Some(7)),
        ErrorKind::KMSInvalidStateException,
    );
    assert_eq!(f.ks.cancel_key_deletion(&k.key_id).unwrap().key_id, k.arn);
    let m = f.ks.describe_key(&k.key_id).unwrap().key_metadata;
    assert_eq!(
        m.key_state,
        KeyState::Disabled,
        "CancelKeyDeletion leaves the key Disabled"
    );
    assert_eq!(m.deletion_date, None);
    expect_err(
        f.ks.cancel_key_deletion(&k.key_id),
        ErrorKind::KMSInvalidStateException,
    );
}

#[test]
fn rotation_settings_on_demand_and_list() {
    let f = fixture();
    let k = new_key(&f.ks);
    let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
    assert!(!st.key_rotation_enabled);
    assert_eq!(st.rotation_period_in_days, None);
    assert_eq!(st.next_rotation_date, None);
    assert_eq!(st.on_demand_rotation_start_date, None);

    f.ks.enable_key_rotation(&k.key_id, None).unwrap();
    let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
    assert!(st.key_rotation_enabled);
    assert_eq!(st.rotation_period_in_days, Some(365), "default period");
    assert_eq!(st.next_rotation_date, Some(T0 + 365 * DAY));
    f.ks.disable_key_rotation(&k.key_id).unwrap();
    let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
    assert!(!st.key_rotation_enabled);
    assert_eq!(st.next_rotation_date, None);

    assert!(f
        .ks
        .list_key_rotations(&k.key_id, None, None)
        .unwrap()
        .rotations
        .is_empty());
    for i in 0..5u64 {
        f.clock.advance(60);
        let r = f.ks.rotate_key_on_demand(&k.key_id).unwrap();
        assert_eq!(r.key_id, k.key_id);
        let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
        assert_eq!(st.on_demand_rotation_start_date, Some(T0 + 60 * (i + 1)));
    }
    let all = f.ks.list_key_rotations(&k.key_id, None, None).unwrap();
    assert!(!all.truncated);
    assert_eq!(all.rotations.len(), 5);
    for (i, r) in all.rotations.iter().enumerate() {
        assert_eq!(r.rotation_type, RotationType::OnDemand);
        assert_eq!(r.rotation_date, T0 + 60 * (i as u64 + 1));
        assert_eq!(r.key_id, k.key_id);
    }
    // Pagination: pages of 2 give 2, 2, 1 in order.
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let p =
            f.ks.list_key_rotations(&k.key_id, Some(2), marker.as_deref())
                .unwrap();
        assert_eq!(p.truncated, p.next_marker.is_some());
        sizes.push(p.rotations.len());
        seen.extend(p.rotations);
        match p.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen, all.rotations);
    expect_err(
        f.ks.list_key_rotations(&k.key_id, Some(2), Some("bogus!")),
        ErrorKind::InvalidMarkerException,
    );
}

#[test]
fn aliases_create_update_delete_list() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    for name in ["alias/a1", "alias/a2", "alias/a3"] {
        f.ks.create_alias(name, &a.key_id).unwrap();
    }
    f.clock.advance(10);
    for name in ["alias/b1", "alias/b2"] {
        f.ks.create_alias(name, &b.key_id).unwrap();
    }
    expect_err(
        f.ks.create_alias("alias/a1", &b.key_id),
        ErrorKind::AlreadyExistsException,
    );
    expect_err(
        f.ks.create_alias("alias/x", "11111111-2222-4333-8444-555555555555"),
        ErrorKind::NotFoundException,
    );

    let all = f.ks.list_aliases(None, None, None).unwrap();
    assert!(!all.truncated);
    let names: Vec<_> = all.aliases.iter().map(|x| x.alias_name.as_str()).collect();
    assert_eq!(
        names,
        ["alias/a1", "alias/a2", "alias/a3", "alias/b1", "alias/b2"]
    );
    let a1 = &all.aliases[0];
    assert_eq!(
        a1.alias_arn,
        format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/a1")
    );
    assert_eq!(a1.target_key_id, a.key_id);
    assert_eq!((a1.creation_date, a1.last_updated_date), (T0, T0));

    let of_a = f.ks.list_aliases(Some(&a.key_id), None, None).unwrap();
    assert_eq!(of_a.aliases.len(), 3);
    assert!(of_a.aliases.iter().all(|x| x.target_key_id == a.key_id));
    let of_b = f.ks.list_aliases(Some(&b.arn), None, None).unwrap();
    assert_eq!(of_b.aliases.len(), 2);
    expect_err(
        f.ks.list_aliases(Some("11111111-2222-4333-8444-555555555555"), None, None),
        ErrorKind::NotFoundException,
    );

    // Pagination with and without the key filter.
    for (filter, expected) in [(None, 5usize), (Some(a.key_id.as_str()), 3)] {
        let mut marker: Option<String> = None;
        let mut seen = Vec::new();
        loop {
            let p =
                f.ks.list_aliases(filter, Some(2), marker.as_deref())
                    .unwrap();
            assert!(p.aliases.len() <= 2);
            assert_eq!(p.truncated, p.next_marker.is_some());
            seen.extend(p.aliases.into_iter().map(|x| x.alias_name));
            match p.next_marker {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen.len(), expected);
        assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), expected);
    }

    // UpdateAlias moves the alias: encryption through it now uses key B.
    f.clock.advance(5);
    f.ks.update_alias("alias/a1", &b.key_id).unwrap();
    let blob = encrypt(&f.ks, "alias/a1", b"moved", &ctx(&[]));
    assert_eq!(blob_key_id(&blob), b.key_id);
    let moved =
        f.ks.list_aliases(Some(&b.key_id), None, None)
            .unwrap()
            .aliases
            .into_iter()
            .find(|x| x.alias_name == "alias/a1")
            .unwrap();
    assert_eq!(
        (moved.creation_date, moved.last_updated_date),
        (T0, T0 + 15)
    );
    expect_err(
        f.ks.update_alias("alias/none", &b.key_id),
        ErrorKind::NotFoundException,
    );

    f.ks.delete_alias("alias/a1").unwrap();
    expect_err(f.ks.describe_key("alias/a1"), ErrorKind::NotFoundException);
    expect_err(f.ks.delete_alias("alias/a1"), ErrorKind::NotFoundException);
    expect_err(
        f.ks.delete_alias("a1"),
        ErrorKind::InvalidAliasNameException,
    );
    assert_eq!(
        f.ks.list_aliases(None, None, None).unwrap().aliases.len(),
        4
    );
    // The key itself is untouched by alias deletion.
    f.ks.describe_key(&b.key_id).unwrap();

    // No alias may point at a key pending deletion.
    f.ks.schedule_key_deletion(&a.key_id, None).unwrap();
    expect_err(
        f.ks.create_alias("alias/late", &a.key_id),
        ErrorKind::KMSInvalidStateException,
    );
}

#[test]
fn tags_tag_untag_list() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.tag_resource(&k.key_id, &[tag("b", "2"), tag("a", "1"), tag("c", "")])
        .unwrap();
    let tags = f.ks.list_resource_tags(&k.key_id, None, None).unwrap();
    assert!(!tags.truncated);
    assert_eq!(tags.tags, vec![tag("a", "1"), tag("b", "2"), tag("c", "")]);
    // Re-tagging replaces the value.
    f.ks.tag_resource(&k.key_id, &[tag("a", "one")]).unwrap();
    // Untagging ignores absent keys.
    f.ks.untag_resource(&k.key_id, &["b".into(), "absent".into()])
        .unwrap();
    assert_eq!(
        f.ks.list_resource_tags(&k.key_id, None, None).unwrap().tags,
        vec![tag("a", "one"), tag("c", "")]
    );
    expect_err(
        f.ks.tag_resource(&k.key_id, &[tag("aws:reserved", "x")]),
        ErrorKind::TagException,
    );
    // Lengths are the Tag shape's constraints (ValidationException, as AWS
    // KMS), checked before the key is looked up.
    expect_err(
        f.ks.tag_resource(&k.key_id, &[tag("", "x")]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.tag_resource("alias/none", &[tag("", "x")]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.untag_resource(&k.key_id, &["".into()]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.untag_resource(&k.key_id, &["K".repeat(129)]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.create_key(&CreateKeyRequest {
            tags: vec![tag("", "x")],
            ..Default::default()
        }),
        ErrorKind::ValidationException,
    );

    // Pagination over 5 tags by 2.
    f.ks.tag_resource(&k.key_id, &[tag("d", "4"), tag("e", "5"), tag("f", "6")])
        .unwrap();
    let mut marker: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let p =
            f.ks.list_resource_tags(&k.key_id, Some(2), marker.as_deref())
                .unwrap();
        assert!(p.tags.len() <= 2);
        assert_eq!(p.truncated, p.next_marker.is_some());
        seen.extend(p.tags.into_iter().map(|t| t.tag_key));
        match p.next_marker {
            Some(m) => marker = Some(m),
            None => break,
        }
    }
    assert_eq!(seen, ["a", "c", "d", "e", "f"]);
}

#[test]
fn encrypt_decrypt_reencrypt_data_keys_random() {
    let f = fixture();
    let a = new_key(&f.ks);
    let b = new_key(&f.ks);
    let c1 = ctx(&[("purpose", "test"), ("tenant", "42")]);
    let c2 = ctx(&[("purpose", "moved")]);

    let enc =
        f.ks.encrypt(&EncryptRequest {
            key_id: a.key_id.clone(),
            plaintext: Secret::from_slice(b"attack at dawn"),
            encryption_context: c1.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(enc.key_id, a.arn);
    assert_eq!(enc.encryption_algorithm.as_str(), "SYMMETRIC_DEFAULT");
    assert_eq!(enc.ciphertext_blob.len(), blob::OVERHEAD + 14);
    // Randomised: the same input twice gives different blobs.
    assert_ne!(
        enc.ciphertext_blob,
        encrypt(&f.ks, &a.key_id, b"attack at dawn", &c1)
    );
    let dec = try_decrypt(&f.ks, &enc.ciphertext_blob, &c1, None).unwrap();
    assert_eq!(dec.plaintext.expose_secret(), b"attack at dawn");
    assert_eq!(dec.key_id, a.arn);

    let re =
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            source_encryption_context: c1.clone(),
            destination_key_id: b.key_id.clone(),
            destination_encryption_context: c2.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        (re.source_key_id.as_str(), re.key_id.as_str()),
        (a.arn.as_str(), b.arn.as_str())
    );
    assert_eq!(blob_key_id(&re.ciphertext_blob), b.key_id);
    assert_eq!(decrypt(&f.ks, &re.ciphertext_blob, &c2), b"attack at dawn");
    expect_err(
        try_decrypt(&f.ks, &re.ciphertext_blob, &c1, None),
        ErrorKind::InvalidCiphertextException,
    );
    // ReEncrypt checks the source context and the expected source key.
    expect_err(
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            source_encryption_context: c2.clone(),
            destination_key_id: b.key_id.clone(),
            ..Default::default()
        }),
        ErrorKind::InvalidCiphertextException,
    );
    expect_err(
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            source_encryption_context: c1.clone(),
            source_key_id: Some(b.key_id.clone()),
            destination_key_id: b.key_id.clone(),
            ..Default::default()
        }),
        ErrorKind::IncorrectKeyException,
    );
    // A symmetric source takes only SYMMETRIC_DEFAULT, as Decrypt does (the
    // same check as when the destination is an RSA key).
    let err =
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: enc.ciphertext_blob.clone(),
            source_encryption_context: c1.clone(),
            source_encryption_algorithm: Some(EncryptionAlgorithm::RsaesOaepSha256),
            destination_key_id: b.key_id.clone(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidKeyUsageException);
    assert_eq!(
        err.message(),
        "SourceEncryptionAlgorithm is not valid for a symmetric key"
    );

    for (spec, n, len) in [
        (Some(DataKeySpec::Aes256), None, 32),
        (Some(DataKeySpec::Aes128), None, 16),
        (None, Some(64), 64),
    ] {
        let mut req = gdk_req(&a.key_id, spec, n);
        req.encryption_context = c1.clone();
        let dk = f.ks.generate_data_key(&req).unwrap();
        assert_eq!(dk.plaintext.len(), len);
        assert_eq!(dk.key_id, a.arn);
        assert_eq!(
            decrypt(&f.ks, &dk.ciphertext_blob, &c1),
            dk.plaintext.expose_secret()
        );
        let other = f.ks.generate_data_key(&req).unwrap();
        assert_ne!(other.plaintext, dk.plaintext, "data keys are fresh");

        let wp = f.ks.generate_data_key_without_plaintext(&req).unwrap();
        assert_eq!(wp.key_id, a.arn);
        assert_eq!(decrypt(&f.ks, &wp.ciphertext_blob, &c1).len(), len);
    }

    let r1 = f.ks.generate_random(32).unwrap().plaintext;
    let r2 = f.ks.generate_random(32).unwrap().plaintext;
    assert_eq!(r1.len(), 32);
    assert_ne!(r1, r2);
}

// ---- limits -----------------------------------------------------------------

#[test]
fn limit_plaintext_length() {
    let f = fixture();
    let k = new_key(&f.ks);
    for n in [1usize, 4096] {
        let pt = vec![0xabu8; n];
        let blob = try_encrypt(&f.ks, &k.key_id, &pt).unwrap().ciphertext_blob;
        assert!(blob.len() <= blob::MAX_BLOB_LEN);
        assert_eq!(decrypt(&f.ks, &blob, &ctx(&[])), pt);
    }
    for n in [0usize, 4097] {
        expect_err(
            try_encrypt(&f.ks, &k.key_id, &vec![1u8; n]),
            ErrorKind::ValidationException,
        );
    }
}

#[test]
fn limit_blob_length() {
    let f = fixture();
    let k = new_key(&f.ks);
    let blob = try_encrypt(&f.ks, &k.key_id, &[7u8; 4096])
        .unwrap()
        .ciphertext_blob;
    assert!(blob.len() <= 6144);
    // KMS's length constraint on CiphertextBlob (1 to 6144 bytes) is a
    // ValidationException, even with a valid header.
    let mut long = blob.clone();
    long.resize(6145, 0);
    expect_err(
        try_decrypt(&f.ks, &long, &ctx(&[]), None),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.re_encrypt(&ReEncryptRequest {
            ciphertext_blob: long,
            destination_key_id: k.key_id.clone(),
            ..Default::default()
        }),
        ErrorKind::ValidationException,
    );
    expect_err(
        try_decrypt(&f.ks, &[], &ctx(&[]), None),
        ErrorKind::ValidationException,
    );
}

/// KMS's length constraints on the byte parameters, at their edges, are a
/// ValidationException decided before the key is looked up: on a key that
/// does not exist the longest valid value is NotFoundException, one byte
/// more or an empty value ValidationException. Markers and grant tokens
/// too (`core/tests/limits.rs` has the in-memory keystore's side).
#[test]
fn limit_byte_parameters() {
    let f = fixture();
    let ks = &f.ks;
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab".to_string();
    let bytes = |n: usize| vec![1u8; n];
    let secret = |n: usize| Secret::from_slice(&bytes(n));
    let verify = |message: usize, signature: usize| {
        ks.verify(&VerifyRequest {
            key_id: missing.clone(),
            message: secret(message),
            signature: bytes(signature),
            ..Default::default()
        })
        .map(drop)
    };
    let verify_mac = |message: usize, mac: usize| {
        ks.verify_mac(&VerifyMacRequest {
            key_id: missing.clone(),
            message: secret(message),
            mac: bytes(mac),
            ..Default::default()
        })
        .map(drop)
    };
    let import = |import_token: usize, material: usize| {
        ks.import_key_material(&ImportKeyMaterialRequest {
            key_id: missing.clone(),
            import_token: bytes(import_token),
            encrypted_key_material: bytes(material),
            ..Default::default()
        })
    };
    type Call<'a> = Box<dyn Fn(usize) -> strongroom::Result<()> + 'a>;
    let cases: Vec<(&str, usize, Call<'_>)> = vec![
        (
            "Encrypt Plaintext",
            4096,
            Box::new(|n| try_encrypt(ks, &missing, &bytes(n)).map(drop)),
        ),
        (
            "Sign Message",
            4096,
            Box::new(|n| {
                let req = SignRequest {
                    key_id: missing.clone(),
                    message: secret(n),
                    ..Default::default()
                };
                ks.sign(&req).map(drop)
            }),
        ),
        ("Verify Message", 4096, Box::new(|n| verify(n, 64))),
        ("Verify Signature", 6144, Box::new(|n| verify(32, n))),
        (
            "GenerateMac Message",
            4096,
            Box::new(|n| {
                let req = GenerateMacRequest {
                    key_id: missing.clone(),
                    message: secret(n),
                    ..Default::default()
                };
                ks.generate_mac(&req).map(drop)
            }),
        ),
        ("VerifyMac Message", 4096, Box::new(|n| verify_mac(n, 32))),
        ("VerifyMac Mac", 6144, Box::new(|n| verify_mac(32, n))),
        (
            "DeriveSharedSecret PublicKey",
            8192,
            Box::new(|n| {
                let req = DeriveSharedSecretRequest {
                    key_id: missing.clone(),
                    public_key: bytes(n),
                    ..Default::default()
                };
                ks.derive_shared_secret(&req).map(drop)
            }),
        ),
        (
            "ImportKeyMaterial ImportToken",
            6144,
            Box::new(|n| import(n, 256)),
        ),
        (
            "ImportKeyMaterial EncryptedKeyMaterial",
            6144,
            Box::new(|n| import(256, n)),
        ),
    ];
    for (what, max, call) in &cases {
        assert_eq!(
            call(*max).unwrap_err().kind(),
            ErrorKind::NotFoundException,
            "{what}"
        );
        for bad in [0, max + 1] {
            assert_eq!(
                call(bad).unwrap_err().kind(),
                ErrorKind::ValidationException,
                "{what}: {bad} bytes"
            );
        }
    }
    let k = new_key(&f.ks);
    for marker in [String::new(), "!".repeat(1025), "\u{100}".into()] {
        expect_err(
            f.ks.list_keys(None, Some(&marker)),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.list_aliases(None, None, Some(&marker)),
            ErrorKind::ValidationException,
        );
    }
    expect_err(
        f.ks.list_keys(None, Some(&"!".repeat(1024))),
        ErrorKind::InvalidMarkerException,
    );
    let with_token = |token: String| EncryptRequest {
        key_id: k.key_id.clone(),
        plaintext: Secret::from_slice(b"x"),
        grant_tokens: vec![token],
        ..Default::default()
    };
    for token in [String::new(), "A".repeat(8193)] {
        expect_err(
            f.ks.encrypt(&with_token(token)),
            ErrorKind::ValidationException,
        );
    }
    expect_err(
        f.ks.encrypt(&with_token("A".repeat(8192))),
        ErrorKind::InvalidGrantTokenException,
    );
}

#[test]
fn limit_number_of_bytes() {
    let f = fixture();
    let k = new_key(&f.ks);
    for n in [1u32, 1024] {
        let dk =
            f.ks.generate_data_key(&gdk_req(&k.key_id, None, Some(n)))
                .unwrap();
        assert_eq!(dk.plaintext.len(), n as usize);
        f.ks.generate_data_key_without_plaintext(&gdk_req(&k.key_id, None, Some(n)))
            .unwrap();
        assert_eq!(f.ks.generate_random(n).unwrap().plaintext.len(), n as usize);
    }
    for n in [0u32, 1025] {
        expect_err(
            f.ks.generate_data_key(&gdk_req(&k.key_id, None, Some(n))),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.generate_data_key_without_plaintext(&gdk_req(&k.key_id, None, Some(n))),
            ErrorKind::ValidationException,
        );
        expect_err(f.ks.generate_random(n), ErrorKind::ValidationException);
    }
    // KeySpec and NumberOfBytes: exactly one.
    for (spec, n) in [(Some(DataKeySpec::Aes256), Some(32)), (None, None)] {
        expect_err(
            f.ks.generate_data_key(&gdk_req(&k.key_id, spec, n)),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.generate_data_key_without_plaintext(&gdk_req(&k.key_id, spec, n)),
            ErrorKind::ValidationException,
        );
    }
}

#[test]
fn limit_pending_window() {
    let f = fixture();
    let k = new_key(&f.ks);
    for days in [7u32, 30] {
        let s = f.ks.schedule_key_deletion(&k.key_id, Some(days)).unwrap();
        assert_eq!(s.pending_window_in_days, days);
        assert_eq!(s.deletion_date, T0 + u64::from(days) * DAY);
        f.ks.cancel_key_deletion(&k.key_id).unwrap();
    }
    for days in [0u32, 6, 31] {
        expect_err(
            f.ks.schedule_key_deletion(&k.key_id, Some(days)),
            ErrorKind::ValidationException,
        );
        assert_eq!(
            f.ks.describe_key(&k.key_id).unwrap().key_metadata.key_state,
            KeyState::Disabled,
            "a refused schedule changes nothing"
        );
    }
}

#[test]
fn limit_rotation_period() {
    let f = fixture();
    let k = new_key(&f.ks);
    for days in [90u32, 2560] {
        f.ks.enable_key_rotation(&k.key_id, Some(days)).unwrap();
        let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
        assert_eq!(st.rotation_period_in_days, Some(days));
        assert_eq!(st.next_rotation_date, Some(T0 + u64::from(days) * DAY));
    }
    for days in [0u32, 89, 2561] {
        expect_err(
            f.ks.enable_key_rotation(&k.key_id, Some(days)),
            ErrorKind::ValidationException,
        );
    }
    assert_eq!(
        f.ks.get_key_rotation_status(&k.key_id)
            .unwrap()
            .rotation_period_in_days,
        Some(2560),
        "a refused period changes nothing"
    );
}

#[test]
fn limit_on_demand_rotations() {
    let f = fixture();
    let k = new_key(&f.ks);
    for _ in 0..10 {
        f.ks.rotate_key_on_demand(&k.key_id).unwrap();
    }
    expect_err(
        f.ks.rotate_key_on_demand(&k.key_id),
        ErrorKind::LimitExceededException,
    );
    assert_eq!(
        f.ks.list_key_rotations(&k.key_id, None, None)
            .unwrap()
            .rotations
            .len(),
        10,
        "the refused rotation added no backing key"
    );
    let blob = encrypt(&f.ks, &k.key_id, b"v11", &ctx(&[]));
    assert_eq!(blob::parse_header(&blob).unwrap().version, 11);
}

#[test]
fn limit_description() {
    let f = fixture();
    let ok = "d".repeat(8192);
    let long = "d".repeat(8193);
    let k =
        f.ks.create_key(&CreateKeyRequest {
            description: Some(ok.clone()),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(k.description, ok);
    // Characters, not bytes: 8192 two-byte characters are fine.
    f.ks.update_key_description(&k.key_id, &"é".repeat(8192))
        .unwrap();
    expect_err(
        f.ks.create_key(&CreateKeyRequest {
            description: Some(long.clone()),
            ..Default::default()
        }),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.update_key_description(&k.key_id, &long),
        ErrorKind::ValidationException,
    );
    assert_eq!(
        f.ks.list_keys(None, None).unwrap().keys.len(),
        1,
        "no key from the refused create"
    );
}

#[test]
fn limit_alias_names() {
    let f = fixture();
    let k = new_key(&f.ks);
    let max = format!("alias/{}", "n".repeat(250));
    assert_eq!(max.len(), 256);
    f.ks.create_alias(&max, &k.key_id).unwrap();
    f.ks.create_alias("alias/Az09_-/nested", &k.key_id).unwrap();
    f.ks.create_alias("alias/awsome", &k.key_id).unwrap();
    let too_long = format!("alias/{}", "n".repeat(251));
    let e = f.ks.create_alias(&too_long, &k.key_id).unwrap_err();
    assert!(
        matches!(
            e.kind(),
            ErrorKind::ValidationException | ErrorKind::InvalidAliasNameException
        ),
        "{e}"
    );
    for bad in [
        "alias/aws/mine",
        "alias/aws",
        "alias/",
        "noprefix",
        "alias/has space",
        "alias/dot.dot",
        "alias/colon:x",
        "alias/ünïcode",
        "ALIAS/upper",
    ] {
        expect_err(
            f.ks.create_alias(bad, &k.key_id),
            ErrorKind::InvalidAliasNameException,
        );
    }
    expect_err(
        f.ks.update_alias("alias/aws/mine", &k.key_id),
        ErrorKind::InvalidAliasNameException,
    );
    let names: Vec<_> =
        f.ks.list_aliases(None, None, None)
            .unwrap()
            .aliases
            .into_iter()
            .map(|a| a.alias_name)
            .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn limit_tags() {
    let f = fixture();
    let fifty: Vec<Tag> = (0..50).map(|i| tag(&format!("k{i:02}"), "v")).collect();
    let k =
        f.ks.create_key(&CreateKeyRequest {
            tags: fifty.clone(),
            ..Default::default()
        })
        .unwrap()
        .key_metadata;
    assert_eq!(
        f.ks.list_resource_tags(&k.key_id, None, None)
            .unwrap()
            .tags
            .len(),
        50
    );
    // Replacing an existing tag keeps the count at 50.
    f.ks.tag_resource(&k.key_id, &[tag("k00", "new")]).unwrap();
    expect_err(
        f.ks.tag_resource(&k.key_id, &[tag("k50", "v")]),
        ErrorKind::TagException,
    );
    let mut fifty_one = fifty.clone();
    fifty_one.push(tag("k50", "v"));
    expect_err(
        f.ks.create_key(&CreateKeyRequest {
            tags: fifty_one,
            ..Default::default()
        }),
        ErrorKind::TagException,
    );
    assert_eq!(
        f.ks.list_resource_tags(&k.key_id, None, None)
            .unwrap()
            .tags
            .len(),
        50
    );

    let k2 = new_key(&f.ks);
    f.ks.tag_resource(&k2.key_id, &[tag(&"K".repeat(128), &"V".repeat(256))])
        .unwrap();
    f.ks.tag_resource(&k2.key_id, &[tag(&"é".repeat(128), &"ü".repeat(256))])
        .unwrap();
    expect_err(
        f.ks.tag_resource(&k2.key_id, &[tag(&"K".repeat(129), "v")]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.tag_resource(&k2.key_id, &[tag("k", &"V".repeat(257))]),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.tag_resource(&k2.key_id, &[tag(&"é".repeat(129), "v")]),
        ErrorKind::ValidationException,
    );
    assert_eq!(
        f.ks.list_resource_tags(&k2.key_id, None, None)
            .unwrap()
            .tags
            .len(),
        2
    );
}

#[test]
fn limit_list_page_sizes() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/one", &k.key_id).unwrap();
    f.ks.rotate_key_on_demand(&k.key_id).unwrap();
    f.ks.tag_resource(&k.key_id, &[tag("t", "v")]).unwrap();
    f.ks.create_grant(&CreateGrantRequest {
        key_id: k.key_id.clone(),
        grantee_principal: "arn:aws:iam::000000000000:user/app".into(),
        retiring_principal: Some("arn:aws:iam::000000000000:user/app".into()),
        operations: vec![strongroom::core::grant::GrantOperation::Decrypt],
        ..Default::default()
    })
    .unwrap();
    let grants = |limit| {
        f.ks.list_grants(&ListGrantsRequest {
            key_id: k.key_id.clone(),
            limit,
            ..Default::default()
        })
    };
    let retirable = |limit| {
        f.ks.list_retirable_grants("arn:aws:iam::000000000000:user/app", limit, None)
    };
    // ListKeys, ListKeyRotations, ListKeyPolicies take 1–1000.
    for limit in [1u32, 1000] {
        assert_eq!(f.ks.list_keys(Some(limit), None).unwrap().keys.len(), 1);
        assert_eq!(
            f.ks.list_key_rotations(&k.key_id, Some(limit), None)
                .unwrap()
                .rotations
                .len(),
            1
        );
        assert_eq!(
            f.ks.list_key_policies(&k.key_id, Some(limit), None)
                .unwrap()
                .policy_names,
            ["default"]
        );
    }
    for limit in [0u32, 1001] {
        expect_err(
            f.ks.list_keys(Some(limit), None),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.list_key_rotations(&k.key_id, Some(limit), None),
            ErrorKind::ValidationException,
        );
        expect_err(
            f.ks.list_key_policies(&k.key_id, Some(limit), None),
            ErrorKind::ValidationException,
        );
    }
    // ListAliases, ListGrants, ListRetirableGrants take 1–100.
    for limit in [1u32, 100] {
        assert_eq!(
            f.ks.list_aliases(None, Some(limit), None)
                .unwrap()
                .aliases
                .len(),
            1
        );
        assert_eq!(grants(Some(limit)).unwrap().grants.len(), 1);
        assert_eq!(retirable(Some(limit)).unwrap().grants.len(), 1);
    }
    for limit in [0u32, 101, 1000] {
        expect_err(
            f.ks.list_aliases(None, Some(limit), None),
            ErrorKind::ValidationException,
        );
        expect_err(grants(Some(limit)), ErrorKind::ValidationException);
        expect_err(retirable(Some(limit)), ErrorKind::ValidationException);
    }
    // ListResourceTags takes 1–50.
    for limit in [1u32, 50] {
        assert_eq!(
            f.ks.list_resource_tags(&k.key_id, Some(limit), None)
                .unwrap()
                .tags
                .len(),
            1
        );
    }
    for limit in [0u32, 51, 1001] {
        expect_err(
            f.ks.list_resource_tags(&k.key_id, Some(limit), None),
            ErrorKind::ValidationException,
        );
    }
}

#[test]
fn list_aliases_defaults_to_50_per_page() {
    let f = fixture();
    let k = new_key(&f.ks);
    for i in 0..51 {
        f.ks.create_alias(&format!("alias/a{i:02}"), &k.key_id)
            .unwrap();
    }
    let first = f.ks.list_aliases(None, None, None).unwrap();
    assert_eq!(first.aliases.len(), 50);
    assert!(first.truncated);
    let rest =
        f.ks.list_aliases(None, None, first.next_marker.as_deref())
            .unwrap();
    assert_eq!(rest.aliases.len(), 1);
    assert!(!rest.truncated);
}

#[test]
fn create_key_request_validation() {
    let f = fixture();
    // Spec given under both names with different values.
    expect_err(
        f.ks.create_key(&CreateKeyRequest {
            key_spec: Some(KeySpec::SymmetricDefault),
            customer_master_key_spec: Some(KeySpec::Hmac256),
            ..Default::default()
        }),
        ErrorKind::ValidationException,
    );
    // SYMMETRIC_DEFAULT only pairs with ENCRYPT_DECRYPT.
    expect_err(
        f.ks.create_key(&CreateKeyRequest {
            key_usage: Some(KeyUsage::SignVerify),
            ..Default::default()
        }),
        ErrorKind::ValidationException,
    );
    assert!(f.ks.list_keys(None, None).unwrap().keys.is_empty());
}

/// UpdateAlias as KMS: another key spec of the same key type and usage is
/// accepted (RSA_2048 → ECC_NIST_P256 for SIGN_VERIFY, HMAC_256 →
/// HMAC_512); another type or usage is `ValidationException`.
#[test]
fn update_alias_compares_key_type_and_usage() {
    let f = fixture();
    let key = |spec, usage| new_key_of(&f.ks, spec, usage).key_id;
    let rsa_sign = key(KeySpec::Rsa2048, KeyUsage::SignVerify);
    let rsa_enc = key(KeySpec::Rsa2048, KeyUsage::EncryptDecrypt);
    let p256_sign = key(KeySpec::EccNistP256, KeyUsage::SignVerify);
    let hmac256 = key(KeySpec::Hmac256, KeyUsage::GenerateVerifyMac);
    let hmac512 = key(KeySpec::Hmac512, KeyUsage::GenerateVerifyMac);
    let sym = key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt);
    let target = |alias: &str| f.ks.describe_key(alias).unwrap().key_metadata.key_id;

    f.ks.create_alias("alias/sign", &rsa_sign).unwrap();
    f.ks.update_alias("alias/sign", &p256_sign).unwrap();
    assert_eq!(target("alias/sign"), p256_sign);
    f.ks.create_alias("alias/mac", &hmac256).unwrap();
    f.ks.update_alias("alias/mac", &hmac512).unwrap();
    assert_eq!(target("alias/mac"), hmac512);

    f.ks.create_alias("alias/rsa", &rsa_enc).unwrap();
    expect_err(
        f.ks.update_alias("alias/rsa", &rsa_sign),
        ErrorKind::ValidationException,
    );
    f.ks.create_alias("alias/sym", &sym).unwrap();
    expect_err(
        f.ks.update_alias("alias/sym", &hmac256),
        ErrorKind::ValidationException,
    );
    expect_err(
        f.ks.update_alias("alias/sign", &rsa_enc),
        ErrorKind::ValidationException,
    );
    assert_eq!(
        (
            target("alias/rsa"),
            target("alias/sym"),
            target("alias/sign")
        ),
        (rsa_enc, sym, p256_sign)
    );
}
