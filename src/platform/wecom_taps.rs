//! Taps on WeCom cards (`template_card_event`), handed to the [`TapRouter`], which finds what
//! the card is about (an approval, a lead's assignment) and lets that decide.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_wecom::event::Event;

use crate::{
    cards::{
        store as card_store,
        taps::{TapInput, TapRouter},
    },
    pipeline::{Effects, EventHandler, HandlerError, Handlers, InboxEvent},
    platform::wecom::{PLATFORM, stored_callback},
};

/// Inbox kind of a tap on a WeCom template card.
pub const TAP: &str = "wecom.template_card_event";

/// The handler of WeCom card taps.
pub struct WecomTaps(pub Arc<TapRouter>);

/// Registers the tap handler unless one is registered already.
pub fn register(handlers: &mut Handlers, router: Arc<TapRouter>) {
    handlers.register_default(TAP, Arc::new(WecomTaps(router)));
}

#[async_trait]
impl EventHandler for WecomTaps {
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let (_, tap) = stored_callback(event, "template_card_event", |event| match event {
            Event::TemplateCard(tap) => Some(tap.clone()),
            _ => None,
        })?;
        let input = TapInput {
            platform: PLATFORM,
            tenant: event.tenant.clone(),
            track_id: tap.task_id.clone(),
            tapper: tap.user_id.clone(),
            button: tap.event_key.clone(),
        };
        self.0.route(effects, &input).await?;
        // Every tap brings a fresh single-use code for updating the card. Kept last: the card
        // row is then locked only just before the commit, never while this transaction waits
        // for an outbox row a dispatcher is recording (on PostgreSQL that wait was a deadlock).
        if let Some(code) = &tap.response_code {
            card_store::offer_response_code(
                effects.db(),
                PLATFORM,
                &event.tenant,
                &tap.task_id,
                code,
                effects.now(),
            )
            .await?;
        }
        Ok(())
    }
}
