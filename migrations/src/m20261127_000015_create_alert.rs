//! Manager alerts: one row per alert episode — a condition of an `[[alert]]` rule (a deal
//! idle, a rep quiet, a target behind) from when it was first seen to hold until it no longer
//! does — with whom it goes to and when it went out, alone or in a digest.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alert::Table)
                    .col(big_pk_auto(Alert::Id))
                    .col(string_len(Alert::Tenant, 64))
                    .col(string_len(Alert::Platform, 16))
                    .col(string_len(Alert::Rule, 255))
                    .col(string_len(Alert::Kind, 16))
                    .col(string_len(Alert::Subject, 128))
                    .col(string_len_null(Alert::Recipient, 64))
                    .col(big_integer(Alert::OpenedAt))
                    .col(big_integer_null(Alert::ClosedAt))
                    .col(big_integer_null(Alert::SentAt))
                    .col(string_len_null(Alert::SendKey, 255))
                    .col(text(Alert::Payload))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One open episode per rule and subject, also when two instances evaluate the rules at
        // the same moment: the second insert finds the first's row and does nothing. Closed
        // episodes stay as history and do not count. Partial indexes read the same on SQLite
        // and PostgreSQL, so the statement is written out.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_alert_open ON alert (tenant, platform, rule, subject) \
             WHERE closed_at IS NULL",
        )
        .await?;
        // The digest step's scan: only alerts not yet sent.
        db.execute_unprepared(
            "CREATE INDEX ix_alert_unsent ON alert (recipient, opened_at) WHERE sent_at IS NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Alert::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Alert {
    Table,
    Id,
    Tenant,
    Platform,
    Rule,
    Kind,
    Subject,
    Recipient,
    OpenedAt,
    ClosedAt,
    SentAt,
    SendKey,
    Payload,
}
