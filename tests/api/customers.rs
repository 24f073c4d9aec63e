//! The customer profiles API against seeded rows: every list filter, paging by cursor, the
//! profile document, and the refusals (401, 400, 404), on SQLite and PostgreSQL.

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::Secret,
};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends};

const TOKEN: &str = "admin-token-for-tests";

async fn app_on(t: &TestDb) -> TestApp {
    let mut config = t.config();
    config.admin.token = Some(Secret::new(TOKEN));
    TestApp::spawn(config, Extensions::default(), Startup::default()).await
}

/// The id of the customer `external_userid` of `tenant`, as a subquery.
fn customer(tenant: &str, external_userid: &str) -> String {
    format!(
        "(SELECT id FROM customer WHERE tenant = '{tenant}' AND external_userid = '{external_userid}')"
    )
}

/// Five customers, inserted oldest first (so ids ascend in this order): in `acme` Ann Lee
/// (one active and one ended relation, tags on both, groups, timeline), Bo Chen (two active
/// relations, the earlier without a state) and Cat (no relations); in `globex` Ann Globex
/// (same external userid as Ann Lee) and Eve (ended relation only).
async fn seed(t: &TestDb) {
    let ann = customer("acme", "wm_ann");
    let bo = customer("acme", "wm_bo");
    let ann_globex = customer("globex", "wm_ann");
    let eve = customer("globex", "wm_eve");
    let mut statements = vec![
        "INSERT INTO customer (tenant, external_userid, name, type, gender, corp_name, \
         corp_full_name, position, avatar, unionid, created_at, updated_at) VALUES \
         ('acme', 'wm_ann', 'Ann Lee', 1, 2, NULL, NULL, 'buyer', 'https://a/ann.png', 'u_ann', 1000, 1100)"
            .to_string(),
        "INSERT INTO customer (tenant, external_userid, name, type, corp_name, created_at, updated_at) \
         VALUES ('acme', 'wm_bo', 'Bo Chen', 2, 'Initech Ltd', 2000, 2100)"
            .to_string(),
        "INSERT INTO customer (tenant, external_userid, name, type, created_at, updated_at) \
         VALUES ('acme', 'wm_cat', 'Cat', 0, 3000, 3100)"
            .to_string(),
        "INSERT INTO customer (tenant, external_userid, name, type, created_at, updated_at) \
         VALUES ('globex', 'wm_ann', 'Ann Globex', 1, 4000, 4100)"
            .to_string(),
        "INSERT INTO customer (tenant, external_userid, name, type, corp_name, created_at, updated_at) \
         VALUES ('globex', 'wm_eve', 'Eve', 1, 'ACME Trading', 5000, 5100)"
            .to_string(),
    ];
    let rep = |customer: &str, userid: &str, remark: &str, state: &str, added_at: i64| {
        format!(
            "INSERT INTO customer_rep (customer_id, userid, remark, description, add_way, state, \
             added_at, updated_at) VALUES ({customer}, '{userid}', '{remark}', 'desc of {userid}', 1, \
             '{state}', {added_at}, {added_at})"
        )
    };
    statements.extend([
        rep(&ann, "alice", "VIP buyer", "expo2026", 100),
        rep(&ann, "bob", "", "web", 50),
        rep(&bo, "carol", "met at fair", "", 200),
        rep(&bo, "alice", "", "expo2026", 300),
        rep(&ann_globex, "dave", "", "web", 400),
        rep(&eve, "dave", "", "web", 500),
        format!(
            "UPDATE customer_rep SET status = 'ended', ended_at = 500, ended_by = 'rep' \
             WHERE (customer_id = {ann} AND userid = 'bob') OR customer_id = {eve}"
        ),
    ]);
    let tag = |customer: &str, userid: &str, tag_id: &str, group: &str, name: &str| {
        format!(
            "INSERT INTO customer_tag (customer_id, userid, tag_id, group_name, name, type, source, \
             created_at) VALUES ({customer}, '{userid}', '{tag_id}', '{group}', '{name}', 1, 'wecom', 1)"
        )
    };
    statements.extend([
        tag(&ann, "alice", "et_expo", "渠道", "展会"),
        tag(&ann, "alice", "et_vip", "等级", "VIP"),
        tag(&ann, "bob", "et_old", "等级", "旧"),
        tag(&bo, "carol", "et_expo", "渠道", "展会"),
        tag(&bo, "alice", "et_expo", "渠道", "展会"),
    ]);
    statements.extend([
        "INSERT INTO channel_code (tenant, state, config_id, remark, users, skip_verify, created_at) \
         VALUES ('acme', 'web', 'cfg_web', '官网', '[\"bob\"]', TRUE, 10)"
            .to_string(),
        "INSERT INTO channel_code (tenant, state, config_id, remark, users, skip_verify, created_at) \
         VALUES ('acme', 'expo2026', 'cfg_expo', '展会', '[\"alice\"]', FALSE, 11)"
            .to_string(),
        "INSERT INTO channel_code (tenant, state, config_id, remark, users, skip_verify, created_at) \
         VALUES ('globex', 'web', 'cfg_globex', '', '[]', TRUE, 12)"
            .to_string(),
        "INSERT INTO group_chat (tenant, chat_id, name, owner, updated_at) \
         VALUES ('acme', 'wr_buyers', 'Buyers', 'alice', 1)"
            .to_string(),
        "INSERT INTO group_chat (tenant, chat_id, name, owner, updated_at) \
         VALUES ('globex', 'wr_globex', 'Globex fans', 'dave', 1)"
            .to_string(),
    ]);
    let member = |chat: &str, userid: &str, join_time: i64, left_at: &str| {
        format!(
            "INSERT INTO group_member (group_id, userid, type, join_time, join_scene, left_at, \
             updated_at) VALUES ((SELECT id FROM group_chat WHERE chat_id = '{chat}'), '{userid}', 2, \
             {join_time}, 3, {left_at}, 1)"
        )
    };
    statements.extend([
        member("wr_buyers", "wm_ann", 200, "NULL"),
        member("wr_buyers", "wm_cat", 210, "900"),
        member("wr_globex", "wm_ann", 220, "NULL"),
    ]);
    let event = |customer: &str, at: i64, kind: &str, detail: &str| {
        format!(
            "INSERT INTO customer_event (customer_id, at, kind, detail) \
             VALUES ({customer}, {at}, '{kind}', '{detail}')"
        )
    };
    statements.extend([
        event(&ann, 300, "added", r#"{"userid":"alice"}"#),
        event(&ann, 600, "tagged", r#"{"tag_id":"et_vip"}"#),
        event(&ann, 550, "lost", r#"{"userid":"bob"}"#),
        event(&bo, 700, "added", r#"{"userid":"carol"}"#),
    ]);
    for sql in statements {
        t.db.execute_unprepared(&sql).await.unwrap();
    }
}

async fn get_json(app: &TestApp, path: &str) -> Value {
    let response = app.admin(Method::GET, path, TOKEN).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// The names of one page's customers, in order.
async fn names(app: &TestApp, query: &str) -> Vec<String> {
    let page = get_json(app, &format!("/api/v1/customers?{query}")).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_string())
        .collect()
}

async fn each_filter_selects_the_customers_it_names(t: &TestDb) {
    seed(t).await;
    let app = app_on(t).await;
    for (query, expected) in [
        ("", &["Eve", "Ann Globex", "Cat", "Bo Chen", "Ann Lee"][..]),
        ("tenant=acme", &["Cat", "Bo Chen", "Ann Lee"]),
        (
            "tenant=",
            &["Eve", "Ann Globex", "Cat", "Bo Chen", "Ann Lee"],
        ),
        ("tag=et_expo", &["Bo Chen", "Ann Lee"]),
        (
            "tag=%E6%B8%A0%E9%81%93%2F%E5%B1%95%E4%BC%9A",
            &["Bo Chen", "Ann Lee"],
        ),
        ("tag=等级/VIP", &["Ann Lee"]),
        ("tag=等级/旧", &["Ann Lee"]),
        ("tag=nope", &[]),
        ("owner=alice", &["Bo Chen", "Ann Lee"]),
        ("owner=bob", &[]),
        ("owner=dave", &["Ann Globex"]),
        ("state=web", &["Eve", "Ann Globex", "Ann Lee"]),
        ("state=expo2026", &["Bo Chen", "Ann Lee"]),
        ("external_userid=wm_ann", &["Ann Globex", "Ann Lee"]),
        ("external_userid=wm_ann&tenant=globex", &["Ann Globex"]),
        ("q=vip", &["Ann Lee"]),
        ("q=FAIR", &["Bo Chen"]),
        ("q=acme", &["Eve"]),
        ("q=ann", &["Ann Globex", "Ann Lee"]),
        ("q=%25", &[]),
        ("q=_", &[]),
        ("tenant=acme&owner=alice&q=bo", &["Bo Chen"]),
    ] {
        assert_eq!(names(&app, query).await, expected, "?{query}");
    }

    let page = get_json(&app, "/api/v1/customers?tenant=acme").await;
    assert_eq!(page["next_cursor"], Value::Null);
    let items = page["items"].as_array().unwrap();
    let ann = &items[2];
    assert_eq!(ann["tenant"], "acme");
    assert_eq!(ann["external_userid"], "wm_ann");
    assert_eq!(ann["type"], "wechat");
    assert_eq!(ann["corp_name"], Value::Null);
    assert_eq!(ann["owner"], "alice", "bob's earlier relation has ended");
    assert_eq!(ann["state"], "expo2026");
    assert_eq!(
        ann["tags"],
        json!(["渠道/展会", "等级/VIP"]),
        "no tag of an ended relation"
    );
    assert_eq!(ann["created_at"], 1000);
    assert_eq!(ann["updated_at"], 1100);
    let bo = &items[1];
    assert_eq!(bo["type"], "wecom");
    assert_eq!(bo["corp_name"], "Initech Ltd");
    assert_eq!(bo["owner"], "carol");
    assert_eq!(bo["state"], Value::Null, "carol's relation has no state");
    assert_eq!(
        bo["tags"],
        json!(["渠道/展会"]),
        "distinct across relations"
    );
    let cat = &items[0];
    assert_eq!(cat["type"], "unknown");
    assert_eq!((&cat["owner"], &cat["state"]), (&Value::Null, &Value::Null));
    assert_eq!(cat["tags"], json!([]));
    assert_eq!(
        items.iter().map(|i| i["id"].as_i64().unwrap()).max(),
        items[0]["id"].as_i64(),
        "newest (highest id) first"
    );
    app.stop().await;
}
on_both_backends!(
    each_filter_selects_the_customers_it_names,
    super::each_filter_selects_the_customers_it_names
);

async fn paging_by_cursor_returns_each_customer_once_newest_first(t: &TestDb) {
    seed(t).await;
    let app = app_on(t).await;
    let all = get_json(&app, "/api/v1/customers").await;
    let all_ids: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all_ids.len(), 5);
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]), "{all_ids:?}");

    for (filter, limit, expected_pages) in [
        ("", 2, 3),
        ("", 1, 5),
        ("", 5, 1),
        ("", 200, 1),
        ("tenant=acme&", 2, 2),
    ] {
        let mut seen = Vec::new();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let after = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
            let page = get_json(
                &app,
                &format!("/api/v1/customers?{filter}limit={limit}{after}"),
            )
            .await;
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit, "{page}");
            seen.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let expected: Vec<i64> = if filter.is_empty() {
            all_ids.clone()
        } else {
            all_ids[2..].to_vec()
        };
        assert_eq!(seen, expected, "{filter}limit={limit}");
        assert_eq!(pages, expected_pages, "{filter}limit={limit}");
    }
    app.stop().await;
}
on_both_backends!(
    paging_by_cursor_returns_each_customer_once_newest_first,
    super::paging_by_cursor_returns_each_customer_once_newest_first
);

async fn the_profile_has_relations_tags_channel_groups_and_timeline(t: &TestDb) {
    seed(t).await;
    let app = app_on(t).await;
    let list = get_json(&app, "/api/v1/customers?tenant=acme").await;
    let id_of = |name: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let ann = get_json(&app, &format!("/api/v1/customers/{}", id_of("Ann Lee"))).await;
    assert_eq!(ann["id"], id_of("Ann Lee"));
    for (column, value) in [
        ("tenant", json!("acme")),
        ("external_userid", json!("wm_ann")),
        ("name", json!("Ann Lee")),
        ("type", json!("wechat")),
        ("gender", json!(2)),
        ("corp_name", Value::Null),
        ("corp_full_name", Value::Null),
        ("position", json!("buyer")),
        ("avatar", json!("https://a/ann.png")),
        ("unionid", json!("u_ann")),
        ("created_at", json!(1000)),
        ("updated_at", json!(1100)),
    ] {
        assert_eq!(ann[column], value, "{column}");
    }
    assert_eq!(
        ann["reps"],
        json!([
            {
                "userid": "bob", "remark": "", "description": "desc of bob", "add_way": 1,
                "state": "web", "added_at": 50, "status": "ended", "ended_at": 500,
                "ended_by": "rep"
            },
            {
                "userid": "alice", "remark": "VIP buyer", "description": "desc of alice",
                "add_way": 1, "state": "expo2026", "added_at": 100, "status": "active",
                "ended_at": null, "ended_by": null
            }
        ])
    );
    let tags: Vec<(&str, &str, &str)> = ann["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!((&t["type"], &t["source"]), (&json!(1), &json!("wecom")));
            (
                t["userid"].as_str().unwrap(),
                t["tag_id"].as_str().unwrap(),
                t["label"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [
            ("alice", "et_expo", "渠道/展会"),
            ("alice", "et_vip", "等级/VIP"),
            ("bob", "et_old", "等级/旧"),
        ]
    );
    assert_eq!(ann["tags"][0]["group_name"], "渠道");
    assert_eq!(ann["tags"][0]["name"], "展会");
    // The earliest relation (bob's, ended) came through `web` in acme, not globex's `web`.
    let channel = &ann["channel"];
    assert_eq!(channel["config_id"], "cfg_web");
    assert_eq!(channel["state"], "web");
    assert_eq!(channel["remark"], "官网");
    assert_eq!(channel["users"], json!(["bob"]));
    assert_eq!(channel["skip_verify"], true);
    assert_eq!(channel["qr_code"], Value::Null);
    assert_eq!(
        ann["groups"],
        json!([{
            "chat_id": "wr_buyers", "name": "Buyers", "owner": "alice", "status": "active",
            "join_time": 200, "join_scene": 3, "left_at": null
        }]),
        "only the groups of the customer's own tenant"
    );
    assert_eq!(
        ann["timeline"],
        json!([
            { "at": 600, "kind": "tagged", "detail": { "tag_id": "et_vip" } },
            { "at": 550, "kind": "lost", "detail": { "userid": "bob" } },
            { "at": 300, "kind": "added", "detail": { "userid": "alice" } }
        ])
    );

    // Carol's earlier relation has no state: no channel.
    let bo = get_json(&app, &format!("/api/v1/customers/{}", id_of("Bo Chen"))).await;
    assert_eq!(bo["reps"][0]["state"], Value::Null);
    assert_eq!(bo["channel"], Value::Null);
    assert_eq!(bo["timeline"].as_array().unwrap().len(), 1);

    let cat = get_json(&app, &format!("/api/v1/customers/{}", id_of("Cat"))).await;
    assert_eq!(cat["type"], "unknown");
    assert_eq!(
        (
            &cat["reps"],
            &cat["tags"],
            &cat["channel"],
            &cat["timeline"]
        ),
        (&json!([]), &json!([]), &Value::Null, &json!([]))
    );
    assert_eq!(cat["groups"][0]["left_at"], 900);
    assert_eq!(
        (&cat["lead_score"], &cat["score_history"]),
        (&json!(0.0), &json!([])),
        "never scored"
    );
    app.stop().await;
}
on_both_backends!(
    the_profile_has_relations_tags_channel_groups_and_timeline,
    super::the_profile_has_relations_tags_channel_groups_and_timeline
);

async fn bad_requests_are_refused_with_a_reason(t: &TestDb) {
    seed(t).await;
    let app = app_on(t).await;
    for path in ["/api/v1/customers", "/api/v1/customers/1"] {
        let bare = app.client.get(format!("{}{path}", app.address)).send();
        assert_eq!(
            bare.await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        let wrong = app.admin(Method::GET, path, "wrong").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    for (query, reason) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=many", "limit"),
        ("cursor=abc", "cursor"),
        ("cursor=", "cursor"),
        ("cursor=0", "cursor"),
        ("owner=alice&ownr=bob", "ownr"),
        ("tag=a&tag=b", "tag"),
    ] {
        let response = app
            .admin(Method::GET, &format!("/api/v1/customers?{query}"), TOKEN)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "?{query}");
        let body: Value = response.json().await.unwrap();
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(reason), "?{query}: {error}");
    }
    let unknown = app
        .admin(Method::GET, "/api/v1/customers/999999", TOKEN)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "no customer 999999"
    );
    let malformed = app.admin(Method::GET, "/api/v1/customers/abc", TOKEN).await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}
on_both_backends!(
    bad_requests_are_refused_with_a_reason,
    super::bad_requests_are_refused_with_a_reason
);

#[tokio::test]
async fn openapi_document_describes_the_customer_routes() {
    let t = TestDb::sqlite().await;
    let app = app_on(&t).await;
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let list = &doc["paths"]["/api/v1/customers"]["get"];
    let documented: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for name in [
        "tenant",
        "tag",
        "owner",
        "state",
        "external_userid",
        "q",
        "limit",
        "cursor",
    ] {
        assert!(documented.contains(&name), "parameter {name} undocumented");
    }
    assert!(doc["paths"]["/api/v1/customers/{id}"]["get"].is_object());
    let schemas = &doc["components"]["schemas"];
    for schema in ["CustomerPage", "CustomerSummary", "CustomerProfile"] {
        assert!(schemas[schema].is_object(), "schema {schema} missing");
    }
    app.stop().await;
    t.finish().await;
}
