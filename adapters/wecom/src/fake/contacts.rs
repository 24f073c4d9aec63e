//! Customers, customer groups, channel QR codes, welcome messages and members as WeCom checks
//! and answers them (wecom.md §5.4, §5.6, §5.9–§5.12).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::faults::{INVALID_CHAT_ID, INVALID_PARAMETER};
use super::records::{ContactWayRecord, WelcomeRecord};
use super::state::{Outcome, State, fields, flag, object, random_id, str_field, str_list};
use crate::api::errcode;

/// `remark` and `state` of a contact way, in characters.
const CONTACT_WAY_TEXT_LIMIT: usize = 30;
/// `text.content` of a welcome message, in bytes.
const WELCOME_TEXT_LIMIT: usize = 4000;
/// Attachments of a welcome message.
const WELCOME_ATTACHMENT_LIMIT: usize = 9;

impl State {
    pub(crate) fn get_external_contact(&self, query: &HashMap<String, String>) -> Outcome {
        let id = query.get("external_userid").ok_or(40096)?;
        let contact = self.contacts.get(id).ok_or(40096)?;
        let mut answer = fields(contact.clone());
        answer.entry("follow_user").or_insert_with(|| json!([]));
        answer.insert("next_cursor".into(), "".into());
        Ok(answer)
    }

    pub(crate) fn mark_tag(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        let userid = str_field(body, "userid").ok_or(40003)?;
        let external_userid = str_field(body, "external_userid").ok_or(40096)?;
        let add = str_list(body, "add_tag")?;
        let remove = str_list(body, "remove_tag")?;
        if add.is_empty() && remove.is_empty() {
            return Err(INVALID_PARAMETER.into());
        }
        let mut adding = Vec::new();
        for id in &add {
            let (group, tag) = self.find_tag(id).ok_or(40068)?;
            adding.push(json!({
                "group_name": group.group_name, "tag_name": tag.name, "tag_id": tag.id, "type": 1,
            }));
        }
        if remove.iter().any(|id| self.find_tag(id).is_none()) {
            return Err(40068.into());
        }
        let contact = self.contacts.get_mut(external_userid).ok_or(40096)?;
        let follow = contact
            .get_mut("follow_user")
            .and_then(Value::as_array_mut)
            .and_then(|follows| {
                follows.iter_mut().find(|follow| {
                    follow
                        .get("userid")
                        .and_then(Value::as_str)
                        .is_some_and(|id| id.eq_ignore_ascii_case(userid))
                })
            })
            .and_then(Value::as_object_mut)
            .ok_or(84061)?;
        let tags = follow.entry("tags").or_insert_with(|| json!([]));
        if let Some(tags) = tags.as_array_mut() {
            let tag_id = |tag: &Value| tag.get("tag_id").and_then(Value::as_str).map(str::to_owned);
            tags.retain(|tag| tag_id(tag).is_none_or(|id| !remove.contains(&id)));
            for tag in adding {
                if !tags.iter().any(|existing| tag_id(existing) == tag_id(&tag)) {
                    tags.push(tag);
                }
            }
        }
        Ok(Map::new())
    }

    pub(crate) fn add_contact_way(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        let kind = body.get("type").and_then(Value::as_u64);
        let scene = body.get("scene").and_then(Value::as_u64);
        let users = str_list(body, "user")?;
        let parties = body
            .get("party")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let shape_ok = match (kind, scene) {
            (Some(1), Some(1 | 2)) => users.len() == 1 && parties == 0,
            (Some(2), Some(1 | 2)) => !users.is_empty() || parties > 0,
            _ => false,
        };
        let texts_ok = ["remark", "state"].iter().all(|key| {
            str_field(body, key).is_none_or(|text| text.chars().count() <= CONTACT_WAY_TEXT_LIMIT)
        });
        if !shape_ok || !texts_ok {
            return Err(INVALID_PARAMETER.into());
        }
        if users
            .iter()
            .any(|id| !self.users.contains_key(&id.to_lowercase()))
        {
            return Err(60111.into());
        }
        let config_id = random_id(32).to_lowercase();
        let qr_code = format!("https://wework.qpic.cn/wwpic/fake_{config_id}/0");
        self.contact_ways.push(ContactWayRecord {
            config_id: config_id.clone(),
            qr_code: qr_code.clone(),
            body: Value::Object(body.clone()),
        });
        Ok(fields(
            json!({ "config_id": config_id, "qr_code": qr_code }),
        ))
    }

    pub(crate) fn get_group_chat(&self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        let chat_id = str_field(body, "chat_id").ok_or(INVALID_PARAMETER)?;
        let mut chat = self
            .group_chats
            .get(chat_id)
            .ok_or(INVALID_CHAT_ID)?
            .clone();
        if !flag(body, "need_name")
            && let Some(members) = chat.get_mut("member_list").and_then(Value::as_array_mut)
        {
            for member in members.iter_mut().filter_map(Value::as_object_mut) {
                member.remove("name");
            }
        }
        Ok(fields(json!({ "group_chat": chat })))
    }

    pub(crate) fn send_welcome_msg(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        let code = str_field(body, "welcome_code").ok_or(41051)?;
        let text_len = body
            .get("text")
            .and_then(|text| text.get("content"))
            .and_then(Value::as_str)
            .map_or(0, str::len);
        if text_len > WELCOME_TEXT_LIMIT {
            return Err(45002.into());
        }
        let attachments = body
            .get("attachments")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if attachments > WELCOME_ATTACHMENT_LIMIT {
            return Err(INVALID_PARAMETER.into());
        }
        // Each code works once, for the first caller (wecom.md §5.11).
        let used = self
            .welcome_codes
            .get_mut(code)
            .filter(|used| !**used)
            .ok_or(41051)?;
        *used = true;
        self.welcome_messages.push(WelcomeRecord {
            welcome_code: code.to_owned(),
            body: Value::Object(body.clone()),
            received_at: std::time::Instant::now(),
        });
        Ok(Map::new())
    }

    /// `auth/getuserinfo`: a code is good once; a used, unknown or missing one is 40029.
    pub(crate) fn oauth_user(&mut self, query: &HashMap<String, String>) -> Outcome {
        let code = query.get("code").ok_or(errcode::INVALID_OAUTH_CODE)?;
        let identity = self
            .oauth_codes
            .remove(code)
            .ok_or(errcode::INVALID_OAUTH_CODE)?;
        Ok(fields(identity))
    }

    pub(crate) fn get_user(&self, query: &HashMap<String, String>) -> Outcome {
        let userid = query.get("userid").ok_or(60111)?.to_lowercase();
        let user = self.users.get(&userid).ok_or(60111)?;
        Ok(fields(user.clone()))
    }
}
