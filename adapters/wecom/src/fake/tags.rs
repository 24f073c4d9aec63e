//! Corp customer tags as WeCom keeps and answers them (wecom.md §5.7, §5.8).

use serde_json::{Value, json};

use super::faults::INVALID_PARAMETER;
use super::state::{
    Outcome, State, TagGroupRecord, TagRecord, fields, object, random_id, str_field, str_list,
    unix_now,
};

/// Group and tag names, in characters.
const NAME_LIMIT: usize = 30;

impl State {
    pub(crate) fn get_corp_tag_list(&self, body: Option<&Value>) -> Outcome {
        let empty = serde_json::Map::new();
        let body = match body {
            None => &empty,
            some => object(some)?,
        };
        let group_ids = str_list(body, "group_id")?;
        let tag_ids = str_list(body, "tag_id")?;
        // `deleted` is only reported when querying by id.
        let by_id = !group_ids.is_empty() || !tag_ids.is_empty();
        let groups: Vec<Value> = self
            .tag_groups
            .iter()
            .filter_map(|group| {
                let tags: Vec<&TagRecord> = if !group_ids.is_empty() {
                    if !group_ids.contains(&group.group_id) {
                        return None;
                    }
                    group.tags.iter().collect()
                } else if !tag_ids.is_empty() {
                    let tags: Vec<_> = group
                        .tags
                        .iter()
                        .filter(|tag| tag_ids.contains(&tag.id))
                        .collect();
                    if tags.is_empty() {
                        return None;
                    }
                    tags
                } else {
                    group.tags.iter().collect()
                };
                Some(group_json(group, &tags, by_id))
            })
            .collect();
        Ok(fields(json!({ "tag_group": groups })))
    }

    pub(crate) fn add_corp_tag(&mut self, body: Option<&Value>) -> Outcome {
        let body = object(body)?;
        let mut wanted: Vec<(String, u64)> = Vec::new();
        for tag in body
            .get("tag")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = tag.get("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() || name.chars().count() > NAME_LIMIT {
                return Err(INVALID_PARAMETER.into());
            }
            let order = tag.get("order").and_then(Value::as_u64).unwrap_or(0);
            // Duplicate names in one group collapse to one tag.
            if !wanted.iter().any(|(existing, _)| existing == name) {
                wanted.push((name.to_owned(), order));
            }
        }
        if wanted.is_empty() {
            return Err(INVALID_PARAMETER.into());
        }
        let now = unix_now();
        let index = if let Some(group_id) = str_field(body, "group_id") {
            self.tag_groups
                .iter()
                .position(|group| group.group_id == group_id)
                .ok_or(40068)?
        } else if let Some(name) = str_field(body, "group_name") {
            if name.is_empty() || name.chars().count() > NAME_LIMIT {
                return Err(INVALID_PARAMETER.into());
            }
            match self
                .tag_groups
                .iter()
                .position(|group| group.group_name == name)
            {
                Some(index) => index,
                None => {
                    self.tag_groups.push(TagGroupRecord {
                        group_id: format!("et{}", random_id(20)),
                        group_name: name.to_owned(),
                        create_time: now,
                        order: body.get("order").and_then(Value::as_u64).unwrap_or(0),
                        tags: Vec::new(),
                    });
                    self.tag_groups.len() - 1
                }
            }
        } else {
            return Err(INVALID_PARAMETER.into());
        };
        let group = &mut self.tag_groups[index];
        let mut added = Vec::new();
        for (name, order) in wanted {
            let position = match group.tags.iter().position(|tag| tag.name == name) {
                Some(position) => position,
                None => {
                    group.tags.push(TagRecord {
                        id: format!("et{}", random_id(20)),
                        name,
                        create_time: now,
                        order,
                    });
                    group.tags.len() - 1
                }
            };
            added.push(position);
        }
        let group = &self.tag_groups[index];
        let tags: Vec<&TagRecord> = added.iter().map(|&i| &group.tags[i]).collect();
        Ok(fields(
            json!({ "tag_group": group_json(group, &tags, false) }),
        ))
    }

    /// The group and tag with this tag id.
    pub(crate) fn find_tag(&self, tag_id: &str) -> Option<(&TagGroupRecord, &TagRecord)> {
        self.tag_groups.iter().find_map(|group| {
            group
                .tags
                .iter()
                .find(|tag| tag.id == tag_id)
                .map(|tag| (group, tag))
        })
    }
}

fn group_json(group: &TagGroupRecord, tags: &[&TagRecord], with_deleted: bool) -> Value {
    let tags: Vec<Value> = tags
        .iter()
        .map(|tag| {
            let mut tag_json = json!({
                "id": tag.id, "name": tag.name, "create_time": tag.create_time, "order": tag.order,
            });
            if with_deleted {
                tag_json["deleted"] = false.into();
            }
            tag_json
        })
        .collect();
    let mut group_json = json!({
        "group_id": group.group_id, "group_name": group.group_name,
        "create_time": group.create_time, "order": group.order, "tag": tags,
    });
    if with_deleted {
        group_json["deleted"] = false.into();
    }
    group_json
}
