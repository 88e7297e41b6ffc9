//! A clock far beyond any real date (a replaced `Date.now()` in wasm) makes
//! the date computations of ScheduleKeyDeletion, EnableKeyRotation and
//! automatic rotation fail with `KMSInternalException` naming the clock,
//! the key unchanged — never a wrapped date in the past that would purge or
//! rotate the key at once, nor a panic.

#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

use strongroom_core::key::{KeySpec, KeyState, KeyUsage};
use strongroom_core::ops::{self, Env};
use strongroom_core::ErrorKind;

#[path = "support/ops_env.rs"]
mod ops_env;
use ops_env::{create_key, env, rng};

fn at(now: u64) -> Env<'static> {
    Env { now, ..env() }
}

fn clock_error(e: strongroom_core::Error) {
    assert_eq!(e.kind(), ErrorKind::KMSInternalException, "{e}");
    assert!(e.to_string().contains("clock"), "{e}");
}

#[test]
fn schedule_key_deletion_with_a_clock_out_of_range() {
    let mut rec = create_key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt, None).unwrap();
    for now in [u64::MAX, u64::MAX - 1, u64::MAX - 7 * 86_400 + 1] {
        clock_error(ops::schedule_key_deletion(&at(now), &mut rec, Some(7)).unwrap_err());
        assert_eq!(rec.state, KeyState::Enabled);
        assert_eq!(rec.deletion_date, None);
        assert!(!ops::is_due_for_purge(&rec, now));
    }
    // The last second that fits works, and is not due before its date.
    let now = u64::MAX - 7 * 86_400;
    let r = ops::schedule_key_deletion(&at(now), &mut rec, Some(7)).unwrap();
    assert_eq!(r.deletion_date, u64::MAX);
    assert!(!ops::is_due_for_purge(&rec, now));
}

#[test]
fn rotation_dates_with_a_clock_out_of_range() {
    let mut rec = create_key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt, None).unwrap();
    clock_error(ops::enable_key_rotation(&at(u64::MAX - 1), &mut rec, Some(90)).unwrap_err());
    assert!(!rec.rotation.enabled);
    assert_eq!(rec.rotation.next_rotation, None);

    // Rotation enabled at a sane time, then checked with a huge clock: due,
    // but the next date cannot be computed, so nothing changes.
    ops::enable_key_rotation(&env(), &mut rec, Some(90)).unwrap();
    let before = rec.clone();
    clock_error(ops::rotate_if_due(&at(u64::MAX - 1), &mut rng(), &mut rec).unwrap_err());
    assert_eq!(rec.backing_keys.len(), before.backing_keys.len());
    assert_eq!(rec.rotation.next_rotation, before.rotation.next_rotation);
}
