//! Channel QR codes (「联系我」): `externalcontact/add_contact_way` (wecom.md §5.9).

use serde::{Deserialize, Serialize};

use super::client::WecomClient;
use super::error::ApiError;

/// The body of `POST /cgi-bin/externalcontact/add_contact_way`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AddContactWay {
    /// 1 single member, 2 several members.
    #[serde(rename = "type")]
    pub kind: u8,
    /// 1 mini-program button, 2 QR code.
    pub scene: u8,
    /// Control style; scene 1 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<u32>,
    /// Our note, at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Accept customers without the member confirming; WeCom's default is `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_verify: Option<bool>,
    /// Our channel tag, at most 30 characters; comes back in callbacks and `follow_user.state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Userids; exactly one for type 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user: Vec<String>,
    /// Department ids; type 2 only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub party: Vec<u64>,
    /// Temporary-chat mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_temp: Option<bool>,
    /// Temporary mode: QR validity in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// Temporary mode: chat validity in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_expires_in: Option<u64>,
    /// Temporary mode: the customer's unionid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unionid: Option<String>,
    /// Temporary mode: closing message, as raw JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusions: Option<serde_json::Value>,
}

impl AddContactWay {
    /// A single-member QR code that tags new customers with `state`.
    pub fn qr_code(userid: impl Into<String>, state: impl Into<String>) -> Self {
        Self {
            kind: 1,
            scene: 2,
            state: Some(state.into()),
            user: vec![userid.into()],
            ..Self::default()
        }
    }
}

/// The answer of `add_contact_way`. Keep `config_id`: it is the only handle to the config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ContactWay {
    /// Handle for `update_contact_way`, `get_contact_way`, `del_contact_way`.
    pub config_id: String,
    /// QR image URL.
    pub qr_code: Option<String>,
}

impl WecomClient {
    /// `POST /cgi-bin/externalcontact/add_contact_way`.
    pub async fn add_contact_way(&self, request: &AddContactWay) -> Result<ContactWay, ApiError> {
        self.post("externalcontact/add_contact_way", request).await
    }
}
