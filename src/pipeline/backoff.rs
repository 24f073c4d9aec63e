//! Retry delays: exponential with jitter, so that retries of many rows after one outage spread
//! out instead of arriving together.

use std::time::Duration;

/// Exponential backoff: `base * 2^(attempt-1)`, capped at `max`, then scaled by a random factor
/// in [0.5, 1.0] ("equal jitter": never less than half the nominal delay).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The nominal delay after `attempt` failed attempts (1 = the first failure), before jitter.
    pub fn nominal(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << shift).min(self.max)
    }

    /// The delay to wait after `attempt` failed attempts.
    pub fn delay(&self, attempt: u32) -> Duration {
        self.nominal(attempt).mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_per_attempt_until_the_cap() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        assert_eq!(b.nominal(1), Duration::from_millis(100));
        assert_eq!(b.nominal(2), Duration::from_millis(200));
        assert_eq!(b.nominal(4), Duration::from_millis(800));
        assert_eq!(b.nominal(5), Duration::from_secs(1));
        assert_eq!(b.nominal(400), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_between_half_and_the_full_nominal_delay() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        for attempt in 1..8 {
            for _ in 0..200 {
                let d = b.delay(attempt);
                assert!(
                    d >= b.nominal(attempt) / 2 && d <= b.nominal(attempt),
                    "{d:?}"
                );
            }
        }
    }
}
