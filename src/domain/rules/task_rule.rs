//! Task rules: the next piece of work after an event. A registration gets its lead's owner a
//! follow-up task; a deal moving to a stage gets its owner that stage's task; a task of a kind
//! being done moves its deal on (first call done → stage `qualified`) and creates the next
//! task. Every rule whose trigger matches applies, in file order.

use std::time::Duration;

use toml::Spanned;

use super::{
    error::RuleRef,
    file::{Entry, RawTaskRule, RawTaskTemplate},
    report::{Report, RuleNames},
};
use crate::domain::task::MAX_TITLE_CHARS;

/// Longest `due_in_mins`: a year. Work due later than that is not chased by a rule.
pub const MAX_DUE_IN_MINS: i64 = 525_600;
/// Longest task kind and deal stage, in characters (their columns).
const MAX_WORD_CHARS: usize = 32;

/// One `[[task_rule]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRule {
    pub name: String,
    pub trigger: Trigger,
    /// `task_done` only: the stage the done task's deal moves to.
    pub set_stage: Option<String>,
    pub task: Option<TaskTemplate>,
}

/// What a task rule waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A registration (a form sign-up) of a lead or customer with an owner.
    Registration,
    /// A deal moving to `stage` (any stage when `None`).
    DealStage { stage: Option<String> },
    /// A task of `kind` (any kind when `None`) being done.
    TaskDone { kind: Option<String> },
}

/// An event task rules may answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskEvent<'a> {
    Registration,
    /// A deal moved to this stage.
    DealStage(&'a str),
    /// A task of this kind was done.
    TaskDone(&'a str),
}

/// The task a rule creates, for the owner of what triggered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTemplate {
    pub kind: String,
    pub title: String,
    pub note: String,
    /// Working time from the event to the due time.
    pub due_in: Duration,
}

impl TaskRule {
    /// Whether the rule answers `event`.
    pub fn answers(&self, event: TaskEvent<'_>) -> bool {
        let matches = |wanted: &Option<String>, got: &str| {
            wanted
                .as_deref()
                .is_none_or(|w| w.eq_ignore_ascii_case(got))
        };
        match (&self.trigger, event) {
            (Trigger::Registration, TaskEvent::Registration) => true,
            (Trigger::DealStage { stage }, TaskEvent::DealStage(got)) => matches(stage, got),
            (Trigger::TaskDone { kind }, TaskEvent::TaskDone(got)) => matches(kind, got),
            _ => false,
        }
    }
}

/// Checks every task rule, reporting each problem; only rules without problems are kept.
pub(super) fn compile(raw: Vec<Entry<RawTaskRule>>, report: &mut Report<'_>) -> Vec<TaskRule> {
    let mut names = RuleNames::new("task_rule", "the task's audit entries");
    let mut rules = Vec::with_capacity(raw.len());
    for Entry { at, span, raw } in raw {
        let before = report.len();
        names.check(raw.name.get_ref(), raw.name.span(), &at, report);
        let rule = compile_rule(raw, &at, span, report);
        if report.len() == before {
            rules.extend(rule);
        }
    }
    rules
}

fn compile_rule(
    raw: RawTaskRule,
    at: &RuleRef,
    span: std::ops::Range<usize>,
    report: &mut Report<'_>,
) -> Option<TaskRule> {
    let word = |value: &Option<Spanned<String>>, key: &str, report: &mut Report<'_>| {
        let value = value.as_ref()?;
        let text = value.get_ref().trim();
        if text.is_empty() || text.chars().count() > MAX_WORD_CHARS {
            report.add(
                value.span(),
                Some(at),
                format!("`{key}` must be 1 to {MAX_WORD_CHARS} characters"),
            );
            return None;
        }
        Some(text.to_string())
    };
    let only_on =
        |value: &Option<Spanned<String>>, key: &str, on: &str, report: &mut Report<'_>| {
            if let Some(value) = value {
                report.add(
                    value.span(),
                    Some(at),
                    format!("`{key}` applies only to rules with `on = \"{on}\"`"),
                );
            }
        };
    let trigger = match raw.on.get_ref().as_str() {
        "registration" => {
            only_on(&raw.stage, "stage", "deal_stage", report);
            only_on(&raw.kind, "kind", "task_done", report);
            Trigger::Registration
        }
        "deal_stage" => {
            only_on(&raw.kind, "kind", "task_done", report);
            Trigger::DealStage {
                stage: word(&raw.stage, "stage", report),
            }
        }
        "task_done" => {
            only_on(&raw.stage, "stage", "deal_stage", report);
            Trigger::TaskDone {
                kind: word(&raw.kind, "kind", report),
            }
        }
        other => {
            report.add(
                raw.on.span(),
                Some(at),
                format!("`on` must be registration, deal_stage or task_done, not `{other}`"),
            );
            return None;
        }
    };
    let set_stage = match (&trigger, &raw.set_stage) {
        (Trigger::TaskDone { .. }, stage) => word(stage, "set_stage", report),
        (_, stage) => {
            only_on(stage, "set_stage", "task_done", report);
            None
        }
    };
    let task = raw.task.and_then(|task| template(task, at, report));
    if task.is_none() && set_stage.is_none() && raw.set_stage.is_none() {
        report.add(
            span,
            Some(at),
            "a task rule needs a `task` to create (or, on task_done, a `set_stage`)",
        );
    }
    Some(TaskRule {
        name: raw.name.into_inner().trim().to_string(),
        trigger,
        set_stage,
        task,
    })
}

fn template(
    raw: Spanned<RawTaskTemplate>,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Option<TaskTemplate> {
    let raw = raw.into_inner();
    let before = report.len();
    let kind = raw.kind.get_ref().trim();
    if kind.is_empty() || kind.chars().count() > MAX_WORD_CHARS {
        report.add(
            raw.kind.span(),
            Some(at),
            format!("task `kind` must be 1 to {MAX_WORD_CHARS} characters"),
        );
    }
    let title = raw.title.get_ref().trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        report.add(
            raw.title.span(),
            Some(at),
            format!("task `title` must be 1 to {MAX_TITLE_CHARS} characters"),
        );
    }
    let due = *raw.due_in_mins.get_ref();
    if !(0..=MAX_DUE_IN_MINS).contains(&due) {
        report.add(
            raw.due_in_mins.span(),
            Some(at),
            format!("task `due_in_mins` must be 0 to {MAX_DUE_IN_MINS}, not {due}"),
        );
    }
    (report.len() == before).then(|| TaskTemplate {
        kind: kind.to_string(),
        title: title.to_string(),
        note: raw
            .note
            .map(|n| n.into_inner().trim().to_string())
            .unwrap_or_default(),
        due_in: Duration::from_secs(due as u64 * 60),
    })
}
