//! A rep's message as the chat commands see it, whichever platform it came from: a member's
//! text to the WeCom app (`wecom.text`) or a message to the DingTalk robot
//! (`dingtalk.robot_message`).

use salesbot_dingtalk::robot_callback::RobotMessage;
use salesbot_wecom::event::Event;

use crate::{
    pipeline::{HandlerError, InboxEvent},
    platform::{dingtalk, wecom},
};

/// Inbox kind of a member's text message to the WeCom app.
pub const WECOM_TEXT: &str = "wecom.text";
/// Inbox kind of a message to the DingTalk robot.
pub const DINGTALK_ROBOT_MESSAGE: &str = dingtalk::ROBOT_MESSAGE_KIND;

/// One message to the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// `wecom` or `dingtalk`: where the answer goes, and the platform of what it starts.
    pub platform: &'static str,
    pub tenant: String,
    /// The sender's user id.
    pub sender: String,
    /// The platform's id of the message, unique per app.
    pub msg_id: String,
    pub text: String,
}

impl Incoming {
    /// The message an inbox event holds; `None` when there is nobody to answer (a DingTalk
    /// sender outside the organisation has no user id) or nothing to read (a picture).
    pub fn from_event(event: &InboxEvent) -> Result<Option<Self>, HandlerError> {
        match event.kind.as_str() {
            WECOM_TEXT => {
                let (_, text) = wecom::stored_callback(event, "text", |event| match event {
                    Event::Text(text) => Some(text.clone()),
                    _ => None,
                })?;
                Ok(Some(Self {
                    platform: wecom::PLATFORM,
                    tenant: event.tenant.clone(),
                    sender: text.user_id,
                    msg_id: text.msg_id,
                    text: text.content,
                }))
            }
            DINGTALK_ROBOT_MESSAGE => {
                let message: RobotMessage = serde_json::from_str(&event.payload).map_err(|e| {
                    HandlerError::Permanent(format!("payload is not a DingTalk robot message: {e}"))
                })?;
                let Some(text) = message
                    .text
                    .filter(|_| matches!(message.msgtype.as_str(), "text" | ""))
                else {
                    tracing::debug!(msgtype = %message.msgtype, "robot message without text ignored");
                    return Ok(None);
                };
                if message.sender_staff_id.is_empty() {
                    tracing::info!("robot message from outside the organisation ignored");
                    return Ok(None);
                }
                Ok(Some(Self {
                    platform: dingtalk::PLATFORM,
                    tenant: event.tenant.clone(),
                    sender: message.sender_staff_id,
                    msg_id: message.msg_id,
                    text: text.content,
                }))
            }
            other => Err(HandlerError::Permanent(format!(
                "`{other}` is not a chat message kind"
            ))),
        }
    }
}
