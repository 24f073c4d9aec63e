//! The default templates, compiled into the binary so a bare install sends readable cards
//! without a `message-templates/` folder next to it.

/// The folder the defaults come from, as shown in errors about them.
pub(super) const FOLDER: &str = "message-templates";

/// `(file name, contents)` of every default template.
macro_rules! embed {
    ($($kind:literal),* $(,)?) => {
        [$(
            (
                concat!($kind, ".zh-CN.toml"),
                include_str!(concat!("../../../message-templates/", $kind, ".zh-CN.toml")),
            ),
            (
                concat!($kind, ".en.toml"),
                include_str!(concat!("../../../message-templates/", $kind, ".en.toml")),
            ),
        )*]
    };
}

pub(super) const FILES: [(&str, &str); 28] = embed!(
    "customer_welcome",
    "lead_assigned",
    "task_reminder",
    "task_overdue_escalation",
    "approval_request",
    "approval_progress",
    "approval_decided",
    "approval_reminder",
    "deal_idle_alert",
    "kpi_alert",
    "customer_lost_alert",
    "lead_reassigned",
    "rep_idle_alert",
    "alert_digest",
);
