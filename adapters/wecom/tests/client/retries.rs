//! Transient failures (−1, HTTP 500, timeouts, refused connections) are retried with backoff
//! up to `max_retries`, and the fake's log shows each attempt. 45009 is not retried here: it
//! blocks the API for the rest of the minute, so it goes back to the caller with a retry-after.

use salesbot_wecom::api::{ApiError, errcode};
use salesbot_wecom::fake::Fault;

use super::*;

async fn retried_then_succeeds(fault: Fault, expected_first: Option<i64>) {
    let fake = fake_with_members().await;
    fake.fail_next("user/get", 2, fault);

    let user = client(&fake).get_user("alice").await.unwrap();

    assert_eq!(user.userid, "alice");
    assert_eq!(
        errcodes(&fake, "user/get"),
        vec![expected_first, expected_first, Some(0)]
    );
}

#[tokio::test]
async fn a_frequency_limit_45009_is_returned_at_once_with_its_window() {
    let fake = fake_with_members().await;
    fake.fail_next("user/get", 1, Fault::FREQUENCY_LIMIT);

    let err = client(&fake).get_user("alice").await.unwrap_err();

    assert!(err.retryable());
    assert_eq!(err.errcode(), Some(errcode::FREQUENCY_LIMIT));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(errcodes(&fake, "user/get"), vec![Some(45009)]);
    // The window over, the next call goes through.
    client(&fake).get_user("alice").await.unwrap();
}

#[tokio::test]
async fn a_system_busy_minus_one_is_retried_and_then_succeeds() {
    retried_then_succeeds(Fault::SYSTEM_BUSY, Some(-1)).await;
}

#[tokio::test]
async fn an_http_500_is_retried_and_then_succeeds() {
    let fake = fake_with_members().await;
    fake.fail_next("user/get", 2, Fault::SERVER_ERROR);

    client(&fake).get_user("alice").await.unwrap();

    let statuses: Vec<_> = fake
        .requests_to("user/get")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [500, 500, 200]);
}

#[tokio::test]
async fn a_retryable_failure_is_given_up_after_max_retries() {
    let fake = fake_with_members().await;
    fake.fail_next("user/get", 5, Fault::SYSTEM_BUSY);
    let client = client_with(
        ClientConfig {
            max_retries: 2,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("alice").await.unwrap_err();

    assert!(err.retryable());
    assert_eq!(err.errcode(), Some(errcode::SYSTEM_BUSY));
    assert_eq!(err.retry_after(), None);
    assert_eq!(fake.requests_to("user/get").len(), 3);
}

#[tokio::test]
async fn a_slow_answer_beyond_the_timeout_is_a_retryable_timeout() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            timeout: Duration::from_millis(200),
            max_retries: 0,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );
    client.get_user("alice").await.unwrap();
    fake.fail_next("user/get", 1, Fault::Delay(Duration::from_secs(30)));

    let err = client.get_user("alice").await.unwrap_err();

    assert!(
        matches!(err, ApiError::Timeout { api: "user/get" }),
        "{err:?}"
    );
    assert!(err.retryable());
}

#[tokio::test]
async fn a_timed_out_call_is_retried_and_then_succeeds() {
    let fake = fake_with_members().await;
    let client = client_with(
        ClientConfig {
            timeout: Duration::from_millis(200),
            max_retries: 1,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );
    fake.fail_next("user/get", 1, Fault::Delay(Duration::from_secs(30)));

    client.get_user("alice").await.unwrap();

    assert_eq!(fake.requests_to("user/get").len(), 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_retryable_network_error_that_names_no_secret() {
    let fake = FakeWecom::start().await;
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let client = client_with(
        ClientConfig {
            base_url: unreachable,
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );

    let err = client.get_user("alice").await.unwrap_err();

    assert!(
        matches!(
            err,
            ApiError::Network {
                api: "gettoken",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.retryable());
    let mut texts = vec![format!("{err:?}")];
    let mut cause: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = cause {
        texts.push(e.to_string());
        cause = e.source();
    }
    for text in texts {
        assert!(!text.contains(FakeWecom::SECRET), "{text}");
    }
}
