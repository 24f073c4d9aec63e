//! Deals, kept minimal: what a rep is working towards (a stage, an amount, an owner) and when
//! anything last happened on it. Stages are free words sales-ops choose; `won` and `lost`
//! close a deal. Task rules move a deal's stage when work on it is done, and the idle-deal
//! alert reads `last_activity_at`.

pub mod store;

/// Longest stage name, in characters.
pub const MAX_STAGE_CHARS: usize = 32;
/// Stages that close a deal.
pub const CLOSING_STAGES: [&str; 2] = ["won", "lost"];

/// Whether `stage` closes the deal.
pub fn closes(stage: &str) -> bool {
    CLOSING_STAGES
        .iter()
        .any(|closing| closing.eq_ignore_ascii_case(stage))
}
