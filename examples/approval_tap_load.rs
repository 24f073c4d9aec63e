//! Load generator for approval taps: tap callback → 200 → worker (the decision, the tapper's
//! card update and the next level's card, in one transaction) → dispatcher → the fake WeCom.
//!
//! Starts the fake WeCom and salesbot in this process (a fresh SQLite file, or `--database
//! URL`, which must be empty), starts N two-level approvals through the API (not measured),
//! then posts the first approver's signed `template_card_event` taps at R per second and
//! measures, for each, the time from the tap's 200 to (a) the tapped card's update and (b) the
//! second level's card reaching the fake server. Prints p50/p90/p99/max. Bounded by count.
//!
//! ```sh
//! cargo run --release --example approval_tap_load -- --approvals 2000 --rate 100
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
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const ADMIN: &str = "load-admin-token";
const MAX_WAIT: Duration = Duration::from_secs(120);
const RULES: &str = r#"
[[approval]]
name = "two levels"
when = 'kind == "discount"'
levels = [{ approvers = ["boss"] }, { approvers = ["zhao.min"] }]
"#;

struct Args {
    approvals: usize,
    rate: u64,
    database: Option<String>,
}

fn args() -> Args {
    let mut args = Args {
        approvals: 2000,
        rate: 100,
        database: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_default();
        match flag.as_str() {
            "--approvals" => args.approvals = value.parse().expect("--approvals N"),
            "--rate" => args.rate = value.parse().expect("--rate PER_SECOND"),
            "--database" => args.database = Some(value),
            other => panic!("unknown flag {other}; use --approvals N --rate R [--database URL]"),
        }
    }
    args
}

fn percentiles(label: &str, samples: Vec<Duration>) {
    let samples = Latencies::new(samples);
    if samples.is_empty() {
        println!("{label}: no samples");
        return;
    }
    println!(
        "{label}: n {}  p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        samples.len(),
        samples.at(0.50),
        samples.at(0.90),
        samples.at(0.99),
        samples.max()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args();
    let dir = tempfile::tempdir()?;
    let fake = FakeWecom::start().await;
    fake.add_user(json!({ "userid": "alice", "name": "Alice" }));
    fake.add_user(json!({ "userid": "boss", "name": "Boss" }));
    fake.add_user(json!({ "userid": "zhao.min", "name": "Zhao Min" }));
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, RULES)?;
    let url = args
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("load.db").display()));
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse()?;
    config.database.url = DatabaseUrl(url.clone());
    config.log.filter = "warn".into();
    config.admin.token = Some(Secret::new(ADMIN));
    config.rules.file = Some(rules);
    config.wecom = vec![WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
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
    let client = reqwest::Client::new();

    // The approvals and their first-level cards, not measured.
    for n in 0..args.approvals {
        let response = client
            .post(format!("{base}/api/v1/approvals"))
            .bearer_auth(ADMIN)
            .json(&json!({
                "tenant": "acme", "platform": "wecom", "kind": "discount",
                "title": format!("Deal {n}"), "requester": "alice",
                "amount": 10000, "discount_pct": 20,
            }))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "approval {n}: {}",
            response.status()
        );
    }
    let started = Instant::now();
    while fake.sent_messages().len() < args.approvals && started.elapsed() < MAX_WAIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_level = fake.take_messages();

    let crypto = CallbackCrypto::new(TOKEN, KEY, FakeWecom::CORP_ID)?;
    let answered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    let mut taps = Vec::with_capacity(first_level.len());
    for card in &first_level {
        ticker.tick().await;
        let task_id = card.body["template_card"]["task_id"]
            .as_str()
            .unwrap_or_default();
        let code = fake.click_response_code(&card.msgid).unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs();
        let xml = format!(
            "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[boss]]></FromUserName>\
             <CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[template_card_event]]></Event><EventKey><![CDATA[approve]]></EventKey>\
             <TaskId><![CDATA[{task_id}]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
             <ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>1000002</AgentID></xml>",
            corp = FakeWecom::CORP_ID,
        );
        let signed = CallbackSigner::new(&crypto).event(FakeWecom::CORP_ID, "1000002", &xml);
        let (client, answered, msgid) = (client.clone(), answered.clone(), card.msgid.clone());
        let url = format!("{base}/callbacks/wecom/acme?{}", signed.query);
        taps.push(tokio::spawn(async move {
            let response = client.post(url).body(signed.body).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                answered.lock().unwrap().insert(msgid, Instant::now());
            }
        }));
    }
    for tap in taps {
        tap.await?;
    }
    let waited = Instant::now();
    while (fake.card_updates().len() < first_level.len()
        || fake.sent_messages().len() < first_level.len())
        && waited.elapsed() < MAX_WAIT
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answered = answered.lock().unwrap().clone();

    // (a) the tapped card's update, by the card's msgid.
    let updates: Vec<Duration> = fake
        .card_updates()
        .iter()
        .filter_map(|u| {
            Some(
                u.received_at
                    .saturating_duration_since(*answered.get(&u.msgid)?),
            )
        })
        .collect();
    // (b) the second level's card: level-1 card → approval (the card table) → level-2 card.
    let db = Database::connect(&url).await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT subject, track_id FROM card WHERE message_kind = 'approval_request'",
        ))
        .await?;
    let mut by_subject: HashMap<String, String> = HashMap::new();
    for row in &rows {
        by_subject.insert(row.try_get("", "subject")?, row.try_get("", "track_id")?);
    }
    let sent_by_task: HashMap<String, Instant> = fake
        .sent_messages()
        .iter()
        .filter_map(|m| {
            let task = m.body["template_card"]["task_id"].as_str()?.to_owned();
            Some((task, m.received_at))
        })
        .collect();
    let task_of_first: HashMap<String, String> = first_level
        .iter()
        .map(|m| {
            let task = m.body["template_card"]["task_id"]
                .as_str()
                .unwrap_or_default();
            (task.to_owned(), m.msgid.clone())
        })
        .collect();
    let mut next_level = Vec::new();
    for (subject, track) in &by_subject {
        let Some(approval) = subject
            .strip_prefix("approval:")
            .and_then(|rest| rest.strip_suffix(":level:1"))
        else {
            continue;
        };
        let Some(msgid) = task_of_first.get(track) else {
            continue;
        };
        let Some(tapped) = answered.get(msgid) else {
            continue;
        };
        let Some(second) = by_subject.get(&format!("approval:{approval}:level:2")) else {
            continue;
        };
        if let Some(arrived) = sent_by_task.get(second) {
            next_level.push(arrived.saturating_duration_since(*tapped));
        }
    }
    println!(
        "approvals: {}, taps at {}/s, answered: {}",
        args.approvals,
        args.rate,
        answered.len()
    );
    percentiles("tap 200 → tapped card updated", updates);
    percentiles("tap 200 → next level's card sent", next_level);
    shutdown.cancel();
    server.await??;
    Ok(())
}
