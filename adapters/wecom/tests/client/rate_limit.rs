//! The client's token bucket holds back calls beyond its burst.

use super::*;

#[tokio::test]
async fn calls_beyond_the_burst_wait_while_an_unlimited_client_goes_first() {
    let fake = fake_with_members().await;
    // Two requests at once (gettoken and the first call), then one every 2 seconds.
    let limited = client_with(
        ClientConfig {
            rate_limit: RateLimit::new(30, 2),
            ..config(&fake)
        },
        Arc::new(MemoryTokenStore::new()),
    );
    let unlimited = client(&fake);
    limited.get_user("alice").await.unwrap();

    let held_back = tokio::spawn({
        let limited = limited.clone();
        async move { limited.get_user("bob").await }
    });
    unlimited.get_user("dave").await.unwrap();
    held_back.await.unwrap().unwrap();

    let order: Vec<_> = fake
        .requests_to("user/get")
        .into_iter()
        .map(|r| r.query["userid"].clone())
        .collect();
    assert_eq!(order, ["alice", "dave", "bob"]);
}
