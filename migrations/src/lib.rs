//! salesbot's database schema as sea-orm migrations, one file per change, for SQLite and
//! PostgreSQL alike.
//!
//! Times are stored as Unix epoch milliseconds (`BIGINT`): the same type and the same ordering on
//! both databases, cheap to compare in the claim queries, and free of time-zone conversions.
//! A shipped migration is never edited; a change is a new file.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_inbox;
mod m20261127_000002_create_outbox;
mod m20261127_000003_create_access_token;
mod m20261127_000004_create_audit_log;
mod m20261127_000005_create_scheduler_job;
mod m20261127_000006_create_card;
mod m20261127_000007_create_customer;
mod m20261127_000008_outbox_priority;
mod m20261127_000009_create_approval;
mod m20261127_000010_approval_step_timers;
mod m20261127_000011_create_link;
mod m20261127_000012_create_lead;
mod m20261127_000013_create_task;
mod m20261127_000014_lead_assignment;
mod m20261127_000015_create_alert;

/// Applies salesbot's migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_inbox::Migration),
            Box::new(m20261127_000002_create_outbox::Migration),
            Box::new(m20261127_000003_create_access_token::Migration),
            Box::new(m20261127_000004_create_audit_log::Migration),
            Box::new(m20261127_000005_create_scheduler_job::Migration),
            Box::new(m20261127_000006_create_card::Migration),
            Box::new(m20261127_000007_create_customer::Migration),
            Box::new(m20261127_000008_outbox_priority::Migration),
            Box::new(m20261127_000009_create_approval::Migration),
            Box::new(m20261127_000010_approval_step_timers::Migration),
            Box::new(m20261127_000011_create_link::Migration),
            Box::new(m20261127_000012_create_lead::Migration),
            Box::new(m20261127_000013_create_task::Migration),
            Box::new(m20261127_000014_lead_assignment::Migration),
            Box::new(m20261127_000015_create_alert::Migration),
        ]
    }
}
