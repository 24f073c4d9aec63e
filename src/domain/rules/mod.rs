//! The rules file: what sales-ops configure without code, in one TOML file (`docs/rules.md`).
//!
//! This module loads and checks the file and evaluates its rules. It has `tagging`,
//! `approval` with its `roles`, `lead_score`, `task_rule`, `overdue`, `assignment` with its
//! `pools`, and `alert` (managers' alerts).
//! A file is either fully valid or refused with every problem it has, each naming the file,
//! line, rule and reason.

mod alert;
mod approval;
mod assignment;
mod condition;
mod error;
mod expression;
mod facts;
mod file;
mod lead_score;
mod overdue;
mod report;
mod roles;
mod tag;
mod tagging;
mod task_rule;

#[cfg(test)]
mod alert_tests;
#[cfg(test)]
mod approval_load_tests;
#[cfg(test)]
mod approval_tests;
#[cfg(test)]
mod assignment_tests;
#[cfg(test)]
mod lead_score_tests;
#[cfg(test)]
mod overdue_tests;
#[cfg(test)]
mod task_rule_tests;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use alert::{AlertRule, AlertTo, Condition, MAX_ALERT_DAYS, MAX_ALERT_REPS, RepRef};
pub use approval::{
    ApprovalRule, ApproverRef, Level, MAX_APPROVERS, MAX_LEVELS, Mode, Route, RouteError,
};
pub use assignment::{
    AssignError, Assignment, AssignmentRule, Choice, DEFAULT_ACCEPT_WITHIN_MINS,
    DEFAULT_FIRST_CONTACT_WITHIN_MINS, DEFAULT_RULE, MAX_POOL_MEMBERS, Pool, Strategy, Target,
};
pub use error::{Problem, RuleRef, RulesError};
pub use facts::{ApprovalFacts, CustomerType, Gender, LeadFacts, TaggingFacts};
pub use lead_score::{DEFAULT_HALF_LIFE_DAYS, DEFAULT_THRESHOLD, LeadScore, Points};
pub use overdue::{Action, Due, Overdue, Step};
pub use roles::{MAX_ROLE_CHARS, MAX_USER_ID_CHARS};
pub use tag::{MAX_TAG_CHARS, Part, TagName, TagNameError};
pub use tagging::{Tagging, TaggingRule};
pub use task_rule::{MAX_DUE_IN_MINS, TaskEvent, TaskRule, TaskTemplate, Trigger};

use report::Report;
use roles::Roles;

/// Every rule of the rules file, checked and ready to evaluate. The default has no rules and
/// the default lead score.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    tagging: Vec<TaggingRule>,
    approval: Vec<ApprovalRule>,
    roles: Roles,
    lead_score: LeadScore,
    overdue: Overdue,
    pools: assignment::Pools,
    assignment: Assignment,
    task_rules: Vec<TaskRule>,
    alert: Vec<AlertRule>,
}

impl Rules {
    /// Reads and checks the rules file at `path`; problems name the path as given.
    pub fn load(path: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Checks the rules in `text`; `file` is the name problems give it.
    pub fn parse(text: &str, file: &str) -> Result<Self, RulesError> {
        let mut report = Report::new(file, text);
        let document = file::read(&mut report);
        let tagging = tagging::compile(document.tagging, &mut report);
        // Before the approval rules, which may only name roles defined here.
        let roles = roles::compile(document.roles, &mut report);
        let approval = approval::compile(document.approval, &roles, &mut report);
        let lead_score = lead_score::compile(document.lead_score, &mut report);
        let overdue = overdue::compile(document.overdue, &mut report);
        // Before the assignment rules, which may only name pools defined here.
        let pools = assignment::compile_pools(document.pools, &mut report);
        let assignment = assignment::compile(
            document.assignment,
            document.assignment_settings,
            &pools,
            &mut report,
        );
        let task_rules = task_rule::compile(document.task_rule, &mut report);
        let alert = alert::compile(document.alert, &roles, &pools, &mut report);
        report.finish()?;
        Ok(Self {
            tagging,
            approval,
            roles,
            lead_score,
            overdue,
            pools,
            assignment,
            task_rules,
            alert,
        })
    }

    /// The tagging rules, in file order.
    pub fn tagging(&self) -> &[TaggingRule] {
        &self.tagging
    }

    /// The tags a customer gets: the union of the tags of every matching tagging rule, each
    /// tag once, in the order first seen, with the names of the rules that asked for it.
    pub fn tags_for(&self, facts: &TaggingFacts) -> Vec<Tagging> {
        tagging::tags_for(&self.tagging, facts)
    }

    /// The approval rules, in file order.
    pub fn approval(&self) -> &[ApprovalRule] {
        &self.approval
    }

    /// Where an approval request goes: the levels of the first approval rule, in file order,
    /// whose `when` holds; `None` when none does ([`ApprovalFacts::no_match_reason`] says so
    /// to the requester). A rule whose `when` fails stops the search with its error.
    pub fn route(&self, request: &ApprovalFacts) -> Result<Option<Route>, RouteError> {
        approval::route(&self.approval, request)
    }

    /// How leads and customers are scored: `[lead_score]`, or the defaults without one.
    pub fn lead_score(&self) -> &LeadScore {
        &self.lead_score
    }

    /// How overdue tasks are chased: `[overdue]`, or the defaults without one.
    pub fn overdue(&self) -> &Overdue {
        &self.overdue
    }

    /// The task rules that answer `event`, in file order.
    pub fn task_rules_for<'a>(
        &'a self,
        event: TaskEvent<'a>,
    ) -> impl Iterator<Item = &'a TaskRule> + 'a {
        self.task_rules
            .iter()
            .filter(move |rule| rule.answers(event))
    }

    /// The user ids of a role of `[roles]`, in the order written; none for an unknown role.
    pub fn role_members(&self, role: &str) -> &[String] {
        self.roles.get(role).map_or(&[], Vec::as_slice)
    }

    /// The alert rules, in file order.
    pub fn alerts(&self) -> &[AlertRule] {
        &self.alert
    }

    /// The user ids a rep_idle rule watches (its reps, roles expanded), each once, in the
    /// order written; none for other kinds.
    pub fn alert_reps(&self, rule: &AlertRule) -> Vec<String> {
        match rule.condition() {
            Condition::RepIdle { reps, .. } => alert::resolve_reps(reps, &self.roles, &self.pools),
            _ => Vec::new(),
        }
    }
}
