//! Every endpoint's typed request and response against the fake, including the errcodes
//! that must not be retried.

use salesbot_wecom::api::{
    AddContactWay, AddCorpTag, Attachment, Button, CardAction, CardUpdate, CorpTagFilter,
    HorizontalContent, Link, MarkTag, MessageContent, SendMessage, TemplateCard,
    UpdateTemplateCard, WelcomeMessage, errcode,
};

use super::*;

#[tokio::test]
async fn a_text_message_is_sent_with_its_msgid_and_invalid_recipients_listed() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    let message = SendMessage::new(AGENT, MessageContent::text("Lead assigned to you"))
        .to_users(["alice", "Carol"]);
    let sent = client.send_message(&message).await.unwrap();

    assert_eq!(sent.invaliduser, vec!["carol"]);
    assert!(sent.invalidparty.is_empty() && sent.unlicenseduser.is_empty());
    assert_eq!(sent.response_code, None);
    let delivered = fake.take_messages();
    assert_eq!(delivered.len(), 1);
    assert_eq!(sent.msgid.as_deref(), Some(delivered[0].msgid.as_str()));
    assert_eq!(delivered[0].recipients, vec!["alice"]);
    assert_eq!(
        delivered[0].body,
        json!({ "touser": "alice|Carol", "agentid": AGENT, "msgtype": "text",
                "text": { "content": "Lead assigned to you" } })
    );
    fake.assert_all_messages_read();
}

#[tokio::test]
async fn a_markdown_message_is_sent_as_markdown() {
    let fake = fake_with_members().await;
    let message =
        SendMessage::new(AGENT, MessageContent::markdown("**Hot** lead")).to_users(["bob"]);

    client(&fake).send_message(&message).await.unwrap();

    let delivered = fake.take_messages();
    assert_eq!(delivered[0].msgtype(), Some("markdown"));
    assert_eq!(delivered[0].content(), Some("**Hot** lead"));
}

#[tokio::test]
async fn a_text_notice_card_is_sent_in_the_documented_shape_without_a_response_code() {
    let fake = fake_with_members().await;
    let mut card = TemplateCard::text_notice(
        "Lead assigned to you",
        CardAction::url("https://example.com/leads/L-77"),
    );
    card.sub_title_text = Some("Example Trading Co. · via expo2024".into());
    let message = SendMessage::new(AGENT, MessageContent::template_card(card)).to_users(["bob"]);

    let sent = client(&fake).send_message(&message).await.unwrap();

    assert_eq!(sent.response_code, None);
    assert_eq!(
        fake.take_messages()[0].body["template_card"],
        json!({
            "card_type": "text_notice",
            "main_title": { "title": "Lead assigned to you" },
            "sub_title_text": "Example Trading Co. · via expo2024",
            "card_action": { "type": 1, "url": "https://example.com/leads/L-77" },
        })
    );
}

#[tokio::test]
async fn a_button_card_returns_a_response_code_that_updates_the_card_exactly_once() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    let mut card = TemplateCard::button_interaction(
        "appr-D1024-1",
        "Discount approval",
        vec![
            Button::callback("Approve", "approve").with_style(1),
            Button::callback("Reject", "reject").with_style(2),
        ],
    );
    card.horizontal_content_list = vec![HorizontalContent::text("Customer", "Example Trading Co.")];
    let message = SendMessage::new(AGENT, MessageContent::template_card(card))
        .to_users(["dave"])
        .with_duplicate_check(Some(1800));

    let sent = client.send_message(&message).await.unwrap();

    let delivered = fake.take_messages();
    assert_eq!(delivered[0].task_id(), Some("appr-D1024-1"));
    assert_eq!(delivered[0].body["enable_duplicate_check"], json!(1));
    assert_eq!(delivered[0].body["duplicate_check_interval"], json!(1800));
    let code = sent
        .response_code
        .expect("interactive cards get a response_code");
    assert_eq!(delivered[0].response_code.as_deref(), Some(code.as_str()));

    let grey_out = CardUpdate::grey_out("Approved by dave");
    let update =
        UpdateTemplateCard::for_users(AGENT, code, vec!["dave".into(), "zed".into()], grey_out);
    let updated = client.update_template_card(&update).await.unwrap();

    assert_eq!(updated.invaliduser, vec!["zed"]);
    let updates = fake.card_updates();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].msgid, delivered[0].msgid);
    assert_eq!(
        updates[0].body["button"],
        json!({ "replace_name": "Approved by dave" })
    );
    assert_eq!(updates[0].body["userids"], json!(["dave", "zed"]));

    let again = client.update_template_card(&update).await.unwrap_err();
    assert_eq!(again.errcode(), Some(40058));
    assert!(!again.retryable());
    assert_eq!(fake.requests_to("message/update_template_card").len(), 2);
}

#[tokio::test]
async fn a_click_response_code_replaces_the_whole_card_for_everyone() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    let card = TemplateCard::button_interaction(
        "appr-D1025-1",
        "Discount approval",
        vec![Button::callback("Approve", "approve")],
    );
    let sent = client
        .send_message(
            &SendMessage::new(AGENT, MessageContent::template_card(card)).to_users(["dave"]),
        )
        .await
        .unwrap();
    let click_code = fake
        .click_response_code(sent.msgid.as_deref().unwrap())
        .unwrap();

    let mut replacement = TemplateCard::button_interaction(
        "appr-D1025-1",
        "Discount approval",
        vec![Button::callback("Approve", "approve")],
    );
    replacement.replace_text = Some("Approved".into());
    let update =
        UpdateTemplateCard::for_everyone(AGENT, click_code, CardUpdate::replace_card(replacement));
    let updated = client.update_template_card(&update).await.unwrap();

    assert!(updated.invaliduser.is_empty());
    let body = &fake.card_updates()[0].body;
    assert_eq!(body["atall"], json!(1));
    assert_eq!(body["template_card"]["replace_text"], json!("Approved"));
    fake.take_messages();
}

#[tokio::test]
async fn a_duplicate_checked_resend_is_not_delivered_twice() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    let message = SendMessage::new(AGENT, MessageContent::text("Reminder"))
        .to_users(["alice"])
        .with_duplicate_check(None);

    let first = client.send_message(&message).await.unwrap();
    let second = client.send_message(&message).await.unwrap();

    assert_eq!(first.msgid, second.msgid);
    assert_eq!(fake.requests_to("message/send").len(), 2);
    assert_eq!(fake.take_messages().len(), 1);
}

#[tokio::test]
async fn a_send_to_only_unknown_users_fails_with_81013_and_is_not_retried() {
    let fake = fake_with_members().await;
    let message = SendMessage::new(AGENT, MessageContent::text("hello")).to_users(["ghost"]);

    let err = client(&fake).send_message(&message).await.unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::ALL_RECIPIENTS_INVALID));
    assert!(!err.retryable() && !err.is_token_error());
    assert_eq!(errcodes(&fake, "message/send"), vec![Some(81013)]);
    assert!(fake.sent_messages().is_empty());
}

#[tokio::test]
async fn a_registered_customer_comes_back_typed_from_externalcontact_get() {
    let fake = FakeWecom::start().await;
    fake.add_external_contact(json!({
        "external_contact": {
            "external_userid": "wmEXAMPLEcustomer000000000001", "name": "Zhang San",
            "avatar": "https://example.com/a.png", "type": 1, "gender": 1,
            "unionid": "oEXAMPLEunionid", "some_future_field": true,
        },
        "follow_user": [{
            "userid": "alice", "remark": "Zhang (expo)", "description": "", "createtime": 1717200000,
            "tags": [{ "group_name": "Stage", "tag_name": "Hot", "tag_id": "etEXAMPLEtag01", "type": 1 }],
            "remark_corp_name": "", "remark_mobiles": [],
            "oper_userid": "wmEXAMPLEcustomer000000000001", "add_way": 1, "state": "expo2024",
        }],
    }));

    let detail = client(&fake)
        .get_external_contact("wmEXAMPLEcustomer000000000001", None)
        .await
        .unwrap();

    assert_eq!(detail.external_contact.name.as_deref(), Some("Zhang San"));
    assert_eq!(detail.external_contact.kind, Some(1));
    assert_eq!(detail.follow_user[0].state.as_deref(), Some("expo2024"));
    assert_eq!(detail.follow_user[0].add_way, Some(1));
    assert_eq!(
        detail.follow_user[0].tags[0].tag_id.as_deref(),
        Some("etEXAMPLEtag01")
    );
    let request = &fake.requests_to("externalcontact/get")[0];
    assert_eq!(
        request.query["external_userid"],
        "wmEXAMPLEcustomer000000000001"
    );
}

#[tokio::test]
async fn an_unknown_customer_is_a_non_retryable_40096() {
    let fake = FakeWecom::start().await;

    let err = client(&fake)
        .get_external_contact("wmNOBODY", None)
        .await
        .unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::INVALID_EXTERNAL_USERID));
    assert_eq!(fake.requests_to("externalcontact/get").len(), 1);
}

#[tokio::test]
async fn corp_tags_created_by_add_corp_tag_show_in_the_tag_list() {
    let fake = FakeWecom::start().await;
    let client = client(&fake);

    let stage = client
        .add_corp_tag(&AddCorpTag::in_group_named("Stage", ["Hot", "Cold", "Hot"]))
        .await
        .unwrap();
    let region = client
        .add_corp_tag(&AddCorpTag::in_group_named("Region", ["East"]))
        .await
        .unwrap();
    let more = client
        .add_corp_tag(&AddCorpTag {
            group_id: Some(stage.group_id.clone()),
            ..AddCorpTag::in_group_named("ignored", ["Warm"])
        })
        .await
        .unwrap();

    assert_eq!(stage.group_name, "Stage");
    let names: Vec<_> = stage.tag.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Hot", "Cold"]);
    assert_eq!(more.group_id, stage.group_id);
    let all = client
        .get_corp_tag_list(&CorpTagFilter::all())
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].tag.len(), 3);
    assert_eq!(all[0].deleted, None);
    let by_group = client
        .get_corp_tag_list(&CorpTagFilter {
            group_id: vec![region.group_id.clone()],
            tag_id: vec![stage.tag[0].id.clone()],
        })
        .await
        .unwrap();
    assert_eq!(by_group.len(), 1);
    assert_eq!(by_group[0].tag[0].name, "East");
    assert_eq!(by_group[0].deleted, Some(false));
}

#[tokio::test]
async fn mark_tag_puts_a_corp_tag_on_the_members_customer() {
    let fake = FakeWecom::start().await;
    fake.add_external_contact(json!({
        "external_contact": { "external_userid": "wmC1", "name": "Zhang San", "type": 1 },
        "follow_user": [{ "userid": "alice", "tags": [] }],
    }));
    let client = client(&fake);
    let group = client
        .add_corp_tag(&AddCorpTag::in_group_named("Stage", ["Hot"]))
        .await
        .unwrap();
    let hot = group.tag[0].id.clone();

    client
        .mark_tag(&MarkTag {
            userid: "alice".into(),
            external_userid: "wmC1".into(),
            add_tag: vec![hot.clone()],
            remove_tag: vec![],
        })
        .await
        .unwrap();

    let detail = client.get_external_contact("wmC1", None).await.unwrap();
    let tag = &detail.follow_user[0].tags[0];
    assert_eq!(tag.tag_id.as_deref(), Some(hot.as_str()));
    assert_eq!(tag.tag_name.as_deref(), Some("Hot"));
    assert_eq!(tag.group_name.as_deref(), Some("Stage"));
    assert_eq!(
        fake.requests_to("externalcontact/mark_tag")[0].body,
        Some(json!({ "userid": "alice", "external_userid": "wmC1", "add_tag": [hot] }))
    );
    let not_theirs = MarkTag {
        userid: "bob".into(),
        external_userid: "wmC1".into(),
        add_tag: vec![group.tag[0].id.clone()],
        remove_tag: vec![],
    };
    let err = client.mark_tag(&not_theirs).await.unwrap_err();
    assert_eq!(err.errcode(), Some(errcode::NO_RELATIONSHIP));
}

#[tokio::test]
async fn a_contact_way_answers_its_config_id_and_qr_code() {
    let fake = fake_with_members().await;
    let request = AddContactWay {
        remark: Some("Expo 2024 booth".into()),
        skip_verify: Some(true),
        ..AddContactWay::qr_code("alice", "expo2024")
    };

    let way = client(&fake).add_contact_way(&request).await.unwrap();

    let created = fake.contact_ways();
    assert_eq!(way.config_id, created[0].config_id);
    assert_eq!(way.qr_code.as_deref(), Some(created[0].qr_code.as_str()));
    assert_eq!(
        created[0].body,
        json!({ "type": 1, "scene": 2, "remark": "Expo 2024 booth", "skip_verify": true,
                "state": "expo2024", "user": ["alice"] })
    );
}

#[tokio::test]
async fn a_group_chat_has_member_names_only_when_asked() {
    let fake = FakeWecom::start().await;
    fake.add_group_chat(json!({
        "chat_id": "wrEXAMPLEgroup0000000000001", "name": "Example Trading Co. × Sales",
        "owner": "alice", "create_time": 1717000000, "notice": "",
        "member_list": [
            { "userid": "alice", "type": 1, "join_time": 1717000000, "join_scene": 1,
              "invitor": { "userid": "alice" }, "group_nickname": "", "name": "Alice" },
            { "userid": "wmEXAMPLEcustomer000000000001", "type": 2, "unionid": "oEXAMPLEunionid",
              "join_time": 1717200300, "join_scene": 3, "group_nickname": "", "name": "Zhang San" },
        ],
        "admin_list": [{ "userid": "bob" }],
        "member_version": "9a8b7c6d5e4f30211203f4e5d6c7b8a9",
    }));
    let client = client(&fake);

    let named = client
        .get_group_chat("wrEXAMPLEgroup0000000000001", true)
        .await
        .unwrap();
    let unnamed = client
        .get_group_chat("wrEXAMPLEgroup0000000000001", false)
        .await
        .unwrap();

    assert_eq!(named.owner.as_deref(), Some("alice"));
    assert_eq!(named.member_list[1].kind, Some(2));
    assert_eq!(
        named.member_list[0].invitor.as_ref().unwrap().userid,
        "alice"
    );
    assert_eq!(named.member_list[1].invitor, None);
    assert_eq!(named.member_list[1].name.as_deref(), Some("Zhang San"));
    assert_eq!(unnamed.member_list[1].name, None);
    assert_eq!(named.admin_list[0].userid, "bob");
    let bodies: Vec<_> = fake
        .requests_to("externalcontact/groupchat/get")
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(
        bodies[0],
        Some(json!({ "chat_id": "wrEXAMPLEgroup0000000000001", "need_name": 1 }))
    );
    assert_eq!(
        bodies[1],
        Some(json!({ "chat_id": "wrEXAMPLEgroup0000000000001", "need_name": 0 }))
    );
}

#[tokio::test]
async fn a_welcome_code_works_once_and_a_second_use_is_a_non_retryable_41051() {
    let fake = FakeWecom::start().await;
    let client = client(&fake);
    let code = fake.issue_welcome_code();
    let welcome = WelcomeMessage {
        attachments: vec![Attachment::Link {
            link: Link {
                title: "Catalogue".into(),
                picurl: Some("https://example.com/c.png".into()),
                desc: Some("2024".into()),
                url: "https://example.com/t/abc".into(),
            },
        }],
        ..WelcomeMessage::text(code.clone(), "Hi, this is Alice.")
    };

    client.send_welcome_msg(&welcome).await.unwrap();
    let err = client.send_welcome_msg(&welcome).await.unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::WELCOME_NOT_ALLOWED));
    assert!(!err.retryable());
    let accepted = fake.welcome_messages();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].welcome_code, code);
    assert_eq!(accepted[0].body["attachments"][0]["msgtype"], json!("link"));
    assert_eq!(
        accepted[0].body["attachments"][0]["link"]["title"],
        json!("Catalogue")
    );
    assert_eq!(
        accepted[0].body["text"],
        json!({ "content": "Hi, this is Alice." })
    );
}

#[tokio::test]
async fn user_get_returns_the_members_direct_leader() {
    let fake = fake_with_members().await;
    let client = client(&fake);

    let alice = client.get_user("alice").await.unwrap();
    let err = client.get_user("nobody").await.unwrap_err();

    assert_eq!(alice.direct_leader, vec!["dave"]);
    assert_eq!(alice.department, vec![2, 5]);
    assert_eq!(alice.main_department, Some(2));
    assert_eq!(alice.status, Some(1));
    assert_eq!(err.errcode(), Some(errcode::USERID_NOT_FOUND));
    assert_eq!(fake.requests_to("user/get")[0].query["userid"], "alice");
}

#[tokio::test]
async fn a_wrong_agentid_is_a_configuration_fault_that_is_not_retried() {
    let fake = fake_with_members().await;
    let message = SendMessage::new(AGENT + 1, MessageContent::text("hi")).to_users(["alice"]);

    let err = client(&fake).send_message(&message).await.unwrap_err();

    assert_eq!(err.errcode(), Some(errcode::INVALID_AGENTID));
    assert_eq!(fake.requests_to("message/send").len(), 1);
}

#[tokio::test]
async fn an_oauth_code_names_the_visitor_once() {
    let fake = fake_with_members().await;
    let client = client(&fake);
    let member = fake.issue_oauth_code(serde_json::json!({ "userid": "alice" }));
    let customer = fake.issue_oauth_code(serde_json::json!({
        "openid": "oEXAMPLEopenid", "external_userid": "wmEXAMPLEcustomer000000000001" }));

    let alice = client.oauth_user(&member).await.unwrap();
    let guest = client.oauth_user(&customer).await.unwrap();
    let again = client.oauth_user(&member).await.unwrap_err();
    let forged = client.oauth_user("forged").await.unwrap_err();

    assert_eq!(alice.userid.as_deref(), Some("alice"));
    assert_eq!(alice.external_userid, None);
    assert_eq!(guest.userid, None);
    assert_eq!(
        guest.external_userid.as_deref(),
        Some("wmEXAMPLEcustomer000000000001")
    );
    assert_eq!(again.errcode(), Some(errcode::INVALID_OAUTH_CODE));
    assert_eq!(forged.errcode(), Some(errcode::INVALID_OAUTH_CODE));
    assert!(
        !again.retryable(),
        "a new round trip is needed, not a retry"
    );
}
