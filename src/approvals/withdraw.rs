//! Withdrawing an approval at the requester's wish: it ends as withdrawn and the open cards of
//! its current level show it.

use sea_orm::TransactionTrait;
use serde_json::json;

use super::{Approvals, RequestError, events::Change};
use crate::domain::approval::store::{self, status};

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

impl Approvals {
    /// Withdraws pending approval `id` for `requester`; `actor` is recorded in the audit log.
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
        if approval.status != status::PENDING {
            return Err(WithdrawError::Decided(approval.status));
        }
        store::finish(&txn, id, status::WITHDRAWN, now).await?;
        let cards = self.cards();
        let open = store::steps(&txn, id)
            .await?
            .into_iter()
            .filter(|step| step.level == approval.current_level && step.decision.is_none());
        for step in open {
            cards
                .settle(
                    &txn,
                    &approval,
                    &step,
                    (status::WITHDRAWN, &approval.requester_name),
                    None,
                    now,
                )
                .await?;
        }
        let detail = json!({ "by": requester, "level": approval.current_level });
        self.changed(
            &txn,
            &approval,
            Change::new("withdrawn", actor, detail),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}
