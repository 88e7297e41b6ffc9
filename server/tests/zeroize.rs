//! Plaintext in responses is zeroized: after the server has answered a
//! Decrypt over HTTP and closed the connection, no writable memory of this
//! process (heap arenas, anonymous mappings: where freed buffers stay until
//! reused) holds the response's `Plaintext` as it travels in the JSON body
//! (base64 text). The client reads into one fixed buffer that it zeroizes,
//! and the marker is searched for in a masked form, so the test itself
//! holds no copy. Linux only (`/proc/self/maps`, `/proc/self/mem`).

#![allow(clippy::unwrap_used)] // test helpers unwrap, as tests do
#![cfg(target_os = "linux")]

use std::io::{Read, Seek, SeekFrom, Write};

use strongroom::api::{CreateKeyRequest, EncryptRequest};
use strongroom::{CreateOptions, Keystore, RootKeySource, Secret};
use strongroom_server::{serve, Auth, ServerConfig};
use tokio::net::TcpListener;
use zeroize::Zeroize;

const MASK: u8 = 0x5a;

/// 300 plaintext bytes (400 base64 characters, which no allocator metadata
/// can cover entirely): a pattern unlikely to occur anywhere else.
fn plaintext() -> Vec<u8> {
    (0..300u32)
        .map(|i| (i.wrapping_mul(151) ^ 0xa7) as u8)
        .collect()
}

/// Where freed buffers may linger: the heap and anonymous writable mappings
/// (glibc's per-thread arenas), as `(start, end)`.
fn writable_anonymous_regions() -> Vec<(u64, u64)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let range = f.next()?;
            let perms = f.next()?;
            let path = f.nth(3).unwrap_or("");
            if !perms.starts_with("rw") || !(path.is_empty() || path == "[heap]") {
                return None;
            }
            let (a, b) = range.split_once('-')?;
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            ))
        })
        .collect()
}

/// How many times `masked` (a byte string XORed with [`MASK`]) occurs in
/// those regions.
fn occurrences_in_memory(masked: &[u8]) -> usize {
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let mut chunk = vec![0u8; 1 << 20];
    let mut count = 0;
    for (start, end) in writable_anonymous_regions() {
        let mut at = start;
        while at < end {
            let want = usize::try_from(end - at).unwrap().min(chunk.len());
            if mem.seek(SeekFrom::Start(at)).is_err() {
                break;
            }
            let Ok(n) = mem.read(&mut chunk[..want]) else {
                break;
            };
            if n == 0 {
                break;
            }
            count += chunk[..n]
                .windows(masked.len())
                .filter(|w| w.iter().zip(masked).all(|(b, m)| b ^ MASK == *m))
                .count();
            // Overlap so that an occurrence across two chunks is seen.
            let step = n.saturating_sub(masked.len()).max(1);
            at += step as u64;
        }
    }
    chunk.zeroize();
    count
}

/// One Decrypt over HTTP/1.1 into a fixed buffer; returns the status line's
/// code and whether the body holds `masked` (unmasked). The buffer is
/// zeroized before returning.
fn decrypt_over_http(addr: std::net::SocketAddr, blob_b64: &str, masked: &[u8]) -> (u16, bool) {
    let body = format!(r#"{{"CiphertextBlob":"{blob_b64}"}}"#);
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: TrentService.Decrypt\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0;
    loop {
        let n = s.read(&mut buf[len..]).unwrap();
        if n == 0 {
            break;
        }
        len += n;
    }
    let response = &buf[..len];
    let status = std::str::from_utf8(&response[9..12])
        .unwrap()
        .parse()
        .unwrap();
    let found = response
        .windows(masked.len())
        .any(|w| w.iter().zip(masked).all(|(b, m)| b ^ MASK == *m));
    buf.zeroize();
    (status, found)
}

#[test]
fn decrypt_response_plaintext_is_zeroized_after_writing() {
    let dir = tempfile::tempdir().unwrap();
    let ks = Keystore::create(
        dir.path().join("ks.db"),
        RootKeySource::Bytes(Secret::new(vec![7; 32])),
        CreateOptions::default(),
    )
    .unwrap();
    let key = ks
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .key_metadata
        .key_id;
    let mut pt = plaintext();
    let blob = ks
        .encrypt(&EncryptRequest {
            key_id: key,
            plaintext: Secret::from_slice(&pt),
            ..Default::default()
        })
        .unwrap()
        .ciphertext_blob;
    // The base64 text of the plaintext, masked: a 64-character window from
    // its middle, away from any allocator header written into a freed block.
    let mut text = strongroom::core::b64::encode(&pt);
    let masked: Vec<u8> = text.as_bytes()[160..224].iter().map(|b| b ^ MASK).collect();
    text.zeroize();
    pt.zeroize();
    let blob_b64 = strongroom::core::b64::encode(&blob);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(
        ks,
        ServerConfig::new(Auth::InsecureNoAuth),
        listener,
        async {
            let _ = rx.await;
        },
    ));
    assert_eq!(occurrences_in_memory(&masked), 0, "before the request");
    let (status, in_response) = decrypt_over_http(addr, &blob_b64, &masked);
    assert_eq!(status, 200);
    assert!(in_response, "the response carries the plaintext");
    // The server has written and dropped the response; stop it.
    tx.send(()).unwrap();
    rt.block_on(server).unwrap().unwrap();
    drop(rt);
    assert_eq!(
        occurrences_in_memory(&masked),
        0,
        "a freed buffer still holds the plaintext of the response"
    );
}
