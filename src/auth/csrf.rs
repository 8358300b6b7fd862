//! Every POST must carry the session's CSRF token: in the form field `csrf_token`, or (for
//! multipart uploads, whose body is not read here) in the query string. Checked once, here, for
//! every route, so that no handler can forget it.

use actix_session::SessionExt;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use subtle::ConstantTimeEq;

use crate::error::AppError;

pub const FIELD: &str = "csrf_token";
/// Form bodies larger than this are refused before parsing.
const MAX_FORM_BYTES: usize = 256 * 1024;

pub async fn require_token(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
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
    let expected = req.get_session().get::<String>("csrf").ok().flatten();
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
