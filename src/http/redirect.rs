//! `GET /l/{code}`: the tracked-link redirect, without a token. A known, enabled link is
//! answered 302 to its target at once, from memory; the click goes to a buffer and is written
//! later. Anything else gets a small HTML page and never a redirect, so no one can use
//! salesbot's domain to send people to a URL of their choosing.

use std::{
    borrow::Cow,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    extract::{ConnectInfo, Path, Query, Request, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};

use serde::Deserialize;

use crate::{
    app::AppState,
    domain::link::{AgentClass, Link, Who, classify},
    links::{Lookup, identity, scoring},
    pipeline::clock::now_ms,
};

/// Seconds a client is asked to wait before trying again while the database is down.
const RETRY_AFTER_SECS: &str = "5";

const NOT_FOUND_PAGE: &str = "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>链接不存在</title></head>\
<body><h1>链接不存在或已停用</h1><p>This link does not exist or has been disabled.</p></body></html>\n";

const UNAVAILABLE_PAGE: &str = "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>请稍后再试</title></head>\
<body><h1>请稍后再试</h1><p>This link cannot be opened right now. Please try again in a moment.</p>\
</body></html>\n";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/l/{code}", get(follow))
        .route(&format!("/l/{{code}}/{}", identity::LANDING), get(land))
}

/// Longest the landing waits for WeCom to name the visitor before redirecting anonymously.
const OAUTH_TIMEOUT: Duration = Duration::from_secs(2);

#[tracing::instrument(skip_all, fields(code = %code))]
async fn follow(
    State(state): State<AppState>,
    Path(code): Path<String>,
    request: Request,
) -> Response {
    let link = match found(&state, &code).await {
        Ok(link) => link,
        Err(page) => return page,
    };
    let visit = Visit::of(&state, &request);
    let oauth = state.wecom.get(&link.tenant).map(|app| identity::Oauth {
        corp_id: &app.corp_id,
        agent_id: app.agent_id,
        public_base_url: &state.config.server.public_base_url,
    });
    match identity::next_step(&link, visit.agent, oauth) {
        identity::NextStep::Target(target) => {
            visit.record(&state, link, Who::default()).await;
            redirect(target)
        }
        // The click is recorded when the visitor lands back, with who they are.
        identity::NextStep::Authorize(url) => redirect(url),
    }
}

/// `?code=…&state=…`, as WeCom's OAuth brings the visitor back.
#[derive(Deserialize)]
struct Landing {
    code: Option<String>,
}

/// `GET /l/{code}/id`: back from WeCom's OAuth. The code is exchanged for who clicked (at
/// most [`OAUTH_TIMEOUT`]); whatever happens, the click is recorded (anonymous if WeCom did
/// not say) and the visitor sent on to the target.
#[tracing::instrument(skip_all, fields(code = %code))]
async fn land(
    State(state): State<AppState>,
    Path(code): Path<String>,
    landing: Result<Query<Landing>, QueryRejection>,
    request: Request,
) -> Response {
    let link = match found(&state, &code).await {
        Ok(link) => link,
        Err(page) => return page,
    };
    let oauth_code = landing
        .ok()
        .and_then(|Query(l)| l.code)
        .filter(|c| !c.is_empty());
    let app = state.wecom.get(&link.tenant).filter(|_| link.identify);
    let who = match (app, oauth_code) {
        (Some(app), Some(oauth_code)) => {
            match tokio::time::timeout(OAUTH_TIMEOUT, app.client.oauth_user(&oauth_code)).await {
                Ok(Ok(named)) => Who {
                    member_userid: named.userid,
                    external_userid: named.external_userid,
                },
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "OAuth did not name the visitor");
                    Who::default()
                }
                Err(_) => {
                    tracing::warn!(timeout = ?OAUTH_TIMEOUT, "OAuth look-up timed out");
                    Who::default()
                }
            }
        }
        _ => Who::default(),
    };
    if let Some(customer) = &who.external_userid {
        scoring::spawn_credit(
            state.db.clone(),
            state.rules.clone(),
            state.webhooks.clone(),
            state.assigner.clone(),
            (link.tenant.clone(), customer.clone(), link.code.clone()),
            now_ms(),
        );
    }
    let target = link.target_url.clone();
    Visit::of(&state, &request).record(&state, link, who).await;
    redirect(target)
}

/// The enabled link `code`, or the page to answer instead.
async fn found(state: &AppState, code: &str) -> Result<Arc<Link>, Response> {
    match state.links.lookup(code).await {
        Lookup::Found(link) if link.enabled => Ok(link),
        Lookup::Found(_) | Lookup::Unknown => Err(page(StatusCode::NOT_FOUND, NOT_FOUND_PAGE)),
        Lookup::Unavailable => {
            let mut response = page(StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE_PAGE);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
            Err(response)
        }
    }
}

/// Who is clicking, as far as the request tells; the User-Agent borrowed from it, as this runs
/// on every redirect.
struct Visit<'r> {
    user_agent: Cow<'r, str>,
    address: String,
    agent: AgentClass,
}

impl<'r> Visit<'r> {
    fn of(state: &AppState, request: &'r Request) -> Self {
        let headers = request.headers();
        let user_agent = headers
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()))
            .unwrap_or_default();
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let address = client_address(peer, headers, state.links.trust_forwarded_for);
        let agent = classify(&user_agent);
        Self {
            user_agent,
            address,
            agent,
        }
    }

    async fn record(&self, state: &AppState, link: Arc<Link>, who: Who) {
        state
            .links
            .record(link, &self.address, &self.user_agent, self.agent, who)
            .await;
    }
}

fn redirect(location: String) -> Response {
    match HeaderValue::try_from(location) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                // Every click must reach us, not a cached redirect.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(e) => {
            // Targets are checked and normalized when created; this is a bad row.
            tracing::error!(error = %e, "stored link target is not a valid Location");
            page(StatusCode::NOT_FOUND, NOT_FOUND_PAGE)
        }
    }
}

/// The client's address: the connection's peer, or with `trust_forwarded_for` the first
/// `X-Forwarded-For` hop (the client as the first proxy saw it). IPv4 addresses that arrive as
/// IPv6-mapped are written as IPv4, so one client has one form.
fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok())
        .flatten()
        .and_then(|list| list.split(',').next())
        .map(str::trim)
        .filter(|hop| !hop.is_empty());
    match (forwarded, peer) {
        (Some(hop), _) => match hop.parse::<IpAddr>() {
            Ok(ip) => ip.to_canonical().to_string(),
            Err(_) => hop.to_owned(),
        },
        (None, Some(ip)) => ip.to_canonical().to_string(),
        (None, None) => String::new(),
    }
}

fn page(status: StatusCode, html: &'static str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn the_peer_is_the_client_unless_forwarded_for_is_trusted() {
        let peer = Some("::ffff:10.0.0.9".parse().unwrap());
        let h = headers(" 203.0.113.7 , 10.0.0.1");
        assert_eq!(client_address(peer, &h, false), "10.0.0.9");
        assert_eq!(client_address(peer, &h, true), "203.0.113.7");
        assert_eq!(client_address(peer, &HeaderMap::new(), true), "10.0.0.9");
        assert_eq!(client_address(peer, &headers(""), true), "10.0.0.9");
        assert_eq!(
            client_address(None, &headers("2001:db8::1"), true),
            "2001:db8::1"
        );
    }
}
