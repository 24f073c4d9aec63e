//! `[overdue]`: its defaults, the schedule of steps it makes, what a scan at a given time
//! acts on, and every kind of problem with the line it is reported on.

use super::*;

const MIN: i64 = 60_000;

/// The problems of an invalid file, as (line, reason).
fn problems(text: &str) -> Vec<(usize, String)> {
    match Rules::parse(text, "rules.toml") {
        Ok(rules) => panic!("expected problems, got {rules:?}"),
        Err(e) => e
            .problems()
            .iter()
            .map(|p| {
                assert_eq!(p.rule, None, "{p}");
                (p.line, p.reason.clone())
            })
            .collect(),
    }
}

fn parse(text: &str) -> Overdue {
    Rules::parse(text, "rules.toml").unwrap().overdue().clone()
}

/// The steps as (minutes after due, action).
fn schedule(policy: &Overdue) -> Vec<(i64, Action)> {
    policy
        .steps()
        .iter()
        .map(|s| (s.after_ms / MIN, s.action))
        .collect()
}

use Action::{Escalate, Remind};

#[test]
fn without_the_section_or_with_an_empty_one_the_defaults_apply() {
    for text in ["", "[overdue]\n"] {
        let policy = parse(text);
        assert_eq!(policy, Overdue::default(), "{text:?}");
        assert_eq!(policy.remind_after_mins(), [0, 120, 540]);
        assert_eq!(policy.escalate_after_mins(), 240);
        assert_eq!(policy.repeat_escalation_every_mins(), 540);
        assert_eq!(policy.max_escalations(), 3);
    }
    assert_eq!(
        schedule(&Overdue::default()),
        [
            (0, Remind { n: 0 }),
            (120, Remind { n: 1 }),
            (240, Escalate { n: 0 }),
            (540, Remind { n: 2 }),
            (780, Escalate { n: 1 }),
            (1320, Escalate { n: 2 }),
        ]
    );
}

#[test]
fn a_valid_section_sets_what_it_names_and_keeps_the_other_defaults() {
    let policy = parse("[overdue]\nremind_after_mins = [30, 60]\nmax_escalations = 2\n");
    assert_eq!(
        schedule(&policy),
        [
            (30, Remind { n: 0 }),
            (60, Remind { n: 1 }),
            (240, Escalate { n: 0 }),
            (780, Escalate { n: 1 }),
        ]
    );
    // A reminder and an escalation at the same offset: the reminder first.
    let policy = parse(
        "overdue = { remind_after_mins = [0, 60], escalate_after_mins = 60, repeat_escalation_every_mins = 0 }\n",
    );
    assert_eq!(
        schedule(&policy),
        [
            (0, Remind { n: 0 }),
            (60, Remind { n: 1 }),
            (60, Escalate { n: 0 })
        ]
    );
}

#[test]
fn no_repeat_escalates_once_and_no_escalations_or_reminders_leave_them_out() {
    let once = parse("[overdue]\nrepeat_escalation_every_mins = 0\nmax_escalations = 5\n");
    let escalations = |p: &Overdue| {
        p.steps()
            .iter()
            .filter(|s| matches!(s.action, Escalate { .. }))
            .count()
    };
    assert_eq!(escalations(&once), 1);
    let never = parse("[overdue]\nmax_escalations = 0\n");
    assert_eq!(escalations(&never), 0);
    assert_eq!(never.steps().len(), 3);
    let quiet = parse("[overdue]\nremind_after_mins = []\nmax_escalations = 0\n");
    assert!(quiet.steps().is_empty());
    assert_eq!(quiet.step_at(0, |after| after), None);
}

#[test]
fn a_scan_acts_once_per_step_and_a_late_first_look_sends_one_of_each() {
    let policy = Overdue::default();
    let due_at = 1_795_000_000_000;
    // Plain clock time here; the job adds working time with the team's calendar.
    let at = |after: i64| due_at + after;
    let fields = |d: Due| (d.remind, d.escalate, d.next);
    // Before the due time nothing is due.
    assert_eq!(fields(policy.due(0, due_at - 1, at)), (None, None, 0));
    // At the due time: the first reminder.
    assert_eq!(fields(policy.due(0, due_at, at)), (Some((0, 0)), None, 1));
    // A scan a minute later, with that step done, has nothing to do.
    assert_eq!(fields(policy.due(1, due_at + MIN, at)), (None, None, 1));
    assert_eq!(policy.step_at(1, at), Some(due_at + 120 * MIN));
    // First looked at long after: the last reminder and the last escalation that came due.
    assert_eq!(
        fields(policy.due(0, due_at + 800 * MIN, at)),
        (Some((3, 2)), Some((4, 1)), 5)
    );
    // Past the last step: nothing more, ever.
    assert_eq!(
        fields(policy.due(6, due_at + 100 * 1440 * MIN, at)),
        (None, None, 6)
    );
    assert_eq!(policy.step_at(6, at), None);
}

#[test]
fn an_unknown_key_is_refused_on_its_line() {
    let got = problems("[overdue]\nremind_after_mins = [0]\nescalate_after = 60\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 3);
    assert!(
        got[0]
            .1
            .starts_with("overdue: unknown field `escalate_after`, expected one of"),
        "{}",
        got[0].1
    );
}

#[test]
fn negative_too_large_and_unordered_offsets_are_refused_each_on_its_line() {
    let got = problems(
        "[overdue]\nremind_after_mins = [\n  0,\n  120,\n  60,\n  -5,\n]\nescalate_after_mins = 200000\nmax_escalations = 21\nrepeat_escalation_every_mins = -1\n",
    );
    assert_eq!(
        got,
        [
            (
                5,
                "overdue: `remind_after_mins` must increase: 60 does not come after 120".to_string()
            ),
            (
                6,
                "overdue: `remind_after_mins` must be a number of minutes from 0 to 129600, not -5"
                    .to_string()
            ),
            (
                8,
                "overdue: `escalate_after_mins` must be a number of minutes from 0 to 129600, not 200000"
                    .to_string()
            ),
            (
                9,
                "overdue: `max_escalations` must be from 0 to 20, not 21".to_string()
            ),
            (
                10,
                "overdue: `repeat_escalation_every_mins` must be a number of minutes from 0 to 129600, not -1"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn too_many_reminders_and_a_schedule_past_ninety_days_are_refused() {
    let many: Vec<String> = (0..21).map(|n| (n * 10).to_string()).collect();
    let got = problems(&format!(
        "[overdue]\nremind_after_mins = [{}]\n",
        many.join(", ")
    ));
    assert_eq!(
        got,
        [(
            2,
            "overdue: `remind_after_mins` has 21 offsets; at most 20 are allowed".to_string()
        )]
    );

    let got = problems("[overdue]\nrepeat_escalation_every_mins = 43200\nmax_escalations = 4\n");
    assert_eq!(
        got,
        [(
            3,
            "overdue: the last escalation would come 129840 minutes after the due time; at most 129600 are allowed"
                .to_string()
        )]
    );
}

#[test]
fn values_of_the_wrong_kind_and_a_section_that_is_no_table_are_refused() {
    let got = problems("[overdue]\nescalate_after_mins = 2.5\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 2);
    assert!(
        got[0].1.starts_with("overdue: invalid type"),
        "{}",
        got[0].1
    );

    let got = problems("overdue = 240\n");
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].0, 1);
    assert!(
        got[0].1.starts_with("`overdue` must be a table"),
        "{}",
        got[0].1
    );
}

#[test]
fn problems_elsewhere_in_the_file_are_reported_with_those_of_overdue() {
    let text = "[lead_score]\nthreshold = -1\n\n[overdue]\nmax_escalations = -1\n";
    let lines: Vec<usize> = problems(text).into_iter().map(|(line, _)| line).collect();
    assert_eq!(lines, [2, 5]);
}
