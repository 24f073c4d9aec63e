//! `[overdue]`: how a task past its due time is chased — reminders to its assignee at fixed
//! offsets after the due time, then escalations to the assignee's manager, repeated a bounded
//! number of times. A file without the section chases with the defaults.
//!
//! Offsets are working time: the caller turns an offset into a moment with the team's
//! calendar, so that "two hours overdue" never falls on a night or a weekend.
//! The reminders and escalations form one schedule of steps ordered by their offset; a task
//! records how many steps it has been through (`task.reminders_sent`), so each step happens
//! once whatever the number of scans.

use serde::Deserialize;
use toml::{
    Spanned,
    de::{DeValue, ValueDeserializer},
};

use super::report::Report;

/// Reminder offsets after the due time, in minutes of working time, unless the file says
/// otherwise: at the due time, two working hours later, and a working day (9 hours) later.
pub const DEFAULT_REMIND_AFTER_MINS: [u32; 3] = [0, 120, 540];
/// Minutes of working time after the due time at which the manager is told, unless the file
/// says otherwise: half a working day.
pub const DEFAULT_ESCALATE_AFTER_MINS: u32 = 240;
/// Minutes of working time between escalations after the first, unless the file says
/// otherwise: a working day.
pub const DEFAULT_REPEAT_ESCALATION_EVERY_MINS: u32 = 540;
/// Escalations of one task at most, counting the first, unless the file says otherwise.
pub const DEFAULT_MAX_ESCALATIONS: u32 = 3;

/// Reminders per task at most: more would be noise nobody reads.
pub const MAX_REMINDERS: usize = 20;
/// Escalations per task at most, for the same reason.
pub const MAX_ESCALATIONS: u32 = 20;
/// The latest offset a step may have, in minutes of working time (90 × 24 hours' worth, about
/// a year of working days). A task overdue for longer is a planning question, not a reminder's.
pub const MAX_OFFSET_MINS: i64 = 90 * 24 * 60;

const MINUTE_MS: i64 = 60_000;

/// What one step of the schedule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A task_reminder to the assignee; `n` counts reminders from 0.
    Remind { n: u32 },
    /// A task_overdue_escalation to the assignee's manager; `n` counts escalations from 0.
    Escalate { n: u32 },
}

/// One step: what to do and how long (in working time) after the due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub after_ms: i64,
    pub action: Action,
}

/// The overdue policy of the rules file, checked, with its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    remind_after_mins: Vec<u32>,
    escalate_after_mins: u32,
    repeat_escalation_every_mins: u32,
    max_escalations: u32,
    /// Every step in order of offset; a reminder before an escalation of the same offset.
    steps: Vec<Step>,
}

impl Default for Overdue {
    fn default() -> Self {
        Self::new(
            DEFAULT_REMIND_AFTER_MINS.to_vec(),
            DEFAULT_ESCALATE_AFTER_MINS,
            DEFAULT_REPEAT_ESCALATION_EVERY_MINS,
            DEFAULT_MAX_ESCALATIONS,
        )
    }
}

impl Overdue {
    /// A policy of checked values: offsets increasing and within [`MAX_OFFSET_MINS`].
    fn new(
        remind_after_mins: Vec<u32>,
        escalate_after_mins: u32,
        repeat_escalation_every_mins: u32,
        max_escalations: u32,
    ) -> Self {
        let mut steps: Vec<Step> = remind_after_mins
            .iter()
            .zip(0..)
            .map(|(&mins, n)| Step {
                after_ms: i64::from(mins) * MINUTE_MS,
                action: Action::Remind { n },
            })
            .collect();
        // Without a repeat interval there is one escalation at most.
        let escalations = if repeat_escalation_every_mins == 0 {
            max_escalations.min(1)
        } else {
            max_escalations
        };
        for n in 0..escalations {
            let mins = i64::from(escalate_after_mins)
                + i64::from(n) * i64::from(repeat_escalation_every_mins);
            steps.push(Step {
                after_ms: mins * MINUTE_MS,
                action: Action::Escalate { n },
            });
        }
        // Stable: reminders stay before escalations of the same offset.
        steps.sort_by_key(|s| s.after_ms);
        Self {
            remind_after_mins,
            escalate_after_mins,
            repeat_escalation_every_mins,
            max_escalations,
            steps,
        }
    }

    /// Minutes after the due time at which the assignee is reminded, increasing.
    pub fn remind_after_mins(&self) -> &[u32] {
        &self.remind_after_mins
    }

    /// Minutes after the due time of the first escalation.
    pub fn escalate_after_mins(&self) -> u32 {
        self.escalate_after_mins
    }

    /// Minutes between escalations after the first; 0 escalates once.
    pub fn repeat_escalation_every_mins(&self) -> u32 {
        self.repeat_escalation_every_mins
    }

    /// Escalations at most, counting the first; 0 never escalates.
    pub fn max_escalations(&self) -> u32 {
        self.max_escalations
    }

    /// Every step, in the order they come due.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// When step `index` comes due, where `at` turns an offset after the due time (ms) into
    /// a moment (adding working time with the calendar); `None` past the last step.
    pub fn step_at(&self, index: usize, at: impl Fn(i64) -> i64) -> Option<i64> {
        self.steps.get(index).map(|step| at(step.after_ms))
    }

    /// What a scan at `now` does for a task that has been through `done` steps (`at` as for
    /// [`Overdue::step_at`]): the steps that have come due since, of which only the last
    /// reminder and the last escalation are sent (a task first seen long past due gets one of
    /// each, not a burst), and the index of the next step.
    pub fn due(&self, done: usize, now: i64, at: impl Fn(i64) -> i64) -> Due {
        let mut due = Due {
            remind: None,
            escalate: None,
            next: done,
        };
        while let Some(at) = self.step_at(due.next, &at) {
            if at > now {
                break;
            }
            match self.steps[due.next].action {
                Action::Remind { n } => due.remind = Some((due.next, n)),
                Action::Escalate { n } => due.escalate = Some((due.next, n)),
            }
            due.next += 1;
        }
        due
    }
}

/// The steps a scan acts on; see [`Overdue::due`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The reminder to send: (step index, reminder number).
    pub remind: Option<(usize, u32)>,
    /// The escalation to send: (step index, escalation number).
    pub escalate: Option<(usize, u32)>,
    /// The first step not yet due: the task's new step count.
    pub next: usize,
}

/// `[overdue]` as written: every key optional, so that a file names only what it changes.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with `remind_after_mins`, `escalate_after_mins`, `repeat_escalation_every_mins` and `max_escalations`"
)]
pub(super) struct RawOverdue {
    remind_after_mins: Option<Spanned<Vec<Spanned<i64>>>>,
    escalate_after_mins: Option<Spanned<i64>>,
    repeat_escalation_every_mins: Option<Spanned<i64>>,
    max_escalations: Option<Spanned<i64>>,
}

/// Reads `[overdue]`; a problem goes to the report and leaves the defaults in place.
pub(super) fn read(value: Spanned<DeValue<'_>>, report: &mut Report) -> Option<RawOverdue> {
    if !matches!(value.get_ref(), DeValue::Table(_)) {
        report.add(
            value.span(),
            None,
            "`overdue` must be a table under [overdue], with lines such as `escalate_after_mins = 240`",
        );
        return None;
    }
    let span = value.span();
    RawOverdue::deserialize(ValueDeserializer::from(value))
        .map_err(|e| {
            let reason = format!("overdue: {}", e.message());
            report.add(e.span().unwrap_or(span), None, reason);
        })
        .ok()
}

/// Checks `[overdue]`, reporting every bad value; a bad value keeps its default so that the
/// other problems are still found.
pub(super) fn compile(raw: Option<RawOverdue>, report: &mut Report<'_>) -> Overdue {
    let defaults = Overdue::default();
    let Some(raw) = raw else {
        return defaults;
    };
    let mut remind = defaults.remind_after_mins.clone();
    if let Some(list) = raw.remind_after_mins {
        let before = report.len();
        if list.get_ref().len() > MAX_REMINDERS {
            report.add(
                list.span(),
                None,
                format!(
                    "overdue: `remind_after_mins` has {} offsets; at most {MAX_REMINDERS} are allowed",
                    list.get_ref().len()
                ),
            );
        }
        let mut offsets = Vec::with_capacity(list.get_ref().len());
        for item in list.get_ref() {
            let Some(mins) = minutes(item, "remind_after_mins", report) else {
                continue;
            };
            if let Some(&last) = offsets.last()
                && mins <= last
            {
                report.add(
                    item.span(),
                    None,
                    format!(
                        "overdue: `remind_after_mins` must increase: {mins} does not come after {last}"
                    ),
                );
                continue;
            }
            offsets.push(mins);
        }
        if report.len() == before {
            remind = offsets;
        }
    }
    // Where a schedule that runs too long is reported: the last of its keys the file gives.
    let mut span = None;
    let mut value = |given: Option<Spanned<i64>>, key: &str, default: u32| {
        let given = given?;
        span = Some(given.span());
        Some(minutes(&given, key, report).unwrap_or(default))
    };
    let escalate = value(
        raw.escalate_after_mins,
        "escalate_after_mins",
        defaults.escalate_after_mins,
    )
    .unwrap_or(defaults.escalate_after_mins);
    let repeat = value(
        raw.repeat_escalation_every_mins,
        "repeat_escalation_every_mins",
        defaults.repeat_escalation_every_mins,
    )
    .unwrap_or(defaults.repeat_escalation_every_mins);
    let mut max = defaults.max_escalations;
    if let Some(given) = raw.max_escalations {
        span = Some(given.span());
        match *given.get_ref() {
            n if (0..=i64::from(MAX_ESCALATIONS)).contains(&n) => max = n as u32,
            n => report.add(
                given.span(),
                None,
                format!("overdue: `max_escalations` must be from 0 to {MAX_ESCALATIONS}, not {n}"),
            ),
        }
    }
    let policy = Overdue::new(remind, escalate, repeat, max);
    let last_escalation = policy
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Escalate { .. }))
        .map(|s| s.after_ms / MINUTE_MS)
        .max();
    if let (Some(last), Some(span)) = (last_escalation, span)
        && last > MAX_OFFSET_MINS
    {
        report.add(
            span,
            None,
            format!(
                "overdue: the last escalation would come {last} minutes after the due time; at most {MAX_OFFSET_MINS} are allowed"
            ),
        );
    }
    policy
}

/// A number of minutes from 0 to [`MAX_OFFSET_MINS`], or a problem on its line.
fn minutes(value: &Spanned<i64>, key: &str, report: &mut Report<'_>) -> Option<u32> {
    match *value.get_ref() {
        m if (0..=MAX_OFFSET_MINS).contains(&m) => Some(m as u32),
        m => {
            report.add(
                value.span(),
                None,
                format!(
                    "overdue: `{key}` must be a number of minutes from 0 to {MAX_OFFSET_MINS}, not {m}"
                ),
            );
            None
        }
    }
}
