//! The handler of reps' messages to the bot: the command runs in `prepare`, before the event's
//! transaction, because starting an approval asks the platform's directory and commits in a
//! transaction of its own; `handle` then enqueues the answer with the event's completion.
//!
//! One message has one answer, keyed `chat:<platform>:<tenant>:<message id>`. A message is
//! stored once however often the platform delivers it (the inbox dedupes on its id), but its
//! event can run again: a retry after a failure, an operator's replay, a lease taken over. So
//! before running a command, `prepare` looks for the answer under that key, and finds it when
//! an earlier run committed; the commands that change something (see `approval`) also find
//! their earlier run in the audit log, for when it committed its change but not its answer.
//! (Two runs at the same moment, possible only when one outlives its lease, are not told
//! apart.)

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;

use super::{
    answer::{Answer, Locale},
    approval::ApprovalCommands,
    command::{self, Command, LinkArgs},
    incoming::Incoming,
    reply::{self, Reply},
    task::TaskCommands,
};
use crate::{
    domain::{calendar::WorkingHours, link::NewLink},
    links::{self, LinkError, Links},
    pipeline::{
        Effects, EventHandler, HandlerError, Handlers, InboxEvent, NewMessage, Prepared, outbox,
    },
    tasks::Tasks,
};

/// Runs reps' commands and answers them.
pub struct ChatCommands {
    pub approvals: ApprovalCommands,
    /// Where `link` makes tracked links.
    pub links: Arc<Links>,
    /// What `tasks`, `done` and `snooze` list and change.
    pub tasks: Arc<Tasks>,
    /// The working hours `snooze` counts in and answers show times in.
    pub calendar: Arc<WorkingHours>,
    pub locale: Locale,
}

/// Registers `commands` for messages of inbox kind `kind` (see [`super::incoming`]), unless a
/// handler is registered for it already.
pub fn register(handlers: &mut Handlers, kind: &str, commands: Arc<ChatCommands>) {
    handlers.register_default(kind, commands);
}

/// What `prepare` decided to answer; `None`: nothing (no command, or answered already).
struct Answered(Option<NewMessage>);

#[async_trait]
impl EventHandler for ChatCommands {
    #[tracing::instrument(skip_all, fields(event_id = event.id, tenant = %event.tenant, kind = %event.kind, msg_id, command))]
    async fn prepare(
        &self,
        db: &DatabaseConnection,
        event: &InboxEvent,
        now: i64,
    ) -> Result<Option<Prepared>, HandlerError> {
        let nothing = || Ok(Some(Box::new(Answered(None)) as Prepared));
        let Some(incoming) = Incoming::from_event(event)? else {
            return nothing();
        };
        let span = tracing::Span::current();
        span.record("msg_id", incoming.msg_id.as_str());
        let Some(parsed) = command::parse(&incoming.text) else {
            return nothing();
        };
        let key = reply::key(incoming.platform, &incoming.tenant, &incoming.msg_id);
        if outbox::exists(db, &key).await? {
            tracing::info!("message answered already");
            return nothing();
        }
        let answer = match parsed {
            Ok(command) => {
                span.record("command", command.name());
                self.run(db, &incoming, &key, command, now).await?
            }
            Err(mistake) => {
                tracing::debug!(%mistake, "not a command");
                Answer::Mistake(mistake)
            }
        };
        let reply = Reply::new(&incoming.sender, &answer.text(self.locale));
        let message = reply::message(incoming.platform, &incoming.tenant, &key, &reply);
        Ok(Some(Box::new(Answered(Some(message)))))
    }

    #[tracing::instrument(skip_all, fields(event_id = event.id, tenant = %event.tenant))]
    async fn handle(&self, effects: &Effects<'_>, event: &InboxEvent) -> Result<(), HandlerError> {
        let answered = effects
            .prepared::<Answered>()
            .ok_or_else(|| HandlerError::Permanent("the command did not run".into()))?;
        if let Some(message) = &answered.0 {
            effects.send(message).await?;
        }
        Ok(())
    }
}

impl ChatCommands {
    async fn run(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        key: &str,
        command: Command,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        match command {
            Command::Help => Ok(Answer::Help),
            Command::Approval(args) => self.approvals.start(db, incoming, key, &args, now).await,
            Command::Withdraw { id } => self.approvals.withdraw(db, incoming, key, id, now).await,
            Command::Link(args) => self.link(db, incoming, &args, now).await,
            Command::Tasks => self.tasks().list(incoming, now).await,
            Command::Done { id } => self.tasks().done(db, incoming, key, id, now).await,
            Command::Snooze { id, delay } => {
                self.tasks().snooze(db, incoming, key, id, delay, now).await
            }
        }
    }

    fn tasks(&self) -> TaskCommands<'_> {
        TaskCommands {
            tasks: &self.tasks,
            calendar: &self.calendar,
        }
    }

    /// Makes a tracked link with the sender as its rep. Run again after its answer was lost,
    /// it makes a second code for the same target: harmless, as both redirect and count.
    async fn link(
        &self,
        db: &DatabaseConnection,
        incoming: &Incoming,
        args: &LinkArgs,
        now: i64,
    ) -> Result<Answer, HandlerError> {
        let new = match NewLink::parse(
            &incoming.tenant,
            &args.url,
            &args.campaign,
            None,
            Some(&incoming.sender),
            false,
        ) {
            Ok(new) => new,
            Err(invalid) => {
                return Ok(Answer::LinkRefused {
                    reason: invalid.to_string(),
                });
            }
        };
        match links::create(db, &new, &self.links.public_base_url, now).await {
            Ok(created) => {
                self.links.remember(created.link);
                Ok(Answer::LinkMade {
                    url: created.url,
                    campaign: args.campaign.clone(),
                })
            }
            Err(LinkError::Database(e)) => Err(HandlerError::Database(e)),
            Err(e) => {
                tracing::error!(error = %e, "link not made");
                Ok(Answer::Fault)
            }
        }
    }
}
