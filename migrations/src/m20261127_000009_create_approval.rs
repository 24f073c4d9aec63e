//! Approvals: a request (a discount, a contract change) routed by the rules to ordered levels of
//! approvers, and one step per approver and level that records the decision.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Approval::Table)
                    .col(big_pk_auto(Approval::Id))
                    .col(string_len(Approval::Tenant, 64))
                    .col(string_len(Approval::Platform, 32))
                    .col(string_len(Approval::Kind, 64))
                    .col(string_len(Approval::Title, 255))
                    .col(string_len(Approval::Requester, 64))
                    .col(string_len(Approval::RequesterName, 255).default(""))
                    .col(double(Approval::Amount).default(0.0))
                    .col(double(Approval::DiscountPct).default(0.0))
                    .col(string_len(Approval::SubjectType, 64).default(""))
                    .col(string_len(Approval::SubjectId, 128).default(""))
                    .col(text(Approval::Fields))
                    .col(text_null(Approval::Link))
                    .col(string_len(Approval::Rule, 128))
                    .col(integer(Approval::CurrentLevel).default(1))
                    .col(integer(Approval::LevelCount))
                    .col(string_len(Approval::Status, 16))
                    .col(big_integer(Approval::CreatedAt))
                    .col(big_integer(Approval::UpdatedAt))
                    .col(big_integer_null(Approval::DecidedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_approval_status")
                    .table(Approval::Table)
                    .col(Approval::Tenant)
                    .col(Approval::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApprovalStep::Table)
                    .col(big_pk_auto(ApprovalStep::Id))
                    .col(big_integer(ApprovalStep::ApprovalId))
                    .col(integer(ApprovalStep::Level))
                    .col(string_len(ApprovalStep::Mode, 8))
                    .col(string_len(ApprovalStep::Approver, 64))
                    .col(string_len_null(ApprovalStep::Decision, 16))
                    .col(big_integer_null(ApprovalStep::DecidedAt))
                    .col(string_len_null(ApprovalStep::CardKey, 255))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_approval_step")
                    .table(ApprovalStep::Table)
                    .col(ApprovalStep::ApprovalId)
                    .col(ApprovalStep::Level)
                    .col(ApprovalStep::Approver)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApprovalStep::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Approval::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Approval {
    Table,
    Id,
    Tenant,
    Platform,
    Kind,
    Title,
    Requester,
    RequesterName,
    Amount,
    DiscountPct,
    SubjectType,
    SubjectId,
    Fields,
    Link,
    Rule,
    CurrentLevel,
    LevelCount,
    Status,
    CreatedAt,
    UpdatedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum ApprovalStep {
    Table,
    Id,
    ApprovalId,
    Level,
    Mode,
    Approver,
    Decision,
    DecidedAt,
    CardKey,
}
