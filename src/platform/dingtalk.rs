//! DingTalk glue: the configured apps by tenant, each with its callback crypto, and the mapping
//! of a decrypted event onto an inbox event.

use std::{collections::HashMap, sync::Arc, time::Duration};

use salesbot_dingtalk::{
    api::{CallbackType, ClientConfig, DEFAULT_BURST, DingtalkClient},
    callback::CallbackCrypto,
    card_callback::CardTap,
    event::DingEvent,
    robot_callback::RobotMessage,
};
use sea_orm::DatabaseConnection;

use super::{SetupError, token_store::DbTokenStore};
use crate::{
    config::{DingtalkConfig, DingtalkMode, Secret},
    pipeline::{
        NewEvent,
        inbox::{PRIORITY_HIGH, PRIORITY_NORMAL},
    },
};

/// Platform name in the inbox and outbox.
pub const PLATFORM: &str = "dingtalk";

/// One configured DingTalk app: its push crypto and its API client (token in the database).
#[derive(Debug)]
pub struct DingtalkApp {
    pub tenant: String,
    /// The app's Client ID (AppKey).
    pub app_key: String,
    pub crypto: CallbackCrypto,
    pub client: DingtalkClient,
    /// Verifies robot callbacks' `sign`.
    pub app_secret: Secret,
    /// Verifies card callbacks' signature; `None` when no HTTP card route is configured.
    pub card_callback_secret: Option<Secret>,
    pub agent_id: i64,
    /// The interactive-card template; without it cards go out as work notifications.
    pub card_template_id: Option<String>,
    /// Where card taps arrive: over the Stream connection or to the registered HTTP route.
    pub card_callback_type: CallbackType,
    pub card_callback_route_key: Option<String>,
    /// The robot that delivers one-to-one cards; `None`: the app's own.
    pub robot_code: Option<String>,
}

impl DingtalkApp {
    /// The robot that sends one-to-one messages: the configured one, else the app's own, whose
    /// `robotCode` is the AppKey (dingtalk.md §1.2).
    pub fn robot(&self) -> &str {
        self.robot_code.as_deref().unwrap_or(&self.app_key)
    }
}

/// The configured DingTalk apps by tenant.
#[derive(Debug, Default, Clone)]
pub struct DingtalkApps(HashMap<String, Arc<DingtalkApp>>);

impl DingtalkApps {
    /// Builds the apps from `[[dingtalk]]`, with clients that keep their tokens in `db`. Makes
    /// no network call.
    pub fn from_config(
        apps: &[DingtalkConfig],
        db: &DatabaseConnection,
    ) -> Result<Self, SetupError> {
        let mut map = HashMap::new();
        for app in apps {
            let fail = |reason: String| SetupError::new("dingtalk", &app.tenant, reason);
            let crypto = CallbackCrypto::new(
                app.callback_token.expose(),
                app.aes_key.expose(),
                app.receive_id(),
            )
            .map_err(|e| fail(e.to_string()))?;
            let mut config = ClientConfig::new(&app.app_key, app.app_secret.expose());
            config.api_base_url = app.api_base.clone();
            config.oapi_base_url = app.oapi_base.clone();
            config.timeout = Duration::from_secs(app.request_timeout_secs);
            config.rate_limit = super::rate_limit(app.rate_limit_per_minute, DEFAULT_BURST);
            let store = Arc::new(DbTokenStore::new(db.clone()));
            let client = DingtalkClient::new(config, store).map_err(|e| fail(e.to_string()))?;
            let tenant = app.tenant.clone();
            let app = DingtalkApp {
                tenant: tenant.clone(),
                app_key: app.app_key.clone(),
                crypto,
                client,
                app_secret: app.app_secret.clone(),
                card_callback_secret: app.card_callback_secret.clone(),
                agent_id: app.agent_id,
                card_template_id: app.card_template_id.clone(),
                card_callback_type: match app.mode {
                    DingtalkMode::Http => CallbackType::Http,
                    DingtalkMode::Stream => CallbackType::Stream,
                },
                card_callback_route_key: app.card_callback_route_key.clone(),
                robot_code: app.robot_code.clone(),
            };
            map.insert(tenant, Arc::new(app));
        }
        Ok(Self(map))
    }

    pub fn get(&self, tenant: &str) -> Option<&Arc<DingtalkApp>> {
        self.0.get(tenant)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Kind of a card button tap in the inbox.
pub const CARD_TAP_KIND: &str = "dingtalk.card_callback";
/// Kind of a message to the robot in the inbox.
pub const ROBOT_MESSAGE_KIND: &str = "dingtalk.robot_message";

/// The inbox row for a card tap: urgent, since the approver is looking at the card.
pub fn card_tap_event(tenant: &str, tap: &CardTap) -> NewEvent {
    NewEvent {
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: CARD_TAP_KIND.into(),
        dedupe_key: tap.dedupe_key(),
        priority: PRIORITY_HIGH,
        payload: serde_json::to_value(tap).unwrap_or_default(),
    }
}

/// The inbox row for a message to the robot (a rep's chat command).
pub fn robot_message_event(tenant: &str, message: &RobotMessage) -> NewEvent {
    NewEvent {
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: ROBOT_MESSAGE_KIND.into(),
        dedupe_key: message.dedupe_key(),
        priority: PRIORITY_NORMAL,
        payload: serde_json::to_value(message).unwrap_or_default(),
    }
}

/// The inbox row for an event: the whole decrypted object is kept as the payload.
pub fn inbox_event(tenant: &str, event: &DingEvent) -> NewEvent {
    NewEvent {
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: event.kind(),
        dedupe_key: event.dedupe_key(),
        priority: PRIORITY_NORMAL,
        payload: serde_json::to_value(event).unwrap_or_default(),
    }
}
