//! Load generator for the friend-add path: add callback → 200 → worker (externalcontact/get,
//! user/get, tagging rules, outbox) → dispatcher → `send_welcome_msg` on the fake WeCom.
//!
//! Starts the fake WeCom and salesbot in this process (on a fresh SQLite file, or on the
//! database `--database URL` names, which must be empty), registers N customers, then posts N
//! signed `add_external_contact` callbacks at R per second over loopback and measures, for each,
//! the time from the callback's 200 to its welcome message reaching the fake server. Prints
//! p50/p90/p99/max. Bounded by count (and a 5-minute cap).
//!
//! `--workers N` sets `pipeline.workers` (default 4).
//!
//! ```sh
//! cargo run --release --example friend_add_load -- --adds 5000 --rate 500
//! cargo run --release --example friend_add_load -- --adds 5000 --rate 500 \
//!     --database postgres://postgres@127.0.0.1:5432/friend_add_load
//! ```

#[path = "support/latency.rs"]
mod latency;

use latency::Latencies;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use salesbot::{
    app::{Application, Extensions, Startup},
    config::{Config, DatabaseUrl, Secret, WecomConfig},
};
use salesbot_wecom::{
    crypto::CallbackCrypto,
    fake::{CallbackSigner, FakeWecom},
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const MAX_RUN: Duration = Duration::from_secs(300);
const RULES: &str = r#"
[[tagging]]
name = "expo 2026 Shanghai"
when.state = "expo2026-sh"
tags = ["渠道/展会", "地区/上海"]
"#;

struct Args {
    adds: usize,
    rate: u64,
    database: Option<String>,
    workers: Option<usize>,
}

fn args() -> Args {
    let mut args = Args {
        adds: 5000,
        rate: 500,
        database: None,
        workers: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--adds" => args.adds = value.parse().expect("--adds N"),
            "--rate" => args.rate = value.parse().expect("--rate PER_SECOND"),
            "--database" => args.database = Some(value),
            "--workers" => args.workers = Some(value.parse().expect("--workers N")),
            other => {
                panic!("unknown flag {other}; use --adds N --rate R [--database URL] [--workers N]")
            }
        }
    }
    args
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let dir = tempfile::tempdir()?;
    let fake = FakeWecom::start().await;
    fake.add_user(json!({ "userid": "alice", "name": "Alice", "department": [2] }));
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES)?;

    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse()?;
    config.database.url =
        DatabaseUrl(args.database.clone().unwrap_or_else(|| {
            format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display())
        }));
    config.log.filter = "warn".into();
    if let Some(workers) = args.workers {
        config.pipeline.workers = workers;
    }
    config.rules.file = Some(rules);
    config.wecom = vec![WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
        company_name: "星河软件".into(),
        ..WecomConfig::new(
            "acme",
            FakeWecom::CORP_ID,
            FakeWecom::AGENT_ID.into(),
            Secret::new(FakeWecom::SECRET),
            Secret::new(TOKEN),
            Secret::new(KEY),
        )
    }];
    salesbot::telemetry::init(&config.log, salesbot::telemetry::Output::Stderr);
    let shutdown = CancellationToken::new();
    let app = Application::build(config, Extensions::default(), Startup::default()).await?;
    let base = format!("http://{}", app.local_addr());
    let server = tokio::spawn(app.run(shutdown.clone()));

    // Customers first; callbacks are signed as they are sent, each with its own CreateTime, as
    // WeCom's are (the welcome code's 20 s count from it).
    let crypto = CallbackCrypto::new(TOKEN, KEY, FakeWecom::CORP_ID)?;
    let mut customers = Vec::with_capacity(args.adds);
    for n in 0..args.adds {
        let customer = format!("wmLOAD{n:020}");
        fake.add_external_contact(json!({
            "external_contact": { "external_userid": customer, "name": format!("客户{n}"), "type": 1 },
            "follow_user": [{ "userid": "alice", "createtime": 1_795_000_000, "state": "expo2026-sh", "add_way": 1 }],
        }));
        customers.push((customer, fake.issue_welcome_code()));
    }

    let client = reqwest::Client::new();
    let answered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    let mut sends = Vec::with_capacity(args.adds);
    for (customer, code) in customers {
        ticker.tick().await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>\
             <UserID><![CDATA[alice]]></UserID><ExternalUserID><![CDATA[{customer}]]></ExternalUserID>\
             <State><![CDATA[expo2026-sh]]></State><WelcomeCode><![CDATA[{code}]]></WelcomeCode></xml>",
            corp = FakeWecom::CORP_ID,
        );
        let signed = CallbackSigner::new(&crypto).event(FakeWecom::CORP_ID, "1000002", &xml);
        let (query, body) = (signed.query, signed.body);
        let (client, answered, url) = (
            client.clone(),
            answered.clone(),
            format!("{base}/callbacks/wecom/acme?{query}"),
        );
        sends.push(tokio::spawn(async move {
            let response = client.post(url).body(body).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                answered.lock().unwrap().insert(code, Instant::now());
            }
        }));
    }
    for send in sends {
        send.await?;
    }
    let sent_for = started.elapsed();
    while fake.welcome_messages().len() < args.adds && started.elapsed() < MAX_RUN {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answered = answered.lock().unwrap().clone();
    let latencies: Vec<Duration> = fake
        .welcome_messages()
        .iter()
        .filter_map(|welcome| {
            let at = answered.get(&welcome.welcome_code)?;
            Some(welcome.received_at.saturating_duration_since(*at))
        })
        .collect();
    let latencies = Latencies::new(latencies);
    println!(
        "adds: {} at {}/s (sent in {:.1} s), answered: {}, welcomed: {}",
        args.adds,
        args.rate,
        sent_for.as_secs_f64(),
        answered.len(),
        latencies.len()
    );
    if !latencies.is_empty() {
        println!(
            "200 → welcome: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
            latencies.at(0.50),
            latencies.at(0.90),
            latencies.at(0.99),
            latencies.max()
        );
    }
    // What became of the ones not welcomed, from the service's own metrics.
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for line in metrics.lines().filter(|line| {
        line.starts_with("salesbot_welcome_messages_total")
            || line.starts_with("salesbot_inbox_events{")
            || line.starts_with("salesbot_outbox_messages{")
    }) {
        println!("{line}");
    }
    shutdown.cancel();
    server.await??;
    Ok(())
}
