//! The HTTP client the relying party talks to providers with: hyper-util's client over rustls
//! (ring, the webpki roots), no redirects followed (a discovery document or token endpoint
//! that redirects is refused, not followed somewhere else), short timeouts, small bodies.
//! Plain `http://` is allowed to loopback addresses only (a provider on this machine, as in the
//! tests); anywhere else it is TLS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// What went wrong talking to a provider, as text: never the request's body (it carries the
/// code and the client's credentials).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// Bodies from a provider larger than this are refused (a discovery document, a key set and a
/// token response are a few kilobytes).
const MAX_BODY_BYTES: usize = 512 * 1024;
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct HttpClient(Client<HttpsConnector<HttpConnector>, Full<Bytes>>);

impl HttpClient {
    pub fn new() -> anyhow::Result<Self> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self(Client::builder(TokioExecutor::new()).build(connector)))
    }
}

/// Whether `url` may be fetched: https anywhere, http only on this machine.
pub fn allowed(uri: &openidconnect::http::Uri) -> bool {
    match uri.scheme_str() {
        Some("https") => true,
        Some("http") => uri.host().is_some_and(is_loopback),
        _ => false,
    }
}

pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let uri = request.uri().clone();
            // Never the query: it may carry a code.
            let shown = format!(
                "{}://{}{}",
                uri.scheme_str().unwrap_or(""),
                uri.authority().map_or("", |a| a.as_str()),
                uri.path()
            );
            if !allowed(&uri) {
                return Err(HttpError(format!(
                    "{shown}: only https (or http on this machine) is used"
                )));
            }
            let (parts, body) = request.into_parts();
            let request = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
            let response = tokio::time::timeout(TIMEOUT, self.0.request(request))
                .await
                .map_err(|_| HttpError(format!("{shown}: no answer in time")))?
                .map_err(|e| HttpError(format!("{shown}: {}", chain(&e))))?;
            let (parts, body) = response.into_parts();
            let body = tokio::time::timeout(TIMEOUT, Limited::new(body, MAX_BODY_BYTES).collect())
                .await
                .map_err(|_| HttpError(format!("{shown}: the answer took too long")))?
                .map_err(|e| HttpError(format!("{shown}: {e}")))?
                .to_bytes();
            Ok(openidconnect::http::Response::from_parts(
                parts,
                body.to_vec(),
            ))
        })
    }
}

/// An error with its causes, for the audit trail and the log.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
