//! Manager alerts in the database: the episodes of the `[[alert]]` rules (`store`) and the
//! conditions they watch, read from deals and tasks (`watch`).

pub mod store;
pub mod watch;

/// The `kind` column and the message kind of an alert's own card.
pub mod kind {
    pub const DEAL_IDLE: &str = "deal_idle";
    pub const REP_IDLE: &str = "rep_idle";
    pub const KPI: &str = "kpi";
}
