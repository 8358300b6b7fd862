//! Every POST must carry its CSRF token: in the form field `csrf_token`, or (for multipart
//! uploads, whose body is not read here) in the query string. Checked once, here, for every
//! route, so that no handler can forget it. The token is the session's once someone is signed
//! in (or half-way); a signed-out visitor's is kept in a signed cookie, so that a form shown to
//! someone signed out costs no session row.

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
/// Form bodies larger than this are refused before parsing.
const MAX_FORM_BYTES: usize = 256 * 1024;

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
    let response = if req.method() == Method::POST {
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
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let provided = if is_form {
        let body = match read_body(&mut req).await {
            Ok(body) => body,
            Err(e) => return Ok(req.error_response(e)),
        };
        let token = token_in(&body);
        req.set_payload(bytes_to_payload(body));
        token
    } else {
        token_in(req.query_string().as_bytes())
    };
    let session = TypedSession::from_request(req.request(), &mut Payload::None).into_inner()?;
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

async fn read_body(req: &mut ServiceRequest) -> Result<Bytes, actix_web::Error> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(actix_web::error::ErrorPayloadTooLarge("form too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

fn token_in(encoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(encoded)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

fn bytes_to_payload(buf: Bytes) -> actix_web::dev::Payload {
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(buf);
    actix_web::dev::Payload::from(payload)
}
