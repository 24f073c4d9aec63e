//! Taps on DingTalk interactive cards (callbacks over HTTP or Stream), handed to the
//! [`TapRouter`], which finds what the card is about and lets that decide. The card template's callback buttons carry `{"action": <button key>}`
//! (docs/templates.md); a template that only names its buttons by component id works too.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_dingtalk::card_callback::CardTap;

use crate::{
    cards::taps::{TapInput, TapRouter},
    pipeline::{Effects, EventHandler, HandlerError, Handlers, InboxEvent},
    platform::dingtalk::{CARD_TAP_KIND, PLATFORM},
};

/// The handler of DingTalk card taps.
pub struct DingtalkTaps(pub Arc<TapRouter>);

/// Registers the tap handler unless one is registered already.
pub fn register(handlers: &mut Handlers, router: Arc<TapRouter>) {
    handlers.register_default(CARD_TAP_KIND, Arc::new(DingtalkTaps(router)));
}

#[async_trait]
impl EventHandler for DingtalkTaps {
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let tap: CardTap = serde_json::from_str(&event.payload)
            .map_err(|e| HandlerError::Permanent(format!("stored card tap does not parse: {e}")))?;
        let input = TapInput {
            platform: PLATFORM,
            tenant: event.tenant.clone(),
            track_id: tap.out_track_id.clone(),
            tapper: tap.user_id.clone(),
            button: button(&tap),
        };
        self.0.route(effects, &input).await
    }
}

/// The tapped button's key: the `action` parameter, else the first component id.
fn button(tap: &CardTap) -> String {
    tap.params
        .get("action")
        .and_then(|action| action.as_str())
        .or_else(|| tap.action_ids.first().map(String::as_str))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tapped(content: &str) -> CardTap {
        let body = serde_json::json!({
            "type": "actionCallback", "outTrackId": "t1", "userId": "mgr001", "content": content,
        });
        CardTap::parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn the_action_parameter_names_the_button() {
        let tap = tapped(
            r#"{"cardPrivateData":{"actionIds":["approve_btn"],"params":{"action":"approve"}}}"#,
        );
        assert_eq!(button(&tap), "approve");
    }

    #[test]
    fn without_the_parameter_the_component_id_does() {
        let tap = tapped(r#"{"cardPrivateData":{"actionIds":["reject"],"params":{}}}"#);
        assert_eq!(button(&tap), "reject");
        let tap = tapped(r#"{"cardPrivateData":{"actionIds":[],"params":{}}}"#);
        assert_eq!(button(&tap), "");
    }
}
