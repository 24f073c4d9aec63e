//! Starting an approval: the rules route the request to levels of approvers, the requester's
//! manager is looked up where a level asks for them, the approval is stored, and each approver
//! of the first level is sent the approval_request card — in one transaction.

use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Approvals, RequestError, events};
use crate::domain::{
    approval::store::{self, NewApproval},
    rules::{ApprovalFacts, ApproverRef, Mode},
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

impl Approvals {
    /// Routes, stores and announces `request`; `actor` is recorded in the audit log.
    pub async fn start(
        &self,
        request: &ApprovalRequest,
        actor: &str,
        now: i64,
    ) -> Result<Started, RequestError> {
        validate(request)?;
        if !self.has_app(&request.platform, &request.tenant) {
            return Err(RequestError::Invalid(format!(
                "no {} app is configured for tenant `{}`",
                request.platform, request.tenant
            )));
        }
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
        let requester = self
            .person(&request.platform, &request.tenant, &request.requester)
            .await?;
        let needs_manager = route
            .levels
            .iter()
            .any(|level| level.approvers.contains(&ApproverRef::Manager));
        let manager = requester.manager.as_deref().filter(|_| needs_manager);
        let mut levels = Vec::with_capacity(route.levels.len());
        for level in &route.levels {
            let approvers = level
                .resolve(&self.rules, manager)
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
            requester_name: requester.name.unwrap_or_else(|| request.requester.clone()),
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
        self.cards()
            .ask_level(&txn, &row, 1, &levels[0].approvers, None, now)
            .await?;
        let detail = json!({ "rule": route.rule, "levels": levels, "request": {
            "kind": request.kind, "title": request.title, "requester": request.requester,
            "amount": request.amount, "discount_pct": request.discount_pct,
        }});
        self.changed(
            &txn,
            &row,
            events::Change::new("requested", actor, detail),
            now,
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
