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

use sha1::{Digest, Sha1};

use super::raw::{Raw, text};

/// The key, at most 255 bytes.
pub(super) fn key(raw: &Raw) -> String {
    if let Some(msg_id) = text(&raw.msg_id) {
        let mut key = format!("msg:{msg_id}");
        key.truncate(255);
        return key;
    }
    let members = raw
        .mem_change_list
        .as_ref()
        .map(|m| m.join(","))
        .unwrap_or_default();
    let selected = raw
        .selected_items
        .as_ref()
        .map(|s| format!("{s:?}"))
        .unwrap_or_default();
    let fields: [(&str, Option<String>); 20] = [
        ("ToUserName", text(&raw.to_user_name)),
        ("AgentID", text(&raw.agent_id)),
        ("MsgType", text(&raw.msg_type)),
        ("Event", text(&raw.event)),
        ("ChangeType", text(&raw.change_type)),
        ("CreateTime", text(&raw.create_time)),
        ("FromUserName", text(&raw.from_user_name)),
        ("UserID", text(&raw.user_id)),
        ("ExternalUserID", text(&raw.external_user_id)),
        ("ChatId", text(&raw.chat_id)),
        ("UpdateDetail", text(&raw.update_detail)),
        ("MemChangeList", Some(members).filter(|m| !m.is_empty())),
        ("LastMemVer", text(&raw.last_mem_ver)),
        ("CurMemVer", text(&raw.cur_mem_ver)),
        ("Id", text(&raw.id)),
        ("TagType", text(&raw.tag_type)),
        ("TaskId", text(&raw.task_id)),
        ("EventKey", text(&raw.event_key)),
        ("ResponseCode", text(&raw.response_code)),
        ("SelectedItems", Some(selected).filter(|s| !s.is_empty())),
    ];
    let mut sha = Sha1::new();
    for (name, value) in &fields {
        if let Some(value) = value {
            // Name, length and value: no two field sets can hash the same bytes.
            sha.update(name.as_bytes());
            sha.update((value.len() as u64).to_be_bytes());
            sha.update(value.as_bytes());
        }
    }
    let digest = sha.finalize();
    let mut hex = String::with_capacity(40);
    for b in digest.iter() {
        hex.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(b & 0xf), 16).unwrap_or('0'));
    }
    let event = text(&raw.event)
        .or_else(|| text(&raw.msg_type))
        .unwrap_or_default();
    let mut event: String = event
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    event.truncate(200);
    format!("evt:{event}:{hex}")
}
