//! The `card` table: one row per card sent to one recipient. It ties a platform's handle for
//! the card (WeCom `task_id`, DingTalk `outTrackId`) to the message that sent it, and keeps
//! what an update needs: the card as last shown and WeCom's single-use `response_code`.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// A card as stored.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct SentCard {
    pub id: i64,
    /// The idempotency key of the outbox message that sends it.
    pub send_key: String,
    pub platform: String,
    pub tenant: String,
    /// WeCom `task_id` / DingTalk `outTrackId`: echoed in every tap on the card.
    pub track_id: String,
    pub message_kind: String,
    pub subject: String,
    pub recipient: String,
    /// The card as last sent or updated, JSON.
    pub content: String,
    /// How it went out (see [`channel`]); `None` until it has been sent.
    pub channel: Option<String>,
    /// The state it was last updated to.
    pub status: Option<String>,
    /// WeCom: the unspent code for one `update_template_card`, and when it was issued.
    pub response_code: Option<String>,
    pub response_code_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a card reached its recipient; decides how it can be updated.
pub mod channel {
    /// WeCom `template_card`: updatable with a `response_code` when interactive.
    pub const WECOM_TEMPLATE_CARD: &str = "wecom_template_card";
    /// WeCom `markdown`: not updatable.
    pub const WECOM_MARKDOWN: &str = "wecom_markdown";
    /// DingTalk interactive card: updatable by `outTrackId`.
    pub const DINGTALK_CARD: &str = "dingtalk_card";
    /// DingTalk work notification (`action_card` or `markdown`): not updatable.
    pub const DINGTALK_WORK_NOTICE: &str = "dingtalk_work_notice";
}

const COLUMNS: &str = "id, send_key, platform, tenant, track_id, message_kind, subject, recipient, \
                       content, channel, status, response_code, response_code_at, sent_at, \
                       created_at, updated_at";

/// What is known of a card when its send is enqueued.
#[derive(Debug, Clone)]
pub struct NewCard<'a> {
    pub send_key: &'a str,
    pub platform: &'a str,
    pub tenant: &'a str,
    pub track_id: &'a str,
    pub message_kind: &'a str,
    pub subject: &'a str,
    pub recipient: &'a str,
    pub content: &'a serde_json::Value,
}

/// Records a card about to be sent; a second insert with the same send key changes nothing.
pub async fn insert(db: &impl ConnectionTrait, card: &NewCard<'_>, now: i64) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "INSERT INTO card (send_key, platform, tenant, track_id, message_kind, subject, recipient, \
         content, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (send_key) DO NOTHING",
        [
            card.send_key.into(),
            card.platform.into(),
            card.tenant.into(),
            card.track_id.into(),
            card.message_kind.into(),
            card.subject.into(),
            card.recipient.into(),
            card.content.to_string().into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The card sent by the outbox message with idempotency key `send_key`.
pub async fn by_send_key(
    db: &impl ConnectionTrait,
    send_key: &str,
) -> Result<Option<SentCard>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM card WHERE send_key = $1");
    SentCard::find_by_statement(stmt(db, &sql, [send_key.into()]))
        .one(db)
        .await
}

/// The card a tap came from, by the handle the platform echoes.
pub async fn by_track_id(
    db: &impl ConnectionTrait,
    platform: &str,
    tenant: &str,
    track_id: &str,
) -> Result<Option<SentCard>, DbErr> {
    let sql =
        format!("SELECT {COLUMNS} FROM card WHERE platform = $1 AND tenant = $2 AND track_id = $3");
    SentCard::find_by_statement(stmt(
        db,
        &sql,
        [platform.into(), tenant.into(), track_id.into()],
    ))
    .one(db)
    .await
}

/// The cards of a subject (e.g. every approver's card of one approval), oldest first.
pub async fn by_subject(db: &impl ConnectionTrait, subject: &str) -> Result<Vec<SentCard>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM card WHERE subject = $1 ORDER BY id");
    SentCard::find_by_statement(stmt(db, &sql, [subject.into()]))
        .all(db)
        .await
}

/// Records that the card went out through `channel`, with WeCom's `response_code` if one came.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    send_key: &str,
    channel: &str,
    response_code: Option<&str>,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE card SET channel = $2, response_code = $3, response_code_at = $4, sent_at = $5, \
         updated_at = $5 WHERE send_key = $1",
        [
            send_key.into(),
            channel.into(),
            response_code.into(),
            response_code.map(|_| now).into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Keeps the fresh `response_code` of a tap on the card (WeCom gives one with every click),
/// replacing a spent or older one. Returns whether the card exists.
pub async fn offer_response_code(
    db: &impl ConnectionTrait,
    platform: &str,
    tenant: &str,
    track_id: &str,
    response_code: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE card SET response_code = $4, response_code_at = $5, updated_at = $5 \
             WHERE platform = $1 AND tenant = $2 AND track_id = $3",
            [
                platform.into(),
                tenant.into(),
                track_id.into(),
                response_code.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Spends `response_code`: it is single use, so it is cleared before the call that uses it.
/// Returns false when it was no longer the card's code (another update spent it first).
pub async fn spend_response_code(
    db: &impl ConnectionTrait,
    send_key: &str,
    response_code: &str,
    now: i64,
) -> Result<bool, DbErr> {
    let result = db
        .execute_raw(stmt(
            db,
            "UPDATE card SET response_code = NULL, response_code_at = NULL, updated_at = $3 \
             WHERE send_key = $1 AND response_code = $2",
            [send_key.into(), response_code.into(), now.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Records what the card shows after an update.
pub async fn mark_updated(
    db: &impl ConnectionTrait,
    send_key: &str,
    content: &serde_json::Value,
    status: Option<&str>,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE card SET content = $2, status = $3, updated_at = $4 WHERE send_key = $1",
        [
            send_key.into(),
            content.to_string().into(),
            status.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Puts back a code spent for a call WeCom did not act on (it failed with a retryable error),
/// unless a tap has brought a fresher one meanwhile.
pub async fn restore_response_code(
    db: &impl ConnectionTrait,
    send_key: &str,
    response_code: &str,
    issued_at: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE card SET response_code = $2, response_code_at = $3 \
         WHERE send_key = $1 AND response_code IS NULL",
        [send_key.into(), response_code.into(), issued_at.into()],
    ))
    .await?;
    Ok(())
}
