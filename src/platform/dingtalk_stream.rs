//! DingTalk Stream mode (`mode = "stream"`): one connection per app, whose frames go into the
//! inbox exactly like HTTP pushes. A frame is ACKed only once its event is stored, so a crash or
//! a dropped connection loses nothing: DingTalk redelivers what was not ACKed, and the dedupe
//! key (the eventId, the robot msgId, the card tap's hash) collapses the redelivery.

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_dingtalk::{
    card_callback::CardTap,
    event::DingEvent,
    robot_callback::RobotMessage,
    stream::{
        CARD_CALLBACK_TOPIC, FrameSink, MessageKind, ROBOT_MESSAGE_TOPIC, SinkError, StreamClient,
        StreamConfig, StreamMessage, Subscription,
    },
};
use sea_orm::DatabaseConnection;
use serde_json::Value;
use tokio::sync::Notify;

use super::{
    SetupError,
    dingtalk::{PLATFORM, card_tap_event, inbox_event, robot_message_event},
};
use crate::{
    config::{DingtalkConfig, DingtalkMode},
    metrics::Metrics,
    pipeline::{NewEvent, Stored, clock::now_ms, inbox},
};

/// Stores every frame of one app's Stream connection in the inbox.
pub struct InboxSink {
    pub db: DatabaseConnection,
    pub tenant: String,
    pub wake: Arc<Notify>,
    pub metrics: Arc<Metrics>,
}

impl InboxSink {
    /// The inbox row for a frame; an error for a frame salesbot cannot use (unknown topic,
    /// malformed data), which DingTalk is told through the error ACK.
    fn event(&self, message: &StreamMessage) -> Result<NewEvent, String> {
        let data = serde_json::to_vec(&message.data).unwrap_or_default();
        match (&message.kind, message.topic.as_str()) {
            (MessageKind::Event, _) => {
                // The envelope travels in the headers (dingtalk.md §3.1 c); fold it into the
                // event so it reads like an HTTP push, eventId included.
                let Value::Object(mut fields) = message.data.clone() else {
                    return Err("event data is not a JSON object".into());
                };
                let event_type = message
                    .event_type()
                    .ok_or("event frame without eventType")?
                    .to_string();
                for (name, value) in [
                    ("eventId", message.event_id()),
                    ("CorpId", message.event_corp_id()),
                ] {
                    if let Some(value) = value {
                        fields.insert(name.into(), Value::String(value.into()));
                    }
                }
                if let Some(born) = message.event_born_time() {
                    fields.insert("EventTime".into(), Value::from(born));
                }
                fields.insert("EventType".into(), Value::String(event_type.clone()));
                Ok(inbox_event(
                    &self.tenant,
                    &DingEvent {
                        event_type,
                        data: fields,
                    },
                ))
            }
            (MessageKind::Callback, ROBOT_MESSAGE_TOPIC) => {
                let message = RobotMessage::parse(&data).map_err(|e| e.to_string())?;
                Ok(robot_message_event(&self.tenant, &message))
            }
            (MessageKind::Callback, CARD_CALLBACK_TOPIC) => {
                let tap = CardTap::parse(&data).map_err(|e| e.to_string())?;
                Ok(card_tap_event(&self.tenant, &tap))
            }
            (_, topic) => Err(format!("no use for frames of topic `{topic}`")),
        }
    }
}

#[async_trait]
impl FrameSink for InboxSink {
    async fn deliver(&self, message: StreamMessage) -> Result<(), SinkError> {
        let event = self.event(&message).map_err(|reason| {
            tracing::warn!(tenant = %self.tenant, topic = %message.topic, %reason, "stream frame refused");
            self.metrics.count_callback(PLATFORM, &self.tenant, "refused");
            SinkError::new(reason)
        })?;
        let outcome = match inbox::insert(&self.db, &event, now_ms())
            .await
            .map_err(SinkError::new)?
        {
            Stored::New(_) => {
                self.wake.notify_waiters();
                "stored"
            }
            Stored::Duplicate => "duplicate",
        };
        self.metrics.count_callback(PLATFORM, &self.tenant, outcome);
        Ok(())
    }
}

/// The Stream connections to run: one per `[[dingtalk]]` app in stream mode, subscribed to its
/// events, robot messages and card taps.
pub fn connections(
    apps: &[DingtalkConfig],
    db: &DatabaseConnection,
    wake: &Arc<Notify>,
    metrics: &Arc<Metrics>,
) -> Result<Vec<(StreamClient, Arc<InboxSink>)>, SetupError> {
    apps.iter()
        .filter(|app| app.mode == DingtalkMode::Stream)
        .map(|app| {
            let config = StreamConfig {
                api_base_url: app.api_base.clone(),
                ..StreamConfig::new(&app.app_key, app.app_secret.expose())
            };
            let client = StreamClient::new(config, Subscription::events_robot_and_cards())
                .map_err(|e| SetupError::new("dingtalk", &app.tenant, e.to_string()))?;
            let sink = Arc::new(InboxSink {
                db: db.clone(),
                tenant: app.tenant.clone(),
                wake: wake.clone(),
                metrics: metrics.clone(),
            });
            Ok((client, sink))
        })
        .collect()
}
