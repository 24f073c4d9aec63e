//! The lead score as registrations drive it: the threshold crossed once and announced once,
//! for a lead and for a customer; and the leads API (list, one lead, refusals).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::{
    helpers::{TestDb, on_both_backends, wait_until},
    registrations::{
        PHONE, TOKEN, WRITTEN, columns_containing, config, form, register, rules_file, spawn,
    },
    webhooks::{Receiver, SECRET, hook},
};

const THRESHOLD_30: &str = "[lead_score]\nthreshold = 30\n[lead_score.points]\nregistration = 20\n";

/// Waits until `n` posts have reached `receiver`; answers them, each checked to be signed, as
/// their JSON bodies sorted by event id.
async fn posts(receiver: &Receiver, n: usize) -> Vec<Value> {
    let mut posts = Vec::new();
    let arrived = wait_until(Duration::from_secs(10), || {
        posts.extend(receiver.take());
        let done = posts.len() >= n;
        async move { done }
    })
    .await;
    assert!(arrived, "{posts:#?}");
    assert_eq!(posts.len(), n, "{posts:#?}");
    let mut bodies: Vec<Value> = posts
        .iter()
        .map(|post| {
            assert!(post.signed_with(SECRET), "{post:?}");
            assert!(!post.body.contains(PHONE), "{}", post.body);
            serde_json::from_str(&post.body).unwrap()
        })
        .collect();
    bodies.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    bodies
}

/// A hook for the scoring events these tests read; the assignment's `lead.*` events of the
/// same leads are tested with assignment.
fn scoring_hook(receiver: &Receiver) -> salesbot::config::WebhookConfig {
    let mut crm = hook("crm", receiver.url("/in"));
    crm.events = vec!["registration.created".into(), "lead.qualified".into()];
    crm
}

async fn a_lead_crossing_the_threshold_is_qualified_once(t: &TestDb) {
    let receiver = Receiver::start([]).await;
    let rules = rules_file(THRESHOLD_30);
    let mut config = config(t, Some(&rules));
    config.webhooks = vec![scoring_hook(&receiver)];
    let app = spawn(config).await;
    let mut answers = Vec::new();
    for id in ["sub-1", "sub-2", "sub-3"] {
        let (status, body) = register(&app, &form(json!({ "id": id }))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        answers.push(body);
    }
    let lead_id = answers[0]["lead_id"].as_i64().unwrap();
    assert!(answers.iter().all(|a| a["lead_id"] == lead_id));

    let qualified = "SELECT COUNT(*) FROM outbox WHERE payload LIKE '%lead.qualified%'";
    assert_eq!(
        t.count(qualified).await,
        1,
        "20, then 40: one crossing of 30"
    );
    let bodies = posts(&receiver, 4).await;
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "lead.qualified",
            "registration.created",
            "registration.created",
            "registration.created"
        ]
    );
    let event = &bodies[0];
    assert!(
        event["id"]
            .as_str()
            .unwrap()
            .starts_with(&format!("lead.qualified:lead:{lead_id}:")),
        "{event}"
    );
    let data = &event["data"];
    assert_eq!(data["subject"], json!({ "type": "lead", "id": lead_id }));
    assert_eq!(data["score"], 40.0);
    assert_eq!(data["threshold"], 30.0);
    assert_eq!(data["kind"], "registration");
    assert_eq!(data["lead"]["name"], "Wang Fang");
    assert_eq!(data["lead"]["phone_masked"], "138****5678");
    assert_eq!(data["lead"]["source"], "registration:expo2026");
    let registration = bodies
        .iter()
        .find(|b| b["id"] == format!("registration:{}", answers[1]["id"]))
        .unwrap();
    assert_eq!(registration["data"]["qualified"], true);
    assert_eq!(registration["data"]["score"], 40.0);
    assert_eq!(registration["data"]["lead_id"], lead_id);
    assert_eq!(registration["data"]["phone_masked"], "138****5678");

    let lead = app
        .admin(Method::GET, &format!("/api/v1/leads/{lead_id}"), TOKEN)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(lead["status"], "qualified");
    assert_eq!(lead["score"], 60.0);
    assert_eq!(lead["score_history"].as_array().unwrap().len(), 3);
    assert_eq!(lead["registrations"].as_array().unwrap().len(), 3);
    let audited = format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'lead.qualified' \
         AND subject_type = 'lead' AND subject_id = '{lead_id}'"
    );
    assert_eq!(t.count(&audited).await, 1);
    assert!(columns_containing(t, WRITTEN, PHONE).await.is_empty());
    app.stop().await;
    receiver.finish();
}
on_both_backends!(
    a_lead_crossing_the_threshold_is_qualified_once,
    super::a_lead_crossing_the_threshold_is_qualified_once
);

async fn a_customer_crossing_the_threshold_has_it_on_their_timeline(t: &TestDb) {
    t.db.execute_unprepared(
        "INSERT INTO customer (tenant, external_userid, name, corp_name, created_at, updated_at) \
         VALUES ('acme', 'wm_wang', 'Wang Fang', 'Initech', 1, 1)",
    )
    .await
    .unwrap();
    let customer_id = t
        .count("SELECT id FROM customer WHERE external_userid = 'wm_wang'")
        .await;
    let receiver = Receiver::start([]).await;
    let rules = rules_file("[lead_score]\nthreshold = 20\n");
    let mut config = config(t, Some(&rules));
    config.webhooks = vec![scoring_hook(&receiver)];
    let app = spawn(config).await;
    let (status, body) = register(&app, &form(json!({ "external_userid": "wm_wang" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let bodies = posts(&receiver, 2).await;
    let qualified = &bodies[0];
    assert_eq!(qualified["type"], "lead.qualified");
    assert_eq!(
        qualified["data"]["subject"],
        json!({ "type": "customer", "id": customer_id })
    );
    assert_eq!(qualified["data"]["customer"]["external_userid"], "wm_wang");
    assert_eq!(qualified["data"]["customer"]["corp_name"], "Initech");
    assert_eq!(bodies[1]["data"]["matched"], "customer");

    let profile = app
        .admin(
            Method::GET,
            &format!("/api/v1/customers/{customer_id}"),
            TOKEN,
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(profile["lead_score"], 20.0);
    let kinds: Vec<&str> = profile["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"lead.qualified"), "{kinds:?}");
    assert!(kinds.contains(&"registration.created"), "{kinds:?}");
    app.stop().await;
    receiver.finish();
}
on_both_backends!(
    a_customer_crossing_the_threshold_has_it_on_their_timeline,
    super::a_customer_crossing_the_threshold_has_it_on_their_timeline
);

async fn leads_are_listed_newest_first_one_page_at_a_time(t: &TestDb) {
    let app = spawn(config(t, None)).await;
    for (tenant, phone) in [
        ("acme", "13800000001"),
        ("acme", "13800000002"),
        ("globex", "13800000003"),
        ("acme", "13800000004"),
    ] {
        let (status, _) = register(&app, &form(json!({ "tenant": tenant, "phone": phone }))).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let get = |path: String| {
        let app = &app;
        async move {
            let response = app.admin(Method::GET, &path, TOKEN).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };
    let page = get("/api/v1/leads?tenant=acme&limit=2".into()).await;
    let phones = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["phone_masked"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(phones(&page), ["138****0004", "138****0002"]);
    let item = &page["items"][0];
    assert_eq!(item["tenant"], "acme");
    assert_eq!(item["score"], 20.0);
    assert_eq!(item["status"], "new");
    assert_eq!(item["customer_id"], Value::Null);
    let cursor = page["next_cursor"].as_str().unwrap();
    let next = get(format!("/api/v1/leads?tenant=acme&limit=2&cursor={cursor}")).await;
    assert_eq!(phones(&next), ["138****0001"]);
    assert_eq!(next["next_cursor"], Value::Null);
    let all = get("/api/v1/leads".into()).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    app.stop().await;
}
on_both_backends!(
    leads_are_listed_newest_first_one_page_at_a_time,
    super::leads_are_listed_newest_first_one_page_at_a_time
);

#[tokio::test]
async fn bad_lead_requests_are_refused_with_a_reason() {
    let t = TestDb::sqlite().await;
    let app = spawn(config(&t, None)).await;
    for path in ["/api/v1/leads", "/api/v1/leads/1"] {
        let bare = app.client.get(format!("{}{path}", app.address)).send();
        assert_eq!(
            bare.await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    for (query, reason) in [
        ("limit=0", "limit"),
        ("cursor=abc", "cursor"),
        ("tenant=a&tenant=b", "tenant"),
        ("status=new", "status"),
    ] {
        let response = app
            .admin(Method::GET, &format!("/api/v1/leads?{query}"), TOKEN)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "?{query}");
        let error = response.json::<Value>().await.unwrap()["error"].clone();
        assert!(
            error.as_str().unwrap().contains(reason),
            "?{query}: {error}"
        );
    }
    let unknown = app.admin(Method::GET, "/api/v1/leads/999999", TOKEN).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "no lead 999999"
    );
    let malformed = app.admin(Method::GET, "/api/v1/leads/abc", TOKEN).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
    t.finish().await;
}
