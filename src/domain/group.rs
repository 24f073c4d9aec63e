//! Customer groups (客户群) and who is in them: the group row, each member with the time they
//! joined or left, and a `joined_group` / `left_group` entry on a customer's timeline for each
//! real change. Every write compares with what is stored first, so a change applied twice, or
//! seen once in a change event and again in a full read, is recorded once.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult};
use serde_json::json;

use super::customer;
use crate::pipeline::queue::stmt;

/// A group's `status`.
pub mod status {
    pub const ACTIVE: &str = "active";
    /// The owner dissolved the group; it stays dismissed whatever arrives later.
    pub const DISMISSED: &str = "dismissed";
}

/// A member's `type`, as the platform reports it.
pub mod member_type {
    /// One of the corp's own people.
    pub const MEMBER: i16 = 1;
    /// A customer (external contact).
    pub const CUSTOMER: i16 = 2;
}

/// Kinds of the timeline entries written here.
pub mod timeline {
    pub const JOINED: &str = "joined_group";
    pub const LEFT: &str = "left_group";
}

/// A group as the platform describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub tenant: String,
    pub chat_id: String,
    pub name: String,
    /// The owner's userid.
    pub owner: String,
    pub notice: String,
    /// The platform's membership version, which change events name before and after.
    pub member_version: Option<String>,
    /// When the group was created (epoch ms).
    pub created_time: Option<i64>,
    /// One of [`status`].
    pub status: String,
}

/// What is stored of a group.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct StoredGroup {
    pub id: i64,
    pub name: String,
    pub member_version: Option<String>,
    pub status: String,
}

impl StoredGroup {
    pub fn is_dismissed(&self) -> bool {
        self.status == status::DISMISSED
    }
}

/// A member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// A member's userid or a customer's external userid.
    pub userid: String,
    /// One of [`member_type`].
    pub kind: i16,
    /// Empty when unknown (change events carry no names); a stored name is then kept.
    pub name: String,
    /// When they joined (epoch ms).
    pub join_time: Option<i64>,
    /// How they joined: 1 direct invite, 2 invite link, 3 QR code; `None` when unknown.
    pub join_scene: Option<i16>,
}

/// Where a membership change happens, and what the timeline entries it causes carry.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub tenant: &'a str,
    pub group_id: i64,
    pub chat_id: &'a str,
    pub group_name: &'a str,
    /// When the change happened (epoch ms): the time of a leave, and of a join whose member
    /// has no join time.
    pub at: i64,
    /// The inbox event that caused it.
    pub inbox_id: Option<i64>,
}

/// Members who joined or left, as one change event reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    Join(Vec<Member>),
    Leave {
        userids: Vec<String>,
        /// The platform's code for how they left, kept on the timeline as is.
        quit_scene: Option<i64>,
    },
}

/// Who really joined and who really left, in the order recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub joined: Vec<String>,
    pub left: Vec<String>,
}

/// The group `chat_id` of `tenant`, if stored, locked until the transaction ends, so that two
/// changes of one group are applied one after the other and each sees what the other did. On
/// SQLite the transaction holds the only write lock already.
pub async fn lock(
    db: &impl ConnectionTrait,
    tenant: &str,
    chat_id: &str,
) -> Result<Option<StoredGroup>, DbErr> {
    let for_update = match db.get_database_backend() {
        DbBackend::Postgres => " FOR UPDATE",
        _ => "",
    };
    let sql = format!(
        "SELECT id, name, member_version, status FROM group_chat \
         WHERE tenant = $1 AND chat_id = $2{for_update}"
    );
    let row = db
        .query_one_raw(stmt(db, &sql, [tenant.into(), chat_id.into()]))
        .await?;
    row.map(|row| StoredGroup::from_query_result(&row, ""))
        .transpose()
}

/// Creates or updates the group. A dismissed group stays dismissed: the platform does not reuse
/// group ids, so a read that arrives after the dismissal is only late.
pub async fn upsert(
    db: &impl ConnectionTrait,
    group: &Group,
    now: i64,
) -> Result<StoredGroup, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO group_chat (tenant, chat_id, name, owner, notice, member_version, \
             created_time, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (tenant, chat_id) DO UPDATE SET name = excluded.name, \
             owner = excluded.owner, notice = excluded.notice, \
             member_version = excluded.member_version, \
             created_time = COALESCE(excluded.created_time, group_chat.created_time), \
             status = CASE WHEN group_chat.status = 'dismissed' THEN group_chat.status \
             ELSE excluded.status END, updated_at = excluded.updated_at \
             RETURNING id, name, member_version, status",
            [
                group.tenant.as_str().into(),
                group.chat_id.as_str().into(),
                group.name.as_str().into(),
                group.owner.as_str().into(),
                group.notice.as_str().into(),
                group.member_version.clone().into(),
                group.created_time.into(),
                group.status.as_str().into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    StoredGroup::from_query_result(&row, "")
}

/// Marks the group dismissed, storing a bare row when it was never seen, so that an earlier
/// event handled after this one cannot bring it back.
pub async fn mark_dismissed(
    db: &impl ConnectionTrait,
    tenant: &str,
    chat_id: &str,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO group_chat (tenant, chat_id, status, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant, chat_id) DO UPDATE SET status = excluded.status, \
         updated_at = excluded.updated_at",
        [
            tenant.into(),
            chat_id.into(),
            status::DISMISSED.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Records the membership version after a change was applied; `None` when it is not known, so
/// the next change event reads the whole group again.
pub async fn set_member_version(
    db: &impl ConnectionTrait,
    group_id: i64,
    version: Option<&str>,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE group_chat SET member_version = $1, updated_at = $2 WHERE id = $3",
        [version.into(), now.into(), group_id.into()],
    ))
    .await?;
    Ok(())
}

/// The stored type of each of `userids` known in the group or, failing that, as a customer of
/// `tenant`. Ids known as neither are left out.
pub async fn member_kinds(
    db: &impl ConnectionTrait,
    tenant: &str,
    group_id: i64,
    userids: &[String],
) -> Result<HashMap<String, i16>, DbErr> {
    let stored = stored_members(db, group_id).await?;
    let mut kinds = HashMap::new();
    for userid in userids {
        let kind = match stored.get(userid) {
            Some(member) => member.kind,
            None if customer_exists(db, tenant, userid).await? => member_type::CUSTOMER,
            None => continue,
        };
        kinds.insert(userid.clone(), kind);
    }
    Ok(kinds)
}

/// Makes the group's members exactly `members`, as a full read of the group lists them:
/// listed ones who were not in the group join, stored ones no longer listed leave (at
/// `change.at`), and the rest are brought up to date without a timeline entry.
pub async fn replace_members(
    db: &impl ConnectionTrait,
    change: &Change<'_>,
    members: &[Member],
    now: i64,
) -> Result<Applied, DbErr> {
    let stored = stored_members(db, change.group_id).await?;
    let mut applied = Applied::default();
    for member in members {
        match stored.get(&member.userid) {
            Some(current) if current.left_at.is_none() => {
                if !current.same_as(member) {
                    upsert_member(db, change.group_id, member, now).await?;
                }
            }
            _ => {
                upsert_member(db, change.group_id, member, now).await?;
                joined(db, change, member, now).await?;
                applied.joined.push(member.userid.clone());
            }
        }
    }
    let listed: HashSet<&str> = members.iter().map(|m| m.userid.as_str()).collect();
    for (userid, current) in &stored {
        if current.left_at.is_none()
            && !listed.contains(userid.as_str())
            && leave(db, change, userid, current.kind, None, now).await?
        {
            applied.left.push(userid.clone());
        }
    }
    Ok(applied)
}

/// Applies the members who joined or left in one change event. Someone already in the group
/// does not join again, and someone not in it does not leave.
pub async fn apply_delta(
    db: &impl ConnectionTrait,
    change: &Change<'_>,
    delta: &Delta,
    now: i64,
) -> Result<Applied, DbErr> {
    let stored = stored_members(db, change.group_id).await?;
    let mut applied = Applied::default();
    match delta {
        Delta::Join(members) => {
            for member in members {
                let present = stored
                    .get(&member.userid)
                    .is_some_and(|current| current.left_at.is_none());
                if !present {
                    upsert_member(db, change.group_id, member, now).await?;
                    joined(db, change, member, now).await?;
                    applied.joined.push(member.userid.clone());
                }
            }
        }
        Delta::Leave {
            userids,
            quit_scene,
        } => {
            for userid in userids {
                let Some(current) = stored.get(userid) else {
                    continue;
                };
                if leave(db, change, userid, current.kind, *quit_scene, now).await? {
                    applied.left.push(userid.clone());
                }
            }
        }
    }
    Ok(applied)
}

/// A stored member row.
#[derive(Debug, FromQueryResult)]
struct StoredMember {
    userid: String,
    kind: i16,
    name: String,
    join_time: Option<i64>,
    join_scene: Option<i16>,
    left_at: Option<i64>,
}

impl StoredMember {
    /// Whether writing `member` would change nothing.
    fn same_as(&self, member: &Member) -> bool {
        self.kind == member.kind
            && (member.name.is_empty() || self.name == member.name)
            && (member.join_time.is_none() || self.join_time == member.join_time)
            && self.join_scene == member.join_scene
    }
}

/// The group's stored members, present or gone, by userid (in userid order, so timeline
/// entries are written in a stable order).
async fn stored_members(
    db: &impl ConnectionTrait,
    group_id: i64,
) -> Result<BTreeMap<String, StoredMember>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT userid, type AS kind, name, join_time, join_scene, left_at \
             FROM group_member WHERE group_id = $1",
            [group_id.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| StoredMember::from_query_result(row, "").map(|m| (m.userid.clone(), m)))
        .collect()
}

/// Stores `member` as present in the group.
async fn upsert_member(
    db: &impl ConnectionTrait,
    group_id: i64,
    member: &Member,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO group_member (group_id, userid, type, name, join_time, join_scene, \
         left_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7) \
         ON CONFLICT (group_id, userid) DO UPDATE SET type = excluded.type, \
         name = CASE WHEN excluded.name = '' THEN group_member.name ELSE excluded.name END, \
         join_time = COALESCE(excluded.join_time, group_member.join_time), \
         join_scene = excluded.join_scene, left_at = NULL, updated_at = excluded.updated_at",
        [
            group_id.into(),
            member.userid.as_str().into(),
            member.kind.into(),
            member.name.as_str().into(),
            member.join_time.into(),
            member.join_scene.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The timeline entry of a member who joined, for customers.
async fn joined(
    db: &impl ConnectionTrait,
    change: &Change<'_>,
    member: &Member,
    now: i64,
) -> Result<(), DbErr> {
    if member.kind != member_type::CUSTOMER {
        return Ok(());
    }
    let detail = json!({
        "chat_id": change.chat_id,
        "name": change.group_name,
        "join_scene": member.join_scene,
    });
    let at = member.join_time.unwrap_or(change.at);
    record(
        db,
        change,
        &member.userid,
        at,
        timeline::JOINED,
        &detail,
        now,
    )
    .await
}

/// Marks `userid` gone from the group and, for a customer, records it on their timeline.
/// False when they were gone already.
async fn leave(
    db: &impl ConnectionTrait,
    change: &Change<'_>,
    userid: &str,
    kind: i16,
    quit_scene: Option<i64>,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE group_member SET left_at = $1, updated_at = $2 \
             WHERE group_id = $3 AND userid = $4 AND left_at IS NULL",
            [
                change.at.into(),
                now.into(),
                change.group_id.into(),
                userid.into(),
            ],
        ))
        .await?;
    if result.rows_affected() == 0 {
        return Ok(false);
    }
    if kind == member_type::CUSTOMER {
        let detail = json!({
            "chat_id": change.chat_id,
            "name": change.group_name,
            "quit_scene": quit_scene,
        });
        record(db, change, userid, change.at, timeline::LEFT, &detail, now).await?;
    }
    Ok(true)
}

/// Appends an entry to the timeline of the customer `external_userid`, creating a bare customer
/// row (filled in when their profile is read) if the group is the first place salesbot sees
/// them.
async fn record(
    db: &impl ConnectionTrait,
    change: &Change<'_>,
    external_userid: &str,
    at: i64,
    kind: &str,
    detail: &serde_json::Value,
    now: i64,
) -> Result<(), DbErr> {
    let customer_id = customer::store::customer_id(db, change.tenant, external_userid, now).await?;
    customer::store::record_event(db, customer_id, at, kind, detail, change.inbox_id).await
}

async fn customer_exists(
    db: &impl ConnectionTrait,
    tenant: &str,
    external_userid: &str,
) -> Result<bool, DbErr> {
    Ok(customer::store::find_customer(db, tenant, external_userid)
        .await?
        .is_some())
}
