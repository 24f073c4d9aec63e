//! The Prometheus metrics salesbot exposes at `/metrics`: HTTP requests, queue depths, and
//! handler and delivery latencies.

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
        Self {
            registry,
            requests,
            callbacks,
            inbox_depth,
            outbox_depth,
            handler_latency,
            delivery_latency,
            welcome_messages,
        }
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
