//! Transient failures (QPS limits, system busy, HTTP 500, timeouts) are retried with backoff up
//! to `max_retries` on both hosts, and the fake's log shows each attempt.

use salesbot_dingtalk::api::{CardData, UpdateCard, errcode};
use salesbot_dingtalk::fake::Fault;

use super::*;

fn statuses(fake: &FakeDingtalk, path: &str) -> Vec<u16> {
    fake.requests_to(path).iter().map(|r| r.status).collect()
}

fn errcodes(fake: &FakeDingtalk, path: &str) -> Vec<Option<i64>> {
    fake.requests_to(path).iter().map(|r| r.errcode).collect()
}

async fn oapi_retried_then_succeeds(fault: Fault, expected: i64) {
    let fake = fake_with_members().await;
    fake.fail_next(USER_GET, 2, fault);

    let user = client(&fake).get_user("rep001").await.unwrap();

    assert_eq!(user.userid, "rep001");
    assert_eq!(
        errcodes(&fake, USER_GET),
        [Some(expected), Some(expected), Some(0)]
    );
}

#[tokio::test]
async fn an_oapi_qps_limit_90018_is_retried_and_then_succeeds() {
    oapi_retried_then_succeeds(Fault::QpsLimit, errcode::APP_API_QPS_LIMIT).await;
}

#[tokio::test]
async fn an_oapi_system_busy_minus_one_is_retried_and_then_succeeds() {
    oapi_retried_then_succeeds(Fault::SystemBusy, errcode::SYSTEM_BUSY).await;
}

/// A card to update, so the update path has something to work on.
async fn fake_with_card() -> FakeDingtalk {
    let fake = fake_with_members().await;
    let card = salesbot_dingtalk::api::CreateAndDeliverCard::to_user(
        "tpl.schema",
        "card-1",
        "mgr001",
        salesbot_dingtalk::api::CallbackType::Stream,
        CardData::new([("status", "pending")]),
    );
    client(&fake).create_and_deliver_card(&card).await.unwrap();
    fake
}

async fn api_retried_then_succeeds(fault: Fault, expected_status: u16) {
    let fake = fake_with_card().await;
    fake.fail_next(CARD_INSTANCES, 2, fault);

    let update = UpdateCard::merge("card-1", CardData::new([("status", "approved")]));
    client(&fake).update_card(&update).await.unwrap();

    assert_eq!(
        statuses(&fake, CARD_INSTANCES),
        [expected_status, expected_status, 200]
    );
    assert_eq!(
        fake.card("card-1").unwrap().card_param_map["status"],
        "approved"
    );
}

#[tokio::test]
async fn an_api_qps_limit_403_is_retried_and_then_succeeds() {
    api_retried_then_succeeds(Fault::QpsLimit, 403).await;
}

#[tokio::test]
async fn an_api_system_busy_500_is_retried_and_then_succeeds() {
    api_retried_then_succeeds(Fault::SystemBusy, 500).await;
}

#[tokio::test]
async fn an_http_500_from_a_proxy_is_retried_and_then_succeeds_on_both_hosts() {
    let fake = fake_with_card().await;
    fake.fail_next(USER_GET, 2, Fault::SERVER_ERROR);
    fake.fail_next(CARD_INSTANCES, 1, Fault::SERVER_ERROR);
    let client = client(&fake);

    client.get_user("rep001").await.unwrap();
    let update = UpdateCard::merge("card-1", CardData::new([("status", "approved")]));
    client.update_card(&update).await.unwrap();

    assert_eq!(statuses(&fake, USER_GET), [500, 500, 200]);
    assert_eq!(statuses(&fake, CARD_INSTANCES), [500, 200]);
}

#[tokio::test]
async fn a_retryable_failure_is_given_up_after_max_retries() {
    let fake = fake_with_members().await;
    fake.fail_next(USER_GET, 5, Fault::QpsLimit);
    let client = client_with(
        ClientConfig {
            max_retries: 2,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("rep001").await.unwrap_err();

    assert!(err.retryable());
    assert!(err.is_rate_limited());
    assert_eq!(err.errcode(), Some(errcode::APP_API_QPS_LIMIT));
    assert_eq!(fake.requests_to(USER_GET).len(), 3);
}

#[tokio::test]
async fn an_api_qps_limit_is_given_up_after_max_retries_with_its_code() {
    let fake = fake_with_card().await;
    fake.fail_next(CARD_INSTANCES, 5, Fault::QpsLimit);
    let client = client_with(
        ClientConfig {
            max_retries: 1,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let update = UpdateCard::merge("card-1", CardData::new([("status", "approved")]));
    let err = client.update_card(&update).await.unwrap_err();

    assert_eq!(
        err.code(),
        Some("Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    );
    assert_eq!(err.status(), Some(403));
    assert_eq!(fake.requests_to(CARD_INSTANCES).len(), 2);
}

#[tokio::test]
async fn a_slow_answer_beyond_the_timeout_is_a_retryable_timeout() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            timeout: Duration::from_millis(300),
            max_retries: 0,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );
    client.get_user("rep001").await.unwrap();
    fake.fail_next(USER_GET, 1, Fault::Delay(Duration::from_secs(30)));

    let err = client.get_user("rep001").await.unwrap_err();

    assert!(matches!(
        err,
        salesbot_dingtalk::api::ApiError::Timeout { .. }
    ));
    assert!(err.retryable());
}

#[tokio::test]
async fn a_timed_out_call_is_retried_and_then_succeeds() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            timeout: Duration::from_millis(300),
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );
    fake.fail_next(USER_GET, 1, Fault::Delay(Duration::from_secs(30)));

    client.get_user("rep001").await.unwrap();

    assert_eq!(statuses(&fake, USER_GET), [0, 200]);
}

#[tokio::test]
async fn a_non_retryable_error_is_returned_after_one_attempt() {
    let fake = fake_with_card().await;
    let client = client(&fake);

    let update = UpdateCard::merge("no-such-card", CardData::new([("status", "x")]));
    let err = client.update_card(&update).await.unwrap_err();

    assert!(!err.retryable());
    assert_eq!(err.status(), Some(400));
    assert_eq!(fake.requests_to(CARD_INSTANCES).len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_network_error() {
    let fake = FakeDingtalk::start().await;
    let mut config = config(&fake);
    drop(fake);
    config.max_retries = 0;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    config.api_base_url = closed.clone();
    config.oapi_base_url = closed;

    let err = client_with(config, Arc::new(MemoryTokenStore::new()))
        .get_user("rep001")
        .await
        .unwrap_err();

    assert!(matches!(
        err,
        salesbot_dingtalk::api::ApiError::Network { .. }
    ));
    assert!(err.retryable());
}
