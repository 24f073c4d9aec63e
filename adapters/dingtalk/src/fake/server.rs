//! The HTTP side: one handler that logs every request, applies the scripted fault, checks the
//! token where the path's host expects it and routes by path, answering in that host's JSON.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State as AxumState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::faults::{Fault, errmsg};
use super::records::RecordedRequest;
use super::state::{State, TokenState, random_id};

/// What the log shows instead of a token or the secret.
pub(crate) const REDACTED: &str = "<redacted>";
/// The v1.0 token header.
const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

/// The fake's state, shared by the handler and the test.
pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state; a test that panicked while holding it must not hide other failures.
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn router(shared: Shared) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// An answer: status and JSON body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Value,
}

/// A handler's result; `Err` for rejections, so `?` reads naturally.
pub(crate) type Outcome = Result<Reply, Reply>;

impl Reply {
    /// HTTP 200 with `errcode` 0, `errmsg` "ok", a `request_id` and `fields`.
    pub(crate) fn oapi(fields: Value) -> Self {
        let mut body = json!({ "errcode": 0, "errmsg": "ok", "request_id": random_id(12) });
        if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
            body.extend(fields);
        }
        Self {
            status: StatusCode::OK,
            body,
        }
    }

    /// HTTP 200 with a non-zero `errcode`, as the legacy host reports errors.
    pub(crate) fn errcode(errcode: i64) -> Self {
        Self {
            status: StatusCode::OK,
            body: json!({ "errcode": errcode, "errmsg": errmsg(errcode), "request_id": random_id(12) }),
        }
    }

    /// An errcode 88 with the real cause in `sub_code`.
    fn sub_code(sub_code: &str, sub_msg: &str) -> Self {
        let mut reply = Self::errcode(88);
        reply.body["sub_code"] = sub_code.into();
        reply.body["sub_msg"] = sub_msg.into();
        reply
    }

    /// HTTP 200 with `body`, as the v1.0 host answers success.
    pub(crate) fn api(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
        }
    }

    /// A v1.0 error: `status` with `{code, message, requestid}`.
    pub(crate) fn code(status: u16, code: &str, message: &str) -> Self {
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            body: json!({ "code": code, "message": message, "requestid": random_id(16) }),
        }
    }
}

/// Which host's conventions a path follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    Api,
    Oapi,
}

impl Host {
    pub(crate) fn of(path: &str) -> Self {
        if path.starts_with("v1.0/") {
            Self::Api
        } else {
            Self::Oapi
        }
    }
}

/// The endpoints the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    AccessToken,
    CreateAndDeliverCard,
    UpdateCard,
    OtoMessages,
    GroupMessage,
    WorkNotification,
    GetUser,
    GetDepartment,
    Webhook,
}

impl Route {
    fn of(method: &Method, path: &str) -> Option<Self> {
        let post = *method == Method::POST;
        Some(match path {
            "v1.0/oauth2/accessToken" if post => Self::AccessToken,
            "v1.0/card/instances/createAndDeliver" if post => Self::CreateAndDeliverCard,
            "v1.0/card/instances" if *method == Method::PUT => Self::UpdateCard,
            "v1.0/robot/oToMessages/batchSend" if post => Self::OtoMessages,
            "v1.0/robot/groupMessages/send" if post => Self::GroupMessage,
            "topapi/message/corpconversation/asyncsend_v2" if post => Self::WorkNotification,
            "topapi/v2/user/get" if post => Self::GetUser,
            "topapi/v2/department/get" if post => Self::GetDepartment,
            "robot/send" if post => Self::Webhook,
            _ => return None,
        })
    }
}

async fn handle(
    AxumState(shared): AxumState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/').to_owned();
    let query: HashMap<String, String> = Query::try_from_uri(&uri)
        .map(|Query(query)| query)
        .unwrap_or_default();
    let header_token = headers
        .get(TOKEN_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let (index, fault) = {
        let mut state = lock(&shared);
        state.log.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: redacted_query(&query),
            with_token: header_token.is_some()
                || (path != "robot/send" && query.contains_key("access_token")),
            body: parsed.clone().map(redacted_body),
            status: 0,
            errcode: None,
            code: None,
        });
        (state.log.len() - 1, state.take_fault(&path))
    };
    if let Some(Fault::Delay(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let host = Host::of(&path);
    let reply = match fault {
        Some(Fault::HttpStatus(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            lock(&shared).log[index].status = status.as_u16();
            return (status, "<html><body>upstream unavailable</body></html>").into_response();
        }
        Some(fault @ (Fault::TokenExpired | Fault::QpsLimit | Fault::SystemBusy)) => {
            fault_reply(fault, host)
        }
        Some(Fault::Delay(_)) | None => match Route::of(&method, &path) {
            Some(route) => {
                let mut state = lock(&shared);
                let token = match host {
                    Host::Api => header_token.as_deref(),
                    Host::Oapi => query.get("access_token").map(String::as_str),
                };
                state
                    .dispatch(route, host, token, &query, parsed)
                    .unwrap_or_else(|rejection| rejection)
            }
            None => {
                lock(&shared).log[index].status = 404;
                return StatusCode::NOT_FOUND.into_response();
            }
        },
    };
    let mut state = lock(&shared);
    let entry = &mut state.log[index];
    entry.status = reply.status.as_u16();
    entry.errcode = reply.body.get("errcode").and_then(Value::as_i64);
    entry.code = reply
        .body
        .get("code")
        .and_then(Value::as_str)
        .map(str::to_owned);
    (reply.status, Json(reply.body)).into_response()
}

fn fault_reply(fault: Fault, host: Host) -> Reply {
    match (fault, host) {
        (Fault::TokenExpired, Host::Api) => {
            Reply::code(400, "InvalidAuthentication", "不合法的access_token")
        }
        (Fault::TokenExpired, Host::Oapi) => Reply::errcode(42001),
        (Fault::QpsLimit, Host::Api) => Reply::code(
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "调用该接口超过QPS限制",
        ),
        (Fault::QpsLimit, Host::Oapi) => Reply::errcode(90018),
        (Fault::SystemBusy, Host::Api) => Reply::code(500, "system.busy", "系统繁忙"),
        _ => Reply::errcode(-1),
    }
}

impl State {
    /// DingTalk's order: the token before anything else, then the endpoint's rules.
    fn dispatch(
        &mut self,
        route: Route,
        host: Host,
        token: Option<&str>,
        query: &HashMap<String, String>,
        body: Option<Value>,
    ) -> Outcome {
        match route {
            Route::AccessToken => return self.access_token(body.as_ref()),
            Route::Webhook => return self.webhook(query, body),
            _ => self.check_token(host, token)?,
        }
        let Some(Value::Object(body)) = body else {
            return Err(match host {
                Host::Api => Reply::code(400, "MissingParameter", "body is not a JSON object"),
                Host::Oapi => Reply::errcode(400002),
            });
        };
        match route {
            Route::AccessToken | Route::Webhook => unreachable!("answered above"),
            Route::CreateAndDeliverCard => self.create_and_deliver_card(&body),
            Route::UpdateCard => self.update_card(&body),
            Route::OtoMessages => self.oto_messages(&body),
            Route::GroupMessage => self.group_message(&body),
            Route::WorkNotification => self.work_notification(&body),
            Route::GetUser => self.get_user(&body),
            Route::GetDepartment => self.get_department(&body),
        }
    }

    /// The token checks of dingtalk.md §6: on api a missing header is `MissingParameter` and a
    /// bad or expired token `InvalidAuthentication`; on oapi a missing token is errcode 88 with
    /// sub_code 40000, an unknown one 88 with 40014, an expired one 42001.
    fn check_token(&self, host: Host, token: Option<&str>) -> Result<(), Reply> {
        let token = token.filter(|token| !token.is_empty());
        match (host, token.map(|token| self.token_state(token))) {
            (_, Some(TokenState::Live)) => Ok(()),
            (Host::Api, None) => Err(Reply::code(
                400,
                "MissingParameter",
                "x-acs-dingtalk-access-token is mandatory for this action.",
            )),
            (Host::Api, Some(_)) => Err(Reply::code(
                400,
                "InvalidAuthentication",
                "不合法的access_token",
            )),
            (Host::Oapi, None) => Err(Reply::sub_code("40000", "access_token is blank")),
            (Host::Oapi, Some(TokenState::Unknown)) => {
                Err(Reply::sub_code("40014", "不合法的access_token"))
            }
            (Host::Oapi, Some(_)) => Err(Reply::errcode(42001)),
        }
    }
}

/// The query with tokens and signatures replaced.
fn redacted_query(query: &HashMap<String, String>) -> BTreeMap<String, String> {
    query
        .iter()
        .map(|(key, value)| {
            let value = if key == "access_token" {
                REDACTED
            } else {
                value
            };
            (key.clone(), value.to_owned())
        })
        .collect()
}

/// The body with the app secret of a token request replaced.
fn redacted_body(mut body: Value) -> Value {
    if let Some(secret) = body.get_mut("appSecret") {
        *secret = REDACTED.into();
    }
    body
}
