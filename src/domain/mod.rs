//! Platform-neutral business logic: customers, customer groups, channel codes, tracked links,
//! the tag catalogue, leads and their score, the rules sales-ops write, and how times read in
//! messages. Knows neither WeCom nor DingTalk.

pub mod alert;
pub mod approval;
pub mod calendar;
pub mod channel;
pub mod customer;
pub mod deal;
pub mod group;
pub mod group_activity;
pub mod lead;
pub mod link;
pub mod rules;
pub mod tag;
pub mod task;
pub mod time;
