//! Customer groups from `change_external_chat` callbacks, driven through a worker against a fake
//! WeCom on SQLite and PostgreSQL: a created group is read and stored with its members, a
//! membership change that follows on from the stored version is applied as is, any other is
//! read again, a dismissal needs no call, and nothing is recorded twice.

use std::sync::Arc;

use salesbot::{
    config::Secret,
    pipeline::{Handlers, Worker, inbox, worker::Outcome},
    platform::{wecom::WecomApps, wecom_groups},
};
use salesbot_wecom::{
    event::Callback,
    fake::{FakeWecom, Fault},
};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{self, TestDb, on_both_backends};

pub(crate) const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
pub(crate) const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
pub(crate) const CHAT: &str = "wrBuyersGroup0001";
const GET: &str = "externalcontact/groupchat/get";
/// The first callback's CreateTime (Unix seconds).
const T0: i64 = 1_717_200_000;

/// A fake WeCom, a worker with the group handler for tenant `acme`, and the worker's clock.
pub(crate) struct Groups {
    pub(crate) fake: FakeWecom,
    worker: Worker,
    now: i64,
}

impl Groups {
    async fn start(t: &TestDb) -> Self {
        let fake = FakeWecom::start().await;
        let mut config = crate::wecom::wecom_app("acme", TOKEN, KEY, FakeWecom::CORP_ID);
        config.secret = Secret::new(FakeWecom::SECRET);
        config.api_base = fake.base_url().into();
        config.rate_limit_per_minute = 0;
        // The first event fetches (and stores) the access token: WeCom is called before the
        // event's transaction, so that write never waits for it.
        let apps = Arc::new(WecomApps::from_config(&[config], &t.db).unwrap());
        let mut handlers = Handlers::default();
        wecom_groups::register(
            &mut handlers,
            apps,
            Default::default(),
            Default::default(),
            None,
        );
        Self {
            fake,
            worker: helpers::worker(t, "groups", handlers),
            now: 1_800_000_000_000,
        }
    }

    /// Stores the callback in the inbox as the WeCom endpoint would, under `dedupe_suffix`
    /// added to its key when not empty (a replay of the same event).
    async fn deliver(&mut self, t: &TestDb, xml: &str, dedupe_suffix: &str) {
        let callback = Callback::parse(xml).unwrap();
        let mut event = salesbot::platform::wecom::inbox_event("acme", &callback, xml);
        event.dedupe_key.push_str(dedupe_suffix);
        self.now += 1000;
        let stored = inbox::insert(&t.db, &event, self.now).await.unwrap();
        assert!(matches!(stored, inbox::Stored::New(_)), "{stored:?}");
    }

    /// Runs the worker once at its clock.
    async fn run(&mut self) -> Vec<Outcome> {
        self.now += 1000;
        self.worker.run_once(self.now).await.unwrap()
    }

    fn reads(&self) -> usize {
        self.fake.requests_to(GET).len()
    }
}

/// A `change_external_chat` callback raised `seconds` after [`T0`].
fn chat_xml(change_type: &str, seconds: i64, body: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>{time}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{CHAT}]]></ChatId>\
         <ChangeType><![CDATA[{change_type}]]></ChangeType>{body}</xml>",
        corp = FakeWecom::CORP_ID,
        time = T0 + seconds,
    )
}

/// An `update` callback changing membership: `detail` is `add_member` or `del_member`.
fn membership_xml(detail: &str, seconds: i64, ids: &[&str], last: &str, current: &str) -> String {
    let items: String = ids
        .iter()
        .map(|id| format!("<Item><![CDATA[{id}]]></Item>"))
        .collect();
    chat_xml(
        "update",
        seconds,
        &format!(
            "<UpdateDetail><![CDATA[{detail}]]></UpdateDetail><JoinScene>3</JoinScene>\
             <QuitScene>1</QuitScene><MemChangeCnt>{n}</MemChangeCnt>\
             <MemChangeList>{items}</MemChangeList><LastMemVer><![CDATA[{last}]]></LastMemVer>\
             <CurMemVer><![CDATA[{current}]]></CurMemVer>",
            n = ids.len()
        ),
    )
}

/// The group as `groupchat/get` answers it, at `version`, with `members` as
/// `(userid, type, join_time)`.
fn group_chat(name: &str, version: &str, members: &[(&str, u8, i64)]) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|(userid, kind, join_time)| {
            json!({ "userid": userid, "type": kind, "join_time": join_time, "join_scene": 3,
                    "name": format!("name of {userid}") })
        })
        .collect();
    json!({
        "chat_id": CHAT, "name": name, "owner": "alice", "create_time": T0 - 100,
        "notice": "welcome", "member_list": members, "admin_list": [],
        "member_version": version,
    })
}

/// The starting group: its owner alice and one customer.
fn initial_group() -> Value {
    group_chat(
        "Buyers",
        "v1",
        &[("alice", 1, T0 - 100), ("wmCustomer1", 2, T0 - 50)],
    )
}

async fn text(t: &TestDb, sql: &str) -> Option<String> {
    let row =
        t.db.query_one_raw(Statement::from_string(t.db.get_database_backend(), sql))
            .await
            .unwrap()?;
    row.try_get_by_index::<Option<String>>(0).unwrap()
}

/// The timeline of customer `external_userid`, oldest first, as `(kind, at, detail)`.
async fn timeline(t: &TestDb, external_userid: &str) -> Vec<(String, i64, Value)> {
    let sql = format!(
        "SELECT e.kind, e.at, e.detail FROM customer_event e JOIN customer c ON c.id = e.customer_id \
         WHERE c.tenant = 'acme' AND c.external_userid = '{external_userid}' ORDER BY e.id"
    );
    let rows =
        t.db.query_all_raw(Statement::from_string(t.db.get_database_backend(), sql))
            .await
            .unwrap();
    rows.iter()
        .map(|row| {
            let detail: String = row.try_get_by_index(2).unwrap();
            (
                row.try_get_by_index(0).unwrap(),
                row.try_get_by_index(1).unwrap(),
                serde_json::from_str(&detail).unwrap(),
            )
        })
        .collect()
}

/// `left_at` of a member, or `None` while they are in the group.
async fn left_at(t: &TestDb, userid: &str) -> Option<i64> {
    let sql = format!("SELECT left_at FROM group_member WHERE userid = '{userid}'");
    let row =
        t.db.query_one_raw(Statement::from_string(t.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{userid} is not stored"));
    row.try_get_by_index(0).unwrap()
}

/// Delivers `create` and handles it.
pub(crate) async fn created(t: &TestDb) -> Groups {
    let mut g = Groups::start(t).await;
    g.fake.add_group_chat(initial_group());
    g.deliver(t, &chat_xml("create", 0, ""), "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    g
}

async fn create_stores_the_group_its_members_and_a_timeline_entry_per_customer(t: &TestDb) {
    let g = created(t).await;
    let reads = g.fake.requests_to(GET);
    assert_eq!(reads.len(), 1);
    assert_eq!(
        reads[0].body,
        Some(json!({ "chat_id": CHAT, "need_name": 1 }))
    );
    assert_eq!(
        text(t, "SELECT name || '|' || owner || '|' || notice || '|' || member_version || '|' || status FROM group_chat")
            .await
            .as_deref(),
        Some("Buyers|alice|welcome|v1|active")
    );
    assert_eq!(
        t.count("SELECT created_time FROM group_chat").await,
        (T0 - 100) * 1000
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM group_member WHERE left_at IS NULL")
            .await,
        2
    );
    assert_eq!(
        text(
            t,
            "SELECT name FROM group_member WHERE userid = 'wmCustomer1' AND type = 2"
        )
        .await
        .as_deref(),
        Some("name of wmCustomer1")
    );
    // The customer was not known: a bare row now carries the timeline; the owner has none.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM customer WHERE tenant = 'acme'")
            .await,
        1
    );
    assert_eq!(
        timeline(t, "wmCustomer1").await,
        [(
            "joined_group".to_string(),
            (T0 - 50) * 1000,
            json!({ "chat_id": CHAT, "name": "Buyers", "join_scene": 3 })
        )]
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM customer_event WHERE inbox_id IS NULL")
            .await,
        0
    );
    // The customer's join earns the default group_join points; the owner is no lead.
    assert_eq!(
        t.count(
            "SELECT CAST(points AS BIGINT) FROM score_event WHERE kind = 'group_join' \
             AND reason = 'group:wrBuyersGroup0001'"
        )
        .await,
        5
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM score_event").await, 1);
}
on_both_backends!(
    create_stores_the_group_its_members_and_a_timeline_entry_per_customer,
    super::create_stores_the_group_its_members_and_a_timeline_entry_per_customer
);

async fn add_member_following_the_stored_version_is_applied_without_a_read(t: &TestDb) {
    let mut g = created(t).await;
    // A known customer and a colleague join; the colleague gets no timeline.
    t.db.execute_unprepared(
        "INSERT INTO customer (tenant, external_userid, name, created_at, updated_at) \
         VALUES ('acme', 'wmCustomer2', 'Li Si', 1, 1)",
    )
    .await
    .unwrap();
    let xml = membership_xml("add_member", 60, &["wmCustomer2", "bob"], "v1", "v2");
    g.deliver(t, &xml, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);

    assert_eq!(g.reads(), 1, "the change followed on: no second read");
    assert_eq!(
        text(t, "SELECT member_version FROM group_chat")
            .await
            .as_deref(),
        Some("v2")
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM group_member WHERE left_at IS NULL")
            .await,
        4
    );
    assert_eq!(
        t.count("SELECT CAST(type AS BIGINT) FROM group_member WHERE userid = 'bob'")
            .await,
        1
    );
    assert_eq!(
        t.count("SELECT join_time FROM group_member WHERE userid = 'wmCustomer2'")
            .await,
        (T0 + 60) * 1000
    );
    assert_eq!(
        timeline(t, "wmCustomer2").await,
        [(
            "joined_group".to_string(),
            (T0 + 60) * 1000,
            json!({ "chat_id": CHAT, "name": "Buyers", "join_scene": 3 })
        )]
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM customer WHERE external_userid = 'bob'")
            .await,
        0
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM score_event WHERE kind = 'group_join'")
            .await,
        2,
        "wmCustomer1 at the create, wmCustomer2 now; not bob"
    );
}
on_both_backends!(
    add_member_following_the_stored_version_is_applied_without_a_read,
    super::add_member_following_the_stored_version_is_applied_without_a_read
);

async fn changes_out_of_order_read_the_group_and_record_each_change_once(t: &TestDb) {
    let mut g = created(t).await;
    // Two customers joined one after the other (v1 -> v2 -> v3); the second event comes first.
    g.fake.add_group_chat(group_chat(
        "Buyers",
        "v3",
        &[
            ("alice", 1, T0 - 100),
            ("wmCustomer1", 2, T0 - 50),
            ("wmCustomer2", 2, T0 + 60),
            ("wmCustomer3", 2, T0 + 70),
        ],
    ));
    let second = membership_xml("add_member", 70, &["wmCustomer3"], "v2", "v3");
    g.deliver(t, &second, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(g.reads(), 2, "v2 was never seen: the group is read");
    assert_eq!(
        text(t, "SELECT member_version FROM group_chat")
            .await
            .as_deref(),
        Some("v3")
    );
    for (customer, joined) in [("wmCustomer2", T0 + 60), ("wmCustomer3", T0 + 70)] {
        let entries = timeline(t, customer).await;
        assert_eq!(entries.len(), 1, "{customer}");
        assert_eq!(
            (entries[0].0.as_str(), entries[0].1),
            ("joined_group", joined * 1000)
        );
    }

    // The late first event: v1 is long gone, so the group is read again, and nothing changed.
    let first = membership_xml("add_member", 60, &["wmCustomer2"], "v1", "v2");
    g.deliver(t, &first, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(g.reads(), 3);
    assert_eq!(t.count("SELECT COUNT(*) FROM customer_event").await, 3);
    assert_eq!(
        text(t, "SELECT member_version FROM group_chat")
            .await
            .as_deref(),
        Some("v3")
    );
}
on_both_backends!(
    changes_out_of_order_read_the_group_and_record_each_change_once,
    super::changes_out_of_order_read_the_group_and_record_each_change_once
);

async fn del_member_sets_left_at_and_records_the_leave(t: &TestDb) {
    let mut g = created(t).await;
    let xml = membership_xml("del_member", 90, &["wmCustomer1"], "v1", "v2");
    g.deliver(t, &xml, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);

    assert_eq!(g.reads(), 1);
    assert_eq!(left_at(t, "wmCustomer1").await, Some((T0 + 90) * 1000));
    assert_eq!(left_at(t, "alice").await, None);
    let entries = timeline(t, "wmCustomer1").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(
        entries[1],
        (
            "left_group".to_string(),
            (T0 + 90) * 1000,
            json!({ "chat_id": CHAT, "name": "Buyers", "quit_scene": 1 })
        )
    );

    // A full read that no longer lists a member ends their membership too.
    g.fake.add_group_chat(group_chat(
        "Buyers & friends",
        "v3",
        &[("wmCustomer1", 2, T0 + 100)],
    ));
    let rename = chat_xml(
        "update",
        120,
        "<UpdateDetail><![CDATA[change_name]]></UpdateDetail>",
    );
    g.deliver(t, &rename, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(left_at(t, "alice").await, Some((T0 + 120) * 1000));
    assert_eq!(left_at(t, "wmCustomer1").await, None, "rejoined");
    let entries = timeline(t, "wmCustomer1").await;
    assert_eq!(entries.len(), 3);
    assert_eq!(
        entries[2],
        (
            "joined_group".to_string(),
            (T0 + 100) * 1000,
            json!({ "chat_id": CHAT, "name": "Buyers & friends", "join_scene": 3 })
        )
    );
    assert_eq!(
        text(t, "SELECT name FROM group_chat").await.as_deref(),
        Some("Buyers & friends")
    );
}
on_both_backends!(
    del_member_sets_left_at_and_records_the_leave,
    super::del_member_sets_left_at_and_records_the_leave
);

async fn dismiss_marks_the_group_dismissed_without_calling_wecom(t: &TestDb) {
    let mut g = created(t).await;
    g.deliver(t, &chat_xml("dismiss", 200, ""), "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(
        text(t, "SELECT status FROM group_chat").await.as_deref(),
        Some("dismissed")
    );
    assert_eq!(g.reads(), 1);

    // A change that arrives after the dismissal leaves the group as it was.
    let late = membership_xml("add_member", 150, &["wmCustomer9"], "v1", "v2");
    g.deliver(t, &late, "").await;
    g.deliver(t, &chat_xml("create", 0, ""), "-replayed").await;
    assert_eq!(g.run().await, [Outcome::Done, Outcome::Done]);
    assert_eq!(g.reads(), 1);
    assert_eq!(
        text(t, "SELECT status FROM group_chat").await.as_deref(),
        Some("dismissed")
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM group_member").await, 2);

    // A group never seen before is stored dismissed, so its late `create` cannot revive it.
    let other = chat_xml("dismiss", 300, "").replace(CHAT, "wrNeverSeen");
    g.deliver(t, &other, "").await;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(
        text(
            t,
            "SELECT status FROM group_chat WHERE chat_id = 'wrNeverSeen'"
        )
        .await
        .as_deref(),
        Some("dismissed")
    );
}
on_both_backends!(
    dismiss_marks_the_group_dismissed_without_calling_wecom,
    super::dismiss_marks_the_group_dismissed_without_calling_wecom
);

async fn the_same_event_twice_records_each_change_once(t: &TestDb) {
    let mut g = created(t).await;
    // Replayed create: read again, nothing new.
    g.deliver(t, &chat_xml("create", 0, ""), "-again").await;
    let join = membership_xml("add_member", 60, &["wmCustomer2"], "v1", "v2");
    let leave = membership_xml("del_member", 90, &["wmCustomer2"], "v2", "v3");
    for xml in [&join, &join, &leave, &leave] {
        let suffix = format!("-{}", fastrand::u32(..));
        g.deliver(t, xml, &suffix).await;
    }
    assert_eq!(g.run().await, vec![Outcome::Done; 5]);

    assert_eq!(g.reads(), 2, "only the replayed create reads the group");
    let kinds: Vec<String> = timeline(t, "wmCustomer2")
        .await
        .into_iter()
        .map(|(kind, ..)| kind)
        .collect();
    assert_eq!(kinds, ["joined_group", "left_group"]);
    assert_eq!(timeline(t, "wmCustomer1").await.len(), 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM score_event WHERE kind = 'group_join'")
            .await,
        2,
        "each join scores once, however often its event arrives"
    );
    assert_eq!(
        text(t, "SELECT member_version FROM group_chat")
            .await
            .as_deref(),
        Some("v3")
    );
}
on_both_backends!(
    the_same_event_twice_records_each_change_once,
    super::the_same_event_twice_records_each_change_once
);

async fn a_busy_wecom_is_retried_and_a_refusal_parks_the_event(t: &TestDb) {
    let mut g = Groups::start(t).await;
    g.fake.add_group_chat(initial_group());
    // More failures than the client retries by itself: the event is tried again later.
    g.fake.fail_next(GET, 3, Fault::SYSTEM_BUSY);
    g.deliver(t, &chat_xml("create", 0, ""), "").await;
    let outcomes = g.run().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::Retry(e)] if e.contains("errcode -1")),
        "{outcomes:?}"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM group_chat").await, 0);
    g.now += 120_000;
    assert_eq!(g.run().await, [Outcome::Done]);
    assert_eq!(t.count("SELECT COUNT(*) FROM group_member").await, 2);

    // A refusal will not change by retrying.
    g.fake.fail_next(GET, 1, Fault::Errcode(48002));
    let rename = chat_xml(
        "update",
        30,
        "<UpdateDetail><![CDATA[change_owner]]></UpdateDetail>",
    );
    g.deliver(t, &rename, "").await;
    let outcomes = g.run().await;
    assert!(
        matches!(outcomes.as_slice(), [Outcome::Parked(e)] if e.contains("48002")),
        "{outcomes:?}"
    );
}
on_both_backends!(
    a_busy_wecom_is_retried_and_a_refusal_parks_the_event,
    super::a_busy_wecom_is_retried_and_a_refusal_parks_the_event
);
