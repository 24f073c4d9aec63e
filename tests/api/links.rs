//! Tracked links on SQLite and PostgreSQL: creating one (and what is refused), the redirect
//! (302 to the exact target; a 404 page, never a redirect, for unknown and disabled codes),
//! and the click stats by person, day, chat, kind of client and campaign.

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::{Config, Secret},
    domain::time::{day_date, local_day},
    pipeline::clock::now_ms,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, http_client, on_both_backends};

pub const TOKEN: &str = "admin-token-for-tests";
pub const BASE: &str = "https://go.example.com";
pub const WECOM_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1";
pub const WECHAT_UA: &str = "Mozilla/5.0 (Linux; Android 13; wv) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/111.0 Mobile Safari/537.36 MicroMessenger/8.0.42.2460";
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
pub const BOT_UA: &str = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)";

/// The app with an admin token, short click flushes and `X-Forwarded-For` trusted (so tests
/// can be several people from one loopback address), changed by `tweak`.
pub struct LinkApp {
    pub app: TestApp,
    /// Does not follow redirects: the tests look at them.
    client: reqwest::Client,
}

impl LinkApp {
    pub async fn start(t: &TestDb, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.server.public_base_url = BASE.into();
        config.links.flush_interval_ms = 20;
        config.links.trust_forwarded_for = true;
        tweak(&mut config);
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        http_client();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { app, client }
    }

    pub async fn create(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/links", self.app.address))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Creates a link and returns its code.
    pub async fn link(&self, body: Value) -> String {
        let (status, created) = self.create(body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["code"].as_str().unwrap().to_owned()
    }

    /// Follows `/l/{code}` as a client at `ip` with `user_agent`.
    pub async fn follow(&self, code: &str, user_agent: &str, ip: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/l/{code}", self.app.address))
            .header("user-agent", user_agent)
            .header("x-forwarded-for", format!("{ip}, 10.0.0.1"))
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, code: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .patch(format!("{}/api/v1/links/{code}", self.app.address))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let response = self.app.admin(Method::GET, path, TOKEN).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn stats(&self, code: &str) -> Value {
        let (status, stats) = self.get_json(&format!("/api/v1/links/{code}/stats")).await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        stats
    }

    /// The value of one series in `/metrics` (0 when absent).
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.app.get("/metrics").await.text().await.unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0.0, |value| value.parse().unwrap())
    }
}

fn expo(chat_id: &str) -> Value {
    json!({ "tenant": "acme", "target_url": "https://example.com/expo?from=chat",
            "campaign": "expo", "chat_id": chat_id, "rep": "alice" })
}

async fn links_are_created_with_a_short_url_and_bad_requests_are_refused(t: &TestDb) {
    let links = LinkApp::start(t, |_| {}).await;
    let (status, created) = links
        .create(
            json!({ "tenant": "acme", "target_url": "https://Example.com/活动?id=7",
                        "campaign": "双十一", "chat_id": "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
                        "rep": "alice", "identify": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let code = created["code"].as_str().unwrap();
    assert_eq!(code.len(), 10);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()), "{code}");
    assert_eq!(
        created,
        json!({ "code": code, "url": format!("{BASE}/l/{code}") })
    );
    let row =
        t.db.query_one_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT target_url, campaign, chat_id, rep FROM link",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "target_url").unwrap(),
        "https://example.com/%E6%B4%BB%E5%8A%A8?id=7"
    );
    assert_eq!(row.try_get::<String>("", "campaign").unwrap(), "双十一");

    let long = format!("https://example.com/{}", "a".repeat(2048));
    for (bad, reason) in [
        (
            json!({ "tenant": "acme", "target_url": "javascript:alert(1)", "campaign": "x" }),
            "http",
        ),
        (
            json!({ "tenant": "acme", "target_url": "ftp://example.com/f", "campaign": "x" }),
            "http",
        ),
        (
            json!({ "tenant": "acme", "target_url": "/relative", "campaign": "x" }),
            "absolute",
        ),
        (
            json!({ "tenant": "acme", "target_url": long, "campaign": "x" }),
            "2048",
        ),
        (
            json!({ "tenant": "acme", "target_url": "https://a@b.example/", "campaign": "x" }),
            "password",
        ),
        (
            json!({ "tenant": "acme", "target_url": "https://example.com", "campaign": "" }),
            "campaign",
        ),
        (
            json!({ "tenant": "acme", "target_url": "https://example.com", "campaign": "c".repeat(65) }),
            "campaign",
        ),
        (
            json!({ "tenant": "ACME", "target_url": "https://example.com", "campaign": "x" }),
            "tenant",
        ),
        (
            json!({ "tenant": "acme", "target_url": "https://example.com", "campaign": "x", "utm": 1 }),
            "unknown field",
        ),
        (json!({ "tenant": "acme", "campaign": "x" }), "target_url"),
    ] {
        let (status, body) = links.create(bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(reason), "{bad}: {error}");
    }
    let anonymous = links
        .client
        .post(format!("{}/api/v1/links", links.app.address))
        .json(&expo("c1"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(t.count("SELECT COUNT(*) FROM link").await, 1);
    links.app.stop().await;
}
on_both_backends!(
    links_are_created_with_a_short_url_and_bad_requests_are_refused,
    super::links_are_created_with_a_short_url_and_bad_requests_are_refused
);

async fn a_link_redirects_at_once_and_unknown_or_disabled_codes_get_a_404_page(t: &TestDb) {
    // The default: the connection's address, whatever X-Forwarded-For says.
    let links = LinkApp::start(t, |c| c.links.trust_forwarded_for = false).await;
    let code = links.link(expo("c1")).await;
    let response = links.follow(&code, BROWSER_UA, "203.0.113.1").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(
        response.headers()["location"],
        "https://example.com/expo?from=chat"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");

    for unknown in ["Zz9Zz9Zz9Z", "not-a-code", "a".repeat(40).as_str()] {
        let response = links.follow(unknown, BROWSER_UA, "203.0.113.1").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
        assert!(response.headers().get("location").is_none());
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(response.text().await.unwrap().contains("<html"));
    }

    let (status, body) = links.patch(&code, json!({ "enabled": false })).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({ "code": code, "enabled": false }))
    );
    let response = links.follow(&code, BROWSER_UA, "203.0.113.1").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers().get("location").is_none());
    let (status, _) = links.patch(&code, json!({ "enabled": true })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        links
            .follow(&code, BROWSER_UA, "203.0.113.2")
            .await
            .status(),
        StatusCode::FOUND
    );
    for (target, body) in [
        ("Zz9Zz9Zz9Z", json!({ "enabled": false })),
        (code.as_str(), json!({ "enabled": "no" })),
        (
            code.as_str(),
            json!({ "enabled": false, "target_url": "https://evil.example" }),
        ),
    ] {
        let (status, answer) = links.patch(target, body.clone()).await;
        let expected = if target == code {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "{body}: {answer}");
    }

    // A link another instance created is read from the database on its first click.
    t.db.execute_unprepared(
        "INSERT INTO link (code, tenant, target_url, campaign, identify, enabled, created_at) \
         VALUES ('0therInst4', 'acme', 'https://example.com/other', 'expo', false, true, 1)",
    )
    .await
    .unwrap();
    let response = links.follow("0therInst4", BROWSER_UA, "203.0.113.1").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "https://example.com/other");

    // Links that will ask who clicked redirect like the others for now.
    let identify = links
        .link(
            json!({ "tenant": "acme", "target_url": "https://example.com/id",
                      "campaign": "expo", "identify": true }),
        )
        .await;
    let response = links.follow(&identify, WECOM_UA, "203.0.113.1").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "https://example.com/id");

    // Two clicks with the same browser from one connection address are one visitor, whatever
    // X-Forwarded-For claims when it is not trusted.
    assert!(
        t.wait_for_count(
            &format!("SELECT COUNT(*) FROM link_click WHERE code = '{code}'"),
            2
        )
        .await
    );
    let stats = links.stats(&code).await;
    assert_eq!(
        (&stats["clicks"], &stats["unique"]),
        (&json!(2), &json!(1)),
        "{stats}"
    );
    links.app.stop().await;
}
on_both_backends!(
    a_link_redirects_at_once_and_unknown_or_disabled_codes_get_a_404_page,
    super::a_link_redirects_at_once_and_unknown_or_disabled_codes_get_a_404_page
);

async fn clicks_are_counted_by_person_day_chat_class_and_campaign(t: &TestDb) {
    let links = LinkApp::start(t, |_| {}).await;
    let a = links.link(expo("chat-a")).await;
    let b = links.link(expo("chat-b")).await;
    let other = links
        .link(
            json!({ "tenant": "acme", "target_url": "https://example.com/",
                      "campaign": "webinar" }),
        )
        .await;
    let today = day_date(local_day(now_ms()));
    for (code, ua, ip) in [
        (&a, WECOM_UA, "203.0.113.1"),
        (&a, WECOM_UA, "203.0.113.1"),
        (&a, WECHAT_UA, "203.0.113.2"),
        (&a, BOT_UA, "198.51.100.9"),
        (&a, "", "198.51.100.9"),
        (&b, WECOM_UA, "203.0.113.1"),
        (&b, BROWSER_UA, "203.0.113.3"),
        (&other, BROWSER_UA, "203.0.113.1"),
    ] {
        let response = links.follow(code, ua, ip).await;
        assert_eq!(response.status(), StatusCode::FOUND, "{ua:?}");
    }
    assert!(t.wait_for_count("SELECT COUNT(*) FROM link_click", 8).await);
    let after = day_date(local_day(now_ms()));

    let stats = links.stats(&a).await;
    let day = stats["by_day"][0]["day"].as_str().unwrap().to_owned();
    assert!(day == today || day == after, "{stats}");
    assert_eq!(
        stats,
        json!({
            "code": a, "campaign": "expo", "clicks": 3, "unique": 2, "bots": 2,
            "by_day": [{ "day": day, "clicks": 3, "unique": 2 }],
            "by_chat": [{ "chat_id": "chat-a", "clicks": 3, "unique": 2 }],
            "by_class": { "wecom": 2, "wechat": 1, "browser": 0, "bot": 2 },
            "registrations": 0,
        })
    );

    let (status, campaign) = links
        .get_json("/api/v1/campaigns/expo/stats?tenant=acme")
        .await;
    assert_eq!(status, StatusCode::OK, "{campaign}");
    assert_eq!(
        campaign,
        json!({
            "tenant": "acme", "campaign": "expo", "clicks": 5, "unique": 3, "bots": 2,
            "by_day": [{ "day": day, "clicks": 5, "unique": 3 }],
            "by_chat": [
                { "chat_id": "chat-a", "clicks": 3, "unique": 2 },
                { "chat_id": "chat-b", "clicks": 2, "unique": 2 },
            ],
            "by_class": { "wecom": 3, "wechat": 1, "browser": 1, "bot": 2 },
            "registrations": 0,
            "links": [
                { "code": a, "clicks": 3, "unique": 2 },
                { "code": b, "clicks": 2, "unique": 2 },
            ],
        })
    );
    let (status, webinar) = links
        .get_json("/api/v1/campaigns/webinar/stats?tenant=acme")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&webinar["clicks"], &webinar["by_chat"]),
        (
            &json!(1),
            &json!([{ "chat_id": null, "clicks": 1, "unique": 1 }])
        )
    );
    for (path, expected) in [
        (
            "/api/v1/campaigns/expo/stats?tenant=globex",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/campaigns/nothing/stats?tenant=acme",
            StatusCode::NOT_FOUND,
        ),
        ("/api/v1/campaigns/expo/stats", StatusCode::BAD_REQUEST),
        ("/api/v1/links/Zz9Zz9Zz9Z/stats", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(links.get_json(path).await.0, expected, "{path}");
    }
    let anonymous = links.app.get(&format!("/api/v1/links/{a}/stats")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // What is stored of a click: no address anywhere, a 64-hex visitor id.
    let rows =
        t.db.query_all_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT code, tenant, campaign, chat_id, rep, agent_class, visitor, member_userid, \
             external_userid FROM link_click",
        ))
        .await
        .unwrap();
    for row in &rows {
        let visitor: String = row.try_get("", "visitor").unwrap();
        assert_eq!(visitor.len(), 64);
        assert!(visitor.bytes().all(|b| b.is_ascii_hexdigit()));
        for column in [
            "code",
            "tenant",
            "campaign",
            "chat_id",
            "rep",
            "agent_class",
            "visitor",
        ] {
            let value: Option<String> = row.try_get("", column).unwrap();
            let value = value.unwrap_or_default();
            assert!(
                !value.contains("203.0.113") && !value.contains("198.51.100"),
                "{value}"
            );
        }
        let member: Option<String> = row.try_get("", "member_userid").unwrap();
        assert_eq!(member, None);
    }
    links.app.stop().await;
}
on_both_backends!(
    clicks_are_counted_by_person_day_chat_class_and_campaign,
    super::clicks_are_counted_by_person_day_chat_class_and_campaign
);

async fn days_are_counted_in_shanghai_time(t: &TestDb) {
    let links = LinkApp::start(t, |_| {}).await;
    let code = links.link(expo("chat-a")).await;
    // 2026-11-26 23:59:59.999 and 2026-11-27 00:00 in Shanghai (16:00 UTC).
    for (at, visitor) in [
        (1_795_708_799_999_i64, "v1"),
        (1_795_708_800_000, "v1"),
        (1_795_708_800_001, "v2"),
    ] {
        t.db.execute_unprepared(&format!(
            "INSERT INTO link_click (link_id, code, tenant, campaign, at, agent_class, visitor) \
             SELECT id, code, tenant, campaign, {at}, 'browser', '{visitor}' FROM link \
             WHERE code = '{code}'"
        ))
        .await
        .unwrap();
    }
    let stats = links.stats(&code).await;
    assert_eq!(
        stats["by_day"],
        json!([
            { "day": "2026-11-26", "clicks": 1, "unique": 1 },
            { "day": "2026-11-27", "clicks": 2, "unique": 2 },
        ])
    );
    assert_eq!((&stats["clicks"], &stats["unique"]), (&json!(3), &json!(2)));
    links.app.stop().await;
}
on_both_backends!(
    days_are_counted_in_shanghai_time,
    super::days_are_counted_in_shanghai_time
);
