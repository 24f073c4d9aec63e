//! Request ids: taken from the caller's `x-request-id` or made here, echoed in the response and
//! recorded in the span of every log line the request causes.

use axum::http::{Request, header::HeaderValue};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

/// Makes 16 random hex digits: unique enough to find one request in the logs.
#[derive(Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", fastrand::u64(..));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The span of one request: method, path (without the query, which may carry signatures) and id.
pub fn span<B>(request: &Request<B>) -> Span {
    let id = request
        .headers()
        .get(super::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}
