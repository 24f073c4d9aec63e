//! An approval's state changes reach the configured webhook, signed, once each: the CRM learns
//! the request, every approver's decision, each level's end and the outcome.

use std::time::Duration;

use serde_json::Value;

use crate::{
    approvals::{Desk, discount, settled},
    helpers::{TestDb, on_both_backends, wait_until},
    webhooks::{Receiver, SECRET, hook},
};

async fn every_state_change_is_posted_to_the_webhook_once_and_signed(t: &TestDb) {
    let receiver = Receiver::start([]).await;
    let url = receiver.url("/crm/approvals");
    let desk = Desk::start_with(t, |config| config.webhooks = vec![hook("crm", url)]).await;
    let (_, started) = desk.request(&discount(35.0, 50_000.0)).await;
    let id = started["id"].as_i64().unwrap();
    settled(t).await;
    desk.tap(&desk.cards_to("boss").remove(0), "boss", "approve")
        .await;
    settled(t).await;
    desk.tap(&desk.cards_to("zhao.min").remove(0), "zhao.min", "approve")
        .await;
    settled(t).await;
    // A refused tap is audited, not announced.
    desk.tap(&desk.cards_to("qian.jun").remove(0), "li.lei", "approve")
        .await;
    settled(t).await;
    desk.tap(&desk.cards_to("qian.jun").remove(0), "qian.jun", "approve")
        .await;
    settled(t).await;

    let mut posts = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            posts.extend(receiver.take());
            let done = posts.len() >= 6;
            async move { done }
        })
        .await,
        "{posts:#?}"
    );
    let mut events: Vec<(String, Value)> = posts
        .iter()
        .map(|post| {
            assert!(post.signed_with(SECRET), "{post:?}");
            let body: Value = serde_json::from_str(&post.body).unwrap();
            assert_eq!(post.header("x-salesbot-delivery"), body["id"]);
            (body["id"].as_str().unwrap().to_owned(), body)
        })
        .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0));
    let ids: Vec<&str> = events.iter().map(|(id, _)| id.as_str()).collect();
    let expected = [
        format!("approval:{id}:decided"),
        format!("approval:{id}:level_decided:1"),
        format!("approval:{id}:requested"),
        format!("approval:{id}:step_decided:1:boss"),
        format!("approval:{id}:step_decided:2:qian.jun"),
        format!("approval:{id}:step_decided:2:zhao.min"),
    ];
    assert_eq!(ids, expected);
    let decided = &events[0].1;
    assert_eq!(decided["type"], "approval.decided");
    assert_eq!(decided["tenant"], "acme");
    assert_eq!(decided["data"]["id"], id);
    assert_eq!(decided["data"]["status"], "approved");
    assert_eq!(decided["data"]["decision"], "approved");
    assert_eq!(decided["data"]["by"], "qian.jun");
    assert_eq!(decided["data"]["subject"]["id"], "D-1024");
    let level = &events[1].1["data"];
    assert_eq!(
        (level["level"].as_i64(), level["next"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(events[2].1["data"]["rule"], "huge discount");

    // A withdrawal is announced too.
    let (_, second) = desk.request(&discount(20.0, 1_000.0)).await;
    let second = second["id"].as_i64().unwrap();
    let response = desk
        .app
        .client
        .post(format!(
            "{}/api/v1/approvals/{second}/withdraw",
            desk.app.address
        ))
        .bearer_auth(crate::approvals::TOKEN)
        .json(&serde_json::json!({ "requester": "alice" }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "{status} {}",
        response.text().await.unwrap()
    );
    settled(t).await;
    let mut posts = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            posts.extend(receiver.take());
            let done = posts.len() >= 2;
            async move { done }
        })
        .await
    );
    let types: Vec<String> = posts
        .iter()
        .map(|p| p.header("x-salesbot-event").to_owned())
        .collect();
    assert!(
        types.contains(&"approval.withdrawn".to_owned()),
        "{types:?}"
    );
    desk.app.stop().await;
    receiver.finish();
}
on_both_backends!(
    every_state_change_is_posted_to_the_webhook_once_and_signed,
    super::every_state_change_is_posted_to_the_webhook_once_and_signed
);
