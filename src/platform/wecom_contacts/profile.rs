//! A customer as WeCom has them (`externalcontact/get`), written to the profile tables.

use salesbot_wecom::api::{ExternalContactDetail, FollowUser};
use sea_orm::ConnectionTrait;

use super::{api_error, outbox::is_gone};
use crate::{
    domain::customer::store::{self, Profile, Relation, RelationTag},
    pipeline::HandlerError,
};

/// The customer and every rep relation, or `None` when WeCom no longer knows the customer or
/// the relation (it was deleted before this event was handled).
pub async fn fetch(
    app: &super::WecomApp,
    external_userid: &str,
) -> Result<Option<ExternalContactDetail>, HandlerError> {
    match app.client.get_external_contact(external_userid, None).await {
        Ok(detail) => Ok(Some(detail)),
        Err(err) if is_gone(&err) => Ok(None),
        Err(err) => Err(api_error(err)),
    }
}

/// The profile fields of WeCom's answer.
pub fn profile(detail: &ExternalContactDetail) -> Profile {
    let contact = &detail.external_contact;
    Profile {
        external_userid: contact.external_userid.clone(),
        name: contact.name.clone().unwrap_or_default(),
        kind: contact.kind.map_or(0, i16::from),
        gender: contact.gender.map_or(0, i16::from),
        corp_name: contact.corp_name.clone(),
        corp_full_name: contact.corp_full_name.clone(),
        position: contact.position.clone(),
        avatar: contact.avatar.clone(),
        unionid: contact.unionid.clone(),
    }
}

/// One rep's relation as WeCom reports it.
pub fn relation(follow: &FollowUser) -> Relation {
    Relation {
        userid: follow.userid.clone(),
        remark: follow.remark.clone().unwrap_or_default(),
        description: follow.description.clone().unwrap_or_default(),
        add_way: follow.add_way.map_or(0, i64::from),
        state: follow.state.clone().unwrap_or_default(),
        oper_userid: follow.oper_userid.clone(),
        added_at: follow.createtime.map(|secs| secs * 1000),
    }
}

/// The corp and rule-group tags of a relation (personal tags have no id and are not kept).
pub fn tags(follow: &FollowUser) -> Vec<RelationTag> {
    follow
        .tags
        .iter()
        .filter_map(|tag| {
            Some(RelationTag {
                tag_id: tag.tag_id.clone()?,
                group_name: tag.group_name.clone().unwrap_or_default(),
                name: tag.tag_name.clone().unwrap_or_default(),
                kind: tag.kind.map_or(1, i16::from),
            })
        })
        .collect()
}

/// Writes the customer, every relation WeCom reports and the tags on each. `event_at` (epoch
/// ms) is when the event being handled happened: a relation WeCom still reports is active unless
/// it was ended after that. Returns the customer's id.
pub async fn apply(
    db: &impl ConnectionTrait,
    tenant: &str,
    detail: &ExternalContactDetail,
    event_at: i64,
    now: i64,
) -> Result<i64, HandlerError> {
    let customer_id = store::upsert_customer(db, tenant, &profile(detail), now).await?;
    for follow in &detail.follow_user {
        let relation = relation(follow);
        let active = store::upsert_relation(db, customer_id, &relation, event_at, now).await?;
        if active {
            store::sync_relation_tags(db, customer_id, &follow.userid, &tags(follow), now).await?;
        }
    }
    Ok(customer_id)
}
