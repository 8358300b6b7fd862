//! How an `AppError` is answered: sign-in redirects, and error pages rendered from
//! templates/errors/ (the cause is logged, never shown). For someone signed in, `in_frame`
//! shows the same page inside their header and switcher, so a refused form or a wrong address
//! does not look like being signed out.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;
use crate::web::context::Signed;
use crate::web::layout::Layout;

/// What an error page said, kept on its response for `in_frame`.
#[derive(Clone)]
struct Shown {
    heading: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: Layout,
    heading: String,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self {
            AppError::SignInRequired { next } => {
                let location = match next {
                    Some(next) => format!(
                        "/login?{}",
                        serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
                    ),
                    None => "/login".to_string(),
                };
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish();
            }
            AppError::NotFound => (
                "Page not found",
                "If you typed the web address, check it is correct. If you pasted it, check you copied all of it.".into(),
            ),
            AppError::Csrf => (
                "This form has expired",
                "For your security the form could not be sent. Go back, reload the page and try again.".into(),
            ),
            AppError::BadRequest(why) => ("Check what you entered", (*why).to_string()),
            AppError::TooLarge => (
                "What you sent is too large",
                "Forms here take up to 256 KB, and uploaded files up to 2 MB. Go back and send less at a time.".into(),
            ),
            AppError::Conflict(cause) => {
                tracing::info!(error = %cause, "a change lost a race with another");
                (
                    "Someone else changed this at the same moment",
                    "Go back, reload the page to see the change, and try again.".to_string(),
                )
            }
            AppError::Busy => {
                tracing::warn!("too many sign-ins at once: one was asked to try again");
                let page = ErrorPage {
                    layout: Layout::bare(),
                    heading: "Sorry, Staffroom is too busy".into(),
                    message: "Too many people are signing in at this moment. Try again in a moment.".into(),
                };
                let body = page.render().unwrap_or_default();
                return HttpResponse::ServiceUnavailable()
                    .insert_header((
                        header::RETRY_AFTER,
                        crate::auth::hash_gate::RETRY_AFTER.as_secs().to_string(),
                    ))
                    .content_type("text/html; charset=utf-8")
                    .body(body);
            }
            AppError::Unavailable(cause) => {
                tracing::error!(error = ?cause, "database unavailable");
                (
                    "Sorry, the service is unavailable",
                    "Staffroom cannot reach its database just now. Try again in a few minutes.".into(),
                )
            }
            AppError::Unexpected(cause) => {
                tracing::error!(error = ?cause, "unexpected error");
                (
                    "Sorry, there is a problem with the service",
                    "Try again later. Nothing you entered has been saved half-way.".into(),
                )
            }
        };
        let mut response = error_page(self.status_code(), Layout::bare(), heading, &message);
        // The database answered, so a signed-in frame can be read for it: `in_frame` does.
        if !matches!(self, AppError::Unavailable(_) | AppError::Unexpected(_)) {
            response.extensions_mut().insert(Shown { heading, message });
        }
        response
    }
}

fn error_page(status: StatusCode, layout: Layout, heading: &str, message: &str) -> HttpResponse {
    let page = ErrorPage {
        layout,
        heading: heading.to_string(),
        message: message.to_string(),
    };
    let body = page
        .render()
        .unwrap_or_else(|_| format!("<h1>{heading}</h1><p>{message}</p>"));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Middleware inside the session's: an error page for a signed-in person is shown again in
/// their own frame (header, switcher, sections), with the same status and words.
pub async fn in_frame(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(shown) = res.response().extensions().get::<Shown>().cloned() else {
        return Ok(res);
    };
    let request = res.request().clone();
    let Ok(signed) = Signed::from_request(&request, &mut Payload::None).await else {
        return Ok(res);
    };
    let status = res.status();
    let Ok(page) = signed.page(|_, _| Ok(())).await else {
        return Ok(res);
    };
    let response = error_page(status, page.layout, shown.heading, &shown.message);
    Ok(ServiceResponse::new(request, response).map_into_boxed_body())
}
