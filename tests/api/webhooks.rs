//! Outbound webhooks: an event published in a transaction becomes one signed POST per matching
//! hook, retried on the receiver's transient failures and dead-lettered on the others.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use salesbot::{
    app::{Extensions, Startup},
    config::{Secret, WebhookConfig},
    pipeline::{
        clock::now_ms,
        dispatcher::Outcome,
        outbox::{self, OutboxMessage},
    },
    webhooks::{self, Payload, WebhookDelivery, WebhookEvent, Webhooks},
};
use sea_orm::TransactionTrait;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::helpers::{TestApp, TestDb, dispatcher, on_both_backends};

/// 2026-11-27T10:05:46.123Z: when the tests' state changes happen.
const NOW: i64 = 1_795_773_946_123;
pub(crate) const SECRET: &str = "whsec-test-SECRET";

/// A receiver on loopback that records every request and answers from a script (200 once the
/// script is used up). Every request must be read: [`Receiver::finish`] fails otherwise.
pub(crate) struct Receiver {
    base: String,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Inner {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
}

#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    pub(crate) body: String,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// Whether the signature headers sign the body under `secret`, at most a minute ago.
    pub(crate) fn signed_with(&self, secret: &str) -> bool {
        let timestamp: i64 = self.header("x-salesbot-timestamp").parse().unwrap();
        webhooks::verify(
            secret,
            timestamp,
            self.body.as_bytes(),
            self.header("x-salesbot-signature"),
            now_ms() / 1000,
            60,
        )
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Never answer, to run into the hook's timeout.
    hang: bool,
}

impl Reply {
    fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            hang: false,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }
}

impl Receiver {
    pub(crate) async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        let inner = Arc::new(Inner::default());
        inner.script.lock().unwrap().extend(script);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = Router::new().fallback(answer).with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { base, inner, task }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The requests received since the last call, oldest first.
    pub(crate) fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.inner.requests.lock().unwrap())
    }

    pub(crate) fn finish(self) {
        let unread = self.take();
        self.task.abort();
        assert!(unread.is_empty(), "requests nobody read: {unread:?}");
    }
}

async fn answer(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inner.requests.lock().unwrap().push(Recorded {
        method,
        path: uri.path().to_owned(),
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    });
    let reply = inner.script.lock().unwrap().pop_front();
    let reply = reply.unwrap_or_else(|| Reply::status(200));
    if reply.hang {
        std::future::pending::<()>().await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

pub(crate) fn hook(name: &str, url: String) -> WebhookConfig {
    WebhookConfig::new(name, url, Secret::new(SECRET))
}

fn delivery(hooks: &Arc<Webhooks>) -> Arc<WebhookDelivery> {
    Arc::new(WebhookDelivery::new(hooks.clone()).unwrap())
}

fn approval_data() -> serde_json::Value {
    json!({
        "id": 12, "tenant": "acme", "platform": "wecom", "kind": "discount",
        "title": "30% for Globex", "requester": "alice", "amount": 120000.0,
        "discount_pct": 30.0, "subject": "deal:7", "status": "approved",
        "current_level": 2, "level_count": 2, "decision": "approved", "by": "dave",
    })
}

/// Publishes `kind` for approval 12 of `tenant` in a transaction of its own, at [`NOW`].
async fn publish(t: &TestDb, hooks: &Webhooks, id: &str, kind: &str, tenant: &str) {
    let data = approval_data();
    let event = WebhookEvent {
        id,
        kind,
        tenant,
        data: &data,
    };
    let txn = t.db.begin().await.unwrap();
    hooks.publish(&txn, &event, NOW).await.unwrap();
    txn.commit().await.unwrap();
}

async fn the_row(t: &TestDb) -> OutboxMessage {
    let mut rows: Vec<OutboxMessage> = Vec::new();
    for state in outbox::state::ALL {
        rows.extend(outbox::QUEUE.list(&t.db, state, 10).await.unwrap());
    }
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.remove(0)
}

async fn a_published_event_is_posted_once_exactly_as_stored_and_signed(t: &TestDb) {
    let receiver = Receiver::start([]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/in"))]));
    publish(t, &hooks, "approval:12:decided", "approval.decided", "acme").await;

    let row = the_row(t).await;
    assert_eq!(
        (
            row.platform.as_str(),
            row.tenant.as_str(),
            row.kind.as_str()
        ),
        ("webhook", "acme", "webhook.event")
    );
    assert_eq!(row.idempotency_key, "webhook:crm:approval:12:decided");
    assert!(!row.payload.contains(SECRET), "{}", row.payload);
    let payload: Payload = serde_json::from_str(&row.payload).unwrap();
    let body = format!(
        r#"{{"id":"approval:12:decided","type":"approval.decided","tenant":"acme","occurred_at":"2026-11-27T10:05:46.123Z","data":{}}}"#,
        serde_json::to_string(&approval_data()).unwrap()
    );
    assert_eq!((payload.hook.as_str(), &payload.body), ("crm", &body));

    let d = dispatcher(t, "d1", delivery(&hooks));
    assert_eq!(d.run_once(NOW).await.unwrap(), vec![Outcome::Sent]);
    let requests = receiver.take();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((&r.method, r.path.as_str()), (&Method::POST, "/in"));
    assert_eq!(r.body, body);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("user-agent"),
        concat!("salesbot/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(r.header("x-salesbot-event"), "approval.decided");
    assert_eq!(r.header("x-salesbot-delivery"), "approval:12:decided");
    assert!(r.header("x-salesbot-signature").starts_with("sha256="));
    assert!(r.signed_with(SECRET));
    assert!(!r.signed_with("another secret"));
    let row: OutboxMessage = outbox::QUEUE.get(&t.db, row.id).await.unwrap().unwrap();
    assert_eq!(row.state, "sent");
    assert_eq!(row.receipt.as_deref(), Some(r#"{"status":200}"#));
    receiver.finish();
}
on_both_backends!(
    a_published_event_is_posted_once_exactly_as_stored_and_signed,
    super::a_published_event_is_posted_once_exactly_as_stored_and_signed
);

async fn only_hooks_whose_events_and_tenants_match_get_the_event(t: &TestDb) {
    let receiver = Receiver::start([]).await;
    let mut approvals_of_acme = hook("approvals-acme", receiver.url("/approvals-acme"));
    approvals_of_acme.events = vec!["approval.".into()];
    approvals_of_acme.tenants = vec!["acme".into()];
    let mut decided_only = hook("decided-only", receiver.url("/decided-only"));
    decided_only.events = vec!["approval.decided".into()];
    let mut beta_only = hook("beta-only", receiver.url("/beta-only"));
    beta_only.tenants = vec!["beta".into()];
    let mut customers = hook("customers", receiver.url("/customers"));
    customers.events = vec!["customer.".into()];
    let hooks = Arc::new(Webhooks::from_config(&[
        hook("all", receiver.url("/all")),
        approvals_of_acme,
        decided_only,
        beta_only,
        customers,
    ]));
    publish(
        t,
        &hooks,
        "approval:12:requested",
        "approval.requested",
        "acme",
    )
    .await;

    let d = dispatcher(t, "d1", delivery(&hooks));
    assert_eq!(
        d.run_once(NOW).await.unwrap(),
        vec![Outcome::Sent, Outcome::Sent]
    );
    let mut paths: Vec<String> = receiver.take().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(paths, ["/all", "/approvals-acme"]);
    receiver.finish();
}
on_both_backends!(
    only_hooks_whose_events_and_tenants_match_get_the_event,
    super::only_hooks_whose_events_and_tenants_match_get_the_event
);

async fn a_server_error_is_retried_with_backoff_and_delivered_once(t: &TestDb) {
    let receiver = Receiver::start([Reply::status(500).body("database down")]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/"))]));
    publish(t, &hooks, "approval:12:decided", "approval.decided", "acme").await;
    let d = dispatcher(t, "d1", delivery(&hooks));

    assert_eq!(
        d.run_once(NOW).await.unwrap(),
        vec![Outcome::Retry(
            "webhook `crm` answered HTTP 500: database down".into()
        )]
    );
    let row = the_row(t).await;
    assert!(row.available_at > NOW, "retried after a backoff");
    assert!(d.run_once(NOW).await.unwrap().is_empty(), "not due yet");
    assert_eq!(
        d.run_once(row.available_at).await.unwrap(),
        vec![Outcome::Sent]
    );
    let requests = receiver.take();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
    for r in &requests {
        assert_eq!(r.header("x-salesbot-delivery"), "approval:12:decided");
        assert!(r.signed_with(SECRET), "each attempt is signed");
    }
    let row = the_row(t).await;
    assert_eq!((row.state.as_str(), row.attempts), ("sent", 2));
    receiver.finish();
}
on_both_backends!(
    a_server_error_is_retried_with_backoff_and_delivered_once,
    super::a_server_error_is_retried_with_backoff_and_delivered_once
);

async fn too_many_requests_schedules_the_next_attempt_by_retry_after(t: &TestDb) {
    let receiver = Receiver::start([Reply::status(429).header("retry-after", "120")]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/"))]));
    publish(
        t,
        &hooks,
        "approval:12:reminded:1",
        "approval.reminded",
        "acme",
    )
    .await;
    let d = dispatcher(t, "d1", delivery(&hooks));

    let outcomes = d.run_once(NOW).await.unwrap();
    assert!(matches!(&outcomes[..], [Outcome::Retry(e)] if e.contains("HTTP 429")));
    let row = the_row(t).await;
    // The dispatcher counts the delay from the end of the send; the test's backoff is 1 s.
    let delay = row.available_at - NOW;
    assert!((120_000..130_000).contains(&delay), "{delay}");
    assert_eq!(receiver.take().len(), 1);
    receiver.finish();
}
on_both_backends!(
    too_many_requests_schedules_the_next_attempt_by_retry_after,
    super::too_many_requests_schedules_the_next_attempt_by_retry_after
);

async fn a_client_error_is_dead_lettered_at_once_with_the_status_and_the_start_of_the_body(
    t: &TestDb,
) {
    let refusal = format!("unknown approval {}", "x".repeat(1000));
    let receiver = Receiver::start([Reply::status(400).body(refusal)]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/"))]));
    publish(t, &hooks, "approval:12:decided", "approval.decided", "acme").await;
    let d = dispatcher(t, "d1", delivery(&hooks));

    let outcomes = d.run_once(NOW).await.unwrap();
    assert!(matches!(&outcomes[..], [Outcome::Dead(_)]), "{outcomes:?}");
    let row = the_row(t).await;
    assert_eq!(row.state, "dead");
    let error = row.last_error.unwrap();
    assert!(
        error.starts_with("webhook `crm` answered HTTP 400: unknown approval xxx"),
        "{error}"
    );
    assert_eq!(error.len(), "webhook `crm` answered HTTP 400: ".len() + 200);
    assert_eq!(receiver.take().len(), 1);
    receiver.finish();
}
on_both_backends!(
    a_client_error_is_dead_lettered_at_once_with_the_status_and_the_start_of_the_body,
    super::a_client_error_is_dead_lettered_at_once_with_the_status_and_the_start_of_the_body
);

async fn a_redirect_is_not_followed_and_dead_letters_the_event(t: &TestDb) {
    let receiver = Receiver::start([Reply::status(302).header("location", "/elsewhere")]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/"))]));
    publish(t, &hooks, "approval:12:decided", "approval.decided", "acme").await;
    let d = dispatcher(t, "d1", delivery(&hooks));

    let outcomes = d.run_once(NOW).await.unwrap();
    assert!(matches!(&outcomes[..], [Outcome::Dead(e)] if e.contains("HTTP 302")));
    let paths: Vec<String> = receiver.take().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/"]);
    receiver.finish();
}
on_both_backends!(
    a_redirect_is_not_followed_and_dead_letters_the_event,
    super::a_redirect_is_not_followed_and_dead_letters_the_event
);

async fn an_unreachable_or_silent_receiver_is_retried(t: &TestDb) {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let receiver = Receiver::start([Reply {
        hang: true,
        ..Reply::status(200)
    }])
    .await;
    let mut silent = hook("silent", receiver.url("/"));
    silent.timeout_secs = 1;
    let hooks = Arc::new(Webhooks::from_config(&[hook("down", closed_url), silent]));
    publish(
        t,
        &hooks,
        "approval:12:escalated",
        "approval.escalated",
        "acme",
    )
    .await;
    let d = dispatcher(t, "d1", delivery(&hooks));

    let mut outcomes: Vec<String> = d
        .run_once(NOW)
        .await
        .unwrap()
        .into_iter()
        .map(|o| match o {
            Outcome::Retry(e) => e,
            other => panic!("{other:?}"),
        })
        .collect();
    outcomes.sort();
    assert!(
        outcomes[0].starts_with("webhook `down`: cannot connect"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1].starts_with("webhook `silent`: timed out"),
        "{outcomes:?}"
    );
    assert!(!outcomes.iter().any(|e| e.contains("127.0.0.1")), "no URL");
    assert_eq!(receiver.take().len(), 1);
    receiver.finish();
}
on_both_backends!(
    an_unreachable_or_silent_receiver_is_retried,
    super::an_unreachable_or_silent_receiver_is_retried
);

async fn publishing_the_same_event_twice_posts_it_once(t: &TestDb) {
    let receiver = Receiver::start([]).await;
    let hooks = Arc::new(Webhooks::from_config(&[hook("crm", receiver.url("/"))]));
    publish(
        t,
        &hooks,
        "approval:12:withdrawn",
        "approval.withdrawn",
        "acme",
    )
    .await;
    publish(
        t,
        &hooks,
        "approval:12:withdrawn",
        "approval.withdrawn",
        "acme",
    )
    .await;
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
    let d = dispatcher(t, "d1", delivery(&hooks));
    assert_eq!(d.run_once(NOW).await.unwrap(), vec![Outcome::Sent]);
    assert_eq!(receiver.take().len(), 1);
    receiver.finish();
}
on_both_backends!(
    publishing_the_same_event_twice_posts_it_once,
    super::publishing_the_same_event_twice_posts_it_once
);

async fn an_event_published_in_a_rolled_back_transaction_is_never_posted(t: &TestDb) {
    let hooks = Webhooks::from_config(&[hook("crm", "http://127.0.0.1:9/".into())]);
    let data = approval_data();
    let event = WebhookEvent {
        id: "approval:12:decided",
        kind: "approval.decided",
        tenant: "acme",
        data: &data,
    };
    let txn = t.db.begin().await.unwrap();
    hooks.publish(&txn, &event, NOW).await.unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 0);
}
on_both_backends!(
    an_event_published_in_a_rolled_back_transaction_is_never_posted,
    super::an_event_published_in_a_rolled_back_transaction_is_never_posted
);

async fn an_event_for_a_hook_no_longer_configured_is_dead_lettered(t: &TestDb) {
    let before = Webhooks::from_config(&[hook("old-crm", "http://127.0.0.1:9/".into())]);
    publish(
        t,
        &before,
        "approval:12:decided",
        "approval.decided",
        "acme",
    )
    .await;
    let after = Arc::new(Webhooks::from_config(&[hook(
        "new-crm",
        "http://127.0.0.1:9/".into(),
    )]));
    let d = dispatcher(t, "d1", delivery(&after));
    assert_eq!(
        d.run_once(NOW).await.unwrap(),
        vec![Outcome::Dead("webhook `old-crm` is not configured".into())]
    );
}
on_both_backends!(
    an_event_for_a_hook_no_longer_configured_is_dead_lettered,
    super::an_event_for_a_hook_no_longer_configured_is_dead_lettered
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_posts_what_its_configured_hooks_publish() {
    let t = TestDb::sqlite().await;
    let receiver = Receiver::start([]).await;
    let mut config = t.config();
    config.webhooks = vec![hook("crm", receiver.url("/in"))];
    let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
    let state = &app.state;
    assert!(!state.webhooks.is_empty());
    let data = approval_data();
    let event = WebhookEvent {
        id: "approval:12:requested",
        kind: "approval.requested",
        tenant: "acme",
        data: &data,
    };
    state
        .webhooks
        .publish(&state.db, &event, now_ms())
        .await
        .unwrap();
    state.wake_outbox.notify_one();
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", 1)
            .await
    );
    let requests = receiver.take();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].signed_with(SECRET));
    app.stop().await;
    receiver.finish();
    t.finish().await;
}
