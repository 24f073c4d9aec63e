//! One typed configuration tree, loaded once at start from a TOML file and `SALESBOT_*`
//! environment variables, and validated before anything else runs.
//!
//! Every key has a default, so `salesbot serve` with no file at all runs on SQLite on loopback.
//! This module (with its `load` submodule) is the only place that reads the process environment.

mod error;
mod links;
mod load;
mod platforms;
mod registrations;
mod secret;
mod webhooks;

use std::{net::SocketAddr, path::PathBuf};

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use links::LinksConfig;
pub use load::{ConfigSource, Loaded};
pub use platforms::{
    DINGTALK_API_BASE, DINGTALK_OAPI_BASE, DingtalkConfig, DingtalkMode, MessageFormat,
    WECOM_API_BASE, WecomConfig, valid_tenant,
};
pub use registrations::RegistrationsConfig;
pub use secret::Secret;
pub use webhooks::WebhookConfig;

/// The whole configuration. Unknown keys anywhere are an error, so a typo never goes unnoticed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub admin: AdminConfig,
    pub log: LogConfig,
    pub pipeline: PipelineConfig,
    /// `[[wecom]]`: the WeCom apps, one table each. Default none.
    pub wecom: Vec<WecomConfig>,
    /// `[[dingtalk]]`: the DingTalk apps, one table each. Default none.
    pub dingtalk: Vec<DingtalkConfig>,
    /// `[[webhooks]]`: the receivers of signed event POSTs, one table each. Default none.
    pub webhooks: Vec<WebhookConfig>,
    pub templates: TemplatesConfig,
    pub rules: RulesConfig,
    pub approvals: ApprovalsConfig,
    pub registrations: RegistrationsConfig,
    pub links: LinksConfig,
    pub work: WorkConfig,
    pub alerts: AlertsConfig,
}

/// `[alerts]`: how manager alerts (the `[[alert]]` rules, docs/rules.md) are sent.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    /// Minutes an alert waits for others to the same person, so that several go out as one
    /// alert_digest card. Default 15; `0` sends each at the next tick;
    /// `SALESBOT_ALERTS__DIGEST_WINDOW_MINS`.
    pub digest_window_mins: u64,
    /// Minutes between two evaluations of the alert rules. Default 5; `0` turns the alert
    /// job off; `SALESBOT_ALERTS__EVERY_MINS`.
    pub every_mins: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            digest_window_mins: 15,
            every_mins: 5,
        }
    }
}

/// `[approvals]`: how long approvers may leave a card before they are reminded, and before
/// their manager is asked in their place (docs/rules.md). `0` turns either off.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalsConfig {
    /// Minutes after the card before approval_reminder. Default 240 (4 hours);
    /// `SALESBOT_APPROVALS__REMIND_AFTER_MINS`.
    pub remind_after_mins: u64,
    /// Minutes after the card before the approver's manager gets one too. Default 1440
    /// (24 hours); `SALESBOT_APPROVALS__ESCALATE_AFTER_MINS`.
    pub escalate_after_mins: u64,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        Self {
            remind_after_mins: 240,
            escalate_after_mins: 1440,
        }
    }
}

impl ApprovalsConfig {
    /// The reminder job's timing.
    pub fn timing(&self) -> crate::approvals::reminders::Timing {
        let after = |mins: u64| (mins > 0).then(|| std::time::Duration::from_secs(mins * 60));
        crate::approvals::reminders::Timing {
            remind_after: after(self.remind_after_mins),
            escalate_after: after(self.escalate_after_mins),
        }
    }
}

/// `[work]`: the team's working hours. Task due times count working time only, and notices
/// other than approvals wait outside them (quiet hours; docs/configuration.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkConfig {
    /// IANA time zone. Default `Asia/Shanghai`; `SALESBOT_WORK__TIME_ZONE`.
    pub time_zone: String,
    /// Start of the working day, `HH:MM`. Default `09:00`; `SALESBOT_WORK__START`.
    pub start: String,
    /// End of the working day, `HH:MM`. Default `18:00`; `SALESBOT_WORK__END`.
    pub end: String,
    /// Working days (`mon` … `sun`). Default Monday to Friday; `SALESBOT_WORK__DAYS`.
    pub days: Vec<String>,
}

impl Default for WorkConfig {
    fn default() -> Self {
        Self {
            time_zone: "Asia/Shanghai".into(),
            start: "09:00".into(),
            end: "18:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl WorkConfig {
    /// The working hours these settings give.
    pub fn hours(
        &self,
    ) -> Result<crate::domain::calendar::WorkingHours, crate::domain::calendar::CalendarError> {
        crate::domain::calendar::WorkingHours::new(
            &self.time_zone,
            &self.start,
            &self.end,
            &self.days,
        )
    }
}

/// `[rules]`: the rules sales-ops write (docs/rules.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// The rules file (TOML). Default none: no rules; `SALESBOT_RULES__FILE`.
    pub file: Option<PathBuf>,
}

/// `[templates]`: the message templates cards are rendered from.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TemplatesConfig {
    /// A folder of `<kind>.<locale>.toml` files that replace the embedded templates of the same
    /// name (see docs/templates.md). Default none: the embedded templates only;
    /// `SALESBOT_TEMPLATES__DIR`.
    pub dir: Option<PathBuf>,
    /// The locale cards are written in: `zh-CN` or `en`. Default `zh-CN`;
    /// `SALESBOT_TEMPLATES__LOCALE`.
    pub locale: String,
}

impl Default for TemplatesConfig {
    fn default() -> Self {
        Self {
            dir: None,
            locale: crate::cards::DEFAULT_LOCALE.into(),
        }
    }
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`; `SALESBOT_SERVER__LISTEN`.
    pub listen: SocketAddr,
    /// Base URL under which salesbot is reachable from outside, used in tracked links.
    /// Default `http://127.0.0.1:8080`; `SALESBOT_SERVER__PUBLIC_BASE_URL`.
    pub public_base_url: String,
    /// Largest request body accepted; a larger one is answered 413 before it is read.
    /// Default 1 MiB; `SALESBOT_SERVER__BODY_LIMIT_BYTES`.
    pub body_limit_bytes: usize,
    /// How long shutdown waits for in-flight requests and work items before giving up.
    /// Default 30; `SALESBOT_SERVER__SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_base_url: "http://127.0.0.1:8080".into(),
            body_limit_bytes: 1024 * 1024,
            shutdown_grace_secs: 30,
        }
    }
}

/// `[database]`: where state lives.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://relative.db?mode=rwc`, `sqlite:///absolute/path.db?mode=rwc` or
    /// `postgres://user:password@host:5432/db`. Default `sqlite://salesbot.db?mode=rwc`;
    /// `SALESBOT_DATABASE__URL`.
    pub url: DatabaseUrl,
    /// Connections in the pool. Default 10; `SALESBOT_DATABASE__MAX_CONNECTIONS`.
    pub max_connections: u32,
    /// How long to wait for a connection (and, on SQLite, for a lock). Default 5;
    /// `SALESBOT_DATABASE__TIMEOUT_SECS`.
    pub timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl("sqlite://salesbot.db?mode=rwc".into()),
            max_connections: 10,
            timeout_secs: 5,
        }
    }
}

/// A database URL. `Debug` and `Serialize` hide the password, so a logged or printed config
/// never shows it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl Serialize for DatabaseUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    pub fn is_postgres(&self) -> bool {
        self.0.starts_with("postgres://") || self.0.starts_with("postgresql://")
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        match rest.split_once('@') {
            Some((userinfo, host)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `[admin]`: the admin and integration API under `/api/v1`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token for `/api/v1`; without one the admin API answers 401 to everyone.
    /// Usually `env:SALESBOT_ADMIN_TOKEN`. Default none; `SALESBOT_ADMIN__TOKEN`.
    pub token: Option<Secret>,
}

/// `[log]`: what is logged and how.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (human-readable) or `json` (one object per line). Default `text`;
    /// `SALESBOT_LOG__FORMAT`, or `--log-json` on the command line.
    pub format: LogFormat,
    /// Filter in `RUST_LOG` syntax, e.g. `info,salesbot=debug`. Default `info`;
    /// `SALESBOT_LOG__FILTER`; `RUST_LOG`, when set, wins.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[pipeline]`: the inbox workers, the outbox dispatcher and the scheduler.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Concurrent inbox workers per instance. Default 4: a worker mostly waits on the platforms
    /// and the database, and four keep friend-adds at 500/s well inside the welcome code's 20 s
    /// (docs/benchmarks.md); `SALESBOT_PIPELINE__WORKERS`.
    pub workers: usize,
    /// Concurrent outbox dispatchers per instance. Default 2; `SALESBOT_PIPELINE__DISPATCHERS`.
    pub dispatchers: usize,
    /// Rows claimed per round trip. Default 16; `SALESBOT_PIPELINE__BATCH_SIZE`.
    pub batch_size: u32,
    /// How often an idle worker looks for work stored by other instances. Default 500;
    /// `SALESBOT_PIPELINE__POLL_INTERVAL_MS`.
    pub poll_interval_ms: u64,
    /// How long a claimed row is reserved; after that a crashed instance's rows are taken over.
    /// Default 60; `SALESBOT_PIPELINE__LEASE_SECS`.
    pub lease_secs: u64,
    /// Attempts before an inbox event is parked. Default 8; `SALESBOT_PIPELINE__INBOX_MAX_ATTEMPTS`.
    pub inbox_max_attempts: u32,
    /// Attempts before an outbox message is dead-lettered. Default 10;
    /// `SALESBOT_PIPELINE__OUTBOX_MAX_ATTEMPTS`.
    pub outbox_max_attempts: u32,
    /// First retry delay; it doubles per attempt, with jitter. Default 1000;
    /// `SALESBOT_PIPELINE__RETRY_BASE_MS`.
    pub retry_base_ms: u64,
    /// Longest retry delay. Default 600000 (10 minutes); `SALESBOT_PIPELINE__RETRY_MAX_MS`.
    pub retry_max_ms: u64,
    /// Days that finished inbox events and sent messages are kept (the dedupe window) before the
    /// housekeeping job deletes them. Parked and dead rows are kept until an operator acts.
    /// Default 14; `SALESBOT_PIPELINE__RETENTION_DAYS`.
    pub retention_days: u32,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            dispatchers: 2,
            batch_size: 16,
            poll_interval_ms: 500,
            lease_secs: 60,
            inbox_max_attempts: 8,
            outbox_max_attempts: 10,
            retry_base_ms: 1000,
            retry_max_ms: 600_000,
            retention_days: 14,
        }
    }
}

impl Config {
    /// Checks what the types alone cannot; each failure names its key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| {
            Err(ConfigError::Invalid {
                key: key.into(),
                reason: reason.into(),
            })
        };
        let url = &self.database.url;
        if !url.is_sqlite() && !url.is_postgres() {
            return invalid(
                "database.url",
                "must start with sqlite:// or postgres:// (or postgresql://)",
            );
        }
        let base = &self.server.public_base_url;
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() < 10 {
            return invalid(
                "server.public_base_url",
                "must be an absolute http:// or https:// URL",
            );
        }
        if self.server.body_limit_bytes == 0 {
            return invalid("server.body_limit_bytes", "must be greater than 0");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be greater than 0");
        }
        let p = &self.pipeline;
        for (key, value) in [
            ("pipeline.workers", p.workers as u64),
            ("pipeline.dispatchers", p.dispatchers as u64),
            ("pipeline.batch_size", p.batch_size.into()),
            ("pipeline.poll_interval_ms", p.poll_interval_ms),
            ("pipeline.lease_secs", p.lease_secs),
            ("pipeline.inbox_max_attempts", p.inbox_max_attempts.into()),
            ("pipeline.outbox_max_attempts", p.outbox_max_attempts.into()),
            ("pipeline.retry_base_ms", p.retry_base_ms),
        ] {
            if value == 0 {
                return invalid(key, "must be greater than 0");
            }
        }
        if p.retry_max_ms < p.retry_base_ms {
            return invalid(
                "pipeline.retry_max_ms",
                "must not be smaller than pipeline.retry_base_ms",
            );
        }
        if !crate::cards::LOCALES.contains(&self.templates.locale.as_str()) {
            return invalid("templates.locale", "must be one of zh-CN, en");
        }
        platforms::validate_wecom(&self.wecom)?;
        platforms::validate_dingtalk(&self.dingtalk)?;
        links::validate_links(&self.links)?;
        webhooks::validate_webhooks(&self.webhooks, p.lease_secs)?;
        registrations::validate_registrations(&self.registrations)?;
        match self.work.hours() {
            Ok(_) => Ok(()),
            Err(e) => invalid("work", &e.to_string()),
        }
    }
}

/// Where the configuration came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No file: the embedded defaults (plus any environment overrides).
    Defaults,
    File(PathBuf),
}

#[cfg(test)]
mod tests;
