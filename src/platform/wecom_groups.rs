//! WeCom customer groups (客户群): the handler that turns `change_external_chat` callbacks
//! (wecom.md §3.2) into stored groups, members and the `joined_group` / `left_group` entries on
//! customers' timelines.
//!
//! A membership change is applied from the event itself only when it follows on from the
//! stored membership version; a missed or out-of-order event, an unknown group and every other
//! change read the whole group again with `groupchat/get` (§5.10). Either way the store records
//! only real changes, so an event handled twice, or after a read that already saw it, adds
//! nothing.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_wecom::{
    api::{GroupChat, GroupChatMember},
    event::{Callback, Event, ExternalChatChange},
};
use sea_orm::{DatabaseConnection, DatabaseTransaction};

use super::{
    wecom::{WecomApp, WecomApps, stored_callback},
    wecom_contacts::api_error,
};
use crate::{
    assignment::Assigner,
    domain::{
        customer::store::customer_id,
        group::{self, Change, Delta, Group, Member, member_type},
        lead::score::{self, ScoreKind, Scoring, Subject},
        rules::Rules,
    },
    pipeline::{Effects, EventHandler, HandlerError, Handlers, InboxEvent, Prepared},
    webhooks::Webhooks,
};

/// Inbox kinds of the events handled here.
pub mod kinds {
    pub const CREATE: &str = "wecom.change_external_chat.create";
    pub const UPDATE: &str = "wecom.change_external_chat.update";
    pub const DISMISS: &str = "wecom.change_external_chat.dismiss";
    pub const ALL: [&str; 3] = [CREATE, UPDATE, DISMISS];
}

/// `JoinScene` of an `add_member` event meaning "scanned the group QR code"; the same number
/// as `join_scene` 3 of `groupchat/get`. Its other value, 0 (invited, directly or by link),
/// has no single `join_scene` and is stored as unknown until the next full read.
const EVENT_JOIN_BY_QR_CODE: i64 = 3;

/// Registers the handler for each kind, unless one is registered for it already. A customer
/// who joins earns `group_join` points of `rules`' lead score (published through `webhooks`
/// when it qualifies them, and assigned by `assigner` when given).
pub fn register(
    handlers: &mut Handlers,
    apps: Arc<WecomApps>,
    rules: Arc<Rules>,
    webhooks: Arc<Webhooks>,
    assigner: Option<Arc<Assigner>>,
) {
    let handler: Arc<dyn EventHandler> = Arc::new(GroupChanged {
        apps,
        rules,
        webhooks,
        assigner,
    });
    for kind in kinds::ALL {
        handlers.register_default(kind, handler.clone());
    }
}

/// Applies `change_external_chat` events.
struct GroupChanged {
    apps: Arc<WecomApps>,
    rules: Arc<Rules>,
    webhooks: Arc<Webhooks>,
    assigner: Option<Arc<Assigner>>,
}

/// The group as `groupchat/get` answered before the event's transaction, when the event needs
/// it read.
struct Fetched(Option<GroupChat>);

/// One event's context.
struct Context<'a> {
    db: &'a DatabaseTransaction,
    app: &'a WecomApp,
    /// The group as read in `prepare`.
    fetched: Option<&'a GroupChat>,
    chat_id: &'a str,
    /// When WeCom raised the event (epoch ms).
    at: i64,
    inbox_id: i64,
    now: i64,
    scoring: Scoring<'a>,
}

impl Context<'_> {
    /// Adds `group_join` points to each customer among `joined` (by `members`' types).
    async fn score_joins(&self, joined: &[String], members: &[Member]) -> Result<(), HandlerError> {
        for userid in joined {
            let customer = members
                .iter()
                .any(|m| &m.userid == userid && m.kind == member_type::CUSTOMER);
            if !customer {
                continue;
            }
            let id = customer_id(self.db, self.tenant(), userid, self.now).await?;
            score::add(
                self.db,
                &self.scoring,
                self.tenant(),
                Subject::Customer(id),
                ScoreKind::GroupJoin,
                &format!("group:{}", self.chat_id),
                self.now,
            )
            .await?;
        }
        Ok(())
    }

    fn tenant(&self) -> &str {
        &self.app.tenant
    }

    fn change<'b>(&'b self, stored: &'b group::StoredGroup) -> Change<'b> {
        Change {
            tenant: self.tenant(),
            group_id: stored.id,
            chat_id: self.chat_id,
            group_name: &stored.name,
            at: self.at,
            inbox_id: Some(self.inbox_id),
        }
    }
}

impl GroupChanged {
    fn app(&self, tenant: &str) -> Result<&WecomApp, HandlerError> {
        self.apps.get(tenant).map(|app| &**app).ok_or_else(|| {
            HandlerError::Permanent(format!("WeCom tenant `{tenant}` is not configured"))
        })
    }
}

#[async_trait]
impl EventHandler for GroupChanged {
    /// Reads the group from WeCom when the event will need it (every change but a dismissal
    /// and a membership change that follows on from the stored version), before the event's
    /// transaction.
    async fn prepare(
        &self,
        db: &DatabaseConnection,
        event: &InboxEvent,
        _now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        let (_, change) = chat_change(event)?;
        let app = self.app(&event.tenant)?;
        let stored = group::lock(db, &event.tenant, &change.chat_id).await?;
        let needed = match change.change_type.as_str() {
            "create" => true,
            "update" => !stored
                .as_ref()
                .is_some_and(|stored| follows_on(stored, &change)),
            _ => false,
        };
        if !needed || stored.is_some_and(|g| g.is_dismissed()) {
            return Ok(Some(Box::new(Fetched(None))));
        }
        let chat = app
            .client
            .get_group_chat(&change.chat_id, true)
            .await
            .map_err(api_error)?;
        Ok(Some(Box::new(Fetched(Some(chat)))))
    }

    #[tracing::instrument(skip_all, fields(event_id = event.id, tenant = %event.tenant, chat_id))]
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let (callback, change) = chat_change(event)?;
        tracing::Span::current().record("chat_id", change.chat_id.as_str());
        let app = self.app(&event.tenant)?;
        let cx = Context {
            db: effects.db(),
            app,
            fetched: effects
                .prepared::<Fetched>()
                .and_then(|fetched| fetched.0.as_ref()),
            chat_id: &change.chat_id,
            at: callback.create_time.saturating_mul(1000),
            inbox_id: effects.event_id(),
            now: effects.now(),
            scoring: Scoring {
                rules: self.rules.lead_score(),
                webhooks: &self.webhooks,
                assigner: self.assigner.as_deref(),
            },
        };
        match change.change_type.as_str() {
            "create" => refresh(&cx).await,
            "update" => match change.update_detail.as_deref() {
                Some("add_member" | "del_member") => membership(&cx, &change).await,
                // Name, owner and notice changes carry no values: read them.
                _ => refresh(&cx).await,
            },
            "dismiss" => {
                group::mark_dismissed(cx.db, cx.tenant(), cx.chat_id, cx.now).await?;
                Ok(())
            }
            other => {
                tracing::info!(change_type = other, "unknown change type ignored");
                Ok(())
            }
        }
    }
}

/// The callback stored in the inbox, and its `change_external_chat` part.
fn chat_change(event: &InboxEvent) -> Result<(Callback, ExternalChatChange), HandlerError> {
    stored_callback(event, "change_external_chat", |event| match event {
        Event::ExternalChat(change) => Some(change.clone()),
        _ => None,
    })
}

/// Applies a membership change from the event when it follows on from the stored version;
/// reads the whole group otherwise.
async fn membership(cx: &Context<'_>, change: &ExternalChatChange) -> Result<(), HandlerError> {
    let Some(stored) = group::lock(cx.db, cx.tenant(), cx.chat_id).await? else {
        return refresh(cx).await;
    };
    if stored.is_dismissed() {
        tracing::info!("membership change of a dismissed group ignored");
        return Ok(());
    }
    let (last, current) = (
        change.last_mem_ver.as_deref(),
        change.cur_mem_ver.as_deref(),
    );
    if current.is_some() && stored.member_version.as_deref() == current {
        tracing::debug!("membership change applied already");
        return Ok(());
    }
    if !follows_on(&stored, change) {
        tracing::debug!(
            stored = stored.member_version.as_deref(),
            last,
            "membership version does not follow on; reading the group"
        );
        return refresh(cx).await;
    }
    let delta = match change.update_detail.as_deref() {
        Some("add_member") => Delta::Join(joiners(cx, &stored, change).await?),
        _ => Delta::Leave {
            userids: change.mem_change_list.clone(),
            quit_scene: change.quit_scene,
        },
    };
    let applied = group::apply_delta(cx.db, &cx.change(&stored), &delta, cx.now).await?;
    if let Delta::Join(members) = &delta {
        cx.score_joins(&applied.joined, members).await?;
    }
    group::set_member_version(cx.db, stored.id, current, cx.now).await?;
    tracing::debug!(
        joined = applied.joined.len(),
        left = applied.left.len(),
        "membership change applied"
    );
    Ok(())
}

/// Whether a membership change can be applied from the event itself: it names who changed and
/// follows on from the stored membership version (or was applied already).
fn follows_on(stored: &group::StoredGroup, change: &ExternalChatChange) -> bool {
    let membership = matches!(
        change.update_detail.as_deref(),
        Some("add_member" | "del_member")
    );
    let version = stored.member_version.as_deref();
    membership
        && !change.mem_change_list.is_empty()
        && change.last_mem_ver.is_some()
        && (version == change.last_mem_ver.as_deref() || version == change.cur_mem_ver.as_deref())
}

/// The members an `add_member` event names. The event does not say who is a customer: an id
/// stored before keeps its type, and an unknown one is a customer when it has the shape of an
/// external userid. The next full read corrects any guess.
async fn joiners(
    cx: &Context<'_>,
    stored: &group::StoredGroup,
    change: &ExternalChatChange,
) -> Result<Vec<Member>, HandlerError> {
    let kinds = group::member_kinds(cx.db, cx.tenant(), stored.id, &change.mem_change_list).await?;
    let join_scene = (change.join_scene == Some(EVENT_JOIN_BY_QR_CODE)).then_some(3);
    Ok(change
        .mem_change_list
        .iter()
        .map(|userid| Member {
            userid: userid.clone(),
            kind: kinds
                .get(userid)
                .copied()
                .unwrap_or_else(|| guess_type(userid)),
            name: String::new(),
            join_time: Some(cx.at),
            join_scene,
        })
        .collect())
}

/// Reads the group with `groupchat/get` and stores it and its members as they are now.
async fn refresh(cx: &Context<'_>) -> Result<(), HandlerError> {
    let stored = group::lock(cx.db, cx.tenant(), cx.chat_id).await?;
    if stored.is_some_and(|g| g.is_dismissed()) {
        // WeCom no longer knows the group; what was stored stays as it was.
        tracing::info!("change of a dismissed group ignored");
        return Ok(());
    }
    // The group changed between `prepare` and here (another event of it was handled): read
    // it again on the next attempt.
    let chat = cx.fetched.cloned().ok_or_else(|| {
        HandlerError::Transient("the group changed meanwhile; it is read again".into())
    })?;
    let info = Group {
        tenant: cx.tenant().to_owned(),
        chat_id: cx.chat_id.to_owned(),
        name: chat.name.unwrap_or_default(),
        owner: chat.owner.unwrap_or_default(),
        notice: chat.notice.unwrap_or_default(),
        member_version: chat.member_version,
        created_time: chat.create_time.map(seconds_to_ms),
        status: group::status::ACTIVE.to_owned(),
    };
    let stored = group::upsert(cx.db, &info, cx.now).await?;
    let members: Vec<Member> = chat.member_list.iter().map(member).collect();
    let applied = group::replace_members(cx.db, &cx.change(&stored), &members, cx.now).await?;
    cx.score_joins(&applied.joined, &members).await?;
    tracing::debug!(
        members = members.len(),
        joined = applied.joined.len(),
        left = applied.left.len(),
        "group read"
    );
    Ok(())
}

fn member(m: &GroupChatMember) -> Member {
    Member {
        userid: m.userid.clone(),
        kind: m
            .kind
            .map(i16::from)
            .unwrap_or_else(|| guess_type(&m.userid)),
        name: m.name.clone().unwrap_or_default(),
        join_time: m.join_time.map(seconds_to_ms),
        join_scene: m.join_scene.map(i16::from),
    }
}

/// A customer if `id` has the shape of an external userid (`wm…` for WeChat users, `wo…` for
/// people of other corps), a member otherwise.
fn guess_type(id: &str) -> i16 {
    if id.starts_with("wm") || id.starts_with("wo") {
        member_type::CUSTOMER
    } else {
        member_type::MEMBER
    }
}

fn seconds_to_ms(seconds: i64) -> i64 {
    seconds.saturating_mul(1000)
}
