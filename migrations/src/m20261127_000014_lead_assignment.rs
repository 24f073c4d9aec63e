//! Lead assignment: what a CRM tells about a lead (region, industry, tags, its own reference,
//! free-form fields), the lead's owner, every offer of a lead to a rep, and each pool's round
//! robin position.
//!
//! The position is a row per pool rather than memory, so that round robin is fair across
//! restarts and across instances: each assignment advances it in its own transaction.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            string_len_null(Lead::Region, 64),
            string_len_null(Lead::Industry, 64),
            text(Lead::Tags).default("[]").to_owned(),
            text(Lead::Fields).default("{}").to_owned(),
            string_len_null(Lead::ExternalRef, 128),
            string_len_null(Lead::Owner, 64),
            string_len_null(Lead::OwnerPlatform, 16),
            big_integer_null(Lead::AssignedAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lead::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // A CRM that posts the same lead again gets the first one back; leads without a
        // reference (NULL) never collide.
        manager
            .create_index(
                Index::create()
                    .name("ux_lead_external_ref")
                    .table(Lead::Table)
                    .col(Lead::Tenant)
                    .col(Lead::ExternalRef)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Leads made for a customer whose score crossed the threshold are found by customer.
        manager
            .create_index(
                Index::create()
                    .name("ix_lead_customer")
                    .table(Lead::Table)
                    .col(Lead::CustomerId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LeadAssignment::Table)
                    .col(big_pk_auto(LeadAssignment::Id))
                    .col(big_integer(LeadAssignment::LeadId))
                    .col(string_len(LeadAssignment::Tenant, 64))
                    .col(string_len(LeadAssignment::Platform, 16))
                    .col(string_len(LeadAssignment::Rep, 64))
                    .col(string_len_null(LeadAssignment::Pool, 64))
                    .col(string_len(LeadAssignment::Rule, 255))
                    .col(string_len(LeadAssignment::State, 16))
                    .col(big_integer(LeadAssignment::OfferedAt))
                    .col(big_integer_null(LeadAssignment::AnsweredAt))
                    .col(big_integer(LeadAssignment::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_lead_assignment_lead")
                    .table(LeadAssignment::Table)
                    .col(LeadAssignment::LeadId)
                    .col(LeadAssignment::Id)
                    .to_owned(),
            )
            .await?;
        // The timeout scan reads only the open offers, however many settled ones there are.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_lead_assignment_offered ON lead_assignment (expires_at) \
                 WHERE state = 'offered'",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PoolCursor::Table)
                    .col(string_len(PoolCursor::Tenant, 64))
                    .col(string_len(PoolCursor::Pool, 64))
                    .col(big_integer(PoolCursor::Next).default(0))
                    .primary_key(
                        Index::create()
                            .col(PoolCursor::Tenant)
                            .col(PoolCursor::Pool),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PoolCursor::Table.into_iden(),
            LeadAssignment::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for name in ["ix_lead_customer", "ux_lead_external_ref"] {
            manager
                .drop_index(Index::drop().name(name).table(Lead::Table).to_owned())
                .await?;
        }
        for column in [
            Lead::AssignedAt,
            Lead::OwnerPlatform,
            Lead::Owner,
            Lead::ExternalRef,
            Lead::Fields,
            Lead::Tags,
            Lead::Industry,
            Lead::Region,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Lead::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Lead {
    Table,
    Region,
    Industry,
    Tags,
    Fields,
    ExternalRef,
    Owner,
    OwnerPlatform,
    AssignedAt,
    CustomerId,
    Tenant,
}

#[derive(DeriveIden, Clone, Copy)]
enum LeadAssignment {
    Table,
    Id,
    LeadId,
    Tenant,
    Platform,
    Rep,
    Pool,
    Rule,
    State,
    OfferedAt,
    AnsweredAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PoolCursor {
    Table,
    Tenant,
    Pool,
    Next,
}
