//! What the code that sends each kind expects of its template: the callback buttons it handles
//! and the states it can put a card in. A template that offers another callback, or lacks a
//! state caption, would fail only when someone taps or a decision arrives; checking at load
//! turns that into an error on startup.

use crate::cards::MessageKind;

/// The approval buttons: the tap handler reads these keys.
const APPROVAL_ACTIONS: &[&str] = &["approve", "reject"];

/// What an approval card can become: decided by this approver or another one (`approved`,
/// `rejected`), withdrawn by the requester, or expired unanswered.
const APPROVAL_STATES: &[&str] = &["approved", "rejected", "withdrawn", "expired"];

/// The lead_assigned buttons: the assignment's tap handler reads these keys.
const ASSIGNMENT_ACTIONS: &[&str] = &["accept", "reassign"];

/// What a lead_assigned card can become: accepted by the rep, passed on with Reassign, or
/// timed out unanswered.
const ASSIGNMENT_STATES: &[&str] = &["accepted", "reassigned", "timed_out"];

/// The keys of the callback buttons a card of `kind` may carry. Link buttons may use any key.
pub(super) fn actions(kind: MessageKind) -> &'static [&'static str] {
    match kind {
        MessageKind::ApprovalRequest | MessageKind::ApprovalReminder => APPROVAL_ACTIONS,
        MessageKind::LeadAssigned => ASSIGNMENT_ACTIONS,
        _ => &[],
    }
}

/// The states a card of `kind` can be updated to; its template has a caption for each.
pub(super) fn states(kind: MessageKind) -> &'static [&'static str] {
    match kind {
        MessageKind::ApprovalRequest | MessageKind::ApprovalReminder => APPROVAL_STATES,
        MessageKind::LeadAssigned => ASSIGNMENT_STATES,
        _ => &[],
    }
}
