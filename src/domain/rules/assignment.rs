//! Lead assignment: `[pools.<name>]` of reps, and `[assignment]` with its rules — the first
//! rule, in file order, whose `when` holds says who gets a lead: a rep, or a pool from which
//! one rep is picked (round robin or least loaded). `default` takes the leads no rule does.

use std::{collections::BTreeMap, fmt, ops::Range};

use serde::Deserialize;
use toml::Spanned;

use super::{
    Rules,
    approval::compile_when,
    error::RuleRef,
    expression::{self, Expression, Failure, Vars},
    facts::LeadFacts,
    file::{Entry, RawAssignmentRule, RawAssignmentSettings, RawPool},
    report::{Report, RuleNames},
    roles::{USER_ID_RULE, is_user_id},
};

/// Minutes a rep has to accept a lead before it moves on, unless the file says otherwise:
/// half an hour of working time, so a fresh lead is called while it is warm.
pub const DEFAULT_ACCEPT_WITHIN_MINS: u32 = 30;

/// Minutes of working time by which the rep's first contact is due, unless the file says
/// otherwise: half a working day.
pub const DEFAULT_FIRST_CONTACT_WITHIN_MINS: u32 = 240;

/// Most minutes either time may be: five working weeks of nine hours. More is more likely a
/// mistake (hours written as minutes the other way round) than a policy.
pub const MAX_WITHIN_MINS: u32 = 25 * 9 * 60;

/// Most members in one pool: a round of offers through a pool this big already takes days.
pub const MAX_POOL_MEMBERS: usize = 200;

/// Most characters in a pool name; enough for `east-china-manufacturing-key-accounts`.
pub const MAX_POOL_NAME_CHARS: usize = 64;

/// The platform leads go out on when a pool or `[assignment]` does not say.
pub const DEFAULT_PLATFORM: &str = "wecom";

/// How a pool picks the rep for a lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each member in turn, in the order written; the position is kept in the database, so it
    /// is fair across restarts and instances.
    #[default]
    RoundRobin,
    /// The member with the fewest open tasks; ties go to the member written first.
    LeastLoaded,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::LeastLoaded => "least_loaded",
        }
    }
}

/// One `[pools.<name>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    pub name: String,
    /// User ids, each once, in the order written.
    pub members: Vec<String>,
    pub strategy: Strategy,
    /// Told when a lead of the pool is reassigned or times out; keeps a lead nobody accepted.
    pub manager: String,
    /// `wecom` or `dingtalk`: where the pool's reps get their cards.
    pub platform: String,
}

/// Where a rule sends a lead.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A rep, by user id.
    User(String),
    /// A pool of `[pools]`, written `pool:<name>`.
    Pool(String),
}

impl fmt::Display for Target {
    /// As written in the rules file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => f.write_str(id),
            Self::Pool(pool) => write!(f, "pool:{pool}"),
        }
    }
}

/// One `[[assignment.rules]]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRule {
    name: String,
    when: Expression,
    to: Target,
}

impl AssignmentRule {
    /// Unique among the assignment rules; recorded with each assignment.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CEL expression, as written.
    pub fn when(&self) -> &str {
        self.when.source()
    }

    pub fn to(&self) -> &Target {
        &self.to
    }

    fn holds(&self, context: &cel::Context<'_, '_>) -> Result<bool, AssignError> {
        self.when
            .evaluate(context)
            .map_err(|failure| match failure {
                Failure::NotBoolean(got) => AssignError::NotBoolean {
                    rule: self.name.clone(),
                    got,
                },
                Failure::Error(reason) => AssignError::Evaluation {
                    rule: self.name.clone(),
                    reason,
                },
            })
    }
}

/// `[assignment]`: the rules, the default, and the times an assignment allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    rules: Vec<AssignmentRule>,
    default: Option<Target>,
    platform: String,
    accept_within_mins: u32,
    first_contact_within_mins: u32,
}

impl Default for Assignment {
    fn default() -> Self {
        Self {
            rules: Vec::new(),
            default: None,
            platform: DEFAULT_PLATFORM.to_owned(),
            accept_within_mins: DEFAULT_ACCEPT_WITHIN_MINS,
            first_contact_within_mins: DEFAULT_FIRST_CONTACT_WITHIN_MINS,
        }
    }
}

impl Assignment {
    /// The rules, in file order.
    pub fn rules(&self) -> &[AssignmentRule] {
        &self.rules
    }

    /// Where a lead no rule takes goes; `None` leaves it unassigned.
    pub fn default_target(&self) -> Option<&Target> {
        self.default.as_ref()
    }

    /// The platform of reps named directly by a rule (not through a pool).
    pub fn platform(&self) -> &str {
        &self.platform
    }

    /// Working minutes a rep has to accept before the lead moves on.
    pub fn accept_within_mins(&self) -> u32 {
        self.accept_within_mins
    }

    /// Working minutes after the offer by which the first contact is due.
    pub fn first_contact_within_mins(&self) -> u32 {
        self.first_contact_within_mins
    }
}

/// Where a lead goes, and which rule said so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// The rule's name, or `default`.
    pub rule: String,
    pub target: Target,
}

/// The name [`Choice::rule`] has when `[assignment] default` took the lead.
pub const DEFAULT_RULE: &str = "default";

/// Why a lead could not be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    /// The rule's `when` gave a value that is not a boolean.
    #[error("assignment rule \"{rule}\": `when` gave a {got}, not true or false")]
    NotBoolean { rule: String, got: String },
    /// The rule's `when` failed, for example on a key missing from `fields`.
    #[error("assignment rule \"{rule}\": `when` failed: {reason}")]
    Evaluation { rule: String, reason: String },
}

impl Rules {
    /// `[assignment]`, or its defaults without one.
    pub fn assignment(&self) -> &Assignment {
        &self.assignment
    }

    /// Pool `name` of `[pools]`.
    pub fn pool(&self, name: &str) -> Option<&Pool> {
        self.pools.get(name)
    }

    /// Every pool of `[pools]`, by name.
    pub fn pools(&self) -> impl Iterator<Item = &Pool> {
        self.pools.values()
    }

    /// Where `lead` goes: the target of the first assignment rule, in file order, whose
    /// `when` holds, else the default; `None` when neither applies. A rule whose `when` fails
    /// stops the search with its error, as for approvals: a later, broader rule could send the
    /// lead where it should not go.
    pub fn assign(&self, lead: &LeadFacts) -> Result<Option<Choice>, AssignError> {
        let rules = &self.assignment.rules;
        if !rules.is_empty() {
            let context = expression::lead_context(lead);
            for rule in rules {
                if rule.holds(&context)? {
                    return Ok(Some(Choice {
                        rule: rule.name.clone(),
                        target: rule.to.clone(),
                    }));
                }
            }
        }
        Ok(self.assignment.default.clone().map(|target| Choice {
            rule: DEFAULT_RULE.to_owned(),
            target,
        }))
    }
}

/// Pool name → pool.
pub(super) type Pools = BTreeMap<String, Pool>;

fn is_pool_name(text: &str) -> bool {
    (1..=MAX_POOL_NAME_CHARS).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'))
}

/// Checks every pool. Every pool written is returned, even one with problems, so that rules
/// naming it are not also told the pool does not exist.
pub(super) fn compile_pools(entries: Vec<Entry<RawPool>>, report: &mut Report<'_>) -> Pools {
    let mut pools = Pools::new();
    for Entry { at, span, raw } in entries {
        let name = at.name.clone().unwrap_or_default();
        if !is_pool_name(&name) {
            let reason =
                format!("a pool name is 1 to {MAX_POOL_NAME_CHARS} of a-z, 0-9, `_` and `-`");
            report.add(span.clone(), Some(&at), reason);
        }
        let members = compile_members(raw.members, &at, report);
        let manager = match raw.manager {
            None => {
                let reason = "has no `manager`; name the user id who is told when a lead of \
                              the pool is reassigned or not accepted in time";
                report.add(span.clone(), Some(&at), reason);
                String::new()
            }
            Some(manager) if !is_user_id(manager.get_ref()) => {
                let reason = format!(
                    "`manager` \"{}\" is not a user id; {USER_ID_RULE}",
                    manager.get_ref()
                );
                report.add(manager.span(), Some(&at), reason);
                String::new()
            }
            Some(manager) => manager.into_inner(),
        };
        let platform = raw
            .platform
            .map_or(DEFAULT_PLATFORM, |p| p.into_inner().as_str())
            .to_owned();
        pools.insert(
            name.clone(),
            Pool {
                name,
                members,
                strategy: raw.strategy,
                manager,
                platform,
            },
        );
    }
    pools
}

fn compile_members(
    members: Spanned<Vec<Spanned<String>>>,
    at: &RuleRef,
    report: &mut Report<'_>,
) -> Vec<String> {
    let count = members.get_ref().len();
    if count == 0 {
        report.add(
            members.span(),
            Some(at),
            "`members` lists nobody; list at least one user id",
        );
        return Vec::new();
    }
    if count > MAX_POOL_MEMBERS {
        let reason = format!("`members` lists {count} user ids; at most {MAX_POOL_MEMBERS}");
        report.add(members.span(), Some(at), reason);
    }
    let mut out: Vec<String> = Vec::with_capacity(count);
    for member in members.into_inner() {
        if !is_user_id(member.get_ref()) {
            let reason = format!(
                "member \"{}\" is not a user id; {USER_ID_RULE}",
                member.get_ref()
            );
            report.add(member.span(), Some(at), reason);
        } else if !out.contains(member.get_ref()) {
            out.push(member.into_inner());
        }
    }
    out
}

/// Checks `[assignment]`: its rules against the pools defined, and its settings.
pub(super) fn compile(
    entries: Vec<Entry<RawAssignmentRule>>,
    settings: Option<Spanned<RawAssignmentSettings>>,
    pools: &Pools,
    report: &mut Report<'_>,
) -> Assignment {
    let mut names = RuleNames::new("assignment.rules", "each assignment's history");
    let mut assignment = Assignment::default();
    for Entry { at, span, raw } in entries {
        let before = report.len();
        let name_span = raw.name.span();
        let name = raw.name.into_inner();
        names.check(&name, name_span, &at, report);
        let when = compile_when(raw.when, Vars::Lead, &span, &at, report);
        let to = compile_target(&raw.to, pools, Some(&at), report);
        if let (Some(when), Some(to), true) = (when, to, report.len() == before) {
            assignment.rules.push(AssignmentRule { name, when, to });
        }
    }
    let Some(settings) = settings else {
        return assignment;
    };
    let settings = settings.into_inner();
    if let Some(default) = settings.default {
        assignment.default = compile_target(&default, pools, None, report);
    }
    if let Some(platform) = settings.platform {
        assignment.platform = platform.into_inner().as_str().to_owned();
    }
    let minutes = [
        (
            &mut assignment.accept_within_mins,
            settings.accept_within_mins,
            "accept_within_mins",
        ),
        (
            &mut assignment.first_contact_within_mins,
            settings.first_contact_within_mins,
            "first_contact_within_mins",
        ),
    ];
    for (target, value, key) in minutes {
        let Some(value) = value else { continue };
        match u32::try_from(*value.get_ref()) {
            Ok(mins) if (1..=MAX_WITHIN_MINS).contains(&mins) => *target = mins,
            _ => report.add(
                value.span(),
                None,
                format!(
                    "assignment: `{key}` must be 1 to {MAX_WITHIN_MINS} minutes, not {}",
                    value.get_ref()
                ),
            ),
        }
    }
    assignment
}

/// `pool:<name>` of a defined pool, or a user id.
fn compile_target(
    to: &Spanned<String>,
    pools: &Pools,
    at: Option<&RuleRef>,
    report: &mut Report<'_>,
) -> Option<Target> {
    let (text, span): (&str, Range<usize>) = (to.get_ref(), to.span());
    let key = if at.is_some() {
        "`to`"
    } else {
        "assignment: `default`"
    };
    if let Some(pool) = text.strip_prefix("pool:") {
        if pools.contains_key(pool) {
            return Some(Target::Pool(pool.to_owned()));
        }
        let reason = if pools.is_empty() {
            format!("{key} names unknown pool `{pool}`; no pools are defined: add [pools.{pool}]")
        } else {
            let known = pools.keys().map(String::as_str).collect::<Vec<_>>();
            format!(
                "{key} names unknown pool `{pool}`; the pools are: {}",
                known.join(", ")
            )
        };
        report.add(span, at, reason);
        return None;
    }
    if is_user_id(text) {
        return Some(Target::User(text.to_owned()));
    }
    let reason =
        format!("{key} \"{text}\" is neither `pool:<name>` nor a user id ({USER_ID_RULE})");
    report.add(span, at, reason);
    None
}
