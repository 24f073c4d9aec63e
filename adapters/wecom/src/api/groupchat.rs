//! Customer groups (客户群): `externalcontact/groupchat/get` (wecom.md §5.10).

use serde::{Deserialize, Serialize};

use super::client::WecomClient;
use super::error::ApiError;
use super::serde_util::int_bool;

#[derive(Serialize)]
struct GetGroupChat<'a> {
    chat_id: &'a str,
    #[serde(with = "int_bool")]
    need_name: bool,
}

#[derive(Deserialize)]
struct GroupChatAnswer {
    group_chat: GroupChat,
}

/// `group_chat`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupChat {
    /// Group id (`wr…`).
    pub chat_id: String,
    /// Group name.
    pub name: Option<String>,
    /// Owner's userid.
    pub owner: Option<String>,
    /// Unix seconds.
    pub create_time: Option<i64>,
    /// Group notice.
    pub notice: Option<String>,
    /// Members and customers in the group.
    #[serde(default)]
    pub member_list: Vec<GroupChatMember>,
    /// Group admins.
    #[serde(default)]
    pub admin_list: Vec<GroupChatAdmin>,
    /// Pairs with `LastMemVer`/`CurMemVer` of the change callback.
    pub member_version: Option<String>,
}

/// One `member_list` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupChatMember {
    /// A member's userid or a customer's external_userid.
    pub userid: String,
    /// 1 member, 2 customer.
    #[serde(rename = "type")]
    pub kind: Option<u8>,
    /// WeChat users only, when a developer id is bound.
    pub unionid: Option<String>,
    /// Unix seconds.
    pub join_time: Option<i64>,
    /// 1 direct invite, 2 invite link, 3 QR code.
    pub join_scene: Option<u8>,
    /// Who invited them; may be absent.
    pub invitor: Option<GroupChatInvitor>,
    /// Nickname in the group.
    pub group_nickname: Option<String>,
    /// Name; only with `need_name`.
    pub name: Option<String>,
}

/// `invitor`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupChatInvitor {
    /// The inviting member.
    pub userid: String,
}

/// One `admin_list` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GroupChatAdmin {
    /// The admin's userid.
    pub userid: String,
}

impl WecomClient {
    /// `POST /cgi-bin/externalcontact/groupchat/get`; `need_name` adds member names.
    pub async fn get_group_chat(
        &self,
        chat_id: &str,
        need_name: bool,
    ) -> Result<GroupChat, ApiError> {
        let request = GetGroupChat { chat_id, need_name };
        let answer: GroupChatAnswer = self.post("externalcontact/groupchat/get", &request).await?;
        Ok(answer.group_chat)
    }
}
