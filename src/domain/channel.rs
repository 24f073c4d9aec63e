//! Channel codes (「联系我」 QR codes): the validated request for a new code, the stored code, and
//! the list of a tenant's codes with how many customers came through each. A customer came
//! through a code when one of its rep relations carries the code's `state`.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;

use crate::pipeline::queue::stmt;

/// Longest `state` and `remark`: WeCom's limit for both (wecom.md §5.9).
pub const MAX_TEXT_CHARS: usize = 30;
/// Most reps one code may add customers to. WeCom's own limit is not documented; this keeps
/// a code a team's, not the whole corp's.
pub const MAX_USERS: usize = 100;
/// Longest userid stored on a relation.
const MAX_USERID_CHARS: usize = 64;

/// Why a new channel code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCode {
    #[error("state must be 1-{MAX_TEXT_CHARS} letters, digits, `-` or `_`")]
    State,
    #[error("users must list 1-{MAX_USERS} userids")]
    UserCount,
    #[error("userid `{0}` is empty, too long or repeated")]
    User(String),
    #[error("remark must be at most {MAX_TEXT_CHARS} characters")]
    Remark,
}

/// A channel code's `state`: 1–30 ASCII letters, digits, `-` or `_`. WeCom hands it back on each
/// customer added through the code, so it has to survive URLs and logs unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelState(String);

impl ChannelState {
    pub fn parse(text: &str) -> Result<Self, InvalidCode> {
        let valid = (1..=MAX_TEXT_CHARS).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidCode::State)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A channel code to create, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCode {
    pub tenant: String,
    pub state: ChannelState,
    /// The reps new customers are added to, in the order given.
    pub users: Vec<String>,
    pub remark: String,
    /// Whether customers are added without the rep confirming.
    pub skip_verify: bool,
}

impl NewCode {
    /// Checks a request for a new code.
    pub fn parse(
        tenant: &str,
        state: &str,
        users: Vec<String>,
        remark: Option<String>,
        skip_verify: bool,
    ) -> Result<Self, InvalidCode> {
        let state = ChannelState::parse(state)?;
        if users.is_empty() || users.len() > MAX_USERS {
            return Err(InvalidCode::UserCount);
        }
        let mut seen = HashSet::new();
        for user in &users {
            let chars = user.chars().count();
            if chars == 0 || chars > MAX_USERID_CHARS || user.trim() != user || !seen.insert(user) {
                return Err(InvalidCode::User(user.clone()));
            }
        }
        let remark = remark.unwrap_or_default();
        if remark.chars().count() > MAX_TEXT_CHARS {
            return Err(InvalidCode::Remark);
        }
        Ok(Self {
            tenant: tenant.to_owned(),
            state,
            users,
            remark,
            skip_verify,
        })
    }
}

/// A stored channel code, with the customers that came through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelCode {
    pub state: String,
    /// WeCom's handle to the code, the only way to change or delete it later.
    pub config_id: String,
    /// The QR image URL.
    pub qr_code: Option<String>,
    pub remark: String,
    pub users: Vec<String>,
    pub skip_verify: bool,
    pub created_at: i64,
    /// Distinct customers with a relation of this state, active or ended.
    pub customers: i64,
    /// Distinct customers with an active relation of this state.
    pub active_customers: i64,
}

#[derive(FromQueryResult)]
struct CodeRow {
    state: String,
    config_id: String,
    qr_code: Option<String>,
    remark: String,
    users: String,
    skip_verify: bool,
    created_at: i64,
    customers: i64,
    active_customers: i64,
}

impl From<CodeRow> for ChannelCode {
    fn from(row: CodeRow) -> Self {
        Self {
            state: row.state,
            config_id: row.config_id,
            qr_code: row.qr_code,
            remark: row.remark,
            // Written by `insert` as a JSON array; anything else reads as no users.
            users: serde_json::from_str(&row.users).unwrap_or_default(),
            skip_verify: row.skip_verify,
            created_at: row.created_at,
            customers: row.customers,
            active_customers: row.active_customers,
        }
    }
}

/// Whether `tenant` has a code with `state` already.
pub async fn exists(
    db: &impl ConnectionTrait,
    tenant: &str,
    state: &ChannelState,
) -> Result<bool, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM channel_code WHERE tenant = $1 AND state = $2",
            [tenant.into(), state.as_str().into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Stores the code WeCom created for `code`. `false` when the tenant has a code with that
/// state already (another request got there first); nothing is written then.
pub async fn insert(
    db: &impl ConnectionTrait,
    code: &NewCode,
    config_id: &str,
    qr_code: Option<&str>,
    now: i64,
) -> Result<bool, DbErr> {
    let users = serde_json::to_string(&code.users).expect("a list of strings serializes");
    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO channel_code (tenant, state, config_id, remark, users, skip_verify, \
             qr_code, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (tenant, state) DO NOTHING RETURNING id",
            [
                code.tenant.as_str().into(),
                code.state.as_str().into(),
                config_id.into(),
                code.remark.as_str().into(),
                users.into(),
                code.skip_verify.into(),
                qr_code.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(row.is_some())
}

/// The tenant's codes, newest first, with their customer counts. Customers are counted in the
/// code's tenant only: another tenant's relations may use the same state.
pub async fn list(db: &impl ConnectionTrait, tenant: &str) -> Result<Vec<ChannelCode>, DbErr> {
    select(db, "c.tenant = $1", [tenant.into()]).await
}

/// The tenant's code with `state`, with its customer counts.
pub async fn find(
    db: &impl ConnectionTrait,
    tenant: &str,
    state: &ChannelState,
) -> Result<Option<ChannelCode>, DbErr> {
    let codes = select(
        db,
        "c.tenant = $1 AND c.state = $2",
        [tenant.into(), state.as_str().into()],
    )
    .await?;
    Ok(codes.into_iter().next())
}

async fn select<const N: usize>(
    db: &impl ConnectionTrait,
    condition: &str,
    values: [sea_orm::Value; N],
) -> Result<Vec<ChannelCode>, DbErr> {
    let customers = |extra: &str| {
        format!(
            "(SELECT COUNT(DISTINCT r.customer_id) FROM customer_rep r \
             JOIN customer cu ON cu.id = r.customer_id \
             WHERE cu.tenant = c.tenant AND r.state = c.state{extra})"
        )
    };
    let sql = format!(
        "SELECT c.state, c.config_id, c.qr_code, c.remark, c.users, c.skip_verify, c.created_at, \
         {} AS customers, {} AS active_customers FROM channel_code c WHERE {condition} \
         ORDER BY c.id DESC",
        customers(""),
        customers(" AND r.status = 'active'"),
    );
    let rows = db.query_all_raw(stmt(db, &sql, values)).await?;
    rows.iter()
        .map(|row| CodeRow::from_query_result(row, "").map(ChannelCode::from))
        .collect()
}
