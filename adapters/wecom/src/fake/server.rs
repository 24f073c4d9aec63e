//! The HTTP side: one handler that logs every request, applies the scripted fault, checks the
//! access token and routes by path, answering WeCom's JSON (HTTP 200 with errcode/errmsg).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::FakeWecom;
use super::faults::{DATA_FORMAT_ERROR, Fault, errmsg};
use super::records::RecordedRequest;
use super::state::{Outcome, Rejection, State, TOKEN_LIFETIME, fields};

/// What the log shows instead of an access token.
pub(crate) const REDACTED: &str = "<redacted>";

/// The fake's state, shared by the handler and the test.
pub(crate) type Shared = Arc<Mutex<State>>;

/// Locks the state; a test that panicked while holding it must not hide other failures.
pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn router(shared: Shared) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// The endpoints the fake serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    GetToken,
    SendMessage,
    UpdateTemplateCard,
    GetExternalContact,
    MarkTag,
    GetCorpTagList,
    AddCorpTag,
    AddContactWay,
    GetGroupChat,
    SendWelcomeMsg,
    GetUser,
    OauthUser,
}

impl Route {
    fn of(method: &Method, path: &str) -> Option<Self> {
        let get = *method == Method::GET;
        let post = *method == Method::POST;
        Some(match path {
            "gettoken" if get => Self::GetToken,
            "message/send" if post => Self::SendMessage,
            "message/update_template_card" if post => Self::UpdateTemplateCard,
            "externalcontact/get" if get => Self::GetExternalContact,
            "externalcontact/mark_tag" if post => Self::MarkTag,
            "externalcontact/get_corp_tag_list" if post => Self::GetCorpTagList,
            "externalcontact/add_corp_tag" if post => Self::AddCorpTag,
            "externalcontact/add_contact_way" if post => Self::AddContactWay,
            "externalcontact/groupchat/get" if post => Self::GetGroupChat,
            "externalcontact/send_welcome_msg" if post => Self::SendWelcomeMsg,
            "user/get" if get => Self::GetUser,
            "auth/getuserinfo" if get => Self::OauthUser,
            _ => return None,
        })
    }
}

async fn handle(
    AxumState(shared): AxumState<Shared>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let Some(path) = uri.path().strip_prefix("/cgi-bin/").map(str::to_owned) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query: HashMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    // `None` for no body; `Some(None)` for a body that is not JSON.
    let parsed: Option<Option<Value>> =
        (!body.is_empty()).then(|| serde_json::from_slice(&body).ok());
    let (index, fault) = {
        let mut state = lock(&shared);
        state.log.push(RecordedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query
                .iter()
                .map(|(key, value)| {
                    let value = if key == "access_token" {
                        REDACTED
                    } else {
                        value
                    };
                    (key.clone(), value.to_owned())
                })
                .collect(),
            body: parsed.clone().flatten(),
            status: 0,
            errcode: None,
        });
        (state.log.len() - 1, state.take_fault(&path))
    };
    if let Some(Fault::Delay(delay)) = fault {
        tokio::time::sleep(delay).await;
    }
    let (status, errcode, response) = match fault {
        Some(Fault::HttpStatus(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                None,
                (status, "upstream unavailable").into_response(),
            )
        }
        Some(Fault::Errcode(errcode)) => answer(Err(errcode.into())),
        Some(Fault::Delay(_)) | None => match Route::of(&method, &path) {
            Some(route) => answer(lock(&shared).dispatch(route, &query, parsed)),
            None => (
                StatusCode::NOT_FOUND,
                None,
                StatusCode::NOT_FOUND.into_response(),
            ),
        },
    };
    let mut state = lock(&shared);
    state.log[index].status = status.as_u16();
    state.log[index].errcode = errcode;
    response
}

/// HTTP 200 with `errcode`, `errmsg` and the outcome's fields.
fn answer(outcome: Outcome) -> (StatusCode, Option<i64>, Response) {
    let (errcode, mut fields) = match outcome {
        Ok(fields) => (0, fields),
        Err(Rejection { errcode, fields }) => (errcode, fields),
    };
    fields.insert("errcode".into(), errcode.into());
    fields.insert("errmsg".into(), errmsg(errcode).into());
    (
        StatusCode::OK,
        Some(errcode),
        Json(Value::Object(fields)).into_response(),
    )
}

impl State {
    /// WeCom's order: the token before anything else, then the body, then the endpoint's rules.
    fn dispatch(
        &mut self,
        route: Route,
        query: &HashMap<String, String>,
        body: Option<Option<Value>>,
    ) -> Outcome {
        if route == Route::GetToken {
            return self.gettoken(query);
        }
        self.check_token(query)?;
        let body = match body {
            Some(None) => return Err(DATA_FORMAT_ERROR.into()),
            Some(Some(body)) => Some(body),
            None => None,
        };
        let body = body.as_ref();
        match route {
            Route::GetToken => unreachable!("answered above"),
            Route::SendMessage => self.send_message(body),
            Route::UpdateTemplateCard => self.update_template_card(body),
            Route::GetExternalContact => self.get_external_contact(query),
            Route::MarkTag => self.mark_tag(body),
            Route::GetCorpTagList => self.get_corp_tag_list(body),
            Route::AddCorpTag => self.add_corp_tag(body),
            Route::AddContactWay => self.add_contact_way(body),
            Route::GetGroupChat => self.get_group_chat(body),
            Route::SendWelcomeMsg => self.send_welcome_msg(body),
            Route::GetUser => self.get_user(query),
            Route::OauthUser => self.oauth_user(query),
        }
    }

    /// 40013 for another corp, 40001 for a wrong secret, else a fresh token (wecom.md §5.1).
    fn gettoken(&mut self, query: &HashMap<String, String>) -> Outcome {
        if query.get("corpid").map(String::as_str) != Some(FakeWecom::CORP_ID) {
            return Err(40013.into());
        }
        if query.get("corpsecret").map(String::as_str) != Some(FakeWecom::SECRET) {
            return Err(40001.into());
        }
        let token = self.issue_token();
        Ok(fields(
            json!({ "access_token": token, "expires_in": TOKEN_LIFETIME.as_secs() }),
        ))
    }
}
