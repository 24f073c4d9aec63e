//! The app robot's messages (dingtalk.md §5.3.1): one-to-one to up to 20 users, or into a group
//! the robot belongs to. `msgParam` is a string holding JSON, chosen by `msgKey`.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::DingtalkClient;
use super::error::ApiError;

const OTO_BATCH_SEND: &str = "v1.0/robot/oToMessages/batchSend";
const GROUP_SEND: &str = "v1.0/robot/groupMessages/send";
/// Users per one-to-one call: the request table says 20, one error message 100; stay at 20.
pub const MAX_OTO_USERS: usize = 20;

/// A robot message's content, rendered to `msgKey` and `msgParam`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotMessage {
    /// `sampleText`.
    Text {
        /// The text.
        content: String,
    },
    /// `sampleMarkdown`.
    Markdown {
        /// Shown in the conversation list.
        title: String,
        /// Markdown.
        text: String,
    },
    /// `sampleActionCard`: markdown and one link button.
    ActionCard {
        /// Shown in the conversation list.
        title: String,
        /// Markdown.
        text: String,
        /// The button's title.
        single_title: String,
        /// The button's URL.
        single_url: String,
    },
}

impl RobotMessage {
    /// The `msgKey`.
    pub fn msg_key(&self) -> &'static str {
        match self {
            Self::Text { .. } => "sampleText",
            Self::Markdown { .. } => "sampleMarkdown",
            Self::ActionCard { .. } => "sampleActionCard",
        }
    }

    /// The `msgParam`: JSON text, not an object.
    pub fn msg_param(&self) -> String {
        let param = match self {
            Self::Text { content } => json!({ "content": content }),
            Self::Markdown { title, text } => json!({ "title": title, "text": text }),
            Self::ActionCard {
                title,
                text,
                single_title,
                single_url,
            } => json!({
                "title": title, "text": text, "singleTitle": single_title, "singleURL": single_url,
            }),
        };
        param.to_string()
    }
}

/// The request of `POST /v1.0/robot/oToMessages/batchSend`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OtoMessages {
    /// The robot; for an internal app its AppKey.
    pub robot_code: String,
    /// Up to [`MAX_OTO_USERS`] userIds.
    pub user_ids: Vec<String>,
    /// See [`RobotMessage::msg_key`].
    pub msg_key: String,
    /// See [`RobotMessage::msg_param`].
    pub msg_param: String,
}

impl OtoMessages {
    /// `message` from robot `robot_code` to `user_ids`.
    pub fn new(
        robot_code: impl Into<String>,
        user_ids: Vec<String>,
        message: &RobotMessage,
    ) -> Self {
        Self {
            robot_code: robot_code.into(),
            user_ids,
            msg_key: message.msg_key().to_owned(),
            msg_param: message.msg_param(),
        }
    }
}

/// The answer of `batchSend`: throttled or unknown users are listed here, not reported as an
/// error.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OtoMessagesSent {
    /// For read-status queries and recall.
    pub process_query_key: String,
    /// Users that do not exist.
    pub invalid_staff_id_list: Vec<String>,
    /// Users that were throttled.
    pub flow_controlled_staff_id_list: Vec<String>,
}

/// The request of `POST /v1.0/robot/groupMessages/send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupMessage {
    /// The robot; it must be a member of the group.
    pub robot_code: String,
    /// The group.
    pub open_conversation_id: String,
    /// See [`RobotMessage::msg_key`].
    pub msg_key: String,
    /// See [`RobotMessage::msg_param`]; at most 15000 bytes.
    pub msg_param: String,
    /// Set when the robot was installed through a group cool app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cool_app_code: Option<String>,
}

impl GroupMessage {
    /// `message` from robot `robot_code` into group `open_conversation_id`.
    pub fn new(
        robot_code: impl Into<String>,
        open_conversation_id: impl Into<String>,
        message: &RobotMessage,
    ) -> Self {
        Self {
            robot_code: robot_code.into(),
            open_conversation_id: open_conversation_id.into(),
            msg_key: message.msg_key().to_owned(),
            msg_param: message.msg_param(),
            cool_app_code: None,
        }
    }
}

/// The answer of `groupMessages/send`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GroupMessageSent {
    /// For read-status queries and recall.
    pub process_query_key: String,
}

impl DingtalkClient {
    /// Sends robot one-to-one messages (dingtalk.md §5.3.1); check the answer's lists.
    pub async fn send_robot_messages(
        &self,
        messages: &OtoMessages,
    ) -> Result<OtoMessagesSent, ApiError> {
        self.call_api(Method::POST, OTO_BATCH_SEND, messages).await
    }

    /// Sends a robot message into a group (dingtalk.md §5.3.1).
    pub async fn send_group_message(
        &self,
        message: &GroupMessage,
    ) -> Result<GroupMessageSent, ApiError> {
        self.call_api(Method::POST, GROUP_SEND, message).await
    }
}
