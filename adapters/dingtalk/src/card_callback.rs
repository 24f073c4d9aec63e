//! Interactive-card button taps (dingtalk.md §5.2.6): the JSON body DingTalk posts to the
//! registered route (or the data of a Stream CALLBACK frame), and the header signature that
//! authenticates an HTTP delivery: Base64(HMAC-SHA256(apiSecret, timestamp)).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha1::Digest;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the signing timestamp (epoch ms).
pub const TIMESTAMP_HEADER: &str = "x-ddpaas-signature-timestamp";
/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-ddpaas-signature";

/// Why a card callback was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardCallbackError {
    #[error("card callback signature does not match")]
    BadSignature,
    #[error("card callback timestamp is missing, malformed or outside the allowed window")]
    Stale,
    #[error("card callback body is malformed: {0}")]
    Malformed(String),
}

/// `Base64(HMAC-SHA256(key = api_secret, message = timestamp))`.
pub fn sign(api_secret: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(api_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks the headers of an HTTP card callback: the timestamp within `max_age_ms` of `now_ms`
/// (the docs give no window) and the signature compared in constant time.
pub fn verify(
    api_secret: &str,
    timestamp: Option<&str>,
    signature: Option<&str>,
    now_ms: i64,
    max_age_ms: i64,
) -> Result<(), CardCallbackError> {
    let timestamp = timestamp.ok_or(CardCallbackError::Stale)?;
    let sent: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| CardCallbackError::Stale)?;
    if (now_ms - sent).abs() > max_age_ms {
        return Err(CardCallbackError::Stale);
    }
    let expected = sign(api_secret, timestamp.trim());
    let given = signature.ok_or(CardCallbackError::BadSignature)?;
    if bool::from(expected.as_bytes().ct_eq(given.trim().as_bytes())) {
        Ok(())
    } else {
        Err(CardCallbackError::BadSignature)
    }
}

/// A button tap on a card; kept in the inbox as its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTap {
    /// The card (`outTrackId` given when it was created).
    pub out_track_id: String,
    /// The tapping user.
    pub user_id: String,
    pub corp_id: Option<String>,
    /// Ids of the component(s) tapped.
    pub action_ids: Vec<String>,
    /// The button's parameters as configured in the template.
    pub params: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    out_track_id: String,
    user_id: String,
    #[serde(default)]
    corp_id: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

impl CardTap {
    /// Parses the callback body; `content` is itself a JSON string.
    pub fn parse(body: &[u8]) -> Result<Self, CardCallbackError> {
        let body: Body = serde_json::from_slice(body)
            .map_err(|e| CardCallbackError::Malformed(e.to_string()))?;
        if body.kind.as_deref().is_some_and(|k| k != "actionCallback") {
            return Err(CardCallbackError::Malformed(format!(
                "unexpected type `{}`",
                body.kind.unwrap_or_default()
            )));
        }
        if body.out_track_id.is_empty() || body.user_id.is_empty() {
            return Err(CardCallbackError::Malformed(
                "outTrackId and userId must not be empty".into(),
            ));
        }
        let content: Value = match body.content.as_deref() {
            Some(text) if !text.is_empty() => serde_json::from_str(text)
                .map_err(|e| CardCallbackError::Malformed(format!("content: {e}")))?,
            _ => Value::Null,
        };
        let private = &content["cardPrivateData"];
        let action_ids = private["actionIds"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let params = private["params"].as_object().cloned().unwrap_or_default();
        Ok(Self {
            out_track_id: body.out_track_id,
            user_id: body.user_id,
            corp_id: body.corp_id,
            action_ids,
            params,
        })
    }

    /// No id is sent with a tap (dingtalk.md §3.5): the key is the card, the user and what
    /// they tapped, so a repeated delivery of the same tap collapses, and a different choice
    /// by the same user is a different event.
    pub fn dedupe_key(&self) -> String {
        let mut sha = sha1::Sha1::new();
        for part in [
            &self.out_track_id,
            &self.user_id,
            &self.action_ids.join(","),
            &Value::Object(self.params.clone()).to_string(),
        ] {
            sha.update((part.len() as u64).to_be_bytes());
            sha.update(part.as_bytes());
        }
        let hex: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!("card:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_signature_example_verifies() {
        assert_eq!(
            sign("mySecret", "1700000000000"),
            "t3jqwt0WBVsvNpgD+ncljxce56XsNOeEYafngX/BHjc="
        );
        let good = "t3jqwt0WBVsvNpgD+ncljxce56XsNOeEYafngX/BHjc=";
        assert_eq!(
            verify(
                "mySecret",
                Some("1700000000000"),
                Some(good),
                1_700_000_000_500,
                300_000
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                "other",
                Some("1700000000000"),
                Some(good),
                1_700_000_000_500,
                300_000
            ),
            Err(CardCallbackError::BadSignature)
        );
        assert_eq!(
            verify(
                "mySecret",
                Some("1700000000000"),
                None,
                1_700_000_000_500,
                300_000
            ),
            Err(CardCallbackError::BadSignature)
        );
        assert_eq!(
            verify(
                "mySecret",
                Some("1700000000000"),
                Some(good),
                1_700_001_000_000,
                300_000
            ),
            Err(CardCallbackError::Stale)
        );
        assert_eq!(
            verify("mySecret", None, Some(good), 0, 300_000),
            Err(CardCallbackError::Stale)
        );
        assert_eq!(
            verify("mySecret", Some("soon"), Some(good), 0, 300_000),
            Err(CardCallbackError::Stale)
        );
    }

    const TAP: &str = r#"{"type":"actionCallback","outTrackId":"approval-7f3c2a-step-1","corpId":"dingxxxxxxxx","userId":"mgr001","content":"{\"cardPrivateData\":{\"actionIds\":[\"approve_btn\"],\"params\":{\"action\":\"approve\",\"comment\":\"ok\"}}}"}"#;

    #[test]
    fn the_documented_tap_parses_with_its_params() {
        let tap = CardTap::parse(TAP.as_bytes()).unwrap();
        assert_eq!(
            (tap.out_track_id.as_str(), tap.user_id.as_str()),
            ("approval-7f3c2a-step-1", "mgr001")
        );
        assert_eq!(tap.action_ids, ["approve_btn"]);
        assert_eq!(tap.params["action"], "approve");
        assert_eq!(
            tap.dedupe_key(),
            CardTap::parse(TAP.as_bytes()).unwrap().dedupe_key()
        );
        let reject = CardTap::parse(TAP.replace("approve", "reject").as_bytes()).unwrap();
        assert_ne!(tap.dedupe_key(), reject.dedupe_key());
    }

    #[test]
    fn malformed_taps_are_errors() {
        for bad in [
            "",
            "{}",
            r#"{"outTrackId":"a"}"#,
            r#"{"outTrackId":"","userId":"u"}"#,
            r#"{"type":"other","outTrackId":"a","userId":"u"}"#,
            r#"{"outTrackId":"a","userId":"u","content":"{not json"}"#,
        ] {
            assert!(CardTap::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
