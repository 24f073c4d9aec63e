//! The Prometheus metrics salesbot exposes at `/metrics`: HTTP requests, queue depths,
//! handler and delivery latencies, and what became of tracked-link clicks.

use std::time::Duration;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    platform: String,
    tenant: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantOutcomeLabels {
    tenant: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    platform: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets from 1 ms to about 33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 16,
    ))
}

/// All of salesbot's metrics, shared by the HTTP layer and the pipeline.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    callbacks: Family<CallbackLabels, Counter>,
    inbox_depth: Family<StateLabels, Gauge>,
    outbox_depth: Family<StateLabels, Gauge>,
    handler_latency: HistogramFamily<HandlerLabels>,
    delivery_latency: HistogramFamily<DeliveryLabels>,
    welcome_messages: Family<TenantOutcomeLabels, Counter>,
    clicks_recorded: Counter,
    clicks_dropped: Family<ReasonLabels, Counter>,
    clicks_buffered: Gauge,
    click_flush_latency: HistogramFamily<OutcomeLabels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("salesbot");
        let requests = Family::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let callbacks = Family::default();
        registry.register(
            "callbacks",
            "Platform callbacks by outcome: stored, duplicate, verified, refused, error",
            callbacks.clone(),
        );
        let inbox_depth = Family::default();
        registry.register("inbox_events", "Inbox events by state", inbox_depth.clone());
        let outbox_depth = Family::default();
        registry.register(
            "outbox_messages",
            "Outbox messages by state",
            outbox_depth.clone(),
        );
        let handler_latency: HistogramFamily<HandlerLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "handler_duration_seconds",
            "Time to apply one inbox event, by kind and outcome",
            handler_latency.clone(),
        );
        let delivery_latency: HistogramFamily<DeliveryLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "delivery_duration_seconds",
            "Time of one platform send, by platform and outcome",
            delivery_latency.clone(),
        );
        let welcome_messages = Family::default();
        registry.register(
            "welcome_messages",
            "Welcome messages to new customers by outcome: sent, not_allowed (41051: another app \
             greeted first, or they already chatted), expired (the 20 s code ran out), failed",
            welcome_messages.clone(),
        );
        let clicks_recorded = Counter::default();
        registry.register(
            "link_clicks_recorded",
            "Tracked-link clicks written to the database",
            clicks_recorded.clone(),
        );
        let clicks_dropped = Family::default();
        registry.register(
            "link_clicks_dropped",
            "Tracked-link clicks redirected but never written, by reason: buffer_full (the \
             database fell behind), unwritten (still failing at shutdown), stopped (after \
             shutdown), no_salt (the visitor salt could not be read)",
            clicks_dropped.clone(),
        );
        let clicks_buffered = Gauge::default();
        registry.register(
            "link_clicks_buffered",
            "Tracked-link clicks held in memory, not yet written",
            clicks_buffered.clone(),
        );
        let click_flush_latency: HistogramFamily<OutcomeLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "link_click_flush_duration_seconds",
            "Time to write one batch of clicks, by outcome: ok, error",
            click_flush_latency.clone(),
        );
        Self {
            registry,
            requests,
            callbacks,
            inbox_depth,
            outbox_depth,
            handler_latency,
            delivery_latency,
            welcome_messages,
            clicks_recorded,
            clicks_dropped,
            clicks_buffered,
            click_flush_latency,
        }
    }

    /// A click entered the buffer (`n` = 1) or left it (`n` < 0: written or dropped).
    pub fn add_clicks_buffered(&self, n: i64) {
        self.clicks_buffered.inc_by(n);
    }

    /// `n` clicks were written to the database.
    pub fn count_clicks_recorded(&self, n: u64) {
        self.clicks_recorded.inc_by(n);
    }

    /// `n` clicks were redirected but will never be written.
    pub fn count_clicks_dropped(&self, reason: &str, n: u64) {
        self.clicks_dropped
            .get_or_create(&ReasonLabels {
                reason: reason.into(),
            })
            .inc_by(n);
    }

    pub fn observe_click_flush(&self, outcome: &str, elapsed: Duration) {
        self.click_flush_latency
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one welcome message by what became of it.
    pub fn count_welcome(&self, tenant: &str, outcome: &str) {
        self.welcome_messages
            .get_or_create(&TenantOutcomeLabels {
                tenant: tenant.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts one answered request. `route` is the matched route template, never the raw path,
    /// so that ids in paths do not create a series each.
    pub fn count_request(&self, route: &str, method: &str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.into(),
                method: method.into(),
                status,
            })
            .inc();
    }

    /// Counts one platform callback by what became of it.
    pub fn count_callback(&self, platform: &str, tenant: &str, outcome: &str) {
        self.callbacks
            .get_or_create(&CallbackLabels {
                platform: platform.into(),
                tenant: tenant.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    pub fn observe_handler(&self, kind: &str, outcome: &str, elapsed: Duration) {
        self.handler_latency
            .get_or_create(&HandlerLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_delivery(&self, platform: &str, outcome: &str, elapsed: Duration) {
        self.delivery_latency
            .get_or_create(&DeliveryLabels {
                platform: platform.into(),
                outcome: outcome.into(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the queue depth gauges; every known state is set, so a state that emptied reads 0.
    pub fn set_depths(&self, inbox: &[(String, i64)], outbox: &[(String, i64)]) {
        fn set(family: &Family<StateLabels, Gauge>, states: &[&str], counts: &[(String, i64)]) {
            for state in states {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == state)
                    .map_or(0, |(_, n)| *n);
                family
                    .get_or_create(&StateLabels {
                        state: (*state).into(),
                    })
                    .set(n);
            }
        }
        set(
            &self.inbox_depth,
            &crate::pipeline::inbox::state::ALL,
            inbox,
        );
        set(
            &self.outbox_depth,
            &crate::pipeline::outbox::state::ALL,
            outbox,
        );
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}
