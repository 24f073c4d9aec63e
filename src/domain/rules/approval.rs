//! Approval rules: who must approve a request (a discount, a contract), level after level.
//! The first rule, in file order, whose `when` holds gives the levels.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Rules,
    error::RuleRef,
    expression::{self, Expression, Failure, Vars},
    facts::ApprovalFacts,
    file::{Entry, RawApprovalRule, RawLevel},
    report::{Report, RuleNames},
    roles::{Roles, USER_ID_RULE, defined_role, is_user_id},
};

/// Most levels in one rule. A longer chain is more likely a mistake than a policy, and each
/// level is a round of messages and waiting.
pub const MAX_LEVELS: usize = 10;

/// Most approver references in one level; a role counts as one however many members it has.
pub const MAX_APPROVERS: usize = 20;

/// One `[[approval]]` rule: when its `when` holds, the request goes through its levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRule {
    name: String,
    when: Expression,
    levels: Vec<Level>,
}

/// Where a request goes: the levels of the rule that matched, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The name of the rule that matched, for the request's history.
    pub rule: String,
    pub levels: Vec<Level>,
}

/// One level: the approvers asked at the same time, and how many of them must approve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// Without repeats, in the order written.
    pub approvers: Vec<ApproverRef>,
    pub mode: Mode,
}

/// How many approvers of a level must approve before the next level is asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One approval is enough.
    #[default]
    Any,
    /// Everyone must approve.
    All,
}

/// An approver as a rule names them; [`Level::resolve`] turns them into user ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ApproverRef {
    /// A user id, written as itself.
    User(String),
    /// The requester's manager, written `manager`.
    Manager,
    /// Every member of a role of `[roles]`, written `role:<name>`.
    Role(String),
}

/// Why a request could not be routed or a level's approvers found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The rule's `when` gave a value that is not a boolean.
    #[error("approval rule \"{rule}\": `when` gave a {got}, not true or false")]
    NotBoolean { rule: String, got: String },
    /// The rule's `when` failed, for example on a key missing from `fields`.
    #[error("approval rule \"{rule}\": `when` failed: {reason}")]
    Evaluation { rule: String, reason: String },
    #[error("the requester has no manager")]
    NoManager,
    /// The level names a role the given rules do not define: it came from other rules.
    #[error("unknown role `{0}`")]
    UnknownRole(String),
}

impl ApprovalRule {
    /// Unique among the approval rules; shown in logs, errors and the request's history.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CEL expression, as written.
    pub fn when(&self) -> &str {
        self.when.source()
    }

    pub fn levels(&self) -> &[Level] {
        &self.levels
    }

    /// Whether the rule's `when` holds for this request.
    pub fn matches(&self, facts: &ApprovalFacts) -> Result<bool, RouteError> {
        self.holds(&expression::context(facts))
    }

    fn holds(&self, context: &cel::Context<'_, '_>) -> Result<bool, RouteError> {
        self.when
            .evaluate(context)
            .map_err(|failure| match failure {
                Failure::NotBoolean(got) => RouteError::NotBoolean {
                    rule: self.name.clone(),
                    got,
                },
                Failure::Error(reason) => RouteError::Evaluation {
                    rule: self.name.clone(),
                    reason,
                },
            })
    }
}

impl Level {
    /// The user ids of the level's approvers, each once, in the order written: `manager` is
    /// `requester_manager`, `role:x` the members of role x, anything else the user id itself.
    pub fn resolve(
        &self,
        rules: &Rules,
        requester_manager: Option<&str>,
    ) -> Result<Vec<String>, RouteError> {
        let mut ids: Vec<String> = Vec::new();
        let mut add = |id: &str| {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_string());
            }
        };
        for approver in &self.approvers {
            match approver {
                ApproverRef::User(id) => add(id),
                ApproverRef::Manager => add(requester_manager.ok_or(RouteError::NoManager)?),
                ApproverRef::Role(role) => {
                    let members = rules
                        .roles
                        .get(role)
                        .ok_or_else(|| RouteError::UnknownRole(role.clone()))?;
                    members.iter().for_each(|id| add(id));
                }
            }
        }
        Ok(ids)
    }
}

impl fmt::Display for ApproverRef {
    /// As written in the rules file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => f.write_str(id),
            Self::Manager => f.write_str("manager"),
            Self::Role(role) => write!(f, "role:{role}"),
        }
    }
}

/// The levels of the first rule whose `when` holds. A rule that fails stops the search: going
/// on could route the request to approvers who should not decide it.
pub(super) fn route(
    rules: &[ApprovalRule],
    facts: &ApprovalFacts,
) -> Result<Option<Route>, RouteError> {
    if rules.is_empty() {
        return Ok(None);
    }
    let context = expression::context(facts);
    for rule in rules {
        if rule.holds(&context)? {
            return Ok(Some(Route {
                rule: rule.name.clone(),
                levels: rule.levels.clone(),
            }));
        }
    }
    Ok(None)
}

/// Checks every rule against the roles defined, reporting all problems; returns the rules
/// that had none.
pub(super) fn compile(
    entries: Vec<Entry<RawApprovalRule>>,
    roles: &Roles,
    report: &mut Report<'_>,
) -> Vec<ApprovalRule> {
    let mut names = RuleNames::new("approval", "the request's history");
    let mut rules = Vec::with_capacity(entries.len());
    for Entry { at, span, raw } in entries {
        let before = report.len();
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        names.check(&name, name_span, &at, report);
        let when = compile_when(raw.when, Vars::Approval, &span, &at, report);
        let levels = compile_levels(raw.levels, roles, &at, report);
        if let (Some(when), true) = (when, report.len() == before) {
            rules.push(ApprovalRule { name, when, levels });
        }
    }
    rules
}

/// Compiles a rule's `when` against the variables of `vars`, or reports why it cannot be used.
/// `header` is the rule's own span, for a rule with no `when` at all.
pub(super) fn compile_when(
    when: Option<Spanned<String>>,
    vars: Vars,
    header: &std::ops::Range<usize>,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Option<Expression> {
    let (what, example) = match vars {
        Vars::Approval => ("request", "kind == \"discount\""),
        Vars::Lead => ("lead", "region == \"华东\""),
    };
    let Some(when) = when else {
        let reason = format!(
            "has no `when`; write a CEL condition, or `when = \"true\"` for a rule \
             that takes every {what} (placed last)"
        );
        report.add(header.clone(), Some(at), reason);
        return None;
    };
    if when.get_ref().trim().is_empty() {
        let reason = format!("`when` is empty; write a CEL condition such as `{example}`");
        report.add(when.span(), Some(at), reason);
        return None;
    }
    Expression::compile(when.get_ref(), vars)
        .map_err(|reason| report.add(when.span(), Some(at), reason))
        .ok()
}

fn compile_levels(
    levels: Spanned<Vec<Spanned<RawLevel>>>,
    roles: &Roles,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Vec<Level> {
    let span = levels.span();
    let levels = levels.into_inner();
    if levels.is_empty() {
        let reason = "`levels` lists nothing; a rule needs at least one level of approvers";
        report.add(span, Some(at), reason);
    } else if levels.len() > MAX_LEVELS {
        let reason = format!("has {} levels; at most {MAX_LEVELS}", levels.len());
        report.add(span, Some(at), reason);
    }
    levels
        .into_iter()
        .map(|level| compile_level(level.into_inner(), roles, at, report))
        .collect()
}

fn compile_level(
    RawLevel { approvers, mode }: RawLevel,
    roles: &Roles,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Level {
    let count = approvers.get_ref().len();
    if count == 0 {
        let reason = "a level's `approvers` lists nobody; list at least one";
        report.add(approvers.span(), Some(at), reason);
    } else if count > MAX_APPROVERS {
        let reason = format!("a level lists {count} approvers; at most {MAX_APPROVERS}");
        report.add(approvers.span(), Some(at), reason);
    }
    let mut refs: Vec<ApproverRef> = Vec::with_capacity(count);
    for text in approvers.into_inner() {
        match parse_ref(text.get_ref(), roles) {
            Ok(approver) if refs.contains(&approver) => {}
            Ok(approver) => refs.push(approver),
            Err(reason) => report.add(text.span(), Some(at), reason),
        }
    }
    Level {
        approvers: refs,
        mode,
    }
}

/// `manager`, `role:<name>` of a defined role, or a user id.
fn parse_ref(text: &str, roles: &Roles) -> Result<ApproverRef, String> {
    if text == "manager" {
        return Ok(ApproverRef::Manager);
    }
    if let Some(role) = text.strip_prefix("role:") {
        return defined_role(role, roles).map(ApproverRef::Role);
    }
    if is_user_id(text) {
        return Ok(ApproverRef::User(text.to_string()));
    }
    Err(format!(
        "\"{text}\" is not an approver: write `manager`, `role:<name>` or a user id ({USER_ID_RULE})"
    ))
}
