//! Taps on interactive cards, from either platform, routed to what the card is about: the
//! card salesbot sent is found by its track id, and its subject's prefix (`approval:`,
//! `lead:`) picks the [`TapTarget`] that decides the tap. The platform glue
//! (`platform::wecom_taps`, `platform::dingtalk_taps`) turns each platform's callback into a
//! [`TapInput`] and hands it to one [`TapRouter`].

use std::sync::Arc;

use async_trait::async_trait;

use super::store::{self as card_store, SentCard};
use crate::pipeline::{Effects, HandlerError};

/// A tap as the platform reported it.
#[derive(Debug, Clone)]
pub struct TapInput {
    pub platform: &'static str,
    pub tenant: String,
    /// WeCom `task_id` / DingTalk `outTrackId`.
    pub track_id: String,
    pub tapper: String,
    /// The button's key, such as `approve` or `accept`.
    pub button: String,
}

/// What decides the taps on one kind of card.
#[async_trait]
pub trait TapTarget: Send + Sync {
    /// The subject prefix of its cards, such as `approval:`.
    fn prefix(&self) -> &'static str;

    /// Decides `tap` on `card` in the worker's transaction.
    async fn tap(
        &self,
        effects: &Effects<'_>,
        tap: &TapInput,
        card: &SentCard,
    ) -> Result<(), HandlerError>;
}

/// The tap targets, tried by subject prefix.
#[derive(Default, Clone)]
pub struct TapRouter {
    targets: Vec<Arc<dyn TapTarget>>,
}

impl TapRouter {
    pub fn with(mut self, target: Arc<dyn TapTarget>) -> Self {
        self.targets.push(target);
        self
    }

    /// Hands `tap` to the target of its card. Taps on cards salesbot did not send, or whose
    /// subject no target takes, are logged and left alone.
    pub async fn route(&self, effects: &Effects<'_>, tap: &TapInput) -> Result<(), HandlerError> {
        let db = effects.db();
        let Some(card) =
            card_store::by_track_id(db, tap.platform, &tap.tenant, &tap.track_id).await?
        else {
            tracing::info!(track_id = %tap.track_id, "tap on a card salesbot did not send");
            return Ok(());
        };
        match self.target_of(&card.subject) {
            Some(target) => target.tap(effects, tap, &card).await,
            None => {
                tracing::info!(subject = %card.subject, "tap on a card nothing decides");
                Ok(())
            }
        }
    }

    fn target_of(&self, subject: &str) -> Option<&Arc<dyn TapTarget>> {
        self.targets
            .iter()
            .find(|target| subject.starts_with(target.prefix()))
    }
}
