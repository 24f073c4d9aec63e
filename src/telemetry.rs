//! Logging: human-readable or JSON lines, filtered with `RUST_LOG` syntax.

use tracing_subscriber::{EnvFilter, fmt, fmt::writer::BoxMakeWriter, prelude::*};

use crate::config::{LogConfig, LogFormat};

/// Where log lines go: standard output for the service, standard error for commands whose
/// standard output is their result (`salesbot outbox list --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// Installs the global subscriber. An invalid filter falls back to `info` and says so, rather
/// than starting with no logs at all.
pub fn init(config: &LogConfig, output: Output) {
    let writer = || match output {
        Output::Stdout => BoxMakeWriter::new(std::io::stdout),
        Output::Stderr => BoxMakeWriter::new(std::io::stderr),
    };
    let (filter, bad_filter) = match EnvFilter::try_new(&config.filter) {
        Ok(filter) => (filter, None),
        Err(e) => (EnvFilter::new("info"), Some(e.to_string())),
    };
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Text => registry
            .with(fmt::layer().with_target(false).with_writer(writer()))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .with_writer(writer())
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
