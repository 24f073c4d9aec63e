//! The tasks and deals API, with task rules: a new deal gets its stage's task, the first call
//! done moves the deal to `qualified` and creates the next tasks in the same transaction; tasks
//! and deals posted again with the same reference are found, not made twice; bad input is a
//! 400 with the reason and changes nothing.

use reqwest::{Method, StatusCode};
use salesbot::config::Secret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends};

const TOKEN: &str = "tasks-admin-token";

const RULES: &str = r#"
[[task_rule]]
name = "call new deals"
on = "deal_stage"
stage = "new"
task = { kind = "first_contact", title = "First call", due_in_mins = 120 }

[[task_rule]]
name = "first call done"
on = "task_done"
kind = "first_contact"
set_stage = "qualified"
task = { kind = "needs_analysis", title = "Needs analysis", due_in_mins = 1440 }

[[task_rule]]
name = "proposal for qualified deals"
on = "deal_stage"
stage = "qualified"
task = { kind = "proposal", title = "Send the proposal", due_in_mins = 480 }
"#;

struct Desk {
    app: TestApp,
    _rules: tempfile::TempDir,
}

impl Desk {
    async fn start(t: &TestDb) -> Self {
        let rules = tempfile::tempdir().unwrap();
        std::fs::write(rules.path().join("rules.toml"), RULES).unwrap();
        let mut config = t.config();
        config.admin.token = Some(Secret::new(TOKEN));
        config.rules.file = Some(rules.path().join("rules.toml"));
        let app = TestApp::spawn(config, Default::default(), Default::default()).await;
        Self { app, _rules: rules }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.address))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn tasks(&self, query: &str) -> Vec<Value> {
        let (status, page) = self
            .call(Method::GET, &format!("/api/v1/tasks?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        page["tasks"].as_array().unwrap().clone()
    }
}

fn kinds(tasks: &[Value]) -> Vec<&str> {
    tasks.iter().map(|t| t["kind"].as_str().unwrap()).collect()
}

async fn a_done_first_call_moves_the_deal_and_creates_the_next_tasks(t: &TestDb) {
    let desk = Desk::start(t).await;
    let deal = json!({
        "tenant": "acme", "name": "Huadong Machinery renewal", "stage": "new",
        "amount": 200000, "owner": "zhang.san", "external_ref": "crm-42",
    });
    let (status, created) = desk
        .call(Method::POST, "/api/v1/deals", Some(deal.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let deal_id = created["id"].as_i64().unwrap();
    let (status, again) = desk.call(Method::POST, "/api/v1/deals", Some(deal)).await;
    assert_eq!(status, StatusCode::OK, "the CRM's reference finds the deal");
    assert_eq!(again["id"], deal_id);

    let tasks = desk.tasks(&format!("deal_id={deal_id}")).await;
    assert_eq!(
        kinds(&tasks),
        ["first_contact"],
        "one task for one new deal"
    );
    let first = &tasks[0];
    assert_eq!(first["assignee"], "zhang.san");
    assert_eq!(first["state"], "open");
    let calendar = &desk.app.state.calendar;
    let created_at = first["created_at"].as_i64().unwrap();
    assert_eq!(
        first["due_at"].as_i64().unwrap(),
        calendar.add(created_at, std::time::Duration::from_secs(7200)),
        "due after two hours of working time"
    );
    assert_eq!(first["next_remind_at"], first["due_at"]);

    let id = first["id"].as_i64().unwrap();
    let (status, done) = desk
        .call(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(json!({ "state": "done" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["state"], "done");
    assert!(
        done["next_remind_at"].is_null(),
        "a done task is not chased"
    );
    let (status, again) = desk
        .call(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(json!({ "state": "done" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (_, deal) = desk
        .call(Method::GET, &format!("/api/v1/deals/{deal_id}"), None)
        .await;
    assert_eq!(deal["stage"], "qualified");
    let open = desk.tasks(&format!("deal_id={deal_id}&state=open")).await;
    let mut open_kinds = kinds(&open);
    open_kinds.sort();
    assert_eq!(open_kinds, ["needs_analysis", "proposal"]);
    assert!(open.iter().all(|t| t["assignee"] == "zhang.san"));
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'deal.stage_changed'")
            .await,
        2,
        "created as new, then qualified"
    );

    // Moving the deal by hand runs the rules of the stage it arrives at, and a stage it is
    // at already changes nothing.
    let (status, _) = desk
        .call(
            Method::PATCH,
            &format!("/api/v1/deals/{deal_id}"),
            Some(json!({ "stage": "won", "amount": 180000 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, won) = desk
        .call(Method::GET, &format!("/api/v1/deals/{deal_id}"), None)
        .await;
    assert_eq!(won["amount"], 180000.0);
    assert!(won["closed_at"].is_i64(), "won closes the deal: {won}");
    assert_eq!(desk.tasks(&format!("deal_id={deal_id}")).await.len(), 3);
    desk.app.stop().await;
}
on_both_backends!(
    a_done_first_call_moves_the_deal_and_creates_the_next_tasks,
    super::a_done_first_call_moves_the_deal_and_creates_the_next_tasks
);

async fn tasks_by_hand_are_kept_once_changed_and_paged(t: &TestDb) {
    let desk = Desk::start(t).await;
    let task = json!({
        "tenant": "acme", "assignee": "li.si", "title": "Send the catalogue",
        "kind": "follow_up", "due_at": 1_900_000_000_000i64, "external_ref": "crm-task-7",
    });
    let (status, first) = desk
        .call(Method::POST, "/api/v1/tasks", Some(task.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = desk.call(Method::POST, "/api/v1/tasks", Some(task)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    assert_eq!(desk.tasks("assignee=li.si").await.len(), 1);

    let id = first["id"].as_i64().unwrap();
    let (status, moved) = desk
        .call(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(json!({ "due_at": 1_900_000_360_000i64, "title": "Send the 2027 catalogue" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["title"], "Send the 2027 catalogue");
    assert_eq!(moved["next_remind_at"], 1_900_000_360_000i64);

    for n in 0..4 {
        let (status, _) = desk
            .call(
                Method::POST,
                "/api/v1/tasks",
                Some(
                    json!({ "tenant": "acme", "assignee": "li.si", "title": format!("Call {n}"),
                             "due_in_mins": 30 }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = desk
        .call(Method::GET, "/api/v1/tasks?assignee=li.si&limit=3", None)
        .await;
    assert_eq!(page["tasks"].as_array().unwrap().len(), 3);
    let next = page["next"].as_i64().unwrap();
    let (_, rest) = desk
        .call(
            Method::GET,
            &format!("/api/v1/tasks?assignee=li.si&limit=3&after={next}"),
            None,
        )
        .await;
    assert_eq!(rest["tasks"].as_array().unwrap().len(), 2);
    assert!(rest.get("next").is_none(), "the last page: {rest}");

    let (status, cancelled) = desk
        .call(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}"),
            Some(json!({ "state": "cancelled" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["state"], "cancelled");
    desk.app.stop().await;
}
on_both_backends!(
    tasks_by_hand_are_kept_once_changed_and_paged,
    super::tasks_by_hand_are_kept_once_changed_and_paged
);

async fn bad_input_is_refused_with_the_reason(t: &TestDb) {
    let desk = Desk::start(t).await;
    let base = json!({ "tenant": "acme", "assignee": "li.si", "title": "Call", "due_in_mins": 30 });
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let long_title = "长".repeat(81);
    for (body, reason) in [
        (with("due_in_mins", Value::Null), "due_at"),
        (with("due_in_mins", json!(-1)), "due_in_mins"),
        (with("platform", json!("slack")), "platform"),
        (with("title", json!(long_title)), "title"),
        (with("title", json!("  ")), "title"),
        (with("assignee", json!("")), "assignee"),
        (with("owner", json!("x")), "unknown field"),
    ] {
        let (status, answer) = desk.call(Method::POST, "/api/v1/tasks", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(reason),
            "{reason}: {answer}"
        );
    }
    for (query, reason) in [("state=later", "state"), ("limit=0", "limit")] {
        let (status, answer) = desk
            .call(Method::GET, &format!("/api/v1/tasks?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(answer["error"].as_str().unwrap().contains(reason));
    }
    let (status, _) = desk
        .call(
            Method::PATCH,
            "/api/v1/tasks/999",
            Some(json!({ "state": "done" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let deal = json!({ "tenant": "acme", "name": "x", "stage": "new", "owner": "a", "amount": -5 });
    let (status, answer) = desk.call(Method::POST, "/api/v1/deals", Some(deal)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, _) = desk
        .call(
            Method::PATCH,
            "/api/v1/deals/999",
            Some(json!({ "stage": "won" })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM task").await, 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM deal").await, 0);
    let (status, _) = desk.call(Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(status, StatusCode::OK);
    let unauthorized = desk
        .app
        .admin(Method::GET, "/api/v1/deals?tenant=acme", "wrong")
        .await;
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
    desk.app.stop().await;
}
on_both_backends!(
    bad_input_is_refused_with_the_reason,
    super::bad_input_is_refused_with_the_reason
);
