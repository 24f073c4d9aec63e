//! The HTTP client of the platform SDKs: reqwest over rustls with the ring provider and the
//! webpki root certificates, so the build needs neither aws-lc-rs nor the system's certificates.

use std::{sync::Arc, time::Duration};

/// A client whose requests and connections time out after `timeout`. The error says which part
/// of the setup failed.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    client_builder(timeout)?
        .build()
        .map_err(|err| format!("HTTP client: {err}"))
}

/// The builder behind [`http_client`], TLS and timeouts set, for a caller that needs one more
/// setting (e.g. a redirect policy) without setting up TLS again.
pub fn client_builder(timeout: Duration) -> Result<reqwest::ClientBuilder, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS: {err}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout))
}
