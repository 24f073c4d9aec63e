//! A customer group's activity: the group and its members as `change_external_chat` stored
//! them, the tracked links posted in it, and a customer's identified click, read back through
//! `GET /api/v1/groups/{chat_id}/activity`.

use reqwest::{Method, StatusCode};
use salesbot::config::Secret;
use salesbot_wecom::fake::FakeWecom;
use serde_json::{Value, json};

use crate::{
    groups::{CHAT, KEY, TOKEN as CALLBACK_TOKEN, created},
    helpers::{TestDb, on_both_backends},
    links::{BROWSER_UA, LinkApp, TOKEN, WECOM_UA},
};

async fn a_groups_activity_joins_members_links_and_identified_clicks(t: &TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let groups = created(t).await;
    let fake: &FakeWecom = &groups.fake;
    let links = LinkApp::start(t, |config| {
        let mut app = crate::wecom::wecom_app("acme", CALLBACK_TOKEN, KEY, FakeWecom::CORP_ID);
        app.secret = Secret::new(FakeWecom::SECRET);
        app.api_base = fake.base_url().into();
        app.rate_limit_per_minute = 0;
        config.wecom = vec![app];
    })
    .await;
    let code = links
        .link(
            json!({ "tenant": "acme", "target_url": "https://example.com/expo",
                      "campaign": "expo", "chat_id": CHAT, "rep": "alice", "identify": true }),
        )
        .await;
    links
        .link(
            json!({ "tenant": "acme", "target_url": "https://example.com/other",
                       "campaign": "expo", "chat_id": "wrSomeOtherGroup" }),
        )
        .await;
    let oauth = fake.issue_oauth_code(json!({ "openid": "o1", "external_userid": "wmCustomer1" }));
    links
        .follow(
            &format!("{code}/id?code={oauth}&state={code}"),
            WECOM_UA,
            "203.0.113.1",
        )
        .await;
    links.follow(&code, BROWSER_UA, "203.0.113.2").await;
    assert!(t.wait_for_count("SELECT COUNT(*) FROM link_click", 2).await);

    let path = format!("/api/v1/groups/{CHAT}/activity?tenant=acme");
    let response = links.app.admin(Method::GET, &path, TOKEN).await;
    assert_eq!(response.status(), StatusCode::OK);
    let activity: Value = response.json().await.unwrap();
    assert_eq!(activity["name"], "Buyers");
    let members = activity["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    let customer = members
        .iter()
        .find(|m| m["userid"] == "wmCustomer1")
        .unwrap();
    assert_eq!(customer["type"], 2);
    assert_eq!(customer["joined_by"], "qr_code");
    assert_eq!(customer["clicks"], 1);
    assert_eq!(
        activity["links"],
        json!([{ "code": code, "campaign": "expo", "rep": "alice", "clicks": 2, "unique": 2 }]),
        "only the links posted in this group"
    );
    assert_eq!(activity["clicks"].as_array().unwrap().len(), 1);
    assert_eq!(activity["clicks"][0]["external_userid"], "wmCustomer1");

    let unknown = links
        .app
        .admin(
            Method::GET,
            "/api/v1/groups/wrNoSuchGroup/activity?tenant=acme",
            TOKEN,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let no_tenant = links
        .app
        .admin(
            Method::GET,
            &format!("/api/v1/groups/{CHAT}/activity"),
            TOKEN,
        )
        .await;
    assert_eq!(no_tenant.status(), StatusCode::BAD_REQUEST);
    links.app.stop().await;
}
on_both_backends!(
    a_groups_activity_joins_members_links_and_identified_clicks,
    super::a_groups_activity_joins_members_links_and_identified_clicks
);
