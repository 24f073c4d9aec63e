//! Leads: people known from a form (a registration) before, or without, being customers in
//! WeCom; and the lead score both leads and customers earn, whose crossing of the threshold
//! hands them to sales (`lead.qualified`).

pub mod create;
pub mod form;
pub mod phone;
pub mod query;
pub mod registration;
pub mod score;
