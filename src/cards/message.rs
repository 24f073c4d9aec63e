//! Cards as outbox messages: a send per recipient, and updates of a sent card, each under an
//! idempotency key so that a retried send or a replayed event never shows a person the same
//! card twice.

use sea_orm::{ConnectionTrait, DbErr};
use serde::{Deserialize, Serialize};

use super::{Card, MessageKind, Recipient, store};
use crate::{
    domain::calendar::WorkingHours,
    pipeline::{Enqueued, NewMessage, outbox},
};

/// Outbox `kind` of a card send.
pub const SEND: &str = "card.send";
/// Outbox `kind` of a card update.
pub const UPDATE: &str = "card.update";

/// Subjects longer than this are refused: they are part of keys and of the `card` table.
pub const MAX_SUBJECT_LEN: usize = 128;

/// A card to send: what it is about and what it shows.
#[derive(Debug, Clone)]
pub struct Notice {
    pub platform: String,
    pub tenant: String,
    pub kind: MessageKind,
    /// What the card is about, e.g. `approval:42:step:1`; with the kind, recipient and version
    /// it names the message.
    pub subject: String,
    /// Raised when the same subject legitimately needs a new card for the same person (a second
    /// reminder, a re-opened approval).
    pub version: u32,
    pub card: Card,
}

/// The payload of a [`SEND`] message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendCard {
    pub message_kind: MessageKind,
    pub subject: String,
    pub recipient: Recipient,
    /// WeCom `task_id` / DingTalk `outTrackId`: fixed when enqueued, so every attempt sends the
    /// same request (WeCom's duplicate check compares the whole JSON).
    pub track_id: String,
    pub card: Card,
}

/// The payload of an [`UPDATE`] message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateCard {
    /// The idempotency key of the send whose card changes.
    pub send_key: String,
    /// What the card shows now; normally with a `status`.
    pub card: Card,
}

/// Why a card message could not be enqueued.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("card subject is empty or longer than {MAX_SUBJECT_LEN} bytes")]
    BadSubject,
    #[error("a card needs at least one recipient")]
    NoRecipient,
    #[error("no card was sent under key `{0}`")]
    UnknownCard(String),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// The idempotency key of `notice` to `recipient`: (platform, tenant, message kind, subject,
/// recipient, version).
/// The idempotency key of `notice` to `recipient`, through [`bounded_key`].
pub fn send_key(notice: &Notice, recipient: &Recipient) -> String {
    let key = format!(
        "{}:{}:{}:{}:{}:v{}",
        notice.platform, notice.tenant, notice.kind, notice.subject, recipient, notice.version
    );
    bounded_key(key)
}

/// The longest key the outbox's `idempotency_key` column holds.
const MAX_KEY_LEN: usize = 255;

/// `key` if it fits the outbox's column (255 bytes); a longer one keeps a readable prefix and
/// ends with the SHA-1 of the whole key, so it stays unique.
pub fn bounded_key(key: String) -> String {
    bounded_key_to(key, MAX_KEY_LEN)
}

/// `key` if it has at most `max` bytes (more than 41); a longer one keeps a readable prefix and
/// ends with the SHA-1 of the whole key, so it stays unique.
pub fn bounded_key_to(key: String, max: usize) -> String {
    use sha1::{Digest, Sha1};
    if key.len() <= max {
        return key;
    }
    let digest: String = Sha1::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut cut = max - digest.len() - 1;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}#{digest}", &key[..cut])
}

/// Enqueues `notice` for each recipient, in `db` (the transaction of the change that causes
/// it), and records each card. Keys already enqueued are skipped and reported as duplicates.
pub async fn send(
    db: &impl ConnectionTrait,
    notice: &Notice,
    recipients: &[Recipient],
    inbox_id: Option<i64>,
    now: i64,
) -> Result<Vec<Enqueued>, CardError> {
    enqueue(db, notice, recipients, inbox_id, now, None).await
}

/// [`send`] for notices that can wait for the working day: outside working hours (quiet
/// hours) the messages are held until the next working period starts. Approvals, chat answers
/// and messages to customers do not go through here: someone is waiting for them.
pub async fn send_in_hours(
    db: &impl ConnectionTrait,
    notice: &Notice,
    recipients: &[Recipient],
    hours: &WorkingHours,
    inbox_id: Option<i64>,
    now: i64,
) -> Result<Vec<Enqueued>, CardError> {
    let open = hours.next_open(now);
    let held = (open > now).then_some(open);
    enqueue(db, notice, recipients, inbox_id, now, held).await
}

async fn enqueue(
    db: &impl ConnectionTrait,
    notice: &Notice,
    recipients: &[Recipient],
    inbox_id: Option<i64>,
    now: i64,
    not_before: Option<i64>,
) -> Result<Vec<Enqueued>, CardError> {
    if notice.subject.is_empty() || notice.subject.len() > MAX_SUBJECT_LEN {
        return Err(CardError::BadSubject);
    }
    if recipients.is_empty() {
        return Err(CardError::NoRecipient);
    }
    let mut results = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        let key = send_key(notice, recipient);
        let payload = SendCard {
            message_kind: notice.kind,
            subject: notice.subject.clone(),
            recipient: recipient.clone(),
            track_id: track_id(notice.kind, now),
            card: notice.card.clone(),
        };
        let message = NewMessage {
            idempotency_key: key.clone(),
            platform: notice.platform.clone(),
            tenant: notice.tenant.clone(),
            kind: SEND.into(),
            payload: serde_json::to_value(&payload).expect("a card serializes"),
            not_before,
            priority: outbox::PRIORITY_NORMAL,
        };
        let enqueued = outbox::enqueue(db, &message, inbox_id, now).await?;
        if let Enqueued::New(_) = enqueued {
            let content = serde_json::to_value(&notice.card).expect("a card serializes");
            let recipient = recipient.to_string();
            let card = store::NewCard {
                send_key: &key,
                platform: &notice.platform,
                tenant: &notice.tenant,
                track_id: &payload.track_id,
                message_kind: notice.kind.as_str(),
                subject: &notice.subject,
                recipient: &recipient,
                content: &content,
            };
            store::insert(db, &card, now).await?;
        }
        results.push(enqueued);
    }
    Ok(results)
}

/// Enqueues an update of the card sent under `send_key` to show `card`. One update per status:
/// the same status enqueued again is a duplicate.
pub async fn update(
    db: &impl ConnectionTrait,
    send_key: &str,
    card: &Card,
    inbox_id: Option<i64>,
    now: i64,
) -> Result<Enqueued, CardError> {
    let sent = store::by_send_key(db, send_key)
        .await?
        .ok_or_else(|| CardError::UnknownCard(send_key.to_owned()))?;
    let status = card.status.as_ref().map_or("content", |s| s.key.as_str());
    let payload = UpdateCard {
        send_key: send_key.to_owned(),
        card: card.clone(),
    };
    let message = NewMessage {
        idempotency_key: bounded_key(format!("{send_key}:update:{status}")),
        platform: sent.platform,
        tenant: sent.tenant,
        kind: UPDATE.into(),
        payload: serde_json::to_value(&payload).expect("a card serializes"),
        not_before: None,
        priority: outbox::PRIORITY_NORMAL,
    };
    Ok(outbox::enqueue(db, &message, inbox_id, now).await?)
}

/// A fresh handle: the kind, the time in base 36 and a random suffix. Only `[a-z0-9_-]`, well
/// under WeCom's 128 bytes, and never reused even if the database is rebuilt.
fn track_id(kind: MessageKind, now: i64) -> String {
    let suffix: String = (0..8)
        .map(|_| char::from_digit(fastrand::u32(0..36), 36).expect("digit below 36"))
        .collect();
    format!("{kind}-{}-{suffix}", base36(now.max(0) as u64))
}

fn base36(mut n: u64) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit((n % 36) as u32, 36).expect("digit below 36"));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_ids_are_valid_wecom_task_ids_and_distinct() {
        let a = track_id(MessageKind::ApprovalRequest, 1_795_000_000_000);
        let b = track_id(MessageKind::ApprovalRequest, 1_795_000_000_000);
        assert_ne!(a, b);
        assert!(a.len() <= 128);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@'))
        );
        assert!(a.starts_with("approval_request-"));
        assert_eq!(base36(0), "0");
        assert_eq!(base36(36 * 36), "100");
    }

    #[test]
    fn keys_name_kind_subject_recipient_and_version() {
        let notice = Notice {
            platform: "wecom".into(),
            tenant: "acme".into(),
            kind: MessageKind::LeadAssigned,
            subject: "lead:7".into(),
            version: 2,
            card: Card::default(),
        };
        assert_eq!(
            send_key(&notice, &Recipient::User("bob".into())),
            "wecom:acme:lead_assigned:lead:7:user:bob:v2"
        );
        let long = Recipient::User("李".repeat(60));
        let subject = Notice {
            subject: "s".repeat(MAX_SUBJECT_LEN),
            ..notice
        };
        let key = send_key(&subject, &long);
        assert!(key.len() <= MAX_KEY_LEN, "{}", key.len());
        assert_ne!(key, send_key(&subject, &Recipient::User("李".repeat(61))));
    }
}
