//! Logs: the subscriber (readable text, or one JSON object per line, on stderr) and the request
//! middleware: one span per request with its method, route pattern and request id, closed by one
//! line with the status and duration. Paths carry tokens (`/invitations/{token}`), so a request
//! is named by its route pattern, never its path, and never its query string.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// What an unmatched path's token-like segments become.
const REDACTED: &str = "{redacted}";
/// Unmatched paths are anyone's to choose: a scanner's long path is cut here.
const MAX_UNMATCHED_PATH: usize = 120;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`, and only warnings from actix-server's
/// start-up chatter).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: a log file or collector gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Text => builder.init(),
        // The event's fields at the top level, the request's (method, route, request id) under
        // "span": one self-contained object per line.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// The request span and its closing line; sets `x-request-id` on the response. Registered
/// outermost so that it sees every answer, the CSRF refusal and error pages included.
pub async fn log_request<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let request_id = format!("{:016x}", rand::random::<u64>());
    let route = req
        .match_pattern()
        .unwrap_or_else(|| redact_unmatched_path(req.path()));
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = %route,
        request_id = %request_id,
    );
    let result = next.call(req).instrument(span.clone()).await;
    let duration_ms = (started.elapsed().as_secs_f64() * 1e5).round() / 100.0;
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    span.in_scope(|| tracing::info!(status = status.as_u16(), duration_ms, "request"));
    let mut response = result?;
    // Sixteen hex digits are always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// A path no route matched, with every segment that could be a token replaced by `{redacted}`.
pub fn redact_unmatched_path(path: &str) -> String {
    let mut redacted = path
        .split('/')
        .map(|segment| {
            if looks_like_token(segment) {
                REDACTED
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    if let Some((cut, _)) = redacted.char_indices().nth(MAX_UNMATCHED_PATH) {
        redacted.truncate(cut);
        redacted.push('…');
    }
    redacted
}

/// True for a segment holding a long run of base64url, base64 or hex characters (percent escapes
/// included) that has a digit, a capital or an underscore in it, or any run of 24 or more. Words
/// in the app's own paths ("organisation-settings") are shorter or all lower case; a random
/// 43-character token is neither, except with a probability of about 1e-16.
fn looks_like_token(segment: &str) -> bool {
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || "-_+=~.%".contains(c);
    segment.split(|c: char| !is_token_char(c)).any(|run| {
        let mixed = run
            .chars()
            .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '_');
        run.len() >= 24 || (run.len() >= 16 && mixed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "q3Jk8vZ_x0Wm-5bTzL1sYh2NcE7uRgA9oPdKfVtIiMw";

    #[test]
    fn a_token_in_an_unmatched_path_is_redacted() {
        assert_eq!(
            redact_unmatched_path(&format!("/invitations/{TOKEN}/nope")),
            "/invitations/{redacted}/nope"
        );
        assert_eq!(
            redact_unmatched_path(&format!("/verify/{TOKEN}.")),
            "/verify/{redacted}"
        );
        // Percent escapes do not split a token into short pieces.
        assert_eq!(
            redact_unmatched_path("/join/abc%2Ddef%2Dghi%2Djkl"),
            "/join/{redacted}"
        );
        let hex_token = hex::encode([0xabu8; 32]);
        assert_eq!(
            redact_unmatched_path(&format!("/password/reset/{hex_token}")),
            "/password/reset/{redacted}"
        );
    }

    #[test]
    fn words_and_short_ids_are_kept() {
        for path in [
            "/",
            "/wp-login.php",
            "/organisation-settings/roles",
            "/workspaces/12/settings",
            "/static/css/app.css",
        ] {
            assert_eq!(redact_unmatched_path(path), path);
        }
    }

    #[test]
    fn a_long_unmatched_path_is_cut() {
        let path = "/a".repeat(200);
        let logged = redact_unmatched_path(&path);
        assert_eq!(logged.chars().count(), MAX_UNMATCHED_PATH + 1);
        assert!(logged.ends_with('…'));
    }
}
