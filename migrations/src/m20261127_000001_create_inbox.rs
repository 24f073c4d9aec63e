//! The inbox: every platform callback, stored before it is answered and worked on afterwards.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Inbox::Table)
                    .col(big_pk_auto(Inbox::Id))
                    .col(string_len(Inbox::Platform, 32))
                    .col(string_len(Inbox::Tenant, 64))
                    .col(string_len(Inbox::Kind, 64))
                    .col(string_len(Inbox::DedupeKey, 255))
                    .col(small_integer(Inbox::Priority).default(0))
                    .col(text(Inbox::Payload))
                    .col(string_len(Inbox::State, 16))
                    .col(integer(Inbox::Attempts).default(0))
                    .col(text_null(Inbox::LastError))
                    .col(big_integer(Inbox::AvailableAt))
                    .col(string_len_null(Inbox::LeaseOwner, 64))
                    .col(big_integer_null(Inbox::LeaseUntil))
                    .col(big_integer(Inbox::ReceivedAt))
                    .col(big_integer_null(Inbox::FinishedAt))
                    .to_owned(),
            )
            .await?;
        // A platform retry of the same event collapses onto the first row.
        manager
            .create_index(
                Index::create()
                    .name("ux_inbox_dedupe")
                    .table(Inbox::Table)
                    .col(Inbox::Platform)
                    .col(Inbox::Tenant)
                    .col(Inbox::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The workers' claim query: pending rows that are due, by priority then age.
        manager
            .create_index(
                Index::create()
                    .name("ix_inbox_claim")
                    .table(Inbox::Table)
                    .col(Inbox::State)
                    .col(Inbox::AvailableAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Inbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Inbox {
    Table,
    Id,
    Platform,
    Tenant,
    Kind,
    DedupeKey,
    Priority,
    Payload,
    State,
    Attempts,
    LastError,
    AvailableAt,
    LeaseOwner,
    LeaseUntil,
    ReceivedAt,
    FinishedAt,
}
