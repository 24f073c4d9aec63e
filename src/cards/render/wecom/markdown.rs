//! The WeCom app `markdown` fallback: a card as WeCom's markdown subset (`**bold**`, `> quote`,
//! `<font color="info|comment|warning">`, `[text](url)`), for when no template card fits.
//!
//! Callback buttons cannot work in a markdown message, so they are left out; link buttons and the
//! card's link become links. Nothing here depends on a locale: the card's link is labelled with
//! the card's title.

use super::URL_BYTES;
use crate::cards::Card;
use crate::cards::render::body::{Body, one_line};
use crate::cards::render::limits::{Unit, fits_bytes, truncate_bytes, truncate_chars};

/// The size of a `markdown.content`: 2048 bytes for app messages (doc 90236, "markdown消息";
/// the 4096 often quoted is the group robot's limit).
pub const MARKDOWN_BYTES: usize = 2048;
/// Links take at most half the message, so the text is never crowded out by them.
const LINKS_BYTES: usize = MARKDOWN_BYTES / 2;
/// Lines with markup are kept whole or not at all, so their text is capped first.
const TITLE_CHARS: usize = 128;
const SHORT_CHARS: usize = 64;
const EMPHASIS_CHARS: usize = 32;
/// A long description takes at most a third of the message, leaving room for the figure and
/// the rows after it.
const DESCRIPTION_BYTES: usize = MARKDOWN_BYTES / 3;

/// The markdown message body for `card`, at most [`MARKDOWN_BYTES`] long.
pub fn markdown(card: &Card) -> String {
    let mut body = Body::new("\n");
    if let Some(source) = &card.source {
        let source = truncate_chars(&one_line(source), SHORT_CHARS);
        body.markup(format!(r#"<font color="comment">{source}</font>"#));
    }
    body.markup(format!(
        "**{}**",
        truncate_chars(&one_line(&card.title), TITLE_CHARS)
    ));
    if let Some(status) = &card.status {
        let caption = truncate_chars(&one_line(&status.caption), SHORT_CHARS);
        body.markup(format!(r#"<font color="info">{caption}</font>"#));
    }
    if let Some(description) = card.description.as_deref().filter(|d| !d.is_empty()) {
        body.text(truncate_bytes(description, DESCRIPTION_BYTES));
    }
    if let Some(emphasis) = &card.emphasis {
        let value = truncate_chars(&one_line(&emphasis.value), EMPHASIS_CHARS);
        let mut line = format!(r#"<font color="warning">{value}</font>"#);
        if let Some(label) = &emphasis.label {
            line.push(' ');
            line.push_str(&truncate_chars(&one_line(label), EMPHASIS_CHARS));
        }
        body.markup(line);
    }
    for row in &card.rows {
        body.text(format!("{}：{}", one_line(&row.key), one_line(&row.value)));
    }
    if let Some(quote) = &card.quote {
        for line in quote.lines() {
            body.text(format!("> {line}"));
        }
    }

    let links = links(card);
    let reserved = if links.is_empty() {
        0
    } else {
        links.len() + "\n\n".len()
    };
    let mut text = body.render(MARKDOWN_BYTES - reserved, Unit::Bytes);
    if !links.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&links);
    }
    text
}

/// The card's link (labelled with its title) and its link buttons, one a line, as many whole
/// links as fit in [`LINKS_BYTES`]; a URL is never cut.
fn links(card: &Card) -> String {
    let card_link = card.link.as_deref().map(|url| (card.title.as_str(), url));
    let buttons = card
        .buttons
        .iter()
        .filter_map(|button| Some((button.label.as_str(), button.url.as_deref()?)));
    let mut links = String::new();
    for (label, url) in card_link.into_iter().chain(buttons) {
        let Some(url) = fits_bytes(url, URL_BYTES) else {
            continue;
        };
        let label = truncate_chars(&one_line(label).replace(['[', ']'], ""), SHORT_CHARS);
        let line = format!("[{label}]({url})");
        let separator = if links.is_empty() { 0 } else { 1 };
        if links.len() + separator + line.len() > LINKS_BYTES {
            continue;
        }
        if separator == 1 {
            links.push('\n');
        }
        links.push_str(&line);
    }
    links
}
