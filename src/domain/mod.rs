//! Platform-neutral business logic.

pub mod customer;
pub mod rules;
