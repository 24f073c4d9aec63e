//! Member and department look-ups for escalation (dingtalk.md §7): `topapi/v2/user/get` for a
//! member's manager and departments, `topapi/v2/department/get` for a department's managers.

use serde::{Deserialize, Serialize};

use super::client::DingtalkClient;
use super::error::ApiError;
use super::serde_util::{lenient_number, number_list};

const USER_GET: &str = "topapi/v2/user/get";
const DEPARTMENT_GET: &str = "topapi/v2/department/get";

/// The `result` of `topapi/v2/user/get`. Fields the app has no permission for are absent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct User {
    /// The member's userId.
    pub userid: String,
    /// The same person across organisations of one developer.
    pub unionid: Option<String>,
    /// Display name.
    pub name: String,
    /// Job title.
    pub title: Option<String>,
    /// Employee number.
    pub job_number: Option<String>,
    /// The direct manager's userId; absent when none is set.
    pub manager_userid: Option<String>,
    /// The member's departments; none of them is marked as the main one.
    #[serde(deserialize_with = "number_list")]
    pub dept_id_list: Vec<i64>,
    /// Whether the member leads each department.
    pub leader_in_dept: Vec<LeaderInDept>,
    /// Whether the member is active.
    pub active: Option<bool>,
    /// Whether the member is an administrator.
    pub admin: Option<bool>,
    /// Whether the member is the boss.
    pub boss: Option<bool>,
}

/// One entry of `leader_in_dept`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct LeaderInDept {
    /// The department.
    #[serde(deserialize_with = "lenient_number")]
    pub dept_id: Option<i64>,
    /// Whether the member leads it.
    pub leader: bool,
}

/// The `result` of `topapi/v2/department/get`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Department {
    /// The department's id.
    pub dept_id: i64,
    /// Its name.
    pub name: String,
    /// The parent department; the root is 1 and has none.
    #[serde(deserialize_with = "lenient_number")]
    pub parent_id: Option<i64>,
    /// The department's managers.
    pub dept_manager_userid_list: Vec<String>,
}

/// The `{"errcode":0,"result":{...}}` envelope of `topapi/v2` answers.
#[derive(Deserialize)]
struct Envelope<T> {
    result: T,
}

impl DingtalkClient {
    /// The member `userid`, with manager and departments (dingtalk.md §7). Unknown members are
    /// errcode 60121.
    pub async fn get_user(&self, userid: &str) -> Result<User, ApiError> {
        #[derive(Serialize)]
        struct Request<'a> {
            userid: &'a str,
            language: &'a str,
        }
        let request = Request {
            userid,
            language: "zh_CN",
        };
        let answer: Envelope<User> = self.call_oapi(USER_GET, &request).await?;
        Ok(answer.result)
    }

    /// The department `dept_id`, with its managers and parent (dingtalk.md §7).
    pub async fn get_department(&self, dept_id: i64) -> Result<Department, ApiError> {
        #[derive(Serialize)]
        struct Request {
            dept_id: i64,
        }
        let answer: Envelope<Department> =
            self.call_oapi(DEPARTMENT_GET, &Request { dept_id }).await?;
        Ok(answer.result)
    }
}
