//! WeCom renderers (wecom.md §4): a [`Card`] as a `template_card` — `button_interaction` when it
//! has callback buttons, `text_notice` otherwise — the update that replaces a decided card, and an
//! app `markdown` message for when no template card fits.
//!
//! Every text is cut to its documented size with "…" rather than rejected at send time. URLs and
//! callback keys over their limits are dropped with their button, never cut.

mod markdown;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use salesbot_wecom::api::{
    Button as WecomButton, CardAction, CardSource, CardType, CardUpdate, EmphasisContent,
    HorizontalContent, Jump, MainTitle, MessageContent, QuoteArea, TemplateCard,
};

pub use markdown::{MARKDOWN_BYTES, markdown};

use super::limits::{fits_bytes, fits_chars, truncate_chars};
use crate::cards::{Button, ButtonStyle, Card, Emphasis};

// Display sizes, in characters. The docs give them as "建议不超过" suggestions (wecom.md §4.1; the
// counts wecom.md leaves out are from the official field tables of doc 90236); WeCom itself cuts
// longer text on screen, so they are the caps we cut to.
const SOURCE_DESC_CHARS: usize = 20;
const TITLE_CHARS: usize = 36;
/// `main_title.desc`; a longer description goes to `sub_title_text` instead.
const TITLE_DESC_CHARS: usize = 44;
const SUB_TITLE_CHARS: usize = 160;
const EMPHASIS_TITLE_CHARS: usize = 14;
/// doc 90236.
const EMPHASIS_DESC_CHARS: usize = 22;
/// doc 90236 suggests 5, but that cuts ordinary English labels ("Customer", as in wecom.md §4.1's
/// own example) to nothing useful; 10 is about the width of five Chinese characters.
const ROW_KEY_CHARS: usize = 10;
/// doc 90236.
const ROW_VALUE_CHARS: usize = 30;
const BUTTON_TEXT_CHARS: usize = 10;
/// doc 90236.
const JUMP_TITLE_CHARS: usize = 18;
/// No size is documented for `quote_text`; the body text's size keeps it in proportion.
const QUOTE_CHARS: usize = SUB_TITLE_CHARS;
/// No size is documented for `replace_text`; it takes the place of the buttons, so a little more
/// than one button's caption. The full caption is also in `sub_title_text`.
const REPLACE_TEXT_CHARS: usize = 20;

// Hard limits (wecom.md §4.1).
const MAX_ROWS: usize = 6;
const MAX_BUTTONS: usize = 6;
const MAX_JUMPS: usize = 3;
const TASK_ID_BYTES: usize = 128;
const KEY_BYTES: usize = 1024;
/// No URL limit is documented; a longer URL is dropped (a cut one would lead nowhere).
const URL_BYTES: usize = 2048;

// `button_list[].style` is 1–4, default 1 (wecom.md §4.1). The official field table (doc 90236,
// "Button结构体") shows the four looks only as a picture, so which number is red or grey is not
// confirmed in text: Primary takes the default style 1, as the approve button of wecom.md's
// example; Danger 3 and Default 4 follow the picture's usual reading (1 filled, 2 outlined,
// 3 red, 4 grey). Check them with one real card.
const STYLE_PRIMARY: u8 = 1;
const STYLE_DANGER: u8 = 3;
const STYLE_DEFAULT: u8 = 4;

/// The template card for `card`: `button_interaction` with `task_id` when it has a callback button,
/// otherwise `text_notice` — which requires a whole-card link, so `None` when the card has none
/// (or its link is too long); send [`markdown`] instead.
///
/// `task_id` must be unique within the app and is echoed in click callbacks; the caller passes a
/// valid one (see [`valid_task_id`]), and any other character is replaced here all the same.
pub fn template_card(card: &Card, task_id: &str) -> Option<TemplateCard> {
    build(card, Some(task_id))
}

/// The message for `card`: its template card, or the markdown fallback when `prefer_markdown` is
/// set or no template card fits.
pub fn message(card: &Card, task_id: &str, prefer_markdown: bool) -> MessageContent {
    let template = (!prefer_markdown)
        .then(|| template_card(card, task_id))
        .flatten();
    match template {
        Some(template) => MessageContent::template_card(template),
        None => MessageContent::markdown(markdown(card)),
    }
}

/// The update that replaces an interactive card with `card`'s current state; for a decided card
/// its buttons are greyed with the status caption (`replace_text`). `None` for a card without
/// callback buttons, which WeCom cannot update (wecom.md §4.5).
///
/// The replacement carries no `task_id`: the card keeps the one it was sent with.
pub fn update(card: &Card) -> Option<CardUpdate> {
    if !card.is_interactive() {
        return None;
    }
    build(card, None).map(CardUpdate::replace_card)
}

/// `raw` with every character outside `[A-Za-z0-9_@-]` replaced by `_` and cut to 128 bytes
/// (wecom.md §4.1): what [`template_card`] sends as `task_id`, for callers that correlate on it.
pub fn valid_task_id(raw: &str) -> Cow<'_, str> {
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@');
    if raw.len() <= TASK_ID_BYTES && raw.chars().all(valid) {
        return Cow::Borrowed(raw);
    }
    let clean: String = raw
        .chars()
        .map(|c| if valid(c) { c } else { '_' })
        .take(TASK_ID_BYTES)
        .collect();
    tracing::warn!(task_id = raw, sent_as = %clean, "invalid WeCom task id replaced");
    Cow::Owned(clean)
}

fn build(card: &Card, task_id: Option<&str>) -> Option<TemplateCard> {
    let link = card
        .link
        .as_deref()
        .and_then(|url| fits_bytes(url, URL_BYTES))
        .map(CardAction::url);
    let buttons = button_list(&card.buttons);
    let interactive = buttons.iter().any(|button| button.key.is_some());
    let caption = card.status.as_ref().map(|status| status.caption.as_str());

    let mut template;
    let mut rows = Vec::new();
    if interactive {
        template = TemplateCard::new(CardType::ButtonInteraction);
        template.task_id = task_id.map(|id| valid_task_id(id).into_owned());
        template.button_list = buttons;
        template.replace_text = caption.map(|caption| truncate_chars(caption, REPLACE_TEXT_CHARS));
        // `emphasis_content` belongs to text_notice; here the figure leads the rows.
        rows.extend(card.emphasis.as_ref().map(emphasis_row));
    } else {
        template = TemplateCard::new(CardType::TextNotice);
        // A text_notice without a whole-card action is refused (wecom.md §4.1).
        link.as_ref()?;
        template.emphasis_content = card.emphasis.as_ref().map(emphasis_content);
        template.jump_list = jump_list(&card.buttons);
    }
    template.card_action = link;

    template.source = card.source.as_deref().map(|source| CardSource {
        desc: Some(truncate_chars(source, SOURCE_DESC_CHARS)),
        ..CardSource::default()
    });
    let description = card.description.as_deref().filter(|d| !d.is_empty());
    let short_description = description.filter(|d| fits_chars(d, TITLE_DESC_CHARS));
    template.main_title = Some(MainTitle {
        title: Some(truncate_chars(&card.title, TITLE_CHARS)).filter(|t| !t.is_empty()),
        desc: short_description.map(str::to_owned),
    });
    // The caption first, so a long description cannot push it out.
    let body: Vec<&str> = caption
        .into_iter()
        .chain(description.filter(|_| short_description.is_none()))
        .collect();
    template.sub_title_text =
        Some(truncate_chars(&body.join("\n"), SUB_TITLE_CHARS)).filter(|text| !text.is_empty());
    template.quote_area = card.quote.as_deref().map(|quote| QuoteArea {
        kind: Some(0),
        quote_text: Some(truncate_chars(quote, QUOTE_CHARS)),
        ..QuoteArea::default()
    });
    rows.extend(card.rows.iter().map(|row| {
        HorizontalContent::text(
            truncate_chars(&row.key, ROW_KEY_CHARS),
            truncate_chars(&row.value, ROW_VALUE_CHARS),
        )
    }));
    rows.truncate(MAX_ROWS);
    template.horizontal_content_list = rows;
    Some(template)
}

/// The buttons WeCom can show, in order: at most six, each a callback (`key`) or a link (`url`);
/// one whose key or URL is over its limit is left out rather than cut.
fn button_list(buttons: &[Button]) -> Vec<WecomButton> {
    buttons
        .iter()
        .filter_map(|button| {
            let text = truncate_chars(&button.label, BUTTON_TEXT_CHARS);
            let rendered = match button.url.as_deref() {
                None => WecomButton::callback(text, fits_bytes(&button.key, KEY_BYTES)?),
                Some(url) => WecomButton::link(text, fits_bytes(url, URL_BYTES)?),
            };
            Some(rendered.with_style(style(button.style)))
        })
        .take(MAX_BUTTONS)
        .collect()
}

/// A text_notice has no buttons: its link buttons become `jump_list` links (at most three).
fn jump_list(buttons: &[Button]) -> Vec<Jump> {
    buttons
        .iter()
        .filter_map(|button| {
            let url = fits_bytes(button.url.as_deref()?, URL_BYTES)?;
            Some(Jump {
                kind: Some(1),
                title: truncate_chars(&button.label, JUMP_TITLE_CHARS),
                url: Some(url.to_owned()),
                ..Jump::default()
            })
        })
        .take(MAX_JUMPS)
        .collect()
}

fn emphasis_content(emphasis: &Emphasis) -> EmphasisContent {
    EmphasisContent {
        title: Some(truncate_chars(&emphasis.value, EMPHASIS_TITLE_CHARS)),
        desc: emphasis
            .label
            .as_deref()
            .map(|label| truncate_chars(label, EMPHASIS_DESC_CHARS)),
    }
}

/// The figure as a row: its label as the key; without a label the figure itself is the key, as
/// a row must have one.
fn emphasis_row(emphasis: &Emphasis) -> HorizontalContent {
    match emphasis.label.as_deref() {
        Some(label) => HorizontalContent::text(
            truncate_chars(label, ROW_KEY_CHARS),
            truncate_chars(&emphasis.value, ROW_VALUE_CHARS),
        ),
        None => HorizontalContent {
            keyname: truncate_chars(&emphasis.value, ROW_KEY_CHARS),
            ..HorizontalContent::default()
        },
    }
}

fn style(style: ButtonStyle) -> u8 {
    match style {
        ButtonStyle::Primary => STYLE_PRIMARY,
        ButtonStyle::Default => STYLE_DEFAULT,
        ButtonStyle::Danger => STYLE_DANGER,
    }
}
