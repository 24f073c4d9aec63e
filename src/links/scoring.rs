//! An identified customer's click on a tracked link earns lead-score points (`[lead_score]`
//! `click`, and `repeat_click` for the same link again), in a transaction of its own after the
//! redirect: a score that fails to update costs the customer a few points, never a redirect.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use crate::{
    assignment::Assigner,
    domain::{
        customer::store::customer_id,
        lead::score::{self, ScoreKind, Scoring, Subject},
        rules::Rules,
    },
    pipeline::queue::stmt,
    webhooks::Webhooks,
};

/// Credits customer `external_userid` of `tenant` with a click on link `code`.
pub async fn credit_click(
    db: &DatabaseConnection,
    rules: &Rules,
    webhooks: &Webhooks,
    assigner: Option<&Assigner>,
    (tenant, external_userid, code): (&str, &str, &str),
    now: i64,
) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    let customer = customer_id(&txn, tenant, external_userid, now).await?;
    let reason = format!("link:{code}");
    let kind = if clicked_before(&txn, customer, &reason).await? {
        ScoreKind::RepeatClick
    } else {
        ScoreKind::Click
    };
    let scoring = Scoring {
        rules: rules.lead_score(),
        webhooks,
        assigner,
    };
    score::add(
        &txn,
        &scoring,
        tenant,
        Subject::Customer(customer),
        kind,
        &reason,
        now,
    )
    .await?;
    txn.commit().await
}

/// Runs [`credit_click`] in the background, logging a failure.
pub fn spawn_credit(
    db: DatabaseConnection,
    rules: Arc<Rules>,
    webhooks: Arc<Webhooks>,
    assigner: Arc<Assigner>,
    (tenant, external_userid, code): (String, String, String),
    now: i64,
) {
    tokio::spawn(async move {
        let who = (tenant.as_str(), external_userid.as_str(), code.as_str());
        if let Err(e) = credit_click(&db, &rules, &webhooks, Some(&assigner), who, now).await {
            tracing::warn!(error = %e, code, "the click did not reach the lead score");
        }
    });
}

async fn clicked_before(
    db: &impl ConnectionTrait,
    customer: i64,
    reason: &str,
) -> Result<bool, DbErr> {
    Ok(db
        .query_one_raw(stmt(
            db,
            "SELECT 1 AS one FROM score_event WHERE subject_type = 'customer' \
             AND subject_id = $1 AND reason = $2 LIMIT 1",
            [customer.into(), reason.into()],
        ))
        .await?
        .is_some())
}
