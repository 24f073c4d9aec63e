//! Tasks: the work a rep is chased for — first contact with an assigned lead, a follow-up
//! after a registration, the next step of a deal. Each has an assignee and a due time; the
//! overdue scan reminds the assignee and escalates to their manager while it stays open.

pub mod store;

/// Task states.
pub mod state {
    pub const OPEN: &str = "open";
    pub const DONE: &str = "done";
    pub const CANCELLED: &str = "cancelled";
    pub const ALL: [&str; 3] = [OPEN, DONE, CANCELLED];
}

/// Longest task title, in characters (the column holds 255 bytes; titles are often Chinese).
pub const MAX_TITLE_CHARS: usize = 80;
