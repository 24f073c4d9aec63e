//! `DingtalkClient` and its one call path for both hosts: rate limit, send with the token where
//! that host expects it, map the host's error shape, retry transient failures with backoff, and
//! refresh the token once when DingTalk rejects it (dingtalk.md §1.1, §6, §8).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url, header::CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::error::ApiError;
use super::rate_limit::{DEFAULT_BURST, DEFAULT_REQUESTS_PER_MINUTE, RateLimit, RateLimiter};
use super::token::{AccessToken, Fetched, REFRESH_MARGIN, TokenStore, Tokens, token_key};

/// The v1.0 API host (dingtalk.md §1.1).
pub const DEFAULT_API_BASE_URL: &str = "https://api.dingtalk.com";
/// The legacy API host (dingtalk.md §1.1).
pub const DEFAULT_OAPI_BASE_URL: &str = "https://oapi.dingtalk.com";
/// Per-request timeout, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries of a retryable failure after the first attempt; the docs advise at most 3 tries.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The first retry's delay; each further retry doubles it, with jitter.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// The least delay after a QPS limit: such bans last about a second (dingtalk.md §8.1).
pub const DEFAULT_RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(1);
/// Backoff never grows past this: longer waits belong in the caller's job queue.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Replaces the token or the secret should DingTalk ever echo one in an error message.
const REDACTED: &str = "<redacted>";
/// The v1.0 header that carries the access token.
const TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";
/// The token endpoint's path, also its name in errors.
pub(crate) const ACCESS_TOKEN_PATH: &str = "v1.0/oauth2/accessToken";

/// How to reach DingTalk as one app. `Debug` does not show the secret.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Scheme and host of the v1.0 API; default [`DEFAULT_API_BASE_URL`].
    pub api_base_url: String,
    /// Scheme and host of the legacy API; default [`DEFAULT_OAPI_BASE_URL`].
    pub oapi_base_url: String,
    /// The app's Client ID (AppKey); also the `robotCode` of its robot.
    pub app_key: String,
    /// The app's Client Secret (AppSecret).
    pub app_secret: SecretString,
    /// Per-request timeout; default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Retries of retryable failures; default [`DEFAULT_MAX_RETRIES`].
    pub max_retries: u32,
    /// Delay before the first retry, doubled for each further one; default
    /// [`DEFAULT_RETRY_BACKOFF`].
    pub retry_backoff: Duration,
    /// The least delay before retrying after a QPS limit; default
    /// [`DEFAULT_RATE_LIMITED_BACKOFF`].
    pub rate_limited_backoff: Duration,
    /// This client's request rate; default [`DEFAULT_REQUESTS_PER_MINUTE`] with bursts of [`DEFAULT_BURST`].
    pub rate_limit: RateLimit,
}

impl ClientConfig {
    /// The defaults for the app with this AppKey and AppSecret.
    pub fn new(app_key: impl Into<String>, app_secret: impl Into<String>) -> Self {
        Self {
            api_base_url: DEFAULT_API_BASE_URL.to_owned(),
            oapi_base_url: DEFAULT_OAPI_BASE_URL.to_owned(),
            app_key: app_key.into(),
            app_secret: SecretString::from(app_secret.into()),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            rate_limited_backoff: DEFAULT_RATE_LIMITED_BACKOFF,
            rate_limit: RateLimit::new(DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_BURST),
        }
    }
}

/// A client for one DingTalk app. Cheap to clone; clones share the rate limit and tokens.
#[derive(Clone)]
pub struct DingtalkClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base_url: String,
    oapi_base_url: String,
    app_key: String,
    app_secret: SecretString,
    max_retries: u32,
    retry_backoff: Duration,
    rate_limited_backoff: Duration,
    limiter: RateLimiter,
    tokens: Tokens,
}

impl std::fmt::Debug for DingtalkClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DingtalkClient")
            .field("api_base_url", &self.inner.api_base_url)
            .field("oapi_base_url", &self.inner.oapi_base_url)
            .field("app_key", &self.inner.app_key)
            .finish_non_exhaustive()
    }
}

/// Which error shape and token placement a request uses (dingtalk.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Host {
    /// v1.0: token in a header, errors as HTTP 4xx/5xx with `{code, message, requestid}`.
    Api,
    /// Legacy: token in the query, errors as HTTP 200 with `errcode`/`errmsg`.
    Oapi,
}

/// One request as the retry loop resends it. `url` never carries the app token; it is added
/// per attempt.
pub(crate) struct Call {
    pub(crate) api: &'static str,
    pub(crate) host: Host,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<Vec<u8>>,
}

/// The body of a v1.0 error answer.
#[derive(Deserialize)]
struct ApiErrorBody {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    requestid: Option<String>,
}

impl DingtalkClient {
    /// Builds the client with TLS through rustls (ring provider, webpki roots). Tokens are
    /// kept in `store` under [`DingtalkClient::token_key`].
    pub fn new(config: ClientConfig, store: Arc<dyn TokenStore>) -> Result<Self, ApiError> {
        let api_base_url = base_url(&config.api_base_url)?;
        let oapi_base_url = base_url(&config.oapi_base_url)?;
        let key = token_key(&config.app_key, config.app_secret.expose_secret());
        Ok(Self {
            inner: Arc::new(Inner {
                http: http_client(config.timeout)?,
                api_base_url,
                oapi_base_url,
                app_key: config.app_key,
                app_secret: config.app_secret,
                max_retries: config.max_retries,
                retry_backoff: config.retry_backoff,
                rate_limited_backoff: config.rate_limited_backoff,
                limiter: RateLimiter::new(config.rate_limit),
                tokens: Tokens::new(store, key, REFRESH_MARGIN),
            }),
        })
    }

    /// The key this app's token is stored under: AppKey and a fingerprint of the secret.
    pub fn token_key(&self) -> &str {
        self.inner.tokens.key()
    }

    /// The app's AppKey, which is also its robot's `robotCode` (dingtalk.md §1.2).
    pub fn app_key(&self) -> &str {
        &self.inner.app_key
    }

    /// Calls the v1.0 endpoint `{method} /{path}` (e.g. `"v1.0/card/instances"`) with `body` as
    /// JSON and the token header, e.g. for an endpoint this crate has no typed method for.
    pub async fn call_api<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &'static str,
        body: &B,
    ) -> Result<T, ApiError> {
        let call = self.call(Host::Api, method, path, body)?;
        self.authenticated(call).await
    }

    /// Calls the legacy endpoint `POST /{path}` (e.g. `"topapi/v2/user/get"`) with `body` as
    /// JSON and the token in the query.
    pub async fn call_oapi<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &'static str,
        body: &B,
    ) -> Result<T, ApiError> {
        let call = self.call(Host::Oapi, Method::POST, path, body)?;
        self.authenticated(call).await
    }

    /// A call to `path` on `host` with a JSON body.
    fn call<B: Serialize + ?Sized>(
        &self,
        host: Host,
        method: Method,
        path: &'static str,
        body: &B,
    ) -> Result<Call, ApiError> {
        let base = match host {
            Host::Api => &self.inner.api_base_url,
            Host::Oapi => &self.inner.oapi_base_url,
        };
        let url = Url::parse(&format!("{base}/{path}"))
            .map_err(|err| ApiError::Config(format!("{path} URL: {err}")))?;
        Ok(Call {
            api: path,
            host,
            method,
            url,
            body: Some(json_body(path, body)?),
        })
    }

    /// The authenticated path: a token from the store, and one refresh-and-retry if DingTalk
    /// rejects it. A second rejection is returned, so a wrong secret cannot loop.
    async fn authenticated<T: DeserializeOwned>(&self, call: Call) -> Result<T, ApiError> {
        let call = &call;
        let answer = self
            .inner
            .tokens
            .with_token(
                || async { self.fetch_token().await.map(Fetched::from) },
                |token| async move { self.send_with_retries(call, Some(&token)).await },
                |err: &ApiError| {
                    let rejected = err.is_token_error();
                    if rejected {
                        tracing::info!(api = call.api, errcode = ?err.errcode(), code = ?err.code(), "DingTalk rejected the access token; refreshing it once");
                    }
                    rejected
                },
            )
            .await?;
        decode(call.api, answer)
    }

    /// `POST /v1.0/oauth2/accessToken` (dingtalk.md §6), through the retry loop without a token.
    async fn fetch_token(&self) -> Result<AccessToken, ApiError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Credentials<'a> {
            app_key: &'a str,
            app_secret: &'a str,
        }
        let credentials = Credentials {
            app_key: &self.inner.app_key,
            app_secret: self.inner.app_secret.expose_secret(),
        };
        let call = self.call(Host::Api, Method::POST, ACCESS_TOKEN_PATH, &credentials)?;
        let answer = self.send_with_retries(&call, None).await?;
        decode(ACCESS_TOKEN_PATH, answer)
    }

    /// Sends `call` without the app token, e.g. to a custom robot's webhook URL.
    pub(crate) async fn send_unauthenticated(&self, call: &Call) -> Result<Value, ApiError> {
        self.send_with_retries(call, None).await
    }

    async fn send_with_retries(&self, call: &Call, token: Option<&str>) -> Result<Value, ApiError> {
        let mut retries = 0;
        loop {
            match self.send_once(call, token).await {
                Err(err) if err.retryable() && retries < self.inner.max_retries => {
                    let delay = self.backoff(retries, &err);
                    retries += 1;
                    tracing::warn!(api = call.api, retry = retries, ?delay, error = %err, "retrying a DingTalk call");
                    tokio::time::sleep(delay).await;
                }
                answer => return answer,
            }
        }
    }

    /// One HTTP exchange: wait for the rate limiter, send, and turn the host's error shape into
    /// an error.
    async fn send_once(&self, call: &Call, token: Option<&str>) -> Result<Value, ApiError> {
        let api = call.api;
        let mut url = call.url.clone();
        if let (Host::Oapi, Some(token)) = (call.host, token) {
            url.query_pairs_mut().append_pair("access_token", token);
        }
        let mut request = self.inner.http.request(call.method.clone(), url);
        if let (Host::Api, Some(token)) = (call.host, token) {
            request = request.header(TOKEN_HEADER, token);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        self.inner.limiter.acquire().await;
        let response = request
            .send()
            .await
            .map_err(|err| ApiError::from_transport(api, err))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| ApiError::from_transport(api, err))?;
        match call.host {
            Host::Api => self.api_answer(api, status, &bytes, token),
            Host::Oapi => self.oapi_answer(api, status, &bytes, token),
        }
    }

    /// A v1.0 answer: JSON on 2xx (an empty body reads as `{}`), `{code, message, requestid}`
    /// otherwise.
    fn api_answer(
        &self,
        api: &'static str,
        status: u16,
        bytes: &[u8],
        token: Option<&str>,
    ) -> Result<Value, ApiError> {
        if (200..300).contains(&status) {
            if bytes.is_empty() {
                return Ok(Value::Object(serde_json::Map::new()));
            }
            return serde_json::from_slice(bytes)
                .map_err(|source| ApiError::Decode { api, source });
        }
        match serde_json::from_slice::<ApiErrorBody>(bytes) {
            Ok(body) => Err(ApiError::Api {
                api,
                status,
                code: body.code,
                message: self.redact(&body.message, token),
                request_id: body.requestid,
            }),
            Err(_) => Err(ApiError::Status { api, status }),
        }
    }

    /// A legacy answer: HTTP 200 with `errcode` 0 (or absent); anything else is an error.
    fn oapi_answer(
        &self,
        api: &'static str,
        status: u16,
        bytes: &[u8],
        token: Option<&str>,
    ) -> Result<Value, ApiError> {
        if !(200..300).contains(&status) {
            return Err(ApiError::Status { api, status });
        }
        let answer: Value =
            serde_json::from_slice(bytes).map_err(|source| ApiError::Decode { api, source })?;
        let errcode = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if errcode == 0 {
            return Ok(answer);
        }
        let text = |key: &str| answer.get(key).and_then(Value::as_str).unwrap_or("");
        let sub_code = match answer.get("sub_code") {
            Some(Value::String(code)) => Some(code.clone()),
            Some(Value::Number(code)) => Some(code.to_string()),
            _ => None,
        };
        let errmsg = match text("sub_msg") {
            "" => text("errmsg").to_owned(),
            sub_msg => format!("{} ({sub_msg})", text("errmsg")),
        };
        Err(ApiError::Oapi {
            api,
            errcode,
            sub_code,
            errmsg: self.redact(&errmsg, token),
        })
    }

    /// Exponential from `retry_backoff`, capped, with jitter between half and all of it so
    /// instances that failed together do not retry together; at least `rate_limited_backoff`
    /// after a QPS limit.
    fn backoff(&self, retries: u32, err: &ApiError) -> Duration {
        let exponential = self
            .inner
            .retry_backoff
            .saturating_mul(1 << retries.min(16))
            .min(MAX_BACKOFF);
        let delay = exponential.mul_f64(0.5 + fastrand::f64() * 0.5);
        if err.is_rate_limited() {
            delay.max(self.inner.rate_limited_backoff)
        } else {
            delay
        }
    }

    fn redact(&self, message: &str, token: Option<&str>) -> String {
        let mut message = message.to_owned();
        let secret = self.inner.app_secret.expose_secret();
        for sensitive in [token.unwrap_or(""), secret] {
            if !sensitive.is_empty() {
                message = message.replace(sensitive, REDACTED);
            }
        }
        message
    }
}

/// `body` as JSON bytes.
pub(crate) fn json_body<B: Serialize + ?Sized>(
    api: &'static str,
    body: &B,
) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|err| ApiError::Config(format!("{api} body: {err}")))
}

pub(crate) fn decode<T: DeserializeOwned>(api: &'static str, answer: Value) -> Result<T, ApiError> {
    serde_json::from_value(answer).map_err(|source| ApiError::Decode { api, source })
}

fn base_url(url: &str) -> Result<String, ApiError> {
    let url = url.trim_end_matches('/').to_owned();
    Url::parse(&url).map_err(|err| ApiError::Config(format!("base URL {url:?}: {err}")))?;
    Ok(url)
}

/// The HTTP client shared with the other platform SDKs (rustls on ring, webpki roots).
fn http_client(timeout: Duration) -> Result<reqwest::Client, ApiError> {
    salesbot_apikit::tls::http_client(timeout).map_err(ApiError::Config)
}
