//! The three shapes of dingtalk.md §3 parse; keys follow §3.5.

use super::*;

#[test]
fn current_http_events_are_keyed_by_event_id() {
    let e = DingEvent::parse(r#"{ "EventType": "user_modify_org", "EventTime": 1717000000000, "CorpId": "dingxxxxxxxx",
        "BizId": "1717000000000", "eventId": "0a1b2c3d4e5f", "timeStamp": "1717000000000", "userId": ["rep001"],
        "diffInfo": { "userid": "rep001", "prev": { "managerUserid": "mgr001" }, "curr": { "managerUserid": "mgr002" } } }"#).unwrap();
    assert_eq!(
        (e.kind().as_str(), e.dedupe_key().as_str()),
        ("dingtalk.user_modify_org", "evt:0a1b2c3d4e5f")
    );
    assert_eq!(e.ids("UserId"), ["rep001"]);
    assert_eq!(e.text("corpid").as_deref(), Some("dingxxxxxxxx"));
    assert_eq!(e.text("EventTime").as_deref(), Some("1717000000000"));
    assert!(!e.is_check_url());
}

#[test]
fn legacy_events_get_a_stable_hash_of_their_identifying_fields() {
    let a = DingEvent::parse(r#"{"EventType":"user_add_org","TimeStamp":"1717000000000","CorpId":"dingxxxxxxxx","UserId":["rep002","rep001"]}"#).unwrap();
    let reordered = DingEvent::parse(r#"{"UserId":["rep001","rep002"],"CorpId":"dingxxxxxxxx","TimeStamp":1717000000000,"EventType":"user_add_org"}"#).unwrap();
    let other = DingEvent::parse(r#"{"EventType":"user_add_org","TimeStamp":"1717000000000","CorpId":"dingxxxxxxxx","UserId":["rep003"]}"#).unwrap();
    assert_eq!(a.dedupe_key(), reordered.dedupe_key());
    assert_ne!(a.dedupe_key(), other.dedupe_key());
    assert!(a.dedupe_key().starts_with("legacy:user_add_org:"));
}

#[test]
fn approval_events_and_check_url_parse() {
    let e = DingEvent::parse(r#"{ "EventType": "bpms_task_change", "EventTime": 1717000000000, "CorpId": "dingxxxxxxxx",
        "eventId": "5e6f7a8b", "processInstanceId": "a1b2", "type": "finish", "result": "agree", "staffId": "mgr001", "taskId": 811165 }"#).unwrap();
    assert_eq!(e.text("taskId").as_deref(), Some("811165"));
    assert_eq!(e.text("result").as_deref(), Some("agree"));
    assert!(
        DingEvent::parse(r#"{"EventType":"check_url"}"#)
            .unwrap()
            .is_check_url()
    );
}

#[test]
fn malformed_events_are_errors() {
    assert_eq!(
        DingEvent::parse(r#"{"eventId":"x"}"#),
        Err(EventError::NoType)
    );
    for bad in ["", "[]", "\"check_url\"", "{", "{\"EventType\":7.5e999}"] {
        assert!(DingEvent::parse(bad).is_err(), "{bad}");
    }
}
