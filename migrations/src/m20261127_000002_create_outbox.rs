//! The outbox: every message salesbot will send, written in the same transaction as the change
//! that causes it and delivered afterwards by the dispatcher.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string_len_uniq(Outbox::IdempotencyKey, 255))
                    .col(string_len(Outbox::Platform, 32))
                    .col(string_len(Outbox::Tenant, 64))
                    .col(string_len(Outbox::Kind, 64))
                    .col(text(Outbox::Payload))
                    .col(string_len(Outbox::State, 16))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(text_null(Outbox::LastError))
                    .col(text_null(Outbox::Receipt))
                    .col(big_integer(Outbox::AvailableAt))
                    .col(string_len_null(Outbox::LeaseOwner, 64))
                    .col(big_integer_null(Outbox::LeaseUntil))
                    .col(big_integer_null(Outbox::InboxId))
                    .col(big_integer(Outbox::CreatedAt))
                    .col(big_integer_null(Outbox::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_claim")
                    .table(Outbox::Table)
                    .col(Outbox::State)
                    .col(Outbox::AvailableAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    IdempotencyKey,
    Platform,
    Tenant,
    Kind,
    Payload,
    State,
    Attempts,
    LastError,
    Receipt,
    AvailableAt,
    LeaseOwner,
    LeaseUntil,
    InboxId,
    CreatedAt,
    FinishedAt,
}
