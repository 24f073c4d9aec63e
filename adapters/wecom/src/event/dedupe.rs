//! The dedupe key of a callback: its natural key, so that WeCom's retries of one callback (up
//! to four deliveries) collapse onto one inbox row and no two different callbacks share a key.
//!
//! - Messages with a `MsgId`: `msg:<MsgId>`.
//! - Events: `evt:<Event>:<sha1>` where the hash covers every identifying element present:
//!   ToUserName, AgentID, MsgType, Event, ChangeType, CreateTime, FromUserName, UserID,
//!   ExternalUserID, ChatId, UpdateDetail, MemChangeList, LastMemVer, CurMemVer, Id, TagType,
//!   TaskId, EventKey, ResponseCode, SelectedItems (wecom.md §2). `FromUserName + CreateTime`
//!   alone is not enough: customer-contact events all come from `sys`, one second apart at best.
//!
//! The ciphertext is never part of the key: its random prefix may differ between retries.

use std::borrow::Cow;

use sha1::{Digest, Sha1};

use super::raw::Raw;

/// Longest key the inbox column holds.
const MAX_KEY: usize = 255;

/// The key, at most 255 bytes.
pub(super) fn key(raw: &Raw) -> String {
    if let Some(msg_id) = trimmed(&raw.msg_id) {
        let mut key = format!("msg:{msg_id}");
        truncate(&mut key, MAX_KEY);
        return key;
    }
    let mut sha = Sha1::new();
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            // Name, length and value: no two field sets can hash the same bytes.
            sha.update(name.as_bytes());
            sha.update((value.len() as u64).to_be_bytes());
            sha.update(value.as_bytes());
        }
    };
    for (name, value) in [
        ("ToUserName", &raw.to_user_name),
        ("AgentID", &raw.agent_id),
        ("MsgType", &raw.msg_type),
        ("Event", &raw.event),
        ("ChangeType", &raw.change_type),
        ("CreateTime", &raw.create_time),
        ("FromUserName", &raw.from_user_name),
        ("UserID", &raw.user_id),
        ("ExternalUserID", &raw.external_user_id),
        ("ChatId", &raw.chat_id),
        ("UpdateDetail", &raw.update_detail),
    ] {
        field(name, trimmed(value).unwrap_or_default());
    }
    field(
        "MemChangeList",
        &raw.mem_change_list.as_deref().unwrap_or_default().join(","),
    );
    for (name, value) in [
        ("LastMemVer", &raw.last_mem_ver),
        ("CurMemVer", &raw.cur_mem_ver),
        ("Id", &raw.id),
        ("TagType", &raw.tag_type),
        ("TaskId", &raw.task_id),
        ("EventKey", &raw.event_key),
        ("ResponseCode", &raw.response_code),
    ] {
        field(name, trimmed(value).unwrap_or_default());
    }
    for item in raw.selected_items.iter().flatten() {
        field("SelectedItem", &item.question_key);
        for option in &item.option_ids {
            field("OptionId", option);
        }
    }
    let digest = sha.finalize();
    let event = trimmed(&raw.event)
        .or_else(|| trimmed(&raw.msg_type))
        .unwrap_or_default();
    let mut key = String::with_capacity(4 + event.len() + 41);
    key.push_str("evt:");
    key.extend(
        event
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(200),
    );
    key.push(':');
    for b in digest.iter() {
        key.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        key.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    key
}

fn trimmed<'a>(value: &'a Option<Cow<'_, str>>) -> Option<&'a str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut at = max;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
}
