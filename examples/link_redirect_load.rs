//! Load generator for the tracked-link redirect: GET /l/{code} → 302, with every click written
//! to the database behind it.
//!
//! Starts salesbot in this process on a fresh SQLite file, creates one link through the API,
//! follows it N times from C keep-alive connections over loopback (each request as one of 1,000
//! different visitors, with a WeCom User-Agent), prints redirects/s and latency percentiles,
//! then waits for the click writer and checks that `link_click` holds one row per redirect.
//! Bounded by count (and a 5-minute cap), so it always stops by itself.
//!
//! ```sh
//! cargo run --release --example link_redirect_load -- --requests 200000 --concurrency 64
//! ```

#[path = "support/latency.rs"]
mod latency;

use latency::{Latencies, ms};
use std::{
    io::ErrorKind,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use salesbot::{
    app::{Application, Extensions, Startup},
    config::{Config, DatabaseUrl, Secret},
};
use sea_orm::{ConnectionTrait, Statement};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

/// The run stops after this long even if requests remain.
const MAX_RUN: Duration = Duration::from_secs(300);
/// Longest wait for the writer to catch up after the last redirect.
const MAX_DRAIN: Duration = Duration::from_secs(60);
const TOKEN: &str = "load-test-token";
/// Distinct client addresses the requests come from.
const VISITORS: usize = 1000;
const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1";

struct Args {
    requests: usize,
    concurrency: usize,
}

fn args() -> Args {
    let mut args = Args {
        requests: 200_000,
        concurrency: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--requests" => args.requests = value.parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency N"),
            other => panic!("unknown flag {other}; use --requests N --concurrency N"),
        }
    }
    args
}

/// Sends one request on a keep-alive connection and reads the whole answer; returns its status.
/// Just enough HTTP/1.1 for GET → 302: the generator shares the machine with the server, and a
/// full client would spend more of it than the server does.
async fn round_trip(stream: &mut TcpStream, request: &[u8]) -> std::io::Result<u16> {
    let mut sent = 0;
    while sent < request.len() {
        stream.writable().await?;
        match stream.try_write(&request[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    let mut answer = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..end]);
            let status = head.get(9..12).and_then(|s| s.parse().ok());
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                return status.ok_or_else(|| ErrorKind::InvalidData.into());
            }
        }
        stream.readable().await?;
        match stream.try_read(&mut chunk) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
}

async fn clicks_stored(db: &sea_orm::DatabaseConnection) -> anyhow::Result<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM link_click",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("COUNT(*) returned no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse()?;
    config.database.url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("load.db").display()
    ));
    config.log.filter = "warn".into();
    config.admin.token = Some(Secret::new(TOKEN));
    config.links.trust_forwarded_for = true;
    let app = Application::build(config, Extensions::default(), Startup::default()).await?;
    let addr = app.local_addr();
    let base = format!("http://{addr}");
    let db = app.state().db.clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run(shutdown.clone()));

    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/links"))
        .bearer_auth(TOKEN)
        .json(
            &serde_json::json!({ "tenant": "acme", "target_url": "https://example.com/expo",
                                   "campaign": "load", "chat_id": "wrLoadTestChat" }),
        )
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let path = format!("/l/{}", created["code"].as_str().unwrap_or_default());
    // Built once: the generator's own work is not what is measured.
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..VISITORS)
            .map(|n| {
                format!(
                    "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {UA}\r\n\
                     X-Forwarded-For: 10.1.{}.{}\r\n\r\n",
                    n / 250,
                    n % 250
                )
                .into_bytes()
            })
            .collect(),
    );

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (next, requests) = (next.clone(), requests.clone());
            let total = args.requests;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                let mut connection = None;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total || started.elapsed() > MAX_RUN {
                        break;
                    }
                    let sent = Instant::now();
                    let status = match &mut connection {
                        Some(c) => round_trip(c, &requests[n % VISITORS]).await,
                        None => match TcpStream::connect(addr).await {
                            Ok(c) => {
                                c.set_nodelay(true).ok();
                                round_trip(connection.insert(c), &requests[n % VISITORS]).await
                            }
                            Err(e) => Err(e),
                        },
                    };
                    match status {
                        Ok(302) => latencies.push(sent.elapsed()),
                        Ok(_) => failures += 1,
                        Err(_) => {
                            failures += 1;
                            connection = None;
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let (latencies, failures) = Latencies::gather(workers).await?;
    let elapsed = started.elapsed();
    println!(
        "{} requests ({} failed) with {} connections in {:.2} s: {:.0} redirects/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len() + failures,
        failures,
        args.concurrency,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(latencies.at(0.50)),
        ms(latencies.at(0.99)),
        ms(latencies.max()),
    );

    let expected = latencies.len() as i64;
    let drain_started = Instant::now();
    let mut stored = clicks_stored(&db).await?;
    while stored < expected && drain_started.elapsed() < MAX_DRAIN {
        tokio::time::sleep(Duration::from_millis(50)).await;
        stored = clicks_stored(&db).await?;
    }
    println!(
        "link_click rows: {stored} of {expected} redirects ({} after the last redirect)",
        if stored == expected {
            format!("all written {:.2} s", drain_started.elapsed().as_secs_f64())
        } else {
            "NOT all written".to_string()
        }
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("salesbot_link_click") && !l.contains("_bucket"))
    {
        println!("  {line}");
    }
    shutdown.cancel();
    server.await??;
    if stored != expected {
        anyhow::bail!("{} clicks missing from the database", expected - stored);
    }
    Ok(())
}
