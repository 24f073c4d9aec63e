//! Query strings of platform callbacks, decoded exactly once and without the form rule that
//! turns `+` into a space: a base64 `echostr` keeps its `+` and `/` whether or not the platform
//! percent-encoded them.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("query parameter `{0}` is missing")]
    Missing(&'static str),
    #[error("query parameter `{0}` appears more than once")]
    Repeated(String),
    #[error("query parameter `{0}` is not valid percent-encoded UTF-8")]
    Encoding(String),
}

/// The decoded parameters of a query string.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Decodes `raw` (the part after `?`). A repeated name is an error: a platform never sends
    /// one, and which copy a signature covers would be ambiguous.
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let mut params = HashMap::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|v| v.into_owned())
                    .map_err(|_| QueryError::Encoding(name.to_string()))
            };
            let (name, value) = (decode(name)?, decode(value)?);
            if params.contains_key(&name) {
                return Err(QueryError::Repeated(name));
            }
            params.insert(name, value);
        }
        Ok(Self(params))
    }

    /// A parameter that must be present.
    pub fn require(&self, name: &'static str) -> Result<&str, QueryError> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or(QueryError::Missing(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_and_slash_survive_encoded_or_not() {
        let p = Params::parse(Some(
            "echostr=P9nA%2FqYX%2B4R%3D%3D&raw=a+b/c==&msg_signature=abc",
        ))
        .unwrap();
        assert_eq!(p.require("echostr").unwrap(), "P9nA/qYX+4R==");
        assert_eq!(p.require("raw").unwrap(), "a+b/c==");
        assert_eq!(p.require("nonce"), Err(QueryError::Missing("nonce")));
    }

    #[test]
    fn repeated_or_undecodable_parameters_are_errors() {
        assert_eq!(
            Params::parse(Some("a=1&a=2")).unwrap_err(),
            QueryError::Repeated("a".into())
        );
        assert!(matches!(
            Params::parse(Some("a=%FF")),
            Err(QueryError::Encoding(_))
        ));
        assert!(Params::parse(None).unwrap().require("a").is_err());
    }
}
