//! Tracked links: a target URL behind a short, unguessable code, tagged with the campaign, chat
//! and rep it was posted for; the clicks on it, each with the kind of client and an anonymous
//! visitor id; and the stats read from those clicks.

pub mod agent;
pub mod code;
pub mod stats;
pub mod store;
pub mod visitor;

use std::sync::Arc;

use sea_orm::FromQueryResult;
use serde::Serialize;

pub use agent::{AgentClass, classify};
pub use code::LinkCode;
pub use visitor::{Visitor, VisitorHasher};

/// Longest target URL: what browsers and chat clients reliably pass on.
pub const MAX_TARGET_CHARS: usize = 2048;
/// Longest campaign name; also the column's length.
pub const MAX_CAMPAIGN_CHARS: usize = 64;
/// Longest chat id: WeCom's are about 32, DingTalk's conversation ids about 40.
const MAX_CHAT_ID_CHARS: usize = 128;
/// Longest rep (userid), as elsewhere.
const MAX_REP_CHARS: usize = 64;

/// Why a new link was refused; each says what a valid value looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidLink {
    #[error("tenant must be 1-64 of a-z, 0-9, - and _")]
    Tenant,
    #[error("target_url must be an absolute http:// or https:// URL with a host")]
    TargetUrl,
    #[error("target_url must be at most {MAX_TARGET_CHARS} characters")]
    TargetTooLong,
    #[error("target_url must not contain a user name or password")]
    TargetCredentials,
    #[error(
        "campaign must be 1-{MAX_CAMPAIGN_CHARS} characters, without `/`, control characters \
         or surrounding spaces"
    )]
    Campaign,
    #[error("chat_id must be 1-{MAX_CHAT_ID_CHARS} characters without spaces")]
    ChatId,
    #[error("rep must be 1-{MAX_REP_CHARS} characters without spaces")]
    Rep,
}

/// A link to create, checked. The target is kept as the URL parser writes it back (host in
/// lower case and punycode, spaces and non-ASCII percent-encoded), so it is always a valid
/// `Location` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLink {
    pub tenant: String,
    pub target_url: String,
    pub campaign: String,
    /// The group chat the link was posted in.
    pub chat_id: Option<String>,
    /// The rep who posted it.
    pub rep: Option<String>,
    /// Whether clicks should learn who clicked (see `crate::links::identity`).
    pub identify: bool,
}

impl NewLink {
    pub fn parse(
        tenant: &str,
        target_url: &str,
        campaign: &str,
        chat_id: Option<&str>,
        rep: Option<&str>,
        identify: bool,
    ) -> Result<Self, InvalidLink> {
        if !crate::config::valid_tenant(tenant) {
            return Err(InvalidLink::Tenant);
        }
        let target_url = parse_target(target_url)?;
        if !valid_campaign(campaign) {
            return Err(InvalidLink::Campaign);
        }
        let word = |value: Option<&str>, max: usize, err: InvalidLink| match value {
            None => Ok(None),
            Some(v) if valid_word(v, max) => Ok(Some(v.to_owned())),
            Some(_) => Err(err),
        };
        Ok(Self {
            tenant: tenant.to_owned(),
            target_url,
            campaign: campaign.to_owned(),
            chat_id: word(chat_id, MAX_CHAT_ID_CHARS, InvalidLink::ChatId)?,
            rep: word(rep, MAX_REP_CHARS, InvalidLink::Rep)?,
            identify,
        })
    }
}

/// Only absolute http(s) URLs with a host: anything else (`javascript:`, `data:`, `ftp:`, a
/// relative path) would turn salesbot's domain into a launcher for it.
pub fn parse_target(raw: &str) -> Result<String, InvalidLink> {
    if raw.chars().count() > MAX_TARGET_CHARS {
        return Err(InvalidLink::TargetTooLong);
    }
    let url = url::Url::parse(raw).map_err(|_| InvalidLink::TargetUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(InvalidLink::TargetUrl);
    }
    // `https://trusted.example@evil.example` reads as the first host to a person.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InvalidLink::TargetCredentials);
    }
    let normalized = String::from(url);
    if normalized.len() > MAX_TARGET_CHARS {
        return Err(InvalidLink::TargetTooLong);
    }
    Ok(normalized)
}

/// Campaigns are names people type ("双十一", "expo-2026"); they appear in a URL path, so no `/`.
fn valid_campaign(campaign: &str) -> bool {
    (1..=MAX_CAMPAIGN_CHARS).contains(&campaign.chars().count())
        && campaign.trim() == campaign
        && !campaign.chars().any(|c| c.is_control() || c == '/')
}

fn valid_word(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.chars().count())
        && !value.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// A stored link: what a redirect needs, kept whole in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct Link {
    pub id: i64,
    pub code: String,
    pub tenant: String,
    pub target_url: String,
    pub campaign: String,
    pub chat_id: Option<String>,
    pub rep: Option<String>,
    pub identify: bool,
    pub enabled: bool,
    pub created_at: i64,
}

/// One click, as the redirect saw it. The client address is already folded into `visitor`.
#[derive(Debug, Clone)]
pub struct Click {
    pub link: Arc<Link>,
    pub at: i64,
    pub agent: AgentClass,
    pub visitor: Visitor,
    /// Who clicked, when a link with `identify` learned it through WeCom's OAuth.
    pub who: Who,
}

/// Who clicked, as WeCom's OAuth named them; both empty for an anonymous click.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    /// A member of the corp.
    pub member_userid: Option<String>,
    /// A customer of the corp.
    pub external_userid: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(raw: &str) -> Result<String, InvalidLink> {
        parse_target(raw)
    }

    #[test]
    fn targets_are_absolute_http_urls_written_back_normalized() {
        assert_eq!(
            target("https://example.com/event?id=7#top").unwrap(),
            "https://example.com/event?id=7#top"
        );
        assert_eq!(target("HTTP://Example.COM").unwrap(), "http://example.com/");
        assert_eq!(
            target("https://例子.测试/活动 页").unwrap(),
            "https://xn--fsqu00a.xn--0zwm56d/%E6%B4%BB%E5%8A%A8%20%E9%A1%B5"
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "ftp://example.com/file",
            "/relative/path",
            "example.com/no-scheme",
            "https://",
            "mailto:a@example.com",
            "",
        ] {
            assert_eq!(target(bad), Err(InvalidLink::TargetUrl), "{bad}");
        }
        assert_eq!(
            target("https://bank.example@evil.example/"),
            Err(InvalidLink::TargetCredentials)
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_TARGET_CHARS));
        assert_eq!(target(&long), Err(InvalidLink::TargetTooLong));
        let just_fits = format!("https://example.com/{}", "a".repeat(MAX_TARGET_CHARS - 20));
        assert_eq!(target(&just_fits).unwrap().len(), MAX_TARGET_CHARS);
    }

    #[test]
    fn campaigns_chats_and_reps_are_checked() {
        let parse = |campaign: &str, chat: Option<&str>, rep: Option<&str>| {
            NewLink::parse("acme", "https://example.com", campaign, chat, rep, false)
        };
        let ok = parse(
            "双十一",
            Some("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"),
            Some("alice"),
        )
        .unwrap();
        assert_eq!(ok.campaign, "双十一");
        assert_eq!(
            ok.chat_id.as_deref(),
            Some("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA")
        );
        assert!(parse(&"活".repeat(64), None, None).is_ok());
        for bad in ["", " expo", "a/b", "line\nbreak", &"活".repeat(65)] {
            assert_eq!(
                parse(bad, None, None),
                Err(InvalidLink::Campaign),
                "{bad:?}"
            );
        }
        assert_eq!(parse("expo", Some(""), None), Err(InvalidLink::ChatId));
        assert_eq!(parse("expo", None, Some("a b")), Err(InvalidLink::Rep));
        assert_eq!(
            NewLink::parse(
                "Acme Corp",
                "https://example.com",
                "expo",
                None,
                None,
                false
            ),
            Err(InvalidLink::Tenant)
        );
    }
}
