//! Interactive cards (互动卡片, dingtalk.md §5.2): create and deliver a card instance from a
//! published template, then update its variables in place.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::DingtalkClient;
use super::error::ApiError;

const CREATE_AND_DELIVER: &str = "v1.0/card/instances/createAndDeliver";
const INSTANCES: &str = "v1.0/card/instances";
/// The prefix of every `openSpaceId`.
const OPEN_SPACE_PREFIX: &str = "dtv1.card//";

/// Card variables: every value is a string (numbers as `"1"`, booleans as `"true"`, objects and
/// arrays as JSON text), and its type must match the template's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardData {
    /// Variable name → value; key ≤ 100 bytes, value ≤ 1 KB.
    pub card_param_map: BTreeMap<String, String>,
}

impl CardData {
    /// Card data with these variables.
    pub fn new<K: Into<String>, V: Into<String>>(params: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            card_param_map: params
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        }
    }
}

/// Where card callbacks arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CallbackType {
    /// Over the Stream connection.
    Stream,
    /// To the HTTP route registered under `callbackRouteKey`.
    Http,
}

/// Per-space options (`imRobotOpenSpaceModel`, `imGroupOpenSpaceModel`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenSpaceModel {
    /// Whether the card may be forwarded; required when the model is present.
    pub support_forward: bool,
    /// The conversation list's preview text per language, e.g. `ZH_CN`, `EN_US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_message_i18n: Option<BTreeMap<String, String>>,
}

/// One-to-one delivery by the app's robot (`imRobotOpenDeliverModel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotDeliverModel {
    /// Always `IM_ROBOT`.
    pub space_type: String,
    /// The robot; defaults to the app's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub robot_code: Option<String>,
}

/// Group delivery (`imGroupOpenDeliverModel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDeliverModel {
    /// The robot; for an internal app its AppKey.
    pub robot_code: String,
    /// userIds who may see the card; everyone in the group when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<String>>,
    /// `{"userId": "name"}`, or `{"@ALL": "@ALL"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_user_ids: Option<BTreeMap<String, String>>,
}

/// The request of `POST /v1.0/card/instances/createAndDeliver` (dingtalk.md §5.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAndDeliverCard {
    /// The template id, `.schema` suffix included.
    pub card_template_id: String,
    /// Our id for this instance; a new one for every card.
    pub out_track_id: String,
    /// Where taps are delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_type: Option<CallbackType>,
    /// HTTP callbacks only: the registered route key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_route_key: Option<String>,
    /// Public variables.
    pub card_data: CardData,
    /// Per-viewer variables, keyed by userId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_data: Option<BTreeMap<String, CardData>>,
    /// Where to deliver: see [`open_space_id`].
    pub open_space_id: String,
    /// Options for robot one-to-one spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub im_robot_open_space_model: Option<OpenSpaceModel>,
    /// Options for group spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub im_group_open_space_model: Option<OpenSpaceModel>,
    /// Required for `IM_ROBOT` spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub im_robot_open_deliver_model: Option<RobotDeliverModel>,
    /// Required for `IM_GROUP` spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub im_group_open_deliver_model: Option<GroupDeliverModel>,
    /// `1` userId (the default), `2` unionId, for every user id in the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id_type: Option<u8>,
}

impl CreateAndDeliverCard {
    /// A card for `userid` in the app robot's one-to-one chat, not forwardable, with taps
    /// delivered over `callback_type`.
    pub fn to_user(
        card_template_id: impl Into<String>,
        out_track_id: impl Into<String>,
        userid: &str,
        callback_type: CallbackType,
        card_data: CardData,
    ) -> Self {
        Self {
            card_template_id: card_template_id.into(),
            out_track_id: out_track_id.into(),
            callback_type: Some(callback_type),
            callback_route_key: None,
            card_data,
            private_data: None,
            open_space_id: open_space_id(&[(SpaceType::ImRobot, userid)]),
            im_robot_open_space_model: Some(OpenSpaceModel::default()),
            im_group_open_space_model: None,
            im_robot_open_deliver_model: Some(RobotDeliverModel {
                space_type: SpaceType::ImRobot.as_str().to_owned(),
                robot_code: None,
            }),
            im_group_open_deliver_model: None,
            user_id_type: Some(1),
        }
    }

    /// A card in the group `open_conversation_id`, delivered by robot `robot_code` and visible
    /// to `recipients` only (everyone when empty), not forwardable.
    pub fn to_group(
        card_template_id: impl Into<String>,
        out_track_id: impl Into<String>,
        open_conversation_id: &str,
        robot_code: impl Into<String>,
        recipients: Vec<String>,
        callback_type: CallbackType,
        card_data: CardData,
    ) -> Self {
        Self {
            open_space_id: open_space_id(&[(SpaceType::ImGroup, open_conversation_id)]),
            im_robot_open_space_model: None,
            im_group_open_space_model: Some(OpenSpaceModel::default()),
            im_robot_open_deliver_model: None,
            im_group_open_deliver_model: Some(GroupDeliverModel {
                robot_code: robot_code.into(),
                recipients: (!recipients.is_empty()).then_some(recipients),
                at_user_ids: None,
            }),
            ..Self::to_user(card_template_id, out_track_id, "", callback_type, card_data)
        }
    }
}

/// A space a card can be delivered to (dingtalk.md §5.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceType {
    /// The robot's one-to-one chat with a user; the space id is the userId.
    ImRobot,
    /// A group chat; the space id is its `openConversationId`.
    ImGroup,
}

impl SpaceType {
    /// The upper-case name used in `openSpaceId` and deliver results.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ImRobot => "IM_ROBOT",
            Self::ImGroup => "IM_GROUP",
        }
    }
}

/// `dtv1.card//IM_ROBOT.mgr001;IM_GROUP.cid…`: the spaces joined with `;`.
pub fn open_space_id(spaces: &[(SpaceType, &str)]) -> String {
    let spaces: Vec<String> = spaces
        .iter()
        .map(|(space_type, id)| format!("{}.{id}", space_type.as_str()))
        .collect();
    format!("{OPEN_SPACE_PREFIX}{}", spaces.join(";"))
}

/// The answer of `createAndDeliver`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CardDelivered {
    /// The top-level flag; check every delivery too.
    pub success: bool,
    /// The instance and its deliveries.
    pub result: CardDeliveries,
}

impl CardDelivered {
    /// The deliveries that failed; a card can be created while some deliveries fail.
    pub fn failed(&self) -> Vec<&DeliverResult> {
        self.result
            .deliver_results
            .iter()
            .filter(|result| !result.success)
            .collect()
    }
}

/// `result` of `createAndDeliver`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CardDeliveries {
    /// The instance's `outTrackId`.
    pub out_track_id: String,
    /// One entry per space.
    pub deliver_results: Vec<DeliverResult>,
}

/// One space's delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeliverResult {
    /// `IM_ROBOT`, `IM_GROUP`, ….
    pub space_type: String,
    /// The userId or `openConversationId`.
    pub space_id: String,
    /// Whether this delivery succeeded.
    pub success: bool,
    /// Why it failed.
    pub error_msg: Option<String>,
    /// The `processQueryKey` for read-status queries.
    pub carrier_id: Option<String>,
}

/// Whether an update merges the given keys or replaces the whole map (dingtalk.md §5.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardUpdateOptions {
    /// `true` merges `cardData`; `false` (DingTalk's default) replaces it.
    pub update_card_data_by_key: bool,
    /// `true` merges `privateData`; `false` replaces it.
    pub update_private_data_by_key: bool,
}

/// The request of `PUT /v1.0/card/instances` (dingtalk.md §5.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCard {
    /// The instance to update.
    pub out_track_id: String,
    /// New public variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_data: Option<CardData>,
    /// New per-viewer variables, keyed by userId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_data: Option<BTreeMap<String, CardData>>,
    /// Merge or replace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_update_options: Option<CardUpdateOptions>,
    /// `1` userId, `2` unionId.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id_type: Option<u8>,
}

impl UpdateCard {
    /// Sets the given public variables and keeps the others: merging is explicit, because
    /// DingTalk's default replaces the whole map.
    pub fn merge(out_track_id: impl Into<String>, card_data: CardData) -> Self {
        Self {
            out_track_id: out_track_id.into(),
            card_data: Some(card_data),
            private_data: None,
            card_update_options: Some(CardUpdateOptions {
                update_card_data_by_key: true,
                update_private_data_by_key: true,
            }),
            user_id_type: Some(1),
        }
    }
}

/// The answer of a card update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct CardUpdated {
    /// The call's flag.
    pub success: bool,
    /// Whether the card was updated.
    pub result: bool,
}

impl DingtalkClient {
    /// Creates a card instance and delivers it (dingtalk.md §5.2.2). Check
    /// [`CardDelivered::failed`]: each space reports its own result.
    pub async fn create_and_deliver_card(
        &self,
        card: &CreateAndDeliverCard,
    ) -> Result<CardDelivered, ApiError> {
        self.call_api(Method::POST, CREATE_AND_DELIVER, card).await
    }

    /// Updates a delivered card's variables in place (dingtalk.md §5.2.4).
    pub async fn update_card(&self, update: &UpdateCard) -> Result<CardUpdated, ApiError> {
        self.call_api(Method::PUT, INSTANCES, update).await
    }
}
