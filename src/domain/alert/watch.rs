//! What the alert rules watch, read from the deal and task tables: open deals idle since a
//! cutoff, a rep's last follow-up, and what a rep won in a period.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};

use crate::pipeline::queue::stmt;

/// The deal stage that counts towards a rep's target.
pub const WON_STAGE: &str = "won";

/// An open deal with no activity since the cutoff. Activity is `last_activity_at`: every
/// change through the API moves it, and a CRM that syncs a deal says when work on it really
/// happened, which a sync's own update must not hide.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct IdleDeal {
    pub id: i64,
    pub name: String,
    pub stage: String,
    pub amount: f64,
    pub owner: String,
    /// The customer's name, when the deal has a customer.
    pub customer: Option<String>,
    pub last_activity_at: i64,
}

/// The open deals of `tenant` on `platform` without activity after `cutoff`, oldest activity
/// first: a range of `ix_deal_activity`.
pub async fn idle_deals(
    db: &impl ConnectionTrait,
    tenant: &str,
    platform: &str,
    cutoff: i64,
) -> Result<Vec<IdleDeal>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT d.id, d.name, d.stage, d.amount, d.owner, c.name AS customer, \
             d.last_activity_at \
             FROM deal d LEFT JOIN customer c ON c.id = d.customer_id \
             WHERE d.tenant = $1 AND d.last_activity_at <= $3 AND d.platform = $2 \
             AND d.closed_at IS NULL \
             ORDER BY d.last_activity_at, d.id",
            [tenant.into(), platform.into(), cutoff.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| IdleDeal::from_query_result(row, ""))
        .collect()
}

/// A rep's latest follow-up and their open tasks.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RepActivity {
    /// When they last completed a task.
    pub last_done: Option<i64>,
    /// When one of their deals last had activity.
    pub last_deal: Option<i64>,
    pub open_tasks: i64,
}

impl RepActivity {
    /// Their last follow-up of either kind; `None` when none is recorded.
    pub fn last_follow_up(&self) -> Option<i64> {
        self.last_done.max(self.last_deal)
    }
}

/// What `rep` of `tenant` on `platform` last did (through `ix_task_assignee` and
/// `ix_deal_owner`).
pub async fn rep_activity(
    db: &impl ConnectionTrait,
    tenant: &str,
    platform: &str,
    rep: &str,
) -> Result<RepActivity, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT \
             (SELECT MAX(done_at) FROM task WHERE tenant = $1 AND assignee = $3 \
              AND platform = $2 AND done_at IS NOT NULL) AS last_done, \
             (SELECT MAX(last_activity_at) FROM deal WHERE tenant = $1 AND owner = $3 \
              AND platform = $2) AS last_deal, \
             (SELECT COUNT(*) FROM task WHERE tenant = $1 AND assignee = $3 \
              AND state = 'open' AND platform = $2) AS open_tasks",
            [tenant.into(), platform.into(), rep.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("a SELECT without FROM gave no row".into()))?;
    RepActivity::from_query_result(&row, "")
}

/// The amounts of `rep`'s deals in stage [`WON_STAGE`] closed in `[from, until)`, added up.
pub async fn won_amount(
    db: &impl ConnectionTrait,
    tenant: &str,
    platform: &str,
    rep: &str,
    (from, until): (i64, i64),
) -> Result<f64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT COALESCE(SUM(amount), 0.0) AS won FROM deal \
             WHERE tenant = $1 AND owner = $3 AND platform = $2 AND stage = $4 \
             AND closed_at >= $5 AND closed_at < $6",
            [
                tenant.into(),
                platform.into(),
                rep.into(),
                WON_STAGE.into(),
                from.into(),
                until.into(),
            ],
        ))
        .await?;
    match row {
        Some(row) => row.try_get::<f64>("", "won"),
        None => Ok(0.0),
    }
}
