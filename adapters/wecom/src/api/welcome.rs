//! Welcome messages: `externalcontact/send_welcome_msg` (wecom.md §5.11), callable once per
//! `welcome_code` within 20 seconds of the add event.

use serde::{Deserialize, Serialize, de::IgnoredAny};

use super::client::WecomClient;
use super::error::ApiError;
use super::message::Text;

/// The body of `POST /cgi-bin/externalcontact/send_welcome_msg`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WelcomeMessage {
    /// From the `add_external_contact` callback.
    pub welcome_code: String,
    /// At most 4000 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// Up to 9 attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl WelcomeMessage {
    /// A text-only welcome.
    pub fn text(welcome_code: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            welcome_code: welcome_code.into(),
            text: Some(Text {
                content: content.into(),
            }),
            attachments: Vec::new(),
        }
    }
}

/// One attachment, tagged by `msgtype`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "msgtype", rename_all = "snake_case")]
pub enum Attachment {
    /// An image by `media_id` or `pic_url`.
    Image {
        /// The image.
        image: Image,
    },
    /// A link card.
    Link {
        /// The link.
        link: Link,
    },
    /// A mini-program card.
    Miniprogram {
        /// The mini-program.
        miniprogram: MiniProgram,
    },
    /// A video by `media_id`.
    Video {
        /// The video.
        video: MediaFile,
    },
    /// A file by `media_id`.
    File {
        /// The file.
        file: MediaFile,
    },
}

/// `image`: one of `media_id` or `pic_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Uploaded media.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// Image URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pic_url: Option<String>,
}

/// `link`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Title.
    pub title: String,
    /// Thumbnail URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picurl: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Target URL.
    pub url: String,
}

/// `miniprogram`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiniProgram {
    /// Title.
    pub title: String,
    /// Cover image media id.
    pub pic_media_id: String,
    /// Mini-program app id.
    pub appid: String,
    /// Page path.
    pub page: String,
}

/// `video` or `file`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFile {
    /// Uploaded media.
    pub media_id: String,
}

impl WecomClient {
    /// `POST /cgi-bin/externalcontact/send_welcome_msg`. 41051 means the code was used or the
    /// two have already chatted: drop it, do not retry.
    pub async fn send_welcome_msg(&self, message: &WelcomeMessage) -> Result<(), ApiError> {
        let _: IgnoredAny = self
            .post("externalcontact/send_welcome_msg", message)
            .await?;
        Ok(())
    }
}
