//! Cost of a management write against a read-only operation, on disk with
//! the audit log on: CreateKey, TagResource (one key, a new tag value each
//! time) and Encrypt of 32 bytes, each run `n` times in a row on one handle
//! and one thread. Prints, per operation, wall-clock and process CPU time
//! (user + system, from `/proc/self/stat`, every thread of the process) per
//! call. Management writes are dominated by `fdatasync` in wall time, so
//! compare CPU time, and compare builds run on the same machine under the
//! same load (the figures of one run are noisy on a shared machine).
//!
//! `cargo run -p strongroom --example change_cost [n] [dir]` (default 200
//! calls, and a temporary directory under `target/`). Linux only (CPU time
//! from procfs).

use std::path::PathBuf;
use std::time::Instant;

use strongroom::api::{CreateKeyRequest, EncryptRequest, Tag};
use strongroom::{CreateOptions, Keystore, RootKeySource, Secret};

/// Process CPU time (user + system) in clock ticks (100 per second on Linux).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (in parentheses, which may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 here.
    n(11) + n(12)
}

fn measure(name: &str, n: usize, mut op: impl FnMut(usize)) {
    let t0 = Instant::now();
    let c0 = cpu_ticks();
    for i in 0..n {
        op(i);
    }
    let wall = t0.elapsed().as_secs_f64() * 1e6 / n as f64;
    let cpu = (cpu_ticks() - c0) as f64 * 1e4 / n as f64;
    println!("{name:<12} {n:>6} calls  wall {wall:>9.1} us/call  cpu {cpu:>9.1} us/call");
}

fn main() -> strongroom::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("target/change-cost"), PathBuf::from);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| strongroom::Error::internal(e.to_string()))?;
    let path = dir.join("ks.db");
    let ks = Keystore::create(
        &path,
        RootKeySource::Bytes(Secret::from_slice(&[0x42; 32])),
        CreateOptions::default(),
    )?;
    let key = ks
        .create_key(&CreateKeyRequest::default())?
        .key_metadata
        .key_id;
    measure("CreateKey", n, |_| {
        ks.create_key(&CreateKeyRequest::default())
            .map(drop)
            .unwrap_or_else(|e| panic!("{e}"));
    });
    measure("TagResource", n, |i| {
        let tag = Tag {
            tag_key: "k".into(),
            tag_value: i.to_string(),
        };
        ks.tag_resource(&key, &[tag])
            .unwrap_or_else(|e| panic!("{e}"));
    });
    let req = EncryptRequest {
        key_id: key.clone(),
        plaintext: Secret::from_slice(&[7; 32]),
        ..Default::default()
    };
    measure("Encrypt", n * 10, |_| {
        ks.encrypt(&req).map(drop).unwrap_or_else(|e| panic!("{e}"));
    });
    ks.flush_audit_log()?;
    drop(ks);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
