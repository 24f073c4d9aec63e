//! Each documented callback shape parses into its typed event; dedupe keys are stable across
//! retries and distinct across different events.

use super::*;

fn parse(xml: &str) -> Callback {
    Callback::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"))
}

fn contact(change: &str, extra: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[wwexamplecorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1717200000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>\
         <UserID><![CDATA[alice]]></UserID><ExternalUserID><![CDATA[wmEXAMPLEcustomer000000000001]]></ExternalUserID>{extra}</xml>"
    )
}

#[test]
fn add_external_contact_carries_state_and_welcome_code() {
    let cb = parse(&contact(
        "add_external_contact",
        "<State><![CDATA[expo2024]]></State><WelcomeCode><![CDATA[EXAMPLE_WELCOME_CODE]]></WelcomeCode>",
    ));
    assert_eq!(
        cb.kind(),
        "wecom.change_external_contact.add_external_contact"
    );
    assert_eq!(
        (
            cb.to_user_name.as_str(),
            cb.from_user_name.as_str(),
            cb.create_time
        ),
        ("wwexamplecorp", "sys", 1717200000)
    );
    let Event::ExternalContact(c) = &cb.event else {
        panic!("{cb:?}")
    };
    assert_eq!(c.user_id, "alice");
    assert_eq!(c.external_user_id, "wmEXAMPLEcustomer000000000001");
    assert_eq!(c.state.as_deref(), Some("expo2024"));
    assert_eq!(c.welcome_code.as_deref(), Some("EXAMPLE_WELCOME_CODE"));
    assert!(cb.is_urgent());
}

#[test]
fn every_change_type_of_external_contact_parses() {
    for (change, extra, check) in [
        ("edit_external_contact", "", None),
        (
            "add_half_external_contact",
            "<State>s</State><WelcomeCode>W</WelcomeCode>",
            Some(("welcome", "W")),
        ),
        (
            "del_external_contact",
            "<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>",
            Some(("source", "DELETE_BY_TRANSFER")),
        ),
        ("del_follow_user", "", None),
        (
            "transfer_fail",
            "<FailReason><![CDATA[customer_refused]]></FailReason>",
            Some(("fail", "customer_refused")),
        ),
        (
            "msg_audit_approved",
            "<WelcomeCode>X</WelcomeCode>",
            Some(("welcome", "X")),
        ),
    ] {
        let cb = parse(&contact(change, extra));
        let Event::ExternalContact(c) = &cb.event else {
            panic!()
        };
        assert_eq!(c.change_type, change);
        match check {
            Some(("welcome", v)) => assert_eq!(c.welcome_code.as_deref(), Some(v)),
            Some(("source", v)) => assert_eq!(c.source.as_deref(), Some(v)),
            Some(("fail", v)) => assert_eq!(c.fail_reason.as_deref(), Some(v)),
            _ => assert!(c.welcome_code.is_none() && c.source.is_none() && c.fail_reason.is_none()),
        }
        assert_eq!(cb.kind(), format!("wecom.change_external_contact.{change}"));
    }
}

fn chat(change: &str, extra: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[wwexamplecorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1717200300</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrEXAMPLEgroup0000000000001]]></ChatId>\
         <ChangeType><![CDATA[{change}]]></ChangeType>{extra}</xml>"
    )
}

#[test]
fn group_membership_change_carries_members_and_versions() {
    let cb = parse(&chat(
        "update",
        "<UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><QuitScene>0</QuitScene>\
         <MemChangeCnt>2</MemChangeCnt><MemChangeList>\n<Item><![CDATA[wmA]]></Item>\n<Item><![CDATA[wmB]]></Item>\n</MemChangeList>\
         <LastMemVer><![CDATA[3f2a]]></LastMemVer><CurMemVer>9a8b</CurMemVer>",
    ));
    let Event::ExternalChat(c) = &cb.event else {
        panic!()
    };
    assert_eq!(c.update_detail.as_deref(), Some("add_member"));
    assert_eq!(
        (c.join_scene, c.quit_scene, c.mem_change_cnt),
        (Some(3), Some(0), Some(2))
    );
    assert_eq!(c.mem_change_list, ["wmA", "wmB"]);
    assert_eq!(
        (c.last_mem_ver.as_deref(), c.cur_mem_ver.as_deref()),
        (Some("3f2a"), Some("9a8b"))
    );
    assert_eq!(cb.kind(), "wecom.change_external_chat.update");
}

#[test]
fn every_group_change_parses_and_the_comma_member_list_too() {
    for detail in [
        "add_member",
        "del_member",
        "change_owner",
        "change_name",
        "change_notice",
    ] {
        let cb = parse(&chat(
            "update",
            &format!("<UpdateDetail>{detail}</UpdateDetail>"),
        ));
        let Event::ExternalChat(c) = &cb.event else {
            panic!()
        };
        assert_eq!(c.update_detail.as_deref(), Some(detail));
        assert!(c.mem_change_list.is_empty());
    }
    for change in ["create", "dismiss"] {
        let Event::ExternalChat(c) = parse(&chat(change, "")).event else {
            panic!()
        };
        assert_eq!(c.change_type, change);
    }
    let Event::ExternalChat(c) = parse(&chat("update", "<UpdateDetail>del_member</UpdateDetail><QuitScene>1</QuitScene><MemChangeList>wmA, wmB</MemChangeList>")).event else { panic!() };
    assert_eq!(
        (c.quit_scene, c.mem_change_list),
        (Some(1), vec!["wmA".to_string(), "wmB".to_string()])
    );
}

#[test]
fn tag_changes_parse_including_an_empty_shuffle() {
    for change in ["create", "update", "delete"] {
        let xml = format!(
            "<xml><ToUserName>ww</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>\
             <Event>change_external_tag</Event><Id><![CDATA[etTAG]]></Id><TagType><![CDATA[tag]]></TagType><ChangeType>{change}</ChangeType><StrategyId>7</StrategyId></xml>"
        );
        let Event::ExternalTag(t) = parse(&xml).event else {
            panic!()
        };
        assert_eq!(
            (
                t.change_type.as_str(),
                t.id.as_str(),
                t.tag_type.as_deref(),
                t.strategy_id.as_deref()
            ),
            (change, "etTAG", Some("tag"), Some("7"))
        );
    }
    let xml = "<xml><ToUserName>ww</ToUserName><FromUserName>sys</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>change_external_tag</Event><Id></Id><ChangeType>shuffle</ChangeType></xml>";
    let Event::ExternalTag(t) = parse(xml).event else {
        panic!()
    };
    assert_eq!((t.change_type.as_str(), t.id.as_str()), ("shuffle", ""));
}

const CARD_TAP: &str = "<xml><ToUserName><![CDATA[wwexamplecorp]]></ToUserName><FromUserName><![CDATA[dave]]></FromUserName>\
    <CreateTime>1717201000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>\
    <EventKey><![CDATA[approve]]></EventKey><TaskId><![CDATA[appr-D1024-1]]></TaskId><CardType><![CDATA[button_interaction]]></CardType>\
    <ResponseCode><![CDATA[EXAMPLE_CLICK_RESPONSE_CODE]]></ResponseCode><AgentID>1000002</AgentID>\
    <SelectedItems><SelectedItem><QuestionKey><![CDATA[region]]></QuestionKey><OptionIds><OptionId><![CDATA[east]]></OptionId><OptionId>north</OptionId></OptionIds></SelectedItem></SelectedItems></xml>";

#[test]
fn card_taps_carry_the_tapper_task_key_and_response_code() {
    let cb = parse(CARD_TAP);
    assert_eq!(cb.kind(), "wecom.template_card_event");
    assert_eq!(cb.agent_id.as_deref(), Some("1000002"));
    let Event::TemplateCard(tap) = &cb.event else {
        panic!()
    };
    assert_eq!(
        (
            tap.user_id.as_str(),
            tap.event_key.as_str(),
            tap.task_id.as_str()
        ),
        ("dave", "approve", "appr-D1024-1")
    );
    assert_eq!(
        tap.response_code.as_deref(),
        Some("EXAMPLE_CLICK_RESPONSE_CODE")
    );
    assert_eq!(
        tap.selected_items,
        [SelectedItem {
            question_key: "region".into(),
            option_ids: vec!["east".into(), "north".into()]
        }]
    );
    assert!(cb.is_urgent());
    let menu = parse(&CARD_TAP.replace("template_card_event", "template_card_menu_event"));
    assert!(matches!(menu.event, Event::TemplateCardMenu(_)));
    assert_eq!(menu.kind(), "wecom.template_card_menu_event");
}

#[test]
fn text_messages_and_enter_agent_parse() {
    let text = "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>";
    let cb = parse(text);
    assert_eq!(
        cb.event,
        Event::Text(TextMessage {
            user_id: "ChenJiaShun".into(),
            content: "你好".into(),
            msg_id: "1456453720".into()
        })
    );
    assert_eq!(
        (cb.kind().as_str(), cb.dedupe_key.as_str()),
        ("wecom.text", "msg:1456453720")
    );
    let enter = "<xml><ToUserName>ww</ToUserName><FromUserName>bob</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>1</AgentID></xml>";
    let cb = parse(enter);
    assert_eq!(
        (cb.event.clone(), cb.kind()),
        (
            Event::EnterAgent { event_key: None },
            "wecom.enter_agent".to_string()
        )
    );
}

#[test]
fn unmodelled_events_are_kept_with_their_type_names() {
    let xml = "<xml><ToUserName>ww</ToUserName><FromUserName>bob</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>change_contact</Event><ChangeType>update_user</ChangeType><UserID>bob</UserID></xml>";
    let cb = parse(xml);
    assert_eq!(
        cb.event,
        Event::Other {
            msg_type: "event".into(),
            event: Some("change_contact".into())
        }
    );
    assert_eq!(cb.kind(), "wecom.change_contact");
    let image = "<xml><ToUserName>ww</ToUserName><FromUserName>bob</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>u</PicUrl><MsgId>99</MsgId></xml>";
    let cb = parse(image);
    assert_eq!(
        (cb.kind().as_str(), cb.dedupe_key.as_str()),
        ("wecom.image", "msg:99")
    );
}

#[test]
fn malformed_or_incomplete_callbacks_are_errors() {
    assert_eq!(
        Callback::parse(
            &contact("add_external_contact", "").replace("<UserID><![CDATA[alice]]></UserID>", "")
        ),
        Err(EventError::Missing("UserID"))
    );
    assert_eq!(
        Callback::parse(&contact("add_external_contact", "").replace("1717200000", "soon")),
        Err(EventError::NotANumber("CreateTime"))
    );
    assert_eq!(
        Callback::parse(&chat("update", "<JoinScene>x</JoinScene>")),
        Err(EventError::NotANumber("JoinScene"))
    );
    assert_eq!(
        Callback::parse(
            "<!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><Content>&e;</Content></xml>"
        ),
        Err(EventError::Xml(XmlError::Dtd))
    );
    for bad in [
        "",
        "<xml>",
        "<xml><MsgType>text</MsgType>",
        "plain",
        "<xml><ToUserName>a</ToUserName></xml>",
        "<xml><Content>&unknown;</Content></xml>",
    ] {
        assert!(Callback::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn dedupe_keys_collapse_retries_and_separate_distinct_events() {
    let a = contact("add_external_contact", "<State>s</State>");
    assert_eq!(parse(&a).dedupe_key, parse(&a).dedupe_key);
    // Whitespace and CDATA differences in a retry do not matter.
    let respaced = a.replace("<State>s</State>", "<State><![CDATA[ s ]]></State>\n");
    assert_eq!(parse(&a).dedupe_key, parse(&respaced).dedupe_key);
    // Same second, same sender `sys`, different customer: different keys.
    let other_customer = a.replace("customer000000000001", "customer000000000002");
    let other_type = contact("edit_external_contact", "<State>s</State>");
    let mut keys: Vec<String> = [&a, &other_customer, &other_type]
        .iter()
        .map(|x| parse(x).dedupe_key)
        .collect();
    // Two taps of one card by one user are different callbacks when the response code differs.
    keys.push(parse(CARD_TAP).dedupe_key);
    keys.push(parse(&CARD_TAP.replace("EXAMPLE_CLICK_RESPONSE_CODE", "OTHER_CODE")).dedupe_key);
    // Two membership changes of one group in the same second differ by version.
    keys.push(
        parse(&chat(
            "update",
            "<UpdateDetail>add_member</UpdateDetail><CurMemVer>1</CurMemVer>",
        ))
        .dedupe_key,
    );
    keys.push(
        parse(&chat(
            "update",
            "<UpdateDetail>add_member</UpdateDetail><CurMemVer>2</CurMemVer>",
        ))
        .dedupe_key,
    );
    let unique: std::collections::HashSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:#?}");
    assert!(keys.iter().all(|k| k.len() <= 255 && k.starts_with("evt:")));
    assert!(keys[0].starts_with("evt:change_external_contact:"));
}

#[test]
fn events_serialize_to_json_for_the_inbox() {
    let json = serde_json::to_value(parse(CARD_TAP)).unwrap();
    assert_eq!(json["event"]["type"], "template_card");
    assert_eq!(json["event"]["task_id"], "appr-D1024-1");
    assert_eq!(json["from_user_name"], "dave");
}

#[test]
fn an_over_long_multibyte_msg_id_is_cut_on_a_character_boundary() {
    let id = "你".repeat(100);
    let xml = format!(
        "<xml><ToUserName>ww</ToUserName><FromUserName>bob</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>{id}</MsgId></xml>"
    );
    let key = parse(&xml).dedupe_key;
    assert!(key.len() <= 255 && key.starts_with("msg:你"), "{key}");
}
