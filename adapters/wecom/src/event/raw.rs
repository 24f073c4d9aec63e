//! Every element a callback may carry, as optional text, straight from the XML. The typed
//! events are built from this, so a missing optional field never fails a parse.

use serde::Deserialize;

use super::{
    CardTap, Event, EventError, ExternalChatChange, ExternalContactChange, ExternalTagChange,
    SelectedItem, TextMessage,
};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Raw {
    pub to_user_name: Option<String>,
    pub from_user_name: Option<String>,
    pub create_time: Option<String>,
    pub msg_type: Option<String>,
    pub event: Option<String>,
    #[serde(rename = "AgentID")]
    pub agent_id: Option<String>,
    pub change_type: Option<String>,
    #[serde(rename = "UserID")]
    pub user_id: Option<String>,
    #[serde(rename = "ExternalUserID")]
    pub external_user_id: Option<String>,
    pub state: Option<String>,
    pub welcome_code: Option<String>,
    pub source: Option<String>,
    pub fail_reason: Option<String>,
    pub chat_id: Option<String>,
    pub update_detail: Option<String>,
    pub join_scene: Option<String>,
    pub quit_scene: Option<String>,
    pub mem_change_cnt: Option<String>,
    pub mem_change_list: Option<MemChangeList>,
    pub last_mem_ver: Option<String>,
    pub cur_mem_ver: Option<String>,
    pub id: Option<String>,
    pub tag_type: Option<String>,
    pub strategy_id: Option<String>,
    pub event_key: Option<String>,
    pub task_id: Option<String>,
    pub card_type: Option<String>,
    pub response_code: Option<String>,
    pub selected_items: Option<SelectedItems>,
    pub content: Option<String>,
    pub msg_id: Option<String>,
}

/// `<MemChangeList><Item>a</Item>...</MemChangeList>`, or a comma-separated text form.
#[derive(Debug, Default, Deserialize)]
pub(super) struct MemChangeList {
    #[serde(rename = "Item", default)]
    items: Vec<String>,
    #[serde(rename = "$text", default)]
    text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SelectedItems {
    #[serde(rename = "SelectedItem", default)]
    items: Vec<RawSelectedItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawSelectedItem {
    question_key: Option<String>,
    option_ids: Option<OptionIds>,
}

#[derive(Debug, Default, Deserialize)]
struct OptionIds {
    #[serde(rename = "OptionId", default)]
    ids: Vec<String>,
}

/// Trimmed text, `None` when absent or empty.
pub(super) fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

/// An integer element, `None` when absent or empty.
pub(super) fn number(
    value: &Option<String>,
    name: &'static str,
) -> Result<Option<i64>, EventError> {
    text(value)
        .map(|v| v.parse().map_err(|_| EventError::NotANumber(name)))
        .transpose()
}

impl MemChangeList {
    pub(super) fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.items.iter().map(|i| i.trim().to_string()).collect();
        if let Some(text) = &self.text {
            ids.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
        }
        ids.retain(|id| !id.is_empty());
        ids
    }
}

impl Raw {
    pub(super) fn required(
        &self,
        value: &Option<String>,
        name: &'static str,
    ) -> Result<String, EventError> {
        text(value).ok_or(EventError::Missing(name))
    }

    /// Maps the flat elements onto the typed event for this MsgType/Event.
    pub(super) fn event(&self) -> Result<Event, EventError> {
        let msg_type = self.required(&self.msg_type, "MsgType")?;
        let event = text(&self.event);
        Ok(match (msg_type.as_str(), event.as_deref()) {
            ("event", Some("change_external_contact")) => {
                Event::ExternalContact(ExternalContactChange {
                    change_type: self.required(&self.change_type, "ChangeType")?,
                    user_id: self.required(&self.user_id, "UserID")?,
                    external_user_id: self.required(&self.external_user_id, "ExternalUserID")?,
                    state: text(&self.state),
                    welcome_code: text(&self.welcome_code),
                    source: text(&self.source),
                    fail_reason: text(&self.fail_reason),
                })
            }
            ("event", Some("change_external_chat")) => Event::ExternalChat(ExternalChatChange {
                change_type: self.required(&self.change_type, "ChangeType")?,
                chat_id: self.required(&self.chat_id, "ChatId")?,
                update_detail: text(&self.update_detail),
                join_scene: number(&self.join_scene, "JoinScene")?,
                quit_scene: number(&self.quit_scene, "QuitScene")?,
                mem_change_cnt: number(&self.mem_change_cnt, "MemChangeCnt")?,
                mem_change_list: self
                    .mem_change_list
                    .as_ref()
                    .map(MemChangeList::ids)
                    .unwrap_or_default(),
                last_mem_ver: text(&self.last_mem_ver),
                cur_mem_ver: text(&self.cur_mem_ver),
            }),
            ("event", Some("change_external_tag")) => Event::ExternalTag(ExternalTagChange {
                change_type: self.required(&self.change_type, "ChangeType")?,
                // Empty on a shuffle of all groups.
                id: text(&self.id).unwrap_or_default(),
                tag_type: text(&self.tag_type),
                strategy_id: text(&self.strategy_id),
            }),
            ("event", Some(name @ ("template_card_event" | "template_card_menu_event"))) => {
                let tap = self.card_tap()?;
                if name == "template_card_event" {
                    Event::TemplateCard(tap)
                } else {
                    Event::TemplateCardMenu(tap)
                }
            }
            ("event", Some("enter_agent")) => Event::EnterAgent {
                event_key: text(&self.event_key),
            },
            ("text", _) => Event::Text(TextMessage {
                user_id: self.required(&self.from_user_name, "FromUserName")?,
                // A message may be only whitespace; keep it as sent.
                content: self.content.clone().unwrap_or_default(),
                msg_id: self.required(&self.msg_id, "MsgId")?,
            }),
            _ => Event::Other { msg_type, event },
        })
    }

    fn card_tap(&self) -> Result<CardTap, EventError> {
        let selected_items = self
            .selected_items
            .iter()
            .flat_map(|s| &s.items)
            .map(|item| SelectedItem {
                question_key: text(&item.question_key).unwrap_or_default(),
                option_ids: item
                    .option_ids
                    .as_ref()
                    .map(|o| o.ids.iter().map(|i| i.trim().to_string()).collect())
                    .unwrap_or_default(),
            })
            .collect();
        Ok(CardTap {
            user_id: self.required(&self.from_user_name, "FromUserName")?,
            event_key: self.required(&self.event_key, "EventKey")?,
            task_id: self.required(&self.task_id, "TaskId")?,
            card_type: text(&self.card_type),
            response_code: text(&self.response_code),
            selected_items,
        })
    }
}
