//! Scheduler bookkeeping: one row per periodic job, whose `next_run_at` is advanced with a
//! compare-and-set so that exactly one instance runs each tick.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SchedulerJob::Table)
                    .col(string_len(SchedulerJob::Name, 64).primary_key())
                    .col(big_integer(SchedulerJob::NextRunAt))
                    .col(big_integer_null(SchedulerJob::LastRunAt))
                    .col(string_len_null(SchedulerJob::LastOwner, 64))
                    .col(text_null(SchedulerJob::LastError))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SchedulerJob::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SchedulerJob {
    Table,
    Name,
    NextRunAt,
    LastRunAt,
    LastOwner,
    LastError,
}
