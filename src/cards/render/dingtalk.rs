//! DingTalk renderers: a [`Card`] as the variables of an interactive card template
//! (dingtalk.md §5.2), or as a work notification for when no interactive card can be sent (§5.1,
//! see [`action_card`]).

#[cfg(test)]
mod tests;
mod work_message;

use salesbot_dingtalk::api::CardData;
use serde::Serialize;

pub use work_message::{MSG_BYTES, action_card};

use super::limits::{Unit, fits_bytes, json_prefix_len, truncate_bytes, truncate_chars};
use crate::cards::Card;

/// A `cardParamMap` value is at most 1 KB (dingtalk.md §5.2.2); keys are the short names below,
/// well under their 100 bytes.
pub const VALUE_BYTES: usize = 1024;
/// No per-row size is documented; capping each value keeps one long value from pushing the rest
/// of the rows out of their shared 1 KB variable.
const ROW_VALUE_CHARS: usize = 200;
/// `status` of a card that is not decided yet.
const STATUS_OPEN: &str = "open";

/// The template variables, every one always present so a merge-update never leaves a stale
/// value behind; absent fields are empty strings.
///
/// | variable | value |
/// |---|---|
/// | `title`, `source`, `description`, `quote` | the text |
/// | `emphasis`, `emphasisLabel` | the figure and its label |
/// | `link` | the card's URL, empty when over 1 KB (never cut) |
/// | `rows` | JSON text: `[{"key","value"}]` |
/// | `buttons` | JSON text: `[{"key","label","style","url"?}]`, style `primary`/`default`/`danger` |
/// | `status` | the status key, or `open` |
/// | `statusText` | the status caption |
/// | `showButtons` | `"true"` while the card has callback buttons and is not decided |
///
/// Each value is at most [`VALUE_BYTES`]: text is cut with "…", and the JSON lists keep as many
/// whole items, from the first, as fit.
pub fn card_data(card: &Card) -> CardData {
    let text = |value: Option<&str>| truncate_bytes(value.unwrap_or_default(), VALUE_BYTES);
    let emphasis = card.emphasis.as_ref();
    let status = card.status.as_ref();
    let show_buttons = card.is_interactive() && !card.is_closed();
    CardData::new([
        ("title", text(Some(&card.title))),
        ("source", text(card.source.as_deref())),
        ("description", text(card.description.as_deref())),
        ("rows", rows_json(card)),
        ("emphasis", text(emphasis.map(|e| e.value.as_str()))),
        (
            "emphasisLabel",
            text(emphasis.and_then(|e| e.label.as_deref())),
        ),
        ("quote", text(card.quote.as_deref())),
        (
            "link",
            text(
                card.link
                    .as_deref()
                    .and_then(|url| fits_bytes(url, VALUE_BYTES)),
            ),
        ),
        ("buttons", json_list(&card.buttons)),
        (
            "status",
            text(Some(status.map_or(STATUS_OPEN, |s| s.key.as_str()))),
        ),
        ("statusText", text(status.map(|s| s.caption.as_str()))),
        ("showButtons", show_buttons.to_string()),
    ])
}

#[derive(Serialize)]
struct RowJson<'a> {
    key: &'a str,
    value: String,
}

fn rows_json(card: &Card) -> String {
    let rows: Vec<RowJson<'_>> = card
        .rows
        .iter()
        .map(|row| RowJson {
            key: &row.key,
            value: truncate_chars(&row.value, ROW_VALUE_CHARS),
        })
        .collect();
    json_list(&rows)
}

/// `items` as JSON text within [`VALUE_BYTES`], dropping items from the end until it fits.
fn json_list<T: Serialize>(items: &[T]) -> String {
    let fitting = json_prefix_len(items, VALUE_BYTES, Unit::Bytes);
    serde_json::to_string(&items[..fitting]).unwrap_or_else(|_| "[]".to_owned())
}
