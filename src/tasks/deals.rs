//! Deals through the API: created (idempotent on the CRM's reference) and changed; a stage
//! change runs the stage's task rules in the same transaction.

use sea_orm::TransactionTrait;
use serde::Deserialize;
use serde_json::json;

use super::{
    Record, TaskError, Tasks,
    work::{platform, word},
};
use crate::domain::deal::{
    MAX_STAGE_CHARS,
    store::{self, DealRow, NewDeal},
};

/// Longest deal name, in characters.
const MAX_NAME_CHARS: usize = 120;

/// `POST /api/v1/deals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealInput {
    pub tenant: String,
    /// `wecom` (default) or `dingtalk`: where the owner works.
    #[serde(default)]
    pub platform: Option<String>,
    pub name: String,
    pub stage: String,
    #[serde(default)]
    pub amount: f64,
    pub owner: String,
    #[serde(default)]
    pub lead_id: Option<i64>,
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The deal's id in the CRM: posting it again returns the stored deal.
    #[serde(default)]
    pub external_ref: Option<String>,
    /// Epoch ms of the last work on it; now when not given.
    #[serde(default)]
    pub last_activity_at: Option<i64>,
}

/// `PATCH /api/v1/deals/{id}`; any change counts as activity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub last_activity_at: Option<i64>,
}

fn stage(text: &str) -> Result<String, TaskError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_STAGE_CHARS {
        return Err(TaskError::Invalid(format!(
            "`stage` must be 1 to {MAX_STAGE_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

fn name(text: &str) -> Result<String, TaskError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_NAME_CHARS {
        return Err(TaskError::Invalid(format!(
            "`name` must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(text.to_string())
}

fn amount(value: f64) -> Result<f64, TaskError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(TaskError::Invalid("`amount` must be 0 or more".into()))
    }
}

impl Tasks {
    /// Stores a deal; with an `external_ref` the tenant used already, returns that deal and
    /// `false`. A new deal runs the task rules of its stage.
    pub async fn create_deal(
        &self,
        input: &DealInput,
        actor: &str,
        now: i64,
    ) -> Result<(DealRow, bool), TaskError> {
        let deal = NewDeal {
            tenant: word("tenant", &input.tenant)?,
            platform: platform(input.platform.as_deref().unwrap_or("wecom"))?,
            name: name(&input.name)?,
            stage: stage(&input.stage)?,
            amount: amount(input.amount)?,
            owner: word("owner", &input.owner)?,
            lead_id: input.lead_id,
            customer_id: input.customer_id,
            external_ref: input
                .external_ref
                .as_deref()
                .map(|r| word("external_ref", r))
                .transpose()?,
            last_activity_at: input.last_activity_at,
        };
        let txn = self.db.begin().await?;
        let Some(created) = store::insert(&txn, &deal, now).await? else {
            txn.rollback().await?;
            let reference = deal.external_ref.as_deref().unwrap_or_default();
            let existing = store::by_ref(&self.db, &deal.tenant, reference).await?;
            return existing
                .map(|deal| (deal, false))
                .ok_or_else(|| TaskError::Invalid("the deal's reference is taken".into()));
        };
        self.stage_changed(&txn, "", &created, actor, now).await?;
        txn.commit().await?;
        Ok((created, true))
    }

    /// Applies `patch` to deal `id`; a new stage runs its task rules.
    pub async fn update_deal(
        &self,
        id: i64,
        patch: &DealPatch,
        actor: &str,
        now: i64,
    ) -> Result<DealRow, TaskError> {
        let change = store::Change {
            name: patch.name.as_deref().map(name).transpose()?,
            stage: patch.stage.as_deref().map(stage).transpose()?,
            amount: patch.amount.map(amount).transpose()?,
            owner: patch
                .owner
                .as_deref()
                .map(|o| word("owner", o))
                .transpose()?,
            last_activity_at: patch.last_activity_at,
        };
        let txn = self.db.begin().await?;
        let before = store::lock(&txn, id).await?.ok_or(TaskError::NoDeal(id))?;
        let after = store::update(&txn, id, &change, now)
            .await?
            .ok_or(TaskError::NoDeal(id))?;
        if !before.stage.eq_ignore_ascii_case(&after.stage) {
            self.stage_changed(&txn, &before.stage, &after, actor, now)
                .await?;
        } else {
            let detail = json!({
                "name": patch.name, "amount": patch.amount, "owner": patch.owner,
                "previous_owner": before.owner,
            });
            self.record(
                &txn,
                Record {
                    subject: ("deal", id.to_string()),
                    action: "deal.updated",
                    actor,
                    detail,
                    tenant: &after.tenant,
                    webhook: None,
                },
                now,
            )
            .await?;
        }
        txn.commit().await?;
        Ok(after)
    }
}
