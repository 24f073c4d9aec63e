//! Load generator for the WeCom callback path: POST → verify → decrypt → parse → inbox → 200.
//!
//! Starts salesbot in this process on a fresh SQLite file (or uses `--url` to target a running
//! instance configured with the reference's vector-A app as tenant `acme`), pre-signs N distinct
//! text-message callbacks, sends them over loopback with C connections, and prints requests/s and
//! latency percentiles. Bounded by count (and a 5-minute cap), so it always stops by itself.
//!
//! ```sh
//! cargo run --release --example wecom_load -- --requests 20000 --concurrency 32
//! ```

#[path = "support/latency.rs"]
mod latency;

use latency::{Latencies, ms};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use salesbot::{
    app::{Application, Extensions, Startup},
    config::{Config, DatabaseUrl, Secret, WecomConfig},
};
use salesbot_wecom::{crypto::CallbackCrypto, fake::CallbackSigner};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP: &str = "ww1436e0e65a779aee";
/// The run stops after this long even if requests remain.
const MAX_RUN: Duration = Duration::from_secs(300);

struct Args {
    requests: usize,
    concurrency: usize,
    url: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        requests: 20_000,
        concurrency: 32,
        url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--requests" => args.requests = value.parse().expect("--requests N"),
            "--concurrency" => args.concurrency = value.parse().expect("--concurrency N"),
            "--url" => args.url = Some(value),
            other => panic!("unknown flag {other}; use --requests N --concurrency N [--url BASE]"),
        }
    }
    args
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let dir = tempfile::tempdir()?;
    let shutdown = CancellationToken::new();
    let (base, server) = match &args.url {
        Some(url) => (url.clone(), None),
        None => {
            let mut config = Config::default();
            config.server.listen = "127.0.0.1:0".parse()?;
            config.database.url = DatabaseUrl(format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("load.db").display()
            ));
            config.log.filter = "warn".into();
            config.wecom = vec![WecomConfig {
                api_base: "http://127.0.0.1:1".into(),
                request_timeout_secs: 5,
                ..WecomConfig::new(
                    "acme",
                    CORP,
                    1000002,
                    Secret::new("unused"),
                    Secret::new(TOKEN),
                    Secret::new(KEY),
                )
            }];
            let app = Application::build(config, Extensions::default(), Startup::default()).await?;
            let base = format!("http://{}", app.local_addr());
            (base, Some(tokio::spawn(app.run(shutdown.clone()))))
        }
    };

    // Sign everything first: the generator's own crypto is not what is measured.
    let crypto = CallbackCrypto::new(TOKEN, KEY, CORP)?;
    let signer = CallbackSigner::new(&crypto);
    let run_id = std::process::id();
    let requests: Vec<(String, String)> = (0..args.requests)
        .map(|n| {
            let xml = format!(
                "<xml><ToUserName>{CORP}</ToUserName><FromUserName>alice</FromUserName><CreateTime>1717200000</CreateTime>\
                 <MsgType>text</MsgType><Content>load test message {n}</Content><MsgId>{run_id}{n:08}</MsgId><AgentID>1000002</AgentID></xml>"
            );
            let r = signer.event(CORP, "1000002", &xml);
            (format!("{base}/callbacks/wecom/acme?{}", r.query), r.body)
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;

    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (queue, client) = (queue.clone(), client.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((url, body)) = next else { break };
                    if started.elapsed() > MAX_RUN {
                        break;
                    }
                    let sent = Instant::now();
                    match client.post(url).body(body).send().await {
                        Ok(r) if r.status() == 200 => latencies.push(sent.elapsed()),
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let (latencies, failures) = Latencies::gather(workers).await?;
    let elapsed = started.elapsed();
    println!(
        "{} requests ({} failed) with {} connections in {:.2} s: {:.0} requests/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len() + failures,
        failures,
        args.concurrency,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(latencies.at(0.50)),
        ms(latencies.at(0.99)),
        ms(latencies.max()),
    );
    shutdown.cancel();
    if let Some(server) = server {
        server.await??;
    }
    Ok(())
}
