//! Tasks (the work a rep is chased for) and deals (what the work is for).
//!
//! The overdue scan reads `task.next_remind_at`: the time the scan should next look at a task,
//! NULL once the task is done, cancelled or has had every reminder its policy gives. Its
//! partial index holds only the tasks still to be chased, so a scan costs the same with a
//! million finished tasks in the table as with none.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Task::Table)
                    .col(big_pk_auto(Task::Id))
                    .col(string_len(Task::Tenant, 64))
                    .col(string_len(Task::Platform, 16))
                    .col(string_len(Task::Assignee, 64))
                    .col(string_len(Task::Title, 255))
                    .col(text(Task::Note).default(""))
                    .col(string_len(Task::Kind, 64))
                    .col(big_integer_null(Task::LeadId))
                    .col(big_integer_null(Task::DealId))
                    .col(big_integer_null(Task::CustomerId))
                    .col(string_len(Task::State, 16).default("open"))
                    .col(big_integer(Task::DueAt))
                    .col(big_integer(Task::CreatedAt))
                    .col(big_integer(Task::UpdatedAt))
                    .col(big_integer_null(Task::DoneAt))
                    .col(string_len_null(Task::Source, 255))
                    .col(integer(Task::RemindersSent).default(0))
                    .col(big_integer_null(Task::NextRemindAt))
                    .col(big_integer_null(Task::EscalatedAt))
                    .col(string_len(Task::CreatedBy, 64))
                    .to_owned(),
            )
            .await?;
        // What created a task, once: a replayed event or rule makes no second task. NULLs
        // (tasks made by hand) never collide.
        manager
            .create_index(
                Index::create()
                    .name("ux_task_source")
                    .table(Task::Table)
                    .col(Task::Source)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_task_assignee")
                    .table(Task::Table)
                    .col(Task::Tenant)
                    .col(Task::Assignee)
                    .col(Task::State)
                    .to_owned(),
            )
            .await?;
        // Both SQLite and PostgreSQL have partial indexes; the query builder does not.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_task_scan ON task (next_remind_at) \
                 WHERE next_remind_at IS NOT NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deal::Table)
                    .col(big_pk_auto(Deal::Id))
                    .col(string_len(Deal::Tenant, 64))
                    .col(string_len(Deal::Platform, 16))
                    .col(string_len(Deal::Name, 255))
                    .col(string_len(Deal::Stage, 32))
                    .col(double(Deal::Amount).default(0.0))
                    .col(string_len(Deal::Owner, 64))
                    .col(big_integer_null(Deal::LeadId))
                    .col(big_integer_null(Deal::CustomerId))
                    .col(string_len_null(Deal::ExternalRef, 128))
                    .col(big_integer(Deal::LastActivityAt))
                    .col(big_integer(Deal::CreatedAt))
                    .col(big_integer(Deal::UpdatedAt))
                    .col(big_integer_null(Deal::ClosedAt))
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("ux_deal_ref", [Deal::Tenant, Deal::ExternalRef], true),
            (
                "ix_deal_activity",
                [Deal::Tenant, Deal::LastActivityAt],
                false,
            ),
            ("ix_deal_owner", [Deal::Tenant, Deal::Owner], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(Deal::Table);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Deal::Table.into_iden(), Task::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Task {
    Table,
    Id,
    Tenant,
    Platform,
    Assignee,
    Title,
    Note,
    Kind,
    LeadId,
    DealId,
    CustomerId,
    State,
    DueAt,
    CreatedAt,
    UpdatedAt,
    DoneAt,
    Source,
    RemindersSent,
    NextRemindAt,
    EscalatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum Deal {
    Table,
    Id,
    Tenant,
    Platform,
    Name,
    Stage,
    Amount,
    Owner,
    LeadId,
    CustomerId,
    ExternalRef,
    LastActivityAt,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
}
