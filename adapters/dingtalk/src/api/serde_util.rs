//! Lenient readers for fields whose documented type and example disagree (dingtalk.md §7).

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A list of numbers from a JSON array of numbers or numeric strings, or from a string holding
/// such an array (`"[2,3,4]"`); absent or null reads as empty.
pub(crate) fn number_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?.unwrap_or(Value::Null);
    let value = match value {
        Value::String(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom)?,
        value => value,
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(number)
            .collect::<Option<_>>()
            .ok_or_else(|| serde::de::Error::custom("expected a list of numbers")),
        _ => Err(serde::de::Error::custom("expected a list of numbers")),
    }
}

/// A number from a JSON number or a numeric string.
pub(crate) fn lenient_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Value>::deserialize(deserializer)?
        .as_ref()
        .and_then(number))
}

fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
