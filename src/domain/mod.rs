//! Domain concepts that know no chat platform.

pub mod rules;
