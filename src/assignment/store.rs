//! Leads and their offers in the database, as assignment reads and changes them. Every change
//! runs in the caller's transaction, after the lead's row is locked with [`lock_lead`]: the
//! lead is what two taps, a timeout and a score crossing could race for.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// The states of an offer.
pub mod state {
    /// Sent to the rep, not answered yet.
    pub const OFFERED: &str = "offered";
    pub const ACCEPTED: &str = "accepted";
    /// The rep tapped Reassign.
    pub const REASSIGNED: &str = "reassigned";
    /// Not accepted by its deadline.
    pub const TIMED_OUT: &str = "timed_out";
}

/// What assignment reads of a lead.
#[derive(Debug, Clone, FromQueryResult)]
pub struct LeadRow {
    pub id: i64,
    pub tenant: String,
    pub name: String,
    pub company: Option<String>,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub source: String,
    pub customer_id: Option<i64>,
    pub score: f64,
    pub score_at: i64,
    /// JSON list of texts.
    pub tags: String,
    /// JSON object.
    pub fields: String,
    pub owner: Option<String>,
}

impl LeadRow {
    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tags).unwrap_or_default()
    }

    pub fn fields(&self) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_str(&self.fields).unwrap_or_default()
    }

    /// The company, else the name: what a person recognises the lead by.
    pub fn display_name(&self) -> &str {
        self.company
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.name)
    }
}

const LEAD_COLUMNS: &str = "id, tenant, name, company, region, industry, source, customer_id, \
                            score, score_at, tags, fields, owner";

/// Lead `id`, locked until the transaction ends (a no-op write: PostgreSQL's row lock, and on
/// SQLite the write lock taken first, as a transaction there must).
pub async fn lock_lead(db: &impl ConnectionTrait, id: i64) -> Result<Option<LeadRow>, DbErr> {
    let sql = format!("UPDATE lead SET owner = owner WHERE id = $1 RETURNING {LEAD_COLUMNS}");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| LeadRow::from_query_result(&row, ""))
        .transpose()
}

/// Makes `rep` (on `platform`) the owner of lead `id` from `now`; `None` leaves it ownerless.
pub async fn set_owner(
    db: &impl ConnectionTrait,
    id: i64,
    owner: Option<(&str, &str)>,
    now: i64,
) -> Result<(), DbErr> {
    let (rep, platform) = owner.unzip();
    db.execute_raw(stmt(
        db,
        "UPDATE lead SET owner = $2, owner_platform = $3, assigned_at = $4, updated_at = $4 \
         WHERE id = $1",
        [id.into(), rep.into(), platform.into(), now.into()],
    ))
    .await?;
    Ok(())
}

/// One offer of a lead to a rep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct AssignmentRow {
    pub id: i64,
    pub lead_id: i64,
    pub tenant: String,
    pub platform: String,
    pub rep: String,
    /// The pool the rep was picked from; `None` for a rep a rule named.
    pub pool: Option<String>,
    /// The rule that routed the lead, or `default`.
    pub rule: String,
    /// One of [`state`].
    pub state: String,
    pub offered_at: i64,
    pub answered_at: Option<i64>,
    /// When an unanswered offer times out.
    pub expires_at: i64,
}

const ASSIGNMENT_COLUMNS: &str =
    "id, lead_id, tenant, platform, rep, pool, rule, state, offered_at, answered_at, expires_at";

/// An offer to store.
pub struct NewAssignment<'a> {
    pub lead_id: i64,
    pub tenant: &'a str,
    pub platform: &'a str,
    pub rep: &'a str,
    pub pool: Option<&'a str>,
    pub rule: &'a str,
    pub expires_at: i64,
}

pub async fn insert(
    db: &impl ConnectionTrait,
    new: &NewAssignment<'_>,
    now: i64,
) -> Result<AssignmentRow, DbErr> {
    let sql = format!(
        "INSERT INTO lead_assignment (lead_id, tenant, platform, rep, pool, rule, state, \
         offered_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING {ASSIGNMENT_COLUMNS}"
    );
    let row = db
        .query_one_raw(stmt(
            db,
            &sql,
            [
                new.lead_id.into(),
                new.tenant.into(),
                new.platform.into(),
                new.rep.into(),
                new.pool.into(),
                bounded(new.rule).into(),
                state::OFFERED.into(),
                now.into(),
                new.expires_at.into(),
            ],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    AssignmentRow::from_query_result(&row, "")
}

/// Offer `id`, as it is now.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<AssignmentRow>, DbErr> {
    let sql = format!("SELECT {ASSIGNMENT_COLUMNS} FROM lead_assignment WHERE id = $1");
    let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
    row.map(|row| AssignmentRow::from_query_result(&row, ""))
        .transpose()
}

/// Settles the open offer `id` as `to` at `now`; false when it was not open (answered or
/// timed out already), and then nothing changes.
pub async fn settle(db: &impl ConnectionTrait, id: i64, to: &str, now: i64) -> Result<bool, DbErr> {
    let done = db
        .execute_raw(stmt(
            db,
            "UPDATE lead_assignment SET state = $2, answered_at = $3 WHERE id = $1 AND state = $4",
            [id.into(), to.into(), now.into(), state::OFFERED.into()],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every rep lead `lead_id` was offered to, in the order of the offers.
pub async fn tried(db: &impl ConnectionTrait, lead_id: i64) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT rep FROM lead_assignment WHERE lead_id = $1 ORDER BY id",
            [lead_id.into()],
        ))
        .await?;
    let mut reps: Vec<String> = Vec::with_capacity(rows.len());
    for row in rows {
        let rep: String = row.try_get("", "rep")?;
        if !reps.contains(&rep) {
            reps.push(rep);
        }
    }
    Ok(reps)
}

/// Lead `lead_id`'s offers, newest first.
pub async fn history(db: &impl ConnectionTrait, lead_id: i64) -> Result<Vec<AssignmentRow>, DbErr> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM lead_assignment WHERE lead_id = $1 ORDER BY id DESC"
    );
    let rows = db.query_all_raw(stmt(db, &sql, [lead_id.into()])).await?;
    rows.iter()
        .map(|row| AssignmentRow::from_query_result(row, ""))
        .collect()
}

/// Up to `limit` open offers whose deadline is at or before `now`, oldest deadline first
/// (the partial index `ix_lead_assignment_offered` holds exactly the open ones).
pub async fn expired(
    db: &impl ConnectionTrait,
    now: i64,
    limit: u64,
) -> Result<Vec<AssignmentRow>, DbErr> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM lead_assignment \
         WHERE state = $1 AND expires_at <= $2 ORDER BY expires_at, id LIMIT $3"
    );
    let rows = db
        .query_all_raw(stmt(
            db,
            &sql,
            [state::OFFERED.into(), now.into(), (limit as i64).into()],
        ))
        .await?;
    rows.iter()
        .map(|row| AssignmentRow::from_query_result(row, ""))
        .collect()
}

/// The open task made by offer `assignment_id`, if any.
pub async fn first_contact_task(
    db: &impl ConnectionTrait,
    assignment_id: i64,
) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM task WHERE source = $1",
            [task_source(assignment_id).into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "id")).transpose()
}

/// The `source` of the first_contact task of offer `assignment_id`: one task per offer.
pub fn task_source(assignment_id: i64) -> String {
    format!("assignment:{assignment_id}")
}

/// The tenant's lead of customer `customer_id` (the oldest if several), or a new one made from
/// the customer; `None` when the customer is not the tenant's.
pub async fn lead_for_customer(
    db: &impl ConnectionTrait,
    tenant: &str,
    customer_id: i64,
    now: i64,
) -> Result<Option<i64>, DbErr> {
    let existing = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM lead WHERE tenant = $1 AND customer_id = $2 ORDER BY id LIMIT 1",
            [tenant.into(), customer_id.into()],
        ))
        .await?;
    if let Some(row) = existing {
        return Ok(Some(row.try_get("", "id")?));
    }
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO lead (tenant, name, company, source, customer_id, score, score_at, \
             status, created_at, updated_at) \
             SELECT tenant, name, corp_name, $3, id, COALESCE(lead_score, 0), \
             COALESCE(lead_score_at, $4), 'qualified', $4, $4 \
             FROM customer WHERE id = $2 AND tenant = $1 RETURNING id",
            [
                tenant.into(),
                customer_id.into(),
                SOURCE_LEAD_SCORE.into(),
                now.into(),
            ],
        ))
        .await?;
    row.map(|row| row.try_get("", "id")).transpose()
}

/// The `source` of a lead made for a customer whose score crossed the threshold.
pub const SOURCE_LEAD_SCORE: &str = "lead_score";

/// `rule` cut to the column's 255 characters.
fn bounded(text: &str) -> String {
    text.chars().take(255).collect()
}
