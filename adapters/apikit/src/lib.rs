//! salesbot-apikit: what the WeCom and DingTalk API clients share, so each SDK keeps only its
//! platform's protocol: the access-token store and its single-flight refresh rule, the
//! client-side rate limit, and the HTTP client over rustls.

pub mod rate_limit;
pub mod tls;
pub mod token;
