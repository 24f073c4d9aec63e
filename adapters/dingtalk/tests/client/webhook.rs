//! The custom group robot: the sign matches dingtalk.md §5.3.2's worked example, and the fake
//! checks timestamp and sign as DingTalk does.

use salesbot_dingtalk::api::{
    WebhookActionCard, WebhookButton, WebhookContent, WebhookMessage, WebhookRobot, WebhookText,
    errcode, webhook_sign,
};

use super::*;

#[test]
fn the_webhook_sign_matches_the_worked_example() {
    assert_eq!(
        webhook_sign("SECexample0123456789", 1_700_000_000_000),
        "figG6qqCA/lRh0hsGCW2zNtNV5znkAFut5BI0zKhqnQ="
    );
}

#[test]
fn the_signed_url_carries_the_timestamp_and_the_url_encoded_sign() {
    let robot = WebhookRobot::new(
        "https://oapi.dingtalk.com/robot/send?access_token=abc",
        Some("SECexample0123456789".into()),
    );

    let url = robot.signed_url(1_700_000_000_000).unwrap();

    assert_eq!(
        url.query(),
        Some(
            "access_token=abc&timestamp=1700000000000\
             &sign=figG6qqCA%2FlRh0hsGCW2zNtNV5znkAFut5BI0zKhqnQ%3D"
        )
    );
    assert!(!format!("{robot:?}").contains("abc"));
}

fn idle_deals() -> WebhookMessage {
    WebhookMessage {
        msg_uuid: Some("idle-2024-06-01-team7".into()),
        ..WebhookMessage::new(WebhookContent::ActionCard {
            action_card: WebhookActionCard {
                title: "3 deals idle for 7 days".into(),
                text: "### Idle deals\n- ACME Ltd".into(),
                btn_orientation: Some("0".into()),
                btns: vec![WebhookButton {
                    title: "Open dashboard".into(),
                    action_url: "https://crm.example.com/idle".into(),
                }],
                single_title: None,
                single_url: None,
            },
        })
    }
}

#[tokio::test]
async fn a_signed_webhook_post_is_accepted_with_the_documented_body() {
    let fake = FakeDingtalk::start().await;
    let robot = fake.add_webhook_robot(Some("SECfakerobotsecret"));
    let now = now_ms();

    client(&fake)
        .send_webhook(&robot, &idle_deals(), now)
        .await
        .unwrap();

    let posts = fake.webhook_posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].timestamp, Some(now));
    assert_eq!(
        posts[0].body,
        json!({
            "msgtype": "actionCard",
            "actionCard": {
                "title": "3 deals idle for 7 days",
                "text": "### Idle deals\n- ACME Ltd",
                "btnOrientation": "0",
                "btns": [{ "title": "Open dashboard", "actionURL": "https://crm.example.com/idle" }],
            },
            "msgUuid": "idle-2024-06-01-team7",
        })
    );
    let request = &fake.requests_to("robot/send")[0];
    assert_eq!(request.query["access_token"], "<redacted>");
    assert!(!request.with_token);
    assert_eq!(fake.token_calls(), 0);
}

#[tokio::test]
async fn a_webhook_signed_with_the_wrong_secret_is_refused_with_310000() {
    let fake = FakeDingtalk::start().await;
    let mut robot = fake.add_webhook_robot(Some("SECright"));
    robot.secret = Some("SECwrong".to_owned().into());

    let err = client(&fake)
        .send_webhook(&robot, &idle_deals(), now_ms())
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::WEBHOOK_REJECTED));
    assert!(!err.retryable());
    assert!(fake.webhook_posts().is_empty());
}

#[tokio::test]
async fn a_webhook_timestamp_more_than_an_hour_old_is_refused() {
    let fake = FakeDingtalk::start().await;
    let robot = fake.add_webhook_robot(Some("SECright"));
    let two_hours_ago = now_ms() - 2 * 60 * 60 * 1000;

    let err = client(&fake)
        .send_webhook(&robot, &idle_deals(), two_hours_ago)
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::WEBHOOK_REJECTED));
}

#[tokio::test]
async fn an_unsigned_robot_takes_a_text_message_without_timestamp_or_sign() {
    let fake = FakeDingtalk::start().await;
    let robot = fake.add_webhook_robot(None);
    let message = WebhookMessage::new(WebhookContent::Text {
        text: WebhookText {
            content: "status ACME".into(),
        },
    });

    client(&fake)
        .send_webhook(&robot, &message, now_ms())
        .await
        .unwrap();

    let posts = fake.webhook_posts();
    assert_eq!(posts[0].timestamp, None);
    assert_eq!(
        posts[0].body,
        json!({ "msgtype": "text", "text": { "content": "status ACME" } })
    );
    assert!(!fake.requests_to("robot/send")[0].query.contains_key("sign"));
}
