//! The variables each message kind supplies, as sample data: what templates are checked against
//! at load (so a misspelt variable fails on startup, not on the first real event) and what
//! `salesbot check` renders. docs/templates.md lists the same variables.

use std::sync::LazyLock;

use crate::cards::MessageKind;

/// The key of the decision data that interactive kinds supply only when a card is updated.
pub(super) const STATE_KEY: &str = "state";

/// The JSON source of each kind's sample, in the order of [`MessageKind::ALL`].
const SOURCES: [&str; MessageKind::ALL.len()] = [
    include_str!("samples/customer_welcome.json"),
    include_str!("samples/lead_assigned.json"),
    include_str!("samples/task_reminder.json"),
    include_str!("samples/task_overdue_escalation.json"),
    include_str!("samples/approval_request.json"),
    include_str!("samples/approval_progress.json"),
    include_str!("samples/approval_decided.json"),
    include_str!("samples/approval_reminder.json"),
    include_str!("samples/deal_idle_alert.json"),
    include_str!("samples/kpi_alert.json"),
    include_str!("samples/customer_lost_alert.json"),
    include_str!("samples/lead_reassigned.json"),
    include_str!("samples/rep_idle_alert.json"),
    include_str!("samples/alert_digest.json"),
];

static SAMPLES: LazyLock<Vec<serde_json::Value>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|source| {
            // Embedded at build time and parsed by the tests: this cannot fail in a release.
            serde_json::from_str(source).expect("embedded sample data is valid JSON")
        })
        .collect()
});

/// The sample data of `kind`, with `state` for the kinds whose cards can be updated.
pub(super) fn sample(kind: MessageKind) -> &'static serde_json::Value {
    &SAMPLES[super::kind_index(kind)]
}

/// The sample data as a new card sees it: without `state`, which only an update supplies, so a
/// card template that uses `state` fails at load instead of on the first real card.
pub(super) fn sample_without_state(kind: MessageKind) -> serde_json::Value {
    let mut data = sample(kind).clone();
    if let Some(object) = data.as_object_mut() {
        object.remove(STATE_KEY);
    }
    data
}
