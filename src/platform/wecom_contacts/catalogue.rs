//! Tag names to WeCom tag ids: the local catalogue first, read from WeCom once per tenant, and
//! a tag the catalogue lacks is created (`add_corp_tag`) and remembered.

use salesbot_wecom::api::{AddCorpTag, CorpTagFilter, TagGroup, WecomClient};
use sea_orm::ConnectionTrait;

use super::api_error;
use crate::{
    domain::tag::{self, CatalogueTag},
    pipeline::HandlerError,
};

/// The catalogue entries of WeCom's answer.
pub fn entries(groups: &[TagGroup]) -> Vec<CatalogueTag> {
    groups
        .iter()
        .filter(|group| group.deleted != Some(true))
        .flat_map(|group| {
            group
                .tag
                .iter()
                .filter(|tag| tag.deleted != Some(true))
                .map(|tag| CatalogueTag {
                    tag_id: tag.id.clone(),
                    group_id: group.group_id.clone(),
                    group_name: group.group_name.clone(),
                    name: tag.name.clone(),
                    order: tag.order.unwrap_or(0) as i64,
                })
        })
        .collect()
}

/// Reads the whole catalogue from WeCom and makes the local one match it.
pub async fn refresh(
    db: &impl ConnectionTrait,
    client: &WecomClient,
    tenant: &str,
    now: i64,
) -> Result<(), HandlerError> {
    let groups = client
        .get_corp_tag_list(&CorpTagFilter::all())
        .await
        .map_err(api_error)?;
    tag::replace_all(db, tenant, &entries(&groups), now).await?;
    Ok(())
}

/// Reads the catalogue from WeCom if this tenant's has never been read.
pub async fn ensure_loaded(
    db: &impl ConnectionTrait,
    client: &WecomClient,
    tenant: &str,
    now: i64,
) -> Result<(), HandlerError> {
    if !tag::is_loaded(db, tenant).await? {
        refresh(db, client, tenant, now).await?;
    }
    Ok(())
}

/// The id of tag `name` in group `group`, creating the tag (and the group) in WeCom when the
/// corp does not have it yet. The catalogue is loaded already ([`ensure_loaded`]).
pub async fn resolve(
    db: &impl ConnectionTrait,
    client: &WecomClient,
    tenant: &str,
    group: &str,
    name: &str,
    now: i64,
) -> Result<CatalogueTag, HandlerError> {
    if let Some(tag_id) = tag::find(db, tenant, group, name).await? {
        return Ok(CatalogueTag {
            tag_id,
            group_id: String::new(),
            group_name: group.into(),
            name: name.into(),
            order: 0,
        });
    }
    let request = match tag::group_id(db, tenant, group).await? {
        Some(group_id) => AddCorpTag {
            group_id: Some(group_id),
            tag: vec![salesbot_wecom::api::NewCorpTag::new(name)],
            ..AddCorpTag::default()
        },
        None => AddCorpTag::in_group_named(group, [name]),
    };
    let created = client.add_corp_tag(&request).await.map_err(api_error)?;
    let added = entries(std::slice::from_ref(&created));
    tag::upsert(db, tenant, &added, now).await?;
    tracing::info!(tenant, group, name, "created a corp tag for a tagging rule");
    added
        .into_iter()
        .find(|tag| tag.name == name)
        .ok_or_else(|| {
            HandlerError::Permanent(format!(
                "WeCom created tag group `{group}` without the tag `{name}`"
            ))
        })
}
