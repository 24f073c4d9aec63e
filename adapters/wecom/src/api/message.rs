//! App messages: `message/send` with text, markdown or a template card (wecom.md §4.1, §5.2),
//! and `message/update_template_card` (§4.5).

use serde::{Deserialize, Serialize};

use super::card::TemplateCard;
use super::client::WecomClient;
use super::error::ApiError;
use super::serde_util::{id_list, int_bool, is_false};

/// The body of `POST /cgi-bin/message/send`. Set at least one of `touser`, `toparty`, `totag`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMessage {
    /// Member userids joined by `|` (at most 1000), or `@all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub touser: Option<String>,
    /// Department ids joined by `|` (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toparty: Option<String>,
    /// Tag ids joined by `|` (at most 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totag: Option<String>,
    /// The sending app.
    pub agentid: u32,
    /// `msgtype` and its object.
    #[serde(flatten)]
    pub content: MessageContent,
    /// Turn ids in supported text fields into names.
    #[serde(default, with = "int_bool", skip_serializing_if = "is_false")]
    pub enable_id_trans: bool,
    /// Do not deliver an identical request again within `duplicate_check_interval`, so a
    /// retried send cannot duplicate the message.
    #[serde(default, with = "int_bool", skip_serializing_if = "is_false")]
    pub enable_duplicate_check: bool,
    /// Seconds, default 1800, at most 14400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_check_interval: Option<u32>,
}

impl SendMessage {
    /// A message from app `agentid` with no recipients yet.
    pub fn new(agentid: u32, content: MessageContent) -> Self {
        Self {
            touser: None,
            toparty: None,
            totag: None,
            agentid,
            content,
            enable_id_trans: false,
            enable_duplicate_check: false,
            duplicate_check_interval: None,
        }
    }

    /// Addressed to these members.
    pub fn to_users<I, S>(self, userids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            touser: Some(join(userids)),
            ..self
        }
    }

    /// Addressed to these departments.
    pub fn to_parties<I, S>(self, party_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            toparty: Some(join(party_ids)),
            ..self
        }
    }

    /// Addressed to these tags.
    pub fn to_tags<I, S>(self, tag_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self {
            totag: Some(join(tag_ids)),
            ..self
        }
    }

    /// With duplicate checking over `interval_secs` (WeCom's default 1800 when `None`).
    pub fn with_duplicate_check(self, interval_secs: Option<u32>) -> Self {
        Self {
            enable_duplicate_check: true,
            duplicate_check_interval: interval_secs,
            ..self
        }
    }
}

fn join<I, S>(ids: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    ids.into_iter()
        .map(|id| id.as_ref().to_owned())
        .collect::<Vec<_>>()
        .join("|")
}

/// The message types this client sends, tagged by `msgtype`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "snake_case")]
pub enum MessageContent {
    /// `text`: at most 2048 bytes.
    Text {
        /// The text object.
        text: Text,
    },
    /// `markdown`: WeCom's markdown subset.
    Markdown {
        /// The markdown object.
        markdown: Markdown,
    },
    /// `template_card`.
    TemplateCard {
        /// The card, boxed: it is far larger than the other variants.
        template_card: Box<TemplateCard>,
    },
}

impl MessageContent {
    /// A text message.
    pub fn text(content: impl Into<String>) -> Self {
        Self::Text {
            text: Text {
                content: content.into(),
            },
        }
    }

    /// A markdown message.
    pub fn markdown(content: impl Into<String>) -> Self {
        Self::Markdown {
            markdown: Markdown {
                content: content.into(),
            },
        }
    }

    /// A template card.
    pub fn template_card(card: TemplateCard) -> Self {
        Self::TemplateCard {
            template_card: Box::new(card),
        }
    }
}

/// `text: {content}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    /// The text.
    pub content: String,
}

/// `markdown: {content}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Markdown {
    /// The markdown source.
    pub content: String,
}

/// The answer of `message/send` (wecom.md §4.2, §5.2). Invalid recipients do not fail the call;
/// they are listed here (lower-cased). If every recipient is invalid the call fails with 81013.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SendMessageResponse {
    /// Userids that were invalid or not visible to the app.
    #[serde(default, deserialize_with = "id_list")]
    pub invaliduser: Vec<String>,
    /// Invalid department ids.
    #[serde(default, deserialize_with = "id_list")]
    pub invalidparty: Vec<String>,
    /// Invalid tag ids.
    #[serde(default, deserialize_with = "id_list")]
    pub invalidtag: Vec<String>,
    /// Visible userids without a basic interface licence.
    #[serde(default, deserialize_with = "id_list")]
    pub unlicenseduser: Vec<String>,
    /// For `message/recall` within 24 hours.
    pub msgid: Option<String>,
    /// For one `update_template_card` within 72 hours; interactive cards only.
    pub response_code: Option<String>,
}

/// The body of `POST /cgi-bin/message/update_template_card`: whose copies to update (set at
/// least one of `userids`, `partyids`, `tagids`, `atall`) and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateTemplateCard {
    /// Members whose copy to update, at most 1000.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userids: Vec<String>,
    /// Departments, at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partyids: Vec<u64>,
    /// Tags, at most 100.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tagids: Vec<u64>,
    /// Every recipient of the original card.
    #[serde(default, with = "int_bool", skip_serializing_if = "is_false")]
    pub atall: bool,
    /// The app that sent the card.
    pub agentid: u32,
    /// The single-use code from the send answer or from a click callback.
    pub response_code: String,
    /// As in `message/send`.
    #[serde(default, with = "int_bool", skip_serializing_if = "is_false")]
    pub enable_id_trans: bool,
    /// Grey out the buttons, or replace the card.
    #[serde(flatten)]
    pub update: CardUpdate,
}

impl UpdateTemplateCard {
    /// Updates every recipient's copy (`atall: 1`).
    pub fn for_everyone(
        agentid: u32,
        response_code: impl Into<String>,
        update: CardUpdate,
    ) -> Self {
        Self {
            userids: Vec::new(),
            partyids: Vec::new(),
            tagids: Vec::new(),
            atall: true,
            agentid,
            response_code: response_code.into(),
            enable_id_trans: false,
            update,
        }
    }

    /// Updates these members' copies.
    pub fn for_users(
        agentid: u32,
        response_code: impl Into<String>,
        userids: Vec<String>,
        update: CardUpdate,
    ) -> Self {
        Self {
            userids,
            atall: false,
            ..Self::for_everyone(agentid, response_code, update)
        }
    }
}

/// The two kinds of update, keyed by their field name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardUpdate {
    /// `button: {replace_name}`: grey the buttons out with this caption.
    Button(ButtonReplacement),
    /// `template_card`: a complete replacement card (boxed: it is far larger than a button).
    TemplateCard(Box<TemplateCard>),
}

impl CardUpdate {
    /// Grey out the buttons with `caption`.
    pub fn grey_out(caption: impl Into<String>) -> Self {
        Self::Button(ButtonReplacement {
            replace_name: caption.into(),
        })
    }

    /// Replace the card with `card`.
    pub fn replace_card(card: TemplateCard) -> Self {
        Self::TemplateCard(Box::new(card))
    }
}

/// `button` of an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ButtonReplacement {
    /// The greyed caption.
    pub replace_name: String,
}

/// The answer of `update_template_card`. `invaliduser` is an array here, unlike in a send.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct UpdateTemplateCardResponse {
    /// Userids that could not be updated.
    #[serde(default, deserialize_with = "id_list")]
    pub invaliduser: Vec<String>,
}

impl WecomClient {
    /// `POST /cgi-bin/message/send`.
    pub async fn send_message(
        &self,
        message: &SendMessage,
    ) -> Result<SendMessageResponse, ApiError> {
        self.post("message/send", message).await
    }

    /// `POST /cgi-bin/message/update_template_card`.
    pub async fn update_template_card(
        &self,
        update: &UpdateTemplateCard,
    ) -> Result<UpdateTemplateCardResponse, ApiError> {
        self.post("message/update_template_card", update).await
    }
}
