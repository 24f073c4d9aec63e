//! `change_external_tag`: the corp's tag catalogue changed in WeCom (a tag or group created,
//! renamed, deleted, reordered). The events carry no names, so the catalogue is read again.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Contacts, catalogue};
use sea_orm::DatabaseConnection;

use crate::pipeline::{Effects, EventHandler, HandlerError, InboxEvent, Prepared};

/// Re-reads the tenant's tag catalogue.
pub struct TagsChanged(pub Arc<Contacts>);

/// The catalogue is a cache of WeCom's: it is refreshed before the event's transaction (safe
/// to repeat), and the event itself writes nothing more.
#[async_trait]
impl EventHandler for TagsChanged {
    async fn prepare(
        &self,
        db: &DatabaseConnection,
        event: &InboxEvent,
        now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        let app = self.0.app(&event.tenant)?;
        catalogue::refresh(db, &app.client, &event.tenant, now).await?;
        Ok(None)
    }

    async fn handle(
        &self,
        _effects: &Effects<'_>,
        _event: &InboxEvent,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}
