//! One customer group's activity, where membership and tracked links meet: who is in the group
//! and how each joined (invite, invite link, QR code), the tracked links posted in it with
//! their clicks, and which identified members and customers clicked what. Bots are never
//! counted.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// Identified clicks listed at most, newest first.
const CLICKS_LISTED: u64 = 200;

/// The group's activity.
#[derive(Debug, Clone, Serialize)]
pub struct Activity {
    pub chat_id: String,
    pub name: String,
    pub status: String,
    pub members: Vec<MemberActivity>,
    pub links: Vec<LinkActivity>,
    /// Clicks by a known member or customer on links posted in the group, newest first.
    pub clicks: Vec<IdentifiedClick>,
}

/// A member of the group (present or gone) and their clicks.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct MemberActivity {
    /// A member's userid or a customer's external userid.
    pub userid: String,
    /// 1 member, 2 customer.
    #[serde(rename = "type")]
    pub kind: i16,
    pub name: String,
    pub join_time: Option<i64>,
    /// `direct` (invited), `invite_link`, `qr_code`, or `null` when unknown.
    #[sea_orm(skip)]
    pub joined_by: Option<&'static str>,
    #[serde(skip)]
    pub join_scene: Option<i16>,
    pub left_at: Option<i64>,
    /// Their identified clicks on the group's links.
    #[sea_orm(skip)]
    pub clicks: i64,
}

/// A tracked link posted in the group.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct LinkActivity {
    pub code: String,
    pub campaign: String,
    pub rep: Option<String>,
    pub clicks: i64,
    pub unique: i64,
}

/// A click by someone the OAuth round trip named.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct IdentifiedClick {
    pub code: String,
    pub at: i64,
    pub member_userid: Option<String>,
    pub external_userid: Option<String>,
}

impl IdentifiedClick {
    fn who(&self) -> Option<&str> {
        self.external_userid
            .as_deref()
            .or(self.member_userid.as_deref())
    }
}

#[derive(FromQueryResult)]
struct GroupRow {
    id: i64,
    name: String,
    status: String,
}

/// The activity of group `chat_id` of `tenant`; `None` when the group is not known.
pub async fn activity(
    db: &impl ConnectionTrait,
    tenant: &str,
    chat_id: &str,
) -> Result<Option<Activity>, DbErr> {
    let Some(group) = GroupRow::find_by_statement(stmt(
        db,
        "SELECT id, name, status FROM group_chat WHERE tenant = $1 AND chat_id = $2",
        [tenant.into(), chat_id.into()],
    ))
    .one(db)
    .await?
    else {
        return Ok(None);
    };
    let mut members = MemberActivity::find_by_statement(stmt(
        db,
        "SELECT userid, type AS kind, name, join_time, join_scene, left_at FROM group_member \
         WHERE group_id = $1 ORDER BY join_time, userid",
        [group.id.into()],
    ))
    .all(db)
    .await?;
    let links = LinkActivity::find_by_statement(stmt(
        db,
        "SELECT l.code, l.campaign, l.rep, COUNT(c.id) AS clicks, \
         COUNT(DISTINCT c.visitor) AS \"unique\" FROM link l \
         LEFT JOIN link_click c ON c.link_id = l.id AND c.agent_class <> 'bot' \
         WHERE l.tenant = $1 AND l.chat_id = $2 \
         GROUP BY l.id, l.code, l.campaign, l.rep ORDER BY l.id",
        [tenant.into(), chat_id.into()],
    ))
    .all(db)
    .await?;
    let clicks = IdentifiedClick::find_by_statement(stmt(
        db,
        "SELECT code, at, member_userid, external_userid FROM link_click \
         WHERE tenant = $1 AND chat_id = $2 AND agent_class <> 'bot' \
         AND (member_userid IS NOT NULL OR external_userid IS NOT NULL) \
         ORDER BY at DESC, id DESC LIMIT $3",
        [tenant.into(), chat_id.into(), (CLICKS_LISTED as i64).into()],
    ))
    .all(db)
    .await?;
    for member in &mut members {
        member.joined_by = member.join_scene.and_then(joined_by);
        member.clicks = clicks
            .iter()
            .filter(|click| click.who() == Some(member.userid.as_str()))
            .count() as i64;
    }
    Ok(Some(Activity {
        chat_id: chat_id.to_owned(),
        name: group.name,
        status: group.status,
        members,
        links,
        clicks,
    }))
}

/// WeCom's `join_scene` in words.
fn joined_by(scene: i16) -> Option<&'static str> {
    match scene {
        1 => Some("direct"),
        2 => Some("invite_link"),
        3 => Some("qr_code"),
        _ => None,
    }
}
