//! Manager alerts, driven by the alert job's `tick` at chosen moments (the clock): an idle
//! deal alerts its owner's director once per episode, a quiet rep and a rep behind target
//! alert their manager, several alerts for one person go out as one digest, quiet hours hold
//! a Friday-evening alert until Monday morning, and two instances raise and send each alert
//! once. The moments are in the past, so the dispatchers deliver the held cards at once.

use salesbot::{
    alerts::{Alerts, Tick},
    app::{Extensions, Startup},
    config::{Config, Secret},
};
use salesbot_wecom::fake::{FakeWecom, SentMessage};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, on_both_backends, settled};

const TOKEN: &str = "alerts-admin-token";
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Wednesday 2026-11-18 10:00 in Shanghai.
const WED_10: i64 = 1_794_967_200_000;
/// Thursday 2026-11-19 10:00 in Shanghai.
const THU_10: i64 = 1_795_053_600_000;
/// Friday 2026-11-20 10:00 in Shanghai.
const FRI_10: i64 = 1_795_140_000_000;
/// Friday 2026-11-20 20:00 in Shanghai: after work.
const FRI_20: i64 = 1_795_176_000_000;
/// Monday 2026-11-23 09:00 in Shanghai: the next working period.
const MON_09: i64 = 1_795_395_600_000;
/// Wednesday 2026-10-28 12:00 in Shanghai: last month.
const OCT_28: i64 = 1_793_160_000_000;
/// Past the default digest window of 15 minutes.
const AFTER_WINDOW: i64 = 16 * MINUTE;

/// The app with a fake WeCom whose directory has two reps under wang.fang, who reports to
/// director; the alert job does not run on its own, the tests tick it.
struct Watch {
    fake: FakeWecom,
    app: TestApp,
    alerts: Alerts,
    _rules: tempfile::TempDir,
}

impl Watch {
    async fn start(t: &TestDb, rules: &str, configure: impl FnOnce(&mut Config)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let fake = FakeWecom::start().await;
        for (userid, name, leader) in [
            ("zhang.san", "张三", Some("wang.fang")),
            ("li.si", "李四", Some("wang.fang")),
            ("wang.fang", "王芳", Some("director")),
            ("director", "赵总", None),
            ("boss", "钱总", None),
        ] {
            let leaders: Vec<&str> = leader.into_iter().collect();
            fake.add_user(json!({ "userid": userid, "name": name, "direct_leader": leaders }));
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
        let mut config = t.config();
        config.rules.file = Some(dir.path().join("rules.toml"));
        config.admin.token = Some(Secret::new(TOKEN));
        config.wecom = vec![crate::helpers::wecom_app(&fake)];
        config.approvals.remind_after_mins = 0;
        config.approvals.escalate_after_mins = 0;
        // The tests tick the job themselves, at the moments they choose.
        config.alerts.every_mins = 0;
        configure(&mut config);
        let app = TestApp::spawn(config, Extensions::default(), Startup::default()).await;
        let alerts = Alerts::new(&app.state);
        Self {
            fake,
            app,
            alerts,
            _rules: dir,
        }
    }

    /// A deals API call; the answer.
    async fn deals(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .app
            .client
            .request(method, format!("{}/api/v1/deals{path}", self.app.address))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.json().await.unwrap()
    }

    /// Creates a deal of tenant acme through the API, last worked on at `at`; its id.
    async fn post_deal(
        &self,
        owner: &str,
        name: &str,
        (stage, amount): (&str, f64),
        at: i64,
    ) -> i64 {
        let body = json!({ "tenant": "acme", "name": name, "stage": stage, "amount": amount,
            "owner": owner, "last_activity_at": at });
        let created = self.deals(reqwest::Method::POST, "", body).await;
        created["id"].as_i64().unwrap()
    }

    async fn patch_deal(&self, id: i64, change: Value) {
        self.deals(reqwest::Method::PATCH, &format!("/{id}"), change)
            .await;
    }

    async fn tick(&self, now: i64) -> Tick {
        self.alerts.tick(now).await.unwrap()
    }

    /// The messages `userid` was sent, taken from the fake (so none is read twice).
    fn take_to(&self, userid: &str) -> Vec<SentMessage> {
        let (mine, others): (Vec<_>, Vec<_>) = self
            .fake
            .take_messages()
            .into_iter()
            .partition(|m| m.recipients == [userid]);
        assert!(others.is_empty(), "messages to others: {others:#?}");
        mine
    }
}

fn tick(opened: usize, closed: u64, cards: usize) -> Tick {
    Tick {
        opened,
        closed,
        cards,
    }
}

/// The card's texts, whatever form WeCom was sent it in.
fn shown(message: &SentMessage) -> String {
    let card = &message.body["template_card"];
    if card.is_null() {
        return message.content().unwrap_or_default().to_owned();
    }
    let mut parts = vec![
        card["main_title"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        card["main_title"]["desc"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        card["sub_title_text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        card["quote_area"]["quote_text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        card["emphasis_content"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    ];
    for row in card["horizontal_content_list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        parts.push(format!(
            "{}: {}",
            row["keyname"].as_str().unwrap_or_default(),
            row["value"].as_str().unwrap_or_default()
        ));
    }
    parts.join("\n")
}

/// Inserts a deal of tenant acme on WeCom; its id.
async fn deal(t: &TestDb, owner: &str, name: &str, (stage, amount): (&str, f64), at: i64) -> i64 {
    insert_deal(t, owner, name, (stage, amount), at, None).await
}

async fn insert_deal(
    t: &TestDb,
    owner: &str,
    name: &str,
    (stage, amount): (&str, f64),
    at: i64,
    closed_at: Option<i64>,
) -> i64 {
    let closed = closed_at.map_or("NULL".to_owned(), |c| c.to_string());
    let row = t
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            format!(
                "INSERT INTO deal (tenant, platform, name, stage, amount, owner, last_activity_at, \
                 created_at, updated_at, closed_at) \
                 VALUES ('acme', 'wecom', '{name}', '{stage}', {amount}, '{owner}', {at}, {at}, {at}, {closed}) \
                 RETURNING id"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// A task of `assignee` completed at `done_at`.
async fn done_task(t: &TestDb, assignee: &str, done_at: i64) {
    t.db.execute_unprepared(&format!(
        "INSERT INTO task (tenant, platform, assignee, title, kind, state, due_at, created_at, \
         updated_at, done_at, created_by) \
         VALUES ('acme', 'wecom', '{assignee}', 'call back', 'call', 'done', {done_at}, \
         {done_at}, {done_at}, {done_at}, 'api')"
    ))
    .await
    .unwrap();
}

const IDLE_DEALS: &str = r#"
[[alert]]
name = "idle deals"
kind = "deal_idle"
days = 7
"#;

async fn an_idle_deal_alerts_the_director_once_per_episode(t: &TestDb) {
    let watch = Watch::start(t, IDLE_DEALS, |_| {}).await;
    let id = watch
        .post_deal(
            "zhang.san",
            "恒远精密 MES 升级",
            ("proposal", 560_000.0),
            WED_10 - 8 * DAY,
        )
        .await;
    let recent = watch
        .post_deal("li.si", "recent deal", ("proposal", 1.0), WED_10 - 2 * DAY)
        .await;
    watch
        .post_deal("li.si", "closed deal", ("won", 1.0), WED_10 - 30 * DAY)
        .await;

    assert_eq!(
        watch.tick(WED_10).await,
        tick(1, 0, 0),
        "raised, waiting for the window"
    );
    assert_eq!(watch.tick(WED_10 + 5 * MINUTE).await, tick(0, 0, 0));
    assert_eq!(watch.tick(WED_10 + AFTER_WINDOW).await, tick(0, 0, 1));
    assert_eq!(
        watch.tick(WED_10 + HOUR).await,
        tick(0, 0, 0),
        "once per episode"
    );
    assert_eq!(watch.tick(WED_10 + DAY).await, tick(0, 0, 0));
    settled(t).await;
    // zhang.san → wang.fang → director, through WeCom's user/get.
    let cards = watch.take_to("director");
    assert_eq!(cards.len(), 1);
    let text = shown(&cards[0]);
    assert!(text.contains("商机停滞：恒远精密 MES 升级"), "{text}");
    assert!(
        text.contains("¥560,000.00") && text.contains("张三"),
        "{text}"
    );
    assert!(text.contains("8 天"), "{text}");

    // Work on the deal ends the episode; idle again a week later, it alerts again.
    let worked = WED_10 + 2 * DAY;
    watch
        .patch_deal(id, json!({ "last_activity_at": worked }))
        .await;
    watch
        .patch_deal(recent, json!({ "last_activity_at": worked + 3 * DAY }))
        .await;
    assert_eq!(watch.tick(worked + HOUR).await, tick(0, 1, 0));
    assert_eq!(watch.tick(worked + 6 * DAY).await, tick(0, 0, 0));
    let again = worked + 7 * DAY + HOUR;
    assert_eq!(watch.tick(again).await, tick(1, 0, 0));
    assert_eq!(watch.tick(again + AFTER_WINDOW).await, tick(0, 0, 1));
    assert_eq!(watch.tick(again + 2 * AFTER_WINDOW).await, tick(0, 0, 0));
    settled(t).await;
    assert_eq!(watch.take_to("director").len(), 1);
    assert_eq!(
        t.count("SELECT COUNT(*) FROM alert").await,
        2,
        "two episodes"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM alert WHERE closed_at IS NULL")
            .await,
        1
    );

    // A deal that is won is no longer watched, however long ago it was worked on.
    watch
        .patch_deal(id, json!({ "stage": "won", "last_activity_at": worked }))
        .await;
    assert_eq!(watch.tick(again + HOUR).await, tick(0, 1, 0));
    watch.app.stop().await;
}
on_both_backends!(
    an_idle_deal_alerts_the_director_once_per_episode,
    super::an_idle_deal_alerts_the_director_once_per_episode
);

const QUIET_REPS: &str = r#"
[roles]
east = ["li.si", "zhang.san"]

[[alert]]
name = "quiet reps"
kind = "rep_idle"
days = 3
reps = ["role:east"]
"#;

async fn a_quiet_rep_alerts_the_configured_manager(t: &TestDb) {
    let watch = Watch::start(t, QUIET_REPS, |config| {
        // Configured managers win over the directory's direct_leader.
        config.wecom[0]
            .managers
            .insert("li.si".into(), "boss".into());
    })
    .await;
    done_task(t, "zhang.san", WED_10 - DAY).await;
    done_task(t, "li.si", WED_10 - 5 * DAY).await;
    deal(t, "li.si", "old deal", ("proposal", 1.0), WED_10 - 4 * DAY).await;

    assert_eq!(watch.tick(WED_10).await, tick(1, 0, 0), "li.si only");
    assert_eq!(watch.tick(WED_10 + AFTER_WINDOW).await, tick(0, 0, 1));
    settled(t).await;
    let cards = watch.take_to("boss");
    assert_eq!(cards.len(), 1);
    let text = shown(&cards[0]);
    assert!(text.contains("跟进不足：李四"), "{text}");
    assert!(
        text.contains("4 天"),
        "the deal was the last follow-up: {text}"
    );

    // zhang.san goes quiet too; li.si completes a task, which ends her episode.
    done_task(t, "li.si", THU_10).await;
    let later = THU_10 + 3 * DAY - HOUR;
    assert_eq!(watch.tick(later).await, tick(1, 1, 0));
    assert_eq!(watch.tick(later + AFTER_WINDOW).await, tick(0, 0, 1));
    settled(t).await;
    let cards = watch.take_to("wang.fang");
    assert_eq!(cards.len(), 1, "zhang.san's manager from the directory");
    assert!(shown(&cards[0]).contains("跟进不足：张三"));
    watch.app.stop().await;
}
on_both_backends!(
    a_quiet_rep_alerts_the_configured_manager,
    super::a_quiet_rep_alerts_the_configured_manager
);

const TARGETS: &str = r#"
[[alert]]
name = "月度目标"
kind = "kpi"
below_pct = 60
day_of_month = 20
targets = { "zhang.san" = 500000, "li.si" = 100000 }
"#;

async fn a_rep_behind_target_alerts_from_the_day_of_the_month_on(t: &TestDb) {
    let watch = Watch::start(t, TARGETS, |_| {}).await;
    let won = |owner, amount, at| insert_deal(t, owner, "won deal", ("won", amount), at, Some(at));
    won("zhang.san", 200_000.0, WED_10).await;
    won("zhang.san", 400_000.0, OCT_28).await; // last month: does not count
    won("li.si", 80_000.0, WED_10).await;
    deal(t, "zhang.san", "open deal", ("proposal", 300_000.0), WED_10).await;

    assert_eq!(watch.tick(THU_10).await, tick(0, 0, 0), "not before day 20");
    assert_eq!(watch.tick(FRI_10).await, tick(1, 0, 0), "zhang.san at 40%");
    assert_eq!(watch.tick(FRI_10 + AFTER_WINDOW).await, tick(0, 0, 1));
    assert_eq!(
        watch.tick(FRI_10 + DAY).await,
        tick(0, 0, 0),
        "once a month"
    );
    settled(t).await;
    let cards = watch.take_to("wang.fang");
    assert_eq!(cards.len(), 1);
    let text = shown(&cards[0]);
    assert!(text.contains("指标预警：月度目标"), "{text}");
    assert!(text.contains("40%") && text.contains("60%"), "{text}");
    assert!(text.contains("2026-11") && text.contains("张三"), "{text}");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM alert WHERE subject = 'kpi:zhang.san:2026-11'")
            .await,
        1
    );

    // A win that reaches the target ends the episode.
    won("zhang.san", 150_000.0, FRI_10 + DAY).await;
    assert_eq!(watch.tick(FRI_10 + 2 * DAY).await, tick(0, 1, 0));
    watch.app.stop().await;
}
on_both_backends!(
    a_rep_behind_target_alerts_from_the_day_of_the_month_on,
    super::a_rep_behind_target_alerts_from_the_day_of_the_month_on
);

const FOR_WANG_FANG: &str = r#"
[[alert]]
name = "idle deals"
kind = "deal_idle"
days = 7
to = "manager"

[[alert]]
name = "quiet reps"
kind = "rep_idle"
days = 3
reps = ["zhang.san"]

[[alert]]
name = "月度目标"
kind = "kpi"
below_pct = 60
day_of_month = 20
targets = { "zhang.san" = 500000 }
"#;

async fn three_alerts_for_one_manager_in_the_window_go_out_as_one_digest(t: &TestDb) {
    let watch = Watch::start(t, FOR_WANG_FANG, |_| {}).await;
    deal(
        t,
        "zhang.san",
        "恒远精密 MES 升级",
        ("proposal", 560_000.0),
        FRI_10 - 9 * DAY,
    )
    .await;

    assert_eq!(watch.tick(FRI_10).await, tick(3, 0, 0));
    assert_eq!(
        watch.tick(FRI_10 + 10 * MINUTE).await,
        tick(0, 0, 0),
        "in the window"
    );
    assert_eq!(watch.tick(FRI_10 + AFTER_WINDOW).await, tick(0, 0, 1));
    assert_eq!(watch.tick(FRI_10 + HOUR).await, tick(0, 0, 0));
    settled(t).await;
    let cards = watch.take_to("wang.fang");
    assert_eq!(cards.len(), 1, "one digest, not three cards");
    let text = shown(&cards[0]);
    assert!(text.contains("3 条待关注提醒"), "{text}");
    for line in [
        "1. 商机「恒远精密 MES 升级」9 天未跟进（张三）",
        "2. 张三 9 天没有跟进",
        "3. 张三 2026-11 月度目标完成 0%，低于 60%",
    ] {
        assert!(text.contains(line), "no `{line}` in {text}");
    }
    assert!(
        text.contains("商机停滞: 1") || text.contains("商机停滞：1"),
        "{text}"
    );
    let keys = t
        .count("SELECT COUNT(DISTINCT send_key) FROM alert WHERE sent_at IS NOT NULL")
        .await;
    assert_eq!(keys, 1, "the three alerts share the digest's card");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE '%alert_digest%'")
            .await,
        1
    );
    watch.app.stop().await;
}
on_both_backends!(
    three_alerts_for_one_manager_in_the_window_go_out_as_one_digest,
    super::three_alerts_for_one_manager_in_the_window_go_out_as_one_digest
);

async fn an_alert_raised_on_friday_evening_goes_out_on_monday_morning(t: &TestDb) {
    let watch = Watch::start(t, IDLE_DEALS, |_| {}).await;
    deal(
        t,
        "zhang.san",
        "evening deal",
        ("proposal", 1000.0),
        FRI_20 - 8 * DAY,
    )
    .await;
    assert_eq!(watch.tick(FRI_20).await, tick(1, 0, 0));
    assert_eq!(watch.tick(FRI_20 + AFTER_WINDOW).await, tick(0, 0, 1));
    let row = t
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            t.db.get_database_backend(),
            "SELECT available_at, created_at FROM outbox WHERE idempotency_key LIKE '%deal_idle_alert%'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "available_at").unwrap(), MON_09);
    assert_eq!(
        row.try_get::<i64>("", "created_at").unwrap(),
        FRI_20 + AFTER_WINDOW
    );
    // Monday is in the past for the dispatchers, so the held card is delivered now.
    settled(t).await;
    assert_eq!(watch.take_to("director").len(), 1);
    watch.app.stop().await;
}
on_both_backends!(
    an_alert_raised_on_friday_evening_goes_out_on_monday_morning,
    super::an_alert_raised_on_friday_evening_goes_out_on_monday_morning
);

async fn two_instances_raise_and_send_each_alert_once(t: &TestDb) {
    let watch = Watch::start(t, FOR_WANG_FANG, |_| {}).await;
    let other = Alerts::new(&watch.app.state);
    for n in 0..5 {
        let name = format!("deal {n}");
        deal(t, "zhang.san", &name, ("proposal", 1.0), FRI_10 - 9 * DAY).await;
    }
    let (a, b) = tokio::join!(watch.alerts.tick(FRI_10), other.tick(FRI_10));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        a.opened + b.opened,
        7,
        "five deals, the rep and the target: {a:?} {b:?}"
    );
    assert_eq!(t.count("SELECT COUNT(*) FROM alert").await, 7);
    let later = FRI_10 + AFTER_WINDOW;
    let (a, b) = tokio::join!(watch.alerts.tick(later), other.tick(later));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.cards + b.cards, 1, "{a:?} {b:?}");
    assert_eq!(t.count("SELECT COUNT(*) FROM outbox").await, 1);
    settled(t).await;
    let cards = watch.take_to("wang.fang");
    assert_eq!(cards.len(), 1);
    assert!(shown(&cards[0]).contains("7 条待关注提醒"));
    watch.app.stop().await;
}
on_both_backends!(
    two_instances_raise_and_send_each_alert_once,
    super::two_instances_raise_and_send_each_alert_once
);

async fn an_alert_without_anyone_to_send_it_to_is_kept_but_not_sent(t: &TestDb) {
    // director has no manager: a deal of director's has no director to go to.
    let watch = Watch::start(t, IDLE_DEALS, |_| {}).await;
    deal(
        t,
        "director",
        "top deal",
        ("proposal", 1.0),
        WED_10 - 8 * DAY,
    )
    .await;
    assert_eq!(watch.tick(WED_10).await, tick(1, 0, 0));
    assert_eq!(watch.tick(WED_10 + AFTER_WINDOW).await, tick(0, 0, 0));
    assert_eq!(
        watch.tick(WED_10 + DAY).await,
        tick(0, 0, 0),
        "not raised again"
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM alert WHERE recipient IS NULL AND sent_at IS NULL")
            .await,
        1
    );
    let asked = watch.fake.requests_to("user/get").len();
    assert_eq!(watch.tick(WED_10 + 2 * DAY).await, tick(0, 0, 0));
    assert_eq!(
        watch.fake.requests_to("user/get").len(),
        asked,
        "the directory is not asked again"
    );
    assert!(watch.fake.take_messages().is_empty());
    watch.app.stop().await;
}
on_both_backends!(
    an_alert_without_anyone_to_send_it_to_is_kept_but_not_sent,
    super::an_alert_without_anyone_to_send_it_to_is_kept_but_not_sent
);
