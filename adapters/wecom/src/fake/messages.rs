//! `message/send` and `message/update_template_card` as WeCom checks and answers them
//! (wecom.md §4.1, §4.2, §4.5, §5.2).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::FakeWecom;
use super::faults::{INVALID_MSGTYPE, INVALID_PARAMETER};
use super::records::{SentMessage, UpdatedCard};
use super::state::{
    IssuedResponseCode, Outcome, Rejection, State, fields, flag, object, random_id, str_field,
    str_list,
};

/// `text.content` limit in bytes.
const TEXT_LIMIT: usize = 2048;
/// `duplicate_check_interval` default and maximum, in seconds.
const DUPLICATE_CHECK_DEFAULT_SECS: u64 = 1800;
const DUPLICATE_CHECK_MAX_SECS: u64 = 14400;
/// `task_id` limit in bytes.
const TASK_ID_LIMIT: usize = 128;

impl State {
    pub(crate) fn send_message(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        check_agentid(body)?;
        if flag(body, "enable_duplicate_check") {
            let interval = body
                .get("duplicate_check_interval")
                .and_then(Value::as_u64)
                .unwrap_or(DUPLICATE_CHECK_DEFAULT_SECS)
                .min(DUPLICATE_CHECK_MAX_SECS);
            let key = Value::Object(body.clone()).to_string();
            if let Some((at, msgid)) = self.duplicate_check.get(&key)
                && at.elapsed() < Duration::from_secs(interval)
            {
                // Not delivered again. WeCom's exact answer to a duplicate is not documented;
                // the fake repeats the first msgid.
                return Ok(fields(json!({
                    "invaliduser": "", "invalidparty": "", "invalidtag": "",
                    "unlicenseduser": "", "msgid": msgid,
                })));
            }
        }
        check_content(body, &self.task_ids)?;
        let (recipients, invalid) = self.recipients(body);
        let invalid_lists = json!({
            "invaliduser": invalid.join("|"), "invalidparty": "", "invalidtag": "",
            "unlicenseduser": "",
        });
        let has_parties_or_tags = ["toparty", "totag"]
            .iter()
            .any(|key| str_field(body, key).is_some_and(|ids| !ids.is_empty()));
        if recipients.is_empty() && !has_parties_or_tags {
            return Err(Rejection {
                errcode: 81013,
                fields: fields(invalid_lists),
            });
        }
        let msgid = random_id(40);
        let card = body.get("template_card").and_then(Value::as_object);
        let response_code = card.filter(|card| is_interactive(card)).map(|_| {
            let code = random_id(48);
            self.response_codes.insert(
                code.clone(),
                IssuedResponseCode {
                    msgid: msgid.clone(),
                    used: false,
                },
            );
            code
        });
        if let Some(task_id) = card.and_then(|card| str_field(card, "task_id")) {
            self.task_ids.insert(task_id.to_owned());
        }
        if flag(body, "enable_duplicate_check") {
            let key = Value::Object(body.clone()).to_string();
            self.duplicate_check
                .insert(key, (Instant::now(), msgid.clone()));
        }
        self.messages.push(SentMessage {
            msgid: msgid.clone(),
            received_at: Instant::now(),
            response_code: response_code.clone(),
            recipients,
            body: Value::Object(body.clone()),
        });
        let mut answer = fields(invalid_lists);
        answer.insert("msgid".into(), msgid.into());
        if let Some(code) = response_code {
            answer.insert("response_code".into(), code.into());
        }
        Ok(answer)
    }

    pub(crate) fn update_template_card(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        check_agentid(body)?;
        let userids = str_list(body, "userids")?;
        let addressed = !userids.is_empty()
            || ["partyids", "tagids"].iter().any(|key| {
                body.get(*key)
                    .and_then(Value::as_array)
                    .is_some_and(|ids| !ids.is_empty())
            })
            || flag(body, "atall");
        let replacement = body
            .get("button")
            .and_then(|button| button.get("replace_name"));
        let card = body.get("template_card").and_then(Value::as_object);
        if !addressed || replacement.is_none() == card.is_none() {
            return Err(INVALID_PARAMETER.into());
        }
        if let Some(card) = card {
            check_card(card, None)?;
        }
        let code = str_field(body, "response_code").ok_or(INVALID_PARAMETER)?;
        let issued = self
            .response_codes
            .get_mut(code)
            .filter(|issued| !issued.used)
            .ok_or(INVALID_PARAMETER)?;
        issued.used = true;
        let msgid = issued.msgid.clone();
        let recipients = self
            .messages
            .iter()
            .find(|message| message.msgid == msgid)
            .map(|message| message.recipients.clone())
            .unwrap_or_default();
        let invalid: Vec<String> = userids
            .iter()
            .map(|id| id.to_lowercase())
            .filter(|id| !recipients.contains(id))
            .collect();
        self.card_updates.push(UpdatedCard {
            msgid,
            response_code: code.to_owned(),
            body: Value::Object(body.clone()),
            received_at: Instant::now(),
        });
        Ok(fields(json!({ "invaliduser": invalid })))
    }

    /// Valid (lower-cased, registered) and invalid userids of `touser`; `@all` is every member.
    fn recipients(&self, body: &Map<String, Value>) -> (Vec<String>, Vec<String>) {
        let touser = str_field(body, "touser").unwrap_or("");
        if touser == "@all" {
            return (self.users.keys().cloned().collect(), Vec::new());
        }
        touser
            .split('|')
            .filter(|id| !id.is_empty())
            .map(str::to_lowercase)
            .partition(|id| self.users.contains_key(id))
    }
}

fn check_agentid(body: &Map<String, Value>) -> Result<(), Rejection> {
    match body.get("agentid").and_then(Value::as_u64) {
        Some(id) if id == u64::from(FakeWecom::AGENT_ID) => Ok(()),
        _ => Err(40056.into()),
    }
}

fn check_content(body: &Map<String, Value>, task_ids: &HashSet<String>) -> Result<(), Rejection> {
    let msgtype = str_field(body, "msgtype").ok_or(INVALID_MSGTYPE)?;
    let object = body.get(msgtype).and_then(Value::as_object);
    match msgtype {
        "text" | "markdown" => {
            let content = object.and_then(|o| str_field(o, "content")).unwrap_or("");
            if content.is_empty() {
                Err(44004.into())
            } else if msgtype == "text" && content.len() > TEXT_LIMIT {
                Err(45002.into())
            } else {
                Ok(())
            }
        }
        "template_card" => check_card(object.ok_or(INVALID_PARAMETER)?, Some(task_ids)),
        _ => Err(INVALID_MSGTYPE.into()),
    }
}

/// The documented rules of §4.1 for the card types the client sends. `task_ids` is `None` in
/// an update, where the card keeps its task id.
fn check_card(
    card: &Map<String, Value>,
    task_ids: Option<&HashSet<String>>,
) -> Result<(), Rejection> {
    let card_type = str_field(card, "card_type").ok_or(INVALID_PARAMETER)?;
    let task_id = str_field(card, "task_id");
    if let Some(task_id) = task_id {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@');
        if task_id.len() > TASK_ID_LIMIT || !task_id.chars().all(allowed) {
            return Err(INVALID_PARAMETER.into());
        }
        // Reusing a task id is an error; WeCom's errcode for it is not documented.
        if task_ids.is_some_and(|ids| ids.contains(task_id)) {
            return Err(INVALID_PARAMETER.into());
        }
    }
    let needs_task_id = card.contains_key("action_menu") || !card_type.ends_with("_notice");
    if needs_task_id && task_id.is_none() && task_ids.is_some() {
        return Err(INVALID_PARAMETER.into());
    }
    match card_type {
        "text_notice" | "news_notice" => {
            let action_type = card
                .get("card_action")
                .and_then(|action| action.get("type"))
                .and_then(Value::as_u64);
            if !matches!(action_type, Some(1 | 2)) {
                return Err(42045.into());
            }
            let has_title = card
                .get("main_title")
                .and_then(|title| title.get("title"))
                .and_then(Value::as_str)
                .is_some_and(|title| !title.is_empty());
            if card_type == "text_notice" && !has_title && !card.contains_key("sub_title_text") {
                return Err(INVALID_PARAMETER.into());
            }
            Ok(())
        }
        "button_interaction" => {
            let buttons = card.get("button_list").and_then(Value::as_array);
            match buttons {
                Some(buttons) if (1..=6).contains(&buttons.len()) => Ok(()),
                _ => Err(INVALID_PARAMETER.into()),
            }
        }
        "vote_interaction" | "multiple_interaction" => Ok(()),
        _ => Err(INVALID_PARAMETER.into()),
    }
}

/// Interactive cards get a `response_code` (wecom.md §4.2).
fn is_interactive(card: &Map<String, Value>) -> bool {
    let notice = str_field(card, "card_type").is_some_and(|t| t.ends_with("_notice"));
    !notice || card.contains_key("action_menu")
}
