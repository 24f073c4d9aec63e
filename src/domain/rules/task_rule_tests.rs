//! `[[task_rule]]`: what each trigger answers, and the problems a bad rule is refused with.

use std::time::Duration;

use super::{Rules, TaskEvent, Trigger};

const FILE: &str = r#"
[[task_rule]]
name = "follow up a sign-up"
on = "registration"
task = { kind = "follow_up", title = "Call the new sign-up", due_in_mins = 120 }

[[task_rule]]
name = "first call done"
on = "task_done"
kind = "first_contact"
set_stage = "qualified"
task = { kind = "needs_analysis", title = "Needs analysis", note = "bring the price list", due_in_mins = 1440 }

[[task_rule]]
name = "proposal"
on = "deal_stage"
stage = "proposal"
task = { kind = "send_proposal", title = "Send the proposal", due_in_mins = 480 }
"#;

fn names(rules: &Rules, event: TaskEvent<'_>) -> Vec<String> {
    rules
        .task_rules_for(event)
        .map(|rule| rule.name.clone())
        .collect()
}

#[test]
fn each_trigger_answers_its_events() {
    let rules = Rules::parse(FILE, "rules.toml").unwrap();
    assert_eq!(
        names(&rules, TaskEvent::Registration),
        ["follow up a sign-up"]
    );
    assert_eq!(
        names(&rules, TaskEvent::TaskDone("first_contact")),
        ["first call done"]
    );
    assert!(names(&rules, TaskEvent::TaskDone("follow_up")).is_empty());
    assert_eq!(
        names(&rules, TaskEvent::DealStage("Proposal")),
        ["proposal"]
    );
    assert!(names(&rules, TaskEvent::DealStage("won")).is_empty());
    let done = rules
        .task_rules_for(TaskEvent::TaskDone("first_contact"))
        .next()
        .unwrap();
    assert_eq!(done.set_stage.as_deref(), Some("qualified"));
    let task = done.task.as_ref().unwrap();
    assert_eq!(task.kind, "needs_analysis");
    assert_eq!(task.note, "bring the price list");
    assert_eq!(task.due_in, Duration::from_secs(1440 * 60));
    assert_eq!(
        done.trigger,
        Trigger::TaskDone {
            kind: Some("first_contact".into())
        }
    );
}

#[test]
fn a_rule_without_a_kind_or_stage_answers_every_one() {
    let rules = Rules::parse(
        r#"
[[task_rule]]
name = "any stage"
on = "deal_stage"
task = { kind = "check_in", title = "Check in", due_in_mins = 0 }
"#,
        "rules.toml",
    )
    .unwrap();
    assert_eq!(names(&rules, TaskEvent::DealStage("won")), ["any stage"]);
    assert!(names(&rules, TaskEvent::Registration).is_empty());
}

#[test]
fn bad_rules_are_refused_with_line_and_reason() {
    let text = r#"
[[task_rule]]
name = "typo"
on = "deal_moved"
task = { kind = "x", title = "y", due_in_mins = 1 }

[[task_rule]]
name = "stage on registration"
on = "registration"
stage = "won"
task = { kind = "x", title = "y", due_in_mins = 1 }

[[task_rule]]
name = "nothing to do"
on = "task_done"

[[task_rule]]
name = "bad task"
on = "deal_stage"
task = { kind = "", title = "y", due_in_mins = -5 }

[[task_rule]]
name = "set_stage elsewhere"
on = "deal_stage"
set_stage = "won"
task = { kind = "x", title = "y", due_in_mins = 1 }

[[task_rule]]
name = "typo"
on = "registration"
task = { kind = "x", title = "y", due_in_mins = 1, owner = "z" }
"#;
    let error = Rules::parse(text, "rules.toml").unwrap_err();
    let message = error.to_string();
    let problems: Vec<String> = message.lines().map(str::to_string).collect();
    let expect = [
        (
            4,
            "`on` must be registration, deal_stage or task_done, not `deal_moved`",
        ),
        (
            10,
            "`stage` applies only to rules with `on = \"deal_stage\"`",
        ),
        (13, "a task rule needs a `task` to create"),
        (20, "task `kind` must be 1 to 32 characters"),
        (20, "task `due_in_mins` must be 0 to 525600, not -5"),
        (
            25,
            "`set_stage` applies only to rules with `on = \"task_done\"`",
        ),
        (31, "owner"),
    ];
    for (line, reason) in expect {
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with(&format!("rules.toml:{line}:")) && p.contains(reason)),
            "no problem at line {line} with {reason:?} in:\n{message}"
        );
    }
}
