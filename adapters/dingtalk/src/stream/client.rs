//! `StreamClient`: the reconnect loop around single connections, with a fresh ticket per
//! connection and jittered exponential backoff between failed attempts (dingtalk.md §4.7).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config::{StreamConfig, Subscription};
use super::connection::{Ended, Liveness, serve};
use super::error::StreamError;
use super::open::Gateway;
use super::sink::FrameSink;

/// A Stream-mode client for one app. Run one per instance: DingTalk spreads messages over all
/// connections of an app (dingtalk.md §4.7).
pub struct StreamClient {
    gateway: Gateway,
    liveness: Liveness,
    min_backoff: Duration,
    max_backoff: Duration,
}

impl std::fmt::Debug for StreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamClient").finish_non_exhaustive()
    }
}

impl StreamClient {
    /// A client that subscribes to `subscriptions`, e.g.
    /// [`Subscription::events_robot_and_cards`]. Fails only on an unusable configuration.
    pub fn new(
        config: StreamConfig,
        subscriptions: Vec<Subscription>,
    ) -> Result<Self, StreamError> {
        let liveness = Liveness {
            ping_interval: config.ping_interval,
            pong_timeout: config.pong_timeout,
            silence_timeout: config.silence_timeout,
        };
        let min_backoff = config.min_backoff;
        let max_backoff = config.max_backoff.max(min_backoff);
        Ok(Self {
            gateway: Gateway::new(config, subscriptions)?,
            liveness,
            min_backoff,
            max_backoff,
        })
    }

    /// Connects, hands every event and callback to `sink`, and reconnects whenever the
    /// connection ends, until `shutdown` is cancelled. Failures are logged, never returned: a
    /// wrong secret is retried with backoff like an outage.
    pub async fn run(&self, sink: Arc<dyn FrameSink>, shutdown: CancellationToken) {
        let mut failures: u32 = 0;
        while !shutdown.is_cancelled() {
            let connected = tokio::select! {
                () = shutdown.cancelled() => return,
                connected = self.gateway.connect() => connected,
            };
            match connected {
                Ok((socket, endpoint)) => {
                    tracing::info!(%endpoint, "DingTalk Stream connected");
                    let served = serve(socket, &sink, self.liveness, &shutdown).await;
                    if served.delivered > 0 {
                        failures = 0;
                    }
                    match served.ended {
                        Ended::Shutdown => return,
                        // DingTalk stops delivering once it announces a disconnect, so the
                        // replacement is opened at once (dingtalk.md §4.5).
                        Ended::Disconnect => {
                            failures = 0;
                            continue;
                        }
                        Ended::Lost(reason) => {
                            tracing::warn!(%reason, "DingTalk Stream connection lost; reconnecting");
                        }
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not open a DingTalk Stream connection");
                }
            }
            let delay = self.backoff(failures);
            failures = failures.saturating_add(1);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// `min_backoff` doubled per consecutive failure, capped at `max_backoff`, within ±20 % so
    /// instances that lost DingTalk together do not return together.
    fn backoff(&self, failures: u32) -> Duration {
        let exponential = self
            .min_backoff
            .saturating_mul(1 << failures.min(16))
            .min(self.max_backoff);
        exponential
            .mul_f64(0.8 + fastrand::f64() * 0.4)
            .min(self.max_backoff)
    }
}
