//! WeCom glue: the configured apps by tenant, each with its callback crypto, and the mapping of
//! a parsed callback onto an inbox event.

use std::{collections::HashMap, sync::Arc, time::Duration};

use salesbot_wecom::{
    api::{ClientConfig, DEFAULT_BURST, WecomClient},
    crypto::CallbackCrypto,
    event::{Callback, Event},
};
use sea_orm::DatabaseConnection;

use super::{SetupError, token_store::DbTokenStore};
use crate::{
    config::{MessageFormat, WecomConfig},
    pipeline::{
        NewEvent,
        inbox::{PRIORITY_HIGH, PRIORITY_NORMAL},
    },
};

/// Platform name in the inbox and outbox.
pub const PLATFORM: &str = "wecom";

/// One configured WeCom app: its callback crypto and its API client (tokens in the database).
#[derive(Debug)]
pub struct WecomApp {
    pub tenant: String,
    /// The corp, as OAuth's `appid`.
    pub corp_id: String,
    pub crypto: CallbackCrypto,
    pub client: WecomClient,
    pub max_clock_skew_secs: Option<u64>,
    pub agent_id: u32,
    pub message_format: MessageFormat,
    pub duplicate_check_secs: u32,
    /// What the welcome message says of the company, and where it links.
    pub company_name: String,
    pub company_hotline: String,
    pub home_url: Option<String>,
    /// Reps' managers from the configuration, by userid.
    pub managers: std::collections::BTreeMap<String, String>,
}

/// The configured WeCom apps by tenant.
#[derive(Debug, Default, Clone)]
pub struct WecomApps(HashMap<String, Arc<WecomApp>>);

impl WecomApps {
    /// Builds the apps from `[[wecom]]`, with clients that keep their tokens in `db`. Makes
    /// no network call.
    pub fn from_config(apps: &[WecomConfig], db: &DatabaseConnection) -> Result<Self, SetupError> {
        let mut map = HashMap::new();
        for app in apps {
            let fail = |reason: String| SetupError::new("wecom", &app.tenant, reason);
            let crypto = CallbackCrypto::new(
                app.callback_token.expose(),
                app.encoding_aes_key.expose(),
                &app.corp_id,
            )
            .map_err(|e| fail(e.to_string()))?;
            let mut config = ClientConfig::new(&app.corp_id, app.secret.expose());
            config.base_url = app.api_base.clone();
            config.timeout = Duration::from_secs(app.request_timeout_secs);
            config.rate_limit = super::rate_limit(app.rate_limit_per_minute, DEFAULT_BURST);
            let store = Arc::new(DbTokenStore::new(db.clone()));
            let client = WecomClient::new(config, store).map_err(|e| fail(e.to_string()))?;
            map.insert(
                app.tenant.clone(),
                Arc::new(WecomApp {
                    tenant: app.tenant.clone(),
                    corp_id: app.corp_id.clone(),
                    crypto,
                    client,
                    max_clock_skew_secs: app.max_clock_skew_secs,
                    agent_id: u32::try_from(app.agent_id)
                        .map_err(|_| fail("agent_id is out of range".into()))?,
                    message_format: app.message_format,
                    duplicate_check_secs: app.duplicate_check_secs,
                    company_name: app.company_name.clone(),
                    company_hotline: app.company_hotline.clone(),
                    home_url: app.home_url.clone(),
                    managers: app.managers.clone(),
                }),
            );
        }
        Ok(Self(map))
    }

    pub fn get(&self, tenant: &str) -> Option<&Arc<WecomApp>> {
        self.0.get(tenant)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The callback an inbox event holds, and the part of its event `pick` takes (`what` names it
/// in the error): an event that is not what its kind says is parked, never retried.
pub fn stored_callback<T>(
    event: &crate::pipeline::InboxEvent,
    what: &str,
    pick: impl Fn(&Event) -> Option<T>,
) -> Result<(Callback, T), crate::pipeline::HandlerError> {
    use crate::pipeline::HandlerError;
    let callback: Callback = serde_json::from_str(&event.payload)
        .map_err(|e| HandlerError::Permanent(format!("payload is not a WeCom callback: {e}")))?;
    let part = pick(&callback.event).ok_or_else(|| {
        HandlerError::Permanent(format!("`{}` is not a {what} event", event.kind))
    })?;
    Ok((callback, part))
}

/// The inbox row for a callback: kind and dedupe key from the event, urgent events first, and
/// the decrypted XML kept for events salesbot does not model yet, so they can be handled later.
pub fn inbox_event(tenant: &str, callback: &Callback, xml: &str) -> NewEvent {
    let mut payload = serde_json::to_value(callback).unwrap_or_default();
    if matches!(callback.event, Event::Other { .. }) {
        payload["xml"] = serde_json::Value::String(xml.to_string());
    }
    NewEvent {
        platform: PLATFORM.into(),
        tenant: tenant.into(),
        kind: callback.kind(),
        dedupe_key: callback.dedupe_key.clone(),
        priority: if callback.is_urgent() {
            PRIORITY_HIGH
        } else {
            PRIORITY_NORMAL
        },
        payload,
    }
}
