//! Every typed call round-trips: the fake receives the documented JSON and the client reads
//! the documented answer.

use std::collections::BTreeMap;

use salesbot_dingtalk::api::{
    ActionCard, CallbackType, CardData, CreateAndDeliverCard, GroupMessage, Markdown, OtoMessages,
    RobotMessage, UpdateCard, WorkMessage, WorkNotification, errcode,
};

use super::*;

#[tokio::test]
async fn a_work_notification_action_card_is_sent_with_the_documented_body() {
    let fake = fake_with_members().await;
    let card = ActionCard::single(
        "New lead assigned: ACME Ltd",
        "### New lead\n**Customer:** ACME Ltd",
        "Open lead",
        "https://crm.example.com/leads/42",
    );
    let notification = WorkNotification::to_users(
        FakeDingtalk::AGENT_ID,
        &["rep001", "mgr001"],
        WorkMessage::ActionCard { action_card: card },
    );

    let sent = client(&fake)
        .send_work_notification(&notification)
        .await
        .unwrap();

    let recorded = fake.work_notifications();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].task_id, sent.task_id);
    assert_eq!(recorded[0].userids, ["rep001", "mgr001"]);
    assert_eq!(
        recorded[0].body,
        json!({
            "agent_id": FakeDingtalk::AGENT_ID,
            "userid_list": "rep001,mgr001",
            "msg": { "msgtype": "action_card", "action_card": {
                "title": "New lead assigned: ACME Ltd",
                "markdown": "### New lead\n**Customer:** ACME Ltd",
                "single_title": "Open lead",
                "single_url": "https://crm.example.com/leads/42",
            } },
        })
    );
    assert!(sent.request_id.is_some());
    let request = &fake.requests_to("topapi/message/corpconversation/asyncsend_v2")[0];
    assert_eq!(request.query["access_token"], "<redacted>");
}

#[tokio::test]
async fn a_work_notification_markdown_is_sent_with_its_msgtype() {
    let fake = fake_with_members().await;
    let markdown = Markdown {
        title: "Reminder".into(),
        text: "**Due:** 2024-06-01".into(),
    };
    let notification = WorkNotification::to_users(
        FakeDingtalk::AGENT_ID,
        &["rep001"],
        WorkMessage::Markdown { markdown },
    );

    client(&fake)
        .send_work_notification(&notification)
        .await
        .unwrap();

    let recorded = fake.work_notifications();
    assert_eq!(recorded[0].msgtype(), Some("markdown"));
    assert_eq!(
        recorded[0].body["msg"]["markdown"]["text"],
        "**Due:** 2024-06-01"
    );
}

#[tokio::test]
async fn a_work_notification_from_another_agent_is_refused_without_retrying() {
    let fake = fake_with_members().await;
    let markdown = Markdown {
        title: "t".into(),
        text: "x".into(),
    };
    let notification =
        WorkNotification::to_users(42, &["rep001"], WorkMessage::Markdown { markdown });

    let err = client(&fake)
        .send_work_notification(&notification)
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::INVALID_PARAMETER));
    assert!(!err.retryable());
    assert_eq!(
        fake.requests_to("topapi/message/corpconversation/asyncsend_v2")
            .len(),
        1
    );
}

fn approval_card(out_track_id: &str) -> CreateAndDeliverCard {
    CreateAndDeliverCard::to_user(
        "8aebdfb9-28f4-4a98-98f5-396c3dde41a0.schema",
        out_track_id,
        "mgr001",
        CallbackType::Stream,
        CardData::new([
            ("title", "Discount request: ACME Ltd"),
            ("status", "pending"),
        ]),
    )
}

#[tokio::test]
async fn a_card_is_created_and_delivered_to_a_user_through_the_robot() {
    let fake = fake_with_members().await;

    let delivered = client(&fake)
        .create_and_deliver_card(&approval_card("approval-1-step-1"))
        .await
        .unwrap();

    assert!(delivered.success);
    assert!(delivered.failed().is_empty());
    assert_eq!(delivered.result.out_track_id, "approval-1-step-1");
    let result = &delivered.result.deliver_results[0];
    assert_eq!(
        (result.space_type.as_str(), result.space_id.as_str()),
        ("IM_ROBOT", "mgr001")
    );
    assert!(result.carrier_id.is_some());
    let card = fake.card("approval-1-step-1").unwrap();
    assert_eq!(card.spaces, [("IM_ROBOT".to_owned(), "mgr001".to_owned())]);
    assert_eq!(card.card_param_map["status"], "pending");
    let request = &fake.requests_to("v1.0/card/instances/createAndDeliver")[0];
    assert!(request.with_token);
    let body = request.body.as_ref().unwrap();
    assert_eq!(body["openSpaceId"], "dtv1.card//IM_ROBOT.mgr001");
    assert_eq!(body["callbackType"], "STREAM");
    assert_eq!(
        body["imRobotOpenDeliverModel"],
        json!({ "spaceType": "IM_ROBOT" })
    );
}

#[tokio::test]
async fn a_card_to_a_group_is_delivered_by_the_app_robot_to_its_recipients() {
    let fake = fake_with_members().await;
    let card = CreateAndDeliverCard::to_group(
        "tpl.schema",
        "approval-2-group",
        "cidAbCdEf==",
        FakeDingtalk::ROBOT_CODE,
        vec!["mgr001".into()],
        CallbackType::Http,
        CardData::new([("status", "pending")]),
    );

    let delivered = client(&fake).create_and_deliver_card(&card).await.unwrap();

    assert!(delivered.failed().is_empty());
    let body = fake.requests_to("v1.0/card/instances/createAndDeliver")[0]
        .body
        .clone()
        .unwrap();
    assert_eq!(body["openSpaceId"], "dtv1.card//IM_GROUP.cidAbCdEf==");
    assert_eq!(
        body["imGroupOpenDeliverModel"]["recipients"],
        json!(["mgr001"])
    );
    assert_eq!(
        body["imGroupOpenSpaceModel"],
        json!({ "supportForward": false })
    );
}

#[tokio::test]
async fn a_card_to_an_unknown_user_reports_a_failed_delivery() {
    let fake = fake_with_members().await;
    let mut card = approval_card("approval-3");
    card.open_space_id = "dtv1.card//IM_ROBOT.nobody".into();

    let delivered = client(&fake).create_and_deliver_card(&card).await.unwrap();

    assert_eq!(delivered.failed().len(), 1);
}

#[tokio::test]
async fn a_reused_out_track_id_is_a_non_retryable_parameter_error() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    client
        .create_and_deliver_card(&approval_card("dup"))
        .await
        .unwrap();

    let err = client
        .create_and_deliver_card(&approval_card("dup"))
        .await
        .unwrap_err();

    assert_eq!(err.code(), Some("param.cardAlreadyExist"));
    assert_eq!(err.status(), Some(400));
    assert!(!err.retryable());
    assert_eq!(
        fake.requests_to("v1.0/card/instances/createAndDeliver")
            .len(),
        2
    );
}

#[tokio::test]
async fn a_card_update_merges_the_given_keys_and_keeps_the_others() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    client
        .create_and_deliver_card(&approval_card("approval-4"))
        .await
        .unwrap();
    let mut update = UpdateCard::merge("approval-4", CardData::new([("status", "approved")]));
    update.private_data = Some(BTreeMap::from([(
        "mgr001".to_owned(),
        CardData::new([("myDecision", "approved")]),
    )]));

    let updated = client.update_card(&update).await.unwrap();

    assert!(updated.success && updated.result);
    let card = fake.card("approval-4").unwrap();
    assert_eq!(card.card_param_map["status"], "approved");
    assert_eq!(card.card_param_map["title"], "Discount request: ACME Ltd");
    assert_eq!(card.private_data["mgr001"]["myDecision"], "approved");
    let request = &fake.requests_to(CARD_INSTANCES)[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(
        request.body.as_ref().unwrap()["cardUpdateOptions"],
        json!({ "updateCardDataByKey": true, "updatePrivateDataByKey": true })
    );
}

#[tokio::test]
async fn robot_one_to_one_messages_carry_msg_param_as_json_text_and_list_unknown_users() {
    let fake = fake_with_members().await;
    let message = RobotMessage::ActionCard {
        title: "Overdue: ACME follow-up".into(),
        text: "**Rep:** Zhang San".into(),
        single_title: "Open task".into(),
        single_url: "https://crm.example.com/tasks/42".into(),
    };
    let messages = OtoMessages::new(
        FakeDingtalk::ROBOT_CODE,
        vec!["mgr001".into(), "ghost".into()],
        &message,
    );

    let sent = client(&fake).send_robot_messages(&messages).await.unwrap();

    assert_eq!(sent.invalid_staff_id_list, ["ghost"]);
    assert!(sent.flow_controlled_staff_id_list.is_empty());
    let recorded = &fake.robot_messages()[0];
    assert_eq!(recorded.process_query_key, sent.process_query_key);
    assert_eq!(recorded.user_ids, ["mgr001"]);
    assert_eq!(recorded.msg_key, "sampleActionCard");
    assert_eq!(
        recorded.msg_param["singleURL"],
        "https://crm.example.com/tasks/42"
    );
    let body = fake.requests_to("v1.0/robot/oToMessages/batchSend")[0]
        .body
        .clone()
        .unwrap();
    assert!(body["msgParam"].is_string());
}

#[tokio::test]
async fn a_robot_group_message_reaches_the_group() {
    let fake = fake_with_members().await;
    let message = RobotMessage::Markdown {
        title: "Idle deals".into(),
        text: "- ACME Ltd".into(),
    };
    let group = GroupMessage::new(FakeDingtalk::ROBOT_CODE, "cidAbCdEf==", &message);

    let sent = client(&fake).send_group_message(&group).await.unwrap();

    let recorded = &fake.robot_messages()[0];
    assert_eq!(recorded.process_query_key, sent.process_query_key);
    assert_eq!(
        recorded.open_conversation_id.as_deref(),
        Some("cidAbCdEf==")
    );
    assert_eq!(
        recorded.msg_param,
        json!({ "title": "Idle deals", "text": "- ACME Ltd" })
    );
}

#[tokio::test]
async fn a_robot_message_from_an_unknown_robot_is_refused_with_its_code() {
    let fake = fake_with_members().await;
    let message = RobotMessage::Text {
        content: "hi".into(),
    };
    let group = GroupMessage::new("dingunknownrobot", "cidAbCdEf==", &message);

    let err = client(&fake).send_group_message(&group).await.unwrap_err();

    assert_eq!(err.code(), Some("invalidParameter.robotCode.notExsit"));
    assert!(fake.robot_messages().is_empty());
}

#[tokio::test]
async fn user_get_reads_the_manager_and_departments_even_from_a_string_list() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    let rep = client.get_user("rep001").await.unwrap();
    let manager = client.get_user("mgr001").await.unwrap();

    assert_eq!(rep.manager_userid.as_deref(), Some("mgr001"));
    assert_eq!(rep.dept_id_list, [2]);
    assert_eq!(rep.leader_in_dept[0].dept_id, Some(2));
    assert_eq!(rep.active, Some(true));
    assert_eq!(manager.manager_userid, None);
    assert_eq!(manager.dept_id_list, [2, 1]);
    let body = fake.requests_to(USER_GET)[0].body.clone().unwrap();
    assert_eq!(body, json!({ "userid": "rep001", "language": "zh_CN" }));
}

#[tokio::test]
async fn an_unknown_user_is_errcode_60121_and_not_retried() {
    let fake = fake_with_members().await;

    let err = client(&fake).get_user("nobody").await.unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::USER_NOT_FOUND));
    assert!(!err.retryable() && !err.is_token_error());
    assert_eq!(fake.requests_to(USER_GET).len(), 1);
}

#[tokio::test]
async fn department_get_reads_the_managers_and_the_parent() {
    let fake = fake_with_members().await;

    let department = client(&fake).get_department(2).await.unwrap();

    assert_eq!(department.name, "East sales");
    assert_eq!(department.parent_id, Some(1));
    assert_eq!(department.dept_manager_userid_list, ["mgr001"]);
}
