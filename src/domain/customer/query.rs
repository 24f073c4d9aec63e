//! The read side of customers: a filtered list of customer summaries, paged newest first by id,
//! and one customer's whole profile (relations, tags, channel, groups, timeline, lead score).
//! Raw SQL with `$n` placeholders, the same text on SQLite and PostgreSQL; a page costs three
//! queries whatever its length.

use std::{
    collections::{BTreeSet, HashMap},
    fmt,
};

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use serde::Serialize;

use crate::{
    domain::lead::score::{self, Score, ScoreEntry, Subject},
    pipeline::queue::stmt,
};

/// Customers one list call returns unless asked otherwise.
pub const DEFAULT_LIMIT: u32 = 50;
/// Most customers one list call returns; a bigger `limit` is refused, not cut.
pub const MAX_LIMIT: u32 = 200;
/// Newest events a profile's timeline carries; a long-lived customer's history is for the
/// database, not for one response.
pub const TIMELINE_LIMIT: i64 = 200;

/// Earliest relation first: by the time it was added (unknown counts as latest, on both
/// backends, which sort NULL differently), then by row id.
const EARLIEST_FIRST: &str = "CASE WHEN r.added_at IS NULL THEN 1 ELSE 0 END, r.added_at, r.id";

/// Which customers a list call selects. Each given filter narrows the list; an absent or
/// empty one selects everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tenant: Option<String>,
    /// A tag id, or its `group/name` text (`渠道/展会`), on any of the customer's relations.
    pub tag: Option<String>,
    /// A rep's userid with an active relation to the customer.
    pub owner: Option<String>,
    /// The `state` (channel code) of any of the customer's relations.
    pub state: Option<String>,
    pub external_userid: Option<String>,
    /// Case-insensitive substring of the name, the corp name or any rep's remark.
    pub q: Option<String>,
}

/// Why a page request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPage {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("cursor is malformed; pass the next_cursor of the previous page unchanged")]
    Cursor,
}

/// Where a page ends: the id of its last customer. Clients treat its text as opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

impl Cursor {
    /// Reads a cursor this module wrote.
    pub fn parse(text: &str) -> Result<Self, InvalidPage> {
        match text.parse::<i64>() {
            Ok(id) if id > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(Self(id)),
            _ => Err(InvalidPage::Cursor),
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One page to read: up to `limit` customers after `after` (from the start without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    after: Option<Cursor>,
    limit: u32,
}

impl PageRequest {
    /// `limit` defaults to [`DEFAULT_LIMIT`] and must be 1..=[`MAX_LIMIT`].
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, InvalidPage> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(InvalidPage::Limit);
        }
        let after = cursor.map(Cursor::parse).transpose()?;
        Ok(Self { after, limit })
    }

    /// The id the page starts after (exclusive), newest first.
    pub fn after(&self) -> Option<i64> {
        self.after.map(|Cursor(id)| id)
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }
}

impl Cursor {
    /// The cursor of a page whose last row has `id`.
    pub fn after_id(id: i64) -> Self {
        Self(id)
    }
}

/// One page of customers, newest first, and the cursor of the next page (`None` on the last).
#[derive(Debug, Clone, Serialize)]
pub struct CustomerPage {
    pub items: Vec<CustomerSummary>,
    pub next_cursor: Option<String>,
}

/// What WeCom says a customer is: a WeChat user or a WeCom user of another corp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomerType {
    Wechat,
    Wecom,
    Unknown,
}

impl From<i16> for CustomerType {
    fn from(code: i16) -> Self {
        match code {
            1 => Self::Wechat,
            2 => Self::Wecom,
            _ => Self::Unknown,
        }
    }
}

/// A customer in a list, with its owner and the tags of its active relations.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerSummary {
    pub id: i64,
    pub tenant: String,
    pub external_userid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CustomerType,
    pub corp_name: Option<String>,
    /// The rep of the earliest-added active relation.
    pub owner: Option<String>,
    /// That relation's state; `None` when it has none.
    pub state: Option<String>,
    /// `group/name` of the tags on active relations, distinct and sorted.
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(FromQueryResult)]
struct SummaryRow {
    id: i64,
    tenant: String,
    external_userid: String,
    name: String,
    kind: i16,
    corp_name: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(FromQueryResult)]
struct OwnerRow {
    customer_id: i64,
    userid: String,
    state: String,
}

#[derive(FromQueryResult)]
struct TagLabelRow {
    customer_id: i64,
    label: String,
}

/// Values bound so far; `push` answers the `$n` that stands for the value it adds.
#[derive(Default)]
struct Params(Vec<Value>);

impl Params {
    fn push(&mut self, value: impl Into<Value>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }

    fn list(&mut self, ids: &[i64]) -> String {
        let placeholders: Vec<String> = ids.iter().map(|id| self.push(*id)).collect();
        placeholders.join(", ")
    }
}

/// A filter value that selects something: given and not empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// `text` lower-cased and wrapped in `%`, with LIKE's wildcards taken literally (`ESCAPE '\'`).
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// One page of customers matching `filter`, newest (highest id) first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &Filter,
    page: PageRequest,
) -> Result<CustomerPage, DbErr> {
    let mut params = Params::default();
    let mut conditions = Vec::new();
    if let Some(tenant) = given(&filter.tenant) {
        conditions.push(format!("c.tenant = {}", params.push(tenant)));
    }
    if let Some(external_userid) = given(&filter.external_userid) {
        conditions.push(format!(
            "c.external_userid = {}",
            params.push(external_userid)
        ));
    }
    if let Some(tag) = given(&filter.tag) {
        let p = params.push(tag);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM customer_tag t WHERE t.customer_id = c.id \
             AND (t.tag_id = {p} OR t.group_name || '/' || t.name = {p}))"
        ));
    }
    if let Some(owner) = given(&filter.owner) {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM customer_rep r WHERE r.customer_id = c.id \
             AND r.userid = {} AND r.status = 'active')",
            params.push(owner)
        ));
    }
    if let Some(state) = given(&filter.state) {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM customer_rep r WHERE r.customer_id = c.id AND r.state = {})",
            params.push(state)
        ));
    }
    if let Some(q) = given(&filter.q) {
        let p = params.push(contains_pattern(q));
        conditions.push(format!(
            "(LOWER(c.name) LIKE {p} ESCAPE '\\' \
             OR LOWER(COALESCE(c.corp_name, '')) LIKE {p} ESCAPE '\\' \
             OR EXISTS (SELECT 1 FROM customer_rep r WHERE r.customer_id = c.id \
             AND LOWER(r.remark) LIKE {p} ESCAPE '\\'))"
        ));
    }
    if let Some(Cursor(after)) = page.after {
        conditions.push(format!("c.id < {}", params.push(after)));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    // One row more than the page tells whether another page follows.
    let limit = params.push(i64::from(page.limit) + 1);
    let sql = format!(
        "SELECT c.id, c.tenant, c.external_userid, c.name, c.type AS kind, c.corp_name, \
         c.created_at, c.updated_at FROM customer c{filter_sql} ORDER BY c.id DESC LIMIT {limit}"
    );
    let mut rows: Vec<SummaryRow> = query_all(db, &sql, params).await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let next_cursor = match rows.last() {
        Some(last) if more => Some(Cursor(last.id).to_string()),
        _ => None,
    };

    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let (mut owners, mut tags) = if ids.is_empty() {
        Default::default()
    } else {
        (owners_of(db, &ids).await?, tag_labels_of(db, &ids).await?)
    };
    let items = rows
        .into_iter()
        .map(|row| {
            let owner = owners.remove(&row.id);
            CustomerSummary {
                id: row.id,
                tenant: row.tenant,
                external_userid: row.external_userid,
                name: row.name,
                kind: row.kind.into(),
                corp_name: row.corp_name,
                state: owner.as_ref().and_then(|o| non_empty(&o.state)),
                owner: owner.map(|o| o.userid),
                tags: tags
                    .remove(&row.id)
                    .map(|set| set.into_iter().collect())
                    .unwrap_or_default(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            }
        })
        .collect();
    Ok(CustomerPage { items, next_cursor })
}

/// The earliest-added active relation of each customer in `ids` that has one.
async fn owners_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, OwnerRow>, DbErr> {
    let mut params = Params::default();
    let sql = format!(
        "SELECT r.customer_id, r.userid, r.state FROM customer_rep r \
         WHERE r.status = 'active' AND r.customer_id IN ({}) ORDER BY {EARLIEST_FIRST}",
        params.list(ids)
    );
    let mut owners = HashMap::new();
    for row in query_all::<OwnerRow>(db, &sql, params).await? {
        owners.entry(row.customer_id).or_insert(row);
    }
    Ok(owners)
}

/// The `group/name` labels of the tags on active relations, per customer in `ids`.
async fn tag_labels_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<HashMap<i64, BTreeSet<String>>, DbErr> {
    let mut params = Params::default();
    let sql = format!(
        "SELECT t.customer_id, t.group_name || '/' || t.name AS label FROM customer_tag t \
         JOIN customer_rep r ON r.customer_id = t.customer_id AND r.userid = t.userid \
         WHERE r.status = 'active' AND t.customer_id IN ({})",
        params.list(ids)
    );
    let mut labels: HashMap<i64, BTreeSet<String>> = HashMap::new();
    for row in query_all::<TagLabelRow>(db, &sql, params).await? {
        labels.entry(row.customer_id).or_default().insert(row.label);
    }
    Ok(labels)
}

/// Everything known of one customer.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerProfile {
    #[serde(flatten)]
    pub customer: Customer,
    /// Every relation, active or ended, earliest first.
    pub reps: Vec<Rep>,
    /// The tags on every relation.
    pub tags: Vec<RelationTag>,
    /// The channel code the earliest relation came through, if it is known in the tenant.
    pub channel: Option<ChannelCode>,
    /// The groups the customer is or was a member of.
    pub groups: Vec<GroupMembership>,
    /// The newest [`TIMELINE_LIMIT`] events, newest first.
    pub timeline: Vec<TimelineEvent>,
    /// The lead score decayed to the time of the read, in hundredths; 0 if never scored.
    pub lead_score: f64,
    /// The newest [`score::HISTORY_LIMIT`] score events, newest first.
    pub score_history: Vec<ScoreEntry>,
}

/// A customer's own columns.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub id: i64,
    pub tenant: String,
    pub external_userid: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: CustomerType,
    /// WeCom's code: 0 unknown, 1 male, 2 female.
    pub gender: i16,
    pub corp_name: Option<String>,
    pub corp_full_name: Option<String>,
    pub position: Option<String>,
    pub avatar: Option<String>,
    pub unionid: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(FromQueryResult)]
struct CustomerRow {
    id: i64,
    tenant: String,
    external_userid: String,
    name: String,
    kind: i16,
    gender: i16,
    corp_name: Option<String>,
    corp_full_name: Option<String>,
    position: Option<String>,
    avatar: Option<String>,
    unionid: Option<String>,
    created_at: i64,
    updated_at: i64,
    lead_score: Option<f64>,
    lead_score_at: Option<i64>,
}

/// One rep's relation to the customer.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct Rep {
    pub userid: String,
    pub remark: String,
    pub description: String,
    /// WeCom's `add_way` code (how the customer was added).
    pub add_way: i32,
    /// The channel code's state; `None` when it has none.
    pub state: Option<String>,
    pub added_at: Option<i64>,
    /// `active` or `ended`.
    pub status: String,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
}

/// A tag one rep put on the customer.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct RelationTag {
    pub userid: String,
    pub tag_id: String,
    pub group_name: String,
    pub name: String,
    /// `group_name/name`, as in list items and the `tag` filter.
    pub label: String,
    /// WeCom's tag type: 1 corp tag, 2 the rep's own tag, 3 rule-group tag.
    #[serde(rename = "type")]
    pub kind: i16,
    pub source: String,
}

/// A channel QR code.
#[derive(Debug, Clone, Serialize)]
pub struct ChannelCode {
    pub id: i64,
    pub state: String,
    pub config_id: String,
    pub remark: String,
    /// The reps the code adds customers to, as stored (JSON when it parses, text otherwise).
    pub users: serde_json::Value,
    pub skip_verify: bool,
    pub qr_code: Option<String>,
    pub created_at: i64,
}

#[derive(FromQueryResult)]
struct ChannelCodeRow {
    id: i64,
    state: String,
    config_id: String,
    remark: String,
    users: String,
    skip_verify: bool,
    qr_code: Option<String>,
    created_at: i64,
}

/// A group the customer is or was in, with the membership's times.
#[derive(Debug, Clone, Serialize, FromQueryResult)]
pub struct GroupMembership {
    pub chat_id: String,
    pub name: String,
    pub owner: String,
    pub status: String,
    pub join_time: Option<i64>,
    pub join_scene: Option<i16>,
    pub left_at: Option<i64>,
}

/// One event of the customer's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    pub at: i64,
    pub kind: String,
    /// The stored detail as JSON (as a string if it does not parse).
    pub detail: serde_json::Value,
}

#[derive(FromQueryResult)]
struct EventRow {
    at: i64,
    kind: String,
    detail: String,
}

/// One customer's profile at `now` (epoch ms), its lead score decayed with
/// `half_life_days`; `None` if there is no customer `id`.
pub async fn profile(
    db: &impl ConnectionTrait,
    id: i64,
    half_life_days: f64,
    now: i64,
) -> Result<Option<CustomerProfile>, DbErr> {
    let sql = "SELECT id, tenant, external_userid, name, type AS kind, gender, corp_name, \
               corp_full_name, position, avatar, unionid, created_at, updated_at, lead_score, \
               lead_score_at FROM customer WHERE id = $1";
    let Some(row) = query_all::<CustomerRow>(db, sql, one(id)).await?.pop() else {
        return Ok(None);
    };
    let lead_score = match (row.lead_score, row.lead_score_at) {
        (Some(value), Some(at)) => score::shown(Score { value, at }.at(now, half_life_days)),
        _ => 0.0,
    };
    let customer = Customer {
        id: row.id,
        tenant: row.tenant,
        external_userid: row.external_userid,
        name: row.name,
        kind: row.kind.into(),
        gender: row.gender,
        corp_name: row.corp_name,
        corp_full_name: row.corp_full_name,
        position: row.position,
        avatar: row.avatar,
        unionid: row.unionid,
        created_at: row.created_at,
        updated_at: row.updated_at,
    };

    let sql = format!(
        "SELECT r.userid, r.remark, r.description, r.add_way, \
         CASE WHEN r.state = '' THEN NULL ELSE r.state END AS state, r.added_at, r.status, \
         r.ended_at, r.ended_by FROM customer_rep r WHERE r.customer_id = $1 \
         ORDER BY {EARLIEST_FIRST}"
    );
    let reps: Vec<Rep> = query_all(db, &sql, one(id)).await?;

    let sql = "SELECT userid, tag_id, group_name, name, group_name || '/' || name AS label, \
               type AS kind, source FROM customer_tag WHERE customer_id = $1 \
               ORDER BY userid, group_name, name, tag_id";
    let tags: Vec<RelationTag> = query_all(db, sql, one(id)).await?;

    let channel = match reps.first().and_then(|r| r.state.as_deref()) {
        Some(state) => channel_code(db, &customer.tenant, state).await?,
        None => None,
    };

    let sql = "SELECT g.chat_id, g.name, g.owner, g.status, m.join_time, m.join_scene, m.left_at \
               FROM group_member m JOIN group_chat g ON g.id = m.group_id \
               WHERE g.tenant = $1 AND m.userid = $2 ORDER BY g.id";
    let values = [
        customer.tenant.as_str().into(),
        customer.external_userid.as_str().into(),
    ];
    let groups: Vec<GroupMembership> = query_all(db, sql, Params(values.into())).await?;

    let sql = "SELECT at, kind, detail FROM customer_event WHERE customer_id = $1 \
               ORDER BY at DESC, id DESC LIMIT $2";
    let values = Params(vec![id.into(), TIMELINE_LIMIT.into()]);
    let timeline = query_all::<EventRow>(db, sql, values)
        .await?
        .into_iter()
        .map(|e| TimelineEvent {
            at: e.at,
            kind: e.kind,
            detail: json_or_text(e.detail),
        })
        .collect();
    let score_history = score::history(db, Subject::Customer(id)).await?;

    Ok(Some(CustomerProfile {
        customer,
        reps,
        tags,
        channel,
        groups,
        timeline,
        lead_score,
        score_history,
    }))
}

async fn channel_code(
    db: &impl ConnectionTrait,
    tenant: &str,
    state: &str,
) -> Result<Option<ChannelCode>, DbErr> {
    let sql = "SELECT id, state, config_id, remark, users, skip_verify, qr_code, created_at \
               FROM channel_code WHERE tenant = $1 AND state = $2";
    let values = Params(vec![tenant.into(), state.into()]);
    Ok(query_all::<ChannelCodeRow>(db, sql, values)
        .await?
        .pop()
        .map(|row| ChannelCode {
            id: row.id,
            state: row.state,
            config_id: row.config_id,
            remark: row.remark,
            users: json_or_text(row.users),
            skip_verify: row.skip_verify,
            qr_code: row.qr_code,
            created_at: row.created_at,
        }))
}

fn one(id: i64) -> Params {
    Params(vec![id.into()])
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

/// Stored JSON text as JSON; text that does not parse is kept as a string rather than lost.
fn json_or_text(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}

async fn query_all<T: FromQueryResult>(
    db: &impl ConnectionTrait,
    sql: &str,
    params: Params,
) -> Result<Vec<T>, DbErr> {
    let rows = db.query_all_raw(stmt(db, sql, params.0)).await?;
    rows.iter()
        .map(|row| T::from_query_result(row, ""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
        assert_eq!(Cursor::parse(&Cursor(42).to_string()), Ok(Cursor(42)));
        for bad in [
            "",
            "abc",
            "0",
            "-3",
            "+3",
            " 3",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(Cursor::parse(bad), Err(InvalidPage::Cursor), "{bad:?}");
        }
    }

    #[test]
    fn a_page_is_one_to_max_limit_long() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert!(PageRequest::parse(Some(MAX_LIMIT), Some("7")).is_ok());
        assert_eq!(PageRequest::parse(Some(0), None), Err(InvalidPage::Limit));
        assert_eq!(
            PageRequest::parse(Some(MAX_LIMIT + 1), None),
            Err(InvalidPage::Limit)
        );
        assert_eq!(
            PageRequest::parse(None, Some("x")),
            Err(InvalidPage::Cursor)
        );
    }

    #[test]
    fn like_wildcards_in_a_search_are_literal() {
        assert_eq!(contains_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
