//! Rotation: every blob ever made keeps decrypting, new blobs use the newest
//! backing key, and automatic rotation happens when its period has elapsed.
#![allow(clippy::unwrap_used)]

mod fixture;

use fixture::*;
use proptest::prelude::*;
use strongroom::core::blob;
use strongroom::core::key::RotationType;
use strongroom::Keystore;

#[derive(Clone, Debug)]
enum Step {
    Rotate,
    Encrypt(u8),
    /// Decrypt the blob at this index (modulo the number of blobs so far).
    DecryptOld(usize),
    /// Let time pass (no automatic rotation is enabled in this model).
    Wait(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => Just(Step::Rotate),
        4 => any::<u8>().prop_map(Step::Encrypt),
        4 => any::<usize>().prop_map(Step::DecryptOld),
        1 => (1u32..100_000).prop_map(Step::Wait),
    ]
}

/// A blob made during a run: plaintext, context pairs, blob, the version it must carry.
type Made = (Vec<u8>, Vec<(String, String)>, Vec<u8>, u32);

fn version_of(b: &[u8]) -> u32 {
    blob::parse_header(b).unwrap().version
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn old_blobs_survive_any_rotation_sequence(
        steps in proptest::collection::vec(step(), 1..30),
    ) {
        let f = fixture();
        let k = new_key(&f.ks);
        let mut rotations = 0u32;
        let mut made: Vec<Made> = Vec::new();
        for (i, s) in steps.iter().enumerate() {
            match s {
                Step::Rotate => {
                    let r = f.ks.rotate_key_on_demand(&k.key_id);
                    if rotations < 10 {
                        r.unwrap();
                        rotations += 1;
                    } else {
                        prop_assert_eq!(
                            r.unwrap_err().kind(),
                            strongroom::ErrorKind::LimitExceededException
                        );
                    }
                }
                Step::Encrypt(byte) => {
                    let pt = vec![*byte; 1 + i];
                    let pairs = vec![("step".to_string(), i.to_string())];
                    let c = strongroom::EncryptionContext::from_pairs(pairs.clone()).unwrap();
                    let b = encrypt(&f.ks, &k.key_id, &pt, &c);
                    prop_assert_eq!(version_of(&b), rotations + 1, "new blobs use the newest key");
                    made.push((pt, pairs, b, rotations + 1));
                }
                Step::DecryptOld(j) => {
                    if !made.is_empty() {
                        let (pt, pairs, b, _) = &made[j % made.len()];
                        let c = strongroom::EncryptionContext::from_pairs(pairs.clone()).unwrap();
                        prop_assert_eq!(&decrypt(&f.ks, b, &c), pt);
                    }
                }
                Step::Wait(secs) => f.clock.advance(u64::from(*secs)),
            }
        }
        // Every blob ever made decrypts, also through a freshly opened keystore.
        let reopened = Keystore::open(&f.path, root_source(&ROOT)).unwrap();
        for ks in [&f.ks, &reopened] {
            for (pt, pairs, b, v) in &made {
                let c = strongroom::EncryptionContext::from_pairs(pairs.clone()).unwrap();
                prop_assert_eq!(&decrypt(ks, b, &c), pt);
                prop_assert_eq!(version_of(b), *v);
            }
        }
        let listed = f.ks.list_key_rotations(&k.key_id, None, None).unwrap().rotations;
        prop_assert_eq!(listed.len(), rotations as usize);
        prop_assert!(listed.iter().all(|r| r.rotation_type == RotationType::OnDemand));
    }
}

#[test]
fn automatic_rotation_when_due() {
    let f = fixture();
    let k = new_key(&f.ks);
    let c = ctx(&[("auto", "rotation")]);
    f.ks.enable_key_rotation(&k.key_id, Some(90)).unwrap();
    let v1 = encrypt(&f.ks, &k.key_id, b"v1", &c);
    assert_eq!(version_of(&v1), 1);

    // One second before the period ends: nothing yet.
    f.clock.advance(90 * DAY - 1);
    let still_v1 = encrypt(&f.ks, &k.key_id, b"still v1", &c);
    assert_eq!(version_of(&still_v1), 1);
    assert!(f
        .ks
        .list_key_rotations(&k.key_id, None, None)
        .unwrap()
        .rotations
        .is_empty());

    // The period has elapsed: the next use rotates.
    f.clock.advance(1);
    let t1 = T0 + 90 * DAY;
    let v2 = encrypt(&f.ks, &k.key_id, b"v2", &c);
    assert_eq!(version_of(&v2), 2);
    let st = f.ks.get_key_rotation_status(&k.key_id).unwrap();
    assert_eq!(st.next_rotation_date, Some(t1 + 90 * DAY));
    let list = f.ks.list_key_rotations(&k.key_id, None, None).unwrap();
    assert_eq!(list.rotations.len(), 1);
    assert_eq!(list.rotations[0].rotation_type, RotationType::Automatic);
    assert_eq!(list.rotations[0].rotation_date, t1);

    // An on-demand rotation in between does not move the automatic schedule.
    f.clock.advance(DAY);
    f.ks.rotate_key_on_demand(&k.key_id).unwrap();
    assert_eq!(
        f.ks.get_key_rotation_status(&k.key_id)
            .unwrap()
            .next_rotation_date,
        Some(t1 + 90 * DAY)
    );
    let v3 = encrypt(&f.ks, &k.key_id, b"v3", &c);
    assert_eq!(version_of(&v3), 3);

    // The next period: rotation found through DescribeKey alone, and persisted.
    f.clock.set(t1 + 90 * DAY);
    f.ks.describe_key(&k.key_id).unwrap();
    let reopened = Keystore::open(&f.path, root_source(&ROOT))
        .unwrap()
        .with_clock(f.clock.clone());
    let list = reopened.list_key_rotations(&k.key_id, None, None).unwrap();
    let kinds: Vec<_> = list
        .rotations
        .iter()
        .map(|r| (r.rotation_type, r.rotation_date))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (RotationType::Automatic, t1),
            (RotationType::OnDemand, t1 + DAY),
            (RotationType::Automatic, t1 + 90 * DAY),
        ]
    );
    let v4 = encrypt(&reopened, &k.key_id, b"v4", &c);
    assert_eq!(version_of(&v4), 4);
    for (b, pt) in [
        (&v1, &b"v1"[..]),
        (&still_v1, b"still v1"),
        (&v2, b"v2"),
        (&v3, b"v3"),
        (&v4, b"v4"),
    ] {
        assert_eq!(decrypt(&reopened, b, &c), pt);
        assert_eq!(decrypt(&f.ks, b, &c), pt);
    }
}

/// An automatic rotation is recorded once, as AWS KMS's `RotateKey`
/// service event (`rotationType` `AUTOMATIC`), appended only once the
/// rotation commits; one that cannot be written is kept and written later,
/// once. An on-demand rotation is the call's own record only.
#[test]
fn an_automatic_rotation_records_a_rotate_key_service_event() {
    let f = fixture();
    let k = new_key(&f.ks).key_id;
    f.ks.enable_key_rotation(&k, Some(90)).unwrap();
    f.ks.rotate_key_on_demand(&k).unwrap();
    assert!(key_events(&f.ks, &k, "RotateKey").is_empty());
    f.clock.advance(90 * DAY);
    // The rotation's transaction fails to commit: nothing rotated, no event.
    strongroom::test_hooks::fail_next_commit();
    assert!(f.ks.describe_key(&k).is_err());
    assert!(key_events(&f.ks, &k, "RotateKey").is_empty());
    // It commits; its event cannot be written: kept, written by the next call.
    strongroom::test_hooks::fail_next_service_event();
    f.ks.describe_key(&k).unwrap();
    for _ in 0..2 {
        let events = key_events(&f.ks, &k, "RotateKey");
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_service_event(e, &k, "2024-03-31T00:00:00");
        assert!(e["responseElements"].is_null());
        assert_eq!(
            e["serviceEventDetails"],
            serde_json::json!({"keyId": k, "rotationType": "AUTOMATIC"})
        );
        f.ks.describe_key(&k).unwrap();
    }
    let rotations = f.ks.list_key_rotations(&k, None, None).unwrap().rotations;
    assert_eq!(rotations.len(), 2);
    let v = f.ks.verify_audit_log().unwrap();
    assert!(v.fault.is_none(), "{v:?}");
    assert!(v.outcome_unknown.is_empty(), "{v:?}");
}

#[test]
fn no_automatic_rotation_while_disabled_or_turned_off() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.enable_key_rotation(&k.key_id, Some(90)).unwrap();
    f.ks.disable_key(&k.key_id).unwrap();
    f.clock.advance(200 * DAY);
    f.ks.describe_key(&k.key_id).unwrap();
    assert!(f
        .ks
        .list_key_rotations(&k.key_id, None, None)
        .unwrap()
        .rotations
        .is_empty());
    // Re-enabled: the overdue rotation happens once, not once per missed period.
    f.ks.enable_key(&k.key_id).unwrap();
    let b = encrypt(&f.ks, &k.key_id, b"after", &ctx(&[]));
    assert_eq!(version_of(&b), 2);
    assert_eq!(
        f.ks.list_key_rotations(&k.key_id, None, None)
            .unwrap()
            .rotations
            .len(),
        1
    );

    // Turned off: time passes and nothing rotates.
    f.ks.disable_key_rotation(&k.key_id).unwrap();
    f.clock.advance(1000 * DAY);
    let b = encrypt(&f.ks, &k.key_id, b"later", &ctx(&[]));
    assert_eq!(version_of(&b), 2);
}
