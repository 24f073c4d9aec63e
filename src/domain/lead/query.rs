//! The read side of leads: a tenant's leads, newest first and paged by cursor like customers,
//! and one lead with its score history, registrations and assignment history. Scores are
//! shown decayed to the time of the read.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

use super::score::{self, ScoreEntry, Subject};
use crate::{
    assignment::store::{self as assignments, AssignmentRow},
    domain::customer::query::{Cursor, PageRequest},
    pipeline::queue::stmt,
};

/// Registrations one lead shows; a lead that signed up more often is rare, and the table keeps
/// the rest.
pub const REGISTRATIONS_LIMIT: i64 = 50;

const LEAD_COLUMNS: &str = "id, tenant, name, company, phone_masked, source, customer_id, \
                            score, score_at, status, created_at, updated_at, region, industry, \
                            tags, fields, external_ref, owner, owner_platform, assigned_at";

/// One page of leads, newest first, and the cursor of the next (`None` on the last).
#[derive(Debug, Clone, Serialize)]
pub struct LeadPage {
    pub items: Vec<Lead>,
    pub next_cursor: Option<String>,
}

/// A lead: someone known only from a form, not (yet) a customer in WeCom.
#[derive(Debug, Clone, Serialize)]
pub struct Lead {
    pub id: i64,
    pub tenant: String,
    pub name: String,
    pub company: Option<String>,
    /// `138****5678`; the number itself is never stored.
    pub phone_masked: Option<String>,
    /// Where the lead came from, such as `registration:expo2026`.
    pub source: String,
    /// The customer the lead turned out to be, once known.
    pub customer_id: Option<i64>,
    /// Decayed to the time of the read, in hundredths.
    pub score: f64,
    /// `new`, or `qualified` once the score crossed the threshold.
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub tags: Vec<String>,
    /// The free-form fields a CRM posted with the lead.
    pub fields: serde_json::Value,
    /// The CRM's id of the lead.
    pub external_ref: Option<String>,
    /// The rep (user id) the lead is with: offered to, accepted by, or the pool's manager
    /// once nobody accepted it.
    pub owner: Option<String>,
    /// `wecom` or `dingtalk`: where the owner is.
    pub owner_platform: Option<String>,
    /// When the lead last changed hands.
    pub assigned_at: Option<i64>,
}

#[derive(FromQueryResult)]
struct LeadRow {
    id: i64,
    tenant: String,
    name: String,
    company: Option<String>,
    phone_masked: Option<String>,
    source: String,
    customer_id: Option<i64>,
    score: f64,
    score_at: i64,
    status: String,
    created_at: i64,
    updated_at: i64,
    region: Option<String>,
    industry: Option<String>,
    tags: String,
    fields: String,
    external_ref: Option<String>,
    owner: Option<String>,
    owner_platform: Option<String>,
    assigned_at: Option<i64>,
}

impl LeadRow {
    fn into_lead(self, half_life_days: f64, now: i64) -> Lead {
        let score = score::Score {
            value: self.score,
            at: self.score_at,
        };
        Lead {
            id: self.id,
            tenant: self.tenant,
            name: self.name,
            company: self.company,
            phone_masked: self.phone_masked,
            source: self.source,
            customer_id: self.customer_id,
            score: score::shown(score.at(now, half_life_days)),
            status: self.status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            region: self.region,
            industry: self.industry,
            tags: serde_json::from_str(&self.tags).unwrap_or_default(),
            fields: serde_json::from_str(&self.fields).unwrap_or_default(),
            external_ref: self.external_ref,
            owner: self.owner,
            owner_platform: self.owner_platform,
            assigned_at: self.assigned_at,
        }
    }
}

/// One lead with what it did.
#[derive(Debug, Clone, Serialize)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: Lead,
    /// The newest [`score::HISTORY_LIMIT`] score events, newest first.
    pub score_history: Vec<ScoreEntry>,
    /// The newest [`REGISTRATIONS_LIMIT`] registrations matched to the lead, newest first.
    pub registrations: Vec<RegistrationEntry>,
    /// Every offer of the lead to a rep, newest first.
    pub assignments: Vec<AssignmentRow>,
}

/// A registration as a lead shows it.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct RegistrationEntry {
    pub id: i64,
    pub campaign: Option<String>,
    pub link_code: Option<String>,
    pub name: String,
    pub company: Option<String>,
    pub phone_masked: String,
    pub external_userid: Option<String>,
    /// Whether this registration made the lead.
    pub new_lead: bool,
    pub created_at: i64,
}

/// One page of leads, of `tenant` when given, newest (highest id) first.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: Option<&str>,
    page: PageRequest,
    half_life_days: f64,
    now: i64,
) -> Result<LeadPage, DbErr> {
    let mut values: Vec<Value> = Vec::new();
    let mut conditions = Vec::new();
    if let Some(tenant) = tenant.filter(|t| !t.is_empty()) {
        values.push(tenant.into());
        conditions.push(format!("tenant = ${}", values.len()));
    }
    if let Some(after) = page.after() {
        values.push(after.into());
        conditions.push(format!("id < ${}", values.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    // One row more than the page tells whether another page follows.
    values.push((i64::from(page.limit()) + 1).into());
    let sql = format!(
        "SELECT {LEAD_COLUMNS} FROM lead{filter} ORDER BY id DESC LIMIT ${}",
        values.len()
    );
    let mut rows = db
        .query_all_raw(stmt(db, &sql, values))
        .await?
        .iter()
        .map(|row| LeadRow::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    let limit = page.limit() as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(Cursor::after_id(last.id).to_string()),
        _ => None,
    };
    let items = rows
        .into_iter()
        .map(|row| row.into_lead(half_life_days, now))
        .collect();
    Ok(LeadPage { items, next_cursor })
}

/// Lead `id` with its score history, registrations and offers; `None` if there is none.
pub async fn get(
    db: &impl ConnectionTrait,
    id: i64,
    half_life_days: f64,
    now: i64,
) -> Result<Option<LeadDetail>, DbErr> {
    let sql = format!("SELECT {LEAD_COLUMNS} FROM lead WHERE id = $1");
    let Some(row) = db.query_one_raw(stmt(db, &sql, [id.into()])).await? else {
        return Ok(None);
    };
    let lead = LeadRow::from_query_result(&row, "")?.into_lead(half_life_days, now);
    let score_history = score::history(db, Subject::Lead(id)).await?;
    let registrations = db
        .query_all_raw(stmt(
            db,
            "SELECT id, campaign, link_code, name, company, phone_masked, external_userid, \
             new_lead, created_at FROM registration WHERE lead_id = $1 ORDER BY id DESC LIMIT $2",
            [id.into(), REGISTRATIONS_LIMIT.into()],
        ))
        .await?
        .iter()
        .map(|row| RegistrationEntry::from_query_result(row, ""))
        .collect::<Result<_, _>>()?;
    let assignments = assignments::history(db, id).await?;
    Ok(Some(LeadDetail {
        lead,
        score_history,
        registrations,
        assignments,
    }))
}
