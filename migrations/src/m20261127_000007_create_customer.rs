//! Customers and what salesbot knows of them: the profile from WeCom, each rep relation (how and
//! through which channel the customer came, and when it ended), the tags on each relation, the
//! corp's tag catalogue, channel QR codes, customer groups and their members, and a timeline.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customer::Table)
                    .col(big_pk_auto(Customer::Id))
                    .col(string_len(Customer::Tenant, 64))
                    .col(string_len(Customer::ExternalUserid, 128))
                    .col(string_len(Customer::Name, 255).default(""))
                    .col(small_integer(Customer::Type).default(0))
                    .col(small_integer(Customer::Gender).default(0))
                    .col(string_len_null(Customer::CorpName, 255))
                    .col(string_len_null(Customer::CorpFullName, 255))
                    .col(string_len_null(Customer::Position, 255))
                    .col(text_null(Customer::Avatar))
                    .col(string_len_null(Customer::Unionid, 128))
                    .col(big_integer(Customer::CreatedAt))
                    .col(big_integer(Customer::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_customer",
            Customer::Table,
            [Customer::Tenant, Customer::ExternalUserid],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerRep::Table)
                    .col(big_pk_auto(CustomerRep::Id))
                    .col(big_integer(CustomerRep::CustomerId))
                    .col(string_len(CustomerRep::Userid, 64))
                    .col(string_len(CustomerRep::Remark, 255).default(""))
                    .col(text(CustomerRep::Description).default(""))
                    .col(integer(CustomerRep::AddWay).default(0))
                    .col(string_len(CustomerRep::State, 64).default(""))
                    .col(string_len_null(CustomerRep::OperUserid, 128))
                    .col(big_integer_null(CustomerRep::AddedAt))
                    .col(string_len(CustomerRep::Status, 16).default("active"))
                    .col(big_integer_null(CustomerRep::EndedAt))
                    .col(string_len_null(CustomerRep::EndedBy, 32))
                    .col(big_integer(CustomerRep::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_customer_rep",
            CustomerRep::Table,
            [CustomerRep::CustomerId, CustomerRep::Userid],
        )
        .await?;
        index(
            manager,
            "ix_customer_rep_userid",
            CustomerRep::Table,
            [CustomerRep::Userid],
        )
        .await?;
        index(
            manager,
            "ix_customer_rep_state",
            CustomerRep::Table,
            [CustomerRep::State],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CorpTag::Table)
                    .col(big_pk_auto(CorpTag::Id))
                    .col(string_len(CorpTag::Tenant, 64))
                    .col(string_len(CorpTag::TagId, 128))
                    .col(string_len(CorpTag::GroupId, 128))
                    .col(string_len(CorpTag::GroupName, 64))
                    .col(string_len(CorpTag::Name, 64))
                    .col(big_integer(CorpTag::Order).default(0))
                    .col(boolean(CorpTag::Deleted).default(false))
                    .col(big_integer(CorpTag::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_corp_tag",
            CorpTag::Table,
            [CorpTag::Tenant, CorpTag::TagId],
        )
        .await?;
        index(
            manager,
            "ix_corp_tag_name",
            CorpTag::Table,
            [CorpTag::Tenant, CorpTag::GroupName, CorpTag::Name],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerTag::Table)
                    .col(big_pk_auto(CustomerTag::Id))
                    .col(big_integer(CustomerTag::CustomerId))
                    .col(string_len(CustomerTag::Userid, 64))
                    .col(string_len(CustomerTag::TagId, 128))
                    .col(string_len(CustomerTag::GroupName, 64).default(""))
                    .col(string_len(CustomerTag::Name, 64).default(""))
                    .col(small_integer(CustomerTag::Type).default(1))
                    .col(string_len(CustomerTag::Source, 16).default("wecom"))
                    .col(big_integer(CustomerTag::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_customer_tag",
            CustomerTag::Table,
            [
                CustomerTag::CustomerId,
                CustomerTag::Userid,
                CustomerTag::TagId,
            ],
        )
        .await?;
        index(
            manager,
            "ix_customer_tag_tag",
            CustomerTag::Table,
            [CustomerTag::TagId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ChannelCode::Table)
                    .col(big_pk_auto(ChannelCode::Id))
                    .col(string_len(ChannelCode::Tenant, 64))
                    .col(string_len(ChannelCode::State, 64))
                    .col(string_len(ChannelCode::ConfigId, 128))
                    .col(string_len(ChannelCode::Remark, 64).default(""))
                    .col(text(ChannelCode::Users))
                    .col(boolean(ChannelCode::SkipVerify).default(true))
                    .col(text_null(ChannelCode::QrCode))
                    .col(big_integer(ChannelCode::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_channel_code",
            ChannelCode::Table,
            [ChannelCode::Tenant, ChannelCode::State],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupChat::Table)
                    .col(big_pk_auto(GroupChat::Id))
                    .col(string_len(GroupChat::Tenant, 64))
                    .col(string_len(GroupChat::ChatId, 128))
                    .col(string_len(GroupChat::Name, 255).default(""))
                    .col(string_len(GroupChat::Owner, 64).default(""))
                    .col(text(GroupChat::Notice).default(""))
                    .col(string_len_null(GroupChat::MemberVersion, 128))
                    .col(big_integer_null(GroupChat::CreatedTime))
                    .col(string_len(GroupChat::Status, 16).default("active"))
                    .col(big_integer(GroupChat::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_group_chat",
            GroupChat::Table,
            [GroupChat::Tenant, GroupChat::ChatId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(GroupMember::Table)
                    .col(big_pk_auto(GroupMember::Id))
                    .col(big_integer(GroupMember::GroupId))
                    .col(string_len(GroupMember::Userid, 128))
                    .col(small_integer(GroupMember::Type).default(0))
                    .col(string_len(GroupMember::Name, 255).default(""))
                    .col(big_integer_null(GroupMember::JoinTime))
                    .col(small_integer_null(GroupMember::JoinScene))
                    .col(big_integer_null(GroupMember::LeftAt))
                    .col(big_integer(GroupMember::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "ux_group_member",
            GroupMember::Table,
            [GroupMember::GroupId, GroupMember::Userid],
        )
        .await?;
        index(
            manager,
            "ix_group_member_userid",
            GroupMember::Table,
            [GroupMember::Userid],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustomerEvent::Table)
                    .col(big_pk_auto(CustomerEvent::Id))
                    .col(big_integer(CustomerEvent::CustomerId))
                    .col(big_integer(CustomerEvent::At))
                    .col(string_len(CustomerEvent::Kind, 32))
                    .col(text(CustomerEvent::Detail))
                    .col(big_integer_null(CustomerEvent::InboxId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_customer_event",
            CustomerEvent::Table,
            [CustomerEvent::CustomerId, CustomerEvent::At],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CustomerEvent::Table.into_iden(),
            GroupMember::Table.into_iden(),
            GroupChat::Table.into_iden(),
            ChannelCode::Table.into_iden(),
            CustomerTag::Table.into_iden(),
            CorpTag::Table.into_iden(),
            CustomerRep::Table.into_iden(),
            Customer::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn unique<T: IntoIden + Copy + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

async fn index<T: IntoIden + Copy + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: impl IntoIterator<Item = C>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Customer {
    Table,
    Id,
    Tenant,
    ExternalUserid,
    Name,
    Type,
    Gender,
    CorpName,
    CorpFullName,
    Position,
    Avatar,
    Unionid,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerRep {
    Table,
    Id,
    CustomerId,
    Userid,
    Remark,
    Description,
    AddWay,
    State,
    OperUserid,
    AddedAt,
    Status,
    EndedAt,
    EndedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CorpTag {
    Table,
    Id,
    Tenant,
    TagId,
    GroupId,
    GroupName,
    Name,
    Order,
    Deleted,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerTag {
    Table,
    Id,
    CustomerId,
    Userid,
    TagId,
    GroupName,
    Name,
    Type,
    Source,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChannelCode {
    Table,
    Id,
    Tenant,
    State,
    ConfigId,
    Remark,
    Users,
    SkipVerify,
    QrCode,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupChat {
    Table,
    Id,
    Tenant,
    ChatId,
    Name,
    Owner,
    Notice,
    MemberVersion,
    CreatedTime,
    Status,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum GroupMember {
    Table,
    Id,
    GroupId,
    Userid,
    Type,
    Name,
    JoinTime,
    JoinScene,
    LeftAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustomerEvent {
    Table,
    Id,
    CustomerId,
    At,
    Kind,
    Detail,
    InboxId,
}
