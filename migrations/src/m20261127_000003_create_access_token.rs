//! The access-token cache, shared by every instance so that they do not each fetch (and so
//! invalidate) the platform's token.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AccessToken::Table)
                    .col(string_len(AccessToken::CacheKey, 191).primary_key())
                    .col(text(AccessToken::Token))
                    .col(big_integer(AccessToken::ExpiresAt))
                    .col(big_integer(AccessToken::RefreshedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AccessToken::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AccessToken {
    Table,
    CacheKey,
    Token,
    ExpiresAt,
    RefreshedAt,
}
