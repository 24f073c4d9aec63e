//! The task rules at work: what happens after a task is done, a deal changes stage, or a
//! lead or customer with an owner registers. Each runs inside the transaction of the change
//! that triggered it. A rule's task is created once per triggering change: its source names
//! the rule and the change, so a replayed event finds it made.

use sea_orm::ConnectionTrait;
use serde_json::json;

use super::{Record, TaskError, Tasks};
use crate::domain::{
    deal::store::{self as deals, DealRow},
    rules::{TaskEvent, TaskTemplate},
    task::store::{self, NewTask, TaskRow},
};

/// Who a rule's task is for and what it is about.
pub struct Owner<'a> {
    pub tenant: &'a str,
    pub platform: &'a str,
    pub assignee: &'a str,
    pub lead_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub customer_id: Option<i64>,
}

impl Tasks {
    /// After `done` was completed: its deal's activity, each `task_done` rule for its
    /// kind (stage move, then the next task).
    pub(super) async fn after_done(
        &self,
        db: &impl ConnectionTrait,
        done: &TaskRow,
        now: i64,
    ) -> Result<(), TaskError> {
        if let Some(deal) = done.deal_id {
            deals::touch(db, deal, now).await?;
        }
        let rules: Vec<_> = self
            .rules
            .task_rules_for(TaskEvent::TaskDone(&done.kind))
            .cloned()
            .collect();
        for rule in rules {
            let actor = format!("rule:{}", rule.name);
            if let (Some(stage), Some(deal)) = (&rule.set_stage, done.deal_id) {
                self.move_stage(db, deal, stage, &actor, now).await?;
            }
            if let Some(template) = &rule.task {
                let owner = Owner {
                    tenant: &done.tenant,
                    platform: &done.platform,
                    assignee: &done.assignee,
                    lead_id: done.lead_id,
                    deal_id: done.deal_id,
                    customer_id: done.customer_id,
                };
                let source = format!("rule:{}:task:{}", rule.name, done.id);
                self.from_rule(db, template, &owner, source, &actor, now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Moves deal `id` to `stage` (nothing when it is there already) and runs the stage's
    /// rules.
    pub(super) async fn move_stage(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        stage: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), TaskError> {
        let deal = deals::lock(db, id).await?.ok_or(TaskError::NoDeal(id))?;
        if deal.stage.eq_ignore_ascii_case(stage) {
            return Ok(());
        }
        let change = deals::Change {
            stage: Some(stage.to_string()),
            ..Default::default()
        };
        let moved = deals::update(db, id, &change, now)
            .await?
            .ok_or(TaskError::NoDeal(id))?;
        self.stage_changed(db, &deal.stage, &moved, actor, now)
            .await
    }

    /// Records `deal`'s move from stage `from` and runs the `deal_stage` rules of its new one.
    pub(super) async fn stage_changed(
        &self,
        db: &impl ConnectionTrait,
        from: &str,
        deal: &DealRow,
        actor: &str,
        now: i64,
    ) -> Result<(), TaskError> {
        self.record(
            db,
            Record {
                subject: ("deal", deal.id.to_string()),
                action: "deal.stage_changed",
                actor,
                detail: json!({ "from": from, "to": deal.stage, "owner": deal.owner }),
                tenant: &deal.tenant,
                webhook: Some("deal.stage_changed"),
            },
            now,
        )
        .await?;
        let rules: Vec<_> = self
            .rules
            .task_rules_for(TaskEvent::DealStage(&deal.stage))
            .cloned()
            .collect();
        for rule in rules {
            let Some(template) = &rule.task else {
                continue;
            };
            let owner = Owner {
                tenant: &deal.tenant,
                platform: &deal.platform,
                assignee: &deal.owner,
                lead_id: deal.lead_id,
                deal_id: Some(deal.id),
                customer_id: deal.customer_id,
            };
            // A deal can come back to a stage; each arrival is its own change.
            let source = format!("rule:{}:deal:{}:{}:{now}", rule.name, deal.id, deal.stage);
            let actor = format!("rule:{}", rule.name);
            self.from_rule(db, template, &owner, source, &actor, now)
                .await?;
        }
        Ok(())
    }

    /// Runs the `registration` rules for registration `registration_id` of something `owner`
    /// owns, in the registration's transaction; returns the tasks created.
    pub async fn after_registration(
        &self,
        db: &impl ConnectionTrait,
        owner: &Owner<'_>,
        registration_id: i64,
        now: i64,
    ) -> Result<Vec<TaskRow>, TaskError> {
        let rules: Vec<_> = self
            .rules
            .task_rules_for(TaskEvent::Registration)
            .cloned()
            .collect();
        let mut created = Vec::new();
        for rule in rules {
            let Some(template) = &rule.task else {
                continue;
            };
            let source = format!("rule:{}:registration:{registration_id}", rule.name);
            let actor = format!("rule:{}", rule.name);
            created.extend(
                self.from_rule(db, template, owner, source, &actor, now)
                    .await?,
            );
        }
        Ok(created)
    }

    /// Creates `template`'s task for `owner`, due after its working time, unless `source`
    /// made one already.
    async fn from_rule(
        &self,
        db: &impl ConnectionTrait,
        template: &TaskTemplate,
        owner: &Owner<'_>,
        source: String,
        actor: &str,
        now: i64,
    ) -> Result<Option<TaskRow>, TaskError> {
        let task = NewTask {
            tenant: owner.tenant.to_string(),
            platform: owner.platform.to_string(),
            assignee: owner.assignee.to_string(),
            title: template.title.clone(),
            note: template.note.clone(),
            kind: template.kind.clone(),
            lead_id: owner.lead_id,
            deal_id: owner.deal_id,
            customer_id: owner.customer_id,
            due_at: self.calendar.add(now, template.due_in),
            source: Some(crate::cards::message::bounded_key_to(source, 255)),
            created_by: actor.to_string(),
        };
        let Some(created) = store::insert(db, &task, now).await? else {
            return Ok(None);
        };
        self.created(db, &created, actor, now).await?;
        Ok(Some(created))
    }
}
