//! The kinds of message salesbot sends, each with a template per locale.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A message kind: names the template (`message-templates/<kind>.<locale>.toml`) and is the
/// first part of every idempotency key of the messages of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Welcome to a customer who added a rep.
    CustomerWelcome,
    /// A lead or customer assigned to a rep.
    LeadAssigned,
    /// A task is due soon.
    TaskReminder,
    /// A task is overdue; sent to the owner's manager.
    TaskOverdueEscalation,
    /// Approve or reject, to an approver (interactive).
    ApprovalRequest,
    /// To the requester: a step of their approval was decided.
    ApprovalProgress,
    /// To the requester: their approval was finally decided.
    ApprovalDecided,
    /// To an approver who has not decided yet.
    ApprovalReminder,
    /// A deal has seen no activity for a while.
    DealIdleAlert,
    /// A KPI crossed its threshold.
    KpiAlert,
    /// A customer deleted the rep or left.
    CustomerLostAlert,
    /// To a pool's manager: a rep passed a lead on (Reassign, or no answer in time).
    LeadReassigned,
    /// A rep has had no follow-up for a while; sent to their manager.
    RepIdleAlert,
    /// Several manager alerts at once, listed on one card.
    AlertDigest,
}

impl MessageKind {
    pub const ALL: [Self; 14] = [
        Self::CustomerWelcome,
        Self::LeadAssigned,
        Self::TaskReminder,
        Self::TaskOverdueEscalation,
        Self::ApprovalRequest,
        Self::ApprovalProgress,
        Self::ApprovalDecided,
        Self::ApprovalReminder,
        Self::DealIdleAlert,
        Self::KpiAlert,
        Self::CustomerLostAlert,
        Self::LeadReassigned,
        Self::RepIdleAlert,
        Self::AlertDigest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerWelcome => "customer_welcome",
            Self::LeadAssigned => "lead_assigned",
            Self::TaskReminder => "task_reminder",
            Self::TaskOverdueEscalation => "task_overdue_escalation",
            Self::ApprovalRequest => "approval_request",
            Self::ApprovalProgress => "approval_progress",
            Self::ApprovalDecided => "approval_decided",
            Self::ApprovalReminder => "approval_reminder",
            Self::DealIdleAlert => "deal_idle_alert",
            Self::KpiAlert => "kpi_alert",
            Self::CustomerLostAlert => "customer_lost_alert",
            Self::LeadReassigned => "lead_reassigned",
            Self::RepIdleAlert => "rep_idle_alert",
            Self::AlertDigest => "alert_digest",
        }
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of [`MessageKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown message kind `{0}`")]
pub struct UnknownKind(pub String);

impl FromStr for MessageKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// The locales templates are written in; the first is the default.
pub const LOCALES: [&str; 2] = ["zh-CN", "en"];

/// The locale used when none is asked for.
pub const DEFAULT_LOCALE: &str = LOCALES[0];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in MessageKind::ALL {
            assert_eq!(kind.as_str().parse::<MessageKind>(), Ok(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
        assert!("approval".parse::<MessageKind>().is_err());
    }
}
