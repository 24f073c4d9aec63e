//! Shared test helpers: fresh databases, a spawned app, and fakes for handlers and deliveries.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use salesbot::{
    app::{AppState, Application, Extensions, Startup},
    config::{Config, DatabaseUrl},
    metrics::Metrics,
    pipeline::{
        self, Delivery, DeliveryError, Dispatcher, Effects, EventHandler, HandlerError, Handlers,
        InboxEvent, NewEvent, NewMessage, OutboxMessage, Receipt, Worker, inbox::PRIORITY_NORMAL,
    },
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// The variable naming the PostgreSQL server used by the tests (a database on it to connect
/// to; each test creates a database of its own next to it).
pub const PG_ENV: &str = "SALESBOT_TEST_PG_URL";

/// Runs a check on a fresh SQLite database and on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($name:ident, $check:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = crate::helpers::TestDb::sqlite().await;
                $check(&t).await;
                t.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = crate::helpers::TestDb::postgres().await else {
                    return;
                };
                $check(&t).await;
                t.finish().await;
            }
        }
    };
}
pub(crate) use on_both_backends;

/// A fresh, migrated database that is removed at the end.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub url: String,
    /// PostgreSQL: the server connection and the database to drop.
    pg: Option<(DatabaseConnection, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let db = connect_migrated(&url).await;
        Self {
            db,
            url,
            pg: None,
            _dir: Some(dir),
        }
    }

    /// `None`, with the reason printed, when no PostgreSQL server is configured.
    pub async fn postgres() -> Option<Self> {
        let Some(base) = pg_url() else {
            println!("skipped: {PG_ENV} is not set; PostgreSQL tests need a server to run against");
            return None;
        };
        let server = Database::connect(&base)
            .await
            .expect("connect to the PostgreSQL test server");
        let name = format!("sbt_{}_{:08x}", std::process::id(), fastrand::u32(..));
        server
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let url = database_url(&base, &name);
        let db = connect_migrated(&url).await;
        Some(Self {
            db,
            url,
            pg: Some((server, name)),
            _dir: None,
        })
    }

    /// A config that uses this database and listens on a free loopback port.
    pub fn config(&self) -> Config {
        let mut config = Config::default();
        config.database.url = DatabaseUrl(self.url.clone());
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config.pipeline.poll_interval_ms = 50;
        config.server.shutdown_grace_secs = 10;
        config
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Every inbox row, oldest first, whatever its state.
    pub async fn inbox_events(&self) -> Vec<InboxEvent> {
        let sql = "SELECT id, platform, tenant, kind, dedupe_key, priority, payload, state, attempts, \
                   last_error, available_at, received_at, finished_at FROM inbox ORDER BY id";
        let rows = self
            .db
            .query_all_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap();
        rows.iter()
            .map(|row| sea_orm::FromQueryResult::from_query_result(row, "").unwrap())
            .collect()
    }

    /// Waits (up to 10 s) until `sql` counts `n`; false if it never does.
    pub async fn wait_for_count(&self, sql: &str, n: i64) -> bool {
        wait_until(Duration::from_secs(10), || async {
            self.count(sql).await == n
        })
        .await
    }

    pub async fn finish(self) {
        let Self { db, pg, .. } = self;
        db.close().await.unwrap();
        if let Some((server, name)) = pg {
            server
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

pub fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|u| !u.is_empty())
}

/// `base` with its database name replaced by `name`.
pub fn database_url(base: &str, name: &str) -> String {
    let without_query = base.split('?').next().unwrap();
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("a URL with a database name");
    format!("{server}/{name}")
}

async fn connect_migrated(url: &str) -> DatabaseConnection {
    let config = salesbot::config::DatabaseConfig {
        url: DatabaseUrl(url.to_string()),
        ..Default::default()
    };
    let db = salesbot::db::connect(&config, false).await.unwrap();
    salesbot::db::migrate(&db).await.unwrap();
    db
}

pub fn event(key: &str) -> NewEvent {
    NewEvent {
        platform: "wecom".into(),
        tenant: "acme".into(),
        kind: "test.event".into(),
        dedupe_key: key.into(),
        priority: PRIORITY_NORMAL,
        payload: serde_json::json!({ "key": key }),
    }
}

pub fn message(key: &str) -> NewMessage {
    NewMessage {
        idempotency_key: key.into(),
        platform: "fake".into(),
        tenant: "acme".into(),
        kind: "test.message".into(),
        payload: serde_json::json!({ "text": key }),
        not_before: None,
        priority: salesbot::pipeline::outbox::PRIORITY_NORMAL,
    }
}

/// Pipeline settings for tests: small batches and short, predictable delays.
pub fn settings() -> pipeline::Settings {
    pipeline::Settings {
        batch_size: 16,
        poll_interval: Duration::from_millis(20),
        lease_ms: 60_000,
        inbox_max_attempts: 3,
        outbox_max_attempts: 3,
        backoff: pipeline::Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
    }
}

pub fn worker(db: &TestDb, owner: &str, handlers: Handlers) -> Worker {
    Worker {
        db: db.db.clone(),
        handlers: Arc::new(handlers),
        settings: settings(),
        owner: owner.into(),
        metrics: Arc::new(Metrics::new()),
        wake: Arc::new(Notify::new()),
        wake_outbox: Arc::new(Notify::new()),
    }
}

pub fn dispatcher(db: &TestDb, owner: &str, delivery: Arc<dyn Delivery>) -> Dispatcher {
    Dispatcher {
        db: db.db.clone(),
        delivery,
        settings: settings(),
        owner: owner.into(),
        metrics: Arc::new(Metrics::new()),
        wake: Arc::new(Notify::new()),
    }
}

/// A handler with two effects (an audit row and an outbox message), that can be told to fail
/// after writing both.
pub struct RecordingHandler {
    pub fail_with: Mutex<Option<HandlerError>>,
    pub calls: AtomicU32,
}

impl RecordingHandler {
    pub fn ok() -> Arc<Self> {
        Arc::new(Self {
            fail_with: Mutex::new(None),
            calls: AtomicU32::new(0),
        })
    }

    pub fn failing(error: HandlerError) -> Arc<Self> {
        Arc::new(Self {
            fail_with: Mutex::new(Some(error)),
            calls: AtomicU32::new(0),
        })
    }

    pub fn succeed_from_now(&self) {
        *self.fail_with.lock().unwrap() = None;
    }

    pub fn handlers(self: &Arc<Self>) -> Handlers {
        let mut handlers = Handlers::default();
        handlers.register("test.event", self.clone());
        handlers
    }
}

#[async_trait]
impl EventHandler for RecordingHandler {
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        salesbot::audit::record(
            effects.db(),
            effects.now(),
            "test",
            "test.handled",
            ("inbox", &event.id.to_string()),
            &serde_json::json!({}),
        )
        .await?;
        effects
            .send(&message(&format!("reply-to-{}", event.dedupe_key)))
            .await?;
        let failure = self.fail_with.lock().unwrap().as_ref().map(|e| match e {
            HandlerError::Transient(m) => HandlerError::Transient(m.clone()),
            HandlerError::Permanent(m) => HandlerError::Permanent(m.clone()),
            HandlerError::Database(e) => HandlerError::Transient(e.to_string()),
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A platform that fails the first `failures` sends of each message with `error`, then
/// succeeds, and counts every successful delivery per idempotency key.
pub struct FakePlatform {
    failures: u32,
    error: DeliveryError,
    attempts: Mutex<HashMap<String, u32>>,
    pub delivered: Mutex<HashMap<String, u32>>,
}

impl FakePlatform {
    pub fn reliable() -> Arc<Self> {
        Self::failing(0, DeliveryError::transient("unused"))
    }

    pub fn failing(failures: u32, error: DeliveryError) -> Arc<Self> {
        Arc::new(Self {
            failures,
            error,
            attempts: Mutex::new(HashMap::new()),
            delivered: Mutex::new(HashMap::new()),
        })
    }

    pub fn delivered(&self) -> HashMap<String, u32> {
        self.delivered.lock().unwrap().clone()
    }
}

#[async_trait]
impl Delivery for FakePlatform {
    async fn deliver(&self, message: &OutboxMessage) -> Result<Receipt, DeliveryError> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(message.idempotency_key.clone()).or_default();
            *n += 1;
            *n
        };
        if attempt <= self.failures {
            return Err(self.error.clone());
        }
        *self
            .delivered
            .lock()
            .unwrap()
            .entry(message.idempotency_key.clone())
            .or_default() += 1;
        Ok(Receipt::new(
            serde_json::json!({ "msgid": format!("m-{}", message.id) }),
        ))
    }
}

/// The app on port 0, running until `stop`.
pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub client: reqwest::Client,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestApp {
    pub async fn spawn(config: Config, extensions: Extensions, startup: Startup) -> Self {
        let app = Application::build(config, extensions, startup)
            .await
            .unwrap();
        let address = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run(shutdown.clone()));
        Self {
            address,
            state,
            client: http_client(),
            shutdown,
            task,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    /// An admin API call with the bearer token.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::Response {
        self.client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Stops the app and waits until it has returned; fails if it returned an error.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// An HTTP client for talking to the app. TLS is never used on loopback, but the build's
/// reqwest has rustls without a default provider, so one is installed first.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// Polls `check` until it holds or `deadline` passes.
pub async fn wait_until<F, Fut>(deadline: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Encrypts an arbitrary frame with the app key `encoding_aes_key` (43 characters), bypassing
/// the framing rules, so tests can send bad padding and bad length fields that verify.
pub fn raw_frame_encrypt(encoding_aes_key: &str, frame: &[u8]) -> String {
    use aes::cipher::{BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
    use base64::Engine;
    let key = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    )
    .decode(encoding_aes_key)
    .unwrap();
    let mut buf = frame.to_vec();
    let len = buf.len();
    let out = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded::<NoPadding>(&mut buf, len)
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// A plaintext frame: prefix, the declared length, the message, the receive id, and padding to
/// 32 bytes with `pad` bytes (the correct value when `None`).
pub fn frame(msg: &[u8], declared: u32, receive_id: &str, pad: Option<u8>) -> Vec<u8> {
    let mut f = b"0123456789abcdef".to_vec();
    f.extend_from_slice(&declared.to_be_bytes());
    f.extend_from_slice(msg);
    f.extend_from_slice(receive_id.as_bytes());
    let n = 32 - f.len() % 32;
    f.extend(std::iter::repeat_n(pad.unwrap_or(n as u8), n));
    f
}

/// Waits until every event is handled and every message sent; panics with what is not.
pub async fn settled(t: &TestDb) {
    let done = t
        .wait_for_count("SELECT COUNT(*) FROM inbox WHERE state <> 'done'", 0)
        .await
        && t.wait_for_count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'", 0)
            .await;
    if !done {
        use sea_orm::ConnectionTrait;
        let rows = t
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                t.db.get_database_backend(),
                "SELECT kind, idempotency_key, attempts, last_error FROM outbox WHERE state = 'pending'",
            ))
            .await
            .unwrap();
        let pending: Vec<String> = rows
            .iter()
            .map(|row| {
                format!(
                    "{} {} attempts={} {:?}",
                    row.try_get::<String>("", "kind").unwrap(),
                    row.try_get::<String>("", "idempotency_key").unwrap(),
                    row.try_get::<i32>("", "attempts").unwrap(),
                    row.try_get::<Option<String>>("", "last_error").unwrap()
                )
            })
            .collect();
        let events: Vec<_> = t
            .inbox_events()
            .await
            .into_iter()
            .filter(|e| e.state != "done")
            .map(|e| (e.kind, e.state, e.attempts, e.last_error))
            .collect();
        panic!("not settled: events {events:#?}, messages {pending:#?}");
    }
}

/// A DingTalk app of tenant `acme` in HTTP mode whose APIs are at `api_base` (a fake), with
/// the fake's credentials; tests change what they need with `..`.
pub fn dingtalk_app(api_base: &str) -> salesbot::config::DingtalkConfig {
    salesbot::config::DingtalkConfig {
        tenant: "acme".into(),
        app_key: salesbot_dingtalk::fake::FakeDingtalk::APP_KEY.into(),
        app_secret: salesbot::config::Secret::new(
            salesbot_dingtalk::fake::FakeDingtalk::APP_SECRET,
        ),
        agent_id: salesbot_dingtalk::fake::FakeDingtalk::AGENT_ID,
        callback_token: salesbot::config::Secret::new("mryue"),
        aes_key: salesbot::config::Secret::new("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7"),
        receive_id: None,
        mode: salesbot::config::DingtalkMode::Http,
        card_callback_secret: None,
        api_base: api_base.into(),
        oapi_base: api_base.into(),
        rate_limit_per_minute: 0,
        request_timeout_secs: 5,
        card_template_id: None,
        card_callback_route_key: None,
        robot_code: None,
    }
}

/// The callback token and EncodingAESKey of the WeCom app the tests configure.
pub const WECOM_CALLBACK: (&str, &str) = (
    "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
    "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt",
);

/// The WeCom app of tenant `acme` on `fake`, with [`WECOM_CALLBACK`] and no rate limit.
pub fn wecom_app(fake: &salesbot_wecom::fake::FakeWecom) -> salesbot::config::WecomConfig {
    use salesbot::config::{Secret, WecomConfig};
    use salesbot_wecom::fake::FakeWecom;
    WecomConfig {
        api_base: fake.base_url().into(),
        rate_limit_per_minute: 0,
        ..WecomConfig::new(
            "acme",
            FakeWecom::CORP_ID,
            FakeWecom::AGENT_ID.into(),
            Secret::new(FakeWecom::SECRET),
            Secret::new(WECOM_CALLBACK.0),
            Secret::new(WECOM_CALLBACK.1),
        )
    }
}

/// Posts DingTalk's callback for a tap by `userid` on button `action` of the interactive card
/// `out_track_id` (tenant `acme`), signed with the app's card callback `secret`; returns the
/// status salesbot answered.
pub async fn post_dingtalk_card_tap(
    app: &TestApp,
    secret: &str,
    out_track_id: &str,
    userid: &str,
    action: &str,
) -> reqwest::StatusCode {
    let content = serde_json::json!({ "cardPrivateData": {
        "actionIds": [format!("{action}_btn")], "params": { "action": action } } });
    let body = serde_json::json!({
        "type": "actionCallback", "outTrackId": out_track_id,
        "corpId": salesbot_dingtalk::fake::FakeDingtalk::CORP_ID,
        "userId": userid, "content": content.to_string(),
    });
    let timestamp = salesbot::pipeline::clock::now_ms().to_string();
    app.client
        .post(format!("{}/callbacks/dingtalk/acme/card", app.address))
        .header("x-ddpaas-signature-timestamp", &timestamp)
        .header(
            "x-ddpaas-signature",
            salesbot_dingtalk::card_callback::sign(secret, &timestamp),
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

/// Encrypts and signs `xml` as WeCom does for the app of tenant `acme` (agent 1000002) with the
/// callback `(token, aes_key)`, posts it to the callback URL and asserts it was accepted.
pub async fn post_wecom_event(app: &TestApp, (token, aes_key): (&str, &str), xml: &str) {
    use salesbot_wecom::fake::FakeWecom;
    let crypto =
        salesbot_wecom::crypto::CallbackCrypto::new(token, aes_key, FakeWecom::CORP_ID).unwrap();
    let request = salesbot_wecom::fake::CallbackSigner::new(&crypto).event(
        FakeWecom::CORP_ID,
        "1000002",
        xml,
    );
    let response = app
        .client
        .post(format!(
            "{}/callbacks/wecom/acme?{}",
            app.address, request.query
        ))
        .body(request.body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}
