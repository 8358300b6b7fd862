//! Logs: the subscriber (readable text, or one JSON object per line, on stderr) and the request
//! middleware: one span per request with its method, route pattern and request id, closed by one
//! line with the status and duration. Paths carry tokens (`/invitations/{token}`), so a request
//! is named by its route pattern, never its path, and never its query string.
//!
//! No personal data in a log line: the code logs ids and counts, never an address, a number, a
//! name or a secret, and every line is scrubbed on its way out (`redact_personal`) in case a
//! library's or a database's error quotes one (an SMTP refusal names its recipient).

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
        .with_writer(|| Scrubbed(std::io::stderr()))
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

/// Writes each formatted line with personal data scrubbed out (the subscriber hands over one
/// whole line per write).
struct Scrubbed<W>(W);

impl<W: std::io::Write> std::io::Write for Scrubbed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact_personal(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// `text` with email addresses, phone and NHS numbers (10 to 13 digits, spaced or not) and
/// token-like runs (32 or more base64url or hex characters: links' tokens, hashes) replaced by
/// `[email]`, `[number]` and `[token]`. Request ids (16 hex digits), route patterns, counts and
/// times are kept.
pub fn redact_personal(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if at_boundary(&chars, i) {
            if let Some((end, label)) = email_at(&chars, i)
                .map(|end| (end, "[email]"))
                .or_else(|| number_at(&chars, i).map(|end| (end, "[number]")))
                .or_else(|| token_at(&chars, i).map(|end| (end, "[token]")))
            {
                out.push_str(label);
                i = end;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether something may start at `i`: not inside a word. An escape's letter (`\n` in a JSON
/// line) is not a start, and what follows it is.
fn at_boundary(chars: &[char], i: usize) -> bool {
    let before = |n: usize| i.checked_sub(n).map(|j| chars[j]);
    match (before(2), before(1)) {
        (_, None) => true,
        (_, Some('\\')) => false,
        (Some('\\'), Some(c)) if c.is_ascii_alphabetic() => true,
        (_, Some(c)) => !is_word(c) && c != '.' && c != '+',
    }
}

/// An address starting at `i`: a local part, `@`, and a domain with a dot; where it ends.
fn email_at(chars: &[char], i: usize) -> Option<usize> {
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-'".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '-';
    let mut at = i;
    while at < chars.len() && local(chars[at]) {
        at += 1;
    }
    if at == i || chars.get(at) != Some(&'@') {
        return None;
    }
    let mut end = at + 1;
    while end < chars.len() && domain(chars[end]) {
        end += 1;
    }
    while end > at + 1 && chars[end - 1] == '.' {
        end -= 1;
    }
    chars[at + 1..end].contains(&'.').then_some(end)
}

/// A phone or NHS number starting at `i`: an optional `+`, then 10 to 13 digits in groups
/// separated by single spaces, not followed by a word character.
fn number_at(chars: &[char], i: usize) -> Option<usize> {
    let mut end = i + usize::from(chars[i] == '+');
    let (mut digits, mut last_digit_end) = (0, end);
    while end < chars.len() {
        let c = chars[end];
        if c.is_ascii_digit() {
            digits += 1;
            end += 1;
            last_digit_end = end;
        } else if c == ' ' && digits > 0 && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
            end += 1;
        } else {
            break;
        }
    }
    let bounded = chars.get(last_digit_end).is_none_or(|c| !is_word(*c));
    ((10..=13).contains(&digits) && bounded).then_some(last_digit_end)
}

/// A run of 32 or more base64url characters with a digit, capital, `_` or `-` in it (a link's
/// token, a hash), that is not a UUID.
fn token_at(chars: &[char], i: usize) -> Option<usize> {
    let mut end = i;
    while end < chars.len() && is_word(chars[end]) {
        end += 1;
    }
    let run: String = chars[i..end].iter().collect();
    let mixed = run
        .chars()
        .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '_' || c == '-');
    (run.len() >= 32 && mixed && uuid::Uuid::parse_str(&run).is_err()).then_some(end)
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
    fn personal_data_is_scrubbed_from_a_log_line() {
        let line = format!(
            "mail delivery failed error=\"550 <Amy.Okonkwo@nhs.net> unknown, also dave_p@nhs.uk\" to=07700 900123 \
             nhs=943 476 5919 intl=+447700900123 token={TOKEN} request_id=0123456789abcdef \
             duration_ms=12.5 at=2026-11-22T10:11:12.123Z id=3fa85f64-5717-4562-b3fc-2c963f66afa6"
        );
        let scrubbed = redact_personal(&line);
        for gone in [
            "Amy.Okonkwo",
            "nhs.net",
            "dave_p",
            "nhs.uk",
            "07700",
            "900123",
            "5919",
            "447700",
            TOKEN,
        ] {
            assert!(!scrubbed.contains(gone), "{gone} in {scrubbed}");
        }
        for kept in [
            "550 <[email]> unknown",
            "to=[number]",
            "nhs=[number]",
            "intl=[number]",
            "token=[token]",
            "request_id=0123456789abcdef",
            "duration_ms=12.5",
            "at=2026-11-22T10:11:12.123Z",
            "id=3fa85f64-5717-4562-b3fc-2c963f66afa6",
        ] {
            assert!(scrubbed.contains(kept), "no {kept} in {scrubbed}");
        }
    }

    #[test]
    fn a_scrubbed_json_line_stays_json() {
        let line = r#"{"message":"failed","error":"line one\namy@nhs.net\n07700900123"}"#;
        let scrubbed = redact_personal(line);
        let parsed: serde_json::Value = serde_json::from_str(&scrubbed).unwrap();
        assert_eq!(parsed["error"], "line one\n[email]\n[number]");
    }

    #[test]
    fn a_long_unmatched_path_is_cut() {
        let path = "/a".repeat(200);
        let logged = redact_unmatched_path(&path);
        assert_eq!(logged.chars().count(), MAX_UNMATCHED_PATH + 1);
        assert!(logged.ends_with('…'));
    }
}
