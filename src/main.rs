//! The `salesbot` command: parse, load config, start logging, call the library.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use salesbot::{
    app::{Application, Extensions, Startup},
    cli,
    config::{ConfigSource, LogFormat, Origin},
    db, telemetry,
};
use tokio_util::sync::CancellationToken;

/// salesbot: a chat-ops bot for sales teams on WeCom and DingTalk.
///
/// With no configuration file it runs on the embedded defaults: a SQLite file `salesbot.db` in
/// the current directory and HTTP on 127.0.0.1:8080. Any key can be overridden with an
/// environment variable, e.g. SALESBOT_DATABASE__URL=postgres://postgres@127.0.0.1/salesbot.
#[derive(Parser)]
#[command(version, about, long_about, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); see docs/configuration.md.
    #[arg(
        long,
        short,
        global = true,
        env = "SALESBOT_CONFIG",
        value_name = "FILE"
    )]
    config: Option<PathBuf>,
    /// Log one JSON object per line instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: apply migrations, then serve HTTP and work the queues until SIGTERM or
    /// Ctrl-C.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check the configuration and print it, secrets redacted, as the service would use it.
    Config,
    /// Check the configuration, the rules and the message templates, and render every template
    /// with its sample data for both platforms; exits 1 on a broken rule or template.
    Check {
        /// Only this message kind, e.g. approval_request.
        #[arg(long)]
        kind: Option<salesbot::cards::MessageKind>,
        /// Only this locale: zh-CN or en.
        #[arg(long)]
        locale: Option<String>,
    },
    /// Read the outbox and put dead messages back in the queue.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List messages, newest first: the dead letters unless --state says otherwise.
    List {
        /// pending, sent or dead.
        #[arg(long, default_value = "dead")]
        state: String,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put dead messages back in the queue, due now with a fresh attempt count (audited).
    Retry {
        /// The ids to retry, as `outbox list` shows them.
        #[arg(required_unless_present = "all_dead")]
        ids: Vec<i64>,
        /// Retry every dead message.
        #[arg(long, conflicts_with = "ids")]
        all_dead: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match ConfigSource::from_process(cli.config.clone()).load() {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("salesbot: {e}");
            return ExitCode::from(2);
        }
    };
    let mut config = loaded.config;
    if cli.log_json {
        config.log.format = LogFormat::Json;
    }
    if let Command::Check { kind, locale } = &cli.command {
        let filter = cli::check::Filter {
            kind: *kind,
            locale: locale.clone(),
        };
        return match cli::check::run(&config, &filter, &mut std::io::stdout().lock()) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("salesbot: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Config = cli.command {
        match toml::to_string_pretty(&config) {
            Ok(text) => print!("{text}"),
            Err(e) => {
                eprintln!("salesbot: {e}");
                return ExitCode::FAILURE;
            }
        }
        return ExitCode::SUCCESS;
    }
    let log_output = match cli.command {
        Command::Outbox(_) => telemetry::Output::Stderr,
        _ => telemetry::Output::Stdout,
    };
    telemetry::init(&config.log, log_output);
    match &loaded.origin {
        Origin::Defaults => tracing::info!(
            database = %config.database.url.redacted(),
            listen = %config.server.listen,
            "no configuration file given; using the embedded defaults (and any SALESBOT_* overrides)"
        ),
        Origin::File(path) => tracing::info!(file = %path.display(), "configuration loaded"),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => serve(config).await,
            Command::Migrate => {
                let conn = db::connect(&config.database, false).await?;
                db::migrate(&conn).await?;
                tracing::info!(database = %config.database.url.redacted(), "migrations applied");
                Ok(())
            }
            Command::Config | Command::Check { .. } => Ok(()),
            Command::Outbox(command) => outbox(&config, command).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "salesbot failed");
            ExitCode::FAILURE
        }
    }
}

async fn outbox(config: &salesbot::config::Config, command: OutboxCommand) -> anyhow::Result<()> {
    let conn = db::connect(&config.database, false).await?;
    let mut out = std::io::stdout().lock();
    match command {
        OutboxCommand::List { state, limit, json } => {
            cli::outbox::list(&conn, &state, limit, json, &mut out).await
        }
        OutboxCommand::Retry { ids, all_dead } => {
            let summary = cli::outbox::retry(&conn, &ids, all_dead, &mut out).await?;
            if summary.failed > 0 {
                anyhow::bail!("{} of the messages could not be retried", summary.failed);
            }
            Ok(())
        }
    }
}

async fn serve(config: salesbot::config::Config) -> anyhow::Result<()> {
    let app = Application::build(config, Extensions::default(), Startup::default()).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run(shutdown).await
}

/// Cancels `shutdown` on SIGTERM or Ctrl-C (SIGINT).
async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still works");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutdown requested; finishing in-flight work");
    shutdown.cancel();
}
