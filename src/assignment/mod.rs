//! Lead assignment: a new or newly qualified lead is routed by the rules to a rep (directly,
//! or picked from a pool), offered on a lead_assigned card with Accept and Reassign, and given
//! a first_contact task. Reassign, or no answer in time, moves it to the pool's next rep and
//! tells the pool's manager.
//!
//! Everything runs in the transaction of the change that caused it (the lead's creation, a
//! score crossing, a tap, a timeout), with the lead's row locked first, so an assignment and
//! its card and task commit together or not at all.

mod cards;
pub mod pick;
pub mod store;
pub mod tap;
pub mod timeouts;

use std::{sync::Arc, time::Duration};

use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;

use crate::{
    audit,
    cards::Templates,
    domain::{
        calendar::WorkingHours,
        lead::score::{self, Subject},
        rules::{LeadFacts, Rules, Target},
        task::store::{self as tasks, NewTask},
    },
    webhooks::{WebhookEvent, Webhooks},
};
use store::{AssignmentRow, LeadRow, NewAssignment, state};

/// The `kind` of the task each offer makes.
pub const FIRST_CONTACT: &str = "first_contact";

/// Audit actions on a lead (subject `lead`, its id).
pub mod action {
    pub const OFFERED: &str = "lead.offered";
    pub const ACCEPTED: &str = "lead.accepted";
    pub const REASSIGNED: &str = "lead.reassigned";
    pub const TIMED_OUT: &str = "lead.timed_out";
    /// No rule and no default took the lead, or a rule failed on it.
    pub const UNASSIGNED: &str = "lead.unassigned";
    /// Every member of the pool was offered the lead; it stays with the pool's manager.
    pub const TO_MANAGER: &str = "lead.to_manager";
    pub const TAP_REFUSED: &str = "lead.tap_refused";
}

/// Everything assignment needs, built once per process.
pub struct Assigner {
    pub rules: Arc<Rules>,
    pub templates: Arc<Templates>,
    pub calendar: Arc<WorkingHours>,
    pub locale: String,
    pub public_base_url: String,
    /// Where the lead's changes are announced (`lead.offered`, `lead.accepted`, ...).
    pub webhooks: Arc<Webhooks>,
}

/// How a lead ended up after [`Assigner::assign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigned {
    /// Offered to a rep now.
    Offered(AssignmentRow),
    /// It has an owner already; nothing changed.
    AlreadyOwned,
    /// No rule and no default took it, or a rule failed (the reason is in its audit log).
    Unassigned(String),
}

/// Why an offer ended without an Accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassedOn {
    /// The rep tapped Reassign.
    Reassigned,
    /// The rep did not answer by the deadline.
    TimedOut,
}

impl PassedOn {
    pub fn state(self) -> &'static str {
        match self {
            Self::Reassigned => state::REASSIGNED,
            Self::TimedOut => state::TIMED_OUT,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Self::Reassigned => action::REASSIGNED,
            Self::TimedOut => action::TIMED_OUT,
        }
    }
}

impl Assigner {
    /// Routes lead `lead_id` by the assignment rules and offers it, unless it has an owner.
    /// Run it in the transaction of the change that made or qualified the lead.
    #[tracing::instrument(skip_all, fields(lead_id))]
    pub async fn assign(
        &self,
        db: &impl ConnectionTrait,
        lead_id: i64,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<Assigned, DbErr> {
        let lead = store::lock_lead(db, lead_id)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound(format!("lead {lead_id}")))?;
        if lead.owner.is_some() {
            return Ok(Assigned::AlreadyOwned);
        }
        let facts = self.facts(&lead, now);
        let choice = match self.rules.assign(&facts) {
            Ok(Some(choice)) => choice,
            Ok(None) => {
                let reason = "no assignment rule matches and there is no default".to_owned();
                return self.unassigned(db, &lead, reason, now).await;
            }
            Err(e) => return self.unassigned(db, &lead, e.to_string(), now).await,
        };
        let assignment = self.rules.assignment();
        let (rep, platform, pool) = match &choice.target {
            Target::User(rep) => (rep.clone(), assignment.platform(), None),
            Target::Pool(name) => {
                let pool = self
                    .rules
                    .pool(name)
                    .expect("the rules check that targets name defined pools");
                let rep = pick::pick(db, &lead.tenant, pool, &[])
                    .await?
                    .expect("a pool has members and none was tried");
                (rep, pool.platform.as_str(), Some(pool.name.as_str()))
            }
        };
        let row = self
            .offer(
                db,
                &lead,
                (&rep, platform, pool),
                &choice.rule,
                inbox_id,
                now,
            )
            .await?;
        Ok(Assigned::Offered(row))
    }

    /// A customer's score crossed the threshold: their lead (made now if they have none) is
    /// assigned. A customer not of `tenant` is left alone.
    pub async fn qualified(
        &self,
        db: &impl ConnectionTrait,
        tenant: &str,
        subject: Subject,
        now: i64,
    ) -> Result<(), DbErr> {
        let lead_id = match subject {
            Subject::Lead(id) => Some(id),
            Subject::Customer(id) => store::lead_for_customer(db, tenant, id, now).await?,
        };
        if let Some(lead_id) = lead_id {
            self.assign(db, lead_id, None, now).await?;
        }
        Ok(())
    }

    /// What the rules see of `lead` at `now`.
    fn facts(&self, lead: &LeadRow, now: i64) -> LeadFacts {
        let half_life = self.rules.lead_score().half_life_days();
        LeadFacts {
            name: lead.name.clone(),
            company: lead.company.clone().unwrap_or_default(),
            region: lead.region.clone().unwrap_or_default(),
            industry: lead.industry.clone().unwrap_or_default(),
            source: lead.source.clone(),
            score: score::decayed(lead.score, lead.score_at, now, half_life),
            tags: lead.tags(),
            tenant: lead.tenant.clone(),
            fields: lead.fields(),
        }
    }

    async fn unassigned(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        reason: String,
        now: i64,
    ) -> Result<Assigned, DbErr> {
        tracing::info!(lead_id = lead.id, %reason, "lead left unassigned");
        let detail = json!({ "reason": reason });
        self.changed(db, lead, "system", action::UNASSIGNED, &detail, now)
            .await?;
        Ok(Assigned::Unassigned(reason))
    }

    /// Offers `lead` to `rep` on `platform` (picked from `pool`, routed by `rule`): the offer,
    /// the owner, the first_contact task and the card.
    async fn offer(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        (rep, platform, pool): (&str, &str, Option<&str>),
        rule: &str,
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<AssignmentRow, DbErr> {
        let settings = self.rules.assignment();
        let expires_at = self
            .calendar
            .add(now, minutes(settings.accept_within_mins()));
        let new = NewAssignment {
            lead_id: lead.id,
            tenant: &lead.tenant,
            platform,
            rep,
            pool,
            rule,
            expires_at,
        };
        let row = store::insert(db, &new, now).await?;
        store::set_owner(db, lead.id, Some((rep, platform)), now).await?;
        let due_at = self
            .calendar
            .add(now, minutes(settings.first_contact_within_mins()));
        let task = NewTask {
            tenant: lead.tenant.clone(),
            platform: platform.to_owned(),
            assignee: rep.to_owned(),
            title: self.cards().task_title(lead),
            note: String::new(),
            kind: FIRST_CONTACT.to_owned(),
            lead_id: Some(lead.id),
            deal_id: None,
            customer_id: lead.customer_id,
            due_at,
            source: Some(store::task_source(row.id)),
            created_by: "system".to_owned(),
        };
        tasks::insert(db, &task, now).await?;
        self.cards()
            .offer(db, lead, &row, rule, due_at, inbox_id, now)
            .await?;
        let detail = json!({
            "assignment_id": row.id, "rep": rep, "platform": platform, "pool": pool,
            "rule": rule, "expires_at": expires_at, "first_contact_due_at": due_at,
        });
        self.changed(db, lead, "system", action::OFFERED, &detail, now)
            .await?;
        tracing::info!(
            lead_id = lead.id,
            assignment_id = row.id,
            rep,
            pool,
            rule,
            "lead offered"
        );
        Ok(row)
    }

    /// Ends the open offer `row` of `lead` (locked by the caller) as `how`, by `actor` (the rep,
    /// or `system` for a timeout): its
    /// card and task close, and the lead goes to the pool's next rep not yet tried, or to the
    /// pool's manager when every member was tried; the manager is told either way. False when
    /// the offer was not open any more (nothing changes then).
    pub async fn pass_on(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        row: &AssignmentRow,
        (how, actor): (PassedOn, &str),
        inbox_id: Option<i64>,
        now: i64,
    ) -> Result<bool, DbErr> {
        if !store::settle(db, row.id, how.state(), now).await? {
            return Ok(false);
        }
        let cards = self.cards();
        cards
            .settle(db, lead, row, how.state(), actor, inbox_id, now)
            .await?;
        if let Some(task) = store::first_contact_task(db, row.id).await? {
            tasks::cancel(db, task, now).await?;
        }
        let mut detail = json!({ "assignment_id": row.id, "rep": row.rep, "pool": row.pool });

        // The pool the offer came from, else the default pool for a rep a rule named.
        let pool = match &row.pool {
            Some(name) => self.rules.pool(name),
            None => match self.rules.assignment().default_target() {
                Some(Target::Pool(name)) => self.rules.pool(name),
                _ => None,
            },
        };
        let Some(pool) = pool else {
            store::set_owner(db, lead.id, None, now).await?;
            detail["next"] = json!(null);
            self.changed(db, lead, actor, how.action(), &detail, now)
                .await?;
            let reason = "no pool to pass the lead on to; it has no owner".to_owned();
            self.unassigned(db, lead, reason, now).await?;
            return Ok(true);
        };
        let tried = store::tried(db, lead.id).await?;
        let next = pick::pick(db, &lead.tenant, pool, &tried).await?;
        detail["next"] = json!(next);
        self.changed(db, lead, actor, how.action(), &detail, now)
            .await?;
        match &next {
            Some(rep) => {
                let target = (
                    rep.as_str(),
                    pool.platform.as_str(),
                    Some(pool.name.as_str()),
                );
                self.offer(db, lead, target, &row.rule, inbox_id, now)
                    .await?;
            }
            None => {
                store::set_owner(db, lead.id, Some((&pool.manager, &pool.platform)), now).await?;
                let detail = json!({ "pool": pool.name, "manager": pool.manager, "tried": tried });
                self.changed(db, lead, "system", action::TO_MANAGER, &detail, now)
                    .await?;
            }
        }
        cards
            .tell_manager(db, lead, row, pool, how, next.as_deref(), inbox_id, now)
            .await?;
        Ok(true)
    }

    /// Records a change of `lead` in its audit log and announces it to the webhooks under its
    /// action's name, in the transaction of the change. Each change is one event: a lead is
    /// offered, accepted or passed on at most once per assignment and time.
    pub(crate) async fn changed(
        &self,
        db: &impl ConnectionTrait,
        lead: &LeadRow,
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
        now: i64,
    ) -> Result<(), DbErr> {
        let id = lead.id.to_string();
        audit::record(db, now, actor, action, ("lead", &id), detail).await?;
        let assignment = detail["assignment_id"].as_i64().unwrap_or_default();
        let event_id = format!("lead:{id}:{action}:{assignment}:{now}");
        let data = json!({ "lead_id": lead.id, "actor": actor, "detail": detail });
        let event = WebhookEvent {
            id: &event_id,
            kind: action,
            tenant: &lead.tenant,
            data: &data,
        };
        self.webhooks.publish(db, &event, now).await
    }

    fn cards(&self) -> cards::Cards<'_> {
        cards::Cards {
            templates: &self.templates,
            calendar: &self.calendar,
            locale: &self.locale,
            public_base_url: &self.public_base_url,
        }
    }
}

fn minutes(mins: u32) -> Duration {
    Duration::from_secs(u64::from(mins) * 60)
}
