//! Approval reminders and escalations: when each approver was asked (the clock both start
//! from), the reminder card sent, the escalation to their manager, and — for a manager's step
//! added by an escalation — whom they stand in for.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            big_integer_null(ApprovalStep::AskedAt),
            big_integer_null(ApprovalStep::RemindedAt),
            string_len_null(ApprovalStep::ReminderKey, 255),
            big_integer_null(ApprovalStep::EscalatedAt),
            string_len_null(ApprovalStep::StandsFor, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApprovalStep::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The reminder job's scan starts from the pending approvals.
        manager
            .create_index(
                Index::create()
                    .name("ix_approval_pending")
                    .table(Approval::Table)
                    .col(Approval::Status)
                    .col(Approval::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_approval_pending")
                    .table(Approval::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            ApprovalStep::StandsFor,
            ApprovalStep::EscalatedAt,
            ApprovalStep::ReminderKey,
            ApprovalStep::RemindedAt,
            ApprovalStep::AskedAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ApprovalStep::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Approval {
    Table,
    Id,
    Status,
}

#[derive(DeriveIden)]
enum ApprovalStep {
    Table,
    AskedAt,
    RemindedAt,
    ReminderKey,
    EscalatedAt,
    StandsFor,
}
