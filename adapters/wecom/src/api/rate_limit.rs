//! The default rate of this platform's client; the token bucket that spaces one client's
//! requests is salesbot-apikit's, so a burst of work is smoothed into a
//! steady rate well under WeCom's limits instead of tripping 45009 and a minute-long block.

pub use salesbot_apikit::rate_limit::{RateLimit, RateLimiter};

/// Default sustained rate. WeCom allows 10,000 calls/min per corp and API and 150,000/hour
/// (wecom.md §6.1); 600/min keeps one client at 6% of the minute limit and, sustained, at a
/// quarter of the hourly one, leaving room for other instances and apps of the same corp.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 600;
/// Default burst: requests that may go out back to back after an idle period.
pub const DEFAULT_BURST: u32 = 20;
