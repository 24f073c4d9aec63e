//! A token bucket that spaces one client's requests, so a burst of work is smoothed into a
//! steady rate under the platform's limits instead of tripping its rate-limit errors.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Requests per minute and burst size of one client's token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute; at least 1.
    pub per_minute: u32,
    /// Requests that may go out at once when the bucket is full; at least 1.
    pub burst: u32,
}

impl RateLimit {
    /// A limit of `per_minute` sustained with bursts of up to `burst`.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Self { per_minute, burst }
    }
}

/// The bucket. Callers reserve a token up front (the count may go negative) and sleep until
/// their token has been refilled, so waiters are served in arrival order without polling.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    bucket: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        let burst = f64::from(limit.burst.max(1));
        Self {
            per_second: f64::from(limit.per_minute.max(1)) / 60.0,
            burst,
            bucket: Mutex::new(Bucket {
                tokens: burst,
                refilled_at: Instant::now(),
            }),
        }
    }

    /// Waits until one more request may be sent. A caller dropped while waiting keeps its
    /// reservation, which only makes the limiter slightly more conservative.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    fn reserve(&self) -> Duration {
        let mut bucket = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(bucket.refilled_at).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst) - 1.0;
        bucket.refilled_at = now;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paused clock advances exactly to each timer, but timers have millisecond resolution.
    fn assert_about(actual: Duration, expected: Duration) {
        let slack = Duration::from_millis(5);
        assert!(
            actual >= expected && actual <= expected + slack,
            "waited {actual:?}, expected {expected:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_lets_the_burst_through_without_waiting() {
        let limiter = RateLimiter::new(RateLimit::new(60, 3));
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_burst_are_spaced_at_the_configured_rate() {
        let limiter = RateLimiter::new(RateLimit::new(60, 2));
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        limiter.acquire().await;
        assert_about(start.elapsed(), Duration::from_secs(1));
        limiter.acquire().await;
        assert_about(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_waiters_each_get_their_own_slot() {
        let limiter = std::sync::Arc::new(RateLimiter::new(RateLimit::new(120, 1)));
        let start = Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut waited = Vec::new();
        for task in tasks {
            waited.push(task.await.expect("task"));
        }
        waited.sort();
        for (slot, actual) in waited.into_iter().enumerate() {
            assert_about(actual, Duration::from_millis(500) * slot as u32);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_only_up_to_the_burst() {
        let limiter = RateLimiter::new(RateLimit::new(60, 2));
        tokio::time::advance(Duration::from_secs(3600)).await;
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_about(start.elapsed(), Duration::from_secs(1));
    }
}
