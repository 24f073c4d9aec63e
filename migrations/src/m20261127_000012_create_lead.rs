//! Registrations from a form service, the leads they make, and the lead score: every event
//! that earned points, and the decayed score kept on the lead and on the customer. Phone
//! numbers are stored only as a salted hash (to match on) and a masked form (to show).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Lead::Table)
                    .col(big_pk_auto(Lead::Id))
                    .col(string_len(Lead::Tenant, 64))
                    .col(string_len(Lead::Name, 255).default(""))
                    .col(string_len_null(Lead::Company, 255))
                    .col(string_len_null(Lead::PhoneHash, 64))
                    .col(string_len_null(Lead::PhoneMasked, 32))
                    .col(string_len(Lead::Source, 160))
                    .col(big_integer_null(Lead::CustomerId))
                    .col(double(Lead::Score).default(0.0))
                    .col(big_integer(Lead::ScoreAt))
                    .col(string_len(Lead::Status, 16).default("new"))
                    .col(big_integer(Lead::CreatedAt))
                    .col(big_integer(Lead::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // One lead per phone and tenant, also when two registrations of it arrive at once;
        // leads without a phone (NULL) never collide.
        index(
            manager,
            "ux_lead_phone",
            Lead::Table,
            [Lead::Tenant, Lead::PhoneHash],
            true,
        )
        .await?;
        index(
            manager,
            "ix_lead_tenant",
            Lead::Table,
            [Lead::Tenant, Lead::Id],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Registration::Table)
                    .col(big_pk_auto(Registration::Id))
                    .col(string_len(Registration::Tenant, 64))
                    .col(string_len_null(Registration::Campaign, 128))
                    .col(string_len_null(Registration::LinkCode, 64))
                    .col(string_len(Registration::Name, 255))
                    .col(string_len(Registration::PhoneHash, 64))
                    .col(string_len(Registration::PhoneMasked, 32))
                    .col(string_len_null(Registration::Company, 255))
                    .col(string_len_null(Registration::ExternalUserid, 128))
                    .col(big_integer_null(Registration::CustomerId))
                    .col(big_integer_null(Registration::LeadId))
                    .col(boolean(Registration::NewLead).default(false))
                    .col(string_len(Registration::DedupeKey, 255))
                    .col(big_integer(Registration::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ux_registration_dedupe",
            Registration::Table,
            [Registration::DedupeKey],
            true,
        )
        .await?;
        index(
            manager,
            "ix_registration_lead",
            Registration::Table,
            [Registration::LeadId],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ScoreEvent::Table)
                    .col(big_pk_auto(ScoreEvent::Id))
                    .col(string_len(ScoreEvent::Tenant, 64))
                    .col(string_len(ScoreEvent::SubjectType, 16))
                    .col(big_integer(ScoreEvent::SubjectId))
                    .col(string_len(ScoreEvent::Kind, 32))
                    .col(double(ScoreEvent::Points))
                    .col(string_len(ScoreEvent::Reason, 255).default(""))
                    .col(big_integer(ScoreEvent::At))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_score_event_subject",
            ScoreEvent::Table,
            [
                ScoreEvent::SubjectType,
                ScoreEvent::SubjectId,
                ScoreEvent::At,
            ],
            false,
        )
        .await?;

        // SQLite alters one column per statement.
        for column in [
            double_null(Customer::LeadScore),
            big_integer_null(Customer::LeadScoreAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Customer::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Customer::LeadScoreAt, Customer::LeadScore] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Customer::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            ScoreEvent::Table.into_iden(),
            Registration::Table.into_iden(),
            Lead::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn index<T: IntoIden + Copy + 'static, C: IntoIden + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: impl IntoIterator<Item = C>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table);
    if unique {
        index.unique();
    }
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Lead {
    Table,
    Id,
    Tenant,
    Name,
    Company,
    PhoneHash,
    PhoneMasked,
    Source,
    CustomerId,
    Score,
    ScoreAt,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Registration {
    Table,
    Id,
    Tenant,
    Campaign,
    LinkCode,
    Name,
    PhoneHash,
    PhoneMasked,
    Company,
    ExternalUserid,
    CustomerId,
    LeadId,
    NewLead,
    DedupeKey,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ScoreEvent {
    Table,
    Id,
    Tenant,
    SubjectType,
    SubjectId,
    Kind,
    Points,
    Reason,
    At,
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    LeadScore,
    LeadScoreAt,
}
