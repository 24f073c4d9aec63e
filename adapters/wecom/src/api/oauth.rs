//! OAuth2 for pages opened inside WeCom (wecom.md §7): the authorize URL that wraps a tracked
//! link, and `auth/getuserinfo`, which turns the single-use `code` the client brings back into
//! who opened it — a member, a customer, or only an `openid`.

use serde::Deserialize;

use super::client::WecomClient;
use super::error::ApiError;

/// Where WeCom's client starts the silent (`snsapi_base`) OAuth round trip.
pub const AUTHORIZE_URL: &str = "https://open.weixin.qq.com/connect/oauth2/authorize";

/// The URL to send a visitor to so that WeCom brings them back to `redirect_uri` with
/// `?code=…&state=…`. `state` must be `[a-zA-Z0-9]`, at most 128 bytes (the caller checks).
pub fn authorize_url(corp_id: &str, redirect_uri: &str, state: &str, agent_id: &str) -> String {
    format!(
        "{AUTHORIZE_URL}?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}&agentid={}#wechat_redirect",
        encode(corp_id),
        encode(redirect_uri),
        encode(state),
        encode(agent_id),
    )
}

/// RFC 3986 percent-encoding of everything but the unreserved characters, as a query value
/// (and `redirect_uri` in particular) needs.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Who opened the page, as `auth/getuserinfo` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct OauthIdentity {
    /// A member of the corp.
    pub userid: Option<String>,
    /// Someone else: their id within this corp.
    pub openid: Option<String>,
    /// A customer of the corp, when one of their follow members is in the app's visibility.
    pub external_userid: Option<String>,
}

impl WecomClient {
    /// `GET /cgi-bin/auth/getuserinfo`. 40029 for a used, expired or forged code.
    pub async fn oauth_user(&self, code: &str) -> Result<OauthIdentity, ApiError> {
        self.get("auth/getuserinfo", &[("code", code)]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorize_url_encodes_the_redirect_and_ends_with_the_fragment() {
        let url = authorize_url(
            "ww1234",
            "https://sales.example.com/l/Ab3?x=1&y=2",
            "Ab3",
            "1000002",
        );
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=ww1234\
             &redirect_uri=https%3A%2F%2Fsales.example.com%2Fl%2FAb3%3Fx%3D1%26y%3D2\
             &response_type=code&scope=snsapi_base&state=Ab3&agentid=1000002#wechat_redirect"
        );
    }
}
