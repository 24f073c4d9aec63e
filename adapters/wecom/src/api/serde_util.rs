//! Serde adapters for WeCom's JSON habits: flags sent as `0`/`1` and id lists that are
//! `|`-joined strings in some answers and arrays in others.

use serde::{Deserialize, Deserializer, Serializer};

/// A `bool` on the wire as `0`/`1`; reads `0`/`1` or `true`/`false`.
pub(crate) mod int_bool {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(u8::from(*value))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<bool, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Flag {
            Int(i64),
            Bool(bool),
        }
        Ok(match Flag::deserialize(deserializer)? {
            Flag::Int(n) => n != 0,
            Flag::Bool(b) => b,
        })
    }
}

/// For `skip_serializing_if`: leave a default-off flag out of the request.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// Reads an id list given as a JSON array or as a `|`-joined string; `null` and `""` are empty.
pub(crate) fn id_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ids {
        List(Vec<String>),
        Joined(String),
    }
    Ok(match Option::<Ids>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Ids::List(ids)) => ids,
        Some(Ids::Joined(joined)) => split_ids(&joined),
    })
}

/// Splits a `|`-joined id list, dropping empty parts.
pub(crate) fn split_ids(joined: &str) -> Vec<String> {
    joined
        .split('|')
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}
