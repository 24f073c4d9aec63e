//! Access tokens: fetched once from the v1.0 endpoint and used on both hosts, shared through the
//! store, refreshed once under single flight, and refreshed once more when DingTalk rejects one.

use salesbot_dingtalk::api::{CachedToken, CallbackType, CardData, CreateAndDeliverCard, code};
use salesbot_dingtalk::fake::Fault;

use super::*;

#[tokio::test]
async fn one_token_from_the_v1_endpoint_serves_both_hosts() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    client.get_user("rep001").await.unwrap();
    let card = CreateAndDeliverCard::to_user(
        "tpl.schema",
        "c1",
        "mgr001",
        CallbackType::Stream,
        CardData::new([("a", "b")]),
    );
    client.create_and_deliver_card(&card).await.unwrap();

    assert_eq!(fake.token_calls(), 1);
    let token_request = &fake.requests_to("v1.0/oauth2/accessToken")[0];
    assert_eq!(
        token_request.body,
        Some(json!({ "appKey": FakeDingtalk::APP_KEY, "appSecret": "<redacted>" }))
    );
}

#[tokio::test]
async fn an_expired_token_on_oapi_is_refreshed_with_exactly_one_extra_token_call() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    client.get_user("rep001").await.unwrap();
    fake.expire_tokens();

    client.get_user("rep001").await.unwrap();

    assert_eq!(fake.token_calls(), 2);
    let errcodes: Vec<_> = fake
        .requests_to(USER_GET)
        .iter()
        .map(|r| r.errcode)
        .collect();
    assert_eq!(errcodes, [Some(0), Some(42001), Some(0)]);
}

#[tokio::test]
async fn an_expired_token_on_api_is_refreshed_with_exactly_one_extra_token_call() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    client.get_user("rep001").await.unwrap();
    fake.fail_next(
        "v1.0/card/instances/createAndDeliver",
        1,
        Fault::TokenExpired,
    );
    let card = CreateAndDeliverCard::to_user(
        "tpl.schema",
        "c2",
        "mgr001",
        CallbackType::Stream,
        CardData::new([("a", "b")]),
    );

    client.create_and_deliver_card(&card).await.unwrap();

    assert_eq!(fake.token_calls(), 2);
    let codes: Vec<_> = fake
        .requests_to("v1.0/card/instances/createAndDeliver")
        .into_iter()
        .map(|r| r.code)
        .collect();
    assert_eq!(codes, [Some(code::INVALID_AUTHENTICATION.to_owned()), None]);
}

#[tokio::test]
async fn a_token_rejected_twice_is_returned_instead_of_looping() {
    let fake = fake_with_members().await;
    fake.fail_next(USER_GET, 2, Fault::TokenExpired);

    let err = client(&fake).get_user("rep001").await.unwrap_err();

    assert!(err.is_token_error());
    assert_eq!(fake.token_calls(), 2);
    assert_eq!(fake.requests_to(USER_GET).len(), 2);
}

#[tokio::test]
async fn two_clients_sharing_a_memory_token_store_make_one_token_call() {
    let fake = fake_with_members().await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let first = client_with(config(&fake), Arc::clone(&store));
    let second = client_with(config(&fake), Arc::clone(&store));

    first.get_user("rep001").await.unwrap();
    second.get_user("mgr001").await.unwrap();

    assert_eq!(fake.token_calls(), 1);
}

#[tokio::test]
async fn concurrent_calls_make_one_token_call() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_user("rep001").await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }

    assert_eq!(fake.token_calls(), 1);
    assert_eq!(fake.requests_to(USER_GET).len(), 8);
}

#[tokio::test]
async fn a_stored_token_close_to_expiry_is_refreshed_before_use() {
    let fake = fake_with_members().await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = client_with(config(&fake), store.clone());
    let nearly_expired = CachedToken {
        token: "stale-token".into(),
        expires_at_ms: now_ms() + 60_000,
    };
    store
        .put(client.token_key(), &nearly_expired)
        .await
        .unwrap();

    client.get_user("rep001").await.unwrap();

    assert_eq!(fake.token_calls(), 1);
    let stored = store.get(client.token_key()).await.unwrap().unwrap();
    assert_ne!(stored.token, "stale-token");
}

#[tokio::test]
async fn the_memory_store_keeps_the_later_expiring_token() {
    let store = MemoryTokenStore::new();
    let later = CachedToken {
        token: "later".into(),
        expires_at_ms: 2_000,
    };
    let earlier = CachedToken {
        token: "earlier".into(),
        expires_at_ms: 1_000,
    };

    store.put("k", &later).await.unwrap();
    store.put("k", &earlier).await.unwrap();
    store.invalidate("k", "earlier").await.unwrap();

    assert_eq!(store.get("k").await.unwrap(), Some(later));
    store.invalidate("k", "later").await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_never_appears_in_the_error() {
    let fake = fake_with_members().await;
    let secret = "wrong-secret-value-0123456789";
    let client = client_with(
        ClientConfig {
            app_secret: secret.to_owned().into(),
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("rep001").await.unwrap_err();

    assert_eq!(err.code(), Some(code::INVALID_CLIENT));
    assert!(!err.retryable() && !err.is_token_error());
    assert!(!format!("{err} {err:?}").contains(secret));
    assert!(!format!("{client:?}").contains(FakeDingtalk::APP_SECRET));
}
