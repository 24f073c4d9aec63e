//! The HTTP surface on port 0: health, readiness, metrics, limits, request ids, the admin API
//! and graceful shutdown.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{DatabaseUrl, Secret},
    pipeline::{Effects, EventHandler, HandlerError, Handlers, InboxEvent, clock::now_ms, inbox},
};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};

use crate::helpers::{RecordingHandler, TestApp, TestDb, event};

const TOKEN: &str = "admin-token-for-tests";

async fn app_on(t: &TestDb, extensions: Extensions) -> TestApp {
    let mut config = t.config();
    config.admin.token = Some(Secret::new(TOKEN));
    TestApp::spawn(config, extensions, Startup::default()).await
}

#[tokio::test]
async fn healthz_answers_with_a_request_id_and_echoes_the_callers() {
    let t = TestDb::sqlite().await;
    let app = app_on(&t, Extensions::default()).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 16);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ok");
    let echoed = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "abc-123");
    assert_eq!(app.get("/nope").await.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_false_until_migrations_are_applied() {
    let t = TestDb::sqlite().await;
    // A database file with no schema at all.
    let mut config = t.config();
    let dir = tempfile::tempdir().unwrap();
    config.database.url = DatabaseUrl(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("empty.db").display()
    ));
    let app = TestApp::spawn(
        config,
        Extensions::default(),
        Startup {
            migrate: false,
            lazy_db: false,
        },
    )
    .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["reason"].as_str().unwrap().contains("migration"),
        "{body}"
    );
    salesbot::db::migrate(&app.state.db).await.unwrap();
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_false_while_the_database_is_unreachable() {
    let t = TestDb::sqlite().await;
    let mut config = t.config();
    // Nothing listens on port 1; the pool connects lazily so the app still starts.
    config.database.url = DatabaseUrl("postgres://postgres@127.0.0.1:1/salesbot".into());
    config.database.timeout_secs = 1;
    let app = TestApp::spawn(
        config,
        Extensions::default(),
        Startup {
            migrate: false,
            lazy_db: true,
        },
    )
    .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
    assert!(!body["reason"].as_str().unwrap().is_empty());
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_report_requests_queue_depths_and_latencies() {
    let t = TestDb::sqlite().await;
    let handler = RecordingHandler::ok();
    let app = app_on(
        &t,
        Extensions {
            handlers: handler.handlers(),
            ..Default::default()
        },
    )
    .await;
    app.get("/healthz").await;
    app.get("/healthz").await;
    inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap();
    app.state.wake_inbox.notify_waiters();
    // The event is handled and its message dead-lettered: no platform "fake" is configured.
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'", 1)
            .await
    );

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"salesbot_http_requests_total{route="/healthz",method="GET",status="200"} 2"#,
        r#"salesbot_inbox_events{state="done"} 1"#,
        r#"salesbot_inbox_events{state="pending"} 0"#,
        r#"salesbot_outbox_messages{state="dead"} 1"#,
        r#"salesbot_handler_duration_seconds_count{kind="test.event",outcome="done"} 1"#,
        r#"salesbot_delivery_duration_seconds_count{platform="fake",outcome="dead"} 1"#,
        "# TYPE salesbot_handler_duration_seconds histogram",
    ] {
        assert!(text.contains(expected), "missing {expected} in\n{text}");
    }
    app.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_rejected_with_413() {
    let t = TestDb::sqlite().await;
    let mut config = t.config();
    config.server.body_limit_bytes = 1024;
    config.admin.token = Some(Secret::new(TOKEN));
    let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
    let response = app
        .client
        .post(format!("{}/api/v1/inbox/1/replay", app.address))
        .bearer_auth(TOKEN)
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    app.stop().await;
}

#[tokio::test]
async fn admin_api_needs_the_bearer_token() {
    let t = TestDb::sqlite().await;
    let app = app_on(&t, Extensions::default()).await;
    let stats = "/api/v1/pipeline/stats";
    let bare = app.client.get(format!("{}{stats}", app.address)).send();
    assert_eq!(bare.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong = app.admin(Method::GET, stats, "wrong").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.admin(Method::GET, stats, TOKEN).await.status(),
        StatusCode::OK
    );
    // The document is public.
    assert_eq!(
        app.get("/api/v1/openapi.json").await.status(),
        StatusCode::OK
    );
    app.stop().await;

    // No token configured: closed to everyone.
    let app = TestApp::spawn(t.config(), Extensions::default(), Startup::default()).await;
    let empty = app.admin(Method::GET, stats, "").await;
    assert_eq!(empty.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn parked_events_are_listed_and_replayed_through_the_admin_api() {
    let t = TestDb::sqlite().await;
    let handler = RecordingHandler::failing(HandlerError::Permanent("bad payload".into()));
    let app = app_on(
        &t,
        Extensions {
            handlers: handler.handlers(),
            ..Default::default()
        },
    )
    .await;
    let inbox::Stored::New(id) = inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap() else {
        panic!()
    };
    app.state.wake_inbox.notify_waiters();
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM inbox WHERE state = 'parked'", 1)
            .await
    );

    let list: Value = app
        .admin(Method::GET, "/api/v1/inbox?state=parked", TOKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["events"][0]["id"], id);
    assert_eq!(list["events"][0]["last_error"], "bad payload");
    let bad = app
        .admin(Method::GET, "/api/v1/inbox?state=weird", TOKEN)
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    handler.succeed_from_now();
    let replay = |id: i64| {
        let path = format!("/api/v1/inbox/{id}/replay");
        let app = &app;
        async move { app.admin(Method::POST, &path, TOKEN).await }
    };
    let response = replay(id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM inbox WHERE state = 'done'", 1)
            .await
    );
    assert_eq!(
        replay(id).await.status(),
        StatusCode::CONFLICT,
        "a done event is not replayed"
    );
    assert_eq!(replay(999).await.status(), StatusCode::NOT_FOUND);
    let audit = salesbot::audit::for_subject(&t.db, "inbox", &id.to_string())
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "inbox.requeue" && e.actor == "admin-api"),
        "{audit:?}"
    );

    // The handler's message is dead (no platform configured): retried through the API.
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM outbox WHERE state = 'dead'", 1)
            .await
    );
    let dead: Value = app
        .admin(Method::GET, "/api/v1/outbox", TOKEN)
        .await
        .json()
        .await
        .unwrap();
    let message_id = dead["messages"][0]["id"].as_i64().unwrap();
    let retried = app
        .admin(
            Method::POST,
            &format!("/api/v1/outbox/{message_id}/retry"),
            TOKEN,
        )
        .await;
    assert_eq!(retried.status(), StatusCode::OK);
    let stats: Value = app
        .admin(Method::GET, "/api/v1/pipeline/stats", TOKEN)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stats["inbox"]["done"], 1, "{stats}");
    app.stop().await;
}

#[tokio::test]
async fn openapi_document_describes_every_admin_route() {
    let t = TestDb::sqlite().await;
    // With registrations on, so that their path exists.
    let mut config = t.config();
    config.admin.token = Some(Secret::new(TOKEN));
    config.registrations.secret = Some(Secret::new("form-secret"));
    config.registrations.phone_salt = Some(Secret::new("phone-salt-0123456789"));
    let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("get", "/api/v1/openapi.json"),
        ("get", "/api/v1/pipeline/stats"),
        ("get", "/api/v1/inbox"),
        ("post", "/api/v1/inbox/{id}/replay"),
        ("get", "/api/v1/outbox"),
        ("post", "/api/v1/outbox/{id}/retry"),
        ("get", "/api/v1/customers"),
        ("get", "/api/v1/customers/{id}"),
        ("get", "/api/v1/channel-codes"),
        ("post", "/api/v1/channel-codes"),
        ("post", "/api/v1/approvals"),
        ("get", "/api/v1/approvals/{id}"),
        ("post", "/api/v1/approvals/{id}/withdraw"),
        ("post", "/api/v1/registrations"),
        ("get", "/api/v1/leads"),
        ("get", "/api/v1/leads/{id}"),
        ("post", "/api/v1/links"),
        ("patch", "/api/v1/links/{code}"),
        ("get", "/api/v1/links/{code}/stats"),
        ("get", "/api/v1/campaigns/{campaign}/stats"),
        ("get", "/l/{code}"),
        ("get", "/api/v1/groups/{chat_id}/activity"),
        ("get", "/api/v1/tasks"),
        ("post", "/api/v1/tasks"),
        ("get", "/api/v1/tasks/{id}"),
        ("patch", "/api/v1/tasks/{id}"),
        ("get", "/api/v1/deals"),
        ("post", "/api/v1/deals"),
        ("get", "/api/v1/deals/{id}"),
        ("patch", "/api/v1/deals/{id}"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
        // ... and the route exists: anything but the router's own 404 (a tracked link's 404
        // page is the route answering).
        let url = format!(
            "{}{}",
            app.address,
            path.replace("{id}", "1")
                .replace("{code}", "Ab3dE5gH7j")
                .replace("{campaign}", "expo")
                .replace("{chat_id}", "wrChat1")
        );
        let response = app
            .client
            .request(method.to_uppercase().parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let html = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap().starts_with("text/html"));
        assert!(
            status != StatusCode::NOT_FOUND || html,
            "{method} {path}: the router's 404"
        );
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
    assert_eq!(paths.len(), 25, "a documented path has no test here");
    app.stop().await;
}

/// A handler that signals when it starts and waits for permission to finish.
struct SlowHandler {
    started: Notify,
    finish: Semaphore,
}

#[async_trait]
impl EventHandler for SlowHandler {
    async fn handle(&self, _: &Effects<'_>, _: &InboxEvent) -> Result<(), HandlerError> {
        self.started.notify_one();
        let _permit = self.finish.acquire().await.unwrap();
        Ok(())
    }
}

#[tokio::test]
async fn shutdown_finishes_the_event_in_hand_before_returning() {
    let t = TestDb::sqlite().await;
    let slow = Arc::new(SlowHandler {
        started: Notify::new(),
        finish: Semaphore::new(0),
    });
    let mut handlers = Handlers::default();
    handlers.register("test.event", slow.clone());
    let mut config = t.config();
    config.pipeline.workers = 1;
    let app = TestApp::spawn(
        config,
        Extensions {
            handlers,
            ..Default::default()
        },
        Startup::default(),
    )
    .await;
    inbox::insert(&t.db, &event("e1"), now_ms()).await.unwrap();
    app.state.wake_inbox.notify_waiters();
    slow.started.notified().await;

    // Ask to stop while the handler runs, then let it finish.
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown must wait for the event in hand"
    );
    slow.finish.add_permits(1);
    stopping.await.unwrap();
    assert_eq!(
        t.count("SELECT COUNT(*) FROM inbox WHERE state = 'done'")
            .await,
        1
    );
}
