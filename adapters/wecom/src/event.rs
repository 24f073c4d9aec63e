//! Decrypted callbacks as typed events: customer-contact, customer-group and tag changes,
//! template-card taps, members' text messages and `enter_agent`. Anything else is kept as
//! [`Event::Other`] with its `MsgType`/`Event` rather than rejected.
//!
//! Parsing reads the document in one pass into a flat struct of every element we know (unknown
//! elements are skipped, absent ones are `None`), then maps that per event type.

mod dedupe;
mod raw;

use serde::{Deserialize, Serialize};

use crate::xml::XmlError;
use raw::Raw;

/// A parsed callback: the common header and the typed event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Callback {
    /// The corp id (or suite id) the callback is for.
    pub to_user_name: String,
    /// `sys` for customer-contact events; the member's userid for messages and card taps.
    pub from_user_name: String,
    /// Unix seconds.
    pub create_time: i64,
    pub msg_type: String,
    /// The `Event` element, for `MsgType = event`.
    pub event_name: Option<String>,
    pub agent_id: Option<String>,
    pub event: Event,
    /// The natural key of this callback: identical for WeCom's retries of it, different for
    /// any other callback (see [`Callback::dedupe_key`]).
    pub dedupe_key: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// `change_external_contact`: a customer relationship changed.
    ExternalContact(ExternalContactChange),
    /// `change_external_chat`: a customer group changed.
    ExternalChat(ExternalChatChange),
    /// `change_external_tag`: a corp customer tag or tag group changed.
    ExternalTag(ExternalTagChange),
    /// `template_card_event`: a button of a template card was tapped.
    TemplateCard(CardTap),
    /// `template_card_menu_event`: an entry of a card's action menu was tapped.
    TemplateCardMenu(CardTap),
    /// A member wrote to the app.
    Text(TextMessage),
    /// `enter_agent`: a member opened the app.
    EnterAgent { event_key: Option<String> },
    /// A message or event not modelled here, kept with its type names.
    Other {
        msg_type: String,
        event: Option<String>,
    },
}

/// `change_external_contact` (wecom.md §3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalContactChange {
    /// `add_external_contact`, `edit_external_contact`, `add_half_external_contact`,
    /// `del_external_contact`, `del_follow_user`, `transfer_fail`, or another value kept as is.
    pub change_type: String,
    pub user_id: String,
    pub external_user_id: String,
    /// The channel QR code's `state`, when the customer came through one.
    pub state: Option<String>,
    /// One-shot credential for `send_welcome_msg`, valid 20 seconds.
    pub welcome_code: Option<String>,
    /// `DELETE_BY_TRANSFER` on `del_external_contact` after an in-service transfer.
    pub source: Option<String>,
    /// `customer_refused` or `customer_limit_exceed` on `transfer_fail`.
    pub fail_reason: Option<String>,
}

/// `change_external_chat` (wecom.md §3.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalChatChange {
    /// `create`, `update` or `dismiss`.
    pub change_type: String,
    pub chat_id: String,
    /// On `update`: `add_member`, `del_member`, `change_owner`, `change_name`, `change_notice`.
    pub update_detail: Option<String>,
    /// On `add_member`: 0 invited by a member, 3 scanned the group QR code.
    pub join_scene: Option<i64>,
    /// On `del_member`: 0 left, 1 removed.
    pub quit_scene: Option<i64>,
    pub mem_change_cnt: Option<i64>,
    /// Ids that joined or left (members' userids or customers' external userids).
    pub mem_change_list: Vec<String>,
    pub last_mem_ver: Option<String>,
    pub cur_mem_ver: Option<String>,
}

/// `change_external_tag` (wecom.md §3.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalTagChange {
    /// `create`, `update`, `delete` or `shuffle`.
    pub change_type: String,
    /// Tag or tag-group id; for `shuffle` the group (empty: all groups).
    pub id: String,
    /// `tag` or `tag_group`.
    pub tag_type: Option<String>,
    pub strategy_id: Option<String>,
}

/// A tap on a template card (wecom.md §4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTap {
    /// The member who tapped (the header's `FromUserName`).
    pub user_id: String,
    /// The tapped button's or menu entry's key.
    pub event_key: String,
    /// The card's `task_id`.
    pub task_id: String,
    pub card_type: Option<String>,
    /// Single-use code for `update_template_card`, valid 72 hours.
    pub response_code: Option<String>,
    pub selected_items: Vec<SelectedItem>,
}

/// A choice made on a card with questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectedItem {
    pub question_key: String,
    pub option_ids: Vec<String>,
}

/// A text message from a member to the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextMessage {
    pub user_id: String,
    pub content: String,
    pub msg_id: String,
}

/// Why a decrypted callback could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("required element <{0}> is missing or empty")]
    Missing(&'static str),
    #[error("element <{0}> is not a number")]
    NotANumber(&'static str),
}

impl Callback {
    /// Parses the decrypted XML of a callback.
    pub fn parse(xml: &str) -> Result<Self, EventError> {
        let raw = Raw::parse(xml)?;
        let event = raw.event()?;
        Ok(Self {
            to_user_name: raw.required(&raw.to_user_name, "ToUserName")?,
            from_user_name: raw.required(&raw.from_user_name, "FromUserName")?,
            create_time: raw::number(&raw.create_time, "CreateTime")?
                .ok_or(EventError::Missing("CreateTime"))?,
            msg_type: raw.required(&raw.msg_type, "MsgType")?,
            event_name: raw::text(&raw.event),
            agent_id: raw::text(&raw.agent_id),
            dedupe_key: dedupe::key(&raw),
            event,
        })
    }

    /// A short name of the event for routing: `wecom.<event or msg type>[.<change type>]`,
    /// e.g. `wecom.change_external_contact.add_external_contact`, `wecom.text`.
    pub fn kind(&self) -> String {
        let base = self.event_name.as_deref().unwrap_or(&self.msg_type);
        match &self.event {
            Event::ExternalContact(c) => format!("wecom.{base}.{}", c.change_type),
            Event::ExternalChat(c) => format!("wecom.{base}.{}", c.change_type),
            Event::ExternalTag(c) => format!("wecom.{base}.{}", c.change_type),
            _ => format!("wecom.{base}"),
        }
    }

    /// True for events whose handling is urgent: a welcome code expires 20 seconds after the
    /// friend-add, and a member who tapped a card is waiting for it to change.
    pub fn is_urgent(&self) -> bool {
        match &self.event {
            Event::ExternalContact(c) => c.welcome_code.is_some(),
            Event::TemplateCard(_) | Event::TemplateCardMenu(_) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
