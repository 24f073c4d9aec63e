//! Where a click goes next. For a link with `identify` opened inside WeCom or WeChat, and a
//! tenant with a WeCom app, first through WeCom's silent OAuth (wecom.md §7, `snsapi_base`):
//! the client comes back to our landing URL with a single-use `code`, which `auth/getuserinfo`
//! turns into the member or customer who clicked; then on to the target. Every other click goes
//! straight to the target, and so does one whose OAuth fails in any way: identity is a bonus,
//! never a reason not to redirect.

use salesbot_wecom::api::authorize_url;

use super::create::short_url;
use crate::domain::link::{AgentClass, Link};

/// Path under the short URL where WeCom's OAuth brings the visitor back.
pub const LANDING: &str = "id";

/// What the visitor's browser is told to open next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextStep {
    /// The link's target.
    Target(String),
    /// WeCom's OAuth first; the click is recorded when the visitor lands back.
    Authorize(String),
}

/// The WeCom app an identify link's tenant asks through.
#[derive(Debug, Clone, Copy)]
pub struct Oauth<'a> {
    pub corp_id: &'a str,
    pub agent_id: u32,
    pub public_base_url: &'a str,
}

/// The step after a click on `link` by a client of class `agent`; `oauth` is the tenant's
/// WeCom app, if it has one.
pub fn next_step(link: &Link, agent: AgentClass, oauth: Option<Oauth<'_>>) -> NextStep {
    let in_app = matches!(agent, AgentClass::Wecom | AgentClass::Wechat);
    match oauth {
        Some(oauth) if link.identify && in_app => NextStep::Authorize(authorize_url(
            oauth.corp_id,
            &landing_url(oauth.public_base_url, &link.code),
            // Codes are base62: a valid `state`.
            &link.code,
            &oauth.agent_id.to_string(),
        )),
        _ => NextStep::Target(link.target_url.clone()),
    }
}

/// `{public_base_url}/l/{code}/id`.
pub fn landing_url(public_base_url: &str, code: &str) -> String {
    format!("{}/{LANDING}", short_url(public_base_url, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(identify: bool) -> Link {
        Link {
            id: 1,
            code: "Ab3dE5gH7j".into(),
            tenant: "acme".into(),
            target_url: "https://example.com/expo".into(),
            campaign: "expo".into(),
            chat_id: None,
            rep: None,
            identify,
            enabled: true,
            created_at: 0,
        }
    }

    const OAUTH: Oauth<'static> = Oauth {
        corp_id: "ww1234",
        agent_id: 1000002,
        public_base_url: "https://bot.example.com",
    };

    #[test]
    fn only_identify_links_opened_in_wecom_or_wechat_go_through_oauth() {
        let target = NextStep::Target("https://example.com/expo".into());
        assert_eq!(
            next_step(&link(false), AgentClass::Wecom, Some(OAUTH)),
            target
        );
        assert_eq!(
            next_step(&link(true), AgentClass::Browser, Some(OAUTH)),
            target
        );
        assert_eq!(next_step(&link(true), AgentClass::Bot, Some(OAUTH)), target);
        assert_eq!(next_step(&link(true), AgentClass::Wecom, None), target);
        let NextStep::Authorize(url) = next_step(&link(true), AgentClass::Wechat, Some(OAUTH))
        else {
            panic!("expected the OAuth step");
        };
        assert!(
            url.starts_with("https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww1234&")
        );
        assert!(url.contains("redirect_uri=https%3A%2F%2Fbot.example.com%2Fl%2FAb3dE5gH7j%2Fid&"));
        assert!(url.contains("&state=Ab3dE5gH7j&agentid=1000002#wechat_redirect"));
    }
}
