//! Customers (客户): `externalcontact/get` (wecom.md §5.4) and `externalcontact/mark_tag` (§5.6).

use serde::{Deserialize, Serialize, de::IgnoredAny};

use super::client::WecomClient;
use super::error::ApiError;

/// The answer of `externalcontact/get`: the customer and every member who has them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExternalContactDetail {
    /// The customer.
    pub external_contact: ExternalContact,
    /// One entry per member who added the customer.
    #[serde(default)]
    pub follow_user: Vec<FollowUser>,
    /// Set when the customer has more than 500 follow members; pass it as `cursor`.
    pub next_cursor: Option<String>,
}

/// `external_contact`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ExternalContact {
    /// The customer id (`wm…`).
    pub external_userid: String,
    /// WeChat nickname, or the best display name for a WeCom user.
    pub name: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// 1 WeChat user, 2 WeCom user of another corp.
    #[serde(rename = "type")]
    pub kind: Option<u8>,
    /// 0 unknown, 1 male, 2 female.
    pub gender: Option<u8>,
    /// Only for WeChat users when the corp has bound a developer id.
    pub unionid: Option<String>,
    /// Job title; WeCom users only.
    pub position: Option<String>,
    /// Company short name; WeCom users only.
    pub corp_name: Option<String>,
    /// Company full name; WeCom users only.
    pub corp_full_name: Option<String>,
    /// Profile fields; WeCom users only. Kept as raw JSON.
    pub external_profile: Option<serde_json::Value>,
}

/// One `follow_user` entry: a member's relationship with the customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FollowUser {
    /// The member.
    pub userid: String,
    /// The member's remark for the customer.
    pub remark: Option<String>,
    /// The member's description of the customer.
    pub description: Option<String>,
    /// When the member added the customer, unix seconds.
    pub createtime: Option<i64>,
    /// Tags this member put on the customer.
    #[serde(default)]
    pub tags: Vec<FollowTag>,
    /// Remarked company.
    pub remark_corp_name: Option<String>,
    /// Remarked phone numbers.
    #[serde(default)]
    pub remark_mobiles: Vec<String>,
    /// Who initiated the add.
    pub oper_userid: Option<String>,
    /// How the customer was added (1 QR code, 2 phone search, …); unknown numbers mean "other".
    pub add_way: Option<u32>,
    /// The 「联系我」 `state` the relationship came from.
    pub state: Option<String>,
    /// Set when added through WeChat Channels.
    pub wechat_channels: Option<WechatChannels>,
}

/// A tag on a follow relationship: `type` 1 corp tag, 2 personal (no id), 3 rule-group tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FollowTag {
    /// Group name.
    pub group_name: Option<String>,
    /// Tag name.
    pub tag_name: Option<String>,
    /// Tag id; absent for personal tags.
    pub tag_id: Option<String>,
    /// 1 corp, 2 personal, 3 rule group.
    #[serde(rename = "type")]
    pub kind: Option<u8>,
}

/// `wechat_channels` of a follow relationship.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct WechatChannels {
    /// Channel nickname.
    pub nickname: Option<String>,
    /// Where in the channel the customer came from.
    pub source: Option<u32>,
}

/// The body of `POST /cgi-bin/externalcontact/mark_tag`: tags per (member, customer).
/// `add_tag` and `remove_tag` cannot both be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkTag {
    /// The member whose customer this is.
    pub userid: String,
    /// The customer.
    pub external_userid: String,
    /// Corp tag ids to add.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tag: Vec<String>,
    /// Corp tag ids to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tag: Vec<String>,
}

impl WecomClient {
    /// `GET /cgi-bin/externalcontact/get`; `cursor` only past 500 follow members.
    pub async fn get_external_contact(
        &self,
        external_userid: &str,
        cursor: Option<&str>,
    ) -> Result<ExternalContactDetail, ApiError> {
        let mut query = vec![("external_userid", external_userid)];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        self.get("externalcontact/get", &query).await
    }

    /// `POST /cgi-bin/externalcontact/mark_tag`. Raises no callback.
    pub async fn mark_tag(&self, request: &MarkTag) -> Result<(), ApiError> {
        let _: IgnoredAny = self.post("externalcontact/mark_tag", request).await?;
        Ok(())
    }
}
