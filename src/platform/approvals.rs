//! Starting an approval: the rules route the request to levels of approvers, the requester's
//! manager is looked up where a level asks for them, the approval is stored, and each approver
//! of the first level is sent the approval_request card — in one transaction.

use salesbot_wecom::api::User;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::wecom::{PLATFORM as WECOM, WecomApps};
use crate::{
    audit,
    cards::{Card, MessageKind, Notice, Recipient, Templates, message},
    domain::{
        approval::store::{self, ApprovalRow, NewApproval},
        rules::{ApprovalFacts, ApproverRef, Mode, Rules},
        time::local_minute,
    },
};

/// A request for approval, as the API takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub tenant: String,
    pub platform: String,
    pub kind: String,
    pub title: String,
    pub requester: String,
    #[serde(default)]
    pub amount: f64,
    #[serde(default)]
    pub discount_pct: f64,
    #[serde(default)]
    pub subject: Option<Subject>,
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub link: Option<String>,
}

/// What the approval is about, e.g. `{"type": "deal", "id": "D-1024"}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

/// A started approval.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    pub id: i64,
    pub status: &'static str,
    pub rule: String,
    pub levels: Vec<StartedLevel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StartedLevel {
    pub approvers: Vec<String>,
    pub mode: &'static str,
}

/// Why a request was not started.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
    /// No rule routes it, or its route cannot be followed (no manager, say).
    #[error("{0}")]
    Unroutable(String),
    /// The platform could not be asked (the requester's manager).
    #[error("{0}")]
    Platform(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Everything starting an approval needs.
pub struct Approvals<'a> {
    pub db: &'a DatabaseConnection,
    pub rules: &'a Rules,
    pub templates: &'a Templates,
    pub wecom: &'a WecomApps,
    pub locale: &'a str,
    pub public_base_url: &'a str,
}

impl Approvals<'_> {
    /// The approval cards in this service's templates and locale.
    fn cards(&self) -> Cards<'_> {
        Cards {
            templates: self.templates,
            locale: self.locale,
            public_base_url: self.public_base_url,
        }
    }

    /// Routes, stores and announces `request`; `actor` is recorded in the audit log.
    pub async fn start(
        &self,
        request: &ApprovalRequest,
        actor: &str,
        now: i64,
    ) -> Result<Started, RequestError> {
        validate(request)?;
        let Some(app) = self
            .wecom
            .get(&request.tenant)
            .filter(|_| request.platform == WECOM)
        else {
            return Err(RequestError::Invalid(format!(
                "no {} app is configured for tenant `{}`; approvals are sent through WeCom",
                request.platform, request.tenant
            )));
        };
        let subject = request.subject.clone().unwrap_or_default();
        let facts = ApprovalFacts {
            kind: request.kind.clone(),
            title: request.title.clone(),
            requester: request.requester.clone(),
            amount: request.amount,
            discount_pct: request.discount_pct,
            tenant: request.tenant.clone(),
            platform: request.platform.clone(),
            fields: request.fields.clone(),
            subject_type: subject.kind.clone(),
            subject_id: subject.id.clone(),
        };
        let route = self
            .rules
            .route(&facts)
            .map_err(|e| RequestError::Unroutable(e.to_string()))?
            .ok_or_else(|| RequestError::Unroutable(facts.no_match_reason()))?;
        let needs_manager = route
            .levels
            .iter()
            .any(|level| level.approvers.contains(&ApproverRef::Manager));
        let requester = user(app, &request.requester).await?;
        let manager = match app.managers.get(&request.requester) {
            Some(manager) => Some(manager.clone()),
            None if needs_manager => requester
                .as_ref()
                .and_then(|u| u.direct_leader.first().cloned()),
            None => None,
        };
        let mut levels = Vec::with_capacity(route.levels.len());
        for level in &route.levels {
            let approvers = level
                .resolve(self.rules, manager.as_deref())
                .map_err(|e| RequestError::Unroutable(e.to_string()))?;
            let mode = match level.mode {
                Mode::Any => "any",
                Mode::All => "all",
            };
            levels.push(StartedLevel { approvers, mode });
        }
        let approval = NewApproval {
            tenant: request.tenant.clone(),
            platform: request.platform.clone(),
            kind: request.kind.clone(),
            title: request.title.clone(),
            requester: request.requester.clone(),
            requester_name: requester
                .as_ref()
                .and_then(|u| u.name.clone())
                .unwrap_or_else(|| request.requester.clone()),
            amount: request.amount,
            discount_pct: request.discount_pct,
            subject_type: subject.kind.clone(),
            subject_id: subject.id.clone(),
            fields: json!(request.fields),
            link: request.link.clone(),
            rule: route.rule.clone(),
            levels: levels
                .iter()
                .map(|l| (l.approvers.clone(), l.mode.to_owned()))
                .collect(),
        };
        let txn = self.db.begin().await?;
        let id = store::insert(&txn, &approval, now).await?;
        let row = store::get(&txn, id)
            .await?
            .ok_or(sea_orm::DbErr::RecordNotFound(format!("approval {id}")))?;
        let cards = self.cards();
        cards
            .ask_level(&txn, &row, 1, &levels[0].approvers, None, now)
            .await?;
        let detail = json!({ "rule": route.rule, "levels": levels, "request": {
            "kind": request.kind, "title": request.title, "requester": request.requester,
            "amount": request.amount, "discount_pct": request.discount_pct,
        }});
        audit::record(
            &txn,
            now,
            actor,
            "approval.requested",
            ("approval", &id.to_string()),
            &detail,
        )
        .await?;
        txn.commit().await?;
        Ok(Started {
            id,
            status: store::status::PENDING,
            rule: route.rule,
            levels,
        })
    }
}

/// Why an approval was not withdrawn.
#[derive(Debug, thiserror::Error)]
pub enum WithdrawError {
    #[error("no approval {0}")]
    NotFound(i64),
    #[error("only the requester `{0}` can withdraw the approval")]
    NotRequester(String),
    #[error("the approval is {0} already")]
    Decided(String),
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

impl Approvals<'_> {
    /// Withdraws pending approval `id` at its requester's wish: the approval ends as withdrawn
    /// and the open cards of its current level show "withdrawn".
    pub async fn withdraw(
        &self,
        id: i64,
        requester: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), WithdrawError> {
        let txn = self.db.begin().await?;
        let approval = store::lock(&txn, id)
            .await?
            .ok_or(WithdrawError::NotFound(id))?;
        if !approval.requester.eq_ignore_ascii_case(requester) {
            return Err(WithdrawError::NotRequester(approval.requester));
        }
        if approval.status != store::status::PENDING {
            return Err(WithdrawError::Decided(approval.status));
        }
        store::finish(&txn, id, store::status::WITHDRAWN, now).await?;
        let cards = self.cards();
        let open = store::steps(&txn, id)
            .await?
            .into_iter()
            .filter(|step| step.level == approval.current_level && step.decision.is_none());
        for step in open {
            let Some(key) = step.card_key else { continue };
            let card = cards.request_card(
                &approval,
                step.level,
                &step.approver,
                Some((store::status::WITHDRAWN, &approval.requester_name, now)),
            )?;
            message::update(&txn, &key, &card, None, now)
                .await
                .map_err(|e| RequestError::Invalid(e.to_string()))?;
        }
        let detail = json!({ "requester": requester, "level": approval.current_level });
        audit::record(
            &txn,
            now,
            actor,
            "approval.withdrawn",
            ("approval", &id.to_string()),
            &detail,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

/// The requester as WeCom knows them; `None` when the app cannot see them.
async fn user(app: &super::wecom::WecomApp, userid: &str) -> Result<Option<User>, RequestError> {
    match app.client.get_user(userid).await {
        Ok(user) => Ok(Some(user)),
        Err(err) if err.retryable() => Err(RequestError::Platform(err.to_string())),
        Err(err) => {
            tracing::warn!(userid, error = %err, "cannot read the requester");
            Ok(None)
        }
    }
}

fn validate(request: &ApprovalRequest) -> Result<(), RequestError> {
    let invalid = |reason: &str| Err(RequestError::Invalid(reason.into()));
    let text = |value: &str, max: usize| !value.trim().is_empty() && value.chars().count() <= max;
    if !text(&request.kind, 64) {
        return invalid("`kind` must be 1-64 characters");
    }
    if !text(&request.title, 255) {
        return invalid("`title` must be 1-255 characters");
    }
    if !text(&request.requester, 64) {
        return invalid("`requester` must be a user id of 1-64 characters");
    }
    if !request.amount.is_finite() || request.amount < 0.0 {
        return invalid("`amount` must be a number of 0 or more");
    }
    if !(0.0..=100.0).contains(&request.discount_pct) {
        return invalid("`discount_pct` must be between 0 and 100");
    }
    if !matches!(request.platform.as_str(), "wecom" | "dingtalk") {
        return invalid("`platform` must be wecom or dingtalk");
    }
    Ok(())
}

/// How approval cards are rendered and sent: the request to each approver of a level, its
/// updates, and the decision to the requester.
pub struct Cards<'a> {
    pub templates: &'a Templates,
    pub locale: &'a str,
    pub public_base_url: &'a str,
}

impl Cards<'_> {
    /// Sends each approver of `level` the approval_request card and records which card it is.
    pub async fn ask_level(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        approval: &ApprovalRow,
        level: i32,
        approvers: &[String],
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        for approver in approvers {
            let card = self.request_card(approval, level, approver, None)?;
            let notice = Notice {
                platform: approval.platform.clone(),
                tenant: approval.tenant.clone(),
                kind: MessageKind::ApprovalRequest,
                subject: format!("approval:{}:level:{level}", approval.id),
                version: 1,
                card,
            };
            let recipient = Recipient::User(approver.clone());
            message::send(db, &notice, std::slice::from_ref(&recipient), inbox_id, now)
                .await
                .map_err(|e| RequestError::Invalid(e.to_string()))?;
            let key = message::send_key(&notice, &recipient);
            store::set_card(db, approval.id, level, approver, &key).await?;
        }
        Ok(())
    }

    /// The approval_request card for `approver`, open or (with `state`: key, by, at) decided.
    pub fn request_card(
        &self,
        approval: &ApprovalRow,
        level: i32,
        approver: &str,
        state: Option<(&str, &str, i64)>,
    ) -> Result<Card, RequestError> {
        let mut data = self.data(approval);
        data["approval"]["step"] = json!(format!("{level}/{}", approval.level_count));
        data["approver"] = json!({ "name": approver });
        let rendered = match state {
            None => self
                .templates
                .render(MessageKind::ApprovalRequest, self.locale, &data),
            Some((key, by, at)) => {
                data["state"] = json!({ "by": by, "at": local_minute(at), "comment": "" });
                self.templates
                    .render_state(MessageKind::ApprovalRequest, self.locale, key, &data)
            }
        };
        rendered.map_err(|e| RequestError::Invalid(e.to_string()))
    }

    /// Tells the requester how their approval ended, once.
    pub async fn tell_requester(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        approval: &ApprovalRow,
        result: &str,
        by: &str,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<(), RequestError> {
        let mut data = self.data(approval);
        data["decision"] =
            json!({ "result": result, "by": by, "at": local_minute(now), "comment": "" });
        let card = self
            .templates
            .render(MessageKind::ApprovalDecided, self.locale, &data)
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        let notice = Notice {
            platform: approval.platform.clone(),
            tenant: approval.tenant.clone(),
            kind: MessageKind::ApprovalDecided,
            subject: format!("approval:{}", approval.id),
            version: 1,
            card,
        };
        let requester = Recipient::User(approval.requester.clone());
        message::send(db, &notice, &[requester], inbox_id, now)
            .await
            .map_err(|e| RequestError::Invalid(e.to_string()))?;
        Ok(())
    }

    /// The variables the approval templates share (docs/templates.md).
    fn data(&self, approval: &ApprovalRow) -> serde_json::Value {
        let fields: serde_json::Value = serde_json::from_str(&approval.fields).unwrap_or_default();
        let field = |name: &str| match &fields[name] {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        json!({
            "approval": {
                "id": approval.id.to_string(),
                "discount_pct": format_number(approval.discount_pct),
                "reason": field("reason"),
                "submitted_at": local_minute(approval.created_at),
            },
            "requester": { "name": approval.requester_name },
            "customer": { "name": field("customer") },
            "deal": {
                "id": approval.subject_id,
                "name": approval.title,
                "amount": format!("¥{}", format_number(approval.amount)),
            },
            "links": {
                "approval": approval.link.clone().unwrap_or_else(|| self.public_base_url.to_owned()),
            },
        })
    }
}

/// `15` rather than `15.0`, `12.5` as is.
fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}
