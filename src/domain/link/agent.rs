//! What kind of client followed a link, from its User-Agent: the WeCom app, WeChat, another
//! browser, or a bot. Bots (link previews, crawlers, scripts) are kept apart so they do not
//! count as people in the stats.

use serde::Serialize;

/// The kind of client that followed a link; stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentClass {
    /// The WeCom (企业微信) client's built-in browser.
    Wecom,
    /// WeChat's built-in browser.
    Wechat,
    /// Any other browser.
    Browser,
    /// Link previews, crawlers and scripts.
    Bot,
}

impl AgentClass {
    pub const ALL: [AgentClass; 4] = [Self::Wecom, Self::Wechat, Self::Browser, Self::Bot];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wecom => "wecom",
            Self::Wechat => "wechat",
            Self::Browser => "browser",
            Self::Bot => "bot",
        }
    }
}

/// Lower-case pieces of User-Agents that only machines send. `bot`, `spider` and `crawler`
/// cover most named crawlers (Googlebot, bingbot, Slackbot, TelegramBot, Twitterbot,
/// Discordbot, LinkedInBot; Baiduspider, YisouSpider, Bytespider, 360Spider and Sogou's
/// "Sogou web spider"); the rest name themselves otherwise. Sogou's browser
/// (`SogouMobileBrowser`, `MetaSr`) is a person and stays a browser.
const BOT_MARKERS: [&str; 12] = [
    "bot",
    "spider",
    "crawler",
    "preview",
    "facebookexternalhit",
    "whatsapp",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "headlesschrome",
];

/// Classifies a User-Agent. An empty one is a script: every browser sends one.
pub fn classify(user_agent: &str) -> AgentClass {
    if user_agent.trim().is_empty() {
        return AgentClass::Bot;
    }
    let ua = user_agent.to_ascii_lowercase();
    if BOT_MARKERS.iter().any(|marker| ua.contains(marker)) {
        AgentClass::Bot
    } else if ua.contains("wxwork") {
        // WeCom's browser also says MicroMessenger; wxwork is what sets it apart.
        AgentClass::Wecom
    } else if ua.contains("micromessenger") {
        AgentClass::Wechat
    } else {
        AgentClass::Browser
    }
}

#[cfg(test)]
mod tests {
    use super::{AgentClass::*, *};

    #[test]
    fn wecom_and_wechat_are_told_apart_by_wxwork() {
        let wecom_ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) \
            AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 \
            MicroMessenger/7.0.1 Language/zh ColorScheme/Light";
        let wecom_windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
            (KHTML, like Gecko) Chrome/86.0.4240.198 Safari/537.36 wxwork/4.1.10 (MicroMessenger/6.2) \
            WindowsWechat MailPlugin_Electron WeMail embeddisk";
        let wechat_android = "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) \
            AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile \
            Safari/537.36 XWEB/5235 MMWEBSDK/20230805 MMWEBID/2585 MicroMessenger/8.0.42.2460(0x28002A35) \
            WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64";
        assert_eq!(classify(wecom_ios), Wecom);
        assert_eq!(classify(wecom_windows), Wecom);
        assert_eq!(classify(wechat_android), Wechat);
    }

    #[test]
    fn ordinary_browsers_are_browsers() {
        for ua in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/124.0.0.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like \
             Gecko) Version/17.4 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) \
             SogouMobileBrowser/5.28.12 Mobile Safari/537.36",
            "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/86.0 Safari/537.36 SE 2.X MetaSr 1.0",
        ] {
            assert_eq!(classify(ua), Browser, "{ua}");
        }
    }

    #[test]
    fn previews_crawlers_and_scripts_are_bots() {
        for ua in [
            "",
            "   ",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.31.0",
            "Python-urllib/3.11",
            "Go-http-client/1.1",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            "Mozilla/5.0 (compatible; YisouSpider/5.0)",
            "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile \
             Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
            "Mozilla/5.0 (compatible; 360Spider)",
            "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "TelegramBot (like TwitterBot)",
            "Twitterbot/1.0",
            "WhatsApp/2.23.20.0 A",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Mozilla/5.0 (compatible; SomeCrawler/1.0)",
            "LinkPreview/1.0",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
             HeadlessChrome/124.0.0.0 Safari/537.36",
        ] {
            assert_eq!(classify(ua), Bot, "{ua:?}");
        }
    }

    #[test]
    fn classes_have_their_stored_names() {
        let names: Vec<&str> = AgentClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ["wecom", "wechat", "browser", "bot"]);
        assert_eq!(serde_json::to_value(Wechat).unwrap(), "wechat");
    }
}
