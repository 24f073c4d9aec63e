//! Template cards (模板卡片, wecom.md §4.1): the shared blocks and those of `text_notice` and
//! `button_interaction`. The blocks specific to `news_notice`, `vote_interaction` and
//! `multiple_interaction` are not modelled.

use serde::{Deserialize, Serialize};

/// The five documented card types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    /// 文本通知型: calls back only through an `action_menu`.
    TextNotice,
    /// 图文展示型.
    NewsNotice,
    /// 按钮交互型: buttons that call back.
    ButtonInteraction,
    /// 投票选择型.
    VoteInteraction,
    /// 多项选择型.
    MultipleInteraction,
}

impl CardType {
    /// Whether sending this card returns a `response_code` and clicks call back, given whether
    /// the card has an `action_menu` (wecom.md §4.2).
    pub fn is_interactive(self, has_action_menu: bool) -> bool {
        match self {
            Self::TextNotice | Self::NewsNotice => has_action_menu,
            Self::ButtonInteraction | Self::VoteInteraction | Self::MultipleInteraction => true,
        }
    }
}

/// A template card as sent in `message/send` or `message/update_template_card`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateCard {
    /// Which kind of card.
    pub card_type: CardType,
    /// The source line at the top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<CardSource>,
    /// The top-right "…" menu; requires `task_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_menu: Option<ActionMenu>,
    /// Title and description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_title: Option<MainTitle>,
    /// The quoted block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_area: Option<QuoteArea>,
    /// The big number of a `text_notice`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emphasis_content: Option<EmphasisContent>,
    /// Body text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_title_text: Option<String>,
    /// Up to 6 key/value rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub horizontal_content_list: Vec<HorizontalContent>,
    /// Up to 3 links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jump_list: Vec<Jump>,
    /// Whole-card tap; required for the notice types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_action: Option<CardAction>,
    /// Our correlation id, echoed as `TaskId` in callbacks; never reused within the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// The dropdown of a `button_interaction`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub button_selection: Option<ButtonSelection>,
    /// The 1–6 buttons of a `button_interaction`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub button_list: Vec<Button>,
    /// Greyed caption for every button; only takes effect in an update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace_text: Option<String>,
}

impl TemplateCard {
    /// A card of `card_type` with every block empty.
    pub fn new(card_type: CardType) -> Self {
        Self {
            card_type,
            source: None,
            action_menu: None,
            main_title: None,
            quote_area: None,
            emphasis_content: None,
            sub_title_text: None,
            horizontal_content_list: Vec::new(),
            jump_list: Vec::new(),
            card_action: None,
            task_id: None,
            button_selection: None,
            button_list: Vec::new(),
            replace_text: None,
        }
    }

    /// A `text_notice` with a title and the mandatory whole-card action.
    pub fn text_notice(title: impl Into<String>, card_action: CardAction) -> Self {
        Self {
            main_title: Some(MainTitle::new(title)),
            card_action: Some(card_action),
            ..Self::new(CardType::TextNotice)
        }
    }

    /// A `button_interaction` with its mandatory task id, a title and buttons.
    pub fn button_interaction(
        task_id: impl Into<String>,
        title: impl Into<String>,
        buttons: Vec<Button>,
    ) -> Self {
        Self {
            task_id: Some(task_id.into()),
            main_title: Some(MainTitle::new(title)),
            button_list: buttons,
            ..Self::new(CardType::ButtonInteraction)
        }
    }

    /// Whether sending this card returns a `response_code`.
    pub fn is_interactive(&self) -> bool {
        self.card_type.is_interactive(self.action_menu.is_some())
    }
}

/// `source`: icon and a short description; `desc_color` 0 grey, 1 black, 2 red, 3 green.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardSource {
    /// Icon URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// About 20 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// 0 grey (default), 1 black, 2 red, 3 green.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc_color: Option<u8>,
}

/// `action_menu`: 1–3 entries under the "…" button.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionMenu {
    /// Menu description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// The entries.
    #[serde(default)]
    pub action_list: Vec<ActionMenuItem>,
}

/// One `action_menu` entry; `key` comes back as `EventKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionMenuItem {
    /// Caption.
    pub text: String,
    /// Unique key, at most 1024 bytes.
    pub key: String,
}

/// `main_title`: about 36 characters of title and 44 of description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MainTitle {
    /// Title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description under the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
}

impl MainTitle {
    /// A title without description.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            desc: None,
        }
    }
}

/// `quote_area`: `type` 0 none, 1 url, 2 mini-program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteArea {
    /// 0 none, 1 url, 2 mini-program.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// Link for type 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Mini-program app id for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Mini-program page for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
    /// Quote title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Quoted text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_text: Option<String>,
}

/// `emphasis_content` of a `text_notice`: a big number and its caption.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmphasisContent {
    /// The emphasised value, about 14 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Caption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
}

/// One `horizontal_content_list` row; `type` 0 plain, 1 link, 2 file, 3 member profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HorizontalContent {
    /// Label.
    pub keyname: String,
    /// Value (the file name for type 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// 0/absent plain, 1 link (`url`), 2 file (`media_id`), 3 member (`userid`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// Link for type 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// File for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// Member for type 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userid: Option<String>,
}

impl HorizontalContent {
    /// A plain-text row.
    pub fn text(keyname: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            keyname: keyname.into(),
            value: Some(value.into()),
            ..Self::default()
        }
    }
}

/// One `jump_list` link: `type` 1 url, 2 mini-program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jump {
    /// 1 url, 2 mini-program.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// Caption.
    pub title: String,
    /// Link for type 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Mini-program app id for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Mini-program page for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
}

/// `card_action`, the whole-card tap: `type` 1 url, 2 mini-program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardAction {
    /// 1 url, 2 mini-program.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Link for type 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Mini-program app id for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Mini-program page for type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagepath: Option<String>,
}

impl CardAction {
    /// Opens `url` when the card is tapped.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            kind: 1,
            url: Some(url.into()),
            ..Self::default()
        }
    }
}

/// `button_selection`: one dropdown above the buttons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonSelection {
    /// Key of the question, echoed as `QuestionKey`; at most 1024 bytes.
    pub question_key: String,
    /// Label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 1–10 options.
    #[serde(default)]
    pub option_list: Vec<SelectOption>,
    /// Preselected option id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_id: Option<String>,
}

/// One dropdown option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectOption {
    /// Unique id, at most 128 bytes.
    pub id: String,
    /// Caption.
    pub text: String,
}

/// One button: `type` 0/absent calls back with `key`, 1 opens `url`; `style` 1–4.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Caption, about 10 characters.
    pub text: String,
    /// 1–4, default 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub style: Option<u8>,
    /// Callback key, echoed as `EventKey`; unique, at most 1024 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// 0/absent callback, 1 link.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    /// Link for type 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Button {
    /// A button that calls back with `key`.
    pub fn callback(text: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            key: Some(key.into()),
            ..Self::default()
        }
    }

    /// A button that opens `url`.
    pub fn link(text: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            kind: Some(1),
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// The same button with `style` (1–4).
    pub fn with_style(self, style: u8) -> Self {
        Self {
            style: Some(style),
            ..self
        }
    }
}
