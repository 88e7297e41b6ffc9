//! Fuzzing and exhaustive tamper tests of the native keystore's parsers of
//! stored or untrusted bytes that no other test binary fuzzes
//! (`docs/TESTING.md` has the inventory): the root key file, the integrity
//! state row (which holds the audit checkpoint) and the streaming envelope
//! header reader. The anchor record's parser is fuzzed by the unit tests in
//! `src/anchor.rs`.
#![allow(clippy::unwrap_used)] // tests may unwrap (docs/STYLE.md)

mod fixture;

use base64::Engine as _;
use fixture::*;
use proptest::prelude::*;
use strongroom::core::envelope::{AlgorithmSuite, EncryptOptions, RawAesKeyring};
use strongroom::envelope::{header_json, read_header};
use strongroom::root::parse_key_bytes;
use strongroom::{EncryptionContext, ErrorKind, Keystore};

#[path = "../../core/tests/support/proptest_cases.rs"]
mod proptest_cases;
use proptest_cases::cases;

proptest! {
    #![proptest_config(cases(256))]

    /// Root key text: arbitrary bytes are 32 raw bytes, hex or base64 of
    /// 32 bytes, or a ValidationException — never a panic (e.g. on
    /// non-ASCII text of hex length).
    #[test]
    fn root_key_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..100),
        text in "\\PC{0,70}|[0-9a-fA-F ]{60,70}",
    ) {
        for raw in [&bytes[..], text.as_bytes()] {
            match parse_key_bytes(raw) {
                Ok(k) => prop_assert_eq!(k.expose_secret().len(), 32),
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::ValidationException),
            }
        }
    }

    /// Every spelling of a 32-byte key reads as that key: raw, lower and
    /// upper hex and base64, with surrounding whitespace.
    #[test]
    fn root_key_spellings_round_trip(key in proptest::array::uniform32(any::<u8>()), ws in "[ \t\r\n]{0,3}") {
        let spellings = [
            hex::encode(key),
            hex::encode_upper(key),
            base64::engine::general_purpose::STANDARD.encode(key),
        ];
        let k = parse_key_bytes(&key).unwrap();
        prop_assert_eq!(k.expose_secret(), &key[..]);
        for s in spellings {
            let t = format!("{ws}{s}{ws}");
            let k = parse_key_bytes(t.as_bytes()).unwrap();
            prop_assert_eq!(k.expose_secret(), &key[..]);
        }
    }
}

/// A real envelope message (signed suite, so its header carries the
/// `aws-crypto-public-key` context entry too).
fn message() -> &'static [u8] {
    static M: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        let kr = RawAesKeyring::new("fuzz", "key", &[0x42; 32]).unwrap();
        let ctx = EncryptionContext::from_pairs([("tenant", "acme")]).unwrap();
        let o = EncryptOptions {
            suite: AlgorithmSuite::Aes256GcmHkdfSha512CommitKeyEcdsaP384,
            frame_length: 64,
            ..EncryptOptions::default()
        };
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        strongroom::core::envelope::encrypt(&kr, &ctx, b"some plaintext", &o, &mut rng).unwrap()
    })
}

proptest! {
    #![proptest_config(cases(256))]

    /// `read_header` (stream, any limit) of arbitrary bytes or of a real
    /// message with bytes flipped, overwritten or cut: a header (whose
    /// JSON rendering never panics either) or InvalidCiphertextException.
    #[test]
    fn read_header_never_panics(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
        junk in proptest::collection::vec(any::<u8>(), 0..64),
        limit in 0usize..2000,
        arbitrary in any::<bool>(),
    ) {
        let mut m = if arbitrary { junk } else { message().to_vec() };
        for (at, x) in &flips {
            if !m.is_empty() {
                let i = at % m.len();
                m[i] ^= x;
            }
        }
        m.truncate(cut % (m.len() + 1));
        match read_header(&mut &m[..], limit) {
            Ok(h) => {
                let j = header_json(&h);
                prop_assert!(j.is_object());
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidCiphertextException),
        }
    }
}

/// The keystore's integrity state row (`meta/state`: counter, audit
/// checkpoint, level-1 digests, row counts), every byte of its body and tag
/// and cuts of its body: refused at open.
#[test]
fn every_byte_of_the_state_row_is_authenticated() {
    let f = fixture();
    let k = new_key(&f.ks);
    encrypt(&f.ks, &k.key_id, b"x", &ctx(&[]));
    drop(f.ks);
    every_byte_of_the_row_is_refused(&f.path, "meta", "state", |ks| {
        let blob = encrypt(ks, &k.key_id, b"y", &ctx(&[]));
        assert_eq!(decrypt(ks, &blob, &ctx(&[])), b"y");
        Ok(())
    });
}

/// An anchored keystore's state row (version 0x03, with its 16-byte
/// anchor ID), every byte, cuts, and the version flipped to 0x02 (byte 0,
/// bit 0): refused at a check with its anchor.
#[test]
fn every_byte_of_an_anchored_state_row_is_authenticated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ks.db");
    let anchor = dir.path().join("ks.anchor");
    let ks = Keystore::create(
        &path,
        root_source(&ROOT),
        strongroom::CreateOptions {
            anchor: Some(strongroom::Anchor::file(&anchor)),
            ..strongroom::CreateOptions::default()
        },
    )
    .unwrap();
    let k = new_key(&ks);
    drop(ks);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let body: Vec<u8> = conn
        .query_row("SELECT body FROM meta WHERE id = 'state'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(body[0], 0x03, "an anchored state row");
    drop(conn);
    let open = |p: &std::path::Path| {
        Keystore::open_with(
            p,
            root_source(&ROOT),
            strongroom::OpenOptions::default().anchor(strongroom::Anchor::file(&anchor)),
        )
    };
    every_byte_of_the_row_is_refused_with(&path, "meta", "state", &open, |ks| {
        let blob = encrypt(ks, &k.key_id, b"y", &ctx(&[]));
        assert_eq!(decrypt(ks, &blob, &ctx(&[])), b"y");
        Ok(())
    });
}

/// Flips every byte of the body and of the tag of the stored row `id` of
/// `table` (the bit moving through the byte), and cuts the body, and checks
/// each time that the
/// keystore refuses it with KMSInternalException — at open (integrity
/// state) or, through `probe`, on use (record MAC) — and never answers from
/// it; then puts the row back and checks that `probe` succeeds.
fn every_byte_of_the_row_is_refused(
    path: &std::path::Path,
    table: &str,
    id: &str,
    probe: impl Fn(&Keystore) -> strongroom::Result<()>,
) {
    every_byte_of_the_row_is_refused_with(
        path,
        table,
        id,
        &|p: &std::path::Path| Keystore::open(p, root_source(&ROOT)),
        probe,
    );
}

/// [`every_byte_of_the_row_is_refused`], each handle opened by `open`
/// (an anchored keystore's, with its anchor).
fn every_byte_of_the_row_is_refused_with(
    path: &std::path::Path,
    table: &str,
    id: &str,
    open: &dyn Fn(&std::path::Path) -> strongroom::Result<Keystore>,
    probe: impl Fn(&Keystore) -> strongroom::Result<()>,
) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let (body, tag): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            &format!("SELECT body, tag FROM {table} WHERE id = ?1"),
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let set = |b: &[u8], t: &[u8]| {
        let n = conn
            .execute(
                &format!("UPDATE {table} SET body = ?2, tag = ?3 WHERE id = ?1"),
                rusqlite::params![id, b, t],
            )
            .unwrap();
        assert_eq!(n, 1);
    };
    // The state row is read afresh by every integrity check, so one handle
    // checks it; an altered row of another table needs a new handle (a
    // handle keeps the records it verified while the state is unchanged).
    let state = (table == "meta" && id == "state").then(|| open(path).unwrap());
    let refused = |what: &str| {
        let e = match &state {
            Some(ks) => ks.verify_digest().unwrap_err(),
            None => match open(path) {
                Err(e) => e,
                Ok(ks) => probe(&ks).unwrap_err(),
            },
        };
        assert_eq!(
            e.kind(),
            ErrorKind::KMSInternalException,
            "{table}/{id} {what}: {e}"
        );
    };
    for i in 0..body.len() {
        let mut b = body.clone();
        b[i] ^= 1 << (i % 8);
        set(&b, &tag);
        refused(&format!("body byte {i}"));
    }
    for i in 0..tag.len() {
        let mut t = tag.clone();
        t[i] ^= 1 << (i % 8);
        set(&body, &t);
        refused(&format!("tag byte {i}"));
    }
    for n in [0, 1, body.len() / 2, body.len() - 1] {
        set(&body[..n], &tag);
        refused(&format!("body cut to {n} bytes"));
    }
    set(&body, &tag);
    probe(&open(path).unwrap()).unwrap();
}

/// A key's record (`keys` row: JSON with the sealed backing keys), every
/// byte: no describe, no decryption from it.
#[test]
fn every_byte_of_a_key_row_is_authenticated() {
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.rotate_key_on_demand(&k.key_id).unwrap();
    let blob = encrypt(&f.ks, &k.key_id, b"x", &ctx(&[]));
    drop(f.ks);
    every_byte_of_the_row_is_refused(&f.path, "keys", &k.key_id, |ks| {
        ks.describe_key(&k.key_id)?;
        try_decrypt(ks, &blob, &ctx(&[]), None).map(|_| ())
    });
}

/// An alias record, a grant record and the keystore configuration
/// (`meta/config`), every byte.
#[test]
fn every_byte_of_alias_grant_and_config_rows_is_authenticated() {
    use strongroom::api::{CreateGrantRequest, ListGrantsRequest};
    use strongroom::core::grant::GrantOperation;
    let f = fixture();
    let k = new_key(&f.ks);
    f.ks.create_alias("alias/fuzz", &k.key_id).unwrap();
    let g =
        f.ks.create_grant(&CreateGrantRequest {
            key_id: k.key_id.clone(),
            grantee_principal: "arn:aws:iam::000000000000:role/fuzz".into(),
            operations: vec![GrantOperation::Decrypt],
            ..Default::default()
        })
        .unwrap();
    drop(f.ks);
    every_byte_of_the_row_is_refused(&f.path, "aliases", "alias/fuzz", |ks| {
        ks.describe_key("alias/fuzz").map(|_| ())
    });
    every_byte_of_the_row_is_refused(
        &f.path,
        "grants",
        &format!("{}/{}", k.key_id, g.grant_id),
        |ks| {
            ks.list_grants(&ListGrantsRequest {
                key_id: k.key_id.clone(),
                ..Default::default()
            })
            .map(|_| ())
        },
    );
    every_byte_of_the_row_is_refused(&f.path, "meta", "config", |ks| {
        ks.describe_key(&k.key_id).map(|_| ())
    });
}

/// A keystore with an audit log of a few records, and the log's bytes.
struct Logged {
    f: Fixture,
    log: Vec<u8>,
}

fn logged() -> &'static std::sync::Mutex<Logged> {
    static L: std::sync::OnceLock<std::sync::Mutex<Logged>> = std::sync::OnceLock::new();
    L.get_or_init(|| {
        let f = fixture();
        let k = new_key(&f.ks);
        let blob = encrypt(&f.ks, &k.key_id, b"x", &ctx(&[("a", "b")]));
        decrypt(&f.ks, &blob, &ctx(&[("a", "b")]));
        f.ks.flush_audit_log().unwrap();
        let log = std::fs::read(f.ks.audit_log_path()).unwrap();
        std::sync::Mutex::new(Logged { f, log })
    })
}

proptest! {
    #![proptest_config(cases(64))]

    /// The audit log file with bytes flipped, cut, or arbitrary bytes
    /// (invalid UTF-8, newlines, NULs) written over or after it: the
    /// verification is an `Ok` reporting a fault (or, for bytes only after
    /// the checkpoint's end, none), never an error or a panic; the next
    /// operation succeeds or is KMSInternalException.
    #[test]
    fn mutated_audit_logs_never_panic(
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..3),
        cut in proptest::option::of(any::<usize>()),
        tail in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'\n'), Just(b'{')], 0..40),
    ) {
        let mut l = logged().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let ks = &l.f.ks.clone();
        let mut m = l.log.clone();
        for (at, x) in &flips {
            let i = at % m.len();
            m[i] ^= x;
        }
        if let Some(c) = cut {
            m.truncate(c % (m.len() + 1));
        }
        m.extend_from_slice(&tail);
        std::fs::write(ks.audit_log_path(), &m).unwrap();
        // Only the log file changed, and it reads: the verification is an
        // `Ok`, with the first bad record as its fault.
        let v = ks.verify_audit_log().unwrap();
        if m[..l.log.len().min(m.len())] != l.log[..] {
            prop_assert!(v.fault.is_some(), "an altered log verified");
        }
        match ks.generate_random(8) {
            // The append cut what lay past the checkpoint's end (an
            // uncommitted tail) and chained its record after the checkpoint
            // (it does not re-verify the records before: the verification
            // above reports those). With the genuine records put back under
            // it, the log is whole.
            Ok(_) => {
                let now = std::fs::read(ks.audit_log_path()).unwrap();
                let mut good = l.log.clone();
                good.extend_from_slice(&now[l.log.len()..]);
                std::fs::write(ks.audit_log_path(), &good).unwrap();
                prop_assert_eq!(ks.verify_audit_log().unwrap().fault, None);
                l.log = good;
            }
            Err(e) => {
                prop_assert_eq!(e.kind(), ErrorKind::KMSInternalException);
        std::fs::write(ks.audit_log_path(), &l.log).unwrap();
            }
        }
    }
}

/// A record with a byte that is not UTF-8, and a write torn inside a
/// multi-byte character past the checkpoint, are reported as a fault at
/// their record's index — not a failure to read the whole log (which
/// `verify_audit_log` and `audit_events` were before).
#[test]
fn a_log_line_that_is_not_utf8_is_a_fault_at_its_index() {
    let f = fixture();
    new_key(&f.ks);
    let k = new_key(&f.ks);
    f.ks.update_key_description(&k.key_id, "caf\u{e9}").unwrap();
    f.ks.flush_audit_log().unwrap();
    let path = f.ks.audit_log_path().to_owned();
    let log = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = log.split(|&b| b == b'\n').collect();
    let n = lines.len() - 1; // the log ends with a newline
    assert!(n >= 3);
    let events = f.ks.audit_events(&Default::default()).unwrap().len();
    // A byte of record 1 made invalid UTF-8.
    let mut m = log.clone();
    let at = lines[0].len() + 1 + lines[1].len() / 2;
    m[at] = 0xff;
    std::fs::write(&path, &m).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault.unwrap().index, 1);
    // The other records are still read (the bad one is skipped).
    let read = f.ks.audit_events(&Default::default()).unwrap().len();
    assert!(read + 1 >= events && read <= events, "{read} of {events}");
    // A torn record after the last one, cut inside "é" (0xc3 0xa9).
    let mut m = log.clone();
    let has_e_acute = |l: &&[u8]| l.windows(2).any(|w| w == [0xc3, 0xa9]);
    let record = lines.iter().rposition(has_e_acute).unwrap();
    let within = lines[record]
        .windows(2)
        .position(|w| w == [0xc3, 0xa9])
        .unwrap();
    m.extend_from_slice(&lines[record][..=within]);
    std::fs::write(&path, &m).unwrap();
    let v = f.ks.verify_audit_log().unwrap();
    assert_eq!(v.fault.unwrap().index, n as u64);
    std::fs::write(&path, &log).unwrap();
    assert_eq!(f.ks.verify_audit_log().unwrap().fault, None);
}
