//! What the load generators share: latency samples gathered from their workers and read as
//! percentiles.

// Each example includes this file and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use tokio::task::JoinHandle;

/// Latency samples, sorted.
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Self(samples)
    }

    /// Waits for `workers`, each answering its samples and its failure count; all samples and
    /// all failures.
    pub async fn gather(
        workers: Vec<JoinHandle<(Vec<Duration>, usize)>>,
    ) -> anyhow::Result<(Self, usize)> {
        let mut samples = Vec::new();
        let mut failures = 0;
        for worker in workers {
            let (some, failed) = worker.await?;
            samples.extend(some);
            failures += failed;
        }
        Ok((Self::new(samples), failures))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sample at fraction `p` (0.5 for the median); zero when there are none.
    pub fn at(&self, p: f64) -> Duration {
        let index = ((self.0.len() as f64 * p) as usize).min(self.0.len().saturating_sub(1));
        self.0.get(index).copied().unwrap_or_default()
    }

    /// The slowest sample; zero when there are none.
    pub fn max(&self) -> Duration {
        self.0.last().copied().unwrap_or_default()
    }
}

/// `d` in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
