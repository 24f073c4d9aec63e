//! Corp customer tags (企业客户标签): `get_corp_tag_list` (wecom.md §5.7) and `add_corp_tag` (§5.8).

use serde::{Deserialize, Serialize};

use super::client::WecomClient;
use super::error::ApiError;

/// The body of `get_corp_tag_list`: both empty lists all tags; `group_id` wins over `tag_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpTagFilter {
    /// Only these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tag_id: Vec<String>,
    /// Only these groups (wins over `tag_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_id: Vec<String>,
}

impl CorpTagFilter {
    /// Every tag of the corp.
    pub fn all() -> Self {
        Self::default()
    }
}

/// A tag group and its tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TagGroup {
    /// Group id (`et…`).
    pub group_id: String,
    /// Group name.
    pub group_name: String,
    /// Unix seconds.
    pub create_time: Option<i64>,
    /// Larger sorts first.
    pub order: Option<u64>,
    /// Only present when querying by id.
    pub deleted: Option<bool>,
    /// The group's tags.
    #[serde(default)]
    pub tag: Vec<CorpTag>,
}

/// One corp tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CorpTag {
    /// Tag id (`et…`), as used in `mark_tag`.
    pub id: String,
    /// Tag name.
    pub name: String,
    /// Unix seconds.
    pub create_time: Option<i64>,
    /// Larger sorts first.
    pub order: Option<u64>,
    /// Only present when querying by id.
    pub deleted: Option<bool>,
}

#[derive(Deserialize)]
struct TagGroups {
    #[serde(default)]
    tag_group: Vec<TagGroup>,
}

#[derive(Deserialize)]
struct AddedTagGroup {
    tag_group: TagGroup,
}

/// The body of `add_corp_tag`: tags for an existing group (`group_id`) or for the group named
/// `group_name`, created if no group has that name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddCorpTag {
    /// Existing group; `group_name` and `order` are then ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Group to create or extend; at most 30 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    /// Order of a new group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u64>,
    /// The tags; at least one.
    pub tag: Vec<NewCorpTag>,
    /// Only for old multi-app third-party suites.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agentid: Option<u32>,
}

impl AddCorpTag {
    /// Tags named `tags` in the group named `group_name`.
    pub fn in_group_named<I, S>(group_name: impl Into<String>, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            group_name: Some(group_name.into()),
            tag: tags.into_iter().map(NewCorpTag::new).collect(),
            ..Self::default()
        }
    }
}

/// A tag to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCorpTag {
    /// At most 30 characters.
    pub name: String,
    /// Larger sorts first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<u64>,
}

impl NewCorpTag {
    /// A tag with default order.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            order: None,
        }
    }
}

impl WecomClient {
    /// `POST /cgi-bin/externalcontact/get_corp_tag_list`.
    pub async fn get_corp_tag_list(
        &self,
        filter: &CorpTagFilter,
    ) -> Result<Vec<TagGroup>, ApiError> {
        let groups: TagGroups = self
            .post("externalcontact/get_corp_tag_list", filter)
            .await?;
        Ok(groups.tag_group)
    }

    /// `POST /cgi-bin/externalcontact/add_corp_tag`; answers the group with the added tags.
    pub async fn add_corp_tag(&self, request: &AddCorpTag) -> Result<TagGroup, ApiError> {
        let added: AddedTagGroup = self.post("externalcontact/add_corp_tag", request).await?;
        Ok(added.tag_group)
    }
}
