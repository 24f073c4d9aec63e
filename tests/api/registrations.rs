//! `POST /api/v1/registrations` as a form service calls it: signed like salesbot's webhooks,
//! matched to a customer or a lead, idempotent, and refused whole when anything is wrong. No
//! phone number is ever stored.

use reqwest::StatusCode;
use salesbot::{
    app::{Extensions, Startup},
    config::{Config, Secret},
    pipeline::clock::now_ms,
    webhooks,
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends};

pub(crate) const FORM_SECRET: &str = "form-secret-for-tests";
pub(crate) const PHONE_SALT: &str = "phone-salt-for-tests-0123";
pub(crate) const TOKEN: &str = "admin-token-for-tests";
pub(crate) const PHONE: &str = "13812345678";

/// A config for `t` with registrations on, the admin token set, and `rules` (TOML) as the
/// rules file when given. The file must live until the app is built.
pub(crate) fn config(t: &TestDb, rules: Option<&tempfile::NamedTempFile>) -> Config {
    let mut config = t.config();
    config.admin.token = Some(Secret::new(TOKEN));
    config.registrations.secret = Some(Secret::new(FORM_SECRET));
    config.registrations.phone_salt = Some(Secret::new(PHONE_SALT));
    config.rules.file = rules.map(|file| file.path().to_path_buf());
    config
}

/// A rules file with `text`.
pub(crate) fn rules_file(text: &str) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

pub(crate) async fn spawn(config: Config) -> TestApp {
    TestApp::spawn(config, Extensions::default(), Startup::default()).await
}

/// Posts `body` as it is, signed with `secret` at `timestamp` (Unix seconds).
pub(crate) async fn post_signed(
    app: &TestApp,
    body: &str,
    secret: &str,
    timestamp: i64,
) -> (StatusCode, Value) {
    let signature = webhooks::sign(secret, timestamp, body.as_bytes());
    let response = app
        .client
        .post(format!("{}/api/v1/registrations", app.address))
        .header("content-type", "application/json")
        .header("x-salesbot-timestamp", timestamp.to_string())
        .header("x-salesbot-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Posts `body` signed now with the configured secret.
pub(crate) async fn register(app: &TestApp, body: &Value) -> (StatusCode, Value) {
    post_signed(app, &body.to_string(), FORM_SECRET, now_ms() / 1000).await
}

/// A registration of Wang Fang for campaign `expo2026` of `acme`, with `extra` keys added or
/// replaced.
pub(crate) fn form(extra: Value) -> Value {
    let mut body = json!({
        "tenant": "acme",
        "campaign": "expo2026",
        "name": "Wang Fang",
        "phone": PHONE,
        "company": "Initech",
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

/// The `(table, column)` pairs of `tables` in which some row's value contains `needle`: every
/// column, whatever its type, is read as text.
pub(crate) async fn columns_containing(
    t: &TestDb,
    tables: &[&str],
    needle: &str,
) -> Vec<(String, String)> {
    let backend = t.db.get_database_backend();
    let mut found = Vec::new();
    for table in tables {
        let sql = match backend {
            sea_orm::DbBackend::Postgres => format!(
                "SELECT column_name::text AS name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}'"
            ),
            _ => format!("SELECT name FROM pragma_table_info('{table}')"),
        };
        let columns: Vec<String> =
            t.db.query_all_raw(Statement::from_string(backend, sql))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get("", "name").unwrap())
                .collect();
        assert!(columns.len() > 3, "{table}: {columns:?}");
        for column in columns {
            let sql = format!(
                "SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE '%{needle}%'"
            );
            if t.count(&sql).await > 0 {
                found.push((table.to_string(), column));
            }
        }
    }
    found
}

/// Every table a registration writes to.
pub(crate) const WRITTEN: &[&str] = &[
    "registration",
    "lead",
    "score_event",
    "customer",
    "customer_event",
    "audit_log",
    "outbox",
];

async fn counts(t: &TestDb) -> [i64; 3] {
    [
        t.count("SELECT COUNT(*) FROM registration").await,
        t.count("SELECT COUNT(*) FROM lead").await,
        t.count("SELECT COUNT(*) FROM score_event").await,
    ]
}

async fn a_signed_registration_makes_a_lead_and_stores_no_phone_number(t: &TestDb) {
    let app = spawn(config(t, None)).await;
    let (status, body) = register(&app, &form(json!({ "id": "sub-1" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let lead_id = body["lead_id"].as_i64().unwrap();
    assert_eq!(
        body,
        json!({ "id": body["id"], "matched": "lead", "lead_id": lead_id, "new_lead": true })
    );

    let lead = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/leads/{lead_id}"),
            TOKEN,
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(lead["name"], "Wang Fang");
    assert_eq!(lead["company"], "Initech");
    assert_eq!(lead["phone_masked"], "138****5678");
    assert_eq!(lead["source"], "registration:expo2026");
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["score"], 20.0);
    assert_eq!(lead["registrations"][0]["phone_masked"], "138****5678");
    assert_eq!(lead["registrations"][0]["campaign"], "expo2026");
    assert_eq!(lead["registrations"][0]["new_lead"], true);

    assert_eq!(counts(t).await, [1, 1, 1]);
    assert_eq!(
        columns_containing(t, WRITTEN, PHONE).await,
        Vec::<(String, String)>::new(),
        "the raw phone number is stored"
    );
    assert_eq!(
        columns_containing(t, &["registration", "lead"], "138****5678").await,
        [
            ("registration".to_string(), "phone_masked".to_string()),
            ("lead".to_string(), "phone_masked".to_string())
        ]
    );
    app.stop().await;
}
on_both_backends!(
    a_signed_registration_makes_a_lead_and_stores_no_phone_number,
    super::a_signed_registration_makes_a_lead_and_stores_no_phone_number
);

async fn the_same_phone_again_is_matched_to_the_same_lead(t: &TestDb) {
    let app = spawn(config(t, None)).await;
    let (_, first) = register(&app, &form(json!({}))).await;
    let (status, second) = register(
        &app,
        &form(json!({ "campaign": "webinar", "name": "Fang W.", "phone": " 13812345678 " })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["matched"], "lead");
    assert_eq!(second["lead_id"], first["lead_id"]);
    assert_eq!(second["new_lead"], false);
    assert_ne!(second["id"], first["id"]);

    // Another number is another lead, and the same number in another tenant too.
    let (_, other) = register(&app, &form(json!({ "phone": "+8613812345678" }))).await;
    assert_eq!(other["new_lead"], true);
    let (_, globex) = register(&app, &form(json!({ "tenant": "globex" }))).await;
    assert_eq!(globex["new_lead"], true);
    assert_eq!(counts(t).await, [4, 3, 4]);
    app.stop().await;
}
on_both_backends!(
    the_same_phone_again_is_matched_to_the_same_lead,
    super::the_same_phone_again_is_matched_to_the_same_lead
);

async fn a_customers_external_userid_matches_the_customer_and_scores_their_profile(t: &TestDb) {
    t.db.execute_unprepared(
        "INSERT INTO customer (tenant, external_userid, name, created_at, updated_at) \
         VALUES ('acme', 'wm_wang', 'Wang Fang', 1, 1)",
    )
    .await
    .unwrap();
    let customer_id = t
        .count("SELECT id FROM customer WHERE external_userid = 'wm_wang'")
        .await;
    let app = spawn(config(t, None)).await;
    let (status, body) = register(&app, &form(json!({ "external_userid": "wm_wang" }))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({ "id": body["id"], "matched": "customer", "customer_id": customer_id, "new_lead": false })
    );
    // An unknown external userid falls back to the phone.
    let (_, unknown) = register(
        &app,
        &form(json!({ "external_userid": "wm_nobody", "phone": "13900000000" })),
    )
    .await;
    assert_eq!(
        (&unknown["matched"], &unknown["new_lead"]),
        (&json!("lead"), &json!(true))
    );

    let profile = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/customers/{customer_id}"),
            TOKEN,
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(profile["lead_score"], 20.0);
    let history = profile["score_history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["kind"], "registration");
    assert_eq!(history[0]["points"], 20.0);
    assert_eq!(
        history[0]["reason"],
        format!("registration {}, campaign expo2026", body["id"])
    );
    let timeline = profile["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["kind"], "registration.created");
    assert_eq!(timeline[0]["detail"]["registration_id"], body["id"]);
    assert_eq!(counts(t).await, [2, 1, 2]);
    app.stop().await;
}
on_both_backends!(
    a_customers_external_userid_matches_the_customer_and_scores_their_profile,
    super::a_customers_external_userid_matches_the_customer_and_scores_their_profile
);

async fn a_repeated_submission_answers_the_first_result_and_adds_nothing(t: &TestDb) {
    let app = spawn(config(t, None)).await;
    let body = form(json!({ "id": "sub-7" })).to_string();
    let now = now_ms() / 1000;
    let (status, first) = post_signed(&app, &body, FORM_SECRET, now).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // The very same signed request, replayed.
    let (status, again) = post_signed(&app, &body, FORM_SECRET, now).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    // The form's id decides, whatever else changed.
    let changed = form(json!({ "id": "sub-7", "phone": "13999999999", "campaign": "other" }));
    let (status, same_id) = register(&app, &changed).await;
    assert_eq!((status, &same_id), (StatusCode::OK, &first));
    // Without an id: the same person for the same campaign is one registration.
    let (status, no_id) = register(&app, &form(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, no_id_again) = register(&app, &form(json!({ "name": "W. Fang" }))).await;
    assert_eq!((status, &no_id_again), (StatusCode::OK, &no_id));
    assert_eq!(counts(t).await, [2, 1, 2]);
    app.stop().await;
}
on_both_backends!(
    a_repeated_submission_answers_the_first_result_and_adds_nothing,
    super::a_repeated_submission_answers_the_first_result_and_adds_nothing
);

async fn simultaneous_submissions_of_one_person_make_one_lead_and_one_row_per_id(t: &TestDb) {
    let app = spawn(config(t, None)).await;
    let bodies: Vec<Value> = (0..8)
        .map(|n| form(json!({ "id": format!("sub-{}", n % 4) })))
        .collect();
    let answers =
        futures_util::future::join_all(bodies.iter().map(|body| register(&app, body))).await;
    let created = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert!(
        answers
            .iter()
            .all(|(status, _)| *status == StatusCode::CREATED || *status == StatusCode::OK),
        "{answers:?}"
    );
    assert_eq!(created, 4, "{answers:?}");
    let leads: std::collections::BTreeSet<i64> = answers
        .iter()
        .map(|(_, body)| body["lead_id"].as_i64().unwrap())
        .collect();
    assert_eq!(leads.len(), 1, "{answers:?}");
    let new_leads = answers
        .iter()
        .filter(|(status, body)| *status == StatusCode::CREATED && body["new_lead"] == true)
        .count();
    assert_eq!(new_leads, 1, "{answers:?}");
    assert_eq!(counts(t).await, [4, 1, 4]);
    app.stop().await;
}
on_both_backends!(
    simultaneous_submissions_of_one_person_make_one_lead_and_one_row_per_id,
    super::simultaneous_submissions_of_one_person_make_one_lead_and_one_row_per_id
);

/// Headers to send, by name.
type Headers = Vec<(&'static str, String)>;

#[tokio::test]
async fn a_missing_wrong_or_stale_signature_is_refused_and_stores_nothing() {
    let t = TestDb::sqlite().await;
    let app = spawn(config(&t, None)).await;
    let body = form(json!({})).to_string();
    let now = now_ms() / 1000;
    let url = format!("{}/api/v1/registrations", app.address);
    let good = webhooks::sign(FORM_SECRET, now, body.as_bytes());
    let post = |headers: Headers, body: String| {
        let mut request = app.client.post(&url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let cases: Vec<(&str, Headers, String)> = vec![
        ("no headers", vec![], body.clone()),
        (
            "no timestamp",
            vec![("x-salesbot-signature", good.clone())],
            body.clone(),
        ),
        (
            "no signature",
            vec![("x-salesbot-timestamp", now.to_string())],
            body.clone(),
        ),
        (
            "timestamp not a number",
            vec![
                ("x-salesbot-timestamp", "yesterday".into()),
                ("x-salesbot-signature", good.clone()),
            ],
            body.clone(),
        ),
        (
            "another secret",
            vec![
                ("x-salesbot-timestamp", now.to_string()),
                (
                    "x-salesbot-signature",
                    webhooks::sign("not-the-secret", now, body.as_bytes()),
                ),
            ],
            body.clone(),
        ),
        (
            "body changed after signing",
            vec![
                ("x-salesbot-timestamp", now.to_string()),
                ("x-salesbot-signature", good.clone()),
            ],
            body.replace("Wang Fang", "Li Lei"),
        ),
        (
            "timestamp changed after signing",
            vec![
                ("x-salesbot-timestamp", (now + 1).to_string()),
                ("x-salesbot-signature", good.clone()),
            ],
            body.clone(),
        ),
        (
            "signature without its prefix",
            vec![
                ("x-salesbot-timestamp", now.to_string()),
                (
                    "x-salesbot-signature",
                    good.trim_start_matches("sha256=").into(),
                ),
            ],
            body.clone(),
        ),
    ];
    for (case, headers, body) in cases {
        let response = post(headers, body).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let error = response.json::<Value>().await.unwrap()["error"].clone();
        assert!(
            error.as_str().unwrap().contains("X-Salesbot-"),
            "{case}: {error}"
        );
    }
    // Far outside the window, so a slow run cannot carry a stale one back into it.
    for stale in [now - 1000, now + 1000] {
        let (status, answer) = post_signed(&app, &body, FORM_SECRET, stale).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{stale}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains("300 seconds"));
    }
    // Within the window either way is accepted.
    let (status, _) = post_signed(&app, &body, FORM_SECRET, now - 200).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(counts(&t).await, [1, 1, 1]);
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn malformed_or_invalid_bodies_are_refused_with_the_reason() {
    let t = TestDb::sqlite().await;
    let app = spawn(config(&t, None)).await;
    let now = now_ms() / 1000;
    let without = |key: &str| {
        let mut body = form(json!({}));
        body.as_object_mut().unwrap().remove(key);
        body.to_string()
    };
    for (body, reason) in [
        ("{\"tenant\": \"acme\",".to_string(), "EOF"),
        ("42".to_string(), "invalid type"),
        (String::new(), "EOF"),
        (without("name"), "missing field `name`"),
        (without("phone"), "missing field `phone`"),
        (without("tenant"), "missing field `tenant`"),
        (
            form(json!({ "phone": "12345" })).to_string(),
            "phone must be 6 to 20 digits",
        ),
        (
            form(json!({ "phone": "138-1234-5678" })).to_string(),
            "phone must be 6 to 20 digits",
        ),
        (
            form(json!({ "phone": 13812345678_i64 })).to_string(),
            "invalid type",
        ),
        (form(json!({ "name": " " })).to_string(), "name must be"),
        (
            form(json!({ "campaign": null })).to_string(),
            "give a campaign or a link_code",
        ),
        (
            form(json!({ "tenant": "ACME" })).to_string(),
            "tenant must be",
        ),
        (
            form(json!({ "link_code": "a/b" })).to_string(),
            "link_code must be",
        ),
        (
            form(json!({ "emial": "x@y" })).to_string(),
            "unknown field `emial`",
        ),
    ] {
        let (status, answer) = post_signed(&app, &body, FORM_SECRET, now).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let error = answer["error"].as_str().unwrap();
        assert!(error.contains(reason), "{body}: {error}");
    }
    // A link code alone is enough.
    let link_only = form(json!({ "campaign": null, "link_code": "Xy7-k_2" }));
    let (status, answer) = register(&app, &link_only).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(counts(&t).await, [1, 1, 1]);
    let source: Vec<(String, String)> =
        columns_containing(&t, &["lead"], "registration:link:Xy7-k_2").await;
    assert_eq!(source, [("lead".to_string(), "source".to_string())]);
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_it_is_read() {
    let t = TestDb::sqlite().await;
    let mut config = config(&t, None);
    config.server.body_limit_bytes = 2048;
    let app = spawn(config).await;
    let big = form(json!({ "company": "x".repeat(4096) })).to_string();
    let (status, _) = post_signed(&app, &big, FORM_SECRET, now_ms() / 1000).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(counts(&t).await, [0, 0, 0]);
    app.stop().await;
    t.finish().await;
}

#[tokio::test]
async fn without_a_secret_the_endpoint_does_not_exist() {
    let t = TestDb::sqlite().await;
    let mut config = config(&t, None);
    config.registrations.secret = None;
    let app = spawn(config).await;
    let (status, _) = register(&app, &form(json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(counts(&t).await, [0, 0, 0]);
    app.stop().await;
    t.finish().await;
}
