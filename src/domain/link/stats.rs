//! Click stats of one link or one campaign. Bots are counted apart and left out of everything
//! else: `clicks` are people's clicks, `unique` their distinct visitor ids.

use std::collections::BTreeMap;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

use super::AgentClass;
use crate::{
    domain::time::{CST_OFFSET_MS, DAY_MS, day_date},
    pipeline::queue::stmt,
};

/// Which clicks a stats query reads.
pub enum Scope<'a> {
    Link(i64),
    Campaign { tenant: &'a str, campaign: &'a str },
}

impl Scope<'_> {
    /// The registrations of the scope.
    fn registrations(&self) -> (&'static str, Vec<Value>) {
        match self {
            Self::Link(id) => (
                "SELECT COUNT(*) AS n FROM registration WHERE link_code = \
                 (SELECT code FROM link WHERE id = $1)",
                vec![(*id).into()],
            ),
            Self::Campaign { tenant, campaign } => (
                "SELECT COUNT(*) AS n FROM registration WHERE tenant = $1 AND (campaign = $2 \
                 OR link_code IN (SELECT code FROM link WHERE tenant = $1 AND campaign = $2))",
                vec![(*tenant).into(), (*campaign).into()],
            ),
        }
    }

    fn condition(&self) -> (&'static str, Vec<Value>) {
        match self {
            Self::Link(id) => ("link_id = $1", vec![(*id).into()]),
            Self::Campaign { tenant, campaign } => (
                "tenant = $1 AND campaign = $2",
                vec![(*tenant).into(), (*campaign).into()],
            ),
        }
    }
}

/// What the stats endpoints answer (beside the link's or campaign's name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub clicks: i64,
    pub unique: i64,
    pub bots: i64,
    /// By day in China Standard Time, oldest first; days without clicks are left out.
    pub by_day: Vec<DayStats>,
    /// By the chat the link was posted in, most clicks first.
    pub by_chat: Vec<ChatStats>,
    /// All clicks, bots included, by kind of client; every kind is present.
    pub by_class: BTreeMap<&'static str, i64>,
    /// Registrations (POST /api/v1/registrations) that name the link, or for a campaign the
    /// campaign or one of its links.
    pub registrations: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayStats {
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub day: String,
    pub clicks: i64,
    pub unique: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatStats {
    pub chat_id: Option<String>,
    pub clicks: i64,
    pub unique: i64,
}

/// One link of a campaign with its people's clicks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkCount {
    pub code: String,
    pub clicks: i64,
    pub unique: i64,
}

#[derive(FromQueryResult)]
struct LinkRow {
    code: String,
    clicks: i64,
    uniq: i64,
}

#[derive(FromQueryResult)]
struct Totals {
    clicks: i64,
    uniq: i64,
    bots: i64,
}

#[derive(FromQueryResult)]
struct DayRow {
    d: i64,
    clicks: i64,
    uniq: i64,
}

#[derive(FromQueryResult)]
struct ChatRow {
    chat_id: Option<String>,
    clicks: i64,
    uniq: i64,
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

#[derive(FromQueryResult)]
struct ClassRow {
    agent_class: String,
    n: i64,
}

/// The stats of the clicks in `scope`.
pub async fn stats(db: &impl ConnectionTrait, scope: &Scope<'_>) -> Result<Stats, DbErr> {
    let (condition, values) = scope.condition();
    let people = format!("{condition} AND agent_class <> 'bot'");
    let totals = query::<Totals>(
        db,
        &format!(
            "SELECT COALESCE(SUM(CASE WHEN agent_class <> 'bot' THEN 1 ELSE 0 END), 0) AS clicks, \
             COUNT(DISTINCT CASE WHEN agent_class <> 'bot' THEN visitor END) AS uniq, \
             COALESCE(SUM(CASE WHEN agent_class = 'bot' THEN 1 ELSE 0 END), 0) AS bots \
             FROM link_click WHERE {condition}"
        ),
        &values,
    )
    .await?
    .pop()
    .unwrap_or(Totals {
        clicks: 0,
        uniq: 0,
        bots: 0,
    });
    // Whole days since 1970 in Shanghai; clicks are never older than 1970, so `/` truncating
    // toward zero is the floor on both databases.
    let day = format!("(at + {CST_OFFSET_MS}) / {DAY_MS}");
    let mut by_day: Vec<DayRow> = query(
        db,
        &format!(
            "SELECT {day} AS d, COUNT(*) AS clicks, COUNT(DISTINCT visitor) AS uniq \
             FROM link_click WHERE {people} GROUP BY {day}"
        ),
        &values,
    )
    .await?;
    by_day.sort_by_key(|row| row.d);
    let mut by_chat: Vec<ChatRow> = query(
        db,
        &format!(
            "SELECT chat_id, COUNT(*) AS clicks, COUNT(DISTINCT visitor) AS uniq \
             FROM link_click WHERE {people} GROUP BY chat_id"
        ),
        &values,
    )
    .await?;
    // Sorted here: the databases order NULL differently.
    by_chat.sort_by(|a, b| {
        b.clicks
            .cmp(&a.clicks)
            .then_with(|| a.chat_id.cmp(&b.chat_id))
    });
    let classes: Vec<ClassRow> = query(
        db,
        &format!(
            "SELECT agent_class, COUNT(*) AS n FROM link_click WHERE {condition} \
             GROUP BY agent_class"
        ),
        &values,
    )
    .await?;
    let (sql, values) = scope.registrations();
    let registrations = query::<Count>(db, sql, &values)
        .await?
        .pop()
        .map_or(0, |row| row.n);
    let by_class = AgentClass::ALL
        .iter()
        .map(|class| {
            let n = classes
                .iter()
                .find(|row| row.agent_class == class.as_str())
                .map_or(0, |row| row.n);
            (class.as_str(), n)
        })
        .collect();
    Ok(Stats {
        clicks: totals.clicks,
        unique: totals.uniq,
        bots: totals.bots,
        by_day: by_day
            .into_iter()
            .map(|row| DayStats {
                day: day_date(row.d),
                clicks: row.clicks,
                unique: row.uniq,
            })
            .collect(),
        by_chat: by_chat
            .into_iter()
            .map(|row| ChatStats {
                chat_id: row.chat_id,
                clicks: row.clicks,
                unique: row.uniq,
            })
            .collect(),
        by_class,
        registrations,
    })
}

/// The links of a campaign, oldest first, with their people's clicks; empty when the tenant
/// has no link in the campaign.
pub async fn campaign_links(
    db: &impl ConnectionTrait,
    tenant: &str,
    campaign: &str,
) -> Result<Vec<LinkCount>, DbErr> {
    let rows: Vec<LinkRow> = query(
        db,
        "SELECT l.code, COUNT(c.id) AS clicks, COUNT(DISTINCT c.visitor) AS uniq \
         FROM link l LEFT JOIN link_click c ON c.link_id = l.id AND c.agent_class <> 'bot' \
         WHERE l.tenant = $1 AND l.campaign = $2 GROUP BY l.id, l.code ORDER BY l.id",
        &[tenant.into(), campaign.into()],
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| LinkCount {
            code: row.code,
            clicks: row.clicks,
            unique: row.uniq,
        })
        .collect())
}

async fn query<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    sql: &str,
    values: &[Value],
) -> Result<Vec<T>, DbErr> {
    let rows = db
        .query_all_raw(stmt(db, sql, values.iter().cloned()))
        .await?;
    rows.iter()
        .map(|row| T::from_query_result(row, ""))
        .collect()
}
