//! The DingTalk work-notification fallback (dingtalk.md §5.1): a card as an `action_card` with
//! its link buttons, or its link as the single button, or as plain `markdown` when it has neither.
//!
//! Work-notification buttons only open URLs, so callback buttons are left out. The whole `msg`
//! must stay within 2048 bytes: the markdown is shortened until it does.

use salesbot_dingtalk::api::{ActionCard, ActionCardButton, Markdown, WorkMessage};

use crate::cards::Card;
use crate::cards::render::body::{Body, one_line};
use crate::cards::render::limits::{Unit, fits_chars, json_prefix_len, truncate_chars};

/// The size of a serialized `msg` (dingtalk.md §5.1).
pub const MSG_BYTES: usize = 2048;
/// No title limit is documented; the conversation list shows little more than this.
const TITLE_CHARS: usize = 64;
/// `action_card.markdown`: "keep under ~1000 characters" (§5.1).
const ACTION_CARD_MARKDOWN_CHARS: usize = 1000;
/// `markdown.text` (§5.1).
const MARKDOWN_TEXT_CHARS: usize = 5000;
/// `btn_json_list[]` (§5.1): title, URL, and the whole list as JSON.
const BUTTON_TITLE_CHARS: usize = 20;
const BUTTON_URL_CHARS: usize = 700;
const BUTTON_LIST_CHARS: usize = 1000;
/// `single_url` (§5.1); `single_title` is at most 20 characters.
const SINGLE_URL_CHARS: usize = 500;
const SINGLE_TITLE: &str = "查看详情";
/// Markup lines are kept whole or not at all, so their text is capped first.
const SHORT_CHARS: usize = 64;
/// A long description takes at most a third of the markdown, leaving room for the figure and
/// the rows after it.
const DESCRIPTION_CHARS: usize = ACTION_CARD_MARKDOWN_CHARS / 3;
/// Joins markdown lines with a hard line break, as DingTalk's own examples do.
const LINE_BREAK: &str = "  \n";

/// The work notification for `card`: an `action_card` whose buttons are the card's link buttons
/// (horizontal), or whose single button opens the card's link, or — with neither — a `markdown`
/// message. A URL over its limit is dropped with its button, never cut.
pub fn action_card(card: &Card) -> WorkMessage {
    let title = truncate_chars(&one_line(&card.title), TITLE_CHARS);
    let body = body(card, &title);
    let mut buttons = link_buttons(card);
    // A button list too large for the message gives up buttons from the end.
    while !buttons.is_empty() {
        if let Some(message) = fit(&title, &body, &Shape::Buttons(&buttons)) {
            return message;
        }
        buttons.pop();
    }
    let single_url = card
        .link
        .as_deref()
        .filter(|url| fits_chars(url, SINGLE_URL_CHARS));
    if let Some(message) = single_url.and_then(|url| fit(&title, &body, &Shape::Single(url))) {
        return message;
    }
    fit(&title, &body, &Shape::Markdown).unwrap_or_else(|| markdown_message(&title, String::new()))
}

/// What carries the card's links.
enum Shape<'a> {
    Buttons(&'a [ActionCardButton]),
    Single(&'a str),
    Markdown,
}

/// The message of `shape` with as much of `body` as fits in [`MSG_BYTES`]; `None` when not even
/// the heading fits beside the buttons.
fn fit(title: &str, body: &Body, shape: &Shape<'_>) -> Option<WorkMessage> {
    let (max, min) = match shape {
        Shape::Markdown => (MARKDOWN_TEXT_CHARS, 0),
        // An action card's markdown is required: keep at least the heading.
        _ => (ACTION_CARD_MARKDOWN_CHARS, heading(title).chars().count()),
    };
    let render = |budget| build(title, body.render(budget, Unit::Chars), shape);
    let fits = |message: &WorkMessage| {
        serde_json::to_vec(message).is_ok_and(|json| json.len() <= MSG_BYTES)
    };
    let full = render(max);
    if fits(&full) {
        return Some(full);
    }
    if !fits(&render(min)) {
        return None;
    }
    // The largest budget in [min, max) whose message fits.
    let (mut low, mut high) = (min, max);
    while low + 1 < high {
        let middle = low + (high - low) / 2;
        if fits(&render(middle)) {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(render(low))
}

fn build(title: &str, markdown: String, shape: &Shape<'_>) -> WorkMessage {
    let action_card = match shape {
        Shape::Markdown => return markdown_message(title, markdown),
        Shape::Single(url) => ActionCard::single(title, markdown, SINGLE_TITLE, *url),
        Shape::Buttons(buttons) => ActionCard {
            title: title.to_owned(),
            markdown,
            single_title: None,
            single_url: None,
            btn_orientation: Some("1".to_owned()),
            btn_json_list: Some(buttons.to_vec()),
        },
    };
    WorkMessage::ActionCard { action_card }
}

fn markdown_message(title: &str, text: String) -> WorkMessage {
    WorkMessage::Markdown {
        markdown: Markdown {
            title: title.to_owned(),
            text,
        },
    }
}

/// The card's link buttons whose URL fits, as many as fit in the list's 1000 characters.
fn link_buttons(card: &Card) -> Vec<ActionCardButton> {
    let mut buttons: Vec<ActionCardButton> = card
        .buttons
        .iter()
        .filter_map(|button| {
            let url = button.url.as_deref()?;
            fits_chars(url, BUTTON_URL_CHARS).then(|| ActionCardButton {
                title: truncate_chars(&one_line(&button.label), BUTTON_TITLE_CHARS),
                action_url: url.to_owned(),
            })
        })
        .collect();
    buttons.truncate(json_prefix_len(&buttons, BUTTON_LIST_CHARS, Unit::Chars));
    buttons
}

fn heading(title: &str) -> String {
    format!("### {title}")
}

/// The markdown: heading, status, source, description, figure, rows, quote — in order of
/// importance, as the end is what gets cut.
fn body(card: &Card, title: &str) -> Body {
    let mut body = Body::new(LINE_BREAK);
    body.text(heading(title));
    if let Some(status) = &card.status {
        let caption = truncate_chars(&one_line(&status.caption), SHORT_CHARS);
        body.markup(format!("**{caption}**"));
    }
    if let Some(source) = &card.source {
        body.text(one_line(source));
    }
    if let Some(description) = card.description.as_deref().filter(|d| !d.is_empty()) {
        let description = truncate_chars(description, DESCRIPTION_CHARS);
        body.text(description.lines().collect::<Vec<_>>().join(LINE_BREAK));
    }
    if let Some(emphasis) = &card.emphasis {
        let value = truncate_chars(&one_line(&emphasis.value), SHORT_CHARS);
        let mut line = format!("**{value}**");
        if let Some(label) = &emphasis.label {
            line.push(' ');
            line.push_str(&truncate_chars(&one_line(label), SHORT_CHARS));
        }
        body.markup(line);
    }
    for row in &card.rows {
        let key = truncate_chars(&one_line(&row.key), SHORT_CHARS);
        body.text(format!("**{key}:** {}", one_line(&row.value)));
    }
    if let Some(quote) = &card.quote {
        for line in quote.lines() {
            body.text(format!("> {line}"));
        }
    }
    body
}
