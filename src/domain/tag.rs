//! The corp's tag catalogue as salesbot keeps it (`corp_tag`): tag ids by group and name, so
//! rules that name tags ("渠道/展会") can be applied by id, and tags created once are reused.

use sea_orm::{ConnectionTrait, DbErr};

use crate::pipeline::queue::stmt;

/// One tag of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueTag {
    pub tag_id: String,
    pub group_id: String,
    pub group_name: String,
    pub name: String,
    pub order: i64,
}

/// Whether the tenant's catalogue has been read from the platform at least once.
pub async fn is_loaded(db: &impl ConnectionTrait, tenant: &str) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT COUNT(*) AS n FROM corp_tag WHERE tenant = $1",
            [tenant.into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}

/// The id of the live tag `name` in group `group_name`.
pub async fn find(
    db: &impl ConnectionTrait,
    tenant: &str,
    group_name: &str,
    name: &str,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT tag_id FROM corp_tag WHERE tenant = $1 AND group_name = $2 AND name = $3 \
             AND deleted = FALSE ORDER BY id LIMIT 1",
            [tenant.into(), group_name.into(), name.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "tag_id")).transpose()
}

/// The group id of the live group `group_name`, if any of its tags is known.
pub async fn group_id(
    db: &impl ConnectionTrait,
    tenant: &str,
    group_name: &str,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT group_id FROM corp_tag WHERE tenant = $1 AND group_name = $2 \
             AND deleted = FALSE ORDER BY id LIMIT 1",
            [tenant.into(), group_name.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "group_id")).transpose()
}

/// Adds or updates tags of the catalogue.
pub async fn upsert(
    db: &impl ConnectionTrait,
    tenant: &str,
    tags: &[CatalogueTag],
    now: i64,
) -> Result<(), DbErr> {
    for tag in tags {
        db.execute_raw(stmt(
            db,
            "INSERT INTO corp_tag (tenant, tag_id, group_id, group_name, name, \"order\", deleted, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7) \
             ON CONFLICT (tenant, tag_id) DO UPDATE SET group_id = excluded.group_id, \
             group_name = excluded.group_name, name = excluded.name, \"order\" = excluded.\"order\", \
             deleted = FALSE, updated_at = excluded.updated_at",
            [
                tenant.into(),
                tag.tag_id.clone().into(),
                tag.group_id.clone().into(),
                tag.group_name.clone().into(),
                tag.name.clone().into(),
                tag.order.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Makes the catalogue the platform's full list: upserts `tags` and marks every other tag of
/// the tenant deleted. Returns how many were marked deleted.
pub async fn replace_all(
    db: &impl ConnectionTrait,
    tenant: &str,
    tags: &[CatalogueTag],
    now: i64,
) -> Result<u64, DbErr> {
    upsert(db, tenant, tags, now).await?;
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE corp_tag SET deleted = TRUE, updated_at = $2 WHERE tenant = $1 \
             AND deleted = FALSE AND updated_at < $2",
            [tenant.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}
