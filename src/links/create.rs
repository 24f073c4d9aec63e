//! Creating a tracked link, the same way for the admin API and for a rep's chat command.

use sea_orm::ConnectionTrait;

use super::LinkError;
use crate::domain::link::{Link, LinkCode, NewLink, store};

/// Codes tried before giving up. One collision among 8.4 × 10^17 codes is already
/// astronomically unlikely; five in a row mean the random source is broken.
const CODE_TRIES: u32 = 5;

/// A created link and the URL to post in the chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub link: Link,
    /// `{public_base_url}/l/{code}`.
    pub url: String,
}

/// Stores `new` under a fresh random code.
#[tracing::instrument(skip_all, fields(tenant = %new.tenant, campaign = %new.campaign, code))]
pub async fn create(
    db: &impl ConnectionTrait,
    new: &NewLink,
    public_base_url: &str,
    now: i64,
) -> Result<Created, LinkError> {
    for _ in 0..CODE_TRIES {
        let code = LinkCode::generate().map_err(LinkError::Random)?;
        if let Some(link) = store::insert(db, new, &code, now).await? {
            tracing::Span::current().record("code", code.as_str());
            tracing::info!("tracked link created");
            return Ok(Created {
                url: short_url(public_base_url, &link.code),
                link,
            });
        }
        tracing::warn!(code = code.as_str(), "link code taken; drawing another");
    }
    Err(LinkError::NoFreeCode(CODE_TRIES))
}

/// The public URL of the link with `code`.
pub fn short_url(public_base_url: &str, code: &str) -> String {
    format!("{}/l/{code}", public_base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::short_url;

    #[test]
    fn the_short_url_joins_base_and_code_with_one_slash() {
        assert_eq!(
            short_url("https://bot.example.com", "Ab3dE5gH7j"),
            "https://bot.example.com/l/Ab3dE5gH7j"
        );
        assert_eq!(
            short_url("https://bot.example.com/sb/", "Ab3dE5gH7j"),
            "https://bot.example.com/sb/l/Ab3dE5gH7j"
        );
    }
}
