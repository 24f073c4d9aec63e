//! Registrations: a person signed up through a form (an event page, a whitepaper download).
//! Each is matched to the customer or lead it is about, or makes a new lead (assigned to a
//! rep at once); earns the registration points; and is announced as `registration.created`,
//! all in one transaction.
//! A form service that sends the same submission again gets the first answer and changes
//! nothing.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::Serialize;
use serde_json::json;

use super::{
    form::NewRegistration,
    score::{self, ScoreKind, Scoring, Subject},
};
use crate::{
    domain::customer::store::{find_customer, record_event},
    pipeline::queue::stmt,
    tasks::{Owner, TaskError, Tasks},
    webhooks::WebhookEvent,
};

/// The webhook event and customer timeline entry of a registration.
pub const CREATED: &str = "registration.created";

/// How a registration was matched; the same on every repeat of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub id: i64,
    /// `customer` or `lead`.
    pub matched: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<i64>,
    /// Whether the registration made its lead.
    pub new_lead: bool,
    /// False for a repeat of a registration recorded before, which changed nothing.
    #[serde(skip)]
    pub created: bool,
}

impl Registered {
    fn new(id: i64, customer_id: Option<i64>, lead_id: Option<i64>, new_lead: bool) -> Self {
        Self {
            id,
            matched: if customer_id.is_some() {
                "customer"
            } else {
                "lead"
            },
            customer_id,
            lead_id,
            new_lead,
            created: true,
        }
    }
}

/// Records `registration` at `now` (epoch ms) in one transaction: the row, the match (the
/// customer with its `external_userid`, else the tenant's lead with its phone, else a new
/// lead), the registration points, the new lead's assignment, the owner's follow-up tasks
/// (the `registration` task rules of `follow_up`), and `registration.created`. A repeat of its
/// dedupe key answers what the first one did and writes nothing.
#[tracing::instrument(skip_all, fields(tenant = registration.tenant, registration_id))]
pub async fn record(
    db: &DatabaseConnection,
    scoring: &Scoring<'_>,
    registration: &NewRegistration,
    follow_up: Option<&Tasks>,
    now: i64,
) -> Result<Registered, DbErr> {
    // A registration through a tracked link counts towards the link's campaign.
    let with_campaign;
    let r = match (&registration.campaign, &registration.link_code) {
        (None, Some(code)) => {
            with_campaign = NewRegistration {
                campaign: link_campaign(db, &registration.tenant, code).await?,
                ..registration.clone()
            };
            &with_campaign
        }
        _ => registration,
    };
    let txn = db.begin().await?;
    // The insert comes first: it is the write that claims the dedupe key, so of two
    // identical submissions at once, the second waits for the first and then finds its row.
    let inserted = txn
        .query_one_raw(stmt(
            &txn,
            "INSERT INTO registration (tenant, campaign, link_code, name, phone_hash, \
             phone_masked, company, external_userid, dedupe_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            [
                r.tenant.clone().into(),
                r.campaign.clone().into(),
                r.link_code.clone().into(),
                r.name.clone().into(),
                r.phone_hash.clone().into(),
                r.phone_masked.clone().into(),
                r.company.clone().into(),
                r.external_userid.clone().into(),
                r.dedupe_key.clone().into(),
                now.into(),
            ],
        ))
        .await?;
    let Some(inserted) = inserted else {
        let earlier = find(&txn, &r.dedupe_key).await?;
        txn.rollback().await?;
        return earlier.ok_or_else(|| DbErr::RecordNotFound(r.dedupe_key.clone()));
    };
    let id: i64 = inserted.try_get("", "id")?;
    tracing::Span::current().record("registration_id", id);

    let customer_id = match &r.external_userid {
        Some(external_userid) => find_customer(&txn, &r.tenant, external_userid).await?,
        None => None,
    };
    let (subject, registered) = match customer_id {
        Some(customer_id) => {
            link_lead_to_customer(&txn, r, customer_id, now).await?;
            let detail = json!({
                "registration_id": id,
                "campaign": r.campaign,
                "link_code": r.link_code,
            });
            record_event(&txn, customer_id, now, CREATED, &detail, None).await?;
            (
                Subject::Customer(customer_id),
                Registered::new(id, Some(customer_id), None, false),
            )
        }
        None => {
            let (lead_id, new_lead) = lead_for(&txn, r, now).await?;
            (
                Subject::Lead(lead_id),
                Registered::new(id, None, Some(lead_id), new_lead),
            )
        }
    };
    txn.execute_raw(stmt(
        &txn,
        "UPDATE registration SET customer_id = $2, lead_id = $3, new_lead = $4 WHERE id = $1",
        [
            id.into(),
            registered.customer_id.into(),
            registered.lead_id.into(),
            registered.new_lead.into(),
        ],
    ))
    .await?;

    let reason = match (&r.campaign, &r.link_code) {
        (Some(campaign), _) => format!("registration {id}, campaign {campaign}"),
        (None, Some(code)) => format!("registration {id}, link {code}"),
        (None, None) => format!("registration {id}"),
    };
    let change = score::add(
        &txn,
        scoring,
        &r.tenant,
        subject,
        ScoreKind::Registration,
        &reason,
        now,
    )
    .await?;
    // A new lead goes to a rep at once (one that crossed the threshold just now already has).
    if let (Some(assigner), Some(lead_id), true) =
        (scoring.assigner, registered.lead_id, registered.new_lead)
    {
        assigner.assign(&txn, lead_id, None, now).await?;
    }
    if let Some(tasks) = follow_up {
        follow_up_tasks(&txn, tasks, &r.tenant, &registered, id, now).await?;
    }

    let data = json!({
        "id": id,
        "campaign": r.campaign,
        "link_code": r.link_code,
        "name": r.name,
        "company": r.company,
        "phone_masked": r.phone_masked,
        "external_userid": r.external_userid,
        "matched": registered.matched,
        "customer_id": registered.customer_id,
        "lead_id": registered.lead_id,
        "new_lead": registered.new_lead,
        "score": score::shown(change.new),
        "qualified": change.qualified,
    });
    let event_id = format!("registration:{id}");
    let event = WebhookEvent {
        id: &event_id,
        kind: CREATED,
        tenant: &r.tenant,
        data: &data,
    };
    scoring.webhooks.publish(&txn, &event, now).await?;
    txn.commit().await?;
    Ok(registered)
}

/// The registration stored under `dedupe_key`, as it was answered.
async fn find(db: &impl ConnectionTrait, dedupe_key: &str) -> Result<Option<Registered>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id, customer_id, lead_id, new_lead FROM registration WHERE dedupe_key = $1",
            [dedupe_key.into()],
        ))
        .await?;
    row.map(|row| {
        Ok(Registered {
            created: false,
            ..Registered::new(
                row.try_get("", "id")?,
                row.try_get("", "customer_id")?,
                row.try_get("", "lead_id")?,
                row.try_get("", "new_lead")?,
            )
        })
    })
    .transpose()
}

/// The tenant's lead with the registration's phone, or a new one; and whether it is new.
/// The unique index on (tenant, phone hash) makes two simultaneous first registrations of one
/// phone one lead.
async fn lead_for(
    db: &impl ConnectionTrait,
    r: &NewRegistration,
    now: i64,
) -> Result<(i64, bool), DbErr> {
    let inserted = db
        .query_one_raw(stmt(
            db,
            "INSERT INTO lead (tenant, name, company, phone_hash, phone_masked, source, score, \
             score_at, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 'new', $7, $7) \
             ON CONFLICT (tenant, phone_hash) DO NOTHING RETURNING id",
            [
                r.tenant.clone().into(),
                r.name.clone().into(),
                r.company.clone().into(),
                r.phone_hash.clone().into(),
                r.phone_masked.clone().into(),
                r.lead_source().into(),
                now.into(),
            ],
        ))
        .await?;
    if let Some(row) = inserted {
        return Ok((row.try_get("", "id")?, true));
    }
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT id FROM lead WHERE tenant = $1 AND phone_hash = $2",
            [r.tenant.clone().into(), r.phone_hash.clone().into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the lead of a phone hash".into()))?;
    Ok((row.try_get("", "id")?, false))
}

/// A customer who registers with the phone of a lead is that lead: the lead is tied to them,
/// unless it is tied to someone already.
async fn link_lead_to_customer(
    db: &impl ConnectionTrait,
    r: &NewRegistration,
    customer_id: i64,
    now: i64,
) -> Result<(), DbErr> {
    db.execute_raw(stmt(
        db,
        "UPDATE lead SET customer_id = $3, updated_at = $4 \
         WHERE tenant = $1 AND phone_hash = $2 AND customer_id IS NULL",
        [
            r.tenant.clone().into(),
            r.phone_hash.clone().into(),
            customer_id.into(),
            now.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The campaign of the tenant's tracked link `code`, if there is one.
async fn link_campaign(
    db: &DatabaseConnection,
    tenant: &str,
    code: &str,
) -> Result<Option<String>, DbErr> {
    let row = db
        .query_one_raw(stmt(
            db,
            "SELECT campaign FROM link WHERE tenant = $1 AND code = $2",
            [tenant.into(), code.into()],
        ))
        .await?;
    row.map(|row| row.try_get("", "campaign")).transpose()
}

/// Runs the `registration` task rules for the owner of what registered: the lead's owner, or
/// the rep the customer added most recently. Nothing without an owner.
async fn follow_up_tasks(
    db: &impl ConnectionTrait,
    tasks: &Tasks,
    tenant: &str,
    registered: &Registered,
    registration_id: i64,
    now: i64,
) -> Result<(), DbErr> {
    const LEAD_OWNER: &str = "SELECT owner, COALESCE(owner_platform, 'wecom') AS platform \
                              FROM lead WHERE id = $1 AND owner IS NOT NULL";
    const CUSTOMER_REP: &str = "SELECT userid AS owner, 'wecom' AS platform FROM customer_rep \
                                WHERE customer_id = $1 AND status = 'active' \
                                ORDER BY added_at DESC, id DESC LIMIT 1";
    const CUSTOMER_LEAD_OWNER: &str = "SELECT owner, COALESCE(owner_platform, 'wecom') AS \
                                       platform FROM lead WHERE customer_id = $1 AND owner IS \
                                       NOT NULL ORDER BY id LIMIT 1";
    let asks: &[(&str, i64)] = match (registered.lead_id, registered.customer_id) {
        (Some(lead), _) => &[(LEAD_OWNER, lead)],
        // The rep the customer added; else whoever was given the customer's lead.
        (None, Some(customer)) => &[(CUSTOMER_REP, customer), (CUSTOMER_LEAD_OWNER, customer)],
        (None, None) => &[],
    };
    let mut found = None;
    for (sql, id) in asks {
        found = db.query_one_raw(stmt(db, sql, [(*id).into()])).await?;
        if found.is_some() {
            break;
        }
    }
    let Some(row) = found else {
        return Ok(());
    };
    let assignee: String = row.try_get("", "owner")?;
    let platform: String = row.try_get("", "platform")?;
    let owner = Owner {
        tenant,
        platform: &platform,
        assignee: &assignee,
        lead_id: registered.lead_id,
        deal_id: None,
        customer_id: registered.customer_id,
    };
    tasks
        .after_registration(db, &owner, registration_id, now)
        .await
        .map(drop)
        .map_err(|e| match e {
            TaskError::Database(e) => e,
            other => DbErr::Custom(other.to_string()),
        })
}
