//! The form a form service posts for a registration, and its checks: what is required, how
//! long each text may be, and the phone turned into its hash and masked form at once, so no
//! later step ever holds the number.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::phone::{InvalidPhone, Phone};
use crate::config::valid_tenant;

/// Longest campaign name and form submission id.
pub const MAX_CAMPAIGN_CHARS: usize = 128;
pub const MAX_FORM_ID_CHARS: usize = 128;
/// Longest tracked-link code.
pub const MAX_LINK_CODE_CHARS: usize = 64;
/// Longest name and company: the columns' size.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest WeCom external userid.
pub const MAX_EXTERNAL_USERID_CHARS: usize = 128;

/// The body a form service posts, as written. Unknown keys are refused, so a misspelt
/// `external_userid` is not silently dropped. No `Debug`: it holds the phone number.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationForm {
    pub tenant: String,
    pub campaign: Option<String>,
    pub link_code: Option<String>,
    pub name: String,
    pub phone: String,
    pub company: Option<String>,
    pub external_userid: Option<String>,
    /// The form service's own id of the submission.
    pub id: Option<String>,
}

/// Why a registration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRegistration {
    #[error("tenant must be 1-64 of a-z, 0-9, - and _")]
    Tenant,
    #[error("give a campaign or a link_code (or both)")]
    NoCampaign,
    #[error("campaign must be at most {MAX_CAMPAIGN_CHARS} characters")]
    Campaign,
    #[error("link_code must be 1-{MAX_LINK_CODE_CHARS} letters, digits, - or _")]
    LinkCode,
    #[error("name must be 1 to {MAX_NAME_CHARS} characters, not only spaces")]
    Name,
    #[error(transparent)]
    Phone(#[from] InvalidPhone),
    #[error("company must be at most {MAX_NAME_CHARS} characters")]
    Company,
    #[error("external_userid must be at most {MAX_EXTERNAL_USERID_CHARS} characters")]
    ExternalUserid,
    #[error("id must be 1 to {MAX_FORM_ID_CHARS} characters")]
    FormId,
}

/// A checked registration, its phone already hashed and masked; the number itself is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    pub tenant: String,
    pub campaign: Option<String>,
    pub link_code: Option<String>,
    pub name: String,
    pub phone_hash: String,
    pub phone_masked: String,
    pub company: Option<String>,
    pub external_userid: Option<String>,
    /// Unique per submission: the form's id when it sent one, else the tenant, campaign, link
    /// and phone hash, so the same person signing up for the same thing twice is one row.
    pub dedupe_key: String,
}

impl NewRegistration {
    /// Checks `form` and hashes its phone with `phone_salt`. Empty optional texts count as
    /// absent; texts are trimmed.
    pub fn parse(form: RegistrationForm, phone_salt: &str) -> Result<Self, InvalidRegistration> {
        use InvalidRegistration as E;
        if !valid_tenant(&form.tenant) {
            return Err(E::Tenant);
        }
        let campaign = optional(form.campaign, MAX_CAMPAIGN_CHARS).map_err(|()| E::Campaign)?;
        let link_code = optional(form.link_code, MAX_LINK_CODE_CHARS).map_err(|()| E::LinkCode)?;
        if link_code.as_ref().is_some_and(|code| {
            !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) {
            return Err(E::LinkCode);
        }
        if campaign.is_none() && link_code.is_none() {
            return Err(E::NoCampaign);
        }
        let name = optional(Some(form.name), MAX_NAME_CHARS)
            .ok()
            .flatten()
            .ok_or(E::Name)?;
        let phone = Phone::parse(&form.phone)?;
        let company = optional(form.company, MAX_NAME_CHARS).map_err(|()| E::Company)?;
        let external_userid = optional(form.external_userid, MAX_EXTERNAL_USERID_CHARS)
            .map_err(|()| E::ExternalUserid)?;
        let form_id = match form.id {
            Some(id) => Some(
                optional(Some(id), MAX_FORM_ID_CHARS)
                    .ok()
                    .flatten()
                    .ok_or(E::FormId)?,
            ),
            None => None,
        };
        let phone_hash = phone.hash(phone_salt);
        let dedupe_key = match form_id {
            Some(id) => format!("form:{}:{id}", form.tenant),
            None => {
                let mut digest = Sha256::new();
                for part in [
                    campaign.as_deref().unwrap_or_default(),
                    link_code.as_deref().unwrap_or_default(),
                    &phone_hash,
                ] {
                    digest.update(part.as_bytes());
                    digest.update([0]);
                }
                let hex: String = digest
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("same:{}:{hex}", form.tenant)
            }
        };
        Ok(Self {
            tenant: form.tenant,
            campaign,
            link_code,
            name,
            phone_masked: phone.masked(),
            phone_hash,
            company,
            external_userid,
            dedupe_key,
        })
    }

    /// The `source` of a lead this registration makes.
    pub fn lead_source(&self) -> String {
        match (&self.campaign, &self.link_code) {
            (Some(campaign), _) => format!("registration:{campaign}"),
            (None, Some(code)) => format!("registration:link:{code}"),
            (None, None) => "registration".into(),
        }
    }
}

/// A trimmed text of at most `max` characters; `None` when absent or empty.
pub(super) fn optional(text: Option<String>, max: usize) -> Result<Option<String>, ()> {
    let Some(text) = text else { return Ok(None) };
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else if text.chars().count() > max {
        Err(())
    } else {
        Ok(Some(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: &str = "salt-0123456789ab";

    fn form() -> RegistrationForm {
        RegistrationForm {
            tenant: "acme".into(),
            campaign: Some("expo2026".into()),
            link_code: None,
            name: "Wang Fang".into(),
            phone: "13812345678".into(),
            company: Some("Initech".into()),
            external_userid: None,
            id: None,
        }
    }

    #[test]
    fn a_valid_form_keeps_no_phone_number() {
        let r = NewRegistration::parse(form(), SALT).unwrap();
        assert_eq!(r.phone_masked, "138****5678");
        assert_eq!(
            r.phone_hash,
            Phone::parse("13812345678").unwrap().hash(SALT)
        );
        assert!(!format!("{r:?}").contains("13812345678"));
        assert!(!r.dedupe_key.contains("13812345678"));
        assert_eq!(r.lead_source(), "registration:expo2026");
    }

    #[test]
    fn the_dedupe_key_is_the_forms_id_or_what_was_registered_for_by_whom() {
        let key = |f: RegistrationForm| NewRegistration::parse(f, SALT).unwrap().dedupe_key;
        let with_id = RegistrationForm {
            id: Some("sub-1".into()),
            ..form()
        };
        assert_eq!(key(with_id), "form:acme:sub-1");
        let same = key(form());
        assert!(same.starts_with("same:acme:"), "{same}");
        assert_eq!(same, key(form()));
        let other_campaign = RegistrationForm {
            campaign: Some("webinar".into()),
            ..form()
        };
        assert_ne!(same, key(other_campaign));
        let other_phone = RegistrationForm {
            phone: "13812345679".into(),
            ..form()
        };
        assert_ne!(same, key(other_phone));
        let renamed = RegistrationForm {
            name: "Fang Wang".into(),
            ..form()
        };
        assert_eq!(same, key(renamed));
    }

    #[test]
    fn every_bad_field_is_refused_with_its_reason() {
        use InvalidRegistration as E;
        let cases: Vec<(RegistrationForm, E)> = vec![
            (
                RegistrationForm {
                    tenant: "Acme".into(),
                    ..form()
                },
                E::Tenant,
            ),
            (
                RegistrationForm {
                    campaign: Some(" ".into()),
                    ..form()
                },
                E::NoCampaign,
            ),
            (
                RegistrationForm {
                    campaign: Some("c".repeat(129)),
                    ..form()
                },
                E::Campaign,
            ),
            (
                RegistrationForm {
                    link_code: Some("a b".into()),
                    ..form()
                },
                E::LinkCode,
            ),
            (
                RegistrationForm {
                    name: "  ".into(),
                    ..form()
                },
                E::Name,
            ),
            (
                RegistrationForm {
                    phone: "138-1234-5678".into(),
                    ..form()
                },
                E::Phone(InvalidPhone),
            ),
            (
                RegistrationForm {
                    company: Some("c".repeat(256)),
                    ..form()
                },
                E::Company,
            ),
            (
                RegistrationForm {
                    id: Some("".into()),
                    ..form()
                },
                E::FormId,
            ),
        ];
        for (form, expected) in cases {
            assert_eq!(NewRegistration::parse(form, SALT), Err(expected.clone()));
        }
        let link_only = RegistrationForm {
            campaign: None,
            link_code: Some("aB3-x_9".into()),
            ..form()
        };
        let r = NewRegistration::parse(link_only, SALT).unwrap();
        assert_eq!(r.lead_source(), "registration:link:aB3-x_9");
    }
}
