//! Work notifications (工作通知, dingtalk.md §5.1): `topapi/message/corpconversation/asyncsend_v2`
//! with an action card or markdown, sent by the app to members' "工作通知" conversation.

use serde::{Deserialize, Serialize};

use super::client::DingtalkClient;
use super::error::ApiError;

const ASYNCSEND_V2: &str = "topapi/message/corpconversation/asyncsend_v2";

/// The request of `asyncsend_v2`. Set exactly one of the three recipient fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkNotification {
    /// The app's AgentId.
    pub agent_id: i64,
    /// Comma-separated userIds, at most 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid_list: Option<String>,
    /// Comma-separated department ids, at most 20, sub-departments included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept_id_list: Option<String>,
    /// Everyone in the organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_all_user: Option<bool>,
    /// The message, at most 2048 bytes.
    pub msg: WorkMessage,
}

impl WorkNotification {
    /// `msg` from app `agent_id` to the members `userids`.
    pub fn to_users<S: AsRef<str>>(agent_id: i64, userids: &[S], msg: WorkMessage) -> Self {
        let userids: Vec<&str> = userids.iter().map(AsRef::as_ref).collect();
        Self {
            agent_id,
            userid_list: Some(userids.join(",")),
            dept_id_list: None,
            to_all_user: None,
            msg,
        }
    }
}

/// A work notification's `msg`, tagged by `msgtype`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "snake_case")]
pub enum WorkMessage {
    /// `{"msgtype":"action_card","action_card":{...}}`.
    ActionCard {
        /// The card.
        action_card: ActionCard,
    },
    /// `{"msgtype":"markdown","markdown":{...}}`.
    Markdown {
        /// The markdown.
        markdown: Markdown,
    },
}

/// An action card: markdown with one whole-card link (`single_*`) or several buttons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionCard {
    /// Shown in the conversation list and the push notification.
    pub title: String,
    /// The markdown body; keep it under about 1000 characters.
    pub markdown: String,
    /// The single button's title (≤ 20 characters); set with `single_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_title: Option<String>,
    /// The single button's URL (≤ 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_url: Option<String>,
    /// `"0"` vertical, `"1"` horizontal; set with `btn_json_list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub btn_orientation: Option<String>,
    /// The buttons; each opens its URL and sends nothing to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub btn_json_list: Option<Vec<ActionCardButton>>,
}

impl ActionCard {
    /// A card whose one button opens `single_url`.
    pub fn single(
        title: impl Into<String>,
        markdown: impl Into<String>,
        single_title: impl Into<String>,
        single_url: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            markdown: markdown.into(),
            single_title: Some(single_title.into()),
            single_url: Some(single_url.into()),
            btn_orientation: None,
            btn_json_list: None,
        }
    }
}

/// One button of a several-button action card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCardButton {
    /// ≤ 20 characters.
    pub title: String,
    /// ≤ 700 characters.
    pub action_url: String,
}

/// A markdown message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Markdown {
    /// Shown in the conversation list.
    pub title: String,
    /// Markdown, at most 5000 characters.
    pub text: String,
}

/// The answer of `asyncsend_v2`: the task was accepted, not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkNotificationSent {
    /// The send task, for `getsendresult` and `recall`.
    pub task_id: i64,
    /// DingTalk's request id, for support.
    #[serde(default)]
    pub request_id: Option<String>,
}

impl DingtalkClient {
    /// Sends a work notification (dingtalk.md §5.1). Success means accepted: recipients over the
    /// daily limits silently get nothing.
    pub async fn send_work_notification(
        &self,
        notification: &WorkNotification,
    ) -> Result<WorkNotificationSent, ApiError> {
        self.call_oapi(ASYNCSEND_V2, notification).await
    }
}
