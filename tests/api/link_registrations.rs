//! Registrations through tracked links: a registration that names only a link counts towards
//! the link's campaign, and the link and campaign stats count their registrations.

use salesbot::config::Secret;
use serde_json::json;

use crate::{
    helpers::{TestDb, on_both_backends},
    links::LinkApp,
    registrations::{FORM_SECRET, PHONE_SALT, form, register},
};

async fn registrations_count_towards_their_link_and_campaign(t: &TestDb) {
    let links = LinkApp::start(t, |config| {
        config.registrations.secret = Some(Secret::new(FORM_SECRET));
        config.registrations.phone_salt = Some(Secret::new(PHONE_SALT));
    })
    .await;
    let code = links
        .link(
            json!({ "tenant": "acme", "target_url": "https://example.com/expo",
                      "campaign": "expo", "chat_id": "wrChat1" }),
        )
        .await;
    let mut through_link = form(json!({ "link_code": code, "phone": "13900000001" }));
    through_link.as_object_mut().unwrap().remove("campaign");
    let (status, answer) = register(&links.app, &through_link).await;
    assert!(status.is_success(), "{answer}");
    let (status, answer) = register(
        &links.app,
        &form(json!({ "campaign": "expo", "phone": "13900000002" })),
    )
    .await;
    assert!(status.is_success(), "{answer}");
    register(
        &links.app,
        &form(json!({ "campaign": "other", "phone": "13900000003" })),
    )
    .await;

    assert_eq!(
        t.count("SELECT COUNT(*) FROM registration WHERE campaign = 'expo'")
            .await,
        2,
        "the link's campaign was filled in"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM lead WHERE source = 'registration:expo'")
            .await,
        2
    );
    assert_eq!(links.stats(&code).await["registrations"], 1);
    let (_, campaign) = links
        .get_json("/api/v1/campaigns/expo/stats?tenant=acme")
        .await;
    assert_eq!(campaign["registrations"], 2, "{campaign}");
    links.app.stop().await;
}
on_both_backends!(
    registrations_count_towards_their_link_and_campaign,
    super::registrations_count_towards_their_link_and_campaign
);
