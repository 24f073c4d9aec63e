//! A lead's assignment as outbound webhook events: every offer, pass and acceptance is posted,
//! signed, once.

use std::time::Duration;

use serde_json::Value;

use crate::{
    assignment::{Sales, east},
    helpers::{TestDb, on_both_backends, settled, wait_until},
};

/// A lead's changes reach the outbound webhooks, signed, each once: offered, passed on,
/// offered to the next rep, accepted. A refused tap is audited, not announced.
async fn lead_changes_are_posted_to_the_webhooks(t: &TestDb) {
    use crate::webhooks::{Receiver, SECRET, hook};
    let receiver = Receiver::start([]).await;
    let url = receiver.url("/crm/leads");
    let sales = Sales::start_with(t, |config| config.webhooks = vec![hook("crm", url)]).await;
    let (_, lead) = sales.post(&east("crm-hooks")).await;
    let id = lead["id"].as_i64().unwrap();
    settled(t).await;
    let first = sales.sent_to("li.lei").remove(0);
    sales.tap(&first, "zhang.wei", "accept").await;
    sales.tap(&first, "li.lei", "reassign").await;
    settled(t).await;
    let next = sales.sent_to("han.mei").remove(0);
    sales.tap(&next, "han.mei", "accept").await;
    settled(t).await;

    let mut posts = Vec::new();
    assert!(
        wait_until(Duration::from_secs(10), || {
            posts.extend(receiver.take());
            let done = posts.len() >= 4;
            async move { done }
        })
        .await,
        "{posts:?}"
    );
    let events: Vec<(String, Value)> = posts
        .iter()
        .map(|post| {
            assert!(post.signed_with(SECRET));
            let body: Value = serde_json::from_str(&post.body).unwrap();
            (
                body["type"].as_str().unwrap().to_owned(),
                body["data"].clone(),
            )
        })
        .collect();
    let mut types: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    types.sort();
    assert_eq!(
        types,
        [
            "lead.accepted",
            "lead.offered",
            "lead.offered",
            "lead.reassigned"
        ],
        "{events:#?}"
    );
    assert!(events.iter().all(|(_, data)| data["lead_id"] == id));
    let accepted = events
        .iter()
        .find(|(kind, _)| kind == "lead.accepted")
        .unwrap();
    assert_eq!(accepted.1["actor"], "han.mei");
    sales.app.stop().await;
    receiver.finish();
}
on_both_backends!(
    lead_changes_are_posted_to_the_webhooks,
    super::lead_changes_are_posted_to_the_webhooks
);
