//! The endpoints' rules and answers: the token endpoint, work notifications, cards, robot
//! messages, the custom robot webhook and the member and department look-ups.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use super::FakeDingtalk;
use super::records::{CardRecord, RobotMessageRecord, WebhookPost, WorkNotificationRecord};
use super::server::{Outcome, Reply};
use super::state::{State, TOKEN_LIFETIME, now_ms, random_id, str_field, string_map};
use crate::api::{MAX_OTO_USERS, webhook_sign};

/// DingTalk rejects webhook timestamps more than an hour from its clock (dingtalk.md §5.3.2).
const WEBHOOK_WINDOW_MS: i64 = 60 * 60 * 1000;
/// The `msgKey`s the fake accepts (dingtalk.md §5.3.1).
const MSG_KEYS: &[&str] = &[
    "sampleText",
    "sampleMarkdown",
    "sampleImageMsg",
    "sampleLink",
    "sampleActionCard",
    "sampleActionCard2",
    "sampleActionCard3",
    "sampleActionCard4",
    "sampleActionCard5",
    "sampleActionCard6",
];
/// Work notification `msgtype`s (dingtalk.md §5.1).
const WORK_MSGTYPES: &[&str] = &[
    "text",
    "image",
    "voice",
    "file",
    "link",
    "oa",
    "markdown",
    "action_card",
];

fn bad_param(code: &str) -> Reply {
    Reply::code(400, code, "参数错误")
}

impl State {
    /// `POST /v1.0/oauth2/accessToken` (dingtalk.md §6).
    pub(super) fn access_token(&mut self, body: Option<&Value>) -> Outcome {
        let credential = |key: &str| body.and_then(|body| body.get(key)).and_then(Value::as_str);
        if credential("appKey") != Some(FakeDingtalk::APP_KEY)
            || credential("appSecret") != Some(FakeDingtalk::APP_SECRET)
        {
            return Err(Reply::code(
                400,
                "invalidClientIdOrSecret",
                "无效的clientId或者clientSecret",
            ));
        }
        let token = self.issue_token();
        Ok(Reply::api(
            json!({ "accessToken": token, "expireIn": TOKEN_LIFETIME.as_secs() }),
        ))
    }

    /// `asyncsend_v2` (dingtalk.md §5.1): the app's agent id, one recipient field and a known
    /// `msgtype` with its object.
    pub(super) fn work_notification(&mut self, body: &Map<String, Value>) -> Outcome {
        if body.get("agent_id").and_then(Value::as_i64) != Some(FakeDingtalk::AGENT_ID) {
            return Err(Reply::errcode(400002));
        }
        let userids: Vec<String> = str_field(body, "userid_list")
            .unwrap_or("")
            .split(',')
            .filter(|userid| !userid.is_empty())
            .map(str::to_owned)
            .collect();
        let to_all = body.get("to_all_user").and_then(Value::as_bool) == Some(true);
        let to_depts = str_field(body, "dept_id_list").is_some_and(|list| !list.is_empty());
        let msg = body.get("msg").and_then(Value::as_object);
        let msgtype = msg.and_then(|msg| str_field(msg, "msgtype"));
        let valid_msg = msgtype.is_some_and(|msgtype| {
            WORK_MSGTYPES.contains(&msgtype) && msg.is_some_and(|msg| msg.contains_key(msgtype))
        });
        if !valid_msg || userids.len() > 100 || (userids.is_empty() && !to_all && !to_depts) {
            return Err(Reply::errcode(400002));
        }
        let task_id = 256_271_667_000 + i64::try_from(self.work_notifications.len()).unwrap_or(0);
        self.work_notifications.push(WorkNotificationRecord {
            task_id,
            userids,
            body: Value::Object(body.clone()),
        });
        Ok(Reply::oapi(json!({ "task_id": task_id })))
    }

    /// `createAndDeliver` (dingtalk.md §5.2.2): required fields, a new `outTrackId`, a
    /// well-formed `openSpaceId` and the deliver model each space needs.
    pub(super) fn create_and_deliver_card(&mut self, body: &Map<String, Value>) -> Outcome {
        let template =
            str_field(body, "cardTemplateId").ok_or_else(|| bad_param("param.templateNotExist"))?;
        let out_track_id =
            str_field(body, "outTrackId").ok_or_else(|| bad_param("MissingParameter"))?;
        let params = string_map(
            body.get("cardData")
                .and_then(|data| data.get("cardParamMap")),
        )
        .ok_or_else(|| bad_param("invalidParameter.cardData"))?;
        if self.cards.contains_key(out_track_id) {
            return Err(bad_param("param.cardAlreadyExist"));
        }
        let spaces = str_field(body, "openSpaceId")
            .and_then(parse_open_space_id)
            .ok_or_else(|| bad_param("param.openSpaceIdInvalid"))?;
        let mut results = Vec::new();
        for (space_type, space_id) in &spaces {
            let delivered = match space_type.as_str() {
                "IM_ROBOT" => {
                    body.contains_key("imRobotOpenDeliverModel")
                        && self.users.contains_key(space_id)
                }
                "IM_GROUP" => {
                    body.get("imGroupOpenDeliverModel")
                        .and_then(|model| model.get("robotCode"))
                        .and_then(Value::as_str)
                        == Some(FakeDingtalk::ROBOT_CODE)
                }
                _ => false,
            };
            let mut result =
                json!({ "spaceType": space_type, "spaceId": space_id, "success": delivered });
            if delivered {
                result["carrierId"] = random_id(20).into();
            } else {
                result["errorMsg"] = "param.userIdNotExist".into();
            }
            results.push(result);
        }
        let private_data = private_data(body.get("privateData"));
        self.cards.insert(
            out_track_id.to_owned(),
            CardRecord {
                out_track_id: out_track_id.to_owned(),
                card_template_id: template.to_owned(),
                spaces,
                card_param_map: params,
                private_data,
                updates: 0,
            },
        );
        Ok(Reply::api(json!({
            "success": true,
            "result": { "outTrackId": out_track_id, "deliverResults": results },
        })))
    }

    /// `PUT /v1.0/card/instances` (dingtalk.md §5.2.4): merge by key when the options say so,
    /// otherwise replace the whole map.
    pub(super) fn update_card(&mut self, body: &Map<String, Value>) -> Outcome {
        let out_track_id =
            str_field(body, "outTrackId").ok_or_else(|| bad_param("MissingParameter"))?;
        // DingTalk's code for an unknown instance is not in dingtalk.md; this is the fake's.
        let card = self
            .cards
            .get_mut(out_track_id)
            .ok_or_else(|| bad_param("param.cardNotExist"))?;
        let option = |key: &str| {
            body.get("cardUpdateOptions")
                .and_then(|options| options.get(key))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if let Some(data) = body.get("cardData") {
            let params = string_map(data.get("cardParamMap"))
                .ok_or_else(|| bad_param("invalidParameter.cardData"))?;
            if !option("updateCardDataByKey") {
                card.card_param_map.clear();
            }
            card.card_param_map.extend(params);
        }
        if body.contains_key("privateData") {
            let private = private_data(body.get("privateData"));
            if option("updatePrivateDataByKey") {
                for (user, params) in private {
                    card.private_data.entry(user).or_default().extend(params);
                }
            } else {
                card.private_data = private;
            }
        }
        card.updates += 1;
        Ok(Reply::api(json!({ "success": true, "result": true })))
    }

    /// `oToMessages/batchSend` (dingtalk.md §5.3.1): unknown users are listed, not refused.
    pub(super) fn oto_messages(&mut self, body: &Map<String, Value>) -> Outcome {
        let (msg_key, msg_param) = robot_message(body)?;
        let user_ids: Vec<String> = body
            .get("userIds")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if user_ids.is_empty() || user_ids.len() > MAX_OTO_USERS {
            return Err(bad_param("invalidParameter.userIds.invalid"));
        }
        let (known, invalid): (Vec<String>, Vec<String>) = user_ids
            .into_iter()
            .partition(|id| self.users.contains_key(id));
        let key = random_id(24);
        self.robot_messages.push(RobotMessageRecord {
            process_query_key: key.clone(),
            user_ids: known,
            open_conversation_id: None,
            msg_key,
            msg_param,
        });
        Ok(Reply::api(json!({
            "processQueryKey": key, "invalidStaffIdList": invalid, "flowControlledStaffIdList": [],
        })))
    }

    /// `groupMessages/send` (dingtalk.md §5.3.1).
    pub(super) fn group_message(&mut self, body: &Map<String, Value>) -> Outcome {
        let (msg_key, msg_param) = robot_message(body)?;
        let group = str_field(body, "openConversationId")
            .filter(|group| !group.is_empty())
            .ok_or_else(|| bad_param("invalidParameter.openConversationId.invalid"))?;
        let key = random_id(24);
        self.robot_messages.push(RobotMessageRecord {
            process_query_key: key.clone(),
            user_ids: Vec::new(),
            open_conversation_id: Some(group.to_owned()),
            msg_key,
            msg_param,
        });
        Ok(Reply::api(json!({ "processQueryKey": key })))
    }

    /// `robot/send` (dingtalk.md §5.3.2): a known robot token, and for a signing robot a
    /// timestamp within an hour and the matching sign.
    pub(super) fn webhook(
        &mut self,
        query: &HashMap<String, String>,
        body: Option<Value>,
    ) -> Outcome {
        let robot = query
            .get("access_token")
            .ok_or_else(|| Reply::errcode(400106))?;
        let secret = self
            .webhook_robots
            .get(robot)
            .ok_or_else(|| Reply::errcode(400106))?
            .clone();
        let mut timestamp = None;
        if let Some(secret) = secret {
            let signed_at = query
                .get("timestamp")
                .and_then(|ts| ts.parse::<i64>().ok())
                .filter(|ts| (now_ms() - ts).abs() <= WEBHOOK_WINDOW_MS)
                .ok_or_else(|| Reply::errcode(310000))?;
            if query.get("sign") != Some(&webhook_sign(&secret, signed_at)) {
                return Err(Reply::errcode(310000));
            }
            timestamp = Some(signed_at);
        }
        let body = body
            .filter(|body| body.get("msgtype").and_then(Value::as_str).is_some())
            .ok_or_else(|| Reply::errcode(400002))?;
        self.webhook_posts.push(WebhookPost { timestamp, body });
        Ok(Reply::oapi(json!({})))
    }

    /// `topapi/v2/user/get` (dingtalk.md §7): 60121 for unknown members.
    pub(super) fn get_user(&mut self, body: &Map<String, Value>) -> Outcome {
        let user = str_field(body, "userid")
            .and_then(|userid| self.users.get(userid))
            .ok_or_else(|| Reply::errcode(60121))?;
        Ok(Reply::oapi(json!({ "result": user })))
    }

    /// `topapi/v2/department/get` (dingtalk.md §7); 60003 for unknown departments is the fake's
    /// choice, not confirmed by dingtalk.md.
    pub(super) fn get_department(&mut self, body: &Map<String, Value>) -> Outcome {
        let department = body
            .get("dept_id")
            .and_then(Value::as_i64)
            .and_then(|id| self.departments.get(&id))
            .ok_or_else(|| Reply::errcode(60003))?;
        Ok(Reply::oapi(json!({ "result": department })))
    }
}

/// `msgKey` and the parsed `msgParam` of a robot message, or the documented rejection.
fn robot_message(body: &Map<String, Value>) -> Result<(String, Value), Reply> {
    if str_field(body, "robotCode") != Some(FakeDingtalk::ROBOT_CODE) {
        return Err(bad_param("invalidParameter.robotCode.notExsit"));
    }
    let msg_key = str_field(body, "msgKey")
        .filter(|key| MSG_KEYS.contains(key))
        .ok_or_else(|| bad_param("invalidParameter.msgKey.invalid"))?;
    let msg_param = str_field(body, "msgParam")
        .and_then(|param| serde_json::from_str::<Value>(param).ok())
        .filter(Value::is_object)
        .ok_or_else(|| bad_param("invalidParameter.msgParam.invalid"))?;
    Ok((msg_key.to_owned(), msg_param))
}

/// `dtv1.card//IM_ROBOT.mgr001;IM_GROUP.cid…` as `(space type, space id)` pairs.
fn parse_open_space_id(id: &str) -> Option<Vec<(String, String)>> {
    id.strip_prefix("dtv1.card//")?
        .split(';')
        .map(|space| {
            let (space_type, space_id) = space.split_once('.')?;
            let known = matches!(
                space_type,
                "IM_ROBOT" | "IM_GROUP" | "IM_SINGLE" | "ONE_BOX"
            );
            (known && !space_id.is_empty()).then(|| (space_type.to_owned(), space_id.to_owned()))
        })
        .collect()
}

/// `privateData`: userId → `{cardParamMap}`.
fn private_data(value: Option<&Value>) -> BTreeMap<String, BTreeMap<String, String>> {
    value
        .and_then(Value::as_object)
        .map(|users| {
            users
                .iter()
                .filter_map(|(user, data)| {
                    Some((user.clone(), string_map(data.get("cardParamMap"))?))
                })
                .collect()
        })
        .unwrap_or_default()
}
