//! Every POST must carry its CSRF token in its body, never in a URL: the form field
//! `csrf_token`, or for a multipart upload the part of that name (read here, before the
//! handler sees the file; only for someone signed in, as no signed-out form uploads). Checked
//! once, here, for every route, so that no handler can forget it. The token is the session's
//! once someone is signed in (or half-way); a signed-out visitor's is kept in a signed cookie,
//! so that a form shown to someone signed out costs no session row.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage};
use rand::distributions::{Alphanumeric, DistString};
use subtle::ConstantTimeEq;

use crate::auth::session::{AnonymousToken, TypedSession};
use crate::error::AppError;
use crate::state::AppState;

pub const FIELD: &str = "csrf_token";
/// Form bodies larger than this are refused before parsing: the longest form (an invitation
/// to 200 addresses, a 5,000-character message) needs a small part of it.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// Multipart bodies larger than this are refused before parsing: the largest upload (the
/// roster import) takes 2 MB, and its form's other parts are small.
const MAX_MULTIPART_BYTES: usize = 3 * 1024 * 1024;

pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError(
            "application state missing",
        ));
    };
    let cookie_name = anonymous_cookie_name(state.settings.is_https());
    let carried = anonymous_token(&req, cookie_name, &state.cookie_key);
    let anonymous = carried.clone().unwrap_or_else(new_token);
    req.extensions_mut()
        .insert(AnonymousToken(anonymous.clone()));
    let response = if req.method() == Method::POST && !is_back_channel(req.path()) {
        check(req, next, carried.clone()).await?
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    if carried.is_some() {
        return Ok(response);
    }
    let mut response = response;
    let cookie = signed_cookie(cookie_name, anonymous, &state);
    response.response_mut().add_cookie(&cookie)?;
    Ok(response)
}

/// A provider's back-channel logout (its server posts, no browser): the logout token's
/// signature proves the sender instead.
fn is_back_channel(path: &str) -> bool {
    path.strip_prefix("/login/sso/")
        .and_then(|rest| rest.strip_suffix("/backchannel-logout"))
        .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn new_token() -> String {
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 43)
}

/// `__Host-` needs Secure, so only under https.
fn anonymous_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-staffroom_csrf"
    } else {
        "staffroom_csrf"
    }
}

/// The visitor's token, when their cookie carries one this server signed.
fn anonymous_token(req: &ServiceRequest, name: &str, key: &Key) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?);
    jar.signed(key).get(name).map(|c| c.value().to_string())
}

fn signed_cookie(name: &'static str, token: String, state: &AppState) -> Cookie<'static> {
    let mut jar = CookieJar::new();
    let mut cookie = Cookie::new(name, token);
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(state.settings.is_https());
    jar.signed_mut(&state.cookie_key).add(cookie);
    jar.get(name).cloned().expect("the cookie just added")
}

/// A POST goes on only with the token its sender was given.
async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    anonymous: Option<String>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let kind = content_type.to_ascii_lowercase();
    let session = TypedSession::from_request(req.request(), &mut Payload::None).into_inner()?;
    // The token to compare with is in the database that cannot be read: "unavailable", not
    // "forbidden".
    if let Err(unavailable) = session.require_store() {
        return Ok(req.error_response(unavailable));
    }
    let provided = if kind.starts_with("application/x-www-form-urlencoded") {
        let Some(body) = read_body(&mut req, MAX_FORM_BYTES).await? else {
            return Ok(req.error_response(AppError::TooLarge));
        };
        let token = token_in(&body);
        req.set_payload(bytes_to_payload(body));
        token
    } else if kind.starts_with("multipart/form-data") && session.has_person() {
        let Some(body) = read_body(&mut req, MAX_MULTIPART_BYTES).await? else {
            return Ok(req.error_response(AppError::TooLarge));
        };
        if !ends_with_closing_boundary(&content_type, &body) {
            return Ok(req.error_response(AppError::BadRequest(INCOMPLETE_UPLOAD)));
        }
        let token = part_in(req.headers(), body.clone()).await;
        req.set_payload(bytes_to_payload(body));
        token
    } else {
        None
    };
    let mut expected = session.stored_csrf_token();
    if expected.is_none() && !session.has_person() {
        expected = anonymous;
    }
    let valid = match (provided, expected) {
        (Some(p), Some(e)) => bool::from(p.as_bytes().ct_eq(e.as_bytes())),
        _ => false,
    };
    if !valid {
        // The route's pattern, not the path: paths can carry tokens (/invitations/{token}).
        let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
        tracing::info!(%route, "POST refused: missing or wrong CSRF token");
        return Ok(req.error_response(AppError::Csrf));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The whole body, or `None` once it passes `limit` bytes. The rest of a body too large is
/// still read (and dropped), up to a bound, so that the browser sending it gets the answer
/// instead of a connection reset mid-upload.
pub async fn read_body(
    req: &mut ServiceRequest,
    limit: usize,
) -> Result<Option<Bytes>, actix_web::Error> {
    use futures_util::StreamExt;
    const DRAINED: usize = 32 * 1024 * 1024;
    let mut payload = req.take_payload();
    let mut body = Vec::new();
    let mut seen = 0;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        seen += chunk.len();
        if seen > DRAINED {
            break;
        }
        if seen <= limit {
            body.extend_from_slice(&chunk);
        }
    }
    Ok((seen <= limit).then(|| Bytes::from(body)))
}

fn token_in(encoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

/// The first `csrf_token` part of a multipart body, wherever it comes among the parts.
async fn part_in(headers: &header::HeaderMap, body: Bytes) -> Option<String> {
    use futures_util::StreamExt;
    let stream = futures_util::stream::once(std::future::ready(Ok(body)));
    let mut parts = actix_multipart::Multipart::new(headers, stream);
    while let Some(part) = parts.next().await {
        let mut part = part.ok()?;
        if part.name() != Some(FIELD) {
            continue;
        }
        let mut value = Vec::new();
        while let Some(chunk) = part.next().await {
            value.extend_from_slice(&chunk.ok()?);
            if value.len() > 1024 {
                return None;
            }
        }
        return String::from_utf8(value).ok();
    }
    None
}

const INCOMPLETE_UPLOAD: &str =
    "The upload did not arrive complete. Go back, choose the file again and send it.";

/// Whether a multipart body ends as RFC 7578 says it must, with `--{boundary}--`. One that
/// does not would leave the multipart parser waiting for the rest of it for ever.
fn ends_with_closing_boundary(content_type: &str, body: &[u8]) -> bool {
    let Some(boundary) = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(name, _)| name.trim() == "boundary")
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|b| !b.is_empty())
    else {
        return false;
    };
    let end = body
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    body[..end].ends_with(format!("--{boundary}--").as_bytes())
}

/// A body already read, handed back for the next reader.
pub fn bytes_to_payload(buf: Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(buf);
    actix_web::dev::Payload::from(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_must_end_with_its_closing_boundary() {
        let ct = "multipart/form-data; boundary=\"Ab1\"";
        assert!(ends_with_closing_boundary(ct, b"--Ab1\r\nx\r\n--Ab1--\r\n"));
        assert!(!ends_with_closing_boundary(ct, b"--Ab1\r\nx\r\n"));
        assert!(!ends_with_closing_boundary(ct, b"--Ab1\r\nx\r\n--Ab1"));
        assert!(!ends_with_closing_boundary(
            "multipart/form-data",
            b"--Ab1--"
        ));
    }
}
