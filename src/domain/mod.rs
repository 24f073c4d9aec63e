//! Platform-neutral business logic: customers, the tag catalogue, the rules sales-ops write,
//! and how times read in messages. Knows neither WeCom nor DingTalk.

pub mod customer;
pub mod rules;
pub mod tag;
pub mod time;
