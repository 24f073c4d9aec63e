//! Approvals: a rep's request (a discount, a contract change) routed by the rules to ordered
//! levels of approvers, decided by taps on cards in WeCom or DingTalk, chased by reminders and
//! escalations, and reported to the requester, the audit log and the outbound webhooks.
//!
//! [`Approvals`] is the one service the API, the chat commands, the tap handlers and the
//! reminder job share; each state change goes through [`events`] so that the audit entry and
//! the webhook message commit with it.

mod cards;
pub mod dingtalk_taps;
mod directory;
pub mod events;
pub mod reminders;
mod request;
mod tap;
pub mod wecom_taps;
mod withdraw;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use cards::Cards;
pub use directory::Person;
pub use request::{ApprovalRequest, Started, StartedLevel, Subject};
pub use tap::TapInput;
pub use withdraw::WithdrawError;

use crate::{
    cards::Templates,
    domain::rules::Rules,
    platform::{dingtalk::DingtalkApps, wecom::WecomApps},
    webhooks::Webhooks,
};

/// Why an approval could not be started or moved on.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The request itself is wrong.
    #[error("{0}")]
    Invalid(String),
    /// No rule routes it, or its route cannot be followed (no manager, say).
    #[error("{0}")]
    Unroutable(String),
    /// The platform could not be asked (the requester's manager).
    #[error("{0}")]
    Platform(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// Everything approvals need, built once per process.
pub struct Approvals {
    pub db: DatabaseConnection,
    pub rules: Arc<Rules>,
    pub templates: Arc<Templates>,
    pub wecom: Arc<WecomApps>,
    pub dingtalk: Arc<DingtalkApps>,
    pub locale: String,
    pub public_base_url: String,
    /// Where state changes are announced.
    pub webhooks: Arc<Webhooks>,
}

impl Approvals {
    /// The approval cards in this service's templates and locale.
    pub fn cards(&self) -> Cards<'_> {
        Cards {
            templates: &self.templates,
            locale: &self.locale,
            public_base_url: &self.public_base_url,
        }
    }
}
