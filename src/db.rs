//! The database connection: SQLite (WAL, synchronous writes, busy timeout) or PostgreSQL, chosen
//! by the URL; migrations; and the readiness check.

use std::time::Duration;

use salesbot_migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
    TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use crate::config::DatabaseConfig;

/// Key of the PostgreSQL advisory lock that serializes migrations of several instances
/// starting at once ("salesbot" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x73616c6573626f74;

/// Opens the pool. With `lazy`, no connection is made until first use, so the process starts
/// (and reports not-ready) while the database is down.
pub async fn connect(config: &DatabaseConfig, lazy: bool) -> Result<DatabaseConnection, DbErr> {
    let timeout = Duration::from_secs(config.timeout_secs);
    let mut options = ConnectOptions::new(config.url.as_str());
    options
        .max_connections(config.max_connections)
        .connect_timeout(timeout)
        .acquire_timeout(timeout)
        .connect_lazy(lazy)
        .sqlx_logging(false)
        // WAL lets readers run beside the writer; FULL makes every commit durable before the
        // platform is answered, which is the point of the inbox.
        .map_sqlx_sqlite_opts(move |opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(timeout)
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Applies every pending migration. On PostgreSQL an advisory lock makes instances that start
/// together take turns instead of racing on the same DDL.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let guard = db.begin().await?;
        guard
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [MIGRATION_LOCK_KEY.into()],
            ))
            .await?;
        // PostgreSQL has transactional DDL: the migrations run inside the locked transaction.
        Migrator::up(&guard, None).await?;
        guard.commit().await
    } else {
        Migrator::up(db, None).await
    }
}

/// Why the service is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("database unreachable: {0}")]
    Unreachable(DbErr),
    #[error("{0} migration(s) not applied; run `salesbot migrate`")]
    PendingMigrations(usize),
}

/// Ready means: the database answers, and the schema is the one this binary expects.
pub async fn check_ready(db: &DatabaseConnection) -> Result<(), NotReady> {
    db.ping().await.map_err(NotReady::Unreachable)?;
    let pending = Migrator::get_pending_migrations_read_only(db)
        .await
        .map_err(NotReady::Unreachable)?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(NotReady::PendingMigrations(pending.len()))
    }
}
