//! Sends and updates cards through DingTalk: an interactive card from the configured template
//! (`createAndDeliver`, updated in place by `outTrackId`), or, without a template or for a
//! department, a work notification (dingtalk.md §5.1, §5.2).

use std::sync::Arc;

use async_trait::async_trait;
use salesbot_dingtalk::api::{
    ApiError, CreateAndDeliverCard, OtoMessages, RobotDeliverModel, RobotMessage, SpaceType,
    UpdateCard as UpdateRequest, WorkNotification, code,
};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::{
    card_channel::CardChannel,
    dingtalk::{DingtalkApp, DingtalkApps},
};
use crate::{
    cards::{
        Recipient,
        message::{SendCard, UpdateCard},
        render,
        store::{SentCard, channel},
    },
    chat::reply as chat,
    pipeline::{DeliveryError, OutboxMessage, Receipt},
};

/// The DingTalk side of the delivery port.
pub struct DingtalkDelivery {
    db: DatabaseConnection,
    apps: Arc<DingtalkApps>,
}

impl DingtalkDelivery {
    pub fn new(db: DatabaseConnection, apps: Arc<DingtalkApps>) -> Self {
        Self { db, apps }
    }

    async fn send_card(
        &self,
        app: &DingtalkApp,
        send: &SendCard,
        userid: &str,
        template: &str,
    ) -> Result<(&'static str, serde_json::Value), DeliveryError> {
        let mut request = CreateAndDeliverCard::to_user(
            template,
            &send.track_id,
            userid,
            app.card_callback_type,
            render::dingtalk::card_data(&send.card),
        );
        request.callback_route_key = app.card_callback_route_key.clone();
        request.im_robot_open_deliver_model = Some(RobotDeliverModel {
            space_type: SpaceType::ImRobot.as_str().to_owned(),
            robot_code: app.robot_code.clone(),
        });
        match app.client.create_and_deliver_card(&request).await {
            Ok(answer) => {
                if let Some(failed) = answer.failed().first() {
                    return Err(DeliveryError::permanent(format!(
                        "DingTalk did not deliver the card to {}: {}",
                        failed.space_id,
                        failed.error_msg.as_deref().unwrap_or("no reason given")
                    )));
                }
                let carrier = answer
                    .result
                    .deliver_results
                    .first()
                    .and_then(|r| r.carrier_id.clone());
                Ok((
                    channel::DINGTALK_CARD,
                    json!({ "channel": channel::DINGTALK_CARD, "out_track_id": send.track_id, "carrier_id": carrier }),
                ))
            }
            // An earlier attempt created it and its answer was lost: the card is out.
            Err(err) if err.code() == Some(code::CARD_ALREADY_EXIST) => Ok((
                channel::DINGTALK_CARD,
                json!({ "channel": channel::DINGTALK_CARD, "out_track_id": send.track_id, "already_existed": true }),
            )),
            Err(err) => Err(delivery_error(err)),
        }
    }

    async fn send_work_notice(
        &self,
        app: &DingtalkApp,
        notice: WorkNotification,
    ) -> Result<(&'static str, serde_json::Value), DeliveryError> {
        let answer = app
            .client
            .send_work_notification(&notice)
            .await
            .map_err(delivery_error)?;
        Ok((
            channel::DINGTALK_WORK_NOTICE,
            json!({ "channel": channel::DINGTALK_WORK_NOTICE, "task_id": answer.task_id }),
        ))
    }
}

#[async_trait]
impl CardChannel for DingtalkDelivery {
    type App = DingtalkApp;
    const NAME: &'static str = "DingTalk";

    const UPDATABLE: &'static str = channel::DINGTALK_CARD;
    const NOT_UPDATABLE: &'static str =
        "the card went out as a work notification, which cannot be updated; send a new message";

    fn app(&self, tenant: &str) -> Option<&DingtalkApp> {
        self.apps.get(tenant).map(|app| &**app)
    }

    fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    async fn send(&self, app: &DingtalkApp, send: &SendCard) -> Result<Receipt, DeliveryError> {
        let (channel, receipt) = match (&send.recipient, &app.card_template_id) {
            (Recipient::User(userid), Some(template)) => {
                self.send_card(app, send, userid, template).await?
            }
            (Recipient::User(userid), None) => {
                let notice = WorkNotification::to_users(
                    app.agent_id,
                    &[userid],
                    render::dingtalk::action_card(&send.card),
                );
                self.send_work_notice(app, notice).await?
            }
            (Recipient::Department(dept), _) => {
                let notice = WorkNotification {
                    userid_list: None,
                    dept_id_list: Some(dept.clone()),
                    ..WorkNotification::to_users::<&str>(
                        app.agent_id,
                        &[],
                        render::dingtalk::action_card(&send.card),
                    )
                };
                self.send_work_notice(app, notice).await?
            }
            (Recipient::Tag(_), _) => {
                return Err(DeliveryError::permanent(
                    "DingTalk cannot address a tag; send to members or a department",
                ));
            }
        };
        Ok(Receipt {
            answer: receipt,
            detail: json!({ "channel": channel }),
        })
    }

    async fn update(
        &self,
        app: &DingtalkApp,
        card: &SentCard,
        update: &UpdateCard,
    ) -> Result<Receipt, DeliveryError> {
        let request =
            UpdateRequest::merge(&card.track_id, render::dingtalk::card_data(&update.card));
        let answer = app
            .client
            .update_card(&request)
            .await
            .map_err(delivery_error)?;
        if !answer.result {
            return Err(DeliveryError::transient(
                "DingTalk accepted the card update but reported it not applied",
            ));
        }
        Ok(Receipt::new(json!({ "out_track_id": card.track_id })))
    }

    /// Answers to chat commands.
    async fn deliver_other(
        &self,
        app: &DingtalkApp,
        message: &OutboxMessage,
    ) -> Result<Receipt, DeliveryError> {
        match message.kind.as_str() {
            chat::KIND => deliver_chat_reply(app, message).await,
            other => Err(DeliveryError::permanent(format!(
                "DingTalk cannot deliver outbox messages of kind `{other}`"
            ))),
        }
    }
}

/// `code` of a robot send refused for sending too fast (dingtalk.md §5.3.1): worth a retry.
const SEND_TOO_FAST: &str = "send.too.fast";

/// An answer to a chat command: a one-to-one robot text message to the rep (dingtalk.md
/// §5.3.1). DingTalk reports unknown and throttled users in the answer, not as errors.
async fn deliver_chat_reply(
    app: &DingtalkApp,
    message: &OutboxMessage,
) -> Result<Receipt, DeliveryError> {
    let reply = chat::Reply::of(message)?;
    let content = RobotMessage::Text {
        content: reply.text,
    };
    let request = OtoMessages::new(app.robot(), vec![reply.recipient.clone()], &content);
    let answer = match app.client.send_robot_messages(&request).await {
        Ok(answer) => answer,
        Err(err) if err.code() == Some(SEND_TOO_FAST) => {
            return Err(DeliveryError::transient(err.to_string()));
        }
        Err(err) => return Err(delivery_error(err)),
    };
    if answer.invalid_staff_id_list.contains(&reply.recipient) {
        return Err(DeliveryError::permanent(format!(
            "DingTalk lists `{}` as an unknown user",
            reply.recipient
        )));
    }
    if answer
        .flow_controlled_staff_id_list
        .contains(&reply.recipient)
    {
        return Err(DeliveryError::transient(format!(
            "DingTalk throttled the message to `{}`",
            reply.recipient
        )));
    }
    Ok(Receipt::new(
        json!({ "process_query_key": answer.process_query_key }),
    ))
}

/// Retry what DingTalk says may pass (busy, rate limited, 5xx, network); dead-letter the rest.
fn delivery_error(err: ApiError) -> DeliveryError {
    if err.retryable() {
        DeliveryError::transient(err.to_string())
    } else {
        DeliveryError::permanent(err.to_string())
    }
}
