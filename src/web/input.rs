//! What a request carries must be text. A path, a query string or a form body whose
//! percent-decoding is not UTF-8 is answered 400 before any handler sees it: the extractors
//! would decode it lossily, and U+FFFD would be stored in place of what was sent. A form body
//! over the size any form needs is answered 413. Also how the extractors' own refusals are
//! answered (a form, a query string or a path they cannot read), as pages rather than bare text.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::HttpRequest;

use crate::auth::csrf::{bytes_to_payload, read_body, MAX_FORM_BYTES};
use crate::error::AppError;

const NOT_TEXT: &str = "What was sent is not text Staffroom can read (it is not UTF-8). Go back, check what you entered, and type it again rather than pasting it.";
const UNREADABLE_FORM: &str = "Staffroom could not read the form as it was sent (a field may have been sent twice). Go back, reload the page and try again.";
const UNREADABLE_QUERY: &str =
    "Staffroom could not read the web address's search terms. Check the address and try again.";

pub async fn require_text(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !decodes_to_utf8(req.uri().path().as_bytes())
        || !decodes_to_utf8(req.query_string().as_bytes())
    {
        return Ok(req.error_response(AppError::BadRequest(NOT_TEXT)));
    }
    if is_form(&req) {
        let Some(body) = read_body(&mut req, MAX_FORM_BYTES).await? else {
            return Ok(req.error_response(AppError::TooLarge));
        };
        if !decodes_to_utf8(&body) {
            return Ok(req.error_response(AppError::BadRequest(NOT_TEXT)));
        }
        req.set_payload(bytes_to_payload(body));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Whether the bytes, once `%XX` escapes are decoded, are UTF-8. A `%` not followed by two
/// hex digits is taken as itself, as the form decoder takes it.
pub fn decodes_to_utf8(raw: &[u8]) -> bool {
    if !raw.contains(&b'%') {
        return std::str::from_utf8(raw).is_ok();
    }
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut decoded = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escape = (raw[i] == b'%')
            .then(|| Some(hex(*raw.get(i + 1)?)? << 4 | hex(*raw.get(i + 2)?)?))
            .flatten();
        match escape {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(raw[i]);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// A form the extractor cannot read (a field twice, a value that is not what the field takes).
pub fn unreadable_form(
    err: actix_web::error::UrlencodedError,
    _: &HttpRequest,
) -> actix_web::Error {
    match err {
        actix_web::error::UrlencodedError::Overflow { .. } => AppError::TooLarge.into(),
        _ => AppError::BadRequest(UNREADABLE_FORM).into(),
    }
}

pub fn unreadable_query(
    _: actix_web::error::QueryPayloadError,
    _: &HttpRequest,
) -> actix_web::Error {
    AppError::BadRequest(UNREADABLE_QUERY).into()
}

/// A path whose ids are not ids names nothing.
pub fn unreadable_path(_: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_its_encodings_pass_and_broken_utf8_does_not() {
        for fine in [
            &b"name=Zo%C3%AB&x=1"[..],
            b"a=%00b",
            b"100%",
            b"%zz%4",
            "Zoë".as_bytes(),
            b"",
        ] {
            assert!(decodes_to_utf8(fine), "{fine:?}");
        }
        for broken in [
            &b"name=%FF"[..],
            b"%C3",
            b"%C3&x=%A9",
            b"a=\xff\xfe",
            b"%ED%A0%80",
        ] {
            assert!(!decodes_to_utf8(broken), "{broken:?}");
        }
    }
}
