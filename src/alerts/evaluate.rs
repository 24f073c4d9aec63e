//! Evaluating the rules: what holds now, for every rule and configured app, against the open
//! episodes. A condition that holds without an episode opens one (the alert is raised); one
//! with an episode changes nothing; an open episode whose condition no longer holds — or
//! whose rule is gone — is closed, so a recurrence is raised again.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::{AlertError, Alerts, month::month_of};
use crate::{
    approvals::RequestError,
    domain::{
        alert::{
            kind,
            store::{self, NewAlert},
            watch,
        },
        rules::{AlertRule, AlertTo, Condition},
        time::DAY_MS,
    },
};

/// A condition that holds: what about, whose, and the variables of its card (names are
/// filled in once the directory has been asked).
struct Found {
    subject: String,
    /// The user id the alert is about: a deal's owner or a rep. Their manager is `manager`.
    person: String,
    data: Value,
}

/// Who was looked up this tick: (tenant, platform, `to`, person) → their name and recipient.
type People = HashMap<String, (String, Option<String>)>;

/// The key of an episode, for comparing what holds with what is open.
fn key(tenant: &str, platform: &str, rule: &str, subject: &str) -> String {
    format!("{tenant}\u{1f}{platform}\u{1f}{rule}\u{1f}{subject}")
}

impl Alerts {
    /// Opens and closes episodes at `now`; returns how many it opened and closed.
    pub(super) async fn evaluate(&self, now: i64) -> Result<(usize, u64), AlertError> {
        let open = store::open_alerts(&self.db).await?;
        let is_open: HashSet<String> = open
            .iter()
            .map(|a| key(&a.tenant, &a.platform, &a.rule, &a.subject))
            .collect();
        let mut holding = HashSet::new();
        let mut opened = 0;
        // Many idle deals share an owner: the directory is asked once per person and tick.
        let mut people = People::new();
        for rule in self.rules.alerts() {
            for (tenant, platform) in &self.apps {
                if !rule.applies_to(tenant, platform) {
                    continue;
                }
                for found in self.holding(rule, tenant, platform, now).await? {
                    let key = key(tenant, platform, rule.name(), &found.subject);
                    let new = !is_open.contains(&key);
                    holding.insert(key);
                    if new
                        && self
                            .raise(rule, (tenant, platform), found, &mut people, now)
                            .await?
                    {
                        opened += 1;
                    }
                }
            }
        }
        let stale: Vec<i64> = open
            .iter()
            .filter(|a| !holding.contains(&key(&a.tenant, &a.platform, &a.rule, &a.subject)))
            .map(|a| a.id)
            .collect();
        let closed = store::close(&self.db, &stale, now).await?;
        Ok((opened, closed))
    }

    /// The subjects for which `rule` holds in `tenant` on `platform` at `now`.
    async fn holding(
        &self,
        rule: &AlertRule,
        tenant: &str,
        platform: &str,
        now: i64,
    ) -> Result<Vec<Found>, AlertError> {
        let db = &self.db;
        let mut found = Vec::new();
        match rule.condition() {
            Condition::DealIdle { days } => {
                let cutoff = now - i64::from(*days) * DAY_MS;
                for deal in watch::idle_deals(db, tenant, platform, cutoff).await? {
                    let data = json!({
                        "deal": {
                            "id": deal.id.to_string(),
                            "name": deal.name,
                            "stage": deal.stage,
                            "amount": money(deal.amount),
                            "idle_days": ((now - deal.last_activity_at) / DAY_MS).to_string(),
                            "last_activity_at": self.calendar.local_minute(deal.last_activity_at),
                        },
                        "customer": { "name": deal.customer.clone().unwrap_or_default() },
                        "owner": { "name": deal.owner },
                        "links": { "deal": "" },
                    });
                    found.push(Found {
                        subject: format!("deal:{}", deal.id),
                        person: deal.owner,
                        data,
                    });
                }
            }
            Condition::RepIdle { days, .. } => {
                let cutoff = now - i64::from(*days) * DAY_MS;
                for rep in self.rules.alert_reps(rule) {
                    let activity = watch::rep_activity(db, tenant, platform, &rep).await?;
                    let last = activity.last_follow_up();
                    if last.is_some_and(|at| at > cutoff) {
                        continue;
                    }
                    let idle_days = last.map_or(i64::from(*days), |at| (now - at) / DAY_MS);
                    let data = json!({
                        "rep": {
                            "id": rep,
                            "name": rep,
                            "idle_days": idle_days.to_string(),
                            "last_follow_up": last
                                .map(|at| self.calendar.local_minute(at))
                                .unwrap_or_default(),
                            "open_tasks": activity.open_tasks.to_string(),
                        },
                        "rule": { "name": rule.name(), "days": days.to_string() },
                        "manager": { "name": "" },
                    });
                    found.push(Found {
                        subject: format!("rep:{rep}"),
                        person: rep,
                        data,
                    });
                }
            }
            Condition::Kpi {
                below_pct,
                day_of_month,
                targets,
            } => {
                let month = month_of(&self.calendar, now);
                // Day 31 of a 30-day month is its last day.
                if month.day < (*day_of_month).min(month.days) {
                    return Ok(found);
                }
                for (rep, target) in targets {
                    let won =
                        watch::won_amount(db, tenant, platform, rep, (month.from, month.until))
                            .await?;
                    let pct = won / target * 100.0;
                    if pct >= *below_pct {
                        continue;
                    }
                    let data = json!({
                        "kpi": {
                            "name": rule.name(),
                            "value": percent(pct),
                            "threshold": percent(*below_pct),
                            "direction": "below",
                            "period": month.label,
                        },
                        "team": { "name": rep },
                        "owner": { "name": "" },
                        "links": { "dashboard": "" },
                    });
                    found.push(Found {
                        subject: format!("kpi:{rep}:{}", month.label),
                        person: rep.clone(),
                        data,
                    });
                }
            }
        }
        Ok(found)
    }

    /// Finds whom `found` goes to and opens its episode; false when the directory could not
    /// be asked (tried again next tick) or another instance opened it first.
    async fn raise(
        &self,
        rule: &AlertRule,
        (tenant, platform): (&str, &str),
        found: Found,
        people: &mut People,
        now: i64,
    ) -> Result<bool, AlertError> {
        let Found {
            subject,
            person,
            mut data,
        } = found;
        let asked = key(tenant, platform, &rule.to().to_string(), &person);
        let looked_up = match people.get(&asked) {
            Some(known) => Ok(known.clone()),
            None => self.recipient(rule.to(), platform, tenant, &person).await,
        };
        let (name, recipient) = match looked_up {
            Ok(looked_up) => {
                people.insert(asked, looked_up.clone());
                looked_up
            }
            Err(RequestError::Database(e)) => return Err(e.into()),
            Err(e) => {
                tracing::warn!(rule = rule.name(), %subject, error = %e,
                    "cannot look up whom the alert goes to; tried again next tick");
                return Ok(false);
            }
        };
        let kind = match rule.condition() {
            Condition::DealIdle { .. } => {
                data["owner"]["name"] = json!(name);
                kind::DEAL_IDLE
            }
            Condition::RepIdle { .. } => {
                data["rep"]["name"] = json!(name);
                data["manager"]["name"] = json!(recipient.clone().unwrap_or_default());
                kind::REP_IDLE
            }
            Condition::Kpi { .. } => {
                data["team"]["name"] = json!(name);
                data["owner"]["name"] = json!(recipient.clone().unwrap_or_default());
                kind::KPI
            }
        };
        if recipient.is_none() {
            tracing::warn!(rule = rule.name(), %subject, to = %rule.to(), %person,
                "no one to send the alert to: no manager is configured or in the directory");
        }
        let alert = NewAlert {
            tenant: tenant.to_owned(),
            platform: platform.to_owned(),
            rule: rule.name().to_owned(),
            kind: kind.to_owned(),
            subject,
            recipient,
            payload: data,
        };
        Ok(store::open(&self.db, &alert, now).await?)
    }

    /// `person`'s name as the directory has it (else their id), and the user id `to` names
    /// for them: their manager (configured managers first), that manager's manager, or a
    /// fixed user. Nobody manages themselves.
    async fn recipient(
        &self,
        to: &AlertTo,
        platform: &str,
        tenant: &str,
        person: &str,
    ) -> Result<(String, Option<String>), RequestError> {
        let directory = &self.approvals;
        let found = directory.person(platform, tenant, person).await?;
        let name = found
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| person.to_owned());
        let manager = found.manager.filter(|m| !m.eq_ignore_ascii_case(person));
        let recipient = match to {
            AlertTo::User(id) => Some(id.clone()),
            AlertTo::Manager => manager,
            AlertTo::Director => match manager {
                None => None,
                Some(manager) => directory
                    .person(platform, tenant, &manager)
                    .await?
                    .manager
                    .filter(|d| {
                        !d.eq_ignore_ascii_case(&manager) && !d.eq_ignore_ascii_case(person)
                    }),
            },
        };
        Ok((name, recipient))
    }
}

/// `¥560,000.00`.
fn money(amount: f64) -> String {
    let fixed = format!("{:.2}", amount.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    format!("{sign}¥{grouped}.{cents}")
}

/// `60%`, `42.9%`.
fn percent(value: f64) -> String {
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}%")
    } else {
        format!("{tenths:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_percentages_read_as_people_write_them() {
        assert_eq!(money(560_000.0), "¥560,000.00");
        assert_eq!(money(1_234_567.891), "¥1,234,567.89");
        assert_eq!(money(999.5), "¥999.50");
        assert_eq!(money(0.0), "¥0.00");
        assert_eq!(money(-1500.0), "-¥1,500.00");
        assert_eq!(percent(60.0), "60%");
        assert_eq!(percent(42.857), "42.9%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(99.96), "100%");
    }
}
