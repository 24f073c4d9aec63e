//! `WecomClient` and its one call path: rate limit, send, check `errcode`, retry transient
//! failures with backoff, and refresh the token once when WeCom rejects it (wecom.md §6.3).

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, Url, header::CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use super::error::{ApiError, GETTOKEN};
use super::rate_limit::{DEFAULT_BURST, DEFAULT_REQUESTS_PER_MINUTE, RateLimit, RateLimiter};
use super::token::{AccessToken, Fetched, REFRESH_MARGIN, TokenStore, Tokens, token_key};

/// WeCom's API host (wecom.md §5).
pub const DEFAULT_BASE_URL: &str = "https://qyapi.weixin.qq.com";
/// Per-request timeout, connecting included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Retries of a retryable failure after the first attempt; the docs advise at most 3.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// The first retry's delay; each further retry doubles it, with jitter.
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_millis(200);
/// Backoff never grows past this: longer waits belong in the caller's job queue.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Replaces the token or the secret should WeCom ever echo one in an `errmsg`.
const REDACTED: &str = "<redacted>";

/// How to reach WeCom as one app. `Debug` does not show the secret.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Scheme and host, without `/cgi-bin`; default [`DEFAULT_BASE_URL`].
    pub base_url: String,
    /// The corp id (`ww…`).
    pub corp_id: String,
    /// The app's secret.
    pub secret: SecretString,
    /// Per-request timeout; default [`DEFAULT_TIMEOUT`].
    pub timeout: Duration,
    /// Retries of retryable failures; default [`DEFAULT_MAX_RETRIES`].
    pub max_retries: u32,
    /// Delay before the first retry, doubled for each further one; default
    /// [`DEFAULT_RETRY_BACKOFF`].
    pub retry_backoff: Duration,
    /// This client's request rate; default [`DEFAULT_REQUESTS_PER_MINUTE`] with bursts of [`DEFAULT_BURST`].
    pub rate_limit: RateLimit,
}

impl ClientConfig {
    /// The defaults for the app with this corp id and secret.
    pub fn new(corp_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            corp_id: corp_id.into(),
            secret: SecretString::from(secret.into()),
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            rate_limit: RateLimit::new(DEFAULT_REQUESTS_PER_MINUTE, DEFAULT_BURST),
        }
    }
}

/// A client for one WeCom app. Cheap to clone; clones share the rate limit and tokens.
#[derive(Clone)]
pub struct WecomClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    corp_id: String,
    secret: SecretString,
    max_retries: u32,
    retry_backoff: Duration,
    limiter: RateLimiter,
    tokens: Tokens,
}

impl std::fmt::Debug for WecomClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WecomClient")
            .field("base_url", &self.inner.base_url)
            .field("corp_id", &self.inner.corp_id)
            .finish_non_exhaustive()
    }
}

/// One request as the retry loop resends it.
struct Call<'a> {
    api: &'static str,
    method: Method,
    query: &'a [(&'a str, &'a str)],
    body: Option<Vec<u8>>,
}

impl WecomClient {
    /// Builds the client with TLS through rustls (ring provider, webpki roots). Tokens are
    /// kept in `store` under [`WecomClient::token_key`].
    pub fn new(config: ClientConfig, store: Arc<dyn TokenStore>) -> Result<Self, ApiError> {
        let base_url = config.base_url.trim_end_matches('/').to_owned();
        Url::parse(&base_url)
            .map_err(|err| ApiError::Config(format!("base_url {base_url:?}: {err}")))?;
        let key = token_key(&config.corp_id, config.secret.expose_secret());
        Ok(Self {
            inner: Arc::new(Inner {
                http: http_client(config.timeout)?,
                base_url,
                corp_id: config.corp_id,
                secret: config.secret,
                max_retries: config.max_retries,
                retry_backoff: config.retry_backoff,
                limiter: RateLimiter::new(config.rate_limit),
                tokens: Tokens::new(store, key, REFRESH_MARGIN),
            }),
        })
    }

    /// The key this app's token is stored under: corp id and a fingerprint of the secret.
    pub fn token_key(&self) -> &str {
        self.inner.tokens.key()
    }

    /// Calls `GET /cgi-bin/{api}` with `query` and the access token, e.g. for an endpoint this
    /// crate has no typed method for.
    pub async fn get<T: DeserializeOwned>(
        &self,
        api: &'static str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        self.call(Call {
            api,
            method: Method::GET,
            query,
            body: None,
        })
        .await
    }

    /// Calls `POST /cgi-bin/{api}` with `body` as JSON and the access token.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        api: &'static str,
        body: &B,
    ) -> Result<T, ApiError> {
        let body = serde_json::to_vec(body)
            .map_err(|err| ApiError::Config(format!("{api} body: {err}")))?;
        self.call(Call {
            api,
            method: Method::POST,
            query: &[],
            body: Some(body),
        })
        .await
    }

    /// The authenticated path: a token from the store, and one refresh-and-retry if WeCom
    /// rejects it. A second rejection is returned, so a wrong secret cannot loop.
    async fn call<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
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
                        tracing::info!(api = call.api, errcode = ?err.errcode(), "WeCom rejected the access token; refreshing it once");
                    }
                    rejected
                },
            )
            .await?;
        decode(call.api, answer)
    }

    /// `GET /cgi-bin/gettoken` (wecom.md §5.1), through the same retry loop but without a token.
    async fn fetch_token(&self) -> Result<AccessToken, ApiError> {
        let query = [
            ("corpid", self.inner.corp_id.as_str()),
            ("corpsecret", self.inner.secret.expose_secret()),
        ];
        let call = Call {
            api: GETTOKEN,
            method: Method::GET,
            query: &query,
            body: None,
        };
        let answer = self.send_with_retries(&call, None).await?;
        decode(GETTOKEN, answer)
    }

    async fn send_with_retries(
        &self,
        call: &Call<'_>,
        token: Option<&str>,
    ) -> Result<Value, ApiError> {
        let mut retries = 0;
        loop {
            match self.send_once(call, token).await {
                // 45009 blocks the API for the rest of the window (wecom.md §6.3): calling again
                // within it only extends the block, so the caller's queue waits it out instead.
                Err(err) if err.retry_after().is_some() => return Err(err),
                Err(err) if err.retryable() && retries < self.inner.max_retries => {
                    let delay = self.backoff(retries);
                    retries += 1;
                    tracing::warn!(api = call.api, retry = retries, ?delay, error = %err, "retrying a WeCom call");
                    tokio::time::sleep(delay).await;
                }
                answer => return answer,
            }
        }
    }

    /// One HTTP exchange: wait for the rate limiter, send, and turn anything but HTTP 200 with
    /// `errcode` 0 (or absent) into an error.
    async fn send_once(&self, call: &Call<'_>, token: Option<&str>) -> Result<Value, ApiError> {
        let api = call.api;
        let mut url = Url::parse(&format!("{}/cgi-bin/{api}", self.inner.base_url))
            .map_err(|err| ApiError::Config(format!("{api} URL: {err}")))?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.extend_pairs(call.query);
            if let Some(token) = token {
                pairs.append_pair("access_token", token);
            }
        }
        let mut request = self.inner.http.request(call.method.clone(), url);
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
        let status = response.status();
        if !status.is_success() {
            return Err(ApiError::Status {
                api,
                status: status.as_u16(),
            });
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|err| ApiError::from_transport(api, err))?;
        let answer: Value =
            serde_json::from_slice(&bytes).map_err(|source| ApiError::Decode { api, source })?;
        let errcode = answer.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if errcode != 0 {
            let errmsg = answer.get("errmsg").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::Wecom {
                api,
                errcode,
                errmsg: self.redact(errmsg, token),
            });
        }
        Ok(answer)
    }

    /// Exponential from `retry_backoff`, capped, with jitter between half and all of it so
    /// instances that failed together do not retry together.
    fn backoff(&self, retries: u32) -> Duration {
        let exponential = self
            .inner
            .retry_backoff
            .saturating_mul(1 << retries.min(16))
            .min(MAX_BACKOFF);
        exponential.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    fn redact(&self, errmsg: &str, token: Option<&str>) -> String {
        let mut errmsg = errmsg.to_owned();
        let secret = self.inner.secret.expose_secret();
        for sensitive in [token.unwrap_or(""), secret] {
            if !sensitive.is_empty() {
                errmsg = errmsg.replace(sensitive, REDACTED);
            }
        }
        errmsg
    }
}

fn decode<T: DeserializeOwned>(api: &'static str, answer: Value) -> Result<T, ApiError> {
    serde_json::from_value(answer).map_err(|source| ApiError::Decode { api, source })
}

/// The HTTP client shared with the other platform SDKs (rustls on ring, webpki roots).
fn http_client(timeout: Duration) -> Result<reqwest::Client, ApiError> {
    salesbot_apikit::tls::http_client(timeout).map_err(ApiError::Config)
}
