//! The approval commands: `approval` starts one with the sender as requester, `withdraw`
//! withdraws one of theirs. This file is the only place chat reaches the approvals service.
//!
//! The service commits in its own transaction, before the answer is enqueued in the event's.
//! It records the command's key as the actor of its audit entry in that transaction, so a
//! command run again after the first run committed (the worker failed before the answer did)
//! finds the entry and answers from what was stored instead of starting a second approval.

use std::{collections::BTreeMap, sync::Arc};

use sea_orm::DatabaseConnection;

use super::{
    answer::{Answer, Level},
    command::ApprovalArgs,
    incoming::Incoming,
};
use crate::{
    approvals::{ApprovalRequest, Approvals, RequestError, WithdrawError},
    audit,
    domain::approval::store,
    pipeline::HandlerError,
};

/// Audit actions the service records, by which a command finds its earlier run.
const REQUESTED: &str = "approval.requested";
const WITHDRAWN: &str = "approval.withdrawn";

/// The approval commands, over the approvals service.
pub struct ApprovalCommands {
    pub approvals: Arc<Approvals>,
}

impl ApprovalCommands {
    fn service(&self) -> &Approvals {
        &self.approvals
    }

    /// Starts the approval `args` describe, once per command `key`.
    pub async fn start(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        key: &str,
        args: &ApprovalArgs,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        if let Some(entry) = audit::first_by_actor(db, key, REQUESTED).await? {
            tracing::info!(approval = %entry.subject_id, "approval started by an earlier run");
            return started_earlier(db, &entry.subject_id).await;
        }
        let request = ApprovalRequest {
            tenant: incoming.tenant.clone(),
            platform: incoming.platform.to_owned(),
            kind: args.kind.clone(),
            title: args.title.clone(),
            requester: incoming.sender.clone(),
            amount: args.amount,
            discount_pct: args.discount_pct,
            subject: None,
            fields: BTreeMap::new(),
            link: None,
        };
        match self.service().start(&request, key, now).await {
            Ok(started) => Ok(Answer::Started {
                id: started.id,
                levels: started
                    .levels
                    .into_iter()
                    .map(|level| Level {
                        approvers: level.approvers,
                        mode: level.mode.to_owned(),
                    })
                    .collect(),
            }),
            Err(RequestError::Invalid(reason)) => Ok(Answer::NotStarted { reason }),
            Err(RequestError::Unroutable(reason)) => Ok(Answer::Unroutable { reason }),
            Err(RequestError::Platform(reason)) => {
                tracing::warn!(%reason, "approval not started: the platform could not be asked");
                Ok(Answer::Fault)
            }
            Err(RequestError::Database(e)) => Err(HandlerError::Database(e)),
        }
    }

    /// Withdraws approval `id` for the sender, once per command `key`. An approval of another
    /// tenant or platform is answered as unknown: ids are global, user ids are not.
    pub async fn withdraw(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        key: &str,
        id: i64,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        if audit::first_by_actor(db, key, WITHDRAWN).await?.is_some() {
            return Ok(Answer::Withdrawn { id });
        }
        let ours = store::get(db, id).await?.is_some_and(|approval| {
            approval.tenant == incoming.tenant && approval.platform == incoming.platform
        });
        if !ours {
            return Ok(Answer::NoSuchApproval { id });
        }
        match self
            .service()
            .withdraw(id, &incoming.sender, key, now)
            .await
        {
            Ok(()) => Ok(Answer::Withdrawn { id }),
            Err(WithdrawError::NotFound(_)) => Ok(Answer::NoSuchApproval { id }),
            Err(WithdrawError::NotRequester(requester)) => {
                Ok(Answer::NotRequester { id, requester })
            }
            Err(WithdrawError::Decided(status)) => Ok(Answer::Decided { id, status }),
            Err(WithdrawError::Database(e) | WithdrawError::Request(RequestError::Database(e))) => {
                Err(HandlerError::Database(e))
            }
            Err(WithdrawError::Request(e)) => {
                tracing::error!(error = %e, approval = id, "withdrawal failed");
                Ok(Answer::Fault)
            }
        }
    }
}

/// The answer of the run that started approval `id`, from what it stored.
async fn started_earlier(db: &DatabaseConnection, id: &str) -> Result<Answer, HandlerError> {
    let id: i64 = id.parse().map_err(|_| {
        HandlerError::Permanent(format!("audit entry names approval `{id}`, not an id"))
    })?;
    let mut levels: BTreeMap<i32, Level> = BTreeMap::new();
    for step in store::steps(db, id).await? {
        levels
            .entry(step.level)
            .or_insert_with(|| Level {
                approvers: Vec::new(),
                mode: step.mode.clone(),
            })
            .approvers
            .push(step.approver);
    }
    Ok(Answer::Started {
        id,
        levels: levels.into_values().collect(),
    })
}
