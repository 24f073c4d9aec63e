//! `add_external_contact`, `add_half_external_contact` and `edit_external_contact`: the
//! customer's profile from WeCom, the tagging rules applied to the new relation, and the
//! welcome message while its 20-second code lives.
//!
//! Everything WeCom is asked (the contact, the rep, tags the corp lacks) is asked in
//! `prepare`, before the event's transaction; `handle` only writes.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_wecom::{
    api::{Attachment, ExternalContactDetail, Link, MarkTag, User, WelcomeMessage},
    event::ExternalContactChange,
};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    Contacts, WecomApp, catalogue, contact_change, kinds,
    outbox::{self, WELCOME_CODE_LIFETIME_MS, Welcome},
    profile,
};
use crate::{
    cards::{Card, MessageKind},
    domain::{
        customer::store::{self, RelationTag, source},
        rules::{CustomerType, Gender, TaggingFacts},
        tag::CatalogueTag,
    },
    pipeline::{Effects, EventHandler, HandlerError, InboxEvent, Prepared},
};

/// Applies a friend-add (or an edit) of a customer.
pub struct FriendAdded(pub Arc<Contacts>);

/// What WeCom said, gathered before the transaction.
struct Fetched {
    /// `None`: WeCom no longer has the customer or the relation.
    detail: Option<ExternalContactDetail>,
    /// The tags the rules give the relation, resolved to the corp's tag ids, with the rules'
    /// names; empty for an edit.
    tags: Vec<(CatalogueTag, Vec<String>)>,
    /// The welcome message, when the event carries a code.
    welcome: Option<Card>,
}

#[async_trait]
impl EventHandler for FriendAdded {
    async fn prepare(
        &self,
        db: &DatabaseConnection,
        event: &InboxEvent,
        now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        let contacts = &self.0;
        let (_, change) = contact_change(event)?;
        let app = contacts.app(&event.tenant)?;
        let detail = profile::fetch(app, &change.external_user_id).await?;
        let mut fetched = Fetched {
            detail,
            tags: Vec::new(),
            welcome: None,
        };
        let Some(detail) = &fetched.detail else {
            return Ok(Some(Box::new(fetched)));
        };
        if event.kind == kinds::EDIT {
            return Ok(Some(Box::new(fetched)));
        }
        let rep = rep(app, &change.user_id).await?;
        let state = state(&change, detail);
        let add_way = follow(detail, &change.user_id).and_then(|f| f.add_way);
        let taggings = contacts
            .rules
            .tags_for(&facts(detail, &rep, &state, add_way));
        if !taggings.is_empty() {
            catalogue::ensure_loaded(db, &app.client, &event.tenant, now).await?;
        }
        for tagging in taggings {
            let tag = catalogue::resolve(
                db,
                &app.client,
                &event.tenant,
                tagging.tag.group(),
                tagging.tag.name(),
                now,
            )
            .await?;
            fetched.tags.push((tag, tagging.rules));
        }
        if change.welcome_code.is_some() {
            let data = welcome_data(contacts, app, detail, &rep);
            let card = contacts
                .templates
                .render(MessageKind::CustomerWelcome, &contacts.locale, &data)
                .map_err(|e| HandlerError::Permanent(e.to_string()))?;
            fetched.welcome = Some(card);
        }
        Ok(Some(Box::new(fetched)))
    }

    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let (callback, change) = contact_change(event)?;
        let fetched = effects
            .prepared::<Fetched>()
            .ok_or_else(|| HandlerError::Permanent("the contact was not fetched".into()))?;
        let tenant = event.tenant.as_str();
        let (db, now, inbox_id) = (effects.db(), effects.now(), Some(effects.event_id()));
        let event_at = callback.create_time * 1000;
        let Some(detail) = &fetched.detail else {
            // Deleted before this event was handled: nothing to tag and nobody to greet.
            let id = store::customer_id(db, tenant, &change.external_user_id, now).await?;
            let detail = json!({ "rep": change.user_id, "change": event.kind });
            store::record_event(db, id, event_at, "gone_before_handled", &detail, inbox_id).await?;
            return Ok(());
        };
        let customer_id = profile::apply(db, tenant, detail, event_at, now).await?;
        if event.kind == kinds::EDIT {
            let detail = json!({ "rep": change.user_id });
            store::record_event(db, customer_id, event_at, "edited", &detail, inbox_id).await?;
            return Ok(());
        }
        let added = json!({
            "rep": change.user_id,
            "state": state(&change, detail),
            "add_way": follow(detail, &change.user_id).and_then(|f| f.add_way),
            "half": event.kind == kinds::ADD_HALF,
        });
        store::record_event(db, customer_id, event_at, "added", &added, inbox_id).await?;
        let active = store::relation_state(db, customer_id, &change.user_id)
            .await?
            .is_some_and(|state| state.active);
        if !active {
            // The relation ended after this add happened (its delete was handled first): no
            // tags, no welcome.
            return Ok(());
        }
        tag(
            effects,
            tenant,
            customer_id,
            &change,
            &fetched.tags,
            event_at,
        )
        .await?;
        if let (Some(code), Some(card)) = (&change.welcome_code, &fetched.welcome) {
            let welcome = Welcome {
                request: welcome_request(code, card),
                expires_at: event_at + WELCOME_CODE_LIFETIME_MS,
            };
            effects
                .send(&outbox::welcome_message(tenant, &welcome))
                .await?;
        }
        Ok(())
    }
}

/// The rep's relation as WeCom reports it.
fn follow<'a>(
    detail: &'a ExternalContactDetail,
    rep: &str,
) -> Option<&'a salesbot_wecom::api::FollowUser> {
    detail
        .follow_user
        .iter()
        .find(|f| f.userid.eq_ignore_ascii_case(rep))
}

/// The channel code's state: from the event, else from the relation.
fn state(change: &ExternalContactChange, detail: &ExternalContactDetail) -> String {
    change
        .state
        .clone()
        .filter(|state| !state.is_empty())
        .or_else(|| follow(detail, &change.user_id).and_then(|f| f.state.clone()))
        .unwrap_or_default()
}

/// The rep as WeCom knows them; a rep the app cannot see is just their userid.
async fn rep(app: &WecomApp, userid: &str) -> Result<User, HandlerError> {
    match app.client.get_user(userid).await {
        Ok(user) => Ok(user),
        Err(err) if err.retryable() => Err(super::api_error(err)),
        Err(err) => {
            tracing::warn!(rep = userid, error = %err, "cannot read the rep; using the userid");
            Ok(User {
                userid: userid.into(),
                ..User::default()
            })
        }
    }
}

fn facts(
    detail: &ExternalContactDetail,
    rep: &User,
    state: &str,
    add_way: Option<u32>,
) -> TaggingFacts {
    let contact = &detail.external_contact;
    TaggingFacts {
        state: (!state.is_empty()).then(|| state.to_owned()),
        rep: rep.userid.clone(),
        rep_departments: rep.department.iter().map(u64::to_string).collect(),
        customer_type: match contact.kind {
            Some(1) => CustomerType::Wechat,
            Some(2) => CustomerType::Wecom,
            _ => CustomerType::Unknown,
        },
        name: contact.name.clone().unwrap_or_default(),
        corp_name: contact.corp_name.clone(),
        position: contact.position.clone(),
        add_way: add_way.map(i64::from),
        gender: match contact.gender {
            Some(1) => Gender::Male,
            Some(2) => Gender::Female,
            _ => Gender::Unknown,
        },
    }
}

/// Puts the rules' tags the relation lacks on it, and sends them to WeCom in one `mark_tag`.
async fn tag(
    effects: &Effects<'_>,
    tenant: &str,
    customer_id: i64,
    change: &ExternalContactChange,
    tags: &[(CatalogueTag, Vec<String>)],
    event_at: i64,
) -> Result<(), HandlerError> {
    if tags.is_empty() {
        return Ok(());
    }
    let (db, now) = (effects.db(), effects.now());
    let present = store::relation_tags(db, customer_id, &change.user_id).await?;
    let mut new_tags: Vec<RelationTag> = Vec::new();
    for (tag, _) in tags {
        if !present.contains(&tag.tag_id) && !new_tags.iter().any(|t| t.tag_id == tag.tag_id) {
            new_tags.push(RelationTag {
                tag_id: tag.tag_id.clone(),
                group_name: tag.group_name.clone(),
                name: tag.name.clone(),
                kind: 1,
            });
        }
    }
    if new_tags.is_empty() {
        return Ok(());
    }
    store::add_relation_tags(
        db,
        customer_id,
        &change.user_id,
        &new_tags,
        source::RULE,
        now,
    )
    .await?;
    let request = MarkTag {
        userid: change.user_id.clone(),
        external_userid: change.external_user_id.clone(),
        add_tag: new_tags.iter().map(|t| t.tag_id.clone()).collect(),
        remove_tag: Vec::new(),
    };
    effects
        .send(&outbox::mark_tag_message(tenant, &request))
        .await?;
    let applied: Vec<_> = tags
        .iter()
        .map(|(tag, rules)| {
            json!({ "tag": format!("{}/{}", tag.group_name, tag.name), "tag_id": tag.tag_id, "rules": rules })
        })
        .collect();
    let detail = json!({ "rep": change.user_id, "tags": applied });
    store::record_event(
        db,
        customer_id,
        event_at,
        "tagged",
        &detail,
        Some(effects.event_id()),
    )
    .await?;
    Ok(())
}

/// The variables of the customer_welcome template (see docs/templates.md).
fn welcome_data(
    contacts: &Contacts,
    app: &WecomApp,
    detail: &ExternalContactDetail,
    rep: &User,
) -> serde_json::Value {
    let home = app
        .home_url
        .clone()
        .unwrap_or_else(|| contacts.public_base_url.clone());
    json!({
        "customer": { "name": detail.external_contact.name.clone().unwrap_or_default() },
        "rep": {
            "name": rep.name.clone().unwrap_or_else(|| rep.userid.clone()),
            "title": rep.position.clone().unwrap_or_default(),
            "phone": "",
        },
        "company": { "name": app.company_name, "hotline": app.company_hotline },
        "links": { "home": home },
    })
}

/// A welcome message is plain text to a WeChat user: the card's lines, and its link as a link
/// attachment.
fn welcome_request(code: &str, card: &Card) -> WelcomeMessage {
    let mut lines = vec![card.title.clone()];
    lines.extend(card.description.clone());
    lines.extend(
        card.rows
            .iter()
            .map(|row| format!("{}：{}", row.key, row.value)),
    );
    lines.extend(card.quote.clone());
    let mut request = WelcomeMessage::text(code, lines.join("\n"));
    if let Some(url) = &card.link {
        request.attachments.push(Attachment::Link {
            link: Link {
                title: card.source.clone().unwrap_or_else(|| card.title.clone()),
                picurl: None,
                desc: card.description.clone(),
                url: url.clone(),
            },
        });
    }
    request
}
