//! Members: `user/get` (wecom.md §5.12), used to find a member's manager for escalation.

use serde::Deserialize;

use super::client::WecomClient;
use super::error::ApiError;

/// The answer of `user/get`. Apps created since 2022-06-20 get no avatar, gender, mobile or
/// email here; `name`, `department` and `direct_leader` are still returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct User {
    /// The member.
    pub userid: String,
    /// Display name.
    pub name: Option<String>,
    /// Departments the app may see.
    #[serde(default)]
    pub department: Vec<u64>,
    /// Sort order within each department.
    #[serde(default)]
    pub order: Vec<i64>,
    /// Primary department.
    pub main_department: Option<u64>,
    /// Per `department` entry, 1 if the member leads it.
    #[serde(default)]
    pub is_leader_in_dept: Vec<u8>,
    /// Direct managers within the app's visibility; possibly empty. Use the first.
    #[serde(default)]
    pub direct_leader: Vec<String>,
    /// Job title.
    pub position: Option<String>,
    /// 1 active, 2 disabled, 4 not activated, 5 left the company.
    pub status: Option<u8>,
    /// Alias.
    pub alias: Option<String>,
    /// Corp-independent id.
    pub open_userid: Option<String>,
}

impl WecomClient {
    /// `GET /cgi-bin/user/get`. 60011/60111 when the app cannot see the member.
    pub async fn get_user(&self, userid: &str) -> Result<User, ApiError> {
        self.get("user/get", &[("userid", userid)]).await
    }
}
