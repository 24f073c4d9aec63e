//! Access tokens kept in the database: shared by clients (instances), refreshed on expiry.

use std::sync::Arc;

use salesbot::platform::token_store::DbTokenStore;
use salesbot_wecom::{
    api::{CachedToken, TokenStore, WecomClient},
    fake::FakeWecom,
};
use serde_json::json;

use crate::helpers::{TestDb, on_both_backends};

async fn two_clients_sharing_one_database_make_one_gettoken_call(t: &TestDb) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeWecom::start().await;
    fake.add_user(json!({ "userid": "alice", "name": "Alice" }));
    // Two instances: each its own client and store object, one database.
    let a = WecomClient::new(
        fake.client_config(),
        Arc::new(DbTokenStore::new(t.db.clone())),
    )
    .unwrap();
    let b = WecomClient::new(
        fake.client_config(),
        Arc::new(DbTokenStore::new(t.db.clone())),
    )
    .unwrap();
    assert_eq!(a.get_user("alice").await.unwrap().userid, "alice");
    assert_eq!(b.get_user("alice").await.unwrap().userid, "alice");
    assert_eq!(fake.gettoken_calls(), 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM access_token").await, 1);

    // WeCom expires the token early: one refresh, stored for both.
    fake.expire_tokens();
    assert!(a.get_user("alice").await.is_ok());
    assert!(b.get_user("alice").await.is_ok());
    assert_eq!(fake.gettoken_calls(), 2);
}
on_both_backends!(
    two_clients_sharing_one_database_make_one_gettoken_call,
    super::two_clients_sharing_one_database_make_one_gettoken_call
);

async fn an_older_token_never_replaces_a_newer_one(t: &TestDb) {
    let store = DbTokenStore::new(t.db.clone());
    let newer = CachedToken {
        token: "new".into(),
        expires_at_ms: 2_000,
    };
    let older = CachedToken {
        token: "old".into(),
        expires_at_ms: 1_000,
    };
    store.put("k", &newer).await.unwrap();
    store.put("k", &older).await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(newer.clone()));
    // Invalidation only removes the token it names.
    store.invalidate("k", "old").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(newer));
    store.invalidate("k", "new").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
}
on_both_backends!(
    an_older_token_never_replaces_a_newer_one,
    super::an_older_token_never_replaces_a_newer_one
);

async fn a_token_far_from_expiry_is_served_from_memory_and_a_near_one_from_the_table(t: &TestDb) {
    use salesbot::pipeline::clock::now_ms;
    use sea_orm::ConnectionTrait;
    let store = DbTokenStore::new(t.db.clone());
    let long = CachedToken {
        token: "long".into(),
        expires_at_ms: now_ms() + 2 * 3_600_000,
    };
    let short = CachedToken {
        token: "short".into(),
        expires_at_ms: now_ms() + 10 * 60_000,
    };
    store.put("long", &long).await.unwrap();
    store.put("short", &short).await.unwrap();
    // Another instance refreshes both in the table.
    t.db.execute_unprepared("UPDATE access_token SET token = 'other-' || token")
        .await
        .unwrap();
    assert_eq!(
        store.get("long").await.unwrap(),
        Some(long),
        "no table read"
    );
    let near = store.get("short").await.unwrap().unwrap();
    assert_eq!(
        near.token, "other-short",
        "near its expiry the table decides"
    );
    // A rejected token is dropped from memory too: the next read goes to the table.
    store.invalidate("long", "long").await.unwrap();
    assert_eq!(
        store.get("long").await.unwrap().unwrap().token,
        "other-long"
    );
}
on_both_backends!(
    a_token_far_from_expiry_is_served_from_memory_and_a_near_one_from_the_table,
    super::a_token_far_from_expiry_is_served_from_memory_and_a_near_one_from_the_table
);

async fn two_dingtalk_clients_sharing_one_database_make_one_token_call(t: &TestDb) {
    use salesbot_dingtalk::{api::DingtalkClient, fake::FakeDingtalk};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let fake = FakeDingtalk::start().await;
    fake.add_user(json!({ "userid": "rep001", "name": "Rep", "dept_id_list": [1] }));
    let a = DingtalkClient::new(
        fake.client_config(),
        Arc::new(DbTokenStore::new(t.db.clone())),
    )
    .unwrap();
    let b = DingtalkClient::new(
        fake.client_config(),
        Arc::new(DbTokenStore::new(t.db.clone())),
    )
    .unwrap();
    assert_eq!(a.get_user("rep001").await.unwrap().userid, "rep001");
    assert_eq!(b.get_user("rep001").await.unwrap().userid, "rep001");
    assert_eq!(fake.token_calls(), 1);
    assert_eq!(t.count("SELECT COUNT(*) FROM access_token").await, 1);
}
on_both_backends!(
    two_dingtalk_clients_sharing_one_database_make_one_token_call,
    super::two_dingtalk_clients_sharing_one_database_make_one_token_call
);
