//! Logging: human-readable or JSON lines, filtered with `RUST_LOG` syntax.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. An invalid filter falls back to `info` and says so, rather
/// than starting with no logs at all.
pub fn init(config: &LogConfig) {
    let (filter, bad_filter) = match EnvFilter::try_new(&config.filter) {
        Ok(filter) => (filter, None),
        Err(e) => (EnvFilter::new("info"), Some(e.to_string())),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
    if result.is_ok()
        && let Some(reason) = bad_filter
    {
        tracing::warn!(filter = %config.filter, %reason, "invalid log filter; using `info`");
    }
}
