//! DingTalk glue: the configured apps by tenant, each with its callback crypto, and the mapping
//! of a decrypted event onto an inbox event.

use std::{collections::HashMap, sync::Arc};

use salesbot_dingtalk::{callback::CallbackCrypto, event::DingEvent};

use crate::{
    config::DingtalkConfig,
    pipeline::{NewEvent, inbox::PRIORITY_NORMAL},
};

/// Platform name in the inbox and outbox.
pub const PLATFORM: &str = "dingtalk";

/// One configured DingTalk app.
#[derive(Debug)]
pub struct DingtalkApp {
    pub tenant: String,
    pub crypto: CallbackCrypto,
}

/// The configured DingTalk apps by tenant.
#[derive(Debug, Default, Clone)]
pub struct DingtalkApps(HashMap<String, Arc<DingtalkApp>>);

impl DingtalkApps {
    /// Builds the apps from `[[dingtalk]]` (validated, so the keys decode).
    pub fn from_config(apps: &[DingtalkConfig]) -> Result<Self, salesbot_msgcrypt::CryptoError> {
        let mut map = HashMap::new();
        for app in apps {
            let crypto = CallbackCrypto::new(
                app.callback_token.expose(),
                app.aes_key.expose(),
                app.receive_id(),
            )?;
            map.insert(
                app.tenant.clone(),
                Arc::new(DingtalkApp {
                    tenant: app.tenant.clone(),
                    crypto,
                }),
            );
        }
        Ok(Self(map))
    }

    pub fn get(&self, tenant: &str) -> Option<&Arc<DingtalkApp>> {
        self.0.get(tenant)
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
