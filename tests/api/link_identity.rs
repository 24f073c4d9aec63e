//! Links with `identify`: opened inside WeCom or WeChat, the visitor goes through WeCom's silent
//! OAuth first and the click names the member or customer (and a customer's click earns lead
//! points); any failure still ends at the target, anonymously; other clients go straight there.

use std::time::Duration;

use reqwest::StatusCode;
use salesbot::config::{Secret, WecomConfig};
use salesbot_wecom::fake::FakeWecom;
use serde_json::json;

use crate::{
    helpers::{TestDb, on_both_backends, wait_until},
    links::{BASE, BROWSER_UA, LinkApp, WECOM_UA},
};

const TARGET: &str = "https://example.com/expo?from=chat";

async fn identify_links_name_who_clicked_through_wecom_oauth(t: &TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeWecom::start().await;
    let links = LinkApp::start(t, |config| {
        config.wecom = vec![WecomConfig {
            api_base: fake.base_url().into(),
            rate_limit_per_minute: 0,
            ..WecomConfig::new(
                "acme",
                FakeWecom::CORP_ID,
                FakeWecom::AGENT_ID.into(),
                Secret::new(FakeWecom::SECRET),
                Secret::new("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"),
                Secret::new("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"),
            )
        }];
    })
    .await;
    let code = links
        .link(
            json!({ "tenant": "acme", "target_url": TARGET, "campaign": "expo",
                      "chat_id": "wrChat1", "rep": "alice", "identify": true }),
        )
        .await;

    // Inside WeCom: to the OAuth page first, nothing recorded yet.
    let first = links.follow(&code, WECOM_UA, "203.0.113.1").await;
    assert_eq!(first.status(), StatusCode::FOUND);
    let authorize = first.headers()["location"].to_str().unwrap().to_owned();
    let landing = format!("{BASE}/l/{code}/id");
    assert_eq!(
        authorize,
        salesbot_wecom::api::authorize_url(
            FakeWecom::CORP_ID,
            &landing,
            &code,
            &FakeWecom::AGENT_ID.to_string()
        )
    );
    // In a desktop browser: straight to the target, anonymously.
    let browser = links.follow(&code, BROWSER_UA, "203.0.113.2").await;
    assert_eq!(browser.headers()["location"], TARGET);

    // Back from OAuth: a customer (twice), a member, a forged code, no code at all.
    let customer = json!({ "openid": "oCust", "external_userid": "wmCustomer1" });
    let landings = [
        Some(fake.issue_oauth_code(customer.clone())),
        Some(fake.issue_oauth_code(customer)),
        Some(fake.issue_oauth_code(json!({ "userid": "bob" }))),
        Some("forged".to_owned()),
        None,
    ];
    for (n, oauth) in landings.iter().enumerate() {
        let query = match oauth {
            Some(oauth) => format!("?code={oauth}&state={code}"),
            None => format!("?state={code}"),
        };
        let back = links
            .follow(
                &format!("{code}/id{query}"),
                WECOM_UA,
                &format!("203.0.113.{}", 10 + n),
            )
            .await;
        assert_eq!(back.status(), StatusCode::FOUND, "landing {n}");
        assert_eq!(back.headers()["location"], TARGET, "landing {n}");
    }
    assert!(
        t.wait_for_count("SELECT COUNT(*) FROM link_click", 6).await,
        "one click per visit that reached the target"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM link_click WHERE external_userid = 'wmCustomer1'")
            .await,
        2
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM link_click WHERE member_userid = 'bob'")
            .await,
        1
    );
    assert_eq!(
        t.count(
            "SELECT COUNT(*) FROM link_click WHERE member_userid IS NULL \
             AND external_userid IS NULL"
        )
        .await,
        3,
        "the browser, the forged code and the missing one"
    );
    // The customer's clicks reached the lead score: a click, then a repeat click.
    assert!(
        wait_until(Duration::from_secs(10), || async {
            t.count("SELECT COUNT(*) FROM score_event").await == 2
        })
        .await
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM score_event WHERE kind = 'click'")
            .await,
        1
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM score_event WHERE kind = 'repeat_click'")
            .await,
        1
    );
    // Unknown codes land nowhere.
    let unknown = links
        .follow(
            "AAAAAAAAAA/id?code=x&state=AAAAAAAAAA",
            WECOM_UA,
            "203.0.113.30",
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers().get("location").is_none());
    links.app.stop().await;
}
on_both_backends!(
    identify_links_name_who_clicked_through_wecom_oauth,
    super::identify_links_name_who_clicked_through_wecom_oauth
);
