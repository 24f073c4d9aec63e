//! The default rate of this platform's client; the token bucket that spaces one client's
//! requests is salesbot-apikit's, so a burst of work is smoothed into a
//! steady rate under DingTalk's QPS limits instead of tripping 90018 and a ban (dingtalk.md §8.1).

pub use salesbot_apikit::rate_limit::{RateLimit, RateLimiter};

/// Default sustained rate. DingTalk allows 20 requests/s per app and API on the standard
/// edition (dingtalk.md §8.1); 10/s over all APIs keeps one client at half of the tightest
/// per-API limit, leaving room for a second instance of the same app.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
/// Default burst: requests that may go out back to back after an idle period; 10 keeps even a
/// burst to one API within a second's allowance.
pub const DEFAULT_BURST: u32 = 10;
