//! The platform-neutral card: what every notice salesbot sends is made of, before a renderer
//! turns it into a WeCom `template_card`, a DingTalk interactive card, or a fallback message.
//!
//! A card is data: it is rendered from a message template when the message is enqueued and
//! stored in the outbox as JSON, so a retried send shows exactly what the first attempt would.

use serde::{Deserialize, Serialize};

/// One notice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// The headline, e.g. "Discount approval: ACME Ltd".
    pub title: String,
    /// A short source or brand line shown above the title ("Sales desk").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A short description under the title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Key–value rows ("Customer: ACME Ltd"), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<Row>,
    /// One figure to stand out, e.g. the discount asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emphasis: Option<Emphasis>,
    /// A quoted passage, e.g. the requester's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Where a tap on the card leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The buttons, in order. Those without a `url` call salesbot back with their `key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
    /// The state this card shows once it has been decided ("Approved by Li Lei 14:02"); set on
    /// the card of an update, `None` on a card that is still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

impl Card {
    /// Whether a tap on this card can reach salesbot: it has a button without a URL.
    pub fn is_interactive(&self) -> bool {
        self.buttons.iter().any(Button::is_callback)
    }

    /// Whether the card has been decided and its buttons should no longer act.
    pub fn is_closed(&self) -> bool {
        self.status.is_some()
    }
}

/// A key–value row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub value: String,
}

/// The figure that stands out, with an optional label under it ("15%" / "discount").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emphasis {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A button: a callback (`url` absent: a tap sends `key` to salesbot) or a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Sent back on a tap; unique within the card.
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub style: ButtonStyle,
    /// Opens this URL instead of calling back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Button {
    /// Whether a tap calls salesbot back rather than opening a link.
    pub fn is_callback(&self) -> bool {
        self.url.is_none()
    }
}

/// How a button looks; each platform maps it to its nearest style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonStyle {
    /// The action most people take (approve).
    Primary,
    /// A neutral action.
    #[default]
    Default,
    /// A destructive or negative action (reject).
    Danger,
}

/// The decided state of a card: a key the domain knows (`approved`) and the caption people see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub key: String,
    pub caption: String,
}
