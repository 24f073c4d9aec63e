//! Customers: their profiles, rep relations, tags and timeline — written by the platform
//! handlers (`store`) and read by the API (`query`).

pub mod query;
pub mod store;
