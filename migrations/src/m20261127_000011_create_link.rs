//! Tracked links: the links reps post in customer chats, one row per click on them, and the
//! salt that turns a click's address and browser into an anonymous visitor id. Clicks copy the
//! link's tenant, campaign, chat and rep, so the stats of a campaign read one table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Link::Table)
                    .col(big_pk_auto(Link::Id))
                    .col(string_len_uniq(Link::Code, 32))
                    .col(string_len(Link::Tenant, 64))
                    .col(string_len(Link::TargetUrl, 2048))
                    .col(string_len(Link::Campaign, 64))
                    .col(string_len_null(Link::ChatId, 128))
                    .col(string_len_null(Link::Rep, 64))
                    .col(boolean(Link::Identify).default(false))
                    .col(boolean(Link::Enabled).default(true))
                    .col(big_integer(Link::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_campaign")
                    .table(Link::Table)
                    .col(Link::Tenant)
                    .col(Link::Campaign)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LinkClick::Table)
                    .col(big_pk_auto(LinkClick::Id))
                    .col(big_integer(LinkClick::LinkId))
                    .col(string_len(LinkClick::Code, 32))
                    .col(string_len(LinkClick::Tenant, 64))
                    .col(string_len(LinkClick::Campaign, 64))
                    .col(string_len_null(LinkClick::ChatId, 128))
                    .col(string_len_null(LinkClick::Rep, 64))
                    .col(big_integer(LinkClick::At))
                    .col(string_len(LinkClick::AgentClass, 16))
                    .col(string_len(LinkClick::Visitor, 64))
                    .col(string_len_null(LinkClick::MemberUserid, 64))
                    .col(string_len_null(LinkClick::ExternalUserid, 64))
                    .to_owned(),
            )
            .await?;
        // The stats of one link, and of one campaign, by day.
        manager
            .create_index(
                Index::create()
                    .name("ix_link_click_link")
                    .table(LinkClick::Table)
                    .col(LinkClick::LinkId)
                    .col(LinkClick::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_link_click_campaign")
                    .table(LinkClick::Table)
                    .col(LinkClick::Tenant)
                    .col(LinkClick::Campaign)
                    .col(LinkClick::At)
                    .to_owned(),
            )
            .await?;
        // One row (id 1), written by the first instance that needs it when no salt is configured.
        manager
            .create_table(
                Table::create()
                    .table(LinkSalt::Table)
                    .col(integer(LinkSalt::Id).primary_key())
                    .col(string_len(LinkSalt::Salt, 128))
                    .col(big_integer(LinkSalt::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LinkSalt::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LinkClick::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Link::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Link {
    Table,
    Id,
    Code,
    Tenant,
    TargetUrl,
    Campaign,
    ChatId,
    Rep,
    Identify,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LinkClick {
    Table,
    Id,
    LinkId,
    Code,
    Tenant,
    Campaign,
    ChatId,
    Rep,
    At,
    AgentClass,
    Visitor,
    MemberUserid,
    ExternalUserid,
}

#[derive(DeriveIden)]
enum LinkSalt {
    Table,
    Id,
    Salt,
    CreatedAt,
}
