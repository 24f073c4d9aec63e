//! Tracked links when the database is not there: a cached link keeps redirecting and its
//! clicks wait in memory until they can be written; a full buffer drops and counts clicks
//! instead of slowing redirects; shutdown writes what is left.
//!
//! The outage is real on PostgreSQL: the database refuses new connections and its open ones
//! are ended. On SQLite, which has no server to stop, another connection holds the write lock, so
//! every write fails after the busy timeout, as behind a stuck writer; reads still work there,
//! so the 503 for a link not in memory is shown against an unreachable server instead.

use reqwest::StatusCode;
use salesbot::{
    app::{Extensions, Startup},
    config::DatabaseUrl,
};
use sea_orm::{
    ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, TransactionTrait,
};
use serde_json::json;

use crate::{
    helpers::{TestApp, TestDb, on_both_backends, pg_url},
    links::{BROWSER_UA, LinkApp, WECOM_UA},
};

/// The database out of reach of the app's writes (and, on PostgreSQL, of everything).
enum Outage {
    WriteLocked(DatabaseTransaction),
    Refused {
        server: DatabaseConnection,
        name: String,
    },
}

impl Outage {
    async fn begin(t: &TestDb) -> Self {
        if t.db.get_database_backend() == DbBackend::Postgres {
            let server = Database::connect(pg_url().unwrap()).await.unwrap();
            let name = t.url.rsplit('/').next().unwrap().to_owned();
            server
                .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
                .await
                .unwrap();
            server
                .execute_unprepared(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ))
                .await
                .unwrap();
            Self::Refused { server, name }
        } else {
            let txn = t.db.begin().await.unwrap();
            // Any write takes SQLite's one write lock until the transaction ends.
            txn.execute_unprepared("UPDATE link SET enabled = enabled")
                .await
                .unwrap();
            Self::WriteLocked(txn)
        }
    }

    async fn end(self) {
        match self {
            Self::WriteLocked(txn) => txn.rollback().await.unwrap(),
            Self::Refused { server, name } => {
                server
                    .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
                    .await
                    .unwrap();
            }
        }
    }
}

/// Holds the click table so the writer's insert waits (PostgreSQL) or fails (SQLite) until
/// the transaction ends.
async fn hold_click_writes(t: &TestDb) -> DatabaseTransaction {
    let txn = t.db.begin().await.unwrap();
    let sql = if t.db.get_database_backend() == DbBackend::Postgres {
        "LOCK TABLE link_click IN EXCLUSIVE MODE"
    } else {
        "UPDATE link SET enabled = enabled"
    };
    txn.execute_unprepared(sql).await.unwrap();
    txn
}

const RECORDED: &str = "salesbot_link_clicks_recorded_total";
const BUFFERED: &str = "salesbot_link_clicks_buffered";
const FULL: &str = r#"salesbot_link_clicks_dropped_total{reason="buffer_full"}"#;
const FLUSH_ERRORS: &str = r#"salesbot_link_click_flush_duration_seconds_count{outcome="error"}"#;

async fn a_cached_link_redirects_through_an_outage_and_its_clicks_are_written_after(t: &TestDb) {
    let links = LinkApp::start(t, |c| c.database.timeout_secs = 1).await;
    let code = links
        .link(
            serde_json::json!({ "tenant": "acme", "target_url": "https://example.com/e",
                                  "campaign": "expo" }),
        )
        .await;
    let outage = Outage::begin(t).await;
    for n in 0..5 {
        let response = links
            .follow(&code, WECOM_UA, &format!("203.0.113.{n}"))
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(response.headers()["location"], "https://example.com/e");
    }
    if matches!(outage, Outage::Refused { .. }) {
        // Not in memory and no database to ask: try again later, never a redirect.
        let response = links.follow("Zz9Zz9Zz9Z", WECOM_UA, "203.0.113.9").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().get("location").is_none());
        assert_eq!(response.headers()["retry-after"], "5");
    }
    // The writer has tried and failed, and keeps the clicks.
    assert!(
        crate::helpers::wait_until(std::time::Duration::from_secs(10), || async {
            links.metric(FLUSH_ERRORS).await >= 1.0
        })
        .await
    );
    assert_eq!(links.metric(BUFFERED).await, 5.0);
    assert_eq!(links.metric(RECORDED).await, 0.0);

    outage.end().await;
    assert!(t.wait_for_count("SELECT COUNT(*) FROM link_click", 5).await);
    assert_eq!(links.metric(RECORDED).await, 5.0);
    assert_eq!(links.metric(BUFFERED).await, 0.0);
    let stats = links.stats(&code).await;
    assert_eq!((&stats["clicks"], &stats["unique"]), (&json!(5), &json!(5)));
    links.app.stop().await;
}
on_both_backends!(
    a_cached_link_redirects_through_an_outage_and_its_clicks_are_written_after,
    super::a_cached_link_redirects_through_an_outage_and_its_clicks_are_written_after
);

#[tokio::test]
async fn a_link_not_in_memory_gets_a_503_page_while_the_database_is_unreachable() {
    let t = TestDb::sqlite().await;
    let mut config = t.config();
    // Nothing listens on port 1; the pool connects lazily so the app still starts.
    config.database.url = DatabaseUrl("postgres://postgres@127.0.0.1:1/salesbot".into());
    config.database.timeout_secs = 1;
    let startup = Startup {
        migrate: false,
        lazy_db: true,
    };
    let app = TestApp::spawn(config, Extensions::default(), startup).await;
    let response = app.get("/l/Ab3dE5gH7j").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("location").is_none());
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    app.stop().await;
}

async fn a_full_buffer_drops_and_counts_clicks_and_redirects_still_answer(t: &TestDb) {
    let links = LinkApp::start(t, |c| {
        c.links.buffer_capacity = 2;
        c.links.batch_size = 1;
        c.database.timeout_secs = 1;
    })
    .await;
    let code = links
        .link(
            serde_json::json!({ "tenant": "acme", "target_url": "https://example.com/f",
                                  "campaign": "expo" }),
        )
        .await;
    let lock = hold_click_writes(t).await;
    for n in 0..10 {
        let response = links
            .follow(&code, BROWSER_UA, &format!("203.0.113.{n}"))
            .await;
        assert_eq!(response.status(), StatusCode::FOUND, "click {n}");
    }
    // Two wait in the buffer and at most one in the writer's hands; the rest were dropped.
    let dropped = links.metric(FULL).await;
    assert!(dropped >= 7.0, "{dropped}");
    let kept = 10.0 - dropped;
    assert_eq!(links.metric(BUFFERED).await, kept);

    lock.rollback().await.unwrap();
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM link_click", kept as i64)
            .await
    );
    assert_eq!(links.metric(RECORDED).await, kept);
    assert_eq!(links.metric(BUFFERED).await, 0.0);
    links.app.stop().await;
}
on_both_backends!(
    a_full_buffer_drops_and_counts_clicks_and_redirects_still_answer,
    super::a_full_buffer_drops_and_counts_clicks_and_redirects_still_answer
);

async fn shutdown_writes_the_clicks_still_in_memory(t: &TestDb) {
    // A batch would wait a minute to fill: only shutdown writes these.
    let links = LinkApp::start(t, |c| c.links.flush_interval_ms = 60_000).await;
    let code = links
        .link(
            serde_json::json!({ "tenant": "acme", "target_url": "https://example.com/s",
                                  "campaign": "expo" }),
        )
        .await;
    for n in 0..3 {
        let response = links
            .follow(&code, BROWSER_UA, &format!("203.0.113.{n}"))
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
    }
    assert_eq!(t.count("SELECT COUNT(*) FROM link_click").await, 0);
    assert_eq!(links.metric(BUFFERED).await, 3.0);
    links.app.stop().await;
    assert_eq!(t.count("SELECT COUNT(*) FROM link_click").await, 3);
}
on_both_backends!(
    shutdown_writes_the_clicks_still_in_memory,
    super::shutdown_writes_the_clicks_still_in_memory
);
