//! Criterion benchmarks of Strongroom; see `benches/RESULTS.md` for results
//! and `benches/benches/*.rs` for the benchmarks themselves.
//!
//! Shared set-up for `benches/ops.rs`: keystores of a given size, created
//! once and kept under `target/` between runs.

use std::path::PathBuf;

use strongroom::api::CreateKeyRequest;
use strongroom::{Keystore, RootKeySource, Secret};

/// The fixed root key of bench keystores (never for real use).
pub fn root() -> RootKeySource {
    RootKeySource::Bytes(Secret::new(vec![0x5a; 32]))
}

/// A keystore holding `n` symmetric keys, and the ID of one of them. The
/// file is `target/bench-keystore-<n>.db`, made on first use (100,000 keys
/// take a few minutes) and reused afterwards.
pub fn keystore_with(n: usize) -> (Keystore, String) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    std::fs::create_dir_all(&dir).expect("target dir");
    let path = dir.join(format!("bench-keystore-{n}.db"));
    let ks = match Keystore::open(&path, root()) {
        Ok(ks) => ks,
        Err(_) => {
            let _ = std::fs::remove_file(&path);
            let tmp = dir.join(format!("bench-keystore-{n}.db.tmp"));
            let _ = std::fs::remove_file(&tmp);
            {
                let ks = Keystore::create(&tmp, root(), Default::default()).expect("create");
                for i in 0..n {
                    ks.create_key(&CreateKeyRequest::default())
                        .expect("create key");
                    if i % 10_000 == 9_999 {
                        eprintln!("bench keystore: {} of {n} keys", i + 1);
                    }
                }
            }
            for ext in ["", "-wal", "-shm"] {
                let from = PathBuf::from(format!("{}{ext}", tmp.display()));
                if from.exists() {
                    std::fs::rename(&from, format!("{}{ext}", path.display())).expect("rename");
                }
            }
            Keystore::open(&path, root()).expect("open")
        }
    };
    let first = ks.list_keys(Some(1), None).expect("list").keys;
    let key_id = first.first().expect("a key").key_id.clone();
    (ks, key_id)
}
