//! The overdue cards: task_reminder to the assignee and task_overdue_escalation to their
//! manager, with the variables docs/templates.md lists for them.

use serde_json::{Value, json};

use super::scan::DueTask;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// What the cards say of a task besides the task itself.
pub struct About<'a> {
    /// The due time as people read it, in the team's time zone.
    pub due_at: &'a str,
    pub owner_name: &'a str,
    /// The customer's (or lead's) name and company; empty when the task has none.
    pub customer: (&'a str, &'a str),
    /// Where a tap on the card leads.
    pub link: &'a str,
}

/// The variables of task_reminder for `task` at `now`.
pub fn reminder_data(task: &DueTask, about: &About<'_>, now: i64) -> Value {
    json!({
        "task": task_vars(task, about, true),
        "overdue": overdue(task.due_at, now),
        "customer": { "name": about.customer.0, "company": about.customer.1 },
        "owner": { "name": about.owner_name },
        "links": { "task": about.link },
    })
}

/// The variables of task_overdue_escalation for `task` at `now`, to `manager_name`.
pub fn escalation_data(task: &DueTask, about: &About<'_>, manager_name: &str, now: i64) -> Value {
    let mut overdue = overdue(task.due_at, now);
    if let Value::Object(fields) = &mut overdue {
        // The escalation is about a task past due by definition.
        fields.remove("past_due");
        fields.remove("minutes");
    }
    json!({
        "task": task_vars(task, about, false),
        "overdue": overdue,
        "owner": { "name": about.owner_name },
        "manager": { "name": manager_name },
        "customer": { "name": about.customer.0, "company": about.customer.1 },
        "links": { "task": about.link },
    })
}

fn task_vars(task: &DueTask, about: &About<'_>, with_note: bool) -> Value {
    let mut vars = json!({
        "id": task.id.to_string(),
        "title": task.title,
        "due_at": about.due_at,
    });
    if with_note {
        vars["note"] = json!(task.note);
    }
    vars
}

/// How long past `due_at` it is at `now`: whether by a minute or more, then whole days,
/// hours beyond them (0–23) and minutes beyond those (0–59), as text.
fn overdue(due_at: i64, now: i64) -> Value {
    let late = (now - due_at).max(0);
    json!({
        "past_due": late >= 60_000,
        "days": (late / DAY_MS).to_string(),
        "hours": (late % DAY_MS / HOUR_MS).to_string(),
        "minutes": (late % HOUR_MS / 60_000).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::{MessageKind, Templates};

    fn task(due_at: i64) -> DueTask {
        DueTask {
            id: 42,
            tenant: "acme".into(),
            platform: "wecom".into(),
            assignee: "li.lei".into(),
            title: "回访：确认报价".into(),
            note: String::new(),
            lead_id: None,
            customer_id: Some(7),
            due_at,
            reminders_sent: 0,
            next_remind_at: due_at,
        }
    }

    /// 2026-11-27 16:00 in Shanghai.
    const DUE: i64 = 1_795_766_400_000;

    #[test]
    fn a_reminder_past_due_says_overdue_and_by_how_much() {
        let templates = Templates::load(None).unwrap();
        let about = About {
            due_at: "2026-11-27 16:00",
            owner_name: "李雷",
            customer: ("张伟", "云栖贸易"),
            link: "https://sales.example.com",
        };
        let late = reminder_data(&task(DUE), &about, DUE + DAY_MS + 3 * HOUR_MS + 60_000);
        assert_eq!(late["task"]["due_at"], "2026-11-27 16:00");
        assert_eq!(
            (
                &late["overdue"]["days"],
                &late["overdue"]["hours"],
                &late["overdue"]["minutes"]
            ),
            (&json!("1"), &json!("3"), &json!("1"))
        );
        let zh = templates
            .render(MessageKind::TaskReminder, "zh-CN", &late)
            .unwrap();
        assert_eq!(zh.title, "任务已逾期：回访：确认报价");
        assert_eq!(
            zh.description.as_deref(),
            Some("已于 2026-11-27 16:00 到期，逾期 1 天 3 小时")
        );
        let en = templates
            .render(MessageKind::TaskReminder, "en", &late)
            .unwrap();
        assert_eq!(en.title, "Overdue: 回访：确认报价");
        assert_eq!(
            en.description.as_deref(),
            Some("Was due 2026-11-27 16:00, overdue by 1d 3h")
        );

        // At the due time itself: due now, not yet overdue by anything.
        let now = reminder_data(&task(DUE), &about, DUE);
        let en = templates
            .render(MessageKind::TaskReminder, "en", &now)
            .unwrap();
        assert_eq!(en.title, "Reminder: 回访：确认报价");
        assert_eq!(en.description.as_deref(), Some("Due 2026-11-27 16:00"));
        // Minutes late: overdue, without a figure.
        let soon = reminder_data(&task(DUE), &about, DUE + 5 * 60_000);
        let zh = templates
            .render(MessageKind::TaskReminder, "zh-CN", &soon)
            .unwrap();
        assert_eq!(
            zh.description.as_deref(),
            Some("已于 2026-11-27 16:00 到期，逾期 5 分钟")
        );

        let escalation = escalation_data(&task(DUE), &about, "王芳", DUE + 4 * HOUR_MS);
        let zh = templates
            .render(MessageKind::TaskOverdueEscalation, "zh-CN", &escalation)
            .unwrap();
        assert_eq!(zh.title, "任务逾期：回访：确认报价");
        assert_eq!(
            zh.emphasis.as_ref().map(|e| e.value.as_str()),
            Some("4 小时")
        );
    }
}
