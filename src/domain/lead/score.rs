//! The lead score: points for what a lead or a customer does, fading with a half-life, and the
//! hand-over to sales when the score first reaches the threshold.
//!
//! A score is stored as a value and the time it was valid at; it decays on read and on every
//! add: `value · 0.5^((now − at) / half_life)`. Storing it this way makes an add one row update,
//! and no job has to rewrite every score each night.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    assignment::Assigner,
    audit,
    domain::{customer::store::record_event, rules::LeadScore, rules::Points},
    pipeline::queue::stmt,
    webhooks::{WebhookEvent, Webhooks},
};

/// Milliseconds in a day, the unit of `half_life_days`.
const DAY_MS: f64 = 86_400_000.0;

/// Score events a profile shows; older ones stay in the table.
pub const HISTORY_LIMIT: i64 = 50;

/// The webhook event, customer timeline entry and audit action of a threshold crossing.
pub const QUALIFIED: &str = "lead.qualified";

/// Who earns points: a customer known from WeCom, or a lead known only from a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Customer(i64),
    Lead(i64),
}

impl Subject {
    /// The `subject_type` of its score events.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Customer(_) => "customer",
            Self::Lead(_) => "lead",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Self::Customer(id) | Self::Lead(id) => id,
        }
    }
}

/// What earned the points; each kind has its number of points in `[lead_score.points]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreKind {
    Click,
    RepeatClick,
    Registration,
    GroupJoin,
    Reply,
}

impl ScoreKind {
    /// As stored in `score_event.kind` and named in the rules file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Click => "click",
            Self::RepeatClick => "repeat_click",
            Self::Registration => "registration",
            Self::GroupJoin => "group_join",
            Self::Reply => "reply",
        }
    }

    pub fn points(self, points: &Points) -> f64 {
        match self {
            Self::Click => points.click,
            Self::RepeatClick => points.repeat_click,
            Self::Registration => points.registration,
            Self::GroupJoin => points.group_join,
            Self::Reply => points.reply,
        }
    }
}

/// `value`, valid at `since`, as it counts at `now` (all epoch ms). Time never runs backwards
/// for a score: at or before `since` it is `value` itself.
pub fn decayed(value: f64, since: i64, now: i64, half_life_days: f64) -> f64 {
    if now <= since {
        return value;
    }
    value * 0.5_f64.powf((now - since) as f64 / (half_life_days * DAY_MS))
}

/// Whether going from `before` to `after` reaches `threshold` from below: the one moment a
/// lead is handed over, not every later add while it stays above.
pub fn crosses(before: f64, after: f64, threshold: f64) -> bool {
    before < threshold && after >= threshold
}

/// A stored score: its value at `at` (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    pub value: f64,
    pub at: i64,
}

impl Score {
    /// A subject that never earned a point.
    pub fn zero(at: i64) -> Self {
        Self { value: 0.0, at }
    }

    /// The score as it counts at `now`.
    pub fn at(self, now: i64, half_life_days: f64) -> f64 {
        decayed(self.value, self.at, now, half_life_days)
    }

    /// The score with `points` earned at `now`. An event older than the score (one that
    /// arrived late) adds its points as decayed to the score's time, which stays.
    pub fn plus(self, points: f64, now: i64, half_life_days: f64) -> Self {
        if now >= self.at {
            Self {
                value: self.at(now, half_life_days) + points,
                at: now,
            }
        } else {
            Self {
                value: self.value + decayed(points, now, self.at, half_life_days),
                at: self.at,
            }
        }
    }
}

/// A score rounded to hundredths, as the API shows it: the decay changes the figures beyond
/// that every millisecond.
pub fn shown(score: f64) -> f64 {
    (score * 100.0).round() / 100.0
}

/// What scores with, whom a crossing is announced to, and who assigns a lead that crossed.
#[derive(Clone, Copy)]
pub struct Scoring<'a> {
    pub rules: &'a LeadScore,
    pub webhooks: &'a Webhooks,
    /// Assigns the crossing lead (a customer's lead, made if they have none) when it has no
    /// owner; `None` only announces the crossing.
    pub assigner: Option<&'a Assigner>,
}

/// What one add did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreChange {
    /// The `score_event` row.
    pub event_id: i64,
    pub points: f64,
    /// The score just before, decayed to the event's time.
    pub old: f64,
    /// The score just after.
    pub new: f64,
    /// Whether this add crossed the threshold upwards (and `lead.qualified` was published).
    pub qualified: bool,
}

/// Adds the points of `kind` to `subject` of `tenant` at `now` (epoch ms): records a
/// `score_event`, stores the decayed score plus the points, and on an upward crossing of the
/// threshold records it (the customer's timeline, or the lead's audit log and status
/// `qualified`), publishes `lead.qualified`, and assigns the lead if it has no owner.
///
/// Run it in the transaction of the change that earned the points: the subject's row is
/// locked first, so concurrent adds to one subject never lose each other's points, and the
/// crossing is announced if and only if the change commits. A subject not of `tenant` is
/// `RecordNotFound`.
#[tracing::instrument(skip_all, fields(%tenant, subject = subject.kind(), id = subject.id(), kind = kind.as_str()))]
pub async fn add(
    db: &impl ConnectionTrait,
    scoring: &Scoring<'_>,
    tenant: &str,
    subject: Subject,
    kind: ScoreKind,
    reason: &str,
    now: i64,
) -> Result<ScoreChange, DbErr> {
    let rules = scoring.rules;
    let half_life = rules.half_life_days();
    let stored = lock(db, tenant, subject, now).await?;
    let points = kind.points(rules.points());
    let old = stored.at(now, half_life);
    let new = stored.plus(points, now, half_life);
    let qualified = crosses(old, new.value, rules.threshold());

    let row = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO score_event (tenant, subject_type, subject_id, kind, points, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            [
                tenant.into(),
                subject.kind().into(),
                subject.id().into(),
                kind.as_str().into(),
                points.into(),
                bounded(reason).into(),
                now.into(),
            ],
        ))
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    let event_id: i64 = row.try_get("", "id")?;
    let (sql, values) = match subject {
        Subject::Lead(id) => (
            "UPDATE lead SET score = $2, score_at = $3, updated_at = $4, \
             status = CASE WHEN $5 AND status = 'new' THEN 'qualified' ELSE status END \
             WHERE id = $1",
            vec![
                id.into(),
                new.value.into(),
                new.at.into(),
                now.into(),
                qualified.into(),
            ],
        ),
        Subject::Customer(id) => (
            "UPDATE customer SET lead_score = $2, lead_score_at = $3 WHERE id = $1",
            vec![id.into(), new.value.into(), new.at.into()],
        ),
    };
    db.execute_raw(stmt(db, sql, values)).await?;

    let change = ScoreChange {
        event_id,
        points,
        old,
        new: new.value,
        qualified,
    };
    if qualified {
        let detail = json!({
            "score": shown(change.new),
            "threshold": rules.threshold(),
            "kind": kind.as_str(),
            "reason": reason,
            "score_event_id": event_id,
        });
        announce(db, scoring.webhooks, tenant, subject, event_id, detail, now).await?;
        if let Some(assigner) = scoring.assigner {
            assigner.qualified(db, tenant, subject, now).await?;
        }
    }
    Ok(change)
}

/// Locks the subject's row for the rest of the transaction (a no-op update, which both
/// backends serialize) and answers its stored score.
async fn lock(
    db: &impl ConnectionTrait,
    tenant: &str,
    subject: Subject,
    now: i64,
) -> Result<Score, DbErr> {
    let sql = match subject {
        Subject::Lead(_) => {
            "UPDATE lead SET score = score WHERE id = $1 AND tenant = $2 \
             RETURNING score AS value, score_at AS at"
        }
        Subject::Customer(_) => {
            "UPDATE customer SET lead_score = lead_score WHERE id = $1 AND tenant = $2 \
             RETURNING lead_score AS value, lead_score_at AS at"
        }
    };
    let row = db
        .query_one_raw(stmt(db, sql, [subject.id().into(), tenant.into()]))
        .await?
        .ok_or_else(|| {
            DbErr::RecordNotFound(format!("{} {} of {tenant}", subject.kind(), subject.id()))
        })?;
    let value: Option<f64> = row.try_get("", "value")?;
    let at: Option<i64> = row.try_get("", "at")?;
    Ok(match (value, at) {
        (Some(value), Some(at)) => Score { value, at },
        _ => Score::zero(now),
    })
}

/// Records the crossing (`detail`, caused by score event `event_id`) where the subject's
/// history is read, and tells the webhooks: the hand-over of the lead to sales.
async fn announce(
    db: &impl ConnectionTrait,
    webhooks: &Webhooks,
    tenant: &str,
    subject: Subject,
    event_id: i64,
    detail: Value,
    now: i64,
) -> Result<(), DbErr> {
    match subject {
        Subject::Customer(id) => record_event(db, id, now, QUALIFIED, &detail, None).await?,
        Subject::Lead(id) => {
            let id = id.to_string();
            audit::record(db, now, "system", QUALIFIED, ("lead", &id), &detail).await?;
        }
    }
    let mut data = detail;
    data["subject"] = json!({ "type": subject.kind(), "id": subject.id() });
    data[subject.kind()] = summary(db, subject).await?;
    let id = format!("{QUALIFIED}:{}:{}:{event_id}", subject.kind(), subject.id());
    let event = WebhookEvent {
        id: &id,
        kind: QUALIFIED,
        tenant,
        data: &data,
    };
    webhooks.publish(db, &event, now).await
}

/// What sales needs to pick the subject up: who it is, never a phone number.
async fn summary(db: &impl ConnectionTrait, subject: Subject) -> Result<Value, DbErr> {
    let sql = match subject {
        Subject::Lead(_) => {
            "SELECT id, name, company, phone_masked, source, customer_id FROM lead WHERE id = $1"
        }
        Subject::Customer(_) => {
            "SELECT id, external_userid, name, corp_name FROM customer WHERE id = $1"
        }
    };
    let row = db
        .query_one_raw(stmt(db, sql, [subject.id().into()]))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("{} {}", subject.kind(), subject.id())))?;
    Ok(match subject {
        Subject::Lead(id) => json!({
            "id": id,
            "name": row.try_get::<String>("", "name")?,
            "company": row.try_get::<Option<String>>("", "company")?,
            "phone_masked": row.try_get::<Option<String>>("", "phone_masked")?,
            "source": row.try_get::<String>("", "source")?,
            "customer_id": row.try_get::<Option<i64>>("", "customer_id")?,
        }),
        Subject::Customer(id) => json!({
            "id": id,
            "external_userid": row.try_get::<String>("", "external_userid")?,
            "name": row.try_get::<String>("", "name")?,
            "corp_name": row.try_get::<Option<String>>("", "corp_name")?,
        }),
    })
}

/// `reason` cut to the column's 255 characters.
fn bounded(reason: &str) -> String {
    reason.chars().take(255).collect()
}

/// One event of a subject's score history.
#[derive(Debug, Clone, PartialEq, Serialize, FromQueryResult)]
pub struct ScoreEntry {
    pub at: i64,
    pub kind: String,
    pub points: f64,
    pub reason: String,
}

/// The newest [`HISTORY_LIMIT`] score events of `subject`, newest first.
pub async fn history(
    db: &impl ConnectionTrait,
    subject: Subject,
) -> Result<Vec<ScoreEntry>, DbErr> {
    let rows = db
        .query_all_raw(stmt(
            db,
            "SELECT at, kind, points, reason FROM score_event \
             WHERE subject_type = $1 AND subject_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
            [
                subject.kind().into(),
                subject.id().into(),
                HISTORY_LIMIT.into(),
            ],
        ))
        .await?;
    rows.iter()
        .map(|row| ScoreEntry::from_query_result(row, ""))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_795_773_946_123;

    #[test]
    fn a_point_counts_half_after_each_half_life() {
        assert_eq!(decayed(20.0, T0, T0, 14.0), 20.0);
        assert_eq!(decayed(20.0, T0, T0 + 14 * DAY, 14.0), 10.0);
        assert_eq!(decayed(20.0, T0, T0 + 28 * DAY, 14.0), 5.0);
        assert_eq!(decayed(20.0, T0, T0 + 42 * DAY, 14.0), 2.5);
        assert_eq!(decayed(8.0, T0, T0 + 3 * DAY, 1.5), 2.0);
        // Half a half-life: 20 / √2.
        assert_eq!(decayed(20.0, T0, T0 + 7 * DAY, 14.0), 14.142135623730951);
        assert_eq!(decayed(0.0, T0, T0 + 7 * DAY, 14.0), 0.0);
    }

    #[test]
    fn a_score_never_grows_backwards_in_time() {
        assert_eq!(decayed(20.0, T0, T0 - DAY, 14.0), 20.0);
    }

    #[test]
    fn points_add_to_the_score_decayed_to_their_time() {
        let score = Score {
            value: 40.0,
            at: T0,
        };
        assert_eq!(
            score.plus(20.0, T0 + 14 * DAY, 14.0),
            Score {
                value: 40.0,
                at: T0 + 14 * DAY
            }
        );
        assert_eq!(
            Score::zero(T0).plus(20.0, T0, 14.0),
            Score {
                value: 20.0,
                at: T0
            }
        );
        // An event 14 days older than the score counts half, and the score keeps its time.
        assert_eq!(
            score.plus(20.0, T0 - 14 * DAY, 14.0),
            Score {
                value: 50.0,
                at: T0
            }
        );
        assert_eq!(score.at(T0 + 28 * DAY, 14.0), 10.0);
    }

    #[test]
    fn only_reaching_the_threshold_from_below_crosses_it() {
        assert!(crosses(10.0, 30.0, 30.0));
        assert!(crosses(29.99, 49.99, 30.0));
        assert!(!crosses(30.0, 50.0, 30.0), "already there");
        assert!(!crosses(40.0, 60.0, 30.0), "already above");
        assert!(!crosses(0.0, 29.99, 30.0), "not reached");
        assert!(!crosses(50.0, 20.0, 30.0), "falling");
        // Decayed below the threshold, then lifted over it again: a second crossing.
        let score = Score {
            value: 40.0,
            at: T0,
        };
        let later = T0 + 14 * DAY;
        let before = score.at(later, 14.0);
        assert_eq!(before, 20.0);
        assert!(crosses(before, score.plus(20.0, later, 14.0).value, 30.0));
    }

    #[test]
    fn two_registrations_close_together_cross_a_threshold_of_thirty_once() {
        let first = Score::zero(T0).plus(20.0, T0, 14.0);
        assert!(!crosses(0.0, first.value, 30.0));
        let second = first.plus(20.0, T0 + 60_000, 14.0);
        assert!(crosses(first.at(T0 + 60_000, 14.0), second.value, 30.0));
        let third = second.plus(20.0, T0 + 120_000, 14.0);
        assert!(!crosses(second.at(T0 + 120_000, 14.0), third.value, 30.0));
        assert_eq!(shown(second.value), 40.0);
    }

    #[test]
    fn shown_scores_are_rounded_to_hundredths() {
        assert_eq!(shown(14.142135623730951), 14.14);
        assert_eq!(shown(19.999999995), 20.0);
        assert_eq!(shown(40.0), 40.0);
    }

    #[test]
    fn each_kind_earns_its_configured_points() {
        let points = Points::default();
        let earned: Vec<(&str, f64)> = [
            ScoreKind::Click,
            ScoreKind::RepeatClick,
            ScoreKind::Registration,
            ScoreKind::GroupJoin,
            ScoreKind::Reply,
        ]
        .iter()
        .map(|k| (k.as_str(), k.points(&points)))
        .collect();
        assert_eq!(
            earned,
            [
                ("click", 2.0),
                ("repeat_click", 1.0),
                ("registration", 20.0),
                ("group_join", 5.0),
                ("reply", 3.0)
            ]
        );
    }
}
