//! WeCom customer contact (客户联系): the handlers that turn `change_external_contact` and
//! `change_external_tag` callbacks into customer profiles, tags, welcome messages and churn
//! alerts, and the outbox calls they cause.
//!
//! Every handler is safe to run twice and in any order with the others: WeCom delivers a
//! callback up to 4 times and sometimes out of order (an edit before the add, a delete before
//! the add). Profiles are re-read from WeCom rather than pieced together from events, relation
//! ends and starts are ordered by the events' own times, and each outbound call has an
//! idempotency key.

mod catalogue;
mod churn;
mod friend_add;
pub mod outbox;
mod profile;
mod tag_sync;

use std::sync::Arc;

use salesbot_wecom::{
    api::ApiError,
    event::{Callback, Event, ExternalContactChange},
};

use super::wecom::{WecomApp, WecomApps, stored_callback};
use crate::{
    cards::Templates,
    domain::rules::Rules,
    pipeline::{HandlerError, Handlers, InboxEvent},
};

/// What the customer-contact handlers share.
pub struct Contacts {
    pub apps: Arc<WecomApps>,
    pub templates: Arc<Templates>,
    pub rules: Arc<Rules>,
    /// The locale of welcome messages and alerts.
    pub locale: String,
    /// Where links point when an app has no `home_url`.
    pub public_base_url: String,
}

impl Contacts {
    fn app(&self, tenant: &str) -> Result<&WecomApp, HandlerError> {
        self.apps.get(tenant).map(|app| &**app).ok_or_else(|| {
            HandlerError::Permanent(format!("WeCom tenant `{tenant}` is not configured"))
        })
    }
}

/// Inbox kinds of the events handled here.
pub mod kinds {
    pub const ADD: &str = "wecom.change_external_contact.add_external_contact";
    pub const ADD_HALF: &str = "wecom.change_external_contact.add_half_external_contact";
    pub const EDIT: &str = "wecom.change_external_contact.edit_external_contact";
    pub const DEL_BY_REP: &str = "wecom.change_external_contact.del_external_contact";
    pub const DEL_BY_CUSTOMER: &str = "wecom.change_external_contact.del_follow_user";
    pub const TRANSFER_FAIL: &str = "wecom.change_external_contact.transfer_fail";
    pub const TAG_CHANGES: [&str; 4] = [
        "wecom.change_external_tag.create",
        "wecom.change_external_tag.update",
        "wecom.change_external_tag.delete",
        "wecom.change_external_tag.shuffle",
    ];
}

/// Registers the handlers, each unless one is registered for its kind already.
pub fn register(handlers: &mut Handlers, contacts: Arc<Contacts>) {
    let add = Arc::new(friend_add::FriendAdded(contacts.clone()));
    for kind in [kinds::ADD, kinds::ADD_HALF, kinds::EDIT] {
        handlers.register_default(kind, add.clone());
    }
    let churn = Arc::new(churn::RelationEnded(contacts.clone()));
    for kind in [
        kinds::DEL_BY_REP,
        kinds::DEL_BY_CUSTOMER,
        kinds::TRANSFER_FAIL,
    ] {
        handlers.register_default(kind, churn.clone());
    }
    let tags = Arc::new(tag_sync::TagsChanged(contacts));
    for kind in kinds::TAG_CHANGES {
        handlers.register_default(kind, tags.clone());
    }
}

/// The callback stored in the inbox, and its `change_external_contact` part.
fn contact_change(event: &InboxEvent) -> Result<(Callback, ExternalContactChange), HandlerError> {
    stored_callback(event, "change_external_contact", |event| match event {
        Event::ExternalContact(change) => Some(change.clone()),
        _ => None,
    })
}

/// What to do about a failed WeCom call in a handler: try the event again later when WeCom may
/// answer then, park it otherwise.
pub(super) fn api_error(err: ApiError) -> HandlerError {
    if err.retryable() {
        HandlerError::Transient(err.to_string())
    } else {
        HandlerError::Permanent(err.to_string())
    }
}
