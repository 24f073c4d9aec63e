//! Platform-neutral business logic: customers, customer groups, channel codes, the tag
//! catalogue, leads and their score, the rules sales-ops write, and how times read in
//! messages. Knows neither WeCom nor DingTalk.

pub mod approval;
pub mod channel;
pub mod customer;
pub mod group;
pub mod lead;
pub mod rules;
pub mod tag;
pub mod time;
