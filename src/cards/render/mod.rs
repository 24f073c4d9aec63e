//! Renderers: a platform-neutral [`Card`](crate::cards::Card) as each platform's JSON — a WeCom
//! template card or markdown message ([`wecom`]), DingTalk interactive-card variables or a work
//! notification ([`dingtalk`]) — with the platforms' documented size limits enforced by cutting
//! text ([`limits`]), so an over-long card is shortened instead of refused at send time.

mod body;
pub mod dingtalk;
pub mod limits;
pub mod wecom;

#[cfg(test)]
mod fixtures;
