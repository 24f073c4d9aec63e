//! Writing customer profiles: the customer, each rep relation, the tags on it, and the
//! timeline. Every write is an upsert keyed by the platform's ids, so an event applied twice,
//! or events applied out of order, leave the same rows.

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value;

use crate::pipeline::queue::stmt;

/// What the platform says about a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub external_userid: String,
    pub name: String,
    /// 1 WeChat user, 2 WeCom user of another corp, 0 unknown.
    pub kind: i16,
    /// 0 unknown, 1 male, 2 female.
    pub gender: i16,
    pub corp_name: Option<String>,
    pub corp_full_name: Option<String>,
    pub position: Option<String>,
    pub avatar: Option<String>,
    pub unionid: Option<String>,
}

/// A rep's relation with a customer, as the platform reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relation {
    pub userid: String,
    pub remark: String,
    pub description: String,
    pub add_way: i64,
    pub state: String,
    pub oper_userid: Option<String>,
    /// When the rep added the customer (epoch ms).
    pub added_at: Option<i64>,
}

/// A tag on a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationTag {
    pub tag_id: String,
    pub group_name: String,
    pub name: String,
    /// 1 corp tag, 2 the rep's personal tag, 3 rule-group tag.
    pub kind: i16,
}

/// Where a tag on a relation came from.
pub mod source {
    /// Read from WeCom (set by the rep, or confirmed after salesbot set it).
    pub const WECOM: &str = "wecom";
    /// Put there by a tagging rule.
    pub const RULE: &str = "rule";
}

/// Who ended a relation.
pub mod ended_by {
    /// The rep deleted the customer.
    pub const REP: &str = "rep";
    /// The customer deleted the rep.
    pub const CUSTOMER: &str = "customer";
    /// The customer moved to another rep (in-service transfer).
    pub const TRANSFER: &str = "transfer";
}

/// Creates or updates the customer of `tenant`; returns its id.
pub async fn upsert_customer(
    db: &impl ConnectionTrait,
    tenant: &str,
    profile: &Profile,
    now: i64,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO customer (tenant, external_userid, name, type, gender, corp_name, \
             corp_full_name, position, avatar, unionid, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (tenant, external_userid) DO UPDATE SET name = excluded.name, \
             type = excluded.type, gender = excluded.gender, corp_name = excluded.corp_name, \
             corp_full_name = excluded.corp_full_name, position = excluded.position, \
             avatar = excluded.avatar, unionid = excluded.unionid, updated_at = excluded.updated_at \
             RETURNING id",
            [
                tenant.into(),
                profile.external_userid.clone().into(),
                profile.name.clone().into(),
                profile.kind.into(),
                profile.gender.into(),
                profile.corp_name.clone().into(),
                profile.corp_full_name.clone().into(),
                profile.position.clone().into(),
                profile.avatar.clone().into(),
                profile.unionid.clone().into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    row.try_get("", "id")
}

/// The id of the customer, creating a bare row (to be filled by a later fetch) when it is not
/// known yet: an event about a customer can arrive before the one that adds them.
pub async fn customer_id(
    db: &impl ConnectionTrait,
    tenant: &str,
    external_userid: &str,
    now: i64,
) -> Result<i64, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO customer (tenant, external_userid, created_at, updated_at) \
             VALUES ($1, $2, $3, $3) ON CONFLICT (tenant, external_userid) \
             DO UPDATE SET updated_at = customer.updated_at RETURNING id",
            [tenant.into(), external_userid.into(), now.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    row.try_get("", "id")
}

/// The current state of a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationState {
    pub active: bool,
    pub ended_at: Option<i64>,
}

/// The relation of rep `userid` with customer `customer_id`, if recorded.
pub async fn relation_state(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
) -> Result<Option<RelationState>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT status, ended_at FROM customer_rep WHERE customer_id = $1 AND userid = $2",
            [customer_id.into(), userid.into()],
        ))
        .await?;
    row.map(|row| {
        Ok(RelationState {
            active: row.try_get::<String>("", "status")? == "active",
            ended_at: row.try_get("", "ended_at")?,
        })
    })
    .transpose()
}

/// Records the relation as active with what the platform reports, unless it ended after
/// `event_at` (epoch ms): a delete that happened later than this add wins, whatever order the
/// two events arrive in. Returns whether the relation is active now.
pub async fn upsert_relation(
    db: &impl ConnectionTrait,
    customer_id: i64,
    relation: &Relation,
    event_at: i64,
    now: i64,
) -> Result<bool, DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO customer_rep (customer_id, userid, remark, description, add_way, state, \
         oper_userid, added_at, status, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $10) \
         ON CONFLICT (customer_id, userid) DO UPDATE SET remark = excluded.remark, \
         description = excluded.description, add_way = excluded.add_way, \
         state = CASE WHEN excluded.state = '' THEN customer_rep.state ELSE excluded.state END, \
         oper_userid = excluded.oper_userid, \
         added_at = COALESCE(excluded.added_at, customer_rep.added_at), \
         status = CASE WHEN customer_rep.ended_at IS NOT NULL AND customer_rep.ended_at > $9 \
                  THEN customer_rep.status ELSE 'active' END, \
         ended_at = CASE WHEN customer_rep.ended_at IS NOT NULL AND customer_rep.ended_at > $9 \
                    THEN customer_rep.ended_at ELSE NULL END, \
         ended_by = CASE WHEN customer_rep.ended_at IS NOT NULL AND customer_rep.ended_at > $9 \
                    THEN customer_rep.ended_by ELSE NULL END, \
         updated_at = excluded.updated_at",
        [
            customer_id.into(),
            relation.userid.clone().into(),
            relation.remark.clone().into(),
            relation.description.clone().into(),
            relation.add_way.into(),
            relation.state.clone().into(),
            relation.oper_userid.clone().into(),
            relation.added_at.into(),
            event_at.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(relation_state(db, customer_id, &relation.userid)
        .await?
        .is_some_and(|state| state.active))
}

/// Ends the relation at `ended_at` (epoch ms), creating it ended if it was never recorded (a
/// delete can arrive before the add). A later add reactivates it only if it happened later.
/// Returns whether it was active before.
pub async fn end_relation(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
    by: &str,
    ended_at: i64,
    now: i64,
) -> Result<bool, DbErr> {
    let was_active = relation_state(db, customer_id, userid)
        .await?
        .is_some_and(|state| state.active);
    db.execute_raw(stmt(
        db,
        "INSERT INTO customer_rep (customer_id, userid, status, ended_at, ended_by, updated_at) \
         VALUES ($1, $2, 'ended', $3, $4, $5) \
         ON CONFLICT (customer_id, userid) DO UPDATE SET status = 'ended', \
         ended_at = excluded.ended_at, ended_by = excluded.ended_by, updated_at = excluded.updated_at \
         WHERE customer_rep.added_at IS NULL OR customer_rep.added_at <= excluded.ended_at",
        [
            customer_id.into(),
            userid.into(),
            ended_at.into(),
            by.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(was_active)
}

/// The tag ids on the relation.
pub async fn relation_tags(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
) -> Result<Vec<String>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT tag_id FROM customer_tag WHERE customer_id = $1 AND userid = $2 ORDER BY tag_id",
            [customer_id.into(), userid.into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "tag_id")).collect()
}

/// Adds `tags` to the relation (existing ones are kept as they are).
pub async fn add_relation_tags(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
    tags: &[RelationTag],
    source: &str,
    now: i64,
) -> Result<(), DbErr> {
    for tag in tags {
        db.execute_raw(stmt(
            db,
            "INSERT INTO customer_tag (customer_id, userid, tag_id, group_name, name, type, source, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (customer_id, userid, tag_id) DO NOTHING",
            [
                customer_id.into(),
                userid.into(),
                tag.tag_id.clone().into(),
                tag.group_name.clone().into(),
                tag.name.clone().into(),
                tag.kind.into(),
                source.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// Makes the relation's tags what the platform reports: adds the missing ones (a tag a rule
/// put there is then confirmed) and removes those it no longer has (a rep untagged the
/// customer in WeCom). A rule's tag that WeCom has not confirmed yet stays: its `mark_tag` may
/// still be on its way. Returns (added, removed) ids.
pub async fn sync_relation_tags(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
    tags: &[RelationTag],
    now: i64,
) -> Result<(Vec<String>, Vec<String>), DbErr> {
    let before = relation_tags(db, customer_id, userid).await?;
    let added: Vec<RelationTag> = tags
        .iter()
        .filter(|tag| !before.contains(&tag.tag_id))
        .cloned()
        .collect();
    add_relation_tags(db, customer_id, userid, &added, source::WECOM, now).await?;
    let reported: Vec<String> = tags.iter().map(|tag| tag.tag_id.clone()).collect();
    set_source(db, customer_id, userid, &reported, source::WECOM).await?;
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT tag_id FROM customer_tag WHERE customer_id = $1 AND userid = $2 AND source = $3",
            [customer_id.into(), userid.into(), source::WECOM.into()],
        ))
        .await?;
    let confirmed: Vec<String> = rows
        .iter()
        .map(|row| row.try_get("", "tag_id"))
        .collect::<Result<_, _>>()?;
    let removed: Vec<String> = confirmed
        .into_iter()
        .filter(|id| !reported.contains(id))
        .collect();
    for id in &removed {
        db.execute_raw(stmt(
            db,
            "DELETE FROM customer_tag WHERE customer_id = $1 AND userid = $2 AND tag_id = $3",
            [customer_id.into(), userid.into(), id.clone().into()],
        ))
        .await?;
    }
    Ok((added.into_iter().map(|tag| tag.tag_id).collect(), removed))
}

/// Marks tags of a relation as coming from `source` (e.g. confirmed by WeCom).
pub async fn set_source(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
    tag_ids: &[String],
    source: &str,
) -> Result<(), DbErr> {
    for tag_id in tag_ids {
        db.execute_raw(stmt(
            db,
            "UPDATE customer_tag SET source = $4 WHERE customer_id = $1 AND userid = $2 \
             AND tag_id = $3",
            [
                customer_id.into(),
                userid.into(),
                tag_id.clone().into(),
                source.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// The id of a known customer.
pub async fn find_customer(
    db: &impl ConnectionTrait,
    tenant: &str,
    external_userid: &str,
) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM customer WHERE tenant = $1 AND external_userid = $2",
            [tenant.into(), external_userid.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "id")).transpose()
}

/// Appends an entry to the customer's timeline.
pub async fn record_event(
    db: &impl ConnectionTrait,
    customer_id: i64,
    at: i64,
    kind: &str,
    detail: &Value,
    inbox_id: Option<i64>,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO customer_event (customer_id, at, kind, detail, inbox_id) \
         VALUES ($1, $2, $3, $4, $5)",
        [
            customer_id.into(),
            at.into(),
            kind.into(),
            detail.to_string().into(),
            inbox_id.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// What an alert about a relation says of the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelationSummary {
    pub name: String,
    pub corp_name: Option<String>,
    pub added_at: Option<i64>,
    /// `group/name` of each tag on the relation.
    pub tags: Vec<String>,
}

/// The customer as an alert about rep `userid`'s relation shows them.
pub async fn relation_summary(
    db: &impl ConnectionTrait,
    customer_id: i64,
    userid: &str,
) -> Result<RelationSummary, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT c.name, c.corp_name, r.added_at FROM customer c \
             LEFT JOIN customer_rep r ON r.customer_id = c.id AND r.userid = $2 WHERE c.id = $1",
            [customer_id.into(), userid.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(RelationSummary::default());
    };
    let tags = db
        .query_all_raw(stmt(
            db,
            "SELECT group_name, name FROM customer_tag WHERE customer_id = $1 AND userid = $2 \
             ORDER BY id",
            [customer_id.into(), userid.into()],
        ))
        .await?
        .iter()
        .map(|row| {
            Ok(format!(
                "{}/{}",
                row.try_get::<String>("", "group_name")?,
                row.try_get::<String>("", "name")?
            ))
        })
        .collect::<Result<_, DbErr>>()?;
    Ok(RelationSummary {
        name: row.try_get("", "name")?,
        corp_name: row.try_get("", "corp_name")?,
        added_at: row.try_get("", "added_at")?,
        tags,
    })
}
