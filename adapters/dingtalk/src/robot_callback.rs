//! Messages to the app's robot (dingtalk.md §5.4): a user @-mentions the robot in a group or
//! writes to it one-to-one; DingTalk posts the message with `timestamp` and `sign` headers,
//! `sign` = Base64(HMAC-SHA256(AppSecret, timestamp + "\n" + AppSecret)).

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::api::webhook_sign;

/// Longest accepted distance between the `timestamp` header and now: one hour, as documented.
pub const MAX_AGE_MS: i64 = 3_600_000;

/// Why a robot callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RobotCallbackError {
    #[error("robot callback sign does not match")]
    BadSign,
    #[error("robot callback timestamp is missing, malformed or more than an hour away")]
    Stale,
    #[error("robot callback body is malformed: {0}")]
    Malformed(String),
}

/// Checks the `timestamp` and `sign` headers against the app secret, in constant time.
pub fn verify(
    app_secret: &str,
    timestamp: Option<&str>,
    sign: Option<&str>,
    now_ms: i64,
) -> Result<(), RobotCallbackError> {
    let sent: i64 = timestamp
        .and_then(|t| t.trim().parse().ok())
        .ok_or(RobotCallbackError::Stale)?;
    if (now_ms - sent).abs() > MAX_AGE_MS {
        return Err(RobotCallbackError::Stale);
    }
    let expected = webhook_sign(app_secret, sent);
    let given = sign.ok_or(RobotCallbackError::BadSign)?;
    if bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes())) {
        Ok(())
    } else {
        Err(RobotCallbackError::BadSign)
    }
}

/// A message to the robot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotMessage {
    pub msg_id: String,
    #[serde(default)]
    pub msgtype: String,
    /// The text after the mention, trimmed (for `msgtype` = `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    #[serde(default)]
    pub conversation_id: String,
    /// `"1"` one-to-one, `"2"` group.
    #[serde(default)]
    pub conversation_type: String,
    /// The sender's userId (empty for outsiders in external groups).
    #[serde(default)]
    pub sender_staff_id: String,
    #[serde(default)]
    pub sender_nick: String,
    #[serde(default)]
    pub create_at: Option<i64>,
    /// Where to answer in the same conversation, until `session_webhook_expired_time`.
    #[serde(default)]
    pub session_webhook: Option<String>,
    #[serde(default)]
    pub session_webhook_expired_time: Option<i64>,
}

/// `text: {content}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub content: String,
}

impl RobotMessage {
    /// Parses the body; the text keeps only what follows the mention, trimmed.
    pub fn parse(body: &[u8]) -> Result<Self, RobotCallbackError> {
        let mut message: Self = serde_json::from_slice(body)
            .map_err(|e| RobotCallbackError::Malformed(e.to_string()))?;
        if message.msg_id.is_empty() {
            return Err(RobotCallbackError::Malformed(
                "msgId must not be empty".into(),
            ));
        }
        if let Some(text) = &mut message.text {
            text.content = text.content.trim().to_string();
        }
        Ok(message)
    }

    /// The natural key: `msgId` (dingtalk.md §3.5).
    pub fn dedupe_key(&self) -> String {
        crate::event::truncated(format!("msg:{}", self.msg_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sign_example_verifies_within_an_hour() {
        let sign = "QQveb0MPjHduO/8ERvvyZcKq+uaoHFo9JsJeGW07/XU=";
        assert_eq!(webhook_sign("exampleAppSecret", 1_700_000_000_000), sign);
        assert_eq!(
            verify(
                "exampleAppSecret",
                Some("1700000000000"),
                Some(sign),
                1_700_000_100_000
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                "exampleAppSecret",
                Some("1700000000000"),
                Some(sign),
                1_700_003_600_001
            ),
            Err(RobotCallbackError::Stale)
        );
        assert_eq!(
            verify(
                "otherSecret",
                Some("1700000000000"),
                Some(sign),
                1_700_000_100_000
            ),
            Err(RobotCallbackError::BadSign)
        );
        assert_eq!(
            verify("exampleAppSecret", None, Some(sign), 0),
            Err(RobotCallbackError::Stale)
        );
        assert_eq!(
            verify(
                "exampleAppSecret",
                Some("1700000000000"),
                None,
                1_700_000_000_000
            ),
            Err(RobotCallbackError::BadSign)
        );
    }

    #[test]
    fn the_documented_message_parses_with_trimmed_text() {
        let body = r#"{"msgtype":"text","text":{"content":" status ACME"},"msgId":"msgAbCdEf==","createAt":1717000000000,
            "conversationType":"2","conversationId":"cidAbCdEf==","conversationTitle":"East sales team","senderId":"$:LWCP_v1:$abcdef",
            "senderNick":"Zhang San","senderStaffId":"rep001","robotCode":"dingabcdefgh12345678","isInAtList":true,
            "sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=0123abcd","sessionWebhookExpiredTime":1717005400000}"#;
        let m = RobotMessage::parse(body.as_bytes()).unwrap();
        assert_eq!(m.text.as_ref().unwrap().content, "status ACME");
        assert_eq!(
            (m.sender_staff_id.as_str(), m.conversation_type.as_str()),
            ("rep001", "2")
        );
        assert_eq!(m.dedupe_key(), "msg:msgAbCdEf==");
        for bad in ["", "{}", r#"{"msgId":""}"#, "[1]"] {
            assert!(RobotMessage::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
