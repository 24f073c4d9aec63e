//! The WeCom server API client: one retrying, rate-limited, token-refreshing call path and typed
//! requests and responses for the endpoints the service uses (wecom.md §4 and §5).
//!
//! Requests serialize to the documented JSON; responses are parsed leniently (unknown keys are
//! ignored, documented fields that may be absent are `Option` or default to empty).

mod card;
mod client;
mod contact_way;
mod error;
mod externalcontact;
mod groupchat;
mod message;
mod oauth;
mod rate_limit;
mod serde_util;
mod tag;
mod token;
mod user;
mod welcome;

pub use card::{
    ActionMenu, ActionMenuItem, Button, ButtonSelection, CardAction, CardSource, CardType,
    EmphasisContent, HorizontalContent, Jump, MainTitle, QuoteArea, SelectOption, TemplateCard,
};
pub use client::{
    ClientConfig, DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_RETRY_BACKOFF, DEFAULT_TIMEOUT,
    WecomClient,
};
pub use contact_way::{AddContactWay, ContactWay};
pub use error::{ApiError, TokenStoreError, errcode};
pub use externalcontact::{
    ExternalContact, ExternalContactDetail, FollowTag, FollowUser, MarkTag, WechatChannels,
};
pub use groupchat::{GroupChat, GroupChatAdmin, GroupChatInvitor, GroupChatMember};
pub use message::{
    ButtonReplacement, CardUpdate, Markdown, MessageContent, SendMessage, SendMessageResponse,
    Text, UpdateTemplateCard, UpdateTemplateCardResponse,
};
pub use oauth::{AUTHORIZE_URL, OauthIdentity, authorize_url};
pub use rate_limit::{DEFAULT_BURST, DEFAULT_REQUESTS_PER_MINUTE, RateLimit};
pub use tag::{AddCorpTag, CorpTag, CorpTagFilter, NewCorpTag, TagGroup};
pub use token::{AccessToken, CachedToken, MemoryTokenStore, TokenStore};
pub use user::User;
pub use welcome::{Attachment, Image, Link, MediaFile, MiniProgram, WelcomeMessage};
