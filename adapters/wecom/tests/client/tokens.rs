//! Access tokens: fetched once, shared through the store, refreshed once when rejected or
//! near expiry, and never fetched twice by concurrent callers.

use salesbot_wecom::api::{ApiError, CachedToken, errcode};
use salesbot_wecom::fake::Fault;

use super::*;

#[tokio::test]
async fn one_token_is_fetched_and_reused_for_later_calls() {
    let fake = fake_with_members().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = client_with(config(&fake), store.clone());

    client.get_user("alice").await.unwrap();
    client.get_user("bob").await.unwrap();

    assert_eq!(fake.gettoken_calls(), 1);
    let gettoken = &fake.requests_to("gettoken")[0];
    assert_eq!(gettoken.query["corpid"], FakeWecom::CORP_ID);
    assert!(!gettoken.query.contains_key("access_token"));
    for request in fake.requests_to("user/get") {
        assert_eq!(request.query["access_token"], "<redacted>");
    }
    let stored = store
        .get(client.token_key())
        .await
        .unwrap()
        .expect("token stored");
    let expected = now_ms() + 7200 * 1000;
    assert!((expected - 60_000..=expected).contains(&stored.expires_at_ms));
    assert!(!client.token_key().contains(FakeWecom::SECRET));
}

#[tokio::test]
async fn an_expired_token_is_refreshed_with_exactly_one_extra_gettoken() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    client.get_user("alice").await.unwrap();
    fake.expire_tokens();

    client.get_user("bob").await.unwrap();

    assert_eq!(fake.gettoken_calls(), 2);
    assert_eq!(
        errcodes(&fake, "user/get"),
        vec![Some(0), Some(42001), Some(0)]
    );
}

#[tokio::test]
async fn a_token_rejected_again_after_the_refresh_is_returned_not_refreshed_again() {
    let fake = fake_with_members().await;
    fake.fail_next("user/get", 3, Fault::TOKEN_EXPIRED);

    let err = client(&fake).get_user("alice").await.unwrap_err();

    assert!(err.is_token_error());
    assert!(!err.retryable());
    assert_eq!(fake.gettoken_calls(), 2);
    assert_eq!(fake.requests_to("user/get").len(), 2);
}

#[tokio::test]
async fn a_token_within_five_minutes_of_expiry_is_refreshed_before_use() {
    let fake = fake_with_members().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = client_with(config(&fake), store.clone());
    client.get_user("alice").await.unwrap();
    let stored = store.get(client.token_key()).await.unwrap().unwrap();
    store
        .invalidate(client.token_key(), &stored.token)
        .await
        .unwrap();
    let nearly_expired = CachedToken {
        expires_at_ms: now_ms() + 4 * 60 * 1000,
        ..stored.clone()
    };
    store
        .put(client.token_key(), &nearly_expired)
        .await
        .unwrap();

    client.get_user("bob").await.unwrap();

    assert_eq!(fake.gettoken_calls(), 2);
    let refreshed = store.get(client.token_key()).await.unwrap().unwrap();
    assert_ne!(refreshed.token, stored.token);
}

#[tokio::test]
async fn a_wrong_secret_fails_with_40001_once_without_a_refresh_loop() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            secret: "not-the-secret".to_owned().into(),
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("alice").await.unwrap_err();

    assert!(
        matches!(
            &err,
            ApiError::Wecom {
                api: "gettoken",
                errcode: 40001,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.retryable() && !err.is_token_error());
    assert!(!err.to_string().contains("not-the-secret"));
    assert_eq!(fake.gettoken_calls(), 1);
    assert!(fake.requests_to("user/get").is_empty());
}

#[tokio::test]
async fn an_unknown_corp_id_fails_with_40013_and_is_not_retried() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            corp_id: "wwsomeoneelse".into(),
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("alice").await.unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::INVALID_CORPID));
    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_a_token_store_fetch_one_token() {
    let fake = fake_with_members().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let first = client_with(config(&fake), store.clone());
    let second = client_with(config(&fake), store);

    let (a, b) = tokio::join!(first.get_user("alice"), second.get_user("bob"));
    a.unwrap();
    b.unwrap();
    first.get_user("dave").await.unwrap();
    second.get_user("dave").await.unwrap();

    assert_eq!(fake.gettoken_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_from_one_client_fetch_one_token() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let client = client.clone();
        calls.spawn(async move { client.get_user("alice").await });
    }
    while let Some(call) = calls.join_next().await {
        call.unwrap().unwrap();
    }

    assert_eq!(fake.gettoken_calls(), 1);
    assert_eq!(fake.requests_to("user/get").len(), 16);
}

#[tokio::test]
async fn the_memory_store_keeps_the_later_token_and_invalidates_only_the_named_one() {
    let store = MemoryTokenStore::new();
    let newer = CachedToken {
        token: "newer".into(),
        expires_at_ms: 2_000,
    };
    let older = CachedToken {
        token: "older".into(),
        expires_at_ms: 1_000,
    };

    store.put("k", &newer).await.unwrap();
    store.put("k", &older).await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(newer.clone()));

    store.invalidate("k", "older").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), Some(newer.clone()));
    store.invalidate("k", "newer").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
    assert!(!format!("{newer:?}").contains("newer"));
}
