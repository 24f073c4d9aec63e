//! Leads posted by a CRM or a form (`POST /api/v1/leads`): checked, stored, and assigned to
//! a rep in the same transaction. The CRM's own reference (`external_ref`) makes the post
//! idempotent: the same reference again answers the lead stored the first time and changes
//! nothing.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::Deserialize;

use super::form::optional;
use crate::{
    assignment::{Assigned, Assigner},
    config::valid_tenant,
    domain::customer::store::find_customer,
    pipeline::queue::stmt,
};

/// Longest name and company: the columns' size.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest region and industry.
pub const MAX_CATEGORY_CHARS: usize = 64;
/// Longest source: the column's size.
pub const MAX_SOURCE_CHARS: usize = 160;
/// Longest CRM reference.
pub const MAX_EXTERNAL_REF_CHARS: usize = 128;
/// Most tags on one lead, and longest tag.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_CHARS: usize = 64;
/// Largest `fields`, as JSON text: they are for routing and display, not documents.
pub const MAX_FIELDS_BYTES: usize = 16 * 1024;
/// The source of a lead posted without one.
pub const DEFAULT_SOURCE: &str = "api";

/// The body of `POST /api/v1/leads`, as written. Unknown keys are refused, so a misspelt
/// `external_ref` is not silently dropped (which would make every retry a new lead).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadForm {
    pub tenant: String,
    pub name: String,
    pub company: Option<String>,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub source: Option<String>,
    pub score: Option<f64>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The customer the lead is, by salesbot's id …
    pub customer_id: Option<i64>,
    /// … or by their WeCom external userid.
    pub external_userid: Option<String>,
    /// The CRM's id of the lead; unique per tenant.
    pub external_ref: Option<String>,
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Why a lead was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLead {
    #[error("tenant must be 1-64 of a-z, 0-9, - and _")]
    Tenant,
    #[error("name must be 1 to {MAX_NAME_CHARS} characters, not only spaces")]
    Name,
    #[error("company must be at most {MAX_NAME_CHARS} characters")]
    Company,
    #[error("{0} must be at most {MAX_CATEGORY_CHARS} characters")]
    Category(&'static str),
    #[error("source must be at most {MAX_SOURCE_CHARS} characters")]
    Source,
    #[error("score must be a number of 0 or more")]
    Score,
    #[error("tags: at most {MAX_TAGS}, each 1 to {MAX_TAG_CHARS} characters")]
    Tags,
    #[error("give customer_id or external_userid, not both")]
    TwoCustomers,
    #[error("external_userid must be 1 to 128 characters")]
    ExternalUserid,
    #[error("external_ref must be at most {MAX_EXTERNAL_REF_CHARS} characters")]
    ExternalRef,
    #[error("fields must be at most {MAX_FIELDS_BYTES} bytes as JSON")]
    Fields,
    #[error("no customer {0} in tenant {1}")]
    UnknownCustomer(String, String),
}

/// A checked lead.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLead {
    pub tenant: String,
    pub name: String,
    pub company: Option<String>,
    pub region: Option<String>,
    pub industry: Option<String>,
    pub source: String,
    pub score: Option<f64>,
    pub tags: Vec<String>,
    pub customer: Option<CustomerRef>,
    pub external_ref: Option<String>,
    /// JSON object text.
    pub fields: String,
}

/// How the post names the customer the lead is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(i64),
    ExternalUserid(String),
}

impl NewLead {
    /// Checks `form`. Empty optional texts count as absent; texts are trimmed.
    pub fn parse(form: LeadForm) -> Result<Self, InvalidLead> {
        use InvalidLead as E;
        if !valid_tenant(&form.tenant) {
            return Err(E::Tenant);
        }
        let name = optional(Some(form.name), MAX_NAME_CHARS)
            .ok()
            .flatten()
            .ok_or(E::Name)?;
        let company = optional(form.company, MAX_NAME_CHARS).map_err(|()| E::Company)?;
        let region =
            optional(form.region, MAX_CATEGORY_CHARS).map_err(|()| E::Category("region"))?;
        let industry =
            optional(form.industry, MAX_CATEGORY_CHARS).map_err(|()| E::Category("industry"))?;
        let source = optional(form.source, MAX_SOURCE_CHARS)
            .map_err(|()| E::Source)?
            .unwrap_or_else(|| DEFAULT_SOURCE.to_owned());
        if form.score.is_some_and(|s| !s.is_finite() || s < 0.0) {
            return Err(E::Score);
        }
        if form.tags.len() > MAX_TAGS {
            return Err(E::Tags);
        }
        let mut tags: Vec<String> = Vec::with_capacity(form.tags.len());
        for tag in form.tags {
            let tag = optional(Some(tag), MAX_TAG_CHARS)
                .ok()
                .flatten()
                .ok_or(E::Tags)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let external_userid =
            optional(form.external_userid, 128).map_err(|()| E::ExternalUserid)?;
        let customer = match (form.customer_id, external_userid) {
            (Some(_), Some(_)) => return Err(E::TwoCustomers),
            (Some(id), None) => Some(CustomerRef::Id(id)),
            (None, Some(userid)) => Some(CustomerRef::ExternalUserid(userid)),
            (None, None) => None,
        };
        let external_ref =
            optional(form.external_ref, MAX_EXTERNAL_REF_CHARS).map_err(|()| E::ExternalRef)?;
        let fields = serde_json::Value::Object(form.fields).to_string();
        if fields.len() > MAX_FIELDS_BYTES {
            return Err(E::Fields);
        }
        Ok(Self {
            tenant: form.tenant,
            name,
            company,
            region,
            industry,
            source,
            score: form.score,
            tags,
            customer,
            external_ref,
            fields,
        })
    }
}

/// What a post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub lead_id: i64,
    /// False when a lead with its `external_ref` was there already (nothing changed).
    pub created: bool,
}

/// Why a post could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Invalid(#[from] InvalidLead),
    #[error(transparent)]
    Database(#[from] DbErr),
}

/// Stores `lead` at `now` and assigns it, in one transaction; the same `external_ref` again
/// answers the stored lead.
#[tracing::instrument(skip_all, fields(tenant = lead.tenant, lead_id))]
pub async fn create(
    db: &DatabaseConnection,
    assigner: &Assigner,
    lead: &NewLead,
    now: i64,
) -> Result<Posted, CreateError> {
    let txn = db.begin().await?;
    // The insert comes first: it claims the reference, so of two posts of one lead at once
    // the second waits for the first and then finds its row.
    let inserted = txn
        .query_one_raw(stmt(
            &txn,
            "INSERT INTO lead (tenant, name, company, region, industry, source, score, \
             score_at, status, tags, fields, external_ref, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'new', $9, $10, $11, $8, $8) \
             ON CONFLICT (tenant, external_ref) DO NOTHING RETURNING id",
            [
                lead.tenant.clone().into(),
                lead.name.clone().into(),
                lead.company.clone().into(),
                lead.region.clone().into(),
                lead.industry.clone().into(),
                lead.source.clone().into(),
                lead.score.unwrap_or(0.0).into(),
                now.into(),
                serde_json::to_string(&lead.tags)
                    .expect("texts serialize")
                    .into(),
                lead.fields.clone().into(),
                lead.external_ref.clone().into(),
            ],
        ))
        .await?;
    let Some(inserted) = inserted else {
        let row = txn
            .query_one_raw(stmt(
                &txn,
                "SELECT id FROM lead WHERE tenant = $1 AND external_ref = $2",
                [lead.tenant.clone().into(), lead.external_ref.clone().into()],
            ))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the lead of an external_ref".into()))?;
        txn.rollback().await?;
        return Ok(Posted {
            lead_id: row.try_get("", "id")?,
            created: false,
        });
    };
    let lead_id: i64 = inserted.try_get("", "id")?;
    tracing::Span::current().record("lead_id", lead_id);
    if let Some(customer) = &lead.customer {
        let customer_id = match customer {
            CustomerRef::Id(id) => txn
                .query_one_raw(stmt(
                    &txn,
                    "SELECT id FROM customer WHERE id = $1 AND tenant = $2",
                    [(*id).into(), lead.tenant.clone().into()],
                ))
                .await?
                .map(|row| row.try_get::<i64>("", "id"))
                .transpose()?,
            CustomerRef::ExternalUserid(userid) => {
                find_customer(&txn, &lead.tenant, userid).await?
            }
        };
        let Some(customer_id) = customer_id else {
            txn.rollback().await?;
            let named = match customer {
                CustomerRef::Id(id) => id.to_string(),
                CustomerRef::ExternalUserid(userid) => userid.clone(),
            };
            return Err(InvalidLead::UnknownCustomer(named, lead.tenant.clone()).into());
        };
        txn.execute_raw(stmt(
            &txn,
            "UPDATE lead SET customer_id = $2 WHERE id = $1",
            [lead_id.into(), customer_id.into()],
        ))
        .await?;
    }
    match assigner.assign(&txn, lead_id, None, now).await? {
        Assigned::Offered(row) => tracing::info!(rep = %row.rep, "lead posted and offered"),
        other => tracing::info!(outcome = ?other, "lead posted"),
    }
    txn.commit().await?;
    Ok(Posted {
        lead_id,
        created: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> LeadForm {
        serde_json::from_value(serde_json::json!({
            "tenant": "acme", "name": " 张伟 ", "company": "苏州恒远", "region": "华东",
            "industry": "制造业", "score": 30.0, "tags": ["vip", "vip", "展会"],
            "external_ref": "crm-1", "fields": { "budget": 200000 },
        }))
        .unwrap()
    }

    #[test]
    fn a_lead_is_trimmed_and_its_tags_kept_once() {
        let lead = NewLead::parse(form()).unwrap();
        assert_eq!(lead.name, "张伟");
        assert_eq!(lead.source, DEFAULT_SOURCE);
        assert_eq!(lead.tags, ["vip", "展会"]);
        assert_eq!(lead.fields, r#"{"budget":200000}"#);
        assert_eq!(lead.customer, None);
    }

    #[test]
    fn bad_leads_are_refused_with_the_reason() {
        type Change = fn(&mut LeadForm);
        let cases: [(Change, InvalidLead); 6] = [
            (|f| f.tenant = "Acme Ltd".into(), InvalidLead::Tenant),
            (|f| f.name = "  ".into(), InvalidLead::Name),
            (|f| f.score = Some(-1.0), InvalidLead::Score),
            (|f| f.tags = vec!["".into()], InvalidLead::Tags),
            (
                |f| {
                    f.customer_id = Some(1);
                    f.external_userid = Some("wm1".into());
                },
                InvalidLead::TwoCustomers,
            ),
            (
                |f| f.region = Some("区".repeat(65)),
                InvalidLead::Category("region"),
            ),
        ];
        for (change, want) in cases {
            let mut f = form();
            change(&mut f);
            assert_eq!(NewLead::parse(f).unwrap_err(), want);
        }
    }
}
