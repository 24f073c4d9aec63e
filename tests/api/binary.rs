//! The `salesbot` binary as a user runs it: help, config errors, serve on SQLite with no config
//! (relative and absolute paths) and on PostgreSQL, SIGTERM ends it with status 0.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::helpers::{PG_ENV, pg_url};

const BIN: &str = env!("CARGO_BIN_EXE_salesbot");

fn salesbot(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("SALESBOT_CONFIG")
        .env_remove("RUST_LOG");
    cmd
}

/// Starts `serve` on a free port; returns the child and its base URL once it is serving.
fn serve(cmd: Command) -> (Child, String) {
    let (child, url, _) = serve_logged(cmd);
    (child, url)
}

/// Like `serve`, and collects every log line the process writes.
fn serve_logged(mut cmd: Command) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let mut child = cmd
        .args(["--log-json", "serve"])
        .env("SALESBOT_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = stdout.lines();
    let address = loop {
        let line = lines
            .next()
            .expect("salesbot exited before serving")
            .unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if entry["message"] == "salesbot is serving" {
            break entry["listen"].as_str().unwrap().to_string();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, format!("http://{address}"), logs)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..500 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    panic!("salesbot did not stop within 10 s of SIGTERM");
}

async fn get(url: String) -> reqwest::Response {
    crate::helpers::http_client().get(url).send().await.unwrap()
}

#[tokio::test]
async fn serve_with_no_config_uses_sqlite_in_the_current_directory_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = serve(salesbot(dir.path()));
    assert_eq!(get(format!("{base}/healthz")).await.status(), 200);
    assert_eq!(get(format!("{base}/readyz")).await.status(), 200);
    let status = terminate(child);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        dir.path().join("salesbot.db").exists(),
        "the default database is ./salesbot.db"
    );
}

#[tokio::test]
async fn an_absolute_sqlite_path_works() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data").join("abs.db");
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let url = format!("sqlite://{}?mode=rwc", db.display());
    assert!(url.starts_with("sqlite:///"));
    let output = salesbot(dir.path())
        .args(["migrate"])
        .env("SALESBOT_DATABASE__URL", &url)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db.exists());
}

#[tokio::test]
async fn serve_runs_on_postgres_when_the_url_says_so() {
    let Some(base) = pg_url() else {
        println!("skipped: {PG_ENV} is not set; PostgreSQL tests need a server to run against");
        return;
    };
    let server = sea_orm::Database::connect(&base).await.unwrap();
    let name = format!("sbt_{}_{:08x}", std::process::id(), fastrand::u32(..));
    sea_orm::ConnectionTrait::execute_unprepared(&server, &format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = salesbot(dir.path());
    cmd.env(
        "SALESBOT_DATABASE__URL",
        crate::helpers::database_url(&base, &name),
    );
    let (child, url) = serve(cmd);
    assert_eq!(get(format!("{url}/readyz")).await.status(), 200);
    assert_eq!(terminate(child).code(), Some(0));
    assert!(
        !dir.path().join("salesbot.db").exists(),
        "no SQLite file when running on PostgreSQL"
    );
    sea_orm::ConnectionTrait::execute_unprepared(
        &server,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .await
    .unwrap();
}

#[test]
fn help_and_version_explain_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let help = salesbot(dir.path()).arg("--help").output().unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for word in [
        "serve",
        "migrate",
        "config",
        "--config",
        "SALESBOT_CONFIG",
        "SALESBOT_DATABASE__URL",
    ] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let version = salesbot(dir.path()).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(version.stdout).unwrap().trim(),
        format!("salesbot {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_bad_configuration_stops_with_the_key_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = salesbot(dir.path())
        .args(["serve"])
        .env("SALESBOT_SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("server.listen") && stderr.contains("SALESBOT_SERVER__LISTEN"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("salesbot.db").exists(),
        "nothing is created on a bad configuration"
    );
}

#[test]
fn config_prints_the_effective_configuration_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let output = salesbot(dir.path())
        .args(["config"])
        .env("SALESBOT_ADMIN__TOKEN", "env:MY_ADMIN_TOKEN")
        .env("MY_ADMIN_TOKEN", "very-secret-value")
        .env("SALESBOT_DATABASE__URL", "postgres://app:db-password@db/x")
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("[redacted]") && text.contains("postgres://app:***@db/x"),
        "{text}"
    );
    assert!(
        !text.contains("very-secret-value") && !text.contains("db-password"),
        "{text}"
    );
}

/// Vector A of the reference, as an operator would configure it.
const WECOM_TOML: &str = r#"
[pipeline]
workers = 1

[[wecom]]
tenant = "acme"
corp_id = "ww1436e0e65a779aee"
agent_id = 1000002
secret = "env:ACME_WECOM_SECRET"
callback_token = "env:ACME_CALLBACK_TOKEN"
encoding_aes_key = "env:ACME_AES_KEY"
api_base = "http://127.0.0.1:1"

[[dingtalk]]
tenant = "acme"
app_key = "ding6ccabc44d2c8d38b"
app_secret = "env:ACME_DING_SECRET"
agent_id = 123456789
callback_token = "env:ACME_DING_TOKEN"
aes_key = "env:ACME_DING_AES_KEY"
card_callback_secret = "env:ACME_DING_CARD_SECRET"
api_base = "http://127.0.0.1:1"
oapi_base = "http://127.0.0.1:1"
"#;
const DING_TOKEN: &str = "mryue";
const DING_KEY: &str = "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7";
const DING_SECRET: &str = "the-dingtalk-app-secret";
const DING_CARD_SECRET: &str = "the-card-route-secret";
const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const SECRET: &str = "the-app-secret-value";

fn wecom_serve(dir: &std::path::Path) -> Command {
    std::fs::write(dir.join("salesbot.toml"), WECOM_TOML).unwrap();
    let mut cmd = salesbot(dir);
    cmd.args(["--config", "salesbot.toml"])
        .env("ACME_WECOM_SECRET", SECRET)
        .env("ACME_CALLBACK_TOKEN", TOKEN)
        .env("ACME_AES_KEY", KEY)
        .env("ACME_DING_SECRET", DING_SECRET)
        .env("ACME_DING_TOKEN", DING_TOKEN)
        .env("ACME_DING_AES_KEY", DING_KEY)
        .env("ACME_DING_CARD_SECRET", DING_CARD_SECRET)
        .env("RUST_LOG", "debug");
    cmd
}

/// A text message callback with a distinct MsgId, encrypted and signed for acme.
fn text_callback(n: u32) -> (String, String) {
    let crypto =
        salesbot_wecom::crypto::CallbackCrypto::new(TOKEN, KEY, "ww1436e0e65a779aee").unwrap();
    let xml = format!(
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>alice</FromUserName><CreateTime>1717200000</CreateTime><MsgType>text</MsgType><Content>tasks</Content><MsgId>{n}</MsgId><AgentID>1000002</AgentID></xml>"
    );
    let request = salesbot_wecom::fake::CallbackSigner::new(&crypto).event(
        "ww1436e0e65a779aee",
        "1000002",
        &xml,
    );
    (request.query, request.body)
}

#[tokio::test]
async fn every_answered_callback_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _) = serve_logged(wecom_serve(dir.path()));
    let client = crate::helpers::http_client();
    let total = 200;
    for n in 0..total {
        let (query, body) = text_callback(n);
        let response = client
            .post(format!("{base}/callbacks/wecom/acme?{query}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "callback {n}");
    }
    // No warning, no shutdown: the process dies the instant the last answer is out.
    child.kill().unwrap();
    child.wait().unwrap();
    let db = sea_orm::Database::connect(format!(
        "sqlite://{}?mode=rw",
        dir.path().join("salesbot.db").display()
    ))
    .await
    .unwrap();
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT COUNT(*) FROM inbox WHERE platform = 'wecom'",
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), i64::from(total));
}

#[tokio::test]
async fn no_secret_reaches_the_log_even_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let (child, base, logs) = serve_logged(wecom_serve(dir.path()));
    let client = crate::helpers::http_client();
    let (query, body) = text_callback(1);
    let url = format!("{base}/callbacks/wecom/acme?{query}");
    assert_eq!(
        client
            .post(&url)
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let bad = url.replace("msg_signature=", "msg_signature=f");
    assert_eq!(
        client.post(&bad).body(body).send().await.unwrap().status(),
        401
    );
    // DingTalk: a good push, a forged push, a forged card tap and a forged robot message.
    let ding = salesbot_dingtalk::callback::CallbackCrypto::new(
        DING_TOKEN,
        DING_KEY,
        "ding6ccabc44d2c8d38b",
    )
    .unwrap();
    let encrypt =
        ding.encrypt(br#"{"EventType":"user_add_org","eventId":"e1","userId":["rep001"]}"#);
    let query = format!(
        "msg_signature={}&timestamp=1717000000000&nonce=n1",
        ding.signature("1717000000000", "n1", &encrypt)
    );
    let push = serde_json::json!({ "encrypt": encrypt }).to_string();
    let ding_url = format!("{base}/callbacks/dingtalk/acme");
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(
            client
                .post(format!("{ding_url}?{query}"))
                .body(push.clone())
                .send()
                .await
                .unwrap()
        ),
        200
    );
    let forged = query.replace("msg_signature=", "msg_signature=0");
    assert_eq!(
        status(
            client
                .post(format!("{ding_url}?{forged}"))
                .body(push)
                .send()
                .await
                .unwrap()
        ),
        401
    );
    let tap = client
        .post(format!("{ding_url}/card"))
        .header("x-ddpaas-signature-timestamp", "1")
        .header("x-ddpaas-signature", "x")
        .body("{}");
    assert_eq!(status(tap.send().await.unwrap()), 401);
    let robot = client
        .post(format!("{ding_url}/robot"))
        .header("timestamp", "1")
        .header("sign", "x")
        .body("{}");
    assert_eq!(status(robot.send().await.unwrap()), 401);
    assert_eq!(terminate(child).code(), Some(0));
    let text = logs.lock().unwrap().join("\n");
    assert!(text.contains("callback refused"), "{text}");
    for secret in [
        TOKEN,
        KEY,
        SECRET,
        DING_TOKEN,
        DING_KEY,
        DING_SECRET,
        DING_CARD_SECRET,
    ] {
        assert!(!text.contains(secret), "a secret was logged:\n{text}");
    }
}

/// A template whose row uses a variable its kind does not supply, on line 6 of the file.
const BROKEN_TEMPLATE: &str = r#"title = "Discount approval: {{ customer.name }}"
source = "Sales desk"

[[rows]]
key = "Customer"
value = "{{ customer.nmae }}"
"#;

fn broken_templates(dir: &std::path::Path) -> std::path::PathBuf {
    let templates = dir.join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(templates.join("approval_request.en.toml"), BROKEN_TEMPLATE).unwrap();
    templates
}

#[test]
fn check_renders_every_template_for_both_platforms() {
    let dir = tempfile::tempdir().unwrap();
    let output = salesbot(dir.path()).args(["check"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("message templates: 28 ok"), "{text}");
    assert_eq!(text.matches("\n=== ").count(), 28, "every kind and locale");
    for part in [
        "=== approval_request (zh-CN)",
        "--- WeCom message/send",
        "\"card_type\": \"button_interaction\"",
        "--- DingTalk interactive card (cardParamMap)",
        "--- DingTalk work notification (no card template)",
        "state approved: ",
    ] {
        assert!(text.contains(part), "{part} missing");
    }
    let one = salesbot(dir.path())
        .args(["check", "--kind", "kpi_alert", "--locale", "en"])
        .output()
        .unwrap();
    let text = String::from_utf8(one.stdout).unwrap();
    assert_eq!(text.matches("\n=== ").count(), 1, "{text}");
    assert!(text.contains("=== kpi_alert (en)"), "{text}");
}

#[test]
fn a_broken_template_fails_check_and_stops_serve_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let templates = broken_templates(dir.path());
    let output = salesbot(dir.path())
        .args(["check"])
        .env("SALESBOT_TEMPLATES__DIR", &templates)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("approval_request.en.toml:6:") && text.contains("nmae"),
        "{text}"
    );

    let output = salesbot(dir.path())
        .args(["serve"])
        .env("SALESBOT_TEMPLATES__DIR", &templates)
        .env("SALESBOT_SERVER__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("approval_request.en.toml:6:") && log.contains("nmae"),
        "{log}"
    );
    assert!(
        !dir.path().join("salesbot.db").exists(),
        "templates are checked before the database is touched"
    );
}

#[tokio::test]
async fn outbox_list_and_retry_work_on_the_dead_letters() {
    use sea_orm::{ConnectionTrait, Database};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("ops.db").display());
    let run = |args: &[&str]| {
        salesbot(dir.path())
            .args(args)
            .env("SALESBOT_DATABASE__URL", &url)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    let db = Database::connect(&url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO outbox (idempotency_key, platform, tenant, kind, payload, state, attempts, \
         last_error, available_at, created_at) VALUES \
         ('wecom:acme:kpi_alert:kpi:1:user:bob:v1', 'wecom', 'acme', 'card.send', '{}', 'dead', 10, \
          'WeCom message/send failed with errcode 81013', 1, 1), \
         ('k2', 'wecom', 'acme', 'card.send', '{}', 'sent', 1, NULL, 1, 1)",
    )
    .await
    .unwrap();

    let listed = run(&["outbox", "list"]);
    assert!(listed.status.success());
    let text = String::from_utf8(listed.stdout).unwrap();
    assert!(
        text.contains("wecom:acme:kpi_alert:kpi:1:user:bob:v1") && text.contains("errcode 81013"),
        "{text}"
    );
    assert!(!text.contains("k2"), "only the dead letters: {text}");
    let json = run(&["outbox", "list", "--state", "sent", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["idempotency_key"], "k2");

    let retried = run(&["outbox", "retry", "1"]);
    assert!(retried.status.success());
    assert!(
        String::from_utf8(retried.stdout)
            .unwrap()
            .contains("1: back in the queue")
    );
    let refused = run(&["outbox", "retry", "2", "99"]);
    assert_eq!(refused.status.code(), Some(1));
    let text = String::from_utf8(refused.stdout).unwrap();
    assert!(
        text.contains("2: is sent, not dead") && text.contains("99: no such message"),
        "{text}"
    );
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM outbox WHERE id = 1 AND state = 'pending' AND attempts = 0")
            .await,
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE actor = 'cli' AND action = 'outbox.requeue'")
            .await,
        1
    );
}

#[test]
fn a_bad_rule_fails_check_and_stops_serve_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[tagging]]\nname = \"expo\"\nwhen.state = \"expo\"\ntags = [\"展会\"]\n",
    )
    .unwrap();
    let output = salesbot(dir.path())
        .args(["check", "--kind", "kpi_alert"])
        .env("SALESBOT_RULES__FILE", &rules)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("rules.toml:4:") && text.contains("group/name"),
        "{text}"
    );

    let output = salesbot(dir.path())
        .args(["serve"])
        .env("SALESBOT_RULES__FILE", &rules)
        .env("SALESBOT_SERVER__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("rules.toml:4:"), "{log}");

    std::fs::write(
        &rules,
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.example.toml"))
            .unwrap(),
    )
    .unwrap();
    let output = salesbot(dir.path())
        .args(["check", "--kind", "kpi_alert"])
        .env("SALESBOT_RULES__FILE", &rules)
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("approval rules, 2 assignment rules, 2 pools, 3 alert rules)"),
        "{text}"
    );
}
