//! Migrations apply one step at a time over existing rows, and roll back.

use salesbot_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

use crate::helpers::{PG_ENV, database_url, pg_url};

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap();
}

async fn step_by_step(db: &DatabaseConnection) {
    let total = Migrator::migrations().len();
    assert_eq!(
        Migrator::get_pending_migrations(db).await.unwrap().len(),
        total
    );
    Migrator::up(db, Some(1)).await.unwrap();
    exec(db, "INSERT INTO inbox (platform, tenant, kind, dedupe_key, payload, state, available_at, received_at) \
              VALUES ('wecom', 'acme', 'k', 'd1', '{}', 'pending', 1, 1)").await;
    Migrator::up(db, Some(1)).await.unwrap();
    exec(db, "INSERT INTO outbox (idempotency_key, platform, tenant, kind, payload, state, available_at, created_at) \
              VALUES ('i1', 'wecom', 'acme', 'k', '{}', 'pending', 1, 1)").await;
    Migrator::up(db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );
    exec(db, "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, detail) VALUES (1, 'a', 'b', 'c', 'd', '{}')").await;
    exec(db, "INSERT INTO access_token (cache_key, token, expires_at, refreshed_at) VALUES ('wecom:acme', 't', 1, 1)").await;
    exec(
        db,
        "INSERT INTO scheduler_job (name, next_run_at) VALUES ('j', 1)",
    )
    .await;
    exec(db, "INSERT INTO card (send_key, platform, tenant, track_id, message_kind, subject, recipient, content, created_at, updated_at) \
              VALUES ('i1', 'wecom', 'acme', 't1', 'lead_assigned', 'lead:1', 'user:bob', '{}', 1, 1)").await;
    exec(
        db,
        "INSERT INTO link (code, tenant, target_url, campaign, created_at) \
              VALUES ('Ab3dE5gH7j', 'acme', 'https://example.com/', 'expo', 1)",
    )
    .await;
    exec(
        db,
        "INSERT INTO link_click (link_id, code, tenant, campaign, at, agent_class, visitor) \
              VALUES (1, 'Ab3dE5gH7j', 'acme', 'expo', 1, 'browser', 'v')",
    )
    .await;
    exec(
        db,
        "INSERT INTO link_salt (id, salt, created_at) VALUES (1, 's', 1)",
    )
    .await;
    exec(
        db,
        "INSERT INTO lead (tenant, name, source, score_at, created_at, updated_at, region, \
              external_ref, owner) VALUES ('acme', 'n', 'crm', 1, 1, 1, '华东', 'crm-1', 'li.lei')",
    )
    .await;
    exec(db, "INSERT INTO lead_assignment (lead_id, tenant, platform, rep, pool, rule, state, \
              offered_at, expires_at) VALUES (1, 'acme', 'wecom', 'li.lei', 'p', 'r', 'offered', 1, 2)").await;
    exec(
        db,
        "INSERT INTO pool_cursor (tenant, pool, next) VALUES ('acme', 'p', 1)",
    )
    .await;
    exec(
        db,
        "INSERT INTO alert (tenant, platform, rule, kind, subject, recipient, opened_at, closed_at, payload) \
              VALUES ('acme', 'wecom', 'idle', 'deal_idle', 'deal:1', 'boss', 1, 2, '{}'), \
                     ('acme', 'wecom', 'idle', 'deal_idle', 'deal:1', 'boss', 3, NULL, '{}')",
    )
    .await;
    // The earlier rows survived the later steps; everything rolls back and applies again.
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM inbox",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 1);
    Migrator::down(db, None).await.unwrap();
    assert_eq!(
        Migrator::get_pending_migrations(db).await.unwrap().len(),
        total
    );
    Migrator::up(db, None).await.unwrap();
}

#[tokio::test]
async fn migrations_apply_one_step_at_a_time_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::connect(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("m.db").display()
    ))
    .await
    .unwrap();
    step_by_step(&db).await;
}

#[tokio::test]
async fn migrations_apply_one_step_at_a_time_on_postgres() {
    let Some(base) = pg_url() else {
        println!("skipped: {PG_ENV} is not set; PostgreSQL tests need a server to run against");
        return;
    };
    let server = Database::connect(&base).await.unwrap();
    let name = format!("sbt_{}_{:08x}", std::process::id(), fastrand::u32(..));
    server
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let db = Database::connect(database_url(&base, &name)).await.unwrap();
    step_by_step(&db).await;
    db.close().await.unwrap();
    server
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}
