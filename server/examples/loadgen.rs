//! A small loopback load generator for KMS endpoints (Strongroom's and, for
//! comparison, moto's): SigV4-signed Encrypt, Decrypt and GenerateDataKey
//! over HTTP/1.1 keep-alive connections, reporting requests per second and
//! p50/p99 latency as a Markdown table.
//!
//! ```text
//! cargo run --release -p strongroom-server --example loadgen -- \
//!     --target strongroom=127.0.0.1:4599 --target moto=127.0.0.1:5000 \
//!     --access-key AKID --secret-key SECRET --seconds 3 --concurrency 1,8,64
//! ```
//!
//! Only loopback addresses are accepted; every run is bounded by
//! `--seconds` per cell and `--max-requests` per worker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use strongroom_server::sigv4::{sign, RequestParts};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

struct Target {
    name: String,
    addr: SocketAddr,
}

struct Opts {
    targets: Vec<Target>,
    access_key: String,
    secret_key: String,
    region: String,
    seconds: f64,
    concurrency: Vec<usize>,
    max_requests: usize,
}

fn usage() -> ! {
    eprintln!("usage: loadgen --target NAME=127.0.0.1:PORT [--target ...] --access-key K --secret-key S [--region R] [--seconds 3] [--concurrency 1,8,64] [--max-requests 200000]");
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        targets: Vec::new(),
        access_key: String::new(),
        secret_key: String::new(),
        region: "us-east-1".into(),
        seconds: 3.0,
        concurrency: vec![1, 8, 64],
        max_requests: 200_000,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--target" => {
                let s = v();
                let (name, addr) = s.split_once('=').unwrap_or_else(|| usage());
                let addr: SocketAddr = addr.parse().unwrap_or_else(|_| usage());
                if !addr.ip().is_loopback() {
                    eprintln!("loadgen: only loopback targets are allowed");
                    std::process::exit(2);
                }
                o.targets.push(Target {
                    name: name.into(),
                    addr,
                });
            }
            "--access-key" => o.access_key = v(),
            "--secret-key" => o.secret_key = v(),
            "--region" => o.region = v(),
            "--seconds" => o.seconds = v().parse().unwrap_or_else(|_| usage()),
            "--max-requests" => o.max_requests = v().parse().unwrap_or_else(|_| usage()),
            "--concurrency" => {
                o.concurrency = v()
                    .split(',')
                    .map(|c| c.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            _ => usage(),
        }
    }
    if o.targets.is_empty() || o.access_key.is_empty() {
        usage();
    }
    o.seconds = o.seconds.clamp(0.1, 60.0);
    o
}

/// One HTTP/1.1 connection that reconnects when the server closes it
/// (moto's werkzeug server answers `Connection: close`).
struct Conn {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Conn {
    async fn call(&mut self, o: &Opts, op: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let host = self.addr.to_string();
        let target = format!("TrentService.{op}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: vec![
                ("host", &host),
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
            ],
            body,
        };
        let (date, auth) = sign(&o.access_key, &o.secret_key, &o.region, &parts, now);
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: {target}\r\nX-Amz-Date: {date}\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        let Some(stream) = self.stream.as_mut() else {
            return Err(std::io::Error::other("no connection"));
        };
        stream.get_mut().write_all(&req).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut close = line.starts_with("HTTP/1.0");
        let mut length = None;
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse::<usize>().ok();
                } else if k == "connection" {
                    close = v.eq_ignore_ascii_case("close");
                }
            }
        }
        let mut body = Vec::new();
        match length {
            Some(n) => {
                body.resize(n, 0);
                stream.read_exact(&mut body).await?;
            }
            None => {
                stream.read_to_end(&mut body).await?;
                close = true;
            }
        }
        if close {
            self.stream = None;
        }
        Ok((status, body))
    }
}

fn json_field(body: &[u8], field: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut cur = &v;
    for part in field.split('.') {
        cur = cur.get(part)?;
    }
    cur.as_str().map(str::to_string)
}

struct Cell {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: usize,
}

async fn run_cell(
    o: &Arc<Opts>,
    addr: SocketAddr,
    op: &'static str,
    body: Arc<Vec<u8>>,
    conc: usize,
) -> Cell {
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let o = o.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn { addr, stream: None };
            let mut lat = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline && lat.len() + errors < o.max_requests {
                let t = Instant::now();
                match conn.call(&o, op, &body).await {
                    Ok((200, _)) => lat.push(t.elapsed().as_micros() as u64),
                    _ => {
                        errors += 1;
                        conn.stream = None;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let i = ((all.len() as f64 - 1.0) * p).round() as usize;
        all[i] as f64 / 1000.0
    };
    Cell {
        rps: all.len() as f64 / elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
    }
}

#[tokio::main]
async fn main() {
    let o = Arc::new(parse_opts());
    println!("| operation | connections | server | requests/s | p50 ms | p99 ms | errors |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    // Per target: a key and a ciphertext to decrypt.
    let mut setups = Vec::new();
    for t in &o.targets {
        let mut c = Conn {
            addr: t.addr,
            stream: None,
        };
        let r = c
            .call(&o, "CreateKey", br#"{"Description":"loadgen"}"#)
            .await;
        let key = r
            .ok()
            .and_then(|(_, b)| json_field(&b, "KeyMetadata.KeyId"))
            .unwrap_or_else(|| {
                eprintln!("loadgen: CreateKey failed on {}", t.name);
                std::process::exit(1)
            });
        let enc = format!(r#"{{"KeyId":"{key}","Plaintext":"{}"}}"#, "QUFB".repeat(16));
        let blob = c
            .call(&o, "Encrypt", enc.as_bytes())
            .await
            .ok()
            .and_then(|(_, b)| json_field(&b, "CiphertextBlob"))
            .unwrap_or_else(|| {
                eprintln!("loadgen: Encrypt failed on {}", t.name);
                std::process::exit(1)
            });
        let ops: Vec<(&'static str, Arc<Vec<u8>>)> = vec![
            ("Encrypt", Arc::new(enc.into_bytes())),
            (
                "Decrypt",
                Arc::new(format!(r#"{{"CiphertextBlob":"{blob}"}}"#).into_bytes()),
            ),
            (
                "GenerateDataKey",
                Arc::new(format!(r#"{{"KeyId":"{key}","KeySpec":"AES_256"}}"#).into_bytes()),
            ),
        ];
        setups.push(ops);
    }
    for op_index in 0..3 {
        for &conc in &o.concurrency {
            for (t, ops) in o.targets.iter().zip(&setups) {
                let (op, body) = &ops[op_index];
                let cell = run_cell(&o, t.addr, op, body.clone(), conc).await;
                println!(
                    "| {op} | {conc} | {} | {:.0} | {:.2} | {:.2} | {} |",
                    t.name, cell.rps, cell.p50, cell.p99, cell.errors
                );
            }
        }
    }
}
