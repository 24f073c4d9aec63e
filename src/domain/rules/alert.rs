//! `[[alert]]`: what managers are told about without asking — a deal nobody has touched for
//! days, a rep with no follow-up for days, a rep behind their monthly target late in the month.
//! The rules only say what to watch and whom to tell; the alert job evaluates them over the
//! database and keeps one episode per condition, so an alert fires once, not every tick.

use std::{collections::BTreeMap, fmt, ops::Range};

use toml::Spanned;

use super::{
    assignment::Pools,
    error::RuleRef,
    file::{Entry, RawAlertRule},
    report::{Report, RuleNames},
    roles::{Roles, USER_ID_RULE, defined_role, is_user_id},
};

/// Most days an idle alert may wait for: a year. More is more likely a typo than a policy.
pub const MAX_ALERT_DAYS: u32 = 365;

/// Most reps (user ids and roles) one rep_idle rule lists.
pub const MAX_ALERT_REPS: usize = 200;

/// The platforms a rule may be limited to, as in the outbox.
const PLATFORMS: [&str; 2] = ["wecom", "dingtalk"];

/// One `[[alert]]` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    name: String,
    condition: Condition,
    to: AlertTo,
    tenant: Option<String>,
    platform: Option<String>,
}

/// What an alert rule watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// An open deal with no activity and no update for `days` days (`deal_idle`).
    DealIdle { days: u32 },
    /// A rep who completed no task and touched none of their deals for `days` days
    /// (`rep_idle`).
    RepIdle { days: u32, reps: Vec<RepRef> },
    /// A rep whose deals won this month add up to less than `below_pct` % of their monthly
    /// target, from day `day_of_month` of the month on (`kpi`).
    Kpi {
        below_pct: f64,
        day_of_month: u32,
        /// Rep → monthly target, more than 0.
        targets: BTreeMap<String, f64>,
    },
}

/// A rep as a rep_idle rule lists them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RepRef {
    /// A user id, written as itself.
    User(String),
    /// Every member of a role of `[roles]`, written `role:<name>`.
    Role(String),
    /// Every member of a pool of `[pools]`, written `pool:<name>`.
    Pool(String),
}

/// Whom an alert goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AlertTo {
    /// The manager of the person the alert is about (a deal's owner, a rep), `manager`.
    Manager,
    /// That manager's manager, `director`.
    Director,
    /// A user id, written as itself.
    User(String),
}

impl Condition {
    /// The rule's `kind` as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DealIdle { .. } => "deal_idle",
            Self::RepIdle { .. } => "rep_idle",
            Self::Kpi { .. } => "kpi",
        }
    }
}

impl AlertRule {
    /// Unique among the alert rules; it names the rule's episodes in the database, so
    /// renaming a rule closes its open episodes and starts afresh.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn condition(&self) -> &Condition {
        &self.condition
    }

    pub fn to(&self) -> &AlertTo {
        &self.to
    }

    /// Whether the rule watches `tenant` on `platform`: every app unless `tenant` or
    /// `platform` limit it.
    pub fn applies_to(&self, tenant: &str, platform: &str) -> bool {
        self.tenant.as_deref().is_none_or(|t| t == tenant)
            && self.platform.as_deref().is_none_or(|p| p == platform)
    }
}

impl fmt::Display for AlertTo {
    /// As written in the rules file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Manager => f.write_str("manager"),
            Self::Director => f.write_str("director"),
            Self::User(id) => f.write_str(id),
        }
    }
}

/// The user ids `reps` stand for, each once, in the order written.
pub(super) fn resolve_reps(reps: &[RepRef], roles: &Roles, pools: &Pools) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut add = |id: &String| {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    };
    for rep in reps {
        match rep {
            RepRef::User(id) => add(id),
            RepRef::Role(role) => roles.get(role).into_iter().flatten().for_each(&mut add),
            RepRef::Pool(pool) => pools
                .get(pool)
                .into_iter()
                .flat_map(|pool| &pool.members)
                .for_each(&mut add),
        }
    }
    ids
}

/// Checks every rule against the roles defined, reporting all problems; returns the rules
/// that had none.
pub(super) fn compile(
    entries: Vec<Entry<RawAlertRule>>,
    roles: &Roles,
    pools: &Pools,
    report: &mut Report<'_>,
) -> Vec<AlertRule> {
    let mut names = RuleNames::new("alert", "the alerts it raises");
    let mut rules = Vec::with_capacity(entries.len());
    for Entry { at, span, raw } in entries {
        let before = report.len();
        let name_span = raw.name.span();
        let name = raw.name.get_ref().clone();
        names.check(&name, name_span, &at, report);
        let mut check = Check {
            at: &at,
            header: span,
            report: &mut *report,
        };
        let condition = check.condition(&raw, roles, pools);
        let to = check.to(raw.to, &condition);
        let tenant = raw.tenant.map(|t| check.tenant(t));
        let platform = raw.platform.map(|p| check.platform(p));
        if let (Some(condition), Some(to), true) = (condition, to, report.len() == before) {
            rules.push(AlertRule {
                name,
                condition,
                to,
                tenant,
                platform,
            });
        }
    }
    rules
}

/// A key that only some kinds use: its name, where it is written (if it is), and those kinds.
type KindKey<'k> = (&'k str, Option<Range<usize>>, &'k [&'k str]);

/// The checks of one rule, reporting at its place.
struct Check<'r, 'a> {
    at: &'r RuleRef,
    header: Range<usize>,
    report: &'r mut Report<'a>,
}

impl Check<'_, '_> {
    fn add(&mut self, span: Range<usize>, reason: impl Into<String>) {
        self.report.add(span, Some(self.at), reason);
    }

    fn condition(&mut self, raw: &RawAlertRule, roles: &Roles, pools: &Pools) -> Option<Condition> {
        let Some(kind) = &raw.kind else {
            let reason = "has no `kind`; write `kind = \"deal_idle\"`, `\"rep_idle\"` or `\"kpi\"`";
            self.add(self.header.clone(), reason);
            return None;
        };
        let condition = match kind.get_ref().as_str() {
            "deal_idle" => {
                self.unused(kind.get_ref(), raw);
                Condition::DealIdle {
                    days: self.days(raw)?,
                }
            }
            "rep_idle" => {
                self.unused(kind.get_ref(), raw);
                let days = self.days(raw);
                let reps = self.reps(raw.reps.as_ref(), roles, pools);
                Condition::RepIdle {
                    days: days?,
                    reps: reps?,
                }
            }
            "kpi" => {
                self.unused(kind.get_ref(), raw);
                let below_pct = self.below_pct(raw);
                let day_of_month = self.day_of_month(raw);
                let targets = self.targets(raw);
                Condition::Kpi {
                    below_pct: below_pct?,
                    day_of_month: day_of_month?,
                    targets: targets?,
                }
            }
            other => {
                let reason =
                    format!("unknown kind `{other}`; the kinds are: deal_idle, rep_idle, kpi");
                self.add(kind.span(), reason);
                return None;
            }
        };
        Some(condition)
    }

    /// Reports the keys `kind` does not use: a `days` on a kpi rule is a misunderstanding
    /// worth hearing about, not something to ignore.
    fn unused(&mut self, kind: &str, raw: &RawAlertRule) {
        let keys: [KindKey<'_>; 5] = [
            (
                "days",
                raw.days.as_ref().map(Spanned::span),
                &["deal_idle", "rep_idle"],
            ),
            ("reps", raw.reps.as_ref().map(Spanned::span), &["rep_idle"]),
            (
                "below_pct",
                raw.below_pct.as_ref().map(Spanned::span),
                &["kpi"],
            ),
            (
                "day_of_month",
                raw.day_of_month.as_ref().map(Spanned::span),
                &["kpi"],
            ),
            ("targets", raw.targets.as_ref().map(Spanned::span), &["kpi"]),
        ];
        for (key, span, kinds) in keys {
            if let Some(span) = span.filter(|_| !kinds.contains(&kind)) {
                let reason = format!(
                    "`{key}` is not used by {kind} alerts, only by {}",
                    kinds.join(" and ")
                );
                self.add(span, reason);
            }
        }
    }

    fn days(&mut self, raw: &RawAlertRule) -> Option<u32> {
        let Some(days) = &raw.days else {
            let reason = "has no `days`; write how many days without activity raise the alert, \
                e.g. `days = 7`";
            self.add(self.header.clone(), reason);
            return None;
        };
        match u32::try_from(*days.get_ref()) {
            Ok(d) if (1..=MAX_ALERT_DAYS).contains(&d) => Some(d),
            _ => {
                let reason = format!(
                    "`days` must be a whole number from 1 to {MAX_ALERT_DAYS}, not {}",
                    days.get_ref()
                );
                self.add(days.span(), reason);
                None
            }
        }
    }

    fn reps(
        &mut self,
        reps: Option<&Spanned<Vec<Spanned<String>>>>,
        roles: &Roles,
        pools: &Pools,
    ) -> Option<Vec<RepRef>> {
        let Some(reps) = reps else {
            let reason = "has no `reps`; list the reps to watch, e.g. \
                `reps = [\"zhang.san\", \"role:east_sales\"]`";
            self.add(self.header.clone(), reason);
            return None;
        };
        let count = reps.get_ref().len();
        if count == 0 {
            self.add(
                reps.span(),
                "`reps` lists nobody; list at least one rep or role",
            );
            return None;
        }
        if count > MAX_ALERT_REPS {
            let reason = format!("`reps` lists {count} entries; at most {MAX_ALERT_REPS}");
            self.add(reps.span(), reason);
            return None;
        }
        let mut out: Vec<RepRef> = Vec::with_capacity(count);
        let mut ok = true;
        for text in reps.get_ref() {
            match parse_rep(text.get_ref(), roles, pools) {
                Ok(rep) if out.contains(&rep) => {}
                Ok(rep) => out.push(rep),
                Err(reason) => {
                    self.add(text.span(), reason);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn below_pct(&mut self, raw: &RawAlertRule) -> Option<f64> {
        let Some(pct) = &raw.below_pct else {
            let reason = "has no `below_pct`; write the completion in % under which to alert, \
                e.g. `below_pct = 60`";
            self.add(self.header.clone(), reason);
            return None;
        };
        match *pct.get_ref() {
            p if p.is_finite() && p > 0.0 && p <= 100.0 => Some(p),
            p => {
                let reason = format!("`below_pct` must be more than 0 and at most 100, not {p}");
                self.add(pct.span(), reason);
                None
            }
        }
    }

    fn day_of_month(&mut self, raw: &RawAlertRule) -> Option<u32> {
        let Some(day) = &raw.day_of_month else {
            let reason = "has no `day_of_month`; write from which day of the month to check, \
                e.g. `day_of_month = 20`";
            self.add(self.header.clone(), reason);
            return None;
        };
        match u32::try_from(*day.get_ref()) {
            Ok(d) if (1..=31).contains(&d) => Some(d),
            _ => {
                let reason = format!(
                    "`day_of_month` must be a day from 1 to 31, not {}",
                    day.get_ref()
                );
                self.add(day.span(), reason);
                None
            }
        }
    }

    fn targets(&mut self, raw: &RawAlertRule) -> Option<BTreeMap<String, f64>> {
        let Some(targets) = &raw.targets else {
            let reason = "has no `targets`; give each rep's monthly target, \
                e.g. `targets = { \"zhang.san\" = 500000 }`";
            self.add(self.header.clone(), reason);
            return None;
        };
        if targets.get_ref().is_empty() {
            self.add(
                targets.span(),
                "`targets` is empty; give at least one rep's target",
            );
            return None;
        }
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (rep, target) in targets.get_ref() {
            if !is_user_id(rep) {
                let reason = format!("`targets`: \"{rep}\" is not a user id; {USER_ID_RULE}");
                self.add(targets.span(), reason);
                ok = false;
            }
            match *target.get_ref() {
                t if t.is_finite() && t > 0.0 => {
                    out.insert(rep.clone(), t);
                }
                t => {
                    let reason =
                        format!("`targets`: the target of \"{rep}\" must be more than 0, not {t}");
                    self.add(target.span(), reason);
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// `to`, or the kind's default: a deal's idleness is the director's business (the owner's
    /// manager is usually who let it idle), a rep's the manager's.
    fn to(
        &mut self,
        to: Option<Spanned<String>>,
        condition: &Option<Condition>,
    ) -> Option<AlertTo> {
        let Some(to) = to else {
            return Some(match condition {
                Some(Condition::DealIdle { .. }) => AlertTo::Director,
                _ => AlertTo::Manager,
            });
        };
        match to.get_ref().as_str() {
            "manager" => Some(AlertTo::Manager),
            "director" => Some(AlertTo::Director),
            id if is_user_id(id) => Some(AlertTo::User(id.to_string())),
            other => {
                let reason = format!(
                    "`to` = \"{other}\" is not a recipient: write `manager`, `director` or a \
                     user id ({USER_ID_RULE})"
                );
                self.add(to.span(), reason);
                None
            }
        }
    }

    fn tenant(&mut self, tenant: Spanned<String>) -> String {
        if !crate::config::valid_tenant(tenant.get_ref()) {
            let reason = format!("`tenant` = \"{}\" is not a tenant name", tenant.get_ref());
            self.add(tenant.span(), reason);
        }
        tenant.into_inner()
    }

    fn platform(&mut self, platform: Spanned<String>) -> String {
        if !PLATFORMS.contains(&platform.get_ref().as_str()) {
            let reason = format!(
                "`platform` = \"{}\" is not a platform; write {}",
                platform.get_ref(),
                PLATFORMS.join(" or ")
            );
            self.add(platform.span(), reason);
        }
        platform.into_inner()
    }
}

/// `role:<name>` of a defined role, `pool:<name>` of a defined pool, or a user id.
fn parse_rep(text: &str, roles: &Roles, pools: &Pools) -> Result<RepRef, String> {
    if let Some(pool) = text.strip_prefix("pool:") {
        if pools.contains_key(pool) {
            return Ok(RepRef::Pool(pool.to_string()));
        }
        let known = pools.keys().map(String::as_str).collect::<Vec<_>>();
        return Err(if known.is_empty() {
            format!("unknown pool `{pool}`; no pools are defined: add it under [pools.{pool}]")
        } else {
            format!("unknown pool `{pool}`; the pools are: {}", known.join(", "))
        });
    }
    if let Some(role) = text.strip_prefix("role:") {
        return defined_role(role, roles).map(RepRef::Role);
    }
    if is_user_id(text) {
        return Ok(RepRef::User(text.to_string()));
    }
    Err(format!(
        "\"{text}\" is not a rep: write a user id ({USER_ID_RULE}), `role:<name>` or \
         `pool:<name>`"
    ))
}
