//! WeCom glue: the configured apps by tenant, each with its callback crypto, and the mapping of
//! a parsed callback onto an inbox event.

use std::{collections::HashMap, sync::Arc};

use salesbot_wecom::{
    crypto::{CallbackCrypto, CryptoError},
    event::{Callback, Event},
};

use crate::{
    config::WecomConfig,
    pipeline::{
        NewEvent,
        inbox::{PRIORITY_HIGH, PRIORITY_NORMAL},
    },
};

/// Platform name in the inbox and outbox.
pub const PLATFORM: &str = "wecom";

/// One configured WeCom app.
#[derive(Debug)]
pub struct WecomApp {
    pub tenant: String,
    pub crypto: CallbackCrypto,
    pub max_clock_skew_secs: Option<u64>,
}

/// The configured WeCom apps by tenant.
#[derive(Debug, Default, Clone)]
pub struct WecomApps(HashMap<String, Arc<WecomApp>>);

impl WecomApps {
    /// Builds the apps from `[[wecom]]`; the configuration was validated, so the keys decode.
    pub fn from_config(apps: &[WecomConfig]) -> Result<Self, CryptoError> {
        let mut map = HashMap::new();
        for app in apps {
            let crypto = CallbackCrypto::new(
                app.callback_token.expose(),
                app.encoding_aes_key.expose(),
                &app.corp_id,
            )?;
            map.insert(
                app.tenant.clone(),
                Arc::new(WecomApp {
                    tenant: app.tenant.clone(),
                    crypto,
                    max_clock_skew_secs: app.max_clock_skew_secs,
                }),
            );
        }
        Ok(Self(map))
    }

    pub fn get(&self, tenant: &str) -> Option<&Arc<WecomApp>> {
        self.0.get(tenant)
    }
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
