//! Cards that were sent: what each shows, how it went out, and the handle an update needs
//! (WeCom's single-use `response_code`, DingTalk's `outTrackId`), so a later decision can change
//! the card in place, and a button tap can be traced back to the card it came from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Card::Table)
                    .col(big_pk_auto(Card::Id))
                    .col(string_len_uniq(Card::SendKey, 255))
                    .col(string_len(Card::Platform, 32))
                    .col(string_len(Card::Tenant, 64))
                    .col(string_len(Card::TrackId, 128))
                    .col(string_len(Card::MessageKind, 64))
                    .col(string_len(Card::Subject, 128))
                    .col(string_len(Card::Recipient, 128))
                    .col(text(Card::Content))
                    .col(string_len_null(Card::Channel, 32))
                    .col(string_len_null(Card::Status, 64))
                    .col(string_len_null(Card::ResponseCode, 512))
                    .col(big_integer_null(Card::ResponseCodeAt))
                    .col(big_integer_null(Card::SentAt))
                    .col(big_integer(Card::CreatedAt))
                    .col(big_integer(Card::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_card_track")
                    .table(Card::Table)
                    .col(Card::Platform)
                    .col(Card::Tenant)
                    .col(Card::TrackId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_card_subject")
                    .table(Card::Table)
                    .col(Card::Subject)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Card::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Card {
    Table,
    Id,
    SendKey,
    Platform,
    Tenant,
    TrackId,
    MessageKind,
    Subject,
    Recipient,
    Content,
    Channel,
    Status,
    ResponseCode,
    ResponseCodeAt,
    SentAt,
    CreatedAt,
    UpdatedAt,
}
