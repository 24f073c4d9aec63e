//! Deals in the database.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

use crate::pipeline::queue::stmt;

const COLUMNS: &str = "id, tenant, platform, name, stage, amount, owner, lead_id, customer_id, \
                       external_ref, last_activity_at, created_at, updated_at, closed_at";

/// A deal to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeal {
    pub tenant: String,
    pub platform: String,
    pub name: String,
    pub stage: String,
    pub amount: f64,
    pub owner: String,
    pub lead_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// The deal's id in a CRM: posting it again finds the stored deal.
    pub external_ref: Option<String>,
    /// When work on it last happened; now when not given.
    pub last_activity_at: Option<i64>,
}

/// A stored deal.
#[derive(Debug, Clone, PartialEq, FromQueryResult, Serialize)]
pub struct DealRow {
    pub id: i64,
    pub tenant: String,
    pub platform: String,
    pub name: String,
    pub stage: String,
    pub amount: f64,
    pub owner: String,
    pub lead_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub external_ref: Option<String>,
    pub last_activity_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
}

/// Stores `deal`; `None` when the tenant has a deal with its `external_ref` already.
pub async fn insert(
    db: &impl ConnectionTrait,
    deal: &NewDeal,
    now: i64,
) -> Result<Option<DealRow>, DbErr> {
    let closed_at = super::closes(&deal.stage).then_some(now);
    let sql = format!(
        "INSERT INTO deal (tenant, platform, name, stage, amount, owner, lead_id, customer_id, \
         external_ref, last_activity_at, created_at, updated_at, closed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) \
         ON CONFLICT (tenant, external_ref) DO NOTHING RETURNING {COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [
                deal.tenant.as_str().into(),
                deal.platform.as_str().into(),
                deal.name.as_str().into(),
                deal.stage.as_str().into(),
                deal.amount.into(),
                deal.owner.as_str().into(),
                deal.lead_id.into(),
                deal.customer_id.into(),
                deal.external_ref.clone().into(),
                deal.last_activity_at.unwrap_or(now).into(),
                now.into(),
                closed_at.into(),
            ],
        ))
        .await?;
    row.map(|row| DealRow::from_query_result(&row, ""))
        .transpose()
}

/// The deal with `id`.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<DealRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM deal WHERE id = $1");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| DealRow::from_query_result(&row, ""))
        .transpose()
}

/// The deal of `tenant` with `external_ref`.
pub async fn by_ref(
    db: &impl ConnectionTrait,
    tenant: &str,
    external_ref: &str,
) -> Result<Option<DealRow>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM deal WHERE tenant = $1 AND external_ref = $2");
    let row = db
        .query_one_raw(stmt(db, &sql, [tenant.into(), external_ref.into()]))
        .await?;
    row.map(|row| DealRow::from_query_result(&row, ""))
        .transpose()
}

/// The deal with `id`, locked until the transaction ends (see [`crate::domain::task::store::lock`]).
pub async fn lock(db: &impl ConnectionTrait, id: i64) -> Result<Option<DealRow>, DbErr> {
    let sql = format!("UPDATE deal SET id = id WHERE id = $1 RETURNING {COLUMNS}");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| DealRow::from_query_result(&row, ""))
        .transpose()
}

/// What [`update`] changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    pub name: Option<String>,
    pub stage: Option<String>,
    pub amount: Option<f64>,
    pub owner: Option<String>,
    /// When work on it last happened; any change counts as activity at `now` otherwise.
    pub last_activity_at: Option<i64>,
}

/// Applies `change` to deal `id` at `now`: any change is activity. A closing stage sets
/// `closed_at` (kept from the first close), another stage clears it. `None` when there is no
/// such deal.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    change: &Change,
    now: i64,
) -> Result<Option<DealRow>, DbErr> {
    let closing: Option<bool> = change.stage.as_deref().map(super::closes);
    let sql = format!(
        "UPDATE deal SET name = COALESCE($2, name), stage = COALESCE($3, stage), \
         amount = COALESCE($4, amount), owner = COALESCE($5, owner), \
         last_activity_at = $6, updated_at = $7, \
         closed_at = CASE WHEN $8 IS NULL THEN closed_at WHEN $8 THEN COALESCE(closed_at, $7) \
         ELSE NULL END \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let values: [Value; 8] = [
        id.into(),
        change.name.clone().into(),
        change.stage.clone().into(),
        change.amount.into(),
        change.owner.clone().into(),
        change.last_activity_at.unwrap_or(now).into(),
        now.into(),
        closing.into(),
    ];
    let row = db.query_one_raw(stmt(db, &sql, values)).await?;
    row.map(|row| DealRow::from_query_result(&row, ""))
        .transpose()
}

/// Records activity on deal `id` at `at` (a task about it done), keeping a later one.
pub async fn touch(db: &impl ConnectionTrait, id: i64, at: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE deal SET last_activity_at = $2, updated_at = $2 \
         WHERE id = $1 AND last_activity_at < $2",
        [id.into(), at.into()],
    ))
    .await?;
    Ok(())
}

/// Deals of `tenant` (and `owner`, `stage` when given), by id after `after_id`.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: &str,
    owner: Option<&str>,
    stage: Option<&str>,
    after_id: i64,
    limit: u64,
) -> Result<Vec<DealRow>, DbErr> {
    let sql = format!(
        "SELECT {COLUMNS} FROM deal WHERE tenant = $1 AND ($2 IS NULL OR owner = $2) \
         AND ($3 IS NULL OR stage = $3) AND id > $4 ORDER BY id LIMIT {}",
        limit.max(1)
    );
    let values: [Value; 4] = [
        tenant.into(),
        owner.map(str::to_string).into(),
        stage.map(str::to_string).into(),
        after_id.into(),
    ];
    db.query_all_raw(stmt(db, &sql, values))
        .await?
        .iter()
        .map(|row| DealRow::from_query_result(row, ""))
        .collect()
}
