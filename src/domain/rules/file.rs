//! The rules file as written: its sections and the TOML shape of each rule, every value
//! with its span so that a problem can name its line.
//!
//! The top level is walked by hand rather than deserialized with `deny_unknown_fields`:
//! each rule is deserialized on its own, so one misspelt key does not hide the problems of
//! every other rule. Unknown sections are refused all the same.

use std::ops::Range;

use serde::{Deserialize, de::DeserializeOwned};
use toml::{
    Spanned,
    de::{DeTable, DeValue, ValueDeserializer},
};

use super::{
    approval::Mode,
    assignment::Strategy,
    error::RuleRef,
    facts::{CustomerType, Gender},
    report::Report,
};

/// The sections a rules file may have.
pub(super) const SECTIONS: &[&str] = &[
    "tagging",
    "approval",
    "roles",
    "lead_score",
    "task_rule",
    "overdue",
    "pools",
    "assignment",
    "alert",
];

/// The rules of every section that deserialized; the others are in the report.
#[derive(Default)]
pub(super) struct Document {
    pub(super) tagging: Vec<Entry<RawTaggingRule>>,
    pub(super) approval: Vec<Entry<RawApprovalRule>>,
    pub(super) roles: Vec<RawRole>,
    /// `None` when the file has no `[lead_score]`, or one that did not deserialize.
    pub(super) lead_score: Option<RawLeadScore>,
    /// `None` when the file has no `[overdue]`, or one that did not deserialize.
    pub(super) overdue: Option<super::overdue::RawOverdue>,
    pub(super) pools: Vec<Entry<RawPool>>,
    pub(super) assignment: Vec<Entry<RawAssignmentRule>>,
    /// `None` when the file has no `[assignment]` settings, or ones that did not deserialize.
    pub(super) assignment_settings: Option<Spanned<RawAssignmentSettings>>,
    pub(super) task_rule: Vec<Entry<RawTaskRule>>,
    pub(super) alert: Vec<Entry<RawAlertRule>>,
}

/// One rule of a section, with where it is.
pub(super) struct Entry<T> {
    pub(super) at: RuleRef,
    /// The rule's `[[section]]` header (or inline table).
    pub(super) span: Range<usize>,
    pub(super) raw: T,
}

/// `[[tagging]]`.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule with `name`, `when` and `tags`"
)]
pub(super) struct RawTaggingRule {
    pub(super) name: Spanned<String>,
    /// Optional here so that a rule without conditions gets a clear reason, not "missing
    /// field".
    #[serde(default)]
    pub(super) when: Option<Spanned<RawWhen>>,
    pub(super) tags: Spanned<Vec<Spanned<String>>>,
}

/// A tagging rule's `when`: every condition given must hold.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "conditions such as `when.state = \"expo\"`"
)]
pub(super) struct RawWhen {
    pub(super) state: Option<Spanned<String>>,
    pub(super) state_prefix: Option<Spanned<String>>,
    pub(super) state_in: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) rep: Option<Spanned<String>>,
    pub(super) rep_in: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) rep_department: Option<Spanned<String>>,
    pub(super) customer_type: Option<Spanned<RawCustomerType>>,
    pub(super) corp_name_contains: Option<Spanned<String>>,
    pub(super) position_contains: Option<Spanned<String>>,
    pub(super) name_contains: Option<Spanned<String>>,
    pub(super) add_way: Option<Spanned<Vec<Spanned<i64>>>>,
    pub(super) gender: Option<Spanned<RawGender>>,
}

/// `customer_type`: a rule cannot ask for customers whose type is unknown.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawCustomerType {
    Wechat,
    Wecom,
}

impl From<RawCustomerType> for CustomerType {
    fn from(raw: RawCustomerType) -> Self {
        match raw {
            RawCustomerType::Wechat => Self::Wechat,
            RawCustomerType::Wecom => Self::Wecom,
        }
    }
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawGender {
    Male,
    Female,
    Unknown,
}

impl From<RawGender> for Gender {
    fn from(raw: RawGender) -> Self {
        match raw {
            RawGender::Male => Self::Male,
            RawGender::Female => Self::Female,
            RawGender::Unknown => Self::Unknown,
        }
    }
}

/// `[[approval]]`.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule with `name`, `when` and `levels`"
)]
pub(super) struct RawApprovalRule {
    pub(super) name: Spanned<String>,
    /// Optional here so that a rule without a condition gets a clear reason, not "missing
    /// field".
    #[serde(default)]
    pub(super) when: Option<Spanned<String>>,
    pub(super) levels: Spanned<Vec<Spanned<RawLevel>>>,
}

/// One level of an approval rule.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a level such as `{ approvers = [\"manager\"], mode = \"any\" }`"
)]
pub(super) struct RawLevel {
    pub(super) approvers: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) mode: Mode,
}

/// One entry of `[roles]`: a role name and its members.
pub(super) struct RawRole {
    pub(super) name: Spanned<String>,
    pub(super) members: Spanned<Vec<Spanned<String>>>,
}

/// `[lead_score]`: every key optional, so that a file names only what it changes.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with `half_life_days`, `threshold` and `[lead_score.points]`"
)]
pub(super) struct RawLeadScore {
    pub(super) half_life_days: Option<Spanned<f64>>,
    pub(super) threshold: Option<Spanned<f64>>,
    pub(super) points: Option<RawPoints>,
}

/// `[lead_score.points]`: what each kind of event earns.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table of points such as `registration = 20`"
)]
pub(super) struct RawPoints {
    pub(super) click: Option<Spanned<f64>>,
    pub(super) repeat_click: Option<Spanned<f64>>,
    pub(super) registration: Option<Spanned<f64>>,
    pub(super) group_join: Option<Spanned<f64>>,
    pub(super) reply: Option<Spanned<f64>>,
}

/// `[pools.<name>]`: the reps a lead can go to, and how one is picked.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a pool with `members`, `strategy` and `manager`"
)]
pub(super) struct RawPool {
    pub(super) members: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(super) strategy: Strategy,
    /// Optional here so that a pool without one gets a clear reason, not "missing field".
    #[serde(default)]
    pub(super) manager: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) platform: Option<Spanned<RawPlatform>>,
}

/// A chat platform, as a pool or `[assignment]` names it.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawPlatform {
    Wecom,
    Dingtalk,
}

impl RawPlatform {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Wecom => "wecom",
            Self::Dingtalk => "dingtalk",
        }
    }
}

/// `[[assignment.rules]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a rule with `name`, `when` and `to`")]
pub(super) struct RawAssignmentRule {
    pub(super) name: Spanned<String>,
    /// Optional here so that a rule without a condition gets a clear reason, not "missing
    /// field".
    #[serde(default)]
    pub(super) when: Option<Spanned<String>>,
    pub(super) to: Spanned<String>,
}

/// The keys of `[assignment]` other than its rules; every one optional.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a table with `default`, `platform`, `accept_within_mins`, \
                 `first_contact_within_mins` and `[[assignment.rules]]`"
)]
pub(super) struct RawAssignmentSettings {
    pub(super) default: Option<Spanned<String>>,
    pub(super) platform: Option<Spanned<RawPlatform>>,
    pub(super) accept_within_mins: Option<Spanned<i64>>,
    pub(super) first_contact_within_mins: Option<Spanned<i64>>,
}

/// `[[task_rule]]`: on an event, a task to create and (on `task_done`) a stage to move the
/// deal to.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule with `name`, `on` and `task` or `set_stage`"
)]
pub(super) struct RawTaskRule {
    pub(super) name: Spanned<String>,
    /// `registration`, `deal_stage` or `task_done`.
    pub(super) on: Spanned<String>,
    /// `deal_stage`: only moves to this stage.
    pub(super) stage: Option<Spanned<String>>,
    /// `task_done`: only tasks of this kind.
    pub(super) kind: Option<Spanned<String>>,
    /// `task_done`: the stage the task's deal moves to.
    pub(super) set_stage: Option<Spanned<String>>,
    pub(super) task: Option<Spanned<RawTaskTemplate>>,
}

/// The task a task rule creates.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a task such as `{ kind = \"call\", title = \"First call\", due_in_mins = 120 }`"
)]
pub(super) struct RawTaskTemplate {
    pub(super) kind: Spanned<String>,
    pub(super) title: Spanned<String>,
    #[serde(default)]
    pub(super) note: Option<Spanned<String>>,
    pub(super) due_in_mins: Spanned<i64>,
}

/// `[[alert]]`: every key but `name` optional here, so that what a kind lacks or does not
/// use gets a reason naming the kind rather than "missing field".
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule with `name`, `kind` and the keys of its kind"
)]
pub(super) struct RawAlertRule {
    pub(super) name: Spanned<String>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) days: Option<Spanned<i64>>,
    pub(super) reps: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) below_pct: Option<Spanned<f64>>,
    pub(super) day_of_month: Option<Spanned<i64>>,
    pub(super) targets: Option<Spanned<std::collections::BTreeMap<String, Spanned<f64>>>>,
    pub(super) to: Option<Spanned<String>>,
    pub(super) tenant: Option<Spanned<String>>,
    pub(super) platform: Option<Spanned<String>>,
}

/// Reads the report's text into its sections. TOML syntax errors, unknown sections and rules
/// of the wrong shape go to the report; the rules that deserialized are returned.
pub(super) fn read(report: &mut Report) -> Document {
    let root = match DeTable::parse(report.text()) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            report.add(span, None, format!("not valid TOML: {}", e.message()));
            return Document::default();
        }
    };
    let mut document = Document::default();
    for (key, value) in root {
        match key.get_ref().as_ref() {
            "tagging" => document.tagging = entries("tagging", value, report),
            "approval" => document.approval = entries("approval", value, report),
            "roles" => document.roles = roles(value, report),
            "lead_score" => document.lead_score = lead_score(value, report),
            "overdue" => document.overdue = super::overdue::read(value, report),
            "pools" => document.pools = pools(value, report),
            "assignment" => {
                let (rules, settings) = assignment(value, report);
                document.assignment = rules;
                document.assignment_settings = settings;
            }
            "task_rule" => document.task_rule = entries("task_rule", value, report),
            "alert" => document.alert = entries("alert", value, report),
            other => report.add(
                key.span(),
                None,
                format!(
                    "unknown section `{other}`; the sections are: {}",
                    SECTIONS.join(", ")
                ),
            ),
        }
    }
    document
}

/// Deserializes each rule of `section` on its own.
fn entries<T: DeserializeOwned>(
    section: &'static str,
    value: Spanned<DeValue<'_>>,
    report: &mut Report,
) -> Vec<Entry<T>> {
    let DeValue::Array(items) = value.get_ref() else {
        report.add(
            value.span(),
            None,
            format!("`{section}` must be a list of rules, each starting with [[{section}]]"),
        );
        return Vec::new();
    };
    let mut entries = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let span = item.span();
        let Some(table) = item.get_ref().as_table() else {
            let at = RuleRef {
                section,
                index,
                name: None,
            };
            report.add(span, Some(&at), "a rule must be a table of keys");
            continue;
        };
        let at = RuleRef {
            section,
            index,
            name: name_of(table),
        };
        match T::deserialize(ValueDeserializer::from(item.clone())) {
            Ok(raw) => entries.push(Entry { at, span, raw }),
            Err(e) => report.add(e.span().unwrap_or(span), Some(&at), e.message()),
        }
    }
    entries
}

/// Reads `[roles]`: each key a role, each value its list of user ids. Walked by hand, like
/// the top level, so that one bad role does not hide the others.
fn roles(value: Spanned<DeValue<'_>>, report: &mut Report) -> Vec<RawRole> {
    let DeValue::Table(table) = value.get_ref() else {
        report.add(
            value.span(),
            None,
            "`roles` must be a table under [roles], each line `role_name = [\"user.id\", …]`",
        );
        return Vec::new();
    };
    let mut roles = Vec::with_capacity(table.len());
    for (key, members) in table.iter() {
        let name = Spanned::new(key.span(), key.get_ref().to_string());
        match Spanned::<Vec<Spanned<String>>>::deserialize(ValueDeserializer::from(members.clone()))
        {
            Ok(members) => roles.push(RawRole { name, members }),
            Err(e) => {
                let reason = format!(
                    "role `{}` must be a list of user ids: {}",
                    name.get_ref(),
                    e.message()
                );
                report.add(e.span().unwrap_or(members.span()), None, reason);
            }
        }
    }
    roles
}

/// Reads `[lead_score]`; a problem goes to the report and leaves the defaults in place.
fn lead_score(value: Spanned<DeValue<'_>>, report: &mut Report) -> Option<RawLeadScore> {
    if !matches!(value.get_ref(), DeValue::Table(_)) {
        report.add(
            value.span(),
            None,
            "`lead_score` must be a table under [lead_score], with lines such as `threshold = 50`",
        );
        return None;
    }
    let span = value.span();
    RawLeadScore::deserialize(ValueDeserializer::from(value))
        .map_err(|e| {
            let reason = format!("lead_score: {}", e.message());
            report.add(e.span().unwrap_or(span), None, reason);
        })
        .ok()
}

/// Reads `[pools]`: each key a pool's name, each value its table. Each pool is deserialized on
/// its own, so that one bad pool does not hide the problems of the others; its `RuleRef`
/// names it `pools[<n>] "<name>"`.
fn pools(value: Spanned<DeValue<'_>>, report: &mut Report) -> Vec<Entry<RawPool>> {
    let DeValue::Table(table) = value.get_ref() else {
        report.add(
            value.span(),
            None,
            "`pools` must be tables, each starting with [pools.<name>]",
        );
        return Vec::new();
    };
    let mut pools = Vec::with_capacity(table.len());
    for (index, (key, item)) in table.iter().enumerate() {
        let at = RuleRef {
            section: "pools",
            index,
            name: Some(key.get_ref().to_string()),
        };
        let span = key.span();
        if item.get_ref().as_table().is_none() {
            report.add(
                item.span(),
                Some(&at),
                "a pool must be a table: [pools.<name>] with `members`, `strategy`, `manager`",
            );
            continue;
        }
        match RawPool::deserialize(ValueDeserializer::from(item.clone())) {
            Ok(raw) => pools.push(Entry { at, span, raw }),
            Err(e) => report.add(e.span().unwrap_or(span), Some(&at), e.message()),
        }
    }
    pools
}

/// Reads `[assignment]`: its `rules` as a list of rules, each deserialized on its own, and
/// its other keys as the settings.
fn assignment(
    value: Spanned<DeValue<'_>>,
    report: &mut Report,
) -> (
    Vec<Entry<RawAssignmentRule>>,
    Option<Spanned<RawAssignmentSettings>>,
) {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        report.add(
            span,
            None,
            "`assignment` must be a table: [assignment] with its settings, and rules each \
             starting with [[assignment.rules]]",
        );
        return (Vec::new(), None);
    };
    let mut rules = None;
    let mut rest = DeTable::new();
    for (key, value) in table {
        if key.get_ref() == "rules" {
            rules = Some(value);
        } else {
            rest.insert(key, value);
        }
    }
    let rules = match rules {
        Some(rules) => entries("assignment.rules", rules, report),
        None => Vec::new(),
    };
    let settings = Spanned::new(span.clone(), DeValue::Table(rest));
    let settings = Spanned::<RawAssignmentSettings>::deserialize(ValueDeserializer::from(settings))
        .map_err(|e| {
            let reason = format!("assignment: {}", e.message());
            report.add(e.span().unwrap_or(span), None, reason);
        })
        .ok();
    (rules, settings)
}

/// A rule's `name`, read before the rule itself so that even a rule that fails to
/// deserialize is named in its problem.
fn name_of(table: &DeTable<'_>) -> Option<String> {
    table
        .iter()
        .find(|(key, _)| key.get_ref() == "name")
        .and_then(|(_, value)| value.get_ref().as_str())
        .filter(|name| !name.trim().is_empty())
        .map(str::to_string)
}
