//! `del_external_contact` (the rep removed the customer), `del_follow_user` (the customer
//! removed the rep) and `transfer_fail`: the relation ends at the time it ended, and the rep's
//! manager hears that a customer was lost.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{Contacts, contact_change, kinds};
use crate::{
    cards::{MessageKind, Notice, Recipient, message},
    domain::{
        customer::store::{self, ended_by},
        time::local_minute,
    },
    pipeline::{Effects, EventHandler, HandlerError, InboxEvent, Prepared},
    platform::wecom::PLATFORM,
};

/// `Source` of a `del_external_contact` caused by an in-service transfer.
const DELETE_BY_TRANSFER: &str = "DELETE_BY_TRANSFER";

/// Ends a relation and alerts the rep's manager.
pub struct RelationEnded(pub Arc<Contacts>);

/// The rep's manager and name, asked of WeCom before the transaction.
struct Fetched {
    manager: Option<String>,
    rep_name: String,
}

#[async_trait]
impl EventHandler for RelationEnded {
    async fn prepare(
        &self,
        _db: &DatabaseConnection,
        event: &InboxEvent,
        _now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        if event.kind == kinds::TRANSFER_FAIL {
            return Ok(None);
        }
        let (_, change) = contact_change(event)?;
        let app = self.0.app(&event.tenant)?;
        let rep = change.user_id.as_str();
        let user = match app.client.get_user(rep).await {
            Ok(user) => Some(user),
            Err(err) if err.retryable() => return Err(super::api_error(err)),
            Err(err) => {
                tracing::warn!(rep, error = %err, "cannot read the rep");
                None
            }
        };
        let manager = app.managers.get(rep).cloned().or_else(|| {
            user.as_ref()
                .and_then(|user| user.direct_leader.first().cloned())
        });
        let rep_name = user
            .and_then(|user| user.name)
            .unwrap_or_else(|| rep.to_owned());
        Ok(Some(Box::new(Fetched { manager, rep_name })))
    }

    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let contacts = &self.0;
        let (callback, change) = contact_change(event)?;
        let app = contacts.app(&event.tenant)?;
        let (db, now) = (effects.db(), effects.now());
        let event_at = callback.create_time * 1000;
        let customer_id =
            store::customer_id(db, &event.tenant, &change.external_user_id, now).await?;
        let rep = change.user_id.as_str();
        if event.kind == kinds::TRANSFER_FAIL {
            let detail = json!({ "rep": rep, "reason": change.fail_reason });
            store::record_event(
                db,
                customer_id,
                event_at,
                "transfer_fail",
                &detail,
                Some(effects.event_id()),
            )
            .await?;
            return Ok(());
        }
        let by = match (event.kind.as_str(), change.source.as_deref()) {
            (kinds::DEL_BY_CUSTOMER, _) => ended_by::CUSTOMER,
            (_, Some(DELETE_BY_TRANSFER)) => ended_by::TRANSFER,
            _ => ended_by::REP,
        };
        let was_active = store::end_relation(db, customer_id, rep, by, event_at, now).await?;
        let detail = json!({ "rep": rep, "by": by });
        store::record_event(
            db,
            customer_id,
            event_at,
            "ended",
            &detail,
            Some(effects.event_id()),
        )
        .await?;
        if by == ended_by::TRANSFER || !was_active {
            // A transfer is not a loss; an already ended relation was reported when it ended.
            return Ok(());
        }
        let Some(Fetched {
            manager: Some(manager),
            rep_name,
        }) = effects.prepared::<Fetched>()
        else {
            tracing::warn!(
                rep,
                "no manager known for the rep; customer-lost alert not sent"
            );
            return Ok(());
        };
        let summary = store::relation_summary(db, customer_id, rep).await?;
        let data = json!({
            "customer": {
                "name": summary.name,
                "company": summary.corp_name.unwrap_or_default(),
                "added_at": summary.added_at.map(local_minute).unwrap_or_default(),
                "tags": summary.tags,
            },
            "rep": { "name": rep_name },
            "lost": { "at": local_minute(event_at), "by": by },
            "links": { "customer": app.home_url.clone().unwrap_or_else(|| contacts.public_base_url.clone()) },
        });
        let card = contacts
            .templates
            .render(MessageKind::CustomerLostAlert, &contacts.locale, &data)
            .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        let notice = Notice {
            platform: PLATFORM.into(),
            tenant: event.tenant.clone(),
            kind: MessageKind::CustomerLostAlert,
            subject: format!("customer:{customer_id}:rep:{rep}"),
            // A customer can be won back and lost again: each loss is its own alert.
            version: u32::try_from(callback.create_time).unwrap_or(u32::MAX),
            card,
        };
        effects.note_sent();
        message::send(
            db,
            &notice,
            &[Recipient::User(manager.clone())],
            Some(effects.event_id()),
            now,
        )
        .await
        .map_err(|e| HandlerError::Permanent(e.to_string()))?;
        Ok(())
    }
}
