//! The channel codes API against a fake WeCom, on SQLite and PostgreSQL: a code is created in
//! WeCom with the documented request and stored, refusals (409, 400, 404, 502) store nothing,
//! and the list counts the customers that came through each code.

use reqwest::{Method, StatusCode};
use salesbot::{
    app::{Extensions, Startup},
    config::Secret,
};
use salesbot_wecom::fake::{FakeWecom, Fault};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends};

const TOKEN: &str = "admin-token-for-tests";
const CALLBACK_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const PATH: &str = "/api/v1/channel-codes";

struct Codes {
    fake: FakeWecom,
    app: TestApp,
}

impl Codes {
    /// The app with tenant `acme` on a fake WeCom that knows reps alice and bob.
    async fn start(t: &TestDb) -> Self {
        let fake = FakeWecom::start().await;
        for userid in ["alice", "bob"] {
            fake.add_user(json!({ "userid": userid, "name": userid }));
        }
        let mut wecom = crate::wecom::wecom_app("acme", CALLBACK_TOKEN, KEY, FakeWecom::CORP_ID);
        wecom.secret = Secret::new(FakeWecom::SECRET);
        wecom.api_base = fake.base_url().into();
        wecom.rate_limit_per_minute = 0;
        let mut config = t.config();
        config.wecom = vec![wecom];
        config.admin.token = Some(Secret::new(TOKEN));
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        Self { fake, app }
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        let response = self
            .app
            .client
            .post(format!("{}{PATH}", self.app.address))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    async fn list(&self, tenant: &str) -> Value {
        let path = format!("{PATH}?tenant={tenant}");
        let response = self.app.admin(Method::GET, &path, TOKEN).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

async fn a_code_is_created_in_wecom_and_stored(t: &TestDb) {
    let codes = Codes::start(t).await;
    let (status, code) = codes
        .create(
            json!({ "tenant": "acme", "state": "expo2026", "users": ["alice"],
                        "remark": "Expo booth" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{code}");
    let ways = codes.fake.contact_ways();
    assert_eq!(ways.len(), 1);
    assert_eq!(
        ways[0].body,
        json!({ "type": 1, "scene": 2, "remark": "Expo booth", "skip_verify": true,
                "state": "expo2026", "user": ["alice"] })
    );
    assert_eq!(code["config_id"], ways[0].config_id.as_str());
    assert_eq!(code["qr_code"], ways[0].qr_code.as_str());
    assert_eq!(code["state"], "expo2026");
    assert_eq!(code["users"], json!(["alice"]));
    assert_eq!(code["skip_verify"], true);
    assert_eq!(
        (
            code["customers"].as_i64(),
            code["active_customers"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert!(code["created_at"].as_i64().unwrap() > 0);

    // Several reps make a type 2 code; skip_verify is passed on as given.
    let (status, code) = codes
        .create(
            json!({ "tenant": "acme", "state": "web_site-2", "users": ["alice", "bob"],
                        "skip_verify": false }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{code}");
    assert_eq!(
        codes.fake.contact_ways()[1].body,
        json!({ "type": 2, "scene": 2, "skip_verify": false, "state": "web_site-2",
                "user": ["alice", "bob"] })
    );
    assert_eq!(
        (code["remark"].as_str(), code["skip_verify"].as_bool()),
        (Some(""), Some(false))
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM channel_code WHERE tenant = 'acme'")
            .await,
        2
    );
    codes.app.stop().await;
}
on_both_backends!(
    a_code_is_created_in_wecom_and_stored,
    super::a_code_is_created_in_wecom_and_stored
);

async fn refused_requests_store_nothing_and_reach_wecom_only_when_valid(t: &TestDb) {
    let codes = Codes::start(t).await;
    let (status, _) = codes
        .create(json!({ "tenant": "acme", "state": "expo", "users": ["alice"] }))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = codes
        .create(json!({ "tenant": "acme", "state": "expo", "users": ["bob"] }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("expo"));

    let too_many: Vec<String> = (0..101).map(|i| format!("rep{i}")).collect();
    for bad in [
        json!({ "tenant": "acme", "state": "expo 2026", "users": ["alice"] }),
        json!({ "tenant": "acme", "state": "", "users": ["alice"] }),
        json!({ "tenant": "acme", "state": "展会", "users": ["alice"] }),
        json!({ "tenant": "acme", "state": "a".repeat(31), "users": ["alice"] }),
        json!({ "tenant": "acme", "state": "ok", "users": [] }),
        json!({ "tenant": "acme", "state": "ok", "users": too_many }),
        json!({ "tenant": "acme", "state": "ok", "users": ["alice", "alice"] }),
        json!({ "tenant": "acme", "state": "ok", "users": ["alice"], "remark": "长".repeat(31) }),
        json!({ "tenant": "acme", "state": "ok", "users": ["alice"], "scene": 1 }),
        json!({ "tenant": "acme", "users": ["alice"] }),
    ] {
        let (status, body) = codes.create(bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].is_string(), "{bad}: {body}");
    }

    let (status, body) = codes
        .create(json!({ "tenant": "globex", "state": "expo", "users": ["alice"] }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    assert_eq!(codes.fake.contact_ways().len(), 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM channel_code").await, 1);
    codes.app.stop().await;
}
on_both_backends!(
    refused_requests_store_nothing_and_reach_wecom_only_when_valid,
    super::refused_requests_store_nothing_and_reach_wecom_only_when_valid
);

async fn a_wecom_error_is_a_502_and_nothing_is_stored(t: &TestDb) {
    let codes = Codes::start(t).await;
    codes
        .fake
        .fail_next("externalcontact/add_contact_way", 1, Fault::Errcode(48002));
    let request = json!({ "tenant": "acme", "state": "expo", "users": ["alice"] });
    let (status, body) = codes.create(request.clone()).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("48002"), "{body}");
    assert_eq!(t.count("SELECT COUNT(*) FROM channel_code").await, 0);

    // WeCom's own refusal of a rep it does not know is reported the same way.
    let (status, body) = codes
        .create(json!({ "tenant": "acme", "state": "expo", "users": ["nobody"] }))
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body["error"].as_str().unwrap().contains("60111"), "{body}");

    // The operator tries again once WeCom is fixed.
    let (status, _) = codes.create(request).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(t.count("SELECT COUNT(*) FROM channel_code").await, 1);
    codes.app.stop().await;
}
on_both_backends!(
    a_wecom_error_is_a_502_and_nothing_is_stored,
    super::a_wecom_error_is_a_502_and_nothing_is_stored
);

async fn the_list_counts_the_customers_each_code_brought_in(t: &TestDb) {
    let codes = Codes::start(t).await;
    for state in ["expo", "web"] {
        let (status, _) = codes
            .create(json!({ "tenant": "acme", "state": state, "users": ["alice"] }))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let customer = |tenant: &str, id: &str| {
        format!(
            "INSERT INTO customer (tenant, external_userid, created_at, updated_at) \
             VALUES ('{tenant}', '{id}', 1, 1)"
        )
    };
    let rep = |tenant: &str, id: &str, userid: &str, state: &str, status: &str| {
        format!(
            "INSERT INTO customer_rep (customer_id, userid, state, status, updated_at) VALUES \
             ((SELECT id FROM customer WHERE tenant = '{tenant}' AND external_userid = '{id}'), \
             '{userid}', '{state}', '{status}', 1)"
        )
    };
    for sql in [
        customer("acme", "wm_active"),
        customer("acme", "wm_two_reps"),
        customer("acme", "wm_lost"),
        customer("acme", "wm_other"),
        customer("globex", "wm_globex"),
        rep("acme", "wm_active", "alice", "expo", "active"),
        // Two relations through the same code: one customer.
        rep("acme", "wm_two_reps", "alice", "expo", "active"),
        rep("acme", "wm_two_reps", "bob", "expo", "ended"),
        rep("acme", "wm_lost", "alice", "expo", "ended"),
        rep("acme", "wm_other", "alice", "", "active"),
        // Another tenant's customer with the same state is not counted.
        rep("globex", "wm_globex", "dave", "expo", "active"),
    ] {
        t.db.execute_unprepared(&sql).await.unwrap();
    }

    let list = codes.list("acme").await;
    let items = list["items"].as_array().unwrap();
    let counts: Vec<(&str, i64, i64)> = items
        .iter()
        .map(|item| {
            (
                item["state"].as_str().unwrap(),
                item["customers"].as_i64().unwrap(),
                item["active_customers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("web", 0, 0), ("expo", 3, 2)], "newest first");
    let keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "state",
        "config_id",
        "qr_code",
        "remark",
        "users",
        "skip_verify",
        "created_at",
        "customers",
        "active_customers",
    ];
    expected.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected);

    assert_eq!(codes.list("globex").await, json!({ "items": [] }));
    let missing = codes.app.admin(Method::GET, PATH, TOKEN).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let anonymous = codes.app.get(&format!("{PATH}?tenant=acme")).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    codes.app.stop().await;
}
on_both_backends!(
    the_list_counts_the_customers_each_code_brought_in,
    super::the_list_counts_the_customers_each_code_brought_in
);
