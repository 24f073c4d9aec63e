//! `[registrations]`: sign-ups a form service posts to `POST /api/v1/registrations`, signed as
//! salesbot signs its own webhooks.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// Fewest characters of `phone_salt`: a short salt is guessed as fast as the phone numbers
/// it is meant to hide.
pub const MIN_SALT_CHARS: usize = 16;

/// The registrations endpoint; off until `secret` is set.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationsConfig {
    /// The HMAC-SHA256 key of the `X-Salesbot-Signature` header, shared with the form service.
    /// Default none: the endpoint answers 404; `SALESBOT_REGISTRATIONS__SECRET`, usually
    /// `env:NAME`.
    pub secret: Option<Secret>,
    /// The key phone numbers are hashed with before they are stored or matched; required with
    /// `secret`, at least 16 characters, and never to be changed (stored hashes would no longer
    /// match). Default none; `SALESBOT_REGISTRATIONS__PHONE_SALT`, usually `env:NAME`.
    pub phone_salt: Option<Secret>,
}

impl RegistrationsConfig {
    /// The secret and the salt, when the endpoint is on.
    pub fn enabled(&self) -> Option<(&Secret, &Secret)> {
        self.secret.as_ref().zip(self.phone_salt.as_ref())
    }
}

/// Checks `[registrations]`; errors name `registrations.key`.
pub fn validate_registrations(config: &RegistrationsConfig) -> Result<(), ConfigError> {
    let invalid = |key: &str, reason: String| {
        Err(ConfigError::Invalid {
            key: format!("registrations.{key}"),
            reason,
        })
    };
    let Some(secret) = &config.secret else {
        return Ok(());
    };
    if secret.expose().is_empty() {
        return invalid("secret", "must not be empty".into());
    }
    match &config.phone_salt {
        None => invalid(
            "phone_salt",
            "must be set when registrations.secret is: phone numbers are stored only hashed with it"
                .into(),
        ),
        Some(salt) if salt.expose().chars().count() < MIN_SALT_CHARS => invalid(
            "phone_salt",
            format!("must be at least {MIN_SALT_CHARS} characters"),
        ),
        Some(_) => Ok(()),
    }
}
