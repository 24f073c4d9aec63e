//! Builds the shared state, the router and the background tasks, and runs them until shutdown.
//! `main`, the tests and the benchmarks all start salesbot through [`Application`].

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::Notify, task::JoinSet};
use tokio_util::sync::CancellationToken;

use crate::{
    alerts::{self, AlertJob, Alerts},
    approvals::{Approvals, reminders},
    assignment::{self, Assigner},
    cards::{Templates, taps::TapRouter},
    chat::{self, ChatCommands, answer::Locale, approval::ApprovalCommands, incoming},
    config::Config,
    db,
    domain::calendar::WorkingHours,
    domain::rules::Rules,
    http,
    links::{ClickWriter, Links},
    metrics::Metrics,
    overdue::{self, OverdueTasks},
    pipeline::{self, Dispatcher, Handlers, Scheduler, Worker, housekeeping},
    platform::{
        self, Platforms,
        dingtalk::DingtalkApps,
        dingtalk_delivery::DingtalkDelivery,
        dingtalk_stream, dingtalk_taps,
        wecom::WecomApps,
        wecom_contacts::{self, Contacts},
        wecom_delivery::WecomDelivery,
        wecom_groups, wecom_taps,
    },
    tasks::Tasks,
    webhooks::{self, WebhookDelivery, Webhooks},
};

/// How often the housekeeping job deletes finished rows past retention.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How often approvers' waiting cards are checked for reminders and escalations.
const REMINDERS_EVERY: Duration = Duration::from_secs(60);
/// How often open tasks past due are looked at for reminders and escalations.
const OVERDUE_EVERY: Duration = Duration::from_secs(60);
/// How often lead offers are checked for their accept deadline.
const ASSIGNMENT_TIMEOUTS_EVERY: Duration = Duration::from_secs(60);

/// What every request handler and background task shares.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    /// Wakes this instance's workers when it stores an event.
    pub wake_inbox: Arc<Notify>,
    /// Wakes this instance's dispatchers when it enqueues a message.
    pub wake_outbox: Arc<Notify>,
    /// The configured WeCom apps, by tenant.
    pub wecom: Arc<WecomApps>,
    /// The configured DingTalk apps, by tenant.
    pub dingtalk: Arc<DingtalkApps>,
    /// The message templates, checked at start.
    pub templates: Arc<Templates>,
    /// The rules sales-ops wrote, checked at start.
    pub rules: Arc<Rules>,
    /// Starting, deciding and chasing approvals.
    pub approvals: Arc<Approvals>,
    /// The outbound webhooks state changes are published to.
    pub webhooks: Arc<Webhooks>,
    /// Tracked links: the redirect's cache and click buffer.
    pub links: Arc<Links>,
    /// The team's working hours: due times and quiet hours.
    pub calendar: Arc<WorkingHours>,
    /// Routing leads to reps and following their offers up.
    pub assigner: Arc<Assigner>,
    /// Tasks and deals, with their rules.
    pub tasks: Arc<Tasks>,
}

/// What the domain and the platform glue plug into the pipeline.
#[derive(Default, Clone)]
pub struct Extensions {
    pub handlers: Handlers,
    pub platforms: Platforms,
}

/// How to start.
#[derive(Debug, Clone, Copy)]
pub struct Startup {
    /// Apply pending migrations before serving (what `serve` does).
    pub migrate: bool,
    /// Connect to the database on first use instead of at start, so the process comes up (and
    /// reports not-ready) while the database is down.
    pub lazy_db: bool,
}

impl Default for Startup {
    fn default() -> Self {
        Self {
            migrate: true,
            lazy_db: false,
        }
    }
}

/// A built, bound, not yet running salesbot.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    extensions: Extensions,
    owner: String,
    click_writer: ClickWriter,
}

impl Application {
    /// Connects to the database, migrates it and binds the listener. Never needs WeCom or
    /// DingTalk to be reachable.
    pub async fn build(
        config: Config,
        extensions: Extensions,
        startup: Startup,
    ) -> anyhow::Result<Self> {
        // Checked before anything else: a broken template stops the start with file and line.
        let templates = Templates::load(config.templates.dir.as_deref())
            .map_err(|e| anyhow::anyhow!("the message templates have errors:\n{e}"))?;
        let rules = match &config.rules.file {
            Some(file) => {
                Rules::load(file).map_err(|e| anyhow::anyhow!("the rules have errors:\n{e}"))?
            }
            None => Rules::default(),
        };
        let calendar = Arc::new(config.work.hours().context("[work] is not valid")?);
        let db = db::connect(&config.database, startup.lazy_db)
            .await
            .with_context(|| format!("cannot open database {}", config.database.url.redacted()))?;
        if startup.migrate {
            db::migrate(&db).await.context("cannot apply migrations")?;
        }
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.server.listen))?;
        let wecom = Arc::new(WecomApps::from_config(&config.wecom, &db)?);
        let dingtalk = Arc::new(DingtalkApps::from_config(&config.dingtalk, &db)?);
        let metrics = Arc::new(Metrics::new());
        let (links, click_writer) = Links::new(
            db.clone(),
            &config.links,
            &config.server.public_base_url,
            metrics.clone(),
        );
        // Read now when the schema is known to be there; otherwise on the first click, so the
        // process still comes up while the database is down.
        if startup.migrate {
            links
                .load_salt()
                .await
                .context("cannot read or store the tracked-link salt")?;
        }
        let links = Arc::new(links);
        let templates = Arc::new(templates);
        let rules = Arc::new(rules);
        let mut extensions = extensions;
        let webhooks = Arc::new(Webhooks::from_config(&config.webhooks));
        if !webhooks.is_empty() {
            let delivery = WebhookDelivery::new(webhooks.clone())?;
            extensions
                .platforms
                .register_default(webhooks::PLATFORM, Arc::new(delivery));
        }
        let approvals = Arc::new(Approvals {
            db: db.clone(),
            rules: rules.clone(),
            templates: templates.clone(),
            wecom: wecom.clone(),
            dingtalk: dingtalk.clone(),
            locale: config.templates.locale.clone(),
            public_base_url: config.server.public_base_url.clone(),
            webhooks: webhooks.clone(),
        });
        let assigner = Arc::new(Assigner {
            rules: rules.clone(),
            templates: templates.clone(),
            calendar: calendar.clone(),
            locale: config.templates.locale.clone(),
            public_base_url: config.server.public_base_url.clone(),
            webhooks: webhooks.clone(),
        });
        // One router for the taps of both platforms: approvals and lead assignments.
        let taps = Arc::new(
            TapRouter::default()
                .with(approvals.clone())
                .with(assigner.clone()),
        );
        let tasks = Arc::new(Tasks {
            db: db.clone(),
            rules: rules.clone(),
            calendar: calendar.clone(),
            webhooks: webhooks.clone(),
        });
        let commands = Arc::new(ChatCommands {
            approvals: ApprovalCommands {
                approvals: approvals.clone(),
            },
            links: links.clone(),
            tasks: tasks.clone(),
            calendar: calendar.clone(),
            locale: Locale::from_config(&config.templates.locale),
        });
        if !wecom.is_empty() {
            let delivery = WecomDelivery::new(db.clone(), wecom.clone(), metrics.clone());
            extensions
                .platforms
                .register_default(platform::wecom::PLATFORM, Arc::new(delivery));
            let contacts = Contacts {
                apps: wecom.clone(),
                templates: templates.clone(),
                rules: rules.clone(),
                locale: config.templates.locale.clone(),
                public_base_url: config.server.public_base_url.clone(),
            };
            wecom_contacts::register(&mut extensions.handlers, Arc::new(contacts));
            wecom_groups::register(
                &mut extensions.handlers,
                wecom.clone(),
                rules.clone(),
                webhooks.clone(),
                Some(assigner.clone()),
            );
            wecom_taps::register(&mut extensions.handlers, taps.clone());
            chat::register(
                &mut extensions.handlers,
                incoming::WECOM_TEXT,
                commands.clone(),
            );
        }
        if !dingtalk.is_empty() {
            let delivery = DingtalkDelivery::new(db.clone(), dingtalk.clone());
            extensions
                .platforms
                .register_default(platform::dingtalk::PLATFORM, Arc::new(delivery));
            dingtalk_taps::register(&mut extensions.handlers, taps.clone());
            chat::register(
                &mut extensions.handlers,
                incoming::DINGTALK_ROBOT_MESSAGE,
                commands,
            );
        }
        let state = AppState {
            db,
            wecom,
            dingtalk,
            templates,
            rules,
            approvals,
            webhooks,
            links,
            calendar,
            assigner,
            tasks,
            config: Arc::new(config),
            metrics,
            wake_inbox: Arc::new(Notify::new()),
            wake_outbox: Arc::new(Notify::new()),
        };
        Ok(Self {
            listener,
            state,
            extensions,
            owner: pipeline::instance_name(),
            click_writer,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves HTTP and runs the workers, dispatchers and scheduler until `shutdown` is
    /// cancelled; then stops accepting, lets in-flight requests and the items in hand finish
    /// (up to `server.shutdown_grace_secs`), and returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            extensions,
            owner,
            click_writer,
        } = self;
        let config = state.config.clone();
        let settings = pipeline::Settings::from_config(&config.pipeline);
        let mut tasks = JoinSet::new();

        let handlers = Arc::new(extensions.handlers);
        for n in 0..config.pipeline.workers {
            let worker = Worker {
                db: state.db.clone(),
                handlers: handlers.clone(),
                settings: settings.clone(),
                owner: format!("{owner}/w{n}"),
                metrics: state.metrics.clone(),
                wake: state.wake_inbox.clone(),
                wake_outbox: state.wake_outbox.clone(),
            };
            tasks.spawn(worker.run(shutdown.clone()));
        }
        let platforms = Arc::new(extensions.platforms);
        for n in 0..config.pipeline.dispatchers {
            let dispatcher = Dispatcher {
                db: state.db.clone(),
                delivery: platforms.clone(),
                settings: settings.clone(),
                owner: format!("{owner}/d{n}"),
                metrics: state.metrics.clone(),
                wake: state.wake_outbox.clone(),
            };
            tasks.spawn(dispatcher.run(shutdown.clone()));
        }
        let mut scheduler = Scheduler::new(state.db.clone(), owner.clone());
        scheduler.register(
            housekeeping::JOB_NAME,
            PURGE_EVERY,
            Arc::new(housekeeping::Purge::days(config.pipeline.retention_days)),
        );
        let timing = config.approvals.timing();
        if timing.remind_after.is_some() || timing.escalate_after.is_some() {
            let job = reminders::Reminders {
                approvals: state.approvals.clone(),
                timing,
                wake_outbox: state.wake_outbox.clone(),
            };
            scheduler.register(reminders::JOB_NAME, REMINDERS_EVERY, Arc::new(job));
        }
        let policy = state.rules.overdue().clone();
        // A policy with no reminders and no escalations has nothing to scan for.
        if !policy.steps().is_empty() {
            let job = OverdueTasks::new(
                state.approvals.clone(),
                policy,
                state.calendar.clone(),
                state.wake_outbox.clone(),
            );
            scheduler.register(overdue::JOB_NAME, OVERDUE_EVERY, Arc::new(job));
        }
        let timeouts = assignment::timeouts::Timeouts {
            db: state.db.clone(),
            assigner: state.assigner.clone(),
            wake_outbox: state.wake_outbox.clone(),
        };
        scheduler.register(
            assignment::timeouts::JOB_NAME,
            ASSIGNMENT_TIMEOUTS_EVERY,
            Arc::new(timeouts),
        );
        if !state.rules.alerts().is_empty() && config.alerts.every_mins > 0 {
            let job = AlertJob {
                alerts: Arc::new(Alerts::new(&state)),
                wake_outbox: state.wake_outbox.clone(),
            };
            let every = Duration::from_secs(config.alerts.every_mins * 60);
            scheduler.register(alerts::JOB_NAME, every, Arc::new(job));
        }
        tasks.spawn(scheduler.run(shutdown.clone()));
        // Stopped only once the server has, so the clicks of the last redirects are written too.
        let stop_clicks = CancellationToken::new();
        tasks.spawn(click_writer.run(stop_clicks.clone()));
        let streams = dingtalk_stream::connections(
            &config.dingtalk,
            &state.db,
            &state.wake_inbox,
            &state.metrics,
        )?;
        for (client, sink) in streams {
            let shutdown = shutdown.clone();
            tasks.spawn(async move { client.run(sink, shutdown).await });
        }

        tracing::info!(
            listen = %listener.local_addr()?,
            instance = %owner,
            workers = config.pipeline.workers,
            dispatchers = config.pipeline.dispatchers,
            platforms = ?platforms.names(),
            "salesbot is serving"
        );
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        let router = http::router(state);
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let deadline = async {
            shutdown.cancelled().await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server => result.context("HTTP server failed")?,
            _ = deadline => tracing::warn!(?grace, "in-flight requests did not finish in time"),
        }
        // The server may also have stopped on its own; make sure the background tasks stop too.
        shutdown.cancel();
        stop_clicks.cancel();
        let drained = tokio::time::timeout(grace, async {
            while let Some(result) = tasks.join_next().await {
                if let Err(e) = result {
                    tracing::error!(error = %e, "background task failed");
                }
            }
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                ?grace,
                "background tasks did not finish in time; their rows return after the lease"
            );
        }
        tracing::info!("salesbot stopped");
        Ok(())
    }
}
